#!/usr/bin/env python3
"""Export every lookup table of the numeric contract as hex for $readmemh.

The contents come from golden/ (the same code the golden model uses), so RTL and model cannot drift;
tests/test_sigmoid_table.py and tests/test_softmax_tables.py check that the committed files equal a fresh export.

    sigmoid.hex     256 x 32 bits  {D[i], T[i]}             (golden/sigmoid.py)
    exp_int.hex      16 x 17 bits  EXP_INT[n]               (golden/softmax.py)
    exp_frac.hex   2^Fa x 17 bits  EXP_FRAC[f]              (golden/softmax.py)
    ln_mant.hex     256 x 16 bits  LN_MANT[i]               (golden/softmax.py)

and the core's instruction set (descriptor fields, codes, register map) as Verilog localparams:
    rtl/cnn_core_defs.vh                                    (golden/isa.py; tests/test_isa.py)
    docs/isa.md           the same as tables for readers
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golden import isa, sigmoid, softmax  # noqa: E402
from golden.spec import Formats  # noqa: E402


def tables(act_frac: int):
    return {
        "sigmoid.hex": (sigmoid.rom_words(), 32),
        "exp_int.hex": (softmax.exp_int_table(), 17),
        "exp_frac.hex": (softmax.exp_frac_table(act_frac), 17),
        "ln_mant.hex": (softmax.ln_mant_table(), 16),
    }


def render(values, width: int) -> str:
    digits = (width + 3) // 4
    return "".join(f"{int(v):0{digits}x}\n" for v in values)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="rtl/tables", help="output directory")
    ap.add_argument("--act-frac", type=int, default=Formats().act.frac,
                    help="fractional bits of the activation format (sets the exp_frac table size)")
    ap.add_argument("--defs", default=str(Path(__file__).resolve().parents[1] / "rtl" / "cnn_core_defs.vh"),
                    help="where to write the instruction-set localparams ('' : not)")
    a = ap.parse_args(argv)
    if a.defs:
        Path(a.defs).write_text(isa.verilog_defs())
        md = Path(a.defs).resolve().parents[1] / "docs" / "isa.md"
        md.write_text(isa.markdown())
        print(f"wrote {a.defs} and {md}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (vals, width) in tables(a.act_frac).items():
        (out / name).write_text(render(vals, width))
        print(f"wrote {out / name}: {len(vals)} x {width} bits")


if __name__ == "__main__":
    main()

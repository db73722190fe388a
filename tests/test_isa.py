"""The one table of the core's instruction set (golden/isa.py) and what is generated from it.

- rtl/cnn_core_defs.vh equals a fresh isa.verilog_defs() (fails when the committed file is stale: run
  `make tables`); a changed table (the mutant) makes the same check fail;
- the generated localparams mean what the table says: Icarus elaborates the header and prints every
  value, compared with golden/isa.py;
- pack / unpack round trip on random fields, and a value too wide for its field raises;
- golden/compiler.py's descriptor words are isa.pack of the layer fields, and desc_check reads them back.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from golden import compiler, desc_check, isa
from golden.spec import NETS, get_net

ROOT = Path(__file__).resolve().parents[1]
VH = ROOT / "rtl" / "cnn_core_defs.vh"
SEED = int(os.environ.get("COCOTB_RANDOM_SEED", os.environ.get("TEST_SEED", "9090")))


def _stale(text: str) -> list:
    """Line numbers where `text` differs from the committed header (empty: fresh)."""
    have = VH.read_text().splitlines()
    want = text.splitlines()
    diff = [i + 1 for i, (a, b) in enumerate(zip(have, want)) if a != b]
    if len(have) != len(want):
        diff.append(min(len(have), len(want)) + 1)
    return diff


def test_defs_header_fresh():
    d = _stale(isa.verilog_defs())
    assert not d, f"{VH} is stale (lines {d[:5]}): run `make tables`"


def test_isa_doc_fresh():
    md = ROOT / "docs" / "isa.md"
    assert md.read_text() == isa.markdown(), f"{md} is stale: run `make tables`"


def test_defs_staleness_check_catches_a_changed_table(monkeypatch):
    """Mutant: one op code changed in the table; the freshness check must report the header stale."""
    monkeypatch.setitem(isa.OPS, "maxpool", 6)
    d = _stale(isa.verilog_defs())
    assert d, "a changed op code left the generated header equal: the freshness test checks nothing"
    monkeypatch.setitem(isa.OPS, "maxpool", 5)
    monkeypatch.setitem(isa.DESC_FIELDS, "k", isa.Field(0, 4, 5, "mutant width"))
    assert _stale(isa.verilog_defs()), "a changed field width left the header equal"


def _expected_params() -> dict:
    e = {"DESC_WORDS": isa.DESC_WORDS}
    for name, f in isa.DESC_FIELDS.items():
        n = name.upper()
        e[f"DF_{n}_WORD"], e[f"DF_{n}_LSB"], e[f"DF_{n}_W"] = f.word, f.lsb, f.width
    e.update({f"OP_{isa.OP_VNAMES[k]}": v for k, v in isa.OPS.items()})
    e.update({f"HEAD_{k.upper()}": v for k, v in isa.HEADS.items()})
    e.update({f"ERR_{n}": c for c, (n, _) in isa.ERRORS.items()})
    e.update({f"U_{n}": c for c, (n, _) in isa.PHASES.items()})
    e.update({f"REG_{n}": a for n, a in isa.REGS.items()})
    e.update({"REG_DESC_BASE": isa.DESC_BASE, "REG_WMEM_BASE": isa.WMEM_BASE,
              "WA_DESC_BASE": isa.DESC_BASE >> 2, "WA_WMEM_BASE": isa.WMEM_BASE >> 2})
    e.update({f"RI_{n}": a >> 2 for n, a in isa.REGS.items()})
    e["RI_VALID"] = sum(1 << (a >> 2) for a in isa.REGS.values())
    e["RI_RO"] = sum(1 << (isa.REGS[n] >> 2) for n in isa.REGS_RO)
    e.update({f"CTRL_{n}": b for n, b in isa.CTRL_BITS.items()})
    e.update({f"ST_{n}": b for n, b in isa.STATUS_BITS.items()})
    e.update({"ST_CODE_LSB": isa.STATUS_CODE_LSB, "ST_CODE_W": isa.STATUS_CODE_W})
    return e


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus not installed")
def test_defs_header_values_in_verilog(tmp_path):
    """Every localparam of the header, as Icarus elaborates it, equals the table."""
    names = re.findall(r"\b([A-Z][A-Z0-9_]*)\s*=", "\n".join(
        ln.split("//")[0] for ln in VH.read_text().splitlines() if ln.startswith("localparam")))
    exp = _expected_params()
    assert set(names) == set(exp), f"header names differ from the table: {set(names) ^ set(exp)}"
    top = tmp_path / "defs_top.v"
    top.write_text("module defs_top;\n`include \"cnn_core_defs.vh\"\ninitial begin\n"
                   + "".join(f'  $display("{n} %0d", {n});\n' for n in names) + "end\nendmodule\n")
    vvp = tmp_path / "defs.vvp"
    subprocess.run(["iverilog", "-g2005", "-I", str(VH.parent), "-o", str(vvp), str(top)], check=True)
    out = subprocess.run(["vvp", "-n", str(vvp)], check=True, capture_output=True, text=True).stdout
    got = {n: int(v) for n, v in (ln.split() for ln in out.splitlines() if ln.strip())}
    bad = {n: (got.get(n), exp[n]) for n in exp if got.get(n) != exp[n]}
    assert not bad, f"header value != table (got, expected): {bad}"


def test_fields_do_not_overlap():
    used = {}
    for name, f in isa.DESC_FIELDS.items():
        assert 0 <= f.word < isa.DESC_WORDS and f.lsb + f.width <= 32, name
        for b in range(f.lsb, f.lsb + f.width):
            assert (f.word, b) not in used, f"{name} overlaps {used[(f.word, b)]} at word {f.word} bit {b}"
            used[(f.word, b)] = name


def test_pack_unpack_round_trip():
    r = random.Random(SEED)
    print(f"seed {SEED}")
    for _ in range(2000):
        v = {n: r.randrange(1 << f.width) for n, f in isa.DESC_FIELDS.items()}
        words = isa.pack(v)
        assert len(words) == isa.DESC_WORDS and all(0 <= w < 1 << 32 for w in words)
        assert isa.unpack(words) == v
        assert desc_check.fields(*words) == desc_check.fields(*isa.pack(isa.unpack(words)))


def test_pack_rejects_bad_fields():
    with pytest.raises(ValueError, match=r"field k = 16 does not fit 4 bits"):
        isa.pack({"k": 16})
    with pytest.raises(ValueError, match=r"field n = -1"):
        isa.pack({"n": -1})
    with pytest.raises(ValueError, match=r"no field 'stride'"):
        isa.pack({"stride": 2})


@pytest.mark.parametrize("net", sorted(NETS))
def test_compiler_descriptors_unpack(net):
    """Each compiled descriptor unpacks to its layer's op, and repacks to the same words."""
    prog = compiler.compile_net(get_net(net))
    words = prog.words
    assert len(words) % isa.DESC_WORDS == 0
    for i in range(0, len(words), isa.DESC_WORDS):
        d = isa.unpack(words[i:i + isa.DESC_WORDS])
        assert d["op"] in isa.OPS.values()
        assert isa.pack(d) == list(words[i:i + isa.DESC_WORDS])

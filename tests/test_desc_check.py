"""golden/desc_check.py, the twin of rtl/cnn_core.v's descriptor validation: the testbench's malformed
programs get their codes, the named nets pass, hand-made tables pin the priority, the 16-bit wrap and
the corner cases, and mutant twins disagree with the real one on random tables (the test has teeth)."""
from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tb" / "cnn_core"), str(ROOT / "tb"), str(ROOT)]

import core_replay as R  # noqa: E402
from golden import desc_check as D  # noqa: E402
from golden.compiler import compile_net  # noqa: E402
from golden.random_programs import random_malformed  # noqa: E402
from golden.spec import NETS  # noqa: E402

CFG = D.CoreCfg()


def w0(op, k=0, c=0, n=0):
    return op | k << 4 | c << 8 | n << 16


def w1(h=0, w=0, m=0):
    return h | w << 8 | m << 16


def w2(din=0, dout=0):
    return din | dout << 16


def w3(wa=0, aux=0):
    return wa | aux << 16


def test_defaults_are_the_rtl_parameters():
    text = (ROOT / "rtl" / "cnn_core.v").read_text()
    for name, val in (("P", 8), ("AMEM_DEPTH", 4096), ("WMEM_DEPTH", 32768), ("MAX_LAYERS", 16),
                      ("MAX_CLASSES", 16), ("MAX_OUT", 64)):
        assert f"parameter integer {name:<12} = {val}," in text, name
    assert D.CoreCfg.from_params({"AMEM_DEPTH": 1024}) == replace(CFG, amem_depth=1024)


@pytest.mark.parametrize("name", ["A", "B", "A8", "B8", "C8"])
def test_malformed_programs(name):
    bad = R.malformed_programs(NETS[name], CFG.amem_depth, CFG.wmem_depth, CFG.max_classes)
    for m in bad:
        assert D.check(m.words, m.num_layers, m.head, CFG) == m.code, m.name


@pytest.mark.parametrize("name", list(NETS))
def test_named_nets_pass(name):
    prog = compile_net(NETS[name])
    assert D.first_error(prog.words, len(NETS[name].layers), prog.head, CFG) == (0, None)
    for head in (0, 1):                       # HEAD is not checked
        assert D.check(prog.words, len(NETS[name].layers), head, CFG) == 0


def _a8():
    prog = compile_net(NETS["A8"])
    return list(prog.words) + [0] * (4 * CFG.max_layers - len(prog.words)), len(NETS["A8"].layers)


def test_table_edges():
    words, nl = _a8()
    assert D.first_error(words, 0) == (D.ERR_STRUCTURE, None)             # NUM_LAYERS = 0
    with pytest.raises(ValueError):
        D.check(words, CFG.max_layers + 1)                                # SLVERR in axil_regs
    with pytest.raises(ValueError):
        D.check(words + [0], nl)
    assert D.check(words[:4 * nl], nl) == 0                               # short table: zeros after
    assert D.first_error(words[:4 * nl], nl + 1) == (D.ERR_OP, nl)        # a zero row: op 0
    r = random.Random(1)
    junk = words[:4 * nl] + [r.getrandbits(32) for _ in range(len(words) - 4 * nl)]
    assert D.check(junk, nl) == 0                                         # rows past NUM_LAYERS unread
    assert D.check(words, 3) == D.ERR_STRUCTURE                           # ends on a max-pool


def test_priority_and_terms():
    cfg = CFG
    dense_last = [w0(2, n=2), w1(m=10), w2(0, 100), w3(0)]
    # first layer relu (4) with a zero map (2): 2 wins
    assert D.check([w0(3, c=0), w1(4, 4), w2(), w3()] + dense_last, 2) == D.ERR_GEOMETRY
    # last layer a conv (4) with too many filters (3): 4 wins over 3
    assert D.check([w0(1, 1, 1, 200), w1(4, 4), w2(), w3()], 1) == D.ERR_STRUCTURE
    # unknown op beats everything
    assert D.check([w0(9, 0, 0, 0), 0, 0, 0], 1) == D.ERR_OP
    # a single dense layer: classes 2..MAX_CLASSES
    for n, code in ((0, 2), (1, 3), (2, 0), (cfg.max_classes, 0), (cfg.max_classes + 1, 3)):
        assert D.check([w0(2, n=n), w1(m=10), w2(0, 100), w3()], 1) == code, n
    # regions end exactly at the depths (valid) or one element past them (3)
    for wa, code in ((cfg.wmem_depth - 22, 0), (cfg.wmem_depth - 21, 3)):
        assert D.check([w0(2, n=2), w1(m=10), w2(0, 100), w3(wa)], 1) == code
    for dout, code in ((cfg.amem_depth - 2, 0), (cfg.amem_depth - 1, 3)):
        assert D.check([w0(2, n=2), w1(m=10), w2(0, dout), w3()], 1) == code
    # sizes chain by count only: a 1x1 conv after a dense (the spec forbids it) and a reshape pass
    t = [w0(2, n=8), w1(m=10), w2(0, 10), w3(0),
         w0(1, 1, 8, 1), w1(1, 1), w2(10, 18), w3(100, 30),
         w0(3, c=1, n=99), w1(1, 1, 7), w2(18, 19), w3(5, 6),                   # relu: n, m, wa, aux ignored
         w0(2, 5, 7, 2), w1(3, 3, 1), w2(18, 40), w3(200, 1234)]                # dense: k, c, h, w, aux ignored
    assert D.check(t, 4) == 0
    t[8] = w0(3, c=1) | 0xF0
    assert D.check(t, 4) == 0
    t[9] = w1(2, 1)                                                            # relu 1x2x1 after 1 output
    assert D.first_error(t, 4) == (D.ERR_GEOMETRY, 2)


def test_padded_scratch_wraps_at_16_bits():
    """hpwp = (h + k - 1) * (w + k - 1) is a 16-bit register: for a 255x255 map and k = 14 the padded
    delta is 268 * 268 = 71824 elements but the check adds 71824 mod 2^16 = 6288 (checked against the
    RTL with AMEM_DEPTH = 65536 while writing the twin). Unreachable below AMEM_DEPTH ~ 58k: the map
    itself must then fit AMEM."""
    cfg = replace(CFG, amem_depth=65536)
    d = D.derive(D.fields(w0(1, 14, 1, 1), w1(255, 255), 0, 0))
    assert (d.hp, d.wp, d.hpwp, d.padsz) == (268, 268, 71824 & 0xFFFF, 6288)

    def table(aux):
        return [w0(1, 1, 1, 1), w1(255, 255), w2(0, 300), w3(0),
                w0(1, 14, 1, 1), w1(255, 255), w2(300, 0), w3(0, aux),
                w0(5, c=1), w1(242, 242), w2(0, 0), w3(0, 20000),
                w0(2, n=2), w1(1, 1, 14641), w2(0, 40000), w3(100)]
    assert [D.check(table(a), 4, 0, cfg) for a in (65536 - 6288, 65536 - 6287, 0)] == [0, 3, 0]


# ----------------------------------------------------------------------------- mutants
def _tables(seed: int, n: int, cfg=CFG):
    r = random.Random(seed)
    return [random_malformed(r, cfg) for _ in range(n)]


@pytest.fixture(scope="module")
def tables():
    return _tables(2024, 3000)


def _disagreements(tables, mutant) -> int:
    return sum(mutant(w, nl, h) != code for w, nl, h, code in tables)


MUTANTS = {
    "priority 3 before 4": ("PRIORITY", (1, 2, 3, 4)),
    "priority 4 before 2": ("PRIORITY", (1, 4, 2, 3)),
    "no chaining check": ("chained", lambda li, d, prev: True),
    "chaining against the input count": ("chained", lambda li, d, prev: li == 0 or d.in_cnt == d.out_cnt
                                         or d.in_cnt == prev),
}
CFG_MUTANTS = {
    "AMEM bound >= (one short)": replace(CFG, amem_depth=CFG.amem_depth - 1),
    "WMEM bound >= (one short)": replace(CFG, wmem_depth=CFG.wmem_depth - 1),
    "MAX_CLASSES + 1": replace(CFG, max_classes=CFG.max_classes + 1),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_twins_are_caught(name, tables, monkeypatch):
    attr, val = MUTANTS[name]
    monkeypatch.setattr(D, attr, val)
    n = _disagreements(tables, lambda w, nl, h: D.check(w, nl, h, CFG))
    print(f"mutant {name!r}: {n} of {len(tables)} random tables disagree")
    assert n >= 5, name


@pytest.mark.parametrize("name", list(CFG_MUTANTS))
def test_bound_mutants_are_caught(name, tables):
    n = _disagreements(tables, lambda w, nl, h: D.check(w, nl, h, CFG_MUTANTS[name]))
    print(f"mutant {name!r}: {n} of {len(tables)} random tables disagree")
    assert n >= 5, name


def test_real_twin_agrees_with_itself(tables):
    assert _disagreements(tables, lambda w, nl, h: D.check(w, nl, h, CFG)) == 0

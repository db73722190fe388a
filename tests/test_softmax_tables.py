"""Softmax tables (EXP_INT, EXP_FRAC, LN_MANT) against float exp/log, golden.softmax against float
softmax, and the committed rtl/tables/*.hex against a fresh export.

Measured (seeded, so these are the numbers the asserts see; run with -s to print them):
    table entries         max error 0.4475 (EXP_INT), 0.4994 (EXP_FRAC, Fa = 8), 0.4991 (LN_MANT) LSB
                          of 2^-16, i.e. <= 0.5 LSB (round half even of the exact value)
    p = probs(z)          max |p - softmax(z)| 5.0e-5 (Fa = 8), 4.3e-5 (Fa = 6): about 3 LSB of Q0.16
    loss(z, y)            max |loss - (-ln p_y)| 0.0039 (LN_MANT indexes 8 mantissa bits, floor)
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from golden import softmax as gsm
from golden.spec import Fmt, Formats

REPO = Path(__file__).resolve().parents[1]
TABLES = REPO / "rtl" / "tables"
LSB = 2.0 ** -16


def _export_tables():
    spec = importlib.util.spec_from_file_location("export_tables", REPO / "scripts" / "export_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _report(record_property, name, value):
    record_property(name, float(value))  # plain float: xdist cannot ship numpy scalars
    print(f"{name} = {value:.6g}")


# ---------------------------------------------------------------------------- table entries
def test_exp_int_entries(record_property):
    t = gsm.exp_int_table()
    assert t.shape == (gsm.EXP_INT_N,) and t.min() >= 0 and t.max() <= 1 << 16
    exact = np.exp(-np.arange(gsm.EXP_INT_N, dtype=np.float64)) * 65536
    err = np.abs(t - exact)
    _report(record_property, "exp_int_max_err_lsb", float(err.max()))
    assert err.max() <= 0.5
    assert t[0] == 1 << 16


@pytest.mark.parametrize("fa", [4, 5, 6, 8, 10])
def test_exp_frac_entries(fa, record_property):
    t = gsm.exp_frac_table(fa)
    assert t.shape == (1 << fa,) and t.max() == 1 << 16 and t.min() > 0
    assert np.all(np.diff(t) <= 0)
    exact = np.exp(-np.arange(1 << fa, dtype=np.float64) / (1 << fa)) * 65536
    err = np.abs(t - exact)
    _report(record_property, f"exp_frac_fa{fa}_max_err_lsb", float(err.max()))
    assert err.max() <= 0.5
    assert int(t.max()).bit_length() <= 17     # fits the 17-bit ROM word


def test_ln_mant_entries(record_property):
    t = gsm.ln_mant_table()
    assert t.shape == (256,) and t[0] == 0 and t.max() < 1 << 16
    assert np.all(np.diff(t) > 0)
    exact = np.log1p(np.arange(256, dtype=np.float64) / 256) * 65536
    err = np.abs(t - exact)
    _report(record_property, "ln_mant_max_err_lsb", float(err.max()))
    assert err.max() <= 0.5
    assert abs(gsm.LN2_Q16 - np.log(2.0) * 65536) <= 0.5


# ---------------------------------------------------------------------------- golden vs float
def _random_logits(rng, act, count):
    for _ in range(count):
        n = int(rng.integers(2, 17))
        sigma = float(rng.choice([0.5, 1.0, 3.0, 8.0]))
        z = np.rint(rng.normal(0.0, sigma, n) * (1 << act.frac))
        yield np.clip(z, act.min_code, act.max_code).astype(np.int64), int(rng.integers(0, n))


@pytest.mark.parametrize("fa", [8, 6])
def test_probs_vs_float_softmax(fa, record_property):
    act = Fmt(16, fa)
    rng = np.random.default_rng(20240 + fa)
    max_p = max_l = 0.0
    for z, y in _random_logits(rng, act, 3000):
        p = gsm.probs(z, act)
        e = gsm.exps(z, act)
        s = int(e.sum())
        assert np.all(p * s <= e << 16) and np.all((p + 1) * s > e << 16)   # exact floor division
        zf = z / float(1 << fa)
        pf = np.exp(zf - zf.max())
        pf /= pf.sum()
        max_p = max(max_p, float(np.abs(p * LSB - pf).max()))
        max_l = max(max_l, abs(gsm.loss(z, y, act) * LSB + np.log(pf[y])))
    _report(record_property, f"probs_fa{fa}_max_abs_err", max_p)
    _report(record_property, f"loss_fa{fa}_max_abs_err", max_l)
    assert max_p < 8 * LSB           # a few LSB of Q0.16: table rounding and the floor division
    assert max_l < 2.0 ** -7         # LN_MANT indexes 8 mantissa bits (floor): <= ln(1 + 1/256)


def test_probs_special_cases():
    act = Fmt(16, 8)
    for n in (2, 4, 8, 16):                       # ties: exactly 2^16 / N
        assert np.all(gsm.probs(np.full(n, 123), act) == (1 << 16) // n)
    z = np.array([0, -16 << 8, -(16 << 8) + 1])   # d = 16.0 gives e = 0, d just below does not
    e = gsm.exps(z, act)
    assert e[0] == 1 << 16 and e[1] == 0 and e[2] >= 0
    assert gsm.probs(np.array([act.max_code, act.min_code]), act).tolist() == [1 << 16, 0]


# ---------------------------------------------------------------------------- committed hex files
@pytest.mark.parametrize("name", ["exp_int.hex", "exp_frac.hex", "ln_mant.hex"])
def test_hex_files_match_fresh_export(name):
    et = _export_tables()
    vals, width = et.tables(Formats().act.frac)[name]
    assert (TABLES / name).read_text() == et.render(vals, width), \
        f"rtl/tables/{name} is stale: run `make tables`"


# ---------------------------------------------------------------------------- RTL exp decomposition
def _rtl_exp(ei: np.ndarray, ef: np.ndarray) -> np.ndarray:
    """rtl/softmax.v exp stages 3-4: a 16x16 multiply of the words' low 16 bits, rounded, unless a
    word has bit 16 set (it is then exactly 2^16) and e is the other word."""
    prod = (ei & 0xFFFF) * (ef & 0xFFFF)
    rnd = (prod >> 16) + ((prod >> 15) & 1)
    return np.where(ei >> 16 != 0, ef, np.where(ef >> 16 != 0, ei, rnd))


@pytest.mark.parametrize("fa", list(range(1, 17)))
def test_rtl_exp_decomposition_exhaustive(fa):
    """For every FA and every (n, f) in 16 x 2^FA: the RTL's e equals golden.softmax.exps exactly.
    The bypass relies on: a table word >= 2^16 only at index 0, where it is exactly 2^16."""
    ei, ef = gsm.exp_int_table(), gsm.exp_frac_table(fa)
    assert ei[0] == ef[0] == 1 << 16
    assert np.all(ei[1:] < 1 << 16) and np.all(ef[1:] < 1 << 16)
    act = Fmt(16 if fa < 12 else 24, fa)
    n, f = np.meshgrid(np.arange(gsm.EXP_INT_N), np.arange(1 << fa), indexing="ij")
    n, f = n.ravel(), f.ravel()
    got = _rtl_exp(ei[n], ef[f])
    # golden: one logit at the maximum (d = 0, the first entry) and the others d = n * 2^fa + f below
    d = (n << fa) + f
    want = gsm.exps(np.concatenate([[0], -d]), act)[1:]
    assert got.shape == want.shape == (16 << fa,)
    assert np.array_equal(got, want)
    assert got.max() == 1 << 16 and got.min() >= 0

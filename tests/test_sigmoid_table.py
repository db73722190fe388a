"""The sigmoid lookup table: every entry against the float sigmoid, and rtl/tables/sigmoid.hex equal
to a fresh export by scripts/export_tables.py (the file rtl/sigmoid.v loads with $readmemh)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from golden import sigmoid
from golden.spec import Fmt, Formats

ROOT = Path(__file__).resolve().parents[1]
HEX = ROOT / "rtl" / "tables" / "sigmoid.hex"


def _export_tables():
    spec = importlib.util.spec_from_file_location("export_tables", ROOT / "scripts" / "export_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _float_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _hex_words():
    lines = HEX.read_text().split()
    assert len(lines) == sigmoid.SIG_N, f"{HEX} has {len(lines)} words, expected {sigmoid.SIG_N}"
    assert all(len(ln) == 8 for ln in lines), "every word is 8 hex digits (32 bits)"
    return np.array([int(ln, 16) for ln in lines], dtype=np.int64)


def test_table_entries_vs_float(record_property):
    """T[i] = round(sigmoid(-8 + i/16) * 2^16) within 0.5 LSB (Q0.16) for all 257 entries."""
    t = sigmoid.table()
    assert len(t) == sigmoid.SIG_N + 1
    xs = sigmoid.SIG_LO + np.arange(sigmoid.SIG_N + 1) / (1 << sigmoid.SIG_SEG_LOG2)
    err = np.abs(t - _float_sigmoid(xs) * (1 << sigmoid.TABLE_FRAC))
    print(f"sigmoid table: max |T[i] - sigmoid(x_i) * 2^16| = {err.max():.4f} LSB (Q0.16) "
          f"at i={int(np.argmax(err))}")
    record_property("table_max_err_lsb_q0_16", float(err.max()))
    assert err.max() <= 0.5 + 1e-9
    assert np.all(np.diff(t) >= 0), "the table is monotone"
    assert 0 <= t.min() and t.max() < (1 << 16)


def test_hex_words_decode_to_table(record_property):
    """ROM word i = {D[i], T[i]}: the low half is T[i] and T[i] + D[i] = T[i+1], within 0.5 LSB
    of the float sigmoid, for every address."""
    w = _hex_words()
    t_lo, d = w & 0xFFFF, w >> 16
    t_next = t_lo + d
    xs = sigmoid.SIG_LO + np.arange(sigmoid.SIG_N + 1) / (1 << sigmoid.SIG_SEG_LOG2)
    ref = _float_sigmoid(xs) * (1 << sigmoid.TABLE_FRAC)
    err = np.maximum(np.abs(t_lo - ref[:-1]), np.abs(t_next - ref[1:]))
    print(f"sigmoid.hex: max error of T[i], T[i+1] = {err.max():.4f} LSB (Q0.16)")
    record_property("hex_max_err_lsb_q0_16", float(err.max()))
    assert err.max() <= 0.5 + 1e-9
    np.testing.assert_array_equal(t_lo, sigmoid.table()[:-1])
    np.testing.assert_array_equal(t_next, sigmoid.table()[1:])


def test_hex_equals_fresh_export():
    """The committed rtl/tables/sigmoid.hex equals what scripts/export_tables.py writes now."""
    et = _export_tables()
    vals, width = et.tables(Formats().act.frac)["sigmoid.hex"]
    assert width == 32
    assert HEX.read_text() == et.render(vals, width), \
        "rtl/tables/sigmoid.hex is stale: run `make tables` (scripts/export_tables.py)"


def test_interpolation_error_vs_float(record_property):
    """The interpolated Q0.16 value (golden fwd in an act format with 16 fractional bits, so the
    final narrowing is exact) over a dense grid of [-8, 8): table rounding + interpolation + floor."""
    act = Fmt(24, 16)
    x = np.arange(-8 << 16, 8 << 16, 7, dtype=np.int64)
    y16 = sigmoid.fwd(x, act)
    err = np.abs(y16 - _float_sigmoid(x / 65536.0) * 65536.0)
    print(f"sigmoid interpolation: max error {err.max():.4f} LSB (Q0.16) over {len(x)} points")
    record_property("interp_max_err_lsb_q0_16", float(err.max()))
    assert err.max() < 5.0          # h^2/8 * max|sigmoid''| = 3.1 LSB, + rounding


def test_forward_error_per_act_format(record_property):
    """Full forward path (table, interpolation, half-up narrowing) over every code of Q8.8 and
    Q6.6: within 0.51 LSB of the float sigmoid (0.5 from the final rounding)."""
    for act in (Fmt(16, 8), Fmt(12, 6)):
        x = np.arange(act.min_code, act.max_code + 1, dtype=np.int64)
        s = sigmoid.fwd(x, act)
        err = np.abs(s - _float_sigmoid(x / (1 << act.frac)) * (1 << act.frac))
        print(f"sigmoid fwd {act}: max error {err.max():.4f} LSB over all {len(x)} codes")
        record_property(f"fwd_max_err_lsb_{act}", float(err.max()))
        assert err.max() < 0.51

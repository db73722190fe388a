"""Sigmoid lookup table with linear interpolation, and its derivative s(1-s); twin of rtl/sigmoid.v.

Table: SIG_N = 256 segments over [-8, 8), segment width 1/16. Entry i holds
    T[i] = round_half_even(sigmoid(-8 + i/16) * 2^16)   for i = 0..256   (unsigned Q0.16)
and the ROM word i packs {D[i] = T[i+1] - T[i] (16 bits), T[i] (16 bits)} for i = 0..255.

For an input code x of the act format (Fa fractional bits, Fa >= 4):
    u   = x + 8 * 2^Fa                         (offset so that -8 maps to 0)
    u <  0            -> y16 = T[0]
    u >= 16 * 2^Fa    -> y16 = T[256]
    else i = u >> (Fa - 4), f = u & (2^(Fa-4) - 1)
         y16 = T[i] + ((D[i] * f) >> (Fa - 4))            (floor)
    s = requantize(y16, 16 - Fa, act, half_up)

Derivative (from the stored output s, in act codes): ds = requantize(s * (2^Fa - s), Fa, act, half_up).
Backward: delta_z = requantize(delta * ds, in_frac + Fa - Fd, delta fmt, round_bwd).
"""
from __future__ import annotations

import math

import numpy as np

from .requantize import requantize
from .spec import Fmt

SIG_N = 256
SIG_LO = -8.0
SIG_SEG_LOG2 = 4        # 16 segments per unit
TABLE_FRAC = 16


def table() -> np.ndarray:
    """T[0..256] as int64 (Q0.16)."""
    xs = SIG_LO + np.arange(SIG_N + 1) / (1 << SIG_SEG_LOG2)
    return np.rint(1.0 / (1.0 + np.exp(-xs)) * (1 << TABLE_FRAC)).astype(np.int64)


def rom_words() -> np.ndarray:
    t = table()
    d = t[1:] - t[:-1]
    assert d.min() >= 0 and d.max() < (1 << 16) and t.max() < (1 << 16)
    return (d << 16) | t[:-1]


def fwd(x, act: Fmt):
    fa = act.frac
    if fa < SIG_SEG_LOG2:
        raise ValueError(f"sigmoid needs at least {SIG_SEG_LOG2} fractional bits in {act}")
    t = table()
    fb = fa - SIG_SEG_LOG2
    u = np.asarray(x, dtype=np.int64) + (8 << fa)
    uc = np.clip(u, 0, (16 << fa) - 1)
    i = uc >> fb
    f = uc & ((1 << fb) - 1)
    y16 = t[i] + (((t[i + 1] - t[i]) * f) >> fb)
    y16 = np.where(u < 0, t[0], np.where(u >= (16 << fa), t[SIG_N], y16))
    return requantize(y16, TABLE_FRAC - fa, act, "half_up")[0]


def deriv(s, act: Fmt):
    s = np.asarray(s, dtype=np.int64)
    return requantize(s * ((1 << act.frac) - s), act.frac, act, "half_up")[0]


def back(delta, s, act: Fmt, delta_fmt: Fmt, rounding: str, in_frac: int | None = None):
    """delta_z = requantize(delta * s(1-s), in_frac + Fa - Fd, delta fmt). Returns (codes, flag).

    `delta` carries `in_frac` fractional bits: Fd inside the net (the default), Fa for the MSE head,
    whose input is the error O - y in act codes.
    """
    in_frac = delta_fmt.frac if in_frac is None else in_frac
    return requantize(np.asarray(delta, dtype=np.int64) * deriv(s, act),
                      in_frac + act.frac - delta_fmt.frac, delta_fmt, rounding)


def ref(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))

"""The one narrowing function; twin of rtl/requantize.v.

requantize(x, shift, fmt, rounding, overflow, lfsr) maps integer codes x (numpy int64) that carry
`fmt.frac + shift` fractional bits to codes of `fmt`:

  1. drop `shift` low bits with the named rounding mode (shift <= 0 is an exact left shift):
       truncate    floor(x / 2^s)                        (arithmetic shift right, towards -inf)
       half_up     floor((x + 2^(s-1)) / 2^s)            (ties towards +inf)
       half_even   nearest, ties to the even result
       stochastic  floor((x + r) / 2^s), r = low s bits of the next LFSR state (golden/lfsr.py)
  2. bring the result into fmt.width bits with the named overflow mode:
       saturate    clip to [min_code, max_code]
       wrap        keep the low fmt.width bits (two's complement)
     Either way the returned flag is True when any element was out of range (the RTL's sticky bit).

Returns (codes int64, overflow_flag bool).
"""
from __future__ import annotations

import numpy as np

from .lfsr import Lfsr
from .spec import Fmt, OVERFLOW_MODES, ROUNDING_MODES

MAX_STOCHASTIC_SHIFT = 32


def round_shift(x, shift: int, rounding: str, lfsr: Lfsr | None = None) -> np.ndarray:
    """Step 1 alone: drop `shift` bits of x with the named rounding mode (no width limit)."""
    x = np.asarray(x, dtype=np.int64)
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding mode {rounding!r} not in {ROUNDING_MODES}")
    if shift <= 0:
        return x << (-shift)
    if rounding == "truncate":
        return x >> shift
    if rounding == "half_up":
        return (x + (1 << (shift - 1))) >> shift
    if rounding == "half_even":
        q = x >> shift
        rem = x - (q << shift)
        half = 1 << (shift - 1)
        up = (rem > half) | ((rem == half) & ((q & 1) == 1))
        return q + up.astype(np.int64)
    # stochastic
    if lfsr is None:
        raise ValueError("stochastic rounding needs an Lfsr")
    if shift > MAX_STOCHASTIC_SHIFT:
        raise ValueError(f"stochastic rounding supports shift <= {MAX_STOCHASTIC_SHIFT}, got {shift}")
    flat = x.reshape(-1)
    r = (lfsr.take(flat.size) & np.uint64((1 << shift) - 1)).astype(np.int64)
    return ((flat + r) >> shift).reshape(x.shape)


def fit(x, fmt: Fmt, overflow: str):
    """Step 2 alone: bring codes into fmt.width bits. Returns (codes, flag)."""
    x = np.asarray(x, dtype=np.int64)
    if overflow not in OVERFLOW_MODES:
        raise ValueError(f"overflow mode {overflow!r} not in {OVERFLOW_MODES}")
    lo, hi = fmt.min_code, fmt.max_code
    flag = bool(np.any((x < lo) | (x > hi)))
    if overflow == "saturate":
        return np.clip(x, lo, hi), flag
    m = 1 << fmt.width
    return ((x - lo) % m) + lo, flag


def requantize(x, shift: int, fmt: Fmt, rounding: str, overflow: str = "saturate",
               lfsr: Lfsr | None = None):
    return fit(round_shift(x, shift, rounding, lfsr), fmt, overflow)


def to_codes(v, fmt: Fmt, rounding: str = "half_even", overflow: str = "saturate"):
    """Quantize float values to codes of fmt (used for inputs, initial weights and the learning rate)."""
    v = np.asarray(v, dtype=np.float64)
    scaled = v * (2.0 ** fmt.frac)
    if rounding == "half_even":
        q = np.rint(scaled)
    elif rounding == "half_up":
        q = np.floor(scaled + 0.5)
    elif rounding == "truncate":
        q = np.floor(scaled)
    else:
        raise ValueError(f"to_codes supports deterministic modes only, got {rounding!r}")
    return fit(q.astype(np.int64), fmt, overflow)[0]


def to_float(codes, fmt: Fmt) -> np.ndarray:
    return np.asarray(codes, dtype=np.float64) * (2.0 ** -fmt.frac)


class Sticky:
    """Sticky overflow flags by narrowing site, like the RTL status register."""

    def __init__(self):
        self.flags = {}

    def __call__(self, site: str, result):
        codes, flag = result
        self.flags[site] = self.flags.get(site, False) or flag
        return codes

    @property
    def any(self) -> bool:
        return any(self.flags.values())

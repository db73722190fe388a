"""The one narrowing function; twin of rtl/requantize.v.

requantize(x, shift, fmt, rounding, overflow, lfsr) maps integer codes x (numpy int64) that carry
`fmt.frac + shift` fractional bits to codes of `fmt`:

  1. drop `shift` low bits with the named rounding mode (shift <= 0 is an exact left shift by -shift,
     never formed in int64: requantize saturates or wraps the exact value x * 2^-shift):
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


def _check_rounding(rounding: str):
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding mode {rounding!r} not in {ROUNDING_MODES}")


def _check_overflow(overflow: str):
    if overflow not in OVERFLOW_MODES:
        raise ValueError(f"overflow mode {overflow!r} not in {OVERFLOW_MODES}")


def _left_shift(x: np.ndarray, n: int) -> np.ndarray:
    """x * 2^n exactly in int64; OverflowError instead of losing bits."""
    lo, hi = -((1 << 63) >> n), ((1 << 63) - 1) >> n    # x << n fits int64 iff lo <= x <= hi
    if x.size and (x.min() < lo or x.max() > hi):
        raise OverflowError(f"left shift by {n} does not fit int64 (use requantize, which is exact)")
    return x << min(n, 63)


def round_shift(x, shift: int, rounding: str, lfsr: Lfsr | None = None) -> np.ndarray:
    """Step 1 alone: drop `shift` bits of x with the named rounding mode (no width limit).

    A left shift (shift <= 0) is exact; it raises OverflowError if the result does not fit int64.
    """
    x = np.asarray(x, dtype=np.int64)
    _check_rounding(rounding)
    if shift <= 0:
        return _left_shift(x, -shift)
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
    _check_overflow(overflow)
    lo, hi = fmt.min_code, fmt.max_code
    flag = bool(np.any((x < lo) | (x > hi)))
    if overflow == "saturate":
        return np.clip(x, lo, hi), flag
    m = 1 << fmt.width
    return ((x - lo) % m) + lo, flag


def _fit_left(x, n: int, fmt: Fmt, overflow: str):
    """Steps 1 and 2 for a left shift by n > 0, on the exact value x * 2^n. Returns (codes, flag)."""
    x = np.asarray(x, dtype=np.int64)
    _check_overflow(overflow)
    lo, hi = -((-fmt.min_code) >> n), fmt.max_code >> n    # x * 2^n fits fmt iff lo <= x <= hi
    flag = bool(np.any((x < lo) | (x > hi)))
    if overflow == "saturate":
        # in range: n < width, or x = 0 (then any shift gives 0): << min(n, width) is exact
        inside = np.clip(x, lo, hi) << min(n, fmt.width)
        return np.where(x > hi, fmt.max_code, np.where(x < lo, fmt.min_code, inside)), flag
    # wrap: the low width bits of x * 2^n are the low width - n bits of x, moved up (0 if n >= width)
    if n >= fmt.width:
        return np.zeros_like(x), flag
    low = (x & ((1 << (fmt.width - n)) - 1)) << n
    return fit(low, fmt, "wrap")[0], flag


def requantize(x, shift: int, fmt: Fmt, rounding: str, overflow: str = "saturate",
               lfsr: Lfsr | None = None):
    if shift < 0:
        _check_rounding(rounding)
        return _fit_left(x, -shift, fmt, overflow)
    return fit(round_shift(x, shift, rounding, lfsr), fmt, overflow)


def to_codes(v, fmt: Fmt, rounding: str = "half_even", overflow: str = "saturate"):
    """Quantize float values to codes of fmt (used for inputs, initial weights and the learning rate).

    Out-of-range values saturate to max_code / min_code (+inf / -inf included), or wrap (finite
    values only: an infinity has no low bits, ValueError). NaN has no code: ValueError.
    """
    v = np.asarray(v, dtype=np.float64)
    _check_overflow(overflow)
    if np.isnan(v).any():
        raise ValueError(f"to_codes: {int(np.isnan(v).sum())} NaN value(s) have no code in {fmt}")
    scaled = v * (2.0 ** fmt.frac)
    if rounding == "half_even":
        q = np.rint(scaled)
    elif rounding == "half_up":
        q = np.floor(scaled + 0.5)
    elif rounding == "truncate":
        q = np.floor(scaled)
    else:
        raise ValueError(f"to_codes supports deterministic modes only, got {rounding!r}")
    if overflow == "saturate":
        q = np.clip(q, fmt.min_code, fmt.max_code)   # before the int64 cast, which cannot hold inf
    elif np.isinf(q).any():
        raise ValueError(f"to_codes: cannot wrap an infinite value into {fmt}")
    else:
        q = np.fmod(q, 2.0 ** fmt.width)             # exact: the low width bits (sign of q)
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

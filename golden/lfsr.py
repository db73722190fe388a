"""32-bit Galois LFSR that drives stochastic rounding; twin of rtl/lfsr.v.

Polynomial x^32 + x^22 + x^2 + x + 1 (maximal length, period 2^32 - 1), right-shifting Galois form:

    step(s) = (s >> 1) ^ (TAPS if s & 1 else 0),   TAPS = 0x80200003

The state is stepped once per narrowed element, in element order, *before* it is used, so element n of
a stream uses state_{n+1} = step^(n+1)(seed). The random value of an element is the low `shift` bits of
its state. A P-lane RTL unit steps P times per cycle, so the stream is independent of P.

`Lfsr.take(n)` returns the next n states as uint64 using a GF(2) jump table (no Python loop per element).
"""
from __future__ import annotations

import numpy as np

TAPS = 0x80200003
DEFAULT_SEED = 0xACE12468
_BLOCK = 4096


def step(s: int) -> int:
    return (s >> 1) ^ (TAPS if s & 1 else 0)


def _build_table():
    # cols[k, j] = A^(k+1) applied to the unit vector e_j, for k = 0.._BLOCK-1.
    cols = np.zeros((_BLOCK, 32), dtype=np.uint64)
    cur = [1 << j for j in range(32)]
    for k in range(_BLOCK):
        cur = [step(c) for c in cur]
        cols[k] = cur
    return cols


_TABLE = None


def _table():
    global _TABLE
    if _TABLE is None:
        _TABLE = _build_table()
    return _TABLE


def _apply(cols_row_block: np.ndarray, s: int) -> np.ndarray:
    bits = [j for j in range(32) if (s >> j) & 1]
    if not bits:
        return np.zeros(cols_row_block.shape[0], dtype=np.uint64)
    return np.bitwise_xor.reduce(cols_row_block[:, bits], axis=1)


class Lfsr:
    def __init__(self, seed: int = DEFAULT_SEED):
        if not (0 < seed < 2 ** 32):
            raise ValueError(f"LFSR seed must be a non-zero 32-bit value, got {seed:#x}")
        self.state = int(seed)
        self.count = 0  # steps taken so far

    def take(self, n: int) -> np.ndarray:
        """The next n states (each after one more step), as uint64."""
        out = np.empty(n, dtype=np.uint64)
        tab = _table()
        pos = 0
        while pos < n:
            m = min(_BLOCK, n - pos)
            out[pos:pos + m] = _apply(tab[:m], self.state)
            self.state = int(out[pos + m - 1])
            pos += m
        self.count += n
        return out

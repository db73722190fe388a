"""P-banked element memory with vector / broadcast / pair-duplicate reads; twin of rtl/banked_mem.v.

The memory holds P*DEPTH elements of W bits. Element e lives in bank e mod P at row e div P (each bank
is one simple dual-port block RAM in the RTL). It stores W-bit patterns and is blind to signedness:
`write` masks each code to W bits (a negative code is stored as its two's complement) and `read`
returns the unsigned W-bit patterns (use tbkit.to_signed / `signed()` to get codes back).

Read (one request per cycle), element address e, lanes l = 0..P-1:
    mode 0 VECTOR     lane l gets element e + l
    mode 1 BROADCAST  every lane gets element e
    mode 2 PAIR       lane l gets element e + (l >> 1)   (pair-duplicate, max-pool backward)
    mode 3            reserved, behaves as VECTOR
  and in EVERY mode (broadcast included) lanes l >= count read as 0; count >= P reads all lanes.
Write (one request per cycle): lane l of `data` goes to element e + l, for lanes l < count only.

Addresses out of range (the core never issues them; this is what the RTL does, so nothing is X):
  element x = e + k of a request (e < 2**ADDR_W, ADDR_W = clog2(P*DEPTH), k < P) is bank x mod P,
  row (x div P) mod 2**ROW_W with ROW_W = clog2(DEPTH). So when DEPTH is a power of two addresses wrap
  modulo P*DEPTH (a vector that runs past the last element continues at element 0). When DEPTH is not
  a power of two, a row >= DEPTH does not exist: such an element reads as 0 and writes to it are
  dropped.

Same cycle read and write (`cycle`): the read sees the memory before the write (old data, the natural
block-RAM behaviour); a read issued in a later cycle sees the new data.

Initial contents are all zero (the RTL zero-fills its RAMs at configuration/simulation start).
"""
from __future__ import annotations

import numpy as np

VECTOR, BROADCAST, PAIR = 0, 1, 2
MODES = (VECTOR, BROADCAST, PAIR)


def clog2(n: int) -> int:
    """Bits needed to hold 0..n-1 (clog2(1) = 0), as the RTL's constant function."""
    return max(0, (int(n) - 1).bit_length())


def lane_offsets(p: int, mode: int) -> np.ndarray:
    """k_l: lane l of a read in `mode` gets element e + k_l."""
    lanes = np.arange(p, dtype=np.int64)
    if mode == BROADCAST:
        return np.zeros(p, dtype=np.int64)
    if mode == PAIR:
        return lanes >> 1
    return lanes                       # VECTOR and the reserved mode 3


class BankedMem:
    """Element-addressed memory of P banks x DEPTH rows of W-bit elements."""

    def __init__(self, p: int, depth: int, w: int):
        if p < 1 or p > 32 or p & (p - 1):
            raise ValueError(f"P={p}: must be a power of two in 1..32")
        if depth < 2:
            raise ValueError(f"DEPTH={depth}: must be >= 2")
        if w < 1:
            raise ValueError(f"W={w}: must be >= 1")
        self.p, self.depth, self.w = p, depth, w
        self.row_w = clog2(depth)
        self.addr_w = clog2(p * depth)
        self.cnt_w = clog2(p + 1)
        self.mem = np.zeros(p * depth, dtype=np.int64)   # index = row * P + bank = element number

    # ------------------------------------------------------------------ addressing
    def locate(self, x: int):
        """Flat index of element x (after the row wrap), or None when its row does not exist."""
        bank = x % self.p
        row = (x // self.p) % (1 << self.row_w)
        return row * self.p + bank if row < self.depth else None

    def _lanes(self, count):
        return self.p if count is None else min(int(count), self.p)

    # ------------------------------------------------------------------ ports
    def read(self, e: int, mode: int = VECTOR, count=None) -> np.ndarray:
        """The P lanes (unsigned W-bit patterns) a read request returns."""
        n = self._lanes(count)
        out = np.zeros(self.p, dtype=np.int64)
        for lane, k in enumerate(lane_offsets(self.p, mode)):
            idx = self.locate(int(e) + int(k))
            if lane < n and idx is not None:
                out[lane] = self.mem[idx]
        return out

    def write(self, e: int, data, count=None):
        """Lane l of `data` (P codes, any sign) -> element e + l, for l < count."""
        n = self._lanes(count)
        mask = (1 << self.w) - 1
        for lane in range(n):
            idx = self.locate(int(e) + lane)
            if idx is not None:
                self.mem[idx] = int(data[lane]) & mask

    def cycle(self, rd=None, wr=None):
        """One clock: rd = (e, mode, count) or None, wr = (e, data, count) or None.

        Returns the read lanes (old data on a same-cycle collision) or None.
        """
        out = None if rd is None else self.read(*rd)
        if wr is not None:
            self.write(*wr)
        return out

    # ------------------------------------------------------------------ helpers
    def signed(self, codes) -> np.ndarray:
        """W-bit patterns -> signed codes."""
        c = np.asarray(codes, dtype=np.int64)
        return np.where(c >> (self.w - 1) & 1, c - (1 << self.w), c)

    def load(self, codes):
        """Set elements 0..len-1 (host preload)."""
        mask = (1 << self.w) - 1
        codes = np.asarray(codes, dtype=np.int64)
        self.mem[:len(codes)] = codes & mask

    def dump(self) -> np.ndarray:
        """All P*DEPTH elements, signed codes."""
        return self.signed(self.mem)

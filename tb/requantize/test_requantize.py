"""cocotb testbench of rtl/requantize.v (combinational narrowing core) against golden.requantize.

Each build fixes (IN_W, OUT_W, SHIFT, ROUND, OVERFLOW). The tests drive in_i / rnd_i, wait a short
Timer and compare out_o / ovf_o with golden.requantize.requantize (rounding of step 1 by round_shift,
stochastic mode fed with the very rnd bits driven on rnd_i, i.e. round_shift's r).

  test_boundary   +-max and min of IN_W, exact +-0.5 LSB ties (and ties +-1), values at and just
                  outside the OUT_W range after rounding, stochastic rnd at 0 / max / half
  test_random     tbkit.num_samples(10000) random vectors (uniform over IN_W and uniform near the
                  OUT_W range, so saturation and ties are hit often)
  test_mutant     the boundary check against a deliberately wrong golden model: must fail
"""
from __future__ import annotations


import numpy as np
import pytest

import tbkit

ROUND_NAMES = ("truncate", "half_up", "half_even", "stochastic")
OVF_NAMES = ("saturate", "wrap")


# ----------------------------------------------------------------------------- cocotb side
class FixedBits:
    """Stand-in for golden Lfsr: `take(n)` returns the given random words (round_shift's r source)."""

    def __init__(self, words):
        self.words = np.asarray(words, dtype=np.uint64)

    def take(self, n):
        assert n == self.words.size
        return self.words


class TB:
    def __init__(self, dut, mutant: bool = False):
        from golden.spec import Fmt

        self.dut = dut
        self.in_w = int(dut.IN_W.value)
        self.out_w = int(dut.OUT_W.value)
        self.shift = dut.SHIFT.value.to_signed()  # integer parameter: read signed
        self.round = ROUND_NAMES[int(dut.ROUND.value)]
        self.ovf = OVF_NAMES[int(dut.OVERFLOW.value)]
        self.fmt = Fmt(self.out_w, 0)
        self.rnd_w = self.shift if self.shift > 0 else 1
        self.mutant = mutant
        self.sb = tbkit.Scoreboard(f"requantize_{self.round}_{self.ovf}", dut._log)
        dut._log.info("IN_W=%d OUT_W=%d SHIFT=%d ROUND=%s OVERFLOW=%s", self.in_w, self.out_w,
                      self.shift, self.round, self.ovf)

    def golden(self, x, rnd):
        """Expected (out, ovf) per element of x (rnd: the rnd_i words)."""
        from golden.requantize import fit, round_shift

        x = np.asarray(x, dtype=np.int64)
        rounding, overflow, shift = self.round, self.ovf, self.shift
        if self.mutant:
            # broken model: the neighbouring rounding mode, or the other overflow mode for left shifts
            if shift > 0:
                rounding = {"truncate": "half_up", "half_up": "truncate", "half_even": "half_up",
                            "stochastic": "half_up"}[rounding]
            else:
                overflow = "wrap" if overflow == "saturate" else "saturate"
        r = round_shift(x, shift, rounding, FixedBits(rnd) if rounding == "stochastic" else None)
        out, flags = [], []
        for v in r:  # fit per element: the flag is per element here (the RTL has no sticky state)
            c, f = fit(np.array([v]), self.fmt, overflow)
            out.append(int(c[0]))
            flags.append(int(f))
        return out, flags

    async def run(self, xs, rnds):
        from cocotb.triggers import Timer

        exp, flags = self.golden(xs, rnds)
        for x, rnd, e, f in zip(xs, rnds, exp, flags):
            self.sb.expect((int(x), int(rnd), e, f))
            self.dut.in_i.value = tbkit.to_unsigned(int(x), self.in_w)
            self.dut.rnd_i.value = int(rnd) & ((1 << self.rnd_w) - 1)
            await Timer(1, "ns")
            self.sb.check((int(x), int(rnd), self.dut.out_o.value.to_signed(), int(self.dut.ovf_o.value)))

    def boundary_vectors(self):
        in_w, out_w, s = self.in_w, self.out_w, self.shift
        lo, hi = -(1 << (in_w - 1)), (1 << (in_w - 1)) - 1
        omin, omax = -(1 << (out_w - 1)), (1 << (out_w - 1)) - 1
        xs = {lo, lo + 1, hi, hi - 1, 0, 1, -1, 2, -2}
        if s > 0:
            half = 1 << (s - 1)
            for q in (0, 1, 2, 3, -1, -2, -3, omax, omax - 1, omin, omin + 1, omax + 1, omin - 1):
                for d in (-1, 0, 1):
                    xs.add((q << s) + half + d)       # ties (d=0) and their neighbours
                    xs.add((q << s) + d)
            xs.add((omax << s) + (1 << s) - 1)          # largest value that rounds down to max
        else:
            l = -s
            for q in (omax, omax + 1, omin, omin - 1, omax >> l, (omax >> l) + 1, omin >> l,
                      (omin >> l) - 1):
                xs.add(q)
        xs = sorted(x for x in xs if lo <= x <= hi)
        if self.round == "stochastic" and s > 0:
            rmax = (1 << s) - 1
            pat = [0, rmax, 1 << (s - 1), (1 << (s - 1)) - 1, 1]
            xx, rr = [], []
            for x in xs:
                for r in pat:
                    xx.append(x)
                    rr.append(r)
            return xx, rr
        return xs, [0] * len(xs)

    def random_vectors(self, r, n):
        in_w, out_w, s = self.in_w, self.out_w, self.shift
        lo, hi = -(1 << (in_w - 1)), (1 << (in_w - 1)) - 1
        # near the output range after scaling (|x| up to 2x the largest code that fits)
        span = (1 << (out_w - 1)) << s if s > 0 else (1 << (out_w - 1)) >> (-s)
        span = max(2, min(span * 2, hi))
        xs = []
        for i in range(n):
            k = i % 4
            if k == 0:
                x = r.randint(lo, hi)
            elif k == 1:
                x = r.randint(-span, span)
            elif k == 2 and s > 0:   # ties
                x = (r.randint(-span >> s, span >> s) << s) + (1 << (s - 1))
            else:
                x = r.randint(-(1 << r.randint(0, in_w - 1)), (1 << r.randint(0, in_w - 1)) - 1)
            xs.append(min(max(x, lo), hi))
        rnds = [r.getrandbits(self.rnd_w) for _ in range(n)]
        return xs, rnds


import cocotb  # noqa: E402


@cocotb.test()
async def test_boundary(dut):
    tb = TB(dut)
    xs, rnds = tb.boundary_vectors()
    await tb.run(xs, rnds)
    assert tb.sb.finish() == 0

@cocotb.test()
async def test_random(dut):
    tb = TB(dut)
    r = tbkit.rng(dut._log)
    xs, rnds = tb.random_vectors(r, tbkit.num_samples(10000))
    await tb.run(xs, rnds)
    assert tb.sb.finish() == 0

@cocotb.test(expect_fail=True)
async def test_mutant(dut):
    tb = TB(dut, mutant=True)
    xs, rnds = tb.boundary_vectors()
    await tb.run(xs, rnds)
    assert tb.sb.finish() == 0


# ----------------------------------------------------------------------------- pytest side
# (IN_W, OUT_W, SHIFT, ROUND, OVERFLOW): every rounding mode and both overflow modes at least twice,
# at two widths; SHIFT 20 with IN_W 48, SHIFT 1, SHIFT 8 and a left shift (SHIFT -3).
BUILDS = [
    (48, 16, 20, 0, 0),
    (48, 16, 20, 1, 1),
    (48, 16, 20, 2, 0),
    (48, 16, 20, 3, 1),
    (24, 16, 1, 0, 1),
    (24, 16, 1, 2, 1),
    (24, 12, 8, 3, 0),
    (24, 12, 8, 1, 0),
    (16, 8, -3, 1, 0),
    (16, 10, -3, 0, 1),
]


@pytest.mark.parametrize("in_w,out_w,shift,rnd,ovf", BUILDS)
def test_requantize(in_w, out_w, shift, rnd, ovf):
    tbkit.run_sim("requantize", parameters={"IN_W": in_w, "OUT_W": out_w, "SHIFT": shift,
                                            "ROUND": rnd, "OVERFLOW": ovf})

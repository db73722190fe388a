"""cocotb testbench of rtl/requantize_unit.v against golden.requantize (+ golden.lfsr in stochastic mode).

The golden model sees the flattened stream of kept lanes: every accepted beat with k kept lanes is
requantize(lanes 0..k-1, SHIFT, Fmt(OUT_W, 0), ROUND, OVERFLOW, lfsr), one Lfsr(SEED) for the whole
stream (restarted on rst), so stochastic rounding is replayed exactly. The sticky flag is the OR of the
golden overflow flags of the beats accepted since rst / clear_i.

One clock loop drives and samples everything at the falling edge (inputs and registered outputs are
stable from there to the rising edge): s_valid follows a pause pattern and holds its beat until it
is accepted (AXI rule), m_ready follows another pattern; a beat moves when valid && ready.

  test_boundary   +-max, min of IN_W, exact +-0.5 LSB ties, values just outside the OUT_W range
  test_random     tbkit.num_samples(10000) random elements in beats of 0..LANES kept lanes
  test_handshake  idle insertion on s and back-pressure on m: (1in4, 1in4), (random, none),
                  (none, random), (random, random)
  test_reset      reset with beats in flight (output stalled), then check nothing stale comes out and
                  a fresh stream (LFSR back at SEED, sticky cleared) is correct
  test_clear      clear_i pulses between overflowing beats
  test_mutant     the random check against a broken golden model (wrong rounding, or the LFSR stream
                  off by one state in stochastic mode): must fail
"""
from __future__ import annotations

from collections import deque

import numpy as np
import pytest

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

import tbkit
from golden.lfsr import Lfsr
from golden.requantize import requantize
from golden.spec import Fmt

ROUND_NAMES = ("truncate", "half_up", "half_even", "stochastic")
OVF_NAMES = ("saturate", "wrap")


class TB:
    def __init__(self, dut, mutant: bool = False):
        self.dut = dut
        self.lanes = int(dut.LANES.value)
        self.in_w = int(dut.IN_W.value)
        self.out_w = int(dut.OUT_W.value)
        self.shift = dut.SHIFT.value.to_signed()
        self.round = ROUND_NAMES[int(dut.ROUND.value)]
        self.ovf = OVF_NAMES[int(dut.OVERFLOW.value)]
        self.seed = int(dut.SEED.value)
        self.fmt = Fmt(self.out_w, 0)
        self.mutant = mutant
        self.sb = tbkit.Scoreboard("requantize_unit", dut._log)
        self.sticky_errors = 0
        self.restart_model()
        dut._log.info("LANES=%d IN_W=%d OUT_W=%d SHIFT=%d ROUND=%s OVERFLOW=%s SEED=%#x", self.lanes,
                      self.in_w, self.out_w, self.shift, self.round, self.ovf, self.seed)
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        dut.rst.value = 0
        dut.clear_i.value = 0
        dut.s_valid_i.value = 0
        dut.s_data_i.value = 0
        dut.s_keep_i.value = 0
        dut.m_ready_i.value = 0

    # ------------------------------------------------------------------ golden side
    def restart_model(self):
        self.lfsr = Lfsr(self.seed)
        self.sticky = False
        rounding = self.round
        if self.mutant:
            if rounding == "stochastic":
                self.lfsr.take(1)  # off by one LFSR state
            elif self.shift > 0:
                rounding = {"truncate": "half_up", "half_up": "truncate", "half_even": "truncate"}[rounding]
        self.model_round = rounding

    def expect_beat(self, vals):
        """Queue the golden output of one accepted beat (vals = kept lanes); returns its overflow flag."""
        codes, flag = requantize(np.array(vals, dtype=np.int64), self.shift, self.fmt,
                                 self.model_round, self.ovf, self.lfsr)
        self.sb.expect((len(vals), [int(c) for c in codes]))
        return flag

    # ------------------------------------------------------------------ DUT side
    def read_out(self):
        keep = int(self.dut.m_keep_o.value)
        data = int(self.dut.m_data_o.value)
        k = bin(keep).count("1")
        assert keep == (1 << k) - 1, f"m_keep_o {keep:#x} not contiguous"
        return k, list(tbkit.unpack(data, self.out_w, k))

    async def reset(self, cycles=2):
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 1
        self.dut.s_valid_i.value = 0
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        self.sb.queue.clear()
        self.restart_model()

    async def run(self, beats, r, s_kind="none", m_kind="none", clear_at=(), stop_after=None):
        """Send `beats` (lists of kept-lane values) and check every output beat and the sticky flag.
        clear_at: cycle numbers with a clear_i pulse. stop_after: return after this many cycles with
        data still in flight (for the reset test)."""
        d = self.dut
        s_pause, m_pause = tbkit.pauses(s_kind, r), tbkit.pauses(m_kind, r)
        pending, cur = deque(beats), None
        cyc, idle = 0, 0
        while pending or cur is not None or self.sb.queue:
            await FallingEdge(d.clk)
            # sticky_o reflects every transfer and clear up to the rising edge just passed
            if int(d.sticky_o.value) != int(self.sticky):
                self.sticky_errors += 1
                d._log.error("sticky_o=%d expected %d at cycle %d", int(d.sticky_o.value), self.sticky, cyc)
            if stop_after is not None and cyc >= stop_after:
                return
            if cur is None and pending and not next(s_pause):
                cur = pending.popleft()
            if cur is not None:
                d.s_valid_i.value = 1
                d.s_data_i.value = tbkit.pack(cur + [r.getrandbits(self.in_w) - (1 << (self.in_w - 1))
                                                      for _ in range(self.lanes - len(cur))], self.in_w)
                d.s_keep_i.value = (1 << len(cur)) - 1
            else:
                d.s_valid_i.value = 0
            m_ready = not next(m_pause)
            d.m_ready_i.value = int(m_ready)
            clear = cyc in clear_at
            d.clear_i.value = int(clear)
            await Timer(1, "ns")  # let s_ready_o follow m_ready_i
            if int(d.m_valid_o.value) and m_ready:
                self.sb.check(self.read_out())
            flag = False
            if cur is not None and int(d.s_ready_o.value):
                flag = self.expect_beat(cur)
                cur = None
            # RTL: an overflowing beat sets the flag, else clear_i clears it
            if flag:
                self.sticky = True
            elif clear:
                self.sticky = False
            cyc += 1
            idle = idle + 1 if not int(d.m_valid_o.value) else 0
            assert idle < 100, "output stream stalled"
        d.s_valid_i.value = 0
        d.clear_i.value = 0

    def finish(self):
        return self.sb.finish() + self.sticky_errors

    # ------------------------------------------------------------------ vectors
    def random_value(self, r):
        in_w, s = self.in_w, self.shift
        hi = (1 << (in_w - 1)) - 1
        span = ((1 << (self.out_w - 1)) << s) if s > 0 else ((1 << (self.out_w - 1)) >> (-s))
        span = max(2, min(2 * span, hi))
        k = r.randrange(4)
        if k == 0:
            return r.randint(-hi - 1, hi)
        if k == 1 or s <= 0:
            return r.randint(-span, span)
        if k == 2:
            return min(hi, (r.randint(-span >> s, span >> s) << s) + (1 << (s - 1)))  # tie
        return r.randint(-span // 64 - 1, span // 64 + 1)  # in range: sticky stays low for a while

    def random_beats(self, r, n_elems):
        beats, n = [], 0
        while n < n_elems:
            k = r.randint(0, self.lanes) if r.random() < 0.1 else self.lanes
            k = min(k, n_elems - n) if n_elems - n > 0 else k
            beats.append([self.random_value(r) for _ in range(k)])
            n += k
        return beats

    def boundary_values(self):
        in_w, out_w, s = self.in_w, self.out_w, self.shift
        lo, hi = -(1 << (in_w - 1)), (1 << (in_w - 1)) - 1
        omin, omax = -(1 << (out_w - 1)), (1 << (out_w - 1)) - 1
        xs = [lo, lo + 1, hi, hi - 1, 0, 1, -1]
        if s > 0:
            half = 1 << (s - 1)
            for q in (0, 1, 2, -1, -2, omax, omax - 1, omax + 1, omin, omin + 1, omin - 1):
                for dd in (-1, 0, 1):
                    xs += [(q << s) + half + dd, (q << s) + dd]
        else:
            for q in (omax, omax + 1, omin, omin - 1):
                xs += [q >> (-s), (q >> (-s)) + 1, (q >> (-s)) - 1]
        return [x for x in xs if lo <= x <= hi]


async def check_random(dut, n, s_kind="none", m_kind="none", mutant=False):
    tb = TB(dut, mutant=mutant)
    r = tbkit.rng(dut._log)
    await tb.reset()
    await tb.run(tb.random_beats(r, n), r, s_kind, m_kind)
    assert tb.sb.checked > 0
    assert tb.finish() == 0


@cocotb.test()
async def test_boundary(dut):
    tb = TB(dut)
    r = tbkit.rng(dut._log)
    await tb.reset()
    vals = tb.boundary_values()
    await tb.run(tbkit.chunk(vals, tb.lanes) + tbkit.chunk(vals[::-1], max(1, tb.lanes - 1)), r)
    assert tb.finish() == 0


@cocotb.test()
async def test_random(dut):
    await check_random(dut, tbkit.num_samples(10000))


@cocotb.test()
@cocotb.parametrize(pattern=[("1in4", "1in4"), ("random", "none"), ("none", "random"), ("random", "random")])
async def test_handshake(dut, pattern):
    await check_random(dut, max(200, tbkit.num_samples(10000) // 8), *pattern)


@cocotb.test()
async def test_reset(dut):
    tb = TB(dut)
    r = tbkit.rng(dut._log)
    await tb.reset()
    for round_ in range(3):
        # stall the output so beats pile up, then reset in the middle
        await tb.run(tb.random_beats(r, 20 * tb.lanes), r, "random", "random", stop_after=r.randint(3, 30))
        await tb.reset(cycles=r.randint(1, 3))
        # nothing stale may come out, and a fresh stream is correct
        await tb.run(tb.random_beats(r, 10 * tb.lanes), r, "1in4", "random")
    assert tb.sb.checked > 0
    assert tb.finish() == 0


@cocotb.test()
async def test_clear(dut):
    tb = TB(dut)
    r = tbkit.rng(dut._log)
    await tb.reset()
    # mostly in-range beats, one in 8 with an overflowing lane, so the flag rises and falls
    omax = (1 << (tb.out_w - 1)) - 1
    lim = omax << tb.shift if tb.shift > 0 else omax >> (-tb.shift)
    beats = []
    for _ in range(40):
        beat = [r.randint(-lim, lim) for _ in range(r.randint(1, tb.lanes))]
        if r.random() < 0.125:
            beat[-1] = (1 << (tb.in_w - 1)) - 1
        beats.append(beat)
    await tb.run(beats, r, "random", "1in4", clear_at=set(r.sample(range(100), 30)))
    assert tb.finish() == 0


@cocotb.test(expect_fail=True)
async def test_mutant(dut):
    await check_random(dut, 400, mutant=True)


# ----------------------------------------------------------------------------- pytest side
# (LANES, IN_W, OUT_W, SHIFT, ROUND, OVERFLOW, SEED)
BUILDS = [
    (1, 48, 16, 20, 3, 0, 0xACE12468),
    (4, 48, 16, 20, 3, 1, 0x13579BDF),
    (4, 24, 12, 8, 1, 0, 0xACE12468),
    (1, 24, 12, 8, 2, 1, 0xACE12468),
    (4, 24, 12, 1, 0, 0, 0xACE12468),
]


@pytest.mark.parametrize("lanes,in_w,out_w,shift,rnd,ovf,seed", BUILDS)
def test_requantize_unit(lanes, in_w, out_w, shift, rnd, ovf, seed):
    tbkit.run_sim("requantize_unit", sources=["requantize_unit.v", "requantize.v", "lfsr.v"],
                  parameters={"LANES": lanes, "IN_W": in_w, "OUT_W": out_w, "SHIFT": shift,
                              "ROUND": rnd, "OVERFLOW": ovf, "SEED": f"32'h{seed:08X}"})

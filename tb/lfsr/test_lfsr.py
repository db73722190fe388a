"""cocotb testbench of rtl/lfsr.v against golden.lfsr.

Every cycle the TB picks an operation (idle, advance by a random count 1..LANES, reset, reseed, reseed
together with advance) and checks, at the clock edge that applies it:
  state   state_o == golden state, and every lane of next_o == Lfsr(state).take(LANES)
  stream  the lanes a consumer of k elements uses (0..k-1) == the next k states of golden Lfsr.take
          over the stream since the last reset / reseed (the contract of the stochastic units)

  test_random   tbkit.num_samples(10000) cycles of random counts, with an occasional reset or reseed
  test_reset    reset values: SEED after rst (also in the middle of an advance), rst wins over load,
                load wins over adv
  test_mutant   the random check with a golden stream that uses step^l instead of step^(l+1): must fail
"""
from __future__ import annotations

import pytest

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

import tbkit
from golden.lfsr import Lfsr


class TB:
    def __init__(self, dut, mutant: bool = False):
        self.dut = dut
        self.lanes = int(dut.LANES.value)
        self.seed = int(dut.SEED.value)
        self.mutant = mutant
        self.sb_state = tbkit.Scoreboard("lfsr_state", dut._log)
        self.sb_stream = tbkit.Scoreboard("lfsr_stream", dut._log)
        self.state = None          # golden current state (None until the first reset)
        self.stream = None         # golden element stream since the last reset / reseed
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        for s in (dut.rst, dut.load_i, dut.adv_i, dut.keep_i, dut.seed_i):
            s.value = 0

    def _restart(self, seed):
        self.state = seed
        self.stream = Lfsr(seed)
        if self.mutant:  # broken model: the first element uses the seed itself
            self.stream.state = self._prev(seed)

    @staticmethod
    def _prev(s):
        """Inverse of golden step (for the mutant only)."""
        from golden.lfsr import TAPS
        if s >> 31:
            t = s ^ TAPS
            return ((t << 1) | 1) & 0xFFFFFFFF
        return (s << 1) & 0xFFFFFFFF

    def lane(self, l):
        return (int(self.dut.next_o.value) >> (32 * l)) & 0xFFFFFFFF

    async def cycle(self, rst=0, load=0, seed=0, adv=0, count=0):
        """One clock: at the falling edge read the state and drive the inputs the next rising edge
        applies (everything is stable between the falling and the rising edge)."""
        d = self.dut
        await FallingEdge(d.clk)
        if self.state is not None:
            exp_next = [int(v) for v in Lfsr(self.state).take(self.lanes)]
            self.sb_state.expect((self.state, exp_next))
            self.sb_state.check((int(d.state_o.value), [self.lane(l) for l in range(self.lanes)]))
        d.rst.value, d.load_i.value, d.seed_i.value = rst, load, seed
        d.adv_i.value, d.keep_i.value = adv, (1 << count) - 1   # lanes 0..count-1 used
        if rst:
            self._restart(self.seed)
        elif load:
            self._restart(seed)
        elif adv and count and self.state is not None:
            for v in self.stream.take(count):
                self.sb_stream.expect(int(v))
            for l in range(count):
                self.sb_stream.check(self.lane(l))
            self.state = int(Lfsr(self.state).take(count)[-1])

    async def reset(self):
        """Power-on reset (the state is unknown before it)."""
        await self.cycle(rst=1)

    async def run_random(self, r, n):
        await self.reset()
        for _ in range(n):
            u = r.random()
            if u < 0.005:
                await self.cycle(rst=1, adv=1, count=r.randint(1, self.lanes))
            elif u < 0.01:
                await self.cycle(load=1, seed=r.randint(1, 2 ** 32 - 1), adv=r.randint(0, 1),
                                 count=r.randint(1, self.lanes))
            elif u < 0.2:
                await self.cycle(adv=0, count=r.randint(0, self.lanes))
            else:
                await self.cycle(adv=1, count=r.randint(1, self.lanes))
        await self.cycle()

    def finish(self):
        return self.sb_state.finish() + self.sb_stream.finish()


@cocotb.test()
async def test_random(dut):
    tb = TB(dut)
    r = tbkit.rng(dut._log)
    await tb.run_random(r, tbkit.num_samples(10000))
    assert tb.sb_stream.checked > 0
    assert tb.finish() == 0


@cocotb.test()
async def test_reset(dut):
    tb = TB(dut)
    await tb.reset()
    await tb.cycle()
    assert int(dut.state_o.value) == tb.seed
    for k in range(1, tb.lanes + 1):                       # every count once
        await tb.cycle(adv=1, count=k)
    await tb.cycle(rst=1, adv=1, count=tb.lanes)            # rst wins over adv
    await tb.cycle()
    assert int(dut.state_o.value) == tb.seed
    await tb.cycle(rst=1, load=1, seed=0x12345678)          # rst wins over load
    await tb.cycle()
    assert int(dut.state_o.value) == tb.seed
    await tb.cycle(load=1, seed=0x12345678, adv=1, count=1)  # load wins over adv
    await tb.cycle()
    assert int(dut.state_o.value) == 0x12345678
    await tb.cycle(adv=1, count=tb.lanes)
    await tb.cycle(adv=1, count=1)
    await tb.cycle(rst=1)
    await tb.cycle()
    assert tb.finish() == 0


@cocotb.test(expect_fail=True)
async def test_mutant(dut):
    tb = TB(dut, mutant=True)
    r = tbkit.rng(dut._log)
    await tb.run_random(r, 200)
    assert tb.finish() == 0


# ----------------------------------------------------------------------------- pytest side
@pytest.mark.parametrize("lanes,seed", [(1, 0xACE12468), (8, 0xACE12468), (8, 0x00000001), (32, 0xDEADBEEF)])
def test_lfsr(lanes, seed):
    tbkit.run_sim("lfsr", parameters={"LANES": lanes, "SEED": f"32'h{seed:08X}"})

"""cocotb testbench of rtl/relu.v against golden/relu.py (forward relu + mask, backward gate)."""
from __future__ import annotations

import types

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

import tbkit
from golden import relu as golden_relu


class TB:
    """Clock, reset, beat driver, output monitor and a scoreboard fed by the golden model."""

    def __init__(self, dut, model=golden_relu):
        self.dut = dut
        self.lanes = len(dut.m_mask_o)
        self.w = len(dut.s_z_i) // self.lanes
        self.model = model
        self.log = dut._log
        self.sb = tbkit.Scoreboard("relu", self.log)
        self.r = tbkit.rng(self.log)
        self.log.info("LANES=%d W=%d", self.lanes, self.w)
        dut.rst.value = 1              # held until reset() releases it
        dut.s_valid_i.value = 0
        dut.m_ready_i.value = 0
        dut.s_mode_i.value = 0
        dut.s_z_i.value = 0
        dut.s_delta_i.value = 0
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())

    @property
    def lo(self):
        return -(1 << (self.w - 1))

    @property
    def hi(self):
        return (1 << (self.w - 1)) - 1

    async def reset(self, cycles=2):
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 1
        self.dut.s_valid_i.value = 0
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        self.sb.queue.clear()          # whatever was in flight is gone

    # -------------------------------------------------------------- golden side
    def expected(self, mode, z, d):
        z = np.asarray(z, dtype=np.int64)
        d = np.asarray(d, dtype=np.int64)
        data = self.model.relu(z) if mode == 0 else self.model.back(d, z)
        mask = self.model.mask(z)
        return (mode, tuple(int(v) for v in data), sum(int(b) << i for i, b in enumerate(mask)))

    def pack(self, vals):
        return sum(tbkit.to_unsigned(int(v), self.w) << (i * self.w) for i, v in enumerate(vals))

    def read(self):
        dut = self.dut
        raw = int(dut.m_data_o.value)
        data = tuple(tbkit.to_signed(raw >> (i * self.w), self.w) for i in range(self.lanes))
        return (int(dut.m_mode_o.value), data, int(dut.m_mask_o.value))

    # -------------------------------------------------------------- stimulus
    def rand_code(self):
        r = self.r
        if r.random() < 0.2:
            return r.choice([0, 1, -1, 2, -2, self.hi, self.lo, self.hi - 1, self.lo + 1])
        return r.randint(self.lo, self.hi)

    def random_beats(self, n):
        return [(self.r.randint(0, 1), [self.rand_code() for _ in range(self.lanes)],
                 [self.rand_code() for _ in range(self.lanes)]) for _ in range(n)]

    def boundary_beats(self):
        """Every (mode, z, delta) over z at 0, +-1 LSB, +-2, +-max, min; delta at 0, +-1, max, min."""
        zs = [0, -1, 1, 2, -2, self.hi, self.lo, -self.hi]
        ds = [0, -1, 1, self.hi, self.lo]
        cases = [(m, z, d) for m in (0, 1) for z in zs for d in ds]
        beats = []
        for i in range(0, len(cases), self.lanes):
            chunk = cases[i:i + self.lanes]
            chunk += cases[:self.lanes - len(chunk)]   # pad the last beat
            for m in (0, 1):                            # every lane sees both modes
                beats.append((m, [c[1] for c in chunk], [c[2] for c in chunk]))
        return beats

    # -------------------------------------------------------------- drivers
    # Inputs are written at the falling edge and sampled in the ReadOnly phase that follows, so the
    # handshake seen there is the one the next rising edge acts on (no race with the DUT's registers).
    async def drive(self, beats, kind="none"):
        """Send beats; a beat is expected when it is accepted."""
        dut = self.dut
        pause = tbkit.pauses(kind, self.r)
        for mode, z, d in beats:
            await FallingEdge(dut.clk)
            while next(pause):
                dut.s_valid_i.value = 0
                await FallingEdge(dut.clk)
            dut.s_mode_i.value = mode
            dut.s_z_i.value = self.pack(z)
            dut.s_delta_i.value = self.pack(d)
            dut.s_valid_i.value = 1
            await ReadOnly()
            while not int(dut.s_ready_o.value):
                await FallingEdge(dut.clk)
                await ReadOnly()
            self.sb.expect(self.expected(mode, z, d))
        await FallingEdge(dut.clk)
        dut.s_valid_i.value = 0

    async def monitor(self, kind="none"):
        dut = self.dut
        pause = tbkit.pauses(kind, self.r)
        while True:
            await FallingEdge(dut.clk)
            dut.m_ready_i.value = 0 if next(pause) else 1
            await ReadOnly()
            if int(dut.rst.value):
                continue
            if int(dut.m_valid_o.value) and int(dut.m_ready_i.value):
                self.sb.check(self.read())

    async def drain(self, limit=200):
        for _ in range(limit):
            if not self.sb.queue:
                break
            await RisingEdge(self.dut.clk)
        await ClockCycles(self.dut.clk, 5)   # anything extra would show up as unexpected


# idle insertion (s side) x back-pressure (m side); Param names keep the test names readable
PAUSES = [cocotb.Param(k, name={"1in4": "one_in_4"}.get(k, k)) for k in tbkit.PAUSE_KINDS]


async def run(tb, beats, s_kind="none", m_kind="none"):
    cocotb.start_soon(tb.monitor(m_kind))
    await tb.reset()
    await tb.drive(beats, s_kind)
    await tb.drain()
    assert tb.sb.finish() == 0


@cocotb.test()
@cocotb.parametrize(s_kind=PAUSES, m_kind=PAUSES)
async def random_vectors(dut, s_kind, m_kind):
    """num_samples random beats (mixed modes) for each idle/back-pressure pattern pair."""
    tb = TB(dut)
    n = tbkit.num_samples(10000) if (s_kind, m_kind) == ("none", "none") else \
        max(tbkit.num_samples(10000) // 8, 50)
    await run(tb, tb.random_beats(n), s_kind, m_kind)


@cocotb.test()
async def boundary_vectors(dut):
    """ReLU at 0, -1 LSB, +1 LSB, +-max, min in both modes with all delta edges."""
    tb = TB(dut)
    await run(tb, tb.boundary_beats())


@cocotb.test()
async def reset_in_flight(dut):
    """Reset with beats in flight and back-pressure; nothing stale afterwards, then it works again."""
    tb = TB(dut)
    cocotb.start_soon(tb.monitor("random"))
    await tb.reset()
    for _ in range(3):
        task = cocotb.start_soon(tb.drive(tb.random_beats(40), "random"))
        await ClockCycles(dut.clk, tb.r.randint(5, 30))
        task.cancel()
        await tb.reset(tb.r.randint(1, 3))
        assert int(dut.m_valid_o.value) == 0
    await tb.drive(tb.random_beats(100), "1in4")
    await tb.drain()
    assert tb.sb.finish() == 0


def _mutant_back(delta, z):
    delta = np.asarray(delta)
    return np.where(np.asarray(z) >= 0, delta, 0).astype(delta.dtype)   # wrong: ReLU'(0) = 1


@cocotb.test(expect_fail=True)
async def mutant_model(dut):
    """The scoreboard must catch a golden model with ReLU'(0) = 1 in the backward gate."""
    tb = TB(dut, model=types.SimpleNamespace(relu=golden_relu.relu, mask=golden_relu.mask,
                                             back=_mutant_back))
    await run(tb, tb.boundary_beats())


# ------------------------------------------------------------------------- pytest entry
@pytest.mark.parametrize("lanes", [1, 4])
@pytest.mark.parametrize("w", [16, 12])
def test_relu(w, lanes):
    tbkit.run_sim("relu", parameters={"LANES": lanes, "W": w})

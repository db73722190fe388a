"""cocotb testbench of rtl/banked_mem.v against golden/banked_mem.py (banked element memory).

Cycle-accurate: every clock the driver applies one (read, write, rst) triple to the DUT and to
BankedMem.cycle (read-before-write), and queues the expected lanes together with the cycle they are
due (issue cycle + LATENCY), so the scoreboard checks data, order and the fixed latency at once.
The monitor also checks that rd_data_o is 0 (and never X) while rd_valid_o is low.
"""
from __future__ import annotations

import os

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

import tbkit
from golden import banked_mem as golden_bm

LATENCY = 2          # rd_en_i to rd_valid_o / rd_data_o


class TB:
    """Clock, a per-cycle driver (read port, write port, rst), a monitor and the scoreboard."""

    def __init__(self, dut, model_cls=golden_bm.BankedMem):
        self.dut = dut
        self.p = int(os.environ["BM_P"])
        self.depth = int(os.environ["BM_DEPTH"])
        self.w = len(dut.rd_data_o) // self.p
        self.model = model_cls(self.p, self.depth, self.w)
        assert len(dut.rd_addr_i) == self.model.addr_w and len(dut.rd_count_i) == self.model.cnt_w
        self.log = dut._log
        self.sb = tbkit.Scoreboard("banked_mem", self.log)
        self.r = tbkit.rng(self.log)
        self.log.info("P=%d W=%d DEPTH=%d ADDR_W=%d", self.p, self.w, self.depth, self.model.addr_w)
        self.now = 0                   # rising edges so far
        self.idle_errors = 0           # rd_data_o != 0 while rd_valid_o is low
        self.started = False
        self.collisions = 0            # same-cycle read/write overlaps driven
        self.dropped = 0               # expected reads dropped by a reset
        self.rst_edges = set()         # rising edges that sample rst high
        self.rst_errors = 0            # rd_valid_o / rd_data_o not cleared after a reset edge
        dut.rst.value = 1
        self._idle()
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        cocotb.start_soon(self._count())

    @property
    def n_elem(self):
        return self.p * self.depth

    @property
    def addr_space(self):
        return 1 << self.model.addr_w

    @property
    def max_count(self):
        return (1 << self.model.cnt_w) - 1

    def _idle(self):
        dut = self.dut
        dut.rd_en_i.value = 0
        dut.rd_addr_i.value = 0
        dut.rd_mode_i.value = 0
        dut.rd_count_i.value = 0
        dut.wr_en_i.value = 0
        dut.wr_addr_i.value = 0
        dut.wr_count_i.value = 0
        dut.wr_data_i.value = 0

    async def _count(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.now += 1

    # -------------------------------------------------------------- driver
    async def apply(self, ops):
        """ops: iterable of (rd, wr, rst), one per cycle; rd = (e, mode, count), wr = (e, data, count)."""
        dut = self.dut
        for rd, wr, rst in ops:
            await FallingEdge(dut.clk)
            dut.rst.value = 1 if rst else 0
            if rst:   # reads still in the pipeline when this edge resets it are dropped
                keep = [x for x in self.sb.queue if x[0] <= self.now]
                self.dropped += len(self.sb.queue) - len(keep)
                self.sb.queue.clear()
                self.sb.queue.extend(keep)
                self.rst_edges.add(self.now + 1)
            dut.rd_en_i.value = 1 if rd else 0
            if rd:
                e, mode, count = rd
                dut.rd_addr_i.value = e
                dut.rd_mode_i.value = mode
                dut.rd_count_i.value = count
            dut.wr_en_i.value = 1 if wr else 0
            if wr:
                e, data, count = wr
                dut.wr_addr_i.value = e
                dut.wr_data_i.value = tbkit.pack(data, self.w)
                dut.wr_count_i.value = count
                if rd and ((rd[0] - e) % self.addr_space < self.p or (e - rd[0]) % self.addr_space < self.p):
                    self.collisions += 1
            got = self.model.cycle(rd, wr)
            if rd and not rst:
                self.sb.expect((self.now + LATENCY, tuple(int(v) for v in got)))
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        self._idle()

    async def reset(self, cycles=2):
        await self.apply([(None, None, True)] * cycles)
        self.started = True

    # -------------------------------------------------------------- monitor
    def read_lanes(self):
        raw = int(self.dut.rd_data_o.value)          # raises on X/Z
        mask = (1 << self.w) - 1
        return tuple((raw >> (l * self.w)) & mask for l in range(self.p))

    async def monitor(self):
        dut = self.dut
        while True:
            await FallingEdge(dut.clk)
            await ReadOnly()
            if not self.started:
                continue
            lanes = self.read_lanes()
            if self.now in self.rst_edges and (int(dut.rd_valid_o.value) or any(lanes)):
                self.rst_errors += 1
                self.log.error("rd_valid_o/rd_data_o not cleared after the reset edge of cycle %d", self.now)
            if int(dut.rd_valid_o.value):
                self.sb.check((self.now, lanes))
            elif any(lanes):
                self.idle_errors += 1
                if self.idle_errors <= 5:
                    self.log.error("rd_data_o = %r while rd_valid_o is low (cycle %d)", lanes, self.now)

    async def drain(self):
        await ClockCycles(self.dut.clk, LATENCY + 4)   # anything extra shows up as unexpected

    def finish(self):
        errors = self.sb.finish()
        assert self.idle_errors == 0, f"{self.idle_errors} cycles with data while rd_valid_o low"
        assert self.rst_errors == 0, f"{self.rst_errors} reset edges did not clear the read pipeline"
        return errors

    # -------------------------------------------------------------- stimulus
    def rand_data(self):
        r, w = self.r, self.w
        if r.random() < 0.15:
            return [r.choice([0, 1, (1 << w) - 1, 1 << (w - 1), (1 << (w - 1)) - 1]) for _ in range(self.p)]
        return [r.getrandbits(w) for _ in range(self.p)]

    def rand_addr(self):
        r, p = self.r, self.p
        x = r.random()
        if x < 0.12:                                   # first row, any offset
            return r.randrange(p)
        if x < 0.24:                                   # last row, any offset (runs past the end)
            return self.n_elem - p + r.randrange(p)
        if x < 0.30:                                   # the last element
            return self.n_elem - 1
        if x < 0.34 and self.addr_space > self.n_elem:  # beyond P*DEPTH (non power-of-two DEPTH)
            return r.randrange(self.n_elem, self.addr_space)
        return r.randrange(self.n_elem)

    def rand_count(self):
        r = self.r
        x = r.random()
        if x < 0.45:
            return self.p
        if x < 0.50:
            return r.randint(self.p, self.max_count)   # counts above P read/write all lanes
        return r.randint(0, self.p)

    def rand_mode(self):
        return self.r.choice([0, 0, 1, 2, 2, 3] if self.r.random() < 0.1 else [0, 1, 2])

    def random_ops(self, n, kind="none"):
        """n requests (each a read, a write or both), with idle cycles per tbkit.pauses(kind)."""
        r, ops = self.r, []
        pause = tbkit.pauses(kind, r)
        done = 0
        while done < n:
            if next(pause):
                ops.append((None, None, False))
                continue
            x = r.random()
            rd = wr = None
            if x < 0.75:
                rd = (self.rand_addr(), self.rand_mode(), self.rand_count())
            if x > 0.35:
                wr = (self.rand_addr(), self.rand_data(), self.rand_count())
                if rd and r.random() < 0.15:            # overlap the read with the write
                    rd = ((wr[0] + r.randint(-self.p + 1, self.p - 1)) % self.addr_space,) + rd[1:]
            ops.append((rd, wr, False))
            done += 1
        return ops

    def fill_ops(self):
        """Write every element with random data (aligned full vectors)."""
        return [(None, (e, self.rand_data(), self.p), False) for e in range(0, self.n_elem, self.p)]


async def start(tb):
    cocotb.start_soon(tb.monitor())
    await tb.reset()


# idle-insertion patterns between requests (no valid/ready ports here, so no back-pressure)
IDLE = [cocotb.Param(k, name={"1in4": "one_in_4"}.get(k, k)) for k in tbkit.PAUSE_KINDS]


@cocotb.test()
@cocotb.parametrize(kind=IDLE)
async def random_ops(dut, kind):
    """Random interleaved reads (all modes, counts 0..P and above) and unaligned writes, boundary rows,
    same-cycle overlaps; num_samples requests back to back, a quarter of that with idle cycles."""
    tb = TB(dut)
    n = tbkit.num_samples(10000) if kind == "none" else max(tbkit.num_samples(10000) // 4, 100)
    await start(tb)
    await tb.apply(tb.fill_ops() + tb.random_ops(n, kind))
    await tb.drain()
    tb.log.info("same-cycle read/write overlaps driven: %d", tb.collisions)
    assert tb.finish() == 0


@cocotb.test()
async def boundary_sweep(dut):
    """Every offset of the first row, the last row and the last elements: write with every count
    0..P (and above P), read back in every mode with every count."""
    tb = TB(dut)
    await start(tb)
    p, ops = tb.p, tb.fill_ops()
    starts = sorted({*range(p), *range(tb.n_elem - p, tb.n_elem), tb.n_elem - 1})
    for e in starts:
        for wc in list(range(p + 1)) + [tb.max_count]:
            ops.append((None, (e, tb.rand_data(), wc), False))
            for mode in (0, 1, 2, 3):
                for rc in range(p + 1):
                    ops.append(((e, mode, rc), None, False))
            ops.append(((e, 0, tb.max_count), None, False))
    await tb.apply(ops)
    await tb.drain()
    assert tb.finish() == 0


@cocotb.test()
async def read_during_write(dut):
    """Read and write of the same elements at the same edge: the read returns the old data; the read
    one cycle later returns the new data. Many write offsets, reads at overlapping offsets, all modes."""
    tb = TB(dut)
    await start(tb)
    await tb.apply(tb.fill_ops())
    p, r, ops = tb.p, tb.r, []
    scratch = golden_bm.BankedMem(p, tb.depth, tb.w)   # tracks the state while the ops are built
    scratch.mem[:] = tb.model.mem
    changed = 0
    for e in list(range(2 * p)) + [tb.n_elem - 1 - k for k in range(p)]:
        for d in sorted({0, p - 1, r.randrange(p)}):
            for mode in (0, 1, 2):
                re = (e + d) % tb.addr_space
                new = [v ^ ((1 << tb.w) - 1) for v in scratch.read(e, 0, p)]   # differs everywhere
                ops.append(((re, mode, p), (e, new, p), False))   # same edge: old data
                ops.append(((re, mode, p), None, False))           # next cycle: new data
                old = scratch.read(re, mode, p)
                scratch.write(e, new, p)
                changed += int((old != scratch.read(re, mode, p)).any())
    assert changed > 0                      # the collisions matter: old and new views differ
    await tb.apply(ops)
    await tb.drain()
    tb.log.info("same-edge collisions where old != new data: %d", changed)
    assert tb.finish() == 0


@cocotb.test()
async def reset_in_flight(dut):
    """Assert rst while reads are in flight: rd_valid_o drops after the first reset edge, nothing stale
    comes out, the memory keeps its contents (writes during reset still land) and reads work again."""
    tb = TB(dut)
    await start(tb)
    ops = tb.fill_ops()
    for _ in range(12):
        ops += [((tb.rand_addr(), tb.rand_mode(), tb.rand_count()), None, False)
                for _ in range(tb.r.randint(1, 4))]
        # reset while those reads are in the pipeline; reads and writes keep coming during reset
        ops += [((tb.rand_addr(), 0, tb.p), (tb.rand_addr(), tb.rand_data(), tb.rand_count()), True)
                for _ in range(tb.r.randint(1, 3))]
        ops += tb.random_ops(tb.r.randint(1, 20), "random")
    await tb.apply(ops)
    await tb.drain()
    tb.log.info("reads dropped in flight: %d", tb.dropped)
    assert tb.dropped > 0
    assert tb.finish() == 0


class _MutantMem(golden_bm.BankedMem):
    """Off-by-one count: lane l == count reads too."""

    def read(self, e, mode=0, count=None):
        return super().read(e, mode, None if count is None else count + 1)


@cocotb.test(expect_fail=True)
async def mutant_model(dut):
    """The scoreboard must catch a golden model with an off-by-one read count."""
    tb = TB(dut, model_cls=_MutantMem)
    await start(tb)
    await tb.apply(tb.fill_ops() + tb.random_ops(300))
    await tb.drain()
    assert tb.finish() == 0


# ------------------------------------------------------------------------- pytest entry
# (P, W, DEPTH): small depths so random traffic hits the boundary rows and collides; DEPTH 12 and 20
# are not powers of two (rows past DEPTH read 0 / drop writes), 16 wraps modulo P*DEPTH.
CONFIGS = [(1, 16, 16), (1, 24, 12), (4, 24, 20), (8, 16, 16), (8, 24, 16)]


@pytest.mark.parametrize("p,w,depth", CONFIGS)
def test_banked_mem(p, w, depth):
    tbkit.run_sim("banked_mem", parameters={"P": p, "W": w, "DEPTH": depth},
                  extra_env={"BM_P": str(p), "BM_DEPTH": str(depth)})

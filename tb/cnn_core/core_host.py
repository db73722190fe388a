"""cocotb host driver of the training core (tb/cnn_core/cnn_core_tb.v): what a host CPU does with it,
plus the bookkeeping that checks it.

CoreHost owns
  * an AXI4-Lite master (cocotbext-axi AxiLiteMaster): registers, descriptor table, weight window;
  * an AXI4-Stream source for the samples and a sink for the result packets (cocotbext-axi, one beat
    per list element: byte_lanes=1);
  * the golden model (core_replay.GoldenCore, advanced exactly like the core) and the log checker
    (core_replay.Checker), fed from the wrapper's log file;
  * a "core_bus" scoreboard for every bus response and every value read back.

The core's ports are named <prefix>_<signal>_i / _o; cocotbext-axi looks for <prefix>_<signal>, so the
buses are built with a name map (`suffixed_bus`, the approach of tb/axil_regs). The bus objects get the
prefix as their name, so cocotbext-axi logs under cocotb.cnn_core_tb.s_axil / s_axis / m_axis (set to
WARNING here: they print every frame at INFO).

Speed (what runs in Python per clock): cocotbext-axi 0.1.28 is event driven when idle. A source
(StreamSource for AW / W / AR, AxiStreamSource) runs a coroutine every rising edge only while it has
something queued or a beat is waiting for ready; with an empty queue it blocks on an Event. A sink
(B / R channels, AxiStreamSink) runs every edge only while valid is high or it is paused; otherwise it
blocks on an Event woken by RisingEdge(valid) / RisingEdge(ready) triggers (no polling). The
exception is a pause generator (set_pause_generator): its coroutine steps on every rising edge for as
long as it is installed, so CoreHost installs the result stream's per step and the sample stream's
per frame (while the frame is sent), and removes them afterwards. Reset is
watched with Edge(rst) (no polling). So, without pauses, a training step costs Python work only for
the sample beats, the result beats, a STATUS poll every `poll` cycles and the log parsing at the end;
waiting for the end of a step is one First(RisingEdge(step_done), Timer) per poll interval.
To keep the source from sitting on a beat (which would make it run every cycle) while the core
computes, the next sample of a mini-batch is queued only on RisingEdge(s_axis_tready_o) or
RisingEdge(sample_v) of the previous sample, whichever comes first (a core may wait for
tvalid before raising tready, so tready alone is not a safe condition).
Measured (Icarus 11, rtl/cnn_core.v of commit 56631b6): the simulator itself dominates, about 1,500
core cycles per second; of net A's weight load (18,002 words in pipelined bursts of 256, ~3 cycles
per write, ~35 s) about a third is Python in the AW / W / B channels; of a training step of net A at
P = 8 (~15,000 cycles, ~10 s) the Python share (785 input beats, 12 result beats, STATUS polls, golden
model, log replay of ~10,000 lines) is under 2 s.
"""
from __future__ import annotations

import logging
import os
import warnings

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer
from cocotb.utils import get_sim_time
from cocotbext.axi import (AxiLiteBus, AxiLiteMaster, AxiStreamBus, AxiStreamFrame, AxiStreamSink,
                           AxiStreamSource)
from cocotbext.axi.axil_channels import (AxiLiteARBus, AxiLiteAWBus, AxiLiteBBus, AxiLiteRBus,
                                         AxiLiteWBus)

import core_replay as R
import tbkit
from golden import axil_regs as G
from golden import isa
from golden import cycle_model
from golden.fixed_model import FixedNet

ST_BUSY, ST_DONE, ST_ERROR = 1 << G.ST_BUSY, 1 << G.ST_DONE, 1 << G.ST_ERROR
ST_CODE = 0xFF << G.ST_CODE_LSB
ST_MASK = ST_BUSY | ST_DONE | ST_ERROR | ST_CODE      # bits the checks look at (not ovf / rejected)
CTRL_START, CTRL_TRAIN, CTRL_CLEAR, CTRL_SEED = (1 << isa.CTRL_BITS[n] for n in ("START", "MODE", "CLEAR", "SEED_LOAD"))
BURST = 256                                            # words per pipelined AXI-Lite command

# cocotbext-axi 0.1.28 on cocotb 2.1: Task.kill() and Event.data deprecation warnings, one per use
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.axi")


def suffixed_bus(cls, dut, prefix: str, outputs):
    """A cocotb-bus Bus of class `cls` for ports named <prefix>_<signal>_i / _o (outputs: the signals
    that are DUT outputs). The bus is named `prefix` (cocotbext-axi logs under it)."""
    def names(sigs):
        out = {}
        for s in sigs:
            suffix = f"{s}_{'o' if s in outputs else 'i'}"
            if hasattr(dut, f"{prefix}_{suffix}"):
                out[s] = suffix
        return out
    sub = type(cls.__name__ + "Suffixed", (cls,),
               {"_signals": names(cls._signals), "_optional_signals": names(cls._optional_signals)})
    return sub(dut, prefix)


def axil_bus(dut, prefix: str = "s_axil") -> AxiLiteBus:
    outs = {"awready", "wready", "bresp", "bvalid", "rdata", "rresp", "rvalid", "arready"}
    return AxiLiteBus.from_channels(*(suffixed_bus(c, dut, prefix, outs) for c in
                                      (AxiLiteAWBus, AxiLiteWBus, AxiLiteBBus, AxiLiteARBus, AxiLiteRBus)))


def _signed32(v: int) -> int:
    return v - (1 << 32) if v >> 31 else v


def start_clock(dut, period_ns: int):
    """Under Verilator (TB_SIM=verilator, set by tbkit.run_sim) the wrapper's `clk` is an input: drive
    it from cocotb (one Clock per cocotb test: cocotb ends a test's tasks with it). Under Icarus the
    wrapper makes the clock itself; -> None.
    The clock is cocotb's GPI clock (C++, impl="gpi"): with COCOTB_TRUST_INERTIAL_WRITES=0 cocotb
    would pick its Python clock, a coroutine per edge that made the whole run ~3x slower (measured:
    25,000 against 79,000 core cycles/s, net A P = 8, every check bit-exact with both).
    TB_CLOCK_IMPL=py selects the Python one."""
    if os.environ.get("TB_SIM", "icarus") != "verilator":
        return None
    from cocotb.clock import Clock

    clock = Clock(dut.clk, period_ns, unit="ns", impl=os.environ.get("TB_CLOCK_IMPL", "gpi"))
    clock.start(start_high=False)
    return clock


class CoreHung(AssertionError):
    """The core neither finished nor reported an error within the cycle budget (the test stops)."""


class CoreHost:
    """Host of one test: drivers, golden model, checker (see the module docstring)."""

    def __init__(self, dut, net, params, *, model_cls=FixedNet, log=None, record: bool = True,
                 r=None, log_path: str | None = None):
        self.dut = dut
        self.log = log or logging.getLogger("cocotb.tb.core")
        self.r = r or tbkit.rng(self.log)
        p = lambda n: int(getattr(dut, n).value)       # noqa: E731
        self.P, self.amem_depth, self.wmem_depth = p("P"), p("AMEM_DEPTH"), p("WMEM_DEPTH")
        self.max_layers, self.max_classes = p("MAX_LAYERS"), p("MAX_CLASSES")
        self.period = 2 * p("CLK_HALF_NS")
        self.net = net
        self.golden = R.GoldenCore(net, params, model_cls)
        self.prog = self.golden.prog
        self.lr = R.lr_code(net)                         # the true code, whatever the golden model is
        self.seed = net.fmt.lfsr_seed
        self.checker = R.Checker(net, self.P, self.amem_depth, self.wmem_depth, self.log, record)
        self.bus = R.VecBoard("core_bus", self.log, record=record)
        self.log_path = log_path or cocotb.plusargs.get("CORE_LOG", "core_log.txt")
        self.reader = None            # created at the first reset: the wrapper opens the log at time 0
        for name in ("s_axil", "s_axis", "m_axis"):
            logging.getLogger(f"cocotb.{dut._name}.{name}").setLevel(logging.WARNING)
        self.master = AxiLiteMaster(axil_bus(dut), dut.clk, dut.rst)
        self.source = AxiStreamSource(suffixed_bus(AxiStreamBus, dut, "s_axis", {"tready"}), dut.clk, dut.rst,
                                      byte_lanes=1)
        self.sink = AxiStreamSink(suffixed_bus(AxiStreamBus, dut, "m_axis", {"tdata", "tvalid", "tlast"}),
                                  dut.clk, dut.rst, byte_lanes=1)
        self.pause_kinds = ("none", "none")              # (sample stream, result stream)
        self._source_pauses = None                       # the sample stream's pattern of this step
        self.steps_run = 0
        self.clock = start_clock(dut, self.period)

    # -------------------------------------------------------------- clock / reset
    async def reset(self, cycles: int = 4):
        d = self.dut
        await FallingEdge(d.clk)
        d.rst.value = 1
        for _ in range(cycles):
            await FallingEdge(d.clk)
        d.rst.value = 0
        await FallingEdge(d.clk)
        if self.reader is None:       # from here on: what this test's core does (earlier tests skipped)
            self.reader = R.LogReader(self.log_path, from_end=True)

    async def cycles(self, n: int):
        """Wait n clock periods with one timer (no per-cycle Python)."""
        await Timer(n * self.period, unit="ns")
        await FallingEdge(self.dut.clk)

    # -------------------------------------------------------------- AXI-Lite
    async def write(self, addr: int, value: int) -> int:
        r = await self.master.write(addr, (int(value) & 0xFFFFFFFF).to_bytes(4, "little"))
        return int(r.resp)

    async def read(self, addr: int):
        """-> (resp, 32-bit data)"""
        r = await self.master.read(addr, 4)
        return int(r.resp), int.from_bytes(r.data, "little")

    async def write_ok(self, addr: int, value: int, what: str):
        resp = await self.write(addr, value)
        self.bus.check_value(f"write {what} (0x{addr:05x} <- 0x{int(value) & 0xFFFFFFFF:08x}) response",
                             resp, G.OKAY)

    async def read_expect(self, addr: int, exp: int, what: str):
        resp, v = await self.read(addr)
        self.bus.check_value(f"read {what} (0x{addr:05x}) response", resp, G.OKAY)
        self.bus.check_value(f"read {what} (0x{addr:05x})", v, exp & 0xFFFFFFFF)
        return v

    async def write_burst(self, addr: int, words, what: str):
        """Consecutive words in pipelined commands of BURST words (one B response each checked)."""
        words = [int(w) & 0xFFFFFFFF for w in words]
        for s in range(0, len(words), BURST):
            part = words[s:s + BURST]
            r = await self.master.write(addr + 4 * s, b"".join(w.to_bytes(4, "little") for w in part))
            self.bus.check_value(f"write {what} words {s}..{s + len(part) - 1} response", int(r.resp), G.OKAY)

    async def read_burst(self, addr: int, n: int, what: str) -> list:
        out = []
        for s in range(0, n, BURST):
            k = min(BURST, n - s)
            r = await self.master.read(addr + 4 * s, 4 * k)
            self.bus.check_value(f"read {what} words {s}..{s + k - 1} response", int(r.resp), G.OKAY)
            out += [int.from_bytes(r.data[4 * j:4 * j + 4], "little") for j in range(k)]
        return out

    async def status(self) -> int:
        return (await self.read(G.STATUS))[1]

    # -------------------------------------------------------------- programming
    async def program(self, words=None, num_layers=None, head=None, batch: int = 1, lr=None,
                      seed=None, reload: bool = True):
        """Descriptor table, NUM_LAYERS, HEAD, LR, BATCH, SEED and (reload) the seed-reload pulse; the
        golden LFSR is re-seeded with the same value."""
        words = self.prog.words if words is None else words
        await self.write_burst(G.DESC_BASE, words, "descriptor table")
        nl = len(self.net.layers) if num_layers is None else num_layers
        await self.write_ok(G.NUM_LAYERS, nl, "NUM_LAYERS")
        await self.write_ok(G.HEAD, self.prog.head if head is None else head, "HEAD")
        await self.write_ok(G.LR, self.lr if lr is None else lr, "LR")
        await self.write_ok(G.BATCH, batch, "BATCH")
        seed = self.seed if seed is None else seed
        await self.write_ok(G.SEED, seed, "SEED")
        if reload:
            await self.write_ok(G.CTRL, CTRL_SEED, "CTRL seed reload")
            self.golden.reseed(seed)

    async def load_weights(self, flat=None):
        """Every weight through the window (golden values unless `flat` is given); the checker's WMEM
        shadow takes them."""
        flat = self.golden.wmem() if flat is None else np.asarray(flat, dtype=np.int64)
        await self.write_burst(G.WMEM_BASE, flat, "weights")
        self.checker.set_wmem(0, flat)

    async def check_weights(self, elements=None, what: str = "weight readback"):
        """Read weights back through the window (all of them, or `elements`), against the golden values;
        contiguous runs are read in pipelined bursts."""
        exp = self.golden.wmem()
        elements = sorted(range(exp.size) if elements is None else set(int(e) for e in elements))
        got, runs, k = {}, [], 0
        while k < len(elements):
            j = k
            while j + 1 < len(elements) and elements[j + 1] == elements[j] + 1:
                j += 1
            runs.append((elements[k], j - k + 1))
            k = j + 1
        for e0, n in runs:
            vals = await self.read_burst(G.WMEM_BASE + 4 * e0, n, what)
            for j, v in enumerate(vals):
                got[e0 + j] = _signed32(v)
        self.bus.compare(what, [got[e] for e in elements], [int(exp[e]) for e in elements])
        return len(elements)

    # -------------------------------------------------------------- streams
    def set_pauses(self, samples: str = "none", results: str = "none"):
        """tbkit.pauses kinds for the sample stream (idle cycles) and the result stream (back-pressure),
        installed for the duration of every following step."""
        self.pause_kinds = (samples, results)

    def _install_pauses(self):
        """The result stream's back-pressure for the whole step; the sample stream's idle pattern is
        made here and installed by `feed` only while a frame is being sent (a pause generator steps
        in Python on every rising edge, and the source has nothing to send between frames)."""
        s, m = self.pause_kinds
        self._source_pauses = tbkit.pauses(s, self.r) if s != "none" else None
        if m != "none":
            self.sink.set_pause_generator(tbkit.pauses(m, self.r))

    def _remove_pauses(self):
        for ch in (self.source, self.sink):
            ch.clear_pause_generator()
            ch.pause = False

    async def feed(self, frames):
        """Send sample frames one after the other; the next one is queued when the core raises tready
        again or reports the previous sample done (module docstring)."""
        d = self.dut
        for k, beats in enumerate(frames):
            if k:
                await First(RisingEdge(d.s_axis_tready_o), RisingEdge(d.sample_v))
            gen = self._source_pauses
            if gen is not None:
                self.source.set_pause_generator(gen)        # the same pattern continues frame to frame
            await self.source.send(AxiStreamFrame(list(beats)))
            await self.source.wait()
            if gen is not None:
                self.source.clear_pause_generator()
                self.source.pause = False

    async def collect(self, n: int, timeout_cycles: int = 2000) -> list:
        """Up to n result packets (lists of 32-bit beats), waiting at most timeout_cycles for each."""
        out = []
        while len(out) < n:
            if self.sink.empty():
                await self.sink.wait(timeout_cycles * self.period, "ns")
                if self.sink.empty():
                    break
            out.append([int(v) for v in self.sink.recv_nowait().tdata])
        return out

    def drain_results(self) -> list:
        out = []
        while not self.sink.empty():
            out.append([int(v) for v in self.sink.recv_nowait().tdata])
        return out

    # -------------------------------------------------------------- runs
    def step_timeout(self, train: bool, n: int) -> int:
        """Cycle budget of a run of n samples: 10x the cycle model, plus the input beats (with pauses)."""
        c, h, w = self.net.input_shape
        return 10 * n * (cycle_model.total(self.net, self.P, train) + 3 * (c * h * w + 1)) + 5000

    async def start(self, train: bool):
        await self.write_ok(G.CTRL, CTRL_START | (CTRL_TRAIN if train else 0),
                            f"CTRL start ({'train' if train else 'inference'})")

    async def wait_done(self, timeout_cycles: int, poll: int = 512):
        """Wait until STATUS shows busy low with done or error; -> STATUS, or None after timeout_cycles.
        Wakes on the core's trace_step_o (the wrapper's step_v) or every `poll` cycles (one STATUS read each)."""
        d = self.dut
        t_end = get_sim_time("ns") + timeout_cycles * self.period
        while True:
            await First(RisingEdge(d.step_v), Timer(poll * self.period, unit="ns"))
            for _ in range(4):
                st = await self.status()
                if not st & ST_BUSY and st & (ST_DONE | ST_ERROR):
                    return st
            if get_sim_time("ns") > t_end:
                return None

    async def sync_log(self):
        """Let the wrapper log the current edge, then replay everything new."""
        await FallingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        self.checker.feed(self.reader.read())

    async def run_step(self, xs, labels, train: bool = True):
        """One CTRL start over len(xs) samples (act codes) with every check; -> the StepExp."""
        n = len(xs)
        st = self.golden.step(xs, labels, train)
        self.checker.expect(st)
        self._install_pauses()
        await self.start(train)
        feeder = cocotb.start_soon(self.feed([R.sample_beats(x, y) for x, y in zip(xs, labels)]))
        status = await self.wait_done(self.step_timeout(train, n))
        packets = await self.collect(n)
        self._remove_pauses()
        what = f"step {st.step} ({'train' if train else 'inference'}, {n} samples)"
        if status is None:
            msg = f"{what}: no done / error within {self.step_timeout(train, n)} cycles"
            self.bus.fail(msg)
            feeder.cancel()
            await self.sync_log()
            raise CoreHung(f"{msg} (STATUS 0x{await self.status():08x}, {len(packets)} packets)")
        if not feeder.done():
            self.bus.fail(f"{what}: the core did not take all sample beats")
            feeder.cancel()
        self.bus.check_value(f"{what}: STATUS (busy, done, error, code) at the end", status & ST_MASK, ST_DONE)
        await self.sync_log()
        self.checker.check_packets(st, packets + self.drain_results())
        self.steps_run += 1
        return st

    async def run_error(self, start_train: bool, frames, code: int, what: str, timeout_cycles: int = 20000):
        """A start that must end in STATUS.error with `code` (bad program or bad sample), busy low,
        within timeout_cycles; the sample frames (if any) are sent. Clears the flags afterwards."""
        self.checker.abort()
        await self.start(start_train)
        feeder = cocotb.start_soon(self.feed(frames)) if frames else None
        status = await self.wait_done(timeout_cycles, poll=32)
        if status is None:
            self.bus.fail(f"{what}: no error within {timeout_cycles} cycles")
            raise CoreHung(f"{what}: no error within {timeout_cycles} cycles (STATUS 0x{await self.status():08x})")
        self.bus.check_value(f"{what}: STATUS busy, error, code", status & (ST_BUSY | ST_ERROR | ST_CODE),
                             ST_ERROR | code << G.ST_CODE_LSB)
        await self.cycles(20)
        stuck = feeder is not None and not (feeder.done() and self.source.idle())
        if feeder is not None and not feeder.done():
            feeder.cancel()
        extra = self.drain_results()
        if extra:
            self.log.info("%s: %d result packet(s) came out and were dropped", what, len(extra))
        await self.sync_log()
        self.checker.resume()
        await self.write_ok(G.CTRL, CTRL_CLEAR, "CTRL clear")
        return status, stuck

    async def abort_by_reset(self, feeder, cycles: int = 3):
        """Reset in the middle of a run: drivers emptied, the aborted run's log replayed without checks."""
        self.checker.abort()
        if feeder is not None and not feeder.done():
            feeder.cancel()
        self._remove_pauses()
        await self.reset(cycles)
        self.source.clear()
        dropped = self.drain_results()
        await self.sync_log()
        self.checker.resume()
        return dropped

    # -------------------------------------------------------------- end
    def finish(self):
        """-> (data errors incl. bus checks, cycle-model errors); records every scoreboard."""
        data, cyc = self.checker.finish()
        return data + self.bus.finish(), cyc

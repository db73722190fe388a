"""Shared testbench kit: the simulator runner, seeds, vector counts, scoreboard and handshake patterns.

Used by every tb/<module>/test_<module>.py. The pytest side calls `run_sim`; the cocotb side uses
`Scoreboard`, `rng`, `num_samples` and `pauses`, and streaming blocks with one valid/ready beat in and
one beat out build their `TB` on `StreamTB` (reset, driver, monitor, drain, run) with `PAUSES`.
"""
from __future__ import annotations

import hashlib
import os
import random
import sys
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
BUILD = REPO / "build" / "sim"


# ----------------------------------------------------------------------------- pytest side
def run_sim(module: str, toplevel: str | None = None, parameters: dict | None = None,
            sources: list | None = None, testcase=None, extra_env: dict | None = None,
            defines: dict | None = None, test_module: str | None = None):
    """Build rtl/<sources> with Icarus and run tb/<module>/test_<module>.py against it.

    One build directory per (toplevel, parameters), so parametrized runs never share a build.
    WAVES=1 dumps an FST into that directory.
    """
    from cocotb_tools.runner import get_runner

    toplevel = toplevel or module
    parameters = dict(parameters or {})
    sources = [RTL / s if not os.path.isabs(str(s)) else Path(s) for s in (sources or [f"{toplevel}.v"])]
    tag = "_".join(f"{k}{v}" for k, v in sorted(parameters.items())) or "default"
    if len(tag) > 60:
        tag = hashlib.sha1(tag.encode()).hexdigest()[:12]
    build_dir = BUILD / toplevel / tag
    waves = os.environ.get("WAVES", "0") == "1"
    runner = get_runner("icarus")
    # -g2005 after the runner's own -g2012: the RTL must be plain Verilog-2005
    runner.build(sources=sources, hdl_toplevel=toplevel, parameters=parameters,
                 build_dir=build_dir, always=True, waves=waves, timescale=("1ns", "1ps"),
                 defines=defines or {}, includes=[RTL], build_args=["-g2005"])
    env = {"PYTHONPATH": os.pathsep.join([str(REPO / "tb" / module), str(REPO / "tb"), str(REPO),
                                          os.environ.get("PYTHONPATH", "")]),
           "COCOTB_TRUST_INERTIAL_WRITES": "1", "TB_RTL_DIR": str(RTL),
           "TB_BLOCK": module, "TB_PARAMS": tag,
           "TB_PARAMS_TEXT": " ".join(f"{k}={v}" for k, v in sorted(parameters.items()))}
    env.update(extra_env or {})
    runner.test(test_module=test_module or f"test_{module}", hdl_toplevel=toplevel,
                testcase=testcase, build_dir=build_dir, test_dir=build_dir, waves=waves,
                extra_env=env, parameters=parameters)


# ----------------------------------------------------------------------------- cocotb side
def num_samples(default: int = 10000) -> int:
    """Vector count of random tests: NUM_SAMPLES from the environment, else `default`."""
    return int(os.environ.get("NUM_SAMPLES", default))


def regression_seed():
    """The seed of the whole cocotb run: COCOTB_RANDOM_SEED when set, else the one cocotb chose."""
    try:
        from cocotb import regression

        return regression._manager_inst._regression_seed  # noqa: SLF001 - label only
    except Exception:
        return os.environ.get("COCOTB_RANDOM_SEED")


def rng(log=None) -> random.Random:
    """A generator seeded from cocotb's per-test seed, which cocotb derives from the regression seed
    (COCOTB_RANDOM_SEED) and the test's name, so setting COCOTB_RANDOM_SEED reproduces the run."""
    import cocotb

    seed = cocotb.RANDOM_SEED
    (log or cocotb.log).info("random seed: test %d, regression %s (rerun with COCOTB_RANDOM_SEED=%s)",
                             seed, regression_seed(), regression_seed())
    return random.Random(seed)


def pauses(kind: str, r: random.Random):
    """Per-cycle stall pattern, True = pause this cycle.

    none    never pause
    1in4    pause 1 cycle in every 4 (deterministic)
    random  bursts: run 1-10 cycles, pause 1-10 cycles
    """
    if kind == "none":
        while True:
            yield False
    elif kind == "1in4":
        n = 0
        while True:
            yield n % 4 == 3
            n += 1
    elif kind == "random":
        while True:
            for _ in range(r.randint(1, 10)):
                yield False
            for _ in range(r.randint(1, 10)):
                yield True
    else:
        raise ValueError(f"unknown pause pattern {kind!r}")


PAUSE_KINDS = ["none", "1in4", "random"]


def pause_params(kinds=PAUSE_KINDS):
    """`cocotb.Param`s of pause kinds for `@cocotb.parametrize`, named so the test names read well
    ("1in4" -> "one_in_4")."""
    import cocotb

    return [cocotb.Param(k, name={"1in4": "one_in_4"}.get(k, k)) for k in kinds]


def __getattr__(name):
    # PAUSES is built on first use, so importing tbkit on the pytest side does not need cocotb
    if name == "PAUSES":
        return pause_params()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Scoreboard:
    """In-order checker. `expect()` queues golden values, `check()` compares one DUT output.

    Values are plain ints (or tuples of ints): the monitor reads DUT signals with int() /
    .to_signed(), which raise on X/Z.
    """

    def __init__(self, name: str, log=None, max_report: int = 10):
        import logging

        self.name = name
        self.log = log or logging.getLogger(f"sb.{name}")
        self.queue = deque()
        self.errors = 0
        self.checked = 0
        self.max_report = max_report

    def expect(self, value):
        self.queue.append(value)

    def check(self, got):
        if not self.queue:
            self.errors += 1
            if self.errors <= self.max_report:
                self.log.error("%s: unexpected output %r (nothing expected)", self.name, got)
            return
        exp = self.queue.popleft()
        self.checked += 1
        if got != exp:
            self.errors += 1
            if self.errors <= self.max_report:
                self.log.error("%s: mismatch #%d at output %d: got %r expected %r",
                               self.name, self.errors, self.checked - 1, got, exp)

    def finish(self):
        """Missing outputs count as errors. Records the counts (see `record`), returns the errors."""
        if self.queue:
            self.log.error("%s: %d expected outputs never arrived", self.name, len(self.queue))
            self.errors += len(self.queue)
            self.queue.clear()
        self.log.info("%s: %d outputs checked, %d errors", self.name, self.checked, self.errors)
        record(self.name, self.checked, self.errors)
        return self.errors


def _current_test_name() -> str:
    """Name of the running cocotb test (best effort: cocotb keeps it in a private module)."""
    try:
        from cocotb import _test_manager

        return _test_manager._current_test._main_task.get_name().removeprefix("Test ")
    except Exception:  # pragma: no cover - report label only
        return "?"


def record(scoreboard: str, checked: int, errors: int):
    """Append one scoreboard result to build/reports/scoreboards.jsonl (read by scripts/verif_table.py).

    Mutant tests record their (expected) errors too; the table counts them separately.
    """
    import json
    import time

    path = REPO / "build" / "reports" / "scoreboards.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rec = {"block": os.environ.get("TB_BLOCK", "?"), "params": os.environ.get("TB_PARAMS", "?"),
           "params_text": os.environ.get("TB_PARAMS_TEXT", ""),
           "test": _current_test_name(), "scoreboard": scoreboard, "checked": checked,
           "errors": errors, "seed": regression_seed(), "date": time.strftime("%Y-%m-%d")}
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


# ----------------------------------------------------------------------------- valid/ready stream TB
class StreamTB:
    """Skeleton of a testbench for a block with one valid/ready input stream and one output stream.

    Ports: clk, rst (synchronous, active high), s_valid_i/s_ready_o, m_valid_o/m_ready_i. A subclass
    calls `super().__init__(dut, name, inputs)` and supplies the block-specific parts:

      apply(beat)  write the data ports of one beat; return the value to expect once it is accepted
      read()       the output beat on the data ports as plain ints (for the scoreboard)
      idle()       optional: what to put on the data ports in a cycle the driver pauses

    Timing: every input is written at the falling edge and the handshake is sampled in the ReadOnly
    phase that follows, so what is seen there is what the next rising edge acts on. (Writing right
    after the rising edge with COCOTB_TRUST_INERTIAL_WRITES=1 races the DUT's registers under Icarus.)
    """

    def __init__(self, dut, name: str, inputs=(), clock_ns: int = 10):
        """inputs: the data input signals, held at 0 until driven."""
        import cocotb
        from cocotb.clock import Clock

        self.dut = dut
        self.log = dut._log
        self.sb = Scoreboard(name, self.log)
        self.r = rng(self.log)
        dut.rst.value = 1              # held until reset() releases it
        dut.s_valid_i.value = 0
        dut.m_ready_i.value = 0
        for sig in inputs:
            sig.value = 0
        cocotb.start_soon(Clock(dut.clk, clock_ns, unit="ns").start())

    # signed code range of self.w bits (for subclasses that set self.w)
    @property
    def lo(self):
        return -(1 << (self.w - 1))

    @property
    def hi(self):
        return (1 << (self.w - 1)) - 1

    # -------------------------------------------------------------- hooks
    def apply(self, beat):
        raise NotImplementedError

    def read(self):
        raise NotImplementedError

    def idle(self):
        pass

    def observe(self, got):
        """Called with every output beat taken; checks it in order."""
        self.sb.check(got)

    # -------------------------------------------------------------- reset, driver, monitor
    async def reset(self, cycles: int = 2):
        from cocotb.triggers import FallingEdge

        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 1
        self.dut.s_valid_i.value = 0
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        self.sb.queue.clear()          # whatever was in flight is gone

    async def drive(self, beats, kind: str = "none"):
        """Send beats with idle insertion `kind`; a beat's expectation is queued when it is accepted."""
        from cocotb.triggers import FallingEdge, ReadOnly

        dut = self.dut
        pause = pauses(kind, self.r)
        for beat in beats:
            await FallingEdge(dut.clk)
            while next(pause):
                dut.s_valid_i.value = 0
                self.idle()
                await FallingEdge(dut.clk)
            exp = self.apply(beat)
            dut.s_valid_i.value = 1
            await ReadOnly()
            while not int(dut.s_ready_o.value):
                await FallingEdge(dut.clk)
                await ReadOnly()
            self.sb.expect(exp)
        await FallingEdge(dut.clk)
        dut.s_valid_i.value = 0

    async def monitor(self, kind: str = "none"):
        """Back-pressure `kind` on m_ready_i; every beat taken (valid && ready) goes to `observe`."""
        from cocotb.triggers import FallingEdge, ReadOnly

        dut = self.dut
        pause = pauses(kind, self.r)
        while True:
            await FallingEdge(dut.clk)
            dut.m_ready_i.value = 0 if next(pause) else 1
            await ReadOnly()
            if int(dut.rst.value):
                continue
            if int(dut.m_valid_o.value) and int(dut.m_ready_i.value):
                self.observe(self.read())

    async def drain(self, limit: int = 200):
        """Wait until every expected beat came out (or `limit` cycles), then 5 more cycles: anything
        extra shows up as unexpected."""
        from cocotb.triggers import ClockCycles, RisingEdge

        for _ in range(limit):
            if not self.sb.queue:
                break
            await RisingEdge(self.dut.clk)
        await ClockCycles(self.dut.clk, 5)

    # -------------------------------------------------------------- whole runs
    async def start(self, m_kind: str = "none"):
        """Start the monitor with back-pressure `m_kind`, then reset."""
        import cocotb

        cocotb.start_soon(self.monitor(m_kind))
        await self.reset()

    async def run(self, beats, s_kind: str = "none", m_kind: str = "none"):
        """start, drive, drain; the scoreboard must end clean."""
        await self.start(m_kind)
        await self.drive(beats, s_kind)
        await self.drain()
        assert self.sb.finish() == 0

    async def reset_in_flight(self, burst, tail, rounds: int = 3):
        """Reset with beats in flight and back-pressure, `rounds` times: a driver sending `burst()`
        with random idles is cut after 5-30 cycles and the block reset for 1-3 cycles, after which
        m_valid_o must be low; then `tail()` is sent and must come out exactly (nothing stale)."""
        import cocotb
        from cocotb.triggers import ClockCycles

        await self.start("random")
        for _ in range(rounds):
            task = cocotb.start_soon(self.drive(burst(), "random"))
            await ClockCycles(self.dut.clk, self.r.randint(5, 30))
            task.cancel()
            await self.reset(self.r.randint(1, 3))
            assert int(self.dut.m_valid_o.value) == 0
        await self.drive(tail(), "1in4")
        await self.drain()
        assert self.sb.finish() == 0


def pack(vals, width: int) -> int:
    """Lane values (signed or unsigned ints) into one word, lane 0 in the low bits."""
    return sum(to_unsigned(int(v), width) << (i * width) for i, v in enumerate(vals))


def unpack(raw: int, width: int, n: int) -> tuple:
    """One word into n signed lane values, lane 0 from the low bits."""
    return tuple(to_signed(raw >> (i * width), width) for i in range(n))


def chunk(vals, n: int) -> list:
    """vals cut into consecutive slices of n (the last may be shorter)."""
    return [vals[i:i + n] for i in range(0, len(vals), n)]


def to_signed(v: int, width: int) -> int:
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


def to_unsigned(v: int, width: int) -> int:
    return v & ((1 << width) - 1)


sys.path.insert(0, str(REPO))

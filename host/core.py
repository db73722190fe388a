"""Host API of the training core: what a host CPU does with it, over any transport.

    from host.core import Core
    from host.fastsim import FastSim
    core = Core(FastSim(params={"P": 8}))
    core.reset()
    core.program(compile_net(net), batch=1, lr=lr_code, seed=net.fmt.lfsr_seed)
    core.load_weights(flat_codes)
    res = core.train(xs, labels)          # one CTRL start per call: len(xs) == BATCH samples
    res = core.infer(xs, labels)          # one CTRL start in inference mode
    core.read_weights(n), core.status(), core.counters()

A transport (host.fastsim.FastSim: the Verilated core, C++ owns the clock) offers reset(cycles),
tick(n), write_burst(addr, words) -> (rc, resp[]), read_burst(addr, n) -> (rc, data[], resp[]),
run(beats, lasts, n_packets, max_out, max_cycles, ...) -> (rc, status, taken, out[], out_last[]) and
`cycles`. Core adds the register map (golden/axil_regs.py), the stream framing (docs/architecture.md
section 5) and the error handling:

  * a bus response other than OKAY raises BusError naming the operation and the address;
  * STATUS.error at the end of a step raises CoreError naming the code (golden.compiler.ERRORS);
  * a step that shows neither done nor error within its cycle budget raises CoreTimeout, which says
    what it waited for. The host waits for done or error, never for busy low: busy falls one cycle
    before done is visible in STATUS.
Every exception leaves the core as it is (the caller decides: clear, reset, reprogram).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from golden import axil_regs as G
from golden import isa
from golden.compiler import ERRORS

CTRL_START, CTRL_TRAIN, CTRL_CLEAR, CTRL_SEED = (1 << isa.CTRL_BITS[n] for n in ("START", "MODE", "CLEAR", "SEED_LOAD"))
RESP = {0: "OKAY", 1: "EXOKAY", 2: "SLVERR", 3: "DECERR"}


class HostError(RuntimeError):
    """Base of every error the host API raises."""


class BusError(HostError):
    def __init__(self, op: str, addr: int, resp: int):
        self.op, self.addr, self.resp = op, addr, resp
        super().__init__(f"{op}: AXI-Lite {RESP.get(resp, resp)} at 0x{addr:05x}")


class CoreError(HostError):
    """STATUS.error: `code` (STATUS[15:8]) and its name."""

    def __init__(self, op: str, code: int, status: int, result=None):
        self.op, self.code, self.status, self.result = op, code, status, result
        self.name = ERRORS.get(code, "unknown code")
        super().__init__(f"{op}: core error {code} ({self.name}), STATUS 0x{status:08x}")


class CoreTimeout(HostError):
    def __init__(self, op: str, waited_for: str, cycles: int, status: int | None = None):
        self.op, self.waited_for, self.cycles, self.status = op, waited_for, cycles, status
        st = "" if status is None else f", STATUS 0x{status:08x}"
        super().__init__(f"{op}: timed out after {cycles} cycles waiting for {waited_for}{st}")


@dataclass
class Packet:
    """One result packet: predicted class, logits (act codes), loss (unsigned 32-bit code)."""
    pred: int
    logits: list
    loss: int
    beats: list = field(repr=False, default_factory=list)


@dataclass
class StepResult:
    packets: list
    status: int
    cycles: int             # simulated cycles of the whole call (start write to the last result beat)
    taken: int              # sample beats the core accepted
    stopped: bool = False   # the run ended at stop_after (a reset test: the step is still going)


def _signed(v: int, w: int = 32) -> int:
    v &= (1 << w) - 1
    return v - (1 << w) if v >> (w - 1) else v


def sample_beats(codes, label: int):
    """(tdata, tlast) of one sample: C*H*W act codes then the label beat with tlast."""
    c = np.asarray(codes, dtype=np.int64).reshape(-1) & 0xFFFF
    beats = np.append(c, int(label) & 0xFFFF).astype(np.uint16)
    lasts = np.zeros(len(beats), dtype=np.uint8)
    lasts[-1] = 1
    return beats, lasts


def split_packets(beats, lasts) -> list:
    out, cur = [], []
    for b, l in zip(beats, lasts):
        cur.append(int(b))
        if l:
            out.append(Packet(cur[0], [_signed(v) for v in cur[1:-1]], cur[-1], cur))
            cur = []
    return out


class Core:
    """The core behind a transport (module docstring)."""

    def __init__(self, sim, wmem_depth: int = 32768, max_layers: int = 16):
        self.sim = sim
        self.wmem_depth = wmem_depth
        self.max_layers = max_layers
        self.batch = None
        self.n_in = None           # sample length (C*H*W) of the program
        self.n_classes = None

    # ------------------------------------------------------------------ bus
    def write(self, addr: int, value: int, op: str | None = None):
        self.write_words(addr, [value], op or f"write 0x{addr:05x}")

    def write_words(self, addr: int, words, op: str):
        rc, resp = self.sim.write_burst(addr, words)
        if rc:
            raise CoreTimeout(op, "AXI-Lite write responses", 4096)
        bad = np.nonzero(resp)[0]
        if len(bad):
            k = int(bad[0])
            raise BusError(op, addr + 4 * k, int(resp[k]))

    def read_words(self, addr: int, n: int, op: str) -> np.ndarray:
        rc, data, resp = self.sim.read_burst(addr, n)
        if rc:
            raise CoreTimeout(op, "AXI-Lite read data", 4096)
        bad = np.nonzero(resp)[0]
        if len(bad):
            k = int(bad[0])
            raise BusError(op, addr + 4 * k, int(resp[k]))
        return data

    def read(self, addr: int, op: str | None = None) -> int:
        return int(self.read_words(addr, 1, op or f"read 0x{addr:05x}")[0])

    # ------------------------------------------------------------------ control
    def reset(self, cycles: int = 4):
        self.sim.reset(cycles)
        self.batch = None

    def status(self) -> int:
        return self.read(G.STATUS, "read STATUS")

    def counters(self) -> dict:
        v = self.read_words(G.CYC_TOTAL, 4, "read counters")
        return {"cyc_total": int(v[0]), "cyc_fwd": int(v[1]), "cyc_bwd": int(v[2]), "steps": int(v[3])}

    def clear(self):
        self.write(G.CTRL, CTRL_CLEAR, "CTRL clear")

    def program(self, prog, batch: int = 1, lr: int | None = None, seed: int | None = None,
                reload: bool = True, words=None, num_layers: int | None = None, head: int | None = None):
        """Descriptor table, NUM_LAYERS, HEAD, LR, BATCH, SEED and (reload) the seed-reload pulse.
        prog: a golden.compiler.Program (words / num_layers / head override it for broken programs)."""
        net = prog.net if prog is not None else None
        words = prog.words if words is None else words
        nl = len(net.layers) if num_layers is None else num_layers
        self.write_words(G.DESC_BASE, words, "write descriptor table")
        self.write(G.NUM_LAYERS, nl, "write NUM_LAYERS")
        self.write(G.HEAD, prog.head if head is None else head, "write HEAD")
        if lr is not None:
            self.write(G.LR, lr, "write LR")
        self.set_batch(batch)
        if seed is not None:
            self.write(G.SEED, seed, "write SEED")
        if reload:
            self.write(G.CTRL, CTRL_SEED, "CTRL seed reload")
        if net is not None:
            self.n_in = int(np.prod(net.input_shape))
            self.n_classes = net.n_classes

    def set_batch(self, batch: int):
        if batch != self.batch:
            self.write(G.BATCH, batch, "write BATCH")
            self.batch = batch

    def load_weights(self, flat, start: int = 0):
        flat = np.asarray(flat, dtype=np.int64)
        self.write_words(G.WMEM_BASE + 4 * start, flat, "load weights")

    def read_weights(self, n: int, start: int = 0) -> np.ndarray:
        """-> n weight codes (signed) from element `start`."""
        v = self.read_words(G.WMEM_BASE + 4 * start, n, "read weights").astype(np.int64)
        return np.where(v >= 1 << 31, v - (1 << 32), v)

    # ------------------------------------------------------------------ steps
    def budget(self, n: int, train: bool, cycles_per_sample: int) -> int:
        return 10 * n * (cycles_per_sample + 2 * (self.n_in or 0) + 64) + 20000

    def start(self, train: bool):
        self.write(G.CTRL, CTRL_START | (CTRL_TRAIN if train else 0),
                   f"CTRL start ({'train' if train else 'inference'})")

    def step(self, xs, labels, train: bool, cycles_per_sample: int = 50000, frames=None,
             in_idle: int = 0, out_stall: int = 0, seed: int = 0, stop_after: int = 0) -> StepResult:
        """One CTRL start over the samples (xs: act codes; BATCH is set to len(xs) when needed).
        frames: raw (beats, lasts) instead of xs / labels (malformed samples). -> StepResult;
        raises CoreError / CoreTimeout (the packets so far are on the exception's `result`)."""
        op = f"{'training' if train else 'inference'} step"
        if frames is None:
            parts = [sample_beats(x, y) for x, y in zip(xs, labels)]
            n = len(parts)
        else:
            parts, n = frames, len(frames)
        self.set_batch(max(n, 1))
        beats = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.uint16)
        lasts = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.uint8)
        c0 = self.sim.cycles
        self.start(train)
        max_out = n * ((self.n_classes or 64) + 2) + 64
        rc, status, taken, out, out_last = self.sim.run(
            beats, lasts, n, max_out, self.budget(n, train, cycles_per_sample), in_idle, out_stall, seed,
            stop_after)
        res = StepResult(split_packets(out, out_last), status, self.sim.cycles - c0, taken)
        if rc == 2:
            res.stopped = True               # stopped on request (the caller resets)
            return res
        if rc:
            raise CoreTimeout(op, "STATUS.done or STATUS.error", self.budget(n, train, cycles_per_sample),
                              self.status())
        if status & (1 << G.ST_ERROR):
            e = CoreError(op, status >> G.ST_CODE_LSB & 0xFF, status, res)
            raise e
        return res

    def train(self, xs, labels, **kw) -> StepResult:
        return self.step(xs, labels, True, **kw)

    def infer(self, xs, labels, **kw) -> StepResult:
        return self.step(xs, labels, False, **kw)

"""Pure-Python half of the cnn_core testbench: golden expectations, the log format, shadow replay and
comparison, malformed programs, and a generator of the log a correct core would write (self-check).

No cocotb here: tests/test_core_harness.py runs all of it without a simulator, and
tb/cnn_core/core_host.py (the cocotb host driver) feeds it with what the simulation produces.

The log (written by tb/cnn_core/cnn_core_tb.v, one line per event, in clock order):
    A|D|W|G|I <addr> <count> <hex>   memory write port of AMEM / DMEM / WMEM / GMEM / IMEM: element
                                     address of lane 0, lane count (>= P: all P lanes), the P lanes
                                     (lane 0 in the low bits) as zero-padded hex
    g <addr> <count> <hex>           gradient tap: one beat of narrowed gradients, WMEM element address
    P <code> <layer> <cycles>        phase end (PHASES), cycles measured by the core
    S                                sample done (every write of the sample is finished)
    U                                step done (including the batch > 1 update pass)
    X <what>                         a control signal was X/Z (an error)
Lane widths come from the net's formats (default: A/D/W 16-bit signed, G/g 24-bit signed, I 2-bit
unsigned).

Memory map the core uses (what the shadows are compared with, Program = golden.compiler.compile_net):
    AMEM  Trace.outs[i] at Program.act_addr[i] (C order)
    IMEM  argmax codes of max-pool layer i at Program.aux_addr[i]
    DMEM  Trace.deltas[i] (dE/d outs[i+1]) at Program.act_addr[i+1], for every layer the backward
          pass visits (the scratch regions of Program.pad_addr, where a conv layer that is not the
          first zero-pads its delta, are written but not compared)
    WMEM  Program.weights_flat(params)
    tap   Trace.grads[i] = (dW, db) at Program.w_addr[i]
    GMEM  (batch > 1) FixedNet.acc after each sample, at the WMEM addresses

Checking points (Checker):
    S  the sample's AMEM / IMEM / DMEM regions, the tapped gradients (each element exactly once),
       GMEM (batch > 1), all of WMEM (batch 1: already updated; batch > 1: still the old weights),
       and the sample's phase list against golden.cycle_model.phases (a separate scoreboard). The
       compared AMEM / DMEM / IMEM / GMEM regions are then marked unwritten, so every sample has to
       write all of them again.
    U  all of WMEM against the updated parameters (training steps; optional after inference) and,
       with batch > 1, the update pass's phases against golden.cycle_model.update_phases.
    result packets (compared by the host through `check_packets`).
"""
from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import numpy as np

import tbkit
from golden import cycle_model, isa, mse_delta, softmax
from golden.compiler import ADDR_BITS, HEAD_CODES, compile_net, layout
from golden.fixed_model import FixedNet, Trace, update_order
from golden.lfsr import Lfsr
from golden.requantize import to_codes
from golden.spec import RELU, Net, conv, dense

# ----------------------------------------------------------------------------- phase codes
PHASES = isa.PHASE_NAMES                      # code -> log name (golden/isa.py)
PH_UPDATE, PH_LOAD = isa.PH["UPDATE"], isa.PH["LOAD"]
PHASE_CODES = {v: k for k, v in PHASES.items()}

# error codes STATUS[15:8]
ERR_OP, ERR_GEOMETRY, ERR_MAXIMUM, ERR_STRUCTURE, ERR_FRAMING, ERR_LABEL = (
    isa.ERR[n] for n in ("OP", "GEOMETRY", "MAXIMUM", "STRUCTURE", "FRAMING", "LABEL"))

UNSET = -(1 << 61)       # shadow element never written (since it was last checked)
XVAL = -(1 << 60)        # lane that was X/Z in the log


def update_model(net: Net, p: int) -> list:
    """The batch > 1 update pass of the cycle model ([] when the model does not describe it)."""
    f = getattr(cycle_model, "update_phases", None)
    return list(f(net, p)) if f else []


def phase_name(code: int, layer: int) -> str:
    """Name of a logged phase, as golden.cycle_model.phases names them."""
    if code in (6, 7):
        return PHASES[code]
    if code == PH_LOAD:
        return "load"
    if code == PH_UPDATE:
        return f"L{layer}.update"
    return f"L{layer}.{PHASES.get(code, f'code{code}')}"


def _fmt_val(v) -> str:
    v = int(v)
    return "unwritten" if v == UNSET else "X" if v == XVAL else str(v)


# ----------------------------------------------------------------------------- log parsing
def lane_widths(net: Net) -> dict:
    """Tag -> (lane width, signed)."""
    f = net.fmt
    return {"A": (f.act.width, True), "D": (f.delta.width, True), "W": (f.weight.width, True),
            "G": (f.grad.width, True), "g": (f.grad.width, True), "I": (2, False)}


def _lanes(hexstr: str, n: int, width: int, signed: bool) -> list:
    """First n lanes of a zero-padded hex word; X/Z lanes become XVAL."""
    mask = (1 << width) - 1
    try:
        v = int(hexstr, 16)
    except ValueError:
        v = None
    if v is not None:
        out = []
        for lane in range(n):
            x = (v >> (lane * width)) & mask
            if signed and x >> (width - 1):
                x -= 1 << width
            out.append(x)
        return out
    if width % 4:                   # lanes do not align with hex digits: all of them are suspect
        return [XVAL] * n
    dpl = width // 4
    out = []
    for lane in range(n):
        hi = len(hexstr) - lane * dpl
        digits = hexstr[max(hi - dpl, 0):hi]
        try:
            x = int(digits, 16)
        except ValueError:
            out.append(XVAL)
            continue
        if signed and x >> (width - 1):
            x -= 1 << width
        out.append(x)
    return out


def parse_line(line: str, p: int, widths: dict):
    """One log line -> event tuple:
        ("w", tag, addr, [values of lanes < count])   memory write or gradient tap
        ("P", code, layer, cycles)                     phase end
        ("S",) / ("U",)                                markers
        ("bad", line, reason)                          X lines and anything unparsable
    """
    parts = line.split()
    if not parts:
        return ("bad", line, "empty line")
    t = parts[0]
    try:
        if t in widths:
            if len(parts) != 4:
                return ("bad", line, "expected 4 fields")
            addr, count = int(parts[1]), int(parts[2])
            w, signed = widths[t]
            return ("w", t, addr, _lanes(parts[3], min(count, p), w, signed))
        if t == "P":
            return ("P", int(parts[1]), int(parts[2]), int(parts[3]))
        if t in ("S", "U") and len(parts) == 1:
            return (t,)
        if t == "X":
            return ("bad", line, "X/Z on " + " ".join(parts[1:]))
    except ValueError:
        return ("bad", line, "X/Z or garbage in a numeric field")
    return ("bad", line, "unknown event")


class LogReader:
    """Incremental reader of the log file: `read()` returns the complete lines added since the last
    call (a line still being written is kept for the next call)."""

    def __init__(self, path, from_end: bool = True):
        self.path = Path(path)
        self.pos = self.path.stat().st_size if (from_end and self.path.exists()) else 0
        self.partial = b""

    def read(self) -> list:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read()
        self.pos += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [ln.decode("ascii", "replace") for ln in lines if ln.strip()]


# ----------------------------------------------------------------------------- scoreboard
class VecBoard(tbkit.Scoreboard):
    """tbkit.Scoreboard for whole tensors: `compare` counts every element and names the first few
    mismatches (what, element index, got, expected); `finish` records like tbkit (optional)."""

    def __init__(self, name: str, log=None, max_report: int = 10, record: bool = True):
        super().__init__(name, log, max_report)
        self.do_record = record
        self.first = []          # the first mismatches as text, for summaries

    def _report(self, text: str):
        if len(self.first) < self.max_report:
            self.first.append(text)
            self.log.error("%s: %s", self.name, text)

    def compare(self, what: str, got, exp, shape=None) -> int:
        """Element-wise comparison of two tensors (flattened, C order); -> mismatching elements.
        `shape` names the elements by their index in that shape."""
        got = np.asarray(got, dtype=np.int64).reshape(-1)
        exp = np.asarray(exp, dtype=np.int64).reshape(-1)
        self.checked += exp.size
        nerr = 0
        if got.size != exp.size:
            nerr += abs(got.size - exp.size)
            self._report(f"{what}: {got.size} values, expected {exp.size}")
            n = min(got.size, exp.size)
            got, exp = got[:n], exp[:n]
        bad = np.nonzero(got != exp)[0]
        nerr += bad.size
        self.errors += nerr
        named = shape is not None and int(np.prod(shape)) == exp.size
        for k in bad[:max(0, self.max_report - len(self.first))]:
            idx = np.unravel_index(int(k), shape) if named else (int(k),)
            self._report(f"{what}[{', '.join(str(int(i)) for i in idx)}]: got {_fmt_val(got[k])} "
                         f"expected {_fmt_val(exp[k])}")
        return int(nerr)

    def check_value(self, what: str, got, exp) -> bool:
        """One compared item (any comparable values)."""
        self.checked += 1
        if got != exp:
            self.errors += 1
            self._report(f"{what}: got {got!r} expected {exp!r}")
            return False
        return True

    def fail(self, what: str):
        """One checked item that failed (protocol errors)."""
        self.checked += 1
        self.errors += 1
        self._report(what)

    def finish(self):
        if self.queue:
            self.errors += len(self.queue)
            self.queue.clear()
        self.log.info("%s: %d checked, %d errors", self.name, self.checked, self.errors)
        if self.do_record:
            tbkit.record(self.name, self.checked, self.errors)
        return self.errors


# ----------------------------------------------------------------------------- golden expectations
def lr_code(net: Net, lr: float | None = None) -> int:
    """LR register value of a net (FixedNet's lr code)."""
    return int(to_codes(net.lr if lr is None else lr, net.fmt.lr))


def input_codes(net: Net, x) -> np.ndarray:
    """Float image -> act codes in the input shape (what goes on the sample stream)."""
    return to_codes(np.asarray(x, dtype=np.float64), net.fmt.act).reshape(net.input_shape)


def sample_beats(codes, label: int) -> list:
    """Stream beats of one sample: C*H*W act codes (16-bit two's complement) then the label."""
    return [int(c) & 0xFFFF for c in np.asarray(codes).reshape(-1)] + [int(label) & 0xFFFF]


def result_packet(tr: Trace) -> list:
    """Expected result packet: class, logits (sign-extended to 32 bits), loss (unsigned 32 bits)."""
    return [int(tr.pred)] + [int(v) & 0xFFFFFFFF for v in tr.outs[-1].reshape(-1)] + \
        [int(tr.loss) & 0xFFFFFFFF]


@dataclass
class SampleExp:
    step: int
    index: int                 # position in its step
    train: bool
    label: int
    trace: Trace
    wmem: np.ndarray           # expected WMEM contents at this sample's S
    acc: np.ndarray | None     # expected GMEM (flat, WMEM layout) at S, batch > 1 only
    packet: list
    last: bool = False         # last sample of its step
    step_exp: object = None    # its StepExp (set on the last sample by Checker.expect)


@dataclass
class StepExp:
    step: int
    train: bool
    batch: int
    samples: list
    wmem_before: np.ndarray
    wmem_after: np.ndarray


class LrOffByOne(FixedNet):
    """Mutant golden model: learning-rate code one too large."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lr_code += 1


class GoldenCore:
    """FixedNet advanced exactly like the core: one `step` per CTRL start."""

    def __init__(self, net: Net, params: dict, model_cls=FixedNet, lr: float | None = None):
        self.net = net
        self.prog = compile_net(net)
        self.fx = model_cls(net, params, lr)
        self.nstep = 0

    def wmem(self) -> np.ndarray:
        return self.prog.weights_flat(self.fx.params)

    def reseed(self, seed: int):
        """The core's LFSR was (re)loaded with `seed` (CTRL seed reload, or reset to SEED's reset value)."""
        self.fx.lfsr = Lfsr(seed)

    def head_loss(self, tr: Trace, label: int) -> int:
        """The loss backward() would compute (for inference, where backward does not run)."""
        f = self.fx.f
        z = tr.outs[-1].reshape(-1)
        if not (0 <= label < z.size):
            raise ValueError(f"label {label} out of range 0..{z.size - 1}")
        if self.net.head == "softmax_ce":
            return softmax.loss(z, label, f.act)
        return mse_delta.loss(tr.head_out, label, f.act.frac)

    def step(self, xs, labels, train: bool) -> StepExp:
        """One CTRL start over len(xs) samples (xs: act codes). Training = FixedNet.train_step, done
        sample by sample so that the accumulators after every sample are known."""
        fx, prog = self.fx, self.prog
        before = self.wmem()
        batch = len(xs)
        samples = []
        for j, (x, y) in enumerate(zip(xs, labels)):
            y = int(y)
            if train:
                tr = fx.backward(fx.forward(x), y)
                fx.accumulate(tr)
                acc = prog.weights_flat(fx.acc) if batch > 1 else None
            else:
                tr = fx.forward(x)
                tr.loss = self.head_loss(tr, y)
                acc = None
            samples.append(SampleExp(self.nstep, j, train, y, tr, before, acc, result_packet(tr),
                                     last=(j == batch - 1)))
        if train:
            fx.update()
        after = self.wmem()
        if train and batch == 1:          # batch 1 updates on the spot, before the sample's S
            for s in samples:
                s.wmem = after
        st = StepExp(self.nstep, train, batch, samples, before, after)
        self.nstep += 1
        return st


# ----------------------------------------------------------------------------- checker
BOARDS = ("act", "argmax", "delta", "grad", "gacc", "wmem", "result", "protocol")


class Checker:
    """Replays the log into shadow memories and compares them with the golden expectations at every
    S / U marker (see the module docstring). `expect(step)` queues the steps in the order the host
    starts them; `feed(lines)` consumes log lines; `check_packets` compares result packets;
    `finish()` -> (data errors, cycle-model errors)."""

    def __init__(self, net: Net, p: int, amem_depth: int, wmem_depth: int, log=None,
                 record: bool = True, prefix: str = "core"):
        import logging

        self.net, self.p = net, p
        self.prog = compile_net(net)
        self.log = log or logging.getLogger(f"{prefix}.checker")
        self.widths = lane_widths(net)
        self.mem = {t: np.full(amem_depth if t in "ADI" else wmem_depth, UNSET, dtype=np.int64)
                    for t in ("A", "D", "I", "W", "G", "g")}
        self.tap_cnt = np.zeros(wmem_depth, dtype=np.int64)
        self.boards = {n: VecBoard(f"{prefix}_{n}", self.log, record=record) for n in BOARDS}
        self.cycles = VecBoard(f"{prefix}_cycles", self.log, record=record)
        self.model = {True: cycle_model.phases(net, p, True), False: cycle_model.phases(net, p, False)}
        self.samples = deque()        # SampleExp in run order
        self.pending_u = None         # training StepExp whose samples are done, waiting for U
        self.u_optional = False       # the last S ended an inference step (a U may follow)
        self.phases = []              # (code, layer, cycles) since the last S / U
        self.sample_log = []          # per sample: step, index, train, phases [(name, cycles)]
        self.update_log = []          # per training step: the phases between its last S and U
        self.discard = False          # aborted step: apply writes, ignore markers
        self.lines = 0

    # -------------------------------------------------------------- expectations
    def expect(self, st: StepExp):
        self.samples.extend(st.samples)
        if st.samples:
            st.samples[-1].step_exp = st

    def set_wmem(self, start: int, codes):
        """The host wrote weights through the AXI-Lite window (the log may show them too)."""
        codes = np.asarray(codes, dtype=np.int64)
        self.mem["W"][start:start + codes.size] = codes

    def abort(self):
        """Start of an aborted step's log (reset mid-step): writes are replayed, markers dropped."""
        self.discard = True

    def resume(self):
        """After the aborted step's log was fed: expectations and per-sample state start clean."""
        self.discard = False
        self.samples.clear()
        self.pending_u = None
        self.u_optional = False
        self.phases = []
        self.tap_cnt[:] = 0

    # -------------------------------------------------------------- log replay
    def feed(self, lines):
        for line in lines:
            self.lines += 1
            ev = parse_line(line, self.p, self.widths)
            kind = ev[0]
            if kind == "w":
                self._write(ev[1], ev[2], ev[3])
            elif kind == "P":
                self.phases.append(ev[1:])
            elif kind == "S":
                self._sample_done()
            elif kind == "U":
                self._step_done()
            else:
                self.boards["protocol"].fail(f"log line {line!r}: {ev[2]}")

    def _write(self, tag, addr, vals):
        mem = self.mem[tag]
        n = len(vals)
        if addr < 0 or addr + n > mem.size:
            self.boards["protocol"].fail(f"{tag} write at {addr} count {n} beyond the memory ({mem.size})")
            n = max(0, min(n, mem.size - addr))
            vals = vals[:n]
            if addr < 0 or n == 0:
                return
        mem[addr:addr + n] = vals
        if tag == "g":
            self.tap_cnt[addr:addr + n] += 1

    def _take_phases(self):
        ph, self.phases = self.phases, []
        return [(phase_name(c, l), cyc, c) for c, l, cyc in ph]

    def _sample_done(self):
        if self.discard:
            self.phases = []
            return
        proto = self.boards["protocol"]
        phases = self._take_phases()
        if self.pending_u is not None:
            proto.fail(f"step {self.pending_u.step}: no U (step done) before the next sample's S")
            self.pending_u = None
        self.u_optional = False
        if not self.samples:
            proto.fail("S (sample done) with no sample expected")
            self._invalidate(None)
            return
        proto.checked += 1
        s = self.samples.popleft()
        self._compare_sample(s)
        self._compare_phases(s, phases)
        self._invalidate(s)
        if s.last:
            st = s.step_exp
            if st.train:
                self.pending_u = st
            else:
                self.u_optional = True

    def _step_done(self):
        if self.discard:
            self.phases = []
            return
        proto = self.boards["protocol"]
        phases = self._take_phases()
        if self.pending_u is not None:
            st, self.pending_u = self.pending_u, None
            proto.checked += 1
            self._compare_wmem(f"step {st.step} U:", st.wmem_after)
            self.update_log.append({"step": st.step, "batch": st.batch,
                                    "phases": [(n, c) for n, c, _ in phases]})
            for n, c, code in phases:
                if code != PH_UPDATE:
                    proto.fail(f"step {st.step}: phase {n} between the last S and U")
            if st.batch > 1:
                model = update_model(self.net, self.p)
                measured = [(n, c) for n, c, code in phases if code == PH_UPDATE]
                for k in range(max(len(measured), len(model))):
                    self.cycles.check_value(f"step {st.step} update pass phase #{k}",
                                            measured[k] if k < len(measured) else None,
                                            model[k] if k < len(model) else None)
        elif self.u_optional:
            self.u_optional = False
        else:
            proto.fail("U (step done) with no finished training step")

    # -------------------------------------------------------------- comparisons at S
    def _region(self, tag, addr, size):
        return self.mem[tag][addr:addr + size]

    def _compare_sample(self, s: SampleExp):
        prog, net, tr = self.prog, self.net, s.trace
        who = f"step {s.step} sample {s.index}"
        b = self.boards
        for i, t in enumerate(tr.outs):
            name = "input" if i == 0 else f"L{i - 1}.{net.layers[i - 1].kind}"
            b["act"].compare(f"{who} AMEM {name} out", self._region("A", prog.act_addr[i], t.size), t, t.shape)
        for i, idx in tr.pool_idx.items():
            b["argmax"].compare(f"{who} IMEM L{i}.maxpool argmax", self._region("I", prog.aux_addr[i], idx.size),
                                idx, idx.shape)
        if s.train:
            for i, d in tr.deltas.items():
                b["delta"].compare(f"{who} DMEM L{i}.{net.layers[i].kind} delta",
                                   self._region("D", prog.act_addr[i + 1], d.size), d, d.shape)
            expected_taps = 0
            for i, (dw, db) in tr.grads.items():
                wa, ba = prog.w_addr[i]
                b["grad"].compare(f"{who} tap L{i} dW", self._region("g", wa, dw.size), dw, dw.shape)
                b["grad"].compare(f"{who} tap L{i} db", self._region("g", ba, db.size), db, db.shape)
                b["protocol"].compare(f"{who} tap L{i} dW beats per element", self.tap_cnt[wa:wa + dw.size],
                                      np.ones(dw.size, dtype=np.int64), dw.shape)
                b["protocol"].compare(f"{who} tap L{i} db beats per element", self.tap_cnt[ba:ba + db.size],
                                      np.ones(db.size, dtype=np.int64), db.shape)
                expected_taps += dw.size + db.size
            b["protocol"].check_value(f"{who} gradient tap elements in total", int(self.tap_cnt.sum()),
                                      expected_taps)
            if s.acc is not None:
                b["gacc"].compare(f"{who} GMEM", self.mem["G"][:s.acc.size], s.acc)
        else:
            b["protocol"].check_value(f"{who} gradient tap elements in inference", int(self.tap_cnt.sum()), 0)
        self._compare_wmem(f"{who} S:", s.wmem)

    def _compare_phases(self, s: SampleExp, phases):
        measured = [(n, c) for n, c, code in phases if code not in (PH_LOAD, PH_UPDATE)]
        model = self.model[s.train]
        self.sample_log.append({"step": s.step, "index": s.index, "train": s.train,
                                "phases": [(n, c) for n, c, _ in phases]})
        who = f"step {s.step} sample {s.index} ({'train' if s.train else 'inference'})"
        for k in range(max(len(measured), len(model))):
            got = measured[k] if k < len(measured) else None
            exp = model[k] if k < len(model) else None
            self.cycles.check_value(f"{who} phase #{k}", got, exp)

    def compare_wmem(self, what: str, flat):
        """All of WMEM (shadow) against a flat parameter image, named by layer and tensor."""
        self._compare_wmem(what, flat)

    def _compare_wmem(self, what: str, flat):
        prog, b, mem = self.prog, self.boards["wmem"], self.mem["W"]
        for i, (wsh, bsh) in self.net.param_shapes().items():
            wa, ba = prog.w_addr[i]
            nw, nb = int(np.prod(wsh)), int(np.prod(bsh))
            b.compare(f"{what} WMEM L{i} W", mem[wa:wa + nw], flat[wa:wa + nw], wsh)
            b.compare(f"{what} WMEM L{i} b", mem[ba:ba + nb], flat[ba:ba + nb], bsh)

    def _invalidate(self, s):
        """Every sample must write its regions again: forget what was just checked."""
        self.tap_cnt[:] = 0
        self.mem["g"][:] = UNSET
        if s is None:
            return
        prog, tr = self.prog, s.trace
        for i, t in enumerate(tr.outs):
            self.mem["A"][prog.act_addr[i]:prog.act_addr[i] + t.size] = UNSET
        for i, idx in tr.pool_idx.items():
            self.mem["I"][prog.aux_addr[i]:prog.aux_addr[i] + idx.size] = UNSET
        for i, d in tr.deltas.items():
            self.mem["D"][prog.act_addr[i + 1]:prog.act_addr[i + 1] + d.size] = UNSET
        if s.acc is not None:
            self.mem["G"][:s.acc.size] = UNSET

    # -------------------------------------------------------------- result packets
    def check_packets(self, st: StepExp, packets):
        """Result packets of one step (lists of 32-bit beats) against the golden ones, in order."""
        b = self.boards["result"]
        n_cls = self.net.n_classes
        names = ["class"] + [f"logit[{k}]" for k in range(n_cls)] + ["loss"]
        for j, s in enumerate(st.samples):
            who = f"step {st.step} sample {j} result"
            if j >= len(packets):
                b.fail(f"{who}: packet missing")
                b.errors += len(s.packet) - 1
                b.checked += len(s.packet) - 1
                continue
            got = list(packets[j])
            if len(got) != len(s.packet):
                b.fail(f"{who}: {len(got)} beats, expected {len(s.packet)}")
            for k, (g, e) in enumerate(zip(got, s.packet)):
                b.check_value(f"{who} {names[k] if k < len(names) else k}", int(g), e)
        for j in range(len(st.samples), len(packets)):
            b.fail(f"step {st.step}: unexpected result packet #{j}: {list(packets[j])[:4]}...")

    # -------------------------------------------------------------- end
    def errors(self) -> int:
        return sum(b.errors for b in self.boards.values())

    def checked(self) -> int:
        return sum(b.checked for b in self.boards.values())

    def finish(self):
        """-> (data errors, cycle-model errors); records every scoreboard (tbkit.record)."""
        if self.samples:
            self.boards["protocol"].fail(f"{len(self.samples)} expected samples never finished (no S)")
        if self.pending_u is not None:
            self.boards["protocol"].fail(f"step {self.pending_u.step}: no U (step done)")
        data = sum(b.finish() for b in self.boards.values())
        return data, self.cycles.finish()

    def summary(self) -> dict:
        return {n: {"checked": b.checked, "errors": b.errors, "first": b.first}
                for n, b in list(self.boards.items()) + [("cycles", self.cycles)]}


# ----------------------------------------------------------------------------- programs
def relaxed_shapes(input_shape, layers) -> list:
    """Shapes after every layer without any validity rule (k > h gives 0-sized maps)."""
    s = tuple(input_shape)
    out = [s]
    for l in layers:
        if l.kind == "conv":
            s = (l.n, max(s[1] - l.k + 1, 0), max(s[2] - l.k + 1, 0))
        elif l.kind == "maxpool":
            s = (s[0], s[1] // 2, s[2] // 2)
        elif l.kind == "dense":
            s = (l.n, 1, 1)
        out.append(s)
    return out


@dataclass
class RawProgram:
    words: list
    act_addr: list
    aux_addr: dict
    pad_addr: dict
    w_addr: dict
    head: int
    num_layers: int


def encode_program(input_shape, layers, head: str = "softmax_ce") -> RawProgram:
    """golden.compiler's encoding and memory map (compiler.layout) on relaxed shapes, without
    golden.spec.validate, so that programs the core must reject can be built."""
    words, act_addr, aux, pad, w_addr, _, _ = layout(relaxed_shapes(input_shape, layers), layers, head)
    return RawProgram(words, act_addr, aux, pad, w_addr, HEAD_CODES[head], len(layers))


@dataclass
class Malformed:
    name: str
    words: list
    num_layers: int
    head: int
    code: int          # expected STATUS error code


def _set_field(word: int, lsb: int, width: int, value: int) -> int:
    m = ((1 << width) - 1) << lsb
    return (word & ~m) | ((value << lsb) & m)


def malformed_programs(net: Net, amem_depth: int, wmem_depth: int, max_classes: int) -> list:
    """Broken programs derived from `net` (a conv-first net such as A, B, A8, B8) and the error code
    the core must report for each. Only the field under test is wrong; where a field change would
    break the chaining of two layers, both sides are changed."""
    prog = compile_net(net)
    base = list(prog.words)
    nl, head = len(net.layers), prog.head
    out = []

    def mod(name, code, edits):
        w = list(base)
        for idx, lsb, width, val in edits:
            w[idx] = _set_field(w[idx], lsb, width, val)
        out.append(Malformed(name, w, nl, head, code))

    mid = 1                                      # an element-wise layer in every named net
    for op in (0, 6, 9, 15):
        mod(f"layer {mid} op {op}", ERR_OP, [(4 * mid, 0, 4, op)])
    first = net.layers[0]
    h_in = net.input_shape[1]
    mod("conv k = 0", ERR_GEOMETRY, [(0, 4, 4, 0)])
    if h_in < 15:
        mod(f"conv k = {h_in + 1} > h_in", ERR_GEOMETRY, [(0, 4, 4, h_in + 1)])
    else:                                        # k field is 4 bits: shrink the map instead
        mod(f"conv h_in = w_in = {first.k - 1} < k", ERR_GEOMETRY,
            [(1, 0, 8, first.k - 1), (1, 8, 8, first.k - 1)])
    last = nl - 1
    mod(f"last dense n_out = {max_classes + 1} > MAX_CLASSES", ERR_MAXIMUM,
        [(4 * last, 16, 16, max_classes + 1)])
    mod("last dense n_out = 1 (fewer than 2 classes)", ERR_MAXIMUM, [(4 * last, 16, 16, 1)])
    h1 = (base[4 * mid + 1] & 0xFF) - 1
    mod(f"layer {mid} h_in = {h1}: does not chain with layer {mid - 1}", ERR_GEOMETRY,
        [(4 * mid + 1, 0, 8, h1)])
    far = amem_depth - 4
    mod(f"layer {mid} output at AMEM {far} (past AMEM_DEPTH)", ERR_MAXIMUM,
        [(4 * mid + 2, 16, 16, far), (4 * (mid + 1) + 2, 0, 16, far)])
    wfar = wmem_depth - 4
    if wfar < (1 << ADDR_BITS):
        mod(f"last dense weights at WMEM {wfar} (past WMEM_DEPTH)", ERR_MAXIMUM,
            [(4 * last + 3, 0, 16, wfar)])
    n_cls = net.n_classes
    for name, layers in (("first layer relu", (RELU, dense(n_cls))),
                         ("last layer not dense", (conv(first.n, first.k), RELU))):
        rp = encode_program(net.input_shape, layers, net.head)
        out.append(Malformed(name, rp.words, rp.num_layers, rp.head, ERR_STRUCTURE))
    out.append(Malformed("NUM_LAYERS = 0", base, 0, head, ERR_STRUCTURE))
    return out


# ----------------------------------------------------------------------------- synthetic log (self-check)
def _hexword(vals, p: int, width: int, rng) -> str:
    """P lanes (vals for the first lanes, random garbage after) as the wrapper's %h would print."""
    mask = (1 << width) - 1
    word = 0
    for lane in range(p):
        v = int(vals[lane]) if lane < len(vals) else rng.getrandbits(width)
        word |= (v & mask) << (lane * width)
    return format(word, f"0{ceil(p * width / 4)}x")


def _write_lines(tag, base, values, p, width, rng, reduce=False) -> list:
    """One tensor written through a P-lane port in random chunks (reduce: one lane per beat)."""
    values = [int(v) for v in np.asarray(values).reshape(-1)]
    cnt_max = (1 << (p).bit_length()) - 1        # the largest value of the clog2(P+1)-bit count field
    out, pos = [], 0
    while pos < len(values):
        n = 1 if reduce else rng.randint(1, min(p, len(values) - pos))
        count = n
        if n == p and rng.random() < 0.3:
            count = rng.randint(p, cnt_max)       # count >= P means all P lanes
        out.append(f"{tag} {base + pos} {count} {_hexword(values[pos:pos + n], p, width, rng)}")
        pos += n
    return out


def synth_step_log(st: StepExp, net: Net, p: int, rng, u_after_inference: bool = True) -> list:
    """The log lines a correct core would write for one step (expectations from GoldenCore.step):
    load, every phase of golden.cycle_model.phases with its writes and its model cycles, S per sample,
    the batch > 1 update pass (W writes, P 17 per layer), U."""
    prog = compile_net(net)
    wd = lane_widths(net)
    lines = []
    new_params = prog.params_from_flat(st.wmem_after)

    def wr(tag, base, vals, reduce=False):
        lines.extend(_write_lines(tag, base, vals, p, wd[tag][0], rng, reduce))

    def ph(name, cycles):
        if name.startswith("head."):
            code, layer = PHASE_CODES[name], 0
        else:
            lay, rest = name.split(".", 1)
            code, layer = PHASE_CODES[rest], int(lay[1:])
        lines.append(f"P {code} {layer} {cycles}")

    def grad(i, which, reduce):
        """Gradient taps of layer i's weights (0) or biases (1), then their update / accumulation."""
        g = tr.grads[i][which]
        a = prog.w_addr[i][which]
        wr("g", a, g, reduce=reduce)
        if st.batch == 1:
            wr("W", a, new_params[i][which])
        else:
            wr("G", a, s.acc[a:a + g.size])

    for s in st.samples:
        tr = s.trace
        wr("A", prog.act_addr[0], tr.outs[0])
        lines.append(f"P {PH_LOAD} 0 {tr.outs[0].size + 3}")
        model = cycle_model.phases(net, p, s.train)
        names = {n for n, _ in model}
        for name, cycles in model:
            if name.startswith("head."):
                if s.train:
                    wr("D", prog.act_addr[len(net.layers)], tr.deltas[len(net.layers) - 1])
                ph(name, cycles)
                continue
            lay, kind, dirn = name.split(".")
            i = int(lay[1:])
            if dirn == "fwd":
                wr("A", prog.act_addr[i + 1], tr.outs[i + 1])
                if kind == "maxpool":
                    wr("I", prog.aux_addr[i], tr.pool_idx[i])
            elif dirn in ("dw", "dk"):
                grad(i, 0, dirn == "dk")
                if f"L{i}.{kind}.db" not in names:      # a model without separate bias phases
                    grad(i, 1, True)
            elif dirn == "db":
                grad(i, 1, kind == "conv")
            elif dirn in ("dx", "bwd"):
                wr("D", prog.act_addr[i], tr.deltas[i - 1])
            ph(name, cycles)
        lines.append("S")
    if st.train and st.batch > 1:
        upd = dict(update_model(net, p))
        for i in update_order(net):
            wa, ba = prog.w_addr[i]
            w, b = new_params[i]
            wr("W", wa, w)
            wr("W", ba, b)
            lines.append(f"P {PH_UPDATE} {i} {upd.get(f'L{i}.update', w.size + b.size)}")
    if st.train or u_after_inference:
        lines.append("U")
    return lines


# ----------------------------------------------------------------------------- report
def update_report(path, key: str, entry: dict):
    """Read-modify-write of the JSON report (a dict keyed by run), under a file lock (pytest -n)."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text()) if path.exists() else {}
            if not isinstance(data, dict):
                data = {}
        except ValueError:
            data = {}
        data[key] = entry
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        tmp.replace(path)
        fcntl.flock(lock, fcntl.LOCK_UN)


def phase_table(measured, model) -> list:
    """Per-phase measured vs model, aligned by position (for the report)."""
    rows = []
    for k in range(max(len(measured), len(model))):
        m = measured[k] if k < len(measured) else (None, None)
        e = model[k] if k < len(model) else (None, None)
        rows.append({"name": m[0], "measured": m[1], "model_name": e[0], "model": e[1],
                     "equal": m == e})
    return rows

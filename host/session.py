"""Training runs on the RTL core, checked against the golden model as they go.

    s = Session(get_net("A"), P=8, sim="fast", seed=0)
    s.train_step(xs, labels)        # one CTRL start; the result packets against golden.fixed_model
    s.check_weights()               # every weight read back through the AXI-Lite window vs golden
    s.evaluate(x_test, y_test)      # inference runs on the core -> accuracy (predictions vs golden)
    s.epoch(data, e)                # golden/trainer.py's epoch e: same order, batches, reporting

One API for the demo (scripts/train.py --sim), the tests (tests/test_fastpath_*.py) and the benchmark
(scripts/bench.py). The golden model (golden.fixed_model.FixedNet) runs in lock-step with the core:
it starts from the same quantized initialization (golden/trainer.initial_params) and sees the same
samples, so the first difference shows up in the packet of the step that made it. Mismatches are
counted (and the first few kept as text), never raised: a run reports them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from golden import mse_delta, softmax
from golden.compiler import compile_net
from golden.fixed_model import FixedNet
from golden.requantize import to_codes
from golden.trainer import epoch_order, initial_params

from .core import Core

EVAL_BATCH = 32          # test samples per inference start


def make_sim(sim, params: dict):
    """Transport by name: 'fast' (Verilator, host.fastsim) or 'icarus' (host.icarus); or a callable
    params -> transport."""
    if callable(sim):
        return sim(params)
    if sim == "fast":
        from .fastsim import FastSim
        return FastSim(params=params)
    if sim == "icarus":
        from .icarus import IcarusSim
        return IcarusSim(params=params)
    raise ValueError(f"unknown simulator {sim!r}: use 'fast' or 'icarus'")


def expected_packet(tr, label: int, fx: FixedNet, train: bool) -> list:
    """[class, logits..., loss] as the core sends them (logits sign-extended, loss unsigned 32-bit)."""
    loss = tr.loss
    if not train:      # inference: the loss backward() would have computed
        z = tr.outs[-1].reshape(-1)
        if fx.net.head == "softmax_ce":
            loss = softmax.loss(z, label, fx.f.act)
        else:
            loss = mse_delta.loss(tr.head_out, label, fx.f.act.frac)
    return [int(tr.pred)] + [int(v) & 0xFFFFFFFF for v in tr.outs[-1].reshape(-1)] + [int(loss) & 0xFFFFFFFF]


@dataclass
class Stats:
    steps: int = 0
    samples: int = 0
    mismatches: int = 0             # packets or weights that differ from the golden model
    packets_checked: int = 0
    weights_checked: int = 0
    sim_cycles: int = 0             # simulated cycles of training steps (start write to last beat)
    sim_seconds: float = 0.0        # wall time inside the simulator calls
    sim_cpu_seconds: float = 0.0    # this process's CPU time inside them (independent of other load)
    golden_seconds: float = 0.0
    first: list = field(default_factory=list)

    def note(self, text: str):
        self.mismatches += 1
        if len(self.first) < 10:
            self.first.append(text)


class Session:
    def __init__(self, net, P: int = 8, sim: str = "fast", seed: int = 0, params: dict | None = None,
                 model_cls=FixedNet, core_params: dict | None = None, pauses: tuple = (0, 0, 0)):
        """net: a golden.spec.Net; params: initial parameter codes (default: trainer.initial_params(seed));
        core_params: extra Verilog parameters of the core; pauses: (sample-stream idle permille,
        result-stream stall permille, pattern seed)."""
        self.net, self.P, self.seed = net, P, seed
        self.prog = compile_net(net)
        if params is None:
            _, params = initial_params(net, seed)
        self.fx = model_cls(net, params)
        self.lr_code = FixedNet(net, params).lr_code       # the true code, whatever the model class is
        vparams = {"P": P, **(core_params or {})}
        self.sim = make_sim(sim, vparams)
        self.core = Core(self.sim, wmem_depth=vparams.get("WMEM_DEPTH", 32768))
        self.stats = Stats()
        self.golden_eval_seconds = 0.0
        self.pauses = pauses
        from golden import cycle_model
        self.cyc_train = cycle_model.total(net, P, True)
        self.cyc_infer = cycle_model.total(net, P, False)
        self.start()

    def start(self):
        """Reset, program, load every weight (what a host does after power-up or a reset)."""
        self.core.reset()
        self.program()
        self.core.load_weights(self.golden_wmem())

    def program(self, batch: int | None = None):
        self.core.program(self.prog, batch=batch or self.net.batch, lr=self.lr_code, seed=self.net.fmt.lfsr_seed)
        self.fx.lfsr = type(self.fx.lfsr)(self.net.fmt.lfsr_seed)

    def golden_wmem(self) -> np.ndarray:
        return self.prog.weights_flat(self.fx.params)

    def close(self):
        self.sim.close()

    # ------------------------------------------------------------------ steps
    def _pause_kw(self):
        i, o, s = self.pauses
        return {"in_idle": i, "out_stall": o, "seed": s} if (i or o) else {}

    def _compare(self, what: str, packets, exp: list):
        st = self.stats
        if len(packets) != len(exp):
            st.note(f"{what}: {len(packets)} result packets, expected {len(exp)}")
        for k, (p, e) in enumerate(zip(packets, exp)):
            st.packets_checked += 1
            if p.beats != e:
                st.note(f"{what} sample {k}: packet {p.beats} != golden {e}")

    def train_step(self, xs, labels, **kw):
        """One training start over len(xs) samples (act codes). -> golden traces."""
        t0 = time.perf_counter()
        traces = self.fx.train_step(xs, labels)
        exp = [expected_packet(tr, int(y), self.fx, True) for tr, y in zip(traces, labels)]
        t1, u1 = time.perf_counter(), time.process_time()
        res = self.core.train(xs, labels, cycles_per_sample=self.cyc_train, **{**self._pause_kw(), **kw})
        t2, u2 = time.perf_counter(), time.process_time()
        st = self.stats
        st.sim_cpu_seconds += u2 - u1
        st.golden_seconds += t1 - t0
        st.sim_seconds += t2 - t1
        st.sim_cycles += res.cycles
        st.steps += 1
        st.samples += len(xs)
        self._compare(f"step {st.steps}", res.packets, exp)
        return traces, res

    def infer(self, xs, labels):
        """One inference start. -> (core predictions, golden predictions)."""
        t0 = time.perf_counter()
        exp = []
        for x, y in zip(xs, labels):
            tr = self.fx.forward(x)
            exp.append(expected_packet(tr, int(y), self.fx, False))
        self.golden_eval_seconds += time.perf_counter() - t0
        res = self.core.infer(xs, labels, cycles_per_sample=self.cyc_infer, **self._pause_kw())
        self._compare(f"inference after step {self.stats.steps}", res.packets, exp)
        return [p.pred for p in res.packets], [e[0] for e in exp]

    def check_weights(self) -> int:
        """Every weight read back through the window against the golden model. -> mismatching words."""
        exp = self.golden_wmem()
        got = self.core.read_weights(len(exp))
        bad = np.nonzero(got != exp)[0]
        self.stats.weights_checked += len(exp)
        if len(bad):
            self.stats.note(f"weights after step {self.stats.steps}: {len(bad)} differ, first element "
                            f"{int(bad[0])}: core {int(got[bad[0]])}, golden {int(exp[bad[0]])}")
        return len(bad)

    def evaluate(self, x_codes, y) -> tuple:
        """Inference on the core over a data set. -> (core accuracy, golden accuracy)."""
        preds, gold = [], []
        for s in range(0, len(y), EVAL_BATCH):
            p, g = self.infer(x_codes[s:s + EVAL_BATCH], y[s:s + EVAL_BATCH])
            preds += p
            gold += g
        y = np.asarray(y)
        return float(np.mean(np.array(preds) == y)), float(np.mean(np.array(gold) == y))

    # ------------------------------------------------------------------ epochs
    def epoch(self, xin, ytr, e: int, progress=None, limit: int | None = None):
        """Epoch e of golden/trainer.train: -> (mean loss, running training accuracy)."""
        n = len(ytr) if limit is None else min(limit, len(ytr))
        order = epoch_order(len(ytr), self.seed, e)[:n]
        scale = 2.0 ** -16 if self.net.head == "softmax_ce" else 2.0 ** -(2 * self.net.fmt.act.frac)
        losses, correct = [], 0
        for s in range(0, n, self.net.batch):
            idx = order[s:s + self.net.batch]
            trs, res = self.train_step(xin[idx], ytr[idx])
            losses += [p.loss * scale for p in res.packets]
            correct += sum(int(p.pred == y) for p, y in zip(res.packets, ytr[idx]))
            if progress:
                progress(len(idx))
        return float(np.mean(losses)) if losses else 0.0, correct / max(n, 1)


def input_codes(net, x) -> np.ndarray:
    """Float images -> act codes (what the sample stream carries)."""
    return to_codes(np.asarray(x, dtype=np.float64), net.fmt.act)

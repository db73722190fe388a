#!/usr/bin/env python3
"""Benchmarks (figures, not pass/fail): writes JSON under --out.

    cycle_model.json   cycles per training step and per inference, MAC bounds and utilization for
                       every named net at P = 1, 2, 4, 8, 16, 32 (golden/cycle_model.py; the RTL core
                       will be held to these; they are predictions until the core exists)
    golden_speed.json  wall-clock milliseconds per training step of the fixed and float golden models
    sim_speed.json     simulated core cycles per second of network A at P = 8, measured in this run:
                       "fast" (the Verilator fast path, host/fastsim.py), "icarus" (host/icarus.py,
                       the same host over a pipe) and "cocotb_verilator" (the end-to-end cocotb bench,
                       scripts/sim_speed_cocotb.py), with ratios to each other and to the NumPy float
                       model's training steps per second on this CPU (--no-sim skips it)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from golden import cycle_model  # noqa: E402
from golden.requantize import to_codes  # noqa: E402
from golden.spec import NETS, get_net  # noqa: E402
from golden.trainer import make_model  # noqa: E402


def step_ms(net, kind, steps):
    model = make_model(net, kind, 0)
    x = np.random.default_rng(0).uniform(0, 1, (steps,) + net.input_shape)
    if kind == "fixed":
        x = to_codes(x, net.fmt.act)
    t0 = time.perf_counter()
    for xi in x:
        model.train_step([xi], [3])
    return 1e3 * (time.perf_counter() - t0) / steps


def fast_speed(net_name: str = "A", P: int = 8, steps: int = 300, repeats: int = 3) -> dict:
    """Training steps of `net_name` on the fast path (random samples, every packet checked against the
    golden model). cycles_per_s = simulated cycles / wall seconds inside the simulator calls (the
    golden model excluded), the median of `repeats` runs; cycles_per_cpu_s the same per CPU second of
    this process (what the figure would be on an idle core)."""
    import statistics

    from host.fastsim import build
    from host.session import Session

    net = get_net(net_name)
    t0 = time.perf_counter()
    build({"P": P})
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 1 << net.fmt.act.frac, (steps, *net.input_shape))
    ys = rng.integers(0, net.n_classes, steps)
    runs = []
    for _ in range(repeats):
        s = Session(net, P=P, sim="fast", seed=0)
        for i in range(steps):
            s.train_step(xs[i:i + 1], ys[i:i + 1])
        st = s.stats
        runs.append({"cycles_per_s": st.sim_cycles / st.sim_seconds,
                     "cycles_per_cpu_s": st.sim_cycles / max(st.sim_cpu_seconds, 1e-9),
                     "mismatches": st.mismatches, "cycles_per_step": st.sim_cycles / st.steps})
        s.close()
    med = lambda k: round(statistics.median(r[k] for r in runs))  # noqa: E731
    return {"net": net_name, "P": P, "steps": steps, "repeats": repeats, "cycles_per_s": med("cycles_per_s"),
            "cycles_per_s_runs": [round(r["cycles_per_s"]) for r in runs],
            "cycles_per_cpu_s": med("cycles_per_cpu_s"), "cycles_per_step": runs[0]["cycles_per_step"],
            "steps_per_s": round(med("cycles_per_s") / runs[0]["cycles_per_step"], 1),
            "mismatches": sum(r["mismatches"] for r in runs), "build_s_if_not_cached": round(build_s, 1),
            "target_cycles_per_s": 1_000_000}


def sim_speed(steps: int, icarus_steps: int = 1) -> dict:
    out = {"fast": fast_speed("A", 8, steps)}
    try:
        from host.icarus import measure_cycles_per_s
        r = measure_cycles_per_s("A", 8, icarus_steps)
        out["icarus"] = {"net": "A", "P": 8, **r}
    except Exception as e:  # noqa: BLE001  (a missing simulator is reported, not fatal)
        out["icarus"] = {"net": "A", "P": 8, "error": f"{type(e).__name__}: {e}"}
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from sim_speed_cocotb import measure
        r = measure(("verilator",), "A", 8, 1).get("verilator", {})
        out["cocotb_verilator"] = {"net": "A", "P": 8, **r}
    except Exception as e:  # noqa: BLE001
        out["cocotb_verilator"] = {"net": "A", "P": 8, "error": f"{type(e).__name__}: {e}"}
    t = out["fast"]["cycles_per_step"]
    flt = step_ms(get_net("A"), "float", 200)
    out["cpu_numpy_float"] = {"net": "A", "ms_per_step": round(flt, 3), "steps_per_s": round(1e3 / flt, 1)}
    ratios = {"fast_steps_per_s_over_numpy_float": round(out["fast"]["steps_per_s"] / (1e3 / flt), 3)}
    for k in ("icarus", "cocotb_verilator"):
        c = out[k].get("cycles_per_s")
        if c:
            ratios[f"fast_over_{k}"] = round(out["fast"]["cycles_per_s"] / c, 1)
    out["ratios"] = ratios
    out["fast"]["meets_target"] = out["fast"]["cycles_per_s"] >= 1_000_000
    out["note"] = (f"one training step of A at P = 8 is {t:.0f} simulated cycles; wall-clock figures "
                   "drop when other processes share the CPU (cycles_per_cpu_s does not)")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--steps", type=int, default=50, help="training steps timed per model")
    ap.add_argument("--sim-steps", type=int, default=300, help="fast-path training steps per repeat")
    ap.add_argument("--no-sim", action="store_true", help="skip sim_speed.json")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cyc = [cycle_model.summary(get_net(n), p) for n in NETS for p in (1, 2, 4, 8, 16, 32)]
    (out / "cycle_model.json").write_text(json.dumps(cyc, indent=1))
    speed = [{"net": n, "kind": k, "ms_per_step": round(step_ms(get_net(n), k, a.steps), 3)}
             for n in NETS for k in ("float", "fixed")]
    (out / "golden_speed.json").write_text(json.dumps(speed, indent=1))
    for r in speed:
        print(f"{r['net']:3s} {r['kind']:5s} {r['ms_per_step']:8.3f} ms/step")
    print(f"wrote {out / 'cycle_model.json'} and {out / 'golden_speed.json'}")
    if not a.no_sim:
        ss = sim_speed(a.sim_steps)
        tmp = out / f".sim_speed.json.tmp{os.getpid()}"
        tmp.write_text(json.dumps(ss, indent=1) + "\n")
        tmp.replace(out / "sim_speed.json")
        for k in ("fast", "icarus", "cocotb_verilator"):
            r = ss[k]
            print(f"{k:17s} " + (f"{r['cycles_per_s']:>12,.0f} cycles/s" if "cycles_per_s" in r else r.get("error", "?")))
        print(f"ratios: {ss['ratios']}")
        print(f"wrote {out / 'sim_speed.json'}")


if __name__ == "__main__":
    main()

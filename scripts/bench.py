#!/usr/bin/env python3
"""Benchmarks (figures, not pass/fail): writes JSON under --out.

    cycle_model.json   cycles per training step and per inference, MAC bounds and utilization for
                       every named net at P = 1, 2, 4, 8, 16, 32 (golden/cycle_model.py; the RTL core
                       will be held to these; they are predictions until the core exists)
    golden_speed.json  wall-clock milliseconds per training step of the fixed and float golden models
"""
from __future__ import annotations

import argparse
import json
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--steps", type=int, default=50, help="training steps timed per model")
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


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Train the float reference and the fixed-point golden model on digits (or MNIST) and report.

    python scripts/train.py --net A --net B --out build/demo          (what `make demo` runs)
    python scripts/train.py --net A8 --sweep --out build/sweep        (accuracy vs format and rounding)
    python scripts/train.py --net A --mnist /path/to/mnist            (IDX files, raw or .gz)

Writes <out>/report.json (accuracy_float, accuracy_fixed, net, epochs, seed, formats, ... per net) and
<out>/training.png (loss and test accuracy per epoch). --sweep writes <out>/sweep.json and sweep.png.
Both models start from the same quantized initialization and see the same data order (golden/trainer.py).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golden.data import load_for  # noqa: E402
from golden.spec import NETS, Fmt, get_net  # noqa: E402
from golden.trainer import train  # noqa: E402

DEFAULT_EPOCHS = {"A": 10, "B": 8, "A8": 10, "B8": 10}


def _bar(total, desc, position=None):
    try:
        from tqdm import tqdm
        return tqdm(total=total, desc=desc, unit="img", leave=False, file=sys.stderr, position=position,
                    dynamic_ncols=True)
    except ImportError:  # pragma: no cover
        return None


def run_pair(net, data, epochs, seed, limit=None):
    """Float and fixed training in this process (--sim none)."""
    out = {}
    n = len(data[1]) if limit is None else min(limit, len(data[1]))
    for kind in ("float", "fixed"):
        bar = _bar(epochs * n, f"{net.name} {kind}")
        t0 = time.time()
        _, hist = train(net, kind, data, epochs, seed, progress=bar.update if bar else None, limit=limit)
        if bar:
            bar.close()
        hist["seconds"] = round(time.time() - t0, 2)
        out[kind] = hist
    return out


# ------------------------------------------------------------------------- jobs (one process each)
def _progress(q, job):
    """progress(n, **info) for a worker: messages (job, n, info) to the parent's bars."""
    if q is None:
        return None
    return lambda n, **info: q.put((job, n, info))


def job_float(net, mnist, epochs, seed, limit, q, job):
    data = load_for(net, mnist)
    t0 = time.time()
    prog = _progress(q, job)
    _, hist = train(net, "float", data, epochs, seed, progress=prog, limit=limit)
    hist["seconds"] = round(time.time() - t0, 2)
    return hist


def job_rtl(net, mnist, epochs, seed, limit, sim, P, q, job):
    """The core (sim) and the golden fixed model in lock-step (host/session.py). -> (fixed, rtl)."""
    from host.session import Session, input_codes

    xtr, ytr, xte, yte = load_for(net, mnist)
    xin, xtest = input_codes(net, xtr), input_codes(net, xte)
    t0 = time.time()
    s = Session(net, P=P, sim=sim, seed=seed)
    setup_s = time.time() - t0
    prog = _progress(q, job)
    st = s.stats
    fixed = {"epoch": [], "loss": [], "acc_test": [], "acc_train_running": []}
    rtl = {"epoch": [], "loss": [], "acc_test": [], "acc_train_running": [], "mismatches": []}

    def tick(k):
        if prog:
            dt = max(st.sim_seconds, 1e-9)
            prog(k, steps_s=st.steps / max(time.time() - t0, 1e-9), cycles_s=st.sim_cycles / dt,
                 mism=st.mismatches)

    for e in range(epochs):
        loss, run_acc = s.epoch(xin, ytr, e, progress=tick, limit=limit)
        s.check_weights()
        acc_rtl, acc_fixed = s.evaluate(xtest, yte)
        for h, acc in ((fixed, acc_fixed), (rtl, acc_rtl)):
            h["epoch"].append(e + 1)
            h["loss"].append(loss)            # identical packets: one loss for both
            h["acc_train_running"].append(run_acc)
            h["acc_test"].append(acc)
        rtl["mismatches"].append(st.mismatches)
    wall = time.time() - t0
    cycles = s.sim.cycles
    sim_s = max(wall - st.golden_seconds - s.golden_eval_seconds - setup_s, 1e-9)
    fixed["seconds"] = round(st.golden_seconds + s.golden_eval_seconds, 2)
    rtl["seconds"] = round(wall, 2)
    summary = {
        "sim": sim, "P": P, "accuracy": rtl["acc_test"][-1] if epochs else None, "steps": st.steps,
        "epochs": epochs, "samples": st.samples, "mismatches": st.mismatches, "first_mismatches": st.first,
        "packets_checked": st.packets_checked, "weights_checked": st.weights_checked,
        "cycles_per_step": round(st.sim_cycles / max(st.steps, 1), 1),
        "core_cycles_last_step": s.core.counters()["cyc_total"],
        "sim_cycles": cycles, "sim_cycles_per_s": round(cycles / sim_s),
        "wall_s": round(wall, 2), "golden_s": round(st.golden_seconds + s.golden_eval_seconds, 2),
        "equals_fixed": rtl["acc_test"] == fixed["acc_test"],
    }
    s.close()
    return fixed, rtl, summary


def run_jobs(jobs, n_workers):
    """jobs: {key: (fn, args, total samples, label)} in worker processes, with one progress bar each
    (steps/s and simulated cycles/s for the RTL jobs). -> {key: result}."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    mgr = ctx.Manager()
    q = mgr.Queue()
    bars = {k: _bar(total, label, position=i) for i, (k, (_, _, total, label)) in enumerate(jobs.items())}
    out, futs = {}, {}
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as ex:
        for k, (fn, args, _, _) in jobs.items():
            futs[ex.submit(fn, *args, q, k)] = k
        pending = set(futs)
        while pending:
            while not q.empty():
                k, n, info = q.get()
                b = bars.get(k)
                if b is not None:
                    b.update(n)
                    if info:
                        b.set_postfix({"steps/s": f"{info['steps_s']:.0f}",
                                       "cycles/s": f"{info['cycles_s'] / 1e6:.2f}M",
                                       "mismatches": info["mism"]}, refresh=False)
            done = {f for f in pending if f.done()}
            for f in done:
                out[futs[f]] = f.result()
                if bars.get(futs[f]) is not None:
                    bars[futs[f]].close()
            pending -= done
            time.sleep(0.2)
    mgr.shutdown()
    return out


def _net(a, name):
    return get_net(name, batch=a.batch) if a.lr is None else get_net(name, batch=a.batch, lr=a.lr)


def train_all(a, seed):
    """Float, fixed and (sim != none) RTL runs of every net for one seed. -> {net: result dict}."""
    jobs = {}
    for name in a.net:
        net = _net(a, name)
        epochs = a.epochs or DEFAULT_EPOCHS.get(name, 8)
        n = len(load_for(net, a.mnist)[1])
        n = n if a.limit is None else min(a.limit, n)
        jobs[(name, "float")] = (job_float, (net, a.mnist, epochs, seed, a.limit), epochs * n,
                                 f"{name} float s{seed}")
        if a.sim == "none":
            jobs[(name, "fixed")] = (job_fixed, (net, a.mnist, epochs, seed, a.limit), epochs * n,
                                     f"{name} fixed s{seed}")
        else:
            jobs[(name, "rtl")] = (job_rtl, (net, a.mnist, epochs, seed, a.limit, a.sim, a.P), epochs * n,
                                   f"{name} RTL ({a.sim}, P={a.P}) + fixed s{seed}")
    res = run_jobs(jobs, a.jobs)
    out = {}
    for name in a.net:
        net = _net(a, name)
        r = {"float": res[(name, "float")]}
        if a.sim == "none":
            r["fixed"] = res[(name, "fixed")]
        else:
            r["fixed"], r["rtl"], r["rtl_summary"] = res[(name, "rtl")]
        r["epochs"] = a.epochs or DEFAULT_EPOCHS.get(name, 8)
        out[name] = r
    return out


def job_fixed(net, mnist, epochs, seed, limit, q, job):
    data = load_for(net, mnist)
    t0 = time.time()
    _, hist = train(net, "fixed", data, epochs, seed, progress=_progress(q, job), limit=limit)
    hist["seconds"] = round(time.time() - t0, 2)
    return hist


def _mean_sd(v):
    v = [x for x in v if x is not None]
    if not v:
        return None
    a = np.array(v, dtype=np.float64) * 100
    return {"mean": round(float(a.mean()), 3), "sd": round(float(a.std(ddof=1)) if len(a) > 1 else 0.0, 3),
            "n": len(a), "values": [round(float(x), 3) for x in a]}


def cmd_train(a):
    seeds = a.seeds if a.seeds else [a.seed]
    runs = {s: train_all(a, s) for s in seeds}
    report = {"nets": {}, "seeds": seeds, "sim": a.sim}
    first = runs[seeds[0]]
    for name in a.net:
        net = _net(a, name)
        data = load_for(net, a.mnist)
        r0 = first[name]
        acc_f, acc_q = r0["float"]["acc_test"][-1], r0["fixed"]["acc_test"][-1]
        entry = {
            "net": name, "description": net.describe(), "dataset": "mnist" if a.mnist else "digits",
            "epochs": r0["epochs"], "seed": seeds[0], "batch": net.batch, "lr": net.lr,
            "accuracy_float": acc_f, "accuracy_fixed": acc_q,
            "gap_pp": round(100 * (acc_f - acc_q), 2), "formats": net.fmt.as_dict(),
            "history": {k: r0[k] for k in ("float", "fixed", "rtl") if k in r0},
            "train_samples": len(data[1]), "test_samples": len(data[3]),
        }
        if "rtl_summary" in r0:
            entry["rtl"] = r0["rtl_summary"]
        if len(seeds) > 1:
            per = [runs[s][name] for s in seeds]
            ms = {"float": _mean_sd([p["float"]["acc_test"][-1] for p in per]),
                  "fixed": _mean_sd([p["fixed"]["acc_test"][-1] for p in per]),
                  "gap_pp": _mean_sd([p["float"]["acc_test"][-1] - p["fixed"]["acc_test"][-1] for p in per])}
            if "rtl_summary" in per[0]:
                ms["rtl"] = _mean_sd([p["rtl_summary"]["accuracy"] for p in per])
                ms["rtl_mismatches"] = sum(p["rtl_summary"]["mismatches"] for p in per)
                ms["rtl_equals_fixed"] = all(p["rtl_summary"]["equals_fixed"] for p in per)
            entry["over_seeds"] = ms
        report["nets"][name] = entry
        line = (f"{name}: float {100 * acc_f:.2f}%  fixed {100 * acc_q:.2f}%  gap {100 * (acc_f - acc_q):+.2f} pp"
                f"  ({r0['epochs']} epochs, seed {seeds[0]})")
        if "rtl_summary" in r0:
            rs = r0["rtl_summary"]
            line += (f"\n   RTL ({rs['sim']}, P={rs['P']}): {100 * rs['accuracy']:.2f}%  {rs['steps']} steps, "
                     f"{rs['mismatches']} mismatches, {rs['cycles_per_step']:.0f} cycles/step, "
                     f"{rs['sim_cycles_per_s'] / 1e6:.2f}M sim cycles/s, {rs['wall_s']:.0f} s")
        if len(seeds) > 1:
            ms = entry["over_seeds"]
            line += "\n   over seeds " + ", ".join(str(s) for s in seeds) + ": " + "  ".join(
                f"{k} {v['mean']:.2f} ± {v['sd']:.2f}" + (" pp" if k == "gap_pp" else " %")
                for k, v in ms.items() if isinstance(v, dict))
        print(line)
    if len(a.net) == 1:  # flat keys for a single net
        report.update({k: v for k, v in report["nets"][a.net[0]].items() if k != "history"})
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    plot_training({n: first[n] for n in a.net}, out / "training.png")
    print(f"wrote {out / 'report.json'} and {out / 'training.png'}")
    bad = [n for n in a.net if "rtl_summary" in first[n] and
           (first[n]["rtl_summary"]["mismatches"] or not first[n]["rtl_summary"]["equals_fixed"])]
    if bad:
        print(f"error: the RTL disagreed with the golden model for {', '.join(bad)}", file=sys.stderr)
        sys.exit(1)


def plot_training(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for name, res in results.items():
        for kind, style in (("float", "-"), ("fixed", "--"), ("rtl", ":")):
            if kind not in res:
                continue
            h = res[kind]
            ax[0].plot(h["epoch"], h["loss"], style, label=f"{name} {kind}")
            ax[1].plot(h["epoch"], [100 * v for v in h["acc_test"]], style, label=f"{name} {kind}")
    ax[0].set(xlabel="epoch", ylabel="mean training loss", title="loss")
    ax[1].set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    for x in ax:
        x.grid(alpha=0.3)
        x.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------- sweep
SWEEP_FRACS = {"act": [4, 6, 8, 10, 12], "weight": [8, 10, 12, 14]}
SWEEP_MODES = ["truncate", "half_up", "half_even", "stochastic"]


def _sweep_one(job):
    name, cls, frac, mode, epochs, seed, limit, mnist = job
    net = get_net(name)
    f = net.fmt
    fmt = replace(f, **{cls: Fmt(16, frac)}, round_update=mode)
    net = replace(net, fmt=fmt)
    data = load_for(net, mnist)
    _, h = train(net, "fixed", data, epochs, seed, limit=limit)
    return {"class": cls, "frac": frac, "mode": mode, "acc": h["acc_test"][-1]}


def cmd_sweep(a):
    name = a.net[0]
    net = get_net(name)
    epochs = a.epochs or DEFAULT_EPOCHS.get(name, 8)
    data = load_for(net, a.mnist)
    _, hf = train(net, "float", data, epochs, a.seed, limit=a.limit)
    jobs = [(name, cls, fr, mode, epochs, a.seed, a.limit, a.mnist)
            for cls, fracs in SWEEP_FRACS.items() for fr in fracs for mode in SWEEP_MODES]
    rows = []
    bar = _bar(len(jobs), f"sweep {name}")
    with ProcessPoolExecutor(max_workers=a.jobs) as ex:
        for r in ex.map(_sweep_one, jobs):
            rows.append(r)
            if bar:
                bar.update(1)
    if bar:
        bar.close()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res = {"net": name, "epochs": epochs, "seed": a.seed, "accuracy_float": hf["acc_test"][-1],
           "defaults": net.fmt.as_dict(), "rows": rows,
           "note": "one class's fractional bits varied (16-bit width), others at defaults; "
                   "mode = rounding of the weight update"}
    (out / "sweep.json").write_text(json.dumps(res, indent=1))
    plot_sweep(res, out / "sweep.png")
    for r in rows:
        print(f"{r['class']:6s} frac {r['frac']:2d} {r['mode']:10s} {100 * r['acc']:.2f}%")
    print(f"float {100 * res['accuracy_float']:.2f}%; wrote {out / 'sweep.json'} and {out / 'sweep.png'}")


def plot_sweep(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = list(SWEEP_FRACS)
    fig, ax = plt.subplots(1, len(classes), figsize=(5 * len(classes), 4), sharey=True)
    for x, cls in zip(ax, classes):
        for mode in SWEEP_MODES:
            pts = sorted((r["frac"], 100 * r["acc"]) for r in res["rows"]
                         if r["class"] == cls and r["mode"] == mode)
            x.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=mode)
        x.axhline(100 * res["accuracy_float"], color="k", ls=":", label="float")
        x.set(xlabel=f"{cls} fractional bits (16-bit word)", title=f"{res['net']}: {cls} format")
        x.grid(alpha=0.3)
    ax[0].set_ylabel("test accuracy (%)")
    ax[0].legend(title="update rounding")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _seed_range(text: str) -> list:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        try:
            out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad seed list {text!r}: use e.g. 0-4 or 0,3,7")
    if not out:
        raise argparse.ArgumentTypeError(f"empty seed list {text!r}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", action="append", choices=sorted(NETS), help="net to train (repeatable)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default per net)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1, help="mini-batch size (gradients summed)")
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default per net)")
    ap.add_argument("--limit", type=int, default=None, help="cap training samples per epoch")
    ap.add_argument("--mnist", default=None, help="directory with MNIST IDX files (else digits)")
    ap.add_argument("--out", default="build/demo")
    ap.add_argument("--sweep", action="store_true", help="accuracy vs fractional bits and rounding")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--sim", choices=["fast", "icarus", "none"], default="none",
                    help="also train on the RTL core: fast (Verilator), icarus (slow cross-check), none")
    ap.add_argument("--P", type=int, default=8, help="lanes of the simulated core")
    ap.add_argument("--seeds", type=_seed_range, default=None,
                    help="several seeds, e.g. 0-4 or 0,3,7: report mean ± sd over them")
    a = ap.parse_args(argv)
    a.net = a.net or ["A", "B"]
    (cmd_sweep if a.sweep else cmd_train)(a)


if __name__ == "__main__":
    main()

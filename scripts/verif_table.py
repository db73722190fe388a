#!/usr/bin/env python3
"""The README's verification tables from the testbenches' own reports: per block and parameter set
(tests, outputs checked, mismatches, mutants caught, date), the training core end to end (cocotb), and
the fast-path tests (whole epochs, random programs, malformed tables, resets).

    python scripts/verif_table.py [--run ID | --merge] [--runs build/reports/runs]
                                  [--out build/reports/verification.md]
    (also writes verification.json beside --out: the three tables, for scripts/readme_tables.py)
    python scripts/verif_table.py --jsonl build/reports/scoreboards.jsonl [--core-json ...]   (old files)

Reports (tb/tbkit.py, host/report.py): every test process writes its own files under
build/reports/runs/<run id>/, atomically (a reader sees a whole file or none):
  sb_<block>_<params>_<sim>_<pid>.json   {"kind": "scoreboards", "records": [...]}, one record per
                                         scoreboard (tbkit.record)
  core_<net>_P<p>_B<batch>_<sim>.json    {"kind": "core", ...} one end-to-end training run (tb/cnn_core)
  test_<pytest node>_<sim>_<params>.json {"kind": "test", "state": running | passed | failed}
  fastpath_<what>.json                   the fast-path tests (tb/fastpath, host/report.py): configs,
                                         epochs, random nets, malformed tables, resets
The run id is REPORT_RUN_ID (the Makefile sets one per `make test` / `make sim`), else one per pytest
run. A run is complete when none of its pytest entries is still "running" (an interrupted or
unfinished run is never picked by default).

Which run: --run ID (what `make sim` passes: exactly its own run), else the newest complete run that
has scoreboard or core reports. --merge: the newest complete record of every row over all complete
runs (for runs of parts of the suite, e.g. `pytest tb/relu` then `pytest tb/cnn_core`).

A test whose name contains "mutant" is expected to see errors: it counts under "mutants caught" when
any of its scoreboards saw some (and as missed if none did). Every other scoreboard's errors are
mismatches.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "build" / "reports" / "runs"


# ----------------------------------------------------------------------------- reading runs
def read_dir(d: Path) -> dict:
    """One run directory -> {"id", "mtime", "records", "core": {key: entry}, "tests": {name: entry},
    "running": [node ids still running]}. Unreadable files are skipped (the writers rename whole
    files into place, so only foreign files can be partial)."""
    run = {"id": d.name, "mtime": 0.0, "records": [], "core": {}, "fast": {}, "tests": {}, "running": []}
    for f in sorted(d.glob("*.json")):
        try:
            e = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(e, dict):
            continue
        run["mtime"] = max(run["mtime"], f.stat().st_mtime)
        kind = e.get("kind")
        if kind == "scoreboards":
            run["records"] += [{**r, "run_id": d.name} for r in e.get("records", [])]
        elif kind == "core":
            run["core"][core_key(e)] = {**e, "run_id": d.name}
        elif f.stem.startswith("fastpath_"):
            run["fast"][f.stem] = {**e, "run_id": d.name}
        elif kind == "test":
            run["tests"][f.stem] = e
            if e.get("state") == "running":
                run["running"].append(e.get("nodeid", f.stem))
    return run


def read_runs(root: Path = RUNS) -> list:
    """Every run under `root` with scoreboard or core reports, oldest first (newest file time)."""
    if not root.is_dir():
        return []
    runs = [read_dir(d) for d in root.iterdir() if d.is_dir()]
    return sorted((r for r in runs if r["records"] or r["core"]), key=lambda r: r["mtime"])


def complete(run: dict) -> bool:
    return not run["running"]


def core_key(e: dict) -> str:
    return f"{e.get('net')}_P{e.get('P')}_B{e.get('batch')}_{e.get('sim', 'icarus')}"


def row_key(r: dict) -> tuple:
    return (r.get("block", "?"), r.get("params_text") or r.get("params", "?"))


def merge(runs: list) -> tuple:
    """(records, core, fast) with, for every table row, the records of the newest run that has it."""
    rows, core, fast = {}, {}, {}
    for run in runs:                       # oldest first: newer runs replace rows
        by_row = defaultdict(list)
        for r in run["records"]:
            by_row[row_key(r)].append(r)
        rows.update(by_row)
        core.update(run["core"])
        fast.update(run["fast"])
    return [r for recs in rows.values() for r in recs], core, fast


# ----------------------------------------------------------------------------- tables
def _n(v) -> str:
    """A count for a table cell: 1,234, or - when the report has none (e.g. no inference run)."""
    if v is None:
        return "-"
    try:
        return f"{int(v):,}"
    except (TypeError, ValueError):
        return str(v)


def _day(r: dict) -> str:
    return str(r.get("date", ""))[:10]


def table(records) -> str:
    rows = defaultdict(lambda: {"tests": set(), "checked": 0, "mismatches": 0, "date": ""})
    mutant_errors = defaultdict(int)      # (block, params, test) -> errors over its scoreboards
    for r in records:
        key = row_key(r)
        row = rows[key]
        row["tests"].add(r.get("test", "?"))
        row["date"] = max(row["date"], _day(r))
        if "mutant" in r.get("test", ""):
            mutant_errors[key + (r.get("test", "?"),)] += int(r.get("errors", 0))
        else:
            row["checked"] += int(r.get("checked", 0))
            row["mismatches"] += int(r.get("errors", 0))
    lines = ["| block | parameters | tests | outputs checked | mismatches | mutants caught | date |",
             "|---|---|---|---|---|---|---|"]
    for key, row in sorted(rows.items()):
        muts = [e for k, e in mutant_errors.items() if k[:2] == key]
        caught, missed = sum(e > 0 for e in muts), sum(e == 0 for e in muts)
        cell = f"{caught}" + (f" (**{missed} missed**)" if missed else "")
        lines.append(f"| {key[0]} | {key[1]} | {len(row['tests'])} | {row['checked']:,} | {row['mismatches']} "
                     f"| {cell} | {row['date']} |")
    return "\n".join(lines)


def core_table(runs: dict) -> str:
    """The training core's end-to-end runs ({key: entry} of the core reports, tb/cnn_core). Entries
    without an inference run (or any other count) show '-' there."""
    lines = ["| net | P | batch | simulator | steps | samples | values checked | mismatches "
             "| train cycles (model) | inference cycles (model) | stream pauses | date |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def order(item):
        r = item[1]
        return (str(r.get("net")), int(r.get("P") or 0), int(r.get("batch") or 0), str(r.get("sim", "icarus")))

    for _, r in sorted(runs.items(), key=order):
        mism = _n(r.get("mismatches"))
        if r.get("cycle_model_mismatches"):
            mism += f" (cycle model: {_n(r['cycle_model_mismatches'])})"
        lines.append(f"| {r.get('net')} | {r.get('P')} | {r.get('batch')} | {r.get('sim', 'icarus')} "
                     f"| {_n(r.get('steps'))} | {_n(r.get('samples'))} | {_n(r.get('checked'))} | {mism} "
                     f"| {_n(r.get('cycles_train_step'))} ({_n(r.get('model_train'))}) "
                     f"| {_n(r.get('cycles_inference'))} ({_n(r.get('model_inference'))}) "
                     f"| {r.get('pauses', '-')} | {_day(r)} |")
    return "\n".join(lines)


def _codes(c: dict) -> str:
    return ", ".join(f"{k}: {_n(v)}" for k, v in sorted((c or {}).items(), key=lambda kv: int(kv[0])))


def fast_table(fast: dict) -> str:
    """The fast-path tests' reports ({name: entry}, tb/fastpath) as one row per test."""
    lines = ["| fast-path test | what ran | checked | mismatches | notes | date |",
             "|---|---|---|---|---|---|"]
    cfgs = {k: e for k, e in fast.items() if k.startswith("fastpath_") and "net" in e and "batch" in e}
    for k, e in sorted(cfgs.items(), key=lambda kv: (str(kv[1].get("net")), int(kv[1].get("P") or 0),
                                                     int(kv[1].get("batch") or 0))):
        lines.append(f"| config {e.get('net')} P={e.get('P')} batch {e.get('batch')} "
                     f"| {_n(e.get('steps'))} steps, pauses {e.get('pauses', '-')} "
                     f"| {_n(e.get('packets_checked'))} packets, {_n(e.get('weights_checked'))} weights "
                     f"| {_n(e.get('mismatches'))} | {_n(e.get('cycles_per_step'))} cycles/step | {_day(e)} |")
    for k, e in sorted(fast.items()):
        if not k.startswith("fastpath_epoch_"):
            continue
        acc = e.get("accuracy_rtl")
        same = "= fixed" if acc is not None and acc == e.get("accuracy_fixed") else \
            f"fixed {e.get('accuracy_fixed')}"
        acc_txt = f"{100 * acc:.2f} %" if isinstance(acc, (int, float)) else "-"
        lines.append(f"| epoch {e.get('net')} P={e.get('P')} | {_n(e.get('steps'))} steps (one epoch) "
                     f"| {_n(e.get('packets_checked'))} packets, every weight after the epoch "
                     f"| {_n(e.get('mismatches'))} | test accuracy on the core {acc_txt} ({same}) | {_day(e)} |")
    e = fast.get("fastpath_random_nets")
    if e:
        heads = ", ".join(f"{k} {v}" for k, v in sorted((e.get("by_head") or {}).items()))
        ps = ", ".join(f"P={k}: {v}" for k, v in sorted((e.get("by_P") or {}).items()))
        lines.append(f"| random valid nets | {_n(e.get('nets'))} nets ({ps}; {heads}) "
                     f"| {_n(e.get('steps'))} steps, packets and every weight after each "
                     f"| {_n(e.get('mismatches'))} | seed {e.get('run_seed')} | {_day(e)} |")
    e = fast.get("fastpath_malformed_tables")
    if e:
        lines.append(f"| malformed descriptor tables | {_n(e.get('tables'))} tables (expected codes "
                     f"{_codes(e.get('codes'))}) | error code vs desc_check, no hang, "
                     f"{_n(e.get('weight_windows'))} WMEM windows unchanged | {_n(e.get('mismatches'))} "
                     f"| mutant twin disagreed {_n(e.get('mutant_disagreements'))} times; seed {e.get('run_seed')} "
                     f"| {_day(e)} |")
    e = fast.get("fastpath_random_resets")
    if e:
        kept = ", ".join(f"{k} {v}" for k, v in sorted((e.get("kept") or {}).items()))
        lines.append(f"| resets at random cycles | {_n(e.get('resets'))} resets | reset state, kept weights "
                     f"({kept}), training after it | {_n(e.get('mismatches'))} | seed {e.get('run_seed')} "
                     f"| {_day(e)} |")
    return "\n".join(lines)


def render(records, core, source: str, fast: dict | None = None) -> str:
    md = table(records) if records else "(no scoreboard records)"
    if core:
        md += f"\n\nTraining core end to end ({source}):\n\n" + core_table(core)
    if fast:
        md += f"\n\nFast path ({source}):\n\n" + fast_table(fast)
    return md


# ----------------------------------------------------------------------------- main
def select(a, runs: list):
    """-> (records, core, fast, description) for the options, or raise SystemExit."""
    if a.run:
        d = Path(a.runs) / a.run
        if not d.is_dir():
            raise SystemExit(f"error: run {a.run} not found under {a.runs}")
        run = read_dir(d)
        if run["running"]:
            print(f"warning: run {a.run} is not complete: {len(run['running'])} entries still running "
                  f"(first: {run['running'][0]})", file=sys.stderr)
        return run["records"], run["core"], run["fast"], f"run {a.run}"
    done = [r for r in runs if complete(r)]
    if not done:
        unfinished = f" ({len(runs)} unfinished)" if runs else ""
        raise SystemExit(f"error: no complete run under {a.runs}{unfinished}: run `make sim` (or pytest tb) first")
    if a.merge:
        records, core, fast = merge(done)
        return records, core, fast, f"newest of {len(done)} complete runs per row"
    run = done[-1]
    skipped = [r["id"] for r in runs if r["mtime"] > run["mtime"]]
    if skipped:
        print(f"note: newer unfinished runs skipped: {', '.join(skipped)}", file=sys.stderr)
    return run["records"], run["core"], run["fast"], f"run {run['id']}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", default=str(RUNS), help="the per-run report directories")
    ap.add_argument("--run", help="this run id only (make sim: its REPORT_RUN_ID)")
    ap.add_argument("--merge", action="store_true", help="newest complete record of every row over all runs")
    ap.add_argument("--jsonl", help="read an old shared scoreboards.jsonl instead of the runs")
    ap.add_argument("--core-json", help="with --jsonl: an old shared core.json")
    ap.add_argument("--out", default=str(REPO / "build" / "reports" / "verification.md"))
    a = ap.parse_args(argv)
    if a.jsonl:
        p = Path(a.jsonl)
        if not p.is_file():
            raise SystemExit(f"error: {p} not found")
        records = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
        core_p = Path(a.core_json) if a.core_json else p.with_name("core.json")
        core = json.loads(core_p.read_text()) if core_p.is_file() else {}
        source, fast = str(p), {}
    else:
        records, core, fast, source = select(a, read_runs(Path(a.runs)))
    md = render(records, core, source, fast)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dates = [_day(r) for r in records] + [_day(e) for e in list(core.values()) + list(fast.values())]
    tables = {"source": source, "date": max(dates) if dates else "",
              "blocks": table(records) if records else None,
              "core": core_table(core) if core else None,
              "fast": fast_table(fast) if fast else None}
    for path, text in ((out, md + "\n"), (out.with_suffix(".json"), json.dumps(tables, indent=1) + "\n")):
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(text)
        tmp.replace(path)
    print(md)
    print(f"\n({source}; written {a.out})", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Aggregate build/reports/scoreboards.jsonl (written by every tbkit.Scoreboard) into the README's
verification table: block, parameters, tests, outputs checked, mismatches, mutants caught, date.

    python scripts/verif_table.py [--jsonl build/reports/scoreboards.jsonl] [--out build/reports/verification.md]

A test whose name contains "mutant" is expected to see errors: it counts under "mutants caught" when
any of its scoreboards saw some (and as missed if none did). Every other scoreboard's errors are
mismatches. `make sim` clears the file first, so the table describes one run.
"""
import argparse
import json
from collections import defaultdict
from pathlib import Path


def table(records):
    rows = defaultdict(lambda: {"tests": set(), "checked": 0, "mismatches": 0, "date": ""})
    mutant_errors = defaultdict(int)      # (block, params, test) -> errors over its scoreboards
    for r in records:
        key = (r["block"], r.get("params_text") or r["params"])
        row = rows[key]
        row["tests"].add(r["test"])
        row["date"] = max(row["date"], r["date"])
        if "mutant" in r["test"]:
            mutant_errors[key + (r["test"],)] += r["errors"]
        else:
            row["checked"] += r["checked"]
            row["mismatches"] += r["errors"]
    lines = ["| block | parameters | tests | outputs checked | mismatches | mutants caught | date |",
             "|---|---|---|---|---|---|---|"]
    for key, row in sorted(rows.items()):
        muts = [e for k, e in mutant_errors.items() if k[:2] == key]
        caught, missed = sum(e > 0 for e in muts), sum(e == 0 for e in muts)
        cell = f"{caught}" + (f" (**{missed} missed**)" if missed else "")
        lines.append(f"| {key[0]} | {key[1]} | {len(row['tests'])} | {row['checked']:,} | {row['mismatches']} "
                     f"| {cell} | {row['date']} |")
    return "\n".join(lines)


def core_table(report: Path) -> str:
    """The training core's end-to-end runs (build/reports/core.json, written by tb/cnn_core)."""
    runs = json.loads(report.read_text())
    lines = ["| net | P | batch | steps | samples | values checked | mismatches | train cycles (model) "
             "| inference cycles (model) | stream pauses | date |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(runs):
        r = runs[key]
        lines.append(f"| {r['net']} | {r['P']} | {r['batch']} | {r['steps']} | {r['samples']} | "
                     f"{r['checked']:,} | {r['mismatches']} | {r['cycles_train_step']:,} "
                     f"({r['model_train']:,}) | {r['cycles_inference']:,} ({r['model_inference']:,}) "
                     f"| {r['pauses']} | {r['date']} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jsonl", default="build/reports/scoreboards.jsonl")
    ap.add_argument("--out", default="build/reports/verification.md")
    a = ap.parse_args(argv)
    p = Path(a.jsonl)
    if not p.is_file():
        raise SystemExit(f"error: {p} not found: run `make sim` (or pytest tb) first")
    recs = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    md = table(recs)
    core = Path(a.jsonl).with_name("core.json")
    if core.is_file():
        md += "\n\nTraining core end to end (" + str(core) + "):\n\n" + core_table(core)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()

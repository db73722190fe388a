#!/usr/bin/env python3
"""Aggregate build/reports/scoreboards.jsonl (written by every tbkit.Scoreboard) into the README's
verification table: block, parameters, tests, outputs checked, mismatches, mutants caught, date.

    python scripts/verif_table.py [--jsonl build/reports/scoreboards.jsonl] [--out build/reports/verification.md]

A scoreboard of a test whose name contains "mutant" is expected to see errors: it counts under
"mutants caught" (and as a failure to catch if it saw none). Every other scoreboard's errors are
mismatches. `make sim` clears the file first, so the table describes one run.
"""
import argparse
import json
from collections import defaultdict
from pathlib import Path


def table(records):
    rows = defaultdict(lambda: {"tests": set(), "checked": 0, "mismatches": 0, "mutants": 0,
                                "mutants_missed": 0, "date": ""})
    for r in records:
        row = rows[(r["block"], r["params"])]
        row["tests"].add(r["test"])
        row["date"] = max(row["date"], r["date"])
        if "mutant" in r["test"]:
            if r["errors"] > 0:
                row["mutants"] += 1
            else:
                row["mutants_missed"] += 1
        else:
            row["checked"] += r["checked"]
            row["mismatches"] += r["errors"]
    lines = ["| block | parameters | tests | outputs checked | mismatches | mutants caught | date |",
             "|---|---|---|---|---|---|---|"]
    for (block, params), row in sorted(rows.items()):
        caught = f"{row['mutants']}" + (f" (**{row['mutants_missed']} missed**)" if row["mutants_missed"] else "")
        lines.append(f"| {block} | {params} | {len(row['tests'])} | {row['checked']:,} | {row['mismatches']} "
                     f"| {caught} | {row['date']} |")
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
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()

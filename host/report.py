"""Per-run report files: every test or tool writes its own JSON, so concurrent or partial runs never
corrupt each other's figures.

    report.write("fastpath_A_P8_B1", {...})   -> build/reports/runs/<run id>/fastpath_A_P8_B1.json

The run id is REPORT_RUN_ID from the environment (the Makefile sets one per `make test` / `make sim`),
else one per process (date, time and pid). Files are written to a temporary name and renamed, so a
reader sees either the whole file or none.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "build" / "reports" / "runs"
_PROCESS_ID = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"


def run_id() -> str:
    return os.environ.get("REPORT_RUN_ID") or _PROCESS_ID


def write(name: str, entry: dict) -> Path:
    d = RUNS / run_id()
    d.mkdir(parents=True, exist_ok=True)
    entry = {**entry, "name": name, "run_id": run_id(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    path = d / f"{name}.json"
    tmp = d / f".{name}.tmp{os.getpid()}"
    tmp.write_text(json.dumps(entry, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(path)
    return path


def read_run(rid: str | None = None, prefix: str = "") -> dict:
    """{name: entry} of one run (default: the newest run directory)."""
    if not RUNS.exists():
        return {}
    if rid is None:
        runs = sorted((p for p in RUNS.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        if not runs:
            return {}
        rid = runs[-1].name
    out = {}
    for p in sorted((RUNS / rid).glob(f"{prefix}*.json")):
        try:
            out[p.stem] = json.loads(p.read_text())
        except ValueError:
            continue
    return out

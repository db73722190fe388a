"""scripts/train.py --sim fast end to end on a short run: the RTL fields of report.json, the
multi-seed summary, and that the RTL accuracy equals the fixed-point accuracy (what `make demo` and
`make demo-seeds` rely on)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL_KEYS = ("accuracy", "steps", "epochs", "mismatches", "cycles_per_step", "sim_cycles_per_s", "wall_s")


def test_train_rtl_two_seeds(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "scripts/train.py", "--net", "B8", "--sim", "fast", "--P", "4",
                        "--epochs", "2", "--limit", "40", "--seeds", "0-1", "--jobs", "2", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads((out / "report.json").read_text())
    n = rep["nets"]["B8"]
    for k in RTL_KEYS:
        assert k in n["rtl"], k
    assert n["rtl"]["mismatches"] == 0 and n["rtl"]["steps"] == 80 and n["rtl"]["epochs"] == 2
    assert n["rtl"]["accuracy"] == n["accuracy_fixed"]
    assert n["history"]["rtl"]["acc_test"] == n["history"]["fixed"]["acc_test"]
    m = n["over_seeds"]
    for k in ("float", "fixed", "rtl", "gap_pp"):
        assert m[k]["n"] == 2, k
    assert m["rtl"]["values"] == m["fixed"]["values"] and m["rtl_mismatches"] == 0
    assert (out / "training.png").stat().st_size > 1000


def test_train_rejects_bad_seed_list(tmp_path):
    r = subprocess.run([sys.executable, "scripts/train.py", "--net", "A8", "--seeds", "x-2",
                        "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "bad seed list" in r.stderr

"""scripts/train.py end to end on a short run: report.json keys, plots, and a bad argument."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_train_writes_report(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "scripts/train.py", "--net", "A8", "--epochs", "1", "--limit", "60",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "report.json").read_text())
    for key in ("accuracy_float", "accuracy_fixed", "net", "epochs", "seed", "formats"):
        assert key in rep, key
    assert rep["net"] == "A8" and rep["epochs"] == 1 and 0 <= rep["accuracy_fixed"] <= 1
    assert (out / "training.png").stat().st_size > 1000


def test_train_rejects_missing_mnist(tmp_path):
    r = subprocess.run([sys.executable, "scripts/train.py", "--net", "A", "--epochs", "1",
                        "--mnist", str(tmp_path / "none"), "--out", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "does not exist" in r.stderr

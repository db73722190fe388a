"""scripts/verif_table.py: per-run reports -> tables (no simulator needed)."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("verif_table", ROOT / "scripts" / "verif_table.py")
V = importlib.util.module_from_spec(spec)
spec.loader.exec_module(V)


def _write(d: Path, name: str, entry: dict):
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.json").write_text(json.dumps(entry))


def _sb(block, params, test, checked, errors, date="2026-12-01 10:00:00"):
    return {"block": block, "params": params, "params_text": params, "test": test, "scoreboard": "sb",
            "checked": checked, "errors": errors, "date": date}


def _core(**kw):
    e = {"kind": "core", "net": "A8", "P": 4, "batch": 1, "sim": "icarus", "steps": 2, "samples": 2,
         "checked": 1234, "mismatches": 0, "cycle_model_mismatches": 0, "cycles_train_step": 2736,
         "model_train": 2736, "cycles_inference": 1055, "model_inference": 1055, "pauses": "none",
         "date": "2026-12-01 10:00:00"}
    e.update(kw)
    return e


def test_core_row_without_inference(tmp_path):
    """A run without inference samples (cycles_inference None) used to crash the table."""
    md = V.core_table({"a": _core(cycles_inference=None, model_inference=None, inference_samples=0),
                       "b": _core(net="A", P=8, sim="verilator")})
    lines = md.splitlines()
    assert len(lines) == 4
    assert "| A | 8 | 1 | verilator |" in lines[2] and "1,055 (1,055)" in lines[2]     # sorted by net
    assert "| - (-) |" in lines[3] and "| A8 | 4 | 1 | icarus |" in lines[3]
    # an old core.json entry with fields missing altogether
    assert "| - (-) |" in V.core_table({"x": {"net": "B", "P": 8, "batch": 1}})


def test_latest_complete_run_and_merge(tmp_path, capsys):
    runs = tmp_path / "runs"
    old, new, busy = runs / "r1", runs / "r2", runs / "r3"
    _write(old, "sb_relu_x_icarus_1", {"kind": "scoreboards", "records": [
        _sb("relu", "W=8", "test_a", 100, 0), _sb("relu", "W=8", "test_mutant", 5, 3),
        _sb("lfsr", "L=1", "test_a", 7, 0)]})
    _write(old, "core_A8_P4_B1_icarus", _core())
    _write(new, "sb_relu_x_icarus_2", {"kind": "scoreboards", "records": [_sb("relu", "W=8", "test_a", 200, 1)]})
    _write(new, "test_relu", {"kind": "test", "state": "passed", "nodeid": "tb/relu::t"})
    _write(busy, "sb_relu_x_icarus_3", {"kind": "scoreboards", "records": [_sb("relu", "W=8", "test_a", 1, 0)]})
    _write(busy, "test_relu", {"kind": "test", "state": "running", "nodeid": "tb/relu::t"})
    (busy / ".sb_partial.tmp99").write_text("{ not json")          # a writer's temporary file: ignored
    _write(runs / "fast", "fastpath_A_P8_B1", {"net": "A"})           # no scoreboards: not a candidate
    import os
    import time
    now = time.time()
    for k, d in enumerate((old, new, busy)):
        for f in d.glob("*.json"):
            os.utime(f, (now + k, now + k))

    found = V.read_runs(runs)
    assert [r["id"] for r in found] == ["r1", "r2", "r3"] and not V.complete(found[-1])

    out = tmp_path / "v.md"
    V.main(["--runs", str(runs), "--out", str(out)])                 # newest complete: r2
    md = out.read_text()
    assert "| relu | W=8 | 1 | 200 | 1 | 0 | 2026-12-01 |" in md and "lfsr" not in md
    assert "r3" in capsys.readouterr().err                           # the unfinished run is named

    V.main(["--runs", str(runs), "--merge", "--out", str(out)])      # per row: relu from r2, lfsr from r1
    md = out.read_text()
    assert "| relu | W=8 | 1 | 200 | 1 | 0 |" in md and "| lfsr | L=1 | 1 | 7 | 0 | 0 |" in md
    assert "Training core end to end" in md and "| A8 | 4 | 1 | icarus |" in md

    V.main(["--runs", str(runs), "--run", "r1", "--out", str(out)])
    md = out.read_text()
    assert "| relu | W=8 | 2 | 100 | 0 | 1 |" in md                   # mutant counted as caught


def test_fast_path_rows_and_json(tmp_path):
    """The fast-path reports of a run become rows of their own table, and verification.json carries
    the three tables for readme_tables."""
    runs = tmp_path / "runs"
    r = runs / "r1"
    _write(r, "sb_relu_x_icarus_1", {"kind": "scoreboards", "records": [_sb("relu", "W=8", "test_a", 10, 0)]})
    _write(r, "fastpath_A8_P4_B3", {"net": "A8", "P": 4, "batch": 3, "pauses": "random", "steps": 50,
                                    "packets_checked": 150, "weights_checked": 9000, "mismatches": 0,
                                    "cycles_per_step": 8000.0, "date": "2026-12-02 10:00:00"})
    _write(r, "fastpath_epoch_A8", {"net": "A8", "P": 4, "steps": 1437, "mismatches": 0, "packets_checked": 1797,
                                    "accuracy_rtl": 0.9, "accuracy_fixed": 0.9, "date": "2026-12-02 10:00:00"})
    _write(r, "fastpath_random_nets", {"nets": 200, "steps": 1000, "mismatches": 0, "by_head": {"softmax_ce": 120},
                                       "by_P": {"4": 100, "8": 100}, "run_seed": 7, "date": "2026-12-02"})
    _write(r, "fastpath_malformed_tables", {"tables": 10, "codes": {"0": 3, "10": 1, "2": 6}, "mismatches": 2,
                                            "mutant_disagreements": 4, "weight_windows": 10, "run_seed": 7})
    _write(r, "fastpath_random_resets", {"resets": 5, "kept": {"old": 3, "mixed": 2, "new": 0},
                                         "mismatches": 0, "run_seed": 7})
    out = tmp_path / "v.md"
    V.main(["--runs", str(runs), "--run", "r1", "--out", str(out)])
    md = out.read_text()
    assert "Fast path (run r1)" in md
    assert "| config A8 P=4 batch 3 | 50 steps, pauses random | 150 packets, 9,000 weights | 0 |" in md
    assert "test accuracy on the core 90.00 % (= fixed)" in md
    assert "| random valid nets | 200 nets (P=4: 100, P=8: 100; softmax_ce 120)" in md
    assert "expected codes 0: 3, 2: 6, 10: 1" in md and "| 2 |" in md      # codes sorted numerically
    assert "(mixed 2, new 0, old 3)" in md
    j = json.loads(out.with_suffix(".json").read_text())
    assert j["source"] == "run r1" and j["date"] == "2026-12-02"
    assert j["blocks"].startswith("| block |") and j["core"] is None and "random valid nets" in j["fast"]

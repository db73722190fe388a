"""scripts/readme_tables.py: tables from reports, blocks left alone without a report."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _mod(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    monkeypatch.setattr(m, "REPO", tmp_path)
    monkeypatch.setattr(m, "README", tmp_path / "README.md")
    return m


def test_tables_follow_reports(tmp_path, monkeypatch):
    m = _mod(tmp_path, monkeypatch)
    blocks = "".join(f"<!-- BEGIN generated:{n} -->\nold\n<!-- END generated:{n} -->\n" for n in m.TABLES)
    (tmp_path / "README.md").write_text("# x\n" + blocks)
    assert m.main(["--check"]) == 0                       # no reports: nothing would change
    (tmp_path / "build" / "bench").mkdir(parents=True)
    ss = {"fast": {"cycles_per_s": 812345, "cycles_per_cpu_s": 900000, "steps_per_s": 50.6,
                   "target_cycles_per_s": 1000000, "meets_target": False},
          "icarus": {"cycles_per_s": 2300.0, "cycles_per_cpu_s": 2400.0},
          "cocotb_verilator": {"error": "RuntimeError: no wheel"},
          "cpu_numpy_float": {"steps_per_s": 400.0}, "ratios": {"fast_steps_per_s_over_numpy_float": 0.127}}
    (tmp_path / "build" / "bench" / "sim_speed.json").write_text(json.dumps(ss))
    assert m.main(["--check"]) == 1
    assert m.main([]) == 0
    text = (tmp_path / "README.md").read_text()
    assert "812,345" in text and "1/353" in text and "not measured: RuntimeError: no wheel" in text
    assert "not met" in text and text.count("old") == len(m.TABLES) - 1   # the others untouched
    assert m.main(["--check"]) == 0
    # the verification tables come from verif_table's JSON; a part that is missing stays as it is
    (tmp_path / "build" / "reports").mkdir(parents=True)
    v = {"source": "run r9", "date": "2026-12-04", "blocks": "| block |\n|---|\n| relu |", "core": None,
         "fast": "| fast-path test |"}
    (tmp_path / "build" / "reports" / "verification.json").write_text(json.dumps(v))
    assert m.main([]) == 0
    text = (tmp_path / "README.md").read_text()
    assert "From run r9 (2026-12-04), `scripts/verif_table.py`:\n\n| block |\n|---|\n| relu |" in text
    assert "| fast-path test |" in text and text.count("old") == len(m.TABLES) - 3   # verif_core: none

#!/usr/bin/env python3
"""Regenerate README.md's generated tables from the reports (`make readme`).

    python scripts/readme_tables.py [--check]

Each table sits between `<!-- BEGIN generated:<name> -->` and `<!-- END generated:<name> -->` and is
rewritten from its report; a table whose report is missing is left as it is (and named on stderr).
  rtl_demo      build/demo/report.json          (make demo: the RTL run of seed 0)
  rtl_seeds     build/demo-seeds/report.json    (make demo-seeds: mean ± sd over seeds)
  sim_speed     build/bench/sim_speed.json      (make bench)
  verif_blocks, verif_core, verif_fast
                build/reports/verification.json (make sim: scripts/verif_table.py --run <its run>)
--check exits 1 when a table would change (README out of date with the reports present).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def _load(rel: str):
    p = REPO / rel
    return json.loads(p.read_text()) if p.is_file() else None


def rtl_demo() -> str | None:
    r = _load("build/demo/report.json")
    if not r or not any("rtl" in n for n in r["nets"].values()):
        return None
    rows = ["| net | epochs | steps | float64 | fixed point | RTL | mismatches | packets / weights checked "
            "| cycles / step | sim cycles/s | wall |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, n in r["nets"].items():
        t = n.get("rtl")
        if not t:
            continue
        rows.append(f"| {name} | {n['epochs']} | {t['steps']:,} | {100 * n['accuracy_float']:.2f} % | "
                    f"{100 * n['accuracy_fixed']:.2f} % | {100 * t['accuracy']:.2f} % | {t['mismatches']} | "
                    f"{t['packets_checked']:,} / {t['weights_checked']:,} | {t['cycles_per_step']:,.0f} | "
                    f"{t['sim_cycles_per_s'] / 1e6:.2f}M | {t['wall_s'] / 60:.1f} min |")
    return "\n".join(rows)


def rtl_seeds() -> str | None:
    r = _load("build/demo-seeds/report.json")
    if not r or len(r.get("seeds", [])) < 2:
        return None
    seeds = r["seeds"]
    rows = [f"Seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} runs per net; mean ± sd, sd with ddof 1):", "",
            "| net | epochs | float64 | fixed point | RTL | float − fixed | RTL mismatches | RTL = fixed |",
            "|---|---|---|---|---|---|---|---|"]
    for name, n in r["nets"].items():
        m = n.get("over_seeds")
        if not m:
            continue
        f = lambda k, u=" %": f"{m[k]['mean']:.2f} ± {m[k]['sd']:.2f}{u}" if k in m else "—"  # noqa: E731
        rows.append(f"| {name} | {n['epochs']} | {f('float')} | {f('fixed')} | {f('rtl')} | {f('gap_pp', ' pp')} | "
                    f"{m.get('rtl_mismatches', '—')} | {'yes' if m.get('rtl_equals_fixed') else 'no'} |")
    return "\n".join(rows)


def sim_speed() -> str | None:
    r = _load("build/bench/sim_speed.json")
    if not r:
        return None
    rows = ["| simulator (network A, P = 8) | cycles/s (wall) | cycles per CPU s | vs fast path |",
            "|---|---|---|---|"]
    names = {"fast": "fast path (Verilator 5.006, C++ host, `host/fastsim.py`)",
             "icarus": "Icarus 11 (same host over a pipe, `host/icarus.py`)",
             "cocotb_verilator": "cocotb + Verilator 5.048 (tb/cnn_core bench)"}
    fast = r["fast"]["cycles_per_s"]
    for k, label in names.items():
        e = r.get(k, {})
        c = e.get("cycles_per_s")
        if not c:
            rows.append(f"| {label} | not measured: {e.get('error', 'missing')} | | |")
            continue
        cpu = e.get("cycles_per_cpu_s")
        rows.append(f"| {label} | {c:,.0f} | {f'{cpu:,.0f}' if cpu else '—'} | "
                    f"{'1' if k == 'fast' else f'1/{fast / c:,.0f}'} |")
    cpu = r.get("cpu_numpy_float")
    if cpu:
        rows.append("")
        rows.append(f"Same run: the NumPy float model trains A at {cpu['steps_per_s']:,.0f} steps/s on one core. "
                    f"The fast path manages {r['fast']['steps_per_s']:,.0f} simulated steps/s, "
                    f"{r['ratios']['fast_steps_per_s_over_numpy_float']:.2f}x NumPy. "
                    f"Target: {r['fast']['target_cycles_per_s']:,} cycles/s, "
                    f"{'met' if r['fast']['meets_target'] else 'not met'}.")
    return "\n".join(rows)


def _verif(part: str):
    def fn() -> str | None:
        v = _load("build/reports/verification.json")
        if not v or not v.get(part):
            return None
        return f"From {v['source']} ({v['date']}), `scripts/verif_table.py`:\n\n{v[part]}"
    return fn


TABLES = {"rtl_demo": rtl_demo, "rtl_seeds": rtl_seeds, "sim_speed": sim_speed,
          "verif_blocks": _verif("blocks"), "verif_core": _verif("core"), "verif_fast": _verif("fast")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    text = README.read_text()
    new = text
    for name, fn in TABLES.items():
        pat = re.compile(rf"(<!-- BEGIN generated:{name} -->\n)(.*?)(<!-- END generated:{name} -->)", re.S)
        if not pat.search(new):
            print(f"readme_tables: README.md has no generated:{name} block", file=sys.stderr)
            continue
        body = fn()
        if body is None:
            print(f"readme_tables: no report for {name}; table left as it is", file=sys.stderr)
            continue
        new = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(3), new)
    if a.check:
        return int(new != text)
    if new != text:
        README.write_text(new)
        print("README.md: tables regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

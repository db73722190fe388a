"""The Icarus transport: rtl/*.v under Icarus Verilog, driven through a pipe, with FastSim's interface.

    sim = IcarusSim(params={"P": 4})   # built once in build/icarus_host/<tag>-<hash>/ (rebuilt when rtl/ changes)
    core = Core(sim)                   # host.core.Core over it, exactly as over host.fastsim.FastSim
    python -m host.icarus P=8 P=4      # build (like python -m host.fastsim)
    python -m host.icarus --measure A 8 1   # measure_cycles_per_s

Design. tb/fastpath/cnn_core_pipe_tb.v is the testbench top: it instantiates cnn_core (every core
parameter passed through, set here with iverilog -P; the ROM tables as absolute paths of
rtl/tables/*.hex), owns the clock, and executes one command per line read from its standard input
(+cmd=/dev/stdin), writing the answer lines to a second pipe (+rsp=/dev/fd/N, an os.pipe() passed to
vvp) and flushing after every command. Each command is one C++ host function of
tb/fastpath/cnn_core_host.cpp, re-written in Verilog cycle for cycle (inputs set with clk low, #1,
handshakes sampled, rising edge, #1), so the bus behaviour, the cycle counts and the xorshift64* pause
stream are those of FastSim. Every per-cycle decision is made in Verilog: Python sends one command per
transport call. Bulk data (weight loads, sample beats) goes in a temp file, one hex word per line, that
the testbench reads lazily (one word per handshake), so any size works and no pipe can fill up while
Python is still writing. Answers stream back (a line per bus response / result beat) and end with an
"E rc cycles ..." line; "H" heartbeat lines every 4096 cycles keep a long run from looking dead.

Errors: vvp exiting, or the answer pipe closing, raises SimulatorError (a RuntimeError) naming the log
file (vvp's stdout and stderr); no answer line for `idle_timeout` seconds (default 120; heartbeats
count) kills vvp and raises SimulatorError too. Nothing waits without a timeout.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
TB = REPO / "tb" / "fastpath" / "cnn_core_pipe_tb.v"
TOP = "cnn_core_pipe_tb"
BUILD = REPO / "build" / "icarus_host"
TABLE_PARAMS = {"SIGMOID_TABLE": "sigmoid.hex", "EXP_INT_FILE": "exp_int.hex",
                "EXP_FRAC_FILE": "exp_frac.hex", "LN_MANT_FILE": "ln_mant.hex"}
# the integer parameters the testbench passes through to cnn_core
CORE_PARAMS = ("P", "AMEM_DEPTH", "WMEM_DEPTH", "MAX_LAYERS", "MAX_CLASSES", "MAX_OUT", "W", "FA", "FW",
               "FD", "GW", "GF", "LR_W", "LR_F", "ACC_W", "ROUND_FWD", "ROUND_BWD", "ROUND_UPDATE",
               "OVERFLOW", "SEED")
CC_OK, CC_TIMEOUT, CC_STOPPED = 0, -1, 2
_BADCMD = 99


class BuildError(RuntimeError):
    """iverilog failed or is missing; the message names the log file."""


class SimulatorError(RuntimeError):
    """vvp died, closed its pipe, answered garbage or went silent; the message names the log file."""


def iverilog_missing() -> str | None:
    """None when iverilog and vvp are installed, else what to do about it."""
    for t in ("iverilog", "vvp"):
        if not shutil.which(t):
            return (f"{t} is not installed (Debian/Ubuntu: apt-get install iverilog; `make test` installs "
                    "it when run as root)")
    return None


def _iverilog() -> str:
    msg = iverilog_missing()
    if msg:
        raise BuildError(msg)
    return shutil.which("iverilog")


def _key(params: dict) -> str:
    h = hashlib.sha1()
    srcs = sorted(RTL.glob("*.v")) + sorted(RTL.glob("*.vh")) + sorted((RTL / "tables").glob("*.hex"))
    for p in srcs + [TB, Path(__file__)]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(repr(sorted(params.items())).encode())
    h.update(subprocess.run([_iverilog(), "-V"], capture_output=True, text=True).stdout.split("\n")[0].encode())
    tag = "_".join(f"{k}{v}" for k, v in sorted(params.items())) or "default"
    return f"{tag}-{h.hexdigest()[:12]}"


def build(params: dict | None = None, quiet: bool = True) -> Path:
    """-> path of the compiled vvp image for these core parameters (built if missing or stale)."""
    params = {k: int(v) for k, v in (params or {}).items()}
    bad = sorted(set(params) - set(CORE_PARAMS))
    if bad:
        raise ValueError(f"unknown core parameter(s) {', '.join(bad)} (known: {', '.join(CORE_PARAMS)})")
    key = _key(params)
    d = BUILD / key
    image = d / "cnn_core_pipe_tb.vvp"
    if image.exists():
        return image
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image.exists():
            return image
        log = d / "build.log"
        if not quiet:
            print(f"icarus: building {key} (log {log})", file=sys.stderr)
        tmp = d / f"image.tmp{os.getpid()}.vvp"
        gen = [f"-P{TOP}.{k}={v}" for k, v in sorted(params.items())]
        gen += [f'-P{TOP}.{k}="{RTL / "tables" / f}"' for k, f in TABLE_PARAMS.items()]
        cmd = [_iverilog(), "-g2005", "-o", str(tmp), "-s", TOP, f"-I{RTL}", *gen,
               *[str(p) for p in sorted(RTL.glob("*.v"))], str(TB)]
        with open(log, "w") as f:
            f.write("$ " + " ".join(cmd) + "\n")
            f.flush()
            r = subprocess.run(cmd, cwd=d, stdout=f, stderr=subprocess.STDOUT)
        if r.returncode:
            tmp.unlink(missing_ok=True)
            raise BuildError(f"iverilog failed (exit {r.returncode}); see {log}")
        tmp.replace(image)
    return image


def _hex_lines(words) -> bytes:
    """One lowercase hex word per line (the testbench reads them with %h)."""
    a = np.asarray(words, dtype=np.uint64).reshape(-1)
    if not len(a):
        return b""
    # vectorised: 8 hex digits per word
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    shifts = np.arange(28, -4, -4, dtype=np.uint64)
    nib = ((a[:, None] >> shifts[None, :]) & np.uint64(0xF)).astype(np.intp)
    out = np.empty((len(a), 9), dtype=np.uint8)
    out[:, :8] = digits[nib]
    out[:, 8] = ord("\n")
    return out.tobytes()


class IcarusSim:
    """One simulated core in a vvp process: the transport host.core.Core drives, with exactly
    host.fastsim.FastSim's methods, return values and return codes. Every method advances the clock;
    `cycles` counts every cycle since construction."""

    name = "icarus"

    def __init__(self, image: Path | None = None, params: dict | None = None, idle_timeout: float = 120.0,
                 keep_log: bool = False):
        self.params = dict(params or {})
        self.image = Path(image or build(self.params))
        self.idle_timeout = float(idle_timeout)
        self.keep_log = keep_log
        self._cycles = 0
        self._buf = b""
        self._proc = None
        self._rfd = None
        self._failed = False
        self.tmpdir = Path(tempfile.mkdtemp(prefix="icarus_host_"))
        self._data = self.tmpdir / "data.hex"
        self.log = self.image.parent / "logs" / f"sim-{os.getpid()}-{id(self):x}-{int(time.time() * 1e3)}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        rfd, wfd = os.pipe()
        try:
            with open(self.log, "w") as logf:
                self._proc = subprocess.Popen(
                    ["vvp", "-n", str(self.image), "+cmd=/dev/stdin", f"+rsp=/dev/fd/{wfd}"],
                    stdin=subprocess.PIPE, stdout=logf, stderr=subprocess.STDOUT, pass_fds=(wfd,),
                    cwd=self.tmpdir)
        except Exception:
            os.close(rfd)
            raise
        finally:
            os.close(wfd)
        self._rfd = rfd
        self._answer("start")                       # "E 0 0 ready"

    # ------------------------------------------------------------------ pipe
    def _fail(self, what: str):
        self._failed = True
        rc = self._proc.poll() if self._proc else None
        if rc is None and self._proc:
            self._proc.kill()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            rc = self._proc.poll()
        raise SimulatorError(f"icarus simulator: {what} (vvp exit {rc}); see {self.log}")

    def _send(self, line: str, op: str):
        if self._proc is None:
            raise SimulatorError("icarus simulator: used after close()")
        try:
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._fail(f"died before {op}")

    def _lines(self, op: str):
        """Yield answer lines (without heartbeats) up to and including the 'E' line."""
        last = time.monotonic()
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line, self._buf = self._buf[:nl], self._buf[nl + 1:]
                last = time.monotonic()
                if line == b"H":
                    continue
                yield line
                if line.startswith(b"E"):
                    return
                continue
            ready, _, _ = select.select([self._rfd], [], [], 1.0)
            if ready:
                chunk = os.read(self._rfd, 1 << 20)
                if not chunk:
                    self._fail(f"closed its pipe during {op}")
                self._buf += chunk
            elif self._proc.poll() is not None:
                self._fail(f"died during {op}")
            elif time.monotonic() - last > self.idle_timeout:
                self._fail(f"no answer for {self.idle_timeout:.0f} s during {op}")

    def _answer(self, op: str, tag: bytes | None = None) -> tuple[list, list]:
        """-> (the 'E' line's fields, the lines before it that start with `tag`)."""
        body = []
        for line in self._lines(op):
            if line.startswith(b"E"):
                f = line.split()
                if len(f) < 3 or f[1] == str(_BADCMD).encode():
                    self._fail(f"rejected or garbled {op}: {line!r}")
                try:
                    self._cycles = int(f[2])
                except ValueError:
                    self._fail(f"garbled answer to {op}: {line!r}")
                return f[1:], body
            if tag is not None and line.startswith(tag):
                body.append(line)
            else:
                self._fail(f"unexpected answer line to {op}: {line[:80]!r}")

    def _fields(self, body: list, op: str, hex_first: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """'X <hex> <digit>' lines -> (values uint32, digits uint8)."""
        try:
            v = np.array([int(l.split()[1], 16) for l in body], dtype=np.uint64).astype(np.uint32)
            d = np.array([int(l.split()[2]) for l in body], dtype=np.uint8)
        except (ValueError, IndexError):
            bad = next((l for l in body if b"x" in l.lower() or b"z" in l.lower()), body[:1])
            self._fail(f"X/Z or garbage on the bus during {op}: {bad!r}")
        return v, d

    def _write_data(self, words) -> str:
        self._data.write_bytes(_hex_lines(words))
        return self._data.name                      # vvp runs in tmpdir: a relative name, no quoting

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) vvp has used so far (Linux /proc), None where unknown."""
        try:
            f = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return None

    # ------------------------------------------------------------------ transport
    def close(self):
        """End vvp (quit command, then kill after 10 s) and remove the temp files (the log too unless
        keep_log or something failed)."""
        p, self._proc = self._proc, None
        if p is not None:
            try:
                p.stdin.write(b"0\n")
                p.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if self._rfd is not None:
            os.close(self._rfd)
            self._rfd = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        if p is not None and not (self.keep_log or self._failed):
            try:
                self.log.unlink()
            except OSError:
                pass

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def cycles(self) -> int:
        return self._cycles

    def reset(self, cycles: int = 4):
        self._send(f"1 {int(cycles)}", "reset")
        self._answer("reset")

    def tick(self, n: int):
        n = int(n)
        if n <= 0:
            return
        self._send(f"2 {n & (2**64 - 1):x}", "tick")
        self._answer("tick")

    def write_burst(self, addr: int, words, wstrb: int = 0xF, timeout: int = 4096):
        """-> (rc, BRESP per word)."""
        w = np.asarray(words, dtype=np.int64).reshape(-1) & 0xFFFFFFFF
        path = self._write_data(w) if len(w) else "-"
        self._send(f"3 {int(addr)} {int(wstrb) & 0xF} {len(w)} {int(timeout)} {path}", "write burst")
        f, body = self._answer("write burst", b"B")
        resp = np.zeros(len(w), dtype=np.uint8)
        got = np.array([int(l[2:]) for l in body], dtype=np.uint8)
        resp[:len(got)] = got
        return int(f[0]), resp

    def read_burst(self, addr: int, n: int, timeout: int = 4096):
        """-> (rc, RDATA per word (uint32), RRESP per word)."""
        n = int(n)
        data = np.zeros(n, dtype=np.uint32)
        resp = np.zeros(n, dtype=np.uint8)
        if n <= 0:
            return CC_OK, data, resp
        self._send(f"4 {int(addr)} {n} {int(timeout)}", "read burst")
        f, body = self._answer("read burst", b"D")
        v, d = self._fields(body, "read burst")
        data[:len(v)], resp[:len(d)] = v, d
        return int(f[0]), data, resp

    def run(self, beats, lasts, n_packets: int, max_out: int, max_cycles: int, in_idle: int = 0,
            out_stall: int = 0, seed: int = 0, stop_after: int = 0, drain: int = 256):
        """Drive a started step (see cc_run). -> (rc, status, beats taken, result beats, their tlast)."""
        b = np.asarray(beats, dtype=np.int64).reshape(-1) & 0xFFFF
        l = np.asarray(lasts, dtype=np.int64).reshape(-1)[:len(b)] & 0xFF
        wd = b | (l != 0).astype(np.int64) << 16
        path = self._write_data(wd) if len(wd) else "-"
        m = 2**64 - 1
        self._send(f"5 {len(wd)} {int(n_packets)} {int(max_cycles) & m:x} {int(in_idle) & 0xFFFFFFFF} "
                   f"{int(out_stall) & 0xFFFFFFFF} {int(seed) & m:x} {int(stop_after) & m:x} "
                   f"{int(drain) & 0xFFFFFFFF} {path}", "run")
        f, body = self._answer("run", b"O")
        if len(f) < 5:
            self._fail(f"garbled answer to run: {f!r}")
        v, d = self._fields(body, "run")
        k = min(len(v), max(int(max_out), 0))
        return int(f[0]), int(f[2], 16), int(f[3]), v[:k].copy(), d[:k].copy()


# ---------------------------------------------------------------------------- benchmark
def measure_cycles_per_s(net_name: str = "A", P: int = 8, steps: int = 1) -> dict:
    """Icarus speed on `steps` training steps of net `net_name` at P lanes (the golden model's initial
    parameters, digits samples), through host.core.Core over IcarusSim. The build and the simulator
    start are not timed; the weight load is timed separately. cycles_per_s is wall-clock (it drops when
    other processes share the CPU); cycles_per_cpu_s divides by vvp's own CPU time (Linux /proc; None
    elsewhere), the figure that does not depend on the machine's load. -> {sim, net, P, steps,
    step_cycles (per step), step_wall_s (per step), cycles_per_s, step_cpu_s, cycles_per_cpu_s,
    load_words, load_cycles, load_wall_s, load_cycles_per_s, startup_s, mismatches (result packets
    that differ from golden FixedNet)}."""
    from golden.compiler import compile_net
    from golden.data import load_for
    from golden.fixed_model import FixedNet
    from golden.requantize import to_codes
    from golden.spec import get_net
    from golden.trainer import epoch_order, initial_params
    from host.core import Core

    net = get_net(net_name)
    prog = compile_net(net)
    _, params = initial_params(net, 0)
    fx = FixedNet(net, params)
    xtr, ytr, _, _ = load_for(net)
    xin = to_codes(xtr, net.fmt.act)
    order = epoch_order(len(ytr), 0, 0)
    image = build({"P": P})
    t0 = time.perf_counter()
    sim = IcarusSim(image, params={"P": P})
    startup = time.perf_counter() - t0
    try:
        core = Core(sim)
        core.reset()
        core.program(prog, batch=1, lr=fx.lr_code, seed=net.fmt.lfsr_seed)
        flat = prog.weights_flat(fx.params)
        c0, t0 = sim.cycles, time.perf_counter()
        core.load_weights(flat)
        load_wall, load_cyc = time.perf_counter() - t0, sim.cycles - c0
        cyc = wall = cpu = 0.0
        mism = 0
        for k in range(steps):
            i = order[k]
            c0, t0, u0 = sim.cycles, time.perf_counter(), sim.cpu_seconds()
            r = core.train([xin[i]], [int(ytr[i])])
            wall += time.perf_counter() - t0
            u1 = sim.cpu_seconds()
            cpu = None if u0 is None or u1 is None or cpu is None else cpu + u1 - u0
            cyc += sim.cycles - c0
            tr = fx.train_step(xin[i:i + 1], ytr[i:i + 1])[0]
            p = r.packets[0]
            exp = [tr.pred] + [int(v) for v in tr.outs[-1].reshape(-1)] + [tr.loss]
            mism += [p.pred] + p.logits + [p.loss] != exp
    finally:
        sim.close()
    return {"sim": "icarus", "net": net_name, "P": P, "steps": steps, "step_cycles": cyc / steps,
            "step_wall_s": wall / steps, "cycles_per_s": cyc / wall if wall else 0.0,
            "step_cpu_s": None if cpu is None else cpu / steps,
            "cycles_per_cpu_s": cyc / cpu if cpu else None,
            "load_words": len(flat), "load_cycles": load_cyc, "load_wall_s": load_wall,
            "load_cycles_per_s": load_cyc / load_wall if load_wall else 0.0, "startup_s": startup,
            "mismatches": int(mism)}


def main(argv=None):
    """python -m host.icarus [NAME=VALUE ...]: build one image per parameter group (every P= starts a
    new one); python -m host.icarus --measure [NET [P [STEPS]]]: print measure_cycles_per_s as JSON."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--measure":
        import json
        a = argv[1:]
        print(json.dumps(measure_cycles_per_s(a[0] if a else "A", int(a[1]) if len(a) > 1 else 8,
                                              int(a[2]) if len(a) > 2 else 1), indent=1))
        return
    sets, cur = [], None
    for a in argv:
        k, _, v = a.partition("=")
        if k == "P" or cur is None:
            cur = {}
            sets.append(cur)
        cur[k] = int(v, 0)
    for s in sets or [{}]:
        print(build(s, quiet=False))


if __name__ == "__main__":
    main()

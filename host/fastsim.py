"""The Verilator fast path: build tb/fastpath/cnn_core_host.cpp around the Verilated core and call it.

    lib = build({"P": 8})              # cached in build/fastsim/<tag>-<hash>/ (rebuilt when rtl/ changes)
    sim = FastSim(lib)                 # one simulated core; C++ owns its clock
    python -m host.fastsim P=8 P=4     # what `make fastsim` runs

The library is keyed on a hash of everything that goes into it: rtl/*.v, rtl/*.vh, rtl/tables/*.hex, the C++ host,
the core parameters and the Verilator version. Concurrent builders (pytest -n) take a file lock, so one
builds and the others wait for it. Only the core's ports are used (no --public-flat-rw); -O3 via
OPT_FAST, single-threaded model (on 2 cores, two simulations beat one threaded one).
"""
from __future__ import annotations

import ctypes
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
HOST_CPP = REPO / "tb" / "fastpath" / "cnn_core_host.cpp"
BUILD = REPO / "build" / "fastsim"
TABLE_PARAMS = {"SIGMOID_TABLE": "sigmoid.hex", "EXP_INT_FILE": "exp_int.hex",
                "EXP_FRAC_FILE": "exp_frac.hex", "LN_MANT_FILE": "ln_mant.hex"}
CC_OK, CC_TIMEOUT, CC_STOPPED = 0, -1, 2


class BuildError(RuntimeError):
    """Verilator or the C++ compiler failed; the message names the log file."""


def _verilator() -> str:
    v = shutil.which("verilator")
    if not v:
        raise BuildError("verilator is not installed (Debian/Ubuntu: apt-get install verilator; "
                         "`make test` installs it when run as root)")
    return v


# Verilator and compiler flags of the model (part of the cache key). Measured on the 2-core EPYC
# machines, network A at P = 8 (docs/fastpath.md has the table).
VFLAGS = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert")
OPT_FAST = "-O3"


def _key(params: dict, vflags=VFLAGS, opt=OPT_FAST, pgo=True) -> str:
    h = hashlib.sha1()
    srcs = sorted(RTL.glob("*.v")) + sorted(RTL.glob("*.vh")) + sorted((RTL / "tables").glob("*.hex"))
    for p in srcs + [HOST_CPP, Path(__file__)]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(repr(sorted(params.items())).encode())
    h.update(repr((tuple(vflags), opt, pgo)).encode())
    h.update(subprocess.run([_verilator(), "--version"], capture_output=True, text=True).stdout.encode())
    tag = "_".join(f"{k}{v}" for k, v in sorted(params.items())) or "default"
    return f"{tag}-{h.hexdigest()[:12]}"


def _run(cmd, log: Path, cwd: Path):
    with open(log, "a") as f:
        f.write("$ " + " ".join(str(c) for c in cmd) + "\n")
        f.flush()
        r = subprocess.run([str(c) for c in cmd], cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode:
        raise BuildError(f"{cmd[0]} failed (exit {r.returncode}); see {log}")


def build(params: dict | None = None, quiet: bool = True, vflags=VFLAGS, opt: str = OPT_FAST,
          pgo: bool = True) -> Path:
    """-> path of the shared library for these core parameters (built if missing or stale)."""
    params = {k: int(v) for k, v in (params or {}).items()}
    key = _key(params, vflags, opt, pgo)
    d = BUILD / key
    lib = d / "libcnn_core_host.so"
    if lib.exists():
        return lib
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if lib.exists():
            return lib
        log = d / "build.log"
        log.write_text("")
        if not quiet:
            print(f"fastsim: building {key} (log {log})", file=sys.stderr)
        vroot = subprocess.run([_verilator(), "--getenv", "VERILATOR_ROOT"], capture_output=True,
                               text=True).stdout.strip()
        gen = [f"-G{k}={v}" for k, v in sorted(params.items())]
        gen += [f'-G{k}="{RTL / "tables" / f}"' for k, f in TABLE_PARAMS.items()]
        obj = d / "obj"
        _run([_verilator(), "--cc", *vflags, "-Wno-fatal", "--top-module", "cnn_core", f"-I{RTL}",
              "-CFLAGS", "-fPIC", "-Mdir", obj, *gen, *sorted(RTL.glob("*.v"))], log, d)

        def compile_and_link(flags: str, out: Path):
            for f in list(obj.glob("*.o")) + list(obj.glob("*.a")):
                f.unlink()
            _run(["make", "-s", "-C", obj, "-f", "Vcnn_core.mk", f"OPT_FAST={flags}",
                  f"-j{os.cpu_count() or 2}"], log, d)
            _run(["g++", "-shared", "-fPIC", *flags.split(), "-std=c++17", "-pthread", f"-I{obj}",
                  f"-I{vroot}/include", f"-I{vroot}/include/vltstd", HOST_CPP,
                  f"{vroot}/include/verilated.cpp", f"{vroot}/include/verilated_threads.cpp",
                  obj / "Vcnn_core__ALL.a", "-o", out], log, d)

        tmp = d / f"lib.tmp{os.getpid()}.so"
        if pgo:
            # profile-guided: an instrumented model trains a few steps of A and B, then the model is
            # compiled again with the profile (about +15-25 % cycles/s; docs/fastpath.md)
            inst = d / f"inst.tmp{os.getpid()}.so"
            compile_and_link(f"{opt} -fprofile-generate -fprofile-update=single", inst)
            _run([sys.executable, "-m", "host.fastsim", "--profile", inst,
                  *[f"{k}={v}" for k, v in sorted(params.items())]], log, REPO)
            inst.unlink()
            compile_and_link(f"{opt} -fprofile-use -fprofile-partial-training -Wno-missing-profile", tmp)
        else:
            compile_and_link(opt, tmp)
        tmp.replace(lib)
    return lib


class RunOpts(ctypes.Structure):
    _fields_ = [("in_idle_permille", ctypes.c_uint32), ("out_stall_permille", ctypes.c_uint32),
                ("seed", ctypes.c_uint64), ("stop_after", ctypes.c_uint64), ("drain_cycles", ctypes.c_uint32)]


_P = ctypes.c_void_p
_U8P = np.ctypeslib.ndpointer(np.uint8, flags="C_CONTIGUOUS")
_U16P = np.ctypeslib.ndpointer(np.uint16, flags="C_CONTIGUOUS")
_U32P = np.ctypeslib.ndpointer(np.uint32, flags="C_CONTIGUOUS")
_LIBS: dict = {}


def _load(path: Path):
    path = str(path)
    if path not in _LIBS:
        L = ctypes.CDLL(path)
        L.cc_new.restype = _P
        L.cc_free.argtypes = [_P]
        L.cc_cycles.argtypes, L.cc_cycles.restype = [_P], ctypes.c_uint64
        L.cc_reset.argtypes = [_P, ctypes.c_int]
        L.cc_tick.argtypes = [_P, ctypes.c_uint64]
        L.cc_write_burst.argtypes = [_P, ctypes.c_uint32, _U32P, ctypes.c_uint32, ctypes.c_int, _U8P, ctypes.c_int]
        L.cc_read_burst.argtypes = [_P, ctypes.c_uint32, _U32P, ctypes.c_int, _U8P, ctypes.c_int]
        L.cc_run.argtypes = [_P, _U16P, _U8P, ctypes.c_int, _U32P, _U8P, ctypes.c_int, ctypes.c_int,
                             ctypes.c_uint64, ctypes.POINTER(RunOpts), ctypes.POINTER(ctypes.c_uint32),
                             ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
        _LIBS[path] = L
    return _LIBS[path]


class FastSim:
    """One simulated core behind the C ABI: the transport host.core.Core drives. Every method advances
    the clock; `cycles` counts every cycle since construction."""

    name = "fast"

    def __init__(self, lib: Path | None = None, params: dict | None = None):
        self.params = dict(params or {})
        self.lib = _load(lib or build(self.params))
        self.h = self.lib.cc_new()

    def close(self):
        if self.h:
            self.lib.cc_free(self.h)
            self.h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def cycles(self) -> int:
        return int(self.lib.cc_cycles(self.h))

    def reset(self, cycles: int = 4):
        self.lib.cc_reset(self.h, int(cycles))

    def tick(self, n: int):
        self.lib.cc_tick(self.h, int(n))

    def write_burst(self, addr: int, words, wstrb: int = 0xF, timeout: int = 4096):
        """-> (rc, BRESP per word)."""
        w = np.ascontiguousarray(np.asarray(words, dtype=np.int64) & 0xFFFFFFFF, dtype=np.uint32)
        resp = np.zeros(max(len(w), 1), dtype=np.uint8)
        rc = self.lib.cc_write_burst(self.h, addr, w if len(w) else np.zeros(1, np.uint32), wstrb, len(w),
                                     resp, timeout)
        return rc, resp[:len(w)]

    def read_burst(self, addr: int, n: int, timeout: int = 4096):
        """-> (rc, RDATA per word (uint32), RRESP per word)."""
        data = np.zeros(max(n, 1), dtype=np.uint32)
        resp = np.zeros(max(n, 1), dtype=np.uint8)
        rc = self.lib.cc_read_burst(self.h, addr, data, n, resp, timeout)
        return rc, data[:n], resp[:n]

    def run(self, beats, lasts, n_packets: int, max_out: int, max_cycles: int, in_idle: int = 0,
            out_stall: int = 0, seed: int = 0, stop_after: int = 0, drain: int = 256):
        """Drive a started step (see cc_run). -> (rc, status, beats taken, result beats, their tlast)."""
        b = np.ascontiguousarray(beats, dtype=np.uint16)
        l = np.ascontiguousarray(lasts, dtype=np.uint8)
        if not len(b):
            b, l = np.zeros(1, np.uint16), np.zeros(1, np.uint8)
            nb = 0
        else:
            nb = len(beats)
        out = np.zeros(max(max_out, 1), dtype=np.uint32)
        out_last = np.zeros(max(max_out, 1), dtype=np.uint8)
        opts = RunOpts(in_idle, out_stall, seed, stop_after, drain)
        st, taken, nout = ctypes.c_uint32(), ctypes.c_int(), ctypes.c_int()
        rc = self.lib.cc_run(self.h, b, l, nb, out, out_last, max_out, n_packets, max_cycles,
                             ctypes.byref(opts), ctypes.byref(st), ctypes.byref(taken), ctypes.byref(nout))
        n = min(nout.value, max_out)
        return rc, st.value, taken.value, out[:n], out_last[:n]


def profile_workload(lib: Path, params: dict, steps: int = 12):
    """Train `steps` steps each of A and B (random samples, checked against the golden model) on the
    instrumented library: the profile of a PGO build. Nets that exceed the core's maxima are skipped."""
    from golden.spec import get_net
    from .core import CoreError
    from . import session as hs
    rng = np.random.default_rng(1)
    for name in ("A", "B"):
        net = get_net(name)
        try:
            s = hs.Session(net, P=params.get("P", 8), sim=lambda p: FastSim(lib=lib), seed=0,
                           core_params={k: v for k, v in params.items() if k != "P"})
            xs = rng.integers(0, 1 << net.fmt.act.frac, (steps, *net.input_shape))
            ys = rng.integers(0, net.n_classes, steps)
            for i in range(steps):
                s.train_step(xs[i:i + 1], ys[i:i + 1])
            s.close()
        except CoreError as e:
            print(f"profile: {name} skipped ({e})")
            continue
        print(f"profile: {name} {steps} steps, {s.stats.mismatches} mismatches")


def main(argv=None):
    """python -m host.fastsim [NAME=VALUE ...] ... : build one library per argument group (P=8 P=4 builds
    two: every argument that starts with P= starts a new parameter set).
    python -m host.fastsim --profile LIB [NAME=VALUE ...]: the PGO workload (build() runs it)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--profile"]:
        profile_workload(Path(argv[1]), {k: int(v) for k, _, v in (a.partition("=") for a in argv[2:])})
        return
    sets, cur = [], None
    for a in argv:
        k, _, v = a.partition("=")
        if k == "P" or cur is None:
            cur = {}
            sets.append(cur)
        cur[k] = int(v)
    for s in sets or [{}]:
        print(build(s, quiet=False))


if __name__ == "__main__":
    main()

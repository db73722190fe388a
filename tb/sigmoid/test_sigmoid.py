"""cocotb testbench of rtl/sigmoid.v against golden/sigmoid.py (forward table, backward, head backward)."""
from __future__ import annotations

import contextlib
import json
import math
import os

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

import tbkit
from golden import sigmoid as golden_sigmoid
from golden.spec import Fmt

ROUND_NAMES = {0: "truncate", 1: "half_up", 2: "half_even"}
EXHAUSTIVE_MAX_BEATS = 8192        # all 2^W codes when they fit in this many beats


class TB(tbkit.StreamTB):
    """tbkit.StreamTB with sigmoid's ports: a beat is (mode, x-or-s lanes, g lanes); the driver pairs
    each beat with its golden output, and the monitor also keeps every output beat in `got`."""

    def __init__(self, dut, name="sigmoid"):
        super().__init__(dut, name, [dut.s_mode_i, dut.s_x_i, dut.s_g_i])
        self.lanes = int(dut.LANES.value)
        self.w = int(dut.W.value)
        self.fa = int(dut.FA.value)
        self.dw = int(dut.DW.value)
        self.df = int(dut.DF.value)
        self.rounding = ROUND_NAMES[int(dut.ROUND_BWD.value)]
        self.gw = max(self.w, self.dw)
        self.ow = max(self.w, self.dw)
        self.act = Fmt(self.w, self.fa)
        self.dfmt = Fmt(self.dw, self.df)
        self.got = []                   # every output beat seen by the monitor (mode, values, ovf)
        self.log.info("LANES=%d act=%s delta=%s round_bwd=%s", self.lanes, self.act, self.dfmt,
                      self.rounding)

    # -------------------------------------------------------------- formats
    @property
    def one(self):
        return 1 << self.fa

    @property
    def alo(self):
        return self.act.min_code

    @property
    def ahi(self):
        return self.act.max_code

    @property
    def dlo(self):
        return self.dfmt.min_code

    @property
    def dhi(self):
        return self.dfmt.max_code

    # -------------------------------------------------------------- golden side
    def expected(self, beats):
        """Golden outputs of a list of beats (mode, x-or-s list, g list), vectorised per mode."""
        out = []
        for mode, xs, gs in beats:
            xs = np.asarray(xs, dtype=np.int64)
            if mode == 0:
                vals = golden_sigmoid.fwd(xs, self.act)
                flags = [False] * self.lanes
            else:
                in_frac = self.fa if mode == 2 else self.df
                vals, flags = [], []
                for s, g in zip(xs, gs):   # per lane: the golden flag is per call
                    v, f = golden_sigmoid.back(np.array([g]), np.array([s]), self.act, self.dfmt,
                                               self.rounding, in_frac=in_frac)
                    vals.append(int(v[0]))
                    flags.append(bool(f))
            out.append((mode, tuple(int(v) for v in vals),
                        sum(int(b) << i for i, b in enumerate(flags))))
        return out

    def apply(self, beat):
        (mode, xs, gs), exp = beat
        self.dut.s_mode_i.value = mode
        self.dut.s_x_i.value = tbkit.pack(xs, self.w)
        self.dut.s_g_i.value = tbkit.pack(gs, self.gw)
        return exp

    def read(self):
        dut = self.dut
        vals = tbkit.unpack(int(dut.m_y_o.value), self.ow, self.lanes)
        return (int(dut.m_mode_o.value), vals, int(dut.m_ovf_o.value))

    # -------------------------------------------------------------- stimulus
    def beats_of(self, mode, cases):
        """Pack (x-or-s, g) cases into beats of one mode; the last beat is padded from the start."""
        beats = []
        for i in range(0, len(cases), self.lanes):
            chunk = list(cases[i:i + self.lanes])
            chunk += cases[:self.lanes - len(chunk)]
            beats.append((mode, [c[0] for c in chunk], [c[1] for c in chunk]))
        return beats

    def rand_s(self):
        """Mostly real sigmoid outputs, plus [0, 1], the special points and the whole act range."""
        r = self.r
        p = r.random()
        if p < 0.6:
            x = r.randint(max(self.alo, -(10 << self.fa)), min(self.ahi, 10 << self.fa))
            return int(golden_sigmoid.fwd(x, self.act))
        if p < 0.75:
            return r.randint(0, self.one)
        if p < 0.85:
            return r.choice([0, 1, self.one >> 1, self.one - 1, self.one, self.alo, self.ahi, -1])
        return r.randint(self.alo, self.ahi)

    def rand_g(self, mode):
        r = self.r
        lo, hi = (self.dlo, self.dhi) if mode == 1 else (self.alo, self.ahi)
        p = r.random()
        if p < 0.15:
            return r.choice([0, 1, -1, lo, hi, lo + 1, hi - 1])
        if p < 0.45:
            return r.randint(max(lo, -64), min(hi, 64))
        if mode == 2 and p < 0.8:
            return r.randint(-self.one, self.one)        # e = O - y of a real head
        return r.randint(lo, hi)

    def random_beats(self, n_values, modes=(1, 2), p_fwd=0.1):
        """About n_values lane values in mixed-mode beats: backward modes plus some forward beats."""
        beats = []
        for _ in range(max(1, -(-n_values // self.lanes))):
            mode = 0 if self.r.random() < p_fwd else self.r.choice(modes)
            if mode == 0:
                xs = [self.r.randint(self.alo, self.ahi) for _ in range(self.lanes)]
                beats.append((0, xs, [self.r.randint(self.dlo, self.dhi) for _ in xs]))
            else:
                beats.append((mode, [self.rand_s() for _ in range(self.lanes)],
                              [self.rand_g(mode) for _ in range(self.lanes)]))
        return beats

    def forward_sweep(self):
        """Every act code when 2^W / LANES <= EXHAUSTIVE_MAX_BEATS, else every table address with
        fractions 0, 1, half, last and a random one, plus the clamped ranges and +-max."""
        if (1 << self.w) <= EXHAUSTIVE_MAX_BEATS * self.lanes:
            codes = list(range(self.alo, self.ahi + 1))
            self.log.info("forward: exhaustive over all %d codes", len(codes))
        else:
            fb = self.fa - 4
            fracs = sorted({0, 1, (1 << fb) >> 1, (1 << fb) - 1}) if fb > 0 else [0]
            codes = []
            for i in range(256):
                base = (i << fb) - (8 << self.fa)
                codes += [base + f for f in fracs] + [base + self.r.randrange(1 << fb) if fb else base]
            codes += [self.alo, self.alo + 1, self.ahi, self.ahi - 1, (8 << self.fa), (8 << self.fa) + 1,
                      -(8 << self.fa) - 1, -(8 << self.fa) - 2]
            codes += [self.r.randint(self.alo, self.ahi) for _ in range(512)]
            codes = [c for c in codes if self.alo <= c <= self.ahi]
            self.log.info("forward: %d codes covering every table address (2^%d codes at LANES=%d "
                          "would exceed %d beats)", len(codes), self.w, self.lanes,
                          EXHAUSTIVE_MAX_BEATS)
        return codes

    def boundary_beats(self):
        one, fa = self.one, self.fa
        xs = [self.alo, self.alo + 1, self.ahi, self.ahi - 1, -(8 << fa), -(8 << fa) - 1,
              -(8 << fa) + 1, (8 << fa) - 1, (8 << fa), (8 << fa) + 1, 0, 1, -1, one, -one,
              (1 << (fa - 4)) - 1, -(1 << (fa - 4))]
        xs = [x for x in xs if self.alo <= x <= self.ahi]
        beats = self.beats_of(0, [(x, 0) for x in xs])
        ss = [0, one, one >> 1, 1, one - 1, self.alo, self.ahi, -1]
        # exact +-0.5 LSB ties of the backward narrowing: s with an odd ds, g = odd * 2^(shift-1)
        ds = golden_sigmoid.deriv(np.arange(0, one + 1), self.act)
        odd_s = [int(s) for s in np.nonzero(ds & 1)[0][:4]]
        for mode, shift, lo, hi in ((1, self.fa, self.dlo, self.dhi),
                                    (2, 2 * self.fa - self.df, self.alo, self.ahi)):
            gs = [0, 1, -1, lo, hi, lo + 1, hi - 1]
            if mode == 2:
                gs += [one, -one, one - 1, -(one - 1)]
            cases = [(s, g) for s in ss for g in gs]
            if shift > 0:
                half = 1 << (shift - 1)
                k_hi = hi // half - (1 - (hi // half) % 2)        # largest odd multiple <= hi
                k_lo = -(-lo // half) + (1 - (-(-lo // half)) % 2)  # smallest odd multiple >= lo
                ties = [k * half for k in (1, -1, 3, -3, 5, -5, k_hi, k_lo) if lo <= k * half <= hi]
                cases += [(s, g) for s in odd_s for g in ties]
            self.log.info("mode %d boundary: %d cases (shift %d, odd-ds s %s)", mode, len(cases),
                          shift, odd_s)
            beats += self.beats_of(mode, cases)
        return beats

    # -------------------------------------------------------------- driver, monitor
    async def drive(self, beats, kind="none", expect=None):
        """StreamTB.drive with every beat paired with its golden output (`expected(beats)` unless
        `expect` is given)."""
        expect = self.expected(beats) if expect is None else expect
        await super().drive(zip(beats, expect), kind)

    def observe(self, got):
        self.got.append(got)
        self.sb.check(got)


async def run(tb, beats, s_kind="none", m_kind="none", expect=None):
    """StreamTB.run, with an optional list of expected outputs and a count of saturated lanes."""
    await tb.start(m_kind)
    await tb.drive(beats, s_kind, expect)
    await tb.drain()
    tb.log.info("%d of %d lane outputs saturated (m_ovf_o)",
                sum(bin(o).count("1") for _, _, o in tb.got), len(tb.got) * tb.lanes)
    assert tb.sb.finish() == 0


def sigmoid_float(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


@cocotb.test()
async def forward_exhaustive(dut):
    """Every act code (or every table address), against golden fwd; max error vs float sigmoid."""
    tb = TB(dut)
    codes = tb.forward_sweep()
    beats = tb.beats_of(0, [(c, 0) for c in codes])
    await run(tb, beats)
    # error of what the DUT produced (bit-equal to golden, checked above) against the float sigmoid
    xs = np.array([x for _, b, _ in beats for x in b], dtype=np.int64)
    ys = np.array([v for _, vals, _ in tb.got for v in vals], dtype=np.int64)
    assert len(xs) == len(ys)
    ref = sigmoid_float(xs / tb.one) * tb.one
    err = np.abs(ys - ref)
    worst = int(np.argmax(err))
    table = np.array([int(ln, 16) & 0xFFFF for ln in open(os.environ.get(
        "SIG_TABLE_FILE", tbkit.RTL / "tables" / "sigmoid.hex")).read().split()], dtype=np.int64)
    tgrid = sigmoid_float(-8.0 + np.arange(256) / 16.0) * 65536
    terr = float(np.abs(table - tgrid).max())
    inside = np.abs(xs) < (8 << tb.fa)
    report = {"act": str(tb.act), "lanes": tb.lanes, "codes": int(len(xs)),
              "fwd_max_err_lsb": float(err.max()), "fwd_worst_x_code": int(xs[worst]),
              "fwd_max_err_lsb_in_-8_8": float(err[inside].max()),
              "fwd_mean_abs_err_lsb": float(err.mean()), "table_max_err_lsb_q0_16": terr}
    tb.log.info("sigmoid max error vs float: forward path %.4f LSB of %s (worst at x=%d, %.4f in "
                "[-8, 8)), mean %.4f LSB; table T[0..255] %.4f LSB of Q0.16",
                report["fwd_max_err_lsb"], tb.act, report["fwd_worst_x_code"],
                report["fwd_max_err_lsb_in_-8_8"], report["fwd_mean_abs_err_lsb"], terr)
    with open("sigmoid_error.json", "w") as fh:     # the test's build directory
        json.dump(report, fh, indent=1)
    assert err.max() < 1.0, "forward path must stay within 1 LSB of the float sigmoid"


@cocotb.test()
@cocotb.parametrize(kinds=[("none", "none"), ("1in4", "1in4"), ("random", "random"),
                           ("1in4", "random"), ("random", "1in4")])
async def random_backward(dut, kinds):
    """num_samples random backward values (modes 1 and 2, some forward beats mixed in)."""
    s_kind, m_kind = kinds
    tb = TB(dut)
    n = tbkit.num_samples(10000)
    if kinds != ("none", "none"):
        n = max(n // 4, 100)
    beats = tb.random_beats(n)
    tb.log.info("%d beats: %s", len(beats), {m: sum(b[0] == m for b in beats) for m in (0, 1, 2)})
    await run(tb, beats, s_kind, m_kind)


@cocotb.test()
async def boundary_vectors(dut):
    """x at +-max, -8, 8 - 1 LSB and neighbours; s at 0, 0.5, 1.0 and out of range with delta/e at
    +-max, min*min, and exact +-0.5 LSB ties of the backward narrowing."""
    tb = TB(dut)
    await run(tb, tb.boundary_beats(), "1in4", "random")


@cocotb.test()
async def reset_in_flight(dut):
    """Reset with beats in flight and back-pressure; nothing stale afterwards, then it works again."""
    tb = TB(dut)
    await tb.start("random")
    in_flight = []
    for _ in range(3):
        task = cocotb.start_soon(tb.drive(tb.random_beats(40 * tb.lanes, modes=(1, 2), p_fwd=0.4),
                                          "random"))
        await ClockCycles(dut.clk, tb.r.randint(5, 30))
        task.cancel()
        in_flight.append(len(tb.sb.queue))           # accepted beats not yet out
        await tb.reset(tb.r.randint(1, 3))
        for _ in range(6):                           # nothing stale comes out after the reset
            await ReadOnly()
            assert int(dut.m_valid_o.value) == 0, "stale output after reset"
            await FallingEdge(dut.clk)
    tb.log.info("beats in flight at the resets: %s", in_flight)
    assert max(in_flight) > 0, "no beat was in flight at any reset"
    await tb.drive(tb.random_beats(100 * tb.lanes, p_fwd=0.4), "1in4")
    await tb.drain()
    assert tb.sb.finish() == 0


@contextlib.contextmanager
def truncating_golden():
    """A broken golden model: every narrowing in golden.sigmoid truncates (off-by-one rounding)."""
    orig = golden_sigmoid.requantize

    def broken(x, shift, fmt, rounding, *a, **k):
        return orig(x, shift, fmt, "truncate", *a, **k)

    golden_sigmoid.requantize = broken
    try:
        yield
    finally:
        golden_sigmoid.requantize = orig


@cocotb.test(expect_fail=True)
async def mutant_model(dut):
    """The scoreboard must catch a golden model that truncates instead of rounding."""
    tb = TB(dut)
    beats = tb.random_beats(50 * tb.lanes, p_fwd=0.3)
    with truncating_golden():
        expect = tb.expected(beats)
    await run(tb, beats, expect=expect)


# ------------------------------------------------------------------------- pytest entry
# (act format, delta format) per width; ROUND_BWD varies with the build so every mode is simulated
FORMATS = {16: dict(W=16, FA=8, DW=16, DF=12), 12: dict(W=12, FA=6, DW=14, DF=10)}
ROUND_OF = {(16, 8): 1, (16, 1): 2, (12, 8): 0, (12, 1): 1}


@pytest.mark.parametrize("lanes", [8, 1])
@pytest.mark.parametrize("w", [16, 12])
def test_sigmoid(w, lanes):
    table = tbkit.RTL / "tables" / "sigmoid.hex"
    params = dict(FORMATS[w], LANES=lanes, ROUND_BWD=ROUND_OF[(w, lanes)], TABLE_FILE=f'"{table}"')
    tbkit.run_sim("sigmoid", parameters=params, sources=["sigmoid.v", "requantize.v"],
                  extra_env={"SIG_TABLE_FILE": str(table)})

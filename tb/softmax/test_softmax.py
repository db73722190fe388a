"""cocotb testbench of rtl/softmax.v against golden/softmax.py (exps, probs, delta, loss).

Vector counts: one training sample of N logits costs 20*N + 4 cycles, an inference sample 2*N + 5, so
the random tests count *logits*: tbkit.num_samples(10000) logits (about 1,100 samples at N in {10, 2,
NMAX}, a quarter of them in inference mode) for the stall-free run, and a fifth of that for each
handshake-pattern run.

Every training output beat is checked as (delta, p, last, pred, loss, sticky ovf) against the golden
model, and independently p is checked to be the exact floor of e * 2^16 / S (p*S <= e*2^16 < (p+1)*S).
An inference sample gives one beat, checked as (last = 1, pred, loss, sticky ovf unchanged); its
m_delta_o / m_p_o are don't-care and not read. test_exp_exhaustive watches the exp pipeline's last stage
(white box: v3_q, k3_q, e_val) and checks e for every (EXP_INT, EXP_FRAC) address pair against
golden.softmax.exps.
"""
from __future__ import annotations

import importlib.util
import json
import os
from collections import deque
from pathlib import Path

import numpy as np
import pytest

import tbkit
from golden import softmax as gsm
from golden.requantize import requantize
from golden.spec import Fmt

ROUND_NAMES = {0: "truncate", 1: "half_up", 2: "half_even"}
CLK_NS = 10


def cycles_per_sample(n: int, infer: bool = False) -> int:
    """Cycle model of rtl/softmax.v: first logit of one sample to the first logit of the next."""
    return 2 * n + 5 if infer else 20 * n + 4


def first_delta_latency(n: int, infer: bool = False) -> int:
    """Clock edges from the edge accepting the last logit to the edge loading the first output beat."""
    return n + 5 if infer else n + 22


# ============================================================================ pytest side
def _export_tables_module():
    path = tbkit.REPO / "scripts" / "export_tables.py"
    spec = importlib.util.spec_from_file_location("export_tables", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _exp_frac_file(fa: int) -> Path:
    """The shipped table for FA = 8; for any other FA a fresh export into the build directory."""
    if fa == 8:
        return tbkit.RTL / "tables" / "exp_frac.hex"
    et = _export_tables_module()
    vals, width = et.tables(fa)["exp_frac.hex"]
    out = tbkit.BUILD / "softmax" / f"tables_fa{fa}" / "exp_frac.hex"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(et.render(vals, width))
    return out


CONFIGS = {
    # shipped tables, default formats (act Q8.8, delta Q4.12, half-up)
    "w16fa8": dict(W=16, FA=8, NMAX=16, DW=16, DF=12, ROUND_BWD=1),
    # generated FA=6 table; DF=15 so that p = 1.0 saturates (exercises the sticky overflow flag)
    "w16fa6": dict(W=16, FA=6, NMAX=10, DW=16, DF=15, ROUND_BWD=2),
    # narrower logits and deltas, truncation
    "w12fa5": dict(W=12, FA=5, NMAX=12, DW=12, DF=10, ROUND_BWD=0),
}


@pytest.mark.parametrize("cfg_name", list(CONFIGS))
def test_softmax(cfg_name):
    cfg = CONFIGS[cfg_name]
    params = dict(cfg)
    params["EXP_INT_FILE"] = f'"{tbkit.RTL / "tables" / "exp_int.hex"}"'
    params["EXP_FRAC_FILE"] = f'"{_exp_frac_file(cfg["FA"])}"'
    params["LN_MANT_FILE"] = f'"{tbkit.RTL / "tables" / "ln_mant.hex"}"'
    tbkit.run_sim("softmax", parameters=params, sources=["softmax.v", "requantize.v"],
                  extra_env={"SOFTMAX_CFG": json.dumps(cfg)})


# ============================================================================ cocotb side
try:
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ClockCycles, Event, FallingEdge, RisingEdge
    from cocotb.utils import get_sim_time
except ImportError:  # collected by pytest without cocotb: only the pytest entry above is used
    cocotb = None


def _cfg():
    return json.loads(os.environ["SOFTMAX_CFG"])


class Model:
    """Expected output beats of one sample, all from golden/softmax.py."""

    def __init__(self, cfg):
        self.act = Fmt(cfg["W"], cfg["FA"])
        self.dfmt = Fmt(cfg["DW"], cfg["DF"])
        self.rounding = ROUND_NAMES[cfg["ROUND_BWD"]]

    def sample(self, z, label):
        z = np.asarray(z, dtype=np.int64)
        e = gsm.exps(z, self.act)
        s = int(e.sum())
        p = gsm.probs(z, self.act)
        codes, flag = gsm.delta(z, label, self.act, self.dfmt, self.rounding)
        loss = gsm.loss(z, label, self.act)
        pred = int(np.argmax(z))               # first maximum
        y = np.zeros_like(p)
        y[label] = 1 << gsm.P_FRAC
        flags = [requantize(np.array([int(p[k] - y[k])]), gsm.P_FRAC - self.dfmt.frac, self.dfmt,
                            self.rounding)[1] for k in range(len(z))]
        assert any(flags) == flag
        return [dict(delta=int(codes[k]), p=int(p[k]), last=int(k == len(z) - 1), pred=pred,
                     loss=loss, flag=bool(flags[k]), e=int(e[k]), s=s) for k in range(len(z))]


class TB:
    def __init__(self, dut, r, in_pause="none", out_pause="none"):
        self.dut = dut
        self.cfg = _cfg()
        self.r = r
        self.model = Model(self.cfg)
        self.act = self.model.act
        self.nmax = self.cfg["NMAX"]
        self.sb = tbkit.Scoreboard("softmax", dut._log)
        self.exact_errors = 0
        self.flag_count = 0          # expected saturated deltas (coverage of ovf_o)
        self.ovf_model = False
        self.in_q = deque()          # (logit, last, label, first, infer)
        self.exp_q = deque()         # (infer, e, S) per expected beat, in step with sb.queue
        self.in_pause = tbkit.pauses(in_pause, r)
        self.out_pause = tbkit.pauses(out_pause, r)
        self.flush = False
        self.gen = 0                 # reset generation: a beat taken before a reset is stale
        self.have_data = Event()
        self.in_accepts = []         # (cycle, first, last) of accepted logits
        self.out_loads = []          # cycle of each output transfer
        self.out_count = 0
        dut.s_valid_i.value = 0
        dut.s_logit_i.value = 0
        dut.s_last_i.value = 0
        dut.s_label_i.value = 0
        dut.s_infer_i.value = 0
        dut.m_ready_i.value = 0
        dut.rst.value = 1
        cocotb.start_soon(Clock(dut.clk, CLK_NS, unit="ns").start())
        cocotb.start_soon(self._driver())
        cocotb.start_soon(self._monitor())

    @staticmethod
    def cycle() -> int:
        return int(get_sim_time("ns")) // CLK_NS

    async def reset(self, cycles: int = 2):
        """Synchronous reset; drops everything queued or in flight (stimulus and expectations).

        All DUT inputs change at falling edges only (no race with the rising edge that samples them).
        """
        self.flush = True
        self.gen += 1
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        self.in_q.clear()
        self.sb.queue.clear()
        self.exp_q.clear()
        self.ovf_model = False
        self.flush = False

    def send(self, z, label, infer=False):
        z = [int(v) for v in z]
        for k, v in enumerate(z):
            self.in_q.append((v, int(k == len(z) - 1), label, k == 0, int(infer)))
        beats = self.model.sample(z, label)
        if infer:                    # one beat: pred and loss; no deltas, ovf unchanged
            b = beats[-1]
            self.sb.expect((None, None, 1, b["pred"], b["loss"], int(self.ovf_model)))
            self.exp_q.append((True, None, None))
        else:
            for b in beats:
                self.flag_count += int(b["flag"])
                self.ovf_model = self.ovf_model or b["flag"]
                self.sb.expect((b["delta"], b["p"], b["last"], b["pred"], b["loss"],
                                int(self.ovf_model)))
                self.exp_q.append((False, b["e"], b["s"]))
        self.have_data.set()

    async def _driver(self):
        """At each falling edge: the beat on the port transfers at the next rising edge iff
        valid && ready (ready is a registered output, stable between rising edges)."""
        dut = self.dut
        cur = None
        cur_gen = 0
        while True:
            await FallingEdge(dut.clk)
            if self.flush or cur_gen != self.gen:
                cur = None
                cur_gen = self.gen
                dut.s_valid_i.value = 0
                continue
            if cur is not None:
                if int(dut.s_ready_o.value):
                    self.in_accepts.append((self.cycle(), cur[3], cur[1]))
                    cur = None           # transfers at the coming rising edge
                    continue
                else:
                    await RisingEdge(dut.s_ready_o)   # busy computing: sleep until it loads again
                    continue
            if next(self.in_pause) or not self.in_q:
                dut.s_valid_i.value = 0
                if not self.in_q:
                    self.have_data.clear()
                    await self.have_data.wait()
                continue
            cur = self.in_q.popleft()
            dut.s_logit_i.value = cur[0]
            dut.s_last_i.value = cur[1]
            dut.s_label_i.value = cur[2] if cur[3] else self.r.randrange(self.nmax)
            dut.s_infer_i.value = cur[4] if cur[3] else self.r.randrange(2)   # only the first counts
            dut.s_valid_i.value = 1
            if int(dut.s_ready_o.value):
                self.in_accepts.append((self.cycle(), cur[3], cur[1]))
                cur = None

    async def _monitor(self):
        """At each falling edge: a beat on the port transfers at the next rising edge iff
        valid && ready; its data is read now (stable between rising edges)."""
        dut = self.dut
        while True:
            await FallingEdge(dut.clk)
            if self.flush or int(dut.rst.value):
                continue
            if not int(dut.m_valid_o.value):
                await RisingEdge(dut.m_valid_o)       # nothing to see until a beat is loaded
                continue
            ready = not next(self.out_pause)
            dut.m_ready_i.value = int(ready)
            if not ready:
                continue
            infer, e, s = self.exp_q.popleft() if self.exp_q else (False, None, None)
            if infer:                # m_delta_o / m_p_o are don't-care on an inference beat
                got = (None, None)
            else:
                got = (dut.m_delta_o.value.to_signed(), int(dut.m_p_o.value))
            got += (int(dut.m_last_o.value), int(dut.pred_o.value), int(dut.loss_o.value),
                    int(dut.ovf_o.value))
            self.out_loads.append(self.cycle())
            self.out_count += 1
            if e is not None:
                p = got[1]
                if not (p * s <= (e << 16) < (p + 1) * s):
                    self.exact_errors += 1
                    dut._log.error("p=%d is not floor(%d * 2^16 / %d)", p, e, s)
            self.sb.check(got)

    async def drain(self, max_cycles: int | None = None):
        """Wait until every queued sample has come out (or a generous cycle limit)."""
        if max_cycles is None:
            beats = len(self.sb.queue) + len(self.in_q)
            max_cycles = 200 + 80 * beats
        waited = 0
        while (self.in_q or self.sb.queue) and waited < max_cycles:
            await ClockCycles(self.dut.clk, 16)
            waited += 16
        await ClockCycles(self.dut.clk, 40)   # nothing extra may come out

    def finish(self) -> int:
        errs = self.sb.finish()
        if self.exact_errors:
            self.dut._log.error("%d exact-division errors", self.exact_errors)
        return errs + self.exact_errors


# ---------------------------------------------------------------------------- stimulus
def _clip(v, act):
    return max(act.min_code, min(act.max_code, v))


def random_vector(r, n, act):
    lo, hi, one = act.min_code, act.max_code, 1 << act.frac
    kind = r.random()
    if kind < 0.45:      # realistic logits: a centre and a spread of a few units
        c = r.randint(lo // 2, hi // 2)
        spread = r.choice([1, 2, 4, 8, 20]) * one
        return [_clip(c + r.randint(-spread, spread), act) for _ in range(n)]
    if kind < 0.6:       # anything
        return [r.randint(lo, hi) for _ in range(n)]
    if kind < 0.75:      # ties: a few distinct values
        vals = [r.randint(lo, hi) for _ in range(r.randint(1, 3))]
        return [r.choice(vals) for _ in range(n)]
    if kind < 0.85:      # one (or two) dominant, the rest d >= 16 below (e = 0) or near the edge
        top = r.randint(lo + 17 * one, hi) if hi - lo > 17 * one else hi
        z = [max(lo, top - r.randint(16 * one - 2, 40 * one)) for _ in range(n)]
        z[r.randrange(n)] = top
        return z
    # extremes: +-max mixed with random codes
    return [r.choice([lo, hi, lo + 1, hi - 1, r.randint(lo, hi)]) for _ in range(n)]


def random_ns(r, nmax):
    choices = sorted({min(10, nmax), 2, nmax})
    return r.choice(choices) if r.random() < 0.85 else r.randint(2, nmax)


async def run_random(dut, count, in_pause="none", out_pause="none"):
    r = tbkit.rng(dut._log)
    tb = TB(dut, r, in_pause, out_pause)
    await tb.reset()
    sent = 0
    while sent < count:
        n = random_ns(r, tb.nmax)
        label = r.choice([0, n - 1, r.randrange(n)])
        tb.send(random_vector(r, n, tb.act), label, infer=r.random() < 0.25)
        sent += n
        if len(tb.in_q) > 4 * tb.nmax:       # keep the model ahead of the DUT, but not far
            while len(tb.in_q) > tb.nmax:
                await ClockCycles(dut.clk, 32)
    await tb.drain()
    dut._log.info("random %s/%s: %d beats checked, %d deltas saturated", in_pause, out_pause,
                  tb.sb.checked, tb.flag_count)
    return tb


def boundary_vectors(act, nmax):
    """(z, label) pairs: ties, d >= 16, +-max, first/last label, exact divisions, table-address sweeps."""
    lo, hi, one = act.min_code, act.max_code, 1 << act.frac
    ns = sorted({2, min(10, nmax), nmax})
    out = [([v], 0) for v in (0, hi, lo, 1, -1)]          # N = 1: p = 1, delta 0, loss 0
    for n in ns:
        for v in (0, hi, lo, 1, -1):
            for lab in (0, n - 1):
                out.append(([v] * n, lab))                  # all equal: p = 2^16 / N (exact for 2^k)
        z = [lo] * n
        z[n - 1] = hi
        out += [(z, 0), (z, n - 1)]                         # one far above, at +-max
        z = [hi] * n
        z[0] = lo
        out += [(z, 0), (z, n - 1)]                         # one far below
        out.append(([hi if k % 2 else lo for k in range(n)], 0))
        out.append(([lo if k % 2 else hi for k in range(n)], n - 1))
        if hi - lo > 16 * one:
            top = hi
            for d in (16 * one, 16 * one - 1, 16 * one + 1, 15 * one):   # n = 16 boundary
                z = [top - d] * n
                z[0] = top
                out += [(z, 0), (z, n - 1)]
    # every EXP_FRAC address f and every EXP_INT address n: d = (f mod 16) * 2^Fa + f, n*2^Fa
    ds = [((f % 16) << act.frac) + f for f in range(1 << act.frac)] + [k << act.frac for k in range(17)]
    ds = [d for d in ds if d <= hi - lo]
    per = nmax - 1
    for i in range(0, len(ds), per):
        chunk = ds[i:i + per]
        top = hi
        z = [top] + [top - d for d in chunk]
        out.append((z, (i // per) % len(z)))
    out += ln_mant_sweep(act, nmax)
    return out


def ln_mant_sweep(act, nmax):
    """One vector per LN_MANT address (b = 16, i.e. S < 2^17), found with the golden exps."""
    lo, hi = act.min_code, act.max_code
    dmax = min(16 << act.frac, hi - lo)
    dvals = np.arange(1, dmax + 1)
    ev = np.array([int(gsm.exps(np.array([0, -int(d)]), act)[1]) for d in dvals])  # e(d) for N=2
    order = np.argsort(ev, kind="stable")
    es, ds = ev[order], dvals[order]
    out = []
    for idx in range(256):
        lo_s, hi_s = idx << 8, (idx + 1) << 8              # S - 2^16 must land in [lo_s, hi_s)
        j = np.searchsorted(es, lo_s)
        if j < len(es) and es[j] < hi_s:
            out.append(([hi, hi - int(ds[j])], idx % 2))
            continue
        found = False
        for a in range(len(es)):                            # pairs of smaller e
            if es[a] >= hi_s:
                break
            j = np.searchsorted(es, lo_s - es[a])
            if j < len(es) and es[a] + es[j] < hi_s and nmax >= 3:
                out.append(([hi, hi - int(ds[a]), hi - int(ds[j])], 2))
                found = True
                break
        assert found, f"no vector found for LN_MANT address {idx}"
    return out


# ---------------------------------------------------------------------------- tests
if cocotb is not None:

    @cocotb.test()
    async def test_random(dut):
        """Random logit vectors, N in {10, 2, NMAX} (and some 2..NMAX), no stalls."""
        tb = await run_random(dut, tbkit.num_samples(10000))
        assert tb.finish() == 0

    @cocotb.test()
    @cocotb.parametrize(pauses=[("1in4", "1in4"), ("random", "random"), ("none", "random"),
                                ("random", "none")])
    async def test_handshake(dut, pauses):
        """Idle insertion on the logit stream and back-pressure on the delta stream."""
        tb = await run_random(dut, max(200, tbkit.num_samples(10000) // 5), *pauses)
        assert tb.finish() == 0

    @cocotb.test()
    async def test_boundaries(dut):
        """Ties, e = 0 (d >= 16), +-max, label first/last, exact divisions, every table address, N = 1;
        each vector in training and in inference mode."""
        r = tbkit.rng(dut._log)
        tb = TB(dut, r, "none", "1in4")
        await tb.reset()
        vecs = boundary_vectors(tb.act, tb.nmax)
        for z, lab in vecs:
            tb.send(z, lab)
            tb.send(z, lab, infer=True)
            if len(tb.in_q) > 4 * tb.nmax:
                while len(tb.in_q) > tb.nmax:
                    await ClockCycles(dut.clk, 32)
        await tb.drain()
        dut._log.info("boundaries: %d vectors x 2 modes, %d beats, %d saturated", len(vecs),
                      tb.sb.checked, tb.flag_count)
        assert tb.finish() == 0

    @cocotb.test()
    async def test_exp_exhaustive(dut):
        """Every (n, f) = (EXP_INT, EXP_FRAC) address pair, d = n*2^FA + f: the e written by the exp
        pipeline (white box: v3_q, k3_q, e_val) equals golden.softmax.exps; pred and loss through the
        scoreboard (inference mode, so the run is short; the pipeline is shared by both modes)."""
        r = tbkit.rng(dut._log)
        tb = TB(dut, r)
        await tb.reset()
        act, nmax = tb.act, tb.nmax
        one = 1 << act.frac
        ds = [n * one + f for n in range(gsm.EXP_INT_N) for f in range(one)]
        assert max(ds) <= act.max_code - act.min_code
        exp_e = deque()              # (class index, e, d) in pipeline order
        per = nmax - 1
        for i in range(0, len(ds), per):
            z = [act.max_code] + [act.max_code - d for d in ds[i:i + per]]
            r.shuffle(z)             # the max anywhere
            e = gsm.exps(np.array(z), act)
            exp_e.extend((k, int(e[k]), act.max_code - z[k]) for k in range(len(z)))
            tb.send(z, r.randrange(len(z)), infer=True)
        seen = set()
        errors = 0
        checked = 0
        limit = 40 * len(exp_e) + 1000
        while exp_e and limit > 0:
            limit -= 1
            await FallingEdge(dut.clk)
            if int(dut.v3_q.value):
                k, e, d = exp_e.popleft()
                got_k, got_e = int(dut.k3_q.value), int(dut.e_val.value)
                checked += 1
                seen.add((d >> act.frac, d & (one - 1)))
                if (got_k, got_e) != (k, e):
                    errors += 1
                    if errors <= 10:
                        dut._log.error("exp stage: class %d e=%d, expected class %d e=%d", got_k,
                                       got_e, k, e)
        errors += len(exp_e)         # classes that never came through the pipeline
        await tb.drain()
        assert len(seen) == gsm.EXP_INT_N * one
        dut._log.info("exp exhaustive: %d e values checked (%d address pairs), %d errors", checked,
                      len(seen), errors)
        tbkit.record("softmax_exp", checked, errors)
        assert errors == 0
        assert tb.finish() == 0

    @cocotb.test()
    async def test_cycles(dut):
        """Measured cycles per sample equal the documented models, training 20*N + 4 and inference
        2*N + 5, and the latency to the first output beat N + 22 / N + 5, for several N and modes
        (every mode transition occurs)."""
        r = tbkit.rng(dut._log)
        tb = TB(dut, r)
        await tb.reset()
        nmax = tb.nmax
        base = [1, 2, 3, min(10, nmax), nmax - 1, nmax]
        runs = [(n, False) for n in base] + [(n, True) for n in base]
        runs += [(2, True), (nmax, False), (3, True), (3, True), (nmax, True), (1, False), (2, True),
                 (nmax, False), (5 % nmax + 1, False)]
        for n, infer in runs:
            tb.send([r.randint(tb.act.min_code, tb.act.max_code) for _ in range(n)], r.randrange(n),
                    infer=infer)
        await tb.drain()
        firsts = [c for c, first, _ in tb.in_accepts if first]
        lasts = [c for c, _, last in tb.in_accepts if last]
        assert len(firsts) == len(runs) and len(lasts) == len(runs)
        bad = 0
        for i, (n, infer) in enumerate(runs[:-1]):
            if firsts[i + 1] - firsts[i] != cycles_per_sample(n, infer):
                bad += 1
                dut._log.error("N=%d infer=%d: %d cycles per sample, model says %d", n, infer,
                               firsts[i + 1] - firsts[i], cycles_per_sample(n, infer))
        beat = 0
        for i, (n, infer) in enumerate(runs):
            # the monitor sees a beat at the edge after the one that loaded it (m_ready held high)
            lat = tb.out_loads[beat] - 1 - lasts[i]
            if lat != first_delta_latency(n, infer):
                bad += 1
                dut._log.error("N=%d infer=%d: first beat after %d edges, model says %d", n, infer,
                               lat, first_delta_latency(n, infer))
            beat += 1 if infer else n
        dut._log.info("cycle model checked for (N, infer) in %s", runs)
        assert bad == 0
        assert tb.finish() == 0

    @cocotb.test()
    async def test_reset_in_flight(dut):
        """Reset while loading, computing and while a delta waits on back-pressure; then work again."""
        r = tbkit.rng(dut._log)
        tb = TB(dut, r, "random", "random")
        await tb.reset()
        for it in range(12):
            for _ in range(r.randint(1, 3)):
                n = random_ns(r, tb.nmax)
                tb.send(random_vector(r, n, tb.act), r.randrange(n), infer=r.random() < 0.3)
            await ClockCycles(dut.clk, r.randint(1, 60 * tb.nmax))
            await tb.reset(r.randint(1, 3))
            await ClockCycles(dut.clk, 50)        # nothing stale may come out (sb has no expectations)
            n = random_ns(r, tb.nmax)
            tb.send(random_vector(r, n, tb.act), r.randrange(n), infer=bool(it % 2))
            await tb.drain()
        dut._log.info("reset in flight: %d deltas checked after resets", tb.sb.checked)
        assert tb.finish() == 0

    @cocotb.test(expect_fail=True)
    async def test_mutant(dut):
        """Broken golden model (p rounded to nearest instead of floor): the scoreboard must fail."""
        orig = gsm.probs

        def probs_rounded(z, act):
            e = gsm.exps(z, act)
            s = int(e.sum())
            return ((e << gsm.P_FRAC) + s // 2) // s

        gsm.probs = probs_rounded
        try:
            tb = await run_random(dut, 200)
            tb.exact_errors = 0                  # that check does not use the golden probs
            assert tb.sb.finish() == 0
        finally:
            gsm.probs = orig

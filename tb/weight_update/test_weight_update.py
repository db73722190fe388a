"""cocotb testbench of rtl/weight_update.v against golden.weight_update (accumulate / update).

The golden model sees the stream of accepted beats in order: an accumulate beat with k kept lanes is
accumulate(G[:k], g[:k], f), an update beat is update(w[:k], G[:k], lr, f, lfsr) with one Lfsr(SEED)
for the whole stream, so stochastic rounding is replayed exactly over long streams with partial
beats and mixed ops (accumulate beats consume no LFSR state). f = Formats(weight, grad, lr, ...) from
the build parameters. Sticky flags: sticky_acc_o = OR of the accumulate flags, sticky_upd_o = OR of
the update flags, since rst / clear_i.

LFSR across reset: rst reloads SEED, so after a reset the model restarts with a fresh Lfsr(SEED);
beats in flight at the reset are dropped and consume no LFSR state.

One clock loop drives and samples at the falling edge (inputs and registered outputs are stable
from there to the rising edge); s_valid holds its beat until accepted, m_ready follows a pattern.
lr_i is held stable during a run (the RTL samples it with each beat).

  test_boundary   accumulate of +-max / min / +-1 pairs (saturation both ways); update with w at
                  +-max, min, G at +-max, lr at 1 / max / powers of two (saturating updates), exact
                  +-0.5 LSB ties of (w << S) - lr*G
  test_random     tbkit.num_samples(10000) random elements, mixed ops, 10% partial beats
  test_handshake  idle insertion / back-pressure (1in4,1in4) (random,none) (none,random) (random,random)
  test_reset      reset with beats in flight, nothing stale afterwards, fresh stream correct
  test_clear      clear_i pulses between beats, mostly in range so both flags rise and fall
  test_mutant     random check with a broken model (LFSR off by one state, or wrong rounding): fails
"""
from __future__ import annotations

from collections import deque

import pytest

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

import tbkit
from golden import weight_update as wu
from golden.lfsr import Lfsr
from golden.spec import Fmt, Formats

ROUND_NAMES = ("truncate", "half_up", "half_even", "stochastic")
OVF_NAMES = ("saturate", "wrap")
ACC, UPD = 0, 1


class TB:
    def __init__(self, dut, mutant: bool = False):
        self.dut = dut
        p = {n: int(getattr(dut, n).value) for n in ("P", "W_W", "W_F", "G_W", "G_F", "LR_W", "LR_F",
                                                     "ROUND_UPDATE", "OVERFLOW", "SEED")}
        self.p = p["P"]
        self.f = Formats(weight=Fmt(p["W_W"], p["W_F"]), grad=Fmt(p["G_W"], p["G_F"]),
                         lr=Fmt(p["LR_W"], p["LR_F"]), round_update=ROUND_NAMES[p["ROUND_UPDATE"]],
                         overflow=OVF_NAMES[p["OVERFLOW"]], lfsr_seed=p["SEED"])
        self.s = wu.shift(self.f)
        self.mutant = mutant
        self.sb = tbkit.Scoreboard("weight_update", dut._log)
        self.sticky_errors = 0
        self.lr = 1
        self.r = None
        self.restart_model()
        dut._log.info("P=%d %s S=%d", self.p, self.f.as_dict(), self.s)
        cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
        for sig in (dut.rst, dut.clear_i, dut.s_valid_i, dut.s_op_i, dut.s_keep_i, dut.s_w_i,
                    dut.s_acc_i, dut.s_grad_i, dut.m_ready_i, dut.lr_i):
            sig.value = 0

    # ------------------------------------------------------------------ golden side
    def restart_model(self):
        """Golden state after rst: fresh LFSR at SEED, flags low, nothing in flight."""
        self.lfsr = Lfsr(self.f.lfsr_seed)
        self.sticky = [False, False]           # [acc, upd]
        self.flags = deque()                   # (op, flag) of accepted beats not yet in the output reg
        self.prev_valid = self.prev_taken = self.prev_clear = False
        self.fm = self.f
        if self.mutant:
            if self.f.round_update == "stochastic":
                self.lfsr.take(1)              # off by one LFSR state
            else:
                other = {"truncate": "half_up", "half_up": "truncate", "half_even": "truncate"}
                self.fm = Formats(**{**self.f.__dict__, "round_update": other[self.f.round_update]})

    def expect_beat(self, b):
        """Queue the golden output of one accepted beat; returns its overflow flag."""
        k = b["k"]
        if b["op"] == ACC:
            codes, flag = wu.accumulate(b["a"][:k], b["g"][:k], self.fm)
        else:
            codes, flag = wu.update(b["w"][:k], b["a"][:k], self.lr, self.fm, self.lfsr)
        self.sb.expect((b["op"], k, [int(c) for c in codes]))
        return flag

    # ------------------------------------------------------------------ DUT side
    def read_out(self):
        d = self.dut
        op, keep = int(d.m_op_o.value), int(d.m_keep_o.value)
        k = bin(keep).count("1")
        assert keep == (1 << k) - 1, f"m_keep_o {keep:#x} not contiguous"
        if op == ACC:
            data, w = int(d.m_acc_o.value), self.f.grad.width
        else:
            data, w = int(d.m_w_o.value), self.f.weight.width
        return op, k, list(tbkit.unpack(data, w, k))

    async def reset(self, cycles=2):
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 1
        self.dut.s_valid_i.value = 0
        self.dut.clear_i.value = 0
        self.dut.seed_load_i.value = 0
        self.dut.seed_i.value = 0
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        self.sb.queue.clear()
        self.restart_model()

    def check_sticky(self, cyc):
        d = self.dut
        got = [int(d.sticky_acc_o.value), int(d.sticky_upd_o.value)]
        if got != [int(v) for v in self.sticky]:
            self.sticky_errors += 1
            if self.sticky_errors <= 10:
                d._log.error("sticky (acc, upd) = %s expected %s at cycle %d", got, self.sticky, cyc)

    async def run(self, beats, r, lr, s_kind="none", m_kind="none", clear_at=(), stop_after=None):
        """Send `beats` with lr_i = lr; check every output beat, and both sticky flags every cycle.

        Sticky model: the RTL updates a flag on the edge that loads a beat into the output register
        (set if a kept lane of that beat overflowed at that site, else cleared by clear_i). The TB
        sees that edge as a new beat appearing on m_valid_o (the register was empty or its previous
        beat was taken), and applies the flag queued for that beat at accept time.
        """
        d = self.dut
        self.lr = lr
        d.lr_i.value = lr
        s_pause, m_pause = tbkit.pauses(s_kind, r), tbkit.pauses(m_kind, r)
        pending, cur = deque(beats), None
        cyc = idle = 0
        while pending or cur is not None or self.sb.queue:
            await FallingEdge(d.clk)
            # ---- what the rising edge just did to the output register and the flags
            m_valid = int(d.m_valid_o.value)
            entered = m_valid and (not self.prev_valid or self.prev_taken)
            site_flag = [False, False]
            if entered:
                op, flag = self.flags.popleft()
                site_flag[op] = flag
            for i in (0, 1):
                if site_flag[i]:
                    self.sticky[i] = True
                elif self.prev_clear:
                    self.sticky[i] = False
            self.check_sticky(cyc)
            if stop_after is not None and cyc >= stop_after:
                return
            # ---- drive the next cycle
            if cur is None and pending and not next(s_pause):
                cur = pending.popleft()
            if cur is not None:
                d.s_valid_i.value = 1
                d.s_op_i.value = cur["op"]
                d.s_keep_i.value = (1 << cur["k"]) - 1
                d.s_w_i.value = tbkit.pack(cur["w"], self.f.weight.width)
                d.s_acc_i.value = tbkit.pack(cur["a"], self.f.grad.width)
                d.s_grad_i.value = tbkit.pack(cur["g"], self.f.grad.width)
            else:
                d.s_valid_i.value = 0
            m_ready = not next(m_pause)
            d.m_ready_i.value = int(m_ready)
            self.prev_clear = cyc in clear_at
            d.clear_i.value = int(self.prev_clear)
            await Timer(1, "ns")  # let s_ready_o follow m_ready_i
            self.prev_valid, self.prev_taken = m_valid, m_valid and m_ready
            if self.prev_taken:
                self.sb.check(self.read_out())
            if cur is not None and int(d.s_ready_o.value):
                self.flags.append((cur["op"], self.expect_beat(cur)))
                cur = None
            cyc += 1
            idle = idle + 1 if not m_valid else 0
            assert idle < 100, "output stream stalled"
        d.s_valid_i.value = 0
        d.clear_i.value = 0

    def finish(self):
        return self.sb.finish() + self.sticky_errors

    # ------------------------------------------------------------------ vectors
    def beat(self, op, w, a, g):
        k = len(a)
        pad = self.p - k
        rnd = lambda f: [self.r.randint(f.min_code, f.max_code) for _ in range(pad)]  # noqa: E731
        return {"op": op, "k": k, "w": list(w) + rnd(self.f.weight), "a": list(a) + rnd(self.f.grad),
                "g": list(g) + rnd(self.f.grad)}

    def random_code(self, fmt, r, small_bits=None):
        u = r.random()
        if u < 0.15:
            return r.choice([fmt.min_code, fmt.max_code, fmt.min_code + 1, fmt.max_code - 1, 0, 1, -1])
        if u < 0.45 or small_bits is None:
            return r.randint(fmt.min_code, fmt.max_code)
        b = r.randint(0, small_bits)
        return r.randint(-(1 << b), (1 << b) - 1)

    def random_beats(self, r, n_elems, op_mix=0.5):
        f, beats, n = self.f, [], 0
        while n < n_elems:
            k = r.randint(0, self.p) if r.random() < 0.1 else self.p
            op = UPD if r.random() < op_mix else ACC
            w = [self.random_code(f.weight, r) for _ in range(k)]
            a = [self.random_code(f.grad, r, small_bits=f.grad.frac) for _ in range(k)]
            g = [self.random_code(f.grad, r, small_bits=f.grad.frac) for _ in range(k)]
            beats.append(self.beat(op, w, a, g))
            n += k
        return beats

    def random_lr(self, r):
        f = self.f.lr
        return r.choice([1, f.max_code, 1 << r.randint(0, f.width - 2), r.randint(1, f.max_code)])


def make_tb(dut, mutant=False):
    tb = TB(dut, mutant=mutant)
    tb.r = tbkit.rng(dut._log)
    return tb, tb.r


async def check_random(dut, n, s_kind="none", m_kind="none", mutant=False):
    tb, r = make_tb(dut, mutant)
    await tb.reset()
    done = 0
    while done < n:  # a few lr values, each held over a long stream
        m = min(n - done, max(64, n // 3))
        await tb.run(tb.random_beats(r, m), r, tb.random_lr(r), s_kind, m_kind)
        done += m
    assert tb.sb.checked > 0
    assert tb.finish() == 0


@cocotb.test()
async def test_boundary(dut):
    tb, r = make_tb(dut)
    f, s = tb.f, tb.s
    await tb.reset()
    edge = lambda fmt: [fmt.max_code, fmt.min_code, fmt.max_code - 1, fmt.min_code + 1, 0, 1, -1]  # noqa: E731
    # accumulate: every pair of edge codes (saturates both ways)
    pairs = [(a, g) for a in edge(f.grad) for g in edge(f.grad)]
    beats = [tb.beat(ACC, [0] * len(c), [a for a, _ in c], [g for _, g in c])
             for c in tbkit.chunk(pairs, tb.p)]
    await tb.run(beats, r, 1)
    # update: w, G at the edges, for lr 1, max and powers of two (w at +-max with lr*G pushing out)
    lrs = [1, f.lr.max_code, 1 << (f.lr.width - 2), 1 << (f.lr.frac // 2)]
    for lr in lrs:
        pairs = [(w, a) for w in edge(f.weight) for a in edge(f.grad)]
        beats = [tb.beat(UPD, [w for w, _ in c], [a for _, a in c], [0] * len(c))
                 for c in tbkit.chunk(pairs, tb.p)]
        await tb.run(beats, r, lr)
    # update ties: lr = 2^j, G = odd * 2^(S-1-j), so lr*G is an exact half LSB (+-, and +-1 nearby)
    if s > 0:
        for j in range(0, min(s - 1, f.lr.width - 2) + 1, 3):
            lr = 1 << j
            vals = []
            for odd in (1, -1, 3, -3, 5, -5):
                a = odd << (s - 1 - j)
                if f.grad.min_code <= a <= f.grad.max_code:
                    for w in (0, 1, -1, 2, -2, f.weight.max_code, f.weight.min_code):
                        vals.append((w, a))
                        if f.grad.min_code <= a + 1 <= f.grad.max_code:
                            vals.append((w, a + 1))
            beats = [tb.beat(UPD, [w for w, _ in c], [a for _, a in c], [0] * len(c))
                     for c in tbkit.chunk(vals, tb.p)]
            await tb.run(beats, r, lr)
    assert tb.finish() == 0


@cocotb.test()
async def test_random(dut):
    await check_random(dut, tbkit.num_samples(10000))


@cocotb.test()
@cocotb.parametrize(pattern=[("1in4", "1in4"), ("random", "none"), ("none", "random"), ("random", "random")])
async def test_handshake(dut, pattern):
    await check_random(dut, max(200, tbkit.num_samples(10000) // 8), *pattern)


@cocotb.test()
async def test_reset(dut):
    tb, r = make_tb(dut)
    await tb.reset()
    for _ in range(3):
        # stall the output so beats are in every stage, then reset in the middle
        await tb.run(tb.random_beats(r, 20 * tb.p), r, tb.random_lr(r), "random", "random",
                     stop_after=r.randint(4, 30))
        await tb.reset(cycles=r.randint(1, 3))
        # nothing stale may come out; the LFSR restarts at SEED and the flags are low
        await tb.run(tb.random_beats(r, 10 * tb.p), r, tb.random_lr(r), "1in4", "random")
    assert tb.sb.checked > 0
    assert tb.finish() == 0


@cocotb.test()
async def test_clear(dut):
    tb, r = make_tb(dut)
    f = tb.f
    await tb.reset()
    beats = []
    for _ in range(60):
        k = r.randint(1, tb.p)
        op = r.choice([ACC, UPD])
        w = [r.randint(-(1 << (f.weight.frac - 2)), 1 << (f.weight.frac - 2)) for _ in range(k)]
        a = [r.randint(-(1 << f.grad.frac), 1 << f.grad.frac) for _ in range(k)]
        g = [r.randint(-(1 << f.grad.frac), 1 << f.grad.frac) for _ in range(k)]
        if r.random() < 0.15:   # one overflowing lane
            w[-1], a[-1], g[-1] = f.weight.max_code, f.grad.min_code, f.grad.min_code
        beats.append(tb.beat(op, w, a, g))
    await tb.run(beats, r, f.lr.max_code, "random", "1in4", clear_at=set(r.sample(range(150), 40)))
    assert tb.finish() == 0


@cocotb.test(expect_fail=True)
async def test_mutant(dut):
    await check_random(dut, 400, mutant=True)


# ----------------------------------------------------------------------------- pytest side
FMT_SETS = {
    # Formats() defaults: weight Q4.12, grad Fmt(24, 16), lr Fmt(16, 16) -> S = 20
    "default": dict(W_W=16, W_F=12, G_W=24, G_F=16, LR_W=16, LR_F=16),
    # wider: weight Fmt(16, 10), grad Fmt(32, 20), lr Fmt(16, 16) -> S = 26
    "wide": dict(W_W=16, W_F=10, G_W=32, G_F=20, LR_W=16, LR_F=16),
}
# (P, format set, ROUND_UPDATE, OVERFLOW, SEED)
BUILDS = [
    (1, "default", 3, 0, 0xACE12468),
    (8, "default", 3, 0, 0xACE12468),
    (1, "wide", 2, 1, 0xACE12468),
    (8, "wide", 3, 1, 0x2468ACE1),
]


@pytest.mark.parametrize("p,fmts,rnd,ovf,seed", BUILDS)
def test_weight_update(p, fmts, rnd, ovf, seed):
    params = {"P": p, **FMT_SETS[fmts], "ROUND_UPDATE": rnd, "OVERFLOW": ovf, "SEED": f"32'h{seed:08X}"}
    tbkit.run_sim("weight_update", sources=["weight_update.v", "requantize.v", "lfsr.v"],
                  parameters=params)

"""cocotb testbench of rtl/mac_array.v (P-lane pipelined signed MAC) against golden.mac_array.stream.

Each build fixes (P, A_W, B_W, ACC_W). Stimulus is a list of (first, last)-framed beats; the expected
outputs are golden.mac_array.stream(beats) (one P-tuple of accumulators per beat with last), and the
monitor checks every m_acc_o transfer in order with a tbkit.Scoreboard. Inputs change on the falling
clock edge; transfers are decided in ReadOnly just before the rising edge (valid && ready).

  mac_random       tbkit.num_samples(10000) random beats: sums of random length 1..600 (many short
                   ones), operands uniform or extreme, some sums continued without s_first_i, some
                   abandoned without s_last_i; crossed with source/sink patterns none, 1in4, random
                   (the none/none run gets the full count, the others a quarter each)
  mac_boundary     min*min, max*max, min*max, +-1 and 0 per lane, single-beat sums (first and last on
                   one beat), and the full-length all-extreme dot products: 576 beats of min*min and of
                   max*min, checked exactly (also against the closed form n * a * b)
  mac_reset        reset with data in flight, repeated: a random stream with random back-pressure is
                   cut by a reset at a random cycle (outputs before it must be a prefix of the expected
                   ones), nothing may come out afterwards, and a new stream whose first beat lacks
                   s_first_i must start from zero
  mac_protocol     m_valid_o / m_acc_o stay stable while m_ready_i is low (checked in every run), and
                   s_ready_o does not depend on s_valid_i (toggling s_valid_i alone never changes it);
                   the documented latency (LATENCY cycles, accept to m_valid_o) is measured
  mac_mutant       a shorter mac_random against a broken model (lane 0 off by one): must fail
"""
from __future__ import annotations

import pytest

import tbkit

LATENCY = 3   # documented in rtl/mac_array.v: cycles from the accepted last beat to m_valid_o
SRC_SNK = [("none", "none"), ("1in4", "1in4"), ("random", "random"), ("none", "random"),
           ("random", "1in4")]


# ----------------------------------------------------------------------------- stimulus
def extremes(w):
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    return [lo, lo + 1, hi, hi - 1, -1, 0, 1]


def rand_operand(r, w):
    """Uniform over the code range most of the time, an extreme code or a small one otherwise."""
    k = r.random()
    if k < 0.7:
        return r.randint(-(1 << (w - 1)), (1 << (w - 1)) - 1)
    if k < 0.85:
        return r.choice(extremes(w))
    n = r.randint(1, w)
    return r.randint(-(1 << (n - 1)), (1 << (n - 1)) - 1)


def rand_length(r, maxlen=600):
    k = r.random()
    if k < 0.4:
        return r.randint(1, 4)
    if k < 0.7:
        return r.randint(1, 40)
    return r.randint(1, maxlen)


def random_beats(r, p, aw, bw, n):
    """About n beats: random-length sums; 10% continue the previous sum (no s_first_i on their first
    beat), 5% are abandoned (no s_last_i). The first sum always starts with s_first_i."""
    beats = []
    chain = 0
    while len(beats) < n:
        length = rand_length(r)
        # continue only within this list (a caller's stream may follow anything) and far inside ACC_W
        cont = bool(beats) and r.random() < 0.1 and chain + length < 2000
        emit = r.random() >= 0.05
        chain = chain + length if cont else length
        for k in range(length):
            a = [rand_operand(r, aw) for _ in range(p)]
            b = [rand_operand(r, bw) for _ in range(p)]
            beats.append((a, b, k == 0 and not cont, emit and k == length - 1))
    return beats


def const_sum(p, a, b, n):
    """n beats of the same per-lane operands (a, b: scalars or length-p lists), first..last framed."""
    a = a if isinstance(a, list) else [a] * p
    b = b if isinstance(b, list) else [b] * p
    return [(a, b, k == 0, k == n - 1) for k in range(n)]


# ----------------------------------------------------------------------------- testbench
class TB:
    def __init__(self, dut, mutant: bool = False):
        import cocotb
        from cocotb.clock import Clock

        self.dut = dut
        self.p = int(dut.P.value)
        self.aw = int(dut.A_W.value)
        self.bw = int(dut.B_W.value)
        self.accw = int(dut.ACC_W.value)
        self.mutant = mutant
        self.sb = tbkit.Scoreboard(f"mac_array_P{self.p}_{self.aw}x{self.bw}", dut._log)
        self.protocol_errors = 0
        dut._log.info("P=%d A_W=%d B_W=%d ACC_W=%d", self.p, self.aw, self.bw, self.accw)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.rst.value = 1
        dut.s_valid_i.value = 0
        dut.s_a_i.value = 0
        dut.s_b_i.value = 0
        dut.s_first_i.value = 0
        dut.s_last_i.value = 0
        dut.m_ready_i.value = 1

    # ---- helpers
    def golden(self, beats):
        import golden.mac_array as gm

        out = [tuple(int(x) for x in o) for o in gm.stream(beats, self.p, self.accw)]
        if self.mutant:
            out = [(o[0] + 1,) + o[1:] for o in out]
        return out

    def read_acc(self):
        return tbkit.unpack(int(self.dut.m_acc_o.value), self.accw, self.p)

    async def reset(self, cycles=3):
        from cocotb.triggers import FallingEdge, ReadOnly

        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 1
        self.dut.s_valid_i.value = 0
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await ReadOnly()
        if int(self.dut.m_valid_o.value) != 0:
            self.protocol_errors += 1
            self.dut._log.error("m_valid_o high right after reset")

    # ---- the one driver / monitor loop
    async def run(self, beats, src="none", snk="none", r=None, reset_at=None, idle_after=8):
        """Drive `beats` with source pauses `src`, back-pressure `snk`; check every output.

        reset_at: abort after that many cycles (returns early; the caller resets). Returns the list
        of outputs received. Expected values come from the golden model; with reset_at only the
        received outputs are checked (against the expected prefix) and the rest is dropped.
        """
        from cocotb.triggers import FallingEdge, ReadOnly

        dut = self.dut
        exp = self.golden(beats)
        packed = [(tbkit.pack(a, self.aw), tbkit.pack(b, self.bw), int(f), int(l))
                  for a, b, f, l in beats]
        for e in exp:
            self.sb.expect(e)
        src_p = tbkit.pauses(src, r)
        snk_p = tbkit.pauses(snk, r)
        amask, bmask = (1 << (self.p * self.aw)) - 1, (1 << (self.p * self.bw)) - 1
        i, got, cycle, idle = 0, [], 0, 0
        holding = False
        prev_held = None            # (m_acc) of an output refused last cycle: must stay put
        limit = 20 * (len(beats) + 50)
        while True:
            await FallingEdge(dut.clk)
            cycle += 1
            if reset_at is not None and cycle >= reset_at:
                dut.s_valid_i.value = 0
                break
            if not holding:
                holding = i < len(beats) and not next(src_p)
            if holding:
                a, b, f, l = packed[i]
                dut.s_valid_i.value = 1
            else:   # idle: garbage on the data and framing lines
                a = r.getrandbits(self.p * self.aw) & amask if r else 0
                b = r.getrandbits(self.p * self.bw) & bmask if r else 0
                f, l = (r.getrandbits(1), r.getrandbits(1)) if r else (0, 0)
                dut.s_valid_i.value = 0
            dut.s_a_i.value = a
            dut.s_b_i.value = b
            dut.s_first_i.value = f
            dut.s_last_i.value = l
            m_ready = 0 if next(snk_p) else 1
            dut.m_ready_i.value = m_ready
            await ReadOnly()
            if holding and int(dut.s_ready_o.value):
                i += 1
                holding = False
            m_valid = int(dut.m_valid_o.value)
            if prev_held is not None:
                if not m_valid or self.read_acc() != prev_held:
                    self.protocol_errors += 1
                    dut._log.error("cycle %d: output changed while m_ready_i was low", cycle)
            prev_held = None
            if m_valid:
                acc = self.read_acc()
                if m_ready:
                    got.append(acc)
                    if reset_at is None:
                        self.sb.check(acc)
                else:
                    prev_held = acc
            if i == len(beats) and len(got) >= len(exp) and reset_at is None:
                idle += 1
                if idle > idle_after:
                    break
            if cycle > limit:
                dut._log.error("timeout: %d/%d beats sent, %d/%d outputs", i, len(beats),
                               len(got), len(exp))
                self.protocol_errors += 1
                break
        if reset_at is not None:
            for g in got:
                self.sb.check(g)    # a received output must be the next expected one
            self.sb.queue.clear()   # the rest was in flight when reset hit
        return got

    def finish(self):
        return self.sb.finish() + self.protocol_errors


import cocotb  # noqa: E402


async def random_run(dut, mutant=False):
    tb = TB(dut, mutant=mutant)
    r = tbkit.rng(dut._log)
    n = tbkit.num_samples(10000)
    combos = SRC_SNK
    if mutant:   # the first output already differs; a short run proves the checker sees it
        n, combos = max(200, n // 10), SRC_SNK[:2]
    await tb.reset()
    for k, (src, snk) in enumerate(combos):
        nb = n if k == 0 else max(n // 4, 200)
        beats = random_beats(r, tb.p, tb.aw, tb.bw, nb)
        dut._log.info("src=%s snk=%s: %d beats", src, snk, len(beats))
        await tb.run(beats, src, snk, r)
    assert tb.finish() == 0


@cocotb.test()
async def mac_random(dut):
    await random_run(dut)


@cocotb.test()
async def mac_boundary(dut):
    tb = TB(dut)
    r = tbkit.rng(dut._log)
    p, aw, bw = tb.p, tb.aw, tb.bw
    amin, amax = -(1 << (aw - 1)), (1 << (aw - 1)) - 1
    bmin, bmax = -(1 << (bw - 1)), (1 << (bw - 1)) - 1
    await tb.reset()
    beats = []
    # single-beat sums over every pair of extreme codes, lanes rotated so every lane sees each pair
    pairs = [(x, y) for x in extremes(aw) for y in extremes(bw)]
    for k in range(len(pairs)):
        a = [pairs[(k + l) % len(pairs)][0] for l in range(p)]
        b = [pairs[(k + l) % len(pairs)][1] for l in range(p)]
        beats += const_sum(p, a, b, 1)
    # short sums of extremes
    for a, b in ((amin, bmin), (amax, bmax), (amax, bmin), (amin, bmax), (-1, -1), (amin, 1)):
        for n in (2, 3, 17):
            beats += const_sum(p, a, b, n)
    await tb.run(beats, "none", "none", r)
    # full-length dot products of extreme codes (576 beats, fewer if ACC_W could not hold them)
    for a, b in ((amin, bmin), (amax, bmin), (amax, bmax), (amin, bmax)):
        n = min(576, ((1 << (tb.accw - 1)) - 1) // abs(a * b))
        for src, snk in (("none", "none"), ("1in4", "random")):
            got = await tb.run(const_sum(p, a, b, n), src, snk, r)
            closed = n * a * b
            if got != [tuple([closed] * p)]:
                tb.protocol_errors += 1
                dut._log.error("dot of %d x (%d*%d): got %r expected %d", n, a, b, got, closed)
            else:
                dut._log.info("dot of %d x (%d*%d) = %d exact in all %d lanes", n, a, b, closed, p)
    # lanes independent: lane l sums l-dependent extremes
    beats = []
    for n in (1, 5, 600):
        a = [(amin, amax, -1, 0)[l % 4] for l in range(p)]
        b = [(bmin, bmin, bmax, bmax)[l % 4] for l in range(p)]
        beats += const_sum(p, a, b, n)
    await tb.run(beats, "random", "1in4", r)
    assert tb.finish() == 0


@cocotb.test()
async def mac_reset(dut):
    tb = TB(dut)
    r = tbkit.rng(dut._log)
    await tb.reset()
    rounds = 12
    for k in range(rounds):
        beats = random_beats(r, tb.p, tb.aw, tb.bw, r.randint(5, 120))
        got = await tb.run(beats, "random", "random", r, reset_at=r.randint(2, 150))
        dut._log.debug("round %d: %d outputs before reset", k, len(got))
        await tb.reset(r.randint(1, 3))
        # nothing stale may come out: idle a while with m_ready high
        got = await tb.run([], "none", "none", r, idle_after=10)
        if got:
            tb.protocol_errors += 1
            dut._log.error("round %d: %d stale outputs after reset", k, len(got))
        # the first sum after reset lacks s_first_i: it must start from zero
        beats = random_beats(r, tb.p, tb.aw, tb.bw, r.randint(1, 60))
        a, b, _, l = beats[0]
        beats[0] = (a, b, False, l)
        await tb.run(beats, "1in4", "random", r)
    assert tb.finish() == 0


@cocotb.test()
async def mac_protocol(dut):
    """s_ready_o must not depend on s_valid_i: within one clock-low phase, s_valid_i is driven 0 then
    1 (same m_ready_i, same data) and s_ready_o must read the same. Single-beat sums keep results
    coming, and random m_ready_i holds them, so s_ready_o is seen both high and low."""
    from cocotb.triggers import FallingEdge, ReadOnly, Timer

    tb = TB(dut)
    r = tbkit.rng(dut._log)
    await tb.reset()
    seen = set()
    for k in range(200):
        await FallingEdge(dut.clk)
        dut.m_ready_i.value = int(r.random() < 0.3)
        dut.s_a_i.value = r.getrandbits(tb.p * tb.aw)
        dut.s_b_i.value = r.getrandbits(tb.p * tb.bw)
        dut.s_first_i.value = 1
        dut.s_last_i.value = 1
        rdy = []
        for v in (0, 1):
            dut.s_valid_i.value = v
            await Timer(1, "ns")
            rdy.append(int(dut.s_ready_o.value))
        seen.add(rdy[1])
        if rdy[0] != rdy[1]:
            tb.protocol_errors += 1
            dut._log.error("cycle %d: s_ready_o follows s_valid_i (%d -> %d)", k, rdy[0], rdy[1])
    dut.s_valid_i.value = 0
    # latency: a single-beat sum presented in cycle t is on m_acc_o with m_valid_o in cycle t + 3
    await tb.reset()
    await FallingEdge(dut.clk)
    dut.m_ready_i.value = 1
    dut.s_valid_i.value = 1
    dut.s_a_i.value = tbkit.pack([3] * tb.p, tb.aw)
    dut.s_b_i.value = tbkit.pack([-5] * tb.p, tb.bw)
    dut.s_first_i.value = 1
    dut.s_last_i.value = 1
    lat = None
    for k in range(1, 8):
        await FallingEdge(dut.clk)
        dut.s_valid_i.value = 0
        await ReadOnly()
        if int(dut.m_valid_o.value):
            lat = k
            if tb.read_acc() != tuple([-15] * tb.p):
                tb.protocol_errors += 1
                dut._log.error("latency probe: got %r", tb.read_acc())
            break
    dut._log.info("latency from accept to m_valid_o: %s cycles", lat)
    if lat != LATENCY:
        tb.protocol_errors += 1
        dut._log.error("latency %s, documented %d", lat, LATENCY)
    if seen != {0, 1}:
        tb.protocol_errors += 1
        dut._log.error("s_ready_o never toggled (seen %r): the check saw nothing", seen)
    assert tb.protocol_errors == 0


@cocotb.test(expect_fail=True)
async def mac_mutant(dut):
    await random_run(dut, mutant=True)


# ----------------------------------------------------------------------------- pytest side
# (P, A_W, B_W, ACC_W): P 1 and 8 at 16x16 (the default widths) and 8x8 with a 32-bit accumulator,
# and P 32 once at 18x18 (the widest operand an ECP5 MULT18X18D takes in one block).
BUILDS = [
    (1, 16, 16, 48),
    (8, 16, 16, 48),
    (1, 8, 8, 32),
    (8, 8, 8, 32),
    (32, 18, 18, 48),
]


@pytest.mark.parametrize("p,aw,bw,accw", BUILDS)
def test_mac_array(p, aw, bw, accw):
    tbkit.run_sim("mac_array", parameters={"P": p, "A_W": aw, "B_W": bw, "ACC_W": accw})

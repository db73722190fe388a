"""cocotb testbench of rtl/mse_delta.v against golden/mse_delta.py (error e = O - y and the loss)."""
from __future__ import annotations

import types

import cocotb
import numpy as np
import pytest

import tbkit
from golden import mse_delta as golden_mse


class TB(tbkit.StreamTB):
    """tbkit.StreamTB with mse_delta's ports: a beat is (O, label on the wire, last, expected)."""

    def __init__(self, dut, model=golden_mse):
        super().__init__(dut, "mse_delta", [dut.s_o_i, dut.s_label_i, dut.s_last_i])
        self.w = len(dut.s_o_i)
        self.fa = int(dut.FA.value)
        self.lbl_w = len(dut.s_label_i)
        self.loss_w = len(dut.m_loss_o)
        self.max_len = 1 << self.lbl_w
        self.model = model
        self.log.info("W=%d FA=%d LBL_W=%d LOSS_W=%d", self.w, self.fa, self.lbl_w, self.loss_w)

    # -------------------------------------------------------------- golden side
    def expected(self, o, label):
        """Per element (e, last, loss-or-0). The RTL's loss saturates at 2^LOSS_W - 1 (documented);
        only the saturation vectors get there."""
        e = self.model.error(o, label, self.fa)
        loss = min(self.model.loss(o, label, self.fa), (1 << self.loss_w) - 1)
        n = len(o)
        return [(int(e[k]), int(k == n - 1), loss if k == n - 1 else 0) for k in range(n)]

    def beats(self, samples):
        """(O, label on the wire, last, expected) per element. The label is driven on the first beat;
        later beats carry a random label that the DUT must ignore."""
        out = []
        for o, label in samples:
            exp = self.expected(o, label)
            for k, v in enumerate(o):
                wire_label = label if k == 0 else self.r.randrange(self.max_len)
                out.append((v, wire_label, int(k == len(o) - 1), exp[k]))
        return out

    def apply(self, beat):
        o, label, last, exp = beat
        self.dut.s_o_i.value = tbkit.to_unsigned(o, self.w)
        self.dut.s_label_i.value = label
        self.dut.s_last_i.value = last
        return exp

    def idle(self):
        self.dut.s_label_i.value = self.r.randrange(self.max_len)   # garbage while idle

    def read(self):
        dut = self.dut
        last = int(dut.m_last_o.value)
        return (dut.m_e_o.value.to_signed(), last, int(dut.m_loss_o.value) if last else 0)

    # -------------------------------------------------------------- stimulus
    def rand_o(self, in_contract=True):
        r = self.r
        one = 1 << self.fa
        if in_contract:                      # sigmoid outputs: 0 <= O <= 2^FA
            if r.random() < 0.2:
                return r.choice([0, 1, one - 1, one, one // 2])
            return r.randint(0, one)
        if r.random() < 0.2:
            return r.choice([self.lo, self.hi, -1, self.lo + 1, one + 1])
        return r.randint(self.lo, self.hi)

    def random_samples(self, n_elems):
        """Samples until n_elems elements: mostly 10 outputs, sometimes 1..2^LBL_W; 1 in 5 samples
        uses full-range codes (outside the sigmoid contract, e must still be exact)."""
        r = self.r
        samples, total = [], 0
        while total < n_elems:
            n = min(10, self.max_len) if r.random() < 0.7 else r.randint(1, self.max_len)
            full = r.random() < 0.2
            samples.append(([self.rand_o(not full) for _ in range(n)], r.randrange(n)))
            total += n
        return samples

    def boundary_samples(self):
        one, n = 1 << self.fa, min(10, self.max_len)
        m = self.max_len
        s = []
        for label in (0, n - 1, n // 2):
            s.append(([0] * n, label))                                    # all zero: e = -1 at label
            s.append(([one] * n, label))                                  # all one: e = +1 elsewhere
            s.append(([one if k == label else 0 for k in range(n)], label))   # perfect: loss 0
            s.append(([0 if k == label else one for k in range(n)], label))   # worst in contract
            s.append(([1 if k == label else 0 for k in range(n)], label))     # 1 LSB off
            s.append(([one - 1 if k == label else 1 for k in range(n)], label))  # odd sum: floor
        s.append(([0], 0))                                                # one-element samples
        s.append(([one], 0))
        s.append(([1], 0))
        s.append(([0] * m, m - 1))                                        # longest sample
        s.append(([one] * m, 0))
        s.append(([self.lo] * m, m - 1))                                  # full range: saturates
        s.append(([self.hi] * m, 0))
        s.append(([self.lo] * 2, 0))
        s.append(([self.hi, self.lo], 1))
        return s


PAUSES = tbkit.PAUSES   # idle insertion (s side) x back-pressure (m side)


async def run(tb, samples, s_kind="none", m_kind="none"):
    """StreamTB.run on whole samples, cut into beats after the reset (the wire labels of later beats
    are drawn from tb.r then, as they always were)."""
    await tb.start(m_kind)
    await tb.drive(tb.beats(samples), s_kind)
    await tb.drain()
    assert tb.sb.finish() == 0


@cocotb.test()
@cocotb.parametrize(s_kind=PAUSES, m_kind=PAUSES)
async def random_vectors(dut, s_kind, m_kind):
    """num_samples random elements (in whole samples) for each idle/back-pressure pattern pair."""
    tb = TB(dut)
    n = tbkit.num_samples(10000) if (s_kind, m_kind) == ("none", "none") else \
        max(tbkit.num_samples(10000) // 8, 50)
    await run(tb, tb.random_samples(n), s_kind, m_kind)


@cocotb.test()
async def boundary_vectors(dut):
    """All-zero / all-one outputs, perfect and worst predictions, odd sums, 1- and 2^LBL_W-element
    samples, full-range codes (loss saturation)."""
    tb = TB(dut)
    await run(tb, tb.boundary_samples(), "1in4", "1in4")


@cocotb.test()
async def reset_in_flight(dut):
    """Reset in the middle of samples; afterwards the next beat starts a fresh sample (label taken,
    index and sum cleared) and nothing stale comes out."""
    tb = TB(dut)
    await tb.reset_in_flight(lambda: tb.beats(tb.random_samples(40)),
                             lambda: tb.beats(tb.random_samples(100)))


def _mutant_loss(o, label, fa):
    e = golden_mse.error(o, label, fa)
    return (int((e * e).sum()) + 1) >> 1          # wrong: rounds half up instead of floor


@cocotb.test(expect_fail=True)
async def mutant_model(dut):
    """The scoreboard must catch a golden loss that rounds the halving up."""
    tb = TB(dut, model=types.SimpleNamespace(error=golden_mse.error, loss=_mutant_loss))
    await run(tb, tb.boundary_samples())


# ------------------------------------------------------------------------- pytest entry
@pytest.mark.parametrize("w, fa, loss_w", [(16, 8, 32), (12, 10, 24)])
def test_mse_delta(w, fa, loss_w):
    tbkit.run_sim("mse_delta", parameters={"W": w, "FA": fa, "LBL_W": 4, "LOSS_W": loss_w})

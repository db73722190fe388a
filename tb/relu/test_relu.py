"""cocotb testbench of rtl/relu.v against golden/relu.py (forward relu + mask, backward gate)."""
from __future__ import annotations

import types

import cocotb
import numpy as np
import pytest

import tbkit
from golden import relu as golden_relu


class TB(tbkit.StreamTB):
    """tbkit.StreamTB with relu's ports: a beat is (mode, z lanes, delta lanes)."""

    def __init__(self, dut, model=golden_relu):
        super().__init__(dut, "relu", [dut.s_mode_i, dut.s_z_i, dut.s_delta_i])
        self.lanes = len(dut.m_mask_o)
        self.w = len(dut.s_z_i) // self.lanes
        self.model = model
        self.log.info("LANES=%d W=%d", self.lanes, self.w)

    # -------------------------------------------------------------- golden side
    def expected(self, mode, z, d):
        z = np.asarray(z, dtype=np.int64)
        d = np.asarray(d, dtype=np.int64)
        data = self.model.relu(z) if mode == 0 else self.model.back(d, z)
        mask = self.model.mask(z)
        return (mode, tuple(int(v) for v in data), sum(int(b) << i for i, b in enumerate(mask)))

    def apply(self, beat):
        mode, z, d = beat
        self.dut.s_mode_i.value = mode
        self.dut.s_z_i.value = tbkit.pack(z, self.w)
        self.dut.s_delta_i.value = tbkit.pack(d, self.w)
        return self.expected(mode, z, d)

    def read(self):
        dut = self.dut
        data = tbkit.unpack(int(dut.m_data_o.value), self.w, self.lanes)
        return (int(dut.m_mode_o.value), data, int(dut.m_mask_o.value))

    # -------------------------------------------------------------- stimulus
    def rand_code(self):
        r = self.r
        if r.random() < 0.2:
            return r.choice([0, 1, -1, 2, -2, self.hi, self.lo, self.hi - 1, self.lo + 1])
        return r.randint(self.lo, self.hi)

    def random_beats(self, n):
        return [(self.r.randint(0, 1), [self.rand_code() for _ in range(self.lanes)],
                 [self.rand_code() for _ in range(self.lanes)]) for _ in range(n)]

    def boundary_beats(self):
        """Every (mode, z, delta) over z at 0, +-1 LSB, +-2, +-max, min; delta at 0, +-1, max, min."""
        zs = [0, -1, 1, 2, -2, self.hi, self.lo, -self.hi]
        ds = [0, -1, 1, self.hi, self.lo]
        cases = [(m, z, d) for m in (0, 1) for z in zs for d in ds]
        beats = []
        for i in range(0, len(cases), self.lanes):
            chunk = cases[i:i + self.lanes]
            chunk += cases[:self.lanes - len(chunk)]   # pad the last beat
            for m in (0, 1):                            # every lane sees both modes
                beats.append((m, [c[1] for c in chunk], [c[2] for c in chunk]))
        return beats


PAUSES = tbkit.PAUSES   # idle insertion (s side) x back-pressure (m side)


@cocotb.test()
@cocotb.parametrize(s_kind=PAUSES, m_kind=PAUSES)
async def random_vectors(dut, s_kind, m_kind):
    """num_samples random beats (mixed modes) for each idle/back-pressure pattern pair."""
    tb = TB(dut)
    n = tbkit.num_samples(10000) if (s_kind, m_kind) == ("none", "none") else \
        max(tbkit.num_samples(10000) // 8, 50)
    await tb.run(tb.random_beats(n), s_kind, m_kind)


@cocotb.test()
async def boundary_vectors(dut):
    """ReLU at 0, -1 LSB, +1 LSB, +-max, min in both modes with all delta edges."""
    tb = TB(dut)
    await tb.run(tb.boundary_beats())


@cocotb.test()
async def reset_in_flight(dut):
    """Reset with beats in flight and back-pressure; nothing stale afterwards, then it works again."""
    tb = TB(dut)
    await tb.reset_in_flight(lambda: tb.random_beats(40), lambda: tb.random_beats(100))


def _mutant_back(delta, z):
    delta = np.asarray(delta)
    return np.where(np.asarray(z) >= 0, delta, 0).astype(delta.dtype)   # wrong: ReLU'(0) = 1


@cocotb.test(expect_fail=True)
async def mutant_model(dut):
    """The scoreboard must catch a golden model with ReLU'(0) = 1 in the backward gate."""
    tb = TB(dut, model=types.SimpleNamespace(relu=golden_relu.relu, mask=golden_relu.mask,
                                             back=_mutant_back))
    await tb.run(tb.boundary_beats())


# ------------------------------------------------------------------------- pytest entry
@pytest.mark.parametrize("lanes", [1, 4])
@pytest.mark.parametrize("w", [16, 12])
def test_relu(w, lanes):
    tbkit.run_sim("relu", parameters={"LANES": lanes, "W": w})

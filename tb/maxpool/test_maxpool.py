"""cocotb testbench of rtl/maxpool.v against golden/maxpool.py (forward max/argmax, backward router).

Maps are cut into windows with golden's own `_windows` (raster positions 0..3) and streamed LANES
windows per beat, in the order of the flattened (C, H/2, W/2) window grid.
"""
from __future__ import annotations

import itertools
import types

import cocotb
import numpy as np
import pytest

import tbkit
from golden import maxpool as golden_mp


def unwindows(win):
    """Inverse of golden's _windows: (C, Ho, Wo, 4) -> (C, 2Ho, 2Wo)."""
    c, ho, wo, _ = win.shape
    return win.reshape(c, ho, wo, 2, 2).transpose(0, 1, 3, 2, 4).reshape(c, 2 * ho, 2 * wo)


class TB(tbkit.StreamTB):
    """tbkit.StreamTB with maxpool's ports: a beat is (mode, x windows, deltas, idxs, expected)."""

    def __init__(self, dut, model=golden_mp):
        super().__init__(dut, "maxpool", [dut.s_mode_i, dut.s_x_i, dut.s_delta_i, dut.s_idx_i])
        self.lanes = len(dut.m_idx_o) // 2
        self.w = len(dut.s_delta_i) // self.lanes
        self.model = model
        self.log.info("LANES=%d W=%d", self.lanes, self.w)

    # -------------------------------------------------------------- golden side -> beats
    # A beat is (mode, x windows, deltas, idxs, expected); expected is what the monitor reads:
    # forward (0, maxes, idxs), backward (1, idxs, routed values 4 per window).
    def _chunks(self, n):
        return [slice(i, i + self.lanes) for i in range(0, n, self.lanes)]

    def fwd_beats(self, x):
        """x: (C, H, W) map with C*H*W/4 a multiple of LANES."""
        pooled, idx = self.model.fwd(x)
        win = golden_mp._windows(x).reshape(-1, 4)
        pooled, idx = pooled.reshape(-1), idx.reshape(-1)
        zl = [0] * self.lanes
        return [(0, win[s].tolist(), zl, zl, (0, tuple(int(v) for v in pooled[s]),
                                              tuple(int(v) for v in idx[s])))
                for s in self._chunks(len(win))]

    def back_beats(self, delta, idx):
        """delta, idx: (C, Ho, Wo) maps."""
        grad = golden_mp._windows(self.model.back(delta, idx)).reshape(-1, 4)
        d, i = delta.reshape(-1), idx.reshape(-1)
        junk = [[self.r.randint(self.lo, self.hi) for _ in range(4)] for _ in range(self.lanes)]
        return [(1, junk, d[s].tolist(), i[s].tolist(),
                 (1, tuple(int(v) for v in i[s]), tuple(int(v) for v in grad[s].reshape(-1))))
                for s in self._chunks(len(d))]

    def apply(self, beat):
        mode, x, d, i, exp = beat
        self.dut.s_mode_i.value = mode
        self.dut.s_x_i.value = tbkit.pack([v for win in x for v in win], self.w)
        self.dut.s_delta_i.value = tbkit.pack(d, self.w)
        self.dut.s_idx_i.value = sum(int(v) << (2 * k) for k, v in enumerate(i))
        return exp

    def read(self):
        dut = self.dut
        mode = int(dut.m_mode_o.value)
        raw_i = int(dut.m_idx_o.value)
        idx = tuple((raw_i >> (2 * l)) & 3 for l in range(self.lanes))
        if mode == 0:
            return (0, tbkit.unpack(int(dut.m_max_o.value), self.w, self.lanes), idx)
        return (1, idx, tbkit.unpack(int(dut.m_grad_o.value), self.w, 4 * self.lanes))

    # -------------------------------------------------------------- stimulus
    def rand_map(self, shape):
        r = self.r
        kind = r.random()
        if kind < 0.3:                                  # few levels: many ties
            vals = [r.randint(-2, 2) for _ in range(int(np.prod(shape)))]
        elif kind < 0.4:                                # extremes and neighbours
            vals = [r.choice([self.lo, self.lo + 1, -1, 0, 1, self.hi - 1, self.hi])
                    for _ in range(int(np.prod(shape)))]
        else:
            vals = [r.randint(self.lo, self.hi) for _ in range(int(np.prod(shape)))]
        return np.array(vals, dtype=np.int64).reshape(shape)

    def rand_shape(self):
        r = self.r
        return (self.lanes * r.randint(1, 2), 2 * r.randint(1, 4), 2 * r.randint(1, 4))

    def random_beats(self, n_windows):
        """Random maps, forward and backward interleaved map by map, until n_windows windows."""
        beats, total = [], 0
        while total < n_windows:
            c, h, w = self.rand_shape()
            if self.r.random() < 0.5:
                beats += self.fwd_beats(self.rand_map((c, h, w)))
            else:
                _, idx = golden_mp.fwd(self.rand_map((c, h, w)))   # realistic winner indices
                beats += self.back_beats(self.rand_map((c, h // 2, w // 2)), idx)
            total += c * h * w // 4
        # interleave modes beat by beat too: shuffle whole beats (each is self-contained)
        self.r.shuffle(beats)
        return beats

    def tie_beats(self):
        """Exhaustive: every window over 4 levels (all tie patterns), for two level sets."""
        beats = []
        for levels in ([self.lo, -1, 0, self.hi], [-2, -1, 0, 1]):
            win = np.array(list(itertools.product(levels, repeat=4)), dtype=np.int64)   # 256 x 4
            win = win.reshape(self.lanes, -1, 1, 4)          # 256 is a multiple of LANES (1, 2, 4)
            beats += self.fwd_beats(unwindows(win))
        return beats

    def back_boundary_beats(self):
        """Every winner index with deltas at 0, +-1 LSB, +-max, min."""
        ds = [0, 1, -1, self.hi, self.lo, -self.hi]
        cases = [(d, i) for d in ds for i in range(4)]
        cases += cases[:(-len(cases)) % self.lanes]
        d = np.array([c[0] for c in cases], dtype=np.int64).reshape(self.lanes, -1, 1)
        i = np.array([c[1] for c in cases], dtype=np.int64).reshape(self.lanes, -1, 1)
        return self.back_beats(d, i)


PAUSES = tbkit.PAUSES   # idle insertion (s side) x back-pressure (m side)


@cocotb.test()
@cocotb.parametrize(s_kind=PAUSES, m_kind=PAUSES)
async def random_vectors(dut, s_kind, m_kind):
    """num_samples random windows (random maps, both modes) per idle/back-pressure pattern pair."""
    tb = TB(dut)
    n = tbkit.num_samples(10000) if (s_kind, m_kind) == ("none", "none") else \
        max(tbkit.num_samples(10000) // 8, 50)
    await tb.run(tb.random_beats(n), s_kind, m_kind)


@cocotb.test()
async def windows_consistent(dut):
    """The tb's window packing is golden's: unwindows inverts _windows."""
    tb = TB(dut)
    x = tb.rand_map((3, 6, 4))
    assert np.array_equal(unwindows(golden_mp._windows(x)), x)


@cocotb.test()
async def tie_vectors_exhaustive(dut):
    """Every tie pattern of a window over 4 levels (incl. +-max), forward; first maximum wins."""
    tb = TB(dut)
    await tb.run(tb.tie_beats(), "1in4", "random")


@cocotb.test()
async def boundary_back_vectors(dut):
    """Backward router: every winner index with deltas at 0, +-1 LSB, +-max, min."""
    tb = TB(dut)
    await tb.run(tb.back_boundary_beats(), "random", "1in4")


@cocotb.test()
async def reset_in_flight(dut):
    """Reset with beats in flight and back-pressure; nothing stale afterwards, then it works again."""
    tb = TB(dut)
    await tb.reset_in_flight(lambda: tb.random_beats(80), lambda: tb.random_beats(200))


def _mutant_fwd(x):
    """Wrong tie rule: the LAST maximum in raster order wins."""
    win = golden_mp._windows(np.asarray(x))
    idx = 3 - np.argmax(win[..., ::-1], axis=-1)
    return np.take_along_axis(win, idx[..., None], axis=-1)[..., 0], idx.astype(np.int64)


@cocotb.test(expect_fail=True)
async def mutant_model(dut):
    """The scoreboard must catch a golden model whose tie rule keeps the last maximum."""
    tb = TB(dut, model=types.SimpleNamespace(fwd=_mutant_fwd, back=golden_mp.back))
    await tb.run(tb.tie_beats())


# ------------------------------------------------------------------------- pytest entry
@pytest.mark.parametrize("lanes", [1, 4])
@pytest.mark.parametrize("w", [16, 12])
def test_maxpool(w, lanes):
    tbkit.run_sim("maxpool", parameters={"LANES": lanes, "W": w})

"""The training core on the fast path (host/fastsim.py: Verilated rtl/cnn_core.v, ports only) against the
golden model, through the host API every user goes through (host/core.py, host/session.py).

`make test` (NUM_SAMPLES < 10,000):
  test_configs[<cfg>]   every end-to-end configuration of tb/cnn_core (net, P, batch, stream pauses) for
                        FAST_STEPS (50) training steps: after every step the result packets and every
                        weight (read back through the AXI-Lite window) equal golden.fixed_model; then
                        inference runs on test samples, packets compared
  test_epoch_a8         one full epoch of A8 (1,437 steps), packets every step, weights at the end,
                        test accuracy from inference on the core = the golden fixed-point accuracy
  test_mutant           a golden model with the lr code one too large must mismatch (the scoreboard
                        has teeth)
  test_errors_named     a malformed program and a bad label come back as CoreError with the code
`make sim` (NUM_SAMPLES >= 10,000) adds:
  test_full_epoch[A|B]  one full epoch of A and of B at P = 8, every packet, all weights at the end,
                        test accuracy on the core = golden
The random programs (valid nets, malformed tables, resets) are in test_fastpath_random.py.

Seeds: every random choice comes from one seed, COCOTB_RANDOM_SEED when set (else drawn and logged).
Reports: one JSON per test and run under build/reports/runs/ (host/report.py), never a shared file.
"""
from __future__ import annotations

import numpy as np
import pytest

from golden.data import load_for
from golden.spec import get_net
from host import report
from host.core import CoreError
from host.session import Session, input_codes

FAST_STEPS = 50
# the tb/cnn_core configurations: (net, P, batch, pauses)
CONFIGS = {
    "A_P8_B1": ("A", 8, 1, "none"),
    "A_P8_B2": ("A", 8, 2, "none"),
    "B_P8_B1": ("B", 8, 1, "none"),
    "B_P8_B3": ("B", 8, 3, "1in4"),
    "A8_P4_B1": ("A8", 4, 1, "random"),
    "A8_P4_B3": ("A8", 4, 3, "none"),
    "B8_P4_B1": ("B8", 4, 1, "none"),
    "B8_P4_B2": ("B8", 4, 2, "random"),
    "C8_P4_B2": ("C8", 4, 2, "none"),
}
PAUSES = {"none": (0, 0), "1in4": (250, 250), "random": (500, 500)}   # permille idle / stall


def _session(name, p, batch, pauses, seed, **kw):
    net = get_net(name, batch=batch)
    i, o = PAUSES[pauses]
    return Session(net, P=p, sim="fast", seed=0, pauses=(i, o, seed + 1), **kw)


def _data(net):
    xtr, ytr, xte, yte = load_for(net)
    return input_codes(net, xtr), ytr, input_codes(net, xte), yte


def _assert_clean(s: Session, what: str):
    st = s.stats
    assert st.mismatches == 0, f"{what}: {st.mismatches} mismatches against the golden model; first: {st.first[:3]}"


@pytest.mark.parametrize("cfg", list(CONFIGS))
def test_configs(cfg, run_seed):
    name, p, batch, pauses = CONFIGS[cfg]
    s = _session(name, p, batch, pauses, run_seed)
    xin, ytr, xte, yte = _data(s.net)
    order = np.random.default_rng(run_seed).permutation(len(ytr))
    for k in range(FAST_STEPS):
        idx = order[k * batch:(k + 1) * batch]
        s.train_step(xin[idx], ytr[idx])
        s.check_weights()
    s.infer(xte[:8], yte[:8])
    st = s.stats
    report.write(f"fastpath_{cfg}", {
        "net": name, "P": p, "batch": batch, "pauses": pauses, "steps": st.steps, "samples": st.samples,
        "packets_checked": st.packets_checked, "weights_checked": st.weights_checked,
        "mismatches": st.mismatches, "cycles_per_step": st.sim_cycles / st.steps, "seed": run_seed})
    s.close()
    _assert_clean(s, cfg)
    assert st.steps == FAST_STEPS and st.weights_checked == FAST_STEPS * s.prog.wmem_words


def _epoch(name, p, tag):
    net = get_net(name)
    s = Session(net, P=p, sim="fast", seed=0)
    xin, ytr, xte, yte = _data(net)
    loss, _ = s.epoch(xin, ytr, 0)
    s.check_weights()
    acc_rtl, acc_fixed = s.evaluate(xte, yte)
    st = s.stats
    report.write(tag, {"net": name, "P": p, "steps": st.steps, "mismatches": st.mismatches,
                       "packets_checked": st.packets_checked, "accuracy_rtl": acc_rtl,
                       "accuracy_fixed": acc_fixed, "cycles_per_step": st.sim_cycles / st.steps})
    s.close()
    _assert_clean(s, f"{name} epoch")
    assert st.steps == len(ytr)
    assert acc_rtl == acc_fixed


def test_epoch_a8():
    _epoch("A8", 4, "fastpath_epoch_A8")


@pytest.mark.parametrize("name", ["A", "B"])
def test_full_epoch(name, full_run):
    _epoch(name, 8, f"fastpath_epoch_{name}")


def test_mutant(run_seed):
    """The lr code one too large in the golden model: the packets and weights must disagree."""
    from golden.fixed_model import FixedNet

    class LrOffByOne(FixedNet):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.lr_code += 1

    s = _session("A8", 4, 1, "none", run_seed, model_cls=LrOffByOne)
    xin, ytr, _, _ = _data(s.net)
    for k in range(5):
        s.train_step(xin[k:k + 1], ytr[k:k + 1])
        s.check_weights()
    s.close()
    assert s.stats.mismatches > 0, "a mutant golden model went unnoticed"


def test_errors_named():
    """A malformed program (NUM_LAYERS = 0) and a label >= classes: CoreError with the code and name."""
    s = _session("A8", 4, 1, "none", 0)
    xin, ytr, _, _ = _data(s.net)
    with pytest.raises(CoreError) as e:
        s.core.program(s.prog, batch=1, num_layers=0, reload=False)
        s.core.train(xin[:1], ytr[:1])
    assert e.value.code == 4 and "unsupported structure" in str(e.value)
    s.core.clear()
    s.program()
    with pytest.raises(CoreError) as e:
        s.core.train(xin[:1], [s.net.n_classes])
    assert e.value.code == 6 and "label" in str(e.value)
    # the core is still usable: a checked training step
    s.core.clear()
    s.train_step(xin[:1], ytr[:1])
    s.check_weights()
    s.close()
    _assert_clean(s, "after the errors")

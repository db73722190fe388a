"""Fixed-point golden model: accumulator bounds, block rules, tables, and agreement with float."""
import numpy as np
import pytest

from golden import cycle_model, maxpool, sigmoid, softmax, weight_update
from golden.lfsr import Lfsr
from golden.fixed_model import FixedNet, update_order
from golden.float_ref import FloatNet
from golden.mac_array import check_fits, dot
from golden.requantize import to_codes, to_float
from golden.spec import get_net
from golden.trainer import initial_params


def longest_dot(net):
    """Terms in the longest dot product of a train step (fwd, dX, dK/dW, db sums)."""
    shapes, n = net.shapes(), 0
    for i, l in enumerate(net.layers):
        si, so = shapes[i], shapes[i + 1]
        if l.kind == "conv":
            n = max(n, si[0] * l.k * l.k, so[1] * so[2], l.n * l.k * l.k)
        elif l.kind == "dense":
            n = max(n, si[0] * si[1] * si[2], l.n)
    return n


@pytest.mark.parametrize("name", ["A", "B", "A8", "B8"])
def test_accumulator_holds_all_max_dot(name):
    """acc_width = 48 holds the longest dot product at full scale, plus the aligned bias."""
    net = get_net(name)
    f = net.fmt
    n = longest_dot(net)
    lo = -(1 << 15)
    worst = dot(np.full(n, lo), np.full(n, lo), f.acc_width)  # (-2^15)^2 * n: the largest magnitude
    bias = f.weight.max_code << f.act.frac
    check_fits(np.array([worst + bias, -worst - bias]), f.acc_width)
    assert worst == n << 30


def test_accumulator_bound_is_enforced():
    n = 1 << 17  # 2^17 * 2^30 = 2^47 does not fit 48 signed bits
    with pytest.raises(OverflowError):
        dot(np.full(n, -(1 << 15)), np.full(n, -(1 << 15)), 48)
    assert dot(np.full(n - 1, -(1 << 15)), np.full(n - 1, -(1 << 15)), 48) == (n - 1) << 30


def test_maxpool_tie_rule_and_routing():
    x = np.array([[[5, 5], [5, 5]]])  # all equal: position 0 wins
    p, idx = maxpool.fwd(x)
    assert p.tolist() == [[[5]]] and idx.tolist() == [[[0]]]
    x = np.array([[[1, 7], [7, 7]]])  # first maximum in raster order: position 1
    assert maxpool.fwd(x)[1].tolist() == [[[1]]]
    d = maxpool.back(np.array([[[9]]]), np.array([[[1]]]))
    assert d.tolist() == [[[0, 9], [0, 0]]]


def test_sigmoid_lut_accuracy():
    act = get_net("B").fmt.act
    x = np.arange(act.min_code, act.max_code + 1)
    s = sigmoid.fwd(x, act)
    ref = 1 / (1 + np.exp(-x / 2 ** act.frac))
    err = np.abs(s / 2 ** act.frac - ref).max() * 2 ** act.frac
    print(f"sigmoid fwd over every Q8.8 code: max error {err:.3f} LSB")
    assert err <= 0.55  # interpolation error + half an LSB of output rounding
    assert np.all(np.diff(s) >= 0)


def test_softmax_probabilities_close_to_float():
    act = get_net("A").fmt.act
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(500):
        z = rng.integers(-3000, 3000, 10)
        p = softmax.probs(z, act) / 65536
        e = np.exp(z / 256 - (z / 256).max())
        worst = max(worst, np.abs(p - e / e.sum()).max())
        assert softmax.probs(z, act).sum() <= 65536
    print(f"softmax max |p - p_float| = {worst:.2e}")
    assert worst < 2e-4


def test_softmax_loss_close_to_float():
    act = get_net("A").fmt.act
    rng = np.random.default_rng(1)
    for _ in range(200):
        z = rng.integers(-2000, 2000, 10)
        y = int(rng.integers(10))
        zf = z / 256
        ref = -(zf[y] - zf.max() - np.log(np.exp(zf - zf.max()).sum()))
        assert abs(softmax.loss(z, y, act) / 65536 - ref) < 0.01


@pytest.mark.parametrize("name", ["A", "B", "A8", "B8"])
def test_fixed_gradients_track_float(name):
    """One sample: fixed gradients equal float gradients up to quantization."""
    from golden.data import load_for

    net = get_net(name)
    floats, codes = initial_params(net, 0)
    fx, fl = FixedNet(net, codes), FloatNet(net, floats)
    xtr, ytr, _, _ = load_for(net)
    x = to_float(to_codes(xtr[3], net.fmt.act), net.fmt.act)
    tr = fx.backward(fx.forward(to_codes(x, net.fmt.act)), int(ytr[3]))
    _, g = fl.grads(x, int(ytr[3]))
    for i, (gw, gb) in g.items():
        qw = to_float(tr.grads[i][0], net.fmt.grad)
        rel = np.linalg.norm(qw - gw) / max(np.linalg.norm(gw), 1e-9)
        assert rel < 0.05, f"layer {i}: fixed vs float gradient relative difference {rel:.3f}"


def test_minibatch_accumulates_then_updates_once():
    net = get_net("A8", batch=3)
    _, codes = initial_params(net, 0)
    a, b = FixedNet(net, codes), FixedNet(net, codes)
    rng = np.random.default_rng(2)
    xs = to_codes(rng.uniform(0, 1, (3,) + net.input_shape), net.fmt.act)
    ys = [0, 5, 9]
    a.train_step(xs, ys)
    grads = [b.backward(b.forward(x), y).grads for x, y in zip(xs, ys)]
    n_params = sum(w.size + bb.size for w, bb in codes.values())
    assert a.lfsr.count == n_params  # one update per batch, one LFSR state per parameter
    lf = Lfsr(net.fmt.lfsr_seed)     # replay: summed gradients, update in update_order
    for i in update_order(net):
        for t in (0, 1):
            g = sum(gr[i][t] for gr in grads)
            exp, _ = weight_update.update(codes[i][t], g, a.lr_code, net.fmt, lf)
            assert np.array_equal(a.params[i][t], exp)


def test_bad_inputs_raise():
    net = get_net("A8")
    _, codes = initial_params(net, 0)
    bad = dict(codes)
    bad[0] = (codes[0][0][:, :, :2], codes[0][1])
    with pytest.raises(ValueError, match="needs weight"):
        FixedNet(net, bad)
    fx = FixedNet(net, codes)
    with pytest.raises(ValueError, match="label"):
        fx.backward(fx.forward(np.zeros(net.input_shape, dtype=np.int64)), 10)
    with pytest.raises(ValueError, match="stochastic"):
        FixedNet(net.with_fmt(round_fwd="stochastic"), codes)


def test_cycle_model_meets_issue_bounds():
    """Network A at P=8: train step <= 1.10 x 111,240 / 8 and inference <= 1.10 x 46,680 / 8."""
    s = cycle_model.summary(get_net("A"), 8)
    assert s["mac_bound_train"] == 111240 / 8
    assert s["cycles_train_step"] <= 15296, s
    assert s["cycles_inference"] <= 6419, s
    assert s["cycles_train_step"] >= s["mac_bound_train"]

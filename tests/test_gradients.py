"""Float reference: every gradient against central finite differences (relative error < 1e-6).

The error of a parameter tensor is ||g - g_fd|| / max(||g|| + ||g_fd||, 1e-12) over all its elements.
Every element of every weight and bias tensor is perturbed. Inputs are random (no exact ReLU kinks or
max-pool ties) and biases are random, so the loss is differentiable at the test point.
"""
import numpy as np
import pytest

from golden.float_ref import FloatNet, init_params
from golden.spec import RELU, SIGMOID, Net, conv, dense, get_net, maxpool

H = 1e-6
TOL = 1e-6


def _net_with_random_biases(net, seed):
    rng = np.random.default_rng(seed)
    p = init_params(net, seed)
    return FloatNet(net, {i: (w, rng.uniform(-0.2, 0.2, b.shape)) for i, (w, b) in p.items()})


def check_gradients(net, seed=0):
    fl = _net_with_random_biases(net, seed)
    rng = np.random.default_rng(seed + 100)
    x = rng.uniform(0.0, 1.0, net.input_shape)
    label = int(rng.integers(net.n_classes))
    _, g = fl.grads(x, label)
    worst = 0.0
    for i, (w, b) in fl.params.items():
        for t, (arr, ga) in enumerate(((w, g[i][0]), (b, g[i][1]))):
            fd = np.zeros_like(arr)
            flat, fdf = arr.reshape(-1), fd.reshape(-1)
            for k in range(flat.size):
                keep = flat[k]
                flat[k] = keep + H
                lp = fl.loss(x, label)
                flat[k] = keep - H
                lm = fl.loss(x, label)
                flat[k] = keep
                fdf[k] = (lp - lm) / (2 * H)
            err = np.linalg.norm(ga - fd) / max(np.linalg.norm(ga) + np.linalg.norm(fd), 1e-12)
            assert err < TOL, f"{net.name} layer {i} {'bias' if t else 'weight'}: rel err {err:.2e}"
            worst = max(worst, err)
    return worst


@pytest.mark.parametrize("name", ["A", "B", "A8", "B8"])
def test_named_nets(name):
    print(f"{name}: worst relative error {check_gradients(get_net(name)):.2e}")


RANDOM_NETS = [
    # stacked convs exercise conv dX (full convolution with the flipped kernel), multi-channel input
    Net("r1", (2, 10, 10), (conv(3, 3), RELU, conv(2, 3), SIGMOID, maxpool(2), dense(7), SIGMOID,
                           dense(4)), "softmax_ce"),
    Net("r2", (1, 9, 9), (conv(2, 2), SIGMOID, conv(3, 3), RELU, dense(5)), "sigmoid_mse"),
    Net("r3", (3, 6, 6), (dense(8), RELU, dense(6), SIGMOID, dense(3)), "softmax_ce"),
    Net("r4", (1, 12, 12), (conv(2, 3), maxpool(2), RELU, conv(3, 2), maxpool(2), dense(5)), "sigmoid_mse"),
]


@pytest.mark.parametrize("net", RANDOM_NETS, ids=lambda n: n.name)
@pytest.mark.parametrize("seed", [1, 2])
def test_random_nets(net, seed):
    check_gradients(net, seed)


def test_minibatch_sums_gradients():
    net = get_net("A8")
    fl = _net_with_random_biases(net, 3)
    rng = np.random.default_rng(0)
    xs = rng.uniform(0, 1, (3,) + net.input_shape)
    ys = [1, 4, 7]
    gs = [fl.grads(x, y)[1] for x, y in zip(xs, ys)]
    before = {i: (w.copy(), b.copy()) for i, (w, b) in fl.params.items()}
    fl.train_step(xs, ys)
    for i, (w, b) in fl.params.items():
        exp_w = before[i][0] - fl.lr * sum(g[i][0] for g in gs)
        assert np.allclose(w, exp_w, rtol=0, atol=1e-15)

"""Training loops for the float reference and the fixed model, with identical initialization, data
order and epochs, so their accuracies can be compared one to one.

Initialization: golden.float_ref.init_params(seed) drawn in float, quantized to the weight format
(round half to even); the float model starts from the *quantized* values, so both start at one point.
Data order: epoch e visits the training set in np.random.default_rng(seed + 1 + e).permutation order,
in mini-batches of net.batch consecutive samples (the last, partial batch is kept).
"""
from __future__ import annotations

import numpy as np

from .fixed_model import FixedNet
from .float_ref import FloatNet, init_params
from .requantize import to_codes, to_float
from .spec import Net


def initial_params(net: Net, seed: int):
    """-> (float params, fixed params): the same values, one as floats and one as codes."""
    p = init_params(net, seed)
    codes = {i: (to_codes(w, net.fmt.weight), to_codes(b, net.fmt.weight)) for i, (w, b) in p.items()}
    floats = {i: (to_float(w, net.fmt.weight), to_float(b, net.fmt.weight)) for i, (w, b) in codes.items()}
    return floats, codes


def make_model(net: Net, kind: str, seed: int):
    floats, codes = initial_params(net, seed)
    if kind == "float":
        return FloatNet(net, floats)
    if kind == "fixed":
        return FixedNet(net, codes)
    raise ValueError(f"model kind must be 'float' or 'fixed', got {kind!r}")


def _inputs(model, x):
    if isinstance(model, FixedNet):
        return to_codes(x, model.f.act)
    return x


def accuracy(model, x, y) -> float:
    xs = _inputs(model, x)
    pred = np.array([model.predict(xi) for xi in xs])
    return float(np.mean(pred == y))


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng(seed + 1 + epoch).permutation(n)


def train(net: Net, kind: str, data, epochs: int, seed: int = 0, progress=None, limit=None):
    """Train one model. -> (model, history) where history has per-epoch loss and test accuracy.

    progress: optional callable(n) advancing a progress bar by n samples.
    limit: optional cap on training samples per epoch (for quick runs).
    """
    xtr, ytr, xte, yte = data
    model = make_model(net, kind, seed)
    xin = _inputs(model, xtr)
    hist = {"epoch": [], "loss": [], "acc_test": [], "acc_train_running": []}
    n = len(ytr) if limit is None else min(limit, len(ytr))
    for e in range(epochs):
        order = epoch_order(len(ytr), seed, e)[:n]
        losses, correct = [], 0
        for s in range(0, n, net.batch):
            idx = order[s:s + net.batch]
            if kind == "fixed":
                trs = model.train_step(xin[idx], ytr[idx])
                scale = 2.0 ** -16 if net.head == "softmax_ce" else 2.0 ** -(2 * net.fmt.act.frac)
                losses += [t.loss * scale for t in trs]
                correct += sum(int(t.pred == y) for t, y in zip(trs, ytr[idx]))
            else:
                for i in idx:
                    correct += int(model.predict(xin[i]) == ytr[i])
                losses.append(model.train_step(xin[idx], ytr[idx]))
            if progress:
                progress(len(idx))
        hist["epoch"].append(e + 1)
        hist["loss"].append(float(np.mean(losses)))
        hist["acc_train_running"].append(correct / n)
        hist["acc_test"].append(accuracy(model, xte, yte))
    return model, hist

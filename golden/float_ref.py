"""Float64 reference of the same networks: proves the maths (gradients vs finite differences).

Same layer semantics as fixed_model, without quantization. Mini-batch gradients are *summed* over the
batch (digest section 3), so the learning rate of a batch of B is the per-sample rate; divide lr by B for
the mean.
"""
from __future__ import annotations

import numpy as np

from . import conv, maxpool
from .spec import Net, validate


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


class FloatNet:
    def __init__(self, net: Net, params: dict, lr: float | None = None):
        self.net = validate(net)
        self.params = {i: (np.array(w, dtype=np.float64), np.array(b, dtype=np.float64))
                       for i, (w, b) in params.items()}
        self.lr = net.lr if lr is None else lr

    def forward(self, x):
        a = np.asarray(x, dtype=np.float64).reshape(self.net.input_shape)
        outs, idx = [a], {}
        for i, l in enumerate(self.net.layers):
            if l.kind == "conv":
                w, b = self.params[i]
                a = conv.fwd(a, w) + b[:, None, None]
            elif l.kind == "dense":
                w, b = self.params[i]
                a = (w @ a.reshape(-1) + b).reshape(l.n, 1, 1)
            elif l.kind == "relu":
                a = np.maximum(a, 0.0)
            elif l.kind == "sigmoid":
                a = _sig(a)
            elif l.kind == "maxpool":
                a, idx[i] = maxpool.fwd(a)
            outs.append(a)
        return outs, idx

    def head(self, z, label):
        """-> (loss, dE/dz, prediction)"""
        z = z.reshape(-1)
        y = np.zeros_like(z)
        y[label] = 1.0
        if self.net.head == "softmax_ce":
            e = np.exp(z - z.max())
            p = e / e.sum()
            return -np.log(p[label]), p - y, int(np.argmax(z))
        o = _sig(z)
        return 0.5 * np.sum((o - y) ** 2), (o - y) * o * (1 - o), int(np.argmax(o))

    def loss(self, x, label) -> float:
        outs, _ = self.forward(x)
        return self.head(outs[-1], label)[0]

    def grads(self, x, label):
        """-> (loss, {layer: (dW, db)})"""
        outs, idx = self.forward(x)
        loss, d, _ = self.head(outs[-1], label)
        d = d.reshape(outs[-1].shape)
        g = {}
        for i in range(len(self.net.layers) - 1, -1, -1):
            l, xin = self.net.layers[i], outs[i]
            if l.kind == "dense":
                w, _ = self.params[i]
                dv = d.reshape(-1)
                g[i] = (np.outer(dv, xin.reshape(-1)), dv.copy())
                d = (w.T @ dv).reshape(xin.shape)
            elif l.kind == "conv":
                w, _ = self.params[i]
                g[i] = (conv.dk(xin, d, l.k), d.sum(axis=(1, 2)))
                d = conv.dx(d, w)
            elif l.kind == "relu":
                d = np.where(xin > 0, d, 0.0)
            elif l.kind == "sigmoid":
                s = outs[i + 1]
                d = d * s * (1 - s)
            elif l.kind == "maxpool":
                d = maxpool.back(d, idx[i])
        return loss, g

    def train_step(self, xs, labels):
        """One mini-batch, gradients summed. -> mean loss"""
        total, acc = 0.0, None
        for x, y in zip(xs, labels):
            loss, g = self.grads(x, int(y))
            total += loss
            acc = g if acc is None else {i: (acc[i][0] + g[i][0], acc[i][1] + g[i][1]) for i in g}
        for i, (gw, gb) in acc.items():
            w, b = self.params[i]
            self.params[i] = (w - self.lr * gw, b - self.lr * gb)
        return total / len(xs)

    def predict(self, x) -> int:
        outs, _ = self.forward(x)
        return self.head(outs[-1], 0)[2]


def init_params(net: Net, seed: int = 0) -> dict:
    """He-uniform weights (fan-in), zero biases, from one seeded generator in layer order."""
    rng = np.random.default_rng(seed)
    out = {}
    for i, (wsh, bsh) in net.param_shapes().items():
        fan_in = int(np.prod(wsh[1:]))
        lim = np.sqrt(6.0 / fan_in)
        out[i] = (rng.uniform(-lim, lim, size=wsh), np.zeros(bsh))
    return out

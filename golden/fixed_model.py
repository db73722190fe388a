"""Bit-exact fixed-point model of the whole core: forward, loss head, backward, accumulate, update.

Every value is an integer code (numpy int64) in the format docs/numerics.md gives it; every narrowing
goes through golden.requantize. The RTL core must reproduce `Trace` (every layer output, every delta
and gradient) and the updated parameters bit for bit.

Parameter update order (also the LFSR consumption order for stochastic rounding): parameter layers from
last to first (the order the backward pass produces them); within a layer the weight tensor in C order,
then the bias vector.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import conv, maxpool, mse_delta, relu, sigmoid, softmax, weight_update
from .lfsr import Lfsr
from .mac_array import check_fits
from .requantize import Sticky, requantize, to_codes
from .spec import Net, validate


@dataclass
class Trace:
    """What one sample produces: forward values, head outputs, backward values."""
    outs: list                       # outs[0] = input, outs[i+1] = output of layer i
    pool_idx: dict                   # layer index -> argmax codes
    head_out: np.ndarray = None      # softmax p (Q0.16) or sigmoid O (act codes)
    pred: int = -1
    loss: int = 0                    # Q16.16 (softmax_ce) or 2*Fa fractional bits (sigmoid_mse)
    deltas: dict = field(default_factory=dict)   # layer index -> dE/d(output of layer) codes
    grads: dict = field(default_factory=dict)    # layer index -> (dW, db) grad codes


def update_order(net: Net):
    return list(reversed(net.param_layers()))


class FixedNet:
    def __init__(self, net: Net, params: dict, lr: float | None = None):
        """params: {layer index: (W codes, b codes)} in the weight format."""
        self.net = validate(net)
        f = net.fmt
        for name in ("round_fwd", "round_bwd"):
            if getattr(f, name) == "stochastic":
                raise ValueError(f"{name}: stochastic rounding is supported for the update only")
        self.f = f
        self.params = {i: (np.array(w, dtype=np.int64), np.array(b, dtype=np.int64))
                       for i, (w, b) in params.items()}
        for i, (wsh, bsh) in net.param_shapes().items():
            if i not in self.params or self.params[i][0].shape != wsh or self.params[i][1].shape != bsh:
                raise ValueError(f"net {net.name}: layer {i} needs weight {wsh} and bias {bsh}")
        self.lr_code = int(to_codes(net.lr if lr is None else lr, f.lr))
        if self.lr_code <= 0:
            raise ValueError(f"learning rate quantizes to {self.lr_code} in {f.lr}")
        self.lfsr = Lfsr(f.lfsr_seed)
        self.sticky = Sticky()
        self.acc = None          # mini-batch gradient accumulators
        self.n_acc = 0

    # ------------------------------------------------------------ forward
    def forward(self, x) -> Trace:
        f, net = self.f, self.net
        a = np.asarray(x, dtype=np.int64).reshape(net.input_shape)
        tr = Trace(outs=[a], pool_idx={})
        for i, l in enumerate(net.layers):
            if l.kind == "conv":
                w, b = self.params[i]
                acc = check_fits(conv.fwd(a, w) + (b << f.act.frac)[:, None, None], f.acc_width)
                a = self.sticky(f"L{i}.fwd", requantize(acc, f.weight.frac, f.act, f.round_fwd, f.overflow))
            elif l.kind == "dense":
                w, b = self.params[i]
                acc = check_fits(w @ a.reshape(-1) + (b << f.act.frac), f.acc_width)
                a = self.sticky(f"L{i}.fwd", requantize(acc, f.weight.frac, f.act, f.round_fwd, f.overflow))
                a = a.reshape(l.n, 1, 1)
            elif l.kind == "relu":
                a = relu.relu(a)
            elif l.kind == "sigmoid":
                a = sigmoid.fwd(a, f.act)
            elif l.kind == "maxpool":
                a, tr.pool_idx[i] = maxpool.fwd(a)
            tr.outs.append(a)
        z = a.reshape(-1)
        if net.head == "softmax_ce":
            tr.head_out = softmax.probs(z, f.act)
            tr.pred = int(np.argmax(z))
        else:
            tr.head_out = sigmoid.fwd(z, f.act)
            tr.pred = int(np.argmax(tr.head_out))
        return tr

    # ------------------------------------------------------------ head + backward
    def backward(self, tr: Trace, label: int) -> Trace:
        f, net = self.f, self.net
        z = tr.outs[-1].reshape(-1)
        if not (0 <= label < z.size):
            raise ValueError(f"label {label} out of range 0..{z.size - 1}")
        if net.head == "softmax_ce":
            d = self.sticky("head", softmax.delta(z, label, f.act, f.delta, f.round_bwd))
            tr.loss = softmax.loss(z, label, f.act)
        else:
            o = tr.head_out
            e = mse_delta.error(o, label, f.act.frac)
            d = self.sticky("head", sigmoid.back(e, o, f.act, f.delta, f.round_bwd, in_frac=f.act.frac))
            tr.loss = mse_delta.loss(o, label, f.act.frac)
        d = d.reshape(tr.outs[-1].shape)
        first = net.param_layers()[0]
        gshift = f.delta.frac + f.act.frac - f.grad.frac   # delta * act -> grad
        bshift = f.delta.frac - f.grad.frac                # delta -> grad
        for i in range(len(net.layers) - 1, -1, -1):
            l = net.layers[i]
            x = tr.outs[i]
            tr.deltas[i] = d
            if l.kind == "dense":
                w, _ = self.params[i]
                dv = d.reshape(-1)
                dw = self.sticky(f"L{i}.dw", requantize(np.outer(dv, x.reshape(-1)), gshift, f.grad,
                                                        f.round_bwd, f.overflow))
                db = self.sticky(f"L{i}.db", requantize(dv, bshift, f.grad, f.round_bwd, f.overflow))
                tr.grads[i] = (dw, db)
                if i == first:
                    break
                acc = check_fits(w.T @ dv, f.acc_width)
                d = self.sticky(f"L{i}.dx", requantize(acc, f.weight.frac, f.delta, f.round_bwd,
                                                       f.overflow)).reshape(x.shape)
            elif l.kind == "conv":
                w, _ = self.params[i]
                dk = check_fits(conv.dk(x, d, l.k), f.acc_width)
                dw = self.sticky(f"L{i}.dw", requantize(dk, gshift, f.grad, f.round_bwd, f.overflow))
                db = self.sticky(f"L{i}.db", requantize(d.sum(axis=(1, 2)), bshift, f.grad,
                                                        f.round_bwd, f.overflow))
                tr.grads[i] = (dw, db)
                if i == first:
                    break
                acc = check_fits(conv.dx(d, w), f.acc_width)
                d = self.sticky(f"L{i}.dx", requantize(acc, f.weight.frac, f.delta, f.round_bwd,
                                                       f.overflow))
            elif l.kind == "relu":
                d = relu.back(d, x)
            elif l.kind == "sigmoid":
                d = self.sticky(f"L{i}.sig", sigmoid.back(d, tr.outs[i + 1], f.act, f.delta, f.round_bwd))
            elif l.kind == "maxpool":
                d = maxpool.back(d, tr.pool_idx[i])
        return tr

    # ------------------------------------------------------------ accumulate + update
    def accumulate(self, tr: Trace):
        if self.acc is None:
            self.acc = {i: (np.zeros_like(w), np.zeros_like(b)) for i, (w, b) in self.params.items()}
        for i, (dw, db) in tr.grads.items():
            gw, gb = self.acc[i]
            gw = self.sticky("acc", weight_update.accumulate(gw, dw, self.f))
            gb = self.sticky("acc", weight_update.accumulate(gb, db, self.f))
            self.acc[i] = (gw, gb)
        self.n_acc += 1

    def update(self):
        if self.acc is None:
            return
        for i in update_order(self.net):
            w, b = self.params[i]
            gw, gb = self.acc[i]
            w = self.sticky("update", weight_update.update(w, gw, self.lr_code, self.f, self.lfsr))
            b = self.sticky("update", weight_update.update(b, gb, self.lr_code, self.f, self.lfsr))
            self.params[i] = (w, b)
        self.acc = None
        self.n_acc = 0

    def train_step(self, xs, labels):
        """One mini-batch (len(xs) samples, gradients summed) -> list of traces."""
        traces = []
        for x, y in zip(xs, labels):
            tr = self.backward(self.forward(x), int(y))
            self.accumulate(tr)
            traces.append(tr)
        self.update()
        return traces

    def predict(self, x) -> int:
        return self.forward(x).pred

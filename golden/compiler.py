"""Network spec -> the core's layer program: descriptor table and memory map (docs/architecture.md §5).

One descriptor (four 32-bit words) per layer:
    w0 = op[3:0] | k[7:4] | c_in[15:8] | n_out[31:16]
    w1 = h_in[7:0] | w_in[15:8]
    w2 = in_addr[15:0] | out_addr[31:16]      AMEM element addresses of the layer's input and output
    w3 = w_addr[15:0] | aux_addr[31:16]       WMEM address of the weights (biases follow); aux: the
                                              max-pool argmax region (IMEM), or for a conv layer that
                                              is not the first the DMEM scratch region where its
                                              backward pass zero-pads the delta (F x (H+K-1) x (W+K-1))
op: 1 conv, 2 dense, 3 relu, 4 sigmoid, 5 maxpool. n_out is the filter count (conv), the output count
(dense), 0 otherwise. The head (softmax_ce / sigmoid_mse) is a register, not a descriptor.

Memory map: AMEM holds the input at 0 and every layer's output after it, each tensor in C order;
max-pool argmax codes follow the activations. WMEM holds, per parameter layer in layer order, the
weights in C order then the biases.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import isa
from .spec import Net, validate

# the codes, from the one table of the core's instruction set (golden/isa.py)
OPS = isa.OPS
HEAD_CODES = isa.HEADS
# STATUS[15:8] error codes of the core: code -> meaning
ERRORS = {code: doc for code, (_, doc) in isa.ERRORS.items()}
ADDR_BITS = 16


@dataclass
class Program:
    net: Net
    words: list            # 4 words per layer
    act_addr: list         # AMEM address of outs[i] (outs[0] = input)
    aux_addr: dict         # layer -> AMEM address of its argmax codes
    pad_addr: dict         # conv layer (not the first) -> DMEM address of its padded-delta scratch
    w_addr: dict           # layer -> (WMEM weight address, WMEM bias address)
    amem_words: int
    wmem_words: int
    head: int

    def weights_flat(self, params: dict) -> np.ndarray:
        """Parameter codes laid out as in WMEM."""
        out = np.zeros(self.wmem_words, dtype=np.int64)
        for i, (wa, ba) in self.w_addr.items():
            w, b = params[i]
            out[wa:wa + w.size] = np.asarray(w).reshape(-1)
            out[ba:ba + b.size] = np.asarray(b).reshape(-1)
        return out

    def params_from_flat(self, flat) -> dict:
        flat = np.asarray(flat, dtype=np.int64)
        out = {}
        for i, (wsh, bsh) in self.net.param_shapes().items():
            wa, ba = self.w_addr[i]
            out[i] = (flat[wa:wa + int(np.prod(wsh))].reshape(wsh), flat[ba:ba + int(np.prod(bsh))].copy())
        return out


def _numel(s):
    return int(np.prod(s))


def layout(shapes, layers, head: str):
    """The encoding itself, with no validity rule: shapes[i] is the input shape of layers[i]
    (shapes[-1] the output). -> (words, act_addr, aux_addr, pad_addr, w_addr, amem_words, wmem_words).
    compile_net uses it on validated nets; the core's testbench on deliberately broken ones."""
    act_addr, a = [], 0
    for s in shapes:
        act_addr.append(a)
        a += _numel(s)
    aux, pad, w_addr, wpos = {}, {}, {}, 0
    for i, l in enumerate(layers):
        if l.kind == "maxpool":
            aux[i] = a
            a += _numel(shapes[i + 1])
    first = next((i for i, l in enumerate(layers) if l.kind in ("conv", "dense")), None)
    for i, l in enumerate(layers):       # DMEM scratch of the padded delta of a conv that is not first
        if l.kind == "conv" and i != first:
            _, h, w = shapes[i]
            pad[i] = a
            a += l.n * (h + l.k - 1) * (w + l.k - 1)
    for i, l in enumerate(layers):
        s = shapes[i]
        if l.kind == "conv":
            nw = l.n * s[0] * l.k * l.k
        elif l.kind == "dense":
            nw = l.n * _numel(s)
        else:
            continue
        w_addr[i] = (wpos, wpos + nw)
        wpos += nw + l.n
    words = []
    for i, l in enumerate(layers):
        c, h, w = shapes[i]
        if l.kind == "dense":  # a dense layer sees its input flattened
            c, h, w = _numel(shapes[i]), 1, 1
            c_field = 0
        else:
            c_field = c
        n_out = l.n if l.kind in ("conv", "dense") else 0
        words += isa.pack({"op": OPS[l.kind], "k": l.k & 0xF, "c": c_field & 0xFF, "n": n_out & 0xFFFF,
                           "h": h & 0xFF, "w": w & 0xFF, "m": (c if l.kind == "dense" else 0) & 0xFFFF,
                           "in_addr": act_addr[i], "out_addr": act_addr[i + 1],
                           "w_addr": w_addr.get(i, (0, 0))[0],
                           "aux_addr": aux.get(i, 0) or pad.get(i, 0)})
    return words, act_addr, aux, pad, w_addr, a, wpos


def compile_net(net: Net) -> Program:
    validate(net)
    shapes = net.shapes()
    for s in shapes:
        if s[0] > 255 and s[1] > 1:
            raise ValueError(f"net {net.name}: {s[0]} channels exceed the descriptor's 8-bit field")
        if s[1] > 255 or s[2] > 255:
            raise ValueError(f"net {net.name}: map {s} exceeds the descriptor's 8-bit H/W fields")
    words, act_addr, aux, pad, w_addr, a, wpos = layout(shapes, net.layers, net.head)
    if a >= 1 << ADDR_BITS or wpos >= 1 << ADDR_BITS:
        raise ValueError(f"net {net.name}: needs AMEM {a} / WMEM {wpos} words, over the 16-bit address field")
    return Program(net, words, act_addr, aux, pad, w_addr, a, wpos, HEAD_CODES[net.head])

"""Per-phase cycle model of the training core (rtl/cnn_core.v); the end-to-end test asserts that the
RTL's measured cycles of every phase equal `phases()`, so a change to the schedule changes both, visibly.

The core issues one AGU beat per cycle into a fixed-latency pipeline; a phase costs its beats plus a
constant: controller steps (configure, start, next: 3 cycles), the pipeline drain of its path, and
DESC = 8 cycles (4 descriptor words through the 1-cycle table port + 3 cycles of derived sizes) when
the phase is the first of its layer. The constants below are the RTL's, counted from its pipeline:
  lanes MAC phase  memory read 2 + mac_array 3 + bias add 1 + requantize 1 + write
  reduce phase     the same + log2(P) adder-tree levels
  gradient phase   + 2 (update operand read) + 3 (weight_update) before the write-back
Lane assignment (why the beat formulas have these ceilings):
  conv fwd   lanes = P adjacent output columns; beats = F * Ho * ceil(Wo/P) * C*K*K
             (+ ceil(F/P) beats loading the biases into the bias cache)
  conv dK    reduce: lanes = P adjacent output columns summed by the tree; beats = F*C*K*K * Ho*ceil(Wo/P)
  conv db    reduce over the delta map;                                 beats = F * Ho * ceil(Wo/P)
  conv dX    (a conv that is not the first layer) the delta is zero-padded by K-1 into DMEM scratch
             (ceil(F*Hp*Wp/P) zeroing beats + F*Ho*ceil(Wo/P) copy beats), then a forward-style pass
             with the kernel flipped: lanes = P adjacent input columns, beats = C*H*ceil(W/P) * F*K*K
  dense fwd  reduce: lanes = P consecutive inputs of one row;    beats = N * ceil(M/P) (+ ceil(N/P) bias)
  dense dX   lanes = P consecutive inputs, accumulating over the N rows;   beats = ceil(M/P) * N
  dense dW   lanes = P consecutive inputs of one row (delta_o * x_j);      beats = N * ceil(M/P)
  dense db   lanes = P consecutive outputs;                                beats = ceil(N/P)
             gradient beats feed the weight-update unit directly (batch 1) or the accumulators
             (batch > 1): the update is overlapped, not a phase of its own.
  relu / sigmoid: ceil(n/P) beats; maxpool fwd: 2 row beats per P/2 windows, C * Ho * ceil(W/P) * 2;
  maxpool bwd: one unpooled row segment per beat, C * Ho * 2 * ceil(W/P).
  softmax    rtl/softmax.v: 20N + 4 (train) / 2N + 5 (inference), + 2 controller cycles.
  sigmoid_mse  sigmoid on P lanes (ceil(N/P) + 3), mse_delta (N + 1), head backward on P lanes
             (ceil(N/P) + 3, training only), + 1.
  update     (batch > 1, after the last sample, per parameter layer from the last) ceil((nw+nb)/P)
             beats + 17 (+1 for the first: the sample-end step) + 10 per non-parameter layer skipped.
The sample load (one pixel beat per cycle from the stream) is a phase of its own ("load") and is not
part of the compute cycles.
"""
from __future__ import annotations

from math import ceil

from .spec import Net

DESC = 8           # descriptor read (5) + derived sizes (3), first phase of a layer
C_CONV_FWD = 17    # two sub-phases (bias load, MAC) incl. lanes drain
C_DENSE_FWD = 20   # two sub-phases incl. the reduce tree
C_ELEM = 7         # relu, maxpool fwd/bwd (1-cycle unit)
C_SIG = 9          # sigmoid (3-cycle unit)
C_DX = 11          # lanes MAC to DMEM
C_GRAD_LANES = 16  # dense dW / db: lanes MAC + update path
C_GRAD_REDUCE = 19  # conv dK / db: reduce MAC + update path (P = 8: 3 tree levels)
C_CONV_DX = 25     # three sub-phases: zero the padded delta, copy the delta in, the MAC pass
C_UPDATE = 17
C_SKIP = 10


def softmax_cycles(n: int, train: bool = True) -> int:
    """Cycles of rtl/softmax.v per sample for n classes (its header; checked by tb/softmax test_cycles):
    training N load + N+3 exp + 1 + 18N divide = 20N + 4; inference (no divide) 2N + 5."""
    return 20 * n + 4 if train else 2 * n + 5


def _tree(p: int) -> int:
    return max(p - 1, 0).bit_length()        # log2(P) for powers of two


def phases(net: Net, p: int, train: bool = True):
    """-> list of (phase name, cycles) for one sample, in execution order (load excluded)."""
    shapes = net.shapes()
    lg = _tree(p)
    out = []
    for i, l in enumerate(net.layers):
        si, so = shapes[i], shapes[i + 1]
        if l.kind == "conv":
            c, f, k = si[0], l.n, l.k
            beats = f * so[1] * ceil(so[2] / p) * c * k * k + ceil(f / p)
            out.append((f"L{i}.conv.fwd", beats + DESC + C_CONV_FWD))
        elif l.kind == "dense":
            m = si[0] * si[1] * si[2]
            out.append((f"L{i}.dense.fwd", l.n * ceil(m / p) + ceil(l.n / p) + DESC + C_DENSE_FWD - 3 + lg))
        elif l.kind == "relu":
            out.append((f"L{i}.relu.fwd", ceil(so[0] * so[1] * so[2] / p) + DESC + C_ELEM))
        elif l.kind == "sigmoid":
            out.append((f"L{i}.sigmoid.fwd", ceil(so[0] * so[1] * so[2] / p) + DESC + C_SIG))
        elif l.kind == "maxpool":
            out.append((f"L{i}.maxpool.fwd", si[0] * so[1] * ceil(si[2] / p) * 2 + DESC + C_ELEM))
    ncls = shapes[-1][0]
    nb = ceil(ncls / p)
    if net.head == "softmax_ce":
        out.append(("head.softmax", softmax_cycles(ncls, train) + 2))
    else:
        out.append(("head.sigmoid_mse", (2 * nb + ncls + 8) if train else (nb + ncls + 5)))
    if not train:
        return out
    last = len(net.layers) - 1
    for i in range(last, -1, -1):
        l, si, so = net.layers[i], shapes[i], shapes[i + 1]
        d = 0 if i == last else DESC          # the last layer's descriptor is still loaded
        if l.kind == "dense":
            m = si[0] * si[1] * si[2]
            if i != 0:
                out.append((f"L{i}.dense.dx", ceil(m / p) * l.n + d + C_DX))
                d = 0
            out.append((f"L{i}.dense.dw", l.n * ceil(m / p) + d + C_GRAD_LANES))
            out.append((f"L{i}.dense.db", ceil(l.n / p) + C_GRAD_LANES))
        elif l.kind == "conv":
            c, f, k = si[0], l.n, l.k
            red = C_GRAD_REDUCE - 3 + lg
            if i != 0:
                hp, wp = si[1] + k - 1, si[2] + k - 1
                beats = (ceil(f * hp * wp / p) + f * so[1] * ceil(so[2] / p)
                         + c * si[1] * ceil(si[2] / p) * f * k * k)
                out.append((f"L{i}.conv.dx", beats + d + C_CONV_DX))
                d = 0
            out.append((f"L{i}.conv.dk", f * c * k * k * so[1] * ceil(so[2] / p) + d + red))
            out.append((f"L{i}.conv.db", f * so[1] * ceil(so[2] / p) + red))
        elif l.kind == "relu":
            out.append((f"L{i}.relu.bwd", ceil(si[0] * si[1] * si[2] / p) + d + C_ELEM))
        elif l.kind == "sigmoid":
            out.append((f"L{i}.sigmoid.bwd", ceil(si[0] * si[1] * si[2] / p) + d + C_SIG))
        elif l.kind == "maxpool":
            out.append((f"L{i}.maxpool.bwd", si[0] * so[1] * 2 * ceil(si[2] / p) + d + C_ELEM))
    return out


def update_phases(net: Net, p: int):
    """-> [(name, cycles)] of the update pass that follows the last sample of a batch > 1."""
    out, skipped, first = [], 0, True
    for i in range(len(net.layers) - 1, -1, -1):
        if i not in net.param_shapes():
            skipped += 1
            continue
        (wsh, bsh) = net.param_shapes()[i]
        n = int(__import__("numpy").prod(wsh)) + bsh[0]
        out.append((f"L{i}.update", ceil(n / p) + C_UPDATE + (1 if first else 0) + C_SKIP * skipped))
        first, skipped = False, 0
    return out


def total(net: Net, p: int, train: bool = True) -> int:
    return sum(c for _, c in phases(net, p, train))


def mac_bound(net: Net, p: int, train: bool = True) -> float:
    fwd, bwd = net.mac_counts()
    return (fwd + bwd if train else fwd) / p


def summary(net: Net, p: int) -> dict:
    tr, inf = total(net, p, True), total(net, p, False)
    bt, bi = mac_bound(net, p, True), mac_bound(net, p, False)
    return {"net": net.name, "P": p, "cycles_train_step": tr, "cycles_inference": inf,
            "mac_bound_train": bt, "mac_bound_inference": bi,
            "utilization_train": round(bt / tr, 4), "utilization_inference": round(bi / inf, 4)}

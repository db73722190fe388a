"""Per-phase cycle model of the training core, so the RTL can be held to a schedule.

This is the planned schedule of the core (docs/architecture.md). The end-to-end test asserts that the
RTL's measured cycles per phase equal `phases()`; a change to the schedule changes both, visibly.

The P-lane MAC array executes every MAC loop; a phase costs its beats plus a fixed pipeline fill/drain
of `LAT_*` cycles. Lane assignment (why the formulas have these ceilings):
  conv fwd   lanes = P adjacent output columns; beats = F * Ho * ceil(Wo/P) * C*K*K
  conv dK    lanes = P adjacent output columns, summed across lanes at the end;
             beats = F*C*K*K * Ho * ceil(Wo/P)           (db is summed on the same delta stream)
  conv dX    lanes = P adjacent input columns (full conv); beats = C * H * ceil(W/P) * F*K*K
  dense fwd  lanes = P consecutive inputs of one row, summed across lanes; beats = N * ceil(M/P)
  dense dX   lanes = P consecutive inputs, accumulating over the N rows;   beats = ceil(M/P) * N
  dense dW   lanes = P consecutive inputs of one row (delta_o * x_j);    beats = N * ceil(M/P)
             each dW beat feeds the weight-update unit directly (batch 1) or the gradient
             accumulators (batch > 1): the update is overlapped, not added on top.
  relu / sigmoid / maxpool work on P elements per cycle: ceil(n/P) beats (maxpool: P windows).
  softmax    N_cls logits: softmax_cycles(N, train) (the block's own formula, rtl/softmax.v).
  mse head   ceil(N/P) beats + LAT_ELEM.
"""
from __future__ import annotations

from math import ceil

from .spec import Net

LAT_MAC = 6        # MAC array pipeline + requantize + write-back, per MAC phase
LAT_ELEM = 3       # element-wise unit pipeline, per element-wise phase
LAT_PHASE = 2      # controller: descriptor fetch and phase start


def softmax_cycles(n: int, train: bool = True) -> int:
    """Cycles of rtl/softmax.v per sample for n classes (its header; checked by tb/softmax test_cycles):
    training N load + N+3 exp + 1 + 18N divide = 20N + 4; inference (no divide) 2N + 5."""
    return 20 * n + 4 if train else 2 * n + 5


def _elem(n: int, p: int) -> int:
    return ceil(n / p) + LAT_ELEM + LAT_PHASE


def _mac(beats: int) -> int:
    return beats + LAT_MAC + LAT_PHASE


def phases(net: Net, p: int, train: bool = True):
    """-> list of (phase name, cycles) for one sample, in execution order."""
    shapes = net.shapes()
    out = []
    for i, l in enumerate(net.layers):
        si, so = shapes[i], shapes[i + 1]
        if l.kind == "conv":
            c, f, k = si[0], l.n, l.k
            out.append((f"L{i}.conv.fwd", _mac(f * so[1] * ceil(so[2] / p) * c * k * k)))
        elif l.kind == "dense":
            m = si[0] * si[1] * si[2]
            out.append((f"L{i}.dense.fwd", _mac(l.n * ceil(m / p))))
        elif l.kind in ("relu", "sigmoid"):
            out.append((f"L{i}.{l.kind}.fwd", _elem(so[0] * so[1] * so[2], p)))
        elif l.kind == "maxpool":
            out.append((f"L{i}.maxpool.fwd", _elem(so[0] * so[1] * so[2], p)))
    ncls = shapes[-1][0]
    if net.head == "softmax_ce":
        out.append(("head.softmax", softmax_cycles(ncls, train)))
    else:
        out.append(("head.sigmoid_mse", _elem(ncls, p) + _elem(ncls, p)))
    if not train:
        return out
    first = net.param_layers()[0]
    for i in range(len(net.layers) - 1, -1, -1):
        l, si, so = net.layers[i], shapes[i], shapes[i + 1]
        if l.kind == "dense":
            m = si[0] * si[1] * si[2]
            out.append((f"L{i}.dense.dw", _mac(l.n * ceil(m / p))))
            if i != first:
                out.append((f"L{i}.dense.dx", _mac(ceil(m / p) * l.n)))
        elif l.kind == "conv":
            c, f, k = si[0], l.n, l.k
            out.append((f"L{i}.conv.dk", _mac(f * c * k * k * so[1] * ceil(so[2] / p))))
            if i != first:
                out.append((f"L{i}.conv.dx", _mac(c * si[1] * ceil(si[2] / p) * f * k * k)))
        elif l.kind in ("relu", "sigmoid", "maxpool"):
            n = si[0] * si[1] * si[2]
            out.append((f"L{i}.{l.kind}.bwd", _elem(n, p)))
        if i == first:
            break
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

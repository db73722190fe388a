"""Gradient accumulation and the SGD step w <- w - lr*g; twin of rtl/weight_update.v.

Codes: w (weight fmt, Fw), g (grad fmt, Fg), lr (lr fmt, Flr). With s = Flr + Fg - Fw:
    accumulate: G = fit(G + g, grad fmt, saturate)          (mini-batch: gradients are summed)
    update:     w' = requantize((w << s) - lr * G, s, weight fmt, round_update, overflow, lfsr)
Stochastic rounding consumes one LFSR state per element, in the update order of fixed_model.
"""
from __future__ import annotations

import numpy as np

from .lfsr import Lfsr
from .requantize import fit, requantize
from .spec import Formats


def shift(f: Formats) -> int:
    s = f.lr.frac + f.grad.frac - f.weight.frac
    if s < 0:
        raise ValueError(f"lr.frac + grad.frac must be >= weight.frac, got shift {s}")
    return s


def accumulate(acc, g, f: Formats):
    """-> (G, flag)"""
    return fit(np.asarray(acc, dtype=np.int64) + np.asarray(g, dtype=np.int64), f.grad, "saturate")


def update(w, g, lr_code: int, f: Formats, lfsr: Lfsr | None):
    """-> (w', flag)"""
    s = shift(f)
    w = np.asarray(w, dtype=np.int64)
    return requantize((w << s) - lr_code * np.asarray(g, dtype=np.int64), s, f.weight,
                      f.round_update, f.overflow, lfsr)

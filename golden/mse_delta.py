"""Squared-error head: e = O - y, its loss and delta; twin of rtl/mse_delta.v.

O are sigmoid outputs (act codes, Fa fractional bits, 0 <= O <= 2^Fa), y one-hot (2^Fa at the label).
    e_k     = O_k - y_k                         (exact, |e| <= 2^Fa)
    loss    = (sum_k e_k^2) >> 1                (E = sum (y - O)^2 / 2, 2*Fa fractional bits, exact)
    delta_k = requantize(e_k * O_k (2^Fa - O_k) ... ) is done by sigmoid.back(e, O) in the head.
"""
import numpy as np


def error(o, label: int, fa: int) -> np.ndarray:
    o = np.asarray(o, dtype=np.int64)
    y = np.zeros_like(o)
    y[label] = 1 << fa
    return o - y


def loss(o, label: int, fa: int) -> int:
    e = error(o, label, fa)
    return int((e * e).sum()) >> 1

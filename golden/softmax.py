"""Softmax by exp tables and exact division, the cross-entropy delta p - y and the loss; twin of
rtl/softmax.v.

For logits z (act codes, Fa fractional bits) and the true class y:
    m   = max_k z_k ;  d_k = m - z_k >= 0
    n_k = d_k >> Fa ;  f_k = d_k & (2^Fa - 1)
    e_k = 0                                              if n_k >= 16
          (EXP_INT[n_k] * EXP_FRAC[f_k] + 2^15) >> 16     otherwise         (Q1.16, max 2^16)
        EXP_INT[n]  = round_half_even(exp(-n) * 2^16),       n = 0..15     (17-bit unsigned)
        EXP_FRAC[f] = round_half_even(exp(-f / 2^Fa) * 2^16), f = 0..2^Fa-1 (17-bit unsigned)
    S   = sum_k e_k                                     (>= 2^16: the max logit has e = 2^16)
    p_k = floor(e_k * 2^16 / S)                         (Q0.16, exact integer division)
    delta_k = requantize(p_k - 2^16 * [k == y], 16 - Fd, delta fmt, round_bwd)
Loss (reported, not used for training), Q16.16 in 32 bits:
    lnS = (b - 16) * LN2 + LN_MANT[(S >> (b - 8)) & 255],  b = bitlength(S) - 1
        LN2 = round(ln 2 * 2^16) = 45426, LN_MANT[i] = round_half_even(ln(1 + i/256) * 2^16)
    loss = lnS + (d_y << (16 - Fa))                     (= -ln p_y, up to table error)
"""
from __future__ import annotations

import numpy as np

from .requantize import requantize
from .spec import SOFTMAX_MAX_ACT_FRAC, Fmt

EXP_INT_N = 16
P_FRAC = 16
LN2_Q16 = int(round(np.log(2.0) * 65536))


def exp_int_table() -> np.ndarray:
    return np.rint(np.exp(-np.arange(EXP_INT_N, dtype=np.float64)) * 65536).astype(np.int64)


def exp_frac_table(fa: int) -> np.ndarray:
    return np.rint(np.exp(-np.arange(1 << fa, dtype=np.float64) / (1 << fa)) * 65536).astype(np.int64)


def ln_mant_table() -> np.ndarray:
    return np.rint(np.log1p(np.arange(256, dtype=np.float64) / 256) * 65536).astype(np.int64)


def _check_act(act: Fmt):
    if act.frac > SOFTMAX_MAX_ACT_FRAC:
        raise ValueError(f"softmax: act.frac={act.frac} ({act}) exceeds {SOFTMAX_MAX_ACT_FRAC} "
                         "(the loss aligns d_y to Q16.16 by a left shift)")


def exps(z, act: Fmt) -> np.ndarray:
    _check_act(act)
    z = np.asarray(z, dtype=np.int64)
    d = z.max() - z
    n = d >> act.frac
    f = d & ((1 << act.frac) - 1)
    ei, ef = exp_int_table(), exp_frac_table(act.frac)
    e = (ei[np.minimum(n, EXP_INT_N - 1)] * ef[f] + (1 << 15)) >> 16
    return np.where(n >= EXP_INT_N, 0, e)


def probs(z, act: Fmt) -> np.ndarray:
    e = exps(z, act)
    s = int(e.sum())
    return (e << P_FRAC) // s


def delta(z, label: int, act: Fmt, delta_fmt: Fmt, rounding: str):
    """-> (delta codes, flag). Always saturates, like rtl/softmax.v (spec.validate rejects
    overflow='wrap' with this head)."""
    p = probs(z, act)
    y = np.zeros_like(p)
    y[label] = 1 << P_FRAC
    return requantize(p - y, P_FRAC - delta_fmt.frac, delta_fmt, rounding, "saturate")


def loss(z, label: int, act: Fmt) -> int:
    _check_act(act)
    z = np.asarray(z, dtype=np.int64)
    s = int(exps(z, act).sum())
    b = s.bit_length() - 1
    lns = (b - 16) * LN2_Q16 + int(ln_mant_table()[(s >> (b - 8)) & 255])
    d_y = int(z.max() - z[label])
    return lns + (d_y << (16 - act.frac))

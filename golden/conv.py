"""Convolution sums (valid, stride 1) shared by the float reference and the fixed model.

The functions return exact sums in the dtype of their inputs (float64 or int64); scaling, bias and
narrowing are applied by the caller. They are the twins of the conv engine's three MAC loops:

    fwd:  Z[f, i, j]    = sum_{c,u,v} X[c, i+u, j+v] * K[f, c, u, v]
    dk:   dK[f, c, u, v] = sum_{i,j} D[f, i, j] * X[c, i+u, j+v]
    dx:   dX[c, p, q]    = sum_{f,u,v} D[f, p-u, q-v] * K[f, c, u, v]   (full conv, flipped kernel)
"""
from __future__ import annotations

import numpy as np


def _patches(x: np.ndarray, k: int) -> np.ndarray:
    """(C, H, W) -> (Ho*Wo, C*k*k) patch matrix, rows in raster order of the output."""
    c, h, w = x.shape
    ho, wo = h - k + 1, w - k + 1
    s = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))  # (C, Ho, Wo, k, k)
    return s.transpose(1, 2, 0, 3, 4).reshape(ho * wo, c * k * k)


def fwd(x: np.ndarray, kern: np.ndarray) -> np.ndarray:
    f, c, k, _ = kern.shape
    ho, wo = x.shape[1] - k + 1, x.shape[2] - k + 1
    return (_patches(x, k) @ kern.reshape(f, -1).T).T.reshape(f, ho, wo)


def dk(x: np.ndarray, delta: np.ndarray, k: int) -> np.ndarray:
    f = delta.shape[0]
    c = x.shape[0]
    return (delta.reshape(f, -1) @ _patches(x, k)).reshape(f, c, k, k)


def dx(delta: np.ndarray, kern: np.ndarray) -> np.ndarray:
    f, c, k, _ = kern.shape
    pad = np.pad(delta, ((0, 0), (k - 1, k - 1), (k - 1, k - 1)))
    flipped = kern[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, k, k)
    return fwd(pad, flipped)

"""ReLU and its derivative mask; twin of rtl/relu.v.

    relu(z)  = z if z > 0 else 0            (codes, no narrowing)
    mask(z)  = 1 if z > 0 else 0            (ReLU'(0) = 0)
    back(d, z) = d if z > 0 else 0
"""
import numpy as np


def relu(z):
    z = np.asarray(z)
    return np.where(z > 0, z, 0).astype(z.dtype)


def mask(z):
    return (np.asarray(z) > 0).astype(np.int64)


def back(delta, z):
    delta = np.asarray(delta)
    return np.where(np.asarray(z) > 0, delta, 0).astype(delta.dtype)

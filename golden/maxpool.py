"""2x2 stride-2 max-pool with the winning index kept; twin of rtl/maxpool.v.

Window positions are numbered in raster order: 0=(0,0) 1=(0,1) 2=(1,0) 3=(1,1). Tie rule: the first
maximum in that order wins (a later element must be strictly greater to take over). The backward
router sends each delta to the winning position and zero to the other three.
"""
import numpy as np


def _windows(x):
    c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"maxpool 2x2 needs even H and W, got {x.shape}")
    return x.reshape(c, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 2, 4).reshape(c, h // 2, w // 2, 4)


def fwd(x):
    """-> (pooled, argmax) with argmax in 0..3."""
    win = _windows(np.asarray(x))
    idx = np.argmax(win, axis=-1)  # numpy argmax returns the first maximum: the tie rule
    return np.take_along_axis(win, idx[..., None], axis=-1)[..., 0], idx.astype(np.int64)


def back(delta, idx):
    delta = np.asarray(delta)
    c, ho, wo = delta.shape
    out = np.zeros((c, ho, wo, 4), dtype=delta.dtype)
    np.put_along_axis(out, idx[..., None], delta[..., None], axis=-1)
    return out.reshape(c, ho, wo, 2, 2).transpose(0, 1, 3, 2, 4).reshape(c, 2 * ho, 2 * wo)

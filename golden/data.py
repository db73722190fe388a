"""Datasets: scikit-learn's bundled digits (the embedded default) and MNIST IDX files.

digits (sklearn.datasets.load_digits, 1797 images of 8x8, values 0..16, shipped inside scikit-learn):
  * pixel values are scaled to [0, 1] (v / 16);
  * fixed split, independent of library versions: sample i goes to the test set when i % 5 == 0
    (360 test, 1437 train), to the training set otherwise;
  * for 28x28 networks each 8x8 image is upsampled 3x by pixel replication (24x24) and zero-padded by 2
    pixels on every side (28x28), so the digit sits in a 24x24 box centred like MNIST's 20x20 box.
MNIST: a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
t10k-labels-idx1-ubyte, each raw or gzipped (.gz); pixel values / 255. Only 28x28 networks accept it.
Every bad or missing file raises DataError naming the file and the problem.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


class DataError(ValueError):
    pass


def _digits_raw():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float64) / 16.0, d.target.astype(np.int64)


def upsample_digits(img8: np.ndarray) -> np.ndarray:
    """(..., 8, 8) -> (..., 28, 28): 3x pixel replication, 2-pixel zero border."""
    up = np.repeat(np.repeat(img8, 3, axis=-2), 3, axis=-1)
    pad = [(0, 0)] * (up.ndim - 2) + [(2, 2), (2, 2)]
    return np.pad(up, pad)


def digits(size: int = 8):
    """-> (x_train, y_train, x_test, y_test), x shaped (N, 1, size, size) in [0, 1]."""
    if size not in (8, 28):
        raise DataError(f"digits can be served at 8x8 or 28x28, not {size}x{size}")
    x, y = _digits_raw()
    if size == 28:
        x = upsample_digits(x)
    x = x[:, None]
    test = np.arange(len(y)) % 5 == 0
    return x[~test], y[~test], x[test], y[test]


IDX_FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}


def _find(directory: Path, stem: str) -> Path:
    for cand in (directory / stem, directory / f"{stem}.gz"):
        if cand.is_file():
            return cand
    raise DataError(f"MNIST: {stem}[.gz] not found in {directory}")


def read_idx(path) -> np.ndarray:
    """Read one IDX file (raw or gzip) of unsigned bytes."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e})") from e
    if len(raw) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise DataError(f"{path}: bad IDX magic {raw[:4].hex()} (expected 0000 08 nn, unsigned bytes)")
    if not (1 <= ndim <= 4) or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: bad IDX header ({ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    n = int(np.prod(dims))
    body = raw[4 + 4 * ndim:]
    if len(body) != n:
        raise DataError(f"{path}: header says {dims} = {n} bytes of data, file holds {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def mnist(directory):
    """-> (x_train, y_train, x_test, y_test), x shaped (N, 1, 28, 28) in [0, 1]."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"MNIST directory {d} does not exist")
    arr = {k: read_idx(_find(d, v)) for k, v in IDX_FILES.items()}
    for split in ("train", "test"):
        im, lb = arr[f"{split}_images"], arr[f"{split}_labels"]
        if im.ndim != 3 or im.shape[1:] != (28, 28):
            raise DataError(f"MNIST {split} images must be N x 28 x 28, got {im.shape}")
        if lb.ndim != 1 or lb.shape[0] != im.shape[0]:
            raise DataError(f"MNIST {split}: {im.shape[0]} images but labels shaped {lb.shape}")
        if lb.max(initial=0) > 9:
            raise DataError(f"MNIST {split} labels must be 0..9, found {lb.max()}")
    f = lambda a: a.astype(np.float64)[:, None] / 255.0  # noqa: E731
    return (f(arr["train_images"]), arr["train_labels"].astype(np.int64),
            f(arr["test_images"]), arr["test_labels"].astype(np.int64))


def load_for(net, mnist_dir=None):
    """The dataset for a net: MNIST when a directory is given, else digits at the net's input size."""
    c, h, w = net.input_shape
    if mnist_dir:
        if (c, h, w) != (1, 28, 28):
            raise DataError(f"net {net.name} takes {c}x{h}x{w}; MNIST needs a 1x28x28 net")
        return mnist(mnist_dir)
    if c != 1 or h != w:
        raise DataError(f"net {net.name} takes {c}x{h}x{w}; digits are 1-channel square images")
    return digits(h)

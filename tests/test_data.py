"""Datasets: the digits split and mapping, the MNIST IDX loader and its errors."""
import gzip
import struct

import numpy as np
import pytest

from golden.data import DataError, digits, load_for, mnist, read_idx, upsample_digits
from golden.spec import get_net


def test_digits_split_is_fixed():
    xtr, ytr, xte, yte = digits(8)
    assert xtr.shape == (1437, 1, 8, 8) and xte.shape == (360, 1, 8, 8)
    assert xtr.min() >= 0 and xtr.max() <= 1
    assert sorted(set(yte.tolist())) == list(range(10))
    x2 = digits(8)
    assert np.array_equal(x2[0], xtr) and np.array_equal(x2[3], yte)


def test_digits_28_mapping():
    xtr, _, xte, _ = digits(28)
    assert xtr.shape == (1437, 1, 28, 28)
    img8 = digits(8)[0][0, 0]
    big = xtr[0, 0]
    assert np.array_equal(big[2:26, 2:26][::3, ::3], img8)
    assert big[:2].sum() == 0 and big[:, 26:].sum() == 0
    assert upsample_digits(np.ones((8, 8))).sum() == 24 * 24


def _idx(arr, dtype_code=0x08):
    arr = np.asarray(arr, dtype=np.uint8)
    hdr = struct.pack(">HBB", 0, dtype_code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return hdr + arr.tobytes()


def _write_mnist(d, n_train=5, n_test=3, gz=False):
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte": _idx(rng.integers(0, 256, (n_train, 28, 28))),
        "train-labels-idx1-ubyte": _idx(rng.integers(0, 10, n_train)),
        "t10k-images-idx3-ubyte": _idx(rng.integers(0, 256, (n_test, 28, 28))),
        "t10k-labels-idx1-ubyte": _idx(rng.integers(0, 10, n_test)),
    }
    for name, data in files.items():
        if gz:
            (d / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (d / name).write_bytes(data)
    return files


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_roundtrip(tmp_path, gz):
    files = _write_mnist(tmp_path, gz=gz)
    xtr, ytr, xte, yte = mnist(tmp_path)
    assert xtr.shape == (5, 1, 28, 28) and xte.shape == (3, 1, 28, 28)
    raw = np.frombuffer(files["train-images-idx3-ubyte"][16:], dtype=np.uint8).reshape(5, 28, 28)
    assert np.allclose(xtr[:, 0] * 255, raw)
    assert ytr.tolist() == list(files["train-labels-idx1-ubyte"][8:])
    assert load_for(get_net("A"), tmp_path)[0].shape == (5, 1, 28, 28)


def test_mnist_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        mnist(tmp_path / "nope")
    with pytest.raises(DataError, match="not found"):
        mnist(tmp_path)
    _write_mnist(tmp_path)
    p = tmp_path / "t10k-labels-idx1-ubyte"
    p.write_bytes(b"\x00\x00\x09\x01" + p.read_bytes()[4:])
    with pytest.raises(DataError, match="bad IDX magic"):
        mnist(tmp_path)
    p.write_bytes(_idx(np.zeros(3))[:-1])
    with pytest.raises(DataError, match="file holds"):
        read_idx(p)
    p.write_bytes(_idx(np.zeros(4)))
    with pytest.raises(DataError, match="labels shaped"):
        mnist(tmp_path)
    p.write_bytes(b"\x00")
    with pytest.raises(DataError, match="too short"):
        read_idx(p)
    with pytest.raises(DataError, match="MNIST needs a 1x28x28 net"):
        load_for(get_net("A8"), tmp_path)

"""The narrowing function against fxpmath, at ties, and the stochastic mode's bias and replay."""
import numpy as np
import pytest
from fxpmath import Fxp

from golden.lfsr import TAPS, Lfsr, step
from golden.requantize import fit, requantize, round_shift
from golden.spec import Fmt

FMTS = [Fmt(16, 8), Fmt(16, 12), Fmt(24, 16), Fmt(8, 0)]
SHIFTS = [1, 4, 12, 20]


def _vectors(fmt, shift, rng):
    """Random codes plus exact +-0.5 LSB ties, ties around 0, +-max and out-of-range values."""
    span = 1 << (fmt.width + shift + 1)
    x = rng.integers(-span, span, size=3000)
    k = rng.integers(fmt.min_code - 4, fmt.max_code + 4, size=400)
    half = 1 << (shift - 1)
    ties = np.concatenate([(k << shift) + half, (k << shift) - half, [half, -half, 3 * half, -3 * half]])
    edges = np.array([fmt.max_code, fmt.min_code, fmt.max_code + 1, fmt.min_code - 1]) << shift
    return np.concatenate([x, ties, edges, edges + half, edges - half]).astype(np.int64)


FXP_MODE = {"truncate": "floor", "half_even": "around"}


@pytest.mark.parametrize("fmt", FMTS, ids=str)
@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("rounding", ["truncate", "half_up", "half_even"])
@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
def test_against_fxpmath(fmt, shift, rounding, overflow):
    rng = np.random.default_rng(1234 + shift)
    x = _vectors(fmt, shift, rng)
    got, flag = requantize(x, shift, fmt, rounding, overflow)
    v = x.astype(np.float64) / 2.0 ** (fmt.frac + shift)
    if rounding == "half_up":  # fxpmath has no half-up mode: floor(v + 1/2 LSB), exact in float64
        v = v + 0.5 * 2.0 ** -fmt.frac
        mode = "floor"
    else:
        mode = FXP_MODE[rounding]
    ref = Fxp(v, signed=True, n_word=fmt.width, n_frac=fmt.frac, rounding=mode, overflow=overflow)
    exp = np.asarray(ref.val, dtype=np.int64)
    assert np.array_equal(got, exp), f"{np.count_nonzero(got != exp)} mismatches vs fxpmath"
    assert flag  # the vectors include out-of-range values


def test_ties_explicit():
    f = Fmt(16, 0)
    x = np.array([1, -1, 3, -3, 5, -5])  # +-0.5, +-1.5, +-2.5 with shift 1
    assert requantize(x, 1, f, "truncate")[0].tolist() == [0, -1, 1, -2, 2, -3]
    assert requantize(x, 1, f, "half_up")[0].tolist() == [1, 0, 2, -1, 3, -2]
    assert requantize(x, 1, f, "half_even")[0].tolist() == [0, 0, 2, -2, 2, -2]


def test_left_shift_exact_and_flags():
    f = Fmt(8, 0)
    assert requantize(np.array([3, -3]), -2, f, "half_up")[0].tolist() == [12, -12]
    codes, flag = fit(np.array([127, 128, -128, -129]), f, "saturate")
    assert codes.tolist() == [127, 127, -128, -128] and flag
    codes, flag = fit(np.array([128, -129, 5]), f, "wrap")
    assert codes.tolist() == [-128, 127, 5] and flag
    assert not fit(np.array([127, -128]), f, "saturate")[1]


@pytest.mark.parametrize("frac", [0.1, 0.25, 0.5, 0.75, 0.9])
def test_stochastic_unbiased(frac):
    """Mean of stochastic rounding over 50,000 trials equals the exact value within 3% of the LSB part."""
    shift, n = 12, 50_000
    base = 37 << shift
    x = np.full(n, base + int(frac * (1 << shift)), dtype=np.int64)
    lf = Lfsr(0xACE12468)
    got = round_shift(x, shift, "stochastic", lf)
    ups = got.mean() - 37
    exact = int(frac * (1 << shift)) / (1 << shift)
    assert abs(ups - exact) <= 0.03 * exact, f"mean round-up {ups:.4f} vs {exact:.4f}"
    assert set(np.unique(got)) <= {37, 38}


def test_stochastic_negative_unbiased():
    shift, n = 8, 50_000
    x = np.full(n, -(5 << shift) - 77, dtype=np.int64)  # -5.30078125 LSB
    got = round_shift(x, shift, "stochastic", Lfsr(99))
    exact = x[0] / (1 << shift)
    assert abs(got.mean() - exact) <= 0.03 * abs(exact - np.floor(exact) - 1)


def test_stochastic_replays_from_seed():
    x = np.random.default_rng(5).integers(-2 ** 30, 2 ** 30, size=20_000)
    f = Fmt(16, 4)
    a = requantize(x, 14, f, "stochastic", lfsr=Lfsr(0x1234567))[0]
    l2 = Lfsr(0x1234567)
    b = np.concatenate([requantize(x[:777], 14, f, "stochastic", lfsr=l2)[0],
                        requantize(x[777:], 14, f, "stochastic", lfsr=l2)[0]])
    assert np.array_equal(a, b)
    assert l2.count == 20_000


def test_lfsr_take_matches_step():
    lf = Lfsr(0xACE12468)
    got = lf.take(10_000)
    s = 0xACE12468
    ref = []
    for _ in range(10_000):
        s = step(s)
        ref.append(s)
    assert got.tolist() == ref
    assert lf.state == ref[-1]


def _matmul_gf2(a, b):
    """Matrices as lists of 32 column ints: (a*b) e_j = a(b e_j)."""
    def apply(m, v):
        r = 0
        j = 0
        while v:
            if v & 1:
                r ^= m[j]
            v >>= 1
            j += 1
        return r
    return [apply(a, c) for c in b]


def _matpow(m, e):
    r = [1 << j for j in range(32)]
    while e:
        if e & 1:
            r = _matmul_gf2(r, m)
        m = _matmul_gf2(m, m)
        e >>= 1
    return r


def test_lfsr_is_maximal_length():
    """Period 2^32-1: A^(2^32-1) = I and A^((2^32-1)/p) != I for every prime factor p."""
    a = [step(1 << j) for j in range(32)]
    ident = [1 << j for j in range(32)]
    n = 2 ** 32 - 1
    assert _matpow(a, n) == ident
    for p in (3, 5, 17, 257, 65537):
        assert _matpow(a, n // p) != ident
    assert TAPS == 0x80200003


def test_bad_modes_raise():
    with pytest.raises(ValueError, match="rounding mode"):
        requantize(np.array([1]), 2, Fmt(8, 0), "nearest")
    with pytest.raises(ValueError, match="overflow mode"):
        requantize(np.array([1]), 2, Fmt(8, 0), "half_up", "clip")
    with pytest.raises(ValueError, match="needs an Lfsr"):
        requantize(np.array([1]), 2, Fmt(8, 0), "stochastic")
    with pytest.raises(ValueError, match="non-zero"):
        Lfsr(0)

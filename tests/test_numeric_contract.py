"""Contract gaps of issue 8: float-to-code conversion at the extremes, exact left-shift narrowing and
its flag, the softmax head's limits in validation, the longest-sum table of docs/numerics.md
recomputed from golden/spec.py, and the step-to-step rules (pre-update weights for dX, LFSR carried
over between steps)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from golden import softmax
from golden.fixed_model import FixedNet
from golden.lfsr import Lfsr
from golden.mac_array import check_fits, dot
from golden.requantize import fit, requantize, round_shift, to_codes
from golden.spec import NETS, Fmt, get_net, validate
from golden.trainer import initial_params

NUMERICS = Path(__file__).resolve().parents[1] / "docs" / "numerics.md"
PHASE_WORDS = {"fwd": "forward", "dk": "dK", "db": "db", "dx": "dX", "dw": "dW"}


# ---------------------------------------------------------------- to_codes at the extremes
@pytest.mark.parametrize("fmt", [Fmt(16, 8), Fmt(16, 16), Fmt(24, 16), Fmt(8, 0)], ids=str)
def test_to_codes_saturates_infinities_and_large_values(fmt):
    v = np.array([np.inf, 1e30, 2.0 ** 70, 1e300, 2.0 ** 15, -np.inf, -1e30, -2.0 ** 70, -1e300])
    got = to_codes(v, fmt)
    hi, lo = fmt.max_code, fmt.min_code
    assert got.tolist() == [hi] * 5 + [lo] * 4
    edge = np.array([hi, lo, hi + 0.49, lo - 0.5]) * fmt.lsb   # in range, or rounding back into it
    assert to_codes(edge, fmt).tolist() == [hi, lo, hi, lo]


def test_to_codes_nan_raises():
    with pytest.raises(ValueError, match="NaN"):
        to_codes(np.array([0.5, np.nan]), Fmt(16, 8))
    with pytest.raises(ValueError, match="NaN"):
        to_codes(float("nan"), Fmt(16, 16))


def test_to_codes_wrap_keeps_low_bits_exactly():
    for f, v in ((Fmt(8, 0), [127, 128, 300, -129, -300.0]),
                 (Fmt(48, 0), [2.0 ** 70 + 3 * 2.0 ** 18, -(2.0 ** 60) - 5 * 2.0 ** 8, 2.0 ** 47])):
        exp = [((int(x) - f.min_code) % (1 << f.width)) + f.min_code for x in v]
        assert to_codes(np.array(v), f, overflow="wrap").tolist() == exp
    with pytest.raises(ValueError, match="infinite"):
        to_codes(np.array([np.inf]), Fmt(8, 0), overflow="wrap")


# ---------------------------------------------------------------- left-shift narrowing
def _exact_left(x: int, n: int, fmt: Fmt, overflow: str):
    v = x << n                       # Python int: no width limit
    flag = not (fmt.min_code <= v <= fmt.max_code)
    if overflow == "saturate":
        return min(max(v, fmt.min_code), fmt.max_code), flag
    return ((v - fmt.min_code) % (1 << fmt.width)) + fmt.min_code, flag


@pytest.mark.parametrize("fmt", [Fmt(16, 8), Fmt(24, 16), Fmt(8, 0), Fmt(48, 20)], ids=str)
@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
def test_left_shift_exact_value_and_flag(fmt, overflow):
    """requantize with shift < 0 saturates / wraps the exact x * 2^-shift and flags it, per element."""
    rng = np.random.default_rng(fmt.width)
    cases = [(1 << 40, -30), (1, -63), (-1, -63), (1, -64), (3, -62), (-(1 << 47), -17), (5, -70),
             ((1 << 62) - 1, -2), (fmt.max_code, -1), (fmt.min_code >> 1, -1), (0, -100)]
    for _ in range(300):
        n = int(rng.integers(1, 72))
        cases.append((int(rng.integers(-(1 << 62), 1 << 62) >> int(rng.integers(0, 62))), -n))
    for x, s in cases:
        exp = _exact_left(x, -s, fmt, overflow)
        for rounding in ("truncate", "half_up", "stochastic"):   # rounding is moot for a left shift
            codes, flag = requantize(np.array([x]), s, fmt, rounding, overflow)
            assert (int(codes[0]), flag) == exp, (x, s, rounding)


def test_left_shift_in_range_unchanged():
    """Values that fit keep the plain shift, arrays and flags as before (db at defaults: shift -4)."""
    f = Fmt(24, 16)
    x = np.arange(-(1 << 19), 1 << 19, 37)
    for overflow in ("saturate", "wrap"):
        codes, flag = requantize(x, -4, f, "half_up", overflow)
        assert np.array_equal(codes, x << 4) and not flag
    x = np.array([[1 << 19, 3], [-(1 << 19) - 1, 0]])
    codes, flag = requantize(x, -4, f, "half_up", "wrap")
    assert flag and codes.tolist() == [[_exact_left(int(v), 4, f, "wrap")[0] for v in row] for row in x]


def test_round_shift_left_never_loses_bits():
    assert round_shift(np.array([3, -3]), -60, "half_up").tolist() == [3 << 60, -3 << 60]
    assert round_shift(np.array([-1]), -63, "truncate").tolist() == [-(1 << 63)]
    with pytest.raises(OverflowError, match="int64"):
        round_shift(np.array([1 << 40]), -30, "half_up")
    with pytest.raises(OverflowError, match="int64"):
        round_shift(np.array([1]), -63, "half_up")


# ---------------------------------------------------------------- softmax head limits
def test_validate_rejects_act_frac_above_16_for_softmax():
    net = get_net("A8").with_fmt(act=Fmt(24, 17))
    with pytest.raises(ValueError, match="act.frac=17"):
        validate(net)
    validate(get_net("A8").with_fmt(act=Fmt(24, 16)))       # 16 is the limit, still accepted
    with pytest.raises(ValueError, match="act.frac=17"):
        softmax.loss(np.array([0, 1]), 0, Fmt(24, 17))


def test_validate_rejects_wrap_with_softmax_head():
    for name in ("A", "A8", "C8"):
        with pytest.raises(ValueError, match="overflow='wrap'.*softmax_ce"):
            validate(get_net(name).with_fmt(overflow="wrap"))
    validate(get_net("B8").with_fmt(overflow="wrap"))        # the sigmoid_mse nets keep wrap


# ---------------------------------------------------------------- longest sums (docs/numerics.md §3)
def _acc_bits(terms: int) -> int:
    """Signed bits that hold terms * 2^30 (16x16-bit products) plus the aligned bias 2^15 * 2^8."""
    return (terms * (1 << 30) + (1 << 23)).bit_length() + 1


def _longest_sum_table():
    """{net: (row text, terms, bits)} from the table under the '| net | longest sum' header."""
    rows, inside = {}, False
    for line in NUMERICS.read_text().splitlines():
        if line.startswith("| net | longest sum"):
            inside = True
        elif inside and not line.startswith("|"):
            break
        elif inside and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            bits = int(cells[3]) if len(cells) > 3 else None
            rows[cells[0]] = (cells[1], int(cells[2].replace(",", "")), bits)
    return rows


def test_longest_sum_table_matches_spec():
    table = _longest_sum_table()
    assert set(table) == set(NETS), "the table must list every named net"
    for name, (text, terms, bits) in table.items():
        net = get_net(name)
        n, where = net.longest_sum()
        assert terms == n, f"{name}: table says {terms} terms, the spec gives {n}"
        assert bits == _acc_bits(n), f"{name}: {bits} bits, needs {_acc_bits(n)}"
        for i, phase in where:
            assert re.search(rf"L{i} {net.layers[i].kind}\b[^;]*{PHASE_WORDS[phase]}", text), \
                f"{name}: the row should name L{i} {net.layers[i].kind} {PHASE_WORDS[phase]}"


def test_longest_sums_by_hand():
    assert {n: get_net(n).longest_sum()[0] for n in NETS} == {"A": 576, "B": 1152, "A8": 36,
                                                              "B8": 144, "C8": 64}
    assert get_net("C8").mac_sums()[(2, "dx")] == 36 and (0, "dx") not in get_net("C8").mac_sums()


@pytest.mark.parametrize("name", list(NETS))
def test_accumulator_holds_longest_sum(name):
    """The 48-bit accumulator holds the longest sum of every named net at full scale plus the bias."""
    net = get_net(name)
    n, _ = net.longest_sum()
    lo = -(1 << 15)
    worst = dot(np.full(n, lo), np.full(n, lo), net.fmt.acc_width)
    bias = net.fmt.weight.max_code << net.fmt.act.frac
    check_fits(np.array([worst + bias, -worst - bias]), net.fmt.acc_width)
    assert _acc_bits(n) <= net.fmt.acc_width


# ---------------------------------------------------------------- step-to-step rules
def _samples(net, n, seed):
    rng = np.random.default_rng(seed)
    return to_codes(rng.uniform(0, 1, (n,) + net.input_shape), net.fmt.act), rng.integers(0, 10, n)


def test_lfsr_carries_over_between_steps():
    """No reset between steps: step k's update uses the states after the k-1 earlier updates."""
    net = get_net("A8")
    _, codes = initial_params(net, 0)
    n_params = sum(w.size + b.size for w, b in codes.values())
    xs, ys = _samples(net, 3, 5)
    a = FixedNet(net, codes)
    for x, y in zip(xs, ys):
        a.train_step([x], [y])
    assert a.lfsr.count == 3 * n_params
    lf = Lfsr(net.fmt.lfsr_seed)
    lf.take(3 * n_params)
    assert a.lfsr.state == lf.state
    # a model re-created (= LFSR reloaded from the seed) before its third step diverges
    b = FixedNet(net, codes)
    for x, y in zip(xs[:2], ys[:2]):
        b.train_step([x], [y])
    c = FixedNet(net, b.params)
    c.train_step([xs[2]], [ys[2]])
    assert any(not np.array_equal(a.params[i][0], c.params[i][0]) for i in codes)


def test_dx_uses_pre_update_weights():
    """The deltas a step propagates come from the weights before that step's update."""
    net = get_net("A8")
    _, codes = initial_params(net, 0)
    fx = FixedNet(net, codes)
    xs, ys = _samples(net, 1, 6)
    tr = fx.train_step(xs, ys)[0]
    f = net.fmt
    w_old, w_new = codes[5][0], fx.params[5][0]
    assert not np.array_equal(w_old, w_new)
    dv = tr.deltas[5].reshape(-1)
    exp = requantize(w_old.T @ dv, f.weight.frac, f.delta, f.round_bwd, f.overflow)[0]
    assert np.array_equal(tr.deltas[4].reshape(-1), exp)

"""The network spec: the named nets, their shapes and MAC counts, and validation errors."""
import pytest

from golden.spec import RELU, Fmt, Net, conv, dense, get_net, maxpool, validate


def test_named_nets():
    a = get_net("A")
    assert a.shapes() == [(1, 28, 28), (2, 24, 24), (2, 24, 24), (2, 12, 12), (60, 1, 1), (60, 1, 1),
                          (10, 1, 1)]
    assert a.mac_counts() == (46680, 64560)  # issue 4's figures for network A
    assert get_net("B").shapes()[-1] == (10, 1, 1)
    for n in ("A8", "B8"):
        assert get_net(n).input_shape == (1, 8, 8)


@pytest.mark.parametrize("net, msg", [
    (Net("x", (1, 8, 8), (conv(2, 3), RELU), "softmax_ce"), "last layer must be dense"),
    (Net("x", (1, 8, 8), (RELU, dense(3)), "softmax_ce"), "first layer must be conv or dense"),
    (Net("x", (1, 8, 8), (conv(2, 9), dense(3)), "softmax_ce"), "invalid for input"),
    (Net("x", (1, 7, 7), (conv(2, 3), maxpool(2), dense(3)), "softmax_ce"), "even H and W"),
    (Net("x", (1, 8, 8), (conv(2, 3), maxpool(3), dense(3)), "softmax_ce"), "only 2x2"),
    (Net("x", (1, 8, 8), (dense(4), conv(2, 1), dense(3)), "softmax_ce"), "conv after dense"),
    (Net("x", (1, 8, 8), (dense(3),), "hinge"), "head must be one of"),
    (Net("x", (0, 8, 8), (dense(3),), "softmax_ce"), "positive sizes"),
])
def test_bad_specs(net, msg):
    with pytest.raises(ValueError, match=msg):
        validate(net)


def test_bad_formats_and_names():
    with pytest.raises(ValueError, match="unknown net"):
        get_net("C")
    with pytest.raises(ValueError, match="width"):
        Fmt(64, 8)
    with pytest.raises(ValueError, match="round_fwd"):
        validate(get_net("A8").with_fmt(round_fwd="nearest"))
    with pytest.raises(ValueError, match="lr="):
        get_net("A8", lr=2.0)
    with pytest.raises(ValueError, match="batch"):
        get_net("A8", batch=0)

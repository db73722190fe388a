"""golden/compiler.py: descriptor fields decode back to the spec; memory regions are disjoint."""
import numpy as np
import pytest

from golden.compiler import OPS, compile_net
from golden.spec import RELU, Net, conv, dense, get_net
from golden.trainer import initial_params


@pytest.mark.parametrize("name", ["A", "B", "A8", "B8"])
def test_descriptors_decode(name):
    net = get_net(name)
    prog = compile_net(net)
    shapes = net.shapes()
    inv = {v: k for k, v in OPS.items()}
    for i, l in enumerate(net.layers):
        w0, w1, w2, w3 = prog.words[4 * i:4 * i + 4]
        assert inv[w0 & 0xF] == l.kind
        assert (w0 >> 4) & 0xF == l.k
        assert w2 & 0xFFFF == prog.act_addr[i] and w2 >> 16 == prog.act_addr[i + 1]
        if l.kind == "dense":
            assert w0 >> 16 == l.n and w1 >> 16 == int(np.prod(shapes[i]))
        elif l.kind == "conv":
            assert w0 >> 16 == l.n and (w0 >> 8) & 0xFF == shapes[i][0]
            assert (w1 & 0xFF, (w1 >> 8) & 0xFF) == shapes[i][1:]
        if l.kind in ("conv", "dense"):
            assert w3 & 0xFFFF == prog.w_addr[i][0]


@pytest.mark.parametrize("name", ["A", "B", "A8", "B8"])
def test_regions_disjoint_and_roundtrip(name):
    net = get_net(name)
    prog = compile_net(net)
    spans = [(prog.act_addr[i], prog.act_addr[i] + int(np.prod(s))) for i, s in enumerate(net.shapes())]
    spans += [(a, a + int(np.prod(net.shapes()[i + 1]))) for i, a in prog.aux_addr.items()]
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert spans[-1][1] == prog.amem_words
    _, codes = initial_params(net, 0)
    back = prog.params_from_flat(prog.weights_flat(codes))
    for i in codes:
        assert np.array_equal(back[i][0], codes[i][0]) and np.array_equal(back[i][1], codes[i][1])


def test_too_big_rejected():
    big = Net("big", (1, 300, 300), (conv(2, 3), RELU, dense(4)), "softmax_ce")
    with pytest.raises(ValueError, match="8-bit H/W"):
        compile_net(big)

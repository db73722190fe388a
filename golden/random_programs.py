"""Random layer programs for the core's randomized tests: valid networks to train, malformed descriptor
tables to reject. Twin of nothing by itself: validity is golden.spec.validate + golden.compiler +
golden.desc_check (the twin of rtl/cnn_core.v's descriptor validation).

random_valid_net(rng, cfg)  a Net that validates, compiles, passes the core's checks within cfg's
                            maxima and whose training step (batch samples + load + update pass) costs
                            at most `max_cycles` core cycles at cfg.p (golden.cycle_model):
                            input 1..3 x 4..16 x 4..16 (square 60 %), 0..3 convs (k 1..5, 1..8
                            filters), each optionally followed by relu / sigmoid and a 2x2 maxpool
                            (even maps), 0..2 hidden dense layers (2..MAX_OUT, activations optional),
                            a final dense of 2..MAX_CLASSES classes; either head, batch 1..4, lr from LRS;
                            the default formats (the core's are fixed parameters).
random_malformed(rng, cfg)  (words, num_layers, head, expected_code): a random valid net's compiled
                            table (4*MAX_LAYERS words: unused rows zero, garbage or copies), damaged by
                            1..3 mutations of MUTATIONS; expected_code = desc_check.check (0 happens:
                            a mutation of an unused field, an address moved inside its memory, ...).
rng: a random.Random (tbkit.rng gives one) or an int seed; every draw depends on it only.
"""
from __future__ import annotations

import random

from . import cycle_model
from .compiler import OPS, compile_net, layout
from .desc_check import DEFAULT, M16, CoreCfg, check, derive, fields
from .spec import RELU, SIGMOID, Layer, Net, conv, dense, maxpool

LRS = (2.0 ** -3, 2.0 ** -4, 2.0 ** -5, 2.0 ** -6, 2.0 ** -7, 2.0 ** -8, 0.1, 0.05, 0.02, 0.01, 0.003)
MAX_CYCLES = 16000          # one training step at cfg.p, load and batch > 1 update pass included


def as_rng(rng) -> random.Random:
    return rng if isinstance(rng, random.Random) else random.Random(rng)


def step_cycles(net: Net, p: int) -> int:
    """Core cycles of one training step of net.batch samples: per sample the load (C*H*W + 3) and the
    phases of golden.cycle_model, then (batch > 1) the update pass."""
    c, h, w = net.input_shape
    per = c * h * w + 3 + cycle_model.total(net, p, True)
    upd = sum(cy for _, cy in cycle_model.update_phases(net, p)) if net.batch > 1 else 0
    return net.batch * per + upd


# ----------------------------------------------------------------------------- valid nets
def _act(r: random.Random, p_relu: float, p_sig: float):
    x = r.random()
    return [RELU] if x < p_relu else [SIGMOID] if x < p_relu + p_sig else []


def _draw_layers(r: random.Random, cfg: CoreCfg, c: int, h: int, w: int) -> list:
    layers = []
    if r.random() < 0.85:                                    # conv section (else dense first)
        for _ in range(r.choice((1, 1, 1, 2, 2, 3))):
            if min(h, w) < 1:
                break
            k = r.randint(1, min(5, h, w))
            layers.append(conv(r.randint(1, min(8, cfg.max_out)), k))
            h, w = h - k + 1, w - k + 1
            layers += _act(r, 0.45, 0.25)
            if h % 2 == 0 and w % 2 == 0 and r.random() < 0.4:
                layers.append(maxpool(2))
                h, w = h // 2, w // 2
                layers += _act(r, 0.1, 0.05)
    for _ in range(r.choice((0, 0, 1, 1, 2))):               # hidden dense layers
        top = cfg.max_out if r.random() < 0.3 else min(16, cfg.max_out)
        layers.append(dense(r.randint(2, top)))
        layers += _act(r, 0.5, 0.3)
    layers.append(dense(r.randint(2, cfg.max_classes)))
    return layers


def fits(net: Net, cfg: CoreCfg = DEFAULT, max_cycles: int = MAX_CYCLES) -> bool:
    """The net validates, compiles, passes the core's checks and trains a step within max_cycles."""
    try:
        prog = compile_net(net)
    except ValueError:
        return False
    n = len(net.layers)
    return (n <= cfg.max_layers and check(prog.words, n, prog.head, cfg) == 0
            and step_cycles(net, cfg.p) <= max_cycles)


def random_valid_net(rng, cfg: CoreCfg = DEFAULT, name: str = "rand", max_cycles: int = MAX_CYCLES) -> Net:
    """A random net the core accepts (see the module docstring); redraws until one fits."""
    r = as_rng(rng)
    for _ in range(10000):
        c, h = r.randint(1, 3), r.randint(4, 16)
        w = h if r.random() < 0.6 else r.randint(4, 16)
        layers = _draw_layers(r, cfg, c, h, w)
        net = Net(name, (c, h, w), tuple(layers), r.choice(("softmax_ce", "sigmoid_mse")),
                  lr=r.choice(LRS), batch=r.randint(1, 4))
        if fits(net, cfg, max_cycles):
            return net
    raise RuntimeError(f"no random net fits {cfg} within {max_cycles} cycles")


# ----------------------------------------------------------------------------- malformed tables
# field name -> (word of the row, lsb, width), as golden.desc_check.fields slices them
FIELDS = {"op": (0, 0, 4), "k": (0, 4, 4), "c": (0, 8, 8), "n": (0, 16, 16), "h": (1, 0, 8),
          "w": (1, 8, 8), "m": (1, 16, 16), "in": (2, 0, 16), "out": (2, 16, 16), "wa": (3, 0, 16),
          "aux": (3, 16, 16)}
SIZE_FIELDS = ("k", "c", "n", "h", "w", "m")
UNUSED = {1: ("m",), 2: ("k", "c", "h", "w", "aux"), 3: ("k", "n", "m", "wa", "aux"),
          4: ("k", "n", "m", "wa", "aux"), 5: ("k", "n", "m", "wa")}     # fields an op ignores


def get_field(words, row: int, name: str) -> int:
    wi, lsb, width = FIELDS[name]
    return (words[4 * row + wi] >> lsb) & ((1 << width) - 1)


def set_field(words, row: int, name: str, value: int):
    wi, lsb, width = FIELDS[name]
    m = ((1 << width) - 1) << lsb
    words[4 * row + wi] = (words[4 * row + wi] & ~m) | ((value << lsb) & m)


class Ctx:
    """What a mutation may look at: the table (mutable), NUM_LAYERS, the config and the source net."""

    def __init__(self, words, nl: int, cfg: CoreCfg, net: Net):
        self.words, self.nl, self.cfg, self.net = words, nl, cfg, net

    def row(self, r: random.Random) -> int:
        """A row that is validated (mostly) or any row of the table."""
        if self.nl and r.random() < 0.9:
            return r.randrange(self.nl)
        return r.randrange(self.cfg.max_layers)

    def rows_of(self, *ops) -> list:
        return [i for i in range(self.nl) if get_field(self.words, i, "op") in ops]


def _value(r: random.Random, old: int, width: int) -> int:
    x = r.random()
    if x < 0.3:
        return r.getrandbits(width)
    if x < 0.45:
        return 0
    if x < 0.7:
        return (old + r.choice((-2, -1, 1, 2))) % (1 << width)
    if x < 0.9:
        return r.randint(1, min(16, (1 << width) - 1))
    return (1 << width) - 1


def used(words, row: int, names=tuple(FIELDS)) -> list:
    """The names that the row's op looks at (all of them for an unknown op)."""
    skip = UNUSED.get(get_field(words, row, "op"), ())
    return [n for n in names if n not in skip] or list(names)


def m_field(r, ctx):
    """One field of one row (mostly one its op uses) set to a random value (random bits, 0, old +-1/2,
    small, all ones)."""
    row = ctx.row(r)
    name = r.choice(used(ctx.words, row) if r.random() < 0.85 else list(FIELDS))
    set_field(ctx.words, row, name, _value(r, get_field(ctx.words, row, name), FIELDS[name][2]))


def m_word(r, ctx):
    """A whole word of a row replaced by 32 random bits."""
    ctx.words[4 * ctx.row(r) + r.randrange(4)] = r.getrandbits(32)


def m_op(r, ctx):
    """A wrong op code: an unknown one (0, 6..15) or another known one."""
    set_field(ctx.words, ctx.row(r), "op", r.choice((0, 6, 7, 8, 9, 12, 15, 1, 2, 3, 4, 5)))


def m_zero(r, ctx):
    """A size field (k, c, n, h, w, m) the row's op uses set to 0."""
    row = ctx.row(r)
    set_field(ctx.words, row, r.choice(used(ctx.words, row, SIZE_FIELDS)), 0)


def m_odd_pool(r, ctx):
    """A max-pool map made odd (h or w +-1), or a 1-wide map."""
    rows = ctx.rows_of(OPS["maxpool"])
    if not rows:
        return m_field(r, ctx)
    row, name = r.choice(rows), r.choice(("h", "w"))
    v = get_field(ctx.words, row, name)
    set_field(ctx.words, row, name, 1 if r.random() < 0.2 else max(v + r.choice((-1, 1)), 0))


def m_chain(r, ctx):
    """Sizes that do not chain: one size field of a row after the first (or of the row before it) moved
    by a little, or a conv's output shape traded for a same-sized one (which chains: code 0)."""
    if ctx.nl < 2:
        return m_field(r, ctx)
    row = r.randrange(1, ctx.nl)
    if r.random() < 0.1:                            # reshape with the same count (h <-> w swap)
        h, w = get_field(ctx.words, row, "h"), get_field(ctx.words, row, "w")
        set_field(ctx.words, row, "h", w)
        set_field(ctx.words, row, "w", h)
        return
    row -= r.random() < 0.3
    name = r.choice(used(ctx.words, row, SIZE_FIELDS))
    v = get_field(ctx.words, row, name)
    set_field(ctx.words, row, name, max(v + r.choice((-3, -2, -1, 1, 2, 3)), 0))


def _regions(ctx, row: int) -> list:
    """(address field, element count, memory depth) of the row's regions as the core checks them."""
    f = fields(*ctx.words[4 * row:4 * row + 4])
    d, a, wm = derive(f), ctx.cfg.amem_depth, ctx.cfg.wmem_depth
    out = [("in", d.in_cnt, a), ("out", d.out_cnt, a)]
    if f.op in (OPS["conv"], OPS["dense"]):
        out.append(("wa", d.nw + f.n, wm))
    if f.op == OPS["maxpool"]:
        out.append(("aux", d.out_cnt, a))
    if f.op == OPS["conv"] and row:
        out.append(("aux", d.padsz, a))
    return out


def m_addr(r, ctx):
    """A region moved: ending exactly at its memory's depth (valid), 1..3 elements past it, anywhere
    inside, or to a random 16-bit address."""
    row = ctx.row(r)
    name, size, depth = r.choice(_regions(ctx, row))
    x = r.random()
    if x < 0.25:
        v = depth - size
    elif x < 0.65:
        v = depth - size + r.randint(1, 3)
    elif x < 0.75:
        v = r.randint(0, max(depth - size, 0))
    else:
        v = r.getrandbits(16)
    set_field(ctx.words, row, name, min(max(v, 0), M16))


def m_classes(r, ctx):
    """The class count of the last layer: 0, 1, 2, MAX_CLASSES, MAX_CLASSES + 1, up to MAX_OUT + 1, any."""
    c = ctx.cfg
    v = r.choice((0, 1, 1, 2, c.max_classes, c.max_classes + 1, c.max_classes + 1,
                  r.randint(c.max_classes + 1, c.max_out + 1), r.getrandbits(16)))
    set_field(ctx.words, max(ctx.nl - 1, 0), "n", v)


def m_first(r, ctx):
    """Layer 0 made relu / sigmoid / maxpool, or the rows shifted so that layer 1 comes first."""
    if r.random() < 0.6 or ctx.nl < 2:
        set_field(ctx.words, 0, "op", r.choice((3, 4, 5)))
    else:
        del ctx.words[0:4]
        ctx.words += [0, 0, 0, 0]
        ctx.nl -= 1


def m_last(r, ctx):
    """The program ends on a layer that is not dense: NUM_LAYERS cut before a non-dense layer, or the last
    op changed."""
    cut = [i + 1 for i in range(ctx.nl - 1) if get_field(ctx.words, i, "op") != OPS["dense"]]
    if cut and r.random() < 0.7:
        ctx.nl = r.choice(cut)
    else:
        set_field(ctx.words, max(ctx.nl - 1, 0), "op", r.choice((1, 3, 4, 5)))


def m_num_layers(r, ctx):
    """NUM_LAYERS 0, one more or one less than the program, or anything up to MAX_LAYERS."""
    ctx.nl = r.choice((0, ctx.nl - 1, ctx.nl + 1, ctx.nl + 1, r.randint(1, ctx.cfg.max_layers)))
    ctx.nl = min(max(ctx.nl, 0), ctx.cfg.max_layers)


def m_rows(r, ctx):
    """Rows swapped, duplicated, dropped or a random row inserted (the table keeps 4*MAX_LAYERS words)."""
    n, w = ctx.cfg.max_layers, ctx.words
    i, j = r.randrange(max(ctx.nl, 1)), r.randrange(max(ctx.nl, 1))
    rows = [w[4 * k:4 * k + 4] for k in range(n)]
    x = r.random()
    if x < 0.3:
        rows[i], rows[j] = rows[j], rows[i]
    elif x < 0.55:
        rows.insert(i, list(rows[j]))
        ctx.nl = min(ctx.nl + 1, n)
    elif x < 0.8:
        del rows[i]
        rows.append([0, 0, 0, 0])
        ctx.nl = max(ctx.nl - 1, 0)
    else:
        rows.insert(i, [r.getrandbits(32) for _ in range(4)])
        ctx.nl = min(ctx.nl + 1, n)
    ctx.words[:] = [v for row in rows[:n] for v in row]


def m_unused(r, ctx):
    """Garbage where the core does not look: a field the row's op ignores, or a row past NUM_LAYERS."""
    if ctx.nl < ctx.cfg.max_layers and r.random() < 0.4:
        ctx.words[4 * r.randrange(ctx.nl, ctx.cfg.max_layers) + r.randrange(4)] = r.getrandbits(32)
        return
    row = r.randrange(max(ctx.nl, 1))
    names = UNUSED.get(get_field(ctx.words, row, "op"), tuple(FIELDS))
    name = r.choice(names)
    set_field(ctx.words, row, name, r.getrandbits(FIELDS[name][2]))


def relaxed_shapes(input_shape, layers) -> list:
    """Shapes after every layer with no validity rule (k > h gives 0-sized maps, odd maps pool down)."""
    s, out = tuple(input_shape), [tuple(input_shape)]
    for l in layers:
        if l.kind == "conv":
            s = (l.n, max(s[1] - l.k + 1, 0), max(s[2] - l.k + 1, 0))
        elif l.kind == "maxpool":
            s = (s[0], s[1] // 2, s[2] // 2)
        elif l.kind == "dense":
            s = (l.n, 1, 1)
        out.append(s)
    return out


def m_relaxed(r, ctx):
    """A whole new program from an unchecked random layer list (any order: conv after dense, pooling
    of odd maps, activations first, ...), encoded by golden.compiler.layout."""
    kinds = ("conv", "dense", "relu", "sigmoid", "maxpool")
    layers = []
    for _ in range(r.randint(1, min(6, ctx.cfg.max_layers))):
        kind = r.choice(kinds)
        layers.append(Layer(kind, n=r.randint(1, 8) if kind in ("conv", "dense") else 2 * (kind == "maxpool"),
                            k=r.randint(1, 6) if kind == "conv" else 0))
    if r.random() < 0.5:
        layers.append(dense(r.randint(1, ctx.cfg.max_classes + 1)))
    shape = (r.randint(1, 3), r.randint(1, 12), r.randint(1, 12))
    words = layout(relaxed_shapes(shape, layers), layers, "softmax_ce")[0][:4 * ctx.cfg.max_layers]
    ctx.words[:len(words)] = words
    ctx.nl = len(words) // 4


# (mutation, weight)
MUTATIONS = ((m_field, 5), (m_word, 2), (m_op, 2), (m_zero, 2), (m_odd_pool, 1), (m_chain, 3),
             (m_addr, 4), (m_classes, 2), (m_first, 1), (m_last, 1), (m_num_layers, 1), (m_rows, 1),
             (m_unused, 1), (m_relaxed, 1))


def _filler(r: random.Random, words, cfg: CoreCfg) -> list:
    """The table's unused rows: zero (the RAM at power-up), garbage, or rows copied from the program."""
    n = 4 * cfg.max_layers - len(words)
    x = r.random()
    if x < 0.5 or not words:
        return [0] * n
    if x < 0.75:
        return [r.getrandbits(32) for _ in range(n)]
    return [words[r.randrange(len(words))] for _ in range(n)]


def random_malformed(rng, cfg: CoreCfg = DEFAULT, notes: list | None = None):
    """-> (words, num_layers, head, expected_code): 4*MAX_LAYERS table words, NUM_LAYERS (0..MAX_LAYERS),
    HEAD (0/1, random: the core does not check it) and desc_check.check of them. `notes` (a list) gets
    the names of the applied mutations."""
    r = as_rng(rng)
    net = random_valid_net(r, cfg)
    prog = compile_net(net)
    ctx = Ctx(list(prog.words) + _filler(r, prog.words, cfg), len(net.layers), cfg, net)
    muts, weights = zip(*MUTATIONS)
    for m in r.choices(muts, weights, k=r.choice((1, 1, 2, 2, 3))):
        m(r, ctx)
        if notes is not None:
            notes.append(m.__name__)
    head = r.randrange(2)
    return ctx.words, ctx.nl, head, check(ctx.words, ctx.nl, head, cfg)


def code_histogram(seed: int, n: int, cfg: CoreCfg = DEFAULT) -> dict:
    """code -> count over n draws of random_malformed from random.Random(seed)."""
    r, out = random.Random(seed), {}
    for _ in range(n):
        code = random_malformed(r, cfg)[3]
        out[code] = out.get(code, 0) + 1
    return dict(sorted(out.items()))


"""The one network spec used by everything: golden models, scripts and (later) RTL descriptors.

A network is a layer list plus a loss head, an input shape and the number formats:

    layers: conv(filters, k) | relu | sigmoid | maxpool(2) | dense(n)
    head:   softmax_ce (softmax + cross-entropy) | sigmoid_mse (sigmoid + E = sum (y - O)^2 / 2)

`NETS` holds the named specs. `get_net(name)` returns one, `validate(net)` raises ValueError naming the
problem for a malformed spec.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Tuple

ROUNDING_MODES = ("truncate", "half_up", "half_even", "stochastic")
OVERFLOW_MODES = ("saturate", "wrap")
SOFTMAX_MAX_ACT_FRAC = 16   # softmax_ce loss: d_y << (16 - Fa) into Q16.16 (rtl/softmax.v FA <= 16)


@dataclass(frozen=True)
class Fmt:
    """Signed two's-complement fixed-point format: `width` bits, `frac` of them fractional (Qm.f)."""

    width: int
    frac: int

    def __post_init__(self):
        if not (2 <= self.width <= 48):
            raise ValueError(f"Fmt width {self.width} out of range 2..48")
        if not (0 <= self.frac < self.width + 16):
            raise ValueError(f"Fmt frac {self.frac} out of range for width {self.width}")

    @property
    def min_code(self) -> int:
        return -(1 << (self.width - 1))

    @property
    def max_code(self) -> int:
        return (1 << (self.width - 1)) - 1

    @property
    def lsb(self) -> float:
        return 2.0 ** -self.frac

    def __str__(self) -> str:
        return f"Q{self.width - self.frac}.{self.frac}"


@dataclass(frozen=True)
class Formats:
    """One format per tensor class, and the rounding/overflow mode of each narrowing site.

    act     activations and pre-activations (layer outputs, logits, inputs)
    weight  weights and biases
    delta   back-propagated errors dE/dz
    grad    parameter gradients dE/dw and the mini-batch gradient accumulators
    lr      learning rate (unsigned value held in a signed code, must be > 0)
    acc     MAC accumulator width (fractional bits follow from the operands)
    """

    act: Fmt = Fmt(16, 8)
    weight: Fmt = Fmt(16, 12)
    delta: Fmt = Fmt(16, 12)
    grad: Fmt = Fmt(24, 16)
    lr: Fmt = Fmt(16, 16 + 0)
    acc_width: int = 48
    round_fwd: str = "half_up"      # act narrowing after a MAC (forward)
    round_bwd: str = "half_up"      # delta and grad narrowing (backward)
    round_update: str = "stochastic"  # w - lr*g narrowing to the weight format
    overflow: str = "saturate"
    lfsr_seed: int = 0xACE12468

    def as_dict(self) -> dict:
        return {
            "act": str(self.act), "weight": str(self.weight), "delta": str(self.delta),
            "grad": str(self.grad), "lr": str(self.lr), "acc_width": self.acc_width,
            "round_fwd": self.round_fwd, "round_bwd": self.round_bwd,
            "round_update": self.round_update, "overflow": self.overflow,
            "lfsr_seed": f"0x{self.lfsr_seed:08X}",
        }


@dataclass(frozen=True)
class Layer:
    kind: str                 # conv | relu | sigmoid | maxpool | dense
    n: int = 0                # conv: filters; dense: outputs; maxpool: pool size
    k: int = 0                # conv kernel size


def conv(filters: int, k: int) -> Layer:
    return Layer("conv", n=filters, k=k)


def dense(n: int) -> Layer:
    return Layer("dense", n=n)


def maxpool(p: int = 2) -> Layer:
    return Layer("maxpool", n=p)


RELU = Layer("relu")
SIGMOID = Layer("sigmoid")
HEADS = ("softmax_ce", "sigmoid_mse")


@dataclass(frozen=True)
class Net:
    name: str
    input_shape: Tuple[int, int, int]          # (C, H, W)
    layers: Tuple[Layer, ...]
    head: str
    fmt: Formats = field(default_factory=Formats)
    lr: float = 2.0 ** -5                      # default learning rate
    batch: int = 1

    def with_fmt(self, **kw) -> "Net":
        return replace(self, fmt=replace(self.fmt, **kw))

    def shapes(self):
        """Shape after every layer, starting with the input shape (validates as it goes)."""
        return _shapes(self)

    @property
    def n_classes(self) -> int:
        s = self.shapes()[-1]
        return s[0]

    def param_layers(self):
        return [i for i, l in enumerate(self.layers) if l.kind in ("conv", "dense")]

    def param_shapes(self):
        """{layer index: (weight shape, bias shape)} for conv and dense layers."""
        out = {}
        shapes = self.shapes()
        for i, l in enumerate(self.layers):
            s = shapes[i]
            if l.kind == "conv":
                out[i] = ((l.n, s[0], l.k, l.k), (l.n,))
            elif l.kind == "dense":
                out[i] = ((l.n, _numel(s)), (l.n,))
        return out

    def mac_counts(self):
        """MACs of one sample: forward, backward (dW + dX, no dX for the first layer)."""
        shapes = self.shapes()
        fwd = bwd = 0
        first = self.param_layers()[0] if self.param_layers() else -1
        for i, l in enumerate(self.layers):
            if l.kind not in ("conv", "dense"):
                continue
            (wsh, _), out = self.param_shapes()[i], shapes[i + 1]
            if l.kind == "conv":
                m = _numel(out) * wsh[1] * wsh[2] * wsh[3]
            else:
                m = wsh[0] * wsh[1]
            fwd += m
            bwd += m + (m if i != first else 0)
        return fwd, bwd

    def mac_sums(self):
        """Terms of every MAC sum of a train step: {(layer index, phase): terms}.

        conv: fwd C*k*k, dk and db one term per output position, dx F*k*k; dense: fwd one term per
        input, dx one per output, dw and db a single product. No dx for the first parameter layer.
        A forward sum also adds the aligned bias (b << Fa), which is not counted as a term.
        """
        shapes, out = self.shapes(), {}
        first = self.param_layers()[0] if self.param_layers() else -1
        for i, l in enumerate(self.layers):
            si, so = shapes[i], shapes[i + 1]
            if l.kind == "conv":
                out[(i, "fwd")] = si[0] * l.k * l.k
                out[(i, "dk")] = out[(i, "db")] = so[1] * so[2]
                if i != first:
                    out[(i, "dx")] = l.n * l.k * l.k
            elif l.kind == "dense":
                out[(i, "fwd")] = _numel(si)
                out[(i, "dw")] = out[(i, "db")] = 1
                if i != first:
                    out[(i, "dx")] = l.n
        return out

    def longest_sum(self):
        """-> (terms, [(layer index, phase), ...]): the longest MAC sum(s) of a train step."""
        sums = self.mac_sums()
        n = max(sums.values())
        return n, [key for key, v in sums.items() if v == n]

    def describe(self) -> str:
        parts = []
        for l in self.layers:
            parts.append({"conv": f"conv {l.n}@{l.k}x{l.k}", "dense": f"dense {l.n}",
                          "maxpool": f"maxpool {l.n}"}.get(l.kind, l.kind))
        c, h, w = self.input_shape
        return f"{c}x{h}x{w} -> " + " -> ".join(parts) + f" -> {self.head}"


def _numel(s) -> int:
    n = 1
    for d in s:
        n *= d
    return n


def _shapes(net: Net):
    s = tuple(net.input_shape)
    if len(s) != 3 or min(s) < 1:
        raise ValueError(f"net {net.name}: input_shape must be (C, H, W) with positive sizes, got {s}")
    out = [s]
    flat = False
    for i, l in enumerate(net.layers):
        where = f"net {net.name}: layer {i} ({l.kind})"
        if l.kind == "conv":
            if flat:
                raise ValueError(f"{where}: conv after dense is not supported")
            if l.n < 1 or l.k < 1 or l.k > s[1] or l.k > s[2]:
                raise ValueError(f"{where}: filters={l.n} k={l.k} invalid for input {s}")
            s = (l.n, s[1] - l.k + 1, s[2] - l.k + 1)
        elif l.kind == "maxpool":
            if flat:
                raise ValueError(f"{where}: maxpool after dense is not supported")
            if l.n != 2:
                raise ValueError(f"{where}: only 2x2 stride-2 pooling is supported, got {l.n}")
            if s[1] % 2 or s[2] % 2:
                raise ValueError(f"{where}: maxpool 2 needs even H and W, got {s}")
            s = (s[0], s[1] // 2, s[2] // 2)
        elif l.kind == "dense":
            if l.n < 1:
                raise ValueError(f"{where}: dense needs n >= 1, got {l.n}")
            s = (l.n, 1, 1)
            flat = True
        elif l.kind in ("relu", "sigmoid"):
            pass
        else:
            raise ValueError(f"{where}: unknown layer kind {l.kind!r}")
        out.append(s)
    return out


def validate(net: Net) -> Net:
    if net.head not in HEADS:
        raise ValueError(f"net {net.name}: head must be one of {HEADS}, got {net.head!r}")
    if not net.layers or net.layers[-1].kind != "dense":
        raise ValueError(f"net {net.name}: the last layer must be dense (it feeds the loss head)")
    if net.layers[0].kind not in ("conv", "dense"):
        raise ValueError(f"net {net.name}: the first layer must be conv or dense")
    _shapes(net)
    f = net.fmt
    for name in ("round_fwd", "round_bwd", "round_update"):
        if getattr(f, name) not in ROUNDING_MODES:
            raise ValueError(f"net {net.name}: {name}={getattr(f, name)!r} not in {ROUNDING_MODES}")
    if f.overflow not in OVERFLOW_MODES:
        raise ValueError(f"net {net.name}: overflow={f.overflow!r} not in {OVERFLOW_MODES}")
    if net.head == "softmax_ce":
        _validate_softmax(net)
    if not (0 < f.lfsr_seed < 2 ** 32):
        raise ValueError(f"net {net.name}: lfsr_seed must be a non-zero 32-bit value")
    if net.batch < 1:
        raise ValueError(f"net {net.name}: batch must be >= 1, got {net.batch}")
    if not (0 < net.lr < 2.0 ** (f.lr.width - 1 - f.lr.frac)):
        raise ValueError(f"net {net.name}: lr={net.lr} not representable in {f.lr}")
    return net


def _validate_softmax(net: Net):
    """The softmax_ce head's limits (those of rtl/softmax.v)."""
    f = net.fmt
    if f.act.frac > SOFTMAX_MAX_ACT_FRAC:
        raise ValueError(f"net {net.name}: act.frac={f.act.frac} ({f.act}): the softmax_ce head supports "
                         f"at most {SOFTMAX_MAX_ACT_FRAC} act fractional bits")
    if f.overflow == "wrap":
        raise ValueError(f"net {net.name}: overflow='wrap' is not supported with the softmax_ce head "
                         "(its delta narrowing always saturates, as rtl/softmax.v does); use 'saturate'")


# ---------------------------------------------------------------- the named specs
NETS = {
    # Network A (digest section 3)
    "A": Net("A", (1, 28, 28),
             (conv(2, 5), RELU, maxpool(2), dense(60), RELU, dense(10)), "softmax_ce", lr=2.0 ** -7),
    # Network B (digest section 4): conv 2@5x5 -> sigmoid -> dense 10 -> sigmoid -> MSE
    "B": Net("B", (1, 28, 28), (conv(2, 5), SIGMOID, dense(10)), "sigmoid_mse", lr=2.0 ** -3),
    # 8x8 variants for the native digits resolution
    "A8": Net("A8", (1, 8, 8),
              (conv(4, 3), RELU, maxpool(2), dense(32), RELU, dense(10)), "softmax_ce", lr=2.0 ** -6),
    "B8": Net("B8", (1, 8, 8), (conv(4, 3), SIGMOID, dense(10)), "sigmoid_mse", lr=2.0 ** -3),
    # two stacked convolutions: exercises the conv engine's dX (full convolution with the flipped kernel)
    "C8": Net("C8", (1, 8, 8), (conv(4, 3), RELU, conv(4, 3), RELU, dense(10)), "softmax_ce", lr=2.0 ** -6),
}


def get_net(name: str, **overrides) -> Net:
    if name not in NETS:
        raise ValueError(f"unknown net {name!r}; known nets: {', '.join(NETS)}")
    net = NETS[name]
    if overrides:
        net = replace(net, **overrides)
    return validate(net)

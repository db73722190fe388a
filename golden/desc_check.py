"""Descriptor-table validation of the core at a start; twin of rtl/cnn_core.v's controller (S_IDLE,
S_DESC, S_DER, S_CHK and the `chk_code` block).

`check(words, num_layers, head, cfg)` is the error code the core reports in STATUS[15:8] when a step
is started with that table (0: the table passes and the first sample is loaded). The RTL, step by step:

  S_IDLE  NUM_LAYERS = 0 -> code 4 at once (no descriptor is read).
  S_DESC  layer li's four words from table words 4*li .. 4*li + 3 (li = 0, 1, ..., NUM_LAYERS - 1).
  S_DER   derived sizes in registers of the RTL's widths (`derive`; 16-bit ones wrap).
  S_CHK   the layer's code (`layer_code`, priority 1, 2, 4, 3); the first failing layer ends the
          validation with its code, else prev_out_cnt <- out_cnt and the next layer follows. The last
          layer (li = NUM_LAYERS - 1) ends it with 0; rows at and past NUM_LAYERS are never read.

Fields (w0..w3 = the layer's words):
    op = w0[3:0]  k = w0[7:4]  c = w0[15:8]  n = w0[31:16]  h = w1[7:0]  w = w1[15:8]  m = w1[31:16]
    in = w2[15:0]  out = w2[31:16]  wa = w3[15:0]  aux = w3[31:16]
Codes (op 1 conv, 2 dense, 3 relu, 4 sigmoid, 5 maxpool):
  1  op not in 1..5
  2  conv: k = 0, c = 0, n = 0, h < k or w < k; dense: m = 0 or n = 0; relu / sigmoid: c, h or w = 0;
     maxpool: c, h or w = 0, h or w odd; any layer li > 0 whose in_cnt != the previous layer's out_cnt
  4  layer 0 not conv / dense; the last layer not dense
  3  in + in_cnt > AMEM_DEPTH; out + out_cnt > AMEM_DEPTH; conv / dense: n > MAX_OUT or
     wa + nw + n > WMEM_DEPTH; maxpool: aux + out_cnt > AMEM_DEPTH; conv with li > 0:
     aux + padsz > AMEM_DEPTH; last layer: n > MAX_CLASSES or n < 2; layer 0: in_cnt > 0xFFFF
Only sizes chain (counts, not addresses or shapes); HEAD, BATCH, LR and SEED are not looked at, and
fields an op does not use (conv m, dense k/c/h/w/aux, relu / sigmoid k/n/wa/aux, maxpool k/n/wa) are
ignored. Errors 5 / 6 (stream framing, label) come later, at a sample, and are not modelled here.

NUM_LAYERS > MAX_LAYERS cannot reach the core: rtl/axil_regs.v (golden/axil_regs.py) refuses the
write with SLVERR and keeps the old value, so `check` takes 0 <= num_layers <= MAX_LAYERS only.
`words` may be shorter than 4*MAX_LAYERS: the missing words read as 0 (the table RAM's power-up
value; a real table keeps whatever was written last, which matters only for rows < NUM_LAYERS).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from . import isa

# codes from the one table (golden/isa.py)
OP_CONV, OP_DENSE, OP_RELU, OP_SIG, OP_MP = (isa.OPS[k] for k in ("conv", "dense", "relu", "sigmoid", "maxpool"))
OK = 0
ERR_OP, ERR_GEOMETRY, ERR_MAXIMUM, ERR_STRUCTURE = (isa.ERR[k] for k in ("OP", "GEOMETRY", "MAXIMUM", "STRUCTURE"))
PRIORITY = isa.ERR_PRIORITY                   # the if / else-if order of chk_code
M16, M32 = 0xFFFF, 0xFFFFFFFF


@dataclass(frozen=True)
class CoreCfg:
    """The compile-time parameters of rtl/cnn_core.v that validation and the generators need
    (defaults = the RTL's). p is not used by the checks (the cycle bound of the generators uses it)."""

    p: int = 8
    amem_depth: int = 4096
    wmem_depth: int = 32768
    max_layers: int = 16
    max_classes: int = 16
    max_out: int = 64

    @classmethod
    def from_params(cls, params) -> "CoreCfg":
        """From a name -> value mapping of the RTL parameter names (P, AMEM_DEPTH, ...)."""
        g = lambda n, d: int(params.get(n, d))       # noqa: E731
        return cls(g("P", 8), g("AMEM_DEPTH", 4096), g("WMEM_DEPTH", 32768), g("MAX_LAYERS", 16),
                   g("MAX_CLASSES", 16), g("MAX_OUT", 64))


DEFAULT = CoreCfg()


class Fields(NamedTuple):
    op: int
    k: int
    c: int
    n: int
    h: int
    w: int
    m: int
    din: int
    dout: int
    wa: int
    aux: int


class Derived(NamedTuple):
    ho: int
    wo: int
    hw: int
    kk: int
    hp: int
    wp: int
    howo: int
    ckk: int
    hpwp: int
    in_cnt: int
    nw: int
    padsz: int
    out_cnt: int


def fields(w0: int, w1: int, w2: int, w3: int) -> Fields:
    """The d_* wires of the RTL (isa.DESC_FIELDS)."""
    u = isa.unpack((w0, w1, w2, w3))
    return Fields(u["op"], u["k"], u["c"], u["n"], u["h"], u["w"], u["m"],
                  u["in_addr"], u["out_addr"], u["w_addr"], u["aux_addr"])


def derive(f: Fields) -> Derived:
    """S_DER's three cycles: ho, wo, hw, kk, hp, wp, howo, ckk, hpwp are 16-bit registers (wrap);
    in_cnt, nw, padsz, out_cnt 32-bit (their products never exceed 32 bits)."""
    if f.op == OP_MP:
        ho, wo = f.h >> 1, f.w >> 1
    elif f.op == OP_CONV:
        ho, wo = (f.h - f.k + 1) & M16, (f.w - f.k + 1) & M16
    else:
        ho, wo = f.h, f.w
    hw = (f.h * f.w) & M16
    kk = (f.k * f.k) & M16
    hp, wp = (f.h + f.k - 1) & M16, (f.w + f.k - 1) & M16
    howo, ckk, hpwp = (ho * wo) & M16, (f.c * kk) & M16, (hp * wp) & M16
    in_cnt = f.m if f.op == OP_DENSE else (f.c * hw) & M32
    nw = (f.n * ckk if f.op == OP_CONV else f.n * f.m) & M32
    padsz = (f.n * hpwp) & M32
    out_cnt = {OP_CONV: f.n * howo, OP_DENSE: f.n, OP_MP: f.c * howo}.get(f.op, in_cnt) & M32
    return Derived(ho, wo, hw, kk, hp, wp, howo, ckk, hpwp, in_cnt, nw, padsz, out_cnt)


def chained(li: int, d: Derived, prev_out_cnt: int) -> bool:
    """The chaining term of code 2: a layer after the first reads what the previous one wrote."""
    return li == 0 or d.in_cnt == prev_out_cnt


def faults(f: Fields, d: Derived, li: int, last: bool, prev_out_cnt: int, cfg: CoreCfg) -> dict:
    """code -> condition of that code for this layer (each term of the RTL's chk_code block)."""
    op = f.op
    param = op in (OP_CONV, OP_DENSE)
    geometry = ((op == OP_CONV and (f.k == 0 or f.c == 0 or f.n == 0 or f.h < f.k or f.w < f.k)) or
                (op == OP_DENSE and (f.m == 0 or f.n == 0)) or
                (op in (OP_RELU, OP_SIG) and (f.c == 0 or f.h == 0 or f.w == 0)) or
                (op == OP_MP and (f.c == 0 or f.h == 0 or f.w == 0 or f.h & 1 or f.w & 1)))
    structure = (li == 0 and not param) or (last and op != OP_DENSE)
    maximum = (f.din + d.in_cnt > cfg.amem_depth or f.dout + d.out_cnt > cfg.amem_depth or
               (param and (f.n > cfg.max_out or f.wa + d.nw + f.n > cfg.wmem_depth)) or
               (op == OP_MP and f.aux + d.out_cnt > cfg.amem_depth) or
               (op == OP_CONV and li != 0 and f.aux + d.padsz > cfg.amem_depth) or
               (last and (f.n > cfg.max_classes or f.n < 2)) or
               (li == 0 and d.in_cnt > M16))
    return {ERR_OP: not (OP_CONV <= op <= OP_MP),
            ERR_GEOMETRY: bool(geometry) or not chained(li, d, prev_out_cnt),
            ERR_STRUCTURE: structure, ERR_MAXIMUM: maximum}


def layer_code(f: Fields, d: Derived, li: int, last: bool, prev_out_cnt: int, cfg: CoreCfg) -> int:
    """chk_code: the first code of PRIORITY whose condition holds, else 0."""
    fl = faults(f, d, li, last, prev_out_cnt, cfg)
    return next((c for c in PRIORITY if fl[c]), OK)


def first_error(words, num_layers: int, head: int = 0, cfg: CoreCfg = DEFAULT):
    """-> (code, layer): the code `check` returns and the layer that failed (None for code 0 and for
    NUM_LAYERS = 0)."""
    if not 0 <= num_layers <= cfg.max_layers:
        raise ValueError(f"NUM_LAYERS {num_layers} outside 0..{cfg.max_layers}: the register block "
                         "refuses the write (SLVERR), the core never sees it")
    if len(words) > 4 * cfg.max_layers:
        raise ValueError(f"{len(words)} descriptor words, the table holds {4 * cfg.max_layers}")
    if num_layers == 0:
        return ERR_STRUCTURE, None
    tab = [int(x) & M32 for x in words] + [0] * (4 * cfg.max_layers - len(words))
    prev = 0
    for li in range(num_layers):
        f = fields(*tab[4 * li:4 * li + 4])
        d = derive(f)
        code = layer_code(f, d, li, li == num_layers - 1, prev, cfg)
        if code:
            return code, li
        prev = d.out_cnt
    return OK, None


def check(words, num_layers: int, head: int = 0, cfg: CoreCfg = DEFAULT) -> int:
    """STATUS[15:8] after a start with this table, NUM_LAYERS and HEAD (0 = valid; HEAD is not checked)."""
    return first_error(words, num_layers, head, cfg)[0]

"""The training core's instruction set, written once: descriptor fields, op / head / error / phase
codes, the register map and its CTRL / STATUS bits.

Everything else takes them from here:
  - rtl/cnn_core_defs.vh (localparams, `include`d by rtl/cnn_core.v and rtl/axil_regs.v) is generated
    from this file by `make tables` (scripts/export_tables.py --defs); tests/test_isa.py fails when the
    committed file is stale;
  - golden/compiler.py packs descriptors with `pack`, golden/desc_check.py unpacks them with `unpack`;
  - golden/axil_regs.py, host/core.py, the benches and the docs take the codes and addresses.

Descriptor: one per layer, DESC_WORDS 32-bit words at DESC_BASE + 4 * (DESC_WORDS * layer + word).
Each field is (word, lsb, width); fields an op does not use are ignored by the core.
"""
from __future__ import annotations

from typing import NamedTuple


class Field(NamedTuple):
    word: int
    lsb: int
    width: int
    doc: str


DESC_WORDS = 4
DESC_FIELDS = {
    "op":       Field(0, 0, 4, "layer op (OPS)"),
    "k":        Field(0, 4, 4, "conv kernel size (k x k)"),
    "c":        Field(0, 8, 8, "input channels (conv, relu / sigmoid / maxpool: channels)"),
    "n":        Field(0, 16, 16, "outputs: conv filters, dense outputs"),
    "h":        Field(1, 0, 8, "input height"),
    "w":        Field(1, 8, 8, "input width"),
    "m":        Field(1, 16, 16, "dense: flattened input length"),
    "in_addr":  Field(2, 0, 16, "AMEM element address of the layer's input"),
    "out_addr": Field(2, 16, 16, "AMEM element address of the layer's output"),
    "w_addr":   Field(3, 0, 16, "WMEM element address of the weights (biases follow)"),
    "aux_addr": Field(3, 16, 16, "maxpool: IMEM argmax address; conv after the first: DMEM scratch "
                                 "of its padded delta"),
}

# layer ops (descriptor field op)
OPS = {"conv": 1, "dense": 2, "relu": 3, "sigmoid": 4, "maxpool": 5}
OP_VNAMES = {"conv": "CONV", "dense": "DENSE", "relu": "RELU", "sigmoid": "SIG", "maxpool": "MP"}
# HEAD register
HEADS = {"softmax_ce": 0, "sigmoid_mse": 1}

# STATUS[15:8] error codes: (name, meaning)
ERRORS = {
    1: ("OP", "unknown op"),
    2: ("GEOMETRY", "bad geometry"),
    3: ("MAXIMUM", "compile-time maximum exceeded"),
    4: ("STRUCTURE", "unsupported structure"),
    5: ("FRAMING", "stream framing"),
    6: ("LABEL", "label out of range"),
}
ERR = {name: code for code, (name, _) in ERRORS.items()}
# the order in which the controller's validation reports the descriptor errors (its if / else-if)
ERR_PRIORITY = (ERR["OP"], ERR["GEOMETRY"], ERR["STRUCTURE"], ERR["MAXIMUM"])

# phase (micro-op) codes: the trace port trace_phase_code_o, the phase log, the cycle model.
# (Verilog name, log name); sub-phases (bias load, delta pad zero / copy) count into the next phase
PHASES = {
    1: ("CONV_FWD", "conv.fwd"), 2: ("DENSE_FWD", "dense.fwd"), 3: ("RELU_FWD", "relu.fwd"),
    4: ("SIG_FWD", "sigmoid.fwd"), 5: ("MP_FWD", "maxpool.fwd"), 6: ("SOFTMAX", "head.softmax"),
    7: ("MSE", "head.sigmoid_mse"), 8: ("DENSE_DX", "dense.dx"), 9: ("DENSE_DW", "dense.dw"),
    10: ("DENSE_DB", "dense.db"), 11: ("CONV_DK", "conv.dk"), 12: ("CONV_DB", "conv.db"),
    13: ("CONV_DX", "conv.dx"), 14: ("RELU_BWD", "relu.bwd"), 15: ("SIG_BWD", "sigmoid.bwd"),
    16: ("MP_BWD", "maxpool.bwd"), 17: ("UPDATE", "update"), 18: ("LOAD", "load"),
    19: ("BIAS", "sub.bias"), 20: ("PADZ", "sub.padz"), 21: ("PADC", "sub.padc"),
}
SUB_PHASES = (19, 20, 21)
PHASE_W = 5                                   # width of a phase code in the core
PH = {v: code for code, (v, _) in PHASES.items()}
PHASE_NAMES = {code: log for code, (_, log) in PHASES.items() if code not in SUB_PHASES}

# register map (byte addresses of 32-bit registers; value rules in golden/axil_regs.py)
REGS = {"CTRL": 0x000, "STATUS": 0x004, "BATCH": 0x008, "LR": 0x00C, "SEED": 0x010,
        "NUM_LAYERS": 0x014, "HEAD": 0x018, "CYC_TOTAL": 0x020, "CYC_FWD": 0x024, "CYC_BWD": 0x028,
        "STEPS": 0x02C}
REGS_RO = ("STATUS", "CYC_TOTAL", "CYC_FWD", "CYC_BWD", "STEPS")   # read-only registers
DESC_BASE = 0x100                             # descriptor table
WMEM_BASE = 0x10000                           # weight window: element e at WMEM_BASE + 4 e
CTRL_BITS = {"START": 0, "MODE": 1, "CLEAR": 2, "SEED_LOAD": 3}      # MODE: 0 inference, 1 train
STATUS_BITS = {"BUSY": 0, "DONE": 1, "ERROR": 2, "OVF": 3, "REJ": 4}
STATUS_CODE_LSB, STATUS_CODE_W = 8, 8


def pack(fields: dict) -> list:
    """{field: value} -> the DESC_WORDS descriptor words (missing fields 0). A value that does not fit
    its field raises ValueError naming the field."""
    words = [0] * DESC_WORDS
    for name, v in fields.items():
        if name not in DESC_FIELDS:
            raise ValueError(f"descriptor: no field {name!r} (fields: {', '.join(DESC_FIELDS)})")
        f = DESC_FIELDS[name]
        v = int(v)
        if not 0 <= v < (1 << f.width):
            raise ValueError(f"descriptor field {name} = {v} does not fit {f.width} bits")
        words[f.word] |= v << f.lsb
    return words


def unpack(words) -> dict:
    """DESC_WORDS words -> {field: value}."""
    return {name: (int(words[f.word]) >> f.lsb) & ((1 << f.width) - 1) for name, f in DESC_FIELDS.items()}


def verilog_defs() -> str:
    """rtl/cnn_core_defs.vh: the codes and layouts above as localparams (included inside a module)."""
    out = ["// The core's instruction set: descriptor fields, op / head / error / phase codes, register",
           "// map and CTRL / STATUS bits. GENERATED from golden/isa.py by `make tables`",
           "// (scripts/export_tables.py --defs): do not edit; tests/test_isa.py checks it is fresh.",
           "// `include inside a module body (localparams, no include guard: each module gets its own).",
           "// Lint waiver, reason: every including module uses only part of the table.",
           "/* verilator lint_off UNUSEDPARAM */",
           ""]
    out.append("// descriptor: DESC_WORDS words per layer; field <F> is word DF_<F>_WORD, bits"
               " [DF_<F>_LSB +: DF_<F>_W]")
    out.append(f"localparam integer DESC_WORDS = {DESC_WORDS};")
    for name, f in DESC_FIELDS.items():
        n = name.upper()
        out.append(f"localparam integer DF_{n}_WORD = {f.word}, DF_{n}_LSB = {f.lsb}, "
                   f"DF_{n}_W = {f.width};   // {f.doc}")
    out += ["", "// layer ops (descriptor field op)"]
    out += [f"localparam [{DESC_FIELDS['op'].width - 1}:0] OP_{OP_VNAMES[k]} = "
            f"{DESC_FIELDS['op'].width}'d{v};   // {k}" for k, v in OPS.items()]
    out += ["", "// HEAD register"]
    out += [f"localparam HEAD_{k.upper()} = 1'b{v};" for k, v in HEADS.items()]
    out += ["", "// STATUS[15:8] error codes"]
    out += [f"localparam [7:0] ERR_{n} = 8'd{c};   // {doc}" for c, (n, doc) in ERRORS.items()]
    out += ["", f"// phase codes (trace_phase_code_o[{PHASE_W - 1}:0], the phase log); BIAS, PADZ, PADC"
                " are sub-phases"]
    out += [f"localparam [{PHASE_W - 1}:0] U_{n} = {PHASE_W}'d{c};   // {log}" for c, (n, log) in PHASES.items()]
    out += ["", "// register map: byte addresses"]
    out += [f"localparam [19:0] REG_{n} = 20'h{a:05X};" for n, a in REGS.items()]
    out.append(f"localparam [19:0] REG_DESC_BASE = 20'h{DESC_BASE:05X};")
    out.append(f"localparam [19:0] REG_WMEM_BASE = 20'h{WMEM_BASE:05X};")
    out += ["// the same as 32-bit word addresses (byte address >> 2); RI_<reg>: a register's word index"]
    out.append(f"localparam [31:0] WA_DESC_BASE = 32'h{DESC_BASE >> 2:X}, WA_WMEM_BASE = 32'h{WMEM_BASE >> 2:X};")
    out += [f"localparam [3:0] RI_{n} = 4'd{a >> 2};" for n, a in REGS.items()]
    valid = sum(1 << (a >> 2) for a in REGS.values())
    ro = sum(1 << (REGS[n] >> 2) for n in REGS_RO)
    out.append(f"localparam [15:0] RI_VALID = 16'h{valid:04X};   // bit i: word index i is a register")
    out.append(f"localparam [15:0] RI_RO = 16'h{ro:04X};      // bit i: register i is read-only")
    out += ["", "// CTRL and STATUS bits"]
    out += [f"localparam integer CTRL_{n} = {b};" for n, b in CTRL_BITS.items()]
    out += [f"localparam integer ST_{n} = {b};" for n, b in STATUS_BITS.items()]
    out.append(f"localparam integer ST_CODE_LSB = {STATUS_CODE_LSB}, ST_CODE_W = {STATUS_CODE_W};")
    out += ["", "/* verilator lint_on UNUSEDPARAM */"]
    return "\n".join(out) + "\n"


def markdown() -> str:
    """docs/isa.md: the same table for readers (generated by `make tables`, checked by tests/test_isa.py)."""
    o = ["# The core's instruction set", "",
         "GENERATED from [golden/isa.py](../golden/isa.py) by `make tables`; do not edit. The RTL includes "
         "the same table as [rtl/cnn_core_defs.vh](../rtl/cnn_core_defs.vh); the rules behind the codes "
         "are in [architecture.md](architecture.md) section 5.", "",
         f"## Descriptor ({DESC_WORDS} words per layer, layer l word k at "
         f"`0x{DESC_BASE:X} + 4 * ({DESC_WORDS} l + k)`)", "",
         "| field | word | bits | meaning |", "|---|---|---|---|"]
    o += [f"| `{n}` | {f.word} | [{f.lsb + f.width - 1}:{f.lsb}] | {f.doc} |" for n, f in DESC_FIELDS.items()]
    o += ["", "## Layer ops (field `op`) and heads (register HEAD)", "",
          "| op | code |", "|---|---|"]
    o += [f"| {k} | {v} |" for k, v in OPS.items()]
    o += ["", "| head | HEAD |", "|---|---|"] + [f"| {k} | {v} |" for k, v in HEADS.items()]
    o += ["", f"## Error codes (STATUS[{STATUS_CODE_LSB + STATUS_CODE_W - 1}:{STATUS_CODE_LSB}])", "",
          "| code | name | meaning |", "|---|---|---|"]
    o += [f"| {c} | {n} | {d} |" for c, (n, d) in ERRORS.items()]
    o += ["", "Descriptor errors are reported in the order "
          + ", ".join(ERRORS[c][0] for c in ERR_PRIORITY) + " (the first layer at fault, then this order).",
          "", f"## Phase codes (`trace_phase_code_o`, {PHASE_W} bits; the phase log, the cycle model)", "",
          "| code | RTL | log name |", "|---|---|---|"]
    o += [f"| {c} | `U_{v}` | {'(sub-phase, counted into the next phase)' if c in SUB_PHASES else log} |"
          for c, (v, log) in PHASES.items()]
    o += ["", "## Registers (AXI4-Lite byte addresses)", "", "| register | address | access |", "|---|---|---|"]
    o += [f"| {n} | `0x{a:03X}` | {'RO' if n in REGS_RO else 'RW'} |" for n, a in REGS.items()]
    o += [f"| descriptor table | `0x{DESC_BASE:03X}..` | RW |", f"| weight window | `0x{WMEM_BASE:X}..` | RW |",
          "", "| CTRL bit | name |", "|---|---|"] + [f"| {b} | {n} |" for n, b in CTRL_BITS.items()]
    o += ["", "| STATUS bit | name |", "|---|---|"] + [f"| {b} | {n} |" for n, b in STATUS_BITS.items()]
    o += [f"| {STATUS_CODE_LSB + STATUS_CODE_W - 1}:{STATUS_CODE_LSB} | error code |"]
    return "\n".join(o) + "\n"

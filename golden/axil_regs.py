"""Host register file of the core (AXI4-Lite slave); twin of rtl/axil_regs.v (docs/architecture.md §5).

A transaction-level model: what every host write / read returns (OKAY or SLVERR, read data), which
control pulses it fires, which register values it leaves, and which access it makes on the weight
memory port. No cycle timing (the RTL serializes accesses; the model sees them in that order).

Register map (byte addresses, 32-bit words; address bits [1:0] are ignored):
    0x000 CTRL        W: bit0 start (pulse), bit1 mode (level: 0 inference, 1 train), bit2 clear sticky
                      flags (pulse), bit3 reload the LFSR seed (pulse); bits 31:4 ignored.
                      R: bit1 = mode, other bits 0.
    0x004 STATUS  RO  bit0 busy_i, bit1 done (sticky: set by a done_i pulse, cleared by start / clear),
                      bit2 error (sticky: set by an error_i pulse, cleared by start / clear),
                      bit3 sticky_ovf_i, bit4 rejected (the previous host access got SLVERR),
                      bits 15:8 error code (err_code_i of the first error since start / clear).
    0x008 BATCH       16 bits, 1..65535
    0x00C LR          LR_W-bit learning-rate code, 1 .. 2^(LR_W-1) - 1 (positive signed code)
    0x010 SEED        32 bits, nonzero (LFSR seed, loaded by CTRL bit3)
    0x014 NUM_LAYERS  0 .. MAX_LAYERS
    0x018 HEAD        0 softmax_ce, 1 sigmoid_mse
    0x020 CYC_TOTAL, 0x024 CYC_FWD, 0x028 CYC_BWD, 0x02C STEPS   RO, 32 bits (core inputs)
    0x100 + 16*l + 4*k  descriptor word k of layer l (l < MAX_LAYERS), 32 bits, no value check
    0x10000 + 4*e     weight element e (e < WMEM_DEPTH), W_W-bit signed code, reads sign-extended

SLVERR (and nothing changes, no pulse, no weight-port access) for:
    - a write with WSTRB != 0xF (partial or empty strobes);
    - an unmapped address (read or write), a write to a read-only register;
    - a write value that does not fit the field: BATCH 0 or > 0xFFFF, LR 0 / negative / > max code,
      SEED 0, NUM_LAYERS > MAX_LAYERS, HEAD > 1, a weight not equal to the sign extension of its
      low W_W bits;
    - while busy_i: writes to BATCH, LR, SEED, NUM_LAYERS, HEAD, the descriptor table or the
      weights, and CTRL writes that set start or seed-reload or change mode (a pure clear is OK);
    - a weight access the core refuses (wmem_err_i) or does not answer within WMEM_TIMEOUT cycles.
Weight reads while busy are passed to the core, which may grant or refuse them.
Read data is 0 with SLVERR. Every completed access sets `rejected` to (resp == SLVERR); a STATUS read
returns the flag as it was before the read itself completes.

Reset: registers return to their reset values, sticky flags clear; the descriptor table (a RAM,
zero at power-up) and the weight memory keep their contents.
"""
from __future__ import annotations

from dataclasses import dataclass, field

OKAY, SLVERR = 0, 2

from . import isa

# the register map, from the one table (golden/isa.py)
CTRL, STATUS, BATCH, LR, SEED, NUM_LAYERS, HEAD = (isa.REGS[n] for n in ("CTRL", "STATUS", "BATCH", "LR", "SEED",
                                                                         "NUM_LAYERS", "HEAD"))
CYC_TOTAL, CYC_FWD, CYC_BWD, STEPS = (isa.REGS[n] for n in ("CYC_TOTAL", "CYC_FWD", "CYC_BWD", "STEPS"))
COUNTERS = (CYC_TOTAL, CYC_FWD, CYC_BWD, STEPS)
DESC_BASE = isa.DESC_BASE
WMEM_BASE = isa.WMEM_BASE
DEFAULT_SEED = 0xACE12468

# STATUS bits
ST_BUSY, ST_DONE, ST_ERROR, ST_OVF, ST_REJ = (isa.STATUS_BITS[n] for n in ("BUSY", "DONE", "ERROR", "OVF", "REJ"))
ST_CODE_LSB = isa.STATUS_CODE_LSB


def sign_extend(v: int, w: int) -> int:
    v &= (1 << w) - 1
    return v - (1 << w) if v >> (w - 1) else v


@dataclass(frozen=True)
class RegsConfig:
    """Build parameters of rtl/axil_regs.v that the model depends on."""

    addr_w: int = 20
    lr_w: int = 16
    w_w: int = 16
    max_layers: int = 16
    wmem_depth: int = 65536
    batch_reset: int = 1
    lr_reset: int = 2048           # 2^-5 in the default lr format Q0.16
    seed_reset: int = DEFAULT_SEED


@dataclass
class Access:
    """Result of one host access."""

    resp: int
    data: int = 0                            # read data (0 for writes and for SLVERR)
    pulses: tuple = ()                       # control pulses fired: "start", "clear", "seed_load"
    port: tuple | None = None                # weight-port request: ("w", e, code) or ("r", e)


@dataclass
class AxilRegs:
    cfg: RegsConfig = field(default_factory=RegsConfig)

    def __post_init__(self):
        self.desc = [0] * (4 * self.cfg.max_layers)     # RAM: zero at power-up, not reset
        self.wmem = {}                                  # weight element -> signed code (core memory)
        # core-side inputs (the testbench keeps them equal to what it drives)
        self.busy = 0
        self.ovf = 0
        self.counters = {a: 0 for a in COUNTERS}
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self):
        c = self.cfg
        self.mode = 0
        self.batch = c.batch_reset
        self.lr = c.lr_reset
        self.seed = c.seed_reset
        self.num_layers = 0
        self.head = 0
        self.done = 0
        self.error = 0
        self.err_code = 0
        self.rejected = 0

    def outputs(self) -> tuple:
        """Level outputs (mode_o, batch_o, lr_o, seed_o, num_layers_o, head_o)."""
        return (self.mode, self.batch, self.lr, self.seed, self.num_layers, self.head)

    def done_event(self):
        self.done = 1

    def error_event(self, code: int):
        if not self.error:
            self.err_code = code & 0xFF
        self.error = 1

    def status(self) -> int:
        return (self.busy << ST_BUSY | self.done << ST_DONE | self.error << ST_ERROR | self.ovf << ST_OVF
                | self.rejected << ST_REJ | self.err_code << ST_CODE_LSB)

    # ------------------------------------------------------------------ decode
    def _region(self, addr: int):
        """('reg', byte offset) | ('desc', word index) | ('wmem', element) | ('none', None)."""
        a = (addr & ((1 << self.cfg.addr_w) - 1)) & ~3
        if a in (CTRL, STATUS, BATCH, LR, SEED, NUM_LAYERS, HEAD) or a in COUNTERS:
            return "reg", a
        if DESC_BASE <= a < DESC_BASE + 16 * self.cfg.max_layers:
            return "desc", (a - DESC_BASE) >> 2
        if WMEM_BASE <= a < WMEM_BASE + 4 * self.cfg.wmem_depth:
            return "wmem", (a - WMEM_BASE) >> 2
        return "none", None

    def _done(self, acc: Access) -> Access:
        self.rejected = int(acc.resp == SLVERR)
        return acc

    # ------------------------------------------------------------------ host accesses
    def write(self, addr: int, data: int, strb: int = 0xF, core: str = "grant") -> Access:
        """A host write. `core` says what the core does with a weight-port request:
        "grant" (accepted), "refuse" (wmem_err_i) or "timeout" (no answer)."""
        c = self.cfg
        data &= 0xFFFFFFFF
        err = Access(SLVERR)
        kind, off = self._region(addr)
        if strb != 0xF or kind == "none":
            return self._done(err)
        if kind == "desc":
            if self.busy:
                return self._done(err)
            self.desc[off] = data
            return self._done(Access(OKAY))
        if kind == "wmem":
            code = sign_extend(data, c.w_w)
            if self.busy or sign_extend(data, 32) != code:
                return self._done(err)
            if core != "grant":
                return self._done(Access(SLVERR, port=("w", off, code)))
            self.wmem[off] = code
            return self._done(Access(OKAY, port=("w", off, code)))
        # registers
        if off in (STATUS,) + COUNTERS:
            return self._done(err)
        if off == CTRL:
            start, mode, clear, seed_load = (data >> isa.CTRL_BITS[n] & 1 for n in ("START", "MODE", "CLEAR", "SEED_LOAD"))
            if self.busy and (start or seed_load or mode != self.mode):
                return self._done(err)
            pulses = []
            if start:
                pulses.append("start")
            if clear:
                pulses.append("clear")
            if seed_load:
                pulses.append("seed_load")
            self.mode = mode
            if start or clear:
                self.done = self.error = self.err_code = 0
            return self._done(Access(OKAY, pulses=tuple(pulses)))
        if self.busy:
            return self._done(err)
        ok = {BATCH: 1 <= data <= 0xFFFF,
              LR: 1 <= data <= (1 << (c.lr_w - 1)) - 1,
              SEED: data != 0,
              NUM_LAYERS: data <= c.max_layers,
              HEAD: data <= 1}[off]
        if not ok:
            return self._done(err)
        attr = {BATCH: "batch", LR: "lr", SEED: "seed", NUM_LAYERS: "num_layers", HEAD: "head"}[off]
        setattr(self, attr, data)
        return self._done(Access(OKAY))

    def read(self, addr: int, core: str = "grant") -> Access:
        """A host read (`core` as in write)."""
        kind, off = self._region(addr)
        if kind == "none":
            return self._done(Access(SLVERR))
        if kind == "desc":
            return self._done(Access(OKAY, self.desc[off]))
        if kind == "wmem":
            if core != "grant":
                return self._done(Access(SLVERR, port=("r", off)))
            return self._done(Access(OKAY, self.wmem.get(off, 0) & 0xFFFFFFFF, port=("r", off)))
        val = {CTRL: self.mode << isa.CTRL_BITS["MODE"], STATUS: self.status(), BATCH: self.batch, LR: self.lr,
               SEED: self.seed, NUM_LAYERS: self.num_layers, HEAD: self.head}
        val.update(self.counters)
        return self._done(Access(OKAY, val[off] & 0xFFFFFFFF))

    def reaches_core(self, addr: int, write: bool, data: int = 0, strb: int = 0xF) -> bool:
        """Whether the access would make a weight-port request (so the core's answer matters)."""
        kind, off = self._region(addr)
        if kind != "wmem":
            return False
        if not write:
            return True
        return strb == 0xF and not self.busy and \
            sign_extend(data, 32) == sign_extend(data, self.cfg.w_w)

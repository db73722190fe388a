// Fast simulation host of the training core: the Verilated rtl/cnn_core.v behind a C ABI (ctypes).
//
// Built by host/fastsim.py (make fastsim): verilator --cc of rtl/*.v (top cnn_core, ports only, no
// --public-flat-rw), this file and verilated.cpp linked into one shared library per parameter set.
//
// Contract (docs/fastpath.md):
//   * C++ owns the clock. Every function below advances it by whole cycles; Python never toggles
//     anything. One cycle = set the inputs, eval with clk low (combinational outputs settle), sample
//     every handshake (valid && ready as the edge will see it), eval with clk high.
//   * Only the core's ports are used: AXI4-Lite (registers, descriptors, weight window), the sample
//     stream (s_axis) and the result stream (m_axis). Nothing reads the hierarchy.
//   * The host waits for STATUS.done or STATUS.error, never for busy low (busy falls one cycle before
//     done is visible).
//   * Every wait has a cycle budget; running out returns CC_TIMEOUT, never hangs.
#include <cstdint>
#include <cstring>
#include <memory>

#include "Vcnn_core.h"
#include "verilated.h"

namespace {

constexpr uint32_t kStatusAddr = 0x004;   // golden/axil_regs.py STATUS
constexpr uint32_t kStDone = 1u << 1, kStError = 1u << 2;

// return codes (host/fastsim.py mirrors them)
constexpr int CC_OK = 0, CC_TIMEOUT = -1, CC_STOPPED = 2;

// xorshift64*: the stream pause patterns (seeded by the caller, so a run is reproducible)
struct Rng {
    uint64_t s;
    uint32_t next() {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
        return static_cast<uint32_t>((s * 2685821657736338717ULL) >> 32);
    }
    bool chance(uint32_t permille) { return permille && next() % 1000u < permille; }
};

struct Host {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vcnn_core> top;
    uint64_t cycles = 0;
    Rng rng{0x9E3779B97F4A7C15ULL};

    Host() : ctx(new VerilatedContext), top(new Vcnn_core(ctx.get(), "cnn_core")) {
        idle_inputs();
        top->clk = 0;
        top->rst = 1;
        top->eval();
    }
    void idle_inputs() {
        top->s_axil_awvalid_i = 0; top->s_axil_wvalid_i = 0; top->s_axil_bready_i = 0;
        top->s_axil_arvalid_i = 0; top->s_axil_rready_i = 0;
        top->s_axil_awaddr_i = 0; top->s_axil_wdata_i = 0; top->s_axil_wstrb_i = 0;
        top->s_axil_araddr_i = 0;
        top->s_axis_tvalid_i = 0; top->s_axis_tdata_i = 0; top->s_axis_tlast_i = 0;
        top->m_axis_tready_i = 0;
    }
    // first half of a cycle: inputs are set, combinational outputs settle
    void settle() { top->clk = 0; top->eval(); }
    // second half: the rising edge
    void edge() { top->clk = 1; top->eval(); ++cycles; ctx->timeInc(1); }
};

}  // namespace

extern "C" {

struct cc_run_opts {
    uint32_t in_idle_permille;     // chance per cycle that the sample stream holds tvalid low
    uint32_t out_stall_permille;   // chance per cycle that the result stream holds tready low
    uint64_t seed;                 // of the pause patterns (0: keep the current stream)
    uint64_t stop_after;           // > 0: return CC_STOPPED after this many cycles (reset tests)
    uint32_t drain_cycles;         // after done / error: cycles to wait for outstanding result beats
};

void* cc_new() { return new Host(); }
void cc_free(void* h) { delete static_cast<Host*>(h); }
uint64_t cc_cycles(void* h) { return static_cast<Host*>(h)->cycles; }

// rst high for n cycles (every input idle), then one idle cycle with rst low
void cc_reset(void* hp, int n) {
    Host& h = *static_cast<Host*>(hp);
    h.idle_inputs();
    h.top->rst = 1;
    for (int i = 0; i < n; ++i) { h.settle(); h.edge(); }
    h.top->rst = 0;
    h.settle(); h.edge();
}

// idle cycles
void cc_tick(void* hp, uint64_t n) {
    Host& h = *static_cast<Host*>(hp);
    h.idle_inputs();
    for (uint64_t i = 0; i < n; ++i) { h.settle(); h.edge(); }
}

// n AXI4-Lite writes of data[k] to addr + 4k (pipelined: the next address and data are offered as
// soon as the previous ones are taken); resp[k] = BRESP. -> CC_OK or CC_TIMEOUT (no response within
// `timeout` cycles of the previous event).
int cc_write_burst(void* hp, uint32_t addr, const uint32_t* data, uint32_t wstrb, int n, uint8_t* resp,
                   int timeout) {
    Host& h = *static_cast<Host*>(hp);
    Vcnn_core* t = h.top.get();
    int aw = 0, w = 0, b = 0, quiet = 0;
    h.idle_inputs();
    while (b < n) {
        t->s_axil_awvalid_i = aw < n;
        t->s_axil_awaddr_i = addr + 4u * static_cast<uint32_t>(aw < n ? aw : 0);
        t->s_axil_wvalid_i = w < n;
        t->s_axil_wdata_i = data[w < n ? w : 0];
        t->s_axil_wstrb_i = wstrb;
        t->s_axil_bready_i = 1;
        h.settle();
        bool aw_f = t->s_axil_awvalid_i && t->s_axil_awready_o;
        bool w_f = t->s_axil_wvalid_i && t->s_axil_wready_o;
        bool b_f = t->s_axil_bvalid_o;
        uint8_t br = t->s_axil_bresp_o;
        h.edge();
        if (aw_f) ++aw;
        if (w_f) ++w;
        if (b_f) resp[b++] = br;
        quiet = (aw_f || w_f || b_f) ? 0 : quiet + 1;
        if (quiet > timeout) { h.idle_inputs(); return CC_TIMEOUT; }
    }
    h.idle_inputs();
    return CC_OK;
}

// n AXI4-Lite reads of addr + 4k (pipelined); data[k] = RDATA, resp[k] = RRESP.
int cc_read_burst(void* hp, uint32_t addr, uint32_t* data, int n, uint8_t* resp, int timeout) {
    Host& h = *static_cast<Host*>(hp);
    Vcnn_core* t = h.top.get();
    int ar = 0, r = 0, quiet = 0;
    h.idle_inputs();
    while (r < n) {
        t->s_axil_arvalid_i = ar < n;
        t->s_axil_araddr_i = addr + 4u * static_cast<uint32_t>(ar < n ? ar : 0);
        t->s_axil_rready_i = 1;
        h.settle();
        bool ar_f = t->s_axil_arvalid_i && t->s_axil_arready_o;
        bool r_f = t->s_axil_rvalid_o;
        uint32_t rd = t->s_axil_rdata_o;
        uint8_t rr = t->s_axil_rresp_o;
        h.edge();
        if (ar_f) ++ar;
        if (r_f) { data[r] = rd; resp[r] = rr; ++r; }
        quiet = (ar_f || r_f) ? 0 : quiet + 1;
        if (quiet > timeout) { h.idle_inputs(); return CC_TIMEOUT; }
    }
    h.idle_inputs();
    return CC_OK;
}

// Run a started step: offer the sample beats (tdata, tlast) on s_axis, take result beats from m_axis
// (out / out_last, at most max_out), and read STATUS back to back until it shows done or error; then
// up to drain_cycles more for result beats still in flight (stops early once n_packets tlasts came).
// -> CC_OK (status = the STATUS word that showed done / error), CC_TIMEOUT (max_cycles passed), or
// CC_STOPPED (opts.stop_after reached). n_taken = sample beats the core accepted, n_out = result beats.
int cc_run(void* hp, const uint16_t* beats, const uint8_t* lasts, int n_beats, uint32_t* out,
           uint8_t* out_last, int max_out, int n_packets, uint64_t max_cycles, const cc_run_opts* o,
           uint32_t* status, int* n_taken, int* n_out) {
    Host& h = *static_cast<Host*>(hp);
    Vcnn_core* t = h.top.get();
    if (o->seed) h.rng.s = o->seed;
    int in = 0, nout = 0, tlasts = 0;
    uint64_t c = 0, drain = 0;
    bool ended = false, ar_pending = false;
    uint32_t st = 0;
    h.idle_inputs();
    auto leave = [&](int rc) {
        // a STATUS read still in flight is completed, so the next access sees no stale response
        h.idle_inputs();
        t->s_axil_rready_i = 1;
        for (int k = 0; ar_pending && k < 64; ++k) {
            h.settle();
            if (t->s_axil_rvalid_o) ar_pending = false;
            h.edge();
        }
        h.idle_inputs();
        *status = st;
        *n_taken = in;
        *n_out = nout;
        return rc;
    };
    while (true) {
        if (o->stop_after && c >= o->stop_after) return leave(CC_STOPPED);
        if (!ended && c >= max_cycles) return leave(CC_TIMEOUT);
        if (ended && (drain >= o->drain_cycles || tlasts >= n_packets)) break;
        bool offer = in < n_beats && !h.rng.chance(o->in_idle_permille);
        t->s_axis_tvalid_i = offer;
        t->s_axis_tdata_i = offer ? beats[in] : 0;
        t->s_axis_tlast_i = offer ? lasts[in] : 0;
        t->m_axis_tready_i = !h.rng.chance(o->out_stall_permille);
        t->s_axil_arvalid_i = !ended && !ar_pending;
        t->s_axil_araddr_i = kStatusAddr;
        t->s_axil_rready_i = 1;
        h.settle();
        bool in_f = t->s_axis_tvalid_i && t->s_axis_tready_o;
        bool out_f = t->m_axis_tvalid_o && t->m_axis_tready_i;
        uint32_t od = t->m_axis_tdata_o;
        bool ol = t->m_axis_tlast_o;
        bool ar_f = t->s_axil_arvalid_i && t->s_axil_arready_o;
        bool r_f = t->s_axil_rvalid_o;
        uint32_t rd = t->s_axil_rdata_o;
        h.edge();
        ++c;
        if (in_f) ++in;
        if (out_f) {
            if (nout < max_out) { out[nout] = od; out_last[nout] = ol; }
            ++nout;
            tlasts += ol;
        }
        if (ar_f) ar_pending = true;
        if (r_f) {
            ar_pending = false;
            if (!ended && (rd & (kStDone | kStError))) { ended = true; st = rd; }
        }
        if (ended) ++drain;
    }
    return leave(CC_OK);
}

}  // extern "C"

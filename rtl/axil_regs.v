// AXI4-Lite slave of the core: control/status registers, descriptor table (RAM) and weight window.
// Twin: golden/axil_regs.py (register map, SLVERR rules, read data); docs/architecture.md §5.
//
// Bus: AXI4-Lite, 32-bit data, ADDR_W-bit byte addresses (bits [1:0] ignored), all five channels.
// AWPROT/ARPROT are not used (no ports). AW and W are captured independently (either order or the
// same cycle); one write and one read may be captured at a time, and a single engine serves them one
// after the other (round robin when both wait), so the host sees them in that order. Every request
// gets exactly one response; weight-port accesses that the core neither grants nor refuses within
// WMEM_TIMEOUT cycles end in SLVERR.
// Port names: s_axil_<signal>_i / _o. cocotbext-axi's AxiLiteBus.from_prefix(dut, "s_axil") expects
// s_axil_<signal> without the direction suffix; the testbench builds the buses with a name map
// (tb/axil_regs/test_axil_regs.py, axil_bus()).
//
// Register map (byte addresses; full map and value rules in golden/axil_regs.py):
//   0x000 CTRL  W bit0 start (start_o pulse), bit1 mode (mode_o level), bit2 clear sticky (clear_o
//               pulse; also clears done / error / error code), bit3 seed reload (seed_load_o pulse);
//               R bit1 = mode
//   0x004 STATUS RO bit0 busy_i, bit1 done, bit2 error, bit3 sticky_ovf_i, bit4 last access rejected,
//               bits 15:8 error code
//   0x008 BATCH (16 b, != 0)  0x00C LR (LR_W b, 1..2^(LR_W-1)-1)  0x010 SEED (32 b, != 0)
//   0x014 NUM_LAYERS (<= MAX_LAYERS)  0x018 HEAD (1 b)  0x020..0x02C counters RO
//   0x100 + 16*l + 4*k descriptor word k of layer l;  0x10000 + 4*e weight element e
// SLVERR (the target keeps its value, no pulse): WSTRB != 4'hF, unmapped address, write to a RO
// register, a value outside its field, writes to config / descriptors / weights while busy_i, CTRL
// writes with start, seed reload or a mode change while busy_i, a weight access refused (wmem_err_i)
// or timed out. Read data is 0 with SLVERR.
// Sticky flags: done is set by a done_i pulse, error by an error_i pulse (err_code_i of the first
// error is kept); both clear on an accepted start or clear write (a set in the same cycle wins).
//
// Control pulses (start_o, clear_o, seed_load_o) are high for one cycle, the cycle in which the
// write's bvalid rises. The capture registers are ready during rst (a master keeps valid low then).
// Latency (no back-pressure, from the cycle both AW and W / AR are captured): register access
// 1 cycle to B/R valid; descriptor read 2 cycles; weight access 1 cycle + grant wait (+ read data).
// Descriptor port: desc_data_o is registered, 1 cycle after desc_addr_i (word address 4*l + k).
// Descriptor table: a RAM (zero at power-up, not cleared by rst; NUM_LAYERS resets to 0).
// Weight port: wmem_req_o stays high with stable we/addr/wdata until wmem_gnt_i or wmem_err_i (the
// core refuses). A read returns wmem_rdata_i with wmem_rvalid_i in the grant cycle or later;
// wmem_rvalid_i is ignored when no granted read is outstanding.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module axil_regs #(
    parameter integer ADDR_W       = 20,            // AXI byte-address width (17..32, covers the weight window)
    parameter integer DATA_W       = 32,            // AXI data width (must be 32)
    parameter integer LR_W         = 16,            // learning-rate code width (2..31)
    parameter integer W_W          = 16,            // weight code width (2..31)
    parameter integer MAX_LAYERS   = 16,            // descriptor table size in layers
    parameter integer WMEM_DEPTH   = 65536,         // weight elements reachable through the window
    parameter integer WMEM_TIMEOUT = 1024,          // cycles a weight access may wait for the core
    parameter [15:0]  BATCH_RESET  = 16'd1,         // BATCH after rst
    parameter [31:0]  LR_RESET     = 32'd2048,      // LR after rst (2^-5 in Q0.16)
    parameter [31:0]  SEED_RESET   = 32'hACE12468   // SEED after rst
) (
    input  wire                  clk,
    input  wire                  rst,               // synchronous, active high

    // AXI4-Lite write address
    input  wire [ADDR_W-1:0]     s_axil_awaddr_i,
    input  wire                  s_axil_awvalid_i,
    output wire                  s_axil_awready_o,
    // AXI4-Lite write data
    input  wire [DATA_W-1:0]     s_axil_wdata_i,
    input  wire [DATA_W/8-1:0]   s_axil_wstrb_i,
    input  wire                  s_axil_wvalid_i,
    output wire                  s_axil_wready_o,
    // AXI4-Lite write response
    output wire [1:0]            s_axil_bresp_o,
    output wire                  s_axil_bvalid_o,
    input  wire                  s_axil_bready_i,
    // AXI4-Lite read address
    input  wire [ADDR_W-1:0]     s_axil_araddr_i,
    input  wire                  s_axil_arvalid_i,
    output wire                  s_axil_arready_o,
    // AXI4-Lite read data
    output wire [DATA_W-1:0]     s_axil_rdata_o,
    output wire [1:0]            s_axil_rresp_o,
    output wire                  s_axil_rvalid_o,
    input  wire                  s_axil_rready_i,

    // control to the core
    output wire                  start_o,           // one-cycle pulse
    output wire                  clear_o,           // one-cycle pulse: clear sticky flags
    output wire                  seed_load_o,       // one-cycle pulse: load seed_o into the LFSR
    output wire                  mode_o,            // 0 inference, 1 train
    output wire [15:0]           batch_o,
    output wire [LR_W-1:0]       lr_o,
    output wire [31:0]           seed_o,
    output wire [$clog2(MAX_LAYERS+1)-1:0] num_layers_o,  // NL_W bits
    output wire                  head_o,            // 0 softmax_ce, 1 sigmoid_mse

    // status from the core
    input  wire                  busy_i,
    input  wire                  done_i,            // pulse: step finished
    input  wire                  error_i,           // pulse: step aborted, code on err_code_i
    input  wire [7:0]            err_code_i,
    input  wire                  sticky_ovf_i,
    input  wire [31:0]           cyc_total_i,
    input  wire [31:0]           cyc_fwd_i,
    input  wire [31:0]           cyc_bwd_i,
    input  wire [31:0]           steps_i,

    // descriptor read port (controller side)
    input  wire [$clog2(4*MAX_LAYERS)-1:0] desc_addr_i,  // DA_W bits: word address 4*layer + word
    output wire [31:0]           desc_data_o,       // registered: 1 cycle after desc_addr_i

    // weight memory port (to the core)
    output wire                  wmem_req_o,
    output wire                  wmem_we_o,
    output wire [$clog2(WMEM_DEPTH)-1:0] wmem_addr_o,   // WA_W bits
    output wire [W_W-1:0]        wmem_wdata_o,
    input  wire                  wmem_gnt_i,        // request accepted (write done / read under way)
    input  wire                  wmem_err_i,        // request refused
    input  wire                  wmem_rvalid_i,
    input  wire [W_W-1:0]        wmem_rdata_i
);

    // register map, CTRL / STATUS bits (REG_*, RI_*, CTRL_*, ST_*), generated from golden/isa.py
`include "cnn_core_defs.vh"
    localparam integer NL_W      = $clog2(MAX_LAYERS + 1);      // NUM_LAYERS width
    localparam integer DESC_N    = DESC_WORDS * MAX_LAYERS;             // descriptor words
    localparam integer DA_W      = $clog2(DESC_N);              // descriptor word-address width
    localparam integer WA_W      = $clog2(WMEM_DEPTH);          // weight element-address width
    localparam integer TO_W      = $clog2(WMEM_TIMEOUT + 1);    // timeout counter width
    localparam [31:0]  DESC_WA   = WA_DESC_BASE;                // word address of the descriptor table
    localparam [31:0]  WMEM_WA   = WA_WMEM_BASE;                // word address of the weight window
    localparam [1:0]   OKAY      = 2'b00;
    localparam [1:0]   SLVERR    = 2'b10;
    localparam [1:0]   E_IDLE    = 2'd0;                        // engine: waiting for a request
    localparam [1:0]   E_DESC    = 2'd1;                        // descriptor RAM read under way
    localparam [1:0]   E_WREQ    = 2'd2;                        // weight request, waiting for grant
    localparam [1:0]   E_WWAIT   = 2'd3;                        // weight read granted, waiting data

    // ---------------------------------------------------------------- request capture
    reg                aw_full_q, w_full_q, ar_full_q;
    reg  [ADDR_W-1:2]  aw_addr_q, ar_addr_q;   // word addresses
    reg  [31:0]        w_data_q;
    reg  [3:0]         w_strb_q;
    reg                bvalid_q, rvalid_q;
    reg  [1:0]         bresp_q, rresp_q;
    reg  [31:0]        rdata_q;

    // each capture register takes a new request when empty; it empties when its access completes
    assign s_axil_awready_o = ~aw_full_q;
    assign s_axil_wready_o  = ~w_full_q;
    assign s_axil_arready_o = ~ar_full_q;
    assign s_axil_bvalid_o  = bvalid_q;
    assign s_axil_bresp_o   = bresp_q;
    assign s_axil_rvalid_o  = rvalid_q;
    assign s_axil_rresp_o   = rresp_q;
    assign s_axil_rdata_o   = rdata_q;

    // byte-address bits [1:0] are ignored (word accesses; WSTRB != 4'hF is rejected)
    wire unused_addr_lsb = ^{s_axil_awaddr_i[1:0], s_axil_araddr_i[1:0]};

    always @(posedge clk) begin
        if (s_axil_awvalid_i && !aw_full_q) aw_addr_q <= s_axil_awaddr_i[ADDR_W-1:2];
        if (s_axil_wvalid_i && !w_full_q) begin
            w_data_q <= s_axil_wdata_i;
            w_strb_q <= s_axil_wstrb_i;
        end
        if (s_axil_arvalid_i && !ar_full_q) ar_addr_q <= s_axil_araddr_i[ADDR_W-1:2];
    end

    // ---------------------------------------------------------------- registers
    reg                mode_q, head_q;
    reg  [15:0]        batch_q;
    reg  [LR_W-1:0]    lr_q;
    reg  [31:0]        seed_q;
    reg  [NL_W-1:0]    nl_q;
    reg                start_q, clear_q, seed_load_q;
    reg                done_q, error_q, rej_q;
    reg  [7:0]         code_q;

    assign start_o      = start_q;
    assign clear_o      = clear_q;
    assign seed_load_o  = seed_load_q;
    assign mode_o       = mode_q;
    assign batch_o      = batch_q;
    assign lr_o         = lr_q;
    assign seed_o       = seed_q;
    assign num_layers_o = nl_q;
    assign head_o       = head_q;

    // ---------------------------------------------------------------- engine arbitration
    reg  [1:0]         st_q;
    reg                last_wr_q;          // the previous engine access was a write
    reg                op_wr_q;            // the weight access under way is a write
    wire               wr_pend = aw_full_q & w_full_q & ~bvalid_q;
    wire               rd_pend = ar_full_q & ~rvalid_q;
    wire               pick_wr = wr_pend & (~rd_pend | ~last_wr_q);
    wire               go      = (st_q == E_IDLE) & (wr_pend | rd_pend);

    // ---------------------------------------------------------------- address decode
    wire [ADDR_W-1:2]  op_addr = pick_wr ? aw_addr_q : ar_addr_q;
    wire [31:0]        wa      = {{(34 - ADDR_W){1'b0}}, op_addr};
    wire [3:0]         ridx    = wa[3:0];
    // registers: the word indices RI_VALID marks (below 16); read-only: those RI_RO marks
    wire               dec_reg  = (wa < 32'd16) && RI_VALID[ridx];
    wire               dec_ro   = RI_RO[ridx];                      // with dec_reg
    wire               dec_desc = (wa >= DESC_WA) && (wa < DESC_WA + DESC_N);
    wire               dec_wmem = (wa >= WMEM_WA) && (wa < WMEM_WA + WMEM_DEPTH);
    // offsets inside a region: only the low bits of the difference matter
    wire [DA_W-1:0]    desc_idx = wa[DA_W-1:0] - DESC_WA[DA_W-1:0];
    wire [WA_W-1:0]    wmem_idx = wa[WA_W-1:0] - WMEM_WA[WA_W-1:0];

    // ---------------------------------------------------------------- write checks
    wire [31:0]        wd       = w_data_q;
    wire               ctrl_wok = ~busy_i | ~(wd[CTRL_START] | wd[CTRL_SEED_LOAD] | (wd[CTRL_MODE] ^ mode_q));
    reg                reg_wok;
    always @* begin
        case (ridx)
            RI_CTRL:  reg_wok = ctrl_wok;
            RI_BATCH: reg_wok = ~busy_i & (wd[31:16] == 16'd0) & (wd[15:0] != 16'd0);
            RI_LR:    reg_wok = ~busy_i & (wd[31:LR_W-1] == {(33 - LR_W){1'b0}}) & (wd[LR_W-2:0] != {(LR_W - 1){1'b0}});
            RI_SEED:  reg_wok = ~busy_i & (wd != 32'd0);
            RI_NUM_LAYERS: reg_wok = ~busy_i & (wd <= MAX_LAYERS);
            RI_HEAD:  reg_wok = ~busy_i & (wd[31:1] == 31'd0);
            default: reg_wok = 1'b0;      // STATUS and counters are read-only
        endcase
    end
    wire               wmem_fits = (wd[31:W_W-1] == {(33 - W_W){wd[W_W-1]}});  // sign extension of the code
    wire               w_ok = (w_strb_q == 4'hF) &
                              ((dec_reg & ~dec_ro & reg_wok) | (dec_desc & ~busy_i) |
                               (dec_wmem & ~busy_i & wmem_fits));

    // ---------------------------------------------------------------- read mux
    reg  [31:0]        status;
    always @* begin
        status = 32'd0;
        status[ST_BUSY] = busy_i;
        status[ST_DONE] = done_q;
        status[ST_ERROR] = error_q;
        status[ST_OVF] = sticky_ovf_i;
        status[ST_REJ] = rej_q;
        status[ST_CODE_LSB +: ST_CODE_W] = code_q;
    end
    reg  [31:0]        reg_rdata;
    always @* begin
        case (ridx)
            RI_CTRL:       begin reg_rdata = 32'd0; reg_rdata[CTRL_MODE] = mode_q; end
            RI_STATUS:     reg_rdata = status;
            RI_BATCH:      reg_rdata = {16'd0, batch_q};
            RI_LR:         reg_rdata = {{(32 - LR_W){1'b0}}, lr_q};
            RI_SEED:       reg_rdata = seed_q;
            RI_NUM_LAYERS: reg_rdata = {{(32 - NL_W){1'b0}}, nl_q};
            RI_HEAD:       reg_rdata = {31'd0, head_q};
            RI_CYC_TOTAL:  reg_rdata = cyc_total_i;
            RI_CYC_FWD:    reg_rdata = cyc_fwd_i;
            RI_CYC_BWD:    reg_rdata = cyc_bwd_i;
            RI_STEPS:      reg_rdata = steps_i;
            default: reg_rdata = 32'd0;
        endcase
    end

    // ---------------------------------------------------------------- descriptor RAM
    // one write port (host), two registered read ports (host, controller): maps to block RAM
    reg  [31:0]        desc_mem [0:(1 << DA_W) - 1];
    reg  [31:0]        desc_host_q, desc_core_q;
    wire [DA_W-1:0]    ar_desc  = ar_addr_q[DA_W+1:2] - DESC_WA[DA_W-1:0];   // host read index
    reg                desc_we;
    integer            i;
    initial begin
        for (i = 0; i < (1 << DA_W); i = i + 1) desc_mem[i] = 32'd0;
    end
    always @(posedge clk) begin
        if (desc_we) desc_mem[desc_idx] <= wd;
        desc_host_q <= desc_mem[ar_desc];
        desc_core_q <= desc_mem[desc_addr_i];
    end
    assign desc_data_o = desc_core_q;

    // ---------------------------------------------------------------- weight port
    reg                wm_req_q, wm_we_q;
    reg  [WA_W-1:0]    wm_addr_q;
    reg  [W_W-1:0]     wm_wdata_q;
    reg  [TO_W-1:0]    to_cnt_q;
    localparam [31:0]  TO_LAST32 = WMEM_TIMEOUT - 1;               // last cycle of the wait
    localparam [31:0]  TO_END32  = WMEM_TIMEOUT;                   // first cycle past the wait
    localparam [TO_W-1:0] TO_LAST = TO_LAST32[TO_W-1:0];
    localparam [TO_W-1:0] TO_END  = TO_END32[TO_W-1:0];
    // to_cnt_q = k - 1 in the k-th cycle of an access at the port, saturating at WMEM_TIMEOUT
    wire               tmo  = (to_cnt_q == TO_LAST);  // last cycle in which a grant is taken
    wire               tend = (to_cnt_q == TO_END);   // past the last cycle for read data
    wire [31:0]        wm_rsext = {{(32 - W_W){wmem_rdata_i[W_W-1]}}, wmem_rdata_i};
    assign wmem_req_o   = wm_req_q;
    assign wmem_we_o    = wm_we_q;
    assign wmem_addr_o  = wm_addr_q;
    assign wmem_wdata_o = wm_wdata_q;

    // ---------------------------------------------------------------- engine
    reg  [1:0]         st_d;
    reg                fin_wr, fin_rd, fin_err, port_start, reg_we;
    reg  [31:0]        fin_data;
    always @* begin
        st_d       = st_q;
        fin_wr     = 1'b0;
        fin_rd     = 1'b0;
        fin_err    = 1'b0;
        fin_data   = 32'd0;
        port_start = 1'b0;
        reg_we     = 1'b0;
        desc_we    = 1'b0;
        case (st_q)
            E_IDLE: if (go) begin
                if (pick_wr) begin
                    if (!w_ok) begin
                        fin_wr  = 1'b1;
                        fin_err = 1'b1;
                    end else if (dec_wmem) begin
                        port_start = 1'b1;
                        st_d       = E_WREQ;
                    end else begin
                        fin_wr  = 1'b1;
                        reg_we  = dec_reg;
                        desc_we = dec_desc;
                    end
                end else begin
                    if (dec_desc) begin
                        st_d = E_DESC;
                    end else if (dec_wmem) begin
                        port_start = 1'b1;
                        st_d       = E_WREQ;
                    end else begin
                        fin_rd   = 1'b1;
                        fin_err  = ~dec_reg;
                        fin_data = dec_reg ? reg_rdata : 32'd0;
                    end
                end
            end
            E_DESC: begin
                fin_rd   = 1'b1;
                fin_data = desc_host_q;
                st_d     = E_IDLE;
            end
            E_WREQ: if (wmem_err_i || (tmo && !wmem_gnt_i)) begin   // refused, or no answer in time
                fin_wr  = op_wr_q;
                fin_rd  = ~op_wr_q;
                fin_err = 1'b1;
                st_d    = E_IDLE;
            end else if (wmem_gnt_i) begin
                if (op_wr_q) begin
                    fin_wr = 1'b1;
                    st_d   = E_IDLE;
                end else if (wmem_rvalid_i) begin
                    fin_rd   = 1'b1;
                    fin_data = wm_rsext;
                    st_d     = E_IDLE;
                end else begin
                    st_d = E_WWAIT;
                end
            end
            default: if (wmem_rvalid_i && !tend) begin   // E_WWAIT
                fin_rd   = 1'b1;
                fin_data = wm_rsext;
                st_d     = E_IDLE;
            end else if (tend) begin
                fin_rd  = 1'b1;
                fin_err = 1'b1;
                st_d    = E_IDLE;
            end
        endcase
    end

    wire ctrl_we = reg_we & (ridx == RI_CTRL);
    wire clr     = ctrl_we & (wd[CTRL_START] | wd[CTRL_CLEAR]);    // start or clear empties the sticky flags

    always @(posedge clk) begin
        // control state
        if (rst) begin
            aw_full_q   <= 1'b0;
            w_full_q    <= 1'b0;
            ar_full_q   <= 1'b0;
            bvalid_q    <= 1'b0;
            rvalid_q    <= 1'b0;
            st_q        <= E_IDLE;
            last_wr_q   <= 1'b0;
            wm_req_q    <= 1'b0;
            start_q     <= 1'b0;
            clear_q     <= 1'b0;
            seed_load_q <= 1'b0;
            mode_q      <= 1'b0;
            head_q      <= 1'b0;
            batch_q     <= BATCH_RESET;
            lr_q        <= LR_RESET[LR_W-1:0];
            seed_q      <= SEED_RESET;
            nl_q        <= {NL_W{1'b0}};
            done_q      <= 1'b0;
            error_q     <= 1'b0;
            code_q      <= 8'd0;
            rej_q       <= 1'b0;
        end else begin
            st_q <= st_d;
            if (s_axil_awvalid_i && !aw_full_q) aw_full_q <= 1'b1;
            else if (fin_wr)                    aw_full_q <= 1'b0;
            if (s_axil_wvalid_i && !w_full_q)   w_full_q  <= 1'b1;
            else if (fin_wr)                    w_full_q  <= 1'b0;
            if (s_axil_arvalid_i && !ar_full_q) ar_full_q <= 1'b1;
            else if (fin_rd)                    ar_full_q <= 1'b0;
            if (fin_wr)                         bvalid_q  <= 1'b1;
            else if (s_axil_bready_i)           bvalid_q  <= 1'b0;
            if (fin_rd)                         rvalid_q  <= 1'b1;
            else if (s_axil_rready_i)           rvalid_q  <= 1'b0;
            if (go) last_wr_q <= pick_wr;
            if (fin_wr || fin_rd) rej_q <= fin_err;
            // weight request: held until granted, refused or timed out
            if (port_start)                     wm_req_q  <= 1'b1;
            else if (wmem_gnt_i || wmem_err_i || tmo) wm_req_q <= 1'b0;
            // register writes (checked by w_ok)
            start_q     <= ctrl_we & wd[CTRL_START];
            clear_q     <= ctrl_we & wd[CTRL_CLEAR];
            seed_load_q <= ctrl_we & wd[CTRL_SEED_LOAD];
            if (ctrl_we)                        mode_q  <= wd[CTRL_MODE];
            if (reg_we && ridx == RI_BATCH)     batch_q <= wd[15:0];
            if (reg_we && ridx == RI_LR)        lr_q    <= wd[LR_W-1:0];
            if (reg_we && ridx == RI_SEED)      seed_q  <= wd;
            if (reg_we && ridx == RI_NUM_LAYERS) nl_q    <= wd[NL_W-1:0];
            if (reg_we && ridx == RI_HEAD)      head_q  <= wd[0];
            // sticky flags: a set in the same cycle as start / clear wins
            done_q  <= done_i | (done_q & ~clr);
            error_q <= error_i | (error_q & ~clr);
            if (error_i && (!error_q || clr))   code_q  <= err_code_i;
            else if (clr)                       code_q  <= 8'd0;
        end
    end

    // datapath state of the engine
    always @(posedge clk) begin
        if (fin_wr) bresp_q <= fin_err ? SLVERR : OKAY;
        if (fin_rd) begin
            rresp_q <= fin_err ? SLVERR : OKAY;
            rdata_q <= fin_data;
        end
        if (go) op_wr_q <= pick_wr;
        if (port_start) begin
            wm_we_q    <= pick_wr;
            wm_addr_q  <= wmem_idx;
            wm_wdata_q <= wd[W_W-1:0];
            to_cnt_q   <= {TO_W{1'b0}};
        end else if (!tend) begin
            to_cnt_q   <= to_cnt_q + 1'b1;
        end
    end

`ifndef SYNTHESIS
    initial begin
        if (DATA_W != 32) begin
            $display("axil_regs: DATA_W must be 32 (got %0d)", DATA_W);
            $finish;
        end
    end
`endif

endmodule

`resetall

// LANES-wide sigmoid stream: forward s = sigmoid(x) by table + interpolation, backward delta * s(1-s).
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/sigmoid.py (fwd, deriv, back). Per beat, s_mode_i selects
//   0  forward        s_x_i = x (act codes)                 -> m_y_o = s = sigmoid(x)   (act codes)
//   1  backward       s_x_i = s, s_g_i = delta (DF frac)    -> m_y_o = requantize(delta * ds, FA)
//   2  head backward  s_x_i = s, s_g_i = e = O - y (FA frac) -> m_y_o = requantize(e * ds, 2*FA - DF)
//   3  reserved (behaves as 2)
// where ds = requantize(s * (2^FA - s), FA, act, half_up) and the backward narrowing goes to the
// delta format (DW, DF) with rounding ROUND_BWD, saturating. m_ovf_o flags (per lane) that this
// backward narrowing saturated; it is 0 in forward beats (golden fwd has no flag).
// s_g_i lanes are GW = max(W, DW) bits wide and must hold the code sign-extended to GW bits;
// m_y_o lanes are OW = max(W, DW) bits wide, the result sign-extended (W-bit s or DW-bit delta).
//
// Table: 256 ROM words {D[i], T[i]} (Q0.16, rtl/tables/sigmoid.hex from scripts/export_tables.py).
// One ROM per lane, read through a registered (enabled) port so synthesis maps it to block RAM
// (ECP5 EBR / iCE40 SB_RAM40_4K). A shared dual-port ROM would not save anything on the targets:
// iCE40 block RAMs have one read port, and ECP5 true dual-port mode is at most 18 bits wide, so a
// 32-bit dual-read ROM takes as many EBRs as two single-port ones.
// TABLE_FILE: Icarus resolves $readmemh relative to the simulation working directory, so the
// testbench passes an absolute path; Yosys also tries the path relative to this source file, so
// the default works for `read_verilog rtl/sigmoid.v` from the repository root; Verilator lint does
// not read the file.
//
// Pipeline (the whole datapath moves on per-stage enables; a stage takes a new beat when it is
// empty or its contents move on, so there is no bubble and full throughput under m_ready_i = 1):
//   stage 1  ROM address from x, registered ROM read; operands registered
//   stage 2  interpolation + forward narrowing (mode 0), or ds = s(1-s) narrowing (modes 1, 2)
//   stage 3  delta * ds and the backward narrowing; output register
// s_ready_o depends combinationally on m_ready_i (through the stage enables); there is no path from
// s_valid_i to m_valid_o. The ROM is read (enabled) only for forward beats.
// Latency: 3 cycles from the input accept (s_valid_i && s_ready_o at an edge) to m_valid_o, without
// back-pressure.

module sigmoid #(
    parameter integer LANES      = 1,                     // values per beat, 1..32
    parameter integer W          = 16,                    // act code width (x, s, e)
    parameter integer FA         = 8,                     // act fractional bits, >= 4
    parameter integer DW         = 16,                    // delta code width
    parameter integer DF         = 12,                    // delta fractional bits
    parameter integer ROUND_BWD  = 1,                     // backward rounding: 0 truncate, 1 half-up, 2 half-even
    parameter        TABLE_FILE = "tables/sigmoid.hex"    // $readmemh file of the 256 x 32-bit table
) (
    input  wire                    clk,
    input  wire                    rst,

    // sink stream: one beat = LANES values and one mode
    input  wire                    s_valid_i,
    output wire                    s_ready_o,
    input  wire [1:0]              s_mode_i,       // 0 forward, 1 backward, 2 head backward
    input  wire [LANES*W-1:0]      s_x_i,          // x (mode 0) or s (modes 1, 2), act codes
    input  wire [LANES*GW-1:0]     s_g_i,          // delta (mode 1) or e (mode 2), sign-extended

    // source stream
    output wire                    m_valid_o,
    input  wire                    m_ready_i,
    output wire [1:0]              m_mode_o,       // mode of this beat
    output wire [LANES*OW-1:0]     m_y_o,          // s (mode 0) or delta_z (modes 1, 2), sign-extended
    output wire [LANES-1:0]        m_ovf_o         // backward narrowing saturated
);

    // ------------------------------------------------------------------ derived sizes
    localparam integer GW    = (W > DW) ? W : DW;            // gradient input lane width
    localparam integer OW    = (W > DW) ? W : DW;            // output lane width
    localparam integer FB    = FA - 4;                       // interpolation fraction bits (16 segments per unit)
    localparam integer FBW   = (FB > 0) ? FB : 1;            // its register width (FB = 0: f is always 0)
    localparam integer UW    = ((W > FA + 5) ? W : FA + 5) + 1;  // x + 8: holds the sum and its sign
    localparam integer OMW   = ((W > FA + 2) ? W : FA + 2) + 1;  // 2^FA - s
    localparam integer PDW   = W + OMW;                      // s * (2^FA - s)
    localparam integer PIW   = 16 + FBW + 1;                 // D * f, signed container
    localparam integer YW    = 19;                           // T + interp (< 2^17), signed container
    localparam integer PBW   = GW + W;                       // g * ds
    localparam integer SH_Y  = 16 - FA;                      // Q0.16 table value -> act
    localparam integer SH_B1 = FA;                           // delta (DF) * ds (FA) -> DF
    localparam integer SH_B2 = 2 * FA - DF;                  // e (FA) * ds (FA) -> DF
    localparam integer RW_I  = (FB > 0) ? FB : 1;            // rnd_i widths of the requantize instances
    localparam integer RW_Y  = (SH_Y > 0) ? SH_Y : 1;
    localparam integer RW_D  = (FA > 0) ? FA : 1;
    localparam integer RW_B1 = (SH_B1 > 0) ? SH_B1 : 1;
    localparam integer RW_B2 = (SH_B2 > 0) ? SH_B2 : 1;

`ifndef SYNTHESIS
    initial begin
        if (LANES < 1 || LANES > 32 || FA < 4 || ROUND_BWD < 0 || ROUND_BWD > 2) begin
            $display("sigmoid: bad parameters LANES=%0d FA=%0d ROUND_BWD=%0d", LANES, FA, ROUND_BWD);
            $finish;
        end
    end
`endif

    // ------------------------------------------------------------------ pipeline control
    reg  v1_q, v2_q, v3_q;
    reg  [1:0] mode1_q, mode2_q, mode3_q;
    wire en3 = !v3_q || m_ready_i;        // output register free or being taken
    wire en2 = !v2_q || en3;
    wire en1 = !v1_q || en2;
    wire ld1 = en1 && s_valid_i;          // a beat enters stage 1
    wire ld2 = en2 && v1_q;
    wire ld3 = en3 && v2_q;

    // ready rises when stage 1 is empty or its beat moves on (depends on m_ready_i through the stages)
    assign s_ready_o = en1;
    assign m_valid_o = v3_q;
    assign m_mode_o  = mode3_q;

    always @(posedge clk) begin
        if (rst) begin
            v1_q <= 1'b0;
            v2_q <= 1'b0;
            v3_q <= 1'b0;
        end else begin
            if (en1) v1_q <= s_valid_i;
            if (en2) v2_q <= v1_q;
            if (en3) v3_q <= v2_q;
        end
    end

    always @(posedge clk) begin
        if (ld1) mode1_q <= s_mode_i;
        if (ld2) mode2_q <= mode1_q;
        if (ld3) mode3_q <= mode2_q;
    end

    wire fwd1 = (mode1_q == 2'd0);
    wire bwd2_head = mode2_q[1];

    // ------------------------------------------------------------------ lanes
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            // ---------------- stage 1: ROM address, registered read, operands
            wire signed [W-1:0]  x_in = s_x_i[l*W +: W];
            wire signed [UW-1:0] u_in = {{(UW-W){x_in[W-1]}}, x_in}
                                      + ({{(UW-1){1'b0}}, 1'b1} <<< (FA + 3));
            wire under_in = u_in[UW-1];                                  // x < -8
            wire over_in  = !u_in[UW-1] && (u_in[UW-2:FA+4] != {(UW-FA-5){1'b0}});  // x >= 8
            wire [7:0] addr = under_in ? 8'd0 : (over_in ? 8'd255 : u_in[FA+3:FA-4]);

            reg [31:0] rom [0:255];
            initial $readmemh(TABLE_FILE, rom);

            reg        [31:0]    rom1_q;
            reg signed [W-1:0]   a1_q;
            reg signed [GW-1:0]  g1_q;
            always @(posedge clk) begin
                if (ld1 && s_mode_i == 2'd0) rom1_q <= rom[addr];        // read only in forward beats
                if (ld1) begin
                    a1_q <= x_in;
                    g1_q <= s_g_i[l*GW +: GW];
                end
            end

            // ---------------- stage 2: interpolation (mode 0) or ds (modes 1, 2)
            wire signed [UW-1:0] u1 = {{(UW-W){a1_q[W-1]}}, a1_q}
                                    + ({{(UW-1){1'b0}}, 1'b1} <<< (FA + 3));
            wire under1 = u1[UW-1];
            wire over1  = !u1[UW-1] && (u1[UW-2:FA+4] != {(UW-FA-5){1'b0}});
            wire [FBW-1:0] f1;
            if (FB > 0) begin : g_frac
                assign f1 = (under1 || over1) ? {FBW{1'b0}} : u1[FB-1:0];
            end else begin : g_nofrac
                assign f1 = 1'b0;
                wire unused_under = under1;                          // f is 0 anyway
            end
            wire [15:0] t1 = rom1_q[15:0];
            wire [15:0] d1 = rom1_q[31:16];

            // (D * f) >> FB, floor
            wire [16+FBW-1:0]     pi_u = d1 * f1;
            wire signed [PIW-1:0] pi   = {1'b0, pi_u};
            wire signed [16:0]    interp;
            wire                  unused_ovf_i;
            requantize #(.IN_W(PIW), .OUT_W(17), .SHIFT(FB), .ROUND(0), .OVERFLOW(0)) u_rq_interp (
                .in_i(pi), .rnd_i({RW_I{1'b0}}), .out_o(interp), .ovf_o(unused_ovf_i));

            // y16 = T[i] + interp, or T[256] = T[255] + D[255] above the range (address 255)
            wire [16:0]          step = over1 ? {1'b0, d1} : interp[16:0];
            wire signed [YW-1:0] y16  = $signed({3'b000, t1}) + $signed({2'b00, step});
            wire signed [W-1:0]  s_fwd;
            wire                 unused_ovf_y;
            requantize #(.IN_W(YW), .OUT_W(W), .SHIFT(SH_Y), .ROUND(1), .OVERFLOW(0)) u_rq_fwd (
                .in_i(y16), .rnd_i({RW_Y{1'b0}}), .out_o(s_fwd), .ovf_o(unused_ovf_y));

            // ds = requantize(s * (2^FA - s), FA, act, half_up)
            wire signed [OMW-1:0] one_c = {{(OMW-FA-1){1'b0}}, 1'b1, {FA{1'b0}}};
            wire signed [OMW-1:0] om    = one_c - {{(OMW-W){a1_q[W-1]}}, a1_q};
            wire signed [PDW-1:0] pd    = a1_q * om;
            wire signed [W-1:0]   ds;
            wire                  unused_ovf_d;
            requantize #(.IN_W(PDW), .OUT_W(W), .SHIFT(FA), .ROUND(1), .OVERFLOW(0)) u_rq_ds (
                .in_i(pd), .rnd_i({RW_D{1'b0}}), .out_o(ds), .ovf_o(unused_ovf_d));

            reg signed [W-1:0]  r2_q;      // s (mode 0) or ds (modes 1, 2)
            reg signed [GW-1:0] g2_q;
            always @(posedge clk) begin
                if (ld2) begin
                    r2_q <= fwd1 ? s_fwd : ds;
                    g2_q <= g1_q;
                end
            end

            // ---------------- stage 3: g * ds, backward narrowing, output register
            wire signed [PBW-1:0] pb = g2_q * r2_q;
            wire signed [DW-1:0]  dz1, dz2;
            wire                  ovf1, ovf2;
            requantize #(.IN_W(PBW), .OUT_W(DW), .SHIFT(SH_B1), .ROUND(ROUND_BWD), .OVERFLOW(0)) u_rq_b1 (
                .in_i(pb), .rnd_i({RW_B1{1'b0}}), .out_o(dz1), .ovf_o(ovf1));
            requantize #(.IN_W(PBW), .OUT_W(DW), .SHIFT(SH_B2), .ROUND(ROUND_BWD), .OVERFLOW(0)) u_rq_b2 (
                .in_i(pb), .rnd_i({RW_B2{1'b0}}), .out_o(dz2), .ovf_o(ovf2));
            wire signed [DW-1:0] dz = bwd2_head ? dz2 : dz1;

            reg signed [OW-1:0] y3_q;
            reg                 ovf3_q;
            always @(posedge clk) begin
                if (ld3) begin
                    if (mode2_q == 2'd0) begin
                        y3_q   <= {{(OW-W+1){r2_q[W-1]}}, r2_q[W-2:0]};
                        ovf3_q <= 1'b0;
                    end else begin
                        y3_q   <= {{(OW-DW+1){dz[DW-1]}}, dz[DW-2:0]};
                        ovf3_q <= bwd2_head ? ovf2 : ovf1;
                    end
                end
            end
            assign m_y_o[l*OW +: OW] = y3_q;
            assign m_ovf_o[l]        = ovf3_q;
        end
    endgenerate

endmodule

`resetall

// P-lane pipelined signed multiply-accumulate over a (first, last)-framed operand stream.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/mac_array.py (`stream` is the beat-level model, `lanes` / `dot` the sums).
//
// Per lane l, for every accepted beat:  acc[l] <- (s_first_i ? 0 : acc[l]) + a[l] * b[l]
// A beat with s_last_i emits all P accumulators (including that beat's products) on m_acc_o.
// A sum may go on after a beat with s_last_i (no s_first_i on the next beat: running sums), and a
// sum abandoned without s_last_i emits nothing. The accumulators are zero after reset, so a first
// beat without s_first_i still starts from 0.
// A lane's accumulator wraps at ACC_W bits; the numeric contract (docs/numerics.md) keeps legal
// sums inside it. At the defaults a product is at most 2^30 in magnitude (only (-2^15)*(-2^15)
// reaches it), so 48 bits hold any 2^17 products except 2^17 of exactly (-2^15)*(-2^15), which is
// 2^47, one past the largest code (2^17 - 1 of them fit).
//
// Pipeline (one beat per cycle without back-pressure):
//   stage 0  operand registers  a_q, b_q            (absorbed into SB_MAC16 on iCE40)
//   stage 1  product register   p_q = a_q * b_q     (signed A_W x B_W -> A_W+B_W bits)
//   stage 2  accumulator        acc_q <- (first ? 0 : acc_q) + p_q; acc_q is also the output
// The clear reaches stage 2 as a flop (first1_q: s_first_i, or the first beat after reset), one
// AND gate per bit in front of the adder. A separate result register would remove that gate but
// costs one flop per bit, and on iCE40 the adder output then feeds two flops and cannot pack with
// either (measured at P=8: +390 iCE40 logic cells, no Fmax gain), so acc_q is the output.
// Latency: a beat with s_last_i presented (and accepted) in cycle t gives m_valid_o = 1 in cycle
// t + 3, with m_acc_o holding the sums; i.e. 3 cycles from accept to output valid.
//
// Back-pressure: the whole pipeline advances on one enable, adv. While an emitted result waits
// (m_valid_o && !m_ready_i) and stage 1 holds a beat that would add into the accumulator, every
// stage holds, including the input (s_ready_o = adv); bubbles ahead of stage 2 still fill. This is
// the simple scheme: no result copy or skid buffer, at the cost of stalling the stream while a
// result is not taken. s_ready_o depends combinationally on m_ready_i and on registers, never on
// s_valid_i.
//
// Broadcast (one operand shared by all lanes) needs no option here: the caller drives the same
// A_W bits into every lane slice of s_a_i (or s_b_i); the wiring costs nothing.

module mac_array #(
    parameter integer P     = 8,   // lanes, 1..32
    parameter integer A_W   = 16,  // width of each signed a operand
    parameter integer B_W   = 16,  // width of each signed b operand
    parameter integer ACC_W = 48   // width of each signed accumulator, >= A_W + B_W
) (
    input  wire                 clk,
    input  wire                 rst,

    // operand stream in
    input  wire                 s_valid_i,
    output wire                 s_ready_o,
    input  wire [P*A_W-1:0]     s_a_i,      // lane l in bits [l*A_W +: A_W], signed
    input  wire [P*B_W-1:0]     s_b_i,      // lane l in bits [l*B_W +: B_W], signed
    input  wire                 s_first_i,  // this beat starts a new sum (clear before adding)
    input  wire                 s_last_i,   // this beat ends the sum (emit the P accumulators)

    // accumulator stream out
    output wire                 m_valid_o,
    input  wire                 m_ready_i,
    output wire [P*ACC_W-1:0]   m_acc_o     // lane l in bits [l*ACC_W +: ACC_W], signed
);

    localparam integer PW = A_W + B_W;      // product width

    // elaboration-time parameter checks (simulation only)
`ifndef SYNTHESIS
    initial begin
        if (P < 1 || P > 32) $display("mac_array: error: P=%0d outside 1..32", P);
        if (ACC_W < PW) $display("mac_array: error: ACC_W=%0d < A_W+B_W=%0d", ACC_W, PW);
    end
`endif

    // ------------------------------------------------------------------ control
    reg  m_valid_q;      // acc_q holds an emitted result not yet taken
    reg  v0_q, v1_q;     // stage 0 / stage 1 hold a beat
    reg  first0_q, last0_q, first1_q, last1_q;
    reg  clr_pend_q;     // no beat accepted since reset: the next one starts from zero

    wire emit = v1_q && last1_q;                 // stage 2 completes a sum at this edge (if adv)
    // s_ready_o (= adv) falls only when a refused result would be overwritten by the beat in stage 1
    wire adv  = !(v1_q && m_valid_q && !m_ready_i);
    assign s_ready_o = adv;
    assign m_valid_o = m_valid_q;

    // stage 2 starts the sum from zero (s_first_i, or the first beat after reset)
    wire clear = first1_q;

    always @(posedge clk) begin
        if (rst) begin
            v0_q       <= 1'b0;
            v1_q       <= 1'b0;
            m_valid_q  <= 1'b0;
            clr_pend_q <= 1'b1;
            first0_q   <= 1'b0;
            last0_q    <= 1'b0;
            first1_q   <= 1'b0;
            last1_q    <= 1'b0;
        end else begin
            if (m_ready_i) m_valid_q <= 1'b0;    // the held result is taken
            if (adv) begin
                v0_q      <= s_valid_i;
                first0_q  <= s_first_i || clr_pend_q;
                last0_q   <= s_last_i;
                v1_q      <= v0_q;
                first1_q  <= first0_q;
                last1_q   <= last0_q;
                if (emit) m_valid_q <= 1'b1;
                if (s_valid_i) clr_pend_q <= 1'b0;
            end
        end
    end

    // ------------------------------------------------------------------ lanes
    genvar l;
    generate
        for (l = 0; l < P; l = l + 1) begin : g_lane
            reg  signed [A_W-1:0]   a_q;     // stage 0
            reg  signed [B_W-1:0]   b_q;
            reg  signed [PW-1:0]    p_q;     // stage 1
            reg  signed [ACC_W-1:0] acc_q;   // stage 2 running sum, also the output

            wire signed [PW-1:0]    prod = a_q * b_q;
            wire signed [ACC_W-1:0] prod_ext;
            wire signed [ACC_W-1:0] base = clear ? {ACC_W{1'b0}} : acc_q;

            // datapath: no reset (the control bits above make stale values unobservable)
            always @(posedge clk) begin
                if (adv) begin
                    a_q <= s_a_i[l*A_W +: A_W];
                    b_q <= s_b_i[l*B_W +: B_W];
                    p_q <= prod;
                    if (v1_q) acc_q <= base + prod_ext;
                end
            end

            if (ACC_W > PW) begin : g_ext
                assign prod_ext = {{(ACC_W-PW){p_q[PW-1]}}, p_q};
            end else begin : g_noext
                assign prod_ext = p_q;
            end

            assign m_acc_o[l*ACC_W +: ACC_W] = acc_q;
        end
    endgenerate

endmodule

`resetall

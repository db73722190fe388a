// LANES-wide valid/ready stream unit that narrows IN_W codes to OUT_W codes (rtl/requantize.v per lane).
// Twin: golden.requantize.requantize over the flattened stream of kept lanes, with a sticky overflow
// flag. Latency: 1 cycle (registered output; a beat accepted at edge n is on m_* after edge n).
// Throughput: one beat per cycle; s_ready_o depends combinationally on m_ready_i.
// Stochastic mode (ROUND 3): an internal lfsr.v gives lane l of a beat the state step^(l+1) and steps
// by the number of kept lanes of every accepted beat, so the elements of the stream (in order, kept
// lanes only) consume consecutive LFSR states exactly like golden Lfsr.take; rnd = low SHIFT bits.
// rst reloads SEED. s_keep_i must be contiguous from lane 0 (lanes 0..k-1 valid, k = 0..LANES).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module requantize_unit #(
    parameter integer LANES    = 4,             // elements per beat (1..32)
    parameter integer IN_W     = 48,            // input code width (signed)
    parameter integer OUT_W    = 16,            // output code width (signed)
    parameter integer SHIFT    = 8,             // fractional bits dropped (<= 0: left shift; <= 32 if ROUND 3)
    parameter integer ROUND    = 1,             // 0 truncate, 1 half-up, 2 half-to-even, 3 stochastic
    parameter integer OVERFLOW = 0,             // 0 saturate, 1 wrap
    parameter [31:0]  SEED     = 32'hACE12468   // LFSR state after rst (stochastic mode)
) (
    input  wire                     clk,
    input  wire                     rst,        // synchronous, active high

    // status
    input  wire                     clear_i,    // clears sticky_o (an overflow in the same cycle wins)
    output wire                     sticky_o,   // some kept lane overflowed since rst / clear_i

    // input stream
    input  wire                     s_valid_i,
    output wire                     s_ready_o,
    input  wire [LANES*IN_W-1:0]    s_data_i,   // lane l = s_data_i[l*IN_W +: IN_W], signed
    input  wire [LANES-1:0]         s_keep_i,   // lanes 0..k-1 carry data

    // output stream
    output wire                     m_valid_o,
    input  wire                     m_ready_i,
    output wire [LANES*OUT_W-1:0]   m_data_o,   // lane l = m_data_o[l*OUT_W +: OUT_W], signed
    output wire [LANES-1:0]         m_keep_o
);

    localparam integer RND_W = (SHIFT > 0) ? SHIFT : 1;   // random bits per lane

    // ---------------------------------------------------------------- handshake
    reg                    m_valid_q;
    reg [LANES*OUT_W-1:0]  m_data_q;
    reg [LANES-1:0]        m_keep_q;
    reg                    sticky_q;

    // ready when the output register is empty or is being emptied this cycle
    assign s_ready_o = ~m_valid_q | m_ready_i;
    wire   accept    = s_valid_i & s_ready_o;

    // ---------------------------------------------------------------- random bits
    wire [LANES*32-1:0] rnd_states;     // lane l = step^(l+1) of the current LFSR state

    generate
        if (ROUND == 3) begin : g_lfsr
            wire [31:0] unused_state;
            lfsr #(
                .LANES (LANES),
                .SEED  (SEED)
            ) u_lfsr (
                .clk     (clk),
                .rst     (rst),
                .load_i  (1'b0),
                .seed_i  (32'd0),
                .adv_i   (accept),
                .keep_i  (s_keep_i),
                .state_o (unused_state),
                .next_o  (rnd_states)
            );
        end else begin : g_no_lfsr
            assign rnd_states = {(LANES*32){1'b0}};
        end
    endgenerate

    // ---------------------------------------------------------------- per-lane narrowing
    wire [LANES*OUT_W-1:0] q_data;
    wire [LANES-1:0]       q_ovf;
    wire [LANES*32-1:0]    unused_rnd = rnd_states;   // only the low RND_W bits of a state are used

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            requantize #(
                .IN_W     (IN_W),
                .OUT_W    (OUT_W),
                .SHIFT    (SHIFT),
                .ROUND    (ROUND),
                .OVERFLOW (OVERFLOW)
            ) u_rq (
                .in_i  (s_data_i[l*IN_W +: IN_W]),
                .rnd_i (rnd_states[l*32 +: RND_W]),
                .out_o (q_data[l*OUT_W +: OUT_W]),
                .ovf_o (q_ovf[l])
            );
        end
    endgenerate

    // ---------------------------------------------------------------- output register
    always @(posedge clk) begin
        if (accept) begin
            m_data_q <= q_data;
            m_keep_q <= s_keep_i;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            m_valid_q <= 1'b0;
            sticky_q  <= 1'b0;
        end else begin
            if (accept) begin
                m_valid_q <= 1'b1;
            end else if (m_ready_i) begin
                m_valid_q <= 1'b0;
            end
            if (accept && |(q_ovf & s_keep_i)) begin
                sticky_q <= 1'b1;
            end else if (clear_i) begin
                sticky_q <= 1'b0;
            end
        end
    end

    assign m_valid_o = m_valid_q;
    assign m_data_o  = m_data_q;
    assign m_keep_o  = m_keep_q;
    assign sticky_o  = sticky_q;

`ifndef SYNTHESIS
    initial begin
        if (ROUND == 3 && SHIFT > 32) begin
            $display("%m: ERROR stochastic rounding needs SHIFT <= 32 (LFSR width), got %0d", SHIFT);
            $finish;
        end
    end
`endif

endmodule

`resetall

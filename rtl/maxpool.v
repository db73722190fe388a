// 2x2 stride-2 max-pool over LANES windows per beat: forward max + 2-bit argmax, backward routes each delta to its winner.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/maxpool.py (fwd, back; windows as in golden's _windows).
//
// A window holds 4 codes in raster order: position 0=(0,0) 1=(0,1) 2=(1,0) 3=(1,1). Window l of a beat
// is lane l; position j of lane l occupies bits [(4*l+j)*W +: W] of s_x_i / m_grad_o, the lane's single
// value bits [l*W +: W] of s_delta_i / m_max_o, and its index bits [2*l +: 2] of s_idx_i / m_idx_o.
//
// One module, a mode bit per beat:
//   s_mode_i = 0 (forward):  s_x_i            -> m_max_o = max, m_idx_o = argmax
//                            Tie rule: the first maximum in raster order wins (a later position must
//                            be strictly greater to take over). Compared as a two-level tree,
//                            (0 vs 1) and (2 vs 3), then the right pair only if strictly greater.
//   s_mode_i = 1 (backward): s_delta_i, s_idx_i -> m_grad_o: the delta at position idx, 0 at the others;
//                            m_idx_o echoes s_idx_i.
// m_max_o and m_grad_o share one output register (m_max_o is position 0 of each window's slot):
// in forward beats only m_max_o / m_idx_o are meaningful, in backward beats m_grad_o / m_idx_o.
//
// Latency: 1 cycle (input accept to m_valid_o), one beat per cycle.

module maxpool #(
    parameter integer LANES = 1,   // windows per beat, 1..32
    parameter integer W     = 16   // code width of activations and deltas (signed)
) (
    input  wire                   clk,
    input  wire                   rst,          // synchronous, active high

    // beat in
    input  wire                   s_valid_i,
    output wire                   s_ready_o,
    input  wire                   s_mode_i,     // 0 forward, 1 backward
    input  wire [4*LANES*W-1:0]   s_x_i,        // forward: 4 codes per window
    input  wire [LANES*W-1:0]     s_delta_i,    // backward: one delta per window
    input  wire [2*LANES-1:0]     s_idx_i,      // backward: winner index per window

    // beat out
    output wire                   m_valid_o,
    input  wire                   m_ready_i,
    output wire                   m_mode_o,     // mode of this beat
    output wire [LANES*W-1:0]     m_max_o,      // forward: max per window
    output wire [2*LANES-1:0]     m_idx_o,      // forward: argmax; backward: s_idx_i echoed
    output wire [4*LANES*W-1:0]   m_grad_o      // backward: routed deltas, 4 per window
);

    // ---------------------------------------------------------------- lanes (combinational)
    wire [4*LANES*W-1:0] slot_d;   // forward: max in position 0; backward: the routed window
    wire [2*LANES-1:0]   idx_d;

    genvar l, j;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            wire signed [W-1:0] x0 = s_x_i[(4*l+0)*W +: W];
            wire signed [W-1:0] x1 = s_x_i[(4*l+1)*W +: W];
            wire signed [W-1:0] x2 = s_x_i[(4*l+2)*W +: W];
            wire signed [W-1:0] x3 = s_x_i[(4*l+3)*W +: W];
            // first maximum of each pair, then of the pairs; "strictly greater" keeps the earlier one
            wire                take1  = (x1 > x0);
            wire                take3  = (x3 > x2);
            wire signed [W-1:0] max01  = take1 ? x1 : x0;
            wire signed [W-1:0] max23  = take3 ? x3 : x2;
            wire                take23 = (max23 > max01);
            wire signed [W-1:0] max_f  = take23 ? max23 : max01;
            wire        [1:0]   idx_f  = take23 ? {1'b1, take3} : {1'b0, take1};

            wire        [1:0]   idx_b  = s_idx_i[2*l +: 2];
            wire        [W-1:0] delta  = s_delta_i[l*W +: W];

            assign idx_d[2*l +: 2] = s_mode_i ? idx_b : idx_f;
            for (j = 0; j < 4; j = j + 1) begin : g_pos
                wire [W-1:0] routed = (idx_b == j) ? delta : {W{1'b0}};
                if (j == 0) begin : g_first
                    assign slot_d[(4*l+j)*W +: W] = s_mode_i ? routed : max_f;
                end else begin : g_other
                    assign slot_d[(4*l+j)*W +: W] = s_mode_i ? routed : {W{1'b0}};
                end
            end
        end
    endgenerate

    // ---------------------------------------------------------------- output register
    reg                 valid_q;
    reg                 mode_q;
    reg [4*LANES*W-1:0] slot_q;
    reg [2*LANES-1:0]   idx_q;

    // ready rises whenever the output register is empty or is being emptied this cycle
    assign s_ready_o = ~valid_q | m_ready_i;

    always @(posedge clk) begin
        if (s_ready_o) begin
            valid_q <= s_valid_i;
        end
        if (s_valid_i && s_ready_o) begin
            mode_q <= s_mode_i;
            slot_q <= slot_d;
            idx_q  <= idx_d;
        end
        if (rst) begin
            valid_q <= 1'b0;
        end
    end

    assign m_valid_o = valid_q;
    assign m_mode_o  = mode_q;
    assign m_idx_o   = idx_q;
    assign m_grad_o  = slot_q;

    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_max
            assign m_max_o[l*W +: W] = slot_q[(4*l)*W +: W];
        end
    endgenerate

endmodule

`resetall

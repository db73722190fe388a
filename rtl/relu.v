// ReLU stream over LANES signed codes: forward a = relu(z) with the ReLU' mask, backward delta gated by z > 0.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/relu.py (relu, mask, back). ReLU'(0) = 0: a lane passes only when z > 0.
//
// One beat carries LANES lanes and a mode bit:
//   s_mode_i = 0 (forward):  m_data_o = relu(s_z_i)       s_delta_i is ignored
//   s_mode_i = 1 (backward): m_data_o = s_delta_i if s_z_i > 0 else 0
//   m_mask_o = (s_z_i > 0), one bit per lane, in both modes.
// z and delta share the width W (the default act and delta formats are both 16 bits wide; if they ever
// differ, instantiate with the larger width and sign-extend the narrower stream). No narrowing happens.
// Lane l occupies bits [l*W +: W] of every data bus and bit l of the mask.
//
// Latency: 1 cycle (input accept to m_valid_o), one beat per cycle; the output is a register stage
// that accepts a new beat in the same cycle it hands the held one on.

module relu #(
    parameter integer LANES = 1,   // lanes per beat, 1..32
    parameter integer W     = 16   // code width of z and delta (signed two's complement)
) (
    input  wire                 clk,
    input  wire                 rst,          // synchronous, active high

    // beat in
    input  wire                 s_valid_i,
    output wire                 s_ready_o,
    input  wire                 s_mode_i,     // 0 forward, 1 backward
    input  wire [LANES*W-1:0]   s_z_i,        // pre-activations z (signed codes)
    input  wire [LANES*W-1:0]   s_delta_i,    // backward: dE/da (signed codes)

    // beat out
    output wire                 m_valid_o,
    input  wire                 m_ready_i,
    output wire                 m_mode_o,     // mode of this beat
    output wire [LANES*W-1:0]   m_data_o,     // forward relu(z), backward gated delta
    output wire [LANES-1:0]     m_mask_o      // z > 0 per lane (ReLU' mask)
);

    // ---------------------------------------------------------------- lanes (combinational)
    wire [LANES*W-1:0] data_d;
    wire [LANES-1:0]   mask_d;

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            wire signed [W-1:0] z   = s_z_i[l*W +: W];
            wire        [W-1:0] src = s_mode_i ? s_delta_i[l*W +: W] : s_z_i[l*W +: W];
            assign mask_d[l]          = (z > $signed({W{1'b0}}));
            assign data_d[l*W +: W]   = mask_d[l] ? src : {W{1'b0}};
        end
    endgenerate

    // ---------------------------------------------------------------- output register
    reg               valid_q;
    reg               mode_q;
    reg [LANES*W-1:0] data_q;
    reg [LANES-1:0]   mask_q;

    // ready rises whenever the output register is empty or is being emptied this cycle
    assign s_ready_o = ~valid_q | m_ready_i;

    always @(posedge clk) begin
        if (s_ready_o) begin
            valid_q <= s_valid_i;
        end
        if (s_valid_i && s_ready_o) begin
            mode_q <= s_mode_i;
            data_q <= data_d;
            mask_q <= mask_d;
        end
        if (rst) begin
            valid_q <= 1'b0;
        end
    end

    assign m_valid_o = valid_q;
    assign m_mode_o  = mode_q;
    assign m_data_o  = data_q;
    assign m_mask_o  = mask_q;

endmodule

`resetall

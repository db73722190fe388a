// Squared-error head: per output O_k streams e_k = O_k - y_k (y one-hot at the label) and, with the last element, the loss (sum e^2) >> 1.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/mse_delta.py (error, loss).
//
// Input: one network output O_k per beat (act code, W bits, FA fractional bits), s_last_i on the last
// output of a sample. The label (index of the one-hot target, y = 2^FA there, 0 elsewhere) is sampled
// from s_label_i on the FIRST beat of each sample (the beat after reset or after a s_last_i beat) and
// ignored on the others, so it may either be held for the whole sample or sent with the first beat.
// Elements are numbered 0, 1, ... from the first beat; a sample has at most 2^LBL_W elements and its
// label must be one of them (as golden requires).
//
// Output: one beat per input beat with
//   m_e_o    = O_k - y_k, signed W+1 bits: exact for every W-bit input code (|e| <= 2^FA in contract,
//              0 <= O <= 2^FA, which fits W bits whenever FA <= W-2).
//   m_last_o = s_last_i of that element.
//   m_loss_o = (sum over the sample of e_k^2) >> 1, unsigned LOSS_W bits with 2*FA fractional bits.
//              Valid on the beat with m_last_o = 1 (a sideband of the last element, no extra beat);
//              it holds that value until the next sample's last beat. Exact while the sum of squares
//              is below 2^(LOSS_W+1) (in contract the sum is at most N * 2^(2*FA), e.g. 10 * 2^16);
//              beyond that the accumulator saturates and m_loss_o reads 2^LOSS_W - 1.
//
// Latency: 1 cycle (input accept to m_valid_o), one element per cycle. The square and the running
// sum are computed in the accepting cycle (subtract, (W+1)x(W+1) square, add, clamp).

module mse_delta #(
    parameter integer W      = 16,  // code width of O (signed act format)
    parameter integer FA     = 8,   // fractional bits of O; y = 2^FA at the label (FA <= W-2)
    parameter integer LBL_W  = 4,   // label and element index width: up to 2^LBL_W outputs per sample
    parameter integer LOSS_W = 32   // loss width (unsigned, 2*FA fractional bits), saturating
) (
    input  wire                     clk,
    input  wire                     rst,        // synchronous, active high

    // network outputs in
    input  wire                     s_valid_i,
    output wire                     s_ready_o,
    input  wire signed [W-1:0]      s_o_i,      // O_k
    input  wire        [LBL_W-1:0]  s_label_i,  // sampled on the first beat of a sample
    input  wire                     s_last_i,   // last output of the sample

    // errors and loss out
    output wire                     m_valid_o,
    input  wire                     m_ready_i,
    output wire signed [W:0]        m_e_o,      // e_k = O_k - y_k
    output wire                     m_last_o,   // last element of the sample
    output wire        [LOSS_W-1:0] m_loss_o    // (sum e^2) >> 1, valid with m_last_o
);

    localparam integer EW     = W + 1;                               // error width
    localparam integer SQ_W   = 2 * W;                               // |e| < 2^W, so e^2 < 2^(2W)
    localparam integer ACC_W  = LOSS_W + 1;                          // running sum before the >> 1
    localparam integer SUM_W  = ((ACC_W > SQ_W) ? ACC_W : SQ_W) + 1; // one carry bit above both
    localparam [EW-1:0] Y_ONE = {{(EW-1){1'b0}}, 1'b1} << FA;        // y at the label: 2^FA

`ifndef SYNTHESIS
    initial begin
        if (FA > W - 2) begin
            $display("mse_delta: FA=%0d needs FA <= W-2 (W=%0d)", FA, W);
            $finish;
        end
    end
`endif

    // ---------------------------------------------------------------- sample state
    reg              first_q;   // next beat is the first element of a sample
    reg [LBL_W-1:0]  k_q;       // index of the next element
    reg [LBL_W-1:0]  label_q;   // label of the current sample
    reg [ACC_W-1:0]  acc_q;     // running sum of e^2 over the current sample (saturating)

    wire [LBL_W-1:0] k     = first_q ? {LBL_W{1'b0}} : k_q;
    wire [LBL_W-1:0] label = first_q ? s_label_i : label_q;
    wire [ACC_W-1:0] acc   = first_q ? {ACC_W{1'b0}} : acc_q;

    // ---------------------------------------------------------------- error, square, sum
    wire signed [EW-1:0]    o_ext = {s_o_i[W-1], s_o_i};
    wire signed [EW-1:0]    e     = o_ext - ((k == label) ? $signed(Y_ONE) : $signed({EW{1'b0}}));
    wire signed [2*EW-1:0]  sq_full = e * e;                          // >= 0 and < 2^(2W)
    wire        [SQ_W-1:0]  sq    = sq_full[SQ_W-1:0];
    wire unused_sq = ^sq_full[2*EW-1:SQ_W];                           // always zero
    wire        [SUM_W-1:0] sum   = {{(SUM_W-ACC_W){1'b0}}, acc} + {{(SUM_W-SQ_W){1'b0}}, sq};
    wire                    sat   = |sum[SUM_W-1:ACC_W];
    wire        [ACC_W-1:0] acc_d = sat ? {ACC_W{1'b1}} : sum[ACC_W-1:0];

    // ---------------------------------------------------------------- output register
    reg                valid_q;
    reg signed [EW-1:0] e_q;
    reg                last_q;
    reg [LOSS_W-1:0]   loss_q;

    // ready rises whenever the output register is empty or is being emptied this cycle
    assign s_ready_o = ~valid_q | m_ready_i;
    wire accept = s_valid_i & s_ready_o;

    always @(posedge clk) begin
        if (s_ready_o) begin
            valid_q <= s_valid_i;
        end
        if (accept) begin
            first_q <= s_last_i;
            k_q     <= k + {{(LBL_W-1){1'b0}}, 1'b1};
            label_q <= label;
            acc_q   <= acc_d;
            e_q     <= e;
            last_q  <= s_last_i;
            if (s_last_i) begin
                loss_q <= acc_d[ACC_W-1:1];
            end
        end
        if (rst) begin
            valid_q <= 1'b0;
            first_q <= 1'b1;
        end
    end

    assign m_valid_o = valid_q;
    assign m_e_o     = e_q;
    assign m_last_o  = last_q;
    assign m_loss_o  = loss_q;

endmodule

`resetall

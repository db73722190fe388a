// P-lane gradient accumulate (G' = sat(G + g)) and SGD update (w' = requantize((w << S) - lr*G)) stream.
// Twin: golden/weight_update.py (accumulate, update), one op per beat:
//   s_op_i 0 accumulate  G' = fit(G + g, grad fmt, saturate)                      -> m_acc_o
//   s_op_i 1 update      w' = requantize((w << S) - lr*G, S, weight fmt, ROUND_UPDATE, OVERFLOW, lfsr)
//                                                                                   -> m_w_o
// with S = LR_F + G_F - W_F. Operands per lane: w on s_w_i, G on s_acc_i, g on s_grad_i (s_w_i is
// ignored by accumulate beats, s_grad_i by update beats; m_w_o / m_acc_o are don't-care on the
// other op's beats). lr_i is sampled with every accepted beat (hold it stable across a pass).
// Latency: 3 cycles (input registers, product register, output register); one beat per cycle;
// s_ready_o depends combinationally on m_ready_i (through the stage enables).
// Stochastic rounding: an internal lfsr.v steps only on update beats, by the number of kept lanes,
// lane l of a beat using state step^(l+1): update elements in stream order consume consecutive LFSR
// states exactly like golden Lfsr.take. rst reloads SEED and seed_load_i loads seed_i (the random stream
// restarts; beats in flight at rst are dropped and consume nothing). s_keep_i must be contiguous from lane 0.
// Sticky flags: sticky_acc_o (an accumulate saturated), sticky_upd_o (an update overflowed), set by
// kept lanes only, cleared by rst or clear_i (a set in the same cycle wins).
// Multipliers: lr_q * G_q with both operands and the product registered (maps to DSP blocks).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module weight_update #(
    parameter integer P            = 4,            // lanes per beat (1..32)
    parameter integer W_W          = 16,           // weight code width
    parameter integer W_F          = 12,           // weight fractional bits
    parameter integer G_W          = 24,           // gradient / accumulator code width
    parameter integer G_F          = 16,           // gradient fractional bits
    parameter integer LR_W         = 16,           // learning-rate code width (signed code, value > 0)
    parameter integer LR_F         = 16,           // learning-rate fractional bits
    parameter integer ROUND_UPDATE = 3,            // update rounding: 0 trunc, 1 half-up, 2 half-even, 3 stochastic
    parameter integer OVERFLOW     = 0,            // update overflow: 0 saturate, 1 wrap
    parameter [31:0]  SEED         = 32'hACE12468  // LFSR state after rst (stochastic mode)
) (
    input  wire                  clk,
    input  wire                  rst,            // synchronous, active high

    // control / status
    input  wire [LR_W-1:0]       lr_i,           // learning-rate code, sampled with each beat
    input  wire                  clear_i,        // clears both sticky flags
    input  wire                  seed_load_i,    // LFSR state <= seed_i (stochastic mode; wins over a step)
    input  wire [31:0]           seed_i,
    output wire                  sticky_acc_o,   // an accumulate saturated since rst / clear_i
    output wire                  sticky_upd_o,   // an update overflowed since rst / clear_i

    // operand stream
    input  wire                  s_valid_i,
    output wire                  s_ready_o,
    input  wire                  s_op_i,         // 0 accumulate, 1 update
    input  wire [P-1:0]          s_keep_i,       // lanes 0..k-1 carry data
    input  wire [P*W_W-1:0]      s_w_i,          // weights w (update)
    input  wire [P*G_W-1:0]      s_acc_i,        // accumulators G (both ops)
    input  wire [P*G_W-1:0]      s_grad_i,       // new gradients g (accumulate)

    // result stream
    output wire                  m_valid_o,
    input  wire                  m_ready_i,
    output wire                  m_op_o,
    output wire [P-1:0]          m_keep_o,
    output wire [P*W_W-1:0]      m_w_o,          // w' (update beats)
    output wire [P*G_W-1:0]      m_acc_o         // G' (accumulate beats)
);

    localparam integer S     = LR_F + G_F - W_F;                 // fractional bits dropped by update
    localparam integer PR_W  = LR_W + G_W;                       // product width
    localparam integer WS_W  = W_W + S;                          // width of w << S
    localparam integer D_W   = ((WS_W > PR_W) ? WS_W : PR_W) + 1; // width of (w << S) - lr*G
    localparam integer RND_W = (S > 0) ? S : 1;                  // random bits per lane

    // ---------------------------------------------------------------- pipeline control
    reg  v1_q, v2_q, v3_q;                 // stage valids (stage 3 = output register)
    wire en3 = ~v3_q | m_ready_i;          // stage 3 loads when empty or being emptied
    wire en2 = ~v2_q | en3;
    wire en1 = ~v1_q | en2;
    // ready when stage 1 is empty or moves on this cycle (depends on m_ready_i through en3)
    assign s_ready_o = en1;

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

    // per-beat side band through the stages
    reg         op1_q, op2_q, op3_q;
    reg [P-1:0] keep1_q, keep2_q, keep3_q;
    reg signed [LR_W-1:0] lr1_q;
    always @(posedge clk) begin
        if (en1) begin
            op1_q   <= s_op_i;
            keep1_q <= s_keep_i;
            lr1_q   <= lr_i;
        end
        if (en2) begin
            op2_q   <= op1_q;
            keep2_q <= keep1_q;
        end
        if (en3) begin
            op3_q   <= op2_q;
            keep3_q <= keep2_q;
        end
    end

    // stage-3 transfer of an update / accumulate beat
    wire upd3 = en3 & v2_q & op2_q;
    wire acc3 = en3 & v2_q & ~op2_q;

    // ---------------------------------------------------------------- random bits (stage 2 -> 3)
    wire [P*32-1:0] rnd_states;            // lane l = step^(l+1) of the current LFSR state
    generate
        if (ROUND_UPDATE == 3) begin : g_lfsr
            wire [31:0] unused_state;
            lfsr #(
                .LANES (P),
                .SEED  (SEED)
            ) u_lfsr (
                .clk     (clk),
                .rst     (rst),
                .load_i  (seed_load_i),
                .seed_i  (seed_i),
                .adv_i   (upd3),
                .keep_i  (keep2_q),
                .state_o (unused_state),
                .next_o  (rnd_states)
            );
        end else begin : g_no_lfsr
            wire [32:0] unused_seed = {seed_load_i, seed_i};
            assign rnd_states = {(P*32){1'b0}};
        end
    endgenerate
    wire [P*32-1:0] unused_rnd = rnd_states;   // only the low RND_W bits of a state are used

    // ---------------------------------------------------------------- lanes
    wire [P-1:0] acc_ovf;                  // stage 2: accumulate lane saturated
    wire [P-1:0] upd_ovf;                  // stage 2 -> 3: update lane overflowed
    reg  [P*W_W-1:0] m_w_q;
    reg  [P*G_W-1:0] m_acc_q;

    genvar l;
    generate
        for (l = 0; l < P; l = l + 1) begin : g_lane
            // stage 1: operand registers (multiplier inputs)
            reg signed [W_W-1:0]  w1_q;
            reg signed [G_W-1:0]  a1_q;
            reg signed [G_W-1:0]  g1_q;
            // stage 2: product register, w, saturated sum
            reg signed [PR_W-1:0] prod2_q;
            reg signed [W_W-1:0]  w2_q;
            reg        [G_W-1:0]  sum2_q;
            reg                   sovf2_q;

            always @(posedge clk) begin
                if (en1) begin
                    w1_q <= s_w_i[l*W_W +: W_W];
                    a1_q <= s_acc_i[l*G_W +: G_W];
                    g1_q <= s_grad_i[l*G_W +: G_W];
                end
            end

            // accumulate: G + g in G_W + 1 bits, saturated to G_W
            wire signed [G_W:0]   sum1 = {a1_q[G_W-1], a1_q} + {g1_q[G_W-1], g1_q};
            wire        [G_W-1:0] sum1_sat;
            wire                  sovf1;
            requantize #(
                .IN_W     (G_W + 1),
                .OUT_W    (G_W),
                .SHIFT    (0),
                .ROUND    (0),
                .OVERFLOW (0)
            ) u_acc_sat (
                .in_i  (sum1),
                .rnd_i (1'b0),
                .out_o (sum1_sat),
                .ovf_o (sovf1)
            );

            always @(posedge clk) begin
                if (en2) begin
                    prod2_q <= lr1_q * a1_q;
                    w2_q    <= w1_q;
                    sum2_q  <= sum1_sat;
                    sovf2_q <= sovf1;
                end
            end

            // update: (w << S) - lr*G in D_W bits, narrowed to the weight format
            wire signed [D_W-1:0] w_ext  = {{(D_W-W_W){w2_q[W_W-1]}}, w2_q};
            wire signed [D_W-1:0] p_ext  = {{(D_W-PR_W){prod2_q[PR_W-1]}}, prod2_q};
            wire signed [D_W-1:0] diff   = (w_ext <<< S) - p_ext;
            wire        [W_W-1:0] w_new;
            requantize #(
                .IN_W     (D_W),
                .OUT_W    (W_W),
                .SHIFT    (S),
                .ROUND    (ROUND_UPDATE),
                .OVERFLOW (OVERFLOW)
            ) u_upd_rq (
                .in_i  (diff),
                .rnd_i (rnd_states[l*32 +: RND_W]),
                .out_o (w_new),
                .ovf_o (upd_ovf[l])
            );
            assign acc_ovf[l] = sovf2_q;

            // stage 3: output registers
            always @(posedge clk) begin
                if (en3) begin
                    m_w_q[l*W_W +: W_W]   <= w_new;
                    m_acc_q[l*G_W +: G_W] <= sum2_q;
                end
            end
        end
    endgenerate

    // ---------------------------------------------------------------- sticky flags
    reg sticky_acc_q, sticky_upd_q;
    always @(posedge clk) begin
        if (rst) begin
            sticky_acc_q <= 1'b0;
            sticky_upd_q <= 1'b0;
        end else begin
            if (acc3 && |(acc_ovf & keep2_q)) begin
                sticky_acc_q <= 1'b1;
            end else if (clear_i) begin
                sticky_acc_q <= 1'b0;
            end
            if (upd3 && |(upd_ovf & keep2_q)) begin
                sticky_upd_q <= 1'b1;
            end else if (clear_i) begin
                sticky_upd_q <= 1'b0;
            end
        end
    end

    assign m_valid_o    = v3_q;
    assign m_op_o       = op3_q;
    assign m_keep_o     = keep3_q;
    assign m_w_o        = m_w_q;
    assign m_acc_o      = m_acc_q;
    assign sticky_acc_o = sticky_acc_q;
    assign sticky_upd_o = sticky_upd_q;

`ifndef SYNTHESIS
    initial begin
        if (S < 0) begin
            $display("%m: ERROR LR_F + G_F must be >= W_F (S = %0d)", S);
            $finish;
        end
        if (ROUND_UPDATE == 3 && S > 32) begin
            $display("%m: ERROR stochastic rounding needs S <= 32 (LFSR width), got %0d", S);
            $finish;
        end
    end
`endif

endmodule

`resetall

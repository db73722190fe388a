// 32-bit Galois LFSR (taps 0x80200003, right-shifting) giving LANES look-ahead states per cycle.
// Twin of golden/lfsr.py: step(s) = (s >> 1) ^ (s[0] ? TAPS : 0). next_o lane l carries
// step^(l+1)(state_o); a consumer of k elements this cycle uses lanes 0..k-1 and asserts adv_i with
// keep_i = its lane mask (lanes 0..k-1 set), so the state advances by k and the element stream
// consumes consecutive states exactly like golden Lfsr.take.
// Latency: state_o and next_o follow a load/advance one clock later; next_o is combinational in the
// state register (a chain of LANES steps, each one XOR level on 3 tap bits).
// Priority: rst (loads SEED) > load_i (loads seed_i) > adv_i. A zero seed locks the LFSR at 0
// (golden rejects it); the host must load a non-zero seed.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module lfsr #(
    parameter integer LANES = 1,                  // look-ahead states per cycle (1..32)
    parameter [31:0]  SEED  = 32'hACE12468        // state after rst (non-zero)
) (
    input  wire                  clk,
    input  wire                  rst,             // synchronous, active high: state <= SEED

    // host reseed
    input  wire                  load_i,          // state <= seed_i (wins over adv_i)
    input  wire [31:0]           seed_i,

    // consumer
    input  wire                  adv_i,           // advance the state this cycle ...
    input  wire [LANES-1:0]      keep_i,          // ... by the number of lanes used (contiguous from 0)
    output wire [31:0]           state_o,         // current state
    output wire [LANES*32-1:0]   next_o           // lane l = step^(l+1)(state_o)
);

    localparam integer CNT_W = $clog2(LANES + 1); // width of a lane count
    localparam [31:0]  TAPS  = 32'h80200003;      // x^32 + x^22 + x^2 + x + 1

    reg [31:0] state_q;

    function [31:0] step;                          // one Galois step
        input [31:0] s;
        begin
            step = {1'b0, s[31:1]} ^ ({32{s[0]}} & TAPS);
        end
    endfunction

    function [CNT_W-1:0] popcount;                // lanes used = steps to advance
        input [LANES-1:0] v;
        integer i;
        begin
            popcount = {CNT_W{1'b0}};
            for (i = 0; i < LANES; i = i + 1) begin
                popcount = popcount + {{(CNT_W-1){1'b0}}, v[i]};
            end
        end
    endfunction

    // chain[32*k +: 32] = step^k(state_q), k = 0..LANES
    reg [(LANES+1)*32-1:0] chain;
    integer k;
    always @* begin
        chain[31:0] = state_q;
        for (k = 0; k < LANES; k = k + 1) begin
            chain[32*(k+1) +: 32] = step(chain[32*k +: 32]);
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            state_q <= SEED;
        end else if (load_i) begin
            state_q <= seed_i;
        end else if (adv_i) begin
            state_q <= chain[32*popcount(keep_i) +: 32];
        end
    end

    assign state_o = state_q;
    assign next_o  = chain[(LANES+1)*32-1:32];

`ifndef SYNTHESIS
    // simulation check: the lanes used must be contiguous from lane 0
    always @(posedge clk) begin
        if (!rst && !load_i && adv_i && ((keep_i & (keep_i + 1'b1)) != {LANES{1'b0}})) begin
            $display("%m: ERROR keep_i=%b is not contiguous from lane 0 at %t", keep_i, $time);
        end
    end
`endif

endmodule

`resetall

// Narrow one signed code: drop SHIFT bits with the named rounding mode, then saturate or wrap to OUT_W.
// Combinational; the one narrowing block every datapath instantiates (twin: golden/requantize.py).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module requantize #(
    parameter integer IN_W     = 48,  // input code width (signed)
    parameter integer OUT_W    = 16,  // output code width (signed)
    parameter integer SHIFT    = 8,   // fractional bits dropped; <= 0 is an exact left shift by -SHIFT
    parameter integer ROUND    = 1,   // 0 truncate (floor), 1 half-up, 2 half-to-even, 3 stochastic
    parameter integer OVERFLOW = 0    // 0 saturate, 1 wrap
) (
    // data
    input  wire signed [IN_W-1:0]  in_i,
    input  wire [((SHIFT > 0) ? SHIFT : 1)-1:0] rnd_i,  // stochastic: uniform random bits (LFSR low bits)
    output wire signed [OUT_W-1:0] out_o,
    output wire                    ovf_o    // the value did not fit OUT_W (saturated or wrapped)
);

    localparam integer RSH   = (SHIFT > 0) ? SHIFT : 0;            // right shift amount
    localparam integer LSH   = (SHIFT < 0) ? -SHIFT : 0;           // left shift amount
    localparam integer EXT_W = IN_W + 1 + LSH;                     // rounding may carry one bit up
    localparam integer MIN_W = (EXT_W > OUT_W) ? EXT_W : OUT_W + 1;

    wire signed [MIN_W-1:0] in_ext = {{(MIN_W-IN_W){in_i[IN_W-1]}}, in_i};
    wire signed [MIN_W-1:0] rounded;
    // rnd_i is only read in stochastic mode; the low input bits are dropped by truncation
    wire unused_bits = ^{rnd_i, in_i};

    generate
        if (SHIFT <= 0) begin : g_left
            assign rounded = in_ext <<< LSH;
        end else begin : g_right
            wire signed [MIN_W-1:0] floor_q = in_ext >>> RSH;
            localparam [RSH-1:0] HALF = {1'b1, {(RSH-1){1'b0}}};
            wire                    up;
            if (ROUND == 0) begin : g_trunc
                assign up = 1'b0;
            end else if (ROUND == 1) begin : g_half_up
                assign up = in_i[RSH-1];                                  // remainder >= half
            end else if (ROUND == 2 && RSH == 1) begin : g_half_even1
                assign up = in_i[0] && floor_q[0];                        // exact tie: round to even
            end else if (ROUND == 2) begin : g_half_even
                wire [RSH-1:0] rem = in_i[RSH-1:0];
                assign up = (rem > HALF) || ((rem == HALF) && floor_q[0]);
            end else begin : g_stochastic
                // carry out of rem + rnd: floor((x + r) / 2^s) = floor(x / 2^s) + carry
                wire [RSH:0] sum = {1'b0, in_i[RSH-1:0]} + {1'b0, rnd_i[RSH-1:0]};
                assign up = sum[RSH];
            end
            assign rounded = floor_q + {{(MIN_W-1){1'b0}}, up};
        end
    endgenerate

    // fits OUT_W when every bit above the output sign bit equals it
    wire [MIN_W-OUT_W:0] top = rounded[MIN_W-1:OUT_W-1];
    wire fits = (top == {(MIN_W-OUT_W+1){1'b0}}) || (top == {(MIN_W-OUT_W+1){1'b1}});


    assign ovf_o = ~fits;
    // saturation code: the most negative code for negative values, the most positive otherwise
    wire [OUT_W-1:0] sat_code = rounded[MIN_W-1] ? {1'b1, {(OUT_W-1){1'b0}}} : {1'b0, {(OUT_W-1){1'b1}}};
    assign out_o = (fits || OVERFLOW == 1) ? rounded[OUT_W-1:0] : sat_code;

endmodule

`resetall

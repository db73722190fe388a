// Place-and-route wrapper of mac_array: serial operand shift registers in, XOR-reduced results out.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Used by scripts/synth.py --pnr only (not a design block). A small package cannot bond the
// P*(A_W+B_W) operand and P*ACC_W result pins, so the operands come from two shift registers fed
// by one pin each, and the accumulators leave through a two-stage registered XOR reduction (every
// result bit stays observable, so nothing is optimized away). The paths around mac_array are
// register to register with at most three LUT levels (the reduction is split in 16-bit groups),
// shorter than the accumulator's carry chain, so the reported Fmax is the MAC array's own.

module mac_array_pnr_top #(
    parameter integer P     = 8,   // lanes
    parameter integer A_W   = 16,  // a operand width
    parameter integer B_W   = 16,  // b operand width
    parameter integer ACC_W = 48   // accumulator width
) (
    input  wire clk,
    input  wire rst,

    // serial operands and stream control
    input  wire a_sin_i,      // shifted into the a operand register every cycle
    input  wire b_sin_i,      // shifted into the b operand register every cycle
    input  wire s_valid_i,
    input  wire s_first_i,
    input  wire s_last_i,
    output wire s_ready_o,

    // reduced result stream
    input  wire m_ready_i,
    output wire m_valid_o,
    output reg  m_xor_o       // XOR of all accumulator bits of the last transfers (registered)
);

    localparam integer AN = P * A_W;
    localparam integer BN = P * B_W;
    localparam integer RN = P * ACC_W;
    localparam integer G  = (RN + 15) / 16;   // 16-bit groups of the reduction

    reg  [AN-1:0] a_sr;
    reg  [BN-1:0] b_sr;
    reg           valid_q, first_q, last_q, m_ready_q;
    wire          s_ready;
    wire          m_valid;
    wire [RN-1:0] acc;

    always @(posedge clk) begin
        a_sr      <= {a_sr[AN-2:0], a_sin_i};
        b_sr      <= {b_sr[BN-2:0], b_sin_i};
        valid_q   <= s_valid_i;
        first_q   <= s_first_i;
        last_q    <= s_last_i;
        m_ready_q <= m_ready_i;
    end

    mac_array #(.P(P), .A_W(A_W), .B_W(B_W), .ACC_W(ACC_W)) u_mac (
        .clk(clk), .rst(rst),
        .s_valid_i(valid_q), .s_ready_o(s_ready), .s_a_i(a_sr), .s_b_i(b_sr),
        .s_first_i(first_q), .s_last_i(last_q),
        .m_valid_o(m_valid), .m_ready_i(m_ready_q), .m_acc_o(acc)
    );

    // registered reduction: G group parities, then their XOR
    wire [G*16-1:0] acc_pad;
    generate
        if (G * 16 > RN) begin : g_pad
            assign acc_pad = {{(G*16-RN){1'b0}}, acc};
        end else begin : g_nopad
            assign acc_pad = acc;
        end
    endgenerate
    reg  [G-1:0]    grp_q;
    integer g;
    always @(posedge clk) begin
        for (g = 0; g < G; g = g + 1)
            grp_q[g] <= ^acc_pad[g*16 +: 16];
        m_xor_o <= ^grp_q;
    end

    assign s_ready_o = s_ready;
    assign m_valid_o = m_valid;

endmodule

`resetall

// Board-level top of the training core: its bus ports only, the trace outputs left open.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Used by scripts/synth.py --core and as the template of a board top: a board connects the AXI4-Lite
// slave and the two AXI4-Stream ports and leaves cnn_core's trace_* outputs (observation for
// testbenches, see rtl/cnn_core.v) unconnected, so synthesis removes them and they cost no pins.

module cnn_core_top #(
    parameter integer P           = 8,       // lanes, a power of two 2..32 (rtl/cnn_core.v)
    parameter integer AMEM_DEPTH  = 4096,    // AMEM / DMEM / IMEM elements
    parameter integer WMEM_DEPTH  = 32768,   // WMEM / GMEM elements
    parameter integer MAX_LAYERS  = 16,      // descriptor table size
    parameter integer MAX_CLASSES = 16,      // largest last dense layer
    parameter integer MAX_OUT     = 64       // most filters / dense outputs of a layer
) (
    input  wire        clk,
    input  wire        rst,
    // AXI4-Lite slave: registers, descriptor table, weight window
    input  wire [19:0] s_axil_awaddr_i,
    input  wire        s_axil_awvalid_i,
    output wire        s_axil_awready_o,
    input  wire [31:0] s_axil_wdata_i,
    input  wire [3:0]  s_axil_wstrb_i,
    input  wire        s_axil_wvalid_i,
    output wire        s_axil_wready_o,
    output wire [1:0]  s_axil_bresp_o,
    output wire        s_axil_bvalid_o,
    input  wire        s_axil_bready_i,
    input  wire [19:0] s_axil_araddr_i,
    input  wire        s_axil_arvalid_i,
    output wire        s_axil_arready_o,
    output wire [31:0] s_axil_rdata_o,
    output wire [1:0]  s_axil_rresp_o,
    output wire        s_axil_rvalid_o,
    input  wire        s_axil_rready_i,
    // AXI4-Stream slave: samples (pixels, then the label with tlast)
    input  wire [15:0] s_axis_tdata_i,
    input  wire        s_axis_tvalid_i,
    output wire        s_axis_tready_o,
    input  wire        s_axis_tlast_i,
    // AXI4-Stream master: results (class, logits, loss with tlast)
    output wire [31:0] m_axis_tdata_o,
    output wire        m_axis_tvalid_o,
    input  wire        m_axis_tready_i,
    output wire        m_axis_tlast_o
);

    /* verilator lint_off PINCONNECTEMPTY */
    // the trace outputs are observation only: open on a board
    cnn_core #(
        .P(P), .AMEM_DEPTH(AMEM_DEPTH), .WMEM_DEPTH(WMEM_DEPTH), .MAX_LAYERS(MAX_LAYERS),
        .MAX_CLASSES(MAX_CLASSES), .MAX_OUT(MAX_OUT)
    ) u_core (
        .clk(clk), .rst(rst),
        .s_axil_awaddr_i(s_axil_awaddr_i), .s_axil_awvalid_i(s_axil_awvalid_i),
        .s_axil_awready_o(s_axil_awready_o), .s_axil_wdata_i(s_axil_wdata_i),
        .s_axil_wstrb_i(s_axil_wstrb_i), .s_axil_wvalid_i(s_axil_wvalid_i),
        .s_axil_wready_o(s_axil_wready_o), .s_axil_bresp_o(s_axil_bresp_o),
        .s_axil_bvalid_o(s_axil_bvalid_o), .s_axil_bready_i(s_axil_bready_i),
        .s_axil_araddr_i(s_axil_araddr_i), .s_axil_arvalid_i(s_axil_arvalid_i),
        .s_axil_arready_o(s_axil_arready_o), .s_axil_rdata_o(s_axil_rdata_o),
        .s_axil_rresp_o(s_axil_rresp_o), .s_axil_rvalid_o(s_axil_rvalid_o),
        .s_axil_rready_i(s_axil_rready_i),
        .s_axis_tdata_i(s_axis_tdata_i), .s_axis_tvalid_i(s_axis_tvalid_i),
        .s_axis_tready_o(s_axis_tready_o), .s_axis_tlast_i(s_axis_tlast_i),
        .m_axis_tdata_o(m_axis_tdata_o), .m_axis_tvalid_o(m_axis_tvalid_o),
        .m_axis_tready_i(m_axis_tready_i), .m_axis_tlast_o(m_axis_tlast_o),
        .trace_amem_we_o(), .trace_amem_addr_o(), .trace_amem_count_o(), .trace_amem_data_o(),
        .trace_dmem_we_o(), .trace_dmem_addr_o(), .trace_dmem_count_o(), .trace_dmem_data_o(),
        .trace_imem_we_o(), .trace_imem_addr_o(), .trace_imem_count_o(), .trace_imem_data_o(),
        .trace_wmem_we_o(), .trace_wmem_addr_o(), .trace_wmem_count_o(), .trace_wmem_data_o(),
        .trace_gmem_we_o(), .trace_gmem_addr_o(), .trace_gmem_count_o(), .trace_gmem_data_o(),
        .trace_gtap_valid_o(), .trace_gtap_addr_o(), .trace_gtap_count_o(), .trace_gtap_data_o(),
        .trace_phase_valid_o(), .trace_phase_code_o(), .trace_phase_layer_o(),
        .trace_phase_cycles_o(), .trace_sample_o(), .trace_step_o()
    );
    /* verilator lint_on PINCONNECTEMPTY */

endmodule

`resetall

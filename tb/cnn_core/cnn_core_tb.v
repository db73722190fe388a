// Testbench top of the training core: clock, the core (u_core), and a text log of its memory writes and phase events.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Used by tb/cnn_core/test_cnn_core.py (cocotb). Not synthesizable (file I/O, hierarchical references).
//
// Clock: under Icarus generated here (period 2*CLK_HALF_NS), so the Python side never toggles it and
// only awaits events (faster there). Under Verilator (`VERILATOR, defined by Verilator itself) `clk` is
// an input port that the Python side drives with cocotb.clock.Clock at the same period: a clock made
// in Verilog with --timing gives cocotbext-axi wrong beats there (tb/cnn_core/core_host.py starts the
// clock when TB_SIM=verilator). Reset: `rst` is a register of this module, driven by Python (high at
// time 0).
// Bus signals: the core's ports are registers / wires of this module with the core's names
// (s_axil_<signal>_i / _o, s_axis_*, m_axis_*); cocotbext-axi binds them through a name map
// (tb/cnn_core/core_host.py, suffixed_bus()).
//
// Log: one text line per event, written at every rising clock edge with the values the edge samples
// (the core's registers change only after the edge, so these are the values the memories write).
// File: plusarg +CORE_LOG=<path>, default "core_log.txt" in the simulation directory. Lines of one edge
// appear in the order below (memory writes, gradient tap, phase end, sample done, step done), and the
// file is flushed after every edge that wrote something, so Python can read it at any later time.
//   A|D|W|G|I <addr> <count> <hex>   write port of u_amem / u_dmem / u_wmem / u_gmem / u_imem (wr_en_i
//                                    high): element address of lane 0, lane count (>= P: all P), data
//                                    of all P lanes (lane 0 in the low bits), %h (zero-padded)
//   g <addr> <count> <hex>           gradient tap beat (gtap_valid): WMEM element address of lane 0,
//                                    lane count, P lanes of the grad format
//   P <code> <layer> <cycles>        phase end (ph_end): phase code, layer, cycles the core measured
//   S                                sample_done: every write of the sample is done
//   U                                step_done: the step (with the batch > 1 update pass) is done
//   X <what>                         a control signal above is X/Z while rst is low (an error)
// Hierarchical names used (they must exist in rtl/cnn_core.v): u_core.u_amem, u_dmem, u_wmem, u_gmem,
// u_imem (rtl/banked_mem.v: wr_en_i, wr_addr_i, wr_count_i, wr_data_i), u_core.gtap_valid, gtap_addr,
// gtap_count, gtap_data, u_core.ph_end, ph_code, ph_layer, ph_cycles, u_core.sample_done, step_done.

module cnn_core_tb #(
    parameter integer P           = 8,       // lanes (power of two), passed to the core
    parameter integer AMEM_DEPTH  = 4096,    // AMEM / DMEM / IMEM elements, passed to the core
    parameter integer WMEM_DEPTH  = 32768,   // WMEM / GMEM elements, passed to the core
    parameter integer MAX_LAYERS  = 16,      // descriptor table size, passed to the core
    parameter integer MAX_CLASSES = 16,      // largest last dense layer, passed to the core
    parameter integer RUN_ID      = 0,       // no hardware meaning: tbkit.run_sim keys the build and run
                                             // directory on the parameters, so concurrent pytest entries
                                             // with equal core parameters use different RUN_IDs
    parameter integer CLK_HALF_NS = 5        // half clock period in ns
)
`ifdef VERILATOR
(
    input wire clk                           // driven by Python (cocotb.clock.Clock, 2*CLK_HALF_NS)
);
`else
();
`endif

    // ---------------------------------------------------------------- clock and reset
`ifndef VERILATOR
    reg clk = 1'b0;
    always #(CLK_HALF_NS) clk = ~clk;
`endif

    reg rst = 1'b1;                          // driven by Python

    // ---------------------------------------------------------------- AXI4-Lite slave (host)
    reg  [19:0] s_axil_awaddr_i  = 20'd0;
    reg         s_axil_awvalid_i = 1'b0;
    wire        s_axil_awready_o;
    reg  [31:0] s_axil_wdata_i   = 32'd0;
    reg  [3:0]  s_axil_wstrb_i   = 4'd0;
    reg         s_axil_wvalid_i  = 1'b0;
    wire        s_axil_wready_o;
    wire [1:0]  s_axil_bresp_o;
    wire        s_axil_bvalid_o;
    reg         s_axil_bready_i  = 1'b0;
    reg  [19:0] s_axil_araddr_i  = 20'd0;
    reg         s_axil_arvalid_i = 1'b0;
    wire        s_axil_arready_o;
    wire [31:0] s_axil_rdata_o;
    wire [1:0]  s_axil_rresp_o;
    wire        s_axil_rvalid_o;
    reg         s_axil_rready_i  = 1'b0;

    // ---------------------------------------------------------------- AXI4-Stream slave (samples)
    reg  [15:0] s_axis_tdata_i  = 16'd0;
    reg         s_axis_tvalid_i = 1'b0;
    wire        s_axis_tready_o;
    reg         s_axis_tlast_i  = 1'b0;

    // ---------------------------------------------------------------- AXI4-Stream master (results)
    wire [31:0] m_axis_tdata_o;
    wire        m_axis_tvalid_o;
    reg         m_axis_tready_i = 1'b0;
    wire        m_axis_tlast_o;

    // ---------------------------------------------------------------- the core
    cnn_core #(
        .P           (P),
        .AMEM_DEPTH  (AMEM_DEPTH),
        .WMEM_DEPTH  (WMEM_DEPTH),
        .MAX_LAYERS  (MAX_LAYERS),
        .MAX_CLASSES (MAX_CLASSES)
    ) u_core (
        .clk              (clk),
        .rst              (rst),
        .s_axil_awaddr_i  (s_axil_awaddr_i),
        .s_axil_awvalid_i (s_axil_awvalid_i),
        .s_axil_awready_o (s_axil_awready_o),
        .s_axil_wdata_i   (s_axil_wdata_i),
        .s_axil_wstrb_i   (s_axil_wstrb_i),
        .s_axil_wvalid_i  (s_axil_wvalid_i),
        .s_axil_wready_o  (s_axil_wready_o),
        .s_axil_bresp_o   (s_axil_bresp_o),
        .s_axil_bvalid_o  (s_axil_bvalid_o),
        .s_axil_bready_i  (s_axil_bready_i),
        .s_axil_araddr_i  (s_axil_araddr_i),
        .s_axil_arvalid_i (s_axil_arvalid_i),
        .s_axil_arready_o (s_axil_arready_o),
        .s_axil_rdata_o   (s_axil_rdata_o),
        .s_axil_rresp_o   (s_axil_rresp_o),
        .s_axil_rvalid_o  (s_axil_rvalid_o),
        .s_axil_rready_i  (s_axil_rready_i),
        .s_axis_tdata_i   (s_axis_tdata_i),
        .s_axis_tvalid_i  (s_axis_tvalid_i),
        .s_axis_tready_o  (s_axis_tready_o),
        .s_axis_tlast_i   (s_axis_tlast_i),
        .m_axis_tdata_o   (m_axis_tdata_o),
        .m_axis_tvalid_o  (m_axis_tvalid_o),
        .m_axis_tready_i  (m_axis_tready_i),
        .m_axis_tlast_o   (m_axis_tlast_o)
    );

    // ---------------------------------------------------------------- event log
    integer fd;
    reg [8*512-1:0] log_path;                // plusarg string (right-aligned, leading zero bytes)

    initial begin
        if (!$value$plusargs("CORE_LOG=%s", log_path))
            log_path = "core_log.txt";
        fd = $fopen(log_path, "w");
        if (fd == 0) begin
            $display("cnn_core_tb: cannot open the log file %0s", log_path);
            $finish;
        end
        $display("cnn_core_tb: RUN_ID=%0d P=%0d AMEM_DEPTH=%0d WMEM_DEPTH=%0d MAX_LAYERS=%0d MAX_CLASSES=%0d, log %0s",
                 RUN_ID, P, AMEM_DEPTH, WMEM_DEPTH, MAX_LAYERS, MAX_CLASSES, log_path);
    end

    reg any_line;                            // something was written at this edge

    // X/Z on a control signal (only meaningful once reset has been applied)
    task check_x;
        input       v;
        input [8*16-1:0] what;
        begin
            if (!rst && (v !== 1'b0) && (v !== 1'b1)) begin
                $fwrite(fd, "X %0s\n", what);
                any_line = 1'b1;
            end
        end
    endtask

    // one memory write port: "<tag> <addr> <count> <hex>"; the data is zero-extended to the widest
    // memory word (GMEM), which the parser ignores (lanes are taken from the low end)
    task log_wr;
        input [7:0]        tag;
        input              en;
        input [31:0]       addr;
        input [31:0]       count;
        input [P*24-1:0]   data;
        begin
            check_x(en, {tag, ".wr_en_i"});
            if (en === 1'b1) begin
                $fwrite(fd, "%s %0d %0d %h\n", tag, addr, count, data);
                any_line = 1'b1;
            end
        end
    endtask

    always @(posedge clk) begin
        any_line = 1'b0;
        // memory write ports, in tag order A D W G I
        log_wr("A", u_core.u_amem.wr_en_i, u_core.u_amem.wr_addr_i, u_core.u_amem.wr_count_i,
               u_core.u_amem.wr_data_i);
        log_wr("D", u_core.u_dmem.wr_en_i, u_core.u_dmem.wr_addr_i, u_core.u_dmem.wr_count_i,
               u_core.u_dmem.wr_data_i);
        log_wr("W", u_core.u_wmem.wr_en_i, u_core.u_wmem.wr_addr_i, u_core.u_wmem.wr_count_i,
               u_core.u_wmem.wr_data_i);
        log_wr("G", u_core.u_gmem.wr_en_i, u_core.u_gmem.wr_addr_i, u_core.u_gmem.wr_count_i,
               u_core.u_gmem.wr_data_i);
        log_wr("I", u_core.u_imem.wr_en_i, u_core.u_imem.wr_addr_i, u_core.u_imem.wr_count_i,
               u_core.u_imem.wr_data_i);
        // gradient tap
        check_x(u_core.gtap_valid, "gtap_valid");
        if (u_core.gtap_valid === 1'b1) begin
            $fwrite(fd, "g %0d %0d %h\n", u_core.gtap_addr, u_core.gtap_count, u_core.gtap_data);
            any_line = 1'b1;
        end
        // phase end, sample done, step done
        check_x(u_core.ph_end, "ph_end");
        if (u_core.ph_end === 1'b1) begin
            $fwrite(fd, "P %0d %0d %0d\n", u_core.ph_code[7:0], u_core.ph_layer[7:0], u_core.ph_cycles[31:0]);
            any_line = 1'b1;
        end
        check_x(u_core.sample_done, "sample_done");
        if (u_core.sample_done === 1'b1) begin
            $fwrite(fd, "S\n");
            any_line = 1'b1;
        end
        check_x(u_core.step_done, "step_done");
        if (u_core.step_done === 1'b1) begin
            $fwrite(fd, "U\n");
            any_line = 1'b1;
        end
        if (any_line)
            $fflush(fd);
    end

endmodule

`resetall

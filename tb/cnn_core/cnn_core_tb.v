// Testbench top of the training core: clock, the core (u_core), and a text log of its memory writes and phase events.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Used by tb/cnn_core/test_cnn_core.py (cocotb). Not synthesizable (file I/O). It binds the core's ports
// only: the log comes from the core's trace_* outputs, not from its hierarchy.
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
//   A|D|W|G|I <addr> <count> <hex>   memory write port (trace_{a,d,w,g,i}mem_we_o high): element
//                                    address of lane 0, lane count (>= P: all P), data of all P lanes
//                                    (lane 0 in the low bits), %h (zero-padded)
//   g <addr> <count> <hex>           gradient tap beat (trace_gtap_valid_o): WMEM element address of
//                                    lane 0, lane count, P lanes of the grad format
//   P <code> <layer> <cycles>        phase end (trace_phase_valid_o): phase code, layer, cycles the
//                                    core measured
//   S                                trace_sample_o: every write of the sample is done
//   U                                trace_step_o: the step (with the batch > 1 update pass) is done
//   X <what>                         a control signal above is X/Z while rst is low (an error)

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

    // ---------------------------------------------------------------- trace ports (the log's source)
    localparam integer W  = 16;              // the core's default code width (not overridden here)
    localparam integer GW = 24;              // the core's default grad width (not overridden here)
    wire [4:0]        tr_we;                 // write enables, index 0..4 = A D W G I
    wire [5*16-1:0]   tr_addr;               // element address of lane 0, 16 bits each
    wire [5*6-1:0]    tr_cnt;                // lane counts, 6 bits each
    wire [P*W-1:0]    tr_am_d, tr_dm_d, tr_wm_d;
    wire [P*GW-1:0]   tr_gm_d;
    wire [P*2-1:0]    tr_im_d;
    wire              gt_v;                  // gradient tap
    wire [15:0]       gt_a;
    wire [5:0]        gt_c;
    wire [P*GW-1:0]   gt_d;
    wire              ph_v;                  // phase end
    wire [7:0]        ph_code, ph_layer;
    wire [31:0]       ph_cycles;
    wire              sample_v, step_v;

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
        .m_axis_tlast_o   (m_axis_tlast_o),
        .trace_amem_we_o    (tr_we[0]), .trace_amem_addr_o (tr_addr[0*16 +: 16]), .trace_amem_count_o (tr_cnt[0*6 +: 6]),
        .trace_amem_data_o  (tr_am_d),
        .trace_dmem_we_o    (tr_we[1]), .trace_dmem_addr_o (tr_addr[1*16 +: 16]), .trace_dmem_count_o (tr_cnt[1*6 +: 6]),
        .trace_dmem_data_o  (tr_dm_d),
        .trace_wmem_we_o    (tr_we[2]), .trace_wmem_addr_o (tr_addr[2*16 +: 16]), .trace_wmem_count_o (tr_cnt[2*6 +: 6]),
        .trace_wmem_data_o  (tr_wm_d),
        .trace_gmem_we_o    (tr_we[3]), .trace_gmem_addr_o (tr_addr[3*16 +: 16]), .trace_gmem_count_o (tr_cnt[3*6 +: 6]),
        .trace_gmem_data_o  (tr_gm_d),
        .trace_imem_we_o    (tr_we[4]), .trace_imem_addr_o (tr_addr[4*16 +: 16]), .trace_imem_count_o (tr_cnt[4*6 +: 6]),
        .trace_imem_data_o  (tr_im_d),
        .trace_gtap_valid_o (gt_v), .trace_gtap_addr_o (gt_a), .trace_gtap_count_o (gt_c),
        .trace_gtap_data_o  (gt_d),
        .trace_phase_valid_o(ph_v), .trace_phase_code_o(ph_code), .trace_phase_layer_o(ph_layer),
        .trace_phase_cycles_o(ph_cycles),
        .trace_sample_o     (sample_v),
        .trace_step_o       (step_v)
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
        log_wr("A", tr_we[0], tr_addr[0*16 +: 16], tr_cnt[0*6 +: 6], tr_am_d);
        log_wr("D", tr_we[1], tr_addr[1*16 +: 16], tr_cnt[1*6 +: 6], tr_dm_d);
        log_wr("W", tr_we[2], tr_addr[2*16 +: 16], tr_cnt[2*6 +: 6], tr_wm_d);
        log_wr("G", tr_we[3], tr_addr[3*16 +: 16], tr_cnt[3*6 +: 6], tr_gm_d);
        log_wr("I", tr_we[4], tr_addr[4*16 +: 16], tr_cnt[4*6 +: 6], tr_im_d);
        // gradient tap
        check_x(gt_v, "gtap_valid");
        if (gt_v === 1'b1) begin
            $fwrite(fd, "g %0d %0d %h\n", gt_a, gt_c, gt_d);
            any_line = 1'b1;
        end
        // phase end, sample done, step done
        check_x(ph_v, "ph_end");
        if (ph_v === 1'b1) begin
            $fwrite(fd, "P %0d %0d %0d\n", ph_code, ph_layer, ph_cycles);
            any_line = 1'b1;
        end
        check_x(sample_v, "sample_done");
        if (sample_v === 1'b1) begin
            $fwrite(fd, "S\n");
            any_line = 1'b1;
        end
        check_x(step_v, "step_done");
        if (step_v === 1'b1) begin
            $fwrite(fd, "U\n");
            any_line = 1'b1;
        end
        if (any_line)
            $fflush(fd);
    end

endmodule

`resetall

// Pipe-driven testbench top of the training core: the Icarus twin of tb/fastpath/cnn_core_host.cpp.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Built and driven by host/icarus.py (class IcarusSim, a transport of host/core.py's Core with exactly
// host/fastsim.py FastSim's interface). Not synthesizable (file I/O).
//
// This module owns the clock and executes commands read from a pipe, cycle for cycle like the C++
// host: one cycle = set the inputs with clk low, let them settle (#1), sample every handshake
// (valid && ready as the edge will see it), rising edge (#1). Only the core's ports are used.
//
// Plusargs: +cmd=<path>   commands, one per line (host/icarus.py passes /dev/stdin)
//           +rsp=<path>   answers, flushed after every command (host/icarus.py passes /dev/fd/N, a pipe)
// Bulk data (write-burst words, run beats) is read lazily from a file named in the command, one hex
// word per line, so neither its size nor a full pipe can block anything.
//
// Commands (decimal unless marked hex):            answer lines (then "E rc cycles ..." ends it)
//   0                                 quit           -
//   1 n                               cc_reset       E 0 cycles
//   2 n(hex)                          cc_tick        E 0 cycles
//   3 addr wstrb n timeout file       cc_write_burst B <bresp> per response; E rc cycles
//   4 addr n timeout                  cc_read_burst  D <rdata hex> <rresp> per beat; E rc cycles
//   5 n_beats n_packets max_cycles(hex) in_idle out_stall seed(hex) stop_after(hex) drain file
//                                     cc_run         O <tdata hex> <tlast> per result beat;
//                                                    E rc cycles status(hex) taken nout
// "H" lines (heartbeat, every 4096 cycles) say the simulation is alive during long commands.
// Run beat words: tlast << 16 | tdata. A malformed command answers "E 99 cycles".

module cnn_core_pipe_tb #(
    // the core's parameters (rtl/cnn_core.v), passed through; host/icarus.py sets them with -P
    parameter integer P            = 8,
    parameter integer AMEM_DEPTH   = 4096,
    parameter integer WMEM_DEPTH   = 32768,
    parameter integer MAX_LAYERS   = 16,
    parameter integer MAX_CLASSES  = 16,
    parameter integer MAX_OUT      = 64,
    parameter integer W            = 16,
    parameter integer FA           = 8,
    parameter integer FW           = 12,
    parameter integer FD           = 12,
    parameter integer GW           = 24,
    parameter integer GF           = 16,
    parameter integer LR_W         = 16,
    parameter integer LR_F         = 16,
    parameter integer ACC_W        = 48,
    parameter integer ROUND_FWD    = 1,
    parameter integer ROUND_BWD    = 1,
    parameter integer ROUND_UPDATE = 3,
    parameter integer OVERFLOW     = 0,
    parameter [31:0]  SEED         = 32'hACE12468,
    parameter         SIGMOID_TABLE = "tables/sigmoid.hex",
    parameter         EXP_INT_FILE  = "tables/exp_int.hex",
    parameter         EXP_FRAC_FILE = "tables/exp_frac.hex",
    parameter         LN_MANT_FILE  = "tables/ln_mant.hex"
) ();

    localparam [19:0] STATUS_ADDR = 20'h004;          // golden/axil_regs.py STATUS
    localparam [31:0] ST_DONE = 32'h2, ST_ERROR = 32'h4;
    localparam integer CC_OK = 0, CC_TIMEOUT = -1, CC_STOPPED = 2, CC_BADCMD = 99;

    // ---------------------------------------------------------------- the core and its ports
    reg         clk = 1'b0;
    reg         rst = 1'b1;
    reg  [19:0] awaddr = 20'd0;
    reg         awvalid = 1'b0;
    wire        awready;
    reg  [31:0] wdata = 32'd0;
    reg  [3:0]  wstrb = 4'd0;
    reg         wvalid = 1'b0;
    wire        wready;
    wire [1:0]  bresp;
    wire        bvalid;
    reg         bready = 1'b0;
    reg  [19:0] araddr = 20'd0;
    reg         arvalid = 1'b0;
    wire        arready;
    wire [31:0] rdata;
    wire [1:0]  rresp;
    wire        rvalid;
    reg         rready = 1'b0;
    reg  [15:0] s_tdata = 16'd0;
    reg         s_tvalid = 1'b0;
    wire        s_tready;
    reg         s_tlast = 1'b0;
    wire [31:0] m_tdata;
    wire        m_tvalid;
    reg         m_tready = 1'b0;
    wire        m_tlast;

    cnn_core #(
        .P(P), .AMEM_DEPTH(AMEM_DEPTH), .WMEM_DEPTH(WMEM_DEPTH), .MAX_LAYERS(MAX_LAYERS),
        .MAX_CLASSES(MAX_CLASSES), .MAX_OUT(MAX_OUT), .W(W), .FA(FA), .FW(FW), .FD(FD), .GW(GW), .GF(GF),
        .LR_W(LR_W), .LR_F(LR_F), .ACC_W(ACC_W), .ROUND_FWD(ROUND_FWD), .ROUND_BWD(ROUND_BWD),
        .ROUND_UPDATE(ROUND_UPDATE), .OVERFLOW(OVERFLOW), .SEED(SEED), .SIGMOID_TABLE(SIGMOID_TABLE),
        .EXP_INT_FILE(EXP_INT_FILE), .EXP_FRAC_FILE(EXP_FRAC_FILE), .LN_MANT_FILE(LN_MANT_FILE)
    ) u_core (
        .clk(clk), .rst(rst),
        .s_axil_awaddr_i(awaddr), .s_axil_awvalid_i(awvalid), .s_axil_awready_o(awready),
        .s_axil_wdata_i(wdata), .s_axil_wstrb_i(wstrb), .s_axil_wvalid_i(wvalid), .s_axil_wready_o(wready),
        .s_axil_bresp_o(bresp), .s_axil_bvalid_o(bvalid), .s_axil_bready_i(bready),
        .s_axil_araddr_i(araddr), .s_axil_arvalid_i(arvalid), .s_axil_arready_o(arready),
        .s_axil_rdata_o(rdata), .s_axil_rresp_o(rresp), .s_axil_rvalid_o(rvalid), .s_axil_rready_i(rready),
        .s_axis_tdata_i(s_tdata), .s_axis_tvalid_i(s_tvalid), .s_axis_tready_o(s_tready),
        .s_axis_tlast_i(s_tlast),
        .m_axis_tdata_o(m_tdata), .m_axis_tvalid_o(m_tvalid), .m_axis_tready_i(m_tready),
        .m_axis_tlast_o(m_tlast)
    );

    // ---------------------------------------------------------------- host state
    reg  [63:0] cycles = 64'd0;
    reg  [63:0] rng = 64'h9E3779B97F4A7C15;           // xorshift64*, persists across commands
    integer     fi, fo, fd, r;
    reg  [8*1024-1:0] path;

    task idle_inputs;
        begin
            awvalid = 1'b0; wvalid = 1'b0; bready = 1'b0; arvalid = 1'b0; rready = 1'b0;
            awaddr = 20'd0; wdata = 32'd0; wstrb = 4'd0; araddr = 20'd0;
            s_tvalid = 1'b0; s_tdata = 16'd0; s_tlast = 1'b0; m_tready = 1'b0;
        end
    endtask

    // first half of a cycle: the inputs (set before) settle with clk low
    task settle;
        begin
            clk = 1'b0;
            #1;
        end
    endtask

    // second half: the rising edge
    task edge_;
        begin
            clk = 1'b1;
            #1;
            cycles = cycles + 64'd1;
            if (cycles[11:0] == 12'd0) begin
                $fwrite(fo, "H\n");
                $fflush(fo);
            end
        end
    endtask

    // the C++ Rng: next() and chance(permille) = permille && next() % 1000 < permille
    reg  [63:0] rng_prod;
    reg  [31:0] rng_out;
    task chance;
        input  [31:0] permille;
        output        hit;
        begin
            hit = 1'b0;
            if (permille != 32'd0) begin
                rng = rng ^ (rng >> 12);
                rng = rng ^ (rng << 25);
                rng = rng ^ (rng >> 27);
                rng_prod = rng * 64'd2685821657736338717;
                rng_out = rng_prod[63:32];
                hit = (rng_out % 32'd1000) < permille;
            end
        end
    endtask

    // one hex word of the open data file fd
    reg  [31:0] data_word;
    task next_word;
        begin
            data_word = 32'd0;
            r = $fscanf(fd, "%h", data_word);
            if (r != 1) begin
                $display("cnn_core_pipe_tb: ERROR data file ended early");
                $finish;
            end
        end
    endtask

    // ---------------------------------------------------------------- commands
    integer     op, n, k, timeout, quiet, rc;
    integer     aw, w, b, ar, rr;
    reg  [31:0] addr, strb, first_word;
    reg         aw_f, w_f, b_f, ar_f, r_f, in_f, out_f, ol, hit, offer, ended, ar_pending, quit;
    reg  [1:0]  br, rp;
    reg  [31:0] rd, od, st, in_idle, out_stall, drain_cycles, cur_beat;
    reg  [63:0] n64, i64, max_cycles, seed, stop_after, c, drain;
    integer     n_beats, n_packets, in, nout, tlasts;

    task do_reset;
        begin
            idle_inputs;
            rst = 1'b1;
            for (k = 0; k < n; k = k + 1) begin settle; edge_; end
            rst = 1'b0;
            settle; edge_;
            $fwrite(fo, "E 0 %0d\n", cycles);
        end
    endtask

    task do_tick;
        begin
            idle_inputs;
            for (i64 = 64'd0; i64 < n64; i64 = i64 + 64'd1) begin settle; edge_; end
            $fwrite(fo, "E 0 %0d\n", cycles);
        end
    endtask

    task do_write;
        begin
            aw = 0; w = 0; b = 0; quiet = 0; rc = CC_OK;
            idle_inputs;
            if (n > 0) begin
                next_word;
                first_word = data_word;
            end
            while (b < n && rc == CC_OK) begin
                awvalid = aw < n;
                awaddr = addr + 4 * (aw < n ? aw : 0);
                wvalid = w < n;
                wdata = w < n ? data_word : first_word;
                wstrb = strb[3:0];
                bready = 1'b1;
                settle;
                aw_f = awvalid && awready;
                w_f = wvalid && wready;
                b_f = bvalid;
                br = bresp;
                edge_;
                if (aw_f) aw = aw + 1;
                if (w_f) begin
                    w = w + 1;
                    if (w < n) next_word;
                end
                if (b_f) begin
                    $fwrite(fo, "B %0d\n", br);
                    b = b + 1;
                end
                quiet = (aw_f || w_f || b_f) ? 0 : quiet + 1;
                if (quiet > timeout) rc = CC_TIMEOUT;
            end
            idle_inputs;
            $fwrite(fo, "E %0d %0d\n", rc, cycles);
        end
    endtask

    task do_read;
        begin
            ar = 0; rr = 0; quiet = 0; rc = CC_OK;
            idle_inputs;
            while (rr < n && rc == CC_OK) begin
                arvalid = ar < n;
                araddr = addr + 4 * (ar < n ? ar : 0);
                rready = 1'b1;
                settle;
                ar_f = arvalid && arready;
                r_f = rvalid;
                rd = rdata;
                rp = rresp;
                edge_;
                if (ar_f) ar = ar + 1;
                if (r_f) begin
                    $fwrite(fo, "D %h %0d\n", rd, rp);
                    rr = rr + 1;
                end
                quiet = (ar_f || r_f) ? 0 : quiet + 1;
                if (quiet > timeout) rc = CC_TIMEOUT;
            end
            idle_inputs;
            $fwrite(fo, "E %0d %0d\n", rc, cycles);
        end
    endtask

    task do_run;
        begin
            if (seed != 64'd0) rng = seed;
            in = 0; nout = 0; tlasts = 0; c = 64'd0; drain = 64'd0;
            ended = 1'b0; ar_pending = 1'b0; st = 32'd0; quit = 1'b0; rc = CC_OK;
            cur_beat = 32'd0;
            if (n_beats > 0) begin next_word; cur_beat = data_word; end
            idle_inputs;
            while (!quit) begin
                if (stop_after != 64'd0 && c >= stop_after) begin
                    rc = CC_STOPPED; quit = 1'b1;
                end else if (!ended && c >= max_cycles) begin
                    rc = CC_TIMEOUT; quit = 1'b1;
                end else if (ended && (drain >= {32'd0, drain_cycles} || tlasts >= n_packets)) begin
                    rc = CC_OK; quit = 1'b1;
                end else begin
                    offer = 1'b0;
                    if (in < n_beats) begin
                        chance(in_idle, hit);
                        offer = !hit;
                    end
                    s_tvalid = offer;
                    s_tdata = offer ? cur_beat[15:0] : 16'd0;
                    s_tlast = offer ? cur_beat[16] : 1'b0;
                    chance(out_stall, hit);
                    m_tready = !hit;
                    arvalid = !ended && !ar_pending;
                    araddr = STATUS_ADDR;
                    rready = 1'b1;
                    settle;
                    in_f = s_tvalid && s_tready;
                    out_f = m_tvalid && m_tready;
                    od = m_tdata;
                    ol = m_tlast;
                    ar_f = arvalid && arready;
                    r_f = rvalid;
                    rd = rdata;
                    edge_;
                    c = c + 64'd1;
                    if (in_f) begin
                        in = in + 1;
                        if (in < n_beats) begin next_word; cur_beat = data_word; end
                    end
                    if (out_f) begin
                        $fwrite(fo, "O %h %0d\n", od, ol);
                        nout = nout + 1;
                        if (ol === 1'b1) tlasts = tlasts + 1;
                    end
                    if (ar_f) ar_pending = 1'b1;
                    if (r_f) begin
                        ar_pending = 1'b0;
                        if (!ended && (rd & (ST_DONE | ST_ERROR)) != 32'd0) begin
                            ended = 1'b1;
                            st = rd;
                        end
                    end
                    if (ended) drain = drain + 64'd1;
                end
            end
            // a STATUS read still in flight is completed, so the next access sees no stale response
            idle_inputs;
            rready = 1'b1;
            for (k = 0; ar_pending && k < 64; k = k + 1) begin
                settle;
                if (rvalid) ar_pending = 1'b0;
                edge_;
            end
            idle_inputs;
            $fwrite(fo, "E %0d %0d %h %0d %0d\n", rc, cycles, st, in, nout);
        end
    endtask

    task open_data;
        begin
            fd = $fopen(path, "r");
            if (fd == 0) begin
                $display("cnn_core_pipe_tb: ERROR cannot open data file %0s", path);
                $finish;
            end
        end
    endtask

    initial begin
        idle_inputs;
        if (!$value$plusargs("cmd=%s", path)) path = "/dev/stdin";
        fi = $fopen(path, "r");
        if (!$value$plusargs("rsp=%s", path)) path = "/dev/stdout";
        fo = $fopen(path, "w");
        if (fi == 0 || fo == 0) begin
            $display("cnn_core_pipe_tb: ERROR cannot open the command or answer pipe");
            $finish;
        end
        $fwrite(fo, "E 0 0 ready\n");
        $fflush(fo);
        op = -1;
        while (op != 0) begin
            r = $fscanf(fi, "%d", op);
            if (r != 1) op = 0;                         // end of the commands: quit
            case (op)
                0: ;
                1: begin
                    r = $fscanf(fi, "%d", n);
                    do_reset;
                end
                2: begin
                    r = $fscanf(fi, "%h", n64);
                    do_tick;
                end
                3: begin
                    r = $fscanf(fi, "%d %d %d %d %s", addr, strb, n, timeout, path);
                    if (r != 5) $fwrite(fo, "E %0d %0d\n", CC_BADCMD, cycles);
                    else begin
                        if (n > 0) open_data;
                        do_write;
                        if (n > 0) $fclose(fd);
                    end
                end
                4: begin
                    r = $fscanf(fi, "%d %d %d", addr, n, timeout);
                    if (r != 3) $fwrite(fo, "E %0d %0d\n", CC_BADCMD, cycles);
                    else do_read;
                end
                5: begin
                    r = $fscanf(fi, "%d %d %h %d %d %h %h %d %s", n_beats, n_packets, max_cycles, in_idle,
                                out_stall, seed, stop_after, drain_cycles, path);
                    if (r != 9) $fwrite(fo, "E %0d %0d\n", CC_BADCMD, cycles);
                    else begin
                        if (n_beats > 0) open_data;
                        do_run;
                        if (n_beats > 0) $fclose(fd);
                    end
                end
                default: $fwrite(fo, "E %0d %0d\n", CC_BADCMD, cycles);
            endcase
            $fflush(fo);
        end
        $fclose(fo);
        $finish;
    end

endmodule

`default_nettype wire

// P-banked element memory (P simple dual-port block RAMs): vector / broadcast / pair-duplicate reads, unaligned masked vector writes.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/banked_mem.py (BankedMem.read / write / cycle).
//
// Element e (ADDR_W-bit element address) lives in bank e mod P at row e div P. Lane l of a P*W bus
// occupies bits [l*W +: W]. The memory stores W-bit patterns; it does not care about signedness.
//
// Read port, one request per cycle, no back-pressure (the consumer is a fixed-latency pipeline that
// takes every beat; nothing here can stall):
//   rd_mode_i 0 vector:          lane l <- element e + l
//             1 broadcast:       lane l <- element e
//             2 pair-duplicate:  lane l <- element e + (l >> 1)
//             3 reserved:        behaves as vector
//   In every mode (broadcast too) lanes l >= rd_count_i read as 0; a count >= P reads all P lanes.
//   Every bank reads row (e + ((b - e) mod P)) div P, i.e. row e div P for banks b >= e mod P and the
//   next row for the others; all three modes need only elements e .. e+P-1, so the bank addressing is
//   the same and only the per-lane output select differs: lane l takes bank (e + k_l) mod P with
//   k_l = l (vector), 0 (broadcast), l >> 1 (pair-duplicate).
// Latency: 2 cycles. rd_en_i sampled at edge 0 -> the banks' registered read at that edge (the lane
//   selects and masks are registered alongside) -> P-way lane mux + mask -> rd_data_o
//   register at edge 1. rd_data_o / rd_valid_o are valid in the cycle after edge 1 (issue in cycle t,
//   data in cycle t+2, one read per cycle). The second stage keeps the rotation off the RAM
//   clock-to-out path. While rd_valid_o is low rd_data_o is 0.
//
// Write port, one request per cycle, independent of the read port: lane l of wr_data_i -> element
//   e + l, lanes l < wr_count_i only (count >= P writes all lanes). Bank b takes lane (b - e) mod P
//   at row e div P (+1 when b < e mod P): a barrel rotation the other way (log2 P stages of 2:1
//   muxes) and per-bank write enables/rows. The write lands at the edge that samples wr_en_i.
// Read during write, same element, same edge: the read returns the OLD data (read-first); a read
//   issued one cycle later sees the new data. iCE40/ECP5 block RAMs do not guarantee this across
//   their two ports, so Yosys emulates it (write delayed one cycle plus a bypass per bank: about
//   2W+ROW_W+2 FFs and W+ LUTs per bank). RD_OLD = 0 marks the RAMs (* no_rw_check *): no emulation,
//   the read data of such a collision is then undefined in hardware (simulation still shows the old
//   data and prints a warning). The planned core should never read an element in the cycle it is
//   written (a pass reads an element before its write-back, one pipeline depth later); where that
//   holds RD_OLD = 0 is safe. The default keeps the defined behaviour.
// Out-of-range addresses (the core validates descriptors and never issues them): element x = e + k
//   is bank x mod P, row (x div P) mod 2**ROW_W. With DEPTH a power of two this wraps modulo P*DEPTH.
//   Otherwise a row >= DEPTH does not exist: its lanes read as 0 and writes to it are dropped. No X
//   reaches rd_data_o either way.
// Reset: rst clears the read pipeline's valid bits (reads in flight are dropped, rd_valid_o is low
//   after the first edge with rst high, rd_data_o goes to 0). The RAM contents and the write port are
//   not affected by rst. The RAMs start all zero (initial block, becomes the bitstream init).

module banked_mem #(
    parameter integer P     = 8,     // banks = lanes, a power of two 1..32
    parameter integer W     = 16,    // element width in bits
    parameter integer DEPTH = 512,   // rows per bank (elements per bank), >= 2
    parameter integer RD_OLD = 1     // 1: same-cycle read of a written element returns the old data on
                                     // every target (Yosys emulates it: costs FFs/LUTs); 0: undefined
) (
    input  wire                  clk,
    input  wire                  rst,          // synchronous, active high; clears the read pipeline only

    // read port (latency 2, no back-pressure)
    input  wire                  rd_en_i,
    input  wire [ADDR_W-1:0]     rd_addr_i,    // element address e
    input  wire [1:0]            rd_mode_i,    // 0 vector, 1 broadcast, 2 pair-duplicate, 3 = vector
    input  wire [CNT_W-1:0]      rd_count_i,   // lanes l >= count read as 0 (all modes)
    output wire                  rd_valid_o,   // rd_en_i delayed by 2 cycles
    output wire [P*W-1:0]        rd_data_o,    // lane l at [l*W +: W]; 0 while rd_valid_o is low

    // write port (lands at the sampling edge)
    input  wire                  wr_en_i,
    input  wire [ADDR_W-1:0]     wr_addr_i,    // element address e (any alignment)
    input  wire [CNT_W-1:0]      wr_count_i,   // only lanes l < count are written
    input  wire [P*W-1:0]        wr_data_i     // lane l -> element e + l
);

    // ---------------------------------------------------------------- derived sizes
    function integer clog2;                    // bits to hold 0..v-1; clog2(1) = 0
        input integer v;
        integer n;
        begin
            clog2 = 0;
            for (n = v - 1; n > 0; n = n >> 1)
                clog2 = clog2 + 1;
        end
    endfunction

    localparam integer LOG2P  = clog2(P);                  // bank-select bits of an element address
    localparam integer ROW_W  = clog2(DEPTH);              // row bits
    localparam integer ADDR_W = clog2(P * DEPTH);          // element address bits (= LOG2P + ROW_W)
    localparam integer CNT_W  = clog2(P + 1);              // lane count 0..P
    localparam integer SEL_W  = (LOG2P > 0) ? LOG2P : 1;   // bank / lane index bits (1 when P = 1)
    localparam         POW2_DEPTH = (DEPTH == (1 << ROW_W));

`ifndef SYNTHESIS
    initial begin
        if (P < 1 || P > 32 || (P & (P - 1)) != 0) begin
            $display("banked_mem %m: P=%0d must be a power of two in 1..32", P);
            $finish;
        end
        if (DEPTH < 2 || W < 1) begin
            $display("banked_mem %m: DEPTH=%0d must be >= 2 and W=%0d >= 1", DEPTH, W);
            $finish;
        end
    end
`endif

    // ---------------------------------------------------------------- address split
    wire [SEL_W-1:0] rd_off;                   // e mod P
    wire [ROW_W-1:0] rd_row0;                  // e div P
    wire [SEL_W-1:0] wr_off;
    wire [ROW_W-1:0] wr_row0;

    generate
        if (LOG2P == 0) begin : g_p1
            assign rd_off  = 1'b0;
            assign rd_row0 = rd_addr_i;
            assign wr_off  = 1'b0;
            assign wr_row0 = wr_addr_i;
        end else begin : g_pn
            assign rd_off  = rd_addr_i[LOG2P-1:0];
            assign rd_row0 = rd_addr_i[ADDR_W-1:LOG2P];
            assign wr_off  = wr_addr_i[LOG2P-1:0];
            assign wr_row0 = wr_addr_i[ADDR_W-1:LOG2P];
        end
    endgenerate

    wire [ROW_W-1:0] rd_row1 = rd_row0 + {{(ROW_W-1){1'b0}}, 1'b1};   // wraps mod 2**ROW_W
    wire [ROW_W-1:0] wr_row1 = wr_row0 + {{(ROW_W-1){1'b0}}, 1'b1};

    // ---------------------------------------------------------------- write rotation
    // Lane l (its data and its "l < count" enable) moves to bank (e + l) mod P: a log2(P)-stage barrel
    // rotation by e mod P (stage s rotates by 2**s lanes), cheaper than a P-way mux per bank.
    localparam integer LW = W + 1;             // a lane on the rotator: {enable, data}

    wire [P*LW-1:0] wr_lanes;                  // lane order
    reg  [P*LW-1:0] wr_banks;                  // bank order: bank b holds lane (b - e) mod P
    genvar b, l;
    generate
        for (l = 0; l < P; l = l + 1) begin : g_wlane
            localparam [CNT_W-1:0] LANE_C = l;     // CNT_W bits hold 0..P
            assign wr_lanes[l*LW +: LW] = {(LANE_C < wr_count_i), wr_data_i[l*W +: W]};
        end
    endgenerate

    integer st;
    always @* begin
        wr_banks = wr_lanes;
        for (st = 0; st < LOG2P; st = st + 1)
            if (wr_off[st])                    // rotate up by 2**st lanes
                wr_banks = (wr_banks << ((1 << st) * LW)) | (wr_banks >> ((P - (1 << st)) * LW));
    end

    // ---------------------------------------------------------------- banks
    wire [P*W-1:0] bank_rd;                    // registered RAM outputs, bank b at [b*W +: W]
    wire [P-1:0]   rd_row_ok;                  // row of bank b's read exists (always 1 for pow2 DEPTH)

    generate
        for (b = 0; b < P; b = b + 1) begin : g_bank
            localparam [SEL_W:0] BANK = b;     // compared with the zero-extended offset

            // rows: banks below the start offset hold the elements of the next row
            wire             rd_next = ({1'b0, rd_off} > BANK);
            wire [ROW_W-1:0] rd_row  = rd_next ? rd_row1 : rd_row0;
            wire             wr_next = ({1'b0, wr_off} > BANK);
            wire [ROW_W-1:0] wr_row  = wr_next ? wr_row1 : wr_row0;

            // this bank's write lane, (b - e) mod P, after the rotation
            wire             wr_lane_on = wr_banks[b*LW + W];
            wire [W-1:0]     wr_word    = wr_banks[b*LW +: W];

            wire wr_ok;
            if (POW2_DEPTH) begin : g_pow2
                assign wr_ok        = 1'b1;
                assign rd_row_ok[b] = 1'b1;
            end else begin : g_part
                localparam integer     LAST_I = DEPTH - 1;
                localparam [ROW_W-1:0] LAST   = LAST_I[ROW_W-1:0];   // last existing row
                assign wr_ok        = (wr_row <= LAST);
                assign rd_row_ok[b] = (rd_row <= LAST);
            end

            wire bank_we = wr_en_i && wr_lane_on && wr_ok;

            // one simple dual-port RAM: one write port, one registered read port (read-first)
            reg [W-1:0] rd_q;
            integer     i;
            if (RD_OLD != 0) begin : g_ram
                reg [W-1:0] mem [0:DEPTH-1];
                initial begin
                    for (i = 0; i < DEPTH; i = i + 1)
                        mem[i] = {W{1'b0}};
                end
                always @(posedge clk) begin
                    if (bank_we)
                        mem[wr_row] <= wr_word;
                    if (rd_en_i)
                        rd_q <= mem[rd_row];
                end
            end else begin : g_ram
                // collision result left undefined: Yosys adds no read-first emulation
                (* no_rw_check *)
                reg [W-1:0] mem [0:DEPTH-1];
                initial begin
                    for (i = 0; i < DEPTH; i = i + 1)
                        mem[i] = {W{1'b0}};
                end
                always @(posedge clk) begin
                    if (bank_we)
                        mem[wr_row] <= wr_word;
                    if (rd_en_i)
                        rd_q <= mem[rd_row];
                end
`ifndef SYNTHESIS
                // only a collision on an element some lane actually uses matters (lanes at or past
                // rd_count_i are masked to 0 whatever the bank returns)
                wire [SEL_W-1:0] k_of_bank = BANK[SEL_W-1:0] - rd_off;      // element e + k
                wire [SEL_W+1:0] k_ext     = {2'b00, k_of_bank};
                wire [SEL_W+1:0] cnt_ext   = {{(SEL_W+2-CNT_W){1'b0}}, rd_count_i};
                wire             k_used    = (rd_mode_i == 2'd1) ? (k_of_bank == {SEL_W{1'b0}}) :
                                             (rd_mode_i == 2'd2) ? ((k_ext << 1) < cnt_ext) :
                                                                   (k_ext < cnt_ext);
                always @(posedge clk) begin
                    if (bank_we && rd_en_i && wr_row == rd_row && k_used)
                        $display("banked_mem %m: WARNING t=%0t read and write of row %0d in one cycle, RD_OLD=0: hardware read data undefined",
                                 $time, rd_row);
                end
`endif
            end
            assign bank_rd[b*W +: W] = rd_q;
        end
    endgenerate

    // ---------------------------------------------------------------- stage 1: lane selects and masks
    // Registered alongside the RAM read: lane l takes bank sel = (e + k_l) mod P; on = the lane is
    // below the count, the request is valid and the selected row exists.
    reg               valid1_q;
    reg [P-1:0]       on1_q;
    reg [P*SEL_W-1:0] sel1_q;

    wire [P-1:0]       on1_d;
    wire [P*SEL_W-1:0] sel1_d;

    generate
        for (l = 0; l < P; l = l + 1) begin : g_sel
            localparam [SEL_W:0]   LANE   = l;
            localparam [SEL_W:0]   HALF   = l / 2;
            localparam [CNT_W-1:0] LANE_C = l;     // CNT_W bits hold 0..P
            wire [SEL_W-1:0] k   = (rd_mode_i == 2'd1) ? {SEL_W{1'b0}} :
                                   (rd_mode_i == 2'd2) ? HALF[SEL_W-1:0] : LANE[SEL_W-1:0];
            wire [SEL_W-1:0] sel = rd_off + k;                        // wraps mod P
            assign sel1_d[l*SEL_W +: SEL_W] = sel;
            assign on1_d[l] = rd_en_i && (LANE_C < rd_count_i) && rd_row_ok[sel];
        end
    endgenerate

    always @(posedge clk) begin
        sel1_q <= sel1_d;
        if (rst) begin
            valid1_q <= 1'b0;
            on1_q    <= {P{1'b0}};
        end else begin
            valid1_q <= rd_en_i;
            on1_q    <= on1_d;
        end
    end

    // ---------------------------------------------------------------- stage 2: P-way lane mux + mask
    // A P-way mux per lane with a registered select (P = 8: an 8:1 mux per bit). This maps well to the
    // ECP5 wide-mux cells; a barrel rotation plus a 3:1 mode mux saves ~14% LUTs on iCE40 but costs
    // ~60% more on ECP5 (measured P = 8, W = 16), so the plain mux is kept.
    reg            valid2_q;
    reg  [P*W-1:0] data2_q;
    wire [P*W-1:0] data2_d;

    generate
        for (l = 0; l < P; l = l + 1) begin : g_rot
            wire [SEL_W-1:0] sel = sel1_q[l*SEL_W +: SEL_W];
            assign data2_d[l*W +: W] = on1_q[l] ? bank_rd[sel * W +: W] : {W{1'b0}};
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            valid2_q <= 1'b0;
            data2_q  <= {P*W{1'b0}};
        end else begin
            valid2_q <= valid1_q;
            data2_q  <= data2_d;
        end
    end

    assign rd_valid_o = valid2_q;
    assign rd_data_o  = data2_q;

endmodule

`resetall

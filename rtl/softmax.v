// Softmax + cross-entropy head: exp tables, exact division p = floor(e*2^16/S), deltas p - y, loss, argmax.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/softmax.py (exps, probs, delta, loss). One sample at a time:
//
//   LOAD  accept N logits (1 beat/cycle), store them in a small buffer, track max m and its first index;
//         s_label_i and s_infer_i are sampled with the first beat
//   EXP   pipelined, one class per cycle, 4 stages:
//           1. buffer read z_k
//           2. d = m - z_k; table reads EXP_INT[d >> FA], EXP_FRAC[d & (2^FA-1)]; d at the label kept
//           3. 16x16 unsigned multiply of the table words' low 16 bits (a DSP: SB_MAC16 / MULT18X18D),
//              registered; in parallel the bypass value: a table word equals 2^16 only at index 0
//              (EXP_INT[0] = EXP_FRAC[0] = 65536, bit 16 set), and then e = the other word exactly,
//              since (2^16 * x + 2^15) >> 16 = x; e = 0 when d >> FA >= 16
//           4. e = bypass or (P + 2^15) >> 16; the buffer word is overwritten by e, S += e
//         (tests/test_softmax_tables.py checks this decomposition against golden for all 16 x 2^FA
//         (n, f) and every FA; tb/softmax test_exp_exhaustive checks the RTL's e for every pair)
//   DPRE  1 cycle, waits for an empty output register: pred, leading-one position of S
//   DIV   (training) per class: restoring divider, one quotient bit per cycle, p = floor(e*2^16/S)
//         (17 bits); delta = requantize(p - 2^16*[k == label]) into the output register; the loss is
//         formed from S (leading-one position b, LN_MANT[(S >> (b-8)) & 255]) and d_label in the
//         first DIV cycle
//   INF   (inference) 1 cycle: the loss is formed and a single beat with m_last_o = 1 is loaded
//
// Cycle count per sample (no stalls on either stream), N = number of logits, from the first logit
// accepted to the first logit of the next sample accepted:
//   training  N (load) + N + 3 (exp) + 1 (dpre) + 18*N (divide) = 20*N + 4
//   inference N (load) + N + 3 (exp) + 1 (dpre) + 1 (inf)       =  2*N + 5
//   (the block accepts the next sample in the cycle after the last beat is written to its output
//   register; that beat may still be waiting on m_ready_i).
// Latency from the clock edge that accepted the last logit to the edge that loads the output register
// (no back-pressure):
//   training  first delta N + 22 (beats then follow every 18 cycles; the last at 19*N + 4)
//   inference the single beat N + 5
//   Output back-pressure only stalls the divider when the single output register is still full, and
//   DPRE waits until the previous sample's last beat has left.
//
// Interface notes
//   - s_label_i (the true class y) is sampled with the first beat of a sample; it must be < N.
//   - s_infer_i is sampled with the first beat: 1 = inference (no divide phase, no deltas, one output
//     beat with m_last_o = 1 carrying pred_o and loss_o; m_delta_o and m_p_o are don't-care on that
//     beat: they hold the previous training beat's values, X after reset). The label is still used
//     for the loss. An inference sample leaves ovf_o unchanged.
//   - A sample ends with s_last_i, or after NMAX beats (the NMAX-th beat is taken as last).
//   - m_p_o is p_k (Q0.16) in 17 bits: p_k = 2^16 exactly when every other class has e = 0.
//   - pred_o (first maximum in class order) and loss_o (Q16.16, -ln p_y up to table error) are
//     registers, valid with every output beat of the sample (in particular the m_last_o beat); they
//     change only in the next sample's DPRE and first DIV/INF cycle, after this sample's last beat
//     left. loss_o holds the low 32 bits of the golden loss (exact while W + 16 - FA <= 31).
//   - ovf_o is sticky since reset: some delta was saturated by requantize (DF too large for DW).
//     It already includes the beat currently on the output.
//   - ROUND_BWD 3 (stochastic) is not supported here: the requantize rnd_i input is tied to zero.
//   - Constraints: 1 <= FA <= 16, W <= 32, NMAX >= 2, DW/DF such that requantize fits (see its header).
//     The tables must have EXP_INT[n], EXP_FRAC[f] < 2^16 except EXP_INT[0] = EXP_FRAC[0] = 2^16 (true
//     for the golden tables). Tested with N = 1..NMAX.
//
// Resources (Yosys, default parameters): iCE40 (synth_ice40 -dsp) 439 SB_LUT4, 129 SB_CARRY, 275 FF,
//   1 SB_MAC16 (the exp multiply), 5 SB_RAM40_4K (EXP_FRAC 2, LN_MANT 1, logit/e buffer 2; EXP_INT
//   becomes logic); ECP5 287 LUT4, 72 CCU2C, 275 FF, 1 MULT18X18D, 2 DP16KD, 5 TRELLIS_DPR16X4.
//
// Tables ($readmemh, 17-bit words for EXP_INT/EXP_FRAC, 16-bit for LN_MANT) come from
// scripts/export_tables.py; rtl/tables/exp_frac.hex is for FA = 8 only (any other FA needs its own
// export, e.g. scripts/export_tables.py --act-frac 6 --out <dir>). The file parameters default to paths
// relative to rtl/, the working directory of scripts/synth.py; simulators resolve $readmemh from their
// own working directory, so tb/softmax passes absolute paths.

module softmax #(
    parameter integer W         = 16,                     // logit (act) code width, signed
    parameter integer FA        = 8,                      // logit fractional bits, 1..16
    parameter integer NMAX      = 16,                     // maximum classes per sample, >= 2
    parameter integer DW        = 16,                     // delta code width, signed
    parameter integer DF        = 12,                     // delta fractional bits
    parameter integer ROUND_BWD = 1,                      // delta rounding: 0 truncate, 1 half-up, 2 half-even
    parameter         EXP_INT_FILE  = "tables/exp_int.hex",   // EXP_INT[0..15] (17-bit words)
    parameter         EXP_FRAC_FILE = "tables/exp_frac.hex",  // EXP_FRAC[0..2^FA-1] (17-bit words)
    parameter         LN_MANT_FILE  = "tables/ln_mant.hex"    // LN_MANT[0..255] (16-bit words)
) (
    input  wire                      clk,
    input  wire                      rst,

    // logit stream in
    input  wire                      s_valid_i,
    output wire                      s_ready_o,
    input  wire signed [W-1:0]       s_logit_i,
    input  wire                      s_last_i,     // last logit of the sample
    input  wire [$clog2(NMAX)-1:0]   s_label_i,    // true class, sampled with the first beat
    input  wire                      s_infer_i,    // inference mode, sampled with the first beat

    // delta stream out (class order; inference: one beat)
    output wire                      m_valid_o,
    input  wire                      m_ready_i,
    output wire signed [DW-1:0]      m_delta_o,    // requantize(p_k - 2^16*[k == y]) in (DW, DF)
    output wire [16:0]               m_p_o,        // p_k, Q0.16 (2^16 = 1.0 possible)
    output wire                      m_last_o,     // last class of the sample (inference: always 1)

    // per-sample results (valid with every output beat of the sample)
    output wire [$clog2(NMAX)-1:0]   pred_o,       // predicted class: first maximum logit
    output wire [31:0]               loss_o,       // cross-entropy loss, Q16.16

    // status
    output wire                      ovf_o         // sticky: a delta saturated since reset
);

    localparam integer CW    = $clog2(NMAX);          // class index width
    localparam integer SW    = 17 + CW;               // S = sum e_k <= NMAX * 2^16
    localparam integer BW    = (W > 17) ? W : 17;     // buffer word: a logit, later its e_k
    localparam integer NFRAC = 1 << FA;               // EXP_FRAC entries
    localparam integer QSH   = 16 - DF;               // bits requantize drops from p - y (16 frac bits)
    localparam integer RNDW  = (QSH > 0) ? QSH : 1;   // requantize rnd_i width (unused: deterministic)
    localparam integer LSH   = 16 - FA;               // d_y (FA frac bits) -> Q16.16
    localparam integer BSW   = $clog2(CW + 1);        // width of b - 16, 0..CW
    localparam [31:0]  LN2   = 32'd45426;             // round(ln 2 * 2^16)
    localparam integer KMAX_I = NMAX - 1;             // last class index the buffer can hold
    localparam [CW-1:0] KMAX = KMAX_I[CW-1:0];
    localparam [CW-1:0] K0   = 0;
    localparam [CW-1:0] K1   = 1;

    localparam [2:0] ST_LOAD = 3'd0;   // accepting logits
    localparam [2:0] ST_EXP  = 3'd1;   // N + 3 cycles: one class enters the 4-stage exp pipeline per cycle
    localparam [2:0] ST_DPRE = 3'd2;   // 1 cycle (waits for an empty output register): read e_0, loss prep
    localparam [2:0] ST_DIV  = 3'd3;   // training, 18 cycles per class: operand load + 17 divide steps
    localparam [2:0] ST_INF  = 3'd4;   // inference, 1 cycle: loss, the single output beat

    // ------------------------------------------------------------------ state
    reg  [2:0]        state_q;
    reg  [CW-1:0]     k_q;         // class index (LOAD: beat, EXP: buffer read, DIV: class divided)
    reg  [CW-1:0]     last_q;      // N - 1
    reg  [4:0]        step_q;      // cycle within a class (0..17)
    reg  signed [W-1:0] m_q;       // running max logit
    reg  [CW-1:0]     arg_q;       // index of the first max
    reg  [CW-1:0]     label_q;
    reg               infer_q;     // inference mode for the current sample
    reg  [SW-1:0]     s_q;         // S
    reg  [W-1:0]      dy_q;        // d at the label class
    reg               rd_q;        // EXP: buffer reads still to issue
    reg               v1_q;        // EXP stage valids (stage 1: z in buf_rd_q; 2: table words; 3: product)
    reg               v2_q;
    reg               v3_q;
    reg  [CW-1:0]     k1_q;        // class index in each stage
    reg  [CW-1:0]     k2_q;
    reg  [CW-1:0]     k3_q;
    reg  [SW-1:0]     rem_q;       // divider remainder (< S)
    reg               nb_q;        // next dividend bit to shift in
    reg  [15:0]       quo_q;       // quotient bits so far
    reg  [BSW-1:0]    bsel_q;      // b - 16
    reg  [CW-1:0]     pred_q;
    reg  [31:0]       loss_q;
    reg               out_valid_q;
    reg               out_last_q;
    reg  [16:0]       out_p_q;
    reg  signed [DW-1:0] out_delta_q;
    reg               ovf_q;

    wire s_fire    = s_valid_i && s_ready_o;
    wire m_fire    = out_valid_q && m_ready_i;
    wire out_free  = !out_valid_q || m_ready_i;
    wire k_is_last = (k_q == last_q);
    wire [CW-1:0] k_inc = k_q + K1;

    // ready may rise only while loading: the block takes one sample at a time
    assign s_ready_o = (state_q == ST_LOAD);

    assign m_valid_o = out_valid_q;
    assign m_delta_o = out_delta_q;
    assign m_p_o     = out_p_q;
    assign m_last_o  = out_last_q;
    assign pred_o    = pred_q;
    assign loss_o    = loss_q;
    assign ovf_o     = ovf_q;

    // ------------------------------------------------------------------ logit / e buffer (sync read)
    reg  [BW-1:0] buf_mem [0:NMAX-1];
    reg  [BW-1:0] buf_rd_q;
    reg  [CW-1:0] buf_ra;
    reg  [CW-1:0] buf_wa;
    reg           buf_we;
    reg  [BW-1:0] buf_wd;

    wire [BW+W-1:0]  z_wide = {{BW{1'b0}}, s_logit_i};
    wire [BW+16:0]   e_wide;
    wire [16:0]      e_val;                 // e of the class in exp stage 4 (k3_q)
    wire [16:0]      e_rd = buf_rd_q[16:0];  // e read back in the divide phase
    wire signed [W-1:0] z_rd = buf_rd_q[W-1:0];  // logit read back in the exp phase
    assign e_wide = {{BW{1'b0}}, e_val};

    always @* begin
        // EXP: issue class k_q; DIV: read one class ahead so that its word is ready when it starts
        case (state_q)
            ST_EXP:  buf_ra = k_q;
            ST_DIV:  buf_ra = k_is_last ? k_q : k_inc;
            default: buf_ra = K0;
        endcase
        buf_we = 1'b0;
        buf_wa = k_q;
        buf_wd = e_wide[BW-1:0];
        case (state_q)
            ST_LOAD: begin
                buf_we = s_fire;
                buf_wd = z_wide[BW-1:0];
            end
            ST_EXP: begin
                buf_we = v3_q;                  // e of the class in stage 4 (read 3 classes ago)
                buf_wa = k3_q;
            end
            default: ;
        endcase
    end

    always @(posedge clk) begin
        if (buf_we) buf_mem[buf_wa] <= buf_wd;
        buf_rd_q <= buf_mem[buf_ra];
    end

    // ------------------------------------------------------------------ exp stage 2: d, table reads
    reg  [16:0] exp_int_rom  [0:15];
    reg  [16:0] exp_frac_rom [0:NFRAC-1];
    reg  [15:0] ln_mant_rom  [0:255];
    initial begin
        $readmemh(EXP_INT_FILE, exp_int_rom);
        $readmemh(EXP_FRAC_FILE, exp_frac_rom);
        $readmemh(LN_MANT_FILE, ln_mant_rom);
    end

    wire signed [W:0] d_full = {m_q[W-1], m_q} - {z_rd[W-1], z_rd};   // >= 0, < 2^W
    wire [W-1:0]      d_w = d_full[W-1:0];
    wire [W+3:0]      d_x = {4'd0, d_w};
    wire [3:0]        n_idx = d_x[FA+3:FA];
    wire [FA-1:0]     f_idx = d_w[FA-1:0];
    wire              big = |(d_x >> (FA + 4));                      // d >> FA >= 16: e = 0

    reg  [16:0] eint_q;
    reg  [16:0] efrac_q;
    reg         big_q;
    always @(posedge clk) begin
        eint_q  <= exp_int_rom[n_idx];
        efrac_q <= exp_frac_rom[f_idx];
        big_q   <= big;
    end

    // ------------------------------------------------------------------ exp stage 3: multiply, bypass
    // e = (a * b + 2^15) >> 16 with a, b <= 2^16; a word >= 2^16 is exactly 2^16 (index 0), and then
    // e is the other word (e = 2^16 when both are). Otherwise both fit 16 bits: one DSP multiply.
    reg  [31:0] prod_q;        // a[15:0] * b[15:0]
    reg  [16:0] byp_q;         // e when byp_en_q
    reg         byp_en_q;
    always @(posedge clk) begin
        prod_q   <= eint_q[15:0] * efrac_q[15:0];
        byp_en_q <= big_q | eint_q[16] | efrac_q[16];
        if (big_q)           byp_q <= 17'd0;
        else if (eint_q[16]) byp_q <= efrac_q;
        else                 byp_q <= eint_q;
    end

    // ------------------------------------------------------------------ exp stage 4: rounding
    // (P + 2^15) >> 16 = P[31:16] + P[15] < 2^16 (P < 2^32 - 2^17)
    wire [16:0] prod_rnd = {1'b0, prod_q[31:16]} + {16'd0, prod_q[15]};
    assign e_val = byp_en_q ? byp_q : prod_rnd;

    // ------------------------------------------------------------------ restoring divider
    wire [SW:0]   div_r2   = {rem_q, nb_q};
    wire [SW+1:0] div_diff = {1'b0, div_r2} - {2'b00, s_q};
    wire          qbit     = ~div_diff[SW+1];                        // r2 >= S
    wire [SW-1:0] rem_next = qbit ? div_diff[SW-1:0] : div_r2[SW-1:0];
    wire [16:0]   p_val    = {quo_q, qbit};                          // final at step 17
    wire [SW-1:0] rem_init = {{(SW-16){1'b0}}, e_rd[16:1]};          // (e * 2^16) >> 17 < S

    // delta = requantize(p - 2^16 * [k == y], 16 - DF, (DW, DF), ROUND_BWD, saturate)
    wire signed [17:0] pm_y = $signed({1'b0, p_val}) - ((k_q == label_q) ? 18'sd65536 : 18'sd0);
    wire signed [DW-1:0] rq_out;
    wire                 rq_ovf;
    requantize #(
        .IN_W    (18),
        .OUT_W   (DW),
        .SHIFT   (QSH),
        .ROUND   (ROUND_BWD),
        .OVERFLOW(0)
    ) u_rq (
        .in_i (pm_y),
        .rnd_i({RNDW{1'b0}}),
        .out_o(rq_out),
        .ovf_o(rq_ovf)
    );

    // ------------------------------------------------------------------ loss
    // b = bitlength(S) - 1 in 16..16+CW (S >= 2^16); LN_MANT index = S[b-1:b-8]
    reg [BSW-1:0] bsel_d;
    reg [7:0]     ln_idx;
    integer i;
    always @* begin
        bsel_d = {BSW{1'b0}};
        ln_idx = s_q[15:8];
        for (i = 1; i <= CW; i = i + 1)
            if (s_q[16 + i]) begin
                bsel_d = i[BSW-1:0];
                ln_idx = s_q[8 + i +: 8];
            end
    end
    reg  [15:0] lnm_q;
    always @(posedge clk) lnm_q <= ln_mant_rom[ln_idx];

    wire [W+31:0] dy_wide = {32'd0, dy_q};
    wire [31:0]   dy_q16  = dy_wide[31:0] << LSH;
    // (b - 16) * LN2 as a constant table (no multiplier, so synthesis cannot spend a DSP on it)
    reg  [31:0]   ln_int;
    integer j;
    always @* begin
        ln_int = 32'd0;
        for (j = 1; j <= CW; j = j + 1)
            if (bsel_q == j[BSW-1:0]) ln_int = LN2 * j;
    end
    wire [31:0]   loss_d  = ln_int + {16'd0, lnm_q} + dy_q16;

    // ------------------------------------------------------------------ control
    always @(posedge clk) begin
        // exp pipeline bookkeeping (data registers: no reset needed)
        k1_q <= k_q;
        k2_q <= k1_q;
        k3_q <= k2_q;
        if (v1_q && k1_q == label_q) dy_q <= d_w;
        if (v3_q) s_q <= s_q + {{(SW-17){1'b0}}, e_val};
        if (rst) begin
            state_q     <= ST_LOAD;
            k_q         <= K0;
            step_q      <= 5'd0;
            rd_q        <= 1'b0;
            v1_q        <= 1'b0;
            v2_q        <= 1'b0;
            v3_q        <= 1'b0;
            out_valid_q <= 1'b0;
            ovf_q       <= 1'b0;
        end else begin
            v1_q <= rd_q;
            v2_q <= v1_q;
            v3_q <= v2_q;
            if (m_fire) out_valid_q <= 1'b0;
            case (state_q)
                ST_LOAD: if (s_fire) begin
                    if (k_q == K0) begin
                        m_q     <= s_logit_i;
                        arg_q   <= K0;
                        label_q <= s_label_i;
                        infer_q <= s_infer_i;
                    end else if (s_logit_i > m_q) begin
                        m_q   <= s_logit_i;
                        arg_q <= k_q;
                    end
                    if (s_last_i || k_q == KMAX) begin
                        last_q  <= k_q;
                        k_q     <= K0;
                        rd_q    <= 1'b1;
                        s_q     <= {SW{1'b0}};
                        state_q <= ST_EXP;
                    end else begin
                        k_q <= k_inc;
                    end
                end
                ST_EXP: begin
                    if (rd_q) begin
                        if (k_is_last) begin
                            rd_q <= 1'b0;
                            k_q  <= K0;
                        end else begin
                            k_q <= k_inc;
                        end
                    end
                    if (v3_q && k3_q == last_q) state_q <= ST_DPRE;   // S is final at this edge
                end
                ST_DPRE: if (!out_valid_q) begin
                    // the previous sample's last beat has left: pred/loss may change
                    pred_q  <= arg_q;
                    bsel_q  <= bsel_d;
                    step_q  <= 5'd0;
                    state_q <= infer_q ? ST_INF : ST_DIV;
                end
                ST_INF: begin
                    // the output register is empty (DPRE waited, nothing loaded since)
                    loss_q      <= loss_d;
                    out_valid_q <= 1'b1;
                    out_last_q  <= 1'b1;
                    state_q     <= ST_LOAD;
                end
                ST_DIV: begin
                    if (step_q == 5'd0) begin
                        rem_q  <= rem_init;
                        nb_q   <= e_rd[0];
                        if (k_q == K0) loss_q <= loss_d;
                        step_q <= 5'd1;
                    end else if (step_q != 5'd17) begin
                        rem_q  <= rem_next;
                        nb_q   <= 1'b0;
                        quo_q  <= {quo_q[14:0], qbit};
                        step_q <= step_q + 5'd1;
                    end else if (out_free) begin
                        out_valid_q <= 1'b1;
                        out_last_q  <= k_is_last;
                        out_p_q     <= p_val;
                        out_delta_q <= rq_out;
                        ovf_q       <= ovf_q | rq_ovf;
                        step_q      <= 5'd0;
                        if (k_is_last) begin
                            k_q     <= K0;
                            state_q <= ST_LOAD;
                        end else begin
                            k_q <= k_inc;
                        end
                    end
                end
                default: state_q <= ST_LOAD;
            endcase
        end
    end

    // bits that are structurally zero or not needed for this parameter set
    wire unused_bits = ^{z_wide[BW+W-1:BW], e_wide[BW+16:BW], prod_q[14:0], d_full[W],
                         buf_rd_q, dy_wide[W+31:32], div_diff[SW]};

endmodule

`resetall

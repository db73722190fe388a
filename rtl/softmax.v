// Softmax + cross-entropy head: exp tables, exact division p = floor(e*2^16/S), deltas p - y, loss, argmax.
`resetall
`timescale 1ns / 1ps
`default_nettype none

// Twin: golden/softmax.py (exps, probs, delta, loss). One sample at a time:
//
//   LOAD  accept N logits (1 beat/cycle), store them in a small buffer, track max m and its first index
//   EXP   per class: d = m - z, table reads EXP_INT[d >> FA], EXP_FRAC[d & (2^FA-1)] (or e = 0 when
//         d >> FA >= 16), a 17x17 shift-add multiply (17 cycles), e = (P + 2^15) >> 16; the buffer word
//         is overwritten by e, S += e; d at the label class is kept for the loss
//   DIV   per class: restoring divider, one quotient bit per cycle, p = floor(e * 2^16 / S) (17 bits);
//         delta = requantize(p - 2^16*[k == label]) into the output register; the loss is formed from
//         S (leading-one position b, LN_MANT[(S >> (b-8)) & 255]) and d_label in the first DIV cycle
//
// Cycle count per sample (no stalls on either stream), N = number of logits:
//   N (load) + 2 + 18*N + 1 (exp) + 1 + 18*N (divide) = 37*N + 4 cycles from the first logit accepted
//   to the first logit of the next sample accepted (the block accepts it in the cycle after the last
//   delta is written to its output register; that delta may still be waiting on m_ready_i).
// Latency: the first delta is valid 18*N + 22 cycles after the clock edge that accepted the last logit
//   (output beats then follow every 18 cycles; the last is valid 36*N + 4 cycles after that edge).
//   Output back-pressure only stalls the divider when the single output register is still full.
//
// Interface notes
//   - s_label_i (the true class y) is sampled with the first beat of a sample; it must be < N.
//   - A sample ends with s_last_i, or after NMAX beats (the NMAX-th beat is taken as last).
//   - m_p_o is p_k (Q0.16) in 17 bits: p_k = 2^16 exactly when every other class has e = 0.
//   - pred_o (first maximum in class order) and loss_o (Q16.16, -ln p_y up to table error) are
//     registers, valid with every output beat of the sample (in particular the m_last_o beat); they
//     change only when the next sample reaches its divide phase, after this sample's last beat left.
//     loss_o holds the low 32 bits of the golden loss (exact while W + 16 - FA <= 31).
//   - ovf_o is sticky since reset: some delta was saturated by requantize (DF too large for DW).
//     It already includes the beat currently on the output.
//   - ROUND_BWD 3 (stochastic) is not supported here: the requantize rnd_i input is tied to zero.
//   - Constraints: 1 <= FA <= 16, W <= 32, NMAX >= 2, DW/DF such that requantize fits (see its header).
//     Tested with N = 2..NMAX.
//
// Resources (Yosys, default parameters): iCE40 (synth_ice40 -dsp) 440 SB_LUT4, 147 SB_CARRY, 288 FF,
//   5 SB_RAM40_4K (EXP_FRAC 2, LN_MANT 1, logit/e buffer 2; EXP_INT becomes logic), no SB_MAC16;
//   ECP5 321 LUT4, 80 CCU2C, 271 FF, 2 DP16KD, 5 TRELLIS_DPR16X4, no MULT18X18D.
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

    // delta stream out (class order)
    output wire                      m_valid_o,
    input  wire                      m_ready_i,
    output wire signed [DW-1:0]      m_delta_o,    // requantize(p_k - 2^16*[k == y]) in (DW, DF)
    output wire [16:0]               m_p_o,        // p_k, Q0.16 (2^16 = 1.0 possible)
    output wire                      m_last_o,     // last class of the sample

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
    localparam [2:0] ST_EPRE = 3'd1;   // 2 cycles: read z_0, table reads for class 0
    localparam [2:0] ST_EXP  = 3'd2;   // 18 cycles per class: operand load + 17 multiply steps
    localparam [2:0] ST_EFIN = 3'd3;   // 1 cycle: e of the last class
    localparam [2:0] ST_DPRE = 3'd4;   // 1 cycle (waits for an empty output register): read e_0, loss prep
    localparam [2:0] ST_DIV  = 3'd5;   // 18 cycles per class: operand load + 17 divide steps

    // ------------------------------------------------------------------ state
    reg  [2:0]        state_q;
    reg  [CW-1:0]     k_q;         // class index
    reg  [CW-1:0]     last_q;      // N - 1
    reg  [4:0]        step_q;      // cycle within a class (0..17)
    reg  signed [W-1:0] m_q;       // running max logit
    reg  [CW-1:0]     arg_q;       // index of the first max
    reg  [CW-1:0]     label_q;
    reg  [SW-1:0]     s_q;         // S
    reg  [W-1:0]      dy_q;        // d at the label class
    reg  [16:0]       a_q;         // multiplicand EXP_INT[n]
    reg  [16:0]       b_q;         // multiplier EXP_FRAC[f], shifted out; receives product low bits
    reg  [15:0]       acc_q;       // product high bits (a * partial b >> i < a <= 2^16)
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
    wire [16:0]      e_val;                 // e of the class whose product is in {acc_q, b_q}
    wire [16:0]      e_rd = buf_rd_q[16:0];  // e read back in the divide phase
    wire signed [W-1:0] z_rd = buf_rd_q[W-1:0];  // logit read back in the exp phase
    assign e_wide = {{BW{1'b0}}, e_val};

    always @* begin
        // read one class ahead so that its word is ready when the class starts
        case (state_q)
            ST_EXP, ST_DIV: buf_ra = k_is_last ? k_q : k_inc;
            default:        buf_ra = K0;
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
                buf_we = (step_q == 5'd0) && (k_q != K0);   // e of the previous class
                buf_wa = k_q - K1;
            end
            ST_EFIN: buf_we = 1'b1;                          // e of the last class
            default: ;
        endcase
    end

    always @(posedge clk) begin
        if (buf_we) buf_mem[buf_wa] <= buf_wd;
        buf_rd_q <= buf_mem[buf_ra];
    end

    // ------------------------------------------------------------------ exp: d, table reads
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

    // ------------------------------------------------------------------ shift-add multiplier, rounding
    wire [16:0] mul_sum = {1'b0, acc_q} + (b_q[0] ? a_q : 17'd0);
    // P = {acc_q, b_q} (33 bits, <= 2^32); e = (P + 2^15) >> 16 = P[32:16] + P[15] <= 2^16
    wire [17:0] e_full = {1'b0, acc_q, b_q[16]} + {17'd0, b_q[15]};
    assign e_val = e_full[16:0];

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
        if (rst) begin
            state_q     <= ST_LOAD;
            k_q         <= K0;
            step_q      <= 5'd0;
            out_valid_q <= 1'b0;
            ovf_q       <= 1'b0;
        end else begin
            if (m_fire) out_valid_q <= 1'b0;
            case (state_q)
                ST_LOAD: if (s_fire) begin
                    if (k_q == K0) begin
                        m_q     <= s_logit_i;
                        arg_q   <= K0;
                        label_q <= s_label_i;
                    end else if (s_logit_i > m_q) begin
                        m_q   <= s_logit_i;
                        arg_q <= k_q;
                    end
                    if (s_last_i || k_q == KMAX) begin
                        last_q  <= k_q;
                        k_q     <= K0;
                        step_q  <= 5'd0;
                        state_q <= ST_EPRE;
                    end else begin
                        k_q <= k_inc;
                    end
                end
                ST_EPRE: begin
                    s_q    <= {SW{1'b0}};
                    step_q <= step_q + 5'd1;
                    if (step_q == 5'd1) begin
                        step_q  <= 5'd0;
                        state_q <= ST_EXP;
                    end
                end
                ST_EXP: begin
                    if (step_q == 5'd0) begin
                        if (k_q != K0) s_q <= s_q + {{(SW-17){1'b0}}, e_val};
                        a_q    <= eint_q;
                        b_q    <= big_q ? 17'd0 : efrac_q;
                        acc_q  <= 16'd0;
                        if (k_q == label_q) dy_q <= d_w;
                        step_q <= 5'd1;
                    end else begin
                        acc_q <= mul_sum[16:1];
                        b_q   <= {mul_sum[0], b_q[16:1]};
                        if (step_q == 5'd17) begin
                            step_q <= 5'd0;
                            if (k_is_last) state_q <= ST_EFIN;
                            else           k_q <= k_inc;
                        end else begin
                            step_q <= step_q + 5'd1;
                        end
                    end
                end
                ST_EFIN: begin
                    s_q     <= s_q + {{(SW-17){1'b0}}, e_val};
                    k_q     <= K0;
                    state_q <= ST_DPRE;
                end
                ST_DPRE: if (!out_valid_q) begin
                    // the previous sample's last beat has left: pred/loss may change
                    pred_q  <= arg_q;
                    bsel_q  <= bsel_d;
                    step_q  <= 5'd0;
                    state_q <= ST_DIV;
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
    wire unused_bits = ^{z_wide[BW+W-1:BW], e_wide[BW+16:BW], e_full[17], d_full[W], buf_rd_q,
                         dy_wide[W+31:32], div_diff[SW]};

endmodule

`resetall

// The core's instruction set: descriptor fields, op / head / error / phase codes, register
// map and CTRL / STATUS bits. GENERATED from golden/isa.py by `make tables`
// (scripts/export_tables.py --defs): do not edit; tests/test_isa.py checks it is fresh.
// `include inside a module body (localparams, no include guard: each module gets its own).
// Lint waiver, reason: every including module uses only part of the table.
/* verilator lint_off UNUSEDPARAM */

// descriptor: DESC_WORDS words per layer; field <F> is word DF_<F>_WORD, bits [DF_<F>_LSB +: DF_<F>_W]
localparam integer DESC_WORDS = 4;
localparam integer DF_OP_WORD = 0, DF_OP_LSB = 0, DF_OP_W = 4;   // layer op (OPS)
localparam integer DF_K_WORD = 0, DF_K_LSB = 4, DF_K_W = 4;   // conv kernel size (k x k)
localparam integer DF_C_WORD = 0, DF_C_LSB = 8, DF_C_W = 8;   // input channels (conv, relu / sigmoid / maxpool: channels)
localparam integer DF_N_WORD = 0, DF_N_LSB = 16, DF_N_W = 16;   // outputs: conv filters, dense outputs
localparam integer DF_H_WORD = 1, DF_H_LSB = 0, DF_H_W = 8;   // input height
localparam integer DF_W_WORD = 1, DF_W_LSB = 8, DF_W_W = 8;   // input width
localparam integer DF_M_WORD = 1, DF_M_LSB = 16, DF_M_W = 16;   // dense: flattened input length
localparam integer DF_IN_ADDR_WORD = 2, DF_IN_ADDR_LSB = 0, DF_IN_ADDR_W = 16;   // AMEM element address of the layer's input
localparam integer DF_OUT_ADDR_WORD = 2, DF_OUT_ADDR_LSB = 16, DF_OUT_ADDR_W = 16;   // AMEM element address of the layer's output
localparam integer DF_W_ADDR_WORD = 3, DF_W_ADDR_LSB = 0, DF_W_ADDR_W = 16;   // WMEM element address of the weights (biases follow)
localparam integer DF_AUX_ADDR_WORD = 3, DF_AUX_ADDR_LSB = 16, DF_AUX_ADDR_W = 16;   // maxpool: IMEM argmax address; conv after the first: DMEM scratch of its padded delta

// layer ops (descriptor field op)
localparam [3:0] OP_CONV = 4'd1;   // conv
localparam [3:0] OP_DENSE = 4'd2;   // dense
localparam [3:0] OP_RELU = 4'd3;   // relu
localparam [3:0] OP_SIG = 4'd4;   // sigmoid
localparam [3:0] OP_MP = 4'd5;   // maxpool

// HEAD register
localparam HEAD_SOFTMAX_CE = 1'b0;
localparam HEAD_SIGMOID_MSE = 1'b1;

// STATUS[15:8] error codes
localparam [7:0] ERR_OP = 8'd1;   // unknown op
localparam [7:0] ERR_GEOMETRY = 8'd2;   // bad geometry
localparam [7:0] ERR_MAXIMUM = 8'd3;   // compile-time maximum exceeded
localparam [7:0] ERR_STRUCTURE = 8'd4;   // unsupported structure
localparam [7:0] ERR_FRAMING = 8'd5;   // stream framing
localparam [7:0] ERR_LABEL = 8'd6;   // label out of range

// phase codes (trace_phase_code_o[4:0], the phase log); BIAS, PADZ, PADC are sub-phases
localparam [4:0] U_CONV_FWD = 5'd1;   // conv.fwd
localparam [4:0] U_DENSE_FWD = 5'd2;   // dense.fwd
localparam [4:0] U_RELU_FWD = 5'd3;   // relu.fwd
localparam [4:0] U_SIG_FWD = 5'd4;   // sigmoid.fwd
localparam [4:0] U_MP_FWD = 5'd5;   // maxpool.fwd
localparam [4:0] U_SOFTMAX = 5'd6;   // head.softmax
localparam [4:0] U_MSE = 5'd7;   // head.sigmoid_mse
localparam [4:0] U_DENSE_DX = 5'd8;   // dense.dx
localparam [4:0] U_DENSE_DW = 5'd9;   // dense.dw
localparam [4:0] U_DENSE_DB = 5'd10;   // dense.db
localparam [4:0] U_CONV_DK = 5'd11;   // conv.dk
localparam [4:0] U_CONV_DB = 5'd12;   // conv.db
localparam [4:0] U_CONV_DX = 5'd13;   // conv.dx
localparam [4:0] U_RELU_BWD = 5'd14;   // relu.bwd
localparam [4:0] U_SIG_BWD = 5'd15;   // sigmoid.bwd
localparam [4:0] U_MP_BWD = 5'd16;   // maxpool.bwd
localparam [4:0] U_UPDATE = 5'd17;   // update
localparam [4:0] U_LOAD = 5'd18;   // load
localparam [4:0] U_BIAS = 5'd19;   // sub.bias
localparam [4:0] U_PADZ = 5'd20;   // sub.padz
localparam [4:0] U_PADC = 5'd21;   // sub.padc

// register map: byte addresses
localparam [19:0] REG_CTRL = 20'h00000;
localparam [19:0] REG_STATUS = 20'h00004;
localparam [19:0] REG_BATCH = 20'h00008;
localparam [19:0] REG_LR = 20'h0000C;
localparam [19:0] REG_SEED = 20'h00010;
localparam [19:0] REG_NUM_LAYERS = 20'h00014;
localparam [19:0] REG_HEAD = 20'h00018;
localparam [19:0] REG_CYC_TOTAL = 20'h00020;
localparam [19:0] REG_CYC_FWD = 20'h00024;
localparam [19:0] REG_CYC_BWD = 20'h00028;
localparam [19:0] REG_STEPS = 20'h0002C;
localparam [19:0] REG_DESC_BASE = 20'h00100;
localparam [19:0] REG_WMEM_BASE = 20'h10000;
// the same as 32-bit word addresses (byte address >> 2); RI_<reg>: a register's word index
localparam [31:0] WA_DESC_BASE = 32'h40, WA_WMEM_BASE = 32'h4000;
localparam [3:0] RI_CTRL = 4'd0;
localparam [3:0] RI_STATUS = 4'd1;
localparam [3:0] RI_BATCH = 4'd2;
localparam [3:0] RI_LR = 4'd3;
localparam [3:0] RI_SEED = 4'd4;
localparam [3:0] RI_NUM_LAYERS = 4'd5;
localparam [3:0] RI_HEAD = 4'd6;
localparam [3:0] RI_CYC_TOTAL = 4'd8;
localparam [3:0] RI_CYC_FWD = 4'd9;
localparam [3:0] RI_CYC_BWD = 4'd10;
localparam [3:0] RI_STEPS = 4'd11;
localparam [15:0] RI_VALID = 16'h0F7F;   // bit i: word index i is a register
localparam [15:0] RI_RO = 16'h0F02;      // bit i: register i is read-only

// CTRL and STATUS bits
localparam integer CTRL_START = 0;
localparam integer CTRL_MODE = 1;
localparam integer CTRL_CLEAR = 2;
localparam integer CTRL_SEED_LOAD = 3;
localparam integer ST_BUSY = 0;
localparam integer ST_DONE = 1;
localparam integer ST_ERROR = 2;
localparam integer ST_OVF = 3;
localparam integer ST_REJ = 4;
localparam integer ST_CODE_LSB = 8, ST_CODE_W = 8;

/* verilator lint_on UNUSEDPARAM */

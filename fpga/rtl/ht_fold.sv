// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_fold: the greek table and the background aggregation engine. On COMMIT it walks table entries
// 0..count-1, one per cycle, re-centres each at its underlying's reference spot S0 and sums them into
// A, B, C, V per underlying; when the last one is in, the new book replaces the active one in one cycle.
//
// Timing (COMMIT written in cycle w; fold_t = k during cycle w+1+k):
//
//   stage  cycle of entry i   work                                              cycles
//   F0     w+1+i              read address i (registered memory read)            1
//   F1     w+2+i              h = sat(S0[u] - S_i)                              1
//   F2-F3  w+3+i, w+4+i       sh = speed * h (64x64, two register stages)       2
//   F4     w+5+i              gamma0 = sat(g + sh>>36), half = sat(g + sh>>37)  1
//   F5-F6  w+6+i, w+7+i       dd = half * h (64x64, two register stages)        2
//   F7     w+8+i              delta0 = sat(d + dd>>48)                          1
//   F8     w+9+i              acc[u] += delta0, gamma0, speed, vanna (80 bits)  1
//   swap   w+9+count          active <= saturate(acc), all underlyings at once  1
//
// so the new book is visible from cycle w + count + HT_PIPE_FOLD_EXTRA_CYCLES (10), and busy_o is high in
// cycles w+1 .. w+count+9. Table writes and COMMITs while busy are ignored and reported (table_busy_o).
// Reset: synchronous, active low; control state resets, datapath registers do not (their valid bits do).
//
// Coding: control state (fold timer, busy, count, the working S0, the fold's flags) is computed as NAME_d in
// always_comb and registered as NAME_q by always_ff blocks that only reset and copy. The accumulators and the
// active book are banks of NU words loaded under an enable (acc_we per word, swap for the book): a clock
// enable in hardware, and Verilator copies a word when it changes, not every bank every cycle. The datapath
// stage registers fN_*_q are written stage to stage, each stage's arithmetic on its input.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_fold #(
  // Entries in the table (a power of two; HT_PIPE_TABLE_DEPTH in production, smaller for quick synthesis).
  parameter int DEPTH = ht_pkg::HT_PIPE_TABLE_DEPTH,
  // log2(DEPTH)
  parameter int ADDR_BITS = ht_pkg::HT_PIPE_TABLE_ADDR_BITS
) (
  input  wire                                         clk,
  input  wire                                         rst_ni,

  // ---- Table write port (host) ----
  input  wire                                         tbl_we_i,
  input  wire [ADDR_BITS-1:0]                         tbl_addr_i,
  input  wire [ht_pkg::ENTRY_PORT_BITS-1:0]           tbl_data_i,

  // ---- Commit (a pulse in the cycle the CONTROL write is accepted) ----
  input  wire                                         commit_i,
  input  wire [ADDR_BITS:0]                           count_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    s0_next_i,

  // ---- Active book, per underlying u at [u*64 +: 64] ----
  output logic [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]   book_a_o,
  output logic [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]   book_b_o,
  output logic [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]   book_c_o,
  output logic [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]   book_v_o,
  output logic [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]   book_s0_o,

  // ---- Status ----
  output logic                                        busy_o,
  output logic                                        swap_o,        // pulse: a book was swapped in
  output logic [ht_pkg::FLAG_BITS-1:0]                flags_o,       // pulse: HT_PIPE_FLAG_* bits to set
  output logic                                        table_busy_o   // pulse: a write or commit was ignored
);
  localparam int NU = ht_pkg::HT_PIPE_UNDERLYINGS;
  localparam int ACC = ht_pkg::HT_FX_ACC_BITS;
  localparam int SH_GAMMA = ht_pkg::HT_FX_SPEED_FRAC + ht_pkg::HT_FX_PRICE_FRAC - ht_pkg::HT_FX_GAMMA_FRAC;
  localparam int SH_DELTA = ht_pkg::HT_FX_GAMMA_FRAC + ht_pkg::HT_FX_PRICE_FRAC - ht_pkg::HT_FX_DELTA_FRAC;

  initial begin
    if (DEPTH != (1 << ADDR_BITS)) $error("%m: DEPTH must be 2^ADDR_BITS");
    if (SH_GAMMA != 36 || SH_DELTA != 48) $error("%m: formats changed, review the shifts");
    if (NU != 16) $error("%m: underlying indices are 4 bits");
  end

  // ---- Table memory: one write port (host), one registered read port (fold) -------------------------------
  logic [ht_pkg::ENTRY_BITS-1:0] mem [DEPTH];
  logic [ht_pkg::ENTRY_BITS-1:0] tbl_entry;
  logic                          busy_q;

  // The port carries six words; the memory keeps the five greek words and the underlying byte.
  logic unused_tbl_reserved;
  assign tbl_entry = {tbl_data_i[5*64 +: 8], tbl_data_i[0 +: 5*64]};
  assign unused_tbl_reserved = ^tbl_data_i[ht_pkg::ENTRY_PORT_BITS-1:5*64+8];

  // The memory's write port (no reset: a fold reads only entries the host wrote).
  always_ff @(posedge clk) begin
    if (tbl_we_i && !busy_q) mem[tbl_addr_i] <= tbl_entry;
  end

  // ---- Control: fold timer, busy, commit ----------------------------------------------------------------
  logic                     busy_d;
  logic [ADDR_BITS+1:0]     fold_t_d, fold_t_q;   // k during cycle w+1+k
  logic [ADDR_BITS:0]       count_d, count_q;
  logic [NU*64-1:0]         s0_work_d, s0_work_q;
  logic                     start;    // a COMMIT accepted: the fold starts
  logic                     issue;
  logic                     swap;

  assign start = commit_i && !busy_q;
  assign issue = busy_q && ({1'b0, fold_t_q} < {2'b0, count_q});
  localparam logic [ADDR_BITS+1:0] SWAP_AFTER = 8;   // cycles from the last issue to the swap, minus one
  assign swap  = busy_q && (fold_t_q == {1'b0, count_q} + SWAP_AFTER);

  always_comb begin
    busy_d    = busy_q;
    fold_t_d  = fold_t_q;
    count_d   = count_q;
    s0_work_d = s0_work_q;
    if (start) begin
      busy_d    = 1'b1;
      fold_t_d  = '0;
      count_d   = count_i;
      s0_work_d = s0_next_i;
    end else if (swap) begin
      busy_d    = 1'b0;
    end else if (busy_q) begin
      fold_t_d  = fold_t_q + 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      busy_q   <= 1'b0;
      fold_t_q <= '0;
      count_q  <= '0;
    end else begin
      busy_q   <= busy_d;
      fold_t_q <= fold_t_d;
      count_q  <= count_d;
    end
  end

  // The working S0 has no reset: a fold uses it only after a COMMIT has loaded it.
  always_ff @(posedge clk) begin
    s0_work_q <= s0_work_d;
  end

  assign busy_o = busy_q;
  assign table_busy_o = busy_q && (tbl_we_i || commit_i);

  // ---- F0 -> F1: registered memory read (1 cycle) ------------------------------------------------------
  logic                           f1_valid_q;
  logic [ht_pkg::ENTRY_BITS-1:0]  f1_entry_q;

  always_ff @(posedge clk) begin
    f1_entry_q <= mem[fold_t_q[ADDR_BITS-1:0]];
    f1_valid_q <= rst_ni && issue;
  end

  // ---- F1: h = S0[u] - S_i (1 cycle) ---------------------------------------------------------------------
  logic [7:0]        f1_und;
  logic signed [63:0] f1_delta, f1_gamma, f1_speed, f1_vanna, f1_ref;
  logic              f1_ok;
  ht_pkg::wide_t     f1_h_wide;

  assign {f1_und, f1_ref, f1_vanna, f1_speed, f1_gamma, f1_delta} = f1_entry_q;
  assign f1_ok = f1_valid_q && (f1_und[7:4] == 4'd0);
  assign f1_h_wide = ht_pkg::wide64(ht_pkg::pick64(s0_work_q, f1_und[3:0])) - ht_pkg::wide64(f1_ref);

  logic              f2_valid_q;
  logic [3:0]        f2_und_q;
  logic signed [63:0] f2_h_q, f2_delta_q, f2_gamma_q, f2_speed_q, f2_vanna_q;
  logic              f2_sat_q;

  always_ff @(posedge clk) begin
    f2_valid_q <= rst_ni && f1_ok;
    f2_und_q   <= f1_und[3:0];
    f2_h_q     <= ht_pkg::saturate64(f1_h_wide);
    f2_sat_q   <= ht_pkg::overflows64(f1_h_wide);
    f2_delta_q <= f1_delta;
    f2_gamma_q <= f1_gamma;
    f2_speed_q <= f1_speed;
    f2_vanna_q <= f1_vanna;
  end

  // ---- F2-F3: sh = speed * h (2 cycles) ----------------------------------------------------------------
  logic              f3_valid_q, f4_valid_q;
  logic [3:0]        f3_und_q, f4_und_q;
  logic signed [63:0] f3_h_q, f3_delta_q, f3_gamma_q, f3_speed_q, f3_vanna_q;
  logic signed [63:0] f4_h_q, f4_delta_q, f4_gamma_q, f4_speed_q, f4_vanna_q;
  logic signed [127:0] f3_sh_q, f4_sh_q;
  logic              f3_sat_q, f4_sat_q;

  always_ff @(posedge clk) begin
    f3_valid_q <= rst_ni && f2_valid_q;
    f3_und_q <= f2_und_q; f3_h_q <= f2_h_q; f3_delta_q <= f2_delta_q; f3_gamma_q <= f2_gamma_q;
    f3_speed_q <= f2_speed_q; f3_vanna_q <= f2_vanna_q; f3_sat_q <= f2_sat_q;
    f3_sh_q <= ht_pkg::mul64(f2_speed_q, f2_h_q);
    f4_valid_q <= rst_ni && f3_valid_q;
    f4_und_q <= f3_und_q; f4_h_q <= f3_h_q; f4_delta_q <= f3_delta_q; f4_gamma_q <= f3_gamma_q;
    f4_speed_q <= f3_speed_q; f4_vanna_q <= f3_vanna_q; f4_sat_q <= f3_sat_q;
    f4_sh_q <= f3_sh_q;
  end

  // ---- F4: gamma0 and the half slope (1 cycle) ------------------------------------------------------------
  ht_pkg::wide_t f4_gamma0_wide, f4_half_wide;

  assign f4_gamma0_wide = ht_pkg::wide64(f4_gamma_q) + ht_pkg::round_shift(ht_pkg::wide128(f4_sh_q), SH_GAMMA);
  assign f4_half_wide   = ht_pkg::wide64(f4_gamma_q) + ht_pkg::round_shift(ht_pkg::wide128(f4_sh_q), SH_GAMMA + 1);

  logic              f5_valid_q;
  logic [3:0]        f5_und_q;
  logic signed [63:0] f5_h_q, f5_delta_q, f5_gamma0_q, f5_half_q, f5_speed_q, f5_vanna_q;
  logic              f5_sat_g_q;

  always_ff @(posedge clk) begin
    f5_valid_q  <= rst_ni && f4_valid_q;
    f5_und_q    <= f4_und_q;
    f5_h_q      <= f4_h_q;
    f5_delta_q  <= f4_delta_q;
    f5_gamma0_q <= ht_pkg::saturate64(f4_gamma0_wide);
    f5_half_q   <= ht_pkg::saturate64(f4_half_wide);
    f5_sat_g_q  <= f4_sat_q || ht_pkg::overflows64(f4_gamma0_wide) || ht_pkg::overflows64(f4_half_wide);
    f5_speed_q  <= f4_speed_q;
    f5_vanna_q  <= f4_vanna_q;
  end

  // ---- F5-F6: dd = half * h (2 cycles) ---------------------------------------------------------------------
  logic              f6_valid_q, f7_valid_q;
  logic [3:0]        f6_und_q, f7_und_q;
  logic signed [63:0] f6_delta_q, f6_gamma0_q, f6_speed_q, f6_vanna_q;
  logic signed [63:0] f7_delta_q, f7_gamma0_q, f7_speed_q, f7_vanna_q;
  logic signed [127:0] f6_dd_q, f7_dd_q;
  logic              f6_sat_g_q, f7_sat_g_q;

  always_ff @(posedge clk) begin
    f6_valid_q <= rst_ni && f5_valid_q;
    f6_und_q <= f5_und_q; f6_delta_q <= f5_delta_q; f6_gamma0_q <= f5_gamma0_q;
    f6_speed_q <= f5_speed_q; f6_vanna_q <= f5_vanna_q; f6_sat_g_q <= f5_sat_g_q;
    f6_dd_q <= ht_pkg::mul64(f5_half_q, f5_h_q);
    f7_valid_q <= rst_ni && f6_valid_q;
    f7_und_q <= f6_und_q; f7_delta_q <= f6_delta_q; f7_gamma0_q <= f6_gamma0_q;
    f7_speed_q <= f6_speed_q; f7_vanna_q <= f6_vanna_q; f7_sat_g_q <= f6_sat_g_q;
    f7_dd_q <= f6_dd_q;
  end

  // ---- F7: delta0 (1 cycle) ----------------------------------------------------------------------------------
  ht_pkg::wide_t f7_delta0_wide;

  assign f7_delta0_wide = ht_pkg::wide64(f7_delta_q) + ht_pkg::round_shift(ht_pkg::wide128(f7_dd_q), SH_DELTA);

  logic              f8_valid_q;
  logic [3:0]        f8_und_q;
  logic signed [63:0] f8_delta0_q, f8_gamma0_q, f8_speed_q, f8_vanna_q;
  logic              f8_sat_g_q, f8_sat_d_q;

  always_ff @(posedge clk) begin
    f8_valid_q  <= rst_ni && f7_valid_q;
    f8_und_q    <= f7_und_q;
    f8_delta0_q <= ht_pkg::saturate64(f7_delta0_wide);
    f8_sat_d_q  <= ht_pkg::overflows64(f7_delta0_wide);
    f8_sat_g_q  <= f7_sat_g_q;
    f8_gamma0_q <= f7_gamma0_q;
    f8_speed_q  <= f7_speed_q;
    f8_vanna_q  <= f7_vanna_q;
  end

  // ---- F8: accumulate (1 cycle); swap (1 cycle) ---------------------------------------------------------------
  logic [NU*ACC-1:0] acc_a_q, acc_b_q, acc_c_q, acc_v_q;
  logic [NU-1:0]     acc_we;         // the words written: all at a fold's start, the entry's underlying's after
  logic [ACC-1:0]    acc_a_d, acc_b_d, acc_c_d, acc_v_d;
  logic [1:0]        fold_flags_d, fold_flags_q;   // FOLD_DELTA, FOLD_GAMMA raised by entries of this fold
  logic [ACC-1:0]    acc_sum_a, acc_sum_b, acc_sum_c, acc_sum_v;

  assign acc_sum_a = ht_pkg::pick_acc(acc_a_q, f8_und_q) + ht_pkg::acc64(f8_delta0_q);
  assign acc_sum_b = ht_pkg::pick_acc(acc_b_q, f8_und_q) + ht_pkg::acc64(f8_gamma0_q);
  assign acc_sum_c = ht_pkg::pick_acc(acc_c_q, f8_und_q) + ht_pkg::acc64(f8_speed_q);
  assign acc_sum_v = ht_pkg::pick_acc(acc_v_q, f8_und_q) + ht_pkg::acc64(f8_vanna_q);

  // A fold's start clears the accumulators; each entry adds into its underlying's (one adder per quantity,
  // its result written to the entry's underlying).
  always_comb begin
    acc_we       = '0;
    acc_a_d      = acc_sum_a;
    acc_b_d      = acc_sum_b;
    acc_c_d      = acc_sum_c;
    acc_v_d      = acc_sum_v;
    fold_flags_d = fold_flags_q;
    if (start) begin
      acc_we       = '1;
      acc_a_d      = '0;
      acc_b_d      = '0;
      acc_c_d      = '0;
      acc_v_d      = '0;
      fold_flags_d = '0;
    end else if (f8_valid_q) begin
      acc_we       = {{(NU - 1){1'b0}}, 1'b1} << f8_und_q;
      fold_flags_d = fold_flags_q | {f8_sat_d_q, f8_sat_g_q};
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) fold_flags_q <= '0;
    else fold_flags_q <= fold_flags_d;
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      acc_a_q <= '0;
      acc_b_q <= '0;
      acc_c_q <= '0;
      acc_v_q <= '0;
    end else begin
      for (int u = 0; u < NU; u++) begin
        if (acc_we[u]) begin
          acc_a_q[u*ACC +: ACC] <= acc_a_d;
          acc_b_q[u*ACC +: ACC] <= acc_b_d;
          acc_c_q[u*ACC +: ACC] <= acc_c_d;
          acc_v_q[u*ACC +: ACC] <= acc_v_d;
        end
      end
    end
  end

  // Saturating narrowing of every accumulator, used in the swap cycle.
  logic [NU*64-1:0] sum_a, sum_b, sum_c, sum_v;
  logic [NU-1:0]    sum_sat;

  always_comb begin
    for (int u = 0; u < NU; u++) begin
      sum_a[u*64 +: 64] = ht_pkg::saturate64(ht_pkg::wide_acc(acc_a_q[u*ACC +: ACC]));
      sum_b[u*64 +: 64] = ht_pkg::saturate64(ht_pkg::wide_acc(acc_b_q[u*ACC +: ACC]));
      sum_c[u*64 +: 64] = ht_pkg::saturate64(ht_pkg::wide_acc(acc_c_q[u*ACC +: ACC]));
      sum_v[u*64 +: 64] = ht_pkg::saturate64(ht_pkg::wide_acc(acc_v_q[u*ACC +: ACC]));
      sum_sat[u] = ht_pkg::overflows64(ht_pkg::wide_acc(acc_a_q[u*ACC +: ACC])) ||
                   ht_pkg::overflows64(ht_pkg::wide_acc(acc_b_q[u*ACC +: ACC])) ||
                   ht_pkg::overflows64(ht_pkg::wide_acc(acc_c_q[u*ACC +: ACC])) ||
                   ht_pkg::overflows64(ht_pkg::wide_acc(acc_v_q[u*ACC +: ACC]));
    end
  end

  // The active book: all underlyings replaced at once in the swap cycle (swap is its load enable).
  logic [NU*64-1:0] book_a_q, book_b_q, book_c_q, book_v_q, book_s0_q;

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      book_a_q  <= '0;
      book_b_q  <= '0;
      book_c_q  <= '0;
      book_v_q  <= '0;
      book_s0_q <= '0;
    end else if (swap) begin
      book_a_q  <= sum_a;
      book_b_q  <= sum_b;
      book_c_q  <= sum_c;
      book_v_q  <= sum_v;
      book_s0_q <= s0_work_q;
    end
  end

  assign book_a_o  = book_a_q;
  assign book_b_o  = book_b_q;
  assign book_c_o  = book_c_q;
  assign book_v_o  = book_v_q;
  assign book_s0_o = book_s0_q;

  // Flags are raised in the swap cycle, with the book that caused them.
  assign swap_o  = swap;
  assign flags_o = ht_pkg::flag_if(swap && |sum_sat, ht_pkg::HT_PIPE_FLAG_FOLD_SUM) |
                   ht_pkg::flag_if(swap && fold_flags_q[1], ht_pkg::HT_PIPE_FLAG_FOLD_DELTA) |
                   ht_pkg::flag_if(swap && fold_flags_q[0], ht_pkg::HT_PIPE_FLAG_FOLD_GAMMA);

endmodule

`resetall

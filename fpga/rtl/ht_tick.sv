// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_tick: the fast path. One tick per cycle in on s_axis, an event out on m_axis exactly
// HT_PIPE_LATENCY_CYCLES (10) cycles later when net delta or net gamma leaves its band, whatever the book size.
//
//   stage  cycle   work                                                           cycles
//   S0     c       s_axis handshake (tready is always 1); bad underlying dropped  1
//   S1     c+1     IIR low-pass of the price (per underlying, optional); reads the
//                  underlying's active book and settings                           1
//   S2     c+2     dS = sat(S - S0);  V * dsigma product, stage 1                   1
//   S3-S4  c+3..4  C * dS (64x64, two register stages);  V * dsigma, stages 2-3     2
//   S5     c+5     net gamma = sat(B + C*dS >> 36);  slope = sat(B + C*dS >> 37);
//                  base = A + (V*dsigma >> 56) + H                                 1
//   S6-S7  c+6..7  slope * dS (64x64, two register stages)                         2
//   S8     c+8     net delta = sat(base + slope*dS >> 48)                          1
//   S9     c+9     band compare, mute check and update, counters; into the FIFO    1
//   out    c+10    m_axis valid (the FIFO's head), cycle_out stamped = c+10        -
//
// The IIR's feedback (y[n-1] into y[n], same underlying on consecutive cycles) closes in S1: it is the
// design's critical path. Reset: synchronous, active low; control state and counters reset, datapath
// registers do not (their valid bits do).
//
// Coding: control state (counters, mutes, the IIR's enable and primed bits, FIFO pointers) is computed as
// NAME_d in always_comb and registered as NAME_q by always_ff blocks that only reset and copy. The IIR's
// per-underlying coefficients and history are banks of NU words with a write enable per word (NAME_we,
// decoded in always_comb): a clock enable in hardware, and Verilator copies one word, not the bank. The
// datapath stage registers sN_*_q are written stage to stage, each stage's arithmetic on its input.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_tick (
  input  wire                                         clk,
  input  wire                                         rst_ni,
  input  wire [63:0]                                  cycle_i,      // free-running cycle counter

  // ---- Ticks in (layout in pipe_regs.h) ----
  input  wire                                         s_axis_tick_tvalid,
  output logic                                        s_axis_tick_tready,
  input  wire [ht_pkg::HT_PIPE_TICK_BITS-1:0]         s_axis_tick_tdata,

  // ---- Events out (layout in pipe_regs.h) ----
  output logic                                        m_axis_event_tvalid,
  input  wire                                         m_axis_event_tready,
  output logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0]       m_axis_event_tdata,

  // ---- The active book and the settings, per underlying u at [u*64 +: 64] ----
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    book_a_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    book_b_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    book_c_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    book_v_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    book_s0_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    band_lo_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    band_hi_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    gband_lo_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    gband_hi_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    inventory_i,
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*64-1:0]    vol_move_i,

  // ---- IIR: staged coefficients k = b0 b1 b2 a1 a2 (0..4), underlying u at [(k*16 + u)*64 +: 64]; load ----
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*5*64-1:0]  iir_staged_i,
  input  wire                                         iir_load_i,
  input  wire [3:0]                                   iir_load_und_i,
  input  wire                                         iir_load_enable_i,

  // ---- Re-arm (a pulse per underlying) ----
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS-1:0]       rearm_i,

  // ---- Status and counters ----
  output logic [ht_pkg::HT_PIPE_UNDERLYINGS-1:0]      muted_o,
  output logic [ht_pkg::HT_PIPE_UNDERLYINGS-1:0]      iir_enable_o,
  output logic [63:0]                                 ticks_o,
  output logic [63:0]                                 events_o,
  output logic [63:0]                                 muted_ticks_o,
  output logic [63:0]                                 bad_ticks_o,
  output logic [ht_pkg::FLAG_BITS-1:0]                flags_o        // pulse: HT_PIPE_FLAG_* bits to set
);
  localparam int NU = ht_pkg::HT_PIPE_UNDERLYINGS;
  localparam int SH_GAMMA = ht_pkg::HT_FX_SPEED_FRAC + ht_pkg::HT_FX_PRICE_FRAC - ht_pkg::HT_FX_GAMMA_FRAC;
  localparam int SH_DELTA = ht_pkg::HT_FX_GAMMA_FRAC + ht_pkg::HT_FX_PRICE_FRAC - ht_pkg::HT_FX_DELTA_FRAC;
  localparam int SH_VANNA = ht_pkg::HT_FX_VANNA_FRAC + ht_pkg::HT_FX_VOL_FRAC - ht_pkg::HT_FX_DELTA_FRAC;
  localparam int SH_IIR = ht_pkg::HT_FX_IIR_COEF_FRAC;
  localparam int FIFO_DEPTH = ht_pkg::HT_PIPE_EVENT_FIFO_DEPTH;
  // The usable coefficient range [-2^61, 2^61) in Q3.60.
  localparam logic signed [63:0] COEF_MAX = 64'sh1FFF_FFFF_FFFF_FFFF;
  localparam logic signed [63:0] COEF_MIN = -64'sh2000_0000_0000_0000;

  initial begin
    if (SH_GAMMA != 36 || SH_DELTA != 48 || SH_VANNA != 56 || SH_IIR != 60)
      $error("%m: formats changed, review the shifts");
    if (ht_pkg::HT_PIPE_LATENCY_CYCLES != 10) $error("%m: the stage count below is 10 cycles");
    if (FIFO_DEPTH != 16) $error("%m: the FIFO pointers are 4 bits");
    if (NU != 16) $error("%m: underlying indices are 4 bits");
  end

  assign s_axis_tick_tready = 1'b1;

  // ---- S0: accept (1 cycle) -----------------------------------------------------------------------------
  logic [7:0]  s0_und;
  logic [63:0] s0_seq;
  logic signed [63:0] s0_price;
  logic        unused_tick_reserved;

  logic        s0_good, s0_bad;   // a valid tick for an underlying below 16 / at 16 or above (dropped)

  assign s0_und   = ht_pkg::tick_und(s_axis_tick_tdata);
  assign s0_seq   = ht_pkg::tick_seq(s_axis_tick_tdata);
  assign s0_price = ht_pkg::tick_price(s_axis_tick_tdata);
  assign unused_tick_reserved = ^s_axis_tick_tdata[63:8];
  assign s0_good  = s_axis_tick_tvalid && (s0_und[7:4] == 4'd0);
  assign s0_bad   = s_axis_tick_tvalid && (s0_und[7:4] != 4'd0);

  logic        s1_valid_q;
  logic [3:0]  s1_und_q;
  logic [63:0] s1_seq_q, s1_cin_q;
  logic signed [63:0] s1_price_q;
  logic [63:0] ticks_d, ticks_q, bad_ticks_d, bad_ticks_q;

  assign ticks_d     = s0_good ? ticks_q + 64'd1 : ticks_q;
  assign bad_ticks_d = s0_bad ? bad_ticks_q + 64'd1 : bad_ticks_q;

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      ticks_q     <= '0;
      bad_ticks_q <= '0;
    end else begin
      ticks_q     <= ticks_d;
      bad_ticks_q <= bad_ticks_d;
    end
  end

  always_ff @(posedge clk) begin
    s1_valid_q <= rst_ni && s0_good;
    s1_und_q   <= s0_und[3:0];
    s1_seq_q   <= s0_seq;
    s1_price_q <= s0_price;
    s1_cin_q   <= cycle_i;
  end

  assign ticks_o = ticks_q;
  assign bad_ticks_o = bad_ticks_q;

  // ---- S1: IIR and book read (1 cycle) -------------------------------------------------------------------
  logic [5*NU*64-1:0] iir_coef_q;       // b0 b1 b2 a1 a2, coefficient-major like iir_staged_i
  logic [NU*64-1:0]   iir_x1_q, iir_x2_q, iir_y1_q, iir_y2_q;
  logic [NU-1:0]      iir_en_d, iir_en_q, iir_primed_d, iir_primed_q;

  logic signed [63:0] c_b0, c_b1, c_b2, c_a1, c_a2, st_x1, st_x2, st_y1, st_y2;
  ht_pkg::wide_t      iir_acc, iir_rounded;
  logic signed [63:0] s1_y;
  logic               s1_iir_on, s1_iir_sat;

  assign c_b0  = ht_pkg::pick64(iir_coef_q[0*NU*64 +: NU*64], s1_und_q);
  assign c_b1  = ht_pkg::pick64(iir_coef_q[1*NU*64 +: NU*64], s1_und_q);
  assign c_b2  = ht_pkg::pick64(iir_coef_q[2*NU*64 +: NU*64], s1_und_q);
  assign c_a1  = ht_pkg::pick64(iir_coef_q[3*NU*64 +: NU*64], s1_und_q);
  assign c_a2  = ht_pkg::pick64(iir_coef_q[4*NU*64 +: NU*64], s1_und_q);
  assign st_x1 = ht_pkg::pick64(iir_x1_q, s1_und_q);
  assign st_x2 = ht_pkg::pick64(iir_x2_q, s1_und_q);
  assign st_y1 = ht_pkg::pick64(iir_y1_q, s1_und_q);
  assign st_y2 = ht_pkg::pick64(iir_y2_q, s1_und_q);
  assign s1_iir_on = s1_valid_q && iir_en_q[s1_und_q];

  always_comb begin
    iir_acc = ht_pkg::wide128(ht_pkg::mul64(c_b0, s1_price_q)) + ht_pkg::wide128(ht_pkg::mul64(c_b1, st_x1)) +
              ht_pkg::wide128(ht_pkg::mul64(c_b2, st_x2)) - ht_pkg::wide128(ht_pkg::mul64(c_a1, st_y1)) -
              ht_pkg::wide128(ht_pkg::mul64(c_a2, st_y2));
    iir_rounded = ht_pkg::round_shift(iir_acc, SH_IIR);
    if (!s1_iir_on || !iir_primed_q[s1_und_q]) begin
      s1_y = s1_price_q;             // off, or the first tick after a load: pass and prime
      s1_iir_sat = 1'b0;
    end else begin
      s1_y = ht_pkg::saturate64(iir_rounded);
      s1_iir_sat = ht_pkg::overflows64(iir_rounded);
    end
  end

  // Clamps a staged coefficient to the usable range.
  function automatic logic signed [63:0] clamp_coef(input logic signed [63:0] c);
    if (c > COEF_MAX) clamp_coef = COEF_MAX;
    else if (c < COEF_MIN) clamp_coef = COEF_MIN;
    else clamp_coef = c;
  endfunction

  logic coef_clamped;

  logic [5*64-1:0] load_coef;   // the five staged coefficients of the underlying being loaded

  always_comb begin
    coef_clamped = 1'b0;
    for (int k = 0; k < 5; k++) begin
      load_coef[k*64 +: 64] = ht_pkg::pick64(iir_staged_i[k*NU*64 +: NU*64], iir_load_und_i);
      if ($signed(load_coef[k*64 +: 64]) > COEF_MAX || $signed(load_coef[k*64 +: 64]) < COEF_MIN)
        coef_clamped = 1'b1;
    end
  end

  // A load sets its underlying's enable and clears its primed bit; otherwise (no load of any underlying this
  // cycle) a filtered tick primes its underlying.
  always_comb begin
    iir_en_d     = iir_en_q;
    iir_primed_d = iir_primed_q;
    if (iir_load_i) begin
      iir_en_d[iir_load_und_i]     = iir_load_enable_i;
      iir_primed_d[iir_load_und_i] = 1'b0;
    end else if (s1_iir_on) begin
      iir_primed_d[s1_und_q] = 1'b1;
    end
  end

  // Filter state per underlying: a load takes the clamped coefficients and clears the history; otherwise a
  // filtered tick shifts its input and output in (the first one after a load primes the history with its
  // price). Word enables: the loaded underlying, and the filtered tick's when it is not the one loaded.
  logic [NU-1:0]      iir_load_we, iir_shift_we;
  logic [5*64-1:0]    iir_coef_d;                              // the loaded underlying's five, clamped
  logic signed [63:0] iir_x1_d, iir_x2_d, iir_y1_d, iir_y2_d;   // the filtered tick's history

  assign iir_load_we  = iir_load_i ? ({{(NU - 1){1'b0}}, 1'b1} << iir_load_und_i) : '0;
  assign iir_shift_we = (s1_iir_on ? ({{(NU - 1){1'b0}}, 1'b1} << s1_und_q) : '0) & ~iir_load_we;
  assign iir_x1_d = s1_price_q;
  assign iir_x2_d = iir_primed_q[s1_und_q] ? st_x1 : s1_price_q;
  assign iir_y1_d = s1_y;
  assign iir_y2_d = iir_primed_q[s1_und_q] ? st_y1 : s1_price_q;

  always_comb begin
    for (int k = 0; k < 5; k++) iir_coef_d[k*64 +: 64] = clamp_coef(load_coef[k*64 +: 64]);
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      iir_en_q     <= '0;
      iir_primed_q <= '0;
    end else begin
      iir_en_q     <= iir_en_d;
      iir_primed_q <= iir_primed_d;
    end
  end

  // The filter state has no reset: a load initialises an underlying's before its enable can be set.
  always_ff @(posedge clk) begin
    for (int u = 0; u < NU; u++) begin
      if (iir_load_we[u]) begin
        for (int k = 0; k < 5; k++) iir_coef_q[(k*NU + u)*64 +: 64] <= iir_coef_d[k*64 +: 64];
        iir_x1_q[u*64 +: 64] <= '0;
        iir_x2_q[u*64 +: 64] <= '0;
        iir_y1_q[u*64 +: 64] <= '0;
        iir_y2_q[u*64 +: 64] <= '0;
      end else if (iir_shift_we[u]) begin
        iir_x1_q[u*64 +: 64] <= iir_x1_d;
        iir_x2_q[u*64 +: 64] <= iir_x2_d;
        iir_y1_q[u*64 +: 64] <= iir_y1_d;
        iir_y2_q[u*64 +: 64] <= iir_y2_d;
      end
    end
  end

  assign iir_enable_o = iir_en_q;

  logic        s2_valid_q;
  logic [3:0]  s2_und_q;
  logic [63:0] s2_seq_q, s2_cin_q;
  logic signed [63:0] s2_price_q, s2_a_q, s2_b_q, s2_c_q, s2_v_q, s2_s0_q, s2_vol_q, s2_inv_q;
  logic signed [63:0] s2_lo_q, s2_hi_q, s2_glo_q, s2_ghi_q;
  logic        s2_iir_sat_q;

  always_ff @(posedge clk) begin
    s2_valid_q   <= rst_ni && s1_valid_q;
    s2_und_q     <= s1_und_q;
    s2_seq_q     <= s1_seq_q;
    s2_cin_q     <= s1_cin_q;
    s2_price_q   <= s1_y;
    s2_iir_sat_q <= s1_iir_sat;
    s2_a_q   <= ht_pkg::pick64(book_a_i, s1_und_q);
    s2_b_q   <= ht_pkg::pick64(book_b_i, s1_und_q);
    s2_c_q   <= ht_pkg::pick64(book_c_i, s1_und_q);
    s2_v_q   <= ht_pkg::pick64(book_v_i, s1_und_q);
    s2_s0_q  <= ht_pkg::pick64(book_s0_i, s1_und_q);
    s2_vol_q <= ht_pkg::pick64(vol_move_i, s1_und_q);
    s2_inv_q <= ht_pkg::pick64(inventory_i, s1_und_q);
    s2_lo_q  <= ht_pkg::pick64(band_lo_i, s1_und_q);
    s2_hi_q  <= ht_pkg::pick64(band_hi_i, s1_und_q);
    s2_glo_q <= ht_pkg::pick64(gband_lo_i, s1_und_q);
    s2_ghi_q <= ht_pkg::pick64(gband_hi_i, s1_und_q);
  end

  // ---- S2: dS, V*dsigma stage 1 (1 cycle) ----------------------------------------------------------------
  ht_pkg::wide_t s2_ds_wide;

  assign s2_ds_wide = ht_pkg::wide64(s2_price_q) - ht_pkg::wide64(s2_s0_q);

  // Everything a tick carries from S3 to S9 besides the arithmetic.
  typedef struct packed {
    logic        valid;
    logic [3:0]  und;
    logic [63:0] seq;
    logic [63:0] cin;
    logic [63:0] price;
    logic [63:0] lo, hi, glo, ghi;
  } carry_t;

  carry_t s3_q, s4_q, s5_q, s6_q, s7_q, s8_q, s9_q;
  logic signed [63:0] s3_ds_q, s4_ds_q, s5_ds_q, s6_ds_q;
  logic signed [63:0] s3_a_q, s4_a_q, s5_a_q, s3_b_q, s4_b_q, s5_b_q, s3_c_q, s3_inv_q, s4_inv_q, s5_inv_q;
  logic signed [127:0] s3_vd_q, s4_vd_q, s5_vd_q, s4_cds_q, s5_cds_q;
  logic [2:0] s3_flags_q, s4_flags_q, s5_flags_q, s6_flags_q, s7_flags_q, s8_flags_q, s9_flags_q;  // IIR DS GAMMA
  localparam int CF_GAMMA = 0;   // bits of sN_flags_q: net gamma or the slope saturated (from S5)
  localparam int CF_DS = 1;      // dS saturated (from S2)
  localparam int CF_IIR = 2;     // the IIR output saturated (from S1)

  always_ff @(posedge clk) begin
    s3_q.valid <= rst_ni && s2_valid_q;
    s3_q.und   <= s2_und_q;
    s3_q.seq   <= s2_seq_q;
    s3_q.cin   <= s2_cin_q;
    s3_q.price <= s2_price_q;
    s3_q.lo    <= s2_lo_q;
    s3_q.hi    <= s2_hi_q;
    s3_q.glo   <= s2_glo_q;
    s3_q.ghi   <= s2_ghi_q;
    s3_ds_q    <= ht_pkg::saturate64(s2_ds_wide);
    s3_flags_q <= {s2_iir_sat_q, ht_pkg::overflows64(s2_ds_wide), 1'b0};
    s3_a_q     <= s2_a_q;
    s3_b_q     <= s2_b_q;
    s3_c_q     <= s2_c_q;
    s3_inv_q   <= s2_inv_q;
    s3_vd_q    <= ht_pkg::mul64(s2_v_q, s2_vol_q);
  end

  // ---- S3-S4: C*dS (2 cycles) -----------------------------------------------------------------------------
  always_ff @(posedge clk) begin
    s4_q <= s3_q;
    s4_q.valid <= rst_ni && s3_q.valid;
    s4_ds_q <= s3_ds_q; s4_a_q <= s3_a_q; s4_b_q <= s3_b_q; s4_inv_q <= s3_inv_q; s4_flags_q <= s3_flags_q;
    s4_vd_q <= s3_vd_q;
    s4_cds_q <= ht_pkg::mul64(s3_c_q, s3_ds_q);
    s5_q <= s4_q;
    s5_q.valid <= rst_ni && s4_q.valid;
    s5_ds_q <= s4_ds_q; s5_a_q <= s4_a_q; s5_b_q <= s4_b_q; s5_inv_q <= s4_inv_q; s5_flags_q <= s4_flags_q;
    s5_vd_q <= s4_vd_q;
    s5_cds_q <= s4_cds_q;
  end

  // ---- S5: net gamma, slope, base (1 cycle) ---------------------------------------------------------------
  ht_pkg::wide_t s5_gamma_wide, s5_slope_wide, s5_base;

  assign s5_gamma_wide = ht_pkg::wide64(s5_b_q) + ht_pkg::round_shift(ht_pkg::wide128(s5_cds_q), SH_GAMMA);
  assign s5_slope_wide = ht_pkg::wide64(s5_b_q) + ht_pkg::round_shift(ht_pkg::wide128(s5_cds_q), SH_GAMMA + 1);
  assign s5_base = ht_pkg::wide64(s5_a_q) + ht_pkg::round_shift(ht_pkg::wide128(s5_vd_q), SH_VANNA) +
                   ht_pkg::wide64(s5_inv_q);

  logic signed [63:0] s6_gamma_q, s6_slope_q, s7_gamma_q, s8_gamma_q, s9_gamma_q;
  ht_pkg::wide_t      s6_base_q, s7_base_q, s8_base_q;
  logic signed [127:0] s7_t2_q, s8_t2_q;
  logic signed [63:0] s9_delta_q;

  always_ff @(posedge clk) begin
    s6_q <= s5_q;
    s6_q.valid <= rst_ni && s5_q.valid;
    s6_ds_q    <= s5_ds_q;
    s6_gamma_q <= ht_pkg::saturate64(s5_gamma_wide);
    s6_slope_q <= ht_pkg::saturate64(s5_slope_wide);
    s6_flags_q <= s5_flags_q | {2'b0, ht_pkg::overflows64(s5_gamma_wide) || ht_pkg::overflows64(s5_slope_wide)};
    s6_base_q  <= s5_base;
  end

  // ---- S6-S7: slope*dS (2 cycles) ---------------------------------------------------------------------------
  always_ff @(posedge clk) begin
    s7_q <= s6_q;
    s7_q.valid <= rst_ni && s6_q.valid;
    s7_gamma_q <= s6_gamma_q; s7_base_q <= s6_base_q; s7_flags_q <= s6_flags_q;
    s7_t2_q <= ht_pkg::mul64(s6_slope_q, s6_ds_q);
    s8_q <= s7_q;
    s8_q.valid <= rst_ni && s7_q.valid;
    s8_gamma_q <= s7_gamma_q; s8_base_q <= s7_base_q; s8_flags_q <= s7_flags_q;
    s8_t2_q <= s7_t2_q;
  end

  // ---- S8: net delta (1 cycle) ---------------------------------------------------------------------------------
  ht_pkg::wide_t s8_delta_wide;
  logic          s9_delta_sat_q;

  assign s8_delta_wide = s8_base_q + ht_pkg::round_shift(ht_pkg::wide128(s8_t2_q), SH_DELTA);

  always_ff @(posedge clk) begin
    s9_q <= s8_q;
    s9_q.valid <= rst_ni && s8_q.valid;
    s9_gamma_q <= s8_gamma_q;
    s9_flags_q <= s8_flags_q;
    s9_delta_q <= ht_pkg::saturate64(s8_delta_wide);
    s9_delta_sat_q <= ht_pkg::overflows64(s8_delta_wide);
  end

  // ---- S9: band compare, mute, counters, FIFO write (1 cycle) ------------------------------------------------
  logic [3:0] s9_side;
  logic       s9_breach, s9_emit;

  assign s9_side = ht_pkg::side_bits(s9_delta_q < $signed(s9_q.lo), s9_delta_q > $signed(s9_q.hi),
                                     s9_gamma_q < $signed(s9_q.glo), s9_gamma_q > $signed(s9_q.ghi));
  assign s9_breach = s9_q.valid && (s9_side != 4'b0);
  assign s9_emit = s9_breach && !muted_q[s9_q.und];

  // Mutes: an emitted event mutes its underlying, a re-arm pulse unmutes.
  logic [NU-1:0] muted_d, muted_q;
  logic [63:0]   events_d, events_q, muted_ticks_d, muted_ticks_q;

  assign muted_d       = (muted_q & ~rearm_i) | (s9_emit ? ({{(NU - 1){1'b0}}, 1'b1} << s9_q.und) : '0);
  assign events_d      = s9_emit ? events_q + 64'd1 : events_q;
  assign muted_ticks_d = (s9_breach && muted_q[s9_q.und]) ? muted_ticks_q + 64'd1 : muted_ticks_q;

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      muted_q       <= '0;
      events_q      <= '0;
      muted_ticks_q <= '0;
    end else begin
      muted_q       <= muted_d;
      events_q      <= events_d;
      muted_ticks_q <= muted_ticks_d;
    end
  end

  assign muted_o = muted_q;
  assign events_o = events_q;
  assign muted_ticks_o = muted_ticks_q;

  // The output FIFO: the event enters at the end of S9 and is on m_axis in the next cycle. The pointers
  // have one bit more than the index, so full (depth apart) and empty (equal) differ.
  logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0] fifo_q [FIFO_DEPTH];
  logic [4:0] wr_ptr_d, wr_ptr_q, rd_ptr_d, rd_ptr_q;
  logic       fifo_full, pop, push, lost;
  logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0] s9_event;

  assign s9_event = ht_pkg::pack_event({4'b0, s9_q.und}, s9_side, s9_q.seq, s9_q.price, s9_delta_q, s9_gamma_q,
                                       s9_q.cin, cycle_i + 64'd1);
  assign pop = m_axis_event_tvalid && m_axis_event_tready;
  assign fifo_full = (wr_ptr_q - rd_ptr_q) == 5'(FIFO_DEPTH);
  assign push = s9_emit && (!fifo_full || pop);
  assign lost = s9_emit && fifo_full && !pop;
  assign wr_ptr_d = push ? wr_ptr_q + 5'd1 : wr_ptr_q;
  assign rd_ptr_d = pop ? rd_ptr_q + 5'd1 : rd_ptr_q;

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      wr_ptr_q <= '0;
      rd_ptr_q <= '0;
    end else begin
      wr_ptr_q <= wr_ptr_d;
      rd_ptr_q <= rd_ptr_d;
    end
  end

  // The FIFO's storage: a memory write port, no reset (the pointers say what is valid).
  always_ff @(posedge clk) begin
    if (push) fifo_q[wr_ptr_q[3:0]] <= s9_event;
  end

  assign m_axis_event_tvalid = (wr_ptr_q != rd_ptr_q);
  assign m_axis_event_tdata = fifo_q[rd_ptr_q[3:0]];

  // Saturation flags of valid ticks, a lost event and a clamped coefficient; TABLE_BUSY and FOLD_* come
  // from ht_fold.
  assign flags_o = ht_pkg::flag_if(lost, ht_pkg::HT_PIPE_FLAG_EVENT_LOST) |
                   ht_pkg::flag_if(iir_load_i && coef_clamped, ht_pkg::HT_PIPE_FLAG_IIR_COEF) |
                   ht_pkg::flag_if(s9_q.valid && s9_flags_q[CF_IIR], ht_pkg::HT_PIPE_FLAG_IIR) |
                   ht_pkg::flag_if(s9_q.valid && s9_delta_sat_q, ht_pkg::HT_PIPE_FLAG_TICK_DELTA) |
                   ht_pkg::flag_if(s9_q.valid && s9_flags_q[CF_GAMMA], ht_pkg::HT_PIPE_FLAG_TICK_GAMMA) |
                   ht_pkg::flag_if(s9_q.valid && s9_flags_q[CF_DS], ht_pkg::HT_PIPE_FLAG_TICK_DS);

endmodule

`resetall

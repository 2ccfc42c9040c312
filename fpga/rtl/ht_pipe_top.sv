// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_pipe_top: the hedge-trigger pipeline. Ticks in on an AXI4-Stream, breach events out on another, the
// register map of include/hedgetrig/pipe_regs.h on AXI4-Lite, and a write port into the greek table.
//
//   s_axis_tick ──► ht_tick (S0..S9, 10 cycles) ──► output FIFO ──► m_axis_event
//                      ▲ A B C V S0 (swapped atomically)
//   tbl_* ────────► ht_fold (table memory, fold engine: count + 10 cycles per commit)
//   s_axil ───────► registers here: settings, IIR coefficients, counters, flags
//
// AXI4-Lite: 32-bit data; a write is accepted when AWVALID and WVALID are both high (AWREADY = WREADY =
// !BVALID) and takes effect at that clock edge; BVALID follows in the next cycle. A read is accepted when
// ARVALID is high (ARREADY = !RVALID): RDATA is the register's value in that cycle, valid in the next.
// 13 address bits (HT_PIPE_REG_SPACE = 0x1100 bytes). 64-bit registers: LO then HI (see pipe_regs.h). WSTRB is ignored (whole words only); BRESP/RRESP are OKAY.
// Reset: synchronous, active low (rst_ni), for the whole design.
//
// Coding: every register here is control state (settings, counters, flags, the AXI4-Lite handshakes): its
// next value NAME_d comes from always_comb, and always_ff blocks only reset NAME_q or copy NAME_d into it.
// The per-underlying settings are banks of NU 64-bit words with a write enable per word (NAME_we, decoded in
// always_comb): a word's flops load the written value when enabled (a clock enable in hardware; Verilator
// then copies one word, not the whole bank, each cycle).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_pipe_top #(
  // Table entries (HT_PIPE_TABLE_DEPTH in production; smaller only for quick synthesis experiments).
  parameter int TABLE_DEPTH = ht_pkg::HT_PIPE_TABLE_DEPTH,
  // log2(TABLE_DEPTH)
  parameter int TABLE_ADDR_BITS = ht_pkg::HT_PIPE_TABLE_ADDR_BITS
) (
`include "ht_pipe_top_ports.svh"
);
  localparam int NU = ht_pkg::HT_PIPE_UNDERLYINGS;

  localparam int FB = ht_pkg::FLAG_BITS;

  initial begin
    if (TABLE_DEPTH != (1 << TABLE_ADDR_BITS)) $error("%m: TABLE_DEPTH must be 2^TABLE_ADDR_BITS");
    if (ht_pkg::HT_PIPE_FLAG_ALL != (1 << FB) - 1) $error("%m: FLAGS has FLAG_BITS defined bits");
    if (NU != 16) $error("%m: underlying blocks 1..16 are address bits [12:8]");
  end

  // ---- Free-running cycle counter ------------------------------------------------------------------------
  logic [63:0] cycle_d, cycle_q;

  assign cycle_d = cycle_q + 64'd1;

  always_ff @(posedge clk) begin
    if (!rst_ni) cycle_q <= '0;
    else cycle_q <= cycle_d;
  end

  // ---- Settings registers -----------------------------------------------------------------------------------
  localparam logic [NU*64-1:0] ALL_MIN = {NU{1'b1, 63'b0}};
  localparam logic [NU*64-1:0] ALL_MAX = {NU{1'b0, {63{1'b1}}}};

  logic [NU*64-1:0]   band_lo_q, band_hi_q, gband_lo_q, gband_hi_q, inventory_q, vol_move_q, s0_next_q;
  logic [NU*5*64-1:0] iir_staged_q;                   // b0 b1 b2 a1 a2, coefficient-major
  logic [NU-1:0]      band_lo_we, band_hi_we, gband_lo_we, gband_hi_we, inventory_we, vol_move_we, s0_next_we;
  logic [5*NU-1:0]    iir_staged_we;                  // word k*NU + u: coefficient k of underlying u
  logic [TABLE_ADDR_BITS:0] table_count_d, table_count_q;
  logic [FB-1:0]      flags_d, flags_q;
  logic [31:0]        write_lo_d, write_lo_q;         // the LO word of a 64-bit write, until its HI word
  logic [31:0]        read_hi_d, read_hi_q;           // the HI word of a 64-bit read, from its LO word's read
  logic               bvalid_d, bvalid_q, rvalid_d, rvalid_q;
  logic [31:0]        rdata_d, rdata_q;

  // ---- AXI4-Lite write channel ----------------------------------------------------------------------------
  logic                      wr_fire;
  logic [12:0]               wa;
  logic [31:0]               wd;
  logic                      wa_global, wa_und;
  logic [3:0]                wu;          // underlying of a per-underlying address
  logic [7:0]                woff;        // offset inside its block
  logic                      commit, iir_load, wr_hi, wr_lo;
  logic [NU-1:0]             rearm;
  logic [FB-1:0]             flags_clear;
  logic [4:0]                wblock;
  logic [7:0]                woff64;      // offset of the LO word of the 64-bit register written

  assign s_axil_awready = !bvalid_q;
  assign s_axil_wready  = !bvalid_q;
  assign s_axil_bvalid  = bvalid_q;
  assign s_axil_bresp   = 2'b00;     // OKAY
  assign wr_fire = s_axil_awvalid && s_axil_wvalid && !bvalid_q;
  assign wa = s_axil_awaddr;
  assign wd = s_axil_wdata;
  assign wblock = wa[12:8];
  assign wa_global = wr_fire && (wblock == 5'd0);
  assign wa_und = wr_fire && (wblock >= 5'd1) && (wblock <= 5'(NU));
  assign wu = 4'(wblock - 5'd1);
  assign woff = wa[7:0];
  assign woff64 = {woff[7:3], 3'b0};

  logic unused_axil;
  assign unused_axil = ^s_axil_wstrb;

  // Writable 64-bit registers of an underlying block, by offset of their LO word.
  function automatic logic writable64(input logic [7:0] off);
    unique case (off)
      8'(ht_pkg::HT_PIPE_UREG_BAND_LO), 8'(ht_pkg::HT_PIPE_UREG_BAND_HI),
      8'(ht_pkg::HT_PIPE_UREG_GBAND_LO), 8'(ht_pkg::HT_PIPE_UREG_GBAND_HI),
      8'(ht_pkg::HT_PIPE_UREG_INVENTORY), 8'(ht_pkg::HT_PIPE_UREG_VOL_MOVE),
      8'(ht_pkg::HT_PIPE_UREG_S0_NEXT),
      8'(ht_pkg::HT_PIPE_UREG_IIR_B0), 8'(ht_pkg::HT_PIPE_UREG_IIR_B1), 8'(ht_pkg::HT_PIPE_UREG_IIR_B2),
      8'(ht_pkg::HT_PIPE_UREG_IIR_A1), 8'(ht_pkg::HT_PIPE_UREG_IIR_A2): writable64 = 1'b1;
      default: writable64 = 1'b0;
    endcase
  endfunction

  assign wr_lo = wa_und && !woff[2] && writable64(woff64);
  assign wr_hi = wa_und && woff[2] && writable64(woff64);
  assign commit = wa_global && (wa[7:0] == 8'(ht_pkg::HT_PIPE_REG_CONTROL)) && wd[0];
  assign iir_load = wa_und && (woff == 8'(ht_pkg::HT_PIPE_UREG_IIR_CTRL));
  assign flags_clear = (wa_global && wa[7:0] == 8'(ht_pkg::HT_PIPE_REG_FLAGS)) ? wd[FB-1:0] : '0;

  // A REARM write re-arms the underlyings of its mask; the HI word of a band or inventory write re-arms its own.
  always_comb begin
    rearm = '0;
    if (wa_global && wa[7:0] == 8'(ht_pkg::HT_PIPE_REG_REARM)) rearm = wd[NU-1:0];
    if (wr_hi && (woff64 == 8'(ht_pkg::HT_PIPE_UREG_BAND_LO) ||
                  woff64 == 8'(ht_pkg::HT_PIPE_UREG_BAND_HI) ||
                  woff64 == 8'(ht_pkg::HT_PIPE_UREG_GBAND_LO) ||
                  woff64 == 8'(ht_pkg::HT_PIPE_UREG_GBAND_HI) ||
                  woff64 == 8'(ht_pkg::HT_PIPE_UREG_INVENTORY)))
      rearm[wu] = 1'b1;
  end

  logic [63:0] wvalue64;
  assign wvalue64 = {wd, write_lo_q};

  // The write handshake, the LO word of a 64-bit write, the table count.
  always_comb begin
    bvalid_d      = bvalid_q;
    write_lo_d    = write_lo_q;
    table_count_d = table_count_q;
    if (wr_fire) bvalid_d = 1'b1;
    else if (s_axil_bready) bvalid_d = 1'b0;
    if (wr_lo) write_lo_d = wd;
    if (wa_global && wa[7:0] == 8'(ht_pkg::HT_PIPE_REG_TABLE_COUNT))
      table_count_d = (wd > 32'(TABLE_DEPTH)) ? (TABLE_ADDR_BITS + 1)'(TABLE_DEPTH) : wd[TABLE_ADDR_BITS:0];
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      bvalid_q      <= 1'b0;
      table_count_q <= '0;
      write_lo_q    <= '0;
    end else begin
      bvalid_q      <= bvalid_d;
      table_count_q <= table_count_d;
      write_lo_q    <= write_lo_d;
    end
  end

  // Word enables of the per-underlying registers: a 64-bit register takes {HI, the LO word written before}
  // (wvalue64) when its HI word is written.
  logic [NU-1:0] wr_und;      // one-hot: the underlying whose register's HI word is written

  assign wr_und = wr_hi ? ({{(NU - 1){1'b0}}, 1'b1} << wu) : '0;

  always_comb begin
    band_lo_we    = '0;
    band_hi_we    = '0;
    gband_lo_we   = '0;
    gband_hi_we   = '0;
    inventory_we  = '0;
    vol_move_we   = '0;
    s0_next_we    = '0;
    iir_staged_we = '0;
    unique case (woff64)
      8'(ht_pkg::HT_PIPE_UREG_BAND_LO):   band_lo_we = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_BAND_HI):   band_hi_we = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_GBAND_LO):  gband_lo_we = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_GBAND_HI):  gband_hi_we = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_INVENTORY): inventory_we = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_VOL_MOVE):  vol_move_we = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_S0_NEXT):   s0_next_we = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_IIR_B0):    iir_staged_we[0*NU +: NU] = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_IIR_B1):    iir_staged_we[1*NU +: NU] = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_IIR_B2):    iir_staged_we[2*NU +: NU] = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_IIR_A1):    iir_staged_we[3*NU +: NU] = wr_und;
      8'(ht_pkg::HT_PIPE_UREG_IIR_A2):    iir_staged_we[4*NU +: NU] = wr_und;
      default: ;
    endcase
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      band_lo_q    <= ALL_MIN;
      band_hi_q    <= ALL_MAX;
      gband_lo_q   <= ALL_MIN;
      gband_hi_q   <= ALL_MAX;
      inventory_q  <= '0;
      vol_move_q   <= '0;
      s0_next_q    <= '0;
      iir_staged_q <= '0;
    end else begin
      for (int u = 0; u < NU; u++) begin
        if (band_lo_we[u])   band_lo_q[u*64 +: 64]   <= wvalue64;
        if (band_hi_we[u])   band_hi_q[u*64 +: 64]   <= wvalue64;
        if (gband_lo_we[u])  gband_lo_q[u*64 +: 64]  <= wvalue64;
        if (gband_hi_we[u])  gband_hi_q[u*64 +: 64]  <= wvalue64;
        if (inventory_we[u]) inventory_q[u*64 +: 64] <= wvalue64;
        if (vol_move_we[u])  vol_move_q[u*64 +: 64]  <= wvalue64;
        if (s0_next_we[u])   s0_next_q[u*64 +: 64]   <= wvalue64;
      end
      for (int w = 0; w < 5 * NU; w++)
        if (iir_staged_we[w]) iir_staged_q[w*64 +: 64] <= wvalue64;
    end
  end

  // ---- The two engines ----------------------------------------------------------------------------------------
  logic [NU*64-1:0] book_a, book_b, book_c, book_v, book_s0;
  logic             fold_swap, table_busy;
  logic [FB-1:0]    fold_flags, tick_flags;
  logic [NU-1:0]    muted, iir_enable;
  logic [63:0]      ticks, events, muted_ticks, bad_ticks;
  logic [63:0]      generation_d, generation_q;   // books swapped in since reset

  ht_fold #(.DEPTH(TABLE_DEPTH), .ADDR_BITS(TABLE_ADDR_BITS)) u_fold (
    .clk, .rst_ni,
    .tbl_we_i, .tbl_addr_i, .tbl_data_i,
    .commit_i(commit), .count_i(table_count_q), .s0_next_i(s0_next_q),
    .book_a_o(book_a), .book_b_o(book_b), .book_c_o(book_c), .book_v_o(book_v), .book_s0_o(book_s0),
    .busy_o, .swap_o(fold_swap), .flags_o(fold_flags), .table_busy_o(table_busy)
  );

  ht_tick u_tick (
    .clk, .rst_ni, .cycle_i(cycle_q),
    .s_axis_tick_tvalid, .s_axis_tick_tready, .s_axis_tick_tdata,
    .m_axis_event_tvalid, .m_axis_event_tready, .m_axis_event_tdata,
    .book_a_i(book_a), .book_b_i(book_b), .book_c_i(book_c), .book_v_i(book_v), .book_s0_i(book_s0),
    .band_lo_i(band_lo_q), .band_hi_i(band_hi_q), .gband_lo_i(gband_lo_q), .gband_hi_i(gband_hi_q),
    .inventory_i(inventory_q), .vol_move_i(vol_move_q),
    .iir_staged_i(iir_staged_q), .iir_load_i(iir_load), .iir_load_und_i(wu), .iir_load_enable_i(wd[0]),
    .rearm_i(rearm),
    .muted_o(muted), .iir_enable_o(iir_enable),
    .ticks_o(ticks), .events_o(events), .muted_ticks_o(muted_ticks), .bad_ticks_o(bad_ticks),
    .flags_o(tick_flags)
  );

  // FLAGS is sticky: a write clears the bits it names, and a bit raised in the same cycle stays set.
  assign flags_d = (flags_q & ~flags_clear) | fold_flags | tick_flags |
                   ht_pkg::flag_if(table_busy, ht_pkg::HT_PIPE_FLAG_TABLE_BUSY);
  assign generation_d = fold_swap ? generation_q + 64'd1 : generation_q;

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      flags_q      <= '0;
      generation_q <= '0;
    end else begin
      flags_q      <= flags_d;
      generation_q <= generation_d;
    end
  end

  // ---- AXI4-Lite read channel -------------------------------------------------------------------------------
  logic [12:0] ra;
  logic [4:0]  rblock;
  logic [3:0]  ru;
  logic        ra_global, ra_und;
  logic        r_is32, r_is64;     // the address names a 32-bit register / the LO word of a 64-bit one
  logic [31:0] r_value32;
  logic [63:0] r_value64;
  logic [7:0]  roff;

  assign s_axil_arready = !rvalid_q;
  assign s_axil_rvalid  = rvalid_q;
  assign s_axil_rdata   = rdata_q;
  assign s_axil_rresp   = 2'b00;     // OKAY
  assign ra = s_axil_araddr;
  assign rblock = ra[12:8];
  assign ra_global = (rblock == 5'd0);
  assign ra_und = (rblock >= 5'd1) && (rblock <= 5'(NU));
  assign ru = 4'(rblock - 5'd1);
  // 64-bit registers are looked up by the address of their LO word.
  assign roff = {ra[7:3], 3'b0};

  always_comb begin
    r_is32 = 1'b0;
    r_value32 = '0;
    if (ra_global) begin
      r_is32 = 1'b1;
      unique case (ra[7:0])
        8'(ht_pkg::HT_PIPE_REG_ID):          r_value32 = ht_pkg::HT_PIPE_ID_MAGIC;
        8'(ht_pkg::HT_PIPE_REG_VERSION):     r_value32 = ht_pkg::HT_PIPE_VERSION;
        8'(ht_pkg::HT_PIPE_REG_CAPS):        r_value32 = {8'b0, 8'(TABLE_ADDR_BITS), 8'(ht_pkg::HT_PIPE_LATENCY_CYCLES),
                                                           8'(NU)};
        8'(ht_pkg::HT_PIPE_REG_STATUS):      r_value32 = {31'b0, busy_o};
        8'(ht_pkg::HT_PIPE_REG_TABLE_COUNT): r_value32 = 32'(table_count_q);
        8'(ht_pkg::HT_PIPE_REG_MUTED):       r_value32 = 32'(muted);
        8'(ht_pkg::HT_PIPE_REG_FLAGS):       r_value32 = 32'(flags_q);
        8'(ht_pkg::HT_PIPE_REG_IIR_ENABLE):  r_value32 = 32'(iir_enable);
        default:                             r_is32 = 1'b0;
      endcase
    end
  end

  always_comb begin
    r_is64 = 1'b0;
    r_value64 = '0;
    if (ra_global) begin
      r_is64 = 1'b1;
      unique case (roff)
        8'(ht_pkg::HT_PIPE_REG_CYCLES):      r_value64 = cycle_q;
        8'(ht_pkg::HT_PIPE_REG_TICKS):       r_value64 = ticks;
        8'(ht_pkg::HT_PIPE_REG_EVENTS):      r_value64 = events;
        8'(ht_pkg::HT_PIPE_REG_MUTED_TICKS): r_value64 = muted_ticks;
        8'(ht_pkg::HT_PIPE_REG_BAD_TICKS):   r_value64 = bad_ticks;
        8'(ht_pkg::HT_PIPE_REG_GENERATION):  r_value64 = generation_q;
        default:                             r_is64 = 1'b0;
      endcase
    end else if (ra_und) begin
      r_is64 = 1'b1;
      unique case (roff)
        8'(ht_pkg::HT_PIPE_UREG_BAND_LO):    r_value64 = ht_pkg::pick64(band_lo_q, ru);
        8'(ht_pkg::HT_PIPE_UREG_BAND_HI):    r_value64 = ht_pkg::pick64(band_hi_q, ru);
        8'(ht_pkg::HT_PIPE_UREG_GBAND_LO):   r_value64 = ht_pkg::pick64(gband_lo_q, ru);
        8'(ht_pkg::HT_PIPE_UREG_GBAND_HI):   r_value64 = ht_pkg::pick64(gband_hi_q, ru);
        8'(ht_pkg::HT_PIPE_UREG_INVENTORY):  r_value64 = ht_pkg::pick64(inventory_q, ru);
        8'(ht_pkg::HT_PIPE_UREG_VOL_MOVE):   r_value64 = ht_pkg::pick64(vol_move_q, ru);
        8'(ht_pkg::HT_PIPE_UREG_S0_NEXT):    r_value64 = ht_pkg::pick64(s0_next_q, ru);
        8'(ht_pkg::HT_PIPE_UREG_IIR_B0):     r_value64 = ht_pkg::pick64(iir_staged_q[0*NU*64 +: NU*64], ru);
        8'(ht_pkg::HT_PIPE_UREG_IIR_B1):     r_value64 = ht_pkg::pick64(iir_staged_q[1*NU*64 +: NU*64], ru);
        8'(ht_pkg::HT_PIPE_UREG_IIR_B2):     r_value64 = ht_pkg::pick64(iir_staged_q[2*NU*64 +: NU*64], ru);
        8'(ht_pkg::HT_PIPE_UREG_IIR_A1):     r_value64 = ht_pkg::pick64(iir_staged_q[3*NU*64 +: NU*64], ru);
        8'(ht_pkg::HT_PIPE_UREG_IIR_A2):     r_value64 = ht_pkg::pick64(iir_staged_q[4*NU*64 +: NU*64], ru);
        8'(ht_pkg::HT_PIPE_UREG_A):          r_value64 = ht_pkg::pick64(book_a, ru);
        8'(ht_pkg::HT_PIPE_UREG_B):          r_value64 = ht_pkg::pick64(book_b, ru);
        8'(ht_pkg::HT_PIPE_UREG_C):          r_value64 = ht_pkg::pick64(book_c, ru);
        8'(ht_pkg::HT_PIPE_UREG_V):          r_value64 = ht_pkg::pick64(book_v, ru);
        8'(ht_pkg::HT_PIPE_UREG_S0):         r_value64 = ht_pkg::pick64(book_s0, ru);
        default:                             r_is64 = 1'b0;
      endcase
    end
  end

  // A read answers in the next cycle. Reading the LO word of a 64-bit register latches its HI word, so that a
  // 64-bit value read LO then HI is one snapshot.
  always_comb begin
    rvalid_d  = rvalid_q;
    rdata_d   = rdata_q;
    read_hi_d = read_hi_q;
    if (s_axil_arvalid && !rvalid_q) begin
      rvalid_d = 1'b1;
      if (r_is32) rdata_d = r_value32;
      else if (r_is64 && !ra[2]) begin
        rdata_d   = r_value64[31:0];
        read_hi_d = r_value64[63:32];
      end else if (r_is64) rdata_d = read_hi_q;
      else rdata_d = '0;
    end else if (s_axil_rready) begin
      rvalid_d = 1'b0;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      rvalid_q  <= 1'b0;
      rdata_q   <= '0;
      read_hi_q <= '0;
    end else begin
      rvalid_q  <= rvalid_d;
      rdata_q   <= rdata_d;
      read_hi_q <= read_hi_d;
    end
  end

endmodule

`resetall

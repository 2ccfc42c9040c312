// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_pkg: the fixed-point formats and the hardware contract of the pipeline, mirrored from the C headers
// include/hedgetrig/fixed.h (HT_FX_*) and include/hedgetrig/pipe_regs.h (HT_PIPE_*). The headers are the
// source of truth: read them for ranges, rounding and saturation rules. tests/pipe/test_fixed.c parses this
// file and the headers and fails when a constant differs or is missing on either side.

`resetall
`timescale 1ns / 1ps
`default_nettype none

// Yosys 0.23 reads a subset of SystemVerilog: modules name package items as ht_pkg::NAME (no import),
// functions assign to their name (no return), and ports are flat vectors (no package types, no
// multi-dimensional packed ports). Per-underlying registers are therefore flat vectors of
// HT_PIPE_UNDERLYINGS words, underlying u at [u*64 +: 64].

/* verilator lint_off UNUSEDPARAM */
package ht_pkg;

  // ---- Fixed-point formats (fixed.h) ----------------------------------------------------------------------
  localparam int HT_FX_WORD_BITS = 64;
  localparam int HT_FX_ACC_BITS = 80;
  localparam int HT_FX_PRICE_FRAC = 32;
  localparam int HT_FX_DELTA_FRAC = 32;
  localparam int HT_FX_GAMMA_FRAC = 48;
  localparam int HT_FX_SPEED_FRAC = 52;
  localparam int HT_FX_VANNA_FRAC = 32;
  localparam int HT_FX_VOL_FRAC = 56;
  localparam int HT_FX_IIR_COEF_FRAC = 60;
  localparam int HT_FX_IIR_COEF_LIMIT_LOG2 = 1;
  localparam int HT_FX_BAND_FRAC = HT_FX_DELTA_FRAC;
  localparam int HT_FX_INVENTORY_FRAC = HT_FX_DELTA_FRAC;

  // ---- Sizes, cycle budget, register map, flags, stream layouts (pipe_regs.h) ----------------------------
  localparam int unsigned HT_PIPE_UNDERLYINGS = 16;
  localparam int unsigned HT_PIPE_TABLE_DEPTH = 65536;
  localparam int unsigned HT_PIPE_TABLE_ADDR_BITS = 16;
  localparam int unsigned HT_PIPE_LATENCY_CYCLES = 10;
  localparam int unsigned HT_PIPE_BOOK_READ_CYCLE = 1;
  localparam int unsigned HT_PIPE_FOLD_EXTRA_CYCLES = 10;
  localparam int unsigned HT_PIPE_AXIL_CYCLES = 2;
  localparam int unsigned HT_PIPE_REG_ID = 32'h000;
  localparam int unsigned HT_PIPE_REG_VERSION = 32'h004;
  localparam int unsigned HT_PIPE_REG_CAPS = 32'h008;
  localparam int unsigned HT_PIPE_REG_CONTROL = 32'h00C;
  localparam int unsigned HT_PIPE_REG_STATUS = 32'h010;
  localparam int unsigned HT_PIPE_REG_TABLE_COUNT = 32'h014;
  localparam int unsigned HT_PIPE_REG_REARM = 32'h018;
  localparam int unsigned HT_PIPE_REG_MUTED = 32'h01C;
  localparam int unsigned HT_PIPE_REG_FLAGS = 32'h020;
  localparam int unsigned HT_PIPE_REG_IIR_ENABLE = 32'h024;
  localparam int unsigned HT_PIPE_REG_CYCLES = 32'h030;
  localparam int unsigned HT_PIPE_REG_TICKS = 32'h038;
  localparam int unsigned HT_PIPE_REG_EVENTS = 32'h040;
  localparam int unsigned HT_PIPE_REG_MUTED_TICKS = 32'h048;
  localparam int unsigned HT_PIPE_REG_BAD_TICKS = 32'h050;
  localparam int unsigned HT_PIPE_REG_GENERATION = 32'h058;
  localparam int unsigned HT_PIPE_REG_UND_BASE = 32'h100;
  localparam int unsigned HT_PIPE_REG_UND_STRIDE = 32'h100;
  localparam int unsigned HT_PIPE_UREG_BAND_LO = 32'h00;
  localparam int unsigned HT_PIPE_UREG_BAND_HI = 32'h08;
  localparam int unsigned HT_PIPE_UREG_GBAND_LO = 32'h10;
  localparam int unsigned HT_PIPE_UREG_GBAND_HI = 32'h18;
  localparam int unsigned HT_PIPE_UREG_INVENTORY = 32'h20;
  localparam int unsigned HT_PIPE_UREG_VOL_MOVE = 32'h28;
  localparam int unsigned HT_PIPE_UREG_S0_NEXT = 32'h30;
  localparam int unsigned HT_PIPE_UREG_IIR_B0 = 32'h38;
  localparam int unsigned HT_PIPE_UREG_IIR_B1 = 32'h40;
  localparam int unsigned HT_PIPE_UREG_IIR_B2 = 32'h48;
  localparam int unsigned HT_PIPE_UREG_IIR_A1 = 32'h50;
  localparam int unsigned HT_PIPE_UREG_IIR_A2 = 32'h58;
  localparam int unsigned HT_PIPE_UREG_IIR_CTRL = 32'h60;
  localparam int unsigned HT_PIPE_UREG_A = 32'h68;
  localparam int unsigned HT_PIPE_UREG_B = 32'h70;
  localparam int unsigned HT_PIPE_UREG_C = 32'h78;
  localparam int unsigned HT_PIPE_UREG_V = 32'h80;
  localparam int unsigned HT_PIPE_UREG_S0 = 32'h88;
  localparam int unsigned HT_PIPE_REG_SPACE = 32'h1100;
  localparam int unsigned HT_PIPE_ID_MAGIC = 32'h4854504C;
  localparam int unsigned HT_PIPE_VERSION = 32'h00010000;
  localparam int unsigned HT_PIPE_KREG_BASE = 32'h2000;
  localparam int unsigned HT_PIPE_KREG_CONTROL = 32'h2000;
  localparam int unsigned HT_PIPE_KREG_MODE = 32'h2004;
  localparam int unsigned HT_PIPE_KREG_TICK_SEQ = 32'h2008;
  localparam int unsigned HT_PIPE_KREG_TICK_PRICE = 32'h2010;
  localparam int unsigned HT_PIPE_KREG_TICK_PUSH = 32'h2018;
  localparam int unsigned HT_PIPE_KREG_EVENT_STATUS = 32'h201C;
  localparam int unsigned HT_PIPE_KREG_EVENT_WORDS = 32'h2040;
  localparam int unsigned HT_PIPE_KREG_DMA_ADDR = 32'h2080;
  localparam int unsigned HT_PIPE_KREG_DMA_FIRST = 32'h2088;
  localparam int unsigned HT_PIPE_KREG_DMA_COUNT = 32'h208C;
  localparam int unsigned HT_PIPE_KREG_DMA_START = 32'h2090;
  localparam int unsigned HT_PIPE_KREG_DMA_STATUS = 32'h2094;
  localparam int unsigned HT_PIPE_KERNEL_REG_SPACE = 32'h4000;
  localparam int unsigned HT_PIPE_BUFFER_ENTRY_BYTES = 64;
  localparam int unsigned HT_PIPE_KREG_RING_ADDR = 32'h2098;
  localparam int unsigned HT_PIPE_KREG_RING_LOG2 = 32'h20A0;
  localparam int unsigned HT_PIPE_KREG_RING_RD = 32'h20A4;
  localparam int unsigned HT_PIPE_KREG_RING_WR = 32'h20A8;
  localparam int unsigned HT_PIPE_KREG_RING_DROPS = 32'h20AC;
  localparam int unsigned HT_PIPE_KREG_RING_STATUS = 32'h20B0;
  localparam int unsigned HT_PIPE_KREG_ARMED_SLOT = 32'h2100;
  localparam int unsigned HT_PIPE_KMODE_EVENTS_TO_STREAM = 32'h1;
  localparam int unsigned HT_PIPE_KMODE_TICKS_FROM_STREAM = 32'h2;
  localparam int unsigned HT_PIPE_KMODE_EVENTS_TO_RING = 32'h4;
  localparam int unsigned HT_PIPE_RING_RECORD_BYTES = 64;
  localparam int unsigned HT_PIPE_RING_LOG2_MIN = 4;
  localparam int unsigned HT_PIPE_RING_LOG2_MAX = 20;
  localparam int unsigned HT_PIPE_FLAG_FOLD_GAMMA = 32'h001;
  localparam int unsigned HT_PIPE_FLAG_FOLD_DELTA = 32'h002;
  localparam int unsigned HT_PIPE_FLAG_FOLD_SUM = 32'h004;
  localparam int unsigned HT_PIPE_FLAG_TICK_DS = 32'h008;
  localparam int unsigned HT_PIPE_FLAG_TICK_GAMMA = 32'h010;
  localparam int unsigned HT_PIPE_FLAG_TICK_DELTA = 32'h020;
  localparam int unsigned HT_PIPE_FLAG_IIR = 32'h040;
  localparam int unsigned HT_PIPE_FLAG_TABLE_BUSY = 32'h080;
  localparam int unsigned HT_PIPE_FLAG_IIR_COEF = 32'h100;
  localparam int unsigned HT_PIPE_FLAG_EVENT_LOST = 32'h200;
  localparam int unsigned HT_PIPE_FLAG_ALL = 32'h3FF;
  localparam int unsigned HT_PIPE_EVENT_FIFO_DEPTH = 16;
  localparam int unsigned HT_PIPE_SIDE_DELTA_LO = 32'h1;
  localparam int unsigned HT_PIPE_SIDE_DELTA_HI = 32'h2;
  localparam int unsigned HT_PIPE_SIDE_GAMMA_LO = 32'h4;
  localparam int unsigned HT_PIPE_SIDE_GAMMA_HI = 32'h8;
  localparam int unsigned HT_PIPE_TICK_BITS = 192;
  localparam int unsigned HT_PIPE_EVENT_BITS = 448;

  // ---- The wire ingest (wire_regs.h) --------------------------------------------------------------------
  localparam int unsigned HT_PIPE_WIRE_BEAT_BYTES = 8;
  localparam int unsigned HT_PIPE_WIRE_FRAME_MAX = 2048;
  localparam int unsigned HT_PIPE_WIRE_TICK_FIFO = 32;
  localparam int unsigned HT_PIPE_WIRE_CHANNELS = 4;
  localparam int unsigned HT_PIPE_WIRE_FILTERS = 4;
  localparam int unsigned HT_PIPE_WIRE_NAME_BYTES = 16;
  localparam int unsigned HT_PIPE_WIRE_DECIDE_CYCLES = 1;
  localparam int unsigned HT_PIPE_WIRE_REG_BASE = 32'h1800;
  localparam int unsigned HT_PIPE_WIRE_REG_ID = 32'h1800;
  localparam int unsigned HT_PIPE_WIRE_REG_VERSION = 32'h1804;
  localparam int unsigned HT_PIPE_WIRE_REG_CTRL = 32'h1808;
  localparam int unsigned HT_PIPE_WIRE_REG_CHAN_REARM = 32'h180C;
  localparam int unsigned HT_PIPE_WIRE_REG_CHAN_STALE = 32'h1810;
  localparam int unsigned HT_PIPE_WIRE_REG_CHAN_ENABLE = 32'h1814;
  localparam int unsigned HT_PIPE_WIRE_REG_NAME_ENABLE = 32'h1818;
  localparam int unsigned HT_PIPE_WIRE_REG_BUSY = 32'h181C;
  localparam int unsigned HT_PIPE_WIRE_REG_CHAN_ID = 32'h1820;
  localparam int unsigned HT_PIPE_WIRE_REG_CHAN_NEXT = 32'h1830;
  localparam int unsigned HT_PIPE_WIRE_REG_FILTER = 32'h1840;
  localparam int unsigned HT_PIPE_WIRE_REG_NAME = 32'h1900;
  localparam int unsigned HT_PIPE_WIRE_REG_COUNTER = 32'h1A00;
  localparam int unsigned HT_PIPE_WIRE_REG_END = 32'h1A80;
  localparam int unsigned HT_PIPE_WIRE_ID_MAGIC = 32'h48545749;
  localparam int unsigned HT_PIPE_WIRE_VERSION = 32'h00010000;
  localparam int unsigned HT_PIPE_WIRE_CNT_FRAMES = 0;
  localparam int unsigned HT_PIPE_WIRE_CNT_FRAMES_OK = 1;
  localparam int unsigned HT_PIPE_WIRE_CNT_TICKS = 2;
  localparam int unsigned HT_PIPE_WIRE_CNT_DROP_FIRST = 3;
  localparam int unsigned HT_PIPE_WIRE_CNT_DISABLED = 3;
  localparam int unsigned HT_PIPE_WIRE_CNT_MAC_ERROR = 4;
  localparam int unsigned HT_PIPE_WIRE_CNT_TOO_LONG = 5;
  localparam int unsigned HT_PIPE_WIRE_CNT_OVERRUN = 6;
  localparam int unsigned HT_PIPE_WIRE_CNT_SHORT = 7;
  localparam int unsigned HT_PIPE_WIRE_CNT_NOT_IPV4 = 8;
  localparam int unsigned HT_PIPE_WIRE_CNT_IP_HEADER = 9;
  localparam int unsigned HT_PIPE_WIRE_CNT_IP_CHECKSUM = 10;
  localparam int unsigned HT_PIPE_WIRE_CNT_FRAGMENT = 11;
  localparam int unsigned HT_PIPE_WIRE_CNT_NOT_UDP = 12;
  localparam int unsigned HT_PIPE_WIRE_CNT_FILTER = 13;
  localparam int unsigned HT_PIPE_WIRE_CNT_LENGTH = 14;
  localparam int unsigned HT_PIPE_WIRE_CNT_CHANNEL = 15;
  localparam int unsigned HT_PIPE_WIRE_CNT_OLD_SEQ = 16;
  localparam int unsigned HT_PIPE_WIRE_CNT_STALE = 17;
  localparam int unsigned HT_PIPE_WIRE_CNT_SBE = 18;
  localparam int unsigned HT_PIPE_WIRE_CNT_DROP_LAST = 18;
  localparam int unsigned HT_PIPE_WIRE_CNT_GAPS = 19;
  localparam int unsigned HT_PIPE_WIRE_CNT_MESSAGES = 20;
  localparam int unsigned HT_PIPE_WIRE_CNT_UNKNOWN_TEMPLATE = 21;
  localparam int unsigned HT_PIPE_WIRE_CNT_UNKNOWN_SCHEMA = 22;
  localparam int unsigned HT_PIPE_WIRE_CNT_INDEX = 23;
  localparam int unsigned HT_PIPE_WIRE_CNT_UNMAPPED = 24;
  localparam int unsigned HT_PIPE_WIRE_CNT_BAD_PRICE = 25;
  localparam int unsigned HT_PIPE_WIRE_CNT_TICK_OVERFLOW = 26;
  localparam int unsigned HT_PIPE_WIRE_COUNTERS = 27;
  localparam int unsigned HT_PIPE_ENTRY_WORDS = 6;

  // ---- Flags, side bits and the stream layouts (the one place the RTL writes them) --------------------------
  // Names here have no HT_ prefix: tests/pipe/test_fixed.c pairs every HT_* localparam with a C header constant.

  // Bits of the FLAGS register that are defined (HT_PIPE_FLAG_ALL = 2^FLAG_BITS - 1; ht_pipe_top checks it).
  localparam int FLAG_BITS = 10;

  // The FLAGS bits of mask (an HT_PIPE_FLAG_* constant) when on, else none.
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [FLAG_BITS-1:0] flag_if(input logic on, input int unsigned mask);
    flag_if = on ? mask[FLAG_BITS-1:0] : '0;
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // The side bits of an event (HT_PIPE_SIDE_*): which bounds the net delta and the net gamma crossed.
  function automatic logic [3:0] side_bits(input logic delta_lo, input logic delta_hi, input logic gamma_lo,
                                           input logic gamma_hi);
    side_bits = (delta_lo ? 4'(HT_PIPE_SIDE_DELTA_LO) : 4'b0) | (delta_hi ? 4'(HT_PIPE_SIDE_DELTA_HI) : 4'b0) |
                (gamma_lo ? 4'(HT_PIPE_SIDE_GAMMA_LO) : 4'b0) | (gamma_hi ? 4'(HT_PIPE_SIDE_GAMMA_HI) : 4'b0);
  endfunction

  // Tick (s_axis_tick, HT_PIPE_TICK_BITS = 192), little-endian, bit 0 first:
  //
  //   bits      191..128   127..64        63..8         7..0
  //   field     price      feed sequence  reserved (0)  underlying
  //
  function automatic logic [HT_PIPE_TICK_BITS-1:0] pack_tick(input logic [7:0] und, input logic [63:0] seq,
                                                             input logic [63:0] price);
    pack_tick = {price, seq, 56'b0, und};
  endfunction
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [7:0] tick_und(input logic [HT_PIPE_TICK_BITS-1:0] t);
    tick_und = t[7:0];
  endfunction
  function automatic logic [63:0] tick_seq(input logic [HT_PIPE_TICK_BITS-1:0] t);
    tick_seq = t[64 +: 64];
  endfunction
  function automatic logic [63:0] tick_price(input logic [HT_PIPE_TICK_BITS-1:0] t);
    tick_price = t[128 +: 64];
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // Event (m_axis_event, HT_PIPE_EVENT_BITS = 448), little-endian, bit 0 first; 14 32-bit words in the
  // kernel's event window:
  //
  //   bits      447..384   383..320   319..256   255..192   191..128     127..64   63..12    11..8  7..0
  //   field     cycle out  cycle in   net gamma  net delta  price used   feed seq  reserved  side   underlying
  //
  function automatic logic [HT_PIPE_EVENT_BITS-1:0] pack_event(input logic [7:0] und, input logic [3:0] side,
                                                               input logic [63:0] seq, input logic [63:0] price,
                                                               input logic [63:0] delta, input logic [63:0] gamma,
                                                               input logic [63:0] cycle_in,
                                                               input logic [63:0] cycle_out);
    pack_event = {cycle_out, cycle_in, gamma, delta, price, seq, 52'b0, side, und};
  endfunction

  // ---- Types and arithmetic (the rules of fixed.h) ---------------------------------------------------------
  localparam int WIDE_BITS = 132;                      // exact sums of products of two 64-bit words
  typedef logic signed [WIDE_BITS-1:0] wide_t;
  typedef logic signed [63:0] fx_t;                    // any 64-bit format word

  // Table entry fields, as stored in the memory (328 bits) and as written on the table port (word layout
  // of pipe_regs.h: word 0 delta, 1 gamma, 2 speed, 3 vanna, 4 reference spot, 5 [7:0] underlying).
  localparam int ENTRY_BITS = 5 * 64 + 8;
  localparam int ENTRY_PORT_BITS = HT_PIPE_ENTRY_WORDS * 64;

  // Sign extensions to the wide format (yosys 0.23 has no casts to a package type).
  function automatic wide_t wide64(input fx_t x);
    wide64 = {{(WIDE_BITS - 64){x[63]}}, x};
  endfunction
  function automatic wide_t wide128(input logic signed [127:0] x);
    wide128 = {{(WIDE_BITS - 128){x[127]}}, x};
  endfunction
  function automatic wide_t wide_acc(input logic signed [HT_FX_ACC_BITS-1:0] x);
    wide_acc = {{(WIDE_BITS - HT_FX_ACC_BITS){x[HT_FX_ACC_BITS-1]}}, x};
  endfunction
  function automatic logic signed [HT_FX_ACC_BITS-1:0] acc64(input fx_t x);
    acc64 = {{(HT_FX_ACC_BITS - 64){x[63]}}, x};
  endfunction

  // The exact product of two 64-bit words.
  function automatic logic signed [127:0] mul64(input fx_t a, input fx_t b);
    mul64 = a * b;
  endfunction

  // Word i of a per-underlying vector: an explicit 16-way multiplexer (a variable part-select would make
  // synthesis build a barrel shifter over the whole vector).
  function automatic logic [63:0] pick64(input logic [HT_PIPE_UNDERLYINGS*64-1:0] v, input logic [3:0] i);
    pick64 = v[63:0];
    for (int u = 1; u < HT_PIPE_UNDERLYINGS; u++)
      if (i == 4'(u)) pick64 = v[u*64 +: 64];
  endfunction
  function automatic logic [HT_FX_ACC_BITS-1:0] pick_acc(input logic [HT_PIPE_UNDERLYINGS*HT_FX_ACC_BITS-1:0] v,
                                                         input logic [3:0] i);
    pick_acc = v[HT_FX_ACC_BITS-1:0];
    for (int u = 1; u < HT_PIPE_UNDERLYINGS; u++)
      if (i == 4'(u)) pick_acc = v[u*HT_FX_ACC_BITS +: HT_FX_ACC_BITS];
  endfunction

  // Rounds x * 2^-s to nearest, ties toward +infinity: (x + 2^(s-1)) >>> s.
  function automatic wide_t round_shift(input wide_t x, input int unsigned s);
    round_shift = (x + (132'sd1 <<< (s - 1))) >>> s;
  endfunction

  // True when x does not fit a 64-bit word (only the bits above 62 matter).
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic overflows64(input wide_t x);
    overflows64 = (x[WIDE_BITS-1:63] != {(WIDE_BITS - 63){x[63]}});
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // Clamps x to a 64-bit word.
  function automatic fx_t saturate64(input wide_t x);
    if (!overflows64(x)) saturate64 = x[63:0];
    else saturate64 = x[WIDE_BITS-1] ? {1'b1, 63'b0} : {1'b0, {63{1'b1}}};
  endfunction

endpackage
/* verilator lint_on UNUSEDPARAM */

`resetall

// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_pipe_kernel: the pipeline as a Vitis RTL kernel (ap_ctrl_none). It adds to ht_pipe_top what a card
// needs: one s_axi_control with the pipeline's map below 0x2000 and the kernel's registers above
// (HT_PIPE_KREG_* in pipe_regs.h), a soft reset, a tick window and an event window so the host can drive
// the pipeline through registers, and a DMA engine that copies the greek table from a buffer object over
// m_axi_gmem. The pipeline is fed from the wire too: s_axis_rx takes Ethernet frames from a network kernel into
// the wire ingest (ht_wire_top), and with MODE bit 2 every event is written into a ring in host memory over
// m_axi_ring (ht_event_ring), so that the host reads no register on the hot path. The AXI4-Streams
// s_axis_tick / m_axis_event connect to other kernels when MODE says so. ht_pipe_kernel_mm below is the same
// kernel without the tick and event streams (U55C).
//
// Kernel registers (32-bit words):
//   0x2000 CONTROL      WO  bit 0: soft reset of the pipeline (16 cycles)
//   0x2004 MODE         RW  bit 0: events to m_axis_event (1) or to the event window (0)
//                           bit 1: ticks from s_axis_tick too (1) or only from the tick window (0)
//                           bit 2: events into the ring (overrides bit 0)
//   0x2008 TICK_SEQ     RW  64-bit (LO, HI)     0x2010 TICK_PRICE  RW 64-bit (LO, HI)
//   0x2018 TICK_PUSH    WO  [7:0] underlying: pushes {underlying, TICK_SEQ, TICK_PRICE} (one cycle)
//   0x201C EVENT_STATUS RO  bit 0: an event waits in the window
//   0x2040 EVENT_WORDS  RO  14 words of the waiting event (pipe_regs.h layout); reading 0x2074 pops it
//   0x2080 DMA_ADDR     RW  64-bit device address of table entry DMA_FIRST in the buffer (kernel arg 0)
//   0x2088 DMA_FIRST    RW  first table entry       0x208C DMA_COUNT RW entries (64 bytes each)
//   0x2090 DMA_START    WO  bit 0 starts the copy   0x2094 DMA_STATUS RO bit 0 busy, bit 1 AXI error
//   0x2098 RING_ADDR    RW  64-bit device address of the event ring (kernel arg 1)
//   0x20A0 RING_LOG2    RW  2^n records (clamped to 4..20)   0x20A4 RING_RD RW records the host has read
//   0x20A8 RING_WR      RO  records written    0x20AC RING_DROPS RO    0x20B0 RING_STATUS RO bit 0 busy, bit 1 error
//   0x2100 + 4u ARMED_SLOT RW [15:0] the armed-order slot written into underlying u's records
//
// DMA: INCR bursts of up to 16 beats of 512 bits (one entry per beat), never across a 4 KB boundary, one
// burst outstanding; each beat is written into the table one cycle later. Reset: ap_rst_n, synchronous,
// active low, as Vitis requires; the soft reset adds to it for the pipeline only.
//
// Coding: the kernel's state (registers, handshakes, soft-reset counter, DMA state machine) is computed as
// NAME_d in always_comb and registered as NAME_q by always_ff blocks that only reset and copy. The DMA's
// address, counters and table-port data have no reset: a start loads them before they are used.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_pipe_kernel #(
  // Table entries (HT_PIPE_TABLE_DEPTH on a card)
  parameter int TABLE_DEPTH = ht_pkg::HT_PIPE_TABLE_DEPTH,
  // log2(TABLE_DEPTH)
  parameter int TABLE_ADDR_BITS = ht_pkg::HT_PIPE_TABLE_ADDR_BITS
) (
  // ---- ap_clk, ap_rst_n, s_axi_control (AXI4-Lite), m_axi_gmem (AXI4, reads only: the table buffer) ----
`include "ht_pipe_kernel_ports.svh"
  ,   // (the shared ports end without a comma)

  // ---- AXI4-Streams to and from other kernels ----
  input  wire                                    s_axis_tick_tvalid,
  output logic                                   s_axis_tick_tready,
  input  wire [ht_pkg::HT_PIPE_TICK_BITS-1:0]    s_axis_tick_tdata,
  output logic                                   m_axis_event_tvalid,
  input  wire                                    m_axis_event_tready,
  output logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0]  m_axis_event_tdata
);
  localparam logic [13:0] KREG_CONTROL      = 14'(ht_pkg::HT_PIPE_KREG_CONTROL);
  localparam logic [13:0] KREG_MODE         = 14'(ht_pkg::HT_PIPE_KREG_MODE);
  localparam logic [13:0] KREG_TICK_SEQ     = 14'(ht_pkg::HT_PIPE_KREG_TICK_SEQ);
  localparam logic [13:0] KREG_TICK_PRICE   = 14'(ht_pkg::HT_PIPE_KREG_TICK_PRICE);
  localparam logic [13:0] KREG_TICK_PUSH    = 14'(ht_pkg::HT_PIPE_KREG_TICK_PUSH);
  localparam logic [13:0] KREG_EVENT_STATUS = 14'(ht_pkg::HT_PIPE_KREG_EVENT_STATUS);
  localparam logic [13:0] KREG_EVENT_WORDS  = 14'(ht_pkg::HT_PIPE_KREG_EVENT_WORDS);
  localparam logic [13:0] KREG_DMA_ADDR     = 14'(ht_pkg::HT_PIPE_KREG_DMA_ADDR);
  localparam logic [13:0] KREG_DMA_FIRST    = 14'(ht_pkg::HT_PIPE_KREG_DMA_FIRST);
  localparam logic [13:0] KREG_DMA_COUNT    = 14'(ht_pkg::HT_PIPE_KREG_DMA_COUNT);
  localparam logic [13:0] KREG_DMA_START    = 14'(ht_pkg::HT_PIPE_KREG_DMA_START);
  localparam logic [13:0] KREG_DMA_STATUS   = 14'(ht_pkg::HT_PIPE_KREG_DMA_STATUS);
  localparam logic [13:0] KREG_TICK_SEQ_HI   = KREG_TICK_SEQ + 14'd4;
  localparam logic [13:0] KREG_TICK_PRICE_HI = KREG_TICK_PRICE + 14'd4;
  localparam logic [13:0] KREG_DMA_ADDR_HI   = KREG_DMA_ADDR + 14'd4;
  localparam logic [13:0] KREG_RING_ADDR     = 14'(ht_pkg::HT_PIPE_KREG_RING_ADDR);
  localparam logic [13:0] KREG_RING_ADDR_HI  = KREG_RING_ADDR + 14'd4;
  localparam logic [13:0] KREG_RING_LOG2     = 14'(ht_pkg::HT_PIPE_KREG_RING_LOG2);
  localparam logic [13:0] KREG_RING_RD       = 14'(ht_pkg::HT_PIPE_KREG_RING_RD);
  localparam logic [13:0] KREG_RING_WR       = 14'(ht_pkg::HT_PIPE_KREG_RING_WR);
  localparam logic [13:0] KREG_RING_DROPS    = 14'(ht_pkg::HT_PIPE_KREG_RING_DROPS);
  localparam logic [13:0] KREG_RING_STATUS   = 14'(ht_pkg::HT_PIPE_KREG_RING_STATUS);
  localparam logic [13:0] KREG_ARMED_SLOT    = 14'(ht_pkg::HT_PIPE_KREG_ARMED_SLOT);
  localparam int NU = ht_pkg::HT_PIPE_UNDERLYINGS;
  localparam int EVENT_WORDS = ht_pkg::HT_PIPE_EVENT_BITS / 32;
  // MODE bits.
  localparam int MODE_EVENTS_TO_STREAM = 0;    // events to m_axis_event (1) or to the event window (0)
  localparam int MODE_TICKS_FROM_STREAM = 1;   // ticks from s_axis_tick too (1) or only from the tick window (0)
  localparam int MODE_EVENTS_TO_RING = 2;      // events into the ring in host memory
  // AXI4 encodings, and the DMA's burst limits.
  localparam logic [1:0] AXI_RESP_OKAY = 2'b00;
  localparam logic [1:0] AXI_BURST_INCR = 2'b01;
  localparam logic [2:0] AXI_SIZE_64_BYTES = 3'd6;          // one table entry (HT_PIPE_BUFFER_ENTRY_BYTES) a beat
  localparam logic [4:0] BURST_MAX_BEATS = 5'd16;
  localparam logic [6:0] BEATS_PER_4KB = 7'd64;             // 4 KB / 64-byte beats: a burst never crosses 4 KB
  localparam logic [13:0] KREG_EVENT_LAST = KREG_EVENT_WORDS + 14'(4 * (EVENT_WORDS - 1));

  initial begin
    if (ht_pkg::HT_PIPE_BUFFER_ENTRY_BYTES != 64) $error("%m: one table entry per 512-bit beat");
    if (ht_pkg::HT_PIPE_KREG_BASE != 32'h2000) $error("%m: the kernel block is selected by address bit 13");
  end

  // ---- Soft reset ------------------------------------------------------------------------------------------
  localparam logic [4:0] SOFT_RESET_CYCLES = 5'd16;
  logic [4:0] soft_rst_d, soft_rst_q;     // counts down while the pipeline is held in reset
  logic       pipe_rst_n;

  assign pipe_rst_n = ap_rst_n && (soft_rst_q == '0);

  // ---- AXI4-Lite: split between the pipeline (< 0x2000) and the kernel block ---------------------------------
  logic        core_awvalid, core_awready, core_wvalid, core_wready, core_bvalid;
  logic        core_arvalid, core_arready, core_rvalid;
  logic [31:0] core_rdata;
  logic [1:0]  core_bresp, core_rresp;
  logic        k_bvalid_d, k_bvalid_q, k_rvalid_d, k_rvalid_q;
  logic [31:0] k_rdata_d, k_rdata_q;
  logic        wr_kernel, rd_kernel, k_wr_fire, k_rd_fire;

  assign wr_kernel = s_axi_control_awaddr[13];
  assign rd_kernel = s_axi_control_araddr[13];
  // One write and one read in flight at a time, whichever side answers.
  assign core_awvalid = s_axi_control_awvalid && !wr_kernel && !k_bvalid_q;
  assign core_wvalid  = s_axi_control_wvalid && !wr_kernel && !k_bvalid_q;
  assign core_arvalid = s_axi_control_arvalid && !rd_kernel && !k_rvalid_q;
  assign k_wr_fire = s_axi_control_awvalid && s_axi_control_wvalid && wr_kernel && !k_bvalid_q && !core_bvalid;
  assign k_rd_fire = s_axi_control_arvalid && rd_kernel && !k_rvalid_q && !core_rvalid;
  assign s_axi_control_awready = wr_kernel ? k_wr_fire : (core_awready && !k_bvalid_q);
  assign s_axi_control_wready  = wr_kernel ? k_wr_fire : (core_wready && !k_bvalid_q);
  assign s_axi_control_bvalid  = core_bvalid || k_bvalid_q;
  assign s_axi_control_bresp   = k_bvalid_q ? AXI_RESP_OKAY : core_bresp;
  assign s_axi_control_arready = rd_kernel ? k_rd_fire : (core_arready && !k_rvalid_q);
  assign s_axi_control_rvalid  = core_rvalid || k_rvalid_q;
  assign s_axi_control_rdata   = k_rvalid_q ? k_rdata_q : core_rdata;
  assign s_axi_control_rresp   = k_rvalid_q ? AXI_RESP_OKAY : core_rresp;

  logic unused_wstrb;
  assign unused_wstrb = ^s_axi_control_wstrb;

  // ---- Kernel registers -------------------------------------------------------------------------------------
  logic [2:0]  mode_d, mode_q;
  logic [63:0] ring_addr_d, ring_addr_q;
  logic [4:0]  ring_log2_d, ring_log2_q;
  logic [31:0] ring_rd_d, ring_rd_q;
  logic [NU*16-1:0] armed_d, armed_q;
  logic [63:0] tick_seq_d, tick_seq_q, tick_price_d, tick_price_q, dma_addr_d, dma_addr_q;
  logic [31:0] dma_first_d, dma_first_q, dma_count_d, dma_count_q;
  logic        push_d, push_q;    // a tick from the window goes into the pipeline this cycle
  logic [7:0]  push_und_d, push_und_q;
  logic        dma_start;
  logic        dma_busy, dma_error_d, dma_error_q;

  logic [13:0] wa, ra;
  logic [31:0] wd;
  assign wa = s_axi_control_awaddr;
  assign ra = s_axi_control_araddr;
  assign wd = s_axi_control_wdata;
  assign dma_start = k_wr_fire && wa == KREG_DMA_START && wd[0] && !dma_busy;

  // Kernel register writes (whole words; 64-bit registers as LO and HI words).
  always_comb begin
    soft_rst_d   = (soft_rst_q != '0) ? soft_rst_q - 5'd1 : soft_rst_q;
    mode_d       = mode_q;
    ring_addr_d  = ring_addr_q;
    ring_log2_d  = ring_log2_q;
    ring_rd_d    = ring_rd_q;
    armed_d      = armed_q;
    tick_seq_d   = tick_seq_q;
    tick_price_d = tick_price_q;
    dma_addr_d   = dma_addr_q;
    dma_first_d  = dma_first_q;
    dma_count_d  = dma_count_q;
    push_d       = 1'b0;
    push_und_d   = push_und_q;
    k_bvalid_d   = k_bvalid_q;
    if (k_wr_fire) begin
      k_bvalid_d = 1'b1;
      unique case (wa)
        KREG_CONTROL:       if (wd[0]) soft_rst_d = SOFT_RESET_CYCLES;
        KREG_MODE:          mode_d = wd[2:0];
        KREG_RING_ADDR:     ring_addr_d[31:0] = wd;
        KREG_RING_ADDR_HI:  ring_addr_d[63:32] = wd;
        KREG_RING_LOG2:     ring_log2_d = (wd < 32'(ht_pkg::HT_PIPE_RING_LOG2_MIN)) ? 5'(ht_pkg::HT_PIPE_RING_LOG2_MIN)
                                        : (wd > 32'(ht_pkg::HT_PIPE_RING_LOG2_MAX)) ? 5'(ht_pkg::HT_PIPE_RING_LOG2_MAX)
                                        : wd[4:0];
        KREG_RING_RD:       ring_rd_d = wd;
        KREG_TICK_SEQ:      tick_seq_d[31:0] = wd;
        KREG_TICK_SEQ_HI:   tick_seq_d[63:32] = wd;
        KREG_TICK_PRICE:    tick_price_d[31:0] = wd;
        KREG_TICK_PRICE_HI: tick_price_d[63:32] = wd;
        KREG_TICK_PUSH:     begin push_d = 1'b1; push_und_d = wd[7:0]; end
        KREG_DMA_ADDR:      dma_addr_d[31:0] = wd;
        KREG_DMA_ADDR_HI:   dma_addr_d[63:32] = wd;
        KREG_DMA_FIRST:     dma_first_d = wd;
        KREG_DMA_COUNT:     dma_count_d = wd;
        default: begin
          for (int u = 0; u < NU; u++)
            if (wa == KREG_ARMED_SLOT + 14'(4 * u)) armed_d[u*16 +: 16] = wd[15:0];
        end
      endcase
    end else if (s_axi_control_bready) begin
      k_bvalid_d = 1'b0;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      soft_rst_q   <= '0;
      mode_q       <= '0;
      ring_addr_q  <= '0;
      ring_log2_q  <= 5'(ht_pkg::HT_PIPE_RING_LOG2_MIN);
      ring_rd_q    <= '0;
      armed_q      <= '0;
      tick_seq_q   <= '0;
      tick_price_q <= '0;
      dma_addr_q   <= '0;
      dma_first_q  <= '0;
      dma_count_q  <= '0;
      push_q       <= 1'b0;
      push_und_q   <= '0;
      k_bvalid_q   <= 1'b0;
    end else begin
      soft_rst_q   <= soft_rst_d;
      mode_q       <= mode_d;
      ring_addr_q  <= ring_addr_d;
      ring_log2_q  <= ring_log2_d;
      ring_rd_q    <= ring_rd_d;
      armed_q      <= armed_d;
      tick_seq_q   <= tick_seq_d;
      tick_price_q <= tick_price_d;
      dma_addr_q   <= dma_addr_d;
      dma_first_q  <= dma_first_d;
      dma_count_q  <= dma_count_d;
      push_q       <= push_d;
      push_und_q   <= push_und_d;
      k_bvalid_q   <= k_bvalid_d;
    end
  end

  // ---- Ticks into the pipeline: the window first, then (when enabled) the stream ----------------------------
  logic                                 core_tick_tvalid, core_tick_tready;
  logic [ht_pkg::HT_PIPE_TICK_BITS-1:0] core_tick_tdata;

  assign core_tick_tvalid = push_q || (mode_q[MODE_TICKS_FROM_STREAM] && s_axis_tick_tvalid);
  assign core_tick_tdata = push_q ? ht_pkg::pack_tick(push_und_q, tick_seq_q, tick_price_q) : s_axis_tick_tdata;
  assign s_axis_tick_tready = mode_q[MODE_TICKS_FROM_STREAM] && !push_q && core_tick_tready;

  // ---- Events out: into the ring, to the stream, or held in the window until the host reads its last word --------
  logic                                  core_event_tvalid, core_event_tready, pop, to_ring, to_window;
  logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0] core_event_tdata;
  logic                                  ring_ready, ring_error, ring_busy;
  logic [31:0]                           ring_wr, ring_drops;

  assign to_ring = mode_q[MODE_EVENTS_TO_RING];
  assign to_window = !to_ring && !mode_q[MODE_EVENTS_TO_STREAM];
  assign pop = k_rd_fire && ra == KREG_EVENT_LAST && to_window;
  assign core_event_tready = to_ring ? ring_ready : mode_q[MODE_EVENTS_TO_STREAM] ? m_axis_event_tready : pop;
  assign m_axis_event_tvalid = !to_ring && mode_q[MODE_EVENTS_TO_STREAM] && core_event_tvalid;
  assign m_axis_event_tdata = core_event_tdata;

  ht_event_ring u_ring (
    .clk(ap_clk), .rst_ni(pipe_rst_n),
    .ev_valid_i(to_ring && core_event_tvalid), .ev_ready_o(ring_ready), .ev_data_i(core_event_tdata),
    .armed_slot_i(armed_q), .base_i(ring_addr_q), .log2_i(ring_log2_q), .host_rd_i(ring_rd_q),
    .wr_o(ring_wr), .drops_o(ring_drops), .error_o(ring_error), .busy_o(ring_busy),
    .m_awvalid(m_axi_ring_awvalid), .m_awready(m_axi_ring_awready), .m_awaddr(m_axi_ring_awaddr),
    .m_awlen(m_axi_ring_awlen), .m_awsize(m_axi_ring_awsize), .m_awburst(m_axi_ring_awburst),
    .m_wvalid(m_axi_ring_wvalid), .m_wready(m_axi_ring_wready), .m_wdata(m_axi_ring_wdata),
    .m_wstrb(m_axi_ring_wstrb), .m_wlast(m_axi_ring_wlast),
    .m_bvalid(m_axi_ring_bvalid), .m_bready(m_axi_ring_bready), .m_bresp(m_axi_ring_bresp)
  );

  // Kernel register reads.
  logic [31:0] k_read;
  always_comb begin
    k_read = '0;
    unique case (ra)
      KREG_MODE:           k_read = {29'b0, mode_q};
      KREG_RING_ADDR:      k_read = ring_addr_q[31:0];
      KREG_RING_ADDR_HI:   k_read = ring_addr_q[63:32];
      KREG_RING_LOG2:      k_read = {27'b0, ring_log2_q};
      KREG_RING_RD:        k_read = ring_rd_q;
      KREG_RING_WR:        k_read = ring_wr;
      KREG_RING_DROPS:     k_read = ring_drops;
      KREG_RING_STATUS:    k_read = {30'b0, ring_error, ring_busy};
      KREG_TICK_SEQ:       k_read = tick_seq_q[31:0];
      KREG_TICK_SEQ_HI:   k_read = tick_seq_q[63:32];
      KREG_TICK_PRICE:     k_read = tick_price_q[31:0];
      KREG_TICK_PRICE_HI: k_read = tick_price_q[63:32];
      KREG_EVENT_STATUS:   k_read = {31'b0, to_window && core_event_tvalid};
      KREG_DMA_ADDR:       k_read = dma_addr_q[31:0];
      KREG_DMA_ADDR_HI:   k_read = dma_addr_q[63:32];
      KREG_DMA_FIRST:      k_read = dma_first_q;
      KREG_DMA_COUNT:      k_read = dma_count_q;
      KREG_DMA_STATUS:     k_read = {30'b0, dma_error_q, dma_busy};
      default: begin
        for (int w = 0; w < EVENT_WORDS; w++)
          if (ra == KREG_EVENT_WORDS + 14'(4 * w)) k_read = core_event_tdata[w*32 +: 32];
        for (int u = 0; u < NU; u++)
          if (ra == KREG_ARMED_SLOT + 14'(4 * u)) k_read = {16'b0, armed_q[u*16 +: 16]};
      end
    endcase
  end

  always_comb begin
    k_rvalid_d = k_rvalid_q;
    k_rdata_d  = k_rdata_q;
    if (k_rd_fire) begin
      k_rvalid_d = 1'b1;
      k_rdata_d  = k_read;
    end else if (s_axi_control_rready) begin
      k_rvalid_d = 1'b0;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      k_rvalid_q <= 1'b0;
      k_rdata_q  <= '0;
    end else begin
      k_rvalid_q <= k_rvalid_d;
      k_rdata_q  <= k_rdata_d;
    end
  end

  // ---- Table DMA: buffer entries -> the pipeline's table port ---------------------------------------------------
  typedef enum logic [1:0] {DMA_IDLE, DMA_ADDR, DMA_DATA} dma_state_t;
  dma_state_t  dma_state_d, dma_state_q;
  logic [63:0] rd_addr_d, rd_addr_q;
  logic [31:0] left_d, left_q;                         // entries not yet requested
  logic [TABLE_ADDR_BITS-1:0] entry_d, entry_q;        // table index of the next beat
  logic [4:0]  burst_d, burst_q;                       // beats of the current burst
  logic [6:0]  to_boundary;     // beats left before the next 4 KB boundary
  logic [4:0]  burst;           // beats of the next burst: min(16, left, to_boundary)
  logic        tbl_we_d, tbl_we_q;
  logic [TABLE_ADDR_BITS-1:0] tbl_addr_d, tbl_addr_q;
  logic [ht_pkg::ENTRY_PORT_BITS-1:0] tbl_data_d, tbl_data_q;

  assign to_boundary = BEATS_PER_4KB - {1'b0, rd_addr_q[11:6]};
  always_comb begin
    burst = BURST_MAX_BEATS;
    if ({25'b0, to_boundary} < 32'(BURST_MAX_BEATS) && {25'b0, to_boundary} <= left_q) burst = to_boundary[4:0];
    else if (left_q < 32'(BURST_MAX_BEATS)) burst = left_q[4:0];
  end
  assign dma_busy = dma_state_q != DMA_IDLE;

  always_comb begin
    dma_state_d = dma_state_q;
    dma_error_d = dma_error_q;
    rd_addr_d   = rd_addr_q;
    left_d      = left_q;
    entry_d     = entry_q;
    burst_d     = burst_q;
    tbl_we_d    = 1'b0;
    tbl_addr_d  = tbl_addr_q;
    tbl_data_d  = tbl_data_q;
    unique case (dma_state_q)
      DMA_IDLE: if (dma_start) begin
        rd_addr_d   = dma_addr_q;
        left_d      = dma_count_q;
        entry_d     = dma_first_q[TABLE_ADDR_BITS-1:0];
        dma_error_d = 1'b0;
        dma_state_d = (dma_count_q == 32'd0) ? DMA_IDLE : DMA_ADDR;
      end
      DMA_ADDR: if (m_axi_gmem_arready) begin
        burst_d     = burst;
        left_d      = left_q - {27'b0, burst};
        dma_state_d = DMA_DATA;
      end
      DMA_DATA: if (m_axi_gmem_rvalid) begin
        tbl_we_d   = 1'b1;
        tbl_addr_d = entry_q;
        tbl_data_d = m_axi_gmem_rdata[ht_pkg::ENTRY_PORT_BITS-1:0];
        entry_d    = entry_q + 1'b1;
        rd_addr_d  = rd_addr_q + 64'(ht_pkg::HT_PIPE_BUFFER_ENTRY_BYTES);
        burst_d    = burst_q - 5'd1;
        if (m_axi_gmem_rresp != AXI_RESP_OKAY) dma_error_d = 1'b1;
        if (m_axi_gmem_rlast || burst_q == 5'd1) dma_state_d = (left_q == 32'd0) ? DMA_IDLE : DMA_ADDR;
      end
      default: dma_state_d = DMA_IDLE;
    endcase
  end

  always_ff @(posedge ap_clk) begin
    if (!ap_rst_n) begin
      dma_state_q <= DMA_IDLE;
      dma_error_q <= 1'b0;
      tbl_we_q    <= 1'b0;
    end else begin
      dma_state_q <= dma_state_d;
      dma_error_q <= dma_error_d;
      tbl_we_q    <= tbl_we_d;
    end
  end

  always_ff @(posedge ap_clk) begin
    rd_addr_q  <= rd_addr_d;
    left_q     <= left_d;
    entry_q    <= entry_d;
    burst_q    <= burst_d;
    tbl_addr_q <= tbl_addr_d;
    tbl_data_q <= tbl_data_d;
  end

  logic unused_gmem;
  assign unused_gmem = ^{m_axi_gmem_rdata[511:ht_pkg::ENTRY_PORT_BITS], m_axi_gmem_awready, m_axi_gmem_wready,
                         m_axi_gmem_bvalid, m_axi_gmem_bresp};

  assign m_axi_gmem_arvalid = dma_state_q == DMA_ADDR;
  assign m_axi_gmem_araddr  = rd_addr_q;
  assign m_axi_gmem_arlen   = {3'b0, burst - 5'd1};
  assign m_axi_gmem_arsize  = AXI_SIZE_64_BYTES;
  assign m_axi_gmem_arburst = AXI_BURST_INCR;
  assign m_axi_gmem_rready  = dma_state_q == DMA_DATA;
  assign m_axi_gmem_awvalid = 1'b0;
  assign m_axi_gmem_awaddr  = '0;
  assign m_axi_gmem_awlen   = '0;
  assign m_axi_gmem_awsize  = AXI_SIZE_64_BYTES;
  assign m_axi_gmem_awburst = AXI_BURST_INCR;
  assign m_axi_gmem_wvalid  = 1'b0;
  assign m_axi_gmem_wdata   = '0;
  assign m_axi_gmem_wstrb   = '0;
  assign m_axi_gmem_wlast   = 1'b0;
  assign m_axi_gmem_bready  = 1'b1;

  // ---- The pipeline, fed from the wire too ---------------------------------------------------------------------------
  logic unused_busy, unused_wire_active, unused_wire_tick;
  logic [ht_pkg::HT_PIPE_TICK_BITS-1:0] unused_wire_tick_data;

  ht_wire_top #(.TABLE_DEPTH(TABLE_DEPTH), .TABLE_ADDR_BITS(TABLE_ADDR_BITS)) u_pipe (
    .clk(ap_clk), .rst_ni(pipe_rst_n),
    .s_axis_tick_tvalid(core_tick_tvalid), .s_axis_tick_tready(core_tick_tready),
    .s_axis_tick_tdata(core_tick_tdata),
    .m_axis_event_tvalid(core_event_tvalid), .m_axis_event_tready(core_event_tready),
    .m_axis_event_tdata(core_event_tdata),
    .s_axil_awvalid(core_awvalid), .s_axil_awready(core_awready), .s_axil_awaddr(wa[12:0]),
    .s_axil_wvalid(core_wvalid), .s_axil_wready(core_wready), .s_axil_wdata(wd), .s_axil_wstrb(4'hF),
    .s_axil_bvalid(core_bvalid), .s_axil_bready(s_axi_control_bready), .s_axil_bresp(core_bresp),
    .s_axil_arvalid(core_arvalid), .s_axil_arready(core_arready), .s_axil_araddr(ra[12:0]),
    .s_axil_rvalid(core_rvalid), .s_axil_rready(s_axi_control_rready), .s_axil_rdata(core_rdata),
    .s_axil_rresp(core_rresp),
    .tbl_we_i(tbl_we_q), .tbl_addr_i(tbl_addr_q), .tbl_data_i(tbl_data_q),
    .busy_o(unused_busy),
    .s_axis_rx_tvalid, .s_axis_rx_tdata, .s_axis_rx_tkeep, .s_axis_rx_tlast, .s_axis_rx_tuser(s_axis_rx_tuser[0]),
    .wire_active_o(unused_wire_active), .wire_tick_o(unused_wire_tick), .wire_tick_data_o(unused_wire_tick_data)
  );

endmodule

`resetall

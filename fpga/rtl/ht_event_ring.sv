// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_event_ring: every event of the pipeline written into a ring of records in a host buffer, over an AXI4
// master, so that the host polls its own memory and never reads a register on the hot path.
//
//   event (m_axis of the pipeline) ──► record (64 B) ──► AW + W (one beat of 512 bits) ──► host memory
//                                                           B counted; a failed write is sticky (STATUS)
//
// The ring has 2^LOG2 records at BASE (64-byte aligned). Record i goes to BASE + 64 * (i mod 2^LOG2); its word 0
// carries i + 1 (the record number), so the host, which knows the number it expects next, can tell a new record
// from an old one without any register. The host tells the ring how far it has read (HOST_RD, a posted register
// write now and then); when 2^LOG2 records are unread, a new event is counted in DROPS and not written: the
// pipeline is never held back. Record layout (pipe_regs.h, HT_PIPE_RING_*): word 0 [7:0] underlying, [11:8] side,
// [31:16] the underlying's armed-order slot (ARMED_SLOT register), [63:32] record number; 1 feed sequence (for a
// wire tick: channel [47:32], sequence [31:0]); 2 price; 3 net delta; 4 net gamma; 5 cycle in; 6 cycle out;
// 7 the cycle the ring took the event (the write is issued in the next cycle).
//
// Coding: control state as NAME_d (always_comb) / NAME_q (always_ff); the record itself has no reset.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_event_ring (
  input  wire           clk,
  input  wire           rst_ni,

  // ---- Events in ----
  input  wire           ev_valid_i,
  output logic          ev_ready_o,
  input  wire [ht_pkg::HT_PIPE_EVENT_BITS-1:0] ev_data_i,

  // ---- Settings (kernel registers) ----
  input  wire [ht_pkg::HT_PIPE_UNDERLYINGS*16-1:0] armed_slot_i,
  input  wire [63:0]    base_i,
  input  wire [4:0]     log2_i,          // HT_PIPE_RING_LOG2_MIN .. HT_PIPE_RING_LOG2_MAX (the kernel clamps it)
  input  wire [31:0]    host_rd_i,       // records the host has read

  // ---- Status ----
  output logic [31:0]   wr_o,            // records written (the next record number - 1)
  output logic [31:0]   drops_o,         // events not written: the ring was full
  output logic          error_o,         // a write answered with an error (sticky until reset)
  output logic          busy_o,          // a record is being written or a response is outstanding

  // ---- AXI4 master, writes only ----
  output logic          m_awvalid,
  input  wire           m_awready,
  output logic [63:0]   m_awaddr,
  output logic [7:0]    m_awlen,
  output logic [2:0]    m_awsize,
  output logic [1:0]    m_awburst,
  output logic          m_wvalid,
  input  wire           m_wready,
  output logic [511:0]  m_wdata,
  output logic [63:0]   m_wstrb,
  output logic          m_wlast,
  input  wire           m_bvalid,
  output logic          m_bready,
  input  wire [1:0]     m_bresp
);
  localparam int NU = ht_pkg::HT_PIPE_UNDERLYINGS;

  initial begin
    if (ht_pkg::HT_PIPE_RING_RECORD_BYTES != 64) $error("%m: one record per 512-bit beat");
  end

  logic         hold_d, hold_q, aw_done_d, aw_done_q, w_done_d, w_done_q, err_d, err_q;
  logic [31:0]  wr_d, wr_q, drops_d, drops_q;
  logic [7:0]   outstanding_d, outstanding_q;
  logic [63:0]  cyc_d, cyc_q;
  logic [63:0]  addr_d, addr_q;
  logic [511:0] rec_d, rec_q;
  logic         take, full, aw_fire, w_fire;
  logic [31:0]  size, slot;
  logic [3:0]   und;
  logic [15:0]  armed;

  assign size = 32'd1 << log2_i;
  assign full = (wr_q - host_rd_i) >= size;
  assign ev_ready_o = !hold_q;
  assign take = ev_valid_i && !hold_q;
  assign aw_fire = m_awvalid && m_awready;
  assign w_fire = m_wvalid && m_wready;
  assign slot = wr_q & (size - 32'd1);
  assign und = ev_data_i[3:0];

  always_comb begin
    armed = '0;
    for (int u = 0; u < NU; u++)
      if (4'(u) == und) armed = armed_slot_i[u*16 +: 16];
  end

  always_comb begin
    hold_d = hold_q;
    aw_done_d = aw_done_q;
    w_done_d = w_done_q;
    err_d = err_q;
    wr_d = wr_q;
    drops_d = drops_q;
    outstanding_d = outstanding_q;
    cyc_d = cyc_q + 64'd1;
    addr_d = addr_q;
    rec_d = rec_q;
    if (take) begin
      if (full) begin
        drops_d = drops_q + 32'd1;
      end else begin
        hold_d = 1'b1;
        aw_done_d = 1'b0;
        w_done_d = 1'b0;
        wr_d = wr_q + 32'd1;
        addr_d = base_i + {26'd0, slot, 6'd0};
        rec_d = {cyc_q,                                     // 7: the cycle the ring took it
                 ev_data_i[447:384], ev_data_i[383:320],    // 6, 5: cycle out, cycle in
                 ev_data_i[319:256], ev_data_i[255:192],    // 4, 3: net gamma, net delta
                 ev_data_i[191:128], ev_data_i[127:64],     // 2, 1: price, sequence
                 wr_q + 32'd1, armed, 4'd0, ev_data_i[11:8], ev_data_i[7:0]};
      end
    end else if (hold_q) begin
      if (aw_fire) aw_done_d = 1'b1;
      if (w_fire) w_done_d = 1'b1;
      if ((aw_done_q || aw_fire) && (w_done_q || w_fire)) hold_d = 1'b0;
    end
    if (aw_fire && !(m_bvalid && m_bready)) outstanding_d = outstanding_q + 8'd1;
    else if (!aw_fire && m_bvalid && m_bready) outstanding_d = outstanding_q - 8'd1;
    if (m_bvalid && m_bready && m_bresp != 2'b00) err_d = 1'b1;
  end

  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      hold_q <= 1'b0;
      aw_done_q <= 1'b0;
      w_done_q <= 1'b0;
      err_q <= 1'b0;
      wr_q <= '0;
      drops_q <= '0;
      outstanding_q <= '0;
      cyc_q <= '0;
    end else begin
      hold_q <= hold_d;
      aw_done_q <= aw_done_d;
      w_done_q <= w_done_d;
      err_q <= err_d;
      wr_q <= wr_d;
      drops_q <= drops_d;
      outstanding_q <= outstanding_d;
      cyc_q <= cyc_d;
    end
  end

  always_ff @(posedge clk) begin
    addr_q <= addr_d;
    rec_q <= rec_d;
  end

  assign m_awvalid = hold_q && !aw_done_q;
  assign m_awaddr = addr_q;
  assign m_awlen = 8'd0;                 // one beat
  assign m_awsize = 3'd6;                // 64 bytes
  assign m_awburst = 2'b01;              // INCR
  assign m_wvalid = hold_q && !w_done_q;
  assign m_wdata = rec_q;
  assign m_wstrb = {64{1'b1}};
  assign m_wlast = 1'b1;
  assign m_bready = 1'b1;
  assign wr_o = wr_q;
  assign drops_o = drops_q;
  assign error_o = err_q;
  assign busy_o = hold_q || (outstanding_q != 8'd0);

  logic unused_reserved;
  assign unused_reserved = ^ev_data_i[63:12];     // the event layout's reserved bits
endmodule

`resetall

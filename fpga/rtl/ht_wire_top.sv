// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_wire_top: the pipeline fed from the wire. ht_wire (the MAC stream into ticks) and ht_pipe_top (ticks into
// events) on one clock, one AXI4-Lite map: the pipeline's registers below 0x1800, the ingest's from 0x1800
// (include/hedgetrig/wire_regs.h). Ticks from the host (s_axis_tick) still work; in a cycle where the ingest
// sends a tick, the host's waits (s_axis_tick_tready low).
//
//   s_axis_rx ──► ht_wire ──┐
//                           ├─► ht_pipe_top ──► m_axis_event
//   s_axis_tick ────────────┘
//
// A tick leaves ht_wire in the cycle after its frame is decided, which is the cycle after the frame's last
// beat: the pipeline's event follows HT_PIPE_LATENCY_CYCLES later, 12 cycles after the last beat in all.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_wire_top #(
  parameter int TABLE_DEPTH = ht_pkg::HT_PIPE_TABLE_DEPTH,
  parameter int TABLE_ADDR_BITS = ht_pkg::HT_PIPE_TABLE_ADDR_BITS
) (
`include "ht_pipe_top_ports.svh"
  ,   // (the shared ports end without a comma)

  // ---- AXI4-Stream from the Ethernet MAC ----
  input  wire                                    s_axis_rx_tvalid,
  input  wire [63:0]                             s_axis_rx_tdata,
  input  wire [7:0]                              s_axis_rx_tkeep,
  input  wire                                    s_axis_rx_tlast,
  input  wire                                    s_axis_rx_tuser,

  output logic                                   wire_active_o,  // the ingest can move without a beat
  output logic                                   wire_tick_o,    // the ingest hands a tick to the pipeline
  output logic [ht_pkg::HT_PIPE_TICK_BITS-1:0]   wire_tick_data_o  // ... this one
);
  logic        w_valid, pipe_tvalid, pipe_tready;
  logic [7:0]  w_und;
  logic [63:0] w_seq, w_price;
  logic [ht_pkg::HT_PIPE_TICK_BITS-1:0] pipe_tdata;
  logic        w_busy;
  logic        aw_wire, ar_wire, wr_fire, rd_fire;
  logic [31:0] w_rdata, pipe_rdata;
  logic        sel_d, sel_q;
  logic [31:0] wire_rdata_d, wire_rdata_q;

  // Addresses 0x1800 .. 0x1FFF are the ingest's.
  assign aw_wire = s_axil_awaddr[12:11] == 2'b11;
  assign ar_wire = s_axil_araddr[12:11] == 2'b11;
  assign wr_fire = s_axil_awvalid && s_axil_wvalid && s_axil_awready;
  assign rd_fire = s_axil_arvalid && s_axil_arready;

  ht_wire u_wire (
    .clk, .rst_ni,
    .s_axis_rx_tvalid, .s_axis_rx_tdata, .s_axis_rx_tkeep, .s_axis_rx_tlast, .s_axis_rx_tuser,
    .reg_we_i(wr_fire && aw_wire), .reg_waddr_i(s_axil_awaddr), .reg_wdata_i(s_axil_wdata),
    .reg_raddr_i(s_axil_araddr), .reg_rdata_o(w_rdata),
    .tick_valid_o(w_valid), .tick_und_o(w_und), .tick_seq_o(w_seq), .tick_price_o(w_price),
    .busy_o(w_busy), .active_o(wire_active_o)
  );

  assign pipe_tvalid = w_valid || s_axis_tick_tvalid;
  assign pipe_tdata = w_valid ? ht_pkg::pack_tick(w_und, w_seq, w_price) : s_axis_tick_tdata;
  assign s_axis_tick_tready = pipe_tready && !w_valid;
  assign wire_tick_o = w_valid;
  assign wire_tick_data_o = ht_pkg::pack_tick(w_und, w_seq, w_price);

  ht_pipe_top #(.TABLE_DEPTH(TABLE_DEPTH), .TABLE_ADDR_BITS(TABLE_ADDR_BITS)) u_pipe (
    .clk, .rst_ni,
    .s_axis_tick_tvalid(pipe_tvalid), .s_axis_tick_tready(pipe_tready), .s_axis_tick_tdata(pipe_tdata),
    .m_axis_event_tvalid, .m_axis_event_tready, .m_axis_event_tdata,
    .s_axil_awvalid, .s_axil_awready, .s_axil_awaddr, .s_axil_wvalid, .s_axil_wready, .s_axil_wdata,
    .s_axil_wstrb, .s_axil_bvalid, .s_axil_bready, .s_axil_bresp,
    .s_axil_arvalid, .s_axil_arready, .s_axil_araddr, .s_axil_rvalid, .s_axil_rready,
    .s_axil_rdata(pipe_rdata), .s_axil_rresp,
    .tbl_we_i, .tbl_addr_i, .tbl_data_i,
    .busy_o
  );

  // A read of the ingest's registers: its value in the accepting cycle, like the pipeline's.
  always_comb begin
    sel_d = sel_q;
    wire_rdata_d = wire_rdata_q;
    if (rd_fire) begin
      sel_d = ar_wire;
      wire_rdata_d = w_rdata;
    end
  end
  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      sel_q <= 1'b0;
      wire_rdata_q <= '0;
    end else begin
      sel_q <= sel_d;
      wire_rdata_q <= wire_rdata_d;
    end
  end
  assign s_axil_rdata = sel_q ? wire_rdata_q : pipe_rdata;

  logic unused_busy;
  assign unused_busy = w_busy;
endmodule

`resetall

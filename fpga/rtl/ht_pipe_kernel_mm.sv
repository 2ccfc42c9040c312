// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_pipe_kernel_mm: the Vitis kernel ht_pipe_kernel without stream ports, for platforms where no other kernel feeds it
// (Alveo U55C): ticks and events go through the register windows only.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_pipe_kernel_mm #(
  parameter int TABLE_DEPTH = ht_pkg::HT_PIPE_TABLE_DEPTH,
  parameter int TABLE_ADDR_BITS = ht_pkg::HT_PIPE_TABLE_ADDR_BITS
) (
  input  wire          ap_clk,
  input  wire          ap_rst_n,
  input  wire          s_axi_control_awvalid,
  output logic         s_axi_control_awready,
  input  wire [13:0]   s_axi_control_awaddr,
  input  wire          s_axi_control_wvalid,
  output logic         s_axi_control_wready,
  input  wire [31:0]   s_axi_control_wdata,
  input  wire [3:0]    s_axi_control_wstrb,
  output logic         s_axi_control_bvalid,
  input  wire          s_axi_control_bready,
  output logic [1:0]   s_axi_control_bresp,
  input  wire          s_axi_control_arvalid,
  output logic         s_axi_control_arready,
  input  wire [13:0]   s_axi_control_araddr,
  output logic         s_axi_control_rvalid,
  input  wire          s_axi_control_rready,
  output logic [31:0]  s_axi_control_rdata,
  output logic [1:0]   s_axi_control_rresp,
  output logic         m_axi_gmem_awvalid,
  input  wire          m_axi_gmem_awready,
  output logic [63:0]  m_axi_gmem_awaddr,
  output logic [7:0]   m_axi_gmem_awlen,
  output logic [2:0]   m_axi_gmem_awsize,
  output logic [1:0]   m_axi_gmem_awburst,
  output logic         m_axi_gmem_wvalid,
  input  wire          m_axi_gmem_wready,
  output logic [511:0] m_axi_gmem_wdata,
  output logic [63:0]  m_axi_gmem_wstrb,
  output logic         m_axi_gmem_wlast,
  input  wire          m_axi_gmem_bvalid,
  output logic         m_axi_gmem_bready,
  input  wire [1:0]    m_axi_gmem_bresp,
  output logic         m_axi_gmem_arvalid,
  input  wire          m_axi_gmem_arready,
  output logic [63:0]  m_axi_gmem_araddr,
  output logic [7:0]   m_axi_gmem_arlen,
  output logic [2:0]   m_axi_gmem_arsize,
  output logic [1:0]   m_axi_gmem_arburst,
  input  wire          m_axi_gmem_rvalid,
  output logic         m_axi_gmem_rready,
  input  wire [511:0]  m_axi_gmem_rdata,
  input  wire [1:0]    m_axi_gmem_rresp,
  input  wire          m_axi_gmem_rlast
);
  logic unused_stream_ready, unused_event_valid;
  logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0] unused_event_data;

  ht_pipe_kernel #(.TABLE_DEPTH(TABLE_DEPTH), .TABLE_ADDR_BITS(TABLE_ADDR_BITS)) u_kernel (
    .ap_clk, .ap_rst_n,
    .s_axi_control_awvalid, .s_axi_control_awready, .s_axi_control_awaddr, .s_axi_control_wvalid,
    .s_axi_control_wready, .s_axi_control_wdata, .s_axi_control_wstrb, .s_axi_control_bvalid,
    .s_axi_control_bready, .s_axi_control_bresp, .s_axi_control_arvalid, .s_axi_control_arready,
    .s_axi_control_araddr, .s_axi_control_rvalid, .s_axi_control_rready, .s_axi_control_rdata,
    .s_axi_control_rresp,
    .m_axi_gmem_awvalid, .m_axi_gmem_awready, .m_axi_gmem_awaddr, .m_axi_gmem_awlen, .m_axi_gmem_awsize,
    .m_axi_gmem_awburst, .m_axi_gmem_wvalid, .m_axi_gmem_wready, .m_axi_gmem_wdata, .m_axi_gmem_wstrb,
    .m_axi_gmem_wlast, .m_axi_gmem_bvalid, .m_axi_gmem_bready, .m_axi_gmem_bresp, .m_axi_gmem_arvalid,
    .m_axi_gmem_arready, .m_axi_gmem_araddr, .m_axi_gmem_arlen, .m_axi_gmem_arsize, .m_axi_gmem_arburst,
    .m_axi_gmem_rvalid, .m_axi_gmem_rready, .m_axi_gmem_rdata, .m_axi_gmem_rresp, .m_axi_gmem_rlast,
    .s_axis_tick_tvalid(1'b0), .s_axis_tick_tready(unused_stream_ready),
    .s_axis_tick_tdata({ht_pkg::HT_PIPE_TICK_BITS{1'b0}}),
    .m_axis_event_tvalid(unused_event_valid), .m_axis_event_tready(1'b0), .m_axis_event_tdata(unused_event_data)
  );
endmodule

`resetall

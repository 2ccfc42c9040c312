// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_pipe_kernel_mm: the Vitis kernel ht_pipe_kernel without stream ports, for platforms where no other kernel feeds it
// (Alveo U55C): ticks and events go through the register windows only. Its ports are ht_pipe_kernel's shared
// ones (ht_pipe_kernel_ports.svh), connected by name.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_pipe_kernel_mm #(
  // Table entries (HT_PIPE_TABLE_DEPTH on a card)
  parameter int TABLE_DEPTH = ht_pkg::HT_PIPE_TABLE_DEPTH,
  // log2(TABLE_DEPTH)
  parameter int TABLE_ADDR_BITS = ht_pkg::HT_PIPE_TABLE_ADDR_BITS
) (
  // ---- ap_clk, ap_rst_n, s_axi_control (AXI4-Lite), m_axi_gmem (AXI4, reads only: the table buffer) ----
`include "ht_pipe_kernel_ports.svh"
);
  logic unused_stream_ready, unused_event_valid;
  logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0] unused_event_data;

  // The shared ports by name (.*); the streams tied off: no tick in, events never taken from the stream.
  ht_pipe_kernel #(.TABLE_DEPTH(TABLE_DEPTH), .TABLE_ADDR_BITS(TABLE_ADDR_BITS)) u_kernel (
    .*,
    .s_axis_tick_tvalid(1'b0), .s_axis_tick_tready(unused_stream_ready),
    .s_axis_tick_tdata({ht_pkg::HT_PIPE_TICK_BITS{1'b0}}),
    .m_axis_event_tvalid(unused_event_valid), .m_axis_event_tready(1'b0), .m_axis_event_tdata(unused_event_data)
  );
endmodule

`resetall

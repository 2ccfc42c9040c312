// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_pipe_kernel_ports.svh: the ports the two Vitis kernels share (ht_pipe_kernel, ht_pipe_kernel_mm), included
// inside their port lists so that the two cannot drift: ap_clk, ap_rst_n, s_axi_control, m_axi_gmem, the MAC's
// stream (s_axis_rx, into the wire ingest) and m_axi_ring (the event ring's writes into host memory). The
// names are the kernels' interface (fpga/vitis/*.xml, package_xo.tcl, XRT): do not rename. No trailing comma:
// a kernel with more ports adds one after the `include. Found by Verilator through -I fpga/rtl, by yosys and
// Vivado next to the including file.

  input  wire          ap_clk,
  input  wire          ap_rst_n,

  // ---- s_axi_control (AXI4-Lite) ----
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

  // ---- m_axi_gmem (AXI4, reads only: the table buffer) ----
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
  input  wire          m_axi_gmem_rlast,

  // ---- s_axis_rx: Ethernet frames from a MAC (a network kernel), 64 bits, no TREADY ----
  input  wire          s_axis_rx_tvalid,
  input  wire [63:0]   s_axis_rx_tdata,
  input  wire [7:0]    s_axis_rx_tkeep,
  input  wire          s_axis_rx_tlast,
  input  wire [0:0]    s_axis_rx_tuser,

  // ---- m_axi_ring (AXI4, writes only: event records into the ring buffer in host memory) ----
  output logic         m_axi_ring_awvalid,
  input  wire          m_axi_ring_awready,
  output logic [63:0]  m_axi_ring_awaddr,
  output logic [7:0]   m_axi_ring_awlen,
  output logic [2:0]   m_axi_ring_awsize,
  output logic [1:0]   m_axi_ring_awburst,
  output logic         m_axi_ring_wvalid,
  input  wire          m_axi_ring_wready,
  output logic [511:0] m_axi_ring_wdata,
  output logic [63:0]  m_axi_ring_wstrb,
  output logic         m_axi_ring_wlast,
  input  wire          m_axi_ring_bvalid,
  output logic         m_axi_ring_bready,
  input  wire [1:0]    m_axi_ring_bresp

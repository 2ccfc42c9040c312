// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_pipe_top_ports.svh: the ports of the pipeline (ht_pipe_top) that ht_wire_top shares with it, included inside
// both port lists so that the two cannot drift: clock, reset, the tick and event streams, AXI4-Lite, the table
// port and busy_o. No trailing comma: a module with more ports adds one after the `include. Uses the module's
// TABLE_ADDR_BITS parameter. Found by Verilator through -I fpga/rtl, by yosys next to the including file.

  input  wire                                    clk,
  input  wire                                    rst_ni,

  // ---- AXI4-Stream: ticks in ----
  input  wire                                    s_axis_tick_tvalid,
  output logic                                   s_axis_tick_tready,
  input  wire [ht_pkg::HT_PIPE_TICK_BITS-1:0]    s_axis_tick_tdata,

  // ---- AXI4-Stream: events out ----
  output logic                                   m_axis_event_tvalid,
  input  wire                                    m_axis_event_tready,
  output logic [ht_pkg::HT_PIPE_EVENT_BITS-1:0]  m_axis_event_tdata,

  // ---- AXI4-Lite: registers ----
  input  wire                                    s_axil_awvalid,
  output logic                                   s_axil_awready,
  input  wire [12:0]                             s_axil_awaddr,
  input  wire                                    s_axil_wvalid,
  output logic                                   s_axil_wready,
  input  wire [31:0]                             s_axil_wdata,
  input  wire [3:0]                              s_axil_wstrb,
  output logic                                   s_axil_bvalid,
  input  wire                                    s_axil_bready,
  output logic [1:0]                             s_axil_bresp,
  input  wire                                    s_axil_arvalid,
  output logic                                   s_axil_arready,
  input  wire [12:0]                             s_axil_araddr,
  output logic                                   s_axil_rvalid,
  input  wire                                    s_axil_rready,
  output logic [31:0]                            s_axil_rdata,
  output logic [1:0]                             s_axil_rresp,

  // ---- Greek table write port (one entry per cycle; ignored while a fold runs) ----
  input  wire                                    tbl_we_i,
  input  wire [TABLE_ADDR_BITS-1:0]              tbl_addr_i,
  input  wire [ht_pkg::ENTRY_PORT_BITS-1:0]      tbl_data_i,

  // ---- Status ----
  output logic                                   busy_o          // a fold is running

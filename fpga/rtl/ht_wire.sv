// SPDX-License-Identifier: MIT
// Language: SystemVerilog 2012
// ht_wire: Deribit's multicast, straight from the Ethernet MAC's AXI4-Stream, into ticks of the pipeline.
// The contract (stream, parse order, drop reasons, registers) is include/hedgetrig/wire_regs.h; the C model
// drivers/fpga/wire_model.c follows this file block for block and is bit- and cycle-exact with it.
//
//   s_axis_rx ──► rx: frame buffer (two frames, 4 banks) ──► walk: one item per cycle ──► tick FIFO ──► tick_o
//   (1 beat/cycle,    byte count, TUSER/TKEEP errors,      ETH, VLAN, IP, UDP, frame,    commit on a
//    never stalled)   IPv4 header sum as the beats pass     SBE message/group/var/1008   passed frame
//
// Every register's next value comes from one always_comb block (NAME_d) from the registers' current values
// (NAME_q), so that one clock edge of this module is one call of ht_wire_model_cycle. The beat of a cycle is
// written into the frame buffer at the edge; the walk reads it from the next cycle on. A frame's last beat in
// cycle T is decided in T + 1 (when the walk has kept up) and its first tick leaves in T + 2.
// Reset: synchronous, active low; the frame buffer (a memory) is not reset.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module ht_wire (
  input  wire           clk,
  input  wire           rst_ni,

  // ---- AXI4-Stream from the MAC (no TREADY: a beat every cycle TVALID is high) ----
  input  wire           s_axis_rx_tvalid,
  input  wire [63:0]    s_axis_rx_tdata,
  input  wire [7:0]     s_axis_rx_tkeep,
  input  wire           s_axis_rx_tlast,
  input  wire           s_axis_rx_tuser,

  // ---- Registers (decoded by the top: one write or read per cycle, read data combinational) ----
  input  wire           reg_we_i,
  input  wire [12:0]    reg_waddr_i,
  input  wire [31:0]    reg_wdata_i,
  input  wire [12:0]    reg_raddr_i,
  output logic [31:0]   reg_rdata_o,

  // ---- Ticks to the pipeline (it accepts one every cycle) ----
  output logic          tick_valid_o,
  output logic [7:0]    tick_und_o,
  output logic [63:0]   tick_seq_o,
  output logic [63:0]   tick_price_o,

  output logic          busy_o,         // BUSY: a frame inside or a tick waiting
  output logic          active_o        // the ingest can move without a beat (the walk has bytes to read, a
                                        // frame to decide or a tick to send): the simulators run it to rest
);
  localparam int NC = ht_pkg::HT_PIPE_WIRE_CHANNELS;
  localparam int NF = ht_pkg::HT_PIPE_WIRE_FILTERS;
  localparam int NU = ht_pkg::HT_PIPE_UNDERLYINGS;
  localparam int NCNT = ht_pkg::HT_PIPE_WIRE_COUNTERS;
  localparam int FMAX = ht_pkg::HT_PIPE_WIRE_FRAME_MAX;
  localparam int CNT_MSG = ht_pkg::HT_PIPE_WIRE_CNT_MESSAGES;   // first per-frame message counter
  localparam int NFC = NCNT - CNT_MSG;                          // per-frame message counters

  // Walk items (wire_model.h).
  localparam logic [3:0] I_ETH = 4'd0, I_VLAN = 4'd1, I_IP = 4'd2, I_UDP = 4'd3, I_FRAME = 4'd4, I_MSG = 4'd5,
                         I_INDEX = 4'd6, I_GROUP = 4'd7, I_VAR = 4'd8, I_DONE = 4'd9;

  initial begin
    if (FMAX != 2048) $error("%m: the frame buffer is 2 x 256 words of 64 bits");
    if (ht_pkg::HT_PIPE_WIRE_TICK_FIFO != 32) $error("%m: the tick FIFO pointers are 6 bits");
  end

  function automatic logic [31:0] be16(input logic [7:0] b0, input logic [7:0] b1);
    be16 = {16'd0, b0, b1};
  endfunction

  // ---- Registers ------------------------------------------------------------------------------------------
  logic               enable_d, enable_q;
  logic [NC-1:0]      chan_enable_d, chan_enable_q, chan_synced_d, chan_synced_q, chan_stale_d, chan_stale_q;
  logic [NC*16-1:0]   chan_id_d, chan_id_q;
  logic [NC*32-1:0]   chan_next_d, chan_next_q;
  logic [NF*32-1:0]   filter_addr_d, filter_addr_q;
  logic [NF*16-1:0]   filter_port_d, filter_port_q;
  logic [NU-1:0]      name_enable_d, name_enable_q;
  logic [NU*128-1:0]  name_d, name_q;
  logic [NCNT*32-1:0] cnt_d, cnt_q;

  // rx, per half of the frame buffer
  logic [1:0]         rx_started_d, rx_started_q, rx_ended_d, rx_ended_q, rx_mac_d, rx_mac_q;
  logic [1:0]         rx_en_d, rx_en_q, rx_vlan_d, rx_vlan_q;
  logic [2*16-1:0]    rx_len_d, rx_len_q;
  logic [2*4-1:0]     rx_ihl_d, rx_ihl_q;
  logic [2*32-1:0]    rx_csum_d, rx_csum_q;
  logic               rx_half_d, rx_half_q, in_frame_d, in_frame_q;

  // walk
  logic               walk_half_d, walk_half_q;
  logic [3:0]         item_d, item_q;
  logic [31:0]        cur_d, cur_q;
  logic [4:0]         reason_d, reason_q;
  logic               gap_d, gap_q;
  logic [31:0]        ip_d, ip_q, ip_dst_d, ip_dst_q, pkt_end_d, pkt_end_q, seq_d, seq_q, msg_body_d, msg_body_q;
  logic [3:0]         ihl_d, ihl_q;
  logic [15:0]        ip_total_d, ip_total_q, ip_frag_d, ip_frag_q, udp_len_d, udp_len_q, channel_d, channel_q;
  logic [7:0]         ip_proto_d, ip_proto_q;
  logic [1:0]         chan_slot_d, chan_slot_q;
  logic [15:0]        msg_block_d, msg_block_q, groups_left_d, groups_left_q, vars_left_d, vars_left_q;
  logic [NFC*16-1:0]  fcnt_d, fcnt_q;

  // ticks
  logic [5:0]         rd_d, rd_q, commit_d, commit_q, wr_d, wr_q;

  // ---- Memories: the frame buffer (4 banks of 2 x 64 words) and the tick FIFO --------------------------------
  logic [63:0]  bank0 [0:127];
  logic [63:0]  bank1 [0:127];
  logic [63:0]  bank2 [0:127];
  logic [63:0]  bank3 [0:127];
  logic [115:0] fifo [0:31];     // [3:0] underlying, [19:4] channel, [51:20] sequence, [115:52] price

  logic         fifo_we;
  logic [115:0] fifo_wdata, fifo_rdata;

  // ---- rx: where the beat goes -------------------------------------------------------------------------
  logic        beat, new_frame, rxh;
  logic [15:0] off;
  logic [3:0]  keep_run;
  logic        keep_ok;
  logic        buf_we;
  logic [6:0]  buf_row;
  logic [1:0]  buf_bank;

  assign beat = s_axis_rx_tvalid;
  assign new_frame = beat && !in_frame_q;
  assign rxh = new_frame ? !rx_half_q : rx_half_q;
  assign off = new_frame ? 16'd0 : rx_len_q[rxh*16 +: 16];

  always_comb begin
    keep_run = 4'd8;
    for (int i = 7; i >= 0; i--) if (!s_axis_rx_tkeep[i]) keep_run = 4'(i);
  end
  assign keep_ok = ((s_axis_rx_tkeep >> keep_run) == 8'd0) && (s_axis_rx_tlast || keep_run == 4'd8);
  assign buf_we = beat && (off < 16'(FMAX));
  assign buf_bank = off[4:3];
  assign buf_row = {rxh, off[10:5]};

  always_ff @(posedge clk) begin
    if (buf_we) begin
      unique case (buf_bank)
        2'd0: bank0[buf_row] <= s_axis_rx_tdata;
        2'd1: bank1[buf_row] <= s_axis_rx_tdata;
        2'd2: bank2[buf_row] <= s_axis_rx_tdata;
        default: bank3[buf_row] <= s_axis_rx_tdata;
      endcase
    end
  end

  // The IPv4 header's 16-bit words of this beat (big endian), and which of them are in the header.
  logic [7:0]  bt [0:7];
  logic        vlan_now;
  logic [3:0]  ihl_now;
  logic [31:0] ip_now, beat_sum;

  always_comb begin
    for (int i = 0; i < 8; i++) bt[i] = s_axis_rx_tdata[8*i +: 8];
    vlan_now = new_frame ? 1'b0 : rx_vlan_q[rxh];
    ihl_now  = new_frame ? 4'd0 : rx_ihl_q[rxh*4 +: 4];
    if (off == 16'd8) begin
      vlan_now = be16(bt[4], bt[5]) == 32'h8100;
      if (!vlan_now) ihl_now = bt[6][3:0];
    end else if (off == 16'd16 && vlan_now) begin
      ihl_now = bt[2][3:0];
    end
    ip_now = vlan_now ? 32'd18 : 32'd14;
    beat_sum = '0;
    for (int j = 0; j < 4; j++) begin
      if (32'(off) + 32'(2 * j) >= ip_now && 32'(off) + 32'(2 * j) < ip_now + {26'd0, ihl_now, 2'b00})
        beat_sum = beat_sum + be16(bt[2*j], bt[2*j+1]);
    end
  end

  // ---- walk: the item's bytes -----------------------------------------------------------------------------
  logic        wh;
  logic [15:0] wlen;
  logic [31:0] avail;
  logic [4:0]  ilen;
  logic        fits;
  logic [28:0] w0;
  logic [63:0] bank_word [0:3];
  logic [255:0] win;
  logic [191:0] it;
  logic [7:0]  ib [0:23];

  assign wh = walk_half_q;
  assign wlen = rx_len_q[wh*16 +: 16];
  assign avail = (wlen < 16'(FMAX)) ? {16'd0, wlen} : 32'(FMAX);

  always_comb begin
    unique case (item_q)
      I_ETH:   ilen = 5'd14;
      I_VLAN:  ilen = 5'd4;
      I_IP:    ilen = 5'd20;
      I_UDP, I_FRAME, I_GROUP: ilen = 5'd8;
      I_MSG:   ilen = 5'd12;
      I_INDEX: ilen = 5'd24;
      I_VAR:   ilen = 5'd1;
      default: ilen = 5'd0;
    endcase
  end
  assign fits = (item_q != I_DONE) && ({1'b0, cur_q} + 33'(ilen) <= {1'b0, avail});

  // Words w0 .. w0+3 of the walk's half: one from each bank.
  logic [28:0] wb [0:3];
  logic [1:0]  boff [0:3];
  logic [6:0]  brow [0:3];
  assign w0 = cur_q[31:3];
  always_comb begin
    for (int b = 0; b < 4; b++) begin
      boff[b] = 2'(b) - w0[1:0];
      wb[b] = w0 + {27'd0, boff[b]};
      brow[b] = {wh, wb[b][7:2]};
    end
    bank_word[0] = bank0[brow[0]];
    bank_word[1] = bank1[brow[1]];
    bank_word[2] = bank2[brow[2]];
    bank_word[3] = bank3[brow[3]];
    for (int i = 0; i < 4; i++) win[64*i +: 64] = bank_word[2'(w0[1:0] + 2'(i))];
    it = 192'(win >> {cur_q[2:0], 3'b000});
    for (int i = 0; i < 24; i++) ib[i] = it[8*i +: 8];
  end

  function automatic logic [31:0] le16(input logic [7:0] b0, input logic [7:0] b1);
    le16 = {16'd0, b1, b0};
  endfunction

  // ---- Name and channel lookups, the price --------------------------------------------------------------------
  logic [4:0]  name_hit;      // 16: none
  logic [2:0]  chan_hit;      // 4: none
  logic        filter_pass;
  logic [63:0] price_bits, price_fx;
  logic        price_ok;

  always_comb begin
    name_hit = 5'd16;
    for (int u = NU - 1; u >= 0; u--)
      if (name_enable_q[u] && name_q[u*128 +: 128] == it[127:0]) name_hit = 5'(u);
    chan_hit = 3'd4;
    for (int k = NC - 1; k >= 0; k--)
      if (chan_enable_q[k] && chan_id_q[k*16 +: 16] == it[31:16]) chan_hit = 3'(k);
    filter_pass = 1'b0;
    for (int i = 0; i < NF; i++)
      if (filter_port_q[i*16 +: 16] != 16'd0 && filter_port_q[i*16 +: 16] == {ib[2], ib[3]} &&
          filter_addr_q[i*32 +: 32] == ip_dst_q)
        filter_pass = 1'b1;
  end

  // IEEE-754 binary64 in (0, 2^31) to the price format, rounded to nearest with ties up (ht_fx_from_double).
  logic [10:0] p_exp;
  logic [52:0] p_m;
  logic [11:0] p_e;
  logic [63:0] rnd;
  logic [5:0]  s;
  always_comb begin
    price_bits = it[191:128];
    p_exp = price_bits[62:52];
    price_ok = !price_bits[63] && (p_exp < 11'd1054) && (price_bits[62:0] != 63'd0);
    p_m = {p_exp != 11'd0, price_bits[51:0]};
    p_e = (p_exp != 11'd0) ? {1'b0, p_exp} : 12'd1;
    price_fx = '0;
    s = '0;
    rnd = '0;
    if (p_e >= 12'd1043) begin
      price_fx = {11'd0, p_m} << (p_e - 12'd1043);
    end else if (p_e > 12'd979) begin       // 1 <= 1043 - e <= 63
      s = 6'(12'd1043 - p_e);
      rnd = 64'd1 << (s - 6'd1);
      price_fx = ({11'd0, p_m} + rnd) >> s;
    end
  end

  // ---- The next state ------------------------------------------------------------------------------------------
  logic [31:0] csum_fold;
  logic        overrun, deciding, can_end;
  logic [4:0]  decide_reason;
  logic [31:0] hdr_bytes, frame_seq;
  logic [33:0] at;             // where the walk goes next (go_msg / go_after)
  logic        go, go_after_i;
  logic [15:0] groups_next;

  // go_msg / go_after of the C model, as a function of `at` and the walk's counters.
  function automatic logic [35:0] next_item(input logic [33:0] a, input logic [31:0] pend, input logic after,
                                            input logic [15:0] gl, input logic [15:0] vl);
    // result: [35:32] item, [31:0] cur; item I_DONE with cur 1 means "stop: SBE"
    next_item = {I_DONE, 32'd0};
    if (after && gl != 16'd0) begin
      if (a + 34'd8 > {2'b0, pend}) next_item = {I_DONE, 32'd1};
      else next_item = {I_GROUP, a[31:0]};
    end else if (after && vl != 16'd0) begin
      if (a + 34'd1 > {2'b0, pend}) next_item = {I_DONE, 32'd1};
      else next_item = {I_VAR, a[31:0]};
    end else if (a == {2'b0, pend}) begin
      next_item = {I_DONE, 32'd0};
    end else if (a + 34'd12 > {2'b0, pend}) begin
      next_item = {I_DONE, 32'd1};
    end else begin
      next_item = {I_MSG, a[31:0]};
    end
  endfunction

  logic [35:0] nx;
  logic [4:0]  stop;        // a reason found by this item (0: none)
  logic [31:0] d;
  logic        schema;
  logic [15:0] tid;
  logic [33:0] gend;

  always_comb begin
    // defaults: every register keeps its value
    enable_d = enable_q; chan_enable_d = chan_enable_q; chan_synced_d = chan_synced_q; chan_stale_d = chan_stale_q;
    chan_id_d = chan_id_q; chan_next_d = chan_next_q; filter_addr_d = filter_addr_q; filter_port_d = filter_port_q;
    name_enable_d = name_enable_q; name_d = name_q; cnt_d = cnt_q;
    rx_started_d = rx_started_q; rx_ended_d = rx_ended_q; rx_mac_d = rx_mac_q; rx_en_d = rx_en_q;
    rx_vlan_d = rx_vlan_q; rx_len_d = rx_len_q; rx_ihl_d = rx_ihl_q; rx_csum_d = rx_csum_q;
    rx_half_d = rx_half_q; in_frame_d = in_frame_q;
    walk_half_d = walk_half_q; item_d = item_q; cur_d = cur_q; reason_d = reason_q; gap_d = gap_q;
    ip_d = ip_q; ip_dst_d = ip_dst_q; pkt_end_d = pkt_end_q; seq_d = seq_q; msg_body_d = msg_body_q;
    ihl_d = ihl_q; ip_total_d = ip_total_q; ip_frag_d = ip_frag_q; udp_len_d = udp_len_q; channel_d = channel_q;
    ip_proto_d = ip_proto_q; chan_slot_d = chan_slot_q; msg_block_d = msg_block_q;
    groups_left_d = groups_left_q; vars_left_d = vars_left_q; fcnt_d = fcnt_q;
    rd_d = rd_q; commit_d = commit_q; wr_d = wr_q;
    fifo_we = 1'b0; fifo_wdata = '0;
    nx = '0; stop = '0; d = '0; schema = 1'b0; tid = '0; gend = '0;
    at = '0; go = 1'b0; go_after_i = 1'b0; groups_next = groups_left_q;
    hdr_bytes = {26'd0, ihl_q, 2'b00};
    frame_seq = {ib[7], ib[6], ib[5], ib[4]};
    csum_fold = '0;
    decide_reason = '0;

    // -- release: one committed tick per cycle
    if (rd_q != commit_q) begin
      rd_d = rd_q + 6'd1;
      cnt_d[ht_pkg::HT_PIPE_WIRE_CNT_TICKS*32 +: 32] = cnt_q[ht_pkg::HT_PIPE_WIRE_CNT_TICKS*32 +: 32] + 32'd1;
    end

    // -- walk: the item, or the frame's fate
    overrun = new_frame && rx_started_q[!rx_half_q];
    can_end = rx_started_q[wh] && rx_ended_q[wh] && !fits;
    deciding = overrun || can_end;
    if (overrun) begin
      decide_reason = 5'(ht_pkg::HT_PIPE_WIRE_CNT_OVERRUN);
    end else if (can_end) begin
      if (!rx_en_q[wh]) decide_reason = 5'(ht_pkg::HT_PIPE_WIRE_CNT_DISABLED);
      else if (rx_mac_q[wh]) decide_reason = 5'(ht_pkg::HT_PIPE_WIRE_CNT_MAC_ERROR);
      else if (wlen > 16'(FMAX)) decide_reason = 5'(ht_pkg::HT_PIPE_WIRE_CNT_TOO_LONG);
      else if (item_q != I_DONE) decide_reason = 5'(ht_pkg::HT_PIPE_WIRE_CNT_SHORT);
      else if (reason_q != 5'd0) decide_reason = reason_q;
      else if (ip_q + {16'd0, ip_total_q} > {16'd0, wlen}) decide_reason = 5'(ht_pkg::HT_PIPE_WIRE_CNT_SHORT);
      else decide_reason = 5'd0;
    end else if (rx_started_q[wh] && fits) begin
      unique case (item_q)
        I_ETH, I_VLAN: begin
          d = (item_q == I_ETH) ? be16(ib[12], ib[13]) : be16(ib[2], ib[3]);
          if (item_q == I_ETH && d == 32'h8100) begin
            item_d = I_VLAN; cur_d = cur_q + 32'd14;
          end else if (d == 32'h0800) begin
            item_d = I_IP; cur_d = cur_q + ((item_q == I_ETH) ? 32'd14 : 32'd4); ip_d = cur_d;
          end else stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_NOT_IPV4);
        end
        I_IP: begin
          if (ib[0][7:4] != 4'd4 || ib[0][3:0] < 4'd5) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_IP_HEADER);
          else begin
            ihl_d = ib[0][3:0];
            ip_total_d = {ib[2], ib[3]};
            ip_frag_d = {ib[6], ib[7]};
            ip_proto_d = ib[9];
            ip_dst_d = {ib[16], ib[17], ib[18], ib[19]};
            item_d = I_UDP;
            cur_d = cur_q + {26'd0, ib[0][3:0], 2'b00};
          end
        end
        I_UDP: begin
          csum_fold = {16'd0, rx_csum_q[wh*32 +: 16]} + {16'd0, rx_csum_q[wh*32+16 +: 16]};
          csum_fold = {16'd0, csum_fold[15:0]} + {16'd0, csum_fold[31:16]};
          udp_len_d = {ib[4], ib[5]};
          if (csum_fold != 32'hFFFF) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_IP_CHECKSUM);
          else if (ip_frag_q[13:0] != 14'd0) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_FRAGMENT);
          else if (ip_proto_q != 8'd17) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_NOT_UDP);
          else if (!filter_pass) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_FILTER);
          else if ({16'd0, ip_total_q} < hdr_bytes + 32'd8 || udp_len_d < 16'd16 ||
                   {16'd0, udp_len_d} > {16'd0, ip_total_q} - hdr_bytes)
            stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_LENGTH);
          else begin
            item_d = I_FRAME; cur_d = cur_q + 32'd8;
          end
        end
        I_FRAME: begin
          channel_d = {ib[3], ib[2]};
          seq_d = frame_seq;
          pkt_end_d = cur_q + 32'd8 + le16(ib[0], ib[1]);
          d = frame_seq - chan_next_q[chan_hit[1:0]*32 +: 32];
          chan_slot_d = chan_hit[1:0];
          if (32'd8 + le16(ib[0], ib[1]) > {16'd0, udp_len_q} - 32'd8) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_LENGTH);
          else if (chan_hit == 3'd4) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_CHANNEL);
          else if (chan_stale_q[chan_hit[1:0]]) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_STALE);
          else if (chan_synced_q[chan_hit[1:0]] && d != 32'd0) begin
            stop = (frame_seq == 32'd0 || !d[31]) ? 5'(ht_pkg::HT_PIPE_WIRE_CNT_STALE)
                                                  : 5'(ht_pkg::HT_PIPE_WIRE_CNT_OLD_SEQ);
            gap_d = frame_seq == 32'd0 || !d[31];
          end else begin
            go = 1'b1; at = {2'b0, cur_q} + 34'd8;
          end
        end
        I_MSG: begin
          if ({2'b0, cur_q} + 34'd12 + {18'd0, ib[1], ib[0]} > {2'b0, pkt_end_q})
            stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_SBE);
          else begin
            tid = {ib[3], ib[2]};
            schema = {ib[5], ib[4]} == 16'd1 && {ib[7], ib[6]} >= 16'd1 && {ib[7], ib[6]} <= 16'd3;
            groups_left_d = {ib[9], ib[8]};
            vars_left_d = {ib[11], ib[10]};
            groups_next = groups_left_d;
            fcnt_d[0*16 +: 16] = fcnt_q[0*16 +: 16] + 16'd1;
            if (!schema) fcnt_d[2*16 +: 16] = fcnt_q[2*16 +: 16] + 16'd1;
            else if (tid < 16'd1000 || tid > 16'd1010) fcnt_d[1*16 +: 16] = fcnt_q[1*16 +: 16] + 16'd1;
            if (schema && tid == 16'd1008) begin
              if ({ib[1], ib[0]} < 16'd32) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_SBE);
              else begin
                fcnt_d[3*16 +: 16] = fcnt_q[3*16 +: 16] + 16'd1;
                msg_block_d = {ib[1], ib[0]};
                msg_body_d = cur_q + 32'd12;
                item_d = I_INDEX;
                cur_d = cur_q + 32'd12;
              end
            end else begin
              go = 1'b1; go_after_i = 1'b1; at = {2'b0, cur_q} + 34'd12 + {18'd0, ib[1], ib[0]};
            end
          end
        end
        I_INDEX: begin
          if (name_hit == 5'd16) fcnt_d[4*16 +: 16] = fcnt_q[4*16 +: 16] + 16'd1;
          else if (!price_ok) fcnt_d[5*16 +: 16] = fcnt_q[5*16 +: 16] + 16'd1;
          else if (wr_q - rd_q >= 6'd32) fcnt_d[6*16 +: 16] = fcnt_q[6*16 +: 16] + 16'd1;
          else begin
            fifo_we = 1'b1;
            fifo_wdata = {price_fx, seq_q, channel_q, name_hit[3:0]};
            wr_d = wr_q + 6'd1;
          end
          go = 1'b1; go_after_i = 1'b1; at = {2'b0, msg_body_q} + {18'd0, msg_block_q};
        end
        I_GROUP: begin
          gend = {2'b0, cur_q} + 34'd8 + 34'({ib[1], ib[0]} * {ib[3], ib[2]});
          if ({ib[5], ib[4]} != 16'd0 || {ib[7], ib[6]} != 16'd0 || gend > {2'b0, pkt_end_q})
            stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_SBE);
          else begin
            groups_left_d = groups_left_q - 16'd1;
            groups_next = groups_left_d;
            go = 1'b1; go_after_i = 1'b1; at = gend;
          end
        end
        I_VAR: begin
          if ({2'b0, cur_q} + 34'd1 + {26'd0, ib[0]} > {2'b0, pkt_end_q}) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_SBE);
          else begin
            vars_left_d = vars_left_q - 16'd1;
            go = 1'b1; go_after_i = 1'b1; at = {2'b0, cur_q} + 34'd1 + {26'd0, ib[0]};
          end
        end
        default: ;
      endcase
      if (go) begin
        nx = next_item(at, (item_q == I_FRAME) ? pkt_end_d : pkt_end_q, go_after_i, groups_next, vars_left_d);
        item_d = nx[35:32];
        if (nx[35:32] == I_DONE) begin
          if (nx[0]) stop = 5'(ht_pkg::HT_PIPE_WIRE_CNT_SBE);
        end else cur_d = nx[31:0];
      end
      if (stop != 5'd0) begin
        reason_d = stop;
        item_d = I_DONE;
      end
    end

    if (deciding) begin
      cnt_d[ht_pkg::HT_PIPE_WIRE_CNT_FRAMES*32 +: 32] = cnt_q[ht_pkg::HT_PIPE_WIRE_CNT_FRAMES*32 +: 32] + 32'd1;
      if (decide_reason == 5'd0) begin
        cnt_d[ht_pkg::HT_PIPE_WIRE_CNT_FRAMES_OK*32 +: 32] =
            cnt_q[ht_pkg::HT_PIPE_WIRE_CNT_FRAMES_OK*32 +: 32] + 32'd1;
        for (int c = 0; c < NFC; c++)
          cnt_d[(CNT_MSG + c)*32 +: 32] = cnt_q[(CNT_MSG + c)*32 +: 32] + {16'd0, fcnt_q[c*16 +: 16]};
        commit_d = wr_q;
        chan_synced_d[chan_slot_q] = 1'b1;
        chan_next_d[chan_slot_q*32 +: 32] = seq_q + 32'd1;
      end else begin
        cnt_d[decide_reason*32 +: 32] = cnt_q[decide_reason*32 +: 32] + 32'd1;
        wr_d = commit_q;
        if (decide_reason == 5'(ht_pkg::HT_PIPE_WIRE_CNT_STALE) && gap_q) begin
          chan_stale_d[chan_slot_q] = 1'b1;
          cnt_d[ht_pkg::HT_PIPE_WIRE_CNT_GAPS*32 +: 32] = cnt_q[ht_pkg::HT_PIPE_WIRE_CNT_GAPS*32 +: 32] + 32'd1;
        end
      end
      rx_started_d[wh] = 1'b0;
      rx_ended_d[wh] = 1'b0;
      walk_half_d = !walk_half_q;
      item_d = I_ETH; cur_d = '0; reason_d = '0; gap_d = 1'b0; fcnt_d = '0;
    end

    // -- rx: the beat
    if (beat) begin
      if (new_frame) begin
        rx_half_d = !rx_half_q;
        rx_started_d[rxh] = 1'b1;
        rx_ended_d[rxh] = 1'b0;
        rx_mac_d[rxh] = 1'b0;
        rx_en_d[rxh] = enable_q;
        rx_csum_d[rxh*32 +: 32] = '0;
      end
      rx_vlan_d[rxh] = vlan_now;
      rx_ihl_d[rxh*4 +: 4] = ihl_now;
      rx_csum_d[rxh*32 +: 32] = (new_frame ? 32'd0 : rx_csum_q[rxh*32 +: 32]) + beat_sum;
      rx_len_d[rxh*16 +: 16] = ({1'b0, off} + (s_axis_rx_tlast ? {13'd0, keep_run} : 17'd8) > 17'hFFFF)
                                   ? 16'hFFFF : off + (s_axis_rx_tlast ? {12'd0, keep_run} : 16'd8);
      if (!keep_ok || (s_axis_rx_tlast && s_axis_rx_tuser)) rx_mac_d[rxh] = 1'b1;
      if (s_axis_rx_tlast) rx_ended_d[rxh] = 1'b1;
      in_frame_d = !s_axis_rx_tlast;
    end

    // -- registers
    if (reg_we_i) begin
      unique casez (reg_waddr_i)
        13'(ht_pkg::HT_PIPE_WIRE_REG_CTRL): enable_d = reg_wdata_i[0];
        13'(ht_pkg::HT_PIPE_WIRE_REG_CHAN_REARM): begin
          for (int k = 0; k < NC; k++)
            if (reg_wdata_i[k]) begin
              chan_stale_d[k] = 1'b0; chan_synced_d[k] = 1'b0; chan_next_d[k*32 +: 32] = '0;
            end
        end
        13'(ht_pkg::HT_PIPE_WIRE_REG_CHAN_ENABLE): begin
          chan_enable_d = reg_wdata_i[NC-1:0];
          chan_stale_d = '0; chan_synced_d = '0; chan_next_d = '0;
        end
        13'(ht_pkg::HT_PIPE_WIRE_REG_NAME_ENABLE): name_enable_d = reg_wdata_i[NU-1:0];
        default: begin
          for (int k = 0; k < NC; k++)
            if (reg_waddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_CHAN_ID + 4 * k)) begin
              chan_id_d[k*16 +: 16] = reg_wdata_i[15:0];
              chan_stale_d[k] = 1'b0; chan_synced_d[k] = 1'b0; chan_next_d[k*32 +: 32] = '0;
            end
          for (int i = 0; i < NF; i++) begin
            if (reg_waddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_FILTER + 8 * i)) filter_addr_d[i*32 +: 32] = reg_wdata_i;
            if (reg_waddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_FILTER + 8 * i + 4))
              filter_port_d[i*16 +: 16] = reg_wdata_i[15:0];
          end
          for (int w = 0; w < NU * 4; w++)
            if (reg_waddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_NAME + 4 * w)) name_d[w*32 +: 32] = reg_wdata_i;
        end
      endcase
    end
  end

  // ---- Register reads -------------------------------------------------------------------------------------
  always_comb begin
    reg_rdata_o = '0;
    unique case (reg_raddr_i)
      13'(ht_pkg::HT_PIPE_WIRE_REG_ID):          reg_rdata_o = ht_pkg::HT_PIPE_WIRE_ID_MAGIC;
      13'(ht_pkg::HT_PIPE_WIRE_REG_VERSION):     reg_rdata_o = ht_pkg::HT_PIPE_WIRE_VERSION;
      13'(ht_pkg::HT_PIPE_WIRE_REG_CTRL):        reg_rdata_o = {31'd0, enable_q};
      13'(ht_pkg::HT_PIPE_WIRE_REG_CHAN_ENABLE): reg_rdata_o = 32'(chan_enable_q);
      13'(ht_pkg::HT_PIPE_WIRE_REG_NAME_ENABLE): reg_rdata_o = 32'(name_enable_q);
      13'(ht_pkg::HT_PIPE_WIRE_REG_BUSY):        reg_rdata_o = {31'd0, busy_o};
      13'(ht_pkg::HT_PIPE_WIRE_REG_CHAN_STALE):  reg_rdata_o = 32'(chan_stale_q);
      default: begin
        for (int k = 0; k < NC; k++) begin
          if (reg_raddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_CHAN_ID + 4 * k)) reg_rdata_o = {16'd0, chan_id_q[k*16 +: 16]};
          if (reg_raddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_CHAN_NEXT + 4 * k)) reg_rdata_o = chan_next_q[k*32 +: 32];
        end
        for (int i = 0; i < NF; i++) begin
          if (reg_raddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_FILTER + 8 * i)) reg_rdata_o = filter_addr_q[i*32 +: 32];
          if (reg_raddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_FILTER + 8 * i + 4))
            reg_rdata_o = {16'd0, filter_port_q[i*16 +: 16]};
        end
        for (int w = 0; w < NU * 4; w++)
          if (reg_raddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_NAME + 4 * w)) reg_rdata_o = name_q[w*32 +: 32];
        for (int r = 0; r < NCNT; r++)
          if (reg_raddr_i == 13'(ht_pkg::HT_PIPE_WIRE_REG_COUNTER + 4 * r)) reg_rdata_o = cnt_q[r*32 +: 32];
      end
    endcase
  end

  // ---- Ticks out ----------------------------------------------------------------------------------------------

  always_ff @(posedge clk) if (fifo_we) fifo[wr_q[4:0]] <= fifo_wdata;
  assign fifo_rdata = fifo[rd_q[4:0]];
  assign tick_valid_o = rd_q != commit_q;
  assign tick_und_o = {4'd0, fifo_rdata[3:0]};
  assign tick_seq_o = {16'd0, fifo_rdata[19:4], fifo_rdata[51:20]};
  assign tick_price_o = fifo_rdata[115:52];
  assign busy_o = in_frame_q || (|rx_started_q) || (rd_q != commit_q);
  assign active_o = (rx_started_q[wh] && (fits || rx_ended_q[wh])) || (rd_q != commit_q);

  // ---- The registers' edge ---------------------------------------------------------------------------------
  always_ff @(posedge clk) begin
    if (!rst_ni) begin
      enable_q <= 1'b0; chan_enable_q <= '0; chan_synced_q <= '0; chan_stale_q <= '0; chan_id_q <= '0;
      chan_next_q <= '0; filter_addr_q <= '0; filter_port_q <= '0; name_enable_q <= '0; name_q <= '0;
      cnt_q <= '0;
      rx_started_q <= '0; rx_ended_q <= '0; rx_mac_q <= '0; rx_en_q <= '0; rx_vlan_q <= '0; rx_len_q <= '0;
      rx_ihl_q <= '0; rx_csum_q <= '0; rx_half_q <= 1'b1; in_frame_q <= 1'b0;
      walk_half_q <= 1'b0; item_q <= I_ETH; cur_q <= '0; reason_q <= '0; gap_q <= 1'b0;
      ip_q <= '0; ip_dst_q <= '0; pkt_end_q <= '0; seq_q <= '0; msg_body_q <= '0; ihl_q <= '0;
      ip_total_q <= '0; ip_frag_q <= '0; udp_len_q <= '0; channel_q <= '0; ip_proto_q <= '0; chan_slot_q <= '0;
      msg_block_q <= '0; groups_left_q <= '0; vars_left_q <= '0; fcnt_q <= '0;
      rd_q <= '0; commit_q <= '0; wr_q <= '0;
    end else begin
      enable_q <= enable_d; chan_enable_q <= chan_enable_d; chan_synced_q <= chan_synced_d;
      chan_stale_q <= chan_stale_d; chan_id_q <= chan_id_d; chan_next_q <= chan_next_d;
      filter_addr_q <= filter_addr_d; filter_port_q <= filter_port_d; name_enable_q <= name_enable_d;
      name_q <= name_d; cnt_q <= cnt_d;
      rx_started_q <= rx_started_d; rx_ended_q <= rx_ended_d; rx_mac_q <= rx_mac_d; rx_en_q <= rx_en_d;
      rx_vlan_q <= rx_vlan_d; rx_len_q <= rx_len_d; rx_ihl_q <= rx_ihl_d; rx_csum_q <= rx_csum_d;
      rx_half_q <= rx_half_d; in_frame_q <= in_frame_d;
      walk_half_q <= walk_half_d; item_q <= item_d; cur_q <= cur_d; reason_q <= reason_d; gap_q <= gap_d;
      ip_q <= ip_d; ip_dst_q <= ip_dst_d; pkt_end_q <= pkt_end_d; seq_q <= seq_d; msg_body_q <= msg_body_d;
      ihl_q <= ihl_d; ip_total_q <= ip_total_d; ip_frag_q <= ip_frag_d; udp_len_q <= udp_len_d;
      channel_q <= channel_d; ip_proto_q <= ip_proto_d; chan_slot_q <= chan_slot_d; msg_block_q <= msg_block_d;
      groups_left_q <= groups_left_d; vars_left_q <= vars_left_d; fcnt_q <= fcnt_d;
      rd_q <= rd_d; commit_q <= commit_d; wr_q <= wr_d;
    end
  end
endmodule

`resetall

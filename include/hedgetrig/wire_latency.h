/* SPDX-License-Identifier: MIT */
/* Tick to wire from a capture of the wire (a tap, as STAC-T0 measures): each FIX NewOrderSingle that carries its
 * triggering market-data frame (channel, sequence) is matched to the first capture of that frame, and the gap
 * between the two capture timestamps is the order's tick-to-wire latency. */
#ifndef HEDGETRIG_WIRE_LATENCY_H
#define HEDGETRIG_WIRE_LATENCY_H

/*
 * Life cycle:
 *     ht_wire_config cfg;  ht_wire_config_default(&cfg);        // optionally filters, another trigger tag
 *     ht_wire *w = ht_wire_create(&cfg, &err);
 *     for each captured frame: ht_wire_on_frame(w, linktype, ts_ns, frame_no, bytes, caplen);
 *     ht_wire_report rep;  ht_wire_finish(w, &rep);               // matches orders, computes percentiles
 *     ht_wire_destroy(w);
 * or ht_wire_analyse_file(path, &cfg, &rep, &err) for a pcap/pcapng file.
 *
 * Market data: UDP datagrams (inside the md filter) whose payload starts with a Deribit multicast frame header
 * (packetLength, channelId, sequence; include/hedgetrig/sbe.h). The first capture of each (channel, seq) counts.
 * Orders: each TCP direction's byte stream is put back in order (a retransmitted or duplicated segment is
 * counted and its bytes used once; a segment that arrives ahead of a hole waits for it, and a hole never filled
 * is counted and skipped) and cut into FIX messages (ht_fix_parse). A NewOrderSingle (35=D) is stamped with the
 * capture time of the segment that carried its last byte (the moment the whole order had passed the tap).
 * Its trigger is the value of cfg.trigger_tag: "t<channel>.<seq>" in decimal (leading zeros allowed).
 * This is analysis, not the hot path: it allocates as the capture needs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hedgetrig/common.h"
#include "hedgetrig/nic.h"

/* Deribit's order label (free text, up to 64 characters), which the gateway fills with the trigger. */
#define HT_WIRE_TRIGGER_TAG 100010u

typedef struct ht_wire ht_wire;

typedef struct ht_wire_config {
    ht_nic_filter md;                      /* which UDP datagrams are market data (none listed: every one) */
    uint16_t fix_ports[HT_NIC_MAX_PORTS];  /* TCP segments with one of these as source or destination port are
                                              order flow (none listed: every TCP segment) */
    unsigned n_fix_ports;
    uint32_t trigger_tag;                  /* the FIX tag that carries the trigger (default HT_WIRE_TRIGGER_TAG) */
} ht_wire_config;

/* What an analysis found. Percentiles are nearest-rank: the smallest gap with at least ceil(q * matched) gaps
 * at or below it. They are 0 when nothing matched. */
typedef struct ht_wire_report {
    /* frames */
    uint64_t frames;             /* frames read */
    uint64_t not_ip;             /* not IPv4 (ARP, IPv6, another link protocol) */
    uint64_t fragments;          /* IPv4 fragments (neither md nor order flow is fragmented on a sane network) */
    uint64_t truncated;          /* cut short: fewer bytes captured than the IP, UDP or TCP header says */
    uint64_t other;              /* IPv4 that is neither UDP nor TCP, or outside the filters */
    /* market data */
    uint64_t md_frames;          /* market-data frames with a sound frame header */
    uint64_t md_bad;             /* UDP datagrams in the md filter without one (short, or packetLength lies) */
    uint64_t md_repeats;         /* frames whose (channel, seq) had been captured before (only the first counts) */
    /* order flow */
    uint64_t tcp_segments;       /* TCP segments with data in the fix filter */
    uint64_t tcp_retransmitted;  /* segments (or parts) whose bytes had been seen: used once */
    uint64_t tcp_holes;          /* holes in a stream never filled (the bytes were not captured): skipped */
    uint64_t tcp_flows;          /* TCP directions followed */
    uint64_t tcp_flows_dropped;  /* segments of directions beyond the number followed (HT_WIRE_MAX_FLOWS) */
    uint64_t fix_messages;       /* whole FIX messages found */
    uint64_t fix_bad;            /* stretches of a stream that were not FIX (skipped up to the next 8=FIX) */
    /* orders */
    uint64_t orders;             /* NewOrderSingles (35=D), resends flagged PossDupFlag 43=Y excluded */
    uint64_t poss_dup;           /* NewOrderSingles flagged 43=Y (the resend of an order already on the wire) */
    uint64_t matched;
    uint64_t no_trigger;         /* no trigger tag, or a trigger of sequence 0 (a timer's or refresh's order) */
    uint64_t bad_trigger;        /* a trigger tag that is not t<channel>.<seq> */
    uint64_t trigger_not_seen;   /* the triggering frame is not in the capture */
    uint64_t trigger_after_order;/* first captured after the order (later in the file or stamped later) */
    /* tick to wire, ns */
    uint64_t min_ns, p50_ns, p90_ns, p99_ns, p999_ns, max_ns;
    char first_problem[200];     /* the first frame skipped or stream stretch dropped, and why ("" if none) */
} ht_wire_report;

#define HT_WIRE_MAX_FLOWS 64u

/* Default config: no filters, trigger tag HT_WIRE_TRIGGER_TAG. */
void ht_wire_config_default(ht_wire_config *cfg);

/* A new analysis. NULL with err when out of memory or the config is invalid (trigger tag 0). */
ht_wire *ht_wire_create(const ht_wire_config *cfg, ht_error *err);

/* One captured frame of a pcap link type (DLT_ value; ht_nic_linktype_supported), its capture time in ns since
 * the epoch and its 1-based number in the capture; caplen bytes were captured. 0, or -1 when out of memory. */
int ht_wire_on_frame(ht_wire *w, int linktype, uint64_t ts_ns, uint64_t frame, const uint8_t *data, size_t caplen);

/* Ends the streams (holes left open are skipped), matches each order to its trigger and fills rep. */
void ht_wire_finish(ht_wire *w, ht_wire_report *rep);

/* Frees everything. NULL is a no-op. */
void ht_wire_destroy(ht_wire *w);

/* Reads a pcap or pcapng file through an analysis. 0 with rep filled; -1 with err naming the file and what
 * failed: it did not open, its link type is not supported, or a read error (a file cut mid-frame) after frame
 * N, in which case rep holds the analysis of the frames before it. */
int ht_wire_analyse_file(const char *path, const ht_wire_config *cfg, ht_wire_report *rep, ht_error *err);

/* Prints the report's orders and figures as JSON members, without braces: "orders":N,"matched":M,"unmatched":
 * {"no_trigger","bad_trigger","trigger_not_seen","trigger_after_order"},"tick_to_wire_ns":{"min","p50","p90",
 * "p99","p999","max"} (null when nothing matched). */
void ht_wire_report_json(FILE *out, const ht_wire_report *r);

/* Parses a trigger "t<channel>.<seq>" of len bytes: channel 1 to 5 decimal digits (at most 65535), seq 1 to 20
 * (at most 2^64 - 1), leading zeros allowed (the gateway writes 5 and 20 digits, zero padded: docs/gateway.md
 * "Trigger on the wire"). True on success. */
bool ht_wire_trigger_parse(const char *text, size_t len, uint16_t *channel, uint64_t *seq);

#endif

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the tick-to-wire analysis (hedgetrig latency) on arbitrary frames. The first byte picks a mode:
 * even, raw frames of a link type (each "len u16 LE, ts step u8, bytes") straight into ht_wire_on_frame; odd,
 * frames the harness wraps in sound Ethernet/IPv4 headers (each "kind u8, seq step u8, ts step u8, len u8,
 * bytes": market-data datagrams and TCP segments of two directions at fuzzed sequence numbers, so the stream
 * reassembly and the FIX cutting are reached at once). Checks the report's invariants, and that every trigger
 * the parser accepts prints and parses back to the same values. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hedgetrig/wire_latency.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int g_linktypes[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_IPV4, 147};

/* The report's invariants: every order has one outcome; percentiles are ordered. */
static void check_report(const ht_wire_report *r, uint64_t frames)
{
    if (r->frames != frames)
        __builtin_trap();
    if (r->matched + r->no_trigger + r->bad_trigger + r->trigger_not_seen + r->trigger_after_order != r->orders)
        __builtin_trap();
    if (r->matched && !(r->min_ns <= r->p50_ns && r->p50_ns <= r->p90_ns && r->p90_ns <= r->p99_ns &&
                        r->p99_ns <= r->p999_ns && r->p999_ns <= r->max_ns))
        __builtin_trap();
    if (r->md_repeats > r->md_frames)
        __builtin_trap();
}

/* Raw frames of one link type. */
static uint64_t feed_raw(ht_wire *w, const uint8_t *data, size_t size, int linktype)
{
    uint64_t frames = 0, ts = 1000;
    while (size >= 3) {
        size_t len = (size_t)data[0] | (size_t)data[1] << 8;
        ts += data[2];
        data += 3, size -= 3;
        if (len > size)
            len = size;
        (void)ht_wire_on_frame(w, linktype, ts, ++frames, data, len);
        data += len, size -= len;
    }
    return frames;
}

/* Ethernet + IPv4 (+ UDP or TCP header) around payload; returns the frame's length. */
static size_t wrap(uint8_t *f, bool tcp, bool to_server, uint32_t seq, uint8_t flags, const uint8_t *payload,
                   size_t len)
{
    memset(f, 0, 14 + 20 + 20);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    size_t l4 = (tcp ? 20 : 8) + len;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + l4) >> 8), ip[3] = (uint8_t)(20 + l4);
    ip[9] = tcp ? 6 : 17;
    ip[15] = to_server ? 1 : 2, ip[19] = to_server ? 2 : 1;
    uint8_t *h = ip + 20;
    h[0] = to_server ? 0x9C : 0x26, h[1] = to_server ? 0x40 : 0x99;
    h[2] = to_server ? 0x26 : 0x9C, h[3] = to_server ? 0x99 : 0x40;
    if (tcp) {
        h[4] = (uint8_t)(seq >> 24), h[5] = (uint8_t)(seq >> 16), h[6] = (uint8_t)(seq >> 8), h[7] = (uint8_t)seq;
        h[12] = 5 << 4;
        h[13] = flags;
    } else {
        h[4] = (uint8_t)(l4 >> 8), h[5] = (uint8_t)l4;
    }
    memcpy(h + (tcp ? 20 : 8), payload, len);
    return 14 + 20 + l4;
}

/* Structured frames: market data and two TCP directions with fuzzed sequence steps. */
static uint64_t feed_structured(ht_wire *w, const uint8_t *data, size_t size)
{
    static uint8_t frame[14 + 20 + 20 + 256];
    uint64_t frames = 0, ts = 1000;
    uint32_t seq[2] = {100, 5000};
    while (size >= 4) {
        uint8_t kind = data[0];
        int8_t step = (int8_t)data[1];
        ts += data[2];
        size_t len = data[3];
        data += 4, size -= 4;
        if (len > size)
            len = size;
        bool tcp = kind & 1, to_server = kind & 2;
        uint32_t *s = &seq[to_server];
        *s += (uint32_t)(int32_t)step;
        size_t n = wrap(frame, tcp, to_server, *s, (uint8_t)(kind >> 2 & 0x1F), data, len);
        (void)ht_wire_on_frame(w, DLT_EN10MB, ts, ++frames, frame, n);
        if (tcp)
            *s += (uint32_t)len;
        data += len, size -= len;
    }
    return frames;
}

/* A trigger the parser accepts prints and parses back to the same values. */
static void trigger_round_trip(const uint8_t *data, size_t size)
{
    uint16_t ch, ch2;
    uint64_t seq, seq2;
    if (!ht_wire_trigger_parse((const char *)data, size, &ch, &seq))
        return;
    char text[64];
    int n = snprintf(text, sizeof text, "t%u.%" PRIu64, ch, seq);
    if (!ht_wire_trigger_parse(text, (size_t)n, &ch2, &seq2) || ch2 != ch || seq2 != seq)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    trigger_round_trip(data + 1, size - 1);
    ht_wire_config cfg;
    ht_wire_config_default(&cfg);
    ht_wire *w = ht_wire_create(&cfg, NULL);
    if (!w)
        return 0;
    uint64_t frames = data[0] & 1
                          ? feed_structured(w, data + 1, size - 1)
                          : feed_raw(w, data + 1, size - 1, g_linktypes[(data[0] >> 1) % 7]);
    ht_wire_report rep;
    ht_wire_finish(w, &rep);
    check_report(&rep, frames);
    ht_wire_destroy(w);
    return 0;
}

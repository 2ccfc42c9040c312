/* SPDX-License-Identifier: MIT */
/* Decoder and feed throughput on the real capture looped in memory, and the cost of one ticker message
 * through the whole feed (frame, sequencing, lookup, state, event). Prints medians and percentiles.
 *   bench_feed [CAPTURE] [--rounds N] [--only tickers|capture]      (--only: one pass for callgrind)  */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"
#include "hedgetrig/tsc.h"

#ifndef HT_DERIBIT_DIR
#define HT_DERIBIT_DIR "../shared/data/deribit"
#endif

/* The capture's UDP payloads, back to back in memory. */
typedef struct packets {
    uint8_t *bytes;
    size_t *off;
    uint32_t *len;
    size_t n, cap, used, bytes_cap;
} packets;

/* Appends one payload. */
static void add_packet(packets *p, const uint8_t *data, uint32_t len)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8192;
        p->off = realloc(p->off, p->cap * sizeof *p->off);
        p->len = realloc(p->len, p->cap * sizeof *p->len);
    }
    if (p->used + len > p->bytes_cap) {
        p->bytes_cap = p->bytes_cap ? 2 * p->bytes_cap + len : (1u << 22);
        p->bytes = realloc(p->bytes, p->bytes_cap);
    }
    if (!p->off || !p->len || !p->bytes) {
        fprintf(stderr, "bench_feed: out of memory\n");
        exit(1);
    }
    memcpy(p->bytes + p->used, data, len);
    p->off[p->n] = p->used;
    p->len[p->n++] = len;
    p->used += len;
}

/* Reads every payload of the capture. */
static void load_capture(const char *path, packets *p)
{
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = path;
    ht_error err;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    if (!nic) {
        fprintf(stderr, "bench_feed: %s\n", err.msg);
        exit(1);
    }
    ht_nic_packet pkts[HT_NIC_BURST];
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        if (n < 0) {
            fprintf(stderr, "bench_feed: %s\n", ht_nic_last_error(nic));
            exit(1);
        }
        for (int i = 0; i < n; i++)
            add_packet(p, pkts[i].payload, pkts[i].len);
    }
    ht_nic_close(nic);
}

/* Sorts doubles ascending. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints the median and the 10th and 90th percentiles of v[0..n). */
static void print_stats(const char *what, double *v, size_t n, const char *unit)
{
    qsort(v, n, sizeof *v, cmp_double);
    printf("  %-44s median %8.1f %s   p10 %8.1f   p90 %8.1f   (%zu runs)\n", what, v[n / 2], unit, v[n / 10],
           v[(n * 9) / 10], n);
}

static uint64_t g_events;

/* The event sink of the benchmarks: counts (a consumer that does nothing costs what the feed costs). */
static void count_event(void *user, const ht_feed_event *ev)
{
    (void)user;
    (void)ev;
    g_events++;
}

/* Decodes every message of every packet (no feed): the SBE layer alone. Returns messages decoded. */
static uint64_t decode_only(const packets *p)
{
    uint64_t messages = 0;
    volatile double sink = 0;
    for (size_t i = 0; i < p->n; i++) {
        ht_sbe_iter it;
        ht_sbe_iter_init(&it, p->bytes + p->off[i], p->len[i]);
        ht_sbe_msg msg;
        while (ht_sbe_iter_next(&it, &msg)) {
            ht_sbe_decoded d;
            ht_sbe_decode(&msg, &d);
            if (d.template_id == HT_SBE_TICKER)
                sink += d.u.ticker.mark_price;
            messages++;
        }
    }
    (void)sink;
    return messages;
}

/* Feeds every packet once. */
static void feed_all(ht_feed *feed, const packets *p)
{
    for (size_t i = 0; i < p->n; i++)
        ht_feed_on_packet(feed, p->bytes + p->off[i], p->len[i], 0);
}

/* The measured loop of the ticker benchmark (callgrind collects inside it only). */
__attribute__((noinline)) void bench_ticker_loop(ht_feed *feed, const packets *p);
__attribute__((noinline)) void bench_ticker_loop(ht_feed *feed, const packets *p)
{
    feed_all(feed, p);
}

/* The measured loop of the capture benchmark under callgrind: every packet of the capture into a feed. */
__attribute__((noinline)) void bench_capture_loop(ht_feed *feed, const packets *p);
__attribute__((noinline)) void bench_capture_loop(ht_feed *feed, const packets *p)
{
    feed_all(feed, p);
}

/* Builds `loops` copies of every 1003 of the capture as one-ticker packets whose sequence numbers continue
 * their channels and whose timestamps move forward, so every one is applied (none is a duplicate or old). */
static void build_ticker_stream(const packets *cap, unsigned loops, packets *out, uint64_t *tickers)
{
    /* Each channel continues from the capture's last sequence number. */
    static uint32_t next_seq[65536];
    for (size_t i = 0; i < cap->n; i++) {
        ht_sbe_iter it;
        if (ht_sbe_iter_init(&it, cap->bytes + cap->off[i], cap->len[i]) == HT_SBE_OK)
            next_seq[it.frame.channel_id] = it.frame.seq + 1;
    }
    *tickers = 0;
    uint8_t buf[512];
    for (unsigned k = 0; k < loops; k++) {
        for (size_t i = 0; i < cap->n; i++) {
            ht_sbe_iter it;
            if (ht_sbe_iter_init(&it, cap->bytes + cap->off[i], cap->len[i]) != HT_SBE_OK)
                continue;
            ht_sbe_msg msg;
            while (ht_sbe_iter_next(&it, &msg)) {
                if (msg.hdr.template_id != HT_SBE_TICKER)
                    continue;
                ht_sbe_ticker t;
                if (ht_sbe_decode_ticker(&msg, &t) != HT_SBE_OK)
                    continue;
                t.timestamp_ms += (uint64_t)(k + 1) * 1000000ull; /* newer than anything in the capture */
                uint16_t ch = it.frame.channel_id;
                ht_sbe_writer w;
                ht_sbe_writer_init(&w, buf, sizeof buf, ch, next_seq[ch]++);
                ht_sbe_put_ticker(&w, &t);
                size_t len = ht_sbe_writer_finish(&w);
                add_packet(out, buf, (uint32_t)len);
                (*tickers)++;
            }
        }
    }
}

/* The command line. */
typedef struct bench_args {
    const char *path;
    unsigned rounds;
    bool only_tickers, only_capture;
} bench_args;

/* Parses the command line into a; returns false (usage printed) on a bad argument. */
static bool parse_args(int argc, char **argv, bench_args *a)
{
    a->path = HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap";
    a->rounds = 31;
    a->only_tickers = a->only_capture = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            a->rounds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc && strcmp(argv[i + 1], "tickers") == 0)
            a->only_tickers = true, i++;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc && strcmp(argv[i + 1], "capture") == 0)
            a->only_capture = true, i++;
        else if (argv[i][0] != '-')
            a->path = argv[i];
        else {
            fprintf(stderr, "usage: bench_feed [CAPTURE] [--rounds N] [--only tickers|capture]\n");
            return false;
        }
    }
    if (a->rounds < 3)
        a->rounds = 3;
    return true;
}

/* --only capture | tickers: one pass of the measured loop, for callgrind (the whole capture into an empty feed, or
 * the ticker stream into a feed warmed with the capture), and what it counted. */
static void callgrind_pass(const bench_args *a, ht_feed *feed, const packets *cap, const packets *tick,
                           uint64_t tickers)
{
    if (a->only_capture) {
        bench_capture_loop(feed, cap);
        printf("bench_feed --only capture: %" PRIu64 " messages in bench_capture_loop\n",
               ht_feed_stats_get(feed)->messages);
        return;
    }
    feed_all(feed, cap);
    bench_ticker_loop(feed, tick);
    const ht_feed_stats *st = ht_feed_stats_get(feed);
    printf("bench_feed --only tickers: %" PRIu64 " ticker messages in bench_ticker_loop; %" PRIu64
           " ticker events in all (capture warm-up included)\n",
           tickers, st->events_by_kind[HT_FEED_EV_TICKER] + st->events_by_kind[HT_FEED_EV_OPTION_TICKER]);
}

/* 1. SBE decode alone: walk + decode every message of the capture, rounds times. */
static void bench_decode(const packets *cap, unsigned rounds, double *ns_msg, double *mps)
{
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t t0 = ht_tsc_now();
        uint64_t m = decode_only(cap);
        double ns = ht_tsc_to_ns(ht_tsc_now() - t0);
        ns_msg[r] = ns / (double)m;
        mps[r] = (double)m / ns * 1e9 / 1e6;
    }
    printf("decode only (ht_sbe_iter + ht_sbe_decode, every message of the capture):\n");
    print_stats("ns per message", ns_msg, rounds, "ns");
    print_stats("messages per second", mps, rounds, "M/s");
}

/* 2. The whole feed on the capture: each round starts from an empty feed (reset not timed). */
static void bench_capture(ht_feed *feed, const packets *cap, unsigned rounds, double *ns_msg, double *mps)
{
    for (unsigned r = 0; r < rounds; r++) {
        ht_feed_reset(feed);
        uint64_t t0 = ht_tsc_now();
        feed_all(feed, cap);
        double ns = ht_tsc_to_ns(ht_tsc_now() - t0);
        uint64_t m = ht_feed_stats_get(feed)->messages;
        ns_msg[r] = ns / (double)m;
        mps[r] = (double)m / ns * 1e9 / 1e6;
    }
    printf("feed (decode, sequencing, registry, state, books, events) on the capture from empty:\n");
    print_stats("ns per message", ns_msg, rounds, "ns");
    print_stats("messages per second", mps, rounds, "M/s");
}

/* 3. Tickers into a warm feed: the hot path of the hedge trigger (each round warms a reset feed with the
 * capture, untimed). */
static void bench_tickers(ht_feed *feed, const packets *cap, const packets *tick, uint64_t tickers, unsigned rounds,
                          double *ns_msg, double *mps)
{
    uint64_t applied = 0;
    for (unsigned r = 0; r < rounds; r++) {
        ht_feed_reset(feed);
        feed_all(feed, cap);
        const ht_feed_stats *st = ht_feed_stats_get(feed);
        uint64_t before = st->by_template[HT_SBE_TICKER - 1000];
        uint64_t events_before = st->events_by_kind[HT_FEED_EV_TICKER] + st->events_by_kind[HT_FEED_EV_OPTION_TICKER];
        uint64_t t0 = ht_tsc_now();
        bench_ticker_loop(feed, tick);
        double ns = ht_tsc_to_ns(ht_tsc_now() - t0);
        uint64_t m = ht_feed_stats_get(feed)->by_template[HT_SBE_TICKER - 1000] - before;
        applied = st->events_by_kind[HT_FEED_EV_TICKER] + st->events_by_kind[HT_FEED_EV_OPTION_TICKER] -
                  events_before;
        ns_msg[r] = ns / (double)m;
        mps[r] = (double)m / ns * 1e9 / 1e6;
    }
    printf("ticker (1003) packets into a warm feed (frame, sequence, lookup, state, trust, event):\n");
    print_stats("ns per ticker message", ns_msg, rounds, "ns");
    print_stats("ticker messages per second", mps, rounds, "M/s");
    printf("  tickers applied (state updated, event delivered) in the last round: %" PRIu64 " of %" PRIu64 "\n",
           applied, tickers);
}

int main(int argc, char **argv)
{
    bench_args a;
    if (!parse_args(argc, argv, &a))
        return 2;
    static packets cap, tick;
    load_capture(a.path, &cap);
    ht_feed_config cfg;
    ht_feed_config_default(&cfg);
    cfg.on_event = count_event;
    ht_error err;
    ht_feed *feed = ht_feed_create(&cfg, &err);
    if (!feed) {
        fprintf(stderr, "bench_feed: %s\n", err.msg);
        return 1;
    }
    uint64_t tickers = 0;
    build_ticker_stream(&cap, 5, &tick, &tickers);
    if (a.only_capture || a.only_tickers) {
        callgrind_pass(&a, feed, &cap, &tick, tickers);
        ht_feed_destroy(feed);
        return 0;
    }
    double per_ns = ht_tsc_ticks_per_ns();
    uint64_t cap_messages = decode_only(&cap);
    printf("bench_feed: %s: %zu packets, %" PRIu64 " messages, %zu bytes; %" PRIu64
           " ticker packets built; TSC %.3f GHz\n",
           a.path, cap.n, cap_messages, cap.used, tickers, per_ns);
    double *ns_msg = calloc(a.rounds, sizeof *ns_msg), *mps = calloc(a.rounds, sizeof *mps);
    bench_decode(&cap, a.rounds, ns_msg, mps);
    bench_capture(feed, &cap, a.rounds, ns_msg, mps);
    bench_tickers(feed, &cap, &tick, tickers, a.rounds, ns_msg, mps);
    free(ns_msg);
    free(mps);
    ht_feed_destroy(feed);
    free(cap.bytes);
    free(cap.off);
    free(cap.len);
    free(tick.bytes);
    free(tick.off);
    free(tick.len);
    return 0;
}

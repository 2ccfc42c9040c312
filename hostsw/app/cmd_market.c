/* SPDX-License-Identifier: MIT */
/* hedgetrig market: replays a Deribit capture through the feed and shows what the market looks like. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/tsc.h"
#include "source.h"

#ifndef HT_DERIBIT_DIR
#define HT_DERIBIT_DIR "../shared/data/deribit"
#endif

static const char *const g_usage =
    "usage: hedgetrig market [--file FILE] [--speed X] [source options]\n"
    "\n"
    "Replays a Deribit multicast capture (default: the shared real capture) through the feed and prints\n"
    "the decoded market: instruments by kind and expiry, the underlying index paths, message rates per\n"
    "template and channel, and the feed's health (sequence gaps, stale prices, books).\n"
    "\n"
    "  --file FILE             the capture (default " HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap)\n"
    "  --speed X               replay pace: 0 as fast as possible (default), 1 real time, N x faster\n" HT_SOURCE_USAGE
    "\n"
    "Exit status: 0 ok, 1 the capture could not be read to its end (named), 2 usage error.\n";

/* Samples kept of each index's path. */
#define MARKET_MAX_SAMPLES 65536

typedef struct index_path {
    double price[MARKET_MAX_SAMPLES];
    uint64_t ts_ms[MARKET_MAX_SAMPLES];
    uint32_t n;
} index_path;

typedef struct market_state {
    index_path *paths; /* one per index slot, max_indices of them */
    uint32_t max_paths;
} market_state;

/* Records every index update (the only event consumer). */
static void on_event(void *user, const ht_feed_event *ev)
{
    market_state *d = user;
    if (ev->kind != HT_FEED_EV_INDEX || ev->index->index >= d->max_paths)
        return;
    index_path *p = &d->paths[ev->index->index];
    if (p->n < MARKET_MAX_SAMPLES) {
        p->price[p->n] = ev->index->price;
        p->ts_ms[p->n] = ev->index->timestamp_ms;
        p->n++;
    }
}

/* Formats a UTC time in ms as "2023-06-16 08:00". */
static void format_utc(uint64_t ms, char *buf, size_t n, const char *fmt)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, fmt, &tm);
}

/* Orders instrument pointers by kind, base, quote, expiry, strike, option type. */
static int compare_instruments(const void *a, const void *b)
{
    const ht_instrument *x = *(const ht_instrument *const *)a, *y = *(const ht_instrument *const *)b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = strcmp(x->base_currency, y->base_currency);
    if (c)
        return c;
    c = strcmp(x->quote_currency, y->quote_currency);
    if (c)
        return c;
    if (x->expiration_timestamp_ms != y->expiration_timestamp_ms)
        return x->expiration_timestamp_ms < y->expiration_timestamp_ms ? -1 : 1;
    if (x->strike_price != y->strike_price)
        return x->strike_price < y->strike_price ? -1 : 1;
    return (int)x->option_type - (int)y->option_type;
}

/* Prints the options grouped by underlying, settlement and expiry, and the other instruments one a line. */
static void print_instruments(const ht_feed *feed)
{
    uint32_t n = ht_feed_instrument_count(feed);
    const ht_instrument **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return;
    uint32_t options = 0, futures = 0, perps = 0, others = 0;
    for (uint32_t i = 0; i < n; i++) {
        v[i] = ht_feed_instrument_at(feed, i);
        if (ht_instrument_is_option(v[i]))
            options++;
        else if (v[i]->kind == HT_INST_FUTURE && v[i]->perpetual)
            perps++;
        else if (v[i]->kind == HT_INST_FUTURE)
            futures++;
        else
            others++;
    }
    qsort(v, n, sizeof *v, compare_instruments);
    printf("\nInstruments: %u (%u options, %u futures, %u perpetuals, %u other)\n", n, options, futures, perps,
           others);
    printf("  %-8s %-22s %-17s %6s %5s %5s %19s %9s %8s\n", "kind", "underlying / margin", "expiry (UTC)",
           "count", "calls", "puts", "strikes", "trusted", "books ok");
    for (uint32_t i = 0; i < n;) {
        const ht_instrument *a = v[i];
        if (!ht_instrument_is_option(a)) {
            i++;
            continue;
        }
        uint32_t j = i, calls = 0, puts = 0, trusted = 0, books = 0;
        double lo = INFINITY, hi = -INFINITY;
        while (j < n && ht_instrument_is_option(v[j]) && strcmp(v[j]->base_currency, a->base_currency) == 0 &&
               strcmp(v[j]->quote_currency, a->quote_currency) == 0 &&
               v[j]->expiration_timestamp_ms == a->expiration_timestamp_ms) {
            calls += v[j]->option_type == HT_OPTION_CALL;
            puts += v[j]->option_type == HT_OPTION_PUT;
            trusted += ht_feed_price_trustworthy(feed, v[j], 0);
            books += ht_feed_book_status(feed, v[j]) == HT_BOOK_OK;
            if (v[j]->strike_price < lo)
                lo = v[j]->strike_price;
            if (v[j]->strike_price > hi)
                hi = v[j]->strike_price;
            j++;
        }
        char expiry[32], under[40], strikes[40];
        format_utc(a->expiration_timestamp_ms, expiry, sizeof expiry, "%Y-%m-%d %H:%M");
        snprintf(under, sizeof under, "%s in %s (%s)", a->base_currency, a->quote_currency,
                 a->inverse ? "inverse" : "linear");
        snprintf(strikes, sizeof strikes, "%g-%g", lo, hi);
        printf("  %-8s %-22s %-17s %6u %5u %5u %19s %5u/%-3u %5u/%-3u\n", "option", under, expiry, j - i, calls,
               puts, strikes, trusted, j - i, books, j - i);
        i = j;
    }
    printf("\n  %-16s %-8s %-17s %12s %12s %12s %12s %8s %10s\n", "name", "kind", "expiry (UTC)", "mark", "index",
           "best bid", "best ask", "price", "book");
    for (uint32_t i = 0; i < n; i++) {
        const ht_instrument *a = v[i];
        if (ht_instrument_is_option(a))
            continue;
        char expiry[32];
        if (a->perpetual)
            snprintf(expiry, sizeof expiry, "perpetual");
        else
            format_utc(a->expiration_timestamp_ms, expiry, sizeof expiry, "%Y-%m-%d %H:%M");
        const char *kind = a->kind == HT_INST_FUTURE ? (a->perpetual ? "perp" : "future")
                           : a->kind == HT_INST_SPOT ? "spot"
                                                         : "combo";
        printf("  %-20s %-7s %-17s %12.2f %12.2f %12.2f %12.2f %8s %10s\n", a->name, kind, expiry,
               a->ticker.mark_price, a->ticker.index_price, a->ticker.best_bid_price, a->ticker.best_ask_price,
               ht_price_status_str(ht_feed_price_status(feed, a, 0)),
               ht_book_status_str(ht_feed_book_status(feed, a)));
    }
    free(v);
}

/* Prints each index's path: first, low, high, last, move, and eight points across the capture. */
static void print_indices(const ht_feed *feed, const market_state *d)
{
    printf("\nUnderlying index paths (1008, channel 0):\n");
    printf("  %-10s %7s %12s %12s %12s %12s %9s  %s\n", "index", "updates", "first", "low", "high", "last",
           "move bp", "path (8 points, evenly spaced in time)");
    for (uint32_t i = 0; i < ht_feed_index_count(feed) && i < d->max_paths; i++) {
        const ht_index_price *ix = ht_feed_index_at(feed, i);
        const index_path *p = &d->paths[i];
        if (p->n == 0)
            continue;
        double lo = INFINITY, hi = -INFINITY;
        for (uint32_t k = 0; k < p->n; k++) {
            lo = fmin(lo, p->price[k]);
            hi = fmax(hi, p->price[k]);
        }
        double first = p->price[0], last = p->price[p->n - 1];
        printf("  %-10s %7" PRIu64 " %12.4f %12.4f %12.4f %12.4f %+9.1f  ", ix->name, ix->updates, first, lo, hi,
               last, 1e4 * (last - first) / first);
        uint64_t t0 = p->ts_ms[0], t1 = p->ts_ms[p->n - 1];
        uint32_t k = 0;
        for (int s = 0; s < 8; s++) {
            uint64_t t = t0 + (t1 - t0) * (uint64_t)s / 7;
            while (k + 1 < p->n && p->ts_ms[k + 1] <= t)
                k++;
            printf("%s%.7g", s ? " " : "", p->price[k]);
        }
        printf("\n");
    }
}

/* Prints messages per template and channel, with rates over the capture's duration. */
static void print_rates(const ht_feed *feed, double seconds)
{
    printf("\nMessages per channel and template over %.1f s (rate = messages/s):\n", seconds);
    printf("  %-7s %-11s %7s", "channel", "kind", "packets");
    static const char *const short_names[HT_SBE_TEMPLATE_COUNT] = {
        "1000 in", "1001 bk", "1002 tr", "1003 tk", "1004 sn", "1005 ss", "1006 se", "1007 cl", "1008 ix",
        "1009 rq", "1010 i2"};
    for (unsigned t = 0; t < HT_SBE_TEMPLATE_COUNT; t++)
        printf(" %7s", short_names[t]);
    printf(" %7s %8s %5s\n", "other", "msg/s", "gaps");
    uint64_t total[HT_SBE_TEMPLATE_COUNT] = {0};
    uint32_t nch = ht_feed_channel_count(feed);
    /* Channels in id order. */
    for (uint32_t id = 0, shown = 0; shown < nch && id <= 0xFFFF; id++) {
        const ht_feed_channel *ch = ht_feed_channel_find(feed, (uint16_t)id);
        if (!ch)
            continue;
        shown++;
        const char *kind = ch->is_snapshot ? "snapshot" : ch->by_template[HT_SBE_PRICE_INDEX - 1000] ? "generic"
                                                                                                      : "incremental";
        printf("  %-7u %-11s %7" PRIu64, ch->id, kind, ch->packets);
        for (unsigned t = 0; t < HT_SBE_TEMPLATE_COUNT; t++) {
            printf(" %7" PRIu64, ch->by_template[t]);
            total[t] += ch->by_template[t];
        }
        printf(" %7" PRIu64 " %8.1f %5" PRIu64 "\n", ch->other_messages,
               seconds > 0 ? (double)ch->messages / seconds : 0.0, ch->gaps);
    }
    const ht_feed_stats *st = ht_feed_stats_get(feed);
    printf("  %-7s %-11s %7" PRIu64, "all", "", st->packets_accepted);
    for (unsigned t = 0; t < HT_SBE_TEMPLATE_COUNT; t++)
        printf(" %7" PRIu64, total[t]);
    printf(" %7" PRIu64 " %8.1f %5" PRIu64 "\n", st->unknown_template + st->unknown_schema + st->unknown_version,
           seconds > 0 ? (double)st->messages / seconds : 0.0, st->seq_gaps);
}

/* Prints the feed's counters that say whether the data can be trusted. */
static void print_health(const ht_feed *feed, double decode_ns)
{
    const ht_feed_stats *st = ht_feed_stats_get(feed);
    printf("\nFeed health: %" PRIu64 " packets, %" PRIu64 " messages; sequence gaps %" PRIu64 " (%" PRIu64
           " packets missed), duplicates %" PRIu64 ", late %" PRIu64 ", resets %" PRIu64 ", malformed %" PRIu64
           "\n",
           st->packets, st->messages, st->seq_gaps, st->seq_missed, st->seq_duplicates, st->seq_late,
           st->seq_resets, st->malformed_packets);
    printf("  snapshots: %" PRIu64 " rebuilt a book, %" PRIu64 " matched the book built from changes level for level"
           " (%" PRIu64 " did not), %" PRIu64 " ignored, %" PRIu64 " aborted\n",
           st->snapshots_applied, st->snapshots_verified, st->snapshots_mismatched, st->snapshots_ignored,
           st->snapshots_aborted);
    printf("  book chain breaks %" PRIu64 ", changes queued before a snapshot %" PRIu64 " (%" PRIu64
           " applied after it), messages for instruments not yet defined %" PRIu64 "\n",
           st->book_chain_breaks, st->book_changes_queued, st->book_changes_replayed, st->unknown_instrument);
    printf("  events: index %" PRIu64 ", ticker %" PRIu64 ", option ticker %" PRIu64 ", trade %" PRIu64
           ", book %" PRIu64 ", instrument %" PRIu64 ", gap %" PRIu64 "\n",
           st->events_by_kind[HT_FEED_EV_INDEX], st->events_by_kind[HT_FEED_EV_TICKER],
           st->events_by_kind[HT_FEED_EV_OPTION_TICKER], st->events_by_kind[HT_FEED_EV_TRADE],
           st->events_by_kind[HT_FEED_EV_BOOK], st->events_by_kind[HT_FEED_EV_INSTRUMENT],
           st->events_by_kind[HT_FEED_EV_GAP]);
    if (st->messages)
        printf("  decode + apply: %.0f ns per message on this run (see bench/README.md for measured figures)\n",
               decode_ns / (double)st->messages);
}

/* The feed a replay fills, and the time spent in it. */
typedef struct feed_run {
    ht_feed *feed;
    uint64_t busy_tsc; /* TSC ticks spent decoding and applying, for the per-message figure */
} feed_run;

/* Hands one burst (of any size, also none) to the feed, timed as a whole. */
static int feed_burst(void *ctx, ht_nic_packet *pkts, unsigned n)
{
    feed_run *run = ctx;
    uint64_t t0 = ht_tsc_now();
    for (unsigned i = 0; i < n; i++)
        ht_feed_on_packet(run->feed, pkts[i].payload, pkts[i].len, pkts[i].rx_tsc);
    run->busy_tsc += ht_tsc_now() - t0;
    return 0;
}

int cmd_market(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_source_opts src;
    ht_source_opts_default(&src);
    src.file = HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap";
    for (int i = 1; i < argc; i++) {
        int r = ht_source_parse("market", argc, argv, &i, &src);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            src.file = argv[++i];
        } else if (strcmp(argv[i], "--speed") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_double("market", "--speed", argv[++i], 0, 1e9, &src.cfg.speed))
                return HT_EXIT_USAGE;
        } else {
            return ht_cli_unknown("market", argv[i], g_usage);
        }
    }
    market_state d = {0};
    ht_feed_config cfg;
    ht_feed_config_default(&cfg);
    cfg.on_event = on_event;
    cfg.user = &d;
    d.max_paths = 16;
    d.paths = calloc(d.max_paths, sizeof *d.paths);
    ht_error err;
    ht_feed *feed = d.paths ? ht_feed_create(&cfg, &err) : NULL;
    if (!feed) {
        free(d.paths);
        return ht_cli_fail("market", "%s", d.paths ? err.msg : "out of memory");
    }
    ht_nic *nic = ht_source_open("market", &src);
    if (!nic) {
        ht_feed_destroy(feed);
        free(d.paths);
        return HT_EXIT_FAIL;
    }
    printf("hedgetrig market: replaying %s through the %s receive path into the feed\n",
           src.cfg.kind == HT_NIC_SOCKET ? "the multicast groups" : src.file, ht_nic_kind_name(src.cfg.kind));
    feed_run run = {feed, 0};
    const ht_nic_replay_ops ops = {.on_burst = feed_burst, .ctx = &run};
    ht_nic_replay_stats rs;
    int rc = HT_EXIT_OK;
    if (ht_nic_replay(nic, &ops, &rs, &err) == HT_NIC_REPLAY_ERROR)
        rc = ht_cli_fail("market", "%s", err.msg);
    const uint64_t busy_tsc = run.busy_tsc;
    const ht_nic_stats *ns = ht_nic_stats_get(nic);
    double seconds = rs.last_ns > rs.first_ns ? (double)(rs.last_ns - rs.first_ns) / 1e9 : 0.0;
    printf("  %" PRIu64 " frames, %" PRIu64 " UDP datagrams kept, %.1f s of market time\n", ns->frames,
           ns->packets, seconds);
    if (ns->pace_jumps)
        printf("  %" PRIu64 " jump(s) of capture time over %llu s not waited out (--speed pacing)\n", ns->pace_jumps,
               HT_NIC_PACE_MAX_GAP_NS / 1000000000ull);
    print_instruments(feed);
    print_indices(feed, &d);
    print_rates(feed, seconds);
    print_health(feed, ht_tsc_to_ns(busy_tsc));
    const ht_feed_stats *st = ht_feed_stats_get(feed);
    if (st->malformed_packets) {
        ht_feed_fault_format(feed, &err);
        fprintf(stderr, "hedgetrig market: %" PRIu64 " malformed packets, the last: %s\n", st->malformed_packets,
                err.msg);
    }
    ht_nic_close(nic);
    ht_feed_destroy(feed);
    free(d.paths);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* Tests of the feed: the registry and market state built from the real capture (checked against the vendor
 * decode and Deribit's naming rules), books checked against the exchange's own tickers, and packets written
 * with the encoder for sequencing (gaps, duplicates, reordering, wrap, reset), staleness, snapshots and
 * books, limits, and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <math.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"
#define EXPECTED HT_DERIBIT_DIR "/deribit_sample_v1_6.expected.csv"

/* ---- Capture-driven tests ---------------------------------------------------------------------------- */

/* Book tops compared with the exchange's ticker in the same packet. */
typedef struct top_check {
    const ht_feed *feed;
    const ht_instrument *touched[64];
    unsigned n_touched;
    unsigned checked, mismatched;
    uint64_t events[HT_FEED_EV_KIND_COUNT];
    uint64_t trades_with_iv;
} top_check;

/* Remembers which instruments' books changed in the current packet. */
static void on_capture_event(void *user, const ht_feed_event *ev)
{
    top_check *c = user;
    c->events[ev->kind]++;
    if (ev->kind == HT_FEED_EV_TRADE && !isnan(ev->trade->iv))
        c->trades_with_iv++;
    if (ev->kind == HT_FEED_EV_BOOK && c->n_touched < 64)
        c->touched[c->n_touched++] = ev->instrument;
}

/* After a packet: every OK book changed in it whose ticker came in the same packet (the exchange sends
 * trades, ticker, book together) must have the ticker's best bid and ask on top. */
static void check_tops(top_check *c, uint64_t ticker_updates_before[])
{
    for (unsigned i = 0; i < c->n_touched; i++) {
        const ht_instrument *in = c->touched[i];
        if (in->ticker_updates == ticker_updates_before[in->index])
            continue;
        if (ht_feed_book_status(c->feed, in) != HT_BOOK_OK)
            continue;
        const ht_book *b = ht_feed_book(c->feed, in);
        double bid = b->bid_count ? b->bids[0].price : 0.0;
        double ask = b->ask_count ? b->asks[0].price : 0.0;
        c->checked++;
        if (bid != in->ticker.best_bid_price || ask != in->ticker.best_ask_price) {
            c->mismatched++;
            print_error("%s: book top %g / %g, ticker %g / %g\n", in->name, bid, ask, in->ticker.best_bid_price,
                        in->ticker.best_ask_price);
        }
    }
    c->n_touched = 0;
}

/* The vendor decode's last 1003 line (mark|index|bid|ask) per instrument id and last 1008 per index. */
typedef struct vendor_last {
    double mark[256], index[256], bid[256], ask[256];
    bool have[256];
    char ix_name[16][17];
    double ix_price[16];
    unsigned n_ix;
} vendor_last;

/* Reads the vendor CSV into v. */
static void read_vendor(vendor_last *v)
{
    memset(v, 0, sizeof *v);
    FILE *f = fopen(EXPECTED, "r");
    assert_non_null(f);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        unsigned frame, ch, seq, tid, id;
        char fields[4000];
        if (sscanf(line, "%u,%u,%u,%u,%u,%3999s", &frame, &ch, &seq, &tid, &id, fields) == 6 && tid == 1003 &&
            id < 256) {
            assert_int_equal(sscanf(fields, "%lf|%lf|%lf|%lf", &v->mark[id], &v->index[id], &v->bid[id],
                                    &v->ask[id]),
                             4);
            v->have[id] = true;
        } else if (sscanf(line, "%u,%u,%u,%u,,%3999s", &frame, &ch, &seq, &tid, fields) == 5 && tid == 1008) {
            char *bar = strchr(fields, '|');
            assert_non_null(bar);
            *bar = '\0';
            unsigned k = 0;
            while (k < v->n_ix && strcmp(v->ix_name[k], fields) != 0)
                k++;
            if (k == v->n_ix) {
                assert_true(v->n_ix < 16);
                snprintf(v->ix_name[v->n_ix++], 17, "%.16s", fields);
            }
            v->ix_price[k] = strtod(bar + 1, NULL);
        }
    }
    fclose(f);
}

/* Replays the capture into feed, checking book tops against tickers as it goes. */
static void replay_capture(ht_feed *feed, top_check *c)
{
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = CAPTURE;
    ht_error err;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    assert_non_null(nic);
    ht_nic_packet pkts[HT_NIC_BURST];
    static uint64_t before[4096];
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            for (uint32_t k = 0; k < ht_feed_instrument_count(feed); k++)
                before[k] = ht_feed_instrument_at(feed, k)->ticker_updates;
            assert_true(ht_feed_on_packet(feed, pkts[i].payload, pkts[i].len, pkts[i].rx_tsc) > 0);
            check_tops(c, before);
        }
    }
    ht_nic_close(nic);
}

/* Parses a Deribit option name BASE-DMMMYY-STRIKE-C|P into its parts (Deribit's naming convention). */
static bool parse_option_name(const char *name, int *day, int *month, int *year, double *strike, char *cp)
{
    static const char *const months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    const char *d = strchr(name, '-');
    if (!d)
        return false;
    char mon[4] = {0};
    int consumed = 0;
    if (sscanf(d + 1, "%d%3[A-Z]%d-%lf-%c%n", day, mon, year, strike, cp, &consumed) != 5)
        return false;
    for (int m = 0; m < 12; m++)
        if (strcmp(mon, months[m]) == 0)
            *month = m + 1;
    *year += 2000;
    return true;
}

static void capture_builds_registry_and_market(void **state)
{
    (void)state;
    static top_check c;
    memset(&c, 0, sizeof c);
    ht_feed_config cfg;
    ht_feed_config_default(&cfg);
    cfg.on_event = on_capture_event;
    cfg.user = &c;
    ht_error err;
    ht_feed *feed = ht_feed_create(&cfg, &err);
    assert_non_null(feed);
    c.feed = feed;
    replay_capture(feed, &c);
    const ht_feed_stats *st = ht_feed_stats_get(feed);
    assert_int_equal(st->packets, 5066);
    assert_int_equal(st->messages, 6780);
    assert_int_equal(st->malformed_packets, 0);
    assert_int_equal(st->seq_gaps + st->seq_duplicates + st->seq_late + st->seq_resets, 0);
    assert_int_equal(st->book_chain_breaks, 0);
    assert_int_equal(st->book_inconsistent, 0);
    /* The vendor decode's counts per template. */
    const uint64_t counts[HT_SBE_TEMPLATE_COUNT] = {194, 1064, 332, 4211, 197, 60, 60, 0, 468, 0, 194};
    for (unsigned t = 0; t < HT_SBE_TEMPLATE_COUNT; t++)
        assert_int_equal(st->by_template[t], counts[t]);

    /* The registry: 84 distinct instrument ids in the capture, each found by id and by name. */
    assert_int_equal(ht_feed_instrument_count(feed), 84);
    unsigned options = 0;
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++) {
        const ht_instrument *in = ht_feed_instrument_at(feed, i);
        assert_int_equal(in->index, i);
        assert_ptr_equal(ht_feed_instrument(feed, in->id), in);
        assert_ptr_equal(ht_feed_instrument_by_name(feed, in->name), in);
        assert_ptr_equal(ht_feed_instrument_by_name_n(feed, in->name, in->name_len), in);
        if (!ht_instrument_is_option(in))
            continue;
        options++;
        int day = 0, month = 0, year = 0;
        double strike = 0;
        char cp = 0;
        assert_true(parse_option_name(in->name, &day, &month, &year, &strike, &cp));
        assert_true(in->strike_price == strike);
        assert_int_equal(in->option_type, cp == 'C' ? HT_OPTION_CALL : HT_OPTION_PUT);
        /* Deribit options expire at 08:00 UTC on the day in their name. */
        time_t t = (time_t)(in->expiration_timestamp_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        assert_int_equal(tm.tm_mday, day);
        assert_int_equal(tm.tm_mon + 1, month);
        assert_int_equal(tm.tm_year + 1900, year);
        assert_int_equal(tm.tm_hour, 8);
        /* BTC_ names are linear USDC options, the others inverse (coin-settled). */
        bool linear = strncmp(in->name, "BTC_USDC-", 9) == 0;
        assert_int_equal(in->inverse, !linear);
        assert_string_equal(in->settlement_currency, linear ? "USDC" : "BTC");
        assert_string_equal(in->index_name, linear ? "btc_usdc" : "btc_usd");
        assert_true(in->contract_size > 0 && in->tick_size > 0 && in->min_trade_amount > 0);
        assert_int_equal(in->channel_id, linear ? 11 : 2);
    }
    assert_int_equal(options, 76);
    const ht_instrument *perp = ht_feed_instrument_by_name(feed, "BTC-PERPETUAL");
    assert_non_null(perp);
    assert_int_equal(perp->id, 14);
    assert_true(perp->perpetual);
    assert_true(perp->inverse);
    assert_int_equal(perp->kind, HT_INST_FUTURE);
    assert_true(isnan(perp->strike_price));
    assert_int_equal(perp->channel_id, 1);
    assert_null(ht_feed_instrument_by_name(feed, "BTC-PERPETUAL-X"));
    assert_null(ht_feed_instrument(feed, 85));

    /* Latest market state: the vendor decode's last ticker per instrument and last price per index. */
    static vendor_last v;
    read_vendor(&v);
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++) {
        const ht_instrument *in = ht_feed_instrument_at(feed, i);
        assert_true(v.have[in->id]);
        assert_true(in->ticker.mark_price == v.mark[in->id]);
        assert_true(in->ticker.index_price == v.index[in->id]);
        assert_true(in->ticker.best_bid_price == v.bid[in->id]);
        assert_true(in->ticker.best_ask_price == v.ask[in->id]);
        assert_int_equal(ht_feed_price_status(feed, in, 0), HT_PRICE_OK);
        assert_true(ht_feed_price_trustworthy(feed, in, 0));
        assert_int_equal(ht_feed_book_status(feed, in), HT_BOOK_OK);
    }
    assert_int_equal(ht_feed_index_count(feed), v.n_ix);
    for (unsigned k = 0; k < v.n_ix; k++) {
        const ht_index_price *ix = ht_feed_index(feed, v.ix_name[k]);
        assert_non_null(ix);
        assert_true(ix->price == v.ix_price[k]);
        assert_int_equal(ht_feed_index_status(feed, ix, 0), HT_PRICE_OK);
        assert_ptr_equal(ht_feed_index_at(feed, ix->index), ix);
    }
    assert_non_null(ht_feed_index(feed, "btc_usd"));
    assert_null(ht_feed_index(feed, "xyz_usd"));

    /* Books rebuilt from snapshots and changes agree with the exchange's own best bid/ask. */
    assert_true(c.checked > 300);
    assert_int_equal(c.mismatched, 0);
    assert_true(st->snapshots_applied >= 84);
    /* The later snapshot batches carry the same changeIds as the books built from changes: all 110 agree. */
    assert_int_equal(st->snapshots_verified, 110);
    assert_int_equal(st->snapshots_mismatched, 0);
    assert_int_equal(c.events[HT_FEED_EV_INDEX], 468);
    uint64_t applied = 0;
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++)
        applied += ht_feed_instrument_at(feed, i)->ticker_updates;
    assert_int_equal(c.events[HT_FEED_EV_TICKER] + c.events[HT_FEED_EV_OPTION_TICKER], applied);
    assert_true(c.trades_with_iv > 0);
    /* The feed's clock is the latest exchange time seen: the capture ends 2023-06-15 19:43:50 UTC. */
    assert_true(ht_feed_now_ms(feed) / 1000 >= 1686858229ull && ht_feed_now_ms(feed) / 1000 <= 1686858231ull);
    /* Bids descend, asks ascend, the book is not crossed, reliable levels are held. */
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++) {
        const ht_book *b = ht_feed_book(feed, ht_feed_instrument_at(feed, i));
        for (uint32_t k = 1; k < b->bid_count; k++)
            assert_true(b->bids[k].price < b->bids[k - 1].price);
        for (uint32_t k = 1; k < b->ask_count; k++)
            assert_true(b->asks[k].price > b->asks[k - 1].price);
        if (b->bid_count && b->ask_count)
            assert_true(b->bids[0].price < b->asks[0].price);
        assert_true(b->bid_reliable <= b->bid_count && b->ask_reliable <= b->ask_count);
    }
    ht_feed_reset(feed);
    assert_int_equal(ht_feed_instrument_count(feed), 0);
    assert_int_equal(ht_feed_stats_get(feed)->packets, 0);
    assert_null(ht_feed_instrument_by_name(feed, "BTC-PERPETUAL"));
    ht_feed_destroy(feed);
}

/* ---- Synthetic packets -------------------------------------------------------------------------------- */

typedef struct recorder {
    ht_feed_event ev[256];
    unsigned n;
} recorder;

/* Records events (pointers stay valid: they point into the feed). */
static void on_record(void *user, const ht_feed_event *ev)
{
    recorder *r = user;
    if (r->n < 256)
        r->ev[r->n++] = *ev;
}

/* Counts recorded events of a kind. */
static unsigned count_kind(const recorder *r, ht_feed_event_kind kind)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->n; i++)
        n += r->ev[i].kind == kind;
    return n;
}

/* Creates a feed with a recorder and the given book depth. */
static ht_feed *make_feed(recorder *r, uint32_t depth, uint32_t max_instruments)
{
    ht_feed_config cfg;
    ht_feed_config_default(&cfg);
    cfg.on_event = on_record;
    cfg.user = r;
    cfg.book_depth = depth;
    cfg.max_instruments = max_instruments;
    ht_error err;
    ht_feed *f = ht_feed_create(&cfg, &err);
    assert_non_null(f);
    return f;
}

/* A packet being written. */
typedef struct pkt {
    uint8_t buf[4096];
    ht_sbe_writer w;
} pkt;

/* Starts a packet. */
static ht_sbe_writer *pkt_begin(pkt *p, uint16_t channel, uint32_t seq)
{
    ht_sbe_writer_init(&p->w, p->buf, sizeof p->buf, channel, seq);
    return &p->w;
}

/* Finishes a packet and feeds it; returns ht_feed_on_packet's result. */
static int pkt_send(ht_feed *f, pkt *p)
{
    size_t len = ht_sbe_writer_finish(&p->w);
    assert_true(len > 0);
    return ht_feed_on_packet(f, p->buf, len, 1234);
}

/* Writes an instrument (1000) of the given kind. */
static void put_instrument(ht_sbe_writer *w, uint32_t id, const char *name, uint8_t kind)
{
    ht_sbe_instrument in;
    memset(&in, 0, sizeof in);
    in.template_id = HT_SBE_INSTRUMENT;
    in.instrument_id = id;
    in.state = HT_SBE_STATE_OPEN;
    in.kind = kind;
    in.instrument_type = HT_SBE_TYPE_REVERSED;
    in.option_type = kind == HT_SBE_KIND_OPTION ? HT_SBE_OPTION_CALL : HT_SBE_OPTION_NONE;
    in.settlement_period = kind == HT_SBE_KIND_OPTION ? HT_SBE_PERIOD_DAY : HT_SBE_PERIOD_PERPETUAL;
    strcpy(in.base_currency, "BTC");
    strcpy(in.quote_currency, kind == HT_SBE_KIND_OPTION ? "BTC" : "USD");
    strcpy(in.counter_currency, "USD");
    strcpy(in.settlement_currency, "BTC");
    strcpy(in.size_currency, kind == HT_SBE_KIND_OPTION ? "BTC" : "USD");
    in.expiration_timestamp_ms = 1687507200000ull;
    in.strike_price = kind == HT_SBE_KIND_OPTION ? 25000 : NAN;
    in.contract_size = 1;
    in.tick_size = 0.0005;
    in.min_trade_amount = 0.1;
    in.maker_commission = 0.0003;
    in.taker_commission = 0.0003;
    in.name = name;
    in.name_len = (uint8_t)strlen(name);
    assert_int_equal(ht_sbe_put_instrument(w, &in, NULL, 0), 0);
}

/* Writes a ticker with the given time, mark and top of book. */
static void put_ticker(ht_sbe_writer *w, uint32_t id, uint64_t ts, double mark, double bid, double ask)
{
    ht_sbe_ticker t;
    memset(&t, 0, sizeof t);
    t.instrument_id = id;
    t.state = HT_SBE_STATE_OPEN;
    t.timestamp_ms = ts;
    t.mark_price = mark;
    t.index_price = 25000;
    t.best_bid_price = bid;
    t.best_bid_amount = 1;
    t.best_ask_price = ask;
    t.best_ask_amount = 1;
    t.last_price = NAN;
    assert_int_equal(ht_sbe_put_ticker(w, &t), 0);
}

/* Sets up instruments 1 ("A", option) and 2 ("B", perpetual) on channel 2 and 3 ("C") on channel 3, each
 * with a ticker on its channel. Channel 2 is at seq 11, channel 3 at 21 afterwards. */
static void setup_three(ht_feed *f)
{
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, 102, 1);
    put_instrument(w, 1, "A", HT_SBE_KIND_OPTION);
    put_instrument(w, 2, "B", HT_SBE_KIND_FUTURE);
    put_instrument(w, 3, "C", HT_SBE_KIND_FUTURE);
    assert_int_equal(pkt_send(f, &p), 3);
    w = pkt_begin(&p, 2, 10);
    put_ticker(w, 1, 1000, 0.05, 0.04, 0.06);
    put_ticker(w, 2, 1000, 25000, 24999, 25001);
    assert_int_equal(pkt_send(f, &p), 2);
    w = pkt_begin(&p, 2, 11);
    put_ticker(w, 1, 1001, 0.05, 0.04, 0.06);
    assert_int_equal(pkt_send(f, &p), 1);
    w = pkt_begin(&p, 3, 20);
    put_ticker(w, 3, 1000, 25000, 24999, 25001);
    assert_int_equal(pkt_send(f, &p), 1);
    w = pkt_begin(&p, 3, 21);
    put_ticker(w, 3, 1001, 25000, 24999, 25001);
    assert_int_equal(pkt_send(f, &p), 1);
}

/* Sends an empty packet (a snapshot-end only) to move a channel's sequence. */
static int send_seq(ht_feed *f, uint16_t channel, uint32_t seq)
{
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, channel, seq);
    ht_sbe_rfq r = {1, 0, 0, 1, 1000};
    assert_int_equal(ht_sbe_put_rfq(w, &r), 0);
    return pkt_send(f, &p);
}

static void sequencing_counts_gaps_duplicates_late_wraps_resets(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 8, 64);
    assert_int_equal(send_seq(f, 7, 100), 1);
    assert_int_equal(send_seq(f, 7, 101), 1);
    assert_int_equal(send_seq(f, 7, 101), 0); /* duplicate */
    assert_int_equal(send_seq(f, 7, 105), 1); /* gap: 102-104 missed */
    assert_int_equal(send_seq(f, 7, 103), 0); /* late */
    assert_int_equal(send_seq(f, 7, 103), 0); /* now a duplicate */
    assert_int_equal(send_seq(f, 7, 100), 0); /* an old duplicate still inside the window */
    const ht_feed_channel *ch = ht_feed_channel_find(f, 7);
    assert_non_null(ch);
    assert_int_equal(ch->gaps, 1);
    assert_int_equal(ch->missed, 3);
    assert_int_equal(ch->duplicates, 3);
    assert_int_equal(ch->late, 1);
    assert_int_equal(ch->packets, 3);
    assert_int_equal(count_kind(&r, HT_FEED_EV_GAP), 1);
    for (unsigned i = 0; i < r.n; i++)
        if (r.ev[i].kind == HT_FEED_EV_GAP) {
            assert_int_equal(r.ev[i].missed, 3);
            assert_int_equal(r.ev[i].channel_id, 7);
            assert_int_equal(r.ev[i].seq, 105);
        }
    /* The sequence wraps from 2^32-1 to 0 without a gap. */
    assert_int_equal(send_seq(f, 8, 0xFFFFFFFEu), 1);
    assert_int_equal(send_seq(f, 8, 0xFFFFFFFFu), 1);
    assert_int_equal(send_seq(f, 8, 0), 1);
    assert_int_equal(send_seq(f, 8, 1), 1);
    ch = ht_feed_channel_find(f, 8);
    assert_int_equal(ch->wraps, 1);
    assert_int_equal(ch->gaps + ch->resets + ch->duplicates, 0);
    /* A jump across the wrap is a gap of the right size. */
    assert_int_equal(send_seq(f, 9, 0xFFFFFFFDu), 1);
    assert_int_equal(send_seq(f, 9, 2), 1);
    ch = ht_feed_channel_find(f, 9);
    assert_int_equal(ch->missed, 4);
    assert_int_equal(ch->wraps, 1);
    /* A reset to 0 (after maintenance) is counted and the channel goes on from there. */
    assert_int_equal(send_seq(f, 7, 0), 1);
    assert_int_equal(send_seq(f, 7, 1), 1);
    ch = ht_feed_channel_find(f, 7);
    assert_int_equal(ch->resets, 1);
    assert_int_equal(ch->last_seq, 1);
    /* Far behind the window (not 0): treated as a restart. */
    assert_int_equal(send_seq(f, 8, 100000), 1); /* gap forward */
    assert_int_equal(send_seq(f, 8, 50), 1);
    ch = ht_feed_channel_find(f, 8);
    assert_int_equal(ch->resets, 1);
    const ht_feed_stats *st = ht_feed_stats_get(f);
    assert_int_equal(st->seq_resets, 2);
    assert_int_equal(st->seq_wraps, 2);
    assert_int_equal(st->seq_late, 1);
    ht_feed_destroy(f);
}

static void gap_makes_channel_stale_until_restored(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 8, 64);
    const ht_instrument *a, *b, *c;
    setup_three(f);
    a = ht_feed_instrument_by_name(f, "A");
    b = ht_feed_instrument_by_name(f, "B");
    c = ht_feed_instrument_by_name(f, "C");
    assert_non_null(a);
    assert_int_equal(a->channel_id, 2);
    assert_int_equal(c->channel_id, 3);
    assert_int_equal(ht_feed_price_status(f, a, 0), HT_PRICE_OK);
    assert_int_equal(ht_feed_price_status(f, b, 0), HT_PRICE_OK);
    /* Channel 2 loses packet 12. */
    assert_int_equal(send_seq(f, 2, 13), 1);
    assert_int_equal(ht_feed_price_status(f, a, 0), HT_PRICE_STALE);
    assert_int_equal(ht_feed_price_status(f, b, 0), HT_PRICE_STALE);
    assert_int_equal(ht_feed_price_status(f, c, 0), HT_PRICE_OK);
    assert_false(ht_feed_price_trustworthy(f, a, 0));
    /* A fresh full ticker restores A only. */
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, 2, 14);
    put_ticker(w, 1, 1002, 0.051, 0.04, 0.06);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_int_equal(ht_feed_price_status(f, a, 0), HT_PRICE_OK);
    assert_true(a->ticker.mark_price == 0.051);
    assert_int_equal(ht_feed_price_status(f, b, 0), HT_PRICE_STALE);
    /* A snapshot-channel ticker restores B. */
    w = pkt_begin(&p, 102, 2);
    assert_int_equal(ht_sbe_put_snapshot_start(w, 200), 0);
    put_ticker(w, 2, 1002, 25010, 25009, 25011);
    assert_int_equal(ht_sbe_put_snapshot_end(w), 0);
    assert_int_equal(pkt_send(f, &p), 3);
    assert_int_equal(ht_feed_price_status(f, b, 0), HT_PRICE_OK);
    /* An older ticker is ignored and does not restore. */
    assert_int_equal(send_seq(f, 3, 23), 1);
    assert_int_equal(ht_feed_price_status(f, c, 0), HT_PRICE_STALE);
    w = pkt_begin(&p, 3, 24);
    put_ticker(w, 3, 999, 1, 1, 1);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_int_equal(ht_feed_price_status(f, c, 0), HT_PRICE_STALE);
    assert_true(c->ticker.mark_price == 25000);
    assert_int_equal(ht_feed_stats_get(f)->old_tickers, 1);
    /* A closed instrument is not open. */
    w = pkt_begin(&p, 3, 25);
    ht_sbe_ticker t;
    memset(&t, 0, sizeof t);
    t.instrument_id = 3;
    t.state = HT_SBE_STATE_CLOSED;
    t.timestamp_ms = 5000;
    assert_int_equal(ht_sbe_put_ticker(w, &t), 0);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_int_equal(ht_feed_price_status(f, c, 0), HT_PRICE_NOT_OPEN);
    /* Age: the feed's clock is now 5000 ms; A's ticker is from 1002. */
    assert_int_equal(ht_feed_now_ms(f), 5000);
    assert_int_equal(ht_feed_price_status(f, a, 10000), HT_PRICE_OK);
    assert_int_equal(ht_feed_price_status(f, a, 3000), HT_PRICE_OLD);
    /* Events: one ticker event per ticker, option tickers apart. */
    assert_true(count_kind(&r, HT_FEED_EV_OPTION_TICKER) >= 3);
    assert_int_equal(count_kind(&r, HT_FEED_EV_INSTRUMENT), 3);
    ht_feed_destroy(f);
}

static void index_prices_and_their_staleness(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 8, 64);
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, 0, 1);
    ht_sbe_price_index ix = {"btc_usd", 25448.57, 1000};
    assert_int_equal(ht_sbe_put_price_index(w, &ix), 0);
    ht_sbe_price_index ix2 = {"eth_usd", 1668.72, 1000};
    assert_int_equal(ht_sbe_put_price_index(w, &ix2), 0);
    assert_int_equal(pkt_send(f, &p), 2);
    const ht_index_price *btc = ht_feed_index(f, "btc_usd");
    assert_non_null(btc);
    assert_true(btc->price == 25448.57);
    assert_int_equal(btc->updates, 1);
    assert_int_equal(ht_feed_index_status(f, btc, 0), HT_PRICE_OK);
    assert_int_equal(count_kind(&r, HT_FEED_EV_INDEX), 2);
    assert_ptr_equal(r.ev[0].index, btc);
    assert_true(r.ev[0].exchange_timestamp_ms == 1000);
    assert_int_equal(send_seq(f, 0, 3), 1); /* lost 2 */
    assert_int_equal(ht_feed_index_status(f, btc, 0), HT_PRICE_STALE);
    w = pkt_begin(&p, 0, 4);
    ix.price = 25450;
    ix.timestamp_ms = 2000;
    assert_int_equal(ht_sbe_put_price_index(w, &ix), 0);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_int_equal(ht_feed_index_status(f, btc, 0), HT_PRICE_OK);
    assert_int_equal(ht_feed_index_status(f, ht_feed_index(f, "eth_usd"), 0), HT_PRICE_STALE);
    assert_int_equal(ht_feed_index_status(f, ht_feed_index(f, "eth_usd"), 500), HT_PRICE_STALE);
    assert_true(btc->price == 25450);
    ht_feed_destroy(f);
}

/* Writes a complete snapshot batch (1005, one 1004, 1006) for instrument id on channel ch. */
static void send_snapshot(ht_feed *f, uint16_t ch, uint32_t seq, uint32_t id, uint64_t change_id,
                          const ht_sbe_level *levels, unsigned n)
{
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, ch, seq);
    assert_int_equal(ht_sbe_put_snapshot_start(w, 200), 0);
    ht_sbe_snapshot s = {id, 1000, change_id, 1, 1, {0}};
    assert_int_equal(ht_sbe_put_snapshot(w, &s, levels, n), 0);
    assert_int_equal(ht_sbe_put_snapshot_end(w), 0);
    assert_true(pkt_send(f, &p) > 0);
}

/* Writes one 1001 with the given changes. */
static int send_book(ht_feed *f, uint16_t ch, uint32_t seq, uint32_t id, uint64_t prev, uint64_t change,
                     uint8_t is_last, const ht_sbe_book_change *c, unsigned n)
{
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, ch, seq);
    ht_sbe_book b = {id, 1000 + change, prev, change, is_last, {0}};
    assert_int_equal(ht_sbe_put_book(w, &b, c, n), 0);
    return pkt_send(f, &p);
}

static void book_follows_snapshot_and_change_chain(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 8, 64);
    setup_three(f);
    const ht_instrument *b = ht_feed_instrument_by_name(f, "B");
    const ht_book *book = ht_feed_book(f, b);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_NONE);
    const ht_sbe_book_change c1[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_CREATED, 24990, 5}};
    assert_int_equal(send_book(f, 2, 12, 2, 5, 6, 1, c1, 1), 1);
    assert_int_equal(ht_feed_stats_get(f)->book_before_snapshot, 1);
    /* A 1004 outside 1005..1006 is ignored. */
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, 102, 2);
    const ht_sbe_level lv[] = {{HT_SBE_SIDE_BID, 24999, 1}, {HT_SBE_SIDE_ASK, 25001, 2},
                               {HT_SBE_SIDE_BID, 24998, 3}, {HT_SBE_SIDE_ASK, 25003, 4}};
    ht_sbe_snapshot s = {2, 1000, 10, 1, 1, {0}};
    assert_int_equal(ht_sbe_put_snapshot(w, &s, lv, 4), 0);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_NONE);
    assert_int_equal(ht_feed_stats_get(f)->snapshots_ignored, 1);
    /* Inside the bracket it builds the book. */
    send_snapshot(f, 102, 3, 2, 10, lv, 4);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    assert_int_equal(book->bid_count, 2);
    assert_int_equal(book->ask_count, 2);
    assert_true(book->bids[0].price == 24999 && book->bids[1].price == 24998);
    assert_true(book->asks[0].price == 25001 && book->asks[1].price == 25003);
    assert_int_equal(book->bid_reliable, 2);
    assert_int_equal(book->change_id, 10);
    /* Changes in the chain apply. */
    const ht_sbe_book_change c2[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_CREATED, 25000, 7},
                                     {HT_SBE_SIDE_ASK, HT_SBE_CHANGE_DELETED, 25001, 0},
                                     {HT_SBE_SIDE_ASK, HT_SBE_CHANGE_CHANGED, 25003, 9}};
    unsigned books_before = count_kind(&r, HT_FEED_EV_BOOK);
    assert_int_equal(send_book(f, 2, 13, 2, 10, 14, 1, c2, 3), 1);
    assert_int_equal(count_kind(&r, HT_FEED_EV_BOOK), books_before + 1);
    assert_true(book->bids[0].price == 25000 && book->bids[0].amount == 7);
    assert_int_equal(book->ask_count, 1);
    assert_true(book->asks[0].price == 25003 && book->asks[0].amount == 9);
    assert_int_equal(book->change_id, 14);
    /* A change split over two messages (isLast = 0) with the same ids. */
    const ht_sbe_book_change c3a[] = {{HT_SBE_SIDE_ASK, HT_SBE_CHANGE_CREATED, 25002, 1}};
    const ht_sbe_book_change c3b[] = {{HT_SBE_SIDE_ASK, HT_SBE_CHANGE_CREATED, 25004, 1}};
    assert_int_equal(send_book(f, 2, 14, 2, 14, 20, 0, c3a, 1), 1);
    assert_int_equal(send_book(f, 2, 15, 2, 14, 20, 1, c3b, 1), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    assert_int_equal(book->ask_count, 3);
    /* An old change is ignored. */
    assert_int_equal(send_book(f, 2, 16, 2, 12, 13, 1, c1, 1), 1);
    assert_int_equal(ht_feed_stats_get(f)->book_old_changes, 1);
    assert_int_equal(book->ask_count, 3);
    /* A sequence gap makes the book unverified; the next change in the chain proves it. */
    assert_int_equal(send_seq(f, 2, 18), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_UNVERIFIED);
    assert_int_equal(send_book(f, 2, 19, 2, 20, 21, 1, c1, 1), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    /* A break in the chain: broken until a snapshot. */
    assert_int_equal(send_book(f, 2, 20, 2, 25, 26, 1, c1, 1), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_BROKEN);
    assert_int_equal(ht_feed_stats_get(f)->book_chain_breaks, 1);
    send_snapshot(f, 102, 4, 2, 30, lv, 4);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    assert_int_equal(book->bid_count, 2);
    assert_int_equal(book->snapshots, 2);
    /* A snapshot not newer than a good book is not applied. */
    send_snapshot(f, 102, 5, 2, 29, lv, 2);
    assert_int_equal(book->bid_count, 2);
    assert_int_equal(book->ask_count, 2);
    /* A delete of a level a complete book does not hold: inconsistent, broken. */
    const ht_sbe_book_change bad[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_DELETED, 123, 0}};
    assert_int_equal(send_book(f, 2, 21, 2, 30, 31, 1, bad, 1), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_BROKEN);
    assert_int_equal(ht_feed_stats_get(f)->book_inconsistent, 1);
    ht_feed_destroy(f);
}

static void multi_part_snapshot_and_gap_abort(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 8, 64);
    setup_three(f);
    const ht_instrument *b = ht_feed_instrument_by_name(f, "B");
    const ht_book *book = ht_feed_book(f, b);
    pkt p;
    const ht_sbe_level part1[] = {{HT_SBE_SIDE_BID, 24999, 1}, {HT_SBE_SIDE_ASK, 25001, 2}};
    const ht_sbe_level part2[] = {{HT_SBE_SIDE_BID, 24998, 3}};
    ht_sbe_writer *w = pkt_begin(&p, 102, 2);
    assert_int_equal(ht_sbe_put_snapshot_start(w, 200), 0);
    ht_sbe_snapshot s = {2, 1000, 40, 1, 0, {0}};
    assert_int_equal(ht_sbe_put_snapshot(w, &s, part1, 2), 0);
    assert_true(pkt_send(f, &p) > 0);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_BROKEN); /* being rebuilt */
    w = pkt_begin(&p, 102, 3);
    s.is_last_in_book = 1;
    assert_int_equal(ht_sbe_put_snapshot(w, &s, part2, 1), 0);
    assert_int_equal(ht_sbe_put_snapshot_end(w), 0);
    assert_true(pkt_send(f, &p) > 0);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    assert_int_equal(book->bid_count, 2);
    assert_int_equal(book->ask_count, 1);
    /* A snapshot cut by a gap on the snapshot channel is not trusted. */
    const ht_sbe_book_change brk[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_CREATED, 1, 1}};
    assert_int_equal(send_book(f, 2, 12, 2, 99, 100, 1, brk, 1), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_BROKEN);
    w = pkt_begin(&p, 102, 4);
    assert_int_equal(ht_sbe_put_snapshot_start(w, 200), 0);
    s.change_id = 200;
    s.is_last_in_book = 0;
    assert_int_equal(ht_sbe_put_snapshot(w, &s, part1, 2), 0);
    assert_true(pkt_send(f, &p) > 0);
    w = pkt_begin(&p, 102, 6); /* 5 lost */
    s.is_last_in_book = 1;
    assert_int_equal(ht_sbe_put_snapshot(w, &s, part2, 1), 0);
    assert_int_equal(ht_sbe_put_snapshot_end(w), 0);
    assert_true(pkt_send(f, &p) > 0);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_BROKEN);
    assert_int_equal(ht_feed_stats_get(f)->snapshots_aborted, 1);
    ht_feed_destroy(f);
}

static void bounded_depth_says_how_many_levels_are_reliable(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 4, 64);
    setup_three(f);
    const ht_instrument *b = ht_feed_instrument_by_name(f, "B");
    const ht_book *book = ht_feed_book(f, b);
    const ht_sbe_level lv[] = {{HT_SBE_SIDE_BID, 100, 1}, {HT_SBE_SIDE_BID, 99, 1}, {HT_SBE_SIDE_BID, 98, 1},
                               {HT_SBE_SIDE_BID, 97, 1},  {HT_SBE_SIDE_BID, 96, 1}, {HT_SBE_SIDE_BID, 95, 1},
                               {HT_SBE_SIDE_ASK, 101, 1}};
    send_snapshot(f, 102, 2, 2, 10, lv, 7);
    assert_int_equal(book->bid_count, 4);
    assert_int_equal(book->bid_reliable, 4);
    assert_int_equal(book->depth, 4);
    assert_true(book->bids[3].price == 97);
    assert_true(ht_feed_stats_get(f)->book_levels_dropped >= 2);
    /* Deleting the best bid: 96 exists beyond the held levels; the three held are still the top three. */
    const ht_sbe_book_change del[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_DELETED, 100, 0}};
    assert_int_equal(send_book(f, 2, 12, 2, 10, 11, 1, del, 1), 1);
    assert_int_equal(book->bid_count, 3);
    assert_int_equal(book->bid_reliable, 3);
    /* A delete below the held levels (96 was dropped) is fine. */
    const ht_sbe_book_change del2[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_DELETED, 95, 0}};
    assert_int_equal(send_book(f, 2, 13, 2, 11, 12, 1, del2, 1), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    /* A new best bid: four sure levels again. */
    const ht_sbe_book_change add[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_CREATED, 100.5, 2}};
    assert_int_equal(send_book(f, 2, 14, 2, 12, 13, 1, add, 1), 1);
    assert_int_equal(book->bid_count, 4);
    assert_int_equal(book->bid_reliable, 4);
    assert_true(book->bids[0].price == 100.5);
    /* The ask side held everything: still exact. */
    assert_int_equal(book->ask_count, 1);
    assert_int_equal(book->ask_reliable, 1);
    ht_feed_destroy(f);
}

static void changes_before_the_snapshot_are_replayed_after_it(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 8, 64);
    setup_three(f);
    const ht_instrument *b = ht_feed_instrument_by_name(f, "B");
    const ht_book *book = ht_feed_book(f, b);
    /* Changes 10 -> 11 -> 12 -> 13 arrive before any snapshot; the snapshot is at 11. */
    const ht_sbe_book_change c11[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_CREATED, 24990, 1}};
    const ht_sbe_book_change c12[] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_CREATED, 24995, 2}};
    const ht_sbe_book_change c13[] = {{HT_SBE_SIDE_ASK, HT_SBE_CHANGE_DELETED, 25003, 0}};
    assert_int_equal(send_book(f, 2, 12, 2, 10, 11, 1, c11, 1), 1);
    assert_int_equal(send_book(f, 2, 13, 2, 11, 12, 1, c12, 1), 1);
    assert_int_equal(send_book(f, 2, 14, 2, 12, 13, 1, c13, 1), 1);
    assert_int_equal(ht_feed_stats_get(f)->book_changes_queued, 3);
    const ht_sbe_level lv[] = {{HT_SBE_SIDE_BID, 24999, 1}, {HT_SBE_SIDE_ASK, 25001, 2}, {HT_SBE_SIDE_BID, 24990, 1},
                               {HT_SBE_SIDE_ASK, 25003, 4}};
    send_snapshot(f, 102, 2, 2, 11, lv, 4);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    assert_int_equal(book->change_id, 13);
    assert_int_equal(ht_feed_stats_get(f)->book_changes_replayed, 2);
    assert_int_equal(book->bid_count, 3);
    assert_true(book->bids[1].price == 24995 && book->bids[1].amount == 2);
    assert_int_equal(book->ask_count, 1);
    /* The next change continues from 13. */
    const ht_sbe_book_change c14[] = {{HT_SBE_SIDE_ASK, HT_SBE_CHANGE_CREATED, 25002, 5}};
    assert_int_equal(send_book(f, 2, 15, 2, 13, 14, 1, c14, 1), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    assert_int_equal(ht_feed_stats_get(f)->book_chain_breaks, 0);
    /* A gap leaves the book unverified; a snapshot at its changeId that matches proves it whole. */
    assert_int_equal(send_seq(f, 2, 17), 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_UNVERIFIED);
    const ht_sbe_level now[] = {{HT_SBE_SIDE_BID, 24999, 1}, {HT_SBE_SIDE_BID, 24995, 2},
                                {HT_SBE_SIDE_BID, 24990, 1}, {HT_SBE_SIDE_ASK, 25001, 2},
                                {HT_SBE_SIDE_ASK, 25002, 5}};
    send_snapshot(f, 102, 3, 2, 14, now, 5);
    assert_int_equal(ht_feed_stats_get(f)->snapshots_verified, 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    /* One that disagrees (an amount differs) breaks the book until a rebuild. */
    const ht_sbe_level wrong[] = {{HT_SBE_SIDE_BID, 24999, 1}, {HT_SBE_SIDE_BID, 24995, 3},
                                  {HT_SBE_SIDE_BID, 24990, 1}, {HT_SBE_SIDE_ASK, 25001, 2},
                                  {HT_SBE_SIDE_ASK, 25002, 5}};
    send_snapshot(f, 102, 4, 2, 14, wrong, 5);
    assert_int_equal(ht_feed_stats_get(f)->snapshots_mismatched, 1);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_BROKEN);
    /* So does one missing a level the book holds. */
    send_snapshot(f, 102, 5, 2, 20, now, 5);
    assert_int_equal(ht_feed_book_status(f, b), HT_BOOK_OK);
    send_snapshot(f, 102, 6, 2, 20, now, 4);
    assert_int_equal(ht_feed_stats_get(f)->snapshots_mismatched, 2);
    ht_feed_destroy(f);
}

static void limits_and_bad_input_are_counted(void **state)
{
    (void)state;
    recorder r = {0};
    ht_feed *f = make_feed(&r, 4, 2);
    pkt p;
    ht_sbe_writer *w = pkt_begin(&p, 102, 1);
    put_instrument(w, 1, "A", HT_SBE_KIND_OPTION);
    put_instrument(w, 2, "B", HT_SBE_KIND_FUTURE);
    put_instrument(w, 3, "C", HT_SBE_KIND_FUTURE);
    assert_int_equal(pkt_send(f, &p), 3);
    assert_int_equal(ht_feed_instrument_count(f), 2);
    assert_int_equal(ht_feed_stats_get(f)->registry_full, 1);
    assert_null(ht_feed_instrument_by_name(f, "C"));
    /* A ticker for the unregistered id is counted, not applied. */
    w = pkt_begin(&p, 3, 1);
    put_ticker(w, 3, 1000, 1, 1, 1);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_int_equal(ht_feed_stats_get(f)->unknown_instrument, 1);
    /* Renaming an id moves its name. */
    w = pkt_begin(&p, 102, 2);
    put_instrument(w, 2, "B2", HT_SBE_KIND_FUTURE);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_null(ht_feed_instrument_by_name(f, "B"));
    assert_non_null(ht_feed_instrument_by_name(f, "B2"));
    assert_ptr_equal(ht_feed_instrument_by_name(f, "A"), ht_feed_instrument(f, 1));
    /* Eight-character currencies fill every byte of their fields; the derived index name is cut to 16
     * (found by fuzzing: it once wrote one byte past the field). */
    w = pkt_begin(&p, 102, 3);
    ht_sbe_instrument wide;
    memset(&wide, 0, sizeof wide);
    wide.template_id = HT_SBE_INSTRUMENT;
    wide.instrument_id = 1;
    strcpy(wide.base_currency, "ABCDEFGH");
    strcpy(wide.counter_currency, "IJKLMNOP");
    wide.name = "A";
    wide.name_len = 1;
    assert_int_equal(ht_sbe_put_instrument(w, &wide, NULL, 0), 0);
    assert_int_equal(pkt_send(f, &p), 1);
    assert_string_equal(ht_feed_instrument(f, 1)->base_currency, "ABCDEFGH");
    assert_string_equal(ht_feed_instrument(f, 1)->index_name, "abcdefgh_ijklmno");
    /* Unknown template, schema and version: counted and skipped; the ticker after them applies. */
    w = pkt_begin(&p, 2, 1);
    uint8_t body[133] = {0};
    ht_sbe_msg_header h1 = {4, 4242, 1, 2, 0, 0};
    ht_sbe_msg_header h2 = {133, HT_SBE_TICKER, 7, 2, 0, 0};
    ht_sbe_msg_header h3 = {133, HT_SBE_TICKER, 1, 9, 0, 0};
    assert_int_equal(ht_sbe_put_raw(w, &h1, body, 4), 0);
    assert_int_equal(ht_sbe_put_raw(w, &h2, body, 133), 0);
    assert_int_equal(ht_sbe_put_raw(w, &h3, body, 133), 0);
    put_ticker(w, 1, 1000, 0.05, 0.04, 0.06);
    assert_int_equal(pkt_send(f, &p), 4);
    const ht_feed_stats *st = ht_feed_stats_get(f);
    assert_int_equal(st->unknown_template, 1);
    assert_int_equal(st->unknown_schema, 1);
    assert_int_equal(st->unknown_version, 1);
    assert_int_equal(ht_feed_channel_find(f, 2)->other_messages, 3);
    assert_true(ht_feed_instrument(f, 1)->ticker.mark_price == 0.05);
    assert_int_equal(ht_feed_price_status(f, ht_feed_instrument(f, 1), 0), HT_PRICE_OK);
    /* A packet that lies after a good ticker: the ticker applies, the packet is reported, and the channel
     * becomes stale (what followed the lie is lost). */
    w = pkt_begin(&p, 2, 2);
    put_ticker(w, 1, 1001, 0.06, 0.04, 0.06);
    ht_sbe_msg_header lie = {29, HT_SBE_BOOK, 1, 2, 1, 0};
    uint8_t lie_body[29 + 8] = {0};
    lie_body[29] = 18;
    lie_body[31] = 50; /* 50 entries of 18 bytes that are not there */
    assert_int_equal(ht_sbe_put_raw(w, &lie, lie_body, sizeof lie_body), 0);
    assert_int_equal(pkt_send(f, &p), -1);
    assert_true(ht_feed_instrument(f, 1)->ticker.mark_price == 0.06);
    assert_int_equal(st->malformed_packets, 1);
    assert_int_equal(st->by_status[HT_SBE_ERR_GROUP_OVERRUN], 1);
    assert_int_equal(st->last_fault.channel_id, 2);
    assert_int_equal(st->last_fault.seq, 2);
    assert_int_equal(st->last_fault.offset, 8 + 12 + 133);
    assert_int_equal(st->last_fault.template_id, HT_SBE_BOOK);
    ht_error err;
    assert_int_equal(ht_feed_fault_format(f, &err), -1);
    assert_non_null(strstr(err.msg, "channel 2 seq 2, offset 153, template 1001 (book)"));
    assert_int_equal(ht_feed_price_status(f, ht_feed_instrument(f, 1), 0), HT_PRICE_STALE);
    /* Frames too short or lying about their length. */
    const uint8_t tiny[5] = {1, 2, 3, 4, 5};
    assert_int_equal(ht_feed_on_packet(f, tiny, sizeof tiny, 0), -1);
    const uint8_t longer[10] = {200, 0, 2, 0, 3, 0, 0, 0, 0, 0};
    assert_int_equal(ht_feed_on_packet(f, longer, sizeof longer, 0), -1);
    assert_int_equal(st->by_status[HT_SBE_ERR_SHORT_FRAME], 1);
    assert_int_equal(st->by_status[HT_SBE_ERR_FRAME_LENGTH], 1);
    assert_int_equal(ht_feed_on_packet(f, NULL, 0, 0), -1);
    ht_feed_destroy(f);
}

/* A real packet of several messages (instruments, their v2, tickers and snapshots from a snapshot batch) cut at
 * every length, the frame header patched to agree: every cut inside a message is one malformed packet
 * counted by its reason, the messages before the cut are applied, and nothing is read past the cut (ASan). */
static void feed_counts_every_truncation(void **state)
{
    (void)state;
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = CAPTURE;
    ht_error err;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    assert_non_null(nic);
    static uint8_t raw[2048];
    size_t len = 0;
    ht_nic_packet pkts[HT_NIC_BURST];
    int n;
    while (len == 0 && (n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF)
        for (int i = 0; i < n && len == 0; i++)
            if (pkts[i].frame == 805) { /* channel 111: instruments, tickers and snapshots */
                len = pkts[i].len;
                memcpy(raw, pkts[i].payload, len);
            }
    ht_nic_close(nic);
    assert_true(len > 300);
    ht_feed *f = ht_feed_create(NULL, &err);
    uint64_t expect_bad = 0;
    uint32_t seq = 1;
    for (size_t cut = 8; cut <= len; cut++) {
        uint8_t *copy = malloc(cut);
        memcpy(copy, raw, cut);
        uint16_t plen = (uint16_t)(cut - 8);
        memcpy(copy, &plen, 2);
        memcpy(copy + 4, &seq, 4);
        seq++;
        /* Is the cut on a message boundary of the whole packet? */
        ht_sbe_iter it;
        ht_sbe_iter_init(&it, copy, cut);
        ht_sbe_msg msg;
        while (ht_sbe_iter_next(&it, &msg))
            ;
        bool whole = it.status == HT_SBE_OK;
        int r = ht_feed_on_packet(f, copy, cut, 0);
        if (whole) {
            assert_true(r >= 0);
        } else {
            assert_int_equal(r, -1);
            expect_bad++;
        }
        free(copy);
    }
    const ht_feed_stats *st = ht_feed_stats_get(f);
    assert_true(expect_bad > 250);
    assert_int_equal(st->malformed_packets, expect_bad);
    uint64_t by_reason = 0;
    for (int s = 1; s < HT_SBE_STATUS_COUNT; s++)
        by_reason += st->by_status[s];
    assert_int_equal(by_reason, expect_bad);
    assert_true(st->by_status[HT_SBE_ERR_BLOCK_OVERRUN] > 0);
    assert_true(st->by_status[HT_SBE_ERR_VAR_OVERRUN] > 0);
    assert_true(st->by_status[HT_SBE_ERR_SHORT_HEADER] > 0);
    /* Every instrument of the packet was whole in some cut: all are registered, as from the whole packet. */
    ht_feed *ref = ht_feed_create(NULL, &err);
    uint32_t one = 1;
    memcpy(raw + 4, &one, 4);
    assert_true(ht_feed_on_packet(ref, raw, len, 0) > 0);
    assert_true(ht_feed_instrument_count(ref) >= 2);
    assert_int_equal(ht_feed_instrument_count(f), ht_feed_instrument_count(ref));
    ht_feed_destroy(ref);
    ht_feed_destroy(f);
}

static void create_rejects_bad_limits(void **state)
{
    (void)state;
    ht_feed_config cfg;
    ht_error err;
    ht_feed_config_default(&cfg);
    cfg.max_instruments = 0;
    assert_null(ht_feed_create(&cfg, &err));
    assert_non_null(strstr(err.msg, "max_instruments"));
    ht_feed_config_default(&cfg);
    cfg.book_depth = 5000;
    assert_null(ht_feed_create(&cfg, &err));
    assert_non_null(strstr(err.msg, "book_depth"));
    ht_feed_config_default(&cfg);
    cfg.max_channels = 70000;
    assert_null(ht_feed_create(&cfg, &err));
    ht_feed *f = ht_feed_create(NULL, &err);
    assert_non_null(f);
    ht_feed_destroy(f);
    ht_feed_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_builds_registry_and_market),
        cmocka_unit_test(sequencing_counts_gaps_duplicates_late_wraps_resets),
        cmocka_unit_test(gap_makes_channel_stale_until_restored),
        cmocka_unit_test(index_prices_and_their_staleness),
        cmocka_unit_test(book_follows_snapshot_and_change_chain),
        cmocka_unit_test(multi_part_snapshot_and_gap_abort),
        cmocka_unit_test(bounded_depth_says_how_many_levels_are_reliable),
        cmocka_unit_test(changes_before_the_snapshot_are_replayed_after_it),
        cmocka_unit_test(limits_and_bad_input_are_counted),
        cmocka_unit_test(feed_counts_every_truncation),
        cmocka_unit_test(create_rejects_bad_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

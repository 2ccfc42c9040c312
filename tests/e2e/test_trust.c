/* SPDX-License-Identifier: MIT */
/* No hedge on untrusted data, no hedging with unknown greeks: the simulated market with packet loss through the
 * engine, with an independent feed reading the same packets as the reference (every order the engine sends
 * must come when that feed trusts the hedge instrument's ticker and book and the index); and a book with an
 * option that never gets a mark: the engine refuses to start hedging unless [engine] allow_unpriced names it. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/engine_setup.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/market_sim.h"
#include "hedgetrig/sbe.h"

#include "event_log.h"

#define DEMO_BOOK HT_SOURCE_DIR "/examples/demo_book.csv"
#define TMP HT_TEST_TMPDIR

/* The demo's engine settings: the demo book on the in-process venue. */
static void demo_config(ht_engine_config *cfg, const char *log)
{
    ht_engine_config_default(cfg);
    snprintf(cfg->book_path, sizeof cfg->book_path, "%s", DEMO_BOOK);
    snprintf(cfg->strategy, sizeof cfg->strategy, "ww:0.25");
    cfg->min_half_width_coin = 0.05;
    snprintf(cfg->event_log, sizeof cfg->event_log, "%s", log);
}

/* The simulated market (seed 11, 900 steps, the given loss), a reference feed for the same packets, and the engine
 * on the demo book with cfg. */
typedef struct market_run {
    ht_mkt *m;
    ht_feed *ref;
    ht_engine *e;
} market_run;

static void market_run_start(market_run *r, double loss, const ht_engine_config *cfg)
{
    ht_mkt_config mc;
    ht_mkt_config_default(&mc);
    mc.seed = 11;
    mc.steps = 900;
    mc.loss_prob = loss;
    ht_error err;
    r->m = ht_mkt_create(&mc, &err);
    assert_non_null(r->m);
    r->ref = ht_feed_create(NULL, &err);
    assert_non_null(r->ref);
    r->e = ht_setup_engine_create(cfg, NULL, &err);
    if (!r->e)
        fail_msg("%s", err.msg);
}

/* Finishes the engine run (it must end cleanly) and returns its report. */
static void market_run_finish(market_run *r, ht_engine_report *rep)
{
    ht_error err;
    if (ht_engine_finish(r->e, &err) != 0)
        fail_msg("%s", err.msg);
    ht_engine_get_report(r->e, rep);
    ht_engine_destroy(r->e);
    ht_feed_destroy(r->ref);
    ht_mkt_destroy(r->m);
}

/* The market with 3% of its packets lost. After every packet the engine handled, the orders it sent (if any)
 * went out when the reference feed trusted BTC-PERPETUAL's ticker and book and the btc_usd index; decisions
 * on untrusted data were suppressed, counted and logged, and hedging went on once the data was trusted. */
static void lossy_market_never_trades_on_untrusted_quotes(void **state)
{
    (void)state;
    ht_engine_config cfg;
    demo_config(&cfg, TMP "/lossy.csv");
    snprintf(cfg.counters_path, sizeof cfg.counters_path, "%s", TMP "/lossy.counters");
    remove(cfg.counters_path);
    market_run r;
    market_run_start(&r, 0.03, &cfg);
    ht_mkt *m = r.m;
    ht_feed *ref = r.ref;
    ht_engine *e = r.e;
    ht_nic_packet p;
    ht_engine_report rep;
    uint64_t orders = 0, orders_checked = 0, untrusted_packets = 0;
    while (ht_mkt_next(m, &p) == 1) {
        assert_int_equal(ht_engine_on_packet(e, p.payload, p.len, 0, p.ts_ns), 0);
        ht_feed_on_packet(ref, p.payload, p.len, 0);
        const ht_instrument *perp = ht_feed_instrument_by_name(ref, "BTC-PERPETUAL");
        const ht_index_price *ix = ht_feed_index(ref, "btc_usd");
        const bool trusted = perp && ix && ht_feed_price_status(ref, perp, 0) == HT_PRICE_OK &&
                             ht_feed_book_status(ref, perp) == HT_BOOK_OK && ht_feed_index_status(ref, ix, 0) == HT_PRICE_OK;
        untrusted_packets += !trusted;
        ht_engine_get_report(e, &rep);
        if (rep.orders > orders) {
            if (!trusted)
                fail_msg("order %" PRIu64 " sent on packet %" PRIu64 " while the feed does not trust BTC-PERPETUAL "
                         "(ticker %s, book %s) or btc_usd",
                         rep.orders, rep.packets, perp ? ht_price_status_str(ht_feed_price_status(ref, perp, 0)) : "-",
                         perp ? ht_book_status_str(ht_feed_book_status(ref, perp)) : "-");
            orders_checked += rep.orders - orders;
            orders = rep.orders;
        }
    }
    const uint64_t dropped = ht_mkt_stats_get(m)->dropped;
    market_run_finish(&r, &rep);
    print_message("lossy market: %" PRIu64 " packets dropped, %" PRIu64 " sequence gaps, %" PRIu64
                  " packets with untrusted data; %" PRIu64 " decisions suppressed (%" PRIu64 " index, %" PRIu64
                  " venue), %" PRIu64 " orders, all on trusted data\n",
                  dropped, rep.gaps, untrusted_packets, rep.decisions_suppressed,
                  rep.suppressed_index, rep.suppressed_venue, orders_checked);
    assert_true(rep.gaps > 0);
    assert_true(untrusted_packets > 0);
    assert_true(rep.decisions_suppressed > 0);
    assert_int_equal(rep.decisions_suppressed, rep.suppressed_index + rep.suppressed_venue);
    assert_true(orders_checked > 0); /* hedging went on once the data was trusted */
    assert_int_equal(orders_checked, rep.orders);
    char *log = slurp(TMP "/lossy.csv");
    assert_non_null(log);
    assert_int_equal(count_events(log, "suppressed"), rep.decisions_suppressed);
    assert_true(count_events(log, "trusted") > 0);
    free(log);
    /* The operator's counters say the same. */
    char *counters = slurp(TMP "/lossy.counters"), line[64];
    assert_non_null(counters);
    snprintf(line, sizeof line, "\ndecisions_suppressed = %" PRIu64 "\n", rep.decisions_suppressed);
    assert_non_null(strstr(counters, line));
    free(counters);
}

/* What to do with one message when rewriting a packet: put it (changed or not) into w and return true, or
 * return false to have it copied as it is. ctx is the caller's. */
typedef bool (*rewrite_fn)(const ht_sbe_msg *msg, ht_sbe_writer *w, const void *ctx);

/* Rewrites a packet message by message through fn; returns the new length. */
static size_t rewrite(const uint8_t *in, size_t len, rewrite_fn fn, const void *ctx, uint8_t *out, size_t cap)
{
    ht_sbe_iter it;
    if (ht_sbe_iter_init(&it, in, len) != HT_SBE_OK || len > cap) {
        memcpy(out, in, len);
        return len;
    }
    ht_sbe_writer w;
    ht_sbe_writer_init(&w, out, cap, it.frame.channel_id, it.frame.seq);
    ht_sbe_msg msg;
    while (ht_sbe_iter_next(&it, &msg))
        if (!fn(&msg, &w, ctx))
            assert_int_equal(ht_sbe_put_raw(&w, &msg.hdr, msg.block, (size_t)(msg.end - msg.block)), 0);
    return ht_sbe_writer_finish(&w);
}

/* rewrite_fn: index prices (1008) stamped *(const uint64_t *)ctx ms earlier. */
static bool age_index(const ht_sbe_msg *msg, ht_sbe_writer *w, const void *ctx)
{
    ht_sbe_price_index pi;
    if (msg->hdr.template_id != HT_SBE_PRICE_INDEX || ht_sbe_decode_price_index(msg, &pi) != HT_SBE_OK)
        return false;
    pi.timestamp_ms -= *(const uint64_t *)ctx;
    assert_int_equal(ht_sbe_put_price_index(w, &pi), 0);
    return true;
}

/* rewrite_fn: the tickers (1003) of instrument *(const uint32_t *)ctx dropped. */
static bool drop_tickers(const ht_sbe_msg *msg, ht_sbe_writer *w, const void *ctx)
{
    (void)w;
    ht_sbe_ticker t;
    return msg->hdr.template_id == HT_SBE_TICKER && ht_sbe_decode_ticker(msg, &t) == HT_SBE_OK &&
           t.instrument_id == *(const uint32_t *)ctx;
}

/* For 300 steps the index arrives 10 s late on the exchange's clock, with [greeks] max_quote_age_ms = 5000: the
 * feed does not trust it. A breach then sends nothing (counted as an untrusted index), no order goes out while
 * the reference feed says the index is too old, the table is not re-centred on it, and hedging resumes after. */
static void old_index_breach_sends_nothing(void **state)
{
    (void)state;
    ht_engine_config cfg;
    demo_config(&cfg, TMP "/old_index.csv");
    cfg.greeks.max_quote_age_ms = 5000;
    market_run r;
    market_run_start(&r, 0.0, &cfg);
    ht_mkt *m = r.m;
    ht_feed *ref = r.ref;
    ht_engine *e = r.e;
    static const uint64_t age_ms = 10000;
    static uint8_t buf[65536];
    ht_nic_packet p;
    ht_engine_report rep;
    uint64_t orders = 0, old_ticks = 0, orders_after = 0;
    while (ht_mkt_next(m, &p) == 1) {
        const uint64_t step = ht_mkt_step(m);
        const size_t n = step >= 300 && step < 600 ? rewrite(p.payload, p.len, age_index, &age_ms, buf, sizeof buf)
                                                   : (memcpy(buf, p.payload, p.len), p.len);
        assert_int_equal(ht_engine_on_packet(e, buf, n, 0, p.ts_ns), 0);
        ht_feed_on_packet(ref, buf, n, 0);
        const ht_index_price *ix = ht_feed_index(ref, "btc_usd");
        const bool old = ix && ht_feed_index_status(ref, ix, 5000) == HT_PRICE_OLD;
        old_ticks += old;
        ht_engine_get_report(e, &rep);
        if (rep.orders > orders && old)
            fail_msg("order %" PRIu64 " sent at step %" PRIu64 " on an index %" PRIu64 " ms old", rep.orders, step,
                     ht_feed_now_ms(ref) - ix->timestamp_ms);
        if (step >= 600)
            orders_after += rep.orders - orders;
        orders = rep.orders;
    }
    market_run_finish(&r, &rep);
    print_message("old index: %" PRIu64 " packets on a 10 s old index; %" PRIu64 " decisions suppressed on it, %" PRIu64
                  " orders after it was fresh again\n",
                  old_ticks, rep.suppressed_index, orders_after);
    assert_true(old_ticks > 100);
    assert_true(rep.suppressed_index >= 1);
    assert_int_equal(rep.check_mismatches, 0);
    assert_true(orders_after > 0);
    char *log = slurp(TMP "/old_index.csv");
    assert_non_null(log);
    assert_non_null(strstr(log, "no order: the index is not trusted"));
    free(log);
}

#define NO_MARK_OPTION "BTC-12JAN24-47000-C"

/* Runs the demo book on 120 steps of the market in which NO_MARK_OPTION never gets a ticker; returns
 * ht_engine_finish's result, the report and the text report in *text. */
static int run_without_one_mark(ht_engine_config *cfg, ht_engine_report *rep, char **text, ht_error *err)
{
    ht_mkt_config mc;
    ht_mkt_config_default(&mc);
    mc.seed = 5;
    mc.steps = 120;
    ht_mkt *m = ht_mkt_create(&mc, err);
    assert_non_null(m);
    const ht_mkt_instrument *opt = ht_mkt_instrument_find(m, NO_MARK_OPTION);
    assert_non_null(opt);
    const uint32_t id = opt->id;
    cfg->arm_timeout_ms = 5000;
    ht_engine *e = ht_setup_engine_create(cfg, NULL, err);
    if (!e)
        fail_msg("%s", err->msg);
    static uint8_t buf[65536];
    ht_nic_packet p;
    int rc = 0;
    while (rc == 0 && ht_mkt_next(m, &p) == 1) {
        size_t n = rewrite(p.payload, p.len, drop_tickers, &id, buf, sizeof buf);
        rc = ht_engine_on_packet(e, buf, n, 0, p.ts_ns);
    }
    rc = ht_engine_finish(e, err);
    ht_engine_get_report(e, rep);
    FILE *f = fopen(TMP "/report.txt", "w");
    assert_non_null(f);
    ht_engine_print_report(e, f);
    fclose(f);
    *text = slurp(TMP "/report.txt");
    ht_engine_destroy(e);
    ht_mkt_destroy(m);
    return rc;
}

/* A position with no usable greeks keeps the engine from hedging (after the wait for marks too), with a reason
 * that names it; named in [engine] allow_unpriced, hedging starts without it and the report names it. */
static void unusable_position_blocks_arming_unless_allowed(void **state)
{
    (void)state;
    ht_engine_config cfg;
    ht_engine_report rep;
    ht_error err = {{0}};
    char *text = NULL;
    demo_config(&cfg, TMP "/no_mark.csv");
    assert_int_equal(run_without_one_mark(&cfg, &rep, &text, &err), -1);
    assert_false(rep.armed);
    assert_int_equal(rep.orders, 0);
    assert_non_null(strstr(err.msg, "not arming: 1 positions have no usable greeks (" NO_MARK_OPTION ": no_mark)"));
    assert_non_null(strstr(err.msg, "allow_unpriced"));
    char *log = slurp(TMP "/no_mark.csv");
    assert_non_null(log);
    assert_int_equal(count_events(log, "arm_refused"), 1);
    assert_int_equal(count_events(log, "order"), 0);
    free(log);
    free(text);

    demo_config(&cfg, TMP "/no_mark_allowed.csv");
    assert_int_equal(ht_engine_config_load(&cfg, HT_SOURCE_DIR "/tests/e2e/data/allow_unpriced.conf", &err), 0);
    assert_int_equal(cfg.n_allow_unpriced, 2);
    assert_int_equal(run_without_one_mark(&cfg, &rep, &text, &err), 0);
    assert_true(rep.armed);
    assert_int_equal(rep.positions_excluded, 1);
    assert_int_equal(rep.positions_in_table, 10);
    assert_non_null(text);
    assert_non_null(strstr(text, "10 options in the table, 1 positions left out"));
    assert_non_null(strstr(text, "  " NO_MARK_OPTION ": no_mark, left out (no usable greeks)"));
    free(text);

    /* A name that is not in the book is a configuration error, not a silent no-op. */
    demo_config(&cfg, TMP "/no_mark_unknown.csv");
    cfg.n_allow_unpriced = 1;
    snprintf(cfg.allow_unpriced[0], sizeof cfg.allow_unpriced[0], "BTC-12JAN24-99000-C");
    assert_int_equal(run_without_one_mark(&cfg, &rep, &text, &err), -1);
    assert_non_null(strstr(err.msg, "allow_unpriced names BTC-12JAN24-99000-C, which is not in the book"));
    free(text);
}

/* The key's grammar: instrument names only. */
static void allow_unpriced_refuses_bad_names(void **state)
{
    (void)state;
    ht_engine_config cfg;
    ht_engine_config_default(&cfg);
    ht_error err = {{0}};
    FILE *f = fopen(TMP "/bad_allow.conf", "w");
    assert_non_null(f);
    fputs("[engine]\nallow_unpriced = BTC-12JAN24-47000-C, BTC\001X\n", f);
    fclose(f);
    assert_int_equal(ht_engine_config_load(&cfg, TMP "/bad_allow.conf", &err), -1);
    assert_non_null(strstr(err.msg, "bad_allow.conf:2"));
    assert_non_null(strstr(err.msg, "allow_unpriced"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lossy_market_never_trades_on_untrusted_quotes),
        cmocka_unit_test(old_index_breach_sends_nothing),
        cmocka_unit_test(unusable_position_blocks_arming_unless_allowed),
        cmocka_unit_test(allow_unpriced_refuses_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

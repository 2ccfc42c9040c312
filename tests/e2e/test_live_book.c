/* SPDX-License-Identifier: MIT */
/* The live book: the engine on the simulated market with its venue (the in-process exchange simulator behind the
 * FIX gateway) wrapped in a test venue that speaks for the account: it injects position snapshots and updates,
 * trades of other sessions, liquidations, settlements and account figures at chosen exchange times, refuses orders
 * for rate limits during a window, and keeps its own ledger of what the account holds (the snapshot, the injected
 * trades and the fills of our orders it saw pass). The checks: reconciliation (adopt, halt), attribution by source,
 * a new instrument's greek row (the engine's net delta against an independent Black-76 recompute from the ledger),
 * settlement at expiry, rate-limited hedges held and merged without spinning, the JSON keys and the Prometheus
 * file (every line parsed back). */
#include <ctype.h>
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

#include "hedgetrig/black76.h"
#include "hedgetrig/engine_setup.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/market_sim.h"

#include "event_log.h"

#define DEMO_BOOK HT_SOURCE_DIR "/examples/demo_book.csv"
#define TMP HT_TEST_TMPDIR
#define MAX_INJECT 32
#define MAX_LEDGER 64
#define MAX_ORDERS 8192

/* ---- The test venue ------------------------------------------------------------------------------------- */

/* An event to hand out once the exchange clock reaches at_ms. */
typedef struct inject {
    uint64_t at_ms;
    bool in_ledger;          /* a trade the ledger holds already (the venue's update came first) */
    ht_venue_event ev;
} inject;

/* The account as the test venue knows it: instrument -> signed contracts. */
typedef struct ledger_line {
    char name[HT_VENUE_NAME_BYTES];
    double contracts;
} ledger_line;

typedef struct proxy {
    ht_venue self;
    ht_venue *inner;
    uint64_t now_ms;            /* the clock the engine passes (set_clock) or the market's */
    inject q[MAX_INJECT];
    unsigned nq, next;
    uint64_t refuse_from_ms, refuse_until_ms; /* sends refused for rate in [from, until) */
    bool mirror_limits;
    unsigned sends, rate_refusals;
    ledger_line ledger[MAX_LEDGER];
    unsigned n_ledger;
    struct {
        uint64_t id;
        int side;
        char name[HT_VENUE_NAME_BYTES];
    } orders[MAX_ORDERS];
    unsigned n_orders;
} proxy;

/* The ledger's line of an instrument (added at 0). */
static double *ledger_at(proxy *p, const char *name)
{
    for (unsigned i = 0; i < p->n_ledger; i++)
        if (!strcmp(p->ledger[i].name, name))
            return &p->ledger[i].contracts;
    assert_true(p->n_ledger < MAX_LEDGER);
    snprintf(p->ledger[p->n_ledger].name, sizeof p->ledger[0].name, "%s", name);
    p->ledger[p->n_ledger].contracts = 0.0;
    return &p->ledger[p->n_ledger++].contracts;
}

static bool refusing(const proxy *p)
{
    return p->now_ms >= p->refuse_from_ms && p->now_ms < p->refuse_until_ms;
}

static int px_send(void *ctx, const ht_venue_order *o, ht_venue_send_result *r)
{
    proxy *p = ctx;
    p->sends++;
    if (refusing(p)) {
        p->rate_refusals++;
        memset(r, 0, sizeof *r);
        r->rate_limited = true;
        snprintf(r->reason, sizeof r->reason, "rate limit: no room for an order until %" PRIu64 " ms",
                 p->refuse_until_ms);
        return -1;
    }
    int rc = p->inner->ops->send(p->inner->ctx, o, r);
    assert_true(p->n_orders < MAX_ORDERS);
    if (r->in_flight) {
        p->orders[p->n_orders].id = r->order_id;
        p->orders[p->n_orders].side = o->side;
        snprintf(p->orders[p->n_orders++].name, HT_VENUE_NAME_BYTES, "%s", o->instrument);
    }
    return rc;
}

static int px_cancel(void *ctx, uint64_t id, ht_error *err)
{
    proxy *p = ctx;
    return p->inner->ops->cancel(p->inner->ctx, id, err);
}

/* The fills of our orders go into the ledger as they pass. */
static void ledger_fill(proxy *p, const ht_venue_event *ev)
{
    for (unsigned i = 0; i < p->n_orders; i++)
        if (p->orders[i].id == ev->order_id)
            *ledger_at(p, p->orders[i].name) += p->orders[i].side * ev->fill_contracts;
}

/* Injected events first (those that are due), then the inner venue's, without its own account events: the test
 * speaks for the account. */
static int px_poll(void *ctx, ht_venue_event *out, int max)
{
    proxy *p = ctx;
    int n = 0;
    while (n < max && p->next < p->nq && p->q[p->next].at_ms <= p->now_ms) {
        const bool in_ledger = p->q[p->next].in_ledger;
        const ht_venue_event *ev = &p->q[p->next++].ev;
        if (ev->type == HT_VENUE_EV_TRADE && !in_ledger)
            *ledger_at(p, ev->instrument) += ev->trade_contracts;
        if (ev->type == HT_VENUE_EV_POSITION && ev->instrument[0])
            *ledger_at(p, ev->instrument) = ev->position_contracts;
        out[n++] = *ev;
    }
    if (n == max)
        return n;
    ht_venue_event tmp[16];
    int k = p->inner->ops->poll(p->inner->ctx, tmp, max - n < 16 ? max - n : 16);
    for (int i = 0; i < k; i++) {
        if (tmp[i].type == HT_VENUE_EV_POSITION || tmp[i].type == HT_VENUE_EV_TRADE ||
            tmp[i].type == HT_VENUE_EV_ACCOUNT)
            continue;
        if (tmp[i].type == HT_VENUE_EV_ORDER && tmp[i].fill_contracts > 0)
            ledger_fill(p, &tmp[i]);
        out[n++] = tmp[i];
    }
    return n;
}

static void px_wait(void *ctx, int ms)
{
    proxy *p = ctx;
    p->inner->ops->wait(p->inner->ctx, ms);
}

static double px_position(void *ctx, const char *name)
{
    proxy *p = ctx;
    return p->inner->ops->position(p->inner->ctx, name);
}

static ht_venue_state px_state(void *ctx)
{
    proxy *p = ctx;
    return p->inner->ops->state(p->inner->ctx);
}

static const char *px_state_name(void *ctx)
{
    proxy *p = ctx;
    return p->inner->ops->state_name(p->inner->ctx);
}

static const char *px_last_problem(void *ctx)
{
    proxy *p = ctx;
    return p->inner->ops->last_problem(p->inner->ctx);
}

static void px_logout(void *ctx, const char *text)
{
    proxy *p = ctx;
    p->inner->ops->logout(p->inner->ctx, text);
}

static int px_set_contract(void *ctx, const char *name, const ht_contract *c, ht_error *err)
{
    proxy *p = ctx;
    return p->inner->ops->set_contract(p->inner->ctx, name, c, err);
}

static void px_set_mark(void *ctx, const char *name, double mark)
{
    proxy *p = ctx;
    p->inner->ops->set_mark(p->inner->ctx, name, mark);
}

static void px_set_clock(void *ctx, uint64_t now_ns)
{
    proxy *p = ctx;
    if (now_ns / 1000000u > p->now_ms)
        p->now_ms = now_ns / 1000000u;
    p->inner->ops->set_clock(p->inner->ctx, now_ns);
}

/* The mirrored limits: no room during the refusal window (and when the next order fits), plenty otherwise. */
static void px_limits(void *ctx, ht_venue_limits *out)
{
    proxy *p = ctx;
    memset(out, 0, sizeof *out);
    if (!p->mirror_limits)
        return;
    out->known = true;
    out->orders_burst = 20;
    out->orders_available = refusing(p) ? 0.0 : 20.0;
    out->next_order_ns = refusing(p) ? (p->refuse_until_ms - p->now_ms) * 1000000u : 0;
    out->credits_max = out->credits_available = 50000;
    out->held = p->rate_refusals;
}

static void px_set_book(void *ctx, const char *name, const ht_venue_level *b, unsigned nb, const ht_venue_level *a,
                        unsigned na)
{
    proxy *p = ctx;
    if (p->inner->ops->set_book)
        p->inner->ops->set_book(p->inner->ctx, name, b, nb, a, na);
}

static void px_destroy(void *ctx)
{
    proxy *p = ctx;
    ht_venue_destroy(p->inner);
    free(p);
}

static const ht_venue_ops k_proxy_ops = {.send = px_send,
                                         .cancel = px_cancel,
                                         .poll = px_poll,
                                         .wait = px_wait,
                                         .position = px_position,
                                         .state = px_state,
                                         .state_name = px_state_name,
                                         .last_problem = px_last_problem,
                                         .logout = px_logout,
                                         .set_contract = px_set_contract,
                                         .set_mark = px_set_mark,
                                         .set_clock = px_set_clock,
                                         .limits = px_limits,
                                         .set_book = px_set_book,
                                         .destroy = px_destroy};

/* Queues an event for exchange time at_ms. */
static void queue(proxy *p, uint64_t at_ms, const ht_venue_event *ev)
{
    assert_true(p->nq < MAX_INJECT);
    p->q[p->nq].at_ms = at_ms;
    p->q[p->nq].in_ledger = false;
    p->q[p->nq++].ev = *ev;
}

static void queue_position(proxy *p, uint64_t at_ms, const char *name, double qty, bool snapshot, bool end)
{
    ht_venue_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = HT_VENUE_EV_POSITION;
    snprintf(ev.instrument, sizeof ev.instrument, "%s", name);
    ev.position_contracts = qty;
    ev.snapshot = snapshot;
    ev.snapshot_end = end;
    queue(p, at_ms, &ev);
}

static void queue_trade(proxy *p, uint64_t at_ms, const char *name, double qty, double px, ht_venue_trade_source src)
{
    ht_venue_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = HT_VENUE_EV_TRADE;
    snprintf(ev.instrument, sizeof ev.instrument, "%s", name);
    ev.trade_contracts = qty;
    ev.px = px;
    ev.source = src;
    snprintf(ev.trade_id, sizeof ev.trade_id, "T%u", p->nq);
    queue(p, at_ms, &ev);
}

/* The demo book as a snapshot (every line, then the end), with `change` lines replaced or added. */
static void queue_book_snapshot(proxy *p, uint64_t at_ms, const char *const *names, const double *qty, unsigned n)
{
    static const struct {
        const char *name;
        double qty;
    } demo[] = {{"BTC-6JAN24-44000-C", -10}, {"BTC-6JAN24-44000-P", -10}, {"BTC-6JAN24-45000-C", -5},
                {"BTC-6JAN24-43000-P", -5},  {"BTC-12JAN24-44000-C", -20}, {"BTC-12JAN24-44000-P", -20},
                {"BTC-12JAN24-47000-C", 10}, {"BTC-12JAN24-41000-P", 10}, {"BTC-26JAN24-44000-C", 8},
                {"BTC-26JAN24-46000-C", 10}, {"BTC-26JAN24-42000-P", 10}};
    for (unsigned i = 0; i < HT_ARRAY_LEN(demo); i++) {
        double q = demo[i].qty;
        for (unsigned k = 0; k < n; k++)
            if (!strcmp(names[k], demo[i].name))
                q = qty[k];
        queue_position(p, at_ms, demo[i].name, q, true, false);
    }
    for (unsigned k = 0; k < n; k++) {
        bool in_demo = false;
        for (unsigned i = 0; i < HT_ARRAY_LEN(demo); i++)
            in_demo |= !strcmp(names[k], demo[i].name);
        if (!in_demo)
            queue_position(p, at_ms, names[k], qty[k], true, false);
    }
    queue_position(p, at_ms, "", 0.0, true, true);
}

/* ---- A run ---------------------------------------------------------------------------------------------- */

typedef struct run {
    ht_mkt *m;
    ht_feed *ref;     /* an independent feed on the same packets: marks and index for the recompute */
    ht_engine *e;
    proxy *p;
    uint64_t start_ms;
} run;

/* The demo's engine settings (forwards from the index, so the recompute below needs no futures). */
static void live_config(ht_engine_config *cfg, const char *log)
{
    ht_engine_config_default(cfg);
    snprintf(cfg->book_path, sizeof cfg->book_path, "%s", DEMO_BOOK);
    snprintf(cfg->strategy, sizeof cfg->strategy, "ww:0.25");
    cfg->min_half_width_coin = 0.05;
    cfg->greeks.forward = HT_FORWARD_INDEX;
    snprintf(cfg->event_log, sizeof cfg->event_log, "%s", log);
}

static void run_start(run *r, const ht_engine_config *cfg, uint32_t step_ms, uint32_t steps)
{
    ht_mkt_config mc;
    ht_mkt_config_default(&mc);
    mc.seed = 7;
    mc.steps = steps;
    mc.step_ms = step_ms;
    ht_error err = {{0}};
    r->m = ht_mkt_create(&mc, &err);
    assert_non_null(r->m);
    r->start_ms = mc.start_ms;
    r->ref = ht_feed_create(NULL, &err);
    assert_non_null(r->ref);
    r->e = ht_engine_create(cfg, &err);
    if (!r->e)
        fail_msg("%s", err.msg);
    ht_venue *inner = ht_setup_venue_create(cfg, NULL, &err);
    if (!inner)
        fail_msg("%s", err.msg);
    r->p = calloc(1, sizeof *r->p);
    assert_non_null(r->p);
    r->p->inner = inner;
    r->p->self = *inner;
    r->p->self.ops = &k_proxy_ops;
    r->p->self.ctx = r->p;
}

/* Attaches the test venue (after the events to hand out at logon are queued). */
static void run_attach(run *r)
{
    ht_error err = {{0}};
    if (ht_engine_attach_venue(r->e, &r->p->self, &err) != 0)
        fail_msg("%s", err.msg);
}

/* One packet through the engine and the reference feed; false at the market's end. */
static bool run_step(run *r)
{
    ht_nic_packet pkt;
    if (ht_mkt_next(r->m, &pkt) != 1)
        return false;
    uint64_t ts_ms = pkt.ts_ns / 1000000u;
    if (ts_ms > r->p->now_ms)
        r->p->now_ms = ts_ms;
    assert_int_equal(ht_engine_on_packet(r->e, pkt.payload, pkt.len, 0, pkt.ts_ns), 0);
    ht_feed_on_packet(r->ref, pkt.payload, pkt.len, 0);
    return true;
}

/* Runs until the exchange clock reaches at_ms (or the end). */
static void run_until(run *r, uint64_t at_ms)
{
    while (r->p->now_ms < at_ms && run_step(r))
        ;
}

/* Runs until the test venue has handed out its first n events (at least one step: they were not out yet), and
 * checks that the engine reloaded its table on the step that delivered the last of them (the book's change is in
 * the pipeline at once). *before (may be NULL) gets the report as it stood before that step. */
static void run_until_delivered(run *r, unsigned n, ht_engine_report *before)
{
    ht_engine_report rep, now;
    assert_true(r->p->next < n);
    while (r->p->next < n) {
        ht_engine_get_report(r->e, &rep);
        assert_true(run_step(r));
    }
    ht_engine_get_report(r->e, &now);
    assert_true(now.refreshes > rep.refreshes);
    if (before)
        *before = rep;
}

static void run_end(run *r)
{
    ht_engine_destroy(r->e);
    ht_feed_destroy(r->ref);
    ht_mkt_destroy(r->m);
}

/* The engine's position of an instrument (NAN when it is not in its book). */
static double engine_position(const ht_engine *e, const char *name)
{
    ht_engine_position pos[128];
    size_t n = ht_engine_positions(e, pos, 128);
    assert_true(n <= 128);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(pos[i].instrument, name))
            return pos[i].in_book ? pos[i].contracts : NAN;
    return NAN;
}

/* The engine's positions equal the test venue's ledger, instrument by instrument (unhedged ones included). */
static void assert_book_is_ledger(const run *r)
{
    const proxy *p = r->p;
    for (unsigned i = 0; i < p->n_ledger; i++) {
        double mine = engine_position(r->e, p->ledger[i].name);
        if (isnan(mine))
            mine = 0.0;
        if (fabs(mine - p->ledger[i].contracts) > 1e-9)
            fail_msg("%s: the engine holds %.10g, the venue %.10g", p->ledger[i].name, mine, p->ledger[i].contracts);
    }
}

/* The net delta of the ledger's positions recomputed independently of the engine's greeks: every option's IV
 * inverted from its mark with the Black-76 solver (F = the index, r = 0, ACT/365), its Deribit delta in coin
 * (Black-76 delta minus the price in coin) times its contracts, plus the perpetual's coin inventory at its mark. */
static double independent_net_delta(const run *r)
{
    const ht_index_price *ix = ht_feed_index(r->ref, "btc_usd");
    assert_non_null(ix);
    const double s = ix->price;
    const uint64_t now_ms = ix->timestamp_ms;
    double sum = 0.0;
    for (unsigned i = 0; i < r->p->n_ledger; i++) {
        const ht_instrument *in = ht_feed_instrument_by_name(r->ref, r->p->ledger[i].name);
        const double q = r->p->ledger[i].contracts;
        if (!in || q == 0.0 || strncmp(in->base_currency, "BTC", 3) != 0)
            continue;
        const double mark = in->ticker.mark_price;
        if (in->kind == HT_INST_FUTURE) {
            sum += q * in->contract_size / mark;
            continue;
        }
        const double t = (double)(in->expiration_timestamp_ms - now_ms) / (365.0 * 86400000.0);
        const ht_b76_type type = in->option_type == HT_OPTION_CALL ? HT_B76_CALL : HT_B76_PUT;
        ht_iv_result iv = ht_b76_implied_vol(type, s, in->strike_price, t, 0.0, mark * s);
        assert_int_equal(iv.status, HT_IV_OK);
        ht_b76_greeks g;
        assert_int_equal(ht_b76_compute(type, s, in->strike_price, t, iv.sigma, 0.0, &g), 0);
        sum += q * in->contract_size * (g.delta - mark);
    }
    return sum;
}

/* ---- Tests ---------------------------------------------------------------------------------------------- */

/* The engine's net delta right after a table load against the independent recompute: the same positions, marks and
 * index (a hedge filled on the same packet would add its inventory at the price it was decided at: the checks are
 * made where none was); what remains is the solvers' rounding. */
#define NET_DELTA_TOLERANCE 1e-5
#define T0 1704441600000ull /* the market's start: 2024-01-05 08:00 UTC */

/* A snapshot at logon that differs from the book in one quantity, adds an option the book did not hold and one of
 * an instrument the feed does not know: each difference is counted, logged and adopted; the new option gets its
 * greek row, and the net delta the engine uses equals the independent recompute from the venue's positions. Later
 * trades of another session (an option bought), a liquidation (of the perpetual) and an update nothing explains
 * (then its trade) are attributed by source; a position on an underlying the book does not hedge is reported. */
static void snapshot_adopts_and_changes_are_attributed(void **state)
{
    (void)state;
    ht_engine_config cfg;
    live_config(&cfg, TMP "/live_adopt.csv");
    cfg.min_half_width_coin = 0.5; /* the option trades stay inside it; the liquidation does not */
    snprintf(cfg.prometheus_path, sizeof cfg.prometheus_path, "%s", TMP "/live_adopt.prom");
    remove(cfg.prometheus_path);
    run r;
    run_start(&r, &cfg, 1000, 600);
    const char *names[] = {"BTC-12JAN24-44000-C", "BTC-26JAN24-44000-P", "XRP-FUTURE-NOPE"};
    const double qty[] = {-25, 6, 3};
    queue_book_snapshot(r.p, 0, names, qty, 3);
    queue_trade(r.p, T0 + 200000, "BTC-26JAN24-48000-C", 1, 0.01, HT_VENUE_SRC_OTHER);
    queue_trade(r.p, T0 + 250000, "BTC-PERPETUAL", -30000, 44000, HT_VENUE_SRC_LIQUIDATION);
    queue_position(r.p, T0 + 300000, "BTC-12JAN24-47000-C", 12, false, false); /* nothing explains +2 */
    queue_trade(r.p, T0 + 320000, "BTC-12JAN24-47000-C", 2, 0.01, HT_VENUE_SRC_OTHER); /* ... until this */
    r.p->q[r.p->nq - 1].in_ledger = true;
    queue_trade(r.p, T0 + 350000, "ETH-PERPETUAL", 100, 2300, HT_VENUE_SRC_OTHER);   /* feed does not know */
    run_attach(&r);
    ht_engine_report rep;
    run_until(&r, T0 + 120000);
    ht_engine_get_report(r.e, &rep);
    assert_true(rep.armed);
    assert_int_equal(rep.snapshots, 1);
    assert_int_equal(rep.reconciliation_differences, 3);
    assert_int_equal(rep.new_instruments, 1);
    assert_int_equal(rep.unhedged_positions, 1);
    assert_true(fabs(engine_position(r.e, "BTC-12JAN24-44000-C") + 25) < 1e-12);
    assert_true(fabs(engine_position(r.e, "BTC-26JAN24-44000-P") - 6) < 1e-12);
    assert_book_is_ledger(&r);
    /* After each change the table is reloaded at once: the engine's net delta then against the recompute from the
     * venue's positions (the new rows are in the hedge). */
    for (unsigned k = 15; k <= 17; k++) {
        ht_engine_report before;
        run_until_delivered(&r, k, &before);
        const uint64_t fills = before.fills;
        ht_engine_get_report(r.e, &rep);
        if (k == 16) {
            assert_true(rep.fills > fills); /* the liquidation moved the delta out of the band: hedged at once */
            continue;
        }
        assert_int_equal(rep.fills, fills);
        const double nd = ht_engine_net_delta(r.e, 0), ref = independent_net_delta(&r);
        print_message("after event %u: engine net delta %.9f, independent %.9f\n", k, nd, ref);
        assert_true(fabs(nd - ref) < NET_DELTA_TOLERANCE);
    }
    run_until(&r, T0 + 400000);
    ht_engine_get_report(r.e, &rep);
    assert_int_equal(rep.position_changes[HT_ENGINE_CHANGE_OTHER], 3);
    assert_int_equal(rep.position_changes[HT_ENGINE_CHANGE_LIQUIDATION], 1);
    assert_int_equal(rep.position_changes[HT_ENGINE_CHANGE_UNEXPLAINED], 0); /* the trade explained it */
    assert_int_equal(rep.unexplained_alerts, 1);
    assert_int_equal(rep.liquidation_alerts, 1);
    assert_int_equal(rep.new_instruments, 2);
    assert_int_equal(rep.unhedged_positions, 2);
    assert_false(rep.halted);
    assert_true(fabs(engine_position(r.e, "BTC-12JAN24-47000-C") - 12) < 1e-12);
    assert_true(fabs(engine_position(r.e, "BTC-26JAN24-48000-C") - 1) < 1e-12);
    assert_book_is_ledger(&r);
    run_until(&r, UINT64_MAX);
    ht_error err = {{0}};
    if (ht_engine_finish(r.e, &err) != 0)
        fail_msg("%s", err.msg);
    ht_engine_get_report(r.e, &rep);
    assert_int_equal(rep.position_changes[HT_ENGINE_CHANGE_HEDGE], rep.fills);
    assert_book_is_ledger(&r);
    char *log = slurp(TMP "/live_adopt.csv");
    assert_non_null(log);
    assert_int_equal(count_events(log, "reconcile"), 3);
    assert_int_equal(count_events(log, "new_position"), 2);
    assert_int_equal(count_events(log, "unhedged"), 2);
    assert_int_equal(count_events(log, "liquidation"), 1);
    assert_int_equal(count_events(log, "unexplained"), 1);
    assert_int_equal(count_events(log, "attributed"), 1);
    assert_int_equal(count_events(log, "trade"), 4);
    assert_non_null(strstr(log, ",ETH-PERPETUAL,buy,100,,,,not in the hedge: the feed's registry does not know it"));
    free(log);
    run_end(&r);
}

/* [book] reconcile = halt: a snapshot that differs stops the orders with the difference as the reason, and the run
 * fails naming it. [book] on_liquidation = halt: a liquidation does the same. */
static void halt_policies_stop_the_orders(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        ht_engine_config cfg;
        live_config(&cfg, TMP "/live_halt.csv");
        if (k == 0)
            cfg.reconcile = HT_ENGINE_RECONCILE_HALT;
        else
            cfg.on_liquidation = HT_ENGINE_LIQUIDATION_HALT;
        run r;
        run_start(&r, &cfg, 1000, 300);
        ht_error err = {{0}};
        const char *names[] = {"BTC-6JAN24-44000-C"};
        const double qty[] = {-7};
        if (k == 0)
            queue_book_snapshot(r.p, T0 + 100000, names, qty, 1);
        else
            queue_trade(r.p, T0 + 100000, "BTC-PERPETUAL", 2000, 44000, HT_VENUE_SRC_LIQUIDATION);
        run_attach(&r);
        run_until(&r, T0 + 100000);
        ht_engine_report rep;
        ht_engine_get_report(r.e, &rep);
        const uint64_t orders = rep.orders;
        run_until(&r, UINT64_MAX);
        assert_int_equal(ht_engine_finish(r.e, &err), -1);
        ht_engine_get_report(r.e, &rep);
        assert_true(rep.halted);
        assert_true(rep.orders <= orders + 1); /* at most the decision in flight when it came */
        print_message("halt %d: %s\n", k, err.msg);
        assert_non_null(strstr(err.msg, k == 0 ? "halted: reconciliation: BTC-6JAN24-44000-C: the venue holds -7 "
                                                 "contracts, the book -10"
                                               : "halted: a liquidation of BTC-PERPETUAL"));
        run_end(&r);
    }
}

/* Options that expire leave the book: one by a settlement trade at its delivery price, one by its position going
 * to 0 after expiry; the hedge follows (the net delta after equals the recompute without them). */
static void expiry_settles_options_out_of_the_book(void **state)
{
    (void)state;
    ht_engine_config cfg;
    live_config(&cfg, TMP "/live_expiry.csv");
    run r;
    run_start(&r, &cfg, 60000, 1500); /* a day and a bit: the 6JAN24 options expire at 08:00 */
    const uint64_t expiry = T0 + 86400000ull;
    /* The book's 6JAN24 lines as the venue holds them, so the ledger knows them. */
    queue_book_snapshot(r.p, 0, NULL, NULL, 0);
    queue_trade(r.p, expiry + 120000, "BTC-6JAN24-44000-C", 10, 0.0, HT_VENUE_SRC_SETTLEMENT);
    queue_trade(r.p, expiry + 120000, "BTC-6JAN24-44000-P", 10, 0.0, HT_VENUE_SRC_SETTLEMENT);
    queue_position(r.p, expiry + 180000, "BTC-6JAN24-45000-C", 0, false, false);
    queue_position(r.p, expiry + 180000, "BTC-6JAN24-43000-P", 0, false, false);
    run_attach(&r);
    run_until(&r, expiry + 100000);
    run_until_delivered(&r, r.p->nq, NULL);
    ht_engine_report rep;
    ht_engine_get_report(r.e, &rep);
    assert_int_equal(rep.position_changes[HT_ENGINE_CHANGE_SETTLEMENT], 4);
    assert_int_equal(rep.unexplained_alerts, 0);
    assert_true(isnan(engine_position(r.e, "BTC-6JAN24-44000-C")));
    assert_true(isnan(engine_position(r.e, "BTC-6JAN24-45000-C")));
    assert_book_is_ledger(&r);
    const double nd = ht_engine_net_delta(r.e, 0), ref = independent_net_delta(&r);
    print_message("after expiry: engine net delta %.9f, independent %.9f\n", nd, ref);
    assert_true(fabs(nd - ref) < NET_DELTA_TOLERANCE);
    run_until(&r, UINT64_MAX);
    ht_error err = {{0}};
    if (ht_engine_finish(r.e, &err) != 0)
        fail_msg("%s", err.msg);
    char *log = slurp(TMP "/live_expiry.csv");
    assert_non_null(log);
    assert_int_equal(count_events(log, "book_leave"), 4);
    assert_int_equal(count_events(log, "settle"), 4);
    free(log);
    run_end(&r);
}

/* Orders refused for rate during a window are held, not dropped and not retried while the mirrored limits say no
 * room (the venue sees exactly one refused send per hold); once an order fits, one decision on the net delta then
 * merges them. */
static void rate_limited_hedges_are_held_and_merged(void **state)
{
    (void)state;
    ht_engine_config cfg;
    live_config(&cfg, TMP "/live_rate.csv");
    snprintf(cfg.strategy, sizeof cfg.strategy, "fixed:0.05");
    cfg.min_half_width_coin = 0.02;
    run r;
    run_start(&r, &cfg, 1000, 900);
    r.p->mirror_limits = true;
    r.p->refuse_from_ms = T0 + 100000;
    r.p->refuse_until_ms = T0 + 400000;
    run_attach(&r);
    run_until(&r, r.p->refuse_until_ms);
    ht_engine_report rep;
    ht_engine_get_report(r.e, &rep);
    print_message("rate window: %u refused sends, %" PRIu64 " held, %" PRIu64 " merged so far\n", r.p->rate_refusals,
                  rep.hedges_held_for_rate, rep.hedges_merged);
    assert_true(rep.hedges_held_for_rate >= 1);
    assert_int_equal(r.p->rate_refusals, rep.hedges_held_for_rate); /* no spinning: one send per hold */
    run_until(&r, UINT64_MAX);
    ht_error err = {{0}};
    if (ht_engine_finish(r.e, &err) != 0)
        fail_msg("%s", err.msg);
    ht_engine_get_report(r.e, &rep);
    assert_int_equal(rep.hedges_merged, rep.hedges_held_for_rate);
    char *log = slurp(TMP "/live_rate.csv");
    assert_non_null(log);
    assert_int_equal(count_events(log, "rate_hold"), rep.hedges_held_for_rate);
    assert_true(count_events(log, "rate_merged") >= 1);
    free(log);
    FILE *f = fopen(TMP "/live_rate.json", "w");
    assert_non_null(f);
    ht_engine_write_json(r.e, f);
    fclose(f);
    char *json = slurp(TMP "/live_rate.json"), want[96];
    assert_non_null(json);
    snprintf(want, sizeof want, "\"hedges_held_for_rate\":%" PRIu64 ",\"hedges_merged\":%" PRIu64 ",",
             rep.hedges_held_for_rate, rep.hedges_merged);
    assert_non_null(strstr(json, want));
    assert_non_null(strstr(json, "\"rate_limits\":{\"orders_available\":20,"));
    free(json);
    run_end(&r);
}

/* Every line of a Prometheus text file is a HELP, a TYPE or a sample of a metric whose HELP and TYPE came
 * first; names follow the conventions (hedgetrig_ prefix, counters end in _total); label values are quoted with
 * only escaped quotes, backslashes and newlines; values are numbers. Returns the value of `want` (a sample as
 * written before its value), NAN when absent. */
static double check_prometheus(const char *text, const char *want)
{
    char typed[64][96];
    unsigned n_typed = 0;
    double found = NAN;
    char help_of[96] = "";
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        assert_non_null(end); /* every line ends */
        char buf[512];
        size_t len = (size_t)(end - line);
        assert_true(len < sizeof buf);
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = end + 1;
        char name[96], type[16];
        if (!strncmp(buf, "# HELP ", 7)) {
            assert_int_equal(sscanf(buf + 7, "%95s", help_of), 1);
            assert_true(strlen(buf) > 8 + strlen(help_of));
            continue;
        }
        if (!strncmp(buf, "# TYPE ", 7)) {
            assert_int_equal(sscanf(buf + 7, "%95s %15s", name, type), 2);
            assert_string_equal(name, help_of); /* HELP then TYPE */
            assert_true(!strcmp(type, "gauge") || !strcmp(type, "counter"));
            size_t nl = strlen(name);
            assert_true(!strcmp(type, "counter") == (nl > 6 && !strcmp(name + nl - 6, "_total")));
            assert_true(n_typed < 64);
            snprintf(typed[n_typed++], sizeof typed[0], "%s", name);
            continue;
        }
        /* A sample: name, optional {label="value"}, a space, the value. */
        size_t i = strspn(buf, "abcdefghijklmnopqrstuvwxyz0123456789_");
        assert_true(i > 10 && !strncmp(buf, "hedgetrig_", 10));
        memcpy(name, buf, i);
        name[i] = '\0';
        bool known = false;
        for (unsigned k = 0; k < n_typed; k++)
            known |= !strcmp(typed[k], name);
        assert_true(known);
        if (buf[i] == '{') {
            i++;
            i += strspn(buf + i, "abcdefghijklmnopqrstuvwxyz_");
            assert_true(buf[i] == '=' && buf[i + 1] == '"');
            for (i += 2; buf[i] != '"'; i++) {
                assert_true(buf[i] != '\0');
                if (buf[i] == '\\') {
                    assert_non_null(strchr("\\\"n", buf[i + 1]));
                    i++;
                }
            }
            assert_true(buf[i + 1] == '}');
            i += 2;
        }
        assert_true(buf[i] == ' ');
        char *stop;
        double v = strtod(buf + i + 1, &stop);
        assert_true(*stop == '\0' && stop > buf + i + 1);
        if (!strncmp(buf, want, strlen(want)) && buf[strlen(want)] == ' ')
            found = v;
    }
    return found;
}

/* The JSON's live-book keys and the Prometheus file of a run with a snapshot, a trade and account figures. */
static void json_and_prometheus_report_the_live_book(void **state)
{
    (void)state;
    ht_engine_config cfg;
    live_config(&cfg, TMP "/live_out.csv");
    snprintf(cfg.prometheus_path, sizeof cfg.prometheus_path, "%s", TMP "/live_out.prom");
    remove(cfg.prometheus_path);
    run r;
    run_start(&r, &cfg, 1000, 200);
    queue_book_snapshot(r.p, 0, NULL, NULL, 0);
    queue_trade(r.p, T0 + 50000, "BTC-12JAN24-41000-P", -4, 0.002, HT_VENUE_SRC_OTHER);
    ht_venue_event acc;
    memset(&acc, 0, sizeof acc);
    acc.type = HT_VENUE_EV_ACCOUNT;
    snprintf(acc.account.currency, sizeof acc.account.currency, "BTC");
    acc.account.equity = 12.5;
    acc.account.balance = 12.25;
    acc.account.initial_margin = 1.75;
    acc.account.maintenance_margin = 1.25;
    acc.account.wall_ms = T0 + 60000;
    queue(r.p, T0 + 60000, &acc);
    ht_venue_event bad = acc;
    snprintf(bad.account.currency, sizeof bad.account.currency, "B\"C");
    queue(r.p, T0 + 61000, &bad); /* refused where it enters */
    run_attach(&r);
    run_until(&r, UINT64_MAX);
    ht_error err = {{0}};
    if (ht_engine_finish(r.e, &err) != 0)
        fail_msg("%s", err.msg);
    ht_engine_report rep;
    ht_engine_get_report(r.e, &rep);
    FILE *f = fopen(TMP "/live_out.json", "w");
    assert_non_null(f);
    ht_engine_write_json(r.e, f);
    fclose(f);
    char *json = slurp(TMP "/live_out.json");
    assert_non_null(json);
    assert_non_null(strstr(json, "\"positions\":{\"BTC-6JAN24-44000-C\":-10,"));
    assert_non_null(strstr(json, "\"BTC-12JAN24-41000-P\":6,"));
    assert_non_null(strstr(json, "\"venue_positions\":{\"BTC-6JAN24-44000-C\":-10,"));
    assert_non_null(strstr(json, "\"position_changes\":{\"hedge\":"));
    assert_non_null(strstr(json, ",\"other_session\":1,\"liquidation\":0,\"settlement\":0,\"unexplained\":0},"
                                 "\"reconciliation_differences\":0,\"snapshots\":1,"));
    assert_non_null(strstr(json, "\"account\":{\"currency\":\"BTC\",\"equity\":12.5,\"balance\":12.25,"
                                 "\"initial_margin\":1.75,\"maintenance_margin\":1.25,\"updated_s\":1704441660.000},"));
    assert_non_null(strstr(json, "\"halted\":false,\"halt_reason\":\"\","));
    free(json);
    char *prom = slurp(cfg.prometheus_path);
    assert_non_null(prom);
    assert_true(check_prometheus(prom, "hedgetrig_orders_sent_total") == (double)rep.orders);
    assert_true(check_prometheus(prom, "hedgetrig_orders_filled_total") == (double)rep.fills);
    assert_true(check_prometheus(prom, "hedgetrig_position_contracts{instrument=\"BTC-12JAN24-41000-P\"}") == 6);
    assert_true(check_prometheus(prom, "hedgetrig_venue_position_contracts{instrument=\"BTC-6JAN24-44000-P\"}") == -10);
    assert_true(check_prometheus(prom, "hedgetrig_position_changes_total{source=\"other_session\"}") == 1);
    assert_true(check_prometheus(prom, "hedgetrig_account_equity{currency=\"BTC\"}") == 12.5);
    assert_true(check_prometheus(prom, "hedgetrig_account_maintenance_margin{currency=\"BTC\"}") == 1.25);
    assert_true(fabs(check_prometheus(prom, "hedgetrig_net_delta_coin{underlying=\"BTC\"}") - rep.final_net_delta) <
                1e-12);
    assert_true(isnan(check_prometheus(prom, "hedgetrig_no_such_metric")));
    free(prom);
    char *log = slurp(TMP "/live_out.csv");
    assert_non_null(log);
    /* Replay logs what changed the book; a snapshot equal to it and the account's figures are counted only. */
    assert_int_equal(count_events(log, "account"), 0);
    assert_int_equal(count_events(log, "bad_venue_event"), 1);
    assert_int_equal(count_events(log, "reconcile"), 0);
    assert_int_equal(count_events(log, "snapshot"), 0);
    assert_int_equal(count_events(log, "position"), 0);
    free(log);
    run_end(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snapshot_adopts_and_changes_are_attributed),
        cmocka_unit_test(halt_policies_stop_the_orders),
        cmocka_unit_test(expiry_settles_options_out_of_the_book),
        cmocka_unit_test(rate_limited_hedges_are_held_and_merged),
        cmocka_unit_test(json_and_prometheus_report_the_live_book),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Differential test of the decision's fast path: a decision on prepared books (running depth sums) against the
 * same decision walking the same books, over random venues, books, strategies and event sequences, bit for bit.
 * (The venue split is checked against its equal-marginal-cost conditions in test_optimizer.c.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/optimizer.h"

/* Random trials: configurations x events per configuration (bounded for the ASan build). */
#define N_SETUPS 1500
#define N_EVENTS 40

/* A reproducible stream (xorshift64*, Vigna 2016) for the random setups. */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static double rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

/* True with probability p. */
static bool chance(double p)
{
    return rnd() < p;
}

/* Two doubles with the same bits (NaN equal to the same NaN): the fast path must not move a single ulp. */
static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Fails with both values when two fields differ. */
#define EXPECT_SAME(what, a, b, ctx)                                                                                 \
    do {                                                                                                             \
        if (!same_bits((a), (b)))                                                                                    \
            fail_msg("%s: %s differs: prepared %.17g, walked %.17g", (ctx), (what), (a), (b));                        \
    } while (0)

/* Compares two decisions field by field, bit for bit. */
static void expect_same_decision(const ht_opt_decision *fast, const ht_opt_decision *ref, const char *ctx)
{
    if (fast->reason != ref->reason || fast->n_orders != ref->n_orders)
        fail_msg("%s: reason %s / %u orders, walked %s / %u orders", ctx, ht_opt_reason_name(fast->reason),
                 fast->n_orders, ht_opt_reason_name(ref->reason), ref->n_orders);
    EXPECT_SAME("band_lo_coin", fast->band_lo_coin, ref->band_lo_coin, ctx);
    EXPECT_SAME("band_hi_coin", fast->band_hi_coin, ref->band_hi_coin, ctx);
    EXPECT_SAME("centre_coin", fast->centre_coin, ref->centre_coin, ctx);
    EXPECT_SAME("half_width_coin", fast->half_width_coin, ref->half_width_coin, ctx);
    EXPECT_SAME("hedge_vol", fast->hedge_vol, ref->hedge_vol, ctx);
    EXPECT_SAME("k_eff", fast->k_eff, ref->k_eff, ctx);
    EXPECT_SAME("target_delta_coin", fast->target_delta_coin, ref->target_delta_coin, ctx);
    EXPECT_SAME("trade_delta_coin", fast->trade_delta_coin, ref->trade_delta_coin, ctx);
    EXPECT_SAME("expected_cost_usd", fast->expected_cost_usd, ref->expected_cost_usd, ctx);
    if (fast->next_timer_ns != ref->next_timer_ns)
        fail_msg("%s: next_timer_ns %lld, walked %lld", ctx, (long long)fast->next_timer_ns,
                 (long long)ref->next_timer_ns);
    for (uint32_t i = 0; i < fast->n_orders && i < HT_OPT_MAX_VENUES; i++) {
        const ht_opt_order *a = &fast->orders[i], *b = &ref->orders[i];
        if (a->venue != b->venue || a->side != b->side)
            fail_msg("%s: order %u on venue %u side %d, walked venue %u side %d", ctx, i, a->venue, a->side,
                     b->venue, b->side);
        EXPECT_SAME("order amount", a->amount, b->amount, ctx);
        EXPECT_SAME("order contracts", a->contracts, b->contracts, ctx);
        EXPECT_SAME("order limit_px", a->limit_px, b->limit_px, ctx);
        EXPECT_SAME("order delta_coin", a->delta_coin, b->delta_coin, ctx);
        EXPECT_SAME("order expected_cost_usd", a->expected_cost_usd, b->expected_cost_usd, ctx);
    }
}

/* A random hedge instrument: linear or inverse, with or without lots, minimums, limits, negative maker fees. */
static void random_venue(ht_opt_venue *v, int index)
{
    char name[32];
    snprintf(name, sizeof name, "VENUE-%d", index);
    bool inverse = chance(0.5);
    ht_opt_venue_init(v, name, inverse ? HT_OPT_INVERSE : HT_OPT_LINEAR, inverse ? 10.0 : 0.001);
    if (chance(0.3))
        v->contract_size = inverse ? 1.0 + floor(20.0 * rnd()) : 0.0001 * (1.0 + floor(20.0 * rnd()));
    v->lot_amount = chance(0.15) ? 0.0 : v->contract_size * (chance(0.7) ? 1.0 : 1.0 + floor(5.0 * rnd()));
    v->min_amount = chance(0.3) ? 0.0 : v->lot_amount * (chance(0.5) ? 1.0 : 0.5 + 4.0 * rnd());
    v->tick_size = (const double[]){0.5, 1.0, 2.5, 0.1, 0.05, 5.0}[(int)(6.0 * rnd())];
    v->taker_fee = chance(0.2) ? -0.0001 * rnd() : 0.001 * rnd();
    v->maker_fee = chance(0.5) ? 0.0 : -0.00025;
    v->max_long_amount = chance(0.2) ? (inverse ? 1e5 : 4.0) * rnd() : 0.0;
    v->max_short_amount = chance(0.2) ? (inverse ? 1e5 : 4.0) * rnd() : 0.0;
    v->collar_frac = chance(0.7) ? 0.005 : 0.0005 + 0.05 * rnd();
}

/* One side of a book: n levels moving away from the touch, sometimes out of order, with empty or absurd levels. */
static void random_side(double *px, double *amount, uint8_t *n_out, double touch, double tick, int side,
                        bool inverse, double spot)
{
    int n = (int)(9.0 * rnd());
    double p = touch;
    for (int l = 0; l < HT_OPT_BOOK_LEVELS; l++) {
        px[l] = p;
        double coins = chance(0.1) ? 50.0 * rnd() : 5.0 * rnd();
        amount[l] = inverse ? round(coins * spot / 10.0) * 10.0 : round(coins * 1000.0) / 1000.0;
        if (chance(0.03))
            amount[l] = chance(0.5) ? 0.0 : -1.0;
        if (chance(0.02))
            px[l] = (const double[]){0.0, -5.0, NAN, INFINITY, touch}[(int)(5.0 * rnd())];
        p += side * tick * (chance(0.1) ? -1.0 : 1.0 + floor(3.0 * rnd())) * (chance(0.05) ? 40.0 : 1.0);
    }
    *n_out = (uint8_t)n;
}

/* A random quote around spot (sometimes crossed, one-sided, far from spot or of unlimited depth), prepared for its
 * venue's contract, for the other one (which the decision must ignore), or not at all. */
static void random_quote(ht_opt_quote *q, const ht_opt_venue *v, double spot)
{
    memset(q, 0, sizeof *q);
    bool inverse = v->contract == HT_OPT_INVERSE;
    double mid = spot * (chance(0.9) ? 1.0 + 0.004 * (rnd() - 0.5) : 0.3 + 2.0 * rnd());
    double tick = v->tick_size;
    double half = tick * (1.0 + floor(4.0 * rnd()));
    double bid = floor(mid / tick) * tick - (chance(0.05) ? -3.0 * half : half - tick);
    double ask = bid + half + (chance(0.5) ? tick : 0.0);
    random_side(q->bid_px, q->bid_amount, &q->n_bid, bid, tick, -1, inverse, spot);
    random_side(q->ask_px, q->ask_amount, &q->n_ask, ask, tick, 1, inverse, spot);
    q->unlimited_depth = chance(0.05);
    q->reference_px = chance(0.6) ? mid * (1.0 + 0.002 * (rnd() - 0.5)) : chance(0.1) ? spot * 5.0 : 0.0;
    q->position_amount = chance(0.5) ? 0.0 : (inverse ? 5e4 : 2.0) * (rnd() - 0.5);
    double u = rnd();
    if (u < 0.6)
        ht_opt_quote_prepare(q, v->contract);
    else if (u < 0.7)
        ht_opt_quote_prepare(q, inverse ? HT_OPT_LINEAR : HT_OPT_INVERSE);
}

/* A random strategy over every rule and sizing target. */
static void random_strategy(ht_opt_strategy *s)
{
    ht_opt_rule rule = (ht_opt_rule)(int)(HT_OPT_RULE_COUNT * rnd());
    const double params[HT_OPT_RULE_COUNT] = {[HT_OPT_RULE_FIXED] = 0.05 + 2.0 * rnd(),
                                              [HT_OPT_RULE_FIXED_PCT] = 0.01 + 0.2 * rnd(),
                                              [HT_OPT_RULE_WW] = 1e-5 + 1e-3 * rnd(),
                                              [HT_OPT_RULE_ZAK] = 1e-5 + 1e-3 * rnd(),
                                              [HT_OPT_RULE_MOVE] = 0.0005 + 0.005 * rnd()};
    ht_opt_strategy_init(s, rule, params[rule]);
    s->interval_ns = 1000000 + (int64_t)(1e9 * rnd());
    s->target = (ht_opt_target)(int)(4.0 * rnd());
    s->inner_fraction = rnd();
    s->cost_override = chance(0.3) ? 1e-4 + 1e-3 * rnd() : 0.0;
    s->min_half_width_coin = chance(0.3) ? 0.05 * rnd() : 0.0;
    s->max_half_width_coin = chance(0.3) ? s->min_half_width_coin + 5.0 * rnd() : 0.0;
}

/* A random cost model and limits. */
static void random_config(ht_opt_config *cfg)
{
    ht_opt_config_default(cfg);
    cfg->impact_y = chance(0.2) ? 0.0 : 1.5 * rnd();
    cfg->latency_s = chance(0.2) ? 0.0 : 0.01 * rnd();
    cfg->adverse_coef = chance(0.2) ? 0.0 : rnd();
    cfg->fixed_cost_usd = chance(0.6) ? 0.0 : 5.0 * rnd();
    cfg->min_hedge_coin = chance(0.6) ? 0.0 : 0.5 * rnd();
    if (chance(0.3)) {
        cfg->max_orders_per_s = 1.0 + 100.0 * rnd();
        cfg->burst_orders = 1.0 + 8.0 * rnd();
    }
    cfg->min_interval_ns = chance(0.2) ? (int64_t)(5e7 * rnd()) : 0;
}

/* The decision over random setups and event sequences, once on prepared quotes and once on the same quotes
 * unprepared (the decision walks their levels): the same return code, error text, decision and (through the
 * next decisions) per-underlying state, bit for bit. */
static void prepared_books_decide_as_walked_books(void **state)
{
    (void)state;
    unsigned hedged = 0, decisions = 0, prepared_hits = 0;
    for (int setup = 0; setup < N_SETUPS; setup++) {
        ht_opt_config cfg;
        random_config(&cfg);
        ht_error err_fast = {{0}}, err_walk = {{0}};
        ht_opt *fast = ht_opt_create(&cfg, &err_fast);
        ht_opt *walk = ht_opt_create(&cfg, &err_walk);
        assert_non_null(fast);
        assert_non_null(walk);
        uint32_t u = (uint32_t)(HT_OPT_MAX_UNDERLYINGS * rnd());
        ht_opt_strategy s;
        random_strategy(&s);
        assert_int_equal(ht_opt_set_strategy(fast, u, &s, &err_fast), 0);
        assert_int_equal(ht_opt_set_strategy(walk, u, &s, &err_walk), 0);
        int nv = 1 + (int)(HT_OPT_MAX_VENUES * rnd() * rnd());
        ht_opt_venue venues[HT_OPT_MAX_VENUES];
        for (int i = 0; i < nv; i++) {
            random_venue(&venues[i], i);
            assert_int_equal(ht_opt_add_venue(fast, u, &venues[i], &err_fast), i);
            assert_int_equal(ht_opt_add_venue(walk, u, &venues[i], &err_walk), i);
        }
        double spot = 25000.0 * (0.5 + rnd());
        double scale = (const double[]){0.01, 0.3, 3.0, 30.0}[(int)(4.0 * rnd())];
        int64_t now = (int64_t)(1e12 * rnd());
        for (int e = 0; e < N_EVENTS; e++) {
            spot *= 1.0 + 0.003 * (rnd() - 0.5);
            now += (int64_t)(2e8 * rnd() * rnd());
            ht_opt_event ev = {.underlying = u, .now_ns = now, .spot = spot};
            ev.trigger = (ht_opt_trigger)(int)(3.0 * rnd());
            ev.net_delta_coin = scale * 2.0 * (rnd() - 0.5);
            ev.side = ev.trigger == HT_OPT_TRIGGER_BREACH ? (ev.net_delta_coin > 0 ? 1 : -1) : 0;
            ev.net_gamma = (chance(0.1) ? 0.0 : 1e-3 * (rnd() - 0.6)) * scale;
            ev.inflight_delta_coin = chance(0.8) ? 0.0 : 0.1 * scale * (rnd() - 0.5);
            if (chance(0.01))
                ev.spot = chance(0.5) ? NAN : -1.0; /* bad input: both refuse it with the same message */
            ht_opt_book book = {.tau_years = 1e-4 + 0.5 * rnd(), .vol = 0.2 + rnd(),
                                .realised_vol = chance(0.5) ? 0.0 : 0.2 + rnd(), .rate = 0.05 * rnd(),
                                .vanna = 10.0 * (rnd() - 0.5), .gross_delta_coin = 100.0 * rnd()};
            ht_opt_quote quotes[HT_OPT_MAX_VENUES], walked[HT_OPT_MAX_VENUES];
            for (int i = 0; i < nv; i++) {
                random_quote(&quotes[i], &venues[i], spot);
                prepared_hits += quotes[i].prepared == 1u + (unsigned)venues[i].contract;
                walked[i] = quotes[i];
                walked[i].prepared = 0;
            }
            ht_opt_decision df, dw;
            memset(&df, 0xA5, sizeof df);
            memset(&dw, 0xA5, sizeof dw);
            err_fast.msg[0] = err_walk.msg[0] = '\0';
            int rf = ht_opt_decide(fast, &ev, &book, quotes, &df, &err_fast);
            int rw = ht_opt_decide(walk, &ev, &book, walked, &dw, &err_walk);
            char ctx[96];
            snprintf(ctx, sizeof ctx, "setup %d event %d (%s, %d venues)", setup, e,
                     ht_opt_strategy_name(&s, 1000000, (char[64]){0}, 64), nv);
            if (rf != rw || strcmp(err_fast.msg, err_walk.msg) != 0)
                fail_msg("%s: returned %d '%s', walked %d '%s'", ctx, rf, err_fast.msg, rw, err_walk.msg);
            expect_same_decision(&df, &dw, ctx);
            decisions++;
            hedged += df.n_orders > 0;
        }
        ht_opt_destroy(fast);
        ht_opt_destroy(walk);
    }
    /* The random setups must reach the paths that matter: hedges (split, rounding, limits) and prepared books. */
    print_message("%u decisions, %u with orders, %u prepared quotes used\n", decisions, hedged, prepared_hits);
    assert_true(hedged > decisions / 5);
    assert_true(prepared_hits > decisions / 2);
}

/* A prepared quote gives the running sums a walk of its levels gives, and stops where the levels stop being valid. */
static void prepare_sums_the_levels(void **state)
{
    (void)state;
    ht_opt_quote q = {.bid_px = {100.0, 99.0, 0.0, 97.0}, .bid_amount = {1000.0, 500.0, 300.0, 200.0},
                      .ask_px = {101.0, 103.0, 102.0}, .ask_amount = {200.0, 400.0, 0.0}, .n_bid = 4, .n_ask = 3};
    ht_opt_quote_prepare(&q, HT_OPT_INVERSE);
    assert_int_equal(q.prepared, 1 + HT_OPT_INVERSE);
    assert_int_equal(q.n_bid_valid, 2); /* the zero price ends the bids */
    assert_int_equal(q.n_ask_valid, 2); /* the zero amount ends the asks */
    assert_true(q.bids_falling && q.asks_rising);
    assert_true(same_bits(q.cum_bid_coin[1], 1000.0 / 100.0 + 500.0 / 99.0));
    assert_true(same_bits(q.cum_ask_coin[1], 200.0 / 101.0 + 400.0 / 103.0));
    q.ask_amount[2] = 100.0; /* now 103 then 102: not monotone */
    ht_opt_quote_prepare(&q, HT_OPT_LINEAR);
    assert_int_equal(q.n_ask_valid, 3);
    assert_false(q.asks_rising);
    assert_true(q.cum_ask_coin[2] == 700.0);
    assert_true(q.cum_bid_coin[3] == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prepare_sums_the_levels),
        cmocka_unit_test(prepared_books_decide_as_walked_books),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

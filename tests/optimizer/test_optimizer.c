/* SPDX-License-Identifier: MIT */
/* Optimizer tests: band formulas against hand-computed values, decision invariants, venue split, limits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/optimizer.h"

#define ASSERT_NEAR(x, y, tol)                                                                                       \
    do {                                                                                                             \
        double x_ = (x), y_ = (y), t_ = (tol);                                                                       \
        if (!(fabs(x_ - y_) <= t_))                                                                                  \
            fail_msg("%s = %.12g, expected %.12g within %g", #x, x_, y_, t_);                                        \
    } while (0)

/* A small deterministic generator for the randomised invariants (splitmix64, Steele et al. 2014). */
static uint64_t g_state = 0x1234567887654321ull;
static double uniform01(void)
{
    uint64_t z = (g_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* ---- band formulas ------------------------------------------------------------------------------------- */

/* The hand check: Gamma 0.02, S 5000, gamma 1, k 5e-4, r 0 -> (1.5e-3)^(1/3) = 0.114471. */
static void ww_matches_the_hand_check(void **state)
{
    (void)state;
    ASSERT_NEAR(ht_opt_ww_half_width(0.02, 5000.0, 0.5, 0.0, 5e-4, 1.0), 0.114471, 5e-7);
    /* Sign of gamma does not matter; e^{-r tau} scales H by its cube root. */
    ASSERT_NEAR(ht_opt_ww_half_width(-0.02, 5000.0, 1.0, 0.06, 5e-4, 1.0), 0.114471 * exp(-0.02), 5e-7);
    /* H ~ k^{1/3} gamma^{-1/3}: eight times the cost doubles it, eight times the risk aversion halves it. */
    ASSERT_NEAR(ht_opt_ww_half_width(0.02, 5000.0, 0.5, 0.0, 4e-3, 1.0), 2 * 0.1144714243, 1e-9);
    ASSERT_NEAR(ht_opt_ww_half_width(0.02, 5000.0, 0.5, 0.0, 5e-4, 8.0), 0.5 * 0.1144714243, 1e-9);
    assert_true(ht_opt_ww_half_width(0.02, 5000.0, 0.5, 0.0, 0.0, 1.0) == 0.0);
    /* The formula with libm's cbrt, over many magnitudes (the optimizer uses its own cube root). */
    for (int i = 0; i < 100000; i++) {
        double gamma = ldexp(uniform01() + 0.5, (int)(uniform01() * 60.0) - 40);
        double spot = ldexp(uniform01() + 0.5, (int)(uniform01() * 30.0) - 5);
        double k = ldexp(uniform01() + 0.5, -(int)(uniform01() * 20.0));
        double ra = ldexp(uniform01() + 0.5, (int)(uniform01() * 40.0) - 20);
        double ref = cbrt(3.0 * k * spot * gamma * gamma / (2.0 * ra));
        double got = ht_opt_ww_half_width(gamma, spot, 1.0, 0.0, k, ra);
        if (!(fabs(got - ref) <= 1e-15 * ref))
            fail_msg("gamma %g spot %g k %g ra %g: %.17g, cbrt gives %.17g", gamma, spot, k, ra, got, ref);
    }
}

/* Zakamouline's fitted terms, computed by hand with bc -l from the formulas in docs/optimizer.md for
 * k = 0.001, Gamma = -0.05 (short), S = 100, tau = 0.25, r = 0.05, sigma = 0.2, gamma = 1. */
static void zakamouline_matches_hand_values(void **state)
{
    (void)state;
    ht_opt_zak_terms t;
    double h = ht_opt_zak(-0.05, 100.0, 0.25, 0.05, 0.2, 0.001, 1.0, &t);
    ASSERT_NEAR(t.h0, 0.001, 1e-12);
    ASSERT_NEAR(t.h1, 0.04092468601736, 1e-12);
    ASSERT_NEAR(t.kappa, -0.08469913674671, 1e-12);
    ASSERT_NEAR(t.vol_mod, 0.20829778076078, 1e-12); /* short gamma: sigma sqrt(1 - K) > sigma */
    ASSERT_NEAR(h, 0.04192468601736, 1e-12);
    ht_opt_zak(0.05, 100.0, 0.25, 0.05, 0.2, 0.001, 1.0, &t);
    ASSERT_NEAR(t.vol_mod, 0.2 * sqrt(1.0 - 0.08469913674671), 1e-12); /* long gamma: sigma sqrt(1 + K) */
    /* No cost, no band and no vol change. */
    h = ht_opt_zak(-0.05, 100.0, 0.25, 0.05, 0.2, 0.0, 1.0, &t);
    assert_true(h == 0.0 && t.vol_mod == 0.2);
}

/* Leland: sigma^2 (1 +/- sqrt(8/pi) k / (sigma sqrt(dt))), by hand (bc) for sigma 0.2, k 0.001, dt 1/252. */
static void leland_matches_hand_values(void **state)
{
    (void)state;
    ASSERT_NEAR(ht_opt_leland_vol(0.2, 0.001, 1.0 / 252.0, -1.0), 0.21228850627100, 1e-12);
    ASSERT_NEAR(ht_opt_leland_vol(0.2, 0.001, 1.0 / 252.0, +1.0), 0.18690529715668, 1e-12);
    ASSERT_NEAR(ht_opt_leland_vol(0.2, 0.0, 1.0 / 252.0, -1.0), 0.2, 0.0);
    /* A long-gamma book with a Leland number above 1 is floored, not NaN. */
    double v = ht_opt_leland_vol(0.2, 0.05, 1.0 / 252.0, +1.0);
    assert_true(isfinite(v) && v > 0.0 && v < 0.2);
}

static void strategy_specs_parse_and_round_trip(void **state)
{
    (void)state;
    const char *specs[] = {"time:21", "leland:5", "move:0.01", "move:0.02,center", "ww:1", "ww:0.5,edge",
                           "zak:2,center", "fixed:0.1", "fixed:25%", "fixed:5%,edge"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        ht_opt_strategy s;
        ht_error err = {{0}};
        char name[64];
        if (ht_opt_strategy_parse(specs[i], 1000, &s, &err) != 0)
            fail_msg("%s: %s", specs[i], err.msg);
        assert_string_equal(ht_opt_strategy_name(&s, 1000, name, sizeof name), specs[i]);
    }
    ht_opt_strategy s;
    assert_int_equal(ht_opt_strategy_parse("time:3", 7, &s, NULL), 0);
    assert_int_equal(s.rule, HT_OPT_RULE_TIME);
    assert_true(s.interval_ns == 21);
    assert_int_equal(ht_opt_strategy_parse("fixed:25%", 7, &s, NULL), 0);
    assert_int_equal(s.rule, HT_OPT_RULE_FIXED_PCT);
    ASSERT_NEAR(s.param, 0.25, 1e-15);
    assert_int_equal(ht_opt_strategy_parse("centre", 7, &s, NULL), -1);
    const struct {
        const char *spec, *needle;
    } bad[] = {
        {"", "empty"}, {"ww", "NAME:VALUE"}, {"foo:1", "unknown rule 'foo'"}, {"ww:-1", "not a positive"},
        {"ww:1,middle", "'middle'"}, {"time:1.5", "whole number"}, {"time:2,edge", "always hedge"},
        {"ww:1e999", "not a positive"}, {"zak:", "not a positive"}, {"fixed:x%", "not a positive"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ht_error err = {{0}};
        assert_int_equal(ht_opt_strategy_parse(bad[i].spec, 1000, &s, &err), -1);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("'%s' gave '%s', expected it to mention '%s'", bad[i].spec, err.msg, bad[i].needle);
    }
}

/* The traits table agrees with the parser and with the rules' documented meaning: each rule's name parses back to
 * it (FIXED_PCT with a %), the timed rules are the ones that take a whole number of steps and refuse a sizing
 * target, and a rule out of range has no traits. */
static void rule_traits_match_the_rules(void **state)
{
    (void)state;
    for (int r = 0; r < HT_OPT_RULE_COUNT; r++) {
        const ht_opt_rule_traits *t = ht_opt_rule_traits_of((ht_opt_rule)r);
        assert_non_null(t);
        char spec[32];
        snprintf(spec, sizeof spec, "%s:1%s", t->name, r == HT_OPT_RULE_FIXED_PCT ? "%" : "");
        ht_opt_strategy s;
        if (ht_opt_strategy_parse(spec, 1000, &s, NULL) != 0)
            fail_msg("rule %d: '%s' does not parse", r, spec);
        assert_int_equal(s.rule, r);
        assert_int_equal(t->timed, s.interval_ns == 1000);
        snprintf(spec, sizeof spec, "%s:1%s,edge", t->name, r == HT_OPT_RULE_FIXED_PCT ? "%" : "");
        assert_int_equal(ht_opt_strategy_parse(spec, 1000, &s, NULL) != 0, t->timed);
        assert_true(!t->timed || t->scheduled); /* a timer is a schedule */
    }
    assert_true(ht_opt_rule_traits_of(HT_OPT_RULE_MOVE)->scheduled);
    assert_false(ht_opt_rule_traits_of(HT_OPT_RULE_WW)->scheduled);
    const ht_opt_rule_traits *leland = ht_opt_rule_traits_of(HT_OPT_RULE_LELAND);
    assert_true(leland->cost_driven && leland->own_hedge_vol);
    assert_false(ht_opt_rule_traits_of(HT_OPT_RULE_FIXED)->cost_driven);
    assert_string_equal(ht_opt_rule_traits_of(HT_OPT_RULE_WW)->label, "Whalley-Wilmott");
    assert_null(ht_opt_rule_traits_of(HT_OPT_RULE_COUNT));
}

/* ---- venue split ----------------------------------------------------------------------------------------- */

/* Two venues with the same flat part and impact slopes 1 and 2: equal marginal cost puts 4x as much on the
 * first ((b2/b1)^2), so 5 coins split 4 + 1 and both end at marginal cost 10 + 2 = 12. */
static void split_by_hand(void **state)
{
    (void)state;
    ht_opt_venue_cost v[2] = {{10.0, 1.0, 100.0}, {10.0, 2.0, 100.0}};
    double q[2];
    ASSERT_NEAR(ht_opt_split(v, 2, 5.0, q), 5.0, 0.0);
    ASSERT_NEAR(q[0], 4.0, 1e-12);
    ASSERT_NEAR(q[1], 1.0, 1e-12);
    /* A cap of 2 on the first venue: it fills, the second takes 3. */
    v[0].cap_coin = 2.0;
    ht_opt_split(v, 2, 5.0, q);
    ASSERT_NEAR(q[0], 2.0, 1e-12);
    ASSERT_NEAR(q[1], 3.0, 1e-12);
    /* Flat venues fill cheapest first. */
    ht_opt_venue_cost flat[3] = {{12.0, 0.0, 5.0}, {11.0, 0.0, 3.0}, {13.0, 0.0, 50.0}};
    double qf[3];
    ht_opt_split(flat, 3, 6.0, qf);
    ASSERT_NEAR(qf[1], 3.0, 0.0);
    ASSERT_NEAR(qf[0], 3.0, 1e-15);
    ASSERT_NEAR(qf[2], 0.0, 0.0);
    /* More than the caps hold: everything, and the return says how much. */
    ASSERT_NEAR(ht_opt_split(flat, 3, 100.0, qf), 58.0, 1e-12);
}

/* prefer_lower_margin's tie-break: of flat venues at one flat cost, the lower margin_rank fills first; a cheaper
 * venue still goes first whatever its rank; equal ranks keep the index order. */
static void split_prefers_lower_margin_on_equal_cost(void **state)
{
    (void)state;
    ht_opt_venue_cost flat[3] = {{11.0, 0.0, 5.0}, {11.0, 0.0, 5.0}, {11.0, 0.0, 5.0}};
    double rank[3] = {0.015, -1.0, 0.01};
    double q[3];
    ht_opt_split_ranked(flat, rank, 3, 7.0, q);
    ASSERT_NEAR(q[1], 5.0, 0.0);  /* reduces its position: first */
    ASSERT_NEAR(q[2], 2.0, 1e-15); /* linear (1 %) before inverse (1.5 %) */
    ASSERT_NEAR(q[0], 0.0, 0.0);
    ht_opt_split(flat, 3, 7.0, q); /* without ranks: the index order */
    ASSERT_NEAR(q[0], 5.0, 0.0);
    ASSERT_NEAR(q[1], 2.0, 1e-15);
    flat[0].a_usd_per_coin = 10.0; /* cheaper: first, whatever its margin */
    ht_opt_split_ranked(flat, rank, 3, 7.0, q);
    ASSERT_NEAR(q[0], 5.0, 0.0);
    ASSERT_NEAR(q[1], 2.0, 1e-15);
    ASSERT_NEAR(q[2], 0.0, 0.0);
}

/* Random venues: the split sums to its target, every trading venue below its cap sits at one marginal cost
 * lambda, idle venues are no cheaper than lambda at the margin, and capped ones are no dearer. */
static void split_equalises_marginal_cost(void **state)
{
    (void)state;
    for (int trial = 0; trial < 100000; trial++) {
        size_t n = 1 + (size_t)(uniform01() * HT_OPT_MAX_VENUES);
        ht_opt_venue_cost v[HT_OPT_MAX_VENUES];
        double total_cap = 0.0;
        for (size_t i = 0; i < n; i++) {
            v[i].a_usd_per_coin = uniform01() < 0.2 ? 12.0 : 10.0 + 5.0 * uniform01(); /* ties too */
            double u = uniform01(), kind = uniform01();
            /* down to tiny slopes, and slopes so small they round away against a (1e-15) */
            v[i].b_usd_per_coin = kind < 0.2 ? 0.0 : kind < 0.25 ? 1e-15 : 3.0 * u * u * u * u;
            /* unlimited depth (backtests) as well */
            v[i].cap_coin = uniform01() < 0.1 ? 0.0 : uniform01() < 0.05 ? INFINITY : 0.1 + 10.0 * uniform01();
            total_cap += v[i].cap_coin;
        }
        double target = (isfinite(total_cap) ? total_cap : 50.0 * (double)n) * 1.2 * uniform01();
        double q[HT_OPT_MAX_VENUES];
        double placed = ht_opt_split(v, n, target, q);
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            assert_true(q[i] >= 0.0 && q[i] <= v[i].cap_coin + 1e-12);
            sum += q[i];
        }
        if (!(fabs(placed - fmin(target, total_cap)) <= 1e-9 && fabs(sum - placed) <= 1e-9 * fmax(1.0, placed))) {
            for (size_t j = 0; j < n; j++)
                print_message("venue %zu: a %.17g b %.17g cap %.17g q %.17g\n", j, v[j].a_usd_per_coin,
                              v[j].b_usd_per_coin, v[j].cap_coin, q[j]);
            fail_msg("trial %d: placed %.17g, sum %.17g, target %.17g, caps %.17g", trial, placed, sum, target,
                     total_cap);
        }
        if (target >= total_cap)
            continue;
        /* lambda: the marginal cost of any interior venue (or of a partly filled flat one). */
        double lambda = NAN;
        for (size_t i = 0; i < n && isnan(lambda); i++)
            if (q[i] > 1e-9 && q[i] < v[i].cap_coin - 1e-9)
                lambda = v[i].a_usd_per_coin + v[i].b_usd_per_coin * sqrt(q[i]);
        if (isnan(lambda))
            continue; /* every trading venue is at its cap: nothing to equalise */
        for (size_t i = 0; i < n; i++) {
            double mc = v[i].a_usd_per_coin + v[i].b_usd_per_coin * sqrt(q[i]);
            if (v[i].cap_coin <= 0.0)
                continue;
            if (q[i] <= 1e-12) { /* idle, or a residue (its margin is then a + b sqrt(q), not a) */
                if (mc < lambda - 1e-7) {
                    for (size_t j = 0; j < n; j++)
                        print_message("venue %zu: a %.17g b %.17g cap %.17g q %.17g\n", j, v[j].a_usd_per_coin,
                                      v[j].b_usd_per_coin, v[j].cap_coin, q[j]);
                    fail_msg("trial %d venue %zu: idle at marginal cost %.9f below lambda %.9f (target %.17g)",
                             trial, i, mc, lambda, target);
                }
            }
            else if (q[i] >= v[i].cap_coin - 1e-9)
                assert_true(mc <= lambda + 1e-7);
            else if (fabs(mc - lambda) > 1e-7) {
                for (size_t j = 0; j < n; j++)
                    print_message("venue %zu: a %.17g b %.17g cap %.17g q %.17g\n", j, v[j].a_usd_per_coin,
                                  v[j].b_usd_per_coin, v[j].cap_coin, q[j]);
                fail_msg("trial %d venue %zu: marginal cost %.9f, lambda %.9f (target %.17g)", trial, i, mc, lambda, target);
            }
        }
    }
}

/* ---- decisions ------------------------------------------------------------------------------------------- */

/* A frictionless venue (backtest style): linear, any amount, best level of unlimited size at the spot. */
static ht_opt *ideal_optimizer(const ht_opt_strategy *s, ht_opt_quote *quote, double spot)
{
    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    cfg.impact_y = 0.0;
    cfg.adverse_coef = 0.0;
    ht_error err = {{0}};
    ht_opt *opt = ht_opt_create(&cfg, &err);
    assert_non_null(opt);
    assert_int_equal(ht_opt_set_strategy(opt, 0, s, &err), 0);
    ht_opt_venue v;
    ht_opt_venue_init(&v, "IDEAL", HT_OPT_LINEAR, 1.0);
    v.lot_amount = 0.0;
    v.min_amount = 0.0;
    v.tick_size = 1e-9;
    v.taker_fee = 0.0;
    v.collar_frac = 0.4;
    assert_int_equal(ht_opt_add_venue(opt, 0, &v, &err), 0);
    memset(quote, 0, sizeof *quote);
    quote->bid_px[0] = quote->ask_px[0] = spot;
    quote->bid_amount[0] = quote->ask_amount[0] = 1.0;
    quote->n_bid = quote->n_ask = 1;
    quote->unlimited_depth = true;
    return opt;
}

static ht_opt_book default_book(void)
{
    ht_opt_book b = {.tau_years = 0.25, .vol = 0.6, .realised_vol = 0.0, .rate = 0.0, .vanna = 0.0,
                     .gross_delta_coin = 10.0};
    return b;
}

/* Net delta inside the band: no order, and the band handed back holds it. Outside: the trade lands on the
 * nearest edge exactly (continuous amounts), or on the centre when asked. */
static void no_trade_inside_and_trade_lands_on_the_edge(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_WW, 2e-4);
    s.cost_override = 5e-4;
    ht_opt_quote quote;
    ht_opt *opt = ideal_optimizer(&s, &quote, 30000.0);
    ht_opt_book book = default_book();
    for (int trial = 0; trial < 20000; trial++) {
        double gamma = (uniform01() - 0.5) * 2e-3;
        ht_opt_event ev = {.underlying = 0, .trigger = HT_OPT_TRIGGER_BREACH, .now_ns = trial,
                           .spot = 30000.0 * (0.8 + 0.4 * uniform01()), .net_gamma = gamma};
        quote.bid_px[0] = quote.ask_px[0] = ev.spot;
        double h = ht_opt_ww_half_width(gamma, ev.spot, book.tau_years, 0.0, 5e-4, 2e-4);
        ev.net_delta_coin = (uniform01() - 0.5) * 6.0 * h;
        ev.side = ev.net_delta_coin > h ? 1 : ev.net_delta_coin < -h ? -1 : 0;
        ht_opt_decision d;
        assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
        ASSERT_NEAR(d.half_width_coin, h, 1e-12 * fmax(h, 1e-300));
        double after = ev.net_delta_coin + d.trade_delta_coin;
        if (fabs(ev.net_delta_coin) <= h) {
            assert_int_equal(d.reason, HT_OPT_INSIDE_BAND);
            assert_int_equal(d.n_orders, 0);
        } else {
            assert_int_equal(d.reason, HT_OPT_HEDGED);
            assert_int_equal(d.n_orders, 1);
            ASSERT_NEAR(after, ev.net_delta_coin > 0 ? h : -h, 1e-9 * fmax(1.0, h));
            assert_int_equal(d.orders[0].side, ev.net_delta_coin > 0 ? -1 : 1);
        }
        assert_true(d.band_lo_coin <= after && after <= d.band_hi_coin);
    }
    ht_opt_destroy(opt);

    /* Centre sizing goes all the way. */
    s.target = HT_OPT_TARGET_CENTRE;
    opt = ideal_optimizer(&s, &quote, 30000.0);
    ht_opt_event ev = {.trigger = HT_OPT_TRIGGER_BREACH, .spot = 30000.0, .net_delta_coin = 2.0, .net_gamma = 1e-4};
    ht_opt_decision d;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    ASSERT_NEAR(ev.net_delta_coin + d.trade_delta_coin, 0.0, 1e-12);
    ht_opt_destroy(opt);
}

/* The margin-aware band's scale: the FIXED rule's half-width times band_scale after the min/max limits (0.25 of a
 * 2-coin band, floored at 1 coin first: 0.25 coin), and a breach of the narrow band hedges to its edge; 0 and 1
 * leave it as it is. */
static void band_scale_narrows_the_band(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_FIXED, 2.0);
    s.target = HT_OPT_TARGET_EDGE;
    s.min_half_width_coin = 1.0;
    ht_opt_quote quote;
    ht_opt *opt = ideal_optimizer(&s, &quote, 30000.0);
    ht_opt_book book = default_book();
    ht_opt_event ev = {.trigger = HT_OPT_TRIGGER_BREACH, .spot = 30000.0, .net_delta_coin = 1.5, .net_gamma = 0.0,
                       .side = 1};
    ht_opt_decision d;
    const double scales[] = {0.0, 1.0, 0.125};
    const double widths[] = {2.0, 2.0, 0.25};
    for (int k = 0; k < 3; k++) {
        book.band_scale = scales[k];
        assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
        ASSERT_NEAR(d.half_width_coin, widths[k], 1e-15);
    }
    assert_int_equal(d.reason, HT_OPT_HEDGED);
    ASSERT_NEAR(ev.net_delta_coin + d.trade_delta_coin, 0.25, 1e-12);
    ht_opt_destroy(opt);
}

/* Zero cost: the Whalley-Wilmott band has zero width, so every decision hedges to the centre exactly:
 * continuous hedging. */
static void zero_cost_hedges_fully(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_WW, 1.0);
    ht_opt_quote quote;
    ht_opt *opt = ideal_optimizer(&s, &quote, 100.0);
    ht_opt_book book = default_book();
    ht_opt_event ev = {.spot = 100.0, .net_delta_coin = 0.01, .net_gamma = 0.05};
    ht_opt_decision d;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    assert_true(d.k_eff == 0.0 && d.half_width_coin == 0.0);
    assert_int_equal(d.reason, HT_OPT_HEDGED);
    ASSERT_NEAR(d.trade_delta_coin, -0.01, 1e-15);
    ht_opt_destroy(opt);
}

/* Three Deribit hedge instruments as the capture's instrument records describe them (contract size and minimum
 * 10 USD inverse, 0.001 BTC linear), each with a book of 3 levels. */
static ht_opt *deribit_optimizer(const ht_opt_config *cfg, const ht_opt_strategy *s, ht_opt_quote q[4])
{
    ht_error err = {{0}};
    ht_opt *opt = ht_opt_create(cfg, &err);
    assert_non_null(opt);
    assert_int_equal(ht_opt_set_strategy(opt, 3, s, &err), 0);
    ht_opt_venue v[3];
    ht_opt_venue_init(&v[0], "BTC-PERPETUAL", HT_OPT_INVERSE, 10.0);
    ht_opt_venue_init(&v[1], "BTC_USDC-PERPETUAL", HT_OPT_LINEAR, 0.001);
    ht_opt_venue_init(&v[2], "BTC-30JUN23", HT_OPT_INVERSE, 10.0);
    v[1].tick_size = 1.0;
    v[2].tick_size = 2.5;
    v[2].taker_fee = 0.0005;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ht_opt_add_venue(opt, 3, &v[i], &err), i);
    memset(q, 0, 4 * sizeof q[0]);
    /* perpetual: 25000.0 / 25000.5, deep; USDC perp: 24999 / 25001, thinner; future: 25100 / 25105. */
    const double bids[3][3] = {{25000.0, 24999.5, 24999.0}, {24999.0, 24998.0, 24997.0}, {25100.0, 25097.5, 25095.0}};
    const double asks[3][3] = {{25000.5, 25001.0, 25001.5}, {25001.0, 25002.0, 25003.0}, {25105.0, 25107.5, 25110.0}};
    const double amounts[3][3] = {{200000.0, 300000.0, 500000.0}, {5.0, 8.0, 12.0}, {50000.0, 50000.0, 80000.0}};
    for (int i = 0; i < 3; i++) {
        for (int l = 0; l < 3; l++) {
            q[i].bid_px[l] = bids[i][l];
            q[i].ask_px[l] = asks[i][l];
            q[i].bid_amount[l] = q[i].ask_amount[l] = amounts[i][l];
        }
        q[i].n_bid = q[i].n_ask = 3;
    }
    return opt;
}

/* Orders on real venue shapes: whole lots, at least the minimum, limits on the tick grid inside the collar, the
 * split sums to the target within half a lot, no venue is used past its position limit. */
static void orders_respect_lots_collars_and_limits(void **state)
{
    (void)state;
    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_FIXED, 0.5);
    s.target = HT_OPT_TARGET_CENTRE;
    ht_opt_quote q[4];
    ht_opt *opt = deribit_optimizer(&cfg, &s, q);
    ht_opt_book book = default_book();
    for (int trial = 0; trial < 2000; trial++) {
        double net = (uniform01() < 0.5 ? -1.0 : 1.0) * (0.5 + 30.0 * uniform01());
        ht_opt_event ev = {.underlying = 3, .spot = 25000.0, .net_delta_coin = net, .net_gamma = 1e-4,
                           .now_ns = trial};
        ht_opt_decision d;
        ht_error err = {{0}};
        if (ht_opt_decide(opt, &ev, &book, q, &d, &err) != 0)
            fail_msg("%s", err.msg);
        assert_true(d.reason == HT_OPT_HEDGED || d.reason == HT_OPT_HEDGED_PARTIAL);
        double sum = 0.0;
        for (uint32_t i = 0; i < d.n_orders; i++) {
            const ht_opt_order *o = &d.orders[i];
            const double lot = o->venue == 1 ? 0.001 : 10.0;
            const double tick = o->venue == 0 ? 0.5 : o->venue == 1 ? 1.0 : 2.5;
            ASSERT_NEAR(o->amount / lot, round(o->amount / lot), 1e-6);
            assert_true(o->amount >= lot * (1 - 1e-12));
            ASSERT_NEAR(o->limit_px / tick, round(o->limit_px / tick), 1e-6);
            assert_int_equal(o->side, net > 0 ? -1 : 1);
            double mid = 0.5 * (q[o->venue].bid_px[0] + q[o->venue].ask_px[0]);
            assert_true(fabs(o->limit_px / mid - 1.0) <= 0.005 + 1e-12);
            double coins = o->venue == 1 ? o->amount : o->amount / mid;
            ASSERT_NEAR(fabs(o->delta_coin), coins, 1e-12 * coins);
            sum += o->delta_coin;
        }
        if (d.reason == HT_OPT_HEDGED) /* half the largest lot in coins: 10 USD / 25000 */
            ASSERT_NEAR(sum, -net, 0.5 * 10.0 / 24999.0 + 1e-12);
        assert_true(d.band_lo_coin <= net + sum && net + sum <= d.band_hi_coin);
    }
    ht_opt_destroy(opt);

    /* Position limits: the USDC perpetual may only go 0.25 BTC further long; a big buy leaves it at the limit. */
    ht_opt_config_default(&cfg);
    cfg.impact_y = 0.0; /* flat costs: the cheapest venue would take everything */
    opt = deribit_optimizer(&cfg, &s, q);
    ht_opt_venue limited;
    ht_opt_venue_init(&limited, "BTC_USDC-PERPETUAL-LIMITED", HT_OPT_LINEAR, 0.001);
    limited.max_long_amount = 1.0;
    limited.taker_fee = 0.0;
    ht_error err = {{0}};
    assert_int_equal(ht_opt_add_venue(opt, 3, &limited, &err), 3);
    q[3] = q[1];
    q[3].position_amount = 0.75;
    ht_opt_event ev = {.underlying = 3, .spot = 25000.0, .net_delta_coin = -5.0, .net_gamma = 1e-4};
    ht_opt_decision d;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, q, &d, &err), 0);
    double on_limited = 0.0;
    for (uint32_t i = 0; i < d.n_orders; i++)
        if (d.orders[i].venue == 3)
            on_limited += d.orders[i].amount;
    ASSERT_NEAR(on_limited, 0.25, 1e-9); /* the cheapest (fee 0) venue, filled to its limit */
    ht_opt_destroy(opt);
}

/* The predicted cost of a single order, by hand: linear venue, fee 0.05 %, spread 2 around a mid of 25000,
 * impact Y sigma_h sqrt(Q/V), adverse coef sigma sqrt(latency), fixed cost 1 USD. */
static void cost_model_by_hand(void **state)
{
    (void)state;
    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    cfg.impact_y = 0.5;
    cfg.impact_horizon_s = 3600.0;
    cfg.latency_s = 0.002;
    cfg.adverse_coef = 0.4;
    cfg.fixed_cost_usd = 1.0;
    ht_opt *opt = ht_opt_create(&cfg, NULL);
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_FIXED, 0.1);
    s.target = HT_OPT_TARGET_CENTRE;
    assert_int_equal(ht_opt_set_strategy(opt, 0, &s, NULL), 0);
    ht_opt_venue v;
    ht_opt_venue_init(&v, "BTC_USDC-PERPETUAL", HT_OPT_LINEAR, 0.001);
    v.tick_size = 1.0;
    assert_int_equal(ht_opt_add_venue(opt, 0, &v, NULL), 0);
    ht_opt_quote q = {.bid_px = {24999.0}, .bid_amount = {4.0}, .ask_px = {25001.0, 25002.0}, .ask_amount = {1.5, 2.5},
                      .n_bid = 1, .n_ask = 2};
    ht_opt_book book = default_book(); /* vol 0.6 */
    ht_opt_event ev = {.spot = 25000.0, .net_delta_coin = -2.0, .net_gamma = 0.0};
    ht_opt_decision d;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &q, &d, NULL), 0);
    assert_int_equal(d.n_orders, 1);
    ASSERT_NEAR(d.orders[0].amount, 2.0, 1e-12);
    ASSERT_NEAR(d.orders[0].limit_px, 25002.0, 0.0); /* two levels are needed for 2 BTC */
    double year = 365.0 * 86400.0;
    double sigma_h = 0.6 * sqrt(3600.0 / year), adverse = 0.4 * 0.6 * sqrt(0.002 / year);
    double depth = 4.0;
    double expected = 25000.0 * 2.0 * (0.0005 + 1.0 / 25000.0 + adverse + 0.5 * sigma_h * sqrt(2.0 / depth)) + 1.0;
    ASSERT_NEAR(d.orders[0].expected_cost_usd, expected, 1e-9 * expected);
    ASSERT_NEAR(d.expected_cost_usd, expected, 1e-9 * expected);
    ht_opt_destroy(opt);
}

/* Below the minimum hedge: bumped up when the centre is far enough, otherwise no order and a widened band. */
static void minimum_hedge_size(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_FIXED, 1.0);
    ht_opt_quote quote = {.bid_px = {100.0}, .ask_px = {100.0}, .bid_amount = {1}, .ask_amount = {1}, .n_bid = 1,
                          .n_ask = 1, .unlimited_depth = true};
    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    cfg.min_hedge_coin = 0.5;
    cfg.impact_y = 0.0;
    ht_opt *opt = ht_opt_create(&cfg, NULL);
    assert_int_equal(ht_opt_set_strategy(opt, 0, &s, NULL), 0);
    ht_opt_venue v;
    ht_opt_venue_init(&v, "IDEAL", HT_OPT_LINEAR, 1.0);
    v.lot_amount = 0.0;
    v.min_amount = 0.0;
    v.collar_frac = 0.4;
    assert_int_equal(ht_opt_add_venue(opt, 0, &v, NULL), 0);
    ht_opt_book book = default_book();
    ht_opt_decision d;
    /* Edge trade of 0.1, centre 1.1 away: the trade is bumped to 0.5. */
    ht_opt_event ev = {.spot = 100.0, .net_delta_coin = 1.1, .net_gamma = 0.01};
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_HEDGED);
    ASSERT_NEAR(d.trade_delta_coin, -0.5, 1e-12);
    /* A band of 0.2: the edge trade is 0.1 and the centre only 0.3 away: nothing, band widened over 0.3. */
    s.param = 0.2;
    assert_int_equal(ht_opt_set_strategy(opt, 0, &s, NULL), 0);
    ev.net_delta_coin = 0.3;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_BELOW_MIN_HEDGE);
    assert_int_equal(d.n_orders, 0);
    assert_true(d.band_hi_coin > 0.3 && d.band_lo_coin <= -0.2);
    ht_opt_destroy(opt);
}

/* Rate limits: the minimum interval and the token bucket refuse, say when to retry, and hold the net delta. */
static void rate_limits(void **state)
{
    (void)state;
    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    cfg.min_interval_ns = 1000;
    cfg.max_orders_per_s = 2.0;
    cfg.burst_orders = 2.0;
    cfg.impact_y = 0.0;
    ht_opt *opt = ht_opt_create(&cfg, NULL);
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_FIXED, 0.1);
    assert_int_equal(ht_opt_set_strategy(opt, 0, &s, NULL), 0);
    ht_opt_venue v;
    ht_opt_venue_init(&v, "IDEAL", HT_OPT_LINEAR, 1.0);
    v.lot_amount = 0.0;
    v.min_amount = 0.0;
    assert_int_equal(ht_opt_add_venue(opt, 0, &v, NULL), 0);
    ht_opt_quote q = {.bid_px = {100.0}, .ask_px = {100.0}, .bid_amount = {1}, .ask_amount = {1}, .n_bid = 1,
                      .n_ask = 1, .unlimited_depth = true};
    ht_opt_book book = default_book();
    ht_opt_decision d;
    ht_opt_event ev = {.spot = 100.0, .net_delta_coin = 1.0, .now_ns = 1000000};
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &q, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_HEDGED);
    ev.now_ns += 500; /* inside the minimum interval */
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &q, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_RATE_LIMITED);
    assert_true(d.next_timer_ns == 1001000);
    assert_true(d.band_lo_coin < 1.0 && d.band_hi_coin > 1.0);
    ev.now_ns = 1001000; /* one token left */
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &q, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_HEDGED);
    ev.now_ns = 1002000; /* bucket empty: refills at 2/s, so the next token comes in ~0.5 s */
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &q, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_RATE_LIMITED);
    assert_true(d.next_timer_ns > ev.now_ns + 499000000 && d.next_timer_ns <= ev.now_ns + 500000000);
    ev.now_ns = d.next_timer_ns;
    ev.trigger = HT_OPT_TRIGGER_TIMER;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &q, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_HEDGED);
    ht_opt_destroy(opt);
}

/* Time-based: a timer hedges to the centre; between timers nothing, unless the safety band is left. */
static void time_rule(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_TIME, 0.0);
    s.interval_ns = 1000;
    s.max_half_width_coin = 5.0;
    ht_opt_quote quote;
    ht_opt *opt = ideal_optimizer(&s, &quote, 100.0);
    ht_opt_book book = default_book();
    ht_opt_decision d;
    ht_opt_event ev = {.trigger = HT_OPT_TRIGGER_TIMER, .spot = 100.0, .net_delta_coin = 0.7, .now_ns = 0};
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    ASSERT_NEAR(d.trade_delta_coin, -0.7, 1e-15);
    assert_true(d.next_timer_ns == 1000);
    ev.trigger = HT_OPT_TRIGGER_REFRESH;
    ev.now_ns = 500;
    ev.net_delta_coin = 3.0;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_NOT_DUE);
    assert_true(d.next_timer_ns == 1000);
    ev.trigger = HT_OPT_TRIGGER_BREACH;
    ev.net_delta_coin = 6.0; /* outside the safety band */
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    ASSERT_NEAR(d.trade_delta_coin, -6.0, 1e-15);
    ht_opt_destroy(opt);
}

/* Move-based: nothing until the spot has moved by H from the last hedge; the band maps that spot range. */
static void move_rule(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_MOVE, 0.01);
    s.target = HT_OPT_TARGET_CENTRE;
    ht_opt_quote quote;
    ht_opt *opt = ideal_optimizer(&s, &quote, 100.0);
    ht_opt_book book = default_book();
    ht_opt_decision d;
    ht_opt_event ev = {.trigger = HT_OPT_TRIGGER_REFRESH, .spot = 100.0, .net_delta_coin = 0.2, .net_gamma = 0.05};
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0); /* first call: hedge */
    ASSERT_NEAR(d.trade_delta_coin, -0.2, 1e-15);
    ASSERT_NEAR(d.band_lo_coin, -0.05, 1e-12); /* 0 +/- gamma x S x H */
    ASSERT_NEAR(d.band_hi_coin, 0.05, 1e-12);
    ev.spot = 100.9;
    ev.net_delta_coin = 0.045;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_NOT_DUE);
    ASSERT_NEAR(d.band_hi_coin, 0.045 + 0.05 * (101.0 - 100.9), 1e-12);
    ev.spot = 101.0;
    ev.net_delta_coin = 0.05;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    assert_int_equal(d.reason, HT_OPT_HEDGED);
    ASSERT_NEAR(d.trade_delta_coin, -0.05, 1e-15);
    ht_opt_destroy(opt);
}

/* Zakamouline and Leland centre their band on the delta at the hedge vol: -vanna (hedge_vol - vol). */
static void band_centre_follows_hedge_vol(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_ZAK, 1.0);
    s.cost_override = 0.001;
    ht_opt_quote quote;
    ht_opt *opt = ideal_optimizer(&s, &quote, 100.0);
    ht_opt_book book = {.tau_years = 0.25, .vol = 0.2, .rate = 0.05, .vanna = 0.3};
    ht_opt_event ev = {.spot = 100.0, .net_delta_coin = 0.0, .net_gamma = -0.05};
    ht_opt_decision d;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, NULL), 0);
    ASSERT_NEAR(d.hedge_vol, 0.20829778076078, 1e-12);
    ASSERT_NEAR(d.centre_coin, -0.3 * (0.20829778076078 - 0.2), 1e-12);
    ASSERT_NEAR(d.half_width_coin, 0.04192468601736, 1e-12);
    assert_int_equal(d.reason, HT_OPT_INSIDE_BAND);
    ht_opt_destroy(opt);
}

/* Bad input is refused with a message that names the field; nothing is ordered. */
static void bad_input_is_refused(void **state)
{
    (void)state;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_FIXED, 0.1);
    ht_opt_quote quote;
    ht_opt *opt = ideal_optimizer(&s, &quote, 100.0);
    ht_opt_book book = default_book();
    ht_opt_decision d;
    ht_error err = {{0}};
    ht_opt_event ev = {.spot = NAN, .net_delta_coin = 5.0};
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, &err), -1);
    assert_int_equal(d.reason, HT_OPT_BAD_INPUT);
    assert_int_equal(d.n_orders, 0);
    assert_true(isnan(d.band_lo_coin));
    assert_non_null(strstr(err.msg, "spot"));
    ev.spot = 100.0;
    ev.underlying = 7;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, &err), -1);
    assert_non_null(strstr(err.msg, "underlying 7"));
    ev.underlying = 0;
    book.tau_years = 0.0;
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &quote, &d, &err), -1);
    assert_non_null(strstr(err.msg, "tau_years"));
    /* An empty book: no liquidity, retry later, band holds the net delta. */
    book = default_book();
    ht_opt_quote empty = {0};
    assert_int_equal(ht_opt_decide(opt, &ev, &book, &empty, &d, &err), 0);
    assert_int_equal(d.reason, HT_OPT_NO_LIQUIDITY);
    assert_true(d.next_timer_ns > 0 && d.band_hi_coin > 5.0);
    /* Configuration errors. */
    ht_opt_strategy bad;
    ht_opt_strategy_init(&bad, HT_OPT_RULE_WW, -1.0);
    assert_int_equal(ht_opt_set_strategy(opt, 0, &bad, &err), -1);
    assert_non_null(strstr(err.msg, "param"));
    ht_opt_venue v;
    ht_opt_venue_init(&v, "X", HT_OPT_INVERSE, 0.0);
    assert_int_equal(ht_opt_add_venue(opt, 0, &v, &err), -1);
    assert_non_null(strstr(err.msg, "contract_size"));
    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    cfg.impact_y = -1.0;
    assert_null(ht_opt_create(&cfg, &err));
    assert_non_null(strstr(err.msg, "impact_y"));
    ht_opt_destroy(opt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ww_matches_the_hand_check),
        cmocka_unit_test(split_prefers_lower_margin_on_equal_cost),
        cmocka_unit_test(band_scale_narrows_the_band),
        cmocka_unit_test(zakamouline_matches_hand_values),
        cmocka_unit_test(leland_matches_hand_values),
        cmocka_unit_test(strategy_specs_parse_and_round_trip),
        cmocka_unit_test(rule_traits_match_the_rules),
        cmocka_unit_test(split_by_hand),
        cmocka_unit_test(split_equalises_marginal_cost),
        cmocka_unit_test(no_trade_inside_and_trade_lands_on_the_edge),
        cmocka_unit_test(zero_cost_hedges_fully),
        cmocka_unit_test(orders_respect_lots_collars_and_limits),
        cmocka_unit_test(cost_model_by_hand),
        cmocka_unit_test(minimum_hedge_size),
        cmocka_unit_test(rate_limits),
        cmocka_unit_test(time_rule),
        cmocka_unit_test(move_rule),
        cmocka_unit_test(band_centre_follows_hedge_vol),
        cmocka_unit_test(bad_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* The greek table: Deribit's conventions against their definitions (finite differences of the coin and USD
 * values), forwards, bad-input flags, the Taylor fast path against exact repricing, refresh, and the table
 * loaded into the pipeline's C model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/greeks.h"
#include "hedgetrig/pipe.h"

/* 2023-06-15 12:00:00 UTC, and the two expiries of the capture (08:00 UTC). */
#define NOW_MS 1686830400000ull
#define EXP_16JUN 1686902400000ull
#define EXP_23JUN 1687507200000ull

/* A spec for tests: an option when strike > 0, else a hedge of the given kind. */
static ht_instrument_spec spec_of(uint32_t id, const char *name, ht_pos_kind kind, ht_b76_type type, double strike,
                                  uint64_t expiry, bool inverse, const char *index)
{
    ht_instrument_spec s;
    memset(&s, 0, sizeof s);
    s.id = id;
    snprintf(s.name, sizeof s.name, "%s", name);
    s.kind = kind;
    s.option_type = type;
    s.strike = strike;
    s.expiry_ms = expiry;
    s.inverse = inverse;
    s.size_in_coin = kind == HT_POS_OPTION || !inverse;
    s.contract_size = kind == HT_POS_OPTION ? 1.0 : (inverse ? 10.0 : 0.001);
    snprintf(s.base_currency, sizeof s.base_currency, "BTC");
    snprintf(s.index_name, sizeof s.index_name, "%s", index);
    return s;
}

static const double S_USD = 25441.7, S_USDC = 25425.4;

/* The test book: inverse call and put, a linear call, an inverse perpetual and a linear perpetual. */
static ht_positions *make_book(void)
{
    ht_positions *b = ht_positions_create();
    const ht_instrument_spec specs[] = {
        spec_of(55, "BTC-23JUN23-25000-C", HT_POS_OPTION, HT_B76_CALL, 25000, EXP_23JUN, true, "btc_usd"),
        spec_of(62, "BTC-23JUN23-25400-P", HT_POS_OPTION, HT_B76_PUT, 25400, EXP_23JUN, true, "btc_usd"),
        spec_of(16, "BTC_USDC-16JUN23-25800-C", HT_POS_OPTION, HT_B76_CALL, 25800, EXP_16JUN, false, "btc_usdc"),
        spec_of(14, "BTC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0, true, "btc_usd"),
        spec_of(12, "BTC_USDC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0, false, "btc_usdc"),
    };
    const double qty[] = {10, -4, 3, -2000, 1500};
    for (size_t i = 0; i < HT_ARRAY_LEN(specs); i++)
        assert_int_equal(ht_positions_add(b, &specs[i], qty[i], NULL), 0);
    return b;
}

/* Marks generated from known vols (so the IVs must come back), with forward = index (HT_FORWARD_INDEX). */
static void feed_market(ht_greeks *g, double sig_call, double sig_put, double sig_linear)
{
    ht_greeks_set_index(g, "btc_usd", S_USD, NOW_MS, true);
    ht_greeks_set_index(g, "btc_usdc", S_USDC, NOW_MS, true);
    const double t23 = (EXP_23JUN - NOW_MS) / (365.0 * 86400000.0), t16 = (EXP_16JUN - NOW_MS) / (365.0 * 86400000.0);
    ht_greeks_set_mark(g, 55, ht_b76_price(HT_B76_CALL, S_USD, 25000, t23, sig_call, 0) / S_USD, S_USD, NOW_MS, true);
    ht_greeks_set_mark(g, 62, ht_b76_price(HT_B76_PUT, S_USD, 25400, t23, sig_put, 0) / S_USD, S_USD, NOW_MS, true);
    ht_greeks_set_mark(g, 16, ht_b76_price(HT_B76_CALL, S_USDC, 25800, t16, sig_linear, 0), S_USDC, NOW_MS, true);
    ht_greeks_set_mark(g, 14, 25480.0, S_USD, NOW_MS, true);
    ht_greeks_set_mark(g, 12, 25430.0, S_USDC, NOW_MS, true);
}

/* A greeks engine on the test book with the given convention, forward from the index. */
static ht_greeks *make_engine(ht_positions *book, ht_delta_convention conv)
{
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    cfg.convention = conv;
    cfg.forward = HT_FORWARD_INDEX;
    ht_error err;
    ht_greeks *g = ht_greeks_create(&cfg, book, &err);
    assert_non_null(g);
    return g;
}

/* The coin value of an inverse option per unit at reference spot s (F = k s) and sigma. */
static double coin_value(const ht_greeks_result *r, double s, double sigma)
{
    const double f = r->k_ratio * s;
    return ht_b76_price(r->pos->spec.option_type, f, r->pos->spec.strike, r->t_years, sigma, 0) / f;
}

/* The USD value per unit at reference spot s. */
static double usd_value(const ht_greeks_result *r, double s, double sigma)
{
    return ht_b76_price(r->pos->spec.option_type, r->k_ratio * s, r->pos->spec.strike, r->t_years, sigma, 0);
}

/* Deribit convention: an inverse option's delta is S d(coin value)/dS = BS delta - mark, and gamma, speed,
 * vanna are the derivatives of that delta; linear options carry the USD delta. Checked by central
 * differences of the values themselves. */
static void deribit_convention_matches_its_definition(void **state)
{
    (void)state;
    ht_positions *book = make_book();
    ht_greeks *g = make_engine(book, HT_DELTA_DERIBIT);
    feed_market(g, 0.55, 0.62, 0.80);
    assert_int_equal(ht_greeks_recompute(g, NOW_MS), 3);

    const ht_greeks_result *call = ht_greeks_result_at(g, 0);
    assert_true(call->in_table);
    assert_true(fabs(call->iv - 0.55) < 1e-10);
    assert_true(fabs(ht_greeks_result_at(g, 1)->iv - 0.62) < 1e-10);
    assert_true(fabs(ht_greeks_result_at(g, 2)->iv - 0.80) < 1e-10);
    for (size_t i = 0; i < 2; i++) {
        const ht_greeks_result *r = ht_greeks_result_at(g, i);
        const double s = S_USD, h = 1e-5 * s, hv = 1e-3, sig = r->iv;
        /* delta = S dV_coin/dS = Black-76 delta - price in coin */
        const double d_fd = s * (coin_value(r, s + h, sig) - coin_value(r, s - h, sig)) / (2 * h);
        if (!(fabs(r->delta - d_fd) < 1e-8))
            fail_msg("%s: delta %.12g, finite difference %.12g", r->pos->spec.name, r->delta, d_fd);
        ht_b76_greeks b;
        ht_b76_compute(r->pos->spec.option_type, r->forward, r->pos->spec.strike, r->t_years, sig, 0, &b);
        assert_true(fabs(r->delta - (b.delta - r->mark)) < 1e-12);
        /* gamma, speed: derivatives of the delta function d(S) = S dV_coin/dS */
#define COIN_DELTA(S_, SIG_) ((S_) * (coin_value(r, (S_) + 1e-2, SIG_) - coin_value(r, (S_) - 1e-2, SIG_)) / 2e-2)
        const double hg = 2.0; /* USD: truncation ~hg^2/6 d3(delta)/dS3 stays below 1e-6 relative */
        const double g_fd = (COIN_DELTA(s + hg, sig) - COIN_DELTA(s - hg, sig)) / (2 * hg);
        if (!(fabs(r->gamma - g_fd) < 1e-6 * fabs(r->gamma)))
            fail_msg("%s: gamma %.12g, finite difference %.12g", r->pos->spec.name, r->gamma, g_fd);
        const double sp_fd = (COIN_DELTA(s + 20, sig) - 2 * COIN_DELTA(s, sig) + COIN_DELTA(s - 20, sig)) / 400.0;
        if (!(fabs(r->speed - sp_fd) < 1e-3 * fabs(r->speed)))
            fail_msg("%s: speed %.12g, finite difference %.12g", r->pos->spec.name, r->speed, sp_fd);
        const double va_fd = (COIN_DELTA(s, sig + hv) - COIN_DELTA(s, sig - hv)) / (2 * hv);
        if (!(fabs(r->vanna - va_fd) < 1e-5 * fabs(r->vanna) + 1e-8))
            fail_msg("%s: vanna %.12g, finite difference %.12g", r->pos->spec.name, r->vanna, va_fd);
#undef COIN_DELTA
        /* delta_bs is the USD delta */
        const double bs_fd = (usd_value(r, s + h, sig) - usd_value(r, s - h, sig)) / (2 * h);
        assert_true(fabs(r->delta_bs - bs_fd) < 1e-7);
        assert_true(fabs(r->price_usd - r->mark * r->forward) < 1e-9);
    }
    const ht_greeks_result *lin = ht_greeks_result_at(g, 2);
    assert_true(fabs(lin->delta - lin->delta_bs) < 1e-15);
    assert_true(fabs(lin->price_usd - lin->mark) < 1e-12);
    /* k for the linear option: its forward is on btc_usdc, the underlying ticks on btc_usd */
    assert_true(fabs(lin->k_ratio - S_USDC / S_USD) < 1e-15);

    /* Hedges: inverse perpetual -2000 x 10 USD / 25480; linear 1500 x 0.001 BTC. */
    const ht_greeks_underlying *un = ht_greeks_underlying_at(g, 0);
    assert_true(fabs(ht_greeks_result_at(g, 3)->hedge_coin - (-2000 * 10 / 25480.0)) < 1e-12);
    assert_true(fabs(ht_greeks_result_at(g, 4)->hedge_coin - 1.5) < 1e-12);
    assert_true(fabs(un->h - (-20000 / 25480.0 + 1.5)) < 1e-12);
    assert_true(fabs(un->h_inverse - (-20000 / 25480.0)) < 1e-12);
    /* A is the sum of the table's deltas; rows are three options and one inverse-hedge row */
    size_t n = 0;
    const ht_greeks_row *rows = ht_greeks_rows(g, &n);
    assert_int_equal(n, 4);
    double a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a += rows[i].qty_x_mult * rows[i].delta;
        b += rows[i].qty_x_mult * rows[i].gamma;
        assert_true(rows[i].ref_spot_usd == S_USD);
    }
    assert_true(fabs(a - un->a) < 1e-12 && fabs(b - un->b) < 1e-15);
    assert_true(fabs(rows[3].gamma - (-un->h_inverse / S_USD)) < 1e-18);
    assert_true(un->s0 == S_USD);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* USD convention: every delta is the USD delta; no inverse-hedge row. */
static void usd_convention_uses_black_delta(void **state)
{
    (void)state;
    ht_positions *book = make_book();
    ht_greeks *g = make_engine(book, HT_DELTA_USD);
    feed_market(g, 0.55, 0.62, 0.80);
    ht_greeks_recompute(g, NOW_MS);
    for (size_t i = 0; i < 3; i++) {
        const ht_greeks_result *r = ht_greeks_result_at(g, i);
        assert_true(r->delta == r->delta_bs);
        const double h = 1e-4 * S_USD;
        const double g_fd = (usd_value(r, S_USD + h, r->iv) - 2 * usd_value(r, S_USD, r->iv) + usd_value(r, S_USD - h, r->iv)) / (h * h);
        assert_true(fabs(r->gamma - g_fd) < 1e-4 * r->gamma);
    }
    size_t n = 0;
    ht_greeks_rows(g, &n);
    assert_int_equal(n, 3);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* Forwards: the future of the same expiry, else a perpetual, else the index carried at r. */
static void forward_comes_from_future_then_perpetual_then_index(void **state)
{
    (void)state;
    ht_positions *book = make_book();
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    ht_greeks *g = ht_greeks_create(&cfg, book, NULL);
    assert_non_null(g);
    const ht_instrument_spec fut = spec_of(30, "BTC-23JUN23", HT_POS_FUTURE, 0, NAN, EXP_23JUN, true, "btc_usd");
    assert_int_equal(ht_greeks_add_forward_instrument(g, &fut), 0);
    assert_int_equal(ht_greeks_add_forward_instrument(g, &fut), 1);
    feed_market(g, 0.55, 0.62, 0.80);
    ht_greeks_set_mark(g, 30, 25550.0, 25441.0, NOW_MS, true);
    ht_greeks_recompute(g, NOW_MS);
    const ht_greeks_result *call = ht_greeks_result_at(g, 0), *lin = ht_greeks_result_at(g, 2);
    assert_int_equal(call->forward_from, HT_FWD_FROM_FUTURE);
    assert_true(fabs(call->forward - S_USD * 25550.0 / 25441.0) < 1e-9);
    assert_int_equal(lin->forward_from, HT_FWD_FROM_PERPETUAL); /* 16JUN has no future here */
    assert_true(fabs(lin->forward - S_USDC * 25480.0 / S_USD) < 1e-9);
    /* An untrusted future falls back to the perpetual. */
    ht_greeks_set_mark(g, 30, 25550.0, 25441.0, NOW_MS, false);
    ht_greeks_recompute(g, NOW_MS);
    assert_int_equal(ht_greeks_result_at(g, 0)->forward_from, HT_FWD_FROM_PERPETUAL);
    ht_greeks_destroy(g);

    cfg.forward = HT_FORWARD_INDEX;
    cfg.rate = 0.05;
    g = ht_greeks_create(&cfg, book, NULL);
    feed_market(g, 0.55, 0.62, 0.80);
    ht_greeks_recompute(g, NOW_MS);
    call = ht_greeks_result_at(g, 0);
    assert_int_equal(call->forward_from, HT_FWD_FROM_INDEX);
    assert_true(fabs(call->forward - S_USD * exp(0.05 * call->t_years)) < 1e-9);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* Bad input: flagged on the position and counted; no NaN in the rows. A mark that gives no IV is priced on the
 * expiry's smile (here the put of the same expiry: test_fallback.c checks the interpolation), a stale one at its
 * last good IV (the engine solved it at the start); anything else is excluded from the table. */
static void bad_input_is_flagged_excluded_and_counted(void **state)
{
    (void)state;
    ht_positions *book = make_book();
    ht_greeks *g = make_engine(book, HT_DELTA_DERIBIT);
    feed_market(g, 0.55, 0.62, 0.80);
    const struct {
        double call_mark;
        bool trusted;
        uint64_t now;
        uint32_t flag;
        uint32_t fallback;
    } cases[] = {
        {NAN, true, NOW_MS, HT_GF_BAD_PRICE, 0},
        {0.0, true, NOW_MS, HT_GF_BAD_PRICE, 0},
        {-0.01, true, NOW_MS, HT_GF_BAD_PRICE, 0},
        {INFINITY, true, NOW_MS, HT_GF_BAD_PRICE, 0},
        {0.005, true, NOW_MS, HT_GF_BELOW_INTRINSIC, HT_GF_FALLBACK_SMILE}, /* intrinsic (25441.7 - 25000) / F = 0.0174 */
        {1.2, true, NOW_MS, HT_GF_ABOVE_MAX, HT_GF_FALLBACK_SMILE},         /* a call worth more than the forward */
        {0.05, false, NOW_MS, HT_GF_STALE, HT_GF_FALLBACK_LAST_IV},
        {0.05, true, EXP_23JUN + 1, HT_GF_EXPIRED, 0},
    };
    ht_greeks_recompute(g, NOW_MS); /* the call's last good IV */
    for (size_t c = 0; c < HT_ARRAY_LEN(cases); c++) {
        const uint64_t before = ht_greeks_stats_get(g)->excluded_by_flag[__builtin_ctz(cases[c].flag)];
        ht_greeks_set_mark(g, 55, cases[c].call_mark, S_USD, NOW_MS, cases[c].trusted);
        ht_greeks_recompute(g, cases[c].now);
        const ht_greeks_result *r = ht_greeks_result_at(g, 0);
        if (!(r->flags & cases[c].flag) || (r->flags & HT_GF_FALLBACK) != cases[c].fallback)
            fail_msg("case %zu: flags 0x%x, want 0x%x and fallback 0x%x", c, r->flags, cases[c].flag,
                     cases[c].fallback);
        if (cases[c].fallback) {
            assert_true(r->in_table);
            assert_true(isfinite(r->delta));
            assert_int_equal(ht_greeks_stats_get(g)->excluded_by_flag[__builtin_ctz(cases[c].flag)], before);
        } else {
            assert_false(r->in_table);
            assert_true(isnan(r->delta));
            /* +1, or +2 when the put (same expiry) is expired too */
            assert_true(ht_greeks_stats_get(g)->excluded_by_flag[__builtin_ctz(cases[c].flag)] >= before + 1);
        }
        size_t n = 0;
        const ht_greeks_row *rows = ht_greeks_rows(g, &n);
        for (size_t i = 0; i < n; i++) {
            const double v[] = {rows[i].qty_x_mult, rows[i].delta, rows[i].gamma, rows[i].speed, rows[i].vanna,
                                rows[i].ref_spot_usd};
            for (size_t k = 0; k < HT_ARRAY_LEN(v); k++)
                assert_true(isfinite(v[k]));
        }
        const ht_greeks_underlying *un = ht_greeks_underlying_at(g, 0);
        assert_true(isfinite(un->a) && isfinite(un->b) && isfinite(un->c) && isfinite(un->v));
    }
    char buf[64];
    assert_string_equal(ht_greeks_flags_format(HT_GF_STALE | HT_GF_NO_MARK, buf, sizeof buf), "no_mark|stale");

    /* No mark at all, and no index: every option of the underlying is out. */
    ht_greeks_destroy(g);
    g = make_engine(book, HT_DELTA_DERIBIT);
    ht_greeks_recompute(g, NOW_MS);
    assert_true(ht_greeks_result_at(g, 0)->flags & HT_GF_NO_MARK);
    assert_true(ht_greeks_result_at(g, 0)->flags & HT_GF_NO_INDEX);
    assert_true(ht_greeks_result_at(g, 3)->flags & HT_GF_NO_MARK); /* the inverse perpetual needs its price */
    assert_int_equal(ht_greeks_underlying_at(g, 0)->in_table, 0);
    assert_true(ht_greeks_refresh_due(g, 0, S_USD, NOW_MS) & HT_REFRESH_NEVER);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* The fast path's Taylor formula: exact at S0, third order away from it (halving dS divides the error by
 * about 8), and linear in d sigma to first order. */
static void taylor_formula_is_third_order(void **state)
{
    (void)state;
    ht_positions *book = make_book();
    for (int conv = 0; conv < 2; conv++) {
        ht_greeks *g = make_engine(book, (ht_delta_convention)conv);
        feed_market(g, 0.55, 0.62, 0.80);
        ht_greeks_recompute(g, NOW_MS);
        const ht_greeks_underlying *un = ht_greeks_underlying_at(g, 0);
        const double at0 = ht_greeks_exact_net_delta(g, 0, S_USD, 0, NOW_MS);
        assert_true(fabs(at0 - ht_greeks_taylor_net_delta(g, 0, S_USD, 0)) < 1e-12);
        assert_true(fabs(at0 - (un->a + un->h)) < 1e-12);
        const double h = 0.004 * S_USD;
        const double e1 = ht_greeks_exact_net_delta(g, 0, S_USD + h, 0, NOW_MS) - ht_greeks_taylor_net_delta(g, 0, S_USD + h, 0);
        const double e2 = ht_greeks_exact_net_delta(g, 0, S_USD + h / 2, 0, NOW_MS) - ht_greeks_taylor_net_delta(g, 0, S_USD + h / 2, 0);
        print_message("convention %d: Taylor error %.3g at +0.4%%, %.3g at +0.2%% (ratio %.2f)\n", conv, e1, e2, e1 / e2);
        assert_true(fabs(e1 / e2) > 6.0 && fabs(e1 / e2) < 10.0);
        const double dv = 0.002;
        const double ev = ht_greeks_exact_net_delta(g, 0, S_USD, dv, NOW_MS) - ht_greeks_taylor_net_delta(g, 0, S_USD, dv);
        const double ev2 = ht_greeks_exact_net_delta(g, 0, S_USD, dv / 2, NOW_MS) - ht_greeks_taylor_net_delta(g, 0, S_USD, dv / 2);
        assert_true(fabs(ev / ev2) > 3.0 && fabs(ev / ev2) < 5.0); /* second order in d sigma */
        ht_greeks_destroy(g);
    }
    ht_positions_destroy(book);
}

/* Refresh: each trigger fires on its own; the adaptive thresholds keep sampled Taylor errors within their
 * share of the budget (checked at moves the search did not try). */
static void refresh_triggers_and_adaptive_thresholds(void **state)
{
    (void)state;
    ht_positions *book = make_book();
    ht_greeks *g = make_engine(book, HT_DELTA_DERIBIT);
    feed_market(g, 0.55, 0.62, 0.80);
    ht_greeks_recompute(g, NOW_MS);
    const ht_greeks_underlying *un = ht_greeks_underlying_at(g, 0);
    print_message("thresholds: move %.5g, vol %.5g, interval %llu ms; errors %.3g %.3g %.3g of gross %.4g\n",
                  un->move_rel, un->vol_move_max, (unsigned long long)un->interval_ms, un->err_move, un->err_vol,
                  un->err_time, un->gross_delta);
    assert_true(un->budget_met);
    assert_int_equal(ht_greeks_refresh_due(g, 0, S_USD, NOW_MS), 0);
    assert_int_equal(ht_greeks_refresh_due(g, 0, S_USD * (1 + 1.01 * un->move_rel), NOW_MS), HT_REFRESH_MOVE);
    assert_int_equal(ht_greeks_refresh_due(g, 0, S_USD * (1 - 0.99 * un->move_rel), NOW_MS), 0);
    assert_int_equal(ht_greeks_refresh_due(g, 0, S_USD, NOW_MS + un->interval_ms), HT_REFRESH_TIMER);
    ht_greeks_book_changed(g);
    assert_int_equal(ht_greeks_refresh_due(g, 0, S_USD, NOW_MS), HT_REFRESH_BOOK);
    /* A vol move: every option's mark re-priced 3 vol points up moves d sigma by 0.03. */
    const double t23 = (EXP_23JUN - NOW_MS) / (365.0 * 86400000.0), t16 = (EXP_16JUN - NOW_MS) / (365.0 * 86400000.0);
    ht_greeks_set_mark(g, 55, ht_b76_price(HT_B76_CALL, S_USD, 25000, t23, 0.58, 0) / S_USD, S_USD, NOW_MS, true);
    ht_greeks_set_mark(g, 62, ht_b76_price(HT_B76_PUT, S_USD, 25400, t23, 0.65, 0) / S_USD, S_USD, NOW_MS, true);
    ht_greeks_set_mark(g, 16, ht_b76_price(HT_B76_CALL, S_USDC, 25800, t16, 0.83, 0), S_USDC, NOW_MS, true);
    assert_true(fabs(un->vol_move - 0.03) < 1e-9);
    assert_true(ht_greeks_refresh_due(g, 0, S_USD, NOW_MS) & HT_REFRESH_VOL);
    ht_greeks_recompute(g, NOW_MS + 1000);
    assert_true(un->vol_move == 0.0);

    /* Sampled moves within the thresholds stay within the share of the budget. */
    ht_greeks_destroy(g);
    g = make_engine(book, HT_DELTA_DERIBIT);
    feed_market(g, 0.55, 0.62, 0.80);
    ht_greeks_recompute(g, NOW_MS);
    un = ht_greeks_underlying_at(g, 0);
    const double budget = 0.001 * un->gross_delta;
    double worst = 0;
    for (int i = -50; i <= 50; i++) {
        const double s = S_USD * (1 + un->move_rel * i / 50.0);
        worst = fmax(worst, fabs(ht_greeks_exact_net_delta(g, 0, s, 0, NOW_MS) - ht_greeks_taylor_net_delta(g, 0, s, 0)));
    }
    print_message("worst sampled spot-move error %.3g, budget share %.3g\n", worst, 0.5 * budget);
    assert_true(worst <= 0.5 * budget * 1.05);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* The table loaded into the pipeline's C model: its A, B, C, V, S0 and H equal ours to the fixed-point
 * resolution, and a tick's net delta equals the Taylor formula. */
static void table_loads_into_the_pipeline(void **state)
{
    (void)state;
    ht_positions *book = make_book();
    ht_greeks *g = make_engine(book, HT_DELTA_DERIBIT);
    feed_market(g, 0.55, 0.62, 0.80);
    ht_greeks_recompute(g, NOW_MS);
    ht_pipe_config pc;
    ht_pipe_config_default(&pc);
    ht_error err;
    ht_pipe *pipe = ht_pipe_create(&pc, &err);
    assert_non_null(pipe);
    if (ht_greeks_load_pipe(g, pipe, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ht_pipe_sync(pipe, &err), 0);
    ht_pipe_underlying_state st;
    assert_int_equal(ht_pipe_read_underlying(pipe, 0, &st, &err), 0);
    const ht_greeks_underlying *un = ht_greeks_underlying_at(g, 0);
    assert_true(fabs(ht_fx_to_double(st.a, HT_FX_DELTA_FRAC) - un->a) < 1e-8);
    assert_true(fabs(ht_fx_to_double(st.b, HT_FX_GAMMA_FRAC) - un->b) < 1e-13);
    assert_true(fabs(ht_fx_to_double(st.c, HT_FX_SPEED_FRAC) - un->c) < 1e-14);
    assert_true(fabs(ht_fx_to_double(st.v, HT_FX_VANNA_FRAC) - un->v) < 1e-8);
    assert_true(fabs(ht_fx_to_double(st.s0, HT_FX_PRICE_FRAC) - un->s0) < 1e-9);
    assert_true(fabs(ht_fx_to_double(st.inventory, HT_FX_DELTA_FRAC) - un->h) < 1e-9);
    /* A band that any net delta breaches: the event carries the pipeline's net delta at this spot. */
    assert_int_equal(ht_pipe_set_band(pipe, 0, 1e6, 2e6, &err), 0);
    const double spot = S_USD * 1.002;
    const ht_pipe_tick tick = {0, 1, spot};
    assert_int_equal(ht_pipe_push_tick(pipe, &tick), 0);
    ht_pipe_event ev;
    assert_int_equal(ht_pipe_poll_event(pipe, &ev), 1);
    const double ours = ht_greeks_taylor_net_delta(g, 0, spot, 0);
    print_message("pipeline net delta %.12g, ours %.12g, exact %.12g\n", ev.net_delta_contracts, ours,
                  ht_greeks_exact_net_delta(g, 0, spot, 0, NOW_MS));
    assert_true(fabs(ev.net_delta_contracts - ours) < 1e-7);
    ht_pipe_destroy(pipe);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deribit_convention_matches_its_definition),
        cmocka_unit_test(usd_convention_uses_black_delta),
        cmocka_unit_test(forward_comes_from_future_then_perpetual_then_index),
        cmocka_unit_test(bad_input_is_flagged_excluded_and_counted),
        cmocka_unit_test(taylor_formula_is_third_order),
        cmocka_unit_test(refresh_triggers_and_adaptive_thresholds),
        cmocka_unit_test(table_loads_into_the_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

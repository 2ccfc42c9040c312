/* SPDX-License-Identifier: MIT */
/* The optimizer driving the pipeline's band in a closed loop: sw pipeline, simulated ticks, fills, re-arm. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/backtest.h"
#include "hedgetrig/optimizer.h"
#include "hedgetrig/pipe.h"

#define SPOT0 25000.0
#define VOL 0.6
#define TAU0 (30.0 / 365.0)
#define QTY (-10.0) /* short 10 BTC of ATM calls */
#define TICK_S 1.0

/* The book's delta, gamma, speed and vanna per BTC at spot (speed by central difference of gamma). */
static void position_greeks(double spot, double tau, ht_pipe_position *p)
{
    ht_bt_bs b, up, dn;
    ht_bt_bs_eval(true, spot, SPOT0, tau, 0.0, VOL, &b);
    ht_bt_bs_eval(true, spot * (1 + 1e-4), SPOT0, tau, 0.0, VOL, &up);
    ht_bt_bs_eval(true, spot * (1 - 1e-4), SPOT0, tau, 0.0, VOL, &dn);
    memset(p, 0, sizeof *p);
    p->underlying = 0;
    p->qty_x_mult = QTY;
    p->delta = b.delta;
    p->gamma = b.gamma;
    p->speed = (up.gamma - dn.gamma) / (2e-4 * spot);
    p->vanna = b.vanna;
    p->ref_spot_usd = spot;
}

/* An 8-level BTC-PERPETUAL book around spot, 0.5 USD ticks, 300,000 USD a level. */
static void perp_quote(double spot, ht_opt_quote *q)
{
    memset(q, 0, sizeof *q);
    double mid = round(spot * 2.0) / 2.0;
    for (int l = 0; l < HT_OPT_BOOK_LEVELS; l++) {
        q->bid_px[l] = mid - 0.5 * (l + 1);
        q->ask_px[l] = mid + 0.5 * (l + 1);
        q->bid_amount[l] = q->ask_amount[l] = 300000.0;
    }
    q->n_bid = q->n_ask = HT_OPT_BOOK_LEVELS;
}

/* A day of one-second GBM ticks through the sw pipeline. On every breach event the optimizer decides; its IOC
 * orders fill in full; the host writes the new inventory and the optimizer's band, which re-arms the
 * underlying. Checks, at every event:
 *   - the pipeline's net delta matches the book's Taylor expansion plus the inventory (units agree: coins);
 *   - the event's net delta is outside the band in force (the pipeline fired for a reason);
 *   - the net delta the orders leave behind is inside the band the optimizer hands back (re-arming does not
 *     re-fire at once), and the band registers read back are that band to the format's resolution;
 *   - after each hedge the next event comes from a real move, not from the same tick. */
static void optimizer_drives_the_pipeline_band(void **state)
{
    (void)state;
    ht_error err = {{0}};
    ht_pipe_config pc;
    ht_pipe_config_default(&pc);
    ht_pipe *pipe = ht_pipe_create(&pc, &err);
    if (!pipe)
        fail_msg("%s", err.msg);
    ht_pipe_position pos;
    position_greeks(SPOT0, TAU0, &pos);
    double s0[HT_PIPE_UNDERLYINGS] = {SPOT0};
    assert_int_equal(ht_pipe_load_book(pipe, &pos, 1, s0, &err), 0);
    assert_int_equal(ht_pipe_sync(pipe, &err), 0);

    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    cfg.min_hedge_coin = 0.05; /* no hedge under 0.05 BTC: a desk's setting, against trades of a single lot */
    ht_opt *opt = ht_opt_create(&cfg, &err);
    assert_non_null(opt);
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, HT_OPT_RULE_WW, 2e-3); /* risk aversion per USD: a band of about 0.2 BTC */
    assert_int_equal(ht_opt_set_strategy(opt, 0, &s, &err), 0);
    ht_opt_venue perp;
    ht_opt_venue_init(&perp, "BTC-PERPETUAL", HT_OPT_INVERSE, 10.0);
    assert_int_equal(ht_opt_add_venue(opt, 0, &perp, &err), 0);

    /* The book's A, B, C, V as the pipeline folded them (one position at S0: no re-centring). */
    const double a = QTY * pos.delta, b = QTY * pos.gamma, c = QTY * pos.speed;
    double inventory = 0.0, band_lo = -INFINITY, band_hi = INFINITY;
    ht_opt_book book = {.tau_years = TAU0, .vol = VOL, .rate = 0.0, .vanna = QTY * pos.vanna,
                        .gross_delta_coin = fabs(a)};
    ht_bt_rng rng;
    ht_bt_rng_init(&rng, 11, 0);
    ht_bt_model gbm = {.kind = HT_BT_GBM, .mu = 0.0, .sigma = VOL};
    ht_bt_state st = {SPOT0, 0.0};
    const double dt = TICK_S / HT_OPT_SECONDS_PER_YEAR;
    unsigned events = 0, hedges = 0;
    uint64_t last_hedge_tick = UINT64_MAX;
    for (uint64_t k = 0; k < 86400; k++) {
        ht_pipe_tick tick = {.underlying = 0, .seq = k, .spot_usd = st.spot};
        bool start = k == 0; /* the first decision is a refresh: hedge the book from nothing */
        if (!start)
            assert_int_equal(ht_pipe_push_tick(pipe, &tick), 0);
        ht_pipe_event pe;
        int got = start ? 0 : ht_pipe_poll_event(pipe, &pe);
        if (start || got == 1) {
            double ds = st.spot - SPOT0;
            double model_net = a + (b + 0.5 * c * ds) * ds + inventory;
            ht_opt_event ev = {.underlying = 0, .now_ns = (int64_t)(k * 1000000000ull), .spot = st.spot};
            if (start) {
                ev.trigger = HT_OPT_TRIGGER_REFRESH;
                ev.net_delta_coin = model_net;
                ev.net_gamma = b + c * ds;
            } else {
                events++;
                ev.trigger = HT_OPT_TRIGGER_BREACH;
                ev.side = (pe.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1;
                ev.net_delta_coin = pe.net_delta_contracts;
                ev.net_gamma = pe.net_gamma_per_usd;
                if (fabs(pe.net_delta_contracts - model_net) > 1e-6)
                    fail_msg("tick %llu: pipeline net delta %.9f, book %.9f", (unsigned long long)k,
                             pe.net_delta_contracts, model_net);
                assert_true(pe.net_delta_contracts < band_lo || pe.net_delta_contracts > band_hi);
                assert_true(k != last_hedge_tick + 1 || fabs(ds) > 0.0);
            }
            book.tau_years = TAU0 - k * dt;
            ht_opt_quote q;
            perp_quote(st.spot, &q);
            ht_opt_decision d;
            if (ht_opt_decide(opt, &ev, &book, &q, &d, &err) != 0)
                fail_msg("tick %llu: %s", (unsigned long long)k, err.msg);
            for (uint32_t i = 0; i < d.n_orders; i++) /* IOC orders fill in full */
                inventory += d.orders[i].delta_coin;
            double after = ev.net_delta_coin + d.trade_delta_coin;
            if (!(d.band_lo_coin <= after && after <= d.band_hi_coin))
                fail_msg("tick %llu: net delta %.9f after the orders is outside the new band [%.9f, %.9f]",
                         (unsigned long long)k, after, d.band_lo_coin, d.band_hi_coin);
            if (d.n_orders) {
                hedges++;
                last_hedge_tick = k;
            }
            assert_int_equal(ht_pipe_set_inventory(pipe, 0, inventory, &err), 0);
            assert_int_equal(ht_pipe_set_band(pipe, 0, d.band_lo_coin, d.band_hi_coin, &err), 0);
            band_lo = d.band_lo_coin;
            band_hi = d.band_hi_coin;
            ht_pipe_underlying_state us;
            assert_int_equal(ht_pipe_read_underlying(pipe, 0, &us, &err), 0);
            const double res = ldexp(1.0, -HT_FX_BAND_FRAC);
            assert_true(fabs((double)us.band_lo * res - band_lo) <= res);
            assert_true(fabs((double)us.band_hi * res - band_hi) <= res);
            assert_true(fabs((double)us.inventory * res - inventory) <= res);
        }
        ht_bt_model_step(&gbm, &st, dt, &rng);
    }
    ht_pipe_counters ctr;
    assert_int_equal(ht_pipe_read_counters(pipe, &ctr, &err), 0);
    print_message("%u events, %u hedges, final inventory %.4f BTC, final band [%.4f, %.4f], muted ticks %llu\n",
                  events, hedges, inventory, band_lo, band_hi, (unsigned long long)ctr.muted_ticks);
    assert_int_equal(ctr.events, events);
    assert_int_equal(ctr.muted_ticks, 0); /* every event was answered before the next tick */
    assert_true(events >= 5 && hedges >= events / 2);
    assert_true(band_hi - band_lo > 0.05 && band_hi - band_lo < 2.0);
    ht_opt_destroy(opt);
    ht_pipe_destroy(pipe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(optimizer_drives_the_pipeline_band),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

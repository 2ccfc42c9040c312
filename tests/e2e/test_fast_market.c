/* SPDX-License-Identifier: MIT */
/* A fast market against the venue's rate limits (issue 13): the demo's book on a simulated market that jumps by
 * many band widths within a few ticks, ticks every 20 ms, a band of 0.02 coin, hedged through the in-process
 * exchange simulator, which enforces Deribit's tier-4 limits (5 matching-engine requests a second, a burst of 20)
 * the way Deribit does: a request over them is refused with too_many_requests (10028) and ends the session. The
 * engine wants to trade far more often than that; the gateway's mirror of the same limits must hold the hedges it
 * cannot send and merge them into the next decision, so that the simulator never sees a violation.
 *
 * Checks, against the simulator's own counters (an independent account of what reached it): zero rate violations,
 * one logon (the session never dropped), no order rejected; hedges held and merged (counted by the engine, and the
 * gateway's count of held requests agrees); the matching-engine changes the gateway counted equal the simulator's;
 * and the market was fast: the unhedged net delta moved by more than 3 band widths within 3 ticks (from the
 * series file), so the test cannot pass on a quiet market. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/engine_setup.h"

#define DEMO_BOOK HT_SOURCE_DIR "/examples/demo_book.csv"
#define TMP HT_TEST_TMPDIR

/* The largest move of the series' unhedged net delta within `ticks` ticks, and the band's width (the largest seen). */
static void series_moves(const char *path, unsigned ticks, double *max_move, double *band_width)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    double hist[8] = {0};
    unsigned n = 0;
    *max_move = 0.0;
    *band_width = 0.0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        double t, spot, nd, after, lo, hi, unhedged, hedge;
        unsigned u;
        assert_int_equal(sscanf(line, "%lf,%u,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &t, &u, &spot, &nd, &after, &lo, &hi,
                                &unhedged, &hedge),
                         9);
        if (isfinite(lo) && isfinite(hi) && hi - lo > *band_width)
            *band_width = hi - lo;
        if (n >= ticks && fabs(unhedged - hist[(n - ticks) % 8]) > *max_move)
            *max_move = fabs(unhedged - hist[(n - ticks) % 8]);
        hist[n % 8] = unhedged;
        n++;
    }
    fclose(f);
    assert_true(n > 1000);
}

static void fast_market_never_trips_the_venue(void **state)
{
    (void)state;
    ht_setup_config setup;
    ht_setup_config_default(&setup);
    ht_engine_config *cfg = &setup.engine;
    snprintf(cfg->book_path, sizeof cfg->book_path, "%s", DEMO_BOOK);
    snprintf(cfg->strategy, sizeof cfg->strategy, "fixed:0.02");
    cfg->min_half_width_coin = 0.01;
    snprintf(cfg->event_log, sizeof cfg->event_log, "%s", TMP "/fast_market_events.csv");
    snprintf(cfg->series_path, sizeof cfg->series_path, "%s", TMP "/fast_market_series.csv");
    cfg->venue = HT_ENGINE_VENUE_SIM;
    cfg->source = HT_ENGINE_SOURCE_MARKET;
    cfg->threads = false;
    /* Deribit's tier 4, mirrored by the gateway and enforced by the simulator (the [rate] defaults, named). */
    assert_string_equal(cfg->gw.rate.tier, "tier4");
    assert_true(cfg->gw.rate.enforce);
    ht_mkt_config *mc = &setup.market;
    mc->seed = 7;
    mc->steps = 3000;
    mc->step_ms = 20;
    mc->vol = 2.0;
    mc->jumps_per_day = 10000;
    mc->jump_stdev = 0.01;
    ht_error err;
    assert_int_equal(ht_setup_config_check(&setup, &err), 0);
    ht_engine *e = ht_engine_create(cfg, &err);
    assert_non_null(e);
    ht_venue *v = ht_setup_venue_create(cfg, &setup.xsim, &err);
    assert_non_null(v);
    ht_xsim *x = ht_setup_venue_xsim(v);
    assert_non_null(x);
    assert_int_equal(ht_engine_attach_venue(e, v, &err), 0);
    ht_mkt *m = ht_mkt_create(mc, &err);
    assert_non_null(m);
    int rc = ht_setup_run_market(e, m, NULL, &err);
    if (rc != 0)
        print_message("run: %s\n", err.msg);
    assert_int_equal(rc, 0);

    ht_engine_report rep;
    ht_engine_get_report(e, &rep);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    ht_venue_limits lim;
    memset(&lim, 0, sizeof lim);
    v->ops->limits(v->ctx, &lim);
    print_message("ticks %llu, breaches %llu, decisions %llu, orders %llu; held for rate %llu, merged %llu; "
                  "simulator: orders %llu, logons %llu, rate violations %llu, me changes %llu (gateway %llu)\n",
                  (unsigned long long)rep.ticks, (unsigned long long)rep.breaches, (unsigned long long)rep.decisions,
                  (unsigned long long)rep.orders, (unsigned long long)rep.hedges_held_for_rate,
                  (unsigned long long)rep.hedges_merged, (unsigned long long)st.orders,
                  (unsigned long long)st.logons, (unsigned long long)st.rate_violations,
                  (unsigned long long)st.me_changes, (unsigned long long)lim.me_changes);
    assert_int_equal(st.rate_violations, 0);
    assert_int_equal(st.logons, 1);
    assert_int_equal(rep.orders_rejected, 0);
    assert_int_equal(st.orders, rep.orders);
    assert_true(rep.hedges_held_for_rate > 100);
    assert_true(rep.hedges_merged > 100);
    assert_true(lim.known);
    assert_int_equal(lim.held, rep.hedges_held_for_rate);
    assert_int_equal(lim.me_changes, st.me_changes);
    /* The engine wanted more than the venue allows (the holds above); what went out fits 5 a second after the
     * burst of 20. */
    const double seconds = (double)mc->steps * mc->step_ms / 1000.0;
    assert_true((double)rep.orders <= 5.0 * seconds + 20.0);
    ht_engine_destroy(e);
    ht_mkt_destroy(m);

    double move, width;
    series_moves(TMP "/fast_market_series.csv", 3, &move, &width);
    print_message("largest unhedged net delta move within 3 ticks %.4f coin, band width %.4f coin\n", move, width);
    assert_true(width > 0.0);
    assert_true(move > 3.0 * width);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_market_never_trips_the_venue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Decision time of the optimizer per breach event (ns: median, p90, p99, p99.9), per band rule, on 3 Deribit venues
 * (or 1), hedging or landing inside the band. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/backtest.h"
#include "hedgetrig/optimizer.h"
#include "hedgetrig/tsc.h"

#define N_QUOTE_SETS 64

/* The bench's own reproducible inputs (the backtest's Philox stream). */
static ht_bt_rng g_rng;
static double uniform01(void)
{
    return ht_bt_rng_uniform(&g_rng);
}

/* Orders two doubles for qsort. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills three venue books (BTC-PERPETUAL, BTC_USDC-PERPETUAL, a dated future) of 8 levels around spot, prepared
 * (running sums, ht_opt_quote_prepare) unless told otherwise. */
static void make_quotes(ht_opt_quote q[3], double spot, bool prepare)
{
    memset(q, 0, 3 * sizeof q[0]);
    const double tick[3] = {0.5, 1.0, 2.5}, basis[3] = {0.0, -1.0, 0.004 * spot};
    for (int v = 0; v < 3; v++) {
        double mid = round((spot + basis[v]) / tick[v]) * tick[v];
        for (int l = 0; l < HT_OPT_BOOK_LEVELS; l++) {
            double depth_usd = (v == 1 ? 30000.0 : 200000.0) * (1.0 + 2.0 * uniform01());
            q[v].bid_px[l] = mid - tick[v] * (1 + l + (l ? floor(3 * uniform01()) : 0));
            q[v].ask_px[l] = mid + tick[v] * (1 + l + (l ? floor(3 * uniform01()) : 0));
            if (l) { /* keep the levels ordered */
                q[v].bid_px[l] = fmin(q[v].bid_px[l], q[v].bid_px[l - 1] - tick[v]);
                q[v].ask_px[l] = fmax(q[v].ask_px[l], q[v].ask_px[l - 1] + tick[v]);
            }
            q[v].bid_amount[l] = v == 1 ? round(depth_usd / spot * 1000.0) / 1000.0 : round(depth_usd / 10.0) * 10.0;
            q[v].ask_amount[l] = q[v].bid_amount[l];
        }
        q[v].n_bid = q[v].n_ask = HT_OPT_BOOK_LEVELS;
        q[v].position_amount = 0.0;
        if (prepare) /* as the engine does when a venue's book changes */
            ht_opt_quote_prepare(&q[v], v == 1 ? HT_OPT_LINEAR : HT_OPT_INVERSE);
    }
}

typedef struct scenario {
    const char *name;
    ht_opt_rule rule;
    double param;
    int venues;       /* hedge instruments (1: BTC-PERPETUAL only) */
    bool inside_band; /* events that land inside the band: the no-trade path */
} scenario;

/* Breach events: a short-gamma book of about -2 BTC gamma-dollar, net delta 1..20 BTC off either way; one event
 * in 50 is a timer. */
static void make_events(ht_opt_event *events, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        events[i] = (ht_opt_event){.underlying = 0, .trigger = HT_OPT_TRIGGER_BREACH,
                                   .now_ns = (int64_t)i * 1000000, .spot = 25000.0 * (0.98 + 0.04 * uniform01()),
                                   .net_gamma = -(1.0 + uniform01()) * 1e-4};
        double off = 1.0 + 19.0 * uniform01();
        events[i].side = uniform01() < 0.5 ? -1 : 1;
        events[i].net_delta_coin = events[i].side * off;
        if (i % 50 == 0)
            events[i].trigger = HT_OPT_TRIGGER_TIMER;
    }
}

/* The median cost of reading the clock twice (to subtract), over n reads (ns: scratch for n figures). */
static double clock_overhead_ns(double *ns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = ht_tsc_now();
        uint64_t t1 = ht_tsc_now();
        ns[i] = ht_tsc_to_ns(t1 - t0);
    }
    qsort(ns, n, sizeof *ns, cmp_double);
    return ns[n / 2];
}

/* An optimizer for a scenario: its rule on underlying 0 with the first sc->venues of three Deribit venues, a rate
 * limit that is exercised and never binds. Returns NULL (message printed) on failure. */
static ht_opt *scenario_optimizer(const scenario *sc)
{
    ht_opt_config cfg;
    ht_opt_config_default(&cfg);
    cfg.max_orders_per_s = 1e9; /* exercised, never binding */
    cfg.burst_orders = 1e9;
    ht_error err = {{0}};
    ht_opt *opt = ht_opt_create(&cfg, &err);
    ht_opt_strategy st;
    ht_opt_strategy_init(&st, sc->rule, sc->param);
    st.interval_ns = 60ll * 1000000000ll;
    ht_opt_venue v[3];
    ht_opt_venue_init(&v[0], "BTC-PERPETUAL", HT_OPT_INVERSE, 10.0);
    ht_opt_venue_init(&v[1], "BTC_USDC-PERPETUAL", HT_OPT_LINEAR, 0.001);
    ht_opt_venue_init(&v[2], "BTC-30JUN23", HT_OPT_INVERSE, 10.0);
    v[1].tick_size = 1.0;
    v[2].tick_size = 2.5;
    if (!opt || ht_opt_set_strategy(opt, 0, &st, &err) != 0) {
        fprintf(stderr, "bench_optimizer: %s\n", err.msg);
        return NULL;
    }
    for (int k = 0; k < sc->venues; k++)
        if (ht_opt_add_venue(opt, 0, &v[k], &err) < 0) {
            fprintf(stderr, "bench_optimizer: %s\n", err.msg);
            return NULL;
        }
    return opt;
}

/* Times one scenario's decisions over the n events (after a warm-up of n / 10) into ns (sorted on return, the
 * clock overhead subtracted); returns the orders per event. */
static double time_scenario(ht_opt *opt, const scenario *sc, const ht_opt_event *events, size_t n,
                            ht_opt_quote (*quotes)[3], const ht_opt_book *book, double overhead, double *ns)
{
    /* inside the band: net deltas of 0.005 to 0.1 BTC, inside the ww and zak bands of this book (0.1 to 0.2) */
    double scale = sc->inside_band ? 0.005 : 1.0;
    ht_opt_decision d;
    uint64_t orders = 0;
    volatile double sink = 0.0;
    for (size_t i = 0; i < n / 10; i++) { /* warm-up */
        ht_opt_event ev = events[i];
        ev.net_delta_coin *= scale;
        ht_opt_decide(opt, &ev, book, quotes[i % N_QUOTE_SETS], &d, NULL);
    }
    ht_opt_reset(opt);
    for (size_t i = 0; i < n; i++) {
        const ht_opt_quote *q = quotes[i % N_QUOTE_SETS];
        ht_opt_event ev = events[i];
        ev.net_delta_coin *= scale;
        uint64_t t0 = ht_tsc_now();
        ht_opt_decide(opt, &ev, book, q, &d, NULL);
        uint64_t t1 = ht_tsc_now();
        ns[i] = ht_tsc_to_ns(t1 - t0) - overhead;
        orders += d.n_orders;
        sink += d.band_hi_coin;
    }
    (void)sink;
    qsort(ns, n, sizeof *ns, cmp_double);
    return (double)orders / n;
}

int main(int argc, char **argv)
{
    size_t n = 200000;
    bool json = false, prepare = true;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--unprepared") == 0)
            prepare = false;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_optimizer [--events N] [--only SCENARIO] [--unprepared] [--json]\n");
            return 2;
        }
    }
    if (n < 100)
        n = 100;
    ht_bt_rng_init(&g_rng, 0x5EED, 0);
    ht_tsc_calibrate(50);
    const scenario scenarios[] = {
        {"fixed/3", HT_OPT_RULE_FIXED, 0.5, 3, false},   {"ww/3", HT_OPT_RULE_WW, 1e-4, 3, false},
        {"zak/3", HT_OPT_RULE_ZAK, 1e-4, 3, false},      {"move/3", HT_OPT_RULE_MOVE, 0.002, 3, false},
        {"time/3", HT_OPT_RULE_TIME, 0.0, 3, false},     {"leland/3", HT_OPT_RULE_LELAND, 0.0, 3, false},
        {"ww/1", HT_OPT_RULE_WW, 1e-4, 1, false},        {"zak/1", HT_OPT_RULE_ZAK, 1e-4, 1, false},
        {"ww/inside", HT_OPT_RULE_WW, 1e-4, 3, true},    {"zak/inside", HT_OPT_RULE_ZAK, 1e-4, 3, true},
    };
    ht_opt_quote (*quotes)[3] = malloc(N_QUOTE_SETS * sizeof *quotes);
    ht_opt_event *events = malloc(n * sizeof *events);
    double *ns = malloc(n * sizeof *ns);
    if (!quotes || !events || !ns)
        return 1;
    for (int k = 0; k < N_QUOTE_SETS; k++)
        make_quotes(quotes[k], 25000.0 * (0.98 + 0.04 * uniform01()), prepare);
    make_events(events, n);
    ht_opt_book book = {.tau_years = 14.0 / 365.0, .vol = 0.5, .realised_vol = 0.45, .rate = 0.0, .vanna = -3.0,
                        .gross_delta_coin = 60.0};
    double overhead = clock_overhead_ns(ns, n);
    if (json)
        printf("{\"events\":%zu,\"clock_overhead_ns\":%.1f,\"rules\":[", n, overhead);
    else
        printf("optimizer decision time per breach event, %zu events, 3 venues x %d levels (clock read overhead "
               "%.1f ns subtracted)\n%-10s %10s %10s %10s %10s %10s %9s\n",
               n, HT_OPT_BOOK_LEVELS, overhead, "rule", "median_ns", "p90_ns", "p99_ns", "p99.9_ns", "max_ns",
               "orders");
    bool first = true;
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        if (only && strcmp(only, scenarios[s].name) != 0)
            continue;
        ht_opt *opt = scenario_optimizer(&scenarios[s]);
        if (!opt)
            return 1;
        double orders = time_scenario(opt, &scenarios[s], events, n, quotes, &book, overhead, ns);
        double med = ns[n / 2], p90 = ns[(size_t)(0.9 * n)], p99 = ns[(size_t)(0.99 * n)],
               p999 = ns[(size_t)(0.999 * n)], max = ns[n - 1];
        if (json)
            printf("%s{\"rule\":\"%s\",\"median_ns\":%.1f,\"p90_ns\":%.1f,\"p99_ns\":%.1f,\"p999_ns\":%.1f,"
                   "\"max_ns\":%.1f,\"orders_per_event\":%.3f}",
                   first ? "" : ",", scenarios[s].name, med, p90, p99, p999, max, orders);
        else
            printf("%-10s %10.1f %10.1f %10.1f %10.1f %10.1f %9.3f\n", scenarios[s].name, med, p90, p99, p999, max,
                   orders);
        ht_opt_destroy(opt);
        first = false;
    }
    if (json)
        printf("]}\n");
    free(quotes);
    free(events);
    free(ns);
    return 0;
}

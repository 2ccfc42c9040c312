/* SPDX-License-Identifier: MIT */
/* taylor_study: the Taylor error of the fast path under refresh policies, on simulated paths and on the real
 * capture; the figures of docs/greeks.md. Usage: taylor_study [PCAP BOOK] [--quick] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/greeks.h"
#include "taylor.h"

/* Prints one row of the study's table. */
static void print_row(const char *data, const char *policy, const taylor_stats *s)
{
    const double per_hour = s->hours > 0 ? (double)s->refreshes / s->hours : 0.0;
    printf("%-34s %-30s %9llu %8.1f %5llu/%4llu/%4llu/%4llu %9.2e %9.2e %9.2e %9.2e %7.4f%%\n", data, policy,
           (unsigned long long)s->ticks, per_hour, (unsigned long long)s->by_reason[0],
           (unsigned long long)s->by_reason[1], (unsigned long long)s->by_reason[5],
           (unsigned long long)s->by_reason[2], s->p50, s->p99, s->p999, s->max_rel, 100.0 * s->over_budget);
}

/* A policy: the defaults, or fixed thresholds with adaptive tightening off. */
static ht_greeks_config policy(bool adaptive, double move_rel, double vol_move, uint64_t interval_ms)
{
    ht_greeks_config c;
    ht_greeks_config_default(&c);
    c.refresh.adaptive = adaptive;
    c.refresh.max_move_rel = move_rel;
    c.refresh.max_vol_move = vol_move;
    c.refresh.max_interval_ms = interval_ms;
    if (c.refresh.min_move_rel > move_rel)
        c.refresh.min_move_rel = move_rel;
    return c;
}

int main(int argc, char **argv)
{
    const char *pcap = NULL, *book = NULL;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (!pcap)
            pcap = argv[i];
        else
            book = argv[i];
    }
    ht_greeks_config def;
    ht_greeks_config_default(&def);
    struct {
        const char *name;
        ht_greeks_config cfg;
    } policies[] = {
        {"default (adaptive, 0.5%/0.01/60s)", def},
        {"fixed 0.1% / 0.01 / 60 s", policy(false, 0.001, 0.01, 60000)},
        {"fixed 0.25% / 0.01 / 60 s", policy(false, 0.0025, 0.01, 60000)},
        {"fixed 0.5% / 0.01 / 60 s", policy(false, 0.005, 0.01, 60000)},
        {"fixed 1% / 0.02 / 300 s", policy(false, 0.01, 0.02, 300000)},
    };
    const unsigned paths = quick ? 2 : 4;
    const double hours = quick ? 0.5 : 2.0;
    printf("# error = |fast path - exact| / gross delta; refresh reasons move/vol/smile/timer; budget 0.1%%\n");
    printf("%-34s %-30s %9s %8s %15s %9s %9s %9s %9s %8s\n", "data", "policy", "ticks", "refr/h", "mv/vol/smile/tmr",
           "p50", "p99", "p99.9", "max", ">budget");
    ht_error err;
    struct {
        const char *name;
        size_t options;
        double real_vol, vol_of_vol;
    } sims[] = {
        {"sim 77 opt+perp, rv 60%, vv 100%", 77, 0.6, 1.0},
        {"sim 77 opt+perp, rv 120%, vv 300%", 77, 1.2, 3.0},
    };
    for (size_t s = 0; s < sizeof sims / sizeof sims[0]; s++)
        for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++) {
            taylor_stats st;
            if (taylor_sim_run(&policies[p].cfg, sims[s].options, sims[s].real_vol, sims[s].vol_of_vol, hours, 100.0,
                               paths, 1, &st, &err) != 0) {
                fprintf(stderr, "taylor_study: %s\n", err.msg);
                return 1;
            }
            print_row(sims[s].name, policies[p].name, &st);
            fflush(stdout);
        }
    if (pcap && book)
        for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++) {
            taylor_stats st;
            if (taylor_capture_run(&policies[p].cfg, pcap, book, &st, &err) != 0) {
                fprintf(stderr, "taylor_study: %s\n", err.msg);
                return 1;
            }
            print_row("capture, example book", policies[p].name, &st);
        }
    return 0;
}

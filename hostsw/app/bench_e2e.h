/* SPDX-License-Identifier: MIT */
/* The end-to-end benchmark scenarios of `hedgetrig bench` (capture, synthetic, throughput, peer). */
#ifndef HEDGETRIG_APP_BENCH_E2E_H
#define HEDGETRIG_APP_BENCH_E2E_H

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/pipe.h"

typedef struct ht_bench_opts {
    const char *out;            /* report folder */
    unsigned repeat;            /* capture replays */
    uint64_t ticks;             /* synthetic and throughput ticks */
    ht_pipe_backend backend;
    const char *scenarios[8];   /* to run (none: the defaults) */
    unsigned n_scenarios;
} ht_bench_opts;

/* Defaults: bench-report, 20 replays, 1M ticks, sw. */
void ht_bench_opts_default(ht_bench_opts *o);

/* True for capture, synthetic, throughput, peer. */
bool ht_bench_scenario_known(const char *name);

/* Runs the scenarios and writes the report; returns an exit code. */
int ht_bench_run(const ht_bench_opts *o);

#endif

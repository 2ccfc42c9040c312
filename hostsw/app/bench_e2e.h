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
    bool compare_unarmed;       /* capture and synthetic: pre-armed hedges and the full decision, side by side */
    bool json;                  /* one JSON object on stdout (the text goes to report.txt only) */
} ht_bench_opts;

#include "hedgetrig/engine.h"
#include "hedgetrig/profile.h"

/* The engine settings of the capture and synthetic scenarios. */
void ht_bench_capture_config(const ht_bench_opts *o, ht_engine_config *cfg);
void ht_bench_synthetic_config(const ht_bench_opts *o, ht_engine_config *cfg);
#include "hedgetrig/market_sim.h"
/* The synthetic scenario's market: ticks index ticks of the demo book's instruments. */
void ht_bench_synthetic_market(ht_mkt_config *mc, uint64_t ticks);

/* Pre-armed against unarmed (bench_armed.c): [1] armed ([engine] prearm on), [0] the full decision at every breach;
 * profiles merged over the runs and reports summed. */
typedef struct ht_bench_armed_result {
    ht_profile *prof[2];
    ht_engine_report rep[2];
    unsigned runs;
} ht_bench_armed_result;
/* The capture replayed o->repeat times in each mode, the modes alternating run by run (which goes first too). */
int ht_bench_armed_capture(const ht_bench_opts *o, ht_bench_armed_result *out, ht_error *err);
/* The synthetic market's packets, each handed to an armed and an unarmed engine in turn (alternating which goes
 * first), each engine with its own in-process venue. */
int ht_bench_armed_synthetic(const ht_bench_opts *o, ht_bench_armed_result *out, ht_error *err);
void ht_bench_armed_result_free(ht_bench_armed_result *r);

/* Defaults: bench-report, 20 replays, 1M ticks, sw. */
void ht_bench_opts_default(ht_bench_opts *o);

/* True for capture, synthetic, throughput, peer. */
bool ht_bench_scenario_known(const char *name);

/* Runs the scenarios and writes the report; returns an exit code. */
int ht_bench_run(const ht_bench_opts *o);

#endif

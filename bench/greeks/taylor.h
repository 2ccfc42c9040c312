/* SPDX-License-Identifier: MIT */
/* The Taylor-error study: the fast path's net delta between re-centres against an exact reprice on the same
 * tick, on simulated paths and on the real capture, under a refresh policy. */
#ifndef HEDGETRIG_BENCH_TAYLOR_H
#define HEDGETRIG_BENCH_TAYLOR_H

#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/greeks.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a run measured. The error of a tick is |fast path - exact| / gross delta at the last re-centre, where
 *   fast path = A + B dS + C dS^2/2 + V dsigma + H  (the pipeline's formula, in double; dsigma the engine's
 *               vega-weighted IV move),
 *   exact     = sum over the table's positions of qty x delta at the tick's spot, time and each option's own
 *               IV on that tick (not a parallel shift), plus H at that spot. */
typedef struct taylor_stats {
    uint64_t ticks;                 /* ticks measured (ticks that re-centred are not: their error is 0) */
    uint64_t refreshes;             /* re-centres, and by reason (HT_REFRESH_* bit order) */
    uint64_t by_reason[HT_REFRESH_REASONS];
    double hours;                   /* market time covered */
    double max_rel, p50, p99, p999; /* relative error: max and percentiles */
    double over_budget;             /* fraction of ticks above the configured error budget */
    double mean_move_rel;           /* mean |dS|/S0 at which moves re-centred (0 when none) */
} taylor_stats;

/* Simulated paths: a synthetic book (synth_book.h) of n_options options and a perpetual, a GBM spot with
 * real_vol, an ATM vol level that random-walks with vol_of_vol (per sqrt(year)) through the smile of
 * synth_smile, ticks every tick_ms for hours, paths paths from seed. The policy is cfg (forward from the index,
 * r = 0). Returns 0, or -1 with a message. */
int taylor_sim_run(const ht_greeks_config *cfg, size_t n_options, double real_vol, double vol_of_vol, double hours,
                   double tick_ms, unsigned paths, uint64_t seed, taylor_stats *out, ht_error *err);

/* The real capture: the book replayed through pcap; every btc_usd index update is a tick; each option's IV on
 * that tick is solved from its latest mark (its previous IV is kept when the mark gives none). */
int taylor_capture_run(const ht_greeks_config *cfg, const char *pcap, const char *book_path, taylor_stats *out,
                       ht_error *err);

#ifdef __cplusplus
}
#endif

#endif

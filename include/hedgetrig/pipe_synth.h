/* SPDX-License-Identifier: MIT */
/* Synthetic option books and spot paths for the pipeline's tests, co-simulation and benchmarks. */
#ifndef HEDGETRIG_PIPE_SYNTH_H
#define HEDGETRIG_PIPE_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/pipe.h"

/* A deterministic 64-bit generator (splitmix64): the same seed gives the same stream on every machine. */
typedef struct ht_rng {
    uint64_t state;
} ht_rng;

static inline uint64_t ht_rng_next(ht_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A uniform double in [lo, hi). */
static inline double ht_rng_uniform(ht_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * (double)(ht_rng_next(r) >> 11) * 0x1.0p-53;
}

/* What a synthetic book looks like. */
typedef struct ht_synth_book_params {
    unsigned underlying;     /* index written into every position */
    double s0_usd;           /* the underlying's reference spot (> 0) */
    double ref_spread;       /* each position's S_i = s0 * (1 + U(-ref_spread, ref_spread)); e.g. 0.02 */
    double max_abs_qty;      /* quantities are +-U(0.1, max_abs_qty) contracts (multiplier 1); e.g. 500 */
} ht_synth_book_params;

/* Fills positions[0..n) with European calls and puts: strikes s0*exp(U(-0.3, 0.3)), expiries 1 day to
 * 1 year, vols 30%..120%, r = 0, greeks from Black-Scholes at each position's own S_i (delta, gamma, speed,
 * vanna per unit of the underlying). */
void ht_synth_book(ht_rng *rng, const ht_synth_book_params *params, ht_pipe_position *positions, size_t n);

#endif

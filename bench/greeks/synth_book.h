/* SPDX-License-Identifier: MIT */
/* Synthetic BTC option books and their market (marks from a smile) for the benchmarks and the Taylor study. */
#ifndef HEDGETRIG_BENCH_SYNTH_BOOK_H
#define HEDGETRIG_BENCH_SYNTH_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/greeks.h"
#include "hedgetrig/positions.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The smile the marks come from: sigma(K, T) = atm + skew ln(K/F) + curvature ln(K/F)^2 / T^0.5 (capped). */
double synth_smile(double strike, double forward, double t_years, double atm_vol);

/* A book of n_options inverse BTC options (ids 1000.., names "BTC-SYN-<i>") on btc_usd around spot, expiring
 * 0.5 to 91.5 days after now_ms at 08:00-like offsets, out-of-the-money side, signed quantities of 1 to 20
 * contracts (deterministic in seed), plus BTC-PERPETUAL (id 14) sized to hedge most of the delta.
 * NULL when memory is short. */
ht_positions *synth_book(size_t n_options, double spot, uint64_t now_ms, uint64_t seed);

/* Sets the btc_usd index and every option's mark (coin, from synth_smile at F = spot, vol level atm_vol)
 * and the perpetual's mark (= spot) in g. */
void synth_market(ht_greeks *g, const ht_positions *book, double spot, double atm_vol, uint64_t now_ms);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: MIT */
/* Volatility: a realised-vol estimate of the underlying (a liquid-dsp filter on log returns), and IV surface
 * points from option marks and trades for the optimizer. */
#ifndef HEDGETRIG_VOLATILITY_H
#define HEDGETRIG_VOLATILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Realised volatility ------------------------------------------------------------------------------------
 *
 * Prices are sampled on a grid of bar_ms (the last price of each bar); the squared log return of each bar
 * (bars with no tick return 0: the price did not move) goes through a one-pole IIR low-pass built with
 * liquid-dsp (iirfilt_rrrf, H(z) = alpha / (1 - (1 - alpha) z^-1), alpha = 1 - 2^(-1/halflife_bars)), i.e.
 * an exponentially weighted mean of r^2 with the given half-life. The start-up bias of a filter that starts
 * at zero is divided out (1 - (1 - alpha)^n after n bars). sigma = sqrt(mean r^2 * bars per year).
 * Returns are scaled by 1e4 before squaring so the single-precision filter works on numbers near 1.
 */

typedef struct ht_realvol ht_realvol;

/* bar_ms: 1 ms .. 1 day; halflife_bars: 1 .. 1e6; year_days: 360..366. NULL with a message when out of range
 * or short of memory. */
ht_realvol *ht_realvol_create(uint64_t bar_ms, double halflife_bars, double year_days, ht_error *err);
void ht_realvol_destroy(ht_realvol *rv);

/* Forgets every price (the filter restarts). */
void ht_realvol_reset(ht_realvol *rv);

/* One price at ts_ms (exchange time). A price that is not finite and positive, or older than the bar in
 * progress, is ignored and counted (returns -1). Returns 0 otherwise. O(bars elapsed), at most
 * 20 half-lives of empty bars are filtered after a silence (the rest has decayed below 1e-6). */
int ht_realvol_push(ht_realvol *rv, uint64_t ts_ms, double price);

/* Annualised volatility (decimal) from the bars closed so far; NaN before the first closed bar. */
double ht_realvol_sigma(const ht_realvol *rv);

/* Closed bars so far, and prices refused. */
uint64_t ht_realvol_bars(const ht_realvol *rv);
uint64_t ht_realvol_rejected(const ht_realvol *rv);

/* ---- IV surface points -------------------------------------------------------------------------------------- */

typedef enum ht_iv_source {
    HT_IV_FROM_MARK = 0,  /* solved from the option's mark price by hostsw/greeks */
    HT_IV_FROM_TRADE = 1, /* the exchange's IV of a trade (Deribit sends it in percent) */
} ht_iv_source;

typedef struct ht_iv_point {
    uint32_t instrument_id;
    ht_iv_source source;
    uint64_t ts_ms;        /* exchange time of the mark or trade */
    uint64_t expiry_ms;    /* the option's expiry */
    double strike;         /* counter currency */
    double forward;        /* the forward used (counter currency per coin) */
    double log_moneyness;  /* ln(K / F) */
    double t_years;        /* time to expiry at ts_ms */
    double iv;             /* decimal */
} ht_iv_point;

typedef struct ht_iv_surface ht_iv_surface;

/* A surface keeping the latest point per (instrument, source), up to max_points (1 .. 1e6). */
ht_iv_surface *ht_iv_surface_create(size_t max_points, ht_error *err);
void ht_iv_surface_destroy(ht_iv_surface *s);

/* Adds or replaces the point of (instrument_id, source). Refuses (returns -1, counted) a point whose iv,
 * forward, strike or time is not finite and positive, or when the surface is full. */
int ht_iv_surface_update(ht_iv_surface *s, const ht_iv_point *p);

/* Number of points and the i-th (in order of first arrival). */
size_t ht_iv_surface_count(const ht_iv_surface *s);
const ht_iv_point *ht_iv_surface_at(const ht_iv_surface *s, size_t i);
uint64_t ht_iv_surface_rejected(const ht_iv_surface *s);

/* The at-the-money vol for an expiry t_years away: per expiry, linear interpolation in log-moneyness between
 * the two points nearest to ln(K/F) = 0 on either side (flat beyond); across expiries, linear in total
 * variance sigma^2 T (flat vol beyond the first and last). Points of the preferred source are used when an
 * expiry has any; ts_ms older than now_ms - max_age_ms are skipped (max_age_ms 0: keep all). NaN when no
 * point qualifies. */
double ht_iv_surface_atm(const ht_iv_surface *s, double t_years, ht_iv_source preferred, uint64_t now_ms,
                         uint64_t max_age_ms);

#ifdef __cplusplus
}
#endif

#endif

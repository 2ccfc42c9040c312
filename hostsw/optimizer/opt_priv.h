/* SPDX-License-Identifier: MIT */
/* The optimizer's state and the helpers its files share (optimizer.c: the decision; armed.c: what an order armed
 * ahead of its breach needs of it). Not part of the API. */
#ifndef HT_OPT_PRIV_H
#define HT_OPT_PRIV_H

#include <math.h>
#include <stdint.h>

#include "hedgetrig/optimizer.h"

/* Per-underlying configuration and state. */
typedef struct ht_opt_underlying {
    bool has_strategy;
    ht_opt_strategy strategy;
    uint32_t n_venues;
    ht_opt_venue venues[HT_OPT_MAX_VENUES];
    double first_amount[HT_OPT_MAX_VENUES]; /* smallest order: a lot, or the minimum rounded up to lots */
    double inv_lot[HT_OPT_MAX_VENUES];      /* 1 / lot_amount, 0 for any amount */
    double inv_tick[HT_OPT_MAX_VENUES];     /* 1 / tick_size */
    double tick[HT_OPT_MAX_VENUES];         /* 1 / inv_tick: the grid the limit is rounded to (as the division gives) */
    /* state */
    double last_half_width; /* the previous decision's band: the trade size of k_eff's impact term */
    bool hedged_once;
    int64_t last_hedge_ns;
    double ref_spot;        /* spot at the last hedge (MOVE) */
    double tokens;          /* rate-limit bucket */
    int64_t tokens_ns;
    bool tokens_valid;
} ht_opt_underlying;

struct ht_opt {
    ht_opt_config cfg;
    double sqrt_horizon_years;  /* sqrt(impact_horizon_s / year) */
    double sqrt_latency_years;  /* sqrt(latency_s / year) */
    double ul_sqrt_interval_years[HT_OPT_MAX_UNDERLYINGS]; /* TIME / LELAND: sqrt(interval / year) */
    ht_opt_underlying ul[HT_OPT_MAX_UNDERLYINGS];
};

/* Smaller and larger of two numbers, inlined (fmin and fmax are library calls for their NaN rules). */
static inline double min_d(double a, double b)
{
    return a < b ? a : b;
}
static inline double max_d(double a, double b)
{
    return a > b ? a : b;
}

/* floor and ceil of a non-negative number, inlined (the libm calls cost more than the rest of a step); from 2^52
 * on every double is a whole number already, and anything else (negative, NaN) goes to libm. */
static inline double floor_pos(double x)
{
    return x >= 0.0 && x < 0x1p52 ? (double)(int64_t)x : floor(x);
}
static inline double ceil_pos(double x)
{
    if (!(x >= 0.0 && x < 0x1p52))
        return ceil(x);
    double f = (double)(int64_t)x;
    return f < x ? f + 1.0 : f;
}

/* Coins a venue can take from one side of its book inside the collar bound (INFINITY for unlimited depth):
 * the levels from the best one on, up to the first that is empty or beyond the bound. A prepared quote gives the
 * same sum from its running sums: the monotone case with one comparison, otherwise by scanning prices only. */
static inline __attribute__((always_inline)) double depth_in_collar(const ht_opt_venue *v, const ht_opt_quote *q, int side, double bound)
{
    if (q->unlimited_depth)
        return INFINITY;
    unsigned n = side > 0 ? q->n_ask : q->n_bid;
    if (n > HT_OPT_BOOK_LEVELS)
        n = HT_OPT_BOOK_LEVELS;
    if (HT_LIKELY(q->prepared == 1u + (unsigned)v->contract && bound > 0.0)) {
        const double *px = side > 0 ? q->ask_px : q->bid_px;
        const double *cum = side > 0 ? q->cum_ask_coin : q->cum_bid_coin;
        unsigned m = side > 0 ? q->n_ask_valid : q->n_bid_valid;
        if (m > n)
            m = n;
        if (m == 0)
            return 0.0;
        bool monotone = side > 0 ? q->asks_rising : q->bids_falling;
        if (monotone && (side > 0 ? px[m - 1] <= bound : px[m - 1] >= bound))
            return cum[m - 1];
        unsigned l = 0;
        while (l < m && (side > 0 ? px[l] <= bound : px[l] >= bound))
            l++;
        return l > 0 ? cum[l - 1] : 0.0;
    }
    double depth = 0.0;
    unsigned l = 0;
    if (side > 0) {
        for (; l < n && q->ask_px[l] <= bound && q->ask_px[l] > 0.0 && q->ask_amount[l] > 0.0; l++)
            depth += v->contract == HT_OPT_INVERSE ? q->ask_amount[l] / q->ask_px[l] : q->ask_amount[l];
    } else {
        for (; l < n && q->bid_px[l] >= bound && q->bid_amount[l] > 0.0; l++)
            depth += v->contract == HT_OPT_INVERSE ? q->bid_amount[l] / q->bid_px[l] : q->bid_amount[l];
    }
    return depth;
}

#endif

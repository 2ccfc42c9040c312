/* SPDX-License-Identifier: MIT */
/* Private to the optimizer library: the top of a book from its levels, which ht_opt_quote_prepare (quote.c) stores
 * in the quote and a decision on an unprepared quote (optimizer.c) computes itself. */
#ifndef HT_OPTIMIZER_QUOTE_TOP_H
#define HT_OPTIMIZER_QUOTE_TOP_H

#include <math.h>
#include <stdbool.h>

#include "hedgetrig/optimizer.h"

/* The top of q's book from its best levels: which sides are there (a price > 0 and finite), the mid (the average
 * when both are there and not crossed, else the side there is, else 0), the spread and each side's distance to the
 * mid, as fractions of the mid (0 when they do not apply). */
static inline void ht_opt_top_of_levels(const ht_opt_quote *q, bool *has_bid, bool *has_ask, double *mid,
                                        double *spread_frac, double half_spread[2])
{
    double bid = q->bid_px[0], ask = q->ask_px[0];
    *has_bid = q->n_bid > 0 && bid > 0.0 && bid < INFINITY;
    *has_ask = q->n_ask > 0 && ask > 0.0 && ask < INFINITY;
    bool both = *has_bid && *has_ask && bid <= ask;
    *mid = both ? 0.5 * (bid + ask) : *has_ask ? ask : *has_bid ? bid : 0.0;
    *spread_frac = both ? (ask - bid) / (2.0 * *mid) : 0.0;
    half_spread[0] = *has_bid ? fabs(bid - *mid) / *mid : 0.0;
    half_spread[1] = *has_ask ? fabs(ask - *mid) / *mid : 0.0;
}

#endif

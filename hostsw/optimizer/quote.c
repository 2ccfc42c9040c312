/* SPDX-License-Identifier: MIT */
/* A venue's quote prepared for decisions where its book changes, not per decision: the running coin sums of each
 * side's levels and the top of book (ht_opt_quote_prepare). */
#include "hedgetrig/optimizer.h"
#include "quote_top.h"

/* Running coin sums of one side's leading levels that have a price > 0 and an amount > 0 (at most n of them);
 * sets *n_valid to their count and *monotone when their prices move away from the touch (side +1 asks, -1 bids).
 * Three plain loops (count, sum, order) rather than one with branches: this runs on every book change. */
static void prepare_side(const double *px, const double *amount, unsigned n, bool inverse, int side, double *cum,
                         uint8_t *n_valid, bool *monotone)
{
    if (n > HT_OPT_BOOK_LEVELS)
        n = HT_OPT_BOOK_LEVELS;
    unsigned m = 0;
    while (m < n && px[m] > 0.0 && amount[m] > 0.0)
        m++;
    double depth = 0.0; /* the order and operations of depth_in_collar's walk */
    if (inverse)
        for (unsigned l = 0; l < m; l++)
            cum[l] = depth += amount[l] / px[l];
    else
        for (unsigned l = 0; l < m; l++)
            cum[l] = depth += amount[l];
    bool mono = true;
    if (side > 0)
        for (unsigned l = 1; l < m; l++)
            mono &= px[l] >= px[l - 1];
    else
        for (unsigned l = 1; l < m; l++)
            mono &= px[l] <= px[l - 1];
    *n_valid = (uint8_t)m;
    *monotone = mono;
}

void ht_opt_quote_prepare(ht_opt_quote *q, ht_opt_contract contract)
{
    bool inverse = contract == HT_OPT_INVERSE;
    prepare_side(q->bid_px, q->bid_amount, q->n_bid, inverse, -1, q->cum_bid_coin, &q->n_bid_valid, &q->bids_falling);
    prepare_side(q->ask_px, q->ask_amount, q->n_ask, inverse, 1, q->cum_ask_coin, &q->n_ask_valid, &q->asks_rising);
    bool has_bid, has_ask;
    ht_opt_top_of_levels(q, &has_bid, &has_ask, &q->top_mid_px, &q->top_spread_frac, q->top_half_spread_frac);
    q->top_sides = (uint8_t)(has_bid | (has_ask << 1));
    q->prepared = (uint8_t)(1 + contract);
}

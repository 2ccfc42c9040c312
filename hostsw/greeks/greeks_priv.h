/* SPDX-License-Identifier: MIT */
/* What the greek table's two parts share (greeks.c: the table's life cycle, market inputs, aggregates and
 * refresh; greeks_price.c: forwards, IVs and greeks of one position, the fallback smile, hedges): the engine
 * object, its slots, the small inline helpers both call and the pricing steps. Internal to hostsw/greeks. */
#ifndef HEDGETRIG_GREEKS_PRIV_H
#define HEDGETRIG_GREEKS_PRIV_H

#include "hedgetrig/greeks.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define MS_PER_DAY 86400000.0
#define MAX_INDICES 64
#define MAX_EXTRA_FORWARD_INSTRUMENTS 1024
#define MAX_SMILE_INSTRUMENTS 4096

/* A price index the book uses. */
typedef struct index_slot {
    char name[17];
    double price;
    uint64_t ts_ms;
    bool trusted;
    bool have;
} index_slot;

/* A future, perpetual or spot: a book hedge, a forward source, or both. */
typedef struct hedge_slot {
    ht_instrument_spec spec;
    unsigned underlying;
    double mark, ticker_index;
    uint64_t ts_ms;
    bool trusted, have;
} hedge_slot;

/* An option outside the book whose IV is a point of its expiry's smile (for fallback vols). */
typedef struct smile_slot {
    ht_instrument_spec spec;
    unsigned underlying;
    unsigned own_index;  /* slot in g->indices */
    double mark, ticker_index;
    uint64_t ts_ms;
    bool trusted, have;
    uint64_t solved_at;  /* g->stats.recomputes when x and iv were solved (0: never) */
    double x, iv;        /* ln(K/F) and IV at that recompute (NaN when it had none) */
} smile_slot;

/* Per book position: its result and what the market last said about it. */
typedef struct pos_state {
    ht_greeks_result res;
    unsigned own_index;  /* slot in g->indices */
    int hedge;           /* slot in g->hedges for futures / perpetuals / spot, else -1 */
    double mark, ticker_index;
    uint64_t mark_ts;
    bool trusted, have_mark;
    double sigma_last;   /* latest IV for the vol move */
    double vol_weight;   /* |qty_x_mult vega| at the recompute (0 when not in the table) */
    double delta_last;   /* per-unit delta at S0, the recompute's time and sigma_last */
    double good_iv;      /* the IV its own trusted mark last gave at a recompute (NaN: never) */
    uint64_t good_ms;    /* that recompute's time */
} pos_state;

/* Instrument id -> position and hedge slot (open addressing; id_used marks taken slots). */
typedef struct id_entry {
    uint32_t id;
    int32_t pos;
    int32_t hedge;
    int32_t smile;
    bool used;
} id_entry;

struct ht_greeks {
    ht_greeks_config cfg;
    size_t n_pos;
    pos_state *pos;
    unsigned n_under;
    ht_greeks_underlying under[HT_GREEKS_MAX_UNDERLYINGS];
    unsigned ref_index[HT_GREEKS_MAX_UNDERLYINGS];
    double s0[HT_GREEKS_MAX_UNDERLYINGS];
    double vol_dev_sum[HT_GREEKS_MAX_UNDERLYINGS];
    double vol_weight_sum[HT_GREEKS_MAX_UNDERLYINGS];
    double iv_delta_sum[HT_GREEKS_MAX_UNDERLYINGS]; /* exact delta change at S0 from the IV moves (coin) */
    bool recomputed;
    bool book_changed;
    unsigned n_indices;
    index_slot indices[MAX_INDICES];
    hedge_slot *hedges;
    size_t n_hedges, cap_hedges;
    smile_slot *smile;
    size_t n_smile, cap_smile;
    id_entry *ids;
    size_t id_mask;
    ht_greeks_row *rows;
    size_t n_rows;
    ht_greeks_stats stats;
};

/* Years from now_ms to expiry_ms under the configured day count (negative once expired). */
static inline double years_to(const ht_greeks *g, uint64_t expiry_ms, uint64_t now_ms)
{
    return ((double)expiry_ms - (double)now_ms) / (g->cfg.year_days * MS_PER_DAY);
}

/* True when a quote stamped ts_ms is too old at now_ms for the configured limit. */
static inline bool too_old(const ht_greeks *g, uint64_t ts_ms, uint64_t now_ms)
{
    return g->cfg.max_quote_age_ms && now_ms > ts_ms && now_ms - ts_ms > g->cfg.max_quote_age_ms;
}

/* The USD price of an option per unit of underlying from its mark and forward. */
static inline double option_price_usd(const ht_instrument_spec *spec, double mark, double forward)
{
    return spec->inverse ? mark * forward : mark;
}

/* A usable index price at now_ms, or NaN. */
static inline double usable_index(const ht_greeks *g, const index_slot *s, uint64_t now_ms)
{
    if (!s->have || !s->trusted || !isfinite(s->price) || !(s->price > 0.0) || too_old(g, s->ts_ms, now_ms))
        return NAN;
    return s->price;
}

/* The exact delta of one in-table option at spot (F = k spot), volatility sigma and now_ms, per unit, in the
 * table's convention; NaN when it cannot be priced there (expired by then). */
double greeks_exact_delta(const ht_greeks *g, const ht_greeks_result *r, double spot, double sigma, uint64_t now_ms);

/* Sets every numeric field of a result to NaN (the position is out of the table). */
void greeks_clear_result(ht_greeks_result *r);

/* Prices one option position at now_ms: flags, forward, IV and greeks into ps->res. A stale quote is priced at
 * the last good IV; a mark that gives no IV is left for price_fallbacks. */
void greeks_price_option(ht_greeks *g, pos_state *ps, double s_ref, uint64_t now_ms);

/* Prices the options whose mark gives no IV at a fallback vol: the smile at their strike, else their last
 * good IV. Runs after every position was priced, so the smile uses this recompute's good IVs only. */
void greeks_price_fallbacks(ht_greeks *g, uint64_t now_ms);

/* Values one hedge position (future, perpetual, spot) in coin into ps->res. */
void greeks_price_hedge(ht_greeks *g, pos_state *ps, double s_ref, uint64_t now_ms);

#endif

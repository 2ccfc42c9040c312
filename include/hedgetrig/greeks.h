/* SPDX-License-Identifier: MIT */
/* The slow path: implied vols from marks, per-position greeks with Deribit's conventions, the book's
 * aggregates, the table the pipeline folds, and when to re-centre it. */
#ifndef HEDGETRIG_GREEKS_H
#define HEDGETRIG_GREEKS_H

/*
 * Life cycle (liquid-dsp style):
 *
 *     ht_greeks_config cfg;  ht_greeks_config_default(&cfg);
 *     ht_greeks *g = ht_greeks_create(&cfg, book, &err);          // all memory taken here
 *     ht_greeks_add_forward_instrument(g, &future_spec);          // futures / perpetuals not in the book
 *     ... market data in (any order, any time):
 *     ht_greeks_set_index(g, "btc_usd", 25441.7, ts_ms, true);
 *     ht_greeks_set_mark(g, instrument_id, mark, ticker_index, ts_ms, true);   // options, futures, perps
 *     ht_greeks_recompute(g, now_ms);                             // IVs, greeks, aggregates, thresholds
 *     ht_greeks_load_pipe(g, pipe, &err);                          // table + S0 + inventory into the pipeline
 *     ... on every index tick:  if (ht_greeks_refresh_due(g, u, spot, now_ms)) recompute and reload
 *     ht_greeks_destroy(g);
 *
 * (hedgetrig/greeks_feed.h wires these setters to the Deribit feed.)
 *
 * Conventions (docs/greeks.md has the derivations):
 *   - Model: Black-76 on the option's forward F, discounted at r (Deribit prices with r = 0, the default).
 *     T = (expiry - now) / (year_days * 86400000 ms): ACT/365 by default.
 *   - Underlying: positions are grouped by base coin ("BTC"); each group ticks on its reference index
 *     "<base>_usd" (e.g. btc_usd). A position's forward is F = k * S_ref with k held fixed between
 *     recomputes, so a greek with respect to S_ref is the Black-76 one times k per order of S.
 *   - Inverse options are quoted in coin: the USD price is mark * F (Deribit divides the Black-76 USD price
 *     by the option's forward; checked on the capture's trades and their IVs). Linear options are quoted in
 *     USDC, taken at par with USD.
 *   - Delta convention HT_DELTA_DERIBIT (default): an inverse option's delta is Deribit's "net transaction
 *     delta" d_coin = Delta_F - mark (Black-76 forward delta minus the option's price in coin: the BTC value's
 *     sensitivity, S d(value_coin)/dS); gamma, speed and vanna are the exact derivatives of that d_coin with
 *     respect to S_ref and sigma, so the fast path's Taylor expansion stays exact to its order. Linear
 *     options use the USD delta k Delta_F. HT_DELTA_USD uses k Delta_F (d value_usd / d S_ref) for all.
 *   - Units per unit of underlying (1 BTC of a BTC option): delta in coin, gamma coin per USD, speed coin
 *     per USD^2, vanna coin per unit of sigma (sigma = 1.0 is 100 vol points). vega and volga in USD per unit
 *     of sigma (and sigma^2); theta in USD per calendar day. Position values are these times qty_x_mult =
 *     signed contracts x contract size in coin.
 *   - Hedge inventory H: futures, perpetuals and spot in the book, in coin: inverse ones qty * size_usd / F
 *     (F their mark), linear ones qty * size_coin. With HT_DELTA_DERIBIT the coin delta of inverse hedges
 *     moves as S0 / S; its gamma and speed go into the table as one extra row per underlying (delta 0) so
 *     the fast path follows it to second order.
 *
 * Bad input never reaches the table, and no position leaves it silently (docs/greeks.md, "Fallbacks"):
 *   - an option whose quote is stale (HT_GF_STALE) keeps its last good IV, so its greeks are the last good
 *     ones at the same spot and time (flag HT_GF_FALLBACK_LAST_IV);
 *   - an option whose mark cannot be inverted (HT_GF_BELOW_INTRINSIC, HT_GF_ABOVE_MAX, HT_GF_NO_CONVERGENCE)
 *     is priced at its expiry's smile at its strike, interpolated linearly in ln(K/F) between the nearest
 *     good IVs on either side (book options and the options registered with ht_greeks_add_smile_instrument;
 *     flat beyond the outermost one) (HT_GF_FALLBACK_SMILE), else at its last good IV
 *     (HT_GF_FALLBACK_LAST_IV);
 *   - anything else (and a fallback that finds no vol) is flagged, left out of the table and the aggregates,
 *     counted, and reported by ht_greeks_result_at: its greeks are not usable.
 * The cause flag stays set next to the fallback flag. NaN and infinity never reach the pipeline.
 *
 * Threads: one thread uses a ht_greeks at a time. Nothing here is on the tick path except
 * ht_greeks_refresh_due, which is O(1) and allocates nothing.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/black76.h"
#include "hedgetrig/common.h"
#include "hedgetrig/pipe.h"
#include "hedgetrig/positions.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which delta the table carries (see above). */
typedef enum ht_delta_convention {
    HT_DELTA_DERIBIT = 0, /* inverse options: Black-76 delta minus price in coin; linear: Black-76 delta */
    HT_DELTA_USD = 1,     /* every position: d(USD value) / d S */
} ht_delta_convention;

/* Where an option's forward comes from. */
typedef enum ht_forward_source {
    HT_FORWARD_AUTO = 0,  /* basis of the future with the same expiry, else of a perpetual, else the index */
    HT_FORWARD_INDEX = 1, /* the index carried at r: F = S e^{rT} */
} ht_forward_source;

/* What a given position's forward came from (in results). */
typedef enum ht_forward_origin {
    HT_FWD_FROM_NONE = 0,
    HT_FWD_FROM_FUTURE = 1,    /* S * (future mark / future's index), same expiry */
    HT_FWD_FROM_PERPETUAL = 2, /* S * (perpetual mark / its index) */
    HT_FWD_FROM_INDEX = 3,     /* S * e^{rT} */
} ht_forward_origin;

/* Position flags. The cause flags (all but the informational HT_GF_HEDGE and HT_GF_FALLBACK_*) exclude the
 * position from the table unless a fallback flag says it was priced anyway. */
enum {
    HT_GF_NO_INDEX = 1u << 0,        /* no trustworthy price for its index or its underlying's reference index */
    HT_GF_NO_MARK = 1u << 1,         /* no mark price received */
    HT_GF_BAD_PRICE = 1u << 2,       /* mark NaN, infinite, zero or negative */
    HT_GF_EXPIRED = 1u << 3,         /* at or past expiry */
    HT_GF_BELOW_INTRINSIC = 1u << 4, /* mark at or below the forward intrinsic value: no implied vol */
    HT_GF_ABOVE_MAX = 1u << 5,       /* mark at or above its no-arbitrage bound: no implied vol */
    HT_GF_NO_CONVERGENCE = 1u << 6,  /* the implied-vol solver did not converge */
    HT_GF_STALE = 1u << 7,           /* the feed does not trust the price now (gap, not open, too old) */
    HT_GF_HEDGE = 1u << 8,           /* informational: a future, perpetual or spot counted in H */
    HT_GF_FALLBACK_SMILE = 1u << 9,  /* in the table at a vol interpolated on its expiry's smile */
    HT_GF_FALLBACK_LAST_IV = 1u << 10, /* in the table at its last good IV (stale quote, or no smile) */
};
#define HT_GF_COUNT 11
#define HT_GF_FALLBACK (HT_GF_FALLBACK_SMILE | HT_GF_FALLBACK_LAST_IV)
#define HT_GF_EXCLUDING (~(uint32_t)(HT_GF_HEDGE | HT_GF_FALLBACK))

/* True when a result's greeks are usable: an option in the table (its own IV or a fallback), or a hedge
 * without a cause flag. */
#define HT_GREEKS_USABLE(r) ((r)->in_table || (((r)->flags & HT_GF_HEDGE) && !((r)->flags & HT_GF_EXCLUDING)))

/* "no_index", "no_mark", "bad_price", "expired", "below_intrinsic", "above_max", "no_convergence", "stale",
 * "hedge", "fallback_smile", "fallback_last_iv" for one flag bit (NULL for anything else). */
const char *ht_greeks_flag_name(uint32_t flag);

/* Writes the names of the set flags joined by '|' into buf ("" when none). Returns buf. */
char *ht_greeks_flags_format(uint32_t flags, char *buf, size_t size);

/* When to re-centre the table (docs/greeks.md measures the Taylor error these allow). */
typedef struct ht_refresh_config {
    double max_move_rel;      /* re-centre when |S - S0| / S0 exceeds this; 0 < x <= 0.5 */
    double max_vol_move;      /* re-centre when |d sigma| (vega-weighted IV move) exceeds this; > 0 */
    uint64_t max_interval_ms; /* re-centre at least this often; > 0 */
    double error_budget;      /* Taylor error allowed, as a fraction of the book's gross delta; > 0 */
    bool adaptive;            /* at each recompute, tighten the three thresholds until the book's own Taylor
                                 error (exact reprice against the fast path's formula) stays within the budget */
    double min_move_rel;      /* adaptive tightening stops here (cost guard); > 0 */
    double min_vol_move;      /* likewise, > 0 */
    uint64_t min_interval_ms; /* likewise, > 0 */
} ht_refresh_config;

typedef struct ht_greeks_config {
    double rate;                   /* r, continuously compounded, |r| < 1 (default 0) */
    double year_days;              /* days per year for T, 360..366 (default 365: ACT/365) */
    ht_delta_convention convention; /* default HT_DELTA_DERIBIT */
    ht_forward_source forward;     /* default HT_FORWARD_AUTO */
    uint64_t max_quote_age_ms;     /* a mark or index older than this at recompute is stale (0: no limit, default) */
    ht_refresh_config refresh;
} ht_greeks_config;

/* Fills cfg with the defaults above and the refresh defaults of docs/greeks.md. */
void ht_greeks_config_default(ht_greeks_config *cfg);

/* Checks every field's range; returns 0 or -1 with a message naming the field. */
int ht_greeks_config_check(const ht_greeks_config *cfg, ht_error *err);

typedef struct ht_greeks ht_greeks;

/* Creates the slow path for a book (the book must outlive it; its positions are read at create). Up to
 * HT_GREEKS_MAX_UNDERLYINGS base coins. Returns NULL with a message on a bad config or short memory. */
#define HT_GREEKS_MAX_UNDERLYINGS 16
ht_greeks *ht_greeks_create(const ht_greeks_config *cfg, const ht_positions *book, ht_error *err);
void ht_greeks_destroy(ht_greeks *g);

/* Registers a future or perpetual that is not in the book so its mark can give forwards (its base coin must
 * be one of the book's). Returns 0, 1 when it is ignored (other base, not a future/perpetual, already
 * known), or -1 when the instrument table is full. */
int ht_greeks_add_forward_instrument(ht_greeks *g, const ht_instrument_spec *spec);

/* Registers an option that is not in the book as a point of its expiry's smile for fallback vols (its base
 * coin must be one of the book's; its marks then go through ht_greeks_set_mark). Returns 0, 1 when it is
 * ignored (other base, not an option, already known), or -1 when the smile table is full. */
int ht_greeks_add_smile_instrument(ht_greeks *g, const ht_instrument_spec *spec);

/* The exchange name of an instrument the engine knows (book, forward or smile), or NULL. */
const char *ht_greeks_instrument_name(const ht_greeks *g, uint32_t instrument_id);

/* ---- Market data (slow path; O(1) except as noted) -------------------------------------------------------- */

/* The latest price of an index ("btc_usd"), in its counter currency per coin. trusted: the feed vouches for
 * it now. Names not used by the book are ignored (returns 1). */
int ht_greeks_set_index(ht_greeks *g, const char *index_name, double price, uint64_t ts_ms, bool trusted);

/* The latest mark of an instrument (quote currency: coin for inverse options, USD for inverse futures,
 * USDC for linear instruments) and the index price carried by the same ticker. For an option held in the
 * book this also re-solves its IV and moves the underlying's vega-weighted vol move d sigma (one Black-76
 * inversion). Instruments not known are ignored (returns 1). */
int ht_greeks_set_mark(ht_greeks *g, uint32_t instrument_id, double mark, double ticker_index, uint64_t ts_ms,
                       bool trusted);

/* The forward the engine uses for an option of underlying u expiring at expiry_ms, given its own index price
 * and time to expiry (see ht_forward_source); *origin says where it came from. */
double ht_greeks_forward(const ht_greeks *g, unsigned u, uint64_t expiry_ms, double index_price, double t_years,
                         uint64_t now_ms, ht_forward_origin *origin);

/* The configuration in force. */
const ht_greeks_config *ht_greeks_config_get(const ht_greeks *g);

/* ---- The table ------------------------------------------------------------------------------------------- */

/* Recomputes every position at now_ms (UTC ms) with the market held: forwards, IVs, greeks, flags, the
 * aggregates per underlying, S0 := the reference index, and (adaptive refresh) the thresholds. Returns the
 * number of positions in the table. */
size_t ht_greeks_recompute(ht_greeks *g, uint64_t now_ms);

/* One position after ht_greeks_recompute. Greeks per unit of underlying in the table's convention and with
 * respect to the underlying's reference index (see the header comment for units); NaN when excluded. */
typedef struct ht_greeks_result {
    const ht_position *pos;       /* the book's line */
    unsigned underlying;          /* 0 .. ht_greeks_underlying_count-1 */
    uint32_t flags;               /* HT_GF_* */
    bool in_table;                /* an option whose greeks are in the table */
    double qty_x_mult;            /* signed contracts x contract size in coin (options, linear hedges) */
    double t_years;               /* time to expiry (options, futures) */
    double index_price;           /* the position's own index (USD or USDC per coin) */
    double forward;               /* F (options; counter currency per coin) */
    ht_forward_origin forward_from;
    double mark;                  /* quote currency, as the feed gave it */
    double price_usd;             /* options: USD per unit of underlying (mark * F for inverse) */
    double iv;                    /* implied volatility (decimal) */
    double delta, gamma, speed, vanna; /* the table's convention (coin; /USD; /USD^2; /unit sigma) */
    double delta_bs;              /* d(USD value)/d S_ref: k Black-76 delta (either convention) */
    double vega, volga;           /* USD per unit sigma, per unit sigma^2 */
    double theta_per_day;         /* USD per calendar day, F held */
    double hedge_coin;            /* hedges: contribution to H in coin (qty * size / F or qty * size) */
    double k_ratio;               /* F / S_ref held between recomputes */
    /* Fallback (HT_GF_FALLBACK_*): where the vol came from. Smile: the two neighbours interpolated between
     * (the same one twice when flat beyond the outermost), their ln(K/F) and IVs; last IV: when it was good. */
    uint32_t fallback_ids[2];     /* instrument ids of the smile neighbours (0 when none) */
    double fallback_x[2], fallback_iv[2];
    uint64_t last_good_ms;        /* exchange ms of the recompute that last solved this option's IV (0: never) */
} ht_greeks_result;

size_t ht_greeks_result_count(const ht_greeks *g);
const ht_greeks_result *ht_greeks_result_at(const ht_greeks *g, size_t i);

/* One underlying (base coin) after ht_greeks_recompute. A, B, C, V are the table's sums (options and the
 * inverse-hedge row) at S0; H the hedge inventory; net delta at S0 is A + H. */
typedef struct ht_greeks_underlying {
    char base[9];                 /* "BTC" */
    char ref_index[17];           /* "btc_usd" */
    double s0;                    /* reference index at the recompute (NaN when it had none) */
    double a, b, c, v;            /* delta (coin), gamma (coin/USD), speed (coin/USD^2), vanna (coin/unit sigma) */
    double h;                     /* hedge inventory (coin) */
    double h_inverse;             /* the part of h from inverse futures and perpetuals */
    double gross_delta;           /* sum of |position deltas| over table positions and hedges (coin) */
    double vega, volga, theta_per_day; /* book totals in USD */
    double ref_vol;               /* vega-weighted mean IV of the table positions */
    double vol_move;              /* current vega-weighted IV move since the recompute (d sigma) */
    double vol_error;             /* the part of the IV moves since the recompute that V d sigma misses: the
                                     exact delta change at S0 from each option's own IV move, minus V d sigma
                                     (coin); it grows when IVs move unevenly (skew, noisy marks) */
    uint64_t recompute_ms;        /* now_ms of the recompute */
    size_t options, hedges, in_table, excluded;
    size_t fallback;              /* of the options in the table, how many at a fallback vol */
    /* Thresholds in force (the configured maxima, or tighter when adaptive), and the Taylor error the
     * adaptive search measured at them (coin; NaN when not measured). */
    double move_rel, vol_move_max;
    uint64_t interval_ms;
    double err_move, err_vol, err_time;
    bool budget_met;              /* false when a threshold hit its minimum with the error still over budget */
} ht_greeks_underlying;

unsigned ht_greeks_underlying_count(const ht_greeks *g);
const ht_greeks_underlying *ht_greeks_underlying_at(const ht_greeks *g, unsigned u);
/* The underlying of a base coin ("BTC"), or -1. */
int ht_greeks_underlying_find(const ht_greeks *g, const char *base);

#define HT_REFRESH_REASONS 6

/* Counters since create. */
typedef struct ht_greeks_stats {
    uint64_t recomputes;
    uint64_t excluded_by_flag[HT_GF_COUNT]; /* per recompute and position: how often each flag excluded one */
    uint64_t marks, indices;                /* setter calls applied */
    uint64_t iv_updates, iv_update_failures; /* set_mark re-solves for the vol move */
    uint64_t refreshes_by_reason[HT_REFRESH_REASONS]; /* ht_greeks_refresh_due answers by HT_REFRESH_* bit */
} ht_greeks_stats;
const ht_greeks_stats *ht_greeks_stats_get(const ht_greeks *g);

/* ---- The pipeline's table ----------------------------------------------------------------------------------- */

/* One table row, field for field the pipeline's ht_pipe_position (hedgetrig/pipe.h). */
typedef struct ht_greeks_row {
    unsigned underlying;
    double qty_x_mult;
    double delta, gamma, speed, vanna;
    double ref_spot_usd;
} ht_greeks_row;

/* The rows of the table after ht_greeks_recompute: every in-table option, then one inverse-hedge row per
 * underlying whose h_inverse is non-zero (HT_DELTA_DERIBIT only). Every value is finite. *count gets the
 * row count; the pointer stays valid until the next recompute. */
const ht_greeks_row *ht_greeks_rows(const ht_greeks *g, size_t *count);

/* The reference spots S0 per underlying (HT_GREEKS_MAX_UNDERLYINGS entries, 0 where unused or unknown). */
const double *ht_greeks_s0(const ht_greeks *g);

/* Loads the table into the pipeline (underlying u of the table is the pipeline's underlying u): writes the
 * rows, commits them with S0, sets each underlying's hedge inventory H (which re-arms it) and its vol move
 * to 0. The band is the optimizer's and is left alone. Returns 0, or -1 with the pipeline's message. */
int ht_greeks_load_pipe(const ht_greeks *g, ht_pipe *pipe, ht_error *err);

/* ---- Refresh and Taylor error ------------------------------------------------------------------------------- */

enum {
    HT_REFRESH_MOVE = 1u << 0,  /* |S - S0| / S0 over the threshold */
    HT_REFRESH_VOL = 1u << 1,   /* |d sigma| over the threshold */
    HT_REFRESH_TIMER = 1u << 2, /* the interval has passed */
    HT_REFRESH_BOOK = 1u << 3,  /* the book changed (ht_greeks_book_changed) */
    HT_REFRESH_NEVER = 1u << 4, /* never recomputed, or S0 unknown */
    HT_REFRESH_SMILE = 1u << 5, /* the IVs moved unevenly: |vol_error| over its share of the error budget */
};

/* Which re-centre triggers fire for underlying u at spot (its reference index) and now_ms (0: none). O(1),
 * no allocation: safe on the tick path. */
unsigned ht_greeks_refresh_due(ht_greeks *g, unsigned u, double spot, uint64_t now_ms);

/* Marks the book as changed: the next ht_greeks_refresh_due answers HT_REFRESH_BOOK until a recompute. */
void ht_greeks_book_changed(ht_greeks *g);

/* The fast path's net delta in double: A + B dS + C dS^2/2 + V d sigma + H at S0 (the formula the pipeline
 * evaluates in fixed point). */
double ht_greeks_taylor_net_delta(const ht_greeks *g, unsigned u, double spot, double dsigma);

/* The exact net delta: every in-table option repriced at spot (F = k S), its IV + dsigma and now_ms, in the
 * table's convention, plus H with inverse hedges at the new F. One Black-76 evaluation per position. */
double ht_greeks_exact_net_delta(const ht_greeks *g, unsigned u, double spot, double dsigma, uint64_t now_ms);

/* The exact per-unit delta (table convention) of result i at spot (F = k spot), volatility sigma and now_ms;
 * NaN when result i is not in the table or cannot be priced there. For measuring the Taylor error against
 * IVs that did not move in parallel. */
double ht_greeks_position_delta(const ht_greeks *g, size_t i, double spot, double sigma, uint64_t now_ms);

/* The exact hedge inventory at spot: linear hedges as they are, inverse ones scaled by S0 / spot in the
 * Deribit convention (their coin amount follows 1/F). */
double ht_greeks_hedge_at(const ht_greeks *g, unsigned u, double spot);

#ifdef __cplusplus
}
#endif

#endif

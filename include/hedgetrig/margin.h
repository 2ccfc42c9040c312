/* SPDX-License-Identifier: MIT */
/* Deribit's margin: standard margin per position and portfolio margin per settlement currency, on a book priced
 * at a moment (marks, forwards, IVs), and the same under a move of the spot and the vol. Library ht_margin. */
#ifndef HEDGETRIG_MARGIN_H
#define HEDGETRIG_MARGIN_H

/*
 * Units: every figure is in the currency the position settles in, and says so in its name: `_coin` for
 * inverse instruments (BTC options priced in BTC, BTC-PERPETUAL, BTC-30JUN23), `_usdc` for linear ones
 * (BTC_USDC options, BTC_USDC-PERPETUAL). Deribit's segregated margin keeps the two apart; where one figure is
 * wanted (the margin ratio, the distance to liquidation) the USDC side converts to coin at the index, as a
 * cross-collateral account with a 0 % USDC haircut does (docs/margin.md).
 *
 * Standard margin (docs/margin.md cites each page), per position, |q| = |contracts| x contract size in coin,
 * S the option's underlying price (its forward), OTM the out-of-the-money amount in USD:
 *   inverse short call  IM = max(0.15 - OTM/S, 0.1) + mark            MM = 0.075 + mark            (coin per coin)
 *   inverse short put   IM = max(max(0.15 - OTM/S, 0.1) + mark, MM)    MM = max(0.075, 0.075 mark) + mark
 *   linear options      the same rules in USDC: 0.15 S - OTM, 0.1 S, 0.075 S in place of 0.15 - OTM/S, ...
 *   long options        none (the premium is paid when bought)
 *   futures, perpetuals IM = (im_base + slope x |position in coin|) x |position in coin|, MM likewise
 *                       (inverse: coin, the position in coin at the mark; linear: USDC at the index)
 *   spot                none (not a margined position)
 *
 * Portfolio margin (docs/margin.md): per settlement currency, the book revalued with Black-76 at the forward
 * moved by each of the grid's 2 n + 1 price moves (+-price_range in n steps a side) and, at each, the vol moved
 * up, not at all and down; the worst loss, plus the documented contingencies (net short options per strike,
 * offsetting futures). The extended table's moves (vol up) are computed and reported; Deribit does not publish
 * the fraction and dampener it applies to them, so they enter the margin only through extended_fraction
 * (default 0). Initial margin = worst loss + contingencies, maintenance = mm_factor x initial.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/positions.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which of Deribit's margin models. */
typedef enum ht_margin_model {
    HT_MARGIN_STANDARD = 0,
    HT_MARGIN_PORTFOLIO = 1,
} ht_margin_model;

#define HT_MARGIN_PM_MAX_STEPS 16   /* price steps a side of the portfolio grid */
#define HT_MARGIN_PM_MAX_EXTENDED 16 /* moves of the extended table */
#define HT_MARGIN_PM_VOLS 3          /* vol up, same, down */

/* The parameters of both models; ht_margin_params_default gives Deribit's documented values. */
typedef struct ht_margin_params {
    /* Standard margin, options (fractions of the underlying) */
    double opt_im_rate;          /* 0.15 */
    double opt_im_floor_rate;    /* 0.10 */
    double opt_mm_rate;          /* 0.075 */
    /* Standard margin, futures and perpetuals: rate = base + slope x |position in coin| */
    double fut_inverse_im_base;  /* 0.02 */
    double fut_inverse_mm_base;  /* 0.015 */
    double fut_linear_im_base;   /* 0.02 */
    double fut_linear_mm_base;   /* 0.01 */
    double fut_slope_per_coin;   /* 0.00005 (0.005 % per coin; 0.5 % per 100 BTC) */
    /* Portfolio margin */
    double pm_price_range;       /* 0.16: the largest move of the grid, a fraction of the forward */
    unsigned pm_price_steps;     /* 4: moves a side (9 buckets with 0) */
    double pm_vol_range_up;      /* 0.5 */
    double pm_vol_range_down;    /* 0.25 */
    double pm_min_vol_shock_up;  /* 0.5: the up scenario's vol is at least this */
    double pm_short_vega_power;  /* 0.3: below 30 days to expiry */
    double pm_long_vega_power;   /* 0.13: 30 days and beyond */
    double pm_mm_factor;         /* 0.8: maintenance = this x initial */
    double pm_short_option_contingency_coin; /* 0.01 coin per net short option per strike */
    double pm_futures_offset_contingency;    /* 0.01 of the offsetting futures' value */
    size_t pm_extended_count;    /* 8 */
    double pm_extended_moves[HT_MARGIN_PM_MAX_EXTENDED]; /* -0.66 -0.33 0.5 1 2 3 4 5 */
    double pm_extended_fraction; /* 0: not published by Deribit (docs/margin.md) */
    double min_vol;              /* 1e-4: floor of a shocked vol (Black-76 needs sigma > 0) */
} ht_margin_params;

/* Fills p with the documented values above. */
void ht_margin_params_default(ht_margin_params *p);

/* Checks every field (finite, in range). 0, or -1 with err naming the field. */
int ht_margin_params_check(const ht_margin_params *p, ht_error *err);

/* One position at a moment: the book's line and the market it is margined on. */
typedef struct ht_margin_position {
    const ht_instrument_spec *spec;
    double qty_contracts;  /* signed, positive long */
    double mark;           /* quote currency: coin per coin (inverse options), USDC per coin (linear options),
                              USD per coin (futures and perpetuals, inverse and linear) */
    double underlying_usd; /* options: the option's underlying price, its forward (USD(C) per coin) */
    double index_usd;      /* the index (USD per coin): linear futures' margin converts at it */
    double iv;             /* options: implied vol (decimal), for the portfolio model */
    double t_years;        /* options: time to expiry */
} ht_margin_position;

/* A move of the market: the forward, index and futures' marks times (1 + spot_move_rel), every option's vol
 * plus vol_shift (absolute, 0.1 = 10 vol points). {0, 0} is the market as given: the marks as they are. */
typedef struct ht_margin_shift {
    double spot_move_rel;
    double vol_shift;
} ht_margin_shift;

/* Initial and maintenance margin of one position or a total, in its settlement currency. */
typedef struct ht_margin_figures {
    double initial;
    double maintenance;
    bool coin;  /* true: coin (inverse); false: USDC (linear) */
} ht_margin_figures;

/* True when a position settles in coin (inverse options, inverse futures and perpetuals). */
bool ht_margin_settles_in_coin(const ht_instrument_spec *spec);

/* Standard margin of one position at the market as given. 0, or -1 with err naming the instrument and the
 * input (a mark or price that is not finite and positive, a kind that is not margined). */
int ht_margin_standard_position(const ht_margin_params *p, const ht_margin_position *pos, ht_margin_figures *out,
                                ht_error *err);

/* The worst loss of one settlement currency's portfolio and what went into it. */
typedef struct ht_margin_pm_detail {
    size_t positions;            /* how many positions settle in this currency */
    double worst_loss;           /* >= 0: the largest loss over the standard grid */
    double worst_move;           /* the grid's move of the worst loss */
    int worst_vol;               /* its vol scenario: +1 up, 0 same, -1 down */
    double extended_worst_loss;  /* >= 0: the largest loss of the extended table (vol up) */
    double extended_worst_move;
    double short_option_contingency;
    double futures_offset_contingency;
    double initial, maintenance; /* the margin */
    size_t grid_count;           /* (2 n + 1) x 3 */
    double grid_pnl[(2 * HT_MARGIN_PM_MAX_STEPS + 1) * HT_MARGIN_PM_VOLS]; /* move-major: (move k, up/same/down) */
    double extended_pnl[HT_MARGIN_PM_MAX_EXTENDED];
} ht_margin_pm_detail;

/* The whole account under one model and one move. */
typedef struct ht_margin_account {
    ht_margin_model model;
    double initial_coin, maintenance_coin;  /* inverse positions */
    double initial_usdc, maintenance_usdc;  /* linear positions */
    double index_usd;                       /* the index the USDC side converts at (moved with the shift) */
    double initial_total_coin, maintenance_total_coin; /* coin + USDC / index */
    double pnl_coin, pnl_usdc;              /* the shift's profit and loss against the market as given */
    double pnl_total_coin;                  /* pnl_coin + pnl_usdc / index */
    ht_margin_pm_detail pm_coin, pm_usdc;   /* portfolio model only */
} ht_margin_account;

/* The account's margin under model at the market moved by shift (NULL: as given). per_position (NULL, or n
 * entries) gets each position's own margin: its standard margin, or under the portfolio model the margin of
 * the position alone over the same grid. Positions must share one underlying (one index). 0, or -1 with err
 * naming the position that cannot be margined. No allocation. */
int ht_margin_account_compute(ht_margin_model model, const ht_margin_params *p, const ht_margin_position *pos,
                              size_t n, const ht_margin_shift *shift, ht_margin_figures *per_position,
                              ht_margin_account *out, ht_error *err);

/* The value of one position under a shift, in its settlement currency, as the portfolio model revalues it:
 * options by Black-76 at the moved forward and vol (inverse: divided by the forward), futures by their moved
 * mark (inverse: -contracts x size / mark, the coin value of a USD-sized contract). For tests and tools. */
double ht_margin_position_value(const ht_margin_position *pos, double spot_move_rel, double vol_shift,
                                double min_vol);

/* The vols of the portfolio model's three scenarios for an option of vol sigma and t_years to expiry:
 * out[0] up, out[1] same, out[2] down. */
void ht_margin_pm_vols(const ht_margin_params *p, double sigma, double t_years, double out[3]);

/* Distance to liquidation: where maintenance margin reaches equity (equity_coin + the move's P&L). */
typedef struct ht_margin_distance {
    double ratio;              /* maintenance_total_coin / equity_coin now */
    double spot_up_rel;        /* the smallest rise that liquidates (fraction), NaN when none up to max_up */
    double spot_down_rel;      /* the smallest fall (negative), NaN when none down to -max_down */
    double vol_up;             /* the smallest parallel vol rise (absolute), NaN when none up to max_vol */
    bool already;              /* maintenance >= equity now: every distance is 0 */
} ht_margin_distance;

/* Searches each direction by revaluation (steps outward, then bisection to tol_rel of a move / 1e-4 vol).
 * max_up, max_down (0 < max_down < 1) and max_vol bound the search. equity_coin > 0. 0, or -1 with err. */
int ht_margin_distance_compute(ht_margin_model model, const ht_margin_params *p, const ht_margin_position *pos,
                               size_t n, double equity_coin, double max_up, double max_down, double max_vol,
                               ht_margin_distance *out, ht_error *err);

#ifdef __cplusplus
}
#endif

#endif

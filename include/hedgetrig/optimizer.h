/* SPDX-License-Identifier: MIT */
/* Cost-aware hedge optimizer: when to hedge (bands), how much (sizing), where (venue split), at what cost. */
#ifndef HEDGETRIG_OPTIMIZER_H
#define HEDGETRIG_OPTIMIZER_H

/*
 * The optimizer turns a breach event from the pipeline (or a timer) into child orders and a new band.
 * It is pure: no I/O, no allocation, no lock and no system call on the decision path, so the same code runs
 * live, in replay and in the Monte Carlo backtest. Formulas, sources and conventions: docs/optimizer.md.
 *
 * Units (everywhere in this header):
 *   - delta in coins of the underlying (BTC for BTC): the pipeline's band and net delta use the same unit;
 *   - gamma in coins per unit of the underlying's price (dDelta/dS, e.g. BTC per USD);
 *   - vol as a fraction per sqrt(year) (0.6 = 60 %); time to expiry in years (ACT/365);
 *   - prices in the quote currency (USD; USDC counted as USD); costs in USD;
 *   - venue amounts in the venue's own unit: USD for inverse contracts (Deribit BTC-PERPETUAL), coins for linear
 *     ones (BTC_USDC-PERPETUAL);
 *   - times in nanoseconds on the caller's clock (feed time in replay, simulated time in the backtest).
 *
 * Life cycle (per process, or per thread: an ht_opt is not shared between threads):
 *   ht_opt_create -> ht_opt_set_strategy / ht_opt_add_venue per underlying -> ht_opt_decide on every breach,
 *   timer and band refresh -> ht_opt_destroy. ht_opt_reset forgets the per-underlying state (last hedge,
 *   rate-limit tokens) and keeps the configuration.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

#define HT_OPT_MAX_UNDERLYINGS 16 /* as many as the pipeline has */
#define HT_OPT_MAX_VENUES 8       /* hedge instruments per underlying */
#define HT_OPT_BOOK_LEVELS 8      /* order-book levels per side passed in for each venue */
#define HT_OPT_SECONDS_PER_YEAR (365.0 * 86400.0)
#define HT_OPT_WIDE_BAND_COIN 1e9 /* half-width of "no band" (TIME rules without a safety band); fits Q31.32 */

/* ------------------------------------------------------------------------------------------------------ */
/* Band rules                                                                                              */
/* ------------------------------------------------------------------------------------------------------ */

/* How the band [lo, hi] on the net delta is chosen. `param` of ht_opt_strategy means: */
typedef enum ht_opt_rule {
    HT_OPT_RULE_FIXED = 0,  /* half-width = param coins (> 0) */
    HT_OPT_RULE_FIXED_PCT,  /* half-width = param x the book's gross delta (0 < param <= 10) */
    HT_OPT_RULE_WW,         /* Whalley-Wilmott (1997); param = risk aversion gamma (> 0, per USD) */
    HT_OPT_RULE_ZAK,        /* Zakamouline (2006) H0 + H1 around the delta at the modified vol; param = gamma */
    HT_OPT_RULE_MOVE,       /* re-hedge when the spot has moved by param (relative, > 0) since the last hedge */
    HT_OPT_RULE_TIME,       /* re-hedge to the centre every interval_ns (timer) */
    HT_OPT_RULE_LELAND,     /* like TIME, with the delta taken at Leland's (1985) adjusted vol */
    HT_OPT_RULE_COUNT
} ht_opt_rule;

/* What the code needs to know about a rule, in one place (one entry per ht_opt_rule). */
typedef struct ht_opt_rule_traits {
    const char *name;    /* the spec's name, as ht_opt_strategy_parse reads it ("ww", "time"; FIXED_PCT is "fixed",
                            its value written with a %) */
    const char *label;   /* the name in messages ("Whalley-Wilmott") */
    bool timed;          /* re-hedges to the centre every interval_ns (a timer); param unused, no sizing target */
    bool cost_driven;    /* the band's formula takes the cost k, so k includes the impact and fixed cost of a
                            band-sized trade */
    bool scheduled;      /* hedges on its own schedule (a timer or a spot move), not on leaving a band: between
                            times the decision is NOT_DUE, and a rebalance with nothing worth sending still counts */
    bool own_hedge_vol;  /* the centre's delta is taken at a vol of the rule's own (ht_opt_hedge_vol) */
} ht_opt_rule_traits;

/* The traits of a rule; NULL when rule is not one (>= HT_OPT_RULE_COUNT). */
const ht_opt_rule_traits *ht_opt_rule_traits_of(ht_opt_rule rule);

/* Where a hedge takes the net delta. */
typedef enum ht_opt_target {
    HT_OPT_TARGET_AUTO = 0, /* EDGE when the fixed cost per order is 0, CENTRE otherwise (see docs) */
    HT_OPT_TARGET_EDGE,     /* the nearest band edge: optimal under proportional costs */
    HT_OPT_TARGET_CENTRE,   /* the band's centre (the hedge delta): optimal under a fixed cost per trade */
    HT_OPT_TARGET_INNER,    /* centre +/- inner_fraction x half-width, on the side of the breach */
} ht_opt_target;

/* One underlying's hedging strategy. */
typedef struct ht_opt_strategy {
    ht_opt_rule rule;
    double param;                /* see ht_opt_rule; unused by TIME and LELAND */
    int64_t interval_ns;         /* TIME, LELAND: re-hedge period (> 0); ignored by the band rules */
    ht_opt_target target;        /* sizing; TIME and LELAND always go to the centre */
    double inner_fraction;       /* TARGET_INNER: in [0, 1] (0 = centre, 1 = edge) */
    double cost_override;        /* > 0: the proportional cost k the band formulas use, instead of the cost
                                    model's estimate (backtests, or a desk's own figure); 0 = from the model */
    double min_half_width_coin;  /* the band is never narrower than this (>= 0) */
    double max_half_width_coin;  /* nor wider (0 = no limit); also the safety band of TIME and LELAND */
} ht_opt_strategy;

/* Fills *s with a strategy of the given rule and parameter and every other field at its default. */
void ht_opt_strategy_init(ht_opt_strategy *s, ht_opt_rule rule, double param);

/* Parses a strategy spec as the backtest command line spells it:
 *   time:N  leland:N  (N whole steps of step_ns each)   move:H[,edge|center]   ww:GAMMA[,edge|center]
 *   zak:GAMMA[,edge|center]   fixed:X[,edge|center]   fixed:X%[,edge|center]  (X percent of gross delta)
 * ("centre" is accepted for "center"). step_ns > 0 is the length of one step. Returns 0, or -1 with err set. */
int ht_opt_strategy_parse(const char *spec, int64_t step_ns, ht_opt_strategy *s, ht_error *err);

/* Writes the canonical spelling of a strategy (as parsed) into buf; returns buf. */
const char *ht_opt_strategy_name(const ht_opt_strategy *s, int64_t step_ns, char *buf, size_t len);

/* ------------------------------------------------------------------------------------------------------ */
/* The band formulas on their own (pure, exported for the backtest, the tests and the docs)               */
/* ------------------------------------------------------------------------------------------------------ */

/* Whalley & Wilmott (1997): H = (3 e^{-r tau} k S Gamma^2 / (2 gamma))^{1/3}.
 * gamma_book: net gamma; spot > 0; tau_years >= 0; k >= 0 one-way proportional cost; risk_aversion > 0.
 * Returns the half-width in coins (0 when k or gamma_book is 0). */
double ht_opt_ww_half_width(double gamma_book, double spot, double tau_years, double rate, double k,
                            double risk_aversion);

/* The terms of Zakamouline's (2006) band (see docs/optimizer.md for the fitted formulas). */
typedef struct ht_opt_zak_terms {
    double h0;          /* H0 = k / (gamma S sigma^2 tau) */
    double h1;          /* H1 = 1.12 k^0.31 tau^0.05 (e^{-r tau}/sigma)^0.25 (|Gamma|/gamma)^0.5 */
    double kappa;       /* K = -4.76 k^0.78 tau^-0.02 (e^{-r tau}/sigma)^0.25 (gamma S^2 |Gamma|)^0.15 (<= 0) */
    double vol_mod;     /* sigma_m = sigma sqrt(1 + s K), s = +1 long gamma, -1 short gamma */
} ht_opt_zak_terms;

/* Zakamouline's band terms. tau_years > 0 (tiny values are floored at one second), vol > 0, risk_aversion > 0,
 * k >= 0. With k = 0 every term is 0 and vol_mod = vol. Returns the half-width H0 + H1. */
double ht_opt_zak(double gamma_book, double spot, double tau_years, double rate, double vol, double k,
                  double risk_aversion, ht_opt_zak_terms *out);

/* Leland (1985) vol for re-hedging every dt_years with one-way cost k: sigma^2 (1 + s Le),
 * Le = sqrt(8/pi) k / (sigma sqrt(dt)), s = +1 short gamma, -1 long gamma (Leland's k is the round trip, 2k).
 * A long-gamma book with Le >= 1 has no real adjusted vol: the result is floored at 1 % of vol. */
double ht_opt_leland_vol(double vol, double k, double dt_years, double gamma_book);

/* The vol at which a rule wants the book's delta: vol_mod (ZAK), the Leland vol (LELAND), vol otherwise.
 * k: the proportional cost the band uses. The band's centre is Delta(vol) - Delta(hedge vol) in net-delta terms,
 * i.e. -vanna (hedge_vol - vol) to first order. */
double ht_opt_hedge_vol(const ht_opt_strategy *s, double gamma_book, double spot, double tau_years, double rate,
                        double vol, double k);

/* ------------------------------------------------------------------------------------------------------ */
/* Venues                                                                                                  */
/* ------------------------------------------------------------------------------------------------------ */

typedef enum ht_opt_contract {
    HT_OPT_LINEAR = 0, /* amount in coins; delta = amount (BTC_USDC-PERPETUAL) */
    HT_OPT_INVERSE,    /* amount in USD;  delta = amount / price (BTC-PERPETUAL, BTC-30JUN23) */
} ht_opt_contract;

/* A hedge instrument's static description: Deribit's instrument record (template 1000/1010) carries
 * contractSize, minTradeAmount, tickSize and the commissions. */
typedef struct ht_opt_venue {
    char instrument[48];      /* e.g. "BTC-PERPETUAL" (NUL-terminated) */
    ht_opt_contract contract;
    double contract_size;     /* > 0, venue units per contract: 10 (USD) for BTC-PERPETUAL, 0.001 (BTC) linear */
    double lot_amount;        /* >= 0, orders are whole multiples of this (0 = any amount: backtests) */
    double min_amount;        /* >= 0, smallest order amount (Deribit's minTradeAmount) */
    double tick_size;         /* > 0, price increment */
    double maker_fee;         /* fraction of notional (Deribit perpetual: 0) */
    double taker_fee;         /* fraction of notional, >= -0.01 (Deribit perpetual: 0.0005); IOC orders take */
    double max_long_amount;   /* position limits in venue units (>= 0); 0 = no limit */
    double max_short_amount;
    double collar_frac;       /* IOC limit within reference x (1 +/- collar_frac), 0 < collar_frac < 0.5 */
} ht_opt_venue;

/* Fills *v with Deribit's published defaults for a perpetual (taker 0.05 %, maker 0 %, 0.5 % collar). */
void ht_opt_venue_init(ht_opt_venue *v, const char *instrument, ht_opt_contract contract, double contract_size);

/* A venue's live state at decision time, from the feed (book) and the gateway (position). */
typedef struct ht_opt_quote {
    double bid_px[HT_OPT_BOOK_LEVELS];     /* best first; prices > 0 */
    double bid_amount[HT_OPT_BOOK_LEVELS]; /* venue units, > 0 */
    double ask_px[HT_OPT_BOOK_LEVELS];
    double ask_amount[HT_OPT_BOOK_LEVELS];
    uint8_t n_bid, n_ask;                   /* levels filled in (0..HT_OPT_BOOK_LEVELS) */
    bool unlimited_depth;                   /* backtests: the best level has infinite size */
    double reference_px;                    /* collar centre (mark or index); 0 = the mid */
    double position_amount;                 /* current position, signed, venue units */
    /* Running sums over the levels and the top of book, filled by ht_opt_quote_prepare (optional: a decision on an
     * unprepared quote, all zero here, walks the book itself, with the same result). Whoever changes a level or a count afterwards must prepare
     * the quote again, or set prepared to 0. reference_px and position_amount may change freely. */
    uint8_t prepared;                        /* 0, or 1 + the ht_opt_contract the sums are in */
    uint8_t n_bid_valid, n_ask_valid;        /* leading levels (of n_bid, n_ask) with a price > 0 and an amount > 0 */
    bool bids_falling, asks_rising;          /* prices monotone (non-strictly) over those levels */
    double cum_bid_coin[HT_OPT_BOOK_LEVELS]; /* coins in levels 0..l (l < n_*_valid; the rest is not written): the
                                                amounts, or amount / price (inverse) */
    double cum_ask_coin[HT_OPT_BOOK_LEVELS];
    uint8_t top_sides;                       /* bit 0: a best bid > 0 and finite; bit 1: the same for the ask */
    double top_mid_px;                       /* their average (not crossed), else the side there is, else 0 */
    double top_spread_frac;                  /* (ask - bid) / (2 mid) with both sides, not crossed; else 0 */
    double top_half_spread_frac[2];          /* |bid - mid| / mid [0] and |ask - mid| / mid [1] */
} ht_opt_quote;

/* Fills q's running sums and top of book from its levels and counts, for a venue of the given contract kind (a
 * decision uses the sums only for a venue of that kind, and walks the levels otherwise). Call it where the book
 * changes (the feed's book events), not per decision: it costs about 550 instructions, a decision saves about 140 per
 * venue (docs/optimizer.md, "Decision cost"). Pure: no allocation, no lock, no system call. */
void ht_opt_quote_prepare(ht_opt_quote *q, ht_opt_contract contract);

/* ------------------------------------------------------------------------------------------------------ */
/* Configuration shared by every underlying                                                               */
/* ------------------------------------------------------------------------------------------------------ */

typedef struct ht_opt_config {
    /* cost model (docs/optimizer.md, "Cost model") */
    double impact_y;            /* Y of the square-root law Y sigma sqrt(Q/V), >= 0 (default 0.7) */
    double impact_horizon_s;    /* sigma in the impact term is the vol over this horizon (default 60 s) */
    double latency_s;           /* decision to fill, for the adverse-move term (default 0.001 s) */
    double adverse_coef;        /* adverse cost = coef x sigma sqrt(latency), >= 0 (default 0.4) */
    double fixed_cost_usd;      /* cost per child order, >= 0 (default 0) */
    /* limits */
    double min_hedge_coin;      /* no hedge smaller than this, >= 0 (default 0) */
    double max_orders_per_s;    /* token bucket refill rate, 0 = unlimited */
    double burst_orders;        /* token bucket depth (>= 1 when a rate is set; default 5) */
    int64_t min_interval_ns;    /* minimum time between two hedges of one underlying (default 0) */
    int64_t retry_ns;           /* after NO_LIQUIDITY or HEDGED_PARTIAL, next_timer_ns = now + this (100 ms) */
    bool prefer_lower_margin;   /* of venues equally good on flat cost, the one whose trade lowers margin first
                                   (reduces its position; else the lower maintenance rate: linear before inverse);
                                   default false: index order (docs/margin.md) */
} ht_opt_config;

/* Fills *cfg with the defaults listed above. */
void ht_opt_config_default(ht_opt_config *cfg);

/* ------------------------------------------------------------------------------------------------------ */
/* Decisions                                                                                               */
/* ------------------------------------------------------------------------------------------------------ */

typedef enum ht_opt_trigger {
    HT_OPT_TRIGGER_BREACH = 0, /* the pipeline flagged a breach (side says which edge) */
    HT_OPT_TRIGGER_TIMER,      /* a TIME / LELAND rebalance is due (the caller's timer, see next_timer_ns) */
    HT_OPT_TRIGGER_REFRESH,    /* greeks or book refreshed: recompute the band, hedge only if outside it */
} ht_opt_trigger;

/* What arrives with a breach (the pipeline's event) or a timer. */
typedef struct ht_opt_event {
    uint32_t underlying;        /* < HT_OPT_MAX_UNDERLYINGS, with a strategy and >= 1 venue */
    ht_opt_trigger trigger;
    int8_t side;                /* breach: +1 above hi, -1 below lo; otherwise 0 */
    int64_t now_ns;             /* caller's clock */
    double spot;                /* the underlying's price, > 0 */
    double net_delta_coin;      /* book delta + hedge inventory, as the pipeline computes it */
    double net_gamma;           /* the book's net gamma at spot */
    double inflight_delta_coin; /* delta of hedge orders sent and not yet filled or cancelled */
} ht_opt_event;

/* The slow-path state of an underlying's book (hostsw/greeks). */
typedef struct ht_opt_book {
    double tau_years;           /* gamma-weighted time to expiry, > 0 */
    double vol;                 /* the vol the book's deltas are computed at, > 0 */
    double realised_vol;        /* for the impact and adverse-move terms (0 = use vol) */
    double rate;                /* r, continuous */
    double vanna;               /* dDelta/dvol of the book, coins per unit of vol (a secant slope between
                                   vol and the hedge vol makes ZAK's and LELAND's centres exact) */
    double gross_delta_coin;    /* sum of |delta| over positions (FIXED_PCT) */
    double band_scale;          /* in (0, 1): the rule's half-width (after the min/max limits) is multiplied by it
                                   (the engine's margin-aware band, docs/margin.md); 0, 1 or anything else: as is */
} ht_opt_book;

/* Why a decision came out as it did. */
typedef enum ht_opt_reason {
    HT_OPT_HEDGED = 0,          /* orders sent for the whole trade */
    HT_OPT_HEDGED_PARTIAL,      /* orders sent, short of the trade: depth, collar or position limits */
    HT_OPT_INSIDE_BAND,         /* the recomputed band holds the net delta: nothing to do */
    HT_OPT_NOT_DUE,             /* TIME / LELAND between timers, or MOVE with the spot inside its range */
    HT_OPT_BELOW_MIN_HEDGE,     /* the trade is below min_hedge_coin or one lot: the band is widened */
    HT_OPT_RATE_LIMITED,        /* rate limit or minimum interval: retry at next_timer_ns */
    HT_OPT_NO_LIQUIDITY,        /* no venue can take any of it (book empty, collar, limits) */
    HT_OPT_BAD_INPUT,           /* the event or book failed validation: nothing changes */
} ht_opt_reason;

/* A short name for a reason ("hedged", "inside_band", ...). */
const char *ht_opt_reason_name(ht_opt_reason reason);

/* One child order: IOC, limit within the collar. */
typedef struct ht_opt_order {
    uint8_t venue;              /* index returned by ht_opt_add_venue */
    int8_t side;                /* +1 buy, -1 sell */
    double amount;              /* venue units, a whole number of lots, >= min_amount */
    double contracts;           /* what goes on the wire: ht_units_amount_to_contracts (docs/units.md) */
    double limit_px;            /* on the tick grid, inside the collar */
    double ref_px;              /* the reference price delta_coin is computed at (inverse contracts) */
    double delta_coin;          /* signed delta it adds when filled: ht_units_contracts_to_coin at ref_px */
    double expected_cost_usd;   /* fee + half-spread + impact + adverse + fixed, as the cost model predicts */
} ht_opt_order;

typedef struct ht_opt_decision {
    ht_opt_reason reason;
    uint32_t n_orders;
    ht_opt_order orders[HT_OPT_MAX_VENUES];
    double band_lo_coin;        /* the band to set on the pipeline (then re-arm); always holds the net delta */
    double band_hi_coin;        /*   the orders leave behind, so a decision never re-fires at once */
    double centre_coin;         /* the rule's centre and half-width, before widening */
    double half_width_coin;
    double hedge_vol;           /* vol the centre's delta is taken at */
    double k_eff;               /* proportional cost the band used */
    double target_delta_coin;   /* net delta the orders aim at (net delta when there is no trade) */
    double trade_delta_coin;    /* sum of the orders' delta_coin */
    double expected_cost_usd;   /* sum over orders */
    int64_t next_timer_ns;      /* > 0: call again with TRIGGER_TIMER at this time (TIME rules, rate limit) */
} ht_opt_decision;

typedef struct ht_opt ht_opt;

/* Creates an optimizer. cfg may be NULL (defaults). Returns NULL with err set when cfg is out of range. */
ht_opt *ht_opt_create(const ht_opt_config *cfg, ht_error *err);

/* Sets (or replaces) an underlying's strategy. Returns 0, or -1 with err naming the bad field. */
int ht_opt_set_strategy(ht_opt *opt, uint32_t underlying, const ht_opt_strategy *s, ht_error *err);

/* Adds a hedge instrument to an underlying. Returns its index (0..HT_OPT_MAX_VENUES-1), or -1 with err set. */
int ht_opt_add_venue(ht_opt *opt, uint32_t underlying, const ht_opt_venue *v, ht_error *err);

/* Decides what to do about an event. quotes[i] is the live state of venue i of ev->underlying (as many as were
 * added). Always fills *out; returns 0, or -1 on bad input (reason HT_OPT_BAD_INPUT, no order, band NaN: keep
 * the old one) with err (may be NULL) naming the field.
 * After a decision with orders, set the band and re-arm once the orders are resolved (filled or cancelled), or
 * count them in inflight_delta_coin: the band holds the net delta the orders leave behind, not the one before.
 * Decision path: no allocation, no I/O, no lock; err is only written when the input is bad. */
int ht_opt_decide(ht_opt *opt, const ht_opt_event *ev, const ht_opt_book *book, const ht_opt_quote *quotes,
                  ht_opt_decision *out, ht_error *err);

/* ht_opt_decide without its effects: the decision the event would get now, the optimizer's state (last hedge,
 * rate-limit tokens, last band) left as it was. For orders armed ahead of their trigger (the engine's pre-armed
 * hedges): the decision a breach at the band's edge would get. Not the decision path: it copies the underlying's
 * state (about a kilobyte). */
int ht_opt_decide_preview(ht_opt *opt, const ht_opt_event *ev, const ht_opt_book *book, const ht_opt_quote *quotes,
                          ht_opt_decision *out, ht_error *err);

/* Whether the rate-limit step would let n_orders orders of underlying u go at now_ns (the minimum interval since
 * the last hedge has passed, and the token bucket refilled to now holds n_orders), without changing anything: the
 * time-dependent part of a decision previewed earlier, checked at the moment it fires. */
bool ht_opt_rate_allows(const ht_opt *opt, uint32_t u, int64_t now_ns, uint32_t n_orders);

/* For a hedge armed ahead of its breach and sized at the breach without a decision (the engine's pre-armed
 * hedges): where the rule's target sits in its band for a net delta outside it, centre + side x fraction x
 * half-width (1: the edge, 0: the centre, the inner fraction). NAN when a breach's decision does not follow the band
 * that way: MOVE (its due test is the spot's move) and the timed rules (their timer decides), or u has no strategy. */
double ht_opt_target_fraction(const ht_opt *opt, uint32_t u);

/* What the decision gives a trade the rule wants of want_coin (> 0) on the side (+1 buy) of an underlying hedged
 * on one venue v, with q's levels and the reference price ref_px, without deciding: decide_size's minimum (a trade
 * under it raised to it when the centre lies centre_dist_coin away, at least that far, else none), the split (all of
 * it to the one venue, within its depth inside the collar and its room) and the rounding to whole lots. 0 with *amount (venue units) and *margin_coin: how far
 * want_coin and centre_dist_coin lie from a change of that amount; -1 when the venue alone does not decide it (more
 * venues, no trade, the trade and a lot more beyond the position room, or inputs out of range). */
int ht_opt_size_alone(const ht_opt *opt, uint32_t u, uint32_t v, const ht_opt_quote *q, double ref_px, int side,
                      double want_coin, double centre_dist_coin, double *amount, double *margin_coin);

/* Whether a decision reads q the same with the reference price (the collar's centre) ref1 instead of ref0: the
 * same levels inside the collar on both sides (none between the two bounds), ref1 passing the quote's sanity test
 * against spot. The conversion to coins does move with it (ht_opt_size_alone takes ref_px). */
bool ht_opt_ref_keeps_view(const ht_opt *opt, uint32_t u, uint32_t v, const ht_opt_quote *q, double ref0, double ref1,
                           double spot);

/* Forgets every underlying's last hedge and rate-limit state (start of a new backtest path). */
void ht_opt_reset(ht_opt *opt);

void ht_opt_destroy(ht_opt *opt);

/* ------------------------------------------------------------------------------------------------------ */
/* Cost model and venue split on their own (what ht_opt_decide uses; exported for tests and tools)        */
/* ------------------------------------------------------------------------------------------------------ */

/* One venue's marginal cost of buying or selling q coins, in USD per coin: a + b sqrt(q), up to cap coins.
 * Total cost of q coins: a q + (2/3) b q^{3/2} (+ the fixed cost per order). */
typedef struct ht_opt_venue_cost {
    double a_usd_per_coin;  /* price x (fee + half-spread + adverse), >= 0 unless fees are negative */
    double b_usd_per_coin;  /* 1.5 x price x Y sigma_h / sqrt(depth), >= 0 */
    double cap_coin;        /* what the venue can take: depth inside the collar and position room, >= 0 */
} ht_opt_venue_cost;

/* Splits target_coin (>= 0) over n venues (n <= HT_OPT_MAX_VENUES) so that every venue that trades has the same
 * marginal cost and no idle venue is cheaper at the margin, within each cap. Writes q_coin[0..n-1] (>= 0).
 * Returns the total placed: target_coin, or the sum of the caps when they are short of it. */
double ht_opt_split(const ht_opt_venue_cost *venues, size_t n, double target_coin, double *q_coin);

/* ht_opt_split where venues of equal flat cost a are taken in the order of margin_rank[i] (the margin a coin of the
 * trade adds there: lower first; ht_opt_config.prefer_lower_margin) instead of their index order. margin_rank NULL:
 * ht_opt_split. With impact (b > 0) venues of equal a share at equal marginal cost whatever their rank. */
double ht_opt_split_ranked(const ht_opt_venue_cost *venues, const double *margin_rank, size_t n, double target_coin,
                           double *q_coin);

#endif

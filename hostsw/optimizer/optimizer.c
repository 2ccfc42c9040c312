/* SPDX-License-Identifier: MIT */
/* The optimizer object: per-underlying strategy and venues, and the decision (band, trigger, size, split). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/optimizer.h"
#include "hedgetrig/units.h"
#include "quote_top.h"
#include "opt_priv.h"

/* What the code needs to know about each rule, indexed by ht_opt_rule (ht_opt_rule_traits_of); the flags not
 * named are false. */
static const ht_opt_rule_traits g_rule_traits[HT_OPT_RULE_COUNT] = {
    [HT_OPT_RULE_FIXED] = {.name = "fixed", .label = "fixed"},
    [HT_OPT_RULE_FIXED_PCT] = {.name = "fixed", .label = "fixed %"},
    [HT_OPT_RULE_WW] = {.name = "ww", .label = "Whalley-Wilmott", .cost_driven = true},
    [HT_OPT_RULE_ZAK] = {.name = "zak", .label = "Zakamouline", .cost_driven = true, .own_hedge_vol = true},
    [HT_OPT_RULE_MOVE] = {.name = "move", .label = "move", .scheduled = true},
    [HT_OPT_RULE_TIME] = {.name = "time", .label = "time", .timed = true, .scheduled = true},
    [HT_OPT_RULE_LELAND] = {.name = "leland", .label = "Leland", .timed = true, .cost_driven = true, .scheduled = true,
                            .own_hedge_vol = true},
};

const ht_opt_rule_traits *ht_opt_rule_traits_of(ht_opt_rule rule)
{
    return (unsigned)rule < HT_OPT_RULE_COUNT ? &g_rule_traits[rule] : NULL;
}

/* Smallest margin by which a widened band clears the net delta (the pipeline's delta resolution is 2^-32). */
#define BAND_MARGIN_COIN 1e-9


/* One venue seen from one side at decision time. */
typedef struct venue_view {
    bool usable;
    double mid;          /* USD */
    double ref_px;       /* collar centre and inverse-contract conversion price */
    double bound_px;     /* collar limit for this side */
    double conv;         /* venue units per coin: 1 (linear) or ref_px (inverse) */
    double depth_coin;   /* inside the collar (INFINITY when unlimited) */
    double first_coin;   /* smallest order, coins */
    double lot_coin;     /* one lot, coins (0 for any amount) */
    ht_opt_venue_cost cost;
} venue_view;

/* The top of one venue's book, read once per decision. */
typedef struct venue_top {
    bool has_bid, has_ask;
    double bid, ask, mid, ref;
    double spread_frac;       /* (ask - bid) / (2 mid) with both sides and not crossed, else 0 */
    double half_spread[2];    /* |bid - mid| / mid, |ask - mid| / mid */
} venue_top;

void ht_opt_config_default(ht_opt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->impact_y = 0.7;
    cfg->impact_horizon_s = 60.0;
    cfg->latency_s = 0.001;
    cfg->adverse_coef = 0.4;
    cfg->burst_orders = 5.0;
    cfg->retry_ns = 100 * 1000 * 1000;
}

void ht_opt_venue_init(ht_opt_venue *v, const char *instrument, ht_opt_contract contract, double contract_size)
{
    memset(v, 0, sizeof *v);
    if (instrument) {
        strncpy(v->instrument, instrument, sizeof v->instrument - 1);
        v->instrument[sizeof v->instrument - 1] = '\0';
    }
    v->contract = contract;
    v->contract_size = contract_size;
    v->lot_amount = contract_size;
    v->min_amount = contract_size;
    v->tick_size = 0.5;
    v->maker_fee = 0.0;
    v->taker_fee = 0.0005;
    v->collar_frac = 0.005;
}

const char *ht_opt_reason_name(ht_opt_reason reason)
{
    switch (reason) {
    case HT_OPT_HEDGED: return "hedged";
    case HT_OPT_HEDGED_PARTIAL: return "hedged_partial";
    case HT_OPT_INSIDE_BAND: return "inside_band";
    case HT_OPT_NOT_DUE: return "not_due";
    case HT_OPT_BELOW_MIN_HEDGE: return "below_min_hedge";
    case HT_OPT_RATE_LIMITED: return "rate_limited";
    case HT_OPT_NO_LIQUIDITY: return "no_liquidity";
    case HT_OPT_BAD_INPUT: return "bad_input";
    }
    return "unknown";
}

/* True when x is a finite number >= lo. */
static bool finite_at_least(double x, double lo)
{
    return isfinite(x) && x >= lo;
}

ht_opt *ht_opt_create(const ht_opt_config *cfg, ht_error *err)
{
    ht_opt_config c;
    if (cfg)
        c = *cfg;
    else
        ht_opt_config_default(&c);
    if (!finite_at_least(c.impact_y, 0.0))
        return ht_error_set(err, "optimizer config: impact_y must be >= 0, got %g", c.impact_y), NULL;
    if (!finite_at_least(c.impact_horizon_s, 0.0))
        return ht_error_set(err, "optimizer config: impact_horizon_s must be >= 0, got %g", c.impact_horizon_s), NULL;
    if (!finite_at_least(c.latency_s, 0.0))
        return ht_error_set(err, "optimizer config: latency_s must be >= 0, got %g", c.latency_s), NULL;
    if (!finite_at_least(c.adverse_coef, 0.0))
        return ht_error_set(err, "optimizer config: adverse_coef must be >= 0, got %g", c.adverse_coef), NULL;
    if (!finite_at_least(c.fixed_cost_usd, 0.0))
        return ht_error_set(err, "optimizer config: fixed_cost_usd must be >= 0, got %g", c.fixed_cost_usd), NULL;
    if (!finite_at_least(c.min_hedge_coin, 0.0))
        return ht_error_set(err, "optimizer config: min_hedge_coin must be >= 0, got %g", c.min_hedge_coin), NULL;
    if (!finite_at_least(c.max_orders_per_s, 0.0))
        return ht_error_set(err, "optimizer config: max_orders_per_s must be >= 0, got %g", c.max_orders_per_s), NULL;
    if (c.max_orders_per_s > 0.0 && !finite_at_least(c.burst_orders, 1.0))
        return ht_error_set(err, "optimizer config: burst_orders must be >= 1 with a rate limit, got %g",
                            c.burst_orders), NULL;
    if (c.min_interval_ns < 0 || c.retry_ns < 0 || c.min_interval_ns > (1ll << 60) || c.retry_ns > (1ll << 60))
        return ht_error_set(err, "optimizer config: min_interval_ns and retry_ns must be in [0, 2^60]"), NULL;
    ht_opt *opt = calloc(1, sizeof *opt);
    if (!opt)
        return ht_error_set(err, "optimizer: out of memory"), NULL;
    opt->cfg = c;
    opt->sqrt_horizon_years = sqrt(c.impact_horizon_s / HT_OPT_SECONDS_PER_YEAR);
    opt->sqrt_latency_years = sqrt(c.latency_s / HT_OPT_SECONDS_PER_YEAR);
    ht_opt_reset(opt);
    return opt;
}

void ht_opt_destroy(ht_opt *opt)
{
    free(opt);
}

void ht_opt_reset(ht_opt *opt)
{
    for (size_t u = 0; u < HT_OPT_MAX_UNDERLYINGS; u++) {
        ht_opt_underlying *ul = &opt->ul[u];
        ul->hedged_once = false;
        ul->last_hedge_ns = 0;
        ul->last_half_width = 0.0;
        ul->ref_spot = 0.0;
        ul->tokens = opt->cfg.burst_orders;
        ul->tokens_ns = 0;
        ul->tokens_valid = false;
    }
}

int ht_opt_set_strategy(ht_opt *opt, uint32_t underlying, const ht_opt_strategy *s, ht_error *err)
{
    if (underlying >= HT_OPT_MAX_UNDERLYINGS)
        return ht_error_set(err, "strategy: underlying %u out of range (0..%d)", underlying, HT_OPT_MAX_UNDERLYINGS - 1);
    if ((unsigned)s->rule >= HT_OPT_RULE_COUNT)
        return ht_error_set(err, "strategy: unknown rule %d", (int)s->rule);
    bool timed = g_rule_traits[s->rule].timed;
    if (timed && !(s->interval_ns > 0 && s->interval_ns <= 1000000000000000000ll))
        return ht_error_set(err, "strategy: interval_ns must be in (0, 1e18] for a time-based rule, got %lld",
                            (long long)s->interval_ns);
    if (!timed && !(isfinite(s->param) && s->param > 0.0))
        return ht_error_set(err, "strategy: param must be > 0, got %g", s->param);
    if (s->rule == HT_OPT_RULE_FIXED_PCT && s->param > 10.0)
        return ht_error_set(err, "strategy: fixed band of %g x gross delta is above the limit of 10", s->param);
    if ((unsigned)s->target > HT_OPT_TARGET_INNER)
        return ht_error_set(err, "strategy: unknown sizing target %d", (int)s->target);
    if (s->target == HT_OPT_TARGET_INNER && !(s->inner_fraction >= 0.0 && s->inner_fraction <= 1.0))
        return ht_error_set(err, "strategy: inner_fraction must be in [0, 1], got %g", s->inner_fraction);
    if (!finite_at_least(s->cost_override, 0.0) || !finite_at_least(s->min_half_width_coin, 0.0) ||
        !finite_at_least(s->max_half_width_coin, 0.0))
        return ht_error_set(err, "strategy: cost_override, min_half_width_coin and max_half_width_coin must be >= 0");
    if (s->max_half_width_coin > 0.0 && s->max_half_width_coin < s->min_half_width_coin)
        return ht_error_set(err, "strategy: max_half_width_coin %g is below min_half_width_coin %g",
                            s->max_half_width_coin, s->min_half_width_coin);
    opt->ul[underlying].strategy = *s;
    opt->ul[underlying].has_strategy = true;
    opt->ul_sqrt_interval_years[underlying] =
        timed ? sqrt((double)s->interval_ns * 1e-9 / HT_OPT_SECONDS_PER_YEAR) : 0.0;
    return 0;
}

int ht_opt_add_venue(ht_opt *opt, uint32_t underlying, const ht_opt_venue *v, ht_error *err)
{
    if (underlying >= HT_OPT_MAX_UNDERLYINGS)
        return ht_error_set(err, "venue: underlying %u out of range (0..%d)", underlying, HT_OPT_MAX_UNDERLYINGS - 1);
    ht_opt_underlying *ul = &opt->ul[underlying];
    const char *name = v->instrument[0] ? v->instrument : "(unnamed)";
    if (ul->n_venues >= HT_OPT_MAX_VENUES)
        return ht_error_set(err, "venue %s: underlying %u already has %d venues", name, underlying, HT_OPT_MAX_VENUES);
    if (memchr(v->instrument, '\0', sizeof v->instrument) == NULL || v->instrument[0] == '\0')
        return ht_error_set(err, "venue: instrument name must be 1..%zu characters", sizeof v->instrument - 1);
    if (v->contract != HT_OPT_LINEAR && v->contract != HT_OPT_INVERSE)
        return ht_error_set(err, "venue %s: contract must be linear or inverse", name);
    if (!(isfinite(v->contract_size) && v->contract_size > 0.0))
        return ht_error_set(err, "venue %s: contract_size must be > 0, got %g", name, v->contract_size);
    if (!finite_at_least(v->lot_amount, 0.0) || !finite_at_least(v->min_amount, 0.0))
        return ht_error_set(err, "venue %s: lot_amount and min_amount must be >= 0", name);
    if (!(isfinite(v->tick_size) && v->tick_size > 0.0))
        return ht_error_set(err, "venue %s: tick_size must be > 0, got %g", name, v->tick_size);
    if (!finite_at_least(v->taker_fee, -0.01) || !finite_at_least(v->maker_fee, -0.01) || v->taker_fee > 0.1 ||
        v->maker_fee > 0.1)
        return ht_error_set(err, "venue %s: fees must be in [-0.01, 0.1] of notional (taker %g, maker %g)", name,
                            v->taker_fee, v->maker_fee);
    if (!finite_at_least(v->max_long_amount, 0.0) || !finite_at_least(v->max_short_amount, 0.0))
        return ht_error_set(err, "venue %s: position limits must be >= 0 (0 = none)", name);
    if (!(v->collar_frac > 0.0 && v->collar_frac < 0.5))
        return ht_error_set(err, "venue %s: collar_frac must be in (0, 0.5), got %g", name, v->collar_frac);
    uint32_t i = ul->n_venues;
    ul->venues[i] = *v;
    double first = v->lot_amount;
    if (v->min_amount > 0.0)
        first = fmax(first, v->lot_amount > 0.0 ? ceil(v->min_amount / v->lot_amount - 1e-9) * v->lot_amount
                                                : v->min_amount);
    ul->first_amount[i] = first;
    ul->inv_lot[i] = v->lot_amount > 0.0 ? 1.0 / v->lot_amount : 0.0;
    ul->inv_tick[i] = 1.0 / v->tick_size;
    ul->tick[i] = 1.0 / ul->inv_tick[i];
    return (int)ul->n_venues++;
}

/* Reads the top of a venue's book (prepared, or from its levels): best bid and ask when present, the mid (the average when the book is not
 * crossed, else the side that is there) and the collar's reference price. A venue whose mid or reference is
 * not within a factor 2 of the spot is taken as a bad or stale quote: nothing there is usable. */
static void read_top(const ht_opt_quote *q, double spot, venue_top *t)
{
    t->bid = q->bid_px[0];
    t->ask = q->ask_px[0];
    if (HT_LIKELY(q->prepared)) {
        t->has_bid = q->top_sides & 1u;
        t->has_ask = (q->top_sides >> 1) & 1u;
        t->mid = q->top_mid_px;
        t->spread_frac = q->top_spread_frac;
        t->half_spread[0] = q->top_half_spread_frac[0];
        t->half_spread[1] = q->top_half_spread_frac[1];
    } else {
        ht_opt_top_of_levels(q, &t->has_bid, &t->has_ask, &t->mid, &t->spread_frac, t->half_spread);
    }
    t->ref = q->reference_px > 0.0 && q->reference_px < INFINITY ? q->reference_px : t->mid;
    if (!(t->mid >= 0.5 * spot && t->mid <= 2.0 * spot && t->ref >= 0.5 * spot && t->ref <= 2.0 * spot)) {
        t->has_bid = t->has_ask = false;
        t->mid = 0.0;
    }
}


/* Builds the view of one venue from one side (side +1: we buy and lift asks; -1: we sell and hit bids).
 * known_depth >= 0 is that side's depth inside the collar when already measured. */
static void view_venue(const ht_opt_venue *v, double first_amount, const ht_opt_quote *q, const venue_top *t,
                       int side, double known_depth, double impact_sigma, double adverse_frac, double impact_y,
                       venue_view *out)
{
    out->usable = false;
    out->cost.cap_coin = 0.0;
    bool present = side > 0 ? t->has_ask : t->has_bid;
    if (!present)
        return;
    double best = side > 0 ? t->ask : t->bid;
    double bound = side > 0 ? t->ref * (1.0 + v->collar_frac) : t->ref * (1.0 - v->collar_frac);
    if (side > 0 ? best > bound : best < bound)
        return; /* the touch is already outside the collar */
    double depth_coin = known_depth >= 0.0 ? known_depth : depth_in_collar(v, q, side, bound);
    ht_contract contract = {v->contract == HT_OPT_INVERSE ? HT_CONTRACT_INVERSE : HT_CONTRACT_LINEAR, v->contract_size};
    double conv = ht_units_amount_per_coin(&contract, t->ref); /* docs/units.md */
    double room = INFINITY;
    double pos = q->position_amount > -INFINITY && q->position_amount < INFINITY ? q->position_amount : 0.0;
    if (side > 0 && v->max_long_amount > 0.0)
        room = max_d(v->max_long_amount - pos, 0.0) / conv;
    if (side < 0 && v->max_short_amount > 0.0)
        room = max_d(v->max_short_amount + pos, 0.0) / conv;
    double half_spread = t->half_spread[side > 0];
    out->mid = t->mid;
    out->ref_px = t->ref;
    out->bound_px = bound;
    out->conv = conv;
    out->depth_coin = depth_coin;
    out->first_coin = first_amount / conv;
    out->lot_coin = v->lot_amount / conv;
    out->cost.a_usd_per_coin = t->mid * (v->taker_fee + half_spread + adverse_frac);
    out->cost.b_usd_per_coin =
        depth_coin > 0.0 && depth_coin < INFINITY ? 1.5 * t->mid * impact_y * impact_sigma / sqrt(depth_coin) : 0.0;
    out->cost.cap_coin = min_d(depth_coin, room);
    out->usable = out->cost.cap_coin > 0.0;
}

/* The rule's band (centre and half-width, in net-delta coins) and the vol the centre's delta is taken at. */
static void rule_band(const ht_opt_strategy *s, const ht_opt_event *ev, const ht_opt_book *book, double k,
                      double *centre, double *half_width, double *hedge_vol)
{
    double gamma = ev->net_gamma, spot = ev->spot;
    double h = 0.0, hv = book->vol;
    switch (s->rule) {
    case HT_OPT_RULE_FIXED: h = s->param; break;
    case HT_OPT_RULE_FIXED_PCT: h = s->param * book->gross_delta_coin; break;
    case HT_OPT_RULE_WW: h = ht_opt_ww_half_width(gamma, spot, book->tau_years, book->rate, k, s->param); break;
    case HT_OPT_RULE_ZAK: {
        ht_opt_zak_terms t;
        h = ht_opt_zak(gamma, spot, book->tau_years, book->rate, book->vol, k, s->param, &t);
        hv = t.vol_mod;
        break;
    }
    case HT_OPT_RULE_MOVE: h = fabs(gamma) * spot * s->param; break;
    case HT_OPT_RULE_LELAND:
        hv = ht_opt_leland_vol(book->vol, k, (double)s->interval_ns * 1e-9 / HT_OPT_SECONDS_PER_YEAR, gamma);
        h = s->max_half_width_coin > 0.0 ? s->max_half_width_coin : HT_OPT_WIDE_BAND_COIN; /* TIME's safety band */
        break;
    case HT_OPT_RULE_TIME:
    default: h = s->max_half_width_coin > 0.0 ? s->max_half_width_coin : HT_OPT_WIDE_BAND_COIN; break;
    }
    if (h < s->min_half_width_coin)
        h = s->min_half_width_coin;
    if (s->max_half_width_coin > 0.0 && h > s->max_half_width_coin)
        h = s->max_half_width_coin;
    if (HT_UNLIKELY(book->band_scale > 0.0 && book->band_scale < 1.0))
        h *= book->band_scale;
    *centre = hv != book->vol ? -book->vanna * (hv - book->vol) : 0.0;
    *half_width = h;
    *hedge_vol = hv;
}

/* Checks the event and book; on failure fills err and returns false. */
static bool valid_input(const ht_opt *opt, const ht_opt_event *ev, const ht_opt_book *book,
                        const ht_opt_quote *quotes, ht_error *err)
{
    if (ev->underlying >= HT_OPT_MAX_UNDERLYINGS)
        return ht_error_set(err, "event: underlying %u out of range", ev->underlying), false;
    const ht_opt_underlying *ul = &opt->ul[ev->underlying];
    if (!ul->has_strategy || ul->n_venues == 0)
        return ht_error_set(err, "event: underlying %u has no strategy or no venue", ev->underlying), false;
    if (ev->now_ns < 0 || ev->now_ns > (1ll << 62))
        return ht_error_set(err, "event: now_ns must be in [0, 2^62], got %lld", (long long)ev->now_ns), false;
    if ((unsigned)ev->trigger > HT_OPT_TRIGGER_REFRESH)
        return ht_error_set(err, "event: unknown trigger %d", (int)ev->trigger), false;
    if (!(ev->spot > 0.0 && ev->spot <= 1e12))
        return ht_error_set(err, "event: spot must be in (0, 1e12], got %g", ev->spot), false;
    if (!(fabs(ev->net_delta_coin) <= 1e12 && fabs(ev->net_gamma) <= 1e12 && fabs(ev->inflight_delta_coin) <= 1e12))
        return ht_error_set(err, "event: net_delta_coin, net_gamma and inflight_delta_coin must be finite, within "
                                 "+/-1e12 (got %g, %g, %g)",
                            ev->net_delta_coin, ev->net_gamma, ev->inflight_delta_coin),
               false;
    if (!(isfinite(book->tau_years) && book->tau_years > 0.0))
        return ht_error_set(err, "book: tau_years must be > 0, got %g", book->tau_years), false;
    if (!(isfinite(book->vol) && book->vol > 0.0))
        return ht_error_set(err, "book: vol must be > 0, got %g", book->vol), false;
    if (!finite_at_least(book->realised_vol, 0.0) || !(fabs(book->rate) <= 10.0) || !(fabs(book->vanna) <= 1e15) ||
        !(book->gross_delta_coin >= 0.0 && book->gross_delta_coin <= 1e15))
        return ht_error_set(err, "book: realised_vol and gross_delta_coin must be >= 0, |rate| <= 10, vanna finite "
                                 "(got %g, %g, %g, %g)",
                            book->realised_vol, book->gross_delta_coin, book->rate, book->vanna),
               false;
    if (!quotes)
        return ht_error_set(err, "event: no quotes for underlying %u's %u venues", ev->underlying, ul->n_venues),
               false;
    return true;
}

/* Widens [lo, hi] so that it holds x with a small margin (a decision must never re-fire at once). */
static void band_hold(double *lo, double *hi, double x)
{
    if (x <= *lo)
        *lo = x - BAND_MARGIN_COIN;
    if (x >= *hi)
        *hi = x + BAND_MARGIN_COIN;
}

/* Walks a side of the book to the level that fills amount and returns the IOC limit: that level's price, held
 * inside the collar and on the tick grid. */
static double limit_price(const ht_opt_quote *q, int side, const venue_view *w, double inv_tick, double tick,
                          double amount)
{
    const double *px = side > 0 ? q->ask_px : q->bid_px;
    const double *amt = side > 0 ? q->ask_amount : q->bid_amount;
    unsigned n = side > 0 ? q->n_ask : q->n_bid;
    if (n > HT_OPT_BOOK_LEVELS)
        n = HT_OPT_BOOK_LEVELS;
    double p = w->bound_px;
    if (q->unlimited_depth) {
        p = px[0];
    } else {
        double cum = 0.0, need = amount * (1.0 - 1e-12);
        for (unsigned l = 0; l < n; l++) { /* the levels depth_in_collar counted */
            if (!(px[l] > 0.0 && amt[l] > 0.0) || (side > 0 ? px[l] > w->bound_px : px[l] < w->bound_px))
                break;
            cum += amt[l];
            if (cum >= need) {
                p = px[l];
                break;
            }
        }
    }
    if (side > 0)
        return floor_pos(min_d(p, w->bound_px) * inv_tick + 1e-9) * tick;
    return ceil_pos(max_d(p, w->bound_px) * inv_tick - 1e-9) * tick;
}

/* Rounds the continuous split q_coin to whole lots and minimum amounts, then places what rounding left over, a
 * step (a lot, or a venue's first order) at a time: the cheapest step at the margin that does not overshoot, and
 * last the step that lands closest to the target. The total then misses the target by at most half the smallest
 * step that has room. Writes amounts in venue units and coins; returns the coins placed. */
static double round_split(const ht_opt_underlying *ul, const venue_view *w, const double *q_coin, double target_coin,
                          double *amount, double *coins)
{
    uint32_t n = ul->n_venues;
    double placed = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        amount[i] = coins[i] = 0.0;
        if (!w[i].usable || !(q_coin[i] > 0.0))
            continue;
        double a = q_coin[i] * w[i].conv;
        if (ul->inv_lot[i] > 0.0)
            a = floor_pos(a * ul->inv_lot[i] + 1e-9) * ul->venues[i].lot_amount;
        if (a < ul->venues[i].min_amount * (1.0 - 1e-12))
            continue;
        amount[i] = a;
        coins[i] = a / w[i].conv;
        placed += coins[i];
    }
    for (uint32_t iter = 0; iter < 4 * HT_OPT_MAX_VENUES + 8; iter++) {
        double remaining = target_coin - placed;
        uint32_t cheapest = n, closest = n;
        double cheapest_cost = INFINITY, cheapest_step = 0.0, closest_miss = remaining, closest_step = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            if (!w[i].usable)
                continue;
            double room = w[i].cost.cap_coin - coins[i];
            double step;
            if (w[i].lot_coin > 0.0)
                step = amount[i] > 0.0 ? w[i].lot_coin : w[i].first_coin;
            else
                step = amount[i] > 0.0 || min_d(remaining, room) >= w[i].first_coin ? min_d(remaining, room) : 0.0;
            if (!(step > 0.0) || step > room * (1.0 + 1e-12))
                continue;
            if (step <= remaining * (1.0 + 1e-12)) {
                double mc = w[i].cost.a_usd_per_coin +
                            (w[i].cost.b_usd_per_coin > 0.0 ? w[i].cost.b_usd_per_coin * sqrt(coins[i] + step) : 0.0);
                if (mc < cheapest_cost) {
                    cheapest_cost = mc;
                    cheapest = i;
                    cheapest_step = step;
                }
            } else if (fabs(remaining - step) < closest_miss) {
                closest_miss = fabs(remaining - step);
                closest = i;
                closest_step = step;
            }
        }
        uint32_t pick = cheapest < n ? cheapest : closest;
        if (pick == n)
            break;
        double step = cheapest < n ? cheapest_step : closest_step;
        amount[pick] += step * w[pick].conv;
        coins[pick] += step;
        placed += step;
        if (cheapest == n)
            break; /* an overshooting step is the last one */
    }
    return placed;
}

/* The band to hand back when no order goes out: the rule's band, widened to hold the current net delta. */
static void finish_without_trade(ht_opt_decision *out, ht_opt_reason reason, double lo, double hi, double eff)
{
    out->reason = reason;
    out->band_lo_coin = lo;
    out->band_hi_coin = hi;
    band_hold(&out->band_lo_coin, &out->band_hi_coin, eff);
    out->target_delta_coin = eff;
}

/* What one decision carries from step to step: its inputs, the cost model's terms, the band and the trade as they
 * are worked out. It lives on the caller's stack (the decision allocates nothing); the steps take it by pointer. */
typedef struct decision_ctx {
    const ht_opt_config *cfg;
    ht_opt_underlying *ul;
    const ht_opt_strategy *s;
    const ht_opt_rule_traits *rule;
    const ht_opt_event *ev;
    const ht_opt_quote *quotes;
    uint32_t nv;
    double spot;
    double eff;             /* net delta with the orders in flight: what the band must hold */
    double impact_sigma;    /* sigma over the impact horizon */
    double adverse_frac;    /* the adverse move over the latency, a fraction of the price */
    uint32_t measured_venue; /* a depth the cost step measured (venue, side), reused by that venue's view */
    int measured_side;
    double measured_depth;
    double k;               /* the proportional cost the band formulas use */
    double centre, half_width;
    double lo, hi;          /* the band handed back */
    bool outside;           /* eff is outside [centre - half_width, centre + half_width] */
    double trade;           /* signed coins to trade */
    int side;               /* +1 buy, -1 sell */
    double min_trade;       /* smallest trade worth sending, coins */
    uint32_t max_orders;    /* child orders the rate limit allows */
} decision_ctx;

/* Cost step: the proportional cost k the band formulas use. Unless the strategy sets its own, it is the cheapest
 * venue's fee + half-spread + adverse move; a cost-driven rule adds the impact and the fixed cost of a band-sized
 * trade there (the band this underlying's previous decision computed, or a timed rule's expected move over its
 * interval: a fixed-point step per decision, as the band moves slowly); docs: "k". The depth measured for the
 * impact is kept for the venue view of that side. */
static void decide_cost(const ht_opt *opt, decision_ctx *c, const venue_top *tops, double sigma)
{
    const ht_opt_config *cfg = c->cfg;
    const ht_opt_underlying *ul = c->ul;
    const uint32_t nv = c->nv;
    c->measured_venue = nv;
    c->measured_side = 0;
    c->measured_depth = -1.0;
    double k = c->s->cost_override;
    if (!(k > 0.0)) {
        double k0 = INFINITY;
        uint32_t best = nv;
        for (uint32_t i = 0; i < nv; i++) {
            const venue_top *t = &tops[i];
            if (!(t->mid > 0.0))
                continue;
            double ki = ul->venues[i].taker_fee + t->spread_frac + c->adverse_frac;
            if (ki < k0) {
                k0 = ki;
                best = i;
            }
        }
        k = best < nv ? max_d(k0, 0.0) : 0.0;
        double size = c->rule->timed
                          ? fabs(c->ev->net_gamma) * c->spot * sigma * opt->ul_sqrt_interval_years[c->ev->underlying]
                          : ul->last_half_width;
        if (best < nv && c->rule->cost_driven && size > 0.0 && size < HT_OPT_WIDE_BAND_COIN &&
            (cfg->impact_y > 0.0 || cfg->fixed_cost_usd > 0.0)) {
            const ht_opt_venue *v = &ul->venues[best];
            int side = c->eff > 0.0 ? -1 : 1;
            double bound = side > 0 ? tops[best].ref * (1.0 + v->collar_frac) : tops[best].ref * (1.0 - v->collar_frac);
            double depth = cfg->impact_y > 0.0 ? depth_in_collar(v, &c->quotes[best], side, bound) : 0.0;
            if (cfg->impact_y > 0.0) {
                c->measured_venue = best;
                c->measured_side = side;
                c->measured_depth = depth;
            }
            if (depth > 0.0 && depth < INFINITY)
                k += cfg->impact_y * c->impact_sigma * sqrt(size / depth);
            k += cfg->fixed_cost_usd / (c->spot * size);
        }
    }
    c->k = k;
}

/* Band step: the rule's centre and half-width at cost k, handed back as [lo, hi]; MOVE's band once it has hedged
 * is the spot range around the last hedge in net-delta terms. A timed rule's next timer is set here (it holds
 * whether or not a hedge goes out). Returns -1 with err set when the formula overflowed (nothing usable). */
static int decide_band(decision_ctx *c, const ht_opt_book *book, ht_opt_decision *out, ht_error *err)
{
    const ht_opt_strategy *s = c->s;
    const ht_opt_event *ev = c->ev;
    const ht_opt_underlying *ul = c->ul;
    double hedge_vol;
    rule_band(s, ev, book, c->k, &c->centre, &c->half_width, &hedge_vol);
    if (HT_UNLIKELY(!isfinite(c->centre) || !isfinite(c->half_width) || !isfinite(c->k))) {
        ht_error_set(err, "band: the %s formula overflowed (k %g, gamma %g, spot %g, vanna %g)", c->rule->label, c->k,
                     ev->net_gamma, c->spot, book->vanna);
        return -1;
    }
    out->k_eff = c->k;
    out->centre_coin = c->centre;
    out->half_width_coin = c->half_width;
    c->ul->last_half_width = c->half_width;
    out->hedge_vol = hedge_vol;
    c->lo = c->centre - c->half_width;
    c->hi = c->centre + c->half_width;
    if (s->rule == HT_OPT_RULE_MOVE && ul->hedged_once) {
        /* The spot range [ref (1 - H), ref (1 + H)] in net-delta terms at today's gamma. */
        double a = c->eff + ev->net_gamma * (ul->ref_spot * (1.0 - s->param) - c->spot);
        double b = c->eff + ev->net_gamma * (ul->ref_spot * (1.0 + s->param) - c->spot);
        c->lo = min_d(a, b);
        c->hi = max_d(a, b);
        if (c->hi - c->lo < 2.0 * s->min_half_width_coin) {
            double mid = 0.5 * (c->lo + c->hi);
            c->lo = mid - s->min_half_width_coin;
            c->hi = mid + s->min_half_width_coin;
        }
    }
    if (c->rule->timed)
        out->next_timer_ns = ul->hedged_once ? ul->last_hedge_ns + s->interval_ns : ev->now_ns;
    return 0;
}

/* Due step: is a hedge due? A timed rule on its timer, on its first decision, or outside its (safety) band; MOVE
 * on its first decision or once the spot has moved by its parameter since the last hedge; a band rule when the net
 * delta is outside the band. */
static bool decide_due(decision_ctx *c)
{
    const ht_opt_underlying *ul = c->ul;
    c->outside = c->eff < c->centre - c->half_width || c->eff > c->centre + c->half_width;
    if (c->rule->timed)
        return c->ev->trigger == HT_OPT_TRIGGER_TIMER || !ul->hedged_once || c->outside;
    if (c->s->rule == HT_OPT_RULE_MOVE)
        return !ul->hedged_once || fabs(c->spot / ul->ref_spot - 1.0) >= c->s->param;
    return c->outside;
}

/* Target step: where the hedge takes the net delta (the edge under proportional costs, the centre under a fixed
 * cost per order, or in between; a timed rule always to the centre) and so the trade and its side. */
static void decide_target(decision_ctx *c)
{
    const ht_opt_strategy *s = c->s;
    double dir = c->eff > c->centre ? 1.0 : -1.0;
    ht_opt_target target_kind = s->target;
    if (target_kind == HT_OPT_TARGET_AUTO)
        target_kind = c->cfg->fixed_cost_usd > 0.0 ? HT_OPT_TARGET_CENTRE : HT_OPT_TARGET_EDGE;
    double target = c->centre;
    if (!c->rule->timed) {
        if (target_kind == HT_OPT_TARGET_EDGE)
            target = c->outside ? c->centre + dir * c->half_width : c->eff;
        else if (target_kind == HT_OPT_TARGET_INNER)
            target = c->centre + dir * s->inner_fraction * c->half_width;
    }
    c->trade = target - c->eff;
    c->side = c->trade > 0.0 ? 1 : -1;
}

/* Marks a hedge as done for the rule's schedule: the time and spot of the last hedge. */
static void record_hedge(ht_opt_underlying *ul, const ht_opt_event *ev)
{
    ul->hedged_once = true;
    ul->last_hedge_ns = ev->now_ns;
    ul->ref_spot = ev->spot;
}

/* Size step: each venue's view from the trade's side, and the minimum size (the configured minimum hedge or the
 * smallest order a usable venue takes). A trade below it is raised to it when the centre is that far, else the
 * decision ends without a trade (for a scheduled rule the rebalance still counts as done: nothing was worth
 * sending). Returns true when the decision is finished in out. */
static bool decide_size(decision_ctx *c, const venue_top *tops, venue_view *views, ht_opt_decision *out)
{
    const ht_opt_config *cfg = c->cfg;
    const ht_opt_event *ev = c->ev;
    ht_opt_underlying *ul = c->ul;
    const uint32_t nv = c->nv;
    for (uint32_t i = 0; i < nv; i++)
        view_venue(&ul->venues[i], ul->first_amount[i], &c->quotes[i], &tops[i], c->side,
                   i == c->measured_venue && c->side == c->measured_side ? c->measured_depth : -1.0,
                   c->impact_sigma, c->adverse_frac, cfg->impact_y, &views[i]);
    double min_trade = INFINITY;
    for (uint32_t i = 0; i < nv; i++)
        if (views[i].usable)
            min_trade = min_d(min_trade, views[i].first_coin);
    if (!isfinite(min_trade)) {
        finish_without_trade(out, HT_OPT_NO_LIQUIDITY, c->lo, c->hi, c->eff);
        out->next_timer_ns = ev->now_ns + cfg->retry_ns;
        return true;
    }
    min_trade = max_d(min_trade, cfg->min_hedge_coin);
    c->min_trade = min_trade;
    if (fabs(c->trade) < min_trade || c->trade == 0.0) {
        if (min_trade > 0.0 && fabs(c->centre - c->eff) >= min_trade) {
            c->trade = c->side * min_trade;
        } else {
            if (c->rule->scheduled) { /* the rebalance happened, with nothing worth sending */
                record_hedge(ul, ev);
                if (c->rule->timed)
                    out->next_timer_ns = ev->now_ns + c->s->interval_ns;
            }
            finish_without_trade(out, c->trade == 0.0 ? HT_OPT_INSIDE_BAND : HT_OPT_BELOW_MIN_HEDGE, c->lo, c->hi,
                                 c->eff);
            return true;
        }
    }
    return false;
}

/* Rate-limit step: the minimum interval between hedges, then the token bucket, refilled to now, which also caps
 * the number of child orders. Returns true (the decision finished as RATE_LIMITED, with the time a retry can
 * pass) when either holds the hedge back. */
static bool decide_rate_limit(decision_ctx *c, ht_opt_decision *out)
{
    const ht_opt_config *cfg = c->cfg;
    const ht_opt_event *ev = c->ev;
    ht_opt_underlying *ul = c->ul;
    c->max_orders = c->nv;
    if (cfg->min_interval_ns > 0 && ul->hedged_once && ev->now_ns - ul->last_hedge_ns < cfg->min_interval_ns) {
        finish_without_trade(out, HT_OPT_RATE_LIMITED, c->lo, c->hi, c->eff);
        out->next_timer_ns = ul->last_hedge_ns + cfg->min_interval_ns;
        return true;
    }
    if (cfg->max_orders_per_s > 0.0) {
        if (ul->tokens_valid && ev->now_ns > ul->tokens_ns)
            ul->tokens = min_d(cfg->burst_orders,
                               ul->tokens + (double)(ev->now_ns - ul->tokens_ns) * 1e-9 * cfg->max_orders_per_s);
        ul->tokens_ns = ev->now_ns;
        ul->tokens_valid = true;
        if (ul->tokens < 1.0) {
            finish_without_trade(out, HT_OPT_RATE_LIMITED, c->lo, c->hi, c->eff);
            /* +1 ns so that the refill at that time reaches a whole token despite rounding */
            double wait_ns = min_d(ceil((1.0 - ul->tokens) / cfg->max_orders_per_s * 1e9) + 1.0, 1e17);
            out->next_timer_ns = ev->now_ns + (int64_t)wait_ns;
            return true;
        }
        c->max_orders = (uint32_t)min_d((double)c->nv, floor_pos(ul->tokens));
    }
    return false;
}

/* The margin a coin of the trade adds on venue i, as a rank ([ht_opt_config] prefer_lower_margin): -1 when the
 * trade reduces the venue's position (it frees margin), else Deribit's maintenance rate of a future (inverse 1.5 %,
 * linear 1 %: docs/margin.md). */
static double margin_rank(const decision_ctx *c, uint32_t i)
{
    const double pos = c->quotes[i].position_amount;
    if ((c->side > 0 && pos < 0.0) || (c->side < 0 && pos > 0.0))
        return -1.0;
    return c->ul->venues[i].contract == HT_OPT_INVERSE ? 0.015 : 0.01;
}

/* Split step: the trade over the venues at equal marginal cost; when that uses more venues than max_orders, the
 * smallest shares are dropped (their caps set to 0 in the views too, for the rounding) and the rest split again;
 * then whole lots and minimums. Writes each venue's amount (venue units) and coins; returns the coins placed, or 0
 * when nothing could be placed, with the decision finished in out (NO_LIQUIDITY when the venues' room is short of
 * the minimum trade, else BELOW_MIN_HEDGE). */
static double decide_split(decision_ctx *c, venue_view *w, ht_opt_decision *out, double *amount, double *coins)
{
    const uint32_t nv = c->nv;
    ht_opt_venue_cost costs[HT_OPT_MAX_VENUES];
    double q[HT_OPT_MAX_VENUES];
    double rank[HT_OPT_MAX_VENUES];
    const double *ranks = c->cfg->prefer_lower_margin ? rank : NULL;
    for (uint32_t i = 0; i < nv; i++) {
        costs[i] = w[i].cost;
        rank[i] = ranks ? margin_rank(c, i) : 0.0;
    }
    double want = fabs(c->trade);
    ht_opt_split_ranked(costs, ranks, nv, want, q);
    uint32_t used = 0;
    for (uint32_t i = 0; i < nv; i++)
        used += q[i] > 0.0;
    if (used > c->max_orders) {
        for (uint32_t drop = used - c->max_orders; drop > 0; drop--) {
            uint32_t smallest = nv;
            for (uint32_t i = 0; i < nv; i++)
                if (q[i] > 0.0 && costs[i].cap_coin > 0.0 &&
                    (smallest == nv || q[i] < q[smallest] || (q[i] == q[smallest] && rank[i] > rank[smallest])))
                    smallest = i;
            costs[smallest].cap_coin = 0.0;
            q[smallest] = 0.0;
        }
        ht_opt_split_ranked(costs, ranks, nv, want, q);
        for (uint32_t i = 0; i < nv; i++)
            w[i].cost.cap_coin = costs[i].cap_coin;
    }
    double placed = round_split(c->ul, w, q, want, amount, coins);
    if (!(placed > 0.0)) {
        double total_cap = 0.0;
        for (uint32_t i = 0; i < nv; i++)
            total_cap += w[i].usable ? w[i].cost.cap_coin : 0.0;
        bool no_room = total_cap < c->min_trade * (1.0 - 1e-12);
        finish_without_trade(out, no_room ? HT_OPT_NO_LIQUIDITY : HT_OPT_BELOW_MIN_HEDGE, c->lo, c->hi, c->eff);
        if (no_room)
            out->next_timer_ns = c->ev->now_ns + c->cfg->retry_ns;
        return 0.0;
    }
    return placed;
}

/* Orders step: one IOC child order per venue with an amount (contracts, limit inside the collar on the tick grid,
 * delta and expected cost), and their sums. Returns -1 with err set, and no order, when a quote made a number of
 * an order overflow. */
static int decide_orders(const decision_ctx *c, const venue_view *w, const double *amount, const double *coins,
                         ht_opt_decision *out, ht_error *err)
{
    const ht_opt_underlying *ul = c->ul;
    const int side = c->side;
    double cost_sum = 0.0, delta_sum = 0.0;
    uint32_t n_orders = 0;
    for (uint32_t i = 0; i < c->nv; i++) {
        if (!(amount[i] > 0.0))
            continue;
        const ht_opt_venue *v = &ul->venues[i];
        ht_opt_order *o = &out->orders[n_orders++];
        double coin = coins[i];
        o->venue = (uint8_t)i;
        o->side = (int8_t)side;
        o->amount = amount[i];
        ht_contract contract = {v->contract == HT_OPT_INVERSE ? HT_CONTRACT_INVERSE : HT_CONTRACT_LINEAR,
                                v->contract_size};
        o->contracts = ht_units_amount_to_contracts(&contract, amount[i]);
        o->ref_px = w[i].ref_px;
        o->limit_px = limit_price(&c->quotes[i], side, &w[i], ul->inv_tick[i], ul->tick[i], amount[i]);
        o->delta_coin = side * coin;
        o->expected_cost_usd = w[i].cost.a_usd_per_coin * coin +
                               (2.0 / 3.0) * w[i].cost.b_usd_per_coin * coin * sqrt(coin) + c->cfg->fixed_cost_usd;
        cost_sum += o->expected_cost_usd;
        delta_sum += o->delta_coin;
        if (HT_UNLIKELY(!isfinite(o->amount) || !isfinite(o->limit_px) || !isfinite(o->delta_coin))) {
            out->n_orders = 0; /* a quote made a number overflow: send nothing */
            out->band_lo_coin = out->band_hi_coin = NAN;
            out->reason = HT_OPT_BAD_INPUT;
            return ht_error_set(err, "venue %s: an order came out non-finite (amount %g, limit %g): check its quote",
                                v->instrument, o->amount, o->limit_px);
        }
    }
    out->n_orders = n_orders;
    out->trade_delta_coin = delta_sum;
    out->expected_cost_usd = cost_sum;
    return 0;
}

/* After the orders: the reason (partial when the split fell short by over half the minimum trade), the state the
 * next decisions start from (last hedge, spot, tokens spent), the band around the net delta the orders leave
 * (MOVE: its spot range re-centred there) and the next timer (a timed rule's next rebalance, or a retry soon after
 * a partial hedge). */
static void finish_with_trade(decision_ctx *c, double placed, ht_opt_decision *out)
{
    const ht_opt_config *cfg = c->cfg;
    const ht_opt_event *ev = c->ev;
    const ht_opt_strategy *s = c->s;
    ht_opt_underlying *ul = c->ul;
    double want = fabs(c->trade);
    out->target_delta_coin = c->eff + c->trade;
    bool partial = placed < want - 0.5 * c->min_trade;
    out->reason = partial ? HT_OPT_HEDGED_PARTIAL : HT_OPT_HEDGED;

    record_hedge(ul, ev);
    if (cfg->max_orders_per_s > 0.0)
        ul->tokens -= (double)out->n_orders;

    double after = c->eff + out->trade_delta_coin;
    if (s->rule == HT_OPT_RULE_MOVE) {
        double h = max_d(fabs(ev->net_gamma) * c->spot * s->param, s->min_half_width_coin);
        c->lo = after - h;
        c->hi = after + h;
    }
    out->band_lo_coin = c->lo;
    out->band_hi_coin = c->hi;
    band_hold(&out->band_lo_coin, &out->band_hi_coin, after);
    if (c->rule->timed)
        out->next_timer_ns = ev->now_ns + s->interval_ns;
    if (partial)
        out->next_timer_ns = ev->now_ns + cfg->retry_ns;
}

/* Clears a decision to "bad input, nothing known" before the steps fill it. */
static void decision_clear(ht_opt_decision *out)
{
    out->reason = HT_OPT_BAD_INPUT;
    out->n_orders = 0;
    out->band_lo_coin = out->band_hi_coin = NAN;
    out->centre_coin = out->half_width_coin = out->hedge_vol = out->k_eff = NAN;
    out->target_delta_coin = NAN;
    out->trade_delta_coin = 0.0;
    out->expected_cost_usd = 0.0;
    out->next_timer_ns = 0;
}

/* The decision in named steps: cost (k), band, due, target, size, rate limit, split, orders. A step that settles
 * the decision without a trade fills out and the decision returns there. */
int ht_opt_decide(ht_opt *opt, const ht_opt_event *ev, const ht_opt_book *book, const ht_opt_quote *quotes,
                  ht_opt_decision *out, ht_error *err)
{
    decision_clear(out);
    if (HT_UNLIKELY(!valid_input(opt, ev, book, quotes, err)))
        return -1;

    venue_top tops[HT_OPT_MAX_VENUES];
    venue_view views[HT_OPT_MAX_VENUES];
    decision_ctx c;
    c.cfg = &opt->cfg;
    c.ul = &opt->ul[ev->underlying];
    c.s = &c.ul->strategy;
    c.rule = &g_rule_traits[c.s->rule];
    c.ev = ev;
    c.quotes = quotes;
    c.nv = c.ul->n_venues;
    c.spot = ev->spot;
    c.eff = ev->net_delta_coin + ev->inflight_delta_coin;
    /* Cost model inputs: sigma over the impact horizon and the adverse move over the latency. */
    double sigma = book->realised_vol > 0.0 ? book->realised_vol : book->vol;
    c.impact_sigma = sigma * opt->sqrt_horizon_years;
    c.adverse_frac = c.cfg->adverse_coef * sigma * opt->sqrt_latency_years;
    for (uint32_t i = 0; i < c.nv; i++)
        read_top(&quotes[i], c.spot, &tops[i]);

    decide_cost(opt, &c, tops, sigma);
    if (HT_UNLIKELY(decide_band(&c, book, out, err) != 0))
        return -1;
    if (!decide_due(&c)) {
        finish_without_trade(out, c.rule->scheduled ? HT_OPT_NOT_DUE : HT_OPT_INSIDE_BAND, c.lo, c.hi, c.eff);
        return 0;
    }
    decide_target(&c);
    if (decide_size(&c, tops, views, out) || decide_rate_limit(&c, out))
        return 0;
    double amount[HT_OPT_MAX_VENUES], coins[HT_OPT_MAX_VENUES];
    double placed = decide_split(&c, views, out, amount, coins);
    if (!(placed > 0.0))
        return 0;
    if (HT_UNLIKELY(decide_orders(&c, views, amount, coins, out, err) != 0))
        return -1;
    finish_with_trade(&c, placed, out);
    return 0;
}

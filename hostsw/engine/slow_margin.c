/* SPDX-License-Identifier: MIT */
/* The engine's slow half, the book's margin: Deribit's margin of the book (hedgetrig/margin.h, [margin] model)
 * after every greeks refresh and every fill, per underlying in its coin, and its ratio over the equity the venue
 * reports in that coin (else [margin] equity_coin): the status line, the counters, the Prometheus file and the
 * report show it (docs/margin.md, docs/deployment.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slow_priv.h"

/* Room for every greeks result in s->margin_pos. False when memory is short. */
static bool reserve(slow_half *s, size_t count)
{
    if (count <= s->margin_cap)
        return true;
    ht_margin_position *grown = realloc(s->margin_pos, count * sizeof *grown);
    if (!grown)
        return false;
    s->margin_pos = grown;
    s->margin_cap = count;
    return true;
}

/* The equity of underlying u's coin: the venue's when it reports in that coin, else [margin] equity_coin for the
 * first underlying; NaN when neither. *venue_mm gets the venue's maintenance margin in that coin (or NaN). */
static double equity_of(const slow_half *s, unsigned u, const char *base, double *venue_mm)
{
    const ht_engine_report *r = &s->rep;
    *venue_mm = NAN;
    if (r->have_account && strcasecmp(r->account.currency, base) == 0 && !s->e->cfg.margin_venue_equity_off) {
        *venue_mm = r->account.maintenance_margin;
        if (isfinite(r->account.equity) && r->account.equity > 0.0)
            return r->account.equity;
    }
    if (u == 0 && s->e->cfg.margin_equity_coin > 0.0)
        return s->e->cfg.margin_equity_coin;
    return NAN;
}

/* ---- Between computations: the per-tick estimate ------------------------------------------------------------ */

#define LIVE_SPOT_STEP 0.05   /* the relative spot move the margin's slope and curvature are measured over */
#define LIVE_VOL_STEP 0.05    /* the parallel vol rise its vol slope is measured over (5 vol points) */
#define LIVE_MAX_UP 5.0       /* the distance searched: +500 %, -95 %, +500 vol points (as hedgetrig margin) */
#define LIVE_MAX_DOWN 0.95
#define LIVE_MAX_VOL 5.0
#define BAND_STEPS 20.0       /* the margin-aware band's fraction moves in twentieths of its range */
#define FLATTEN_FRACTION 1e-9 /* the band's fraction at flatten_ratio: the band collapses onto its centre */

/* The margin's slope and curvature in the spot and its slope in the vol, by revaluation at +-LIVE_SPOT_STEP and
 * +LIVE_VOL_STEP, into ml (a failure leaves them 0: the estimate then holds the margin as computed). */
static void live_slopes(slow_half *s, size_t n, const ht_margin_params *p, struct margin_live *ml)
{
    ht_margin_account up, down, vol;
    ht_error err;
    const ht_margin_shift su = {LIVE_SPOT_STEP, 0.0}, sd = {-LIVE_SPOT_STEP, 0.0}, sv = {0.0, LIVE_VOL_STEP};
    ml->mm_slope = ml->mm_curve = ml->mm_per_vol = ml->pnl_per_vol = 0.0;
    const ht_margin_model model = s->e->cfg.margin_model;
    if (ht_margin_account_compute(model, p, s->margin_pos, n, &su, NULL, &up, &err) != 0 ||
        ht_margin_account_compute(model, p, s->margin_pos, n, &sd, NULL, &down, &err) != 0 ||
        ht_margin_account_compute(model, p, s->margin_pos, n, &sv, NULL, &vol, &err) != 0)
        return;
    const double h = LIVE_SPOT_STEP;
    ml->mm_slope = (up.maintenance_total_coin - down.maintenance_total_coin) / (2.0 * h);
    ml->mm_curve = (up.maintenance_total_coin - 2.0 * ml->mm0 + down.maintenance_total_coin) / (h * h);
    ml->mm_per_vol = (vol.maintenance_total_coin - ml->mm0) / LIVE_VOL_STEP;
    ml->pnl_per_vol = vol.pnl_total_coin / LIVE_VOL_STEP;
}

/* The roots of c0 + c1 y + c2 y^2 / 2 = 0 nearest 0 on each side: *up the smallest in (0, max_up], *down the
 * largest in [-max_down, 0) (NaN where there is none). */
static void quadratic_roots(double c0, double c1, double c2, double *up, double *down)
{
    double r[2] = {NAN, NAN};
    if (fabs(c2) < 1e-12 * (fabs(c1) + fabs(c0) + 1e-300)) {
        if (c1 != 0.0)
            r[0] = -c0 / c1;
    } else {
        double disc = c1 * c1 - 2.0 * c2 * c0;
        if (disc >= 0.0) {
            r[0] = (-c1 + sqrt(disc)) / c2;
            r[1] = (-c1 - sqrt(disc)) / c2;
        }
    }
    *up = *down = NAN;
    for (int k = 0; k < 2; k++) {
        if (r[k] > 0.0 && r[k] <= LIVE_MAX_UP && !(r[k] >= *up))
            *up = r[k];
        if (r[k] < 0.0 && r[k] >= -LIVE_MAX_DOWN && !(r[k] <= *down))
            *down = r[k];
    }
}

/* The margin-aware band's fraction at a ratio ([margin] band_narrow_*; 1 when off or below band_narrow_from). */
static double band_fraction_at(const ht_engine_config *c, double ratio)
{
    if (!(c->margin_band_narrow_to > 0.0) || !(ratio > c->margin_band_narrow_from))
        return 1.0;
    double q = (ratio - c->margin_band_narrow_from) / (c->margin_band_narrow_to - c->margin_band_narrow_from);
    q = q >= 1.0 ? 1.0 : floor(q * BAND_STEPS) / BAND_STEPS;
    return 1.0 - (1.0 - c->margin_band_min_fraction) * q;
}

/* Moves underlying u's estimate to spot: the equity by the net delta's P&L since the previous tick (trapezoid on
 * net delta / spot, the coin P&L's derivative in the spot), the maintenance margin along its quadratic, the ratio
 * and the distances (the shortfall MM - equity as a quadratic in the relative move y from here: the margin's
 * slope and curvature, the P&L's nd y + (gamma S - nd) y^2 / 2), the band's fraction. */
static void live_estimate(slow_half *s, unsigned u, double spot)
{
    struct margin_live *ml = &s->mlive[u];
    ht_engine_margin *m = &s->rep.margin[u];
    double gamma;
    const double nd = slow_net_delta_at(s, u, spot, &gamma);
    if (ml->have_last)
        ml->pnl_coin += 0.5 * (ml->last_nd_per_usd + nd / spot) * (spot - ml->last_spot);
    const double vol_move = ht_greeks_underlying_at(s->greeks, u)->vol_move;
    const double dvol = isfinite(vol_move) ? vol_move - ml->vol_move0 : 0.0;
    if (ml->have_last && isfinite(vol_move))
        ml->pnl_coin += ml->pnl_per_vol * (vol_move - ml->last_vol_move);
    ml->last_vol_move = isfinite(vol_move) ? vol_move : ml->last_vol_move;
    ml->last_spot = spot;
    ml->last_nd_per_usd = nd / spot;
    ml->have_last = true;
    const double x = spot / ml->s0 - 1.0, r = spot / ml->s0;
    const double mm =
        fmax(ml->mm0 + ml->mm_slope * x + 0.5 * ml->mm_curve * x * x + ml->mm_per_vol * dvol, 0.0);
    const double equity = ml->equity_base + ml->pnl_coin;
    m->live_maintenance_coin = mm;
    m->live_equity_coin = equity;
    m->live_ratio = equity > 0.0 ? mm / equity : isfinite(equity) ? INFINITY : NAN;
    const ht_engine_report *rep = &s->rep;
    m->live_venue_difference_coin = rep->have_account && strcasecmp(rep->account.currency, m->base) == 0
                                        ? mm - rep->account.maintenance_margin
                                        : NAN;
    m->band_fraction = band_fraction_at(&s->e->cfg, m->live_ratio);
    m->live_updates++;
    const double c0 = mm - equity;
    if (!isfinite(c0)) {
        m->liquidation_spot_up = m->liquidation_spot_down = m->liquidation_vol_up = NAN;
        return;
    }
    if (c0 >= 0.0) {
        m->liquidation_spot_up = m->liquidation_spot_down = m->liquidation_vol_up = 0.0;
        return;
    }
    const double c1 = (ml->mm_slope + ml->mm_curve * x) * r - nd;
    const double c2 = ml->mm_curve * r * r - (gamma * spot - nd);
    quadratic_roots(c0, c1, c2, &m->liquidation_spot_up, &m->liquidation_spot_down);
    const double per_vol = ml->mm_per_vol - ml->pnl_per_vol;
    m->liquidation_vol_up = per_vol > 0.0 && -c0 / per_vol <= LIVE_MAX_VOL ? -c0 / per_vol : NAN;
}

/* A computation of u's margin (mm0 in rep.margin[u]) becomes the estimate's origin: its slopes, the equity (a new
 * one restarts the P&L), and the estimate at u's spot now. */
static void live_from_compute(slow_half *s, unsigned u, size_t n, const ht_margin_params *p, double s0)
{
    struct margin_live *ml = &s->mlive[u];
    const ht_engine_margin *m = &s->rep.margin[u];
    if (!isfinite(m->maintenance_coin) || !(s0 > 0.0))
        return;
    ml->s0 = s0;
    ml->mm0 = m->maintenance_coin;
    const double vol_move = ht_greeks_underlying_at(s->greeks, u)->vol_move;
    ml->vol_move0 = ml->last_vol_move = isfinite(vol_move) ? vol_move : 0.0;
    live_slopes(s, n, p, ml);
    if (isfinite(m->equity_coin) && m->equity_coin != ml->equity_base) {
        ml->equity_base = m->equity_coin;
        ml->pnl_coin = 0.0;
        ml->have_last = false;
    }
    ml->have = isfinite(ml->equity_base) && ml->equity_base > 0.0;
    const double spot = s->under[u].spot;
    if (ml->have)
        live_estimate(s, u, isfinite(spot) && spot > 0.0 ? spot : s0);
}

/* Underlying u's margin into m from the latest recompute's results (the book's quantities as they are now). */
static void margin_of(slow_half *s, unsigned u, ht_engine_margin *m)
{
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    m->positions = m->excluded = 0; /* the rest is written below; the live figures carry over to the estimate */
    if (!m->live_updates) {
        m->live_maintenance_coin = m->live_equity_coin = m->live_ratio = m->live_venue_difference_coin = NAN;
        m->live_ratio_max = NAN;
        m->liquidation_spot_up = m->liquidation_spot_down = m->liquidation_vol_up = NAN;
        m->band_fraction = 1.0;
    }
    snprintf(m->base, sizeof m->base, "%s", g->base);
    size_t n = 0;
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        if (r->underlying != u)
            continue;
        if (!HT_GREEKS_USABLE(r)) {
            m->excluded++;
            continue;
        }
        s->margin_pos[n++] = (ht_margin_position){&r->pos->spec, r->pos->qty_contracts, r->mark, r->forward,
                                                  r->index_price, r->iv, r->t_years};
    }
    m->positions = n;
    ht_margin_params p;
    ht_margin_params_default(&p);
    ht_margin_account a;
    s->mlive[u].have = false;
    ht_error err;
    m->initial_coin = m->maintenance_coin = m->equity_coin = m->ratio = m->venue_difference_coin = NAN;
    if (ht_margin_account_compute(s->e->cfg.margin_model, &p, s->margin_pos, n, NULL, NULL, &a, &err) != 0) {
        slow_log_info(s, "margin", (int)u, "not computed: %s", err.msg);
        return;
    }
    m->initial_coin = a.initial_total_coin;
    m->maintenance_coin = a.maintenance_total_coin;
    double venue_mm;
    m->equity_coin = equity_of(s, u, g->base, &venue_mm);
    m->ratio = m->maintenance_coin / m->equity_coin;
    m->venue_difference_coin = m->maintenance_coin - venue_mm;
    live_from_compute(s, u, n, &p, g->s0);
}

void slow_margin_update(slow_half *s)
{
    if (!s->e->cfg.margin_on || !s->greeks)
        return;
    if (!reserve(s, ht_greeks_result_count(s->greeks) + 1)) {
        slow_log_info(s, "margin", -1, "not computed: out of memory");
        return;
    }
    const unsigned nu = ht_greeks_underlying_count(s->greeks);
    for (unsigned u = 0; u < nu && u < HT_GREEKS_MAX_UNDERLYINGS; u++)
        margin_of(s, u, &s->rep.margin[u]);
    s->rep.margin_underlyings = nu;
    s->rep.margin_computes++;
}


/* ---- The margin's levels: the band's fraction, flatten, kill ----------------------------------------------- */

/* The kill switch at [margin] kill_ratio: the venue's (when it has one: its open orders cancelled), no more orders
 * from the engine, and the engine's own orders in flight cancelled. */
static void margin_kill(slow_half *s, unsigned u, const ht_engine_margin *m)
{
    char why[160];
    snprintf(why, sizeof why, "margin ratio %.4g reached [margin] kill_ratio %.4g", m->live_ratio,
             s->e->cfg.margin_kill_ratio);
    s->rep.margin_killed = true;
    slow_log_market(s, "margin_kill", (int)u, s->under[u].spot, slow_net_delta_at(s, u, s->under[u].spot, NULL),
                    s->under[u].band_lo, s->under[u].band_hi, 0, "margin", "%s: kill switch, open orders cancelled",
                    why);
    const ht_venue *v = s->venue;
    if (v && v->ops->kill)
        v->ops->kill(v->ctx, why);
    s->killed = true;
    s->rep.killed = true;
    slow_cancel_pending(s, "margin kill");
}

/* The band's fraction u's optimizer is to use now: the margin-aware band's, or the collapsed band at flatten. */
static double wanted_fraction(const slow_half *s, unsigned u)
{
    if (s->mlive[u].flattening)
        return FLATTEN_FRACTION;
    double f = s->rep.margin[u].band_fraction;
    return f > 0.0 && f < 1.0 ? f : 0.0; /* 0: the optimizer's "not narrowed" */
}

void slow_margin_tick(slow_half *s, unsigned u, double spot)
{
    if (!s->e->cfg.margin_on || u >= HT_GREEKS_MAX_UNDERLYINGS || !s->mlive[u].have || !(spot > 0.0))
        return;
    live_estimate(s, u, spot);
    const ht_engine_config *c = &s->e->cfg;
    ht_engine_margin *m = &s->rep.margin[u];
    if (isnan(m->live_ratio_max) || m->live_ratio > m->live_ratio_max)
        m->live_ratio_max = m->live_ratio; /* at ticks, as the series shows it */
    if (s->margin_series)
        fprintf(s->margin_series, "%.3f,%u,%.10g,%.10g,%.10g,%.10g,%.10g,%.6g,%.6g,%.6g,%.6g,%d,%d\n",
                (double)s->now_ms / 1000.0, u, spot, slow_net_delta_at(s, u, spot, NULL), m->live_maintenance_coin,
                m->live_equity_coin, m->live_ratio, m->liquidation_spot_up, m->liquidation_spot_down,
                m->liquidation_vol_up, m->band_fraction, s->mlive[u].flattening, s->killed);
    if (c->margin_kill_ratio > 0.0 && m->live_ratio >= c->margin_kill_ratio && !s->rep.margin_killed)
        margin_kill(s, u, m);
    struct margin_live *ml = &s->mlive[u];
    const bool flatten = c->margin_flatten_ratio > 0.0 && m->live_ratio >= c->margin_flatten_ratio;
    if (flatten != ml->flattening) {
        ml->flattening = flatten;
        if (flatten)
            s->rep.margin_flattens++;
        slow_log_market(s, flatten ? "margin_flatten" : "margin_flatten_end", (int)u, spot,
                        slow_net_delta_at(s, u, spot, NULL), s->under[u].band_lo, s->under[u].band_hi, 0, "margin",
                        "margin ratio %.4g %s [margin] flatten_ratio %.4g%s", m->live_ratio, flatten ? ">=" : "<",
                        c->margin_flatten_ratio, flatten ? ": the net delta to the centre, orders that raise it refused" : "");
    }
}

bool slow_margin_act(slow_half *s, unsigned u)
{
    if (!s->e->cfg.margin_on || u >= HT_GREEKS_MAX_UNDERLYINGS || !s->mlive[u].have || slow_stopped(s))
        return false;
    under_state *us = &s->under[u];
    const double f = wanted_fraction(s, u);
    if (f == us->opt_book.band_scale)
        return false;
    slow_log_market(s, "margin_band", (int)u, us->spot, slow_net_delta_at(s, u, us->spot, NULL), us->band_lo,
                    us->band_hi, 0, "margin", "margin ratio %.4g: the band's fraction %.4g (was %.4g)",
                    s->rep.margin[u].live_ratio, f > 0.0 ? f : 1.0,
                    us->opt_book.band_scale > 0.0 ? us->opt_book.band_scale : 1.0);
    us->opt_book.band_scale = f;
    slow_arm_dirty(s, (int)u);
    slow_decide(s, u, HT_OPT_TRIGGER_REFRESH, NULL);
    return us->pending > 0;
}

bool slow_margin_refuses(const slow_half *s, unsigned u, double nd_before, double delta_coin, char *why, size_t len)
{
    if (u >= HT_GREEKS_MAX_UNDERLYINGS || !s->mlive[u].flattening)
        return false;
    if (fabs(nd_before + delta_coin) <= fabs(nd_before) + 1e-12)
        return false;
    snprintf(why, len, "margin ratio %.4g at or above [margin] flatten_ratio %.4g: the order takes |net delta| from "
             "%.6g to %.6g coin, which raises the margin of the moves",
             s->rep.margin[u].live_ratio, s->e->cfg.margin_flatten_ratio, fabs(nd_before), fabs(nd_before + delta_coin));
    return true;
}

/* SPDX-License-Identifier: MIT */
/* Deribit's portfolio margin (the book revalued over the grid of price moves and vol shocks, the worst loss
 * and the contingencies), the account's totals under either model, and the distance to liquidation. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "hedgetrig/margin.h"
#include "margin_priv.h"

#define ALL_POSITIONS SIZE_MAX

void ht_margin_pm_vols(const ht_margin_params *p, double sigma, double t_years, double out[3])
{
    /* Deribit's vol shock grows as expiry nears: (30 / days)^power, the short-term power below 30 days. */
    const double days = fmax(t_years * 365.0, 1e-6);
    const double power = days < 30.0 ? p->pm_short_vega_power : p->pm_long_vega_power;
    const double shock = pow(30.0 / days, power);
    out[0] = fmax(sigma * (1.0 + p->pm_vol_range_up * shock), p->pm_min_vol_shock_up);
    out[1] = sigma;
    out[2] = fmax(sigma * (1.0 - p->pm_vol_range_down * shock), p->min_vol);
}

/* True when position i belongs to the portfolio: its settlement currency, and `only` when one is asked for. */
static bool in_portfolio(const ht_margin_position *pos, size_t i, bool coin, size_t only)
{
    return ht_margin_settles_in_coin(pos[i].spec) == coin && (only == ALL_POSITIONS || only == i);
}

/* The P&L of the portfolio when the market, already moved by base, moves by a further move (fraction) with
 * each option at vol_index's scenario vol (-1: its base vol, vol up only applies to options). */
static double scenario_pnl(const ht_margin_params *p, const ht_margin_position *pos, size_t n, bool coin,
                           size_t only, const ht_margin_shift *base, double move, int vol_index)
{
    const double k0 = 1.0 + base->spot_move_rel;
    const double total_move = k0 * (1.0 + move) - 1.0;
    double pnl = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!in_portfolio(pos, i, coin, only))
            continue;
        const ht_margin_position *q = &pos[i];
        double dv = base->vol_shift;
        if (q->spec->kind == HT_POS_OPTION && vol_index >= 0) {
            double vols[3];
            ht_margin_pm_vols(p, fmax(q->iv + base->vol_shift, p->min_vol), q->t_years, vols);
            dv = vols[vol_index] - q->iv;
        }
        pnl += ht_margin_position_value(q, total_move, dv, p->min_vol) -
               ht_margin_position_value(q, base->spot_move_rel, base->vol_shift, p->min_vol);
    }
    return pnl;
}

/* The grid: 2 n + 1 moves, three vols each; the extended table at vol up. Fills the worst losses. */
static void pm_grid(const ht_margin_params *p, const ht_margin_position *pos, size_t n, bool coin, size_t only,
                    const ht_margin_shift *base, ht_margin_pm_detail *d)
{
    const int steps = (int)p->pm_price_steps;
    d->grid_count = 0;
    d->worst_loss = 0.0;
    d->worst_move = 0.0;
    d->worst_vol = 0;
    for (int k = -steps; k <= steps; k++) {
        const double move = p->pm_price_range * k / steps;
        for (int v = 0; v < HT_MARGIN_PM_VOLS; v++) {
            const double pnl = scenario_pnl(p, pos, n, coin, only, base, move, v);
            d->grid_pnl[d->grid_count++] = pnl;
            if (-pnl > d->worst_loss) {
                d->worst_loss = -pnl;
                d->worst_move = move;
                d->worst_vol = 1 - v;
            }
        }
    }
    d->extended_worst_loss = 0.0;
    d->extended_worst_move = 0.0;
    for (size_t e = 0; e < p->pm_extended_count; e++) {
        const double pnl = scenario_pnl(p, pos, n, coin, only, base, p->pm_extended_moves[e], 0);
        d->extended_pnl[e] = pnl;
        if (-pnl > d->extended_worst_loss) {
            d->extended_worst_loss = -pnl;
            d->extended_worst_move = p->pm_extended_moves[e];
        }
    }
}

/* Net short options per strike (calls and puts of one expiry and strike together) x the contingency per
 * option, in coin. O(options^2) without allocation: books hold tens to thousands of options. */
static double short_option_contingency_coin(const ht_margin_params *p, const ht_margin_position *pos, size_t n,
                                            bool coin, size_t only)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        const ht_instrument_spec *s = pos[i].spec;
        if (!in_portfolio(pos, i, coin, only) || s->kind != HT_POS_OPTION)
            continue;
        bool seen = false;
        double net_coin = 0.0;
        for (size_t j = 0; j < n && !seen; j++) {
            const ht_instrument_spec *o = pos[j].spec;
            if (!in_portfolio(pos, j, coin, only) || o->kind != HT_POS_OPTION || o->strike != s->strike ||
                o->expiry_ms != s->expiry_ms)
                continue;
            if (j < i)
                seen = true; /* counted with the first position of its strike */
            net_coin += pos[j].qty_contracts * o->contract_size;
        }
        if (!seen && net_coin < 0.0)
            total += -net_coin * p->pm_short_option_contingency_coin;
    }
    return total;
}

/* The futures that offset each other (the smaller of the long and the short exposure, in coin) x the
 * contingency rate, in coin. */
static double futures_offset_contingency_coin(const ht_margin_params *p, const ht_margin_position *pos, size_t n,
                                              bool coin, size_t only, const ht_margin_shift *base)
{
    double long_coin = 0.0, short_coin = 0.0;
    for (size_t i = 0; i < n; i++) {
        const ht_instrument_spec *s = pos[i].spec;
        if (!in_portfolio(pos, i, coin, only) || (s->kind != HT_POS_FUTURE && s->kind != HT_POS_PERPETUAL))
            continue;
        const ht_contract c = margin_contract(s);
        const double exposure = ht_units_contracts_to_coin(&c, pos[i].qty_contracts,
                                                           pos[i].mark * (1.0 + base->spot_move_rel));
        if (exposure > 0.0)
            long_coin += exposure;
        else
            short_coin -= exposure;
    }
    return fmin(long_coin, short_coin) * p->pm_futures_offset_contingency;
}

/* One settlement currency's portfolio margin (all its positions, or position `only` alone). */
static void pm_portfolio(const ht_margin_params *p, const ht_margin_position *pos, size_t n, bool coin,
                         size_t only, const ht_margin_shift *base, double index_usd, ht_margin_pm_detail *d)
{
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d->positions += in_portfolio(pos, i, coin, only);
    if (!d->positions)
        return;
    pm_grid(p, pos, n, coin, only, base, d);
    /* Contingencies are counted in coin; the USDC portfolio takes them at the index. */
    const double to_currency = coin ? 1.0 : index_usd;
    d->short_option_contingency = short_option_contingency_coin(p, pos, n, coin, only) * to_currency;
    d->futures_offset_contingency = futures_offset_contingency_coin(p, pos, n, coin, only, base) * to_currency;
    d->initial = d->worst_loss + p->pm_extended_fraction * d->extended_worst_loss + d->short_option_contingency +
                 d->futures_offset_contingency;
    d->maintenance = p->pm_mm_factor * d->initial;
}

/* Checks what the revaluation needs of a position: an option's forward, vol and time; a future's mark. */
static int check_position(const ht_margin_position *q, bool revalue, ht_error *err)
{
    const ht_instrument_spec *s = q->spec;
    if (!isfinite(q->qty_contracts))
        return ht_error_set(err, "%s: quantity %g: expected a finite number", s->name, q->qty_contracts);
    if (s->kind == HT_POS_OPTION && revalue) {
        if (!(isfinite(q->iv) && q->iv > 0.0))
            return ht_error_set(err, "%s: implied vol %g: expected a positive number", s->name, q->iv);
        if (!(isfinite(q->t_years) && q->t_years > 0.0))
            return ht_error_set(err, "%s: time to expiry %g years: expected > 0", s->name, q->t_years);
        if (!(isfinite(q->underlying_usd) && q->underlying_usd > 0.0))
            return ht_error_set(err, "%s: underlying price %g: expected > 0", s->name, q->underlying_usd);
    }
    if ((s->kind == HT_POS_FUTURE || s->kind == HT_POS_PERPETUAL) && !(isfinite(q->mark) && q->mark > 0.0))
        return ht_error_set(err, "%s: mark %g: expected a positive price", s->name, q->mark);
    return 0;
}

/* The index the USDC side converts at: the first position's that has one, moved. NaN when none has. */
static double account_index(const ht_margin_position *pos, size_t n, const ht_margin_shift *shift)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(pos[i].index_usd) && pos[i].index_usd > 0.0)
            return pos[i].index_usd * (1.0 + shift->spot_move_rel);
    return NAN;
}

/* Standard margin of every position, moved by shift, into the account's totals (and per position). */
static int standard_totals(const ht_margin_params *p, const ht_margin_position *pos, size_t n,
                           const ht_margin_shift *shift, ht_margin_figures *per_position, ht_margin_account *out,
                           ht_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const ht_margin_position moved = margin_shifted(&pos[i], shift, p->min_vol);
        ht_margin_figures f;
        if (ht_margin_standard_position(p, &moved, &f, err) != 0)
            return -1;
        if (f.coin) {
            out->initial_coin += f.initial;
            out->maintenance_coin += f.maintenance;
        } else {
            out->initial_usdc += f.initial;
            out->maintenance_usdc += f.maintenance;
        }
        if (per_position)
            per_position[i] = f;
    }
    return 0;
}

/* Portfolio margin of both settlement currencies into the account's totals, and each position's own. */
static void portfolio_totals(const ht_margin_params *p, const ht_margin_position *pos, size_t n,
                             const ht_margin_shift *shift, ht_margin_figures *per_position, ht_margin_account *out)
{
    pm_portfolio(p, pos, n, true, ALL_POSITIONS, shift, out->index_usd, &out->pm_coin);
    pm_portfolio(p, pos, n, false, ALL_POSITIONS, shift, out->index_usd, &out->pm_usdc);
    out->initial_coin = out->pm_coin.initial;
    out->maintenance_coin = out->pm_coin.maintenance;
    out->initial_usdc = out->pm_usdc.initial;
    out->maintenance_usdc = out->pm_usdc.maintenance;
    for (size_t i = 0; per_position && i < n; i++) {
        const bool coin = ht_margin_settles_in_coin(pos[i].spec);
        ht_margin_pm_detail alone;
        pm_portfolio(p, pos, n, coin, i, shift, out->index_usd, &alone);
        per_position[i] = (ht_margin_figures){alone.initial, alone.maintenance, coin};
    }
}

int ht_margin_account_compute(ht_margin_model model, const ht_margin_params *p, const ht_margin_position *pos,
                              size_t n, const ht_margin_shift *shift, ht_margin_figures *per_position,
                              ht_margin_account *out, ht_error *err)
{
    static const ht_margin_shift none = {0.0, 0.0};
    if (!shift)
        shift = &none;
    memset(out, 0, sizeof *out);
    out->model = model;
    if (!isfinite(shift->spot_move_rel) || shift->spot_move_rel <= -1.0 || !isfinite(shift->vol_shift))
        return ht_error_set(err, "margin: move %g, vol shift %g: expected a move above -1 and finite numbers",
                            shift->spot_move_rel, shift->vol_shift);
    const bool revalue = model == HT_MARGIN_PORTFOLIO || shift->spot_move_rel != 0.0 || shift->vol_shift != 0.0;
    bool linear = false;
    for (size_t i = 0; i < n; i++) {
        if (check_position(&pos[i], revalue, err) != 0)
            return -1;
        linear |= !ht_margin_settles_in_coin(pos[i].spec) && pos[i].spec->kind != HT_POS_SPOT;
    }
    out->index_usd = account_index(pos, n, shift);
    if (linear && !isfinite(out->index_usd))
        return ht_error_set(err, "margin: linear positions but no index price to convert USDC at");
    if (model == HT_MARGIN_PORTFOLIO)
        portfolio_totals(p, pos, n, shift, per_position, out);
    else if (standard_totals(p, pos, n, shift, per_position, out, err) != 0)
        return -1;
    for (size_t i = 0; revalue && i < n; i++) {
        const double pnl = ht_margin_position_value(&pos[i], shift->spot_move_rel, shift->vol_shift, p->min_vol) -
                           ht_margin_position_value(&pos[i], 0.0, 0.0, p->min_vol);
        if (ht_margin_settles_in_coin(pos[i].spec))
            out->pnl_coin += pnl;
        else
            out->pnl_usdc += pnl;
    }
    const double usdc_to_coin = linear ? 1.0 / out->index_usd : 0.0;
    out->initial_total_coin = out->initial_coin + out->initial_usdc * usdc_to_coin;
    out->maintenance_total_coin = out->maintenance_coin + out->maintenance_usdc * usdc_to_coin;
    out->pnl_total_coin = out->pnl_coin + out->pnl_usdc * usdc_to_coin;
    return 0;
}

/* Maintenance margin minus equity (equity_coin plus the move's P&L) under a shift: >= 0 liquidates. */
static int shortfall(ht_margin_model model, const ht_margin_params *p, const ht_margin_position *pos, size_t n,
                     double equity_coin, ht_margin_shift shift, double *out, ht_error *err)
{
    ht_margin_account a;
    if (ht_margin_account_compute(model, p, pos, n, &shift, NULL, &a, err) != 0)
        return -1;
    *out = a.maintenance_total_coin - (equity_coin + a.pnl_total_coin);
    return 0;
}

/* The smallest x in (0, limit] (a move when vol is false, a vol shift when true; sign gives the direction) at
 * which the shortfall turns >= 0: steps outward (growing by a tenth), then bisects the step that crossed.
 * *found NaN when none is reached. */
static int search_direction(ht_margin_model model, const ht_margin_params *p, const ht_margin_position *pos,
                            size_t n, double equity_coin, bool vol, double sign, double limit, double *found,
                            ht_error *err)
{
    double lo = 0.0, hi = NAN, s;
    *found = NAN;
    for (double x = 0.0025; x <= limit * (1.0 + 1e-12); x += fmax(0.0025, 0.1 * x)) {
        const ht_margin_shift sh = vol ? (ht_margin_shift){0.0, sign * x} : (ht_margin_shift){sign * x, 0.0};
        if (shortfall(model, p, pos, n, equity_coin, sh, &s, err) != 0)
            return -1;
        if (s >= 0.0) {
            hi = x;
            break;
        }
        lo = x;
    }
    if (isnan(hi))
        return 0;
    for (int it = 0; it < 60 && hi - lo > 1e-6; it++) {
        const double mid = 0.5 * (lo + hi);
        const ht_margin_shift sh = vol ? (ht_margin_shift){0.0, sign * mid} : (ht_margin_shift){sign * mid, 0.0};
        if (shortfall(model, p, pos, n, equity_coin, sh, &s, err) != 0)
            return -1;
        if (s >= 0.0)
            hi = mid;
        else
            lo = mid;
    }
    *found = sign * hi;
    return 0;
}

int ht_margin_distance_compute(ht_margin_model model, const ht_margin_params *p, const ht_margin_position *pos,
                               size_t n, double equity_coin, double max_up, double max_down, double max_vol,
                               ht_margin_distance *out, ht_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(isfinite(equity_coin) && equity_coin > 0.0))
        return ht_error_set(err, "margin: equity %g coin: expected a positive number", equity_coin);
    if (!(max_up > 0.0 && max_up <= 100.0) || !(max_down > 0.0 && max_down < 1.0) ||
        !(max_vol > 0.0 && max_vol <= 100.0))
        return ht_error_set(err, "margin: search bounds up %g, down %g, vol %g: expected (0,100], (0,1), (0,100]",
                            max_up, max_down, max_vol);
    double s0;
    if (shortfall(model, p, pos, n, equity_coin, (ht_margin_shift){0.0, 0.0}, &s0, err) != 0)
        return -1;
    out->ratio = (s0 + equity_coin) / equity_coin;
    if (s0 >= 0.0) {
        out->already = true;
        return 0;
    }
    if (search_direction(model, p, pos, n, equity_coin, false, 1.0, max_up, &out->spot_up_rel, err) != 0 ||
        search_direction(model, p, pos, n, equity_coin, false, -1.0, max_down, &out->spot_down_rel, err) != 0 ||
        search_direction(model, p, pos, n, equity_coin, true, 1.0, max_vol, &out->vol_up, err) != 0)
        return -1;
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* Pricing one position at the table's reference: the forward it is priced on (its own future, the
 * perpetual's basis, or the index), the IV its mark implies, Black-76 greeks with Deribit's conventions (inverse
 * options: delta in coin = BS delta - price in coin), the fallback vol from its expiry's smile when the mark
 * cannot be used, and futures, perpetuals and spot held as hedges. */
#include "greeks_priv.h"

#include <string.h>

/* The basis mark / index of a future or perpetual, or NaN when its quote is not usable. */
static double usable_basis(const ht_greeks *g, const hedge_slot *h, uint64_t now_ms)
{
    if (!h->have || !h->trusted || too_old(g, h->ts_ms, now_ms) || !isfinite(h->mark) || !(h->mark > 0.0) ||
        !isfinite(h->ticker_index) || !(h->ticker_index > 0.0))
        return NAN;
    return h->mark / h->ticker_index;
}

/* The forward of an option on index price s_own: the basis of the future with the same expiry, else of a
 * perpetual of the same coin, else the index carried at r. */
static double option_forward(const ht_greeks *g, const ht_instrument_spec *spec, unsigned u, double s_own, double t,
                             uint64_t now_ms, ht_forward_origin *origin)
{
    if (g->cfg.forward == HT_FORWARD_AUTO) {
        double perp_basis = NAN;
        for (size_t i = 0; i < g->n_hedges; i++) {
            const hedge_slot *h = &g->hedges[i];
            if (h->underlying != u)
                continue;
            const double basis = usable_basis(g, h, now_ms);
            if (!isfinite(basis))
                continue;
            if (h->spec.kind == HT_POS_FUTURE && h->spec.expiry_ms == spec->expiry_ms) {
                *origin = HT_FWD_FROM_FUTURE;
                return s_own * basis;
            }
            if (h->spec.kind == HT_POS_PERPETUAL && !isfinite(perp_basis))
                perp_basis = basis;
        }
        if (isfinite(perp_basis)) {
            *origin = HT_FWD_FROM_PERPETUAL;
            return s_own * perp_basis;
        }
    }
    *origin = HT_FWD_FROM_INDEX;
    return s_own * exp(g->cfg.rate * t);
}

double ht_greeks_forward(const ht_greeks *g, unsigned u, uint64_t expiry_ms, double index_price, double t_years,
                         uint64_t now_ms, ht_forward_origin *origin)
{
    ht_instrument_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.expiry_ms = expiry_ms;
    return option_forward(g, &spec, u, index_price, t_years, now_ms, origin);
}

/* The table convention's delta, gamma, speed and vanna of one option per unit of underlying, with respect
 * to S_ref (F = k S_ref), from its Black-76 greeks on F. */
static void table_greeks(const ht_greeks *g, bool inverse, const ht_b76_greeks *b, double forward, double k,
                         double out[4])
{
    if (g->cfg.convention == HT_DELTA_DERIBIT && inverse) {
        /* d_coin(F) = Delta - P/F and its derivatives (P the discounted USD price). */
        const double f = forward, p = b->price;
        out[0] = b->delta - p / f;
        out[1] = k * (b->gamma - b->delta / f + p / (f * f));
        out[2] = k * k * (b->speed - b->gamma / f + 2.0 * b->delta / (f * f) - 2.0 * p / (f * f * f));
        out[3] = b->vanna - b->vega / f;
    } else {
        out[0] = k * b->delta;
        out[1] = k * k * b->gamma;
        out[2] = k * k * k * b->speed;
        out[3] = k * b->vanna;
    }
}

/* Sets every numeric field of a result to NaN (the position is out of the table). */
void greeks_clear_result(ht_greeks_result *r)
{
    r->in_table = false;
    r->t_years = r->index_price = r->forward = r->price_usd = r->iv = NAN;
    r->delta = r->gamma = r->speed = r->vanna = r->delta_bs = NAN;
    r->vega = r->volga = r->theta_per_day = r->hedge_coin = r->k_ratio = NAN;
    r->forward_from = HT_FWD_FROM_NONE;
    r->flags = 0;
    r->fallback_ids[0] = r->fallback_ids[1] = 0;
    r->fallback_x[0] = r->fallback_x[1] = r->fallback_iv[0] = r->fallback_iv[1] = NAN;
    r->last_good_ms = 0;
}

/* Maps an implied-vol failure to its position flag. */
static uint32_t iv_flag(ht_iv_status st)
{
    switch (st) {
    case HT_IV_OK: return 0;
    case HT_IV_BELOW_INTRINSIC: return HT_GF_BELOW_INTRINSIC;
    case HT_IV_ABOVE_MAX: return HT_GF_ABOVE_MAX;
    case HT_IV_NO_CONVERGENCE: return HT_GF_NO_CONVERGENCE;
    case HT_IV_BAD_INPUT: return HT_GF_BAD_PRICE;
    }
    return HT_GF_NO_CONVERGENCE;
}

/* Fills an option's greeks at volatility sigma on its forward (set by the caller); it is then in the table.
 * Flags HT_GF_NO_CONVERGENCE when Black-76 gives nothing finite there. */
static void set_option_greeks(const ht_greeks *g, ht_greeks_result *r, double sigma)
{
    const ht_instrument_spec *spec = &r->pos->spec;
    ht_b76_greeks b;
    if (ht_b76_compute(spec->option_type, r->forward, spec->strike, r->t_years, sigma, g->cfg.rate, &b) != 0) {
        r->flags |= HT_GF_NO_CONVERGENCE;
        return;
    }
    double tg[4];
    table_greeks(g, spec->inverse, &b, r->forward, r->k_ratio, tg);
    const double mult = spec->size_in_coin ? spec->contract_size : spec->contract_size / r->forward;
    r->qty_x_mult = r->pos->qty_contracts * mult;
    r->iv = sigma;
    r->delta = tg[0];
    r->gamma = tg[1];
    r->speed = tg[2];
    r->vanna = tg[3];
    r->delta_bs = r->k_ratio * b.delta;
    r->vega = b.vega;
    r->volga = b.volga;
    r->theta_per_day = b.theta / g->cfg.year_days;
    /* Defensive: nothing non-finite may reach the table. */
    const double all[] = {r->qty_x_mult, r->delta, r->gamma, r->speed, r->vanna, r->vega, r->volga, r->theta_per_day};
    for (size_t i = 0; i < HT_ARRAY_LEN(all); i++)
        if (!isfinite(all[i])) {
            r->flags |= HT_GF_NO_CONVERGENCE;
            return;
        }
    r->in_table = true;
}

/* Prices one option position at now_ms: flags, forward, IV and greeks into ps->res. A stale quote is priced at
 * the last good IV; a mark that gives no IV is left for price_fallbacks. */
void greeks_price_option(ht_greeks *g, pos_state *ps, double s_ref, uint64_t now_ms)
{
    ht_greeks_result *r = &ps->res;
    const ht_instrument_spec *spec = &r->pos->spec;
    const double s_own = usable_index(g, &g->indices[ps->own_index], now_ms);
    r->index_price = g->indices[ps->own_index].price;
    r->mark = ps->mark;
    r->t_years = years_to(g, spec->expiry_ms, now_ms);
    r->last_good_ms = isfinite(ps->good_iv) ? ps->good_ms : 0;
    if (!isfinite(s_own) || !isfinite(s_ref))
        r->flags |= HT_GF_NO_INDEX;
    if (!(r->t_years > 0.0))
        r->flags |= HT_GF_EXPIRED;
    if (!ps->have_mark)
        r->flags |= HT_GF_NO_MARK;
    else if (!isfinite(ps->mark) || !(ps->mark > 0.0))
        r->flags |= HT_GF_BAD_PRICE;
    else if (!ps->trusted || too_old(g, ps->mark_ts, now_ms))
        r->flags |= HT_GF_STALE;
    if (r->flags & ~(uint32_t)HT_GF_STALE)
        return;
    r->forward = option_forward(g, spec, r->underlying, s_own, r->t_years, now_ms, &r->forward_from);
    r->k_ratio = r->forward / s_ref;
    r->price_usd = option_price_usd(spec, ps->mark, r->forward);
    if (r->flags & HT_GF_STALE) {
        /* The quote cannot be trusted now: the last good IV holds (its greeks, at this spot and time). */
        if (isfinite(ps->good_iv)) {
            r->flags |= HT_GF_FALLBACK_LAST_IV;
            set_option_greeks(g, r, ps->good_iv);
            if (!r->in_table)
                r->flags &= ~(uint32_t)HT_GF_FALLBACK_LAST_IV;
        }
        return;
    }
    const ht_iv_result iv =
        ht_b76_implied_vol(spec->option_type, r->forward, spec->strike, r->t_years, g->cfg.rate, r->price_usd);
    r->flags |= iv_flag(iv.status);
    if (r->flags)
        return;
    set_option_greeks(g, r, iv.sigma);
    if (r->in_table) {
        ps->good_iv = iv.sigma;
        ps->good_ms = now_ms;
        r->last_good_ms = now_ms;
    }
}

/* Solves a smile instrument's ln(K/F) and IV for this recompute (once); false when its quote gives none. */
static bool smile_point(ht_greeks *g, smile_slot *sl, uint64_t now_ms)
{
    if (sl->solved_at != g->stats.recomputes) {
        sl->solved_at = g->stats.recomputes;
        sl->x = sl->iv = NAN;
        const double s_own = usable_index(g, &g->indices[sl->own_index], now_ms);
        const double t = years_to(g, sl->spec.expiry_ms, now_ms);
        if (sl->have && sl->trusted && !too_old(g, sl->ts_ms, now_ms) && isfinite(sl->mark) && sl->mark > 0.0 &&
            isfinite(s_own) && t > 0.0) {
            ht_forward_origin origin;
            const double f = option_forward(g, &sl->spec, sl->underlying, s_own, t, now_ms, &origin);
            const ht_iv_result iv = ht_b76_implied_vol(sl->spec.option_type, f, sl->spec.strike, t, g->cfg.rate,
                                                       option_price_usd(&sl->spec, sl->mark, f));
            if (iv.status == HT_IV_OK) {
                sl->x = log(sl->spec.strike / f);
                sl->iv = iv.sigma;
            }
        }
    }
    return isfinite(sl->iv);
}

/* The nearest smile points at or below and at or above a log-moneyness (points at the same x averaged). */
typedef struct smile_side {
    double x, iv_sum;
    unsigned n;
    uint32_t id;
} smile_side;

/* Adds one smile point (x, iv) of instrument id to the sides around xt. */
static void smile_take(smile_side *lo, smile_side *hi, double xt, double x, double iv, uint32_t id)
{
    if (x <= xt) {
        if (!lo->n || x > lo->x)
            *lo = (smile_side){x, iv, 1, id};
        else if (x == lo->x)
            lo->iv_sum += iv, lo->n++;
    }
    if (x >= xt) {
        if (!hi->n || x < hi->x)
            *hi = (smile_side){x, iv, 1, id};
        else if (x == hi->x)
            hi->iv_sum += iv, hi->n++;
    }
}

/* The smile vol of option result r (its forward set): linear in ln(K/F) between the nearest good IVs of the
 * same coin and expiry on either side, flat beyond the outermost; NaN when the expiry has no good IV. Records
 * the neighbours in r. */
static double smile_vol(ht_greeks *g, ht_greeks_result *r, uint64_t now_ms)
{
    const ht_instrument_spec *spec = &r->pos->spec;
    const double xt = log(spec->strike / r->forward);
    smile_side lo = {0}, hi = {0};
    for (size_t i = 0; i < g->n_pos; i++) {
        const ht_greeks_result *o = &g->pos[i].res;
        const ht_instrument_spec *os = &o->pos->spec;
        if (o == r || !o->in_table || (o->flags & HT_GF_FALLBACK) || o->underlying != r->underlying ||
            os->expiry_ms != spec->expiry_ms)
            continue;
        smile_take(&lo, &hi, xt, log(os->strike / o->forward), o->iv, os->id);
    }
    for (size_t i = 0; i < g->n_smile; i++) {
        smile_slot *sl = &g->smile[i];
        if (sl->underlying == r->underlying && sl->spec.expiry_ms == spec->expiry_ms && smile_point(g, sl, now_ms))
            smile_take(&lo, &hi, xt, sl->x, sl->iv, sl->spec.id);
    }
    if (!lo.n && !hi.n)
        return NAN;
    if (!lo.n)
        lo = hi;
    if (!hi.n)
        hi = lo;
    const double iv_lo = lo.iv_sum / lo.n, iv_hi = hi.iv_sum / hi.n;
    r->fallback_ids[0] = lo.id;
    r->fallback_ids[1] = hi.id;
    r->fallback_x[0] = lo.x;
    r->fallback_x[1] = hi.x;
    r->fallback_iv[0] = iv_lo;
    r->fallback_iv[1] = iv_hi;
    if (hi.x == lo.x)
        return iv_lo;
    return iv_lo + (iv_hi - iv_lo) * (xt - lo.x) / (hi.x - lo.x);
}

/* Prices the options whose mark gives no IV at a fallback vol: the smile at their strike, else their last
 * good IV. Runs after every position was priced, so the smile uses this recompute's good IVs only. */
void greeks_price_fallbacks(ht_greeks *g, uint64_t now_ms)
{
    const uint32_t no_iv = HT_GF_BELOW_INTRINSIC | HT_GF_ABOVE_MAX | HT_GF_NO_CONVERGENCE;
    for (size_t i = 0; i < g->n_pos; i++) {
        pos_state *ps = &g->pos[i];
        ht_greeks_result *r = &ps->res;
        if (r->pos->spec.kind != HT_POS_OPTION || r->in_table || !(r->flags & no_iv) ||
            (r->flags & HT_GF_EXCLUDING & ~no_iv) || !isfinite(r->forward) || !isfinite(r->k_ratio))
            continue;
        uint32_t how = HT_GF_FALLBACK_SMILE;
        double sigma = smile_vol(g, r, now_ms);
        if (!(sigma > 0.0)) {
            how = HT_GF_FALLBACK_LAST_IV;
            sigma = ps->good_iv;
            r->fallback_ids[0] = r->fallback_ids[1] = 0;
        }
        if (!(sigma > 0.0) || !isfinite(sigma))
            continue;
        r->flags |= how;
        set_option_greeks(g, r, sigma);
        if (!r->in_table)
            r->flags &= ~how;
    }
}

/* Values one hedge position (future, perpetual, spot) in coin into ps->res. */
void greeks_price_hedge(ht_greeks *g, pos_state *ps, double s_ref, uint64_t now_ms)
{
    ht_greeks_result *r = &ps->res;
    const ht_instrument_spec *spec = &r->pos->spec;
    const hedge_slot *h = &g->hedges[ps->hedge];
    r->flags |= HT_GF_HEDGE;
    r->mark = h->mark;
    r->index_price = g->indices[ps->own_index].price;
    if (spec->kind == HT_POS_FUTURE)
        r->t_years = years_to(g, spec->expiry_ms, now_ms);
    if (spec->size_in_coin) {
        r->qty_x_mult = r->pos->qty_contracts * spec->contract_size;
        r->hedge_coin = r->qty_x_mult;
        r->k_ratio = NAN;
        return;
    }
    /* Sized in the counter currency (inverse): its coin amount depends on its price. */
    if (!h->have) {
        r->flags |= HT_GF_NO_MARK;
        return;
    }
    if (!isfinite(h->mark) || !(h->mark > 0.0)) {
        r->flags |= HT_GF_BAD_PRICE;
        return;
    }
    if (!h->trusted || too_old(g, h->ts_ms, now_ms)) {
        r->flags |= HT_GF_STALE;
        return;
    }
    if (spec->kind == HT_POS_FUTURE && !(r->t_years > 0.0)) {
        r->flags |= HT_GF_EXPIRED;
        return;
    }
    r->qty_x_mult = r->pos->qty_contracts * spec->contract_size / h->mark;
    r->hedge_coin = r->qty_x_mult;
    r->k_ratio = isfinite(s_ref) ? h->mark / s_ref : NAN;
}

/* The exact delta of one in-table option at spot (F = k spot), volatility sigma and now_ms, per unit, in the
 * table's convention; NaN when it cannot be priced there (expired by then). */
double greeks_exact_delta(const ht_greeks *g, const ht_greeks_result *r, double spot, double sigma, uint64_t now_ms)
{
    const ht_instrument_spec *spec = &r->pos->spec;
    const double f = r->k_ratio * spot;
    const double t = years_to(g, spec->expiry_ms, now_ms);
    ht_b76_greeks b;
    if (ht_b76_compute(spec->option_type, f, spec->strike, t, fmax(sigma, 1e-6), g->cfg.rate, &b) != 0)
        return NAN;
    double tg[4];
    table_greeks(g, spec->inverse, &b, f, r->k_ratio, tg);
    return tg[0];
}

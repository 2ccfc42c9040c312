/* SPDX-License-Identifier: MIT */
/* The per-position greek table: its life cycle, the market inputs (indices, marks, forward and smile
 * instruments), the aggregates at the reference spot and the refresh policy (re-centre when the Taylor error
 * matters). Pricing one position (forward, IV, greeks, fallback smile, hedges) is greeks_price.c. */
#include "greeks_priv.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_flag_names[HT_GF_COUNT] = {
    "no_index", "no_mark", "bad_price", "expired", "below_intrinsic", "above_max", "no_convergence", "stale", "hedge",
    "fallback_smile", "fallback_last_iv",
};

const char *ht_greeks_flag_name(uint32_t flag)
{
    for (unsigned i = 0; i < HT_GF_COUNT; i++)
        if (flag == (1u << i))
            return k_flag_names[i];
    return NULL;
}

char *ht_greeks_flags_format(uint32_t flags, char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    for (unsigned i = 0; i < HT_GF_COUNT && size; i++)
        if (flags & (1u << i)) {
            int w = snprintf(buf + used, size - used, "%s%s", used ? "|" : "", k_flag_names[i]);
            if (w < 0 || (size_t)w >= size - used)
                break;
            used += (size_t)w;
        }
    return buf;
}

void ht_greeks_config_default(ht_greeks_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->rate = 0.0;
    cfg->year_days = 365.0;
    cfg->convention = HT_DELTA_DERIBIT;
    cfg->forward = HT_FORWARD_AUTO;
    cfg->max_quote_age_ms = 0;
    cfg->refresh.max_move_rel = 0.005;
    cfg->refresh.max_vol_move = 0.01;
    cfg->refresh.max_interval_ms = 60000;
    cfg->refresh.error_budget = 0.001;
    cfg->refresh.adaptive = true;
    cfg->refresh.min_move_rel = 1e-4;
    cfg->refresh.min_vol_move = 1e-4;
    cfg->refresh.min_interval_ms = 1000;
}

int ht_greeks_config_check(const ht_greeks_config *cfg, ht_error *err)
{
    const ht_refresh_config *r = &cfg->refresh;
    if (!(isfinite(cfg->rate) && fabs(cfg->rate) < 1.0))
        return ht_error_set(err, "greeks config: rate must be a finite number with |r| < 1, got %g", cfg->rate);
    if (!(cfg->year_days >= 360.0 && cfg->year_days <= 366.0))
        return ht_error_set(err, "greeks config: year_days must be between 360 and 366, got %g", cfg->year_days);
    if (cfg->convention != HT_DELTA_DERIBIT && cfg->convention != HT_DELTA_USD)
        return ht_error_set(err, "greeks config: unknown delta convention %d", (int)cfg->convention);
    if (cfg->forward != HT_FORWARD_AUTO && cfg->forward != HT_FORWARD_INDEX)
        return ht_error_set(err, "greeks config: unknown forward source %d", (int)cfg->forward);
    if (!(r->max_move_rel > 0.0 && r->max_move_rel <= 0.5))
        return ht_error_set(err, "greeks config: refresh max_move_rel must be in (0, 0.5], got %g", r->max_move_rel);
    if (!(r->max_vol_move > 0.0 && isfinite(r->max_vol_move)))
        return ht_error_set(err, "greeks config: refresh max_vol_move must be > 0, got %g", r->max_vol_move);
    if (r->max_interval_ms == 0)
        return ht_error_set(err, "greeks config: refresh max_interval_ms must be > 0");
    if (!(r->error_budget > 0.0 && isfinite(r->error_budget)))
        return ht_error_set(err, "greeks config: refresh error_budget must be > 0, got %g", r->error_budget);
    if (!(r->min_move_rel > 0.0 && r->min_move_rel <= r->max_move_rel))
        return ht_error_set(err, "greeks config: refresh min_move_rel must be in (0, max_move_rel], got %g",
                            r->min_move_rel);
    if (!(r->min_vol_move > 0.0 && r->min_vol_move <= r->max_vol_move))
        return ht_error_set(err, "greeks config: refresh min_vol_move must be in (0, max_vol_move], got %g",
                            r->min_vol_move);
    if (r->min_interval_ms == 0 || r->min_interval_ms > r->max_interval_ms)
        return ht_error_set(err, "greeks config: refresh min_interval_ms must be in [1, max_interval_ms]");
    return 0;
}

/* Mixes an instrument id into a table slot. */
static size_t id_hash(uint32_t id)
{
    uint32_t h = id * 2654435761u;
    return (size_t)(h ^ (h >> 15));
}

/* The entry for id, or the free entry where it would go. */
static id_entry *id_find(const ht_greeks *g, uint32_t id)
{
    size_t i = id_hash(id) & g->id_mask;
    while (g->ids[i].used && g->ids[i].id != id)
        i = (i + 1) & g->id_mask;
    return &g->ids[i];
}

/* The slot of an index name, adding it when add is set; -1 when unknown (or the table is full). */
static int index_slot_of(ht_greeks *g, const char *name, bool add)
{
    for (unsigned i = 0; i < g->n_indices; i++)
        if (strcmp(g->indices[i].name, name) == 0)
            return (int)i;
    if (!add || g->n_indices == MAX_INDICES)
        return -1;
    index_slot *s = &g->indices[g->n_indices];
    memset(s, 0, sizeof *s);
    size_t len = strnlen(name, sizeof s->name - 1);
    memmove(s->name, name, len); /* name may live in g too (an underlying's ref_index) */
    s->name[len] = '\0';
    s->price = NAN;
    return (int)g->n_indices++;
}

/* The underlying of a base coin, adding it when add is set; -1 when unknown or full. */
static int underlying_of(ht_greeks *g, const char *base, bool add)
{
    for (unsigned u = 0; u < g->n_under; u++)
        if (strcmp(g->under[u].base, base) == 0)
            return (int)u;
    if (!add || g->n_under == HT_GREEKS_MAX_UNDERLYINGS)
        return -1;
    ht_greeks_underlying *un = &g->under[g->n_under];
    memset(un, 0, sizeof *un);
    snprintf(un->base, sizeof un->base, "%s", base);
    size_t k = 0;
    for (; base[k] && k + 5 < sizeof un->ref_index; k++)
        un->ref_index[k] = (char)tolower((unsigned char)base[k]);
    memcpy(un->ref_index + k, "_usd", 5);
    un->s0 = NAN;
    int slot = index_slot_of(g, un->ref_index, true);
    if (slot < 0)
        return -1;
    g->ref_index[g->n_under] = (unsigned)slot;
    return (int)g->n_under++;
}

/* Adds a hedge slot for a future / perpetual / spot. Returns its slot or -1 when full. */
static int add_hedge_slot(ht_greeks *g, const ht_instrument_spec *spec, unsigned u)
{
    if (g->n_hedges == g->cap_hedges)
        return -1;
    hedge_slot *h = &g->hedges[g->n_hedges];
    memset(h, 0, sizeof *h);
    h->spec = *spec;
    h->underlying = u;
    h->mark = NAN;
    h->ticker_index = NAN;
    return (int)g->n_hedges++;
}

ht_greeks *ht_greeks_create(const ht_greeks_config *cfg, const ht_positions *book, ht_error *err)
{
    ht_greeks_config defaults;
    if (!cfg) {
        ht_greeks_config_default(&defaults);
        cfg = &defaults;
    }
    if (ht_greeks_config_check(cfg, err) != 0)
        return NULL;
    ht_greeks *g = calloc(1, sizeof *g);
    if (!g) {
        ht_error_set(err, "greeks: out of memory");
        return NULL;
    }
    g->cfg = *cfg;
    g->n_pos = ht_positions_count(book);
    g->cap_hedges = g->n_pos + MAX_EXTRA_FORWARD_INSTRUMENTS;
    g->cap_smile = MAX_SMILE_INSTRUMENTS;
    size_t slots = 64;
    while (slots < 2 * (g->cap_hedges + g->cap_smile) + 2 * g->n_pos)
        slots *= 2;
    g->id_mask = slots - 1;
    g->pos = calloc(g->n_pos ? g->n_pos : 1, sizeof *g->pos);
    g->hedges = calloc(g->cap_hedges, sizeof *g->hedges);
    g->smile = calloc(g->cap_smile, sizeof *g->smile);
    g->ids = calloc(slots, sizeof *g->ids);
    g->rows = calloc(g->n_pos + HT_GREEKS_MAX_UNDERLYINGS, sizeof *g->rows);
    if (!g->pos || !g->hedges || !g->smile || !g->ids || !g->rows) {
        ht_greeks_destroy(g);
        ht_error_set(err, "greeks: out of memory for %zu positions", g->n_pos);
        return NULL;
    }
    for (size_t i = 0; i < g->n_pos; i++) {
        const ht_position *p = ht_positions_at(book, i);
        pos_state *ps = &g->pos[i];
        ps->res.pos = p;
        ps->hedge = -1;
        ps->mark = NAN;
        ps->ticker_index = NAN;
        ps->good_iv = NAN;
        const int u = underlying_of(g, p->spec.base_currency, true);
        if (u < 0) {
            ht_error_set(err, "greeks: %s (line %u): more than %d underlyings in the book", p->spec.name, p->line,
                         HT_GREEKS_MAX_UNDERLYINGS);
            ht_greeks_destroy(g);
            return NULL;
        }
        ps->res.underlying = (unsigned)u;
        const int own = index_slot_of(g, p->spec.index_name[0] ? p->spec.index_name : g->under[u].ref_index, true);
        if (own < 0) {
            ht_error_set(err, "greeks: %s: more than %d price indices in the book", p->spec.name, MAX_INDICES);
            ht_greeks_destroy(g);
            return NULL;
        }
        ps->own_index = (unsigned)own;
        id_entry *e = id_find(g, p->spec.id);
        e->used = true;
        e->id = p->spec.id;
        e->pos = (int32_t)i;
        e->hedge = -1;
        e->smile = -1;
        if (p->spec.kind != HT_POS_OPTION) {
            ps->hedge = add_hedge_slot(g, &p->spec, (unsigned)u);
            e->hedge = ps->hedge;
        }
    }
    return g;
}

void ht_greeks_destroy(ht_greeks *g)
{
    if (!g)
        return;
    free(g->pos);
    free(g->hedges);
    free(g->smile);
    free(g->ids);
    free(g->rows);
    free(g);
}

int ht_greeks_add_forward_instrument(ht_greeks *g, const ht_instrument_spec *spec)
{
    if (spec->kind != HT_POS_FUTURE && spec->kind != HT_POS_PERPETUAL)
        return 1;
    const int u = underlying_of(g, spec->base_currency, false);
    if (u < 0)
        return 1;
    id_entry *e = id_find(g, spec->id);
    if (e->used)
        return 1;
    const int slot = add_hedge_slot(g, spec, (unsigned)u);
    if (slot < 0)
        return -1;
    *e = (id_entry){spec->id, -1, slot, -1, true};
    return 0;
}

int ht_greeks_add_smile_instrument(ht_greeks *g, const ht_instrument_spec *spec)
{
    if (spec->kind != HT_POS_OPTION || !(spec->strike > 0.0))
        return 1;
    const int u = underlying_of(g, spec->base_currency, false);
    if (u < 0)
        return 1;
    id_entry *e = id_find(g, spec->id);
    if (e->used)
        return 1;
    if (g->n_smile == g->cap_smile)
        return -1;
    const int own = index_slot_of(g, spec->index_name[0] ? spec->index_name : g->under[u].ref_index, true);
    if (own < 0)
        return -1;
    smile_slot *sl = &g->smile[g->n_smile];
    memset(sl, 0, sizeof *sl);
    sl->spec = *spec;
    sl->underlying = (unsigned)u;
    sl->own_index = (unsigned)own;
    sl->mark = sl->ticker_index = sl->x = sl->iv = NAN;
    *e = (id_entry){spec->id, -1, -1, (int32_t)g->n_smile++, true};
    return 0;
}

const char *ht_greeks_instrument_name(const ht_greeks *g, uint32_t instrument_id)
{
    const id_entry *e = id_find(g, instrument_id);
    if (!e->used)
        return NULL;
    if (e->pos >= 0)
        return g->pos[e->pos].res.pos->spec.name;
    if (e->hedge >= 0)
        return g->hedges[e->hedge].spec.name;
    return e->smile >= 0 ? g->smile[e->smile].spec.name : NULL;
}

int ht_greeks_set_index(ht_greeks *g, const char *index_name, double price, uint64_t ts_ms, bool trusted)
{
    const int slot = index_slot_of(g, index_name, false);
    if (slot < 0)
        return 1;
    index_slot *s = &g->indices[slot];
    s->price = price;
    s->ts_ms = ts_ms;
    s->trusted = trusted;
    s->have = true;
    g->stats.indices++;
    return 0;
}

int ht_greeks_set_mark(ht_greeks *g, uint32_t instrument_id, double mark, double ticker_index, uint64_t ts_ms,
                       bool trusted)
{
    id_entry *e = id_find(g, instrument_id);
    if (!e->used)
        return 1;
    g->stats.marks++;
    if (e->hedge >= 0) {
        hedge_slot *h = &g->hedges[e->hedge];
        h->mark = mark;
        h->ticker_index = ticker_index;
        h->ts_ms = ts_ms;
        h->trusted = trusted;
        h->have = true;
    }
    if (e->smile >= 0) {
        smile_slot *sl = &g->smile[e->smile];
        sl->mark = mark;
        sl->ticker_index = ticker_index;
        sl->ts_ms = ts_ms;
        sl->trusted = trusted;
        sl->have = true;
        sl->solved_at = 0;
    }
    if (e->pos < 0)
        return 0;
    pos_state *ps = &g->pos[e->pos];
    ps->mark = mark;
    ps->ticker_index = ticker_index;
    ps->mark_ts = ts_ms;
    ps->trusted = trusted;
    ps->have_mark = true;
    /* The vol move: re-solve this option's IV at the current forward and fold the change into the
     * underlying's vega-weighted mean. */
    if (!ps->res.in_table || !(ps->vol_weight > 0.0) || !trusted)
        return 0;
    const unsigned u = ps->res.underlying;
    const index_slot *ref = &g->indices[g->ref_index[u]];
    const double forward = ps->res.k_ratio * ref->price;
    const double t = years_to(g, ps->res.pos->spec.expiry_ms, ts_ms);
    const ht_instrument_spec *spec = &ps->res.pos->spec;
    g->stats.iv_updates++;
    ht_iv_result iv = ht_b76_implied_vol(spec->option_type, forward, spec->strike, t, g->cfg.rate,
                                         option_price_usd(spec, mark, forward));
    if (iv.status != HT_IV_OK || !(ref->price > 0.0)) {
        g->stats.iv_update_failures++;
        return 0;
    }
    g->vol_dev_sum[u] += ps->vol_weight * (iv.sigma - ps->sigma_last);
    ps->sigma_last = iv.sigma;
    ht_greeks_underlying *un = &g->under[u];
    un->vol_move = g->vol_weight_sum[u] > 0.0 ? g->vol_dev_sum[u] / g->vol_weight_sum[u] : 0.0;
    /* What the IV move does to this option's delta at S0 exactly, against what V d sigma assumes. */
    const double d = greeks_exact_delta(g, &ps->res, un->s0, iv.sigma, un->recompute_ms);
    if (isfinite(d)) {
        g->iv_delta_sum[u] += ps->res.qty_x_mult * (d - ps->delta_last);
        ps->delta_last = d;
    }
    un->vol_error = g->iv_delta_sum[u] - un->v * un->vol_move;
    return 0;
}

const ht_greeks_config *ht_greeks_config_get(const ht_greeks *g)
{
    return &g->cfg;
}

double ht_greeks_position_delta(const ht_greeks *g, size_t i, double spot, double sigma, uint64_t now_ms)
{
    if (i >= g->n_pos || !g->pos[i].res.in_table)
        return NAN;
    return greeks_exact_delta(g, &g->pos[i].res, spot, sigma, now_ms);
}

double ht_greeks_hedge_at(const ht_greeks *g, unsigned u, double spot)
{
    if (u >= g->n_under)
        return NAN;
    double sum = 0.0;
    for (size_t i = 0; i < g->n_pos; i++) {
        const ht_greeks_result *r = &g->pos[i].res;
        if (r->underlying != u || (r->flags & HT_GF_EXCLUDING) || !(r->flags & HT_GF_HEDGE))
            continue;
        /* Inverse hedges' coin amount follows 1/F in the Deribit convention; USD deltas stay put. */
        const bool moves = !r->pos->spec.size_in_coin && g->cfg.convention == HT_DELTA_DERIBIT;
        sum += moves ? r->hedge_coin * g->under[u].s0 / spot : r->hedge_coin;
    }
    return sum;
}

double ht_greeks_exact_net_delta(const ht_greeks *g, unsigned u, double spot, double dsigma, uint64_t now_ms)
{
    if (u >= g->n_under)
        return NAN;
    double sum = ht_greeks_hedge_at(g, u, spot);
    for (size_t i = 0; i < g->n_pos; i++) {
        const ht_greeks_result *r = &g->pos[i].res;
        if (r->underlying == u && r->in_table)
            sum += r->qty_x_mult * greeks_exact_delta(g, r, spot, r->iv + dsigma, now_ms);
    }
    return sum;
}

double ht_greeks_taylor_net_delta(const ht_greeks *g, unsigned u, double spot, double dsigma)
{
    if (u >= g->n_under)
        return NAN;
    const ht_greeks_underlying *un = &g->under[u];
    const double ds = spot - un->s0;
    return un->a + (un->b + 0.5 * un->c * ds) * ds + un->v * dsigma + un->h;
}

/* The largest |exact - Taylor| net delta over the given relative spot moves (both signs), vol moves and
 * time steps, at the recompute's S0 and time (one axis at a time). */
static double taylor_error(const ht_greeks *g, unsigned u, double move_rel, double vol_move, double dt_ms)
{
    const ht_greeks_underlying *un = &g->under[u];
    static const double fractions[] = {0.25, 0.5, 0.75, 1.0};
    double worst = 0.0;
    for (size_t i = 0; i < HT_ARRAY_LEN(fractions); i++)
        for (int sign = -1; sign <= 1; sign += 2) {
            double e = 0.0;
            if (move_rel > 0.0) {
                const double s = un->s0 * (1.0 + sign * fractions[i] * move_rel);
                e = ht_greeks_exact_net_delta(g, u, s, 0.0, un->recompute_ms) - ht_greeks_taylor_net_delta(g, u, s, 0.0);
            } else if (vol_move > 0.0) {
                const double dv = sign * fractions[i] * vol_move;
                e = ht_greeks_exact_net_delta(g, u, un->s0, dv, un->recompute_ms) -
                    ht_greeks_taylor_net_delta(g, u, un->s0, dv);
            } else if (sign > 0) {
                const uint64_t t = un->recompute_ms + (uint64_t)(fractions[i] * dt_ms);
                e = ht_greeks_exact_net_delta(g, u, un->s0, 0.0, t) - ht_greeks_taylor_net_delta(g, u, un->s0, 0.0);
            }
            if (!isfinite(e))
                return INFINITY;
            worst = fmax(worst, fabs(e));
        }
    return worst;
}

/* Shrinks one threshold (by 0.7 a step, down to its minimum) until the Taylor error along its axis is within
 * budget; returns the threshold and leaves the error measured there in *err. */
static double tighten(const ht_greeks *g, unsigned u, int axis, double start, double minimum, double budget,
                      double *err, bool *met)
{
    double x = start;
    for (;;) {
        *err = taylor_error(g, u, axis == 0 ? x : 0.0, axis == 1 ? x : 0.0, axis == 2 ? x : 0.0);
        if (*err <= budget)
            return x;
        if (x <= minimum) {
            *met = false;
            return minimum;
        }
        x = fmax(x * 0.7, minimum);
    }
}

/* Budget shares of the three axes: their errors add at worst, so together they stay within the budget. */
#define SHARE_MOVE 0.5
#define SHARE_VOL 0.25
#define SHARE_TIME 0.25

/* Sets an underlying's refresh thresholds: the configured maxima, tightened to the error budget when
 * adaptive. */
static void set_thresholds(ht_greeks *g, unsigned u)
{
    ht_greeks_underlying *un = &g->under[u];
    const ht_refresh_config *rc = &g->cfg.refresh;
    un->move_rel = rc->max_move_rel;
    un->vol_move_max = rc->max_vol_move;
    un->interval_ms = rc->max_interval_ms;
    un->err_move = un->err_vol = un->err_time = NAN;
    un->budget_met = true;
    if (!rc->adaptive || un->in_table == 0 || !(un->gross_delta > 0.0) || !isfinite(un->s0))
        return;
    const double budget = rc->error_budget * un->gross_delta;
    un->move_rel = tighten(g, u, 0, rc->max_move_rel, rc->min_move_rel, SHARE_MOVE * budget, &un->err_move,
                           &un->budget_met);
    un->vol_move_max = tighten(g, u, 1, rc->max_vol_move, rc->min_vol_move, SHARE_VOL * budget, &un->err_vol,
                               &un->budget_met);
    un->interval_ms = (uint64_t)tighten(g, u, 2, (double)rc->max_interval_ms, (double)rc->min_interval_ms,
                                        SHARE_TIME * budget, &un->err_time, &un->budget_met);
}

size_t ht_greeks_recompute(ht_greeks *g, uint64_t now_ms)
{
    g->stats.recomputes++;
    for (unsigned u = 0; u < g->n_under; u++) {
        ht_greeks_underlying *un = &g->under[u];
        un->s0 = usable_index(g, &g->indices[g->ref_index[u]], now_ms);
        un->a = un->b = un->c = un->v = un->h = un->h_inverse = un->gross_delta = 0.0;
        un->vega = un->volga = un->theta_per_day = 0.0;
        un->ref_vol = NAN;
        un->vol_move = 0.0;
        un->vol_error = 0.0;
        g->iv_delta_sum[u] = 0.0;
        un->recompute_ms = now_ms;
        un->options = un->hedges = un->in_table = un->excluded = un->fallback = 0;
        g->vol_dev_sum[u] = 0.0;
        g->vol_weight_sum[u] = 0.0;
        g->s0[u] = isfinite(un->s0) ? un->s0 : 0.0;
    }
    double vol_weighted[HT_GREEKS_MAX_UNDERLYINGS] = {0};
    size_t n_rows = 0;
    for (size_t i = 0; i < g->n_pos; i++) {
        pos_state *ps = &g->pos[i];
        ht_greeks_result *r = &ps->res;
        greeks_clear_result(r);
        r->qty_x_mult = NAN;
        ps->vol_weight = 0.0;
        ht_greeks_underlying *un = &g->under[r->underlying];
        if (r->pos->spec.kind == HT_POS_OPTION) {
            un->options++;
            greeks_price_option(g, ps, un->s0, now_ms);
        } else {
            un->hedges++;
            greeks_price_hedge(g, ps, un->s0, now_ms);
        }
    }
    greeks_price_fallbacks(g, now_ms);
    for (size_t i = 0; i < g->n_pos; i++) {
        pos_state *ps = &g->pos[i];
        ht_greeks_result *r = &ps->res;
        ht_greeks_underlying *un = &g->under[r->underlying];
        if (!HT_GREEKS_USABLE(r)) {
            un->excluded++;
            for (unsigned f = 0; f < HT_GF_COUNT; f++)
                if ((r->flags & HT_GF_EXCLUDING) & (1u << f))
                    g->stats.excluded_by_flag[f]++;
            continue;
        }
        if (r->flags & HT_GF_HEDGE) {
            un->h += r->hedge_coin;
            if (!r->pos->spec.size_in_coin)
                un->h_inverse += r->hedge_coin;
            un->gross_delta += fabs(r->hedge_coin);
            continue;
        }
        const double q = r->qty_x_mult;
        un->a += q * r->delta;
        un->b += q * r->gamma;
        un->c += q * r->speed;
        un->v += q * r->vanna;
        un->gross_delta += fabs(q * r->delta);
        un->vega += q * r->vega;
        un->volga += q * r->volga;
        un->theta_per_day += q * r->theta_per_day;
        un->in_table++;
        un->fallback += (r->flags & HT_GF_FALLBACK) != 0;
        ps->vol_weight = fabs(q * r->vega);
        ps->sigma_last = r->iv;
        ps->delta_last = r->delta;
        g->vol_weight_sum[r->underlying] += ps->vol_weight;
        vol_weighted[r->underlying] += ps->vol_weight * r->iv;
        g->rows[n_rows++] = (ht_greeks_row){r->underlying, q, r->delta, r->gamma, r->speed, r->vanna, un->s0};
    }
    for (unsigned u = 0; u < g->n_under; u++) {
        ht_greeks_underlying *un = &g->under[u];
        if (g->vol_weight_sum[u] > 0.0)
            un->ref_vol = vol_weighted[u] / g->vol_weight_sum[u];
        /* Deribit convention: inverse hedges' coin delta h_inv S0 / S, as one row of gamma and speed. */
        if (g->cfg.convention == HT_DELTA_DERIBIT && un->h_inverse != 0.0 && isfinite(un->s0)) {
            const double gamma = -un->h_inverse / un->s0, speed = 2.0 * un->h_inverse / (un->s0 * un->s0);
            un->b += gamma;
            un->c += speed;
            g->rows[n_rows++] = (ht_greeks_row){u, 1.0, 0.0, gamma, speed, 0.0, un->s0};
        }
    }
    g->n_rows = n_rows;
    g->recomputed = true;
    g->book_changed = false;
    for (unsigned u = 0; u < g->n_under; u++)
        set_thresholds(g, u);
    size_t in_table = 0;
    for (unsigned u = 0; u < g->n_under; u++)
        in_table += g->under[u].in_table;
    return in_table;
}

size_t ht_greeks_result_count(const ht_greeks *g)
{
    return g->n_pos;
}

const ht_greeks_result *ht_greeks_result_at(const ht_greeks *g, size_t i)
{
    return i < g->n_pos ? &g->pos[i].res : NULL;
}

unsigned ht_greeks_underlying_count(const ht_greeks *g)
{
    return g->n_under;
}

const ht_greeks_underlying *ht_greeks_underlying_at(const ht_greeks *g, unsigned u)
{
    return u < g->n_under ? &g->under[u] : NULL;
}

int ht_greeks_underlying_find(const ht_greeks *g, const char *base)
{
    for (unsigned u = 0; u < g->n_under; u++)
        if (strcmp(g->under[u].base, base) == 0)
            return (int)u;
    return -1;
}

const ht_greeks_stats *ht_greeks_stats_get(const ht_greeks *g)
{
    return &g->stats;
}

const ht_greeks_row *ht_greeks_rows(const ht_greeks *g, size_t *count)
{
    *count = g->n_rows;
    return g->rows;
}

const double *ht_greeks_s0(const ht_greeks *g)
{
    return g->s0;
}

unsigned ht_greeks_refresh_due(ht_greeks *g, unsigned u, double spot, uint64_t now_ms)
{
    if (u >= g->n_under)
        return 0;
    const ht_greeks_underlying *un = &g->under[u];
    unsigned why = 0;
    if (!g->recomputed || !isfinite(un->s0))
        why |= HT_REFRESH_NEVER;
    else {
        if (fabs(spot - un->s0) > un->move_rel * un->s0)
            why |= HT_REFRESH_MOVE;
        if (fabs(un->vol_move) > un->vol_move_max)
            why |= HT_REFRESH_VOL;
        if (now_ms >= un->recompute_ms + un->interval_ms)
            why |= HT_REFRESH_TIMER;
        if (fabs(un->vol_error) > SHARE_VOL * g->cfg.refresh.error_budget * un->gross_delta)
            why |= HT_REFRESH_SMILE;
    }
    if (g->book_changed)
        why |= HT_REFRESH_BOOK;
    for (unsigned b = 0; b < HT_REFRESH_REASONS; b++)
        if (why & (1u << b))
            g->stats.refreshes_by_reason[b]++;
    return why;
}

void ht_greeks_book_changed(ht_greeks *g)
{
    g->book_changed = true;
}

int ht_greeks_load_pipe(const ht_greeks *g, ht_pipe *pipe, ht_error *err)
{
    if (g->n_under > HT_PIPE_UNDERLYINGS)
        return ht_error_set(err, "greeks: %u underlyings, the pipeline serves %d", g->n_under, HT_PIPE_UNDERLYINGS);
    if (g->n_rows > HT_PIPE_TABLE_DEPTH)
        return ht_error_set(err, "greeks: %zu table rows, the pipeline holds %d", g->n_rows, HT_PIPE_TABLE_DEPTH);
    ht_pipe_position *positions = calloc(g->n_rows ? g->n_rows : 1, sizeof *positions);
    if (!positions)
        return ht_error_set(err, "greeks: out of memory for %zu table rows", g->n_rows);
    for (size_t i = 0; i < g->n_rows; i++) {
        const ht_greeks_row *r = &g->rows[i];
        positions[i] = (ht_pipe_position){r->underlying, r->qty_x_mult, r->delta, r->gamma, r->speed, r->vanna,
                                          r->ref_spot_usd};
    }
    double s0[HT_PIPE_UNDERLYINGS] = {0};
    for (unsigned u = 0; u < g->n_under; u++)
        s0[u] = g->s0[u];
    int rc = ht_pipe_load_book(pipe, positions, g->n_rows, s0, err);
    free(positions);
    for (unsigned u = 0; rc == 0 && u < g->n_under; u++) {
        rc = ht_pipe_set_inventory(pipe, u, g->under[u].h, err);
        if (rc == 0)
            rc = ht_pipe_set_vol_move(pipe, u, 0.0, err);
    }
    return rc;
}

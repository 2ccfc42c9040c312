/* SPDX-License-Identifier: MIT */
/* The per-position greek table: forwards, IVs from marks, Deribit's conventions, aggregates, refresh. */
#include "hedgetrig/greeks.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Years from now_ms to expiry_ms under the configured day count (negative once expired). */
static double years_to(const ht_greeks *g, uint64_t expiry_ms, uint64_t now_ms)
{
    return ((double)expiry_ms - (double)now_ms) / (g->cfg.year_days * MS_PER_DAY);
}

/* True when a quote stamped ts_ms is too old at now_ms for the configured limit. */
static bool too_old(const ht_greeks *g, uint64_t ts_ms, uint64_t now_ms)
{
    return g->cfg.max_quote_age_ms && now_ms > ts_ms && now_ms - ts_ms > g->cfg.max_quote_age_ms;
}

/* The USD price of an option per unit of underlying from its mark and forward. */
static double option_price_usd(const ht_instrument_spec *spec, double mark, double forward)
{
    return spec->inverse ? mark * forward : mark;
}

static double exact_delta(const ht_greeks *g, const ht_greeks_result *r, double spot, double sigma, uint64_t now_ms);

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
    const double d = exact_delta(g, &ps->res, un->s0, iv.sigma, un->recompute_ms);
    if (isfinite(d)) {
        g->iv_delta_sum[u] += ps->res.qty_x_mult * (d - ps->delta_last);
        ps->delta_last = d;
    }
    un->vol_error = g->iv_delta_sum[u] - un->v * un->vol_move;
    return 0;
}

/* A usable index price at now_ms, or NaN. */
static double usable_index(const ht_greeks *g, const index_slot *s, uint64_t now_ms)
{
    if (!s->have || !s->trusted || !isfinite(s->price) || !(s->price > 0.0) || too_old(g, s->ts_ms, now_ms))
        return NAN;
    return s->price;
}

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

const ht_greeks_config *ht_greeks_config_get(const ht_greeks *g)
{
    return &g->cfg;
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
static void clear_result(ht_greeks_result *r)
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
static void price_option(ht_greeks *g, pos_state *ps, double s_ref, uint64_t now_ms)
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
static void price_fallbacks(ht_greeks *g, uint64_t now_ms)
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
static void price_hedge(ht_greeks *g, pos_state *ps, double s_ref, uint64_t now_ms)
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
static double exact_delta(const ht_greeks *g, const ht_greeks_result *r, double spot, double sigma, uint64_t now_ms)
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

double ht_greeks_position_delta(const ht_greeks *g, size_t i, double spot, double sigma, uint64_t now_ms)
{
    if (i >= g->n_pos || !g->pos[i].res.in_table)
        return NAN;
    return exact_delta(g, &g->pos[i].res, spot, sigma, now_ms);
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
            sum += r->qty_x_mult * exact_delta(g, r, spot, r->iv + dsigma, now_ms);
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
        clear_result(r);
        r->qty_x_mult = NAN;
        ps->vol_weight = 0.0;
        ht_greeks_underlying *un = &g->under[r->underlying];
        if (r->pos->spec.kind == HT_POS_OPTION) {
            un->options++;
            price_option(g, ps, un->s0, now_ms);
        } else {
            un->hedges++;
            price_hedge(g, ps, un->s0, now_ms);
        }
    }
    price_fallbacks(g, now_ms);
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

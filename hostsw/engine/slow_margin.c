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
    if (r->have_account && strcasecmp(r->account.currency, base) == 0) {
        *venue_mm = r->account.maintenance_margin;
        if (isfinite(r->account.equity) && r->account.equity > 0.0)
            return r->account.equity;
    }
    if (u == 0 && s->e->cfg.margin_equity_coin > 0.0)
        return s->e->cfg.margin_equity_coin;
    return NAN;
}

/* Underlying u's margin into m from the latest recompute's results (the book's quantities as they are now). */
static void margin_of(slow_half *s, unsigned u, ht_engine_margin *m)
{
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    memset(m, 0, sizeof *m);
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

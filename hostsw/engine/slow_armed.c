/* SPDX-License-Identifier: MIT */
/* The engine's slow half, pre-armed hedges ([engine] prearm; docs/deployment.md "Pre-armed hedges"): for each
 * underlying and side, the hedge a breach just beyond the band's edge would get is decided (ht_opt_decide_preview)
 * and armed at the venue (checked by the rules that do not depend on the moment, and encoded) whenever an input
 * changes: the band, the inventory, the table, a hedge instrument's book, the venue's session, trust. At the breach
 * the armed order is fired (its size adjusted by the slope for a breach further beyond the band, within what its
 * limit can take on the book it was armed on) and the full decision is taken after the order is out, and compared
 * with it. When the engine cannot vouch for the armed order, the breach takes the full decision, as without
 * arming, and the reason is counted and logged. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "slow_priv.h"
#include "hedgetrig/tsc.h"

/* How far beyond the band's edge the armed decision assumes the breach (coin): any breach is at least this far. */
#define ARM_BEYOND_COIN 1e-9
/* The spot may move this much (relative) between arming and the breach: more, and the full decision is taken. */
#define ARM_SPOT_TOLERANCE 2e-4
/* The spot step of the band's slope (relative), and the error its first-order estimate is allowed at a breach:
 * ARM_ERR_COIN (relative to the net delta) for the decision's own rounding, ARM_ERR_REL of the band for the
 * pipeline's fixed-point gamma against the slow half's, ARM_ERR_SLOPE of the first-order move and the curvature
 * over the spot tolerance. A breach nearer than that to a point where the decision changes takes the decision. */
#define ARM_SPOT_STEP 1e-4
#define ARM_ERR_COIN 1e-9
#define ARM_ERR_REL 1e-6
#define ARM_ERR_SLOPE 0.1

const char *ht_engine_arm_fallback_name(ht_engine_arm_fallback r)
{
    static const char *const names[] = {"not_armed", "quotes", "beyond", "rate", "refused", "spot", "edge"};
    return (unsigned)r < HT_ARRAY_LEN(names) ? names[r] : "?";
}

void slow_arm_dirty(slow_half *s, int u)
{
    for (unsigned k = 0; k < s->n_under; k++)
        if (u < 0 || (unsigned)u == k) {
            s->under[k].arm_dirty = true;
            s->under[k].arm[0].valid = s->under[k].arm[1].valid = false;
        }
}

/* The contracts a limit takes on a quote's side (buy: asks at or below it; sell: bids at or above it): all of
 * them (*upto) and those strictly better than the limit (*before). Unlimited depth: any size, one level. */
static void depth_at_limit(const ht_opt_quote *q, const ht_contract *contract, int side, double limit, double *upto,
                           double *before)
{
    double amount = 0.0, better = 0.0;
    if (q->unlimited_depth) {
        *upto = INFINITY;
        *before = 0.0;
        return;
    }
    const unsigned n = side > 0 ? q->n_ask : q->n_bid;
    for (unsigned l = 0; l < n && l < HT_OPT_BOOK_LEVELS; l++) {
        const double px = side > 0 ? q->ask_px[l] : q->bid_px[l];
        if (!(px > 0) || (side > 0 ? px > limit : px < limit))
            break;
        amount += side > 0 ? q->ask_amount[l] : q->bid_amount[l];
        if (px != limit)
            better = amount;
    }
    *upto = ht_units_amount_to_contracts(contract, amount);
    *before = ht_units_amount_to_contracts(contract, better);
}

/* Two quotes with the same levels (what a decision reads of a book; the sums are derived from them). */
static bool same_levels(const ht_opt_quote *a, const ht_opt_quote *b)
{
    if (a->n_bid != b->n_bid || a->n_ask != b->n_ask || a->unlimited_depth != b->unlimited_depth)
        return false;
    for (unsigned l = 0; l < a->n_bid; l++)
        if (a->bid_px[l] != b->bid_px[l] || a->bid_amount[l] != b->bid_amount[l])
            return false;
    for (unsigned l = 0; l < a->n_ask; l++)
        if (a->ask_px[l] != b->ask_px[l] || a->ask_amount[l] != b->ask_amount[l])
            return false;
    return true;
}

/* The rule's band moved by a relative spot step h: centre and half-width previewed there, the gamma at that spot. */
static bool band_at(slow_half *s, unsigned u, const ht_opt_event *at, const ht_opt_quote *quotes, double h,
                    double *centre, double *half_width)
{
    ht_opt_event ev = *at;
    ev.spot = at->spot * (1.0 + h);
    slow_net_delta_at(s, u, ev.spot, &ev.net_gamma);
    ht_opt_decision d;
    if (ht_opt_decide_preview(s->opt, &ev, &s->under[u].opt_book, quotes, &d, NULL) != 0)
        return false;
    *centre = d.centre_coin;
    *half_width = d.half_width_coin;
    return isfinite(*centre) && isfinite(*half_width);
}

/* The band's first-order terms in the spot (central differences one basis point either side) and the error its
 * estimate is allowed: the decision's own rounding of the inputs, and the curvature over the spot tolerance. */
static bool band_terms(slow_half *s, unsigned u, const ht_opt_event *ev, const ht_opt_quote *quotes, armed_hedge *a)
{
    const double h = ARM_SPOT_STEP;
    double cu, hu, cd, hd;
    if (!band_at(s, u, ev, quotes, h, &cu, &hu) || !band_at(s, u, ev, quotes, -h, &cd, &hd))
        return false;
    const double ds = ev->spot * h;
    a->dcentre_per_usd = (cu - cd) / (2.0 * ds);
    a->dhalf_per_usd = (hu - hd) / (2.0 * ds);
    const double curv = (fabs(cu - 2.0 * a->centre + cd) + fabs(hu - 2.0 * a->half_width + hd)) / (ds * ds);
    a->err_coin = ARM_ERR_COIN * (1.0 + fabs(a->nd_coin)) + ARM_ERR_REL * (fabs(a->centre) + fabs(a->half_width));
    a->err_per_usd = ARM_ERR_SLOPE * (fabs(a->dcentre_per_usd) + fabs(a->dhalf_per_usd)) +
                     curv * ARM_SPOT_TOLERANCE * ev->spot;
    return isfinite(a->dcentre_per_usd) && isfinite(a->dhalf_per_usd) && isfinite(a->err_per_usd);
}

/* The decision a breach on one side just beyond the band would get: at the edge of the band in force, or at the
 * rule's own edge at this spot when that lies further out (the decision at the band's edge would not trade). */
static bool decide_edge(slow_half *s, unsigned u, int side, ht_opt_event *ev, const ht_opt_quote *quotes,
                        ht_opt_decision *d)
{
    under_state *us = &s->under[u];
    const double edge = side > 0 ? us->band_hi : us->band_lo;
    ev->net_delta_coin = edge + side * ARM_BEYOND_COIN * (1.0 + fabs(edge));
    if (ht_opt_decide_preview(s->opt, ev, &us->opt_book, quotes, d, NULL) != 0)
        return false;
    if (d->n_orders == 0 && d->reason == HT_OPT_INSIDE_BAND && isfinite(d->centre_coin) &&
        isfinite(d->half_width_coin)) {
        const double rule_edge = d->centre_coin + side * d->half_width_coin;
        if (side * (rule_edge - edge) > 0.0) {
            ev->net_delta_coin = rule_edge + side * ARM_BEYOND_COIN * (1.0 + fabs(rule_edge));
            if (ht_opt_decide_preview(s->opt, ev, &us->opt_book, quotes, d, NULL) != 0)
                return false;
        }
    }
    return d->n_orders > 0 && d->n_orders <= HT_ENGINE_MAX_VENUES && fabs(d->trade_delta_coin) > 0 &&
           isfinite(d->centre_coin) && isfinite(d->half_width_coin) && isfinite(d->target_delta_coin);
}

/* How many of the optimizer's venues u hedges on. */
static unsigned venues_of(const slow_half *s, unsigned u)
{
    unsigned n = 0;
    for (unsigned v = 0; v < s->n_venues; v++)
        n += s->venues[v].u == u && s->venues[v].opt_index >= 0;
    return n;
}

/* Decides and arms the hedge of a breach on one side of u's band (side +1: above it). */
static void arm_side(slow_half *s, unsigned u, int side)
{
    under_state *us = &s->under[u];
    armed_hedge *a = &us->arm[side > 0];
    a->valid = false;
    a->fraction = ht_opt_target_fraction(s->opt, u);
    if (!isfinite(a->fraction))
        return; /* MOVE and the timed rules: a breach's decision does not follow the band */
    ht_opt_event ev = {0};
    ev.underlying = u;
    ev.trigger = HT_OPT_TRIGGER_BREACH;
    ev.now_ns = (int64_t)(s->now_ms * 1000000u);
    ev.spot = us->spot;
    ev.side = side;
    slow_net_delta_at(s, u, us->spot, &ev.net_gamma);
    ht_opt_quote quotes[HT_OPT_MAX_VENUES];
    memset(quotes, 0, sizeof quotes);
    slow_quotes_of(s, u, NULL, quotes);
    for (unsigned v = 0; v < s->n_venues; v++) /* the mark now, as the fast half's quote of a breach has it */
        if (s->venues[v].u == u && s->venues[v].opt_index >= 0 && s->venues[v].mark > 0)
            quotes[s->venues[v].opt_index].reference_px = s->venues[v].mark;
    ht_opt_decision *d = &a->decision;
    if (venues_of(s, u) != 1 || !decide_edge(s, u, side, &ev, quotes, d) || d->n_orders != 1)
        return; /* more venues: the split reads each one's book (not armed yet) */
    for (uint32_t i = 0; i < d->n_orders; i++) {
        const ht_opt_order *o = &d->orders[i];
        int v = slow_venue_index(s, u, o->venue);
        if (v < 0)
            return;
        const venue_state *vs = &s->venues[v];
        const ht_venue_order vo = {vs->name, o->side, o->contracts, o->limit_px, 0, 0};
        if (s->venue->ops->arm(s->venue->ctx, &vo, &a->va[i]) != 0 || !a->va[i].armed)
            return;
        a->venue[i] = (unsigned)v;
        a->quote[i] = quotes[o->venue];
        depth_at_limit(&a->quote[i], &vs->contract, o->side, o->limit_px, &a->max_contracts[i], &a->min_contracts[i]);
    }
    a->nd_coin = ev.net_delta_coin;
    a->spot = ev.spot;
    a->centre = d->centre_coin;
    a->half_width = d->half_width_coin;
    if (!band_terms(s, u, &ev, quotes, a))
        return;
    /* the order as ht_opt_size_alone sizes it there: what the decision sent, or the engine cannot size it alone */
    const ht_opt_order *o = &d->orders[0];
    const double out = side * (a->nd_coin - a->centre);
    double amount, margin;
    if (ht_opt_size_alone(s->opt, u, o->venue, &quotes[o->venue], quotes[o->venue].reference_px, o->side,
                          out - a->fraction * a->half_width, out, &amount, &margin) != 0 ||
        amount != o->amount)
        return;
    a->valid = true;
    s->rep.arms++;
}

bool slow_arm_enabled(const slow_half *s)
{
    return s->e->cfg.prearm && s->venue && s->venue->ops->arm && s->venue->ops->fire;
}

void slow_arm_update(slow_half *s)
{
    if (!slow_arm_enabled(s) || !s->armed || slow_stopped(s) || s->venue->ops->state(s->venue->ctx) != HT_VENUE_ACTIVE)
        return;
    for (unsigned u = 0; u < s->n_under; u++) {
        under_state *us = &s->under[u];
        if (!us->arm_dirty || !us->active || !us->band_set || us->pending > 0 || us->rate_held || us->deferred ||
            !(us->spot > 0) || slow_untrusted_for(s, u, NULL) != 0)
            continue;
        us->arm_dirty = false;
        arm_side(s, u, 1);
        arm_side(s, u, -1);
    }
}

/* Counts and notes a breach that takes the full decision. */
static bool fallback(slow_half *s, ht_engine_arm_fallback why, ht_engine_arm_fallback *out)
{
    s->rep.armed_fallbacks++;
    s->rep.armed_fallback_by_reason[why]++;
    *out = why;
    return false;
}

/* The orders the decision at a breach at (nd, spot) would send with the hedge instrument's reference price ref,
 * from the armed hedge and the band's first-order terms, without deciding: the trade the rule wants there, raised
 * to the minimum and rounded as the optimizer does (ht_opt_size_alone), within what the armed limit's level holds.
 * False with *why when the engine cannot be sure: the breach lies within the allowed error of a point where the
 * decision changes (the rule's edge at that spot, the minimum trade, a rounding step: EDGE), or beyond what the
 * armed order can become (another limit: BEYOND). */
static bool size_at(const slow_half *s, const armed_hedge *a, unsigned u, int side, double nd, double spot, double ref,
                    ht_opt_decision *d, bool *adjusted, ht_engine_arm_fallback *why)
{
    *adjusted = false;
    *why = HT_ENGINE_ARM_FALLBACK_EDGE;
    const double ds = spot - a->spot;
    const double err = a->err_coin + a->err_per_usd * fabs(ds);
    const double centre = a->centre + a->dcentre_per_usd * ds;
    const double half = a->half_width + a->dhalf_per_usd * ds;
    const double out = side * (nd - centre); /* from the centre towards the side of the breach */
    if (out - half <= err || nd * a->nd_coin <= 0.0)
        return false; /* the decision may not be due, or its cost term (the sign of the net delta) may differ */
    double amount, margin;
    ht_opt_order *o = &d->orders[0];
    if (ht_opt_size_alone(s->opt, u, o->venue, &a->quote[0], ref, o->side, out - a->fraction * half, out, &amount,
                          &margin) != 0 ||
        margin <= err)
        return false;
    const double c = ht_units_amount_to_contracts(&s->venues[a->venue[0]].contract, amount);
    if (!(c <= a->max_contracts[0]) || c <= a->min_contracts[0]) {
        *why = HT_ENGINE_ARM_FALLBACK_BEYOND; /* another limit */
        return false;
    }
    if (c != o->contracts) {
        const double k = amount / o->amount;
        o->delta_coin *= k;
        o->expected_cost_usd *= k;
        o->amount = amount;
        o->contracts = c;
        *adjusted = true;
    }
    return true;
}

bool slow_arm_fire(slow_half *s, unsigned u, const msg_breach *b, armed_fire *out)
{
    under_state *us = &s->under[u];
    const int side = (b->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1;
    armed_hedge *a = &us->arm[side > 0];
    if (us->arm_dirty || !a->valid || !slow_pending_free(s)) /* one order: one slot */
        return fallback(s, HT_ENGINE_ARM_FALLBACK_NOT_ARMED, &out->why);
    /* the hedge book it was armed on: the same levels, and a collar centre (the mark, as slow_quotes_of gives it)
     * that leaves the same levels inside the collar (the conversion to coins moves with it: size_at) */
    const ht_opt_quote *q = &b->quotes[a->venue[0]];
    const double mark = s->venues[a->venue[0]].mark;
    const double ref = q->reference_px > 0 ? q->reference_px : mark > 0 ? mark : 0.0;
    if (a->venue[0] >= b->n_venues || !same_levels(q, &a->quote[0]) ||
        !ht_opt_ref_keeps_view(s->opt, u, a->decision.orders[0].venue, q, a->quote[0].reference_px, ref,
                               b->ev.spot_usd))
        return fallback(s, HT_ENGINE_ARM_FALLBACK_QUOTES, &out->why);
    if (fabs(b->ev.spot_usd - a->spot) > ARM_SPOT_TOLERANCE * a->spot)
        return fallback(s, HT_ENGINE_ARM_FALLBACK_SPOT, &out->why);
    out->decision = a->decision;
    ht_engine_arm_fallback why;
    if (!size_at(s, a, u, side, b->ev.net_delta_contracts, b->ev.spot_usd, ref, &out->decision, &out->adjusted,
                 &why))
        return fallback(s, why, &out->why);
    const uint64_t now_ms = b->ts_ms > s->now_ms ? b->ts_ms : s->now_ms; /* as the breach's decision will have it */
    if (!ht_opt_rate_allows(s->opt, u, (int64_t)(now_ms * 1000000u), out->decision.n_orders))
        return fallback(s, HT_ENGINE_ARM_FALLBACK_RATE, &out->why);
    if (!s->e->cfg.threads)
        s->venue->ops->set_clock(s->venue->ctx, now_ms * 1000000u + 1);
    out->fire_tsc = ht_tsc_now();
    for (uint32_t i = 0; i < out->decision.n_orders; i++) {
        ht_venue_send_result *r = &out->res[i];
        memset(r, 0, sizeof *r);
        out->venue[i] = a->venue[i];
        s->venue->ops->fire(s->venue->ctx, &a->va[i], out->decision.orders[i].contracts, b->channel, b->ev.seq, r);
        if (i == 0 && !r->in_flight) {
            out->decision.n_orders = 1;
            a->valid = a->va[0].armed;
            return fallback(s, HT_ENGINE_ARM_FALLBACK_REFUSED, &out->why);
        }
    }
    out->decision.trade_delta_coin = 0.0;
    out->decision.expected_cost_usd = 0.0;
    for (uint32_t i = 0; i < out->decision.n_orders; i++) {
        out->decision.trade_delta_coin += out->decision.orders[i].delta_coin;
        out->decision.expected_cost_usd += out->decision.orders[i].expected_cost_usd;
    }
    s->rep.armed_adjusted += out->adjusted;
    a->valid = false;
    us->arm_dirty = true;
    s->rep.armed_fired++;
    return true;
}

void slow_arm_fire_early(slow_half *s, const msg_breach *b)
{
    const unsigned u = b->ev.underlying;
    s->early.valid = false;
    if (!slow_arm_enabled(s) || !s->armed || u >= s->n_under || slow_stopped(s))
        return;
    const under_state *us = &s->under[u];
    if (us->pending > 0 || us->rate_held || slow_untrusted_for(s, u, b) != 0 || s->mlive[u].flattening)
        return; /* slow_decide sends nothing, or decides anew (rate_gate, suppressed, the margin's flatten level) */
    s->early.u = u;
    s->early.seq = b->ev.seq;
    s->early.fired = slow_arm_fire(s, u, b, &s->early.fire);
    s->early.valid = true;
}

bool slow_arm_at_breach(slow_half *s, unsigned u, const msg_breach *b, armed_fire *out)
{
    if (!s->early.valid || s->early.u != u || s->early.seq != b->ev.seq)
        return slow_arm_fire(s, u, b, out); /* live: the slow half fires at its first look at the breach */
    s->early.valid = false;
    *out = s->early.fire;
    return s->early.fired;
}

bool slow_arm_matches(const armed_fire *f, const ht_opt_decision *d)
{
    if (d->n_orders != f->decision.n_orders)
        return false;
    for (uint32_t i = 0; i < d->n_orders; i++) {
        const ht_opt_order *o = &d->orders[i], *x = &f->decision.orders[i];
        if (o->venue != x->venue || o->side != x->side || o->contracts != x->contracts || o->limit_px != x->limit_px)
            return false;
    }
    return true;
}
void slow_arm_write_json(const slow_half *s, FILE *out)
{
    const ht_engine_report *r = &s->rep;
    fprintf(out,
            "\"prearm\":{\"enabled\":%s,\"arms\":%" PRIu64 ",\"fired\":%" PRIu64 ",\"adjusted\":%" PRIu64
            ",\"fallbacks\":%" PRIu64 ",\"mismatches\":%" PRIu64 ",\"fallback_reasons\":{",
            slow_arm_enabled(s) ? "true" : "false", r->arms, r->armed_fired, r->armed_adjusted, r->armed_fallbacks,
            r->armed_mismatches);
    for (unsigned k = 0; k < HT_ARRAY_LEN(r->armed_fallback_by_reason); k++)
        fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", ht_engine_arm_fallback_name((ht_engine_arm_fallback)k),
                r->armed_fallback_by_reason[k]);
    fputs("}},", out);
}

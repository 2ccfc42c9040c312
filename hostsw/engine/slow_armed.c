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
/* The excess over the armed net delta searched for the same orders: up to this (coin), in this many previews. */
#define ARM_REACH_MAX_COIN 0.05
#define ARM_REACH_STEPS 6

const char *ht_engine_arm_fallback_name(ht_engine_arm_fallback r)
{
    static const char *const names[] = {"not_armed", "quotes", "beyond", "rate", "refused", "spot"};
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

/* Two decisions with the same orders (venue, side, contracts, limit). */
static bool same_orders(const ht_opt_decision *a, const ht_opt_decision *b)
{
    if (a->n_orders != b->n_orders)
        return false;
    for (uint32_t i = 0; i < a->n_orders; i++) {
        const ht_opt_order *x = &a->orders[i], *y = &b->orders[i];
        if (x->venue != y->venue || x->side != y->side || x->contracts != y->contracts || x->limit_px != y->limit_px)
            return false;
    }
    return true;
}

/* How far beyond the assumed net delta a breach may lie and still get the same orders: the decision is monotone
 * in the net delta, so the previews at the edge plus a bisected excess bound it (ARM_REACH_STEPS previews, up to
 * ARM_REACH_MAX_COIN). 0: only the net delta assumed. */
static double reach(slow_half *s, const ht_opt_event *at, const ht_opt_book *book, const ht_opt_quote *quotes,
                    const ht_opt_decision *armed)
{
    ht_opt_event ev = *at;
    const double dir = at->side > 0 ? 1.0 : -1.0;
    double ok = 0.0, step = ARM_REACH_MAX_COIN;
    for (int k = 0; k < ARM_REACH_STEPS; k++) {
        ev.net_delta_coin = at->net_delta_coin + dir * (ok + step);
        ht_opt_decision d;
        if (ht_opt_decide_preview(s->opt, &ev, book, quotes, &d, NULL) == 0 && same_orders(&d, armed))
            ok += step;
        step *= 0.5;
    }
    return ok;
}

/* Decides and arms the hedge of a breach on one side of u's band (side +1: above it). */
static void arm_side(slow_half *s, unsigned u, int side)
{
    under_state *us = &s->under[u];
    armed_hedge *a = &us->arm[side > 0];
    a->valid = false;
    ht_opt_event ev = {0};
    ev.underlying = u;
    ev.trigger = HT_OPT_TRIGGER_BREACH;
    ev.now_ns = (int64_t)(s->now_ms * 1000000u);
    ev.spot = us->spot;
    ev.side = side;
    ev.net_delta_coin = side > 0 ? us->band_hi + ARM_BEYOND_COIN : us->band_lo - ARM_BEYOND_COIN;
    slow_net_delta_at(s, u, us->spot, &ev.net_gamma);
    ht_opt_quote quotes[HT_OPT_MAX_VENUES];
    memset(quotes, 0, sizeof quotes);
    slow_quotes_of(s, u, NULL, quotes);
    ht_error err = {{0}};
    ht_opt_decision *d = &a->decision;
    if (ht_opt_decide_preview(s->opt, &ev, &us->opt_book, quotes, d, &err) != 0 || d->n_orders == 0 ||
        d->n_orders > HT_ENGINE_MAX_VENUES || !(fabs(d->trade_delta_coin) > 0))
        return;
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
    a->reach_coin = reach(s, &ev, &us->opt_book, quotes, d);
    /* The target's slope in the spot: the same breach previewed at a spot one basis point away. */
    ht_opt_event moved = ev;
    moved.spot = ev.spot * (1.0 + 1e-4);
    slow_net_delta_at(s, u, moved.spot, &moved.net_gamma);
    ht_opt_decision dm;
    a->target_per_usd = ht_opt_decide_preview(s->opt, &moved, &us->opt_book, quotes, &dm, NULL) == 0 &&
                                isfinite(dm.target_delta_coin)
                            ? (dm.target_delta_coin - d->target_delta_coin) / (moved.spot - ev.spot)
                            : 0.0;
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

/* The armed order's size for a breach at nd, by the precomputed slope: the trade the decision wanted before
 * rounding (its target minus the net delta) grows by the breach's excess, in the order's contracts per coin, and
 * is rounded to whole contracts (at least one) as the optimizer rounds one venue's order. Single-order decisions
 * on whole contracts only. False when the size leaves what the armed limit's level holds (a different limit). */
static bool adjusted_sizes(const armed_hedge *a, double nd, double spot, ht_opt_decision *d, bool *adjusted)
{
    *adjusted = false;
    if (d->n_orders != 1)
        return false;
    ht_opt_order *o = &d->orders[0];
    if (o->contracts != floor(o->contracts) || !(fabs(o->delta_coin) > 0))
        return false;
    const double per_coin = o->contracts / fabs(o->delta_coin);
    const double target = a->decision.target_delta_coin + a->target_per_usd * (spot - a->spot);
    const double want = fabs(target - nd) * per_coin;
    const double c = fmax(1.0, floor(want + 0.5));
    if (!isfinite(c) || c > a->max_contracts[0] || c <= a->min_contracts[0])
        return false;
    if (c != o->contracts) {
        const double k = c / o->contracts;
        o->delta_coin *= k;
        o->expected_cost_usd *= k;
        o->amount *= k;
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
    unsigned free_slots = 0;
    for (unsigned k = 0; k < ENGINE_MAX_PENDING; k++)
        free_slots += !s->pending[k].used;
    if (us->arm_dirty || !a->valid || free_slots < a->decision.n_orders)
        return fallback(s, HT_ENGINE_ARM_FALLBACK_NOT_ARMED, &out->why);
    for (uint32_t i = 0; i < a->decision.n_orders; i++)
        if (a->venue[i] >= b->n_venues || !same_levels(&b->quotes[a->venue[i]], &a->quote[i]))
            return fallback(s, HT_ENGINE_ARM_FALLBACK_QUOTES, &out->why);
    if (fabs(b->ev.spot_usd - a->spot) > ARM_SPOT_TOLERANCE * a->spot)
        return fallback(s, HT_ENGINE_ARM_FALLBACK_SPOT, &out->why);
    out->decision = a->decision;
    out->adjusted = false;
    const double excess = (b->ev.net_delta_contracts - a->nd_coin) * (side > 0 ? 1.0 : -1.0);
    if (excess > a->reach_coin && !adjusted_sizes(a, b->ev.net_delta_contracts, b->ev.spot_usd, &out->decision, &out->adjusted))
        return fallback(s, HT_ENGINE_ARM_FALLBACK_BEYOND, &out->why);
    if (!ht_opt_rate_allows(s->opt, u, (int64_t)(s->now_ms * 1000000u), out->decision.n_orders))
        return fallback(s, HT_ENGINE_ARM_FALLBACK_RATE, &out->why);
    if (!s->e->cfg.threads)
        s->venue->ops->set_clock(s->venue->ctx, s->now_ms * 1000000u + 1);
    out->fire_tsc = ht_tsc_now();
    for (uint32_t i = 0; i < out->decision.n_orders; i++) {
        ht_venue_send_result *r = &out->res[i];
        memset(r, 0, sizeof *r);
        out->venue[i] = a->venue[i];
        s->venue->ops->fire(s->venue->ctx, &a->va[i], out->decision.orders[i].contracts, b->channel, b->ev.seq, r);
        if (i == 0 && !r->in_flight) {
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

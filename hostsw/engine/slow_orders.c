/* SPDX-License-Identifier: MIT */
/* The engine's slow half, decisions and orders: the optimizer's decision for an underlying (unless the data is not
 * trusted), its orders sent to the venue back to back, the venue's events (fills, rejects, the kill switch, the
 * session), and the decision resolved into the pipeline's inventory and band. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "slow_priv.h"
#include "hedgetrig/tsc.h"

#define RATE_RETRY_MS 100 /* a held hedge on a venue that mirrors no limit is tried again after this long */

/* Records a fill of a pending order (LastQty in contracts, as the venue reports it): position, inventory, costs,
 * the event log. Every conversion goes through hedgetrig/units.h. */
static void apply_fill(slow_half *s, pending_order *p, double contracts, double px)
{
    ht_engine_report *rep = &s->rep;
    venue_state *v = &s->venues[p->venue];
    under_state *us = &s->under[p->u];
    /* The coin delta at the price the optimizer computed the order's delta at, so a full fill adds exactly the
     * delta it intended (docs/units.md). */
    double delta = p->side * ht_units_contracts_to_coin(&v->contract, contracts, p->delta_px);
    p->filled_contracts += contracts;
    v->position_contracts += p->side * contracts;
    us->decision_fills += delta;
    us->fills_since_tick += delta;
    double fee = v->taker_fee * ht_units_contracts_to_usd(&v->contract, contracts, px);
    double slip = p->side * (px - p->ref_px) * ht_units_contracts_to_coin(&v->contract, contracts, px);
    rep->fills++;
    rep->filled_contracts += contracts;
    rep->traded_coin += fabs(delta);
    rep->fees_usd += fee;
    rep->slippage_usd += slip;
    rep->cost_usd += fee + slip;
    ht_error err;
    if (ht_positions_set_qty(s->book, v->book_index, v->position_contracts, &err) == 0)
        ht_greeks_book_changed(s->greeks);
    slow_margin_update(s);
    slow_live_note_hedge_fill(s, v->name, p->side * contracts);
    slow_log_order(s, "fill", (int)p->u, v->name, p->side, contracts, px, p->clordid, NAN,
                   "delta %.15g coin fee %.4f USD slippage %.4f USD", delta, fee, slip);
}

/* The decision of u is resolved: the inventory and the band go to the pipeline (re-arming it). */
static void decision_resolved(slow_half *s, unsigned u)
{
    under_state *us = &s->under[u];
    const ht_opt_decision *d = &us->decision;
    double filled = us->decision_fills;
    /* A table loaded while the orders were in flight took the fills made until then into H already. */
    us->h_pipe += filled - us->fills_in_load;
    us->fills_in_load = 0.0;
    us->held += filled;
    if (us->decision_trigger == HT_OPT_TRIGGER_BREACH)
        us->breach_fills = filled;
    slow_command(s, CMD_SET_INVENTORY, u, us->h_pipe, 0);
    double lo = d->band_lo_coin, hi = d->band_hi_coin;
    slow_set_band(s, u, lo, hi);
    slow_log_market(s, "resolved", (int)u, us->spot, us->decision_nd + filled, lo, hi, 0, NULL, "filled %.10g coin",
                    filled);
}

/* Marks an order resolved; resolves its decision when it was the last one. */
static void order_done(slow_half *s, pending_order *p, const char *why)
{
    unsigned u = p->u, venue = p->venue;
    slow_log_order(s, "done", (int)u, s->venues[venue].name, p->side, p->filled_contracts, NAN, p->clordid, NAN,
                   "%s", why);
    p->used = false;
    under_state *us = &s->under[u];
    if (us->pending > 0 && --us->pending == 0)
        decision_resolved(s, u);
    if (!slow_order_in_flight(s, venue))
        slow_live_orders_resolved(s, venue);
}

bool slow_order_in_flight(const slow_half *s, unsigned v)
{
    for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++)
        if (s->pending[i].used && s->pending[i].venue == v)
            return true;
    return false;
}

bool slow_stopped(const slow_half *s)
{
    return s->killed || s->live.halted;
}

/* The pending order with this ClOrdID number, or NULL. */
static pending_order *find_pending(slow_half *s, uint64_t clordid)
{
    for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++)
        if (s->pending[i].used && s->pending[i].clordid == clordid)
            return &s->pending[i];
    return NULL;
}

/* Handles what the venue reports: fills, rejects and ends of our orders, the kill switch, the session. */
static void on_venue_event(slow_half *s, const ht_venue_event *ev)
{
    if (ev->type != HT_VENUE_EV_ACCOUNT && ev->type != HT_VENUE_EV_OTHER)
        slow_arm_dirty(s, -1); /* fills, the session, the kill switch, the book: inputs of the armed hedges */
    switch (ev->type) {
    case HT_VENUE_EV_ORDER: {
        pending_order *p = find_pending(s, ev->order_id);
        if (!p)
            break;
        if (ev->fill_contracts > 0)
            apply_fill(s, p, ev->fill_contracts, ev->fill_px);
        if (ev->rejected) {
            s->rep.orders_rejected++;
            snprintf(s->last_order_problem, sizeof s->last_order_problem, "rejected by the venue: %.170s", ev->text);
            slow_log_order(s, "reject", (int)p->u, s->venues[p->venue].name, p->side, NAN, NAN, p->clordid, NAN,
                           "venue: %s", ev->text);
        }
        if (ev->end != HT_VENUE_ORDER_OPEN)
            order_done(s, p, ev->end == HT_VENUE_ORDER_FILLED     ? "filled"
                             : ev->end == HT_VENUE_ORDER_REJECTED ? "rejected"
                                                                  : "cancelled");
        break;
    }
    case HT_VENUE_EV_ORDER_VOID: {
        pending_order *p = find_pending(s, ev->order_id);
        if (p)
            order_done(s, p, "void");
        break;
    }
    case HT_VENUE_EV_KILL:
        s->killed = true;
        s->rep.killed = true;
        slow_log_info(s, "kill", -1, "%s", ev->text);
        break;
    case HT_VENUE_EV_DOWN:
    case HT_VENUE_EV_GIVE_UP:
        slow_log_info(s, ev->type == HT_VENUE_EV_GIVE_UP ? "venue_give_up" : "venue_down", -1, "%s", ev->text);
        if (ev->type == HT_VENUE_EV_GIVE_UP)
            engine_fail(s->e, "venue: gave up reconnecting: %s", ev->text);
        break;
    case HT_VENUE_EV_LOGON:
        slow_log_info(s, "venue_up", -1, "%s", ev->text);
        slow_live_logon(s);
        break;
    case HT_VENUE_EV_POSITION:
    case HT_VENUE_EV_TRADE:
    case HT_VENUE_EV_ACCOUNT:
        slow_live_event(s, ev);
        break;
    default:
        break;
    }
}

void slow_poll_venue(slow_half *s)
{
    ht_venue_event evs[16];
    int n;
    s->venue_poll_depth++;
    while ((n = s->venue->ops->poll(s->venue->ctx, evs, 16)) > 0)
        for (int i = 0; i < n; i++)
            on_venue_event(s, &evs[i]);
    s->venue_poll_depth--;
    uint64_t now = ht_mono_ns();
    uint64_t limit = (uint64_t)s->e->cfg.order_timeout_ms * 1000000u;
    for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++) {
        pending_order *p = &s->pending[i];
        if (p->used && now - p->sent_wall_ns > limit)
            order_done(s, p, "timeout");
    }
}

/* Between packets (replay) or in the slow thread's loop (live): the venue's answers. */
void engine_slow_poll(slow_half *s)
{
    /* Replay: the venue's clock follows the capture's between decisions too (the account script's events fall due
     * at their time, not at the next decision's). */
    if (!s->e->cfg.threads && s->now_ms)
        s->venue->ops->set_clock(s->venue->ctx, s->now_ms * 1000000u + 1);
    slow_poll_venue(s);
    slow_live_settle(s);
    /* A held hedge goes out once the venue's limits have room (live: no tick may come for a while). */
    for (unsigned u = 0; s->armed && u < s->n_under; u++)
        if (s->under[u].rate_held && s->under[u].pending == 0 && slow_rate_fits(s, u))
            slow_decide(s, u, HT_OPT_TRIGGER_REFRESH, NULL);
}

/* Waits until u's orders are resolved (replay: every decision completes before the next packet). */
static void wait_resolved(slow_half *s, unsigned u)
{
    /* Poll first (an answer on loopback takes tens of microseconds; sleeping would cool the caches), then wait. */
    uint64_t spin_until = ht_mono_ns() + 200000u;
    while (s->under[u].pending > 0) {
        if (ht_mono_ns() > spin_until)
            s->venue->ops->wait(s->venue->ctx, 1);
        slow_poll_venue(s);
    }
}

/* What became of one child order of a decision. */
typedef struct order_result {
    unsigned venue;
    ht_venue_send_result res; /* res.in_flight: the order went out */
} order_result;

int slow_venue_index(const slow_half *s, unsigned u, unsigned opt_venue)
{
    for (unsigned v = 0; v < s->n_venues; v++)
        if (s->venues[v].u == u && s->venues[v].opt_index == (int)opt_venue)
            return (int)v;
    return -1;
}

/* A free pending-order slot, or ENGINE_MAX_PENDING. */
static unsigned free_slot(const slow_half *s)
{
    for (unsigned k = 0; k < ENGINE_MAX_PENDING; k++)
        if (!s->pending[k].used)
            return k;
    return ENGINE_MAX_PENDING;
}

bool slow_pending_free(const slow_half *s)
{
    return free_slot(s) < ENGINE_MAX_PENDING;
}

/* Tracks an order that went out in pending slot `slot` until its venue resolves it. */
static void track_order(slow_half *s, unsigned u, unsigned slot, unsigned venue, const ht_opt_order *o,
                        uint64_t order_id)
{
    const venue_state *v = &s->venues[venue];
    pending_order *p = &s->pending[slot];
    *p = (pending_order){true, order_id, u, venue, o->side, o->contracts, 0.0, 0.0, 0.0, o->expected_cost_usd,
                         ht_mono_ns()};
    p->ref_px = v->mark > 0 ? v->mark : o->limit_px;
    p->delta_px = o->ref_px;
    s->under[u].pending++;
}

/* Sends a decision's orders back to back (nothing else on the way: the logs come after), each carrying the
 * breach's frame (b, NULL for a timer or refresh). Returns how many went out; out[i] says what became of order i. */
static unsigned send_orders(slow_half *s, unsigned u, const ht_opt_decision *d, const msg_breach *b, ht_stamps *st,
                            order_result *out)
{
    unsigned sent = 0;
    double nd_run = s->under[u].decision_nd; /* the net delta before each order ([margin] flatten_ratio) */
    if (!s->e->cfg.threads)
        s->venue->ops->set_clock(s->venue->ctx, s->now_ms * 1000000u + 1);
    for (uint32_t i = 0; i < d->n_orders; i++) {
        const ht_opt_order *o = &d->orders[i];
        order_result *r = &out[i];
        int vi = slow_venue_index(s, u, o->venue);
        r->venue = vi < 0 ? 0 : (unsigned)vi;
        const venue_state *v = &s->venues[r->venue];
        unsigned slot = free_slot(s);
        if (slot == ENGINE_MAX_PENDING) {
            snprintf(r->res.reason, sizeof r->res.reason, "%d orders in flight", ENGINE_MAX_PENDING);
            r->res.in_flight = false;
            r->res.order_id = 0;
            continue;
        }
        const ht_venue_order vo = {v->name, o->side, o->contracts, o->limit_px, b ? b->channel : 0,
                                   b ? b->ev.seq : 0};
        memset(&r->res, 0, sizeof r->res);
        if (HT_UNLIKELY(slow_margin_refuses(s, u, nd_run, o->delta_coin, r->res.reason, sizeof r->res.reason))) {
            s->rep.margin_refused++;
            continue;
        }
        nd_run += o->delta_coin;
        s->venue->ops->send(s->venue->ctx, &vo, &r->res);
        if (sent == 0 && st && r->res.ready_tsc) {
            st->tsc[HT_STAGE_ORDER_ENCODED] = r->res.ready_tsc;
            st->tsc[HT_STAGE_ORDER_WRITTEN] = r->res.written_tsc;
        }
        if (!r->res.in_flight)
            continue;
        track_order(s, u, slot, r->venue, o, r->res.order_id);
        sent++;
    }
    return sent;
}

/* A fired armed hedge's orders are the decision's: tracked as sent, and the decision taken after them compared
 * with them (a difference is counted and logged; the orders out are the ones the book follows). d becomes the
 * decision as sent. Returns how many went out. */
static unsigned take_fired(slow_half *s, unsigned u, const armed_fire *f, int rc, ht_opt_decision *d,
                          order_result *res)
{
    const ht_opt_decision *x = &f->decision;
    const bool matched = rc == 0 && slow_arm_matches(f, d);
    if (!matched) {
        s->rep.armed_mismatches++;
        const ht_opt_order *o = rc == 0 && d->n_orders > 0 ? &d->orders[0] : NULL;
        slow_log_order(s, "armed_mismatch", (int)u, s->venues[f->venue[0]].name, x->orders[0].side,
                       x->orders[0].contracts, x->orders[0].limit_px, f->res[0].order_id, NAN,
                       "fired %u orders, the first %.10g at %.10g; the decision at the breach: %u orders%s%.10g at "
                       "%.10g (%s)",
                       x->n_orders, x->orders[0].contracts, x->orders[0].limit_px, rc == 0 ? d->n_orders : 0,
                       o ? ", the first " : " ", o ? o->contracts : 0.0, o ? o->limit_px : 0.0,
                       rc == 0 ? ht_opt_reason_name(d->reason) : "error");
    }
    if (rc != 0 || d->n_orders == 0) {
        *d = *x;
    } else if (!matched) {
        d->n_orders = x->n_orders;
        memcpy(d->orders, x->orders, x->n_orders * sizeof d->orders[0]);
        d->trade_delta_coin = x->trade_delta_coin;
        d->expected_cost_usd = x->expected_cost_usd;
    } /* else the decision's own orders: the same on the wire, and its coins and costs at the breach's prices */
    unsigned sent = 0;
    for (uint32_t i = 0; i < x->n_orders; i++) {
        res[i].venue = f->venue[i];
        res[i].res = f->res[i];
        if (!f->res[i].in_flight)
            continue;
        unsigned slot = free_slot(s); /* slow_arm_fire checked there were enough */
        if (slot == ENGINE_MAX_PENDING) {
            engine_fail(s->e, "engine: an armed order went out with no pending slot free");
            break;
        }
        track_order(s, u, slot, f->venue[i], &d->orders[i], f->res[i].order_id);
        sent++;
    }
    return sent;
}

/* Sends a decision's orders, unless the venue's final gate refused this very order a moment ago when it was fired
 * armed (the same rules at the same clock): its answer is then the send's, and the order is not offered twice (a
 * rate hold counted twice, say). Returns how many went out. */
static unsigned send_or_refused(slow_half *s, unsigned u, const ht_opt_decision *d, const msg_breach *b, ht_stamps *st,
                                const armed_fire *fire, order_result *res)
{
    if (fire && fire->why == HT_ENGINE_ARM_FALLBACK_REFUSED && d->n_orders == 1 && slow_arm_matches(fire, d)) {
        res[0].venue = fire->venue[0];
        res[0].res = fire->res[0];
        return 0;
    }
    return send_orders(s, u, d, b, st, res);
}

/* Logs a decision's orders and counts them. */
static void log_orders(slow_half *s, unsigned u, const ht_opt_decision *d, const order_result *res)
{
    for (uint32_t i = 0; i < d->n_orders; i++) {
        const ht_opt_order *o = &d->orders[i];
        const order_result *r = &res[i];
        const char *name = s->venues[r->venue].name;
        if (!r->res.in_flight && r->res.rate_limited) {
            /* Not dropped: held until the venue's limits have room, then decided again on the delta then. */
            s->rep.hedges_held_for_rate++;
            s->under[u].rate_holds++;
            s->under[u].rate_held = true;
            slow_log_order(s, "rate_hold", (int)u, name, o->side, o->contracts, o->limit_px, 0, o->expected_cost_usd,
                           "delta %.15g coin held: %s; decided again once an order fits (%u held)", o->delta_coin,
                           r->res.reason, s->under[u].rate_holds);
            continue;
        }
        if (!r->res.in_flight) {
            s->rep.orders_refused++;
            snprintf(s->last_order_problem, sizeof s->last_order_problem, "refused by the gateway: %.170s",
                     r->res.reason);
            slow_log_order(s, "refused", (int)u, name, o->side, o->contracts, o->limit_px, 0, o->expected_cost_usd,
                           "delta %.15g coin at %.15g: %s", o->delta_coin, o->ref_px, r->res.reason);
            continue;
        }
        s->rep.orders++;
        s->rep.expected_cost_usd += o->expected_cost_usd;
        slow_log_order(s, "order", (int)u, name, o->side, o->contracts, o->limit_px, r->res.order_id,
                       o->expected_cost_usd, "delta %.15g coin at %.15g", o->delta_coin, o->ref_px);
    }
}

void slow_quotes_of(const slow_half *s, unsigned u, const msg_breach *b, ht_opt_quote *q)
{
    for (unsigned v = 0; v < s->n_venues; v++) {
        const venue_state *vs = &s->venues[v];
        if (vs->u != u || vs->opt_index < 0)
            continue;
        ht_opt_quote *dst = &q[vs->opt_index];
        *dst = b ? b->quotes[v] : vs->quote;
        if (!(dst->reference_px > 0))
            dst->reference_px = vs->mark > 0 ? vs->mark : 0.0;
        dst->position_amount = ht_units_contracts_to_amount(&vs->contract, vs->position_contracts);
    }
}

uint32_t slow_untrusted_for(const slow_half *s, unsigned u, const msg_breach *b)
{
    uint32_t bits = b ? b->untrusted : (s->under[u].index_trusted ? 0u : UNTRUSTED_INDEX) | s->venues_untrusted;
    uint32_t mine = UNTRUSTED_INDEX;
    for (unsigned v = 0; v < s->n_venues; v++)
        if (s->venues[v].u == u && s->venues[v].opt_index >= 0)
            mine |= UNTRUSTED_VENUE(v);
    return bits & mine;
}

/* No decision on data the feed does not trust: counts and logs it, and leaves u to decide again (a refresh
 * decision) once the data is trusted. Returns true when the decision must send nothing. */
static bool suppressed(slow_half *s, unsigned u, ht_opt_trigger trigger, const msg_breach *b)
{
    const uint32_t bits = slow_untrusted_for(s, u, b);
    if (HT_LIKELY(!bits))
        return false;
    under_state *us = &s->under[u];
    us->deferred = true;
    s->rep.decisions_suppressed++;
    if (bits & UNTRUSTED_INDEX)
        s->rep.suppressed_index++;
    else
        s->rep.suppressed_venue++;
    char names[4 * 48 + 8] = "";
    for (unsigned v = 0; v < s->n_venues; v++)
        if (bits & UNTRUSTED_VENUE(v))
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? " " : "",
                     s->venues[v].name);
    static const char *const trig[] = {"breach", "timer", "refresh"};
    double spot = b ? b->ev.spot_usd : us->spot;
    double nd = b ? b->ev.net_delta_contracts : slow_net_delta_at(s, u, us->spot, NULL);
    int side = b ? ((b->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1) : 0;
    slow_log_market(s, "suppressed", (int)u, spot, nd, us->band_lo, us->band_hi, side, "untrusted",
                    "%s: no order: %s%s%s%s", trig[trigger], (bits & UNTRUSTED_INDEX) ? "the index is not trusted" : "",
                    (bits & UNTRUSTED_INDEX) && names[0] ? "; " : "", names[0] ? "not trusted since a gap: " : "", names);
    return true;
}

bool slow_rate_fits(slow_half *s, unsigned u)
{
    const ht_venue *v = s->venue;
    ht_venue_limits l;
    memset(&l, 0, sizeof l);
    if (v->ops->limits) {
        if (!s->e->cfg.threads)
            v->ops->set_clock(v->ctx, s->now_ms * 1000000u + 1);
        v->ops->limits(v->ctx, &l);
    }
    /* A venue that mirrors no limit says nothing about when: try again after a pause, never at every tick. */
    if (!l.known)
        return s->now_ms >= s->under[u].rate_retry_ms;
    return l.next_order_ns == 0;
}

/* A decision while a hedge of u is held for the venue's rate limits: none until one order fits (the breach that
 * found u held is logged, the pipeline stays muted); then this decision takes the held hedges' place on the net
 * delta now, and *merging says how many it merges. False when the decision must wait. */
static bool rate_gate(slow_half *s, unsigned u, const msg_breach *b, unsigned *merging)
{
    under_state *us = &s->under[u];
    *merging = 0;
    if (!us->rate_held)
        return true;
    if (!slow_rate_fits(s, u)) {
        if (b)
            slow_log_market(s, "breach", (int)u, b->ev.spot_usd, b->ev.net_delta_contracts, us->band_lo, us->band_hi,
                            (b->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1, "rate_held",
                            "seq %" PRIu64 ": %u hedges held until the venue's rate limits have room", b->ev.seq,
                            us->rate_holds);
        return false;
    }
    *merging = us->rate_holds;
    us->rate_held = false;
    us->rate_holds = 0;
    return true;
}

void slow_decide(slow_half *s, unsigned u, ht_opt_trigger trigger, const msg_breach *b)
{
    under_state *us = &s->under[u];
    if (us->pending > 0 || slow_stopped(s))
        return;
    unsigned merging;
    if (!rate_gate(s, u, b, &merging))
        return;
    if (suppressed(s, u, trigger, b)) {
        /* Still held: decided again once the data is trusted. */
        us->rate_held |= merging > 0;
        us->rate_holds += merging;
        return;
    }
    /* The armed hedge first: the order goes out before anything is decided, the decision follows. */
    armed_fire fire;
    fire.why = HT_ENGINE_ARM_FALLBACK_NOT_ARMED;
    const bool arming = slow_arm_enabled(s) && !s->mlive[u].flattening; /* flatten: every order checked */
    const bool fired = b && arming && slow_arm_at_breach(s, u, b, &fire);
    slow_arm_dirty(s, (int)u); /* the decision moves the optimizer's state */
    ht_opt_event ev = {0};
    ev.underlying = u;
    ev.trigger = trigger;
    ev.now_ns = (int64_t)(s->now_ms * 1000000u);
    if (b) {
        ev.spot = b->ev.spot_usd;
        ev.net_delta_coin = b->ev.net_delta_contracts;
        ev.net_gamma = b->ev.net_gamma_per_usd;
        ev.side = (b->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : (b->ev.side & HT_PIPE_SIDE_DELTA_LO) ? -1 : 0;
    } else {
        ev.spot = us->spot;
        ev.net_delta_coin = slow_net_delta_at(s, u, us->spot, &ev.net_gamma);
    }
    ht_opt_quote quotes[HT_OPT_MAX_VENUES]; /* only u's venues are filled and read */
    memset(quotes, 0, s->n_venues * sizeof quotes[0]);
    slow_quotes_of(s, u, b, quotes);
    ht_opt_decision d;
    ht_error err = {{0}};
    int rc = ht_opt_decide(s->opt, &ev, &us->opt_book, quotes, &d, &err);
    ht_stamps st;
    if (b) {
        st = b->st;
        st.tsc[HT_STAGE_DECISION] = fired ? fire.fire_tsc : ht_tsc_now();
        if (fired) {
            st.tsc[HT_STAGE_ORDER_ENCODED] = fire.res[0].ready_tsc;
            st.tsc[HT_STAGE_ORDER_WRITTEN] = fire.res[0].written_tsc;
        }
    }
    us->decision_fills = 0.0;
    us->fills_in_load = 0.0;
    us->decision_trigger = trigger;
    us->decision_nd = ev.net_delta_coin;
    order_result res[HT_OPT_MAX_VENUES];
    unsigned sent = 0;
    if (fired) {
        sent = take_fired(s, u, &fire, rc, &d, res);
        rc = 0;
        us->decision = d;
    } else if (rc == 0 && d.n_orders > 0 && !slow_stopped(s)) {
        us->decision = d;
        sent = send_or_refused(s, u, &d, b, b ? &st : NULL, arming ? &fire : NULL, res);
    }
    /* Off the order path from here on. */
    if (b && sent > 0) {
        /* The later stamps were taken in real time; a modelled pipeline took less. */
        for (unsigned k = HT_STAGE_DECISION; k < HT_STAGE_COUNT; k++)
            if (st.tsc[k])
                st.tsc[k] -= b->model_shift_tsc;
        ht_profile_record_spans(s->prof, &st,
                                (1u << HT_SPAN_EVENT_TO_DECISION) | (1u << HT_SPAN_DECISION_TO_ENCODED) |
                                    (1u << HT_SPAN_ENCODED_TO_WRITTEN) | (1u << HT_SPAN_TICK_TO_ORDER) |
                                    (1u << HT_SPAN_TICK_TO_WIRE));
    }
    if (b)
        slow_log_market(s, "breach", (int)u, b->ev.spot_usd, b->ev.net_delta_contracts, us->band_lo, us->band_hi,
                        (b->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1, NULL, "seq %" PRIu64 " gamma %.6g dvol %.10g%s%s%s",
                        b->ev.seq, b->ev.net_gamma_per_usd, us->vol_move_sent, arming ? " armed: " : "",
                        !arming ? "" : fired ? "fired" : ht_engine_arm_fallback_name(fire.why),
                        fired && fire.adjusted ? " (size adjusted)" : "");
    s->rep.decisions++;
    if ((unsigned)d.reason < HT_ARRAY_LEN(s->rep.decisions_by_reason))
        s->rep.decisions_by_reason[d.reason]++;
    static const char *const trig[] = {"breach", "timer", "refresh"};
    slow_log_market(s, "decision", (int)u, ev.spot, ev.net_delta_coin, d.band_lo_coin, d.band_hi_coin, ev.side,
                    ht_opt_reason_name(d.reason), "%s: trade %.10g coin in %u orders, expected cost %.6f USD%s%s",
                    trig[trigger], d.trade_delta_coin, d.n_orders, d.expected_cost_usd, rc ? "; " : "", rc ? err.msg : "");
    if (merging) {
        s->rep.hedges_merged += merging;
        slow_log_market(s, "rate_merged", (int)u, ev.spot, ev.net_delta_coin, d.band_lo_coin, d.band_hi_coin, 0,
                        NULL, "%u held hedges merged into this decision on the net delta now: trade %.10g coin",
                        merging, d.trade_delta_coin);
    }
    if (rc != 0)
        return;
    if (d.n_orders > 0 && !slow_stopped(s))
        log_orders(s, u, &d, res);
    if (d.next_timer_ns > 0)
        us->next_timer_ns = d.next_timer_ns;
    if (sent == 0) {
        /* All held for rate: the pipeline stays muted until the held hedge is decided again. */
        if (us->rate_held)
            us->rate_retry_ms = s->now_ms + RATE_RETRY_MS;
        else
            slow_set_band(s, u, d.band_lo_coin, d.band_hi_coin);
        return;
    }
    if (us->rate_held)
        us->rate_retry_ms = s->now_ms + RATE_RETRY_MS;
    if (!s->e->cfg.threads)
        wait_resolved(s, u);
}

/* SPDX-License-Identifier: MIT */
/* The engine's slow half: the book, greeks refresh, hedge decisions, orders and fills, statistics and logs. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_priv.h"
#include "hedgetrig/greeks_feed.h"
#include "hedgetrig/textfile.h"
#include "hedgetrig/tsc.h"

#define CHECK_TOLERANCE_COIN 1e-6 /* fixed-point rounding of the pipeline's net delta stays far below this */
#define VOL_MOVE_STEP 1e-4        /* a vol move change that is worth a register write */
#define DEFAULT_TAU_YEARS (30.0 / 365.0)
#define DEFAULT_VOL 0.5

static void set_venue_book(slow_half *s, venue_state *vs, const ht_book_level *bids, unsigned nb,
                           const ht_book_level *asks, unsigned na, double mark);
static void note_greeks(slow_half *s);

/* ---- Registry mirror ------------------------------------------------------------------------------------- */

/* The mirrored instrument with this id, or NULL. */
static ht_instrument *reg_find(slow_half *s, uint32_t id)
{
    for (uint32_t i = 0; i < s->n_reg; i++)
        if (s->reg[i].id == id)
            return &s->reg[i];
    return NULL;
}

/* The mirrored instrument with this name, or NULL. */
static ht_instrument *reg_find_name(slow_half *s, const char *name, size_t len)
{
    for (uint32_t i = 0; i < s->n_reg; i++)
        if (s->reg[i].name_len == len && memcmp(s->reg[i].name, name, len) == 0)
            return &s->reg[i];
    return NULL;
}

/* Stores an instrument record (a later record of the same id keeps the ticker state already mirrored). */
static void reg_store(slow_half *s, const ht_instrument *in)
{
    ht_instrument *r = reg_find(s, in->id);
    if (r) {
        ht_ticker t = r->ticker;
        *r = *in;
        if (t.timestamp_ms > r->ticker.timestamp_ms)
            r->ticker = t;
        return;
    }
    if (s->n_reg == s->cap_reg) {
        uint32_t cap = s->cap_reg ? 2 * s->cap_reg : 256;
        ht_instrument *n = realloc(s->reg, cap * sizeof *n);
        if (!n)
            return;
        s->reg = n;
        bool *t = realloc(s->reg_trusted, cap * sizeof *t);
        if (!t)
            return;
        s->reg_trusted = t;
        s->cap_reg = cap;
    }
    s->reg_trusted[s->n_reg] = in->ticker.timestamp_ms != 0;
    s->reg[s->n_reg++] = *in;
}

/* ht_instrument_lookup_fn over the mirror. */
static int mirror_lookup(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    ht_instrument *in = reg_find_name(ctx, name, len);
    if (!in)
        return -1;
    return ht_greeks_spec_from_feed(in, out, why);
}

/* ht_instrument_lookup_fn that accepts any name (a syntax check of the book before the registry is known). */
static int any_lookup(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    (void)ctx;
    (void)why;
    memset(out, 0, sizeof *out);
    static uint32_t next_id = 1;
    out->id = next_id++;
    snprintf(out->name, sizeof out->name, "%.*s", (int)(len < HT_POS_NAME_MAX ? len : HT_POS_NAME_MAX), name);
    out->kind = HT_POS_OPTION;
    out->option_type = HT_B76_CALL;
    out->strike = 1.0;
    out->contract_size = 1.0;
    out->size_in_coin = true;
    snprintf(out->base_currency, sizeof out->base_currency, "BTC");
    return 0;
}

/* ---- Output --------------------------------------------------------------------------------------------- */

/* Writes an exchange time as Unix seconds with milliseconds, the time base of the event log and the series
 * (nothing before the first market data: no exchange time is known yet). */
static void write_time_s(FILE *f, uint64_t ts_ms)
{
    if (ts_ms)
        fprintf(f, "%" PRIu64 ".%03" PRIu64, ts_ms / 1000, ts_ms % 1000);
}

/* Writes the start of an event-log line: time, event, underlying (empty when u < 0). */
static bool log_begin(slow_half *s, const char *event, int u)
{
    if (!s->event_log)
        return false;
    write_time_s(s->event_log, s->now_ms);
    fprintf(s->event_log, ",%s,", event);
    if (u >= 0)
        fprintf(s->event_log, "%d", u);
    return true;
}

/* Writes a number column (empty for NaN). */
static void log_num(slow_half *s, double x)
{
    if (isnan(x))
        fputc(',', s->event_log);
    else
        fprintf(s->event_log, ",%.10g", x);
}

/* Writes the detail column and ends the line. */
static void log_detail(slow_half *s, const char *fmt, va_list ap)
{
    fputc(',', s->event_log);
    vfprintf(s->event_log, fmt, ap);
    fputc('\n', s->event_log);
}

/* A market row: spot, net delta, band, breach side, decision reason, then the detail. */
static void log_market(slow_half *s, const char *event, int u, double spot, double nd, double lo, double hi, int side,
                       const char *reason, const char *fmt, ...) HT_PRINTF(10, 11);
static void log_market(slow_half *s, const char *event, int u, double spot, double nd, double lo, double hi, int side,
                       const char *reason, const char *fmt, ...)
{
    if (!log_begin(s, event, u))
        return;
    log_num(s, spot);
    log_num(s, nd);
    log_num(s, lo);
    log_num(s, hi);
    if (side)
        fprintf(s->event_log, ",%d", side);
    else
        fputc(',', s->event_log);
    fprintf(s->event_log, ",%s,,,,,,", reason ? reason : "");
    va_list ap;
    va_start(ap, fmt);
    log_detail(s, fmt, ap);
    va_end(ap);
}

/* An order row: instrument, side, quantity, price, ClOrdID, expected cost, then the detail. */
static void log_order(slow_half *s, const char *event, int u, const char *instrument, int side, double qty,
                      double price, uint64_t clordid, double cost, const char *fmt, ...) HT_PRINTF(10, 11);
static void log_order(slow_half *s, const char *event, int u, const char *instrument, int side, double qty,
                      double price, uint64_t clordid, double cost, const char *fmt, ...)
{
    if (!log_begin(s, event, u))
        return;
    fprintf(s->event_log, ",,,,,,,%s,%s", instrument ? instrument : "", side > 0 ? "buy" : side < 0 ? "sell" : "");
    log_num(s, qty);
    log_num(s, price);
    if (clordid)
        fprintf(s->event_log, ",%" PRIu64, clordid);
    else
        fputc(',', s->event_log);
    log_num(s, cost);
    va_list ap;
    va_start(ap, fmt);
    log_detail(s, fmt, ap);
    va_end(ap);
}

/* An information row: only the detail. */
static void log_info(slow_half *s, const char *event, int u, const char *fmt, ...) HT_PRINTF(4, 5);
static void log_info(slow_half *s, const char *event, int u, const char *fmt, ...)
{
    if (!log_begin(s, event, u))
        return;
    fprintf(s->event_log, ",,,,,,,,,,,,");
    va_list ap;
    va_start(ap, fmt);
    log_detail(s, fmt, ap);
    va_end(ap);
}

/* Sends a pipeline command to the fast half. */
static void command(slow_half *s, cmd_type type, unsigned u, double a, double b)
{
    engine_cmd c;
    memset(&c, 0, sizeof c);
    c.type = type;
    c.u = u;
    c.a = a;
    c.b = b;
    engine_command(s->e, &c);
}

/* Sets an underlying's band on the pipeline (which re-arms it). */
static void set_band(slow_half *s, unsigned u, double lo, double hi)
{
    under_state *us = &s->under[u];
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return;
    us->band_lo = lo;
    us->band_hi = hi;
    us->band_set = true;
    us->muted = false;
    command(s, CMD_SET_BAND, u, lo, hi);
}

/* ---- Market state ------------------------------------------------------------------------------------------ */

/* The venue slot of an instrument id, or -1. */
static int venue_of(const slow_half *s, uint32_t id)
{
    for (unsigned v = 0; v < s->n_venues; v++)
        if (s->venues[v].known && s->venues[v].id == id)
            return (int)v;
    return -1;
}

/* The net delta the pipeline computes for u at spot, in double (the same formula, from the greeks' sums). */
static double net_delta_at(const slow_half *s, unsigned u, double spot, double *gamma)
{
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    const under_state *us = &s->under[u];
    double ds = spot - g->s0;
    if (gamma)
        *gamma = g->b + g->c * ds;
    return g->a + (g->b + 0.5 * g->c * ds) * ds + g->v * us->vol_move_sent + us->h_pipe;
}

/* The optimizer's view of u's book from the latest recompute. */
static void opt_book_of(const slow_half *s, unsigned u, ht_opt_book *b)
{
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    double wsum = 0.0, tsum = 0.0;
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        if (!r->in_table || r->underlying != u)
            continue;
        double w = fabs(r->qty_x_mult * r->gamma);
        wsum += w;
        tsum += w * r->t_years;
    }
    b->tau_years = wsum > 0.0 && tsum > 0.0 ? tsum / wsum : DEFAULT_TAU_YEARS;
    b->vol = isfinite(g->ref_vol) && g->ref_vol > 0.0 ? g->ref_vol : DEFAULT_VOL;
    b->realised_vol = 0.0;
    b->rate = s->e->cfg.greeks.rate;
    b->vanna = isfinite(g->v) ? g->v : 0.0;
    b->gross_delta_coin = isfinite(g->gross_delta) ? g->gross_delta : 0.0;
}

/* ---- Orders and fills ----------------------------------------------------------------------------------- */

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
    log_order(s, "fill", (int)p->u, v->name, p->side, contracts, px, p->clordid, NAN,
              "delta %.15g coin fee %.4f USD slippage %.4f USD", delta, fee, slip);
}

/* The decision of u is resolved: the inventory and the band go to the pipeline (re-arming it). */
static void decision_resolved(slow_half *s, unsigned u)
{
    under_state *us = &s->under[u];
    const ht_opt_decision *d = &us->decision;
    double filled = us->decision_fills;
    us->h_pipe += filled;
    us->held += filled;
    if (us->decision_trigger == HT_OPT_TRIGGER_BREACH)
        us->breach_fills = filled;
    command(s, CMD_SET_INVENTORY, u, us->h_pipe, 0);
    double lo = d->band_lo_coin, hi = d->band_hi_coin;
    set_band(s, u, lo, hi);
    log_market(s, "resolved", (int)u, us->spot, us->decision_nd + filled, lo, hi, 0, NULL, "filled %.10g coin",
               filled);
}

/* Marks an order resolved; resolves its decision when it was the last one. */
static void order_done(slow_half *s, pending_order *p, const char *why)
{
    unsigned u = p->u;
    log_order(s, "done", (int)u, s->venues[p->venue].name, p->side, p->filled_contracts, NAN, p->clordid, NAN, "%s",
              why);
    p->used = false;
    under_state *us = &s->under[u];
    if (us->pending > 0 && --us->pending == 0)
        decision_resolved(s, u);
}

/* The pending order with this ClOrdID number, or NULL. */
static pending_order *find_pending(slow_half *s, uint64_t clordid)
{
    for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++)
        if (s->pending[i].used && s->pending[i].clordid == clordid)
            return &s->pending[i];
    return NULL;
}

/* Handles what the gateway reports: executions, rejects, the kill switch, the session. */
static void on_gateway_event(slow_half *s, const ht_gw_event *ev)
{
    switch (ev->type) {
    case HT_GW_EV_EXEC: {
        pending_order *p = find_pending(s, ev->clordid_num);
        if (!p)
            break;
        if ((ev->exec_type == 'F' || ev->exec_type == '1' || ev->exec_type == '2') && ev->last_qty > 0)
            apply_fill(s, p, ev->last_qty, ev->last_px);
        if (ev->exec_type == '8') {
            s->rep.orders_rejected++;
            snprintf(s->last_order_problem, sizeof s->last_order_problem, "rejected by the venue: %.170s", ev->text);
            log_order(s, "reject", (int)p->u, s->venues[p->venue].name, p->side, NAN, NAN, p->clordid, NAN,
                      "venue: %s", ev->text);
        }
        bool final = ev->ord_status == '2' || ev->ord_status == '4' || ev->ord_status == '8' ||
                     ev->ord_status == 'C' || ev->exec_type == '4' || ev->exec_type == '8' || ev->exec_type == 'C';
        if (final)
            order_done(s, p, ev->ord_status == '2' ? "filled" : ev->exec_type == '8' ? "rejected" : "cancelled");
        break;
    }
    case HT_GW_EV_ORDER_VOID: {
        pending_order *p = find_pending(s, ev->clordid_num);
        if (p)
            order_done(s, p, "void");
        break;
    }
    case HT_GW_EV_KILL:
        s->killed = true;
        s->rep.killed = true;
        log_info(s, "kill", -1, "%s", ev->text);
        break;
    case HT_GW_EV_DISCONNECTED:
    case HT_GW_EV_LOGOUT:
    case HT_GW_EV_GIVE_UP:
        log_info(s, ev->type == HT_GW_EV_GIVE_UP ? "venue_give_up" : "venue_down", -1, "%s", ev->text);
        if (ev->type == HT_GW_EV_GIVE_UP)
            engine_fail(s->e, "venue: gave up reconnecting: %s", ev->text);
        break;
    case HT_GW_EV_LOGON:
        log_info(s, "venue_up", -1, "%s", ev->text);
        break;
    default:
        break;
    }
}

/* Drains the gateway's events and re-arms underlyings whose orders timed out. */
static void poll_gateway(slow_half *s)
{
    ht_gw_event evs[16];
    int n;
    while ((n = ht_gw_poll(s->gw, evs, 16)) > 0)
        for (int i = 0; i < n; i++)
            on_gateway_event(s, &evs[i]);
    uint64_t now = ht_mono_ns();
    uint64_t limit = (uint64_t)s->e->cfg.order_timeout_ms * 1000000u;
    for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++) {
        pending_order *p = &s->pending[i];
        if (p->used && now - p->sent_wall_ns > limit)
            order_done(s, p, "timeout");
    }
}

void engine_slow_poll(slow_half *s)
{
    poll_gateway(s);
}

/* Waits until u's orders are resolved (replay: every decision completes before the next packet). */
static void wait_resolved(slow_half *s, unsigned u)
{
    /* Poll first (an answer on loopback takes tens of microseconds; sleeping would cool the caches), then wait. */
    uint64_t spin_until = ht_mono_ns() + 200000u;
    while (s->under[u].pending > 0) {
        if (ht_mono_ns() > spin_until)
            ht_gw_wait(s->gw, 1);
        poll_gateway(s);
    }
}

/* What became of one child order of a decision. */
typedef struct order_result {
    int rc;             /* HT_GW_* */
    unsigned venue;
    ht_gw_send_result res;
} order_result;

/* Sends a decision's orders back to back (nothing else on the way: the logs come after). Returns how many went
 * out; out[i] says what became of order i. */
static unsigned send_orders(slow_half *s, unsigned u, const ht_opt_decision *d, ht_stamps *st, order_result *out)
{
    under_state *us = &s->under[u];
    unsigned sent = 0;
    if (!s->e->cfg.threads)
        ht_gw_set_risk_clock(s->gw, s->now_ms * 1000000u + 1);
    for (uint32_t i = 0; i < d->n_orders; i++) {
        const ht_opt_order *o = &d->orders[i];
        order_result *r = &out[i];
        r->venue = 0;
        for (unsigned v = 0; v < s->n_venues; v++)
            if (s->venues[v].u == u && s->venues[v].opt_index == o->venue)
                r->venue = v;
        venue_state *v = &s->venues[r->venue];
        unsigned slot = ENGINE_MAX_PENDING;
        for (unsigned k = 0; k < ENGINE_MAX_PENDING && slot == ENGINE_MAX_PENDING; k++)
            if (!s->pending[k].used)
                slot = k;
        if (slot == ENGINE_MAX_PENDING) {
            r->rc = HT_GW_ERR_FULL;
            snprintf(r->res.reason, sizeof r->res.reason, "%d orders in flight", ENGINE_MAX_PENDING);
            r->res.clordid = 0;
            continue;
        }
        /* The wire speaks contracts (OrderQty with QtyType 854 = 1, docs/units.md). */
        ht_gw_order go = {v->name, o->side > 0 ? HT_GW_BUY : HT_GW_SELL, o->contracts, o->limit_px};
        r->rc = ht_gw_send_order(s->gw, &go, &r->res);
        if (sent == 0 && st && r->res.ready_tsc) {
            st->tsc[HT_STAGE_ORDER_ENCODED] = r->res.ready_tsc;
            st->tsc[HT_STAGE_ORDER_WRITTEN] = r->res.sent_tsc;
        }
        if (r->rc != HT_GW_SENT && !(r->rc == HT_GW_ERR_IO && r->res.clordid))
            continue;
        pending_order *p = &s->pending[slot];
        *p = (pending_order){true, r->res.clordid, u, r->venue, o->side, o->contracts, 0.0, 0.0, 0.0,
                             o->expected_cost_usd, ht_mono_ns()};
        p->ref_px = v->mark > 0 ? v->mark : o->limit_px;
        p->delta_px = o->ref_px;
        sent++;
        us->pending++;
    }
    return sent;
}

/* Logs a decision's orders and counts them. */
static void log_orders(slow_half *s, unsigned u, const ht_opt_decision *d, const order_result *res)
{
    for (uint32_t i = 0; i < d->n_orders; i++) {
        const ht_opt_order *o = &d->orders[i];
        const order_result *r = &res[i];
        const char *name = s->venues[r->venue].name;
        if (r->rc != HT_GW_SENT && !(r->rc == HT_GW_ERR_IO && r->res.clordid)) {
            s->rep.orders_refused++;
            snprintf(s->last_order_problem, sizeof s->last_order_problem, "refused by the gateway: %.170s",
                     r->res.reason);
            log_order(s, "refused", (int)u, name, o->side, o->contracts, o->limit_px, 0, o->expected_cost_usd,
                      "delta %.15g coin at %.15g: %s", o->delta_coin, o->ref_px, r->res.reason);
            continue;
        }
        s->rep.orders++;
        s->rep.expected_cost_usd += o->expected_cost_usd;
        log_order(s, "order", (int)u, name, o->side, o->contracts, o->limit_px, r->res.clordid, o->expected_cost_usd,
                  "delta %.15g coin at %.15g", o->delta_coin, o->ref_px);
    }
}

/* The quotes of u's venues, in the optimizer's venue order (from a breach, or the latest books). */
static void quotes_of(const slow_half *s, unsigned u, const msg_breach *b, ht_opt_quote *q)
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

/* The UNTRUSTED_* bits that concern u now: the breach's (index and venues at its tick), or for a timer or
 * refresh u's latest index tick and the venues' latest trust. */
static uint32_t untrusted_for(const slow_half *s, unsigned u, const msg_breach *b)
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
    const uint32_t bits = untrusted_for(s, u, b);
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
    double nd = b ? b->ev.net_delta_contracts : net_delta_at(s, u, us->spot, NULL);
    int side = b ? ((b->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1) : 0;
    log_market(s, "suppressed", (int)u, spot, nd, us->band_lo, us->band_hi, side, "untrusted",
               "%s: no order: %s%s%s%s", trig[trigger], (bits & UNTRUSTED_INDEX) ? "the index is not trusted" : "",
               (bits & UNTRUSTED_INDEX) && names[0] ? "; " : "", names[0] ? "not trusted since a gap: " : "", names);
    return true;
}

/* Asks the optimizer what to do for u, sends the orders and, once they are resolved (at once in replay), sets
 * the band and inventory. b is the breach (NULL for a timer or a refresh). */
static void decide(slow_half *s, unsigned u, ht_opt_trigger trigger, const msg_breach *b)
{
    under_state *us = &s->under[u];
    if (us->pending > 0 || s->killed)
        return;
    if (suppressed(s, u, trigger, b))
        return;
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
        ev.net_delta_coin = net_delta_at(s, u, us->spot, &ev.net_gamma);
    }
    ht_opt_quote quotes[HT_OPT_MAX_VENUES]; /* only u's venues are filled and read */
    memset(quotes, 0, s->n_venues * sizeof quotes[0]);
    quotes_of(s, u, b, quotes);
    ht_opt_decision d;
    ht_error err = {{0}};
    int rc = ht_opt_decide(s->opt, &ev, &us->opt_book, quotes, &d, &err);
    ht_stamps st;
    if (b) {
        st = b->st;
        st.tsc[HT_STAGE_DECISION] = ht_tsc_now();
    }
    us->decision_fills = 0.0;
    us->decision_trigger = trigger;
    us->decision_nd = ev.net_delta_coin;
    order_result res[HT_OPT_MAX_VENUES];
    unsigned sent = 0;
    if (rc == 0 && d.n_orders > 0 && !s->killed) {
        us->decision = d;
        sent = send_orders(s, u, &d, b ? &st : NULL, res);
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
        log_market(s, "breach", (int)u, b->ev.spot_usd, b->ev.net_delta_contracts, us->band_lo, us->band_hi,
                   (b->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1, NULL, "seq %" PRIu64 " gamma %.6g", b->ev.seq,
                   b->ev.net_gamma_per_usd);
    s->rep.decisions++;
    if ((unsigned)d.reason < HT_ARRAY_LEN(s->rep.decisions_by_reason))
        s->rep.decisions_by_reason[d.reason]++;
    static const char *const trig[] = {"breach", "timer", "refresh"};
    log_market(s, "decision", (int)u, ev.spot, ev.net_delta_coin, d.band_lo_coin, d.band_hi_coin, ev.side,
               ht_opt_reason_name(d.reason), "%s: trade %.10g coin in %u orders, expected cost %.6f USD%s%s",
               trig[trigger], d.trade_delta_coin, d.n_orders, d.expected_cost_usd, rc ? "; " : "", rc ? err.msg : "");
    if (rc != 0)
        return;
    if (d.n_orders > 0 && !s->killed)
        log_orders(s, u, &d, res);
    if (d.next_timer_ns > 0)
        us->next_timer_ns = d.next_timer_ns;
    if (sent == 0) {
        set_band(s, u, d.band_lo_coin, d.band_hi_coin);
        return;
    }
    if (!s->e->cfg.threads)
        wait_resolved(s, u);
}

/* ---- Refresh, arming ------------------------------------------------------------------------------------- */

/* Hands the greeks' table, S0 and inventories to the pipeline (a background fold there). */
static bool load_table(slow_half *s)
{
    if (s->load_in_flight >= 0)
        return false;
    size_t n;
    const ht_greeks_row *rows = ht_greeks_rows(s->greeks, &n);
    unsigned buf = s->load_next;
    if (n > s->load_cap)
        n = s->load_cap;
    for (size_t i = 0; i < n; i++)
        s->load_buf[buf][i] = (ht_pipe_position){rows[i].underlying, rows[i].qty_x_mult, rows[i].delta, rows[i].gamma,
                                                 rows[i].speed, rows[i].vanna, rows[i].ref_spot_usd};
    engine_cmd c;
    memset(&c, 0, sizeof c);
    c.type = CMD_LOAD;
    c.buffer = buf;
    c.rows = (uint32_t)n;
    c.n_underlyings = s->n_under;
    const double *s0 = ht_greeks_s0(s->greeks);
    for (unsigned u = 0; u < s->n_under; u++) {
        const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
        c.s0[u] = s0[u];
        c.h[u] = g->h;
        s->under[u].h_pipe = g->h;
        s->under[u].vol_move_sent = 0.0;
        s->under[u].muted = false;
    }
    s->load_in_flight = (int)buf;
    s->load_next ^= 1u;
    s->rep.refreshes++;
    engine_command(s->e, &c);
    return true;
}

/* Recomputes the greeks, loads them and lets the optimizer re-place the band (hedging when outside it). */
static void refresh(slow_half *s, unsigned why)
{
    if (s->load_in_flight >= 0)
        return;
    /* Re-centring on an index the feed does not trust would load a table without a reference spot: the table in
     * force stays until the index is trusted again (the refresh triggers keep firing until then). */
    for (unsigned u = 0; u < s->n_under; u++)
        if (s->under[u].active && !s->under[u].index_trusted)
            return;
    ht_greeks_recompute(s->greeks, s->now_ms);
    note_greeks(s);
    if (!load_table(s))
        return;
    for (unsigned u = 0; u < s->n_under; u++)
        opt_book_of(s, u, &s->under[u].opt_book);
    for (unsigned u = 0; u < s->n_under; u++) {
        const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
        if (!s->under[u].active || !isfinite(g->s0))
            continue;
        log_market(s, "refresh", (int)u, g->s0, net_delta_at(s, u, g->s0, NULL), NAN, NAN, 0, NULL,
                   "why %u: A %.10g B %.10g C %.10g V %.10g H %.10g", why, g->a, g->b, g->c, g->v, g->h);
        s->under[u].spot = isfinite(s->under[u].spot) && s->under[u].spot > 0 ? s->under[u].spot : g->s0;
        s->under[u].held = net_delta_at(s, u, s->under[u].spot, NULL);
        decide(s, u, HT_OPT_TRIGGER_REFRESH, NULL);
    }
}

/* Registers a future with g as a forward source and an option as a smile point for fallback vols. */
static void add_market_instrument(ht_greeks *g, const ht_instrument *in)
{
    ht_instrument_spec spec;
    if (!g || ht_greeks_spec_from_feed(in, &spec, NULL) != 0)
        return;
    if (in->kind == HT_INST_FUTURE)
        ht_greeks_add_forward_instrument(g, &spec);
    else if (in->kind == HT_INST_OPTION)
        ht_greeks_add_smile_instrument(g, &spec);
}

/* Gives a new greeks engine what the mirror already knows: the futures (forwards), the options (smile points),
 * the indices and the marks. */
static void greeks_catch_up(slow_half *s, ht_greeks *g)
{
    for (uint32_t i = 0; i < s->n_reg; i++)
        add_market_instrument(g, &s->reg[i]);
    for (unsigned k = 0; k < s->n_idx; k++)
        ht_greeks_set_index(g, s->idx[k].name, s->idx[k].price, s->idx[k].ts_ms, s->idx[k].trusted);
    for (uint32_t i = 0; i < s->n_reg; i++) {
        const ht_instrument *in = &s->reg[i];
        if (in->ticker.timestamp_ms)
            ht_greeks_set_mark(g, in->id, in->ticker.mark_price, in->ticker.index_price, in->ticker.timestamp_ms,
                               s->reg_trusted[i]);
    }
}

/* True when [engine] allow_unpriced names this instrument. */
static bool allowed_unpriced(const slow_half *s, const char *name)
{
    for (unsigned k = 0; k < s->e->cfg.n_allow_unpriced; k++)
        if (strcmp(s->e->cfg.allow_unpriced[k], name) == 0)
            return true;
    return false;
}

/* After a recompute: counts the table, and logs every position that went onto a fallback vol, changed
 * fallback, left the table or came back (event "fallback" / "left_out" / "priced"). */
static void note_greeks(slow_half *s)
{
    ht_engine_report *rep = &s->rep;
    rep->positions_in_table = rep->positions_excluded = rep->positions_fallback = 0;
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        const bool usable = HT_GREEKS_USABLE(r);
        rep->positions_in_table += r->in_table;
        rep->positions_excluded += !usable;
        rep->positions_fallback += (r->flags & HT_GF_FALLBACK) != 0;
        const uint32_t state = (usable ? 0u : 1u) | (r->flags & HT_GF_FALLBACK);
        const uint32_t was = s->pos_flags[i];
        s->pos_flags[i] = state | 0x80000000u;
        if (was == (state | 0x80000000u) || (!was && !state))
            continue;
        char flags[160];
        ht_greeks_flags_format(r->flags & ~(uint32_t)HT_GF_HEDGE, flags, sizeof flags);
        if (!usable) {
            rep->fallback_entries++;
            log_info(s, "left_out", (int)r->underlying, "%s: no usable greeks (%s)", r->pos->spec.name, flags);
        } else if (r->flags & HT_GF_FALLBACK) {
            rep->fallback_entries++;
            log_info(s, "fallback", (int)r->underlying, "%s: %s, priced at vol %.6g", r->pos->spec.name, flags, r->iv);
        } else {
            log_info(s, "priced", (int)r->underlying, "%s: its own IV %.6g again", r->pos->spec.name, r->iv);
        }
    }
}

/* Loads the book once the registry knows every instrument it names and the hedge instruments. */
static void try_load_book(slow_half *s)
{
    ht_error err = {{0}};
    ht_positions *book = ht_positions_parse(s->book_text, s->book_len, s->e->cfg.book_path,
                                             s->e->cfg.max_book_qty_contracts, mirror_lookup, s, &err);
    if (!book) {
        snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for instrument records: %.200s", err.msg);
        return;
    }
    for (unsigned v = 0; v < s->n_venues; v++) {
        venue_state *vs = &s->venues[v];
        ht_instrument *in = reg_find_name(s, vs->name, strlen(vs->name));
        if (!in) {
            snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for the hedge instrument %s", vs->name);
            ht_positions_destroy(book);
            return;
        }
        ht_instrument_spec spec;
        if (ht_greeks_spec_from_feed(in, &spec, &err) != 0 || spec.kind == HT_POS_OPTION) {
            engine_fail(s->e, "hedge instrument %s cannot hedge: %s", vs->name,
                        spec.kind == HT_POS_OPTION ? "it is an option" : err.msg);
            ht_positions_destroy(book);
            return;
        }
        const ht_position *held = ht_positions_find(book, in->id);
        if (!held && ht_positions_add(book, &spec, 0.0, &err) != 0) {
            engine_fail(s->e, "%s", err.msg);
            ht_positions_destroy(book);
            return;
        }
        for (size_t i = 0; i < ht_positions_count(book); i++)
            if (ht_positions_at(book, i)->spec.id == in->id)
                vs->book_index = i;
        vs->id = in->id;
        vs->known = true;
        vs->taker_fee = in->taker_commission;
        /* One contract description for the optimizer, the gateway's notional rule (USD), the simulator's 854
         * conversion and Commission, and the fills (docs/units.md). */
        if (ht_contract_from_instrument(in, &vs->contract, &err) != 0 ||
            (s->gw && ht_gw_set_contract(s->gw, vs->name, &vs->contract, &err) != 0) ||
            (s->e->xsim && ht_xsim_set_contract(s->e->xsim, vs->name, &vs->contract, &err) != 0)) {
            engine_fail(s->e, "%s", err.msg);
            ht_positions_destroy(book);
            return;
        }
        vs->position_contracts = ht_positions_at(book, vs->book_index)->qty_contracts;
        vs->mark = in->ticker.mark_price;
    }
    const ht_engine_config *cfg = &s->e->cfg;
    for (unsigned k = 0; k < cfg->n_allow_unpriced; k++) {
        const ht_instrument *in = reg_find_name(s, cfg->allow_unpriced[k], strlen(cfg->allow_unpriced[k]));
        if (!in || !ht_positions_find(book, in->id)) {
            engine_fail(s->e, "config: [engine] allow_unpriced names %s, which is not in the book %s",
                        cfg->allow_unpriced[k], cfg->book_path);
            ht_positions_destroy(book);
            return;
        }
    }
    s->greeks = ht_greeks_create(&s->e->cfg.greeks, book, &err);
    s->pos_flags = calloc(ht_positions_count(book) + 1, sizeof *s->pos_flags);
    if (!s->greeks || !s->pos_flags) {
        engine_fail(s->e, "%s", s->greeks ? "engine: out of memory" : err.msg);
        ht_positions_destroy(book);
        return;
    }
    s->book = book;
    greeks_catch_up(s, s->greeks);
    /* The unhedged baseline: the same book, never traded, its table re-centred by the market alone, so that
     * "without hedging" is the same whatever the strategy (the hedged table also refreshes after fills). */
    s->base_book = ht_positions_parse(s->book_text, s->book_len, s->e->cfg.book_path, s->e->cfg.max_book_qty_contracts,
                                      mirror_lookup, s, &err);
    s->base_greeks = s->base_book ? ht_greeks_create(&s->e->cfg.greeks, s->base_book, &err) : NULL;
    if (!s->base_greeks) {
        engine_fail(s->e, "the unhedged baseline: %s", err.msg);
        return;
    }
    greeks_catch_up(s, s->base_greeks);
    s->book_loaded = true;
    s->book_loaded_ms = s->now_ms;
    snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for marks");
    log_info(s, "book", -1, "%zu positions from %s", ht_positions_count(book), s->e->cfg.book_path);
}

/* Starts hedging once every option has a mark and every underlying an index (or the wait ran out). */
static void try_arm(slow_half *s)
{
    if (s->armed || !s->book_loaded || s->e->error[0])
        return;
    ht_greeks_recompute(s->greeks, s->now_ms);
    bool timed_out = s->now_ms >= s->book_loaded_ms + s->e->cfg.arm_timeout_ms;
    size_t missing = 0, blocking = 0;
    const ht_greeks_result *first = NULL, *first_blocking = NULL;
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        if (HT_GREEKS_USABLE(r))
            continue;
        missing++;
        first = first ? first : r;
        if (!allowed_unpriced(s, r->pos->spec.name)) {
            blocking++;
            first_blocking = first_blocking ? first_blocking : r;
        }
    }
    unsigned nu = ht_greeks_underlying_count(s->greeks);
    bool no_spot = false;
    for (unsigned u = 0; u < nu; u++)
        no_spot |= !isfinite(ht_greeks_underlying_at(s->greeks, u)->s0);
    char why[160] = "";
    if (first)
        ht_greeks_flags_format(first->flags & HT_GF_EXCLUDING, why, sizeof why);
    if ((missing > 0 || no_spot) && !timed_out) {
        snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for marks: %zu positions have no usable greeks yet (%s: %.80s)%s",
                 missing, first ? first->pos->spec.name : "-", first ? why : "-",
                 no_spot ? ", and an underlying has no index" : "");
        return;
    }
    if (blocking > 0) {
        /* Hedging a book whose greeks are partly unknown hedges the wrong delta: only by the operator's leave. */
        ht_greeks_flags_format(first_blocking->flags & HT_GF_EXCLUDING, why, sizeof why);
        bool first_refusal = strncmp(s->arm_blocker, "not arming", 10) != 0;
        snprintf(s->arm_blocker, sizeof s->arm_blocker,
                 "not arming: %zu positions have no usable greeks (%s: %.80s); name them in [engine] allow_unpriced to "
                 "hedge without them",
                 blocking, first_blocking->pos->spec.name, why);
        if (first_refusal)
            log_info(s, "arm_refused", -1, "%s", s->arm_blocker);
        return;
    }
    if (nu > ENGINE_MAX_UNDERLYINGS) {
        engine_fail(s->e, "the book has %u underlyings, the pipeline serves %d", nu, ENGINE_MAX_UNDERLYINGS);
        return;
    }
    ht_error err = {{0}};
    s->n_under = nu;
    engine_cmd venues;
    memset(&venues, 0, sizeof venues);
    venues.type = CMD_SET_VENUES;
    for (unsigned u = 0; u < nu; u++) {
        const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
        under_state *us = &s->under[u];
        us->active = isfinite(g->s0);
        us->index_trusted = us->active; /* s0 is a trusted, fresh index price */
        snprintf(us->ref_index, sizeof us->ref_index, "%s", g->ref_index);
        us->spot = g->s0;
        if (ht_opt_set_strategy(s->opt, u, &s->strategy, &err) != 0) {
            engine_fail(s->e, "hedge strategy: %s", err.msg);
            return;
        }
        for (unsigned v = 0; v < s->n_venues; v++) {
            venue_state *vs = &s->venues[v];
            const ht_instrument *in = reg_find(s, vs->id);
            if (!in || strcmp(in->base_currency, g->base) != 0)
                continue;
            ht_opt_venue ov;
            ht_opt_venue_init(&ov, vs->name, in->inverse ? HT_OPT_INVERSE : HT_OPT_LINEAR, in->contract_size);
            ov.lot_amount = in->contract_size;
            ov.min_amount = isfinite(in->min_trade_amount) && in->min_trade_amount > 0 ? in->min_trade_amount
                                                                                        : in->contract_size;
            ov.tick_size = in->tick_size > 0 ? in->tick_size : ov.tick_size;
            ov.maker_fee = in->maker_commission;
            ov.taker_fee = in->taker_commission;
            ov.collar_frac = s->e->cfg.collar_frac;
            vs->opt_index = ht_opt_add_venue(s->opt, u, &ov, &err);
            vs->u = u;
            if (vs->opt_index < 0) {
                engine_fail(s->e, "hedge instrument %s: %s", vs->name, err.msg);
                return;
            }
        }
        engine_cmd ref;
        memset(&ref, 0, sizeof ref);
        ref.type = CMD_SET_REF;
        ref.u = u;
        snprintf(ref.name, sizeof ref.name, "%s", g->ref_index);
        engine_command(s->e, &ref);
    }
    for (unsigned v = 0; v < s->n_venues; v++) {
        venue_state *vs = &s->venues[v];
        venues.ids[venues.n++] = vs->id;
        const ht_instrument *in = reg_find(s, vs->id);
        if (s->e->cfg.synthetic_book && in && vs->mark > 0) {
            ht_book_level bids[ENGINE_BOOK_LEVELS], asks[ENGINE_BOOK_LEVELS];
            unsigned n = engine_synthetic_ladder(&s->e->cfg, vs->mark, in->tick_size, bids, asks);
            set_venue_book(s, vs, bids, n, asks, n, vs->mark);
        }
    }
    engine_command(s->e, &venues);
    s->armed = true;
    s->rep.armed = true;
    s->arm_time_ms = s->now_ms;
    s->arm_blocker[0] = '\0';
    note_greeks(s);
    log_info(s, "arm", -1,
             "%" PRIu64 " options in the table (%" PRIu64 " at a fallback vol), %" PRIu64 " positions left out%s",
             s->rep.positions_in_table, s->rep.positions_fallback, s->rep.positions_excluded,
             missing ? " (allowed by [engine] allow_unpriced)" : "");
    refresh(s, HT_REFRESH_NEVER);
}

/* ---- Statistics ---------------------------------------------------------------------------------------- */

/* The book's net delta at spot had it never been hedged: its own table, re-centred when the market says so. */
static double unhedged_net_delta(slow_half *s, unsigned u, double spot, uint64_t ts_ms)
{
    int bu = ht_greeks_underlying_find(s->base_greeks, ht_greeks_underlying_at(s->greeks, u)->base);
    if (bu < 0)
        return NAN;
    if (ht_greeks_refresh_due(s->base_greeks, (unsigned)bu, spot, ts_ms))
        ht_greeks_recompute(s->base_greeks, s->now_ms);
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->base_greeks, (unsigned)bu);
    return ht_greeks_taylor_net_delta(s->base_greeks, (unsigned)bu, spot, isfinite(g->vol_move) ? g->vol_move : 0.0);
}

/* Accounts the time since u's last tick with the net delta then held, and takes this tick's: before its hedges
 * (the breach's net delta, when it had one) and after them. */
static void tick_stats(slow_half *s, unsigned u, const msg_index *m)
{
    under_state *us = &s->under[u];
    double after = net_delta_at(s, u, m->price, NULL);
    double before = m->breached ? after - us->breach_fills : after;
    double after_u = unhedged_net_delta(s, u, m->price, m->ts_ms);
    if (us->have_held && m->ts_ms > us->last_ts_ms) {
        double dt = (double)(m->ts_ms - us->last_ts_ms);
        us->sum_sq += us->held * us->held * dt;
        us->sum_sq_u += us->held_unhedged * us->held_unhedged * dt;
        us->total_ms += dt;
        if (us->band_set && (us->held < us->band_lo || us->held > us->band_hi))
            us->outside_ms += dt;
        if (us->band_set && (us->held_unhedged < us->band_lo || us->held_unhedged > us->band_hi))
            us->outside_ms_u += dt;
    }
    /* The pipeline's answer against the same formula in double: a breach where the double is clearly inside (or
     * a net delta that differs from the double), or none where the double is clearly outside, is a mismatch. */
    if (s->e->cfg.check && !s->e->cfg.threads && !m->rejected) {
        double lo = m->breached ? us->breach_lo : us->band_lo, hi = m->breached ? us->breach_hi : us->band_hi;
        bool armed = m->breached ? us->breach_armed : us->band_set && !us->muted && us->pending == 0;
        bool clearly_out = before < lo - CHECK_TOLERANCE_COIN || before > hi + CHECK_TOLERANCE_COIN;
        bool clearly_in = before > lo + CHECK_TOLERANCE_COIN && before < hi - CHECK_TOLERANCE_COIN;
        const char *what = NULL;
        if (m->breached && fabs(us->breach_nd - before) > CHECK_TOLERANCE_COIN)
            what = "the pipeline's net delta differs from the double's";
        else if (armed && m->breached && clearly_in)
            what = "pipeline breach, double inside";
        else if (armed && !m->breached && clearly_out)
            what = "double outside, no pipeline breach";
        if (what) {
            s->rep.check_mismatches++;
            log_market(s, "check_mismatch", (int)u, m->price, before, lo, hi, 0, NULL, "%s (pipeline %.10g)", what,
                       m->breached ? us->breach_nd : NAN);
        }
    }
    us->have_held = true;
    us->last_ts_ms = m->ts_ms;
    us->held = after;
    us->held_unhedged = after_u;
    us->max_abs = fmax(us->max_abs, fabs(before));
    us->max_abs_u = fmax(us->max_abs_u, fabs(after_u));
    if (s->series) {
        if (s->series_ticks++ % s->e->cfg.series_every == 0 || us->fills_since_tick != 0.0) {
            write_time_s(s->series, m->ts_ms);
            fprintf(s->series, ",%u,%.2f,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", u, m->price, before, after,
                    us->band_lo, us->band_hi, after_u, us->fills_since_tick);
        }
    }
    us->fills_since_tick = 0.0;
    us->breach_fills = 0.0;
}

/* An index update: greeks, then for a pipeline tick the statistics, timers, vol move and refresh policy. */
static void on_index(slow_half *s, const msg_index *m)
{
    unsigned k = 0;
    for (; k < s->n_idx && strcmp(s->idx[k].name, m->name) != 0; k++)
        ;
    if (k == s->n_idx && k < ENGINE_MAX_INDEX_SLOTS) {
        s->n_idx++;
        snprintf(s->idx[k].name, sizeof s->idx[k].name, "%s", m->name);
    }
    if (k < ENGINE_MAX_INDEX_SLOTS) {
        s->idx[k].price = m->price;
        s->idx[k].ts_ms = m->ts_ms;
        s->idx[k].trusted = m->trusted;
    }
    if (s->greeks)
        ht_greeks_set_index(s->greeks, m->name, m->price, m->ts_ms, m->trusted);
    if (s->base_greeks)
        ht_greeks_set_index(s->base_greeks, m->name, m->price, m->ts_ms, m->trusted);
    if (!s->armed) {
        try_arm(s);
        return;
    }
    if (m->underlying < 0 || (unsigned)m->underlying >= s->n_under)
        return;
    unsigned u = (unsigned)m->underlying;
    under_state *us = &s->under[u];
    if (!m->rejected) {
        s->rep.ticks++;
        if (!s->first_tick_ms)
            s->first_tick_ms = m->ts_ms;
        s->last_tick_ms = m->ts_ms;
    }
    us->spot = m->price;
    us->index_trusted = m->trusted;
    tick_stats(s, u, m);
    if (m->breached)
        return; /* the breach message follows */
    if (us->pending > 0)
        return;
    if (us->deferred && !untrusted_for(s, u, NULL)) {
        /* The data is trusted again: decide on the net delta now (hedging only when outside the band). */
        us->deferred = false;
        log_info(s, "trusted", (int)u, "the index and the hedge instruments are trusted again");
        decide(s, u, HT_OPT_TRIGGER_REFRESH, NULL);
        if (us->pending > 0)
            return;
    }
    if (us->next_timer_ns > 0 && (int64_t)(m->ts_ms * 1000000u) >= us->next_timer_ns) {
        us->next_timer_ns = 0;
        decide(s, u, HT_OPT_TRIGGER_TIMER, NULL);
    }
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    if (fabs(g->vol_move - us->vol_move_sent) > VOL_MOVE_STEP && isfinite(g->vol_move)) {
        us->vol_move_sent = g->vol_move;
        command(s, CMD_SET_VOL_MOVE, u, g->vol_move, 0);
    }
    unsigned why = ht_greeks_refresh_due(s->greeks, u, m->price, m->ts_ms);
    if (why)
        refresh(s, why);
}

/* A ticker: the mirror, the greeks, and for a hedge instrument its mark (risk collar, cost reference). */
static void on_ticker(slow_half *s, const msg_ticker *m)
{
    ht_instrument *in = reg_find(s, m->id);
    if (in && m->ts_ms >= in->ticker.timestamp_ms) {
        s->reg_trusted[in - s->reg] = m->trusted;
        in->ticker.mark_price = m->mark;
        in->ticker.index_price = m->index;
        in->ticker.timestamp_ms = m->ts_ms;
        in->ticker_updates++;
    }
    if (s->greeks)
        ht_greeks_set_mark(s->greeks, m->id, m->mark, m->index, m->ts_ms, m->trusted);
    if (s->base_greeks)
        ht_greeks_set_mark(s->base_greeks, m->id, m->mark, m->index, m->ts_ms, m->trusted);
    int v = venue_of(s, m->id);
    if (v >= 0 && isfinite(m->mark) && m->mark > 0) {
        venue_state *vs = &s->venues[v];
        vs->mark = m->mark;
        ht_gw_set_mark(s->gw, vs->name, m->mark);
        if (s->e->cfg.synthetic_book && s->armed) {
            ht_book_level bids[ENGINE_BOOK_LEVELS], asks[ENGINE_BOOK_LEVELS];
            unsigned n = engine_synthetic_ladder(&s->e->cfg, m->mark, in ? in->tick_size : 0.0, bids, asks);
            set_venue_book(s, vs, bids, n, asks, n, m->mark);
        }
    }
}

/* A hedge instrument's book: the optimizer's quote and, with the in-process venue, the simulator's book. */
static void set_venue_book(slow_half *s, venue_state *vs, const ht_book_level *bids, unsigned nb,
                           const ht_book_level *asks, unsigned na, double mark)
{
    engine_quote_from_levels(bids, nb, asks, na, mark, &vs->quote);
    vs->have_quote = true;
    if (!s->e->xsim)
        return;
    /* The simulator's book is in contracts, as the venue's FIX reports are; the feed's amounts are Deribit's. */
    if (!vs->known)
        return;
    ht_xsim_level lv[ENGINE_BOOK_LEVELS];
    for (unsigned i = 0; i < nb && i < ENGINE_BOOK_LEVELS; i++)
        lv[i] = (ht_xsim_level){bids[i].price, ht_units_amount_to_contracts(&vs->contract, bids[i].amount)};
    ht_xsim_set_depth(s->e->xsim, vs->name, true, lv, nb < ENGINE_BOOK_LEVELS ? nb : ENGINE_BOOK_LEVELS);
    for (unsigned i = 0; i < na && i < ENGINE_BOOK_LEVELS; i++)
        lv[i] = (ht_xsim_level){asks[i].price, ht_units_amount_to_contracts(&vs->contract, asks[i].amount)};
    ht_xsim_set_depth(s->e->xsim, vs->name, false, lv, na < ENGINE_BOOK_LEVELS ? na : ENGINE_BOOK_LEVELS);
}

/* The feed's book of a hedge instrument changed. */
static void on_venue_book(slow_half *s, const msg_venue_book *m)
{
    int v = venue_of(s, m->id);
    if (v >= 0)
        set_venue_book(s, &s->venues[v], m->bids, m->n_bids, m->asks, m->n_asks, m->mark);
}

void engine_slow_handle(slow_half *s, const void *msg, size_t len)
{
    uint32_t type;
    if (len < sizeof type)
        return;
    memcpy(&type, msg, sizeof type);
    switch ((msg_type)type) {
    case MSG_INSTRUMENT: {
        const msg_instrument *m = msg;
        reg_store(s, &m->in);
        if (!s->book_loaded && !s->e->error[0])
            try_load_book(s);
        else {
            add_market_instrument(s->greeks, &m->in);
            add_market_instrument(s->base_greeks, &m->in);
        }
        break;
    }
    case MSG_INDEX: {
        const msg_index *m = msg;
        if (m->ts_ms > s->now_ms)
            s->now_ms = m->ts_ms;
        if (!s->first_seen_ms)
            s->first_seen_ms = m->ts_ms;
        on_index(s, m);
        break;
    }
    case MSG_TICKER: {
        const msg_ticker *m = msg;
        if (m->ts_ms > s->now_ms)
            s->now_ms = m->ts_ms;
        on_ticker(s, m);
        break;
    }
    case MSG_VENUE_BOOK:
        on_venue_book(s, msg);
        break;
    case MSG_BREACH: {
        const msg_breach *m = msg;
        s->rep.breaches++;
        if (m->ev.underlying >= ENGINE_MAX_UNDERLYINGS)
            break;
        under_state *us = &s->under[m->ev.underlying];
        us->breach_nd = m->ev.net_delta_contracts;
        us->breach_lo = us->band_lo;
        us->breach_hi = us->band_hi;
        us->breach_armed = us->band_set && !us->muted && us->pending == 0;
        us->muted = true;
        if (m->ts_ms > s->now_ms)
            s->now_ms = m->ts_ms;
        if (!s->armed || m->ev.underlying >= s->n_under)
            break;
        if (s->killed) {
            /* No more orders: widen the band to hold the net delta so the pipeline keeps watching. */
            double nd = m->ev.net_delta_contracts;
            log_market(s, "breach", (int)m->ev.underlying, m->ev.spot_usd, nd, us->band_lo, us->band_hi,
                       (m->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1, "kill_switch", "no order: the kill switch is on");
            set_band(s, m->ev.underlying, fmin(us->band_lo, nd), fmax(us->band_hi, nd));
            break;
        }
        decide(s, m->ev.underlying, HT_OPT_TRIGGER_BREACH, m);
        break;
    }
    case MSG_GAP: {
        const msg_gap *m = msg;
        log_info(s, "gap", -1, "channel %u missed %u", m->channel, m->missed);
        break;
    }
    case MSG_TRUST: {
        const msg_trust *m = msg;
        if (m->venues_untrusted != s->venues_untrusted)
            log_info(s, "trust", -1, "hedge instruments not trusted: mask 0x%x (was 0x%x)", m->venues_untrusted,
                     s->venues_untrusted);
        s->venues_untrusted = m->venues_untrusted;
        break;
    }
    case MSG_LOAD_DONE: {
        const msg_load_done *m = msg;
        if (s->load_in_flight == (int)m->buffer)
            s->load_in_flight = -1;
        break;
    }
    case MSG_ERROR: {
        const msg_error *m = msg;
        engine_fail(s->e, "%s", m->text);
        break;
    }
    case MSG_END:
        break;
    }
}

/* ---- Life cycle ------------------------------------------------------------------------------------------ */

/* Reads the whole book file into memory. */
static int read_book_file(slow_half *s, const char *path, ht_error *err)
{
    s->book_text = ht_text_file_read(path, "book file", HT_POSITIONS_MAX_FILE_BYTES, &s->book_len, err);
    return s->book_text ? 0 : -1;
}

int engine_slow_init(ht_engine *e, ht_error *err)
{
    slow_half *s = &e->slow;
    memset(s, 0, sizeof *s);
    s->e = e;
    s->load_in_flight = -1;
    const ht_engine_config *cfg = &e->cfg;
    if (read_book_file(s, cfg->book_path, err) != 0)
        return -1;
    /* Catch a malformed book now rather than after the market has been read. */
    ht_positions *probe = ht_positions_parse(s->book_text, s->book_len, cfg->book_path, cfg->max_book_qty_contracts,
                                               any_lookup, NULL, err);
    if (!probe)
        return -1;
    s->load_cap = ht_positions_count(probe) + HT_GREEKS_MAX_UNDERLYINGS + 16;
    ht_positions_destroy(probe);
    for (unsigned b = 0; b < 2; b++) {
        s->load_buf[b] = calloc(s->load_cap, sizeof *s->load_buf[b]);
        if (!s->load_buf[b])
            return ht_error_set(err, "engine: out of memory");
    }
    if (ht_opt_strategy_parse(cfg->strategy, 1000000000, &s->strategy, err) != 0)
        return -1;
    s->strategy.min_half_width_coin = cfg->min_half_width_coin;
    s->strategy.max_half_width_coin = cfg->max_half_width_coin;
    s->opt = ht_opt_create(&cfg->opt, err);
    if (!s->opt)
        return -1;
    s->n_venues = cfg->n_venues;
    for (unsigned v = 0; v < s->n_venues; v++) {
        snprintf(s->venues[v].name, sizeof s->venues[v].name, "%s", cfg->venues[v]);
        s->venues[v].opt_index = -1;
    }
    for (unsigned u = 0; u < ENGINE_MAX_UNDERLYINGS; u++) {
        s->under[u].band_lo = s->under[u].band_hi = NAN;
        s->under[u].spot = NAN;
    }
    s->prof = ht_profile_create();
    if (!s->prof)
        return ht_error_set(err, "engine: out of memory for the profile");
    if (cfg->event_log[0]) {
        s->event_log = fopen(cfg->event_log, "w");
        if (!s->event_log)
            return ht_error_set(err, "%s: cannot write the event log: %s", cfg->event_log, strerror(errno));
        fprintf(s->event_log, "time_s,event,underlying,spot,net_delta,band_lo,band_hi,side,reason,instrument,"
                              "order_side,qty,price,clordid,expected_cost_usd,detail\n");
    }
    if (cfg->series_path[0]) {
        s->series = fopen(cfg->series_path, "w");
        if (!s->series)
            return ht_error_set(err, "%s: cannot write the series: %s", cfg->series_path, strerror(errno));
        fprintf(s->series, "time_s,underlying,spot,net_delta,net_delta_after,band_lo,band_hi,unhedged,hedge_coin\n");
    }
    snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for the instrument records of the book");
    return 0;
}

void engine_slow_finish_stats(slow_half *s)
{
    ht_engine_report *r = &s->rep;
    double sum_sq = 0, sum_sq_u = 0, total = 0, out = 0, out_u = 0, mx = 0, mx_u = 0;
    for (unsigned u = 0; u < s->n_under; u++) {
        const under_state *us = &s->under[u];
        sum_sq += us->sum_sq;
        sum_sq_u += us->sum_sq_u;
        total += us->total_ms;
        out += us->outside_ms;
        out_u += us->outside_ms_u;
        mx = fmax(mx, us->max_abs);
        mx_u = fmax(mx_u, us->max_abs_u);
    }
    r->hedged = (ht_engine_delta_stats){mx, total > 0 ? sqrt(sum_sq / total) : 0.0, out / 1000.0, total / 1000.0};
    r->unhedged = (ht_engine_delta_stats){mx_u, total > 0 ? sqrt(sum_sq_u / total) : 0.0, out_u / 1000.0, total / 1000.0};
    r->arm_time_ms = s->arm_time_ms;
    r->first_tick_ms = s->first_tick_ms;
    r->last_tick_ms = s->last_tick_ms;
    if (s->n_under > 0) {
        r->final_spot = s->under[0].spot;
        r->final_net_delta = s->under[0].held;
        r->band_lo = s->under[0].band_lo;
        r->band_hi = s->under[0].band_hi;
    }
    r->hedge_position_contracts = s->n_venues ? s->venues[0].position_contracts : 0.0;
    if (s->event_log)
        fflush(s->event_log);
    if (s->series)
        fflush(s->series);
}

void engine_slow_shutdown(slow_half *s)
{
    if (!s->gw)
        return;
    /* Orders still in flight get their answers (or time out), then whatever the venue still holds is cancelled. */
    uint64_t deadline = ht_mono_ns() + (uint64_t)s->e->cfg.order_timeout_ms * 1000000u;
    bool any = true;
    while (any && ht_mono_ns() < deadline) {
        any = false;
        for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++)
            any |= s->pending[i].used;
        if (any) {
            ht_gw_wait(s->gw, 1);
            poll_gateway(s);
        }
    }
    for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++) {
        if (!s->pending[i].used)
            continue;
        ht_error err;
        if (ht_gw_cancel(s->gw, s->pending[i].clordid, &err) != 0)
            log_order(s, "cancel_failed", (int)s->pending[i].u, NULL, 0, NAN, NAN, s->pending[i].clordid, NAN, "%s",
                      err.msg);
        else
            log_order(s, "cancel", (int)s->pending[i].u, NULL, 0, NAN, NAN, s->pending[i].clordid, NAN, "shutdown");
    }
    if (ht_gw_get_state(s->gw) == HT_GW_ACTIVE) {
        ht_gw_logout(s->gw, "hedgetrig shutting down");
        uint64_t until = ht_mono_ns() + 2000000000ull;
        while (ht_gw_get_state(s->gw) != HT_GW_STOPPED && ht_mono_ns() < until) {
            ht_gw_wait(s->gw, 5);
            poll_gateway(s);
        }
    }
}

void engine_slow_destroy(slow_half *s)
{
    ht_greeks_destroy(s->greeks);
    ht_positions_destroy(s->book);
    ht_greeks_destroy(s->base_greeks);
    ht_positions_destroy(s->base_book);
    ht_opt_destroy(s->opt);
    ht_profile_destroy(s->prof);
    free(s->load_buf[0]);
    free(s->load_buf[1]);
    free(s->reg);
    free(s->reg_trusted);
    free(s->pos_flags);
    free(s->book_text);
    if (s->event_log)
        fclose(s->event_log);
    if (s->series)
        fclose(s->series);
    memset(s, 0, sizeof *s);
}

/* Writes the counters file: key = value lines, replaced atomically (write a temporary, then rename). */
static void write_counters(slow_half *s)
{
    const char *path = s->e->cfg.counters_path;
    if (!path[0])
        return;
    char tmp[HT_ENGINE_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    const ht_engine_report *r = &s->rep;
    const under_state *us = &s->under[0];
    fprintf(f,
            "wall_ns = %" PRIu64 "\nexchange_ms = %" PRIu64 "\narmed = %d\nkilled = %d\npackets = %" PRIu64
            "\nticks = %" PRIu64 "\nbreaches = %" PRIu64 "\ndecisions = %" PRIu64 "\norders = %" PRIu64
            "\norders_refused = %" PRIu64 "\norders_rejected = %" PRIu64 "\nfills = %" PRIu64
            "\nfilled_contracts = %.10g\ncost_usd = %.6f\nnet_delta = %.10g\nband_lo = %.10g\nband_hi = %.10g\n"
            "hedge_position_contracts = %.10g\nvenue_state = %s\nmuted = %d\nchecks_failed = %" PRIu64 "\n"
            "decisions_suppressed = %" PRIu64 "\nhedge_untrusted = %d\npositions_fallback = %" PRIu64
            "\npositions_left_out = %" PRIu64 "\n",
            ht_wall_ns(), s->now_ms, s->armed, s->killed,
            (uint64_t)atomic_load_explicit(&s->e->packets_seen, memory_order_relaxed), r->ticks, r->breaches, r->decisions, r->orders,
            r->orders_refused, r->orders_rejected, r->fills, r->filled_contracts, r->cost_usd, us->held, us->band_lo,
            us->band_hi, s->n_venues ? s->venues[0].position_contracts : 0.0,
            s->gw ? ht_gw_state_name(ht_gw_get_state(s->gw)) : "none", us->muted, r->check_mismatches,
            r->decisions_suppressed, s->venues_untrusted != 0, r->positions_fallback, r->positions_excluded);
    fclose(f);
    rename(tmp, path);
}

void engine_slow_status(slow_half *s, bool force)
{
    const ht_engine_config *cfg = &s->e->cfg;
    if (!cfg->status_interval_s && !force)
        return;
    uint64_t now = ht_mono_ns();
    if (!force && now - s->last_status_ns < (uint64_t)cfg->status_interval_s * 1000000000ull)
        return;
    s->last_status_ns = now;
    const ht_engine_report *r = &s->rep;
    const under_state *us = &s->under[0];
    const ht_hist *t2o = &s->prof->span[HT_SPAN_TICK_TO_ORDER];
    if (cfg->status_interval_s)
        fprintf(stderr,
                "status: %s packets %" PRIu64 " ticks %" PRIu64 " breaches %" PRIu64 " orders %" PRIu64
                " fills %" PRIu64 " net delta %.4f band [%.4f, %.4f] position %.10g contracts cost %.2f USD venue %s%s"
                " suppressed %" PRIu64 "%s"
                " tick->order p50 %" PRIu64 " ns p99 %" PRIu64 " ns%s%s\n",
                s->armed ? "hedging" : "starting",
                (uint64_t)atomic_load_explicit(&s->e->packets_seen, memory_order_relaxed), r->ticks, r->breaches, r->orders, r->fills,
                us->held, us->band_lo, us->band_hi, s->n_venues ? s->venues[0].position_contracts : 0.0, r->cost_usd,
                s->gw ? ht_gw_state_name(ht_gw_get_state(s->gw)) : "none", s->killed ? " KILLED" : "",
                r->decisions_suppressed, s->venues_untrusted ? " HEDGE DATA UNTRUSTED" : "",
                ht_hist_quantile(t2o, 0.5), ht_hist_quantile(t2o, 0.99), s->armed ? "" : "; ",
                s->armed ? "" : s->arm_blocker);
    write_counters(s);
}

const char *engine_slow_blocker(const slow_half *s);
const char *engine_slow_blocker(const slow_half *s)
{
    return s->arm_blocker;
}

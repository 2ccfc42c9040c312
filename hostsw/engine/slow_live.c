/* SPDX-License-Identifier: MIT */
/* The engine's slow half, the live book: the venue's positions (snapshots at every logon, updates), the trades of
 * other sessions, liquidations and settlements, and the account's figures. The book file is the starting point;
 * the venue is the truth for quantities: every difference is reconciled by [book] reconcile, every change is
 * attributed, and a position the book did not hold gets its greek row (docs/deployment.md, "The live book"). */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slow_priv.h"
#include "hedgetrig/greeks_feed.h"

#define WHY_UNKNOWN "the feed's registry does not know it"

const char *ht_engine_change_source_name(ht_engine_change_source src)
{
    static const char *const names[] = {"hedge", "other_session", "liquidation", "settlement", "unexplained"};
    return (unsigned)src < HT_ARRAY_LEN(names) ? names[src] : "?";
}

/* Two quantities of contracts that are the same (the venue's decimals against our sums). */
static bool same_qty(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* An instrument name as the venue sends it: 1..47 bytes of [A-Za-z0-9_.-] (it reaches the event log, the JSON and
 * the Prometheus labels). */
static bool good_name(const char *name)
{
    size_t n = strnlen(name, HT_VENUE_NAME_BYTES);
    if (n == 0 || n >= 48)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
            return false;
    return true;
}

/* The live entry of an instrument, created when asked (NULL when memory is short or not found). */
static live_pos *live_find(slow_half *s, const char *name, bool create)
{
    live_book *lb = &s->live;
    for (size_t i = 0; i < lb->n; i++)
        if (strcmp(lb->pos[i].name, name) == 0)
            return &lb->pos[i];
    if (!create)
        return NULL;
    if (lb->n == lb->cap) {
        size_t cap = lb->cap ? 2 * lb->cap : 64;
        live_pos *p = realloc(lb->pos, cap * sizeof *p);
        if (!p) {
            engine_fail(s->e, "engine: out of memory for the live book");
            return NULL;
        }
        lb->pos = p;
        lb->cap = cap;
    }
    live_pos *lp = &lb->pos[lb->n++];
    memset(lp, 0, sizeof *lp);
    snprintf(lp->name, sizeof lp->name, "%s", name);
    return lp;
}

void slow_live_halt(slow_half *s, const char *fmt, ...)
{
    live_book *lb = &s->live;
    if (lb->halted)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lb->halt_reason, sizeof lb->halt_reason, fmt, ap);
    va_end(ap);
    lb->halted = true;
    s->rep.halted = true;
    slow_log_info(s, "halt", -1, "no more orders: %s", lb->halt_reason);
}

/* The index of an instrument's line in the book, or -1. */
static long book_line(const slow_half *s, uint32_t id)
{
    for (size_t i = 0; s->book && i < ht_positions_count(s->book); i++)
        if (ht_positions_at(s->book, i)->spec.id == id)
            return (long)i;
    return -1;
}

double slow_live_engine_qty(slow_half *s, const char *name, bool *held)
{
    const live_pos *lp = live_find(s, name, false);
    *held = false;
    if (lp && lp->unhedged) {
        *held = true;
        return lp->unhedged_contracts;
    }
    const ht_instrument *in = slow_reg_find_name(s, name);
    long i = in ? book_line(s, in->id) : -1;
    if (i < 0)
        return 0.0;
    *held = true;
    return ht_positions_at(s->book, (size_t)i)->qty_contracts;
}

/* The book changed: recomputed and loaded now when nothing is in flight, else at the next settle. Never while
 * the venue's events are being handled: a decision there would wait for its own fills, and the events polled
 * with this one but not handled yet (a position report the venue sent before those fills) would then be judged
 * against a book that holds fills sent after them. engine_slow_poll settles once the events are handled. */
static void book_changed(slow_half *s)
{
    s->live.dirty = true;
    if (!s->venue_poll_depth)
        slow_live_settle(s);
}

void slow_live_settle(slow_half *s)
{
    if (!s->live.dirty || !s->armed || !s->book || s->load_in_flight >= 0)
        return;
    for (unsigned u = 0; u < s->n_under; u++)
        if (s->under[u].pending > 0)
            return;
    uint64_t before = s->rep.refreshes;
    s->live.dirty = false; /* a change while the refresh decides sets it again */
    slow_refresh(s, HT_REFRESH_BOOK);
    if (s->rep.refreshes == before)
        s->live.dirty = true;
}

/* A hedge instrument's position moved by dq contracts outside our orders: the venue slot and the pipeline's
 * inventory follow at once, as a fill's do (the next table load takes it from the book as well). */
static void hedge_moved(slow_half *s, int v, double dq)
{
    venue_state *vs = &s->venues[v];
    vs->position_contracts += dq;
    if (!s->armed || vs->opt_index < 0 || !(vs->mark > 0))
        return;
    under_state *us = &s->under[vs->u];
    us->h_pipe += ht_units_contracts_to_coin(&vs->contract, dq, vs->mark);
    slow_command(s, CMD_SET_INVENTORY, vs->u, us->h_pipe, 0);
}

/* Counts the positions held that the engine cannot hedge. */
static void count_unhedged(slow_half *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->live.n; i++)
        n += s->live.pos[i].unhedged;
    s->rep.unhedged_positions = n;
}

/* A position the engine holds but cannot hedge (why): logged when it starts, counted, reported. */
static void set_unhedged(slow_half *s, live_pos *lp, double qty, const char *why)
{
    bool was = lp->unhedged;
    lp->unhedged = qty != 0.0;
    lp->unhedged_contracts = qty;
    snprintf(lp->unhedged_why, sizeof lp->unhedged_why, "%s", lp->unhedged ? why : "");
    if (lp->unhedged && !was)
        slow_log_order(s, "unhedged", -1, lp->name, qty > 0 ? 1 : -1, fabs(qty), NAN, 0, NAN,
                       "not in the hedge: %s", why);
    count_unhedged(s);
}

/* A position the book did not hold: its greek row (the book rebuilt around it), or unhedged when it cannot be. */
static void add_position(slow_half *s, live_pos *lp, const ht_instrument *in, double qty)
{
    ht_instrument_spec spec;
    ht_error err = {{0}};
    char why[96];
    if (ht_greeks_spec_from_feed(in, &spec, &err) != 0) {
        snprintf(why, sizeof why, "%.90s", err.msg);
        set_unhedged(s, lp, qty, why);
        return;
    }
    if (ht_greeks_underlying_find(s->greeks, spec.base_currency) < 0) {
        snprintf(why, sizeof why, "its underlying %s is not hedged", spec.base_currency);
        set_unhedged(s, lp, qty, why);
        return;
    }
    if (slow_book_rebuild(s, &spec, qty, 0, &err) != 0) {
        snprintf(why, sizeof why, "%.90s", err.msg);
        set_unhedged(s, lp, qty, why);
        return;
    }
    s->rep.new_instruments++;
    slow_log_order(s, "new_position", -1, lp->name, qty > 0 ? 1 : -1, fabs(qty), NAN, 0, NAN,
                   "a greek row for a %s the book did not hold", ht_pos_kind_name(spec.kind));
    book_changed(s);
}

/* Sets the engine's quantity of an instrument: a line of the book (a hedge instrument's inventory follows; an
 * option leaving at or after its expiry leaves the book), a new line, or a position the engine cannot hedge. */
static void set_engine_qty(slow_half *s, live_pos *lp, double qty)
{
    const ht_instrument *in = slow_reg_find_name(s, lp->name);
    if (!in || lp->unhedged) {
        set_unhedged(s, lp, qty, in ? lp->unhedged_why : WHY_UNKNOWN);
        return;
    }
    long i = book_line(s, in->id);
    if (i < 0) {
        if (qty != 0.0)
            add_position(s, lp, in, qty);
        return;
    }
    const ht_position *p = ht_positions_at(s->book, (size_t)i);
    int v = slow_venue_of(s, in->id);
    if (v >= 0)
        hedge_moved(s, v, qty - p->qty_contracts);
    ht_error err = {{0}};
    bool expired = p->spec.kind == HT_POS_OPTION && p->spec.expiry_ms <= s->now_ms;
    if (qty == 0.0 && expired && v < 0) {
        if (slow_book_rebuild(s, NULL, 0.0, in->id, &err) == 0)
            slow_log_order(s, "book_leave", -1, lp->name, 0, 0.0, NAN, 0, NAN, "expired and settled: out of the book");
    } else if (ht_positions_set_qty(s->book, (size_t)i, qty, &err) == 0) {
        ht_greeks_book_changed(s->greeks);
    }
    if (err.msg[0])
        engine_fail(s->e, "the live book: %s: %s", lp->name, err.msg);
    book_changed(s);
}

/* Takes the venue's quantity for lp after a difference nothing the engine saw explains (snapshot: a
 * reconciliation; else an unexplained change). */
static void adopt(slow_half *s, live_pos *lp, double mine, bool snapshot)
{
    const double diff = lp->venue_contracts - mine;
    if (snapshot) {
        s->rep.reconciliation_differences++;
        const bool halt = s->e->cfg.reconcile == HT_ENGINE_RECONCILE_HALT;
        slow_log_order(s, "reconcile", -1, lp->name, diff > 0 ? 1 : -1, fabs(diff), NAN, 0, NAN,
                       "the venue holds %.10g contracts, the book %.10g: %s", lp->venue_contracts, mine,
                       halt ? "halt" : "adopted");
        if (halt) {
            slow_live_halt(s, "reconciliation: %s: the venue holds %.10g contracts, the book %.10g", lp->name,
                           lp->venue_contracts, mine);
            return;
        }
        lp->reconciled_contracts += diff;
    } else {
        s->rep.position_changes[HT_ENGINE_CHANGE_UNEXPLAINED]++;
        s->rep.unexplained_alerts++;
        lp->unexplained_contracts += diff;
        slow_log_order(s, "unexplained", -1, lp->name, diff > 0 ? 1 : -1, fabs(diff), NAN, 0, NAN,
                       "ALERT: the venue holds %.10g contracts, the book %.10g, and no trade explains it: adopted",
                       lp->venue_contracts, mine);
    }
    set_engine_qty(s, lp, lp->venue_contracts);
    if (!snapshot && s->e->cfg.on_liquidation == HT_ENGINE_LIQUIDATION_HALT)
        slow_live_halt(s, "an unexplained change of %s ([book] on_liquidation = halt)", lp->name);
}

/* Compares the venue's latest quantity of lp with the engine's (after our orders on it are resolved). */
static void judge(slow_half *s, live_pos *lp, bool snapshot)
{
    if (!s->book_loaded || s->e->error[0])
        return;
    const ht_instrument *in = slow_reg_find_name(s, lp->name);
    const int v = in ? slow_venue_of(s, in->id) : -1;
    if (v >= 0 && slow_order_in_flight(s, v)) {
        /* The venue may report the position before the execution report: wait for it. */
        lp->judge_pending = true;
        lp->judge_snapshot |= snapshot;
        return;
    }
    lp->judge_pending = false;
    lp->judge_snapshot = false;
    bool held;
    const double mine = slow_live_engine_qty(s, lp->name, &held);
    /* A snapshot taken before fills of ours that the engine saw first (the venue answered the subscription while an
     * order was being filled) is as good as one that holds them. */
    if (same_qty(lp->venue_contracts, mine))
        return;
    /* A report sent before fills of ours that the engine saw first (it waited for the order, and the venue's
     * report of those fills follows) says nothing new. */
    if (!snapshot && lp->fills_since_report != 0.0 && same_qty(lp->venue_contracts + lp->fills_since_report, mine))
        return;
    if (snapshot && lp->window_fill_contracts != 0.0 && same_qty(lp->venue_contracts + lp->window_fill_contracts, mine)) {
        lp->venue_contracts = mine; /* what the venue holds now: its snapshot and the fills after it */
        return;
    }
    const long i = in ? book_line(s, in->id) : -1;
    const ht_position *p = i >= 0 ? ht_positions_at(s->book, (size_t)i) : NULL;
    if (!snapshot && lp->venue_contracts == 0.0 && p && p->spec.kind == HT_POS_OPTION &&
        p->spec.expiry_ms <= s->now_ms) {
        /* An option that went to 0 at or after its expiry: settled. */
        s->rep.position_changes[HT_ENGINE_CHANGE_SETTLEMENT]++;
        slow_log_order(s, "settle", -1, lp->name, mine > 0 ? -1 : 1, fabs(mine), lp->mark > 0 ? lp->mark : NAN, 0,
                       NAN, "expired: the venue holds none");
        set_engine_qty(s, lp, 0.0);
        return;
    }
    adopt(s, lp, mine, snapshot);
}

void slow_live_orders_resolved(slow_half *s, unsigned v)
{
    for (size_t i = 0; i < s->live.n; i++) {
        live_pos *lp = &s->live.pos[i];
        if (lp->judge_pending && strcmp(lp->name, s->venues[v].name) == 0)
            judge(s, lp, lp->judge_snapshot);
    }
}

/* Every instrument of the book and of the venue's reports compared (a snapshot is complete, or the book loaded). */
static void reconcile_all(slow_half *s)
{
    for (size_t i = 0; s->book && i < ht_positions_count(s->book); i++) {
        const ht_position *p = ht_positions_at(s->book, i);
        live_pos *lp = p->qty_contracts != 0.0 ? live_find(s, p->spec.name, true) : NULL;
        if (lp && !lp->venue_reported) {
            lp->venue_reported = true; /* the snapshot holds none of it */
            lp->venue_contracts = 0.0;
        }
    }
    for (size_t i = 0; i < s->live.n; i++)
        if (s->live.pos[i].venue_reported || s->live.pos[i].unhedged)
            judge(s, &s->live.pos[i], true);
}

/* The snapshot is complete: what it did not name, the venue holds none of; then the book is reconciled. */
static void snapshot_end(slow_half *s)
{
    size_t reported = 0;
    const uint64_t differences = s->rep.reconciliation_differences;
    s->live.snapshot_open = false;
    s->live.have_snapshot = true;
    s->live.awaiting_snapshot = false;
    s->rep.snapshots++;
    for (size_t i = 0; i < s->live.n; i++) {
        live_pos *lp = &s->live.pos[i];
        reported += lp->in_snapshot;
        if (!lp->in_snapshot && lp->venue_reported)
            lp->venue_contracts = 0.0;
        if (!lp->in_snapshot && (lp->unhedged || (s->book_loaded && lp->venue_contracts != 0.0)))
            lp->venue_reported = true;
    }
    if (s->book_loaded)
        reconcile_all(s);
    /* Replay's event log is a function of the capture: a snapshot that changes nothing (its arrival is the
     * session's timing) is counted, not logged. */
    const uint64_t found = s->rep.reconciliation_differences - differences;
    if (found || s->e->cfg.threads)
        slow_log_info(s, "snapshot", -1, "the venue reported %zu positions%s", reported,
                      !s->book_loaded ? "; compared with the book when it loads" : "");
}

/* HT_VENUE_EV_POSITION. */
static void on_position(slow_half *s, const ht_venue_event *ev)
{
    if ((ev->snapshot || ev->snapshot_end) && !s->live.snapshot_open) {
        s->live.snapshot_open = true;
        for (size_t i = 0; i < s->live.n; i++)
            s->live.pos[i].in_snapshot = false;
    }
    if (ev->instrument[0]) {
        if (!good_name(ev->instrument) || !isfinite(ev->position_contracts) || !isfinite(ev->px)) {
            slow_log_info(s, "bad_venue_event", -1, "a position report with a bad instrument name or quantity: ignored");
            return;
        }
        live_pos *lp = live_find(s, ev->instrument, true);
        if (!lp)
            return;
        lp->venue_contracts = ev->position_contracts;
        lp->venue_reported = true;
        lp->fills_since_report = 0.0;
        lp->in_snapshot |= ev->snapshot;
        if (ev->px > 0)
            lp->mark = ev->px;
        if (s->e->cfg.threads) /* live only: replay's log stays a function of the capture (a difference is logged) */
            slow_log_order(s, "position", -1, lp->name, 0, ev->position_contracts, ev->px > 0 ? ev->px : NAN, 0, NAN,
                           "%s", ev->snapshot ? "snapshot" : "update");
        if (!ev->snapshot)
            judge(s, lp, false);
    }
    if (ev->snapshot_end)
        snapshot_end(s);
}

/* A trade whose effect is in the book already: a change adopted before its trade arrived (an unexplained
 * change, or a snapshot's difference) is now attributed. True when the trade was that. */
static bool explains_adopted(slow_half *s, live_pos *lp, double q, ht_engine_change_source src)
{
    double *held[2] = {&lp->unexplained_contracts, &lp->reconciled_contracts};
    for (int k = 0; k < 2; k++) {
        double *left = held[k];
        if (*left == 0.0 || (*left > 0) != (q > 0) || fabs(q) > fabs(*left) * (1 + 1e-9) + 1e-12)
            continue;
        *left = same_qty(*left, q) ? 0.0 : *left - q;
        if (k == 0 && s->rep.position_changes[HT_ENGINE_CHANGE_UNEXPLAINED] > 0)
            s->rep.position_changes[HT_ENGINE_CHANGE_UNEXPLAINED]--;
        slow_log_order(s, "attributed", -1, lp->name, q > 0 ? 1 : -1, fabs(q), NAN, 0, NAN,
                       "the %s adopted earlier was a trade of source %s", k == 0 ? "unexplained change" : "difference",
                       ht_engine_change_source_name(src));
        return true;
    }
    return false;
}

/* HT_VENUE_EV_TRADE. */
static void on_trade(slow_half *s, const ht_venue_event *ev)
{
    const double q = ev->trade_contracts;
    if (!good_name(ev->instrument) || !isfinite(q) || q == 0.0 || !isfinite(ev->px) ||
        (unsigned)ev->source > HT_VENUE_SRC_SETTLEMENT) {
        slow_log_info(s, "bad_venue_event", -1, "a trade report with a bad instrument name, quantity or source: ignored");
        return;
    }
    static const ht_engine_change_source map[] = {HT_ENGINE_CHANGE_OTHER, HT_ENGINE_CHANGE_LIQUIDATION,
                                                  HT_ENGINE_CHANGE_SETTLEMENT};
    const ht_engine_change_source src = map[ev->source];
    live_pos *lp = live_find(s, ev->instrument, true);
    if (!lp)
        return;
    s->rep.position_changes[src]++;
    bool held;
    const double mine = s->book_loaded ? slow_live_engine_qty(s, lp->name, &held) : 0.0;
    const char *what = src == HT_ENGINE_CHANGE_SETTLEMENT ? "settle" : "trade";
    slow_log_order(s, what, -1, lp->name, q > 0 ? 1 : -1, fabs(q), ev->px, 0, NAN, "%s %s%s%s",
                   ht_engine_change_source_name(src), ev->trade_id[0] ? "trade " : "", ev->trade_id,
                   src == HT_ENGINE_CHANGE_SETTLEMENT ? ": leaves at its delivery price" : "");
    if (src == HT_ENGINE_CHANGE_LIQUIDATION) {
        s->rep.liquidation_alerts++;
        slow_log_order(s, "liquidation", -1, lp->name, q > 0 ? 1 : -1, fabs(q), ev->px, 0, NAN,
                       "ALERT: the venue liquidated %.10g contracts at %.10g; %s", q, ev->px,
                       s->e->cfg.on_liquidation == HT_ENGINE_LIQUIDATION_HALT ? "halting" : "hedging the new book");
    }
    if (!s->book_loaded)
        lp->preload_contracts += q;
    else if (!explains_adopted(s, lp, q, src))
        set_engine_qty(s, lp, mine + q);
    if (src == HT_ENGINE_CHANGE_LIQUIDATION && s->e->cfg.on_liquidation == HT_ENGINE_LIQUIDATION_HALT)
        slow_live_halt(s, "a liquidation of %s ([book] on_liquidation = halt)", lp->name);
}

/* A number of the account, or NaN. */
static double account_num(double x)
{
    return isfinite(x) ? x : NAN;
}

/* HT_VENUE_EV_ACCOUNT: kept for the status, the counters and the report; logged when a figure changed. */
static void on_account(slow_half *s, const ht_venue_event *ev)
{
    const ht_venue_account *a = &ev->account;
    size_t n = strnlen(a->currency, sizeof a->currency);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)a->currency[i]))
            n = sizeof a->currency;
    if (n == 0 || n >= sizeof a->currency) {
        slow_log_info(s, "bad_venue_event", -1, "account figures with a bad currency: ignored");
        return;
    }
    ht_venue_account *mine = &s->rep.account;
    ht_venue_account now = *a;
    now.equity = account_num(a->equity);
    now.balance = account_num(a->balance);
    now.initial_margin = account_num(a->initial_margin);
    now.maintenance_margin = account_num(a->maintenance_margin);
    const bool changed = !s->rep.have_account || strcmp(mine->currency, now.currency) != 0 ||
                         memcmp(&mine->equity, &now.equity, 4 * sizeof(double)) != 0;
    *mine = now;
    s->rep.have_account = true;
    if (changed && s->e->cfg.threads) /* live only: the figures follow the venue's timer */
        slow_log_info(s, "account", -1, "%s equity %.10g balance %.10g initial margin %.10g maintenance margin %.10g",
                      now.currency, now.equity, now.balance, now.initial_margin, now.maintenance_margin);
}

void slow_live_event(slow_half *s, const ht_venue_event *ev)
{
    switch (ev->type) {
    case HT_VENUE_EV_POSITION:
        on_position(s, ev);
        break;
    case HT_VENUE_EV_TRADE:
        on_trade(s, ev);
        break;
    case HT_VENUE_EV_ACCOUNT:
        on_account(s, ev);
        break;
    default:
        break;
    }
}

void slow_live_note_hedge_fill(slow_half *s, const char *instrument, double signed_contracts)
{
    s->rep.position_changes[HT_ENGINE_CHANGE_HEDGE]++;
    live_pos *lp = live_find(s, instrument, true);
    if (!lp)
        return;
    lp->fills_since_report += signed_contracts;
    if (s->live.awaiting_snapshot || lp->judge_snapshot)
        lp->window_fill_contracts += signed_contracts;
}

void slow_live_logon(slow_half *s)
{
    s->live.awaiting_snapshot = true;
    for (size_t i = 0; i < s->live.n; i++)
        s->live.pos[i].window_fill_contracts = 0.0;
}

void slow_live_book_loaded(slow_half *s)
{
    /* Trades before the book loaded move it first (they were attributed when they came). */
    for (size_t i = 0; i < s->live.n; i++) {
        live_pos *lp = &s->live.pos[i];
        if (lp->preload_contracts == 0.0)
            continue;
        bool held;
        const double q = lp->preload_contracts;
        lp->preload_contracts = 0.0;
        set_engine_qty(s, lp, slow_live_engine_qty(s, lp->name, &held) + q);
    }
    if (s->live.have_snapshot && !s->live.snapshot_open)
        reconcile_all(s);
}

void slow_live_on_instrument(slow_half *s, const ht_instrument *in)
{
    char name[HT_VENUE_NAME_BYTES];
    snprintf(name, sizeof name, "%.*s", (int)(in->name_len < sizeof name ? in->name_len : sizeof name - 1), in->name);
    live_pos *lp = live_find(s, name, false);
    if (!lp || !lp->unhedged || strcmp(lp->unhedged_why, WHY_UNKNOWN) != 0)
        return;
    /* The feed knows it now: it joins the book when it can. */
    const double q = lp->unhedged_contracts;
    lp->unhedged = false;
    lp->unhedged_contracts = 0.0;
    count_unhedged(s);
    set_engine_qty(s, lp, q);
}

/* SPDX-License-Identifier: MIT */
/* The gateway's account messages and rate-limit mirror (docs/gateway.md, "Positions, trades and the account" and
 * "Rate limits"): at every logon a RequestForPositions (AN, snapshot + updates), a TradeCaptureReportRequest (AD) and
 * a User Request (BE); their answers as position, trade and account events; BE again on a timer and after our
 * fills; every outbound message counted against Deribit's budgets, orders and cancels refused and account requests
 * held back when they would not fit. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gw_priv.h"
#include "hedgetrig/tsc.h"
#include "hedgetrig/venue.h"

/* ---- the rate-limit mirror ---- */

void gw_rate_init(ht_gw *gw)
{
    ht_rate_account_init(&gw->rate.mono, &gw->cfg.rate, ht_mono_ns());
    gw->rate.venue_clock_ns = 0;
}

/* The account the mirror counts on and its clock: the risk clock's (exchange time in replay, as the simulator then
 * counts) when the engine sets it, else the monotonic clock's. The risk clock's account starts full on its first
 * reading; a clock that goes back (another replay) refills nothing. */
static ht_rate_account *rate_account(ht_gw *gw, uint64_t *now)
{
    if (!gw->risk_clock_ns) {
        *now = ht_mono_ns();
        return &gw->rate.mono;
    }
    if (!gw->rate.venue_clock_ns)
        ht_rate_account_init(&gw->rate.venue, &gw->cfg.rate, gw->risk_clock_ns);
    else if (gw->risk_clock_ns < gw->rate.venue_clock_ns)
        gw->rate.venue.me.last_ns = gw->rate.venue.credits.last_ns = gw->risk_clock_ns;
    gw->rate.venue_clock_ns = gw->risk_clock_ns;
    *now = gw->risk_clock_ns;
    return &gw->rate.venue;
}

/* The bucket of a budget in an account, its cost and its reserve. */
static ht_rate_bucket *bucket(ht_rate_account *a, bool me, double *cost, double *reserve)
{
    *cost = me ? 1 : a->cfg.credit_cost;
    *reserve = a->cfg.reserve * *cost;
    return me ? &a->me : &a->credits;
}

bool gw_rate_take(ht_gw *gw, bool me)
{
    double cost, reserve;
    uint64_t now;
    ht_rate_bucket *b = bucket(rate_account(gw, &now), me, &cost, &reserve);
    return ht_rate_bucket_take(b, cost, reserve, now);
}

void gw_rate_charge(ht_gw *gw, bool me)
{
    double cost, reserve;
    uint64_t now;
    ht_rate_bucket *b = bucket(rate_account(gw, &now), me, &cost, &reserve);
    ht_rate_bucket_charge(b, cost, now);
}

void ht_gw_get_limits(ht_gw *gw, ht_venue_limits *out)
{
    const ht_rate_config *c = &gw->cfg.rate;
    uint64_t now;
    ht_rate_account *a = rate_account(gw, &now);
    double me = ht_rate_bucket_level(&a->me, now) - c->reserve;
    double cr = ht_rate_bucket_level(&a->credits, now) - c->reserve * c->credit_cost;
    memset(out, 0, sizeof *out);
    out->known = true;
    out->orders_available = me > 0 ? me : 0;
    out->orders_burst = c->me_burst;
    out->credits_available = cr > 0 ? cr : 0;
    out->credits_max = c->credit_max;
    out->next_order_ns = ht_rate_bucket_wait_ns(&a->me, 1, c->reserve, now);
    out->held = gw->rate.held;
    out->me_changes = gw->rate.me_changes;
    out->volume_contracts = gw->rate.volume_contracts;
}

void gw_rate_order_done(ht_gw *gw, bool cancelled_rest, double filled)
{
    if (cancelled_rest)
        gw->rate.me_changes++; /* Deribit's order-to-volume rule: a cancelled IOC counts twice */
    gw->rate.volume_contracts += filled;
}

/* ---- requests ---- */

/* Sends one account request (AN, AD or BE) if the credit pool has room; false when it was held back. */
static bool send_request(ht_gw *gw, char which)
{
    if (!gw_rate_take(gw, false))
        return false;
    gw_account *a = &gw->acct;
    ht_fix_writer w;
    ht_error err;
    int rc;
    uint64_t seq = gw->next_out;
    a->counter++;
    if (which == 'P') {
        ht_fix_pos_request r = {"", HT_FIX_SUB_SUBSCRIBE, ""};
        snprintf(r.pos_req_id, sizeof r.pos_req_id, "%spos-%llu", gw->clordid_head, (unsigned long long)a->counter);
        gw_begin_msg(gw, &w, HT_FIX_MSG_REQUEST_FOR_POSITIONS, seq);
        rc = ht_fix_put_pos_request(&w, &r, &err);
        memcpy(a->pos_req_id, r.pos_req_id, sizeof a->pos_req_id);
        a->pos_seq = seq;
        a->snapshot_open = true;
        a->snapshot_started = false;
        a->snapshot_reports_left = 0;
    } else if (which == 'T') {
        ht_fix_trade_request r = {"", HT_FIX_SUB_SUBSCRIBE};
        snprintf(r.trade_request_id, sizeof r.trade_request_id, "%strd-%llu", gw->clordid_head,
                 (unsigned long long)a->counter);
        gw_begin_msg(gw, &w, HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST, seq);
        rc = ht_fix_put_trade_request(&w, &r, &err);
        a->trade_seq = seq;
    } else {
        ht_fix_user_request r;
        memset(&r, 0, sizeof r);
        snprintf(r.user_request_id, sizeof r.user_request_id, "%susr-%llu", gw->clordid_head,
                 (unsigned long long)a->counter);
        snprintf(r.username, sizeof r.username, "%s", gw->cfg.client_id[0] ? gw->cfg.client_id : gw->cfg.sender_comp_id);
        snprintf(r.currency, sizeof r.currency, "%s", gw->cfg.account_currency);
        gw_begin_msg(gw, &w, HT_FIX_MSG_USER_REQUEST, seq);
        rc = ht_fix_put_user_request(&w, &r, &err);
        a->user_seq = seq;
    }
    if (rc != 0) {
        gw_log(gw, "account request not sent: %s", err.msg);
        return true; /* a value of ours the encoder refused: trying again would not help */
    }
    gw->rate.paid = true;
    gw_finish_and_send(gw, &w, 'A', 0);
    return true;
}

void gw_account_on_logon(ht_gw *gw)
{
    gw_account *a = &gw->acct;
    a->want_positions = gw->cfg.positions;
    a->want_trades = gw->cfg.trade_capture;
    a->want_user = gw->cfg.account_interval_ms > 0;
    a->snapshot_open = false;
    a->rep_next = a->rep.n; /* what a previous session left unreported is stale */
    a->next_user_ns = ht_mono_ns() + (uint64_t)gw->cfg.account_interval_ms * 1000000u;
}

void gw_account_after_fill(ht_gw *gw)
{
    gw->acct.want_user |= gw->cfg.account_interval_ms > 0;
}

/* One wanted request: sent when it fits, else held (counted once until it goes). */
static void try_request(ht_gw *gw, bool *want, bool *held, char which)
{
    if (!*want)
        return;
    if (send_request(gw, which)) {
        *want = *held = false;
    } else if (!*held) {
        *held = true;
        gw->rate.held++;
    }
}

void gw_account_tick(ht_gw *gw, uint64_t now)
{
    gw_account *a = &gw->acct;
    if (gw->state != HT_GW_ACTIVE || gw->fd < 0)
        return;
    if (gw->cfg.account_interval_ms && now >= a->next_user_ns) {
        a->want_user = true;
        a->next_user_ns = now + (uint64_t)gw->cfg.account_interval_ms * 1000000u;
    }
    try_request(gw, &a->want_positions, &a->held_positions, 'P');
    try_request(gw, &a->want_trades, &a->held_trades, 'T');
    try_request(gw, &a->want_user, &a->held_user, 'U');
}

/* ---- answers ---- */

/* A malformed account message: logged, reported, answered with a session Reject (reason 5, a value is wrong). */
static int bad_account_msg(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, const char *why, ht_gw_event *ev, int max,
                           int *n)
{
    char text[300];
    snprintf(text, sizeof text, "seq %llu: %s", (unsigned long long)seq, why);
    gw_report_bad(gw, ev, max, n, seq, text);
    return gw_send_reject(gw, seq, 0, m->msg_type, 5, why);
}

/* A refusal of one of our requests: logged and reported; the session goes on without what was asked. */
static void refused(ht_gw *gw, const char *what, const char *why, ht_gw_event *ev, int max, int *n)
{
    gw_log(gw, "ACCOUNT REQUEST REFUSED: the venue refused %s: %s; the session goes on without it", what, why);
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_ACCOUNT_REFUSED);
    if (e)
        snprintf(e->text, sizeof e->text, "%s refused: %.200s", what, why);
}

void gw_account_on_reject(ht_gw *gw, uint64_t ref_seq, const char *text, ht_gw_event *ev, int max, int *n)
{
    gw_account *a = &gw->acct;
    if (!ref_seq)
        return;
    if (ref_seq == a->pos_seq) {
        a->snapshot_open = false;
        refused(gw, "RequestForPositions (AN)", text[0] ? text : "rejected", ev, max, n);
    } else if (ref_seq == a->trade_seq) {
        refused(gw, "TradeCaptureReportRequest (AD)", text[0] ? text : "rejected", ev, max, n);
    } else if (ref_seq == a->user_seq) {
        refused(gw, "UserRequest (BE)", text[0] ? text : "rejected", ev, max, n);
    }
}

bool gw_account_pending(const ht_gw *gw)
{
    return gw->acct.rep_next < gw->acct.rep.n;
}

void gw_account_drain(ht_gw *gw, ht_gw_event *ev, int max, int *n)
{
    gw_account *a = &gw->acct;
    while (a->rep_next < a->rep.n && *n < max) {
        const ht_fix_position *p = &a->rep.pos[a->rep_next++];
        ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_POSITION);
        snprintf(e->symbol, sizeof e->symbol, "%s", p->symbol);
        e->position = ht_fix_position_contracts(p);
        e->mark_px = isnan(p->mark_px) ? 0 : p->mark_px;
        e->snapshot = a->rep_snapshot;
        e->snapshot_end = a->rep_snapshot && a->snapshot_reports_left == 0 && a->rep_next == a->rep.n;
        snprintf(e->text, sizeof e->text, "%s %s %g contracts", a->rep_snapshot ? "snapshot" : "update", p->symbol,
                 e->position);
    }
}

int gw_on_position_report(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max,
                          int *n)
{
    gw_account *a = &gw->acct;
    ht_error err;
    (void)recv_tsc;
    if (ht_fix_parse_position_report(m, &a->rep, &err) != 0) {
        a->rep.n = a->rep_next = 0;
        return bad_account_msg(gw, m, seq, err.msg, ev, max, n);
    }
    /* The first report that answers our AN is the snapshot, all of it (Deribit puts every position in one report's
     * group); any later one is an update. */
    bool answer = a->snapshot_open && (!a->rep.pos_req_id[0] || strcmp(a->rep.pos_req_id, a->pos_req_id) == 0);
    int result = a->rep.pos_req_result;
    if (result != HT_FIX_POS_RESULT_VALID && result != HT_FIX_POS_RESULT_NO_POSITIONS) {
        char why[200];
        snprintf(why, sizeof why, "PosReqResult %d%s%s", result, a->rep.text[0] ? ": " : "", a->rep.text);
        a->rep.n = a->rep_next = 0;
        if (answer)
            a->snapshot_open = false;
        refused(gw, "RequestForPositions (AN)", why, ev, max, n);
        return 0;
    }
    a->rep_next = 0;
    a->rep_snapshot = answer;
    if (answer) {
        /* A snapshot in several reports says how many in TotalNumPosReports (727): it ends with the last. */
        if (!a->snapshot_started)
            a->snapshot_reports_left = a->rep.total_num_pos_reports > 1 ? a->rep.total_num_pos_reports : 1;
        a->snapshot_started = true;
        a->snapshot_reports_left--;
        a->snapshot_open = a->snapshot_reports_left > 0;
        gw_log(gw, "positions: snapshot report %s, %u instruments%s", a->rep.pos_maint_rpt_id, a->rep.n,
               a->snapshot_open ? ", more to come" : ", snapshot complete");
        if (a->rep.n == 0 && !a->snapshot_open) {
            ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_POSITION);
            if (e) {
                e->snapshot = e->snapshot_end = true;
                snprintf(e->text, sizeof e->text, "snapshot: the account holds no position");
            }
        }
    }
    gw_account_drain(gw, ev, max, n);
    return 0;
}

/* True when the trade id was reported lately (a report repeated on a resubscription); remembers it otherwise. */
static bool seen_trade(gw_account *a, const char *id)
{
    for (unsigned i = 0; i < GW_SEEN_TRADES; i++)
        if (strcmp(a->seen[i], id) == 0)
            return true;
    snprintf(a->seen[a->seen_next], sizeof a->seen[0], "%s", id);
    a->seen_next = (a->seen_next + 1) % GW_SEEN_TRADES;
    return false;
}

int gw_on_trade_capture_report(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                               int max, int *n)
{
    ht_fix_trade_report r;
    ht_error err;
    if (ht_fix_parse_trade_report(m, &r, &err) != 0)
        return bad_account_msg(gw, m, seq, err.msg, ev, max, n);
    if (seen_trade(&gw->acct, r.trade_id)) {
        gw_log(gw, "trade %s reported again: dropped", r.trade_id);
        return 0;
    }
    static const char *const k_source[] = {"another session", "liquidation", "settlement"};
    int source = ht_fix_trade_report_source(&r);
    gw_log(gw, "TRADE (%s): %s %s %g @ %g, trade %s%s", k_source[source], r.side == '1' ? "buy" : "sell", r.symbol,
           r.last_qty, r.last_px, r.trade_id, r.previously_reported ? " (previously reported)" : "");
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_TRADE);
    if (e) {
        e->recv_tsc = recv_tsc;
        e->seq = seq;
        snprintf(e->symbol, sizeof e->symbol, "%s", r.symbol);
        e->side = r.side == '1' ? HT_GW_BUY : HT_GW_SELL;
        e->last_qty = r.last_qty;
        e->last_px = r.last_px;
        e->trade_source = source;
        snprintf(e->exec_id, sizeof e->exec_id, "%s", r.trade_id);
        snprintf(e->order_id, sizeof e->order_id, "%s", r.order_id);
        snprintf(e->text, sizeof e->text, "trade of %s", k_source[source]);
    }
    return 0;
}

int gw_on_trade_request_ack(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                            int max, int *n)
{
    ht_fix_trade_request_ack r;
    ht_error err;
    (void)recv_tsc;
    if (ht_fix_parse_trade_request_ack(m, &r, &err) != 0)
        return bad_account_msg(gw, m, seq, err.msg, ev, max, n);
    if (r.result != 0 || r.status == 2) {
        char why[200];
        snprintf(why, sizeof why, "TradeRequestResult %d%s%s", r.result, r.text[0] ? ": " : "", r.text);
        refused(gw, "TradeCaptureReportRequest (AD)", why, ev, max, n);
    } else {
        gw_log(gw, "trade capture subscription %s accepted", r.trade_request_id);
    }
    return 0;
}

int gw_on_user_response(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max,
                        int *n)
{
    ht_fix_user_response r;
    ht_error err;
    (void)recv_tsc;
    if (ht_fix_parse_user_response(m, &r, &err) != 0)
        return bad_account_msg(gw, m, seq, err.msg, ev, max, n);
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_ACCOUNT);
    if (e) {
        e->seq = seq;
        snprintf(e->currency, sizeof e->currency, "%s", r.currency[0] ? r.currency : gw->cfg.account_currency);
        e->equity = r.equity;
        e->balance = r.balance;
        e->initial_margin = r.initial_margin;
        e->maintenance_margin = r.maintenance_margin;
        snprintf(e->text, sizeof e->text, "account %s: equity %g, initial margin %g, maintenance margin %g",
                 e->currency, r.equity, r.initial_margin, r.maintenance_margin);
    }
    return 0;
}

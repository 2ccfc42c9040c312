/* SPDX-License-Identifier: MIT */
/* The exchange simulator's account messages: Request For Positions (AN) answered with Position Reports (AP) and,
 * while subscribed, an update after every change; TradeCaptureReportRequest (AD) answered with its ack (AQ) and a
 * Trade Capture Report (AE) for every trade on the account not made by the session's own orders; User Request
 * (BE) answered with a User Response (BF) carrying the account's figures. And the rate limits: a request without
 * credit gets too_many_requests (10028) and ends its session. Encoded with the shared codec (hedgetrig/fix_account.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hedgetrig/fix_account.h"
#include "hedgetrig/tsc.h"
#include "xsim_priv.h"

/* ---- rate limits ---- */

/* The clock the limits run on: the script's external clock once set (replay: exchange time, as the gateway's
 * mirror), else the monotonic one. Caller holds the lock. */
static uint64_t rate_now_ns(const ht_xsim *x)
{
    return x->clock_external ? x->clock_ns : ht_mono_ns();
}

bool xsim_rate_admit(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    if (!x->cfg.rate.enforce)
        return true;
    static const char *const matching[] = {HT_FIX_MSG_NEW_ORDER_SINGLE, HT_FIX_MSG_ORDER_CANCEL_REQUEST, "G", "q"};
    bool me = false;
    for (size_t i = 0; i < HT_ARRAY_LEN(matching); i++)
        me |= strcmp(m->msg_type, matching[i]) == 0;
    pthread_mutex_lock(&x->lock);
    bool ok = me ? ht_rate_bucket_take(&x->rate.me, 1, 0, rate_now_ns(x))
                 : ht_rate_bucket_take(&x->rate.credits, x->cfg.rate.credit_cost, 0, rate_now_ns(x));
    if (!ok)
        x->stats.rate_violations++;
    pthread_mutex_unlock(&x->lock);
    if (ok)
        return true;
    char why[160];
    snprintf(why, sizeof why, "too_many_requests (10028): no %s credit left (%s: %g a second, %s %g)",
             me ? "matching-engine" : "request", x->cfg.rate.tier, me ? x->cfg.rate.me_rate_per_s
             : x->cfg.rate.credit_refill_per_s / x->cfg.rate.credit_cost, me ? "burst" : "pool of",
             me ? x->cfg.rate.me_burst : x->cfg.rate.credit_max / x->cfg.rate.credit_cost);
    xsim_log(x, "%s seq %llu (35=%s) refused: %s; the session ends", c->store->client_comp_id,
             (unsigned long long)seq, m->msg_type, why);
    char type[8];
    xsim_send_session_reject(x, c, seq, 0, ht_fix_printable(m->msg_type, strlen(m->msg_type), type, sizeof type), 99,
                             why);
    xsim_send_admin(x, c, HT_FIX_MSG_LOGOUT, NULL, why, 0);
    xsim_drop_conn(x, c, why);
    return false;
}

/* Finishes an account message whose body put_rc says was written (0) or refused (err): sends it and adds one to
 * *counter (NULL: none), or logs why it was not sent. */
static void send_account_msg(ht_xsim *x, conn *c, ht_fix_writer *w, int put_rc, const ht_error *err,
                             uint64_t *counter)
{
    if (put_rc != 0) {
        xsim_log(x, "account message not sent: %s", err->msg);
        return;
    }
    xsim_send_out(x, c, w, true, false);
    if (!counter)
        return;
    pthread_mutex_lock(&x->lock);
    (*counter)++;
    pthread_mutex_unlock(&x->lock);
}

/* ---- positions ---- */

/* Copies the account's positions into entries: every non-zero one (snapshot), or every one changed after
 * `since` (updates, flat ones included: they say the position closed). *changes: the counter they reflect. */
static unsigned collect_positions(ht_xsim *x, bool snapshot, uint64_t since, ht_fix_position *out, unsigned max,
                                  uint64_t *changes)
{
    unsigned n = 0;
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < x->acct.n_pos && n < max; i++) {
        const xsim_position *p = &x->acct.pos[i];
        if (snapshot ? p->contracts == 0 : p->changed <= since)
            continue;
        ht_fix_position *e = &out[n++];
        memset(e, 0, sizeof *e);
        snprintf(e->symbol, sizeof e->symbol, "%s", p->symbol);
        e->long_qty = p->contracts > 0 ? p->contracts : 0;
        e->short_qty = p->contracts < 0 ? -p->contracts : 0;
        double mark = xsim_ledger_mark(x, p);
        e->mark_px = mark > 0 ? mark : NAN;
        e->avg_px = p->avg_px > 0 ? p->avg_px : NAN;
        const book *b = xsim_find_book(x, p->symbol, false);
        e->contract_multiplier = b && b->have_contract ? b->contract.size : NAN;
        e->side = p->contracts > 0 ? '1' : p->contracts < 0 ? '2' : '\0';
    }
    *changes = x->acct.changes;
    pthread_mutex_unlock(&x->lock);
    return n;
}

/* Sends entries as Position Reports of at most HT_FIX_MAX_POSITIONS each (at least one: an empty account is one
 * report without entries). A snapshot's reports carry TotalNumPosReports (their count); updates do not. */
static void send_positions(ht_xsim *x, conn *c, const char *req_id, bool snapshot, const ht_fix_position *pos,
                           unsigned n)
{
    static ht_fix_position_report r; /* the loop's thread only */
    unsigned reports = n ? (n + HT_FIX_MAX_POSITIONS - 1) / HT_FIX_MAX_POSITIONS : 1;
    for (unsigned k = 0; k < reports && c->fd >= 0; k++) {
        memset(&r, 0, sizeof r);
        snprintf(r.pos_maint_rpt_id, sizeof r.pos_maint_rpt_id, "P%llu", (unsigned long long)++x->report_id);
        snprintf(r.pos_req_id, sizeof r.pos_req_id, "%s", req_id);
        r.pos_req_result = HT_FIX_POS_RESULT_VALID;
        r.total_num_pos_reports = snapshot ? (int64_t)reports : -1;
        r.n = n - k * HT_FIX_MAX_POSITIONS < HT_FIX_MAX_POSITIONS ? n - k * HT_FIX_MAX_POSITIONS : HT_FIX_MAX_POSITIONS;
        memcpy(r.pos, pos + k * HT_FIX_MAX_POSITIONS, r.n * sizeof *r.pos);
        ht_fix_writer w;
        ht_error err;
        xsim_begin_out(x, c, &w, HT_FIX_MSG_POSITION_REPORT, c->store->next_out);
        send_account_msg(x, c, &w, ht_fix_put_position_report(&w, &r, &err), &err, &x->stats.position_reports);
    }
}

/* Answers a refused account request with a BusinessMessageReject (380=5, value incorrect) naming what was wrong. */
static void reject_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq, const char *why)
{
    xsim_log(x, "seq %llu (35=%s) rejected: %s", (unsigned long long)seq, m->msg_type, why);
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_BUSINESS_MESSAGE_REJECT, c->store->next_out);
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, seq);
    ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, m->msg_type);
    ht_fix_put_u64(&w, HT_TAG_BUSINESS_REJECT_REASON, 5);
    char text[HT_FIX_ACCT_TEXT_BYTES];
    ht_fix_put_str(&w, HT_TAG_TEXT, ht_fix_printable(why, strlen(why), text, sizeof text));
    xsim_send_out(x, c, &w, true, false);
    pthread_mutex_lock(&x->lock);
    x->stats.session_rejects++;
    pthread_mutex_unlock(&x->lock);
}

/* Request For Positions (AN): a snapshot, and with 263=1 an update after every change; 263=2 ends it. */
void xsim_on_pos_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    ht_fix_pos_request r;
    ht_error err;
    if (ht_fix_parse_pos_request(m, &r, &err) != 0) {
        reject_request(x, c, m, seq, err.msg);
        return;
    }
    if (r.subscription == HT_FIX_SUB_UNSUBSCRIBE) {
        c->pos_subscribed = false;
        send_positions(x, c, r.pos_req_id, false, NULL, 0);
        return;
    }
    static ht_fix_position pos[HT_XSIM_MAX_SYMBOLS];
    uint64_t changes;
    unsigned n = collect_positions(x, true, 0, pos, HT_XSIM_MAX_SYMBOLS, &changes);
    send_positions(x, c, r.pos_req_id, true, pos, n);
    if (r.subscription == HT_FIX_SUB_SUBSCRIBE) {
        c->pos_subscribed = true;
        c->pos_seen = changes;
        snprintf(c->pos_req_id, sizeof c->pos_req_id, "%s", r.pos_req_id);
    }
}

/* ---- trades ---- */

/* Sends one trade as a Trade Capture Report. */
static void send_trade(ht_xsim *x, conn *c, const char *req_id, const xsim_trade *t, bool previously)
{
    ht_fix_trade_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.trade_request_id, sizeof r.trade_request_id, "%s", req_id);
    snprintf(r.trade_report_id, sizeof r.trade_report_id, "R%llu", (unsigned long long)t->id);
    snprintf(r.trade_id, sizeof r.trade_id, "T%llu", (unsigned long long)t->id);
    r.previously_reported = previously;
    snprintf(r.symbol, sizeof r.symbol, "%s", t->symbol);
    r.last_qty = fabs(t->contracts);
    r.last_px = t->px;
    r.side = t->contracts > 0 ? '1' : '2';
    r.trd_type = t->source == XSIM_TRADE_LIQUIDATION  ? HT_FIX_TRD_LIQUIDATION
                 : t->source == XSIM_TRADE_SETTLEMENT ? HT_FIX_TRD_SETTLEMENT
                                                      : HT_FIX_TRD_REGULAR;
    ht_fix_writer w;
    ht_error err;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_TRADE_CAPTURE_REPORT, c->store->next_out);
    send_account_msg(x, c, &w, ht_fix_put_trade_report(&w, &r, &err), &err, &x->stats.trade_reports);
}

/* Sends the trades [from, to) of the account that the connection's session did not make; returns to. */
static size_t send_trades(ht_xsim *x, conn *c, const char *req_id, size_t from, bool previously)
{
    for (size_t i = from;; i++) {
        pthread_mutex_lock(&x->lock);
        bool more = i < x->acct.n_trades;
        xsim_trade t;
        if (more)
            t = x->acct.trades[i];
        pthread_mutex_unlock(&x->lock);
        if (!more || c->fd < 0)
            return i;
        if (t.source != XSIM_TRADE_ORDER || strcmp(t.session, c->store->client_comp_id) != 0)
            send_trade(x, c, req_id, &t, previously);
    }
}

/* TradeCaptureReportRequest (AD): the ack, then every past trade not of this session's orders (PreviouslyReported
 * Y); with 263=1 every later one as it happens (N); 263=2 ends it. */
void xsim_on_trade_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    ht_fix_trade_request r;
    ht_error err;
    if (ht_fix_parse_trade_request(m, &r, &err) != 0) {
        reject_request(x, c, m, seq, err.msg);
        return;
    }
    ht_fix_trade_request_ack ack;
    memset(&ack, 0, sizeof ack);
    snprintf(ack.trade_request_id, sizeof ack.trade_request_id, "%s", r.trade_request_id);
    ack.result = 0;
    ack.status = 0;
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST_ACK, c->store->next_out);
    send_account_msg(x, c, &w, ht_fix_put_trade_request_ack(&w, &ack, &err), &err, NULL);
    if (r.subscription == HT_FIX_SUB_UNSUBSCRIBE) {
        c->trades_subscribed = false;
        return;
    }
    size_t told = send_trades(x, c, r.trade_request_id, 0, true);
    if (r.subscription == HT_FIX_SUB_SUBSCRIBE) {
        c->trades_subscribed = true;
        c->trades_seen = told;
        snprintf(c->trade_req_id, sizeof c->trade_req_id, "%s", r.trade_request_id);
    }
}

/* ---- the account's figures ---- */

/* User Request (BE): the account's figures in a User Response (the simulator's own model, in coin). */
void xsim_on_user_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    ht_fix_user_request r;
    ht_error err;
    if (ht_fix_parse_user_request(m, &r, &err) != 0) {
        reject_request(x, c, m, seq, err.msg);
        return;
    }
    ht_xsim_account a;
    ht_xsim_account_get(x, &a);
    ht_fix_user_response u;
    memset(&u, 0, sizeof u);
    snprintf(u.user_request_id, sizeof u.user_request_id, "%s", r.user_request_id);
    snprintf(u.username, sizeof u.username, "%s", r.username[0] ? r.username : c->store->client_comp_id);
    u.user_status = 1; /* logged in */
    snprintf(u.currency, sizeof u.currency, "%s", r.currency[0] ? r.currency : "BTC");
    u.equity = a.equity_coin;
    u.balance = a.balance_coin;
    u.initial_margin = a.initial_margin_coin;
    u.maintenance_margin = a.maintenance_margin_coin;
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_USER_RESPONSE, c->store->next_out);
    send_account_msg(x, c, &w, ht_fix_put_user_response(&w, &u, &err), &err, &x->stats.user_responses);
}

/* ---- updates ---- */

void xsim_account_flush(ht_xsim *x)
{
    static ht_fix_position pos[HT_XSIM_MAX_SYMBOLS];
    pthread_mutex_lock(&x->lock);
    uint64_t changes = x->acct.changes;
    size_t trades = x->acct.n_trades;
    pthread_mutex_unlock(&x->lock);
    for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++) {
        conn *c = &x->conns[i];
        if (c->fd < 0 || !c->logged_on)
            continue;
        if (c->trades_subscribed && c->trades_seen < trades)
            c->trades_seen = send_trades(x, c, c->trade_req_id, c->trades_seen, false);
        if (c->fd >= 0 && c->pos_subscribed && c->pos_seen < changes) {
            uint64_t now_changes;
            unsigned n = collect_positions(x, false, c->pos_seen, pos, HT_XSIM_MAX_SYMBOLS, &now_changes);
            c->pos_seen = now_changes;
            if (n)
                send_positions(x, c, c->pos_req_id, false, pos, n);
        }
    }
}

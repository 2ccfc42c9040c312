/* SPDX-License-Identifier: MIT */
/* The venue interface over the FIX gateway: each operation is one ht_gw_* call, and each gateway event one venue
 * event (execution reports become fills, rejects and order ends). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/tsc.h"
#include "hedgetrig/venue_fix.h"

typedef struct venue_fix {
    ht_venue venue; /* first: the ht_venue handed out is this struct */
    ht_gw *gw;
} venue_fix;

/* A gateway send's result as the venue's: 0 when it went out, else -1 with the reason. */
static int to_venue_result(int rc, const ht_gw_send_result *res, ht_venue_send_result *result)
{
    result->order_id = res->clordid;
    result->ready_tsc = res->ready_tsc;
    result->written_tsc = res->sent_tsc;
    /* A session that failed while writing may have sent the order: its ClOrdID is then taken, and the answer (or
     * the order timeout) says what became of it. */
    result->in_flight = rc == HT_GW_SENT || (rc == HT_GW_ERR_IO && res->clordid);
    result->rate_limited = rc == HT_GW_ERR_RATE;
    if (rc == HT_GW_SENT) {
        result->reason[0] = '\0';
        return 0;
    }
    snprintf(result->reason, sizeof result->reason, "%s", res->reason);
    return -1;
}

static int fix_send(void *ctx, const ht_venue_order *order, ht_venue_send_result *result)
{
    venue_fix *f = ctx;
    /* The wire speaks contracts (OrderQty with QtyType 854 = 1, docs/units.md). */
    ht_gw_order go = {order->instrument, order->side > 0 ? HT_GW_BUY : HT_GW_SELL, order->contracts,
                      order->limit_px, order->trigger_channel, order->trigger_seq};
    ht_gw_send_result res;
    return to_venue_result(ht_gw_send_order(f->gw, &go, &res), &res, result);
}

_Static_assert(sizeof(ht_gw_armed) <= HT_VENUE_ARMED_BYTES, "an armed gateway order must fit ht_venue_armed.impl");
_Static_assert(_Alignof(ht_gw_armed) <= 8, "ht_venue_armed.impl is aligned to 8");

/* Arms an order in the gateway (ht_gw_arm_order): its state lives in out->impl. The engine's pre-armed hedges fire
 * it (docs/deployment.md "Pre-armed hedges"); test_prearm checks they send what the decision would. */
static int fix_arm(void *ctx, const ht_venue_order *order, ht_venue_armed *out)
{
    venue_fix *f = ctx;
    ht_gw_armed *ga = (ht_gw_armed *)(void *)out->impl;
    out->armed = false;
    out->reason[0] = '\0';
    ht_gw_order go = {order->instrument, order->side > 0 ? HT_GW_BUY : HT_GW_SELL, order->contracts,
                      order->limit_px, 0, 0};
    ht_gw_send_result res;
    if (ht_gw_arm_order(f->gw, &go, ga, &res) != HT_GW_SENT) {
        snprintf(out->reason, sizeof out->reason, "%s", res.reason);
        return -1;
    }
    out->order = *order;
    snprintf(out->name, sizeof out->name, "%s", ga->symbol);
    out->order.instrument = out->name;
    out->armed = true;
    return 0;
}

/* Fires an armed order (ht_gw_fire_armed). An order the engine marked unarmed is not fired. */
static int fix_fire(void *ctx, ht_venue_armed *armed, double contracts, uint16_t trigger_channel,
                    uint64_t trigger_seq, ht_venue_send_result *result)
{
    venue_fix *f = ctx;
    ht_gw_armed *ga = (ht_gw_armed *)(void *)armed->impl;
    if (!armed->armed)
        ga->armed = false;
    ht_gw_send_result res;
    int rc = ht_gw_fire_armed(f->gw, ga, contracts, trigger_channel, trigger_seq, &res);
    armed->armed = ga->armed;
    return to_venue_result(rc, &res, result);
}

static int fix_cancel(void *ctx, uint64_t order_id, ht_error *err)
{
    venue_fix *f = ctx;
    return ht_gw_cancel(f->gw, order_id, err);
}

/* A fill the gateway does not know as one of its orders (an execution report of another session of the account):
 * a trade of another session. */
static void foreign_fill(const ht_gw_event *ev, ht_venue_event *out)
{
    out->type = HT_VENUE_EV_TRADE;
    snprintf(out->instrument, sizeof out->instrument, "%s", ev->symbol);
    out->trade_contracts = ev->side == HT_GW_SELL ? -ev->last_qty : ev->last_qty;
    out->px = ev->last_px;
    out->source = HT_VENUE_SRC_OTHER;
    snprintf(out->trade_id, sizeof out->trade_id, "%s", ev->exec_id);
}

/* The account events (gw_account.c) as venue events. */
static void account_event(const ht_gw_event *ev, ht_venue_event *out)
{
    snprintf(out->instrument, sizeof out->instrument, "%s", ev->symbol);
    switch (ev->type) {
    case HT_GW_EV_POSITION:
        out->type = HT_VENUE_EV_POSITION;
        out->position_contracts = ev->position;
        out->px = ev->mark_px;
        out->snapshot = ev->snapshot;
        out->snapshot_end = ev->snapshot_end;
        break;
    case HT_GW_EV_TRADE:
        foreign_fill(ev, out);
        out->source = ev->trade_source == 1 ? HT_VENUE_SRC_LIQUIDATION
                      : ev->trade_source == 2 ? HT_VENUE_SRC_SETTLEMENT
                                              : HT_VENUE_SRC_OTHER;
        break;
    case HT_GW_EV_ACCOUNT:
        out->type = HT_VENUE_EV_ACCOUNT;
        snprintf(out->account.currency, sizeof out->account.currency, "%s", ev->currency);
        out->account.equity = ev->equity;
        out->account.balance = ev->balance;
        out->account.initial_margin = ev->initial_margin;
        out->account.maintenance_margin = ev->maintenance_margin;
        out->account.wall_ms = ht_wall_ns() / 1000000u;
        break;
    default: /* HT_GW_EV_ACCOUNT_REFUSED: the text says which request and why; the session goes on */
        out->type = HT_VENUE_EV_OTHER;
        break;
    }
}

/* One gateway event as a venue event: an ExecutionReport's ExecType (150) and OrdStatus (39) say whether it
 * carries a fill ('F' trade, and the older '1'/'2' partial and full fill), a reject ('8') and the order's end
 * (OrdStatus filled, cancelled, rejected, expired, or ExecType cancelled, rejected, expired). */
static void to_venue_event(const ht_gw_event *ev, ht_venue_event *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "%s", ev->text);
    bool fill = (ev->exec_type == 'F' || ev->exec_type == '1' || ev->exec_type == '2') && ev->last_qty > 0;
    switch (ev->type) {
    case HT_GW_EV_EXEC: {
        if (ev->clordid_num == 0 && fill) {
            foreign_fill(ev, out);
            break;
        }
        out->type = HT_VENUE_EV_ORDER;
        out->order_id = ev->clordid_num;
        snprintf(out->instrument, sizeof out->instrument, "%s", ev->symbol);
        if (fill) {
            out->fill_contracts = ev->last_qty;
            out->fill_px = ev->last_px;
        }
        out->rejected = ev->exec_type == '8';
        bool final = ev->ord_status == '2' || ev->ord_status == '4' || ev->ord_status == '8' ||
                     ev->ord_status == 'C' || ev->exec_type == '4' || ev->exec_type == '8' || ev->exec_type == 'C';
        if (final)
            out->end = ev->ord_status == '2' ? HT_VENUE_ORDER_FILLED
                       : ev->exec_type == '8' ? HT_VENUE_ORDER_REJECTED
                                              : HT_VENUE_ORDER_CANCELLED;
        break;
    }
    case HT_GW_EV_ORDER_VOID:
        out->type = HT_VENUE_EV_ORDER_VOID;
        out->order_id = ev->clordid_num;
        break;
    case HT_GW_EV_KILL:
        out->type = HT_VENUE_EV_KILL;
        break;
    case HT_GW_EV_DISCONNECTED:
    case HT_GW_EV_LOGOUT:
        out->type = HT_VENUE_EV_DOWN;
        break;
    case HT_GW_EV_GIVE_UP:
        out->type = HT_VENUE_EV_GIVE_UP;
        break;
    case HT_GW_EV_LOGON:
        out->type = HT_VENUE_EV_LOGON;
        break;
    case HT_GW_EV_POSITION:
    case HT_GW_EV_TRADE:
    case HT_GW_EV_ACCOUNT:
    case HT_GW_EV_ACCOUNT_REFUSED:
        account_event(ev, out);
        break;
    default:
        out->type = HT_VENUE_EV_OTHER; /* rejects of session messages, bad messages: in the session log */
        break;
    }
}

static int fix_poll(void *ctx, ht_venue_event *events, int max)
{
    venue_fix *f = ctx;
    ht_gw_event evs[16];
    int n = ht_gw_poll(f->gw, evs, max < 16 ? max : 16);
    for (int i = 0; i < n; i++)
        to_venue_event(&evs[i], &events[i]);
    return n;
}

static void fix_wait(void *ctx, int timeout_ms)
{
    venue_fix *f = ctx;
    ht_gw_wait(f->gw, timeout_ms);
}

/* The gateway's position: the journal's and this session's fills, not the venue's own account. The venue's
 * positions (Deribit's RequestForPositions, AN/AP) come as HT_VENUE_EV_POSITION events. */
static double fix_position(void *ctx, const char *instrument)
{
    venue_fix *f = ctx;
    return ht_gw_position(f->gw, instrument);
}

static ht_venue_state fix_state(void *ctx)
{
    venue_fix *f = ctx;
    switch (ht_gw_get_state(f->gw)) {
    case HT_GW_ACTIVE:
        return HT_VENUE_ACTIVE;
    case HT_GW_LOGOUT_SENT:
        return HT_VENUE_CLOSING;
    case HT_GW_STOPPED:
        return HT_VENUE_STOPPED;
    default:
        return HT_VENUE_CONNECTING;
    }
}

static const char *fix_state_name(void *ctx)
{
    venue_fix *f = ctx;
    return ht_gw_state_name(ht_gw_get_state(f->gw));
}

static const char *fix_last_problem(void *ctx)
{
    venue_fix *f = ctx;
    return ht_gw_last_problem(f->gw);
}

static void fix_logout(void *ctx, const char *text)
{
    venue_fix *f = ctx;
    ht_gw_logout(f->gw, text);
}

static void fix_kill(void *ctx, const char *text)
{
    venue_fix *f = ctx;
    ht_gw_kill(f->gw, text);
}

static int fix_set_contract(void *ctx, const char *instrument, const ht_contract *contract, ht_error *err)
{
    venue_fix *f = ctx;
    return ht_gw_set_contract(f->gw, instrument, contract, err);
}

static void fix_set_mark(void *ctx, const char *instrument, double mark)
{
    venue_fix *f = ctx;
    ht_gw_set_mark(f->gw, instrument, mark); /* a full symbol table only loses the collar of that instrument */
}

static void fix_set_clock(void *ctx, uint64_t now_ns)
{
    venue_fix *f = ctx;
    ht_gw_set_risk_clock(f->gw, now_ns);
}

static void fix_limits(void *ctx, ht_venue_limits *out)
{
    venue_fix *f = ctx;
    ht_gw_get_limits(f->gw, out);
}

static void fix_destroy(void *ctx)
{
    venue_fix *f = ctx;
    ht_gw_destroy(f->gw);
    free(f);
}

static const ht_venue_ops fix_ops = {
    .send = fix_send,
    .cancel = fix_cancel,
    .poll = fix_poll,
    .wait = fix_wait,
    .position = fix_position,
    .state = fix_state,
    .state_name = fix_state_name,
    .last_problem = fix_last_problem,
    .logout = fix_logout,
    .set_contract = fix_set_contract,
    .set_mark = fix_set_mark,
    .set_clock = fix_set_clock,
    .limits = fix_limits,
    .arm = fix_arm,
    .fire = fix_fire,
    .set_book = NULL,
    .kill = fix_kill,
    .destroy = fix_destroy,
};

ht_venue *ht_venue_fix_create(const ht_gw_config *cfg, ht_error *err)
{
    venue_fix *f = calloc(1, sizeof *f);
    if (!f) {
        ht_error_set(err, "venue: out of memory");
        return NULL;
    }
    f->gw = ht_gw_create(cfg, err);
    if (!f->gw) {
        free(f);
        return NULL;
    }
    f->venue.ops = &fix_ops;
    f->venue.ctx = f;
    snprintf(f->venue.address, sizeof f->venue.address, "%s:%u", cfg->host, cfg->port);
    snprintf(f->venue.session_log, sizeof f->venue.session_log, "%s", cfg->log_path[0] ? cfg->log_path : "stderr");
    f->venue.logon_timeout_ms = cfg->connect_timeout_ms;
    return &f->venue;
}

ht_gw *ht_venue_fix_gateway(const ht_venue *venue)
{
    return venue && venue->ops == &fix_ops ? ((const venue_fix *)venue->ctx)->gw : NULL;
}

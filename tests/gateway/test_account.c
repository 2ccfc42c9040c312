/* SPDX-License-Identifier: MIT */
/* The gateway's account side through the venue interface (venue_fix.c), against a venue scripted in this test
 * (its messages encoded with hedgetrig/fix_account.h, its reads parsed here): the subscriptions sent at every logon,
 * a snapshot reported as position events ending with snapshot_end, updates, trades of other sessions with their
 * source, the account's figures, refusals that leave the session up, a reconnect that subscribes again, and the rate
 * mirror: orders refused as rate_limited at exactly burst - reserve, account requests held until the pool refills. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix_account.h"
#include "hedgetrig/tsc.h"
#include "hedgetrig/venue_fix.h"
#include "gateway/gw_test_send.h"

#define MAX_EVENTS 512

/* The scripted venue: one listening socket, one connection at a time. */
typedef struct venue {
    int listen_fd, fd;
    uint64_t seq;        /* its outbound MsgSeqNum */
    char rx[65536];
    size_t rx_len;
    /* what the gateway sent since the last connect */
    int logons, an, ad, be, rejects, orders;
    uint64_t an_seq, ad_seq, be_seq, an_ns, ad_ns, be_ns;
    char pos_req_id[HT_FIX_ACCT_ID_BYTES], trade_req_id[HT_FIX_ACCT_ID_BYTES], user_req_id[HT_FIX_ACCT_ID_BYTES];
    char order_clordid[64][40];
    /* what the gateway reported through the venue interface */
    ht_venue *hv;
    ht_venue_event ev[MAX_EVENTS];
    int n_ev;
    int poll_max; /* events asked for per poll */
} venue;

static venue g_v;
static int64_t g_total = -1; /* TotalNumPosReports of the reports send_positions writes (-1: none) */
static char g_out[65536];

static uint16_t venue_listen(venue *v)
{
    v->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(v->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(v->listen_fd, (struct sockaddr *)&a, &al);
    listen(v->listen_fd, 1);
    v->fd = -1;
    v->seq = 1;
    return ntohs(a.sin_port);
}

/* Begins a message from the venue. */
static void vbegin(venue *v, ht_fix_writer *w, const char *type)
{
    ht_fix_begin_session_msg(w, g_out, sizeof g_out, type, "DERIBITSERVER", "HEDGETRIG", v->seq++, ht_wall_ns());
}

static void vsend(venue *v, ht_fix_writer *w)
{
    size_t len;
    const char *m = ht_fix_writer_finish(w, &len);
    assert_non_null(m);
    ssize_t put = send(v->fd, m, len, MSG_NOSIGNAL);
    if (put != (ssize_t)len)
        fail_msg("the venue could not send %.40s: %s", m, strerror(errno));
}

/* Takes note of one message from the gateway; answers its Logon. */
static void on_gateway_msg(venue *v, const ht_fix_msg *m)
{
    uint64_t seq = 0;
    ht_error err;
    ht_fix_get_u64(m, HT_TAG_MSG_SEQ_NUM, &seq);
    if (!strcmp(m->msg_type, "A")) {
        v->logons++;
        ht_fix_writer w;
        vbegin(v, &w, "A");
        ht_fix_put_u64(&w, HT_TAG_ENCRYPT_METHOD, 0);
        ht_fix_put_u64(&w, HT_TAG_HEART_BT_INT, 30);
        vsend(v, &w);
    } else if (!strcmp(m->msg_type, "AN")) {
        ht_fix_pos_request r;
        assert_int_equal(ht_fix_parse_pos_request(m, &r, &err), 0);
        assert_int_equal(r.subscription, HT_FIX_SUB_SUBSCRIBE);
        memcpy(v->pos_req_id, r.pos_req_id, sizeof v->pos_req_id);
        v->an++, v->an_seq = seq, v->an_ns = ht_mono_ns();
    } else if (!strcmp(m->msg_type, "AD")) {
        ht_fix_trade_request r;
        assert_int_equal(ht_fix_parse_trade_request(m, &r, &err), 0);
        assert_int_equal(r.subscription, HT_FIX_SUB_SUBSCRIBE);
        memcpy(v->trade_req_id, r.trade_request_id, sizeof v->trade_req_id);
        v->ad++, v->ad_seq = seq, v->ad_ns = ht_mono_ns();
    } else if (!strcmp(m->msg_type, "BE")) {
        ht_fix_user_request r;
        assert_int_equal(ht_fix_parse_user_request(m, &r, &err), 0);
        assert_string_equal(r.currency, "BTC");
        memcpy(v->user_req_id, r.user_request_id, sizeof v->user_req_id);
        v->be++, v->be_seq = seq, v->be_ns = ht_mono_ns();
    } else if (!strcmp(m->msg_type, "3")) {
        v->rejects++;
    } else if (!strcmp(m->msg_type, "D")) {
        if (v->orders < 64)
            ht_fix_get_str(m, HT_TAG_CL_ORD_ID, v->order_clordid[v->orders], sizeof v->order_clordid[0]);
        v->orders++;
    }
}

/* Accepts a connection when none is up, reads what the gateway sent, polls the gateway, for ms milliseconds. */
static void pump(venue *v, int ms)
{
    uint64_t end = ht_mono_ns() + (uint64_t)ms * 1000000u;
    do {
        if (v->fd < 0 && v->listen_fd >= 0) {
            struct timeval tv = {0, 1000};
            setsockopt(v->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            v->fd = accept(v->listen_fd, NULL, NULL);
            if (v->fd >= 0)
                v->rx_len = 0, v->an = v->ad = v->be = v->logons = 0;
        }
        ssize_t got;
        while (v->fd >= 0 && (got = recv(v->fd, v->rx + v->rx_len, sizeof v->rx - v->rx_len, MSG_DONTWAIT)) > 0)
            v->rx_len += (size_t)got;
        size_t off = 0;
        static ht_fix_msg m;
        size_t used;
        ht_error err;
        while (ht_fix_parse(v->rx + off, v->rx_len - off, 0, &m, &used, &err) == HT_FIX_PARSE_OK) {
            on_gateway_msg(v, &m);
            off += used;
        }
        memmove(v->rx, v->rx + off, v->rx_len - off);
        v->rx_len -= off;
        int room = MAX_EVENTS - v->n_ev;
        int n = v->hv->ops->poll(v->hv->ctx, v->ev + v->n_ev, room < v->poll_max ? room : v->poll_max);
        v->n_ev += n;
        v->hv->ops->wait(v->hv->ctx, 1);
    } while (ht_mono_ns() < end);
}

/* Pumps until cond holds (at most 3 s). */
#define PUMP_UNTIL(v, cond)                                                                   \
    do {                                                                                      \
        for (int _i = 0; _i < 300 && !(cond); _i++)                                           \
            pump(v, 10);                                                                      \
        assert_true(cond);                                                                    \
    } while (0)

static int count(const venue *v, ht_venue_event_type t)
{
    int c = 0;
    for (int i = 0; i < v->n_ev; i++)
        c += v->ev[i].type == t;
    return c;
}

/* The last event of a type, or NULL. */
static const ht_venue_event *last(const venue *v, ht_venue_event_type t)
{
    for (int i = v->n_ev - 1; i >= 0; i--)
        if (v->ev[i].type == t)
            return &v->ev[i];
    return NULL;
}

static void start(venue *v, ht_gw_config *c, const char *name)
{
    memset(v, 0, sizeof *v);
    v->poll_max = 3; /* fewer than a report's entries: the rest must wait for the next poll, in order */
    uint16_t port = venue_listen(v);
    ht_gw_config_default(c);
    test_send_apply(c);
    c->port = port;
    snprintf(c->journal_path, sizeof c->journal_path, HT_TEST_TMPDIR "/%s.journal", name);
    snprintf(c->log_path, sizeof c->log_path, HT_TEST_TMPDIR "/%s.log", name);
    unlink(c->journal_path);
    unlink(c->log_path);
    c->reconnect_min_ms = 20;
    c->reconnect_max_ms = 50;
    c->risk.max_orders_per_sec = 0;
    c->risk.collar_bps = 0;
    c->risk.max_notional = 0;
}

static void create(venue *v, const ht_gw_config *c)
{
    ht_error err;
    v->hv = ht_venue_fix_create(c, &err);
    if (!v->hv)
        fail_msg("%s", err.msg);
}

static void finish(venue *v)
{
    ht_venue_destroy(v->hv);
    if (v->fd >= 0)
        close(v->fd);
    if (v->listen_fd >= 0)
        close(v->listen_fd);
}

/* A snapshot of n positions answering the AN (pos_req_id), or an update (pos_req_id NULL). */
static void send_positions(venue *v, const char *pos_req_id, unsigned n, double first)
{
    static ht_fix_position_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.pos_maint_rpt_id, sizeof r.pos_maint_rpt_id, "rpt%llu", (unsigned long long)v->seq);
    if (pos_req_id)
        snprintf(r.pos_req_id, sizeof r.pos_req_id, "%s", pos_req_id);
    r.total_num_pos_reports = g_total;
    r.n = n;
    for (unsigned i = 0; i < n; i++) {
        double q = first + i;
        r.pos[i] = (ht_fix_position){"", q > 0 ? q : 0, q < 0 ? -q : 0, 100 + i, NAN, NAN, 0};
        snprintf(r.pos[i].symbol, sizeof r.pos[i].symbol, "BTC-27DEC26-%u-C", 50000 + 1000 * i);
    }
    ht_fix_writer w;
    ht_error err;
    vbegin(v, &w, "AP");
    assert_int_equal(ht_fix_put_position_report(&w, &r, &err), 0);
    vsend(v, &w);
}

static void send_trade(venue *v, const char *id, char side, double qty, int trd_type)
{
    ht_fix_trade_report r = {"", "", "", false, "BTC-PERPETUAL", qty, 97000.5, side, trd_type, ""};
    snprintf(r.trade_id, sizeof r.trade_id, "%s", id);
    ht_fix_writer w;
    ht_error err;
    vbegin(v, &w, "AE");
    assert_int_equal(ht_fix_put_trade_report(&w, &r, &err), 0);
    vsend(v, &w);
}

/* The snapshot: n position events, in order, snapshot set on all, snapshot_end on the last only. */
static void check_snapshot(const venue *v, int from, unsigned n, double first)
{
    int k = 0;
    for (int i = from; i < v->n_ev; i++) {
        const ht_venue_event *e = &v->ev[i];
        if (e->type != HT_VENUE_EV_POSITION)
            continue;
        char want[64];
        snprintf(want, sizeof want, "BTC-27DEC26-%u-C", 50000 + 1000 * k);
        assert_string_equal(e->instrument, want);
        assert_true(e->position_contracts == first + k);
        assert_true(e->px == 100 + k);
        assert_true(e->snapshot);
        assert_int_equal(e->snapshot_end, k == (int)n - 1);
        k++;
    }
    assert_int_equal(k, (int)n);
}

static void account_messages_become_venue_events(void **state)
{
    (void)state;
    venue *v = &g_v;
    ht_gw_config c;
    start(v, &c, "account");
    c.account_interval_ms = 200;
    create(v, &c);
    PUMP_UNTIL(v, v->an == 1 && v->ad == 1 && v->be == 1);
    /* The snapshot: 10 entries, -3 .. 6 contracts, through polls of 3 events. */
    int from = v->n_ev;
    send_positions(v, v->pos_req_id, 10, -3);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_POSITION) == 10);
    check_snapshot(v, from, 10, -3);
    /* An update: not a snapshot. */
    send_positions(v, NULL, 1, 7);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_POSITION) == 11);
    const ht_venue_event *p = last(v, HT_VENUE_EV_POSITION);
    assert_true(!p->snapshot && !p->snapshot_end && p->position_contracts == 7);
    /* The account's figures. */
    ht_fix_user_response u = {"", "HEDGETRIG", 1, "", "BTC", 2.5, 2.25, 0.5, 0.25};
    memcpy(u.user_request_id, v->user_req_id, sizeof u.user_request_id);
    ht_fix_writer w;
    ht_error err;
    vbegin(v, &w, "BF");
    assert_int_equal(ht_fix_put_user_response(&w, &u, &err), 0);
    vsend(v, &w);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_ACCOUNT) == 1);
    const ht_venue_event *a = last(v, HT_VENUE_EV_ACCOUNT);
    assert_string_equal(a->account.currency, "BTC");
    assert_true(a->account.equity == 2.5 && a->account.balance == 2.25 && a->account.initial_margin == 0.5 &&
                a->account.maintenance_margin == 0.25);
    /* Trades of other sessions: a liquidation sell, the same report again (dropped), a settlement, a block. */
    send_trade(v, "T-1", '2', 4, HT_FIX_TRD_LIQUIDATION);
    send_trade(v, "T-1", '2', 4, HT_FIX_TRD_LIQUIDATION);
    send_trade(v, "T-2", '1', 1.5, HT_FIX_TRD_SETTLEMENT);
    send_trade(v, "T-3", '1', 2, HT_FIX_TRD_BLOCK);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_TRADE) == 3);
    pump(v, 50);
    assert_int_equal(count(v, HT_VENUE_EV_TRADE), 3);
    int k = 0;
    for (int i = 0; i < v->n_ev; i++) {
        const ht_venue_event *e = &v->ev[i];
        if (e->type != HT_VENUE_EV_TRADE)
            continue;
        static const double qty[] = {-4, 1.5, 2};
        static const ht_venue_trade_source src[] = {HT_VENUE_SRC_LIQUIDATION, HT_VENUE_SRC_SETTLEMENT,
                                                    HT_VENUE_SRC_OTHER};
        assert_string_equal(e->instrument, "BTC-PERPETUAL");
        assert_true(e->trade_contracts == qty[k] && e->px == 97000.5);
        assert_int_equal(e->source, src[k]);
        k++;
    }
    /* An execution report of an order that is not ours: a trade of another session. */
    static const char er[] = "37=X9\00117=E9\00111=screen-7\001150=F\00139=2\00155=BTC-PERPETUAL\00154=1\00138=2\00132=2\001"
                             "31=96000\00114=2\001151=0\001";
    vbegin(v, &w, "8");
    for (const char *f = er; *f;) {
        const char *eq = strchr(f, '='), *soh = strchr(f, '\001');
        ht_fix_put_bytes(&w, (uint32_t)strtoul(f, NULL, 10), eq + 1, (size_t)(soh - eq - 1));
        f = soh + 1;
    }
    vsend(v, &w);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_TRADE) == 4);
    const ht_venue_event *t = last(v, HT_VENUE_EV_TRADE);
    assert_true(t->trade_contracts == 2 && t->px == 96000 && t->source == HT_VENUE_SRC_OTHER);
    assert_string_equal(t->trade_id, "E9");
    /* A malformed report is rejected naming the tag; the session stays up. */
    vbegin(v, &w, "AP");
    ht_fix_put_str(&w, HT_TAG_POS_MAINT_RPT_ID, "bad");
    ht_fix_put_u64(&w, HT_TAG_NO_POSITIONS, 1);
    ht_fix_put_str(&w, HT_TAG_POS_TYPE, "TQ");
    ht_fix_put_str(&w, HT_TAG_LONG_QTY, "-1");
    ht_fix_put_str(&w, HT_TAG_SYMBOL, "BTC-PERPETUAL");
    vsend(v, &w);
    PUMP_UNTIL(v, v->rejects == 1);
    assert_int_equal(count(v, HT_VENUE_EV_POSITION), 11);
    assert_int_equal(v->hv->ops->state(v->hv->ctx), HT_VENUE_ACTIVE);
    /* The timer asks for the account again. */
    PUMP_UNTIL(v, v->be >= 2);
    /* After a reconnect: subscribed again, a new snapshot. */
    close(v->fd);
    v->fd = -1;
    v->logons = v->an = v->ad = 0;
    PUMP_UNTIL(v, v->logons == 1 && v->an == 1 && v->ad == 1);
    from = v->n_ev;
    send_positions(v, v->pos_req_id, 2, 5);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_POSITION) == 13);
    check_snapshot(v, from, 2, 5);
    finish(v);
}

/* An empty account: one position event, instrument "", snapshot_end. */
static void an_empty_account_is_an_empty_snapshot(void **state)
{
    (void)state;
    venue *v = &g_v;
    ht_gw_config c;
    start(v, &c, "empty");
    create(v, &c);
    PUMP_UNTIL(v, v->an == 1);
    send_positions(v, v->pos_req_id, 0, 0);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_POSITION) == 1);
    const ht_venue_event *p = last(v, HT_VENUE_EV_POSITION);
    assert_true(p->snapshot && p->snapshot_end && p->instrument[0] == '\0' && p->position_contracts == 0);
    finish(v);
}

/* A snapshot in two reports (TotalNumPosReports 2): snapshot_end on the last entry of the second only. */
static void a_snapshot_in_two_reports_ends_with_the_second(void **state)
{
    (void)state;
    venue *v = &g_v;
    ht_gw_config c;
    start(v, &c, "split");
    create(v, &c);
    PUMP_UNTIL(v, v->an == 1);
    g_total = 2;
    send_positions(v, v->pos_req_id, 4, 1);
    pump(v, 50);
    assert_int_equal(count(v, HT_VENUE_EV_POSITION), 4);
    for (int i = 0; i < v->n_ev; i++)
        assert_false(v->ev[i].snapshot_end);
    send_positions(v, v->pos_req_id, 2, 5);
    g_total = -1;
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_POSITION) == 6);
    int ends = 0;
    for (int i = 0; i < v->n_ev; i++)
        if (v->ev[i].type == HT_VENUE_EV_POSITION) {
            assert_true(v->ev[i].snapshot);
            ends += v->ev[i].snapshot_end;
        }
    assert_int_equal(ends, 1);
    assert_true(last(v, HT_VENUE_EV_POSITION)->snapshot_end);
    /* What follows is an update. */
    send_positions(v, v->pos_req_id, 1, 9);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_POSITION) == 7);
    assert_false(last(v, HT_VENUE_EV_POSITION)->snapshot);
    finish(v);
}

static bool log_has(const char *path, const char *needle)
{
    char buf[65536];
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* A venue that refuses the requests (a BusinessMessageReject of the AN, an AQ refusing the AD, a Reject of the BE):
 * a log line and an event each, and the session goes on. */
static void refusals_leave_the_session_up(void **state)
{
    (void)state;
    venue *v = &g_v;
    ht_gw_config c;
    start(v, &c, "refused");
    create(v, &c);
    PUMP_UNTIL(v, v->an == 1 && v->ad == 1 && v->be == 1);
    ht_fix_writer w;
    ht_error err;
    vbegin(v, &w, "j");
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, v->an_seq);
    ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, "AN");
    ht_fix_put_u64(&w, HT_TAG_BUSINESS_REJECT_REASON, 3);
    ht_fix_put_str(&w, HT_TAG_TEXT, "unsupported message type");
    vsend(v, &w);
    ht_fix_trade_request_ack ack = {"", 2, 2, "invalid type of trade requested"};
    memcpy(ack.trade_request_id, v->trade_req_id, sizeof ack.trade_request_id);
    vbegin(v, &w, "AQ");
    assert_int_equal(ht_fix_put_trade_request_ack(&w, &ack, &err), 0);
    vsend(v, &w);
    vbegin(v, &w, "3");
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, v->be_seq);
    ht_fix_put_u64(&w, HT_TAG_SESSION_REJECT_REASON, 11);
    ht_fix_put_str(&w, HT_TAG_TEXT, "invalid MsgType");
    vsend(v, &w);
    int refused = 0;
    for (int round = 0; round < 300 && refused < 3; round++) {
        pump(v, 10);
        refused = 0;
        for (int i = 0; i < v->n_ev; i++)
            refused += v->ev[i].type == HT_VENUE_EV_OTHER && strstr(v->ev[i].text, "refused") != NULL;
    }
    assert_int_equal(refused, 3);
    assert_int_equal(count(v, HT_VENUE_EV_POSITION), 0); /* no snapshot claimed */
    assert_int_equal(v->hv->ops->state(v->hv->ctx), HT_VENUE_ACTIVE);
    assert_true(log_has(c.log_path, "ACCOUNT REQUEST REFUSED: the venue refused RequestForPositions (AN): unsupported"));
    assert_true(log_has(c.log_path, "TradeCaptureReportRequest (AD): TradeRequestResult 2"));
    assert_true(log_has(c.log_path, "UserRequest (BE): invalid MsgType"));
    /* An order still goes. */
    ht_venue_order o = {"BTC-PERPETUAL", 1, 10, 97000, 0, 0};
    ht_venue_send_result r;
    assert_int_equal(v->hv->ops->send(v->hv->ctx, &o, &r), 0);
    PUMP_UNTIL(v, v->orders == 1);
    finish(v);
}

/* Orders: exactly burst - reserve go at once, the next is refused as rate_limited and fits again after the wait the
 * limits say; account requests wait for credits and are never sent over budget. */
static void rate_mirror_refuses_orders_and_holds_requests(void **state)
{
    (void)state;
    venue *v = &g_v;
    ht_gw_config c;
    start(v, &c, "rate");
    ht_error err;
    assert_int_equal(ht_rate_config_tier(&c.rate, "tier4", &err), 0); /* 5 a second, burst 20 */
    c.rate.reserve = 1;
    c.rate.credit_cost = 500;
    c.rate.credit_max = 1500;        /* three requests */
    c.rate.credit_refill_per_s = 500; /* one a second */
    c.heartbeat_s = 60;
    create(v, &c);
    /* The Logon takes 500, the AN 500 (the reserve of 500 kept): AD and BE must wait a second each. */
    PUMP_UNTIL(v, v->an == 1);
    pump(v, 100);
    assert_int_equal(v->ad + v->be, 0);
    ht_venue_limits l;
    v->hv->ops->limits(v->hv->ctx, &l);
    assert_true(l.known);
    assert_int_equal(l.held, 2);
    assert_true(l.credits_max == 1500 && l.credits_available < 500);
    PUMP_UNTIL(v, v->ad == 1);
    PUMP_UNTIL(v, v->be == 1);
    assert_true(v->ad_ns - v->an_ns > 800000000u); /* a second's refill, less the time the logon took */
    assert_true(v->be_ns - v->ad_ns > 900000000u);
    /* Orders: 19 go (burst 20, reserve 1), the 20th is refused as rate limited. */
    ht_venue_order o = {"BTC-PERPETUAL", 1, 10, 97000, 0, 0};
    ht_venue_send_result r;
    int sent = 0;
    while (v->hv->ops->send(v->hv->ctx, &o, &r) == 0)
        sent++;
    assert_int_equal(sent, 19);
    assert_true(r.rate_limited && !r.in_flight);
    assert_non_null(strstr(r.reason, "rate limit"));
    v->hv->ops->limits(v->hv->ctx, &l);
    assert_true(l.orders_available < 1 && l.orders_burst == 20);
    assert_true(l.next_order_ns > 0 && l.next_order_ns <= 200000000u);
    assert_int_equal(l.held, 3);
    assert_int_equal(l.me_changes, 19);
    usleep((useconds_t)(l.next_order_ns / 1000 + 1000));
    assert_int_equal(v->hv->ops->send(v->hv->ctx, &o, &r), 0);
    assert_int_equal(v->hv->ops->send(v->hv->ctx, &o, &r), -1);
    assert_true(r.rate_limited);
    PUMP_UNTIL(v, v->orders == 20);
    /* One order ends cancelled unfilled (an IOC that found nothing): it counts twice; another fills 10. */
    ht_fix_writer w;
    char fields[256];
    for (int k = 0; k < 2; k++) {
        vbegin(v, &w, "8");
        ht_fix_put_str(&w, HT_TAG_ORDER_ID, k ? "O2" : "O1");
        ht_fix_put_str(&w, HT_TAG_EXEC_ID, k ? "E2" : "E1");
        ht_fix_put_str(&w, HT_TAG_CL_ORD_ID, v->order_clordid[k]);
        ht_fix_put_char(&w, HT_TAG_EXEC_TYPE, k ? 'F' : '4');
        ht_fix_put_char(&w, HT_TAG_ORD_STATUS, k ? '2' : '4');
        ht_fix_put_str(&w, HT_TAG_SYMBOL, "BTC-PERPETUAL");
        ht_fix_put_char(&w, HT_TAG_SIDE, '1');
        ht_fix_put_str(&w, HT_TAG_ORDER_QTY, "10");
        snprintf(fields, sizeof fields, "%d", k ? 10 : 0);
        ht_fix_put_str(&w, HT_TAG_LAST_QTY, fields);
        ht_fix_put_str(&w, HT_TAG_LAST_PX, "97000");
        ht_fix_put_str(&w, HT_TAG_CUM_QTY, fields);
        ht_fix_put_str(&w, HT_TAG_LEAVES_QTY, "0");
        vsend(v, &w);
    }
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_ORDER) == 2);
    v->hv->ops->limits(v->hv->ctx, &l);
    assert_int_equal(l.me_changes, 21);
    assert_true(l.volume_contracts == 10);
    finish(v);
}

/* The signed position of the last POSITION event for symbol, NAN when none. */
static double last_position(const venue *v, const char *symbol)
{
    for (int i = v->n_ev - 1; i >= 0; i--)
        if (v->ev[i].type == HT_VENUE_EV_POSITION && !strcmp(v->ev[i].instrument, symbol))
            return v->ev[i].position_contracts;
    return NAN;
}

/* Against the exchange simulator, both on Deribit's tier 4 limits: the snapshot is the simulator's account, a
 * liquidation and another session's fill from its script arrive as trades with their source, orders sent as fast
 * as the mirror lets them never trip the simulator's limits (no 10028, the session never drops), and the last
 * position reported equals the simulator's. */
static void against_the_exchange_simulator(void **state)
{
    (void)state;
    venue *v = &g_v;
    ht_gw_config c;
    start(v, &c, "sim");
    close(v->listen_fd);
    v->listen_fd = -1;
    v->poll_max = 64;
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    xc.default_level_qty = 100000;
    ht_rate_config_default(&xc.rate); /* tier4, as the gateway's default */
    xc.rate.enforce = true;
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_set_position(x, "BTC-PERPETUAL", 100, &err), 0);
    assert_int_equal(ht_xsim_set_position(x, "BTC-27DEC26-100000-C", -5, &err), 0);
    static const char script[] = "0.3,liquidation,BTC-PERPETUAL,-10,50000\n0.5,fill,BTC-27DEC26-100000-C,2,0.05\n";
    ht_xsim_script *sc = ht_xsim_script_parse(script, sizeof script - 1, "script", &err);
    assert_non_null(sc);
    assert_int_equal(ht_xsim_set_script(x, sc, &err), 0);
    ht_xsim_script_destroy(sc);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    c.port = ht_xsim_port(x);
    c.account_interval_ms = 300;
    create(v, &c);
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_POSITION) >= 2);
    int ends = 0;
    for (int i = 0; i < v->n_ev; i++)
        ends += v->ev[i].type == HT_VENUE_EV_POSITION && v->ev[i].snapshot_end;
    assert_int_equal(ends, 1);
    assert_true(last_position(v, "BTC-PERPETUAL") == 100);
    assert_true(last_position(v, "BTC-27DEC26-100000-C") == -5);
    /* A fast market: an order whenever the mirror allows one, for 3 s. */
    int sent = 0, limited = 0;
    uint64_t end = ht_mono_ns() + 3000000000ull;
    while (ht_mono_ns() < end) {
        ht_venue_order o = {"BTC-PERPETUAL", sent % 2 ? -1 : 1, 1, sent % 2 ? 49000 : 51000, 0, 0};
        ht_venue_send_result r;
        if (v->hv->ops->send(v->hv->ctx, &o, &r) == 0)
            sent++;
        else if (r.rate_limited)
            limited++;
        else
            fail_msg("order refused: %s", r.reason);
        pump(v, 2);
    }
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_TRADE) >= 2);
    pump(v, 500);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.rate_violations, 0);
    assert_int_equal(count(v, HT_VENUE_EV_DOWN), 0);
    assert_int_equal(st.orders, (uint64_t)sent);
    assert_true(sent >= 19 + 10 && limited > 0); /* the burst, then about 5 a second */
    ht_venue_limits l;
    v->hv->ops->limits(v->hv->ctx, &l);
    assert_true(l.held > 0);
    assert_int_equal(l.me_changes, st.me_changes); /* the same order-to-volume count on both sides */
    bool liq = false, other = false;
    for (int i = 0; i < v->n_ev; i++) {
        const ht_venue_event *e = &v->ev[i];
        liq |= e->type == HT_VENUE_EV_TRADE && e->source == HT_VENUE_SRC_LIQUIDATION && e->trade_contracts == -10;
        other |= e->type == HT_VENUE_EV_TRADE && e->source == HT_VENUE_SRC_OTHER && e->trade_contracts == 2;
    }
    assert_true(liq && other);
    PUMP_UNTIL(v, last_position(v, "BTC-PERPETUAL") == ht_xsim_position(x, "BTC-PERPETUAL"));
    assert_true(count(v, HT_VENUE_EV_ACCOUNT) >= 1);
    assert_true(isfinite(last(v, HT_VENUE_EV_ACCOUNT)->account.equity));
    finish(v);
    ht_xsim_destroy(x);
}

/* The reference the test above relies on can fail: a gateway whose mirror has more room than the simulator's
 * limits (1e6 a second) sends its 30 orders at once, and the simulator refuses the 21st with 10028 and ends the
 * session. */
static void the_simulator_trips_a_client_without_the_mirror(void **state)
{
    (void)state;
    venue *v = &g_v;
    ht_gw_config c;
    start(v, &c, "trip");
    close(v->listen_fd);
    v->listen_fd = -1;
    v->poll_max = 64;
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    xc.default_level_qty = 100000;
    ht_rate_config_default(&xc.rate);
    xc.rate.enforce = true;
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    c.port = ht_xsim_port(x);
    c.rate.me_rate_per_s = c.rate.me_burst = 1e6;
    create(v, &c);
    PUMP_UNTIL(v, v->hv->ops->state(v->hv->ctx) == HT_VENUE_ACTIVE);
    for (int i = 0; i < 30; i++) {
        ht_venue_order o = {"BTC-PERPETUAL", 1, 1, 51000, 0, 0};
        ht_venue_send_result r;
        v->hv->ops->send(v->hv->ctx, &o, &r);
    }
    PUMP_UNTIL(v, count(v, HT_VENUE_EV_DOWN) >= 1);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_true(st.rate_violations >= 1);
    finish(v);
    ht_xsim_destroy(x);
}

int main(int argc, char **argv)
{
    test_send_from_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(account_messages_become_venue_events),
        cmocka_unit_test(an_empty_account_is_an_empty_snapshot),
        cmocka_unit_test(a_snapshot_in_two_reports_ends_with_the_second),
        cmocka_unit_test(refusals_leave_the_session_up),
        cmocka_unit_test(rate_mirror_refuses_orders_and_holds_requests),
        cmocka_unit_test(against_the_exchange_simulator),
        cmocka_unit_test(the_simulator_trips_a_client_without_the_mirror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

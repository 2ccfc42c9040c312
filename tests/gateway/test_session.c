/* SPDX-License-Identifier: MIT */
/* The gateway against the exchange simulator in-process: Deribit logon checked by the acceptor, orders, fills
 * and positions reconciled with the simulator's own counters, forced gaps in both directions, the kill switch
 * (file and signal), bad credentials, malformed inbound traffic, and secrets never reaching the log or journal. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/tsc.h"
#include "gateway/gw_test_send.h"

#define CLIENT_ID "hedgetrig-test-client"
#define SECRET "s3cr3t-Never-Log-Me-9f8e7d"

typedef struct fill_sum {
    double net;
    int calls;
} fill_sum;

/* Fill callback: sums signed fills. */
static void on_fill(void *user, const ht_gw_fill *f)
{
    fill_sum *s = user;
    s->net += f->side == HT_GW_BUY ? f->qty : -f->qty;
    s->calls++;
}

/* What a pump saw. */
typedef struct seen {
    int count[16];
    double fill_net;
    char last_text[16][256];
} seen;

/* Polls for up to ms milliseconds or until done(gw) holds. Returns true when done. */
static bool pump(ht_gw *gw, seen *s, int ms, bool (*done)(ht_gw *))
{
    uint64_t end = ht_mono_ns() + (uint64_t)ms * 1000000u;
    ht_gw_event ev[64];
    while (ht_mono_ns() < end) {
        int n = ht_gw_poll(gw, ev, 64);
        for (int i = 0; i < n; i++) {
            if (s) {
                s->count[ev[i].type]++;
                snprintf(s->last_text[ev[i].type], sizeof s->last_text[0], "%s", ev[i].text);
                if (ev[i].type == HT_GW_EV_EXEC && ev[i].exec_type == 'F')
                    s->fill_net += ev[i].side == HT_GW_BUY ? ev[i].last_qty : -ev[i].last_qty;
            }
        }
        if (done && done(gw))
            return true;
        ht_gw_wait(gw, 5);
    }
    return done ? done(gw) : true;
}

static bool is_active(ht_gw *gw) { return ht_gw_get_state(gw) == HT_GW_ACTIVE; }
static bool no_open_orders(ht_gw *gw) { return ht_gw_open_orders(gw) == 0; }
static bool is_stopped(ht_gw *gw) { return ht_gw_get_state(gw) == HT_GW_STOPPED; }

static ht_xsim *start_sim(const char *record, double max_fill)
{
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    snprintf(xc.client_id, sizeof xc.client_id, CLIENT_ID);
    snprintf(xc.client_secret, sizeof xc.client_secret, SECRET);
    xc.max_fill_qty = max_fill;
    xc.default_level_qty = 50;
    if (record)
        snprintf(xc.record_path, sizeof xc.record_path, "%s", record);
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    return x;
}

static void gw_config(ht_gw_config *c, uint16_t port, const char *name)
{
    ht_gw_config_default(c);
    test_send_apply(c);
    c->port = port;
    snprintf(c->journal_path, sizeof c->journal_path, HT_TEST_TMPDIR "/%s.journal", name);
    snprintf(c->log_path, sizeof c->log_path, HT_TEST_TMPDIR "/%s.log", name);
    unlink(c->journal_path);
    unlink(c->log_path);
    c->reconnect_min_ms = 20;
    c->reconnect_max_ms = 200;
    c->risk.max_orders_per_sec = 1000;
    /* These tests count the session's messages and sequence numbers and send orders in bursts: no account
     * requests, and a rate mirror with room (the account messages and the mirror have their own tests below). */
    c->positions = c->trade_capture = false;
    c->account_interval_ms = 0;
    c->rate.me_rate_per_s = c->rate.me_burst = 1e6;
    setenv("HT_DERIBIT_CLIENT_ID", CLIENT_ID, 1);
    setenv("HT_DERIBIT_CLIENT_SECRET", SECRET, 1);
    ht_error err;
    assert_int_equal(ht_gw_secrets_load(c, NULL, &err), 0);
    assert_string_equal(c->client_secret, SECRET);
}

/* True when the file contains needle anywhere (binary-safe). */
static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, needle, k) == 0)
            return true;
    return false;
}

/* Counts lines of a file. */
static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void orders_fill_and_positions_reconcile(void **state)
{
    (void)state;
    const char *record = HT_TEST_TMPDIR "/orders.csv";
    unlink(record);
    ht_xsim *x = start_sim(record, 3);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "orders");
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);
    fill_sum fs = {0};
    ht_gw_on_fill(gw, on_fill, &fs);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    assert_int_equal(s.count[HT_GW_EV_LOGON], 1);
    /* 20 orders: buys lift the ask (50000.5 + levels), sells hit the bid; some too far away to fill. */
    double expect_net = 0;
    for (int i = 0; i < 20; i++) {
        ht_gw_order o = {"BTC-PERPETUAL", i % 2 ? HT_GW_SELL : HT_GW_BUY, 1 + i % 7, i % 2 ? 49990 : 50010, 0, 0};
        if (i % 5 == 4)
            o.price = i % 2 ? 60000 : 40000; /* no match: IOC cancels */
        else
            expect_net += o.side == HT_GW_BUY ? o.qty : -o.qty;
        ht_gw_send_result r;
        assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
        assert_true(r.ready_tsc > 0 && r.sent_tsc >= r.ready_tsc);
        assert_int_equal(r.clordid, (uint64_t)i + 1);
    }
    assert_true(pump(gw, &s, 5000, no_open_orders));
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.orders, 20);
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == expect_net);
    assert_true(s.fill_net == expect_net);
    assert_true(fs.net == expect_net);
    assert_int_equal(fs.calls, (int)st.executions);
    assert_int_equal(count_lines(record), 20);
    ht_gw_logout(gw, "done");
    assert_true(pump(gw, &s, 3000, is_stopped));
    assert_true(test_send_used(gw));
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
    /* The secret never reaches the log, the journal or the simulator's record. */
    assert_true(file_contains(c.log_path, "logged on"));
    assert_false(file_contains(c.log_path, SECRET));
    assert_false(file_contains(c.journal_path, SECRET));
    assert_false(file_contains(record, SECRET));
    assert_false(file_contains(c.journal_path, "554="));
}

static void gaps_in_both_directions_are_filled(void **state)
{
    (void)state;
    ht_xsim *x = start_sim(NULL, 0);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "gaps");
    c.resend_orders = true;
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    ht_gw_send_result r;
    /* Outbound gap: order 1 is journaled but not transmitted; order 2 makes the venue ask for it. */
    ht_gw_debug_gap(gw, true, false);
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 2, 50010, 0, 0};
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    o.qty = 3;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 5000, no_open_orders));
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_true(file_contains(c.log_path, "venue asked for a resend of 2..3"));
    assert_int_equal(st.orders, 2);
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == 5);
    /* Inbound gap from the venue: a withheld report. */
    ht_xsim_debug_drop_next_report(x);
    o.qty = 4;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    o.qty = 1;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 5000, no_open_orders));
    /* Inbound gap on our side: a report "lost" in transit. */
    ht_gw_debug_gap(gw, false, true);
    o.qty = 6;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    o.qty = 7;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 5000, no_open_orders));
    ht_xsim_stats_get(x, &st);
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == 5 + 4 + 1 + 6 + 7);
    assert_true(st.filled_qty == 23);
    assert_true(s.fill_net == 23);
    assert_true(file_contains(c.log_path, "gap: expected inbound seq"));
    assert_true(file_contains(c.log_path, "venue asked for a resend"));
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
}

static void outbound_gap_without_resend_voids_the_order(void **state)
{
    (void)state;
    ht_xsim *x = start_sim(NULL, 0);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "void");
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    ht_gw_debug_gap(gw, true, false);
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_SELL, 2, 49990, 0, 0};
    ht_gw_send_result r;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    o.qty = 3;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 5000, no_open_orders));
    /* The venue dropped order 2 (after the gap) too: it asks for both, and both are voided, not resent. */
    assert_int_equal(s.count[HT_GW_EV_ORDER_VOID], 2);
    assert_non_null(strstr(s.last_text[HT_GW_EV_ORDER_VOID], "never reached the venue"));
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.orders, 0);
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == 0);
    /* The session goes on in sequence: the next order fills. */
    o.qty = 4;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 5000, no_open_orders));
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == -4);
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
}

static void bad_credentials_end_the_session(void **state)
{
    (void)state;
    ht_xsim *x = start_sim(NULL, 0);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "badcreds");
    snprintf(c.client_secret, sizeof c.client_secret, "wrong-secret");
    c.reconnect_max_attempts = 2;
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 5000, is_stopped));
    assert_int_equal(s.count[HT_GW_EV_LOGON], 0);
    assert_true(s.count[HT_GW_EV_LOGOUT] >= 1);
    assert_non_null(strstr(s.last_text[HT_GW_EV_LOGOUT], "invalid credentials"));
    assert_int_equal(s.count[HT_GW_EV_GIVE_UP], 1);
    ht_gw_destroy(gw);
    assert_false(file_contains(c.log_path, "wrong-secret"));
    ht_xsim_destroy(x);
}

/* ---- a scripted acceptor that sends malformed traffic ---- */

typedef struct raw_peer {
    int listen_fd;
    uint16_t port;
    char got[65536];
    size_t got_len;
} raw_peer;

/* Opens the scripted peer's listening socket on a free loopback port; returns the port. */
static uint16_t raw_peer_listen(raw_peer *p)
{
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(p->listen_fd, (struct sockaddr *)&a, &al);
    listen(p->listen_fd, 1);
    return ntohs(a.sin_port);
}

/* Builds a message from sender to target with the extra fields (tags separated by '|'); returns its length. */
static size_t build_msg(char *buf, size_t cap, const char *type, const char *sender, const char *target, uint64_t seq,
                        const char *extra_pipes)
{
    ht_fix_writer w;
    ht_fix_writer_begin(&w, buf, cap, type);
    ht_fix_put_str(&w, 49, sender);
    ht_fix_put_str(&w, 56, target);
    ht_fix_put_u64(&w, 34, seq);
    ht_fix_put_time(&w, 52, ht_wall_ns());
    char extra[512];
    snprintf(extra, sizeof extra, "%s", extra_pipes);
    for (char *save = NULL, *f = strtok_r(extra, "|", &save); f; f = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(f, '=');
        assert_non_null(eq);
        *eq = '\0';
        ht_fix_put_str(&w, (uint32_t)strtoul(f, NULL, 10), eq + 1);
    }
    size_t len;
    const char *m = ht_fix_writer_finish(&w, &len);
    memmove(buf, m, len);
    return len;
}

/* Builds a message from the peer to the gateway. */
static size_t peer_msg(char *buf, size_t cap, const char *type, uint64_t seq, const char *extra_pipes)
{
    return build_msg(buf, cap, type, "DERIBITSERVER", "HEDGETRIG", seq, extra_pipes);
}

/* The scripted peer: logon, then garbage, then a TestRequest, then reads what the gateway answers. */
static void *raw_peer_main(void *arg)
{
    raw_peer *p = arg;
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char buf[8192];
    usleep(100000); /* the logon arrives */
    recv(fd, p->got, sizeof p->got, MSG_DONTWAIT);
    size_t n = peer_msg(buf, sizeof buf, "A", 1, "98=0|108=30|");
    send(fd, buf, n, 0);
    send(fd, "total garbage\001\001", 15, 0);
    n = peer_msg(buf, sizeof buf, "0", 2, "");
    buf[n - 2] ^= 1; /* bad checksum: dropped, so seq 2 is still expected */
    send(fd, buf, n, 0);
    send(fd, "8=FIX.4.4\0019=9999999\001", 21, 0); /* huge BodyLength */
    n = peer_msg(buf, sizeof buf, "8", 2, "37=X1|150=F|39=2|54=1|55=BTC-PERPETUAL|"); /* no ExecID (17) */
    send(fd, buf, n, 0);
    n = peer_msg(buf, sizeof buf, "1", 3, "112=PING42|");
    send(fd, buf, n, 0);
    usleep(400000);
    ssize_t got = recv(fd, p->got, sizeof p->got - 1, MSG_DONTWAIT);
    p->got_len = got > 0 ? (size_t)got : 0;
    close(fd);
    return NULL;
}

static void malformed_inbound_is_rejected_and_the_session_survives(void **state)
{
    (void)state;
    raw_peer p = {0};
    uint16_t port = raw_peer_listen(&p);
    pthread_t t;
    pthread_create(&t, NULL, raw_peer_main, &p);
    ht_gw_config c;
    gw_config(&c, port, "malformed");
    c.client_secret[0] = '\0';
    c.client_id[0] = '\0';
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    pump(gw, &s, 400, NULL);
    pthread_join(t, NULL);
    close(p.listen_fd);
    /* garbage, bad checksum, huge length, missing tag: four reasons, and the session stayed up until the peer left */
    assert_true(s.count[HT_GW_EV_BAD_MESSAGE] >= 4);
    assert_true(file_contains(c.log_path, "BeginString"));
    assert_true(file_contains(c.log_path, "CheckSum (10)"));
    assert_true(file_contains(c.log_path, "over the"));
    assert_true(file_contains(c.log_path, "lacks required tag 17"));
    /* The gateway rejected the incomplete report (35=3, 371=17) and answered the TestRequest in order. */
    p.got[p.got_len] = '\0';
    for (size_t i = 0; i < p.got_len; i++)
        if (p.got[i] == '\001')
            p.got[i] = '|';
    assert_non_null(strstr(p.got, "35=3|"));
    assert_non_null(strstr(p.got, "371=17|"));
    assert_non_null(strstr(p.got, "35=0|"));
    assert_non_null(strstr(p.got, "112=PING42|"));
    ht_gw_destroy(gw);
}

/* A venue that fills 1000 contracts of a 1-contract order: logon, read the order's ClOrdID, one Trade report. */
static void *overfilling_peer_main(void *arg)
{
    raw_peer *p = arg;
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char buf[8192];
    usleep(100000); /* the logon arrives */
    recv(fd, p->got, sizeof p->got, MSG_DONTWAIT);
    size_t n = peer_msg(buf, sizeof buf, "A", 1, "98=0|108=30|");
    send(fd, buf, n, 0);
    /* Wait for the NewOrderSingle and take its ClOrdID. */
    char clordid[64] = "";
    size_t len = 0;
    for (int tries = 0; tries < 300 && !clordid[0]; tries++) {
        ssize_t got = recv(fd, p->got + len, sizeof p->got - 1 - len, MSG_DONTWAIT);
        if (got > 0)
            len += (size_t)got;
        p->got[len] = '\0';
        const char *d = strstr(p->got, "\00135=D\001");
        const char *id = d ? strstr(d, "\00111=") : NULL;
        if (id)
            snprintf(clordid, sizeof clordid, "%.*s", (int)strcspn(id + 4, "\001"), id + 4);
        else
            usleep(10000);
    }
    char fields[256];
    snprintf(fields, sizeof fields, "37=X1|17=E1|11=%s|150=F|39=2|55=BTC-PERPETUAL|54=1|38=1|32=1000|31=50000|"
             "14=1000|151=0|6=50000|", clordid);
    n = peer_msg(buf, sizeof buf, "8", 2, fields);
    send(fd, buf, n, 0);
    usleep(400000);
    close(fd);
    return NULL;
}

/* The venue fills more than the order asked (1000 for 1): the position says what the venue reported, the kill
 * switch engages with the reason, and no further order is sent (it was accepted silently, position 1000). */
static void overfill_engages_the_kill_switch(void **state)
{
    (void)state;
    raw_peer p = {0};
    uint16_t port = raw_peer_listen(&p);
    pthread_t t;
    pthread_create(&t, NULL, overfilling_peer_main, &p);
    ht_gw_config c;
    gw_config(&c, port, "overfill");
    c.client_secret[0] = '\0';
    c.client_id[0] = '\0';
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 1, 50010, 0, 0};
    ht_gw_send_result r;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    pump(gw, &s, 600, NULL);
    pthread_join(t, NULL);
    close(p.listen_fd);
    assert_true(s.fill_net == 1000.0);
    assert_int_equal(s.count[HT_GW_EV_KILL], 1);
    assert_non_null(strstr(s.last_text[HT_GW_EV_KILL], "OVERFILL: ExecutionReport seq 2 fills 1000 of order"));
    assert_true(ht_gw_killed(gw));
    assert_true(file_contains(c.log_path, "KILL SWITCH ENGAGED: OVERFILL"));
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_ERR_RISK);
    ht_gw_destroy(gw);
}

/* Builds a message from a raw client to the simulator; returns its length. */
static size_t client_msg(char *buf, size_t cap, const char *type, uint64_t seq, const char *extra_pipes)
{
    return build_msg(buf, cap, type, "RAWCLIENT", "DERIBITSERVER", seq, extra_pipes);
}

/* Counts the record file's lines that end with ",status". */
static int count_status(const char *path, const char *status)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    size_t sl = strlen(status);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t l = strlen(line);
        if (l > sl && line[l - sl - 1] == ',' && strcmp(line + l - sl, status) == 0)
            n++;
    }
    fclose(f);
    return n;
}

/* The simulator refuses a ClOrdID the client used before, however many orders came between (its set grows
 * past its first table of 1024 slots here), and takes new ones. A raw client sends the orders, since the
 * gateway never reuses an id. */
static void simulator_refuses_a_reused_clordid(void **state)
{
    (void)state;
    const char *record = HT_TEST_TMPDIR "/dup_record.csv";
    unlink(record);
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    snprintf(xc.record_path, sizeof xc.record_path, "%s", record);
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons(ht_xsim_port(x))};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char buf[1024], extra[256];
    uint64_t seq = 1;
    size_t n = client_msg(buf, sizeof buf, "A", seq++, "98=0|108=30|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    enum { ORDERS = 3000 };
    const int again[] = {0, 1500, ORDERS - 1};
    for (int i = 0; i < ORDERS + 4; i++) {
        int id = i < ORDERS ? i : i < ORDERS + 3 ? again[i - ORDERS] : ORDERS + 7;
        snprintf(extra, sizeof extra, "11=RAW-%d|55=BTC-PERPETUAL|54=1|38=1|40=2|44=1000|59=3|60=20260101-00:00:00.000|",
                 id);
        n = client_msg(buf, sizeof buf, "D", seq++, extra);
        assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
        if (i % 64 == 0) { /* keep the answers flowing so neither side's socket buffer fills */
            char sink[65536];
            while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
            }
        }
    }
    int got_new = 0, got_dup = 0;
    for (int wait = 0; wait < 500 && got_new + got_dup < ORDERS + 4; wait++) {
        char sink[65536];
        while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
        }
        usleep(10000);
        got_new = count_status(record, "canceled"); /* a buy at 1000 under the 50000 book: nothing to match */
        got_dup = count_status(record, "duplicate");
    }
    close(fd);
    ht_xsim_destroy(x);
    assert_int_equal(got_new, ORDERS + 1);
    assert_int_equal(got_dup, 3);
}

/* What the simulator reported for one order of a raw client. */
typedef struct order_reports {
    const char *clordid;
    double order_qty, cash_qty, filled, commission;
    bool have_commission, rejected, done;
    char text[128];
} order_reports;

/* Reads the simulator's ExecutionReports into reps (n orders) until every order is done or 5 s passed. */
static void read_reports(int fd, order_reports *reps, size_t n)
{
    static char rx[1 << 20];
    size_t len = 0, undone = n;
    ht_fix_msg msg;
    for (int wait = 0; wait < 500 && undone; wait++) {
        ssize_t got = recv(fd, rx + len, sizeof rx - len, MSG_DONTWAIT);
        if (got <= 0) {
            usleep(10000);
            continue;
        }
        len += (size_t)got;
        size_t used;
        while (len && ht_fix_parse(rx, len, 0, &msg, &used, NULL) != HT_FIX_PARSE_INCOMPLETE) {
            char id[64] = "";
            ht_fix_get_str(&msg, HT_TAG_CL_ORD_ID, id, sizeof id);
            for (size_t i = 0; i < n && strcmp(msg.msg_type, "8") == 0; i++) {
                order_reports *r = &reps[i];
                if (strcmp(id, r->clordid) != 0 || r->done)
                    continue;
                double v;
                assert_true(ht_fix_get_double(&msg, HT_TAG_ORDER_QTY, &r->order_qty));
                if (ht_fix_get_double(&msg, HT_TAG_CASH_ORDER_QTY, &v))
                    r->cash_qty = v;
                char exec_type = ht_fix_get_char(&msg, HT_TAG_EXEC_TYPE);
                if (exec_type == 'F') {
                    assert_true(ht_fix_get_double(&msg, HT_TAG_LAST_QTY, &v));
                    r->filled += v;
                    r->have_commission = ht_fix_get_double(&msg, HT_TAG_COMMISSION, &v);
                    r->commission += r->have_commission ? v : 0;
                }
                r->rejected |= exec_type == '8';
                ht_fix_get_str(&msg, HT_TAG_TEXT, r->text, sizeof r->text);
                char status = ht_fix_get_char(&msg, HT_TAG_ORD_STATUS);
                if (status == '2' || status == '4' || status == '8') {
                    r->done = true;
                    undone--;
                }
            }
            memmove(rx, rx + used, len - used);
            len -= used;
        }
    }
    assert_int_equal(undone, 0);
}

/* The simulator implements QtyType (854) as Deribit documents it (New Order Single: "Quantity is by default
 * defined in Contract units corresponding to the ContractMultiplier in SecurityList"; with 854=0 "Units" the
 * quantity is USD for inverse futures and perpetuals, coins for linear ones): absent or 1, OrderQty is
 * contracts; 0, it converts to contracts; anything else is rejected, as is 0 on an instrument whose contract it
 * does not know. Reports carry contracts (and CashOrderQty for a USD order), and Commission in the settlement
 * currency: coin for the inverse perpetual, USDC for the linear one. */
static void simulator_honours_qty_type_both_ways(void **state)
{
    (void)state;
    ht_xsim_config xc;
    ht_xsim_config_default(&xc); /* standalone book: mid 50000, spread 1, levels of 10000 contracts, 5 bps */
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    const ht_contract perp = {HT_CONTRACT_INVERSE, 10.0}, usdc = {HT_CONTRACT_LINEAR, 0.001};
    assert_int_equal(ht_xsim_set_contract(x, "BTC-PERPETUAL", &perp, &err), 0);
    assert_int_equal(ht_xsim_set_contract(x, "BTC_USDC-PERPETUAL", &usdc, &err), 0);
    const ht_contract bad = {HT_CONTRACT_INVERSE, -1.0};
    assert_int_equal(ht_xsim_set_contract(x, "BTC-PERPETUAL", &bad, &err), -1);
    assert_non_null(strstr(err.msg, "BTC-PERPETUAL"));
    assert_int_equal(ht_xsim_start(x, &err), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons(ht_xsim_port(x))};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    static const struct {
        const char *clordid, *symbol, *qty_fields;
    } orders[] = {
        {"Q-ABSENT", "BTC-PERPETUAL", "38=100|"},          /* Deribit's default: 100 contracts */
        {"Q-CONTRACTS", "BTC-PERPETUAL", "38=100|854=1|"}, /* 100 contracts */
        {"Q-USD", "BTC-PERPETUAL", "38=1000|854=0|"},      /* 1000 USD = 100 contracts of 10 USD */
        {"Q-COIN", "BTC_USDC-PERPETUAL", "38=0.5|854=0|"}, /* 0.5 BTC = 500 contracts of 0.001 BTC */
        {"Q-BAD", "BTC-PERPETUAL", "38=100|854=2|"},       /* not a QtyType Deribit takes */
        {"Q-UNKNOWN", "ETH-PERPETUAL", "38=1000|854=0|"},  /* Units on a contract the simulator does not know */
        {"Q-UNKNOWN-CONTRACTS", "ETH-PERPETUAL", "38=3|"}, /* contracts trade; no Commission without a size */
    };
    enum { N = sizeof orders / sizeof orders[0] };
    char buf[1024], extra[256];
    uint64_t seq = 1;
    size_t n = client_msg(buf, sizeof buf, "A", seq++, "98=0|108=30|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    order_reports reps[N];
    memset(reps, 0, sizeof reps);
    for (size_t i = 0; i < N; i++) {
        reps[i].clordid = orders[i].clordid;
        snprintf(extra, sizeof extra, "11=%s|55=%s|54=1|%s40=2|44=60000|59=3|60=20260101-00:00:00.000|",
                 orders[i].clordid, orders[i].symbol, orders[i].qty_fields);
        n = client_msg(buf, sizeof buf, "D", seq++, extra);
        assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    }
    read_reports(fd, reps, N);
    close(fd);
    ht_xsim_destroy(x);
    /* Bought at the standalone asks: 50000.5 for the first 10000 contracts. */
    const double px = 50000.5, fee = 5e-4;
    for (int i = 0; i < 3; i++) {
        assert_false(reps[i].rejected);
        assert_true(reps[i].order_qty == 100 && reps[i].filled == 100);
        assert_true(reps[i].have_commission);
        assert_true(fabs(reps[i].commission - 100 * 10 * fee / px) < 1e-9); /* BTC, to the 9 decimals sent */
    }
    assert_true(reps[0].cash_qty == 0 && reps[1].cash_qty == 0 && reps[2].cash_qty == 1000);
    assert_false(reps[3].rejected);
    assert_true(fabs(reps[3].order_qty - 500) < 1e-9 && fabs(reps[3].filled - 500) < 1e-9);
    assert_true(fabs(reps[3].commission - 500 * 0.001 * px * fee) < 1e-9); /* USDC */
    assert_true(reps[4].rejected && strstr(reps[4].text, "QtyType (854) must be 0 (Units) or 1 (Contracts)"));
    assert_true(reps[5].rejected && strstr(reps[5].text, "contract size"));
    assert_false(reps[6].rejected);
    assert_true(reps[6].filled == 3 && !reps[6].have_commission);
}

/* A dropped connection: the gateway reconnects with backoff and resumes the same session's sequence numbers. */
static void reconnects_and_resumes_after_a_drop(void **state)
{
    (void)state;
    ht_xsim *x = start_sim(NULL, 0);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "reconnect");
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 2, 50010, 0, 0};
    ht_gw_send_result r;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 3000, no_open_orders));
    uint64_t out_before = ht_gw_next_out_seq(gw);
    ht_xsim_debug_disconnect(x);
    pump(gw, &s, 300, NULL);
    assert_true(pump(gw, &s, 3000, is_active));
    assert_true(s.count[HT_GW_EV_DISCONNECTED] >= 1);
    assert_int_equal(s.count[HT_GW_EV_LOGON], 2);
    assert_true(ht_gw_next_out_seq(gw) > out_before); /* no reset: the Logon took the next number */
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 3000, no_open_orders));
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == 4);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.logons, 2);
    assert_true(file_contains(c.log_path, "reconnecting in 20 ms"));
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
}

/* A peer that logs on with HeartBtInt 1 and then says nothing. */
static void *silent_peer_main(void *arg)
{
    raw_peer *p = arg;
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char buf[1024];
    usleep(100000);
    recv(fd, p->got, sizeof p->got, MSG_DONTWAIT);
    size_t n = peer_msg(buf, sizeof buf, "A", 1, "98=0|108=1|");
    send(fd, buf, n, 0);
    size_t total = 0;
    for (int i = 0; i < 40; i++) { /* 4 s: collect what the gateway sends */
        usleep(100000);
        ssize_t got = recv(fd, p->got + total, sizeof p->got - 1 - total, MSG_DONTWAIT);
        if (got > 0)
            total += (size_t)got;
        if (got == 0)
            break;
    }
    p->got_len = total;
    close(fd);
    return NULL;
}

static void heartbeats_and_test_request_detect_a_silent_peer(void **state)
{
    (void)state;
    raw_peer p = {0};
    p.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(p.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(p.listen_fd, (struct sockaddr *)&a, &al);
    listen(p.listen_fd, 4);
    pthread_t t;
    pthread_create(&t, NULL, silent_peer_main, &p);
    ht_gw_config c;
    gw_config(&c, ntohs(a.sin_port), "silent");
    c.client_secret[0] = '\0';
    c.client_id[0] = '\0';
    c.heartbeat_s = 1;
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    pump(gw, &s, 3500, NULL);
    pthread_join(t, NULL);
    close(p.listen_fd);
    ht_gw_destroy(gw);
    /* Heartbeats while idle, a TestRequest after 1.2 s of silence, then a disconnect one interval later. */
    p.got[p.got_len] = '\0';
    for (size_t i = 0; i < p.got_len; i++)
        if (p.got[i] == '\001')
            p.got[i] = '|';
    assert_non_null(strstr(p.got, "35=0|"));
    assert_non_null(strstr(p.got, "35=1|"));
    assert_non_null(strstr(p.got, "112=T1|"));
    assert_true(s.count[HT_GW_EV_DISCONNECTED] >= 1);
    assert_true(file_contains(c.log_path, "no answer to TestRequest"));
}

static void kill_switch_by_file_and_signal(void **state)
{
    (void)state;
    ht_xsim *x = start_sim(NULL, 0);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "kill");
    snprintf(c.kill_file, sizeof c.kill_file, HT_TEST_TMPDIR "/KILL");
    unlink(c.kill_file);
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 1, 50010, 0, 0};
    ht_gw_send_result r;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    /* The order is still open (no poll yet) when the operator kills: a cancel goes out for it. */
    ht_gw_kill(gw, "operator: stop");
    assert_true(file_contains(c.log_path, "KILL SWITCH ENGAGED: operator: stop; 1 open orders, 1 cancels sent"));
    pump(gw, &s, 300, NULL);
    assert_int_equal(s.count[HT_GW_EV_CANCEL_REJECT], 1); /* the IOC order was already done at the venue */
    assert_non_null(strstr(s.last_text[HT_GW_EV_CANCEL_REJECT], "too late to cancel"));
    assert_true(ht_gw_killed(gw));
    o.qty = 2;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_ERR_RISK);
    ht_gw_destroy(gw);

    /* The kill file. A fresh journal on the simulator's running session: both sides start again at 1. */
    gw_config(&c, ht_xsim_port(x), "killfile");
    c.reset_seq_on_logon = true;
    snprintf(c.kill_file, sizeof c.kill_file, HT_TEST_TMPDIR "/KILL");
    gw = ht_gw_create(&c, &err);
    memset(&s, 0, sizeof s);
    assert_true(pump(gw, &s, 3000, is_active));
    FILE *f = fopen(c.kill_file, "w");
    fputs("desk lead: stop hedging\n", f);
    fclose(f);
    pump(gw, &s, 400, NULL);
    assert_int_equal(s.count[HT_GW_EV_KILL], 1);
    assert_non_null(strstr(s.last_text[HT_GW_EV_KILL], "desk lead: stop hedging"));
    assert_true(file_contains(c.log_path, "KILL SWITCH ENGAGED"));
    assert_true(ht_gw_killed(gw));
    o.qty = 2;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_ERR_RISK);
    assert_int_equal(r.rule, HT_RISK_KILL_SWITCH);
    assert_true(file_contains(c.log_path, "ORDER REFUSED: risk rule kill_switch"));
    ht_gw_destroy(gw);
    unlink(c.kill_file);

    /* The signal: a running gateway engages at its next poll. */
    gw_config(&c, ht_xsim_port(x), "killsig");
    c.reset_seq_on_logon = true;
    gw = ht_gw_create(&c, &err);
    memset(&s, 0, sizeof s);
    assert_true(pump(gw, &s, 3000, is_active));
    assert_int_equal(ht_gw_kill_on_signal(SIGUSR1), 0);
    raise(SIGUSR1);
    pump(gw, &s, 100, NULL);
    assert_int_equal(s.count[HT_GW_EV_KILL], 1);
    assert_non_null(strstr(s.last_text[HT_GW_EV_KILL], "kill signal"));
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_ERR_RISK);
    /* The operator rearms: orders pass again, and the answered signal does not come back at the next poll. */
    assert_int_equal(ht_gw_rearm(gw, "desk lead", &err), 0);
    assert_true(file_contains(c.log_path, "KILL SWITCH REARMED by desk lead"));
    assert_false(ht_gw_killed(gw));
    pump(gw, &s, 100, NULL);
    assert_false(ht_gw_killed(gw));
    assert_int_equal(s.count[HT_GW_EV_KILL], 1);
    o.qty = 3;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    /* A second signal engages it again. */
    raise(SIGUSR1);
    pump(gw, &s, 100, NULL);
    assert_int_equal(s.count[HT_GW_EV_KILL], 2);
    assert_true(ht_gw_killed(gw));
    ht_gw_destroy(gw);

    /* A kill signal stays in force for the process: a gateway created after it starts killed, until rearmed.
     * A rearm is refused while the kill file exists. */
    gw_config(&c, ht_xsim_port(x), "killsig2");
    c.reset_seq_on_logon = true; /* a fresh journal on the simulator's running session */
    snprintf(c.kill_file, sizeof c.kill_file, HT_TEST_TMPDIR "/KILL2");
    f = fopen(c.kill_file, "w");
    fclose(f);
    gw = ht_gw_create(&c, &err);
    memset(&s, 0, sizeof s);
    pump(gw, &s, 300, NULL);
    assert_true(ht_gw_killed(gw));
    assert_int_equal(ht_gw_rearm(gw, "desk lead", &err), -1);
    assert_non_null(strstr(err.msg, "KILL2 still exists"));
    assert_true(ht_gw_killed(gw));
    unlink(c.kill_file);
    assert_int_equal(ht_gw_rearm(gw, "desk lead", &err), 0);
    assert_true(pump(gw, &s, 3000, is_active));
    assert_false(ht_gw_killed(gw));
    o.qty = 4;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
}

/* The book source from the real capture: the simulator trades against the feed decoder's final book. */
static void capture_book_is_traded_against(void **state)
{
    (void)state;
    const char *pcap = HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap";
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    xc.default_mid = 0; /* only the capture's instruments */
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    int books = ht_xsim_load_capture(x, pcap, &err);
    if (books <= 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    /* The feed's own final book of BTC-PERPETUAL, decoded here outside the simulator. */
    ht_nic_config nc;
    ht_nic_config_default(&nc);
    nc.path = pcap;
    ht_nic *nic = ht_nic_open(&nc, &err);
    assert_non_null(nic);
    ht_feed *feed = ht_feed_create(NULL, &err);
    ht_nic_packet pk[HT_NIC_BURST];
    int got;
    while ((got = ht_nic_rx_burst(nic, pk, HT_NIC_BURST)) != HT_NIC_EOF)
        for (int i = 0; i < got; i++)
            ht_feed_on_packet(feed, pk[i].payload, pk[i].len, 0);
    const ht_instrument *perp = ht_feed_instrument_by_name(feed, "BTC-PERPETUAL");
    const ht_book *book = ht_feed_book(feed, perp);
    assert_true(book->ask_count > 0);
    /* The feed's amounts are Deribit's (USD for the inverse perpetual); the wire speaks contracts of 10 USD. */
    assert_true(perp->contract_size == 10.0);
    double best_ask = book->asks[0].price, best_ask_contracts = book->asks[0].amount / perp->contract_size;
    assert_true(best_ask_contracts >= 1 && best_ask_contracts < 10);
    ht_feed_destroy(feed);
    ht_nic_close(nic);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "capture");
    c.client_secret[0] = '\0';
    c.client_id[0] = '\0';
    ht_gw *gw = ht_gw_create(&c, &err);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    /* A buy far below any ask is canceled unfilled; a buy at a generous price fills at the book's asks. */
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 10, 1000, 0, 0};
    ht_gw_send_result r;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 3000, no_open_orders));
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == 0);
    /* 10 contracts at the best ask: one fill at exactly that price, of the level's contracts and no more. */
    o.price = best_ask;
    o.qty = 10;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    ht_gw_event ev[16];
    double last_px = 0;
    for (int i = 0; i < 400 && ht_gw_open_orders(gw); i++) {
        int n = ht_gw_poll(gw, ev, 16);
        for (int k = 0; k < n; k++)
            if (ev[k].type == HT_GW_EV_EXEC && ev[k].exec_type == 'F')
                last_px = ev[k].last_px;
        ht_gw_wait(gw, 5);
    }
    assert_true(last_px == best_ask);
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == best_ask_contracts);
    /* An instrument the capture does not have is rejected. */
    o.symbol = "NOT-IN-CAPTURE";
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 3000, no_open_orders));
    ht_gw_destroy(gw);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.rejects, 1);
    ht_xsim_destroy(x);
}

static void secrets_file_must_be_private(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/secrets";
    FILE *f = fopen(path, "w");
    fprintf(f, "# test\nclient_id = abc\nclient_secret = %s\n", SECRET);
    fclose(f);
    ht_gw_config c;
    ht_gw_config_default(&c);
    ht_error err;
    chmod(path, 0644);
    assert_int_equal(ht_gw_secrets_load(&c, path, &err), -1);
    assert_non_null(strstr(err.msg, "0644"));
    assert_null(strstr(err.msg, SECRET));
    chmod(path, 0600);
    assert_int_equal(ht_gw_secrets_load(&c, path, &err), 0);
    assert_string_equal(c.client_id, "abc");
    assert_string_equal(c.client_secret, SECRET);
}

/* ---- the simulator against peers that misbehave (raw sockets on 127.0.0.1) ---- */

static FILE *g_limited_sim_log; /* the log of the simulator start_limited_sim made */

/* A simulator with its log in log_path and the given limits (no credentials). */
static ht_xsim *start_limited_sim(const char *log_path, uint32_t logon_timeout_ms, uint32_t max_connections,
                                  uint32_t max_bad_messages)
{
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    xc.logon_timeout_ms = logon_timeout_ms;
    xc.max_connections = max_connections;
    xc.max_bad_messages = max_bad_messages;
    xc.log = g_limited_sim_log = fopen(log_path, "w");
    assert_non_null(xc.log);
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    return x;
}

/* Stops the simulator and closes its log. */
static void stop_limited_sim(ht_xsim *x)
{
    ht_xsim_destroy(x);
    fclose(g_limited_sim_log);
}

/* A TCP connection to the simulator. */
static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Reads until the peer closes the connection (true) or ms pass (false); what it read goes to got (cap bytes,
 * NUL-terminated, SOH shown as '|') when got is not NULL. */
static bool closed_within(int fd, int ms, char *got, size_t cap)
{
    uint64_t end = ht_mono_ns() + (uint64_t)ms * 1000000u;
    size_t len = 0;
    bool closed = false;
    while (!closed && ht_mono_ns() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10) != 1)
            continue;
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        closed = n <= 0;
        for (ssize_t i = 0; got && i < n && len + 1 < cap; i++)
            got[len++] = buf[i] == '\001' ? '|' : buf[i];
    }
    if (got)
        got[len] = '\0';
    return closed;
}

/* A peer that connects and never logs on is closed after logon_timeout_ms, and the log says why. */
static void simulator_closes_a_peer_that_never_logs_on(void **state)
{
    (void)state;
    const char *log = HT_TEST_TMPDIR "/xsim_idle.log";
    ht_xsim *x = start_limited_sim(log, 300, 16, 10);
    int fd = connect_to(ht_xsim_port(x));
    uint64_t t0 = ht_mono_ns();
    assert_true(closed_within(fd, 3000, NULL, 0));
    uint64_t waited_ms = (ht_mono_ns() - t0) / 1000000u;
    close(fd);
    assert_true(waited_ms >= 250);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.closed_peers, 1);
    stop_limited_sim(x);
    assert_true(file_contains(log, "closed: no Logon within 300 ms (logon_timeout_ms)"));
}

/* Idle connections up to the limit: one more is refused at once and logged (once a second however many come);
 * when the idle ones time out, a client logs on again: nobody stays locked out. */
static void simulator_limits_connections_and_logs_refusals(void **state)
{
    (void)state;
    const char *log = HT_TEST_TMPDIR "/xsim_limit.log";
    /* The idle ones time out after 3 s; extras are tried for at most 1.5 s of that, so a loaded machine (the
     * asan run) cannot let the idle ones expire while extras are still expected to be refused. */
    ht_xsim *x = start_limited_sim(log, 3000, 3, 10);
    uint16_t port = ht_xsim_port(x);
    int idle[3];
    for (int i = 0; i < 3; i++)
        idle[i] = connect_to(port);
    uint64_t idle_since = ht_mono_ns();
    usleep(100000); /* the simulator has accepted them */
    int extras = 0;
    while (extras < 20 && ht_mono_ns() - idle_since < 1500000000ull) {
        int extra = connect_to(port);
        assert_true(closed_within(extra, 1000, NULL, 0));
        close(extra);
        extras++;
    }
    assert_true(extras >= 2);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.refused_connections, (uint64_t)extras);
    assert_true(file_contains(log, "refused: 3 of 3 connections in use (max_connections), 3 of them not logged on"));
    for (int i = 0; i < 3; i++) {
        assert_true(closed_within(idle[i], 6000, NULL, 0));
        close(idle[i]);
    }
    int fd = connect_to(port);
    char buf[512], got[2048];
    size_t n = client_msg(buf, sizeof buf, "A", 1, "98=0|108=30|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    closed_within(fd, 300, got, sizeof got);
    close(fd);
    assert_non_null(strstr(got, "|35=A|"));
    stop_limited_sim(x);
    /* Up to twenty refusals within 1.5 s make one or two log lines (one a second), not twenty. */
    FILE *f = fopen(log, "r");
    char line[512];
    int refusal_lines = 0;
    while (fgets(line, sizeof line, f))
        refusal_lines += strstr(line, " refused: ") != NULL;
    fclose(f);
    assert_true(refusal_lines >= 1 && refusal_lines <= 2);
}

/* Malformed messages in a row: a peer is closed at max_bad_messages, not before; a logged-on one gets a Logout. */
static void simulator_closes_a_peer_that_sends_garbage(void **state)
{
    (void)state;
    const char *log = HT_TEST_TMPDIR "/xsim_garbage.log";
    ht_xsim *x = start_limited_sim(log, 5000, 16, 4);
    uint16_t port = ht_xsim_port(x);
    static const char bad[] = "8=FIX.4.4\0019=5\00135=0\00110=000\001"; /* a wrong CheckSum */
    int fd = connect_to(port);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send(fd, bad, sizeof bad - 1, 0), (ssize_t)(sizeof bad - 1));
    assert_false(closed_within(fd, 200, NULL, 0));
    assert_int_equal(send(fd, bad, sizeof bad - 1, 0), (ssize_t)(sizeof bad - 1));
    assert_true(closed_within(fd, 1000, NULL, 0));
    close(fd);

    fd = connect_to(port);
    char buf[512], got[2048];
    size_t n = client_msg(buf, sizeof buf, "A", 1, "98=0|108=30|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    for (int i = 0; i < 4; i++)
        assert_int_equal(send(fd, bad, sizeof bad - 1, 0), (ssize_t)(sizeof bad - 1));
    assert_true(closed_within(fd, 1000, got, sizeof got));
    close(fd);
    assert_non_null(strstr(got, "|35=5|"));
    assert_non_null(strstr(got, "58=too many malformed messages|"));
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.closed_peers, 2);
    stop_limited_sim(x);
    assert_true(file_contains(log, "malformed messages in a row: the limit (max_bad_messages) is reached"));
}

/* A NewOrderSingle that names a tag twice (OrderQty 1 then 999, as an injected "\00138=999" would) is refused
 * with a session Reject (373=13): it was filled at the first value, while another reader takes the last. */
static void simulator_rejects_a_repeated_tag(void **state)
{
    (void)state;
    const char *log = HT_TEST_TMPDIR "/xsim_repeated.log";
    ht_xsim *x = start_limited_sim(log, 5000, 16, 10);
    int fd = connect_to(ht_xsim_port(x));
    char buf[512], got[4096];
    size_t n = client_msg(buf, sizeof buf, "A", 1, "98=0|108=30|141=Y|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    n = client_msg(buf, sizeof buf, "D", 2,
                   "11=rep1|55=BTC-PERPETUAL|54=1|38=1|854=1|40=2|44=50010|59=3|38=999|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    /* The same order without the second 38 is taken: the reject is about the repetition alone. */
    n = client_msg(buf, sizeof buf, "D", 3, "11=rep2|55=BTC-PERPETUAL|54=1|38=1|854=1|40=2|44=50010|59=3|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    closed_within(fd, 500, got, sizeof got);
    close(fd);
    assert_non_null(strstr(got, "|35=3|"));
    assert_non_null(strstr(got, "|45=2|"));
    assert_non_null(strstr(got, "|371=38|"));
    assert_non_null(strstr(got, "|373=13|"));
    assert_null(strstr(got, "|11=rep1|"));
    assert_non_null(strstr(got, "|11=rep2|"));
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.orders, 1);
    assert_true(st.filled_qty == 1.0);
    stop_limited_sim(x);
    assert_true(file_contains(log, "seq 2 rejected: tag 38 appears more than once"));
}

/* Eight counterparties log on once and leave: a ninth still logs on (the oldest idle session is forgotten), where
 * every new CompID was refused until a restart; the table being full of live sessions still refuses. */
static void simulator_forgets_an_idle_session_for_a_new_one(void **state)
{
    (void)state;
    const char *log = HT_TEST_TMPDIR "/xsim_sessions.log";
    ht_xsim *x = start_limited_sim(log, 5000, 16, 10);
    uint16_t port = ht_xsim_port(x);
    char buf[512], got[2048], sender[16];
    for (int i = 0; i <= HT_XSIM_MAX_SESSIONS; i++) {
        snprintf(sender, sizeof sender, "PEER%d", i);
        int fd = connect_to(port);
        size_t n = build_msg(buf, sizeof buf, "A", sender, "DERIBITSERVER", 1, "98=0|108=30|141=Y|");
        assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
        closed_within(fd, 200, got, sizeof got);
        close(fd);
        if (!strstr(got, "|35=A|"))
            fail_msg("logon %d (%s) refused: %s", i, sender, got);
    }
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.logons, HT_XSIM_MAX_SESSIONS + 1);
    stop_limited_sim(x);
    assert_true(file_contains(log, "session of PEER0 forgotten (idle; 8 counterparties are known) for PEER8"));
}

/* A logged-on peer that sends orders but never reads its answers: the simulator stops waiting on its full socket
 * after 2 s and closes it, and meanwhile another client still logs on (one such peer held every session up). */
static void simulator_closes_a_peer_that_does_not_read(void **state)
{
    (void)state;
    const char *log = HT_TEST_TMPDIR "/xsim_stall.log";
    ht_xsim *x = start_limited_sim(log, 5000, 16, 10);
    int hog = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(hog, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons(ht_xsim_port(x))};
    assert_int_equal(connect(hog, (struct sockaddr *)&a, sizeof a), 0);
    char buf[512], extra[256];
    size_t n = client_msg(buf, sizeof buf, "A", 1, "98=0|108=30|");
    assert_int_equal(send(hog, buf, n, 0), (ssize_t)n);
    bool closed = false;
    uint64_t end = ht_mono_ns() + 20000000000ull;
    for (uint64_t seq = 2; !closed && ht_mono_ns() < end; seq++) {
        snprintf(extra, sizeof extra, "11=HOG-%llu|55=BTC-PERPETUAL|54=1|38=1|40=2|44=60000|59=3|",
                 (unsigned long long)seq);
        n = client_msg(buf, sizeof buf, "D", seq, extra);
        ssize_t sent;
        while ((sent = send(hog, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0 && errno == EAGAIN && ht_mono_ns() < end)
            usleep(1000);
        closed = sent < 0 && errno != EAGAIN;
    }
    close(hog);
    assert_true(closed);
    int fd = connect_to(ht_xsim_port(x));
    char got[2048];
    n = client_msg(buf, sizeof buf, "A", 1, "98=0|108=30|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    closed_within(fd, 500, got, sizeof got);
    close(fd);
    assert_non_null(strstr(got, "|35=A|"));
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.closed_peers, 1);
    stop_limited_sim(x);
    assert_true(file_contains(log, "the peer does not read: its socket stayed full for 2000 ms"));
}

/* A Logon with bad credentials under a logged-on session's CompID (and ResetSeqNumFlag) is refused without
 * touching that session: its connection stays up and its sequence numbers are unchanged. */
static void refused_logon_leaves_the_named_session_alone(void **state)
{
    (void)state;
    ht_xsim *x = start_sim(NULL, 0);
    ht_gw_config c;
    gw_config(&c, ht_xsim_port(x), "victim");
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);
    seen s = {0};
    assert_true(pump(gw, &s, 3000, is_active));
    int fd = connect_to(ht_xsim_port(x));
    char buf[512], got[2048];
    size_t n = build_msg(buf, sizeof buf, "A", c.sender_comp_id, "DERIBITSERVER", 1,
                         "98=0|108=30|141=Y|95=3|96=abc|553=" CLIENT_ID "|554=forged|");
    assert_int_equal(send(fd, buf, n, 0), (ssize_t)n);
    assert_true(closed_within(fd, 1000, got, sizeof got));
    close(fd);
    assert_non_null(strstr(got, "58=invalid credentials|"));
    pump(gw, &s, 300, NULL);
    assert_int_equal(s.count[HT_GW_EV_DISCONNECTED], 0);
    assert_true(is_active(gw));
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 1, 50010, 0, 0};
    ht_gw_send_result r;
    assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
    assert_true(pump(gw, &s, 2000, no_open_orders));
    assert_int_equal(s.count[HT_GW_EV_SESSION_REJECT], 0);
    assert_int_equal(s.count[HT_GW_EV_LOGOUT], 0);
    assert_true(s.fill_net == 1);
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
}

int main(int argc, char **argv)
{
    test_send_from_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orders_fill_and_positions_reconcile),
        cmocka_unit_test(gaps_in_both_directions_are_filled),
        cmocka_unit_test(outbound_gap_without_resend_voids_the_order),
        cmocka_unit_test(bad_credentials_end_the_session),
        cmocka_unit_test(malformed_inbound_is_rejected_and_the_session_survives),
        cmocka_unit_test(overfill_engages_the_kill_switch),
        cmocka_unit_test(capture_book_is_traded_against),
        cmocka_unit_test(reconnects_and_resumes_after_a_drop),
        cmocka_unit_test(heartbeats_and_test_request_detect_a_silent_peer),
        cmocka_unit_test(secrets_file_must_be_private),
        cmocka_unit_test(simulator_refuses_a_reused_clordid),
        cmocka_unit_test(simulator_closes_a_peer_that_never_logs_on),
        cmocka_unit_test(simulator_limits_connections_and_logs_refusals),
        cmocka_unit_test(simulator_closes_a_peer_that_sends_garbage),
        cmocka_unit_test(simulator_rejects_a_repeated_tag),
        cmocka_unit_test(simulator_forgets_an_idle_session_for_a_new_one),
        cmocka_unit_test(simulator_closes_a_peer_that_does_not_read),
        cmocka_unit_test(refused_logon_leaves_the_named_session_alone),
        cmocka_unit_test(simulator_honours_qty_type_both_ways),
        cmocka_unit_test(kill_switch_by_file_and_signal), /* last: a kill signal stays in force for the process */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

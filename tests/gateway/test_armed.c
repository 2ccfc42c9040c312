/* SPDX-License-Identifier: MIT */
/* Armed orders and the trigger on the wire (docs/gateway.md "Armed orders", "Trigger on the wire"): a fired armed
 * order reads back as the same fields, in the same order, as ht_gw_send_order's order (the repository's parser, and
 * BodyLength and CheckSum counted here byte by byte); every rule of the moment refuses a fire exactly when it
 * refuses a send, and the refused order stays armed; what makes armed orders stale does; an adjusted quantity is
 * sent when it fits the armed width and refused when not; the label reaches the exchange simulator. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/journal.h"
#include "hedgetrig/tsc.h"
#include "gateway/gw_test_send.h"

#define CLIENT_ID "hedgetrig-armed-test"
#define SECRET "armed-s3cret-x"

static const char *const k_symbols[] = {"BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-27DEC24-60000-C", "ETH-28MAR25",
                                        "SOL_USDC-PERPETUAL"};

/* xorshift64*: the cases are reproducible. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* ---- the label ---- */

static void label_format_and_grammar(void **state)
{
    (void)state;
    char out[HT_FIX_TRIGGER_LABEL_CHARS + 1] = {0};
    ht_fix_format_trigger_label(out, 3, 4711);
    assert_string_equal(out, "t00003.00000000000000004711");
    ht_fix_format_trigger_label(out, UINT16_MAX, UINT64_MAX);
    assert_string_equal(out, "t65535.18446744073709551615");
    uint16_t ch = 0;
    uint64_t sq = 0;
    assert_true(ht_fix_parse_trigger_label(out, strlen(out), &ch, &sq));
    assert_int_equal(ch, UINT16_MAX);
    assert_true(sq == UINT64_MAX);
    assert_true(ht_fix_parse_trigger_label("t3.4711", 7, &ch, &sq));
    assert_int_equal(ch, 3);
    assert_int_equal(sq, 4711);
    static const char *const bad[] = {"", "t", "t.", "t1.", "t.1", "x1.1", "t1.0", "t65536.1", "t000001.1",
                                      "t1.18446744073709551616", "t1.000000000000000000001", "t1.2.3", "t1,2",
                                      "t-1.2", "t1.2 ", "T1.2", "t1.+2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ch = 77;
        sq = 77;
        if (ht_fix_parse_trigger_label(bad[i], strlen(bad[i]), &ch, &sq))
            fail_msg("label '%s' was accepted", bad[i]);
        assert_int_equal(ch, 77);
        assert_int_equal(sq, 77);
    }
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 10000; i++) {
        uint16_t c = (uint16_t)rnd(&s);
        uint64_t q = rnd(&s) >> (rnd(&s) % 64);
        if (!q)
            q = 1;
        ht_fix_format_trigger_label(out, c, q);
        assert_true(ht_fix_parse_trigger_label(out, HT_FIX_TRIGGER_LABEL_CHARS, &ch, &sq));
        assert_int_equal(ch, c);
        assert_true(sq == q);
    }
}

/* ---- one message, checked independently of the parser ---- */

/* BodyLength and CheckSum counted here: the bytes between "9=N<SOH>" and "10=", and their sum with the header's. */
static void check_frame(const char *m, size_t len)
{
    assert_true(len > 20);
    assert_memory_equal(m, "8=FIX.4.4\0019=", 12);
    size_t i = 12, body_len = 0;
    while (m[i] != '\001') {
        assert_true(m[i] >= '0' && m[i] <= '9');
        body_len = body_len * 10 + (size_t)(m[i++] - '0');
    }
    size_t body = i + 1;
    assert_int_equal(body + body_len + 7, len);
    assert_memory_equal(m + body + body_len, "10=", 3);
    unsigned sum = 0;
    for (size_t k = 0; k < body + body_len; k++)
        sum += (unsigned char)m[k];
    char want[4];
    snprintf(want, sizeof want, "%03u", sum % 256);
    assert_memory_equal(m + len - 4, want, 3);
    assert_int_equal(m[len - 1], '\001');
}

static ht_fix_msg parse_ok(const char *m, size_t len)
{
    check_frame(m, len);
    ht_fix_msg msg;
    size_t used = 0;
    ht_error err;
    if (ht_fix_parse(m, len, 0, &msg, &used, &err) != HT_FIX_PARSE_OK)
        fail_msg("parse: %s", err.msg);
    assert_int_equal(used, len);
    return msg;
}

static bool is_timestamp(const char *v, size_t n)
{
    return n == 21 && v[8] == '-' && v[11] == ':' && v[14] == ':' && v[17] == '.';
}

/* a (a plain order) and b (a fired armed one) read back as the same fields in the same order, except: MsgSeqNum,
 * ClOrdID (each a value of its own kind), the times (UTCTimestamps), OrderQty (the same number, possibly padded with
 * trailing zeros). The trigger label, when expected, is checked for its channel and sequence. */
static void expect_same_fields(const char *a, size_t alen, const char *b, size_t blen, const char *head, bool label,
                               uint16_t ch, uint64_t sq)
{
    ht_fix_msg ma = parse_ok(a, alen), mb = parse_ok(b, blen);
    assert_int_equal(ma.n_fields, mb.n_fields);
    for (uint32_t i = 0; i < ma.n_fields; i++) {
        const ht_fix_field *fa = &ma.fields[i], *fb = &mb.fields[i];
        assert_int_equal(fa->tag, fb->tag);
        const char *va = a + fa->off, *vb = b + fb->off;
        switch (fa->tag) {
        case HT_TAG_MSG_SEQ_NUM: {
            uint64_t x;
            assert_true(ht_fix_value_u64(vb, fb->len, &x) && x > 0);
            break;
        }
        case HT_TAG_CL_ORD_ID:
            assert_true(fb->len > strlen(head) && memcmp(vb, head, strlen(head)) == 0 && fb->len <= 64);
            break;
        case HT_TAG_SENDING_TIME:
        case HT_TAG_TRANSACT_TIME:
            assert_true(is_timestamp(va, fa->len) && is_timestamp(vb, fb->len));
            break;
        case HT_TAG_ORDER_QTY: {
            double x, y;
            assert_true(ht_fix_value_double(va, fa->len, &x) && ht_fix_value_double(vb, fb->len, &y));
            if (x != y)
                fail_msg("OrderQty %.*s vs armed %.*s", (int)fa->len, va, (int)fb->len, vb);
            break;
        }
        default:
            if (fa->len != fb->len || memcmp(va, vb, fa->len) != 0)
                fail_msg("tag %u: '%.*s' vs armed '%.*s'", fa->tag, (int)fa->len, va, (int)fb->len, vb);
        }
    }
    const ht_fix_field *l = ht_fix_find(&mb, HT_TAG_DERIBIT_LABEL);
    assert_int_equal(l != NULL, label);
    if (label) {
        uint16_t c;
        uint64_t s;
        assert_true(ht_fix_parse_trigger_label(b + l->off, l->len, &c, &s));
        assert_int_equal(c, ch);
        assert_true(s == sq);
        assert_int_equal(mb.fields[mb.n_fields - 1].tag, HT_TAG_DERIBIT_LABEL); /* the body's last field */
    }
}

/* The encoder alone: for many random orders, fired == encoded with the same sequence number, time and ClOrdID, byte
 * for byte but OrderQty's padding; an adjusted quantity too. */
static void encoder_fire_matches_encode(void **state)
{
    (void)state;
    uint64_t s = 12345;
    for (unsigned dec = 0; dec <= 9; dec++) {
        ht_fix_nos_encoder enc;
        ht_error err;
        assert_int_equal(ht_fix_nos_init(&enc, "HEDGETRIG", "DERIBITSERVER", "ht0ABCDEFGHIJKL-", dec, 2, &err), 0);
        for (int i = 0; i < 400; i++) {
            const char *sym = k_symbols[rnd(&s) % 5];
            char side = rnd(&s) % 2 ? '1' : '2';
            double qty = (double)(1 + rnd(&s) % 500000) / 1000.0;
            double px = (double)(1 + rnd(&s) % 10000000) / 100.0;
            uint64_t seq = 1 + rnd(&s) % 100000000000ull, id = 1 + rnd(&s) % 1000000000000ull;
            uint64_t wall = 1700000000000000000ull + rnd(&s) % 100000000000000000ull;
            uint16_t ch = (uint16_t)rnd(&s);
            uint64_t tseq = i % 5 == 0 ? 0 : 1 + (rnd(&s) >> (rnd(&s) % 63));
            if (!(ht_fix_decimal_on_wire(qty, dec) > 0))
                continue;
            char b1[HT_FIX_NOS_BUFFER_BYTES], b2[HT_FIX_NOS_BUFFER_BYTES];
            size_t l1, l2;
            const char *m1 = ht_fix_encode_nos_trigger(&enc, b1, seq, wall, id, sym, strlen(sym), side, qty, px, ch,
                                                       tseq, &l1);
            assert_non_null(m1);
            ht_fix_armed_nos a;
            assert_int_equal(ht_fix_arm_nos(&enc, &a, sym, strlen(sym), side, qty, px), 0);
            const char *m2 = ht_fix_fire_nos(&enc, &a, b2, seq, wall, id, NULL, ch, tseq, &l2);
            expect_same_fields(m1, l1, m2, l2, "ht0ABCDEFGHIJKL-", tseq != 0, ch, tseq);
            /* An adjusted quantity: fired when it fits the width, equal to an order encoded with it. */
            double q2 = ht_fix_decimal_on_wire((double)(1 + rnd(&s) % 99999) / 100.0, dec);
            char qt[HT_FIX_ARMED_QTY_BYTES];
            int width = q2 > 0 ? ht_fix_armed_qty(&a, q2, qt) : -1;
            if (width >= 0) {
                assert_int_equal(width, a.qty_width);
                m1 = ht_fix_encode_nos_trigger(&enc, b1, seq, wall, id, sym, strlen(sym), side, q2, px, ch, tseq, &l1);
                m2 = ht_fix_fire_nos(&enc, &a, b2, seq, wall, id, qt, ch, tseq, &l2);
                expect_same_fields(m1, l1, m2, l2, "ht0ABCDEFGHIJKL-", tseq != 0, ch, tseq);
            }
        }
    }
}

/* The armed width: "1.50000000" (8 decimals) takes 12.25 and 12345.5, not 123456789.5 nor 0.123456789. */
static void armed_qty_width(void **state)
{
    (void)state;
    ht_fix_nos_encoder enc;
    ht_error err;
    assert_int_equal(ht_fix_nos_init(&enc, "A", "B", "p", 8, 2, &err), 0);
    ht_fix_armed_nos a;
    assert_int_equal(ht_fix_arm_nos(&enc, &a, "BTC-PERPETUAL", 13, '1', 1.5, 100), 0);
    assert_int_equal(a.qty_width, 10);
    assert_memory_equal(a.tail + a.qty_off, "1.50000000\001", 11);
    char q[HT_FIX_ARMED_QTY_BYTES + 1] = {0};
    assert_int_equal(ht_fix_armed_qty(&a, 12.25, q), 10);
    assert_string_equal(q, "12.2500000");
    memset(q, 0, sizeof q);
    assert_int_equal(ht_fix_armed_qty(&a, 12345.5, q), 10);
    assert_string_equal(q, "12345.5000");
    memset(q, 0, sizeof q);
    assert_int_equal(ht_fix_armed_qty(&a, 12345678, q), 10);
    assert_string_equal(q, "12345678.0");
    assert_int_equal(ht_fix_armed_qty(&a, 123456789.5, q), -1);
    assert_int_equal(ht_fix_armed_qty(&a, 123456789, q), -1);
    assert_int_equal(ht_fix_armed_qty(&a, 12345.12345, q), -1);
    assert_int_equal(ht_fix_armed_qty(&a, 0, q), -1);
    assert_int_equal(ht_fix_armed_qty(&a, NAN, q), -1);
    assert_int_equal(ht_fix_nos_init(&enc, "A", "B", "p", 0, 2, &err), 0);
    assert_int_equal(ht_fix_arm_nos(&enc, &a, "BTC-PERPETUAL", 13, '1', 10, 100), 0);
    assert_memory_equal(a.tail + a.qty_off, "10.0\001", 5);
    memset(q, 0, sizeof q);
    assert_int_equal(ht_fix_armed_qty(&a, 7, q), 4);
    assert_string_equal(q, "7.00");
    assert_int_equal(ht_fix_armed_qty(&a, 100, q), -1);
}

/* ---- against the exchange simulator ---- */

typedef struct rig {
    ht_xsim *x;
    ht_gw *gw;
    ht_gw_config c;
    char record[256];
    char sim_log[256];
} rig;

static FILE *g_sim_log;

static ht_xsim *start_sim(const char *record, const char *log)
{
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    snprintf(xc.client_id, sizeof xc.client_id, CLIENT_ID);
    snprintf(xc.client_secret, sizeof xc.client_secret, SECRET);
    xc.default_level_qty = 1e9;
    snprintf(xc.record_path, sizeof xc.record_path, "%s", record);
    g_sim_log = fopen(log, "w");
    assert_non_null(g_sim_log);
    xc.log = g_sim_log;
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    return x;
}

static void pump(ht_gw *gw, int ms)
{
    uint64_t end = ht_mono_ns() + (uint64_t)ms * 1000000u;
    ht_gw_event ev[64];
    while (ht_mono_ns() < end) {
        ht_gw_poll(gw, ev, 64);
        ht_gw_wait(gw, 2);
    }
}

static bool pump_until_active(ht_gw *gw, int ms)
{
    uint64_t end = ht_mono_ns() + (uint64_t)ms * 1000000u;
    ht_gw_event ev[64];
    while (ht_mono_ns() < end) {
        ht_gw_poll(gw, ev, 64);
        if (ht_gw_get_state(gw) == HT_GW_ACTIVE)
            return true;
        ht_gw_wait(gw, 5);
    }
    return false;
}

/* A simulator and a gateway logged on to it; tweak adjusts the config before the gateway is made. */
static void rig_start(rig *r, const char *name, void (*tweak)(ht_gw_config *))
{
    memset(r, 0, sizeof *r);
    snprintf(r->record, sizeof r->record, HT_TEST_TMPDIR "/%s.record", name);
    unlink(r->record);
    snprintf(r->sim_log, sizeof r->sim_log, HT_TEST_TMPDIR "/%s.simlog", name);
    r->x = start_sim(r->record, r->sim_log);
    ht_gw_config *c = &r->c;
    ht_gw_config_default(c);
    test_send_apply(c);
    c->port = ht_xsim_port(r->x);
    snprintf(c->journal_path, sizeof c->journal_path, HT_TEST_TMPDIR "/%s.journal", name);
    snprintf(c->log_path, sizeof c->log_path, HT_TEST_TMPDIR "/%s.log", name);
    unlink(c->journal_path);
    unlink(c->log_path);
    c->reconnect_min_ms = 20;
    c->reconnect_max_ms = 200;
    c->risk.max_orders_per_sec = 100000;
    c->risk.max_notional = 0;
    c->positions = c->trade_capture = false;
    c->account_interval_ms = 0;
    c->rate.me_rate_per_s = c->rate.me_burst = 1e6;
    setenv("HT_DERIBIT_CLIENT_ID", CLIENT_ID, 1);
    setenv("HT_DERIBIT_CLIENT_SECRET", SECRET, 1);
    ht_error err;
    assert_int_equal(ht_gw_secrets_load(c, NULL, &err), 0);
    if (tweak)
        tweak(c);
    r->gw = ht_gw_create(c, &err);
    if (!r->gw)
        fail_msg("ht_gw_create: %s", err.msg);
    assert_true(pump_until_active(r->gw, 5000));
}

static void rig_stop(rig *r)
{
    if (r->gw) {
        assert_true(test_send_used(r->gw)); /* the Logon at least went through the run's send path */
        ht_gw_destroy(r->gw);
    }
    if (r->x) {
        ht_xsim_stop(r->x);
        ht_xsim_destroy(r->x);
        fclose(g_sim_log);
        g_sim_log = NULL;
    }
    r->gw = NULL;
    r->x = NULL;
}

/* The journal's order messages, in order. */
typedef struct orders_seen {
    char (*msg)[HT_FIX_NOS_BUFFER_BYTES];
    size_t *len;
    size_t n, cap;
} orders_seen;

static int on_record(void *user, uint8_t type, const uint8_t *payload, uint32_t len, uint64_t offset, ht_error *err)
{
    (void)offset;
    (void)err;
    orders_seen *o = user;
    if (type != 2 || len < 17 || payload[16] != 'D') /* JREC_OUT of kind 'D' (docs/gateway.md, journal) */
        return 0;
    assert_true(o->n < o->cap && len - 17 < HT_FIX_NOS_BUFFER_BYTES);
    memcpy(o->msg[o->n], payload + 17, len - 17);
    o->len[o->n++] = len - 17;
    return 0;
}

static void read_orders(const char *journal, orders_seen *o)
{
    ht_error err;
    ht_journal_report rep;
    ht_journal *j = ht_journal_open(journal, HT_JOURNAL_FSYNC_NEVER, 100, HT_JOURNAL_TAIL_REFUSE, on_record, o, &rep,
                                    &err);
    if (!j)
        fail_msg("journal: %s", err.msg);
    ht_journal_close(j);
}

static ht_gw_order random_order(uint64_t *s)
{
    ht_gw_order o = {k_symbols[rnd(s) % 5], rnd(s) % 2 ? HT_GW_BUY : HT_GW_SELL,
                     (double)(1 + rnd(s) % 100000) / 1000.0, (double)(1 + rnd(s) % 10000000) / 100.0, 0, 0};
    o.trigger_channel = (uint16_t)rnd(s);
    o.trigger_seq = rnd(s) % 7 == 0 ? 0 : 1 + (rnd(s) >> (rnd(s) % 63));
    return o;
}

/* Many random orders, each sent with ht_gw_send_order and then armed and fired: the journal (the bytes sent) holds
 * pairs that read back alike; the simulator received every label. */
static void fired_orders_match_sent_ones(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "armed_diff", NULL);
    enum { N = 150 };
    uint64_t s = 777;
    ht_gw_order orders[N];
    for (int i = 0; i < N; i++) {
        orders[i] = random_order(&s);
        ht_gw_send_result res;
        assert_int_equal(ht_gw_send_order(r.gw, &orders[i], &res), HT_GW_SENT);
        ht_gw_armed a;
        ht_gw_order plain = orders[i];
        plain.trigger_seq = 0; /* arming ignores the trigger: the fire brings it */
        assert_int_equal(ht_gw_arm_order(r.gw, &plain, &a, &res), HT_GW_SENT);
        assert_true(a.armed);
        assert_int_equal(ht_gw_fire_armed(r.gw, &a, orders[i].qty, orders[i].trigger_channel, orders[i].trigger_seq,
                                          &res), HT_GW_SENT);
        assert_false(a.armed); /* spent */
        assert_true(res.ready_tsc > 0 && res.journaled_tsc >= res.ready_tsc && res.sent_tsc >= res.journaled_tsc);
        assert_int_equal(ht_gw_fire_armed(r.gw, &a, orders[i].qty, 1, 1, &res), HT_GW_ERR_STALE);
        pump(r.gw, 1);
    }
    pump(r.gw, 300);
    char head[64];
    snprintf(head, sizeof head, "%s", ht_gw_clordid_head(r.gw));
    rig_stop(&r);
    static char msgs[2 * N][HT_FIX_NOS_BUFFER_BYTES];
    static size_t lens[2 * N];
    orders_seen seen = {msgs, lens, 0, 2 * N};
    read_orders(r.c.journal_path, &seen);
    assert_int_equal(seen.n, 2 * N);
    for (int i = 0; i < N; i++)
        expect_same_fields(msgs[2 * i], lens[2 * i], msgs[2 * i + 1], lens[2 * i + 1], head,
                           orders[i].trigger_seq != 0, orders[i].trigger_channel, orders[i].trigger_seq);
    /* The simulator's log: every labelled order's label, in order. */
    FILE *f = fopen(r.sim_log, "r");
    assert_non_null(f);
    char line[512];
    int n = 0, want_n = 0;
    for (int i = 0; i < N; i++)
        want_n += orders[i].trigger_seq ? 2 : 0;
    while (fgets(line, sizeof line, f)) {
        const char *l = strstr(line, " DeribitLabel ");
        if (!l)
            continue;
        while (n < 2 * N && !orders[n / 2].trigger_seq)
            n++;
        assert_true(n < 2 * N);
        char want[40];
        const ht_gw_order *o = &orders[n / 2];
        snprintf(want, sizeof want, "t%05u.%020llu\n", o->trigger_channel, (unsigned long long)o->trigger_seq);
        assert_string_equal(l + 14, want);
        n++;
        want_n--;
    }
    fclose(f);
    assert_int_equal(want_n, 0);
}

/* Sends order o and fires a, armed with it, both expected refused by the same rule (or result code): the armed
 * order stays armed. */
static void both_refused(rig *r, const ht_gw_order *o, ht_gw_armed *a, int want_rc, ht_risk_rule rule)
{
    ht_gw_send_result rs, rf;
    int rc_send = ht_gw_send_order(r->gw, o, &rs);
    int rc_fire = ht_gw_fire_armed(r->gw, a, o->qty, 1, 42, &rf);
    if (rc_send != want_rc || rc_fire != want_rc)
        fail_msg("send %d (%s), fire %d (%s), want %d", rc_send, rs.reason, rc_fire, rf.reason, want_rc);
    assert_int_equal(rs.rule, rule);
    assert_int_equal(rf.rule, rule);
    assert_true(a->armed);
}

static ht_gw_armed arm(rig *r, const ht_gw_order *o)
{
    ht_gw_armed a;
    ht_gw_send_result res;
    if (ht_gw_arm_order(r->gw, o, &a, &res) != HT_GW_SENT)
        fail_msg("arm: %s", res.reason);
    return a;
}

static void fire_ok(rig *r, ht_gw_armed *a, double qty)
{
    ht_gw_send_result res;
    int rc = ht_gw_fire_armed(r->gw, a, qty, 2, 43, &res);
    if (rc != HT_GW_SENT)
        fail_msg("fire: %d %s", rc, res.reason);
    assert_false(a->armed);
}

static void tweak_limits(ht_gw_config *c)
{
    c->risk.max_notional = 1000;
    c->risk.notional_interval_ms = 600000;
    c->risk.max_order_qty = 100;
    c->risk.max_position = 50;
    c->risk.collar_bps = 100;
    c->risk.duplicate_window_ms = 60000;
}

/* Every rule of the moment, one at a time: send and fire refused alike, the armed order still armed. */
static void final_gate_refuses_as_send_does(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "armed_gate", tweak_limits);
    /* The collar against the mark of the moment. */
    assert_int_equal(ht_gw_set_mark(r.gw, "ETH-PERPETUAL", 100), 0);
    ht_gw_order o = {"ETH-PERPETUAL", HT_GW_BUY, 1, 100.5, 0, 0};
    ht_gw_armed a = arm(&r, &o);
    assert_int_equal(ht_gw_set_mark(r.gw, "ETH-PERPETUAL", 90), 0);
    both_refused(&r, &o, &a, HT_GW_ERR_RISK, HT_RISK_PRICE_COLLAR);
    assert_int_equal(ht_gw_set_mark(r.gw, "ETH-PERPETUAL", 100), 0);
    fire_ok(&r, &a, 1);
    pump(r.gw, 100);
    /* Duplicates: the same order within the window. */
    a = arm(&r, &o);
    both_refused(&r, &o, &a, HT_GW_ERR_RISK, HT_RISK_DUPLICATE);
    /* max_position against the position and open orders of the moment. */
    ht_gw_order big = {"ETH-PERPETUAL", HT_GW_BUY, 51, 100.2, 0, 0};
    a = arm(&r, &big);
    both_refused(&r, &big, &a, HT_GW_ERR_RISK, HT_RISK_MAX_POSITION);
    /* The notional window: 100.5 sent (a contract of one coin: qty x price) + 9 x 100 reaches 1000. */
    ht_gw_order n9 = {"ETH-PERPETUAL", HT_GW_SELL, 9, 100, 0, 0};
    a = arm(&r, &n9);
    both_refused(&r, &n9, &a, HT_GW_ERR_RISK, HT_RISK_MAX_NOTIONAL);
    fire_ok(&r, &a, 8); /* 8 x 100 fits: the quantity adjusted at the fire */
    pump(r.gw, 100);
    /* The kill switch engaged after arming: refused as a send is, still armed; released: stale. */
    ht_gw_order k = {"BTC-PERPETUAL", HT_GW_SELL, 0.1, 50000, 0, 0};
    a = arm(&r, &k);
    ht_gw_kill(r.gw, "test");
    both_refused(&r, &k, &a, HT_GW_ERR_RISK, HT_RISK_KILL_SWITCH);
    ht_error err;
    assert_int_equal(ht_gw_rearm(r.gw, "test", &err), 0);
    ht_gw_send_result res;
    assert_int_equal(ht_gw_fire_armed(r.gw, &a, 0.1, 1, 1, &res), HT_GW_ERR_STALE);
    assert_false(a.armed);
    assert_string_equal(res.reason, "stale: arm again");
    rig_stop(&r);
}

static void tweak_rate(ht_gw_config *c)
{
    c->risk.max_orders_per_sec = 3;
}

static void tweak_bucket(ht_gw_config *c)
{
    c->rate.me_rate_per_s = 0.01;
    c->rate.me_burst = 3;
    c->rate.reserve = 0;
}

/* The order rate window and the venue's budget: send and fire refused alike. */
static void rate_limits_refuse_fire_as_send(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "armed_rate", tweak_rate);
    uint64_t s = 99;
    ht_gw_order o = random_order(&s);
    ht_gw_armed a = arm(&r, &o);
    ht_gw_send_result res;
    for (int i = 0; i < 3; i++) {
        o.price += 1;
        assert_int_equal(ht_gw_send_order(r.gw, &o, &res), HT_GW_SENT);
    }
    o.price += 1;
    both_refused(&r, &o, &a, HT_GW_ERR_RISK, HT_RISK_MAX_ORDER_RATE);
    rig_stop(&r);

    rig_start(&r, "armed_bucket", tweak_bucket);
    o = random_order(&s);
    a = arm(&r, &o);
    /* The logon took one of the budget's 3: two more orders empty it. */
    int sent = 0;
    while (sent < 5 && ht_gw_send_order(r.gw, &o, &res) == HT_GW_SENT) {
        o.price += 1;
        sent++;
    }
    assert_true(sent >= 1 && sent < 5);
    both_refused(&r, &o, &a, HT_GW_ERR_RATE, HT_RISK_OK);
    rig_stop(&r);
}

/* A session that is not logged on: refused alike (the gateway was never connected, so nothing went stale). */
static void session_down_refuses_fire_as_send(void **state)
{
    (void)state;
    ht_gw_config c;
    ht_gw_config_default(&c);
    c.port = 1; /* nothing listens; the gateway is not polled anyway */
    snprintf(c.journal_path, sizeof c.journal_path, HT_TEST_TMPDIR "/armed_down.journal");
    snprintf(c.log_path, sizeof c.log_path, HT_TEST_TMPDIR "/armed_down.log");
    unlink(c.journal_path);
    snprintf(c.client_id, sizeof c.client_id, "x");
    snprintf(c.client_secret, sizeof c.client_secret, "y");
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);
    rig r = {.gw = gw};
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 10, 50000, 0, 0};
    ht_gw_armed a = arm(&r, &o);
    both_refused(&r, &o, &a, HT_GW_ERR_NOT_READY, HT_RISK_OK);
    /* Another gateway's armed order is stale here. */
    ht_gw_armed other = a;
    other.gw = (const ht_gw *)&other;
    ht_gw_send_result res;
    assert_int_equal(ht_gw_fire_armed(gw, &other, 10, 1, 1, &res), HT_GW_ERR_STALE);
    ht_gw_destroy(gw);
}

static void tweak_qty(ht_gw_config *c)
{
    c->risk.max_order_qty = 1000;
}

/* Stale after set_contract and after a reconnect; an adjusted quantity within the width is sent (the simulator
 * receives it), one outside the width or over max_order_qty is refused and the order stays armed. */
static void staleness_and_adjusted_quantity(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, "armed_stale", tweak_qty);
    ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, 1.5, 50000, 0, 0};
    ht_gw_armed a = arm(&r, &o);
    ht_gw_send_result res;
    ht_error err;
    ht_contract inverse = {HT_CONTRACT_INVERSE, 10};
    assert_int_equal(ht_gw_set_contract(r.gw, "BTC-PERPETUAL", &inverse, &err), 0);
    assert_int_equal(ht_gw_fire_armed(r.gw, &a, 1.5, 1, 1, &res), HT_GW_ERR_STALE);
    assert_false(a.armed);
    a = arm(&r, &o);
    assert_int_equal(ht_gw_fire_armed(r.gw, &a, 999.12345678, 1, 1, &res), HT_GW_ERR_RISK); /* width */
    assert_int_equal(res.rule, HT_RISK_BAD_ORDER);
    assert_non_null(strstr(res.reason, "width"));
    assert_true(a.armed);
    assert_int_equal(ht_gw_fire_armed(r.gw, &a, 1001, 1, 1, &res), HT_GW_ERR_RISK);
    assert_int_equal(res.rule, HT_RISK_MAX_ORDER_QTY);
    assert_int_equal(ht_gw_fire_armed(r.gw, &a, -1, 1, 1, &res), HT_GW_ERR_RISK);
    assert_int_equal(res.rule, HT_RISK_BAD_ORDER);
    assert_true(a.armed);
    assert_int_equal(ht_gw_fire_armed(r.gw, &a, 999.25, 7, 1234567, &res), HT_GW_SENT);
    pump(r.gw, 200);
    /* A reconnect: armed before, stale after. */
    a = arm(&r, &o);
    ht_xsim_debug_disconnect(r.x);
    uint64_t end = ht_mono_ns() + 3000000000ull;
    ht_gw_event ev[16];
    while (ht_gw_get_state(r.gw) == HT_GW_ACTIVE && ht_mono_ns() < end) {
        ht_gw_poll(r.gw, ev, 16);
        ht_gw_wait(r.gw, 2);
    }
    assert_true(pump_until_active(r.gw, 5000));
    assert_int_equal(ht_gw_fire_armed(r.gw, &a, 1.5, 1, 1, &res), HT_GW_ERR_STALE);
    rig_stop(&r);
    FILE *f = fopen(r.record, "r");
    assert_non_null(f);
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, f))
        if (strstr(line, ",BTC-PERPETUAL,1,999.25,"))
            found = true;
    fclose(f);
    assert_true(found);
    found = false;
    f = fopen(r.sim_log, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (strstr(line, " DeribitLabel t00007.00000000000001234567\n"))
            found = true;
    fclose(f);
    assert_true(found);
}

int main(int argc, char **argv)
{
    test_send_from_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_format_and_grammar),
        cmocka_unit_test(encoder_fire_matches_encode),
        cmocka_unit_test(armed_qty_width),
        cmocka_unit_test(fired_orders_match_sent_ones),
        cmocka_unit_test(final_gate_refuses_as_send_does),
        cmocka_unit_test(rate_limits_refuse_fire_as_send),
        cmocka_unit_test(session_down_refuses_fire_as_send),
        cmocka_unit_test(staleness_and_adjusted_quantity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

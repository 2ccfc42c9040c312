/* SPDX-License-Identifier: MIT */
/* Field injection, byte by byte: every byte value 0..255 in every string that becomes a FIX field (Symbol through a
 * live session, CompIDs, ClOrdID prefix, client id and secret through ht_gw_create, the config file and the secrets
 * file, and every string tag through the writer and the order encoder) is either refused where it enters, with an
 * error naming the field, the byte and its offset, or encoded so that Wireshark's FIX dissector (tshark, an
 * independent parser) reads back exactly the intended fields, in order, and nothing else. Orders with a trigger label
 * (DeribitLabel 100010) and armed orders fired with their patches read back the same way. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
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

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/journal.h"
#include "hedgetrig/tsc.h"

#define WALL_NS 1700000000123000000ull
#define WALL_TEXT "20231114-22:13:20.123"
#define ANY_TIME "<time>" /* an expected value that only has to be a UTCTimestamp (a live order's clock) */
#define MAX_FIELDS 24

/* The fields one encoded message must read back as (BeginString, BodyLength and CheckSum aside). */
typedef struct intended {
    char what[64]; /* which case made it, for failure messages */
    int n;
    uint32_t tags[MAX_FIELDS];
    char values[MAX_FIELDS][160];
} intended;

/* Every message the cases encoded, in order, and the hex dump text2pcap turns into one TCP segment each. */
static struct {
    intended *msgs;
    size_t n, cap;
    FILE *hex;
} g;

/* The test value for byte b: "AB" b "CD" (just "AB" for b = 0: a C string ends there). */
static void test_value(unsigned b, char out[6])
{
    snprintf(out, 6, "AB%cCD", (char)b);
}

static void add_field(intended *m, uint32_t tag, const char *value)
{
    assert_true(m->n < MAX_FIELDS);
    m->tags[m->n] = tag;
    snprintf(m->values[m->n], sizeof m->values[0], "%s", value);
    m->n++;
}

/* Records an encoded message and what it must read back as. */
static void expect_message(const char *bytes, size_t len, const intended *want)
{
    if (!g.hex) {
        g.hex = fopen(HT_TEST_TMPDIR "/messages.hex", "w");
        assert_non_null(g.hex);
    }
    for (size_t i = 0; i < len; i += 16) {
        fprintf(g.hex, "%06zx", i);
        for (size_t k = i; k < len && k < i + 16; k++)
            fprintf(g.hex, " %02x", (unsigned char)bytes[k]);
        fputc('\n', g.hex);
    }
    fputc('\n', g.hex);
    if (g.n == g.cap) {
        g.cap = g.cap ? 2 * g.cap : 512;
        g.msgs = realloc(g.msgs, g.cap * sizeof *g.msgs);
        assert_non_null(g.msgs);
    }
    g.msgs[g.n++] = *want;
}

/* The standard header of the messages built here. */
static void header_fields(intended *m, const char *type, const char *sender, const char *target, const char *seq)
{
    add_field(m, 35, type);
    add_field(m, 49, sender);
    add_field(m, 56, target);
    add_field(m, 34, seq);
    add_field(m, 52, WALL_TEXT);
}

/* Asserts that err names the field and the byte at offset 2. */
static void assert_names_byte(const char *err, const char *field, unsigned b)
{
    char byte[40];
    snprintf(byte, sizeof byte, "byte 0x%02X at offset 2", b);
    if (!strstr(err, field) || !strstr(err, byte))
        fail_msg("error '%s' does not name '%s' and '%s'", err, field, byte);
}

/* ---- Symbol through a live session (the reported injection) ---- */

typedef struct sent_order {
    char symbol[16];
    char qty[24], price[24]; /* OrderQty (38) and Price (44) as they must read back */
    char clordid[HT_GW_CLORDID_BYTES];
    char seq[24];
} sent_order;

typedef struct journal_scan {
    const sent_order *orders;
    size_t n_orders, seen;
} journal_scan;

/* Journal replay: every order record's bytes (the bytes sent) become a message to read back. */
static int on_record(void *user, uint8_t type, const uint8_t *payload, uint32_t len, uint64_t offset, ht_error *err)
{
    (void)offset;
    (void)err;
    journal_scan *js = user;
    if (type != 2 || len < 17 || payload[16] != 'D') /* JREC_OUT of kind 'D' (docs/gateway.md, journal) */
        return 0;
    assert_true(js->seen < js->n_orders);
    const sent_order *o = &js->orders[js->seen++];
    intended want = {0};
    snprintf(want.what, sizeof want.what, "session order, Symbol '%s'", o->symbol);
    add_field(&want, 35, "D");
    add_field(&want, 49, "HEDGETRIG");
    add_field(&want, 56, "DERIBITSERVER");
    add_field(&want, 34, o->seq);
    add_field(&want, 52, ANY_TIME);
    add_field(&want, 11, o->clordid);
    add_field(&want, 55, o->symbol);
    add_field(&want, 54, "1");
    add_field(&want, 38, o->qty);
    add_field(&want, 854, "1"); /* QtyType: contracts (docs/units.md) */
    add_field(&want, 40, "2");
    add_field(&want, 44, o->price);
    add_field(&want, 59, "3");
    add_field(&want, 60, ANY_TIME);
    expect_message((const char *)payload + 17, len - 17, &want);
    return 0;
}

/* An exchange simulator with its defaults (any symbol fills around 50000), running on its own thread. */
static ht_xsim *start_sim(void)
{
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    return x;
}

static void symbol_bytes_through_a_session(void **state)
{
    (void)state;
    ht_xsim *x = start_sim();
    ht_error err;
    ht_gw_config c;
    ht_gw_config_default(&c);
    c.port = ht_xsim_port(x);
    snprintf(c.journal_path, sizeof c.journal_path, HT_TEST_TMPDIR "/symbols.journal");
    snprintf(c.log_path, sizeof c.log_path, HT_TEST_TMPDIR "/symbols.log");
    unlink(c.journal_path);
    c.risk.max_orders_per_sec = 0;
    c.risk.max_position = 0;
    c.risk.max_order_qty = 0;
    c.risk.max_notional = 0;
    c.positions = c.trade_capture = false; /* orders alone: tshark reads every one */
    c.account_interval_ms = 0;
    c.rate.me_rate_per_s = c.rate.me_burst = 1e6;
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);
    ht_gw_event ev[64];
    for (uint64_t end = ht_mono_ns() + 20000000000u; ht_gw_get_state(gw) != HT_GW_ACTIVE && ht_mono_ns() < end;) {
        ht_gw_poll(gw, ev, 64);
        ht_gw_wait(gw, 5);
    }
    assert_int_equal(ht_gw_get_state(gw), HT_GW_ACTIVE);
    static sent_order sent[300];
    size_t n_sent = 0;
    for (unsigned b = 0; b < 256; b++) {
        char symbol[6];
        test_value(b, symbol);
        ht_gw_order o = {symbol, HT_GW_BUY, 1, 50010, 0, 0};
        ht_gw_send_result r;
        int rc = ht_gw_send_order(gw, &o, &r);
        bool allowed = b == 0 || ht_fix_byte_allowed(HT_FIX_GRAMMAR_INSTRUMENT, (unsigned char)b);
        /* The other entry points that take a symbol agree. */
        assert_int_equal(ht_gw_set_mark(gw, symbol, 0) == 0, allowed);
        const ht_contract perp = {HT_CONTRACT_INVERSE, 10};
        assert_int_equal(ht_gw_set_contract(gw, symbol, &perp, &err) == 0, allowed);
        if (!allowed)
            assert_names_byte(err.msg, "Symbol (55)", b);
        if (allowed) {
            if (rc != HT_GW_SENT)
                fail_msg("Symbol with byte 0x%02X: not sent: %s", b, r.reason);
            sent_order *s = &sent[n_sent++];
            snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
            snprintf(s->qty, sizeof s->qty, "1");
            snprintf(s->price, sizeof s->price, "50010");
            snprintf(s->clordid, sizeof s->clordid, "%s", r.clordid_text);
            snprintf(s->seq, sizeof s->seq, "%llu", (unsigned long long)r.seq);
        } else {
            if (rc != HT_GW_ERR_RISK || r.rule != HT_RISK_BAD_ORDER)
                fail_msg("Symbol with byte 0x%02X: expected a bad_order refusal, got %d (%s)", b, rc, r.reason);
            assert_names_byte(r.reason, "Symbol (55)", b);
        }
        ht_gw_poll(gw, ev, 64);
    }
    /* Quantities and prices are checked as they are written (8 decimals): what rounds to 0 or cannot be written
     * is refused, the rest reads back as the value the risk rules saw. */
    static const struct {
        double qty, price;
        const char *wire_qty, *wire_price; /* NULL: refused */
    } numbers[] = {
        {1e-9, 50010, NULL, NULL},           {1, 4e-9, NULL, NULL},
        {1e15, 50010, NULL, NULL},           {1, 1e15, NULL, NULL},
        {5e-9, 50010, "0.00000001", "50010"}, {2.123456789, 50000.123456789, "2.12345679", "50000.12345679"},
        {7, 123456789.25, "7", "123456789.25"},
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(numbers); i++) {
        ht_gw_order o = {"BTC-PERPETUAL", HT_GW_BUY, numbers[i].qty, numbers[i].price, 0, 0};
        ht_gw_send_result r;
        int rc = ht_gw_send_order(gw, &o, &r);
        if (!numbers[i].wire_qty) {
            if (rc != HT_GW_ERR_RISK || r.rule != HT_RISK_BAD_ORDER || !strstr(r.reason, "cannot be written"))
                fail_msg("qty %g @ %g: expected a bad_order refusal, got %d (%s)", o.qty, o.price, rc, r.reason);
            continue;
        }
        if (rc != HT_GW_SENT)
            fail_msg("qty %g @ %g: not sent: %s", o.qty, o.price, r.reason);
        sent_order *s = &sent[n_sent++];
        snprintf(s->symbol, sizeof s->symbol, "BTC-PERPETUAL");
        snprintf(s->qty, sizeof s->qty, "%s", numbers[i].wire_qty);
        snprintf(s->price, sizeof s->price, "%s", numbers[i].wire_price);
        snprintf(s->clordid, sizeof s->clordid, "%s", r.clordid_text);
        snprintf(s->seq, sizeof s->seq, "%llu", (unsigned long long)r.seq);
    }
    for (uint64_t end = ht_mono_ns() + 20000000000u; ht_gw_open_orders(gw) && ht_mono_ns() < end;) {
        ht_gw_poll(gw, ev, 64);
        ht_gw_wait(gw, 5);
    }
    assert_int_equal(ht_gw_open_orders(gw), 0);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.orders, n_sent);        /* the venue saw exactly the orders that were sent ... */
    assert_int_equal(st.session_rejects, 0);   /* ... and none it could not read */
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
    journal_scan js = {sent, n_sent, 0};
    ht_journal_report rep;
    ht_journal *j = ht_journal_open(c.journal_path, HT_JOURNAL_FSYNC_NEVER, 100, HT_JOURNAL_TAIL_REFUSE, on_record, &js,
                                    &rep, &err);
    assert_non_null(j);
    ht_journal_close(j);
    assert_int_equal(js.seen, n_sent);
}

/* ---- CompIDs, ClOrdID prefix, client id and secret where they enter ---- */

typedef enum str_field { F_SENDER, F_TARGET, F_PREFIX, F_CLIENT_ID, F_SECRET, F_COUNT } str_field;

static const struct {
    const char *key;       /* its config / secrets key, named by every error */
    ht_fix_grammar grammar;
    bool in_secrets;       /* read from the secrets file, else the [gateway] section */
} k_fields[F_COUNT] = {
    {"sender_comp_id", HT_FIX_GRAMMAR_ID, false}, {"target_comp_id", HT_FIX_GRAMMAR_ID, false},
    {"clordid_prefix", HT_FIX_GRAMMAR_ID, false}, {"client_id", HT_FIX_GRAMMAR_ID, true},
    {"client_secret", HT_FIX_GRAMMAR_SECRET, true},
};

static char *field_of(ht_gw_config *c, str_field f)
{
    switch (f) {
    case F_SENDER: return c->sender_comp_id;
    case F_TARGET: return c->target_comp_id;
    case F_PREFIX: return c->clordid_prefix;
    case F_CLIENT_ID: return c->client_id;
    default: return c->client_secret;
    }
}

/* Encodes what an accepted value reaches: an order for CompIDs and the prefix, a Logon's Username for the client
 * id (the secret only signs: it never reaches the wire). */
static void encode_accepted(const ht_gw_config *c, str_field f, unsigned b)
{
    char buf[HT_FIX_NOS_BUFFER_BYTES];
    intended want = {0};
    snprintf(want.what, sizeof want.what, "%s with byte 0x%02X", k_fields[f].key, b);
    size_t len = 0;
    const char *m = NULL;
    if (f == F_CLIENT_ID) {
        ht_fix_writer w;
        ht_fix_writer_begin(&w, buf, sizeof buf, "A");
        ht_fix_put_str(&w, 49, c->sender_comp_id);
        ht_fix_put_str(&w, 56, c->target_comp_id);
        ht_fix_put_u64(&w, 34, 1);
        ht_fix_put_time(&w, 52, WALL_NS);
        ht_fix_put_u64(&w, 98, 0);
        ht_fix_put_str(&w, 553, c->client_id);
        m = ht_fix_writer_finish(&w, &len);
        header_fields(&want, "A", c->sender_comp_id, c->target_comp_id, "1");
        add_field(&want, 98, "0");
        add_field(&want, 553, c->client_id);
    } else if (f != F_SECRET) {
        ht_fix_nos_encoder enc;
        ht_error err;
        assert_int_equal(ht_fix_nos_init(&enc, c->sender_comp_id, c->target_comp_id, c->clordid_prefix, 8, 8, &err), 0);
        m = ht_fix_encode_nos(&enc, buf, 7, WALL_NS, 42, "BTC-PERPETUAL", 13, '2', 3, 50000.5, &len);
        char clordid[32];
        snprintf(clordid, sizeof clordid, "%s42", c->clordid_prefix);
        header_fields(&want, "D", c->sender_comp_id, c->target_comp_id, "7");
        add_field(&want, 11, clordid);
        add_field(&want, 55, "BTC-PERPETUAL");
        add_field(&want, 54, "2");
        add_field(&want, 38, "3");
        add_field(&want, 854, "1"); /* QtyType: contracts (docs/units.md) */
        add_field(&want, 40, "2");
        add_field(&want, 44, "50000.5");
        add_field(&want, 59, "3");
        add_field(&want, 60, WALL_TEXT);
    }
    if (f != F_SECRET) {
        assert_non_null(m);
        expect_message(m, len, &want);
    }
}

/* A config or secrets file holding key = "AB" b "CD" on its second line. */
static const char *write_file(str_field f, unsigned b)
{
    const char *path = k_fields[f].in_secrets ? HT_TEST_TMPDIR "/bytes.secrets" : HT_TEST_TMPDIR "/bytes.conf";
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    if (k_fields[f].in_secrets)
        fprintf(out, "# generated\n%s = AB%cCD\n%s\n", k_fields[f].key, (char)b,
                f == F_SECRET ? "client_id = client" : "client_secret = secret");
    else
        fprintf(out, "[gateway]\n%s = AB%cCD\n", k_fields[f].key, (char)b);
    fclose(out);
    chmod(path, 0600);
    return path;
}

/* The same byte through the config or secrets file: refused naming file:2, the key and the byte, or loaded as is.
 * The file's own syntax is the exception: '#' starts a comment in the config ("AB" is loaded), a newline ends the
 * line (the rest is a line of its own, an error) and a NUL byte is an error. */
static void check_file(str_field f, unsigned b, bool allowed)
{
    const char *path = write_file(f, b);
    ht_gw_config c;
    ht_gw_config_default(&c);
    ht_error err = {{0}};
    int rc = k_fields[f].in_secrets ? ht_gw_secrets_load(&c, path, &err) : ht_gw_config_load(&c, path, &err);
    char value[6];
    test_value(b, value);
    if (b == '#' && !k_fields[f].in_secrets) {
        assert_int_equal(rc, 0);
        assert_string_equal(field_of(&c, f), "AB");
    } else if (b == 0 || b == '\n') {
        if (rc == 0)
            fail_msg("%s with byte 0x%02X in %s was accepted as '%s'", k_fields[f].key, b, path, field_of(&c, f));
    } else if (allowed) {
        if (rc != 0)
            fail_msg("%s with byte 0x%02X refused: %s", k_fields[f].key, b, err.msg);
        assert_string_equal(field_of(&c, f), value);
    } else {
        if (rc == 0)
            fail_msg("%s with byte 0x%02X in %s was accepted as '%s'", k_fields[f].key, b, path, field_of(&c, f));
        assert_non_null(strstr(err.msg, ":2"));
        assert_names_byte(err.msg, k_fields[f].key, b);
    }
}

static void config_strings_every_byte(void **state)
{
    (void)state;
    for (str_field f = 0; f < F_COUNT; f++) {
        for (unsigned b = 0; b < 256; b++) {
            bool allowed = b == 0 || ht_fix_byte_allowed(k_fields[f].grammar, (unsigned char)b);
            ht_gw_config c;
            ht_gw_config_default(&c);
            snprintf(c.journal_path, sizeof c.journal_path, HT_TEST_TMPDIR "/create.journal");
            c.journal_fsync = HT_JOURNAL_FSYNC_NEVER;
            snprintf(c.log_path, sizeof c.log_path, HT_TEST_TMPDIR "/create.log");
            if (f == F_SECRET)
                snprintf(c.client_id, sizeof c.client_id, "client");
            char value[6];
            test_value(b, value);
            snprintf(field_of(&c, f), 6, "%s", value);
            ht_error err = {{0}};
            unlink(c.journal_path);
            ht_gw *gw = ht_gw_create(&c, &err);
            if (allowed) {
                if (!gw)
                    fail_msg("%s with byte 0x%02X refused by ht_gw_create: %s", k_fields[f].key, b, err.msg);
                ht_gw_destroy(gw);
                encode_accepted(&c, f, b);
            } else {
                if (gw)
                    fail_msg("%s with byte 0x%02X accepted by ht_gw_create", k_fields[f].key, b);
                assert_names_byte(err.msg, k_fields[f].key, b);
                if (f == F_SECRET)
                    if (strstr(err.msg, "'AB"))
                        fail_msg("the secret shows in: %s", err.msg); /* a secret's bytes are never shown */
            }
            check_file(f, b, allowed);
        }
    }
}

/* ---- the encoders themselves ---- */

/* Every string tag the gateway and the simulator write: the writer refuses a value it cannot encode as exactly
 * one field, whoever calls it. */
static void writer_every_tag_every_byte(void **state)
{
    (void)state;
    static const uint32_t tags[] = {11, 37, 17, 41, 49, 55, 56, 58, 96, 112, 372, 553, 554};
    for (size_t t = 0; t < HT_ARRAY_LEN(tags); t++) {
        for (unsigned b = 0; b < 256; b++) {
            char value[6];
            test_value(b, value);
            char buf[256];
            ht_fix_writer w;
            ht_fix_writer_begin(&w, buf, sizeof buf, "0");
            ht_fix_put_str(&w, 49, "HEDGETRIG");
            ht_fix_put_str(&w, 56, "DERIBITSERVER");
            ht_fix_put_u64(&w, 34, 9);
            ht_fix_put_time(&w, 52, WALL_NS);
            ht_fix_put_str(&w, tags[t], value);
            ht_fix_put_str(&w, 58, "after");
            size_t len;
            const char *m = ht_fix_writer_finish(&w, &len);
            if (b != 0 && (b < 0x20 || b > 0x7E)) {
                if (m)
                    fail_msg("tag %u with byte 0x%02X was encoded", tags[t], b);
                assert_int_equal(w.refused_tag, tags[t]);
                continue;
            }
            if (!m)
                fail_msg("tag %u with byte 0x%02X refused", tags[t], b);
            intended want = {0};
            snprintf(want.what, sizeof want.what, "writer tag %u with byte 0x%02X", tags[t], b);
            header_fields(&want, "0", "HEDGETRIG", "DERIBITSERVER", "9");
            add_field(&want, tags[t], value);
            add_field(&want, 58, "after");
            expect_message(m, len, &want);
        }
    }
    /* An empty value and tag 0 are refused too (neither parses back as the field). */
    char buf[256];
    ht_fix_writer w;
    size_t len;
    ht_fix_writer_begin(&w, buf, sizeof buf, "0");
    ht_fix_put_str(&w, 58, "");
    assert_null(ht_fix_writer_finish(&w, &len));
    ht_fix_writer_begin(&w, buf, sizeof buf, "0");
    ht_fix_put_str(&w, 0, "x");
    assert_null(ht_fix_writer_finish(&w, &len));
}

/* The order encoder re-checks the symbol itself (bytes given with their length, NUL included). */
static void order_encoder_every_symbol_byte(void **state)
{
    (void)state;
    ht_fix_nos_encoder enc;
    ht_error err;
    assert_int_equal(ht_fix_nos_init(&enc, "HEDGETRIG", "DERIBITSERVER", "ht", 8, 8, &err), 0);
    for (unsigned b = 0; b < 256; b++) {
        char symbol[5] = {'A', 'B', (char)b, 'C', 'D'};
        char buf[HT_FIX_NOS_BUFFER_BYTES];
        size_t len;
        const char *m = ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, symbol, sizeof symbol, '1', 2, 100, &len);
        if (!ht_fix_byte_allowed(HT_FIX_GRAMMAR_INSTRUMENT, (unsigned char)b)) {
            if (m)
                fail_msg("the order encoder encoded Symbol byte 0x%02X", b);
            continue;
        }
        assert_non_null(m);
        intended want = {0};
        snprintf(want.what, sizeof want.what, "order encoder Symbol byte 0x%02X", b);
        header_fields(&want, "D", "HEDGETRIG", "DERIBITSERVER", "5");
        add_field(&want, 11, "ht77");
        char text[6] = {'A', 'B', (char)b, 'C', 'D', 0};
        add_field(&want, 55, text);
        add_field(&want, 54, "1");
        add_field(&want, 38, "2");
        add_field(&want, 854, "1"); /* QtyType: contracts (docs/units.md) */
        add_field(&want, 40, "2");
        add_field(&want, 44, "100");
        add_field(&want, 59, "3");
        add_field(&want, 60, WALL_TEXT);
        expect_message(m, len, &want);
    }
    char buf[HT_FIX_NOS_BUFFER_BYTES];
    size_t len;
    assert_null(ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, "", 0, '1', 2, 100, &len));
    assert_null(ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 32, '1', 2, 100, &len));
    assert_null(ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, "BTC-PERPETUAL", 13, '3', 2, 100, &len));
    /* Nor a quantity or price it would write as 0, or could not write at all. */
    assert_null(ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, "BTC-PERPETUAL", 13, '1', 1e-9, 100, &len));
    assert_null(ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, "BTC-PERPETUAL", 13, '1', 1, 4e-9, &len));
    assert_null(ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, "BTC-PERPETUAL", 13, '1', 1e15, 100, &len));
    assert_null(ht_fix_encode_nos(&enc, buf, 5, WALL_NS, 77, "BTC-PERPETUAL", 13, '1', 1, INFINITY, &len));
    ht_fix_writer w;
    ht_fix_writer_begin(&w, buf, sizeof buf, "8");
    ht_fix_put_decimal(&w, 38, 1e11, 8); /* 1e19 once scaled: past what a uint64 holds */
    assert_null(ht_fix_writer_finish(&w, &len));
    assert_int_equal(w.refused_tag, 38);
}

/* The fields of an order encoded by ht_fix_encode_nos_trigger or fired armed (seq 5, WALL_NS, ClOrdID ht77). */
static void order_fields(intended *want, const char *symbol, char side, const char *qty, const char *px,
                         uint16_t channel, uint64_t trigger_seq)
{
    header_fields(want, "D", "HEDGETRIG", "DERIBITSERVER", "5");
    add_field(want, 11, "ht77");
    add_field(want, 55, symbol);
    add_field(want, 54, side == '1' ? "1" : "2");
    add_field(want, 38, qty);
    add_field(want, 854, "1");
    add_field(want, 40, "2");
    add_field(want, 44, px);
    add_field(want, 59, "3");
    add_field(want, 60, WALL_TEXT);
    if (trigger_seq) {
        char label[40];
        snprintf(label, sizeof label, "t%05u.%020llu", channel, (unsigned long long)trigger_seq);
        add_field(want, 100010, label);
    }
}

/* Orders with a trigger label, plain and armed then fired (the quantity as armed or adjusted): tshark reads the
 * same fields, the armed OrderQty padded with trailing zeros to its width (docs/gateway.md "Armed orders"). */
static void armed_orders_and_labels(void **state)
{
    (void)state;
    ht_fix_nos_encoder enc;
    ht_error err;
    assert_int_equal(ht_fix_nos_init(&enc, "HEDGETRIG", "DERIBITSERVER", "ht", 8, 8, &err), 0);
    static const struct {
        const char *symbol;
        char side;
        double qty;
        const char *qty_text, *px_text;
        double px, fire_qty;
        uint16_t channel;
        uint64_t seq;
    } cases[] = {
        {"BTC-PERPETUAL", '1', 1.5, "1.5", "50000.5", 50000.5, 1.5, 3, 4711},
        {"ETH-28MAR25", '2', 12, "12", "3000", 3000, 12.25, 0, 1},
        {"SOL_USDC-PERPETUAL", '1', 0.001, "0.001", "150.25", 150.25, 0.001, 65535, UINT64_MAX},
        {"BTC-27DEC24-60000-C", '2', 250, "250", "0.0125", 0.0125, 99999.5, 7, 0},
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        char buf[HT_FIX_NOS_BUFFER_BYTES];
        size_t len;
        const char *sym = cases[i].symbol;
        const char *m = ht_fix_encode_nos_trigger(&enc, buf, 5, WALL_NS, 77, sym, strlen(sym), cases[i].side,
                                                  cases[i].qty, cases[i].px, cases[i].channel, cases[i].seq, &len);
        assert_non_null(m);
        intended want = {0};
        snprintf(want.what, sizeof want.what, "labelled order %zu", i);
        order_fields(&want, sym, cases[i].side, cases[i].qty_text, cases[i].px_text, cases[i].channel,
                     cases[i].seq);
        expect_message(m, len, &want);
        ht_fix_armed_nos a;
        assert_int_equal(ht_fix_arm_nos(&enc, &a, sym, strlen(sym), cases[i].side, cases[i].qty, cases[i].px), 0);
        /* The armed width: the whole digits, the point, 8 decimals; an adjusted quantity fills it. */
        char armed_qty[40], whole[40];
        int whole_digits = snprintf(whole, sizeof whole, "%.0f", floor(cases[i].qty));
        int width = whole_digits + 1 + 8;
        int fire_whole = snprintf(whole, sizeof whole, "%.0f", floor(cases[i].fire_qty));
        snprintf(armed_qty, sizeof armed_qty, "%.*f", width - fire_whole - 1, cases[i].fire_qty);
        char qty_text[HT_FIX_ARMED_QTY_BYTES];
        assert_int_equal(ht_fix_armed_qty(&a, cases[i].fire_qty, qty_text), a.qty_width);
        m = ht_fix_fire_nos(&enc, &a, buf, 5, WALL_NS, 77, cases[i].fire_qty != cases[i].qty ? qty_text : NULL,
                            cases[i].channel, cases[i].seq, &len);
        intended fired = {0};
        snprintf(fired.what, sizeof fired.what, "armed order %zu fired", i);
        order_fields(&fired, sym, cases[i].side, armed_qty, cases[i].px_text, cases[i].channel, cases[i].seq);
        expect_message(m, len, &fired);
    }
}

/* ---- what the exchange simulator echoes back ---- */

/* A raw client of the simulator: frames bodies by hand, so it can send any byte the parser lets through. */
typedef struct raw_client {
    int fd;
    uint64_t seq;
    char rx[1 << 16];
    size_t rx_len;
} raw_client;

/* Sends fields (separated by SOH, ending with SOH) after the standard header from sender to target. */
static void raw_send_as(raw_client *rc, const char *sender, const char *target, const char *type, const char *fields,
                        size_t fields_len)
{
    char body[512], msg[640];
    int head = snprintf(body, sizeof body, "35=%s\00149=%s\00156=%s\00134=%llu\00152=" WALL_TEXT "\001", type, sender,
                        target, (unsigned long long)rc->seq++);
    assert_true(head > 0 && (size_t)head + fields_len < sizeof body);
    memcpy(body + head, fields, fields_len);
    size_t body_len = (size_t)head + fields_len;
    int n = snprintf(msg, sizeof msg, "8=FIX.4.4\0019=%zu\001", body_len);
    memcpy(msg + n, body, body_len);
    size_t len = (size_t)n + body_len;
    len += (size_t)snprintf(msg + len, sizeof msg - len, "10=%03u\001", ht_fix_checksum(msg, len));
    assert_int_equal(send(rc->fd, msg, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* A raw client's message to the simulator. */
static void raw_send(raw_client *rc, const char *type, const char *fields, size_t fields_len)
{
    raw_send_as(rc, "RAWCLIENT", "DERIBITSERVER", type, fields, fields_len);
}

/* The next complete message in rc's buffer from *off (advanced past it), or NULL when none is complete yet. Every
 * byte of it must be printable ASCII or SOH: what who sends can never carry another field or a control byte. */
static const ht_fix_msg *raw_next(raw_client *rc, size_t *off, const char *who)
{
    static ht_fix_msg m;
    size_t used;
    ht_error err;
    ht_fix_parse_status st = ht_fix_parse(rc->rx + *off, rc->rx_len - *off, 0, &m, &used, &err);
    if (st == HT_FIX_PARSE_INCOMPLETE)
        return NULL;
    if (st != HT_FIX_PARSE_OK)
        fail_msg("%s sent a malformed message: %s", who, err.msg);
    for (size_t i = 0; i < m.len; i++)
        if (m.buf[i] != '\001' && ((unsigned char)m.buf[i] < 0x20 || (unsigned char)m.buf[i] > 0x7E))
            fail_msg("%s sent byte 0x%02X", who, (unsigned char)m.buf[i]);
    *off += used;
    return &m;
}

/* Drops the first off bytes of rc's buffer (the messages read). */
static void raw_consume(raw_client *rc, size_t off)
{
    memmove(rc->rx, rc->rx + off, rc->rx_len - off);
    rc->rx_len -= off;
}

/* Reads the simulator's messages until a Heartbeat answering TestRequest id arrives; calls check on each. Every
 * byte it sends is checked first: printable ASCII or SOH, nothing else. */
static void raw_until_heartbeat(raw_client *rc, const char *id, void (*check)(const ht_fix_msg *, void *), void *user)
{
    uint64_t end = ht_mono_ns() + 20000000000u;
    for (;;) {
        size_t off = 0;
        for (const ht_fix_msg *m; (m = raw_next(rc, &off, "the simulator"));) {
            if (strcmp(m->msg_type, "0") == 0 && ht_fix_field_is(m, 112, id)) {
                raw_consume(rc, off);
                return;
            }
            check(m, user);
        }
        raw_consume(rc, off);
        if (ht_mono_ns() > end)
            fail_msg("no Heartbeat answering TestRequest %s", id);
        struct pollfd p = {rc->fd, POLLIN, 0};
        poll(&p, 1, 100);
        ssize_t n = recv(rc->fd, rc->rx + rc->rx_len, sizeof rc->rx - rc->rx_len, MSG_DONTWAIT);
        if (n == 0)
            fail_msg("the simulator closed the connection");
        if (n > 0)
            rc->rx_len += (size_t)n;
    }
}

/* What one probe of the simulator expects: an echo of value in tag, or a Reject (35=3) naming tag. */
typedef struct probe {
    uint32_t tag;
    char value[8];
    bool allowed;
    int echoes, rejects, others;
} probe;

static void check_answer(const ht_fix_msg *m, void *user)
{
    probe *p = user;
    if (strcmp(m->msg_type, "3") == 0) {
        uint64_t ref = 0, reason = 0;
        assert_true(ht_fix_get_u64(m, 371, &ref) && ht_fix_get_u64(m, 373, &reason));
        assert_int_equal(ref, p->tag);
        assert_int_equal(reason, 6);
        p->rejects++;
    } else if (ht_fix_find(m, p->tag)) {
        if (!ht_fix_field_is(m, p->tag, p->value))
            fail_msg("the simulator echoed tag %u as something else than '%s'", p->tag, p->value);
        p->echoes++;
    } else {
        p->others++;
    }
}

/* Every byte in the Symbol, ClOrdID and TestReqID the simulator echoes back: echoed exactly (it fits the field's
 * grammar) or answered with a Reject naming the tag (373=6); nothing it sends holds a byte outside printable
 * ASCII besides SOH. */
static void simulator_echoes_only_what_it_can_encode(void **state)
{
    (void)state;
    ht_xsim *x = start_sim();
    static raw_client rc;
    rc.fd = socket(AF_INET, SOCK_STREAM, 0);
    rc.seq = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons(ht_xsim_port(x))};
    assert_int_equal(connect(rc.fd, (struct sockaddr *)&a, sizeof a), 0);
    raw_send(&rc, "A", "98=0\001108=30\001", 12);
    static const struct {
        uint32_t tag;
        ht_fix_grammar grammar;
    } fields[] = {{55, HT_FIX_GRAMMAR_INSTRUMENT}, {11, HT_FIX_GRAMMAR_ID}, {112, HT_FIX_GRAMMAR_TEXT}};
    for (size_t f = 0; f < HT_ARRAY_LEN(fields); f++) {
        for (unsigned b = 1; b < 256; b++) {
            if (b == 1)
                continue; /* SOH ends the value: what follows is another field, the parser's business */
            probe p = {fields[f].tag, {'A', 'B', (char)b, 'C', 'D', 0}, ht_fix_byte_allowed(fields[f].grammar, (unsigned char)b),
                       0, 0, 0};
            char body[128];
            size_t len;
            if (fields[f].tag == 112) {
                len = (size_t)snprintf(body, sizeof body, "112=%s\001", p.value);
                raw_send(&rc, "1", body, len);
            } else {
                char clordid[16], symbol[16];
                if (fields[f].tag == 11)
                    snprintf(clordid, sizeof clordid, "%s", p.value);
                else
                    snprintf(clordid, sizeof clordid, "sym%u", b);
                snprintf(symbol, sizeof symbol, "%s", fields[f].tag == 55 ? p.value : "BTC-PERPETUAL");
                len = (size_t)snprintf(body, sizeof body, "11=%s\00155=%s\00154=1\00138=1\00140=2\00144=50010\001"
                                       "59=3\00160=" WALL_TEXT "\001", clordid, symbol);
                raw_send(&rc, "D", body, len);
            }
            char id[16];
            snprintf(id, sizeof id, "probe%zu-%u", f, b);
            len = (size_t)snprintf(body, sizeof body, "112=%s\001", id);
            raw_send(&rc, "1", body, len);
            raw_until_heartbeat(&rc, id, check_answer, &p);
            if (p.allowed ? p.echoes == 0 || p.rejects : p.rejects != 1 || p.echoes)
                fail_msg("tag %u with byte 0x%02X: %d echoes, %d rejects", p.tag, b, p.echoes, p.rejects);
        }
    }
    close(rc.fd);
    ht_xsim_destroy(x);
}

/* ---- what the gateway takes from the venue ---- */

/* A scripted venue in the test's thread: the gateway connects to it, it answers the Logon, then sends what the
 * case says. Its bodies are framed by hand (raw_send), so they may hold any byte the FIX parser lets through. */
typedef struct raw_venue {
    int listen_fd;
    raw_client peer; /* the accepted connection, with the venue's outbound sequence */
    ht_gw *gw;
    int bad, exec, texts_checked;
    char last_text[256];
} raw_venue;

/* Polls the gateway (waiting up to ms milliseconds for its socket first), counting its events; every event's
 * strings must be printable. */
static void venue_pump(raw_venue *v, int ms)
{
    ht_gw_event ev[64];
    ht_gw_wait(v->gw, ms);
    for (int round = 0; round < 2; round++) {
        int n = ht_gw_poll(v->gw, ev, 64);
        for (int i = 0; i < n; i++) {
            const char *strings[] = {ev[i].text, ev[i].clordid, ev[i].order_id, ev[i].exec_id, ev[i].symbol};
            for (size_t k = 0; k < HT_ARRAY_LEN(strings); k++)
                for (const char *c = strings[k]; *c; c++)
                    if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E)
                        fail_msg("a gateway event holds byte 0x%02X: '%s'", (unsigned char)*c, strings[k]);
            v->bad += ev[i].type == HT_GW_EV_BAD_MESSAGE;
            v->exec += ev[i].type == HT_GW_EV_EXEC;
            if (ev[i].type == HT_GW_EV_EXEC)
                snprintf(v->last_text, sizeof v->last_text, "%s", ev[i].text);
        }
    }
}

/* What the gateway sent the venue since the last call: every byte printable ASCII or SOH; the messages' types and
 * RefTagIDs are counted into rejects_of_tag (35=3 naming tag) and heartbeats_with (35=0 with 112=id). */
static void venue_read(raw_venue *v, uint32_t tag, const char *id, int *rejects_of_tag, int *heartbeats_with)
{
    raw_client *rc = &v->peer;
    ssize_t got;
    while ((got = recv(rc->fd, rc->rx + rc->rx_len, sizeof rc->rx - rc->rx_len, MSG_DONTWAIT)) > 0)
        rc->rx_len += (size_t)got;
    size_t off = 0;
    for (const ht_fix_msg *m; (m = raw_next(rc, &off, "the gateway"));) {
        uint64_t ref = 0;
        if (strcmp(m->msg_type, "3") == 0 && ht_fix_get_u64(m, 371, &ref) && ref == tag)
            (*rejects_of_tag)++;
        if (strcmp(m->msg_type, "0") == 0 && id && ht_fix_field_is(m, 112, id))
            (*heartbeats_with)++;
    }
    raw_consume(rc, off);
}

/* Sends the venue's message (from DERIBITSERVER to HEDGETRIG) with fields[0..len) after the header. */
static void venue_send(raw_venue *v, const char *type, const char *fields, size_t len)
{
    raw_send_as(&v->peer, "DERIBITSERVER", "HEDGETRIG", type, fields, len);
}

/* The gateway against a hostile venue: every byte 2..255 in a TestReqID it must echo (echoed exactly, or a Reject
 * naming 112), in an ExecutionReport's Text (shown with '?' for what is not printable), and Symbols of a report
 * about no order of ours that are not instrument names or do not fit (rejected naming 55, never booked). */
static void gateway_takes_from_the_venue_only_what_it_can_show(void **state)
{
    (void)state;
    static raw_venue v;
    memset(&v, 0, sizeof v);
    v.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(v.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(v.listen_fd, (struct sockaddr *)&a, &al);
    listen(v.listen_fd, 1);
    ht_gw_config c;
    ht_gw_config_default(&c);
    c.port = ntohs(a.sin_port);
    snprintf(c.journal_path, sizeof c.journal_path, HT_TEST_TMPDIR "/venue.journal");
    snprintf(c.log_path, sizeof c.log_path, HT_TEST_TMPDIR "/venue.log");
    unlink(c.journal_path);
    c.positions = c.trade_capture = false; /* the scripted venue answers the session and orders only */
    c.account_interval_ms = 0;
    ht_error err;
    v.gw = ht_gw_create(&c, &err);
    assert_non_null(v.gw);
    venue_pump(&v, 0); /* connects */
    v.peer.fd = accept(v.listen_fd, NULL, NULL);
    assert_true(v.peer.fd >= 0);
    v.peer.seq = 1;
    for (int k = 0; k < 2000 && ht_gw_get_state(v.gw) != HT_GW_LOGON_SENT; k++)
        venue_pump(&v, 10);
    int rejects = 0, heartbeats = 0;
    usleep(20000);
    venue_read(&v, 0, NULL, &rejects, &heartbeats); /* the Logon */
    venue_send(&v, "A", "98=0\001108=30\001", 12);
    for (int k = 0; k < 2000 && ht_gw_get_state(v.gw) != HT_GW_ACTIVE; k++)
        venue_pump(&v, 10);
    assert_int_equal(ht_gw_get_state(v.gw), HT_GW_ACTIVE);
    for (unsigned b = 2; b < 256; b++) {
        char value[6] = {'A', 'B', (char)b, 'C', 'D', 0}, fields[128], id[8];
        snprintf(id, sizeof id, "%s", value);
        size_t len = (size_t)snprintf(fields, sizeof fields, "112=%s\001", value);
        venue_send(&v, "1", fields, len);
        len = (size_t)snprintf(fields, sizeof fields, "37=X%u\00117=E%u\001150=0\00139=0\00154=1\00155=BTC-PERPETUAL\001"
                               "58=%s\001", b, b, value);
        venue_send(&v, "8", fields, len);
        int exec_before = v.exec;
        rejects = heartbeats = 0;
        for (int k = 0; k < 4000 && (rejects + heartbeats == 0 || v.exec == exec_before); k++) {
            venue_pump(&v, 5);
            venue_read(&v, 112, id, &rejects, &heartbeats);
        }
        bool printable = b >= 0x20 && b <= 0x7E;
        if (printable ? heartbeats != 1 || rejects : rejects != 1 || heartbeats)
            fail_msg("TestReqID with byte 0x%02X: %d heartbeats echoing it, %d rejects of 112", b, heartbeats, rejects);
        assert_int_equal(v.exec, exec_before + 1);
        char shown[6] = {'A', 'B', printable ? (char)b : '?', 'C', 'D', 0};
        if (strcmp(v.last_text, shown) != 0)
            fail_msg("Text with byte 0x%02X reached the event as '%s', expected '%s'", b, v.last_text, shown);
    }
    /* Reports about no order of ours: a Symbol that is not an instrument name, or one too long to keep, is
     * rejected and books nothing; a valid one is booked on its own instrument. */
    static const char *const symbols[] = {"BTC\033[2J", "btc-perpetual", "BTC-PERPETUAL-AND-A-SUFFIX-LONGER-THAN-31"};
    for (size_t i = 0; i < HT_ARRAY_LEN(symbols); i++) {
        char fields[160];
        size_t len = (size_t)snprintf(fields, sizeof fields, "37=Y%zu\00117=F%zu\001150=F\00139=2\00154=1\00155=%s\001"
                                      "32=5\00131=100\00114=5\001", i, i, symbols[i]);
        venue_send(&v, "8", fields, len);
        rejects = heartbeats = 0;
        int bad_before = v.bad;
        for (int k = 0; k < 4000 && rejects == 0; k++) {
            venue_pump(&v, 5);
            venue_read(&v, 55, NULL, &rejects, &heartbeats);
        }
        if (rejects != 1 || v.bad != bad_before + 1)
            fail_msg("report with Symbol '%s': %d rejects of 55, %d bad-message events", symbols[i], rejects,
                     v.bad - bad_before);
    }
    assert_true(ht_gw_position(v.gw, "BTC-PERPETUAL-AND-A-SUFFIX-LONG") == 0); /* never truncated onto another */
    static const char eth[] = "37=Z\00117=G\001150=F\00139=2\00154=1\00155=ETH-PERPETUAL\00132=5\00131=100\00114=5\001";
    venue_send(&v, "8", eth, sizeof eth - 1);
    for (int k = 0; k < 2000 && ht_gw_position(v.gw, "ETH-PERPETUAL") == 0; k++)
        venue_pump(&v, 10);
    assert_true(ht_gw_position(v.gw, "ETH-PERPETUAL") == 5);
    ht_gw_destroy(v.gw);
    close(v.peer.fd);
    close(v.listen_fd);
}

/* ---- the independent reader ---- */

/* Decodes hex text into bytes; returns the count. */
static size_t unhex(const char *hex, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < n && k < cap; i += 2) {
        unsigned v;
        if (sscanf(hex + i, "%2x", &v) != 1)
            break;
        out[k++] = (char)v;
    }
    return k;
}

/* True when value is a UTCTimestamp with milliseconds. */
static bool is_time(const char *v)
{
    return strlen(v) == 21 && v[8] == '-' && v[11] == ':' && v[14] == ':' && v[17] == '.';
}

/* Compares one message tshark decoded with what was intended. */
static void compare(size_t index, const intended *want, int n, const uint32_t *tags, char (*values)[160], int good)
{
    if (good != 1)
        fail_msg("message %zu (%s): tshark did not find a good CheckSum", index, want->what);
    if (n != want->n)
        fail_msg("message %zu (%s): tshark read %d fields, %d were intended", index, want->what, n, want->n);
    for (int i = 0; i < n; i++) {
        bool same_value = strcmp(want->values[i], ANY_TIME) == 0 ? is_time(values[i])
                                                                  : strcmp(values[i], want->values[i]) == 0;
        if (tags[i] != want->tags[i] || !same_value)
            fail_msg("message %zu (%s): field %d read as %u='%s', intended %u='%s'", index, want->what, i, tags[i],
                     values[i], want->tags[i], want->values[i]);
    }
}

/* Runs text2pcap and tshark over every message the cases above recorded and compares field by field. */
static void tshark_reads_back_every_message(void **state)
{
    (void)state;
    assert_true(g.n > 0);
    fclose(g.hex);
    g.hex = NULL;
    if (system("command -v text2pcap >/dev/null && command -v tshark >/dev/null") != 0)
        fail_msg("text2pcap and tshark are needed (apt-get install tshark): the read-back cannot be skipped");
    assert_int_equal(system("text2pcap -q -T 40000,9881 " HT_TEST_TMPDIR "/messages.hex " HT_TEST_TMPDIR
                            "/messages.pcap"), 0);
    FILE *p = popen("tshark -r " HT_TEST_TMPDIR "/messages.pcap -d tcp.port==9881,fix -T pdml 2>/dev/null", "r");
    assert_non_null(p);
    static char line[8192];
    static uint32_t tags[MAX_FIELDS * 2];
    static char values[MAX_FIELDS * 2][160];
    size_t packet = 0;
    int n = 0, good = 0;
    bool in_packet = false;
    while (fgets(line, sizeof line, p)) {
        if (strstr(line, "<packet>")) {
            in_packet = true;
            n = 0;
            good = 0;
            continue;
        }
        if (strstr(line, "</packet>")) {
            if (packet >= g.n)
                fail_msg("tshark decoded more packets than the %zu messages written", g.n);
            compare(packet, &g.msgs[packet], n, tags, values, good);
            packet++;
            in_packet = false;
            continue;
        }
        const char *f = strstr(line, "<field name=\"fix.");
        if (!f) { /* a tag the dissector has no name for (DeribitLabel 100010): a nameless field, "TAG: value" */
            f = strstr(line, "<field name=\"\" show=\"");
            if (f && !(f[21] >= '1' && f[21] <= '9'))
                f = NULL;
        }
        if (!in_packet || !f || strncmp(f, "<field name=\"fix.field.", 23) == 0) /* (and its tag and value parts) */
            continue;
        if (strncmp(f, "<field name=\"fix.checksum_good\"", 31) == 0) {
            good += strstr(f, "show=\"1\"") != NULL;
            continue;
        }
        const char *v = strstr(f, " value=\"");
        if (strncmp(f, "<field name=\"fix.checksum_", 26) == 0 || !v)
            continue;
        v += 8;
        const char *end = strchr(v, '"');
        assert_non_null(end);
        char raw[400];
        size_t len = unhex(v, (size_t)(end - v), raw, sizeof raw - 1);
        raw[len] = '\0';
        char *eq = memchr(raw, '=', len);
        assert_non_null(eq);
        uint32_t tag = (uint32_t)strtoul(raw, NULL, 10);
        if (tag == 8 || tag == 9 || tag == 10)
            continue;
        if (n == (int)HT_ARRAY_LEN(tags))
            fail_msg("message %zu (%s): tshark read too many fields", packet, g.msgs[packet].what);
        size_t vlen = len - (size_t)(eq + 1 - raw);
        if (vlen && raw[len - 1] == '\001')
            vlen--;
        tags[n] = tag;
        snprintf(values[n], sizeof values[0], "%.*s", (int)vlen, eq + 1);
        n++;
    }
    assert_int_equal(pclose(p), 0);
    if (packet != g.n)
        fail_msg("tshark decoded %zu messages, %zu were written", packet, g.n);
    print_message("tshark read back %zu messages field by field\n", g.n);
    free(g.msgs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(symbol_bytes_through_a_session),
        cmocka_unit_test(config_strings_every_byte),
        cmocka_unit_test(writer_every_tag_every_byte),
        cmocka_unit_test(order_encoder_every_symbol_byte),
        cmocka_unit_test(armed_orders_and_labels),
        cmocka_unit_test(simulator_echoes_only_what_it_can_encode),
        cmocka_unit_test(gateway_takes_from_the_venue_only_what_it_can_show),
        cmocka_unit_test(tshark_reads_back_every_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

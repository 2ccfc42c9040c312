/* SPDX-License-Identifier: MIT */
/* Every pre-trade risk rule trips on an order built to break it (and only then); the journal replays what was
 * written, detects a truncated or corrupt tail and refuses or cuts it as configured. */
#include <fcntl.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/gateway.h"
#include "hedgetrig/journal.h"
#include "hedgetrig/risk.h"

#define MS 1000000ull

/* Limits with every rule on, wide enough that the base order passes. */
static ht_risk *make_risk(void)
{
    ht_risk_limits l = {.max_order_qty = 100, .max_notional = 1000000, .notional_interval_ms = 1000,
                        .max_position = 250, .collar_bps = 100, .require_mark = true, .max_orders_per_sec = 5,
                        .duplicate_window_ms = 500};
    ht_error err;
    ht_risk *r = ht_risk_create(&l, &err);
    assert_non_null(r);
    assert_int_equal(ht_risk_set_mark(r, "BTC-PERPETUAL", 1000), 0);
    return r;
}

static ht_risk_rule check(ht_risk *r, const char *sym, int side, double qty, double px, double pos, double open,
                          uint64_t t, char *why)
{
    ht_risk_order o = {sym, side, qty, px};
    return ht_risk_check(r, &o, pos, open, t, why, 256);
}

static void each_rule_trips(void **state)
{
    (void)state;
    ht_risk *r = make_risk();
    char why[256];
    const char *s = "BTC-PERPETUAL";
    uint64_t t = 10000 * MS;
    assert_int_equal(check(r, s, 1, 10, 1000, 0, 0, t, why), HT_RISK_OK);
    assert_string_equal(why, "");
    /* max order size */
    assert_int_equal(check(r, s, 1, 100.5, 1000, 0, 0, t, why), HT_RISK_MAX_ORDER_QTY);
    assert_non_null(strstr(why, "max_order_qty"));
    assert_non_null(strstr(why, "buy BTC-PERPETUAL qty 100.5 @ 1000"));
    assert_int_equal(check(r, s, 1, 100, 1000, 0, 0, t, why), HT_RISK_OK);
    /* max absolute position: current + open same side + order */
    assert_int_equal(check(r, s, 1, 60, 1000, 200, 0, t, why), HT_RISK_MAX_POSITION);
    assert_non_null(strstr(why, "max_position"));
    assert_int_equal(check(r, s, 1, 10, 1000, 200, 45, t, why), HT_RISK_MAX_POSITION);
    assert_int_equal(check(r, s, -1, 60, 1000, -200, 0, t, why), HT_RISK_MAX_POSITION);
    assert_int_equal(check(r, s, -1, 60, 1000, 200, 0, t, why), HT_RISK_OK); /* reduces the position */
    /* price collar: 100 bps around mark 1000 */
    assert_int_equal(check(r, s, 1, 1, 1010.5, 0, 0, t, why), HT_RISK_PRICE_COLLAR);
    assert_non_null(strstr(why, "105.0 bps"));
    assert_int_equal(check(r, s, 1, 1, 989, 0, 0, t, why), HT_RISK_PRICE_COLLAR);
    assert_int_equal(check(r, s, 1, 1, 1010, 0, 0, t, why), HT_RISK_OK);
    assert_int_equal(check(r, "ETH-PERPETUAL", 1, 1, 1000, 0, 0, t, why), HT_RISK_NO_MARK);
    /* bad orders */
    assert_int_equal(check(r, s, 1, 0, 1000, 0, 0, t, why), HT_RISK_BAD_ORDER);
    assert_int_equal(check(r, s, 1, 1, -5, 0, 0, t, why), HT_RISK_BAD_ORDER);
    assert_int_equal(check(r, s, 0, 1, 1000, 0, 0, t, why), HT_RISK_BAD_ORDER);
    assert_int_equal(check(r, "", 1, 1, 1000, 0, 0, t, why), HT_RISK_BAD_ORDER);
    ht_risk_destroy(r);
}

static void rate_notional_and_duplicates_use_windows(void **state)
{
    (void)state;
    ht_risk *r = make_risk();
    char why[256];
    const char *s = "BTC-PERPETUAL";
    uint64_t t = 10000 * MS;
    /* duplicate guard: the same order within 500 ms */
    ht_risk_order o = {s, 1, 10, 1000};
    ht_risk_commit(r, &o, t);
    assert_int_equal(check(r, s, 1, 10, 1000, 0, 0, t + 499 * MS, why), HT_RISK_DUPLICATE);
    assert_non_null(strstr(why, "duplicate_order"));
    assert_int_equal(check(r, s, -1, 10, 1000, 0, 0, t + 499 * MS, why), HT_RISK_OK);
    assert_int_equal(check(r, s, 1, 10, 1000, 0, 0, t + 501 * MS, why), HT_RISK_OK);
    /* max orders per second: 5 in any 1 s */
    for (int i = 1; i < 5; i++) {
        ht_risk_order oi = {s, 1, (double)i, 1000};
        ht_risk_commit(r, &oi, t + (uint64_t)i * 100 * MS);
    }
    assert_int_equal(check(r, s, 1, 7, 1000, 0, 0, t + 900 * MS, why), HT_RISK_MAX_ORDER_RATE);
    assert_non_null(strstr(why, "max_orders_per_sec"));
    assert_int_equal(check(r, s, 1, 7, 1000, 0, 0, t + 1001 * MS, why), HT_RISK_OK);
    ht_risk_destroy(r);

    /* max notional per interval: 1,000,000 per 1000 ms */
    r = make_risk();
    ht_risk_order big = {s, 1, 100, 1000}; /* 100,000 each */
    for (int i = 0; i < 4; i++) {
        big.qty = 100 - i;                 /* different orders, so the duplicate guard stays quiet */
        ht_risk_commit(r, &big, t + (uint64_t)i * MS);
    }
    /* 394,000 sent: an order worth 700,000 would pass max_order_qty? 700 > 100: use price instead */
    ht_risk_limits l = {.max_notional = 500000, .notional_interval_ms = 1000};
    ht_error err;
    ht_risk *n = ht_risk_create(&l, &err);
    for (int i = 0; i < 4; i++) {
        ht_risk_order oi = {s, 1, 100, 1000 + i};
        ht_risk_commit(n, &oi, t + (uint64_t)i * MS);
    }
    /* 400,006 sent; another 100,000 exceeds 500,000 */
    assert_int_equal(check(n, s, 1, 100, 1000, 0, 0, t + 10 * MS, why), HT_RISK_MAX_NOTIONAL);
    assert_non_null(strstr(why, "max_notional"));
    assert_int_equal(check(n, s, 1, 99, 1000, 0, 0, t + 10 * MS, why), HT_RISK_OK);
    /* after the interval the window is empty again */
    assert_int_equal(check(n, s, 1, 100, 1000, 0, 0, t + 1005 * MS, why), HT_RISK_OK);
    ht_risk_destroy(n);
    ht_risk_destroy(r);
}

/* The notional rule in USD for inverse (a contract is 10 USD) and linear (a contract is 0.001 BTC, times the
 * price) contracts, checked against one limit; symbols never described count qty x price. */
static void notional_follows_each_contract_kind(void **state)
{
    (void)state;
    ht_risk_limits l = {.max_notional = 1000000, .notional_interval_ms = 60000};
    ht_error err;
    ht_risk *r = ht_risk_create(&l, &err);
    assert_non_null(r);
    char why[256];
    uint64_t t = 5 * MS;
    const ht_contract perp = {HT_CONTRACT_INVERSE, 10.0}, usdc = {HT_CONTRACT_LINEAR, 0.001};
    assert_int_equal(ht_risk_set_contract(r, "BTC-PERPETUAL", &perp, &err), 0);
    assert_int_equal(ht_risk_set_contract(r, "BTC_USDC-PERPETUAL", &usdc, &err), 0);
    /* 90,000 contracts of the inverse perpetual at 60,000 USD: 900,000 USD of notional, not 5.4e9 */
    ht_risk_order inv = {"BTC-PERPETUAL", 1, 90000, 60000};
    assert_int_equal(ht_risk_check(r, &inv, 0, 0, t, why, sizeof why), HT_RISK_OK);
    ht_risk_commit(r, &inv, t);
    /* 1,500 linear contracts of 0.001 BTC at 60,000 USD: 90,000 USD; with the 900,000 it fits, 1,700 does not */
    ht_risk_order lin = {"BTC_USDC-PERPETUAL", -1, 1500, 60000};
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, t + MS, why, sizeof why), HT_RISK_OK);
    lin.qty = 1700;
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, t + MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
    assert_non_null(strstr(why, "102000 USD reaches max_notional"));
    /* a symbol never described counts qty x price: 100,000 is left, so 2 x 60,000 breaks the limit, 1 x 60,000 fits */
    ht_risk_order other = {"BTC-27DEC24", 1, 2, 60000};
    assert_int_equal(ht_risk_check(r, &other, 0, 0, t + MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
    other.qty = 1;
    assert_int_equal(ht_risk_check(r, &other, 0, 0, t + MS, why, sizeof why), HT_RISK_OK);
    /* bad descriptions are refused with the symbol named, and leave the rule as it was */
    const ht_contract zero = {HT_CONTRACT_INVERSE, 0.0}, odd = {(ht_contract_kind)7, 1.0};
    assert_int_equal(ht_risk_set_contract(r, "BTC-PERPETUAL", &zero, &err), -1);
    assert_non_null(strstr(err.msg, "BTC-PERPETUAL"));
    assert_int_equal(ht_risk_set_contract(r, "BTC-PERPETUAL", &odd, &err), -1);
    assert_int_equal(ht_risk_set_contract(r, "A-SYMBOL-NAME-LONGER-THAN-31-CHARS", &usdc, &err), -1);
    assert_non_null(strstr(err.msg, "longer than 31"));
    inv.qty = 9999; /* one contract below the 100,000 USD left: still 10 USD a contract */
    assert_int_equal(ht_risk_check(r, &inv, 0, 0, t + MS, why, sizeof why), HT_RISK_OK);
    /* the window forgets after the interval */
    lin.qty = 1700;
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, t + 60001 * MS, why, sizeof why), HT_RISK_OK);
    ht_risk_destroy(r);
}

/* max_notional trips at exactly its USD limit, for both kinds of contract (docs/units.md): with a limit of
 * 1,000 USD, an inverse contract of 10 USD passes 99 contracts and refuses 100 and 101 (whatever the price);
 * a linear contract of 0.001 BTC at 25,000 USD (25 USD) passes 39 and refuses 40 and 41; after a commit the
 * window counts what was sent, in USD, for the next order of either kind. */
static void notional_trips_at_exactly_the_usd_limit(void **state)
{
    (void)state;
    ht_risk_limits l = {.max_notional = 1000, .notional_interval_ms = 60000};
    ht_error err;
    ht_risk *r = ht_risk_create(&l, &err);
    assert_non_null(r);
    const ht_contract perp = {HT_CONTRACT_INVERSE, 10.0}, usdc = {HT_CONTRACT_LINEAR, 0.001};
    assert_int_equal(ht_risk_set_contract(r, "BTC-PERPETUAL", &perp, &err), 0);
    assert_int_equal(ht_risk_set_contract(r, "BTC_USDC-PERPETUAL", &usdc, &err), 0);
    char why[256];
    const double prices[] = {9.5, 25000, 61234.5};
    for (size_t k = 0; k < 3; k++) {
        ht_risk_order inv = {"BTC-PERPETUAL", k % 2 ? -1 : 1, 99, prices[k]};
        assert_int_equal(ht_risk_check(r, &inv, 0, 0, MS, why, sizeof why), HT_RISK_OK);
        inv.qty = 100;
        assert_int_equal(ht_risk_check(r, &inv, 0, 0, MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
        assert_non_null(strstr(why, "1000 USD reaches max_notional 1000 USD"));
        inv.qty = 101;
        assert_int_equal(ht_risk_check(r, &inv, 0, 0, MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
    }
    ht_risk_order lin = {"BTC_USDC-PERPETUAL", 1, 39, 25000};
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, MS, why, sizeof why), HT_RISK_OK);
    lin.qty = 40;
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
    lin.qty = 41;
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
    /* 500 USD sent on the inverse: 49 inverse contracts or 19 linear ones still pass, 50 or 20 do not */
    ht_risk_order sent = {"BTC-PERPETUAL", 1, 50, 30000};
    ht_risk_commit(r, &sent, 2 * MS);
    ht_risk_order inv = {"BTC-PERPETUAL", 1, 49, 31000};
    assert_int_equal(ht_risk_check(r, &inv, 0, 0, 3 * MS, why, sizeof why), HT_RISK_OK);
    inv.qty = 50;
    assert_int_equal(ht_risk_check(r, &inv, 0, 0, 3 * MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
    lin.qty = 19;
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, 3 * MS, why, sizeof why), HT_RISK_OK);
    lin.qty = 20;
    assert_int_equal(ht_risk_check(r, &lin, 0, 0, 3 * MS, why, sizeof why), HT_RISK_MAX_NOTIONAL);
    ht_risk_destroy(r);
}

static void kill_switch_stops_everything_until_rearmed(void **state)
{
    (void)state;
    ht_risk *r = make_risk();
    char why[256];
    ht_risk_kill(r, "operator said so");
    const char *reason;
    assert_true(ht_risk_killed(r, &reason));
    assert_string_equal(reason, "operator said so");
    assert_int_equal(check(r, "BTC-PERPETUAL", 1, 1, 1000, 0, 0, 1, why), HT_RISK_KILL_SWITCH);
    assert_non_null(strstr(why, "operator said so"));
    ht_risk_rearm(r);
    assert_int_equal(check(r, "BTC-PERPETUAL", 1, 1, 1000, 0, 0, 1, why), HT_RISK_OK);
    ht_risk_destroy(r);
}

static void bad_limits_are_refused(void **state)
{
    (void)state;
    ht_error err;
    ht_risk_limits l;
    ht_risk_limits_default(&l);
    l.max_order_qty = -1;
    assert_null(ht_risk_create(&l, &err));
    assert_non_null(strstr(err.msg, "max_order_qty"));
    ht_risk_limits_default(&l);
    l.max_orders_per_sec = HT_RISK_MAX_RATE + 1;
    assert_null(ht_risk_create(&l, &err));
    assert_non_null(strstr(err.msg, "max_orders_per_sec"));
}

/* ---- journal ---- */

typedef struct seen {
    int n;
    uint8_t types[16];
    char text[16][32];
} seen;

static int collect(void *user, uint8_t type, const uint8_t *payload, uint32_t len, uint64_t offset, ht_error *err)
{
    (void)offset;
    (void)err;
    seen *s = user;
    s->types[s->n] = type;
    snprintf(s->text[s->n], sizeof s->text[0], "%.*s", (int)len, (const char *)payload);
    s->n++;
    return 0;
}

static void journal_replays_and_detects_bad_tails(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/j1";
    unlink(path);
    ht_error err;
    ht_journal *j = ht_journal_open(path, HT_JOURNAL_FSYNC_ALWAYS, 0, HT_JOURNAL_TAIL_REFUSE, NULL, NULL, NULL, &err);
    assert_non_null(j);
    assert_true(ht_journal_append(j, 1, "he", 2, "llo", 3, &err) == 0);
    int64_t second = ht_journal_append(j, 2, "world", 5, NULL, 0, &err);
    assert_true(second == HT_JOURNAL_HEADER_BYTES + 5);
    char back[8] = {0};
    assert_int_equal(ht_journal_read_payload(j, (uint64_t)second, back, 5, &err), 0);
    assert_string_equal(back, "world");
    ht_journal_append(j, 3, "third", 5, NULL, 0, &err);
    uint64_t size = ht_journal_size(j);
    ht_journal_close(j);
    /* The file is 0600. */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    seen s = {0};
    ht_journal_report rep;
    j = ht_journal_open(path, HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_REFUSE, collect, &s, &rep, &err);
    assert_non_null(j);
    ht_journal_close(j);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.text[0], "hello");
    assert_string_equal(s.text[1], "world");
    assert_int_equal(s.types[2], 3);
    assert_int_equal(rep.records, 3);

    /* A torn last record (as a crash mid-write leaves it) is refused with its number and offset... */
    assert_int_equal(truncate(path, (off_t)size - 2), 0);
    memset(&s, 0, sizeof s);
    assert_null(ht_journal_open(path, HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_REFUSE, collect, &s, NULL, &err));
    assert_non_null(strstr(err.msg, "record 3 at offset 36"));
    assert_non_null(strstr(err.msg, "truncated payload"));
    /* ...or cut when asked, keeping the good records and saying so. */
    memset(&s, 0, sizeof s);
    j = ht_journal_open(path, HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_TRUNCATE, collect, &s, &rep, &err);
    assert_non_null(j);
    assert_int_equal(s.n, 2);
    assert_int_equal(rep.dropped_bytes, size - 2 - 36);
    assert_non_null(strstr(rep.warning, "record 3 at offset 36"));
    assert_int_equal(ht_journal_size(j), 36);
    ht_journal_close(j);

    /* A flipped payload byte fails the CRC. */
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 13 + 1), 1);
    close(fd);
    assert_null(ht_journal_open(path, HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_REFUSE, collect, &s, NULL, &err));
    assert_non_null(strstr(err.msg, "record 1 at offset 0"));
    assert_non_null(strstr(err.msg, "CRC-32C"));
    /* Bad arguments. */
    assert_null(ht_journal_open(path, HT_JOURNAL_FSYNC_INTERVAL, 0, HT_JOURNAL_TAIL_REFUSE, NULL, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "interval"));
}

/* A gateway config for the journal at path (A -> B at a port nothing listens on). */
static void gateway_config(ht_gw_config *cfg, const char *path, const char *prefix)
{
    ht_gw_config_default(cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 1;
    snprintf(cfg->sender_comp_id, sizeof cfg->sender_comp_id, "A");
    snprintf(cfg->target_comp_id, sizeof cfg->target_comp_id, "B");
    snprintf(cfg->journal_path, sizeof cfg->journal_path, "%s", path);
    snprintf(cfg->clordid_prefix, sizeof cfg->clordid_prefix, "%s", prefix);
    snprintf(cfg->log_path, sizeof cfg->log_path, "%s", HT_TEST_TMPDIR "/tag.log");
}

/* A gateway on the journal at path (no connection is made before the first poll). */
static ht_gw *gateway_on(const char *path, const char *prefix)
{
    ht_gw_config cfg;
    gateway_config(&cfg, path, prefix);
    ht_error err;
    ht_gw *gw = ht_gw_create(&cfg, &err);
    if (!gw)
        fail_msg("ht_gw_create: %s", err.msg);
    return gw;
}

/* Every fresh journal gets its own ClOrdID session tag (prefix + 12 base-32 characters + '-', Deribit's 64 character
 * limit kept with the longest prefix and number); a restart keeps it; a journal from before tags keeps prefix +
 * number. */
static void clordid_session_tag_per_journal(void **state)
{
    (void)state;
    const char *a = HT_TEST_TMPDIR "/tag_a", *b = HT_TEST_TMPDIR "/tag_b", *old = HT_TEST_TMPDIR "/tag_old";
    unlink(a);
    unlink(b);
    unlink(old);
    ht_gw *ga = gateway_on(a, "ht");
    char head_a[64];
    snprintf(head_a, sizeof head_a, "%s", ht_gw_clordid_head(ga));
    assert_int_equal(strlen(head_a), 2 + 12 + 1);
    assert_memory_equal(head_a, "ht", 2);
    for (size_t i = 2; i < 14; i++)
        assert_non_null(strchr("0123456789abcdefghjkmnpqrstvwxyz", head_a[i]));
    assert_int_equal(head_a[14], '-');
    ht_gw_destroy(ga);
    ht_gw *gb = gateway_on(b, "ht");
    assert_string_not_equal(ht_gw_clordid_head(gb), head_a);
    ht_gw_destroy(gb);
    ga = gateway_on(a, "ht");
    assert_string_equal(ht_gw_clordid_head(ga), head_a);
    ht_gw_destroy(ga);
    /* The longest prefix, tag and a 19-digit number fit Deribit's 64 characters. */
    unlink(b);
    gb = gateway_on(b, "ABCDEFGHIJKLMNO");
    assert_true(strlen(ht_gw_clordid_head(gb)) + 19 <= 64);
    ht_gw_destroy(gb);
    /* A journal whose header has no tag (written before tags existed). */
    ht_error err;
    ht_journal *j = ht_journal_open(old, HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_REFUSE, NULL, NULL, NULL, &err);
    assert_non_null(j);
    assert_true(ht_journal_append(j, 1, "A\0B\0", 4, NULL, 0, &err) == 0);
    ht_journal_close(j);
    ht_gw *go = gateway_on(old, "ht");
    assert_string_equal(ht_gw_clordid_head(go), "ht");
    ht_gw_destroy(go);
}

/* The price collar is on by default (500 bps) whenever a mark is known; an order without a mark passes unless
 * require_mark, which a collar_bps line in the config turns on (a configured collar refuses what it cannot
 * measure) unless the file says require_mark = no. */
static void collar_is_on_by_default_whenever_a_mark_is_known(void **state)
{
    (void)state;
    ht_risk_limits l;
    ht_risk_limits_default(&l);
    assert_true(l.collar_bps == 500);
    assert_false(l.require_mark);
    ht_error err;
    ht_risk *r = ht_risk_create(&l, &err);
    assert_non_null(r);
    char why[256];
    ht_risk_order far = {"BTC-PERPETUAL", 1, 1, 1060}; /* 600 bps above a mark of 1000 */
    assert_int_equal(ht_risk_check(r, &far, 0, 0, 1, why, sizeof why), HT_RISK_OK); /* no mark yet */
    assert_int_equal(ht_risk_set_mark(r, "BTC-PERPETUAL", 1000), 0);
    assert_int_equal(ht_risk_check(r, &far, 0, 0, 1, why, sizeof why), HT_RISK_PRICE_COLLAR);
    assert_non_null(strstr(why, "collar 500 bps"));
    ht_risk_order near = {"BTC-PERPETUAL", 1, 1, 1049};
    assert_int_equal(ht_risk_check(r, &near, 0, 0, 1, why, sizeof why), HT_RISK_OK);
    ht_risk_destroy(r);
    const char *path = HT_TEST_TMPDIR "/collar.conf";
    static const struct {
        const char *text;
        bool require_mark;
    } files[] = {{"[risk]\nmax_order_qty = 5\n", false},
                 {"[risk]\ncollar_bps = 100\n", true},
                 {"[risk]\ncollar_bps = 100\nrequire_mark = no\n", false},
                 {"[risk]\nrequire_mark = no\ncollar_bps = 100\n", false},
                 {"[risk]\nrequire_mark = yes\n", true}};
    for (size_t i = 0; i < HT_ARRAY_LEN(files); i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[i].text, f);
        fclose(f);
        ht_gw_config cfg;
        ht_gw_config_default(&cfg);
        assert_int_equal(ht_gw_config_load(&cfg, path, &err), 0);
        if (cfg.risk.require_mark != files[i].require_mark)
            fail_msg("'%s': require_mark is %d", files[i].text, cfg.risk.require_mark);
    }
}

/* Every gateway holds <journal>.pid, locked: a second gateway on the same journal is refused naming the first's
 * pid; destroy removes it; a stale one (its process gone, the lock with it) is taken over. The process check of
 * `hedgetrig kill --pid` accepts this process only while it holds a pid file and catches SIGUSR1. */
static void pid_file_marks_and_guards_the_journal(void **state)
{
    (void)state;
    const char *journal = HT_TEST_TMPDIR "/pid_j";
    char pid_path[300], held[600], expect[64];
    snprintf(pid_path, sizeof pid_path, "%s.pid", journal);
    unlink(journal);
    unlink(pid_path);
    ht_error err;
    assert_int_equal(ht_gw_check_process((int)getpid(), held, sizeof held, &err), -1);
    assert_non_null(strstr(err.msg, "is not a hedgetrig gateway: it holds no locked hedgetrig gateway pid file"));
    ht_gw *first = gateway_on(journal, "ht");
    assert_string_equal(ht_gw_pid_file(first), pid_path);
    assert_int_equal(ht_gw_pid_file_holder(pid_path, &err), (int)getpid());
    FILE *f = fopen(pid_path, "r");
    char line[128] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    snprintf(expect, sizeof expect, "hedgetrig-gateway %d ", (int)getpid());
    assert_memory_equal(line, expect, strlen(expect));
    /* A second gateway on the journal, in this process too. */
    ht_gw_config cfg;
    gateway_config(&cfg, journal, "ht");
    assert_null(ht_gw_create(&cfg, &err));
    snprintf(expect, sizeof expect, "in use by another gateway (pid %d holds", (int)getpid());
    assert_non_null(strstr(err.msg, expect));
    /* Holding the file is not enough for a signal: the process must catch SIGUSR1. */
    assert_int_equal(ht_gw_check_process((int)getpid(), held, sizeof held, &err), -1);
    assert_non_null(strstr(err.msg, "does not catch SIGUSR1"));
    assert_int_equal(ht_gw_kill_on_signal(SIGUSR1), 0);
    assert_int_equal(ht_gw_check_process((int)getpid(), held, sizeof held, &err), 0);
    assert_string_equal(held, pid_path);
    signal(SIGUSR1, SIG_DFL);
    ht_gw_destroy(first);
    assert_int_equal(access(pid_path, F_OK), -1);
    assert_int_equal(ht_gw_pid_file_holder(pid_path, &err), -1);
    assert_non_null(strstr(err.msg, "no gateway runs on this journal"));
    /* A stale file (as a SIGKILLed gateway leaves it): reported as stale, then taken over. */
    f = fopen(pid_path, "w");
    fprintf(f, "hedgetrig-gateway 4194000 12345\n");
    fclose(f);
    assert_int_equal(ht_gw_pid_file_holder(pid_path, &err), -1);
    assert_non_null(strstr(err.msg, "stale pid file"));
    assert_non_null(strstr(err.msg, "(pid 4194000) has ended"));
    ht_gw *again = gateway_on(journal, "ht");
    assert_int_equal(ht_gw_pid_file_holder(pid_path, &err), (int)getpid());
    ht_gw_destroy(again);
    /* A symbolic link where the pid file goes is refused, and what it points to is left alone. */
    const char *target = HT_TEST_TMPDIR "/pid_target";
    f = fopen(target, "w");
    fputs("precious\n", f);
    fclose(f);
    assert_int_equal(symlink(target, pid_path), 0);
    assert_null(ht_gw_create(&cfg, &err));
    assert_non_null(strstr(err.msg, "is a symbolic link: refused"));
    f = fopen(target, "r");
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "precious\n");
    unlink(pid_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_rule_trips),
        cmocka_unit_test(collar_is_on_by_default_whenever_a_mark_is_known),
        cmocka_unit_test(rate_notional_and_duplicates_use_windows),
        cmocka_unit_test(notional_follows_each_contract_kind),
        cmocka_unit_test(notional_trips_at_exactly_the_usd_limit),
        cmocka_unit_test(kill_switch_stops_everything_until_rearmed),
        cmocka_unit_test(bad_limits_are_refused),
        cmocka_unit_test(journal_replays_and_detects_bad_tails),
        cmocka_unit_test(clordid_session_tag_per_journal),
        cmocka_unit_test(pid_file_marks_and_guards_the_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

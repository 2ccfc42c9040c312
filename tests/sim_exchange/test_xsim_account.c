/* SPDX-License-Identifier: MIT */
/* The exchange simulator as the venue of the live book, over real FIX sessions of a raw client: the account's
 * positions (AN/AP snapshot and updates, an update after the ExecutionReports that caused it), its figures (BE/BF
 * against a hand-worked inverse P&L), trade capture of the script's fill, liquidation and settle (AD/AQ/AE, each
 * marked, each before its position update), the script's disconnect, and the rate limits (the 21st order of a
 * tier-4 burst gets too_many_requests 10028 and the session ends). Messages are read back with the shared codec
 * (hedgetrig/fix_account.h). */
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
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/fix_account.h"
#include "hedgetrig/tsc.h"
#include "fix_client.h"

#define OPTION "BTC-29DEC23-40000-C"
#define PERP "BTC-PERPETUAL"

/* The simulator with the standalone book around 50000 and the perpetual's contract (inverse, 10 USD). */
static ht_xsim *start_sim(const ht_xsim_config *cfg)
{
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    if (cfg)
        xc = *cfg;
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_set_contract(x, PERP, &(ht_contract){HT_CONTRACT_INVERSE, 10}, &err), 0);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    return x;
}

/* The entry of symbol in the last Position Report read, or NULL. */
static const ht_fix_position *entry_of(const ht_fix_position_report *r, const char *symbol)
{
    for (unsigned i = 0; i < r->n; i++)
        if (!strcmp(r->pos[i].symbol, symbol))
            return &r->pos[i];
    return NULL;
}

/* The account over one session: the seeded position in the snapshot (marked a snapshot by TotalNumPosReports),
 * a fill's update after its ExecutionReports, a position set from outside, and the figures in BF equal to a
 * hand-worked inverse P&L: 100 contracts of 10 USD bought at the ask 50000.5 and sold at the bid 49999.5 realise
 * 1000 x (1/50000.5 - 1/49999.5) coin, less 5 bps of fees on each side's 1000 USD. */
static void positions_and_figures_over_a_session(void **state)
{
    (void)state;
    ht_xsim *x = start_sim(NULL);
    ht_error err;
    assert_int_equal(ht_xsim_set_position(x, OPTION, -5, &err), 0);
    assert_int_equal(ht_xsim_set_position(x, "btc-bad", 1, &err), -1);
    assert_int_equal(ht_xsim_set_position(x, PERP, NAN, &err), -1);
    static client c;
    client_logon(&c, ht_xsim_port(x));
    client_send(&c, "AN", "710=snap1|724=0|263=1|");
    assert_true(client_expect(&c, "AP", NULL, 0));
    static ht_fix_position_report r;
    assert_int_equal(ht_fix_parse_position_report(&c.m, &r, &err), 0);
    assert_string_equal(r.pos_req_id, "snap1");
    assert_int_equal(r.total_num_pos_reports, 1);
    assert_int_equal(r.n, 1);
    assert_true(ht_fix_position_contracts(entry_of(&r, OPTION)) == -5);

    char seen[256] = "";
    client_send(&c, "D", "11=o1|55=" PERP "|54=1|38=100|40=2|44=60000|59=3|");
    assert_true(client_expect(&c, "AP", seen, sizeof seen));
    assert_string_equal(seen, "8 8 AP "); /* New, Trade, then the position */
    assert_int_equal(ht_fix_parse_position_report(&c.m, &r, &err), 0);
    assert_string_equal(r.pos_req_id, "snap1");
    assert_int_equal(r.total_num_pos_reports, -1); /* an update */
    assert_true(ht_fix_position_contracts(entry_of(&r, PERP)) == 100);
    assert_true(fabs(entry_of(&r, PERP)->avg_px - 50000.5) < 1e-6);
    assert_null(entry_of(&r, OPTION)); /* unchanged: not in the update */
    assert_true(ht_xsim_position(x, PERP) == 100);

    seen[0] = '\0';
    client_send(&c, "D", "11=o2|55=" PERP "|54=2|38=100|40=2|44=40000|59=3|");
    assert_true(client_expect(&c, "AP", seen, sizeof seen));
    assert_string_equal(seen, "8 8 AP ");
    assert_int_equal(ht_fix_parse_position_report(&c.m, &r, &err), 0);
    assert_true(ht_fix_position_contracts(entry_of(&r, PERP)) == 0); /* flat: still reported, it changed */

    assert_int_equal(ht_xsim_set_position(x, OPTION, 3, &err), 0); /* from outside: an update all the same */
    assert_true(client_expect(&c, "AP", NULL, 0));
    assert_int_equal(ht_fix_parse_position_report(&c.m, &r, &err), 0);
    assert_true(ht_fix_position_contracts(entry_of(&r, OPTION)) == 3);

    client_send(&c, "BE", "923=u1|924=4|553=RAWCLIENT|");
    assert_true(client_expect(&c, "BF", NULL, 0));
    ht_fix_user_response u;
    assert_int_equal(ht_fix_parse_user_response(&c.m, &u, &err), 0);
    assert_string_equal(u.user_request_id, "u1");
    double realised = 1000 * (1 / 50000.5 - 1 / 49999.5);
    double fees = 1000 * 5e-4 / 50000.5 + 1000 * 5e-4 / 49999.5;
    assert_true(fabs(u.balance - (10 + realised - fees)) < 1e-8);
    assert_true(fabs(u.equity - u.balance) < 1e-8); /* the long option has no mark yet: no P&L */
    assert_true(u.initial_margin == 0 && u.maintenance_margin == 0); /* flat perpetual, a long option */
    ht_xsim_set_mark(x, PERP, 50000);
    assert_int_equal(ht_xsim_set_position(x, PERP, -2000, &err), 0); /* 20,000 USD short at 50000: 0.4 coin */
    ht_xsim_account a;
    ht_xsim_account_get(x, &a);
    assert_true(fabs(a.initial_margin_coin - 0.02 * 0.4) < 1e-12);
    assert_true(fabs(a.maintenance_margin_coin - 0.01 * 0.4) < 1e-12);

    client_send(&c, "AN", "710=bad id|724=0|263=1|"); /* a PosReqID outside the id grammar */
    assert_true(client_expect(&c, "j", NULL, 0));
    close(c.fd);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_true(st.position_reports >= 4 && st.user_responses == 1);
    assert_int_equal(st.me_changes, 2); /* two IOCs filled in full */
    assert_true(st.volume_contracts == 200);
    ht_xsim_destroy(x);
}

/* Reads the next Trade Capture Report and then the position update it caused; checks the report. */
static void expect_trade_then_position(client *c, const char *symbol, char side, double qty, double px, int trd_type,
                                       double position_after)
{
    char seen[128] = "";
    assert_true(client_expect(c, "AE", seen, sizeof seen));
    assert_string_equal(seen, "AE ");
    ht_fix_trade_report t;
    ht_error err;
    assert_int_equal(ht_fix_parse_trade_report(&c->m, &t, &err), 0);
    assert_string_equal(t.symbol, symbol);
    assert_int_equal(t.side, side);
    assert_true(fabs(t.last_qty - qty) < 1e-9);
    assert_true(fabs(t.last_px - px) < 1e-9);
    assert_int_equal(t.trd_type, trd_type);
    assert_false(t.previously_reported);
    assert_true(client_expect(c, "AP", NULL, 0));
    static ht_fix_position_report r;
    assert_int_equal(ht_fix_parse_position_report(&c->m, &r, &err), 0);
    assert_non_null(entry_of(&r, symbol));
    assert_true(fabs(ht_fix_position_contracts(entry_of(&r, symbol)) - position_after) < 1e-9);
}

/* Each kind of the script over a session, on a clock the test drives: another session's fill (a regular AE), a
 * liquidation (TrdType 1000), the option's settlement at 50,000 (TrdType 1001 at its intrinsic value
 * (50000-40000)/50000 = 0.2 coin; the position gone), then a disconnect; after the reconnect the snapshot holds
 * what the events left and AD's snapshot reports them again (PreviouslyReported). */
static void script_kinds_over_a_session(void **state)
{
    (void)state;
    static const char script_text[] = "time_s,kind,instrument,qty,price\n"
                                      "1.0,fill," OPTION ",-2,0.05   # another desk sells\n"
                                      "2.0,liquidation," PERP ",-1000,49000\n"
                                      "3.0,settle," OPTION ",,50000\n"
                                      "4.0,disconnect,,,\n";
    ht_error err;
    ht_xsim_script *s = ht_xsim_script_parse(script_text, sizeof script_text - 1, "day.csv", &err);
    assert_non_null(s);
    assert_int_equal(s->n_events, 4);
    ht_xsim *x = start_sim(NULL);
    assert_int_equal(ht_xsim_set_script(x, s, &err), 0);
    ht_xsim_script_destroy(s);
    assert_int_equal(ht_xsim_set_position(x, OPTION, 10, &err), 0);
    const uint64_t t0 = 1700000000ull * 1000000000ull;
    ht_xsim_set_clock(x, t0); /* time_s 0 */
    static client c;
    client_logon(&c, ht_xsim_port(x));
    client_send(&c, "AN", "710=p1|724=0|263=1|");
    assert_true(client_expect(&c, "AP", NULL, 0));
    client_send(&c, "AD", "568=t1|569=0|263=1|");
    assert_true(client_expect(&c, "AQ", NULL, 0));
    assert_int_equal(client_next(&c, 200), 0); /* nothing happened yet: no trade, no update */

    ht_xsim_set_clock(x, t0 + 1000000000u);
    expect_trade_then_position(&c, OPTION, '2', 2, 0.05, HT_FIX_TRD_REGULAR, 8);
    ht_xsim_set_clock(x, t0 + 2500000000u);
    expect_trade_then_position(&c, PERP, '2', 1000, 49000, HT_FIX_TRD_LIQUIDATION, -1000);
    ht_xsim_set_clock(x, t0 + 3000000000u);
    expect_trade_then_position(&c, OPTION, '2', 8, 0.2, HT_FIX_TRD_SETTLEMENT, 0);
    ht_xsim_set_clock(x, t0 + 4000000000u);
    int r;
    while ((r = client_next(&c, 5000)) == 1) {
    }
    assert_int_equal(r, -1); /* dropped */
    close(c.fd);

    client_logon(&c, ht_xsim_port(x));
    client_send(&c, "AN", "710=p2|724=0|263=0|");
    assert_true(client_expect(&c, "AP", NULL, 0));
    static ht_fix_position_report pr;
    assert_int_equal(ht_fix_parse_position_report(&c.m, &pr, &err), 0);
    assert_int_equal(pr.n, 1);
    assert_true(ht_fix_position_contracts(entry_of(&pr, PERP)) == -1000);
    client_send(&c, "AD", "568=t2|569=0|263=0|");
    assert_true(client_expect(&c, "AQ", NULL, 0));
    int previously = 0;
    ht_fix_trade_report t;
    while (client_next(&c, 300) == 1 && !strcmp(c.m.msg_type, "AE")) {
        assert_int_equal(ht_fix_parse_trade_report(&c.m, &t, &err), 0);
        previously += t.previously_reported;
    }
    assert_int_equal(previously, 3);
    close(c.fd);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.script_events, 4);
    assert_int_equal(st.logons, 2);
    /* The option, seeded long 10 without a mark, is carried at the first trade's 0.05: the fill of -2 realises
     * nothing, the settlement of the other 8 at 0.2 realises 8 x 0.15 = 1.2 coin. The liquidated perpetual is
     * still open, marked at its trade: no P&L. */
    ht_xsim_account a;
    ht_xsim_account_get(x, &a);
    assert_true(fabs(a.realised_pnl_coin - 1.2) < 1e-12);
    assert_true(fabs(a.unrealised_pnl_coin) < 1e-12);
    assert_true(fabs(a.equity_coin - 11.2) < 1e-12);
    assert_int_equal(a.positions, 1);
    ht_xsim_destroy(x);
}

/* Standalone, the script's clock is the time since the first logon: an event at 0.3 s reaches a session that
 * subscribed right after logging on, not before. */
static void standalone_script_clock_starts_at_the_first_logon(void **state)
{
    (void)state;
    ht_error err;
    static const char text[] = "0.3,fill," PERP ",25,50000\n";
    ht_xsim_script *s = ht_xsim_script_parse(text, sizeof text - 1, "t.csv", &err);
    assert_non_null(s);
    ht_xsim *x = start_sim(NULL);
    assert_int_equal(ht_xsim_set_script(x, s, &err), 0);
    ht_xsim_script_destroy(s);
    usleep(500000); /* no logon yet: the clock has not started */
    assert_true(ht_xsim_position(x, PERP) == 0);
    static client c;
    uint64_t logon_ns = ht_mono_ns();
    client_logon(&c, ht_xsim_port(x));
    client_send(&c, "AD", "568=t|569=0|263=1|");
    assert_true(client_expect(&c, "AQ", NULL, 0));
    assert_true(client_expect(&c, "AE", NULL, 0));
    assert_true(ht_mono_ns() - logon_ns >= 300000000u);
    ht_fix_trade_report t;
    assert_int_equal(ht_fix_parse_trade_report(&c.m, &t, &err), 0);
    assert_true(t.last_qty == 25 && t.side == '1' && !t.previously_reported);
    assert_true(ht_xsim_position(x, PERP) == 25);
    close(c.fd);
    ht_xsim_destroy(x);
}

/* Deribit's rate limits, tier 4 (5 a second, a burst of 20), on a clock that stands still: 20 orders pass, the
 * 21st gets a Reject and a Logout naming too_many_requests (10028), and the connection closes. Each order (a buy
 * at 1000 under a book at 50000, cancelled in full) counts 2 matching-engine changes for no volume. */
static void rate_limit_ends_the_session_with_10028(void **state)
{
    (void)state;
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    ht_error err;
    assert_int_equal(ht_rate_config_tier(&xc.rate, "tier4", &err), 0);
    xc.rate.enforce = true;
    ht_xsim *x = start_sim(&xc);
    ht_xsim_set_clock(x, 1000000000000ull);
    static client c;
    client_logon(&c, ht_xsim_port(x));
    char extra[128];
    for (int i = 0; i < 25; i++) {
        snprintf(extra, sizeof extra, "11=r%d|55=" PERP "|54=1|38=1|40=2|44=1000|59=3|", i);
        client_send(&c, "D", extra);
    }
    bool rejected = false, logout = false;
    int r;
    while ((r = client_next(&c, 5000)) == 1) {
        char text[256] = "";
        ht_fix_get_str(&c.m, HT_TAG_TEXT, text, sizeof text);
        if (!strcmp(c.m.msg_type, "3"))
            rejected = strstr(text, "10028") && strstr(text, "too_many_requests");
        if (!strcmp(c.m.msg_type, "5"))
            logout = rejected && strstr(text, "10028");
    }
    assert_int_equal(r, -1);
    assert_true(rejected);
    assert_true(logout);
    close(c.fd);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.orders, 20);
    assert_int_equal(st.rate_violations, 1);
    assert_int_equal(st.me_changes, 40);
    assert_true(st.volume_contracts == 0);
    ht_xsim_destroy(x);
}

/* The script parser: a good file (BOM, header, comments, blank lines, CRLF, spaces, an empty settle quantity) and
 * hostile lines, each refused naming the file, the line and what was expected. */
static void script_parser_accepts_and_refuses(void **state)
{
    (void)state;
    static const char good[] = "\xEF\xBB\xBF# a day\r\nTIME_S,Kind,instrument,QTY,price\r\n\r\n"
                               " 0 , fill , " PERP " , 10.5 , 50000\r\n"
                               "0,liquidation," PERP ",-1e3,49000.5\n"
                               "1.5,settle," OPTION ",,45000\n"
                               "1.5,settle," OPTION ",-2,45000\n"
                               "2,disconnect,,,   # and back\n";
    ht_error err;
    ht_xsim_script *s = ht_xsim_script_parse(good, sizeof good - 1, "good.csv", &err);
    assert_non_null(s);
    assert_int_equal(s->n_events, 5);
    assert_int_equal(s->events[0].kind, HT_XSIM_EV_FILL);
    assert_true(s->events[0].qty_contracts == 10.5 && s->events[0].price == 50000 && s->events[0].line == 4);
    assert_true(s->events[1].qty_contracts == -1000);
    assert_true(s->events[2].whole && s->events[2].kind == HT_XSIM_EV_SETTLE);
    assert_true(!s->events[3].whole && s->events[3].qty_contracts == -2);
    assert_int_equal(s->events[4].kind, HT_XSIM_EV_DISCONNECT);
    ht_xsim_script_destroy(s);
    s = ht_xsim_script_parse("", 0, "empty.csv", &err);
    assert_non_null(s);
    assert_int_equal(s->n_events, 0);
    ht_xsim_script_destroy(s);

    char longline[400];
    memset(longline, '1', sizeof longline);
    snprintf(longline + 300, 100, ",fill,X,1,1\n");
    const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *msg;
    } bad[] = {
        {"0,buy," PERP ",1,1\n", 0, "bad.csv:1: expected kind: fill, liquidation, settle or disconnect"},
        {"0,fill," PERP ",1\n", 0, "bad.csv:1: expected 5 fields"},
        {"0,fill," PERP ",1,1,1\n", 0, "bad.csv:1: expected 5 fields"},
        {"\n0,fill,btc-perpetual,1,1\n", 0, "bad.csv:2: expected instrument 'btc-perpetual'"},
        {"0,fill," PERP ",nan,1\n", 0, "bad.csv:1: expected qty"},
        {"0,fill," PERP ",0x10,1\n", 0, "bad.csv:1: expected qty"},
        {"0,fill," PERP ",0,1\n", 0, "bad.csv:1: expected qty"},
        {"0,fill," PERP ",1,inf\n", 0, "bad.csv:1: expected price"},
        {"0,fill," PERP ",1,0\n", 0, "bad.csv:1: expected price"},
        {"0,settle," OPTION ",,-1\n", 0, "bad.csv:1: expected price: the delivery price"},
        {"-1,fill," PERP ",1,1\n", 0, "bad.csv:1: expected time_s"},
        {"1e999,fill," PERP ",1,1\n", 0, "bad.csv:1: expected time_s"},
        {"2,fill," PERP ",1,1\n1,fill," PERP ",1,1\n", 0, "bad.csv:2: time_s 1 is before the line above (2)"},
        {"0,disconnect," PERP ",,\n", 0, "bad.csv:1: expected disconnect: empty instrument, qty and price"},
        {"0,fill," PERP ",1,1\n0,fi\0ll,X,1,1\n", sizeof("0,fill," PERP ",1,1\n0,fi\0ll,X,1,1\n") - 1,
         "bad.csv:2: a NUL byte at column 5"},
        {"0,fill," PERP ",1,\0011\n", 0, "bad.csv:1: control character"},
        {longline, 0, "bad.csv:1: line longer than 256 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        s = ht_xsim_script_parse(bad[i].text, len, "bad.csv", &err);
        if (s || !strstr(err.msg, bad[i].msg))
            fail_msg("case %zu: expected '%s', got '%s'", i, bad[i].msg, s ? "(accepted)" : err.msg);
    }
    assert_null(ht_xsim_script_load(HT_TEST_TMPDIR "/no-such-script.csv", &err));
    assert_non_null(strstr(err.msg, "no-such-script.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(script_parser_accepts_and_refuses),
        cmocka_unit_test(positions_and_figures_over_a_session),
        cmocka_unit_test(script_kinds_over_a_session),
        cmocka_unit_test(standalone_script_clock_starts_at_the_first_logon),
        cmocka_unit_test(rate_limit_ends_the_session_with_10028),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

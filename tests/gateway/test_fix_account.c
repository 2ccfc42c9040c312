/* SPDX-License-Identifier: MIT */
/* Deribit's FIX account messages (hedgetrig/fix_account.h): encode -> parse round trips, messages written by hand
 * from Deribit's documented field tables (framed here with a checksum computed here), and refusals naming the tag. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/fix_account.h"

static char g_buf[32768];
static ht_fix_msg g_msg;

/* Frames a body written with '|' for SOH ("35=AP|721=1|...|") as a whole message, checksum computed here, and
 * parses it into g_msg. */
static void frame_and_parse(const char *body_bars)
{
    char body[16384];
    size_t n = strlen(body_bars);
    assert_true(n < sizeof body);
    for (size_t i = 0; i < n; i++)
        body[i] = body_bars[i] == '|' ? '\001' : body_bars[i];
    int len = snprintf(g_buf, sizeof g_buf, "8=FIX.4.4\0019=%zu\001%.*s", n, (int)n, body);
    unsigned sum = 0;
    for (int i = 0; i < len; i++)
        sum += (unsigned char)g_buf[i];
    len += snprintf(g_buf + len, sizeof g_buf - (size_t)len, "10=%03u\001", sum % 256);
    size_t used;
    ht_error err;
    assert_int_equal(ht_fix_parse(g_buf, (size_t)len, sizeof g_buf, &g_msg, &used, &err), HT_FIX_PARSE_OK);
    assert_int_equal(used, (size_t)len);
}

/* Finishes a writer and parses the message into g_msg. */
static void finish_and_parse(ht_fix_writer *w, const char *type)
{
    size_t len;
    const char *m = ht_fix_writer_finish(w, &len);
    assert_non_null(m);
    size_t used;
    ht_error err;
    assert_int_equal(ht_fix_parse(m, len, sizeof g_buf, &g_msg, &used, &err), HT_FIX_PARSE_OK);
    assert_string_equal(g_msg.msg_type, type);
}

static void begin(ht_fix_writer *w, const char *type)
{
    ht_fix_begin_session_msg(w, g_buf, sizeof g_buf, type, "CLIENT", "DERIBITSERVER", 7, 1700000000000000000ull);
}

static void pos_request_round_trip(void **state)
{
    (void)state;
    ht_fix_pos_request r = {"hedgetrig.pos-1", HT_FIX_SUB_SUBSCRIBE, "BTC"}, back;
    ht_fix_writer w;
    ht_error err;
    begin(&w, HT_FIX_MSG_REQUEST_FOR_POSITIONS);
    assert_int_equal(ht_fix_put_pos_request(&w, &r, &err), 0);
    finish_and_parse(&w, "AN");
    assert_true(ht_fix_field_is(&g_msg, HT_TAG_POS_REQ_TYPE, "0"));
    assert_int_equal(ht_fix_parse_pos_request(&g_msg, &back, &err), 0);
    assert_string_equal(back.pos_req_id, r.pos_req_id);
    assert_int_equal(back.subscription, 1);
    assert_string_equal(back.currency, "BTC");
    /* No currency and no subscription: both absent on the wire. */
    ht_fix_pos_request bare = {"p2", -1, ""};
    begin(&w, "AN");
    assert_int_equal(ht_fix_put_pos_request(&w, &bare, &err), 0);
    finish_and_parse(&w, "AN");
    assert_null(ht_fix_find(&g_msg, HT_TAG_CURRENCY));
    assert_int_equal(ht_fix_parse_pos_request(&g_msg, &back, &err), 0);
    assert_int_equal(back.subscription, -1);
    /* Refused before anything is written: a bad id, a subscription type Deribit does not know. */
    ht_fix_pos_request bad = {"p 3", 1, ""};
    begin(&w, "AN");
    assert_int_equal(ht_fix_put_pos_request(&w, &bad, &err), -1);
    assert_non_null(strstr(err.msg, "PosReqID (710)"));
    ht_fix_pos_request bad_sub = {"p3", 5, ""};
    assert_int_equal(ht_fix_put_pos_request(&w, &bad_sub, &err), -1);
    assert_non_null(strstr(err.msg, "(263)"));
}

static ht_fix_position_report g_rep, g_back;

static void position_report_round_trip(void **state)
{
    (void)state;
    memset(&g_rep, 0, sizeof g_rep);
    snprintf(g_rep.pos_maint_rpt_id, sizeof g_rep.pos_maint_rpt_id, "rpt-1");
    snprintf(g_rep.pos_req_id, sizeof g_rep.pos_req_id, "hedgetrig.pos-1");
    g_rep.total_num_pos_reports = 1;
    g_rep.n = HT_FIX_MAX_POSITIONS;
    for (unsigned i = 0; i < g_rep.n; i++) {
        ht_fix_position *p = &g_rep.pos[i];
        snprintf(p->symbol, sizeof p->symbol, "BTC-27DEC26-%u-%c", 40000 + 1000 * i, i % 2 ? 'P' : 'C');
        p->long_qty = i % 3 == 0 ? 0.1 * i : 0;
        p->short_qty = i % 3 == 1 ? 2.5 + i : 0;
        p->mark_px = i % 5 ? 0.0125 * (i + 1) : NAN;
        p->avg_px = 0.01 * i;
        p->contract_multiplier = i % 4 ? 1 : NAN;
    }
    ht_fix_writer w;
    ht_error err;
    begin(&w, HT_FIX_MSG_POSITION_REPORT);
    assert_int_equal(ht_fix_put_position_report(&w, &g_rep, &err), 0);
    finish_and_parse(&w, "AP");
    assert_int_equal(ht_fix_parse_position_report(&g_msg, &g_back, &err), 0);
    assert_string_equal(g_back.pos_maint_rpt_id, "rpt-1");
    assert_string_equal(g_back.pos_req_id, "hedgetrig.pos-1");
    assert_int_equal(g_back.pos_req_result, 0);
    assert_int_equal(g_back.total_num_pos_reports, 1);
    assert_int_equal(g_back.n, g_rep.n);
    for (unsigned i = 0; i < g_rep.n; i++) {
        const ht_fix_position *a = &g_rep.pos[i], *b = &g_back.pos[i];
        assert_string_equal(a->symbol, b->symbol);
        assert_true(fabs(ht_fix_position_contracts(a) - ht_fix_position_contracts(b)) < 1e-9);
        assert_true(isnan(a->mark_px) ? isnan(b->mark_px) : fabs(a->mark_px - b->mark_px) < 1e-12);
        assert_true(isnan(a->contract_multiplier) ? isnan(b->contract_multiplier)
                                                  : a->contract_multiplier == b->contract_multiplier);
        assert_true(fabs(a->avg_px - b->avg_px) < 1e-12);
        /* The side written is the side of the position (none for a flat one). */
        assert_int_equal(b->side, a->long_qty > 0 ? '1' : a->short_qty > 0 ? '2' : '\0');
    }
    /* An empty account: no group at all. */
    g_rep.n = 0;
    begin(&w, "AP");
    assert_int_equal(ht_fix_put_position_report(&w, &g_rep, &err), 0);
    finish_and_parse(&w, "AP");
    assert_null(ht_fix_find(&g_msg, HT_TAG_NO_POSITIONS));
    assert_int_equal(ht_fix_parse_position_report(&g_msg, &g_back, &err), 0);
    assert_int_equal(g_back.n, 0);
}

static void position_report_encoder_refuses_bad_values(void **state)
{
    (void)state;
    ht_fix_writer w;
    ht_error err;
    memset(&g_rep, 0, sizeof g_rep);
    snprintf(g_rep.pos_maint_rpt_id, sizeof g_rep.pos_maint_rpt_id, "r");
    g_rep.n = 1;
    g_rep.pos[0] = (ht_fix_position){"BTC-PERPETUAL", -1, 0, NAN, NAN, NAN, 0};
    begin(&w, "AP");
    assert_int_equal(ht_fix_put_position_report(&w, &g_rep, &err), -1);
    assert_non_null(strstr(err.msg, "LongQty (704) of entry 1"));
    g_rep.pos[0] = (ht_fix_position){"btc-perpetual", 1, 0, NAN, NAN, NAN, 0};
    assert_int_equal(ht_fix_put_position_report(&w, &g_rep, &err), -1);
    assert_non_null(strstr(err.msg, "Symbol (55) of entry 1"));
    g_rep.pos[0] = (ht_fix_position){"BTC-PERPETUAL", 1, 0, INFINITY, NAN, NAN, 0};
    assert_int_equal(ht_fix_put_position_report(&w, &g_rep, &err), -1);
    assert_non_null(strstr(err.msg, "UnderlyingEndPrice (883)"));
    g_rep.pos[0] = (ht_fix_position){"BTC-PERPETUAL", 1, 2, NAN, NAN, NAN, 0};
    assert_int_equal(ht_fix_put_position_report(&w, &g_rep, &err), -1);
    assert_non_null(strstr(err.msg, "long and short"));
}

/* Deribit's Position Report table, field for field (PosType TQ, RawData "maintenance margin;initial margin;floating
 * P/L", DeribitLiquidationPrice, DeribitSizeInCurrency), two entries: a long perpetual and a short option. */
static void position_report_as_deribit_documents_it(void **state)
{
    (void)state;
    ht_error err;
    frame_and_parse("35=AP|49=DERIBITSERVER|56=CLIENT|34=3|52=20261205-13:00:00.000|721=1733403600123|710=hedgetrig.1|"
                    "724=0|728=0|702=2|703=TQ|704=1500|705=0|55=BTC-PERPETUAL|854=1|231=10|883=97123.5|54=1|"
                    "730=95000.25|100088=60000|100089=0.0154|703=TQ|704=0|705=12.5|55=BTC-27DEC26-100000-C|854=1|"
                    "231=1|883=0.0415|54=2|730=0.05|");
    assert_int_equal(ht_fix_parse_position_report(&g_msg, &g_back, &err), 0);
    assert_int_equal(g_back.n, 2);
    assert_string_equal(g_back.pos[0].symbol, "BTC-PERPETUAL");
    assert_true(ht_fix_position_contracts(&g_back.pos[0]) == 1500);
    assert_true(g_back.pos[0].mark_px == 97123.5);
    assert_true(g_back.pos[0].avg_px == 95000.25);
    assert_true(g_back.pos[0].contract_multiplier == 10);
    assert_string_equal(g_back.pos[1].symbol, "BTC-27DEC26-100000-C");
    assert_true(ht_fix_position_contracts(&g_back.pos[1]) == -12.5);
    assert_int_equal(g_back.pos[1].side, '2');
    assert_int_equal(g_back.total_num_pos_reports, -1);
    /* Entries without PosType: the first tag after NoPositions delimits them. */
    frame_and_parse("35=AP|721=9|702=2|55=ETH-PERPETUAL|704=3|55=ETH-27DEC26|705=4|");
    assert_int_equal(ht_fix_parse_position_report(&g_msg, &g_back, &err), 0);
    assert_int_equal(g_back.n, 2);
    assert_true(ht_fix_position_contracts(&g_back.pos[1]) == -4);
    /* A refusal (Deribit's PosReqResult 1) parses: the caller decides what it means. */
    frame_and_parse("35=AP|721=10|710=x|728=1|58=unsupported request|");
    assert_int_equal(ht_fix_parse_position_report(&g_msg, &g_back, &err), 0);
    assert_int_equal(g_back.pos_req_result, HT_FIX_POS_RESULT_UNSUPPORTED);
    assert_string_equal(g_back.text, "unsupported request");
}

/* Each bad report is refused with a message naming the tag. */
static void position_report_refusals_name_the_tag(void **state)
{
    (void)state;
    static const struct {
        const char *body, *needle;
    } cases[] = {
        {"35=AP|702=1|703=TQ|704=1|55=X|", "PosMaintRptID (721) is missing"},
        {"35=AP|721=1|702=1|703=TQ|704=-1|55=X|", "LongQty (704) of entry 1 '-1' must be >= 0"},
        {"35=AP|721=1|702=1|703=TQ|705=nan|55=X|", "ShortQty (705) of entry 1 'nan' is not a decimal"},
        {"35=AP|721=1|702=2|703=TQ|704=1|55=X|", "NoPositions (702) is 2, 1 entries follow"},
        {"35=AP|721=1|702=1|703=TQ|704=1|55=X|703=TQ|704=1|55=Y|", "NoPositions (702) is 1 but more entries"},
        {"35=AP|721=1|702=1|703=TQ|704=1|", "Symbol (55) of entry 1 is missing"},
        {"35=AP|721=1|702=1|703=TQ|704=1|55=btc|", "Symbol (55) of entry 1 'btc'"},
        {"35=AP|721=1|702=1|703=TQ|704=1|55=X|55=Y|", "Symbol (55) appears twice in entry 1"},
        {"35=AP|721=1|702=1|703=XX|704=1|55=X|", "PosType (703) of entry 1 is not TQ"},
        {"35=AP|721=1|702=1|703=TQ|854=0|55=X|", "QtyType (854) of entry 1 0"},
        {"35=AP|721=1|702=1|703=TQ|704=1|705=2|55=X|", "long 1 and short 2"},
        {"35=AP|721=1|702=1|703=TQ|231=0|55=X|", "ContractMultiplier (231) of entry 1 '0' must be > 0"},
        {"35=AP|721=1|728=7|", "PosReqResult (728) 7"},
        {"35=AP|721=1|724=1|", "PosReqType (724) 1"},
        {"35=AP|721=1|702=x|", "NoPositions (702) 'x'"},
        {"35=AP|721=1|702=97|", "NoPositions (702) '97' is not an integer 0..96"},
        {"35=AP|721=1|55=X|", "Symbol (55) outside the NoPositions"},
        {"35=AP|721=1 2|", "PosMaintRptID (721) '1 2'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ht_error err = {0};
        frame_and_parse(cases[i].body);
        assert_int_equal(ht_fix_parse_position_report(&g_msg, &g_back, &err), -1);
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].needle);
    }
}

static void user_request_and_response(void **state)
{
    (void)state;
    ht_fix_writer w;
    ht_error err;
    ht_fix_user_request rq = {"u-1", "AbC123_x", "BTC"}, rq2;
    begin(&w, HT_FIX_MSG_USER_REQUEST);
    assert_int_equal(ht_fix_put_user_request(&w, &rq, &err), 0);
    finish_and_parse(&w, "BE");
    assert_true(ht_fix_field_is(&g_msg, HT_TAG_USER_REQUEST_TYPE, "4"));
    assert_int_equal(ht_fix_parse_user_request(&g_msg, &rq2, &err), 0);
    assert_string_equal(rq2.username, "AbC123_x");
    assert_string_equal(rq2.currency, "BTC");
    ht_fix_user_response rs = {"u-1", "AbC123_x", 1, "", "BTC", 12.5, 11.75, 0.5, 0.25}, rs2;
    begin(&w, HT_FIX_MSG_USER_RESPONSE);
    assert_int_equal(ht_fix_put_user_response(&w, &rs, &err), 0);
    finish_and_parse(&w, "BF");
    assert_int_equal(ht_fix_parse_user_response(&g_msg, &rs2, &err), 0);
    assert_true(rs2.equity == 12.5 && rs2.balance == 11.75 && rs2.initial_margin == 0.5 &&
                rs2.maintenance_margin == 0.25);
    assert_int_equal(rs2.user_status, 1);
    /* Deribit's User Response table with the fields we do not read (P/L, margin balance). */
    frame_and_parse("35=BF|923=7|553=ClientId1|926=1|15=ETH|100001=3.25|100002=3.5|100003=0.125|100004=0.0625|"
                    "100005=-0.25|100006=0|100011=-0.25|100013=3.2|");
    assert_int_equal(ht_fix_parse_user_response(&g_msg, &rs2, &err), 0);
    assert_string_equal(rs2.currency, "ETH");
    assert_true(rs2.equity == 3.25 && rs2.maintenance_margin == 0.0625);
    /* CROSS: Deribit leaves the balance out; it reads as NAN, never as 0. */
    frame_and_parse("35=BF|923=8|553=ClientId1|15=CROSS|100001=3|100003=1|100004=0.5|");
    assert_int_equal(ht_fix_parse_user_response(&g_msg, &rs2, &err), 0);
    assert_true(isnan(rs2.balance));
    assert_int_equal(rs2.user_status, -1);
    frame_and_parse("35=BF|923=8|15=BTC|");
    assert_int_equal(ht_fix_parse_user_response(&g_msg, &rs2, &err), -1);
    assert_non_null(strstr(err.msg, "Username (553) is missing"));
    frame_and_parse("35=BF|923=8|553=a|100003=-1|");
    assert_int_equal(ht_fix_parse_user_response(&g_msg, &rs2, &err), -1);
    assert_non_null(strstr(err.msg, "DeribitUserInitialMargin (100003)"));
    frame_and_parse("35=BF|923=8|553=a|15=B-C|");
    assert_int_equal(ht_fix_parse_user_response(&g_msg, &rs2, &err), -1);
    assert_non_null(strstr(err.msg, "Currency (15)"));
    frame_and_parse("35=BE|923=8|924=1|553=a|");
    assert_int_equal(ht_fix_parse_user_request(&g_msg, &rq2, &err), -1);
    assert_non_null(strstr(err.msg, "UserRequestType (924)"));
}

static void trade_capture_messages(void **state)
{
    (void)state;
    ht_fix_writer w;
    ht_error err;
    ht_fix_trade_request tr = {"tc-1", HT_FIX_SUB_SUBSCRIBE}, tr2;
    begin(&w, HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST);
    assert_int_equal(ht_fix_put_trade_request(&w, &tr, &err), 0);
    finish_and_parse(&w, "AD");
    assert_int_equal(ht_fix_parse_trade_request(&g_msg, &tr2, &err), 0);
    assert_string_equal(tr2.trade_request_id, "tc-1");
    assert_int_equal(tr2.subscription, 1);
    ht_fix_trade_request_ack ack = {"tc-1", 0, 0, ""}, ack2;
    begin(&w, HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST_ACK);
    assert_int_equal(ht_fix_put_trade_request_ack(&w, &ack, &err), 0);
    finish_and_parse(&w, "AQ");
    assert_int_equal(ht_fix_parse_trade_request_ack(&g_msg, &ack2, &err), 0);
    assert_int_equal(ack2.result, 0);
    assert_int_equal(ack2.status, 0);
    /* Deribit's AQ table: the result at 571. */
    frame_and_parse("35=AQ|568=tc-1|569=0|571=2|58=invalid type of trade requested|");
    assert_int_equal(ht_fix_parse_trade_request_ack(&g_msg, &ack2, &err), 0);
    assert_int_equal(ack2.result, 2);
    assert_string_equal(ack2.text, "invalid type of trade requested");
    static const int sources[] = {HT_FIX_TRD_REGULAR, HT_FIX_TRD_LIQUIDATION, HT_FIX_TRD_SETTLEMENT};
    for (int s = 0; s < 3; s++) {
        ht_fix_trade_report r = {"tc-1", "", "BTC-12345", false, "BTC-27DEC26-100000-C", 2.5, 0.0415, '2',
                                 sources[s], "ord-9"}, r2;
        begin(&w, HT_FIX_MSG_TRADE_CAPTURE_REPORT);
        assert_int_equal(ht_fix_put_trade_report(&w, &r, &err), 0);
        finish_and_parse(&w, "AE");
        assert_int_equal(ht_fix_parse_trade_report(&g_msg, &r2, &err), 0);
        assert_string_equal(r2.trade_id, "BTC-12345");
        assert_string_equal(r2.symbol, r.symbol);
        assert_true(r2.last_qty == 2.5 && r2.last_px == 0.0415);
        assert_int_equal(r2.side, '2');
        assert_string_equal(r2.order_id, "ord-9");
        assert_int_equal(ht_fix_trade_report_source(&r2), s);
    }
    /* Deribit's AE table (TradeRequestId, PreviouslyReported, Symbol, LastQty, LastPx, TradeId, SecondaryTradeId)
     * with a Side outside a group. */
    ht_fix_trade_report r3;
    frame_and_parse("35=AE|568=tc-1|570=N|55=BTC-PERPETUAL|32=100|31=97000.5|1003=BTC-777|1040=BLOCK-1|54=1|");
    assert_int_equal(ht_fix_parse_trade_report(&g_msg, &r3, &err), 0);
    assert_int_equal(r3.side, '1');
    assert_int_equal(ht_fix_trade_report_source(&r3), 0);
    static const struct {
        const char *body, *needle;
    } bad[] = {
        {"35=AE|570=N|55=X|32=1|31=1|54=1|", "TradeID (1003) is missing"},
        {"35=AE|570=X|55=X|32=1|31=1|1003=t|54=1|", "PreviouslyReported (570)"},
        {"35=AE|570=N|55=X|32=0|31=1|1003=t|54=1|", "LastQty (32) '0' must be > 0"},
        {"35=AE|570=N|55=X|32=1|31=1|1003=t|54=3|", "Side (54) '3'"},
        {"35=AE|570=N|55=X|32=1|31=1|1003=t|", "Side (54) is missing"},
        {"35=AE|570=N|55=X|32=1|31=1|1003=t|552=2|54=1|54=2|", "NoSides (552) is 2"},
        {"35=AE|570=N|55=X|32=1|31=1|1003=t|828=7|552=1|54=1|", "TrdType (828) 7"},
        {"35=AE|570=N|55=X|32=1|31=1e3|1003=t|552=1|54=1|", "LastPx (31) '1e3'"},
        {"35=AD|568=a|569=1|", "TradeRequestType (569) 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_and_parse(bad[i].body);
        int rc = strcmp(g_msg.msg_type, "AD") == 0 ? ht_fix_parse_trade_request(&g_msg, &tr2, &err)
                                                   : ht_fix_parse_trade_report(&g_msg, &r3, &err);
        assert_int_equal(rc, -1);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, bad[i].needle);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pos_request_round_trip),
        cmocka_unit_test(position_report_round_trip),
        cmocka_unit_test(position_report_encoder_refuses_bad_values),
        cmocka_unit_test(position_report_as_deribit_documents_it),
        cmocka_unit_test(position_report_refusals_name_the_tag),
        cmocka_unit_test(user_request_and_response),
        cmocka_unit_test(trade_capture_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Tests of the SBE layer: every template against the vendor guide's example frames, encode/decode round
 * trips, unknown templates skipped by their lengths, and hostile packets (truncated at every byte, lying
 * lengths) that must give a status and never an out-of-bounds read (run under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "guide_examples.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"

#define GUIDE_PAYLOAD(frame) ((frame) + 42), (sizeof(frame) - 42)

/* Collects the messages of one payload. */
typedef struct walked {
    ht_sbe_iter it;
    ht_sbe_msg msgs[64];
    unsigned n;
} walked;

/* Walks a payload into w; returns the iterator's final status. */
static ht_sbe_status walk(walked *w, const uint8_t *p, size_t len)
{
    w->n = 0;
    if (ht_sbe_iter_init(&w->it, p, len) != HT_SBE_OK)
        return w->it.status;
    while (w->n < 64 && ht_sbe_iter_next(&w->it, &w->msgs[w->n]))
        w->n++;
    return w->it.status;
}

/* Asserts two doubles are the same value (NaN equal to NaN). */
#define assert_same_double(a, b)                                                                           \
    do {                                                                                                   \
        double x_ = (a), y_ = (b);                                                                         \
        if (!(isnan(x_) && isnan(y_)))                                                                     \
            assert_true(x_ == y_);                                                                         \
    } while (0)

/* Asserts a decoded double equals the guide's printed decimal (the dissector prints to a few decimals). */
#define assert_guide_double(got, want) assert_true(fabs((got) - (double)(want)) <= 1e-9 * fmax(1.0, fabs((double)(want))))

static void decodes_guide_instrument_v1(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_instrument_v1)), HT_SBE_OK);
    assert_int_equal(w.it.frame.packet_len, 177);
    assert_int_equal(w.it.frame.channel_id, 2);
    assert_int_equal(w.it.frame.seq, 1);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.msgs[0].hdr.block_len, 140);
    assert_int_equal(w.msgs[0].hdr.template_id, 1000);
    assert_int_equal(w.msgs[0].hdr.version, 1);
    ht_sbe_instrument in;
    assert_int_equal(ht_sbe_decode_instrument(&w.msgs[0], &in), HT_SBE_OK);
    assert_int_equal(in.instrument_id, 618);
    assert_int_equal(in.state, HT_SBE_STATE_CREATED);
    assert_int_equal(in.kind, HT_SBE_KIND_OPTION);
    assert_int_equal(in.instrument_type, HT_SBE_TYPE_NOT_APPLICABLE);
    assert_int_equal(in.option_type, HT_SBE_OPTION_CALL);
    assert_int_equal(in.rfq, 0);
    assert_int_equal(in.settlement_period, HT_SBE_PERIOD_MINUTE);
    assert_int_equal(in.settlement_period_count, 15);
    assert_string_equal(in.base_currency, "BTC");
    assert_string_equal(in.quote_currency, "BTC");
    assert_string_equal(in.counter_currency, "USD");
    assert_string_equal(in.settlement_currency, "BTC");
    assert_string_equal(in.size_currency, "BTC");
    assert_int_equal(in.creation_timestamp_ms, 1652510105000ull);
    assert_int_equal(in.expiration_timestamp_ms, 1652510700000ull);
    assert_guide_double(in.strike_price, 29200);
    assert_guide_double(in.contract_size, 1);
    assert_guide_double(in.min_trade_amount, 0.01);
    assert_guide_double(in.tick_size, 0.0001);
    assert_guide_double(in.maker_commission, 0.0001);
    assert_guide_double(in.taker_commission, 0.0005);
    assert_guide_double(in.block_trade_commission, 0.00015);
    assert_guide_double(in.max_liquidation_commission, 0);
    assert_guide_double(in.max_leverage, 0);
    assert_int_equal(in.tick_steps.count, 0);
    assert_int_equal(in.name_len, strlen("BTC-14MAY22_0645-29200-C"));
    assert_memory_equal(in.name, "BTC-14MAY22_0645-29200-C", in.name_len);
}

static void decodes_guide_instrument_and_v2(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_instrument_and_v2)), HT_SBE_OK);
    assert_int_equal(w.it.frame.packet_len, 367);
    assert_int_equal(w.it.frame.seq, 3145);
    assert_int_equal(w.n, 2);
    ht_sbe_instrument a, b;
    assert_int_equal(ht_sbe_decode_instrument(&w.msgs[0], &a), HT_SBE_OK);
    assert_int_equal(w.msgs[1].hdr.template_id, 1010);
    assert_int_equal(w.msgs[1].hdr.block_len, 139);
    assert_int_equal(w.msgs[1].hdr.version, 3);
    assert_int_equal(ht_sbe_decode_instrument(&w.msgs[1], &b), HT_SBE_OK);
    const ht_sbe_instrument *both[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        const ht_sbe_instrument *in = both[i];
        assert_int_equal(in->instrument_id, 77);
        assert_int_equal(in->kind, HT_SBE_KIND_OPTION);
        assert_int_equal(in->instrument_type, HT_SBE_TYPE_REVERSED);
        assert_int_equal(in->option_type, HT_SBE_OPTION_CALL);
        assert_int_equal(in->settlement_period, HT_SBE_PERIOD_WEEK);
        assert_int_equal(in->settlement_period_count, 1);
        assert_string_equal(in->counter_currency, "USD");
        assert_int_equal(in->creation_timestamp_ms, 1686855060000ull);
        assert_int_equal(in->expiration_timestamp_ms, 1687507200000ull);
        assert_guide_double(in->strike_price, 25500);
        assert_guide_double(in->contract_size, 1);
        assert_guide_double(in->min_trade_amount, 0.01);
        assert_guide_double(in->tick_size, 0.0001);
        assert_guide_double(in->maker_commission, 0);
        assert_guide_double(in->taker_commission, 0.0001);
        assert_guide_double(in->block_trade_commission, 0.00015);
        assert_true(isnan(in->max_liquidation_commission));
        assert_true(isnan(in->max_leverage));
        assert_memory_equal(in->name, "BTC-23JUN23-25500-C", in->name_len);
    }
    assert_int_equal(b.tick_steps.count, 1);
    ht_sbe_tick_step step;
    ht_sbe_tick_step_at(&b.tick_steps, 0, &step);
    assert_guide_double(step.above_price, 0.001);
    assert_guide_double(step.tick_size, 0.0002);
}

static void decodes_guide_book(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_book)), HT_SBE_OK);
    assert_int_equal(w.it.frame.channel_id, 3);
    assert_int_equal(w.it.frame.seq, 21093);
    assert_int_equal(w.n, 1);
    ht_sbe_book b;
    assert_int_equal(ht_sbe_decode_book(&w.msgs[0], &b), HT_SBE_OK);
    assert_int_equal(b.instrument_id, 136);
    assert_int_equal(b.timestamp_ms, 1651492381475ull);
    assert_int_equal(b.prev_change_id, 3086730);
    assert_int_equal(b.change_id, 3086733);
    assert_int_equal(b.is_last, 1);
    assert_int_equal(b.changes.count, 2);
    ht_sbe_book_change c;
    ht_sbe_book_change_at(&b.changes, 0, &c);
    assert_int_equal(c.side, HT_SBE_SIDE_BID);
    assert_int_equal(c.change, HT_SBE_CHANGE_DELETED);
    assert_guide_double(c.price, 35171.99);
    assert_guide_double(c.amount, 0);
    ht_sbe_book_change_at(&b.changes, 1, &c);
    assert_int_equal(c.side, HT_SBE_SIDE_BID);
    assert_int_equal(c.change, HT_SBE_CHANGE_CREATED);
    assert_guide_double(c.price, 36930.58);
    assert_guide_double(c.amount, 40);
}

static void decodes_guide_trades_ticker_book(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_trades_ticker_book)), HT_SBE_OK);
    assert_int_equal(w.it.frame.packet_len, 420);
    assert_int_equal(w.it.frame.seq, 10477);
    assert_int_equal(w.n, 3);
    ht_sbe_trades tr;
    assert_int_equal(ht_sbe_decode_trades(&w.msgs[0], &tr), HT_SBE_OK);
    assert_int_equal(tr.instrument_id, 1);
    assert_int_equal(tr.trades.count, 2);
    assert_int_equal(tr.trades.block_len, 83);
    const double prices[2] = {39344.25, 39316.72};
    for (unsigned i = 0; i < 2; i++) {
        ht_sbe_trade t;
        ht_sbe_trade_at(&tr.trades, i, &t);
        assert_int_equal(t.direction, HT_SBE_SELL);
        assert_guide_double(t.price, prices[i]);
        assert_guide_double(t.amount, 10);
        assert_int_equal(t.timestamp_ms, 1651492381000ull);
        assert_guide_double(t.mark_price, 38815.96);
        assert_guide_double(t.index_price, 38603.64);
        assert_int_equal(t.trade_seq, 392167 + i);
        assert_int_equal(t.trade_id, 1297362 + i);
        assert_int_equal(t.tick_direction, i == 0 ? HT_SBE_TICK_ZEROMINUS : HT_SBE_TICK_MINUS);
        assert_int_equal(t.liquidation, HT_SBE_LIQ_NONE);
        assert_guide_double(t.iv, 0);
        assert_int_equal(t.block_trade_id, 0);
        assert_int_equal(t.combo_trade_id, 0);
    }
    ht_sbe_ticker tk = {0};
    assert_int_equal(ht_sbe_decode_ticker(&w.msgs[1], &tk), HT_SBE_OK);
    assert_int_equal(tk.instrument_id, 1);
    assert_guide_double(tk.open_interest, 60);
    assert_guide_double(tk.min_sell_price, 38980.56);
    assert_guide_double(tk.max_buy_price, 39375.71);
    assert_guide_double(tk.last_price, 39316.72);
    assert_guide_double(tk.index_price, 38603.64);
    assert_guide_double(tk.mark_price, 38815.96);
    assert_guide_double(tk.best_bid_price, 39316.31);
    assert_guide_double(tk.best_bid_amount, 30);
    assert_guide_double(tk.best_ask_price, 39375.72);
    assert_guide_double(tk.best_ask_amount, 10);
    assert_guide_double(tk.current_funding, 0.005);
    assert_guide_double(tk.funding_8h, 0.00751341);
    assert_guide_double(tk.estimated_delivery_price, 38603.64);
    assert_guide_double(tk.delivery_price, 0);
    assert_guide_double(tk.settlement_price, 39229.82);
    ht_sbe_book b;
    assert_int_equal(ht_sbe_decode_book(&w.msgs[2], &b), HT_SBE_OK);
    assert_int_equal(b.prev_change_id, 3086708);
    assert_int_equal(b.change_id, 3086709);
    assert_int_equal(b.changes.count, 2);
    ht_sbe_book_change c;
    ht_sbe_book_change_at(&b.changes, 1, &c);
    assert_int_equal(c.change, HT_SBE_CHANGE_DELETED);
    assert_guide_double(c.price, 39344.25);
}

static void decodes_guide_ticker(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_ticker)), HT_SBE_OK);
    assert_int_equal(w.it.frame.channel_id, 4);
    assert_int_equal(w.it.frame.seq, 4218);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.msgs[0].hdr.block_len, 133);
    ht_sbe_ticker t = {0};
    assert_int_equal(ht_sbe_decode_ticker(&w.msgs[0], &t), HT_SBE_OK);
    assert_int_equal(t.instrument_id, 2);
    assert_int_equal(t.state, HT_SBE_STATE_OPEN);
    assert_int_equal(t.timestamp_ms, 1651583844827ull);
    assert_guide_double(t.open_interest, 10);
    assert_guide_double(t.min_sell_price, 2837.56);
    assert_guide_double(t.max_buy_price, 2866.08);
    assert_guide_double(t.last_price, 2865.61);
    assert_guide_double(t.index_price, 2834.85);
    assert_guide_double(t.mark_price, 2850.44);
    assert_guide_double(t.best_bid_price, 2866.09);
    assert_guide_double(t.best_bid_amount, 20);
    assert_guide_double(t.best_ask_price, 2866.1);
    assert_guide_double(t.best_ask_amount, 10);
    assert_guide_double(t.current_funding, 0.004999);
    assert_guide_double(t.funding_8h, -0.003006);
    assert_guide_double(t.estimated_delivery_price, 2834.85);
    assert_guide_double(t.delivery_price, 0);
    assert_guide_double(t.settlement_price, 2837.27);
    /* The CSV line carries mark|index|bid|ask. */
    char line[256];
    ht_sbe_status st;
    assert_true(ht_sbe_format_csv(line, sizeof line, 106, &w.it.frame, &w.msgs[0], &st) > 0);
    assert_string_equal(line, "106,4,4218,1003,2,2850.44|2834.85|2866.09|2866.1");
}

static void decodes_guide_snapshot(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_snapshot)), HT_SBE_OK);
    assert_int_equal(w.it.frame.channel_id, 105);
    assert_int_equal(w.it.frame.seq, 95);
    ht_sbe_snapshot s;
    assert_int_equal(ht_sbe_decode_snapshot(&w.msgs[0], &s), HT_SBE_OK);
    assert_int_equal(s.instrument_id, 486);
    assert_int_equal(s.timestamp_ms, 1652105063702ull);
    assert_int_equal(s.change_id, 4434022);
    assert_int_equal(s.is_book_complete, 1);
    assert_int_equal(s.is_last_in_book, 1);
    assert_int_equal(s.levels.count, 15);
    assert_int_equal(s.levels.block_len, 17);
    const double px[15] = {32030.22, 32018.26, 32017.43, 32016.94, 32013.36, 32011.99, 31728.66, 31724.04,
                           31712.1,  31711.62, 31709.33, 31694.14, 31684.67, 31683.33, 31079.33};
    const double amt[15] = {10, 10, 10, 20, 10, 10, 10, 30, 10, 20, 20, 20, 10, 20, 30};
    for (unsigned i = 0; i < 15; i++) {
        ht_sbe_level lv;
        ht_sbe_level_at(&s.levels, i, &lv);
        assert_int_equal(lv.side, HT_SBE_SIDE_BID);
        assert_guide_double(lv.price, px[i]);
        assert_guide_double(lv.amount, amt[i]);
    }
}

static void guide_snapshot_start_end(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_snapshot_start)), HT_SBE_OK);
    assert_int_equal(w.it.frame.channel_id, 110);
    assert_int_equal(w.it.frame.seq, 2);
    ht_sbe_snapshot_start s;
    assert_int_equal(ht_sbe_decode_snapshot_start(&w.msgs[0], &s), HT_SBE_OK);
    assert_int_equal(s.snapshot_delay_ms, 200);
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_snapshot_end)), HT_SBE_OK);
    assert_int_equal(w.it.frame.seq, 3);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.msgs[0].hdr.template_id, HT_SBE_SNAPSHOT_END);
    assert_int_equal(w.msgs[0].hdr.block_len, 0);
}

static void decodes_guide_combo_legs(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_combo_legs)), HT_SBE_OK);
    assert_int_equal(w.it.frame.channel_id, 14);
    assert_int_equal(w.it.frame.seq, 0);
    unsigned found = 0;
    for (unsigned i = 0; i < w.n; i++) {
        if (w.msgs[i].hdr.template_id != HT_SBE_COMBO_LEGS)
            continue;
        found++;
        ht_sbe_combo_legs c;
        assert_int_equal(ht_sbe_decode_combo_legs(&w.msgs[i], &c), HT_SBE_OK);
        assert_int_equal(c.instrument_id, 32);
        assert_int_equal(c.legs.count, 2);
        ht_sbe_leg leg;
        ht_sbe_leg_at(&c.legs, 0, &leg);
        assert_int_equal(leg.leg_instrument_id, 1);
        assert_int_equal(leg.leg_size, -1);
        ht_sbe_leg_at(&c.legs, 1, &leg);
        assert_int_equal(leg.leg_instrument_id, 2);
        assert_int_equal(leg.leg_size, 1);
    }
    assert_int_equal(found, 1);
}

static void guide_price_index_and_rfq(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_price_index)), HT_SBE_OK);
    assert_int_equal(w.it.frame.channel_id, 0);
    assert_int_equal(w.it.frame.seq, 306);
    ht_sbe_price_index ix;
    assert_int_equal(ht_sbe_decode_price_index(&w.msgs[0], &ix), HT_SBE_OK);
    assert_string_equal(ix.index_name, "eth_usdc");
    assert_guide_double(ix.price, 1271.1231);
    assert_int_equal(ix.timestamp_ms, 1668161445315ull);
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_rfq)), HT_SBE_OK);
    assert_int_equal(w.it.frame.seq, 59);
    ht_sbe_rfq r;
    assert_int_equal(ht_sbe_decode_rfq(&w.msgs[0], &r), HT_SBE_OK);
    assert_int_equal(r.instrument_id, 12);
    assert_int_equal(r.state, 1);
    assert_int_equal(r.side, HT_SBE_RFQ_BUY);
    assert_guide_double(r.amount, 1);
    assert_int_equal(r.timestamp_ms, 1668161446250ull);
}

/* ---- Round trips ------------------------------------------------------------------------------------ */

/* A sample instrument of either template. */
static ht_sbe_instrument sample_instrument(uint16_t template_id)
{
    ht_sbe_instrument in;
    memset(&in, 0, sizeof in);
    in.template_id = template_id;
    in.instrument_id = 123456;
    in.state = HT_SBE_STATE_OPEN;
    in.kind = HT_SBE_KIND_OPTION;
    in.instrument_type = HT_SBE_TYPE_LINEAR;
    in.option_type = HT_SBE_OPTION_PUT;
    in.rfq = template_id == HT_SBE_INSTRUMENT ? 1 : 0;
    in.settlement_period = HT_SBE_PERIOD_MONTH;
    in.settlement_period_count = 3;
    strcpy(in.base_currency, "BTC");
    strcpy(in.quote_currency, "USDC");
    strcpy(in.counter_currency, "USDC");
    strcpy(in.settlement_currency, "USDC");
    strcpy(in.size_currency, "BTC");
    in.creation_timestamp_ms = 1686855060000ull;
    in.expiration_timestamp_ms = 1687507200000ull;
    in.strike_price = 26100;
    in.contract_size = 0.01;
    in.min_trade_amount = 0.1;
    in.tick_size = 0.5;
    in.maker_commission = -0.0001;
    in.taker_commission = 0.0003;
    in.block_trade_commission = NAN;
    in.max_liquidation_commission = 0.0075;
    in.max_leverage = 50;
    in.name = "BTC_USDC-29SEP23-26100-P";
    in.name_len = (uint8_t)strlen(in.name);
    return in;
}

/* Asserts the static fields of two instruments match. */
static void assert_instrument_equal(const ht_sbe_instrument *a, const ht_sbe_instrument *b)
{
    assert_int_equal(a->template_id, b->template_id);
    assert_int_equal(a->instrument_id, b->instrument_id);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->instrument_type, b->instrument_type);
    assert_int_equal(a->option_type, b->option_type);
    assert_int_equal(a->rfq, b->rfq);
    assert_int_equal(a->settlement_period, b->settlement_period);
    assert_int_equal(a->settlement_period_count, b->settlement_period_count);
    assert_string_equal(a->base_currency, b->base_currency);
    assert_string_equal(a->quote_currency, b->quote_currency);
    assert_string_equal(a->counter_currency, b->counter_currency);
    assert_string_equal(a->settlement_currency, b->settlement_currency);
    assert_string_equal(a->size_currency, b->size_currency);
    assert_int_equal(a->creation_timestamp_ms, b->creation_timestamp_ms);
    assert_int_equal(a->expiration_timestamp_ms, b->expiration_timestamp_ms);
    assert_same_double(a->strike_price, b->strike_price);
    assert_same_double(a->contract_size, b->contract_size);
    assert_same_double(a->min_trade_amount, b->min_trade_amount);
    assert_same_double(a->tick_size, b->tick_size);
    assert_same_double(a->maker_commission, b->maker_commission);
    assert_same_double(a->taker_commission, b->taker_commission);
    assert_same_double(a->block_trade_commission, b->block_trade_commission);
    assert_same_double(a->max_liquidation_commission, b->max_liquidation_commission);
    assert_same_double(a->max_leverage, b->max_leverage);
    assert_int_equal(a->name_len, b->name_len);
    assert_memory_equal(a->name, b->name, a->name_len);
}

/* Writes one packet holding every template; returns its length. */
static size_t encode_all(uint8_t *buf, size_t cap)
{
    ht_sbe_writer w;
    ht_sbe_writer_init(&w, buf, cap, 11, 4000000000u);
    ht_sbe_instrument in1 = sample_instrument(HT_SBE_INSTRUMENT);
    ht_sbe_instrument in2 = sample_instrument(HT_SBE_INSTRUMENT_V2);
    const ht_sbe_tick_step steps[2] = {{0.005, 0.0005}, {0.5, 0.001}};
    assert_int_equal(ht_sbe_put_instrument(&w, &in1, NULL, 0), 0);
    assert_int_equal(ht_sbe_put_instrument(&w, &in2, steps, 2), 0);
    const ht_sbe_book book = {123456, 1686858149957ull, 100, 105, 1, {0}};
    const ht_sbe_book_change changes[3] = {{HT_SBE_SIDE_BID, HT_SBE_CHANGE_CREATED, 0.0425, 12.5},
                                           {HT_SBE_SIDE_ASK, HT_SBE_CHANGE_CHANGED, 0.045, 3},
                                           {HT_SBE_SIDE_ASK, HT_SBE_CHANGE_DELETED, 0.05, 0}};
    assert_int_equal(ht_sbe_put_book(&w, &book, changes, 3), 0);
    const ht_sbe_trade trades[2] = {
        {HT_SBE_BUY, 0.045, 1.5, 1686858149957ull, 0.0441, 25448.57, 77, 88, HT_SBE_TICK_PLUS, HT_SBE_LIQ_NONE,
         51.25, 0, 0},
        {HT_SBE_SELL, 0.044, 0.1, 1686858149958ull, 0.0441, 25448.58, 78, 89, HT_SBE_TICK_ZEROMINUS,
         HT_SBE_LIQ_BOTH, NAN, 1234, 5678}};
    assert_int_equal(ht_sbe_put_trades(&w, 123456, trades, 2), 0);
    const ht_sbe_ticker t = {123456, HT_SBE_STATE_OPEN, 1686858149957ull, NAN, 0.01, 0.09, NAN, 25448.57, 0.0441,
                             0.0425, 12.5, 0.045, 3, NAN, NAN, 25450.1, NAN, 0.0432};
    assert_int_equal(ht_sbe_put_ticker(&w, &t), 0);
    assert_int_equal(ht_sbe_put_snapshot_start(&w, 200), 0);
    const ht_sbe_snapshot snap = {123456, 1686858149957ull, 105, 1, 0, {0}};
    const ht_sbe_level levels[4] = {{HT_SBE_SIDE_BID, 0.0425, 12.5}, {HT_SBE_SIDE_ASK, 0.045, 3},
                                    {HT_SBE_SIDE_BID, 0.04, 1}, {HT_SBE_SIDE_ASK, 0.05, 7}};
    assert_int_equal(ht_sbe_put_snapshot(&w, &snap, levels, 4), 0);
    assert_int_equal(ht_sbe_put_snapshot_end(&w), 0);
    const ht_sbe_leg legs[2] = {{1, -1}, {2, 3}};
    assert_int_equal(ht_sbe_put_combo_legs(&w, 999, legs, 2), 0);
    ht_sbe_price_index ix = {"btc_usd", 25448.57, 1686858149957ull};
    assert_int_equal(ht_sbe_put_price_index(&w, &ix), 0);
    const ht_sbe_rfq r = {123456, 1, HT_SBE_RFQ_NO_DIRECTION, 25, 1686858149960ull};
    assert_int_equal(ht_sbe_put_rfq(&w, &r), 0);
    size_t len = ht_sbe_writer_finish(&w);
    assert_true(len > 0);
    return len;
}

static void roundtrip_every_template(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len = encode_all(buf, sizeof buf);
    walked w;
    assert_int_equal(walk(&w, buf, len), HT_SBE_OK);
    assert_int_equal(w.it.frame.channel_id, 11);
    assert_int_equal(w.it.frame.seq, 4000000000u);
    assert_int_equal(w.it.frame.packet_len, len - 8);
    assert_int_equal(w.it.trailing_bytes, 0);
    const uint16_t order[] = {1000, 1010, 1001, 1002, 1003, 1005, 1004, 1006, 1007, 1008, 1009};
    assert_int_equal(w.n, HT_ARRAY_LEN(order));
    ht_sbe_decoded d[HT_ARRAY_LEN(order)];
    for (unsigned i = 0; i < w.n; i++) {
        assert_int_equal(w.msgs[i].hdr.template_id, order[i]);
        assert_int_equal(w.msgs[i].hdr.schema_id, 1);
        assert_int_equal(w.msgs[i].hdr.version, HT_SBE_VERSION_DEFAULT);
        assert_int_equal(ht_sbe_decode(&w.msgs[i], &d[i]), HT_SBE_OK);
        assert_true(d[i].known);
    }
    ht_sbe_instrument in1 = sample_instrument(HT_SBE_INSTRUMENT), in2 = sample_instrument(HT_SBE_INSTRUMENT_V2);
    assert_instrument_equal(&d[0].u.instrument, &in1);
    assert_instrument_equal(&d[1].u.instrument, &in2);
    assert_int_equal(d[1].u.instrument.tick_steps.count, 2);
    ht_sbe_tick_step step;
    ht_sbe_tick_step_at(&d[1].u.instrument.tick_steps, 1, &step);
    assert_same_double(step.above_price, 0.5);
    assert_same_double(step.tick_size, 0.001);
    const ht_sbe_book *b = &d[2].u.book;
    assert_int_equal(b->instrument_id, 123456);
    assert_int_equal(b->prev_change_id, 100);
    assert_int_equal(b->change_id, 105);
    assert_int_equal(b->changes.count, 3);
    ht_sbe_book_change c;
    ht_sbe_book_change_at(&b->changes, 1, &c);
    assert_int_equal(c.side, HT_SBE_SIDE_ASK);
    assert_int_equal(c.change, HT_SBE_CHANGE_CHANGED);
    assert_same_double(c.price, 0.045);
    assert_same_double(c.amount, 3);
    const ht_sbe_trades *tr = &d[3].u.trades;
    assert_int_equal(tr->trades.count, 2);
    ht_sbe_trade t;
    ht_sbe_trade_at(&tr->trades, 1, &t);
    assert_int_equal(t.direction, HT_SBE_SELL);
    assert_same_double(t.price, 0.044);
    assert_int_equal(t.trade_seq, 78);
    assert_int_equal(t.trade_id, 89);
    assert_int_equal(t.tick_direction, HT_SBE_TICK_ZEROMINUS);
    assert_int_equal(t.liquidation, HT_SBE_LIQ_BOTH);
    assert_true(isnan(t.iv));
    assert_int_equal(t.block_trade_id, 1234);
    assert_int_equal(t.combo_trade_id, 5678);
    ht_sbe_trade_at(&tr->trades, 0, &t);
    assert_same_double(t.iv, 51.25);
    const ht_sbe_ticker *tk = &d[4].u.ticker;
    assert_int_equal(tk->instrument_id, 123456);
    assert_true(isnan(tk->open_interest));
    assert_same_double(tk->min_sell_price, 0.01);
    assert_same_double(tk->max_buy_price, 0.09);
    assert_true(isnan(tk->last_price));
    assert_same_double(tk->index_price, 25448.57);
    assert_same_double(tk->mark_price, 0.0441);
    assert_same_double(tk->best_bid_price, 0.0425);
    assert_same_double(tk->best_bid_amount, 12.5);
    assert_same_double(tk->best_ask_price, 0.045);
    assert_same_double(tk->best_ask_amount, 3);
    assert_same_double(tk->estimated_delivery_price, 25450.1);
    assert_same_double(tk->settlement_price, 0.0432);
    assert_int_equal(d[5].u.snapshot_start.snapshot_delay_ms, 200);
    const ht_sbe_snapshot *s = &d[6].u.snapshot;
    assert_int_equal(s->change_id, 105);
    assert_int_equal(s->is_book_complete, 1);
    assert_int_equal(s->is_last_in_book, 0);
    assert_int_equal(s->levels.count, 4);
    ht_sbe_level lv;
    ht_sbe_level_at(&s->levels, 3, &lv);
    assert_int_equal(lv.side, HT_SBE_SIDE_ASK);
    assert_same_double(lv.price, 0.05);
    assert_same_double(lv.amount, 7);
    const ht_sbe_combo_legs *cl = &d[8].u.combo_legs;
    assert_int_equal(cl->instrument_id, 999);
    ht_sbe_leg leg;
    ht_sbe_leg_at(&cl->legs, 1, &leg);
    assert_int_equal(leg.leg_instrument_id, 2);
    assert_int_equal(leg.leg_size, 3);
    assert_string_equal(d[9].u.price_index.index_name, "btc_usd");
    assert_same_double(d[9].u.price_index.price, 25448.57);
    assert_int_equal(d[10].u.rfq.side, HT_SBE_RFQ_NO_DIRECTION);
    assert_same_double(d[10].u.rfq.amount, 25);
    assert_int_equal(d[10].u.rfq.timestamp_ms, 1686858149960ull);
}

/* The encoder writes the guide's ticker frame byte for byte from its decoded fields. */
static void encoder_reproduces_guide_bytes(void **state)
{
    (void)state;
    walked w;
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_ticker)), HT_SBE_OK);
    ht_sbe_ticker t = {0};
    assert_int_equal(ht_sbe_decode_ticker(&w.msgs[0], &t), HT_SBE_OK);
    uint8_t buf[512];
    ht_sbe_writer wr;
    ht_sbe_writer_init(&wr, buf, sizeof buf, 4, 4218);
    wr.version = 1;
    assert_int_equal(ht_sbe_put_ticker(&wr, &t), 0);
    size_t len = ht_sbe_writer_finish(&wr);
    assert_int_equal(len, sizeof guide_ticker - 42);
    assert_memory_equal(buf, guide_ticker + 42, len);
    /* And the book example, groups included. */
    assert_int_equal(walk(&w, GUIDE_PAYLOAD(guide_book)), HT_SBE_OK);
    ht_sbe_book b;
    assert_int_equal(ht_sbe_decode_book(&w.msgs[0], &b), HT_SBE_OK);
    ht_sbe_book_change ch[2];
    for (unsigned i = 0; i < 2; i++)
        ht_sbe_book_change_at(&b.changes, i, &ch[i]);
    ht_sbe_writer_init(&wr, buf, sizeof buf, 3, 21093);
    wr.version = 1;
    assert_int_equal(ht_sbe_put_book(&wr, &b, ch, 2), 0);
    len = ht_sbe_writer_finish(&wr);
    assert_int_equal(len, sizeof guide_book - 42);
    assert_memory_equal(buf, guide_book + 42, len);
}

static void writer_refuses_what_does_not_fit(void **state)
{
    (void)state;
    uint8_t buf[8 + 12 + 133 + 10];
    ht_sbe_writer w;
    ht_sbe_writer_init(&w, buf, sizeof buf, 1, 1);
    ht_sbe_ticker t = {0};
    memset(&t, 0, sizeof t);
    assert_int_equal(ht_sbe_put_ticker(&w, &t), 0);
    size_t before = w.len;
    assert_int_equal(ht_sbe_put_ticker(&w, &t), -1);
    assert_int_equal(w.len, before);
    assert_int_equal(ht_sbe_writer_finish(&w), 0);
    uint8_t tiny[4];
    ht_sbe_writer_init(&w, tiny, sizeof tiny, 1, 1);
    assert_int_equal(ht_sbe_put_snapshot_end(&w), -1);
    assert_int_equal(ht_sbe_writer_finish(&w), 0);
}

/* ---- Unknown templates, schemas and versions ---------------------------------------------------------- */

static void unknown_template_is_skipped_by_its_lengths(void **state)
{
    (void)state;
    uint8_t buf[1024];
    ht_sbe_writer w;
    ht_sbe_writer_init(&w, buf, sizeof buf, 2, 7);
    ht_sbe_ticker t = {0};
    memset(&t, 0, sizeof t);
    t.instrument_id = 5;
    t.mark_price = 1.25;
    assert_int_equal(ht_sbe_put_ticker(&w, &t), 0);
    /* Template 4242: 10-byte block, two groups (the second with a nested group and a var field in each of its
     * two entries), then two var fields. */
    uint8_t body[256];
    size_t n = 0;
    memset(body, 0xAB, 10);
    n += 10;
    const uint8_t g1[] = {3, 0, 2, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6};
    memcpy(body + n, g1, sizeof g1);
    n += sizeof g1;
    const uint8_t g2[] = {2, 0, 2, 0, 1, 0, 1, 0, /* entry 0 */ 9, 9, /* nested */ 1, 0, 1, 0, 0, 0, 0, 0, 7,
                          /* var */ 2, 'h', 'i', /* entry 1 */ 8, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(body + n, g2, sizeof g2);
    n += sizeof g2;
    const uint8_t vars[] = {3, 'a', 'b', 'c', 0};
    memcpy(body + n, vars, sizeof vars);
    n += sizeof vars;
    ht_sbe_msg_header hdr = {10, 4242, 1, 2, 2, 2};
    assert_int_equal(ht_sbe_put_raw(&w, &hdr, body, n), 0);
    t.instrument_id = 6;
    t.mark_price = 2.5;
    assert_int_equal(ht_sbe_put_ticker(&w, &t), 0);
    size_t len = ht_sbe_writer_finish(&w);
    walked wk;
    assert_int_equal(walk(&wk, buf, len), HT_SBE_OK);
    assert_int_equal(wk.n, 3);
    assert_int_equal(wk.msgs[1].hdr.template_id, 4242);
    assert_int_equal(wk.msgs[1].end - wk.msgs[1].block, (long)n);
    ht_sbe_decoded d;
    assert_int_equal(ht_sbe_decode(&wk.msgs[1], &d), HT_SBE_OK);
    assert_false(d.known);
    ht_sbe_ticker got = {0};
    assert_int_equal(ht_sbe_decode_ticker(&wk.msgs[2], &got), HT_SBE_OK);
    assert_int_equal(got.instrument_id, 6);
    assert_same_double(got.mark_price, 2.5);
    /* The CSV line of an unknown template names it and leaves the rest empty. */
    char line[128];
    ht_sbe_status st;
    assert_true(ht_sbe_format_csv(line, sizeof line, 9, &wk.it.frame, &wk.msgs[1], &st) > 0);
    assert_string_equal(line, "9,2,7,4242,,");
}

static void unknown_schema_or_version_is_not_decoded(void **state)
{
    (void)state;
    const uint16_t schema_version[][2] = {{2, 2}, {1, 0}, {1, 4}, {0xFFFF, 3}};
    for (unsigned i = 0; i < HT_ARRAY_LEN(schema_version); i++) {
        uint8_t buf[256], body[133] = {0};
        ht_sbe_writer w;
        ht_sbe_writer_init(&w, buf, sizeof buf, 1, 1);
        ht_sbe_msg_header hdr = {133, HT_SBE_TICKER, schema_version[i][0], schema_version[i][1], 0, 0};
        assert_int_equal(ht_sbe_put_raw(&w, &hdr, body, sizeof body), 0);
        size_t len = ht_sbe_writer_finish(&w);
        walked wk;
        assert_int_equal(walk(&wk, buf, len), HT_SBE_OK);
        assert_int_equal(wk.n, 1);
        assert_false(ht_sbe_schema_known(&wk.msgs[0].hdr));
        ht_sbe_decoded d;
        assert_int_equal(ht_sbe_decode(&wk.msgs[0], &d), HT_SBE_OK);
        assert_false(d.known);
    }
}

/* ---- Hostile packets ------------------------------------------------------------------------------------ */

/* Decodes every message of a walk with ht_sbe_decode and formats it (touching every byte it claims). */
static void decode_everything(const walked *w)
{
    char line[65536];
    for (unsigned i = 0; i < w->n; i++) {
        ht_sbe_status st;
        ht_sbe_format_text(line, sizeof line, 1, &w->it.frame, &w->msgs[i], NULL, &st);
        ht_sbe_format_csv(line, sizeof line, 1, &w->it.frame, &w->msgs[i], &st);
    }
}

/* Cuts a packet at every length; each cut lives in its own heap block of exactly that size so ASan sees any
 * read past it. With the frame's packetLength left alone, every cut must fail at the frame header; with it
 * patched to the cut, the messages wholly inside must come out unchanged and the cut one must be reported. */
static void check_every_truncation(const uint8_t *pkt, size_t len)
{
    walked full;
    assert_int_equal(walk(&full, pkt, len), HT_SBE_OK);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, pkt, cut);
        walked w;
        ht_sbe_status st = walk(&w, copy, cut);
        assert_int_equal(st, cut < 8 ? HT_SBE_ERR_SHORT_FRAME : HT_SBE_ERR_FRAME_LENGTH);
        assert_int_equal(w.n, 0);
        if (cut >= 8) {
            uint16_t plen = (uint16_t)(cut - 8);
            memcpy(copy, &plen, 2);
            st = walk(&w, copy, cut);
            unsigned whole = 0;
            bool at_boundary = cut == 8;
            for (unsigned i = 0; i < full.n; i++) {
                size_t end = (size_t)(full.msgs[i].end - pkt);
                if (end <= cut)
                    whole++;
                if (end == cut)
                    at_boundary = true;
            }
            assert_int_equal(w.n, whole);
            assert_int_equal(st == HT_SBE_OK, at_boundary);
            if (st != HT_SBE_OK) {
                assert_int_equal(w.it.fault_offset, full.msgs[whole].offset);
                ht_error err;
                assert_int_equal(ht_sbe_iter_fault(&w.it, &err), -1);
                assert_non_null(strstr(err.msg, "offset"));
            }
            for (unsigned i = 0; i < w.n; i++)
                assert_int_equal(w.msgs[i].end - copy, full.msgs[i].end - pkt);
            decode_everything(&w);
        }
        free(copy);
    }
}

static void truncated_at_every_offset_encoded(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len = encode_all(buf, sizeof buf);
    check_every_truncation(buf, len);
}

static void truncated_at_every_offset_guide(void **state)
{
    (void)state;
    check_every_truncation(GUIDE_PAYLOAD(guide_instrument_and_v2));
    check_every_truncation(GUIDE_PAYLOAD(guide_trades_ticker_book));
    check_every_truncation(GUIDE_PAYLOAD(guide_snapshot));
}

/* Real capture packets: the largest packet of each channel, cut at every length. */
static void truncated_at_every_offset_capture(void **state)
{
    (void)state;
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap";
    ht_error err;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    assert_non_null(nic);
    static uint8_t largest[256][2048];
    static size_t largest_len[256];
    memset(largest_len, 0, sizeof largest_len);
    ht_nic_packet pkts[HT_NIC_BURST];
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            unsigned ch = pkts[i].payload[2];
            if (pkts[i].len > largest_len[ch] && pkts[i].len <= sizeof largest[ch]) {
                memcpy(largest[ch], pkts[i].payload, pkts[i].len);
                largest_len[ch] = pkts[i].len;
            }
        }
    }
    ht_nic_close(nic);
    unsigned checked = 0;
    for (unsigned ch = 0; ch < 256; ch++) {
        if (largest_len[ch]) {
            check_every_truncation(largest[ch], largest_len[ch]);
            checked++;
        }
    }
    assert_true(checked >= 20);
}

/* Builds a one-message packet from a raw header and body; returns its length. */
static size_t raw_packet(uint8_t *buf, size_t cap, const ht_sbe_msg_header *hdr, const void *body, size_t n)
{
    ht_sbe_writer w;
    ht_sbe_writer_init(&w, buf, cap, 1, 1);
    assert_int_equal(ht_sbe_put_raw(&w, hdr, body, n), 0);
    return ht_sbe_writer_finish(&w);
}

/* Walks an exactly-sized heap copy and returns the status (ASan guards the end). The copy lives until the
 * next call, so the messages in w stay readable. */
static ht_sbe_status walk_copy(const uint8_t *pkt, size_t len, walked *w)
{
    static uint8_t *copy;
    free(copy);
    copy = malloc(len);
    memcpy(copy, pkt, len);
    ht_sbe_status st = walk(w, copy, len);
    decode_everything(w);
    for (unsigned i = 0; i < w->n; i++) {
        ht_sbe_decoded d;
        ht_sbe_decode(&w->msgs[i], &d);
    }
    return st;
}

static void lying_lengths_are_caught(void **state)
{
    (void)state;
    uint8_t buf[2048], body[1024];
    memset(body, 0, sizeof body);
    walked w;
    size_t len;
    /* blockLength past the packet. */
    ht_sbe_msg_header h1 = {65535, HT_SBE_TICKER, 1, 2, 0, 0};
    len = raw_packet(buf, sizeof buf, &h1, body, 133);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_ERR_BLOCK_OVERRUN);
    assert_int_equal(w.it.fault_template, HT_SBE_TICKER);
    assert_int_equal(w.it.fault_offset, 8);
    /* A group whose count times entry size overflows the packet. */
    ht_sbe_msg_header h2 = {29, HT_SBE_BOOK, 1, 2, 1, 0};
    const uint8_t big_group[8] = {18, 0, 0xFF, 0xFF, 0, 0, 0, 0};
    memcpy(body + 29, big_group, 8);
    len = raw_packet(buf, sizeof buf, &h2, body, 29 + 8 + 18 * 3);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_ERR_GROUP_OVERRUN);
    /* Group headers missing: numGroups says 65535. */
    ht_sbe_msg_header h3 = {4, 4243, 1, 2, 65535, 0};
    len = raw_packet(buf, sizeof buf, &h3, body, 4);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_ERR_GROUP_HEADER);
    /* A var-data length past the end. */
    ht_sbe_msg_header h4 = {140, HT_SBE_INSTRUMENT, 1, 2, 0, 1};
    memset(body, 0, sizeof body);
    body[140] = 200;
    len = raw_packet(buf, sizeof buf, &h4, body, 141 + 10);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_ERR_VAR_OVERRUN);
    /* Var-data fields promised, none present. */
    ht_sbe_msg_header h5 = {0, 4244, 1, 2, 0, 3};
    len = raw_packet(buf, sizeof buf, &h5, body, 0);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_ERR_VAR_OVERRUN);
    /* Groups nested deeper than allowed: each level one entry holding the next group. */
    uint8_t nest[256];
    size_t nn = 0;
    for (unsigned depth = 0; depth <= HT_SBE_MAX_NESTING; depth++) {
        const uint8_t gh[8] = {0, 0, 1, 0, 1, 0, 0, 0};
        memcpy(nest + nn, gh, 8);
        nn += 8;
    }
    const uint8_t leaf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(nest + nn, leaf, 8);
    nn += 8;
    ht_sbe_msg_header h6 = {0, 4245, 1, 2, 1, 0};
    len = raw_packet(buf, sizeof buf, &h6, nest, nn);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_ERR_NESTING);
    /* A header cut short: 5 bytes after the frame header. */
    uint8_t shorty[13] = {5, 0, 1, 0, 1, 0, 0, 0, 0x85, 0, 0xEB, 0x03, 1};
    assert_int_equal(walk_copy(shorty, sizeof shorty, &w), HT_SBE_ERR_SHORT_HEADER);
    assert_int_equal(w.it.fault_template, 1003);
    /* Bytes after packetLength are ignored and counted. */
    uint8_t trailing[8 + 12 + 3] = {12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0xEE, 0x03, 1, 0, 2, 0, 0, 0, 0, 0, 9, 9, 9};
    assert_int_equal(walk_copy(trailing, sizeof trailing, &w), HT_SBE_OK);
    assert_int_equal(w.it.trailing_bytes, 3);
    assert_int_equal(w.n, 1);
}

static void known_templates_check_their_own_sizes(void **state)
{
    (void)state;
    uint8_t buf[2048], body[1024];
    memset(body, 0, sizeof body);
    walked w;
    size_t len;
    ht_sbe_decoded d;
    /* A ticker whose blockLength is too short for its fields. */
    ht_sbe_msg_header h1 = {100, HT_SBE_TICKER, 1, 2, 0, 0};
    len = raw_packet(buf, sizeof buf, &h1, body, 100);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_OK);
    assert_int_equal(ht_sbe_decode(&w.msgs[0], &d), HT_SBE_ERR_BLOCK_TOO_SHORT);
    char line[256];
    ht_sbe_status st;
    assert_int_equal(ht_sbe_format_csv(line, sizeof line, 1, &w.it.frame, &w.msgs[0], &st), -1);
    assert_int_equal(st, HT_SBE_ERR_BLOCK_TOO_SHORT);
    /* A book without its group. */
    ht_sbe_msg_header h2 = {29, HT_SBE_BOOK, 1, 2, 0, 0};
    len = raw_packet(buf, sizeof buf, &h2, body, 29);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_OK);
    assert_int_equal(ht_sbe_decode(&w.msgs[0], &d), HT_SBE_ERR_MISSING_GROUP);
    /* A snapshot whose level entries are shorter than a level. */
    ht_sbe_msg_header h3 = {22, HT_SBE_SNAPSHOT, 1, 2, 1, 0};
    const uint8_t gh[8] = {9, 0, 2, 0, 0, 0, 0, 0};
    memcpy(body + 22, gh, 8);
    len = raw_packet(buf, sizeof buf, &h3, body, 22 + 8 + 18);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_OK);
    assert_int_equal(ht_sbe_decode(&w.msgs[0], &d), HT_SBE_ERR_ENTRY_TOO_SHORT);
    /* An instrument without its name. */
    ht_sbe_msg_header h4 = {140, HT_SBE_INSTRUMENT, 1, 2, 0, 0};
    len = raw_packet(buf, sizeof buf, &h4, body, 140);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_OK);
    assert_int_equal(ht_sbe_decode(&w.msgs[0], &d), HT_SBE_ERR_MISSING_VAR_DATA);
    /* A longer block from a newer producer is fine: extra bytes skipped. */
    ht_sbe_msg_header h5 = {133 + 16, HT_SBE_TICKER, 1, 3, 0, 0};
    body[0] = 42;
    len = raw_packet(buf, sizeof buf, &h5, body, 133 + 16);
    assert_int_equal(walk_copy(buf, len, &w), HT_SBE_OK);
    assert_int_equal(ht_sbe_decode(&w.msgs[0], &d), HT_SBE_OK);
    assert_int_equal(d.u.ticker.instrument_id, 42);
    for (int s = 0; s < HT_SBE_STATUS_COUNT; s++)
        assert_true(strlen(ht_sbe_status_str((ht_sbe_status)s)) > 1);
}

/* ---- Number formatting --------------------------------------------------------------------------------- */

static void doubles_print_short_and_round_trip(void **state)
{
    (void)state;
    char buf[64];
    ht_format_double(buf, sizeof buf, 25448.57);
    assert_string_equal(buf, "25448.57");
    ht_format_double(buf, sizeof buf, 0.0292);
    assert_string_equal(buf, "0.0292");
    ht_format_double(buf, sizeof buf, 0);
    assert_string_equal(buf, "0");
    ht_format_double(buf, sizeof buf, 1e-5);
    assert_string_equal(buf, "1e-05");
    uint64_t null_bits = UINT64_MAX;
    double null_nan;
    memcpy(&null_nan, &null_bits, sizeof null_nan);
    ht_format_double(buf, sizeof buf, null_nan);
    assert_string_equal(buf, "-nan");
    ht_format_double(buf, sizeof buf, fabs(null_nan));
    assert_string_equal(buf, "nan");
    /* Every double comes back exactly (a deterministic pseudo-random sweep of bit patterns). */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (isnan(v) || isinf(v))
            continue;
        ht_format_double(buf, sizeof buf, v);
        assert_true(strtod(buf, NULL) == v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_guide_instrument_v1),
        cmocka_unit_test(decodes_guide_instrument_and_v2),
        cmocka_unit_test(decodes_guide_book),
        cmocka_unit_test(decodes_guide_trades_ticker_book),
        cmocka_unit_test(decodes_guide_ticker),
        cmocka_unit_test(decodes_guide_snapshot),
        cmocka_unit_test(guide_snapshot_start_end),
        cmocka_unit_test(decodes_guide_combo_legs),
        cmocka_unit_test(guide_price_index_and_rfq),
        cmocka_unit_test(roundtrip_every_template),
        cmocka_unit_test(encoder_reproduces_guide_bytes),
        cmocka_unit_test(writer_refuses_what_does_not_fit),
        cmocka_unit_test(unknown_template_is_skipped_by_its_lengths),
        cmocka_unit_test(unknown_schema_or_version_is_not_decoded),
        cmocka_unit_test(truncated_at_every_offset_encoded),
        cmocka_unit_test(truncated_at_every_offset_guide),
        cmocka_unit_test(truncated_at_every_offset_capture),
        cmocka_unit_test(lying_lengths_are_caught),
        cmocka_unit_test(known_templates_check_their_own_sizes),
        cmocka_unit_test(doubles_print_short_and_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

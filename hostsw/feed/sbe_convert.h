/* SPDX-License-Identifier: MIT */
/* The one place where Deribit's SBE numbering of instrument kinds, option types, instrument types, states,
 * settlement periods and trade fields becomes hedgetrig's own (hedgetrig/instrument.h). Internal to the feed.
 * A value the schema may add later becomes the enum's _OTHER, never a number downstream code misreads. */
#ifndef HEDGETRIG_FEED_SBE_CONVERT_H
#define HEDGETRIG_FEED_SBE_CONVERT_H

#include "hedgetrig/instrument.h"
#include "hedgetrig/sbe.h"

static inline ht_instrument_kind sbe_to_kind(uint8_t v)
{
    switch (v) {
    case HT_SBE_KIND_FUTURE: return HT_INST_FUTURE;
    case HT_SBE_KIND_OPTION: return HT_INST_OPTION;
    case HT_SBE_KIND_FUTURE_COMBO: return HT_INST_FUTURE_COMBO;
    case HT_SBE_KIND_OPTION_COMBO: return HT_INST_OPTION_COMBO;
    case HT_SBE_KIND_SPOT: return HT_INST_SPOT;
    default: return HT_INST_KIND_OTHER;
    }
}

static inline ht_option_type sbe_to_option_type(uint8_t v)
{
    switch (v) {
    case HT_SBE_OPTION_NONE: return HT_OPTION_NONE;
    case HT_SBE_OPTION_CALL: return HT_OPTION_CALL;
    case HT_SBE_OPTION_PUT: return HT_OPTION_PUT;
    default: return HT_OPTION_OTHER;
    }
}

static inline ht_instrument_type sbe_to_instrument_type(uint8_t v)
{
    switch (v) {
    case HT_SBE_TYPE_NOT_APPLICABLE: return HT_INST_TYPE_NONE;
    case HT_SBE_TYPE_REVERSED: return HT_INST_INVERSE;
    case HT_SBE_TYPE_LINEAR: return HT_INST_LINEAR;
    default: return HT_INST_TYPE_OTHER;
    }
}

static inline ht_instrument_state sbe_to_state(uint8_t v)
{
    switch (v) {
    case HT_SBE_STATE_CREATED: return HT_INST_CREATED;
    case HT_SBE_STATE_OPEN: return HT_INST_OPEN;
    case HT_SBE_STATE_CLOSED: return HT_INST_CLOSED;
    case HT_SBE_STATE_SETTLED: return HT_INST_SETTLED;
    case HT_SBE_STATE_DEACTIVATED: return HT_INST_DEACTIVATED;
    case HT_SBE_STATE_INACTIVE: return HT_INST_INACTIVE;
    case HT_SBE_STATE_STARTED: return HT_INST_STARTED;
    default: return HT_INST_STATE_OTHER;
    }
}

static inline ht_settlement_period sbe_to_period(uint8_t v)
{
    switch (v) {
    case HT_SBE_PERIOD_PERPETUAL: return HT_PERIOD_PERPETUAL;
    case HT_SBE_PERIOD_MINUTE: return HT_PERIOD_MINUTE;
    case HT_SBE_PERIOD_HOUR: return HT_PERIOD_HOUR;
    case HT_SBE_PERIOD_DAY: return HT_PERIOD_DAY;
    case HT_SBE_PERIOD_WEEK: return HT_PERIOD_WEEK;
    case HT_SBE_PERIOD_MONTH: return HT_PERIOD_MONTH;
    case HT_SBE_PERIOD_YEAR: return HT_PERIOD_YEAR;
    case HT_SBE_PERIOD_NULL: return HT_PERIOD_NONE;
    default: return HT_PERIOD_OTHER;
    }
}

static inline ht_taker_side sbe_to_taker_side(uint8_t v)
{
    return v == HT_SBE_BUY ? HT_TAKER_BUY : v == HT_SBE_SELL ? HT_TAKER_SELL : HT_TAKER_OTHER;
}

static inline ht_tick_direction sbe_to_tick_direction(uint8_t v)
{
    switch (v) {
    case HT_SBE_TICK_PLUS: return HT_TICK_PLUS;
    case HT_SBE_TICK_ZEROPLUS: return HT_TICK_ZERO_PLUS;
    case HT_SBE_TICK_MINUS: return HT_TICK_MINUS;
    case HT_SBE_TICK_ZEROMINUS: return HT_TICK_ZERO_MINUS;
    default: return HT_TICK_OTHER;
    }
}

static inline ht_liquidation sbe_to_liquidation(uint8_t v)
{
    switch (v) {
    case HT_SBE_LIQ_NONE: return HT_LIQ_NONE;
    case HT_SBE_LIQ_MAKER: return HT_LIQ_MAKER;
    case HT_SBE_LIQ_TAKER: return HT_LIQ_TAKER;
    case HT_SBE_LIQ_BOTH: return HT_LIQ_BOTH;
    default: return HT_LIQ_OTHER;
    }
}

/* A decoded 1003 as hedgetrig's ticker. */
static inline void sbe_to_ticker(const ht_sbe_ticker *t, ht_ticker *out)
{
    *out = (ht_ticker){.instrument_id = t->instrument_id, .state = sbe_to_state(t->state),
                       .timestamp_ms = t->timestamp_ms, .open_interest = t->open_interest,
                       .min_sell_price = t->min_sell_price, .max_buy_price = t->max_buy_price,
                       .last_price = t->last_price, .index_price = t->index_price, .mark_price = t->mark_price,
                       .best_bid_price = t->best_bid_price, .best_bid_amount = t->best_bid_amount,
                       .best_ask_price = t->best_ask_price, .best_ask_amount = t->best_ask_amount,
                       .current_funding = t->current_funding, .funding_8h = t->funding_8h,
                       .estimated_delivery_price = t->estimated_delivery_price,
                       .delivery_price = t->delivery_price, .settlement_price = t->settlement_price};
}

/* One decoded 1002 trade as hedgetrig's trade. */
static inline void sbe_to_trade(const ht_sbe_trade *t, ht_trade *out)
{
    *out = (ht_trade){
        .direction = sbe_to_taker_side(t->direction),
        .price = t->price,
        .amount = t->amount,
        .timestamp_ms = t->timestamp_ms,
        .mark_price = t->mark_price,
        .index_price = t->index_price,
        .trade_seq = t->trade_seq,
        .trade_id = t->trade_id,
        .tick_direction = sbe_to_tick_direction(t->tick_direction),
        .liquidation = sbe_to_liquidation(t->liquidation),
        .iv = t->iv,
        .block_trade_id = t->block_trade_id,
        .combo_trade_id = t->combo_trade_id,
    };
}

/* One tick-size step of a 1010. */
static inline ht_tick_step sbe_to_tick_step(const ht_sbe_tick_step *s)
{
    return (ht_tick_step){s->above_price, s->tick_size};
}

#endif

/* SPDX-License-Identifier: MIT */
/* hedgetrig's own words for what an instrument is and how it trades (kind, option type, inverse or linear,
 * state, settlement period, ticker, trade), whatever protocol described it. A venue's decoder converts its
 * own values into these in one place (Deribit's SBE: hostsw/feed/sbe_convert.h), so that a second protocol
 * can feed the same registry, greeks, optimizer and engine. */
#ifndef HEDGETRIG_INSTRUMENT_H
#define HEDGETRIG_INSTRUMENT_H

#include <stdint.h>

/* What an instrument is. The order is the order tools list instruments in (hedgetrig market). */
typedef enum ht_instrument_kind {
    HT_INST_FUTURE = 0,       /* futures and perpetuals (ht_instrument.perpetual tells them apart) */
    HT_INST_OPTION,
    HT_INST_FUTURE_COMBO,
    HT_INST_OPTION_COMBO,
    HT_INST_SPOT,
    HT_INST_KIND_OTHER        /* a kind the venue named that hedgetrig does not know */
} ht_instrument_kind;

/* Call or put. */
typedef enum ht_option_type {
    HT_OPTION_NONE = 0,       /* not an option */
    HT_OPTION_CALL,
    HT_OPTION_PUT,
    HT_OPTION_OTHER           /* a value the venue named that hedgetrig does not know */
} ht_option_type;

/* How an instrument is margined and settled. */
typedef enum ht_instrument_type {
    HT_INST_TYPE_NONE = 0,    /* the venue says: not applicable */
    HT_INST_INVERSE,          /* priced, margined and settled in the base coin (Deribit's "reversed") */
    HT_INST_LINEAR,           /* margined and settled in the quote currency */
    HT_INST_TYPE_OTHER
} ht_instrument_type;

/* Where an instrument is in its life. */
typedef enum ht_instrument_state {
    HT_INST_CREATED = 0,
    HT_INST_OPEN,
    HT_INST_CLOSED,
    HT_INST_SETTLED,
    HT_INST_DEACTIVATED,
    HT_INST_INACTIVE,
    HT_INST_STARTED,
    HT_INST_STATE_OTHER
} ht_instrument_state;

/* How often an instrument settles. */
typedef enum ht_settlement_period {
    HT_PERIOD_PERPETUAL = 0,
    HT_PERIOD_MINUTE,
    HT_PERIOD_HOUR,
    HT_PERIOD_DAY,
    HT_PERIOD_WEEK,
    HT_PERIOD_MONTH,
    HT_PERIOD_YEAR,
    HT_PERIOD_NONE,           /* the venue did not say */
    HT_PERIOD_OTHER
} ht_settlement_period;

/* One step of a tick-size ladder: above above_price the tick is tick_size (quote currency). */
typedef struct ht_tick_step {
    double above_price;
    double tick_size;
} ht_tick_step;

/* An instrument's latest market state (units as in hedgetrig/feed.h: prices in its quote currency, amounts in
 * its size currency, index prices per coin, times in ms since the Unix epoch, rates as fractions). */
typedef struct ht_ticker {
    uint32_t instrument_id;
    ht_instrument_state state;
    uint64_t timestamp_ms;
    double open_interest;            /* size currency; NaN when absent */
    double min_sell_price;           /* lowest price a sell may have now */
    double max_buy_price;            /* highest price a buy may have now */
    double last_price;               /* NaN when no trade yet */
    double index_price;              /* USD or USDC index */
    double mark_price;
    double best_bid_price;           /* 0 when the bid side is empty */
    double best_bid_amount;          /* 0 when empty */
    double best_ask_price;           /* 0 when the ask side is empty */
    double best_ask_amount;          /* 0 when empty */
    double current_funding;          /* perpetuals: funding rate now (fraction); NaN otherwise */
    double funding_8h;               /* perpetuals: 8-hour funding rate (fraction); NaN otherwise */
    double estimated_delivery_price; /* index estimate; NaN when absent */
    double delivery_price;           /* NaN when absent */
    double settlement_price;         /* of the last settlement; NaN when absent */
} ht_ticker;

/* The side of a trade's taker. */
typedef enum ht_taker_side {
    HT_TAKER_BUY = 0,
    HT_TAKER_SELL,
    HT_TAKER_OTHER
} ht_taker_side;

/* How a trade's price compares with the one before. */
typedef enum ht_tick_direction {
    HT_TICK_PLUS = 0,         /* higher */
    HT_TICK_ZERO_PLUS,        /* the same, after a higher one */
    HT_TICK_MINUS,            /* lower */
    HT_TICK_ZERO_MINUS,       /* the same, after a lower one */
    HT_TICK_OTHER
} ht_tick_direction;

/* Which side of a trade was a liquidation. */
typedef enum ht_liquidation {
    HT_LIQ_NONE = 0,
    HT_LIQ_MAKER,
    HT_LIQ_TAKER,
    HT_LIQ_BOTH,
    HT_LIQ_OTHER
} ht_liquidation;

/* One trade (units as for ht_ticker). */
typedef struct ht_trade {
    ht_taker_side direction;  /* of the taker */
    double price;
    double amount;
    uint64_t timestamp_ms;
    double mark_price;        /* at the trade */
    double index_price;       /* at the trade */
    uint64_t trade_seq;
    uint64_t trade_id;
    ht_tick_direction tick_direction;
    ht_liquidation liquidation;
    double iv;                /* implied volatility in percent (options), NaN when absent */
    uint64_t block_trade_id;  /* 0 when absent */
    uint64_t combo_trade_id;  /* 0 when absent */
} ht_trade;

#endif

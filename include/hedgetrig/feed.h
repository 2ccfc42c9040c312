/* SPDX-License-Identifier: MIT */
/* The market-data feed: decodes Deribit multicast packets into an instrument registry, the latest market
 * state per instrument, index prices, top-N books, per-channel sequencing and normalised events. */
#ifndef HEDGETRIG_FEED_H
#define HEDGETRIG_FEED_H

/*
 * Life cycle (liquid-dsp style):
 *     ht_feed_config cfg;  ht_feed_config_default(&cfg);  cfg.on_event = my_fn;  cfg.user = me;
 *     ht_feed *feed = ht_feed_create(&cfg, &err);             // all memory is taken here
 *     for each UDP payload: ht_feed_on_packet(feed, payload, len, rx_tsc);   // no allocation, no syscall
 *     ... ht_feed_instrument_by_name(feed, "BTC-PERPETUAL")->ticker.mark_price ...
 *     ht_feed_destroy(feed);
 *
 * Threading: one thread calls ht_feed_on_packet; readers of the registry, books and stats must be that
 * thread (or synchronise with it). Pointers returned by the lookups stay valid until ht_feed_destroy.
 *
 * Units (see also hedgetrig/sbe.h): prices are in the instrument's quote currency (BTC inverse options: BTC
 * per option; BTC perpetual and futures: USD; BTC_USDC linear options: USDC); amounts in its size currency
 * (inverse futures and perpetuals: USD; options: the base coin); index prices in USD (or USDC for *_usdc
 * indices) per coin; times in milliseconds since the Unix epoch (exchange clock); commissions as fractions
 * of the notional. Absent optional doubles are NaN.
 *
 * Books: a book gets its base from a snapshot (1004 between 1005 and 1006); changes (1001) that arrive while it
 * waits are queued and those newer than the snapshot applied after it. A later snapshot at the book's own
 * changeId is compared with it level for level (stats.snapshots_verified / _mismatched).
 *
 * Trust: a price is trustworthy when the instrument has had a full ticker (1003) since the last sequence
 * gap on its incremental channel (or the snapshot channel restored it) and its state is open. A gap makes
 * every instrument of that channel stale at once in O(1) (each channel remembers the serial number of its
 * latest gap, each instrument the serial at which it was last made whole). Books follow the changeId
 * chain: a break makes the book broken until a snapshot (1004 between 1005 and 1006) rebuilds it; a
 * sequence gap makes it unverified until the next change proves the chain unbroken.
 */

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/instrument.h"
#include "hedgetrig/sbe.h"

typedef struct ht_feed ht_feed;

/* Longest instrument name kept (Deribit names are at most about 30 characters). */
#define HT_INSTRUMENT_NAME_MAX 63
/* Tick-size steps kept per instrument (from 1010). */
#define HT_INSTRUMENT_MAX_TICK_STEPS 8
/* Largest 1001 message (header included) the change queue keeps: 33 level changes. */
#define HT_FEED_QUEUE_ENTRY_BYTES 640
/* No channel (an instrument whose incremental channel has not been seen yet). */
#define HT_FEED_NO_CHANNEL 0xFFFFu

/* ---- Instruments ---------------------------------------------------------------------------------- */

/* One instrument: static data from 1000/1010 and the latest market state. Read-only for consumers. Its kinds,
 * types and states are hedgetrig's own (hedgetrig/instrument.h), converted from the venue's values where the
 * feed decodes them, so that nothing downstream reads a protocol's numbering. */
typedef struct ht_instrument {
    uint32_t id;                          /* the venue's instrument id */
    uint32_t index;                       /* 0-based registration order (for arrays kept in parallel) */
    char name[HT_INSTRUMENT_NAME_MAX + 1]; /* e.g. "BTC-23JUN23-25500-C", "BTC-PERPETUAL" */
    uint8_t name_len;
    uint8_t kind;              /* ht_instrument_kind: future (also perpetual), option, combos, spot */
    uint8_t option_type;       /* ht_option_type: none, call, put */
    uint8_t instrument_type;   /* ht_instrument_type: inverse or linear */
    bool inverse;              /* instrument_type == HT_INST_INVERSE: priced and settled in the base coin */
    bool perpetual;            /* settlement_period == HT_PERIOD_PERPETUAL */
    uint8_t state;             /* ht_instrument_state, from the latest 1000/1010/1003 */
    uint8_t settlement_period; /* ht_settlement_period (HT_PERIOD_NONE when absent) */
    uint16_t settlement_period_count;
    char base_currency[9];       /* "BTC", "ETH" */
    char quote_currency[9];      /* prices are in this: "BTC" (inverse options), "USD", "USDC" */
    char counter_currency[9];    /* "USD", "USDC" */
    char settlement_currency[9]; /* "BTC", "USDC" */
    char size_currency[9];       /* amounts are in this */
    char index_name[17];         /* the underlying index: lower-case base "_" counter, e.g. "btc_usd" */
    double strike_price;         /* options: counter currency (USD for inverse, USDC for linear); NaN otherwise */
    uint64_t expiration_timestamp_ms; /* expiry (UTC ms); perpetuals: far future (year 3000) */
    uint64_t creation_timestamp_ms;
    double contract_size;        /* size currency per contract (BTC options: 1 BTC; BTC perpetual: 10 USD) */
    double tick_size;            /* quote currency, below the first tick step */
    double min_trade_amount;     /* size currency */
    double maker_commission;     /* fraction of notional (negative: rebate) */
    double taker_commission;     /* fraction of notional */
    double block_trade_commission; /* fraction; NaN when absent */
    double max_liquidation_commission; /* fraction; NaN when absent */
    double max_leverage;         /* NaN when absent */
    uint8_t n_tick_steps;        /* from 1010, at most HT_INSTRUMENT_MAX_TICK_STEPS */
    ht_tick_step tick_steps[HT_INSTRUMENT_MAX_TICK_STEPS]; /* above above_price the tick is tick_size */
    uint16_t channel_id;         /* incremental channel of its book/trades/ticker, HT_FEED_NO_CHANNEL until seen */

    /* Latest market state from 1003 (fields and units as in ht_ticker: mark_price, index_price,
     * best_bid_price/_amount, best_ask_price/_amount, last_price, current_funding, funding_8h, ...).
     * ticker.timestamp_ms is 0 until the first ticker. A ticker older than the one held is ignored. */
    ht_ticker ticker;
    uint64_t ticker_updates;     /* tickers applied */

    /* Latest trade from 1002. */
    double last_trade_price;     /* quote currency; NaN before the first trade */
    double last_trade_amount;    /* size currency */
    double last_trade_iv;        /* implied volatility in percent (options), NaN when absent */
    uint64_t last_trade_timestamp_ms;
    uint8_t last_trade_direction; /* ht_taker_side */
    uint64_t trades;             /* trades seen */
} ht_instrument;

/* Is the instrument an option / a future or perpetual. */
static inline bool ht_instrument_is_option(const ht_instrument *in) { return in->kind == HT_INST_OPTION; }
static inline bool ht_instrument_is_future(const ht_instrument *in) { return in->kind == HT_INST_FUTURE; }

/* ---- Index prices --------------------------------------------------------------------------------- */

/* One price index from 1008 (channel 0). */
typedef struct ht_index_price {
    char name[17];         /* "btc_usd", "eth_usd", "btc_usdc", ... */
    uint32_t index;        /* 0-based order of first appearance */
    double price;          /* counter currency (USD or USDC) per coin; NaN before the first update */
    uint64_t timestamp_ms; /* exchange time of the latest update */
    uint64_t updates;
    uint16_t channel_id;   /* channel it arrives on (0 in production) */
} ht_index_price;

/* ---- Books ---------------------------------------------------------------------------------------- */

typedef struct ht_book_level {
    double price;  /* quote currency */
    double amount; /* size currency */
} ht_book_level;

typedef enum ht_book_status {
    HT_BOOK_NONE = 0,   /* no snapshot yet: the levels mean nothing */
    HT_BOOK_OK,         /* built from a snapshot, every change since applied in an unbroken changeId chain */
    HT_BOOK_UNVERIFIED, /* a sequence gap on its channel since the last change: the next change tells */
    HT_BOOK_BROKEN      /* the changeId chain broke or a change did not fit the levels held: wait for a snapshot */
} ht_book_status;

/* The book of one instrument, best levels first, at most `depth` per side held. Levels past the first
 * *_reliable ones are held but may have unseen levels in front of them (levels past `depth` are not
 * held, so a delete near the top makes the bottom uncertain until the next snapshot). */
typedef struct ht_book {
    const ht_book_level *bids; /* highest price first */
    const ht_book_level *asks; /* lowest price first */
    uint32_t bid_count;        /* levels held */
    uint32_t ask_count;
    uint32_t bid_reliable;     /* top levels known to be exactly the exchange's (<= bid_count) */
    uint32_t ask_reliable;
    uint32_t depth;            /* capacity per side (ht_feed_config.book_depth) */
    uint64_t change_id;        /* changeId of the latest change or snapshot applied */
    uint64_t timestamp_ms;     /* exchange time of that change */
    uint64_t changes;          /* 1001 messages applied */
    uint64_t snapshots;        /* snapshots applied */
} ht_book;

/* ---- Trust ---------------------------------------------------------------------------------------- */

typedef enum ht_price_status {
    HT_PRICE_OK = 0,    /* trustworthy now */
    HT_PRICE_NONE,      /* never received */
    HT_PRICE_STALE,     /* a sequence gap (or reset, or malformed packet) on its channel since the last full update */
    HT_PRICE_NOT_OPEN,  /* the instrument is not open (created, closed, settled, inactive) */
    HT_PRICE_OLD        /* older than the max_age_ms asked for, on the feed's clock */
} ht_price_status;

/* Short name of a status ("ok", "stale", ...). */
const char *ht_price_status_str(ht_price_status s);
const char *ht_book_status_str(ht_book_status s);

/* ---- Normalised events ------------------------------------------------------------------------------ */

typedef enum ht_feed_event_kind {
    HT_FEED_EV_INDEX = 0,      /* 1008: an underlying index price (ev->index) */
    HT_FEED_EV_TICKER,         /* 1003 of a future, perpetual, spot or combo: mark and top of book
                                  (ev->instrument->ticker) */
    HT_FEED_EV_OPTION_TICKER,  /* 1003 of an option: mark price and best bid/ask (ev->instrument->ticker) */
    HT_FEED_EV_TRADE,          /* 1002: one event per trade, with IV for options (ev->trade) */
    HT_FEED_EV_BOOK,           /* 1001 applied or a snapshot completed: the book changed (ev->book) */
    HT_FEED_EV_INSTRUMENT,     /* 1000/1010: an instrument was added or its static data or state changed */
    HT_FEED_EV_GAP,            /* a channel lost packets (or reset): its instruments are stale (ev->missed) */
    HT_FEED_EV_KIND_COUNT
} ht_feed_event_kind;

typedef struct ht_feed_event {
    ht_feed_event_kind kind;
    uint16_t channel_id;              /* channel of the packet that carried it */
    uint32_t seq;                     /* that packet's sequence number */
    uint64_t rx_tsc;                  /* the packet's receive TSC (as given to ht_feed_on_packet) */
    uint64_t exchange_timestamp_ms;   /* the message's exchange time (0 when it has none) */
    const ht_instrument *instrument;  /* TICKER, OPTION_TICKER, TRADE, BOOK, INSTRUMENT; else NULL */
    const ht_index_price *index;      /* INDEX; else NULL */
    const ht_trade *trade;            /* TRADE: the trade (valid during the callback only); else NULL */
    const ht_book *book;              /* BOOK; else NULL */
    uint32_t missed;                  /* GAP: packets missed (0 for a reset) */
} ht_feed_event;

/* Called synchronously from ht_feed_on_packet for every event. It must not call ht_feed_on_packet. */
typedef void (*ht_feed_event_fn)(void *user, const ht_feed_event *ev);

/* ---- Channels and counters ------------------------------------------------------------------------- */

/* One multicast channel as the feed sees it. */
typedef struct ht_feed_channel {
    uint16_t id;
    bool is_snapshot;        /* has sent 1005 or 1004 */
    bool in_snapshot;        /* between 1005 and 1006 */
    bool have_seq;           /* has accepted a packet */
    uint32_t last_seq;       /* sequence of the latest accepted packet */
    uint64_t seen_mask;      /* bit i: packet last_seq - 1 - i was accepted (duplicate / late detection) */
    uint64_t last_gap_serial; /* the feed's gap serial at this channel's latest gap (0: never) */
    uint64_t packets;        /* accepted packets */
    uint64_t messages;       /* messages in accepted packets */
    uint64_t by_template[HT_SBE_TEMPLATE_COUNT]; /* known messages by template (index id - 1000) */
    uint64_t other_messages; /* unknown templates, schemas or versions */
    uint64_t gaps;           /* forward jumps in sequence */
    uint64_t missed;         /* packets missing in those jumps */
    uint64_t duplicates;     /* packets seen twice (dropped) */
    uint64_t late;           /* packets that arrived after a later one (reordered; dropped, counted as missed
                                in the gap they left) */
    uint64_t resets;         /* sequence reset to 0 (or jumped back beyond the 64-packet window) */
    uint64_t wraps;          /* sequence passed 2^32 - 1 -> 0 (normal) */
    uint64_t malformed;      /* packets whose messages lied (decode stopped at the lie) */
    uint64_t first_exchange_ms, last_exchange_ms; /* exchange time span of its messages (0: none) */
} ht_feed_channel;

/* Where the latest malformed packet lied. */
typedef struct ht_feed_fault {
    ht_sbe_status status;  /* HT_SBE_OK when no packet has been malformed */
    uint64_t packet;       /* 1-based count of packets given to the feed */
    uint16_t channel_id;   /* 0 when the frame header itself was bad */
    uint32_t seq;
    uint32_t offset;       /* byte offset in the UDP payload */
    uint16_t template_id;  /* of the message that lied (0: the frame header) */
} ht_feed_fault;

/* Feed-wide counters. */
typedef struct ht_feed_stats {
    uint64_t packets;            /* given to ht_feed_on_packet */
    uint64_t bytes;
    uint64_t packets_accepted;   /* in sequence or after a gap (not duplicate, late or malformed-frame) */
    uint64_t messages;           /* in accepted packets */
    uint64_t by_template[HT_SBE_TEMPLATE_COUNT];
    uint64_t unknown_template;   /* skipped by their lengths */
    uint64_t unknown_schema;     /* schema id other than 1, skipped */
    uint64_t unknown_version;    /* version outside 1-3, skipped */
    uint64_t malformed_packets;  /* a lie stopped the decode */
    uint64_t by_status[HT_SBE_STATUS_COUNT]; /* what the lies were */
    uint64_t trailing_bytes;     /* packets with bytes after packetLength (ignored) */
    uint64_t seq_gaps, seq_missed, seq_duplicates, seq_late, seq_resets, seq_wraps;
    uint64_t registry_full;      /* instruments not registered: registry at capacity */
    uint64_t channels_full;      /* packets dropped: channel table at capacity */
    uint64_t indices_full;       /* index updates dropped: index table at capacity */
    uint64_t unknown_instrument; /* book/trades/ticker/snapshot for an id not (yet) in the registry */
    uint64_t name_too_long;      /* instrument names cut to HT_INSTRUMENT_NAME_MAX */
    uint64_t old_tickers;        /* tickers older than the one held (ignored) */
    uint64_t book_before_snapshot; /* 1001 for a book with no snapshot yet (ignored) */
    uint64_t book_old_changes;   /* 1001 whose changeId the book already has (ignored) */
    uint64_t book_chain_breaks;  /* prevChangeId did not match: book broken */
    uint64_t book_inconsistent;  /* a change named a level the book does not hold: book broken */
    uint64_t book_levels_dropped; /* levels beyond book_depth not held */
    uint64_t snapshots_applied;  /* complete snapshots applied */
    uint64_t snapshots_ignored;  /* 1004 outside 1005..1006, or older than the book held */
    uint64_t snapshots_aborted;  /* a gap on the snapshot channel cut a multi-part snapshot */
    uint64_t snapshots_verified; /* snapshots at a sound book's changeId that matched it level for level */
    uint64_t snapshots_mismatched; /* ... that did not (the book is broken until the next snapshot) */
    uint64_t book_changes_queued;  /* 1001 kept while their book waited for a snapshot */
    uint64_t book_changes_replayed; /* of those, applied after the snapshot (newer than it) */
    uint64_t book_queue_overwritten; /* queued changes lost to a full queue (the oldest goes) */
    uint64_t book_changes_not_queued; /* 1001 longer than HT_FEED_QUEUE_ENTRY_BYTES (not queued) */
    uint64_t events;             /* events delivered */
    uint64_t events_by_kind[HT_FEED_EV_KIND_COUNT];
    ht_feed_fault last_fault;
} ht_feed_stats;

/* ---- Configuration and life cycle -------------------------------------------------------------------- */

typedef struct ht_feed_config {
    uint32_t max_instruments; /* registry capacity, 1..1048576 (default 4096); more is a counted error */
    uint32_t max_channels;    /* channel table capacity, 1..65536 (default 256) */
    uint32_t max_indices;     /* index table capacity, 1..4096 (default 128) */
    uint32_t book_depth;      /* levels held per side per book, 1..4096 (default 32); memory is
                                 max_instruments * 2 * book_depth * 16 bytes */
    uint32_t change_queue;    /* 1001 messages kept while books wait for a snapshot, 0..65536 (default 1024;
                                 0: none); each takes HT_FEED_QUEUE_ENTRY_BYTES. After a snapshot with changeId C
                                 the queued changes newer than C are applied, as the vendor guide recommends */
    ht_feed_event_fn on_event; /* may be NULL: no events */
    void *user;               /* passed to on_event */
} ht_feed_config;

/* Fills cfg with the defaults above. */
void ht_feed_config_default(ht_feed_config *cfg);

/* Creates a feed; all memory is allocated here. cfg may be NULL (defaults). Returns NULL with err filled
 * when a limit is out of range or memory is short. */
ht_feed *ht_feed_create(const ht_feed_config *cfg, ht_error *err);

/* Frees everything. NULL is a no-op. */
void ht_feed_destroy(ht_feed *feed);

/* Forgets every instrument, index, book, channel and counter (as just created). */
void ht_feed_reset(ht_feed *feed);

/* Decodes one UDP payload (frame header + SBE messages) in place and applies it: sequencing, registry,
 * market state, books, events. rx_tsc is the packet's receive TSC (passed through to events).
 * Returns the number of messages applied, 0 for a duplicate or late packet (or a new channel when the
 * channel table is full: stats.channels_full), or -1 when the packet lied
 * (the messages before the lie are applied; stats.last_fault says where; the channel is marked stale).
 * Never allocates, locks, prints or makes a syscall. */
int ht_feed_on_packet(ht_feed *feed, const uint8_t *payload, size_t len, uint64_t rx_tsc);

/* Formats stats.last_fault as "packet N, channel C seq S, offset O, template T: <what>". Returns -1. */
int ht_feed_fault_format(const ht_feed *feed, ht_error *err);

/* ---- Queries (O(1), no allocation) ------------------------------------------------------------------- */

const ht_feed_stats *ht_feed_stats_get(const ht_feed *feed);

/* The feed's clock: the largest exchange timestamp (ms) seen in any message so far (0 before any). */
uint64_t ht_feed_now_ms(const ht_feed *feed);

/* Instruments: by id, by name (NUL-terminated, or name_len bytes), and in registration order
 * (0 <= i < ht_feed_instrument_count). NULL when unknown. */
const ht_instrument *ht_feed_instrument(const ht_feed *feed, uint32_t id);
const ht_instrument *ht_feed_instrument_by_name(const ht_feed *feed, const char *name);
const ht_instrument *ht_feed_instrument_by_name_n(const ht_feed *feed, const char *name, size_t name_len);
uint32_t ht_feed_instrument_count(const ht_feed *feed);
const ht_instrument *ht_feed_instrument_at(const ht_feed *feed, uint32_t i);

/* Index prices: by name ("btc_usd") and in order of first appearance. NULL when unknown. */
const ht_index_price *ht_feed_index(const ht_feed *feed, const char *name);
uint32_t ht_feed_index_count(const ht_feed *feed);
const ht_index_price *ht_feed_index_at(const ht_feed *feed, uint32_t i);

/* The instrument's book (never NULL for a registered instrument) and its status. */
const ht_book *ht_feed_book(const ht_feed *feed, const ht_instrument *in);
ht_book_status ht_feed_book_status(const ht_feed *feed, const ht_instrument *in);

/* Can the instrument's ticker (mark, best bid/ask, index) be trusted now? max_age_ms > 0 also requires
 * ticker.timestamp_ms to be within max_age_ms of ht_feed_now_ms (0: no age limit). */
ht_price_status ht_feed_price_status(const ht_feed *feed, const ht_instrument *in, uint64_t max_age_ms);
static inline bool ht_feed_price_trustworthy(const ht_feed *feed, const ht_instrument *in, uint64_t max_age_ms)
{
    return ht_feed_price_status(feed, in, max_age_ms) == HT_PRICE_OK;
}

/* Can the index price be trusted now (no gap on its channel since its latest update; age as above)? */
ht_price_status ht_feed_index_status(const ht_feed *feed, const ht_index_price *ix, uint64_t max_age_ms);

/* Channels: by id and in order of first appearance. NULL when unknown. */
const ht_feed_channel *ht_feed_channel_find(const ht_feed *feed, uint16_t channel_id);
uint32_t ht_feed_channel_count(const ht_feed *feed);
const ht_feed_channel *ht_feed_channel_at(const ht_feed *feed, uint32_t i);

#endif

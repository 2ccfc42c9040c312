/* SPDX-License-Identifier: MIT */
/* Deribit multicast SBE (legacy v1.6 schema, templates 1000-1010): frame header, message iteration,
 * one decoded struct per template, bounds-checked group and var-data access, and the matching encoder. */
#ifndef HEDGETRIG_SBE_H
#define HEDGETRIG_SBE_H

/*
 * Wire layout (all integers little endian, doubles IEEE-754 binary64, nothing aligned):
 *
 *   UDP payload
 *   +----------------------+----------------+-----------------------+----------------+-----
 *   | frame header, 8 B    | message 1      | message 2             | message 3      | ...
 *   +----------------------+----------------+-----------------------+----------------+-----
 *   frame header:   packetLength u16 (bytes of messages after the frame header), channelId u16, sequence u32
 *   message:        header 12 B | fixed block (blockLength B) | groups | var data
 *   message header: blockLength u16 (excludes the header), templateId u16, schemaId u16, version u16,
 *                   numGroups u16, numVarDataFields u16
 *   group:          header 8 B: blockLength u16, numInGroup u16, numGroups u16, numVarDataFields u16;
 *                   then numInGroup entries, each blockLength B of fields + its nested groups + var data
 *   var data:       length u8, then length bytes
 *
 * Reading never goes past the bytes it was given: every length is checked before it is used, a lie stops
 * the packet with a status naming the offset and template, and nothing here allocates.
 *
 * Units: prices are in the instrument's quote currency per unit of base (inverse BTC options: BTC; BTC
 * perpetual: USD; BTC_USDC linear options: USDC). Amounts are in the instrument's size currency (inverse
 * futures and perpetuals: USD; options: the base coin). Times are milliseconds since the Unix epoch (UTC).
 * Optional doubles are NaN when absent (the schema's null), optional u64 ids 0.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hedgetrig/common.h"

#define HT_SBE_FRAME_HEADER_LEN 8u
#define HT_SBE_MSG_HEADER_LEN 12u
#define HT_SBE_GROUP_HEADER_LEN 8u
/* The schema this decoder knows: id 1, versions 1 (the guide's examples) to 3 (the XML); the capture's
 * messages carry version 2 (1010 carries 3). Anything else is counted and skipped by its lengths. */
#define HT_SBE_SCHEMA_ID 1u
#define HT_SBE_VERSION_MIN 1u
#define HT_SBE_VERSION_MAX 3u
/* The version the encoder writes (the capture's). */
#define HT_SBE_VERSION_DEFAULT 2u
/* Groups nested deeper than this in an unknown message stop the packet (no known template nests). */
#define HT_SBE_MAX_NESTING 4u

/* Template ids. */
enum {
    HT_SBE_INSTRUMENT = 1000,
    HT_SBE_BOOK = 1001,
    HT_SBE_TRADES = 1002,
    HT_SBE_TICKER = 1003,
    HT_SBE_SNAPSHOT = 1004,
    HT_SBE_SNAPSHOT_START = 1005,
    HT_SBE_SNAPSHOT_END = 1006,
    HT_SBE_COMBO_LEGS = 1007,
    HT_SBE_PRICE_INDEX = 1008,
    HT_SBE_RFQ = 1009,
    HT_SBE_INSTRUMENT_V2 = 1010,
};
#define HT_SBE_TEMPLATE_FIRST 1000u
#define HT_SBE_TEMPLATE_COUNT 11u

/* Fixed block lengths of each template (what this decoder needs at least; longer blocks from a newer
 * producer are accepted and their extra bytes skipped) and of each group entry. */
enum {
    HT_SBE_BLOCK_INSTRUMENT = 140,
    HT_SBE_BLOCK_BOOK = 29,
    HT_SBE_BLOCK_TRADES = 4,
    HT_SBE_BLOCK_TICKER = 133,
    HT_SBE_BLOCK_SNAPSHOT = 22,
    HT_SBE_BLOCK_SNAPSHOT_START = 4,
    HT_SBE_BLOCK_SNAPSHOT_END = 0,
    HT_SBE_BLOCK_COMBO_LEGS = 4,
    HT_SBE_BLOCK_PRICE_INDEX = 32,
    HT_SBE_BLOCK_RFQ = 22,
    HT_SBE_BLOCK_INSTRUMENT_V2 = 139,
    HT_SBE_ENTRY_BOOK_CHANGE = 18,
    HT_SBE_ENTRY_TRADE = 83,
    HT_SBE_ENTRY_LEVEL = 17,
    HT_SBE_ENTRY_LEG = 8,
    HT_SBE_ENTRY_TICK_STEP = 16,
};

/* Schema enums (values as on the wire). */
typedef enum ht_sbe_book_side { HT_SBE_SIDE_ASK = 0, HT_SBE_SIDE_BID = 1 } ht_sbe_book_side;
typedef enum ht_sbe_book_change_kind {
    HT_SBE_CHANGE_CREATED = 0,
    HT_SBE_CHANGE_CHANGED = 1,
    HT_SBE_CHANGE_DELETED = 2
} ht_sbe_book_change_kind;
typedef enum ht_sbe_instrument_state {
    HT_SBE_STATE_CREATED = 0,
    HT_SBE_STATE_OPEN = 1,
    HT_SBE_STATE_CLOSED = 2,
    HT_SBE_STATE_SETTLED = 3,
    HT_SBE_STATE_DEACTIVATED = 4,
    HT_SBE_STATE_INACTIVE = 5,
    HT_SBE_STATE_STARTED = 6
} ht_sbe_instrument_state;
typedef enum ht_sbe_tick_direction {
    HT_SBE_TICK_PLUS = 0,
    HT_SBE_TICK_ZEROPLUS = 1,
    HT_SBE_TICK_MINUS = 2,
    HT_SBE_TICK_ZEROMINUS = 3
} ht_sbe_tick_direction;
typedef enum ht_sbe_direction { HT_SBE_BUY = 0, HT_SBE_SELL = 1 } ht_sbe_direction;
typedef enum ht_sbe_rfq_direction {
    HT_SBE_RFQ_BUY = 0,
    HT_SBE_RFQ_SELL = 1,
    HT_SBE_RFQ_NO_DIRECTION = 2
} ht_sbe_rfq_direction;
typedef enum ht_sbe_liquidation {
    HT_SBE_LIQ_NONE = 0,
    HT_SBE_LIQ_MAKER = 1,
    HT_SBE_LIQ_TAKER = 2,
    HT_SBE_LIQ_BOTH = 3
} ht_sbe_liquidation;
typedef enum ht_sbe_kind {
    HT_SBE_KIND_FUTURE = 0, /* futures and perpetuals */
    HT_SBE_KIND_OPTION = 1,
    HT_SBE_KIND_FUTURE_COMBO = 2,
    HT_SBE_KIND_OPTION_COMBO = 3,
    HT_SBE_KIND_SPOT = 4
} ht_sbe_kind;
typedef enum ht_sbe_option_type {
    HT_SBE_OPTION_NONE = 0,
    HT_SBE_OPTION_CALL = 1,
    HT_SBE_OPTION_PUT = 2
} ht_sbe_option_type;
typedef enum ht_sbe_instrument_type {
    HT_SBE_TYPE_NOT_APPLICABLE = 0,
    HT_SBE_TYPE_REVERSED = 1, /* inverse: margined and settled in the base coin */
    HT_SBE_TYPE_LINEAR = 2    /* margined and settled in the quote currency */
} ht_sbe_instrument_type;
typedef enum ht_sbe_period {
    HT_SBE_PERIOD_PERPETUAL = 0,
    HT_SBE_PERIOD_MINUTE = 1,
    HT_SBE_PERIOD_HOUR = 2,
    HT_SBE_PERIOD_DAY = 3,
    HT_SBE_PERIOD_WEEK = 4,
    HT_SBE_PERIOD_MONTH = 5,
    HT_SBE_PERIOD_YEAR = 6,
    HT_SBE_PERIOD_NULL = 255 /* optional field absent */
} ht_sbe_period;

/* What stopped a packet's decode. Every status but HT_SBE_OK names a lie in the bytes. */
typedef enum ht_sbe_status {
    HT_SBE_OK = 0,
    HT_SBE_ERR_SHORT_FRAME,        /* fewer than 8 bytes: no frame header */
    HT_SBE_ERR_FRAME_LENGTH,       /* packetLength larger than the bytes after the frame header */
    HT_SBE_ERR_SHORT_HEADER,       /* fewer than 12 bytes left for a message header */
    HT_SBE_ERR_BLOCK_OVERRUN,      /* blockLength runs past the end of the packet */
    HT_SBE_ERR_GROUP_HEADER,       /* a group header runs past the end of the packet */
    HT_SBE_ERR_GROUP_OVERRUN,      /* numInGroup x blockLength runs past the end of the packet */
    HT_SBE_ERR_VAR_OVERRUN,        /* a var-data field runs past the end of the packet */
    HT_SBE_ERR_NESTING,            /* groups nested deeper than HT_SBE_MAX_NESTING */
    HT_SBE_ERR_BLOCK_TOO_SHORT,    /* a known template whose blockLength is shorter than its fields */
    HT_SBE_ERR_ENTRY_TOO_SHORT,    /* a known group whose entry blockLength is shorter than its fields */
    HT_SBE_ERR_MISSING_GROUP,      /* a known template that needs a group but says numGroups = 0 */
    HT_SBE_ERR_MISSING_VAR_DATA,   /* a known template that needs var data but says numVarDataFields = 0 */
    HT_SBE_STATUS_COUNT
} ht_sbe_status;

/* Short description of a status ("group overruns the packet", ...). */
const char *ht_sbe_status_str(ht_sbe_status status);

/* ---- Reading primitives: unaligned little-endian loads (memcpy; compile to one mov on x86) ---------- */
static inline uint16_t ht_sbe_u16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    return v;
}
static inline uint32_t ht_sbe_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}
static inline uint64_t ht_sbe_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}
static inline double ht_sbe_f64(const uint8_t *p)
{
    uint64_t bits = ht_sbe_u64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ---- Frame and message headers ------------------------------------------------------------------- */

/* The 8-byte frame header that starts every UDP payload. */
typedef struct ht_sbe_frame {
    uint16_t packet_len; /* bytes of SBE messages after the frame header */
    uint16_t channel_id; /* 0 generic (price index), 1-26 incremental, 101-126 snapshot (production) */
    uint32_t seq;        /* per-channel packet sequence; wraps from 2^32-1 to 0; may reset to 0 */
} ht_sbe_frame;

/* The 12-byte header of every message. */
typedef struct ht_sbe_msg_header {
    uint16_t block_len; /* bytes of the fixed block after this header */
    uint16_t template_id;
    uint16_t schema_id;
    uint16_t version;
    uint16_t num_groups;
    uint16_t num_var_data;
} ht_sbe_msg_header;

/* One message found in a packet: its header and where its parts are. All pointers point into the packet
 * and stay valid as long as the packet bytes do. */
typedef struct ht_sbe_msg {
    ht_sbe_msg_header hdr;
    const uint8_t *block;    /* the fixed block, hdr.block_len bytes */
    const uint8_t *groups;   /* the first group header (== var_data when there are no groups) */
    const uint8_t *var_data; /* the first var-data field (== end when there is none) */
    const uint8_t *end;      /* one past the message's last byte */
    uint32_t offset;         /* of the message header from the start of the UDP payload */
} ht_sbe_msg;

/* True when the message's schema id and version are ones this decoder knows (schema 1, versions 1-3). */
static inline bool ht_sbe_schema_known(const ht_sbe_msg_header *hdr)
{
    return hdr->schema_id == HT_SBE_SCHEMA_ID && hdr->version >= HT_SBE_VERSION_MIN &&
           hdr->version <= HT_SBE_VERSION_MAX;
}

/* True when the template id is one of 1000-1010. */
static inline bool ht_sbe_template_known(uint16_t template_id)
{
    return template_id >= HT_SBE_TEMPLATE_FIRST && template_id < HT_SBE_TEMPLATE_FIRST + HT_SBE_TEMPLATE_COUNT;
}

/* Short name of a template ("ticker", "book", ...; "unknown" outside 1000-1010). */
const char *ht_sbe_template_name(uint16_t template_id);

/* Walks the messages of one UDP payload. Usage:
 *     ht_sbe_iter it;
 *     if (ht_sbe_iter_init(&it, payload, len) != HT_SBE_OK) { ... it.status, it.fault_offset ... }
 *     ht_sbe_msg m;
 *     while (ht_sbe_iter_next(&it, &m)) { ... }
 *     if (it.status != HT_SBE_OK) { ... the packet lied at it.fault_offset, template it.fault_template ... }
 * Messages of unknown templates, schemas or versions are returned too (they are walked by their lengths,
 * so the next message is still found); the caller decides what to skip. */
typedef struct ht_sbe_iter {
    const uint8_t *start;    /* the UDP payload */
    const uint8_t *pos;      /* next message header */
    const uint8_t *end;      /* frame header + packet_len (never past the payload) */
    ht_sbe_frame frame;
    uint32_t trailing_bytes; /* payload bytes after packet_len (ignored; non-zero is suspicious) */
    ht_sbe_status status;    /* HT_SBE_OK until a lie is found */
    uint32_t fault_offset;   /* where the lie was found, from the start of the payload */
    uint16_t fault_template; /* template of the message that lied (0 when the frame header itself lied) */
} ht_sbe_iter;

/* The iterator's out-of-line parts (use ht_sbe_iter_init / ht_sbe_iter_next): a frame header that lies, and
 * messages with groups or var data or lengths that lie. */
ht_sbe_status ht_sbe_iter_frame_fault(ht_sbe_iter *it, ht_sbe_status status);
bool ht_sbe_iter_next_slow(ht_sbe_iter *it, ht_sbe_msg *msg);

/* Reads the frame header of payload[0..len) into it->frame and prepares iteration.
 * payload: the UDP payload (may be NULL when len is 0). Returns HT_SBE_OK, HT_SBE_ERR_SHORT_FRAME or
 * HT_SBE_ERR_FRAME_LENGTH (then ht_sbe_iter_next returns false at once). Inline: it is the hot path. */
static inline ht_sbe_status ht_sbe_iter_init(ht_sbe_iter *it, const uint8_t *payload, size_t len)
{
    it->start = payload;
    it->pos = it->end = payload;
    if (HT_UNLIKELY(len < HT_SBE_FRAME_HEADER_LEN))
        return ht_sbe_iter_frame_fault(it, HT_SBE_ERR_SHORT_FRAME);
    it->frame.packet_len = ht_sbe_u16(payload);
    it->frame.channel_id = ht_sbe_u16(payload + 2);
    it->frame.seq = ht_sbe_u32(payload + 4);
    size_t avail = len - HT_SBE_FRAME_HEADER_LEN;
    if (HT_UNLIKELY(it->frame.packet_len > avail))
        return ht_sbe_iter_frame_fault(it, HT_SBE_ERR_FRAME_LENGTH);
    it->trailing_bytes = (uint32_t)(avail - it->frame.packet_len);
    it->pos = payload + HT_SBE_FRAME_HEADER_LEN;
    it->end = it->pos + it->frame.packet_len;
    it->status = HT_SBE_OK;
    it->fault_offset = 0;
    it->fault_template = 0;
    return HT_SBE_OK;
}

/* Finds the next message. Returns true with *msg filled, or false at the end of the packet or when the
 * next message's lengths lie (it->status says which). Inline for the common message without groups. */
static inline bool ht_sbe_iter_next(ht_sbe_iter *it, ht_sbe_msg *msg)
{
    const uint8_t *p = it->pos;
    if (HT_UNLIKELY(p >= it->end))
        return false; /* the end, or a fault (which sets end = pos) */
    size_t left = (size_t)(it->end - p);
    if (HT_LIKELY(left >= HT_SBE_MSG_HEADER_LEN)) {
        uint16_t block_len = ht_sbe_u16(p);
        uint16_t num_groups = ht_sbe_u16(p + 8);
        uint16_t num_vars = ht_sbe_u16(p + 10);
        if (HT_LIKELY((num_groups | num_vars) == 0 && left - HT_SBE_MSG_HEADER_LEN >= block_len)) {
            msg->hdr.block_len = block_len;
            msg->hdr.template_id = ht_sbe_u16(p + 2);
            msg->hdr.schema_id = ht_sbe_u16(p + 4);
            msg->hdr.version = ht_sbe_u16(p + 6);
            msg->hdr.num_groups = 0;
            msg->hdr.num_var_data = 0;
            msg->offset = (uint32_t)(p - it->start);
            msg->block = p + HT_SBE_MSG_HEADER_LEN;
            msg->groups = msg->var_data = msg->end = msg->block + block_len;
            it->pos = msg->end;
            return true;
        }
    }
    return ht_sbe_iter_next_slow(it, msg);
}

/* Formats the iterator's fault as "offset N, template T: <what>" into err. Returns -1. */
int ht_sbe_iter_fault(const ht_sbe_iter *it, ht_error *err);

/* ---- Groups ------------------------------------------------------------------------------------- */

/* A repeating group of fixed-size entries (no known template nests groups inside entries). */
typedef struct ht_sbe_group {
    const uint8_t *entries; /* first entry; entry i starts at entries + i * block_len */
    uint16_t block_len;     /* bytes per entry (at least the template's entry size) */
    uint16_t count;         /* numInGroup */
} ht_sbe_group;

/* Book change entry of 1001. */
typedef struct ht_sbe_book_change {
    uint8_t side;   /* ht_sbe_book_side */
    uint8_t change; /* ht_sbe_book_change_kind */
    double price;   /* quote currency */
    double amount;  /* size currency; 0 on delete */
} ht_sbe_book_change;

/* Trade entry of 1002. */
typedef struct ht_sbe_trade {
    uint8_t direction;       /* ht_sbe_direction of the taker */
    double price;            /* quote currency */
    double amount;           /* size currency */
    uint64_t timestamp_ms;
    double mark_price;       /* quote currency, at the trade */
    double index_price;      /* USD (or USDC) index, at the trade */
    uint64_t trade_seq;
    uint64_t trade_id;
    uint8_t tick_direction;  /* ht_sbe_tick_direction */
    uint8_t liquidation;     /* ht_sbe_liquidation */
    double iv;               /* implied volatility in percent (options), NaN when absent */
    uint64_t block_trade_id; /* 0 when absent */
    uint64_t combo_trade_id; /* 0 when absent */
} ht_sbe_trade;

/* Level entry of 1004 (bids and asks interleaved). */
typedef struct ht_sbe_level {
    uint8_t side;  /* ht_sbe_book_side */
    double price;  /* quote currency */
    double amount; /* size currency */
} ht_sbe_level;

/* Leg entry of 1007. */
typedef struct ht_sbe_leg {
    uint32_t leg_instrument_id;
    int32_t leg_size; /* signed ratio */
} ht_sbe_leg;

/* Tick-size step of 1010: above abovePrice the tick is tickSize. */
typedef struct ht_sbe_tick_step {
    double above_price; /* quote currency */
    double tick_size;   /* quote currency */
} ht_sbe_tick_step;

/* Entry i of a group (the caller keeps i < g->count; the group was bounds-checked when decoded). */
static inline void ht_sbe_book_change_at(const ht_sbe_group *g, unsigned i, ht_sbe_book_change *out)
{
    const uint8_t *p = g->entries + (size_t)i * g->block_len;
    out->side = p[0];
    out->change = p[1];
    out->price = ht_sbe_f64(p + 2);
    out->amount = ht_sbe_f64(p + 10);
}
static inline void ht_sbe_trade_at(const ht_sbe_group *g, unsigned i, ht_sbe_trade *out)
{
    const uint8_t *p = g->entries + (size_t)i * g->block_len;
    out->direction = p[0];
    out->price = ht_sbe_f64(p + 1);
    out->amount = ht_sbe_f64(p + 9);
    out->timestamp_ms = ht_sbe_u64(p + 17);
    out->mark_price = ht_sbe_f64(p + 25);
    out->index_price = ht_sbe_f64(p + 33);
    out->trade_seq = ht_sbe_u64(p + 41);
    out->trade_id = ht_sbe_u64(p + 49);
    out->tick_direction = p[57];
    out->liquidation = p[58];
    out->iv = ht_sbe_f64(p + 59);
    out->block_trade_id = ht_sbe_u64(p + 67);
    out->combo_trade_id = ht_sbe_u64(p + 75);
}
static inline void ht_sbe_level_at(const ht_sbe_group *g, unsigned i, ht_sbe_level *out)
{
    const uint8_t *p = g->entries + (size_t)i * g->block_len;
    out->side = p[0];
    out->price = ht_sbe_f64(p + 1);
    out->amount = ht_sbe_f64(p + 9);
}
static inline void ht_sbe_leg_at(const ht_sbe_group *g, unsigned i, ht_sbe_leg *out)
{
    const uint8_t *p = g->entries + (size_t)i * g->block_len;
    out->leg_instrument_id = ht_sbe_u32(p);
    out->leg_size = (int32_t)ht_sbe_u32(p + 4);
}
static inline void ht_sbe_tick_step_at(const ht_sbe_group *g, unsigned i, ht_sbe_tick_step *out)
{
    const uint8_t *p = g->entries + (size_t)i * g->block_len;
    out->above_price = ht_sbe_f64(p);
    out->tick_size = ht_sbe_f64(p + 8);
}

/* ---- Decoded messages, one struct per template --------------------------------------------------- */

/* 1000 instrument and 1010 instrumentV2 (same struct; `template_id` says which). Currency strings are
 * copied and NUL-terminated (at most 8 characters); the name points into the packet (not terminated). */
typedef struct ht_sbe_instrument {
    uint16_t template_id;       /* 1000 or 1010 */
    uint32_t instrument_id;
    uint8_t state;              /* ht_sbe_instrument_state */
    uint8_t kind;               /* ht_sbe_kind */
    uint8_t instrument_type;    /* ht_sbe_instrument_type: reversed (inverse) or linear */
    uint8_t option_type;        /* ht_sbe_option_type */
    uint8_t rfq;                /* 1000 only: deprecated yes/no flag (0 in 1010) */
    uint8_t settlement_period;  /* ht_sbe_period, HT_SBE_PERIOD_NULL when absent */
    uint16_t settlement_period_count;
    char base_currency[9];       /* e.g. "BTC" */
    char quote_currency[9];      /* currency prices are quoted in: "BTC" (inverse options), "USD", "USDC" */
    char counter_currency[9];    /* e.g. "USD" */
    char settlement_currency[9]; /* e.g. "BTC", "USDC" */
    char size_currency[9];       /* currency amounts are counted in */
    uint64_t creation_timestamp_ms;
    uint64_t expiration_timestamp_ms; /* perpetuals and spot: far future (year 3000) */
    double strike_price;              /* quote currency for linear, counter currency (USD) for inverse options; NaN for non-options */
    double contract_size;             /* size currency per contract (BTC perpetual: 10 USD; BTC options: 1 BTC) */
    double min_trade_amount;          /* size currency */
    double tick_size;                 /* quote currency */
    double maker_commission;          /* fraction of the notional (0.0003 = 3 bp), may be negative (rebate) */
    double taker_commission;          /* fraction of the notional */
    double block_trade_commission;    /* fraction; NaN when absent */
    double max_liquidation_commission; /* fraction; NaN when absent */
    double max_leverage;              /* NaN when absent */
    ht_sbe_group tick_steps;          /* 1010 only (count 0 in 1000): ht_sbe_tick_step entries */
    const char *name;                 /* instrument name, e.g. "BTC-23JUN23-25500-C" (not NUL-terminated) */
    uint8_t name_len;
} ht_sbe_instrument;

/* 1001 book: changes to the order book since prevChangeId. */
typedef struct ht_sbe_book {
    uint32_t instrument_id;
    uint64_t timestamp_ms;
    uint64_t prev_change_id; /* must equal the changeId of the book's previous change */
    uint64_t change_id;      /* increasing, not consecutive */
    uint8_t is_last;         /* 0 when the change list continues in the next 1001 with the same ids */
    ht_sbe_group changes;    /* ht_sbe_book_change entries */
} ht_sbe_book;

/* 1002 trades: one or more trades of one order on one instrument. */
typedef struct ht_sbe_trades {
    uint32_t instrument_id;
    ht_sbe_group trades; /* ht_sbe_trade entries */
} ht_sbe_trades;

/* 1003 ticker: the instrument's full state at timestamp_ms. */
typedef struct ht_sbe_ticker {
    uint32_t instrument_id;
    uint8_t state;                   /* ht_sbe_instrument_state */
    uint64_t timestamp_ms;
    double open_interest;            /* size currency; NaN when absent */
    double min_sell_price;           /* quote currency: lowest price a sell may have now */
    double max_buy_price;            /* quote currency: highest price a buy may have now */
    double last_price;               /* quote currency; NaN when no trade yet */
    double index_price;              /* USD or USDC index */
    double mark_price;               /* quote currency */
    double best_bid_price;           /* quote currency; 0 when the bid side is empty */
    double best_bid_amount;          /* size currency; 0 when empty */
    double best_ask_price;           /* quote currency; 0 when the ask side is empty */
    double best_ask_amount;          /* size currency; 0 when empty */
    double current_funding;          /* perpetuals: funding rate now (fraction); NaN otherwise */
    double funding_8h;               /* perpetuals: 8-hour funding rate (fraction); NaN otherwise */
    double estimated_delivery_price; /* USD index estimate; NaN when absent */
    double delivery_price;           /* NaN when absent */
    double settlement_price;         /* quote currency, of the last settlement; NaN when absent */
} ht_sbe_ticker;

/* 1004 snapshot: a book's levels (possibly split over several messages: is_last_in_book = 0). */
typedef struct ht_sbe_snapshot {
    uint32_t instrument_id;
    uint64_t timestamp_ms;
    uint64_t change_id;       /* the book's changeId at the snapshot */
    uint8_t is_book_complete; /* 0 when the book had more than 10000 levels and was cut */
    uint8_t is_last_in_book;  /* 0 when the level list continues in the next 1004 */
    ht_sbe_group levels;      /* ht_sbe_level entries, bids and asks interleaved */
} ht_sbe_snapshot;

/* 1005 snapshot start. */
typedef struct ht_sbe_snapshot_start {
    uint32_t snapshot_delay_ms; /* the snapshot follows after about this long */
} ht_sbe_snapshot_start;

/* 1007 combo legs. */
typedef struct ht_sbe_combo_legs {
    uint32_t instrument_id;
    ht_sbe_group legs; /* ht_sbe_leg entries */
} ht_sbe_combo_legs;

/* 1008 price index. */
typedef struct ht_sbe_price_index {
    char index_name[17];   /* e.g. "btc_usd", "eth_usdc" (copied, NUL-terminated) */
    double price;          /* counter currency (USD or USDC) per unit of base */
    uint64_t timestamp_ms;
} ht_sbe_price_index;

/* 1009 rfq. */
typedef struct ht_sbe_rfq {
    uint32_t instrument_id;
    uint8_t state;  /* 1 active, 0 inactive */
    uint8_t side;   /* ht_sbe_rfq_direction */
    double amount;  /* size currency */
    uint64_t timestamp_ms;
} ht_sbe_rfq;

/* Any decoded message: template_id says which member of the union is filled (none for 1006 and for
 * messages whose template, schema or version is unknown). */
typedef struct ht_sbe_decoded {
    uint16_t template_id;
    bool known; /* false: unknown template, schema or version; nothing was decoded */
    union {
        ht_sbe_instrument instrument; /* 1000, 1010 */
        ht_sbe_book book;             /* 1001 */
        ht_sbe_trades trades;         /* 1002 */
        ht_sbe_ticker ticker;         /* 1003 */
        ht_sbe_snapshot snapshot;     /* 1004 */
        ht_sbe_snapshot_start snapshot_start; /* 1005 */
        ht_sbe_combo_legs combo_legs; /* 1007 */
        ht_sbe_price_index price_index; /* 1008 */
        ht_sbe_rfq rfq;               /* 1009 */
    } u;
} ht_sbe_decoded;

/* Per-template decoders. msg comes from ht_sbe_iter_next with the matching template id. They check the
 * block length, group entry sizes and var data of the known template and return HT_SBE_OK or the status
 * that names the lie (HT_SBE_ERR_BLOCK_TOO_SHORT, _ENTRY_TOO_SHORT, _MISSING_GROUP, _MISSING_VAR_DATA). */
ht_sbe_status ht_sbe_decode_instrument(const ht_sbe_msg *msg, ht_sbe_instrument *out); /* 1000 or 1010 */
ht_sbe_status ht_sbe_decode_book(const ht_sbe_msg *msg, ht_sbe_book *out);
ht_sbe_status ht_sbe_decode_trades(const ht_sbe_msg *msg, ht_sbe_trades *out);
ht_sbe_status ht_sbe_decode_snapshot(const ht_sbe_msg *msg, ht_sbe_snapshot *out);
ht_sbe_status ht_sbe_decode_snapshot_start(const ht_sbe_msg *msg, ht_sbe_snapshot_start *out);
ht_sbe_status ht_sbe_decode_combo_legs(const ht_sbe_msg *msg, ht_sbe_combo_legs *out);
ht_sbe_status ht_sbe_decode_price_index(const ht_sbe_msg *msg, ht_sbe_price_index *out);
ht_sbe_status ht_sbe_decode_rfq(const ht_sbe_msg *msg, ht_sbe_rfq *out);

/* 1003 ticker: inline, it is the hot path. */
static inline ht_sbe_status ht_sbe_decode_ticker(const ht_sbe_msg *msg, ht_sbe_ticker *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_TICKER))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    const uint8_t *p = msg->block;
    out->instrument_id = ht_sbe_u32(p);
    out->state = p[4];
    out->timestamp_ms = ht_sbe_u64(p + 5);
    out->open_interest = ht_sbe_f64(p + 13);
    out->min_sell_price = ht_sbe_f64(p + 21);
    out->max_buy_price = ht_sbe_f64(p + 29);
    out->last_price = ht_sbe_f64(p + 37);
    out->index_price = ht_sbe_f64(p + 45);
    out->mark_price = ht_sbe_f64(p + 53);
    out->best_bid_price = ht_sbe_f64(p + 61);
    out->best_bid_amount = ht_sbe_f64(p + 69);
    out->best_ask_price = ht_sbe_f64(p + 77);
    out->best_ask_amount = ht_sbe_f64(p + 85);
    out->current_funding = ht_sbe_f64(p + 93);
    out->funding_8h = ht_sbe_f64(p + 101);
    out->estimated_delivery_price = ht_sbe_f64(p + 109);
    out->delivery_price = ht_sbe_f64(p + 117);
    out->settlement_price = ht_sbe_f64(p + 125);
    return HT_SBE_OK;
}

/* Decodes any message into out. Unknown templates, schemas and versions give HT_SBE_OK with
 * out->known = false. */
ht_sbe_status ht_sbe_decode(const ht_sbe_msg *msg, ht_sbe_decoded *out);

/* ---- Encoder ------------------------------------------------------------------------------------
 * Writes the same packets the decoder reads (tests use it for round trips and hostile packets; the
 * market simulator uses it to publish). Usage:
 *     ht_sbe_writer w;
 *     ht_sbe_writer_init(&w, buf, sizeof buf, channel_id, seq);
 *     ht_sbe_put_ticker(&w, &ticker); ...
 *     size_t len = ht_sbe_writer_finish(&w);   // 0 when something did not fit
 * A put that does not fit leaves the packet as it was and returns -1 (the writer remembers it). */
typedef struct ht_sbe_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;       /* bytes written so far, frame header included */
    uint16_t version; /* written in every message header (default HT_SBE_VERSION_DEFAULT) */
    bool overflow;    /* a put did not fit */
} ht_sbe_writer;

/* Starts a packet in buf[0..cap): writes the frame header (packet length patched by finish).
 * cap must be at least 8 (otherwise every put fails and finish returns 0). */
void ht_sbe_writer_init(ht_sbe_writer *w, uint8_t *buf, size_t cap, uint16_t channel_id, uint32_t seq);

/* Patches packetLength and returns the packet's total length, or 0 if any put did not fit or the
 * messages exceed 65535 bytes. */
size_t ht_sbe_writer_finish(ht_sbe_writer *w);

/* One put per template. Structs are the decoder's; their group members are ignored and the entries come
 * from the arrays instead (n entries, at most 65535). Strings longer than their field are cut. */
int ht_sbe_put_instrument(ht_sbe_writer *w, const ht_sbe_instrument *in, const ht_sbe_tick_step *steps,
                          unsigned n_steps); /* in->template_id picks 1000 (steps ignored) or 1010 */
int ht_sbe_put_book(ht_sbe_writer *w, const ht_sbe_book *book, const ht_sbe_book_change *changes, unsigned n);
int ht_sbe_put_trades(ht_sbe_writer *w, uint32_t instrument_id, const ht_sbe_trade *trades, unsigned n);
int ht_sbe_put_ticker(ht_sbe_writer *w, const ht_sbe_ticker *t);
int ht_sbe_put_snapshot(ht_sbe_writer *w, const ht_sbe_snapshot *s, const ht_sbe_level *levels, unsigned n);
int ht_sbe_put_snapshot_start(ht_sbe_writer *w, uint32_t snapshot_delay_ms);
int ht_sbe_put_snapshot_end(ht_sbe_writer *w);
int ht_sbe_put_combo_legs(ht_sbe_writer *w, uint32_t instrument_id, const ht_sbe_leg *legs, unsigned n);
int ht_sbe_put_price_index(ht_sbe_writer *w, const ht_sbe_price_index *p);
int ht_sbe_put_rfq(ht_sbe_writer *w, const ht_sbe_rfq *r);

/* Writes a message with an arbitrary header followed by body[0..body_len) verbatim (for tests of unknown
 * templates and lying lengths). */
int ht_sbe_put_raw(ht_sbe_writer *w, const ht_sbe_msg_header *hdr, const void *body, size_t body_len);

/* ---- Printing (decode tools; not the hot path) ------------------------------------------------------ */

/* Writes v into buf[0..n) as the shortest text strtod reads back to the same double ("25448.57", "0",
 * "1e-05"); NaN as "-nan" or "nan" by its sign bit, as C printf does. Returns the length (snprintf rules). */
int ht_format_double(char *buf, size_t n, double v);

/* The header line of the CSV format of the vendor dissector's decode (no newline). */
#define HT_SBE_CSV_HEADER "frame,channel,seq,template,instrument_id,fields"

/* Formats one message as a line (no newline) of the vendor decode's CSV format:
 *     frame,channel,seq,template,instrument_id,fields
 * fields: 1000/1010 name|kind|option_type|strike; 1003 mark|index|best_bid|best_ask; 1001, 1002, 1004 the
 * number of group entries; 1008 index_name|price; the others empty (instrument_id empty where the message
 * has none, and for unknown templates, schemas and versions).
 * frame: 1-based frame number in the capture. Returns the length, or -1 when buf is too small or the
 * message lies (*status says how). */
int ht_sbe_format_csv(char *buf, size_t n, uint64_t frame, const ht_sbe_frame *fr, const ht_sbe_msg *msg,
                      ht_sbe_status *status);

/* Formats one message as a readable line with every field: "frame 12 ch 11 seq 66968 ticker id=24 ...".
 * name (may be NULL) is printed after the instrument id. Same returns as ht_sbe_format_csv. */
int ht_sbe_format_text(char *buf, size_t n, uint64_t frame, const ht_sbe_frame *fr, const ht_sbe_msg *msg,
                       const char *name, ht_sbe_status *status);

#endif

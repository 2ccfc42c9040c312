/* SPDX-License-Identifier: MIT */
/* Deribit multicast SBE encoder: writes the packets the decoder reads (round-trip tests, market simulator). */
#include "hedgetrig/sbe.h"

/* Little-endian stores into an unaligned buffer. */
static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_f64(uint8_t *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_u64(p, bits);
}

/* Writes a fixed-length char field of n bytes: the string, cut at n, padded with NULs. */
static void put_fixed_string(uint8_t *p, const char *s, size_t n)
{
    size_t i = 0;
    for (; s && i < n && s[i] != '\0'; i++)
        p[i] = (uint8_t)s[i];
    for (; i < n; i++)
        p[i] = 0;
}

void ht_sbe_writer_init(ht_sbe_writer *w, uint8_t *buf, size_t cap, uint16_t channel_id, uint32_t seq)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->version = HT_SBE_VERSION_DEFAULT;
    w->overflow = cap < HT_SBE_FRAME_HEADER_LEN;
    if (w->overflow)
        return;
    put_u16(buf, 0);
    put_u16(buf + 2, channel_id);
    put_u32(buf + 4, seq);
    w->len = HT_SBE_FRAME_HEADER_LEN;
}

size_t ht_sbe_writer_finish(ht_sbe_writer *w)
{
    if (w->overflow || w->len < HT_SBE_FRAME_HEADER_LEN || w->len - HT_SBE_FRAME_HEADER_LEN > UINT16_MAX)
        return 0;
    put_u16(w->buf, (uint16_t)(w->len - HT_SBE_FRAME_HEADER_LEN));
    return w->len;
}

/* Reserves room for a whole message of `total` bytes and writes its header; returns where the fixed
 * block starts, or NULL (and marks overflow) when it does not fit. */
static uint8_t *begin_message(ht_sbe_writer *w, size_t total, uint16_t block_len, uint16_t template_id,
                              uint16_t num_groups, uint16_t num_vars)
{
    if (w->overflow || total > w->cap - w->len) {
        w->overflow = true;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    put_u16(p, block_len);
    put_u16(p + 2, template_id);
    put_u16(p + 4, HT_SBE_SCHEMA_ID);
    put_u16(p + 6, w->version);
    put_u16(p + 8, num_groups);
    put_u16(p + 10, num_vars);
    w->len += total;
    return p + HT_SBE_MSG_HEADER_LEN;
}

/* Writes a group header for n entries of entry_len bytes; returns where the first entry goes. */
static uint8_t *put_group_header(uint8_t *p, uint16_t entry_len, unsigned n)
{
    put_u16(p, entry_len);
    put_u16(p + 2, (uint16_t)n);
    put_u16(p + 4, 0);
    put_u16(p + 6, 0);
    return p + HT_SBE_GROUP_HEADER_LEN;
}

/* Starts a message made of a fixed block and one group of n entries: writes both headers, returns where the
 * block goes and sets *entries to where the first entry goes (NULL when it does not fit). */
static uint8_t *begin_group_message(ht_sbe_writer *w, uint16_t block_len, uint16_t template_id, uint16_t entry_len,
                                    unsigned n, uint8_t **entries)
{
    if (n > UINT16_MAX)
        return NULL;
    size_t total = HT_SBE_MSG_HEADER_LEN + block_len + HT_SBE_GROUP_HEADER_LEN + (size_t)n * entry_len;
    uint8_t *p = begin_message(w, total, block_len, template_id, 1, 0);
    if (p)
        *entries = put_group_header(p + block_len, entry_len, n);
    return p;
}

int ht_sbe_put_instrument(ht_sbe_writer *w, const ht_sbe_instrument *in, const ht_sbe_tick_step *steps,
                          unsigned n_steps)
{
    bool v2 = in->template_id == HT_SBE_INSTRUMENT_V2;
    uint16_t block = v2 ? HT_SBE_BLOCK_INSTRUMENT_V2 : HT_SBE_BLOCK_INSTRUMENT;
    if (!v2)
        n_steps = 0;
    if (n_steps > UINT16_MAX)
        return -1;
    size_t name_len = 0;
    if (in->name)
        name_len = in->name_len;
    size_t groups = v2 ? HT_SBE_GROUP_HEADER_LEN + (size_t)n_steps * HT_SBE_ENTRY_TICK_STEP : 0;
    size_t total = HT_SBE_MSG_HEADER_LEN + block + groups + 1 + name_len;
    uint8_t *p = begin_message(w, total, block, v2 ? HT_SBE_INSTRUMENT_V2 : HT_SBE_INSTRUMENT, v2 ? 1 : 0, 1);
    if (!p)
        return -1;
    put_u32(p, in->instrument_id);
    p[4] = in->state;
    p[5] = in->kind;
    p[6] = in->instrument_type;
    p[7] = in->option_type;
    unsigned o = 8;
    if (!v2)
        p[o++] = in->rfq;
    p[o] = in->settlement_period;
    put_u16(p + o + 1, in->settlement_period_count);
    o += 3;
    put_fixed_string(p + o, in->base_currency, 8);
    put_fixed_string(p + o + 8, in->quote_currency, 8);
    put_fixed_string(p + o + 16, in->counter_currency, 8);
    put_fixed_string(p + o + 24, in->settlement_currency, 8);
    put_fixed_string(p + o + 32, in->size_currency, 8);
    o += 40;
    put_u64(p + o, in->creation_timestamp_ms);
    put_u64(p + o + 8, in->expiration_timestamp_ms);
    put_f64(p + o + 16, in->strike_price);
    put_f64(p + o + 24, in->contract_size);
    put_f64(p + o + 32, in->min_trade_amount);
    put_f64(p + o + 40, in->tick_size);
    put_f64(p + o + 48, in->maker_commission);
    put_f64(p + o + 56, in->taker_commission);
    put_f64(p + o + 64, in->block_trade_commission);
    put_f64(p + o + 72, in->max_liquidation_commission);
    put_f64(p + o + 80, in->max_leverage);
    p += block;
    if (v2) {
        p = put_group_header(p, HT_SBE_ENTRY_TICK_STEP, n_steps);
        for (unsigned i = 0; i < n_steps; i++, p += HT_SBE_ENTRY_TICK_STEP) {
            put_f64(p, steps[i].above_price);
            put_f64(p + 8, steps[i].tick_size);
        }
    }
    p[0] = (uint8_t)name_len;
    if (name_len)
        memcpy(p + 1, in->name, name_len);
    return 0;
}

int ht_sbe_put_book(ht_sbe_writer *w, const ht_sbe_book *book, const ht_sbe_book_change *changes, unsigned n)
{
    uint8_t *e;
    uint8_t *p = begin_group_message(w, HT_SBE_BLOCK_BOOK, HT_SBE_BOOK, HT_SBE_ENTRY_BOOK_CHANGE, n, &e);
    if (!p)
        return -1;
    put_u32(p, book->instrument_id);
    put_u64(p + 4, book->timestamp_ms);
    put_u64(p + 12, book->prev_change_id);
    put_u64(p + 20, book->change_id);
    p[28] = book->is_last;
    for (unsigned i = 0; i < n; i++, e += HT_SBE_ENTRY_BOOK_CHANGE) {
        p = e;
        p[0] = changes[i].side;
        p[1] = changes[i].change;
        put_f64(p + 2, changes[i].price);
        put_f64(p + 10, changes[i].amount);
    }
    return 0;
}

int ht_sbe_put_trades(ht_sbe_writer *w, uint32_t instrument_id, const ht_sbe_trade *trades, unsigned n)
{
    uint8_t *e;
    uint8_t *p = begin_group_message(w, HT_SBE_BLOCK_TRADES, HT_SBE_TRADES, HT_SBE_ENTRY_TRADE, n, &e);
    if (!p)
        return -1;
    put_u32(p, instrument_id);
    for (unsigned i = 0; i < n; i++, e += HT_SBE_ENTRY_TRADE) {
        p = e;
        const ht_sbe_trade *t = &trades[i];
        p[0] = t->direction;
        put_f64(p + 1, t->price);
        put_f64(p + 9, t->amount);
        put_u64(p + 17, t->timestamp_ms);
        put_f64(p + 25, t->mark_price);
        put_f64(p + 33, t->index_price);
        put_u64(p + 41, t->trade_seq);
        put_u64(p + 49, t->trade_id);
        p[57] = t->tick_direction;
        p[58] = t->liquidation;
        put_f64(p + 59, t->iv);
        put_u64(p + 67, t->block_trade_id);
        put_u64(p + 75, t->combo_trade_id);
    }
    return 0;
}

int ht_sbe_put_ticker(ht_sbe_writer *w, const ht_sbe_ticker *t)
{
    uint8_t *p = begin_message(w, HT_SBE_MSG_HEADER_LEN + HT_SBE_BLOCK_TICKER, HT_SBE_BLOCK_TICKER,
                               HT_SBE_TICKER, 0, 0);
    if (!p)
        return -1;
    put_u32(p, t->instrument_id);
    p[4] = t->state;
    put_u64(p + 5, t->timestamp_ms);
    const double fields[15] = {t->open_interest,   t->min_sell_price,  t->max_buy_price,
                               t->last_price,      t->index_price,     t->mark_price,
                               t->best_bid_price,  t->best_bid_amount, t->best_ask_price,
                               t->best_ask_amount, t->current_funding, t->funding_8h,
                               t->estimated_delivery_price, t->delivery_price, t->settlement_price};
    for (unsigned i = 0; i < 15; i++)
        put_f64(p + 13 + 8 * i, fields[i]);
    return 0;
}

int ht_sbe_put_snapshot(ht_sbe_writer *w, const ht_sbe_snapshot *s, const ht_sbe_level *levels, unsigned n)
{
    uint8_t *e;
    uint8_t *p = begin_group_message(w, HT_SBE_BLOCK_SNAPSHOT, HT_SBE_SNAPSHOT, HT_SBE_ENTRY_LEVEL, n, &e);
    if (!p)
        return -1;
    put_u32(p, s->instrument_id);
    put_u64(p + 4, s->timestamp_ms);
    put_u64(p + 12, s->change_id);
    p[20] = s->is_book_complete;
    p[21] = s->is_last_in_book;
    for (unsigned i = 0; i < n; i++, e += HT_SBE_ENTRY_LEVEL) {
        p = e;
        p[0] = levels[i].side;
        put_f64(p + 1, levels[i].price);
        put_f64(p + 9, levels[i].amount);
    }
    return 0;
}

int ht_sbe_put_snapshot_start(ht_sbe_writer *w, uint32_t snapshot_delay_ms)
{
    uint8_t *p = begin_message(w, HT_SBE_MSG_HEADER_LEN + HT_SBE_BLOCK_SNAPSHOT_START,
                               HT_SBE_BLOCK_SNAPSHOT_START, HT_SBE_SNAPSHOT_START, 0, 0);
    if (!p)
        return -1;
    put_u32(p, snapshot_delay_ms);
    return 0;
}

int ht_sbe_put_snapshot_end(ht_sbe_writer *w)
{
    return begin_message(w, HT_SBE_MSG_HEADER_LEN, HT_SBE_BLOCK_SNAPSHOT_END, HT_SBE_SNAPSHOT_END, 0, 0) ? 0 : -1;
}

int ht_sbe_put_combo_legs(ht_sbe_writer *w, uint32_t instrument_id, const ht_sbe_leg *legs, unsigned n)
{
    uint8_t *e;
    uint8_t *p = begin_group_message(w, HT_SBE_BLOCK_COMBO_LEGS, HT_SBE_COMBO_LEGS, HT_SBE_ENTRY_LEG, n, &e);
    if (!p)
        return -1;
    put_u32(p, instrument_id);
    for (unsigned i = 0; i < n; i++, e += HT_SBE_ENTRY_LEG) {
        p = e;
        put_u32(p, legs[i].leg_instrument_id);
        put_u32(p + 4, (uint32_t)legs[i].leg_size);
    }
    return 0;
}

int ht_sbe_put_price_index(ht_sbe_writer *w, const ht_sbe_price_index *ix)
{
    uint8_t *p = begin_message(w, HT_SBE_MSG_HEADER_LEN + HT_SBE_BLOCK_PRICE_INDEX, HT_SBE_BLOCK_PRICE_INDEX,
                               HT_SBE_PRICE_INDEX, 0, 0);
    if (!p)
        return -1;
    put_fixed_string(p, ix->index_name, 16);
    put_f64(p + 16, ix->price);
    put_u64(p + 24, ix->timestamp_ms);
    return 0;
}

int ht_sbe_put_rfq(ht_sbe_writer *w, const ht_sbe_rfq *r)
{
    uint8_t *p = begin_message(w, HT_SBE_MSG_HEADER_LEN + HT_SBE_BLOCK_RFQ, HT_SBE_BLOCK_RFQ, HT_SBE_RFQ, 0, 0);
    if (!p)
        return -1;
    put_u32(p, r->instrument_id);
    p[4] = r->state;
    p[5] = r->side;
    put_f64(p + 6, r->amount);
    put_u64(p + 14, r->timestamp_ms);
    return 0;
}

int ht_sbe_put_raw(ht_sbe_writer *w, const ht_sbe_msg_header *hdr, const void *body, size_t body_len)
{
    if (w->overflow || HT_SBE_MSG_HEADER_LEN + body_len > w->cap - w->len) {
        w->overflow = true;
        return -1;
    }
    uint8_t *p = w->buf + w->len;
    put_u16(p, hdr->block_len);
    put_u16(p + 2, hdr->template_id);
    put_u16(p + 4, hdr->schema_id);
    put_u16(p + 6, hdr->version);
    put_u16(p + 8, hdr->num_groups);
    put_u16(p + 10, hdr->num_var_data);
    if (body_len)
        memcpy(p + HT_SBE_MSG_HEADER_LEN, body, body_len);
    w->len += HT_SBE_MSG_HEADER_LEN + body_len;
    return 0;
}

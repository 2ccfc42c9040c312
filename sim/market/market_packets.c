/* SPDX-License-Identifier: MIT */
/* Market simulator, the packets of a step: channels and their packets, book ladders and their changes (1001),
 * tickers (1002), instrument records (1000/1010), snapshot cycles (1003-1006), trades (1004) and the index (1008). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "market_priv.h"

/* Closes a channel's open packet and queues it (or drops it, with loss_prob: its sequence number is spent). */
void mkt_flush_channel(ht_mkt *m, channel_state *c)
{
    if (!c->open)
        return;
    c->open = false;
    size_t len = ht_sbe_writer_finish(&c->w);
    uint32_t seq = c->next_seq++;
    (void)seq;
    if (len == 0)
        return;
    m->stats.packets++;
    if (m->cfg.loss_prob > 0.0 && ht_rng_uniform(&m->loss_rng, 0.0, 1.0) < m->cfg.loss_prob) {
        m->stats.dropped++;
        return;
    }
    if (m->queue_len == m->queue_cap || m->arena_len + len > m->arena_cap)
        return; /* cannot happen: the queue is sized for the worst step */
    queued_packet *q = &m->queue[m->queue_len++];
    q->off = m->arena_len;
    q->len = (uint32_t)len;
    q->channel_id = c->id;
    memcpy(m->arena + m->arena_len, c->buf, len);
    m->arena_len += len;
    m->stats.bytes += len;
}

/* Opens a packet on the channel when none is open. */
static void open_channel(channel_state *c, size_t mtu)
{
    if (c->open)
        return;
    ht_sbe_writer_init(&c->w, c->buf, mtu, c->id, c->next_seq);
    c->open = true;
}

/* The kinds of message put_message writes. */
typedef enum msg_kind { MSG_INSTRUMENT, MSG_TICKER, MSG_BOOK, MSG_TRADES, MSG_SNAPSHOT, MSG_SNAP_START, MSG_SNAP_END,
                        MSG_INDEX } msg_kind;

/* What put_message writes (one of them, by kind). */
typedef struct msg_args {
    const ht_sbe_instrument *instrument;
    const ht_sbe_tick_step *steps;
    unsigned n_steps;
    const ht_sbe_ticker *ticker;
    const ht_sbe_book *book;
    const ht_sbe_book_change *changes;
    const ht_sbe_trade *trades;
    const ht_sbe_snapshot *snapshot;
    const ht_sbe_level *levels;
    unsigned n;
    uint32_t instrument_id;
    const ht_sbe_price_index *index;
} msg_args;

/* Writes one message of the given kind into the writer; 0 or -1 when it does not fit. */
static int write_message(ht_sbe_writer *w, msg_kind kind, const msg_args *a)
{
    switch (kind) {
    case MSG_INSTRUMENT:
        return ht_sbe_put_instrument(w, a->instrument, a->steps, a->n_steps);
    case MSG_TICKER:
        return ht_sbe_put_ticker(w, a->ticker);
    case MSG_BOOK:
        return ht_sbe_put_book(w, a->book, a->changes, a->n);
    case MSG_TRADES:
        return ht_sbe_put_trades(w, a->instrument_id, a->trades, a->n);
    case MSG_SNAPSHOT:
        return ht_sbe_put_snapshot(w, a->snapshot, a->levels, a->n);
    case MSG_SNAP_START:
        return ht_sbe_put_snapshot_start(w, 0);
    case MSG_SNAP_END:
        return ht_sbe_put_snapshot_end(w);
    case MSG_INDEX:
        return ht_sbe_put_price_index(w, a->index);
    }
    return -1;
}

/* Appends a message to a channel's packet, starting a new packet when it does not fit. */
static void put_message(ht_mkt *m, unsigned ch_slot, msg_kind kind, const msg_args *a, uint16_t template_id)
{
    channel_state *c = &m->ch[ch_slot];
    open_channel(c, m->cfg.mtu_bytes);
    if (write_message(&c->w, kind, a) != 0) {
        c->w.overflow = false;
        mkt_flush_channel(m, c);
        open_channel(c, m->cfg.mtu_bytes);
        if (write_message(&c->w, kind, a) != 0) {
            c->w.overflow = false; /* larger than a packet: the config check keeps this from happening */
            return;
        }
    }
    m->stats.messages++;
    if (template_id >= 1000 && template_id <= 1010)
        m->stats.by_template[template_id - 1000]++;
}

/* An option's tick at a price (Deribit's two-step grid). */
static double option_tick(double price)
{
    return price >= OPTION_TICK_ABOVE ? OPTION_TICK_HIGH : OPTION_TICK_LOW;
}

/* Sets a ladder of n levels a side around mid with a half spread, on the instrument's tick grid. */
static void make_ladder(const ht_mkt *m, const inst_state *s, double mid, double half_spread, unsigned n,
                        double amount0, ht_sbe_level *bids, ht_sbe_level *asks)
{
    double step = fmax(ceil_tick(m->cfg.level_step_usd, s->tick_size), s->tick_size);
    double best_bid = floor_tick(mid - half_spread, s->tick_size);
    double best_ask = ceil_tick(mid + half_spread, s->tick_size);
    if (best_ask <= best_bid)
        best_ask = best_bid + s->tick_size;
    for (unsigned i = 0; i < n; i++) {
        double amount = round(amount0 * (1.0 + 0.5 * i) / s->contract_size) * s->contract_size;
        bids[i] = (ht_sbe_level){HT_SBE_SIDE_BID, clean(best_bid - i * step), amount};
        asks[i] = (ht_sbe_level){HT_SBE_SIDE_ASK, clean(best_ask + i * step), amount};
    }
}

/* The new ladder of an instrument at the current market (options: one level a side from the mark). */
void mkt_target_ladder(const ht_mkt *m, const inst_state *s, ht_sbe_level *bids, unsigned *nb, ht_sbe_level *asks,
                       unsigned *na)
{
    if (s->pub.kind == HT_SBE_KIND_OPTION) {
        double mark = s->pub.mark;
        double tick = option_tick(mark);
        double half = fmax(tick, 0.03 * mark);
        double bid = floor_tick(mark - half, tick), ask = ceil_tick(mark + half, tick);
        *nb = 0;
        *na = 0;
        if (bid > 0.0)
            bids[(*nb)++] = (ht_sbe_level){HT_SBE_SIDE_BID, clean(bid), OPTION_LEVEL_AMOUNT};
        asks[(*na)++] = (ht_sbe_level){HT_SBE_SIDE_ASK, clean(fmax(ask, tick)), OPTION_LEVEL_AMOUNT};
        return;
    }
    make_ladder(m, s, s->pub.mark, m->cfg.half_spread_usd, m->cfg.book_levels, m->cfg.level_amount_usd, bids, asks);
    *nb = *na = m->cfg.book_levels;
}

/* Appends the changes that turn one side's old levels into new ones: deletes first, then creations, then
 * amount changes (so a book capped at its depth never overflows). Returns the count written. */
static unsigned diff_side(const ht_sbe_level *old, unsigned n_old, const ht_sbe_level *new_levels, unsigned n_new,
                          uint8_t side, ht_sbe_book_change *out)
{
    unsigned n = 0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 0) {
            for (unsigned i = 0; i < n_old; i++) {
                bool kept = false;
                for (unsigned j = 0; j < n_new && !kept; j++)
                    kept = new_levels[j].price == old[i].price;
                if (!kept)
                    out[n++] = (ht_sbe_book_change){side, HT_SBE_CHANGE_DELETED, old[i].price, 0.0};
            }
            continue;
        }
        for (unsigned j = 0; j < n_new; j++) {
            int found = -1;
            for (unsigned i = 0; i < n_old && found < 0; i++)
                if (old[i].price == new_levels[j].price)
                    found = (int)i;
            if (pass == 1 && found < 0)
                out[n++] = (ht_sbe_book_change){side, HT_SBE_CHANGE_CREATED, new_levels[j].price, new_levels[j].amount};
            else if (pass == 2 && found >= 0 && old[found].amount != new_levels[j].amount)
                out[n++] = (ht_sbe_book_change){side, HT_SBE_CHANGE_CHANGED, new_levels[j].price, new_levels[j].amount};
        }
    }
    return n;
}

/* Publishes a 1001 that moves an instrument's book to its target ladder (split into continuation messages when
 * the change list would not fit a packet). */
void mkt_publish_book_change(ht_mkt *m, inst_state *s)
{
    ht_sbe_level bids[HT_MKT_MAX_LEVELS], asks[HT_MKT_MAX_LEVELS];
    unsigned nb, na;
    mkt_target_ladder(m, s, bids, &nb, asks, &na);
    ht_sbe_book_change changes[4 * HT_MKT_MAX_LEVELS];
    unsigned n = diff_side(s->bids, s->n_bids, bids, nb, HT_SBE_SIDE_BID, changes);
    n += diff_side(s->asks, s->n_asks, asks, na, HT_SBE_SIDE_ASK, changes + n);
    memcpy(s->bids, bids, nb * sizeof *bids);
    memcpy(s->asks, asks, na * sizeof *asks);
    s->n_bids = nb;
    s->n_asks = na;
    if (n == 0)
        return;
    ht_sbe_book b = {s->pub.id, m->now_ms, s->change_id, s->change_id + 1, 0, {0}};
    s->change_id++;
    unsigned per_msg = (m->cfg.mtu_bytes - HT_SBE_FRAME_HEADER_LEN - HT_SBE_MSG_HEADER_LEN - HT_SBE_BLOCK_BOOK -
                        HT_SBE_GROUP_HEADER_LEN) /
                       HT_SBE_ENTRY_BOOK_CHANGE;
    for (unsigned first = 0; first < n; first += per_msg) {
        unsigned count = n - first < per_msg ? n - first : per_msg;
        b.is_last = first + count == n;
        msg_args a = {.book = &b, .changes = changes + first, .n = count};
        put_message(m, s->channel, MSG_BOOK, &a, HT_SBE_BOOK);
    }
}

/* Fills a ticker with the instrument's current state. */
static void make_ticker(const ht_mkt *m, const inst_state *s, ht_sbe_ticker *t)
{
    memset(t, 0, sizeof *t);
    t->instrument_id = s->pub.id;
    t->state = m->now_ms < s->pub.expiry_ms ? HT_SBE_STATE_OPEN : HT_SBE_STATE_SETTLED;
    t->timestamp_ms = m->now_ms;
    t->open_interest = s->pub.kind == HT_SBE_KIND_OPTION ? 100.0 : 5e8;
    double mark = s->pub.mark;
    t->mark_price = mark;
    t->index_price = clean(m->spot);
    if (s->pub.kind == HT_SBE_KIND_OPTION) {
        t->min_sell_price = 0.0;
        t->max_buy_price = clean(mark + 0.05);
    } else {
        t->min_sell_price = floor_tick(mark * 0.995, s->tick_size);
        t->max_buy_price = ceil_tick(mark * 1.005, s->tick_size);
    }
    t->last_price = s->last_price;
    t->best_bid_price = s->n_bids ? s->bids[0].price : 0.0;
    t->best_bid_amount = s->n_bids ? s->bids[0].amount : 0.0;
    t->best_ask_price = s->n_asks ? s->asks[0].price : 0.0;
    t->best_ask_amount = s->n_asks ? s->asks[0].amount : 0.0;
    bool perp = s->pub.kind == HT_SBE_KIND_FUTURE && s->pub.expiry_ms == YEAR_3000_MS;
    t->current_funding = perp ? m->cfg.perp_premium : NAN;
    t->funding_8h = perp ? m->cfg.perp_premium : NAN;
    t->estimated_delivery_price = clean(m->spot);
    t->delivery_price = NAN;
    t->settlement_price = NAN;
}

/* Publishes an instrument's ticker on its incremental channel. */
void mkt_publish_ticker(ht_mkt *m, inst_state *s)
{
    ht_sbe_ticker t;
    make_ticker(m, s, &t);
    msg_args a = {.ticker = &t};
    put_message(m, s->channel, MSG_TICKER, &a, HT_SBE_TICKER);
}

/* Fills an instrument record (1000 or 1010). */
static void make_instrument(const ht_mkt *m, const inst_state *s, uint16_t template_id, ht_sbe_instrument *r)
{
    memset(r, 0, sizeof *r);
    r->template_id = template_id;
    r->instrument_id = s->pub.id;
    r->state = m->now_ms < s->pub.expiry_ms ? HT_SBE_STATE_OPEN : HT_SBE_STATE_SETTLED;
    r->kind = s->pub.kind;
    r->instrument_type = s->inverse ? HT_SBE_TYPE_REVERSED : HT_SBE_TYPE_LINEAR;
    r->option_type = s->pub.option_type;
    bool perp = s->pub.expiry_ms == YEAR_3000_MS;
    r->settlement_period = perp ? HT_SBE_PERIOD_PERPETUAL : s->pub.kind == HT_SBE_KIND_OPTION ? HT_SBE_PERIOD_DAY
                                                                                            : HT_SBE_PERIOD_MONTH;
    r->settlement_period_count = 1;
    snprintf(r->base_currency, sizeof r->base_currency, "BTC");
    snprintf(r->quote_currency, sizeof r->quote_currency, "%s", s->pub.kind == HT_SBE_KIND_OPTION ? "BTC" : "USD");
    snprintf(r->counter_currency, sizeof r->counter_currency, "USD");
    snprintf(r->settlement_currency, sizeof r->settlement_currency, "BTC");
    snprintf(r->size_currency, sizeof r->size_currency, "%s", s->pub.kind == HT_SBE_KIND_OPTION ? "BTC" : "USD");
    r->creation_timestamp_ms = m->cfg.start_ms - MS_PER_DAY;
    r->expiration_timestamp_ms = s->pub.expiry_ms;
    r->strike_price = s->pub.strike_usd;
    r->contract_size = s->contract_size;
    r->min_trade_amount = s->min_trade;
    r->tick_size = s->tick_size;
    r->maker_commission = s->maker;
    r->taker_commission = s->taker;
    r->block_trade_commission = s->pub.kind == HT_SBE_KIND_OPTION ? 0.0003 : 0.00025;
    r->max_liquidation_commission = s->pub.kind == HT_SBE_KIND_OPTION ? 0.0019 : 0.0075;
    r->max_leverage = s->pub.kind == HT_SBE_KIND_OPTION ? NAN : 50.0;
    r->name = s->pub.name;
    r->name_len = (uint8_t)strlen(s->pub.name);
}

/* Publishes a snapshot cycle on both snapshot channels: 1005, per instrument 1000, 1010, 1003, 1004, then 1006. */
void mkt_publish_snapshot_cycle(ht_mkt *m)
{
    for (unsigned slot = 3; slot < N_CHANNELS; slot++) {
        msg_args none = {0};
        put_message(m, slot, MSG_SNAP_START, &none, HT_SBE_SNAPSHOT_START);
        for (size_t i = 0; i < m->n_inst; i++) {
            inst_state *s = &m->inst[i];
            if (s->snap_channel != slot)
                continue;
            ht_sbe_instrument r;
            for (uint16_t tpl = HT_SBE_INSTRUMENT; tpl <= HT_SBE_INSTRUMENT_V2; tpl += HT_SBE_INSTRUMENT_V2 - HT_SBE_INSTRUMENT) {
                make_instrument(m, s, tpl, &r);
                ht_sbe_tick_step step = {OPTION_TICK_ABOVE, OPTION_TICK_HIGH};
                bool option = s->pub.kind == HT_SBE_KIND_OPTION;
                msg_args a = {.instrument = &r, .steps = &step, .n_steps = option ? 1 : 0};
                put_message(m, slot, MSG_INSTRUMENT, &a, tpl);
            }
            if (!isfinite(s->pub.mark))
                continue;
            ht_sbe_ticker t;
            make_ticker(m, s, &t);
            msg_args at = {.ticker = &t};
            put_message(m, slot, MSG_TICKER, &at, HT_SBE_TICKER);
            ht_sbe_level levels[2 * HT_MKT_MAX_LEVELS];
            unsigned n = 0;
            for (unsigned k = 0; k < s->n_bids || k < s->n_asks; k++) {
                if (k < s->n_bids)
                    levels[n++] = s->bids[k];
                if (k < s->n_asks)
                    levels[n++] = s->asks[k];
            }
            ht_sbe_snapshot snap = {s->pub.id, m->now_ms, s->change_id, 1, 1, {0}};
            msg_args as = {.snapshot = &snap, .levels = levels, .n = n};
            put_message(m, slot, MSG_SNAPSHOT, &as, HT_SBE_SNAPSHOT);
        }
        put_message(m, slot, MSG_SNAP_END, &none, HT_SBE_SNAPSHOT_END);
    }
}

/* Publishes one trade on the perpetual at its best bid or ask. */
void mkt_publish_trade(ht_mkt *m, inst_state *s)
{
    bool buy = ht_rng_next(&m->rng) & 1;
    double amount = 10.0 * (double)(1 + ht_rng_next(&m->rng) % 500);
    double price = buy ? s->asks[0].price : s->bids[0].price;
    ht_sbe_trade t = {0};
    t.direction = buy ? HT_SBE_BUY : HT_SBE_SELL;
    t.price = price;
    t.amount = amount;
    t.timestamp_ms = m->now_ms;
    t.mark_price = s->pub.mark;
    t.index_price = clean(m->spot);
    t.trade_seq = ++s->trade_seq;
    t.trade_id = ++m->trade_id;
    t.tick_direction = isfinite(s->last_price) && price < s->last_price ? HT_SBE_TICK_MINUS : HT_SBE_TICK_PLUS;
    t.liquidation = HT_SBE_LIQ_NONE;
    t.iv = NAN;
    s->last_price = price;
    msg_args a = {.trades = &t, .n = 1, .instrument_id = s->pub.id};
    put_message(m, s->channel, MSG_TRADES, &a, HT_SBE_TRADES);
}

void mkt_publish_index(ht_mkt *m)
{
    ht_sbe_price_index ix = {"btc_usd", clean(m->spot), m->now_ms};
    msg_args ai = {.index = &ix};
    put_message(m, 0, MSG_INDEX, &ai, HT_SBE_PRICE_INDEX);
    mkt_flush_channel(m, &m->ch[0]); /* the index goes out first, alone, as on Deribit's channel 0 */
}

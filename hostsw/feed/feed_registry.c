/* SPDX-License-Identifier: MIT */
/* The feed's instrument registry (1000/1010), the latest ticker (1003) and trade (1002) per instrument, index
 * prices (1008), and whether a price can be trusted. Deribit's SBE values become hedgetrig's own here, through
 * sbe_convert.h. */
#include "feed_priv.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include "sbe_convert.h"

/* Lower-cases src into dst (at most n-1 characters). */
static void lower_copy(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n && src[i]; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* True when the static data or state of two instrument records differ (NaN equal to NaN). */
static bool instrument_differs(const ht_instrument *a, const ht_instrument *b)
{
    return a->state != b->state || a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len) != 0 ||
           a->kind != b->kind || a->option_type != b->option_type || a->instrument_type != b->instrument_type ||
           memcmp(&a->strike_price, &b->strike_price, sizeof(double)) != 0 ||
           a->expiration_timestamp_ms != b->expiration_timestamp_ms ||
           memcmp(&a->contract_size, &b->contract_size, sizeof(double)) != 0 ||
           memcmp(&a->tick_size, &b->tick_size, sizeof(double)) != 0 ||
           memcmp(&a->min_trade_amount, &b->min_trade_amount, sizeof(double)) != 0 ||
           memcmp(&a->maker_commission, &b->maker_commission, sizeof(double)) != 0 ||
           memcmp(&a->taker_commission, &b->taker_commission, sizeof(double)) != 0 ||
           a->n_tick_steps != b->n_tick_steps ||
           memcmp(a->tick_steps, b->tick_steps, sizeof a->tick_steps) != 0 ||
           strcmp(a->base_currency, b->base_currency) != 0 || strcmp(a->quote_currency, b->quote_currency) != 0 ||
           strcmp(a->settlement_currency, b->settlement_currency) != 0;
}

/* Copies the static fields of a decoded 1000/1010 into an instrument record. */
static void instrument_fill(ht_feed *f, ht_instrument *in, const ht_sbe_instrument *d)
{
    size_t name_len = d->name_len;
    if (name_len > HT_INSTRUMENT_NAME_MAX) {
        name_len = HT_INSTRUMENT_NAME_MAX;
        f->stats.name_too_long++;
    }
    memcpy(in->name, d->name, name_len);
    in->name[name_len] = '\0';
    in->name_len = (uint8_t)name_len;
    in->id = d->instrument_id;
    in->kind = (uint8_t)sbe_to_kind(d->kind);
    in->option_type = (uint8_t)sbe_to_option_type(d->option_type);
    in->instrument_type = (uint8_t)sbe_to_instrument_type(d->instrument_type);
    in->inverse = in->instrument_type == HT_INST_INVERSE;
    in->perpetual = sbe_to_period(d->settlement_period) == HT_PERIOD_PERPETUAL;
    in->state = (uint8_t)sbe_to_state(d->state);
    in->settlement_period = (uint8_t)sbe_to_period(d->settlement_period);
    in->settlement_period_count = d->settlement_period_count;
    memcpy(in->base_currency, d->base_currency, sizeof in->base_currency);
    memcpy(in->quote_currency, d->quote_currency, sizeof in->quote_currency);
    memcpy(in->counter_currency, d->counter_currency, sizeof in->counter_currency);
    memcpy(in->settlement_currency, d->settlement_currency, sizeof in->settlement_currency);
    memcpy(in->size_currency, d->size_currency, sizeof in->size_currency);
    char base[9], counter[9];
    lower_copy(base, d->base_currency, sizeof base);
    lower_copy(counter, d->counter_currency, sizeof counter);
    /* Index names are at most 16 characters (string16); a longer pair is cut and matches no index. */
    size_t bl = strlen(base), cl = strlen(counter);
    size_t room = sizeof in->index_name - 1;
    if (bl > room)
        bl = room;
    memcpy(in->index_name, base, bl);
    size_t o = bl;
    if (o < room)
        in->index_name[o++] = '_';
    if (cl > room - o)
        cl = room - o;
    memcpy(in->index_name + o, counter, cl);
    in->index_name[o + cl] = '\0';
    in->strike_price = d->strike_price;
    in->expiration_timestamp_ms = d->expiration_timestamp_ms;
    in->creation_timestamp_ms = d->creation_timestamp_ms;
    in->contract_size = d->contract_size;
    in->tick_size = d->tick_size;
    in->min_trade_amount = d->min_trade_amount;
    in->maker_commission = d->maker_commission;
    in->taker_commission = d->taker_commission;
    in->block_trade_commission = d->block_trade_commission;
    in->max_liquidation_commission = d->max_liquidation_commission;
    in->max_leverage = d->max_leverage;
    /* 1000 carries no tick steps: keep what a 1010 gave. */
    if (d->template_id == HT_SBE_INSTRUMENT_V2) {
        unsigned n = d->tick_steps.count;
        if (n > HT_INSTRUMENT_MAX_TICK_STEPS)
            n = HT_INSTRUMENT_MAX_TICK_STEPS;
        in->n_tick_steps = (uint8_t)n;
        memset(in->tick_steps, 0, sizeof in->tick_steps);
        for (unsigned i = 0; i < n; i++) {
            ht_sbe_tick_step step;
            ht_sbe_tick_step_at(&d->tick_steps, i, &step);
            in->tick_steps[i] = sbe_to_tick_step(&step);
        }
    }
}

/* Applies 1000/1010: registers a new instrument or updates one, and emits INSTRUMENT when something changed. */
ht_sbe_status feed_on_instrument(ht_feed *f, const ht_sbe_msg *msg)
{
    ht_sbe_instrument d;
    ht_sbe_status st = ht_sbe_decode_instrument(msg, &d);
    if (HT_UNLIKELY(st != HT_SBE_OK))
        return st;
    uint32_t slot = u32map_get(&f->id_map, d.instrument_id);
    if (slot == MAP_EMPTY) {
        if (f->n_inst >= f->cfg.max_instruments) {
            f->stats.registry_full++;
            return HT_SBE_OK;
        }
        slot = f->n_inst++;
        ht_instrument *in = &f->inst[slot];
        in->index = slot;
        in->channel_id = HT_FEED_NO_CHANNEL;
        in->last_trade_price = NAN;
        in->last_trade_amount = NAN;
        in->last_trade_iv = NAN;
        instrument_fill(f, in, &d);
        u32map_put(&f->id_map, d.instrument_id, slot);
        f->priv[slot].name_hash = name_hash(in->name, in->name_len);
        name_map_put(&f->inst_names, in->name, in->name_len, f->priv[slot].name_hash, slot);
        emit(f, HT_FEED_EV_INSTRUMENT, in, d.creation_timestamp_ms);
        return HT_SBE_OK;
    }
    ht_instrument *in = &f->inst[slot];
    ht_instrument before = *in;
    instrument_fill(f, in, &d);
    if (before.name_len != in->name_len || memcmp(before.name, in->name, in->name_len) != 0) {
        name_map_remove(&f->inst_names, f->priv[slot].name_hash, slot);
        f->priv[slot].name_hash = name_hash(in->name, in->name_len);
        name_map_put(&f->inst_names, in->name, in->name_len, f->priv[slot].name_hash, slot);
    }
    if (instrument_differs(&before, in))
        emit(f, HT_FEED_EV_INSTRUMENT, in, d.creation_timestamp_ms);
    return HT_SBE_OK;
}

/* Applies 1003: the instrument's full state, which also makes its prices whole again. The ticker is decoded
 * and converted into the instrument once its time shows it is not older than the one held. */
ht_sbe_status feed_on_ticker(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_TICKER))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    uint64_t ts_ms = ht_sbe_u64(msg->block + 5);
    note_time(f, ch, ts_ms);
    uint32_t slot = instrument_slot(f, ht_sbe_u32(msg->block));
    if (HT_UNLIKELY(slot == MAP_EMPTY))
        return HT_SBE_OK;
    ht_instrument *in = &f->inst[slot];
    if (HT_UNLIKELY(ts_ms < in->ticker.timestamp_ms)) {
        f->stats.old_tickers++;
        return HT_SBE_OK;
    }
    learn_home(f, slot, ch, ch_slot);
    ht_sbe_ticker t;
    ht_sbe_decode_ticker(msg, &t);
    sbe_to_ticker(&t, &in->ticker);
    in->state = (uint8_t)in->ticker.state;
    in->ticker_updates++;
    f->priv[slot].price_serial = f->gap_serial;
    emit(f, in->kind == HT_INST_OPTION ? HT_FEED_EV_OPTION_TICKER : HT_FEED_EV_TICKER, in, ts_ms);
    return HT_SBE_OK;
}

/* Applies 1002: the latest trade, one event per trade. */
ht_sbe_status feed_on_trades(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
{
    ht_sbe_trades d;
    ht_sbe_status st = ht_sbe_decode_trades(msg, &d);
    if (HT_UNLIKELY(st != HT_SBE_OK))
        return st;
    uint32_t slot = instrument_slot(f, d.instrument_id);
    if (HT_UNLIKELY(slot == MAP_EMPTY))
        return HT_SBE_OK;
    learn_home(f, slot, ch, ch_slot);
    ht_instrument *in = &f->inst[slot];
    for (unsigned i = 0; i < d.trades.count; i++) {
        ht_sbe_trade wire;
        ht_sbe_trade_at(&d.trades, i, &wire);
        ht_trade t;
        sbe_to_trade(&wire, &t);
        note_time(f, ch, t.timestamp_ms);
        if (t.timestamp_ms >= in->last_trade_timestamp_ms) {
            in->last_trade_price = t.price;
            in->last_trade_amount = t.amount;
            in->last_trade_iv = t.iv;
            in->last_trade_timestamp_ms = t.timestamp_ms;
            in->last_trade_direction = (uint8_t)t.direction;
        }
        in->trades++;
        f->ev.trade = &t;
        emit(f, HT_FEED_EV_TRADE, in, t.timestamp_ms);
    }
    return HT_SBE_OK;
}

/* Applies 1008: an index price (added on first sight). */
ht_sbe_status feed_on_price_index(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch)
{
    ht_sbe_price_index d;
    ht_sbe_status st = ht_sbe_decode_price_index(msg, &d);
    if (HT_UNLIKELY(st != HT_SBE_OK))
        return st;
    note_time(f, ch, d.timestamp_ms);
    size_t len = strlen(d.index_name);
    uint32_t hash = name_hash(d.index_name, len);
    uint32_t slot = name_map_get(&f->ix_names, d.index_name, len, hash);
    if (slot == MAP_EMPTY) {
        if (f->n_ix >= f->cfg.max_indices) {
            f->stats.indices_full++;
            return HT_SBE_OK;
        }
        slot = f->n_ix++;
        ht_index_price *ix = &f->ix[slot];
        memcpy(ix->name, d.index_name, len + 1);
        ix->index = slot;
        ix->price = NAN;
        name_map_put(&f->ix_names, ix->name, len, hash, slot);
    }
    ht_index_price *ix = &f->ix[slot];
    if (d.timestamp_ms < ix->timestamp_ms) {
        f->stats.old_tickers++;
        return HT_SBE_OK;
    }
    ix->price = d.price;
    ix->timestamp_ms = d.timestamp_ms;
    ix->updates++;
    ix->channel_id = ch->id;
    f->ix_serial[slot] = f->gap_serial;
    f->ev.index = ix;
    emit(f, HT_FEED_EV_INDEX, NULL, d.timestamp_ms);
    return HT_SBE_OK;
}

/* ---- Queries ---------------------------------------------------------------------------------------- */

const ht_instrument *ht_feed_instrument(const ht_feed *f, uint32_t id)
{
    uint32_t slot = u32map_get(&f->id_map, id);
    return slot == MAP_EMPTY ? NULL : &f->inst[slot];
}

const ht_instrument *ht_feed_instrument_by_name_n(const ht_feed *f, const char *name, size_t len)
{
    if (!name)
        return NULL;
    uint32_t slot = name_map_get(&f->inst_names, name, len, name_hash(name, len));
    return slot == MAP_EMPTY ? NULL : &f->inst[slot];
}

const ht_instrument *ht_feed_instrument_by_name(const ht_feed *f, const char *name)
{
    return name ? ht_feed_instrument_by_name_n(f, name, strlen(name)) : NULL;
}

uint32_t ht_feed_instrument_count(const ht_feed *f)
{
    return f->n_inst;
}

const ht_instrument *ht_feed_instrument_at(const ht_feed *f, uint32_t i)
{
    return i < f->n_inst ? &f->inst[i] : NULL;
}

const ht_index_price *ht_feed_index(const ht_feed *f, const char *name)
{
    if (!name)
        return NULL;
    size_t len = strlen(name);
    uint32_t slot = name_map_get(&f->ix_names, name, len, name_hash(name, len));
    return slot == MAP_EMPTY ? NULL : &f->ix[slot];
}

uint32_t ht_feed_index_count(const ht_feed *f)
{
    return f->n_ix;
}

const ht_index_price *ht_feed_index_at(const ht_feed *f, uint32_t i)
{
    return i < f->n_ix ? &f->ix[i] : NULL;
}

/* True when an instrument state means the exchange is quoting it. */
static bool state_is_live(uint8_t state)
{
    return state == HT_INST_OPEN || state == HT_INST_STARTED;
}

ht_price_status ht_feed_price_status(const ht_feed *f, const ht_instrument *in, uint64_t max_age_ms)
{
    const inst_priv *p = &f->priv[in->index];
    if (in->ticker_updates == 0)
        return HT_PRICE_NONE;
    if (!state_is_live(in->state))
        return HT_PRICE_NOT_OPEN;
    if (p->home != MAP_EMPTY && f->ch[p->home].last_gap_serial > p->price_serial)
        return HT_PRICE_STALE;
    if (max_age_ms && f->now_ms > in->ticker.timestamp_ms && f->now_ms - in->ticker.timestamp_ms > max_age_ms)
        return HT_PRICE_OLD;
    return HT_PRICE_OK;
}

ht_price_status ht_feed_index_status(const ht_feed *f, const ht_index_price *ix, uint64_t max_age_ms)
{
    if (ix->updates == 0)
        return HT_PRICE_NONE;
    uint32_t ch_plus1 = f->ch_slot_of[ix->channel_id];
    if (ch_plus1 && f->ch[ch_plus1 - 1].last_gap_serial > f->ix_serial[ix->index])
        return HT_PRICE_STALE;
    if (max_age_ms && f->now_ms > ix->timestamp_ms && f->now_ms - ix->timestamp_ms > max_age_ms)
        return HT_PRICE_OLD;
    return HT_PRICE_OK;
}

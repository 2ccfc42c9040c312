/* SPDX-License-Identifier: MIT */
/* The feed: sequencing, instrument registry, market state, index prices, books and events from SBE packets. */
#include "hedgetrig/feed.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "maps.h"
#include "sbe_convert.h"

/* What the parts of the snapshot being received do to the book. */
enum { SNAP_IDLE = 0, SNAP_BUILD, SNAP_VERIFY, SNAP_SKIP };

/* A copy of a 1001 kept while its book waits for a snapshot. */
typedef struct queued_change {
    uint32_t slot; /* instrument slot, MAP_EMPTY once replayed */
    uint16_t len;
    uint8_t bytes[HT_FEED_QUEUE_ENTRY_BYTES];
} queued_change;

/* Per-instrument state consumers do not see. */
typedef struct inst_priv {
    ht_book_side_state bid, ask; /* the book's two sides (levels live in ht_feed.levels) */
    ht_book book;                /* the public view of the book */
    uint8_t book_status;         /* HT_BOOK_NONE, _OK or _BROKEN (UNVERIFIED is derived) */
    bool expect_continuation;    /* the latest 1001 had isLast = 0 */
    uint64_t last_prev_change_id;
    uint64_t book_serial;        /* gap serial when the book was last proven whole */
    uint64_t price_serial;       /* gap serial when the ticker was last made whole */
    uint32_t home;               /* channel slot of the incremental channel, MAP_EMPTY until seen */
    uint32_t name_hash;
    /* Snapshot assembly (1004 parts between 1005 and 1006). */
    uint8_t snap_mode;           /* SNAP_IDLE, _BUILD (rebuilding), _VERIFY (checking a sound book), _SKIP */
    bool verify_bad;             /* a checked level differed */
    uint32_t verify_bids, verify_asks; /* levels of the snapshot found in the book's exact range */
    uint32_t snap_channel;       /* channel slot the parts come from */
    uint64_t snap_channel_serial; /* that channel's last_gap_serial when the snapshot began */
    uint64_t snap_change_id;
    bool snap_complete;          /* isBookComplete of the parts so far */
} inst_priv;

struct ht_feed {
    ht_feed_config cfg;
    ht_instrument *inst;
    inst_priv *priv;
    uint32_t n_inst;
    ht_book_level *levels; /* max_instruments * 2 * book_depth */
    u32map id_map;         /* instrument id -> slot */
    name_map inst_names;   /* name -> slot */
    ht_index_price *ix;
    uint64_t *ix_serial;   /* per index: gap serial at its latest update */
    uint32_t n_ix;
    name_map ix_names;
    ht_feed_channel *ch;
    uint32_t n_ch;
    uint32_t *ch_slot_of;  /* channel id -> slot + 1 (0: unknown); direct, one load per packet */
    uint64_t gap_serial;   /* incremented on every gap, reset or malformed packet of any channel */
    uint64_t now_ms;
    ht_feed_stats stats;
    ht_feed_event ev;      /* the current packet's event fields */
    queued_change *queue;  /* change_queue entries, a ring */
    uint32_t queue_head, queue_count;
};

static const char *const g_price_status[] = {"ok", "none", "stale", "not open", "old"};
static const char *const g_book_status[] = {"none", "ok", "unverified", "broken"};

const char *ht_price_status_str(ht_price_status s)
{
    return (unsigned)s < HT_ARRAY_LEN(g_price_status) ? g_price_status[s] : "unknown";
}

const char *ht_book_status_str(ht_book_status s)
{
    return (unsigned)s < HT_ARRAY_LEN(g_book_status) ? g_book_status[s] : "unknown";
}

void ht_feed_config_default(ht_feed_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_instruments = 4096;
    cfg->max_channels = 256;
    cfg->max_indices = 128;
    cfg->book_depth = 32;
    cfg->change_queue = 1024;
}

/* Name of instrument slot `idx` for the name map. */
static const char *inst_name_of(const void *ctx, uint32_t idx, size_t *len)
{
    const ht_feed *f = ctx;
    *len = f->inst[idx].name_len;
    return f->inst[idx].name;
}

/* Name of index slot `idx` for the name map. */
static const char *ix_name_of(const void *ctx, uint32_t idx, size_t *len)
{
    const ht_feed *f = ctx;
    *len = strlen(f->ix[idx].name);
    return f->ix[idx].name;
}

/* Points every book view at its slice of the level storage and empties it. */
static void reset_state(ht_feed *f)
{
    uint32_t depth = f->cfg.book_depth;
    memset(f->inst, 0, sizeof *f->inst * f->cfg.max_instruments);
    memset(f->priv, 0, sizeof *f->priv * f->cfg.max_instruments);
    for (uint32_t i = 0; i < f->cfg.max_instruments; i++) {
        inst_priv *p = &f->priv[i];
        ht_book_side_init(&p->bid, f->levels + (size_t)i * 2 * depth, depth, true);
        ht_book_side_init(&p->ask, f->levels + (size_t)i * 2 * depth + depth, depth, false);
        p->book.bids = p->bid.levels;
        p->book.asks = p->ask.levels;
        p->book.depth = depth;
        p->home = MAP_EMPTY;
    }
    memset(f->ix, 0, sizeof *f->ix * f->cfg.max_indices);
    memset(f->ix_serial, 0, sizeof *f->ix_serial * f->cfg.max_indices);
    memset(f->ch, 0, sizeof *f->ch * f->cfg.max_channels);
    u32map_clear(&f->id_map);
    memset(f->ch_slot_of, 0, 65536 * sizeof *f->ch_slot_of);
    name_map_clear(&f->inst_names);
    name_map_clear(&f->ix_names);
    f->n_inst = f->n_ix = f->n_ch = 0;
    f->gap_serial = 0;
    f->now_ms = 0;
    f->queue_head = f->queue_count = 0;
    memset(&f->stats, 0, sizeof f->stats);
    memset(&f->ev, 0, sizeof f->ev);
}

ht_feed *ht_feed_create(const ht_feed_config *cfg_in, ht_error *err)
{
    ht_feed_config cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        ht_feed_config_default(&cfg);
    if (cfg.max_instruments < 1 || cfg.max_instruments > (1u << 20)) {
        ht_error_set(err, "feed: max_instruments must be 1..1048576, got %u", cfg.max_instruments);
        return NULL;
    }
    if (cfg.max_channels < 1 || cfg.max_channels > 65536) {
        ht_error_set(err, "feed: max_channels must be 1..65536, got %u", cfg.max_channels);
        return NULL;
    }
    if (cfg.max_indices < 1 || cfg.max_indices > 4096) {
        ht_error_set(err, "feed: max_indices must be 1..4096, got %u", cfg.max_indices);
        return NULL;
    }
    if (cfg.book_depth < 1 || cfg.book_depth > 4096) {
        ht_error_set(err, "feed: book_depth must be 1..4096, got %u", cfg.book_depth);
        return NULL;
    }
    if (cfg.change_queue > 65536) {
        ht_error_set(err, "feed: change_queue must be 0..65536, got %u", cfg.change_queue);
        return NULL;
    }
    ht_feed *f = calloc(1, sizeof *f);
    if (!f) {
        ht_error_set(err, "feed: out of memory");
        return NULL;
    }
    f->cfg = cfg;
    f->inst = calloc(cfg.max_instruments, sizeof *f->inst);
    f->priv = calloc(cfg.max_instruments, sizeof *f->priv);
    f->levels = calloc((size_t)cfg.max_instruments * 2 * cfg.book_depth, sizeof *f->levels);
    f->ix = calloc(cfg.max_indices, sizeof *f->ix);
    f->ix_serial = calloc(cfg.max_indices, sizeof *f->ix_serial);
    f->ch = calloc(cfg.max_channels, sizeof *f->ch);
    f->queue = cfg.change_queue ? calloc(cfg.change_queue, sizeof *f->queue) : NULL;
    bool ok = (f->queue || !cfg.change_queue) && f->inst && f->priv && f->levels && f->ix && f->ix_serial && f->ch &&
              u32map_init(&f->id_map, cfg.max_instruments) == 0 &&
              (f->ch_slot_of = calloc(65536, sizeof *f->ch_slot_of)) != NULL &&
              name_map_init(&f->inst_names, cfg.max_instruments, inst_name_of, f) == 0 &&
              name_map_init(&f->ix_names, cfg.max_indices, ix_name_of, f) == 0;
    if (!ok) {
        ht_feed_destroy(f);
        ht_error_set(err, "feed: out of memory for %u instruments x %u levels", cfg.max_instruments,
                     cfg.book_depth);
        return NULL;
    }
    reset_state(f);
    return f;
}

void ht_feed_destroy(ht_feed *f)
{
    if (!f)
        return;
    free(f->inst);
    free(f->priv);
    free(f->levels);
    free(f->ix);
    free(f->ix_serial);
    free(f->ch);
    u32map_free(&f->id_map);
    free(f->ch_slot_of);
    free(f->queue);
    name_map_free(&f->inst_names);
    name_map_free(&f->ix_names);
    free(f);
}

void ht_feed_reset(ht_feed *f)
{
    reset_state(f);
}

/* ---- Events ---------------------------------------------------------------------------------------- */

/* Delivers one event built from the packet's fields plus the given parts. */
static void emit(ht_feed *f, ht_feed_event_kind kind, const ht_instrument *in, uint64_t ts_ms)
{
    f->stats.events++;
    f->stats.events_by_kind[kind]++;
    if (!f->cfg.on_event)
        return;
    ht_feed_event *ev = &f->ev;
    ev->kind = kind;
    ev->instrument = in;
    ev->exchange_timestamp_ms = ts_ms;
    f->cfg.on_event(f->cfg.user, ev);
    ev->index = NULL;
    ev->trade = NULL;
    ev->book = NULL;
    ev->missed = 0;
}

/* Advances the feed's clock and the channel's exchange-time span with a message timestamp. */
static inline void note_time(ht_feed *f, ht_feed_channel *ch, uint64_t ts_ms)
{
    if (ts_ms > f->now_ms)
        f->now_ms = ts_ms;
    if (!ch->first_exchange_ms)
        ch->first_exchange_ms = ts_ms;
    if (ts_ms > ch->last_exchange_ms)
        ch->last_exchange_ms = ts_ms;
}

/* ---- Channels and sequencing ------------------------------------------------------------------------ */

/* Marks a channel as having lost data: every instrument homed on it becomes stale. */
static void channel_lost_data(ht_feed *f, ht_feed_channel *ch)
{
    ch->last_gap_serial = ++f->gap_serial;
}

/* Finds or adds the channel; NULL when the table is full. */
static ht_feed_channel *channel_get(ht_feed *f, uint16_t id, uint32_t *slot_out)
{
    uint32_t slot = f->ch_slot_of[id];
    if (HT_LIKELY(slot != 0)) {
        *slot_out = slot - 1;
        return &f->ch[slot - 1];
    }
    if (f->n_ch >= f->cfg.max_channels)
        return NULL;
    slot = f->n_ch++;
    f->ch_slot_of[id] = slot + 1;
    ht_feed_channel *ch = &f->ch[slot];
    memset(ch, 0, sizeof *ch);
    ch->id = id;
    *slot_out = slot;
    return ch;
}

enum { SEQ_ACCEPT, SEQ_DROP };

/* Checks a packet's sequence against the channel: counts gaps, duplicates, late packets, wraps and
 * resets, and says whether the packet's messages should be applied. */
static int sequence_check(ht_feed *f, ht_feed_channel *ch, uint32_t seq)
{
    if (HT_UNLIKELY(!ch->have_seq)) {
        ch->have_seq = true;
        ch->last_seq = seq;
        ch->seen_mask = 0;
        return SEQ_ACCEPT;
    }
    uint32_t ahead = seq - ch->last_seq;
    if (HT_LIKELY(ahead == 1)) {
        if (HT_UNLIKELY(seq == 0)) {
            ch->wraps++;
            f->stats.seq_wraps++;
        }
        ch->seen_mask = (ch->seen_mask << 1) | 1u;
        ch->last_seq = seq;
        return SEQ_ACCEPT;
    }
    if (ahead == 0) {
        ch->duplicates++;
        f->stats.seq_duplicates++;
        return SEQ_DROP;
    }
    if (seq == 0) {
        /* A reset (after maintenance): everything on the channel must be rebuilt. */
        ch->resets++;
        f->stats.seq_resets++;
        ch->last_seq = 0;
        ch->seen_mask = 0;
        channel_lost_data(f, ch);
        f->ev.missed = 0;
        emit(f, HT_FEED_EV_GAP, NULL, 0);
        return SEQ_ACCEPT;
    }
    if (ahead < 0x80000000u) {
        uint32_t missed = ahead - 1;
        ch->gaps++;
        ch->missed += missed;
        f->stats.seq_gaps++;
        f->stats.seq_missed += missed;
        if (seq < ch->last_seq) {
            ch->wraps++;
            f->stats.seq_wraps++;
        }
        ch->seen_mask = ahead >= 64 ? 0 : (ch->seen_mask << ahead) | (1ull << (ahead - 1));
        ch->last_seq = seq;
        channel_lost_data(f, ch);
        f->ev.missed = missed;
        emit(f, HT_FEED_EV_GAP, NULL, 0);
        return SEQ_ACCEPT;
    }
    uint32_t behind = ch->last_seq - seq;
    if (behind <= 64) {
        uint64_t bit = 1ull << (behind - 1);
        if (ch->seen_mask & bit) {
            ch->duplicates++;
            f->stats.seq_duplicates++;
        } else {
            /* Arrived after a later packet: its content was already given up for lost. */
            ch->seen_mask |= bit;
            ch->late++;
            f->stats.seq_late++;
        }
        return SEQ_DROP;
    }
    /* Far behind: the producer restarted at another number. Treat as a reset. */
    ch->resets++;
    f->stats.seq_resets++;
    ch->last_seq = seq;
    ch->seen_mask = 0;
    channel_lost_data(f, ch);
    f->ev.missed = 0;
    emit(f, HT_FEED_EV_GAP, NULL, 0);
    return SEQ_ACCEPT;
}

/* Marks a channel as a snapshot channel; instruments that took it for their incremental channel forget it. */
static void channel_mark_snapshot(ht_feed *f, ht_feed_channel *ch, uint32_t slot)
{
    if (ch->is_snapshot)
        return;
    ch->is_snapshot = true;
    for (uint32_t i = 0; i < f->n_inst; i++) {
        if (f->priv[i].home == slot) {
            f->priv[i].home = MAP_EMPTY;
            f->inst[i].channel_id = HT_FEED_NO_CHANNEL;
        }
    }
}

/* ---- Instruments ------------------------------------------------------------------------------------ */

/* The slot of a registered instrument id, or MAP_EMPTY (counted as unknown). */
static inline uint32_t instrument_slot(ht_feed *f, uint32_t id)
{
    uint32_t slot = u32map_get(&f->id_map, id);
    if (HT_UNLIKELY(slot == MAP_EMPTY))
        f->stats.unknown_instrument++;
    return slot;
}

/* Remembers the incremental channel an instrument's book, trades and tickers arrive on. */
static inline void learn_home(ht_feed *f, uint32_t slot, const ht_feed_channel *ch, uint32_t ch_slot)
{
    inst_priv *p = &f->priv[slot];
    if (HT_UNLIKELY(p->home != ch_slot) && !ch->is_snapshot) {
        p->home = ch_slot;
        f->inst[slot].channel_id = ch->id;
    }
}

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
static ht_sbe_status on_instrument(ht_feed *f, const ht_sbe_msg *msg)
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
static ht_sbe_status on_ticker(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
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
static ht_sbe_status on_trades(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
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

/* Copies the sides' counts into the public book view. */
static void book_publish(inst_priv *p)
{
    p->book.bid_count = p->bid.count;
    p->book.ask_count = p->ask.count;
    p->book.bid_reliable = p->bid.reliable;
    p->book.ask_reliable = p->ask.reliable;
}

/* Applies one decoded 1001 to a book that has a base: follows the changeId chain (a continuation part, the
 * next link, an old change, or a break) and then the levels. Emits BOOK when emit_event is set. */
static void book_apply(ht_feed *f, uint32_t slot, const ht_sbe_book *d, bool emit_event)
{
    inst_priv *p = &f->priv[slot];
    bool continuation = p->expect_continuation && d->change_id == p->book.change_id &&
                        d->prev_change_id == p->last_prev_change_id;
    if (!continuation) {
        if (d->prev_change_id == p->book.change_id) {
            /* The chain holds: nothing was missed for this book, whatever the channel lost. */
            if (p->book_status == HT_BOOK_OK)
                p->book_serial = f->gap_serial;
        } else if (d->change_id <= p->book.change_id) {
            f->stats.book_old_changes++;
            return;
        } else {
            f->stats.book_chain_breaks++;
            p->book_status = HT_BOOK_BROKEN;
        }
    }
    for (unsigned i = 0; i < d->changes.count; i++) {
        ht_sbe_book_change c;
        ht_sbe_book_change_at(&d->changes, i, &c);
        ht_book_side_state *side = c.side == HT_SBE_SIDE_BID ? &p->bid : &p->ask;
        int r = ht_book_side_apply(side, c.change, c.price, c.amount);
        if (HT_UNLIKELY(r != HT_BOOK_APPLY_OK)) {
            if (r == HT_BOOK_APPLY_DROPPED) {
                f->stats.book_levels_dropped++;
            } else if (p->book_status != HT_BOOK_BROKEN) {
                f->stats.book_inconsistent++;
                p->book_status = HT_BOOK_BROKEN;
            }
        }
    }
    p->book.change_id = d->change_id;
    p->last_prev_change_id = d->prev_change_id;
    p->book.timestamp_ms = d->timestamp_ms;
    p->expect_continuation = !d->is_last;
    p->book.changes++;
    book_publish(p);
    if (emit_event) {
        f->ev.book = &p->book;
        emit(f, HT_FEED_EV_BOOK, &f->inst[slot], d->timestamp_ms);
    }
}

/* Keeps a copy of a 1001 for a book that waits for a snapshot, so the changes newer than the snapshot can
 * be applied when it comes (the oldest copy makes room when the queue is full). */
static void queue_change(ht_feed *f, uint32_t slot, const ht_sbe_msg *msg)
{
    uint32_t cap = f->cfg.change_queue;
    if (!cap)
        return;
    const uint8_t *start = msg->block - HT_SBE_MSG_HEADER_LEN;
    size_t len = (size_t)(msg->end - start);
    if (len > HT_FEED_QUEUE_ENTRY_BYTES) {
        f->stats.book_changes_not_queued++;
        return;
    }
    queued_change *q = &f->queue[f->queue_head];
    if (f->queue_count == cap)
        f->stats.book_queue_overwritten++;
    else
        f->queue_count++;
    q->slot = slot;
    q->len = (uint16_t)len;
    memcpy(q->bytes, start, len);
    f->queue_head = (f->queue_head + 1) % cap;
    f->stats.book_changes_queued++;
}

/* Applies the queued changes of an instrument newer than its fresh snapshot, oldest first, and drops them
 * from the queue. A gap in their chain makes the book broken again. */
static void replay_queued(ht_feed *f, uint32_t slot)
{
    uint32_t cap = f->cfg.change_queue;
    if (!cap)
        return;
    uint32_t first = (f->queue_head + cap - f->queue_count) % cap;
    for (uint32_t k = 0; k < f->queue_count; k++) {
        queued_change *q = &f->queue[(first + k) % cap];
        if (q->slot != slot)
            continue;
        q->slot = MAP_EMPTY;
        ht_sbe_msg m;
        m.hdr.block_len = ht_sbe_u16(q->bytes);
        m.hdr.template_id = ht_sbe_u16(q->bytes + 2);
        m.hdr.num_groups = ht_sbe_u16(q->bytes + 8);
        m.block = q->bytes + HT_SBE_MSG_HEADER_LEN;
        m.groups = m.block + m.hdr.block_len;
        m.end = q->bytes + q->len;
        ht_sbe_book d;
        if (ht_sbe_decode_book(&m, &d) != HT_SBE_OK)
            continue;
        if (d.change_id > f->priv[slot].book.change_id || f->priv[slot].expect_continuation) {
            book_apply(f, slot, &d, false);
            f->stats.book_changes_replayed++;
        }
    }
}

/* Applies 1001: follows the changeId chain and the levels; a book without a sound base queues it. */
static ht_sbe_status on_book(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
{
    ht_sbe_book d;
    ht_sbe_status st = ht_sbe_decode_book(msg, &d);
    if (HT_UNLIKELY(st != HT_SBE_OK))
        return st;
    note_time(f, ch, d.timestamp_ms);
    uint32_t slot = instrument_slot(f, d.instrument_id);
    if (HT_UNLIKELY(slot == MAP_EMPTY))
        return HT_SBE_OK;
    learn_home(f, slot, ch, ch_slot);
    inst_priv *p = &f->priv[slot];
    if (HT_UNLIKELY(p->book_status != HT_BOOK_OK))
        queue_change(f, slot, msg);
    if (p->book_status == HT_BOOK_NONE) {
        f->stats.book_before_snapshot++;
        return HT_SBE_OK;
    }
    book_apply(f, slot, &d, true);
    return HT_SBE_OK;
}

/* Checks one part of a snapshot against a sound book with the same changeId: every level the snapshot has
 * inside the book's exact range must be held with the same amount; the count is checked at the end. */
static void snapshot_verify_part(inst_priv *p, const ht_sbe_snapshot *d)
{
    for (unsigned i = 0; i < d->levels.count; i++) {
        ht_sbe_level lv;
        ht_sbe_level_at(&d->levels, i, &lv);
        bool bid = lv.side == HT_SBE_SIDE_BID;
        int r = ht_book_side_check(bid ? &p->bid : &p->ask, lv.price, lv.amount);
        if (r == HT_BOOK_CHECK_MISMATCH)
            p->verify_bad = true;
        else if (r == HT_BOOK_CHECK_MATCH && bid)
            p->verify_bids++;
        else if (r == HT_BOOK_CHECK_MATCH)
            p->verify_asks++;
    }
}

/* Starts a snapshot's assembly into an emptied book. */
static void snapshot_begin(inst_priv *p)
{
    p->snap_complete = true;
    ht_book_side_clear(&p->bid, true);
    ht_book_side_clear(&p->ask, true);
    p->book_status = HT_BOOK_BROKEN; /* until the last part */
}

/* Finishes a snapshot that rebuilt the book: sound from now, then the queued newer changes. */
static void snapshot_finish(ht_feed *f, uint32_t slot, const ht_sbe_snapshot *d)
{
    inst_priv *p = &f->priv[slot];
    if (!p->snap_complete) {
        ht_book_side_mark_incomplete(&p->bid);
        ht_book_side_mark_incomplete(&p->ask);
    }
    p->book_status = HT_BOOK_OK;
    p->book.change_id = d->change_id;
    p->book.timestamp_ms = d->timestamp_ms;
    p->expect_continuation = false;
    p->book_serial = f->gap_serial;
    p->book.snapshots++;
    f->stats.snapshots_applied++;
    book_publish(p);
    replay_queued(f, slot);
    f->ev.book = &p->book;
    emit(f, HT_FEED_EV_BOOK, &f->inst[slot], d->timestamp_ms);
}

/* Finishes the check of a snapshot against a sound book: a match proves the book whole (even after a
 * sequence gap); a mismatch breaks it until the next snapshot. */
static void snapshot_finish_verify(ht_feed *f, inst_priv *p)
{
    if (p->verify_bad || p->verify_bids != p->bid.reliable || p->verify_asks != p->ask.reliable) {
        f->stats.snapshots_mismatched++;
        p->book_status = HT_BOOK_BROKEN;
    } else {
        f->stats.snapshots_verified++;
        p->book_serial = f->gap_serial;
    }
}

/* Applies one 1004 part between 1005 and 1006: rebuilds a book without a sound base (or behind the
 * snapshot), checks a sound book at the same changeId against it, skips older ones. */
static ht_sbe_status on_snapshot(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
{
    ht_sbe_snapshot d;
    ht_sbe_status st = ht_sbe_decode_snapshot(msg, &d);
    if (HT_UNLIKELY(st != HT_SBE_OK))
        return st;
    note_time(f, ch, d.timestamp_ms);
    channel_mark_snapshot(f, ch, ch_slot);
    if (!ch->in_snapshot) {
        /* Joined mid-batch: wait for the next 1005. */
        f->stats.snapshots_ignored++;
        return HT_SBE_OK;
    }
    uint32_t slot = instrument_slot(f, d.instrument_id);
    if (HT_UNLIKELY(slot == MAP_EMPTY))
        return HT_SBE_OK;
    inst_priv *p = &f->priv[slot];
    bool continues = p->snap_mode != SNAP_IDLE && p->snap_channel == ch_slot && p->snap_change_id == d.change_id;
    if (!continues) {
        p->snap_mode = SNAP_IDLE;
        p->snap_channel = ch_slot;
        p->snap_change_id = d.change_id;
        p->snap_channel_serial = ch->last_gap_serial;
        if (p->book_status == HT_BOOK_OK && d.change_id == p->book.change_id && !p->expect_continuation) {
            p->snap_mode = SNAP_VERIFY;
            p->verify_bad = false;
            p->verify_bids = p->verify_asks = 0;
        } else if (p->book_status == HT_BOOK_OK && d.change_id <= p->book.change_id) {
            f->stats.snapshots_ignored++;
            p->snap_mode = SNAP_SKIP;
        } else {
            p->snap_mode = SNAP_BUILD;
            snapshot_begin(p);
        }
    }
    if (p->snap_mode == SNAP_VERIFY)
        snapshot_verify_part(p, &d);
    if (p->snap_mode == SNAP_BUILD) {
        if (!d.is_book_complete)
            p->snap_complete = false;
        for (unsigned i = 0; i < d.levels.count; i++) {
            ht_sbe_level lv;
            ht_sbe_level_at(&d.levels, i, &lv);
            ht_book_side_state *side = lv.side == HT_SBE_SIDE_BID ? &p->bid : &p->ask;
            if (ht_book_side_apply(side, HT_SBE_CHANGE_CREATED, lv.price, lv.amount) == HT_BOOK_APPLY_DROPPED)
                f->stats.book_levels_dropped++;
        }
    }
    if (!d.is_last_in_book)
        return HT_SBE_OK;
    int mode = p->snap_mode;
    p->snap_mode = SNAP_IDLE;
    if (mode == SNAP_SKIP)
        return HT_SBE_OK;
    if (ch->last_gap_serial != p->snap_channel_serial) {
        f->stats.snapshots_aborted++;
        book_publish(p);
        return HT_SBE_OK;
    }
    if (mode == SNAP_VERIFY)
        snapshot_finish_verify(f, p);
    else
        snapshot_finish(f, slot, &d);
    return HT_SBE_OK;
}

/* Applies 1008: an index price (added on first sight). */
static ht_sbe_status on_price_index(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch)
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

/* Applies one message of an accepted packet. */
static ht_sbe_status apply_message(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
{
    uint16_t tid = msg->hdr.template_id;
    if (HT_UNLIKELY(!ht_sbe_template_known(tid))) {
        f->stats.unknown_template++;
        ch->other_messages++;
        return HT_SBE_OK;
    }
    if (HT_UNLIKELY(msg->hdr.schema_id != HT_SBE_SCHEMA_ID)) {
        f->stats.unknown_schema++;
        ch->other_messages++;
        return HT_SBE_OK;
    }
    if (HT_UNLIKELY(msg->hdr.version < HT_SBE_VERSION_MIN || msg->hdr.version > HT_SBE_VERSION_MAX)) {
        f->stats.unknown_version++;
        ch->other_messages++;
        return HT_SBE_OK;
    }
    f->stats.by_template[tid - HT_SBE_TEMPLATE_FIRST]++;
    ch->by_template[tid - HT_SBE_TEMPLATE_FIRST]++;
    switch (tid) {
    case HT_SBE_TICKER:
        return on_ticker(f, msg, ch, ch_slot);
    case HT_SBE_BOOK:
        return on_book(f, msg, ch, ch_slot);
    case HT_SBE_TRADES:
        return on_trades(f, msg, ch, ch_slot);
    case HT_SBE_PRICE_INDEX:
        return on_price_index(f, msg, ch);
    case HT_SBE_INSTRUMENT:
    case HT_SBE_INSTRUMENT_V2:
        return on_instrument(f, msg);
    case HT_SBE_SNAPSHOT:
        return on_snapshot(f, msg, ch, ch_slot);
    case HT_SBE_SNAPSHOT_START: {
        ht_sbe_snapshot_start s;
        ht_sbe_status st = ht_sbe_decode_snapshot_start(msg, &s);
        if (st != HT_SBE_OK)
            return st;
        channel_mark_snapshot(f, ch, ch_slot);
        ch->in_snapshot = true;
        return HT_SBE_OK;
    }
    case HT_SBE_SNAPSHOT_END:
        ch->in_snapshot = false;
        return HT_SBE_OK;
    case HT_SBE_COMBO_LEGS: {
        ht_sbe_combo_legs c;
        return ht_sbe_decode_combo_legs(msg, &c);
    }
    case HT_SBE_RFQ: {
        ht_sbe_rfq r;
        ht_sbe_status st = ht_sbe_decode_rfq(msg, &r);
        if (st == HT_SBE_OK)
            note_time(f, ch, r.timestamp_ms);
        return st;
    }
    default:
        return HT_SBE_OK;
    }
}

/* Records where a packet lied; the channel (when known) loses data. */
static void record_fault(ht_feed *f, ht_feed_channel *ch, const ht_sbe_iter *it, ht_sbe_status st,
                         uint32_t offset, uint16_t template_id)
{
    f->stats.malformed_packets++;
    f->stats.by_status[st]++;
    ht_feed_fault *ft = &f->stats.last_fault;
    ft->status = st;
    ft->packet = f->stats.packets;
    ft->channel_id = it->frame.channel_id;
    ft->seq = it->frame.seq;
    ft->offset = offset;
    ft->template_id = template_id;
    if (ch) {
        ch->malformed++;
        channel_lost_data(f, ch);
    }
}

int ht_feed_on_packet(ht_feed *f, const uint8_t *payload, size_t len, uint64_t rx_tsc)
{
    f->stats.packets++;
    f->stats.bytes += len;
    ht_sbe_iter it;
    if (HT_UNLIKELY(ht_sbe_iter_init(&it, payload, len) != HT_SBE_OK)) {
        record_fault(f, NULL, &it, it.status, 0, 0);
        return -1;
    }
    if (HT_UNLIKELY(it.trailing_bytes))
        f->stats.trailing_bytes++;
    uint32_t ch_slot;
    ht_feed_channel *ch = channel_get(f, it.frame.channel_id, &ch_slot);
    if (HT_UNLIKELY(!ch)) {
        f->stats.channels_full++;
        return 0;
    }
    f->ev.channel_id = it.frame.channel_id;
    f->ev.seq = it.frame.seq;
    f->ev.rx_tsc = rx_tsc;
    if (sequence_check(f, ch, it.frame.seq) != SEQ_ACCEPT)
        return 0;
    ch->packets++;
    f->stats.packets_accepted++;
    int applied = 0;
    ht_sbe_msg msg;
    while (ht_sbe_iter_next(&it, &msg)) {
        ch->messages++;
        f->stats.messages++;
        ht_sbe_status st = apply_message(f, &msg, ch, ch_slot);
        if (HT_UNLIKELY(st != HT_SBE_OK)) {
            record_fault(f, ch, &it, st, msg.offset, msg.hdr.template_id);
            return -1;
        }
        applied++;
    }
    if (HT_UNLIKELY(it.status != HT_SBE_OK)) {
        record_fault(f, ch, &it, it.status, it.fault_offset, it.fault_template);
        return -1;
    }
    return applied;
}

int ht_feed_fault_format(const ht_feed *f, ht_error *err)
{
    const ht_feed_fault *ft = &f->stats.last_fault;
    if (ft->status == HT_SBE_OK)
        return ht_error_set(err, "no malformed packet");
    if (ft->template_id)
        return ht_error_set(err, "packet %llu, channel %u seq %u, offset %u, template %u (%s): %s",
                            (unsigned long long)ft->packet, ft->channel_id, ft->seq, ft->offset, ft->template_id,
                            ht_sbe_template_name(ft->template_id), ht_sbe_status_str(ft->status));
    return ht_error_set(err, "packet %llu, offset %u: %s", (unsigned long long)ft->packet, ft->offset,
                        ht_sbe_status_str(ft->status));
}

/* ---- Queries ---------------------------------------------------------------------------------------- */

const ht_feed_stats *ht_feed_stats_get(const ht_feed *f)
{
    return &f->stats;
}

uint64_t ht_feed_now_ms(const ht_feed *f)
{
    return f->now_ms;
}

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

const ht_book *ht_feed_book(const ht_feed *f, const ht_instrument *in)
{
    return &f->priv[in->index].book;
}

ht_book_status ht_feed_book_status(const ht_feed *f, const ht_instrument *in)
{
    const inst_priv *p = &f->priv[in->index];
    if (p->book_status != HT_BOOK_OK)
        return (ht_book_status)p->book_status;
    if (p->home != MAP_EMPTY && f->ch[p->home].last_gap_serial > p->book_serial)
        return HT_BOOK_UNVERIFIED;
    return HT_BOOK_OK;
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

const ht_feed_channel *ht_feed_channel_find(const ht_feed *f, uint16_t id)
{
    uint32_t slot = f->ch_slot_of[id];
    return slot == 0 ? NULL : &f->ch[slot - 1];
}

uint32_t ht_feed_channel_count(const ht_feed *f)
{
    return f->n_ch;
}

const ht_feed_channel *ht_feed_channel_at(const ht_feed *f, uint32_t i)
{
    return i < f->n_ch ? &f->ch[i] : NULL;
}

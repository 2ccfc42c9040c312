/* SPDX-License-Identifier: MIT */
/* The feed's life cycle, per-channel sequencing (gaps, duplicates, late packets, resets) and the dispatch of
 * each accepted packet's messages to the registry (feed_registry.c) and the books (feed_books.c). */
#include "feed_priv.h"

#include <stdlib.h>
#include <string.h>

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

/* ---- Channels and sequencing ------------------------------------------------------------------------ */

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
void feed_channel_mark_snapshot(ht_feed *f, ht_feed_channel *ch, uint32_t slot)
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

/* ---- Dispatch --------------------------------------------------------------------------------------- */

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
        return feed_on_ticker(f, msg, ch, ch_slot);
    case HT_SBE_BOOK:
        return feed_on_book(f, msg, ch, ch_slot);
    case HT_SBE_TRADES:
        return feed_on_trades(f, msg, ch, ch_slot);
    case HT_SBE_PRICE_INDEX:
        return feed_on_price_index(f, msg, ch);
    case HT_SBE_INSTRUMENT:
    case HT_SBE_INSTRUMENT_V2:
        return feed_on_instrument(f, msg);
    case HT_SBE_SNAPSHOT:
        return feed_on_snapshot(f, msg, ch, ch_slot);
    case HT_SBE_SNAPSHOT_START: {
        ht_sbe_snapshot_start s;
        ht_sbe_status st = ht_sbe_decode_snapshot_start(msg, &s);
        if (st != HT_SBE_OK)
            return st;
        feed_channel_mark_snapshot(f, ch, ch_slot);
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

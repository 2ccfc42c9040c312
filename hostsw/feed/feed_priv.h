/* SPDX-License-Identifier: MIT */
/* What the feed's three parts share (feed.c: life cycle, sequencing and dispatch; feed_registry.c: instruments,
 * tickers, trades, indices and trust; feed_books.c: books, queued changes and snapshots): the feed object, the
 * per-instrument private state, the small hot helpers every part calls, and the message handlers. Internal. */
#ifndef HEDGETRIG_FEED_PRIV_H
#define HEDGETRIG_FEED_PRIV_H

#include "hedgetrig/feed.h"

#include "book.h"
#include "maps.h"

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

/* Delivers one event built from the packet's fields plus the given parts. */
static inline void emit(ht_feed *f, ht_feed_event_kind kind, const ht_instrument *in, uint64_t ts_ms)
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

/* Marks a channel as having lost data: every instrument homed on it becomes stale. */
static inline void channel_lost_data(ht_feed *f, ht_feed_channel *ch)
{
    ch->last_gap_serial = ++f->gap_serial;
}

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

/* Message handlers, one per template, called by feed.c's dispatch for an accepted packet. */
ht_sbe_status feed_on_instrument(ht_feed *f, const ht_sbe_msg *msg);
ht_sbe_status feed_on_ticker(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot);
ht_sbe_status feed_on_trades(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot);
ht_sbe_status feed_on_price_index(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch);
ht_sbe_status feed_on_book(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot);
ht_sbe_status feed_on_snapshot(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot);

/* Marks a channel as a snapshot channel; instruments that took it for their incremental channel forget it. */
void feed_channel_mark_snapshot(ht_feed *f, ht_feed_channel *ch, uint32_t slot);

#endif

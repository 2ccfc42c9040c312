/* SPDX-License-Identifier: MIT */
/* The feed's books: 1001 changes along the changeId chain, the queue of changes kept while a book waits for a
 * snapshot, and snapshots (1004 between 1005 and 1006) that rebuild a book or verify a sound one. The levels
 * themselves are kept by book.c. */
#include "feed_priv.h"

#include <string.h>

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
ht_sbe_status feed_on_book(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
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
ht_sbe_status feed_on_snapshot(ht_feed *f, const ht_sbe_msg *msg, ht_feed_channel *ch, uint32_t ch_slot)
{
    ht_sbe_snapshot d;
    ht_sbe_status st = ht_sbe_decode_snapshot(msg, &d);
    if (HT_UNLIKELY(st != HT_SBE_OK))
        return st;
    note_time(f, ch, d.timestamp_ms);
    feed_channel_mark_snapshot(f, ch, ch_slot);
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

/* ---- Queries ---------------------------------------------------------------------------------------- */

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

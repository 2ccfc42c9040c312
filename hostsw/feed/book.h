/* SPDX-License-Identifier: MIT */
/* One side of a bounded price-level book: sorted levels, best first, and how many of them are known to be
 * exactly the exchange's. Internal to hostsw/feed. */
#ifndef HEDGETRIG_FEED_BOOK_H
#define HEDGETRIG_FEED_BOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/feed.h"

typedef struct ht_book_side_state {
    ht_book_level *levels; /* depth entries; the first `count` hold levels, best first */
    uint32_t depth;
    uint32_t count;
    uint32_t reliable;     /* the first `reliable` levels have no unseen level in front of them */
    bool complete;         /* every level of the side is held (count == reliable) */
    bool is_bid;           /* bids: highest first; asks: lowest first */
} ht_book_side_state;

/* Results of ht_book_side_apply. */
enum {
    HT_BOOK_APPLY_OK = 0,
    HT_BOOK_APPLY_DROPPED,     /* a new level beyond `depth`: not held (the side becomes incomplete) */
    HT_BOOK_APPLY_INCONSISTENT /* a change or delete named a level the side should hold but does not */
};

/* Binds a side to its storage of `depth` levels and empties it (complete: an empty side is exact). */
void ht_book_side_init(ht_book_side_state *s, ht_book_level *levels, uint32_t depth, bool is_bid);

/* Empties the side; `complete` says whether the empty side is known to be the whole side. */
void ht_book_side_clear(ht_book_side_state *s, bool complete);

/* Declares that levels beyond those held may exist (a cut snapshot): reliable = count. */
void ht_book_side_mark_incomplete(ht_book_side_state *s);

/* Applies one level change: change is ht_sbe_book_change_kind (created and changed set the amount at price,
 * inserting the level when absent; deleted removes it). Returns HT_BOOK_APPLY_*. */
int ht_book_side_apply(ht_book_side_state *s, uint8_t change, double price, double amount);

/* Results of ht_book_side_check. */
enum { HT_BOOK_CHECK_OUTSIDE = 0, HT_BOOK_CHECK_MATCH, HT_BOOK_CHECK_MISMATCH };

/* Checks a level reported by the exchange against the side: OUTSIDE when the price lies beyond the exact
 * range (cannot be judged), MATCH when the side holds it with this amount, MISMATCH otherwise. */
int ht_book_side_check(const ht_book_side_state *s, double price, double amount);

#endif

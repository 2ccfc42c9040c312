/* SPDX-License-Identifier: MIT */
/* Bounded sorted price levels with a count of how many top levels are exact. */
#include "book.h"

#include <string.h>

void ht_book_side_init(ht_book_side_state *s, ht_book_level *levels, uint32_t depth, bool is_bid)
{
    s->levels = levels;
    s->depth = depth;
    s->is_bid = is_bid;
    ht_book_side_clear(s, true);
}

void ht_book_side_clear(ht_book_side_state *s, bool complete)
{
    s->count = 0;
    s->reliable = 0;
    s->complete = complete;
}

void ht_book_side_mark_incomplete(ht_book_side_state *s)
{
    s->complete = false;
    s->reliable = s->count;
}

/* Index of the first held level not better than price (where price is, or would be inserted). */
static uint32_t find_position(const ht_book_side_state *s, double price)
{
    uint32_t i = 0;
    if (s->is_bid) {
        while (i < s->count && s->levels[i].price > price)
            i++;
    } else {
        while (i < s->count && s->levels[i].price < price)
            i++;
    }
    return i;
}

int ht_book_side_apply(ht_book_side_state *s, uint8_t change, double price, double amount)
{
    uint32_t pos = find_position(s, price);
    bool found = pos < s->count && s->levels[pos].price == price;
    if (change == HT_SBE_CHANGE_DELETED) {
        if (!found) {
            /* A level past those held on an incomplete side may well have existed. */
            return (!s->complete && pos >= s->count) ? HT_BOOK_APPLY_OK : HT_BOOK_APPLY_INCONSISTENT;
        }
        memmove(&s->levels[pos], &s->levels[pos + 1], (s->count - pos - 1) * sizeof *s->levels);
        s->count--;
        if (s->complete)
            s->reliable = s->count;
        else if (pos < s->reliable)
            s->reliable--; /* the level that moved up into the held range may have had others before it */
        return HT_BOOK_APPLY_OK;
    }
    if (found) {
        s->levels[pos].amount = amount;
        return HT_BOOK_APPLY_OK;
    }
    int result = HT_BOOK_APPLY_OK;
    /* A change to a level inside the exact range that is not there: something was missed. */
    if (change == HT_SBE_CHANGE_CHANGED && (s->complete || pos < s->reliable))
        result = HT_BOOK_APPLY_INCONSISTENT;
    if (pos >= s->depth) {
        if (s->complete) {
            s->complete = false;
            s->reliable = s->count;
        }
        return result == HT_BOOK_APPLY_OK ? HT_BOOK_APPLY_DROPPED : result;
    }
    uint32_t keep = s->count < s->depth ? s->count : s->depth - 1;
    bool dropped_last = s->count == s->depth;
    memmove(&s->levels[pos + 1], &s->levels[pos], (keep - pos) * sizeof *s->levels);
    s->levels[pos].price = price;
    s->levels[pos].amount = amount;
    s->count = keep + 1;
    if (s->complete) {
        s->reliable = s->count;
        if (dropped_last)
            s->complete = false;
    } else if (pos < s->reliable) {
        s->reliable = s->reliable + 1 < s->count ? s->reliable + 1 : s->count;
    }
    if (dropped_last && result == HT_BOOK_APPLY_OK)
        result = HT_BOOK_APPLY_DROPPED;
    return result;
}

int ht_book_side_check(const ht_book_side_state *s, double price, double amount)
{
    if (!s->complete) {
        if (s->reliable == 0)
            return HT_BOOK_CHECK_OUTSIDE;
        double worst = s->levels[s->reliable - 1].price;
        if (s->is_bid ? price < worst : price > worst)
            return HT_BOOK_CHECK_OUTSIDE;
    }
    uint32_t pos = find_position(s, price);
    if (pos < s->reliable && s->levels[pos].price == price && s->levels[pos].amount == amount)
        return HT_BOOK_CHECK_MATCH;
    return HT_BOOK_CHECK_MISMATCH;
}

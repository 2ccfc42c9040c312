/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the packet decoder and the feed: the input is a run of packets, each a little-endian
 * u16 length and that many bytes (a last, shorter piece is a packet too). Every packet goes through the SBE
 * walk, every message through the decoder and both printers, and the run through one feed, so sequencing,
 * snapshots and books see arbitrary sequences. The same bytes are also parsed as an Ethernet frame. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every entry of every group a decoded message has. */
static void read_entries(const ht_sbe_decoded *d)
{
    volatile double sink = 0;
    switch (d->template_id) {
    case HT_SBE_BOOK:
        for (unsigned i = 0; i < d->u.book.changes.count; i++) {
            ht_sbe_book_change c;
            ht_sbe_book_change_at(&d->u.book.changes, i, &c);
            sink += c.price;
        }
        break;
    case HT_SBE_TRADES:
        for (unsigned i = 0; i < d->u.trades.trades.count; i++) {
            ht_sbe_trade t;
            ht_sbe_trade_at(&d->u.trades.trades, i, &t);
            sink += t.iv;
        }
        break;
    case HT_SBE_SNAPSHOT:
        for (unsigned i = 0; i < d->u.snapshot.levels.count; i++) {
            ht_sbe_level l;
            ht_sbe_level_at(&d->u.snapshot.levels, i, &l);
            sink += l.amount;
        }
        break;
    default:
        break;
    }
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ht_feed *feed;
    if (!feed) {
        ht_feed_config cfg;
        ht_feed_config_default(&cfg);
        cfg.max_instruments = 64;
        cfg.max_channels = 16;
        cfg.max_indices = 8;
        cfg.book_depth = 4;
        feed = ht_feed_create(&cfg, NULL);
        if (!feed)
            return 0;
    }
    ht_feed_reset(feed);
    ht_nic_packet frame;
    ht_nic_parse_ether(data, size, &frame);
    static char line[1 << 17];
    size_t off = 0;
    while (off < size) {
        size_t len = size - off;
        const uint8_t *p = data + off;
        if (len >= 2) {
            size_t want = (size_t)p[0] | (size_t)p[1] << 8;
            p += 2;
            len -= 2;
            if (want < len)
                len = want;
        }
        off = (size_t)(p - data) + len;
        ht_sbe_iter it;
        if (ht_sbe_iter_init(&it, p, len) == HT_SBE_OK) {
            ht_sbe_msg msg;
            while (ht_sbe_iter_next(&it, &msg)) {
                ht_sbe_decoded d;
                ht_sbe_status st;
                if (ht_sbe_decode(&msg, &d) == HT_SBE_OK && d.known)
                    read_entries(&d);
                ht_sbe_format_csv(line, sizeof line, 1, &it.frame, &msg, &st);
                ht_sbe_format_text(line, sizeof line, 1, &it.frame, &msg, "x", &st);
            }
        }
        ht_feed_on_packet(feed, p, len, 0);
    }
    /* Queries over whatever the feed now holds must hold together. */
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++) {
        const ht_instrument *in = ht_feed_instrument_at(feed, i);
        if (ht_feed_instrument(feed, in->id) != in)
            __builtin_trap();
        const ht_book *b = ht_feed_book(feed, in);
        if (b->bid_count > b->depth || b->ask_count > b->depth || b->bid_reliable > b->bid_count ||
            b->ask_reliable > b->ask_count)
            __builtin_trap();
        ht_feed_price_status(feed, in, 1000);
        ht_feed_book_status(feed, in);
    }
    for (uint32_t i = 0; i < ht_feed_index_count(feed); i++)
        ht_feed_index_status(feed, ht_feed_index_at(feed, i), 1000);
    ht_error err;
    ht_feed_fault_format(feed, &err);
    return 0;
}

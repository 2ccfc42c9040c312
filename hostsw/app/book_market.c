/* SPDX-License-Identifier: MIT */
/* A book checked against a capture's instruments and its slow path set up on them (greeks, margin). */
#include "book_market.h"

#include "cli.h"
#include "hedgetrig/greeks_feed.h"

int ht_app_load_book_greeks(const char *cmd, const char *pcap, const char *book_path, double max_book_qty_contracts,
                            const ht_greeks_config *cfg, ht_capture_info *info, ht_positions **book_out,
                            ht_greeks **g_out)
{
    ht_error err;
    ht_feed *registry = ht_feed_create(NULL, &err);
    if (!registry)
        return ht_cli_fail(cmd, "%s", err.msg);
    if (ht_feed_replay_capture(pcap, registry, -1.0, info, &err) != 0) {
        ht_feed_destroy(registry);
        return ht_cli_fail(cmd, "%s", err.msg);
    }
    ht_positions *book = ht_positions_load(book_path, max_book_qty_contracts, ht_greeks_feed_lookup, registry, &err);
    if (!book) {
        ht_feed_destroy(registry);
        return ht_cli_fail(cmd, "%s", err.msg);
    }
    ht_greeks *g = ht_greeks_create(cfg, book, &err);
    if (!g) {
        ht_positions_destroy(book);
        ht_feed_destroy(registry);
        return ht_cli_fail(cmd, "%s", err.msg);
    }
    ht_greeks_add_feed_forwards(g, registry);
    ht_greeks_add_feed_smile(g, registry);
    ht_feed_destroy(registry);
    *book_out = book;
    *g_out = g;
    return HT_EXIT_OK;
}

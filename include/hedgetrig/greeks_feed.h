/* SPDX-License-Identifier: MIT */
/* Glue between the Deribit feed (hedgetrig/feed.h) and the slow path: instrument specs from the registry,
 * market data into ht_greeks, and IV surface points from marks and trades. */
#ifndef HEDGETRIG_GREEKS_FEED_H
#define HEDGETRIG_GREEKS_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/greeks.h"
#include "hedgetrig/positions.h"
#include "hedgetrig/volatility.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Copies what the slow path needs from a registry entry. Returns 0, or -1 with a reason in why when the
 * instrument cannot be held in a book (a combo, or an option without a strike). */
int ht_greeks_spec_from_feed(const ht_instrument *in, ht_instrument_spec *out, ht_error *why);

/* An ht_instrument_lookup_fn over a feed's registry: pass the feed (const ht_feed *) as ctx. */
int ht_greeks_feed_lookup(void *feed, const char *name, size_t len, ht_instrument_spec *out, ht_error *why);

/* Registers every future and perpetual in the feed's registry whose coin the book holds as a forward source.
 * Returns how many were added. */
size_t ht_greeks_add_feed_forwards(ht_greeks *g, const ht_feed *feed);

/* Registers every option in the feed's registry on one of the book's coins, and not in the book, as a smile
 * point for fallback vols (ht_greeks_add_smile_instrument). Returns how many were added. */
size_t ht_greeks_add_feed_smile(ht_greeks *g, const ht_feed *feed);

/* Copies the latest index prices and tickers (mark and index) of every instrument the engine knows from the
 * feed, with the feed's trust (ht_feed_price_status / ht_feed_index_status, no age limit), typically just
 * before ht_greeks_recompute. Instruments without a ticker yet are left without a mark. O(registry). */
void ht_greeks_pull_feed(ht_greeks *g, const ht_feed *feed);

/* Event-driven form of the same, for a feed event callback: index and ticker events update the engine
 * (an option ticker of a book option also moves the vol move d sigma). Other events are ignored. */
void ht_greeks_on_feed_event(ht_greeks *g, const ht_feed *feed, const ht_feed_event *ev);

/* IV surface points for every option in the feed's registry on one of the engine's coins: its mark's IV
 * (solved at the forward the engine would use) and its latest trade's IV (Deribit's, in percent) when it
 * has one. Points that cannot be computed (no index, expired, mark below intrinsic...) are skipped. Returns
 * the number of points written. */
size_t ht_greeks_surface_from_feed(const ht_greeks *g, const ht_feed *feed, ht_iv_surface *surface,
                                   uint64_t now_ms);

#ifdef __cplusplus
}
#endif

#endif

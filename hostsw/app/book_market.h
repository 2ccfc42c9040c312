/* SPDX-License-Identifier: MIT */
/* A book checked against a capture's instruments and its slow path set up on them, for the commands that value a
 * book at a moment of a capture (greeks, margin). */
#ifndef HEDGETRIG_APP_BOOK_MARKET_H
#define HEDGETRIG_APP_BOOK_MARKET_H

#include "hedgetrig/feed_capture.h"
#include "hedgetrig/greeks.h"
#include "hedgetrig/positions.h"

/* Pass 1 over the capture: its instrument registry, the book checked against it (lines of |quantity| above
 * max_book_qty_contracts refused), and an ht_greeks with the registry's forwards and smile points. Returns
 * HT_EXIT_OK with *book_out and *g_out (the caller destroys both), or HT_EXIT_FAIL after printing
 * "hedgetrig CMD: <message>" (nothing left to free). */
int ht_app_load_book_greeks(const char *cmd, const char *pcap, const char *book_path, double max_book_qty_contracts,
                            const ht_greeks_config *cfg, ht_capture_info *info, ht_positions **book_out,
                            ht_greeks **g_out);

#endif

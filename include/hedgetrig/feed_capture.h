/* SPDX-License-Identifier: MIT */
/* Reading a capture file into a feed: the glue between the receive path (hedgetrig/nic.h) and the feed, for
 * tools that study a recorded market (hedgetrig greeks, the Taylor-error study). Library ht_feed_capture. */
#ifndef HEDGETRIG_FEED_CAPTURE_H
#define HEDGETRIG_FEED_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/feed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What ht_feed_replay_capture read. */
typedef struct ht_capture_info {
    uint64_t first_ns, last_ns; /* capture timestamps (ns since the epoch) of the first and last packet fed */
    uint64_t packets;           /* UDP datagrams fed to the feed */
    uint64_t malformed;         /* of which the decoder refused part (counted by the feed too) */
    bool reached_end;           /* the whole file was read */
} ht_capture_info;

/* Replays a pcap/pcapng capture (libpcap, full speed) into a feed, stopping before the first packet stamped
 * more than until_s seconds after the first one (until_s < 0: the whole file). The feed's own event callback
 * sees every event. Returns 0, or -1 with a message naming the file when it cannot be read. */
int ht_feed_replay_capture(const char *path, ht_feed *feed, double until_s, ht_capture_info *info, ht_error *err);

/* The same, on the exchange's clock: feeds every packet that leaves the feed's clock (ht_feed_now_ms, the latest
 * message time decoded) at or before until_exchange_ms, and stops before the first that takes it past, so the
 * feed stands where an engine replaying the same capture stood after the last packet of that time (an event
 * log's time_s). Reads the file twice (the first pass counts on a scratch feed); info->packets 0: the first
 * packet is past the time already. */
int ht_feed_replay_capture_until_time(const char *path, ht_feed *feed, uint64_t until_exchange_ms,
                                      ht_capture_info *info, ht_error *err);

#ifdef __cplusplus
}
#endif

#endif

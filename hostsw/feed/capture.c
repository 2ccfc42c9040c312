/* SPDX-License-Identifier: MIT */
/* A capture file into a feed through the one replay loop (ht_nic_replay_file). Kept out of ht_feed, which
 * decodes bytes from anywhere and links no receive path. */
#include "hedgetrig/feed_capture.h"

#include <string.h>

#include "hedgetrig/nic.h"

/* The feed being filled and how far to go. */
typedef struct capture_run {
    ht_feed *feed;
    double until_s;
    ht_capture_info *info;
} capture_run;

/* Feeds one datagram unless it is stamped past until_s (which stops the replay). */
static int capture_packet(void *ctx, const ht_nic_packet *pkt)
{
    capture_run *run = ctx;
    ht_capture_info *info = run->info;
    if (!info->first_ns)
        info->first_ns = pkt->ts_ns;
    if (run->until_s >= 0.0 && (double)(pkt->ts_ns - info->first_ns) > run->until_s * 1e9)
        return 1;
    if (ht_feed_on_packet(run->feed, pkt->payload, pkt->len, pkt->rx_tsc) < 0)
        info->malformed++;
    info->packets++;
    info->last_ns = pkt->ts_ns;
    return 0;
}

int ht_feed_replay_capture(const char *path, ht_feed *feed, double until_s, ht_capture_info *info, ht_error *err)
{
    memset(info, 0, sizeof *info);
    capture_run run = {feed, until_s, info};
    const ht_nic_replay_ops ops = {.on_packet = capture_packet, .ctx = &run};
    const int end = ht_nic_replay_file(path, &ops, NULL, err);
    info->reached_end = end == HT_NIC_REPLAY_END;
    return end < 0 ? -1 : 0;
}

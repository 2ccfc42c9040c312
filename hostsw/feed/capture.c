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
    uint64_t until_exchange_ms; /* counting pass: packets that leave the feed's clock at or before it; 0: none */
    uint64_t until_packets;     /* feed this many packets at most; 0: no limit */
    uint64_t counted;           /* counting pass: the packets counted */
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
    if (run->until_packets && info->packets >= run->until_packets)
        return 1;
    if (ht_feed_on_packet(run->feed, pkt->payload, pkt->len, pkt->rx_tsc) < 0)
        info->malformed++;
    info->packets++;
    info->last_ns = pkt->ts_ns;
    if (run->until_exchange_ms) {
        if (ht_feed_now_ms(run->feed) > run->until_exchange_ms)
            return 1;
        run->counted = info->packets;
    }
    return 0;
}

int ht_feed_replay_capture(const char *path, ht_feed *feed, double until_s, ht_capture_info *info, ht_error *err)
{
    memset(info, 0, sizeof *info);
    capture_run run = {.feed = feed, .until_s = until_s, .info = info};
    const ht_nic_replay_ops ops = {.on_packet = capture_packet, .ctx = &run};
    const int end = ht_nic_replay_file(path, &ops, NULL, err);
    info->reached_end = end == HT_NIC_REPLAY_END;
    return end < 0 ? -1 : 0;
}

int ht_feed_replay_capture_until_time(const char *path, ht_feed *feed, uint64_t until_exchange_ms,
                                      ht_capture_info *info, ht_error *err)
{
    /* A packet's time is known only once it is decoded: a first pass on a scratch feed counts the packets that
     * leave the clock at or before the time (the clock never goes back), the second feeds exactly those. */
    ht_feed_config fc;
    ht_feed_config_default(&fc);
    ht_feed *scratch = ht_feed_create(&fc, err);
    if (!scratch)
        return -1;
    memset(info, 0, sizeof *info);
    capture_run count = {.feed = scratch, .until_s = -1.0, .until_exchange_ms = until_exchange_ms, .info = info};
    const ht_nic_replay_ops count_ops = {.on_packet = capture_packet, .ctx = &count};
    int end = ht_nic_replay_file(path, &count_ops, NULL, err);
    ht_feed_destroy(scratch);
    if (end < 0)
        return -1;
    memset(info, 0, sizeof *info);
    if (count.counted == 0)
        return 0; /* the first packet is past the time already: nothing is fed */
    capture_run run = {.feed = feed, .until_s = -1.0, .until_packets = count.counted, .info = info};
    const ht_nic_replay_ops ops = {.on_packet = capture_packet, .ctx = &run};
    end = ht_nic_replay_file(path, &ops, NULL, err);
    info->reached_end = end == HT_NIC_REPLAY_END;
    return end < 0 ? -1 : 0;
}

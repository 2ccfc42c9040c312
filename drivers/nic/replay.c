/* SPDX-License-Identifier: MIT */
/* The replay loop every reader of a capture or a port shares: poll bursts until the source ends, fails or is
 * stopped, and hand each datagram (and each burst) to the caller's callbacks. */
#include "hedgetrig/nic.h"

#include <string.h>

/* Counts the first `handed` datagrams of a burst as handed on. */
static void count_handed(ht_nic_replay_stats *st, const ht_nic_packet *pkts, unsigned handed)
{
    if (handed == 0)
        return;
    st->bursts++;
    st->packets += handed;
    if (!st->first_ns)
        st->first_ns = pkts[0].ts_ns;
    st->last_ns = pkts[handed - 1].ts_ns;
}

int ht_nic_replay(ht_nic *nic, const ht_nic_replay_ops *ops, ht_nic_replay_stats *stats, ht_error *err)
{
    ht_nic_replay_stats local;
    ht_nic_replay_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    ht_nic_packet pkts[HT_NIC_BURST];
    for (;;) {
        if (ops->stop && ops->stop(ops->ctx))
            return HT_NIC_REPLAY_STOPPED;
        const int n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST);
        if (n == HT_NIC_EOF) {
            st->reached_end = true;
            return HT_NIC_REPLAY_END;
        }
        if (n < 0) {
            ht_error_set(err, "%s", ht_nic_last_error(nic));
            return HT_NIC_REPLAY_ERROR;
        }
        unsigned handed = (unsigned)n;
        bool stop = false;
        if (ops->on_packet) {
            for (unsigned i = 0; i < (unsigned)n && !stop; i++) {
                stop = ops->on_packet(ops->ctx, &pkts[i]) != 0;
                handed = i + 1;
            }
        }
        count_handed(st, pkts, handed);
        if (stop)
            return HT_NIC_REPLAY_STOPPED;
        if (ops->on_burst && ops->on_burst(ops->ctx, pkts, (unsigned)n) != 0)
            return HT_NIC_REPLAY_STOPPED;
    }
}

int ht_nic_replay_file(const char *path, const ht_nic_replay_ops *ops, ht_nic_replay_stats *stats, ht_error *err)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.kind = HT_NIC_PCAP;
    cfg.path = path;
    ht_nic *nic = ht_nic_open(&cfg, err);
    if (!nic)
        return HT_NIC_REPLAY_OPEN_FAILED;
    ht_error read_err;
    const int end = ht_nic_replay(nic, ops, stats, &read_err);
    if (end == HT_NIC_REPLAY_ERROR)
        ht_error_set(err, "%s: %s", path, read_err.msg);
    ht_nic_close(nic);
    return end;
}

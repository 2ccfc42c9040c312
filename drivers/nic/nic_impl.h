/* SPDX-License-Identifier: MIT */
/* The parts every receive path shares: the nic object and its per-kind operations. Internal to drivers/nic. */
#ifndef HEDGETRIG_NIC_IMPL_H
#define HEDGETRIG_NIC_IMPL_H

#include <stdio.h>
#include <string.h>

#include "hedgetrig/nic.h"

typedef struct ht_nic_ops {
    int (*open)(ht_nic *nic, ht_error *err);
    int (*rx_burst)(ht_nic *nic, ht_nic_packet *pkts, unsigned max);
    void (*close)(ht_nic *nic);
    int (*frames)(ht_nic *nic, ht_error *err); /* 0 when frames can be handed on whole; NULL: never */
} ht_nic_ops;

struct ht_nic {
    ht_nic_config cfg;
    char path[4096];       /* copy of cfg.path */
    char eal_args[4096];   /* copy of cfg.eal_args */
    ht_nic_stats stats;
    const ht_nic_ops *ops;
    void *impl;            /* the kind's own state */
    char last_error[256];
    uint64_t idle_since_ns; /* monotonic time of the first empty poll since the last packet (0: none) */
    int end;                /* 0 until the source ended, then what rx_burst returns from then on */
    bool frames;            /* ht_nic_deliver_frames: every frame handed on with its Ethernet bytes */
};

extern const ht_nic_ops ht_nic_pcap_ops;
extern const ht_nic_ops ht_nic_socket_ops;
#ifdef HT_HAVE_DPDK
extern const ht_nic_ops ht_nic_dpdk_ops;
#endif

/* Reads nic->cfg.path to its end with libpcap and counts its frames: 0, or -1 with the message the pcap path
 * gives for a file it cannot read to the end (cut mid-frame). For checking what a DPDK vdev replayed. */
int ht_nic_pcap_count_frames(ht_nic *nic, uint64_t *frames);

/* Records an rx error message on the nic; returns -1. */
int ht_nic_fail(ht_nic *nic, const char *fmt, ...) HT_PRINTF(2, 3);

/* Counts a frame that ht_nic_parse_* rejected or the filter skipped; true when it is a packet to keep. */
static inline bool ht_nic_keep(ht_nic *nic, int parse_result, const ht_nic_packet *p)
{
    if (HT_UNLIKELY(parse_result != HT_NIC_PARSE_OK)) {
        if (parse_result != HT_NIC_PARSE_TRUNCATED)
            nic->stats.not_udp++;
        else if (nic->stats.truncated++ == 0)
            nic->stats.first_truncated_frame = nic->stats.frames;
        return false;
    }
    if (!ht_nic_filter_match(&nic->cfg.filter, p->dst_addr, p->dst_port)) {
        nic->stats.filtered++;
        return false;
    }
    return true;
}

/* Keeps a frame as it arrived (nic->frames): a packet when it is one, else a frame without payload. Counts it
 * as ht_nic_keep does; true when it is to be handed on (always, once frames are delivered). */
static inline bool ht_nic_keep_frame(ht_nic *nic, int parse_result, ht_nic_packet *p, const uint8_t *frame,
                                     uint32_t frame_len)
{
    if (ht_nic_keep(nic, parse_result, p)) {
        p->l2 = nic->frames ? frame : NULL;
        p->l2_len = nic->frames ? frame_len : 0;
        return true;
    }
    if (!nic->frames)
        return false;
    memset(p, 0, sizeof *p);
    p->l2 = frame;
    p->l2_len = frame_len;
    return true;
}

#endif

/* SPDX-License-Identifier: MIT */
/* Packet receive: one interface over DPDK ethdev, a pcap/pcapng file (libpcap) and a kernel UDP socket
 * (multicast join, recvmmsg). Bursts of up to 32 UDP payloads with an rx TSC and a timestamp each. */
#ifndef HEDGETRIG_NIC_H
#define HEDGETRIG_NIC_H

/*
 * Life cycle:
 *     ht_nic_config cfg;  ht_nic_config_default(&cfg);  cfg.kind = HT_NIC_PCAP;  cfg.path = "x.pcap";
 *     ht_nic *nic = ht_nic_open(&cfg, &err);           // setup: may allocate, print nothing, fail loudly
 *     ht_nic_packet pkts[HT_NIC_BURST];
 *     for (;;) {
 *         int n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST);
 *         if (n == HT_NIC_EOF) break;                  // a file (or an idle vdev) has no more packets
 *         if (n < 0) { ... ht_nic_last_error ... }
 *         for (i < n) ht_feed_on_packet(feed, pkts[i].payload, pkts[i].len, pkts[i].rx_tsc);
 *     }
 *     ht_nic_close(nic);
 *
 * A burst's payload pointers stay valid until the next ht_nic_rx_burst or ht_nic_close on that nic.
 * rx_burst never allocates; the DPDK path makes no syscall; the socket path makes one recvmmsg per socket.
 * Frames that are not Ethernet (optionally 802.1Q-tagged) / IPv4 / UDP, IP fragments, truncated frames and
 * datagrams outside the filter are counted and skipped.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

#define HT_NIC_BURST 32u
#define HT_NIC_MAX_GROUPS 64u
#define HT_NIC_MAX_PORTS 8u
/* ht_nic_rx_burst: the source has no more packets (end of file, or idle past idle_eof_ms). */
#define HT_NIC_EOF (-2)

typedef struct ht_nic ht_nic;

typedef enum ht_nic_kind {
    HT_NIC_PCAP = 0, /* a pcap or pcapng file, read with libpcap */
    HT_NIC_SOCKET,   /* kernel UDP sockets: one per port, joined to every group */
    HT_NIC_DPDK,     /* a DPDK ethdev port (a NIC, or a vdev such as net_pcap, net_ring, net_null) */
    HT_NIC_KIND_COUNT
} ht_nic_kind;

/* Which datagrams to keep: destination IPv4 address in groups (none listed: any) and destination UDP port
 * in ports (none listed: any). Addresses and ports in host byte order. */
typedef struct ht_nic_filter {
    uint32_t groups[HT_NIC_MAX_GROUPS];
    unsigned n_groups;
    uint16_t ports[HT_NIC_MAX_PORTS];
    unsigned n_ports;
} ht_nic_filter;

typedef struct ht_nic_config {
    ht_nic_kind kind;
    ht_nic_filter filter;     /* for the socket path: the groups to join and the ports to bind (both needed) */

    /* HT_NIC_PCAP, and HT_NIC_DPDK replaying a file through net_pcap */
    const char *path;         /* the capture file. DPDK: optional; when given, the file is read with libpcap
                                 once the port has gone idle, and a file cut mid-frame, or frames the port
                                 did not deliver, end the replay with -1 as the pcap path does */
    double speed;             /* 0: as fast as possible; 1: at the capture's own pace; N: N times faster */

    /* HT_NIC_SOCKET */
    uint32_t iface_addr;      /* local interface address for the multicast joins (host order; 0: any) */
    int rcvbuf_bytes;         /* receive buffer (0: the system default); beyond net.core.rmem_max only
                                 with CAP_NET_ADMIN (SO_RCVBUFFORCE) */
    bool unicast;             /* do not join groups: receive datagrams sent to the ports directly */

    /* HT_NIC_DPDK */
    const char *eal_args;     /* EAL arguments separated by spaces, e.g.
                                 "--no-huge --no-pci --no-shconf -m 128 --vdev=net_pcap0,rx_pcap=F".
                                 EAL starts once per process: a second open must pass the same string. */
    uint16_t port_id;         /* ethdev port to receive on (default 0) */
    uint32_t mbufs;           /* mbuf pool size (default 8191) */

    /* HT_NIC_SOCKET and HT_NIC_DPDK */
    uint32_t idle_eof_ms;     /* report HT_NIC_EOF after this long with no packet at all (0: never), for
                                 vdevs and replays that end */
} ht_nic_config;

/* One received UDP datagram. */
typedef struct ht_nic_packet {
    const uint8_t *payload; /* the UDP payload */
    uint32_t len;           /* its length in bytes */
    uint64_t rx_tsc;        /* TSC read when the burst was received */
    uint64_t ts_ns;         /* ns since the Unix epoch: the capture's timestamp (pcap file, and DPDK's net_pcap
                               vdev), the kernel's (socket, SO_TIMESTAMPNS), else the host clock at the burst
                               (DPDK NICs, whose own clocks are not Unix time) */
    uint64_t frame;         /* 1-based number of the frame in what the source delivered, counting the
                               frames the filter skipped (the capture's frame number for files and net_pcap) */
    uint32_t src_addr, dst_addr; /* IPv4, host order */
    uint16_t src_port, dst_port; /* host order */
    /* The whole Ethernet frame as received (payload points inside it), once ht_nic_deliver_frames was called;
     * NULL otherwise. With it, frames the parse or the filter skipped come too: payload NULL, len 0 (they are
     * still counted in ht_nic_stats as skipped, not as packets). Valid as long as payload. */
    const uint8_t *l2;
    uint32_t l2_len;
} ht_nic_packet;

typedef struct ht_nic_stats {
    uint64_t frames;      /* frames delivered by the source */
    uint64_t packets;     /* datagrams returned */
    uint64_t bytes;       /* UDP payload bytes returned */
    uint64_t not_udp;     /* not Ethernet/IPv4/UDP, or an IP fragment */
    uint64_t truncated;   /* shorter than their IP or UDP header says */
    uint64_t first_truncated_frame; /* the frame number of the first of them (0: none) */
    uint64_t filtered;    /* UDP outside the groups/ports */
    uint64_t bursts;      /* rx_burst calls that returned packets */
    uint64_t empty_polls; /* rx_burst calls that returned none */
    uint64_t rx_errors;   /* errors the source reported (socket errors, DPDK imissed/ierrors) */
    uint64_t pace_jumps;  /* paced file replay: forward jumps of capture time over HT_NIC_PACE_MAX_GAP_NS not waited out */
} ht_nic_stats;

/* A paced file replay (speed > 0) does not wait out a forward jump of more than this much capture time between
 * two packets (a corrupt timestamp stamped decades ahead hung a replay at --speed 1000): it resumes at the next
 * packet's pace and counts the jump in ht_nic_stats.pace_jumps. */
#define HT_NIC_PACE_MAX_GAP_NS (60ull * 1000000000ull)

/* Fills cfg with defaults: HT_NIC_PCAP, no filter, full speed, port 0, 8191 mbufs. */
void ht_nic_config_default(ht_nic_config *cfg);

/* Opens a source. Returns NULL with err naming what failed (file, EAL, port count, socket, join). */
ht_nic *ht_nic_open(const ht_nic_config *cfg, ht_error *err);

/* Receives up to max (<= HT_NIC_BURST) datagrams into pkts. Returns how many (0: none now),
 * HT_NIC_EOF at the end, or -1 on an error (ht_nic_last_error says which). A file that cannot be read to
 * its end gives its packets up to the bad frame, then -1; a file or vdev replay that yields no datagram
 * because its frames are truncated ends with -1, not HT_NIC_EOF. Once ended, every call returns the same. */
int ht_nic_rx_burst(ht_nic *nic, ht_nic_packet *pkts, unsigned max);

/* From now on, hands on every frame with its Ethernet bytes (ht_nic_packet.l2), the frames the parse or the
 * filter skipped included (payload NULL): for a consumer that parses frames itself (the pipeline's wire ingest).
 * 0, or -1 with err when the source has no Ethernet frames to give (a socket gives UDP payloads; a capture of
 * another link type). */
int ht_nic_deliver_frames(ht_nic *nic, ht_error *err);

/* The message of the last error rx_burst returned. */
const char *ht_nic_last_error(const ht_nic *nic);

const ht_nic_stats *ht_nic_stats_get(const ht_nic *nic);

/* Closes the source and frees everything. NULL is a no-op. */
void ht_nic_close(ht_nic *nic);

/* Name of a kind ("pcap", "socket", "dpdk"), and the reverse (file is accepted for pcap). 0 on success. */
const char *ht_nic_kind_name(ht_nic_kind kind);
int ht_nic_kind_parse(const char *text, ht_nic_kind *kind);

/* True when this build has the kind (DPDK is optional). */
bool ht_nic_kind_available(ht_nic_kind kind);

/* Starts DPDK's EAL with eal_args (space-separated) unless it runs already; EAL starts once per process, so a
 * later call must pass the same string. Opening a DPDK nic calls it; call it yourself first to create ports
 * at run time (rte_eth_from_rings) before ht_nic_open. 0 on success; -1 with err (also without DPDK). */
int ht_nic_dpdk_init(const char *eal_args, ht_error *err);

/* Adds "A.B.C.D" or "A.B.C.D/N" (every address of the prefix, at most HT_NIC_MAX_GROUPS in all) to the
 * groups, or a port number to the ports. 0 on success; -1 with err on bad text or a full list. */
int ht_nic_filter_add_group(ht_nic_filter *f, const char *text, ht_error *err);
int ht_nic_filter_add_port(ht_nic_filter *f, const char *text, ht_error *err);

/* The Deribit production channels: groups 239.111.111.0-26, ports 6100 (incremental) and 6101 (snapshot). */
void ht_nic_filter_deribit(ht_nic_filter *f);

/* True when the filter keeps a datagram to dst_addr:dst_port. */
bool ht_nic_filter_match(const ht_nic_filter *f, uint32_t dst_addr, uint16_t dst_port);

/* ---- Replay: the one loop that reads a source to its end and hands each datagram on ------------------------ */

/*
 *     ht_nic_replay_ops ops = {.on_packet = my_packet, .ctx = me};
 *     ht_nic_replay_stats st;
 *     if (ht_nic_replay(nic, &ops, &st, &err) == HT_NIC_REPLAY_ERROR) ... err.msg is ht_nic_last_error ...
 *
 * Pacing (ht_nic_config.speed), pace jumps, idle EOF and the end-of-source checks are the nic's own: the loop
 * adds none. It allocates nothing and prints nothing.
 */

/* Each datagram of a burst, in order. 0: go on; non-zero: stop the replay after this datagram (the rest of its
 * burst is not handed on, and on_burst is not called for it). */
typedef int (*ht_nic_packet_fn)(void *ctx, const ht_nic_packet *pkt);
/* Every poll that did not end the source, after on_packet saw its datagrams: n may be 0 (nothing has arrived
 * yet: a paced file, an idle port), and the datagrams may be changed in place. 0: go on; non-zero: stop. */
typedef int (*ht_nic_burst_fn)(void *ctx, ht_nic_packet *pkts, unsigned n);
/* Asked before every poll: true stops the replay (a signal, a shutdown request). */
typedef bool (*ht_nic_stop_fn)(void *ctx);

typedef struct ht_nic_replay_ops {
    ht_nic_packet_fn on_packet; /* may be NULL */
    ht_nic_burst_fn on_burst;   /* may be NULL */
    ht_nic_stop_fn stop;        /* may be NULL: only the source's end or a callback stops */
    void *ctx;                  /* passed to all three */
} ht_nic_replay_ops;

/* What a replay handed on. */
typedef struct ht_nic_replay_stats {
    uint64_t bursts;      /* polls whose datagrams were handed on */
    uint64_t packets;     /* datagrams handed on (to on_packet, or in bursts to on_burst) */
    uint64_t first_ns;    /* ts_ns of the first datagram of the first burst handed on (0: none) */
    uint64_t last_ns;     /* ts_ns of the last datagram handed on */
    bool reached_end;     /* the source ended (HT_NIC_EOF) */
} ht_nic_replay_stats;

/* How a replay ended. */
typedef enum ht_nic_replay_end {
    HT_NIC_REPLAY_END = 0,         /* the source has no more packets */
    HT_NIC_REPLAY_STOPPED = 1,     /* a callback or ops->stop stopped it */
    HT_NIC_REPLAY_ERROR = -1,      /* the source failed: err holds ht_nic_last_error */
    HT_NIC_REPLAY_OPEN_FAILED = -2 /* ht_nic_replay_file only: the capture did not open (err says why) */
} ht_nic_replay_end;

/* Reads nic until it ends, fails or is stopped, handing every datagram to ops. stats may be NULL (it is
 * zeroed first). Returns an ht_nic_replay_end. */
int ht_nic_replay(ht_nic *nic, const ht_nic_replay_ops *ops, ht_nic_replay_stats *stats, ht_error *err);

/* The same over a pcap/pcapng file read at full speed: opens it, replays it and closes it. A read error comes
 * back as "PATH: <the nic's message>". */
int ht_nic_replay_file(const char *path, const ht_nic_replay_ops *ops, ht_nic_replay_stats *stats, ht_error *err);

/* ---- Sending (tests, benchmarks, the market simulator, `hedgetrig replay`) ------------------------------- */

typedef struct ht_udp_tx ht_udp_tx;

/* Opens a UDP sender. iface_addr (host order; 0: the routing table decides) is the interface multicast leaves
 * by; ttl the multicast TTL (1 stays on the link); loop delivers multicast to this host's own sockets too
 * (needed for a receiver on the same machine). NULL with err on failure. */
ht_udp_tx *ht_udp_tx_open(uint32_t iface_addr, int ttl, bool loop, ht_error *err);

/* Sends n datagrams (each pkts[i].payload, len to dst_addr:dst_port) with sendmmsg. Returns how many were
 * sent (fewer when the socket buffer is full), or -1 with err. */
int ht_udp_tx_send(ht_udp_tx *tx, const ht_nic_packet *pkts, unsigned n, ht_error *err);

/* Closes the sender. NULL is a no-op. */
void ht_udp_tx_close(ht_udp_tx *tx);

/* Parses an Ethernet frame (optionally 802.1Q/802.1ad tagged) down to its UDP payload, filling payload,
 * len and the addresses and ports of out. Returns 0, or HT_NIC_PARSE_NOT_UDP / HT_NIC_PARSE_TRUNCATED.
 * HT_NIC_PARSE_FRAGMENT only comes from the protocol-neutral parsers below (the UDP ones count a fragment as
 * not UDP). */
enum { HT_NIC_PARSE_OK = 0, HT_NIC_PARSE_NOT_UDP = 1, HT_NIC_PARSE_TRUNCATED = 2, HT_NIC_PARSE_FRAGMENT = 3 };
int ht_nic_parse_ether(const uint8_t *frame, size_t len, ht_nic_packet *out);

/* The same from an IPv4 header (raw IP link types). */
int ht_nic_parse_ipv4(const uint8_t *ip, size_t len, ht_nic_packet *out);

/* ---- Any IPv4 protocol (`hedgetrig latency` reads the TCP order flow next to the UDP market data) --------- */

/* An IPv4 datagram's transport part. */
typedef struct ht_nic_ipv4 {
    const uint8_t *l4;           /* the bytes after the IP header, up to the IP total length */
    size_t l4_len;
    uint32_t src_addr, dst_addr; /* host order */
    uint8_t protocol;            /* 6 TCP, 17 UDP, ... */
} ht_nic_ipv4;

/* Checks an IPv4 header (version, header length, total length within len) and points out at its transport
 * part. Returns HT_NIC_PARSE_OK; HT_NIC_PARSE_NOT_UDP for what is not IPv4 (or lies about its header length);
 * HT_NIC_PARSE_FRAGMENT for a fragment (more-fragments flag or an offset); HT_NIC_PARSE_TRUNCATED when the
 * bytes are fewer than the header or the total length says. */
int ht_nic_parse_ipv4_header(const uint8_t *ip, size_t len, ht_nic_ipv4 *out);

/* Where an Ethernet frame's IPv4 header starts (after up to two VLAN tags): HT_NIC_PARSE_OK with *ip_offset,
 * HT_NIC_PARSE_NOT_UDP (not IPv4) or HT_NIC_PARSE_TRUNCATED. */
int ht_nic_ether_ipv4(const uint8_t *frame, size_t len, size_t *ip_offset);

/* Parses a captured frame of a pcap link type (libpcap's DLT_ value: Ethernet, raw IPv4, Linux cooked SLL and
 * SLL2, BSD loopback) down to its IPv4 datagram, as ht_nic_parse_ipv4_header. A link type the reader does not
 * support, or a frame of another network protocol, is HT_NIC_PARSE_NOT_UDP. */
int ht_nic_parse_frame_ipv4(int linktype, const uint8_t *frame, size_t len, ht_nic_ipv4 *out);

/* True for the link types ht_nic_parse_frame_ipv4 (and the pcap receive path) read. */
bool ht_nic_linktype_supported(int linktype);

#endif

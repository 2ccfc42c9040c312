/* SPDX-License-Identifier: MIT */
/* Writes the market simulator's packets to a pcap file as Ethernet/IPv4/UDP frames (libpcap, ns timestamps). */
#include <pcap/pcap.h>
#include <string.h>

#include "hedgetrig/market_sim.h"

#define ETH_LEN 14u
#define IP_LEN 20u
#define UDP_LEN 8u

/* Stores a 16-bit value big-endian. */
static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Stores a 32-bit value big-endian. */
static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The IPv4 header checksum (RFC 791: one's complement of the one's complement sum of its 16-bit words). */
static uint16_t ip_checksum(const uint8_t *h, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Builds the frame of one datagram into frame[]; returns its length. */
static size_t build_frame(const ht_nic_packet *p, uint8_t *frame, uint16_t ip_id)
{
    uint8_t *eth = frame, *ip = frame + ETH_LEN, *udp = ip + IP_LEN;
    /* IPv4 multicast MAC: 01:00:5e and the group's low 23 bits. */
    const uint8_t dst_mac[6] = {0x01, 0x00, 0x5e, (uint8_t)((p->dst_addr >> 16) & 0x7F), (uint8_t)(p->dst_addr >> 8),
                                (uint8_t)p->dst_addr};
    const uint8_t src_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(eth, dst_mac, 6);
    memcpy(eth + 6, src_mac, 6);
    put_be16(eth + 12, 0x0800);
    memset(ip, 0, IP_LEN);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(IP_LEN + UDP_LEN + p->len));
    put_be16(ip + 4, ip_id);
    put_be16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 32;
    ip[9] = 17;
    put_be32(ip + 12, p->src_addr);
    put_be32(ip + 16, p->dst_addr);
    put_be16(ip + 10, ip_checksum(ip, IP_LEN));
    put_be16(udp, p->src_port);
    put_be16(udp + 2, p->dst_port);
    put_be16(udp + 4, (uint16_t)(UDP_LEN + p->len));
    put_be16(udp + 6, 0); /* no checksum (allowed over IPv4) */
    memcpy(udp + UDP_LEN, p->payload, p->len);
    return ETH_LEN + IP_LEN + UDP_LEN + p->len;
}

long ht_mkt_write_pcap(ht_mkt *m, const char *path, uint64_t max_packets, ht_error *err)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (!dead) {
        ht_error_set(err, "%s: libpcap cannot open a writer", path);
        return -1;
    }
    pcap_dumper_t *out = pcap_dump_open(dead, path);
    if (!out) {
        ht_error_set(err, "%s: cannot write: %s", path, pcap_geterr(dead));
        pcap_close(dead);
        return -1;
    }
    static uint8_t frame[ETH_LEN + IP_LEN + UDP_LEN + 65536];
    long n = 0;
    ht_nic_packet p;
    while ((max_packets == 0 || (uint64_t)n < max_packets) && ht_mkt_next(m, &p) == 1) {
        struct pcap_pkthdr h;
        size_t len = build_frame(&p, frame, (uint16_t)n);
        h.ts.tv_sec = (time_t)(p.ts_ns / 1000000000u);
        h.ts.tv_usec = (suseconds_t)(p.ts_ns % 1000000000u); /* nanoseconds: the file says so in its magic */
        h.caplen = h.len = (bpf_u_int32)len;
        pcap_dump((u_char *)out, &h, frame);
        n++;
    }
    int rc = pcap_dump_flush(out);
    pcap_dump_close(out);
    pcap_close(dead);
    if (rc != 0) {
        ht_error_set(err, "%s: write failed", path);
        return -1;
    }
    return n;
}

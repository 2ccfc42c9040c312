/* SPDX-License-Identifier: MIT */
/* Receive cost per packet, side by side on the same packets (the real capture's frames): the DPDK path (a
 * net_ring port fed from memory: rte_eth_rx_burst, parse, filter, mbuf free) against the kernel socket path
 * (multicast on loopback, recvmmsg with timestamps and pktinfo, parse of control data, filter). Only the rx
 * calls are timed; filling the ring and sending the datagrams are not. Rounds alternate between the paths.
 *   bench_nic [CAPTURE] [--rounds N]  */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hedgetrig/nic.h"
#include "hedgetrig/tsc.h"

#ifdef HT_BENCH_NET_RING
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#endif

#ifndef HT_DERIBIT_DIR
#define HT_DERIBIT_DIR "../shared/data/deribit"
#endif

/* The capture's frames (Ethernet) and their UDP payloads. */
typedef struct frames {
    uint8_t *data[6000];
    uint32_t len[6000];
    ht_nic_packet udp[6000]; /* parsed: payload into data, destination */
    unsigned n;
} frames;

/* Reads every frame of the capture. */
static void load_frames(const char *path, frames *f)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, errbuf);
    if (!p) {
        fprintf(stderr, "bench_nic: %s: %s\n", path, errbuf);
        exit(1);
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    while (f->n < 6000 && pcap_next_ex(p, &h, &d) == 1) {
        f->data[f->n] = malloc(h->caplen);
        memcpy(f->data[f->n], d, h->caplen);
        f->len[f->n] = h->caplen;
        if (ht_nic_parse_ether(f->data[f->n], h->caplen, &f->udp[f->n]) != HT_NIC_PARSE_OK) {
            fprintf(stderr, "bench_nic: frame %u is not UDP\n", f->n + 1);
            exit(1);
        }
        f->n++;
    }
    pcap_close(p);
}

/* Sorts doubles ascending. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Prints median, p10 and p90 of v[0..n) (sorted by median()). */
static void print_line(const char *what, double *v, unsigned n)
{
    double m = median(v, n);
    printf("  %-52s median %7.1f ns/packet   p10 %7.1f   p90 %7.1f   (%u rounds)\n", what, m, v[n / 10],
           v[(n * 9) / 10], n);
}

/* Receives exactly `want` packets from nic, summing the TSC spent inside rx_burst; returns packets seen. */
static unsigned rx_timed(ht_nic *nic, unsigned want, uint64_t *tsc_sum)
{
    ht_nic_packet pkts[HT_NIC_BURST];
    unsigned got = 0;
    for (unsigned tries = 0; got < want && tries < 100000; tries++) {
        uint64_t t0 = ht_tsc_now();
        int n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST);
        *tsc_sum += ht_tsc_now() - t0;
        if (n < 0) {
            fprintf(stderr, "bench_nic: %s\n", ht_nic_last_error(nic));
            exit(1);
        }
        got += (unsigned)n;
    }
    return got;
}

#ifdef HT_BENCH_NET_RING
typedef struct dpdk_bench {
    struct rte_ring *rx_ring;
    struct rte_mempool *src_pool;
    ht_nic *nic;
} dpdk_bench;

/* Starts EAL, makes a net_ring port from two rings, and opens it through the nic layer. */
static bool dpdk_setup(dpdk_bench *b)
{
    const char *eal = "--no-huge --no-pci --no-shconf -m 256 --log-level=*:error";
    ht_error err;
    if (ht_nic_dpdk_init(eal, &err) != 0) {
        fprintf(stderr, "bench_nic: %s\n", err.msg);
        return false;
    }
    int socket = (int)rte_socket_id();
    b->rx_ring = rte_ring_create("ht_bench_rx", 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    struct rte_ring *tx_ring = rte_ring_create("ht_bench_tx", 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    b->src_pool = rte_pktmbuf_pool_create("ht_bench_src", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (!b->rx_ring || !tx_ring || !b->src_pool) {
        fprintf(stderr, "bench_nic: cannot create rings or pool\n");
        return false;
    }
    int port = rte_eth_from_rings("net_ring_bench", &b->rx_ring, 1, &tx_ring, 1, (unsigned)socket);
    if (port < 0) {
        fprintf(stderr, "bench_nic: rte_eth_from_rings failed\n");
        return false;
    }
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.kind = HT_NIC_DPDK;
    cfg.eal_args = eal;
    cfg.port_id = (uint16_t)port;
    ht_nic_filter_deribit(&cfg.filter);
    b->nic = ht_nic_open(&cfg, &err);
    if (!b->nic) {
        fprintf(stderr, "bench_nic: %s\n", err.msg);
        return false;
    }
    return true;
}

/* One round: every frame through the ring port, 32 at a time; returns ns per packet spent in rx_burst. */
static double dpdk_round(dpdk_bench *b, const frames *f)
{
    uint64_t tsc = 0;
    unsigned total = 0;
    for (unsigned i = 0; i < f->n; i += HT_NIC_BURST) {
        unsigned k = f->n - i < HT_NIC_BURST ? f->n - i : HT_NIC_BURST;
        struct rte_mbuf *m[HT_NIC_BURST];
        if (rte_pktmbuf_alloc_bulk(b->src_pool, m, k) != 0) {
            fprintf(stderr, "bench_nic: mbuf pool empty\n");
            exit(1);
        }
        for (unsigned j = 0; j < k; j++)
            memcpy(rte_pktmbuf_append(m[j], (uint16_t)f->len[i + j]), f->data[i + j], f->len[i + j]);
        rte_ring_enqueue_bulk(b->rx_ring, (void **)m, k, NULL);
        total += rx_timed(b->nic, k, &tsc);
    }
    /* Release the last burst's mbufs (an empty poll frees them). */
    ht_nic_packet none[1];
    ht_nic_rx_burst(b->nic, none, 1);
    return ht_tsc_to_ns(tsc) / total;
}
#endif

typedef struct socket_bench {
    ht_nic *nic;
    ht_udp_tx *tx;
    uint16_t base_port;
} socket_bench;

/* Opens the socket receiver on the capture's groups (loopback) and a sender. */
static bool socket_setup(socket_bench *b)
{
    b->base_port = (uint16_t)(30000 + (getpid() % 10000) * 2);
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.kind = HT_NIC_SOCKET;
    cfg.iface_addr = 0x7F000001u;
    cfg.rcvbuf_bytes = 8 << 20;
    ht_error err;
    ht_nic_filter_add_group(&cfg.filter, "239.111.111.0/27", &err);
    char port[16];
    snprintf(port, sizeof port, "%u", b->base_port);
    ht_nic_filter_add_port(&cfg.filter, port, &err);
    snprintf(port, sizeof port, "%u", b->base_port + 1);
    ht_nic_filter_add_port(&cfg.filter, port, &err);
    b->nic = ht_nic_open(&cfg, &err);
    b->tx = b->nic ? ht_udp_tx_open(0x7F000001u, 1, true, &err) : NULL;
    if (!b->nic || !b->tx) {
        fprintf(stderr, "bench_nic: %s\n", err.msg);
        return false;
    }
    return true;
}

/* One round: every datagram sent on loopback 32 at a time, then received; ns per packet spent in rx_burst. */
static double socket_round(socket_bench *b, const frames *f)
{
    uint64_t tsc = 0;
    unsigned total = 0;
    ht_nic_packet out[HT_NIC_BURST];
    ht_error err;
    for (unsigned i = 0; i < f->n; i += HT_NIC_BURST) {
        unsigned k = f->n - i < HT_NIC_BURST ? f->n - i : HT_NIC_BURST;
        for (unsigned j = 0; j < k; j++) {
            out[j] = f->udp[i + j];
            out[j].dst_port = (uint16_t)(b->base_port + (out[j].dst_port == 6101));
        }
        if (ht_udp_tx_send(b->tx, out, k, &err) != (int)k) {
            fprintf(stderr, "bench_nic: send: %s\n", err.msg);
            exit(1);
        }
        total += rx_timed(b->nic, k, &tsc);
    }
    return ht_tsc_to_ns(tsc) / total;
}

int main(int argc, char **argv)
{
    const char *path = HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap";
    unsigned rounds = 21;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "usage: bench_nic [CAPTURE] [--rounds N]\n");
            return 2;
        }
    }
    if (rounds < 3)
        rounds = 3;
    static frames f;
    load_frames(path, &f);
    ht_tsc_calibrate(0);
    socket_bench sb;
    if (!socket_setup(&sb))
        return 1;
    double *sock = calloc(rounds, sizeof *sock), *dpdk = calloc(rounds, sizeof *dpdk);
#ifdef HT_BENCH_NET_RING
    dpdk_bench db;
    if (!dpdk_setup(&db))
        return 1;
#endif
    for (unsigned r = 0; r < rounds + 1; r++) { /* round 0 warms caches and is dropped */
#ifdef HT_BENCH_NET_RING
        double d = dpdk_round(&db, &f);
#else
        double d = 0;
#endif
        double s = socket_round(&sb, &f);
        if (r > 0) {
            dpdk[r - 1] = d;
            sock[r - 1] = s;
        }
    }
    printf("bench_nic: %u frames of %s per round, rx bursts of up to %u, only the rx calls timed\n", f.n, path,
           HT_NIC_BURST);
#ifdef HT_BENCH_NET_RING
    double ratio[512];
    unsigned nr = rounds < 512 ? rounds : 512;
    for (unsigned r = 0; r < nr; r++)
        ratio[r] = sock[r] / dpdk[r];
    print_line("DPDK net_ring port (rx_burst, parse, filter, free)", dpdk, rounds);
#endif
    print_line("kernel socket, multicast on loopback (recvmmsg)", sock, rounds);
#ifdef HT_BENCH_NET_RING
    double rm = median(ratio, nr);
    printf("  kernel bypass: the socket path costs %.1fx the DPDK path per packet (median of per-round ratios,"
           " p10 %.1fx, p90 %.1fx)\n",
           rm, ratio[nr / 10], ratio[(nr * 9) / 10]);
    ht_nic_close(db.nic);
#else
    printf("  (this build has no DPDK net_ring driver: only the socket path was measured)\n");
#endif
    ht_nic_close(sb.nic);
    ht_udp_tx_close(sb.tx);
    for (unsigned i = 0; i < f.n; i++)
        free(f.data[i]);
    free(sock);
    free(dpdk);
    return 0;
}

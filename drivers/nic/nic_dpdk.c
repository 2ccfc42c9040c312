/* SPDX-License-Identifier: MIT */
/* Kernel-bypass receive through a DPDK ethdev port: EAL started once per process, one rx queue polled in
 * bursts of up to 32, Ethernet/IPv4/UDP parsed in place in the mbufs (no copy), TSC taken per burst. */
#include "nic_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

#include "hedgetrig/tsc.h"

#define RX_DESCRIPTORS 1024
#define TX_DESCRIPTORS 512
#define MAX_EAL_ARGS 64

/* EAL runs once per process: what it was started with. */
static bool g_eal_started;
static char g_eal_args[4096];
static unsigned g_pool_serial;

typedef struct dpdk_state {
    uint16_t port;
    struct rte_mempool *pool;
    struct rte_mbuf *held[HT_NIC_BURST]; /* the last burst's kept mbufs, freed at the next burst */
    unsigned n_held;
    int ts_offset;                       /* mbuf dynfield of the rx timestamp, or -1 (use the host clock) */
    uint64_t ts_ns_per_unit;             /* net_pcap writes the capture time in microseconds */
    uint64_t ts_flag;
    bool started;
} dpdk_state;

int ht_nic_dpdk_init(const char *eal_args, ht_error *err)
{
    if (!eal_args)
        eal_args = "";
    if (g_eal_started) {
        if (strcmp(eal_args, g_eal_args) != 0)
            return ht_error_set(err, "dpdk: EAL already started in this process with '%s'; it cannot restart with '%s'",
                                g_eal_args, eal_args);
        return 0;
    }
    if (strlen(eal_args) >= sizeof g_eal_args)
        return ht_error_set(err, "dpdk: EAL arguments longer than %zu characters", sizeof g_eal_args - 1);
    /* Split on spaces into an argv that EAL may keep pointers into (it does): static storage. */
    static char buf[sizeof g_eal_args];
    static char *argv[MAX_EAL_ARGS + 2];
    strcpy(buf, eal_args);
    int argc = 0;
    argv[argc++] = "hedgetrig";
    for (char *tok = strtok(buf, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (argc > MAX_EAL_ARGS)
            return ht_error_set(err, "dpdk: more than %d EAL arguments", MAX_EAL_ARGS);
        argv[argc++] = tok;
    }
    argv[argc] = NULL;
    if (rte_eal_init(argc, argv) < 0)
        return ht_error_set(err, "dpdk: EAL did not start with '%s': %s", eal_args, rte_strerror(rte_errno));
    g_eal_started = true;
    strcpy(g_eal_args, eal_args);
    return 0;
}

/* Releases whatever open got to. */
static void dpdk_free(dpdk_state *s)
{
    for (unsigned i = 0; i < s->n_held; i++)
        rte_pktmbuf_free(s->held[i]);
    s->n_held = 0;
    if (s->started) {
        rte_eth_dev_stop(s->port);
        rte_eth_dev_close(s->port);
    }
    if (s->pool)
        rte_mempool_free(s->pool);
    free(s);
}

/* Starts EAL if needed, checks the port exists, and configures and starts it with one rx queue. */
static int dpdk_open(ht_nic *nic, ht_error *err)
{
    if (ht_nic_dpdk_init(nic->cfg.eal_args, err) != 0)
        return -1;
    uint16_t avail = rte_eth_dev_count_avail();
    if (avail == 0)
        return ht_error_set(err, "dpdk: no port came up (EAL arguments '%s'): check the --vdev / PCI device and "
                                 "that its driver loaded",
                            g_eal_args);
    uint16_t port = nic->cfg.port_id;
    if (!rte_eth_dev_is_valid_port(port))
        return ht_error_set(err, "dpdk: port %u does not exist (%u port(s) came up)", port, avail);
    dpdk_state *s = calloc(1, sizeof *s);
    if (!s)
        return ht_error_set(err, "dpdk: out of memory");
    s->port = port;
    s->ts_offset = -1;
    char name[RTE_MEMPOOL_NAMESIZE];
    snprintf(name, sizeof name, "ht_nic_%u_%u", port, g_pool_serial++);
    int socket = rte_eth_dev_socket_id(port);
    s->pool = rte_pktmbuf_pool_create(name, nic->cfg.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      socket < 0 ? (int)rte_socket_id() : socket);
    if (!s->pool) {
        free(s);
        return ht_error_set(err, "dpdk: cannot create a pool of %u mbufs: %s (give EAL more memory with -m)",
                            nic->cfg.mbufs, rte_strerror(rte_errno));
    }
    struct rte_eth_dev_info info;
    int rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0) {
        dpdk_free(s);
        return ht_error_set(err, "dpdk: port %u: cannot read device info: %s", port, rte_strerror(-rc));
    }
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof conf);
    /* Hardware timestamps when the device offers them; the pcap vdev fills the capture's own timestamps
     * into the registered field without advertising the offload. */
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
    if (rte_mbuf_dyn_rx_timestamp_register(&s->ts_offset, &s->ts_flag) != 0)
        s->ts_offset = -1;
    /* Only the pcap vdev's field is a Unix time (in microseconds); a NIC's is its own clock: use the host's. */
    s->ts_ns_per_unit = 1000;
    if (!info.driver_name || strcmp(info.driver_name, "net_pcap") != 0)
        s->ts_offset = -1;
    uint16_t rxd = RX_DESCRIPTORS, txd = TX_DESCRIPTORS;
    if ((rc = rte_eth_dev_configure(port, 1, 1, &conf)) != 0 ||
        (rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd)) != 0 ||
        (rc = rte_eth_rx_queue_setup(port, 0, rxd, (unsigned)(socket < 0 ? SOCKET_ID_ANY : socket), NULL,
                                     s->pool)) != 0 ||
        (rc = rte_eth_tx_queue_setup(port, 0, txd, (unsigned)(socket < 0 ? SOCKET_ID_ANY : socket), NULL)) != 0) {
        dpdk_free(s);
        return ht_error_set(err, "dpdk: port %u (%s): cannot configure one rx queue: %s", port,
                            info.driver_name ? info.driver_name : "?", rte_strerror(rc < 0 ? -rc : rc));
    }
    if ((rc = rte_eth_dev_start(port)) != 0) {
        dpdk_free(s);
        return ht_error_set(err, "dpdk: port %u (%s): cannot start: %s", port,
                            info.driver_name ? info.driver_name : "?", rte_strerror(rc < 0 ? -rc : rc));
    }
    s->started = true;
    rte_eth_promiscuous_enable(port); /* multicast groups without programming the filter; may be unsupported */
    rte_eth_allmulticast_enable(port);
    nic->impl = s;
    return 0;
}

/* Frees the previous burst, polls the rx queue once, parses and filters in place. */
static int dpdk_rx_burst(ht_nic *nic, ht_nic_packet *pkts, unsigned max)
{
    dpdk_state *s = nic->impl;
    if (s->n_held) {
        rte_pktmbuf_free_bulk(s->held, s->n_held);
        s->n_held = 0;
    }
    struct rte_mbuf *mbufs[HT_NIC_BURST];
    uint16_t got = rte_eth_rx_burst(s->port, 0, mbufs, (uint16_t)max);
    if (got == 0) {
        return 0;
    }
    uint64_t tsc = ht_tsc_now();
    uint64_t host_ns = s->ts_offset < 0 ? ht_wall_ns() : 0;
    unsigned n = 0;
    for (uint16_t i = 0; i < got; i++) {
        struct rte_mbuf *m = mbufs[i];
        nic->stats.frames++;
        ht_nic_packet *p = &pkts[n];
        const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
        bool one_seg = m->nb_segs == 1;
        int pr = HT_UNLIKELY(!one_seg) ? HT_NIC_PARSE_TRUNCATED : ht_nic_parse_ether(frame, m->data_len, p);
        if (!ht_nic_keep_frame(nic, pr, p, one_seg ? frame : NULL, one_seg ? m->data_len : 0)) {
            rte_pktmbuf_free(m);
            continue;
        }
        p->rx_tsc = tsc;
        p->frame = nic->stats.frames;
        p->ts_ns = (s->ts_offset >= 0 && (m->ol_flags & s->ts_flag))
                       ? *RTE_MBUF_DYNFIELD(m, s->ts_offset, rte_mbuf_timestamp_t *) * s->ts_ns_per_unit
                       : host_ns;
        nic->stats.bytes += p->len;
        nic->stats.packets += p->payload != NULL; /* a skipped frame handed on is no datagram */
        s->held[s->n_held++] = m;
        n++;
    }
    return (int)n;
}

/* Stops and closes the port and frees its pool. */
static void dpdk_close(ht_nic *nic)
{
    dpdk_state *s = nic->impl;
    if (!s)
        return;
    struct rte_eth_stats st;
    if (rte_eth_stats_get(s->port, &st) == 0)
        nic->stats.rx_errors += st.imissed + st.ierrors + st.rx_nombuf;
    dpdk_free(s);
    nic->impl = NULL;
}

/* Every frame of a port is Ethernet. */
static int dpdk_frames(ht_nic *nic, ht_error *err)
{
    (void)nic;
    (void)err;
    return 0;
}

const ht_nic_ops ht_nic_dpdk_ops = {dpdk_open, dpdk_rx_burst, dpdk_close, dpdk_frames};

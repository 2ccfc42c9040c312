/* SPDX-License-Identifier: MIT */
/* hedgetrig multicast: sends a capture's UDP datagrams to their multicast groups and ports, paced by the
 * capture's timestamps, for a receiver on the socket path (this machine or the LAN). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/nic.h"
#include "source.h"

static const char *const g_usage =
    "usage: hedgetrig multicast FILE [--speed X] [--iface A.B.C.D] [--ttl N] [--port-offset N] [--group ...]\n"
    "                         [--port ...] [--deribit]\n"
    "\n"
    "Sends every UDP datagram of the capture FILE to its own destination group and port (plus --port-offset),\n"
    "paced by the capture's timestamps. A receiver: hedgetrig decode --via socket --deribit --iface ADDR.\n"
    "\n"
    "  --speed X               1 real time (default), N x faster, 0 as fast as the socket takes them\n"
    "  --iface A.B.C.D         interface address the multicast leaves by (127.0.0.1 for this machine)\n"
    "  --ttl N                 multicast TTL, 0..255 (default 1: this link only)\n"
    "  --port-offset N         added to every destination port (to run beside a real feed)\n"
    "  --group, --port, --deribit   send only the datagrams to these groups/ports (see decode --help)\n"
    "Exit status: 0 every datagram sent, 1 a failure (printed), 2 usage error.\n";

/* Sends one burst, waiting briefly while the socket buffer is full. Returns false on an error. */
static bool send_all(ht_udp_tx *tx, const ht_nic_packet *pkts, unsigned n, uint64_t *sent)
{
    unsigned done = 0;
    for (int stalls = 0; done < n && stalls < 1000;) {
        ht_error err;
        int s = ht_udp_tx_send(tx, pkts + done, n - done, &err);
        if (s < 0) {
            ht_cli_fail("multicast", "%s", err.msg);
            return false;
        }
        if (s == 0) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            stalls++;
        }
        done += (unsigned)s;
    }
    *sent += done;
    if (done < n) {
        ht_cli_fail("multicast", "the socket stayed full: %u datagrams not sent", n - done);
        return false;
    }
    return true;
}

/* Where a replay's datagrams go. */
typedef struct send_run {
    ht_udp_tx *tx;
    uint16_t port_offset; /* added to every destination port */
    uint64_t sent;
} send_run;

/* Sends one burst to its destinations (ports moved by the offset); stops the replay on a failure. */
static int send_burst(void *ctx, ht_nic_packet *pkts, unsigned n)
{
    send_run *run = ctx;
    for (unsigned i = 0; i < n; i++)
        pkts[i].dst_port = (uint16_t)(pkts[i].dst_port + run->port_offset);
    return n > 0 && !send_all(run->tx, pkts, n, &run->sent) ? 1 : 0;
}

int cmd_multicast(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_source_opts src;
    ht_source_opts_default(&src);
    src.cfg.speed = 1.0;
    uint64_t ttl = 1, offset = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--group") == 0 || strcmp(a, "--port") == 0 || strcmp(a, "--deribit") == 0 ||
            strcmp(a, "--iface") == 0) {
            int r = ht_source_parse("multicast", argc, argv, &i, &src);
            if (r == HT_EXIT_USAGE)
                return r;
        } else if (strcmp(a, "--speed") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_double("multicast", a, argv[++i], 0, 1e9, &src.cfg.speed))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--ttl") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_u64("multicast", a, argv[++i], 0, 255, &ttl))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--port-offset") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_u64("multicast", a, argv[++i], 0, 60000, &offset))
                return HT_EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            return ht_cli_unknown("multicast", a, g_usage);
        } else if (src.file) {
            return ht_cli_usage_error("multicast", "more than one FILE ('%s' and '%s')", src.file, a);
        } else {
            src.file = a;
        }
    }
    if (!src.file)
        return ht_cli_usage_error("multicast", "no capture FILE given");
    uint32_t iface = src.cfg.iface_addr;
    src.cfg.kind = HT_NIC_PCAP;
    ht_error err;
    ht_udp_tx *tx = ht_udp_tx_open(iface, (int)ttl, true, &err);
    if (!tx)
        return ht_cli_fail("multicast", "%s", err.msg);
    ht_nic *nic = ht_source_open("multicast", &src);
    if (!nic) {
        ht_udp_tx_close(tx);
        return HT_EXIT_FAIL;
    }
    send_run run = {tx, (uint16_t)offset, 0};
    const ht_nic_replay_ops ops = {.on_burst = send_burst, .ctx = &run};
    int rc = HT_EXIT_OK;
    const int end = ht_nic_replay(nic, &ops, NULL, &err);
    if (end == HT_NIC_REPLAY_ERROR)
        rc = ht_cli_fail("multicast", "%s", err.msg);
    else if (end == HT_NIC_REPLAY_STOPPED)
        rc = HT_EXIT_FAIL; /* send_all said why */
    fprintf(stderr, "multicast: %" PRIu64 " datagrams sent of %" PRIu64 " frames\n", run.sent, ht_nic_stats_get(nic)->frames);
    ht_nic_close(nic);
    ht_udp_tx_close(tx);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* hedgetrig sim-market: runs the market simulator into a pcap file or onto the network as UDP datagrams. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/market_sim.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"
#include "hedgetrig/tsc.h"
#include "market_opts.h"

static const char *const g_usage =
    "usage: hedgetrig sim-market (--pcap FILE | --send | --list) [market options] [send options]\n"
    "\n"
    "Runs the market simulator: a BTC index path (GBM with jumps) and a moving vol surface, published as the\n"
    "Deribit multicast SBE packets the feed decodes: instruments (1000/1010), tickers (1003) of the options,\n"
    "the perpetual and the future, the index (1008), books (1001), trades (1002) and snapshot cycles\n"
    "(1004-1006). The same seed gives the same bytes.\n"
    "\n"
    "  --pcap FILE             write the packets to FILE (Ethernet/IPv4/UDP, nanosecond pcap); needs --steps > 0\n"
    "  --send                  send them as UDP datagrams (Deribit's layout: channel c to 239.111.111.c port\n"
    "                          6100, snapshot channel 100+c to port 6101)\n"
    "  --list                  print the instruments and exit\n" HT_MARKET_USAGE("1", "3600")
    "\n"
    "send options:\n"
    "  --to A.B.C.D            send every datagram to this unicast address instead of the groups\n"
    "  --port-offset N         add N to the destination ports (default 0)\n"
    "  --iface A.B.C.D         interface multicast leaves by (default: the routing table's)\n"
    "  --ttl N                 multicast TTL (default 1: this link only)\n"
    "  --speed X               pace on the exchange clock: 1 real time (default), N times faster, 0 as fast as\n"
    "                          possible\n"
    "\n"
    "Runs until the steps are done, or SIGINT/SIGTERM with --steps 0. Prints a summary on stderr.\n"
    "Exit status: 0 ok, 1 a failure (printed; --pcap is checked before the work starts), 2 usage error.\n";

static volatile sig_atomic_t g_stop;

/* SIGINT/SIGTERM: finish the current burst and stop. */
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Prints the universe, one instrument a line. */
static void print_universe(const ht_mkt *m)
{
    printf("%-24s %6s %-7s %10s %-16s\n", "name", "id", "kind", "strike", "expiry (UTC)");
    for (size_t i = 0; i < ht_mkt_instrument_count(m); i++) {
        const ht_mkt_instrument *in = ht_mkt_instrument_at(m, i);
        char expiry[32];
        time_t t = (time_t)(in->expiry_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(expiry, sizeof expiry, "%Y-%m-%d %H:%M", &tm);
        const char *kind = in->kind == HT_SBE_KIND_OPTION ? (in->option_type == HT_SBE_OPTION_CALL ? "call" : "put")
                           : in->expiry_ms > 30000000000000ull ? "perp"
                                                               : "future";
        printf("%-24s %6u %-7s %10.0f %-16s\n", in->name, in->id, kind, isnan(in->strike_usd) ? 0.0 : in->strike_usd,
               in->expiry_ms > 30000000000000ull ? "perpetual" : expiry);
    }
}

/* Sends a burst of datagrams, waiting while the socket buffer is full. Returns an exit code. */
static int flush_burst(ht_udp_tx *tx, ht_nic_packet *burst, unsigned *n)
{
    ht_error err;
    for (unsigned sent = 0; sent < *n;) {
        int r = ht_udp_tx_send(tx, burst + sent, *n - sent, &err);
        if (r < 0)
            return ht_cli_fail("sim-market", "%s", err.msg);
        sent += (unsigned)r;
        if (r == 0) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    *n = 0;
    return HT_EXIT_OK;
}

/* Sends every packet as UDP, paced on the exchange clock: what is due goes out in bursts, then the sender sleeps
 * until the next packet is due. Payloads are copied (the simulator reuses its memory at the next step). */
static int send_packets(ht_mkt *m, ht_udp_tx *tx, uint32_t to_addr, uint16_t port_offset, double speed)
{
    static uint8_t copies[HT_NIC_BURST][65536];
    ht_nic_packet burst[HT_NIC_BURST];
    unsigned n = 0;
    uint64_t first_ts = 0, start_mono = 0;
    ht_nic_packet p;
    while (!g_stop && ht_mkt_next(m, &p) == 1) {
        if (speed > 0) {
            if (!first_ts) {
                first_ts = p.ts_ns;
                start_mono = ht_mono_ns();
            }
            uint64_t due = start_mono + (uint64_t)((double)(p.ts_ns - first_ts) / speed);
            if (ht_mono_ns() < due) {
                if (flush_burst(tx, burst, &n) != HT_EXIT_OK)
                    return HT_EXIT_FAIL;
                while (!g_stop && ht_mono_ns() < due) {
                    uint64_t wait = due - ht_mono_ns();
                    struct timespec ts = {0, (long)(wait > 2000000 ? 2000000 : wait)};
                    nanosleep(&ts, NULL);
                }
            }
        }
        memcpy(copies[n], p.payload, p.len);
        p.payload = copies[n];
        if (to_addr)
            p.dst_addr = to_addr;
        p.dst_port = (uint16_t)(p.dst_port + port_offset);
        burst[n++] = p;
        if (n == HT_NIC_BURST && flush_burst(tx, burst, &n) != HT_EXIT_OK)
            return HT_EXIT_FAIL;
    }
    return flush_burst(tx, burst, &n);
}

int cmd_sim_market(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_mkt_config cfg;
    ht_mkt_config_default(&cfg);
    const char *pcap = NULL, *iface = NULL;
    bool send = false, list = false;
    uint32_t to_addr = 0;
    uint64_t port_offset = 0, ttl = 1;
    double speed = 1.0;
    for (int i = 1; i < argc; i++) {
        int r = ht_market_opt_parse("sim-market", argc, argv, &i, &cfg);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--send") == 0) {
            send = true;
            continue;
        }
        if (strcmp(a, "--list") == 0) {
            list = true;
            continue;
        }
        if (i + 1 >= argc)
            return ht_cli_unknown("sim-market", a, g_usage);
        const char *v = argv[++i];
        if (strcmp(a, "--pcap") == 0) {
            pcap = v;
        } else if (strcmp(a, "--to") == 0 || strcmp(a, "--iface") == 0) {
            struct in_addr ad;
            if (inet_pton(AF_INET, v, &ad) != 1)
                return ht_cli_usage_error("sim-market", "%s expects an IPv4 address, got '%s'", a, v);
            if (strcmp(a, "--to") == 0)
                to_addr = ntohl(ad.s_addr);
            else
                iface = v;
        } else if (strcmp(a, "--port-offset") == 0) {
            if (!ht_cli_parse_u64("sim-market", a, v, 0, 50000, &port_offset))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--ttl") == 0) {
            if (!ht_cli_parse_u64("sim-market", a, v, 0, 255, &ttl))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--speed") == 0) {
            if (!ht_cli_parse_double("sim-market", a, v, 0, 1e9, &speed))
                return HT_EXIT_USAGE;
        } else {
            return ht_cli_unknown("sim-market", a, g_usage);
        }
    }
    if ((pcap != NULL) + send + list != 1)
        return ht_cli_usage_error("sim-market", "give exactly one of --pcap FILE, --send or --list");
    if (pcap && cfg.steps == 0)
        return ht_cli_usage_error("sim-market", "--pcap needs a finite --steps");
    if (pcap && !ht_cli_output_ok("sim-market", "--pcap", pcap, false))
        return HT_EXIT_FAIL;
    ht_error err;
    ht_mkt *m = ht_mkt_create(&cfg, &err);
    if (!m)
        return ht_cli_usage_error("sim-market", "%s", err.msg);
    int rc = HT_EXIT_OK;
    if (list) {
        print_universe(m);
    } else if (pcap) {
        long n = ht_mkt_write_pcap(m, pcap, 0, &err);
        if (n < 0)
            rc = ht_cli_fail("sim-market", "%s", err.msg);
        else
            fprintf(stderr, "sim-market: wrote %ld packets to %s\n", n, pcap);
    } else {
        struct in_addr ifa = {0};
        if (iface)
            inet_pton(AF_INET, iface, &ifa);
        ht_udp_tx *tx = ht_udp_tx_open(ntohl(ifa.s_addr), (int)ttl, true, &err);
        if (!tx) {
            ht_mkt_destroy(m);
            return ht_cli_fail("sim-market", "%s", err.msg);
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        rc = send_packets(m, tx, to_addr, (uint16_t)port_offset, speed);
        ht_udp_tx_close(tx);
    }
    if (!list) {
        const ht_mkt_stats *st = ht_mkt_stats_get(m);
        fprintf(stderr,
                "sim-market: %" PRIu64 " steps, %" PRIu64 " packets (%" PRIu64 " dropped), %" PRIu64
                " messages, %" PRIu64 " jumps; final index %.2f, ATM vol %.4f\n",
                ht_mkt_step(m) + 1, st->packets, st->dropped, st->messages, st->jumps, ht_mkt_spot(m),
                ht_mkt_atm_iv(m));
    }
    ht_mkt_destroy(m);
    return rc;
}

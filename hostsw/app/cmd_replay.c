/* SPDX-License-Identifier: MIT */
/* hedgetrig replay: a capture through the whole path (feed, greeks, pipeline, optimizer, gateway, venue, fills). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine_opts.h"
#include "hedgetrig/engine_setup.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/parse.h"
#include "source.h"

static const char *const g_usage =
    "usage: hedgetrig replay --pcap FILE --book BOOK.csv [--backend sw|verilator|xrt] [--via file|dpdk]\n"
    "                        [--speed N|max] [--fix HOST:PORT | --sim-exchange] [--wire] [--json] [options]\n"
    "\n"
    "Replays a Deribit multicast capture through the whole path: the feed, the greeks refresh, the pipeline,\n"
    "the hedge optimizer, the FIX gateway and a venue, with the fills back into the hedge inventory. Every\n"
    "decision's orders are resolved before the next packet and every clock is the capture's, so the same\n"
    "capture gives the same breaches, orders and fills on any machine and with any pipeline backend.\n"
    "Prints the run's summary (ticks, breaches, orders, fills, cost; net delta with and without the hedges:\n"
    "max, RMS, time outside the band) and the latency per stage.\n"
    "\n"
    "  --pcap FILE             the capture (pcap or pcapng)\n"
    "  --speed N|max           pace: max (default) as fast as possible, 1 the capture's own pace, N times it\n"
    "  --wire                  wire mode ([engine] wire): the pipeline reads the capture's Ethernet frames and\n"
    "                          makes its own ticks, the feed decoder runs beside it (sw or verilator backend)\n"
    "  --sim-exchange          orders go to the exchange simulator, in-process on loopback, its books driven by\n"
    "                          the capture's (default)\n"
    "  --fix HOST:PORT         orders go to a FIX 4.4 acceptor instead (e.g. hedgetrig exchange-sim); a fresh\n"
    "                          journal per replay: give --journal\n"
    "  --journal FILE          the gateway's journal (--fix)\n"
    "  --sender ID, --target ID  CompIDs for --fix (default HEDGETRIG, DERIBITSERVER)\n" HT_VENUE_SIM_USAGE
    HT_ENGINE_USAGE_DEFAULTS
    "  --via file|dpdk         read the file with libpcap (default) or replay it through DPDK's net_pcap vdev\n"
    "  --eal 'ARGS'            DPDK EAL arguments for --via dpdk\n"
    "\n"
    "Exit status: 0 ok, 1 the run failed (the reason is printed), 2 usage error.\n";

static volatile sig_atomic_t g_stop;

/* SIGINT/SIGTERM: stop reading and shut down cleanly. */
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int cmd_replay(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_setup_config setup;
    ht_setup_config_default(&setup);
    ht_engine_config *const cfg = &setup.engine;
    ht_source_opts src;
    ht_source_opts_default(&src);
    bool json = false;
    for (int i = 1; i < argc; i++) {
        int r = ht_engine_opt_parse("replay", argc, argv, &i, &setup, &json);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        r = ht_venue_sim_opt_parse("replay", argc, argv, &i, &setup);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        r = ht_source_parse("replay", argc, argv, &i, &src);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--wire") == 0) {
            cfg->wire = true;
            continue;
        }
        if (strcmp(a, "--sim-exchange") == 0) {
            cfg->venue = HT_ENGINE_VENUE_SIM;
            continue;
        }
        if (i + 1 >= argc)
            return ht_cli_unknown("replay", a, g_usage);
        const char *v = argv[++i];
        if (strcmp(a, "--pcap") == 0) {
            src.file = v;
        } else if (strcmp(a, "--speed") == 0) {
            if (strcmp(v, "max") == 0)
                src.cfg.speed = 0;
            else if (!ht_cli_parse_double("replay", a, v, 1e-6, 1e9, &src.cfg.speed))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--fix") == 0) {
            /* The port in strtol's grammar, as replay always took it ("host: 80" and "host:+80" pass). */
            if (ht_parse_hostport(v, HT_PARSE_STRTOL_GRAMMAR, cfg->gw.host, sizeof cfg->gw.host, &cfg->gw.port) !=
                HT_PARSE_OK)
                return ht_cli_usage_error("replay", "--fix expects HOST:PORT, got '%s'", v);
            cfg->venue = HT_ENGINE_VENUE_FIX;
        } else if (strcmp(a, "--journal") == 0) {
            if (!ht_cli_copy("replay", a, v, cfg->gw.journal_path, sizeof cfg->gw.journal_path))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--sender") == 0 || strcmp(a, "--target") == 0) {
            ht_error bad;
            if (ht_gw_check_comp_id(a, v, &bad) != 0)
                return ht_cli_usage_error("replay", "%s", bad.msg);
            bool sender = strcmp(a, "--sender") == 0;
            snprintf(sender ? cfg->gw.sender_comp_id : cfg->gw.target_comp_id, sizeof cfg->gw.sender_comp_id, "%s", v);
        } else {
            return ht_cli_unknown("replay", a, g_usage);
        }
    }
    if (!src.file)
        return ht_cli_usage_error("replay", "--pcap FILE is required");
    if (!cfg->book_path[0])
        return ht_cli_usage_error("replay", "--book BOOK.csv is required");
    if (src.cfg.kind == HT_NIC_SOCKET)
        return ht_cli_usage_error("replay", "--via socket is the live mode: use hedgetrig run");
    cfg->threads = false;
    ht_error err;
    if (ht_setup_config_check(&setup, &err) != 0)
        return ht_cli_usage_error("replay", "%s", err.msg);
    ht_nic *nic = ht_source_open("replay", &src);
    if (!nic)
        return HT_EXIT_FAIL;
    ht_engine *e = ht_setup_engine_create(cfg, &setup.xsim, &err);
    if (!e) {
        ht_nic_close(nic);
        return ht_cli_fail("replay", "%s", err.msg);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = ht_engine_run_nic(e, nic, &g_stop, &err);
    if (json)
        ht_engine_write_json(e, stdout);
    else
        ht_engine_print_report(e, stdout);
    if (rc != 0)
        ht_cli_fail("replay", "%s", err.msg);
    ht_engine_destroy(e);
    ht_nic_close(nic);
    return rc == 0 ? HT_EXIT_OK : HT_EXIT_FAIL;
}

/* SPDX-License-Identifier: MIT */
/* hedgetrig run: the live mode. Market data from DPDK or a socket, the chosen pipeline, FIX to a venue, two
 * pinned threads; SIGINT/SIGTERM stop cleanly, SIGUSR1 engages the kill switch. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "engine_opts.h"
#include "hedgetrig/engine_setup.h"

static const char *const g_usage =
    "usage: hedgetrig run --config CFG [--book BOOK.csv] [--backend sw|verilator|xrt] [--strategy SPEC]\n"
    "                     [--duration-s N] [--wire] [--json]\n"
    "\n"
    "The live mode. Receives Deribit multicast through DPDK or a kernel socket ([source]), keeps the book's net\n"
    "delta in the pipeline ([pipeline]), hedges through the FIX gateway to a venue ([venue], [gateway], [risk]).\n"
    "Two threads: the fast half (receive, decode, pipeline) and the slow half (greeks, optimizer, gateway), pinned\n"
    "to [threads] hot_cpu and slow_cpu (default: the last two CPUs), joined by lock-free rings.\n"
    "\n"
    "  --duration-s N          stop after N seconds (default: run until a signal)\n"
    "  --wire                  wire mode ([engine] wire): the pipeline reads the Ethernet frames and makes its own\n"
    "                          ticks, the feed decoder runs beside it; needs a pcap or dpdk source and the sw or\n"
    "                          verilator backend\n" HT_ENGINE_USAGE_DEFAULTS
    "\n"
    "Signals: SIGINT or SIGTERM stop cleanly (orders in flight are answered or cancelled, the session logs out,\n"
    "the journal is flushed, the summary is printed); SIGUSR1 engages the kill switch (open orders cancelled, no\n"
    "new order; market data and the status keep running). A status line goes to stderr every [status] interval_s\n"
    "seconds and the counters to [status] counters_file.\n"
    "Exit status: 0 stopped cleanly, 1 a failure (printed), 2 usage error.\n";

static volatile sig_atomic_t g_stop;

/* SIGINT/SIGTERM/SIGALRM: stop. */
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* The default pinning: the fast half on the last CPU, the slow half on the one before (isolated cores are
 * usually the high ones); unpinned on a single CPU. */
static void default_cpus(ht_engine_config *cfg)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->hot_cpu = n >= 2 ? (int)n - 1 : -1;
    cfg->slow_cpu = n >= 2 ? (int)n - 2 : -1;
}

int cmd_run(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_setup_config setup;
    ht_setup_config_default(&setup);
    ht_engine_config *const cfg = &setup.engine;
    cfg->threads = true;
    default_cpus(cfg);
    cfg->status_interval_s = 10;
    bool json = false, have_config = false;
    uint64_t duration_s = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0)
            have_config = true;
        int r = ht_engine_opt_parse("run", argc, argv, &i, &setup, &json);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "--wire") == 0) {
            cfg->wire = true;
        } else if (strcmp(argv[i], "--duration-s") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_u64("run", "--duration-s", argv[++i], 1, 365ull * 86400, &duration_s))
                return HT_EXIT_USAGE;
        } else {
            return ht_cli_unknown("run", argv[i], g_usage);
        }
    }
    if (!have_config)
        return ht_cli_usage_error("run", "--config CFG is required");
    ht_error err;
    if (ht_setup_config_check(&setup, &err) != 0)
        return ht_cli_usage_error("run", "%s", err.msg);
    if (cfg->source == HT_ENGINE_SOURCE_NIC && cfg->nic.kind == HT_NIC_PCAP && !cfg->nic_path[0])
        return ht_cli_usage_error("run", "[source] kind = pcap needs a path (or use socket / dpdk / sim)");
    if (cfg->source == HT_ENGINE_SOURCE_NIC && cfg->nic.kind == HT_NIC_DPDK && !cfg->eal_args[0])
        return ht_cli_usage_error("run", "[source] kind = dpdk needs eal arguments ([source] eal)");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_signal);
    /* Before the engine: its gateway (and pid file) exists while it waits for the logon, and a SIGUSR1 then must
     * engage the kill switch, not end the process. */
    ht_gw_kill_on_signal(SIGUSR1);
    cfg->stop_waiting = &g_stop;
    ht_engine *e = ht_setup_engine_create(cfg, &setup.xsim, &err);
    if (!e && g_stop) {
        fprintf(stderr, "run: stopped before hedging started (%s)\n", err.msg);
        return HT_EXIT_OK;
    }
    if (!e)
        return ht_cli_fail("run", "%s", err.msg);
    if (duration_s)
        alarm((unsigned)duration_s);
    fprintf(stderr, "run: hedging %s with %s; pipeline %s; fast half on CPU %d, slow half on CPU %d; pid %d\n",
            cfg->book_path, cfg->strategy, ht_pipe_backend_name(cfg->backend), cfg->hot_cpu, cfg->slow_cpu, (int)getpid());
    int rc;
    if (cfg->source == HT_ENGINE_SOURCE_MARKET) {
        ht_mkt *m = ht_mkt_create(&setup.market, &err);
        rc = m ? ht_setup_run_market(e, m, &g_stop, &err) : -1;
        ht_mkt_destroy(m);
    } else {
        ht_nic_config nc = cfg->nic;
        nc.path = cfg->nic_path;
        nc.eal_args = cfg->eal_args;
        ht_nic *nic = ht_nic_open(&nc, &err);
        rc = nic ? ht_engine_run_nic(e, nic, &g_stop, &err) : -1;
        ht_nic_close(nic);
    }
    if (json)
        ht_engine_write_json(e, stdout);
    else
        ht_engine_print_report(e, stdout);
    ht_engine_destroy(e);
    if (rc != 0)
        return ht_cli_fail("run", "%s", err.msg);
    fprintf(stderr, "run: stopped cleanly\n");
    return HT_EXIT_OK;
}

/* SPDX-License-Identifier: MIT */
/* `hedgetrig exchange-sim`: runs the exchange simulator (a FIX 4.4 acceptor that fills IOC orders) until stopped. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/gateway.h"

static const char k_xsim_usage[] =
    "usage: hedgetrig exchange-sim [--config CFG] [--host ADDR] [--port N] [--comp-id ID] [--latency-us N]\n"
    "                              [--fee-bps F] [--max-fill-qty Q] [--mid P] [--spread S] [--level-qty Q]\n"
    "                              [--levels N] [--book-pcap FILE] [--record FILE] [--secrets FILE] [--duration-s N]\n"
    "                              [--logon-timeout-ms N] [--max-connections N] [--max-bad-messages N]\n"
    "\n"
    "Runs the exchange simulator: a FIX 4.4 acceptor that fills immediate-or-cancel limit orders against a book\n"
    "(standalone: levels around --mid), with latency, fees and partial fills. Prints 'listening on ADDR:PORT'\n"
    "and runs until SIGINT/SIGTERM or --duration-s.\n"
    "\n"
    "  --config CFG     [exchange_sim] section of a config file (docs/gateway.md); options below win\n"
    "  --host ADDR      IPv4 address to listen on (default 127.0.0.1);  --port N  (default 0: any free port)\n"
    "  --comp-id ID     the simulator's CompID, 1..31 of A-Z a-z 0-9 . _ - (default DERIBITSERVER)\n"
    "  --latency-us N   delay before every outbound message (default 0)\n"
    "  --fee-bps F      taker fee on notional, in Commission (12) (default 5)\n"
    "  --max-fill-qty Q split fills into executions of at most Q (default 0: one per level)\n"
    "  --mid P --spread S --level-qty Q --levels N   the standalone book (defaults 50000, 1, 10000, 10)\n"
    "  --book-pcap FILE replay a Deribit multicast capture through the feed decoder and trade against every\n"
    "                   instrument's final book (depleting; other symbols use the standalone book)\n"
    "  --record FILE    append one CSV line per order received: client,seq,clordid,symbol,side,qty,price,status\n"
    "                   (status: filled, partial, canceled, rejected, duplicate, or possdup: a resend ignored)\n"
    "  --secrets FILE   verify Deribit logons against this client_id / client_secret file (mode 0600)\n"
    "  --duration-s N   stop after N seconds (default: run until a signal)\n"
    "  --logon-timeout-ms N   close a connection that has not logged on after N ms (100..600000, default 5000)\n"
    "  --max-connections N    connections at once (1..64, default 16); more are refused and logged\n"
    "  --max-bad-messages N   close a peer after N malformed messages in a row (1..1000, default 10)\n"
    "Exit status: 0 stopped cleanly, 1 a failure (printed), 2 usage error.\n";

static volatile sig_atomic_t g_stop;

/* Signal handler: asks the loop to end. */
static void on_stop_signal(int signo)
{
    (void)signo;
    g_stop = 1;
}

int cmd_exchange_sim(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(k_xsim_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_xsim_config cfg;
    ht_xsim_config_defaults(&cfg);
    ht_error err;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--config") && ht_xsim_config_load(&cfg, argv[i + 1], &err) != 0)
            return ht_cli_usage_error("exchange-sim", "%s", err.msg);
    uint64_t duration_s = 0;
    const char *secrets = NULL, *book_pcap = NULL;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return ht_cli_usage_error("exchange-sim", "%s needs a value", opt);
        const char *v = argv[++i];
        uint64_t u;
        if (!strcmp(opt, "--config"))
            continue;
        if (!strcmp(opt, "--host")) {
            if (strlen(v) >= sizeof cfg.bind_host || !ht_xsim_valid_host(v))
                return ht_cli_usage_error("exchange-sim", "--host '%s' is not an IPv4 address (e.g. 127.0.0.1)", v);
            snprintf(cfg.bind_host, sizeof cfg.bind_host, "%s", v);
        } else if (!strcmp(opt, "--port")) {
            if (!ht_cli_parse_u64("exchange-sim", opt, v, 0, 65535, &u))
                return HT_EXIT_USAGE;
            cfg.port = (uint16_t)u;
        } else if (!strcmp(opt, "--comp-id")) {
            ht_error bad;
            if (ht_gw_check_comp_id("--comp-id", v, &bad) != 0)
                return ht_cli_usage_error("exchange-sim", "%s", bad.msg);
            snprintf(cfg.comp_id, sizeof cfg.comp_id, "%s", v);
        } else if (!strcmp(opt, "--latency-us")) {
            if (!ht_cli_parse_u64("exchange-sim", opt, v, 0, 10000000, &u))
                return HT_EXIT_USAGE;
            cfg.latency_us = (uint32_t)u;
        } else if (!strcmp(opt, "--fee-bps")) {
            if (!ht_cli_parse_double("exchange-sim", opt, v, 0, 10000, &cfg.fee_bps))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--max-fill-qty")) {
            if (!ht_cli_parse_double("exchange-sim", opt, v, 0, 1e15, &cfg.max_fill_qty))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--mid")) {
            if (!ht_cli_parse_double("exchange-sim", opt, v, 0, 1e15, &cfg.default_mid))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--spread")) {
            if (!ht_cli_parse_double("exchange-sim", opt, v, 1e-12, 1e15, &cfg.default_spread))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--level-qty")) {
            if (!ht_cli_parse_double("exchange-sim", opt, v, 1e-12, 1e15, &cfg.default_level_qty))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--levels")) {
            if (!ht_cli_parse_u64("exchange-sim", opt, v, 1, HT_XSIM_MAX_LEVELS, &u))
                return HT_EXIT_USAGE;
            cfg.default_levels = (uint32_t)u;
        } else if (!strcmp(opt, "--logon-timeout-ms")) {
            if (!ht_cli_parse_u64("exchange-sim", opt, v, 100, 600000, &u))
                return HT_EXIT_USAGE;
            cfg.logon_timeout_ms = (uint32_t)u;
        } else if (!strcmp(opt, "--max-connections")) {
            if (!ht_cli_parse_u64("exchange-sim", opt, v, 1, HT_XSIM_MAX_CONNECTIONS, &u))
                return HT_EXIT_USAGE;
            cfg.max_connections = (uint32_t)u;
        } else if (!strcmp(opt, "--max-bad-messages")) {
            if (!ht_cli_parse_u64("exchange-sim", opt, v, 1, 1000, &u))
                return HT_EXIT_USAGE;
            cfg.max_bad_messages = (uint32_t)u;
        } else if (!strcmp(opt, "--record")) {
            if (!ht_cli_copy("exchange-sim", opt, v, cfg.record_path, sizeof cfg.record_path))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--book-pcap")) {
            book_pcap = v;
        } else if (!strcmp(opt, "--secrets")) {
            secrets = v;
        } else if (!strcmp(opt, "--duration-s")) {
            if (!ht_cli_parse_u64("exchange-sim", opt, v, 1, 86400 * 365, &duration_s))
                return HT_EXIT_USAGE;
        } else {
            return ht_cli_usage_error("exchange-sim", "unknown option '%s'", opt);
        }
    }
    if (secrets) {
        ht_gw_config creds;
        ht_gw_config_defaults(&creds);
        if (ht_gw_secrets_load(&creds, secrets, &err) != 0)
            return ht_cli_fail("exchange-sim", "%s", err.msg);
        memcpy(cfg.client_id, creds.client_id, sizeof cfg.client_id);
        memcpy(cfg.client_secret, creds.client_secret, sizeof cfg.client_secret);
        explicit_bzero(creds.client_secret, sizeof creds.client_secret);
    }
    cfg.log = stderr;
    ht_xsim *x = ht_xsim_create(&cfg, &err);
    if (!x)
        return ht_cli_fail("exchange-sim", "%s", err.msg);
    if (book_pcap) {
        int books = ht_xsim_load_capture(x, book_pcap, &err);
        if (books < 0) {
            ht_xsim_destroy(x);
            return ht_cli_fail("exchange-sim", "%s", err.msg);
        }
        printf("exchange-sim: %d books loaded from %s\n", books, book_pcap);
    }
    printf("exchange-sim: listening on %s:%u as %s\n", cfg.bind_host, ht_xsim_port(x), cfg.comp_id);
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (duration_s) {
        sigaction(SIGALRM, &sa, NULL);
        alarm((unsigned)duration_s);
    }
    ht_xsim_run(x, &g_stop);
    ht_xsim_stats st;
    ht_xsim_get_stats(x, &st);
    printf("exchange-sim: stopped: %llu orders, %llu executions, %llu rejects, filled %.10g; %llu connections "
           "refused, %llu peers closed\n", (unsigned long long)st.orders, (unsigned long long)st.executions,
           (unsigned long long)st.rejects, st.filled_qty, (unsigned long long)st.refused_connections,
           (unsigned long long)st.closed_peers);
    ht_xsim_destroy(x);
    return HT_EXIT_OK;
}

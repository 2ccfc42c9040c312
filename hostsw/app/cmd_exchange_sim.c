/* SPDX-License-Identifier: MIT */
/* `hedgetrig exchange-sim`: runs the exchange simulator (a FIX 4.4 acceptor that fills IOC orders) until stopped. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/gateway.h"
#include "venue_sim.h"

static const char k_xsim_usage[] =
    "usage: hedgetrig exchange-sim [--config CFG] [--host ADDR] [--port N] [--comp-id ID] [--latency-us N]\n"
    "                              [--fee-bps F] [--max-fill-qty Q] [--mid P] [--spread S] [--level-qty Q]\n"
    "                              [--levels N] [--book-pcap FILE] [--record FILE] [--secrets FILE] [--duration-s N]\n"
    "                              [--logon-timeout-ms N] [--max-connections N] [--max-bad-messages N]\n"
    "                              [--script FILE] [--venue-book FILE] [--equity COIN] [--rate-tier TIER]\n"
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
    "\n"
    "The account (one, shared by every session: positions, trades, equity and margins; AN/AP, AD/AQ/AE, BE/BF):\n"
    "  --script FILE    account events, one 'time_s,kind,instrument,qty,price' a line (kinds fill, liquidation,\n"
    "                   settle, disconnect), time_s in seconds since the first logon (docs/gateway.md)\n"
    "  --venue-book FILE the account's positions at the start: a book file ('instrument,qty_contracts' a line)\n"
    "  --equity COIN    the account's starting equity (default 10)\n"
    "  --rate-tier TIER enforce Deribit's rate limits of tier1..tier4 (a request without credit gets\n"
    "                   too_many_requests 10028 and ends its session; default off, or the config's [rate])\n"
    "Exit status: 0 stopped cleanly, 1 a failure (printed), 2 usage error.\n";

static volatile sig_atomic_t g_stop;

/* Signal handler: asks the loop to end. */
static void on_stop_signal(int signo)
{
    (void)signo;
    g_stop = 1;
}

/* The options that are not fields of the simulator's config. */
typedef struct xsim_opts {
    uint64_t duration_s; /* 0: until a signal */
    const char *secrets, *book_pcap;
} xsim_opts;

/* Reads one option whose value is a number into cfg (or opts). False when opt is not such an option; *rc is
 * HT_EXIT_USAGE when its value was bad (already reported). */
static bool parse_number_option(ht_xsim_config *cfg, xsim_opts *opts, const char *opt, const char *v, int *rc)
{
    static const struct {
        const char *opt;
        bool whole;      /* a uint32_t, else a double */
        double min, max; /* the option's range (whole numbers for a uint32_t) */
        size_t off;      /* of the field in ht_xsim_config */
    } numbers[] = {
        {"--latency-us", true, 0, 10000000, offsetof(ht_xsim_config, latency_us)},
        {"--fee-bps", false, 0, 10000, offsetof(ht_xsim_config, fee_bps)},
        {"--max-fill-qty", false, 0, 1e15, offsetof(ht_xsim_config, max_fill_qty)},
        {"--mid", false, 0, 1e15, offsetof(ht_xsim_config, default_mid)},
        {"--spread", false, 1e-12, 1e15, offsetof(ht_xsim_config, default_spread)},
        {"--level-qty", false, 1e-12, 1e15, offsetof(ht_xsim_config, default_level_qty)},
        {"--levels", true, 1, HT_XSIM_MAX_LEVELS, offsetof(ht_xsim_config, default_levels)},
        {"--logon-timeout-ms", true, 100, 600000, offsetof(ht_xsim_config, logon_timeout_ms)},
        {"--max-connections", true, 1, HT_XSIM_MAX_CONNECTIONS, offsetof(ht_xsim_config, max_connections)},
        {"--max-bad-messages", true, 1, 1000, offsetof(ht_xsim_config, max_bad_messages)},
        {"--equity", false, 0, 1e12, offsetof(ht_xsim_config, equity_coin)},
    };
    uint64_t u;
    *rc = HT_EXIT_USAGE;
    for (size_t k = 0; k < HT_ARRAY_LEN(numbers); k++) {
        if (strcmp(opt, numbers[k].opt) != 0)
            continue;
        void *field = (char *)cfg + numbers[k].off;
        if (!numbers[k].whole && ht_cli_parse_double("exchange-sim", opt, v, numbers[k].min, numbers[k].max, field))
            *rc = HT_EXIT_OK;
        else if (numbers[k].whole &&
                 ht_cli_parse_u64("exchange-sim", opt, v, (uint64_t)numbers[k].min, (uint64_t)numbers[k].max, &u))
            *rc = HT_EXIT_OK, *(uint32_t *)field = (uint32_t)u;
        return true;
    }
    if (!strcmp(opt, "--port")) {
        if (ht_cli_parse_u64("exchange-sim", opt, v, 0, 65535, &u))
            *rc = HT_EXIT_OK, cfg->port = (uint16_t)u;
        return true;
    }
    if (!strcmp(opt, "--duration-s")) {
        if (ht_cli_parse_u64("exchange-sim", opt, v, 1, 86400 * 365, &opts->duration_s))
            *rc = HT_EXIT_OK;
        return true;
    }
    *rc = HT_EXIT_OK;
    return false;
}

/* Reads the options over cfg, after the config file (--config, read first wherever it stands, so the options
 * win). HT_EXIT_OK, or HT_EXIT_USAGE after printing what was wrong. */
static int parse_options(int argc, char **argv, ht_xsim_config *cfg, xsim_opts *opts)
{
    ht_error err;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--config") && ht_xsim_config_load(cfg, argv[i + 1], &err) != 0)
            return ht_cli_usage_error("exchange-sim", "%s", err.msg);
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return ht_cli_usage_error("exchange-sim", "%s needs a value", opt);
        const char *v = argv[++i];
        int rc = HT_EXIT_OK;
        if (!strcmp(opt, "--config"))
            continue;
        if (!strcmp(opt, "--host")) {
            if (strlen(v) >= sizeof cfg->bind_host || !ht_xsim_valid_host(v))
                return ht_cli_usage_error("exchange-sim", "--host '%s' is not an IPv4 address (e.g. 127.0.0.1)", v);
            snprintf(cfg->bind_host, sizeof cfg->bind_host, "%s", v);
        } else if (!strcmp(opt, "--comp-id")) {
            ht_error bad;
            if (ht_gw_check_comp_id("--comp-id", v, &bad) != 0)
                return ht_cli_usage_error("exchange-sim", "%s", bad.msg);
            snprintf(cfg->comp_id, sizeof cfg->comp_id, "%s", v);
        } else if (!strcmp(opt, "--record")) {
            if (!ht_cli_copy("exchange-sim", opt, v, cfg->record_path, sizeof cfg->record_path))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--script") || !strcmp(opt, "--venue-book")) {
            char *dst = !strcmp(opt, "--script") ? cfg->script_path : cfg->book_path;
            if (!ht_cli_copy("exchange-sim", opt, v, dst, sizeof cfg->script_path))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--rate-tier")) {
            ht_error bad;
            if (ht_rate_config_tier(&cfg->rate, v, &bad) != 0)
                return ht_cli_usage_error("exchange-sim", "--rate-tier: %s", bad.msg);
            cfg->rate.enforce = true;
        } else if (!strcmp(opt, "--book-pcap")) {
            opts->book_pcap = v;
        } else if (!strcmp(opt, "--secrets")) {
            opts->secrets = v;
        } else if (!parse_number_option(cfg, opts, opt, v, &rc)) {
            return ht_cli_usage_error("exchange-sim", "unknown option '%s'", opt);
        }
        if (rc != HT_EXIT_OK)
            return rc;
    }
    return HT_EXIT_OK;
}

/* Copies the client id and secret of a secrets file into cfg. HT_EXIT_OK or HT_EXIT_FAIL after printing why. */
static int load_secrets(ht_xsim_config *cfg, const char *secrets)
{
    ht_error err;
    ht_gw_config creds;
    ht_gw_config_default(&creds);
    if (ht_gw_secrets_load(&creds, secrets, &err) != 0)
        return ht_cli_fail("exchange-sim", "%s", err.msg);
    memcpy(cfg->client_id, creds.client_id, sizeof cfg->client_id);
    memcpy(cfg->client_secret, creds.client_secret, sizeof cfg->client_secret);
    explicit_bzero(creds.client_secret, sizeof creds.client_secret);
    return HT_EXIT_OK;
}

/* Runs the simulator until a signal or the duration ends, then prints its counts. */
static void serve(ht_xsim *x, const ht_xsim_config *cfg, uint64_t duration_s)
{
    printf("exchange-sim: listening on %s:%u as %s\n", cfg->bind_host, ht_xsim_port(x), cfg->comp_id);
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
    ht_xsim_stats_get(x, &st);
    printf("exchange-sim: stopped: %llu orders, %llu executions, %llu rejects, filled %.10g; %llu connections "
           "refused, %llu peers closed\n", (unsigned long long)st.orders, (unsigned long long)st.executions,
           (unsigned long long)st.rejects, st.filled_qty, (unsigned long long)st.refused_connections,
           (unsigned long long)st.closed_peers);
    printf("exchange-sim: account: %llu script events, %llu position reports, %llu trade reports, %llu user "
           "responses; %llu rate-limit violations, %llu matching-engine changes for %.10g contracts traded\n",
           (unsigned long long)st.script_events, (unsigned long long)st.position_reports,
           (unsigned long long)st.trade_reports, (unsigned long long)st.user_responses,
           (unsigned long long)st.rate_violations, (unsigned long long)st.me_changes, st.volume_contracts);
}

int cmd_exchange_sim(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(k_xsim_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_xsim_config cfg;
    ht_xsim_config_default(&cfg);
    xsim_opts opts = {0};
    int rc = parse_options(argc, argv, &cfg, &opts);
    if (rc == HT_EXIT_OK && opts.secrets)
        rc = load_secrets(&cfg, opts.secrets);
    if (rc != HT_EXIT_OK)
        return rc;
    cfg.log = stderr;
    ht_error err;
    ht_xsim *x = ht_xsim_create(&cfg, &err);
    if (!x)
        return ht_cli_fail("exchange-sim", "%s", err.msg);
    if (opts.book_pcap) {
        int books = ht_xsim_load_capture(x, opts.book_pcap, &err);
        if (books < 0) {
            ht_xsim_destroy(x);
            return ht_cli_fail("exchange-sim", "%s", err.msg);
        }
        printf("exchange-sim: %d books loaded from %s\n", books, opts.book_pcap);
    }
    if (cfg.book_path[0]) {
        int n = ht_setup_venue_book_seed(x, cfg.book_path, &err);
        if (n < 0) {
            ht_xsim_destroy(x);
            return ht_cli_fail("exchange-sim", "--venue-book: %s", err.msg);
        }
        printf("exchange-sim: %d positions from %s\n", n, cfg.book_path);
    }
    serve(x, &cfg, opts.duration_s);
    ht_xsim_destroy(x);
    return HT_EXIT_OK;
}

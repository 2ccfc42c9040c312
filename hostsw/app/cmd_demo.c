/* SPDX-License-Identifier: MIT */
/* hedgetrig demo: the example book hedged on a simulated market, end to end, with its costs, latency and a chart. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "engine_opts.h"
#include "hedgetrig/engine_setup.h"
#include "market_opts.h"

#ifndef HT_SOURCE_DIR
#define HT_SOURCE_DIR "."
#endif

#define DEMO_BOOK HT_SOURCE_DIR "/examples/demo_book.csv"
#define DEMO_STRATEGY "ww:0.25"
#define DEMO_MIN_HALF_WIDTH_COIN 0.05
#define DEMO_SEED 7
#define DEMO_STEPS 3600
/* A macro's value as a string literal (the defaults above, in the usage). */
#define DEMO_TEXT(x) DEMO_TEXT_(x)
#define DEMO_TEXT_(x) #x

static const char *const g_usage =
    "usage: hedgetrig demo [--out DIR] [options]\n"
    "\n"
    "Hedges the example book (examples/demo_book.csv: short near-dated BTC straddles, long wings) on an hour of\n"
    "simulated market: sim/market publishes the Deribit multicast SBE packets the real decoder reads, the\n"
    "pipeline (C model) tracks the book's net delta on every index tick, the optimizer places a cost-aware\n"
    "Whalley-Wilmott band and sizes the hedges, the FIX gateway sends them to the exchange simulator on\n"
    "loopback, and the fills come back into the hedge inventory. Needs no arguments; prints the summary (the\n"
    "net delta with and without hedging, the costs) and the latency per stage, and writes into DIR:\n"
    "events.csv (breaches, decisions, orders, fills), series.csv (net delta and band per tick), latency.csv, and\n"
    "demo.png (net delta and band over time with the hedges marked) when gnuplot is installed.\n"
    "\n"
    "  --out DIR               where the files go (default ./hedgetrig-demo)\n" HT_VENUE_SIM_USAGE HT_ENGINE_USAGE(
        DEMO_STRATEGY, DEMO_TEXT(DEMO_MIN_HALF_WIDTH_COIN)) HT_MARKET_USAGE(DEMO_TEXT(DEMO_SEED), DEMO_TEXT(DEMO_STEPS))
    "\n"
    "Exit status: 0 ok, 1 the run failed (the reason is printed), 2 usage error.\n";

static volatile sig_atomic_t g_stop;

/* SIGINT/SIGTERM: stop the market and shut down cleanly. */
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Creates a folder (and accepts one that exists). */
static int make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

/* True when gnuplot can be run. */
static bool have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* Draws demo.png from series.csv with gnuplot: net delta, band and hedges on top; index and the unhedged net
 * delta below. Returns 0 when the file was written. */
static int plot(const char *dir)
{
    char script[1024], png[1024], series[1024], cmd[1200];
    snprintf(png, sizeof png, "%s/demo.png", dir);
    snprintf(series, sizeof series, "%s/series.csv", dir);
    snprintf(script, sizeof script, "%s/demo.gp", dir);
    FILE *f = fopen(script, "w");
    if (!f)
        return -1;
    fprintf(f,
            "set terminal pngcairo size 1400,900 font 'sans,10'\n"
            "set output '%s'\n"
            "set datafile separator ','\n"
            "set key top left opaque\n"
            "set grid\n"
            "stats '%s' using 1 nooutput\n" /* time_s is Unix time: minutes since the first row */
            "t0 = STATS_min\n"
            "set multiplot layout 2,1 title 'hedgetrig demo: the example book hedged on a simulated BTC market'\n"
            "set ylabel 'net delta (BTC)'\n"
            "plot '%s' using (($1-t0)/60):6 with lines lc rgb '#999999' dt 2 title 'band', \\\n"
            "     '' using (($1-t0)/60):7 with lines lc rgb '#999999' dt 2 notitle, \\\n"
            "     '' using (($1-t0)/60):5 with lines lc rgb '#1f77b4' title 'net delta (hedged)', \\\n"
            "     '' using (($1-t0)/60):($9 != 0 ? $4 : 1/0) with points pt 7 ps 0.6 lc rgb '#d62728' title 'hedge'\n"
            "set xlabel 'minutes'\n"
            "set ylabel 'index (USD)'\n"
            "set y2label 'net delta without hedging (BTC)'\n"
            "set y2tics\n"
            "set ytics nomirror\n"
            "plot '%s' using (($1-t0)/60):3 with lines lc rgb '#2ca02c' title 'BTC index', \\\n"
            "     '' using (($1-t0)/60):8 axes x1y2 with lines lc rgb '#ff7f0e' title 'net delta without hedging'\n"
            "unset multiplot\n",
            png, series, series, series);
    fclose(f);
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", script);
    int rc = system(cmd);
    remove(script);
    return rc == 0 ? 0 : -1;
}

int cmd_demo(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_setup_config setup;
    ht_setup_config_default(&setup);
    ht_engine_config *const cfg = &setup.engine;
    snprintf(cfg->book_path, sizeof cfg->book_path, "%s", DEMO_BOOK);
    snprintf(cfg->strategy, sizeof cfg->strategy, "%s", DEMO_STRATEGY);
    cfg->min_half_width_coin = DEMO_MIN_HALF_WIDTH_COIN;
    ht_mkt_config mc;
    ht_mkt_config_default(&mc);
    mc.seed = DEMO_SEED;
    mc.steps = DEMO_STEPS;
    const char *out = "hedgetrig-demo";
    bool json = false;
    for (int i = 1; i < argc; i++) {
        int r = ht_engine_opt_parse("demo", argc, argv, &i, &setup, &json);
        if (r == 0)
            r = ht_market_opt_parse("demo", argc, argv, &i, &mc);
        if (r == 0)
            r = ht_venue_sim_opt_parse("demo", argc, argv, &i, &setup);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            return ht_cli_unknown("demo", argv[i], g_usage);
    }
    if (mc.steps == 0)
        return ht_cli_usage_error("demo", "--steps must be > 0: the demo runs a bounded market");
    if (strlen(out) + sizeof "/events.csv" > sizeof cfg->event_log)
        return ht_cli_usage_error("demo", "--out: at most %zu bytes", sizeof cfg->event_log - sizeof "/events.csv");
    if (!ht_cli_output_ok("demo", "--out", out, true))
        return HT_EXIT_FAIL;
    if (make_dir(out) != 0)
        return ht_cli_fail("demo", "%s: cannot create the output folder: %s", out, strerror(errno));
    if (!cfg->event_log[0])
        snprintf(cfg->event_log, sizeof cfg->event_log, "%s/events.csv", out);
    if (!cfg->series_path[0])
        snprintf(cfg->series_path, sizeof cfg->series_path, "%s/series.csv", out);
    cfg->venue = HT_ENGINE_VENUE_SIM;
    cfg->source = HT_ENGINE_SOURCE_MARKET;
    setup.market = mc;
    cfg->threads = false;
    ht_error err;
    if (ht_setup_config_check(&setup, &err) != 0)
        return ht_cli_usage_error("demo", "%s", err.msg);
    ht_mkt *m = ht_mkt_create(&mc, &err);
    if (!m)
        return ht_cli_usage_error("demo", "%s", err.msg);
    if (!json)
        printf("hedgetrig demo: %s hedged with %s on %llu s of simulated BTC market (seed %llu),\n"
               "  %s pipeline, orders over FIX 4.4 to the exchange simulator on loopback\n\n",
               cfg->book_path, cfg->strategy, (unsigned long long)(mc.steps * mc.step_ms / 1000),
               (unsigned long long)mc.seed, ht_pipe_backend_name(cfg->backend));
    ht_engine *e = ht_setup_engine_create(cfg, &setup.xsim, &err);
    if (!e) {
        ht_mkt_destroy(m);
        return ht_cli_fail("demo", "%s", err.msg);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = ht_setup_run_market(e, m, &g_stop, &err);
    if (json)
        ht_engine_write_json(e, stdout);
    else
        ht_engine_print_report(e, stdout);
    char path[512];
    snprintf(path, sizeof path, "%s/latency.csv", out);
    FILE *lat = fopen(path, "w");
    if (lat) {
        ht_profile_write_csv(ht_engine_profile(e), lat);
        fclose(lat);
    }
    ht_engine_destroy(e);
    ht_mkt_destroy(m);
    if (rc != 0)
        return ht_cli_fail("demo", "%s", err.msg);
    if (!json) {
        printf("\nwrote %s/events.csv (breaches, decisions, orders, fills), %s/series.csv, %s/latency.csv\n", out,
               out, out);
        if (!have_gnuplot())
            printf("gnuplot is not installed: no chart (apt-get install gnuplot-nox)\n");
        else if (plot(out) == 0)
            printf("chart: %s/demo.png (net delta and band over time, hedges marked)\n", out);
        else
            printf("gnuplot failed: no chart\n");
    }
    return HT_EXIT_OK;
}

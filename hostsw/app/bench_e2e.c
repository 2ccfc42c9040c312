/* SPDX-License-Identifier: MIT */
/* The end-to-end benchmark scenarios: the real capture and a synthetic stream through the whole path, the fast
 * half's throughput, and the QuantLib peer comparison; a report in text, CSV and gnuplot CDFs. */
#define _GNU_SOURCE
#include "bench_e2e.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "hedgetrig/engine_setup.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/profile.h"
#include "hedgetrig/tsc.h"

#ifndef HT_DERIBIT_DIR
#define HT_DERIBIT_DIR "../shared/data/deribit"
#endif
#ifndef HT_SOURCE_DIR
#define HT_SOURCE_DIR "."
#endif

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"
#define CAPTURE_BOOK HT_SOURCE_DIR "/examples/book_deribit_sample.csv"
#define DEMO_BOOK HT_SOURCE_DIR "/examples/demo_book.csv"
#define TARGET_P50_NS 1000
#define TARGET_P99_NS 3000
#define TARGET_TICKS_PER_S 2e6

static void synthetic_market(ht_mkt_config *mc, uint64_t ticks, bool quiet);

static const char *const k_scenarios[] = {"capture", "synthetic", "throughput", "peer"};

/* The report being written: stdout and report.txt, latency.csv. */
typedef struct report {
    FILE *txt, *csv;
    bool quiet;       /* --json: the text goes to report.txt only */
    bool json_first;  /* no scenario in the JSON object yet */
    const char *dir;
    char cdf_files[8][64];
    char cdf_titles[8][64];
    unsigned n_cdf;
} report;

void ht_bench_opts_default(ht_bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->out = "bench-report";
    o->repeat = 20;
    o->ticks = 1000000;
    o->backend = HT_PIPE_BACKEND_SW;
}

bool ht_bench_scenario_known(const char *name)
{
    for (size_t i = 0; i < HT_ARRAY_LEN(k_scenarios); i++)
        if (strcmp(name, k_scenarios[i]) == 0)
            return true;
    return false;
}

/* Prints to stdout and the report file. */
static void say(report *r, const char *fmt, ...) HT_PRINTF(2, 3);
static void say(report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!r->quiet)
        vprintf(fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    vfprintf(r->txt, fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* Writes a scenario's profile: the table (both outputs), CSV rows, and the CDF of tick->order and tick->pipe_out. */
static void write_profile(report *r, const char *scenario, const ht_profile *p)
{
    if (!r->quiet)
        ht_profile_print(p, stdout);
    ht_profile_print(p, r->txt);
    static const double qs[] = {0.5, 0.9, 0.99, 0.999, 1.0};
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++) {
        const ht_hist *h = &p->span[s];
        if (!h->count)
            continue;
        fprintf(r->csv, "%s,%s,%" PRIu64, scenario, ht_span_name((ht_span)s), h->count);
        for (size_t q = 0; q < HT_ARRAY_LEN(qs); q++)
            fprintf(r->csv, ",%" PRIu64, ht_hist_quantile(h, qs[q]));
        fprintf(r->csv, ",%.1f\n", ht_hist_mean(h));
    }
    static const ht_span spans[] = {HT_SPAN_TICK_TO_ORDER, HT_SPAN_TICK_TO_PIPE_OUT};
    for (size_t k = 0; k < HT_ARRAY_LEN(spans) && r->n_cdf < HT_ARRAY_LEN(r->cdf_files); k++) {
        const ht_hist *h = &p->span[spans[k]];
        if (!h->count)
            continue;
        char path[1024];
        snprintf(r->cdf_files[r->n_cdf], sizeof r->cdf_files[0], "cdf_%s_%s.dat", scenario,
                 spans[k] == HT_SPAN_TICK_TO_ORDER ? "tick_to_order" : "tick_to_pipe_out");
        snprintf(r->cdf_titles[r->n_cdf], sizeof r->cdf_titles[0], "%s: %s", scenario, ht_span_name(spans[k]));
        snprintf(path, sizeof path, "%s/%s", r->dir, r->cdf_files[r->n_cdf]);
        FILE *f = fopen(path, "w");
        if (f) {
            ht_hist_write_cdf(h, f);
            fclose(f);
            r->n_cdf++;
        }
    }
}

/* Says whether tick->order meets the targets. */
static void verdict(report *r, const ht_profile *p)
{
    const ht_hist *h = &p->span[HT_SPAN_TICK_TO_ORDER];
    if (!h->count) {
        say(r, "tick->order: no order in this run\n");
        return;
    }
    uint64_t p50 = ht_hist_quantile(h, 0.5), p99 = ht_hist_quantile(h, 0.99);
    say(r, "tick->order over %" PRIu64 " orders: p50 %" PRIu64 " ns (target <= %d: %s), p99 %" PRIu64
           " ns (target <= %d: %s)\n",
        h->count, p50, TARGET_P50_NS, p50 <= TARGET_P50_NS ? "met" : "MISSED", p99, TARGET_P99_NS,
        p99 <= TARGET_P99_NS ? "met" : "MISSED");
}

/* Adds every span of src into dst. */
static void merge(ht_profile *dst, const ht_profile *src)
{
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++)
        ht_hist_merge(&dst->span[s], &src->span[s]);
}

void ht_bench_capture_config(const ht_bench_opts *o, ht_engine_config *cfg)
{
    ht_engine_config_default(cfg);
    snprintf(cfg->book_path, sizeof cfg->book_path, "%s", CAPTURE_BOOK);
    snprintf(cfg->strategy, sizeof cfg->strategy, "fixed:0.005");
    cfg->min_half_width_coin = 0.001;
    cfg->synthetic_book = true;
    cfg->backend = o->backend;
}

void ht_bench_synthetic_config(const ht_bench_opts *o, ht_engine_config *cfg)
{
    ht_engine_config_default(cfg);
    snprintf(cfg->book_path, sizeof cfg->book_path, "%s", DEMO_BOOK);
    snprintf(cfg->strategy, sizeof cfg->strategy, "ww:1");
    cfg->min_half_width_coin = 0.02;
    cfg->backend = o->backend;
    cfg->check = false;
}

void ht_bench_synthetic_market(ht_mkt_config *mc, uint64_t ticks)
{
    synthetic_market(mc, ticks, false);
}

/* Pre-armed against unarmed on one scenario: both profiles, the arming counters, and the JSON entry. */
static int compare_unarmed(const ht_bench_opts *o, report *r, const char *scenario)
{
    say(r, "\n== %s, pre-armed hedges against the full decision, interleaved (%s pipeline)\n", scenario,
        ht_pipe_backend_name(o->backend));
    ht_bench_armed_result res;
    ht_error err = {{0}};
    int rc = strcmp(scenario, "capture") == 0 ? ht_bench_armed_capture(o, &res, &err)
                                                : ht_bench_armed_synthetic(o, &res, &err);
    if (rc != 0) {
        say(r, "%s: %s\n", scenario, err.msg);
        if (o->json)
            fprintf(stderr, "bench: %s: %s\n", scenario, err.msg);
        return -1;
    }
    static const char *const mode[2] = {"unarmed", "armed"};
    uint64_t p50[2], p99[2];
    for (int m = 1; m >= 0; m--) {
        const ht_engine_report *x = &res.rep[m];
        char name[64];
        snprintf(name, sizeof name, "%s_%s", scenario, mode[m]);
        say(r, "%s: %" PRIu64 " ticks, %" PRIu64 " breaches, %" PRIu64 " orders; fired %" PRIu64 " (%" PRIu64
               " adjusted), fallbacks %" PRIu64 ", mismatches %" PRIu64 "\n",
            mode[m], x->ticks, x->breaches, x->orders, x->armed_fired, x->armed_adjusted, x->armed_fallbacks,
            x->armed_mismatches);
        write_profile(r, name, res.prof[m]);
        const ht_hist *h = &res.prof[m]->span[HT_SPAN_TICK_TO_ORDER];
        p50[m] = ht_hist_quantile(h, 0.5);
        p99[m] = ht_hist_quantile(h, 0.99);
    }
    say(r, "tick->order p50 armed %" PRIu64 " ns, unarmed %" PRIu64 " ns: %.2fx; p99 %" PRIu64 " / %" PRIu64 " ns\n",
        p50[1], p50[0], p50[0] ? (double)p50[1] / (double)p50[0] : 0.0, p99[1], p99[0]);
    if (o->json) {
        const ht_engine_report *a = &res.rep[1];
        printf("%s\"%s\":{\"tick_to_order_ns\":{", r->json_first ? "" : ",", scenario);
        for (int m = 1; m >= 0; m--)
            printf("%s\"%s\":{\"count\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 "}", m == 1 ? "" : ",",
                   mode[m], res.prof[m]->span[HT_SPAN_TICK_TO_ORDER].count, p50[m], p99[m]);
        printf("},\"breaches\":{\"armed\":%" PRIu64 ",\"unarmed\":%" PRIu64 "},\"orders\":{\"armed\":%" PRIu64
               ",\"unarmed\":%" PRIu64 "},\"fired\":%" PRIu64 ",\"adjusted\":%" PRIu64 ",\"fallbacks\":%" PRIu64
               ",\"mismatches\":%" PRIu64 ",\"fallback_reasons\":{",
               a->breaches, res.rep[0].breaches, a->orders, res.rep[0].orders, a->armed_fired, a->armed_adjusted,
               a->armed_fallbacks, a->armed_mismatches);
        for (unsigned k = 0; k < HT_ARRAY_LEN(a->armed_fallback_by_reason); k++)
            printf("%s\"%s\":%" PRIu64, k ? "," : "", ht_engine_arm_fallback_name((ht_engine_arm_fallback)k),
                   a->armed_fallback_by_reason[k]);
        printf("}}");
        r->json_first = false;
    }
    ht_bench_armed_result_free(&res);
    return 0;
}

/* The capture, replayed o->repeat times with a tight band and the synthetic hedge book. */
static int scenario_capture(const ht_bench_opts *o, report *r)
{
    say(r, "\n== capture: %s replayed %u times end to end (book %s, band fixed:0.005, %s pipeline)\n", CAPTURE,
        o->repeat, CAPTURE_BOOK, ht_pipe_backend_name(o->backend));
    ht_profile *all = ht_profile_create();
    if (!all)
        return -1;
    ht_engine_report sum = {0};
    int rc = 0;
    for (unsigned k = 0; k < o->repeat && rc == 0; k++) {
        ht_engine_config cfg;
        ht_bench_capture_config(o, &cfg);
        ht_error err;
        ht_nic_config nc;
        ht_nic_config_default(&nc);
        nc.path = CAPTURE;
        ht_nic *nic = ht_nic_open(&nc, &err);
        ht_engine *e = nic ? ht_setup_engine_create(&cfg, NULL, &err) : NULL;
        if (!e || ht_engine_run_nic(e, nic, NULL, &err) != 0) {
            say(r, "capture: %s\n", err.msg);
            rc = -1;
        } else {
            ht_engine_report rep;
            ht_engine_get_report(e, &rep);
            sum.ticks += rep.ticks;
            sum.breaches += rep.breaches;
            sum.orders += rep.orders;
            sum.fills += rep.fills;
            sum.check_mismatches += rep.check_mismatches;
            merge(all, ht_engine_profile(e));
        }
        ht_engine_destroy(e);
        ht_nic_close(nic);
    }
    if (rc == 0) {
        say(r, "%" PRIu64 " ticks, %" PRIu64 " breaches, %" PRIu64 " orders, %" PRIu64 " fills, %" PRIu64
               " pipeline/double disagreements\n",
            sum.ticks, sum.breaches, sum.orders, sum.fills, sum.check_mismatches);
        write_profile(r, "capture", all);
        verdict(r, all);
    }
    ht_profile_destroy(all);
    return rc;
}

/* The market simulator's settings for the long synthetic runs: the demo book's instruments, ticks every 50 ms
 * (a million ticks stay within the day before the nearest expiry), few option tickers (the index is what is
 * measured), no snapshot after the first. */
static void synthetic_market(ht_mkt_config *mc, uint64_t ticks, bool quiet)
{
    ht_mkt_config_default(mc);
    mc->seed = 21;
    mc->steps = ticks;
    mc->step_ms = ticks <= 1500000 ? 50 : 1;
    mc->option_ticker_every = quiet ? 1000000000u : 50;
    mc->future_every = quiet ? 1000u : 1;
    mc->snapshot_every = 0;
    mc->trade_prob = quiet ? 0.0 : 0.1;
    mc->vol = 0.8;
}

/* The synthetic stream end to end: every breach decided and hedged through the gateway. */
static int scenario_synthetic(const ht_bench_opts *o, report *r)
{
    ht_mkt_config mc;
    synthetic_market(&mc, o->ticks, false);
    say(r, "\n== synthetic: %" PRIu64 " index ticks of the market simulator end to end (book %s, band ww:1, %s pipeline)\n",
        o->ticks, DEMO_BOOK, ht_pipe_backend_name(o->backend));
    ht_engine_config cfg;
    ht_bench_synthetic_config(o, &cfg);
    ht_error err;
    ht_mkt *m = ht_mkt_create(&mc, &err);
    ht_engine *e = m ? ht_setup_engine_create(&cfg, NULL, &err) : NULL;
    int rc = 0;
    if (!e || ht_setup_run_market(e, m, NULL, &err) != 0) {
        say(r, "synthetic: %s\n", err.msg);
        rc = -1;
    } else {
        ht_engine_report rep;
        ht_engine_get_report(e, &rep);
        say(r, "%" PRIu64 " ticks, %" PRIu64 " breaches, %" PRIu64 " orders, %" PRIu64 " fills; %.1f s wall\n",
            rep.ticks, rep.breaches, rep.orders, rep.fills, rep.wall_s);
        write_profile(r, "synthetic", ht_engine_profile(e));
        verdict(r, ht_engine_profile(e));
    }
    ht_engine_destroy(e);
    ht_mkt_destroy(m);
    return rc;
}

/* One throughput run: threads on (the fast half's own core) or off (everything in one thread). */
static int throughput_run(const ht_bench_opts *o, report *r, bool threads)
{
    ht_mkt_config mc;
    synthetic_market(&mc, o->ticks, true);
    ht_engine_config cfg;
    ht_engine_config_default(&cfg);
    snprintf(cfg.book_path, sizeof cfg.book_path, "%s", DEMO_BOOK);
    snprintf(cfg.strategy, sizeof cfg.strategy, "fixed:1000");
    cfg.backend = o->backend;
    cfg.threads = threads;
    cfg.check = false;
    cfg.ring_bytes = 1u << 26;
    ht_error err;
    ht_mkt *m = ht_mkt_create(&mc, &err);
    ht_engine *e = m ? ht_setup_engine_create(&cfg, NULL, &err) : NULL;
    int rc = 0;
    if (!e || ht_setup_run_market(e, m, NULL, &err) != 0) {
        say(r, "throughput: %s\n", err.msg);
        rc = -1;
    } else {
        ht_engine_report rep;
        ht_engine_get_report(e, &rep);
        const ht_hist *h = &ht_engine_profile(e)->span[HT_SPAN_TICK_TO_PIPE_OUT];
        uint64_t lost = rep.pipeline_ticks - rep.ticks + rep.messages_dropped;
        if (threads) {
            say(r, "%-46s %10" PRIu64 " %10" PRIu64 " %12.0f %7s %6" PRIu64 " %8" PRIu64 "\n",
                "fast half on its own thread (live mode)", o->ticks, rep.pipeline_ticks, rep.fast_ticks_per_s,
                rep.fast_ticks_per_s >= TARGET_TICKS_PER_S ? "met" : "MISSED", lost, ht_hist_quantile(h, 0.5));
        } else {
            say(r, "%-46s %10" PRIu64 " %10" PRIu64 " %12.0f %7s %6" PRIu64 " %8" PRIu64 "\n",
                "both halves in one thread (replay mode)", o->ticks, rep.pipeline_ticks, rep.ticks_per_s,
                rep.ticks_per_s >= TARGET_TICKS_PER_S ? "met" : "MISSED", lost, ht_hist_quantile(h, 0.5));
            say(r, "%-46s %10s %10s %12.0f %7s\n", "  of which the fast half (slow half's time out)", "", "",
                rep.fast_ticks_per_s, rep.fast_ticks_per_s >= TARGET_TICKS_PER_S ? "met" : "MISSED");
        }
    }
    ht_engine_destroy(e);
    ht_mkt_destroy(m);
    return rc;
}

/* Ticks per second through the fast half alone and through the whole engine in one thread. */
static int scenario_throughput(const ht_bench_opts *o, report *r)
{
    say(r, "\n== throughput: %" PRIu64 " index ticks, one 1008 message a packet (the perpetual's ticker and book every "
           "1000 ticks), %s pipeline, band never reached\n",
        o->ticks, ht_pipe_backend_name(o->backend));
    say(r, "ticks/s: ticks over the time spent inside packet processing (the simulator's own time excluded);\n"
           "pushed: ticks through the pipeline once hedging started (the first ones arm the engine); lost: ticks pushed\n"
           "by the fast half that the slow half did not see, plus messages dropped between the halves\n");
    say(r, "%-46s %10s %10s %12s %7s %6s %8s\n", "run", "generated", "pushed", "ticks/s", ">= 2M", "lost",
        "p50 ns");
    int rc = throughput_run(o, r, true);
    if (rc == 0)
        rc = throughput_run(o, r, false);
    return rc;
}

/* Runs the QuantLib peer comparison program (bench/e2e/bench_peer) and copies its output into the report. */
static int scenario_peer(const ht_bench_opts *o, report *r)
{
    (void)o;
    say(r, "\n== peer: hedgetrig's net-delta update vs a full QuantLib reprice of the same book, per tick\n");
#ifdef HT_BENCH_PEER
    if (access(HT_BENCH_PEER, X_OK) != 0) {
        say(r, "peer: %s is not built (cmake --build --preset default --target bench_peer)\n", HT_BENCH_PEER);
        return -1;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' 2>&1", HT_BENCH_PEER);
    FILE *p = popen(cmd, "r");
    if (!p) {
        say(r, "peer: cannot run %s\n", HT_BENCH_PEER);
        return -1;
    }
    char line[512];
    while (fgets(line, sizeof line, p))
        say(r, "%s", line);
    int st = pclose(p);
    if (st != 0) {
        say(r, "peer: %s failed (status %d)\n", HT_BENCH_PEER, st);
        return -1;
    }
    return 0;
#else
    say(r, "peer: not built (QuantLib was not found at configure time: apt-get install libquantlib0-dev)\n");
    return -1;
#endif
}

/* Draws latency_cdf.png from the CDF files with gnuplot (when installed). */
static void plot_cdfs(report *r)
{
    if (r->n_cdf == 0 || system("command -v gnuplot >/dev/null 2>&1") != 0)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/latency_cdf.gp", r->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "set terminal pngcairo size 1200,700 font 'sans,10' noenhanced\nset output 'latency_cdf.png'\n"
               "set logscale x\nset grid\nset key bottom right\nset xlabel 'latency (ns)'\n"
               "set ylabel 'fraction of ticks at or below'\nset yrange [0:1]\n"
               "set title 'hedgetrig latency CDFs (software mode, in-process)'\nplot ");
    for (unsigned i = 0; i < r->n_cdf; i++)
        fprintf(f, "%s'%s' using 1:2 with steps lw 2 title '%s'", i ? ", " : "", r->cdf_files[i], r->cdf_titles[i]);
    fprintf(f, "\n");
    fclose(f);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot latency_cdf.gp 2>&1", r->dir);
    if (system(cmd) == 0)
        say(r, "\nlatency CDFs: %s/latency_cdf.png\n", r->dir);
}

int ht_bench_run(const ht_bench_opts *o)
{
    if (mkdir(o->out, 0755) != 0 && errno != EEXIST)
        return ht_cli_fail("bench", "%s: cannot create the report folder: %s", o->out, strerror(errno));
    report r = {0};
    r.dir = o->out;
    r.quiet = o->json;
    r.json_first = true;
    char path[1024];
    snprintf(path, sizeof path, "%s/report.txt", o->out);
    r.txt = fopen(path, "w");
    snprintf(path, sizeof path, "%s/latency.csv", o->out);
    r.csv = fopen(path, "w");
    if (!r.txt || !r.csv) {
        if (r.txt)
            fclose(r.txt);
        if (r.csv)
            fclose(r.csv);
        return ht_cli_fail("bench", "%s: cannot write the report", o->out);
    }
    fprintf(r.csv, "scenario,span,count,p50_ns,p90_ns,p99_ns,p99.9_ns,max_ns,mean_ns\n");
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    say(&r, "hedgetrig bench on %s: %ld CPUs online, TSC %.3f GHz; replay mode (one thread) unless said\n", host,
        sysconf(_SC_NPROCESSORS_ONLN), ht_tsc_ticks_per_ns());
    const char *const *list = o->n_scenarios ? o->scenarios : k_scenarios;
    if (o->json)
        printf("{\"machine\":{\"cpus\":%ld,\"tsc_ghz\":%.3f},\"scenarios\":{", sysconf(_SC_NPROCESSORS_ONLN),
               ht_tsc_ticks_per_ns());
    unsigned n = o->n_scenarios ? o->n_scenarios : (unsigned)HT_ARRAY_LEN(k_scenarios);
    int failures = 0;
    for (unsigned i = 0; i < n; i++) {
        int rc = 0;
        if (o->compare_unarmed && (strcmp(list[i], "capture") == 0 || strcmp(list[i], "synthetic") == 0))
            rc = compare_unarmed(o, &r, list[i]);
        else if (strcmp(list[i], "capture") == 0)
            rc = scenario_capture(o, &r);
        else if (strcmp(list[i], "synthetic") == 0)
            rc = scenario_synthetic(o, &r);
        else if (strcmp(list[i], "throughput") == 0)
            rc = scenario_throughput(o, &r);
        else if (strcmp(list[i], "peer") == 0)
            rc = scenario_peer(o, &r);
        failures += rc != 0;
    }
    if (o->json) {
        double load[3] = {0};
        printf("},\"load_average\":[%.2f,%.2f,%.2f],\"failures\":%d}\n", getloadavg(load, 3) == 3 ? load[0] : -1.0,
               load[1], load[2], failures);
    }
    fclose(r.csv);
    plot_cdfs(&r);
    say(&r, "\nreport: %s/report.txt, %s/latency.csv\n", o->out, o->out);
    fclose(r.txt);
    return failures ? HT_EXIT_FAIL : HT_EXIT_OK;
}

/* SPDX-License-Identifier: MIT */
/* End to end: the real capture and the simulated market through feed, pipeline, optimizer, gateway and the
 * exchange simulator. Checks determinism (two runs, two pipeline backends, a file and the in-process market
 * give the same event log byte for byte), every breach against the net delta in double, the orders against
 * the venue's own record, the fills against the hedge position, and the book kept inside its band. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/engine.h"
#include "hedgetrig/market_sim.h"
#include "hedgetrig/nic.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"
#define CAPTURE_BOOK HT_SOURCE_DIR "/examples/book_deribit_sample.csv"
#define DEMO_BOOK HT_SOURCE_DIR "/examples/demo_book.csv"
#define TMP HT_TEST_TMPDIR

/* Reads a whole file (NUL-terminated); NULL when it cannot. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

/* Counts the event-log lines whose event column is `event`. */
static unsigned count_events(const char *log, const char *event)
{
    char pat[64];
    snprintf(pat, sizeof pat, ",%s,", event);
    unsigned n = 0;
    for (const char *p = log; (p = strstr(p, pat)) != NULL; p++)
        n++;
    return n;
}

/* The config of the capture replays: the example book, a tight fixed band, the synthetic hedge book (the sample
 * capture's own perpetual book holds 10-20 USD levels, too thin to hedge a book of this size). */
static void capture_config(ht_engine_config *cfg, const char *log, ht_pipe_backend backend)
{
    ht_engine_config_default(cfg);
    snprintf(cfg->book_path, sizeof cfg->book_path, "%s", CAPTURE_BOOK);
    snprintf(cfg->strategy, sizeof cfg->strategy, "fixed:0.05");
    cfg->min_half_width_coin = 0.001;
    cfg->synthetic_book = true;
    cfg->backend = backend;
    snprintf(cfg->event_log, sizeof cfg->event_log, "%s", log);
}

/* Replays a file through an engine; fills *rep. */
static void replay_file(const ht_engine_config *cfg, ht_nic_kind via, ht_engine_report *rep)
{
    ht_error err;
    ht_nic_config nc;
    ht_nic_config_default(&nc);
    nc.kind = via;
    nc.path = CAPTURE;
    char eal[1024];
    if (via == HT_NIC_DPDK) {
        snprintf(eal, sizeof eal, "--no-huge --no-pci --no-shconf -m 128 --log-level=*:error --vdev=net_pcap0,rx_pcap=%s",
                 CAPTURE);
        nc.eal_args = eal;
        nc.idle_eof_ms = 500;
    }
    ht_nic *nic = ht_nic_open(&nc, &err);
    if (!nic)
        print_error("%s\n", err.msg);
    assert_non_null(nic);
    ht_engine *e = ht_engine_create(cfg, &err);
    if (!e)
        print_error("%s\n", err.msg);
    assert_non_null(e);
    int rc = ht_engine_run_nic(e, nic, NULL, &err);
    if (rc != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    ht_engine_get_report(e, rep);
    ht_engine_destroy(e);
    ht_nic_close(nic);
}

/* The real capture, twice: the same event log byte for byte; each breach agrees with the double; every order
 * the engine logged is the one the venue recorded; the fills add up to the hedge position's change. */
static void test_capture_deterministic(void **state)
{
    (void)state;
    ht_engine_config cfg;
    ht_engine_report a, b;
    capture_config(&cfg, TMP "/capture_a.csv", HT_PIPE_BACKEND_SW);
    snprintf(cfg.xsim.record_path, sizeof cfg.xsim.record_path, "%s", TMP "/capture_venue.csv");
    remove(TMP "/capture_venue.csv");
    replay_file(&cfg, HT_NIC_PCAP, &a);
    capture_config(&cfg, TMP "/capture_b.csv", HT_PIPE_BACKEND_SW);
    replay_file(&cfg, HT_NIC_PCAP, &b);

    char *la = slurp(TMP "/capture_a.csv", NULL), *lb = slurp(TMP "/capture_b.csv", NULL);
    assert_non_null(la);
    assert_non_null(lb);
    assert_string_equal(la, lb);
    assert_true(a.armed);
    assert_int_equal(a.ticks, b.ticks);
    assert_int_equal(a.breaches, b.breaches);
    assert_int_equal(a.orders, b.orders);
    assert_int_equal(a.fills, b.fills);
    assert_true(a.cost_usd == b.cost_usd);
    /* The capture's btc_usd index ticks about once a second: 77 updates, the first ones before the book's
     * instruments are announced. */
    assert_true(a.ticks >= 40 && a.ticks <= 77);
    assert_true(a.breaches > 0);
    assert_true(a.orders > 0 && a.fills > 0);
    assert_int_equal(a.check_mismatches, 0);
    assert_int_equal(count_events(la, "breach"), a.breaches);
    assert_int_equal(count_events(la, "order"), a.orders);
    assert_int_equal(count_events(la, "fill"), a.fills);
    assert_int_equal(count_events(la, "check_mismatch"), 0);
    /* Kept inside the band: the held net delta never sat outside it. */
    assert_true(a.hedged.time_outside_s == 0.0);
    assert_true(a.unhedged.time_outside_s > 0.0);

    /* The venue's record (one line per order it received) against the engine's log. */
    char *venue = slurp(TMP "/capture_venue.csv", NULL);
    assert_non_null(venue);
    unsigned venue_orders = 0;
    double venue_signed_qty = 0;
    for (char *line = strtok(venue, "\n"); line; line = strtok(NULL, "\n")) {
        char client[64], clordid[64], symbol[64], side[16], status[16];
        unsigned long seq;
        double qty, px;
        if (sscanf(line, "%63[^,],%lu,%63[^,],%63[^,],%15[^,],%lf,%lf,%15s", client, &seq, clordid, symbol, side,
                   &qty, &px, status) != 8)
            continue;
        assert_string_equal(symbol, "BTC-PERPETUAL");
        assert_string_equal(status, "filled");
        venue_orders++;
        venue_signed_qty += (strcmp(side, "buy") == 0 || strcmp(side, "1") == 0 ? 1 : -1) * qty;
    }
    assert_int_equal(venue_orders, a.orders);
    /* Every order filled in full here (deep synthetic book): the position moved by exactly what was sent.
     * Venue quantities are contracts of 10 USD, the report's in USD. */
    double moved = 0;
    for (const char *p = la; (p = strstr(p, ",fill,")) != NULL; p++) {
        const char *f = p;
        for (int commas = 0; commas < 9 && f; commas++)
            f = strchr(f + 1, ',');
        assert_non_null(f);
        char side[8] = "";
        double qty = 0;
        sscanf(f + 1, "%7[^,],%lf", side, &qty);
        moved += (strcmp(side, "buy") == 0 ? 1 : -1) * qty;
    }
    assert_true(fabs(moved - venue_signed_qty * 10.0) < 1e-6);
    free(venue);
    free(la);
    free(lb);
}

/* Sums the USD amounts of the log's lines of one event (order or refused); *first gets the first one. */
static double sum_amounts(const char *log, const char *event, unsigned *n, double *first)
{
    char pat[32];
    snprintf(pat, sizeof pat, ",%s,", event);
    double sum = 0;
    *n = 0;
    *first = 0;
    for (const char *p = log; (p = strstr(p, pat)) != NULL; p++) {
        const char *f = p;
        for (int commas = 0; commas < 10 && f; commas++) /* to the comma before qty */
            f = strchr(f + 1, ',');
        assert_non_null(f);
        double qty = strtod(f + 1, NULL);
        if (*n == 0)
            *first = qty;
        sum += qty;
        (*n)++;
    }
    return sum;
}

/* The gateway's notional rule counts USD, and the perpetual's amount is USD already. With the default limit
 * (50M USD a minute) nothing is refused; with a limit of half of what that run sent, over the whole run, the
 * orders sent add up to at most the limit and the one that would pass it is refused by max_notional. */
static void test_notional_in_usd(void **state)
{
    (void)state;
    ht_engine_config cfg;
    ht_engine_report a, b;
    capture_config(&cfg, TMP "/notional_a.csv", HT_PIPE_BACKEND_SW);
    assert_true(cfg.gw.risk.max_notional == 50e6);
    replay_file(&cfg, HT_NIC_PCAP, &a);
    assert_int_equal(a.orders_refused, 0);
    char *la = slurp(TMP "/notional_a.csv", NULL);
    assert_non_null(la);
    unsigned n_a;
    double first;
    double sent_a = sum_amounts(la, "order", &n_a, &first);
    assert_int_equal(n_a, a.orders);
    assert_true(n_a >= 2 && sent_a > first);

    capture_config(&cfg, TMP "/notional_b.csv", HT_PIPE_BACKEND_SW);
    cfg.gw.risk.max_notional = sent_a / 2 > first ? sent_a / 2 : first;
    cfg.gw.risk.notional_interval_ms = 86400000;
    replay_file(&cfg, HT_NIC_PCAP, &b);
    char *lb = slurp(TMP "/notional_b.csv", NULL);
    assert_non_null(lb);
    unsigned n_b, n_refused;
    double first_b, first_refused;
    double sent_b = sum_amounts(lb, "order", &n_b, &first_b);
    sum_amounts(lb, "refused", &n_refused, &first_refused);
    assert_true(n_b >= 1 && first_b == first);
    assert_true(sent_b <= cfg.gw.risk.max_notional);
    assert_true(b.orders_refused >= 1);
    assert_int_equal(n_refused, b.orders_refused);
    assert_true(sent_b + first_refused > cfg.gw.risk.max_notional);
    assert_non_null(strstr(lb, "max_notional"));
    free(la);
    free(lb);
}

/* Replays the capture twice, on two backends or through two receive paths, into two logs that must be identical;
 * fills both reports. */
static void replay_twice_same_log(ht_pipe_backend backend_a, ht_nic_kind via_a, const char *log_a,
                                  ht_pipe_backend backend_b, ht_nic_kind via_b, const char *log_b,
                                  ht_engine_report *rep_a, ht_engine_report *rep_b)
{
    ht_engine_config cfg;
    capture_config(&cfg, log_a, backend_a);
    replay_file(&cfg, via_a, rep_a);
    capture_config(&cfg, log_b, backend_b);
    replay_file(&cfg, via_b, rep_b);
    char *a = slurp(log_a, NULL), *b = slurp(log_b, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* The pipeline's two software backends (C model, RTL in Verilator) make the same decisions: identical logs. */
static void test_backends_agree(void **state)
{
    (void)state;
    if (!ht_pipe_backend_built(HT_PIPE_BACKEND_VERILATOR)) {
        print_message("the verilator backend is not in this build: the comparison needs Verilator 5\n");
        fail();
    }
    ht_engine_report sw, rtl;
    replay_twice_same_log(HT_PIPE_BACKEND_SW, HT_NIC_PCAP, TMP "/backend_sw.csv", HT_PIPE_BACKEND_VERILATOR,
                          HT_NIC_PCAP, TMP "/backend_rtl.csv", &sw, &rtl);
    assert_true(sw.breaches > 0);
    assert_int_equal(sw.breaches, rtl.breaches);
    assert_int_equal(rtl.check_mismatches, 0);
}

/* DPDK's net_pcap vdev replays the same capture into the same decisions as libpcap. */
static void test_dpdk_agrees(void **state)
{
    (void)state;
    if (!ht_nic_kind_available(HT_NIC_DPDK)) {
        print_message("DPDK is not in this build\n");
        fail();
    }
    ht_engine_report f, d;
    replay_twice_same_log(HT_PIPE_BACKEND_SW, HT_NIC_PCAP, TMP "/via_file.csv", HT_PIPE_BACKEND_SW, HT_NIC_DPDK,
                          TMP "/via_dpdk.csv", &f, &d);
    assert_true(f.packets > 0);
    assert_int_equal(f.packets, d.packets);
}

/* The demo's market in-process and the same market written to a pcap file and replayed: the same decisions;
 * and the example book stays inside its band throughout. */
static void test_market_in_process_equals_file(void **state)
{
    (void)state;
    ht_mkt_config mc;
    ht_mkt_config_default(&mc);
    mc.seed = 11;
    mc.steps = 900;
    ht_error err;
    ht_mkt *m = ht_mkt_create(&mc, &err);
    assert_non_null(m);
    assert_true(ht_mkt_write_pcap(m, TMP "/market.pcap", 0, &err) > 0);
    ht_mkt_destroy(m);

    ht_engine_config cfg;
    ht_engine_config_default(&cfg);
    snprintf(cfg.book_path, sizeof cfg.book_path, "%s", DEMO_BOOK);
    snprintf(cfg.strategy, sizeof cfg.strategy, "ww:0.25");
    cfg.min_half_width_coin = 0.05;
    snprintf(cfg.event_log, sizeof cfg.event_log, "%s", TMP "/market_mem.csv");
    ht_engine *e = ht_engine_create(&cfg, &err);
    assert_non_null(e);
    m = ht_mkt_create(&mc, &err);
    assert_non_null(m);
    assert_int_equal(ht_engine_run_market(e, m, NULL, &err), 0);
    ht_engine_report mem;
    ht_engine_get_report(e, &mem);
    ht_engine_destroy(e);
    ht_mkt_destroy(m);

    snprintf(cfg.event_log, sizeof cfg.event_log, "%s", TMP "/market_file.csv");
    e = ht_engine_create(&cfg, &err);
    assert_non_null(e);
    ht_nic_config nc;
    ht_nic_config_default(&nc);
    nc.path = TMP "/market.pcap";
    ht_nic *nic = ht_nic_open(&nc, &err);
    assert_non_null(nic);
    assert_int_equal(ht_engine_run_nic(e, nic, NULL, &err), 0);
    ht_engine_report file;
    ht_engine_get_report(e, &file);
    ht_engine_destroy(e);
    ht_nic_close(nic);

    char *a = slurp(TMP "/market_mem.csv", NULL), *b = slurp(TMP "/market_file.csv", NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    assert_int_equal(mem.ticks, 899);
    assert_true(mem.breaches > 10);
    assert_true(mem.fills >= mem.orders);
    assert_int_equal(mem.check_mismatches, 0);
    assert_true(mem.hedged.time_outside_s == 0.0);
    assert_true(mem.hedged.rms_coin < mem.unhedged.rms_coin / 5);
    assert_true(fabs(mem.final_net_delta) <= fmax(fabs(mem.band_lo), fabs(mem.band_hi)) + 1e-9);
    free(a);
    free(b);
}

/* Live mode on the simulated market: two threads and the rings; every tick gets through, hedging happens. */
static void test_threads(void **state)
{
    (void)state;
    ht_mkt_config mc;
    ht_mkt_config_default(&mc);
    mc.seed = 5;
    mc.steps = 6000; /* unpaced: under load the slow half may arm late, so enough steps remain after it */
    ht_engine_config cfg;
    ht_engine_config_default(&cfg);
    snprintf(cfg.book_path, sizeof cfg.book_path, "%s", DEMO_BOOK);
    snprintf(cfg.strategy, sizeof cfg.strategy, "fixed:0.2");
    cfg.threads = true;
    cfg.slow_idle_us = 50;
    ht_error err;
    ht_engine *e = ht_engine_create(&cfg, &err);
    if (!e)
        print_error("%s\n", err.msg);
    assert_non_null(e);
    ht_mkt *m = ht_mkt_create(&mc, &err);
    assert_int_equal(ht_engine_run_market(e, m, NULL, &err), 0);
    ht_engine_report r;
    ht_engine_get_report(e, &r);
    assert_true(r.armed);
    /* The market runs unpaced, so hedging starts some steps in; from then on no tick is lost between halves. */
    assert_true(r.ticks > 100);
    assert_int_equal(r.ticks, r.pipeline_ticks);
    assert_int_equal(r.messages_dropped, 0);
    assert_true(r.breaches > 0);
    assert_true(r.fills > 0);
    ht_engine_destroy(e);
    ht_mkt_destroy(m);
}

/* The verilator backend's pipeline time is its cycle count at the configured clock: every tick the same. */
static void test_model_clock(void **state)
{
    (void)state;
    if (!ht_pipe_backend_built(HT_PIPE_BACKEND_VERILATOR)) {
        print_message("the verilator backend is not in this build\n");
        fail();
    }
    ht_engine_config cfg;
    capture_config(&cfg, TMP "/clock.csv", HT_PIPE_BACKEND_VERILATOR);
    cfg.clock_mhz = 200.0;
    ht_error err;
    ht_nic_config nc;
    ht_nic_config_default(&nc);
    nc.path = CAPTURE;
    ht_nic *nic = ht_nic_open(&nc, &err);
    ht_engine *e = ht_engine_create(&cfg, &err);
    assert_non_null(e);
    assert_int_equal(ht_engine_run_nic(e, nic, NULL, &err), 0);
    const ht_hist *pipe = &ht_engine_profile(e)->span[HT_SPAN_PIPE];
    assert_true(pipe->count > 0);
    /* The tick is accepted in cycle c (the clock goes from c to c+1) and its event is on m_axis in cycle
     * c + HT_PIPE_LATENCY_CYCLES (pipe_regs.h), where polling leaves the clock: L cycles, 5 ns each at 200 MHz. */
    uint64_t expect = (uint64_t)HT_PIPE_LATENCY_CYCLES * 5;
    assert_int_equal(pipe->min, expect);
    assert_int_equal(pipe->max, expect);
    ht_engine_destroy(e);
    ht_nic_close(nic);
}

/* Bad configuration is refused with a message that names what is wrong. */
static void test_bad_config(void **state)
{
    (void)state;
    ht_engine_config cfg;
    ht_engine_config_default(&cfg);
    ht_error err;
    FILE *f = fopen(TMP "/bad.conf", "w");
    assert_non_null(f);
    fprintf(f, "[engine]\nbook = x.csv\n[hedge]\nstrategy = fixed:0.1\nno_such_key = 1\n");
    fclose(f);
    assert_int_equal(ht_engine_config_load(&cfg, TMP "/bad.conf", &err), -1);
    assert_non_null(strstr(err.msg, "bad.conf:5"));
    assert_non_null(strstr(err.msg, "no_such_key"));
    f = fopen(TMP "/bad2.conf", "w");
    fprintf(f, "[hedge]\nstrategy = sideways:3\n");
    fclose(f);
    ht_engine_config_default(&cfg);
    assert_int_equal(ht_engine_config_load(&cfg, TMP "/bad2.conf", &err), -1);
    assert_non_null(strstr(err.msg, "bad2.conf:2"));
    /* A hedge venue becomes Symbol (55) of every order: a name with a byte outside A-Z 0-9 _ - is named, with
     * the byte and its offset, before anything runs. */
    f = fopen(TMP "/bad3.conf", "w");
    fprintf(f, "[hedge]\nvenues = BTC-PERPETUAL, ETH-PERPETUAL\00138=999\n");
    fclose(f);
    ht_engine_config_default(&cfg);
    assert_int_equal(ht_engine_config_load(&cfg, TMP "/bad3.conf", &err), -1);
    assert_non_null(strstr(err.msg, "bad3.conf:2"));
    assert_non_null(strstr(err.msg, "byte 0x01 at offset 13"));
    /* A book line with a bad quantity is named before any packet is read. */
    f = fopen(TMP "/bad_book.csv", "w");
    fprintf(f, "instrument,qty\nBTC-PERPETUAL,ten\n");
    fclose(f);
    ht_engine_config_default(&cfg);
    snprintf(cfg.book_path, sizeof cfg.book_path, "%s", TMP "/bad_book.csv");
    assert_null(ht_engine_create(&cfg, &err));
    assert_non_null(strstr(err.msg, "bad_book.csv:2"));
    /* The example live config parses into what it says. */
    ht_engine_config_default(&cfg);
    if (ht_engine_config_load(&cfg, HT_SOURCE_DIR "/examples/run_loopback.conf", &err) != 0)
        print_error("%s\n", err.msg);
    assert_int_equal(ht_engine_config_check(&cfg, &err), 0);
    assert_true(cfg.threads);
    assert_int_equal(cfg.venue, HT_ENGINE_VENUE_FIX);
    assert_int_equal(cfg.nic.kind, HT_NIC_SOCKET);
    assert_true(cfg.nic.unicast);
    assert_int_equal(cfg.nic.filter.n_ports, 2);
    assert_int_equal(cfg.gw.port, 9881);
    assert_string_equal(cfg.strategy, "ww:0.25");
    /* No book at all. */
    ht_engine_config_default(&cfg);
    assert_int_equal(ht_engine_config_check(&cfg, &err), -1);
    assert_non_null(strstr(err.msg, "book"));
}

/* Groups run as separate processes (DPDK's EAL starts once per process): argv[1] = core, verilator or dpdk. */
int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "core";
    const struct CMUnitTest core[] = {
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_capture_deterministic),
        cmocka_unit_test(test_notional_in_usd),
        cmocka_unit_test(test_market_in_process_equals_file),
        cmocka_unit_test(test_threads),
    };
    const struct CMUnitTest verilator[] = {
        cmocka_unit_test(test_backends_agree),
        cmocka_unit_test(test_model_clock),
    };
    const struct CMUnitTest dpdk[] = {
        cmocka_unit_test(test_dpdk_agrees),
    };
    if (strcmp(group, "verilator") == 0)
        return cmocka_run_group_tests(verilator, NULL, NULL);
    if (strcmp(group, "dpdk") == 0)
        return cmocka_run_group_tests(dpdk, NULL, NULL);
    return cmocka_run_group_tests(core, NULL, NULL);
}

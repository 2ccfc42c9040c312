/* SPDX-License-Identifier: MIT */
/* Pre-armed hedges against the full decision (issue 14), differentially: the same run with [engine] prearm on and
 * off writes the same event log (every breach, decision, order, fill and band, at the same exchange time; the armed
 * run's breach rows only add which path they took) and the same series, so the armed path sent exactly the orders
 * (venue, side, contracts, limit) the decision at the breach sent without it. The armed run must have fired most of
 * its breaches (the comparison is not vacuous), every fired order equal to the decision taken right after it
 * (armed_mismatches 0), and every other breach named with its fallback. On the shared capture (real books, a tight
 * band: most index ticks breach) and on the market simulator (the demo book, jumps, thousands of breaches).
 * argv[1]: sw (default) or verilator, the pipeline backend. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event_log.h"
#include "hedgetrig/engine_setup.h"
#include "hedgetrig/nic.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"
#define CAPTURE_BOOK HT_SOURCE_DIR "/examples/book_deribit_sample.csv"
#define DEMO_BOOK HT_SOURCE_DIR "/examples/demo_book.csv"
#define TMP HT_TEST_TMPDIR

static ht_pipe_backend g_backend = HT_PIPE_BACKEND_SW;

/* The event log without what only the armed run writes: the breach rows' " armed: ..." suffix. *n counts the order
 * rows. */
static char *comparable_log(const char *path, unsigned *n)
{
    char *log = slurp(path);
    assert_non_null(log);
    size_t cap = strlen(log) + 1;
    char *out = calloc(1, cap);
    assert_non_null(out);
    size_t len = 0;
    *n = 0;
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        char *armed = strstr(line, " armed: ");
        if (armed && strncmp(strchr(line, ',') ? strchr(line, ',') + 1 : "", "breach,", 7) == 0)
            *armed = '\0';
        *n += strstr(line, ",order,") != NULL;
        len += (size_t)snprintf(out + len, cap - len, "%s\n", line);
    }
    free(log);
    return out;
}

/* Runs one engine (prearm on or off) on the capture or the market simulator; its report and event log. */
typedef enum { CAPTURE_BOOKS, CAPTURE_SYNTHETIC, MARKET } source;

static void run_one(source src, bool prearm, const char *log, const char *series, ht_engine_report *rep)
{
    ht_engine_config cfg;
    ht_engine_config_default(&cfg);
    cfg.backend = g_backend;
    cfg.prearm = prearm;
    snprintf(cfg.event_log, sizeof cfg.event_log, "%s", log);
    snprintf(cfg.series_path, sizeof cfg.series_path, "%s", series);
    ht_error err;
    ht_engine *e = NULL;
    if (src != MARKET) {
        snprintf(cfg.book_path, sizeof cfg.book_path, "%s", CAPTURE_BOOK);
        snprintf(cfg.strategy, sizeof cfg.strategy, "fixed:0.005");
        cfg.min_half_width_coin = 0.001;
        cfg.synthetic_book = src == CAPTURE_SYNTHETIC;
        ht_nic_config nc;
        ht_nic_config_default(&nc);
        nc.path = CAPTURE;
        ht_nic *nic = ht_nic_open(&nc, &err);
        assert_non_null(nic);
        e = ht_setup_engine_create(&cfg, NULL, &err);
        assert_non_null(e);
        int rc = ht_engine_run_nic(e, nic, NULL, &err);
        if (rc != 0)
            print_message("run: %s\n", err.msg);
        assert_int_equal(rc, 0);
        ht_nic_close(nic);
    } else {
        snprintf(cfg.book_path, sizeof cfg.book_path, "%s", DEMO_BOOK);
        snprintf(cfg.strategy, sizeof cfg.strategy, "ww:1");
        cfg.min_half_width_coin = 0.02;
        ht_mkt_config mc;
        ht_mkt_config_default(&mc);
        mc.seed = 5;
        mc.steps = 20000;
        mc.step_ms = 200;
        mc.jumps_per_day = 2000;
        e = ht_setup_engine_create(&cfg, NULL, &err);
        assert_non_null(e);
        ht_mkt *m = ht_mkt_create(&mc, &err);
        assert_non_null(m);
        int rc = ht_setup_run_market(e, m, NULL, &err);
        if (rc != 0)
            print_message("run: %s\n", err.msg);
        assert_int_equal(rc, 0);
        ht_mkt_destroy(m);
    }
    ht_engine_get_report(e, rep);
    ht_engine_destroy(e);
}

static void same_orders(source src, const char *name, uint64_t min_breaches, uint64_t min_fired)
{
    char on_log[256], off_log[256], on_series[256], off_series[256];
    const char *be = ht_pipe_backend_name(g_backend);
    snprintf(on_log, sizeof on_log, "%s/prearm_%s_%s_on.csv", TMP, name, be);
    snprintf(off_log, sizeof off_log, "%s/prearm_%s_%s_off.csv", TMP, name, be);
    snprintf(on_series, sizeof on_series, "%s/prearm_%s_%s_on_series.csv", TMP, name, be);
    snprintf(off_series, sizeof off_series, "%s/prearm_%s_%s_off_series.csv", TMP, name, be);
    ht_engine_report on, off;
    run_one(src, true, on_log, on_series, &on);
    run_one(src, false, off_log, off_series, &off);
    unsigned n_on, n_off;
    char *a = comparable_log(on_log, &n_on), *b = comparable_log(off_log, &n_off);
    char reasons[256] = "";
    uint64_t named = 0;
    for (unsigned k = 0; k < HT_ARRAY_LEN(on.armed_fallback_by_reason); k++) {
        snprintf(reasons + strlen(reasons), sizeof reasons - strlen(reasons), "%s%s %llu", k ? ", " : "",
                 ht_engine_arm_fallback_name((ht_engine_arm_fallback)k),
                 (unsigned long long)on.armed_fallback_by_reason[k]);
        named += on.armed_fallback_by_reason[k];
    }
    print_message("%s (%s): %llu breaches, %llu decisions; armed: %llu arms, %llu fired (%llu adjusted), %llu "
                  "fallbacks (%s), %llu mismatches; orders %u armed, %u unarmed\n",
                  name, be, (unsigned long long)on.breaches, (unsigned long long)on.decisions,
                  (unsigned long long)on.arms, (unsigned long long)on.armed_fired,
                  (unsigned long long)on.armed_adjusted, (unsigned long long)on.armed_fallbacks, reasons,
                  (unsigned long long)on.armed_mismatches, n_on, n_off);
    if (strcmp(a, b) != 0) {
        size_t i = 0; /* the first difference, for the log */
        while (a[i] && a[i] == b[i])
            i++;
        while (i > 0 && a[i - 1] != '\n')
            i--;
        print_message("first difference:\n  armed:   %.200s\n  unarmed: %.200s\n", a + i, b + i);
    }
    assert_string_equal(a, b);
    char *sa = slurp(on_series), *sb = slurp(off_series);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_string_equal(sa, sb);
    assert_true(on.breaches >= min_breaches);
    assert_true(n_on > 10);
    assert_int_equal(on.armed_mismatches, 0);
    assert_int_equal(off.armed_fired + off.armed_fallbacks + off.arms, 0);
    assert_int_equal(named, on.armed_fallbacks);
    assert_int_equal(on.breaches, off.breaches);
    assert_int_equal(on.orders, off.orders);
    assert_int_equal(on.fills, off.fills);
    /* Not vacuous: the armed path fired (on the market simulator, most breaches). */
    assert_true(on.armed_fired >= min_fired);
    free(sa);
    free(sb);
    free(a);
    free(b);
}

/* The shared capture with its own books: the perpetual's book is thin (liquidity from about 50 s on, a few
 * contracts a level), so each breach's hedge is capped by the depth and not armed (an order the book caps is not
 * one the engine sizes alone): every breach takes the decision, and the two runs must still agree. */
static void capture_books_send_the_same_orders(void **state)
{
    (void)state;
    same_orders(CAPTURE_BOOKS, "capture_books", 25, 0);
}

/* The capture with a synthetic book around the mark: where the ladder did not move since arming, the armed order
 * fires; most breaches arrive in the same packet as a ticker that moved it (fallback quotes). */
static void capture_synthetic_sends_the_same_orders(void **state)
{
    (void)state;
    same_orders(CAPTURE_SYNTHETIC, "capture_synthetic", 20, 1);
}

/* The market simulator, an hour and more of jumps on the demo book: thousands of breaches, most fired armed. */
static void market_sends_the_same_orders(void **state)
{
    (void)state;
    same_orders(MARKET, "market", 1500, 1000);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "verilator") == 0)
        g_backend = HT_PIPE_BACKEND_VERILATOR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_books_send_the_same_orders),
        cmocka_unit_test(capture_synthetic_sends_the_same_orders),
        cmocka_unit_test(market_sends_the_same_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Crash-restart: a gateway process streaming orders is SIGKILLed mid-stream and restarted on its journal.
 * Reference: the exchange simulator's own record of every order it received. Every journaled order must be
 * there exactly once or have been voided (gap-filled, never delivered); no ClOrdID may repeat; the position
 * rebuilt from the journal must equal the net of what the simulator filled. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/journal.h"
#include "hedgetrig/tsc.h"

#define TOTAL 400
#define MAX_IDS 4096

static void child_config(ht_gw_config *c, uint16_t port, const char *journal)
{
    ht_gw_config_defaults(c);
    c->port = port;
    snprintf(c->journal_path, sizeof c->journal_path, "%s", journal);
    snprintf(c->log_path, sizeof c->log_path, "%s.log", journal);
    c->journal_fsync = HT_JOURNAL_FSYNC_NEVER; /* a process crash keeps the page cache */
    c->reconnect_min_ms = 20;
    c->reconnect_max_ms = 100;
    c->risk.max_orders_per_sec = 0;
    c->risk.max_notional = 0;
}

/* The streaming gateway: sends orders until TOTAL are journaled, waits for their reports, logs out. */
static int child_main(uint16_t port, const char *journal)
{
    ht_gw_config c;
    child_config(&c, port, journal);
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    if (!gw) {
        fprintf(stderr, "child: %s\n", err.msg);
        return 3;
    }
    ht_gw_event ev[64];
    uint64_t deadline = ht_mono_ns() + 60000000000ull;
    while (ht_mono_ns() < deadline) {
        ht_gw_poll(gw, ev, 64);
        uint64_t sent = ht_gw_orders_journaled(gw);
        if (ht_gw_get_state(gw) == HT_GW_ACTIVE && sent < TOTAL && ht_gw_open_orders(gw) < 20) {
            ht_gw_order o = {"BTC-PERPETUAL", sent % 2 ? HT_GW_SELL : HT_GW_BUY, 1 + (double)(sent % 7),
                             sent % 2 ? 49000 : 51000};
            ht_gw_send_result r;
            ht_gw_send_order(gw, &o, &r);
            usleep(200);
            continue;
        }
        if (sent >= TOTAL && ht_gw_open_orders(gw) == 0)
            break;
        ht_gw_wait(gw, 2);
    }
    ht_gw_logout(gw, "done");
    for (int i = 0; i < 200 && ht_gw_get_state(gw) != HT_GW_STOPPED; i++) {
        ht_gw_poll(gw, ev, 64);
        ht_gw_wait(gw, 5);
    }
    int rc = ht_gw_orders_journaled(gw) >= TOTAL && ht_gw_open_orders(gw) == 0 ? 0 : 4;
    ht_gw_destroy(gw);
    return rc;
}

static pid_t spawn_child(uint16_t port, const char *journal)
{
    pid_t pid = fork();
    if (pid == 0) {
        char port_text[16];
        snprintf(port_text, sizeof port_text, "%u", port);
        execl("/proc/self/exe", "test_gw_crash", "--child", port_text, journal, (char *)NULL);
        _exit(127);
    }
    return pid;
}

typedef struct ids {
    uint64_t journaled[MAX_IDS];
    size_t n_journaled;
    uint64_t voided[MAX_IDS];
    size_t n_voided;
} ids;

/* Journal replay callback: collects order and void ClOrdIDs (layouts in docs/gateway.md). */
static int collect(void *user, uint8_t type, const uint8_t *p, uint32_t len, uint64_t offset, ht_error *err)
{
    (void)offset;
    (void)err;
    ids *s = user;
    uint64_t id;
    if (type == 2 && len > 17 && p[16] == 'D' && s->n_journaled < MAX_IDS) {
        memcpy(&id, p + 8, 8);
        s->journaled[s->n_journaled++] = id;
    } else if (type == 6 && len == 8 && s->n_voided < MAX_IDS) {
        memcpy(&id, p, 8);
        s->voided[s->n_voided++] = id;
    }
    return 0;
}

static bool contains(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static void sigkill_mid_stream_loses_and_duplicates_nothing(void **state)
{
    (void)state;
    const char *journal = HT_TEST_TMPDIR "/crash.journal";
    const char *record = HT_TEST_TMPDIR "/crash.csv";
    unlink(journal);
    unlink(record);
    ht_xsim_config xc;
    ht_xsim_config_defaults(&xc);
    xc.default_level_qty = 1e9; /* every crossing order fills completely */
    snprintf(xc.record_path, sizeof xc.record_path, "%s", record);
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);

    pid_t pid = spawn_child(ht_xsim_port(x), journal);
    ht_xsim_stats st = {0};
    for (int i = 0; i < 2000 && st.orders < 150; i++) {
        usleep(2000);
        ht_xsim_get_stats(x, &st);
    }
    assert_true(st.orders >= 150);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    uint64_t at_kill = st.orders;

    pid = spawn_child(ht_xsim_port(x), journal);
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    ht_xsim_get_stats(x, &st);
    ht_xsim_destroy(x);
    assert_true(st.orders > at_kill);

    /* The simulator's record: each ClOrdID processed once, none refused as a duplicate. */
    static uint64_t venue[MAX_IDS];
    size_t n_venue = 0;
    double venue_net = 0;
    FILE *f = fopen(record, "r");
    assert_non_null(f);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char client[32], id_text[64], sym[32], status_text[32];
        unsigned long long seq;
        char side;
        double qty, px;
        assert_int_equal(sscanf(line, "%31[^,],%llu,%63[^,],%31[^,],%c,%lf,%lf,%31s", client, &seq, id_text, sym, &side,
                                &qty, &px, status_text), 8);
        assert_string_not_equal(status_text, "duplicate");
        if (strcmp(status_text, "new") != 0)
            continue; /* a PossDup resend of an order already processed */
        uint64_t id = strtoull(id_text + 2, NULL, 10);
        assert_false(contains(venue, n_venue, id));
        venue[n_venue++] = id;
        venue_net += side == '1' ? qty : -qty;
    }
    fclose(f);

    /* The journal: every order is at the venue exactly once, or voided and absent there. */
    static ids j;
    memset(&j, 0, sizeof j);
    ht_journal *jr = ht_journal_open(journal, HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_REFUSE, collect, &j, NULL, &err);
    assert_non_null(jr);
    ht_journal_close(jr);
    assert_int_equal(j.n_journaled, TOTAL);
    for (size_t i = 0; i < j.n_journaled; i++) {
        assert_false(contains(j.journaled, i, j.journaled[i])); /* ClOrdIDs never reused */
        bool at_venue = contains(venue, n_venue, j.journaled[i]);
        bool voided = contains(j.voided, j.n_voided, j.journaled[i]);
        if (at_venue == voided)
            fail_msg("order %llu: at the venue %d, voided %d", (unsigned long long)j.journaled[i], at_venue, voided);
    }
    for (size_t i = 0; i < n_venue; i++)
        assert_true(contains(j.journaled, j.n_journaled, venue[i]));
    /* The inventory rebuilt from the journal equals what the venue filled. */
    ht_gw_config c;
    child_config(&c, 1, journal);
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == venue_net);
    assert_int_equal(ht_gw_open_orders(gw), 0);
    ht_gw_destroy(gw);
    printf("crash test: %zu orders journaled, %zu at the venue, %zu voided, killed after %llu, net %.0f\n",
           j.n_journaled, n_venue, j.n_voided, (unsigned long long)at_kill, venue_net);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main((uint16_t)atoi(argv[2]), argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigkill_mid_stream_loses_and_duplicates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Interoperability with an engine we did not write: QuickFIX's executor example (built from libquickfix-doc)
 * as the acceptor. A full session: Deribit-style logon, 1,000 IOC limit orders and their fills, a forced gap
 * in each direction answered by resends, and a clean logout; a quarter of the orders carry a trigger label
 * (DeribitLabel 100010) and a fifth are armed and fired (docs/gateway.md). Fails with the reason if the executor
 * is absent. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/gateway.h"
#include "hedgetrig/tsc.h"

#define N_ORDERS 1000

static const char *g_executor;

/* A loopback port that was free a moment ago. */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

/* True when the file contains needle. */
static bool file_contains(const char *path, const char *needle)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -q -F -- '%s' '%s'", needle, path);
    return system(cmd) == 0;
}

static void full_session_with_quickfix_executor(void **state)
{
    (void)state;
    if (access(g_executor, X_OK) != 0)
        fail_msg("QuickFIX executor not found at %s: install libquickfix-dev and libquickfix-doc "
                 "(scripts/install-deps.sh test) and rebuild", g_executor);
    uint16_t port = free_port();
    const char *dir = HT_TEST_TMPDIR;
    char cfg_path[512], cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/store' '%s/qf.out' '%s/gw.journal' '%s/gw.log'", dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cfg_path, sizeof cfg_path, "%s/executor.cfg", dir);
    FILE *f = fopen(cfg_path, "w");
    assert_non_null(f);
    /* No data dictionary ships with Debian's QuickFIX, so validation by dictionary is off: QuickFIX then
     * checks framing, BodyLength, CheckSum, CompIDs, sequence numbers and SendingTime. */
    fprintf(f, "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=%u\nSocketReuseAddress=Y\n"
               "FileStorePath=%s/store\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=N\n"
               "ResetOnLogon=Y\nScreenLogShowHeartBeats=Y\n\n[SESSION]\nBeginString=FIX.4.4\n"
               "SenderCompID=EXECUTOR\nTargetCompID=HEDGETRIG\n",
            port, dir);
    fclose(f);
    char out_path[512];
    snprintf(out_path, sizeof out_path, "%s/qf.out", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *o = freopen(out_path, "w", stdout);
        (void)o;
        execl(g_executor, g_executor, cfg_path, (char *)NULL);
        _exit(127);
    }

    ht_gw_config c;
    ht_gw_config_default(&c);
    c.port = port;
    snprintf(c.target_comp_id, sizeof c.target_comp_id, "EXECUTOR");
    snprintf(c.journal_path, sizeof c.journal_path, "%s/gw.journal", dir);
    snprintf(c.log_path, sizeof c.log_path, "%s/gw.log", dir);
    snprintf(c.client_id, sizeof c.client_id, "interop-client");
    snprintf(c.client_secret, sizeof c.client_secret, "interop-secret-xyz");
    c.reset_seq_on_logon = true;
    c.resend_orders = true;
    c.reconnect_min_ms = 50;
    c.reconnect_max_ms = 200;
    c.reconnect_max_attempts = 100; /* the executor takes a moment to listen */
    c.risk.max_orders_per_sec = 0;
    c.risk.max_notional = 0;
    /* QuickFIX's executor knows no account message (AN/AP, AD/AE, BE/BF): the gateway runs without them, as a
     * venue that does not support them would be configured (docs/gateway.md). */
    c.positions = false;
    c.trade_capture = false;
    c.account_interval_ms = 0;
    /* The executor has no rate limit: 1,000 orders as fast as the session takes them. */
    c.rate.me_rate_per_s = c.rate.me_burst = 1e6;
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);

    ht_gw_event ev[128];
    int logons = 0, fills = 0, possdup_fills = 0, bad = 0;
    double filled_net = 0, expect_net = 0;
    int sent = 0;
    uint64_t deadline = ht_mono_ns() + 120ull * 1000000000u;
    while (ht_mono_ns() < deadline) {
        int n = ht_gw_poll(gw, ev, 128);
        for (int i = 0; i < n; i++) {
            if (ev[i].type == HT_GW_EV_LOGON)
                logons++;
            if (ev[i].type == HT_GW_EV_BAD_MESSAGE || ev[i].type == HT_GW_EV_SESSION_REJECT ||
                ev[i].type == HT_GW_EV_BUSINESS_REJECT)
                bad++;
            if (ev[i].type == HT_GW_EV_EXEC && ev[i].exec_type == 'F') {
                fills++;
                filled_net += ev[i].side == HT_GW_BUY ? ev[i].last_qty : -ev[i].last_qty;
                assert_int_equal(ev[i].ord_status, '2');
            }
        }
        if (ht_gw_get_state(gw) == HT_GW_ACTIVE && sent < N_ORDERS && ht_gw_open_orders(gw) < 50) {
            if (sent == 300)
                ht_gw_debug_gap(gw, true, false); /* our order 301 is "lost": QuickFIX must ask for it */
            if (sent == 600)
                ht_gw_debug_gap(gw, false, true); /* a report to us is "lost": we ask QuickFIX for it */
            ht_gw_order o = {sent % 3 ? "BTC-PERPETUAL" : "ETH-PERPETUAL", sent % 2 ? HT_GW_SELL : HT_GW_BUY,
                             1 + sent % 9, 30000 + (sent % 100) * 0.5, 0, 0};
            ht_gw_send_result r;
            if (sent % 4 == 1) { /* a trigger: DeribitLabel (100010), which QuickFIX takes without a dictionary */
                o.trigger_channel = (uint16_t)(sent % 7);
                o.trigger_seq = 1000000 + (uint64_t)sent;
            }
            if (sent % 5 == 2) { /* armed and fired: the same order as QuickFIX reads it */
                ht_gw_armed a;
                assert_int_equal(ht_gw_arm_order(gw, &o, &a, &r), HT_GW_SENT);
                assert_int_equal(ht_gw_fire_armed(gw, &a, o.qty, o.trigger_channel, o.trigger_seq, &r), HT_GW_SENT);
            } else {
                assert_int_equal(ht_gw_send_order(gw, &o, &r), HT_GW_SENT);
            }
            expect_net += (o.side == HT_GW_BUY ? 1 : -1) * o.qty * (sent % 3 ? 1 : 0);
            sent++;
            continue;
        }
        if (sent == N_ORDERS && ht_gw_open_orders(gw) == 0)
            break;
        if (ht_gw_get_state(gw) == HT_GW_STOPPED)
            break;
        ht_gw_wait(gw, 5);
    }
    (void)possdup_fills;
    assert_int_equal(ht_gw_get_state(gw), HT_GW_ACTIVE);
    assert_int_equal(logons, 1);
    assert_int_equal(sent, N_ORDERS);
    assert_int_equal(ht_gw_open_orders(gw), 0);
    assert_int_equal(fills, N_ORDERS);
    assert_int_equal(bad, 0);
    assert_true(ht_gw_position(gw, "BTC-PERPETUAL") == expect_net);
    /* The fills reported as events add up to the positions: no report lost or counted twice across the gaps. */
    assert_true(filled_net == ht_gw_position(gw, "BTC-PERPETUAL") + ht_gw_position(gw, "ETH-PERPETUAL"));
    /* Both gaps happened and were filled by resends. */
    assert_true(file_contains(c.log_path, "venue asked for a resend of 302"));
    assert_true(file_contains(c.log_path, "gap: expected inbound seq"));
    char count_cmd[700];
    snprintf(count_cmd, sizeof count_cmd, "test $(grep -c 'gap: expected inbound seq' '%s') -eq 1", c.log_path);
    assert_int_equal(system(count_cmd), 0); /* one ResendRequest for the one gap */
    assert_true(file_contains(out_path, "35=2"));   /* QuickFIX's ResendRequest */
    assert_true(file_contains(out_path, "43=Y"));   /* resent messages both ways */

    ht_gw_logout(gw, "interop done");
    uint64_t until = ht_mono_ns() + 5000000000ull;
    int logouts = 0;
    while (ht_gw_get_state(gw) != HT_GW_STOPPED && ht_mono_ns() < until) {
        int n = ht_gw_poll(gw, ev, 128);
        for (int i = 0; i < n; i++)
            logouts += ev[i].type == HT_GW_EV_LOGOUT;
        ht_gw_wait(gw, 5);
    }
    assert_int_equal(ht_gw_get_state(gw), HT_GW_STOPPED);
    assert_int_equal(logouts, 1);
    ht_gw_destroy(gw);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    /* QuickFIX's screen log shows it accepted our logon and logout. */
    assert_true(file_contains(out_path, "35=A"));
    assert_true(file_contains(out_path, "35=5"));
    assert_false(file_contains(c.log_path, "interop-secret-xyz"));
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    g_executor = argc > 1 ? argv[1] : "";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_session_with_quickfix_executor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

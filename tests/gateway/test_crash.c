/* SPDX-License-Identifier: MIT */
/* Crash-restart: a gateway process streaming orders is SIGKILLed and restarted on its journal.
 * - at each boundary of the order and report paths in turn (order journaled but not sent, sent but not
 *   acknowledged, a partial fill read but not journaled, journaled but not applied), deterministically through
 *   the gateway's crash hook, over several trials per boundary and with both resend policies;
 * - and once from outside, at whatever instant the stream has reached.
 * Reference: the exchange simulator's own record of every order it received. Counted and asserted zero: orders
 * lost (journaled, never at the venue and never voided) and orders sent twice (a ClOrdID the venue saw twice
 * or executed twice). No ClOrdID repeats in the journal, and the position rebuilt from the journal equals the
 * net of what the simulator filled. Every test runs with the journal in write mode and in mmap mode (the killed
 * process leaves an mmap journal pre-extended with zeros, which the restart must read to its last record). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/journal.h"
#include "hedgetrig/tsc.h"
#include "gateway/gw_test_send.h"

#define STREAM_TOTAL 400 /* orders of the stream killed from outside */
#define TRIAL_TOTAL 30   /* orders of each crash-hook trial */
#define MAX_IDS 4096
#define ID_BYTES 48

/* What a child gateway process is asked to do. */
typedef struct child_plan {
    uint16_t port;
    const char *journal;
    ht_gw_crash_point crash_at; /* HT_GW_CRASH_NONE: run to the end */
    unsigned crash_nth;
    bool resend_orders;
    unsigned total; /* orders to journal before logging out */
    ht_journal_mode mode;
} child_plan;

static void child_config(ht_gw_config *c, const child_plan *plan)
{
    ht_gw_config_default(c);
    c->port = plan->port;
    snprintf(c->journal_path, sizeof c->journal_path, "%s", plan->journal);
    snprintf(c->log_path, sizeof c->log_path, "%s.log", plan->journal);
    c->journal_fsync = HT_JOURNAL_FSYNC_NEVER; /* a process crash keeps the page cache */
    c->journal_mode = plan->mode;
    test_send_apply(c);
    c->reconnect_min_ms = 20;
    c->reconnect_max_ms = 100;
    c->resend_orders = plan->resend_orders;
    c->risk.max_orders_per_sec = 0;
    c->risk.max_notional = 0;
    c->positions = c->trade_capture = false; /* orders alone, as fast as the session takes them */
    c->account_interval_ms = 0;
    c->rate.me_rate_per_s = c->rate.me_burst = 1e6;
}

/* The streaming gateway: sends orders until plan->total are journaled, waits for their reports, logs out. */
static int child_main(const child_plan *plan)
{
    ht_gw_config c;
    child_config(&c, plan);
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    if (!gw) {
        fprintf(stderr, "child: %s\n", err.msg);
        return 3;
    }
    ht_gw_debug_crash_at(gw, plan->crash_at, plan->crash_nth);
    ht_gw_event ev[64];
    uint64_t deadline = ht_mono_ns() + 60000000000ull;
    while (ht_mono_ns() < deadline) {
        ht_gw_poll(gw, ev, 64);
        uint64_t sent = ht_gw_orders_journaled(gw);
        if (ht_gw_get_state(gw) == HT_GW_ACTIVE && sent < plan->total && ht_gw_open_orders(gw) < 20) {
            ht_gw_order o = {"BTC-PERPETUAL", sent % 2 ? HT_GW_SELL : HT_GW_BUY, 1 + (double)(sent % 7),
                             sent % 2 ? 49000 : 51000, 0, 0};
            ht_gw_send_result r;
            ht_gw_send_order(gw, &o, &r);
            usleep(200);
            continue;
        }
        if (sent >= plan->total && ht_gw_open_orders(gw) == 0)
            break;
        ht_gw_wait(gw, 2);
    }
    ht_gw_logout(gw, "done");
    for (int i = 0; i < 200 && ht_gw_get_state(gw) != HT_GW_STOPPED; i++) {
        ht_gw_poll(gw, ev, 64);
        ht_gw_wait(gw, 5);
    }
    int rc = ht_gw_orders_journaled(gw) >= plan->total && ht_gw_open_orders(gw) == 0 ? 0 : 4;
    if (rc == 0 && !test_send_used(gw))
        rc = 5; /* the run's send path (plain or io_uring) was not the one used */
    ht_gw_destroy(gw);
    return rc;
}

/* Runs child_main in a fresh process (this program re-executed with --child). */
static pid_t spawn_child(const child_plan *plan)
{
    pid_t pid = fork();
    if (pid == 0) {
        char port[16], point[16], nth[16], resend[4], total[16], mode[4], send[4];
        snprintf(port, sizeof port, "%u", plan->port);
        snprintf(point, sizeof point, "%d", (int)plan->crash_at);
        snprintf(nth, sizeof nth, "%u", plan->crash_nth);
        snprintf(resend, sizeof resend, "%d", plan->resend_orders ? 1 : 0);
        snprintf(total, sizeof total, "%u", plan->total);
        snprintf(mode, sizeof mode, "%d", (int)plan->mode);
        snprintf(send, sizeof send, "%d", (int)g_test_send);
        execl("/proc/self/exe", "test_gw_crash", "--child", port, plan->journal, point, nth, resend, total, mode, send,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* An order as the journal holds it: its number and the ClOrdID (11) of the journaled message bytes. */
typedef struct journaled_order {
    uint64_t num;
    char text[ID_BYTES];
} journaled_order;

typedef struct journal_orders {
    journaled_order orders[MAX_IDS];
    size_t n_orders;
    uint64_t voided[MAX_IDS];
    size_t n_voided;
} journal_orders;

/* Copies the value of tag 11 out of a FIX message ("" when absent). */
static void clordid_of(const uint8_t *msg, uint32_t len, char out[ID_BYTES])
{
    out[0] = '\0';
    for (uint32_t i = 0; i + 4 <= len; i++) {
        if (msg[i] == '\001' && msg[i + 1] == '1' && msg[i + 2] == '1' && msg[i + 3] == '=') {
            uint32_t k = 0;
            for (uint32_t j = i + 4; j < len && msg[j] != '\001' && k + 1 < ID_BYTES; j++)
                out[k++] = (char)msg[j];
            out[k] = '\0';
            return;
        }
    }
}

/* Journal replay callback: collects orders and voids (record layouts in docs/gateway.md). */
static int collect(void *user, uint8_t type, const uint8_t *p, uint32_t len, uint64_t offset, ht_error *err)
{
    (void)offset;
    (void)err;
    journal_orders *s = user;
    if (type == 2 && len > 17 && p[16] == 'D' && s->n_orders < MAX_IDS) {
        journaled_order *o = &s->orders[s->n_orders++];
        memcpy(&o->num, p + 8, 8);
        clordid_of(p + 17, len - 17, o->text);
    } else if (type == 6 && len == 8 && s->n_voided < MAX_IDS) {
        memcpy(&s->voided[s->n_voided++], p, 8);
    }
    return 0;
}

/* One ClOrdID as the venue recorded it. */
typedef struct venue_order {
    char text[ID_BYTES];
    unsigned received;  /* lines with this ClOrdID */
    unsigned executed;  /* of which processed as an order (any status but duplicate and possdup) */
    double signed_qty;  /* + buy, - sell, per execution */
} venue_order;

typedef struct venue_record {
    venue_order orders[MAX_IDS];
    size_t n;
} venue_record;

static venue_order *venue_find(venue_record *v, const char *text)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->orders[i].text, text) == 0)
            return &v->orders[i];
    return NULL;
}

/* Reads the simulator's record: client,seq,clordid,symbol,side,qty,price,status. */
static void read_venue_record(const char *path, venue_record *v)
{
    v->n = 0;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char client[32], id_text[ID_BYTES], sym[32], status_text[32];
        unsigned long long seq;
        char side;
        double qty, px;
        assert_int_equal(sscanf(line, "%31[^,],%llu,%47[^,],%31[^,],%c,%lf,%lf,%31s", client, &seq, id_text, sym,
                                &side, &qty, &px, status_text), 8);
        venue_order *o = venue_find(v, id_text);
        if (!o) {
            assert_true(v->n < MAX_IDS);
            o = &v->orders[v->n++];
            memset(o, 0, sizeof *o);
            snprintf(o->text, sizeof o->text, "%s", id_text);
        }
        o->received++;
        /* Processed as an order: filled, partial, canceled or rejected; not a duplicate, not an ignored PossDup. */
        if (strcmp(status_text, "duplicate") != 0 && strcmp(status_text, "possdup") != 0) {
            o->executed++;
            o->signed_qty += side == '1' ? qty : -qty;
        }
    }
    fclose(f);
}

static bool voided(const journal_orders *j, uint64_t num)
{
    for (size_t i = 0; i < j->n_voided; i++)
        if (j->voided[i] == num)
            return true;
    return false;
}

typedef struct crash_count {
    size_t journaled, at_venue, voided, lost, sent_twice;
    double venue_net;
} crash_count;

/* Compares the journal with the venue's record: counts orders lost and sent twice, checks ClOrdIDs are never
 * reused, that nothing reached the venue without being journaled, and that the position rebuilt from the
 * journal equals the venue's net fills. */
static crash_count check_journal_against_venue(const child_plan *plan, const char *record, unsigned total)
{
    static journal_orders j;
    static venue_record v;
    memset(&j, 0, sizeof j);
    crash_count count = {0};
    ht_error err;
    ht_journal *jr = ht_journal_open(plan->journal, HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_REFUSE, collect, &j,
                                     NULL, &err);
    assert_non_null(jr);
    ht_journal_close(jr);
    read_venue_record(record, &v);
    assert_int_equal(j.n_orders, total);
    count.journaled = j.n_orders;
    for (size_t i = 0; i < j.n_orders; i++) {
        const journaled_order *o = &j.orders[i];
        assert_true(o->text[0] != '\0');
        for (size_t k = 0; k < i; k++) /* ClOrdIDs never reused, by number or on the wire */
            assert_true(j.orders[k].num != o->num && strcmp(j.orders[k].text, o->text) != 0);
        const venue_order *at = venue_find(&v, o->text);
        bool is_void = voided(&j, o->num);
        if (at && at->executed > 0)
            count.at_venue++;
        if (is_void)
            count.voided++;
        if ((!at || at->executed == 0) && !is_void)
            count.lost++;
        if (at && (at->received > 1 || at->executed > 1))
            count.sent_twice++;
        if (at && at->executed > 0 && is_void)
            fail_msg("order %s is voided in the journal but the venue executed it", o->text);
    }
    for (size_t i = 0; i < v.n; i++) {
        bool journaled = false;
        for (size_t k = 0; k < j.n_orders && !journaled; k++)
            journaled = strcmp(j.orders[k].text, v.orders[i].text) == 0;
        if (!journaled)
            fail_msg("the venue received %s, which is not in the journal", v.orders[i].text);
        count.venue_net += v.orders[i].signed_qty;
    }
    if (count.lost > 0 || count.sent_twice > 0)
        fail_msg("%s: %zu of %zu journaled orders lost, %zu sent twice", plan->journal, count.lost, count.journaled,
                 count.sent_twice);
    /* The inventory rebuilt from the journal equals what the venue filled. */
    ht_gw_config c;
    child_plan offline = *plan;
    offline.port = 1;
    child_config(&c, &offline);
    ht_gw *gw = ht_gw_create(&c, &err);
    assert_non_null(gw);
    if (ht_gw_position(gw, "BTC-PERPETUAL") != count.venue_net)
        fail_msg("position from the journal %g, net filled at the venue %g", ht_gw_position(gw, "BTC-PERPETUAL"),
                 count.venue_net);
    assert_int_equal(ht_gw_open_orders(gw), 0);
    ht_gw_destroy(gw);
    return count;
}

/* A simulator that fills every crossing order completely, in executions of at most max_fill_qty. */
static ht_xsim *start_venue(const char *record, double max_fill_qty)
{
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    xc.default_level_qty = 1e9;
    xc.max_fill_qty = max_fill_qty;
    snprintf(xc.record_path, sizeof xc.record_path, "%s", record);
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    assert_non_null(x);
    assert_int_equal(ht_xsim_start(x, &err), 0);
    return x;
}

/* Waits for a child; returns its exit code, or 128 + the signal that ended it. */
static int wait_child(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* The journal mode a test runs with (its cmocka state). */
static ht_journal_mode mode_of(void **state)
{
    return *(const ht_journal_mode *)*state;
}

static void sigkill_mid_stream_loses_and_duplicates_nothing(void **state)
{
    const char *record = HT_TEST_TMPDIR "/stream.csv";
    child_plan plan = {.journal = HT_TEST_TMPDIR "/stream.journal", .total = STREAM_TOTAL, .mode = mode_of(state)};
    unlink(plan.journal);
    unlink(record);
    ht_xsim *x = start_venue(record, 0);
    plan.port = ht_xsim_port(x);

    pid_t pid = spawn_child(&plan);
    ht_xsim_stats st = {0};
    for (int i = 0; i < 2000 && st.orders < 150; i++) {
        usleep(2000);
        ht_xsim_stats_get(x, &st);
    }
    assert_true(st.orders >= 150);
    kill(pid, SIGKILL);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    uint64_t at_kill = st.orders;
    struct stat js;
    assert_int_equal(stat(plan.journal, &js), 0);
    if (plan.mode == HT_JOURNAL_MODE_MMAP) /* killed: the pre-extended room is still there, zeros after the records */
        assert_int_equal(js.st_size % HT_JOURNAL_MMAP_CHUNK_BYTES, 0);

    assert_int_equal(wait_child(spawn_child(&plan)), 0);
    ht_xsim_stats_get(x, &st);
    ht_xsim_destroy(x);
    assert_true(st.orders > at_kill);

    crash_count n = check_journal_against_venue(&plan, record, STREAM_TOTAL);
    printf("crash test (%s journal), killed from outside after %llu orders: %zu journaled, %zu at the venue, %zu voided, "
           "%zu lost, %zu sent twice, net %.0f\n",
           ht_journal_mode_name(plan.mode), (unsigned long long)at_kill, n.journaled, n.at_venue, n.voided, n.lost, n.sent_twice, n.venue_net);
    assert_int_equal(n.lost, 0);
    assert_int_equal(n.sent_twice, 0);
}

static const char *point_name(ht_gw_crash_point p)
{
    switch (p) {
    case HT_GW_CRASH_ORDER_JOURNALED: return "order journaled, not sent";
    case HT_GW_CRASH_ORDER_SENT: return "order sent, not acknowledged";
    case HT_GW_CRASH_FILL_READ: return "partial fill read, not journaled";
    case HT_GW_CRASH_FILL_JOURNALED: return "partial fill journaled, not applied";
    default: return "none";
    }
}

/* One trial: the gateway kills itself at the nth arrival at point, is restarted on its journal and finishes. */
static crash_count crash_trial(ht_gw_crash_point point, unsigned nth, bool resend_orders, ht_journal_mode mode)
{
    const char *record = HT_TEST_TMPDIR "/trial.csv";
    child_plan plan = {.journal = HT_TEST_TMPDIR "/trial.journal", .crash_at = point, .crash_nth = nth,
                       .resend_orders = resend_orders, .total = TRIAL_TOTAL, .mode = mode};
    unlink(plan.journal);
    unlink(record);
    ht_xsim *x = start_venue(record, 2); /* orders of 3..7 contracts fill in several executions */
    plan.port = ht_xsim_port(x);

    int rc = wait_child(spawn_child(&plan));
    if (rc != 128 + SIGKILL)
        fail_msg("%s #%u: the gateway was to kill itself there, it ended with %d", point_name(point), nth, rc);
    plan.crash_at = HT_GW_CRASH_NONE;
    rc = wait_child(spawn_child(&plan));
    if (rc != 0)
        fail_msg("%s #%u: the restarted gateway ended with %d (log: %s.log)", point_name(point), nth, rc, plan.journal);
    ht_xsim_destroy(x);
    return check_journal_against_venue(&plan, record, TRIAL_TOTAL);
}

static void sigkill_at_each_boundary_loses_and_duplicates_nothing(void **state)
{
    static const ht_gw_crash_point points[] = {HT_GW_CRASH_ORDER_JOURNALED, HT_GW_CRASH_ORDER_SENT,
                                               HT_GW_CRASH_FILL_READ, HT_GW_CRASH_FILL_JOURNALED};
    static const unsigned nths[] = {1, 4, 11};
    size_t trials = 0, lost = 0, sent_twice = 0;
    for (size_t p = 0; p < HT_ARRAY_LEN(points); p++) {
        crash_count sum = {0};
        for (size_t k = 0; k < HT_ARRAY_LEN(nths); k++) {
            for (int resend = 0; resend <= 1; resend++) {
                crash_count n = crash_trial(points[p], nths[k], resend == 1, mode_of(state));
                sum.journaled += n.journaled;
                sum.at_venue += n.at_venue;
                sum.voided += n.voided;
                sum.lost += n.lost;
                sum.sent_twice += n.sent_twice;
                trials++;
            }
        }
        printf("%s journal, crash at '%s', %zu trials: %zu orders journaled, %zu at the venue, %zu voided, %zu lost, "
               "%zu sent twice\n",
               ht_journal_mode_name(mode_of(state)), point_name(points[p]), HT_ARRAY_LEN(nths) * 2, sum.journaled, sum.at_venue, sum.voided, sum.lost,
               sum.sent_twice);
        lost += sum.lost;
        sent_twice += sum.sent_twice;
    }
    printf("%s journal, %zu crash trials: %zu orders lost, %zu sent twice\n", ht_journal_mode_name(mode_of(state)), trials, lost,
           sent_twice);
    assert_int_equal(lost, 0);
    assert_int_equal(sent_twice, 0);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 10 && strcmp(argv[1], "--child") == 0) {
        g_test_send = (ht_gw_send_mode)atoi(argv[9]);
        child_plan plan = {(uint16_t)atoi(argv[2]), argv[3], (ht_gw_crash_point)atoi(argv[4]),
                           (unsigned)atoi(argv[5]), atoi(argv[6]) == 1, (unsigned)atoi(argv[7]),
                           (ht_journal_mode)atoi(argv[8])};
        return child_main(&plan);
    }
    test_send_from_args(argc, argv);
    static ht_journal_mode write_mode = HT_JOURNAL_MODE_WRITE, mmap_mode = HT_JOURNAL_MODE_MMAP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(sigkill_at_each_boundary_loses_and_duplicates_nothing, &write_mode),
        cmocka_unit_test_prestate(sigkill_mid_stream_loses_and_duplicates_nothing, &write_mode),
        cmocka_unit_test_prestate(sigkill_at_each_boundary_loses_and_duplicates_nothing, &mmap_mode),
        cmocka_unit_test_prestate(sigkill_mid_stream_loses_and_duplicates_nothing, &mmap_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

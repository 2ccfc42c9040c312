/* SPDX-License-Identifier: MIT */
/* Gateway benchmarks: NewOrderSingle encode time, and order round trip on loopback to QuickFIX's executor
 * and to our exchange simulator, side by side (medians and percentiles; never pass/fail).
 * usage: bench_gateway [ORDERS] [PATH_TO_QUICKFIX_EXECUTOR]   or   bench_gateway --encode-only
 *        or   bench_gateway --armed send|fire [ORDERS] [--journal write|mmap] [--send plain|io_uring] [--sq-cpu N]
 *        or   bench_gateway --io-matrix [ORDERS]   (journal write|mmap x send plain|io_uring, interleaved) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/tsc.h"

/* Sorts doubles ascending. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints p50/p90/p99/p99.9/max of n samples (sorted in place). */
static void print_percentiles(const char *what, double *v, size_t n, const char *unit)
{
    qsort(v, n, sizeof *v, cmp_double);
    printf("%-62s n=%-6zu p50 %8.1f  p90 %8.1f  p99 %8.1f  p99.9 %8.1f  max %8.1f %s\n", what, n, v[n / 2],
           v[n * 90 / 100], v[n * 99 / 100], v[n * 999 / 1000], v[n - 1], unit);
}

static void bench_encode(void)
{
    ht_fix_nos_encoder enc;
    ht_error err;
    ht_fix_nos_init(&enc, "HEDGETRIG", "DERIBITSERVER", "ht", 8, 8, &err);
    static char buf[HT_FIX_NOS_BUFFER_BYTES];
    enum { BATCH = 1000, BATCHES = 2000 };
    static double per_call[BATCHES];
    uint64_t wall = ht_wall_ns();
    volatile size_t sink = 0;
    for (int b = 0; b < BATCHES + 100; b++) {
        uint64_t t0 = ht_tsc_now();
        for (int i = 0; i < BATCH; i++) {
            size_t len;
            uint64_t k = (uint64_t)b * BATCH + (uint64_t)i;
            const char *m = ht_fix_encode_nos(&enc, buf, 1000 + k, wall + k * 1000, 5000 + k, "BTC-PERPETUAL", 13,
                                              k & 1 ? '1' : '2', 10 + (double)(k % 90), 50000.5 + (double)(k % 200) * 0.5, &len);
            sink += len + (size_t)m[20];
        }
        uint64_t t1 = ht_tsc_now();
        if (b >= 100) /* warm-up */
            per_call[b - 100] = ht_tsc_to_ns(t1 - t0) / BATCH;
    }
    (void)sink;
    print_percentiles("NewOrderSingle encode (ns/order, batches of 1000)", per_call, BATCHES, "ns");
}

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

/* Sends orders one at a time and times ready_tsc -> first report and -> final report. */
static int round_trips(const char *label, uint16_t port, const char *target, int orders)
{
    char journal[128];
    snprintf(journal, sizeof journal, "/tmp/bench_gateway_%d_%s.journal", (int)getpid(), target);
    unlink(journal);
    ht_gw_config c;
    ht_gw_config_default(&c);
    c.port = port;
    snprintf(c.target_comp_id, sizeof c.target_comp_id, "%s", target);
    snprintf(c.journal_path, sizeof c.journal_path, "%s", journal);
    snprintf(c.log_path, sizeof c.log_path, "/dev/null");
    c.journal_fsync = HT_JOURNAL_FSYNC_NEVER;
    c.reset_seq_on_logon = true;
    c.reconnect_min_ms = 50;
    c.reconnect_max_attempts = 100;
    c.risk.max_orders_per_sec = 0;
    c.risk.max_notional = 0;
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    if (!gw) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    ht_gw_event ev[16];
    uint64_t until = ht_mono_ns() + 10000000000ull;
    while (ht_gw_get_state(gw) != HT_GW_ACTIVE && ht_mono_ns() < until) {
        ht_gw_poll(gw, ev, 16);
        ht_gw_wait(gw, 5);
    }
    if (ht_gw_get_state(gw) != HT_GW_ACTIVE) {
        fprintf(stderr, "bench: %s did not log on\n", label);
        ht_gw_destroy(gw);
        return -1;
    }
    double *first = calloc((size_t)orders, sizeof *first), *last = calloc((size_t)orders, sizeof *last);
    double *to_ready = calloc((size_t)orders, sizeof *to_ready), *to_sent = calloc((size_t)orders, sizeof *to_sent);
    double *to_journal = calloc((size_t)orders, sizeof *to_journal);
    int warm = orders / 10, kept = 0;
    for (int i = 0; i < orders + warm; i++) {
        ht_gw_order o = {"BTC-PERPETUAL", i & 1 ? HT_GW_SELL : HT_GW_BUY, 1, i & 1 ? 49000 : 51000, 0, 0};
        ht_gw_send_result r;
        uint64_t t_call = ht_tsc_now();
        if (ht_gw_send_order(gw, &o, &r) != HT_GW_SENT)
            break;
        uint64_t t_first = 0, t_last = 0;
        while (!t_last) {
            int n = ht_gw_poll(gw, ev, 16);
            for (int k = 0; k < n; k++) {
                if (ev[k].type != HT_GW_EV_EXEC || ev[k].clordid_num != r.clordid)
                    continue;
                if (!t_first)
                    t_first = ev[k].recv_tsc;
                if (strchr("2348C", ev[k].ord_status))
                    t_last = ev[k].recv_tsc;
            }
            if (ht_gw_get_state(gw) != HT_GW_ACTIVE)
                break;
        }
        if (!t_last)
            break;
        if (i >= warm) {
            first[kept] = ht_tsc_to_ns(t_first - r.ready_tsc) / 1000.0;
            last[kept] = ht_tsc_to_ns(t_last - r.ready_tsc) / 1000.0;
            to_ready[kept] = ht_tsc_to_ns(r.ready_tsc - t_call);
            to_journal[kept] = ht_tsc_to_ns(r.journaled_tsc - r.ready_tsc);
            to_sent[kept] = ht_tsc_to_ns(r.sent_tsc - r.journaled_tsc);
            kept++;
        }
    }
    char what[96];
    snprintf(what, sizeof what, "%s: order -> first report", label);
    print_percentiles(what, first, (size_t)kept, "us");
    snprintf(what, sizeof what, "%s: order -> fill", label);
    print_percentiles(what, last, (size_t)kept, "us");
    snprintf(what, sizeof what, "%s: send_order call -> bytes ready", label);
    print_percentiles(what, to_ready, (size_t)kept, "ns");
    snprintf(what, sizeof what, "%s: bytes ready -> journaled", label);
    print_percentiles(what, to_journal, (size_t)kept, "ns");
    snprintf(what, sizeof what, "%s: journaled -> send() returned", label);
    print_percentiles(what, to_sent, (size_t)kept, "ns");
    free(to_journal);
    free(first);
    free(last);
    free(to_ready);
    free(to_sent);
    ht_gw_logout(gw, "bench done");
    for (int i = 0; i < 100 && ht_gw_get_state(gw) != HT_GW_STOPPED; i++) {
        ht_gw_poll(gw, ev, 16);
        ht_gw_wait(gw, 5);
    }
    ht_gw_destroy(gw);
    unlink(journal);
    return 0;
}

/* An exchange simulator with deep books on its own thread, or NULL (said why). */
static ht_xsim *start_sim(void)
{
    ht_xsim_config xc;
    ht_xsim_config_default(&xc);
    xc.default_level_qty = 1e9;
    ht_error err;
    ht_xsim *x = ht_xsim_create(&xc, &err);
    if (!x || ht_xsim_start(x, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        if (x)
            ht_xsim_destroy(x);
        return NULL;
    }
    return x;
}

/* How a benchmarked gateway journals and sends (--journal, --send). */
typedef struct io_case {
    ht_journal_mode journal;
    int send; /* 0 plain, 1 io_uring */
    int sq_cpu; /* io_uring: send_sq_cpu (-1: unbound) */
} io_case;

/* A gateway logged on to the simulator at port as sender, every risk rule on (a mark for the collar, windows with
 * room), journaling to a fresh file in the case's mode; NULL (said why) when it cannot start or log on. */
static ht_gw *bench_gateway(uint16_t port, const char *sender, const io_case *io, char *journal, size_t journal_cap)
{
    snprintf(journal, journal_cap, "/tmp/bench_gateway_%d_%s.journal", (int)getpid(), sender);
    unlink(journal);
    ht_gw_config c;
    ht_gw_config_default(&c);
    c.port = port;
    snprintf(c.sender_comp_id, sizeof c.sender_comp_id, "%s", sender);
    snprintf(c.journal_path, sizeof c.journal_path, "%s", journal);
    snprintf(c.log_path, sizeof c.log_path, "/dev/null");
    c.journal_fsync = HT_JOURNAL_FSYNC_NEVER;
    c.journal_mode = io->journal;
    c.send = io->send ? HT_GW_SEND_IO_URING : HT_GW_SEND_PLAIN;
    c.send_sq_cpu = io->sq_cpu;
    c.risk.max_orders_per_sec = 100000;
    c.risk.max_notional = 1e15;
    c.rate.me_rate_per_s = c.rate.me_burst = 1e6;
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    if (!gw) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return NULL;
    }
    ht_gw_set_mark(gw, "BTC-PERPETUAL", 50000);
    ht_gw_event ev[16];
    uint64_t until = ht_mono_ns() + 10000000000ull;
    while (ht_gw_get_state(gw) != HT_GW_ACTIVE && ht_mono_ns() < until) {
        ht_gw_poll(gw, ev, 16);
        ht_gw_wait(gw, 5);
    }
    if (ht_gw_get_state(gw) != HT_GW_ACTIVE) {
        fprintf(stderr, "bench: %s did not log on\n", sender);
        ht_gw_destroy(gw);
        return NULL;
    }
    return gw;
}

/* The samples bench_one takes of each order (ns). */
enum { S_READY, S_JOURNALED, S_WRITTEN, S_REPORT, SAMPLES };
static const char *const k_sample_names[SAMPLES] = {"call -> bytes ready", "bytes ready -> journaled",
                                                    "bytes ready -> written", "bytes ready -> first report"};

/* Order i of a run: sent (ht_gw_send_order) or armed then fired (ht_gw_fire_armed), then polled until it is done;
 * t[S_*]: call -> bytes ready, -> journaled, -> written (the journal, and the send() or ring entry), -> the venue's
 * first report read (the bytes really left: with io_uring, after the polling thread sent them). 0, or -1 (said why)
 * when it was refused or the session went down. */
static int bench_one(ht_gw *gw, int i, bool fire, double t[SAMPLES])
{
    ht_gw_order o = {"BTC-PERPETUAL", i & 1 ? HT_GW_SELL : HT_GW_BUY, 1 + i % 5, i & 1 ? 49000 : 51000, 3,
                     (uint64_t)i + 1000000};
    ht_gw_send_result r;
    ht_gw_armed a;
    if (fire && ht_gw_arm_order(gw, &o, &a, &r) != HT_GW_SENT) {
        fprintf(stderr, "bench: order %d not armed: %s\n", i, r.reason);
        return -1;
    }
    uint64_t t_call = ht_tsc_now();
    int rc = fire ? ht_gw_fire_armed(gw, &a, o.qty, o.trigger_channel, o.trigger_seq, &r) : ht_gw_send_order(gw, &o, &r);
    if (rc != HT_GW_SENT) {
        fprintf(stderr, "bench: order %d refused: %s\n", i, r.reason);
        return -1;
    }
    t[S_READY] = ht_tsc_to_ns(r.ready_tsc - t_call);
    t[S_JOURNALED] = ht_tsc_to_ns(r.journaled_tsc - r.ready_tsc);
    t[S_WRITTEN] = ht_tsc_to_ns(r.sent_tsc - r.ready_tsc);
    t[S_REPORT] = 0;
    ht_gw_event ev[16];
    while (ht_gw_open_orders(gw) && ht_gw_get_state(gw) == HT_GW_ACTIVE) {
        int n = ht_gw_poll(gw, ev, 16);
        for (int k = 0; k < n && !t[S_REPORT]; k++)
            if (ev[k].type == HT_GW_EV_EXEC && ev[k].clordid_num == r.clordid)
                t[S_REPORT] = ht_tsc_to_ns(ev[k].recv_tsc - r.ready_tsc);
    }
    return ht_gw_get_state(gw) == HT_GW_ACTIVE ? 0 : -1;
}

/* The name of an io case: "write+plain". */
static const char *io_case_name(const io_case *io, char *out, size_t cap)
{
    snprintf(out, cap, "%s+%s", ht_journal_mode_name(io->journal), io->send ? "io_uring" : "plain");
    return out;
}

/* Prints the samples of bench_one (n each) for a path and an io case. */
static void print_io_case(const char *path, const char *io_name, double *samples[SAMPLES], size_t n)
{
    for (int k = 0; k < SAMPLES && n > 0; k++) {
        char line[96];
        snprintf(line, sizeof line, "%-16s %-14s %s", path, io_name, k_sample_names[k]);
        print_percentiles(line, samples[k], n, "ns");
    }
}

/* The same orders through ht_gw_send_order (fire false) or armed and fired (ht_gw_fire_armed), one at a time against
 * the simulator: prints the samples of bench_one. For callgrind (bench/gateway/armed_instructions.sh): the
 * instructions up to ready are the call's inclusive count less gw_order_out's (ready stamp, journal, send,
 * bookkeeping). */
static int armed_compare(bool fire, int orders, const io_case *io)
{
    ht_xsim *x = start_sim();
    if (!x)
        return 1;
    char journal[128], name[32];
    ht_gw *gw = bench_gateway(ht_xsim_port(x), "HEDGETRIG", io, journal, sizeof journal);
    double *samples[SAMPLES];
    for (int k = 0; k < SAMPLES; k++)
        samples[k] = calloc((size_t)orders, sizeof(double));
    int kept = 0;
    for (double t[SAMPLES]; gw && kept < orders && bench_one(gw, kept, fire, t) == 0; kept++)
        for (int k = 0; k < SAMPLES; k++)
            samples[k][kept] = t[k];
    print_io_case(fire ? "ht_gw_fire_armed" : "ht_gw_send_order", io_case_name(io, name, sizeof name), samples,
                  (size_t)kept);
    ht_gw_uring_stats us = {0};
    if (gw && io->send) {
        ht_gw_uring_stats_get(gw, &us);
        printf("io_uring: %llu ring entries, %llu woke the polling thread, %llu queued behind one in flight, %llu short\n",
               (unsigned long long)us.sends, (unsigned long long)us.wakeups, (unsigned long long)us.queued,
               (unsigned long long)us.short_sends);
    }
    for (int k = 0; k < SAMPLES; k++)
        free(samples[k]);
    ht_gw_destroy(gw);
    ht_xsim_destroy(x);
    unlink(journal);
    return kept == orders ? 0 : 1;
}

/* One phase of io_matrix: a gateway per case on the simulator x, the orders interleaved (order i goes through every
 * case in turn, even ones sent, odd ones armed and fired); prints the samples per path and case. 0, or 1. */
static int io_phase(ht_xsim *x, const io_case *io, const char *const *senders, int cases, int orders)
{
    enum { MAX_CASES = 2 };
    ht_gw *gw[MAX_CASES] = {0};
    char journal[MAX_CASES][128];
    double *samples[MAX_CASES][2][SAMPLES]; /* [case][send, fire][sample] */
    int ok = 1;
    for (int c = 0; c < cases; c++) {
        gw[c] = bench_gateway(ht_xsim_port(x), senders[c], &io[c], journal[c], sizeof journal[c]);
        ok &= gw[c] != NULL;
        for (int k = 0; k < 2 * SAMPLES; k++)
            samples[c][k / SAMPLES][k % SAMPLES] = calloc((size_t)orders / 2 + 1, sizeof(double));
    }
    int done = 0;
    for (int i = 0; ok && i < orders; i++, done++) {
        for (int c = 0; ok && c < cases; c++) {
            double t[SAMPLES];
            ok = bench_one(gw[c], i, i & 1, t) == 0;
            for (int k = 0; k < SAMPLES; k++)
                samples[c][i & 1][k][i / 2] = t[k];
        }
    }
    for (int p = 0; p < 2; p++) {
        for (int c = 0; c < cases; c++) {
            char name[32];
            print_io_case(p ? "ht_gw_fire_armed" : "ht_gw_send_order", io_case_name(&io[c], name, sizeof name),
                          samples[c][p], (size_t)done / 2);
        }
    }
    for (int c = 0; c < cases; c++) {
        for (int k = 0; k < 2 * SAMPLES; k++)
            free(samples[c][k / SAMPLES][k % SAMPLES]);
        ht_gw_destroy(gw[c]);
        unlink(journal[c]);
    }
    return ok ? 0 : 1;
}

/* Every journal mode and send mode in one run: the two journal modes interleaved with plain send(), then each
 * journal mode with io_uring, one gateway at a time (each io_uring gateway's polling thread spins on a core: two of
 * them, or one beside the plain cases, would starve the others on a machine without cores to spare). */
static int io_matrix(int orders, bool uring)
{
    ht_xsim *x = start_sim();
    if (!x)
        return 1;
    static const char *const plain_senders[2] = {"HT_WRITE_PLAIN", "HT_MMAP_PLAIN"};
    static const char *const uring_senders[2] = {"HT_WRITE_URING", "HT_MMAP_URING"};
    const io_case plain[2] = {{HT_JOURNAL_MODE_WRITE, 0, -1}, {HT_JOURNAL_MODE_MMAP, 0, -1}};
    const io_case rings[2] = {{HT_JOURNAL_MODE_WRITE, 1, -1}, {HT_JOURNAL_MODE_MMAP, 1, -1}};
    int rc = io_phase(x, plain, plain_senders, 2, orders);
    for (int c = 0; rc == 0 && uring && c < 2; c++)
        rc = io_phase(x, &rings[c], &uring_senders[c], 1, orders);
    ht_xsim_destroy(x);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* no buffered output duplicated by fork */
    if (argc > 1 && strcmp(argv[1], "--encode-only") == 0) { /* for callgrind: 2,100,000 encodes, nothing else */
        ht_tsc_calibrate(50);
        bench_encode();
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "--armed") == 0) { /* --armed send|fire [ORDERS] [--journal M] [--send M] */
        io_case io = {HT_JOURNAL_MODE_MMAP, 0, -1};
        int orders = argc > 3 && argv[3][0] != '-' ? atoi(argv[3]) : 5000;
        for (int i = 3; i + 1 < argc; i++) {
            if (strcmp(argv[i], "--journal") == 0)
                io.journal = strcmp(argv[i + 1], "write") == 0 ? HT_JOURNAL_MODE_WRITE : HT_JOURNAL_MODE_MMAP;
            if (strcmp(argv[i], "--send") == 0)
                io.send = strcmp(argv[i + 1], "io_uring") == 0;
            if (strcmp(argv[i], "--sq-cpu") == 0)
                io.sq_cpu = atoi(argv[i + 1]);
        }
        ht_tsc_calibrate(50);
        return armed_compare(strcmp(argv[2], "fire") == 0, orders, &io);
    }
    if (argc > 1 && strcmp(argv[1], "--io-matrix") == 0) { /* --io-matrix [ORDERS]: journal x send side by side */
        ht_tsc_calibrate(50);
        if (!ht_gw_io_uring_built())
            printf("io_uring: not measured (this build has no liburing)\n");
        return io_matrix(argc > 2 ? atoi(argv[2]) : 4000, ht_gw_io_uring_built());
    }
    int orders = argc > 1 ? atoi(argv[1]) : 5000;
    const char *executor = argc > 2 ? argv[2] : NULL;
    if (orders < 100)
        orders = 100;
    ht_tsc_calibrate(50);
    bench_encode();

    ht_xsim *x = start_sim();
    if (!x)
        return 1;
    round_trips("exchange-sim (thread, loopback TCP)", ht_xsim_port(x), "DERIBITSERVER", orders);
    ht_xsim_destroy(x);

    if (!executor || access(executor, X_OK) != 0) {
        printf("QuickFIX executor: not measured (pass the path of tests/gateway/qf_executor/executor)\n");
        return 0;
    }
    uint16_t port = free_port();
    char cfg[256];
    snprintf(cfg, sizeof cfg, "/tmp/bench_gateway_%d.cfg", (int)getpid());
    FILE *f = fopen(cfg, "w");
    fprintf(f, "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=%u\nSocketReuseAddress=Y\nFileStorePath=/tmp/"
               "bench_gateway_%d_store\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=N\nResetOnLogon=Y\n"
               "SocketNodelay=Y\n\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=EXECUTOR\nTargetCompID=HEDGETRIG\n",
            port, (int)getpid());
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(executor, executor, cfg, (char *)NULL);
        _exit(127);
    }
    round_trips("QuickFIX executor (process, loopback TCP)", port, "EXECUTOR", orders);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/bench_gateway_%d_store", (int)getpid());
    if (system(cmd) != 0)
        return 1;
    return 0;
}

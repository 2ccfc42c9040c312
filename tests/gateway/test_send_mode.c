/* SPDX-License-Identifier: MIT */
/* [gateway] send = plain|io_uring: the key and its checks, and the refusal when the ring cannot be made. A process
 * whose seccomp filter makes io_uring_setup fail with EPERM (what a container's default profile does) must not
 * start a gateway asked for io_uring: ht_gw_create fails naming the key, and nothing falls back to send(). The
 * sessions through the ring are the simulator tests run a second time (test_gw_*_io_uring). send_sq_cpu binds the
 * polling thread: read back from the kernel's own view of that thread. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/gateway.h"

/* A config file with one [gateway] body. 0 or -1 from ht_gw_config_load. */
static int load(const char *body, ht_gw_config *c, ht_error *err)
{
    const char *path = HT_TEST_TMPDIR "/send.conf";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[gateway]\n%s", body);
    fclose(f);
    ht_gw_config_default(c);
    return ht_gw_config_load(c, path, err);
}

static void send_key_loads_and_refuses(void **state)
{
    (void)state;
    ht_gw_config c;
    ht_error err;
    assert_int_equal(load("send = plain\n", &c, &err), 0);
    assert_int_equal(c.send, HT_GW_SEND_PLAIN);
    assert_int_equal(c.send_sq_idle_ms, 1000);
    assert_int_equal(load("send = io_uring\nsend_sq_idle_ms = 50\n", &c, &err), ht_gw_io_uring_built() ? 0 : -1);
    if (ht_gw_io_uring_built()) {
        assert_int_equal(c.send, HT_GW_SEND_IO_URING);
        assert_int_equal(c.send_sq_idle_ms, 50);
    } else {
        assert_non_null(strstr(err.msg, "no io_uring send path"));
    }
    assert_int_equal(load("send = uring\n", &c, &err), -1);
    assert_non_null(strstr(err.msg, "send"));
    assert_non_null(strstr(err.msg, ":2")); /* the line */
    assert_int_equal(load("send_sq_idle_ms = 0\n", &c, &err), -1);
    assert_non_null(strstr(err.msg, "1..60000"));
    /* mmap with an fsync per record: refused naming both keys; always alone gets a write journal. */
    assert_int_equal(load("journal_mode = mmap\njournal_fsync = always\n", &c, &err), -1);
    assert_non_null(strstr(err.msg, "journal_fsync = always needs journal_mode = write"));
    assert_int_equal(load("journal_fsync = always\n", &c, &err), 0);
    assert_int_equal(c.journal_mode, HT_JOURNAL_MODE_WRITE);
}

/* A gateway config asking for io_uring, at a port nothing listens on (no connection before the first poll), with its
 * journal and log named after name (the journal removed). */
static void uring_config(ht_gw_config *c, const char *name)
{
    ht_gw_config_default(c);
    c->port = 1;
    c->send = HT_GW_SEND_IO_URING;
    snprintf(c->journal_path, sizeof c->journal_path, HT_TEST_TMPDIR "/%s.journal", name);
    snprintf(c->log_path, sizeof c->log_path, HT_TEST_TMPDIR "/%s.log", name);
    unlink(c->journal_path);
}

/* Makes io_uring_setup fail with EPERM in this process from now on (seccomp, as a container's profile does). */
static int forbid_io_uring(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* In a child without io_uring: 0 when ht_gw_create refused send = io_uring naming the key and the cause, else the
 * number of the check that failed. */
static int child_without_io_uring(void)
{
    if (forbid_io_uring() != 0)
        return 10;
    ht_gw_config c;
    uring_config(&c, "no_uring");
    ht_error err;
    ht_gw *gw = ht_gw_create(&c, &err);
    if (gw) {
        ht_gw_destroy(gw);
        return 1; /* started anyway: a silent fallback */
    }
    printf("refused as expected: %s\n", err.msg);
    fflush(stdout);
    if (!strstr(err.msg, "send = io_uring"))
        return 2;
    if (ht_gw_io_uring_built() && !strstr(err.msg, strerror(EPERM)))
        return 3;
    c.send = HT_GW_SEND_PLAIN; /* the same process with send = plain starts */
    gw = ht_gw_create(&c, &err);
    if (!gw)
        return 4;
    ht_gw_destroy(gw);
    return 0;
}

static void io_uring_refused_by_the_kernel_stops_the_start(void **state)
{
    (void)state;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_without_io_uring());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("the child failed check %d", WEXITSTATUS(status));
}

/* The CPUs the process's io_uring polling thread ("iou-sqp-PID") may run on, as a bit mask of CPUs 0..63; 0 when
 * there is no such thread. */
static uint64_t sqpoll_thread_cpus(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    uint64_t mask = 0;
    for (struct dirent *t; (t = readdir(d)) != NULL && !mask;) {
        char path[64], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%.20s/comm", t->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(name, sizeof name, f))
            name[0] = '\0';
        fclose(f);
        if (strncmp(name, "iou-sqp-", 8) != 0)
            continue;
        cpu_set_t set;
        assert_int_equal(sched_getaffinity(atoi(t->d_name), sizeof set, &set), 0);
        for (int cpu = 0; cpu < 64; cpu++)
            if (CPU_ISSET(cpu, &set))
                mask |= 1ull << cpu;
    }
    closedir(d);
    return mask;
}

static void sq_cpu_binds_the_polling_thread(void **state)
{
    (void)state;
    ht_gw_config c;
    ht_error err;
    uring_config(&c, "sq_cpu");
    if (!ht_gw_io_uring_built()) { /* a build without liburing: refused, naming why */
        assert_null(ht_gw_create(&c, &err));
        assert_non_null(strstr(err.msg, "no io_uring send path"));
        return;
    }
    int last = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
    c.send_sq_cpu = last < 63 ? last : 63;
    ht_gw *gw = ht_gw_create(&c, &err);
    if (!gw)
        fail_msg("%s", err.msg);
    /* The thread names and binds itself once it runs: give it up to 2 s to do so. */
    uint64_t want = 1ull << c.send_sq_cpu, got = 0;
    for (int i = 0; i < 200 && (got = sqpoll_thread_cpus()) != want; i++)
        usleep(10000);
    assert_int_equal(got, want);
    ht_gw_destroy(gw);
    /* A CPU that is not there: refused naming the key. */
    c.send_sq_cpu = 4095;
    assert_null(ht_gw_create(&c, &err));
    assert_non_null(strstr(err.msg, "send_sq_cpu = 4095"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(send_key_loads_and_refuses),
        cmocka_unit_test(sq_cpu_binds_the_polling_thread),
        cmocka_unit_test(io_uring_refused_by_the_kernel_stops_the_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* The io_uring send path ([gateway] send = io_uring): every byte the session sends goes through one ring whose
 * submission queue a kernel thread polls (IORING_SETUP_SQPOLL), so the order path copies its bytes into a staging
 * buffer and writes a ring entry, without a syscall while that thread is awake. One send is in flight at a time
 * (two sends on a stream socket may complete out of order): what comes meanwhile is queued behind it and sent in one
 * piece when it completes; a short send sends its rest first. Completions are reaped without a syscall, by the next
 * send and by ht_gw_poll; an error is reported there and ends the connection as a failed send() does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gw_priv.h"
#include "hedgetrig/tsc.h"

#ifdef HT_HAVE_LIBURING
#include <liburing.h>

#define URING_ENTRIES 8

struct gw_uring {
    struct io_uring ring;
    char *buf;          /* staging: bytes stay here until the kernel has sent them */
    size_t head;        /* first byte not sent yet (the send in flight starts here) */
    size_t inflight;    /* bytes of the send in flight (0: none) */
    size_t tail;        /* end of the queued bytes */
    uint64_t conn;      /* connection number, in each entry's user_data: a late completion of an old socket is ignored */
    int error;          /* errno of a failed send, until it is reported */
    ht_gw_uring_stats stats;
};

bool ht_gw_io_uring_built(void)
{
    return true;
}

int gw_uring_create(ht_gw *gw, ht_error *err)
{
    if (gw->cfg.send != HT_GW_SEND_IO_URING)
        return 0;
    if (gw->cfg.send_sq_idle_ms < 1 || gw->cfg.send_sq_idle_ms > 60000)
        return ht_error_set(err, "gateway: send_sq_idle_ms must be 1..60000, got %u", gw->cfg.send_sq_idle_ms);
    if (gw->cfg.send_sq_cpu < -1 || gw->cfg.send_sq_cpu > 4095)
        return ht_error_set(err, "gateway: send_sq_cpu must be -1 or 0..4095, got %d", gw->cfg.send_sq_cpu);
    gw_uring *u = calloc(1, sizeof *u);
    if (!u || !(u->buf = malloc(TX_CAP))) {
        free(u);
        return ht_error_set(err, "gateway: out of memory for the io_uring send path");
    }
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SQPOLL;
    p.sq_thread_idle = gw->cfg.send_sq_idle_ms;
    if (gw->cfg.send_sq_cpu >= 0) {
        p.flags |= IORING_SETUP_SQ_AFF;
        p.sq_thread_cpu = (unsigned)gw->cfg.send_sq_cpu;
    }
    int rc = io_uring_queue_init_params(URING_ENTRIES, &u->ring, &p);
    if (rc < 0) {
        free(u->buf);
        free(u);
        if (gw->cfg.send_sq_cpu >= 0 && rc == -EINVAL)
            return ht_error_set(err, "gateway: [gateway] send = io_uring: io_uring_queue_init refused send_sq_cpu = %d: "
                                "%s (is that CPU online and allowed to this process?)", gw->cfg.send_sq_cpu,
                                strerror(-rc));
        return ht_error_set(err, "gateway: [gateway] send = io_uring: io_uring_queue_init with IORING_SETUP_SQPOLL "
                            "failed: %s (a container's seccomp profile, kernel.io_uring_disabled or an old kernel "
                            "forbids it; set send = plain)", strerror(-rc));
    }
    gw->uring = u;
    gw_log(gw, "send = io_uring: ring of %d entries, submission-queue polling thread idles after %u ms, %s %d",
           URING_ENTRIES, gw->cfg.send_sq_idle_ms, gw->cfg.send_sq_cpu >= 0 ? "bound to CPU" : "CPU",
           gw->cfg.send_sq_cpu);
    return 0;
}

void gw_uring_destroy(ht_gw *gw)
{
    gw_uring *u = gw->uring;
    if (!u)
        return;
    io_uring_queue_exit(&u->ring);
    free(u->buf);
    free(u);
    gw->uring = NULL;
}

/* Hands the queued bytes to the ring when nothing is in flight (the polling thread picks the entry up; a syscall
 * only when it sleeps). */
static void submit_queued(gw_uring *u, int fd)
{
    if (u->inflight || u->error || u->head == u->tail)
        return;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (HT_UNLIKELY(!sqe))
        return; /* the ring is full of entries the thread has not taken: the next reap submits */
    io_uring_prep_send(sqe, fd, u->buf + u->head, u->tail - u->head, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, u->conn);
    u->inflight = u->tail - u->head;
    if (HT_UNLIKELY(IO_URING_READ_ONCE(*u->ring.sq.kflags) & IORING_SQ_NEED_WAKEUP))
        u->stats.wakeups++;
    io_uring_submit(&u->ring);
    u->stats.sends++;
}

/* Takes the completions that are there (no syscall): the send in flight is done, short (its rest goes next) or
 * failed (u->error). */
static void reap(gw_uring *u)
{
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        int res = cqe->res;
        uint64_t conn = io_uring_cqe_get_data64(cqe);
        io_uring_cqe_seen(&u->ring, cqe);
        if (conn != u->conn || !u->inflight)
            continue;
        if (res < 0) {
            u->error = -res;
        } else {
            if ((size_t)res < u->inflight)
                u->stats.short_sends++;
            u->head += (size_t)res;
        }
        u->inflight = 0;
    }
    if (!u->inflight && u->head == u->tail)
        u->head = u->tail = 0;
}

int gw_uring_send(ht_gw *gw, const char *bytes, size_t len)
{
    gw_uring *u = gw->uring;
    reap(u);
    if (HT_UNLIKELY(u->error)) {
        errno = u->error;
        return -1;
    }
    if (u->tail + len > TX_CAP && !u->inflight && u->head) { /* move the unsent bytes down (none in the kernel) */
        memmove(u->buf, u->buf + u->head, u->tail - u->head);
        u->tail -= u->head;
        u->head = 0;
    }
    if (HT_UNLIKELY(u->tail + len > TX_CAP)) {
        errno = ENOBUFS;
        return -1;
    }
    memcpy(u->buf + u->tail, bytes, len);
    u->tail += len;
    if (u->inflight)
        u->stats.queued++;
    submit_queued(u, gw->fd);
    gw->last_tx_ns = ht_mono_ns();
    return 0;
}

int gw_uring_flush(ht_gw *gw)
{
    gw_uring *u = gw->uring;
    reap(u);
    if (u->error) {
        gw_log(gw, "io_uring send failed: %s", strerror(u->error));
        errno = u->error;
        return -1;
    }
    submit_queued(u, gw->fd);
    return 0;
}

bool gw_uring_busy(const ht_gw *gw)
{
    const gw_uring *u = gw->uring;
    return u && (u->head != u->tail || u->error);
}

int gw_uring_fd(const ht_gw *gw)
{
    return gw->uring ? gw->uring->ring.ring_fd : -1;
}

void gw_uring_drop(ht_gw *gw)
{
    gw_uring *u = gw->uring;
    if (!u)
        return;
    if (u->inflight && gw->fd >= 0) {
        /* The ring holds the socket until its send completes: shut it down so that the send ends now, and wait for
         * it (the staging bytes it reads are reused next). */
        shutdown(gw->fd, SHUT_RDWR);
        struct __kernel_timespec limit = {1, 0};
        struct io_uring_cqe *cqe;
        while (u->inflight && io_uring_wait_cqe_timeout(&u->ring, &cqe, &limit) == 0)
            reap(u);
    }
    u->conn++;
    u->head = u->tail = u->inflight = 0;
    u->error = 0;
}

void ht_gw_uring_stats_get(const ht_gw *gw, ht_gw_uring_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (gw->uring)
        *stats = gw->uring->stats;
}

#else /* a build without liburing: send = io_uring is refused with the reason */

bool ht_gw_io_uring_built(void)
{
    return false;
}

int gw_uring_create(ht_gw *gw, ht_error *err)
{
    if (gw->cfg.send != HT_GW_SEND_IO_URING)
        return 0;
    return ht_error_set(err, "gateway: [gateway] send = io_uring, but this build has no io_uring send path (it was "
                        "built without liburing: install liburing-dev and rebuild, or set send = plain)");
}

void gw_uring_destroy(ht_gw *gw) { (void)gw; }
int gw_uring_send(ht_gw *gw, const char *bytes, size_t len) { (void)gw, (void)bytes, (void)len; return -1; }
int gw_uring_flush(ht_gw *gw) { (void)gw; return 0; }
bool gw_uring_busy(const ht_gw *gw) { (void)gw; return false; }
int gw_uring_fd(const ht_gw *gw) { (void)gw; return -1; }
void gw_uring_drop(ht_gw *gw) { (void)gw; }

void ht_gw_uring_stats_get(const ht_gw *gw, ht_gw_uring_stats *stats)
{
    (void)gw;
    memset(stats, 0, sizeof *stats);
}

#endif

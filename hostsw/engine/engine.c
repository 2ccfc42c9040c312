/* SPDX-License-Identifier: MIT */
/* The engine's life cycle: the stages, the venue's logon, the replay and live loops, the report. */

/*
 * One tick's path, NIC to order (replay runs every hop in one thread; live, hops 1-7 on the fast half's core and
 * 8-14 on the slow half's thread, with the ring of spsc.c between 7 and 8):
 *
 *   1. drivers/nic/replay.c, nic.c, nic_pcap.c | nic_dpdk.c | nic_socket.c  ht_nic_replay -> ht_nic_rx_burst: a
 *      burst of UDP payloads with their rx TSC (or the app's source function: hostsw/app/engine_setup.c, the
 *      market simulator)
 *   2. hostsw/engine/engine.c           source_burst -> engine_fast_packet (replay: ht_engine_on_packet)
 *   3. hostsw/engine/fast.c             engine_fast_packet -> ht_feed_on_packet
 *   4. hostsw/feed/feed.c, sbe.c, feed_registry.c, feed_books.c  SBE decode, sequence and gap check, registry
 *      and books -> on_feed_event
 *   5. hostsw/engine/fast.c             on_feed_event: an index of a book's underlying -> on_tick
 *   6. drivers/fpga/pipe.c -> pipe_sw.c (C model: pipe_model.h) | pipe_verilator.cpp | pipe_xrt.c
 *                                       ht_pipe_push_tick, ht_pipe_poll_event: net delta against the band
 *   7. hostsw/engine/fast.c, engine.c   a breach -> msg_breach (stamps, trust bits, the hedge books' quotes)
 *                                       -> engine_post: handled at once (replay) or committed to the ring (live)
 *   8. hostsw/engine/slow.c             engine_slow_handle, MSG_BREACH -> slow_decide
 *   9. hostsw/engine/slow_orders.c      slow_decide: trust check (suppressed), the quotes -> ht_opt_decide
 *  10. hostsw/optimizer/optimizer.c, bands.c, split.c  cost, band, sizes and the split over the venues
 *  11. hostsw/engine/slow_orders.c      send_orders -> venue->ops->send, the orders back to back (hedgetrig/venue.h)
 *  12. hostsw/gateway/venue_fix.c       fix_send -> ht_gw_send_order
 *  13. hostsw/gateway/gw_orders.c, risk.c, fix.c, gw_journal.c, gw_session.c  risk checks, FIX encode, journal
 *      (write-ahead), send()
 *  14. the venue: Deribit, or the exchange simulator started in-process by the app (hostsw/app/venue_sim.c)
 *
 * and back: slow_poll_venue (slow_orders.c) -> venue->ops->poll (venue_fix.c: execution reports as fills, rejects,
 * order ends) -> apply_fill, order_done -> decision_resolved: the inventory and band as commands to the fast half
 * (engine_command -> engine_fast_apply in fast.c, which re-arms the pipeline). The event log, the series and the
 * statistics are written in slow_log.c; the book, arming and the greeks refresh live in slow_book.c.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slow_priv.h"
#include "hedgetrig/tsc.h"

#define POLL_EVERY_PACKETS 64 /* replay: the venue is polled this often between decisions, */
#define POLL_EVERY_MS 100      /* and whenever the capture's clock moved this far: the account script's events
                                  reach the book within 0.1 s of capture time, whatever the packet rate */

void engine_fail(ht_engine *e, const char *fmt, ...)
{
    pthread_mutex_lock(&e->error_lock);
    if (!e->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->error, sizeof e->error, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&e->error_lock);
    atomic_store(&e->stop, 1);
}

const char *ht_engine_last_error(const ht_engine *e)
{
    return e->error;
}

void ht_engine_request_stop(ht_engine *e)
{
    atomic_store(&e->stop, 1);
}

void engine_post(ht_engine *e, const void *msg, size_t len)
{
    if (!e->cfg.threads) {
        uint64_t t0 = ht_tsc_now();
        engine_slow_handle(&e->slow, msg, len);
        e->fast.slow_tsc += ht_tsc_now() - t0;
        return;
    }
    uint32_t type;
    memcpy(&type, msg, sizeof type);
    void *p;
    /* Never block the fast half, except for a breach (losing one would leave its underlying muted) and a change
     * of trust (losing one could let the slow half trade on a quote the feed no longer trusts). */
    while ((p = ht_spsc_reserve(e->to_slow, len)) == NULL) {
        if (type != MSG_BREACH && type != MSG_END && type != MSG_LOAD_DONE && type != MSG_ERROR && type != MSG_TRUST) {
            e->fast.posts_dropped++;
            return;
        }
        if (atomic_load(&e->slow_done))
            return;
    }
    memcpy(p, msg, len);
    /* A breach goes out at once; the rest is published at the end of the packet burst (flush_posts). */
    if (type == MSG_BREACH || type == MSG_END || type == MSG_ERROR) {
        ht_spsc_commit(e->to_slow);
    } else {
        ht_spsc_stage(e->to_slow);
        e->posts_staged = true;
    }
}

/* Publishes the fast half's staged messages. */
static void flush_posts(ht_engine *e)
{
    if (e->posts_staged) {
        ht_spsc_publish(e->to_slow);
        e->posts_staged = false;
    }
}

void engine_command(ht_engine *e, const engine_cmd *c)
{
    if (!e->cfg.threads) {
        engine_fast_apply(&e->fast, c);
        return;
    }
    void *p;
    while ((p = ht_spsc_reserve(e->to_fast, sizeof *c)) == NULL) {
        if (atomic_load(&e->stop))
            return;
        sched_yield();
    }
    memcpy(p, c, sizeof *c);
    ht_spsc_commit(e->to_fast);
}

/* Pins the calling thread to a CPU (cpu < 0: leaves it alone). A failure is reported, not fatal. */
static void pin_thread(int cpu, const char *who)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0)
        fprintf(stderr, "hedgetrig: cannot pin the %s half to CPU %d: %s (running unpinned)\n", who, cpu, strerror(rc));
}

int ht_engine_attach_venue(ht_engine *e, ht_venue *venue, ht_error *err)
{
    slow_half *s = &e->slow;
    if (s->venue) {
        ht_venue_destroy(venue);
        return ht_error_set(err, "engine: a venue is attached already");
    }
    s->venue = venue;
    const ht_venue_ops *ops = venue->ops;
    uint64_t deadline = ht_mono_ns() + (uint64_t)venue->logon_timeout_ms * 1000000u + 500000000u;
    while (ops->state(venue->ctx) != HT_VENUE_ACTIVE) {
        const char *problem = ops->last_problem(venue->ctx);
        if (ops->state(venue->ctx) == HT_VENUE_STOPPED)
            return ht_error_set(err, "venue %s: no logon: %s; session log %s", venue->address,
                                problem[0] ? problem : "no reason given", venue->session_log);
        if (e->cfg.stop_waiting && *e->cfg.stop_waiting)
            return ht_error_set(err, "venue: stopped by a signal while waiting for the logon from %s", venue->address);
        if (ht_mono_ns() > deadline)
            return ht_error_set(err, "venue: no logon from %s within %u ms (state %s%s%s; session log %s)",
                                venue->address, venue->logon_timeout_ms, ops->state_name(venue->ctx),
                                problem[0] ? "; last problem: " : "", problem, venue->session_log);
        ops->wait(venue->ctx, 5);
        engine_slow_poll(s);
    }
    return 0;
}

ht_engine *ht_engine_create(const ht_engine_config *cfg, ht_error *err)
{
    if (ht_engine_config_check(cfg, err) != 0)
        return NULL;
    ht_engine *e = calloc(1, sizeof *e);
    if (!e) {
        ht_error_set(err, "engine: out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    pthread_mutex_init(&e->error_lock, NULL);
    atomic_init(&e->stop, 0);
    atomic_init(&e->slow_done, 0);
    atomic_init(&e->packets_seen, 0);
    ht_tsc_calibrate(0);
    if (engine_fast_init(e, err) != 0 || engine_slow_init(e, err) != 0) {
        ht_engine_destroy(e);
        return NULL;
    }
    if (cfg->threads) {
        e->to_slow = ht_spsc_create(cfg->ring_bytes, err);
        e->to_fast = e->to_slow ? ht_spsc_create(1u << 16, err) : NULL;
        if (!e->to_fast) {
            ht_engine_destroy(e);
            return NULL;
        }
    }
    return e;
}

void ht_engine_destroy(ht_engine *e)
{
    if (!e)
        return;
    ht_venue_destroy(e->slow.venue);
    e->slow.venue = NULL;
    engine_slow_destroy(&e->slow);
    engine_fast_destroy(&e->fast);
    ht_spsc_destroy(e->to_slow);
    ht_spsc_destroy(e->to_fast);
    ht_profile_destroy(e->report_prof);
    pthread_mutex_destroy(&e->error_lock);
    free(e);
}

/* ---- Replay ---------------------------------------------------------------------------------------------- */

/* Replay: a session the venue dropped (a scripted disconnect) is logged on again before the next packet, the
 * capture's clock standing still, so the same capture gives the same orders whatever the machine's speed: a
 * reconnect takes wall time (the gateway's reconnect_min_ms and the logon), which a replay at full speed would
 * otherwise spend in a few packets of capture time. Waits once per drop, at most the venue's logon timeout plus
 * a second; a venue that does not come back leaves the orders refused as "not active", and says so. */
static void replay_wait_venue(ht_engine *e)
{
    slow_half *s = &e->slow;
    const ht_venue *v = s->venue;
    if (!v)
        return;
    ht_venue_state st = v->ops->state(v->ctx);
    if (st == HT_VENUE_ACTIVE) {
        e->replay_waited_drop = false;
        return;
    }
    if (st != HT_VENUE_CONNECTING || e->replay_waited_drop)
        return;
    e->replay_waited_drop = true;
    uint64_t t0 = ht_mono_ns();
    uint64_t deadline = t0 + (uint64_t)v->logon_timeout_ms * 1000000u + 1000000000u;
    while (v->ops->state(v->ctx) == HT_VENUE_CONNECTING && ht_mono_ns() < deadline && !e->error[0] &&
           !(e->cfg.stop_waiting && *e->cfg.stop_waiting)) {
        v->ops->wait(v->ctx, 5);
        engine_slow_poll(s);
    }
    if (v->ops->state(v->ctx) == HT_VENUE_ACTIVE)
        slow_log_info(s, "replay_wait", -1, "the capture waited %.0f ms of wall time for the venue's reconnect",
                      (double)(ht_mono_ns() - t0) / 1e6);
    else
        slow_log_info(s, "replay_wait", -1, "the venue is not back after %.0f ms (%s): orders are refused until it is",
                      (double)(ht_mono_ns() - t0) / 1e6, v->ops->state_name(v->ctx));
}

/* One packet of a replay through the fast half (wire mode: its frame too), then the slow half's periodic work. */
static int replay_packet(ht_engine *e, const ht_nic_packet *p, uint64_t rx_tsc)
{
    if (e->cfg.threads)
        return -1;
    if (!e->wall_start_ns)
        e->wall_start_ns = ht_mono_ns();
    if (e->fast.wire.on)
        engine_fast_frame(&e->fast, p, rx_tsc);
    else
        engine_fast_packet(&e->fast, p->payload, p->len, rx_tsc);
    slow_arm_update(&e->slow);
    uint64_t now_ms = e->slow.now_ms;
    if (e->fast.packets % POLL_EVERY_PACKETS == 0 || (now_ms && now_ms >= e->replay_poll_ms + POLL_EVERY_MS)) {
        e->replay_poll_ms = now_ms;
        engine_slow_poll(&e->slow);
        replay_wait_venue(e);
        engine_slow_status(&e->slow, false);
    }
    return e->error[0] ? -1 : 0;
}

int ht_engine_on_packet(ht_engine *e, const uint8_t *payload, size_t len, uint64_t rx_tsc, uint64_t ts_ns)
{
    (void)ts_ns;
    if (e->fast.wire.on) {
        engine_fail(e, "engine: wire mode needs Ethernet frames: a UDP payload alone cannot be replayed in it");
        return -1;
    }
    ht_nic_packet p;
    memset(&p, 0, sizeof p);
    p.payload = payload;
    p.len = (uint32_t)len;
    return replay_packet(e, &p, rx_tsc);
}

/* A run that the live book halted has failed: 0, or -1 with err saying why. */
static int check_halted(const ht_engine *e, ht_error *err)
{
    if (!e->slow.live.halted)
        return 0;
    return ht_error_set(err, "halted: %s", e->slow.live.halt_reason);
}

/* A run that decided to hedge but got no order to the market (each one refused by the gateway or rejected by
 * the venue) has failed, whatever else went well. 0, or -1 with err saying how many and the last reason. */
static int check_orders_reached_venue(const ht_engine *e, ht_error *err)
{
    const ht_engine_report *r = &e->slow.rep;
    if (r->orders + r->orders_refused == 0 || r->orders > r->orders_rejected)
        return 0;
    return ht_error_set(err, "no order reached the market: %llu refused by the gateway, %llu rejected by the venue "
                        "(last: %s)", (unsigned long long)r->orders_refused, (unsigned long long)r->orders_rejected,
                        e->slow.last_order_problem);
}

int ht_engine_finish(ht_engine *e, ht_error *err)
{
    if (e->finished)
        return e->error[0] ? ht_error_set(err, "%s", e->error) : 0;
    e->finished = true;
    if (!e->wall_start_ns)
        e->wall_start_ns = ht_mono_ns();
    engine_slow_shutdown(&e->slow);
    engine_slow_finish_stats(&e->slow);
    engine_slow_status(&e->slow, true);
    e->wall_end_ns = ht_mono_ns();
    if (e->error[0])
        return ht_error_set(err, "%s", e->error);
    if (!e->slow.armed)
        return ht_error_set(err, "engine: the source ended before hedging could start (%s)", e->slow.arm_blocker);
    if (check_halted(e, err) != 0)
        return -1;
    return check_orders_reached_venue(e, err);
}

/* ---- Live ------------------------------------------------------------------------------------------------ */

/* The slow half's thread: messages, the gateway, status, until the fast half says the end. */
static void *slow_main(void *arg)
{
    ht_engine *e = arg;
    slow_half *s = &e->slow;
    pin_thread(e->cfg.slow_cpu, "slow");
    bool end = false;
    while (!end) {
        size_t len;
        const void *p;
        unsigned handled = 0;
        while (handled < 256 && (p = ht_spsc_peek(e->to_slow, &len)) != NULL) {
            uint32_t type;
            memcpy(&type, p, sizeof type);
            end |= type == MSG_END;
            engine_slow_handle(s, p, len);
            ht_spsc_release(e->to_slow);
            handled++;
        }
        engine_slow_poll(s);
        slow_arm_update(s);
        engine_slow_status(s, false);
        if (handled == 0 && e->cfg.slow_idle_us) {
            struct timespec ts = {0, (long)e->cfg.slow_idle_us * 1000};
            nanosleep(&ts, NULL);
        }
    }
    engine_slow_shutdown(s);
    engine_slow_finish_stats(s);
    engine_slow_status(s, true);
    atomic_store(&e->slow_done, 1);
    return NULL;
}

/* Where packets come from in a run loop, and what stops it: an ht_nic, or the app's source function (the market
 * simulator). */
typedef struct source {
    ht_nic *nic;
    ht_engine_source_fn next;
    void *user;
    ht_engine *e;
    volatile sig_atomic_t *stop;
} source;

/* True when a signal or the engine itself stops the run loop (asked before every burst). */
static bool source_stopping(void *ctx)
{
    const source *src = ctx;
    return (src->stop && *src->stop) || atomic_load(&src->e->stop);
}

/* One burst (possibly empty) through the fast half, then the posts and commands of the two halves. */
static int source_burst(void *ctx, ht_nic_packet *pkts, unsigned n)
{
    ht_engine *e = ((source *)ctx)->e;
    for (unsigned i = 0; i < n; i++) {
        /* Replay times each packet from when the engine takes it; live, from the receive burst. */
        uint64_t rx = e->cfg.threads ? pkts[i].rx_tsc : 0;
        if (e->cfg.threads && e->fast.wire.on) {
            engine_fast_frame(&e->fast, &pkts[i], rx);
        } else if (e->cfg.threads) {
            engine_fast_packet(&e->fast, pkts[i].payload, pkts[i].len, rx);
        } else if (replay_packet(e, &pkts[i], rx) != 0) {
            break;
        }
    }
    atomic_store_explicit(&e->packets_seen, e->fast.packets, memory_order_relaxed);
    if (e->cfg.threads) {
        flush_posts(e);
        engine_fast_drain_commands(&e->fast);
    }
    return 0;
}

/* Runs the source to its end or a stop: 0, or -1 with err (the nic's message). */
static int source_run(source *src, ht_error *err)
{
    if (src->nic) {
        const ht_nic_replay_ops ops = {.on_burst = source_burst, .stop = source_stopping, .ctx = src};
        return ht_nic_replay(src->nic, &ops, NULL, err) == HT_NIC_REPLAY_ERROR ? -1 : 0;
    }
    /* The app's source: its packets' memory stays valid until its next call. */
    ht_nic_packet buf[HT_NIC_BURST];
    memset(buf, 0, sizeof buf);
    while (!source_stopping(src)) {
        int n = src->next(src->user, buf, HT_NIC_BURST, err);
        if (n == HT_NIC_EOF)
            return 0;
        if (n < 0)
            return -1;
        source_burst(src, buf, (unsigned)n);
    }
    return 0;
}

/* Runs a source to its end (or stop) through both halves. */
static int run_loop(ht_engine *e, source *src, volatile sig_atomic_t *stop, ht_error *err)
{
    int rc = 0;
    if (!e->slow.venue)
        return ht_error_set(err, "engine: no venue attached (ht_engine_attach_venue)");
    e->wall_start_ns = ht_mono_ns();
    if (e->cfg.threads) {
        if (pthread_create(&e->slow_thread, NULL, slow_main, e) != 0)
            return ht_error_set(err, "engine: cannot start the slow half's thread");
        pin_thread(e->cfg.hot_cpu, "fast");
    }
    src->e = e;
    src->stop = stop;
    rc = source_run(src, err);
    if (e->cfg.threads) {
        msg_type end = MSG_END;
        uint32_t word = end;
        engine_post(e, &word, sizeof word);
        while (!atomic_load(&e->slow_done)) {
            flush_posts(e);
            engine_fast_drain_commands(&e->fast);
            sched_yield();
        }
        pthread_join(e->slow_thread, NULL);
        e->finished = true;
        e->wall_end_ns = ht_mono_ns();
        if (rc == 0 && e->error[0])
            return ht_error_set(err, "%s", e->error);
        if (rc == 0 && !e->slow.armed)
            return ht_error_set(err, "engine: the source ended before hedging could start (%s)", e->slow.arm_blocker);
        if (rc == 0 && check_halted(e, err) != 0)
            return -1;
        return rc == 0 ? check_orders_reached_venue(e, err) : rc;
    }
    if (rc != 0) {
        ht_error tmp;
        ht_engine_finish(e, &tmp);
        return rc;
    }
    return ht_engine_finish(e, err);
}

int ht_engine_run_nic(ht_engine *e, ht_nic *nic, volatile sig_atomic_t *stop, ht_error *err)
{
    source src = {.nic = nic};
    ht_error why;
    if (e->fast.wire.on && ht_nic_deliver_frames(nic, &why) != 0)
        return ht_error_set(err, "wire mode needs Ethernet frames: use a pcap or dpdk source (%s)", why.msg);
    return run_loop(e, &src, stop, err);
}

int ht_engine_run_source(ht_engine *e, ht_engine_source_fn next, void *user, volatile sig_atomic_t *stop,
                         ht_error *err)
{
    source src = {.next = next, .user = user};
    if (e->fast.wire.on)
        return ht_error_set(err, "wire mode needs Ethernet frames: use a pcap or dpdk source (this source gives UDP "
                                 "payloads)");
    return run_loop(e, &src, stop, err);
}

/* ---- Report ---------------------------------------------------------------------------------------------- */

void ht_engine_get_report(const ht_engine *e, ht_engine_report *out)
{
    *out = e->slow.rep;
    const ht_feed_stats *fs = ht_feed_stats_get(e->fast.feed);
    out->packets = e->fast.packets;
    out->messages = fs->messages;
    out->malformed = fs->malformed_packets;
    out->gaps = fs->seq_gaps;
    out->pipeline_ticks = e->fast.ticks;
    out->messages_dropped = e->fast.posts_dropped;
    out->wall_s = (double)((e->wall_end_ns ? e->wall_end_ns : ht_mono_ns()) - e->wall_start_ns) / 1e9;
    double busy_ns = ht_tsc_to_ns(e->fast.busy_tsc);
    out->ticks_per_s = busy_ns > 0 ? (double)e->fast.ticks / (busy_ns / 1e9) : 0.0;
    double fast_ns = ht_tsc_to_ns(e->fast.busy_tsc > e->fast.slow_tsc ? e->fast.busy_tsc - e->fast.slow_tsc : 0);
    out->fast_ticks_per_s = fast_ns > 0 ? (double)e->fast.ticks / (fast_ns / 1e9) : 0.0;
}

size_t ht_engine_positions(const ht_engine *e, ht_engine_position *out, size_t max)
{
    return slow_positions(&e->slow, out, max);
}

double ht_engine_net_delta(const ht_engine *e, unsigned u)
{
    const slow_half *s = &e->slow;
    if (!s->armed || u >= s->n_under)
        return NAN;
    return slow_net_delta_at(s, u, s->under[u].spot, NULL);
}

const char *ht_engine_halt_reason(const ht_engine *e)
{
    return e->slow.live.halt_reason;
}

/* Adds a histogram of TSC ticks into one of ns: every bucket's value converted and re-bucketed (the two
 * bucketings together stay within 0.8% of the true value), min, max and sum exactly. */
static void rescale_into(ht_hist *dst, const ht_hist *src, double ns_per_tick)
{
    if (!src->count)
        return;
    for (unsigned b = 0; b < HT_HIST_BUCKETS; b++) {
        if (!src->buckets[b])
            continue;
        uint64_t v = (uint64_t)((double)ht_hist_bucket_value(b) * ns_per_tick + 0.5);
        dst->buckets[ht_hist_bucket_of(v)] += src->buckets[b];
    }
    uint64_t lo = (uint64_t)((double)src->min * ns_per_tick + 0.5), hi = (uint64_t)((double)src->max * ns_per_tick + 0.5);
    dst->count += src->count;
    dst->sum += src->sum * ns_per_tick;
    dst->clamped += src->clamped;
    if (lo < dst->min)
        dst->min = lo;
    if (hi > dst->max)
        dst->max = hi;
}

const ht_profile *ht_engine_profile(const ht_engine *e)
{
    ht_engine *m = (ht_engine *)e;
    if (!m->report_prof)
        m->report_prof = ht_profile_create();
    if (!m->report_prof)
        return e->fast.prof;
    ht_profile_reset(m->report_prof);
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++) {
        ht_hist_merge(&m->report_prof->span[s], &e->fast.prof->span[s]);
        ht_hist_merge(&m->report_prof->span[s], &e->slow.prof->span[s]);
    }
    static const ht_span fast_spans[ENGINE_FAST_SPANS] = {HT_SPAN_RX_TO_DECODED, HT_SPAN_DECODED_TO_PIPE_IN,
                                                          HT_SPAN_PIPE, HT_SPAN_TICK_TO_PIPE_OUT};
    double ns_per_tick = 1.0 / ht_tsc_ticks_per_ns();
    for (unsigned k = 0; k < ENGINE_FAST_SPANS; k++)
        rescale_into(&m->report_prof->span[fast_spans[k]], &e->fast.tsc_hist[k], ns_per_tick);
    return m->report_prof;
}

/* Percent of a over b (0 when b is 0). */
static double pct(double a, double b)
{
    return b > 0 ? 100.0 * a / b : 0.0;
}

/* Names every position priced at a fallback vol or left out at the latest recompute: one line each (text), or
 * a JSON array [{"instrument","flags","iv","usable"}]. */
static void write_fallbacks(const ht_engine *e, FILE *out, bool json)
{
    const ht_greeks *g = e->slow.greeks;
    bool first = true;
    if (json)
        fputc('[', out);
    for (size_t i = 0; g && i < ht_greeks_result_count(g); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(g, i);
        if (!(r->flags & HT_GF_EXCLUDING))
            continue;
        char flags[160];
        ht_greeks_flags_format(r->flags & ~(uint32_t)HT_GF_HEDGE, flags, sizeof flags);
        const bool usable = HT_GREEKS_USABLE(r);
        if (!json) {
            if (usable)
                fprintf(out, "  %s: %s, priced at vol %.4f\n", r->pos->spec.name, flags, r->iv);
            else
                fprintf(out, "  %s: %s, left out (no usable greeks)\n", r->pos->spec.name, flags);
            continue;
        }
        fprintf(out, "%s{\"instrument\":\"%s\",\"flags\":\"%s\",\"iv\":", first ? "" : ",", r->pos->spec.name,
                flags);
        if (isfinite(r->iv))
            fprintf(out, "%.10g", r->iv);
        else
            fputs("null", out);
        fprintf(out, ",\"usable\":%s}", usable ? "true" : "false");
        first = false;
    }
    if (json)
        fputc(']', out);
}

void ht_engine_print_report(const ht_engine *e, FILE *out)
{
    ht_engine_report r;
    ht_engine_get_report(e, &r);
    fprintf(out, "packets %" PRIu64 " (%" PRIu64 " messages, %" PRIu64 " malformed, %" PRIu64 " sequence gaps)", r.packets,
            r.messages, r.malformed, r.gaps);
    if (r.armed)
        fprintf(out, "; hedging started %.1f s into the data\n",
                (double)(r.arm_time_ms - e->slow.first_seen_ms) / 1000.0);
    else
        fprintf(out, "; hedging never started: %s\n", e->slow.arm_blocker);
    fprintf(out, "ticks %" PRIu64 " over %.1f s of exchange time, breaches %" PRIu64 ", decisions %" PRIu64 " (", r.ticks,
            r.hedged.time_total_s, r.breaches, r.decisions);
    bool first = true;
    for (unsigned k = 0; k < HT_ARRAY_LEN(r.decisions_by_reason); k++)
        if (r.decisions_by_reason[k]) {
            fprintf(out, "%s%s %" PRIu64, first ? "" : ", ", ht_opt_reason_name((ht_opt_reason)k), r.decisions_by_reason[k]);
            first = false;
        }
    fprintf(out, ")\n");
    fprintf(out, "orders %" PRIu64 " (refused %" PRIu64 ", rejected %" PRIu64 "), fills %" PRIu64
            ", traded %.4f coin (%.10g contracts)\n",
            r.orders, r.orders_refused, r.orders_rejected, r.fills, r.traded_coin, r.filled_contracts);
    fprintf(out, "cost paid %.2f USD = fees %.2f + slippage against the mark %.2f (the optimizer expected %.2f)\n",
            r.cost_usd, r.fees_usd, r.slippage_usd, r.expected_cost_usd);
    fprintf(out, "net delta (coin)       max |delta|      RMS    time outside the band\n");
    fprintf(out, "  hedged              %10.4f %10.4f    %.1f s of %.1f s (%.2f%%)\n", r.hedged.max_abs_coin,
            r.hedged.rms_coin, r.hedged.time_outside_s, r.hedged.time_total_s,
            pct(r.hedged.time_outside_s, r.hedged.time_total_s));
    fprintf(out, "  without hedging     %10.4f %10.4f    %.1f s of %.1f s (%.2f%%)\n", r.unhedged.max_abs_coin,
            r.unhedged.rms_coin, r.unhedged.time_outside_s, r.unhedged.time_total_s,
            pct(r.unhedged.time_outside_s, r.unhedged.time_total_s));
    fprintf(out, "end: index %.2f, net delta %.4f in the band [%.4f, %.4f], hedge position %.10g contracts\n",
            r.final_spot, r.final_net_delta, r.band_lo, r.band_hi, r.hedge_position_contracts);
    fprintf(out, "book: %" PRIu64 " options in the table, %" PRIu64 " positions left out, %" PRIu64
            " at a fallback vol (%" PRIu64 " changes logged); %" PRIu64 " greek refreshes; %" PRIu64
            " pipeline/double disagreements%s\n",
            r.positions_in_table, r.positions_excluded, r.positions_fallback, r.fallback_entries, r.refreshes,
            r.check_mismatches, r.killed ? "; KILL SWITCH ENGAGED" : "");
    write_fallbacks(e, out, false);
    /* The live book's line only when the venue said something about it (a venue without positions: as before). */
    bool live = r.snapshots || r.hedges_held_for_rate || r.halted || r.unhedged_positions || r.have_account;
    for (unsigned k = HT_ENGINE_CHANGE_OTHER; k < HT_ENGINE_CHANGE_SOURCES; k++)
        live |= r.position_changes[k] != 0;
    if (live)
        fprintf(out, "live book: changes hedge %" PRIu64 ", other sessions %" PRIu64 ", liquidations %" PRIu64
            ", settlements %" PRIu64 ", unexplained %" PRIu64 "; %" PRIu64 " snapshots, %" PRIu64
            " reconciliation differences, %" PRIu64 " new instruments, %" PRIu64 " positions not hedged; %" PRIu64
            " hedges held for the venue's rate limits, %" PRIu64 " merged%s%s\n",
            r.position_changes[HT_ENGINE_CHANGE_HEDGE], r.position_changes[HT_ENGINE_CHANGE_OTHER],
            r.position_changes[HT_ENGINE_CHANGE_LIQUIDATION], r.position_changes[HT_ENGINE_CHANGE_SETTLEMENT],
            r.position_changes[HT_ENGINE_CHANGE_UNEXPLAINED], r.snapshots, r.reconciliation_differences,
            r.new_instruments, r.unhedged_positions, r.hedges_held_for_rate, r.hedges_merged,
            r.halted ? "; HALTED: " : "", r.halted ? e->slow.live.halt_reason : "");
    if (r.have_account)
        fprintf(out, "account: %s equity %.8g, initial margin %.8g, maintenance margin %.8g\n", r.account.currency,
                r.account.equity, r.account.initial_margin, r.account.maintenance_margin);
    for (unsigned u = 0; u < r.margin_underlyings; u++)
        fprintf(out, "margin (%s, hedgetrig's): %s initial %.8g, maintenance %.8g coin, equity %.8g, ratio %.4g\n",
                e->cfg.margin_model == HT_MARGIN_PORTFOLIO ? "portfolio" : "standard", r.margin[u].base,
                r.margin[u].initial_coin, r.margin[u].maintenance_coin, r.margin[u].equity_coin, r.margin[u].ratio);
    for (unsigned u = 0; u < r.margin_underlyings; u++)
        if (r.margin[u].live_updates)
            fprintf(out, "margin at the last tick: %s maintenance %.8g coin, equity %.8g, ratio %.4g (highest %.4g); "
                         "liquidation at spot %+.4g / %+.4g, vol %+.4g; band fraction %.4g\n",
                    r.margin[u].base, r.margin[u].live_maintenance_coin, r.margin[u].live_equity_coin,
                    r.margin[u].live_ratio, r.margin[u].live_ratio_max, r.margin[u].liquidation_spot_down,
                    r.margin[u].liquidation_spot_up,
                    r.margin[u].liquidation_vol_up, r.margin[u].band_fraction);
    if (r.margin_flattens || r.margin_refused || r.margin_killed)
        fprintf(out, "margin levels: flatten reached %" PRIu64 " times, %" PRIu64 " orders refused, kill %s\n",
                r.margin_flattens, r.margin_refused, r.margin_killed ? "engaged" : "not reached");
    fprintf(out, "trust: %" PRIu64 " decisions sent nothing on untrusted data (%" PRIu64 " untrusted index, %" PRIu64
            " hedge instrument stale after a gap)\n",
            r.decisions_suppressed, r.suppressed_index, r.suppressed_venue);
    engine_wire_print((fast_half *)&e->fast, out); /* as above: the counters are read at rest */
    fprintf(out, "\nlatency, ns (%s backend%s; %s):\n", ht_pipe_backend_name(e->cfg.backend),
            e->fast.model_clock ? ", pipeline time in cycles at the configured clock" : "",
            e->cfg.threads ? "rx is the receive burst" : "rx is when the engine takes the packet");
    ht_profile_print(ht_engine_profile(e), out);
}

/* Writes one delta-statistics object. */
static void json_delta(FILE *out, const ht_engine_delta_stats *d)
{
    fprintf(out, "{\"max_abs_net_delta\":%.10g,\"rms_net_delta\":%.10g,\"time_outside_band_s\":%.3f,\"time_s\":%.3f}",
            d->max_abs_coin, d->rms_coin, d->time_outside_s, d->time_total_s);
}

void ht_engine_write_json(const ht_engine *e, FILE *out)
{
    ht_engine_report r;
    ht_engine_get_report(e, &r);
    fprintf(out,
            "{\"ticks\":%" PRIu64 ",\"breaches\":%" PRIu64 ",\"decisions\":%" PRIu64 ",\"orders\":%" PRIu64
            ",\"orders_refused\":%" PRIu64 ",\"orders_rejected\":%" PRIu64 ",\"fills\":%" PRIu64
            ",\"cost\":%.6f,\"fees_usd\":%.6f,\"slippage_usd\":%.6f,\"expected_cost_usd\":%.6f"
            ",\"traded_coin\":%.10g,\"filled_contracts\":%.10g"
            ",\"max_abs_net_delta\":%.10g,\"rms_net_delta\":%.10g,\"time_outside_band_s\":%.3f,\"unhedged\":",
            r.ticks, r.breaches, r.decisions, r.orders, r.orders_refused, r.orders_rejected, r.fills, r.cost_usd,
            r.fees_usd, r.slippage_usd, r.expected_cost_usd, r.traded_coin, r.filled_contracts, r.hedged.max_abs_coin,
            r.hedged.rms_coin, r.hedged.time_outside_s);
    json_delta(out, &r.unhedged);
    fprintf(out, ",\"decisions_by_reason\":{");
    bool first = true;
    for (unsigned k = 0; k < HT_ARRAY_LEN(r.decisions_by_reason); k++) {
        const char *name = ht_opt_reason_name((ht_opt_reason)k);
        if (!name || !strcmp(name, "?"))
            continue;
        fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", name, r.decisions_by_reason[k]);
        first = false;
    }
    fprintf(out,
            "},\"packets\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"gaps\":%" PRIu64
            ",\"pipeline_ticks\":%" PRIu64 ",\"messages_dropped\":%" PRIu64
            ",\"armed\":%s,\"killed\":%s,\"refreshes\":%" PRIu64 ",\"check_mismatches\":%" PRIu64
            ",\"final_net_delta\":%.10g,\"band_lo\":%.10g,\"band_hi\":%.10g,\"hedge_position_contracts\":%.10g"
            ",\"backend\":\"%s\",\"wall_s\":%.3f,",
            r.packets, r.messages, r.malformed, r.gaps, r.pipeline_ticks, r.messages_dropped,
            r.armed ? "true" : "false", r.killed ? "true" : "false",
            r.refreshes, r.check_mismatches, r.final_net_delta, isfinite(r.band_lo) ? r.band_lo : 0.0,
            isfinite(r.band_hi) ? r.band_hi : 0.0, r.hedge_position_contracts, ht_pipe_backend_name(e->cfg.backend), r.wall_s);
    fprintf(out,
            "\"positions_in_table\":%" PRIu64 ",\"positions_left_out\":%" PRIu64 ",\"positions_fallback\":%" PRIu64
            ",\"fallback_entries\":%" PRIu64 ",\"fallbacks\":",
            r.positions_in_table, r.positions_excluded, r.positions_fallback, r.fallback_entries);
    write_fallbacks(e, out, true);
    fprintf(out,
            ",\"decisions_suppressed\":%" PRIu64 ",\"suppressed_index\":%" PRIu64 ",\"suppressed_venue\":%" PRIu64
            ",",
            r.decisions_suppressed, r.suppressed_index, r.suppressed_venue);
    slow_live_write_json(&e->slow, out);
    slow_arm_write_json(&e->slow, out);
    engine_wire_write_json((fast_half *)&e->fast, out); /* reading the ingest's counters lets the pipeline rest */
    fputs("\"latency\":", out);
    ht_profile_write_json(ht_engine_profile(e), out);
    fprintf(out, "}\n");
}

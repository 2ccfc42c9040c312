/* SPDX-License-Identifier: MIT */
/* hedgetrig bench pipeline: the pipeline's own benchmark (ticks/s, ns per tick, cycles from tick to event). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hedgetrig/pipe.h"
#include "hedgetrig/pipe_synth.h"
#include "hedgetrig/sbe.h"
#include "hedgetrig/tsc.h"

static void pipeline_usage(FILE *out)
{
    fprintf(out,
            "usage: hedgetrig bench pipeline [--backend sw|verilator|xrt] [--positions N] [--ticks T]\n"
            "                                [--poll-every K] [--wire] [--xclbin FILE] [--json]\n\n"
            "Loads a synthetic BTC book of N positions (Black-Scholes greeks, S0 30000 USD) into the pipeline and\n"
            "pushes T ticks of a random walk, polling for events after every K ticks (1: after each, as a host\n"
            "does; larger: ticks stream back to back, one per cycle on the RTL). Prints ticks per second, the\n"
            "wall time per tick (median and percentiles over batches of 256 ticks) and, from the events' cycle\n"
            "stamps, the cycles from tick to event (min / median / max over up to 1000 ticks that each breach).\n\n"
            "  --backend B     sw (default, the C model), verilator (the RTL), xrt (a card; needs --xclbin)\n"
            "  --positions N   book size, 1..%d (default 4096)\n"
            "  --ticks T       ticks to push, 1000..1e9 (default 1000000 for sw, 100000 otherwise)\n"
            "  --poll-every K  poll after every K ticks, 1..256 (default 1)\n"
            "  --wire          also feed the pipeline from the wire (sw, verilator): 1000 Ethernet frames, each a\n"
            "                  Deribit price index (SBE 1008) in IPv4/UDP multicast, pushed one beat of 64 bits per\n"
            "                  cycle; reports the cycles from the frame's last beat on the stream to the tick\n"
            "                  entering the pipeline and to its event leaving it (cycles_frame_to_tick,\n"
            "                  cycles_frame_to_event)\n"
            "  --xclbin FILE   the xclbin to load (xrt)\n"
            "  --json          one JSON object instead of text\n",
            HT_PIPE_TABLE_DEPTH);
}

/* Sorts doubles (for percentiles). */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts 64-bit counts. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of a sorted array. */
static double quantile(const double *sorted, size_t n, double q)
{
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

/* Nanoseconds per iteration of a loop-carried add: one clock cycle of this CPU as it runs now (the machine
 * may be shared or throttled), printed next to the figures so they can be compared across machines. */
static double reference_cycle_ns(void)
{
    uint64_t x = 0;
    uint64_t t0 = ht_tsc_now();
    for (uint64_t i = 0; i < 50000000u; i++) {
        x += i;
        __asm__ volatile("" : "+r"(x));
    }
    uint64_t t1 = ht_tsc_now();
    return ht_tsc_to_ns(t1 - t0) / 50000000.0;
}

typedef struct pipeline_result {
    uint64_t ticks, events, rearms;
    double seconds, ticks_per_s;
    double ns_median, ns_p90, ns_p99, ns_max;
    uint64_t cyc_min, cyc_median, cyc_max, cyc_samples;
    double ref_cycle_ns;
    /* --wire: cycles from a frame's last beat to its tick entering the pipeline and to its event. */
    uint64_t wire_tick[3], wire_event[3], wire_samples;
} pipeline_result;

/* Ticks per timed batch (the per-tick figures are medians over batches) and length of the precomputed path. */
enum { BATCH = 256, PATH_TICKS = 4096 };

/* Loads a synthetic book of the given size at s0_usd into the pipe and reads back its folded state. Returns 0 or -1
 * with a message. */
static int load_synth_book(ht_pipe *pipe, ht_rng *rng, ht_pipe_position *book, size_t positions, double s0_usd,
                           ht_pipe_underlying_state *st, ht_error *err)
{
    ht_synth_book(rng, &(ht_synth_book_params){.underlying = 0, .s0_usd = s0_usd, .ref_spread = 0.01,
                                               .max_abs_qty = 50.0},
                  book, positions);
    double s0[HT_PIPE_UNDERLYINGS] = {s0_usd};
    int rc = ht_pipe_load_book(pipe, book, positions, s0, err);
    if (rc == 0)
        rc = ht_pipe_sync(pipe, err);
    if (rc == 0)
        rc = ht_pipe_read_underlying(pipe, 0, st, err);
    return rc;
}

/* A band around the book's delta at S0 that about 1% of the path's ticks leave (the 99th percentile of
 * |B dS + C dS^2 / 2| over the path), so the loop times ticks, not re-arms. Returns 0 or -1 with a message. */
static int set_rare_breach_band(ht_pipe *pipe, const ht_pipe_underlying_state *st, const ht_pipe_tick *path,
                                double s0_usd, ht_error *err)
{
    double a = ht_fx_to_double(st->a, HT_FX_DELTA_FRAC), b = ht_fx_to_double(st->b, HT_FX_GAMMA_FRAC);
    double c = ht_fx_to_double(st->c, HT_FX_SPEED_FRAC);
    double *moves = malloc(PATH_TICKS * sizeof *moves);
    if (!moves)
        return ht_error_set(err, "out of memory");
    for (size_t i = 0; i < PATH_TICKS; i++) {
        double ds = path[i].spot_usd - s0_usd;
        moves[i] = fabs(b * ds + 0.5 * c * ds * ds);
    }
    qsort(moves, PATH_TICKS, sizeof *moves, cmp_double);
    double half_width = quantile(moves, PATH_TICKS, 0.99) + 1e-6;
    free(moves);
    return ht_pipe_set_band(pipe, 0, a - half_width, a + half_width, err);
}

/* Pushes the ticks in batches, polling after every poll_every (and at a batch's end) and re-arming after a breach;
 * fills r's counts, throughput and per-tick percentiles (batch_ns: room for ticks / BATCH + 1 figures). */
static void time_ticks(ht_pipe *pipe, ht_pipe_tick *path, uint64_t ticks, uint64_t poll_every, double *batch_ns,
                       pipeline_result *r)
{
    ht_tsc_calibrate(0);
    uint64_t t_start = ht_tsc_now();
    size_t nb = 0;
    for (uint64_t done = 0; done < ticks;) {
        uint64_t n = ticks - done < BATCH ? ticks - done : BATCH;
        uint64_t t0 = ht_tsc_now();
        for (uint64_t k = 0; k < n; k++) {
            ht_pipe_tick *t = &path[(done + k) & (PATH_TICKS - 1)];
            t->seq = done + k;
            ht_pipe_push_tick(pipe, t);
            if ((k + 1) % poll_every != 0 && k + 1 != n)
                continue;
            ht_pipe_event ev;
            bool breached = false;
            while (ht_pipe_poll_event(pipe, &ev) == 1) {
                r->events++;
                breached = true;
            }
            if (HT_UNLIKELY(breached)) {
                ht_pipe_rearm(pipe, 0, NULL);
                r->rearms++;
            }
        }
        uint64_t t1 = ht_tsc_now();
        if (n == BATCH)
            batch_ns[nb++] = ht_tsc_to_ns(t1 - t0) / (double)n;
        done += n;
    }
    uint64_t t_end = ht_tsc_now();
    r->ref_cycle_ns = reference_cycle_ns();
    r->ticks = ticks;
    r->seconds = ht_tsc_to_ns(t_end - t_start) * 1e-9;
    r->ticks_per_s = (double)ticks / r->seconds;
    if (nb > 0) {
        qsort(batch_ns, nb, sizeof *batch_ns, cmp_double);
        r->ns_median = quantile(batch_ns, nb, 0.5);
        r->ns_p90 = quantile(batch_ns, nb, 0.9);
        r->ns_p99 = quantile(batch_ns, nb, 0.99);
        r->ns_max = batch_ns[nb - 1];
    }
}

/* Cycles from tick to event: a band every tick breaches, re-armed after each event, over up to 1000 ticks; fills
 * r's cycle figures. Returns 0 or -1 with a message. */
static int measure_event_cycles(ht_pipe *pipe, const ht_pipe_tick *path, uint64_t ticks, pipeline_result *r,
                                ht_error *err)
{
    uint64_t samples = ticks < 1000 ? ticks : 1000;
    uint64_t *cycles = malloc(samples * sizeof *cycles);
    int rc = 0;
    if (!cycles)
        rc = ht_error_set(err, "out of memory");
    if (rc == 0)
        rc = ht_pipe_set_band(pipe, 0, -2.0e9, -2.0e9, err);
    for (uint64_t i = 0; rc == 0 && i < samples; i++) {
        ht_pipe_event ev;
        ht_pipe_push_tick(pipe, &path[i & (PATH_TICKS - 1)]);
        if (ht_pipe_poll_event(pipe, &ev) != 1) {
            rc = ht_error_set(err, "tick %" PRIu64 " produced no event under an always-breached band", i);
            break;
        }
        cycles[r->cyc_samples++] = ev.cycle_out - ev.cycle_in;
        rc = ht_pipe_rearm(pipe, 0, err);
    }
    if (rc == 0 && r->cyc_samples > 0) {
        qsort(cycles, r->cyc_samples, sizeof *cycles, cmp_u64);
        r->cyc_min = cycles[0];
        r->cyc_median = cycles[r->cyc_samples / 2];
        r->cyc_max = cycles[r->cyc_samples - 1];
    }
    free(cycles);
    return rc;
}

/* ---- --wire: frames into the ingest --------------------------------------------------------------------------- */

enum { WIRE_SAMPLES = 1000, WIRE_PORT = 6100 };
#define WIRE_GROUP 0xEF6F6F00u /* 239.111.111.0 */

/* One Ethernet II / IPv4 / UDP frame carrying one 1008 message of index "btc_usd" at `usd`; returns its length. */
static size_t wire_frame(uint8_t *f, size_t cap, uint32_t seq, double usd)
{
    uint8_t payload[256];
    ht_sbe_writer w;
    ht_sbe_writer_init(&w, payload, sizeof payload, 0, seq);
    ht_sbe_price_index pi = {.index_name = "btc_usd", .price = usd, .timestamp_ms = 1700000000000ull + seq};
    ht_sbe_put_price_index(&w, &pi);
    size_t plen = ht_sbe_writer_finish(&w);
    size_t len = 14 + 20 + 8 + plen;
    if (plen == 0 || len > cap)
        return 0;
    static const uint8_t eth[14] = {0x01, 0x00, 0x5E, 0x6F, 0x6F, 0x00, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
    memcpy(f, eth, sizeof eth);
    uint8_t *ip = f + 14;
    size_t ip_len = 20 + 8 + plen;
    uint8_t hdr[20] = {0x45, 0, (uint8_t)(ip_len >> 8), (uint8_t)ip_len, 0, 0, 0x40, 0, 16, 17, 0, 0,
                       10, 0, 0, 1, 239, 111, 111, 0};
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)hdr[i] << 8 | hdr[i + 1];
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    hdr[10] = (uint8_t)(~sum >> 8);
    hdr[11] = (uint8_t)~sum;
    memcpy(ip, hdr, sizeof hdr);
    uint8_t *udp = ip + 20;
    size_t udp_len = 8 + plen;
    uint8_t u[8] = {0x17, 0x70, WIRE_PORT >> 8, WIRE_PORT & 0xFF, (uint8_t)(udp_len >> 8), (uint8_t)udp_len, 0, 0};
    memcpy(udp, u, sizeof u);
    memcpy(udp + 8, payload, plen);
    return len;
}

static void wire_tap(void *ctx, uint64_t cycle, const ht_fx_tick *tick)
{
    (void)tick;
    *(uint64_t *)ctx = cycle;
}

static void min_median_max(uint64_t *v, uint64_t n, uint64_t out[3])
{
    qsort(v, n, sizeof *v, cmp_u64);
    out[0] = v[0];
    out[1] = v[n / 2];
    out[2] = v[n - 1];
}

/* Frame to tick and frame to event, in cycles, under a band every tick breaches (re-armed after each event).
 * The count starts at the cycle the frame's last beat is on the stream. Returns 0 or -1 with a message. */
static int measure_wire_cycles(ht_pipe *pipe, const ht_pipe_tick *path, pipeline_result *r, ht_error *err)
{
    if (!ht_pipe_wire_pushable(pipe))
        return ht_error_set(err, "--wire: the %s backend takes no frames from the host (its card reads the wire)",
                            ht_pipe_backend_name(ht_pipe_get_backend(pipe)));
    ht_pipe_wire_config wc = {.filter_addr = {WIRE_GROUP}, .filter_port = {WIRE_PORT}, .channel = {0},
                              .channel_on = {true}, .index_name = {"btc_usd"}};
    uint64_t *to_tick = malloc(WIRE_SAMPLES * sizeof *to_tick), *to_event = malloc(WIRE_SAMPLES * sizeof *to_event);
    uint64_t tick_cycle = 0;
    int rc = (!to_tick || !to_event) ? ht_error_set(err, "out of memory") : 0;
    if (rc == 0)
        rc = ht_pipe_wire_configure(pipe, &wc, err);
    if (rc == 0)
        rc = ht_pipe_set_band(pipe, 0, -2.0e9, -2.0e9, err);
    if (rc == 0 && ht_pipe_set_wire_tap(pipe, wire_tap, &tick_cycle) != 0)
        rc = ht_error_set(err, "--wire: this backend cannot watch the ingest's ticks");
    uint8_t f[512];
    for (uint32_t i = 0; rc == 0 && i < WIRE_SAMPLES; i++) {
        size_t len = wire_frame(f, sizeof f, i + 1, path[i & (PATH_TICKS - 1)].spot_usd);
        ht_pipe_push_frame(pipe, f, len, false);
        uint64_t last_beat = ht_pipe_now(pipe) - 1;
        ht_pipe_event ev;
        if (ht_pipe_poll_event(pipe, &ev) != 1) {
            rc = ht_error_set(err, "--wire: frame %u produced no event under an always-breached band", i);
            break;
        }
        to_tick[i] = tick_cycle - last_beat;
        to_event[i] = ev.cycle_out - last_beat;
        r->wire_samples++;
        rc = ht_pipe_rearm(pipe, 0, err);
    }
    if (rc == 0) {
        min_median_max(to_tick, r->wire_samples, r->wire_tick);
        min_median_max(to_event, r->wire_samples, r->wire_event);
    }
    ht_pipe_set_wire_tap(pipe, NULL, NULL);
    free(to_tick);
    free(to_event);
    return rc;
}

/* Runs the scenario on an open pipe: the book, a precomputed random walk of +-0.02% steps (so the loop times the
 * pipeline only), a band it rarely leaves, the timed ticks, then the cycles from tick to event. Fills r. Returns 0
 * or -1 with a message. */
static int run_pipeline(ht_pipe *pipe, size_t positions, uint64_t ticks, uint64_t poll_every, bool wire,
                        pipeline_result *r, ht_error *err)
{
    const double s0_usd = 30000.0;
    ht_pipe_position *book = calloc(positions, sizeof *book);
    ht_pipe_tick *path = malloc(PATH_TICKS * sizeof *path);
    size_t n_batches = (size_t)(ticks / BATCH) + 1;
    double *batch_ns = malloc(n_batches * sizeof *batch_ns);
    if (!book || !path || !batch_ns) {
        free(book);
        free(path);
        free(batch_ns);
        return ht_error_set(err, "out of memory");
    }
    ht_rng rng = {2024};
    ht_pipe_underlying_state st;
    int rc = load_synth_book(pipe, &rng, book, positions, s0_usd, &st, err);
    double spot = s0_usd;
    for (size_t i = 0; i < PATH_TICKS; i++) {
        spot *= 1.0 + ht_rng_uniform(&rng, -2e-4, 2e-4);
        path[i] = (ht_pipe_tick){.underlying = 0, .seq = i, .spot_usd = spot};
    }
    if (rc == 0)
        rc = set_rare_breach_band(pipe, &st, path, s0_usd, err);
    memset(r, 0, sizeof *r);
    if (rc == 0)
        time_ticks(pipe, path, ticks, poll_every, batch_ns, r);
    if (rc == 0)
        rc = measure_event_cycles(pipe, path, ticks, r, err);
    if (rc == 0 && wire)
        rc = measure_wire_cycles(pipe, path, r, err);
    free(book);
    free(path);
    free(batch_ns);
    return rc;
}

/* The `pipeline` scenario of hedgetrig bench (cmd_bench.c calls it; argv[0] is "pipeline"). */
int ht_bench_pipeline(int argc, char **argv);

int ht_bench_pipeline(int argc, char **argv)
{
    const char *cmd = "bench pipeline";
    if (ht_cli_wants_help(argc, argv)) {
        pipeline_usage(stdout);
        return HT_EXIT_OK;
    }
    ht_pipe_config cfg;
    ht_pipe_config_default(&cfg);
    uint64_t positions = 4096, ticks = 0, poll_every = 1;
    bool json = false, wire = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--wire") == 0) {
            wire = true;
        } else if (strcmp(a, "--backend") == 0) {
            ht_error err;
            if (!v)
                return ht_cli_usage_error(cmd, "--backend needs a value (sw, verilator or xrt)");
            if (ht_pipe_backend_parse(v, &cfg.backend, &err) != 0)
                return ht_cli_usage_error(cmd, "%s", err.msg);
            i++;
        } else if (strcmp(a, "--positions") == 0) {
            if (!ht_cli_parse_u64(cmd, a, v, 1, HT_PIPE_TABLE_DEPTH, &positions))
                return HT_EXIT_USAGE;
            i++;
        } else if (strcmp(a, "--ticks") == 0) {
            if (!ht_cli_parse_u64(cmd, a, v, 1000, 1000000000ull, &ticks))
                return HT_EXIT_USAGE;
            i++;
        } else if (strcmp(a, "--poll-every") == 0) {
            if (!ht_cli_parse_u64(cmd, a, v, 1, 256, &poll_every))
                return HT_EXIT_USAGE;
            i++;
        } else if (strcmp(a, "--xclbin") == 0) {
            if (!v)
                return ht_cli_usage_error(cmd, "--xclbin needs a file");
            cfg.xclbin_path = v;
            i++;
        } else {
            return ht_cli_usage_error(cmd, "unknown option '%s'", a);
        }
    }
    if (ticks == 0)
        ticks = cfg.backend == HT_PIPE_BACKEND_SW ? 1000000 : 100000;
    ht_error err = {{0}};
    ht_pipe *pipe = ht_pipe_create(&cfg, &err);
    if (!pipe)
        return ht_cli_fail(cmd, "%s", err.msg);
    pipeline_result r;
    int rc = run_pipeline(pipe, positions, ticks, poll_every, wire, &r, &err);
    ht_pipe_destroy(pipe);
    if (rc != 0)
        return ht_cli_fail(cmd, "%s", err.msg);
    const char *backend = ht_pipe_backend_name(cfg.backend);
    if (json) {
        printf("{\"scenario\":\"pipeline\",\"backend\":\"%s\",\"positions\":%" PRIu64 ",\"ticks\":%" PRIu64
               ",\"poll_every\":%" PRIu64 ",\"events\":%" PRIu64 ",\"seconds\":%.6f,\"ticks_per_s\":%.1f,"
               "\"ns_per_tick\":{\"median\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
               "\"cycles_tick_to_event\":{\"min\":%" PRIu64 ",\"median\":%" PRIu64 ",\"max\":%" PRIu64
               ",\"samples\":%" PRIu64 "},\"latency_cycles_spec\":%d,\"reference_cycle_ns\":%.3f",
               backend, positions, r.ticks, poll_every, r.events, r.seconds, r.ticks_per_s, r.ns_median, r.ns_p90, r.ns_p99,
               r.ns_max, r.cyc_min, r.cyc_median, r.cyc_max, r.cyc_samples, HT_PIPE_LATENCY_CYCLES,
               r.ref_cycle_ns);
        if (wire)
            printf(",\"wire\":true,\"cycles_frame_to_tick\":{\"min\":%" PRIu64 ",\"median\":%" PRIu64
                   ",\"max\":%" PRIu64 "},\"cycles_frame_to_event\":{\"min\":%" PRIu64 ",\"median\":%" PRIu64
                   ",\"max\":%" PRIu64 ",\"samples\":%" PRIu64 ",\"from\":\"last beat on s_axis_rx\",\"to\":"
                   "\"event on m_axis_event\"}",
                   r.wire_tick[0], r.wire_tick[1], r.wire_tick[2], r.wire_event[0], r.wire_event[1], r.wire_event[2],
                   r.wire_samples);
        printf("}\n");
    } else {
        printf("pipeline bench: backend %s, %" PRIu64 " positions, %" PRIu64 " ticks (%" PRIu64
               " breaches), polling every %" PRIu64 " ticks\n",
               backend, positions, r.ticks, r.events, poll_every);
        printf("  throughput           %.0f ticks/s (%.3f s)\n", r.ticks_per_s, r.seconds);
        printf("  wall time per tick   median %.2f ns, p90 %.2f, p99 %.2f, max %.2f (batches of 256)\n",
               r.ns_median, r.ns_p90, r.ns_p99, r.ns_max);
        printf("  cycles tick->event   min %" PRIu64 ", median %" PRIu64 ", max %" PRIu64 " (%" PRIu64
               " ticks; the RTL's budget is %d)\n",
               r.cyc_min, r.cyc_median, r.cyc_max, r.cyc_samples, HT_PIPE_LATENCY_CYCLES);
        if (wire)
            printf("  cycles frame->event  min %" PRIu64 ", median %" PRIu64 ", max %" PRIu64 " (%" PRIu64
                   " frames, from the last beat on the stream; frame->tick min %" PRIu64 ", median %" PRIu64 ")\n",
                   r.wire_event[0], r.wire_event[1], r.wire_event[2], r.wire_samples, r.wire_tick[0], r.wire_tick[1]);
        printf("  this CPU now         %.3f ns per iteration of a loop-carried add (one cycle when unshared)\n",
               r.ref_cycle_ns);
    }
    return HT_EXIT_OK;
}

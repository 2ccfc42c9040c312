/* SPDX-License-Identifier: MIT */
/* Co-simulation: the same tick, table and band streams through the sw C model and the Verilator RTL, which
 * must give identical events (cycle stamps included) and identical registers.
 *
 * HT_COSIM_SEED=N replays one random scenario (the seed a failure prints); HT_COSIM_TICKS=N sets the total
 * number of random ticks (default 1,000,000). */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/pipe.h"
#include "hedgetrig/pipe_synth.h"

/* The two backends, driven in lock step, and where a mismatch happened. */
typedef struct duo {
    ht_pipe *sw;
    ht_pipe *vl;
    uint64_t seed;
    const char *scenario;
    uint64_t step;
    uint64_t events;
} duo;

/* Fails with the scenario, seed and step so the case can be replayed. */
#define DUO_FAIL(d, ...)                                                                                        \
    do {                                                                                                        \
        char what_[2048];                                                                                        \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                             \
        fail_msg("%s, seed %llu (replay: HT_COSIM_SEED=%llu), step %llu: %s", (d)->scenario,                    \
                 (unsigned long long)(d)->seed, (unsigned long long)(d)->seed, (unsigned long long)(d)->step,   \
                 what_);                                                                                        \
    } while (0)

/* Runs one API call on both backends; both must succeed (or both fail). */
#define BOTH(d, call_sw, call_vl)                                                                               \
    do {                                                                                                        \
        ht_error e_sw = {{0}}, e_vl = {{0}};                                                                    \
        int r_sw = (call_sw), r_vl = (call_vl);                                                                 \
        if (r_sw != r_vl)                                                                                       \
            DUO_FAIL(d, "%s returned %d on sw (%s) and %d on verilator (%s)", #call_sw, r_sw, e_sw.msg, r_vl,   \
                     e_vl.msg);                                                                                 \
        if (r_sw != 0)                                                                                          \
            DUO_FAIL(d, "%s failed: %s", #call_sw, e_sw.msg);                                                   \
    } while (0)

static duo duo_open(const char *scenario, uint64_t seed, uint32_t capacity)
{
    duo d = {.seed = seed, .scenario = scenario};
    ht_pipe_config cfg;
    ht_pipe_config_default(&cfg);
    cfg.event_capacity = capacity;
    ht_error err = {{0}};
    d.sw = ht_pipe_create(&cfg, &err);
    if (!d.sw)
        fail_msg("sw: %s", err.msg);
    cfg.backend = HT_PIPE_BACKEND_VERILATOR;
    d.vl = ht_pipe_create(&cfg, &err);
    if (!d.vl)
        fail_msg("verilator: %s", err.msg);
    return d;
}

static void duo_close(duo *d)
{
    ht_pipe_destroy(d->sw);
    ht_pipe_destroy(d->vl);
}

/* Both clocks must agree after every operation. */
static void check_clock(duo *d)
{
    if (ht_pipe_now(d->sw) != ht_pipe_now(d->vl))
        DUO_FAIL(d, "clocks differ: sw %llu, verilator %llu", (unsigned long long)ht_pipe_now(d->sw),
                 (unsigned long long)ht_pipe_now(d->vl));
}

/* Polls both until neither has an event; every pair must be identical. */
static void drain_events(duo *d)
{
    for (;;) {
        ht_pipe_event a, b;
        int ra = ht_pipe_poll_event(d->sw, &a), rb = ht_pipe_poll_event(d->vl, &b);
        check_clock(d);
        if (ra != rb)
            DUO_FAIL(d, "sw %s, verilator %s", ra ? "has an event" : "has none", rb ? "has one" : "has none");
        if (!ra)
            return;
        d->events++;
        if (a.underlying != b.underlying || a.side != b.side || a.seq != b.seq || a.price_fx != b.price_fx ||
            a.net_delta_fx != b.net_delta_fx || a.net_gamma_fx != b.net_gamma_fx || a.cycle_in != b.cycle_in ||
            a.cycle_out != b.cycle_out)
            DUO_FAIL(d,
                     "events differ: sw {u %u side %u seq %llu S %lld nd %lld ng %lld in %llu out %llu}, "
                     "verilator {u %u side %u seq %llu S %lld nd %lld ng %lld in %llu out %llu}",
                     a.underlying, a.side, (unsigned long long)a.seq, (long long)a.price_fx, (long long)a.net_delta_fx,
                     (long long)a.net_gamma_fx, (unsigned long long)a.cycle_in, (unsigned long long)a.cycle_out,
                     b.underlying, b.side, (unsigned long long)b.seq, (long long)b.price_fx, (long long)b.net_delta_fx,
                     (long long)b.net_gamma_fx, (unsigned long long)b.cycle_in, (unsigned long long)b.cycle_out);
        if (a.cycle_out - a.cycle_in != HT_PIPE_LATENCY_CYCLES)
            DUO_FAIL(d, "event latency %llu cycles, expected %d", (unsigned long long)(a.cycle_out - a.cycle_in),
                     HT_PIPE_LATENCY_CYCLES);
    }
}

/* Reads every register of the map on both (global block and all 16 underlying blocks) and compares. */
static void compare_registers(duo *d)
{
    for (uint32_t addr = 0; addr < HT_PIPE_REG_SPACE; addr += 4) { /* unmapped words too: both must read 0 */
        uint32_t a = 0, b = 0;
        ht_error e = {{0}};
        assert_int_equal(ht_pipe_reg_read(d->sw, addr, &a, &e), 0);
        assert_int_equal(ht_pipe_reg_read(d->vl, addr, &b, &e), 0);
        if (a != b)
            DUO_FAIL(d, "register 0x%04x: sw 0x%08x, verilator 0x%08x", addr, a, b);
    }
    ht_pipe_counters ca, cb;
    ht_error e = {{0}};
    assert_int_equal(ht_pipe_read_counters(d->sw, &ca, &e), 0);
    assert_int_equal(ht_pipe_read_counters(d->vl, &cb, &e), 0);
    if (memcmp(&ca, &cb, sizeof ca) != 0)
        DUO_FAIL(d, "counters differ: ticks %llu/%llu events %llu/%llu muted %llu/%llu flags 0x%x/0x%x dropped %llu/%llu",
                 (unsigned long long)ca.ticks, (unsigned long long)cb.ticks, (unsigned long long)ca.events,
                 (unsigned long long)cb.events, (unsigned long long)ca.muted_ticks, (unsigned long long)cb.muted_ticks,
                 ca.flags, cb.flags, (unsigned long long)ca.events_dropped, (unsigned long long)cb.events_dropped);
    check_clock(d);
}

static void duo_tick(duo *d, unsigned u, uint64_t seq, double spot)
{
    ht_pipe_tick t = {.underlying = u, .seq = seq, .spot_usd = spot};
    int ra = ht_pipe_push_tick(d->sw, &t), rb = ht_pipe_push_tick(d->vl, &t);
    if (ra != rb)
        DUO_FAIL(d, "push_tick returned %d on sw and %d on verilator", ra, rb);
    d->step++;
}

static void duo_tick_fx(duo *d, const ht_fx_tick *t)
{
    ht_pipe_push_tick_fx(d->sw, t);
    ht_pipe_push_tick_fx(d->vl, t);
    d->step++;
}

static void duo_idle(duo *d, uint64_t cycles)
{
    ht_pipe_idle(d->sw, cycles);
    ht_pipe_idle(d->vl, cycles);
}

static void duo_load(duo *d, const ht_pipe_position *pos, size_t n, const double *s0)
{
    BOTH(d, ht_pipe_load_book(d->sw, pos, n, s0, &e_sw), ht_pipe_load_book(d->vl, pos, n, s0, &e_vl));
    check_clock(d);
}

static void duo_band(duo *d, unsigned u, double lo, double hi)
{
    BOTH(d, ht_pipe_set_band(d->sw, u, lo, hi, &e_sw), ht_pipe_set_band(d->vl, u, lo, hi, &e_vl));
}

/* ---- Random scenarios ------------------------------------------------------------------------------------- */

/* The state a scenario keeps to steer bands around the books' actual net delta. */
typedef struct scenario {
    double s0[HT_PIPE_UNDERLYINGS];
    double spot[HT_PIPE_UNDERLYINGS];
    double scale[HT_PIPE_UNDERLYINGS]; /* typical |net delta| */
    unsigned n_und;
} scenario;

/* Loads a random book (random size, underlyings 0..n_und-1) on both backends. */
static void random_book(duo *d, ht_rng *rng, scenario *sc, ht_pipe_position *buf, size_t max_n)
{
    size_t n = (ht_rng_next(rng) % 8 == 0) ? max_n : 1 + ht_rng_next(rng) % 200;
    for (size_t i = 0; i < n; i++) {
        unsigned u = (unsigned)(ht_rng_next(rng) % sc->n_und);
        ht_synth_book(rng, &(ht_synth_book_params){.underlying = u, .s0_usd = sc->s0[u], .ref_spread = 0.03,
                                                  .max_abs_qty = 50.0},
                      &buf[i], 1);
    }
    for (unsigned u = 0; u < sc->n_und; u++)
        sc->scale[u] = 10.0 + 5.0 * (double)n / sc->n_und;
    duo_load(d, buf, n, sc->s0);
}

/* One random scenario: books, bands, inventory, vol moves, filters, commits racing ticks, raw and extreme
 * ticks, idle gaps, polls. Returns the number of ticks pushed. */
static uint64_t run_random(uint64_t seed, uint64_t ticks)
{
    duo d = duo_open("random", seed, (seed % 5 == 0) ? 16 : 4096);
    ht_rng rng = {seed * 0x9E3779B97F4A7C15ull + 1};
    scenario sc = {.n_und = 1 + (unsigned)(ht_rng_next(&rng) % HT_PIPE_UNDERLYINGS)};
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        sc.s0[u] = u < sc.n_und ? ht_rng_uniform(&rng, 10000.0, 200000.0) : 0.0;
        sc.spot[u] = sc.s0[u];
    }
    enum { MAX_BOOK = 1024 };
    static ht_pipe_position book[MAX_BOOK];
    random_book(&d, &rng, &sc, book, MAX_BOOK);
    for (unsigned u = 0; u < sc.n_und; u++)
        duo_band(&d, u, -sc.scale[u], sc.scale[u]);
    uint64_t pushed = 0;
    while (pushed < ticks) {
        uint64_t r = ht_rng_next(&rng) % 1000;
        unsigned u = (unsigned)(ht_rng_next(&rng) % sc.n_und);
        if (r < 930) { /* a burst of ticks, one per cycle */
            unsigned burst = 1 + (unsigned)(ht_rng_next(&rng) % 64);
            for (unsigned k = 0; k < burst; k++) {
                unsigned uu = (unsigned)(ht_rng_next(&rng) % sc.n_und);
                sc.spot[uu] *= 1.0 + ht_rng_uniform(&rng, -0.002, 0.002);
                if (sc.spot[uu] > 2.0 * sc.s0[uu] || sc.spot[uu] < 0.5 * sc.s0[uu])
                    sc.spot[uu] = sc.s0[uu];
                duo_tick(&d, uu, pushed, sc.spot[uu]);
                pushed++;
            }
        } else if (r < 950) {
            duo_idle(&d, ht_rng_next(&rng) % 20);
        } else if (r < 965) {
            double c = ht_rng_uniform(&rng, -sc.scale[u], sc.scale[u]);
            double w = ht_rng_uniform(&rng, 0.0, sc.scale[u]);
            duo_band(&d, u, c - w, c + w);
        } else if (r < 975) {
            double inv = ht_rng_uniform(&rng, -sc.scale[u], sc.scale[u]);
            BOTH(&d, ht_pipe_set_inventory(d.sw, u, inv, &e_sw), ht_pipe_set_inventory(d.vl, u, inv, &e_vl));
        } else if (r < 982) {
            double dv = ht_rng_uniform(&rng, -0.3, 0.3);
            BOTH(&d, ht_pipe_set_vol_move(d.sw, u, dv, &e_sw), ht_pipe_set_vol_move(d.vl, u, dv, &e_vl));
        } else if (r < 988) {
            BOTH(&d, ht_pipe_rearm(d.sw, u, &e_sw), ht_pipe_rearm(d.vl, u, &e_vl));
        } else if (r < 991) {
            /* A new book; the ticks that follow race its fold. */
            for (unsigned v = 0; v < sc.n_und; v++)
                sc.s0[v] = sc.spot[v];
            random_book(&d, &rng, &sc, book, MAX_BOOK);
        } else if (r < 993) {
            ht_pipe_iir iir;
            ht_error e = {{0}};
            bool on = (ht_rng_next(&rng) & 1u) != 0;
            assert_int_equal(ht_pipe_iir_design_lowpass(1 + (unsigned)(ht_rng_next(&rng) % 2),
                                                         ht_rng_uniform(&rng, 0.01, 0.45), &iir, &e),
                             0);
            BOTH(&d, ht_pipe_set_filter(d.sw, u, on ? &iir : NULL, &e_sw),
                 ht_pipe_set_filter(d.vl, u, on ? &iir : NULL, &e_vl));
        } else if (r < 995) {
            /* Raw ticks: an extreme price, or an underlying the pipeline does not serve. */
            ht_fx_tick t = {.underlying = (uint8_t)((ht_rng_next(&rng) & 1u) ? u : 16 + ht_rng_next(&rng) % 240),
                            .seq = pushed,
                            .price = (int64_t)ht_rng_next(&rng)};
            duo_tick_fx(&d, &t);
            pushed++;
        } else if (r < 997) {
            /* A gamma band somewhere around zero. */
            double g = ht_rng_uniform(&rng, 0.0, 0.5);
            BOTH(&d, ht_pipe_set_gamma_band(d.sw, u, -g, g, &e_sw), ht_pipe_set_gamma_band(d.vl, u, -g, g, &e_vl));
        } else if (r < 998) {
            BOTH(&d, ht_pipe_clear_flags(d.sw, HT_PIPE_FLAG_ALL, &e_sw), ht_pipe_clear_flags(d.vl, HT_PIPE_FLAG_ALL, &e_vl));
        } else {
            drain_events(&d);
        }
        check_clock(&d);
        if (ht_rng_next(&rng) % 4 == 0)
            drain_events(&d);
    }
    drain_events(&d);
    compare_registers(&d);
    duo_close(&d);
    return pushed;
}

/* At least a million random ticks over many seeds (or one replayed seed). */
static void random_streams_agree(void **state)
{
    (void)state;
    const char *replay = getenv("HT_COSIM_SEED");
    const char *total_env = getenv("HT_COSIM_TICKS");
    uint64_t total = total_env ? strtoull(total_env, NULL, 10) : 1000000ull;
    if (replay) {
        uint64_t seed = strtoull(replay, NULL, 10);
        print_message("replaying seed %llu\n", (unsigned long long)seed);
        run_random(seed, total / 40 + 1);
        return;
    }
    uint64_t done = 0, seed = 1;
    for (; done < total; seed++)
        done += run_random(seed, total / 40 + 1);
    print_message("%llu random ticks over %llu seeds: sw and verilator identical\n", (unsigned long long)done,
                  (unsigned long long)(seed - 1));
}

/* ---- Edge cases --------------------------------------------------------------------------------------------- */

/* Saturation everywhere: a book whose sums overflow, extreme prices, extreme vol move and inventory. */
static void saturation_agrees(void **state)
{
    (void)state;
    duo d = duo_open("saturation", 0, 0);
    /* Raw entries: the API refuses values outside the formats, the hardware must still saturate them. */
    const ht_fx_entry entries[] = {
        {.delta = INT64_MAX, .gamma = INT64_MAX / 2, .speed = INT64_MAX, .vanna = INT64_MAX, .ref_spot = 0, .underlying = 0},
        {.delta = INT64_MAX, .gamma = INT64_MAX / 2, .speed = INT64_MAX, .vanna = INT64_MAX, .ref_spot = INT64_MAX, .underlying = 0},
        {.delta = INT64_MIN, .gamma = INT64_MIN, .speed = INT64_MIN, .vanna = 1, .ref_spot = INT64_MIN, .underlying = 1},
        {.delta = -5, .gamma = (int64_t)1 << 50, .speed = -((int64_t)1 << 60), .vanna = -1, .ref_spot = 1, .underlying = 1},
        {.delta = 123, .gamma = 456, .speed = 789, .vanna = 1011, .ref_spot = 1213, .underlying = 200}, /* skipped */
    };
    BOTH(&d, ht_pipe_write_entries_fx(d.sw, 0, entries, HT_ARRAY_LEN(entries), &e_sw),
         ht_pipe_write_entries_fx(d.vl, 0, entries, HT_ARRAY_LEN(entries), &e_vl));
    double s0[HT_PIPE_UNDERLYINGS] = {1.0e9, 1.0e9};
    BOTH(&d, ht_pipe_commit(d.sw, HT_ARRAY_LEN(entries), s0, &e_sw),
         ht_pipe_commit(d.vl, HT_ARRAY_LEN(entries), s0, &e_vl));
    BOTH(&d, ht_pipe_sync(d.sw, &e_sw), ht_pipe_sync(d.vl, &e_vl));
    compare_registers(&d);
    for (unsigned u = 0; u < 2; u++) {
        duo_band(&d, u, -1.0, 1.0);
        BOTH(&d, ht_pipe_set_vol_move(d.sw, u, 100.0, &e_sw), ht_pipe_set_vol_move(d.vl, u, 100.0, &e_vl));
    }
    const int64_t prices[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MAX / 2, INT64_MIN / 2};
    for (unsigned u = 0; u < 2; u++) {
        for (size_t i = 0; i < HT_ARRAY_LEN(prices); i++) {
            duo_tick_fx(&d, &(ht_fx_tick){.underlying = (uint8_t)u, .seq = i, .price = prices[i]});
            BOTH(&d, ht_pipe_rearm(d.sw, u, &e_sw), ht_pipe_rearm(d.vl, u, &e_vl));
            drain_events(&d);
        }
    }
    compare_registers(&d);
    ht_pipe_counters c;
    ht_error e = {{0}};
    assert_int_equal(ht_pipe_read_counters(d.sw, &c, &e), 0);
    /* Every kind of saturation the datapath can reach was reached (and matched). */
    assert_true(c.flags & HT_PIPE_FLAG_FOLD_SUM);
    assert_true(c.flags & HT_PIPE_FLAG_FOLD_GAMMA);
    assert_true(c.flags & HT_PIPE_FLAG_FOLD_DELTA);
    assert_true(c.flags & HT_PIPE_FLAG_TICK_DS);
    assert_true(c.flags & HT_PIPE_FLAG_TICK_DELTA);
    assert_true(c.flags & HT_PIPE_FLAG_TICK_GAMMA);
    duo_close(&d);
}

/* A net delta exactly on a bound is inside, one LSB beyond is out, on both. */
static void band_hit_exactly_agrees(void **state)
{
    (void)state;
    duo d = duo_open("band hit exactly", 0, 0);
    ht_pipe_position pos = {.underlying = 3, .qty_x_mult = 1.0, .delta = 7.25, .ref_spot_usd = 100.0};
    double s0[HT_PIPE_UNDERLYINGS] = {0};
    s0[3] = 100.0;
    duo_load(&d, &pos, 1, s0);
    const double lsb = ht_fx_lsb(HT_FX_DELTA_FRAC);
    const double bands[][2] = {{7.25, 8.0}, {6.0, 7.25}, {7.25 + lsb, 8.0}, {6.0, 7.25 - lsb}, {7.25, 7.25}};
    for (size_t i = 0; i < HT_ARRAY_LEN(bands); i++) {
        duo_band(&d, 3, bands[i][0], bands[i][1]);
        duo_tick(&d, 3, i, 100.0);
        drain_events(&d);
    }
    assert_int_equal(d.events, 2);
    compare_registers(&d);
    duo_close(&d);
}

/* A commit while ticks stream every cycle: both swap the book in the same cycle; a second COMMIT and table
 * writes during the fold are refused alike. */
static void table_update_racing_ticks_agrees(void **state)
{
    (void)state;
    duo d = duo_open("table update racing ticks", 0, 0);
    enum { N = 700 };
    static ht_pipe_position pos[N];
    ht_rng rng = {11};
    ht_synth_book(&rng, &(ht_synth_book_params){.underlying = 0, .s0_usd = 30000.0, .ref_spread = 0.01,
                                                .max_abs_qty = 20.0},
                  pos, N);
    double s0[HT_PIPE_UNDERLYINGS] = {30000.0};
    duo_load(&d, pos, N / 2, s0);
    BOTH(&d, ht_pipe_sync(d.sw, &e_sw), ht_pipe_sync(d.vl, &e_vl));
    duo_band(&d, 0, -1e-3, 1e-3); /* every tick breaches: the event's net delta shows which book it saw */
    for (int round = 0; round < 3; round++) {
        BOTH(&d, ht_pipe_write_positions(d.sw, 0, pos, N, &e_sw), ht_pipe_write_positions(d.vl, 0, pos, N, &e_vl));
        BOTH(&d, ht_pipe_commit(d.sw, (uint32_t)(N - round * 100), s0, &e_sw),
             ht_pipe_commit(d.vl, (uint32_t)(N - round * 100), s0, &e_vl));
        if (round == 1) /* a second COMMIT while folding: ignored, flagged */
            BOTH(&d, ht_pipe_reg_write(d.sw, HT_PIPE_REG_CONTROL, 1, &e_sw),
                 ht_pipe_reg_write(d.vl, HT_PIPE_REG_CONTROL, 1, &e_vl));
        for (int t = 0; t < N + 40; t++) {
            duo_tick(&d, 0, (uint64_t)t, 30000.0 + t);
            if (t % 16 == 15) { /* re-arm (which lets in-flight ticks out first) to see the next tick's book */
                BOTH(&d, ht_pipe_rearm(d.sw, 0, &e_sw), ht_pipe_rearm(d.vl, 0, &e_vl));
                drain_events(&d);
            }
        }
        drain_events(&d);
        compare_registers(&d);
    }
    ht_pipe_counters c;
    ht_error e = {{0}};
    assert_int_equal(ht_pipe_read_counters(d.sw, &c, &e), 0);
    assert_int_equal(c.generation, 4);
    assert_true(c.flags & HT_PIPE_FLAG_TABLE_BUSY);
    duo_close(&d);
}

/* Muting and every way to re-arm, on several underlyings at once. */
static void rearm_agrees(void **state)
{
    (void)state;
    duo d = duo_open("re-arm", 0, 0);
    ht_pipe_position pos[HT_PIPE_UNDERLYINGS];
    double s0[HT_PIPE_UNDERLYINGS];
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        pos[u] = (ht_pipe_position){.underlying = u, .qty_x_mult = 1.0, .delta = 3.0, .gamma = 0.001,
                                    .ref_spot_usd = 1000.0};
        s0[u] = 1000.0;
    }
    duo_load(&d, pos, HT_PIPE_UNDERLYINGS, s0);
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        duo_band(&d, u, -1.0, 1.0);
    for (int round = 0; round < 6; round++) {
        for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
            for (int k = 0; k < 3; k++)
                duo_tick(&d, u, (uint64_t)(round * 100 + k), 1000.0 + round);
        drain_events(&d);
        compare_registers(&d);
        unsigned u = (unsigned)round % HT_PIPE_UNDERLYINGS;
        switch (round % 3) {
        case 0: BOTH(&d, ht_pipe_rearm(d.sw, u, &e_sw), ht_pipe_rearm(d.vl, u, &e_vl)); break;
        case 1: BOTH(&d, ht_pipe_set_inventory(d.sw, u, 0.5, &e_sw), ht_pipe_set_inventory(d.vl, u, 0.5, &e_vl)); break;
        default: BOTH(&d, ht_pipe_reg_write(d.sw, HT_PIPE_REG_REARM, 0xFFFF, &e_sw),
                      ht_pipe_reg_write(d.vl, HT_PIPE_REG_REARM, 0xFFFF, &e_vl));
        }
    }
    assert_true(d.events > HT_PIPE_UNDERLYINGS);
    duo_close(&d);
}

/* ---- The real capture -------------------------------------------------------------------------------------- */

/* An index price read from the capture. */
typedef struct index_tick {
    char name[17];
    double price;
    uint32_t frame_seq;
} index_tick;

/* Little-endian readers. */
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }

/* Reads every 1008 (price index) message of the capture, using the layout of the SBE schema
 * (deribit_multicast.xml): frame header {u16 length, u16 channel, u32 seq}; message header {u16 blockLength,
 * u16 templateId, u16 schemaId, u16 version, u16 numGroups, u16 numVarDataFields}; 1008's block {char[16]
 * indexName, double price, u64 timestampMs}. Other messages are skipped by walking their groups. */
static size_t read_index_prices(const char *path, index_tick *out, size_t max)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc)
        fail_msg("cannot open %s: %s", path, errbuf);
    struct pcap_pkthdr *h;
    const uint8_t *pkt;
    size_t n = 0;
    while (pcap_next_ex(pc, &h, &pkt) == 1) {
        /* Ethernet (14) + IPv4 (IHL) + UDP (8) */
        if (h->caplen < 14 + 20 + 8 || le16(pkt + 12) != 0x0008)
            continue;
        const uint8_t *ip = pkt + 14;
        unsigned ihl = (ip[0] & 0x0F) * 4u;
        if (ip[9] != 17 || h->caplen < 14 + ihl + 8 + 8)
            continue;
        const uint8_t *udp = ip + ihl;
        const uint8_t *payload = udp + 8;
        const uint8_t *end = pkt + h->caplen;
        uint32_t seq = le32(payload + 4);
        const uint8_t *m = payload + 8;
        const uint8_t *frame_end = payload + 8 + le16(payload);
        if (frame_end > end)
            frame_end = end;
        while (m + 12 <= frame_end) {
            uint16_t block = le16(m), tmpl = le16(m + 2), groups = le16(m + 8), vars = le16(m + 10);
            const uint8_t *p = m + 12 + block;
            if (tmpl == 1008 && block >= 32 && m + 12 + 32 <= frame_end && n < max) {
                memcpy(out[n].name, m + 12, 16);
                out[n].name[16] = '\0';
                uint64_t bits = (uint64_t)le32(m + 12 + 16) | (uint64_t)le32(m + 12 + 20) << 32;
                memcpy(&out[n].price, &bits, sizeof bits);
                out[n].frame_seq = seq;
                n++;
            }
            for (unsigned g = 0; g < groups && p + 8 <= frame_end; g++)
                p += 8 + (size_t)le16(p) * le16(p + 2);
            for (unsigned v = 0; v < vars && p + 1 <= frame_end; v++)
                p += 1 + p[0];
            if (p <= m)
                break;
            m = p;
        }
    }
    pcap_close(pc);
    return n;
}

/* The capture's index prices, checked against the vendor dissector's decode, then streamed through both
 * backends (one underlying per index) with a book per index and tight bands. */
static void real_capture_ticks_agree(void **state)
{
    (void)state;
    static index_tick ticks[2000];
    size_t n = read_index_prices(HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap", ticks, HT_ARRAY_LEN(ticks));
    /* The vendor's decode lists the same 1008 messages, in order. */
    FILE *csv = fopen(HT_DERIBIT_DIR "/deribit_sample_v1_6.expected.csv", "r");
    assert_non_null(csv);
    char line[512];
    size_t k = 0;
    while (fgets(line, sizeof line, csv)) {
        unsigned frame, channel, seq, tmpl;
        char fields[256];
        if (sscanf(line, "%u,%u,%u,%u,,%255s", &frame, &channel, &seq, &tmpl, fields) != 5 || tmpl != 1008)
            continue;
        char *bar = strchr(fields, '|');
        assert_non_null(bar);
        *bar = '\0';
        assert_true(k < n);
        assert_string_equal(ticks[k].name, fields);
        assert_true(fabs(ticks[k].price - strtod(bar + 1, NULL)) <= 1e-9 * fabs(ticks[k].price));
        assert_int_equal(ticks[k].frame_seq, seq);
        k++;
    }
    fclose(csv);
    assert_int_equal(k, n);
    assert_int_equal(n, 468);

    duo d = duo_open("real capture", 0, 0);
    char names[HT_PIPE_UNDERLYINGS][17];
    unsigned n_names = 0;
    double s0[HT_PIPE_UNDERLYINGS] = {0};
    unsigned und[2000];
    for (size_t i = 0; i < n; i++) {
        unsigned u = 0;
        while (u < n_names && strcmp(names[u], ticks[i].name) != 0)
            u++;
        if (u == n_names) {
            assert_true(n_names < HT_PIPE_UNDERLYINGS);
            memcpy(names[n_names++], ticks[i].name, sizeof names[0]);
            s0[u] = ticks[i].price;
        }
        und[i] = u;
    }
    static ht_pipe_position book[64 * HT_PIPE_UNDERLYINGS];
    ht_rng rng = {1008};
    size_t nb = 0;
    /* Greeks per USD grow as 1/S (gamma) and 1/S^2 (speed): a book on a 15 USD or 0.07 BTC index is
     * scaled down by (S / 30000)^2 so it stays inside the formats, like a BTC book. */
    double scale[HT_PIPE_UNDERLYINGS];
    for (unsigned u = 0; u < n_names; u++, nb += 64) {
        scale[u] = fmin(1.0, (s0[u] / 30000.0) * (s0[u] / 30000.0));
        ht_synth_book(&rng, &(ht_synth_book_params){.underlying = u, .s0_usd = s0[u], .ref_spread = 0.0,
                                                    .max_abs_qty = 5.0 * scale[u]},
                      &book[nb], 64);
    }
    duo_load(&d, book, nb, s0);
    BOTH(&d, ht_pipe_sync(d.sw, &e_sw), ht_pipe_sync(d.vl, &e_vl));
    /* Bands of +-1e-6 contracts (scaled like the book) around the net delta at S0: most moves breach. */
    for (unsigned u = 0; u < n_names; u++) {
        ht_pipe_underlying_state st, st_vl;
        BOTH(&d, ht_pipe_read_underlying(d.sw, u, &st, &e_sw), ht_pipe_read_underlying(d.vl, u, &st_vl, &e_vl));
        if (memcmp(&st, &st_vl, sizeof st) != 0)
            DUO_FAIL(&d, "underlying %u registers differ", u);
        double a = ht_fx_to_double(st.a, HT_FX_DELTA_FRAC);
        double w = fmax(1e-6 * scale[u], 4.0 * ht_fx_lsb(HT_FX_DELTA_FRAC));
        duo_band(&d, u, a - w, a + w);
    }
    for (size_t i = 0; i < n; i++) {
        duo_tick(&d, und[i], ticks[i].frame_seq, ticks[i].price);
        drain_events(&d);
        BOTH(&d, ht_pipe_rearm(d.sw, und[i], &e_sw), ht_pipe_rearm(d.vl, und[i], &e_vl));
    }
    compare_registers(&d);
    print_message("real capture: %zu index prices on %u indices, %llu events, identical\n", n, n_names,
                  (unsigned long long)d.events);
    assert_true(d.events > n / 2);
    duo_close(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saturation_agrees),
        cmocka_unit_test(band_hit_exactly_agrees),
        cmocka_unit_test(table_update_racing_ticks_agrees),
        cmocka_unit_test(rearm_agrees),
        cmocka_unit_test(real_capture_ticks_agree),
        cmocka_unit_test(random_streams_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

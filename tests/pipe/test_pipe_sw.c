/* SPDX-License-Identifier: MIT */
/* The sw backend against a double-precision reference, and the pipeline's contract: bands, muting, folds,
 * saturation, the event queue, registers and bad input. */
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

/* Opens a sw pipe with a given event capacity (0 = default). */
static ht_pipe *open_sw(uint32_t capacity)
{
    ht_pipe_config cfg;
    ht_pipe_config_default(&cfg);
    cfg.event_capacity = capacity;
    ht_error err = {{0}};
    ht_pipe *pipe = ht_pipe_create(&cfg, &err);
    if (!pipe)
        fail_msg("ht_pipe_create: %s", err.msg);
    return pipe;
}

/* Asserts that a call returned 0, printing its error otherwise. */
#define OK(call)                                                                                                 \
    do {                                                                                                         \
        ht_error err_ = {{0}};                                                                                   \
        if ((call) != 0)                                                                                         \
            fail_msg("%s: %s", #call, err_.msg);                                                                 \
    } while (0)
#define E (&err_)

/* S0 array with one underlying set. */
static void s0_one(double s0[HT_PIPE_UNDERLYINGS], unsigned u, double value)
{
    for (unsigned i = 0; i < HT_PIPE_UNDERLYINGS; i++)
        s0[i] = 0.0;
    s0[u] = value;
}

/* Pushes one tick and returns its event; fails when there is none. Re-arms the underlying afterwards. */
static ht_pipe_event probe(ht_pipe *pipe, unsigned u, uint64_t seq, double spot)
{
    ht_pipe_event ev;
    assert_int_equal(ht_pipe_push_tick(pipe, &(ht_pipe_tick){.underlying = u, .seq = seq, .spot_usd = spot}), 0);
    if (ht_pipe_poll_event(pipe, &ev) != 1)
        fail_msg("no event for tick seq %llu on underlying %u at %.6f", (unsigned long long)seq, u, spot);
    OK(ht_pipe_rearm(pipe, u, E));
    return ev;
}

/* A book's A, B, C, V at S0 in long double, from the positions' doubles: the reference formula. */
typedef struct ref_book {
    long double a, b, c, v;
} ref_book;

static ref_book reference_book(const ht_pipe_position *pos, size_t n, unsigned u, double s0)
{
    ref_book r = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (pos[i].underlying != u)
            continue;
        long double q = pos[i].qty_x_mult, h = (long double)s0 - pos[i].ref_spot_usd;
        r.a += q * (pos[i].delta + pos[i].gamma * h + pos[i].speed * h * h / 2);
        r.b += q * (pos[i].gamma + pos[i].speed * h);
        r.c += q * pos[i].speed;
        r.v += q * pos[i].vanna;
    }
    return r;
}

/* net delta = A + B dS + C dS^2 / 2 + V dsigma + H, in long double. */
static long double reference_net_delta(const ref_book *r, double ds, double dsigma, double inventory)
{
    return r->a + r->b * ds + r->c * ds * ds / 2 + r->v * dsigma + inventory;
}

/* Sets a band every net delta breaches (above hi), so each tick reports its net delta. */
static void band_always_high(ht_pipe *pipe, unsigned u)
{
    OK(ht_pipe_set_band(pipe, u, -2.0e9, -2.0e9, E));
}

/* Over realistic BTC books (10k..200k USD, 4096 positions, spot moves up to +-10%), the fixed-point net
 * delta is within 1e-6 contracts per position of the formula in double; A, B, C, V match too. */
static void net_delta_matches_double_reference(void **state)
{
    (void)state;
    enum { N = 4096, TRIALS = 12, TICKS = 250 };
    static ht_pipe_position book[N];
    ht_rng rng = {20240611};
    double worst_per_position = 0.0, worst_abs = 0.0;
    for (int trial = 0; trial < TRIALS; trial++) {
        ht_pipe *pipe = open_sw(0);
        unsigned u = (unsigned)(ht_rng_next(&rng) % HT_PIPE_UNDERLYINGS);
        double s0_usd = trial == 0 ? 10000.0 : trial == 1 ? 200000.0 : ht_rng_uniform(&rng, 10000.0, 200000.0);
        ht_synth_book_params p = {.underlying = u, .s0_usd = s0_usd, .ref_spread = 0.02, .max_abs_qty = 500.0};
        ht_synth_book(&rng, &p, book, N);
        double s0[HT_PIPE_UNDERLYINGS];
        s0_one(s0, u, s0_usd);
        OK(ht_pipe_load_book(pipe, book, N, s0, E));
        OK(ht_pipe_sync(pipe, E));
        double dsigma = ht_rng_uniform(&rng, -0.2, 0.2);
        double inventory = ht_rng_uniform(&rng, -1.0e4, 1.0e4);
        OK(ht_pipe_set_vol_move(pipe, u, dsigma, E));
        OK(ht_pipe_set_inventory(pipe, u, inventory, E));
        band_always_high(pipe, u);
        ref_book ref = reference_book(book, N, u, s0_usd);
        ht_pipe_underlying_state st;
        OK(ht_pipe_read_underlying(pipe, u, &st, E));
        assert_true(fabsl(ht_fx_to_double(st.a, HT_FX_DELTA_FRAC) - ref.a) < 1e-6L * N);
        assert_true(fabsl(ht_fx_to_double(st.b, HT_FX_GAMMA_FRAC) - ref.b) < 1e-9L * N);
        assert_true(fabsl(ht_fx_to_double(st.c, HT_FX_SPEED_FRAC) - ref.c) < 1e-13L * N);
        assert_true(fabsl(ht_fx_to_double(st.v, HT_FX_VANNA_FRAC) - ref.v) < 1e-6L * N);
        for (int t = 0; t < TICKS; t++) {
            double spot = s0_usd * (1.0 + ht_rng_uniform(&rng, -0.1, 0.1));
            ht_pipe_event ev = probe(pipe, u, (uint64_t)t, spot);
            int64_t spot_fx;
            ht_fx_from_double(spot, HT_FX_PRICE_FRAC, &spot_fx);
            assert_true(ev.price_fx == spot_fx); /* the hot-path conversion equals the reference conversion */
            long double want = reference_net_delta(&ref, spot - s0_usd, dsigma, inventory);
            double err = (double)fabsl(ev.net_delta_contracts - want);
            if (err > worst_abs)
                worst_abs = err;
            if (err / N > worst_per_position)
                worst_per_position = err / N;
            if (!(err <= 1e-6 * N))
                fail_msg("trial %d tick %d: S0 %.2f spot %.2f net delta %.12f, reference %.12Lf (error %.3g)", trial, t,
                         s0_usd, spot, ev.net_delta_contracts, want, err);
        }
        ht_pipe_counters cnt;
        OK(ht_pipe_read_counters(pipe, &cnt, E));
        assert_int_equal(cnt.flags, 0); /* nothing saturated on a realistic book */
        assert_int_equal(cnt.events, TICKS);
        ht_pipe_destroy(pipe);
    }
    print_message("net delta vs double, 4096-position BTC books: worst error %.3g contracts (%.3g per position)\n",
                  worst_abs, worst_per_position);
}

/* A single position: the error stays below 1e-6 contracts for every position on its own. */
static void single_position_error_below_target(void **state)
{
    (void)state;
    ht_rng rng = {7};
    ht_pipe *pipe = open_sw(0);
    band_always_high(pipe, 3);
    double worst = 0.0;
    for (int trial = 0; trial < 2000; trial++) {
        ht_pipe_position pos;
        double s0_usd = ht_rng_uniform(&rng, 10000.0, 200000.0);
        ht_synth_book(&rng, &(ht_synth_book_params){.underlying = 3, .s0_usd = s0_usd, .ref_spread = 0.05,
                                                    .max_abs_qty = 1000.0},
                      &pos, 1);
        double s0[HT_PIPE_UNDERLYINGS];
        s0_one(s0, 3, s0_usd);
        OK(ht_pipe_load_book(pipe, &pos, 1, s0, E));
        OK(ht_pipe_sync(pipe, E));
        ref_book ref = reference_book(&pos, 1, 3, s0_usd);
        double spot = s0_usd * (1.0 + ht_rng_uniform(&rng, -0.1, 0.1));
        ht_pipe_event ev = probe(pipe, 3, (uint64_t)trial, spot);
        double err = (double)fabsl(ev.net_delta_contracts - reference_net_delta(&ref, spot - s0_usd, 0.0, 0.0));
        if (err > worst)
            worst = err;
        assert_true(err < 1e-6);
    }
    print_message("single positions up to 1000 contracts, S_i within 5%% of S0: worst error %.3g contracts\n", worst);
    ht_pipe_destroy(pipe);
}

/* All 16 underlyings with 4096 positions each (the full table) fold into 16 independent books. */
static void full_table_sixteen_underlyings(void **state)
{
    (void)state;
    ht_pipe_position *book = calloc(HT_PIPE_TABLE_DEPTH, sizeof *book);
    assert_non_null(book);
    ht_rng rng = {99};
    double s0[HT_PIPE_UNDERLYINGS];
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        s0[u] = ht_rng_uniform(&rng, 10000.0, 200000.0);
    /* Interleave underlyings so the fold really separates them. */
    for (size_t i = 0; i < HT_PIPE_TABLE_DEPTH; i++) {
        unsigned u = (unsigned)(i % HT_PIPE_UNDERLYINGS);
        ht_synth_book(&rng, &(ht_synth_book_params){.underlying = u, .s0_usd = s0[u], .ref_spread = 0.02,
                                                    .max_abs_qty = 500.0},
                      &book[i], 1);
    }
    ht_pipe *pipe = open_sw(0);
    OK(ht_pipe_load_book(pipe, book, HT_PIPE_TABLE_DEPTH, s0, E));
    OK(ht_pipe_sync(pipe, E));
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        ref_book ref = reference_book(book, HT_PIPE_TABLE_DEPTH, u, s0[u]);
        ht_pipe_underlying_state st;
        OK(ht_pipe_read_underlying(pipe, u, &st, E));
        assert_true(fabsl(ht_fx_to_double(st.a, HT_FX_DELTA_FRAC) - ref.a) < 1e-6L * 4096);
        assert_true(fabsl(ht_fx_to_double(st.b, HT_FX_GAMMA_FRAC) - ref.b) < 1e-9L * 4096);
        int64_t s0_fx;
        ht_fx_from_double(s0[u], HT_FX_PRICE_FRAC, &s0_fx);
        assert_true(st.s0 == s0_fx);
    }
    ht_pipe_destroy(pipe);
    free(book);
}

/* A one-position book whose net delta is exactly `delta` contracts at any spot. */
static void load_flat_book(ht_pipe *pipe, unsigned u, double delta, double gamma)
{
    ht_pipe_position pos = {.underlying = u, .qty_x_mult = 1.0, .delta = delta, .gamma = gamma,
                            .ref_spot_usd = 100.0};
    double s0[HT_PIPE_UNDERLYINGS];
    s0_one(s0, u, 100.0);
    OK(ht_pipe_load_book(pipe, &pos, 1, s0, E));
    OK(ht_pipe_sync(pipe, E));
}

/* Pushes a tick at spot 100 and says whether an event came out (filling *ev). */
static bool tick_breaches(ht_pipe *pipe, unsigned u, uint64_t seq, ht_pipe_event *ev)
{
    assert_int_equal(ht_pipe_push_tick(pipe, &(ht_pipe_tick){.underlying = u, .seq = seq, .spot_usd = 100.0}), 0);
    return ht_pipe_poll_event(pipe, ev) == 1;
}

/* A net delta equal to a bound is inside; one LSB beyond is a breach. */
static void band_hit_exactly_is_inside(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(0);
    load_flat_book(pipe, 2, 5.0, 0.0);
    ht_pipe_event ev;
    OK(ht_pipe_set_band(pipe, 2, -5.0, 5.0, E));
    assert_false(tick_breaches(pipe, 2, 1, &ev));
    OK(ht_pipe_set_band(pipe, 2, 5.0, 6.0, E));
    assert_false(tick_breaches(pipe, 2, 2, &ev));
    OK(ht_pipe_set_band(pipe, 2, -5.0, 5.0 - ht_fx_lsb(HT_FX_DELTA_FRAC), E));
    assert_true(tick_breaches(pipe, 2, 3, &ev));
    assert_int_equal(ev.side, HT_PIPE_SIDE_DELTA_HI);
    assert_true(ev.net_delta_contracts == 5.0);
    OK(ht_pipe_set_band(pipe, 2, 5.0 + ht_fx_lsb(HT_FX_DELTA_FRAC), 6.0, E));
    assert_true(tick_breaches(pipe, 2, 4, &ev));
    assert_int_equal(ev.side, HT_PIPE_SIDE_DELTA_LO);
    assert_int_equal(ev.seq, 4);
    ht_pipe_destroy(pipe);
}

/* After a breach the underlying is muted until a band or inventory write or an explicit re-arm; a vol move
 * does not re-arm; other underlyings are not affected; muted breaches are counted. */
static void breach_mutes_until_rearm(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(0);
    load_flat_book(pipe, 0, 5.0, 0.0);
    OK(ht_pipe_set_band(pipe, 0, -1.0, 1.0, E));
    ht_pipe_event ev;
    assert_true(tick_breaches(pipe, 0, 1, &ev));
    assert_false(tick_breaches(pipe, 0, 2, &ev));
    assert_false(tick_breaches(pipe, 0, 3, &ev));
    ht_pipe_counters c;
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.muted_mask, 1u);
    assert_int_equal(c.muted_ticks, 2);
    assert_int_equal(c.events, 1);
    OK(ht_pipe_set_vol_move(pipe, 0, 0.05, E)); /* no vanna: same net delta, still muted */
    assert_false(tick_breaches(pipe, 0, 4, &ev));
    OK(ht_pipe_set_inventory(pipe, 0, -5.0, E)); /* re-arms; net delta 0 is inside */
    assert_false(tick_breaches(pipe, 0, 5, &ev));
    OK(ht_pipe_set_inventory(pipe, 0, -10.0, E)); /* net delta -5 */
    assert_true(tick_breaches(pipe, 0, 6, &ev));
    assert_int_equal(ev.side, HT_PIPE_SIDE_DELTA_LO);
    assert_true(ev.net_delta_contracts == -5.0);
    assert_false(tick_breaches(pipe, 0, 7, &ev));
    OK(ht_pipe_rearm(pipe, 0, E));
    assert_true(tick_breaches(pipe, 0, 8, &ev));
    OK(ht_pipe_set_band(pipe, 0, -2.0, 2.0, E));
    assert_true(tick_breaches(pipe, 0, 9, &ev));
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.events, 4);
    assert_int_equal(c.muted_ticks, 4);
    assert_int_equal(c.ticks, 9);
    ht_pipe_destroy(pipe);
}

/* The gamma band is checked too, with its own side bits. */
static void gamma_band_breach(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(0);
    load_flat_book(pipe, 1, 0.0, 0.002);
    ht_pipe_event ev;
    assert_false(tick_breaches(pipe, 1, 1, &ev)); /* open bands */
    OK(ht_pipe_set_gamma_band(pipe, 1, -0.001, 0.001, E));
    assert_true(tick_breaches(pipe, 1, 2, &ev));
    assert_int_equal(ev.side, HT_PIPE_SIDE_GAMMA_HI);
    assert_true(fabs(ev.net_gamma_per_usd - 0.002) <= ht_fx_lsb(HT_FX_GAMMA_FRAC));
    OK(ht_pipe_set_gamma_band(pipe, 1, 0.003, 0.004, E));
    assert_true(tick_breaches(pipe, 1, 3, &ev));
    assert_int_equal(ev.side, HT_PIPE_SIDE_GAMMA_LO);
    ht_pipe_destroy(pipe);
}

/* Values beyond a format saturate (never wrap) and set sticky flags, which clear one by one. */
static void saturation_sets_sticky_flags(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(0);
    /* Two positions of 1.5e9 contracts: A = 3e9 does not fit Q31.32. */
    ht_pipe_position pos[2] = {
        {.underlying = 0, .qty_x_mult = 1.5e9, .delta = 1.0, .ref_spot_usd = 100.0},
        {.underlying = 0, .qty_x_mult = 1.5e9, .delta = 1.0, .ref_spot_usd = 100.0},
    };
    double s0[HT_PIPE_UNDERLYINGS];
    s0_one(s0, 0, 100.0);
    OK(ht_pipe_load_book(pipe, pos, 2, s0, E));
    uint32_t status, flags;
    OK(ht_pipe_reg_read(pipe, HT_PIPE_REG_STATUS, &status, E)); /* right after the commit: still folding */
    OK(ht_pipe_reg_read(pipe, HT_PIPE_REG_FLAGS, &flags, E));
    assert_int_equal(status, 1);
    assert_int_equal(flags, 0); /* fold flags are raised when the book is swapped in, not before */
    ht_pipe_counters c;
    OK(ht_pipe_sync(pipe, E));
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_false(c.fold_busy);
    assert_int_equal(c.flags, HT_PIPE_FLAG_FOLD_SUM);
    assert_int_equal(c.generation, 1);
    ht_pipe_underlying_state st;
    OK(ht_pipe_read_underlying(pipe, 0, &st, E));
    assert_true(st.a == INT64_MAX);
    /* A saturated A plus a large inventory: net delta saturates at the tick too. */
    OK(ht_pipe_set_inventory(pipe, 0, 1.0e9, E));
    OK(ht_pipe_set_band(pipe, 0, -1.0, 1.0, E));
    ht_pipe_event ev;
    assert_true(tick_breaches(pipe, 0, 1, &ev));
    assert_true(ev.net_delta_fx == INT64_MAX);
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.flags, HT_PIPE_FLAG_FOLD_SUM | HT_PIPE_FLAG_TICK_DELTA);
    /* A raw price far below S0: dS saturates. */
    OK(ht_pipe_rearm(pipe, 0, E));
    ht_pipe_push_tick_fx(pipe, &(ht_fx_tick){.underlying = 0, .seq = 2, .price = INT64_MIN});
    assert_int_equal(ht_pipe_poll_event(pipe, &ev), 1);
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_true(c.flags & HT_PIPE_FLAG_TICK_DS);
    OK(ht_pipe_clear_flags(pipe, HT_PIPE_FLAG_TICK_DELTA | HT_PIPE_FLAG_TICK_DS, E));
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.flags, HT_PIPE_FLAG_FOLD_SUM);
    ht_pipe_destroy(pipe);
}

/* A commit folds in the background: ticks keep the old book until the documented activation cycle, then
 * see the whole new book at once. */
static void fold_activates_at_documented_cycle(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(0);
    OK(ht_pipe_set_band(pipe, 0, -1.0, 1.0, E));
    enum { COUNT = 300 };
    ht_pipe_position *pos = calloc(COUNT, sizeof *pos);
    assert_non_null(pos);
    for (int i = 0; i < COUNT; i++) /* 300 positions of 0.01 contracts: net delta 3 once the book is in */
        pos[i] = (ht_pipe_position){.underlying = 0, .qty_x_mult = 0.01, .delta = 1.0, .ref_spot_usd = 100.0};
    double s0[HT_PIPE_UNDERLYINGS];
    s0_one(s0, 0, 100.0);
    OK(ht_pipe_write_positions(pipe, 0, pos, COUNT, E));
    OK(ht_pipe_commit(pipe, COUNT, s0, E));
    uint64_t commit_cycle = ht_pipe_now(pipe) - HT_PIPE_AXIL_CYCLES; /* the CONTROL write was the last access */
    uint64_t activate = commit_cycle + COUNT + HT_PIPE_FOLD_EXTRA_CYCLES;
    /* One tick per cycle until well past the activation. */
    uint64_t first_in = ht_pipe_now(pipe);
    for (int i = 0; i < COUNT + 40; i++)
        ht_pipe_push_tick(pipe, &(ht_pipe_tick){.underlying = 0, .seq = (uint64_t)i, .spot_usd = 100.0});
    ht_pipe_event ev;
    assert_int_equal(ht_pipe_poll_event(pipe, &ev), 1);
    assert_int_equal(ev.cycle_in, activate - HT_PIPE_BOOK_READ_CYCLE);
    assert_int_equal(ev.seq, activate - HT_PIPE_BOOK_READ_CYCLE - first_in);
    assert_true(fabs(ev.net_delta_contracts - 3.0) < 1e-8);
    assert_int_equal(ev.cycle_out - ev.cycle_in, HT_PIPE_LATENCY_CYCLES);
    assert_int_equal(ht_pipe_poll_event(pipe, &ev), 0);
    ht_pipe_counters c;
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.generation, 1);
    assert_int_equal(c.muted_ticks, COUNT + 40 - (activate - HT_PIPE_BOOK_READ_CYCLE - first_in) - 1);
    free(pos);
    ht_pipe_destroy(pipe);
}

/* Tick to event is HT_PIPE_LATENCY_CYCLES for 1 and for 4096 positions. */
static void latency_independent_of_book_size(void **state)
{
    (void)state;
    static ht_pipe_position book[4096];
    ht_rng rng = {5};
    const size_t sizes[] = {1, 78, 4096};
    for (size_t k = 0; k < HT_ARRAY_LEN(sizes); k++) {
        ht_pipe *pipe = open_sw(0);
        ht_synth_book(&rng, &(ht_synth_book_params){.underlying = 0, .s0_usd = 30000.0, .ref_spread = 0.01,
                                                    .max_abs_qty = 10.0},
                      book, sizes[k]);
        double s0[HT_PIPE_UNDERLYINGS];
        s0_one(s0, 0, 30000.0);
        OK(ht_pipe_load_book(pipe, book, sizes[k], s0, E));
        OK(ht_pipe_sync(pipe, E));
        band_always_high(pipe, 0);
        for (int t = 0; t < 10; t++) {
            ht_pipe_event ev = probe(pipe, 0, (uint64_t)t, 30000.0 + t);
            assert_int_equal(ev.cycle_out - ev.cycle_in, HT_PIPE_LATENCY_CYCLES);
        }
        ht_pipe_destroy(pipe);
    }
}

/* When the host does not poll, the queue fills and further events are dropped and counted, oldest kept. */
static void full_event_queue_drops_and_counts(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(16);
    ht_pipe_position pos[HT_PIPE_UNDERLYINGS];
    double s0[HT_PIPE_UNDERLYINGS];
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        pos[u] = (ht_pipe_position){.underlying = u, .qty_x_mult = 1.0, .delta = 5.0, .ref_spot_usd = 100.0};
        s0[u] = 100.0;
        OK(ht_pipe_set_band(pipe, u, -1.0, 1.0, E));
    }
    OK(ht_pipe_load_book(pipe, pos, HT_PIPE_UNDERLYINGS, s0, E));
    OK(ht_pipe_sync(pipe, E));
    for (int round = 0; round < 2; round++) {
        for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
            ht_pipe_push_tick(pipe, &(ht_pipe_tick){.underlying = u, .seq = round * 100u + u, .spot_usd = 100.0});
        OK(ht_pipe_reg_write(pipe, HT_PIPE_REG_REARM, 0xFFFFu, E));
    }
    ht_pipe_counters c;
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.events, 32);
    assert_int_equal(c.events_dropped, 16);
    ht_pipe_event ev;
    for (unsigned i = 0; i < 16; i++) {
        assert_int_equal(ht_pipe_poll_event(pipe, &ev), 1);
        assert_int_equal(ev.seq, i);
    }
    assert_int_equal(ht_pipe_poll_event(pipe, &ev), 0);
    ht_pipe_destroy(pipe);
}

/* Registers after reset: identity, capabilities, open bands, zero counters; the cycle counter reads
 * consistently as 64 bits and equals the simulated clock. */
static void registers_after_reset(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(0);
    uint32_t v;
    OK(ht_pipe_reg_read(pipe, HT_PIPE_REG_ID, &v, E));
    assert_int_equal(v, HT_PIPE_ID_MAGIC);
    OK(ht_pipe_reg_read(pipe, HT_PIPE_REG_CAPS, &v, E));
    assert_int_equal(v & 0xFF, HT_PIPE_UNDERLYINGS);
    assert_int_equal((v >> 8) & 0xFF, HT_PIPE_LATENCY_CYCLES);
    assert_int_equal((v >> 16) & 0xFF, HT_PIPE_TABLE_ADDR_BITS);
    ht_pipe_underlying_state st;
    OK(ht_pipe_read_underlying(pipe, 15, &st, E));
    assert_true(st.band_lo == INT64_MIN && st.band_hi == INT64_MAX);
    assert_true(st.gamma_lo == INT64_MIN && st.gamma_hi == INT64_MAX);
    assert_true(st.a == 0 && st.b == 0 && st.c == 0 && st.v == 0 && st.s0 == 0 && st.inventory == 0);
    ht_pipe_idle(pipe, (1ull << 32) + 5); /* the counter crosses 2^32 */
    uint64_t before = ht_pipe_now(pipe), cycles;
    OK(ht_pipe_reg_read64(pipe, HT_PIPE_REG_CYCLES, &cycles, E));
    assert_true(cycles == before); /* the LO read samples the counter in its own cycle, HI comes from that sample */
    ht_pipe_counters c;
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.ticks + c.events + c.muted_ticks + c.bad_ticks + c.generation + c.flags, 0);
    /* Round trip of a 64-bit setting through the raw register interface. */
    OK(ht_pipe_reg_write64(pipe, HT_PIPE_REG_UND_BASE + 4 * HT_PIPE_REG_UND_STRIDE + HT_PIPE_UREG_VOL_MOVE,
                           0x0123456789ABCDEFull, E));
    OK(ht_pipe_read_underlying(pipe, 4, &st, E));
    assert_true(st.vol_move == 0x0123456789ABCDEFll);
    ht_pipe_destroy(pipe);
}

/* Bad input is refused with a message that names it; nothing reaches the pipeline. */
static void bad_input_is_refused_with_a_message(void **state)
{
    (void)state;
    ht_pipe *pipe = open_sw(0);
    ht_error err = {{0}};
    ht_pipe_position pos[3] = {
        {.underlying = 0, .qty_x_mult = 1.0, .delta = 0.5, .ref_spot_usd = 100.0},
        {.underlying = 0, .qty_x_mult = 1.0, .delta = 0.5, .ref_spot_usd = 100.0},
        {.underlying = 0, .qty_x_mult = 1.0, .delta = NAN, .ref_spot_usd = 100.0},
    };
    double s0[HT_PIPE_UNDERLYINGS];
    s0_one(s0, 0, 100.0);
    assert_int_equal(ht_pipe_load_book(pipe, pos, 3, s0, &err), -1);
    assert_non_null(strstr(err.msg, "position 2"));
    assert_non_null(strstr(err.msg, "delta"));
    pos[2].delta = 0.5;
    pos[1].underlying = 16;
    assert_int_equal(ht_pipe_load_book(pipe, pos, 3, s0, &err), -1);
    assert_non_null(strstr(err.msg, "position 1"));
    assert_non_null(strstr(err.msg, "underlying 16"));
    pos[1].underlying = 0;
    pos[0].ref_spot_usd = -3.0;
    assert_int_equal(ht_pipe_load_book(pipe, pos, 3, s0, &err), -1);
    assert_non_null(strstr(err.msg, "ref_spot_usd"));
    pos[0].ref_spot_usd = 100.0;
    pos[0].gamma = 1e6; /* 1e6 contracts per USD does not fit Q15.48 */
    assert_int_equal(ht_pipe_load_book(pipe, pos, 3, s0, &err), -1);
    assert_non_null(strstr(err.msg, "gamma"));
    s0[5] = INFINITY;
    pos[0].gamma = 0.0;
    assert_int_equal(ht_pipe_load_book(pipe, pos, 3, s0, &err), -1);
    assert_non_null(strstr(err.msg, "underlying 5"));
    assert_int_equal(ht_pipe_set_band(pipe, 0, 2.0, 1.0, &err), -1);
    assert_non_null(strstr(err.msg, "above"));
    assert_int_equal(ht_pipe_set_band(pipe, 0, NAN, 1.0, &err), -1);
    assert_int_equal(ht_pipe_set_inventory(pipe, 99, 1.0, &err), -1);
    assert_non_null(strstr(err.msg, "underlying 99"));
    assert_int_equal(ht_pipe_commit(pipe, HT_PIPE_TABLE_DEPTH + 1, NULL, &err), -1);
    assert_int_equal(ht_pipe_reg_write(pipe, 0x1101, 0, &err), -1);
    assert_non_null(strstr(err.msg, "0x1101"));
    assert_int_equal(ht_pipe_reg_read64(pipe, HT_PIPE_REG_CYCLES + 4, &(uint64_t){0}, &err), -1);
    /* Ticks: NaN, zero, negative, too large, bad underlying are refused and counted. */
    const ht_pipe_tick bad[] = {{0, 1, NAN}, {0, 2, 0.0}, {0, 3, -5.0}, {0, 4, 3e9}, {16, 5, 100.0}, {0, 6, INFINITY}};
    for (size_t i = 0; i < HT_ARRAY_LEN(bad); i++)
        assert_int_equal(ht_pipe_push_tick(pipe, &bad[i]), -1);
    ht_pipe_counters c;
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.ticks_rejected, HT_ARRAY_LEN(bad));
    assert_int_equal(c.ticks, 0);
    assert_int_equal(c.generation, 0); /* no refused book was committed */
    /* A raw tick for underlying 200 reaches the pipeline and is dropped there. */
    ht_pipe_push_tick_fx(pipe, &(ht_fx_tick){.underlying = 200, .seq = 1, .price = 1});
    OK(ht_pipe_read_counters(pipe, &c, E));
    assert_int_equal(c.bad_ticks, 1);
    ht_pipe_destroy(pipe);
    /* Configuration. */
    ht_pipe_backend b;
    assert_int_equal(ht_pipe_backend_parse("fpga", &b, &err), -1);
    assert_non_null(strstr(err.msg, "'fpga'"));
    assert_int_equal(ht_pipe_backend_parse("verilator", &b, &err), 0);
    assert_int_equal(b, HT_PIPE_BACKEND_VERILATOR);
    ht_pipe_config cfg;
    ht_pipe_config_default(&cfg);
    cfg.event_capacity = 1000;
    assert_null(ht_pipe_create(&cfg, &err));
    assert_non_null(strstr(err.msg, "event_capacity 1000"));
    for (int k = HT_PIPE_BACKEND_VERILATOR; k <= HT_PIPE_BACKEND_XRT; k++) {
        if (ht_pipe_backend_built((ht_pipe_backend)k))
            continue;
        ht_pipe_config_default(&cfg);
        cfg.backend = (ht_pipe_backend)k;
        assert_null(ht_pipe_create(&cfg, &err));
        assert_non_null(strstr(err.msg, "not part of this build"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(net_delta_matches_double_reference),
        cmocka_unit_test(single_position_error_below_target),
        cmocka_unit_test(full_table_sixteen_underlyings),
        cmocka_unit_test(band_hit_exactly_is_inside),
        cmocka_unit_test(breach_mutes_until_rearm),
        cmocka_unit_test(gamma_band_breach),
        cmocka_unit_test(saturation_sets_sticky_flags),
        cmocka_unit_test(fold_activates_at_documented_cycle),
        cmocka_unit_test(latency_independent_of_book_size),
        cmocka_unit_test(full_event_queue_drops_and_counts),
        cmocka_unit_test(registers_after_reset),
        cmocka_unit_test(bad_input_is_refused_with_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* The card path without a card: the card protocol (what the xrt backend runs) over the Vitis kernel's RTL in
 * Verilator with an AXI memory model, against the sw C model. The kernel wrapper's register windows, soft
 * reset and table DMA (bursts split at 4 KB boundaries) must reproduce the C model's events and registers.
 * Cycle stamps are the card's own clock (real time on a card) and are checked for the 10-cycle latency only. */
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
#include "kernel_model.h"
#include "pipe_backend.h"

typedef struct pair {
    ht_pipe *sw;
    ht_pipe *card;
    uint64_t events;
} pair;

/* Runs one call on both; both must succeed. */
#define BOTH(p, call_sw, call_card)                                                                              \
    do {                                                                                                         \
        ht_error e_sw = {{0}}, e_card = {{0}};                                                                   \
        int r_sw = (call_sw), r_card = (call_card);                                                              \
        if (r_sw != 0 || r_card != 0)                                                                            \
            fail_msg("%s: sw %d (%s), card %d (%s)", #call_sw, r_sw, e_sw.msg, r_card, e_card.msg);              \
    } while (0)

static pair pair_open(void)
{
    pair p = {0};
    ht_error err = {{0}};
    p.sw = ht_pipe_create(NULL, &err);
    assert_non_null(p.sw);
    ht_pipe_config cfg;
    ht_pipe_config_default(&cfg);
    cfg.backend = HT_PIPE_BACKEND_XRT;
    p.card = ht_pipe_create_with_ops(&ht_pipe_kernel_model_ops, &cfg, &err);
    if (!p.card)
        fail_msg("kernel model: %s", err.msg);
    return p;
}

/* Pushes a tick on both and compares whatever event comes out. */
static void tick_both(pair *p, unsigned u, uint64_t seq, double spot)
{
    ht_pipe_tick t = {.underlying = u, .seq = seq, .spot_usd = spot};
    assert_int_equal(ht_pipe_push_tick(p->sw, &t), ht_pipe_push_tick(p->card, &t));
    ht_pipe_event a, b;
    int ra = ht_pipe_poll_event(p->sw, &a), rb = ht_pipe_poll_event(p->card, &b);
    if (ra != rb)
        fail_msg("tick seq %llu on %u at %.4f: sw %s an event, the card %s", (unsigned long long)seq, u, spot,
                 ra ? "has" : "has no", rb ? "has one" : "has none");
    if (!ra)
        return;
    p->events++;
    if (a.underlying != b.underlying || a.side != b.side || a.seq != b.seq || a.price_fx != b.price_fx ||
        a.net_delta_fx != b.net_delta_fx || a.net_gamma_fx != b.net_gamma_fx)
        fail_msg("events differ: sw {u %u side %u seq %llu S %lld nd %lld ng %lld}, card {u %u side %u seq %llu S "
                 "%lld nd %lld ng %lld}",
                 a.underlying, a.side, (unsigned long long)a.seq, (long long)a.price_fx, (long long)a.net_delta_fx,
                 (long long)a.net_gamma_fx, b.underlying, b.side, (unsigned long long)b.seq, (long long)b.price_fx,
                 (long long)b.net_delta_fx, (long long)b.net_gamma_fx);
    assert_int_equal(b.cycle_out - b.cycle_in, HT_PIPE_LATENCY_CYCLES);
}

/* Counters (but the cycle counter) and every underlying's registers agree. */
static void compare_state(pair *p)
{
    ht_pipe_counters a, b;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_read_counters(p->sw, &a, &err), 0);
    assert_int_equal(ht_pipe_read_counters(p->card, &b, &err), 0);
    if (a.ticks != b.ticks || a.events != b.events || a.muted_ticks != b.muted_ticks || a.bad_ticks != b.bad_ticks ||
        a.generation != b.generation || a.flags != b.flags || a.muted_mask != b.muted_mask ||
        a.iir_mask != b.iir_mask || a.fold_busy != b.fold_busy)
        fail_msg("counters differ: ticks %llu/%llu events %llu/%llu muted %llu/%llu bad %llu/%llu gen %llu/%llu "
                 "flags 0x%x/0x%x",
                 (unsigned long long)a.ticks, (unsigned long long)b.ticks, (unsigned long long)a.events,
                 (unsigned long long)b.events, (unsigned long long)a.muted_ticks, (unsigned long long)b.muted_ticks,
                 (unsigned long long)a.bad_ticks, (unsigned long long)b.bad_ticks, (unsigned long long)a.generation,
                 (unsigned long long)b.generation, a.flags, b.flags);
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        ht_pipe_underlying_state x, y;
        assert_int_equal(ht_pipe_read_underlying(p->sw, u, &x, &err), 0);
        assert_int_equal(ht_pipe_read_underlying(p->card, u, &y, &err), 0);
        if (memcmp(&x, &y, sizeof x) != 0)
            fail_msg("underlying %u: registers differ (A %lld/%lld, B %lld/%lld, S0 %lld/%lld)", u, (long long)x.a,
                     (long long)y.a, (long long)x.b, (long long)y.b, (long long)x.s0, (long long)y.s0);
    }
}

static void card_protocol_on_the_kernel_rtl_matches_the_model(void **state)
{
    (void)state;
    pair p = pair_open();
    ht_rng rng = {77};
    enum { N = 900 };
    static ht_pipe_position book[N];
    double s0[HT_PIPE_UNDERLYINGS] = {0};
    const unsigned n_und = 4;
    for (unsigned u = 0; u < n_und; u++)
        s0[u] = ht_rng_uniform(&rng, 10000.0, 200000.0);
    for (size_t i = 0; i < N; i++) {
        unsigned u = (unsigned)(i % n_und);
        ht_synth_book(&rng, &(ht_synth_book_params){.underlying = u, .s0_usd = s0[u], .ref_spread = 0.02,
                                                    .max_abs_qty = 20.0},
                      &book[i], 1);
    }
    /* The table goes in at an odd first index, so the DMA's bursts cross 4 KB boundaries unaligned. */
    BOTH(&p, ht_pipe_write_positions(p.sw, 37, book, N, &e_sw), ht_pipe_write_positions(p.card, 37, book, N, &e_card));
    BOTH(&p, ht_pipe_commit(p.sw, 37 + N, s0, &e_sw), ht_pipe_commit(p.card, 37 + N, s0, &e_card));
    BOTH(&p, ht_pipe_sync(p.sw, &e_sw), ht_pipe_sync(p.card, &e_card));
    compare_state(&p);
    double spot[HT_PIPE_UNDERLYINGS];
    for (unsigned u = 0; u < n_und; u++) {
        spot[u] = s0[u];
        ht_pipe_underlying_state st;
        ht_error err = {{0}};
        assert_int_equal(ht_pipe_read_underlying(p.sw, u, &st, &err), 0);
        double a = ht_fx_to_double(st.a, HT_FX_DELTA_FRAC);
        BOTH(&p, ht_pipe_set_band(p.sw, u, a - 0.5, a + 0.5, &e_sw),
             ht_pipe_set_band(p.card, u, a - 0.5, a + 0.5, &e_card));
    }
    ht_pipe_iir iir;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_iir_design_lowpass(2, 0.1, &iir, &err), 0);
    BOTH(&p, ht_pipe_set_filter(p.sw, 1, &iir, &e_sw), ht_pipe_set_filter(p.card, 1, &iir, &e_card));
    BOTH(&p, ht_pipe_set_vol_move(p.sw, 2, 0.03, &e_sw), ht_pipe_set_vol_move(p.card, 2, 0.03, &e_card));
    for (int t = 0; t < 3000; t++) {
        unsigned u = (unsigned)(ht_rng_next(&rng) % n_und);
        spot[u] *= 1.0 + ht_rng_uniform(&rng, -0.003, 0.003);
        tick_both(&p, u, (uint64_t)t, spot[u]);
        if (t % 10 == 9) /* re-arm everything now and then, one underlying at a time otherwise */
            BOTH(&p, ht_pipe_reg_write(p.sw, HT_PIPE_REG_REARM, 0xFFFF, &e_sw),
                 ht_pipe_reg_write(p.card, HT_PIPE_REG_REARM, 0xFFFF, &e_card));
        else if (t % 7 == 0)
            BOTH(&p, ht_pipe_rearm(p.sw, u, &e_sw), ht_pipe_rearm(p.card, u, &e_card));
    }
    /* Raw ticks: an underlying the pipeline does not serve, and an extreme price. */
    ht_fx_tick raw[2] = {{.underlying = 99, .seq = 1000, .price = 1},
                         {.underlying = 0, .seq = 1001, .price = INT64_MIN}};
    for (int i = 0; i < 2; i++) {
        ht_pipe_push_tick_fx(p.sw, &raw[i]);
        ht_pipe_push_tick_fx(p.card, &raw[i]);
    }
    BOTH(&p, ht_pipe_rearm(p.sw, 0, &e_sw), ht_pipe_rearm(p.card, 0, &e_card));
    compare_state(&p);
    /* A second, smaller book replaces the first. */
    BOTH(&p, ht_pipe_load_book(p.sw, book, 100, s0, &e_sw), ht_pipe_load_book(p.card, book, 100, s0, &e_card));
    BOTH(&p, ht_pipe_sync(p.sw, &e_sw), ht_pipe_sync(p.card, &e_card));
    for (int t = 0; t < 100; t++) {
        unsigned u = (unsigned)(ht_rng_next(&rng) % n_und);
        tick_both(&p, u, (uint64_t)(2000 + t), spot[u] * (1.0 + ht_rng_uniform(&rng, -0.01, 0.01)));
    }
    compare_state(&p);
    print_message("kernel RTL with the card protocol: %llu events identical to the C model\n",
                  (unsigned long long)p.events);
    assert_true(p.events > 300);
    ht_kernel_model_axi_stats axi;
    ht_kernel_model_get_axi_stats(&axi);
    assert_int_equal(axi.violations, 0);
    ht_pipe_destroy(p.sw);
    ht_pipe_destroy(p.card);
}

/* Table updates through the DMA: a range from every 64-byte offset of a 4 KB page (so a burst has to stop at
 * every possible distance from the boundary), 1 to 300 entries long, and the last entries of the table (the
 * buffer's end). Every update is folded on both sides and the registers compared; each beat must have been
 * served once, and no burst may cross a 4 KB boundary. */
static void table_dma_at_every_alignment_matches_the_model(void **state)
{
    (void)state;
    pair p = pair_open();
    ht_rng rng = {4242};
    enum { N = 1200, TAIL = 70 };
    static ht_pipe_position book[N];
    double s0[HT_PIPE_UNDERLYINGS] = {0};
    for (unsigned u = 0; u < 3; u++)
        s0[u] = ht_rng_uniform(&rng, 10000.0, 200000.0);
    for (size_t i = 0; i < N; i++) {
        unsigned u = (unsigned)(i % 3);
        ht_synth_book(&rng, &(ht_synth_book_params){.underlying = u, .s0_usd = s0[u], .ref_spread = 0.02,
                                                    .max_abs_qty = 50.0},
                      &book[i], 1);
    }
    ht_kernel_model_axi_stats before, after;
    ht_kernel_model_get_axi_stats(&before);
    uint64_t entries = 0;
    BOTH(&p, ht_pipe_load_book(p.sw, book, N, s0, &e_sw), ht_pipe_load_book(p.card, book, N, s0, &e_card));
    entries += N;
    for (uint32_t offset = 0; offset < 64; offset++) { /* offset: entries (64 bytes) past a 4 KB boundary */
        uint32_t n = 1 + (uint32_t)(ht_rng_next(&rng) % 300);
        uint32_t first = 64 * (uint32_t)(ht_rng_next(&rng) % 12) + offset;
        if (first + n > N)
            n = N - first;
        size_t from = (size_t)(ht_rng_next(&rng) % (N - n + 1)); /* other positions land there */
        BOTH(&p, ht_pipe_write_positions(p.sw, first, book + from, n, &e_sw),
             ht_pipe_write_positions(p.card, first, book + from, n, &e_card));
        entries += n;
        BOTH(&p, ht_pipe_commit(p.sw, N, s0, &e_sw), ht_pipe_commit(p.card, N, s0, &e_card));
        BOTH(&p, ht_pipe_sync(p.sw, &e_sw), ht_pipe_sync(p.card, &e_card));
        compare_state(&p);
    }
    /* The table's last entries, then a fold over the whole table. */
    BOTH(&p, ht_pipe_write_positions(p.sw, HT_PIPE_TABLE_DEPTH - TAIL, book, TAIL, &e_sw),
         ht_pipe_write_positions(p.card, HT_PIPE_TABLE_DEPTH - TAIL, book, TAIL, &e_card));
    entries += TAIL;
    BOTH(&p, ht_pipe_commit(p.sw, HT_PIPE_TABLE_DEPTH, s0, &e_sw),
         ht_pipe_commit(p.card, HT_PIPE_TABLE_DEPTH, s0, &e_card));
    BOTH(&p, ht_pipe_sync(p.sw, &e_sw), ht_pipe_sync(p.card, &e_card));
    compare_state(&p);
    ht_pipe_underlying_state st;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_read_underlying(p.card, 0, &st, &err), 0);
    assert_true(st.a != 0); /* the book is not empty: the comparison compared something */
    ht_kernel_model_get_axi_stats(&after);
    print_message("table DMA: %llu entries in %llu bursts, %llu of them stopped at a 4 KB boundary, %llu AXI "
                  "violations\n",
                  (unsigned long long)(after.beats - before.beats), (unsigned long long)(after.bursts - before.bursts),
                  (unsigned long long)(after.split_4k - before.split_4k),
                  (unsigned long long)(after.violations - before.violations));
    assert_int_equal(after.beats - before.beats, entries);
    assert_true(after.split_4k - before.split_4k >= 40);
    assert_int_equal(after.violations, 0);
    ht_pipe_destroy(p.sw);
    ht_pipe_destroy(p.card);
}

/* A card that stops answering: from the first failed access on, every control call fails with a message
 * naming it (even once the card answers again: its results are no longer trusted), and ht_pipe_check says
 * so. A fresh open is healthy. */
static void a_failed_card_access_is_reported_by_every_later_call(void **state)
{
    (void)state;
    ht_error err = {{0}};
    ht_pipe_config cfg;
    ht_pipe_config_default(&cfg);
    cfg.backend = HT_PIPE_BACKEND_XRT;
    ht_pipe *card = ht_pipe_create_with_ops(&ht_pipe_kernel_model_ops, &cfg, &err);
    if (!card)
        fail_msg("kernel model: %s", err.msg);
    assert_int_equal(ht_pipe_check(card, &err), 0);
    assert_int_equal(ht_pipe_set_band(card, 0, -1.0, 1.0, &err), 0);
    ht_pipe_counters c;
    assert_int_equal(ht_pipe_read_counters(card, &c, &err), 0);
    ht_kernel_model_fail_reads_at(HT_PIPE_REG_FLAGS);
    assert_int_equal(ht_pipe_read_counters(card, &c, &err), -1);
    assert_non_null(strstr(err.msg, "read counters: pipeline card: register read at register 0x0020 failed"));
    ht_kernel_model_fail_reads_at(UINT32_MAX);
    assert_int_equal(ht_pipe_set_band(card, 0, -2.0, 2.0, &err), -1);
    assert_non_null(strstr(err.msg, "set band: pipeline card: register read at register 0x0020"));
    assert_int_equal(ht_pipe_sync(card, &err), -1);
    assert_int_equal(ht_pipe_check(card, &err), -1);
    assert_non_null(strstr(err.msg, "not trustworthy"));
    ht_pipe_destroy(card);
    card = ht_pipe_create_with_ops(&ht_pipe_kernel_model_ops, &cfg, &err);
    assert_non_null(card);
    assert_int_equal(ht_pipe_check(card, &err), 0);
    assert_int_equal(ht_pipe_read_counters(card, &c, &err), 0);
    ht_pipe_destroy(card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(card_protocol_on_the_kernel_rtl_matches_the_model),
        cmocka_unit_test(table_dma_at_every_alignment_matches_the_model),
        cmocka_unit_test(a_failed_card_access_is_reported_by_every_later_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

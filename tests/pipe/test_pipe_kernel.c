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

/* ---- The wire and the event ring ------------------------------------------------------------------------------ */

static const char *const k_wire_names[4] = {"btc_usd", "eth_usd", "sol_usd", "xrp_usd"};

/* An Ethernet II / IPv4 / UDP frame to 239.111.111.0:6100 carrying one price index (SBE 1008, schema 1 version 2,
 * laid out from deribit_multicast.xml) on channel 0; bad_csum breaks the IPv4 header checksum. Returns its length. */
static size_t index_frame(uint8_t *f, uint32_t seq, const char *name, double price, bool bad_csum)
{
    memset(f, 0, 96);
    static const uint8_t eth[14] = {0x01, 0x00, 0x5E, 0x6F, 0x6F, 0x00, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
    memcpy(f, eth, 14);
    uint8_t *ip = f + 14, *udp = f + 34, *pay = f + 42;
    const unsigned plen = 8 + 12 + 32, udp_len = 8 + plen, ip_len = 20 + udp_len;
    uint8_t hdr[20] = {0x45, 0, (uint8_t)(ip_len >> 8), (uint8_t)ip_len, 0, 0, 0x40, 0, 16, 17, 0, 0, 10, 0, 0, 1,
                       239, 111, 111, 0};
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)hdr[i] << 8 | hdr[i + 1];
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    hdr[10] = (uint8_t)(~sum >> 8);
    hdr[11] = (uint8_t)(~sum ^ (bad_csum ? 1u : 0u));
    memcpy(ip, hdr, 20);
    uint8_t u[8] = {0x17, 0x70, 0x17, 0xD4, (uint8_t)(udp_len >> 8), (uint8_t)udp_len, 0, 0}; /* port 6100 */
    memcpy(udp, u, 8);
    uint16_t le[10] = {plen - 8, 0, 0, 0, /* frame header: length, channel 0, sequence (below) */
                       32, 1008, 1, 2, 0, 0};
    pay[0] = (uint8_t)le[0];
    pay[1] = (uint8_t)(le[0] >> 8);
    for (int b = 0; b < 4; b++)
        pay[4 + b] = (uint8_t)(seq >> (8 * b));
    for (int i = 4; i < 10; i++) {
        pay[8 + 2 * (i - 4)] = (uint8_t)le[i];
        pay[8 + 2 * (i - 4) + 1] = (uint8_t)(le[i] >> 8);
    }
    memcpy(pay + 20, name, strlen(name));
    uint64_t bits;
    memcpy(&bits, &price, 8);
    for (int b = 0; b < 8; b++)
        pay[36 + b] = (uint8_t)(bits >> (8 * b));
    return 42 + plen;
}

/* Takes every event both have and compares them (the card's from its ring in host memory). Returns the count. */
static unsigned drain_both(pair *p, bool rearm)
{
    unsigned n = 0;
    ht_pipe_event a, b;
    ht_error err = {{0}};
    while (ht_pipe_poll_event(p->sw, &a)) {
        if (!ht_pipe_poll_event(p->card, &b))
            fail_msg("event %llu: sw has it, the card's ring has not", (unsigned long long)p->events);
        if (a.underlying != b.underlying || a.side != b.side || a.seq != b.seq || a.price_fx != b.price_fx ||
            a.net_delta_fx != b.net_delta_fx || a.net_gamma_fx != b.net_gamma_fx)
            fail_msg("event %llu differs: sw {u %u seq 0x%llx S %lld}, ring {u %u seq 0x%llx S %lld}",
                     (unsigned long long)p->events, a.underlying, (unsigned long long)a.seq, (long long)a.price_fx,
                     b.underlying, (unsigned long long)b.seq, (long long)b.price_fx);
        assert_int_equal(b.cycle_out - b.cycle_in, HT_PIPE_LATENCY_CYCLES);
        p->events++;
        n++;
        if (rearm)
            BOTH(p, ht_pipe_rearm(p->sw, a.underlying, &e_sw), ht_pipe_rearm(p->card, a.underlying, &e_card));
    }
    if (ht_pipe_poll_event(p->card, &b))
        fail_msg("the card's ring has an event sw has not (u %u seq 0x%llx)", b.underlying, (unsigned long long)b.seq);
    (void)err;
    return n;
}

/* Frames into the kernel's s_axis_rx (as a network kernel would), events back through the ring in host memory:
 * the same events and ingest counters as the C model; the ring wraps; a ring the host does not read drops and
 * counts instead of holding the pipeline. */
static void wire_frames_into_the_ring_match_the_model(void **state)
{
    (void)state;
    ht_kernel_model_use_ring(true);
    pair p = pair_open();
    ht_kernel_model_use_ring(false);
    ht_pipe_wire_config wc = {.filter_addr = {0xEF6F6F00u}, .filter_port = {6100}, .channel = {0},
                              .channel_on = {true}};
    double s0[HT_PIPE_UNDERLYINGS] = {60000.0, 3000.0, 150.0, 0.5};
    ht_pipe_position pos[4];
    for (unsigned u = 0; u < 4; u++) {
        wc.index_name[u] = k_wire_names[u];
        pos[u] = (ht_pipe_position){.underlying = u, .qty_x_mult = 1.0, .delta = 0.5, .gamma = 2e-2 / s0[u],
                                    .ref_spot_usd = s0[u]};
    }
    BOTH(&p, ht_pipe_load_book(p.sw, pos, 4, s0, &e_sw), ht_pipe_load_book(p.card, pos, 4, s0, &e_card));
    BOTH(&p, ht_pipe_sync(p.sw, &e_sw), ht_pipe_sync(p.card, &e_card));
    for (unsigned u = 0; u < 4; u++)
        BOTH(&p, ht_pipe_set_band(p.sw, u, 0.5 - 1e-4, 0.5 + 1e-4, &e_sw),
             ht_pipe_set_band(p.card, u, 0.5 - 1e-4, 0.5 + 1e-4, &e_card));
    BOTH(&p, ht_pipe_wire_configure(p.sw, &wc, &e_sw), ht_pipe_wire_configure(p.card, &wc, &e_card));
    ht_rng rng = {77};
    double spot[4] = {s0[0], s0[1], s0[2], s0[3]};
    uint8_t f[128];
    uint32_t seq = 1;
    for (unsigned i = 0; i < 600; i++) {
        unsigned u = i % 4;
        spot[u] *= 1.0 + ht_rng_uniform(&rng, -2e-3, 2e-3);
        bool bad = i % 100 == 99;
        size_t len = index_frame(f, bad ? seq : seq++, k_wire_names[u], spot[u], bad);
        assert_int_equal(ht_pipe_push_frame(p.sw, f, len, false), 0);
        assert_int_equal(ht_pipe_push_frame(p.card, f, len, false), 0);
        drain_both(&p, true);
    }
    uint32_t a[HT_PIPE_WIRE_COUNTERS], b[HT_PIPE_WIRE_COUNTERS];
    BOTH(&p, ht_pipe_wire_read_counters(p.sw, a, &e_sw), ht_pipe_wire_read_counters(p.card, b, &e_card));
    for (unsigned r = 0; r < HT_PIPE_WIRE_COUNTERS; r++)
        if (a[r] != b[r])
            fail_msg("ingest counter %s: sw %u, card %u", ht_pipe_wire_counter_name(r), a[r], b[r]);
    assert_int_equal(a[HT_PIPE_WIRE_CNT_FRAMES_OK], 594);
    assert_int_equal(a[HT_PIPE_WIRE_CNT_IP_CHECKSUM], 6);
    assert_true(p.events > 4u * (1u << HT_PIPE_RING_LOG2_MIN)); /* the ring wrapped several times */
    ht_kernel_model_axi_stats st;
    ht_kernel_model_get_axi_stats(&st);
    assert_int_equal(st.violations, 0);
    /* Frame to ring write, in cycles: the pipeline's 12 to the event, the ring takes it, the write address follows;
     * the memory model holds back about one cycle in four. */
    uint64_t lo = UINT64_MAX, hi = 0, below[64] = {0};
    for (uint64_t k = 0; k < st.frame_to_ring_samples; k++) {
        lo = st.frame_to_ring[k] < lo ? st.frame_to_ring[k] : lo;
        hi = st.frame_to_ring[k] > hi ? st.frame_to_ring[k] : hi;
        below[st.frame_to_ring[k] < 63 ? st.frame_to_ring[k] : 63]++;
    }
    uint64_t median = 0;
    for (uint64_t c = 0, acc = 0; c < 64; c++)
        if ((acc += below[c]) * 2 >= st.frame_to_ring_samples) {
            median = c;
            break;
        }
    assert_true(st.frame_to_ring_samples >= 100);
    assert_int_equal(lo, HT_PIPE_WIRE_DECIDE_CYCLES + 1 + HT_PIPE_LATENCY_CYCLES + 1);
    print_message("wire into the ring: %llu events through a ring of %d records, %llu record writes; frame's last "
                  "beat to the record's write address: min %llu, median %llu, max %llu cycles over %llu frames\n",
                  (unsigned long long)p.events, 1 << HT_PIPE_RING_LOG2_MIN, (unsigned long long)st.ring_writes,
                  (unsigned long long)lo, (unsigned long long)median, (unsigned long long)hi,
                  (unsigned long long)st.frame_to_ring_samples);
    /* The host stops reading: 40 breaches (every underlying re-armed after each frame), then it reads again. */
    uint64_t before = p.events;
    for (unsigned i = 0; i < 40; i++) {
        unsigned u = i % 4;
        spot[u] = s0[u] * ((i / 4) % 2 ? 1.05 : 0.95); /* far outside the band each time */
        size_t len = index_frame(f, seq++, k_wire_names[u], spot[u], false);
        assert_int_equal(ht_pipe_push_frame(p.sw, f, len, false), 0);
        assert_int_equal(ht_pipe_push_frame(p.card, f, len, false), 0);
        BOTH(&p, ht_pipe_rearm(p.sw, u, &e_sw), ht_pipe_rearm(p.card, u, &e_card));
    }
    ht_pipe_event ev;
    unsigned sw_events = 0, card_events = 0;
    while (ht_pipe_poll_event(p.sw, &ev))
        sw_events++;
    while (ht_pipe_poll_event(p.card, &ev))
        card_events++;
    ht_pipe_counters cc;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_read_counters(p.card, &cc, &err), 0);
    assert_int_equal(sw_events, 40);
    assert_true(card_events <= (1u << HT_PIPE_RING_LOG2_MIN) && card_events >= (3u << HT_PIPE_RING_LOG2_MIN) / 4);
    assert_int_equal(card_events + cc.events_dropped, sw_events);
    print_message("ring full: %u events kept of %u, %llu dropped and counted (before: %llu events)\n", card_events,
                  sw_events, (unsigned long long)cc.events_dropped, (unsigned long long)before);
    ht_pipe_destroy(p.sw);
    ht_pipe_destroy(p.card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(card_protocol_on_the_kernel_rtl_matches_the_model),
        cmocka_unit_test(table_dma_at_every_alignment_matches_the_model),
        cmocka_unit_test(a_failed_card_access_is_reported_by_every_later_call),
        cmocka_unit_test(wire_frames_into_the_ring_match_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

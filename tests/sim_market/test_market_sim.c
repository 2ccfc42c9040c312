/* SPDX-License-Identifier: MIT */
/* The market simulator's packets through the real decoder: every message decodes, the registry, index, marks and
 * books are what the simulator published (marks round-tripped through an implied-vol inversion), sequences are
 * whole (or have exactly the gaps the simulator dropped), the same seed gives the same bytes, and the pcap file
 * holds exactly the packets ht_mkt_next returns. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/black76.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/market_sim.h"
#include "hedgetrig/nic.h"

/* A simulator with a short run. */
static ht_mkt *make(uint64_t seed, uint64_t steps, double loss)
{
    ht_mkt_config c;
    ht_mkt_config_default(&c);
    c.seed = seed;
    c.steps = steps;
    c.loss_prob = loss;
    ht_error err;
    ht_mkt *m = ht_mkt_create(&c, &err);
    if (!m)
        print_error("%s\n", err.msg);
    assert_non_null(m);
    return m;
}

/* Feeds every packet to a feed and checks the state against the simulator's at the end. */
static void test_decodes_to_what_was_published(void **state)
{
    (void)state;
    ht_mkt *m = make(3, 400, 0.0);
    ht_error err;
    ht_feed *feed = ht_feed_create(NULL, &err);
    assert_non_null(feed);
    ht_nic_packet p;
    uint64_t packets = 0;
    while (ht_mkt_next(m, &p) == 1) {
        assert_true(p.len <= 1400);
        assert_true(ht_feed_on_packet(feed, p.payload, p.len, 0) > 0);
        assert_true((p.dst_addr >> 8) == ((239u << 16) | (111u << 8) | 111u));
        packets++;
    }
    const ht_feed_stats *st = ht_feed_stats_get(feed);
    assert_int_equal(st->malformed_packets, 0);
    assert_int_equal(st->seq_gaps, 0);
    assert_int_equal(st->unknown_instrument, 0);
    assert_int_equal(st->book_chain_breaks, 0);
    assert_int_equal(st->book_inconsistent, 0);
    assert_int_equal(packets, ht_mkt_stats_get(m)->packets);
    assert_int_equal(st->messages, ht_mkt_stats_get(m)->messages);
    assert_int_equal(ht_feed_instrument_count(feed), ht_mkt_instrument_count(m));
    /* The index is the simulator's spot. */
    const ht_index_price *ix = ht_feed_index(feed, "btc_usd");
    assert_non_null(ix);
    assert_true(ix->price == ht_mkt_spot(m));
    assert_int_equal(ix->updates, 400);
    for (size_t i = 0; i < ht_mkt_instrument_count(m); i++) {
        const ht_mkt_instrument *s = ht_mkt_instrument_at(m, i);
        const ht_instrument *in = ht_feed_instrument_by_name(feed, s->name);
        assert_non_null(in);
        assert_int_equal(in->id, s->id);
        assert_int_equal(in->kind, s->kind);
        assert_true(ht_feed_price_trustworthy(feed, in, 0));
        assert_int_equal(ht_feed_book_status(feed, in), HT_BOOK_OK);
        assert_true(in->ticker.mark_price == s->mark);
        const ht_book *b = ht_feed_book(feed, in);
        assert_true(b->ask_count >= 1);
        if (b->bid_count)
            assert_true(b->bids[0].price < b->asks[0].price);
        if (s->kind != HT_SBE_KIND_OPTION)
            continue;
        assert_true(in->strike_price == s->strike_usd);
        assert_int_equal(in->expiration_timestamp_ms, s->expiry_ms);
        /* The mark back to its vol: Black-76 on the forward the simulator used (the perpetual's mark), the USD
         * price being mark x forward for an inverse option. */
        double t = (double)(s->expiry_ms - in->ticker.timestamp_ms) / (365.0 * 86400000.0);
        /* The forward at the option's own ticker time: the index it carries times (1 + the perpetual premium). */
        double f_then = in->ticker.index_price * (1.0 + 0.0002);
        ht_b76_type type = in->option_type == HT_OPTION_CALL ? HT_B76_CALL : HT_B76_PUT;
        ht_iv_result iv = ht_b76_implied_vol(type, f_then, in->strike_price, t, 0.0, in->ticker.mark_price * f_then);
        assert_int_equal(iv.status, HT_IV_OK);
        assert_true(fabs(iv.sigma - s->iv) < 1e-6);
    }
    ht_feed_destroy(feed);
    ht_mkt_destroy(m);
}

/* Dropped packets are sequence gaps (a channel's last packets, when dropped, leave no gap to see: the exact
 * count per dropped packet is in test_loss_keeps_the_path). */
static void test_loss_makes_gaps(void **state)
{
    (void)state;
    ht_mkt *m = make(9, 300, 0.02);
    ht_error err;
    ht_feed *feed = ht_feed_create(NULL, &err);
    ht_nic_packet p;
    while (ht_mkt_next(m, &p) == 1)
        ht_feed_on_packet(feed, p.payload, p.len, 0);
    const ht_mkt_stats *ms = ht_mkt_stats_get(m);
    assert_true(ms->dropped > 0);
    assert_true(ht_feed_stats_get(feed)->seq_missed > 0);
    assert_true(ht_feed_stats_get(feed)->seq_missed <= ms->dropped);
    ht_feed_destroy(feed);
    ht_mkt_destroy(m);
}

/* Loss drops packets and changes nothing else: the lossy stream is the lossless one with packets taken out
 * (payloads byte for byte, in order), so the index path, the marks and the trades are the same; the decoded
 * index of every step the lossy feed received equals the lossless feed's. */
static void test_loss_keeps_the_path(void **state)
{
    (void)state;
    enum { STEPS = 600 };
    ht_mkt *clean = make(7, STEPS, 0.0), *lossy = make(7, STEPS, 0.1);
    ht_error err;
    ht_feed *fc = ht_feed_create(NULL, &err), *fl = ht_feed_create(NULL, &err);
    assert_non_null(fc);
    assert_non_null(fl);
    static double spot_clean[STEPS + 1], spot_lossy[STEPS + 1];
    ht_nic_packet pc, pl;
    bool have_lossy = ht_mkt_next(lossy, &pl) == 1;
    uint64_t matched = 0, index_compared = 0, revealed = 0;
    static unsigned pending[512]; /* per channel (group's last byte, port): drops not yet followed by a packet */
    static bool seen[512];
    while (ht_mkt_next(clean, &pc) == 1) {
        spot_clean[ht_mkt_step(clean) % (STEPS + 1)] = ht_mkt_spot(clean);
        const ht_index_price *ic = ht_feed_on_packet(fc, pc.payload, pc.len, 0) >= 0 ? ht_feed_index(fc, "btc_usd") : NULL;
        const unsigned channel = ((pc.dst_addr & 0xffu) << 1) | (pc.dst_port == 6101);
        if (!have_lossy || pl.len != pc.len || memcmp(pl.payload, pc.payload, pc.len) != 0) {
            pending[channel]++; /* dropped from the lossy stream */
            continue;
        }
        if (seen[channel])
            revealed += pending[channel]; /* the feed sees those drops as this packet's gap (not before its first) */
        seen[channel] = true;
        pending[channel] = 0;
        spot_lossy[ht_mkt_step(lossy) % (STEPS + 1)] = ht_mkt_spot(lossy);
        ht_feed_on_packet(fl, pl.payload, pl.len, 0);
        const ht_index_price *il = ht_feed_index(fl, "btc_usd");
        if (ic && il && il->timestamp_ms == ic->timestamp_ms) {
            assert_true(il->price == ic->price);
            index_compared++;
        }
        matched++;
        have_lossy = ht_mkt_next(lossy, &pl) == 1;
    }
    /* Every lossy packet was found in order in the lossless stream. */
    assert_false(have_lossy);
    const ht_mkt_stats *sc = ht_mkt_stats_get(clean), *sl = ht_mkt_stats_get(lossy);
    assert_true(sl->dropped > 0.05 * (double)sl->packets);
    assert_int_equal(matched + sl->dropped, sc->packets);
    assert_int_equal(ht_feed_stats_get(fl)->seq_missed, revealed);
    assert_true(index_compared > STEPS / 2);
    for (unsigned k = 0; k <= STEPS; k++)
        if (spot_lossy[k] != 0.0)
            assert_true(spot_lossy[k] == spot_clean[k]);
    assert_true(ht_mkt_spot(lossy) == ht_mkt_spot(clean));
    assert_true(ht_mkt_atm_iv(lossy) == ht_mkt_atm_iv(clean));
    for (size_t i = 0; i < ht_mkt_instrument_count(clean); i++) {
        const ht_mkt_instrument *a = ht_mkt_instrument_at(clean, i), *b = ht_mkt_instrument_at(lossy, i);
        assert_string_equal(a->name, b->name);
        assert_true(a->mark == b->mark || (isnan(a->mark) && isnan(b->mark)));
    }
    ht_feed_destroy(fc);
    ht_feed_destroy(fl);
    ht_mkt_destroy(clean);
    ht_mkt_destroy(lossy);
}

/* The same seed gives the same bytes; another seed another path. */
static void test_deterministic(void **state)
{
    (void)state;
    ht_mkt *a = make(42, 200, 0.0), *b = make(42, 200, 0.0), *c = make(43, 200, 0.0);
    ht_nic_packet pa, pb, pc;
    bool differs = false;
    while (ht_mkt_next(a, &pa) == 1) {
        assert_int_equal(ht_mkt_next(b, &pb), 1);
        assert_int_equal(pa.len, pb.len);
        assert_memory_equal(pa.payload, pb.payload, pa.len);
        assert_int_equal(pa.ts_ns, pb.ts_ns);
        if (ht_mkt_next(c, &pc) == 1)
            differs |= pc.len != pa.len || memcmp(pc.payload, pa.payload, pa.len) != 0;
    }
    assert_int_equal(ht_mkt_next(b, &pb), 0);
    assert_true(differs);
    assert_true(ht_mkt_spot(a) != ht_mkt_spot(c));
    ht_mkt_destroy(a);
    ht_mkt_destroy(b);
    ht_mkt_destroy(c);
}

/* The pcap file holds the packets ht_mkt_next returns, with their timestamps and destinations. */
static void test_pcap_round_trip(void **state)
{
    (void)state;
    ht_mkt *a = make(5, 120, 0.0), *b = make(5, 120, 0.0);
    ht_error err;
    long n = ht_mkt_write_pcap(a, HT_TEST_TMPDIR "/sim.pcap", 0, &err);
    assert_true(n > 0);
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = HT_TEST_TMPDIR "/sim.pcap";
    ht_nic *nic = ht_nic_open(&cfg, &err);
    assert_non_null(nic);
    ht_nic_packet pkts[HT_NIC_BURST], p;
    long seen = 0;
    int got;
    while ((got = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(got >= 0);
        for (int i = 0; i < got; i++, seen++) {
            assert_int_equal(ht_mkt_next(b, &p), 1);
            assert_int_equal(pkts[i].len, p.len);
            assert_memory_equal(pkts[i].payload, p.payload, p.len);
            assert_int_equal(pkts[i].ts_ns, p.ts_ns);
            assert_int_equal(pkts[i].dst_addr, p.dst_addr);
            assert_int_equal(pkts[i].dst_port, p.dst_port);
        }
    }
    assert_int_equal(seen, n);
    assert_int_equal(ht_nic_stats_get(nic)->not_udp + ht_nic_stats_get(nic)->truncated, 0);
    ht_nic_close(nic);
    ht_mkt_destroy(a);
    ht_mkt_destroy(b);
}

/* Bad settings are refused with the field named; text settings parse. */
static void test_config(void **state)
{
    (void)state;
    ht_mkt_config c;
    ht_mkt_config_default(&c);
    ht_error err;
    c.vol = -1;
    assert_int_equal(ht_mkt_config_check(&c, &err), -1);
    assert_non_null(strstr(err.msg, "vol"));
    ht_mkt_config_default(&c);
    bool known;
    const char *expected;
    assert_true(ht_mkt_config_set(&c, "expiry_days", "2,9", &known, &expected));
    assert_int_equal(c.n_expiries, 2);
    assert_int_equal(c.expiry_days[1], 9);
    assert_false(ht_mkt_config_set(&c, "expiry_days", "2,x", &known, &expected));
    assert_true(known);
    assert_false(ht_mkt_config_set(&c, "nope", "1", &known, &expected));
    assert_false(known);
    c.expiry_days[1] = 1;
    assert_int_equal(ht_mkt_config_check(&c, &err), -1);
    assert_non_null(strstr(err.msg, "expiry_days"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_to_what_was_published),
        cmocka_unit_test(test_loss_makes_gaps),
        cmocka_unit_test(test_loss_keeps_the_path),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_pcap_round_trip),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

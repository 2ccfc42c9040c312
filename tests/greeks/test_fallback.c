/* SPDX-License-Identifier: MIT */
/* Positions never leave the hedge silently: an option whose mark gives no IV is priced on its expiry's smile
 * (interpolated in ln(K/F) from its neighbours, against a value computed by hand), else at its last good IV; a
 * stale quote keeps the last good greeks (an invariant: exactly the same numbers); with no fallback vol the
 * position is out of the table and flagged. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/greeks.h"

#define NOW_MS 1686830400000ull /* 2023-06-15 12:00 UTC */
#define EXP_MS 1687507200000ull /* 2023-06-23 08:00 UTC */
#define EXP2_MS 1688112000000ull /* 2023-06-30 08:00 UTC: another expiry */
#define SPOT 25000.0

/* A linear (USDC-quoted, coin-sized) option on btc_usd. */
static ht_instrument_spec option(uint32_t id, const char *name, ht_b76_type type, double strike, uint64_t expiry)
{
    ht_instrument_spec s;
    memset(&s, 0, sizeof s);
    s.id = id;
    snprintf(s.name, sizeof s.name, "%s", name);
    s.kind = HT_POS_OPTION;
    s.option_type = type;
    s.strike = strike;
    s.expiry_ms = expiry;
    s.size_in_coin = true;
    s.contract_size = 1.0;
    snprintf(s.base_currency, sizeof s.base_currency, "BTC");
    snprintf(s.index_name, sizeof s.index_name, "btc_usd");
    return s;
}

static const double T_YEARS = (double)(EXP_MS - NOW_MS) / (365.0 * 86400000.0);

/* The smile: K 24000 call at 50%, K 26000 call at 70%; the 25500 put's mark below its intrinsic value (500). */
static ht_instrument_spec k24(void) { return option(1, "BTC_USDC-23JUN23-24000-C", HT_B76_CALL, 24000, EXP_MS); }
static ht_instrument_spec k255(void) { return option(2, "BTC_USDC-23JUN23-25500-P", HT_B76_PUT, 25500, EXP_MS); }
static ht_instrument_spec k26(void) { return option(3, "BTC_USDC-23JUN23-26000-C", HT_B76_CALL, 26000, EXP_MS); }
static ht_instrument_spec k25_other(void) { return option(4, "BTC_USDC-30JUN23-25000-C", HT_B76_CALL, 25000, EXP2_MS); }

/* A greeks engine on a book of the given specs (forward = index, r = 0), the index at SPOT. */
static ht_greeks *engine_of(ht_positions **book, const ht_instrument_spec *specs, size_t n)
{
    *book = ht_positions_create();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ht_positions_add(*book, &specs[i], 2.0, NULL), 0);
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    cfg.forward = HT_FORWARD_INDEX;
    ht_error err;
    ht_greeks *g = ht_greeks_create(&cfg, *book, &err);
    assert_non_null(g);
    ht_greeks_set_index(g, "btc_usd", SPOT, NOW_MS, true);
    return g;
}

/* A mark at a known vol (USD for these linear options). */
static void mark_at(ht_greeks *g, const ht_instrument_spec *s, double sigma, bool trusted)
{
    const double px = ht_b76_price(s->option_type, SPOT, s->strike, T_YEARS, sigma, 0.0);
    ht_greeks_set_mark(g, s->id, px, SPOT, NOW_MS, trusted);
}

/* The result of instrument id. */
static const ht_greeks_result *result_of(const ht_greeks *g, uint32_t id)
{
    for (size_t i = 0; i < ht_greeks_result_count(g); i++)
        if (ht_greeks_result_at(g, i)->pos->spec.id == id)
            return ht_greeks_result_at(g, i);
    fail_msg("no result for id %u", id);
    return NULL;
}

/* Checks an option is in the table at vol sigma, with its Black-76 greeks there. */
static void assert_priced_at(const ht_greeks_result *r, double sigma)
{
    assert_true(r->in_table);
    assert_true(fabs(r->iv - sigma) < 1e-12);
    ht_b76_greeks b;
    assert_int_equal(ht_b76_compute(r->pos->spec.option_type, SPOT, r->pos->spec.strike, T_YEARS, sigma, 0.0, &b), 0);
    assert_true(fabs(r->delta - b.delta) < 1e-12);
    assert_true(fabs(r->gamma - b.gamma) < 1e-15);
    assert_true(fabs(r->vega - b.vega) < 1e-9);
}

/* ln(K/F) interpolation between the nearest strikes of the same expiry, from book positions; the other expiry's
 * option (nearer in strike) is not used. Expected value by hand (python3):
 * 0.5 + 0.2 * (ln(25500/25000) - ln(24000/25000)) / (ln(26000/25000) - ln(24000/25000)) = 0.6514806871943899. */
static void smile_from_book_neighbours(void **state)
{
    (void)state;
    const ht_instrument_spec specs[] = {k24(), k255(), k26(), k25_other()};
    ht_positions *book;
    ht_greeks *g = engine_of(&book, specs, 4);
    mark_at(g, &specs[0], 0.50, true);
    mark_at(g, &specs[2], 0.70, true);
    mark_at(g, &specs[3], 0.90, true);
    ht_greeks_set_mark(g, 2, 400.0, SPOT, NOW_MS, true); /* put 25500: intrinsic 500 */
    assert_int_equal(ht_greeks_recompute(g, NOW_MS), 4);
    const ht_greeks_result *r = result_of(g, 2);
    assert_true(r->flags & HT_GF_BELOW_INTRINSIC);
    assert_true(r->flags & HT_GF_FALLBACK_SMILE);
    assert_false(r->flags & HT_GF_FALLBACK_LAST_IV);
    assert_priced_at(r, 0.6514806871943899);
    assert_int_equal(r->fallback_ids[0], 1);
    assert_int_equal(r->fallback_ids[1], 3);
    assert_int_equal(ht_greeks_underlying_at(g, 0)->fallback, 1);
    assert_int_equal(ht_greeks_underlying_at(g, 0)->excluded, 0);
    char buf[80];
    assert_string_equal(ht_greeks_flags_format(r->flags, buf, sizeof buf), "below_intrinsic|fallback_smile");
    assert_string_equal(ht_greeks_instrument_name(g, r->fallback_ids[1]), "BTC_USDC-23JUN23-26000-C");
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* The same smile from options outside the book (registered as smile points); one side only is flat. */
static void smile_from_registered_options(void **state)
{
    (void)state;
    const ht_instrument_spec put = k255(), lo = k24(), hi = k26();
    ht_positions *book;
    ht_greeks *g = engine_of(&book, &put, 1);
    assert_int_equal(ht_greeks_add_smile_instrument(g, &lo), 0);
    assert_int_equal(ht_greeks_add_smile_instrument(g, &lo), 1); /* already known */
    assert_int_equal(ht_greeks_add_smile_instrument(g, &hi), 0);
    mark_at(g, &lo, 0.50, true);
    mark_at(g, &hi, 0.70, false); /* untrusted: not a smile point */
    ht_greeks_set_mark(g, 2, 400.0, SPOT, NOW_MS, true);
    ht_greeks_recompute(g, NOW_MS);
    assert_priced_at(result_of(g, 2), 0.50); /* flat beyond the only good point */
    mark_at(g, &hi, 0.70, true);
    ht_greeks_recompute(g, NOW_MS);
    const ht_greeks_result *r = result_of(g, 2);
    assert_true(r->flags & HT_GF_FALLBACK_SMILE);
    assert_priced_at(r, 0.6514806871943899);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* No smile: the last good IV; nothing at all: out of the table, flagged, nothing non-finite in the rows. */
static void last_good_iv_then_nothing(void **state)
{
    (void)state;
    const ht_instrument_spec put = k255();
    ht_positions *book;
    ht_greeks *g = engine_of(&book, &put, 1);
    ht_greeks_set_mark(g, 2, 400.0, SPOT, NOW_MS, true);
    assert_int_equal(ht_greeks_recompute(g, NOW_MS), 0); /* never had a good IV, no smile */
    const ht_greeks_result *r = result_of(g, 2);
    assert_false(r->in_table);
    assert_int_equal(r->flags, HT_GF_BELOW_INTRINSIC);
    assert_false(HT_GREEKS_USABLE(r));
    assert_int_equal(ht_greeks_underlying_at(g, 0)->excluded, 1);
    size_t n;
    ht_greeks_rows(g, &n);
    assert_int_equal(n, 0);

    mark_at(g, &put, 0.61, true);
    ht_greeks_recompute(g, NOW_MS);
    assert_priced_at(result_of(g, 2), 0.61);
    assert_int_equal(result_of(g, 2)->last_good_ms, NOW_MS);
    ht_greeks_set_mark(g, 2, 400.0, SPOT, NOW_MS, true);
    ht_greeks_recompute(g, NOW_MS);
    r = result_of(g, 2);
    assert_int_equal(r->flags, HT_GF_BELOW_INTRINSIC | HT_GF_FALLBACK_LAST_IV);
    assert_true(HT_GREEKS_USABLE(r));
    assert_priced_at(r, 0.61);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

/* A stale quote keeps the last good greeks: at the same spot and time every number is the same, whatever the
 * stale mark says; after the spot moves it is repriced at the last good IV. */
static void stale_keeps_last_good_greeks(void **state)
{
    (void)state;
    const ht_instrument_spec specs[] = {k24(), k26()};
    ht_positions *book;
    ht_greeks *g = engine_of(&book, specs, 2);
    mark_at(g, &specs[0], 0.55, true);
    mark_at(g, &specs[1], 0.65, true);
    ht_greeks_recompute(g, NOW_MS);
    const ht_greeks_result good = *result_of(g, 1);
    const ht_greeks_underlying before = *ht_greeks_underlying_at(g, 0);
    assert_true(good.in_table);
    /* The feed stops trusting the call's quote, and the quote itself turns to garbage. */
    ht_greeks_set_mark(g, 1, 9999.0, SPOT, NOW_MS, false);
    ht_greeks_recompute(g, NOW_MS);
    const ht_greeks_result *r = result_of(g, 1);
    assert_int_equal(r->flags, HT_GF_STALE | HT_GF_FALLBACK_LAST_IV);
    assert_true(r->in_table);
    const double was[] = {good.iv, good.delta, good.gamma, good.speed, good.vanna, good.vega, good.volga,
                          good.theta_per_day, good.qty_x_mult};
    const double now[] = {r->iv, r->delta, r->gamma, r->speed, r->vanna, r->vega, r->volga, r->theta_per_day,
                          r->qty_x_mult};
    for (size_t k = 0; k < HT_ARRAY_LEN(was); k++)
        assert_true(was[k] == now[k]);
    const ht_greeks_underlying *after = ht_greeks_underlying_at(g, 0);
    assert_true(after->a == before.a && after->b == before.b && after->c == before.c && after->v == before.v);
    /* The spot moves: repriced at the same (last good) IV. */
    ht_greeks_set_index(g, "btc_usd", SPOT * 1.01, NOW_MS + 1000, true);
    ht_greeks_recompute(g, NOW_MS + 1000);
    r = result_of(g, 1);
    assert_true(r->in_table && r->iv == good.iv && r->delta > good.delta);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(smile_from_book_neighbours),
        cmocka_unit_test(smile_from_registered_options),
        cmocka_unit_test(last_good_iv_then_nothing),
        cmocka_unit_test(stale_keeps_last_good_greeks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

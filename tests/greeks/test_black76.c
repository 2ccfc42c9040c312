/* SPDX-License-Identifier: MIT */
/* Black-76 against published values, put-call parity, finite differences, and the implied-vol solver. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "hedgetrig/black76.h"
#include "hedgetrig/common.h"

/* True when a and b agree within rel (relative to |b|) or abs_floor. */
static int close_to(double a, double b, double rel, double abs_floor)
{
    return fabs(a - b) <= fmax(rel * fabs(b), abs_floor);
}

#define ASSERT_CLOSE(a, b, rel, floor)                                                                       \
    do {                                                                                                     \
        double a_ = (a), b_ = (b);                                                                           \
        if (!close_to(a_, b_, rel, floor))                                                                   \
            fail_msg("%s = %.17g, expected %.17g (rel %g)", #a, a_, b_, (double)(rel));                      \
    } while (0)

/* The textbook Black-Scholes example (Hull): S = K = 100, T = 1, r = 5%, sigma = 20%. Black-76 on the
 * forward F = S e^{rT} gives the spot greeks through dF/dS = e^{rT}. */
static void reproduces_black_scholes_textbook_values(void **state)
{
    (void)state;
    const double s = 100, k = 100, t = 1, r = 0.05, sigma = 0.2;
    const double growth = exp(r * t);
    ht_b76_greeks g;
    assert_int_equal(ht_b76_compute(HT_B76_CALL, s * growth, k, t, sigma, r, &g), 0);
    ASSERT_CLOSE(g.price, 10.450584, 0, 5e-7);
    ASSERT_CLOSE(g.delta * growth, 0.636831, 0, 5e-7);
    ASSERT_CLOSE(g.gamma * growth * growth, 0.018762, 0, 5e-7);
    ASSERT_CLOSE(g.vega, 37.524035, 0, 5e-7);
}

/* Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), Black-76 example: F = K = 19, T = 0.75,
 * r = 10%, sigma = 28%: call = put = 1.7011. */
static void reproduces_haug_black76_example(void **state)
{
    (void)state;
    ASSERT_CLOSE(ht_b76_price(HT_B76_CALL, 19, 19, 0.75, 0.28, 0.10), 1.7011, 0, 5e-5);
    ASSERT_CLOSE(ht_b76_price(HT_B76_PUT, 19, 19, 0.75, 0.28, 0.10), 1.7011, 0, 5e-5);
}

/* Call - put = e^{-rT} (F - K) and delta_call - delta_put = e^{-rT}, over a grid. */
static void put_call_parity_holds(void **state)
{
    (void)state;
    const double strikes[] = {5000, 20000, 25000, 25400, 30000, 80000};
    const double times[] = {1.0 / 8760, 1.0 / 365, 0.1, 1.0};
    const double vols[] = {0.05, 0.5, 1.5};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 4; j++)
            for (size_t v = 0; v < 3; v++) {
                ht_b76_greeks c, p;
                const double f = 25441.7, r = 0.03;
                assert_int_equal(ht_b76_compute(HT_B76_CALL, f, strikes[i], times[j], vols[v], r, &c), 0);
                assert_int_equal(ht_b76_compute(HT_B76_PUT, f, strikes[i], times[j], vols[v], r, &p), 0);
                const double df = exp(-r * times[j]);
                ASSERT_CLOSE(c.price - p.price, df * (f - strikes[i]), 1e-12, 1e-9);
                ASSERT_CLOSE(c.delta - p.delta, df, 1e-14, 1e-15);
                ASSERT_CLOSE(c.gamma, p.gamma, 1e-15, 0);
                ASSERT_CLOSE(c.vega, p.vega, 1e-15, 0);
            }
}

/* Speed, vanna, volga and theta against central differences of the lower-order analytic greeks. */
static void higher_greeks_match_finite_differences(void **state)
{
    (void)state;
    const double strikes[] = {90, 100, 112};
    const double times[] = {0.02, 0.25, 1.0};
    const double vols[] = {0.15, 0.6};
    const ht_b76_type types[] = {HT_B76_CALL, HT_B76_PUT};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 2; c++)
                for (size_t d = 0; d < 2; d++) {
                    const double f = 100, k = strikes[a], t = times[b], sig = vols[c], r = 0.04;
                    ht_b76_greeks g, up, dn;
                    assert_int_equal(ht_b76_compute(types[d], f, k, t, sig, r, &g), 0);
                    const double hf = 1e-4 * f * sig * sqrt(t);
                    ht_b76_compute(types[d], f + hf, k, t, sig, r, &up);
                    ht_b76_compute(types[d], f - hf, k, t, sig, r, &dn);
                    ASSERT_CLOSE(g.speed, (up.gamma - dn.gamma) / (2 * hf), 1e-5, 1e-9);
                    ASSERT_CLOSE(g.delta, (up.price - dn.price) / (2 * hf), 1e-6, 1e-9);
                    const double hs = 1e-5;
                    ht_b76_compute(types[d], f, k, t, sig + hs, r, &up);
                    ht_b76_compute(types[d], f, k, t, sig - hs, r, &dn);
                    ASSERT_CLOSE(g.vanna, (up.delta - dn.delta) / (2 * hs), 1e-6, 1e-8);
                    ASSERT_CLOSE(g.volga, (up.vega - dn.vega) / (2 * hs), 1e-6, 1e-7);
                    const double ht = 1e-6 * t;
                    const double p_up = ht_b76_price(types[d], f, k, t + ht, sig, r);
                    const double p_dn = ht_b76_price(types[d], f, k, t - ht, sig, r);
                    ASSERT_CLOSE(g.theta, -(p_up - p_dn) / (2 * ht), 1e-6, 1e-8);
                }
}

/* Out-of-domain inputs are refused, never turned into numbers. */
static void refuses_inputs_outside_the_domain(void **state)
{
    (void)state;
    ht_b76_greeks g = {0};
    assert_int_equal(ht_b76_compute(HT_B76_CALL, NAN, 100, 1, 0.2, 0, &g), -1);
    assert_int_equal(ht_b76_compute(HT_B76_CALL, 100, 0, 1, 0.2, 0, &g), -1);
    assert_int_equal(ht_b76_compute(HT_B76_CALL, 100, 100, 0, 0.2, 0, &g), -1);
    assert_int_equal(ht_b76_compute(HT_B76_CALL, 100, 100, 1, -0.2, 0, &g), -1);
    assert_int_equal(ht_b76_compute(HT_B76_CALL, 100, 100, 1, 0.2, INFINITY, &g), -1);
    assert_int_equal(ht_b76_compute((ht_b76_type)7, 100, 100, 1, 0.2, 0, &g), -1);
    assert_true(g.price == 0.0);
    assert_true(isnan(ht_b76_price(HT_B76_PUT, 100, 100, -1, 0.2, 0)));
}

/* Prices generated at a known sigma come back to that sigma, over strikes from 0.2x to 5x the forward,
 * expiries from one hour to two years and vols from 5% to 300%, where the price still carries the
 * information (vega large enough relative to the price's rounding). */
static void implied_vol_round_trips_deep_itm_and_otm(void **state)
{
    (void)state;
    const double moneyness[] = {0.2, 0.5, 0.8, 0.95, 0.999, 1.0, 1.001, 1.05, 1.25, 2.0, 5.0};
    const double times[] = {1.0 / 8760, 1.0 / 365, 7.0 / 365, 0.25, 1.0, 2.0};
    const double vols[] = {0.05, 0.2, 0.8, 1.5, 3.0};
    const ht_b76_type types[] = {HT_B76_CALL, HT_B76_PUT};
    int checked = 0, max_iterations = 0;
    for (size_t m = 0; m < HT_ARRAY_LEN(moneyness); m++)
        for (size_t t = 0; t < HT_ARRAY_LEN(times); t++)
            for (size_t v = 0; v < HT_ARRAY_LEN(vols); v++)
                for (size_t c = 0; c < 2; c++) {
                    const double f = 25000, k = f * moneyness[m], r = 0.01;
                    const double sig = vols[v], tt = times[t];
                    ht_b76_greeks g;
                    assert_int_equal(ht_b76_compute(types[c], f, k, tt, sig, r, &g), 0);
                    /* The OTM time value must be representable next to the price: skip where the price is
                     * pure intrinsic to double precision or the OTM price underflows. */
                    const double df = exp(-r * tt);
                    const double intrinsic = types[c] == HT_B76_CALL ? fmax(f - k, 0) : fmax(k - f, 0);
                    const double tv = g.price / df - intrinsic;
                    if (!(tv > 1e-9 * g.price / df) || g.price < 1e-250)
                        continue;
                    ht_iv_result iv = ht_b76_implied_vol(types[c], f, k, tt, r, g.price);
                    if (iv.status != HT_IV_OK)
                        fail_msg("K/F %g T %g sigma %g type %d: status %s", moneyness[m], tt, sig, types[c],
                                 ht_iv_status_name(iv.status));
                    if (iv.iterations > max_iterations)
                        max_iterations = iv.iterations;
                    /* How precisely the price pins sigma: relative price rounding over relative vega. */
                    const double cond = 1e-15 * g.price / (g.vega * sig) + 1e-15 * intrinsic / (g.vega * sig) * 4;
                    const double tol = fmax(1e-10, 10 * cond);
                    if (!close_to(iv.sigma, sig, tol, 0))
                        fail_msg("K/F %g T %g sigma %g type %d: got %.17g (tol %g)", moneyness[m], tt, sig, types[c],
                                 iv.sigma, tol);
                    checked++;
                }
    print_message("implied vol: %d grid points round-tripped, at most %d iterations\n", checked, max_iterations);
    assert_true(checked > 500);
    assert_true(max_iterations <= 40);
}

/* Every way a price can fail is named. */
static void implied_vol_flags_bad_prices(void **state)
{
    (void)state;
    const double f = 25000, t = 0.1, r = 0;
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, 4999.0).status, HT_IV_BELOW_INTRINSIC);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, 5000.0).status, HT_IV_BELOW_INTRINSIC);
    assert_int_equal(ht_b76_implied_vol(HT_B76_PUT, f, 30000, t, r, 4000.0).status, HT_IV_BELOW_INTRINSIC);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, 25000.0).status, HT_IV_ABOVE_MAX);
    assert_int_equal(ht_b76_implied_vol(HT_B76_PUT, f, 20000, t, r, 20000.5).status, HT_IV_ABOVE_MAX);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, NAN).status, HT_IV_BAD_INPUT);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, 0.0).status, HT_IV_BAD_INPUT);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, -3.0).status, HT_IV_BAD_INPUT);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, 0.0, r, 6000.0).status, HT_IV_BAD_INPUT);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, f, 20000, -0.1, r, 6000.0).status, HT_IV_BAD_INPUT);
    assert_int_equal(ht_b76_implied_vol(HT_B76_CALL, INFINITY, 20000, t, r, 6000.0).status, HT_IV_BAD_INPUT);
    ht_iv_result ok = ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, 6000.0);
    assert_int_equal(ok.status, HT_IV_OK);
    assert_true(isnan(ht_b76_implied_vol(HT_B76_CALL, f, 20000, t, r, 4999.0).sigma));
    assert_string_equal(ht_iv_status_name(HT_IV_BELOW_INTRINSIC), "below_intrinsic");
}

/* The normalised OTM price equals the direct Black formula where that formula is well conditioned. */
static void normalised_price_matches_direct_formula(void **state)
{
    (void)state;
    const double thetas[] = {0.0, -1e-6, -0.01, -0.3, -1.0};
    const double devs[] = {1e-4, 0.01, 0.2, 1.0, 4.0};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++) {
            const double th = thetas[i], s = devs[j];
            const double direct = exp(th / 2) * ht_norm_cdf(th / s + s / 2) - exp(-th / 2) * ht_norm_cdf(th / s - s / 2);
            const double b = ht_b76_normalised_otm(th, s);
            if (direct > 1e-6)
                ASSERT_CLOSE(b, direct, 1e-9, 0);
            assert_true(b >= 0.0);
            assert_true(b < exp(th / 2));
        }
}

/* Far out-of-the-money prices and deltas against 50-digit references (black76_tail_mpmath.csv, made by
 * black76_tail_mpmath.py): the region where QuantLib's own normal CDF is too coarse to arbitrate. */
static void tail_prices_match_50_digit_references(void **state)
{
    (void)state;
    const char *path = HT_SOURCE_DIR "/tests/greeks/black76_tail_mpmath.csv";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    double worst_price = 0, worst_deep = 0, worst_delta = 0;
    while (fgets(line, sizeof line, f)) {
        char type[8];
        double fwd, k, t, sig, r, price, delta;
        if (line[0] == '#' || sscanf(line, "%7[a-z],%lf,%lf,%lf,%lf,%lf,%lf,%lf", type, &fwd, &k, &t, &sig, &r, &price,
                                     &delta) != 8)
            continue;
        ht_b76_greeks g;
        const ht_b76_type ty = type[0] == 'c' ? HT_B76_CALL : HT_B76_PUT;
        assert_int_equal(ht_b76_compute(ty, fwd, k, t, sig, r, &g), 0);
        /* Above 1e-20 F the price is good to ~1e-11; below it (down to 1e-293) rounding of d1 and d2, amplified
         * by d^2 |ln(F/K)| / (sigma^2 T), costs up to ~3e-9 relative: checked separately. */
        if (price >= 1e-20 * fwd)
            worst_price = fmax(worst_price, fabs(g.price - price) / price);
        else
            worst_deep = fmax(worst_deep, fabs(g.price - price) / price);
        worst_delta = fmax(worst_delta, fabs(g.delta - delta) / fabs(delta));
        n++;
    }
    fclose(f);
    print_message("tail: %d references, worst relative price error %.3g (%.3g below 1e-20 F), delta %.3g\n", n,
                  worst_price, worst_deep, worst_delta);
    assert_true(n > 50);
    assert_true(worst_price <= 1e-11);
    assert_true(worst_deep <= 1e-8);
    assert_true(worst_delta <= 1e-11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reproduces_black_scholes_textbook_values),
        cmocka_unit_test(reproduces_haug_black76_example),
        cmocka_unit_test(put_call_parity_holds),
        cmocka_unit_test(higher_greeks_match_finite_differences),
        cmocka_unit_test(refuses_inputs_outside_the_domain),
        cmocka_unit_test(implied_vol_round_trips_deep_itm_and_otm),
        cmocka_unit_test(implied_vol_flags_bad_prices),
        cmocka_unit_test(normalised_price_matches_direct_formula),
        cmocka_unit_test(tail_prices_match_50_digit_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

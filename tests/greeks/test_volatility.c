/* SPDX-License-Identifier: MIT */
/* Realised vol against an independent double-precision EWMA and a simulated GBM of known sigma; IV surface
 * interpolation against hand-computed values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "hedgetrig/volatility.h"

/* xorshift64* and Box-Muller: a reproducible normal stream for the simulated paths. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}
static double normal01(void)
{
    double u1 = uniform01(), u2 = uniform01();
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A GBM with sigma 60% ticked every 100 ms over 5 hours, 1 s bars, half-life 600 bars: the estimate must equal
 * an EWMA computed here in double on the same bar closes (the liquid-dsp filter runs in single precision),
 * and lie within 8% of 60% (its sampling error is about 2%). */
static void realised_vol_matches_ewma_and_true_sigma(void **state)
{
    (void)state;
    ht_error err;
    ht_realvol *rv = ht_realvol_create(1000, 600, 365, &err);
    assert_non_null(rv);
    const double sigma = 0.6, dt_years = 0.1 / (365.0 * 86400.0);
    double s = 25441.7;
    uint64_t t = 1686830400000ull;
    const double alpha = 1.0 - exp2(-1.0 / 600.0);
    double ewma = 0.0, decay = 1.0, prev_close = s, close = s;
    uint64_t bar = t / 1000;
    assert_true(isnan(ht_realvol_sigma(rv)));
    for (int i = 0; i < 5 * 36000; i++) {
        s *= exp(-0.5 * sigma * sigma * dt_years + sigma * sqrt(dt_years) * normal01());
        t += 100;
        assert_int_equal(ht_realvol_push(rv, t, s), 0);
        if (t / 1000 != bar) {
            const double r = log(close / prev_close);
            ewma = (1 - alpha) * ewma + alpha * r * r;
            decay *= 1 - alpha;
            prev_close = close;
            bar = t / 1000;
        }
        close = s;
    }
    const double reference = sqrt(ewma / (1 - decay) * 365.0 * 86400.0);
    const double got = ht_realvol_sigma(rv);
    print_message("realised vol %.6f, double EWMA %.6f, true %.2f over %llu bars\n", got, reference, sigma,
                  (unsigned long long)ht_realvol_bars(rv));
    assert_true(fabs(got - reference) < 1e-4 * reference);
    assert_true(fabs(got - sigma) < 0.08 * sigma);

    /* Bad prices and time going backwards are refused and counted, the estimate is unchanged. */
    assert_int_equal(ht_realvol_push(rv, t + 10, NAN), -1);
    assert_int_equal(ht_realvol_push(rv, t + 10, -1.0), -1);
    assert_int_equal(ht_realvol_push(rv, t - 5000, s), -1);
    assert_int_equal(ht_realvol_rejected(rv), 3);
    assert_true(ht_realvol_sigma(rv) == got);

    /* A silence of an hour: empty bars are zero returns, so the estimate decays by 2^-(3600/600). */
    ht_realvol_push(rv, t + 1000, s);
    const double before = ht_realvol_sigma(rv);
    ht_realvol_push(rv, t + 1000 + 3600 * 1000, s);
    const double after = ht_realvol_sigma(rv);
    assert_true(fabs(after / before - sqrt(exp2(-3600.0 / 600.0))) < 0.01);
    ht_realvol_destroy(rv);

    assert_null(ht_realvol_create(0, 600, 365, &err));
    assert_null(ht_realvol_create(1000, 0.5, 365, &err));
    assert_null(ht_realvol_create(1000, 600, 400, &err));
}

/* Adds a point (stamped at 1000 ms) to the test surface; returns ht_iv_surface_update's answer. */
static int add(ht_iv_surface *s, uint32_t id, ht_iv_source src, uint64_t expiry_ms, double t_years, double k,
               double f, double iv)
{
    const ht_iv_point p = {id, src, 1000, expiry_ms, k, f, log(k / f), t_years, iv};
    return ht_iv_surface_update(s, &p);
}

/* ATM: linear in log-moneyness within an expiry, linear in total variance across expiries, flat outside. */
static void surface_interpolates_atm(void **state)
{
    (void)state;
    ht_error err;
    ht_iv_surface *s = ht_iv_surface_create(16, &err);
    assert_non_null(s);
    const double f = 25000;
    /* expiry A at 0.02 y: strikes 24000 (60%) and 26000 (50%); expiry B at 0.1 y: 25000 at 55%. */
    assert_int_equal(add(s, 1, HT_IV_FROM_MARK, 100, 0.02, 24000, f, 0.60), 0);
    assert_int_equal(add(s, 2, HT_IV_FROM_MARK, 100, 0.02, 26000, f, 0.50), 0);
    assert_int_equal(add(s, 3, HT_IV_FROM_MARK, 200, 0.10, 25000, f, 0.55), 0);
    const double x1 = log(24000 / f), x2 = log(26000 / f);
    const double atm_a = 0.60 + (-x1 / (x2 - x1)) * (0.50 - 0.60);
    assert_true(fabs(ht_iv_surface_atm(s, 0.02, HT_IV_FROM_MARK, 1000, 0) - atm_a) < 1e-12);
    const double w = (0.05 - 0.02) / (0.10 - 0.02);
    const double expect = sqrt(((1 - w) * atm_a * atm_a * 0.02 + w * 0.55 * 0.55 * 0.10) / 0.05);
    assert_true(fabs(ht_iv_surface_atm(s, 0.05, HT_IV_FROM_MARK, 1000, 0) - expect) < 1e-12);
    assert_true(fabs(ht_iv_surface_atm(s, 0.5, HT_IV_FROM_MARK, 1000, 0) - 0.55) < 1e-12);
    assert_true(fabs(ht_iv_surface_atm(s, 0.001, HT_IV_FROM_MARK, 1000, 0) - atm_a) < 1e-12);
    /* A trade point replaces nothing of the marks' and is used only when preferred. */
    assert_int_equal(add(s, 3, HT_IV_FROM_TRADE, 200, 0.10, 25000, f, 0.70), 0);
    assert_int_equal(ht_iv_surface_count(s), 4);
    assert_true(fabs(ht_iv_surface_atm(s, 0.1, HT_IV_FROM_MARK, 1000, 0) - 0.55) < 1e-12);
    assert_true(fabs(ht_iv_surface_atm(s, 0.1, HT_IV_FROM_TRADE, 1000, 0) - 0.70) < 1e-12);
    /* Replacing a mark point keeps one point per instrument and source. */
    assert_int_equal(add(s, 3, HT_IV_FROM_MARK, 200, 0.10, 25000, f, 0.56), 0);
    assert_int_equal(ht_iv_surface_count(s), 4);
    assert_true(fabs(ht_iv_surface_atm(s, 0.1, HT_IV_FROM_MARK, 1000, 0) - 0.56) < 1e-12);
    /* Bad points are refused and counted. */
    assert_int_equal(add(s, 9, HT_IV_FROM_MARK, 200, 0.10, 25000, f, NAN), -1);
    assert_int_equal(add(s, 9, HT_IV_FROM_MARK, 200, -1, 25000, f, 0.5), -1);
    assert_int_equal(ht_iv_surface_rejected(s), 2);
    ht_iv_surface_destroy(s);
    assert_null(ht_iv_surface_create(0, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(realised_vol_matches_ewma_and_true_sigma),
        cmocka_unit_test(surface_interpolates_atm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Histogram and profile tests: bucket layout, relative error bound, and percentiles of known
 * distributions against the exact order statistics of the same sample. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/profile.h"

static ht_hist g_hist, g_hist2, g_hist3;

/* Relative difference of a reported value from the true one. */
static double rel_err(uint64_t reported, uint64_t truth)
{
    return fabs((double)reported - (double)truth) / (double)truth;
}

/* Buckets are contiguous and each bucket's reported value falls back into the same bucket. */
static void buckets_are_contiguous_and_self_consistent(void **state)
{
    (void)state;
    unsigned prev = 0;
    for (uint64_t v = 0; v < 300000; v++) {
        unsigned b = ht_hist_bucket_of(v);
        assert_true(b == prev || b == prev + 1);
        prev = b;
    }
    for (unsigned b = 0; b < HT_HIST_BUCKETS; b++)
        assert_int_equal(ht_hist_bucket_of(ht_hist_bucket_value(b)), b);
    /* Values below the linear range are exact. */
    for (uint64_t v = 0; v < 2 * HT_HIST_SUB; v++)
        assert_int_equal(ht_hist_bucket_value(ht_hist_bucket_of(v)), v);
}

/* Any single value from 1 ns to 10 s is reported within 1% (the design bound is 1/256). */
static void single_values_within_one_percent_from_1ns_to_10s(void **state)
{
    (void)state;
    double worst = 0;
    for (double x = 1.0; x <= 1e10; x *= 1.000731) {
        uint64_t v = (uint64_t)x;
        for (uint64_t d = 0; d < 2; d++) { /* the value and its neighbour probe both bucket edges */
            uint64_t w = v + d;
            uint64_t r = ht_hist_bucket_value(ht_hist_bucket_of(w));
            double e = rel_err(r, w);
            if (e > worst)
                worst = e;
        }
    }
    assert_true(worst <= 1.0 / 256.0 + 1e-12);
    assert_true(worst > 0.0); /* the check looked at lossy buckets at all */
}

/* Every integer 1..1e6 once: the exact quantiles are known in closed form. */
static void uniform_integers_give_known_percentiles(void **state)
{
    (void)state;
    ht_hist_reset(&g_hist);
    const uint64_t n = 1000000;
    for (uint64_t v = 1; v <= n; v++)
        ht_hist_record(&g_hist, v);
    assert_int_equal(g_hist.count, n);
    assert_int_equal(g_hist.min, 1);
    assert_int_equal(g_hist.max, n);
    assert_true(rel_err(ht_hist_quantile(&g_hist, 0.5), 500000) < 0.01);
    assert_true(rel_err(ht_hist_quantile(&g_hist, 0.9), 900000) < 0.01);
    assert_true(rel_err(ht_hist_quantile(&g_hist, 0.99), 990000) < 0.01);
    assert_true(rel_err(ht_hist_quantile(&g_hist, 0.999), 999000) < 0.01);
    assert_int_equal(ht_hist_quantile(&g_hist, 1.0), n);
    assert_int_equal(ht_hist_quantile(&g_hist, 0.0), 1);
    assert_true(fabs(ht_hist_mean(&g_hist) - 500000.5) < 1e-6);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* A 64-bit LCG (Knuth's MMIX constants) mapped to (0, 1). */
static double next_uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
}

/* A log-normal latency sample (median 800 ns, heavy right tail): percentiles match the sorted sample. */
static void lognormal_sample_matches_sorted_order_statistics(void **state)
{
    (void)state;
    const size_t n = 200000;
    uint64_t *vals = malloc(n * sizeof *vals);
    assert_non_null(vals);
    uint64_t seed = 12345;
    ht_hist_reset(&g_hist);
    for (size_t i = 0; i < n; i++) {
        double u1 = next_uniform(&seed), u2 = next_uniform(&seed);
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        vals[i] = (uint64_t)(800.0 * exp(1.2 * z)) + 1;
        ht_hist_record(&g_hist, vals[i]);
    }
    qsort(vals, n, sizeof *vals, cmp_u64);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        size_t rank = (size_t)ceil(qs[k] * (double)n); /* 1-based */
        uint64_t exact = vals[rank - 1];
        assert_true(rel_err(ht_hist_quantile(&g_hist, qs[k]), exact) < 0.01);
    }
    assert_int_equal(ht_hist_quantile(&g_hist, 1.0), vals[n - 1]);
    free(vals);
}

/* Two halves merged report exactly what one histogram of everything reports. */
static void merge_equals_recording_everything(void **state)
{
    (void)state;
    ht_hist_reset(&g_hist);
    ht_hist_reset(&g_hist2);
    ht_hist_reset(&g_hist3);
    uint64_t seed = 99;
    for (int i = 0; i < 50000; i++) {
        uint64_t v = (uint64_t)(next_uniform(&seed) * 1e7);
        ht_hist_record(i % 2 ? &g_hist : &g_hist2, v);
        ht_hist_record(&g_hist3, v);
    }
    ht_hist_merge(&g_hist, &g_hist2);
    assert_int_equal(g_hist.count, g_hist3.count);
    assert_int_equal(g_hist.min, g_hist3.min);
    assert_int_equal(g_hist.max, g_hist3.max);
    assert_memory_equal(g_hist.buckets, g_hist3.buckets, sizeof g_hist.buckets);
}

/* Values past the top of the range are clamped and counted, never lost. */
static void huge_values_are_clamped_and_counted(void **state)
{
    (void)state;
    ht_hist_reset(&g_hist);
    ht_hist_record(&g_hist, UINT64_MAX);
    ht_hist_record(&g_hist, 5);
    assert_int_equal(g_hist.clamped, 1);
    assert_int_equal(g_hist.count, 2);
    assert_int_equal(ht_hist_quantile(&g_hist, 1.0), UINT64_MAX);
    assert_int_equal(ht_hist_quantile(&g_hist, 0.5), 5);
}

/* Spans are taken between the right stages, and a stage not reached records nothing. */
static void profile_spans_follow_the_stamps(void **state)
{
    (void)state;
    ht_profile *p = ht_profile_create();
    assert_non_null(p);
    p->ns_per_tick = 0.5; /* a 2 GHz TSC, fixed for the test */
    ht_stamps st = {{0}};
    st.tsc[HT_STAGE_RX] = 1000;
    st.tsc[HT_STAGE_DECODED] = 1100;
    st.tsc[HT_STAGE_PIPE_IN] = 1120;
    st.tsc[HT_STAGE_EVENT_OUT] = 1160;
    ht_profile_record(p, &st); /* no breach: decision and order never stamped */
    assert_int_equal(p->span[HT_SPAN_RX_TO_DECODED].count, 1);
    assert_int_equal(ht_hist_quantile(&p->span[HT_SPAN_RX_TO_DECODED], 0.5), 50);
    assert_int_equal(ht_hist_quantile(&p->span[HT_SPAN_PIPE], 0.5), 20);
    assert_int_equal(ht_hist_quantile(&p->span[HT_SPAN_TICK_TO_PIPE_OUT], 0.5), 80);
    assert_int_equal(p->span[HT_SPAN_TICK_TO_ORDER].count, 0);
    st.tsc[HT_STAGE_DECISION] = 1300;
    st.tsc[HT_STAGE_ORDER_ENCODED] = 1400;
    ht_profile_record(p, &st);
    assert_int_equal(ht_hist_quantile(&p->span[HT_SPAN_TICK_TO_ORDER], 0.5), 200);
    assert_int_equal(p->span[HT_SPAN_TICK_TO_WIRE].count, 0);
    assert_string_equal(ht_span_name(HT_SPAN_TICK_TO_ORDER), "tick->order");
    assert_string_equal(ht_stage_name(HT_STAGE_RX), "rx");
    ht_profile_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buckets_are_contiguous_and_self_consistent),
        cmocka_unit_test(single_values_within_one_percent_from_1ns_to_10s),
        cmocka_unit_test(uniform_integers_give_known_percentiles),
        cmocka_unit_test(lognormal_sample_matches_sorted_order_statistics),
        cmocka_unit_test(merge_equals_recording_everything),
        cmocka_unit_test(huge_values_are_clamped_and_counted),
        cmocka_unit_test(profile_spans_follow_the_stamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

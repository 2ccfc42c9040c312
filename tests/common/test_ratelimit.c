/* SPDX-License-Identifier: MIT */
/* The credit buckets of hedgetrig/ratelimit.h against an independent reference (the generic cell rate algorithm,
 * in integer nanoseconds), their waits, and the [rate] config's presets, overrides and checks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/ratelimit.h"

#define S 1000000000ull

static void burst_then_rate(void **state)
{
    (void)state;
    ht_rate_bucket b;
    ht_rate_bucket_init(&b, 20, 5, 1000);
    for (int i = 0; i < 20; i++)
        assert_true(ht_rate_bucket_take(&b, 1, 0, 1000));
    assert_false(ht_rate_bucket_take(&b, 1, 0, 1000));
    /* One request refills in 1/5 s: not a nanosecond earlier (with a margin for rounding), then yes. */
    assert_int_equal(ht_rate_bucket_wait_ns(&b, 1, 0, 1000), S / 5);
    assert_false(ht_rate_bucket_take(&b, 1, 0, 1000 + S / 5 - 1000));
    assert_true(ht_rate_bucket_take(&b, 1, 0, 1000 + S / 5 + 1));
    /* The level never exceeds the capacity however long the pause. */
    assert_true(ht_rate_bucket_level(&b, 1000 + 3600 * S) == 20);
    /* A reserve keeps that much back. */
    ht_rate_bucket_init(&b, 3, 1, 0);
    assert_true(ht_rate_bucket_take(&b, 1, 1, 0));
    assert_true(ht_rate_bucket_take(&b, 1, 1, 0));
    assert_false(ht_rate_bucket_take(&b, 1, 1, 0));
    assert_true(ht_rate_bucket_take(&b, 1, 0, 0));
    /* A charge may go below zero; the wait then covers the debt. */
    ht_rate_bucket_charge(&b, 2, 0);
    assert_true(ht_rate_bucket_level(&b, 0) == -2);
    assert_int_equal(ht_rate_bucket_wait_ns(&b, 1, 0, 0), 3 * S);
    /* A cost above the capacity never fits; an earlier clock refills nothing. */
    assert_int_equal(ht_rate_bucket_wait_ns(&b, 4, 0, 0), UINT64_MAX);
    assert_true(ht_rate_bucket_level(&b, 0) == -2);
}

/* GCRA (virtual scheduling): a request at t conforms when t >= TAT - tau; then TAT = max(TAT, t) + T. With
 * T = 1/rate and tau = (burst - 1) T it admits exactly what a bucket of size burst refilled at rate admits. */
static void agrees_with_gcra(void **state)
{
    (void)state;
    const uint64_t T = S / 20, tau = 49 * T; /* 20 a second, burst 50 */
    ht_rate_bucket b;
    ht_rate_bucket_init(&b, 50, 20, 0);
    uint64_t tat = 0, t = 0;
    unsigned compared = 0, admitted = 0;
    srand(13);
    for (int i = 0; i < 200000; i++) {
        t += (uint64_t)(rand() % 3 == 0 ? rand() % 200000000 : rand() % 20000000) + 1;
        int64_t margin = (int64_t)t - ((int64_t)tat - (int64_t)tau);
        bool ref = margin >= 0;
        if (llabs(margin) < 1000) { /* within a microsecond of the edge: rounding may decide; keep both in step */
            bool got = ht_rate_bucket_take(&b, 1, 0, t);
            if (got)
                tat = (tat > t ? tat : t) + T;
            continue;
        }
        bool got = ht_rate_bucket_take(&b, 1, 0, t);
        if (got != ref)
            fail_msg("request %d at %llu ns: bucket says %d, GCRA says %d", i, (unsigned long long)t, got, ref);
        if (ref)
            tat = (tat > t ? tat : t) + T, admitted++;
        compared++;
    }
    assert_true(compared > 190000);
    assert_true(admitted > 1000 && admitted < compared); /* both outcomes happened */
}

static void config_presets_overrides_and_checks(void **state)
{
    (void)state;
    ht_rate_config c;
    ht_error err;
    bool known;
    const char *expected;
    ht_rate_config_default(&c);
    assert_string_equal(c.tier, "tier4");
    assert_true(c.me_rate_per_s == 5 && c.me_burst == 20 && c.credit_cost == 500 && c.credit_max == 50000 &&
                c.credit_refill_per_s == 10000 && c.reserve == 1 && c.enforce);
    assert_true(ht_rate_config_apply(&c, "tier", "tier1", &known, &expected) && known);
    assert_true(c.me_rate_per_s == 30 && c.me_burst == 100);
    assert_true(ht_rate_config_apply(&c, "me_burst", "80", &known, &expected));
    assert_string_equal(c.tier, "custom");
    assert_true(c.me_burst == 80 && c.me_rate_per_s == 30);
    assert_false(ht_rate_config_apply(&c, "tier", "gold", &known, &expected));
    assert_true(known);
    assert_non_null(strstr(expected, "tier1"));
    assert_false(ht_rate_config_apply(&c, "me_rate_per_s", "0", &known, &expected));
    assert_false(ht_rate_config_apply(&c, "me_rate_per_s", "-1", &known, &expected));
    assert_false(ht_rate_config_apply(&c, "credit_cost", "many", &known, &expected));
    assert_false(ht_rate_config_apply(&c, "bogus", "1", &known, &expected));
    assert_false(known);
    assert_int_equal(ht_rate_config_check(&c, &err), 0);
    c.me_burst = 1; /* with reserve 1, no order could ever go */
    assert_int_equal(ht_rate_config_check(&c, &err), -1);
    assert_non_null(strstr(err.msg, "me_burst"));
    ht_rate_config_default(&c);
    c.credit_max = 600;
    assert_int_equal(ht_rate_config_check(&c, &err), -1);
    assert_non_null(strstr(err.msg, "credit_max"));
    assert_int_equal(ht_rate_config_tier(&c, "tier9", &err), -1);
    assert_non_null(strstr(err.msg, "tier9"));
    ht_rate_account a;
    ht_rate_config_default(&c);
    ht_rate_account_init(&a, &c, 5);
    assert_true(ht_rate_bucket_level(&a.me, 5) == 20 && ht_rate_bucket_level(&a.credits, 5) == 50000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_rate),
        cmocka_unit_test(agrees_with_gcra),
        cmocka_unit_test(config_presets_overrides_and_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

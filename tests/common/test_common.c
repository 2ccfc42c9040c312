/* SPDX-License-Identifier: MIT */
/* Tests of the shared pieces: the error record, the CLI number parsers, and TSC calibration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cli.h"
#include "hedgetrig/common.h"
#include "hedgetrig/tsc.h"

static void error_record_formats_and_returns_minus_one(void **state)
{
    (void)state;
    ht_error err;
    assert_int_equal(ht_error_set(&err, "line %d: bad '%s'", 7, "x"), -1);
    assert_string_equal(err.msg, "line 7: bad 'x'");
    assert_int_equal(ht_error_set(NULL, "ignored"), -1);
    /* Truncates instead of overflowing. */
    char long_text[600];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    ht_error_set(&err, "%s", long_text);
    assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
}

static void cli_parsers_accept_numbers_in_range(void **state)
{
    (void)state;
    double d = 0;
    uint64_t u = 0;
    assert_true(ht_cli_parse_double("t", "--x", "1.5e2", 0, 1000, &d));
    assert_true(d == 150.0);
    assert_true(ht_cli_parse_u64("t", "--n", "42", 1, 100, &u));
    assert_int_equal(u, 42);
}

static void cli_parsers_reject_junk_and_range(void **state)
{
    (void)state;
    double d = -1;
    uint64_t u = 7;
    assert_false(ht_cli_parse_double("t", "--x", "12abc", 0, 1000, &d));
    assert_false(ht_cli_parse_double("t", "--x", "", 0, 1000, &d));
    assert_false(ht_cli_parse_double("t", "--x", "nan", -1e300, 1e300, &d));
    assert_false(ht_cli_parse_double("t", "--x", "2000", 0, 1000, &d));
    assert_false(ht_cli_parse_u64("t", "--n", "-3", 0, 100, &u));
    assert_false(ht_cli_parse_u64("t", "--n", "101", 0, 100, &u));
    assert_false(ht_cli_parse_u64("t", "--n", "99999999999999999999999", 0, UINT64_MAX, &u));
    assert_true(d == -1);
    assert_int_equal(u, 7);
}

/* The calibrated rate converts a measured sleep back to its length within a few percent. */
static void tsc_calibration_matches_the_kernel_clock(void **state)
{
    (void)state;
    double rate = ht_tsc_calibrate(30);
    assert_true(rate > 0.05 && rate < 20.0);
    uint64_t m0 = ht_mono_ns();
    uint64_t t0 = ht_tsc_now();
    struct timespec req = {0, 50 * 1000 * 1000};
    nanosleep(&req, NULL);
    uint64_t t1 = ht_tsc_now();
    uint64_t m1 = ht_mono_ns();
    double tsc_ns = ht_tsc_to_ns(t1 - t0);
    double mono_ns = (double)(m1 - m0);
    assert_true(tsc_ns > 0.95 * mono_ns && tsc_ns < 1.05 * mono_ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_record_formats_and_returns_minus_one),
        cmocka_unit_test(cli_parsers_accept_numbers_in_range),
        cmocka_unit_test(cli_parsers_reject_junk_and_range),
        cmocka_unit_test(tsc_calibration_matches_the_kernel_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

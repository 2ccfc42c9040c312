/* SPDX-License-Identifier: MIT */
/* The shared value parsers (hedgetrig/parse.h): what the plain grammar takes and refuses, and what each widening
 * flag adds for the callers that accepted it before they shared the parser (no caller's behaviour changed). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/parse.h"

/* Plain decimal only: no blanks, hexadecimal, inf or nan; nothing after the number; overflow and underflow
 * refused. Nothing is written on failure. */
static void doubles_plain(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(ht_parse_double("25448.5", 0, &v), HT_PARSE_OK);
    assert_true(v == 25448.5);
    assert_int_equal(ht_parse_double("-1.5e-3", 0, &v), HT_PARSE_OK);
    assert_true(v == -1.5e-3);
    assert_int_equal(ht_parse_double("+.5", 0, &v), HT_PARSE_OK);
    assert_true(v == 0.5);
    v = 7;
    static const char *const refused[] = {"", " 1", "1 ", "0x10", "inf", "nan", "1e", "5 5", "30s", ".", "-", "1e+"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(ht_parse_double(refused[i], 0, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_double(NULL, 0, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_double("1e400", 0, &v), HT_PARSE_UNFIT);
    assert_int_equal(ht_parse_double("1e-400", 0, &v), HT_PARSE_UNFIT);
    assert_true(v == 7);
}

/* The flags: strtod's grammar (leading blanks, hex floats; inf and nan still refused), trailing blanks, and an
 * underflow read as zero. */
static void doubles_widened(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(ht_parse_double("0x10", HT_PARSE_STRTOD_GRAMMAR, &v), HT_PARSE_OK);
    assert_true(v == 16);
    assert_int_equal(ht_parse_double(" 2.5", HT_PARSE_STRTOD_GRAMMAR, &v), HT_PARSE_OK);
    assert_true(v == 2.5);
    assert_int_equal(ht_parse_double("inf", HT_PARSE_STRTOD_GRAMMAR, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_double("nan", HT_PARSE_STRTOD_GRAMMAR, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_double("1e400", HT_PARSE_STRTOD_GRAMMAR, &v), HT_PARSE_UNFIT);
    assert_int_equal(ht_parse_double("3 \t", HT_PARSE_TRAILING_BLANKS, &v), HT_PARSE_OK);
    assert_true(v == 3);
    assert_int_equal(ht_parse_double("3 x", HT_PARSE_STRTOD_GRAMMAR | HT_PARSE_TRAILING_BLANKS, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_double(" \t", HT_PARSE_STRTOD_GRAMMAR | HT_PARSE_TRAILING_BLANKS, &v), HT_PARSE_SYNTAX);
    v = 7;
    assert_int_equal(ht_parse_double("1e-400", HT_PARSE_UNDERFLOW_OK, &v), HT_PARSE_OK);
    assert_true(v == 0);
    assert_int_equal(ht_parse_double("1e400", HT_PARSE_UNDERFLOW_OK, &v), HT_PARSE_UNFIT);
}

/* Unsigned: digits only, 2^64-1 the largest, then the caller's range. */
static void unsigned_integers(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(ht_parse_u64("18446744073709551615", 0, UINT64_MAX, 0, &v), HT_PARSE_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(ht_parse_u64("18446744073709551616", 0, UINT64_MAX, 0, &v), HT_PARSE_UNFIT);
    assert_int_equal(ht_parse_u64("65536", 1, 65535, 0, &v), HT_PARSE_OUT_OF_RANGE);
    assert_int_equal(ht_parse_u64("0", 1, 65535, 0, &v), HT_PARSE_OUT_OF_RANGE);
    static const char *const refused[] = {"", "+1", "-1", " 1", "1 ", "0x10", "1.0", "1e3"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(ht_parse_u64(refused[i], 0, UINT64_MAX, 0, &v), HT_PARSE_SYNTAX);
    assert_true(v == UINT64_MAX);
}

/* Signed: '-' and digits; with strtol's grammar leading blanks and '+' too. The ends of int64 fit. */
static void signed_integers(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(ht_parse_i64("-1", -1, 4095, 0, &v), HT_PARSE_OK);
    assert_true(v == -1);
    assert_int_equal(ht_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, 0, &v), HT_PARSE_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(ht_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, 0, &v), HT_PARSE_UNFIT);
    assert_int_equal(ht_parse_i64("-2", -1, 4095, 0, &v), HT_PARSE_OUT_OF_RANGE);
    assert_int_equal(ht_parse_i64("+5", 0, 9, 0, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_i64(" 5", 0, 9, 0, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_i64("+5", 0, 9, HT_PARSE_STRTOL_GRAMMAR, &v), HT_PARSE_OK);
    assert_true(v == 5);
    assert_int_equal(ht_parse_i64(" \t-0", 0, 9, HT_PARSE_STRTOL_GRAMMAR, &v), HT_PARSE_OK);
    assert_true(v == 0);
    assert_int_equal(ht_parse_i64("- 5", -9, 9, HT_PARSE_STRTOL_GRAMMAR, &v), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_i64("5 ", 0, 9, HT_PARSE_STRTOL_GRAMMAR, &v), HT_PARSE_SYNTAX);
}

/* HOST:PORT splits at the last colon; the host must be 1..cap-1 bytes, the port 1..65535. */
static void host_and_port(void **state)
{
    (void)state;
    char host[16] = "unchanged";
    uint16_t port = 0;
    assert_int_equal(ht_parse_hostport("127.0.0.1:9881", 0, host, sizeof host, &port), HT_PARSE_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9881);
    assert_int_equal(ht_parse_hostport("::1:80", 0, host, sizeof host, &port), HT_PARSE_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(ht_parse_hostport(":80", 0, host, sizeof host, &port), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_hostport("host", 0, host, sizeof host, &port), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_hostport("a-host-name-too-long:80", 0, host, sizeof host, &port), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_hostport("h:0", 0, host, sizeof host, &port), HT_PARSE_OUT_OF_RANGE);
    assert_int_equal(ht_parse_hostport("h:65536", 0, host, sizeof host, &port), HT_PARSE_OUT_OF_RANGE);
    assert_int_equal(ht_parse_hostport("h:", 0, host, sizeof host, &port), HT_PARSE_SYNTAX);
    assert_int_equal(ht_parse_hostport("h: 80", 0, host, sizeof host, &port), HT_PARSE_SYNTAX);
    assert_string_equal(host, "::1");
    assert_int_equal(ht_parse_hostport("h: 80", HT_PARSE_STRTOL_GRAMMAR, host, sizeof host, &port), HT_PARSE_OK);
    assert_string_equal(host, "h");
    assert_int_equal(port, 80);
    assert_null(ht_hostport_port_text("host", sizeof host));
    assert_string_equal(ht_hostport_port_text("h:x", sizeof host), "x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doubles_plain),      cmocka_unit_test(doubles_widened), cmocka_unit_test(unsigned_integers),
        cmocka_unit_test(signed_integers),    cmocka_unit_test(host_and_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

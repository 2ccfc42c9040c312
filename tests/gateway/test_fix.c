/* SPDX-License-Identifier: MIT */
/* FIX codec: writer/parser round trips, the NewOrderSingle fast path, and malformed input with reasons.
 * References: the checksum and BodyLength are recomputed here independently from their FIX 4.4 definitions;
 * timestamps are checked against libc's gmtime_r + strftime. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hedgetrig/fix.h"

/* Builds a message from "|"-separated body fields (after 9=), adding a correct header and trailer. */
static size_t make_msg(char *out, const char *body_pipes)
{
    static char body[20000];
    size_t n = strlen(body_pipes);
    for (size_t i = 0; i < n; i++)
        body[i] = body_pipes[i] == '|' ? '\001' : body_pipes[i];
    int len = sprintf(out, "8=FIX.4.4\0019=%zu\001", n);
    memcpy(out + len, body, n);
    len += (int)n;
    unsigned sum = 0;
    for (int i = 0; i < len; i++)
        sum += (unsigned char)out[i];
    len += sprintf(out + len, "10=%03u\001", sum % 256);
    return (size_t)len;
}

/* Independent check of a finished message's framing: BodyLength and CheckSum per the FIX 4.4 spec. */
static void assert_framing(const char *m, size_t len)
{
    assert_memory_equal(m, "8=FIX.4.4\0019=", 12);
    size_t body_len = (size_t)strtoul(m + 12, NULL, 10);
    const char *body = strchr(m + 12, '\001') + 1;
    assert_int_equal((size_t)(body - m) + body_len + 7, len);
    unsigned sum = 0;
    for (const char *p = m; p < body + body_len; p++)
        sum += (unsigned char)*p;
    char trailer[8];
    sprintf(trailer, "10=%03u\001", sum % 256);
    assert_memory_equal(body + body_len, trailer, 7);
}

static void writer_round_trip(void **state)
{
    (void)state;
    char buf[1024];
    ht_fix_writer w;
    ht_fix_writer_begin(&w, buf, sizeof buf, "8");
    ht_fix_put_str(&w, HT_TAG_SENDER_COMP_ID, "A");
    ht_fix_put_str(&w, HT_TAG_TARGET_COMP_ID, "B");
    ht_fix_put_u64(&w, HT_TAG_MSG_SEQ_NUM, 1234567890123ull);
    ht_fix_put_decimal(&w, HT_TAG_PRICE, 50000.5, 8);
    ht_fix_put_decimal(&w, HT_TAG_LAST_PX, -0.25, 4);
    ht_fix_put_decimal(&w, HT_TAG_ORDER_QTY, 3.0, 8);
    ht_fix_put_decimal(&w, HT_TAG_CUM_QTY, 0.123456789, 3);
    ht_fix_put_char(&w, HT_TAG_SIDE, '2');
    size_t len;
    const char *m = ht_fix_writer_finish(&w, &len);
    assert_non_null(m);
    assert_framing(m, len);
    ht_fix_msg msg;
    size_t used;
    ht_error err;
    assert_int_equal(ht_fix_parse(m, len, 0, &msg, &used, &err), HT_FIX_PARSE_OK);
    assert_int_equal(used, len);
    assert_string_equal(msg.msg_type, "8");
    uint64_t seq;
    assert_true(ht_fix_get_u64(&msg, HT_TAG_MSG_SEQ_NUM, &seq));
    assert_true(seq == 1234567890123ull);
    assert_true(ht_fix_field_is(&msg, HT_TAG_PRICE, "50000.5"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_LAST_PX, "-0.25"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_ORDER_QTY, "3"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_CUM_QTY, "0.123"));
    assert_int_equal(ht_fix_get_char(&msg, HT_TAG_SIDE), '2');
    double px;
    assert_true(ht_fix_get_double(&msg, HT_TAG_PRICE, &px));
    assert_true(px == 50000.5);
    /* Overflow is reported, not written past the buffer. */
    char small[64];
    ht_fix_writer_begin(&w, small, sizeof small, "D");
    ht_fix_put_str(&w, HT_TAG_TEXT, "0123456789012345678901234567890123456789");
    assert_null(ht_fix_writer_finish(&w, &len));
}

/* The timestamp format matches strftime("%Y%m%d-%H:%M:%S") of gmtime_r, plus milliseconds. */
static void time_format_matches_libc(void **state)
{
    (void)state;
    static const uint64_t secs[] = {0, 951782400 /* 2000-02-29 */, 1700000000, 4102444799 /* 2099-12-31 */,
                                    1709208000 /* 2024-02-29 12:00 */};
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        uint64_t ns = secs[i] * 1000000000ull + 987654321ull;
        char got[22];
        ht_fix_format_time(got, ns);
        got[21] = '\0';
        time_t t = (time_t)secs[i];
        struct tm tm;
        gmtime_r(&t, &tm);
        char want[32];
        strftime(want, sizeof want, "%Y%m%d-%H:%M:%S", &tm);
        strcat(want, ".987");
        assert_string_equal(got, want);
    }
}

static void nos_fast_path(void **state)
{
    (void)state;
    ht_fix_nos_encoder enc;
    ht_error err;
    assert_int_equal(ht_fix_nos_init(&enc, "HEDGETRIG", "DERIBITSERVER", "ht", 1, 2, &err), 0);
    char buf[HT_FIX_NOS_BUFFER_BYTES];
    size_t len;
    const char *m = ht_fix_encode_nos(&enc, buf, 42, 1700000000123000000ull, 777, "BTC-PERPETUAL", 13, '2', 10.0,
                                      37123.45, &len);
    assert_framing(m, len);
    ht_fix_msg msg;
    size_t used;
    assert_int_equal(ht_fix_parse(m, len, 0, &msg, &used, &err), HT_FIX_PARSE_OK);
    assert_string_equal(msg.msg_type, "D");
    assert_true(ht_fix_field_is(&msg, HT_TAG_SENDER_COMP_ID, "HEDGETRIG"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_TARGET_COMP_ID, "DERIBITSERVER"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_MSG_SEQ_NUM, "42"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_SENDING_TIME, "20231114-22:13:20.123"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_CL_ORD_ID, "ht777"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_SYMBOL, "BTC-PERPETUAL"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_SIDE, "2"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_ORDER_QTY, "10"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_QTY_TYPE, "1")); /* contracts, never Deribit's default by omission */
    assert_true(ht_fix_field_is(&msg, HT_TAG_ORD_TYPE, "2"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_PRICE, "37123.45"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_TIME_IN_FORCE, "3"));
    assert_true(ht_fix_field_is(&msg, HT_TAG_TRANSACT_TIME, "20231114-22:13:20.123"));
    /* The same message through the generic writer is byte-identical. */
    char buf2[1024];
    ht_fix_writer w;
    ht_fix_writer_begin(&w, buf2, sizeof buf2, "D");
    ht_fix_put_str(&w, 49, "HEDGETRIG");
    ht_fix_put_str(&w, 56, "DERIBITSERVER");
    ht_fix_put_u64(&w, 34, 42);
    ht_fix_put_time(&w, 52, 1700000000123000000ull);
    ht_fix_put_str(&w, 11, "ht777");
    ht_fix_put_str(&w, 55, "BTC-PERPETUAL");
    ht_fix_put_char(&w, 54, '2');
    ht_fix_put_decimal(&w, 38, 10.0, 1);
    ht_fix_put_char(&w, 854, '1');
    ht_fix_put_char(&w, 40, '2');
    ht_fix_put_decimal(&w, 44, 37123.45, 2);
    ht_fix_put_char(&w, 59, '3');
    ht_fix_put_time(&w, 60, 1700000000123000000ull);
    size_t len2;
    const char *m2 = ht_fix_writer_finish(&w, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(m, m2, len);
    /* Bad CompIDs are refused. */
    assert_int_equal(ht_fix_nos_init(&enc, "", "X", "", 0, 0, &err), -1);
    assert_non_null(strstr(err.msg, "SenderCompID"));
    assert_int_equal(ht_fix_nos_init(&enc, "A", "B\001", "", 0, 0, &err), -1);
}

/* A reproducible stream (splitmix64) for the randomised formatting checks. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The fast formatters and the checksum against libc's printf and a byte-by-byte sum: integers of every length,
 * decimals at every precision (the value scaled by 10^d and rounded half up, printed by printf, trailing zeros
 * of the fraction dropped), checksums of every length from 0 to 300; and NewOrderSingles of random fields framed
 * correctly (BodyLength and CheckSum recomputed by assert_framing) and parsed back to the same values. */
static void formatting_matches_printf(void **state)
{
    (void)state;
    uint64_t rng = 12345;
    char got[64], want[64];
    for (int i = 0; i < 200000; i++) {
        uint64_t v = next_random(&rng) >> (next_random(&rng) % 64);
        size_t n = ht_fix_format_u64(got, v);
        int wn = snprintf(want, sizeof want, "%llu", (unsigned long long)v);
        if (n != (size_t)wn || memcmp(got, want, n) != 0)
            fail_msg("u64 %llu: '%.*s', printf '%s'", (unsigned long long)v, (int)n, got, want);
        unsigned d = (unsigned)(next_random(&rng) % 10);
        double x = (double)(next_random(&rng) >> 20) / (double)(1ull << (next_random(&rng) % 40));
        if (next_random(&rng) & 1)
            x = -x;
        if (i % 7 == 0)
            x = round(x * 100.0) / 100.0;
        static const double p10[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
        uint64_t scaled = (uint64_t)(fabs(x) * p10[d] + 0.5);
        uint64_t whole = scaled / (uint64_t)p10[d], frac = scaled % (uint64_t)p10[d];
        wn = snprintf(want, sizeof want, "%s%llu", x < 0 && scaled ? "-" : "", (unsigned long long)whole);
        if (frac) {
            wn += snprintf(want + wn, sizeof want - (size_t)wn, ".%0*llu", (int)d, (unsigned long long)frac);
            while (want[wn - 1] == '0')
                want[--wn] = '\0';
        }
        n = ht_fix_format_decimal(got, x, d);
        if (n != (size_t)wn || memcmp(got, want, n) != 0)
            fail_msg("decimal %.17g at %u: '%.*s', printf '%s'", x, d, (int)n, got, want);
    }
    static char bytes[300];
    for (size_t len = 0; len <= sizeof bytes; len++) {
        unsigned sum = 0;
        for (size_t k = 0; k < len; k++) {
            bytes[k] = (char)next_random(&rng);
            sum += (unsigned char)bytes[k];
        }
        assert_int_equal(ht_fix_checksum(bytes, len), sum % 256);
    }
    ht_fix_nos_encoder enc;
    ht_error err;
    assert_int_equal(ht_fix_nos_init(&enc, "HEDGETRIG-LONG-SENDER-ID-0123456", "T", "prefix-15-chars", 8, 4, &err),
                     -1); /* 32 characters */
    assert_int_equal(ht_fix_nos_init(&enc, "HEDGETRIG-LONG-SENDER-ID-012345", "DERIBITSERVER-LONG-TARGET-ID-01",
                                     "prefix-15-chars", 8, 4, &err),
                     0);
    char buf[HT_FIX_NOS_BUFFER_BYTES];
    for (int i = 0; i < 20000; i++) {
        uint64_t seq = next_random(&rng) >> (next_random(&rng) % 64);
        uint64_t id = next_random(&rng) >> (next_random(&rng) % 64);
        double qty = (double)(next_random(&rng) % 100000000) / 1000.0;
        double px = (double)(next_random(&rng) % 100000000) / 2.0;
        size_t sym_len = 1 + next_random(&rng) % 31;
        char sym[32];
        for (size_t k = 0; k < sym_len; k++)
            sym[k] = (char)('A' + next_random(&rng) % 26);
        size_t len;
        const char *m = ht_fix_encode_nos(&enc, buf, seq, 1700000000123000000ull + (uint64_t)i * 7919000000ull, id,
                                          sym, sym_len, i & 1 ? '1' : '2', qty, px, &len);
        assert_non_null(m);
        assert_framing(m, len);
        ht_fix_msg msg;
        size_t used;
        assert_int_equal(ht_fix_parse(m, len, 0, &msg, &used, &err), HT_FIX_PARSE_OK);
        snprintf(want, sizeof want, "%llu", (unsigned long long)seq);
        assert_true(ht_fix_field_is(&msg, HT_TAG_MSG_SEQ_NUM, want));
        snprintf(want, sizeof want, "prefix-15-chars%llu", (unsigned long long)id);
        assert_true(ht_fix_field_is(&msg, HT_TAG_CL_ORD_ID, want));
        snprintf(want, sizeof want, "%.*s", (int)sym_len, sym);
        assert_true(ht_fix_field_is(&msg, HT_TAG_SYMBOL, want));
        got[ht_fix_format_decimal(got, px, 4)] = '\0';
        assert_true(ht_fix_field_is(&msg, HT_TAG_PRICE, got));
    }
}

/* Expects a parse failure whose message contains what. Returns the bytes to skip. */
static size_t expect_bad(const char *m, size_t len, size_t max, const char *what)
{
    ht_fix_msg msg;
    size_t used = 0;
    ht_error err = {{0}};
    assert_int_equal(ht_fix_parse(m, len, max, &msg, &used, &err), HT_FIX_PARSE_BAD);
    if (!strstr(err.msg, what))
        fail_msg("error '%s' does not mention '%s'", err.msg, what);
    assert_true(used >= 1 && used <= len);
    return used;
}

static void malformed_input_is_rejected_with_a_reason(void **state)
{
    (void)state;
    char m[8192];
    size_t len = make_msg(m, "35=0|49=A|56=B|34=1|52=20240101-00:00:00.000|");
    ht_fix_msg msg;
    size_t used;
    ht_error err;
    assert_int_equal(ht_fix_parse(m, len, 0, &msg, &used, &err), HT_FIX_PARSE_OK);
    /* Every strict prefix is incomplete, never an error. */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(ht_fix_parse(m, i, 0, &msg, &used, &err), HT_FIX_PARSE_INCOMPLETE);
    /* Bad checksum: the whole message is skipped. */
    char bad[8192];
    memcpy(bad, m, len);
    bad[len - 2] = bad[len - 2] == '9' ? '0' : (char)(bad[len - 2] + 1);
    assert_int_equal(expect_bad(bad, len, 0, "CheckSum"), len);
    /* Bad body length (one too long, one too short). */
    char body_long[8192];
    /* (one too long looks incomplete until the next message's bytes arrive) */
    int n = sprintf(body_long, "8=FIX.4.4\0019=%zu%s", strtoul(m + 12, NULL, 10) + 1, strchr(m + 12, '\001'));
    assert_int_equal(ht_fix_parse(body_long, (size_t)n, 0, &msg, &used, &err), HT_FIX_PARSE_INCOMPLETE);
    memcpy(body_long + n, m, len);
    expect_bad(body_long, (size_t)n + len, 0, "does not end at the CheckSum");
    n = sprintf(body_long, "8=FIX.4.4\0019=%zu%s", strtoul(m + 12, NULL, 10) - 3, strchr(m + 12, '\001'));
    expect_bad(body_long, (size_t)n, 0, "does not end at the CheckSum");
    /* Non-numeric body length. */
    expect_bad("8=FIX.4.4\0019=1x\00135=0\00110=000\001", 27, 0, "BodyLength");
    /* Wrong BeginString and garbage: resynchronise on the next "8=FIX". */
    char garbage[8192];
    n = sprintf(garbage, "hello world");
    memcpy(garbage + n, m, len);
    assert_int_equal(expect_bad(garbage, (size_t)n + len, 0, "BeginString"), (size_t)n);
    expect_bad("8=FIX.4.2\0019=5\00135=0\00110=000\001", 26, 0, "BeginString");
    /* Missing MsgType as the first field. */
    len = make_msg(m, "49=A|35=0|56=B|34=1|");
    expect_bad(m, len, 0, "MsgType (35)");
    /* A field without '=' or with an empty value, a zero-led tag. */
    len = make_msg(m, "35=0|49A|");
    expect_bad(m, len, 0, "tag=value");
    len = make_msg(m, "35=0|49=|");
    expect_bad(m, len, 0, "empty value");
    len = make_msg(m, "35=0|049=A|");
    expect_bad(m, len, 0, "tag=value");
    /* Huge: BodyLength beyond the limit is refused before the bytes arrive. */
    expect_bad("8=FIX.4.4\0019=9999999\00135=0", 24, 4096, "limit");
    char big[9000];
    memset(big, 'x', sizeof big);
    memcpy(big, "35=0|58=", 8);
    big[8990] = '|';
    big[8991] = '\0';
    static char huge[20000];
    len = make_msg(huge, big);
    expect_bad(huge, len, 4096, "limit");
    assert_int_equal(ht_fix_parse(huge, len, 16384, &msg, &used, &err), HT_FIX_PARSE_OK);
    /* Too many fields. */
    char many[8192] = "35=0|";
    for (int i = 0; i < HT_FIX_MAX_FIELDS + 5; i++)
        strcat(many, "58=a|");
    len = make_msg(m, many);
    expect_bad(m, len, 0, "more than");
}

/* RawData (96) is sized by RawDataLength (95) and may hold SOH. */
static void raw_data_uses_its_length(void **state)
{
    (void)state;
    char m[512];
    size_t len = make_msg(m, "35=A|95=5|96=a|b=c|553=u|");
    ht_fix_msg msg;
    size_t used;
    ht_error err;
    assert_int_equal(ht_fix_parse(m, len, 0, &msg, &used, &err), HT_FIX_PARSE_OK);
    size_t vlen;
    const char *v = ht_fix_get(&msg, HT_TAG_RAW_DATA, &vlen);
    assert_int_equal(vlen, 5);
    assert_memory_equal(v, "a\001b=c", 5);
    assert_true(ht_fix_field_is(&msg, HT_TAG_USERNAME, "u"));
    len = make_msg(m, "35=A|95=50|96=short|");
    ht_fix_msg msg2;
    assert_int_equal(ht_fix_parse(m, len, 0, &msg2, &used, &err), HT_FIX_PARSE_BAD);
}

static void redact_hides_password_and_raw_data(void **state)
{
    (void)state;
    char m[512];
    size_t len = make_msg(m, "35=A|96=1700000000000.nonce|553=user|554=c2VjcmV0cGFzcw==|9001=Y|");
    char out[512];
    ht_fix_redact(m, len, out, sizeof out);
    assert_null(strstr(out, "c2VjcmV0cGFzcw=="));
    assert_null(strstr(out, "nonce"));
    assert_non_null(strstr(out, "554=***|"));
    assert_non_null(strstr(out, "553=user|"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_round_trip),
        cmocka_unit_test(time_format_matches_libc),
        cmocka_unit_test(nos_fast_path),
        cmocka_unit_test(formatting_matches_printf),
        cmocka_unit_test(malformed_input_is_rejected_with_a_reason),
        cmocka_unit_test(raw_data_uses_its_length),
        cmocka_unit_test(redact_hides_password_and_raw_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

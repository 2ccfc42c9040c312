/* SPDX-License-Identifier: MIT */
/* SHA-256, base64 and CRC-32C against published vectors (FIPS 180-4 examples, RFC 4648, the CRC-32C check
 * value) and against coreutils' sha256sum and base64 on random inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/digest.h"

/* Hex text of a digest. */
static void to_hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    ht_sha256_oneshot(data, len, d);
    to_hex(d, 32, out);
}

/* FIPS 180-2 appendix B / NIST CAVS example vectors. */
static void sha256_published_vectors(void **state)
{
    (void)state;
    char hex[65];
    sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two_blocks, strlen(two_blocks), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* One million 'a', fed in uneven pieces to exercise the partial-block path. */
    ht_sha256 s;
    ht_sha256_init(&s);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        ht_sha256_update(&s, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    ht_sha256_final(&s, d);
    to_hex(d, 32, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* RFC 4648 section 10 test vectors, both directions. */
static void base64_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        assert_int_equal(ht_base64_encode(plain[i], strlen(plain[i]), out), strlen(coded[i]));
        assert_string_equal(out, coded[i]);
        uint8_t back[16];
        long n = ht_base64_decode(coded[i], strlen(coded[i]), back, sizeof back);
        assert_int_equal(n, (long)strlen(plain[i]));
        assert_memory_equal(back, plain[i], (size_t)n);
    }
    uint8_t sink[8];
    assert_int_equal(ht_base64_decode("Zm9", 3, sink, sizeof sink), -1);    /* not a multiple of 4 */
    assert_int_equal(ht_base64_decode("Zm=v", 4, sink, sizeof sink), -1);   /* data after padding */
    assert_int_equal(ht_base64_decode("Zm9v!A==", 8, sink, sizeof sink), -1); /* bad character */
    assert_int_equal(ht_base64_decode("Zm9vYmFy", 8, sink, 5), -1);         /* output too small */
}

static void crc32c_check_value(void **state)
{
    (void)state;
    assert_int_equal(ht_crc32c(0, "123456789", 9), 0xE3069283u);
    /* Continuation equals one pass. */
    uint32_t a = ht_crc32c(ht_crc32c(0, "1234", 4), "56789", 5);
    assert_int_equal(a, 0xE3069283u);
    /* RFC 3720 B.4: 32 bytes of zeros. */
    uint8_t zeros[32] = {0};
    assert_int_equal(ht_crc32c(0, zeros, 32), 0x8A9136AAu);
}

/* CRC-32C bit by bit (reflected polynomial 0x82F63B78), as RFC 3720 B.4 defines it: the reference for every length
 * and split, whichever way ht_crc32c computes (the SSE4.2 instruction 8 bytes at a time, or the table). */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static void crc32c_matches_the_bitwise_definition(void **state)
{
    (void)state;
    uint8_t data[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof data; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    for (size_t len = 0; len <= sizeof data; len++) {
        assert_int_equal(ht_crc32c(0, data, len), crc32c_bitwise(0, data, len));
        size_t split = len / 3;
        assert_int_equal(ht_crc32c(ht_crc32c(0, data, split), data + split, len - split), crc32c_bitwise(0, data, len));
        assert_int_equal(ht_crc32c(0, data + 1, len ? len - 1 : 0), crc32c_bitwise(0, data + 1, len ? len - 1 : 0));
    }
}

/* Runs a shell command on a file and reads its first line. */
static int run_tool(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(out, (int)cap, p))
        out[0] = '\0';
    int rc = pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return rc;
}

/* Random inputs of many lengths agree with coreutils' sha256sum and base64 -w0. */
static void agrees_with_coreutils(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/random.bin";
    srand(12345);
    for (size_t len = 0; len < 300; len += 37) {
        uint8_t data[300];
        for (size_t i = 0; i < len; i++)
            data[i] = (uint8_t)rand();
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(data, 1, len, f);
        fclose(f);
        char expect[1024], got[1024];
        assert_int_equal(run_tool("sha256sum " HT_TEST_TMPDIR "/random.bin", expect, sizeof expect), 0);
        sha256_hex(data, len, got);
        assert_memory_equal(expect, got, 64);
        assert_int_equal(run_tool("base64 -w0 " HT_TEST_TMPDIR "/random.bin", expect, sizeof expect), 0);
        ht_base64_encode(data, len, got);
        assert_string_equal(expect, got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_published_vectors),
        cmocka_unit_test(base64_rfc4648_vectors),
        cmocka_unit_test(crc32c_check_value),
        cmocka_unit_test(crc32c_matches_the_bitwise_definition),
        cmocka_unit_test(agrees_with_coreutils),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

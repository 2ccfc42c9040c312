/* SPDX-License-Identifier: MIT */
/* The SPSC ring between the engine's halves: records of every size arrive whole and in order across two threads,
 * through many wraps of a small ring; a full ring refuses instead of overwriting; staged records stay invisible
 * until published. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/pipe_synth.h"
#include "hedgetrig/spsc.h"

#define RECORDS 200000u

/* The bytes of record k: its length from a hash, then k and a pattern. */
static size_t record_len(uint64_t k, size_t max)
{
    ht_rng r = {k * 0x9E3779B97F4A7C15ull};
    return 8 + (size_t)(ht_rng_next(&r) % (max - 8));
}

/* Fills record k. */
static void fill(uint8_t *p, size_t len, uint64_t k)
{
    memcpy(p, &k, 8);
    for (size_t i = 8; i < len; i++)
        p[i] = (uint8_t)(k * 31 + i);
}

/* The producer thread: every record, spinning while the ring is full. */
static void *producer(void *arg)
{
    ht_spsc *r = arg;
    size_t max = ht_spsc_max_record(r) < 1000 ? ht_spsc_max_record(r) : 1000;
    for (uint64_t k = 0; k < RECORDS; k++) {
        size_t len = record_len(k, max);
        void *p;
        while ((p = ht_spsc_reserve(r, len)) == NULL)
            sched_yield(); /* the other thread may share this core (CI, sanitizers): let it run */
        fill(p, len, k);
        if (k % 3 == 0) {
            ht_spsc_stage(r);
            if (k % 9 == 0)
                ht_spsc_publish(r);
        } else {
            ht_spsc_commit(r);
        }
    }
    ht_spsc_publish(r);
    return NULL;
}

/* Two threads through a 4 KiB ring: every record whole and in order. */
static void test_two_threads(void **state)
{
    (void)state;
    ht_error err;
    ht_spsc *r = ht_spsc_create(4096, &err);
    assert_non_null(r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
    size_t max = ht_spsc_max_record(r) < 1000 ? ht_spsc_max_record(r) : 1000;
    uint8_t want[1024];
    for (uint64_t k = 0; k < RECORDS; k++) {
        size_t len;
        const uint8_t *p;
        while ((p = ht_spsc_peek(r, &len)) == NULL)
            sched_yield();
        size_t expect = record_len(k, max);
        assert_int_equal(len, expect);
        fill(want, expect, k);
        assert_memory_equal(p, want, expect);
        ht_spsc_release(r);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    size_t len;
    assert_null(ht_spsc_peek(r, &len));
    assert_int_equal(ht_spsc_used(r), 0);
    ht_spsc_destroy(r);
}

/* A full ring refuses; staged records are invisible until published; bad sizes are refused. */
static void test_full_and_staged(void **state)
{
    (void)state;
    ht_error err;
    assert_null(ht_spsc_create(1000, &err));
    ht_spsc *r = ht_spsc_create(4096, &err);
    assert_non_null(r);
    assert_null(ht_spsc_reserve(r, 0));
    assert_null(ht_spsc_reserve(r, ht_spsc_max_record(r) + 1));
    unsigned n = 0;
    void *p;
    while ((p = ht_spsc_reserve(r, 100)) != NULL) {
        memset(p, (int)n, 100);
        ht_spsc_stage(r);
        n++;
    }
    assert_int_equal(n, 4096 / 112); /* 8-byte header + 104 bytes of record each */
    size_t len;
    assert_null(ht_spsc_peek(r, &len));
    ht_spsc_publish(r);
    for (unsigned k = 0; k < n; k++) {
        const uint8_t *q = ht_spsc_peek(r, &len);
        assert_non_null(q);
        assert_int_equal(len, 100);
        assert_int_equal(q[99], (uint8_t)k);
        ht_spsc_release(r);
    }
    assert_null(ht_spsc_peek(r, &len));
    ht_spsc_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_full_and_staged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

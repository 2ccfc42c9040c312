/* SPDX-License-Identifier: MIT */
/* The journal's two modes (write: one pwritev per record; mmap: records copied into a pre-extended shared mapping,
 * magic last) and the reader that takes both layouts: a last record cut at every byte, with and without the zero
 * room of an mmap journal after it; a record that was never published; reopen and append after either; hostile
 * files (zeros with data behind them); growth of the mapping off and on the append path; refused combinations. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/journal.h"

#define ROOM 8192 /* zero bytes after the records in the "mmap layout" files made here */

/* What a replay saw. */
typedef struct seen {
    int n;
    char text[64][48];
} seen;

static int collect(void *user, uint8_t type, const uint8_t *payload, uint32_t len, uint64_t offset, ht_error *err)
{
    (void)type;
    (void)offset;
    (void)err;
    seen *s = user;
    if (s->n < 64)
        snprintf(s->text[s->n++], sizeof s->text[0], "%.*s", (int)len, (const char *)payload);
    return 0;
}

static ht_journal *open_mode(const char *path, ht_journal_mode mode, ht_journal_tail tail, seen *s,
                             ht_journal_report *rep, ht_error *err)
{
    ht_journal_options opt = {HT_JOURNAL_FSYNC_NEVER, 0, tail, mode};
    if (s)
        memset(s, 0, sizeof *s);
    return ht_journal_open_with(path, &opt, s ? collect : NULL, s, rep, err);
}

/* Writes the three records "alpha", "bravo", "charlie-the-third" through a journal in mode; returns the file's bytes
 * (closed: an mmap journal is cut to its records on close) in buf, their count in *len and the last record's offset
 * in *last. */
static void write_three(const char *path, ht_journal_mode mode, uint8_t *buf, size_t *len, size_t *last)
{
    unlink(path);
    ht_error err;
    ht_journal *j = open_mode(path, mode, HT_JOURNAL_TAIL_REFUSE, NULL, NULL, &err);
    assert_non_null(j);
    assert_true(ht_journal_append(j, 1, "alpha", 5, NULL, 0, &err) == 0);
    assert_true(ht_journal_append(j, 2, "bra", 3, "vo", 2, &err) == HT_JOURNAL_HEADER_BYTES + 5);
    int64_t at = ht_journal_append(j, 3, "charlie-the-third", 17, NULL, 0, &err);
    assert_true(at == 2 * HT_JOURNAL_HEADER_BYTES + 10);
    char back[24] = {0};
    assert_int_equal(ht_journal_read_payload(j, (uint64_t)at, back, 17, &err), 0);
    assert_string_equal(back, "charlie-the-third");
    ht_journal_close(j);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    assert_int_equal(*len, (size_t)at + HT_JOURNAL_HEADER_BYTES + 17); /* no zero room left after a clean close */
    *last = (size_t)at;
}

/* Writes bytes[0..len) then zeros zero_bytes long to path. */
static void put_file(const char *path, const uint8_t *bytes, size_t len, size_t zero_bytes)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    static const uint8_t zeros[ROOM];
    assert_true(zero_bytes <= sizeof zeros);
    assert_int_equal(fwrite(zeros, 1, zero_bytes, f), zero_bytes);
    fclose(f);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* Both writers make the same bytes: the layout on disk does not depend on the mode. */
static void both_modes_write_the_same_records(void **state)
{
    (void)state;
    static uint8_t a[4096], b[4096];
    size_t la, lb, last_a, last_b;
    write_three(HT_TEST_TMPDIR "/jm_same", HT_JOURNAL_MODE_WRITE, a, &la, &last_a);
    write_three(HT_TEST_TMPDIR "/jm_same", HT_JOURNAL_MODE_MMAP, b, &lb, &last_b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
}

/* The last record cut at every byte, in the write layout (the file ends there) and the mmap layout (zeros follow, as
 * in a pre-extended file): nothing cut (0 bytes of it) is a clean end with two records; any other cut is refused
 * naming record 3 and its offset, and cut back to two records with journal_tail = truncate. Opened by both modes. */
static void last_record_cut_at_every_byte_is_detected(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/jm_cut";
    static uint8_t buf[4096];
    size_t len, last;
    write_three(path, HT_JOURNAL_MODE_MMAP, buf, &len, &last);
    char where[64];
    snprintf(where, sizeof where, "record 3 at offset %zu", last);
    for (int layout = 0; layout < 2; layout++) {
        for (int mode = 0; mode < 2; mode++) {
            for (size_t k = 0; k < len - last; k++) {
                put_file(path, buf, last + k, layout ? ROOM : 0);
                seen s;
                ht_journal_report rep;
                ht_error err;
                ht_journal *j = open_mode(path, (ht_journal_mode)mode, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err);
                if (k == 0) {
                    assert_non_null(j);
                    assert_int_equal(s.n, 2);
                    assert_int_equal(rep.zero_tail_bytes, layout ? ROOM : 0);
                    ht_journal_close(j);
                    continue;
                }
                if (j)
                    fail_msg("layout %d mode %d: a last record cut after %zu bytes was accepted", layout, mode, k);
                assert_non_null(strstr(err.msg, where));
                j = open_mode(path, (ht_journal_mode)mode, HT_JOURNAL_TAIL_TRUNCATE, &s, &rep, &err);
                assert_non_null(j);
                assert_int_equal(s.n, 2);
                assert_int_equal(rep.dropped_bytes, k + (layout ? ROOM : 0));
                assert_int_equal(ht_journal_size(j), last);
                ht_journal_close(j);
                assert_int_equal(file_size(path), (off_t)last);
            }
        }
    }
}

/* An mmap append stopped before its magic (any prefix of the rest of the record, magic zero, zeros after) was never
 * published, so never acted on: the reader drops it and says so, and the next append takes its place whole. */
static void unpublished_record_is_dropped_and_overwritten(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/jm_unpub";
    static uint8_t buf[4096], file[4096];
    size_t len, last;
    write_three(path, HT_JOURNAL_MODE_WRITE, buf, &len, &last);
    for (size_t k = 5; k <= len - last; k++) {
        memcpy(file, buf, last + k);
        memset(file + last, 0, 4); /* the magic is stored last */
        put_file(path, file, last + k, ROOM);
        for (int mode = 0; mode < 2; mode++) {
            if (mode == 1)
                put_file(path, file, last + k, ROOM);
            seen s;
            ht_journal_report rep;
            ht_error err;
            ht_journal *j = open_mode(path, (ht_journal_mode)mode, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err);
            if (!j)
                fail_msg("cut %zu mode %d: %s", k, mode, err.msg);
            assert_int_equal(s.n, 2);
            assert_true(rep.unpublished_bytes > 0 && rep.unpublished_bytes <= k);
            assert_int_equal(rep.good_bytes, last);
            assert_int_equal(ht_journal_append(j, 4, "delta", 5, NULL, 0, &err), (int64_t)last);
            ht_journal_close(j);
            j = open_mode(path, HT_JOURNAL_MODE_WRITE, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err);
            assert_non_null(j);
            assert_int_equal(s.n, 3);
            assert_string_equal(s.text[2], "delta");
            assert_int_equal(rep.unpublished_bytes, 0);
            ht_journal_close(j);
        }
    }
}

/* One round of reopen_appends_after_the_last_record: opens the journal in mode, checks it holds records 0..round-1,
 * appends record round. 0, or the number of the check that failed. */
static int reopen_round(const char *path, ht_journal_mode mode, int round, bool crash)
{
    ht_error err;
    seen s;
    ht_journal_report rep;
    char text[48];
    ht_journal *j = open_mode(path, mode, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err);
    if (!j || s.n != round)
        return 1;
    for (int i = 0; i < round; i++) {
        snprintf(text, sizeof text, "record %d", i);
        if (strcmp(s.text[i], text) != 0)
            return 2;
    }
    snprintf(text, sizeof text, "record %d", round);
    if (ht_journal_append(j, 2, text, strlen(text), NULL, 0, &err) != (int64_t)rep.good_bytes)
        return 3;
    if (crash) {
        /* As a killed process leaves it: the mapping's zero room still in the file. */
        struct stat st;
        return stat(path, &st) != 0 || st.st_size % HT_JOURNAL_MMAP_CHUNK_BYTES != 0 ? 4 : 0;
    }
    ht_journal_close(j);
    return 0;
}

/* Reopened on a zero tail (an mmap journal whose process was killed), either mode appends right after the last
 * record; and after a clean close too. */
static void reopen_appends_after_the_last_record(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/jm_reopen";
    unlink(path);
    for (int round = 0; round < 8; round++) {
        ht_journal_mode mode = round % 2 ? HT_JOURNAL_MODE_MMAP : HT_JOURNAL_MODE_WRITE;
        bool crash = mode == HT_JOURNAL_MODE_MMAP && round % 4 == 1;
        if (!crash) {
            assert_int_equal(reopen_round(path, mode, round, false), 0);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0)
            _exit(reopen_round(path, mode, round, true)); /* no close: the process ends with the mapping */
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("round %d: the child failed check %d", round, WEXITSTATUS(status));
    }
}

/* Zeros followed by data that no unpublished record explains is not an end: refused, or cut when asked. */
static void hostile_zero_gaps_are_refused(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/jm_hostile";
    static uint8_t buf[4096], file[ROOM];
    size_t len, last;
    write_three(path, HT_JOURNAL_MODE_WRITE, buf, &len, &last);
    memset(file, 0, sizeof file);
    memcpy(file, buf, last);
    file[last + 200] = 1; /* a zero record start, then a byte past the longest record its (zero) length allows */
    put_file(path, file, sizeof file, 0);
    ht_error err;
    seen s;
    ht_journal_report rep;
    assert_null(open_mode(path, HT_JOURNAL_MODE_MMAP, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err));
    assert_non_null(strstr(err.msg, "zero magic"));
    assert_non_null(strstr(err.msg, "record 3"));
    /* A zero magic with a length over the limit. */
    memset(file + last, 0, sizeof file - last);
    file[last + 7] = 0x7f;
    file[last + 20] = 1;
    put_file(path, file, sizeof file, 0);
    assert_null(open_mode(path, HT_JOURNAL_MODE_WRITE, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err));
    assert_non_null(strstr(err.msg, "zero magic"));
    ht_journal *j = open_mode(path, HT_JOURNAL_MODE_MMAP, HT_JOURNAL_TAIL_TRUNCATE, &s, &rep, &err);
    assert_non_null(j);
    assert_int_equal(s.n, 2);
    assert_int_equal(rep.dropped_bytes, sizeof file - last);
    ht_journal_close(j);
    /* Three zero bytes then one that is not: not a zero tail either. */
    memcpy(file, buf, last);
    memset(file + last, 0, 4);
    file[last + 3] = 9;
    put_file(path, file, last + 4, 0);
    assert_null(open_mode(path, HT_JOURNAL_MODE_WRITE, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err));
    assert_non_null(strstr(err.msg, "record 3"));
}

/* The mapping grows at ticks when less than a chunk is left; an append that outruns the ticks grows it itself
 * (counted); the records stay readable across the moves. */
static void mapping_grows_off_the_append_path(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/jm_grow";
    unlink(path);
    ht_error err;
    ht_journal *j = open_mode(path, HT_JOURNAL_MODE_MMAP, HT_JOURNAL_TAIL_REFUSE, NULL, NULL, &err);
    assert_non_null(j);
    static char record[4000];
    memset(record, 'r', sizeof record);
    size_t per_chunk = HT_JOURNAL_MMAP_CHUNK_BYTES / (sizeof record + HT_JOURNAL_HEADER_BYTES);
    for (size_t i = 0; i < 3 * per_chunk; i++) { /* a tick after every record: never short of room */
        assert_true(ht_journal_append(j, 2, record, sizeof record, NULL, 0, &err) >= 0);
        ht_journal_tick(j, 0);
    }
    ht_journal_stats st;
    ht_journal_stats_get(j, &st);
    assert_true(st.grows >= 2);
    assert_int_equal(st.grows_inline, 0);
    assert_true(st.mapped_bytes - ht_journal_size(j) >= HT_JOURNAL_MMAP_CHUNK_BYTES);
    for (size_t i = 0; i < 3 * per_chunk; i++) /* no tick: the appends must grow the file themselves */
        assert_true(ht_journal_append(j, 2, record, sizeof record, NULL, 0, &err) >= 0);
    ht_journal_stats_get(j, &st);
    assert_true(st.grows_inline >= 1);
    char back[8];
    assert_int_equal(ht_journal_read_payload(j, 0, back, sizeof back, &err), 0);
    assert_memory_equal(back, "rrrrrrrr", 8);
    assert_int_equal(ht_journal_read_payload(j, ht_journal_size(j), back, 1, &err), -1);
    uint64_t size = ht_journal_size(j);
    ht_journal_close(j);
    seen s;
    ht_journal_report rep;
    j = open_mode(path, HT_JOURNAL_MODE_WRITE, HT_JOURNAL_TAIL_REFUSE, &s, &rep, &err);
    assert_non_null(j);
    assert_int_equal(rep.records, 6 * per_chunk);
    assert_int_equal(rep.good_bytes, size);
    ht_journal_close(j);
}

/* mmap with an fsync per record is refused (it would put a syscall per order back), naming both keys; mmap with the
 * interval policy syncs at the tick. */
static void mmap_refuses_fsync_always(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/jm_always";
    unlink(path);
    ht_error err;
    ht_journal_options opt = {HT_JOURNAL_FSYNC_ALWAYS, 0, HT_JOURNAL_TAIL_REFUSE, HT_JOURNAL_MODE_MMAP};
    assert_null(ht_journal_open_with(path, &opt, NULL, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "journal_fsync = always needs journal_mode = write"));
    opt.fsync = HT_JOURNAL_FSYNC_INTERVAL;
    opt.interval_ms = 1;
    ht_journal *j = ht_journal_open_with(path, &opt, NULL, NULL, NULL, &err);
    assert_non_null(j);
    assert_true(ht_journal_append(j, 2, "x", 1, NULL, 0, &err) == 0);
    ht_journal_stats st;
    ht_journal_stats_get(j, &st);
    assert_int_equal(st.syncs, 0);
    usleep(2000);
    ht_journal_tick(j, UINT64_MAX / 2);
    ht_journal_stats_get(j, &st);
    assert_int_equal(st.syncs, 1);
    ht_journal_close(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_modes_write_the_same_records),
        cmocka_unit_test(last_record_cut_at_every_byte_is_detected),
        cmocka_unit_test(unpublished_record_is_dropped_and_overwritten),
        cmocka_unit_test(reopen_appends_after_the_last_record),
        cmocka_unit_test(hostile_zero_gaps_are_refused),
        cmocka_unit_test(mapping_grows_off_the_append_path),
        cmocka_unit_test(mmap_refuses_fsync_always),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

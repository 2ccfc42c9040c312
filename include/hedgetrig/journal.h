/* SPDX-License-Identifier: MIT */
/* Append-only journal of checksummed records: what the gateway needs to resume a FIX session after a crash. */
#ifndef HEDGETRIG_JOURNAL_H
#define HEDGETRIG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

/* Record layout on disk (little-endian), docs/gateway.md "Journal format":
 *   u32 magic 0x314A5448 ("HTJ1")  u32 payload_len  u32 crc32c(type byte + payload)  u8 type  payload
 * A record that runs past the end of the file or whose CRC does not match ends the trusted part. */
#define HT_JOURNAL_MAGIC 0x314A5448u
#define HT_JOURNAL_HEADER_BYTES 13
#define HT_JOURNAL_MAX_PAYLOAD (1u << 20)

/* When records reach the disk. */
typedef enum ht_journal_fsync {
    HT_JOURNAL_FSYNC_NEVER = 0,  /* the kernel decides (survives a process crash, not a power cut) */
    HT_JOURNAL_FSYNC_ALWAYS,     /* fdatasync after every record */
    HT_JOURNAL_FSYNC_INTERVAL,   /* fdatasync from ht_journal_tick at most every interval_ms */
} ht_journal_fsync;

/* How records reach the file (docs/gateway.md "Journal modes"). Both write the same records; the reader takes both. */
typedef enum ht_journal_mode {
    HT_JOURNAL_MODE_WRITE = 0, /* one pwritev per record (a syscall on every append) */
    HT_JOURNAL_MODE_MMAP,      /* records copied into a shared mapping of the file, pre-extended in chunks of
                                * HT_JOURNAL_MMAP_CHUNK_BYTES and grown, prefaulted and synced off the append path
                                * (ht_journal_tick); the magic is stored last, so a record is there whole or not at
                                * all after a process crash. FSYNC_ALWAYS is refused (it would put the syscall back). */
} ht_journal_mode;

/* The mmap journal keeps at least this much room mapped past its end (a chunk, bigger than any record). */
#define HT_JOURNAL_MMAP_CHUNK_BYTES (4u << 20)

/* What to do with a truncated or corrupt tail found when opening. */
typedef enum ht_journal_tail {
    HT_JOURNAL_TAIL_REFUSE = 0,  /* fail to open, naming the record and offset */
    HT_JOURNAL_TAIL_TRUNCATE,    /* cut the file at the last good record and say so in the open report */
} ht_journal_tail;

/* What opening found. */
typedef struct ht_journal_report {
    uint64_t records;        /* good records replayed */
    uint64_t good_bytes;     /* length of the trusted part */
    uint64_t dropped_bytes;  /* bytes cut from a bad tail (HT_JOURNAL_TAIL_TRUNCATE) */
    uint64_t zero_tail_bytes;   /* zero bytes after the last record (an mmap journal's pre-extended room), dropped */
    uint64_t unpublished_bytes; /* a record whose magic was never stored (a process stopped while copying it into
                                 * an mmap journal: it was never sent, write-ahead), dropped with the zero tail */
    char warning[256];       /* non-empty when a tail was cut: what was wrong and where */
} ht_journal_report;

/* How to open a journal (ht_journal_open_with). */
typedef struct ht_journal_options {
    ht_journal_fsync fsync;  /* see ht_journal_fsync */
    uint32_t interval_ms;    /* 1..60000 for HT_JOURNAL_FSYNC_INTERVAL */
    ht_journal_tail tail;    /* what to do with a bad tail */
    ht_journal_mode mode;    /* how appends reach the file (FSYNC_ALWAYS needs HT_JOURNAL_MODE_WRITE) */
} ht_journal_options;

/* What a journal has done since it was opened. */
typedef struct ht_journal_stats {
    ht_journal_mode mode;
    uint64_t mapped_bytes;   /* the file's pre-extended length (mmap mode; 0 in write mode) */
    uint64_t grows;          /* times the mapping was grown by ht_journal_tick (off the append path) */
    uint64_t grows_inline;   /* times an append had to grow it itself (a syscall on the append path: more than a
                              * chunk was appended between two ticks) */
    uint64_t syncs;          /* fdatasync / msync calls that wrote something */
} ht_journal_stats;

/* Called once per good record when opening, in file order. offset is the record's file offset.
 * A non-zero return stops the open with that failure (the callback should fill err). */
typedef int (*ht_journal_replay_fn)(void *user, uint8_t type, const uint8_t *payload, uint32_t len, uint64_t offset,
                                    ht_error *err);

typedef struct ht_journal ht_journal;

/* Opens (creating with mode 0600 if absent) the journal at path, replays its good records through replay
 * (may be NULL) and positions for appending after the last one (a zero tail or an unpublished record after it is
 * dropped: see ht_journal_report).
 * opt: fsync policy, interval, tail and mode (ht_journal_options). report (may be NULL) receives counts and any
 * warning. Returns NULL with err naming the path, the record number and offset, and what was wrong. */
ht_journal *ht_journal_open_with(const char *path, const ht_journal_options *opt, ht_journal_replay_fn replay,
                                 void *user, ht_journal_report *report, ht_error *err);

/* ht_journal_open_with in HT_JOURNAL_MODE_WRITE. */
ht_journal *ht_journal_open(const char *path, ht_journal_fsync fsync_policy, uint32_t interval_ms, ht_journal_tail tail,
                            ht_journal_replay_fn replay, void *user, ht_journal_report *report, ht_error *err);

/* Appends one record made of head[0..head_len) followed by body[0..body_len) (either may be empty), with
 * one write (write mode) or copied into the mapping (mmap mode: no syscall unless more than a chunk was appended
 * since the last ht_journal_tick). Returns the record's file offset, or -1 with err set (the journal is then unusable: the
 * caller must stop sending). */
int64_t ht_journal_append(ht_journal *j, uint8_t type, const void *head, size_t head_len, const void *body,
                          size_t body_len, ht_error *err);

/* Reads len payload bytes of the record at offset (as returned by append or replay) into out. 0 or -1. */
int ht_journal_read_payload(ht_journal *j, uint64_t offset, void *out, size_t len, ht_error *err);

/* The journal's work off the append path (call from the event loop with a monotonic time): the INTERVAL fsync
 * policy, and in mmap mode growing the file and mapping when less than a chunk is left and prefaulting the pages the
 * next appends will write. */
void ht_journal_tick(ht_journal *j, uint64_t mono_ns);

/* Counters and the mapping's size. */
void ht_journal_stats_get(const ht_journal *j, ht_journal_stats *stats);

/* "write" or "mmap". */
const char *ht_journal_mode_name(ht_journal_mode mode);

/* Forces records to disk now. 0 or -1. */
int ht_journal_sync(ht_journal *j, ht_error *err);

/* Bytes in the file. */
uint64_t ht_journal_size(const ht_journal *j);

/* Syncs (unless the policy is NEVER) and closes; an mmap journal's file is cut to its last record (the layout of a
 * write journal). NULL is ignored. */
void ht_journal_close(ht_journal *j);

#endif

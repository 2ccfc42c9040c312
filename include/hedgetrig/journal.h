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
    char warning[256];       /* non-empty when a tail was cut: what was wrong and where */
} ht_journal_report;

/* Called once per good record when opening, in file order. offset is the record's file offset.
 * A non-zero return stops the open with that failure (the callback should fill err). */
typedef int (*ht_journal_replay_fn)(void *user, uint8_t type, const uint8_t *payload, uint32_t len, uint64_t offset,
                                    ht_error *err);

typedef struct ht_journal ht_journal;

/* Opens (creating with mode 0600 if absent) the journal at path, replays its good records through replay
 * (may be NULL) and positions for appending.
 * fsync_policy / interval_ms: see ht_journal_fsync (interval_ms 1..60000 for INTERVAL).
 * tail: what to do with a bad tail. report (may be NULL) receives counts and any warning.
 * Returns NULL with err naming the path, the record number and offset, and what was wrong. */
ht_journal *ht_journal_open(const char *path, ht_journal_fsync fsync_policy, uint32_t interval_ms, ht_journal_tail tail,
                            ht_journal_replay_fn replay, void *user, ht_journal_report *report, ht_error *err);

/* Appends one record made of head[0..head_len) followed by body[0..body_len) (either may be empty), with
 * one write. Returns the record's file offset, or -1 with err set (the journal is then unusable: the
 * caller must stop sending). */
int64_t ht_journal_append(ht_journal *j, uint8_t type, const void *head, size_t head_len, const void *body,
                          size_t body_len, ht_error *err);

/* Reads len payload bytes of the record at offset (as returned by append or replay) into out. 0 or -1. */
int ht_journal_read_payload(ht_journal *j, uint64_t offset, void *out, size_t len, ht_error *err);

/* Runs the INTERVAL fsync policy (call from the event loop with a monotonic time). */
void ht_journal_tick(ht_journal *j, uint64_t mono_ns);

/* Forces records to disk now. 0 or -1. */
int ht_journal_sync(ht_journal *j, ht_error *err);

/* Bytes in the file. */
uint64_t ht_journal_size(const ht_journal *j);

/* Syncs (unless the policy is NEVER) and closes. NULL is ignored. */
void ht_journal_close(ht_journal *j);

#endif

/* SPDX-License-Identifier: MIT */
/* A lock-free single-producer single-consumer ring of variable-length records (one thread writes, one reads). */
#ifndef HEDGETRIG_SPSC_H
#define HEDGETRIG_SPSC_H

/*
 * Producer:  void *p = ht_spsc_reserve(r, len);  if (p) { fill p[0..len); ht_spsc_commit(r); }  (NULL: full)
 * Consumer:  size_t len; const void *p = ht_spsc_peek(r, &len);  if (p) { use p; ht_spsc_release(r); }
 * Records are 8-byte aligned and contiguous (a record never wraps: the producer skips the end of the buffer).
 * No call allocates, locks or makes a system call; the head and tail live on separate cache lines.
 */

#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

typedef struct ht_spsc ht_spsc;

/* Creates a ring of bytes (a power of two, 2^12..2^30). NULL with err on a bad size or no memory. */
ht_spsc *ht_spsc_create(size_t bytes, ht_error *err);
void ht_spsc_destroy(ht_spsc *r);

/* The largest record the ring takes (a quarter of its size). */
size_t ht_spsc_max_record(const ht_spsc *r);

/* Producer: room for a record of len bytes (1..ht_spsc_max_record), or NULL when the ring is full now. */
void *ht_spsc_reserve(ht_spsc *r, size_t len);
/* Producer: publishes the record reserved last (and any staged before it). */
void ht_spsc_commit(ht_spsc *r);
/* Producer: completes the record reserved last without publishing it yet (fewer cache-line transfers for a
 * burst of records); ht_spsc_publish or the next ht_spsc_commit makes every staged record visible. */
void ht_spsc_stage(ht_spsc *r);
void ht_spsc_publish(ht_spsc *r);

/* Consumer: the oldest record and its length, or NULL when the ring is empty. */
const void *ht_spsc_peek(ht_spsc *r, size_t *len);
/* Consumer: frees the record peeked last. */
void ht_spsc_release(ht_spsc *r);

/* Bytes in use now (approximate when called from a third thread). */
size_t ht_spsc_used(const ht_spsc *r);

#endif

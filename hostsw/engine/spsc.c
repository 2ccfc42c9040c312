/* SPDX-License-Identifier: MIT */
/* Lock-free SPSC ring of variable-length records: C11 acquire/release on a head and a tail counter. */
#include "hedgetrig/spsc.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE 64
#define RECORD_HEADER 8u
#define SKIP_FLAG 0x80000000u

struct ht_spsc {
    alignas(CACHE_LINE) _Atomic uint64_t head; /* producer: bytes published */
    uint64_t head_local;                       /* producer: bytes written (staged ones included) */
    uint64_t tail_cache;                       /* producer's last view of tail */
    uint64_t reserved_end;                     /* producer: head after the reserved record */
    uint32_t reserved_len;
    alignas(CACHE_LINE) _Atomic uint64_t tail; /* consumer: bytes read */
    uint64_t head_cache;                       /* consumer's last view of head */
    uint64_t peeked_end;                       /* consumer: tail after the peeked record */
    alignas(CACHE_LINE) size_t size;
    size_t mask;
    uint8_t *buf;
};

/* Rounds n up to a multiple of 8. */
static size_t align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

ht_spsc *ht_spsc_create(size_t bytes, ht_error *err)
{
    if (bytes < (1u << 12) || bytes > (1u << 30) || (bytes & (bytes - 1)) != 0) {
        ht_error_set(err, "ring: size must be a power of two from 4096 to 2^30 bytes, got %zu", bytes);
        return NULL;
    }
    ht_spsc *r = aligned_alloc(CACHE_LINE, sizeof *r);
    uint8_t *buf = aligned_alloc(CACHE_LINE, bytes);
    if (!r || !buf) {
        free(r);
        free(buf);
        ht_error_set(err, "ring: out of memory for %zu bytes", bytes);
        return NULL;
    }
    memset(r, 0, sizeof *r);
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->size = bytes;
    r->mask = bytes - 1;
    r->buf = buf;
    return r;
}

void ht_spsc_destroy(ht_spsc *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}

size_t ht_spsc_max_record(const ht_spsc *r)
{
    return r->size / 4 - RECORD_HEADER;
}

/* True when the producer can write need more bytes from head (refreshing its view of tail if needed). */
static bool room_for(ht_spsc *r, uint64_t head, size_t need)
{
    if (head + need - r->tail_cache <= r->size)
        return true;
    r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
    return head + need - r->tail_cache <= r->size;
}

void *ht_spsc_reserve(ht_spsc *r, size_t len)
{
    if (len == 0 || len > ht_spsc_max_record(r))
        return NULL;
    uint64_t head = r->head_local;
    size_t need = RECORD_HEADER + align8(len);
    size_t pos = (size_t)(head & r->mask);
    size_t to_end = r->size - pos;
    if (need > to_end) {
        /* The record would wrap: mark the rest of the buffer as skipped and start at offset 0. */
        if (!room_for(r, head, to_end + need))
            return NULL;
        uint32_t skip = (uint32_t)to_end | SKIP_FLAG;
        memcpy(r->buf + pos, &skip, sizeof skip);
        head += to_end;
        r->head_local = head; /* published with the record that follows */
        pos = 0;
    } else if (!room_for(r, head, need)) {
        return NULL;
    }
    uint32_t l = (uint32_t)len;
    memcpy(r->buf + pos, &l, sizeof l);
    r->reserved_end = head + need;
    r->reserved_len = l;
    return r->buf + pos + RECORD_HEADER;
}

void ht_spsc_stage(ht_spsc *r)
{
    r->head_local = r->reserved_end;
}

void ht_spsc_publish(ht_spsc *r)
{
    atomic_store_explicit(&r->head, r->head_local, memory_order_release);
}

void ht_spsc_commit(ht_spsc *r)
{
    ht_spsc_stage(r);
    ht_spsc_publish(r);
}

const void *ht_spsc_peek(ht_spsc *r, size_t *len)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    for (;;) {
        if (tail == r->head_cache) {
            r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
            if (tail == r->head_cache)
                return NULL;
        }
        size_t pos = (size_t)(tail & r->mask);
        uint32_t word;
        memcpy(&word, r->buf + pos, sizeof word);
        if (word & SKIP_FLAG) {
            tail += word & ~SKIP_FLAG;
            atomic_store_explicit(&r->tail, tail, memory_order_release);
            continue;
        }
        *len = word;
        r->peeked_end = tail + RECORD_HEADER + align8(word);
        return r->buf + pos + RECORD_HEADER;
    }
}

void ht_spsc_release(ht_spsc *r)
{
    atomic_store_explicit(&r->tail, r->peeked_end, memory_order_release);
}

size_t ht_spsc_used(const ht_spsc *r)
{
    uint64_t h = atomic_load_explicit(&((ht_spsc *)r)->head, memory_order_acquire);
    uint64_t t = atomic_load_explicit(&((ht_spsc *)r)->tail, memory_order_acquire);
    return (size_t)(h - t);
}

/* SPDX-License-Identifier: MIT */
/* Fixed-capacity open-addressing tables (linear probing, load <= 1/2) sized at create time: u32 -> slot and
 * name -> slot. Nothing allocates after init. Internal to hostsw/feed. */
#ifndef HEDGETRIG_FEED_MAPS_H
#define HEDGETRIG_FEED_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAP_EMPTY UINT32_MAX

/* Smallest power of two >= 2 * capacity (so the table is at most half full). */
static inline uint32_t map_slots_for(uint32_t capacity)
{
    uint32_t n = 16;
    while (n < 2u * capacity)
        n <<= 1;
    return n;
}

/* Fibonacci hash of a 32-bit key. */
static inline uint32_t map_hash_u32(uint32_t key)
{
    return (uint32_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 32);
}

/* FNV-1a hash of a name of len bytes. */
static inline uint32_t name_hash(const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)name[i];
        h *= 16777619u;
    }
    return h;
}

/* ---- u32 key -> u32 slot ---------------------------------------------------------------------------- */

typedef struct u32map {
    uint32_t *keys;
    uint32_t *vals; /* MAP_EMPTY marks a free entry */
    uint32_t mask;
} u32map;

/* Allocates a table for `capacity` keys; 0 on success. */
static inline int u32map_init(u32map *m, uint32_t capacity)
{
    uint32_t n = map_slots_for(capacity);
    m->keys = calloc(n, sizeof *m->keys);
    m->vals = malloc(n * sizeof *m->vals);
    m->mask = n - 1;
    if (!m->keys || !m->vals)
        return -1;
    memset(m->vals, 0xFF, n * sizeof *m->vals);
    return 0;
}

/* Empties the table. */
static inline void u32map_clear(u32map *m)
{
    memset(m->vals, 0xFF, ((size_t)m->mask + 1) * sizeof *m->vals);
}

/* Frees the table. */
static inline void u32map_free(u32map *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
}

/* The value stored for key, or MAP_EMPTY. */
static inline uint32_t u32map_get(const u32map *m, uint32_t key)
{
    uint32_t i = map_hash_u32(key) & m->mask;
    for (;;) {
        uint32_t v = m->vals[i];
        if (v == MAP_EMPTY || m->keys[i] == key)
            return v;
        i = (i + 1) & m->mask;
    }
}

/* Stores key -> val (replacing); the caller keeps the number of keys within the capacity. */
static inline void u32map_put(u32map *m, uint32_t key, uint32_t val)
{
    uint32_t i = map_hash_u32(key) & m->mask;
    while (m->vals[i] != MAP_EMPTY && m->keys[i] != key)
        i = (i + 1) & m->mask;
    m->keys[i] = key;
    m->vals[i] = val;
}

/* ---- name -> u32 slot ----------------------------------------------------------------------------- */

/* Gives the name stored at a slot (the names live with their owner, not in the table). */
typedef const char *(*name_of_fn)(const void *ctx, uint32_t slot, size_t *len);

typedef struct name_map {
    uint32_t *hashes;
    uint32_t *vals; /* MAP_EMPTY marks a free entry */
    uint32_t mask;
    name_of_fn name_of;
    const void *ctx;
} name_map;

/* Allocates a table for `capacity` names; 0 on success. */
static inline int name_map_init(name_map *m, uint32_t capacity, name_of_fn name_of, const void *ctx)
{
    uint32_t n = map_slots_for(capacity);
    m->hashes = calloc(n, sizeof *m->hashes);
    m->vals = malloc(n * sizeof *m->vals);
    m->mask = n - 1;
    m->name_of = name_of;
    m->ctx = ctx;
    if (!m->hashes || !m->vals)
        return -1;
    memset(m->vals, 0xFF, n * sizeof *m->vals);
    return 0;
}

/* Empties the table. */
static inline void name_map_clear(name_map *m)
{
    memset(m->vals, 0xFF, ((size_t)m->mask + 1) * sizeof *m->vals);
}

/* Frees the table. */
static inline void name_map_free(name_map *m)
{
    free(m->hashes);
    free(m->vals);
    m->hashes = m->vals = NULL;
}

/* True when the entry at table index i holds this name. */
static inline bool name_map_matches(const name_map *m, uint32_t i, const char *name, size_t len, uint32_t hash)
{
    if (m->hashes[i] != hash)
        return false;
    size_t have_len;
    const char *have = m->name_of(m->ctx, m->vals[i], &have_len);
    return have_len == len && memcmp(have, name, len) == 0;
}

/* The slot stored for name, or MAP_EMPTY. */
static inline uint32_t name_map_get(const name_map *m, const char *name, size_t len, uint32_t hash)
{
    uint32_t i = hash & m->mask;
    while (m->vals[i] != MAP_EMPTY) {
        if (name_map_matches(m, i, name, len, hash))
            return m->vals[i];
        i = (i + 1) & m->mask;
    }
    return MAP_EMPTY;
}

/* Stores name -> slot (replacing the slot of an equal name); the caller keeps within the capacity. */
static inline void name_map_put(name_map *m, const char *name, size_t len, uint32_t hash, uint32_t slot)
{
    uint32_t i = hash & m->mask;
    while (m->vals[i] != MAP_EMPTY && !name_map_matches(m, i, name, len, hash))
        i = (i + 1) & m->mask;
    m->hashes[i] = hash;
    m->vals[i] = slot;
}

/* Removes the entry of slot (whose name hashed to hash), shifting later entries back so probing still finds them. */
static inline void name_map_remove(name_map *m, uint32_t hash, uint32_t slot)
{
    uint32_t i = hash & m->mask;
    while (m->vals[i] != MAP_EMPTY && !(m->vals[i] == slot && m->hashes[i] == hash))
        i = (i + 1) & m->mask;
    if (m->vals[i] == MAP_EMPTY)
        return;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (m->vals[j] == MAP_EMPTY)
            break;
        uint32_t home = m->hashes[j] & m->mask;
        /* Move entry j into the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            m->hashes[i] = m->hashes[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->vals[i] = MAP_EMPTY;
}

#endif

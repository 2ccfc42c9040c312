/* SPDX-License-Identifier: MIT */
/* Philox4x32-10 counter-based generator (Salmon et al., SC 2011) and per-path streams of uniforms and normals. */
#include <math.h>

#include "hedgetrig/backtest.h"

/* Philox4x32's round multipliers and Weyl key increments, from the paper. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void ht_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round > 0) { /* the key schedule bumps the key before every round but the first */
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        uint64_t p0 = (uint64_t)PHILOX_M0 * x0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * x2;
        uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1 ^ k0;
        uint32_t y1 = (uint32_t)p1;
        uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3 ^ k1;
        uint32_t y3 = (uint32_t)p0;
        x0 = y0;
        x1 = y1;
        x2 = y2;
        x3 = y3;
    }
    out[0] = x0;
    out[1] = x1;
    out[2] = x2;
    out[3] = x3;
}

void ht_bt_rng_init(ht_bt_rng *rng, uint64_t seed, uint64_t stream)
{
    rng->key[0] = (uint32_t)seed;
    rng->key[1] = (uint32_t)(seed >> 32);
    rng->ctr[0] = 0;
    rng->ctr[1] = 0;
    rng->ctr[2] = (uint32_t)stream;
    rng->ctr[3] = (uint32_t)(stream >> 32);
    rng->used = 4;
    rng->has_spare = false;
    rng->spare = 0.0;
}

uint32_t ht_bt_rng_u32(ht_bt_rng *rng)
{
    if (rng->used >= 4) {
        ht_philox4x32_10(rng->ctr, rng->key, rng->buf);
        if (++rng->ctr[0] == 0) /* 64-bit draw counter in ctr[0..1] */
            ++rng->ctr[1];
        rng->used = 0;
    }
    return rng->buf[rng->used++];
}

double ht_bt_rng_uniform(ht_bt_rng *rng)
{
    uint64_t hi = ht_bt_rng_u32(rng) >> 5; /* 27 bits */
    uint64_t lo = ht_bt_rng_u32(rng) >> 6; /* 26 bits */
    /* (k + 0.5) / 2^53 for k in [0, 2^53): strictly inside (0, 1). */
    return ((double)((hi << 26) | lo) + 0.5) * 0x1.0p-53;
}

double ht_bt_rng_normal(ht_bt_rng *rng)
{
    if (rng->has_spare) {
        rng->has_spare = false;
        return rng->spare;
    }
    double u1 = ht_bt_rng_uniform(rng);
    double u2 = ht_bt_rng_uniform(rng);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 2.0 * M_PI * u2;
    rng->spare = radius * sin(angle);
    rng->has_spare = true;
    return radius * cos(angle);
}

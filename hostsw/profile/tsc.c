/* SPDX-License-Identifier: MIT */
/* TSC calibration against the kernel's raw monotonic clock, and the two clocks used off the hot path. */
#include "hedgetrig/tsc.h"

#include <time.h>

static double g_ticks_per_ns;

static uint64_t raw_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double ht_tsc_calibrate(unsigned window_ms)
{
    if (g_ticks_per_ns > 0.0)
        return g_ticks_per_ns;
    if (window_ms == 0)
        window_ms = 20;
    /* Best of three: each brackets the TSC read between two clock reads and keeps the tightest bracket. */
    double best = 0.0;
    for (int round = 0; round < 3; round++) {
        uint64_t ns0 = raw_ns();
        uint64_t t0 = ht_tsc_now();
        uint64_t target = ns0 + (uint64_t)window_ms * 1000000ull / 3u;
        uint64_t ns1;
        do {
            ns1 = raw_ns();
        } while (ns1 < target);
        uint64_t t1 = ht_tsc_now();
        double rate = (double)(t1 - t0) / (double)(ns1 - ns0);
        if (round == 0 || rate < best)
            best = rate;
    }
    g_ticks_per_ns = best > 0.0 ? best : 1.0;
    return g_ticks_per_ns;
}

double ht_tsc_ticks_per_ns(void)
{
    return g_ticks_per_ns > 0.0 ? g_ticks_per_ns : ht_tsc_calibrate(0);
}

uint64_t ht_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ht_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

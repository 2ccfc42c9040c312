/* SPDX-License-Identifier: MIT */
/* Time-stamp counter reads for the hot path, and their calibration to nanoseconds (done once, at start-up). */
#ifndef HEDGETRIG_TSC_H
#define HEDGETRIG_TSC_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
/* Reads the TSC; no serialisation, a few cycles. */
static inline uint64_t ht_tsc_now(void) { return __rdtsc(); }
#else
#include <time.h>
static inline uint64_t ht_tsc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif

/* Measures TSC ticks per nanosecond against CLOCK_MONOTONIC_RAW over about window_ms milliseconds
 * (20 is plenty; 0 picks the default). The result is cached: later calls return it at once. */
double ht_tsc_calibrate(unsigned window_ms);

/* Ticks per ns from the last calibration (calibrating now, with the default window, if never done). */
double ht_tsc_ticks_per_ns(void);

/* Converts a TSC difference to nanoseconds with the calibrated rate. */
static inline double ht_tsc_to_ns(uint64_t ticks)
{
    return (double)ticks / ht_tsc_ticks_per_ns();
}

/* Wall clock in nanoseconds since the Unix epoch (CLOCK_REALTIME): for logs and file names, not the hot path. */
uint64_t ht_wall_ns(void);

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC): for timers off the hot path. */
uint64_t ht_mono_ns(void);

#endif

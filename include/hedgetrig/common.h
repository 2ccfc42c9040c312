/* SPDX-License-Identifier: MIT */
/* Small things every stage uses: branch hints, array length, and the error record bad input fills in. */
#ifndef HEDGETRIG_COMMON_H
#define HEDGETRIG_COMMON_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define HT_LIKELY(x) __builtin_expect(!!(x), 1)
#define HT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HT_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define HT_LIKELY(x) (x)
#define HT_UNLIKELY(x) (x)
#define HT_PRINTF(fmt_idx, arg_idx)
#endif

#define HT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Naming of the API, in every header under include/hedgetrig/ (and the app's own headers):
 *   ht_<module>_<struct>_default(s)    fills a config struct with its defaults and takes nothing else
 *                                      (ht_engine_config_default, ht_gw_config_default, ht_risk_limits_default);
 *   ht_<module>_<thing>_init(x, ...)   sets up a value from its arguments (ht_sbe_writer_init, ht_bt_rng_init);
 *   ht_<module>_create / _destroy      the life cycle of an opaque object;
 *   ht_<module>_stats_get(obj, ...)    reads a module's counters (ht_feed_stats_get, ht_xsim_stats_get). */

/* Exit codes of the hedgetrig binary. */
enum { HT_EXIT_OK = 0, HT_EXIT_FAIL = 1, HT_EXIT_USAGE = 2 };

/* What went wrong, in words that name the input, the offset or line, and what was expected.
 * Functions that can fail on bad input take an ht_error * (which may be NULL) and return non-zero. */
typedef struct ht_error {
    char msg[256];
} ht_error;

/* Formats a message into err (no-op when err is NULL). Returns -1 so callers can `return ht_error_set(...)`. */
int ht_error_set(ht_error *err, const char *fmt, ...) HT_PRINTF(2, 3);

#endif

/* SPDX-License-Identifier: MIT */
/* Latency profiling: log-linear histograms (<= 0.4% relative error from 1 ns to 10 s and beyond) and the
 * per-tick stage timestamps taken at every arrow of the data flow. */
#ifndef HEDGETRIG_PROFILE_H
#define HEDGETRIG_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Histogram ------------------------------------------------------------------------------------
 * Values are non-negative integers (nanoseconds, cycles, or any count). Values below HT_HIST_SUB are kept
 * exactly; above, each power of two is split into HT_HIST_SUB linear buckets, so a reported value is
 * within 1/(2*HT_HIST_SUB) = 0.39% of any value in its bucket. Recording is O(1), allocation-free and
 * lock-free (one writer); the object is a plain struct that can live in static storage or on the heap. */
#define HT_HIST_SUB_BITS 7
#define HT_HIST_SUB (1u << HT_HIST_SUB_BITS)
/* Powers of two covered: values up to 2^HT_HIST_MAX_LOG2 - 1 (about 18 minutes in ns); larger ones are
 * clamped into the last bucket and counted in `clamped`. */
#define HT_HIST_MAX_LOG2 40
#define HT_HIST_BUCKETS ((HT_HIST_MAX_LOG2 - HT_HIST_SUB_BITS + 1) * HT_HIST_SUB)

typedef struct ht_hist {
    uint64_t count;   /* values recorded */
    uint64_t min;     /* exact smallest value (UINT64_MAX when empty) */
    uint64_t max;     /* exact largest value (0 when empty) */
    double sum;       /* for the mean */
    uint64_t clamped; /* values at or above 2^HT_HIST_MAX_LOG2 */
    uint64_t buckets[HT_HIST_BUCKETS];
} ht_hist;

/* Empties h. */
void ht_hist_reset(ht_hist *h);

/* The bucket index of value v (exposed for tests). */
unsigned ht_hist_bucket_of(uint64_t v);

/* The value reported for a bucket: the midpoint of the values it holds (exact below HT_HIST_SUB). */
uint64_t ht_hist_bucket_value(unsigned bucket);

/* Records one value: O(1), no allocation, no syscall. */
static inline void ht_hist_record(ht_hist *h, uint64_t v)
{
    unsigned b = ht_hist_bucket_of(v);
    h->buckets[b]++;
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    if (b == HT_HIST_BUCKETS - 1 && v >= ((uint64_t)1 << HT_HIST_MAX_LOG2))
        h->clamped++;
}

/* The value at quantile q in [0, 1] (q = 0.5 is the median): the smallest bucket value whose cumulative
 * count reaches ceil(q * count); q = 0 gives the exact min and q = 1 the exact max. 0 when empty. */
uint64_t ht_hist_quantile(const ht_hist *h, double q);

/* Mean of the recorded values (0 when empty). */
double ht_hist_mean(const ht_hist *h);

/* Adds every count of src into dst (e.g. per-thread histograms merged for the report). */
void ht_hist_merge(ht_hist *dst, const ht_hist *src);

/* ---- Stage timestamps ----------------------------------------------------------------------------- */

/* The arrows of the data flow where a TSC timestamp is taken, in order. */
typedef enum ht_stage {
    HT_STAGE_RX = 0,        /* packet received (NIC burst, socket, or file read) */
    HT_STAGE_DECODED,       /* SBE message decoded, tick normalised */
    HT_STAGE_PIPE_IN,       /* tick handed to the pipeline backend */
    HT_STAGE_EVENT_OUT,     /* breach event polled from the pipeline */
    HT_STAGE_DECISION,      /* optimizer decided (orders and new band) */
    HT_STAGE_ORDER_ENCODED, /* FIX NewOrderSingle bytes ready */
    HT_STAGE_ORDER_WRITTEN, /* bytes handed to the socket */
    HT_STAGE_COUNT
} ht_stage;

/* Short name of a stage ("rx", "decoded", ...). */
const char *ht_stage_name(ht_stage s);

/* Timestamps of one tick's journey; 0 means "not reached" (e.g. no breach, so no decision). */
typedef struct ht_stamps {
    uint64_t tsc[HT_STAGE_COUNT];
} ht_stamps;

/* The intervals a profile reports: one per consecutive pair of stages, plus end-to-end spans. */
typedef enum ht_span {
    HT_SPAN_RX_TO_DECODED = 0,
    HT_SPAN_DECODED_TO_PIPE_IN,
    HT_SPAN_PIPE,              /* pipe in -> event out (for the verilator backend: cycles at the clock) */
    HT_SPAN_EVENT_TO_DECISION,
    HT_SPAN_DECISION_TO_ENCODED,
    HT_SPAN_ENCODED_TO_WRITTEN,
    HT_SPAN_TICK_TO_ORDER,     /* rx -> order bytes ready: the headline figure */
    HT_SPAN_TICK_TO_WIRE,      /* rx -> order written */
    HT_SPAN_TICK_TO_PIPE_OUT,  /* rx -> pipeline result, for every tick (breach or not) */
    HT_SPAN_COUNT
} ht_span;

/* Name of a span ("rx->decoded", ..., "tick->order"). */
const char *ht_span_name(ht_span s);

/* A set of span histograms in nanoseconds. Large (about HT_SPAN_COUNT * 35 KiB): allocate once. */
typedef struct ht_profile {
    double ns_per_tick; /* TSC conversion, from ht_tsc_ticks_per_ns() at create */
    ht_hist span[HT_SPAN_COUNT];
} ht_profile;

/* Allocates and empties a profile (calibrating the TSC if needed). NULL when out of memory. */
ht_profile *ht_profile_create(void);
void ht_profile_destroy(ht_profile *p);
void ht_profile_reset(ht_profile *p);

/* Records every span whose two ends are stamped. O(HT_SPAN_COUNT), no allocation. */
void ht_profile_record(ht_profile *p, const ht_stamps *st);

/* Records only the spans whose bit (1u << span) is set in span_mask and whose two ends are stamped (a tick's
 * stages recorded by one thread, the rest of its journey by another). */
void ht_profile_record_spans(ht_profile *p, const ht_stamps *st, uint32_t span_mask);

/* Records one value (ns) into one span directly, e.g. a Verilator cycle count converted at its clock. */
void ht_profile_record_span_ns(ht_profile *p, ht_span s, uint64_t ns);

/* Prints a table: span, count, p50, p90, p99, p99.9, max, mean (ns). Empty spans are skipped. */
void ht_profile_print(const ht_profile *p, FILE *out);

/* Writes the same figures as CSV with a header line. */
void ht_profile_write_csv(const ht_profile *p, FILE *out);

/* Writes the figures as one JSON object {"span": {"count":..,"p50":..,...}, ...} (no trailing newline). */
void ht_profile_write_json(const ht_profile *p, FILE *out);

/* Writes a CDF of one histogram as "value_ns cumulative_fraction" lines (one per non-empty bucket),
 * for gnuplot. */
void ht_hist_write_cdf(const ht_hist *h, FILE *out);

#endif

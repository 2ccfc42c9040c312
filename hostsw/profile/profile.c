/* SPDX-License-Identifier: MIT */
/* Log-linear latency histograms and the per-stage span profile built on them. */
#include "hedgetrig/profile.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/tsc.h"

static const char *const g_stage_names[HT_STAGE_COUNT] = {
    "rx", "decoded", "pipe_in", "event_out", "decision", "order_encoded", "order_written",
};

/* Each span: its name and the stages at its two ends. */
static const struct {
    const char *name;
    ht_stage from, to;
} g_spans[HT_SPAN_COUNT] = {
    {"rx->decoded", HT_STAGE_RX, HT_STAGE_DECODED},
    {"decoded->pipe_in", HT_STAGE_DECODED, HT_STAGE_PIPE_IN},
    {"pipe_in->event_out", HT_STAGE_PIPE_IN, HT_STAGE_EVENT_OUT},
    {"event_out->decision", HT_STAGE_EVENT_OUT, HT_STAGE_DECISION},
    {"decision->encoded", HT_STAGE_DECISION, HT_STAGE_ORDER_ENCODED},
    {"encoded->written", HT_STAGE_ORDER_ENCODED, HT_STAGE_ORDER_WRITTEN},
    {"tick->order", HT_STAGE_RX, HT_STAGE_ORDER_ENCODED},
    {"tick->wire", HT_STAGE_RX, HT_STAGE_ORDER_WRITTEN},
    {"tick->pipe_out", HT_STAGE_RX, HT_STAGE_EVENT_OUT},
};

const char *ht_stage_name(ht_stage s)
{
    return (unsigned)s < HT_STAGE_COUNT ? g_stage_names[s] : "?";
}

const char *ht_span_name(ht_span s)
{
    return (unsigned)s < HT_SPAN_COUNT ? g_spans[s].name : "?";
}

void ht_hist_reset(ht_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

unsigned ht_hist_bucket_of(uint64_t v)
{
    if (v < HT_HIST_SUB)
        return (unsigned)v;
    if (v >= ((uint64_t)1 << HT_HIST_MAX_LOG2))
        return HT_HIST_BUCKETS - 1;
    unsigned log2v = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = log2v - HT_HIST_SUB_BITS;
    unsigned sub = (unsigned)(v >> shift) - HT_HIST_SUB;
    return (shift + 1u) * HT_HIST_SUB + sub;
}

uint64_t ht_hist_bucket_value(unsigned bucket)
{
    if (bucket < HT_HIST_SUB)
        return bucket;
    unsigned group = bucket / HT_HIST_SUB; /* >= 1 */
    unsigned sub = bucket % HT_HIST_SUB;
    unsigned shift = group - 1u;
    uint64_t low = (uint64_t)(HT_HIST_SUB + sub) << shift;
    uint64_t width = (uint64_t)1 << shift;
    return low + (width - 1u) / 2u;
}

uint64_t ht_hist_quantile(const ht_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0.0))
        return h->min;
    if (q >= 1.0)
        return h->max;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t cum = 0;
    for (unsigned b = 0; b < HT_HIST_BUCKETS; b++) {
        cum += h->buckets[b];
        if (cum >= rank) {
            uint64_t v = ht_hist_bucket_value(b);
            /* The exact extremes are known: never report outside them. */
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

double ht_hist_mean(const ht_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

void ht_hist_merge(ht_hist *dst, const ht_hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned b = 0; b < HT_HIST_BUCKETS; b++)
        dst->buckets[b] += src->buckets[b];
    dst->count += src->count;
    dst->sum += src->sum;
    dst->clamped += src->clamped;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

void ht_hist_write_cdf(const ht_hist *h, FILE *out)
{
    uint64_t cum = 0;
    for (unsigned b = 0; b < HT_HIST_BUCKETS && h->count; b++) {
        if (!h->buckets[b])
            continue;
        cum += h->buckets[b];
        uint64_t v = ht_hist_bucket_value(b);
        if (v < h->min)
            v = h->min;
        if (v > h->max)
            v = h->max;
        fprintf(out, "%" PRIu64 " %.9f\n", v, (double)cum / (double)h->count);
    }
}

ht_profile *ht_profile_create(void)
{
    ht_profile *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    p->ns_per_tick = 1.0 / ht_tsc_ticks_per_ns();
    ht_profile_reset(p);
    return p;
}

void ht_profile_destroy(ht_profile *p)
{
    free(p);
}

void ht_profile_reset(ht_profile *p)
{
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++)
        ht_hist_reset(&p->span[s]);
}

void ht_profile_record(ht_profile *p, const ht_stamps *st)
{
    ht_profile_record_spans(p, st, (1u << HT_SPAN_COUNT) - 1u);
}

void ht_profile_record_spans(ht_profile *p, const ht_stamps *st, uint32_t span_mask)
{
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++) {
        if (!(span_mask & (1u << s)))
            continue;
        uint64_t a = st->tsc[g_spans[s].from], b = st->tsc[g_spans[s].to];
        if (a == 0 || b == 0)
            continue;
        uint64_t ticks = b >= a ? b - a : 0;
        ht_hist_record(&p->span[s], (uint64_t)((double)ticks * p->ns_per_tick + 0.5));
    }
}

void ht_profile_record_span_ns(ht_profile *p, ht_span s, uint64_t ns)
{
    if ((unsigned)s < HT_SPAN_COUNT)
        ht_hist_record(&p->span[s], ns);
}

/* The percentiles every report shows, with their column names. */
static const struct {
    const char *name;
    double q;
} g_cols[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}, {"max", 1.0}};

void ht_profile_print(const ht_profile *p, FILE *out)
{
    fprintf(out, "%-20s %10s", "stage (ns)", "count");
    for (size_t c = 0; c < sizeof g_cols / sizeof g_cols[0]; c++)
        fprintf(out, " %10s", g_cols[c].name);
    fprintf(out, " %10s\n", "mean");
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++) {
        const ht_hist *h = &p->span[s];
        if (!h->count)
            continue;
        fprintf(out, "%-20s %10" PRIu64, g_spans[s].name, h->count);
        for (size_t c = 0; c < sizeof g_cols / sizeof g_cols[0]; c++)
            fprintf(out, " %10" PRIu64, ht_hist_quantile(h, g_cols[c].q));
        fprintf(out, " %10.1f\n", ht_hist_mean(h));
    }
}

void ht_profile_write_csv(const ht_profile *p, FILE *out)
{
    fprintf(out, "span,count");
    for (size_t c = 0; c < sizeof g_cols / sizeof g_cols[0]; c++)
        fprintf(out, ",%s_ns", g_cols[c].name);
    fprintf(out, ",mean_ns\n");
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++) {
        const ht_hist *h = &p->span[s];
        if (!h->count)
            continue;
        fprintf(out, "%s,%" PRIu64, g_spans[s].name, h->count);
        for (size_t c = 0; c < sizeof g_cols / sizeof g_cols[0]; c++)
            fprintf(out, ",%" PRIu64, ht_hist_quantile(h, g_cols[c].q));
        fprintf(out, ",%.1f\n", ht_hist_mean(h));
    }
}

void ht_profile_write_json(const ht_profile *p, FILE *out)
{
    fputc('{', out);
    int first = 1;
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++) {
        const ht_hist *h = &p->span[s];
        if (!h->count)
            continue;
        fprintf(out, "%s\"%s\":{\"count\":%" PRIu64, first ? "" : ",", g_spans[s].name, h->count);
        for (size_t c = 0; c < sizeof g_cols / sizeof g_cols[0]; c++)
            fprintf(out, ",\"%s\":%" PRIu64, g_cols[c].name, ht_hist_quantile(h, g_cols[c].q));
        fprintf(out, ",\"mean\":%.1f}", ht_hist_mean(h));
        first = 0;
    }
    fputc('}', out);
}

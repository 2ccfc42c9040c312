/* SPDX-License-Identifier: MIT */
/* Realised volatility (liquid-dsp one-pole filter on squared log returns) and IV surface points. */
#include "hedgetrig/volatility.h"

#include <liquid/liquid.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RETURN_SCALE 1e4       /* returns in basis points before squaring */
#define MAX_SILENT_HALFLIVES 20.0

struct ht_realvol {
    iirfilt_rrrf filter;
    uint64_t bar_ms;
    double alpha;
    double bars_per_year;
    double max_silent_bars;
    bool started;
    uint64_t bar;          /* index of the bar in progress */
    double close;          /* last price of the bar in progress */
    double prev_close;     /* close of the previous bar */
    float level;           /* filter output after the latest closed bar */
    double decay_pow;      /* (1 - alpha)^bars, for the start-up correction */
    uint64_t bars;
    uint64_t rejected;
};

ht_realvol *ht_realvol_create(uint64_t bar_ms, double halflife_bars, double year_days, ht_error *err)
{
    if (bar_ms < 1 || bar_ms > 86400000u) {
        ht_error_set(err, "realised vol: bar_ms must be between 1 and 86400000, got %llu", (unsigned long long)bar_ms);
        return NULL;
    }
    if (!(halflife_bars >= 1.0 && halflife_bars <= 1e6)) {
        ht_error_set(err, "realised vol: halflife_bars must be between 1 and 1e6, got %g", halflife_bars);
        return NULL;
    }
    if (!(year_days >= 360.0 && year_days <= 366.0)) {
        ht_error_set(err, "realised vol: year_days must be between 360 and 366, got %g", year_days);
        return NULL;
    }
    ht_realvol *rv = calloc(1, sizeof *rv);
    if (!rv) {
        ht_error_set(err, "realised vol: out of memory");
        return NULL;
    }
    rv->bar_ms = bar_ms;
    rv->alpha = 1.0 - exp2(-1.0 / halflife_bars);
    rv->bars_per_year = year_days * 86400000.0 / (double)bar_ms;
    rv->max_silent_bars = MAX_SILENT_HALFLIVES * halflife_bars;
    float b[1] = {(float)rv->alpha};
    float a[2] = {1.0f, (float)-(1.0 - rv->alpha)};
    rv->filter = iirfilt_rrrf_create(b, 1, a, 2);
    if (!rv->filter) {
        free(rv);
        ht_error_set(err, "realised vol: liquid-dsp could not create the filter");
        return NULL;
    }
    ht_realvol_reset(rv);
    return rv;
}

void ht_realvol_destroy(ht_realvol *rv)
{
    if (!rv)
        return;
    iirfilt_rrrf_destroy(rv->filter);
    free(rv);
}

void ht_realvol_reset(ht_realvol *rv)
{
    iirfilt_rrrf_reset(rv->filter);
    rv->started = false;
    rv->level = 0.0f;
    rv->decay_pow = 1.0;
    rv->bars = 0;
    rv->rejected = 0;
}

/* Feeds one closed bar's scaled squared return through the filter. */
static void filter_bar(ht_realvol *rv, double scaled_sq)
{
    iirfilt_rrrf_execute(rv->filter, (float)scaled_sq, &rv->level);
    rv->decay_pow *= 1.0 - rv->alpha;
    rv->bars++;
}

int ht_realvol_push(ht_realvol *rv, uint64_t ts_ms, double price)
{
    if (!isfinite(price) || !(price > 0.0)) {
        rv->rejected++;
        return -1;
    }
    const uint64_t bar = ts_ms / rv->bar_ms;
    if (!rv->started) {
        rv->started = true;
        rv->bar = bar;
        rv->close = rv->prev_close = price;
        return 0;
    }
    if (bar < rv->bar) {
        rv->rejected++;
        return -1;
    }
    if (bar > rv->bar) {
        const double r = log(rv->close / rv->prev_close) * RETURN_SCALE;
        filter_bar(rv, r * r);
        /* Bars without a tick: the price did not move. Past 20 half-lives the old level is gone anyway. */
        const double silent = (double)(bar - rv->bar - 1);
        for (double k = 0; k < fmin(silent, rv->max_silent_bars); k++)
            filter_bar(rv, 0.0);
        rv->prev_close = rv->close;
        rv->bar = bar;
    }
    rv->close = price;
    return 0;
}

double ht_realvol_sigma(const ht_realvol *rv)
{
    if (rv->bars == 0)
        return NAN;
    const double mean_sq = (double)rv->level / (1.0 - rv->decay_pow);
    return sqrt(fmax(mean_sq, 0.0) * rv->bars_per_year) / RETURN_SCALE;
}

uint64_t ht_realvol_bars(const ht_realvol *rv)
{
    return rv->bars;
}

uint64_t ht_realvol_rejected(const ht_realvol *rv)
{
    return rv->rejected;
}

/* ---- IV surface ------------------------------------------------------------------------------------------- */

struct ht_iv_surface {
    ht_iv_point *points;
    size_t count, capacity;
    uint64_t rejected;
};

ht_iv_surface *ht_iv_surface_create(size_t max_points, ht_error *err)
{
    if (max_points < 1 || max_points > 1000000) {
        ht_error_set(err, "iv surface: max_points must be between 1 and 1000000, got %zu", max_points);
        return NULL;
    }
    ht_iv_surface *s = calloc(1, sizeof *s);
    if (s)
        s->points = calloc(max_points, sizeof *s->points);
    if (!s || !s->points) {
        free(s);
        ht_error_set(err, "iv surface: out of memory for %zu points", max_points);
        return NULL;
    }
    s->capacity = max_points;
    return s;
}

void ht_iv_surface_destroy(ht_iv_surface *s)
{
    if (!s)
        return;
    free(s->points);
    free(s);
}

/* True when x is finite and positive. */
static bool positive(double x)
{
    return isfinite(x) && x > 0.0;
}

int ht_iv_surface_update(ht_iv_surface *s, const ht_iv_point *p)
{
    if (!positive(p->iv) || !positive(p->forward) || !positive(p->strike) || !positive(p->t_years) ||
        !isfinite(p->log_moneyness)) {
        s->rejected++;
        return -1;
    }
    for (size_t i = 0; i < s->count; i++)
        if (s->points[i].instrument_id == p->instrument_id && s->points[i].source == p->source) {
            s->points[i] = *p;
            return 0;
        }
    if (s->count == s->capacity) {
        s->rejected++;
        return -1;
    }
    s->points[s->count++] = *p;
    return 0;
}

size_t ht_iv_surface_count(const ht_iv_surface *s)
{
    return s->count;
}

const ht_iv_point *ht_iv_surface_at(const ht_iv_surface *s, size_t i)
{
    return i < s->count ? &s->points[i] : NULL;
}

uint64_t ht_iv_surface_rejected(const ht_iv_surface *s)
{
    return s->rejected;
}

/* True when point p may be used at now_ms (fresh enough; of source `src` when only_src). */
static bool usable_point(const ht_iv_point *p, uint64_t now_ms, uint64_t max_age_ms, bool only_src, ht_iv_source src)
{
    if (only_src && p->source != src)
        return false;
    return max_age_ms == 0 || p->ts_ms + max_age_ms >= now_ms;
}

/* ATM vol of one expiry: linear in log-moneyness between the nearest points below and above 0 (flat
 * beyond); NaN when the expiry has no usable point. */
static double expiry_atm(const ht_iv_surface *s, uint64_t expiry_ms, ht_iv_source preferred, uint64_t now_ms,
                         uint64_t max_age_ms)
{
    bool only_preferred = false;
    for (size_t i = 0; i < s->count; i++)
        if (s->points[i].expiry_ms == expiry_ms && usable_point(&s->points[i], now_ms, max_age_ms, true, preferred))
            only_preferred = true;
    const ht_iv_point *below = NULL, *above = NULL;
    for (size_t i = 0; i < s->count; i++) {
        const ht_iv_point *p = &s->points[i];
        if (p->expiry_ms != expiry_ms || !usable_point(p, now_ms, max_age_ms, only_preferred, preferred))
            continue;
        if (p->log_moneyness <= 0.0 && (!below || p->log_moneyness > below->log_moneyness))
            below = p;
        if (p->log_moneyness >= 0.0 && (!above || p->log_moneyness < above->log_moneyness))
            above = p;
    }
    if (below && above && above->log_moneyness > below->log_moneyness) {
        const double w = -below->log_moneyness / (above->log_moneyness - below->log_moneyness);
        return below->iv + w * (above->iv - below->iv);
    }
    return below ? below->iv : above ? above->iv : NAN;
}

double ht_iv_surface_atm(const ht_iv_surface *s, double t_years, ht_iv_source preferred, uint64_t now_ms,
                         uint64_t max_age_ms)
{
    /* The expiries bracketing t_years (by their time to expiry at now_ms, from any point's own t_years and
     * timestamp: T(now) = t_years - (now - ts) / year, with ACT/365). */
    double t_lo = -INFINITY, t_hi = INFINITY, v_lo = NAN, v_hi = NAN;
    for (size_t i = 0; i < s->count; i++) {
        const ht_iv_point *p = &s->points[i];
        const double t = p->t_years - ((double)now_ms - (double)p->ts_ms) / (365.0 * 86400000.0);
        if (!(t > 0.0))
            continue;
        const double atm = expiry_atm(s, p->expiry_ms, preferred, now_ms, max_age_ms);
        if (!isfinite(atm))
            continue;
        if (t <= t_years && t > t_lo) {
            t_lo = t;
            v_lo = atm;
        }
        if (t >= t_years && t < t_hi) {
            t_hi = t;
            v_hi = atm;
        }
    }
    if (isfinite(v_lo) && isfinite(v_hi) && t_hi > t_lo) {
        const double w = (t_years - t_lo) / (t_hi - t_lo);
        const double var = (1.0 - w) * v_lo * v_lo * t_lo + w * v_hi * v_hi * t_hi;
        return sqrt(var / t_years);
    }
    return isfinite(v_lo) ? v_lo : v_hi;
}

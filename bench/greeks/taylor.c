/* SPDX-License-Identifier: MIT */
/* The Taylor-error study: fast-path net delta between re-centres against an exact reprice on the same tick. */
#include "taylor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/feed_capture.h"
#include "hedgetrig/greeks_feed.h"
#include "synth_book.h"

#define MS_PER_YEAR (365.0 * 86400000.0)

/* The relative errors of one run, and its refresh counts. */
typedef struct collector {
    double *errors;
    size_t count, capacity;
    taylor_stats st;
    double move_sum;
    uint64_t moves;
    double budget;
} collector;

/* Records one tick's relative error. Returns 0 or -1 when memory is short. */
static int collect(collector *c, double rel)
{
    if (c->count == c->capacity) {
        const size_t cap = c->capacity ? 2 * c->capacity : 1 << 16;
        double *e = realloc(c->errors, cap * sizeof *e);
        if (!e)
            return -1;
        c->errors = e;
        c->capacity = cap;
    }
    c->errors[c->count++] = rel;
    return 0;
}

/* Counts one re-centre and its reasons (and the move that caused it, relative to S0). */
static void count_refresh(collector *c, unsigned why, double move_rel)
{
    c->st.refreshes++;
    for (unsigned b = 0; b < HT_REFRESH_REASONS; b++)
        if (why & (1u << b))
            c->st.by_reason[b]++;
    if (why & HT_REFRESH_MOVE) {
        c->move_sum += move_rel;
        c->moves++;
    }
}

/* Orders doubles ascending (qsort). */
static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills c->st's error statistics from the collected errors and frees them. */
static void finish(collector *c, taylor_stats *out)
{
    qsort(c->errors, c->count, sizeof *c->errors, cmp_double);
    c->st.ticks = c->count;
    if (c->count) {
        c->st.max_rel = c->errors[c->count - 1];
        c->st.p50 = c->errors[(size_t)(0.5 * (double)(c->count - 1))];
        c->st.p99 = c->errors[(size_t)(0.99 * (double)(c->count - 1))];
        c->st.p999 = c->errors[(size_t)(0.999 * (double)(c->count - 1))];
        size_t over = 0;
        for (size_t i = 0; i < c->count; i++)
            over += c->errors[i] > c->budget;
        c->st.over_budget = (double)over / (double)c->count;
    }
    c->st.mean_move_rel = c->moves ? c->move_sum / (double)c->moves : 0.0;
    free(c->errors);
    *out = c->st;
}

/* splitmix64 and Box-Muller: the simulated paths' normal draws. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double normal01(uint64_t *s)
{
    const double u1 = ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0;
    const double u2 = (double)(next_u64(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int taylor_sim_run(const ht_greeks_config *cfg, size_t n_options, double real_vol, double vol_of_vol, double hours,
                   double tick_ms, unsigned paths, uint64_t seed, taylor_stats *out, ht_error *err)
{
    const uint64_t start_ms = 1686830400000ull; /* 2023-06-15 12:00 UTC */
    const double spot0 = 25441.7, atm0 = 0.55;
    ht_greeks_config c = *cfg;
    c.forward = HT_FORWARD_INDEX;
    c.rate = 0.0;
    c.year_days = 365.0;
    ht_positions *book = synth_book(n_options, spot0, start_ms, seed);
    ht_greeks *g = book ? ht_greeks_create(&c, book, err) : NULL;
    if (!g) {
        ht_positions_destroy(book);
        return book ? -1 : ht_error_set(err, "taylor: out of memory for the book");
    }
    collector col = {0};
    col.budget = c.refresh.error_budget;
    const double dt_years = tick_ms / MS_PER_YEAR;
    const uint64_t ticks = (uint64_t)(hours * 3600000.0 / tick_ms);
    int rc = 0;
    for (unsigned p = 0; p < paths && rc == 0; p++) {
        uint64_t rng = seed * 7919u + p + 1;
        double s = spot0, atm = atm0;
        uint64_t now = start_ms;
        synth_market(g, book, s, atm, now);
        ht_greeks_recompute(g, now);
        for (uint64_t k = 0; k < ticks && rc == 0; k++) {
            now = start_ms + (uint64_t)((double)(k + 1) * tick_ms);
            s *= exp(-0.5 * real_vol * real_vol * dt_years + real_vol * sqrt(dt_years) * normal01(&rng));
            atm = fmax(0.1, atm + vol_of_vol * sqrt(dt_years) * normal01(&rng));
            synth_market(g, book, s, atm, now);
            const ht_greeks_underlying *un = ht_greeks_underlying_at(g, 0);
            const unsigned why = ht_greeks_refresh_due(g, 0, s, now);
            if (why) {
                count_refresh(&col, why, fabs(s - un->s0) / un->s0);
                ht_greeks_recompute(g, now);
                continue;
            }
            double exact = ht_greeks_hedge_at(g, 0, s);
            for (size_t i = 0; i < ht_greeks_result_count(g); i++) {
                const ht_greeks_result *r = ht_greeks_result_at(g, i);
                if (!r->in_table)
                    continue;
                const double t = ((double)r->pos->spec.expiry_ms - (double)now) / MS_PER_YEAR;
                const double iv = synth_smile(r->pos->spec.strike, s, t, atm);
                exact += r->qty_x_mult * ht_greeks_position_delta(g, i, s, iv, now);
            }
            const double fast = ht_greeks_taylor_net_delta(g, 0, s, un->vol_move);
            if (collect(&col, fabs(fast - exact) / un->gross_delta) != 0)
                rc = ht_error_set(err, "taylor: out of memory for the errors");
        }
    }
    col.st.hours = hours * paths;
    finish(&col, out);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
    return rc;
}

/* State of a capture run, reached from the feed's event callback. */
typedef struct capture_run {
    ht_greeks *g;
    ht_feed *feed;
    collector col;
    double *last_iv; /* per result: the IV its mark last gave on a tick */
    bool started;
    bool failed;
    uint64_t first_ms, last_ms;
} capture_run;

/* The exact net delta on a capture tick: each table option at its IV from its latest mark (or its last good
 * IV), at spot and now. */
static double capture_exact(capture_run *cr, double spot, uint64_t now)
{
    const ht_greeks_config *cfg = ht_greeks_config_get(cr->g);
    double exact = ht_greeks_hedge_at(cr->g, 0, spot);
    for (size_t i = 0; i < ht_greeks_result_count(cr->g); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(cr->g, i);
        if (!r->in_table)
            continue;
        const ht_instrument_spec *sp = &r->pos->spec;
        const ht_instrument *in = ht_feed_instrument(cr->feed, sp->id);
        const double f = r->k_ratio * spot;
        const double t = ((double)sp->expiry_ms - (double)now) / (cfg->year_days * 86400000.0);
        if (in && in->ticker.timestamp_ms) {
            const double price = sp->inverse ? in->ticker.mark_price * f : in->ticker.mark_price;
            const ht_iv_result iv = ht_b76_implied_vol(sp->option_type, f, sp->strike, t, cfg->rate, price);
            if (iv.status == HT_IV_OK)
                cr->last_iv[i] = iv.sigma;
        }
        exact += r->qty_x_mult * ht_greeks_position_delta(cr->g, i, spot, cr->last_iv[i], now);
    }
    return exact;
}

/* Feed callback: market data into the engine; each btc_usd index update is a measured tick. */
static void capture_event(void *user, const ht_feed_event *ev)
{
    capture_run *cr = user;
    if (cr->failed)
        return;
    ht_greeks_on_feed_event(cr->g, cr->feed, ev);
    if (ev->kind != HT_FEED_EV_INDEX || strcmp(ev->index->name, "btc_usd") != 0)
        return;
    const uint64_t now = ev->index->timestamp_ms;
    const double spot = ev->index->price;
    if (!cr->started) {
        ht_greeks_recompute(cr->g, now);
        const ht_greeks_underlying *un = ht_greeks_underlying_at(cr->g, 0);
        if (un->in_table < 2 * un->options / 3)
            return; /* wait until most marks have arrived */
        cr->started = true;
        cr->first_ms = now;
        for (size_t i = 0; i < ht_greeks_result_count(cr->g); i++)
            cr->last_iv[i] = ht_greeks_result_at(cr->g, i)->iv;
        return;
    }
    cr->last_ms = now;
    const ht_greeks_underlying *un = ht_greeks_underlying_at(cr->g, 0);
    const unsigned why = ht_greeks_refresh_due(cr->g, 0, spot, now);
    if (why) {
        count_refresh(&cr->col, why, fabs(spot - un->s0) / un->s0);
        ht_greeks_recompute(cr->g, now);
        for (size_t i = 0; i < ht_greeks_result_count(cr->g); i++)
            cr->last_iv[i] = ht_greeks_result_at(cr->g, i)->iv;
        return;
    }
    const double fast = ht_greeks_taylor_net_delta(cr->g, 0, spot, un->vol_move);
    const double exact = capture_exact(cr, spot, now);
    if (collect(&cr->col, fabs(fast - exact) / un->gross_delta) != 0)
        cr->failed = true;
}

int taylor_capture_run(const ht_greeks_config *cfg, const char *pcap, const char *book_path, taylor_stats *out,
                       ht_error *err)
{
    ht_capture_info info;
    ht_feed *registry = ht_feed_create(NULL, err);
    if (!registry)
        return -1;
    if (ht_feed_replay_capture(pcap, registry, -1.0, &info, err) != 0) {
        ht_feed_destroy(registry);
        return -1;
    }
    ht_positions *book =
        ht_positions_load(book_path, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, ht_greeks_feed_lookup, registry, err);
    capture_run cr;
    memset(&cr, 0, sizeof cr);
    cr.g = book ? ht_greeks_create(cfg, book, err) : NULL;
    int rc = cr.g ? 0 : -1;
    if (cr.g) {
        ht_greeks_add_feed_forwards(cr.g, registry);
        cr.last_iv = calloc(ht_positions_count(book) + 1, sizeof *cr.last_iv);
        ht_feed_config fc;
        ht_feed_config_default(&fc);
        fc.on_event = capture_event;
        fc.user = &cr;
        cr.feed = cr.last_iv ? ht_feed_create(&fc, err) : NULL;
        cr.col.budget = cfg->refresh.error_budget;
        if (!cr.feed || ht_feed_replay_capture(pcap, cr.feed, -1.0, &info, err) != 0)
            rc = -1;
        else if (cr.failed)
            rc = ht_error_set(err, "taylor: out of memory for the errors");
    }
    cr.col.st.hours = (double)(cr.last_ms - cr.first_ms) / 3600000.0;
    finish(&cr.col, out);
    ht_feed_destroy(cr.feed);
    free(cr.last_iv);
    ht_greeks_destroy(cr.g);
    ht_positions_destroy(book);
    ht_feed_destroy(registry);
    return rc;
}

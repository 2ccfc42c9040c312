/* SPDX-License-Identifier: MIT */
/* The engine's slow half, what it writes: the event log, the series, the net-delta statistics (hedged and
 * unhedged, and the check of the pipeline against the double), the status line and the counters file. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "slow_priv.h"
#include "hedgetrig/tsc.h"

#define CHECK_TOLERANCE_COIN 1e-6 /* fixed-point rounding of the pipeline's net delta stays far below this */

/* ---- Event log ------------------------------------------------------------------------------------------ */

/* Writes an exchange time as Unix seconds with milliseconds, the time base of the event log and the series
 * (nothing before the first market data: no exchange time is known yet). */
static void write_time_s(FILE *f, uint64_t ts_ms)
{
    if (ts_ms)
        fprintf(f, "%" PRIu64 ".%03" PRIu64, ts_ms / 1000, ts_ms % 1000);
}

/* Writes the start of an event-log line: time, event, underlying (empty when u < 0). */
static bool log_begin(slow_half *s, const char *event, int u)
{
    if (!s->event_log)
        return false;
    write_time_s(s->event_log, s->now_ms);
    fprintf(s->event_log, ",%s,", event);
    if (u >= 0)
        fprintf(s->event_log, "%d", u);
    return true;
}

/* Writes a number column (empty for NaN). */
static void log_num(slow_half *s, double x)
{
    if (isnan(x))
        fputc(',', s->event_log);
    else
        fprintf(s->event_log, ",%.10g", x);
}

/* Writes the detail column and ends the line. */
static void log_detail(slow_half *s, const char *fmt, va_list ap)
{
    fputc(',', s->event_log);
    vfprintf(s->event_log, fmt, ap);
    fputc('\n', s->event_log);
}

void slow_log_market(slow_half *s, const char *event, int u, double spot, double nd, double lo, double hi, int side,
                     const char *reason, const char *fmt, ...)
{
    if (!log_begin(s, event, u))
        return;
    log_num(s, spot);
    log_num(s, nd);
    log_num(s, lo);
    log_num(s, hi);
    if (side)
        fprintf(s->event_log, ",%d", side);
    else
        fputc(',', s->event_log);
    fprintf(s->event_log, ",%s,,,,,,", reason ? reason : "");
    va_list ap;
    va_start(ap, fmt);
    log_detail(s, fmt, ap);
    va_end(ap);
}

void slow_log_order(slow_half *s, const char *event, int u, const char *instrument, int side, double qty,
                    double price, uint64_t clordid, double cost, const char *fmt, ...)
{
    if (!log_begin(s, event, u))
        return;
    fprintf(s->event_log, ",,,,,,,%s,%s", instrument ? instrument : "", side > 0 ? "buy" : side < 0 ? "sell" : "");
    log_num(s, qty);
    log_num(s, price);
    if (clordid)
        fprintf(s->event_log, ",%" PRIu64, clordid);
    else
        fputc(',', s->event_log);
    log_num(s, cost);
    va_list ap;
    va_start(ap, fmt);
    log_detail(s, fmt, ap);
    va_end(ap);
}

void slow_log_info(slow_half *s, const char *event, int u, const char *fmt, ...)
{
    if (!log_begin(s, event, u))
        return;
    fprintf(s->event_log, ",,,,,,,,,,,,");
    va_list ap;
    va_start(ap, fmt);
    log_detail(s, fmt, ap);
    va_end(ap);
}


/* The table just loaded ([engine] table_log): every book position with its quantity, whether it is in the table,
 * and its greeks (options) or its contribution to H (hedges), so that a breach's net delta can be recomputed
 * from positions: A + B dS + C dS^2 / 2 + V dvol + H over the lines of its underlying (docs/deployment.md). */
void slow_log_table(slow_half *s)
{
    if (!s->table_log)
        return;
    const double *s0 = ht_greeks_s0(s->greeks);
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        const bool hedge = (r->flags & HT_GF_HEDGE) != 0;
        write_time_s(s->table_log, s->now_ms);
        fprintf(s->table_log, ",%u,%s,%.17g,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", r->underlying,
                r->pos->spec.name, r->pos->qty_contracts, r->in_table, r->qty_x_mult, hedge ? 0.0 : r->delta,
                hedge ? 0.0 : r->gamma, hedge ? 0.0 : r->speed, hedge ? 0.0 : r->vanna,
                hedge && HT_GREEKS_USABLE(r) ? r->hedge_coin : 0.0, s0[r->underlying]);
    }
}

/* ---- Statistics ---------------------------------------------------------------------------------------- */

/* The book's net delta at spot had it never been hedged: its own table, re-centred when the market says so. */
static double unhedged_net_delta(slow_half *s, unsigned u, double spot, uint64_t ts_ms)
{
    int bu = ht_greeks_underlying_find(s->base_greeks, ht_greeks_underlying_at(s->greeks, u)->base);
    if (bu < 0)
        return NAN;
    if (ht_greeks_refresh_due(s->base_greeks, (unsigned)bu, spot, ts_ms))
        ht_greeks_recompute(s->base_greeks, s->now_ms);
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->base_greeks, (unsigned)bu);
    return ht_greeks_taylor_net_delta(s->base_greeks, (unsigned)bu, spot, isfinite(g->vol_move) ? g->vol_move : 0.0);
}

/* Accounts the time since u's last tick with the net delta then held, and takes this tick's: before its hedges
 * (the breach's net delta, when it had one) and after them. */
void slow_tick_stats(slow_half *s, unsigned u, const msg_index *m)
{
    under_state *us = &s->under[u];
    double after = slow_net_delta_at(s, u, m->price, NULL);
    double before = m->breached ? after - us->breach_fills : after;
    double after_u = unhedged_net_delta(s, u, m->price, m->ts_ms);
    if (us->have_held && m->ts_ms > us->last_ts_ms) {
        double dt = (double)(m->ts_ms - us->last_ts_ms);
        us->sum_sq += us->held * us->held * dt;
        us->sum_sq_u += us->held_unhedged * us->held_unhedged * dt;
        us->total_ms += dt;
        if (us->band_set && (us->held < us->band_lo || us->held > us->band_hi))
            us->outside_ms += dt;
        if (us->band_set && (us->held_unhedged < us->band_lo || us->held_unhedged > us->band_hi))
            us->outside_ms_u += dt;
    }
    /* The pipeline's answer against the same formula in double: a breach where the double is clearly inside (or
     * a net delta that differs from the double), or none where the double is clearly outside, is a mismatch. */
    if (s->e->cfg.check && !s->e->cfg.threads && !m->rejected) {
        double lo = m->breached ? us->breach_lo : us->band_lo, hi = m->breached ? us->breach_hi : us->band_hi;
        bool armed = m->breached ? us->breach_armed : us->band_set && !us->muted && us->pending == 0;
        bool clearly_out = before < lo - CHECK_TOLERANCE_COIN || before > hi + CHECK_TOLERANCE_COIN;
        bool clearly_in = before > lo + CHECK_TOLERANCE_COIN && before < hi - CHECK_TOLERANCE_COIN;
        const char *what = NULL;
        if (m->breached && fabs(us->breach_nd - before) > CHECK_TOLERANCE_COIN)
            what = "the pipeline's net delta differs from the double's";
        else if (armed && m->breached && clearly_in)
            what = "pipeline breach, double inside";
        else if (armed && !m->breached && clearly_out)
            what = "double outside, no pipeline breach";
        if (what) {
            s->rep.check_mismatches++;
            slow_log_market(s, "check_mismatch", (int)u, m->price, before, lo, hi, 0, NULL, "%s (pipeline %.10g)", what,
                            m->breached ? us->breach_nd : NAN);
        }
    }
    us->have_held = true;
    us->last_ts_ms = m->ts_ms;
    us->held = after;
    us->held_unhedged = after_u;
    us->max_abs = fmax(us->max_abs, fabs(before));
    us->max_abs_u = fmax(us->max_abs_u, fabs(after_u));
    if (s->series) {
        if (s->series_ticks++ % s->e->cfg.series_every == 0 || us->fills_since_tick != 0.0) {
            write_time_s(s->series, m->ts_ms);
            fprintf(s->series, ",%u,%.2f,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", u, m->price, before, after,
                    us->band_lo, us->band_hi, after_u, us->fills_since_tick);
        }
    }
    us->fills_since_tick = 0.0;
    us->breach_fills = 0.0;
}

/* The run's net-delta statistics over every underlying, and the outputs flushed. */
void engine_slow_finish_stats(slow_half *s)
{
    ht_engine_report *r = &s->rep;
    double sum_sq = 0, sum_sq_u = 0, total = 0, out = 0, out_u = 0, mx = 0, mx_u = 0;
    for (unsigned u = 0; u < s->n_under; u++) {
        const under_state *us = &s->under[u];
        sum_sq += us->sum_sq;
        sum_sq_u += us->sum_sq_u;
        total += us->total_ms;
        out += us->outside_ms;
        out_u += us->outside_ms_u;
        mx = fmax(mx, us->max_abs);
        mx_u = fmax(mx_u, us->max_abs_u);
    }
    r->hedged = (ht_engine_delta_stats){mx, total > 0 ? sqrt(sum_sq / total) : 0.0, out / 1000.0, total / 1000.0};
    r->unhedged = (ht_engine_delta_stats){mx_u, total > 0 ? sqrt(sum_sq_u / total) : 0.0, out_u / 1000.0, total / 1000.0};
    r->arm_time_ms = s->arm_time_ms;
    r->first_tick_ms = s->first_tick_ms;
    r->last_tick_ms = s->last_tick_ms;
    if (s->n_under > 0) {
        r->final_spot = s->under[0].spot;
        r->final_net_delta = s->under[0].held;
        r->band_lo = s->under[0].band_lo;
        r->band_hi = s->under[0].band_hi;
    }
    r->hedge_position_contracts = s->n_venues ? s->venues[0].position_contracts : 0.0;
    if (s->event_log)
        fflush(s->event_log);
    if (s->series)
        fflush(s->series);
    if (s->table_log)
        fflush(s->table_log);
}

/* ---- Status ---------------------------------------------------------------------------------------------- */

FILE *slow_replace_begin(const char *path, char *tmp, size_t tmp_size)
{
    if (!path[0])
        return NULL;
    snprintf(tmp, tmp_size, "%s.tmp", path);
    return fopen(tmp, "w");
}

void slow_replace_end(FILE *f, const char *tmp, const char *path)
{
    /* A reader must never see half a file: the whole file, then the rename. */
    if (fclose(f) == 0)
        rename(tmp, path);
    else
        remove(tmp);
}

/* Writes the counters file: key = value lines, replaced atomically (write a temporary, then rename). */
static void write_counters(slow_half *s)
{
    const char *path = s->e->cfg.counters_path;
    char tmp[HT_ENGINE_PATH_MAX + 8];
    FILE *f = slow_replace_begin(path, tmp, sizeof tmp);
    if (!f)
        return;
    const ht_engine_report *r = &s->rep;
    const under_state *us = &s->under[0];
    fprintf(f,
            "wall_ns = %" PRIu64 "\nexchange_ms = %" PRIu64 "\narmed = %d\nkilled = %d\npackets = %" PRIu64
            "\nticks = %" PRIu64 "\nbreaches = %" PRIu64 "\ndecisions = %" PRIu64 "\norders = %" PRIu64
            "\norders_refused = %" PRIu64 "\norders_rejected = %" PRIu64 "\nfills = %" PRIu64
            "\nfilled_contracts = %.10g\ncost_usd = %.6f\nnet_delta = %.10g\nband_lo = %.10g\nband_hi = %.10g\n"
            "hedge_position_contracts = %.10g\nvenue_state = %s\nmuted = %d\nchecks_failed = %" PRIu64 "\n"
            "decisions_suppressed = %" PRIu64 "\nhedge_untrusted = %d\npositions_fallback = %" PRIu64
            "\npositions_left_out = %" PRIu64 "\n",
            ht_wall_ns(), s->now_ms, s->armed, s->killed,
            (uint64_t)atomic_load_explicit(&s->e->packets_seen, memory_order_relaxed), r->ticks, r->breaches, r->decisions, r->orders,
            r->orders_refused, r->orders_rejected, r->fills, r->filled_contracts, r->cost_usd, us->held, us->band_lo,
            us->band_hi, s->n_venues ? s->venues[0].position_contracts : 0.0,
            s->venue ? s->venue->ops->state_name(s->venue->ctx) : "none", us->muted, r->check_mismatches,
            r->decisions_suppressed, s->venues_untrusted != 0, r->positions_fallback, r->positions_excluded);
    fprintf(f,
            "changes_other_session = %" PRIu64 "\nchanges_liquidation = %" PRIu64 "\nchanges_settlement = %" PRIu64
            "\nchanges_unexplained = %" PRIu64 "\nreconciliation_differences = %" PRIu64 "\nunhedged_positions = %" PRIu64
            "\nhedges_held_for_rate = %" PRIu64 "\nhedges_merged = %" PRIu64 "\nhalted = %d\n",
            r->position_changes[HT_ENGINE_CHANGE_OTHER], r->position_changes[HT_ENGINE_CHANGE_LIQUIDATION],
            r->position_changes[HT_ENGINE_CHANGE_SETTLEMENT], r->position_changes[HT_ENGINE_CHANGE_UNEXPLAINED],
            r->reconciliation_differences, r->unhedged_positions, r->hedges_held_for_rate, r->hedges_merged,
            s->live.halted);
    if (r->have_account)
        fprintf(f, "equity = %.10g\ninitial_margin = %.10g\nmaintenance_margin = %.10g\n", r->account.equity,
                r->account.initial_margin, r->account.maintenance_margin);
    if (r->margin_underlyings)
        fprintf(f, "margin_initial_coin = %.10g\nmargin_maintenance_coin = %.10g\nmargin_ratio = %.10g\n",
                r->margin[0].initial_coin, r->margin[0].maintenance_coin, r->margin[0].ratio);
    if (r->margin_underlyings && r->margin[0].live_updates)
        fprintf(f, "margin_live_ratio = %.10g\nliquidation_spot_up = %.10g\nliquidation_spot_down = %.10g\n"
                   "liquidation_vol_up = %.10g\nmargin_band_fraction = %.10g\nmargin_flattens = %" PRIu64 "\n"
                   "margin_refused = %" PRIu64 "\nmargin_killed = %d\n",
                r->margin[0].live_ratio, r->margin[0].liquidation_spot_up, r->margin[0].liquidation_spot_down,
                r->margin[0].liquidation_vol_up, r->margin[0].band_fraction, r->margin_flattens, r->margin_refused,
                r->margin_killed ? 1 : 0);
    slow_replace_end(f, tmp, path);
}

/* The live book's status line (after the main one): the position changes by source, the alerts, the positions
 * not hedged, the account and the held hedges; a halt says why. */
static void status_live(const slow_half *s)
{
    const ht_engine_report *r = &s->rep;
    fprintf(stderr,
            "status: book changes hedge %" PRIu64 " other %" PRIu64 " liquidation %" PRIu64 " settlement %" PRIu64
            " unexplained %" PRIu64 " reconciled %" PRIu64 " unhedged %" PRIu64 " held for rate %" PRIu64 " merged %" PRIu64,
            r->position_changes[HT_ENGINE_CHANGE_HEDGE], r->position_changes[HT_ENGINE_CHANGE_OTHER],
            r->position_changes[HT_ENGINE_CHANGE_LIQUIDATION], r->position_changes[HT_ENGINE_CHANGE_SETTLEMENT],
            r->position_changes[HT_ENGINE_CHANGE_UNEXPLAINED], r->reconciliation_differences, r->unhedged_positions,
            r->hedges_held_for_rate, r->hedges_merged);
    if (r->have_account)
        fprintf(stderr, " equity %.6g %s IM %.6g MM %.6g", r->account.equity, r->account.currency,
                r->account.initial_margin, r->account.maintenance_margin);
    for (unsigned u = 0; u < r->margin_underlyings; u++)
        if (isfinite(r->margin[u].maintenance_coin))
        {
            const ht_engine_margin *m = &r->margin[u];
            fprintf(stderr, " margin %s MM %.6g ratio %.4g", m->base, m->maintenance_coin, m->ratio);
            if (m->live_updates)
                fprintf(stderr, " live %.4g liq %+.1f%%/%+.1f%% vol %+.0fpt", m->live_ratio,
                        100.0 * m->liquidation_spot_down, 100.0 * m->liquidation_spot_up,
                        100.0 * m->liquidation_vol_up);
        }
    if (r->liquidation_alerts + r->unexplained_alerts)
        fprintf(stderr, " ALERTS: %" PRIu64 " liquidations, %" PRIu64 " unexplained changes", r->liquidation_alerts,
                r->unexplained_alerts);
    if (s->live.halted)
        fprintf(stderr, " HALTED: %s", s->live.halt_reason);
    fputc('\n', stderr);
}

/* The status line on stderr and the counters file, every status interval (force: now). */
void engine_slow_status(slow_half *s, bool force)
{
    const ht_engine_config *cfg = &s->e->cfg;
    if (!cfg->status_interval_s && !force)
        return;
    uint64_t now = ht_mono_ns();
    if (!force && now - s->last_status_ns < (uint64_t)cfg->status_interval_s * 1000000000ull)
        return;
    s->last_status_ns = now;
    const ht_engine_report *r = &s->rep;
    const under_state *us = &s->under[0];
    const ht_hist *t2o = &s->prof->span[HT_SPAN_TICK_TO_ORDER];
    if (cfg->status_interval_s)
        fprintf(stderr,
                "status: %s packets %" PRIu64 " ticks %" PRIu64 " breaches %" PRIu64 " orders %" PRIu64
                " fills %" PRIu64 " net delta %.4f band [%.4f, %.4f] position %.10g contracts cost %.2f USD venue %s%s"
                " suppressed %" PRIu64 "%s"
                " tick->order p50 %" PRIu64 " ns p99 %" PRIu64 " ns%s%s\n",
                s->armed ? "hedging" : "starting",
                (uint64_t)atomic_load_explicit(&s->e->packets_seen, memory_order_relaxed), r->ticks, r->breaches, r->orders, r->fills,
                us->held, us->band_lo, us->band_hi, s->n_venues ? s->venues[0].position_contracts : 0.0, r->cost_usd,
                s->venue ? s->venue->ops->state_name(s->venue->ctx) : "none", s->killed ? " KILLED" : "",
                r->decisions_suppressed, s->venues_untrusted ? " HEDGE DATA UNTRUSTED" : "",
                ht_hist_quantile(t2o, 0.5), ht_hist_quantile(t2o, 0.99), s->armed ? "" : "; ",
                s->armed ? "" : s->arm_blocker);
    if (cfg->status_interval_s)
        status_live(s);
    write_counters(s);
    slow_write_prometheus(s);
}

/* SPDX-License-Identifier: MIT */
/* The engine's slow half, what the live book shows: the positions (the engine's and the venue's), the live book's
 * keys of the JSON report, and the counters as a Prometheus text-format file for node_exporter's textfile
 * collector (docs/deployment.md, "[status]"). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slow_priv.h"

/* ---- Positions ------------------------------------------------------------------------------------------- */

/* The venue's entry of an instrument, or NULL. */
static const live_pos *live_of(const slow_half *s, const char *name)
{
    for (size_t i = 0; i < s->live.n; i++)
        if (strcmp(s->live.pos[i].name, name) == 0)
            return &s->live.pos[i];
    return NULL;
}

/* True when the book has a line for this name. */
static bool in_book(const slow_half *s, const char *name)
{
    for (size_t i = 0; s->book && i < ht_positions_count(s->book); i++)
        if (strcmp(ht_positions_at(s->book, i)->spec.name, name) == 0)
            return true;
    return false;
}

size_t slow_positions(const slow_half *s, ht_engine_position *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; s->book && i < ht_positions_count(s->book); i++, n++) {
        if (n >= max)
            continue;
        const ht_position *p = ht_positions_at(s->book, i);
        const live_pos *lp = live_of(s, p->spec.name);
        out[n] = (ht_engine_position){{0}, p->qty_contracts, lp ? lp->venue_contracts : 0.0, true,
                                      lp && lp->venue_reported, true};
        snprintf(out[n].instrument, sizeof out[n].instrument, "%s", p->spec.name);
    }
    for (size_t i = 0; i < s->live.n; i++) {
        const live_pos *lp = &s->live.pos[i];
        if ((!lp->unhedged && !lp->venue_reported) || in_book(s, lp->name))
            continue;
        if (n < max) {
            out[n] = (ht_engine_position){{0}, lp->unhedged ? lp->unhedged_contracts : 0.0, lp->venue_contracts,
                                          lp->unhedged, lp->venue_reported, false};
            snprintf(out[n].instrument, sizeof out[n].instrument, "%s", lp->name);
        }
        n++;
    }
    return n;
}

/* Every position (to free), and their count in *n. */
static ht_engine_position *all_positions(const slow_half *s, size_t *n)
{
    *n = slow_positions(s, NULL, 0);
    ht_engine_position *all = calloc(*n + 1, sizeof *all);
    if (all)
        slow_positions(s, all, *n);
    else
        *n = 0;
    return all;
}

/* ---- JSON ------------------------------------------------------------------------------------------------ */

/* A JSON string: quotes and backslashes escaped, control bytes as \u00XX. */
static void json_text(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* A JSON number (null for NaN or infinity). */
static void json_num(FILE *out, double x)
{
    if (isfinite(x))
        fprintf(out, "%.10g", x);
    else
        fputs("null", out);
}

/* "positions" (the engine's) or "venue_positions" (the venue's latest reports): instrument -> signed contracts. */
static void json_positions(FILE *out, const ht_engine_position *all, size_t n, bool venue)
{
    bool first = true;
    fputs(venue ? "\"venue_positions\":{" : "\"positions\":{", out);
    for (size_t i = 0; i < n; i++) {
        if (venue ? !all[i].venue_reported : !all[i].in_book)
            continue;
        fputs(first ? "" : ",", out);
        json_text(out, all[i].instrument);
        fputc(':', out);
        json_num(out, venue ? all[i].venue_contracts : all[i].contracts);
        first = false;
    }
    fputs("},", out);
}

/* "account": the latest figures, or null. */
static void json_account(FILE *out, const ht_engine_report *r)
{
    fputs("\"account\":", out);
    if (!r->have_account) {
        fputs("null,", out);
        return;
    }
    fputs("{\"currency\":", out);
    json_text(out, r->account.currency);
    fputs(",\"equity\":", out);
    json_num(out, r->account.equity);
    fputs(",\"balance\":", out);
    json_num(out, r->account.balance);
    fputs(",\"initial_margin\":", out);
    json_num(out, r->account.initial_margin);
    fputs(",\"maintenance_margin\":", out);
    json_num(out, r->account.maintenance_margin);
    fprintf(out, ",\"updated_s\":%.3f},", (double)r->account.wall_ms / 1000.0);
}

/* "margin": the book's margin per underlying as hedgetrig computes it ([margin]), or null before the first. */
static void json_margin(FILE *out, const ht_engine_report *r)
{
    fputs("\"margin\":", out);
    if (!r->margin_underlyings) {
        fprintf(out, "null,\"margin_computes\":%" PRIu64 ",", r->margin_computes);
        return;
    }
    fputc('[', out);
    for (unsigned u = 0; u < r->margin_underlyings; u++) {
        const ht_engine_margin *m = &r->margin[u];
        fputs(u ? ",{\"underlying\":" : "{\"underlying\":", out);
        json_text(out, m->base);
        const struct {
            const char *key;
            double x;
        } nums[] = {{"initial_margin_coin", m->initial_coin},   {"maintenance_margin_coin", m->maintenance_coin},
                    {"equity_coin", m->equity_coin},            {"margin_ratio", m->ratio},
                    {"venue_difference_coin", m->venue_difference_coin},
                    {"live_maintenance_margin_coin", m->live_maintenance_coin},
                    {"live_equity_coin", m->live_equity_coin},
                    {"live_margin_ratio", m->live_ratio},
                    {"live_margin_ratio_max", m->live_ratio_max},
                    {"live_venue_difference_coin", m->live_venue_difference_coin},
                    {"liquidation_spot_up", m->liquidation_spot_up},
                    {"liquidation_spot_down", m->liquidation_spot_down},
                    {"liquidation_vol_up", m->liquidation_vol_up},
                    {"band_fraction", m->band_fraction}};
        for (size_t k = 0; k < HT_ARRAY_LEN(nums); k++) {
            fprintf(out, ",\"%s\":", nums[k].key);
            json_num(out, nums[k].x);
        }
        fprintf(out, ",\"positions\":%" PRIu64 ",\"excluded\":%" PRIu64 ",\"live_updates\":%" PRIu64 "}",
                m->positions, m->excluded, m->live_updates);
    }
    fprintf(out, "],\"margin_computes\":%" PRIu64 ",\"margin_flattens\":%" PRIu64 ",\"margin_refused\":%" PRIu64
                 ",\"margin_killed\":%s,",
            r->margin_computes, r->margin_flattens, r->margin_refused, r->margin_killed ? "true" : "false");
}

/* The venue's mirrored rate limits now (known false when it mirrors none). */
static void limits_now(const slow_half *s, ht_venue_limits *l)
{
    memset(l, 0, sizeof *l);
    if (s->venue && s->venue->ops->limits)
        s->venue->ops->limits(s->venue->ctx, l);
}

/* "rate_limits": the venue's mirrored limits at the end, or null. */
static void json_limits(FILE *out, const slow_half *s)
{
    ht_venue_limits l;
    limits_now(s, &l);
    fputs("\"rate_limits\":", out);
    if (!l.known) {
        fputs("null,", out);
        return;
    }
    fprintf(out,
            "{\"orders_available\":%.6g,\"orders_burst\":%.6g,\"credits_available\":%.6g,\"credits_max\":%.6g,"
            "\"held\":%" PRIu64 ",\"me_changes\":%" PRIu64 ",\"volume_contracts\":%.10g},",
            l.orders_available, l.orders_burst, l.credits_available, l.credits_max, l.held, l.me_changes,
            l.volume_contracts);
}

/* "unhedged_positions": the positions held that the engine cannot hedge, and why. */
static void json_unhedged(FILE *out, const slow_half *s)
{
    bool first = true;
    fputs("\"unhedged_positions\":[", out);
    for (size_t i = 0; i < s->live.n; i++) {
        const live_pos *lp = &s->live.pos[i];
        if (!lp->unhedged)
            continue;
        fputs(first ? "{\"instrument\":" : ",{\"instrument\":", out);
        json_text(out, lp->name);
        fputs(",\"contracts\":", out);
        json_num(out, lp->unhedged_contracts);
        fputs(",\"reason\":", out);
        json_text(out, lp->unhedged_why);
        fputc('}', out);
        first = false;
    }
    fputs("],", out);
}

void slow_live_write_json(const slow_half *s, FILE *out)
{
    const ht_engine_report *r = &s->rep;
    size_t n;
    ht_engine_position *all = all_positions(s, &n);
    json_positions(out, all, n, false);
    json_positions(out, all, n, true);
    free(all);
    fputs("\"position_changes\":{", out);
    for (unsigned k = 0; k < HT_ENGINE_CHANGE_SOURCES; k++)
        fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", ht_engine_change_source_name((ht_engine_change_source)k),
                r->position_changes[k]);
    fprintf(out,
            "},\"reconciliation_differences\":%" PRIu64 ",\"snapshots\":%" PRIu64 ",\"liquidation_alerts\":%" PRIu64
            ",\"unexplained_alerts\":%" PRIu64 ",\"new_instruments\":%" PRIu64 ",",
            r->reconciliation_differences, r->snapshots, r->liquidation_alerts, r->unexplained_alerts,
            r->new_instruments);
    json_unhedged(out, s);
    fprintf(out, "\"halted\":%s,\"halt_reason\":", s->live.halted ? "true" : "false");
    json_text(out, s->live.halt_reason);
    fputc(',', out);
    json_account(out, r);
    json_margin(out, r);
    fprintf(out, "\"hedges_held_for_rate\":%" PRIu64 ",\"hedges_merged\":%" PRIu64 ",", r->hedges_held_for_rate,
            r->hedges_merged);
    json_limits(out, s);
}

/* ---- Prometheus ------------------------------------------------------------------------------------------ */

/* A label value: backslash, double quote and newline escaped as the text format asks. */
static void prom_label(FILE *f, const char *value)
{
    fputc('"', f);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* A sample's value: NaN, +Inf and -Inf as the format spells them. */
static void prom_value(FILE *f, double x)
{
    if (isnan(x))
        fputs(" NaN\n", f);
    else if (isinf(x))
        fputs(x > 0 ? " +Inf\n" : " -Inf\n", f);
    else
        fprintf(f, " %.17g\n", x);
}

/* The HELP and TYPE lines of a metric. */
static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric with one sample and no label. */
static void prom_one(FILE *f, const char *name, const char *type, const char *help, double x)
{
    prom_head(f, name, type, help);
    fputs(name, f);
    prom_value(f, x);
}

/* One sample of a metric with one label. */
static void prom_sample(FILE *f, const char *name, const char *label, const char *value, double x)
{
    fprintf(f, "%s{%s=", name, label);
    prom_label(f, value);
    fputc('}', f);
    prom_value(f, x);
}

/* The positions: the engine's and the venue's, one sample per instrument. */
static void prom_positions(FILE *f, const slow_half *s)
{
    size_t n;
    ht_engine_position *all = all_positions(s, &n);
    prom_head(f, "hedgetrig_position_contracts", "gauge", "The engine's signed position per instrument, in contracts.");
    for (size_t i = 0; i < n; i++)
        if (all[i].in_book)
            prom_sample(f, "hedgetrig_position_contracts", "instrument", all[i].instrument, all[i].contracts);
    prom_head(f, "hedgetrig_venue_position_contracts", "gauge",
              "The venue's latest reported signed position per instrument, in contracts.");
    for (size_t i = 0; i < n; i++)
        if (all[i].venue_reported)
            prom_sample(f, "hedgetrig_venue_position_contracts", "instrument", all[i].instrument,
                        all[i].venue_contracts);
    free(all);
    prom_head(f, "hedgetrig_position_changes_total", "counter", "Changes of a position, by who made them.");
    for (unsigned k = 0; k < HT_ENGINE_CHANGE_SOURCES; k++)
        prom_sample(f, "hedgetrig_position_changes_total", "source",
                    ht_engine_change_source_name((ht_engine_change_source)k), (double)s->rep.position_changes[k]);
    prom_one(f, "hedgetrig_reconciliation_differences_total", "counter",
             "Instruments whose quantity differed from the venue's at a position snapshot.",
             (double)s->rep.reconciliation_differences);
    prom_one(f, "hedgetrig_liquidation_alerts_total", "counter", "Liquidation trades on the account.",
             (double)s->rep.liquidation_alerts);
    prom_one(f, "hedgetrig_unexplained_alerts_total", "counter", "Position changes no trade explained (adopted).",
             (double)s->rep.unexplained_alerts);
    prom_one(f, "hedgetrig_unhedged_positions", "gauge", "Positions held that the engine cannot hedge.",
             (double)s->rep.unhedged_positions);
}

/* The net delta and band per underlying. */
static void prom_delta(FILE *f, const slow_half *s)
{
    static const char *const names[] = {"hedgetrig_net_delta_coin", "hedgetrig_band_lower_coin",
                                        "hedgetrig_band_upper_coin"};
    static const char *const helps[] = {"The net delta per underlying at the latest tick, in coins.",
                                        "The lower edge of the band per underlying, in coins.",
                                        "The upper edge of the band per underlying, in coins."};
    for (int k = 0; k < 3; k++) {
        prom_head(f, names[k], "gauge", helps[k]);
        for (unsigned u = 0; u < s->n_under && s->greeks; u++) {
            const under_state *us = &s->under[u];
            prom_sample(f, names[k], "underlying", ht_greeks_underlying_at(s->greeks, u)->base,
                        k == 0 ? us->held : k == 1 ? us->band_lo : us->band_hi);
        }
    }
}

/* The account's figures (nothing before they arrive). */
static void prom_account(FILE *f, const ht_engine_report *r)
{
    if (!r->have_account)
        return;
    static const char *const names[] = {"hedgetrig_account_equity", "hedgetrig_account_initial_margin",
                                        "hedgetrig_account_maintenance_margin"};
    static const char *const helps[] = {"The account's equity, in the account currency (label currency).",
                                        "The account's initial margin, in the account currency.",
                                        "The account's maintenance margin, in the account currency."};
    const double x[] = {r->account.equity, r->account.initial_margin, r->account.maintenance_margin};
    for (int k = 0; k < 3; k++) {
        prom_head(f, names[k], "gauge", helps[k]);
        prom_sample(f, names[k], "currency", r->account.currency, x[k]);
    }
    prom_one(f, "hedgetrig_account_updated_timestamp_seconds", "gauge", "When the account's figures arrived.",
             (double)r->account.wall_ms / 1000.0);
}

/* The book's margin per underlying (nothing before it is computed; a ratio or difference only when known). */
static void prom_margin(FILE *f, const ht_engine_report *r)
{
    if (!r->margin_underlyings)
        return;
    static const char *const names[] = {"hedgetrig_margin_initial_coin", "hedgetrig_margin_maintenance_coin",
                                        "hedgetrig_margin_ratio", "hedgetrig_margin_venue_difference_coin",
                                        "hedgetrig_margin_live_ratio", "hedgetrig_margin_live_maintenance_coin",
                                        "hedgetrig_liquidation_spot_up_ratio", "hedgetrig_liquidation_spot_down_ratio",
                                        "hedgetrig_liquidation_vol_up", "hedgetrig_margin_band_fraction"};
    static const char *const helps[] = {
        "The book's initial margin as hedgetrig computes it ([margin] model), in coins of the underlying.",
        "The book's maintenance margin as hedgetrig computes it, in coins of the underlying.",
        "The maintenance margin over the equity (the venue's, else [margin] equity_coin); 1 is liquidation.",
        "The maintenance margin computed minus the venue's, in coins (when the venue reports in that coin).",
        "The margin ratio estimated at the latest tick (docs/margin.md, between refreshes).",
        "The maintenance margin estimated at the latest tick, in coins of the underlying.",
        "The relative rise of the spot at which maintenance margin would reach equity (0.12 = +12 %).",
        "The relative fall of the spot at which maintenance margin would reach equity (-0.12 = -12 %).",
        "The parallel rise of implied vol at which maintenance margin would reach equity (0.3 = 30 vol points).",
        "The margin-aware band's fraction of the rule's band (1: not narrowed)."};
    for (int k = 0; k < (int)HT_ARRAY_LEN(names); k++) {
        bool head = false;
        for (unsigned u = 0; u < r->margin_underlyings; u++) {
            const ht_engine_margin *m = &r->margin[u];
            const bool live = m->live_updates > 0;
            const double x[] = {m->initial_coin,
                                m->maintenance_coin,
                                m->ratio,
                                m->venue_difference_coin,
                                live ? m->live_ratio : NAN,
                                live ? m->live_maintenance_coin : NAN,
                                live ? m->liquidation_spot_up : NAN,
                                live ? m->liquidation_spot_down : NAN,
                                live ? m->liquidation_vol_up : NAN,
                                live ? m->band_fraction : NAN};
            if (!isfinite(x[k]))
                continue;
            if (!head)
                prom_head(f, names[k], "gauge", helps[k]);
            head = true;
            prom_sample(f, names[k], "underlying", m->base, x[k]);
        }
    }
    prom_one(f, "hedgetrig_margin_computes_total", "counter", "Margin computations (after refreshes and fills).",
             (double)r->margin_computes);
    prom_one(f, "hedgetrig_margin_flattens_total", "counter", "Times the margin ratio reached [margin] flatten_ratio.",
             (double)r->margin_flattens);
    prom_one(f, "hedgetrig_margin_refused_orders_total", "counter",
             "Orders refused at the flatten level because they would have raised the margin.",
             (double)r->margin_refused);
    prom_one(f, "hedgetrig_margin_killed", "gauge", "1 once the margin ratio reached [margin] kill_ratio.",
             r->margin_killed ? 1.0 : 0.0);
}

/* Orders, the rate limits and the feed. */
static void prom_orders(FILE *f, const slow_half *s)
{
    const ht_engine_report *r = &s->rep;
    prom_one(f, "hedgetrig_orders_sent_total", "counter", "Hedge orders sent.", (double)r->orders);
    prom_one(f, "hedgetrig_orders_filled_total", "counter", "Fills of hedge orders.", (double)r->fills);
    prom_one(f, "hedgetrig_orders_rejected_total", "counter", "Hedge orders the venue rejected.",
             (double)r->orders_rejected);
    prom_one(f, "hedgetrig_orders_refused_total", "counter", "Hedge orders the gateway's checks refused.",
             (double)r->orders_refused);
    prom_one(f, "hedgetrig_hedges_held_for_rate_total", "counter",
             "Hedges held because the venue's rate limits had no room.", (double)r->hedges_held_for_rate);
    prom_one(f, "hedgetrig_hedges_merged_total", "counter", "Held hedges merged into a later decision.",
             (double)r->hedges_merged);
    ht_venue_limits l;
    limits_now(s, &l);
    if (l.known) {
        prom_one(f, "hedgetrig_rate_limit_orders_available", "gauge",
                 "Matching-engine requests that may be sent now (the mirrored rate limit's headroom).",
                 l.orders_available);
        prom_one(f, "hedgetrig_rate_limit_credits_available", "gauge", "The non-matching requests' credits left.",
                 l.credits_available);
        prom_one(f, "hedgetrig_rate_limit_held_requests_total", "counter",
                 "Requests the gateway held back because they did not fit the rate limits.", (double)l.held);
    }
    prom_one(f, "hedgetrig_feed_gaps_total", "counter", "Sequence gaps on the market data.", (double)s->live.gaps);
    prom_one(f, "hedgetrig_feed_missed_packets_total", "counter", "Market-data packets the gaps missed.",
             (double)s->live.missed);
}

/* Every metric, in the order of docs/deployment.md. */
static void prom_write(FILE *f, const slow_half *s)
{
    const ht_engine_report *r = &s->rep;
    prom_one(f, "hedgetrig_armed", "gauge", "1 while hedging.", s->armed);
    prom_one(f, "hedgetrig_killed", "gauge", "1 when the kill switch is engaged.", s->killed);
    prom_one(f, "hedgetrig_halted", "gauge", "1 when the live book halted the orders.", s->live.halted);
    prom_one(f, "hedgetrig_packets_total", "counter", "Market-data packets received.",
             (double)atomic_load_explicit(&s->e->packets_seen, memory_order_relaxed));
    prom_one(f, "hedgetrig_ticks_total", "counter", "Index ticks through the pipeline.", (double)r->ticks);
    prom_one(f, "hedgetrig_breaches_total", "counter", "Band breaches the pipeline raised.", (double)r->breaches);
    prom_one(f, "hedgetrig_decisions_total", "counter", "Hedge decisions.", (double)r->decisions);
    prom_one(f, "hedgetrig_decisions_suppressed_total", "counter", "Decisions that sent nothing on untrusted data.",
             (double)r->decisions_suppressed);
    prom_delta(f, s);
    prom_positions(f, s);
    prom_account(f, r);
    prom_margin(f, r);
    prom_orders(f, s);
}

void slow_write_prometheus(slow_half *s)
{
    const char *path = s->e->cfg.prometheus_path;
    char tmp[HT_ENGINE_PATH_MAX + 8];
    FILE *f = slow_replace_begin(path, tmp, sizeof tmp);
    if (!f)
        return;
    prom_write(f, s); /* node_exporter never reads half a file */
    slow_replace_end(f, tmp, path);
}

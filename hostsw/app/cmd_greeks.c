/* SPDX-License-Identifier: MIT */
/* hedgetrig greeks: a book's implied vols and greeks at a moment of a capture, per position and in total. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book_market.h"
#include "cli.h"
#include "commands.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/greeks.h"
#include "hedgetrig/feed_capture.h"
#include "hedgetrig/greeks_feed.h"
#include "hedgetrig/positions.h"
#include "hedgetrig/volatility.h"

static const char *const g_usage =
    "usage: hedgetrig greeks --pcap FILE --book BOOK.csv [--at SECONDS] [--json] [options]\n"
    "\n"
    "Replays the Deribit multicast capture FILE up to a moment and prints the book's implied vols and greeks\n"
    "there, per position and in total (Black-76 on the forward, Deribit's conventions; docs/greeks.md).\n"
    "\n"
    "  --pcap FILE             the capture (pcap or pcapng)\n"
    "  --book BOOK.csv         the positions, one 'instrument,qty_contracts' a line ('#' comments)\n"
    "  --at SECONDS            the moment, in seconds after the capture's first packet (default: its end)\n"
    "  --at-time EPOCH_S       the moment on the exchange's clock, as an event log's time_s (1686858202.004):\n"
    "                          every packet that leaves the feed's clock there or before (not with --at)\n"
    "  --json                  one JSON object: {\"positions\":[...],\"total\":{...},...} (units in docs/greeks.md)\n"
    "  --convention deribit|usd  inverse options' delta: Black-76 delta minus the price in coin (deribit,\n"
    "                          default) or the USD delta (usd)\n"
    "  --forward auto|index    forward: the same-expiry future's basis, else a perpetual's, else the index\n"
    "                          (auto, default); or the index carried at r (index)\n"
    "  --rate R                interest rate for discounting and the index forward (default 0, as Deribit)\n"
    "  --year-days D           days per year for the time to expiry (default 365: ACT/365)\n"
    "  --rv-halflife SECONDS   half-life of the realised-vol filter on 1 s bars (default 60)\n"
    "  --max-book-qty N        refuse a book line whose |quantity| is above N contracts (default 1e9)\n"
    "\n"
    "An option whose mark gives no IV (below intrinsic, above its bound, no convergence) is priced at its\n"
    "expiry's smile at its strike (fallback_smile), else at its last good IV (fallback_last_iv); a stale one\n"
    "keeps its last good IV. Each fallback is flagged and named on stderr. Positions with no usable price\n"
    "(no index or mark, NaN or non-positive mark, expired, or no fallback vol) are flagged, left out of the\n"
    "totals, and named on stderr. Exit status: 0 ok, 1 the capture or the book could not be used, 2 usage error.\n";

typedef struct greeks_opts {
    const char *pcap, *book;
    double at_s;
    uint64_t at_exchange_ms; /* --at-time, 0 when not given */
    bool json;
    double rv_halflife_s;
    double max_book_qty_contracts;
    ht_greeks_config cfg;
} greeks_opts;

/* Per-underlying realised vol, fed from index events during the replay. */
typedef struct rv_state {
    ht_realvol *rv[HT_GREEKS_MAX_UNDERLYINGS];
    char index[HT_GREEKS_MAX_UNDERLYINGS][17];
    unsigned n;
} rv_state;

/* Feed callback: index prices of the underlyings' reference indices go into their realised-vol filters. */
static void on_feed_event(void *user, const ht_feed_event *ev)
{
    rv_state *rs = user;
    if (ev->kind != HT_FEED_EV_INDEX || !ev->index)
        return;
    for (unsigned u = 0; u < rs->n; u++)
        if (strcmp(rs->index[u], ev->index->name) == 0)
            ht_realvol_push(rs->rv[u], ev->index->timestamp_ms, ev->index->price);
}

/* Parses the command line into o; returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, greeks_opts *o)
{
    memset(o, 0, sizeof *o);
    o->at_s = -1.0;
    o->rv_halflife_s = 60.0;
    o->max_book_qty_contracts = HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS;
    ht_greeks_config_default(&o->cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (!v)
            return ht_cli_unknown("greeks", a, g_usage);
        i++;
        if (strcmp(a, "--pcap") == 0) {
            o->pcap = v;
        } else if (strcmp(a, "--book") == 0) {
            o->book = v;
        } else if (strcmp(a, "--at") == 0) {
            if (!ht_cli_parse_double("greeks", a, v, 0, 1e9, &o->at_s))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--at-time") == 0) {
            double t;
            if (!ht_cli_parse_double("greeks", a, v, 1, 1e11, &t))
                return HT_EXIT_USAGE;
            o->at_exchange_ms = (uint64_t)llround(t * 1000.0);
        } else if (strcmp(a, "--rate") == 0) {
            if (!ht_cli_parse_double("greeks", a, v, -0.99, 0.99, &o->cfg.rate))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--year-days") == 0) {
            if (!ht_cli_parse_double("greeks", a, v, 360, 366, &o->cfg.year_days))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--max-book-qty") == 0) {
            if (!ht_cli_parse_double("greeks", a, v, 1e-12, 1e300, &o->max_book_qty_contracts))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--rv-halflife") == 0) {
            if (!ht_cli_parse_double("greeks", a, v, 1, 86400, &o->rv_halflife_s))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--convention") == 0) {
            if (strcmp(v, "deribit") == 0)
                o->cfg.convention = HT_DELTA_DERIBIT;
            else if (strcmp(v, "usd") == 0)
                o->cfg.convention = HT_DELTA_USD;
            else
                return ht_cli_usage_error("greeks", "--convention expects deribit or usd, got '%s'", v);
        } else if (strcmp(a, "--forward") == 0) {
            if (strcmp(v, "auto") == 0)
                o->cfg.forward = HT_FORWARD_AUTO;
            else if (strcmp(v, "index") == 0)
                o->cfg.forward = HT_FORWARD_INDEX;
            else
                return ht_cli_usage_error("greeks", "--forward expects auto or index, got '%s'", v);
        } else {
            return ht_cli_unknown("greeks", a, g_usage);
        }
    }
    if (!o->pcap)
        return ht_cli_usage_error("greeks", "--pcap FILE is required");
    if (!o->book)
        return ht_cli_usage_error("greeks", "--book BOOK.csv is required");
    if (o->at_exchange_ms && o->at_s >= 0.0)
        return ht_cli_usage_error("greeks", "--at and --at-time name the moment twice: give one");
    return -1;
}

/* Prints a JSON number, or null when it is not finite. */
static void json_num(const char *key, double v, bool comma)
{
    if (isfinite(v))
        printf("\"%s\":%.12g%s", key, v, comma ? "," : "");
    else
        printf("\"%s\":null%s", key, comma ? "," : "");
}

/* The multiplier from per-unit greeks to per-contract ones: the contract size in coin (options). */
static double per_contract(const ht_greeks_result *r)
{
    const ht_instrument_spec *s = &r->pos->spec;
    return s->size_in_coin ? s->contract_size : (isfinite(r->forward) ? s->contract_size / r->forward : NAN);
}

/* A position's fallback as JSON members: "fallback" (null, "smile" or "last_iv") and, for the smile, the two
 * neighbours interpolated between ("fallback_neighbours": instrument, log_moneyness, iv). */
static void json_fallback(const ht_greeks *g, const ht_greeks_result *r)
{
    if (!(r->flags & HT_GF_FALLBACK)) {
        printf("\"fallback\":null,\"fallback_neighbours\":[],");
        return;
    }
    printf("\"fallback\":\"%s\",\"fallback_neighbours\":[", (r->flags & HT_GF_FALLBACK_SMILE) ? "smile" : "last_iv");
    for (unsigned k = 0; k < 2 && (r->flags & HT_GF_FALLBACK_SMILE); k++) {
        const char *name = ht_greeks_instrument_name(g, r->fallback_ids[k]);
        printf("%s{\"instrument\":\"%s\",", k ? "," : "", name ? name : "?");
        json_num("log_moneyness", r->fallback_x[k], true);
        json_num("iv", r->fallback_iv[k], false);
        putchar('}');
    }
    printf("],");
}

/* One position as a JSON object. */
static void json_position(const ht_greeks *g, const ht_greeks_result *r)
{
    const ht_instrument_spec *s = &r->pos->spec;
    const double m = per_contract(r);
    static const char *const fwd_names[] = {"none", "future", "perpetual", "index"};
    printf("{\"instrument\":\"%s\",", s->name);
    json_num("qty", r->pos->qty_contracts, true);
    printf("\"kind\":\"%s\",", ht_pos_kind_name(s->kind));
    if (s->kind == HT_POS_OPTION)
        printf("\"option_type\":\"%s\",", s->option_type == HT_B76_CALL ? "call" : "put");
    else
        printf("\"option_type\":null,");
    printf("\"settlement\":\"%s\",", s->inverse ? "inverse" : "linear");
    json_num("strike", s->kind == HT_POS_OPTION ? s->strike : NAN, true);
    json_num("expiry_years", r->t_years, true);
    json_num("index", r->index_price, true);
    json_num("forward", r->forward, true);
    printf("\"forward_source\":\"%s\",", fwd_names[r->forward_from]);
    json_num("mark", r->mark, true);
    json_num("price", s->kind == HT_POS_OPTION && r->in_table && !(r->flags & HT_GF_FALLBACK) ? r->mark : NAN, true);
    json_num("price_usd", r->price_usd, true);
    json_num("iv", r->iv, true);
    const bool opt = s->kind == HT_POS_OPTION;
    json_num("delta", opt ? r->delta * m : (isfinite(r->hedge_coin) ? r->hedge_coin / r->pos->qty_contracts : NAN), true);
    json_num("delta_bs", opt ? r->delta_bs * m : NAN, true);
    json_num("gamma", r->gamma * m, true);
    json_num("speed", r->speed * m, true);
    json_num("vega", r->vega * m, true);
    json_num("vanna", r->vanna * m, true);
    json_num("volga", r->volga * m, true);
    json_num("theta", r->theta_per_day * m, true);
    json_num("position_delta", opt ? r->delta * r->qty_x_mult : r->hedge_coin, true);
    printf("\"in_table\":%s,", r->in_table ? "true" : "false");
    json_fallback(g, r);
    printf("\"flags\":[");
    bool first = true;
    for (unsigned f = 0; f < HT_GF_COUNT; f++)
        if (r->flags & (1u << f)) {
            printf("%s\"%s\"", first ? "" : ",", ht_greeks_flag_name(1u << f));
            first = false;
        }
    printf("]}");
}

/* One underlying's totals as the members of a JSON object (no braces). */
static void json_underlying(const ht_greeks *g, unsigned u, double realised, const ht_iv_surface *surf,
                            uint64_t now_ms)
{
    const ht_greeks_underlying *un = ht_greeks_underlying_at(g, u);
    printf("\"underlying\":\"%s\",\"index_name\":\"%s\",", un->base, un->ref_index);
    json_num("spot", un->s0, true);
    json_num("delta", un->a, true);
    json_num("hedge_inventory", un->h, true);
    json_num("net_delta", un->a + un->h, true);
    json_num("gross_delta", un->gross_delta, true);
    json_num("gamma", un->b, true);
    json_num("speed", un->c, true);
    json_num("vanna", un->v, true);
    json_num("vega", un->vega, true);
    json_num("volga", un->volga, true);
    json_num("theta", un->theta_per_day, true);
    json_num("ref_vol", un->ref_vol, true);
    json_num("realised_vol", realised, true);
    json_num("atm_vol_1w", ht_iv_surface_atm(surf, 7.0 / 365.0, HT_IV_FROM_MARK, now_ms, 0), true);
    printf("\"positions\":%zu,\"in_table\":%zu,\"excluded\":%zu,\"hedges\":%zu,", un->options + un->hedges,
           un->in_table, un->excluded, un->hedges);
    printf("\"refresh\":{");
    json_num("move_rel", un->move_rel, true);
    json_num("vol_move", un->vol_move_max, true);
    printf("\"interval_ms\":%" PRIu64 ",", un->interval_ms);
    json_num("taylor_error_move", un->err_move, true);
    json_num("taylor_error_vol", un->err_vol, true);
    json_num("taylor_error_time", un->err_time, true);
    printf("\"budget_met\":%s}", un->budget_met ? "true" : "false");
}

/* The whole result as one JSON object. */
static void print_json(const ht_greeks *g, const greeks_opts *o, const ht_capture_info *info, uint64_t now_ms,
                       const double *realised, const ht_iv_surface *surf)
{
    printf("{\"at\":{\"seconds_from_start\":%.3f,\"exchange_time_ms\":%" PRIu64 ",\"packets\":%" PRIu64 "},",
           info->last_ns > info->first_ns ? (double)(info->last_ns - info->first_ns) / 1e9 : 0.0, now_ms,
           info->packets);
    printf("\"model\":{\"convention\":\"%s\",\"forward\":\"%s\",", o->cfg.convention == HT_DELTA_DERIBIT ? "deribit" : "usd",
           o->cfg.forward == HT_FORWARD_AUTO ? "auto" : "index");
    json_num("rate", o->cfg.rate, true);
    json_num("year_days", o->cfg.year_days, false);
    printf("},\"positions\":[");
    for (size_t i = 0; i < ht_greeks_result_count(g); i++) {
        if (i)
            putchar(',');
        json_position(g, ht_greeks_result_at(g, i));
    }
    printf("],\"underlyings\":[");
    for (unsigned u = 0; u < ht_greeks_underlying_count(g); u++) {
        printf("%s{", u ? "," : "");
        json_underlying(g, u, realised[u], surf, now_ms);
        putchar('}');
    }
    printf("],\"total\":{");
    if (ht_greeks_underlying_count(g) == 1) {
        json_underlying(g, 0, realised[0], surf, now_ms);
        putchar(',');
    }
    double vega = 0, theta = 0;
    size_t excluded = 0;
    for (unsigned u = 0; u < ht_greeks_underlying_count(g); u++) {
        vega += ht_greeks_underlying_at(g, u)->vega;
        theta += ht_greeks_underlying_at(g, u)->theta_per_day;
        excluded += ht_greeks_underlying_at(g, u)->excluded;
    }
    json_num("book_vega_usd", vega, true);
    json_num("book_theta_usd_per_day", theta, true);
    printf("\"excluded_positions\":%zu,\"iv_surface_points\":%zu}}\n", excluded, ht_iv_surface_count(surf));
}

/* The result as a readable table. */
static void print_text(const ht_greeks *g, const greeks_opts *o, const ht_capture_info *info, uint64_t now_ms,
                       const double *realised)
{
    printf("hedgetrig greeks: %s at %.3f s (exchange time %" PRIu64 " ms), %s delta convention, forward %s, r %g\n",
           o->pcap, info->last_ns > info->first_ns ? (double)(info->last_ns - info->first_ns) / 1e9 : 0.0, now_ms,
           o->cfg.convention == HT_DELTA_DERIBIT ? "Deribit (coin)" : "USD", o->cfg.forward == HT_FORWARD_AUTO ? "auto" : "index",
           o->cfg.rate);
    printf("%-26s %9s %8s %10s %7s %10s %12s %9s %10s %9s  %s\n", "instrument", "qty", "T(d)", "forward", "iv%",
           "delta", "gamma", "vega$", "theta$/d", "pos.delta", "flags");
    for (size_t i = 0; i < ht_greeks_result_count(g); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(g, i);
        const bool opt = r->pos->spec.kind == HT_POS_OPTION;
        const double m = per_contract(r);
        char flags[160];
        ht_greeks_flags_format(r->flags, flags, sizeof flags);
        printf("%-26s %9g %8.3f %10.2f %7.2f %10.5f %12.4e %9.3f %10.3f %9.4f  %s\n", r->pos->spec.name,
               r->pos->qty_contracts, r->t_years * o->cfg.year_days, r->forward, r->iv * 100.0,
               opt ? r->delta * m : r->hedge_coin / r->pos->qty_contracts, r->gamma * m, r->vega * m,
               r->theta_per_day * m, opt ? r->delta * r->qty_x_mult : r->hedge_coin, flags);
    }
    for (unsigned u = 0; u < ht_greeks_underlying_count(g); u++) {
        const ht_greeks_underlying *un = ht_greeks_underlying_at(g, u);
        printf("\n%s on %s = %.2f: options delta %.6f + hedges %.6f = net delta %.6f %s (gross %.4f)\n", un->base,
               un->ref_index, un->s0, un->a, un->h, un->a + un->h, un->base, un->gross_delta);
        printf("  gamma %.6e /USD, speed %.6e /USD^2, vanna %.6f per unit vol, vega %.2f USD, volga %.2f USD, "
               "theta %.2f USD/day\n",
               un->b, un->c, un->v, un->vega, un->volga, un->theta_per_day);
        printf("  vega-weighted IV %.2f%%, realised vol %.2f%%; %zu options in the table, %zu excluded, %zu hedges\n",
               un->ref_vol * 100.0, realised[u] * 100.0, un->in_table, un->excluded, un->hedges);
        printf("  re-centre when |dS|/S0 > %.4g, |d sigma| > %.4g or after %" PRIu64 " ms (Taylor error there: %.3g, "
               "%.3g, %.3g %s; budget %.3g)%s\n",
               un->move_rel, un->vol_move_max, un->interval_ms, un->err_move, un->err_vol, un->err_time, un->base,
               o->cfg.refresh.error_budget * un->gross_delta, un->budget_met ? "" : " BUDGET NOT MET");
    }
}

/* Warns on stderr about each position priced at a fallback vol or excluded from the totals, then the counts. */
static void warn_excluded(const ht_greeks *g, const greeks_opts *o)
{
    size_t excluded = 0, fallback = 0;
    for (size_t i = 0; i < ht_greeks_result_count(g); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(g, i);
        if (!(r->flags & HT_GF_EXCLUDING))
            continue;
        char flags[160];
        ht_greeks_flags_format(r->flags & HT_GF_EXCLUDING, flags, sizeof flags);
        if (r->flags & HT_GF_FALLBACK) {
            fprintf(stderr, "hedgetrig greeks: warning: %s (%s line %u) %s: priced at a fallback vol %.4f (%s)\n",
                    r->pos->spec.name, o->book, r->pos->line, flags, r->iv,
                    (r->flags & HT_GF_FALLBACK_SMILE) ? "its expiry's smile at its strike" : "its last good IV");
            fallback++;
            continue;
        }
        fprintf(stderr, "hedgetrig greeks: warning: %s (%s line %u) excluded: %s (mark %.10g, index %.10g)\n",
                r->pos->spec.name, o->book, r->pos->line, flags, r->mark, r->index_price);
        excluded++;
    }
    if (fallback)
        fprintf(stderr, "hedgetrig greeks: %zu of %zu positions priced at a fallback vol\n", fallback,
                ht_greeks_result_count(g));
    if (excluded)
        fprintf(stderr, "hedgetrig greeks: %zu of %zu positions excluded from the totals\n", excluded,
                ht_greeks_result_count(g));
}

int cmd_greeks(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    greeks_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    ht_error err;
    ht_capture_info info;
    ht_positions *book = NULL;
    ht_greeks *g = NULL;
    rc = ht_app_load_book_greeks("greeks", o.pcap, o.book, o.max_book_qty_contracts, &o.cfg, &info, &book, &g);
    if (rc != HT_EXIT_OK)
        return rc;

    /* Pass 2: the market up to the moment asked for, with realised vol on each reference index. */
    rv_state rs = {0};
    rs.n = ht_greeks_underlying_count(g);
    for (unsigned u = 0; u < rs.n; u++) {
        snprintf(rs.index[u], sizeof rs.index[u], "%s", ht_greeks_underlying_at(g, u)->ref_index);
        rs.rv[u] = ht_realvol_create(1000, o.rv_halflife_s, o.cfg.year_days, &err);
        if (!rs.rv[u])
            rc = ht_cli_fail("greeks", "%s", err.msg);
    }
    ht_feed_config fc;
    ht_feed_config_default(&fc);
    fc.on_event = on_feed_event;
    fc.user = &rs;
    ht_feed *feed = rc == HT_EXIT_OK ? ht_feed_create(&fc, &err) : NULL;
    ht_iv_surface *surf = feed ? ht_iv_surface_create(4096, &err) : NULL;
    if (rc == HT_EXIT_OK && (!feed || !surf))
        rc = ht_cli_fail("greeks", "%s", err.msg);
    if (rc == HT_EXIT_OK &&
        (o.at_exchange_ms ? ht_feed_replay_capture_until_time(o.pcap, feed, o.at_exchange_ms, &info, &err)
                          : ht_feed_replay_capture(o.pcap, feed, o.at_s, &info, &err)) != 0)
        rc = ht_cli_fail("greeks", "%s", err.msg);
    if (rc == HT_EXIT_OK && o.at_exchange_ms && info.reached_end && ht_feed_now_ms(feed) < o.at_exchange_ms)
        rc = ht_cli_fail("greeks", "%s: the exchange's clock never reaches %.3f (its last time is %.3f)", o.pcap,
                         (double)o.at_exchange_ms / 1e3, (double)ht_feed_now_ms(feed) / 1e3);
    if (rc == HT_EXIT_OK && info.packets == 0)
        rc = o.at_exchange_ms ? ht_cli_fail("greeks", "%s: no packet at or before the exchange time %.3f", o.pcap,
                                            (double)o.at_exchange_ms / 1e3)
                              : ht_cli_fail("greeks", "%s: no packet at or before %g s", o.pcap, o.at_s);
    if (rc == HT_EXIT_OK) {
        const uint64_t now_ms = ht_feed_now_ms(feed);
        ht_greeks_pull_feed(g, feed);
        ht_greeks_recompute(g, now_ms);
        ht_greeks_surface_from_feed(g, feed, surf, now_ms);
        double realised[HT_GREEKS_MAX_UNDERLYINGS];
        for (unsigned u = 0; u < rs.n; u++)
            realised[u] = ht_realvol_sigma(rs.rv[u]);
        warn_excluded(g, &o);
        if (o.json)
            print_json(g, &o, &info, now_ms, realised, surf);
        else
            print_text(g, &o, &info, now_ms, realised);
    }
    ht_iv_surface_destroy(surf);
    ht_feed_destroy(feed);
    for (unsigned u = 0; u < rs.n; u++)
        ht_realvol_destroy(rs.rv[u]);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
    return rc;
}

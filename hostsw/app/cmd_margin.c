/* SPDX-License-Identifier: MIT */
/* hedgetrig margin: a book's Deribit margin (standard or portfolio) at a moment of a capture, per position and in
 * total, and with the account's equity the distance to liquidation. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book_market.h"
#include "cli.h"
#include "commands.h"
#include "hedgetrig/feed_capture.h"
#include "hedgetrig/greeks_feed.h"
#include "hedgetrig/margin.h"

static const char *const g_usage =
    "usage: hedgetrig margin --pcap FILE --book BOOK.csv --at SECONDS [--model standard|portfolio]\n"
    "                        [--equity COIN] [--json] [--max-book-qty N]\n"
    "\n"
    "Replays the Deribit multicast capture FILE up to a moment and prints the book's Deribit margin there, per\n"
    "position and in total: initial and maintenance margin in the currency each position settles in (coin for\n"
    "inverse instruments, USDC for linear ones), and both sides together in coin at the index (docs/margin.md).\n"
    "\n"
    "  --pcap FILE             the capture (pcap or pcapng)\n"
    "  --book BOOK.csv         the positions, one 'instrument,qty_contracts' a line ('#' comments)\n"
    "  --at SECONDS            the moment, in seconds after the capture's first packet (within the capture)\n"
    "  --model standard|portfolio  Deribit's standard margin (default: per position, Deribit's formulas) or\n"
    "                          portfolio margin (the book revalued over Deribit's grid of price moves and vol\n"
    "                          shocks, the worst loss plus the contingencies; per position: the position alone)\n"
    "  --equity COIN           the account's equity in coin (> 0): prints the margin ratio (maintenance over\n"
    "                          equity) and the distance to liquidation: the spot move up and down and the\n"
    "                          parallel vol rise at which maintenance margin reaches equity\n"
    "  --json                  one JSON object: {\"positions\":[...],\"totals\":{...},...} (docs/margin.md)\n"
    "  --max-book-qty N        refuse a book line whose |quantity| is above N contracts (default 1e9)\n"
    "\n"
    "A position without a usable price at the moment (no mark or index, expired, no implied vol) is named on\n"
    "stderr and left out of the totals. Exit status: 0 ok, 1 the capture or the book could not be used (or the\n"
    "moment is past the capture's end), 2 usage error.\n";

typedef struct margin_opts {
    const char *pcap, *book;
    double at_s;
    ht_margin_model model;
    double equity_coin; /* NAN when not given */
    bool json;
    double max_book_qty_contracts;
} margin_opts;

/* What the command computed for one underlying (base coin). */
typedef struct margin_result {
    const ht_greeks_underlying *un;
    size_t n;                       /* positions margined */
    ht_margin_position *pos;        /* n */
    ht_margin_figures *figures;     /* n */
    ht_margin_account account;
    ht_margin_distance distance;
    bool have_distance;
} margin_result;

/* Parses the value of an option that takes one (argv[*i] the option, *i advanced). -1 to go on, else exit. */
static int parse_value(const char *a, const char *v, margin_opts *o)
{
    if (strcmp(a, "--pcap") == 0) {
        o->pcap = v;
    } else if (strcmp(a, "--book") == 0) {
        o->book = v;
    } else if (strcmp(a, "--at") == 0) {
        if (!ht_cli_parse_double("margin", a, v, 0, 1e9, &o->at_s))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--equity") == 0) {
        if (!ht_cli_parse_double("margin", a, v, 1e-12, 1e12, &o->equity_coin))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--max-book-qty") == 0) {
        if (!ht_cli_parse_double("margin", a, v, 1e-12, 1e300, &o->max_book_qty_contracts))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--model") == 0) {
        if (strcmp(v, "standard") == 0)
            o->model = HT_MARGIN_STANDARD;
        else if (strcmp(v, "portfolio") == 0)
            o->model = HT_MARGIN_PORTFOLIO;
        else
            return ht_cli_usage_error("margin", "--model expects standard or portfolio, got '%s'", v);
    } else {
        return ht_cli_unknown("margin", a, g_usage);
    }
    return -1;
}

/* Parses the command line into o; returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, margin_opts *o)
{
    memset(o, 0, sizeof *o);
    o->at_s = -1.0;
    o->equity_coin = NAN;
    o->model = HT_MARGIN_STANDARD;
    o->max_book_qty_contracts = HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (i + 1 >= argc)
            return ht_cli_unknown("margin", a, g_usage);
        const int rc = parse_value(a, argv[++i], o);
        if (rc >= 0)
            return rc;
    }
    if (!o->pcap)
        return ht_cli_usage_error("margin", "--pcap FILE is required");
    if (!o->book)
        return ht_cli_usage_error("margin", "--book BOOK.csv is required");
    if (o->at_s < 0.0)
        return ht_cli_usage_error("margin", "--at SECONDS is required");
    return -1;
}

/* The settlement currency's name of a position: its coin, or USDC. */
static const char *currency_of(const ht_instrument_spec *s)
{
    return ht_margin_settles_in_coin(s) ? s->base_currency : "USDC";
}

/* A position's margin inputs from its greeks result. */
static ht_margin_position position_of(const ht_greeks_result *r)
{
    return (ht_margin_position){&r->pos->spec, r->pos->qty_contracts, r->mark, r->forward, r->index_price, r->iv,
                                r->t_years};
}

/* The positions of underlying u that can be margined into res (the others named on stderr). */
static int collect(const ht_greeks *g, unsigned u, const margin_opts *o, margin_result *res, size_t *excluded)
{
    const size_t count = ht_greeks_result_count(g);
    res->pos = calloc(count ? count : 1, sizeof *res->pos);
    res->figures = calloc(count ? count : 1, sizeof *res->figures);
    if (!res->pos || !res->figures)
        return ht_cli_fail("margin", "out of memory for %zu positions", count);
    for (size_t i = 0; i < count; i++) {
        const ht_greeks_result *r = ht_greeks_result_at(g, i);
        if (r->underlying != u)
            continue;
        if (!HT_GREEKS_USABLE(r)) {
            char flags[160];
            ht_greeks_flags_format(r->flags & HT_GF_EXCLUDING, flags, sizeof flags);
            fprintf(stderr, "hedgetrig margin: warning: %s (%s line %u) left out of the margin: %s\n",
                    r->pos->spec.name, o->book, r->pos->line, flags);
            (*excluded)++;
            continue;
        }
        res->pos[res->n++] = position_of(r);
    }
    return HT_EXIT_OK;
}

/* The margin of one underlying, and with equity its distance to liquidation. */
static int compute(const margin_opts *o, const ht_margin_params *p, margin_result *res)
{
    ht_error err;
    if (ht_margin_account_compute(o->model, p, res->pos, res->n, NULL, res->figures, &res->account, &err) != 0)
        return ht_cli_fail("margin", "%s: %s", o->book, err.msg);
    if (isnan(o->equity_coin))
        return HT_EXIT_OK;
    if (ht_margin_distance_compute(o->model, p, res->pos, res->n, o->equity_coin, 5.0, 0.95, 5.0, &res->distance,
                                   &err) != 0)
        return ht_cli_fail("margin", "%s: %s", o->book, err.msg);
    res->have_distance = true;
    return HT_EXIT_OK;
}

/* Prints a JSON number, or null when it is not finite. */
static void json_num(const char *key, double v, bool comma)
{
    if (isfinite(v))
        printf("\"%s\":%.12g%s", key, v, comma ? "," : "");
    else
        printf("\"%s\":null%s", key, comma ? "," : "");
}

/* A portfolio's detail as a JSON object (null when it holds no position). */
static void json_pm(const char *key, const ht_margin_pm_detail *d, bool comma)
{
    if (!d->positions) {
        printf("\"%s\":null%s", key, comma ? "," : "");
        return;
    }
    printf("\"%s\":{", key);
    json_num("worst_loss", d->worst_loss, true);
    json_num("worst_move", d->worst_move, true);
    printf("\"worst_vol\":\"%s\",", d->worst_vol > 0 ? "up" : d->worst_vol < 0 ? "down" : "same");
    json_num("extended_worst_loss", d->extended_worst_loss, true);
    json_num("extended_worst_move", d->extended_worst_move, true);
    json_num("short_option_contingency", d->short_option_contingency, true);
    json_num("futures_offset_contingency", d->futures_offset_contingency, true);
    json_num("initial_margin", d->initial, true);
    json_num("maintenance_margin", d->maintenance, false);
    printf("}%s", comma ? "," : "");
}

/* One underlying's result as a JSON object. */
static void json_underlying(const margin_opts *o, const margin_result *res)
{
    const ht_margin_account *a = &res->account;
    printf("{\"underlying\":\"%s\",", res->un->base);
    json_num("index", a->index_usd, true);
    printf("\"positions\":[");
    for (size_t i = 0; i < res->n; i++) {
        const ht_margin_position *q = &res->pos[i];
        printf("%s{\"instrument\":\"%s\",", i ? "," : "", q->spec->name);
        json_num("qty", q->qty_contracts, true);
        printf("\"kind\":\"%s\",\"currency\":\"%s\",", ht_pos_kind_name(q->spec->kind), currency_of(q->spec));
        json_num("initial_margin", res->figures[i].initial, true);
        json_num("maintenance_margin", res->figures[i].maintenance, false);
        putchar('}');
    }
    printf("],\"totals\":{\"coin\":{\"currency\":\"%s\",", res->un->base);
    json_num("initial_margin", a->initial_coin, true);
    json_num("maintenance_margin", a->maintenance_coin, false);
    printf("},\"usdc\":{\"currency\":\"USDC\",");
    json_num("initial_margin", a->initial_usdc, true);
    json_num("maintenance_margin", a->maintenance_usdc, false);
    printf("},\"total_in_coin\":{\"currency\":\"%s\",", res->un->base);
    json_num("initial_margin", a->initial_total_coin, true);
    json_num("maintenance_margin", a->maintenance_total_coin, false);
    printf("}},\"portfolio\":");
    if (o->model == HT_MARGIN_PORTFOLIO) {
        putchar('{');
        json_pm("coin", &a->pm_coin, true);
        json_pm("usdc", &a->pm_usdc, false);
        putchar('}');
    } else {
        printf("null");
    }
    printf(",\"equity\":");
    if (!res->have_distance) {
        printf("null}");
        return;
    }
    printf("{");
    json_num("equity_coin", o->equity_coin, true);
    json_num("margin_ratio", res->distance.ratio, true);
    printf("\"already_liquidating\":%s,", res->distance.already ? "true" : "false");
    json_num("liquidation_spot_up", res->distance.already ? 0.0 : res->distance.spot_up_rel, true);
    json_num("liquidation_spot_down", res->distance.already ? 0.0 : res->distance.spot_down_rel, true);
    json_num("liquidation_vol_up", res->distance.already ? 0.0 : res->distance.vol_up, false);
    printf("}}");
}

/* A distance for the text output: "+12.34 %" or "none within <limit>". */
static void text_distance(const char *what, double x, double scale, const char *unit, const char *limit)
{
    if (isfinite(x))
        printf("  %s %+.2f %s\n", what, x * scale, unit);
    else
        printf("  %s none within %s\n", what, limit);
}

/* One underlying's result as a readable table. */
static void print_text(const margin_opts *o, const margin_result *res)
{
    const ht_margin_account *a = &res->account;
    printf("%-26s %10s %16s %19s  %s\n", "instrument", "qty", "initial_margin", "maintenance_margin", "currency");
    for (size_t i = 0; i < res->n; i++) {
        const ht_margin_position *q = &res->pos[i];
        printf("%-26s %10g %16.8f %19.8f  %s\n", q->spec->name, q->qty_contracts, res->figures[i].initial,
               res->figures[i].maintenance, currency_of(q->spec));
    }
    const char *coin = res->un->base;
    printf("\n%s %s margin: %s side initial %.8f, maintenance %.8f %s; USDC side initial %.2f, maintenance %.2f"
           " USDC\n", coin, o->model == HT_MARGIN_PORTFOLIO ? "portfolio" : "standard", coin, a->initial_coin,
           a->maintenance_coin, coin, a->initial_usdc, a->maintenance_usdc);
    printf("  total in %s at index %.2f: initial %.8f, maintenance %.8f\n", coin, a->index_usd, a->initial_total_coin,
           a->maintenance_total_coin);
    for (int side = 0; o->model == HT_MARGIN_PORTFOLIO && side < 2; side++) {
        const ht_margin_pm_detail *d = side ? &a->pm_usdc : &a->pm_coin;
        if (d->positions)
            printf("  %s portfolio: worst loss %.8f at move %+.0f %% vol %s; extended table worst %.8f at %+.0f %%"
                   " (not in the margin); contingencies: short options %.8f, offsetting futures %.8f\n",
                   side ? "USDC" : coin, d->worst_loss, d->worst_move * 100.0,
                   d->worst_vol > 0 ? "up" : d->worst_vol < 0 ? "down" : "same", d->extended_worst_loss,
                   d->extended_worst_move * 100.0, d->short_option_contingency, d->futures_offset_contingency);
    }
    if (!res->have_distance)
        return;
    printf("  equity %.8f %s: margin ratio %.4f (maintenance / equity)%s\n", o->equity_coin, coin,
           res->distance.ratio, res->distance.already ? ": maintenance margin is at or above equity now" : "");
    if (res->distance.already)
        return;
    text_distance("liquidation at spot", res->distance.spot_up_rel, 100.0, "%", "+500 %");
    text_distance("liquidation at spot", res->distance.spot_down_rel, 100.0, "%", "-95 %");
    text_distance("liquidation at vol ", res->distance.vol_up, 100.0, "vol points", "+500 vol points");
}

/* Pass 2: the market up to the moment, the greeks there. Returns HT_EXIT_OK or HT_EXIT_FAIL (printed). */
static int replay_to_moment(const margin_opts *o, ht_greeks *g, ht_capture_info *info, uint64_t *now_ms)
{
    ht_error err;
    ht_feed *feed = ht_feed_create(NULL, &err);
    if (!feed)
        return ht_cli_fail("margin", "%s", err.msg);
    int rc = HT_EXIT_OK;
    const double end_s = info->last_ns > info->first_ns ? (double)(info->last_ns - info->first_ns) / 1e9 : 0.0;
    if (o->at_s > end_s)
        rc = ht_cli_fail("margin", "%s: --at %g s is past the capture's end (its last packet is %.3f s after its "
                         "first)", o->pcap, o->at_s, end_s);
    else if (ht_feed_replay_capture(o->pcap, feed, o->at_s, info, &err) != 0)
        rc = ht_cli_fail("margin", "%s", err.msg);
    else if (info->packets == 0)
        rc = ht_cli_fail("margin", "%s: no packet at or before %g s", o->pcap, o->at_s);
    if (rc == HT_EXIT_OK) {
        *now_ms = ht_feed_now_ms(feed);
        ht_greeks_pull_feed(g, feed);
        ht_greeks_recompute(g, *now_ms);
    }
    ht_feed_destroy(feed);
    return rc;
}

/* Computes and prints every underlying's margin. */
static int run(const margin_opts *o, const ht_greeks *g, const ht_capture_info *info, uint64_t now_ms)
{
    ht_margin_params p;
    ht_margin_params_default(&p);
    const unsigned nu = ht_greeks_underlying_count(g);
    margin_result res[HT_GREEKS_MAX_UNDERLYINGS];
    memset(res, 0, sizeof res);
    size_t excluded = 0;
    int rc = HT_EXIT_OK;
    for (unsigned u = 0; u < nu && rc == HT_EXIT_OK; u++) {
        res[u].un = ht_greeks_underlying_at(g, u);
        rc = collect(g, u, o, &res[u], &excluded);
        if (rc == HT_EXIT_OK)
            rc = compute(o, &p, &res[u]);
    }
    if (excluded)
        fprintf(stderr, "hedgetrig margin: %zu of %zu positions left out of the margin\n", excluded,
                ht_greeks_result_count(g));
    const double at_s = (double)(info->last_ns - info->first_ns) / 1e9;
    if (rc == HT_EXIT_OK && o->json) {
        printf("{\"at\":{\"seconds_from_start\":%.3f,\"exchange_time_ms\":%" PRIu64 "},\"model\":\"%s\","
               "\"excluded_positions\":%zu,\"underlyings\":[", at_s, now_ms,
               o->model == HT_MARGIN_PORTFOLIO ? "portfolio" : "standard", excluded);
        for (unsigned u = 0; u < nu; u++) {
            if (u)
                putchar(',');
            json_underlying(o, &res[u]);
        }
        printf("]}\n");
    } else if (rc == HT_EXIT_OK) {
        printf("hedgetrig margin: %s at %.3f s (exchange time %" PRIu64 " ms), Deribit %s margin\n", o->pcap, at_s,
               now_ms, o->model == HT_MARGIN_PORTFOLIO ? "portfolio" : "standard");
        for (unsigned u = 0; u < nu; u++)
            print_text(o, &res[u]);
    }
    for (unsigned u = 0; u < nu; u++) {
        free(res[u].pos);
        free(res[u].figures);
    }
    return rc;
}

int cmd_margin(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    margin_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    ht_capture_info info;
    ht_positions *book = NULL;
    ht_greeks *g = NULL;
    rc = ht_app_load_book_greeks("margin", o.pcap, o.book, o.max_book_qty_contracts, &cfg, &info, &book, &g);
    if (rc != HT_EXIT_OK)
        return rc;
    uint64_t now_ms = 0;
    rc = replay_to_moment(&o, g, &info, &now_ms);
    if (rc == HT_EXIT_OK)
        rc = run(&o, g, &info, now_ms);
    ht_greeks_destroy(g);
    ht_positions_destroy(book);
    return rc;
}

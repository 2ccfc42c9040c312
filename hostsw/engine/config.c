/* SPDX-License-Identifier: MIT */
/* The engine's configuration: defaults, the config file's sections, and the checks (keys in docs/deployment.md). */
#include <arpa/inet.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"
#include "hedgetrig/parse.h"

void ht_engine_config_default(ht_engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->series_every = 1;
    cfg->max_book_qty_contracts = HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS;
    cfg->arm_timeout_ms = 30000;
    cfg->order_timeout_ms = 2000;
    cfg->check = true;
    cfg->prearm = true;
    cfg->margin_on = true;
    cfg->margin_model = HT_MARGIN_STANDARD;
    cfg->margin_band_min_fraction = 0.25;
    cfg->backend = HT_PIPE_BACKEND_SW;
    cfg->clock_mhz = 250.0;
    snprintf(cfg->strategy, sizeof cfg->strategy, "%s", HT_ENGINE_DEFAULT_STRATEGY);
    cfg->min_half_width_coin = HT_ENGINE_DEFAULT_MIN_HALF_WIDTH_COIN;
    cfg->n_venues = 1;
    snprintf(cfg->venues[0], sizeof cfg->venues[0], "BTC-PERPETUAL");
    cfg->collar_frac = 0.005;
    ht_opt_config_default(&cfg->opt);
    ht_greeks_config_default(&cfg->greeks);
    cfg->venue = HT_ENGINE_VENUE_SIM;
    cfg->synthetic_levels = 10;
    cfg->synthetic_level_amount = 100000.0;
    cfg->synthetic_half_spread_bps = 1.0;
    cfg->synthetic_step_bps = 1.0;
    ht_gw_config_default(&cfg->gw);
    cfg->source = HT_ENGINE_SOURCE_NIC;
    ht_nic_config_default(&cfg->nic);
    cfg->hot_cpu = -1;
    cfg->slow_cpu = -1;
    cfg->ring_bytes = 1u << 22;
}

/* Parses a finite number written in decimal (an underflow reads as 0). */
static bool num(const char *v, double *out)
{
    return ht_parse_double(v, HT_PARSE_UNDERFLOW_OK, out) == HT_PARSE_OK;
}

/* Parses an integer in [lo, hi] (strtol's grammar: a sign may lead). */
static bool int_in(const char *v, long lo, long hi, int *out)
{
    int64_t x;
    if (ht_parse_i64(v, lo, hi, HT_PARSE_STRTOL_GRAMMAR, &x) != HT_PARSE_OK)
        return false;
    *out = (int)x;
    return true;
}

/* Parses [engine] allow_unpriced: instrument names, comma-separated (empty: none). */
static bool allow_list(ht_engine_config *c, const char *v)
{
    char buf[HT_ENGINE_MAX_ALLOW_UNPRICED * 49];
    if (strlen(v) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", v);
    unsigned n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (n == HT_ENGINE_MAX_ALLOW_UNPRICED || strlen(t) >= sizeof c->allow_unpriced[0] ||
            strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(t))
            return false;
        snprintf(c->allow_unpriced[n++], sizeof c->allow_unpriced[0], "%s", t);
    }
    c->n_allow_unpriced = n;
    return true;
}

/* [engine] keys. */
static bool engine_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "book"))
        return *expected = "a file path", ht_conf_str(c->book_path, sizeof c->book_path, v, false);
    if (!strcmp(k, "max_book_qty_contracts"))
        return *expected = "a number > 0 (contracts)",
               num(v, &c->max_book_qty_contracts) && c->max_book_qty_contracts > 0;
    if (!strcmp(k, "table_log"))
        return *expected = "a file path or empty", ht_conf_str(c->table_log, sizeof c->table_log, v, true);
    if (!strcmp(k, "event_log"))
        return *expected = "a file path or empty", ht_conf_str(c->event_log, sizeof c->event_log, v, true);
    if (!strcmp(k, "series"))
        return *expected = "a file path or empty", ht_conf_str(c->series_path, sizeof c->series_path, v, true);
    if (!strcmp(k, "series_every"))
        return *expected = "1..1000000", ht_conf_u32(v, 1, 1000000, &c->series_every);
    if (!strcmp(k, "arm_timeout_ms"))
        return *expected = "1..86400000", ht_conf_u32(v, 1, 86400000, &c->arm_timeout_ms);
    if (!strcmp(k, "order_timeout_ms"))
        return *expected = "10..600000", ht_conf_u32(v, 10, 600000, &c->order_timeout_ms);
    if (!strcmp(k, "prearm"))
        return *expected = "yes or no", ht_conf_bool(v, &c->prearm);
    if (!strcmp(k, "wire"))
        return *expected = "on or off", ht_conf_bool(v, &c->wire);
    if (!strcmp(k, "check"))
        return *expected = "yes or no", ht_conf_bool(v, &c->check);
    if (!strcmp(k, "allow_unpriced"))
        return *expected = "instrument names ([A-Za-z0-9_-], up to 47 characters), comma-separated",
               allow_list(c, v);
    *known = false;
    return false;
}

/* [pipeline] keys. */
static bool pipeline_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "backend"))
        return *expected = "sw, verilator or xrt", ht_pipe_backend_parse(v, &c->backend, NULL) == 0;
    if (!strcmp(k, "xclbin"))
        return *expected = "a file path", ht_conf_str(c->xclbin, sizeof c->xclbin, v, true);
    if (!strcmp(k, "device")) {
        int d;
        *expected = "a device index 0..63";
        if (!int_in(v, 0, 63, &d))
            return false;
        c->xrt_device = (unsigned)d;
        return true;
    }
    if (!strcmp(k, "clock_mhz"))
        return *expected = "1..2000", num(v, &c->clock_mhz) && c->clock_mhz >= 1 && c->clock_mhz <= 2000;
    if (!strcmp(k, "event_capacity"))
        return *expected = "0 or a power of two 16..1048576", ht_conf_u32(v, 0, 1u << 20, &c->event_capacity);
    *known = false;
    return false;
}

/* Parses a comma-separated list of instrument names into the venues; a name that is not one (it becomes Symbol 55
 * of every hedge order) points *expected at the reason, which names the byte and its offset. */
static bool venue_list(ht_engine_config *c, const char *v, const char **expected)
{
    static __thread ht_error bad;
    char buf[512];
    if (strlen(v) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", v);
    unsigned n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (ht_gw_check_symbol("an instrument name (Symbol 55)", t, &bad) != 0) {
            *expected = bad.msg;
            return false;
        }
        if (n == HT_ENGINE_MAX_VENUES || strlen(t) >= sizeof c->venues[0])
            return false;
        snprintf(c->venues[n++], sizeof c->venues[0], "%s", t);
    }
    c->n_venues = n;
    return n > 0;
}

/* [hedge] keys. */
static bool hedge_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "strategy")) {
        ht_opt_strategy s;
        *expected = "a strategy: fixed:X, fixed:X%, ww:GAMMA, zak:GAMMA, move:H, time:S, leland:S (docs/optimizer.md)";
        return ht_opt_strategy_parse(v, 1000000000, &s, NULL) == 0 &&
               ht_conf_str(c->strategy, sizeof c->strategy, v, false);
    }
    if (!strcmp(k, "min_half_width"))
        return *expected = "a number >= 0 (coins)", ht_conf_nonneg(v, &c->min_half_width_coin);
    if (!strcmp(k, "max_half_width"))
        return *expected = "a number >= 0 (coins, 0 = no limit)", ht_conf_nonneg(v, &c->max_half_width_coin);
    if (!strcmp(k, "venues"))
        return *expected = "1 to 4 instrument names, comma-separated", venue_list(c, v, expected);
    if (!strcmp(k, "collar"))
        return *expected = "a fraction in (0, 0.5)", num(v, &c->collar_frac) && c->collar_frac > 0 && c->collar_frac < 0.5;
    static const struct {
        const char *key;
        size_t off;
    } nonneg[] = {
        {"impact_y", offsetof(ht_opt_config, impact_y)}, {"impact_horizon_s", offsetof(ht_opt_config, impact_horizon_s)},
        {"latency_s", offsetof(ht_opt_config, latency_s)}, {"adverse_coef", offsetof(ht_opt_config, adverse_coef)},
        {"fixed_cost_usd", offsetof(ht_opt_config, fixed_cost_usd)},
        {"min_hedge_coin", offsetof(ht_opt_config, min_hedge_coin)},
        {"max_orders_per_s", offsetof(ht_opt_config, max_orders_per_s)},
        {"burst_orders", offsetof(ht_opt_config, burst_orders)},
    };
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++)
        if (!strcmp(k, nonneg[i].key))
            return *expected = "a number >= 0", ht_conf_nonneg(v, (double *)((char *)&c->opt + nonneg[i].off));
    uint32_t ms;
    if (!strcmp(k, "min_interval_ms") || !strcmp(k, "retry_ms")) {
        *expected = "0..86400000 (ms)";
        if (!ht_conf_u32(v, 0, 86400000, &ms))
            return false;
        *(!strcmp(k, "retry_ms") ? &c->opt.retry_ns : &c->opt.min_interval_ns) = (int64_t)ms * 1000000;
        return true;
    }
    *known = false;
    return false;
}

/* [greeks] keys. */
static bool greeks_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    ht_greeks_config *g = &c->greeks;
    ht_refresh_config *r = &g->refresh;
    if (!strcmp(k, "rate"))
        return *expected = "a number", num(v, &g->rate);
    if (!strcmp(k, "year_days"))
        return *expected = "360..366", num(v, &g->year_days);
    if (!strcmp(k, "convention")) {
        *expected = "deribit or usd";
        if (!strcmp(v, "deribit") || !strcmp(v, "usd")) {
            g->convention = !strcmp(v, "deribit") ? HT_DELTA_DERIBIT : HT_DELTA_USD;
            return true;
        }
        return false;
    }
    if (!strcmp(k, "forward")) {
        *expected = "auto or index";
        if (!strcmp(v, "auto") || !strcmp(v, "index")) {
            g->forward = !strcmp(v, "auto") ? HT_FORWARD_AUTO : HT_FORWARD_INDEX;
            return true;
        }
        return false;
    }
    uint32_t u32;
    if (!strcmp(k, "max_quote_age_ms")) {
        *expected = "0..86400000";
        if (!ht_conf_u32(v, 0, 86400000, &u32))
            return false;
        g->max_quote_age_ms = u32;
        return true;
    }
    if (!strcmp(k, "refresh_max_move"))
        return *expected = "a fraction in (0, 0.5]", num(v, &r->max_move_rel);
    if (!strcmp(k, "refresh_min_move"))
        return *expected = "a fraction > 0", num(v, &r->min_move_rel);
    if (!strcmp(k, "refresh_max_vol_move"))
        return *expected = "a vol move > 0 (0.01 = 1 point)", num(v, &r->max_vol_move);
    if (!strcmp(k, "refresh_min_vol_move"))
        return *expected = "a vol move > 0", num(v, &r->min_vol_move);
    if (!strcmp(k, "refresh_error_budget"))
        return *expected = "a fraction > 0", num(v, &r->error_budget);
    if (!strcmp(k, "refresh_adaptive"))
        return *expected = "yes or no", ht_conf_bool(v, &r->adaptive);
    if (!strcmp(k, "refresh_max_interval_ms") || !strcmp(k, "refresh_min_interval_ms")) {
        *expected = "1..86400000";
        if (!ht_conf_u32(v, 1, 86400000, &u32))
            return false;
        *(!strcmp(k, "refresh_max_interval_ms") ? &r->max_interval_ms : &r->min_interval_ms) = u32;
        return true;
    }
    *known = false;
    return false;
}

/* [venue] keys. */
static bool venue_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "kind")) {
        *expected = "sim or fix";
        if (!strcmp(v, "sim") || !strcmp(v, "fix")) {
            c->venue = !strcmp(v, "sim") ? HT_ENGINE_VENUE_SIM : HT_ENGINE_VENUE_FIX;
            return true;
        }
        return false;
    }
    if (!strcmp(k, "secrets"))
        return *expected = "a file path", ht_conf_str(c->secrets_path, sizeof c->secrets_path, v, true);
    if (!strcmp(k, "book")) {
        *expected = "feed or synthetic";
        if (strcmp(v, "feed") != 0 && strcmp(v, "synthetic") != 0)
            return false;
        c->synthetic_book = !strcmp(v, "synthetic");
        return true;
    }
    if (!strcmp(k, "synthetic_levels")) {
        uint32_t n;
        *expected = "1..32";
        if (!ht_conf_u32(v, 1, ENGINE_BOOK_LEVELS, &n))
            return false;
        c->synthetic_levels = n;
        return true;
    }
    if (!strcmp(k, "synthetic_level_amount"))
        return *expected = "a number > 0", num(v, &c->synthetic_level_amount) && c->synthetic_level_amount > 0;
    if (!strcmp(k, "synthetic_half_spread_bps"))
        return *expected = "a number >= 0", ht_conf_nonneg(v, &c->synthetic_half_spread_bps);
    if (!strcmp(k, "synthetic_step_bps"))
        return *expected = "a number > 0", num(v, &c->synthetic_step_bps) && c->synthetic_step_bps > 0;
    *known = false;
    return false;
}

/* Adds comma-separated groups or ports to the source's filter. */
static bool filter_list(ht_engine_config *c, const char *v, bool groups)
{
    char buf[1024];
    if (strlen(v) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if ((groups ? ht_nic_filter_add_group(&c->nic.filter, t, NULL) : ht_nic_filter_add_port(&c->nic.filter, t, NULL)) !=
            0)
            return false;
    return true;
}

/* [source] keys. */
static bool source_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "kind")) {
        *expected = "pcap, socket, dpdk or sim";
        if (!strcmp(v, "sim")) {
            c->source = HT_ENGINE_SOURCE_MARKET;
            return true;
        }
        c->source = HT_ENGINE_SOURCE_NIC;
        return ht_nic_kind_parse(v, &c->nic.kind) == 0;
    }
    if (!strcmp(k, "path"))
        return *expected = "a capture file", ht_conf_str(c->nic_path, sizeof c->nic_path, v, true);
    if (!strcmp(k, "groups"))
        return *expected = "A.B.C.D[/N], comma-separated", filter_list(c, v, true);
    if (!strcmp(k, "ports"))
        return *expected = "UDP ports, comma-separated", filter_list(c, v, false);
    if (!strcmp(k, "deribit")) {
        bool on;
        *expected = "yes or no";
        if (!ht_conf_bool(v, &on))
            return false;
        if (on)
            ht_nic_filter_deribit(&c->nic.filter);
        return true;
    }
    if (!strcmp(k, "iface")) {
        struct in_addr a;
        *expected = "an IPv4 address";
        if (inet_pton(AF_INET, v, &a) != 1)
            return false;
        c->nic.iface_addr = ntohl(a.s_addr);
        return true;
    }
    if (!strcmp(k, "unicast"))
        return *expected = "yes or no", ht_conf_bool(v, &c->nic.unicast);
    if (!strcmp(k, "rcvbuf_bytes"))
        return *expected = "0..1073741824", int_in(v, 0, 1L << 30, &c->nic.rcvbuf_bytes);
    if (!strcmp(k, "eal"))
        return *expected = "EAL arguments", ht_conf_str(c->eal_args, sizeof c->eal_args, v, true);
    if (!strcmp(k, "port_id")) {
        int p;
        *expected = "0..65535";
        if (!int_in(v, 0, 65535, &p))
            return false;
        c->nic.port_id = (uint16_t)p;
        return true;
    }
    if (!strcmp(k, "mbufs"))
        return *expected = "511..1048575", ht_conf_u32(v, 511, 1048575, &c->nic.mbufs);
    if (!strcmp(k, "idle_eof_ms"))
        return *expected = "0..3600000", ht_conf_u32(v, 0, 3600000, &c->nic.idle_eof_ms);
    if (!strcmp(k, "speed"))
        return *expected = "a number >= 0", ht_conf_nonneg(v, &c->nic.speed);
    *known = false;
    return false;
}

/* [threads] keys. */
static bool threads_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "enabled"))
        return *expected = "yes or no", ht_conf_bool(v, &c->threads);
    if (!strcmp(k, "hot_cpu"))
        return *expected = "-1 or a CPU number", int_in(v, -1, 4095, &c->hot_cpu);
    if (!strcmp(k, "slow_cpu"))
        return *expected = "-1 or a CPU number", int_in(v, -1, 4095, &c->slow_cpu);
    if (!strcmp(k, "ring_bytes"))
        return *expected = "a power of two 65536..1073741824",
               ht_conf_u32(v, 1u << 16, 1u << 30, &c->ring_bytes) && (c->ring_bytes & (c->ring_bytes - 1)) == 0;
    if (!strcmp(k, "slow_idle_us"))
        return *expected = "0..100000", ht_conf_u32(v, 0, 100000, &c->slow_idle_us);
    *known = false;
    return false;
}

/* [status] keys. */
static bool status_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "interval_s"))
        return *expected = "0..86400", ht_conf_u32(v, 0, 86400, &c->status_interval_s);
    if (!strcmp(k, "counters_file"))
        return *expected = "a file path or empty", ht_conf_str(c->counters_path, sizeof c->counters_path, v, true);
    if (!strcmp(k, "prometheus_file"))
        return *expected = "a file path or empty",
               ht_conf_str(c->prometheus_path, sizeof c->prometheus_path, v, true);
    *known = false;
    return false;
}

/* [book] keys: what the live book does with a difference, a liquidation or an unexplained change. */
static bool book_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    bool adopt_or_hedge;
    if (!strcmp(k, "reconcile")) {
        *expected = "adopt or halt";
        adopt_or_hedge = !strcmp(v, "adopt");
        if (!adopt_or_hedge && strcmp(v, "halt") != 0)
            return false;
        c->reconcile = adopt_or_hedge ? HT_ENGINE_RECONCILE_ADOPT : HT_ENGINE_RECONCILE_HALT;
        return true;
    }
    if (!strcmp(k, "on_liquidation")) {
        *expected = "hedge or halt";
        adopt_or_hedge = !strcmp(v, "hedge");
        if (!adopt_or_hedge && strcmp(v, "halt") != 0)
            return false;
        c->on_liquidation = adopt_or_hedge ? HT_ENGINE_LIQUIDATION_HEDGE : HT_ENGINE_LIQUIDATION_HALT;
        return true;
    }
    *known = false;
    return false;
}

/* [margin] keys: the model of the book's margin, and the equity its ratio is over when the venue gives none. */
static bool margin_key(ht_engine_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    if (!strcmp(k, "model")) {
        *expected = "standard, portfolio or off";
        c->margin_on = strcmp(v, "off") != 0;
        if (!strcmp(v, "standard") || !strcmp(v, "off"))
            c->margin_model = HT_MARGIN_STANDARD;
        else if (!strcmp(v, "portfolio"))
            c->margin_model = HT_MARGIN_PORTFOLIO;
        else
            return false;
        return true;
    }
    /* the margin's levels: ratios of maintenance margin over equity */
    static const struct {
        const char *key;
        size_t off;
        double lo, hi;
        bool lo_open;
        const char *expected;
    } levels[] = {
        {"band_narrow_from", offsetof(ht_engine_config, margin_band_narrow_from), 0.0, 100.0, false,
         "a margin ratio >= 0 (at most 100)"},
        {"band_narrow_to", offsetof(ht_engine_config, margin_band_narrow_to), 0.0, 100.0, true,
         "a margin ratio > 0 (at most 100)"},
        {"band_min_fraction", offsetof(ht_engine_config, margin_band_min_fraction), 0.0, 1.0, true,
         "a fraction of the band in (0, 1]"},
        {"flatten_ratio", offsetof(ht_engine_config, margin_flatten_ratio), 0.0, 100.0, true,
         "a margin ratio > 0 (at most 100)"},
        {"kill_ratio", offsetof(ht_engine_config, margin_kill_ratio), 0.0, 100.0, true,
         "a margin ratio > 0 (at most 100)"},
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcmp(k, levels[i].key) != 0)
            continue;
        double x;
        *expected = levels[i].expected;
        if (!num(v, &x) || !(x >= levels[i].lo && x <= levels[i].hi) || (levels[i].lo_open && x == levels[i].lo))
            return false;
        memcpy((char *)c + levels[i].off, &x, sizeof x);
        return true;
    }
    if (!strcmp(k, "series"))
        return *expected = "a file path or empty",
               ht_conf_str(c->margin_series_path, sizeof c->margin_series_path, v, true);
    if (!strcmp(k, "venue_equity")) {
        bool use;
        *expected = "yes or no";
        if (!ht_conf_bool(v, &use))
            return false;
        c->margin_venue_equity_off = !use;
        return true;
    }
    if (!strcmp(k, "prefer_lower_margin"))
        return *expected = "yes or no", ht_conf_bool(v, &c->opt.prefer_lower_margin);
    if (!strcmp(k, "equity_coin")) {
        double x;
        *expected = "a number of coins > 0 (at most 1e12)";
        if (!num(v, &x) || !(x > 0.0 && x <= 1e12))
            return false;
        c->margin_equity_coin = x;
        return true;
    }
    *known = false;
    return false;
}

/* Dispatches one key of the engine's sections. */
bool ht_engine_config_apply(void *user, const char *section, const char *key, const char *value, bool *known,
                            const char **expected)
{
    ht_engine_config *c = user;
    *known = true;
    if (!strcmp(section, "engine"))
        return engine_key(c, key, value, known, expected);
    if (!strcmp(section, "pipeline"))
        return pipeline_key(c, key, value, known, expected);
    if (!strcmp(section, "hedge"))
        return hedge_key(c, key, value, known, expected);
    if (!strcmp(section, "greeks"))
        return greeks_key(c, key, value, known, expected);
    if (!strcmp(section, "venue"))
        return venue_key(c, key, value, known, expected);
    if (!strcmp(section, "source"))
        return source_key(c, key, value, known, expected);
    if (!strcmp(section, "threads"))
        return threads_key(c, key, value, known, expected);
    if (!strcmp(section, "status"))
        return status_key(c, key, value, known, expected);
    if (!strcmp(section, "book"))
        return book_key(c, key, value, known, expected);
    if (!strcmp(section, "margin"))
        return margin_key(c, key, value, known, expected);
    *known = false;
    return false;
}

const char *const ht_engine_config_sections[] = {"engine", "pipeline", "hedge", "greeks", "venue",
                                                  "source", "threads", "status", "book", "margin", NULL};

int ht_engine_config_load(ht_engine_config *cfg, const char *path, ht_error *err)
{
    if (ht_conf_read(path, ht_engine_config_sections, ht_engine_config_apply, cfg, err) != 0)
        return -1;
    return ht_gw_config_load(&cfg->gw, path, err);
}

int ht_engine_config_check(const ht_engine_config *c, ht_error *err)
{
    if (!c->book_path[0])
        return ht_error_set(err, "engine: no book file given ([engine] book, or --book)");
    if (!ht_pipe_backend_built(c->backend))
        return ht_error_set(err, "pipeline: the %s backend is not in this build", ht_pipe_backend_name(c->backend));
    if (c->wire && c->backend == HT_PIPE_BACKEND_XRT)
        return ht_error_set(err, "engine: wire = on with the xrt backend: its card reads the wire itself and takes no "
                                 "frames from the host (use sw or verilator)");
    if (c->wire && c->source == HT_ENGINE_SOURCE_MARKET)
        return ht_error_set(err, "engine: wire mode needs Ethernet frames: use a pcap or dpdk source (the market "
                                 "simulator gives UDP payloads)");
    if (c->wire && c->source == HT_ENGINE_SOURCE_NIC && c->nic.kind == HT_NIC_SOCKET)
        return ht_error_set(err, "engine: wire mode needs Ethernet frames: use a pcap or dpdk source (a socket gives "
                                 "UDP payloads)");
    if (c->backend == HT_PIPE_BACKEND_XRT && !c->xclbin[0])
        return ht_error_set(err, "pipeline: the xrt backend needs an xclbin ([pipeline] xclbin)");
    if (c->margin_band_narrow_to > 0.0 && !(c->margin_band_narrow_to > c->margin_band_narrow_from))
        return ht_error_set(err, "margin: band_narrow_to %g must be above band_narrow_from %g",
                            c->margin_band_narrow_to, c->margin_band_narrow_from);
    if (c->margin_kill_ratio > 0.0 && c->margin_flatten_ratio > c->margin_kill_ratio)
        return ht_error_set(err, "margin: kill_ratio %g must not be below flatten_ratio %g", c->margin_kill_ratio,
                            c->margin_flatten_ratio);
    if (!(c->clock_mhz >= 1 && c->clock_mhz <= 2000))
        return ht_error_set(err, "pipeline: clock_mhz must be 1..2000, got %g", c->clock_mhz);
    if (c->n_venues < 1 || c->n_venues > HT_ENGINE_MAX_VENUES)
        return ht_error_set(err, "hedge: 1 to %d venues, got %u", HT_ENGINE_MAX_VENUES, c->n_venues);
    if (!(c->collar_frac > 0 && c->collar_frac < 0.5))
        return ht_error_set(err, "hedge: collar must be in (0, 0.5), got %g", c->collar_frac);
    if (c->max_half_width_coin > 0 && c->max_half_width_coin < c->min_half_width_coin)
        return ht_error_set(err, "hedge: max_half_width %g is below min_half_width %g", c->max_half_width_coin,
                            c->min_half_width_coin);
    ht_opt_strategy s;
    if (ht_opt_strategy_parse(c->strategy, 1000000000, &s, err) != 0)
        return -1;
    if (ht_greeks_config_check(&c->greeks, err) != 0)
        return -1;
    if (c->ring_bytes < (1u << 16) || (c->ring_bytes & (c->ring_bytes - 1)) != 0)
        return ht_error_set(err, "threads: ring_bytes must be a power of two >= 65536, got %u", c->ring_bytes);
    if (c->synthetic_book && (c->synthetic_levels < 1 || c->synthetic_levels > ENGINE_BOOK_LEVELS ||
                              !(c->synthetic_level_amount > 0) || !(c->synthetic_step_bps > 0)))
        return ht_error_set(err, "venue: the synthetic book needs 1..%d levels, an amount > 0 and a step > 0",
                            ENGINE_BOOK_LEVELS);
    if (c->series_every < 1)
        return ht_error_set(err, "engine: series_every must be >= 1");
    return 0;
}

unsigned engine_synthetic_ladder(const ht_engine_config *cfg, double mark, double tick, ht_book_level *bids,
                                 ht_book_level *asks)
{
    if (!(mark > 0) || !isfinite(mark))
        return 0;
    if (!(tick > 0))
        tick = 1e-8;
    double half = mark * cfg->synthetic_half_spread_bps * 1e-4, step = mark * cfg->synthetic_step_bps * 1e-4;
    step = fmax(tick, round(step / tick) * tick);
    double bid = floor((mark - half) / tick + 1e-9) * tick, ask = ceil((mark + half) / tick - 1e-9) * tick;
    if (ask <= bid)
        ask = bid + tick;
    /* Prices on the 1e-8 grid, so that they survive a FIX round trip (8 decimals) bit for bit. */
    for (unsigned i = 0; i < cfg->synthetic_levels; i++) {
        bids[i] = (ht_book_level){round((bid - i * step) * 1e8) / 1e8, cfg->synthetic_level_amount};
        asks[i] = (ht_book_level){round((ask + i * step) * 1e8) / 1e8, cfg->synthetic_level_amount};
    }
    return cfg->synthetic_levels;
}

void engine_quote_from_levels(const ht_book_level *bids, unsigned nb, const ht_book_level *asks, unsigned na,
                              double mark, ht_opt_quote *q)
{
    memset(q, 0, sizeof *q);
    for (unsigned i = 0; i < nb && q->n_bid < HT_OPT_BOOK_LEVELS; i++)
        if (bids[i].price > 0 && bids[i].amount > 0) {
            q->bid_px[q->n_bid] = bids[i].price;
            q->bid_amount[q->n_bid++] = bids[i].amount;
        }
    for (unsigned i = 0; i < na && q->n_ask < HT_OPT_BOOK_LEVELS; i++)
        if (asks[i].price > 0 && asks[i].amount > 0) {
            q->ask_px[q->n_ask] = asks[i].price;
            q->ask_amount[q->n_ask++] = asks[i].amount;
        }
    q->reference_px = isfinite(mark) && mark > 0 ? mark : 0.0;
}

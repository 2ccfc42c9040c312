/* SPDX-License-Identifier: MIT */
/* Market simulator configuration: defaults, the checks ht_mkt_create makes, and its [market] keys from text. */
#include <stdio.h>
#include <string.h>

#include "hedgetrig/parse.h"
#include "market_priv.h"

void ht_mkt_config_default(ht_mkt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->start_ms = DEFAULT_START_MS;
    cfg->step_ms = 1000;
    cfg->steps = 3600;
    cfg->spot_usd = 44000.0;
    cfg->vol = 0.6;
    cfg->jumps_per_day = 2.0;
    cfg->jump_stdev = 0.004;
    cfg->atm_iv = 0.55;
    cfg->iv_reversion = 200.0;
    cfg->iv_vol_of_vol = 0.8;
    cfg->skew = -0.1;
    cfg->smile = 1.5;
    cfg->perp_premium = 0.0002;
    cfg->future_carry = 0.08;
    cfg->n_expiries = 3;
    cfg->expiry_days[0] = 1;
    cfg->expiry_days[1] = 7;
    cfg->expiry_days[2] = 21;
    cfg->future_days = 84;
    cfg->strikes_per_side = 4;
    cfg->strike_step_usd = 1000.0;
    cfg->option_ticker_every = 5;
    cfg->future_every = 1;
    cfg->snapshot_every = 300;
    cfg->book_levels = 10;
    cfg->level_amount_usd = 20000.0;
    cfg->level_step_usd = 2.5;
    cfg->half_spread_usd = 0.25;
    cfg->trade_prob = 0.3;
    cfg->loss_prob = 0.0;
    cfg->mtu_bytes = 1400;
    cfg->crash_duration_s = 600.0;
}

/* True when x is finite and lo <= x <= hi. */
static bool in_range(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x <= hi;
}

int ht_mkt_config_check(const ht_mkt_config *c, ht_error *err)
{
    if (c->step_ms < 1 || c->step_ms > 3600000)
        return ht_error_set(err, "market sim: step_ms must be 1..3600000, got %u", c->step_ms);
    if (!in_range(c->spot_usd, 1.0, 1e9))
        return ht_error_set(err, "market sim: spot must be 1..1e9 USD, got %g", c->spot_usd);
    if (!in_range(c->vol, 0.0, 10.0))
        return ht_error_set(err, "market sim: vol must be 0..10, got %g", c->vol);
    if (!in_range(c->jumps_per_day, 0.0, 1e4) || !in_range(c->jump_stdev, 0.0, 0.5))
        return ht_error_set(err, "market sim: jumps_per_day must be 0..1e4 and jump_stdev 0..0.5");
    if (!in_range(c->atm_iv, 0.05, 5.0))
        return ht_error_set(err, "market sim: atm_iv must be 0.05..5, got %g", c->atm_iv);
    if (!in_range(c->iv_reversion, 0.0, 1e6) || !in_range(c->iv_vol_of_vol, 0.0, 100.0))
        return ht_error_set(err, "market sim: iv_reversion must be 0..1e6 and iv_vol_of_vol 0..100");
    if (!in_range(c->skew, -10.0, 10.0) || !in_range(c->smile, 0.0, 100.0))
        return ht_error_set(err, "market sim: skew must be -10..10 and smile 0..100");
    if (!in_range(c->perp_premium, -0.05, 0.05) || !in_range(c->future_carry, -1.0, 1.0))
        return ht_error_set(err, "market sim: perp_premium must be within +-0.05 and future_carry within +-1");
    if (c->n_expiries > HT_MKT_MAX_EXPIRIES)
        return ht_error_set(err, "market sim: at most %d expiries, got %u", HT_MKT_MAX_EXPIRIES, c->n_expiries);
    for (unsigned e = 0; e < c->n_expiries; e++)
        if (c->expiry_days[e] == 0 || c->expiry_days[e] > 3650 || (e > 0 && c->expiry_days[e] <= c->expiry_days[e - 1]))
            return ht_error_set(err, "market sim: expiry_days must be increasing, each 1..3650 (entry %u is %u)", e,
                                c->expiry_days[e]);
    if (c->future_days > 3650)
        return ht_error_set(err, "market sim: future_days must be 0..3650, got %u", c->future_days);
    if (c->strikes_per_side > HT_MKT_MAX_STRIKES_PER_SIDE)
        return ht_error_set(err, "market sim: strikes_per_side must be 0..%d, got %u", HT_MKT_MAX_STRIKES_PER_SIDE,
                            c->strikes_per_side);
    if (!in_range(c->strike_step_usd, 1e-6, 1e9))
        return ht_error_set(err, "market sim: strike_step must be > 0, got %g", c->strike_step_usd);
    if (c->option_ticker_every < 1 || c->future_every < 1)
        return ht_error_set(err, "market sim: option_ticker_every and future_every must be >= 1");
    if (c->book_levels < 1 || c->book_levels > HT_MKT_MAX_LEVELS)
        return ht_error_set(err, "market sim: book_levels must be 1..%d, got %u", HT_MKT_MAX_LEVELS, c->book_levels);
    if (!in_range(c->level_amount_usd, 10.0, 1e12) || !in_range(c->level_step_usd, 1e-6, 1e6) ||
        !in_range(c->half_spread_usd, 0.0, 1e6))
        return ht_error_set(err, "market sim: level_amount must be >= 10 USD, level_step > 0, half_spread >= 0");
    if (!in_range(c->trade_prob, 0.0, 1.0) || !in_range(c->loss_prob, 0.0, 0.5))
        return ht_error_set(err, "market sim: trade_prob must be 0..1 and loss_prob 0..0.5");
    if (!in_range(c->crash_fall, 0.0, 0.9) || !in_range(c->crash_iv_rise, 0.0, 2.0) ||
        !in_range(c->crash_start_s, 0.0, 1e9) || !in_range(c->crash_duration_s, 1e-3, 1e9))
        return ht_error_set(err, "market sim: crash_fall must be 0..0.9, crash_iv_rise 0..2, crash_start_s 0..1e9 and "
                                 "crash_duration_s 0.001..1e9");
    if (c->mtu_bytes < 1200 || c->mtu_bytes > 65000)
        return ht_error_set(err, "market sim: mtu must be 1200..65000 bytes, got %u", c->mtu_bytes);
    return 0;
}

const char *const ht_mkt_config_keys[] = {
    "seed", "start_ms", "step_ms", "steps", "spot_usd", "vol", "jumps_per_day", "jump_stdev", "atm_iv",
    "iv_reversion", "iv_vol_of_vol", "skew", "smile", "perp_premium", "future_carry", "expiry_days", "future_days",
    "strikes_per_side", "strike_step_usd", "option_ticker_every", "future_every", "snapshot_every", "book_levels",
    "level_amount_usd", "level_step_usd", "half_spread_usd", "trade_prob", "loss_prob", "mtu_bytes", "crash_start_s",
    "crash_duration_s", "crash_fall", "crash_iv_rise", NULL};

/* Parses a whole unsigned decimal number (digits only). */
static bool parse_u64(const char *v, uint64_t *out)
{
    return ht_parse_u64(v, 0, UINT64_MAX, 0, out) == HT_PARSE_OK;
}

/* Parses a whole finite number, written in decimal (no blanks, no hexadecimal; an underflow reads as 0). */
static bool parse_double(const char *v, double *out)
{
    return ht_parse_double(v, HT_PARSE_UNDERFLOW_OK, out) == HT_PARSE_OK;
}

bool ht_mkt_config_set(ht_mkt_config *c, const char *key, const char *value, bool *known, const char **expected)
{
    *known = true;
    static const struct {
        const char *key;
        size_t off;
    } doubles[] = {
        {"spot_usd", offsetof(ht_mkt_config, spot_usd)}, {"vol", offsetof(ht_mkt_config, vol)},
        {"jumps_per_day", offsetof(ht_mkt_config, jumps_per_day)}, {"jump_stdev", offsetof(ht_mkt_config, jump_stdev)},
        {"atm_iv", offsetof(ht_mkt_config, atm_iv)}, {"iv_reversion", offsetof(ht_mkt_config, iv_reversion)},
        {"iv_vol_of_vol", offsetof(ht_mkt_config, iv_vol_of_vol)}, {"skew", offsetof(ht_mkt_config, skew)},
        {"smile", offsetof(ht_mkt_config, smile)}, {"perp_premium", offsetof(ht_mkt_config, perp_premium)},
        {"future_carry", offsetof(ht_mkt_config, future_carry)},
        {"strike_step_usd", offsetof(ht_mkt_config, strike_step_usd)},
        {"level_amount_usd", offsetof(ht_mkt_config, level_amount_usd)},
        {"level_step_usd", offsetof(ht_mkt_config, level_step_usd)},
        {"half_spread_usd", offsetof(ht_mkt_config, half_spread_usd)},
        {"trade_prob", offsetof(ht_mkt_config, trade_prob)}, {"loss_prob", offsetof(ht_mkt_config, loss_prob)},
        {"crash_start_s", offsetof(ht_mkt_config, crash_start_s)},
        {"crash_duration_s", offsetof(ht_mkt_config, crash_duration_s)},
        {"crash_fall", offsetof(ht_mkt_config, crash_fall)}, {"crash_iv_rise", offsetof(ht_mkt_config, crash_iv_rise)},
    };
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++)
        if (strcmp(key, doubles[i].key) == 0) {
            *expected = "a number";
            return parse_double(value, (double *)((char *)c + doubles[i].off));
        }
    uint64_t u;
    if (strcmp(key, "seed") == 0 || strcmp(key, "start_ms") == 0 || strcmp(key, "steps") == 0) {
        *expected = "a whole number >= 0";
        if (!parse_u64(value, &u))
            return false;
        *(strcmp(key, "seed") == 0 ? &c->seed : strcmp(key, "steps") == 0 ? &c->steps : &c->start_ms) = u;
        return true;
    }
    static const struct {
        const char *key;
        size_t off;
        bool is_u32;
    } uints[] = {
        {"step_ms", offsetof(ht_mkt_config, step_ms), true},
        {"future_days", offsetof(ht_mkt_config, future_days), true},
        {"mtu_bytes", offsetof(ht_mkt_config, mtu_bytes), true},
        {"strikes_per_side", offsetof(ht_mkt_config, strikes_per_side), false},
        {"option_ticker_every", offsetof(ht_mkt_config, option_ticker_every), false},
        {"future_every", offsetof(ht_mkt_config, future_every), false},
        {"snapshot_every", offsetof(ht_mkt_config, snapshot_every), false},
        {"book_levels", offsetof(ht_mkt_config, book_levels), false},
    };
    for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++)
        if (strcmp(key, uints[i].key) == 0) {
            *expected = "a whole number 0..4294967295";
            if (!parse_u64(value, &u) || u > UINT32_MAX)
                return false;
            if (uints[i].is_u32)
                *(uint32_t *)((char *)c + uints[i].off) = (uint32_t)u;
            else
                *(unsigned *)((char *)c + uints[i].off) = (unsigned)u;
            return true;
        }
    if (strcmp(key, "expiry_days") == 0) {
        *expected = "a comma-separated list of at most 8 whole numbers of days (empty: no options)";
        char buf[256];
        if (strlen(value) >= sizeof buf)
            return false;
        snprintf(buf, sizeof buf, "%s", value);
        unsigned n = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
            if (n == HT_MKT_MAX_EXPIRIES || !parse_u64(tok, &u) || u > UINT32_MAX)
                return false;
            c->expiry_days[n++] = (uint32_t)u;
        }
        c->n_expiries = n;
        return true;
    }
    *known = false;
    return false;
}


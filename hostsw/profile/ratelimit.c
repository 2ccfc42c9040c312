/* SPDX-License-Identifier: MIT */
/* Deribit's request limits as credit buckets (hedgetrig/ratelimit.h). */
#include "hedgetrig/ratelimit.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hedgetrig/conf.h"

void ht_rate_bucket_init(ht_rate_bucket *b, double capacity, double refill_per_s, uint64_t now_ns)
{
    b->capacity = capacity;
    b->refill_per_s = refill_per_s;
    b->level = capacity;
    b->last_ns = now_ns;
}

double ht_rate_bucket_level(ht_rate_bucket *b, uint64_t now_ns)
{
    if (now_ns > b->last_ns) {
        b->level += (double)(now_ns - b->last_ns) * 1e-9 * b->refill_per_s;
        if (b->level > b->capacity)
            b->level = b->capacity;
        b->last_ns = now_ns;
    }
    return b->level;
}

bool ht_rate_bucket_take(ht_rate_bucket *b, double cost, double reserve, uint64_t now_ns)
{
    if (ht_rate_bucket_level(b, now_ns) < cost + reserve)
        return false;
    b->level -= cost;
    return true;
}

void ht_rate_bucket_charge(ht_rate_bucket *b, double cost, uint64_t now_ns)
{
    ht_rate_bucket_level(b, now_ns);
    b->level -= cost;
}

uint64_t ht_rate_bucket_wait_ns(ht_rate_bucket *b, double cost, double reserve, uint64_t now_ns)
{
    double need = cost + reserve;
    if (need > b->capacity || !(b->refill_per_s > 0))
        return UINT64_MAX;
    double missing = need - ht_rate_bucket_level(b, now_ns);
    if (missing <= 0)
        return 0;
    return (uint64_t)ceil(missing / b->refill_per_s * 1e9);
}

/* Deribit's matching-engine tiers (support article "Rate Limits": sustained requests per second, burst) and its
 * default pool for other requests (500 credits a request, 50,000 at most, 10,000 a second). */
static const struct {
    const char *name;
    double rate, burst;
} k_tiers[] = {
    {"tier1", 30, 100}, /* 7-day volume over USD 25 million */
    {"tier2", 20, 50},  /* over USD 5 million */
    {"tier3", 10, 30},  /* over USD 1 million */
    {"tier4", 5, 20},   /* up to USD 1 million */
};

int ht_rate_config_tier(ht_rate_config *c, const char *tier, ht_error *err)
{
    for (size_t i = 0; i < HT_ARRAY_LEN(k_tiers); i++)
        if (strcmp(tier, k_tiers[i].name) == 0) {
            snprintf(c->tier, sizeof c->tier, "%s", k_tiers[i].name);
            c->me_rate_per_s = k_tiers[i].rate;
            c->me_burst = k_tiers[i].burst;
            c->credit_cost = 500;
            c->credit_max = 50000;
            c->credit_refill_per_s = 10000;
            return 0;
        }
    return ht_error_set(err, "rate tier '%.32s' is not one of tier1, tier2, tier3, tier4", tier);
}

void ht_rate_config_default(ht_rate_config *c)
{
    memset(c, 0, sizeof *c);
    ht_rate_config_tier(c, "tier4", NULL);
    c->reserve = 1;
    c->enforce = true;
}

/* A number > 0 (or >= 0 when zero_ok) and finite. */
static bool positive(const char *value, bool zero_ok, double *out)
{
    double x;
    if (!ht_conf_nonneg(value, &x) || !isfinite(x) || (!zero_ok && x == 0))
        return false;
    *out = x;
    return true;
}

bool ht_rate_config_apply(ht_rate_config *c, const char *key, const char *value, bool *known, const char **expected)
{
    static const struct {
        const char *key;
        size_t off;
        bool zero_ok;
    } nums[] = {
        {"me_rate_per_s", offsetof(ht_rate_config, me_rate_per_s), false},
        {"me_burst", offsetof(ht_rate_config, me_burst), false},
        {"credit_cost", offsetof(ht_rate_config, credit_cost), false},
        {"credit_max", offsetof(ht_rate_config, credit_max), false},
        {"credit_refill_per_s", offsetof(ht_rate_config, credit_refill_per_s), false},
        {"reserve", offsetof(ht_rate_config, reserve), true},
    };
    *known = true;
    if (strcmp(key, "tier") == 0)
        return *expected = "tier1, tier2, tier3 or tier4", ht_rate_config_tier(c, value, NULL) == 0;
    if (strcmp(key, "enforce") == 0)
        return *expected = "yes or no", ht_conf_bool(value, &c->enforce);
    for (size_t i = 0; i < HT_ARRAY_LEN(nums); i++)
        if (strcmp(key, nums[i].key) == 0) {
            *expected = nums[i].zero_ok ? "a number >= 0" : "a number > 0";
            if (!positive(value, nums[i].zero_ok, (double *)(void *)((char *)c + nums[i].off)))
                return false;
            if (strcmp(key, "reserve") != 0)
                snprintf(c->tier, sizeof c->tier, "custom");
            return true;
        }
    *known = false;
    return false;
}

int ht_rate_config_check(const ht_rate_config *c, ht_error *err)
{
    if (!(c->me_rate_per_s > 0) || !(c->credit_refill_per_s > 0) || !(c->credit_cost > 0))
        return ht_error_set(err, "[rate] me_rate_per_s, credit_refill_per_s and credit_cost must be > 0");
    if (!(c->reserve >= 0) || !(c->me_burst >= 1 + c->reserve))
        return ht_error_set(err, "[rate] me_burst %g must be at least 1 + reserve (%g)", c->me_burst, c->reserve);
    if (!(c->credit_max >= c->credit_cost * (1 + c->reserve)))
        return ht_error_set(err, "[rate] credit_max %g must hold at least (1 + reserve) x credit_cost (%g)",
                            c->credit_max, c->credit_cost * (1 + c->reserve));
    return 0;
}

void ht_rate_account_init(ht_rate_account *a, const ht_rate_config *cfg, uint64_t now_ns)
{
    a->cfg = *cfg;
    ht_rate_bucket_init(&a->me, cfg->me_burst, cfg->me_rate_per_s, now_ns);
    ht_rate_bucket_init(&a->credits, cfg->credit_max, cfg->credit_refill_per_s, now_ns);
}

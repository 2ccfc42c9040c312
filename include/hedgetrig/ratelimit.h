/* SPDX-License-Identifier: MIT */
/* Deribit's request limits as a credit bucket (a leaky bucket that refills continuously), shared by the gateway,
 * which mirrors them so that it never sends what the venue would refuse, and the exchange simulator, which enforces
 * them as Deribit does (error 10028 too_many_requests, then the session ends). docs/gateway.md, "Rate limits".
 *
 * Deribit (support article "Rate Limits", docs.deribit.com/articles/rate-limits) counts two budgets per sub-account:
 *  - matching-engine requests (FIX: NewOrderSingle, cancels, replaces, mass cancels): a sustained rate and a burst
 *    per account tier, the tier set hourly from the 7-day traded volume;
 *  - every other request: a credit pool, 500 credits a request, 50,000 at most, refilled at 10,000 a second
 *    (20 requests a second sustained, 100 in a burst).
 * A bucket holds credits: it starts full, refills at refill_per_s up to capacity, and a request fits when its cost is
 * in the bucket. Matching-engine buckets count one credit a request (capacity = the burst, refill = the rate).
 * Time is the caller's clock in ns (monotonic, or a replay's exchange time); it never runs backwards here (an
 * earlier time refills nothing). No allocation, lock or syscall: usable on a hot path. */
#ifndef HEDGETRIG_RATELIMIT_H
#define HEDGETRIG_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/common.h"

typedef struct ht_rate_bucket {
    double capacity;     /* credits at most (> 0) */
    double refill_per_s; /* credits added per second (> 0) */
    double level;        /* credits now, as of last_ns */
    uint64_t last_ns;    /* when level was last brought up to date */
} ht_rate_bucket;

/* A full bucket at now_ns. */
void ht_rate_bucket_init(ht_rate_bucket *b, double capacity, double refill_per_s, uint64_t now_ns);
/* Credits in the bucket at now_ns (refilled; the bucket is brought up to date). */
double ht_rate_bucket_level(ht_rate_bucket *b, uint64_t now_ns);
/* Takes cost credits if the bucket holds at least cost + reserve at now_ns: true (taken) or false (nothing taken).
 * reserve is what the caller keeps back (the gateway's safety margin; the simulator passes 0). */
bool ht_rate_bucket_take(ht_rate_bucket *b, double cost, double reserve, uint64_t now_ns);
/* Takes cost credits whatever the level (a message that must go out: a heartbeat, a logout); the level may go
 * negative, delaying what follows. */
void ht_rate_bucket_charge(ht_rate_bucket *b, double cost, uint64_t now_ns);
/* ns from now_ns until cost + reserve credits are in the bucket (0: now; UINT64_MAX: never, more than capacity). */
uint64_t ht_rate_bucket_wait_ns(ht_rate_bucket *b, double cost, double reserve, uint64_t now_ns);

/* One account's limits: what a [rate] section configures (docs/gateway.md). */
typedef struct ht_rate_config {
    char tier[16];              /* the preset the numbers came from ("tier1".."tier4", "custom" after overrides) */
    double me_rate_per_s;       /* matching-engine requests per second, sustained */
    double me_burst;            /* matching-engine requests in a burst (the bucket's size) */
    double credit_cost;         /* credits one other request costs */
    double credit_max;          /* the credit pool's size */
    double credit_refill_per_s; /* credits refilled per second */
    double reserve;             /* requests of each budget the gateway keeps back for timing differences (>= 0) */
    bool enforce;               /* the simulator enforces the limits (the gateway always mirrors them) */
} ht_rate_config;

/* Deribit's defaults: tier4 (the smallest), 1 request of reserve, enforcing. */
void ht_rate_config_default(ht_rate_config *c);
/* Loads a tier's numbers ("tier1".."tier4"), keeping reserve and enforce. 0, or -1 with err listing the tiers. */
int ht_rate_config_tier(ht_rate_config *c, const char *tier, ht_error *err);
/* Applies one key of a [rate] section (tier, me_rate_per_s, me_burst, credit_cost, credit_max, credit_refill_per_s,
 * reserve, enforce). Returns true when the value was valid; *known says whether the key is one of these; *expected
 * describes a valid value (for the config reader's message). An explicit number after a tier overrides it. */
bool ht_rate_config_apply(ht_rate_config *c, const char *key, const char *value, bool *known, const char **expected);
/* Checks the whole: positive rates and sizes, a burst of at least 1 + reserve requests, a pool of at least one
 * request's cost plus the reserve. 0, or -1 with err naming the key. */
int ht_rate_config_check(const ht_rate_config *c, ht_error *err);

/* The two buckets of one account, set up from a config at now_ns (both full). */
typedef struct ht_rate_account {
    ht_rate_config cfg;
    ht_rate_bucket me;      /* matching-engine requests: 1 credit each */
    ht_rate_bucket credits; /* other requests: cfg.credit_cost each */
} ht_rate_account;

void ht_rate_account_init(ht_rate_account *a, const ht_rate_config *cfg, uint64_t now_ns);

#endif

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the optimizer's and backtest's text parsers, and ht_opt_decide on arbitrary numbers.
 * The first byte picks: 0 strategy spec (and its name round trip), 1 book file, 2 model spec, 3 a decision on
 * an event, a book and three venue quotes read from the bytes (NaN, infinities, negatives included), walked in the
 * first round and prepared (ht_opt_quote_prepare) in the second. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/backtest.h"
#include "hedgetrig/optimizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Takes the next double from the input (0 when it runs out). */
static double take(const uint8_t **p, size_t *left)
{
    double v = 0.0;
    if (*left >= sizeof v) {
        memcpy(&v, *p, sizeof v);
        *p += sizeof v;
        *left -= sizeof v;
    }
    return v;
}

/* A decision on fuzzed inputs: whatever comes in, the output must be sane. */
static void fuzz_decide(const uint8_t *p, size_t left)
{
    ht_opt *opt = ht_opt_create(NULL, NULL);
    if (!opt)
        return;
    uint8_t rule = left ? *p % HT_OPT_RULE_COUNT : 0;
    ht_opt_strategy s;
    ht_opt_strategy_init(&s, (ht_opt_rule)rule, 0.5);
    s.interval_ns = 1000000000;
    if (ht_opt_set_strategy(opt, 0, &s, NULL) != 0)
        __builtin_trap();
    ht_opt_venue v;
    ht_opt_venue_init(&v, "BTC-PERPETUAL", HT_OPT_INVERSE, 10.0);
    ht_opt_add_venue(opt, 0, &v, NULL);
    ht_opt_venue_init(&v, "BTC_USDC-PERPETUAL", HT_OPT_LINEAR, 0.001);
    v.max_long_amount = 2.0;
    ht_opt_add_venue(opt, 0, &v, NULL);
    ht_opt_venue_init(&v, "BTC-30JUN23", HT_OPT_INVERSE, 10.0);
    v.lot_amount = 0.0;
    ht_opt_add_venue(opt, 0, &v, NULL);
    for (int round = 0; round < 2; round++) {
        ht_opt_event ev = {.underlying = 0, .trigger = (ht_opt_trigger)(round % 3), .now_ns = round * 1000};
        ev.spot = take(&p, &left);
        ev.net_delta_coin = take(&p, &left);
        ev.net_gamma = take(&p, &left);
        ht_opt_book book = {.tau_years = take(&p, &left), .vol = take(&p, &left), .vanna = take(&p, &left),
                            .gross_delta_coin = fabs(take(&p, &left))};
        ht_opt_quote q[3];
        memset(q, 0, sizeof q);
        for (int i = 0; i < 3; i++) {
            q[i].n_bid = q[i].n_ask = (uint8_t)(left ? p[0] % (HT_OPT_BOOK_LEVELS + 2) : 0);
            for (int l = 0; l < HT_OPT_BOOK_LEVELS; l++) {
                q[i].bid_px[l] = take(&p, &left);
                q[i].ask_px[l] = take(&p, &left);
                q[i].bid_amount[l] = q[i].ask_amount[l] = take(&p, &left);
            }
            q[i].position_amount = take(&p, &left);
            q[i].reference_px = take(&p, &left);
            if (round == 1) /* the second round reads prepared books (running sums, top of book) */
                ht_opt_quote_prepare(&q[i], i == 1 ? HT_OPT_LINEAR : HT_OPT_INVERSE);
        }
        ht_opt_decision d;
        ht_error err;
        if (ht_opt_decide(opt, &ev, &book, q, &d, &err) != 0) {
            if (d.reason != HT_OPT_BAD_INPUT || d.n_orders != 0)
                __builtin_trap();
            continue;
        }
        if (d.n_orders > 3 || !(d.band_lo_coin <= d.band_hi_coin))
            __builtin_trap();
        double sum = 0.0;
        for (uint32_t i = 0; i < d.n_orders; i++) {
            const ht_opt_order *o = &d.orders[i];
            if (!(o->amount > 0.0) || !isfinite(o->amount) || !isfinite(o->limit_px) || !isfinite(o->delta_coin) ||
                o->venue > 2 || (o->side != 1 && o->side != -1))
                __builtin_trap();
            sum += o->delta_coin;
        }
        double after = ev.net_delta_coin + sum;
        if (isfinite(after) && !(d.band_lo_coin <= after && after <= d.band_hi_coin))
            __builtin_trap();
    }
    ht_opt_destroy(opt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0] % 4;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    if (mode == 3) {
        fuzz_decide(rest, n);
        return 0;
    }
    if (mode == 1) {
        ht_bt_option book[16];
        size_t count = 0;
        if (ht_bt_book_parse((const char *)rest, n, "fuzz", book, 16, &count, NULL) == 0)
            for (size_t i = 0; i < count; i++)
                if (!(book[i].strike > 0.0) || !(book[i].expiry_years > 0.0) || !isfinite(book[i].qty))
                    __builtin_trap();
        return 0;
    }
    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, rest, n);
    text[n] = '\0';
    if (mode == 0) {
        ht_opt_strategy s, again;
        if (ht_opt_strategy_parse(text, 1000, &s, NULL) == 0) {
            char name[64];
            ht_opt_strategy_name(&s, 1000, name, sizeof name);
            /* A name re-parses to the same rule and target (the number may print rounded). */
            if (ht_opt_strategy_parse(name, 1000, &again, NULL) != 0 || again.rule != s.rule ||
                again.target != s.target)
                __builtin_trap();
        }
    } else {
        ht_bt_model m = {0};
        ht_error err;
        ht_bt_model_parse(text, &m, &err);
    }
    free(text);
    return 0;
}

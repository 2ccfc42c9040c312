/* SPDX-License-Identifier: MIT */
/* Synthetic BTC option books and their market (marks from a smile) for the benchmarks and the Taylor study. */
#include "synth_book.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY 86400000.0

/* splitmix64: a deterministic stream for the book's strikes and sizes. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double synth_smile(double strike, double forward, double t_years, double atm_vol)
{
    const double x = log(strike / forward);
    const double v = atm_vol - 0.15 * x + 0.4 * x * x / sqrt(fmax(t_years, 1e-4));
    return fmin(fmax(v, 0.05), 3.0);
}

ht_positions *synth_book(size_t n_options, double spot, uint64_t now_ms, uint64_t seed)
{
    static const double expiry_days[] = {0.5, 1.5, 7.5, 14.5, 35.5, 91.5};
    ht_positions *book = ht_positions_create();
    if (!book)
        return NULL;
    uint64_t st = seed;
    for (size_t i = 0; i < n_options; i++) {
        ht_instrument_spec s;
        memset(&s, 0, sizeof s);
        const double days = expiry_days[i % 6];
        const double t = days / 365.0;
        /* strikes within about two standard deviations, on a 100 USD grid */
        const double z = ((double)(next_u64(&st) % 4001) / 1000.0) - 2.0;
        const double k = fmax(100.0, 100.0 * round(spot * exp(0.6 * sqrt(t) * z) / 100.0));
        s.id = 1000u + (uint32_t)i;
        snprintf(s.name, sizeof s.name, "BTC-SYN-%zu", i);
        s.kind = HT_POS_OPTION;
        s.option_type = k >= spot ? HT_B76_CALL : HT_B76_PUT;
        s.inverse = true;
        s.size_in_coin = true;
        s.contract_size = 1.0;
        s.strike = k;
        s.expiry_ms = now_ms + (uint64_t)(days * MS_PER_DAY);
        snprintf(s.base_currency, sizeof s.base_currency, "BTC");
        snprintf(s.index_name, sizeof s.index_name, "btc_usd");
        const double qty = (double)(1 + next_u64(&st) % 20) * ((next_u64(&st) & 1) ? 1.0 : -1.0);
        if (ht_positions_add(book, &s, qty, NULL) != 0) {
            ht_positions_destroy(book);
            return NULL;
        }
    }
    ht_instrument_spec perp;
    memset(&perp, 0, sizeof perp);
    perp.id = 14;
    snprintf(perp.name, sizeof perp.name, "BTC-PERPETUAL");
    perp.kind = HT_POS_PERPETUAL;
    perp.inverse = true;
    perp.contract_size = 10.0;
    snprintf(perp.base_currency, sizeof perp.base_currency, "BTC");
    snprintf(perp.index_name, sizeof perp.index_name, "btc_usd");
    /* 0.1 BTC short per option position, in contracts of 10 USD */
    if (ht_positions_add(book, &perp, -round(0.01 * (double)n_options * spot), NULL) != 0) {
        ht_positions_destroy(book);
        return NULL;
    }
    return book;
}

void synth_market(ht_greeks *g, const ht_positions *book, double spot, double atm_vol, uint64_t now_ms)
{
    ht_greeks_set_index(g, "btc_usd", spot, now_ms, true);
    for (size_t i = 0; i < ht_positions_count(book); i++) {
        const ht_instrument_spec *s = &ht_positions_at(book, i)->spec;
        if (s->kind != HT_POS_OPTION) {
            ht_greeks_set_mark(g, s->id, spot, spot, now_ms, true);
            continue;
        }
        const double t = ((double)s->expiry_ms - (double)now_ms) / (365.0 * MS_PER_DAY);
        const double sigma = synth_smile(s->strike, spot, t, atm_vol);
        const double price = ht_b76_price(s->option_type, spot, s->strike, t, sigma, 0.0);
        ht_greeks_set_mark(g, s->id, price / spot, spot, now_ms, true);
    }
}

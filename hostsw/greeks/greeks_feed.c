/* SPDX-License-Identifier: MIT */
/* Glue between the Deribit feed and the slow path: specs, market data, IV surface points. */
#include "hedgetrig/greeks_feed.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY 86400000.0

int ht_greeks_spec_from_feed(const ht_instrument *in, ht_instrument_spec *out, ht_error *why)
{
    memset(out, 0, sizeof *out);
    switch (in->kind) {
    case HT_INST_OPTION:
        out->kind = HT_POS_OPTION;
        break;
    case HT_INST_FUTURE:
        out->kind = in->perpetual ? HT_POS_PERPETUAL : HT_POS_FUTURE;
        break;
    case HT_INST_SPOT:
        out->kind = HT_POS_SPOT;
        break;
    default:
        return ht_error_set(why, "a combo cannot be held in a book (hold its legs)");
    }
    if (out->kind == HT_POS_OPTION) {
        if (in->option_type != HT_OPTION_CALL && in->option_type != HT_OPTION_PUT)
            return ht_error_set(why, "an option without a call/put type in the registry");
        if (!isfinite(in->strike_price) || !(in->strike_price > 0.0))
            return ht_error_set(why, "an option without a strike in the registry");
        out->option_type = in->option_type == HT_OPTION_CALL ? HT_B76_CALL : HT_B76_PUT;
        out->strike = in->strike_price;
    }
    if (!isfinite(in->contract_size) || !(in->contract_size > 0.0))
        return ht_error_set(why, "no valid contract size in the registry");
    out->id = in->id;
    snprintf(out->name, sizeof out->name, "%s", in->name);
    out->inverse = in->inverse;
    out->expiry_ms = in->expiration_timestamp_ms;
    out->contract_size = in->contract_size;
    out->size_in_coin = strcmp(in->size_currency, in->base_currency) == 0;
    snprintf(out->base_currency, sizeof out->base_currency, "%s", in->base_currency);
    snprintf(out->index_name, sizeof out->index_name, "%s", in->index_name);
    return 0;
}

int ht_greeks_feed_lookup(void *feed, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    const ht_instrument *in = ht_feed_instrument_by_name_n((const ht_feed *)feed, name, len);
    if (!in)
        return -1;
    return ht_greeks_spec_from_feed(in, out, why);
}

/* Registers every instrument of one kind in the feed's registry with add (forward or smile); returns how many. */
static size_t add_feed_kind(ht_greeks *g, const ht_feed *feed, uint8_t kind,
                            int (*add)(ht_greeks *, const ht_instrument_spec *))
{
    size_t added = 0;
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++) {
        const ht_instrument *in = ht_feed_instrument_at(feed, i);
        ht_instrument_spec spec;
        if (in->kind != kind || ht_greeks_spec_from_feed(in, &spec, NULL) != 0)
            continue;
        if (add(g, &spec) == 0)
            added++;
    }
    return added;
}

size_t ht_greeks_add_feed_forwards(ht_greeks *g, const ht_feed *feed)
{
    return add_feed_kind(g, feed, HT_INST_FUTURE, ht_greeks_add_forward_instrument);
}

size_t ht_greeks_add_feed_smile(ht_greeks *g, const ht_feed *feed)
{
    return add_feed_kind(g, feed, HT_INST_OPTION, ht_greeks_add_smile_instrument);
}

/* Hands one instrument's latest ticker to the engine (nothing before its first ticker). */
static void push_ticker(ht_greeks *g, const ht_feed *feed, const ht_instrument *in)
{
    if (in->ticker.timestamp_ms == 0)
        return;
    const bool trusted = ht_feed_price_status(feed, in, 0) == HT_PRICE_OK;
    ht_greeks_set_mark(g, in->id, in->ticker.mark_price, in->ticker.index_price, in->ticker.timestamp_ms, trusted);
}

/* Hands one index price to the engine (nothing before its first update). */
static void push_index(ht_greeks *g, const ht_feed *feed, const ht_index_price *ix)
{
    if (ix->updates == 0)
        return;
    ht_greeks_set_index(g, ix->name, ix->price, ix->timestamp_ms, ht_feed_index_status(feed, ix, 0) == HT_PRICE_OK);
}

void ht_greeks_pull_feed(ht_greeks *g, const ht_feed *feed)
{
    for (uint32_t i = 0; i < ht_feed_index_count(feed); i++)
        push_index(g, feed, ht_feed_index_at(feed, i));
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++)
        push_ticker(g, feed, ht_feed_instrument_at(feed, i));
}

void ht_greeks_on_feed_event(ht_greeks *g, const ht_feed *feed, const ht_feed_event *ev)
{
    if (ev->kind == HT_FEED_EV_INDEX && ev->index)
        push_index(g, feed, ev->index);
    else if ((ev->kind == HT_FEED_EV_TICKER || ev->kind == HT_FEED_EV_OPTION_TICKER) && ev->instrument)
        push_ticker(g, feed, ev->instrument);
}

/* Fills a surface point for an option at forward f and time t; false when it has no usable IV. */
static bool make_point(const ht_instrument *in, ht_iv_source src, double iv, uint64_t ts_ms, double f, double t,
                       ht_iv_point *p)
{
    if (!isfinite(iv) || !(iv > 0.0))
        return false;
    *p = (ht_iv_point){in->id, src, ts_ms, in->expiration_timestamp_ms, in->strike_price, f,
                       log(in->strike_price / f), t, iv};
    return true;
}

size_t ht_greeks_surface_from_feed(const ht_greeks *g, const ht_feed *feed, ht_iv_surface *surface, uint64_t now_ms)
{
    const ht_greeks_config *cfg = ht_greeks_config_get(g);
    size_t written = 0;
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++) {
        const ht_instrument *in = ht_feed_instrument_at(feed, i);
        if (in->kind != HT_INST_OPTION || in->ticker.timestamp_ms == 0)
            continue;
        const int u = ht_greeks_underlying_find(g, in->base_currency);
        const ht_index_price *ix = ht_feed_index(feed, in->index_name);
        if (u < 0 || !ix || !(ix->price > 0.0) || !(in->strike_price > 0.0))
            continue;
        const double t = ((double)in->expiration_timestamp_ms - (double)now_ms) / (cfg->year_days * MS_PER_DAY);
        if (!(t > 0.0))
            continue;
        ht_forward_origin origin;
        const double f = ht_greeks_forward(g, (unsigned)u, in->expiration_timestamp_ms, ix->price, t, now_ms, &origin);
        const ht_b76_type type = in->option_type == HT_OPTION_CALL ? HT_B76_CALL : HT_B76_PUT;
        const double price = in->inverse ? in->ticker.mark_price * f : in->ticker.mark_price;
        const ht_iv_result iv = ht_b76_implied_vol(type, f, in->strike_price, t, cfg->rate, price);
        ht_iv_point p;
        if (iv.status == HT_IV_OK && make_point(in, HT_IV_FROM_MARK, iv.sigma, in->ticker.timestamp_ms, f, t, &p) &&
            ht_iv_surface_update(surface, &p) == 0)
            written++;
        if (in->trades && make_point(in, HT_IV_FROM_TRADE, in->last_trade_iv / 100.0, in->last_trade_timestamp_ms, f,
                                     t, &p) &&
            ht_iv_surface_update(surface, &p) == 0)
            written++;
    }
    return written;
}

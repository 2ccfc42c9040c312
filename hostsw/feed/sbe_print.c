/* SPDX-License-Identifier: MIT */
/* Text forms of SBE messages: the vendor decode's CSV line and a readable line with every field. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hedgetrig/sbe.h"

int ht_format_double(char *buf, size_t n, double v)
{
    if (isnan(v))
        return snprintf(buf, n, "%s", signbit(v) ? "-nan" : "nan");
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    return snprintf(buf, n, "%s", tmp);
}

/* A bounded string being built. */
typedef struct line {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
} line;

/* Appends formatted text. */
static void add(line *l, const char *fmt, ...) HT_PRINTF(2, 3);
static void add(line *l, const char *fmt, ...)
{
    if (l->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= l->cap - l->len) {
        l->overflow = true;
        return;
    }
    l->len += (size_t)w;
}

/* Appends a double in its shortest round-trip form, after an optional prefix. */
static void add_double(line *l, const char *prefix, double v)
{
    char tmp[48];
    ht_format_double(tmp, sizeof tmp, v);
    add(l, "%s%s", prefix, tmp);
}

/* Finishes a line: its length, or -1 on overflow or a lie. */
static int finish(line *l, ht_sbe_status st, ht_sbe_status *status)
{
    if (status)
        *status = st;
    if (st != HT_SBE_OK || l->overflow)
        return -1;
    return (int)l->len;
}

int ht_sbe_format_csv(char *buf, size_t n, uint64_t frame, const ht_sbe_frame *fr, const ht_sbe_msg *msg,
                      ht_sbe_status *status)
{
    line l = {buf, n, 0, n == 0};
    if (n)
        buf[0] = '\0';
    ht_sbe_decoded d;
    ht_sbe_status st = ht_sbe_decode(msg, &d);
    if (st != HT_SBE_OK)
        return finish(&l, st, status);
    add(&l, "%" PRIu64 ",%u,%u,%u,", frame, fr->channel_id, fr->seq, msg->hdr.template_id);
    if (!d.known) {
        add(&l, ",");
        return finish(&l, st, status);
    }
    switch (d.template_id) {
    case HT_SBE_INSTRUMENT:
    case HT_SBE_INSTRUMENT_V2: {
        const ht_sbe_instrument *in = &d.u.instrument;
        add(&l, "%u,%.*s|%u|%u", in->instrument_id, (int)in->name_len, in->name, in->kind, in->option_type);
        add_double(&l, "|", in->strike_price);
        break;
    }
    case HT_SBE_BOOK:
        add(&l, "%u,%u", d.u.book.instrument_id, d.u.book.changes.count);
        break;
    case HT_SBE_TRADES:
        add(&l, "%u,%u", d.u.trades.instrument_id, d.u.trades.trades.count);
        break;
    case HT_SBE_TICKER: {
        const ht_sbe_ticker *t = &d.u.ticker;
        add(&l, "%u,", t->instrument_id);
        add_double(&l, "", t->mark_price);
        add_double(&l, "|", t->index_price);
        add_double(&l, "|", t->best_bid_price);
        add_double(&l, "|", t->best_ask_price);
        break;
    }
    case HT_SBE_SNAPSHOT:
        add(&l, "%u,%u", d.u.snapshot.instrument_id, d.u.snapshot.levels.count);
        break;
    case HT_SBE_COMBO_LEGS:
        add(&l, "%u,", d.u.combo_legs.instrument_id);
        break;
    case HT_SBE_PRICE_INDEX:
        add(&l, ",%s", d.u.price_index.index_name);
        add_double(&l, "|", d.u.price_index.price);
        break;
    case HT_SBE_RFQ:
        add(&l, "%u,", d.u.rfq.instrument_id);
        break;
    default: /* 1005, 1006: no instrument, no fields */
        add(&l, ",");
        break;
    }
    return finish(&l, st, status);
}

/* Appends the group entries of a decoded message in readable form. */
static void add_entries(line *l, const ht_sbe_decoded *d)
{
    switch (d->template_id) {
    case HT_SBE_BOOK:
        for (unsigned i = 0; i < d->u.book.changes.count; i++) {
            ht_sbe_book_change c;
            ht_sbe_book_change_at(&d->u.book.changes, i, &c);
            static const char *const kinds[] = {"new", "change", "delete"};
            add(l, " [%s %s", c.change < 3 ? kinds[c.change] : "?", c.side == HT_SBE_SIDE_BID ? "bid" : "ask");
            add_double(l, " ", c.price);
            add_double(l, " x ", c.amount);
            add(l, "]");
        }
        break;
    case HT_SBE_TRADES:
        for (unsigned i = 0; i < d->u.trades.trades.count; i++) {
            ht_sbe_trade t;
            ht_sbe_trade_at(&d->u.trades.trades, i, &t);
            add(l, " [%s", t.direction == HT_SBE_BUY ? "buy" : "sell");
            add_double(l, " ", t.amount);
            add_double(l, " @ ", t.price);
            add_double(l, " iv=", t.iv);
            add_double(l, " mark=", t.mark_price);
            add_double(l, " index=", t.index_price);
            add(l, " ts=%" PRIu64 " trade_id=%" PRIu64 " seq=%" PRIu64 " tick=%u liq=%u", t.timestamp_ms,
                t.trade_id, t.trade_seq, t.tick_direction, t.liquidation);
            if (t.block_trade_id)
                add(l, " block=%" PRIu64, t.block_trade_id);
            if (t.combo_trade_id)
                add(l, " combo=%" PRIu64, t.combo_trade_id);
            add(l, "]");
        }
        break;
    case HT_SBE_SNAPSHOT:
        for (unsigned i = 0; i < d->u.snapshot.levels.count; i++) {
            ht_sbe_level lv;
            ht_sbe_level_at(&d->u.snapshot.levels, i, &lv);
            add(l, " [%s", lv.side == HT_SBE_SIDE_BID ? "bid" : "ask");
            add_double(l, " ", lv.price);
            add_double(l, " x ", lv.amount);
            add(l, "]");
        }
        break;
    case HT_SBE_COMBO_LEGS:
        for (unsigned i = 0; i < d->u.combo_legs.legs.count; i++) {
            ht_sbe_leg leg;
            ht_sbe_leg_at(&d->u.combo_legs.legs, i, &leg);
            add(l, " [%d x %u]", leg.leg_size, leg.leg_instrument_id);
        }
        break;
    default:
        break;
    }
}

int ht_sbe_format_text(char *buf, size_t n, uint64_t frame, const ht_sbe_frame *fr, const ht_sbe_msg *msg,
                       const char *name, ht_sbe_status *status)
{
    line l = {buf, n, 0, n == 0};
    if (n)
        buf[0] = '\0';
    ht_sbe_decoded d;
    ht_sbe_status st = ht_sbe_decode(msg, &d);
    if (st != HT_SBE_OK)
        return finish(&l, st, status);
    add(&l, "frame %" PRIu64 " ch %u seq %u %s", frame, fr->channel_id, fr->seq,
        ht_sbe_template_name(msg->hdr.template_id));
    if (!d.known) {
        add(&l, " template=%u schema=%u version=%u block=%u groups=%u vars=%u (skipped)", msg->hdr.template_id,
            msg->hdr.schema_id, msg->hdr.version, msg->hdr.block_len, msg->hdr.num_groups, msg->hdr.num_var_data);
        return finish(&l, st, status);
    }
    const char *nm = name ? name : "";
    switch (d.template_id) {
    case HT_SBE_INSTRUMENT:
    case HT_SBE_INSTRUMENT_V2: {
        const ht_sbe_instrument *in = &d.u.instrument;
        add(&l, " id=%u %.*s state=%u kind=%u type=%u option=%u", in->instrument_id, (int)in->name_len, in->name,
            in->state, in->kind, in->instrument_type, in->option_type);
        add_double(&l, " strike=", in->strike_price);
        add(&l, " expiry=%" PRIu64 " base=%s quote=%s counter=%s settle=%s size=%s", in->expiration_timestamp_ms,
            in->base_currency, in->quote_currency, in->counter_currency, in->settlement_currency,
            in->size_currency);
        add_double(&l, " contract=", in->contract_size);
        add_double(&l, " tick=", in->tick_size);
        add_double(&l, " min=", in->min_trade_amount);
        add_double(&l, " maker=", in->maker_commission);
        add_double(&l, " taker=", in->taker_commission);
        for (unsigned i = 0; i < in->tick_steps.count; i++) {
            ht_sbe_tick_step s;
            ht_sbe_tick_step_at(&in->tick_steps, i, &s);
            add_double(&l, " [above ", s.above_price);
            add_double(&l, " tick ", s.tick_size);
            add(&l, "]");
        }
        break;
    }
    case HT_SBE_BOOK: {
        const ht_sbe_book *b = &d.u.book;
        add(&l, " id=%u %s ts=%" PRIu64 " prev=%" PRIu64 " change=%" PRIu64 " last=%u", b->instrument_id, nm,
            b->timestamp_ms, b->prev_change_id, b->change_id, b->is_last);
        break;
    }
    case HT_SBE_TRADES:
        add(&l, " id=%u %s", d.u.trades.instrument_id, nm);
        break;
    case HT_SBE_TICKER: {
        const ht_sbe_ticker *t = &d.u.ticker;
        add(&l, " id=%u %s state=%u ts=%" PRIu64, t->instrument_id, nm, t->state, t->timestamp_ms);
        add_double(&l, " mark=", t->mark_price);
        add_double(&l, " index=", t->index_price);
        add_double(&l, " bid=", t->best_bid_price);
        add_double(&l, "x", t->best_bid_amount);
        add_double(&l, " ask=", t->best_ask_price);
        add_double(&l, "x", t->best_ask_amount);
        add_double(&l, " last=", t->last_price);
        add_double(&l, " oi=", t->open_interest);
        add_double(&l, " min_sell=", t->min_sell_price);
        add_double(&l, " max_buy=", t->max_buy_price);
        add_double(&l, " funding=", t->current_funding);
        add_double(&l, " funding_8h=", t->funding_8h);
        add_double(&l, " est_delivery=", t->estimated_delivery_price);
        add_double(&l, " delivery=", t->delivery_price);
        add_double(&l, " settlement=", t->settlement_price);
        break;
    }
    case HT_SBE_SNAPSHOT: {
        const ht_sbe_snapshot *s = &d.u.snapshot;
        add(&l, " id=%u %s ts=%" PRIu64 " change=%" PRIu64 " complete=%u last=%u", s->instrument_id, nm,
            s->timestamp_ms, s->change_id, s->is_book_complete, s->is_last_in_book);
        break;
    }
    case HT_SBE_SNAPSHOT_START:
        add(&l, " delay_ms=%u", d.u.snapshot_start.snapshot_delay_ms);
        break;
    case HT_SBE_COMBO_LEGS:
        add(&l, " id=%u %s", d.u.combo_legs.instrument_id, nm);
        break;
    case HT_SBE_PRICE_INDEX:
        add(&l, " %s", d.u.price_index.index_name);
        add_double(&l, " price=", d.u.price_index.price);
        add(&l, " ts=%" PRIu64, d.u.price_index.timestamp_ms);
        break;
    case HT_SBE_RFQ:
        add(&l, " id=%u %s state=%u side=%u", d.u.rfq.instrument_id, nm, d.u.rfq.state, d.u.rfq.side);
        add_double(&l, " amount=", d.u.rfq.amount);
        add(&l, " ts=%" PRIu64, d.u.rfq.timestamp_ms);
        break;
    default:
        break;
    }
    add_entries(&l, &d);
    return finish(&l, st, status);
}

/* SPDX-License-Identifier: MIT */
/* The engine's fast half: feed decode, index ticks into the pipeline, breach events out, pipeline commands in. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"
#include "slow_priv.h"
#include "hedgetrig/tsc.h"

/* The pipeline underlying of a feed index slot: resolved once per slot against the reference names. */
static int underlying_of_index(fast_half *f, const ht_index_price *ix)
{
    if (HT_UNLIKELY(ix->index >= ENGINE_MAX_INDEX_SLOTS))
        return -1;
    int u = f->index_u[ix->index];
    if (HT_LIKELY(u != ENGINE_NOT_CHECKED))
        return u;
    u = -1;
    for (unsigned k = 0; k < f->n_refs; k++)
        if (strcmp(f->ref_names[k], ix->name) == 0)
            u = (int)k;
    f->index_u[ix->index] = (int8_t)u;
    return u;
}

/* A hedge instrument's quote for the optimizer: its book in the feed (or the synthetic book around its mark),
 * prepared here as the book changes so that a breach's decision reads its depth without walking it (about 530
 * instructions a change, against about 140 saved per decision and venue: docs/optimizer.md, "Decision cost"). */
static void quote_from_book(const fast_half *f, uint32_t id, ht_opt_quote *q)
{
    const ht_instrument *in = ht_feed_instrument(f->feed, id);
    if (!in) {
        memset(q, 0, sizeof *q);
        return;
    }
    double mark = in->ticker.mark_price;
    if (f->e->cfg.synthetic_book) {
        ht_book_level bids[ENGINE_BOOK_LEVELS], asks[ENGINE_BOOK_LEVELS];
        unsigned n = engine_synthetic_ladder(&f->e->cfg, mark, in->tick_size, bids, asks);
        engine_quote_from_levels(bids, n, asks, n, mark, q);
        ht_opt_quote_prepare(q, in->inverse ? HT_OPT_INVERSE : HT_OPT_LINEAR);
        return;
    }
    const ht_book *b = ht_feed_book(f->feed, in);
    engine_quote_from_levels(b->bids, b->bid_count, b->asks, b->ask_count, mark, q);
    ht_opt_quote_prepare(q, in->inverse ? HT_OPT_INVERSE : HT_OPT_LINEAR);
}

/* The hedge instruments whose ticker (or book, unless the books are synthetic) the feed does not trust now, as
 * UNTRUSTED_VENUE bits: a few serial comparisons, no lookup. */
static uint32_t venues_untrusted(const fast_half *f)
{
    uint32_t bits = 0;
    for (unsigned v = 0; v < f->n_venues; v++) {
        const ht_instrument *in = f->venue_in[v];
        if (HT_UNLIKELY(!in || ht_feed_price_status(f->feed, in, f->max_age_ms) != HT_PRICE_OK ||
                        (!f->e->cfg.synthetic_book && ht_feed_book_status(f->feed, in) != HT_BOOK_OK)))
            bits |= UNTRUSTED_VENUE(v);
    }
    return bits;
}

/* Tells the slow half when the set of untrusted hedge instruments changed (after a gap, a ticker, a book). */
static void post_trust(fast_half *f)
{
    uint32_t bits = venues_untrusted(f);
    if (HT_LIKELY(bits == f->venues_untrusted))
        return;
    f->venues_untrusted = bits;
    msg_trust m = {MSG_TRUST, bits};
    engine_post(f->e, &m, sizeof m);
}

/* verilator: the simulator's run time taken off the event stamp, so that the pipeline's time is its cycles at the
 * configured clock; returns the shift. */
static uint64_t pipe_shift(const fast_half *f, uint64_t cycle0, bool rejected, ht_stamps *st)
{
    if (!f->model_clock || rejected)
        return 0;
    uint64_t cycles = ht_pipe_now(f->pipe) - cycle0;
    uint64_t model_tsc = (uint64_t)((double)cycles * f->ns_per_cycle * f->tsc_per_ns + 0.5);
    uint64_t real_tsc = st->tsc[HT_STAGE_EVENT_OUT] - st->tsc[HT_STAGE_PIPE_IN];
    uint64_t shift = real_tsc > model_tsc ? real_tsc - model_tsc : 0;
    st->tsc[HT_STAGE_EVENT_OUT] -= shift;
    return shift;
}

/* One index tick through the pipeline: push, poll, stamps (wire mode: the ingest's tick for it); posts the tick
 * and its breach. */
static void on_tick(fast_half *f, const ht_feed_event *ev, int u)
{
    const ht_index_price *ix = ev->index;
    ht_stamps st = {{0}};
    st.tsc[HT_STAGE_RX] = f->cur_rx_tsc;
    st.tsc[HT_STAGE_DECODED] = ht_tsc_now();
    bool rejected;
    int got;
    ht_pipe_event pev;
    uint64_t shift = 0;
    if (f->wire.on) {
        /* The ingest made the tick from the frame: its time is the frame's, from push to events out. */
        bool wire_got;
        rejected = !engine_wire_take(f, ev, u, &pev, &wire_got);
        got = wire_got;
        st.tsc[HT_STAGE_DECODED] = st.tsc[HT_STAGE_PIPE_IN] = f->wire.in_tsc;
        st.tsc[HT_STAGE_EVENT_OUT] = f->wire.out_tsc - f->wire.shift_tsc;
        shift = f->wire.shift_tsc;
    } else {
        ht_pipe_tick tick = {(unsigned)u, ev->seq, ix->price};
        uint64_t cycle0 = f->model_clock ? ht_pipe_now(f->pipe) : 0;
        st.tsc[HT_STAGE_PIPE_IN] = ht_tsc_now();
        rejected = ht_pipe_push_tick(f->pipe, &tick) != 0;
        got = rejected ? 0 : ht_pipe_poll_event(f->pipe, &pev);
        st.tsc[HT_STAGE_EVENT_OUT] = ht_tsc_now();
        shift = pipe_shift(f, cycle0, rejected, &st);
    }
    if (!rejected) {
        /* In TSC ticks here (no conversion on the hot path); ht_engine_profile converts them to ns. */
        f->ticks++;
        ht_hist_record(&f->tsc_hist[0], st.tsc[HT_STAGE_DECODED] - st.tsc[HT_STAGE_RX]);
        ht_hist_record(&f->tsc_hist[1], st.tsc[HT_STAGE_PIPE_IN] - st.tsc[HT_STAGE_DECODED]);
        ht_hist_record(&f->tsc_hist[2], st.tsc[HT_STAGE_EVENT_OUT] - st.tsc[HT_STAGE_PIPE_IN]);
        ht_hist_record(&f->tsc_hist[3], st.tsc[HT_STAGE_EVENT_OUT] - st.tsc[HT_STAGE_RX]);
    }
    const bool index_ok = ht_feed_index_status(f->feed, ix, f->max_age_ms) == HT_PRICE_OK;
    if (got == 1) {
        /* The breach first: the slow half decides before it looks at anything else about this tick. */
        msg_breach b;
        b.type = MSG_BREACH;
        b.untrusted = (index_ok ? 0u : UNTRUSTED_INDEX) | venues_untrusted(f);
        b.ev = pev;
        b.st = st;
        b.model_shift_tsc = shift;
        b.ts_ms = ix->timestamp_ms;
        b.channel = ev->channel_id;
        b.n_venues = f->n_venues;
        memcpy(b.quotes, f->venue_quote, f->n_venues * sizeof b.quotes[0]); /* kept current as books change */
        if (!f->e->cfg.threads)
            slow_arm_fire_early(&f->e->slow, &b); /* the armed hedge out before the breach is even posted */
        engine_post(f->e, &b, offsetof(msg_breach, quotes) + f->n_venues * sizeof b.quotes[0]);
        if (HT_UNLIKELY(f->e->slow.early.valid)) {
            f->e->slow.early.valid = false;
            if (f->e->slow.early.fired)
                engine_fail(f->e, "engine: an armed hedge fired at breach seq %llu was not taken by its decision",
                            (unsigned long long)b.ev.seq);
        }
    }
    msg_index m = {MSG_INDEX, u, {0}, index_ok, got == 1, rejected, ix->price, ix->timestamp_ms, ev->seq};
    memcpy(m.name, ix->name, sizeof m.name);
    engine_post(f->e, &m, sizeof m);
}

/* Posts a hedge instrument's book (up to ENGINE_BOOK_LEVELS levels a side). */
static void post_venue_book(fast_half *f, const ht_instrument *in, uint64_t ts_ms)
{
    const ht_book *b = ht_feed_book(f->feed, in);
    msg_venue_book m;
    m.type = MSG_VENUE_BOOK;
    m.id = in->id;
    m.ts_ms = ts_ms;
    m.mark = in->ticker.mark_price;
    m.n_bids = b->bid_count < ENGINE_BOOK_LEVELS ? b->bid_count : ENGINE_BOOK_LEVELS;
    m.n_asks = b->ask_count < ENGINE_BOOK_LEVELS ? b->ask_count : ENGINE_BOOK_LEVELS;
    memcpy(m.bids, b->bids, m.n_bids * sizeof *m.bids);
    memcpy(m.asks, b->asks, m.n_asks * sizeof *m.asks);
    engine_post(f->e, &m, sizeof m);
}

/* The feed's event callback: ticks go through the pipeline; what the slow half needs is posted to it. */
static void on_feed_event(void *user, const ht_feed_event *ev)
{
    fast_half *f = user;
    switch (ev->kind) {
    case HT_FEED_EV_INDEX: {
        int u = underlying_of_index(f, ev->index);
        if (u >= 0) {
            on_tick(f, ev, u);
        } else {
            msg_index m = {MSG_INDEX, -1, {0}, ht_feed_index_status(f->feed, ev->index, f->max_age_ms) == HT_PRICE_OK,
                           false, false, ev->index->price, ev->index->timestamp_ms, ev->seq};
            memcpy(m.name, ev->index->name, sizeof m.name);
            engine_post(f->e, &m, sizeof m);
        }
        break;
    }
    case HT_FEED_EV_TICKER:
        for (unsigned v = 0; v < f->n_venues; v++)
            if (f->venue_ids[v] == ev->instrument->id) {
                quote_from_book(f, f->venue_ids[v], &f->venue_quote[v]); /* a new mark (and synthetic book) */
                post_trust(f);                                            /* a full ticker: trusted again? */
            }
        /* fall through */
    case HT_FEED_EV_OPTION_TICKER: {
        const ht_instrument *in = ev->instrument;
        msg_ticker m = {MSG_TICKER, in->id, ht_feed_price_status(f->feed, in, 0) == HT_PRICE_OK,
                        in->ticker.mark_price, in->ticker.index_price, in->ticker.timestamp_ms};
        engine_post(f->e, &m, sizeof m);
        break;
    }
    case HT_FEED_EV_BOOK:
        if (f->e->cfg.synthetic_book)
            break;
        for (unsigned v = 0; v < f->n_venues; v++)
            if (f->venue_ids[v] == ev->instrument->id) {
                quote_from_book(f, f->venue_ids[v], &f->venue_quote[v]);
                post_venue_book(f, ev->instrument, ev->exchange_timestamp_ms);
                post_trust(f);
            }
        break;
    case HT_FEED_EV_INSTRUMENT: {
        msg_instrument m;
        m.type = MSG_INSTRUMENT;
        m.in = *ev->instrument;
        engine_post(f->e, &m, sizeof m);
        break;
    }
    case HT_FEED_EV_GAP: {
        engine_wire_gap(f, ev->channel_id);
        msg_gap m = {MSG_GAP, ev->channel_id, ev->missed, ev->exchange_timestamp_ms};
        engine_post(f->e, &m, sizeof m);
        post_trust(f);
        break;
    }
    default:
        break;
    }
}

int engine_fast_init(ht_engine *e, ht_error *err)
{
    fast_half *f = &e->fast;
    memset(f, 0, sizeof *f);
    f->e = e;
    for (unsigned i = 0; i < ENGINE_MAX_INDEX_SLOTS; i++)
        f->index_u[i] = ENGINE_NOT_CHECKED;
    ht_feed_config fc;
    ht_feed_config_default(&fc);
    fc.max_indices = ENGINE_MAX_INDEX_SLOTS;
    fc.on_event = on_feed_event;
    fc.user = f;
    f->feed = ht_feed_create(&fc, err);
    if (!f->feed)
        return -1;
    ht_pipe_config pc;
    ht_pipe_config_default(&pc);
    pc.backend = e->cfg.backend;
    pc.event_capacity = e->cfg.event_capacity;
    pc.xclbin_path = e->cfg.xclbin[0] ? e->cfg.xclbin : NULL;
    pc.xrt_device = e->cfg.xrt_device;
    f->pipe = ht_pipe_create(&pc, err);
    if (!f->pipe)
        return -1;
    f->prof = ht_profile_create();
    f->tsc_hist = malloc(ENGINE_FAST_SPANS * sizeof *f->tsc_hist);
    if (!f->prof || !f->tsc_hist)
        return ht_error_set(err, "engine: out of memory for the profile");
    for (unsigned k = 0; k < ENGINE_FAST_SPANS; k++)
        ht_hist_reset(&f->tsc_hist[k]);
    f->model_clock = e->cfg.backend == HT_PIPE_BACKEND_VERILATOR;
    f->max_age_ms = e->cfg.greeks.max_quote_age_ms;
    f->ns_per_cycle = 1000.0 / e->cfg.clock_mhz;
    f->tsc_per_ns = ht_tsc_ticks_per_ns();
    return engine_wire_init(f, err);
}

void engine_fast_destroy(fast_half *f)
{
    ht_feed_destroy(f->feed);
    ht_pipe_destroy(f->pipe);
    ht_profile_destroy(f->prof);
    free(f->tsc_hist);
    f->tsc_hist = NULL;
    f->feed = NULL;
    f->pipe = NULL;
    f->prof = NULL;
}

void engine_fast_packet(fast_half *f, const uint8_t *payload, size_t len, uint64_t rx_tsc)
{
    uint64_t t0 = ht_tsc_now();
    f->cur_rx_tsc = rx_tsc ? rx_tsc : t0;
    f->packets++;
    if (ht_feed_on_packet(f->feed, payload, len, f->cur_rx_tsc) < 0)
        f->malformed++;
    f->busy_tsc += ht_tsc_now() - t0;
}

/* Reports a pipeline command failure to the slow half. */
static void command_failed(fast_half *f, const char *what, const ht_error *err)
{
    msg_error m;
    m.type = MSG_ERROR;
    snprintf(m.text, sizeof m.text, "pipeline: %.40s: %.200s", what, err->msg);
    engine_post(f->e, &m, sizeof m);
}

void engine_fast_apply(fast_half *f, const engine_cmd *c)
{
    ht_error err = {{0}};
    switch ((cmd_type)c->type) {
    case CMD_SET_REF:
        if (c->u < ENGINE_MAX_UNDERLYINGS) {
            snprintf(f->ref_names[c->u], sizeof f->ref_names[c->u], "%.16s", c->name);
            if (c->u >= f->n_refs)
                f->n_refs = c->u + 1;
            for (unsigned i = 0; i < ENGINE_MAX_INDEX_SLOTS; i++)
                f->index_u[i] = ENGINE_NOT_CHECKED;
            engine_wire_set_names(f);
        }
        break;
    case CMD_SET_VENUES:
        f->n_venues = c->n;
        memcpy(f->venue_ids, c->ids, sizeof f->venue_ids);
        for (unsigned v = 0; v < f->n_venues; v++) {
            f->venue_in[v] = ht_feed_instrument(f->feed, f->venue_ids[v]);
            quote_from_book(f, f->venue_ids[v], &f->venue_quote[v]);
        }
        f->venues_untrusted = 0;
        post_trust(f);
        for (unsigned v = 0; v < f->n_venues && !f->e->cfg.synthetic_book; v++)
            if (f->venue_in[v])
                post_venue_book(f, f->venue_in[v], ht_feed_now_ms(f->feed)); /* the book as it is now; changes follow */
        break;
    case CMD_LOAD: {
        const ht_pipe_position *rows = f->e->slow.load_buf[c->buffer];
        /* The fold runs to its end before the next tick, so the slow half's view and the pipeline's agree. */
        bool ok = ht_pipe_load_book(f->pipe, rows, c->rows, c->s0, &err) == 0 && ht_pipe_sync(f->pipe, &err) == 0;
        for (unsigned u = 0; ok && u < c->n_underlyings; u++)
            ok = ht_pipe_set_inventory(f->pipe, u, c->h[u], &err) == 0 &&
                 ht_pipe_set_vol_move(f->pipe, u, 0.0, &err) == 0;
        if (!ok)
            command_failed(f, "loading the greek table", &err);
        msg_load_done m = {MSG_LOAD_DONE, c->buffer, ok};
        engine_post(f->e, &m, sizeof m);
        break;
    }
    case CMD_SET_BAND:
        if (ht_pipe_set_band(f->pipe, c->u, c->a, c->b, &err) != 0)
            command_failed(f, "setting a band", &err);
        break;
    case CMD_SET_INVENTORY:
        if (ht_pipe_set_inventory(f->pipe, c->u, c->a, &err) != 0)
            command_failed(f, "setting the inventory", &err);
        break;
    case CMD_SET_VOL_MOVE:
        if (ht_pipe_set_vol_move(f->pipe, c->u, c->a, &err) != 0)
            command_failed(f, "setting the vol move", &err);
        break;
    }
}

void engine_fast_drain_commands(fast_half *f)
{
    ht_spsc *ring = f->e->to_fast;
    size_t len;
    const void *p;
    while ((p = ht_spsc_peek(ring, &len)) != NULL) {
        engine_cmd c;
        memcpy(&c, p, sizeof c < len ? sizeof c : len);
        ht_spsc_release(ring);
        engine_fast_apply(f, &c);
    }
}

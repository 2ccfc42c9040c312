/* SPDX-License-Identifier: MIT */
/* The engine's slow half: message dispatch from the fast half, the index updates that drive timers and refreshes,
 * pipeline commands, and the life cycle (init, shutdown with the venue, destroy). The book and arming are in
 * slow_book.c, decisions and orders in slow_orders.c, the event log, statistics and status in slow_log.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slow_priv.h"
#include "hedgetrig/textfile.h"
#include "hedgetrig/tsc.h"

#define VOL_MOVE_STEP 1e-4 /* a vol move change that is worth a register write */

/* ---- Pipeline commands ------------------------------------------------------------------------------------ */

void slow_command(slow_half *s, cmd_type type, unsigned u, double a, double b)
{
    engine_cmd c;
    slow_arm_dirty(s, (int)u); /* the band, the inventory or the vol move: an input of u's armed hedges */
    memset(&c, 0, sizeof c);
    c.type = type;
    c.u = u;
    c.a = a;
    c.b = b;
    engine_command(s->e, &c);
}

void slow_set_band(slow_half *s, unsigned u, double lo, double hi)
{
    under_state *us = &s->under[u];
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return;
    us->band_lo = lo;
    us->band_hi = hi;
    us->band_set = true;
    us->muted = false;
    slow_command(s, CMD_SET_BAND, u, lo, hi);
}

/* ---- Messages from the fast half ------------------------------------------------------------------------- */

/* An index update: greeks, then for a pipeline tick the statistics, timers, vol move and refresh policy. */
static void on_index(slow_half *s, const msg_index *m)
{
    unsigned k = 0;
    for (; k < s->n_idx && strcmp(s->idx[k].name, m->name) != 0; k++)
        ;
    if (k == s->n_idx && k < ENGINE_MAX_INDEX_SLOTS) {
        s->n_idx++;
        snprintf(s->idx[k].name, sizeof s->idx[k].name, "%s", m->name);
    }
    if (k < ENGINE_MAX_INDEX_SLOTS) {
        s->idx[k].price = m->price;
        s->idx[k].ts_ms = m->ts_ms;
        s->idx[k].trusted = m->trusted;
    }
    if (s->greeks)
        ht_greeks_set_index(s->greeks, m->name, m->price, m->ts_ms, m->trusted);
    if (s->base_greeks)
        ht_greeks_set_index(s->base_greeks, m->name, m->price, m->ts_ms, m->trusted);
    if (!s->armed) {
        slow_try_arm(s);
        return;
    }
    if (m->underlying < 0 || (unsigned)m->underlying >= s->n_under)
        return;
    slow_live_settle(s);
    unsigned u = (unsigned)m->underlying;
    under_state *us = &s->under[u];
    if (!m->rejected) {
        s->rep.ticks++;
        if (!s->first_tick_ms)
            s->first_tick_ms = m->ts_ms;
        s->last_tick_ms = m->ts_ms;
    }
    us->spot = m->price;
    us->index_trusted = m->trusted;
    slow_tick_stats(s, u, m);
    if (!m->rejected)
        slow_margin_tick(s, u, m->price);
    if (m->breached)
        return; /* the breach message follows */
    if (us->pending > 0 || slow_margin_act(s, u))
        return;
    if (us->rate_held && slow_rate_fits(s, u)) {
        slow_decide(s, u, HT_OPT_TRIGGER_REFRESH, NULL);
        if (us->pending > 0)
            return;
    }
    if (us->deferred && !slow_untrusted_for(s, u, NULL)) {
        /* The data is trusted again: decide on the net delta now (hedging only when outside the band). */
        us->deferred = false;
        slow_log_info(s, "trusted", (int)u, "the index and the hedge instruments are trusted again");
        slow_decide(s, u, HT_OPT_TRIGGER_REFRESH, NULL);
        if (us->pending > 0)
            return;
    }
    if (us->next_timer_ns > 0 && (int64_t)(m->ts_ms * 1000000u) >= us->next_timer_ns) {
        us->next_timer_ns = 0;
        slow_decide(s, u, HT_OPT_TRIGGER_TIMER, NULL);
    }
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    if (fabs(g->vol_move - us->vol_move_sent) > VOL_MOVE_STEP && isfinite(g->vol_move)) {
        us->vol_move_sent = g->vol_move;
        slow_command(s, CMD_SET_VOL_MOVE, u, g->vol_move, 0);
    }
    unsigned why = ht_greeks_refresh_due(s->greeks, u, m->price, m->ts_ms);
    if (why)
        slow_refresh(s, why);
}

/* Handles one message from the fast half. */
void engine_slow_handle(slow_half *s, const void *msg, size_t len)
{
    uint32_t type;
    if (len < sizeof type)
        return;
    memcpy(&type, msg, sizeof type);
    switch ((msg_type)type) {
    case MSG_INSTRUMENT: {
        const msg_instrument *m = msg;
        slow_on_instrument(s, &m->in);
        break;
    }
    case MSG_INDEX: {
        const msg_index *m = msg;
        if (m->ts_ms > s->now_ms)
            s->now_ms = m->ts_ms;
        if (!s->first_seen_ms)
            s->first_seen_ms = m->ts_ms;
        on_index(s, m);
        break;
    }
    case MSG_TICKER: {
        const msg_ticker *m = msg;
        if (m->ts_ms > s->now_ms)
            s->now_ms = m->ts_ms;
        slow_on_ticker(s, m);
        break;
    }
    case MSG_VENUE_BOOK:
        slow_on_venue_book(s, msg);
        break;
    case MSG_BREACH: {
        const msg_breach *m = msg;
        s->rep.breaches++;
        if (m->ev.underlying >= ENGINE_MAX_UNDERLYINGS)
            break;
        under_state *us = &s->under[m->ev.underlying];
        us->breach_nd = m->ev.net_delta_contracts;
        us->breach_lo = us->band_lo;
        us->breach_hi = us->band_hi;
        us->breach_armed = us->band_set && !us->muted && us->pending == 0;
        us->muted = true;
        if (m->ts_ms > s->now_ms)
            s->now_ms = m->ts_ms;
        if (!s->armed || m->ev.underlying >= s->n_under)
            break;
        if (slow_stopped(s)) {
            /* No more orders: widen the band to hold the net delta so the pipeline keeps watching. */
            double nd = m->ev.net_delta_contracts;
            slow_log_market(s, "breach", (int)m->ev.underlying, m->ev.spot_usd, nd, us->band_lo, us->band_hi,
                            (m->ev.side & HT_PIPE_SIDE_DELTA_HI) ? 1 : -1, s->killed ? "kill_switch" : "halted",
                            "no order: %s", s->killed ? "the kill switch is on" : s->live.halt_reason);
            slow_set_band(s, m->ev.underlying, fmin(us->band_lo, nd), fmax(us->band_hi, nd));
            break;
        }
        slow_decide(s, m->ev.underlying, HT_OPT_TRIGGER_BREACH, m);
        break;
    }
    case MSG_GAP: {
        const msg_gap *m = msg;
        s->live.gaps++;
        s->live.missed += m->missed;
        slow_log_info(s, "gap", -1, "channel %u missed %u", m->channel, m->missed);
        break;
    }
    case MSG_WIRE_REARM: {
        const msg_wire_rearm *m = msg;
        slow_log_info(s, "wire_rearm", -1, "the ingest turned channel %u stale on a frame the feed took (no gap of "
                      "the feed's): re-armed", m->channel);
        break;
    }
    case MSG_TRUST: {
        const msg_trust *m = msg;
        if (m->venues_untrusted != s->venues_untrusted)
            slow_log_info(s, "trust", -1, "hedge instruments not trusted: mask 0x%x (was 0x%x)", m->venues_untrusted,
                          s->venues_untrusted);
        s->venues_untrusted = m->venues_untrusted;
        slow_arm_dirty(s, -1);
        break;
    }
    case MSG_LOAD_DONE: {
        const msg_load_done *m = msg;
        if (s->load_in_flight == (int)m->buffer)
            s->load_in_flight = -1;
        break;
    }
    case MSG_ERROR: {
        const msg_error *m = msg;
        engine_fail(s->e, "%s", m->text);
        break;
    }
    case MSG_END:
        break;
    }
}

/* ---- Life cycle ------------------------------------------------------------------------------------------ */

/* ht_instrument_lookup_fn that accepts any name (a syntax check of the book before the registry is known). */
static int any_lookup(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    (void)ctx;
    (void)why;
    memset(out, 0, sizeof *out);
    static uint32_t next_id = 1;
    out->id = next_id++;
    snprintf(out->name, sizeof out->name, "%.*s", (int)(len < HT_POS_NAME_MAX ? len : HT_POS_NAME_MAX), name);
    out->kind = HT_POS_OPTION;
    out->option_type = HT_B76_CALL;
    out->strike = 1.0;
    out->contract_size = 1.0;
    out->size_in_coin = true;
    snprintf(out->base_currency, sizeof out->base_currency, "BTC");
    return 0;
}

/* Reads the whole book file into memory. */
static int read_book_file(slow_half *s, const char *path, ht_error *err)
{
    s->book_text = ht_text_file_read(path, "book file", HT_POSITIONS_MAX_FILE_BYTES, &s->book_len, err);
    return s->book_text ? 0 : -1;
}

int engine_slow_init(ht_engine *e, ht_error *err)
{
    slow_half *s = &e->slow;
    memset(s, 0, sizeof *s);
    s->e = e;
    s->load_in_flight = -1;
    const ht_engine_config *cfg = &e->cfg;
    if (read_book_file(s, cfg->book_path, err) != 0)
        return -1;
    /* Catch a malformed book now rather than after the market has been read. */
    ht_positions *probe = ht_positions_parse(s->book_text, s->book_len, cfg->book_path, cfg->max_book_qty_contracts,
                                               any_lookup, NULL, err);
    if (!probe)
        return -1;
    s->load_cap = ht_positions_count(probe) + HT_GREEKS_MAX_UNDERLYINGS + 16;
    ht_positions_destroy(probe);
    for (unsigned b = 0; b < 2; b++) {
        s->load_buf[b] = calloc(s->load_cap, sizeof *s->load_buf[b]);
        if (!s->load_buf[b])
            return ht_error_set(err, "engine: out of memory");
    }
    if (ht_opt_strategy_parse(cfg->strategy, 1000000000, &s->strategy, err) != 0)
        return -1;
    s->strategy.min_half_width_coin = cfg->min_half_width_coin;
    s->strategy.max_half_width_coin = cfg->max_half_width_coin;
    s->opt = ht_opt_create(&cfg->opt, err);
    if (!s->opt)
        return -1;
    s->n_venues = cfg->n_venues;
    for (unsigned v = 0; v < s->n_venues; v++) {
        snprintf(s->venues[v].name, sizeof s->venues[v].name, "%s", cfg->venues[v]);
        s->venues[v].opt_index = -1;
    }
    for (unsigned u = 0; u < ENGINE_MAX_UNDERLYINGS; u++) {
        s->under[u].band_lo = s->under[u].band_hi = NAN;
        s->under[u].spot = NAN;
    }
    s->prof = ht_profile_create();
    if (!s->prof)
        return ht_error_set(err, "engine: out of memory for the profile");
    if (cfg->event_log[0]) {
        s->event_log = fopen(cfg->event_log, "w");
        if (!s->event_log)
            return ht_error_set(err, "%s: cannot write the event log: %s", cfg->event_log, strerror(errno));
        fprintf(s->event_log, "time_s,event,underlying,spot,net_delta,band_lo,band_hi,side,reason,instrument,"
                              "order_side,qty,price,clordid,expected_cost_usd,detail\n");
    }
    if (cfg->table_log[0]) {
        s->table_log = fopen(cfg->table_log, "w");
        if (!s->table_log)
            return ht_error_set(err, "%s: cannot write the table log: %s", cfg->table_log, strerror(errno));
        fprintf(s->table_log, "time_s,underlying,instrument,qty_contracts,in_table,qty_x_mult,delta,gamma,speed,vanna,"
                              "hedge_coin,s0\n");
    }
    if (cfg->series_path[0]) {
        s->series = fopen(cfg->series_path, "w");
        if (!s->series)
            return ht_error_set(err, "%s: cannot write the series: %s", cfg->series_path, strerror(errno));
        fprintf(s->series, "time_s,underlying,spot,net_delta,net_delta_after,band_lo,band_hi,unhedged,hedge_coin\n");
    }
    if (cfg->margin_series_path[0]) {
        s->margin_series = fopen(cfg->margin_series_path, "w");
        if (!s->margin_series)
            return ht_error_set(err, "%s: cannot write the margin series: %s", cfg->margin_series_path,
                                strerror(errno));
        fprintf(s->margin_series, "time_s,underlying,spot,net_delta,maintenance_coin,equity_coin,margin_ratio,"
                                  "liquidation_spot_up,liquidation_spot_down,liquidation_vol_up,band_fraction,"
                                  "flatten,killed\n");
    }
    snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for the instrument records of the book");
    return 0;
}

void slow_cancel_pending(slow_half *s, const char *why)
{
    const ht_venue *v = s->venue;
    for (unsigned i = 0; v && i < ENGINE_MAX_PENDING; i++) {
        if (!s->pending[i].used)
            continue;
        ht_error err;
        if (v->ops->cancel(v->ctx, s->pending[i].clordid, &err) != 0)
            slow_log_order(s, "cancel_failed", (int)s->pending[i].u, NULL, 0, NAN, NAN, s->pending[i].clordid, NAN,
                           "%s", err.msg);
        else
            slow_log_order(s, "cancel", (int)s->pending[i].u, NULL, 0, NAN, NAN, s->pending[i].clordid, NAN, "%s",
                           why);
    }
}

void engine_slow_shutdown(slow_half *s)
{
    const ht_venue *v = s->venue;
    if (!v)
        return;
    /* Orders still in flight get their answers (or time out), then whatever the venue still holds is cancelled. */
    uint64_t deadline = ht_mono_ns() + (uint64_t)s->e->cfg.order_timeout_ms * 1000000u;
    bool any = true;
    while (any && ht_mono_ns() < deadline) {
        any = false;
        for (unsigned i = 0; i < ENGINE_MAX_PENDING; i++)
            any |= s->pending[i].used;
        if (any) {
            v->ops->wait(v->ctx, 1);
            slow_poll_venue(s);
        }
    }
    slow_cancel_pending(s, "shutdown");
    if (v->ops->state(v->ctx) == HT_VENUE_ACTIVE) {
        v->ops->logout(v->ctx, "hedgetrig shutting down");
        uint64_t until = ht_mono_ns() + 2000000000ull;
        while (v->ops->state(v->ctx) != HT_VENUE_STOPPED && ht_mono_ns() < until) {
            v->ops->wait(v->ctx, 5);
            slow_poll_venue(s);
        }
    }
}

void engine_slow_destroy(slow_half *s)
{
    ht_greeks_destroy(s->greeks);
    ht_positions_destroy(s->book);
    ht_greeks_destroy(s->base_greeks);
    ht_positions_destroy(s->base_book);
    ht_opt_destroy(s->opt);
    ht_profile_destroy(s->prof);
    free(s->load_buf[0]);
    free(s->load_buf[1]);
    free(s->reg);
    free(s->reg_trusted);
    free(s->pos_flags);
    free(s->book_text);
    free(s->margin_pos);
    free(s->live.pos);
    if (s->event_log)
        fclose(s->event_log);
    if (s->series)
        fclose(s->series);
    if (s->table_log)
        fclose(s->table_log);
    if (s->margin_series)
        fclose(s->margin_series);
    memset(s, 0, sizeof *s);
}

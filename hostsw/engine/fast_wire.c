/* SPDX-License-Identifier: MIT */
/* The engine's fast half in wire mode ([engine] wire): the raw Ethernet frames go into the pipeline's ingest,
 * which makes its own ticks (fpga/rtl/ht_wire.sv, its C model in the sw backend); the feed decoder runs beside
 * it for the slow half and each index message it decodes takes the ingest's tick for it, in order. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine_priv.h"
#include "hedgetrig/fixed.h"
#include "hedgetrig/sbe.h"
#include "hedgetrig/tsc.h"

/* The wire tap: every tick the ingest hands to the pipeline, kept for the feed's index messages. */
static void on_wire_tick(void *ctx, uint64_t cycle, const ht_fx_tick *tick)
{
    wire_state *w = ctx;
    if (HT_UNLIKELY(w->n_ticks >= ENGINE_WIRE_TICKS)) {
        w->st.lost_ticks++;
        return;
    }
    w->ticks[w->n_ticks].tick = *tick;
    w->ticks[w->n_ticks].cycle = cycle;
    w->n_ticks++;
}

/* Writes the tables; a failure fails the run (the ingest would make no ticks). */
static void wire_configure(fast_half *f)
{
    wire_state *w = &f->wire;
    ht_error err = {{0}};
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        w->cfg.index_name[u] = w->names[u];
    w->st.reconfigures++;
    if (ht_pipe_wire_configure(f->pipe, &w->cfg, &err) != 0)
        engine_fail(f->e, "engine: wire mode: %s", err.msg);
}

int engine_wire_init(fast_half *f, ht_error *err)
{
    wire_state *w = &f->wire;
    memset(w, 0, sizeof *w);
    if (!f->e->cfg.wire)
        return 0;
    if (!ht_pipe_wire_pushable(f->pipe))
        return ht_error_set(err, "engine: wire mode: the %s backend takes no frames from the host (its card reads "
                                 "the wire itself); use the sw or verilator backend",
                            ht_pipe_backend_name(f->e->cfg.backend));
    if (ht_pipe_set_wire_tap(f->pipe, on_wire_tick, w) != 0)
        return ht_error_set(err, "engine: wire mode: the %s backend cannot show its ingest's ticks",
                            ht_pipe_backend_name(f->e->cfg.backend));
    w->on = true;
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        w->cfg.index_name[u] = w->names[u];
    if (ht_pipe_wire_configure(f->pipe, &w->cfg, err) != 0)
        return -1;
    return 0;
}

void engine_wire_set_names(fast_half *f)
{
    wire_state *w = &f->wire;
    if (!w->on)
        return;
    bool changed = false;
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        const char *name = u < f->n_refs ? f->ref_names[u] : "";
        if (strcmp(w->names[u], name) != 0) {
            snprintf(w->names[u], sizeof w->names[u], "%s", name);
            changed = true;
        }
    }
    if (changed)
        wire_configure(f);
}

/* True when the datagram carries a price index message (template 1008). */
static bool carries_index(const uint8_t *payload, size_t len)
{
    ht_sbe_iter it;
    ht_sbe_msg m;
    if (ht_sbe_iter_init(&it, payload, len) != HT_SBE_OK)
        return false;
    while (ht_sbe_iter_next(&it, &m))
        if (m.hdr.template_id == HT_SBE_PRICE_INDEX)
            return true;
    return false;
}

/* Puts an index-carrying (group, port, channel) into the filter and channel tables; false when there is no room. */
static bool track_key(wire_state *w, uint32_t addr, uint16_t port, uint16_t channel, bool *changed)
{
    bool have_filter = false, have_channel = false;
    for (unsigned i = 0; i < w->n_filters; i++)
        have_filter |= w->cfg.filter_addr[i] == addr && w->cfg.filter_port[i] == port;
    for (unsigned k = 0; k < w->n_channels; k++)
        have_channel |= w->cfg.channel[k] == channel;
    if ((!have_filter && w->n_filters >= HT_PIPE_WIRE_FILTERS) || (!have_channel && w->n_channels >= HT_PIPE_WIRE_CHANNELS))
        return false;
    if (!have_filter) {
        w->cfg.filter_addr[w->n_filters] = addr;
        w->cfg.filter_port[w->n_filters++] = port;
        *changed = true;
    }
    if (!have_channel) {
        w->cfg.channel[w->n_channels] = channel;
        w->cfg.channel_on[w->n_channels++] = true;
        *changed = true;
    }
    return true;
}

/* Learns the source's (group, port, channel) keys as they come: one that carries index messages gets a filter
 * and a channel entry (the tables are written before its frame goes in, so the ingest takes that frame). A key
 * seen before costs one comparison (the last key) or a short walk. */
static void wire_learn(fast_half *f, const ht_nic_packet *p)
{
    wire_state *w = &f->wire;
    if (p->len < sizeof(uint16_t) * 2)
        return;
    uint16_t channel = (uint16_t)(p->payload[2] | p->payload[3] << 8); /* the frame header's channelId (LE) */
    unsigned k = w->last_key;
    if (HT_LIKELY(k < w->n_keys && w->keys[k].addr == p->dst_addr && w->keys[k].port == p->dst_port &&
                  w->keys[k].channel == channel))
        return;
    for (k = 0; k < w->n_keys; k++)
        if (w->keys[k].addr == p->dst_addr && w->keys[k].port == p->dst_port && w->keys[k].channel == channel) {
            w->last_key = k;
            return;
        }
    if (w->n_keys >= ENGINE_WIRE_KEYS)
        return; /* a source of more keys than this: the ones seen first keep their entries */
    k = w->n_keys++;
    w->keys[k].addr = p->dst_addr;
    w->keys[k].port = p->dst_port;
    w->keys[k].channel = channel;
    w->keys[k].index = carries_index(p->payload, p->len);
    w->last_key = k;
    if (!w->keys[k].index)
        return;
    bool changed = false;
    if (!track_key(w, p->dst_addr, p->dst_port, channel, &changed)) {
        w->st.untracked++;
        return;
    }
    if (changed)
        wire_configure(f);
}

/* One frame into the ingest: its ticks (through the tap) and the events they raised. */
static void wire_push_once(fast_half *f, const uint8_t *frame, uint32_t len)
{
    wire_state *w = &f->wire;
    w->n_ticks = w->next_tick = w->n_events = 0;
    ht_pipe_push_frame(f->pipe, frame, len, false);
    ht_pipe_event ev;
    while (ht_pipe_poll_event(f->pipe, &ev) == 1) {
        if (HT_LIKELY(w->n_events < ENGINE_WIRE_TICKS))
            w->events[w->n_events++] = ev;
        else
            w->st.lost_ticks++; /* the event of a tick beyond the frame's buffer */
    }
}

/* Pushes a frame; a channel the ingest turned stale on it (a gap) is re-armed and the frame pushed again, so that
 * the ingest starts its sequence there as the feed does: a gap never leaves the ingest stale. */
static void wire_push(fast_half *f, const uint8_t *frame, uint32_t len)
{
    wire_state *w = &f->wire;
    w->st.frames_pushed++;
    w->rearmed_mask = 0;
    uint64_t cycle0 = f->model_clock ? ht_pipe_now(f->pipe) : 0;
    w->in_tsc = ht_tsc_now();
    wire_push_once(f, frame, len);
    uint32_t stale = 0;
    ht_error err = {{0}};
    if (HT_UNLIKELY(ht_pipe_wire_stale(f->pipe, &stale, &err) != 0)) {
        engine_fail(f->e, "engine: wire mode: %s", err.msg);
        return;
    }
    if (HT_UNLIKELY(stale != 0)) {
        if (ht_pipe_wire_rearm(f->pipe, stale, &err) != 0) {
            engine_fail(f->e, "engine: wire mode: %s", err.msg);
            return;
        }
        for (unsigned k = 0; k < HT_PIPE_WIRE_CHANNELS; k++)
            w->st.rearms += (stale >> k) & 1u;
        w->rearmed_mask = stale;
        wire_push_once(f, frame, len);
    }
    w->out_tsc = ht_tsc_now();
    w->shift_tsc = 0;
    if (f->model_clock) {
        /* The RTL's time is its cycles at the configured clock, not the simulator's run time. */
        uint64_t cycles = ht_pipe_now(f->pipe) - cycle0;
        uint64_t model_tsc = (uint64_t)((double)cycles * f->ns_per_cycle * f->tsc_per_ns + 0.5);
        uint64_t real_tsc = w->out_tsc - w->in_tsc;
        w->shift_tsc = real_tsc > model_tsc ? real_tsc - model_tsc : 0;
    }
}

/* Tells the slow half about a re-arm the feed did not explain (no gap of its own on the channel in this packet):
 * the ingest dropped a frame the feed took. Logged in the event log. */
static void wire_post_unseen(fast_half *f)
{
    wire_state *w = &f->wire;
    for (unsigned k = 0; k < HT_PIPE_WIRE_CHANNELS; k++) {
        if (!((w->rearmed_mask >> k) & 1u))
            continue;
        w->st.rearms_unseen++;
        msg_wire_rearm m = {MSG_WIRE_REARM, w->cfg.channel[k]};
        engine_post(f->e, &m, sizeof m);
    }
    w->rearmed_mask = 0;
}

void engine_fast_frame(fast_half *f, const ht_nic_packet *p, uint64_t rx_tsc)
{
    uint64_t t0 = ht_tsc_now();
    f->cur_rx_tsc = rx_tsc ? rx_tsc : t0;
    wire_state *w = &f->wire;
    if (p->payload)
        wire_learn(f, p);
    if (HT_LIKELY(p->l2 != NULL))
        wire_push(f, p->l2, p->l2_len);
    else
        w->n_ticks = w->next_tick = w->n_events = 0;
    if (p->payload) {
        f->packets++;
        if (ht_feed_on_packet(f->feed, p->payload, p->len, f->cur_rx_tsc) < 0)
            f->malformed++;
    }
    if (HT_UNLIKELY(w->rearmed_mask != 0))
        wire_post_unseen(f);
    w->st.unmatched_ticks += w->n_ticks - w->next_tick;
    w->n_ticks = w->next_tick = w->n_events = 0;
    f->busy_tsc += ht_tsc_now() - t0;
}

/* The feed saw a gap on a channel: a re-arm of the same channel for this frame is the same gap. */
static void wire_feed_gap(wire_state *w, uint16_t channel)
{
    for (unsigned k = 0; k < w->n_channels; k++)
        if (((w->rearmed_mask >> k) & 1u) && w->cfg.channel[k] == channel) {
            w->rearmed_mask &= ~(1u << k);
            w->st.rearms_feed_gap++;
        }
}

bool engine_wire_take(fast_half *f, const ht_feed_event *ev, int u, ht_pipe_event *pev, bool *got)
{
    wire_state *w = &f->wire;
    *got = false;
    int64_t price_fx = 0;
    const uint64_t seq = (uint64_t)ev->channel_id << 32 | ev->seq;
    if (w->next_tick >= w->n_ticks || ht_fx_from_double(ev->index->price, HT_FX_PRICE_FRAC, &price_fx) != HT_FX_OK) {
        w->st.missing_ticks++;
        return false;
    }
    const wire_tick *t = &w->ticks[w->next_tick];
    if (t->tick.underlying != (unsigned)u || t->tick.seq != seq || t->tick.price != price_fx) {
        w->st.missing_ticks++;
        return false;
    }
    w->next_tick++;
    for (unsigned i = 0; i < w->n_events; i++)
        if (w->events[i].cycle_in == t->cycle && w->events[i].underlying == (unsigned)u) {
            *pev = w->events[i];
            pev->seq = ev->seq; /* as the host path numbers it: the frame's sequence (its channel is b.channel) */
            *got = true;
            break;
        }
    return true;
}

void engine_wire_gap(fast_half *f, uint16_t channel)
{
    wire_state *w = &f->wire;
    if (!w->on)
        return;
    uint32_t mask = w->rearmed_mask;
    wire_feed_gap(w, channel);
    if (mask != w->rearmed_mask)
        return;
    /* A gap (or reset) of the feed's that the ingest did not take for one (a sequence that went back, say, which
     * it drops as old): re-armed, so that it follows the feed's sequence from the next frame on. */
    for (unsigned k = 0; k < w->n_channels; k++) {
        if (w->cfg.channel[k] != channel)
            continue;
        ht_error err = {{0}};
        if (ht_pipe_wire_rearm(f->pipe, 1u << k, &err) != 0)
            engine_fail(f->e, "engine: wire mode: %s", err.msg);
        w->st.rearms++;
        w->st.rearms_feed_only++;
    }
}

/* Reads the ingest's counters (zeros with a failed read: the JSON says so). */
static bool read_counters(fast_half *f, uint32_t c[HT_PIPE_WIRE_COUNTERS])
{
    ht_error err = {{0}};
    memset(c, 0, HT_PIPE_WIRE_COUNTERS * sizeof c[0]);
    return ht_pipe_wire_read_counters(f->pipe, c, &err) == 0;
}

void engine_wire_write_json(fast_half *f, FILE *out)
{
    const wire_state *w = &f->wire;
    if (!w->on)
        return;
    uint32_t c[HT_PIPE_WIRE_COUNTERS];
    bool ok = read_counters(f, c);
    fprintf(out, "\"wire\":{\"counters_read\":%s,\"ingest\":{", ok ? "true" : "false");
    for (unsigned r = 0; r < HT_PIPE_WIRE_COUNTERS; r++)
        fprintf(out, "%s\"%s\":%" PRIu32, r ? "," : "", ht_pipe_wire_counter_name(r), c[r]);
    fprintf(out,
            "},\"frames_pushed\":%" PRIu64 ",\"rearms\":%" PRIu64 ",\"rearms_feed_gap\":%" PRIu64
            ",\"rearms_unseen\":%" PRIu64 ",\"rearms_feed_only\":%" PRIu64 ",\"reconfigures\":%" PRIu64 ",\"untracked\":%" PRIu64
            ",\"missing_ticks\":%" PRIu64 ",\"unmatched_ticks\":%" PRIu64 ",\"lost_ticks\":%" PRIu64
            ",\"filters\":%u,\"channels\":%u},",
            w->st.frames_pushed, w->st.rearms, w->st.rearms_feed_gap, w->st.rearms_unseen, w->st.rearms_feed_only,
            w->st.reconfigures,
            w->st.untracked, w->st.missing_ticks, w->st.unmatched_ticks, w->st.lost_ticks, w->n_filters,
            w->n_channels);
}

void engine_wire_print(fast_half *f, FILE *out)
{
    const wire_state *w = &f->wire;
    if (!w->on)
        return;
    uint32_t c[HT_PIPE_WIRE_COUNTERS];
    read_counters(f, c);
    fprintf(out, "wire ingest: frames %" PRIu32 ", ok %" PRIu32 ", ticks %" PRIu32, c[HT_PIPE_WIRE_CNT_FRAMES],
            c[HT_PIPE_WIRE_CNT_FRAMES_OK], c[HT_PIPE_WIRE_CNT_TICKS]);
    for (unsigned r = HT_PIPE_WIRE_CNT_DROP_FIRST; r <= HT_PIPE_WIRE_CNT_DROP_LAST; r++)
        if (c[r])
            fprintf(out, ", %s %" PRIu32, ht_pipe_wire_counter_name(r), c[r]);
    fprintf(out, "; re-armed %" PRIu64 " (%" PRIu64 " on the feed's gaps, %" PRIu64 " unseen by the feed, %" PRIu64
                 " the feed's alone); %" PRIu64 " index messages without a tick, %" PRIu64 " ticks without a message\n",
            w->st.rearms, w->st.rearms_feed_gap, w->st.rearms_unseen, w->st.rearms_feed_only, w->st.missing_ticks,
            w->st.unmatched_ticks);
}

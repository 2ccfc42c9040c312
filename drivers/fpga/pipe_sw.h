/* SPDX-License-Identifier: MIT */
/* The sw backend's state and its hot path (tick, poll), inline so pipe.c calls them without indirection. */
#ifndef HEDGETRIG_DRIVERS_FPGA_PIPE_SW_H
#define HEDGETRIG_DRIVERS_FPGA_PIPE_SW_H

#include "pipe_backend.h"
#include "pipe_model.h"
#include "wire_model.h"

/* Every register of one underlying, and its filter state. */
typedef struct sw_underlying {
    /* What a tick reads: S0, B, C, A + round(V * dsigma) + H (exact, recomputed whenever A, V, dsigma or H
     * change) and the bands. */
    ht_model_tick_in tick;
    /* The rest of the active book (swapped in one step when a fold completes) and of the settings. */
    int64_t a, v, inventory, vol_move, s0_next;
    int64_t iir_staged[5];
    ht_model_iir iir;
    bool muted;
} sw_underlying;

typedef struct sw_pipe {
    uint64_t now;
    sw_underlying und[HT_PIPE_UNDERLYINGS];
    ht_fx_entry *table;
    uint32_t table_count;
    /* The fold in progress: its result waits for its activation cycle. */
    bool fold_pending;
    uint64_t fold_activate_cycle;
    ht_model_book fold_result;
    /* Counter registers. */
    uint64_t ticks, events, muted_ticks, bad_ticks, generation;
    uint32_t flags;
    /* AXI4-Lite 64-bit staging: the LO half of a pending write, the HI half of the last LO read. */
    uint32_t write_lo;
    uint32_t read_hi;
    /* Events inside the pipeline (at most HT_PIPE_LATENCY_CYCLES), then the host queue. */
    ht_fx_event in_flight[32];
    uint32_t flight_head, flight_tail;
    uint64_t next_retire; /* output cycle of the oldest event in flight (UINT64_MAX: none) */
    uint64_t flight_end;  /* no tick is in flight from this cycle on */
    ht_event_queue queue;
    /* The wire ingest's C model, in front of the pipeline (wire_used: a beat has been pushed). */
    ht_wire_model *wire;
    bool wire_used;
    ht_pipe_wire_tap tap;
    void *tap_ctx;
} sw_pipe;

_Static_assert(HT_PIPE_LATENCY_CYCLES < 32, "the in-flight ring holds one event per cycle of latency");

/* Moves events whose output cycle has come into the host queue (pipe_sw.c). */
void ht_sw_retire_events(sw_pipe *s);

/* Swaps in the folded book when the fold completed at or before `cycle` (pipe_sw.c). */
void ht_sw_activate(sw_pipe *s);

/* Swaps in the folded book if its activation cycle has come. */
static inline void ht_sw_observe(sw_pipe *s, uint64_t cycle)
{
    if (HT_UNLIKELY(s->fold_pending) && cycle >= s->fold_activate_cycle)
        ht_sw_activate(s);
}

/* Advances the clock by n cycles. */
static inline void ht_sw_advance(sw_pipe *s, uint64_t n)
{
    s->now += n;
    if (HT_UNLIKELY(s->now >= s->next_retire))
        ht_sw_retire_events(s);
}

/* One tick on s_axis: one cycle. */
static inline void ht_sw_push_tick(sw_pipe *s, const ht_fx_tick *tick)
{
    uint64_t c = s->now;
    ht_sw_advance(s, 1);
    ht_sw_observe(s, c + HT_PIPE_BOOK_READ_CYCLE);
    s->flight_end = c + HT_PIPE_LATENCY_CYCLES;
    if (HT_UNLIKELY(tick->underlying >= HT_PIPE_UNDERLYINGS)) {
        s->bad_ticks++;
        return;
    }
    s->ticks++;
    sw_underlying *u = &s->und[tick->underlying];
    ht_model_tick_out out;
    ht_model_tick(tick->price, &u->tick, &u->iir, &out, &s->flags);
    if (HT_LIKELY(out.side == 0))
        return;
    if (u->muted) {
        s->muted_ticks++;
        return;
    }
    u->muted = true;
    s->events++;
    ht_fx_event *ev = &s->in_flight[s->flight_tail & 31];
    *ev = (ht_fx_event){.underlying = tick->underlying, .side = (uint8_t)out.side, .seq = tick->seq,
                        .price = out.price, .net_delta = out.net_delta, .net_gamma = out.net_gamma, .cycle_in = c,
                        .cycle_out = c + HT_PIPE_LATENCY_CYCLES};
    if (s->flight_head == s->flight_tail)
        s->next_retire = ev->cycle_out;
    s->flight_tail++;
}

/* True while a tick is inside the pipeline. */
static inline bool ht_sw_in_flight(const sw_pipe *s)
{
    return s->now < s->flight_end;
}

/* Runs the clock until no tick is in flight. */
static inline void ht_sw_drain(sw_pipe *s)
{
    if (ht_sw_in_flight(s))
        ht_sw_advance(s, s->flight_end - s->now);
}

/* One cycle of the wire ingest with a beat or without, and of the pipeline behind it (pipe_sw.c). */
void ht_sw_wire_cycle(sw_pipe *s, const ht_wire_beat *beat);

/* True while the wire ingest can move without a beat. */
static inline bool ht_sw_wire_active(const sw_pipe *s)
{
    return HT_UNLIKELY(s->wire_used) && ht_wire_model_active(s->wire);
}

/* Runs the ingest to rest, then lets in-flight ticks leave. */
static inline void ht_sw_drain_all(sw_pipe *s)
{
    while (ht_sw_wire_active(s))
        ht_sw_wire_cycle(s, NULL);
    ht_sw_drain(s);
}

/* The oldest event out of the pipeline, draining in-flight ticks (and the ingest) first when there is none. */
static inline bool ht_sw_poll_event(sw_pipe *s, ht_fx_event *ev)
{
    if (HT_LIKELY(ht_event_queue_pop(&s->queue, ev)))
        return true;
    if (!ht_sw_in_flight(s) && !ht_sw_wire_active(s))
        return false;
    ht_sw_drain_all(s);
    return ht_event_queue_pop(&s->queue, ev);
}

#endif

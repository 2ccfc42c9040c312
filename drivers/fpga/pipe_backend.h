/* SPDX-License-Identifier: MIT */
/* The interface every pipeline backend implements (sw, verilator, xrt), in fixed point only. */
#ifndef HEDGETRIG_DRIVERS_FPGA_PIPE_BACKEND_H
#define HEDGETRIG_DRIVERS_FPGA_PIPE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/pipe.h"
#include "wire_model.h"

/* An event as it leaves m_axis (the raw words of the stream layout in pipe_regs.h). */
typedef struct ht_fx_event {
    uint8_t underlying;
    uint8_t side;
    uint64_t seq;
    int64_t price;
    int64_t net_delta;
    int64_t net_gamma;
    uint64_t cycle_in;
    uint64_t cycle_out;
} ht_fx_event;

/* What pipe.c calls. The common layer converts every number before calling, enforces the time rules of
 * pipe.h (drain before register access, wait for the fold before table writes and commits), and never
 * passes an invalid address. Each operation advances a simulated clock exactly as documented. */
typedef struct ht_pipe_backend_ops {
    const char *name;
    /* Opens and resets the backend; NULL with a message on failure. */
    void *(*open)(const ht_pipe_config *cfg, ht_error *err);
    void (*close)(void *be);
    /* One tick on s_axis: one cycle. */
    void (*push_tick)(void *be, const ht_fx_tick *tick);
    /* Takes the oldest event that has left the pipeline. When there is none and ticks are in flight, runs
     * the clock until they are out and looks again. Returns false when there is no event. */
    bool (*poll_event)(void *be, ht_fx_event *ev);
    /* One beat of the MAC's stream into the wire ingest: one cycle. NULL where the card reads the wire itself
     * (xrt). */
    void (*push_beat)(void *be, const ht_wire_beat *beat);
    /* Watches the ticks the ingest hands to the pipeline (NULL where it cannot). */
    void (*set_wire_tap)(void *be, ht_pipe_wire_tap fn, void *ctx);
    /* True while a tick is inside the pipeline (its event, if any, not yet out), or the wire ingest can move
     * without a beat (a frame to walk or decide, a tick to send). */
    bool (*in_flight)(void *be);
    /* Runs the clock until no tick is in flight and the ingest is at rest. */
    void (*drain)(void *be);
    /* Runs the clock until no fold is running. */
    void (*wait_fold)(void *be);
    /* Runs the clock for n idle cycles. */
    void (*idle)(void *be, uint64_t cycles);
    /* One AXI4-Lite write / read: HT_PIPE_AXIL_CYCLES cycles. */
    void (*reg_write)(void *be, uint32_t addr, uint32_t value);
    uint32_t (*reg_read)(void *be, uint32_t addr);
    /* One table entry through the memory port: one cycle (sw, verilator); DMA from a buffer (xrt). */
    void (*table_write)(void *be, uint32_t index, const ht_fx_entry *entry);
    /* Cycles since reset. */
    uint64_t (*now)(void *be);
    /* Events dropped because the queue was full. */
    uint64_t (*events_dropped)(void *be);
    /* The first access to the hardware that failed since open, as a message, or NULL while none has. NULL for
     * backends that cannot fail after open (sw, verilator). */
    const char *(*failure)(void *be);
} ht_pipe_backend_ops;

extern const ht_pipe_backend_ops ht_pipe_sw_ops;

/* A pipe on any ops table (tests: the card protocol over the kernel's RTL). cfg->backend only tags it
 * (ht_pipe_get_backend); the C model's inline hot path is used for ht_pipe_sw_ops alone. */
ht_pipe *ht_pipe_create_with_ops(const ht_pipe_backend_ops *ops, const ht_pipe_config *cfg, ht_error *err);
#if defined(HT_HAVE_VERILATOR)
extern const ht_pipe_backend_ops ht_pipe_verilator_ops;
#endif
#if defined(HT_HAVE_XRT)
extern const ht_pipe_backend_ops ht_pipe_xrt_ops;
#endif

/* ---- The event queue every backend keeps between the pipeline and the host ------------------------------ */

typedef struct ht_event_queue {
    ht_fx_event *slots;
    uint32_t mask;     /* capacity - 1 (capacity a power of two) */
    uint32_t head;     /* next to poll */
    uint32_t tail;     /* next to fill */
    uint64_t dropped;
} ht_event_queue;

/* Allocates a queue of `capacity` events (a power of two, already validated). Returns 0 or -1. */
int ht_event_queue_init(ht_event_queue *q, uint32_t capacity);
void ht_event_queue_free(ht_event_queue *q);

/* Appends an event, or drops and counts it when the queue is full. */
static inline void ht_event_queue_push(ht_event_queue *q, const ht_fx_event *ev)
{
    if (HT_UNLIKELY(q->tail - q->head > q->mask)) {
        q->dropped++;
        return;
    }
    q->slots[q->tail & q->mask] = *ev;
    q->tail++;
}

/* Takes the oldest event; false when empty. */
static inline bool ht_event_queue_pop(ht_event_queue *q, ht_fx_event *ev)
{
    if (q->head == q->tail)
        return false;
    *ev = q->slots[q->head & q->mask];
    q->head++;
    return true;
}

#endif

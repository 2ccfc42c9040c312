/* SPDX-License-Identifier: MIT */
/* The card protocol: ticks, events, registers and the greek table through the Vitis kernel's registers. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe_card.h"

/*
 * Ticks go through the tick window (five register writes) or come from the wire (the kernel's s_axis_rx), events
 * come back through the ring in host memory when the carrier gives one (the host reads its own memory: no register
 * on the hot path; it tells the card how far it has read every quarter of the ring, one posted write), else through
 * the event window (fourteen reads, the last pops). Table entries are written into the buffer and copied by the
 * kernel's DMA before the next register access (so before a COMMIT). Time is the card's: idle and drain do
 * nothing, and the cycle stamps and counter come from the card.
 */

typedef struct card {
    ht_card_io io;
    uint32_t dirty_first; /* entries written since the last copy: [dirty_first, dirty_end) */
    uint32_t dirty_end;
    uint32_t ring_rd;     /* records taken from the ring */
    uint32_t ring_told;   /* the last RING_RD written */
    bool failed;          /* an access failed: every later call of the API reports it */
    char failure[192];    /* the first failure */
} card;

/* Records the first failed card access; pipe.c returns it from every control call from then on. */
static void card_failed(card *p, const char *what, uint32_t offset)
{
    if (!p->failed)
        snprintf(p->failure, sizeof p->failure, "pipeline card: %s at register 0x%04x failed; the card's results "
                 "are not trustworthy from here on", what, offset);
    p->failed = true;
}

/* One register write. */
static void wr(card *p, uint32_t offset, uint32_t value)
{
    if (p->io.write_reg(p->io.ctx, offset, value) != 0)
        card_failed(p, "register write", offset);
}

/* One register read. */
static uint32_t rd(card *p, uint32_t offset)
{
    uint32_t v = 0;
    if (p->io.read_reg(p->io.ctx, offset, &v) != 0)
        card_failed(p, "register read", offset);
    return v;
}

/* Polls `status` until its busy bit (bit 0) clears. The work takes about `entries` cycles (one table entry a
 * cycle, plus a fixed overhead), and one register read takes at least tens of cycles on a card (a PCIe round
 * trip) and in the kernel model, so 1000 + entries reads are ample; past that the card is reported stuck. */
static void wait_idle(card *p, uint32_t status, uint32_t entries, const char *what)
{
    for (uint64_t spin = 0; spin < 1000u + (uint64_t)entries && !p->failed; spin++)
        if ((rd(p, status) & 1u) == 0)
            return;
    card_failed(p, what, status);
}

/* Copies the entries written since the last copy from the buffer into the table memory. */
static void flush_table(card *p)
{
    if (p->dirty_end <= p->dirty_first)
        return;
    size_t off = (size_t)p->dirty_first * HT_PIPE_BUFFER_ENTRY_BYTES;
    size_t len = (size_t)(p->dirty_end - p->dirty_first) * HT_PIPE_BUFFER_ENTRY_BYTES;
    if (p->io.sync_buffer(p->io.ctx, off, len) != 0)
        card_failed(p, "buffer sync", HT_PIPE_KREG_DMA_ADDR);
    uint64_t addr = p->io.buffer_addr + off;
    wr(p, HT_PIPE_KREG_DMA_ADDR, (uint32_t)addr);
    wr(p, HT_PIPE_KREG_DMA_ADDR + 4, (uint32_t)(addr >> 32));
    wr(p, HT_PIPE_KREG_DMA_FIRST, p->dirty_first);
    wr(p, HT_PIPE_KREG_DMA_COUNT, p->dirty_end - p->dirty_first);
    wr(p, HT_PIPE_KREG_DMA_START, 1);
    wait_idle(p, HT_PIPE_KREG_DMA_STATUS, p->dirty_end - p->dirty_first,
              "table DMA (DMA_STATUS busy never cleared)");
    if (rd(p, HT_PIPE_KREG_DMA_STATUS) & 2u)
        card_failed(p, "table DMA (AXI error)", HT_PIPE_KREG_DMA_STATUS);
    p->dirty_first = UINT32_MAX;
    p->dirty_end = 0;
}

void *ht_card_open(const ht_card_io *io, ht_error *err)
{
    card *p = calloc(1, sizeof *p);
    if (!p) {
        io->close(io->ctx);
        ht_error_set(err, "pipeline card: out of memory");
        return NULL;
    }
    p->io = *io;
    p->dirty_first = UINT32_MAX;
    uint32_t id = rd(p, HT_PIPE_REG_ID), version = rd(p, HT_PIPE_REG_VERSION);
    if (id != HT_PIPE_ID_MAGIC || version != HT_PIPE_VERSION) {
        ht_error_set(err, "pipeline card: the kernel answers ID 0x%08x version 0x%08x, expected 0x%08x 0x%08x", id,
                     version, HT_PIPE_ID_MAGIC, HT_PIPE_VERSION);
        ht_card_close(p);
        return NULL;
    }
    memset(p->io.buffer, 0, (size_t)HT_PIPE_TABLE_DEPTH * HT_PIPE_BUFFER_ENTRY_BYTES);
    /* Reset the pipeline (registers, counters, book), then wait until it answers again; ticks and events
     * through the windows. */
    wr(p, HT_PIPE_KREG_CONTROL, 1u);
    for (int i = 0; i < 1000 && rd(p, HT_PIPE_REG_ID) != HT_PIPE_ID_MAGIC; i++)
        ;
    if (p->io.ring) {
        size_t bytes = (size_t)HT_PIPE_RING_RECORD_BYTES << p->io.ring_log2;
        if (p->io.ring_log2 < HT_PIPE_RING_LOG2_MIN || p->io.ring_log2 > HT_PIPE_RING_LOG2_MAX ||
            (p->io.ring_addr & 63u)) {
            ht_error_set(err, "pipeline card: event ring of 2^%u records at 0x%llx (2^%d..2^%d, 64-byte aligned)",
                         p->io.ring_log2, (unsigned long long)p->io.ring_addr, HT_PIPE_RING_LOG2_MIN,
                         HT_PIPE_RING_LOG2_MAX);
            ht_card_close(p);
            return NULL;
        }
        for (size_t i = 0; i < bytes; i++)
            p->io.ring[i] = 0;
        wr(p, HT_PIPE_KREG_RING_ADDR, (uint32_t)p->io.ring_addr);
        wr(p, HT_PIPE_KREG_RING_ADDR + 4, (uint32_t)(p->io.ring_addr >> 32));
        wr(p, HT_PIPE_KREG_RING_LOG2, p->io.ring_log2);
        wr(p, HT_PIPE_KREG_RING_RD, 0);
    }
    wr(p, HT_PIPE_KREG_MODE, p->io.ring ? HT_PIPE_KMODE_EVENTS_TO_RING : 0u);
    if (p->failed) {
        ht_error_set(err, "pipeline card: the kernel's registers do not answer");
        ht_card_close(p);
        return NULL;
    }
    return p;
}

void ht_card_close(void *be)
{
    card *p = be;
    if (!p)
        return;
    p->io.close(p->io.ctx);
    free(p);
}

void ht_card_push_tick(void *be, const ht_fx_tick *tick)
{
    card *p = be;
    wr(p, HT_PIPE_KREG_TICK_SEQ, (uint32_t)tick->seq);
    wr(p, HT_PIPE_KREG_TICK_SEQ + 4, (uint32_t)(tick->seq >> 32));
    wr(p, HT_PIPE_KREG_TICK_PRICE, (uint32_t)(uint64_t)tick->price);
    wr(p, HT_PIPE_KREG_TICK_PRICE + 4, (uint32_t)((uint64_t)tick->price >> 32));
    wr(p, HT_PIPE_KREG_TICK_PUSH, tick->underlying);
}

void ht_card_push_beat(void *be, const ht_wire_beat *beat)
{
    card *p = be;
    if (p->io.push_beat)
        p->io.push_beat(p->io.ctx, beat);
}

static uint64_t ring_word(const volatile uint8_t *r, unsigned w)
{
    uint64_t v = 0;
    for (unsigned b = 0; b < 8; b++)
        v |= (uint64_t)r[8 * w + b] << (8 * b);
    return v;
}

/* The next record of the ring, when it has arrived: its number is the one expected next, read before and after
 * the copy (a record is one 64-byte write, but the host may look while it lands). */
static bool ring_take(card *p, ht_fx_event *ev)
{
    size_t off = (size_t)(p->ring_rd & ((1u << p->io.ring_log2) - 1u)) * HT_PIPE_RING_RECORD_BYTES;
    if (p->io.sync_ring && p->io.sync_ring(p->io.ctx, off, HT_PIPE_RING_RECORD_BYTES) != 0) {
        card_failed(p, "event ring sync", HT_PIPE_KREG_RING_ADDR);
        return false;
    }
    const volatile uint8_t *r = p->io.ring + off;
    uint32_t want = p->ring_rd + 1;
    if ((uint32_t)(ring_word(r, 0) >> 32) != want)
        return false;
    atomic_thread_fence(memory_order_acquire);
    uint64_t w[8];
    for (unsigned i = 0; i < 8; i++)
        w[i] = ring_word(r, i);
    atomic_thread_fence(memory_order_acquire);
    if ((uint32_t)(ring_word(r, 0) >> 32) != want || (uint32_t)(w[0] >> 32) != want)
        return false;
    ev->underlying = (uint8_t)(w[0] & 0xFF);
    ev->side = (uint8_t)((w[0] >> 8) & 0xF);
    ev->seq = w[1];
    ev->price = (int64_t)w[2];
    ev->net_delta = (int64_t)w[3];
    ev->net_gamma = (int64_t)w[4];
    ev->cycle_in = w[5];
    ev->cycle_out = w[6];
    p->ring_rd++;
    if (p->ring_rd - p->ring_told >= (1u << p->io.ring_log2) / 4u) { /* a posted write, now and then */
        wr(p, HT_PIPE_KREG_RING_RD, p->ring_rd);
        p->ring_told = p->ring_rd;
    }
    return true;
}

bool ht_card_poll_event(void *be, ht_fx_event *ev)
{
    card *p = be;
    if (p->io.ring) {
        if (ring_take(p, ev))
            return true;
        if (!p->io.idle)
            return false;
        /* A simulated card: let its clock run past the pipeline and the write, then look once more. */
        p->io.idle(p->io.ctx, 64);
        return ring_take(p, ev);
    }
    if ((rd(p, HT_PIPE_KREG_EVENT_STATUS) & 1u) == 0)
        return false;
    uint32_t w[HT_PIPE_EVENT_BITS / 32];
    for (unsigned i = 0; i < HT_ARRAY_LEN(w); i++) /* the last read pops the event */
        w[i] = rd(p, HT_PIPE_KREG_EVENT_WORDS + 4 * i);
    ev->underlying = (uint8_t)(w[0] & 0xFF);
    ev->side = (uint8_t)((w[0] >> 8) & 0xF);
    ev->seq = w[2] | (uint64_t)w[3] << 32;
    ev->price = (int64_t)(w[4] | (uint64_t)w[5] << 32);
    ev->net_delta = (int64_t)(w[6] | (uint64_t)w[7] << 32);
    ev->net_gamma = (int64_t)(w[8] | (uint64_t)w[9] << 32);
    ev->cycle_in = w[10] | (uint64_t)w[11] << 32;
    ev->cycle_out = w[12] | (uint64_t)w[13] << 32;
    return true;
}

bool ht_card_in_flight(void *be)
{
    (void)be;
    return false; /* real time: the pipeline's 10 cycles are over before a register read returns */
}

void ht_card_drain(void *be)
{
    (void)be;
}

void ht_card_wait_fold(void *be)
{
    card *p = be;
    flush_table(p);
    wait_idle(p, HT_PIPE_REG_STATUS, HT_PIPE_TABLE_DEPTH, "fold (STATUS busy never cleared)");
}

void ht_card_idle(void *be, uint64_t cycles)
{
    (void)be;
    (void)cycles;
}

void ht_card_reg_write(void *be, uint32_t addr, uint32_t value)
{
    card *p = be;
    flush_table(p); /* entries written before a COMMIT must be in the table memory first */
    wr(p, addr, value);
}

uint32_t ht_card_reg_read(void *be, uint32_t addr)
{
    card *p = be;
    flush_table(p);
    return rd(p, addr);
}

void ht_card_table_write(void *be, uint32_t index, const ht_fx_entry *entry)
{
    card *p = be;
    uint64_t words[HT_PIPE_BUFFER_ENTRY_BYTES / 8] = {(uint64_t)entry->delta, (uint64_t)entry->gamma,
                                                     (uint64_t)entry->speed, (uint64_t)entry->vanna,
                                                     (uint64_t)entry->ref_spot, entry->underlying};
    memcpy(p->io.buffer + (size_t)index * HT_PIPE_BUFFER_ENTRY_BYTES, words, sizeof words);
    if (index < p->dirty_first)
        p->dirty_first = index;
    if (index + 1 > p->dirty_end)
        p->dirty_end = index + 1;
}

uint64_t ht_card_now(void *be)
{
    card *p = be;
    uint64_t lo = rd(p, HT_PIPE_REG_CYCLES);
    uint64_t hi = rd(p, HT_PIPE_REG_CYCLES + 4);
    return lo | hi << 32;
}

uint64_t ht_card_events_dropped(void *be)
{
    card *p = be;
    /* The window keeps its events (FLAGS.EVENT_LOST says when it could not); the ring counts what it could not
     * write because the host had not read 2^n records. */
    return p->io.ring ? rd(p, HT_PIPE_KREG_RING_DROPS) : 0;
}

const char *ht_card_failure(void *be)
{
    const card *p = be;
    return p->failed ? p->failure : NULL;
}

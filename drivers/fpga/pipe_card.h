/* SPDX-License-Identifier: MIT */
/* The card protocol: the pipeline driven through the Vitis kernel's registers and its table buffer. */
#ifndef HEDGETRIG_DRIVERS_FPGA_PIPE_CARD_H
#define HEDGETRIG_DRIVERS_FPGA_PIPE_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "pipe_backend.h"

/*
 * What the protocol needs from whatever carries it: XRT and a card (pipe_xrt.c), or the kernel's RTL in
 * Verilator with a memory model (tests/pipe/kernel_model.cpp). Register accesses are 32-bit words of the
 * kernel's s_axi_control (pipe_regs.h: the pipeline's map below 0x2000, HT_PIPE_KREG_* above); the buffer
 * holds HT_PIPE_TABLE_DEPTH entries of HT_PIPE_BUFFER_ENTRY_BYTES at device address buffer_addr.
 */
typedef struct ht_card_io {
    void *ctx; /* the carrier's state, passed to every callback below */
    /* Writes a 32-bit register at byte offset `offset` (4-aligned, below HT_PIPE_KERNEL_REG_SPACE): 0, or
     * non-zero on failure. */
    int (*write_reg)(void *ctx, uint32_t offset, uint32_t value);
    /* Reads one into *value (same offsets): 0, or non-zero on failure (*value is then not used). */
    int (*read_reg)(void *ctx, uint32_t offset, uint32_t *value);
    /* Makes buffer bytes [offset, offset + len) visible to the card (host -> device): 0 or non-zero. */
    int (*sync_buffer)(void *ctx, size_t offset, size_t len);
    /* Releases everything behind ctx; called once, by ht_card_close or by a failed ht_card_open. */
    void (*close)(void *ctx);
    uint8_t *buffer;      /* host mapping of the table buffer: HT_PIPE_TABLE_DEPTH * HT_PIPE_BUFFER_ENTRY_BYTES */
    uint64_t buffer_addr; /* the same buffer's device address, as the kernel's DMA reads it (64-byte aligned) */
    /* The event ring (optional: NULL keeps events in the event window): 2^ring_log2 records of
     * HT_PIPE_RING_RECORD_BYTES the kernel writes over m_axi_ring, mapped at `ring`, at device address ring_addr. */
    volatile uint8_t *ring;
    uint64_t ring_addr;
    unsigned ring_log2;
    /* Makes ring bytes [offset, offset + len) written by the card visible to the host (device -> host); NULL when
     * the ring is in host memory the card writes coherently. 0 or non-zero. */
    int (*sync_ring)(void *ctx, size_t offset, size_t len);
    /* A simulated carrier only (NULL on a card): one beat into the kernel's s_axis_rx (one cycle), and n idle
     * cycles (a simulated clock moves only when called; a card's runs on its own). */
    void (*push_beat)(void *ctx, const ht_wire_beat *beat);
    void (*idle)(void *ctx, uint64_t cycles);
} ht_card_io;

/* Takes over an open io: checks the kernel's identity, resets the pipeline, selects the register windows.
 * Returns the backend handle, or NULL with a message (the io is closed then). */
void *ht_card_open(const ht_card_io *io, ht_error *err);

/* The protocol's operations; a carrier's ops table lists them with its own open. */
void ht_card_close(void *be);
void ht_card_push_tick(void *be, const ht_fx_tick *tick);
void ht_card_push_beat(void *be, const ht_wire_beat *beat);
bool ht_card_poll_event(void *be, ht_fx_event *ev);
bool ht_card_in_flight(void *be);
void ht_card_drain(void *be);
void ht_card_wait_fold(void *be);
void ht_card_idle(void *be, uint64_t cycles);
void ht_card_reg_write(void *be, uint32_t addr, uint32_t value);
uint32_t ht_card_reg_read(void *be, uint32_t addr);
void ht_card_table_write(void *be, uint32_t index, const ht_fx_entry *entry);
uint64_t ht_card_now(void *be);
uint64_t ht_card_events_dropped(void *be);
const char *ht_card_failure(void *be);

/* An ops table for a carrier: the protocol's operations with the given open; push_beat is ht_card_push_beat for a
 * carrier that feeds s_axis_rx itself (the kernel model), NULL where a network kernel does (a card). */
#define HT_CARD_OPS(carrier_name, open_fn, push_beat_fn)                                                         \
    {.name = (carrier_name), .open = (open_fn), .close = ht_card_close, .push_tick = ht_card_push_tick,          \
     .poll_event = ht_card_poll_event, .push_beat = (push_beat_fn), .set_wire_tap = NULL,                        \
     .in_flight = ht_card_in_flight, .drain = ht_card_drain,                  \
     .wait_fold = ht_card_wait_fold, .idle = ht_card_idle, .reg_write = ht_card_reg_write,                       \
     .reg_read = ht_card_reg_read, .table_write = ht_card_table_write, .now = ht_card_now,                       \
     .events_dropped = ht_card_events_dropped, .failure = ht_card_failure}

#endif

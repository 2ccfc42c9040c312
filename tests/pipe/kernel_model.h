/* SPDX-License-Identifier: MIT */
/* The Vitis kernel's RTL in Verilator as a pipeline backend (kernel_model.cpp), for test_pipe_kernel. */
#ifndef HEDGETRIG_TESTS_PIPE_KERNEL_MODEL_H
#define HEDGETRIG_TESTS_PIPE_KERNEL_MODEL_H

#include <stdint.h>

#include "hedgetrig/common.h"

#include "pipe_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ht_pipe_kernel_mm in Verilator, its m_axi_gmem served by an AXI4 read-slave model over host memory, driven
 * through the card protocol (pipe_card.c). Open it with ht_pipe_create_with_ops; each open is a fresh kernel. */
extern const ht_pipe_backend_ops ht_pipe_kernel_model_ops;

/* What the kernel's m_axi_gmem did, summed over every model this process opened. */
typedef struct ht_kernel_model_axi_stats {
    uint64_t bursts;     /* read bursts accepted */
    uint64_t beats;      /* read beats served */
    uint64_t split_4k;   /* bursts shorter than 16 beats that end exactly on a 4 KB boundary */
    uint64_t violations; /* bursts that broke an AXI4 rule: crossing 4 KB, not 64 bytes per beat, not INCR; ring
                            writes that were not one aligned 64-byte beat inside the ring */
    uint64_t ring_writes; /* event records written into the ring */
    /* Cycles from a frame's last beat on s_axis_rx to the write address of the first record after it on m_axi_ring
     * (the AW handshake), for the first 4096 frames that made an event. */
    uint64_t frame_to_ring[4096];
    uint64_t frame_to_ring_samples;
} ht_kernel_model_axi_stats;

/* Copies the counts so far into *out (not NULL). */
void ht_kernel_model_get_axi_stats(ht_kernel_model_axi_stats *out);

/* Makes every later register read at byte offset `offset` fail, as a card that stopped answering would
 * (UINT32_MAX: none, the default). For the tests of failure reporting. */
void ht_kernel_model_fail_reads_at(uint32_t offset);

/* Models opened from now on give the card protocol an event ring in host memory (2^HT_PIPE_RING_LOG2_MIN records
 * that m_axi_ring writes), so events come back through memory instead of the event window. */
void ht_kernel_model_use_ring(bool on);

#ifdef __cplusplus
}
#endif

#endif

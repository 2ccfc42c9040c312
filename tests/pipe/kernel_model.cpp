// SPDX-License-Identifier: MIT
// A card without a card: the Vitis kernel's RTL (ht_pipe_kernel_mm) in Verilator, its m_axi_gmem served from
// host memory, its m_axi_ring writing event records into a ring in host memory, its s_axis_rx fed with frames
// as a network kernel would, its s_axi_control driven like PCIe would, carrying the card protocol
// (drivers/fpga/pipe_card.c) exactly as XRT does on a real card. C++ only because Verilator's model is a C++
// class.
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "Vht_pipe_kernel_mm.h"
#include "verilated.h"
#include "wire_rx.hpp"

extern "C" {
#include "pipe_card.h"
}
#include "kernel_model.h"

// The counts behind ht_kernel_model_get_axi_stats.
static ht_kernel_model_axi_stats g_axi;

void ht_kernel_model_get_axi_stats(ht_kernel_model_axi_stats *out)
{
    *out = g_axi;
}

namespace {

// Device address of the table buffer (any 4 KB aligned value: the DMA only adds offsets to it).
const uint64_t kBufferBase = 0x4000000000ull;
const size_t kBufferBytes = (size_t)HT_PIPE_TABLE_DEPTH * HT_PIPE_BUFFER_ENTRY_BYTES;
// Idle cycles after each register access: a PCIe round trip is about a microsecond, hundreds of cycles, so
// the pipeline's 10 cycles are always over before the host looks again (as on a card).
const int kAccessCycles = 32;
// Cycles from an accepted read address to its first data beat (HBM behind the shell's interconnect takes tens
// of cycles or more), and the share of cycles on which the memory holds back a beat or an address.
const unsigned kReadLatency = 24;
const unsigned kStallOneIn = 4;
// The event ring: a device address of its own, 16 records (the smallest: wraps often), B responses this many
// cycles after the write.
const uint64_t kRingBase = 0x5000000000ull;
const unsigned kRingLog2 = HT_PIPE_RING_LOG2_MIN;
const size_t kRingBytes = (size_t)HT_PIPE_RING_RECORD_BYTES << kRingLog2;
const unsigned kWriteLatency = 6;

struct KernelModel {
    VerilatedContext *ctx = nullptr;
    Vht_pipe_kernel_mm *top = nullptr;
    uint8_t *buffer = nullptr;
    // The AXI4 read burst being served.
    bool burst = false;
    uint64_t burst_addr = 0;
    unsigned beats_left = 0;
    unsigned latency_left = 0; // cycles before the burst's first beat
    uint32_t lfsr = 0xACE1u;   // decides this cycle's stall (the same sequence in every run)
    // The ring's write slave: one address and one data beat waiting for each other, B responses owed.
    uint8_t *ring = nullptr;
    bool aw_have = false, w_have = false;
    uint64_t aw_addr = 0;
    uint32_t w_data[16] = {0};
    unsigned b_owed = 0, b_wait = 0;
    bool b_error = false;
    uint64_t cycle = 0;           // edges since open
    uint64_t last_beat_cycle = 0; // the edge that took the last frame's last beat
    bool frame_pending = false;   // that frame's first record write not yet accepted
};

// True when the memory stalls this cycle (no beat, no address accepted): about one cycle in kStallOneIn.
bool stalled(const KernelModel *m)
{
    return m->lfsr % kStallOneIn == 0;
}

// Drives the read slave's outputs for the current cycle from the burst state.
void drive_memory(KernelModel *m)
{
    Vht_pipe_kernel_mm *t = m->top;
    bool beat = m->burst && m->latency_left == 0 && !stalled(m);
    t->m_axi_gmem_arready = !m->burst && !stalled(m);
    t->m_axi_gmem_rvalid = beat;
    t->m_axi_gmem_rlast = beat && m->beats_left == 1;
    t->m_axi_gmem_rresp = 0;
    for (int w = 0; w < 16; w++)
        t->m_axi_gmem_rdata[w] = 0;
    if (!beat)
        return;
    if (m->burst_addr < kBufferBase || m->burst_addr + 64 > kBufferBase + kBufferBytes) {
        t->m_axi_gmem_rresp = 2; // SLVERR: outside the buffer
        return;
    }
    const uint8_t *src = m->buffer + (m->burst_addr - kBufferBase);
    for (int w = 0; w < 16; w++) {
        uint32_t word;
        memcpy(&word, src + 4 * w, 4);
        t->m_axi_gmem_rdata[w] = word;
    }
}

// Drives the ring's write slave: takes an address and a data beat (one of each at a time, stalled like the reads),
// answers each write kWriteLatency cycles after both are in.
void drive_ring(KernelModel *m)
{
    Vht_pipe_kernel_mm *t = m->top;
    t->m_axi_ring_awready = !m->aw_have && !stalled(m);
    t->m_axi_ring_wready = !m->w_have && !stalled(m);
    t->m_axi_ring_bvalid = m->b_owed > 0 && m->b_wait == 0;
    t->m_axi_ring_bresp = m->b_error ? 2 : 0;
}

// After the edge: what the ring's slave took in this cycle.
void ring_edge(KernelModel *m, bool aw_fire, uint64_t awaddr, bool w_fire, const uint32_t *wdata, bool b_fire)
{
    if (b_fire) {
        m->b_owed--;
        m->b_error = false;
    }
    if (m->b_wait > 0)
        m->b_wait--;
    if (aw_fire) {
        m->aw_have = true;
        m->aw_addr = awaddr;
        if (m->frame_pending) { // cycles from the frame's last beat to its record's write address on m_axi_ring
            uint64_t c = m->cycle - m->last_beat_cycle;
            if (g_axi.frame_to_ring_samples < HT_ARRAY_LEN(g_axi.frame_to_ring))
                g_axi.frame_to_ring[g_axi.frame_to_ring_samples++] = c;
            m->frame_pending = false;
        }
    }
    if (w_fire) {
        m->w_have = true;
        memcpy(m->w_data, wdata, sizeof m->w_data);
    }
    if (m->aw_have && m->w_have) {
        bool inside = m->aw_addr >= kRingBase && m->aw_addr + 64 <= kRingBase + kRingBytes && (m->aw_addr & 63u) == 0;
        if (inside)
            memcpy(m->ring + (m->aw_addr - kRingBase), m->w_data, 64);
        else
            g_axi.violations++;
        m->b_error = !inside;
        m->b_owed++;
        m->b_wait = kWriteLatency;
        m->aw_have = m->w_have = false;
        g_axi.ring_writes++;
    }
}

// One clock cycle, with the memory model answering m_axi_gmem and m_axi_ring.
void step(KernelModel *m)
{
    Vht_pipe_kernel_mm *t = m->top;
    drive_memory(m);
    drive_ring(m);
    t->eval();
    bool ring_aw = t->m_axi_ring_awvalid && t->m_axi_ring_awready;
    bool ring_w = t->m_axi_ring_wvalid && t->m_axi_ring_wready;
    bool ring_b = t->m_axi_ring_bvalid && t->m_axi_ring_bready;
    uint64_t ring_awaddr = t->m_axi_ring_awaddr;
    uint32_t ring_wdata[16];
    for (int w = 0; w < 16; w++)
        ring_wdata[w] = t->m_axi_ring_wdata[w];
    if (ring_aw && (t->m_axi_ring_awlen != 0 || t->m_axi_ring_awsize != 6))
        g_axi.violations++;
    bool ar_fire = t->m_axi_gmem_arvalid && t->m_axi_gmem_arready;
    bool r_fire = t->m_axi_gmem_rvalid && t->m_axi_gmem_rready;
    uint64_t araddr = t->m_axi_gmem_araddr;
    unsigned arlen = t->m_axi_gmem_arlen;
    if (ar_fire) {
        uint64_t end = (araddr & 4095u) + (arlen + 1u) * 64u; // bytes from the 4 KB page's start
        if (end > 4096u || t->m_axi_gmem_arsize != 6 || t->m_axi_gmem_arburst != 1)
            g_axi.violations++;
        if (end == 4096u && arlen + 1u < 16u)
            g_axi.split_4k++;
    }
    t->ap_clk = 1;
    t->eval();
    t->ap_clk = 0;
    t->eval();
    m->lfsr = (m->lfsr >> 1) ^ (-(m->lfsr & 1u) & 0xB400u); // 16-bit Galois LFSR, period 65535
    if (m->burst && m->latency_left > 0)
        m->latency_left--;
    if (r_fire) {
        m->burst_addr += 64;
        g_axi.beats++;
        if (--m->beats_left == 0)
            m->burst = false;
    }
    if (ar_fire) {
        m->burst = true;
        m->burst_addr = araddr;
        m->beats_left = arlen + 1;
        m->latency_left = kReadLatency;
        g_axi.bursts++;
    }
    ring_edge(m, ring_aw, ring_awaddr, ring_w, ring_wdata, ring_b);
    m->cycle++;
}

// One beat into s_axis_rx (one cycle), as a network kernel would hand it over.
void model_push_beat(void *ctx, const ht_wire_beat *beat)
{
    KernelModel *m = static_cast<KernelModel *>(ctx);
    Vht_pipe_kernel_mm *t = m->top;
    ht_drive_rx_beat(t, beat);
    if (beat->last) {
        m->last_beat_cycle = m->cycle;
        m->frame_pending = true;
    }
    step(m);
    t->s_axis_rx_tvalid = 0;
}

void model_idle(void *ctx, uint64_t cycles)
{
    KernelModel *m = static_cast<KernelModel *>(ctx);
    for (uint64_t i = 0; i < cycles; i++)
        step(m);
}

// Steps until `ready` is seen high in a cycle, then through that cycle's edge; 0 or -1 after 1000 cycles.
template <typename F> int wait_for(KernelModel *m, F ready)
{
    for (int i = 0; i < 1000; i++) {
        drive_memory(m);
        m->top->eval();
        bool ok = ready();
        step(m);
        if (ok)
            return 0;
    }
    return -1;
}

int model_write_reg(void *ctx, uint32_t offset, uint32_t value)
{
    KernelModel *m = static_cast<KernelModel *>(ctx);
    Vht_pipe_kernel_mm *t = m->top;
    t->s_axi_control_awaddr = (uint16_t)offset;
    t->s_axi_control_wdata = value;
    t->s_axi_control_wstrb = 0xF;
    t->s_axi_control_awvalid = 1;
    t->s_axi_control_wvalid = 1;
    int rc = wait_for(m, [t] { return t->s_axi_control_awready && t->s_axi_control_wready; });
    t->s_axi_control_awvalid = 0;
    t->s_axi_control_wvalid = 0;
    t->s_axi_control_bready = 1;
    if (rc == 0)
        rc = wait_for(m, [t] { return t->s_axi_control_bvalid != 0; });
    t->s_axi_control_bready = 0;
    for (int i = 0; i < kAccessCycles; i++)
        step(m);
    return rc;
}

uint32_t g_fail_reads_at = UINT32_MAX; // ht_kernel_model_fail_reads_at
bool g_ring_mode = false;              // ht_kernel_model_use_ring

int model_read_reg(void *ctx, uint32_t offset, uint32_t *value)
{
    if (offset == g_fail_reads_at)
        return -1;
    KernelModel *m = static_cast<KernelModel *>(ctx);
    Vht_pipe_kernel_mm *t = m->top;
    t->s_axi_control_araddr = (uint16_t)offset;
    t->s_axi_control_arvalid = 1;
    int rc = wait_for(m, [t] { return t->s_axi_control_arready != 0; });
    t->s_axi_control_arvalid = 0;
    t->s_axi_control_rready = 1;
    uint32_t data = 0;
    if (rc == 0)
        rc = wait_for(m, [t, &data] {
            data = t->s_axi_control_rdata;
            return t->s_axi_control_rvalid != 0;
        });
    t->s_axi_control_rready = 0;
    *value = data;
    for (int i = 0; i < kAccessCycles; i++)
        step(m);
    return rc;
}

int model_sync_buffer(void *ctx, size_t offset, size_t len)
{
    (void)ctx;
    return offset + len <= kBufferBytes ? 0 : -1; // host memory is the device memory here
}

void model_close(void *ctx)
{
    KernelModel *m = static_cast<KernelModel *>(ctx);
    if (!m)
        return;
    if (m->top) {
        m->top->final();
        delete m->top;
    }
    delete m->ctx;
    free(m->buffer);
    free(m->ring);
    delete m;
}

void *model_open(const ht_pipe_config *cfg, ht_error *err)
{
    (void)cfg;
    KernelModel *m = new (std::nothrow) KernelModel;
    if (!m || !(m->buffer = static_cast<uint8_t *>(calloc(1, kBufferBytes))) ||
        !(m->ring = static_cast<uint8_t *>(calloc(1, kRingBytes)))) {
        if (m)
            free(m->buffer);
        delete m;
        ht_error_set(err, "kernel model: out of memory");
        return nullptr;
    }
    m->ctx = new VerilatedContext;
    m->top = new Vht_pipe_kernel_mm{m->ctx, "ht_pipe_kernel_mm"};
    Vht_pipe_kernel_mm *t = m->top;
    t->ap_clk = 0;
    t->ap_rst_n = 0;
    t->s_axi_control_awvalid = 0;
    t->s_axi_control_wvalid = 0;
    t->s_axi_control_bready = 0;
    t->s_axi_control_arvalid = 0;
    t->s_axi_control_rready = 0;
    t->s_axis_rx_tvalid = 0;
    for (int i = 0; i < 4; i++)
        step(m);
    t->ap_rst_n = 1;
    ht_card_io io = {};
    io.ctx = m;
    io.write_reg = model_write_reg;
    io.read_reg = model_read_reg;
    io.sync_buffer = model_sync_buffer;
    io.close = model_close;
    io.buffer = m->buffer;
    io.buffer_addr = kBufferBase;
    if (g_ring_mode) {
        io.ring = m->ring;
        io.ring_addr = kRingBase;
        io.ring_log2 = kRingLog2;
    }
    io.push_beat = model_push_beat;
    io.idle = model_idle;
    return ht_card_open(&io, err);
}

} // namespace

const ht_pipe_backend_ops ht_pipe_kernel_model_ops = HT_CARD_OPS("kernel model", model_open, ht_card_push_beat);

void ht_kernel_model_fail_reads_at(uint32_t offset)
{
    g_fail_reads_at = offset;
}

void ht_kernel_model_use_ring(bool on)
{
    g_ring_mode = on;
}

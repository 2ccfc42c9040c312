// SPDX-License-Identifier: MIT
// A card without a card: the Vitis kernel's RTL (ht_pipe_kernel_mm) in Verilator, its m_axi_gmem served from
// host memory, its s_axi_control driven like PCIe would, carrying the card protocol (drivers/fpga/pipe_card.c)
// exactly as XRT does on a real card. C++ only because Verilator's model is a C++ class.
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

// One clock cycle, with the memory model answering m_axi_gmem.
void step(KernelModel *m)
{
    Vht_pipe_kernel_mm *t = m->top;
    drive_memory(m);
    t->eval();
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
    delete m;
}

void *model_open(const ht_pipe_config *cfg, ht_error *err)
{
    (void)cfg;
    KernelModel *m = new (std::nothrow) KernelModel;
    if (!m || !(m->buffer = static_cast<uint8_t *>(calloc(1, kBufferBytes)))) {
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
    for (int i = 0; i < 4; i++)
        step(m);
    t->ap_rst_n = 1;
    ht_card_io io = {m, model_write_reg, model_read_reg, model_sync_buffer, model_close, m->buffer, kBufferBase};
    return ht_card_open(&io, err);
}

} // namespace

const ht_pipe_backend_ops ht_pipe_kernel_model_ops = HT_CARD_OPS("kernel model", model_open);

void ht_kernel_model_fail_reads_at(uint32_t offset)
{
    g_fail_reads_at = offset;
}

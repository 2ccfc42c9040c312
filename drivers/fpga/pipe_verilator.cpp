// SPDX-License-Identifier: MIT
// The verilator backend: the RTL (fpga/rtl/ht_wire_top.sv: the wire ingest and the pipeline) driven port by
// port, one clock at a time.
// C++ only because Verilator's model is a C++ class; everything it exposes is the C backend interface.
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <new>

#include "Vht_wire_top.h"
#include "verilated.h"
#include "wire_rx.hpp"

extern "C" {
#include "pipe_backend.h"
}

namespace {

// One RTL instance and the host-side state the backend contract needs.
struct VlPipe {
    VerilatedContext *ctx = nullptr;
    Vht_wire_top *top = nullptr;
    uint64_t now = 0;        // cycles since reset: the value of the RTL's cycle counter in the current cycle
    uint64_t last_tick = 0;  // cycle the last tick was accepted
    bool any_tick = false;
    ht_event_queue queue{};
    ht_pipe_wire_tap tap = nullptr;
    void *tap_ctx = nullptr;
};

// Copies n 32-bit words of a Verilator wide signal into 64-bit words.
template <typename W> uint64_t word64(const W &w, unsigned index)
{
    return (uint64_t)w[2 * index] | ((uint64_t)w[2 * index + 1] << 32);
}

// Sets 64-bit word `index` of a Verilator wide signal.
template <typename W> void set_word64(W &w, unsigned index, uint64_t value)
{
    w[2 * index] = (uint32_t)value;
    w[2 * index + 1] = (uint32_t)(value >> 32);
}

// Takes the event on m_axis (tready is always high, so each valid cycle carries a new one).
void capture_event(VlPipe *p)
{
    Vht_wire_top *t = p->top;
    if (!t->m_axis_event_tvalid)
        return;
    const auto &d = t->m_axis_event_tdata;
    uint64_t w0 = word64(d, 0);
    ht_fx_event ev;
    ev.underlying = (uint8_t)(w0 & 0xFF);
    ev.side = (uint8_t)((w0 >> 8) & 0xF);
    ev.seq = word64(d, 1);
    ev.price = (int64_t)word64(d, 2);
    ev.net_delta = (int64_t)word64(d, 3);
    ev.net_gamma = (int64_t)word64(d, 4);
    ev.cycle_in = word64(d, 5);
    ev.cycle_out = word64(d, 6);
    ht_event_queue_push(&p->queue, &ev);
}

// One clock cycle: the inputs set now are sampled at the rising edge; outputs are then those of the next cycle.
void step(VlPipe *p)
{
    if (p->top->wire_tick_o) { // the ingest hands a tick to the pipeline at this edge
        p->last_tick = p->now;
        p->any_tick = true;
        if (p->tap) {
            const auto &d = p->top->wire_tick_data_o;
            ht_fx_tick tick;
            tick.underlying = (uint8_t)(word64(d, 0) & 0xFF);
            tick.seq = word64(d, 1);
            tick.price = (int64_t)word64(d, 2);
            p->tap(p->tap_ctx, p->now, &tick);
        }
    }
    p->top->clk = 1;
    p->top->eval();
    p->top->clk = 0;
    p->top->eval();
    p->now++;
    capture_event(p);
}

void *vl_open(const ht_pipe_config *cfg, ht_error *err)
{
    VlPipe *p = new (std::nothrow) VlPipe;
    if (!p || ht_event_queue_init(&p->queue, cfg->event_capacity) != 0) {
        delete p;
        ht_error_set(err, "verilator backend: out of memory");
        return nullptr;
    }
    p->ctx = new VerilatedContext;
    p->top = new Vht_wire_top{p->ctx, "ht_wire_top"};
    Vht_wire_top *t = p->top;
    t->clk = 0;
    t->rst_ni = 0;
    t->s_axis_tick_tvalid = 0;
    t->s_axis_rx_tvalid = 0;
    t->m_axis_event_tready = 1;
    t->s_axil_awvalid = 0;
    t->s_axil_wvalid = 0;
    t->s_axil_bready = 0;
    t->s_axil_arvalid = 0;
    t->s_axil_rready = 0;
    t->s_axil_wstrb = 0xF;
    t->tbl_we_i = 0;
    t->eval();
    for (int i = 0; i < 4; i++) {
        t->clk = 1;
        t->eval();
        t->clk = 0;
        t->eval();
    }
    t->rst_ni = 1;
    t->eval();
    p->now = 0;
    return p;
}

void vl_close(void *be)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    if (!p)
        return;
    p->top->final();
    delete p->top;
    delete p->ctx;
    ht_event_queue_free(&p->queue);
    delete p;
}

void vl_push_tick(void *be, const ht_fx_tick *tick)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    Vht_wire_top *t = p->top;
    t->s_axis_tick_tvalid = 1;
    set_word64(t->s_axis_tick_tdata, 0, tick->underlying);
    set_word64(t->s_axis_tick_tdata, 1, tick->seq);
    set_word64(t->s_axis_tick_tdata, 2, (uint64_t)tick->price);
    p->last_tick = p->now;
    p->any_tick = true;
    step(p);
    t->s_axis_tick_tvalid = 0;
}

void vl_push_beat(void *be, const ht_wire_beat *beat)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    Vht_wire_top *t = p->top;
    ht_drive_rx_beat(t, beat);
    step(p);
    t->s_axis_rx_tvalid = 0;
}

void vl_set_wire_tap(void *be, ht_pipe_wire_tap fn, void *ctx)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    p->tap = fn;
    p->tap_ctx = ctx;
}

bool vl_in_flight(void *be)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    return (p->any_tick && p->now < p->last_tick + HT_PIPE_LATENCY_CYCLES) || p->top->wire_active_o;
}

void vl_drain(void *be)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    while (vl_in_flight(p))
        step(p);
}

bool vl_poll_event(void *be, ht_fx_event *ev)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    if (ht_event_queue_pop(&p->queue, ev))
        return true;
    if (!vl_in_flight(p))
        return false;
    vl_drain(p);
    return ht_event_queue_pop(&p->queue, ev);
}

void vl_wait_fold(void *be)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    while (p->top->busy_o)
        step(p);
}

void vl_idle(void *be, uint64_t cycles)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    for (uint64_t i = 0; i < cycles; i++)
        step(p);
}

void vl_reg_write(void *be, uint32_t addr, uint32_t value)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    Vht_wire_top *t = p->top;
    t->s_axil_awvalid = 1;
    t->s_axil_wvalid = 1;
    t->s_axil_awaddr = (uint16_t)addr;
    t->s_axil_wdata = value;
    step(p); // accepted at this edge (AWREADY = WREADY = !BVALID, and BVALID is low between accesses)
    t->s_axil_awvalid = 0;
    t->s_axil_wvalid = 0;
    t->s_axil_bready = 1;
    step(p); // the response
    t->s_axil_bready = 0;
}

uint32_t vl_reg_read(void *be, uint32_t addr)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    Vht_wire_top *t = p->top;
    t->s_axil_arvalid = 1;
    t->s_axil_araddr = (uint16_t)addr;
    step(p); // accepted at this edge; RDATA holds the register's value of the cycle before
    t->s_axil_arvalid = 0;
    uint32_t value = t->s_axil_rdata;
    t->s_axil_rready = 1;
    step(p);
    t->s_axil_rready = 0;
    return value;
}

void vl_table_write(void *be, uint32_t index, const ht_fx_entry *entry)
{
    VlPipe *p = static_cast<VlPipe *>(be);
    Vht_wire_top *t = p->top;
    t->tbl_we_i = 1;
    t->tbl_addr_i = (uint16_t)index;
    set_word64(t->tbl_data_i, 0, (uint64_t)entry->delta);
    set_word64(t->tbl_data_i, 1, (uint64_t)entry->gamma);
    set_word64(t->tbl_data_i, 2, (uint64_t)entry->speed);
    set_word64(t->tbl_data_i, 3, (uint64_t)entry->vanna);
    set_word64(t->tbl_data_i, 4, (uint64_t)entry->ref_spot);
    set_word64(t->tbl_data_i, 5, entry->underlying);
    step(p);
    t->tbl_we_i = 0;
}

uint64_t vl_now(void *be)
{
    return static_cast<VlPipe *>(be)->now;
}

uint64_t vl_events_dropped(void *be)
{
    return static_cast<VlPipe *>(be)->queue.dropped;
}

} // namespace

extern "C" const ht_pipe_backend_ops ht_pipe_verilator_ops = {
    "verilator",      vl_open,       vl_close, vl_push_tick,   vl_poll_event, vl_push_beat, vl_set_wire_tap, vl_in_flight,
    vl_drain,         vl_wait_fold,  vl_idle,  vl_reg_write,   vl_reg_read,    vl_table_write,
    vl_now,           vl_events_dropped, nullptr, /* the model cannot fail after open */
};

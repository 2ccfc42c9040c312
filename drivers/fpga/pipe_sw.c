/* SPDX-License-Identifier: MIT */
/* The sw backend: a C model of fpga/rtl, bit for bit and cycle for cycle at the API boundary. */
#include <stdlib.h>
#include <string.h>

#include "pipe_sw.h"

/* Recomputes an underlying's constant part of net delta. */
static void refresh_base(sw_underlying *u)
{
    u->tick.base = ht_model_base(u->a, u->v, u->vol_move, u->inventory);
}

/* Puts an underlying's registers in their reset state. */
static void reset_underlying(sw_underlying *u)
{
    memset(u, 0, sizeof *u);
    u->tick.band_lo = INT64_MIN;
    u->tick.band_hi = INT64_MAX;
    u->tick.gamma_lo = INT64_MIN;
    u->tick.gamma_hi = INT64_MAX;
    refresh_base(u);
}

void ht_sw_retire_events(sw_pipe *s)
{
    while (s->flight_head != s->flight_tail && s->in_flight[s->flight_head & 31].cycle_out <= s->now) {
        ht_event_queue_push(&s->queue, &s->in_flight[s->flight_head & 31]);
        s->flight_head++;
    }
    s->next_retire = s->flight_head != s->flight_tail ? s->in_flight[s->flight_head & 31].cycle_out : UINT64_MAX;
}

void ht_sw_activate(sw_pipe *s)
{
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        sw_underlying *und = &s->und[u];
        und->a = s->fold_result.a[u];
        und->tick.b = s->fold_result.b[u];
        und->tick.c = s->fold_result.c[u];
        und->v = s->fold_result.v[u];
        und->tick.s0 = s->fold_result.s0[u];
        refresh_base(und);
    }
    s->flags |= s->fold_result.flags;
    s->generation++;
    s->fold_pending = false;
}

/* Advances the clock by n cycles (the ops-table form). */
static void advance(sw_pipe *s, uint64_t n)
{
    ht_sw_advance(s, n);
}

/* Swaps in the folded book if due at `cycle`. */
static void observe(sw_pipe *s, uint64_t cycle)
{
    ht_sw_observe(s, cycle);
}

void ht_sw_wire_cycle(sw_pipe *s, const ht_wire_beat *beat)
{
    ht_wire_tick t;
    if (ht_wire_model_cycle(s->wire, beat, &t)) {
        ht_fx_tick fx = {.underlying = t.underlying, .seq = t.seq, .price = t.price};
        if (s->tap)
            s->tap(s->tap_ctx, s->now, &fx);
        ht_sw_push_tick(s, &fx);
    } else {
        ht_sw_advance(s, 1);
    }
}

/* Runs the clock to `cycle`: one cycle at a time while the ingest moves, then at once. */
static void run_to(sw_pipe *s, uint64_t cycle)
{
    while (s->now < cycle && ht_sw_wire_active(s))
        ht_sw_wire_cycle(s, NULL);
    if (s->now < cycle)
        ht_sw_advance(s, cycle - s->now);
}

static void sw_push_beat(void *be, const ht_wire_beat *beat)
{
    sw_pipe *s = be;
    s->wire_used = true;
    ht_sw_wire_cycle(s, beat);
}

static void sw_set_wire_tap(void *be, ht_pipe_wire_tap fn, void *ctx)
{
    sw_pipe *s = be;
    s->tap = fn;
    s->tap_ctx = ctx;
}

static void sw_push_tick(void *be, const ht_fx_tick *tick)
{
    ht_sw_push_tick(be, tick);
}

static bool sw_poll_event(void *be, ht_fx_event *ev)
{
    return ht_sw_poll_event(be, ev);
}

static bool sw_in_flight(void *be)
{
    return ht_sw_in_flight(be) || ht_sw_wire_active(be);
}

static void sw_drain(void *be)
{
    ht_sw_drain_all(be);
}

static void *sw_open(const ht_pipe_config *cfg, ht_error *err)
{
    sw_pipe *s = calloc(1, sizeof *s);
    if (!s) {
        ht_error_set(err, "sw backend: out of memory");
        return NULL;
    }
    s->table = calloc(HT_PIPE_TABLE_DEPTH, sizeof *s->table);
    s->wire = malloc(sizeof *s->wire);
    if (!s->table || !s->wire || ht_event_queue_init(&s->queue, cfg->event_capacity) != 0) {
        free(s->wire);
        free(s->table);
        free(s);
        ht_error_set(err, "sw backend: out of memory for the %d-entry table", HT_PIPE_TABLE_DEPTH);
        return NULL;
    }
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        reset_underlying(&s->und[u]);
    ht_wire_model_reset(s->wire);
    s->next_retire = UINT64_MAX;
    return s;
}

static void sw_close(void *be)
{
    sw_pipe *s = be;
    if (!s)
        return;
    ht_event_queue_free(&s->queue);
    free(s->wire);
    free(s->table);
    free(s);
}

static void sw_wait_fold(void *be)
{
    sw_pipe *s = be;
    if (s->fold_pending && s->now < s->fold_activate_cycle)
        run_to(s, s->fold_activate_cycle);
    observe(s, s->now);
}

static void sw_idle(void *be, uint64_t cycles)
{
    sw_pipe *s = be;
    run_to(s, s->now + cycles);
}

/* The register an underlying-block offset names, or NULL for a read-only / unmapped one. */
static int64_t *underlying_reg(sw_underlying *u, uint32_t off)
{
    switch (off) {
    case HT_PIPE_UREG_BAND_LO: return &u->tick.band_lo;
    case HT_PIPE_UREG_BAND_HI: return &u->tick.band_hi;
    case HT_PIPE_UREG_GBAND_LO: return &u->tick.gamma_lo;
    case HT_PIPE_UREG_GBAND_HI: return &u->tick.gamma_hi;
    case HT_PIPE_UREG_INVENTORY: return &u->inventory;
    case HT_PIPE_UREG_VOL_MOVE: return &u->vol_move;
    case HT_PIPE_UREG_S0_NEXT: return &u->s0_next;
    case HT_PIPE_UREG_IIR_B0: return &u->iir_staged[0];
    case HT_PIPE_UREG_IIR_B1: return &u->iir_staged[1];
    case HT_PIPE_UREG_IIR_B2: return &u->iir_staged[2];
    case HT_PIPE_UREG_IIR_A1: return &u->iir_staged[3];
    case HT_PIPE_UREG_IIR_A2: return &u->iir_staged[4];
    default: return NULL;
    }
}

/* Starts a fold of the table into the next book (the whole result is computed now and held back until
 * the cycle the RTL would swap it in). */
static void start_fold(sw_pipe *s, uint64_t write_cycle)
{
    int64_t s0[HT_PIPE_UNDERLYINGS];
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        s0[u] = s->und[u].s0_next;
    ht_model_fold(s->table, s->table_count, s0, &s->fold_result);
    s->fold_pending = true;
    s->fold_activate_cycle = write_cycle + s->table_count + HT_PIPE_FOLD_EXTRA_CYCLES;
}

/* Applies one 32-bit write at cycle w. */
static void write_register(sw_pipe *s, uint64_t w, uint32_t addr, uint32_t value)
{
    bool busy = s->fold_pending; /* observe(w) has already retired a finished fold */
    switch (addr) {
    case HT_PIPE_REG_CONTROL:
        if (value & 1u) {
            if (busy)
                s->flags |= HT_PIPE_FLAG_TABLE_BUSY;
            else
                start_fold(s, w);
        }
        return;
    case HT_PIPE_REG_TABLE_COUNT:
        s->table_count = value > HT_PIPE_TABLE_DEPTH ? HT_PIPE_TABLE_DEPTH : value;
        return;
    case HT_PIPE_REG_REARM:
        for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
            if (value & (1u << u))
                s->und[u].muted = false;
        return;
    case HT_PIPE_REG_FLAGS:
        s->flags &= ~value;
        return;
    default:
        break;
    }
    if (addr < HT_PIPE_REG_UND_BASE || addr >= HT_PIPE_REG_SPACE)
        return;
    sw_underlying *u = &s->und[(addr - HT_PIPE_REG_UND_BASE) / HT_PIPE_REG_UND_STRIDE];
    uint32_t off = (addr - HT_PIPE_REG_UND_BASE) % HT_PIPE_REG_UND_STRIDE;
    if (off == HT_PIPE_UREG_IIR_CTRL) {
        s->flags |= ht_model_iir_load(&u->iir, u->iir_staged, (value & 1u) != 0);
        return;
    }
    int64_t *reg = underlying_reg(u, off & ~4u);
    if (!reg)
        return;
    if ((off & 4u) == 0) {
        s->write_lo = value;
        return;
    }
    *reg = (int64_t)(((uint64_t)value << 32) | s->write_lo);
    switch (off & ~4u) {
    case HT_PIPE_UREG_BAND_LO:
    case HT_PIPE_UREG_BAND_HI:
    case HT_PIPE_UREG_GBAND_LO:
    case HT_PIPE_UREG_GBAND_HI:
        u->muted = false;
        break;
    case HT_PIPE_UREG_INVENTORY:
        u->muted = false;
        refresh_base(u);
        break;
    case HT_PIPE_UREG_VOL_MOVE:
        refresh_base(u);
        break;
    default:
        break;
    }
}

static void sw_reg_write(void *be, uint32_t addr, uint32_t value)
{
    sw_pipe *s = be;
    uint64_t w = s->now;
    observe(s, w);
    if (addr >= HT_PIPE_WIRE_REG_BASE && addr < HT_PIPE_KREG_BASE) /* the ingest is at rest (pipe.c drains) */
        ht_wire_model_write(s->wire, addr, value);
    else
        write_register(s, w, addr, value);
    advance(s, HT_PIPE_AXIL_CYCLES);
}

/* The 64-bit value at a register address (LO word address), or false when it is not a 64-bit register. */
static bool read_register64(sw_pipe *s, uint64_t r, uint32_t addr, uint64_t *value)
{
    switch (addr) {
    case HT_PIPE_REG_CYCLES: *value = r; return true;
    case HT_PIPE_REG_TICKS: *value = s->ticks; return true;
    case HT_PIPE_REG_EVENTS: *value = s->events; return true;
    case HT_PIPE_REG_MUTED_TICKS: *value = s->muted_ticks; return true;
    case HT_PIPE_REG_BAD_TICKS: *value = s->bad_ticks; return true;
    case HT_PIPE_REG_GENERATION: *value = s->generation; return true;
    default: break;
    }
    if (addr < HT_PIPE_REG_UND_BASE || addr >= HT_PIPE_REG_SPACE)
        return false;
    sw_underlying *u = &s->und[(addr - HT_PIPE_REG_UND_BASE) / HT_PIPE_REG_UND_STRIDE];
    uint32_t off = (addr - HT_PIPE_REG_UND_BASE) % HT_PIPE_REG_UND_STRIDE;
    switch (off) {
    case HT_PIPE_UREG_A: *value = (uint64_t)u->a; return true;
    case HT_PIPE_UREG_B: *value = (uint64_t)u->tick.b; return true;
    case HT_PIPE_UREG_C: *value = (uint64_t)u->tick.c; return true;
    case HT_PIPE_UREG_V: *value = (uint64_t)u->v; return true;
    case HT_PIPE_UREG_S0: *value = (uint64_t)u->tick.s0; return true;
    default: break;
    }
    int64_t *reg = underlying_reg(u, off);
    if (!reg)
        return false;
    *value = (uint64_t)*reg;
    return true;
}

/* A 32-bit read at cycle r. */
static uint32_t read_register(sw_pipe *s, uint64_t r, uint32_t addr)
{
    uint32_t mask = 0;
    switch (addr) {
    case HT_PIPE_REG_ID: return HT_PIPE_ID_MAGIC;
    case HT_PIPE_REG_VERSION: return HT_PIPE_VERSION;
    case HT_PIPE_REG_CAPS:
        return HT_PIPE_UNDERLYINGS | (HT_PIPE_LATENCY_CYCLES << 8) | (HT_PIPE_TABLE_ADDR_BITS << 16);
    case HT_PIPE_REG_STATUS: return s->fold_pending ? 1u : 0u;
    case HT_PIPE_REG_TABLE_COUNT: return s->table_count;
    case HT_PIPE_REG_MUTED:
        for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
            mask |= s->und[u].muted ? 1u << u : 0u;
        return mask;
    case HT_PIPE_REG_FLAGS: return s->flags;
    case HT_PIPE_REG_IIR_ENABLE:
        for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
            mask |= s->und[u].iir.enabled ? 1u << u : 0u;
        return mask;
    default: break;
    }
    uint64_t v64;
    if ((addr & 4u) == 0) {
        if (!read_register64(s, r, addr, &v64))
            return 0;
        s->read_hi = (uint32_t)(v64 >> 32);
        return (uint32_t)v64;
    }
    if (!read_register64(s, r, addr & ~4u, &v64))
        return 0;
    return s->read_hi;
}

static uint32_t sw_reg_read(void *be, uint32_t addr)
{
    sw_pipe *s = be;
    uint64_t r = s->now;
    observe(s, r);
    uint32_t value = addr >= HT_PIPE_WIRE_REG_BASE && addr < HT_PIPE_KREG_BASE ? ht_wire_model_read(s->wire, addr)
                                                                                : read_register(s, r, addr);
    advance(s, HT_PIPE_AXIL_CYCLES);
    return value;
}

static void sw_table_write(void *be, uint32_t index, const ht_fx_entry *entry)
{
    sw_pipe *s = be;
    observe(s, s->now);
    if (s->fold_pending)
        s->flags |= HT_PIPE_FLAG_TABLE_BUSY;
    else
        s->table[index & (HT_PIPE_TABLE_DEPTH - 1)] = *entry;
    if (ht_sw_wire_active(s))
        ht_sw_wire_cycle(s, NULL); /* a tick the ingest sends in this cycle reads the active book, not the table */
    else
        advance(s, 1);
}

static uint64_t sw_now(void *be)
{
    return ((sw_pipe *)be)->now;
}

static uint64_t sw_events_dropped(void *be)
{
    return ((sw_pipe *)be)->queue.dropped;
}

const ht_pipe_backend_ops ht_pipe_sw_ops = {
    .name = "sw",
    .open = sw_open,
    .close = sw_close,
    .push_tick = sw_push_tick,
    .push_beat = sw_push_beat,
    .set_wire_tap = sw_set_wire_tap,
    .poll_event = sw_poll_event,
    .in_flight = sw_in_flight,
    .drain = sw_drain,
    .wait_fold = sw_wait_fold,
    .idle = sw_idle,
    .reg_write = sw_reg_write,
    .reg_read = sw_reg_read,
    .table_write = sw_table_write,
    .now = sw_now,
    .events_dropped = sw_events_dropped,
    .failure = NULL, /* the C model cannot fail after open */
};

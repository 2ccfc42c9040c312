/* SPDX-License-Identifier: MIT */
/* The pipeline API common to every backend: validation, the one double -> fixed-point conversion, time rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe_sw.h"

struct ht_pipe {
    const ht_pipe_backend_ops *ops;
    void *be;
    ht_pipe_backend backend;
    uint64_t ticks_rejected;
};

/* 2^31: every price (spot, reference spot) must be below it; it is the top of the price format. */
#define PRICE_LIMIT_USD 2147483648.0

void ht_pipe_config_default(ht_pipe_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->backend = HT_PIPE_BACKEND_SW;
    cfg->event_capacity = 4096;
}

const char *ht_pipe_backend_name(ht_pipe_backend backend)
{
    switch (backend) {
    case HT_PIPE_BACKEND_SW: return "sw";
    case HT_PIPE_BACKEND_VERILATOR: return "verilator";
    case HT_PIPE_BACKEND_XRT: return "xrt";
    }
    return NULL;
}

int ht_pipe_backend_parse(const char *name, ht_pipe_backend *out, ht_error *err)
{
    static const ht_pipe_backend all[] = {HT_PIPE_BACKEND_SW, HT_PIPE_BACKEND_VERILATOR, HT_PIPE_BACKEND_XRT};
    for (size_t i = 0; name && i < HT_ARRAY_LEN(all); i++) {
        if (strcmp(name, ht_pipe_backend_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return ht_error_set(err, "unknown pipeline backend '%s' (expected sw, verilator or xrt)", name ? name : "");
}

/* The operations of a backend compiled into this build, or NULL. */
static const ht_pipe_backend_ops *backend_ops(ht_pipe_backend backend)
{
    switch (backend) {
    case HT_PIPE_BACKEND_SW: return &ht_pipe_sw_ops;
#if defined(HT_HAVE_VERILATOR)
    case HT_PIPE_BACKEND_VERILATOR: return &ht_pipe_verilator_ops;
#endif
#if defined(HT_HAVE_XRT)
    case HT_PIPE_BACKEND_XRT: return &ht_pipe_xrt_ops;
#endif
    default: return NULL;
    }
}

bool ht_pipe_backend_built(ht_pipe_backend backend)
{
    return backend_ops(backend) != NULL;
}

int ht_event_queue_init(ht_event_queue *q, uint32_t capacity)
{
    memset(q, 0, sizeof *q);
    q->slots = calloc(capacity, sizeof *q->slots);
    if (!q->slots)
        return -1;
    q->mask = capacity - 1;
    return 0;
}

void ht_event_queue_free(ht_event_queue *q)
{
    free(q->slots);
    q->slots = NULL;
}

/* Checks a configuration and fills in its defaults. */
static int check_config(const ht_pipe_config *cfg, ht_pipe_config *out, ht_error *err)
{
    if (cfg)
        *out = *cfg;
    else
        ht_pipe_config_default(out);
    if (out->event_capacity == 0)
        out->event_capacity = 4096;
    if (out->event_capacity < 16 || out->event_capacity > (1u << 20) ||
        (out->event_capacity & (out->event_capacity - 1)))
        return ht_error_set(err, "pipeline config: event_capacity %u must be a power of two from 16 to %u",
                            out->event_capacity, 1u << 20);
    if (!ht_pipe_backend_name(out->backend))
        return ht_error_set(err, "pipeline config: unknown backend %d", (int)out->backend);
    return 0;
}

ht_pipe *ht_pipe_create_with_ops(const ht_pipe_backend_ops *ops, const ht_pipe_config *cfg, ht_error *err)
{
    ht_pipe_config c;
    if (check_config(cfg, &c, err) != 0)
        return NULL;
    ht_pipe *pipe = calloc(1, sizeof *pipe);
    if (!pipe) {
        ht_error_set(err, "pipeline: out of memory");
        return NULL;
    }
    pipe->ops = ops;
    /* Only the C model is called inline; any other ops table goes through its pointers. */
    pipe->backend = ops == &ht_pipe_sw_ops ? HT_PIPE_BACKEND_SW
                    : c.backend == HT_PIPE_BACKEND_SW ? HT_PIPE_BACKEND_XRT : c.backend;
    pipe->be = ops->open(&c, err);
    if (!pipe->be) {
        free(pipe);
        return NULL;
    }
    return pipe;
}

ht_pipe *ht_pipe_create(const ht_pipe_config *cfg, ht_error *err)
{
    ht_pipe_config c;
    if (check_config(cfg, &c, err) != 0)
        return NULL;
    const ht_pipe_backend_ops *ops = backend_ops(c.backend);
    if (!ops) {
        ht_error_set(err, "pipeline backend '%s' is not part of this build (%s was not found at configure time)",
                     ht_pipe_backend_name(c.backend),
                     c.backend == HT_PIPE_BACKEND_VERILATOR ? "Verilator 5" : "XRT (libxrt-dev)");
        return NULL;
    }
    return ht_pipe_create_with_ops(ops, &c, err);
}

void ht_pipe_destroy(ht_pipe *pipe)
{
    if (!pipe)
        return;
    pipe->ops->close(pipe->be);
    free(pipe);
}

ht_pipe_backend ht_pipe_get_backend(const ht_pipe *pipe)
{
    return pipe->backend;
}

uint64_t ht_pipe_now(const ht_pipe *pipe)
{
    return pipe->ops->now(pipe->be);
}

/* ---- Conversions (the one place doubles become fixed point) ------------------------------------------------ */

/* Converts a finite double to a format; -1 with a message naming what, where and the range when it is NaN,
 * infinite or out of range. */
static int to_fx(const char *what, const char *where, double x, unsigned frac, int64_t *out, ht_error *err)
{
    ht_fx_status st = isinf(x) ? HT_FX_SATURATED : ht_fx_from_double(x, frac, out);
    if (st == HT_FX_OK)
        return 0;
    double limit = ldexp(1.0, 63 - (int)frac);
    return ht_error_set(err, "%s: %s is %g; expected a finite number in (-%g, %g)", where, what, x, limit, limit);
}

/* Converts a price that must lie in [min_usd, 2^31) to the price format. */
static int price_to_fx(const char *what, const char *where, double usd, double min_usd, bool min_inclusive,
                       int64_t *out, ht_error *err)
{
    bool low_ok = min_inclusive ? usd >= min_usd : usd > min_usd;
    if (!(low_ok && usd < PRICE_LIMIT_USD))
        return ht_error_set(err, "%s: %s is %g; expected %s%g <= price < 2^31 USD", where, what, usd,
                            min_inclusive ? "" : "0 < ", min_inclusive ? min_usd : 0.0);
    return to_fx(what, where, usd, HT_FX_PRICE_FRAC, out, err);
}

/* Checks an underlying index. */
static int check_underlying(const char *where, unsigned underlying, ht_error *err)
{
    if (underlying >= HT_PIPE_UNDERLYINGS)
        return ht_error_set(err, "%s: underlying %u out of range (0..%d)", where, underlying,
                            HT_PIPE_UNDERLYINGS - 1);
    return 0;
}

int ht_pipe_position_to_fx(const ht_pipe_position *pos, size_t index, ht_fx_entry *out, ht_error *err)
{
    char where[64];
    snprintf(where, sizeof where, "position %zu", index);
    if (check_underlying(where, pos->underlying, err) != 0)
        return -1;
    if (!isfinite(pos->qty_x_mult))
        return ht_error_set(err, "%s: qty_x_mult is %g; expected a finite number", where, pos->qty_x_mult);
    if (to_fx("delta x qty_x_mult", where, pos->delta * pos->qty_x_mult, HT_FX_DELTA_FRAC, &out->delta, err) ||
        to_fx("gamma x qty_x_mult", where, pos->gamma * pos->qty_x_mult, HT_FX_GAMMA_FRAC, &out->gamma, err) ||
        to_fx("speed x qty_x_mult", where, pos->speed * pos->qty_x_mult, HT_FX_SPEED_FRAC, &out->speed, err) ||
        to_fx("vanna x qty_x_mult", where, pos->vanna * pos->qty_x_mult, HT_FX_VANNA_FRAC, &out->vanna, err) ||
        price_to_fx("ref_spot_usd", where, pos->ref_spot_usd, 0.0, false, &out->ref_spot, err))
        return -1;
    out->underlying = (uint8_t)pos->underlying;
    return 0;
}

/* ---- Time rules ----------------------------------------------------------------------------------------------- */

/* Lets in-flight ticks leave before a register access. */
static void quiesce(ht_pipe *pipe)
{
    if (pipe->ops->in_flight(pipe->be))
        pipe->ops->drain(pipe->be);
}

/* One 64-bit register write: LO then HI. */
static void write64(ht_pipe *pipe, uint32_t addr, uint64_t value)
{
    quiesce(pipe);
    pipe->ops->reg_write(pipe->be, addr, (uint32_t)value);
    pipe->ops->reg_write(pipe->be, addr + 4, (uint32_t)(value >> 32));
}

/* One 64-bit register read: LO then HI. */
static uint64_t read64(ht_pipe *pipe, uint32_t addr)
{
    quiesce(pipe);
    uint64_t lo = pipe->ops->reg_read(pipe->be, addr);
    uint64_t hi = pipe->ops->reg_read(pipe->be, addr + 4);
    return lo | (hi << 32);
}

/* 0 while the backend's hardware answers; -1 with err naming the call and the first failed access. */
static int backend_ok(ht_pipe *pipe, const char *where, ht_error *err)
{
    const char *failure = pipe->ops->failure ? pipe->ops->failure(pipe->be) : NULL;
    if (HT_UNLIKELY(failure != NULL))
        return ht_error_set(err, "%s: %s", where, failure);
    return 0;
}

int ht_pipe_check(ht_pipe *pipe, ht_error *err)
{
    return backend_ok(pipe, "pipeline", err);
}

/* Address of an underlying's register. */
static uint32_t ureg(unsigned underlying, uint32_t offset)
{
    return HT_PIPE_REG_UND_BASE + underlying * HT_PIPE_REG_UND_STRIDE + offset;
}

/* ---- The greek table ------------------------------------------------------------------------------------------ */

int ht_pipe_write_entries_fx(ht_pipe *pipe, uint32_t first, const ht_fx_entry *entries, size_t n, ht_error *err)
{
    if ((uint64_t)first + n > HT_PIPE_TABLE_DEPTH)
        return ht_error_set(err, "table write: entries %u..%llu exceed the table (%d entries)", first,
                            (unsigned long long)first + n - 1, HT_PIPE_TABLE_DEPTH);
    pipe->ops->wait_fold(pipe->be);
    for (size_t i = 0; i < n; i++)
        pipe->ops->table_write(pipe->be, first + (uint32_t)i, &entries[i]);
    return backend_ok(pipe, "table write", err);
}

int ht_pipe_write_positions(ht_pipe *pipe, uint32_t first, const ht_pipe_position *positions, size_t n,
                            ht_error *err)
{
    if ((uint64_t)first + n > HT_PIPE_TABLE_DEPTH)
        return ht_error_set(err, "table write: positions %u..%llu exceed the table (%d entries)", first,
                            (unsigned long long)first + n - 1, HT_PIPE_TABLE_DEPTH);
    if (n == 0)
        return 0;
    ht_fx_entry *entries = malloc(n * sizeof *entries);
    if (!entries)
        return ht_error_set(err, "table write: out of memory for %zu entries", n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = ht_pipe_position_to_fx(&positions[i], first + i, &entries[i], err);
    if (rc == 0)
        rc = ht_pipe_write_entries_fx(pipe, first, entries, n, err);
    free(entries);
    return rc;
}

int ht_pipe_commit(ht_pipe *pipe, uint32_t count, const double s0_usd[HT_PIPE_UNDERLYINGS], ht_error *err)
{
    if (count > HT_PIPE_TABLE_DEPTH)
        return ht_error_set(err, "commit: count %u exceeds the table (%d entries)", count, HT_PIPE_TABLE_DEPTH);
    int64_t s0_fx[HT_PIPE_UNDERLYINGS];
    if (s0_usd) {
        for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
            char where[48];
            snprintf(where, sizeof where, "commit: underlying %u", u);
            if (price_to_fx("reference spot S0", where, s0_usd[u], 0.0, true, &s0_fx[u], err) != 0)
                return -1;
        }
    }
    pipe->ops->wait_fold(pipe->be);
    if (s0_usd)
        for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
            write64(pipe, ureg(u, HT_PIPE_UREG_S0_NEXT), (uint64_t)s0_fx[u]);
    quiesce(pipe);
    pipe->ops->reg_write(pipe->be, HT_PIPE_REG_TABLE_COUNT, count);
    pipe->ops->reg_write(pipe->be, HT_PIPE_REG_CONTROL, 1u);
    return backend_ok(pipe, "commit", err);
}

int ht_pipe_load_book(ht_pipe *pipe, const ht_pipe_position *positions, size_t n,
                      const double s0_usd[HT_PIPE_UNDERLYINGS], ht_error *err)
{
    if (n > HT_PIPE_TABLE_DEPTH)
        return ht_error_set(err, "load book: %zu positions exceed the table (%d entries)", n, HT_PIPE_TABLE_DEPTH);
    if (!s0_usd)
        return ht_error_set(err, "load book: the reference spots S0 are required");
    if (ht_pipe_write_positions(pipe, 0, positions, n, err) != 0)
        return -1;
    return ht_pipe_commit(pipe, (uint32_t)n, s0_usd, err);
}

int ht_pipe_sync(ht_pipe *pipe, ht_error *err)
{
    pipe->ops->wait_fold(pipe->be);
    quiesce(pipe);
    return backend_ok(pipe, "sync", err);
}

/* ---- Settings ------------------------------------------------------------------------------------------------ */

/* Validates and writes a [lo, hi] pair of 64-bit registers in one format. */
static int write_bounds(ht_pipe *pipe, const char *where, unsigned underlying, double lo, double hi, unsigned frac,
                        uint32_t lo_off, uint32_t hi_off, ht_error *err)
{
    int64_t lo_fx, hi_fx;
    if (check_underlying(where, underlying, err) != 0 || to_fx("lower bound", where, lo, frac, &lo_fx, err) != 0 ||
        to_fx("upper bound", where, hi, frac, &hi_fx, err) != 0)
        return -1;
    if (lo > hi)
        return ht_error_set(err, "%s: lower bound %g is above upper bound %g", where, lo, hi);
    write64(pipe, ureg(underlying, lo_off), (uint64_t)lo_fx);
    write64(pipe, ureg(underlying, hi_off), (uint64_t)hi_fx);
    return backend_ok(pipe, where, err);
}

int ht_pipe_set_band(ht_pipe *pipe, unsigned underlying, double lo_contracts, double hi_contracts, ht_error *err)
{
    return write_bounds(pipe, "set band", underlying, lo_contracts, hi_contracts, HT_FX_BAND_FRAC,
                        HT_PIPE_UREG_BAND_LO, HT_PIPE_UREG_BAND_HI, err);
}

int ht_pipe_set_gamma_band(ht_pipe *pipe, unsigned underlying, double lo_per_usd, double hi_per_usd, ht_error *err)
{
    return write_bounds(pipe, "set gamma band", underlying, lo_per_usd, hi_per_usd, HT_FX_GAMMA_FRAC,
                        HT_PIPE_UREG_GBAND_LO, HT_PIPE_UREG_GBAND_HI, err);
}

/* Validates and writes one 64-bit per-underlying register. */
static int write_setting(ht_pipe *pipe, const char *where, const char *what, unsigned underlying, double value,
                         unsigned frac, uint32_t off, ht_error *err)
{
    int64_t fx;
    if (check_underlying(where, underlying, err) != 0 || to_fx(what, where, value, frac, &fx, err) != 0)
        return -1;
    write64(pipe, ureg(underlying, off), (uint64_t)fx);
    return backend_ok(pipe, where, err);
}

int ht_pipe_set_inventory(ht_pipe *pipe, unsigned underlying, double contracts, ht_error *err)
{
    return write_setting(pipe, "set inventory", "inventory", underlying, contracts, HT_FX_INVENTORY_FRAC,
                         HT_PIPE_UREG_INVENTORY, err);
}

int ht_pipe_set_vol_move(ht_pipe *pipe, unsigned underlying, double dsigma, ht_error *err)
{
    return write_setting(pipe, "set vol move", "d-sigma", underlying, dsigma, HT_FX_VOL_FRAC,
                         HT_PIPE_UREG_VOL_MOVE, err);
}

int ht_pipe_rearm(ht_pipe *pipe, unsigned underlying, ht_error *err)
{
    if (check_underlying("rearm", underlying, err) != 0)
        return -1;
    quiesce(pipe);
    pipe->ops->reg_write(pipe->be, HT_PIPE_REG_REARM, 1u << underlying);
    return backend_ok(pipe, "rearm", err);
}

int ht_pipe_set_filter(ht_pipe *pipe, unsigned underlying, const ht_pipe_iir *iir, ht_error *err)
{
    if (check_underlying("set filter", underlying, err) != 0)
        return -1;
    if (iir) {
        const int64_t limit = (int64_t)1 << (HT_FX_IIR_COEF_FRAC + HT_FX_IIR_COEF_LIMIT_LOG2);
        static const uint32_t offs[5] = {HT_PIPE_UREG_IIR_B0, HT_PIPE_UREG_IIR_B1, HT_PIPE_UREG_IIR_B2,
                                         HT_PIPE_UREG_IIR_A1, HT_PIPE_UREG_IIR_A2};
        for (int i = 0; i < 5; i++)
            if (iir->coef_fx[i] >= limit || iir->coef_fx[i] < -limit)
                return ht_error_set(err, "set filter: underlying %u: coefficient %d (%g) outside [-2, 2)", underlying,
                                    i, ht_fx_to_double(iir->coef_fx[i], HT_FX_IIR_COEF_FRAC));
        for (int i = 0; i < 5; i++)
            write64(pipe, ureg(underlying, offs[i]), (uint64_t)iir->coef_fx[i]);
    }
    quiesce(pipe);
    pipe->ops->reg_write(pipe->be, ureg(underlying, HT_PIPE_UREG_IIR_CTRL), iir ? 1u : 0u);
    return backend_ok(pipe, "set filter", err);
}

/* ---- Ticks and events --------------------------------------------------------------------------------------- */

/* The price conversion of the hot path: the same result as ht_fx_from_double for 0 < usd < 2^31, without
 * the libm calls (the product is exact, and truncation is floor for a positive value). */
static inline int64_t spot_to_fx(double usd)
{
    double scaled = usd * 4294967296.0;
    int64_t whole = (int64_t)scaled;
    return whole + ((scaled - (double)whole) >= 0.5 ? 1 : 0);
}

int ht_pipe_push_tick(ht_pipe *pipe, const ht_pipe_tick *tick)
{
    /* The negated test also refuses NaN. */
    if (HT_UNLIKELY(!(tick->spot_usd > 0.0 && tick->spot_usd < PRICE_LIMIT_USD) ||
                    tick->underlying >= HT_PIPE_UNDERLYINGS)) {
        pipe->ticks_rejected++;
        return -1;
    }
    ht_fx_tick fx = {.underlying = (uint8_t)tick->underlying, .seq = tick->seq, .price = spot_to_fx(tick->spot_usd)};
    if (HT_LIKELY(pipe->backend == HT_PIPE_BACKEND_SW))
        ht_sw_push_tick(pipe->be, &fx); /* the C model, inline: no indirect call on the hot path */
    else
        pipe->ops->push_tick(pipe->be, &fx);
    return 0;
}

int ht_pipe_push_tick_fx(ht_pipe *pipe, const ht_fx_tick *tick)
{
    pipe->ops->push_tick(pipe->be, tick);
    return 0;
}

int ht_pipe_poll_event(ht_pipe *pipe, ht_pipe_event *ev)
{
    ht_fx_event fx;
    bool got = HT_LIKELY(pipe->backend == HT_PIPE_BACKEND_SW) ? ht_sw_poll_event(pipe->be, &fx)
                                                               : pipe->ops->poll_event(pipe->be, &fx);
    if (!got)
        return 0;
    ev->underlying = fx.underlying;
    ev->side = fx.side;
    ev->seq = fx.seq;
    ev->price_fx = fx.price;
    ev->net_delta_fx = fx.net_delta;
    ev->net_gamma_fx = fx.net_gamma;
    ev->cycle_in = fx.cycle_in;
    ev->cycle_out = fx.cycle_out;
    ev->spot_usd = ht_fx_to_double(fx.price, HT_FX_PRICE_FRAC);
    ev->net_delta_contracts = ht_fx_to_double(fx.net_delta, HT_FX_DELTA_FRAC);
    ev->net_gamma_per_usd = ht_fx_to_double(fx.net_gamma, HT_FX_GAMMA_FRAC);
    return 1;
}

void ht_pipe_idle(ht_pipe *pipe, uint64_t cycles)
{
    pipe->ops->idle(pipe->be, cycles);
}

/* ---- Registers and counters ------------------------------------------------------------------------------ */

/* Checks a raw register address. */
static int check_addr(const char *where, uint32_t addr, ht_error *err)
{
    bool wire = addr >= HT_PIPE_WIRE_REG_BASE && addr < HT_PIPE_WIRE_REG_END;
    if ((addr & 3u) || (addr >= HT_PIPE_REG_SPACE && !wire))
        return ht_error_set(err, "%s: address 0x%x is not a 4-byte aligned address below 0x%x or in the wire "
                                 "ingest's 0x%x..0x%x", where, addr, HT_PIPE_REG_SPACE, HT_PIPE_WIRE_REG_BASE,
                            HT_PIPE_WIRE_REG_END - 4);
    return 0;
}

int ht_pipe_reg_write(ht_pipe *pipe, uint32_t addr, uint32_t value, ht_error *err)
{
    if (check_addr("register write", addr, err) != 0)
        return -1;
    quiesce(pipe);
    pipe->ops->reg_write(pipe->be, addr, value);
    return backend_ok(pipe, "register write", err);
}

int ht_pipe_reg_read(ht_pipe *pipe, uint32_t addr, uint32_t *value, ht_error *err)
{
    if (check_addr("register read", addr, err) != 0)
        return -1;
    quiesce(pipe);
    *value = pipe->ops->reg_read(pipe->be, addr);
    return backend_ok(pipe, "register read", err);
}

int ht_pipe_reg_write64(ht_pipe *pipe, uint32_t addr, uint64_t value, ht_error *err)
{
    if (check_addr("register write", addr, err) != 0 || (addr & 4u))
        return ht_error_set(err, "register write: 0x%x is not the LO word of a 64-bit register", addr);
    write64(pipe, addr, value);
    return backend_ok(pipe, "register write", err);
}

int ht_pipe_reg_read64(ht_pipe *pipe, uint32_t addr, uint64_t *value, ht_error *err)
{
    if (check_addr("register read", addr, err) != 0 || (addr & 4u))
        return ht_error_set(err, "register read: 0x%x is not the LO word of a 64-bit register", addr);
    *value = read64(pipe, addr);
    return backend_ok(pipe, "register read", err);
}

int ht_pipe_read_counters(ht_pipe *pipe, ht_pipe_counters *out, ht_error *err)
{
    memset(out, 0, sizeof *out);
    out->cycles = read64(pipe, HT_PIPE_REG_CYCLES);
    out->ticks = read64(pipe, HT_PIPE_REG_TICKS);
    out->events = read64(pipe, HT_PIPE_REG_EVENTS);
    out->muted_ticks = read64(pipe, HT_PIPE_REG_MUTED_TICKS);
    out->bad_ticks = read64(pipe, HT_PIPE_REG_BAD_TICKS);
    out->generation = read64(pipe, HT_PIPE_REG_GENERATION);
    out->flags = pipe->ops->reg_read(pipe->be, HT_PIPE_REG_FLAGS);
    out->muted_mask = pipe->ops->reg_read(pipe->be, HT_PIPE_REG_MUTED);
    out->iir_mask = pipe->ops->reg_read(pipe->be, HT_PIPE_REG_IIR_ENABLE);
    out->fold_busy = (pipe->ops->reg_read(pipe->be, HT_PIPE_REG_STATUS) & 1u) != 0;
    out->ticks_rejected = pipe->ticks_rejected;
    out->events_dropped = pipe->ops->events_dropped(pipe->be);
    return backend_ok(pipe, "read counters", err);
}

int ht_pipe_clear_flags(ht_pipe *pipe, uint32_t mask, ht_error *err)
{
    return ht_pipe_reg_write(pipe, HT_PIPE_REG_FLAGS, mask, err);
}

int ht_pipe_read_underlying(ht_pipe *pipe, unsigned underlying, ht_pipe_underlying_state *out, ht_error *err)
{
    if (check_underlying("read underlying", underlying, err) != 0)
        return -1;
    out->a = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_A));
    out->b = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_B));
    out->c = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_C));
    out->v = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_V));
    out->s0 = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_S0));
    out->band_lo = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_BAND_LO));
    out->band_hi = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_BAND_HI));
    out->gamma_lo = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_GBAND_LO));
    out->gamma_hi = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_GBAND_HI));
    out->inventory = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_INVENTORY));
    out->vol_move = (int64_t)read64(pipe, ureg(underlying, HT_PIPE_UREG_VOL_MOVE));
    return backend_ok(pipe, "read underlying", err);
}

/* ---- The wire ingest ----------------------------------------------------------------------------------------- */

static const char *const g_wire_counter_names[HT_PIPE_WIRE_COUNTERS] = {
    "frames",      "frames_ok",   "ticks",          "disabled",         "mac_error",      "too_long",
    "overrun",     "short",       "not_ipv4",       "ip_header",        "ip_checksum",    "fragment",
    "not_udp",     "filter",      "length",         "channel",          "old_seq",        "stale",
    "sbe",         "gaps",        "messages",       "unknown_template", "unknown_schema", "index",
    "unmapped",    "bad_price",   "tick_overflow",
};

const char *ht_pipe_wire_counter_name(unsigned counter)
{
    return counter < HT_PIPE_WIRE_COUNTERS ? g_wire_counter_names[counter] : NULL;
}

bool ht_pipe_wire_pushable(const ht_pipe *pipe)
{
    return pipe->ops->push_beat != NULL;
}

/* An index name as the name table holds it (NUL-padded to 16 bytes); -1 naming the underlying when it does
 * not fit or is not printable ASCII. */
static int wire_name(const char *name, unsigned u, uint8_t out[HT_PIPE_WIRE_NAME_BYTES], ht_error *err)
{
    memset(out, 0, HT_PIPE_WIRE_NAME_BYTES);
    size_t n = strlen(name);
    if (n > HT_PIPE_WIRE_NAME_BYTES)
        return ht_error_set(err, "wire: index name of underlying %u has %zu characters (at most %d)", u, n,
                            HT_PIPE_WIRE_NAME_BYTES);
    for (size_t i = 0; i < n; i++) {
        if (name[i] < 0x21 || name[i] > 0x7E)
            return ht_error_set(err, "wire: index name of underlying %u has a byte 0x%02x at %zu that is not "
                                     "printable ASCII", u, (unsigned)(unsigned char)name[i], i);
        out[i] = (uint8_t)name[i];
    }
    return 0;
}

static int wire_check_config(const ht_pipe_wire_config *cfg, ht_error *err)
{
    for (unsigned k = 0; k < HT_PIPE_WIRE_CHANNELS; k++)
        for (unsigned j = 0; j < k; j++)
            if (cfg->channel_on[k] && cfg->channel_on[j] && cfg->channel[k] == cfg->channel[j])
                return ht_error_set(err, "wire: channel %u is in the channel table twice (entries %u and %u)",
                                    cfg->channel[k], j, k);
    for (unsigned i = 0; i < HT_PIPE_WIRE_FILTERS; i++)
        for (unsigned j = 0; j < i; j++)
            if (cfg->filter_port[i] != 0 && cfg->filter_port[i] == cfg->filter_port[j] &&
                cfg->filter_addr[i] == cfg->filter_addr[j])
                return ht_error_set(err, "wire: filter entries %u and %u are the same group and port", j, i);
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        for (unsigned v = 0; v < u; v++)
            if (cfg->index_name[u] && cfg->index_name[v] && cfg->index_name[u][0] &&
                strcmp(cfg->index_name[u], cfg->index_name[v]) == 0)
                return ht_error_set(err, "wire: index name \"%s\" is given to underlyings %u and %u",
                                    cfg->index_name[u], v, u);
    return 0;
}

int ht_pipe_wire_configure(ht_pipe *pipe, const ht_pipe_wire_config *cfg, ht_error *err)
{
    uint8_t names[HT_PIPE_UNDERLYINGS][HT_PIPE_WIRE_NAME_BYTES];
    uint32_t name_mask = 0, chan_mask = 0;
    if (wire_check_config(cfg, err) != 0)
        return -1;
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        const char *name = cfg->index_name[u] ? cfg->index_name[u] : "";
        if (wire_name(name, u, names[u], err) != 0)
            return -1;
        if (name[0])
            name_mask |= 1u << u;
    }
    quiesce(pipe);
    pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_CTRL, 0);
    for (unsigned i = 0; i < HT_PIPE_WIRE_FILTERS; i++) {
        pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_FILTER + 8 * i, cfg->filter_addr[i]);
        pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_FILTER + 8 * i + 4, cfg->filter_port[i]);
    }
    for (unsigned k = 0; k < HT_PIPE_WIRE_CHANNELS; k++) {
        pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_CHAN_ID + 4 * k, cfg->channel[k]);
        chan_mask |= cfg->channel_on[k] ? 1u << k : 0u;
    }
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++)
        for (unsigned j = 0; j < HT_PIPE_WIRE_NAME_BYTES; j += 4)
            pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_NAME + HT_PIPE_WIRE_NAME_BYTES * u + j,
                                 (uint32_t)names[u][j] | (uint32_t)names[u][j + 1] << 8 |
                                     (uint32_t)names[u][j + 2] << 16 | (uint32_t)names[u][j + 3] << 24);
    pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_NAME_ENABLE, name_mask);
    pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_CHAN_ENABLE, chan_mask); /* re-arms every channel */
    pipe->ops->reg_write(pipe->be, HT_PIPE_WIRE_REG_CTRL, 1);
    if (backend_ok(pipe, "wire configure", err) != 0)
        return -1;
    /* A card without the ingest answers 0 here: say so rather than wait for ticks that never come. */
    if (pipe->ops->reg_read(pipe->be, HT_PIPE_WIRE_REG_ID) != HT_PIPE_WIRE_ID_MAGIC)
        return ht_error_set(err, "wire configure: the %s backend has no wire ingest (ID register 0x%x reads 0x%x)",
                            pipe->ops->name, HT_PIPE_WIRE_REG_ID,
                            pipe->ops->reg_read(pipe->be, HT_PIPE_WIRE_REG_ID));
    return backend_ok(pipe, "wire configure", err);
}

int ht_pipe_push_beat(ht_pipe *pipe, const ht_wire_beat *beat)
{
    if (HT_UNLIKELY(pipe->ops->push_beat == NULL))
        return -1;
    pipe->ops->push_beat(pipe->be, beat);
    return 0;
}

int ht_pipe_push_frame(ht_pipe *pipe, const uint8_t *frame, size_t len, bool mac_error)
{
    if (HT_UNLIKELY(pipe->ops->push_beat == NULL))
        return -1;
    ht_wire_beat b;
    size_t off = 0;
    do {
        size_t n = len - off < HT_PIPE_WIRE_BEAT_BYTES ? len - off : HT_PIPE_WIRE_BEAT_BYTES;
        memset(b.data, 0, sizeof b.data);
        if (n)
            memcpy(b.data, frame + off, n);
        b.keep = (uint8_t)((1u << n) - 1u);
        off += n;
        b.last = off == len;
        b.user = b.last && mac_error;
        pipe->ops->push_beat(pipe->be, &b);
    } while (off < len);
    return 0;
}

int ht_pipe_wire_read_counters(ht_pipe *pipe, uint32_t counters[HT_PIPE_WIRE_COUNTERS], ht_error *err)
{
    quiesce(pipe);
    for (unsigned r = 0; r < HT_PIPE_WIRE_COUNTERS; r++)
        counters[r] = pipe->ops->reg_read(pipe->be, HT_PIPE_WIRE_REG_COUNTER + 4 * r);
    return backend_ok(pipe, "wire counters", err);
}

int ht_pipe_wire_stale(ht_pipe *pipe, uint32_t *stale_mask, ht_error *err)
{
    return ht_pipe_reg_read(pipe, HT_PIPE_WIRE_REG_CHAN_STALE, stale_mask, err);
}

int ht_pipe_wire_rearm(ht_pipe *pipe, uint32_t channel_mask, ht_error *err)
{
    if (channel_mask >> HT_PIPE_WIRE_CHANNELS)
        return ht_error_set(err, "wire re-arm: mask 0x%x names channel entries beyond %d", channel_mask,
                            HT_PIPE_WIRE_CHANNELS - 1);
    return ht_pipe_reg_write(pipe, HT_PIPE_WIRE_REG_CHAN_REARM, channel_mask, err);
}

int ht_pipe_set_wire_tap(ht_pipe *pipe, ht_pipe_wire_tap fn, void *ctx)
{
    if (pipe->ops->set_wire_tap == NULL)
        return -1;
    pipe->ops->set_wire_tap(pipe->be, fn, ctx);
    return 0;
}

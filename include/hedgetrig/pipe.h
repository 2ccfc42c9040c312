/* SPDX-License-Identifier: MIT */
/* The hedge-trigger pipeline: one API over three backends (C model, Verilator RTL, Alveo card through XRT). */
#ifndef HEDGETRIG_PIPE_H
#define HEDGETRIG_PIPE_H

/*
 * What it computes, per tick of underlying u (see fpga/README.md for the cycle budget):
 *
 *     dS       = S - S0[u]                         S: the tick's spot (after the optional IIR low-pass)
 *     net_gamma = B + C*dS
 *     net_delta = A + (B + C*dS/2)*dS + V*dsigma + H
 *
 * and flags a breach when net_delta leaves [band_lo, band_hi] or net_gamma leaves [gamma_lo, gamma_hi]
 * (a value equal to a bound is inside). A breach emits one event, then mutes u: later breaches of u are
 * only counted (muted_ticks) until the host re-arms u by writing its band, gamma band or inventory, or by
 * ht_pipe_rearm.
 *
 * A, B, C, V are the book's delta, gamma, speed and vanna at the reference spot S0[u], folded from the greek
 * table by a background engine on each commit. Each position i (reference spot S_i, h = S0 - S_i) is
 * re-centred by Taylor expansion before it is summed:
 *     delta_i(S0) = delta_i + (gamma_i + speed_i*h/2)*h,   gamma_i(S0) = gamma_i + speed_i*h,
 *     speed and vanna are summed as they are.
 * Ticks keep using the previous book until the fold is complete; the new A, B, C, V and S0 then replace the
 * old ones in one cycle, so no tick sees half a book and no tick waits.
 *
 * Numbers cross this API as doubles and are converted to the fixed-point formats of hedgetrig/fixed.h here,
 * in one place, before any backend sees them: every backend receives the same bits. The *_fx functions
 * take and give those bits directly (co-simulation, tests).
 *
 * Time. The sw and verilator backends run on a simulated clock that only moves when the host calls in:
 * pushing a tick takes one cycle, a register access HT_PIPE_AXIL_CYCLES, a table entry one cycle,
 * ht_pipe_idle as many as asked. Before any register access the clock runs until no tick is in flight,
 * so settings never change under a tick. Both backends follow these rules cycle for cycle, which is what
 * makes their events (cycle stamps included) and registers identical. On a card (xrt) the clock is real.
 *
 * Threads: a pipe is used by one thread at a time. The hot path (ht_pipe_push_tick, ht_pipe_poll_event)
 * allocates nothing, takes no lock, makes no syscall (sw backend) and does not print.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/fixed.h"
#include "hedgetrig/pipe_regs.h"
#include "hedgetrig/wire_regs.h"

/* ---- Backends and configuration -------------------------------------------------------------------------- */

typedef enum ht_pipe_backend {
    HT_PIPE_BACKEND_SW = 0,        /* the bit-exact C model (default) */
    HT_PIPE_BACKEND_VERILATOR = 1, /* the RTL, compiled by Verilator (built when Verilator 5 is installed) */
    HT_PIPE_BACKEND_XRT = 2,       /* an Alveo card through XRT (built when libxrt is installed) */
} ht_pipe_backend;

typedef struct ht_pipe_config {
    ht_pipe_backend backend;
    /* Events held until the host polls them: a power of two from 16 to 2^20; 0 picks 4096. When the queue
     * is full a new event is dropped and counted (ht_pipe_counters.events_dropped). */
    uint32_t event_capacity;
    /* xrt only: the xclbin to load (required) and the device index (0 = first card). */
    const char *xclbin_path;
    unsigned xrt_device;
} ht_pipe_config;

/* Fills cfg with the defaults: sw backend, 4096 events. */
void ht_pipe_config_default(ht_pipe_config *cfg);

/* "sw", "verilator", "xrt" for a backend; NULL for an unknown value. */
const char *ht_pipe_backend_name(ht_pipe_backend backend);

/* Parses "sw" / "verilator" / "xrt" into *out; returns 0, or -1 with a message naming the text. */
int ht_pipe_backend_parse(const char *name, ht_pipe_backend *out, ht_error *err);

/* True when this build contains the backend (sw always; verilator and xrt when their tools were found). */
bool ht_pipe_backend_built(ht_pipe_backend backend);

typedef struct ht_pipe ht_pipe;

/* Opens a pipeline on the configured backend and resets it: empty book (A = B = C = V = S0 = 0), every band
 * open (the full range of its format), inventory and vol move 0, filters off, counters 0, clock 0.
 * Returns NULL with a message in err when the backend is not built, the configuration is invalid, or the
 * hardware is missing (xrt: no card, no XRT runtime, or an xclbin that does not load). */
ht_pipe *ht_pipe_create(const ht_pipe_config *cfg, ht_error *err);

/* Closes the backend and frees the pipe (NULL is allowed). */
void ht_pipe_destroy(ht_pipe *pipe);

/* The backend this pipe runs on. */
ht_pipe_backend ht_pipe_get_backend(const ht_pipe *pipe);

/* 0 while the hardware answers; -1 with a message naming the first failed access (a card's register read or
 * write, buffer sync, table DMA, or a busy bit that never cleared) once one has failed. Every call below that
 * takes an ht_error fails the same way from then on: a card's results are no longer trusted. The sw and
 * verilator backends never fail after create. Ticks and polls on the hot path do not check: call this (or any
 * control call) to find out. */
int ht_pipe_check(ht_pipe *pipe, ht_error *err);

/* ---- The greek table ------------------------------------------------------------------------------------- */

/* One position of the book as the slow path (hostsw/greeks) hands it over. The greeks are per unit of the
 * underlying (per 1 BTC of a BTC option) at the position's own reference spot; qty_x_mult scales them to
 * the position. */
typedef struct ht_pipe_position {
    unsigned underlying; /* 0 .. HT_PIPE_UNDERLYINGS-1 */
    double qty_x_mult;   /* signed quantity x contract multiplier (units of the underlying); finite */
    double delta;        /* d price / d S, per unit (Deribit's delta_total for inverse options); finite */
    double gamma;        /* d delta / d S, per USD; finite */
    double speed;        /* d gamma / d S, per USD^2; finite */
    double vanna;        /* d delta / d sigma, per unit of vol (sigma = 1.0 is 100 vol points); finite */
    double ref_spot_usd; /* S_i, the spot the greeks were computed at; 0 < S_i < 2^31 */
} ht_pipe_position;

/* A table entry in fixed point: what the hardware memory holds (delta..vanna already times qty_x_mult). */
typedef struct ht_fx_entry {
    int64_t delta;    /* delta format */
    int64_t gamma;    /* gamma format */
    int64_t speed;    /* speed format */
    int64_t vanna;    /* vanna format */
    int64_t ref_spot; /* price format */
    uint8_t underlying;
} ht_fx_entry;

/* Converts a position to its table entry: qty_x_mult times each greek in double, then each rounded to its
 * format. Returns 0, or -1 with a message naming position `index`, the field and the allowed range when a
 * value is NaN, infinite, out of its format's range, or the underlying / reference spot is invalid. */
int ht_pipe_position_to_fx(const ht_pipe_position *pos, size_t index, ht_fx_entry *out, ht_error *err);

/* Writes positions[0..n) into table entries first .. first+n-1 (converted as above). Waits (advancing the
 * simulated clock) for a running fold to finish first. Nothing is written when any position is invalid.
 * Entries take effect at the next commit. Returns 0 or -1 with a message. */
int ht_pipe_write_positions(ht_pipe *pipe, uint32_t first, const ht_pipe_position *positions, size_t n,
                            ht_error *err);

/* Same, with entries already in fixed point. */
int ht_pipe_write_entries_fx(ht_pipe *pipe, uint32_t first, const ht_fx_entry *entries, size_t n, ht_error *err);

/* Sets the reference spots S0 (USD, 0 <= S0 < 2^31; NULL keeps the staged values) and folds table entries
 * 0 .. count-1 into a new book in the background; it becomes active when the fold is done (count +
 * HT_PIPE_FOLD_EXTRA_CYCLES cycles later). Waits for a previous fold to finish first. */
int ht_pipe_commit(ht_pipe *pipe, uint32_t count, const double s0_usd[HT_PIPE_UNDERLYINGS], ht_error *err);

/* ht_pipe_write_positions(pipe, 0, positions, n) then ht_pipe_commit(pipe, n, s0_usd). */
int ht_pipe_load_book(ht_pipe *pipe, const ht_pipe_position *positions, size_t n,
                      const double s0_usd[HT_PIPE_UNDERLYINGS], ht_error *err);

/* Runs the clock until no fold is running and no tick is in flight (on a card: polls STATUS). */
int ht_pipe_sync(ht_pipe *pipe, ht_error *err);

/* ---- Per-underlying settings (each waits for in-flight ticks; band and inventory writes re-arm u) -------- */

/* Net-delta band in contracts, lo <= hi. */
int ht_pipe_set_band(ht_pipe *pipe, unsigned underlying, double lo_contracts, double hi_contracts, ht_error *err);
/* Net-gamma band in contracts per USD, lo <= hi (open by default). */
int ht_pipe_set_gamma_band(ht_pipe *pipe, unsigned underlying, double lo_per_usd, double hi_per_usd, ht_error *err);
/* Hedge inventory H in contracts of the underlying. */
int ht_pipe_set_inventory(ht_pipe *pipe, unsigned underlying, double contracts, ht_error *err);
/* Reference vol move d-sigma (absolute, 0.01 = one vol point); does not re-arm. */
int ht_pipe_set_vol_move(ht_pipe *pipe, unsigned underlying, double dsigma, ht_error *err);
/* Clears the mute of an underlying without changing its settings. */
int ht_pipe_rearm(ht_pipe *pipe, unsigned underlying, ht_error *err);

/* A second-order IIR low-pass in direct form I,  y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2],
 * quantised to the iir_coef format with unit DC gain exactly (b1 absorbs the rounding), so a constant price
 * passes unchanged. */
typedef struct ht_pipe_iir {
    int64_t coef_fx[5];   /* b0 b1 b2 a1 a2 in the iir_coef format */
    double coef[5];       /* the design, before quantisation (a0 = 1) */
} ht_pipe_iir;

/* Designs a Butterworth low-pass of order 1 or 2 with liquid-dsp (cutoff as a fraction of the tick rate,
 * 0 < cutoff < 0.5) and quantises it. Returns 0 or -1 with a message. */
int ht_pipe_iir_design_lowpass(unsigned order, double cutoff, ht_pipe_iir *out, ht_error *err);

/* Loads a filter for an underlying and turns it on (iir != NULL), or turns it off (iir == NULL). The filter
 * restarts: its first tick passes unchanged and primes its state. */
int ht_pipe_set_filter(ht_pipe *pipe, unsigned underlying, const ht_pipe_iir *iir, ht_error *err);

/* ---- Ticks and events (the hot path) --------------------------------------------------------------------- */

typedef struct ht_pipe_tick {
    unsigned underlying; /* 0 .. HT_PIPE_UNDERLYINGS-1 */
    uint64_t seq;        /* the feed's sequence number, carried into the event */
    double spot_usd;     /* the underlying's index price; finite, 0 < spot < 2^31 */
} ht_pipe_tick;

/* The same tick in fixed point, as it travels on s_axis. */
typedef struct ht_fx_tick {
    uint8_t underlying; /* values >= HT_PIPE_UNDERLYINGS are dropped and counted (bad_ticks) */
    uint64_t seq;
    int64_t price;      /* price format */
} ht_fx_tick;

/* Pushes one tick (one cycle). Returns 0, or -1 when the tick is refused before reaching the backend (spot
 * not finite or out of range, underlying out of range); refusals are counted in ticks_rejected. */
int ht_pipe_push_tick(ht_pipe *pipe, const ht_pipe_tick *tick);

/* Pushes one tick already in fixed point (one cycle); never refused. Returns 0. */
int ht_pipe_push_tick_fx(ht_pipe *pipe, const ht_fx_tick *tick);

/* A breach: the raw words from m_axis and their values in units. */
typedef struct ht_pipe_event {
    unsigned underlying;
    unsigned side;        /* HT_PIPE_SIDE_* bits: which bounds were crossed */
    uint64_t seq;         /* the tick's feed sequence number */
    int64_t price_fx;     /* the spot used (after the IIR), price format */
    int64_t net_delta_fx; /* delta format */
    int64_t net_gamma_fx; /* gamma format */
    uint64_t cycle_in;    /* clock cycle the tick was accepted */
    uint64_t cycle_out;   /* clock cycle the event left the pipeline */
    double spot_usd;
    double net_delta_contracts;
    double net_gamma_per_usd;
} ht_pipe_event;

/* Takes the oldest event that has left the pipeline. When there is none and ticks are still in flight, the
 * clock first runs until they are out. Returns 1 with *ev filled, or 0 when there is no event. */
int ht_pipe_poll_event(ht_pipe *pipe, ht_pipe_event *ev);

/* Lets the clock run for `cycles` cycles with no input (sw, verilator; a no-op on a card). */
void ht_pipe_idle(ht_pipe *pipe, uint64_t cycles);

/* ---- Registers and counters ------------------------------------------------------------------------------ */

typedef struct ht_pipe_counters {
    uint64_t cycles;       /* free-running cycle counter */
    uint64_t ticks;        /* ticks accepted */
    uint64_t events;       /* events emitted */
    uint64_t muted_ticks;  /* breaches suppressed while muted */
    uint64_t bad_ticks;    /* ticks dropped for an underlying index >= HT_PIPE_UNDERLYINGS */
    uint64_t generation;   /* books activated */
    uint32_t flags;        /* sticky HT_PIPE_FLAG_* bits */
    uint32_t muted_mask;   /* bit u: underlying u is muted */
    uint32_t iir_mask;     /* bit u: underlying u's filter is on */
    bool fold_busy;        /* a fold is running */
    /* Host side (not registers): */
    uint64_t ticks_rejected; /* ticks refused by ht_pipe_push_tick */
    uint64_t events_dropped; /* events lost because the event queue was full */
} ht_pipe_counters;

/* Reads every counter register (after in-flight ticks are out). Returns 0 or -1 with a message. */
int ht_pipe_read_counters(ht_pipe *pipe, ht_pipe_counters *out, ht_error *err);

/* Clears the sticky flags given in mask (HT_PIPE_FLAG_*). */
int ht_pipe_clear_flags(ht_pipe *pipe, uint32_t mask, ht_error *err);

/* An underlying's registers in fixed point. */
typedef struct ht_pipe_underlying_state {
    int64_t a, b, c, v, s0;              /* the active book: delta, gamma, speed, vanna formats; price */
    int64_t band_lo, band_hi;            /* delta format */
    int64_t gamma_lo, gamma_hi;          /* gamma format */
    int64_t inventory;                   /* delta format */
    int64_t vol_move;                    /* vol format */
} ht_pipe_underlying_state;

/* Reads an underlying's registers. Returns 0 or -1 with a message. */
int ht_pipe_read_underlying(ht_pipe *pipe, unsigned underlying, ht_pipe_underlying_state *out, ht_error *err);

/* Raw AXI4-Lite access to the register map of pipe_regs.h (32-bit words at 4-byte aligned addresses below
 * HT_PIPE_REG_SPACE); each waits for in-flight ticks first. Return 0 or -1 with a message. */
int ht_pipe_reg_write(ht_pipe *pipe, uint32_t addr, uint32_t value, ht_error *err);
int ht_pipe_reg_read(ht_pipe *pipe, uint32_t addr, uint32_t *value, ht_error *err);
/* A 64-bit register: LO then HI. */
int ht_pipe_reg_write64(ht_pipe *pipe, uint32_t addr, uint64_t value, ht_error *err);
int ht_pipe_reg_read64(ht_pipe *pipe, uint32_t addr, uint64_t *value, ht_error *err);

/* The simulated clock (sw, verilator): cycles elapsed since reset, without running it. */
uint64_t ht_pipe_now(const ht_pipe *pipe);

/* ---- The wire ingest (fpga/rtl/ht_wire.sv; its contract in hedgetrig/wire_regs.h) --------------------------
 *
 * In wire mode the pipeline reads Ethernet frames as they come off the MAC and makes its own ticks from
 * Deribit's price-index messages (template 1008): the host gives it frames (sw, verilator) or the card reads
 * the wire itself (xrt, with a network kernel), and only reads events. Frames and host ticks are not mixed
 * while a frame is inside the ingest. */

/* One beat of the MAC's AXI4-Stream (64 bits). */
typedef struct ht_wire_beat {
    uint8_t data[HT_PIPE_WIRE_BEAT_BYTES]; /* byte i = TDATA[8i+7:8i]; the frame's first byte in data[0] */
    uint8_t keep;                          /* TKEEP: 0xFF, or a run of ones from bit 0 on the last beat */
    bool last;                             /* TLAST */
    bool user;                             /* TUSER on the last beat: the MAC's bad-frame flag */
} ht_wire_beat;

/* What the ingest accepts and how it maps index names to underlyings. */
typedef struct ht_pipe_wire_config {
    /* (IPv4 destination, UDP destination port) pairs; port 0 leaves an entry off. The address in host
     * order (239.111.111.0 is 0xEF6F6F00). */
    uint32_t filter_addr[HT_PIPE_WIRE_FILTERS];
    uint16_t filter_port[HT_PIPE_WIRE_FILTERS];
    /* Deribit channelIds whose sequence is tracked; channel_on[k] enables entry k. */
    uint16_t channel[HT_PIPE_WIRE_CHANNELS];
    bool channel_on[HT_PIPE_WIRE_CHANNELS];
    /* Index name of each underlying as in template 1008 ("btc_usd"), NULL or "" for none; at most 16
     * printable ASCII characters. */
    const char *index_name[HT_PIPE_UNDERLYINGS];
} ht_pipe_wire_config;

/* Names of the ingest's counters (HT_PIPE_WIRE_CNT_*): "frames", "frames_ok", ..., "mac_error", ... */
const char *ht_pipe_wire_counter_name(unsigned counter);

/* True when this backend takes frames from the host (sw, verilator); false for xrt (its card reads the wire). */
bool ht_pipe_wire_pushable(const ht_pipe *pipe);

/* Writes the tables (every entry: unused ones are turned off), re-arms every channel and enables the ingest.
 * Returns 0, or -1 with a message naming the entry (an index name too long or not printable ASCII, a
 * channel or filter given twice). */
int ht_pipe_wire_configure(ht_pipe *pipe, const ht_pipe_wire_config *cfg, ht_error *err);

/* One beat (one cycle). Returns 0, or -1 when the backend takes no frames from the host. */
int ht_pipe_push_beat(ht_pipe *pipe, const ht_wire_beat *beat);

/* A whole frame, back to back: ceil(len / 8) beats (one empty beat when len is 0), TUSER on the last when
 * mac_error. Returns 0, or -1 when the backend takes no frames from the host. */
int ht_pipe_push_frame(ht_pipe *pipe, const uint8_t *frame, size_t len, bool mac_error);

/* Reads the ingest's counters (after it has come to rest). Returns 0 or -1 with a message. */
int ht_pipe_wire_read_counters(ht_pipe *pipe, uint32_t counters[HT_PIPE_WIRE_COUNTERS], ht_error *err);

/* Channels (bit k: entry k) that are stale after a gap, in *stale_mask. Returns 0 or -1. */
int ht_pipe_wire_stale(ht_pipe *pipe, uint32_t *stale_mask, ht_error *err);

/* Re-arms the channels of the mask (after the host has recovered them): their next frame sets the sequence. */
int ht_pipe_wire_rearm(ht_pipe *pipe, uint32_t channel_mask, ht_error *err);

/* Calls fn for every tick the ingest hands to the pipeline, with the cycle it enters (tests, benches; sw and
 * verilator). fn NULL removes it. Returns 0, or -1 when the backend cannot watch its ticks. */
typedef void (*ht_pipe_wire_tap)(void *ctx, uint64_t cycle, const ht_fx_tick *tick);
int ht_pipe_set_wire_tap(ht_pipe *pipe, ht_pipe_wire_tap fn, void *ctx);

#endif

/* SPDX-License-Identifier: MIT */
/* The pipeline's arithmetic, bit-exact with fpga/rtl: the aggregation fold, the IIR stage, the tick datapath. */
#ifndef HEDGETRIG_DRIVERS_FPGA_PIPE_MODEL_H
#define HEDGETRIG_DRIVERS_FPGA_PIPE_MODEL_H

/*
 * Each function states the RTL stage it mirrors: F stages of the aggregation fold (fpga/rtl/ht_fold.sv), S stages
 * of the tick datapath (fpga/rtl/ht_tick.sv). Every narrowing uses ht_fx_round_shift (round to nearest, ties up)
 * and every 64-bit result ht_fx_saturate, exactly as the RTL.
 * The shift amounts follow from the formats of fixed.h:
 *   speed(52) * price(32) = 84 fractional bits -> gamma(48): shift 36 (37 for the half)
 *   gamma(48) * price(32) = 80                 -> delta(32): shift 48
 *   vanna(32) * vol(56)   = 88                 -> delta(32): shift 56
 *   iir_coef(60) * price(32) = 92              -> price(32): shift 60
 */

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/fixed.h"
#include "hedgetrig/pipe.h"

enum {
    HT_MODEL_SHIFT_SPEED_TO_GAMMA = HT_FX_SPEED_FRAC + HT_FX_PRICE_FRAC - HT_FX_GAMMA_FRAC,
    HT_MODEL_SHIFT_GAMMA_TO_DELTA = HT_FX_GAMMA_FRAC + HT_FX_PRICE_FRAC - HT_FX_DELTA_FRAC,
    HT_MODEL_SHIFT_VANNA_TO_DELTA = HT_FX_VANNA_FRAC + HT_FX_VOL_FRAC - HT_FX_DELTA_FRAC,
    HT_MODEL_SHIFT_IIR = HT_FX_IIR_COEF_FRAC,
};

/* ---- Aggregation (the fold engine) --------------------------------------------------------------------- */

/* A folded book: A, B, C, V and S0 per underlying, and the flags the fold raised. */
typedef struct ht_model_book {
    int64_t a[HT_PIPE_UNDERLYINGS], b[HT_PIPE_UNDERLYINGS], c[HT_PIPE_UNDERLYINGS], v[HT_PIPE_UNDERLYINGS];
    int64_t s0[HT_PIPE_UNDERLYINGS];
    uint32_t flags;
} ht_model_book;

/* Re-centres one entry at s0 (fold stages F2..F8): its delta and gamma at s0. */
static inline void ht_model_recentre(const ht_fx_entry *e, int64_t s0, int64_t *delta0, int64_t *gamma0,
                                     uint32_t *flags)
{
    bool sat_gamma = false, sat_delta = false;
    int64_t h = ht_fx_saturate((ht_fx_wide)s0 - e->ref_spot, &sat_gamma);
    ht_fx_wide sh = (ht_fx_wide)e->speed * h;
    *gamma0 = ht_fx_saturate((ht_fx_wide)e->gamma + ht_fx_round_shift(sh, HT_MODEL_SHIFT_SPEED_TO_GAMMA), &sat_gamma);
    int64_t half = ht_fx_saturate((ht_fx_wide)e->gamma + ht_fx_round_shift(sh, HT_MODEL_SHIFT_SPEED_TO_GAMMA + 1),
                                  &sat_gamma);
    ht_fx_wide dd = (ht_fx_wide)half * h;
    *delta0 = ht_fx_saturate((ht_fx_wide)e->delta + ht_fx_round_shift(dd, HT_MODEL_SHIFT_GAMMA_TO_DELTA), &sat_delta);
    if (sat_gamma)
        *flags |= HT_PIPE_FLAG_FOLD_GAMMA;
    if (sat_delta)
        *flags |= HT_PIPE_FLAG_FOLD_DELTA;
}

/* Folds entries 0..count-1 into a book at the reference spots s0[] (entries of an underlying >= 16 are
 * skipped). The sums are exact (HT_FX_ACC_BITS bits suffice) and saturate once, at the end. */
void ht_model_fold(const ht_fx_entry *table, uint32_t count, const int64_t s0[HT_PIPE_UNDERLYINGS],
                   ht_model_book *out);

/* ---- The IIR stage (S1) ----------------------------------------------------------------------------------- */

typedef struct ht_model_iir {
    int64_t coef[5]; /* b0 b1 b2 a1 a2, clamped to [-2, 2) */
    int64_t x1, x2, y1, y2;
    bool enabled;
    bool primed;
} ht_model_iir;

/* Loads staged coefficients (clamping each to the usable range) and restarts the filter; returns the
 * flags raised (HT_PIPE_FLAG_IIR_COEF when a coefficient was clamped). */
static inline uint32_t ht_model_iir_load(ht_model_iir *f, const int64_t staged[5], bool enable)
{
    const int64_t limit = (int64_t)1 << (HT_FX_IIR_COEF_FRAC + HT_FX_IIR_COEF_LIMIT_LOG2);
    uint32_t flags = 0;
    for (int i = 0; i < 5; i++) {
        int64_t c = staged[i];
        if (c >= limit) {
            c = limit - 1;
            flags |= HT_PIPE_FLAG_IIR_COEF;
        } else if (c < -limit) {
            c = -limit;
            flags |= HT_PIPE_FLAG_IIR_COEF;
        }
        f->coef[i] = c;
    }
    f->enabled = enable;
    f->primed = false;
    f->x1 = f->x2 = f->y1 = f->y2 = 0;
    return flags;
}

/* One sample through the filter: the first sample after a load passes unchanged and fills the state. */
static inline int64_t ht_model_iir_step(ht_model_iir *f, int64_t x, uint32_t *flags)
{
    if (!f->primed) {
        f->primed = true;
        f->x1 = f->x2 = f->y1 = f->y2 = x;
        return x;
    }
    ht_fx_wide acc = (ht_fx_wide)f->coef[0] * x + (ht_fx_wide)f->coef[1] * f->x1 + (ht_fx_wide)f->coef[2] * f->x2 -
                     (ht_fx_wide)f->coef[3] * f->y1 - (ht_fx_wide)f->coef[4] * f->y2;
    bool sat = false;
    int64_t y = ht_fx_saturate(ht_fx_round_shift(acc, HT_MODEL_SHIFT_IIR), &sat);
    if (sat)
        *flags |= HT_PIPE_FLAG_IIR;
    f->x2 = f->x1;
    f->x1 = x;
    f->y2 = f->y1;
    f->y1 = y;
    return y;
}

/* ---- The tick datapath (S2..S9) ---------------------------------------------------------------------------- */

/* A + round(V * dsigma) + H, exact (stage S5 computes it per tick; the value only depends on registers). */
static inline ht_fx_wide ht_model_base(int64_t a, int64_t v, int64_t vol_move, int64_t inventory)
{
    return (ht_fx_wide)a + ht_fx_round_shift((ht_fx_wide)v * vol_move, HT_MODEL_SHIFT_VANNA_TO_DELTA) + inventory;
}

/* What a tick reads of its underlying (the registers of S1, and A + V*dsigma + H precomputed). */
typedef struct ht_model_tick_in {
    int64_t s0, b, c;              /* the active book */
    ht_fx_wide base;               /* ht_model_base of the active book and settings */
    int64_t band_lo, band_hi, gamma_lo, gamma_hi;
} ht_model_tick_in;

typedef struct ht_model_tick_out {
    int64_t price;     /* after the IIR */
    int64_t net_delta;
    int64_t net_gamma;
    unsigned side;     /* HT_PIPE_SIDE_* */
} ht_model_tick_out;

/* One tick: IIR (when enabled), dS, net gamma, net delta, band compare. Raises flags on saturation. */
static inline void ht_model_tick(int64_t tick_price, const ht_model_tick_in *in, ht_model_iir *iir,
                                 ht_model_tick_out *out, uint32_t *flags)
{
    int64_t price = HT_UNLIKELY(iir->enabled) ? ht_model_iir_step(iir, tick_price, flags) : tick_price;
    bool sat_ds = false, sat_gamma = false, sat_delta = false;
    /* S2: dS (saturating: an overflow of the 64-bit difference can only go one way for each sign) */
    int64_t ds;
    if (HT_UNLIKELY(__builtin_sub_overflow(price, in->s0, &ds))) {
        sat_ds = true;
        ds = price < 0 ? INT64_MIN : INT64_MAX;
    }
    /* S3-S4: C * dS;  S5: net gamma and B + C*dS/2 */
    ht_fx_wide cds = (ht_fx_wide)in->c * ds;
    int64_t net_gamma =
        ht_fx_saturate((ht_fx_wide)in->b + ht_fx_round_shift(cds, HT_MODEL_SHIFT_SPEED_TO_GAMMA), &sat_gamma);
    int64_t slope =
        ht_fx_saturate((ht_fx_wide)in->b + ht_fx_round_shift(cds, HT_MODEL_SHIFT_SPEED_TO_GAMMA + 1), &sat_gamma);
    /* S6-S7: slope * dS;  S8: net delta */
    ht_fx_wide move = ht_fx_round_shift((ht_fx_wide)slope * ds, HT_MODEL_SHIFT_GAMMA_TO_DELTA);
    int64_t net_delta = ht_fx_saturate(in->base + move, &sat_delta);
    /* S9: band compare (inside both bands is the common case) */
    unsigned side = 0;
    if (HT_UNLIKELY(net_delta < in->band_lo || net_delta > in->band_hi || net_gamma < in->gamma_lo ||
                    net_gamma > in->gamma_hi))
        side = (net_delta < in->band_lo ? HT_PIPE_SIDE_DELTA_LO : 0u) |
               (net_delta > in->band_hi ? HT_PIPE_SIDE_DELTA_HI : 0u) |
               (net_gamma < in->gamma_lo ? HT_PIPE_SIDE_GAMMA_LO : 0u) |
               (net_gamma > in->gamma_hi ? HT_PIPE_SIDE_GAMMA_HI : 0u);
    if (HT_UNLIKELY(sat_ds | sat_gamma | sat_delta))
        *flags |= (sat_ds ? HT_PIPE_FLAG_TICK_DS : 0u) | (sat_gamma ? HT_PIPE_FLAG_TICK_GAMMA : 0u) |
                  (sat_delta ? HT_PIPE_FLAG_TICK_DELTA : 0u);
    out->price = price;
    out->net_delta = net_delta;
    out->net_gamma = net_gamma;
    out->side = side;
}

#endif

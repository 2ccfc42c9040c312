/* SPDX-License-Identifier: MIT */
/* The fixed-point formats of the hedge-trigger pipeline: the single source of truth for the C model and the RTL. */
#ifndef HEDGETRIG_FIXED_H
#define HEDGETRIG_FIXED_H

/*
 * Every quantity the pipeline touches is a two's-complement signed integer of HT_FX_WORD_BITS bits that
 * stands for  value = integer * 2^-FRAC_BITS.  A format is therefore named by its fractional bit count;
 * "Qm.f" below means m integer bits (sign excluded) and f fractional bits, m + f + 1 = 64.
 *
 *   format     unit                       Q       range (exclusive top)    resolution (1 LSB)
 *   ---------  -------------------------  ------  -----------------------  --------------------
 *   price      USD (quote currency)       Q31.32  +-2.147e9                2.33e-10 USD
 *   delta      contracts (underlying)     Q31.32  +-2.147e9                2.33e-10 contracts
 *   gamma      contracts per USD          Q15.48  +-32768                  3.55e-15 contracts/USD
 *   speed      contracts per USD^2        Q11.52  +-2048                   2.22e-16 contracts/USD^2
 *   vanna      contracts per unit vol     Q31.32  +-2.147e9                2.33e-10 contracts
 *   vol        vol move d-sigma (1 = 100 vol points)  Q7.56  +-128          1.39e-17
 *   band       = delta (net-delta band lo/hi);  the gamma band uses the gamma format
 *   inventory  = delta (hedge inventory H, contracts of the underlying)
 *   iir_coef   IIR filter coefficient     Q3.60   [-2, 2) (clamped)        8.67e-19
 *
 * "delta" is a position's delta times its signed quantity times its contract multiplier: contracts of the
 * underlying (BTC for a BTC option). Net delta, the band, the inventory H and the aggregate A share it.
 * Gamma, speed and vanna are the same products for the higher greeks, per USD of the underlying's index.
 *
 * Why these widths (the error budget is worked through in fpga/README.md): BTC between 10k and 200k USD and
 * 4096 positions of up to +-1000 contracts each must give a net delta within 1e-6 contracts per position of
 * the same formula in double. Price and delta need 2^-32 to keep a 200k USD spot exact to 1e-9; gamma needs
 * 2^-48 because it is multiplied by a spot move of up to 2e4 USD; speed needs 2^-52 because it is multiplied
 * by the square of that move. The vol move carries 56 fractional bits so that V * dsigma stays exact to
 * 2^-32 contracts for any vanna below 2^24.
 *
 * Rules, identical in the C model (drivers/fpga) and the RTL (fpga/rtl/ht_pkg.sv):
 *   - Rounding: every narrowing (a product shifted back to a format, a double converted to a format) rounds
 *     to nearest with ties toward +infinity: floor(x * 2^f + 1/2). In integers: (x + 2^(s-1)) >> s with an
 *     arithmetic shift. It is one adder in hardware and it is the same on both sides bit for bit.
 *   - Saturation: a result that does not fit its 64-bit format is clamped to [INT64_MIN, INT64_MAX] and sets
 *     a sticky overflow flag (HT_PIPE_FLAG_* in pipe_regs.h) that stays set until the host clears it.
 *     Nothing ever wraps.
 *   - Intermediate products are exact (64 x 64 -> 128 bits); sums of up to four terms are exact in 128
 *     bits; the aggregation accumulators are HT_FX_ACC_BITS wide, enough for HT_PIPE_TABLE_DEPTH terms
 *     of 64 bits without overflow, and saturate once when narrowed to 64 bits.
 *   - Host conversion from double (ht_fx_from_double): NaN is an error; +-infinity and finite values out of
 *     range saturate and are reported, so a caller can refuse them with a message.
 *
 * Each HT_FX_* constant below is mirrored as a localparam of the same name in fpga/rtl/ht_pkg.sv; the test
 * tests/pipe/test_fixed.c parses both files and fails if they differ.
 */

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define HT_FX_WORD_BITS 64        /* every format's container */
#define HT_FX_ACC_BITS 80         /* aggregation accumulators: 64 + log2(HT_PIPE_TABLE_DEPTH) */
#define HT_FX_PRICE_FRAC 32       /* price: USD, Q31.32 */
#define HT_FX_DELTA_FRAC 32       /* delta, band, inventory: contracts, Q31.32 */
#define HT_FX_GAMMA_FRAC 48       /* gamma, gamma band: contracts per USD, Q15.48 */
#define HT_FX_SPEED_FRAC 52       /* speed: contracts per USD^2, Q11.52 */
#define HT_FX_VANNA_FRAC 32       /* vanna: contracts per unit of vol, Q31.32 */
#define HT_FX_VOL_FRAC 56         /* vol move d-sigma: Q7.56 (1.0 = 100 vol points) */
#define HT_FX_IIR_COEF_FRAC 60    /* IIR coefficient: Q3.60, usable range [-2, 2) */
#define HT_FX_IIR_COEF_LIMIT_LOG2 1 /* |coefficient| < 2^1: five products of 64 x 64 bits then fit 128 bits */

/* The band and the inventory are delta-valued; the gamma band is gamma-valued. */
#define HT_FX_BAND_FRAC HT_FX_DELTA_FRAC
#define HT_FX_INVENTORY_FRAC HT_FX_DELTA_FRAC

/* Outcome of converting a double to a format. */
typedef enum ht_fx_status {
    HT_FX_OK = 0,        /* exact or rounded to nearest */
    HT_FX_SATURATED = 1, /* out of range (or infinite): clamped to the format's limit */
    HT_FX_NAN = 2,       /* not a number: *out set to 0; callers must refuse it */
} ht_fx_status;

/* Converts x to a 64-bit signed fixed-point word with frac_bits fractional bits (0..62), rounding to nearest
 * with ties toward +infinity and saturating at INT64_MIN / INT64_MAX. *out is always written. */
static inline ht_fx_status ht_fx_from_double(double x, unsigned frac_bits, int64_t *out)
{
    if (isnan(x)) {
        *out = 0;
        return HT_FX_NAN;
    }
    double scaled = ldexp(x, (int)frac_bits); /* exact: a power-of-two scale */
    /* 2^63 is exactly representable; anything at or beyond it does not fit. */
    if (scaled >= 9223372036854775808.0) {
        *out = INT64_MAX;
        return HT_FX_SATURATED;
    }
    if (scaled < -9223372036854775808.0) {
        *out = INT64_MIN;
        return HT_FX_SATURATED;
    }
    /* floor() and the difference are exact for every double, so ties are decided without double rounding. */
    double whole = floor(scaled);
    int64_t v = (int64_t)whole;
    if (scaled - whole >= 0.5) {
        if (v == INT64_MAX) {
            *out = INT64_MAX;
            return HT_FX_SATURATED;
        }
        v += 1;
    }
    *out = v;
    return HT_FX_OK;
}

/* The value a fixed-point word stands for (exact when |v| < 2^53, otherwise correctly rounded). */
static inline double ht_fx_to_double(int64_t v, unsigned frac_bits)
{
    return ldexp((double)v, -(int)frac_bits);
}

/* One LSB of a format, as a double. */
static inline double ht_fx_lsb(unsigned frac_bits)
{
    return ldexp(1.0, -(int)frac_bits);
}

#if defined(__SIZEOF_INT128__)
/* 128-bit signed integer: exact products of two 64-bit words. */
typedef __int128 ht_fx_wide;

/* Rounds x * 2^-shift to nearest, ties toward +infinity (shift 1..126): (x + 2^(shift-1)) >> shift. */
static inline ht_fx_wide ht_fx_round_shift(ht_fx_wide x, unsigned shift)
{
    return (x + ((ht_fx_wide)1 << (shift - 1))) >> shift;
}

/* Clamps x to a 64-bit word; sets *saturated (never clears it) when x did not fit. */
static inline int64_t ht_fx_saturate(ht_fx_wide x, bool *saturated)
{
    int64_t low = (int64_t)x; /* fits exactly when sign-extending the low word gives x back */
    if (__builtin_expect((ht_fx_wide)low == x, 1))
        return low;
    *saturated = true;
    return x < 0 ? INT64_MIN : INT64_MAX;
}
#else
#error "hedgetrig's fixed-point model needs a compiler with 128-bit integers (gcc or clang on a 64-bit target)"
#endif

#endif

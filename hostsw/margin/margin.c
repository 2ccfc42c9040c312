/* SPDX-License-Identifier: MIT */
/* Deribit's standard margin per position, the parameters of both models, and a position's value under a move
 * (docs/margin.md gives the pages each rule comes from). */
#include <math.h>
#include <string.h>

#include "hedgetrig/black76.h"
#include "hedgetrig/margin.h"
#include "hedgetrig/units.h"
#include "margin_priv.h"

void ht_margin_params_default(ht_margin_params *p)
{
    static const double extended[] = {-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0};
    memset(p, 0, sizeof *p);
    /* Options: Deribit's standard margin for inverse options (issue 16; doc.tslab.pro's copy of Deribit's rules,
     * "Deribit Margin Requirements Calculation"). */
    p->opt_im_rate = 0.15;
    p->opt_im_floor_rate = 0.10;
    p->opt_mm_rate = 0.075;
    /* Futures: test.deribit.com/pages/docs/futures (inverse: IM 2 % + 0.5 % per 100 BTC, MM 1.5 % + 0.5 % per
     * 100 BTC); support.deribit.com "Linear Perpetual" (IM 2 % + 0.005 % per BTC, MM 1 % + 0.005 % per BTC). */
    p->fut_inverse_im_base = 0.02;
    p->fut_inverse_mm_base = 0.015;
    p->fut_linear_im_base = 0.02;
    p->fut_linear_mm_base = 0.01;
    p->fut_slope_per_coin = 0.00005;
    /* Portfolio margin: docs.deribit.com private/pme/simulate's model_params for btc_usd (price_range 0.16,
     * buckets_count 4, volatility_range_up 0.5, volatility_range_down 0.25, min_volatility_for_shock_up 0.5,
     * short_term_vega_power 0.3, long_term_vega_power 0.13, mm_factor 0.8); the extended table's moves from
     * support.deribit.com "Portfolio Margin"; the contingencies from deribit.com/pages/docs/portfoliomargin. */
    p->pm_price_range = 0.16;
    p->pm_price_steps = 4;
    p->pm_vol_range_up = 0.5;
    p->pm_vol_range_down = 0.25;
    p->pm_min_vol_shock_up = 0.5;
    p->pm_short_vega_power = 0.3;
    p->pm_long_vega_power = 0.13;
    p->pm_mm_factor = 0.8;
    p->pm_short_option_contingency_coin = 0.01;
    p->pm_futures_offset_contingency = 0.01;
    p->pm_extended_count = HT_ARRAY_LEN(extended);
    memcpy(p->pm_extended_moves, extended, sizeof extended);
    p->pm_extended_fraction = 0.0;
    p->min_vol = 1e-4;
}

/* -1 with a message unless lo <= v <= hi and v is finite. */
static int check_range(double v, double lo, double hi, const char *name, ht_error *err)
{
    if (!isfinite(v) || v < lo || v > hi)
        return ht_error_set(err, "margin parameter %s = %g: expected a number in [%g, %g]", name, v, lo, hi);
    return 0;
}

int ht_margin_params_check(const ht_margin_params *p, ht_error *err)
{
    if (check_range(p->opt_im_rate, 0, 10, "opt_im_rate", err) ||
        check_range(p->opt_im_floor_rate, 0, 10, "opt_im_floor_rate", err) ||
        check_range(p->opt_mm_rate, 0, 10, "opt_mm_rate", err) ||
        check_range(p->fut_inverse_im_base, 0, 1, "fut_inverse_im_base", err) ||
        check_range(p->fut_inverse_mm_base, 0, 1, "fut_inverse_mm_base", err) ||
        check_range(p->fut_linear_im_base, 0, 1, "fut_linear_im_base", err) ||
        check_range(p->fut_linear_mm_base, 0, 1, "fut_linear_mm_base", err) ||
        check_range(p->fut_slope_per_coin, 0, 1, "fut_slope_per_coin", err) ||
        check_range(p->pm_price_range, 1e-6, 0.99, "pm_price_range", err) ||
        check_range(p->pm_vol_range_up, 0, 100, "pm_vol_range_up", err) ||
        check_range(p->pm_vol_range_down, 0, 100, "pm_vol_range_down", err) ||
        check_range(p->pm_min_vol_shock_up, 0, 100, "pm_min_vol_shock_up", err) ||
        check_range(p->pm_short_vega_power, 0, 10, "pm_short_vega_power", err) ||
        check_range(p->pm_long_vega_power, 0, 10, "pm_long_vega_power", err) ||
        check_range(p->pm_mm_factor, 1e-6, 10, "pm_mm_factor", err) ||
        check_range(p->pm_short_option_contingency_coin, 0, 100, "pm_short_option_contingency_coin", err) ||
        check_range(p->pm_futures_offset_contingency, 0, 1, "pm_futures_offset_contingency", err) ||
        check_range(p->pm_extended_fraction, 0, 1, "pm_extended_fraction", err) ||
        check_range(p->min_vol, 1e-8, 1, "min_vol", err))
        return -1;
    if (p->pm_price_steps < 1 || p->pm_price_steps > HT_MARGIN_PM_MAX_STEPS)
        return ht_error_set(err, "margin parameter pm_price_steps = %u: expected 1..%d", p->pm_price_steps,
                            HT_MARGIN_PM_MAX_STEPS);
    if (p->pm_extended_count > HT_MARGIN_PM_MAX_EXTENDED)
        return ht_error_set(err, "margin parameter pm_extended_count = %zu: expected at most %d",
                            p->pm_extended_count, HT_MARGIN_PM_MAX_EXTENDED);
    for (size_t i = 0; i < p->pm_extended_count; i++)
        if (check_range(p->pm_extended_moves[i], -0.99, 100, "pm_extended_moves", err))
            return -1;
    return 0;
}

bool ht_margin_settles_in_coin(const ht_instrument_spec *spec)
{
    return spec->inverse;
}

/* The contract of a book position, for the conversions of hedgetrig/units.h. */
ht_contract margin_contract(const ht_instrument_spec *spec)
{
    ht_contract c = {spec->size_in_coin ? HT_CONTRACT_LINEAR : HT_CONTRACT_INVERSE, spec->contract_size};
    return c;
}

/* True when x is a finite number > 0. */
static bool positive(double x)
{
    return isfinite(x) && x > 0.0;
}

/* Standard margin of a short option per coin of underlying, in its quote currency (coin for inverse, USDC for
 * linear): mark in that currency, s_usd the underlying price. */
static void option_margin_per_coin(const ht_margin_params *p, ht_b76_type type, bool inverse, double strike_usd,
                                   double s_usd, double mark, double *im, double *mm)
{
    const double otm_usd = type == HT_B76_CALL ? fmax(strike_usd - s_usd, 0.0) : fmax(s_usd - strike_usd, 0.0);
    /* Inverse: fractions of one coin; linear: the same fractions of the underlying's USDC value. */
    const double unit = inverse ? 1.0 : s_usd;
    const double otm = inverse ? otm_usd / s_usd : otm_usd;
    *im = fmax(p->opt_im_rate * unit - otm, p->opt_im_floor_rate * unit) + mark;
    if (type == HT_B76_CALL) {
        *mm = p->opt_mm_rate * unit + mark;
    } else {
        *mm = fmax(p->opt_mm_rate * unit, p->opt_mm_rate * mark) + mark;
        *im = fmax(*im, *mm);
    }
}

/* Standard margin of a future or perpetual: rate = base + slope x |position in coin|, on the position's value
 * (inverse: coin at the mark; linear: USDC at the index). */
static int future_margin(const ht_margin_params *p, const ht_margin_position *pos, ht_margin_figures *out,
                         ht_error *err)
{
    const ht_instrument_spec *s = pos->spec;
    const ht_contract c = margin_contract(s);
    if (!positive(pos->mark))
        return ht_error_set(err, "%s: mark %g: expected a positive price", s->name, pos->mark);
    const double position_coin = fabs(ht_units_contracts_to_coin(&c, pos->qty_contracts, pos->mark));
    const bool inverse = ht_margin_settles_in_coin(s);
    const double im_rate = (inverse ? p->fut_inverse_im_base : p->fut_linear_im_base) +
                           p->fut_slope_per_coin * position_coin;
    const double mm_rate = (inverse ? p->fut_inverse_mm_base : p->fut_linear_mm_base) +
                           p->fut_slope_per_coin * position_coin;
    double value = position_coin;
    if (!inverse) {
        if (!positive(pos->index_usd))
            return ht_error_set(err, "%s: index %g: expected a positive price", s->name, pos->index_usd);
        value = position_coin * pos->index_usd;
    }
    out->initial = im_rate * value;
    out->maintenance = mm_rate * value;
    return 0;
}

int ht_margin_standard_position(const ht_margin_params *p, const ht_margin_position *pos, ht_margin_figures *out,
                                ht_error *err)
{
    const ht_instrument_spec *s = pos->spec;
    out->initial = out->maintenance = 0.0;
    out->coin = ht_margin_settles_in_coin(s);
    if (!isfinite(pos->qty_contracts))
        return ht_error_set(err, "%s: quantity %g: expected a finite number", s->name, pos->qty_contracts);
    switch (s->kind) {
    case HT_POS_SPOT:
        return 0;
    case HT_POS_FUTURE:
    case HT_POS_PERPETUAL:
        return future_margin(p, pos, out, err);
    case HT_POS_OPTION:
        break;
    default:
        return ht_error_set(err, "%s: a position of kind %d is not margined", s->name, (int)s->kind);
    }
    if (!isfinite(pos->mark) || pos->mark < 0.0)
        return ht_error_set(err, "%s: mark %g: expected a price >= 0", s->name, pos->mark);
    if (!positive(pos->underlying_usd))
        return ht_error_set(err, "%s: underlying price %g: expected a positive price", s->name, pos->underlying_usd);
    if (pos->qty_contracts >= 0.0)
        return 0; /* long: the premium was paid, no margin */
    const double qty_coin = fabs(pos->qty_contracts * s->contract_size);
    double im, mm;
    option_margin_per_coin(p, s->option_type, s->inverse, s->strike, pos->underlying_usd, pos->mark, &im, &mm);
    out->initial = im * qty_coin;
    out->maintenance = mm * qty_coin;
    return 0;
}

/* An option's model price per coin in its quote currency at forward f and vol sigma (inverse: / f). */
static double option_model_price(const ht_margin_position *pos, double f, double sigma)
{
    const ht_instrument_spec *s = pos->spec;
    const double usd = ht_b76_price(s->option_type, f, s->strike, pos->t_years, sigma, 0.0);
    return s->inverse ? usd / f : usd;
}

double margin_option_mark(const ht_margin_position *pos, double spot_move_rel, double vol_shift, double min_vol)
{
    if (spot_move_rel == 0.0 && vol_shift == 0.0)
        return pos->mark;
    const double f0 = pos->underlying_usd;
    const double base = option_model_price(pos, f0, pos->iv);
    const double moved = option_model_price(pos, f0 * (1.0 + spot_move_rel), fmax(pos->iv + vol_shift, min_vol));
    /* The mark moved by the model's change, so the unmoved market is the mark itself (a fallback vol's model
     * price need not equal it). */
    return fmax(pos->mark + moved - base, 0.0);
}

double ht_margin_position_value(const ht_margin_position *pos, double spot_move_rel, double vol_shift,
                                double min_vol)
{
    const ht_instrument_spec *s = pos->spec;
    const ht_contract c = margin_contract(s);
    const double k = 1.0 + spot_move_rel;
    switch (s->kind) {
    case HT_POS_OPTION: {
        const double f = pos->underlying_usd * k;
        const double price = option_model_price(pos, f, fmax(pos->iv + vol_shift, min_vol));
        return price * pos->qty_contracts * s->contract_size;
    }
    case HT_POS_FUTURE:
    case HT_POS_PERPETUAL:
        /* Inverse: a USD-sized contract is worth -size / mark coin (its P&L is size (1/F0 - 1/F)); linear:
         * contracts x size coins at the mark. */
        if (c.kind == HT_CONTRACT_INVERSE)
            return -ht_units_contracts_to_coin(&c, pos->qty_contracts, pos->mark * k);
        return ht_units_contracts_to_usd(&c, pos->qty_contracts, pos->mark * k);
    default:
        return 0.0;
    }
}

/* A position's inputs moved by a shift, for standard margin: the option's mark by the model's change, the
 * underlying, index and futures' marks by the move. */
ht_margin_position margin_shifted(const ht_margin_position *pos, const ht_margin_shift *shift, double min_vol)
{
    ht_margin_position moved = *pos;
    if (!shift || (shift->spot_move_rel == 0.0 && shift->vol_shift == 0.0))
        return moved;
    const double k = 1.0 + shift->spot_move_rel;
    if (pos->spec->kind == HT_POS_OPTION) {
        moved.mark = margin_option_mark(pos, shift->spot_move_rel, shift->vol_shift, min_vol);
        moved.iv = fmax(pos->iv + shift->vol_shift, min_vol);
    } else {
        moved.mark = pos->mark * k;
    }
    moved.underlying_usd = pos->underlying_usd * k;
    moved.index_usd = pos->index_usd * k;
    return moved;
}

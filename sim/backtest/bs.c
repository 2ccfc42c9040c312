/* SPDX-License-Identifier: MIT */
/* Black-Scholes price and greeks of European options (the hedger's model in the backtest). */
#include <math.h>

#include "hedgetrig/backtest.h"

/* Standard normal density. */
static double norm_pdf(double x)
{
    return 0.39894228040143267794 * exp(-0.5 * x * x);
}

/* Standard normal distribution function, accurate in both tails (erfc). */
static double norm_cdf(double x)
{
    return 0.5 * erfc(-x * 0.70710678118654752440);
}

void ht_bt_bs_eval(bool is_call, double spot, double strike, double tau_years, double rate, double vol,
                   ht_bt_bs *out)
{
    if (!(tau_years > 0.0)) {
        double intrinsic = is_call ? spot - strike : strike - spot;
        out->price = intrinsic > 0.0 ? intrinsic : 0.0;
        out->delta = intrinsic > 0.0 ? (is_call ? 1.0 : -1.0) : 0.0;
        out->gamma = out->vega = out->vanna = 0.0;
        return;
    }
    double sd = vol * sqrt(tau_years);
    double d1 = (log(spot / strike) + (rate + 0.5 * vol * vol) * tau_years) / sd;
    double d2 = d1 - sd;
    double pdf = norm_pdf(d1);
    double disc_strike = strike * exp(-rate * tau_years);
    if (is_call) {
        out->price = spot * norm_cdf(d1) - disc_strike * norm_cdf(d2);
        out->delta = norm_cdf(d1);
    } else {
        out->price = disc_strike * norm_cdf(-d2) - spot * norm_cdf(-d1);
        out->delta = -norm_cdf(-d1);
    }
    out->gamma = pdf / (spot * sd);
    out->vega = spot * pdf * sqrt(tau_years);
    out->vanna = -pdf * d2 / vol;
}

double ht_bt_derman_kamal_std(double vol, double vega, unsigned rebalances)
{
    return vol * vega * sqrt(M_PI / (4.0 * (double)(rebalances ? rebalances : 1)));
}

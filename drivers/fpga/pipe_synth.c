/* SPDX-License-Identifier: MIT */
/* Synthetic Black-Scholes books for the pipeline's tests and benchmarks. */
#include <math.h>

#include "hedgetrig/pipe_synth.h"

/* Standard normal density. */
static double norm_pdf(double x)
{
    return exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}

/* Standard normal distribution function. */
static double norm_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

void ht_synth_book(ht_rng *rng, const ht_synth_book_params *params, ht_pipe_position *positions, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double s = params->s0_usd * (1.0 + ht_rng_uniform(rng, -params->ref_spread, params->ref_spread));
        double k = params->s0_usd * exp(ht_rng_uniform(rng, -0.3, 0.3));
        double t = ht_rng_uniform(rng, 1.0 / 365.0, 1.0);
        double sigma = ht_rng_uniform(rng, 0.3, 1.2);
        bool call = (ht_rng_next(rng) & 1u) != 0;
        double qty = ht_rng_uniform(rng, 0.1, params->max_abs_qty) * ((ht_rng_next(rng) & 1u) ? 1.0 : -1.0);
        double vol_t = sigma * sqrt(t);
        double d1 = (log(s / k) + 0.5 * sigma * sigma * t) / vol_t;
        double d2 = d1 - vol_t;
        double gamma = norm_pdf(d1) / (s * vol_t);
        positions[i] = (ht_pipe_position){
            .underlying = params->underlying,
            .qty_x_mult = qty,
            .delta = call ? norm_cdf(d1) : norm_cdf(d1) - 1.0,
            .gamma = gamma,
            .speed = -gamma / s * (d1 / vol_t + 1.0),
            .vanna = -norm_pdf(d1) * d2 / sigma,
            .ref_spot_usd = s,
        };
    }
}

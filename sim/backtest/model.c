/* SPDX-License-Identifier: MIT */
/* Path models of the backtest: GBM, Merton's jump diffusion and Heston (Andersen's QE scheme). */
#include <math.h>

#include "hedgetrig/backtest.h"

/* Andersen's switching level between the quadratic and the exponential branch of QE. */
#define QE_PSI_SWITCH 1.5

int ht_bt_model_check(const ht_bt_model *m, ht_error *err)
{
    if (!isfinite(m->mu))
        return ht_error_set(err, "model: mu must be finite");
    switch (m->kind) {
    case HT_BT_MERTON:
        if (!(isfinite(m->jump_rate) && m->jump_rate >= 0.0 && m->jump_rate <= 1e4))
            return ht_error_set(err, "model merton: jump rate must be in [0, 1e4] per year, got %g", m->jump_rate);
        if (!isfinite(m->jump_mean) || fabs(m->jump_mean) > 5.0)
            return ht_error_set(err, "model merton: mean log jump must be in [-5, 5], got %g", m->jump_mean);
        if (!(isfinite(m->jump_std) && m->jump_std >= 0.0 && m->jump_std <= 5.0))
            return ht_error_set(err, "model merton: log jump std must be in [0, 5], got %g", m->jump_std);
        __attribute__((fallthrough)); /* the diffusion part is a GBM */
    case HT_BT_GBM:
        if (!(isfinite(m->sigma) && m->sigma > 0.0 && m->sigma <= 10.0))
            return ht_error_set(err, "model: sigma must be in (0, 10], got %g", m->sigma);
        return 0;
    case HT_BT_HESTON:
        if (!(isfinite(m->v0) && m->v0 >= 0.0 && m->v0 <= 25.0))
            return ht_error_set(err, "model heston: v0 must be in [0, 25], got %g", m->v0);
        if (!(isfinite(m->kappa) && m->kappa > 0.0 && m->kappa <= 1000.0))
            return ht_error_set(err, "model heston: kappa must be in (0, 1000], got %g", m->kappa);
        if (!(isfinite(m->theta) && m->theta > 0.0 && m->theta <= 25.0))
            return ht_error_set(err, "model heston: theta must be in (0, 25], got %g", m->theta);
        if (!(isfinite(m->xi) && m->xi > 0.0 && m->xi <= 100.0))
            return ht_error_set(err, "model heston: xi (vol of vol) must be in (0, 100], got %g", m->xi);
        if (!(isfinite(m->rho) && m->rho >= -1.0 && m->rho <= 1.0))
            return ht_error_set(err, "model heston: rho must be in [-1, 1], got %g", m->rho);
        return 0;
    }
    return ht_error_set(err, "model: unknown kind %d", (int)m->kind);
}

/* Draws a Poisson count of the given mean by inversion (the means here are small: jumps per step). */
static unsigned poisson(double mean, ht_bt_rng *rng)
{
    double u = ht_bt_rng_uniform(rng);
    double p = exp(-mean), cdf = p;
    unsigned n = 0;
    while (u > cdf && n < 10000) {
        n++;
        p *= mean / n;
        cdf += p;
        if (p < 1e-300 && cdf < u) /* the tail underflowed: u sits in the rounding gap of the cdf */
            break;
    }
    return n;
}

/* One Heston step by Andersen's QE scheme ("Efficient simulation of the Heston stochastic volatility model",
 * J. Comput. Finance 11(3), 2008): variance by moment matching, log-spot by his equation (33). */
static void heston_step(const ht_bt_model *m, ht_bt_state *st, double dt, ht_bt_rng *rng)
{
    double v = st->var;
    double e = exp(-m->kappa * dt);
    double xi2 = m->xi * m->xi;
    double mean = m->theta + (v - m->theta) * e;
    double var = v * xi2 * e * (1.0 - e) / m->kappa + m->theta * xi2 * (1.0 - e) * (1.0 - e) / (2.0 * m->kappa);
    double psi = var / (mean * mean);
    double v_next;
    if (psi <= QE_PSI_SWITCH) {
        double two_over_psi = 2.0 / psi;
        double b2 = two_over_psi - 1.0 + sqrt(two_over_psi) * sqrt(two_over_psi - 1.0);
        double a = mean / (1.0 + b2);
        double z = sqrt(b2) + ht_bt_rng_normal(rng);
        v_next = a * z * z;
    } else {
        double p = (psi - 1.0) / (psi + 1.0);
        double beta = (1.0 - p) / mean;
        double u = ht_bt_rng_uniform(rng);
        v_next = u <= p ? 0.0 : log((1.0 - p) / (1.0 - u)) / beta;
    }
    const double g1 = 0.5, g2 = 0.5;
    double k0 = -m->rho * m->kappa * m->theta * dt / m->xi;
    double k1 = g1 * dt * (m->kappa * m->rho / m->xi - 0.5) - m->rho / m->xi;
    double k2 = g2 * dt * (m->kappa * m->rho / m->xi - 0.5) + m->rho / m->xi;
    double k3 = g1 * dt * (1.0 - m->rho * m->rho);
    double k4 = g2 * dt * (1.0 - m->rho * m->rho);
    double diffusion = k3 * v + k4 * v_next;
    double log_step = m->mu * dt + k0 + k1 * v + k2 * v_next + sqrt(diffusion > 0.0 ? diffusion : 0.0) *
                                                                    ht_bt_rng_normal(rng);
    st->spot *= exp(log_step);
    st->var = v_next;
}

void ht_bt_model_step(const ht_bt_model *m, ht_bt_state *st, double dt, ht_bt_rng *rng)
{
    switch (m->kind) {
    case HT_BT_HESTON:
        heston_step(m, st, dt, rng);
        return;
    case HT_BT_MERTON: {
        double k = exp(m->jump_mean + 0.5 * m->jump_std * m->jump_std) - 1.0; /* mean relative jump */
        double log_step = (m->mu - m->jump_rate * k - 0.5 * m->sigma * m->sigma) * dt +
                          m->sigma * sqrt(dt) * ht_bt_rng_normal(rng);
        unsigned jumps = m->jump_rate > 0.0 ? poisson(m->jump_rate * dt, rng) : 0;
        for (unsigned j = 0; j < jumps; j++)
            log_step += m->jump_mean + m->jump_std * ht_bt_rng_normal(rng);
        st->spot *= exp(log_step);
        return;
    }
    case HT_BT_GBM:
    default:
        st->spot *= exp((m->mu - 0.5 * m->sigma * m->sigma) * dt + m->sigma * sqrt(dt) * ht_bt_rng_normal(rng));
        return;
    }
}

/* SPDX-License-Identifier: MIT */
/* Risk statistics of a P&L sample: moments, their standard errors, VaR, expected shortfall, entropic risk. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/backtest.h"

/* Tail probability of the 99 % measures. */
#define TAIL_PROB 0.01

/* Orders two doubles for qsort. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void ht_bt_pnl_stats(const double *x, size_t n, double risk_aversion, double *scratch, ht_bt_result *out)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double)n;
    double m2 = 0.0, m3 = 0.0, m4 = 0.0, worst = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
        if (-risk_aversion * x[i] > worst)
            worst = -risk_aversion * x[i];
    }
    double dn = (double)n;
    m2 /= dn;
    m3 /= dn;
    m4 /= dn;
    double var = m2 * dn / (dn - 1.0);
    out->mean_pnl = mean;
    out->std_pnl = sqrt(var);
    out->mean_pnl_se = sqrt(var / dn);
    out->skew = m2 > 0.0 ? m3 / (m2 * sqrt(m2)) : 0.0;
    double kurt = m2 > 0.0 ? m4 / (m2 * m2) : 3.0; /* non-excess */
    out->kurtosis = kurt - 3.0;
    /* Var(s^2) ~ sigma^4 (kurt - (n-3)/(n-1)) / n, and se(s) ~ se(s^2) / (2 sigma). */
    double var_of_var = kurt - (dn - 3.0) / (dn - 1.0);
    out->std_pnl_se = out->std_pnl * sqrt((var_of_var > 0.0 ? var_of_var : 0.0) / (4.0 * dn));
    /* Entropic risk, shifted by the largest exponent so that nothing overflows. */
    double acc = 0.0;
    for (size_t i = 0; i < n; i++)
        acc += exp(-risk_aversion * x[i] - worst);
    out->entropic = (worst + log(acc / dn)) / risk_aversion;
    /* VaR: minus the empirical 1 % quantile (the ceil(0.01 n)-th smallest); ES: Acerbi & Tasche's estimator. */
    memcpy(scratch, x, n * sizeof *x);
    qsort(scratch, n, sizeof *scratch, cmp_double);
    double tail = TAIL_PROB * dn;
    size_t k = (size_t)ceil(tail - 1e-9);
    if (k < 1)
        k = 1;
    out->var99 = -scratch[k - 1];
    size_t whole = (size_t)floor(tail + 1e-9);
    double frac = tail - (double)whole, tail_sum = 0.0;
    for (size_t i = 0; i < whole && i < n; i++)
        tail_sum += scratch[i];
    if (frac > 1e-9 && whole < n)
        tail_sum += frac * scratch[whole];
    out->cvar99 = -tail_sum / tail;
}

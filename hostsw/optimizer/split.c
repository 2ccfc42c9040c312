/* SPDX-License-Identifier: MIT */
/* Venue split: equalise the marginal cost a + b sqrt(q) across venues under their caps (water filling). */
#include <math.h>

#include "hedgetrig/optimizer.h"

/* Total placed at marginal cost lambda. With inclusive set, a flat-cost venue (b = 0) whose cost is exactly
 * lambda counts as full (the right limit); otherwise as empty (the left limit). */
static double placed_at(const ht_opt_venue_cost *v, size_t n, double lambda, bool inclusive)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].cap_coin > 0.0))
            continue;
        if (v[i].b_usd_per_coin <= 0.0) {
            if (lambda > v[i].a_usd_per_coin || (inclusive && lambda == v[i].a_usd_per_coin))
                total += v[i].cap_coin;
        } else if (lambda > v[i].a_usd_per_coin) {
            double x = (lambda - v[i].a_usd_per_coin) / v[i].b_usd_per_coin;
            total += fmin(x * x, v[i].cap_coin);
        }
    }
    return total;
}

/* Sorts up to 2 * HT_OPT_MAX_VENUES breakpoints in place (insertion sort: a handful of values). */
static void sort_small(double *x, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double key = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > key) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = key;
    }
}

double ht_opt_split(const ht_opt_venue_cost *v, size_t n, double target_coin, double *q)
{
    double total_cap = 0.0;
    for (size_t i = 0; i < n; i++) {
        q[i] = 0.0;
        if (v[i].cap_coin > 0.0)
            total_cap += v[i].cap_coin;
    }
    if (!(target_coin > 0.0) || total_cap <= 0.0)
        return 0.0;
    if (target_coin >= total_cap) {
        for (size_t i = 0; i < n; i++)
            q[i] = v[i].cap_coin > 0.0 ? v[i].cap_coin : 0.0;
        return total_cap;
    }
    /* Breakpoints: where a venue starts trading (a) and where it fills its cap (a + b sqrt(cap)). */
    double points[2 * HT_OPT_MAX_VENUES];
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].cap_coin > 0.0))
            continue;
        points[np++] = v[i].a_usd_per_coin;
        if (v[i].b_usd_per_coin > 0.0)
            points[np++] = v[i].a_usd_per_coin + v[i].b_usd_per_coin * sqrt(v[i].cap_coin);
    }
    sort_small(points, np);
    size_t j = 0;
    while (j < np && placed_at(v, n, points[j], true) < target_coin)
        j++;
    if (j == np) /* rounding: the caps hold the target only just */
        j = np - 1;
    double lambda;
    double left = placed_at(v, n, points[j], false);
    if (left <= target_coin) {
        /* The target falls in the jump of the flat-cost venues priced exactly points[j]: they share the rest. */
        lambda = points[j];
        double rest = target_coin - left;
        for (size_t i = 0; i < n; i++) {
            if (!(v[i].cap_coin > 0.0))
                continue;
            if (v[i].b_usd_per_coin <= 0.0) {
                if (lambda > v[i].a_usd_per_coin)
                    q[i] = v[i].cap_coin;
                else if (lambda == v[i].a_usd_per_coin) {
                    q[i] = fmin(rest, v[i].cap_coin);
                    rest -= q[i];
                }
            } else if (lambda > v[i].a_usd_per_coin) {
                double x = (lambda - v[i].a_usd_per_coin) / v[i].b_usd_per_coin;
                q[i] = fmin(x * x, v[i].cap_coin);
            }
        }
        return target_coin;
    }
    /* The target lies strictly between points[j-1] and points[j], where the set of venues trading below their
     * cap is fixed: sum over them of ((lambda - a)/b)^2 = target - (what the others place), a quadratic. */
    double lo = points[j - 1], hi = points[j];
    double mid = 0.5 * (lo + hi);
    double fixed = 0.0, qa = 0.0, qb = 0.0, qc = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].cap_coin > 0.0) || mid <= v[i].a_usd_per_coin)
            continue;
        double b = v[i].b_usd_per_coin;
        if (b <= 0.0 || v[i].a_usd_per_coin + b * sqrt(v[i].cap_coin) <= mid) {
            fixed += v[i].cap_coin;
            continue;
        }
        double w = 1.0 / (b * b);
        qa += w;
        qb += w * v[i].a_usd_per_coin;
        qc += w * v[i].a_usd_per_coin * v[i].a_usd_per_coin;
    }
    double rest = target_coin - fixed;
    double disc = qb * qb - qa * (qc - rest);
    lambda = qa > 0.0 ? (qb + sqrt(disc > 0.0 ? disc : 0.0)) / qa : hi;
    lambda = fmin(fmax(lambda, lo), hi);
    double sum = 0.0;
    size_t largest = n;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].cap_coin > 0.0) || mid <= v[i].a_usd_per_coin)
            continue;
        double b = v[i].b_usd_per_coin;
        if (b <= 0.0 || v[i].a_usd_per_coin + b * sqrt(v[i].cap_coin) <= mid) {
            q[i] = v[i].cap_coin;
        } else {
            double x = (lambda - v[i].a_usd_per_coin) / b;
            q[i] = fmin(x * x, v[i].cap_coin);
            if (largest == n || q[i] > q[largest])
                largest = i;
        }
        sum += q[i];
    }
    /* Put the rounding residue (a few ulps) on the largest interior venue so the split sums to its target. */
    if (largest < n) {
        double fixed_q = q[largest] + (target_coin - sum);
        q[largest] = fmin(fmax(fixed_q, 0.0), v[largest].cap_coin);
    }
    return target_coin;
}

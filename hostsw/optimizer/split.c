/* SPDX-License-Identifier: MIT */
/* Venue split: equalise the marginal cost a + b sqrt(q) across venues under their caps (water filling). */
#include <math.h>

#include "hedgetrig/optimizer.h"

/* Smaller and larger of two numbers, inlined (fmin and fmax are library calls for their NaN rules). */
static inline double min_d(double a, double b)
{
    return a < b ? a : b;
}
static inline double max_d(double a, double b)
{
    return a > b ? a : b;
}

/* Sorts the indices of the venues in the mask by their flat cost a, a tie by margin_rank (insertion sort: a handful
 * of venues; a full tie keeps the index order). */
static size_t sort_by_flat_cost(const ht_opt_venue_cost *v, const double *rank, uint32_t mask, uint8_t *order)
{
    size_t m = 0;
    for (; mask; mask &= mask - 1) {
        uint8_t i = (uint8_t)__builtin_ctz(mask);
        double a = v[i].a_usd_per_coin;
        size_t j = m++;
        while (j > 0 && (v[order[j - 1]].a_usd_per_coin > a ||
                         (rank && v[order[j - 1]].a_usd_per_coin == a && rank[order[j - 1]] > rank[i]))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return m;
}

/* The lowest venue index in a non-empty mask; the loops below visit the venues of a mask in rising index order,
 * which keeps every sum in the same order as a loop over all venues. */
static inline unsigned lowest(uint32_t mask)
{
    return (unsigned)__builtin_ctz(mask);
}

/* Zeroes q and finds the venues with room: returns the sum of the caps > 0, and their mask in *with_room. */
static double venues_with_room(const ht_opt_venue_cost *v, size_t n, double *q, uint32_t *with_room)
{
    double total_cap = 0.0;
    uint32_t mask = 0; /* bit i: venue i has a cap > 0 */
    for (size_t i = 0; i < n; i++) {
        q[i] = 0.0;
        if (v[i].cap_coin > 0.0) {
            total_cap += v[i].cap_coin;
            mask |= 1u << i;
        }
    }
    *with_room = mask;
    return total_cap;
}

/* The marginal cost lambda at which the interior venues place rest coins (rest > 0 for a non-empty mask): with a0
 * the dearest interior venue's a, d = a0 - a >= 0 and x = lambda - a0 >= 0, sum w (x + d)^2 = rest is
 * A x^2 + 2 B x + C - rest = 0, solved in a cancellation-free form. */
static double interior_lambda(const ht_opt_venue_cost *v, uint32_t interior, double rest)
{
    double a0 = -INFINITY, qa = 0.0, qb = 0.0, qc = 0.0;
    for (uint32_t b = interior; b; b &= b - 1)
        if (v[lowest(b)].a_usd_per_coin > a0)
            a0 = v[lowest(b)].a_usd_per_coin;
    for (uint32_t b = interior; b; b &= b - 1) {
        unsigned i = lowest(b);
        double w = 1.0 / (v[i].b_usd_per_coin * v[i].b_usd_per_coin);
        double d = a0 - v[i].a_usd_per_coin;
        qa += w;
        qb += w * d;
        qc += w * d * d;
    }
    double excess = max_d(rest - qc, 0.0);
    return a0 + excess / (qb + sqrt(qb * qb + qa * excess));
}

/* Sweeps the marginal cost lambda upwards through its events until target_coin is placed: a venue starts trading
 * at lambda = a; a venue with impact (b > 0) fills its cap at a + b sqrt(cap); a flat venue (b = 0) takes up to its
 * cap at lambda = a. Between events the venues trading below their cap (interior) are fixed, and what they place,
 * sum ((lambda - a)/b)^2, is a quadratic in lambda (interior_lambda). Writes the shares of the venues at their cap
 * and of a flat venue into q, the interior venues into *interior; returns lambda. */
static double sweep_marginal_cost(const ht_opt_venue_cost *v, const double *rank, size_t n, double target_coin,
                                  uint32_t with_room, double *q, uint32_t *interior_out)
{
    uint8_t order[HT_OPT_MAX_VENUES];
    size_t m = sort_by_flat_cost(v, rank, with_room, order);
    uint32_t interior = 0;             /* bit i: venue i trades below its cap */
    double full_at[HT_OPT_MAX_VENUES]; /* marginal cost at which an interior venue fills its cap */
    double full = 0.0, lambda = 0.0;
    size_t next = 0;
    for (size_t guard = 0; guard < 2 * HT_OPT_MAX_VENUES + 2; guard++) {
        double next_start = next < m ? v[order[next]].a_usd_per_coin : INFINITY;
        double next_full = INFINITY;
        unsigned filling = (unsigned)n;
        double placed = full;
        for (uint32_t b = interior; b; b &= b - 1)
            if (full_at[lowest(b)] < next_full) {
                next_full = full_at[lowest(b)];
                filling = lowest(b);
            }
        double event = min_d(next_start, next_full);
        if (event < INFINITY)
            for (uint32_t b = interior; b; b &= b - 1) {
                unsigned i = lowest(b);
                double x = (event - v[i].a_usd_per_coin) / v[i].b_usd_per_coin;
                placed += min_d(x * x, v[i].cap_coin); /* at its own fill event, rounding may overshoot */
            }
        if (placed >= target_coin || !(event < INFINITY)) { /* reached before the next event */
            lambda = interior ? interior_lambda(v, interior, target_coin - full) : event;
            break;
        }
        if (next_full <= next_start) {
            interior &= ~(1u << filling); /* an interior venue reaches its cap */
            q[filling] = v[filling].cap_coin;
            full += v[filling].cap_coin;
            continue;
        }
        unsigned i = order[next++]; /* a venue starts trading */
        /* An impact slope too small to move the marginal cost over what the venue could take here (its cap, or
         * the whole target when that is smaller, as for an unlimited cap) counts as flat: as an interior venue its
         * share ((lambda - a)/b)^2 would not be resolvable in doubles. */
        double reach = v[i].b_usd_per_coin * sqrt(min_d(v[i].cap_coin, target_coin));
        if (v[i].b_usd_per_coin > 0.0 && reach > 1e-12 * max_d(fabs(v[i].a_usd_per_coin), 1.0)) {
            interior |= 1u << i;
            full_at[i] = v[i].a_usd_per_coin + v[i].b_usd_per_coin * sqrt(v[i].cap_coin);
        } else if (placed + v[i].cap_coin >= target_coin) {
            q[i] = target_coin - placed; /* a flat venue takes the rest at lambda = a */
            full += q[i];
            lambda = event;
            break;
        } else {
            q[i] = v[i].cap_coin;
            full += v[i].cap_coin;
        }
    }
    *interior_out = interior;
    return lambda;
}

/* The interior venues' shares at lambda, ((lambda - a)/b)^2 within their caps; then the rounding residue goes on
 * the interior venue whose marginal cost it moves least (the largest sqrt(q)/b, how much q moves per unit of
 * marginal cost), so that the split sums to its target and the marginal costs stay equal. */
static void place_interior(const ht_opt_venue_cost *v, size_t n, uint32_t interior, double lambda, double target_coin,
                           double *q)
{
    double best_slack = -1.0;
    unsigned absorber = (unsigned)n;
    for (uint32_t b = interior; b; b &= b - 1) {
        unsigned i = lowest(b);
        double x = lambda > v[i].a_usd_per_coin ? (lambda - v[i].a_usd_per_coin) / v[i].b_usd_per_coin : 0.0;
        q[i] = min_d(x * x, v[i].cap_coin);
        double slack = sqrt(q[i]) / v[i].b_usd_per_coin;
        if (slack > best_slack) {
            best_slack = slack;
            absorber = i;
        }
    }
    if (absorber < n) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += q[i];
        q[absorber] = min_d(max_d(q[absorber] + (target_coin - sum), 0.0), v[absorber].cap_coin);
    }
}

/* The split in steps: the venues with room; nothing, everything or one venue without a sweep; otherwise the sweep
 * of the marginal cost to the target, then the interior venues' shares at it. */
double ht_opt_split(const ht_opt_venue_cost *v, size_t n, double target_coin, double *q)
{
    return ht_opt_split_ranked(v, NULL, n, target_coin, q);
}

double ht_opt_split_ranked(const ht_opt_venue_cost *v, const double *rank, size_t n, double target_coin, double *q)
{
    uint32_t with_room;
    double total_cap = venues_with_room(v, n, q, &with_room);
    if (!(target_coin > 0.0) || total_cap <= 0.0)
        return 0.0;
    if (target_coin >= total_cap) {
        for (uint32_t m = with_room; m; m &= m - 1)
            q[lowest(m)] = v[lowest(m)].cap_coin;
        return total_cap;
    }
    if (n == 1) { /* one venue: no split */
        q[0] = target_coin;
        return target_coin;
    }
    uint32_t interior;
    double lambda = sweep_marginal_cost(v, rank, n, target_coin, with_room, q, &interior);
    place_interior(v, n, interior, lambda, target_coin, q);
    return target_coin;
}

/* SPDX-License-Identifier: MIT */
/* Black-76 on the forward: price, greeks up to third order, and a robust implied-volatility solver. */
#ifndef HEDGETRIG_BLACK76_H
#define HEDGETRIG_BLACK76_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Option type; the numbers are the Deribit schema's optionType values (1 call, 2 put). */
typedef enum ht_b76_type { HT_B76_CALL = 1, HT_B76_PUT = 2 } ht_b76_type;

/* Price and sensitivities of one European option on a forward F, in the units of F and K.
 * All derivatives are taken with the forward F as the variable (Black-76); sigma is the annual volatility
 * as a decimal (0.2 = 20%), time in years. The discount factor is exp(-r T). */
typedef struct ht_b76_greeks {
    double price; /* exp(-rT) * Black(F, K, sigma, T) */
    double delta; /* d price / dF */
    double gamma; /* d2 price / dF2 */
    double speed; /* d3 price / dF3 */
    double vega;  /* d price / d sigma (per 1.00 of sigma, not per vol point) */
    double vanna; /* d2 price / dF d sigma */
    double volga; /* d2 price / d sigma2 */
    double theta; /* d price / dt in calendar years, F and sigma held: -(d price / dT); r*price - exp(-rT) F phi(d1) sigma / (2 sqrt T) */
} ht_b76_greeks;

/* Computes price and greeks.
 *   type      HT_B76_CALL or HT_B76_PUT
 *   forward   F > 0, finite
 *   strike    K > 0, finite
 *   t_years   T > 0, finite (time to expiry)
 *   sigma     > 0, finite
 *   rate      r, finite (continuously compounded, used only to discount)
 *   out       filled on success; untouched on failure
 * Returns 0, or -1 when an input is out of its domain (nothing is written then). */
int ht_b76_compute(ht_b76_type type, double forward, double strike, double t_years, double sigma, double rate,
                   ht_b76_greeks *out);

/* The price alone (same inputs as ht_b76_compute); NaN when an input is out of its domain. */
double ht_b76_price(ht_b76_type type, double forward, double strike, double t_years, double sigma, double rate);

/* Normalised Black price of the out-of-the-money option: b(theta, s) = e^{theta/2} N(theta/s + s/2)
 * - e^{-theta/2} N(theta/s - s/2) for theta = -|ln(F/K)| <= 0 and total deviation s = sigma sqrt(T) > 0.
 * The undiscounted OTM price is sqrt(F K) * b. Exposed for tests. */
double ht_b76_normalised_otm(double theta, double total_stdev);

/* Why an implied volatility could not be found. */
typedef enum ht_iv_status {
    HT_IV_OK = 0,
    HT_IV_BAD_INPUT,        /* NaN / infinite / non-positive price, forward, strike, or T <= 0 */
    HT_IV_BELOW_INTRINSIC,  /* price at or below the forward intrinsic value: no volatility reproduces it */
    HT_IV_ABOVE_MAX,        /* price at or above the no-arbitrage bound (F for a call, K for a put, discounted) */
    HT_IV_NO_CONVERGENCE,   /* the iteration did not meet the tolerance within its budget */
} ht_iv_status;

/* A short name for an ht_iv_status ("ok", "bad_input", "below_intrinsic", "above_max", "no_convergence"). */
const char *ht_iv_status_name(ht_iv_status status);

/* Result of the implied-volatility solver. */
typedef struct ht_iv_result {
    ht_iv_status status;
    double sigma;        /* annual volatility (decimal) when status == HT_IV_OK, NaN otherwise */
    int iterations;      /* Newton/bisection steps taken */
    double time_value;   /* undiscounted price minus forward intrinsic value (can be <= 0: below intrinsic) */
} ht_iv_result;

/* Implied volatility of a discounted option price under Black-76.
 * The solver works on the out-of-the-money equivalent (put-call parity), normalised by sqrt(F K), starts from
 * the Corrado-Miller estimate, and takes Halley (third-order) steps on ln b(s) below the inflection point of
 * b and on b above it, inside a bracket that bisection keeps valid, so deep in- and out-of-the-money prices
 * converge (about 4 evaluations on a typical book); it stops when a step changes s = sigma sqrt(T) by less
 * than 1e-14 relative.
 *   type, forward, strike, t_years, rate   as for ht_b76_compute
 *   price      the option's discounted price in the units of F and K
 * Never fails silently: status says why there is no volatility. */
ht_iv_result ht_b76_implied_vol(ht_b76_type type, double forward, double strike, double t_years, double rate,
                                double price);

/* Standard normal cumulative distribution N(x), accurate in relative terms in both tails (via erfc). */
double ht_norm_cdf(double x);

/* Standard normal density phi(x). */
double ht_norm_pdf(double x);

#ifdef __cplusplus
}
#endif

#endif

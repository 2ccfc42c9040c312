/* SPDX-License-Identifier: MIT */
/* Black-76 price, greeks and implied volatility (bracketed Newton on the normalised OTM price). */
#include "hedgetrig/black76.h"

#include <math.h>

#define HT_SQRT1_2 0.70710678118654752440
#define HT_INV_SQRT_2PI 0.39894228040143267794

/* Largest total deviation s = sigma sqrt(T) the solver accepts before calling the price "above max". */
#define HT_IV_MAX_TOTAL_STDEV 100.0
#define HT_IV_MAX_ITERATIONS 100

double ht_norm_cdf(double x)
{
    return 0.5 * erfc(-x * HT_SQRT1_2);
}

double ht_norm_pdf(double x)
{
    return HT_INV_SQRT_2PI * exp(-0.5 * x * x);
}

/* True when x is a finite number. */
static int finite_number(double x)
{
    return isfinite(x) != 0;
}

double ht_b76_normalised_otm(double theta, double total_stdev)
{
    const double s = total_stdev;
    if (!(s > 0.0) || !(theta <= 0.0))
        return NAN;
    if (theta == 0.0)
        return erf(0.5 * s * HT_SQRT1_2); /* N(s/2) - N(-s/2) = erf(s / (2 sqrt 2)) */
    const double a = theta / s + 0.5 * s;
    const double c = theta / s - 0.5 * s;
    if (a > 0.0) {
        /* Near the money: the two cumulative terms straddle 0.5, so difference them as erf values (no
         * cancellation) and carry the e^{+-theta/2} factors as expm1 corrections. */
        const double core = 0.5 * (erf(a * HT_SQRT1_2) - erf(c * HT_SQRT1_2));
        return core + expm1(0.5 * theta) * ht_norm_cdf(a) - expm1(-0.5 * theta) * ht_norm_cdf(c);
    }
    /* Both arguments in the lower tail, where erfc keeps each term to full relative precision. */
    return exp(0.5 * theta) * ht_norm_cdf(a) - exp(-0.5 * theta) * ht_norm_cdf(c);
}

/* True when every pricing input lies in its domain. */
static int inputs_valid(double forward, double strike, double t_years, double sigma, double rate)
{
    return finite_number(forward) && forward > 0.0 && finite_number(strike) && strike > 0.0 &&
           finite_number(t_years) && t_years > 0.0 && finite_number(sigma) && sigma > 0.0 && finite_number(rate);
}

/* Undiscounted Black price as forward intrinsic value plus the OTM time value sqrt(FK) b(theta, s), which keeps
 * full relative precision deep in and out of the money. */
static double undiscounted_price(ht_b76_type type, double forward, double strike, double total_stdev)
{
    const double intrinsic = type == HT_B76_CALL ? fmax(forward - strike, 0.0) : fmax(strike - forward, 0.0);
    const double theta = -fabs(log(forward / strike));
    return intrinsic + sqrt(forward * strike) * ht_b76_normalised_otm(theta, total_stdev);
}

double ht_b76_price(ht_b76_type type, double forward, double strike, double t_years, double sigma, double rate)
{
    if (!inputs_valid(forward, strike, t_years, sigma, rate) || (type != HT_B76_CALL && type != HT_B76_PUT))
        return NAN;
    return exp(-rate * t_years) * undiscounted_price(type, forward, strike, sigma * sqrt(t_years));
}

int ht_b76_compute(ht_b76_type type, double forward, double strike, double t_years, double sigma, double rate,
                   ht_b76_greeks *out)
{
    if (!out || !inputs_valid(forward, strike, t_years, sigma, rate) || (type != HT_B76_CALL && type != HT_B76_PUT))
        return -1;
    const double sqrt_t = sqrt(t_years);
    const double s = sigma * sqrt_t;
    const double df = exp(-rate * t_years);
    const double d1 = log(forward / strike) / s + 0.5 * s;
    const double d2 = d1 - s;
    const double pdf_d1 = ht_norm_pdf(d1);

    ht_b76_greeks g;
    g.price = df * undiscounted_price(type, forward, strike, s);
    g.delta = type == HT_B76_CALL ? df * ht_norm_cdf(d1) : -df * ht_norm_cdf(-d1);
    g.gamma = df * pdf_d1 / (forward * s);
    g.speed = -g.gamma / forward * (1.0 + d1 / s);
    g.vega = df * forward * pdf_d1 * sqrt_t;
    g.vanna = -df * pdf_d1 * d2 / sigma;
    g.volga = g.vega * d1 * d2 / sigma;
    g.theta = rate * g.price - df * forward * pdf_d1 * sigma / (2.0 * sqrt_t);
    *out = g;
    return 0;
}

const char *ht_iv_status_name(ht_iv_status status)
{
    switch (status) {
    case HT_IV_OK: return "ok";
    case HT_IV_BAD_INPUT: return "bad_input";
    case HT_IV_BELOW_INTRINSIC: return "below_intrinsic";
    case HT_IV_ABOVE_MAX: return "above_max";
    case HT_IV_NO_CONVERGENCE: return "no_convergence";
    }
    return "unknown";
}

/* A starting point for s below the inflection point s_c = sqrt(2|theta|), from the lower-tail asymptote
 * ln b ~ -theta^2 / (2 s^2) + 3 ln s - ln(theta^2 sqrt(2 pi)), solved by three fixed-point steps. */
static double lower_initial_total_stdev(double theta, double ln_beta, double s_c)
{
    const double ln_k = log(theta * theta * 2.5066282746310002);
    double s = fabs(theta) / sqrt(-2.0 * ln_beta);
    for (int i = 0; i < 3; i++) {
        const double rhs = 3.0 * log(s) - ln_k - ln_beta;
        if (!(rhs > 0.0))
            break;
        s = fabs(theta) / sqrt(2.0 * rhs);
    }
    if (!(s > 0.0 && s < s_c))
        s = 0.5 * s_c;
    return s;
}

/* The Corrado-Miller (1996) closed-form estimate of s = sigma sqrt(T) from an undiscounted price (accurate
 * near the money); NaN when its discriminant is negative. */
static double corrado_miller_total_stdev(double forward, double strike, double undiscounted, ht_b76_type type)
{
    const double call = type == HT_B76_CALL ? undiscounted : undiscounted + forward - strike;
    const double half = call - 0.5 * (forward - strike);
    const double disc = half * half - (forward - strike) * (forward - strike) / M_PI;
    if (!(disc >= 0.0))
        return NAN;
    return 2.5066282746310002 / (forward + strike) * (half + sqrt(disc));
}

ht_iv_result ht_b76_implied_vol(ht_b76_type type, double forward, double strike, double t_years, double rate,
                                double price)
{
    ht_iv_result res = {HT_IV_BAD_INPUT, NAN, 0, NAN};
    if (!inputs_valid(forward, strike, t_years, 1.0, rate) || !finite_number(price) || !(price > 0.0) ||
        (type != HT_B76_CALL && type != HT_B76_PUT))
        return res;
    const double df = exp(-rate * t_years);
    const double undiscounted = price / df;
    const double intrinsic = type == HT_B76_CALL ? fmax(forward - strike, 0.0) : fmax(strike - forward, 0.0);
    const double upper = type == HT_B76_CALL ? forward : strike;
    res.time_value = undiscounted - intrinsic;
    if (undiscounted >= upper) {
        res.status = HT_IV_ABOVE_MAX;
        return res;
    }
    if (!(res.time_value > 0.0)) {
        res.status = HT_IV_BELOW_INTRINSIC;
        return res;
    }
    const double theta = -fabs(log(forward / strike));
    const double beta = res.time_value / sqrt(forward * strike);
    const double beta_max = exp(0.5 * theta);
    if (beta >= beta_max) {
        res.status = HT_IV_ABOVE_MAX;
        return res;
    }
    const double ln_beta = log(beta);

    /* Two regimes around the inflection point s_c of b(s) (convex below, concave above). Below it Newton runs
     * on ln b, which is concave there, from the lower-tail asymptote; above it Newton runs on b itself from
     * s_c, which approaches the root monotonically from below; both take Halley's third-order steps. A bracket [lo, hi] with b(lo) < beta <= b(hi)
     * always holds the root; a proposal outside it is replaced by bisection (or doubling while hi is open). */
    const double s_c = sqrt(2.0 * fabs(theta));
    const int use_log = theta != 0.0 && beta < ht_b76_normalised_otm(theta, s_c);
    double lo = 0.0, hi = INFINITY;
    double s = corrado_miller_total_stdev(forward, strike, undiscounted, type);
    if (!(s > 0.0) || !finite_number(s) || s > 4.0 * s_c + 1.0)
        s = use_log ? lower_initial_total_stdev(theta, ln_beta, s_c) : (theta == 0.0 ? beta / HT_INV_SQRT_2PI : s_c);
    if (!(s > 0.0) || !finite_number(s))
        s = 1.0;
    res.status = HT_IV_NO_CONVERGENCE;
    for (int it = 1; it <= HT_IV_MAX_ITERATIONS; it++) {
        res.iterations = it;
        const double b = ht_b76_normalised_otm(theta, s);
        if (b > beta)
            hi = s;
        else
            lo = s;
        if (b == beta) {
            res.status = HT_IV_OK;
            break;
        }
        const double vega_n = beta_max * ht_norm_pdf(theta / s + 0.5 * s);
        double next = NAN;
        if (b > 0.0 && vega_n > 0.0) {
            /* Halley's step on f = ln b - ln beta (lower regime) or f = b - beta (upper), with
             * b'' = b' (theta^2 / s^3 - s / 4). */
            const double curv = theta * theta / (s * s * s) - 0.25 * s;
            double f, f1, f2;
            if (use_log) {
                f = log(b) - ln_beta;
                f1 = vega_n / b;
                f2 = f1 * curv - f1 * f1;
            } else {
                f = b - beta;
                f1 = vega_n;
                f2 = vega_n * curv;
            }
            const double newton = f / f1;
            const double denom = 1.0 - 0.5 * newton * f2 / f1;
            next = s - (denom > 0.5 ? newton / denom : newton);
            /* A step below the tolerance ends the search (it may land on the bracket's own edge). */
            if (fabs(next - s) <= 1e-14 * s) {
                s = next;
                res.status = HT_IV_OK;
                break;
            }
        }
        if (!(next > lo && next < hi))
            next = isinf(hi) ? 2.0 * s : 0.5 * (lo + hi);
        if (next > HT_IV_MAX_TOTAL_STDEV && isinf(hi)) {
            res.status = HT_IV_ABOVE_MAX;
            return res;
        }
        s = next;
        if (!isinf(hi) && hi - lo <= 4e-16 * hi) {
            res.status = HT_IV_OK;
            break;
        }
    }
    if (res.status != HT_IV_OK)
        return res;
    res.sigma = s / sqrt(t_years);
    return res;
}

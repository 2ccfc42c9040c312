/* SPDX-License-Identifier: MIT */
/* Path models against QuantLib's analytic prices: GBM (Black-Scholes), Merton 1976 jumps, Heston (1993). */
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

/* QuantLib first: cmocka defines macros (fail, ...) that clash with the C++ library's names. */
#include <ql/quantlib.hpp>

extern "C" {
#include <cmocka.h>

#include "hedgetrig/backtest.h"
}

namespace ql = QuantLib;

/* The QuantLib market of one test: flat rate, no dividend, maturity one 365-day year from a fixed date. */
struct Market {
    ql::Date today{15, ql::June, 2023};
    ql::DayCounter dc = ql::Actual365Fixed();
    ql::Handle<ql::Quote> spot;
    ql::Handle<ql::YieldTermStructure> rates, dividends;
    Market(double s0, double r)
    {
        ql::Settings::instance().evaluationDate() = today;
        spot = ql::Handle<ql::Quote>(ql::ext::make_shared<ql::SimpleQuote>(s0));
        rates = ql::Handle<ql::YieldTermStructure>(ql::ext::make_shared<ql::FlatForward>(today, r, dc));
        dividends = ql::Handle<ql::YieldTermStructure>(ql::ext::make_shared<ql::FlatForward>(today, 0.0, dc));
    }
    /* A European call of the given strike maturing in 365 days (T = 1 year exactly). */
    ql::EuropeanOption call(double strike) const
    {
        return ql::EuropeanOption(ql::ext::make_shared<ql::PlainVanillaPayoff>(ql::Option::Call, strike),
                                  ql::ext::make_shared<ql::EuropeanExercise>(today + 365));
    }
    ql::Handle<ql::BlackVolTermStructure> flat_vol(double vol) const
    {
        return ql::Handle<ql::BlackVolTermStructure>(
            ql::ext::make_shared<ql::BlackConstantVol>(today, ql::TARGET(), vol, dc));
    }
};

/* Monte Carlo over a model: discounted call payoffs for each strike and the mean terminal spot, with their
 * standard errors. Paths use the backtest's own per-path streams and model steps. */
struct McResult {
    double price[3], price_se[3], mean_spot, mean_spot_se;
};

static McResult simulate(const ht_bt_model &m, double s0, double r, const double strikes[3], unsigned steps,
                         unsigned paths)
{
    double sum[3] = {0, 0, 0}, sum2[3] = {0, 0, 0}, ss = 0, ss2 = 0;
    for (unsigned p = 0; p < paths; p++) {
        ht_bt_rng rng;
        ht_bt_rng_init(&rng, 77, p);
        ht_bt_state st = {s0, m.v0};
        for (unsigned k = 0; k < steps; k++)
            ht_bt_model_step(&m, &st, 1.0 / steps, &rng);
        for (int i = 0; i < 3; i++) {
            double x = std::exp(-r) * std::fmax(st.spot - strikes[i], 0.0);
            sum[i] += x;
            sum2[i] += x * x;
        }
        ss += st.spot;
        ss2 += st.spot * st.spot;
    }
    McResult out;
    for (int i = 0; i < 3; i++) {
        out.price[i] = sum[i] / paths;
        out.price_se[i] = std::sqrt((sum2[i] / paths - out.price[i] * out.price[i]) / paths);
    }
    out.mean_spot = ss / paths;
    out.mean_spot_se = std::sqrt((ss2 / paths - out.mean_spot * out.mean_spot) / paths);
    return out;
}

/* Checks MC prices against reference prices within 4 standard errors plus a discretisation allowance. */
static void check_prices(const char *what, const McResult &mc, const double ref[3], const double strikes[3],
                         double bias)
{
    for (int i = 0; i < 3; i++) {
        std::printf("%s K=%g: MC %.5f +/- %.5f, QuantLib %.5f\n", what, strikes[i], mc.price[i], mc.price_se[i],
                    ref[i]);
        if (!(std::fabs(mc.price[i] - ref[i]) <= 4.0 * mc.price_se[i] + bias))
            fail_msg("%s K=%g: MC %.5f, QuantLib %.5f, beyond 4 x %.5f + %g", what, strikes[i], mc.price[i], ref[i],
                     mc.price_se[i], bias);
    }
}

static const double g_strikes[3] = {80.0, 100.0, 120.0};

/* GBM, 10 steps a year (exact in law): AnalyticEuropeanEngine. E[S_T] = S0 e^{mu T} with a drift != r. */
static void gbm_matches_black_scholes(void **)
{
    Market mk(100.0, 0.03);
    auto process = ql::ext::make_shared<ql::BlackScholesMertonProcess>(mk.spot, mk.dividends, mk.rates, mk.flat_vol(0.25));
    auto engine = ql::ext::make_shared<ql::AnalyticEuropeanEngine>(process);
    double ref[3];
    for (int i = 0; i < 3; i++) {
        auto opt = mk.call(g_strikes[i]);
        opt.setPricingEngine(engine);
        ref[i] = opt.NPV();
    }
    ht_bt_model m = {};
    m.kind = HT_BT_GBM;
    m.mu = 0.03;
    m.sigma = 0.25;
    check_prices("gbm", simulate(m, 100.0, 0.03, g_strikes, 10, 200000), ref, g_strikes, 0.0);
    m.mu = 0.2;
    McResult drift = simulate(m, 100.0, 0.03, g_strikes, 4, 200000);
    if (!(std::fabs(drift.mean_spot - 100.0 * std::exp(0.2)) <= 4.0 * drift.mean_spot_se))
        fail_msg("gbm E[S_T] %.4f, expected %.4f", drift.mean_spot, 100.0 * std::exp(0.2));
}

/* Merton jumps (3 a year, log jump N(-0.1, 0.15^2)): JumpDiffusionEngine on a Merton76Process. */
static void merton_matches_quantlib(void **)
{
    Market mk(100.0, 0.03);
    auto intensity = ql::Handle<ql::Quote>(ql::ext::make_shared<ql::SimpleQuote>(3.0));
    auto mean_log_jump = ql::Handle<ql::Quote>(ql::ext::make_shared<ql::SimpleQuote>(-0.1));
    auto jump_vol = ql::Handle<ql::Quote>(ql::ext::make_shared<ql::SimpleQuote>(0.15));
    auto process = ql::ext::make_shared<ql::Merton76Process>(mk.spot, mk.dividends, mk.rates, mk.flat_vol(0.2),
                                                             intensity, mean_log_jump, jump_vol);
    auto engine = ql::ext::make_shared<ql::JumpDiffusionEngine>(process, 1e-10, 200);
    double ref[3];
    for (int i = 0; i < 3; i++) {
        auto opt = mk.call(g_strikes[i]);
        opt.setPricingEngine(engine);
        ref[i] = opt.NPV();
    }
    ht_bt_model m = {};
    m.kind = HT_BT_MERTON;
    m.mu = 0.03;
    m.sigma = 0.2;
    m.jump_rate = 3.0;
    m.jump_mean = -0.1;
    m.jump_std = 0.15;
    McResult mc = simulate(m, 100.0, 0.03, g_strikes, 10, 200000);
    check_prices("merton", mc, ref, g_strikes, 0.0);
    if (!(std::fabs(mc.mean_spot - 100.0 * std::exp(0.03)) <= 4.0 * mc.mean_spot_se))
        fail_msg("merton E[S_T] %.4f, expected %.4f (jump compensation)", mc.mean_spot, 100.0 * std::exp(0.03));
}

/* Heston with the Feller condition broken (2 kappa theta = 0.12 < xi^2 = 0.36), so that QE's exponential branch
 * and zero variances occur: AnalyticHestonEngine. 50 steps a year; QE's bias there is well under 0.02. */
static void heston_matches_quantlib(void **)
{
    Market mk(100.0, 0.03);
    const double v0 = 0.04, kappa = 1.5, theta = 0.04, xi = 0.6, rho = -0.7;
    auto process = ql::ext::make_shared<ql::HestonProcess>(mk.rates, mk.dividends, mk.spot, v0, kappa, theta, xi, rho);
    auto engine = ql::ext::make_shared<ql::AnalyticHestonEngine>(ql::ext::make_shared<ql::HestonModel>(process));
    double ref[3];
    for (int i = 0; i < 3; i++) {
        auto opt = mk.call(g_strikes[i]);
        opt.setPricingEngine(engine);
        ref[i] = opt.NPV();
    }
    ht_bt_model m = {};
    m.kind = HT_BT_HESTON;
    m.mu = 0.03;
    m.v0 = v0;
    m.kappa = kappa;
    m.theta = theta;
    m.xi = xi;
    m.rho = rho;
    McResult mc = simulate(m, 100.0, 0.03, g_strikes, 50, 200000);
    check_prices("heston", mc, ref, g_strikes, 0.02);
    if (!(std::fabs(mc.mean_spot - 100.0 * std::exp(0.03)) <= 4.0 * mc.mean_spot_se + 0.05))
        fail_msg("heston E[S_T] %.4f, expected %.4f", mc.mean_spot, 100.0 * std::exp(0.03));
    /* The variance never goes negative. */
    ht_bt_rng rng;
    ht_bt_rng_init(&rng, 3, 0);
    ht_bt_state st = {100.0, v0};
    for (int k = 0; k < 100000; k++) {
        ht_bt_model_step(&m, &st, 1.0 / 50.0, &rng);
        if (!(st.var >= 0.0) || !std::isfinite(st.spot))
            fail_msg("heston step %d: variance %g, spot %g", k, st.var, st.spot);
    }
}

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gbm_matches_black_scholes),
        cmocka_unit_test(merton_matches_quantlib),
        cmocka_unit_test(heston_matches_quantlib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

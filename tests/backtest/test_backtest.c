/* SPDX-License-Identifier: MIT */
/* Backtest tests: Philox known answers, reproducibility, Black-Scholes values, risk statistics, Derman-Kamal. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/backtest.h"

#define ASSERT_NEAR(x, y, tol)                                                                                       \
    do {                                                                                                             \
        double x_ = (x), y_ = (y), t_ = (tol);                                                                       \
        if (!(fabs(x_ - y_) <= t_))                                                                                  \
            fail_msg("%s = %.10g, expected %.10g within %.3g", #x, x_, y_, t_);                                      \
    } while (0)

/* Random123's known-answer vectors for philox4x32 with 10 rounds (tests/kat_vectors of the reference release by
 * D. E. Shaw Research): counter, key, expected output. */
static void philox_known_answers(void **state)
{
    (void)state;
    const struct {
        uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        ht_philox4x32_10(kat[i].ctr, kat[i].key, out);
        for (int j = 0; j < 4; j++)
            if (out[j] != kat[i].out[j])
                fail_msg("vector %zu word %d: %08x, expected %08x", i, j, out[j], kat[i].out[j]);
    }
}

/* Uniforms and normals have the right first moments, stay in range, and streams are independent of each other. */
static void rng_moments(void **state)
{
    (void)state;
    ht_bt_rng rng;
    ht_bt_rng_init(&rng, 42, 7);
    const int n = 1000000;
    double su = 0, su2 = 0, sn = 0, sn2 = 0, sn4 = 0;
    for (int i = 0; i < n; i++) {
        double u = ht_bt_rng_uniform(&rng);
        assert_true(u > 0.0 && u < 1.0);
        su += u;
        su2 += u * u;
        double z = ht_bt_rng_normal(&rng);
        sn += z;
        sn2 += z * z;
        sn4 += z * z * z * z;
    }
    /* 5 standard errors: uniform mean sd sqrt(1/12/n), normal mean 1/sqrt(n), E z^2 sqrt(2/n), E z^4 sqrt(96/n). */
    ASSERT_NEAR(su / n, 0.5, 5 * sqrt(1.0 / 12.0 / n));
    ASSERT_NEAR(su2 / n, 1.0 / 3.0, 5 * sqrt(4.0 / 45.0 / n));
    ASSERT_NEAR(sn / n, 0.0, 5 / sqrt(n));
    ASSERT_NEAR(sn2 / n, 1.0, 5 * sqrt(2.0 / n));
    ASSERT_NEAR(sn4 / n, 3.0, 5 * sqrt(96.0 / n));
    /* Two streams of one seed, and one stream of two seeds, differ; one stream replays. */
    ht_bt_rng a, b, c, d;
    ht_bt_rng_init(&a, 1, 0);
    ht_bt_rng_init(&b, 1, 1);
    ht_bt_rng_init(&c, 2, 0);
    ht_bt_rng_init(&d, 1, 0);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = ht_bt_rng_u32(&a);
        same_ab += x == ht_bt_rng_u32(&b);
        same_ac += x == ht_bt_rng_u32(&c);
        assert_true(x == ht_bt_rng_u32(&d));
    }
    assert_true(same_ab < 3 && same_ac < 3);
}

/* The known values (S = K = 100, T = 1, r = 5 %, sigma = 20 %) and put-call parity. */
static void black_scholes_known_values(void **state)
{
    (void)state;
    ht_bt_bs c, p;
    ht_bt_bs_eval(true, 100.0, 100.0, 1.0, 0.05, 0.2, &c);
    ASSERT_NEAR(c.price, 10.450584, 5e-7);
    ASSERT_NEAR(c.delta, 0.636831, 5e-7);
    ASSERT_NEAR(c.gamma, 0.018762, 5e-7);
    ASSERT_NEAR(c.vega, 37.524035, 5e-7);
    ht_bt_bs_eval(false, 100.0, 100.0, 1.0, 0.05, 0.2, &p);
    ASSERT_NEAR(c.price - p.price, 100.0 - 100.0 * exp(-0.05), 1e-12);
    ASSERT_NEAR(c.delta - p.delta, 1.0, 1e-15);
    ASSERT_NEAR(c.gamma, p.gamma, 1e-15);
    /* vanna = dDelta/dsigma by central difference. */
    ht_bt_bs up, dn;
    ht_bt_bs_eval(true, 100.0, 110.0, 0.5, 0.05, 0.2 + 1e-5, &up);
    ht_bt_bs_eval(true, 100.0, 110.0, 0.5, 0.05, 0.2 - 1e-5, &dn);
    ht_bt_bs_eval(true, 100.0, 110.0, 0.5, 0.05, 0.2, &c);
    ASSERT_NEAR(c.vanna, (up.delta - dn.delta) / 2e-5, 1e-7);
    /* Expiry: the payoff. */
    ht_bt_bs_eval(false, 90.0, 100.0, 0.0, 0.05, 0.2, &p);
    assert_true(p.price == 10.0 && p.delta == -1.0);
}

/* Statistics on samples with known answers. */
static void risk_statistics(void **state)
{
    (void)state;
    enum { N = 1000 };
    double x[N], scratch[N];
    for (int i = 0; i < N; i++)
        x[N - 1 - i] = i + 1; /* 1..1000, reversed so that the quantile needs the sort */
    ht_bt_result r;
    ht_bt_pnl_stats(x, N, 1e-3, scratch, &r);
    ASSERT_NEAR(r.mean_pnl, 500.5, 1e-12);
    ASSERT_NEAR(r.std_pnl, sqrt(N * (N + 1.0) / 12.0), 1e-9); /* sample std of 1..n: sqrt(n(n+1)/12) */
    ASSERT_NEAR(r.var99, -10.0, 0.0);                         /* the 10th smallest of 1000 */
    ASSERT_NEAR(r.cvar99, -5.5, 1e-12);                       /* minus the mean of 1..10 */
    ASSERT_NEAR(r.skew, 0.0, 1e-12);
    ASSERT_NEAR(r.kurtosis, -1.2, 1e-5); /* uniform */
    /* Entropic risk of a fair coin of +/- 1: log(cosh a) / a. */
    for (int i = 0; i < N; i++)
        x[i] = i % 2 ? 1.0 : -1.0;
    for (double a = 0.5; a <= 800.0; a *= 4.0) {
        ht_bt_pnl_stats(x, N, a, scratch, &r);
        ASSERT_NEAR(r.entropic, (a + log1p(exp(-2.0 * a)) - log(2.0)) / a, 1e-12);
    }
    ASSERT_NEAR(r.var99, 1.0, 0.0);
    ASSERT_NEAR(r.cvar99, 1.0, 0.0);
}

/* A short ATM call: the setup of QuantLib's DiscreteHedging example (Derman-Kamal). */
static ht_bt_option g_short_call = {.is_call = true, .strike = 100.0, .expiry_years = 1.0 / 12.0, .qty = -1.0};

static void dk_config(ht_bt_config *cfg, ht_opt_strategy *s, uint32_t steps, uint64_t paths)
{
    ht_bt_config_default(cfg);
    cfg->book = &g_short_call;
    cfg->n_options = 1;
    cfg->steps = steps;
    cfg->paths = paths;
    cfg->seed = 20240607;
    ht_error err = {{0}};
    assert_int_equal(ht_opt_strategy_parse("time:1", ht_bt_step_ns(cfg), s, &err), 0);
    cfg->strategies = s;
    cfg->n_strategies = 1;
}

/* The same seed gives the same P&L, bit for bit, on 1, 2 or 3 threads; another seed does not. */
static void reproducible_whatever_the_threads(void **state)
{
    (void)state;
    ht_bt_config cfg;
    ht_opt_strategy s[3];
    dk_config(&cfg, s, 30, 3000);
    assert_int_equal(ht_opt_strategy_parse("ww:1", ht_bt_step_ns(&cfg), &s[1], NULL), 0);
    assert_int_equal(ht_opt_strategy_parse("zak:1", ht_bt_step_ns(&cfg), &s[2], NULL), 0);
    cfg.n_strategies = 3;
    cfg.cost = 1e-3;
    cfg.model.kind = HT_BT_HESTON; /* the scheme with the most draws per step */
    cfg.model.v0 = 0.04;
    cfg.model.kappa = 2.0;
    cfg.model.theta = 0.04;
    cfg.model.xi = 0.5;
    cfg.model.rho = -0.7;
    double *pnl[4];
    ht_bt_result res[4][3];
    for (int t = 0; t < 4; t++) {
        pnl[t] = malloc(cfg.paths * 3 * sizeof(double));
        cfg.threads = t < 3 ? (unsigned)t + 1 : 2;
        cfg.seed = t < 3 ? 5 : 6;
        ht_error err = {{0}};
        if (ht_bt_run(&cfg, res[t], pnl[t], &err) != 0)
            fail_msg("%s", err.msg);
    }
    assert_memory_equal(pnl[0], pnl[1], cfg.paths * 3 * sizeof(double));
    assert_memory_equal(pnl[0], pnl[2], cfg.paths * 3 * sizeof(double));
    assert_memory_equal(&res[0], &res[2], sizeof res[0]);
    assert_true(memcmp(pnl[0], pnl[3], cfg.paths * 3 * sizeof(double)) != 0);
    for (int t = 0; t < 4; t++)
        free(pnl[t]);
}

/* Composite Simpson rule of f over [a, b] with an even number of panels. */
static double simpson(double (*f)(double, void *), void *ctx, double a, double b, int panels)
{
    double h = (b - a) / panels, sum = f(a, ctx) + f(b, ctx);
    for (int i = 1; i < panels; i++)
        sum += f(a + i * h, ctx) * (i % 2 ? 4.0 : 2.0);
    return sum * h / 3.0;
}

/* An independent Black-Scholes call for the reference below (not the code under test). */
static double ref_call(double s, double k, double tau, double r, double v, double *delta)
{
    if (tau <= 0.0) {
        *delta = s > k ? 1.0 : 0.0;
        return s > k ? s - k : 0.0;
    }
    double sd = v * sqrt(tau), d1 = (log(s / k) + (r + 0.5 * v * v) * tau) / sd;
    *delta = 0.5 * erfc(-d1 / sqrt(2.0));
    return s * *delta - k * exp(-r * tau) * 0.5 * erfc(-(d1 - sd) / sqrt(2.0));
}

/* One re-hedging interval [t_i, t_i + dt] of the exact variance computation. */
typedef struct dk_step {
    double s0, k, r, v, t, dt, horizon;
    double si; /* spot at t_i (inner integral) */
} dk_step;

/* Squared discounted hedging error of one interval, times the normal density, at the end-of-interval shock z. */
static double dk_inner(double z, void *ctx)
{
    const dk_step *c = ctx;
    double delta, unused;
    double vi = ref_call(c->si, c->k, c->horizon - c->t, c->r, c->v, &delta);
    double sj = c->si * exp((c->r - 0.5 * c->v * c->v) * c->dt + c->v * sqrt(c->dt) * z);
    double vj = ref_call(sj, c->k, c->horizon - c->t - c->dt, c->r, c->v, &unused);
    double t1 = c->t + c->dt;
    double eps = exp(-c->r * t1) * vj - exp(-c->r * c->t) * vi - delta * (exp(-c->r * t1) * sj - exp(-c->r * c->t) * c->si);
    return eps * eps * exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
}

/* E[eps^2 | S_i = s]: the inner integral over [-10, 10] standard deviations, split at the payoff's kink.
 * (200 inner and 300 outer Simpson panels agree with 800 and 1200 to 3e-7 in the std.) */
static double dk_conditional(dk_step *c)
{
    double z_kink = (log(c->k / c->si) - (c->r - 0.5 * c->v * c->v) * c->dt) / (c->v * sqrt(c->dt));
    if (c->t + c->dt < c->horizon - 1e-12 || z_kink <= -10.0 || z_kink >= 10.0)
        return simpson(dk_inner, c, -10.0, 10.0, 200);
    return simpson(dk_inner, c, -10.0, z_kink, 200) + simpson(dk_inner, c, z_kink, 10.0, 200);
}

/* The outer integrand: E[eps^2 | S_i] times the density of S_i's shock z. */
static double dk_outer(double z, void *ctx)
{
    dk_step *c = ctx;
    c->si = c->s0 * exp((c->r - 0.5 * c->v * c->v) * c->t + c->v * sqrt(c->t) * z);
    return dk_conditional(c) * exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
}

/* The exact std of the P&L at T of a short call delta-hedged at n equally spaced times, with the spot drifting
 * at r: the discounted hedging errors of the intervals are martingale increments, hence uncorrelated, so the
 * variance is the sum over intervals of E[eps_i^2], each a double integral done here by quadrature. */
static double dk_exact_std(double s0, double k, double horizon, double r, double v, int n)
{
    double var = 0.0;
    for (int i = 0; i < n; i++) {
        dk_step c = {.s0 = s0, .k = k, .r = r, .v = v, .t = horizon * i / n, .dt = horizon / n, .horizon = horizon};
        if (i == 0) {
            c.si = s0;
            var += dk_conditional(&c);
        } else {
            var += simpson(dk_outer, &c, -9.0, 9.0, 300);
        }
    }
    return exp(r * horizon) * sqrt(var);
}

/* Derman-Kamal, as QuantLib's DiscreteHedging example runs it: short ATM call, S0 = K = 100, T = 1/12, 20 % vol,
 * r = 5 %, no cost, 50,000 paths, re-hedged 21 and 84 times. QuantLib prints P&L std 0.43 and 0.22 (and the
 * Derman-Kamal formula 0.44 and 0.22). The test checks, within Monte Carlo error (4 standard errors of the
 * sample std, from the sample size and kurtosis):
 *   - the std against the exact value computed by quadrature (an independent calculation);
 *   - the std against QuantLib's printed figures (rounded to 0.005);
 *   - the Derman-Kamal formula sigma vega sqrt(pi / 4N) within its own asymptotic accuracy (4 %);
 *   - the mean P&L against 0 (no cost, drift r: the discounted P&L is a martingale). */
static void derman_kamal_reproduced(void **state)
{
    (void)state;
    const int rebalances[2] = {21, 84};
    const double quantlib_std[2] = {0.43, 0.22};
    ht_bt_bs b;
    ht_bt_bs_eval(true, 100.0, 100.0, 1.0 / 12.0, 0.05, 0.2, &b);
    for (int i = 0; i < 2; i++) {
        ht_bt_config cfg;
        ht_opt_strategy s;
        dk_config(&cfg, &s, (uint32_t)rebalances[i], 50000);
        ht_bt_result r;
        ht_error err = {{0}};
        if (ht_bt_run(&cfg, &r, NULL, &err) != 0)
            fail_msg("%s", err.msg);
        double exact = dk_exact_std(100.0, 100.0, 1.0 / 12.0, 0.05, 0.2, rebalances[i]);
        double dk = ht_bt_derman_kamal_std(0.2, b.vega, (unsigned)rebalances[i]);
        print_message("N = %d: std %.5f +/- %.5f, exact %.5f, QuantLib %.2f, Derman-Kamal %.5f, mean %.5f +/- %.5f, "
                      "trades %.2f\n",
                      rebalances[i], r.std_pnl, r.std_pnl_se, exact, quantlib_std[i], dk, r.mean_pnl, r.mean_pnl_se,
                      r.trades);
        assert_true(r.std_pnl_se > 0.0 && r.std_pnl_se < 0.01 * r.std_pnl);
        ASSERT_NEAR(r.std_pnl, exact, 4.0 * r.std_pnl_se);
        ASSERT_NEAR(r.std_pnl, quantlib_std[i], 0.005 + 4.0 * r.std_pnl_se);
        ASSERT_NEAR(exact / dk, 1.0, 0.04);
        ASSERT_NEAR(r.mean_pnl, 0.0, 4.0 * r.mean_pnl_se);
        ASSERT_NEAR(r.mean_cost, 0.0, 0.0);
    }
}

/* Zero cost: a Whalley-Wilmott band has zero width, so it re-hedges at every step: exactly time:1; and the std
 * falls like 1/sqrt(N) (the continuous-hedging limit is zero risk). */
static void zero_cost_is_the_continuous_limit(void **state)
{
    (void)state;
    ht_bt_config cfg;
    ht_opt_strategy s[3];
    dk_config(&cfg, s, 64, 4000);
    assert_int_equal(ht_opt_strategy_parse("ww:1", ht_bt_step_ns(&cfg), &s[1], NULL), 0);
    assert_int_equal(ht_opt_strategy_parse("zak:1", ht_bt_step_ns(&cfg), &s[2], NULL), 0);
    cfg.n_strategies = 3;
    double *pnl = malloc(cfg.paths * 3 * sizeof(double));
    ht_bt_result r[3];
    assert_int_equal(ht_bt_run(&cfg, r, pnl, NULL), 0);
    assert_memory_equal(pnl, pnl + cfg.paths, cfg.paths * sizeof(double));
    assert_memory_equal(pnl, pnl + 2 * cfg.paths, cfg.paths * sizeof(double));
    free(pnl);
    double std_by_n[3];
    const uint32_t ns[3] = {16, 64, 256};
    for (int i = 0; i < 3; i++) {
        dk_config(&cfg, s, ns[i], 4000);
        assert_int_equal(ht_bt_run(&cfg, r, NULL, NULL), 0);
        std_by_n[i] = r[0].std_pnl;
    }
    /* Each 4x more re-hedges halves the std, to Monte Carlo and discretisation accuracy. */
    ASSERT_NEAR(std_by_n[1] / std_by_n[0], 0.5, 0.05);
    ASSERT_NEAR(std_by_n[2] / std_by_n[1], 0.5, 0.05);
}

/* Costs: time:1 pays about k S sum |dDelta|: mean cost = k x (turnover x spot) within a few percent, the mean
 * P&L falls by the mean cost, and a band strategy trades less. */
static void costs_are_charged(void **state)
{
    (void)state;
    ht_bt_config cfg;
    ht_opt_strategy s[2];
    dk_config(&cfg, s, 84, 4000);
    assert_int_equal(ht_opt_strategy_parse("ww:1", ht_bt_step_ns(&cfg), &s[1], NULL), 0);
    cfg.n_strategies = 2;
    cfg.cost = 2e-3;
    ht_bt_result r[2];
    assert_int_equal(ht_bt_run(&cfg, r, NULL, NULL), 0);
    ASSERT_NEAR(r[0].mean_cost / (cfg.cost * 100.0 * r[0].turnover), 1.0, 0.05);
    ASSERT_NEAR(r[0].mean_pnl, -r[0].mean_cost, 4.0 * r[0].mean_pnl_se + 0.01);
    assert_true(r[1].trades < r[0].trades && r[1].mean_cost < r[0].mean_cost);
    /* Physical settlement trades less at T than cash settlement, and at zero cost they agree to rounding. */
    cfg.n_strategies = 1;
    ht_bt_result cash, physical;
    assert_int_equal(ht_bt_run(&cfg, &cash, NULL, NULL), 0);
    cfg.settle = HT_BT_SETTLE_PHYSICAL;
    assert_int_equal(ht_bt_run(&cfg, &physical, NULL, NULL), 0);
    assert_true(physical.turnover < cash.turnover && physical.mean_cost < cash.mean_cost);
    cfg.cost = 0.0;
    assert_int_equal(ht_bt_run(&cfg, &physical, NULL, NULL), 0);
    cfg.settle = HT_BT_SETTLE_CASH;
    assert_int_equal(ht_bt_run(&cfg, &cash, NULL, NULL), 0);
    ASSERT_NEAR(physical.mean_pnl, cash.mean_pnl, 1e-9);
    ASSERT_NEAR(physical.std_pnl, cash.std_pnl, 1e-9);
}

/* Poisson ticks: a zero-width band (ww at no cost) hedges on every tick, 50 of them on average plus the one at 0;
 * time:1 hedges at the first tick of each of the 50 clock periods that has one: 1 + 49 (1 - 1/e). */
static void poisson_clock(void **state)
{
    (void)state;
    ht_bt_config cfg;
    ht_opt_strategy s[2];
    dk_config(&cfg, s, 50, 4000);
    assert_int_equal(ht_opt_strategy_parse("ww:1", ht_bt_step_ns(&cfg), &s[1], NULL), 0);
    cfg.n_strategies = 2;
    cfg.clock = HT_BT_CLOCK_POISSON;
    cfg.tick_size = 0.01;
    ht_bt_result r[2];
    assert_int_equal(ht_bt_run(&cfg, r, NULL, NULL), 0);
    /* standard errors: sqrt(50 / 4000) for the Poisson count, sqrt(49 p (1 - p) / 4000) for the periods */
    ASSERT_NEAR(r[1].trades, 51.0, 5.0 * sqrt(50.0 / 4000.0));
    double p = 1.0 - exp(-1.0);
    ASSERT_NEAR(r[0].trades, 1.0 + 49.0 * p, 5.0 * sqrt(49.0 * p * (1.0 - p) / 4000.0));
    assert_true(r[0].std_pnl > 0.3 && r[0].std_pnl < 0.6);
    assert_true(r[1].std_pnl < r[0].std_pnl);
}

/* Bad settings are refused with a message that names them. */
static void bad_config_is_refused(void **state)
{
    (void)state;
    ht_bt_config cfg;
    ht_opt_strategy s;
    dk_config(&cfg, &s, 21, 100);
    ht_bt_result r;
    ht_error err = {{0}};
    cfg.s0 = -1.0;
    assert_int_equal(ht_bt_run(&cfg, &r, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "s0"));
    dk_config(&cfg, &s, 21, 100);
    cfg.model.kind = HT_BT_HESTON;
    cfg.model.rho = 2.0;
    cfg.model.kappa = cfg.model.theta = cfg.model.xi = 1.0;
    assert_int_equal(ht_bt_run(&cfg, &r, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "rho"));
    dk_config(&cfg, &s, 21, 100);
    s.interval_ns += 1; /* not a whole number of steps */
    assert_int_equal(ht_bt_run(&cfg, &r, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "whole number of steps"));
    dk_config(&cfg, &s, 21, 100);
    cfg.cost = 0.5;
    assert_int_equal(ht_bt_run(&cfg, &r, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cost"));
}

/* The book parser: comments, blank lines, CRLF, spaces; and each kind of bad line named with its number. */
static void book_and_model_parsers(void **state)
{
    (void)state;
    const char good[] = "# desk book\r\ncall, 100, 0.25, -10\n\n  put,95,0.5,+3 # wing\r\ncall,1e2,1,0\n";
    ht_bt_option book[4];
    size_t n = 0;
    ht_error err = {{0}};
    assert_int_equal(ht_bt_book_parse(good, strlen(good), "b.csv", book, 4, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(book[0].is_call && book[0].strike == 100.0 && book[0].expiry_years == 0.25 && book[0].qty == -10.0);
    assert_true(!book[1].is_call && book[1].strike == 95.0 && book[1].qty == 3.0);
    const struct {
        const char *text, *needle;
    } bad[] = {
        {"call,100,0.25\n", "b.csv line 1: expected call|put,strike,expiry_years,qty (4 fields), got 3"},
        {"# c\ncall,100,0.25,1,2\n", "b.csv line 2: expected"},
        {"\n\nstraddle,100,1,1\n", "line 3: option type must be call or put, got 'straddle'"},
        {"call,-1,1,1", "line 1: strike must be a number > 0, got '-1'"},
        {"call,100,0,1", "expiry must be in (0, 50] years, got '0'"},
        {"call,100,1,1e10", "quantity must be a number"},
        {"call,100,1,nan", "quantity must be a number"},
        {"call,100x,1,1", "strike must be a number > 0, got '100x'"},
        {"# only a comment\n\n", "b.csv: no option in it"},
        {"call,1,1,1\ncall,1,1,1\ncall,1,1,1\ncall,1,1,1\ncall,1,1,1\n", "line 5: more than 4 options"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        assert_int_equal(ht_bt_book_parse(bad[i].text, strlen(bad[i].text), "b.csv", book, 4, &n, &err), -1);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("'%s' gave '%s', expected '%s'", bad[i].text, err.msg, bad[i].needle);
    }
    char embedded[] = "call,100,1,1\ncall,1\0,1,1\n";
    assert_int_equal(ht_bt_book_parse(embedded, sizeof embedded - 1, "b.csv", book, 4, &n, &err), -1);
    assert_non_null(strstr(err.msg, "line 2: holds a NUL byte"));
    ht_bt_model m = {0};
    assert_int_equal(ht_bt_model_parse("heston:0.04, 2,0.04,0.5,-0.7", &m, &err), 0);
    assert_true(m.kind == HT_BT_HESTON && m.v0 == 0.04 && m.kappa == 2.0 && m.rho == -0.7);
    assert_int_equal(ht_bt_model_parse("merton:3,-0.1,0.15", &m, &err), 0);
    assert_true(m.kind == HT_BT_MERTON && m.jump_rate == 3.0 && m.jump_mean == -0.1 && m.jump_std == 0.15);
    assert_int_equal(ht_bt_model_parse("gbm", &m, &err), 0);
    assert_true(m.kind == HT_BT_GBM);
    assert_int_equal(ht_bt_model_parse("heston:1,2,3", &m, &err), -1);
    assert_non_null(strstr(err.msg, "needs 5 numbers, got 3"));
    assert_int_equal(ht_bt_model_parse("merton:1,x,2", &m, &err), -1);
    assert_non_null(strstr(err.msg, "parameter 2 ('x') is not a number"));
    assert_int_equal(ht_bt_model_parse("sabr:1", &m, &err), -1);
    assert_non_null(strstr(err.msg, "expected gbm"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(philox_known_answers),
        cmocka_unit_test(rng_moments),
        cmocka_unit_test(black_scholes_known_values),
        cmocka_unit_test(risk_statistics),
        cmocka_unit_test(reproducible_whatever_the_threads),
        cmocka_unit_test(derman_kamal_reproduced),
        cmocka_unit_test(zero_cost_is_the_continuous_limit),
        cmocka_unit_test(costs_are_charged),
        cmocka_unit_test(poisson_clock),
        cmocka_unit_test(bad_config_is_refused),
        cmocka_unit_test(book_and_model_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

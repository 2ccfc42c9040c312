/* SPDX-License-Identifier: MIT */
/* Monte Carlo hedging backtest: paths (GBM, Merton jumps, Heston), the optimizer's strategies, risk statistics. */
#ifndef HEDGETRIG_BACKTEST_H
#define HEDGETRIG_BACKTEST_H

/*
 * Every path gets its own random stream (Philox4x32-10 keyed by the seed, counter = (draw, path)), and per-path
 * results are reduced in path order, so a run gives the same numbers bit for bit whatever the thread count.
 * All strategies of a run see the same paths (common random numbers), so their differences are estimated with
 * far less noise than their levels. Accounting conventions: docs/optimizer.md, "Backtest accounting".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/optimizer.h"

/* ---- random numbers ------------------------------------------------------------------------------------ */

/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
 * encrypts the 128-bit counter ctr with the 64-bit key; out may alias ctr. */
void ht_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* One path's random stream: key = seed, counter = (draw index lo, hi, stream lo, hi). */
typedef struct ht_bt_rng {
    uint32_t key[2];
    uint32_t ctr[4];
    uint32_t buf[4];
    unsigned used;      /* words of buf consumed (4 = empty) */
    bool has_spare;
    double spare;       /* Box-Muller's second normal */
} ht_bt_rng;

void ht_bt_rng_init(ht_bt_rng *rng, uint64_t seed, uint64_t stream);
uint32_t ht_bt_rng_u32(ht_bt_rng *rng);
/* Uniform on (0, 1): 53 random bits, never 0 or 1. */
double ht_bt_rng_uniform(ht_bt_rng *rng);
/* Standard normal (Box-Muller on two uniforms; the second value is kept for the next call). */
double ht_bt_rng_normal(ht_bt_rng *rng);

/* ---- Black-Scholes (the hedger's model) ------------------------------------------------------------------ */

typedef struct ht_bt_bs {
    double price, delta, gamma, vega, vanna; /* vega and vanna per unit of vol (1.0 = 100 vol points) */
} ht_bt_bs;

/* Black-Scholes price and greeks of a European call (is_call) or put, no dividends. tau_years > 0, vol > 0,
 * spot > 0, strike > 0. At tau_years <= 0 it returns the payoff with the delta of the exercise decision. */
void ht_bt_bs_eval(bool is_call, double spot, double strike, double tau_years, double rate, double vol,
                   ht_bt_bs *out);

/* ---- path models ----------------------------------------------------------------------------------------- */

typedef enum ht_bt_model_kind { HT_BT_GBM = 0, HT_BT_MERTON, HT_BT_HESTON } ht_bt_model_kind;

typedef struct ht_bt_model {
    ht_bt_model_kind kind;
    double mu;          /* drift of the spot (real world), per year */
    double sigma;       /* GBM and Merton: diffusion vol, > 0 */
    double jump_rate;   /* Merton: jumps per year, >= 0 */
    double jump_mean;   /* Merton: mean of the log jump */
    double jump_std;    /* Merton: std of the log jump, >= 0 */
    double v0, kappa, theta, xi, rho; /* Heston: initial variance, mean reversion, long variance, vol of vol, corr */
} ht_bt_model;

/* A path's state: spot and (Heston) variance. */
typedef struct ht_bt_state {
    double spot;
    double var;
} ht_bt_state;

/* Parses a model spec as `hedgetrig backtest --model` spells it: "gbm", "merton:RATE,MEAN,STD" (jumps per year,
 * mean and std of the log jump) or "heston:V0,KAPPA,THETA,XI,RHO". Sets kind and those parameters (mu and sigma
 * are left alone; ranges are checked by ht_bt_model_check). Returns 0, or -1 with err naming what was wrong. */
int ht_bt_model_parse(const char *spec, ht_bt_model *m, ht_error *err);

/* Checks a model's parameters; returns 0 or -1 with err naming the bad one. */
int ht_bt_model_check(const ht_bt_model *m, ht_error *err);

/* Advances the state by dt_years (> 0): GBM and Merton exactly (log-normal step; Poisson number of normal log
 * jumps, compensated so that E[S] grows at mu); Heston by Andersen's (2008) QE scheme for the variance (which
 * keeps it non-negative) and his log-spot step with gamma1 = gamma2 = 1/2. */
void ht_bt_model_step(const ht_bt_model *m, ht_bt_state *st, double dt_years, ht_bt_rng *rng);

/* ---- the backtest ---------------------------------------------------------------------------------------- */

/* One European option of the hedged book. */
typedef struct ht_bt_option {
    bool is_call;
    double strike;        /* > 0 */
    double expiry_years;  /* > 0, from the start */
    double qty;           /* signed: -1 = short one option */
} ht_bt_option;

/* Parses a book: len bytes of text (no NUL needed), one option a line as "call|put,strike,expiry_years,qty"
 * (qty signed: negative = short), spaces around fields allowed, '#' starts a comment, blank lines and CRLF are
 * fine. Writes up to max options; *count gets how many. Returns 0, or -1 with err naming source and the line. */
int ht_bt_book_parse(const char *text, size_t len, const char *source, ht_bt_option *out, size_t max, size_t *count,
                     ht_error *err);

typedef enum ht_bt_clock {
    HT_BT_CLOCK_GRID = 0,  /* observations (and decisions) at k T / steps */
    HT_BT_CLOCK_POISSON,   /* observations at Poisson times, steps of them on average over [0, T] (ticks) */
} ht_bt_clock;

typedef enum ht_bt_settle {
    HT_BT_SETTLE_CASH = 0, /* options pay cash; the hedge is sold back at T at the proportional cost */
    HT_BT_SETTLE_PHYSICAL, /* options deliver the underlying into the hedge; only the rest is traded at T */
} ht_bt_settle;

typedef struct ht_bt_config {
    double s0;               /* > 0 */
    double rate;             /* r, continuous; cash accrues at it */
    double vol;              /* the hedger's vol (Black-Scholes premium and greeks), > 0 */
    ht_bt_model model;
    const ht_bt_option *book;
    size_t n_options;        /* >= 1 */
    uint32_t steps;          /* decisions over [0, T], T = the last expiry; >= 1 */
    ht_bt_clock clock;
    double tick_size;        /* > 0: the hedger sees the spot rounded to this grid; 0 = exact */
    uint64_t paths;          /* >= 2 */
    uint64_t seed;
    unsigned threads;        /* 0 = one per online CPU */
    double cost;             /* proportional one-way cost k, fraction of notional, >= 0 */
    double fixed_cost;       /* per hedge trade, in currency, >= 0 */
    ht_bt_settle settle;
    double risk_aversion;    /* for the entropic risk measure, > 0 */
    const ht_opt_strategy *strategies;
    size_t n_strategies;     /* >= 1 */
    /* Optional: called on the calling thread after each block of paths it completes, with the paths done so
     * far by every thread (monotonic, up to paths), and once more with paths when all are done. */
    void (*progress)(void *ctx, uint64_t paths_done, uint64_t paths);
    void *progress_ctx;
} ht_bt_config;

/* Fills *cfg with the defaults of `hedgetrig backtest` (short ATM call, S0 = K = 100, T = 1/12, sigma 20 %,
 * r = mu = 5 %, 21 steps, 10,000 paths, seed 1, no cost, GBM). book and strategies stay NULL. */
void ht_bt_config_default(ht_bt_config *cfg);

typedef struct ht_bt_result {
    char name[48];           /* the strategy's spec */
    double mean_pnl;         /* P&L at T, currency units at T (docs: "Backtest accounting") */
    double std_pnl;          /* sample standard deviation */
    double mean_pnl_se;      /* standard error of mean_pnl */
    double std_pnl_se;       /* standard error of std_pnl (from the sample kurtosis) */
    double skew, kurtosis;   /* of the P&L; kurtosis is the excess kurtosis */
    double mean_cost;        /* proportional + fixed costs, accrued to T, per path */
    double mean_cost_se;
    double trades;           /* hedge trades per path (the settlement at T is not counted) */
    double turnover;         /* units of the underlying traded per path, settlement included */
    double var99;            /* value at risk at 99 %: minus the 1 % quantile of the P&L (a loss is > 0) */
    double cvar99;           /* expected shortfall at 99 %: minus the mean of the worst 1 % */
    double entropic;         /* (1/a) log E[exp(-a P&L)], a = risk_aversion */
} ht_bt_result;

/* T (the last expiry of the book) in years, and the length of one step T / steps in ns: what `time:N` strategy
 * specs multiply (ht_opt_strategy_parse's step_ns). Returns 0 when the book or steps are not set. */
double ht_bt_horizon_years(const ht_bt_config *cfg);
int64_t ht_bt_step_ns(const ht_bt_config *cfg);

/* Runs the backtest. results has n_strategies entries. pnl_out, when not NULL, receives every path's P&L:
 * pnl_out[s * paths + p]. Returns 0, or -1 with err naming the bad setting (or an allocation failure). */
int ht_bt_run(const ht_bt_config *cfg, ht_bt_result *results, double *pnl_out, ht_error *err);

/* Risk statistics of a sample of P&L x[0..n-1] (n >= 2) into the statistics fields of *out (mean_pnl, std_pnl,
 * their standard errors, skew, kurtosis, var99, cvar99, entropic). scratch has room for n doubles. */
void ht_bt_pnl_stats(const double *x, size_t n, double risk_aversion, double *scratch, ht_bt_result *out);

/* Derman & Kamal's estimate of the P&L std of N equally spaced re-hedges of a book with the given vega:
 * sigma x vega x sqrt(pi / (4 N)). */
double ht_bt_derman_kamal_std(double vol, double vega, unsigned rebalances);

#endif

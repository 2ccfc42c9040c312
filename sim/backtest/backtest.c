/* SPDX-License-Identifier: MIT */
/* The Monte Carlo hedging backtest: paths in parallel (pthreads), the optimizer decides, per-path accounting. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hedgetrig/backtest.h"

/* Paths per work unit: a unit's sums are reduced in order, so the result does not depend on who ran it. */
#define BLOCK_PATHS 256
/* Per-block sums kept for each strategy: cost, trades, turnover, cost squared (for its standard error). */
enum { SUM_COST, SUM_TRADES, SUM_TURNOVER, SUM_COST2, SUM_COUNT };
/* Largest paths x strategies the P&L store may hold (8 bytes each). */
#define MAX_SAMPLES 100000000ull
#define MAX_THREADS 256

/* One strategy's account along a path. */
typedef struct account {
    double hedge;     /* units of the underlying */
    double cash;      /* money account, accrues at r */
    double cost_at_t; /* costs, each accrued to T */
    double turnover;
    uint32_t trades;
    double next_due;  /* POISSON clock: time of the next TIME / LELAND rebalance (years) */
} account;

/* Shared by the workers of one run. */
typedef struct run_ctx {
    const ht_bt_config *cfg;
    double horizon;           /* T, years */
    int64_t step_ns;
    uint64_t n_blocks;
    atomic_uint_fast64_t next_block;
    atomic_uint_fast64_t paths_done; /* for cfg->progress */
    atomic_int failed;
    char fail_msg[256];
    double *pnl;              /* [strategy][path] */
    const struct worker *first_worker; /* the calling thread's: the one that reports progress */
    double *block_sums;       /* [block][strategy][SUM_COUNT] */
    ht_opt_strategy *strategies; /* as run: cost_override set */
    uint64_t *rebalance_every;   /* GRID clock: TIME / LELAND period in steps (0 for band rules) */
} run_ctx;

/* One worker's own objects. */
typedef struct worker {
    run_ctx *run;
    ht_opt **opts;            /* one optimizer per strategy (they keep per-path state) */
    account *acct;
    bool *live;               /* options not yet settled */
    ht_bt_bs *greeks;
} worker;

void ht_bt_config_default(ht_bt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->s0 = 100.0;
    cfg->rate = 0.05;
    cfg->vol = 0.2;
    cfg->model.kind = HT_BT_GBM;
    cfg->model.mu = 0.05;
    cfg->model.sigma = 0.2;
    cfg->steps = 21;
    cfg->clock = HT_BT_CLOCK_GRID;
    cfg->paths = 10000;
    cfg->seed = 1;
    cfg->settle = HT_BT_SETTLE_CASH;
    cfg->risk_aversion = 1.0;
}

double ht_bt_horizon_years(const ht_bt_config *cfg)
{
    double t = 0.0;
    for (size_t i = 0; cfg->book && i < cfg->n_options; i++)
        if (cfg->book[i].expiry_years > t)
            t = cfg->book[i].expiry_years;
    return t;
}

int64_t ht_bt_step_ns(const ht_bt_config *cfg)
{
    double t = ht_bt_horizon_years(cfg);
    if (!(t > 0.0) || cfg->steps == 0)
        return 0;
    int64_t ns = (int64_t)llround(t * HT_OPT_SECONDS_PER_YEAR * 1e9 / cfg->steps);
    return ns > 0 ? ns : 1;
}

/* Validates a configuration; returns 0 or -1 with err naming the bad setting. */
static int check_config(const ht_bt_config *c, ht_error *err)
{
    if (!(isfinite(c->s0) && c->s0 > 0.0))
        return ht_error_set(err, "backtest: s0 must be > 0, got %g", c->s0);
    if (!(isfinite(c->rate) && fabs(c->rate) <= 1.0))
        return ht_error_set(err, "backtest: r must be in [-1, 1], got %g", c->rate);
    if (!(isfinite(c->vol) && c->vol > 0.0 && c->vol <= 10.0))
        return ht_error_set(err, "backtest: sigma (the hedger's vol) must be in (0, 10], got %g", c->vol);
    if (ht_bt_model_check(&c->model, err) != 0)
        return -1;
    if (!c->book || c->n_options == 0)
        return ht_error_set(err, "backtest: the book is empty");
    for (size_t i = 0; i < c->n_options; i++) {
        const ht_bt_option *o = &c->book[i];
        if (!(isfinite(o->strike) && o->strike > 0.0))
            return ht_error_set(err, "backtest: option %zu: strike must be > 0, got %g", i + 1, o->strike);
        if (!(isfinite(o->expiry_years) && o->expiry_years > 0.0 && o->expiry_years <= 50.0))
            return ht_error_set(err, "backtest: option %zu: expiry must be in (0, 50] years, got %g", i + 1,
                                o->expiry_years);
        if (!isfinite(o->qty) || fabs(o->qty) > 1e9)
            return ht_error_set(err, "backtest: option %zu: quantity must be finite (|qty| <= 1e9)", i + 1);
    }
    if (c->steps < 1 || c->steps > 10000000)
        return ht_error_set(err, "backtest: steps must be in [1, 1e7], got %u", c->steps);
    if (c->clock != HT_BT_CLOCK_GRID && c->clock != HT_BT_CLOCK_POISSON)
        return ht_error_set(err, "backtest: unknown clock %d", (int)c->clock);
    if (!(isfinite(c->tick_size) && c->tick_size >= 0.0))
        return ht_error_set(err, "backtest: tick size must be >= 0, got %g", c->tick_size);
    if (c->paths < 2)
        return ht_error_set(err, "backtest: paths must be >= 2, got %llu", (unsigned long long)c->paths);
    if (!(isfinite(c->cost) && c->cost >= 0.0 && c->cost <= 0.1))
        return ht_error_set(err, "backtest: cost must be in [0, 0.1], got %g", c->cost);
    if (!(isfinite(c->fixed_cost) && c->fixed_cost >= 0.0))
        return ht_error_set(err, "backtest: fixed cost must be >= 0, got %g", c->fixed_cost);
    if (c->settle != HT_BT_SETTLE_CASH && c->settle != HT_BT_SETTLE_PHYSICAL)
        return ht_error_set(err, "backtest: unknown settlement %d", (int)c->settle);
    if (!(isfinite(c->risk_aversion) && c->risk_aversion > 0.0))
        return ht_error_set(err, "backtest: risk aversion must be > 0, got %g", c->risk_aversion);
    if (!c->strategies || c->n_strategies == 0)
        return ht_error_set(err, "backtest: no strategy");
    if (c->n_strategies > MAX_SAMPLES / c->paths)
        return ht_error_set(err, "backtest: paths x strategies = %llu x %zu is above the limit of %llu",
                            (unsigned long long)c->paths, c->n_strategies, (unsigned long long)MAX_SAMPLES);
    return 0;
}

/* Records the first failure of a worker. */
static void fail(run_ctx *run, const char *msg)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&run->failed, &expected, 1))
        snprintf(run->fail_msg, sizeof run->fail_msg, "%s", msg);
}

/* Frees a worker's objects. */
static void worker_free(worker *w, size_t n_strategies)
{
    if (w->opts)
        for (size_t s = 0; s < n_strategies; s++)
            ht_opt_destroy(w->opts[s]);
    free(w->opts);
    free(w->acct);
    free(w->live);
    free(w->greeks);
}

/* Creates a worker's optimizers: one underlying, one frictionless venue whose taker fee is the run's cost. */
static int worker_init(worker *w, run_ctx *run)
{
    const ht_bt_config *cfg = run->cfg;
    memset(w, 0, sizeof *w);
    w->run = run;
    w->opts = calloc(cfg->n_strategies, sizeof *w->opts);
    w->acct = calloc(cfg->n_strategies, sizeof *w->acct);
    w->live = calloc(cfg->n_options, sizeof *w->live);
    w->greeks = calloc(cfg->n_options, sizeof *w->greeks);
    if (!w->opts || !w->acct || !w->live || !w->greeks)
        return -1;
    ht_opt_config oc;
    ht_opt_config_default(&oc);
    oc.impact_y = 0.0;
    oc.adverse_coef = 0.0;
    oc.fixed_cost_usd = cfg->fixed_cost;
    ht_opt_venue venue;
    ht_opt_venue_init(&venue, "BACKTEST", HT_OPT_LINEAR, 1.0);
    venue.lot_amount = 0.0;
    venue.min_amount = 0.0;
    venue.tick_size = 1e-12;
    venue.taker_fee = cfg->cost;
    venue.collar_frac = 0.49;
    for (size_t s = 0; s < cfg->n_strategies; s++) {
        ht_error err;
        w->opts[s] = ht_opt_create(&oc, &err);
        if (!w->opts[s] || ht_opt_set_strategy(w->opts[s], 0, &run->strategies[s], &err) != 0 ||
            ht_opt_add_venue(w->opts[s], 0, &venue, &err) != 0) {
            fail(run, err.msg);
            return -1;
        }
    }
    return 0;
}

/* Book greeks at one observation: delta, gamma, vanna, gross delta and gamma-weighted time to expiry. */
typedef struct book_greeks {
    double delta, gamma, vanna, gross, tau;
} book_greeks;

/* Prices the live options at (spot, t) with the hedger's vol into w->greeks and sums them. */
static book_greeks eval_book(worker *w, double spot, double t)
{
    const ht_bt_config *cfg = w->run->cfg;
    book_greeks g = {0};
    double gamma_weight = 0.0, tau_max = 0.0;
    for (size_t i = 0; i < cfg->n_options; i++) {
        if (!w->live[i])
            continue;
        const ht_bt_option *o = &cfg->book[i];
        double tau = o->expiry_years - t;
        ht_bt_bs_eval(o->is_call, spot, o->strike, tau, cfg->rate, cfg->vol, &w->greeks[i]);
        const ht_bt_bs *b = &w->greeks[i];
        g.delta += o->qty * b->delta;
        g.gamma += o->qty * b->gamma;
        g.vanna += o->qty * b->vanna;
        g.gross += fabs(o->qty * b->delta);
        gamma_weight += fabs(o->qty * b->gamma);
        g.tau += fabs(o->qty * b->gamma) * tau;
        if (tau > tau_max)
            tau_max = tau;
    }
    g.tau = gamma_weight > 0.0 ? g.tau / gamma_weight : tau_max;
    if (!(g.tau > 0.0))
        g.tau = 1.0 / HT_OPT_SECONDS_PER_YEAR;
    return g;
}

/* The book's delta at another vol (for ZAK's and LELAND's centre). */
static double book_delta_at(const worker *w, double spot, double t, double vol)
{
    const ht_bt_config *cfg = w->run->cfg;
    double delta = 0.0;
    for (size_t i = 0; i < cfg->n_options; i++) {
        if (!w->live[i])
            continue;
        const ht_bt_option *o = &cfg->book[i];
        ht_bt_bs b;
        ht_bt_bs_eval(o->is_call, spot, o->strike, o->expiry_years - t, cfg->rate, vol, &b);
        delta += o->qty * b.delta;
    }
    return delta;
}

/* Settles the options that have expired by time t at spot: cash, or delivery into every account's hedge. */
static void settle_expired(worker *w, double spot, double t, bool final)
{
    const ht_bt_config *cfg = w->run->cfg;
    for (size_t i = 0; i < cfg->n_options; i++) {
        const ht_bt_option *o = &cfg->book[i];
        if (!w->live[i] || (!final && o->expiry_years > t + 1e-12))
            continue;
        w->live[i] = false;
        double intrinsic = o->is_call ? spot - o->strike : o->strike - spot;
        bool in_the_money = intrinsic > 0.0;
        for (size_t s = 0; s < cfg->n_strategies; s++) {
            account *a = &w->acct[s];
            if (cfg->settle == HT_BT_SETTLE_PHYSICAL) {
                if (in_the_money) { /* a long call receives the underlying and pays the strike */
                    double units = o->qty * (o->is_call ? 1.0 : -1.0);
                    a->hedge += units;
                    a->cash -= units * o->strike;
                }
            } else if (in_the_money) {
                a->cash += o->qty * intrinsic;
            }
        }
    }
}

/* Starts a path: its random stream, the options live again, every strategy's account opened with the book's
 * premium and its optimizer's per-path state forgotten. */
static void start_path(worker *w, uint64_t path, ht_bt_rng *rng)
{
    const ht_bt_config *cfg = w->run->cfg;
    ht_bt_rng_init(rng, cfg->seed, path);
    double premium = 0.0;
    for (size_t i = 0; i < cfg->n_options; i++) {
        w->live[i] = true;
        ht_bt_bs b;
        ht_bt_bs_eval(cfg->book[i].is_call, cfg->s0, cfg->book[i].strike, cfg->book[i].expiry_years, cfg->rate,
                      cfg->vol, &b);
        premium += cfg->book[i].qty * b.price;
    }
    for (size_t s = 0; s < cfg->n_strategies; s++) {
        account *a = &w->acct[s];
        memset(a, 0, sizeof *a);
        a->cash = -premium; /* the book is bought (or, when short, sold) at the hedger's Black-Scholes value */
        ht_opt_reset(w->opts[s]);
    }
}

/* The spot the hedger sees and trades: the model's, rounded to the tick size when there is one. */
static double hedger_spot(const ht_bt_config *cfg, double model_spot)
{
    return cfg->tick_size > 0.0 ? fmax(round(model_spot / cfg->tick_size), 1.0) * cfg->tick_size : model_spot;
}

/* Whether a timed strategy's rebalance falls on observation k at time t: every rebalance_every steps on the grid,
 * else at the first observation at or after its next due time (which then moves one period on). */
static bool rebalance_due(const run_ctx *run, size_t s, uint64_t k, double t, account *a)
{
    if (run->cfg->clock == HT_BT_CLOCK_GRID)
        return k % run->rebalance_every[s] == 0;
    double period = (double)run->strategies[s].interval_ns * 1e-9 / HT_OPT_SECONDS_PER_YEAR;
    bool due = t >= a->next_due - 1e-15;
    if (due)
        a->next_due = (floor(t / period + 1e-9) + 1.0) * period;
    return due;
}

/* One strategy's decision at observation k (time t, spot) and its accounting: the trade at the spot, its cost
 * (accrued to T with growth_to_t) and turnover. book is the observation's, its vanna set here per strategy.
 * Returns -1 (the run failed) when the optimizer refused the input. */
static int hedge_strategy(worker *w, size_t s, uint64_t k, double t, double spot, const book_greeks *g,
                          ht_opt_book *book, const ht_opt_quote *quote, double growth_to_t)
{
    run_ctx *run = w->run;
    const ht_bt_config *cfg = run->cfg;
    const ht_opt_strategy *strat = &run->strategies[s];
    account *a = &w->acct[s];
    ht_opt_event ev = {.underlying = 0, .trigger = HT_OPT_TRIGGER_REFRESH, .side = 0,
                       .now_ns = (int64_t)llround(t * HT_OPT_SECONDS_PER_YEAR * 1e9), .spot = spot,
                       .net_delta_coin = g->delta + a->hedge, .net_gamma = g->gamma};
    if (run->rebalance_every[s] > 0 && rebalance_due(run, s, k, t, a))
        ev.trigger = HT_OPT_TRIGGER_TIMER;
    book->vanna = g->vanna;
    if (ht_opt_rule_traits_of(strat->rule)->own_hedge_vol) { /* the rule was checked when the optimizer took it */
        /* The centre exactly: the secant vanna between the vol and the hedge vol. */
        double hv = ht_opt_hedge_vol(strat, g->gamma, spot, g->tau, cfg->rate, cfg->vol, strat->cost_override);
        if (hv != cfg->vol)
            book->vanna = (book_delta_at(w, spot, t, hv) - g->delta) / (hv - cfg->vol);
    }
    ht_opt_decision d;
    ht_error err;
    if (ht_opt_decide(w->opts[s], &ev, book, quote, &d, &err) != 0) {
        fail(run, err.msg);
        return -1;
    }
    double q = d.trade_delta_coin;
    if (q != 0.0) {
        double c = cfg->cost * spot * fabs(q) + cfg->fixed_cost;
        a->hedge += q;
        a->cash -= q * spot + c;
        a->cost_at_t += c * growth_to_t;
        a->turnover += fabs(q);
        a->trades++;
    }
    return 0;
}

/* Moves the path from observation k at time t to the next one (the grid's next step, or a Poisson tick, never
 * past T): steps the model over the gap and accrues every account's cash. Returns the new time. */
static double next_observation(worker *w, uint64_t k, double t, double tick_rate, ht_bt_state *st, ht_bt_rng *rng)
{
    const ht_bt_config *cfg = w->run->cfg;
    const double horizon = w->run->horizon;
    double t_next;
    if (cfg->clock == HT_BT_CLOCK_GRID)
        t_next = k + 1 >= cfg->steps ? horizon : horizon * (double)(k + 1) / (double)cfg->steps;
    else
        t_next = fmin(t - log(ht_bt_rng_uniform(rng)) / tick_rate, horizon);
    double dt = t_next - t;
    if (dt > 0.0) {
        ht_bt_model_step(&cfg->model, st, dt, rng);
        double growth = exp(cfg->rate * dt);
        for (size_t s = 0; s < cfg->n_strategies; s++)
            w->acct[s].cash *= growth;
    }
    return t_next;
}

/* At T: settles what is left, sells each hedge back at cost, and writes each strategy's P&L and sums. */
static void close_path(worker *w, uint64_t path, double spot, double *sums)
{
    run_ctx *run = w->run;
    const ht_bt_config *cfg = run->cfg;
    settle_expired(w, spot, run->horizon, true);
    for (size_t s = 0; s < cfg->n_strategies; s++) {
        account *a = &w->acct[s];
        if (a->hedge != 0.0) {
            double c = cfg->cost * spot * fabs(a->hedge) + cfg->fixed_cost;
            a->cash += a->hedge * spot - c;
            a->cost_at_t += c;
            a->turnover += fabs(a->hedge);
            a->hedge = 0.0;
        }
        run->pnl[s * cfg->paths + path] = a->cash;
        double *sum = sums + s * SUM_COUNT;
        sum[SUM_COST] += a->cost_at_t;
        sum[SUM_COST2] += a->cost_at_t * a->cost_at_t;
        sum[SUM_TRADES] += a->trades;
        sum[SUM_TURNOVER] += a->turnover;
    }
}

/* Runs one path for every strategy and writes its P&L and sums: at each observation the expired options settle,
 * the book is priced, and every strategy decides; then the next observation. */
static int run_path(worker *w, uint64_t path, double *sums)
{
    const ht_bt_config *cfg = w->run->cfg;
    const double horizon = w->run->horizon;
    ht_bt_rng rng;
    start_path(w, path, &rng);
    ht_bt_state st = {cfg->s0, cfg->model.v0};
    const double tick_rate = (double)cfg->steps / horizon;
    double t = 0.0;
    ht_opt_quote quote = {.n_bid = 1, .n_ask = 1, .bid_amount = {1.0}, .ask_amount = {1.0}, .unlimited_depth = true};
    for (uint64_t k = 0;; k++) {
        double spot = hedger_spot(cfg, st.spot);
        settle_expired(w, spot, t, false);
        book_greeks g = eval_book(w, spot, t);
        ht_opt_book book = {.tau_years = g.tau, .vol = cfg->vol, .rate = cfg->rate, .vanna = g.vanna,
                            .gross_delta_coin = g.gross};
        quote.bid_px[0] = quote.ask_px[0] = spot;
        double growth_to_t = exp(cfg->rate * (horizon - t));
        for (size_t s = 0; s < cfg->n_strategies; s++)
            if (hedge_strategy(w, s, k, t, spot, &g, &book, &quote, growth_to_t) != 0)
                return -1;
        t = next_observation(w, k, t, tick_rate, &st, &rng);
        if (t >= horizon)
            break;
    }
    close_path(w, path, hedger_spot(cfg, st.spot), sums);
    return 0;
}

/* A worker thread: takes blocks of paths until none is left or a worker failed. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    run_ctx *run = w->run;
    const ht_bt_config *cfg = run->cfg;
    for (;;) {
        if (atomic_load(&run->failed))
            break;
        uint64_t block = atomic_fetch_add(&run->next_block, 1);
        if (block >= run->n_blocks)
            break;
        double *sums = run->block_sums + block * cfg->n_strategies * SUM_COUNT;
        uint64_t end = (block + 1) * BLOCK_PATHS;
        if (end > cfg->paths)
            end = cfg->paths;
        for (uint64_t p = block * BLOCK_PATHS; p < end; p++)
            if (run_path(w, p, sums) != 0)
                return NULL;
        uint64_t done = atomic_fetch_add(&run->paths_done, end - block * BLOCK_PATHS) + end - block * BLOCK_PATHS;
        if (cfg->progress && w == w->run->first_worker)
            cfg->progress(cfg->progress_ctx, done, cfg->paths);
    }
    return NULL;
}

/* The strategies as run: the run's cost as their cost k unless they set their own, and a timed rule's period in
 * steps (which must be a whole number of them). Returns 0, or -1 with err naming the strategy. */
static int prepare_strategies(run_ctx *run, ht_error *err)
{
    const ht_bt_config *cfg = run->cfg;
    for (size_t s = 0; s < cfg->n_strategies; s++) {
        ht_opt_strategy st = cfg->strategies[s];
        if (cfg->cost > 0.0 && !(st.cost_override > 0.0))
            st.cost_override = cfg->cost;
        const ht_opt_rule_traits *rule = ht_opt_rule_traits_of(st.rule); /* NULL: refused by the optimizer later */
        if (rule && rule->timed) {
            if (st.interval_ns < run->step_ns || st.interval_ns % run->step_ns != 0) {
                char name[48];
                return ht_error_set(err, "backtest: strategy %s: its period must be a whole number of steps of %lld ns",
                                    ht_opt_strategy_name(&st, run->step_ns, name, sizeof name),
                                    (long long)run->step_ns);
            }
            run->rebalance_every[s] = (uint64_t)(st.interval_ns / run->step_ns);
        }
        run->strategies[s] = st;
    }
    return 0;
}

/* Runs every path on cfg->threads workers (0: one per CPU, never more than blocks): the calling thread is worker 0,
 * the others run on their own threads (fewer if creation fails). Returns 0, or -1 with err set when a worker could
 * not be set up or a path failed. */
static int run_workers(run_ctx *run, ht_error *err)
{
    const ht_bt_config *cfg = run->cfg;
    size_t ns = cfg->n_strategies;
    unsigned threads = cfg->threads;
    if (threads == 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        threads = online > 0 ? (unsigned)online : 1;
    }
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads > run->n_blocks)
        threads = (unsigned)run->n_blocks;
    worker *workers = calloc(threads, sizeof *workers);
    pthread_t *tids = calloc(threads, sizeof *tids);
    int rc = -1;
    if (!workers || !tids) {
        ht_error_set(err, "backtest: out of memory for %u threads", threads);
        goto out;
    }
    unsigned ready = 0;
    for (; ready < threads; ready++)
        if (worker_init(&workers[ready], run) != 0) {
            worker_free(&workers[ready], ns);
            break;
        }
    if (ready < threads) {
        ht_error_set(err, "backtest: %s", atomic_load(&run->failed) ? run->fail_msg : "out of memory for a worker");
        for (unsigned i = 0; i < ready; i++)
            worker_free(&workers[i], ns);
        goto out;
    }
    unsigned started = 1;
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, worker_main, &workers[started]) != 0)
            break;
    run->first_worker = &workers[0];
    worker_main(&workers[0]);
    for (unsigned i = 1; i < started; i++)
        pthread_join(tids[i], NULL);
    if (cfg->progress && !atomic_load(&run->failed))
        cfg->progress(cfg->progress_ctx, cfg->paths, cfg->paths);
    for (unsigned i = 0; i < threads; i++)
        worker_free(&workers[i], ns);
    if (atomic_load(&run->failed)) {
        ht_error_set(err, "backtest: %s", run->fail_msg);
        goto out;
    }
    rc = 0;
out:
    free(workers);
    free(tids);
    return rc;
}

/* Each strategy's result: its sums reduced in block order (so the result does not depend on who ran which
 * block), then the P&L statistics (scratch: room for one strategy's P&L). */
static void reduce_results(const run_ctx *run, ht_bt_result *results, double *scratch)
{
    const ht_bt_config *cfg = run->cfg;
    size_t ns = cfg->n_strategies;
    for (size_t s = 0; s < ns; s++) {
        double sums[SUM_COUNT] = {0};
        for (uint64_t b = 0; b < run->n_blocks; b++)
            for (int j = 0; j < SUM_COUNT; j++)
                sums[j] += run->block_sums[(b * ns + s) * SUM_COUNT + j];
        ht_bt_result *r = &results[s];
        memset(r, 0, sizeof *r);
        ht_opt_strategy_name(&cfg->strategies[s], run->step_ns, r->name, sizeof r->name);
        double n = (double)cfg->paths;
        r->mean_cost = sums[SUM_COST] / n;
        double cost_var = (sums[SUM_COST2] - n * r->mean_cost * r->mean_cost) / (n - 1.0);
        r->mean_cost_se = sqrt(cost_var > 0.0 ? cost_var / n : 0.0);
        r->trades = sums[SUM_TRADES] / n;
        r->turnover = sums[SUM_TURNOVER] / n;
        ht_bt_pnl_stats(run->pnl + s * cfg->paths, cfg->paths, cfg->risk_aversion, scratch, r);
    }
}

int ht_bt_run(const ht_bt_config *cfg, ht_bt_result *results, double *pnl_out, ht_error *err)
{
    if (check_config(cfg, err) != 0)
        return -1;
    run_ctx run;
    memset(&run, 0, sizeof run);
    run.cfg = cfg;
    run.horizon = ht_bt_horizon_years(cfg);
    run.step_ns = ht_bt_step_ns(cfg);
    run.n_blocks = (cfg->paths + BLOCK_PATHS - 1) / BLOCK_PATHS;
    atomic_init(&run.next_block, 0);
    atomic_init(&run.paths_done, 0);
    atomic_init(&run.failed, 0);
    size_t ns = cfg->n_strategies;
    run.strategies = calloc(ns, sizeof *run.strategies);
    run.rebalance_every = calloc(ns, sizeof *run.rebalance_every);
    run.pnl = pnl_out ? pnl_out : malloc(cfg->paths * ns * sizeof *run.pnl);
    run.block_sums = calloc(run.n_blocks * ns * SUM_COUNT, sizeof *run.block_sums);
    double *scratch = malloc(cfg->paths * sizeof *scratch);
    int rc = -1;
    if (!run.strategies || !run.rebalance_every || !run.pnl || !run.block_sums || !scratch) {
        ht_error_set(err, "backtest: out of memory for %llu paths x %zu strategies", (unsigned long long)cfg->paths,
                     ns);
        goto out;
    }
    if (prepare_strategies(&run, err) != 0 || run_workers(&run, err) != 0)
        goto out;
    reduce_results(&run, results, scratch);
    rc = 0;
out:
    free(run.strategies);
    free(run.rebalance_every);
    if (!pnl_out)
        free(run.pnl);
    free(run.block_sums);
    free(scratch);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* `hedgetrig backtest`: Monte Carlo hedging backtest of the optimizer's strategies, and the cost-vs-risk frontier. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/backtest.h"
#include "hedgetrig/optimizer.h"
#include "hedgetrig/textfile.h"
#include "hedgetrig/tsc.h"

#define CMD "backtest"
#define MAX_STRATEGIES 256
#define MAX_BOOK 4096
#define MAX_COSTS 32

static const char *const g_usage =
    "usage: hedgetrig backtest [OPTIONS]\n"
    "\n"
    "Monte Carlo backtest of delta-hedging strategies (the optimizer's own decision code) on simulated paths.\n"
    "Prints one row per strategy: mean and std of the P&L, mean cost, trades, turnover, VaR and CVaR at 99 %,\n"
    "entropic risk. P&L is the hedger's, at T, in currency units (docs/optimizer.md, \"Backtest accounting\").\n"
    "\n"
    "what is hedged (default: one short ATM call):\n"
    "  --side short|long     the option position (short)\n"
    "  --option call|put     (call)\n"
    "  --qty Q               number of options (1)\n"
    "  --strike K            (= --s0)\n"
    "  --T YEARS             time to expiry (0.0833333 = 1/12)\n"
    "  --book FILE           a whole book instead: CSV lines call|put,strike,expiry_years,signed_qty\n"
    "market:\n"
    "  --s0 S                spot at the start (100)\n"
    "  --sigma V             the hedger's vol, and the GBM / Merton diffusion vol (0.2)\n"
    "  --r R                 interest rate, continuous (0.05)\n"
    "  --mu M                drift of the spot (= r)\n"
    "  --model M             gbm | merton:RATE,MEAN,STD (jumps per year, mean and std of the log jump)\n"
    "                        | heston:V0,KAPPA,THETA,XI,RHO (gbm)\n"
    "  --clock grid|poisson  decisions at steps equally spaced times, or at Poisson tick times (grid)\n"
    "  --tick-size X         the hedger sees and trades the spot rounded to X (0 = exact)\n"
    "simulation:\n"
    "  --steps N             decision times over [0, T] (21)\n"
    "  --paths N             (10000)\n"
    "  --seed N              (1); results do not depend on --threads\n"
    "  --threads N           (0 = one per CPU)\n"
    "hedging:\n"
    "  --strategy SPEC       repeatable (default time:1):\n"
    "                          time:N            re-hedge to delta every N steps\n"
    "                          leland:N          the same at Leland's cost-adjusted vol\n"
    "                          move:H[,edge|center]  when the spot has moved by H (relative)\n"
    "                          ww:GAMMA[,edge|center]  Whalley-Wilmott band, risk aversion GAMMA\n"
    "                          zak:GAMMA[,edge|center] Zakamouline band\n"
    "                          fixed:X[,edge|center]   band of +/- X underlying units (X% = of gross delta)\n"
    "  --cost K              proportional cost, one way, fraction of notional (0)\n"
    "  --fixed-cost C        cost per trade, currency units (0); sizing then goes to the centre\n"
    "  --settle cash|physical  cash: the hedge is sold back at T at cost; physical: options deliver (cash)\n"
    "  --risk-aversion A     of the entropic risk measure (1)\n"
    "output:\n"
    "  --json | --csv        one JSON object, or CSV rows, instead of the table\n"
    "  --plot FILE.png       mean cost against P&L std of the strategies (gnuplot)\n"
    "  --frontier DIR        run every cost of --costs (default 1e-4,3e-4,1e-3,3e-3,1e-2) with the strategies\n"
    "                        (default: a grid of each family), write DIR/frontier.csv, frontier.dat,\n"
    "                        frontier.gp, frontier.png and claim.txt (band vs time-based cost at equal std)\n"
    "  --costs LIST          comma-separated costs for --frontier\n"
    "  --progress            a progress line on stderr from the start (default: once a run has taken 2 s)\n"
    "\n"
    "The output paths (--plot, --frontier) are checked before the work starts.\n"
    "Exit status: 0 ok, 1 a file cannot be read or written (named), 2 usage error.\n";

/* The progress line on stderr: from the start with --progress, else once a run has taken PROGRESS_AFTER_NS;
 * rewritten in place on a terminal (every 0.5 s), one line every 5 s otherwise. */
#define PROGRESS_AFTER_NS 2000000000ull
typedef struct progress_line {
    bool always;
    bool tty;
    bool shown;              /* a line was printed in this run */
    bool finished;           /* and its last one */
    uint64_t start_ns, last_ns;
    char label[64];          /* what runs ("cost 0.001" for --frontier), or empty */
} progress_line;

/* The ht_bt_config.progress callback. */
static void show_progress(void *ctx, uint64_t done, uint64_t paths)
{
    progress_line *pl = ctx;
    uint64_t now = ht_mono_ns();
    uint64_t since = now - pl->start_ns;
    bool last = done >= paths;
    if (pl->finished || (!pl->always && since < PROGRESS_AFTER_NS))
        return;
    if (!last && pl->shown && now - pl->last_ns < (pl->tty ? 500000000ull : 5000000000ull))
        return;
    if (last && !pl->shown && !pl->always)
        return; /* finished before it was worth a line */
    double s = (double)since / 1e9, frac = paths ? (double)done / (double)paths : 1.0;
    fprintf(stderr, "%shedgetrig backtest: %s%s%3.0f %% of %" PRIu64 " paths, %.1f s", pl->tty ? "\r" : "",
            pl->label, pl->label[0] ? ": " : "", 100.0 * frac, paths, s);
    if (!last && frac > 0.0)
        fprintf(stderr, ", about %.0f s left", s / frac - s);
    fputs(pl->tty && !last ? "\033[K" : "\n", stderr);
    fflush(stderr);
    pl->shown = true;
    pl->finished = last;
    pl->last_ns = now;
}

/* Starts the progress line of one run of the backtest. */
static void progress_start(progress_line *pl, const char *label)
{
    pl->tty = isatty(STDERR_FILENO);
    pl->shown = pl->finished = false;
    pl->start_ns = pl->last_ns = ht_mono_ns();
    snprintf(pl->label, sizeof pl->label, "%s", label);
}

/* Everything the command line sets. */
typedef struct options {
    ht_bt_config cfg;
    progress_line progress;
    double strike, expiry, qty;
    bool have_strike, have_mu, is_call, is_short;
    const char *book_path;
    const char *strategy_specs[MAX_STRATEGIES];
    size_t n_specs;
    enum { OUT_TABLE, OUT_JSON, OUT_CSV } format;
    const char *plot_path;
    const char *frontier_dir;
    double costs[MAX_COSTS];
    size_t n_costs;
    char model_text[128];
} options;

/* Parses a comma-separated list of up to max numbers in [lo, hi]; false (usage error printed) otherwise. */
static bool parse_list(const char *opt, const char *text, double lo, double hi, double *out, size_t max, size_t *n)
{
    char buf[512];
    if (strlen(text) >= sizeof buf) {
        ht_cli_usage_error(CMD, "%s: list too long", opt);
        return false;
    }
    strcpy(buf, text);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n >= max) {
            ht_cli_usage_error(CMD, "%s: at most %zu values", opt, max);
            return false;
        }
        if (!ht_cli_parse_double(CMD, opt, tok, lo, hi, &out[(*n)++]))
            return false;
    }
    if (*n == 0) {
        ht_cli_usage_error(CMD, "%s: expected a comma-separated list of numbers", opt);
        return false;
    }
    return true;
}

/* Reads a book file (call|put,strike,expiry_years,qty per line; # comments); returns the count or -1. */
static long read_book(const char *path, ht_bt_option *book, size_t max)
{
    size_t len = 0;
    ht_error err = {{0}};
    char *text = ht_text_file_read(path, "book file", (size_t)64 << 20, &len, &err); /* no wait on a FIFO */
    if (!text) {
        ht_cli_fail(CMD, "--book %s", err.msg);
        return -1;
    }
    size_t n = 0;
    int rc = ht_bt_book_parse(text, len, path, book, max, &n, &err);
    free(text);
    if (rc != 0) {
        ht_cli_fail(CMD, "--book %s", err.msg);
        return -1;
    }
    return (long)n;
}

/* What an option group's parser returns for an option that is not one of its own. */
#define OPT_NOT_MINE (-1)

/* The options that say what is hedged and in which market (--side .. --tick-size). Returns OPT_NOT_MINE,
 * HT_EXIT_OK, or HT_EXIT_USAGE with the message printed. */
static int parse_market_option(options *o, const char *a, const char *v)
{
    bool ok = true;
    if (strcmp(a, "--s0") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 1e-9, 1e12, &o->cfg.s0);
    } else if (strcmp(a, "--strike") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 1e-9, 1e12, &o->strike);
        o->have_strike = true;
    } else if (strcmp(a, "--T") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 1e-6, 50.0, &o->expiry);
    } else if (strcmp(a, "--sigma") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 1e-4, 10.0, &o->cfg.vol);
    } else if (strcmp(a, "--r") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, -1.0, 1.0, &o->cfg.rate);
    } else if (strcmp(a, "--mu") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, -10.0, 10.0, &o->cfg.model.mu);
        o->have_mu = true;
    } else if (strcmp(a, "--side") == 0) {
        if (strcmp(v, "short") != 0 && strcmp(v, "long") != 0)
            return ht_cli_usage_error(CMD, "--side must be short or long, got '%s'", v);
        o->is_short = strcmp(v, "short") == 0;
    } else if (strcmp(a, "--option") == 0) {
        if (strcmp(v, "call") != 0 && strcmp(v, "put") != 0)
            return ht_cli_usage_error(CMD, "--option must be call or put, got '%s'", v);
        o->is_call = strcmp(v, "call") == 0;
    } else if (strcmp(a, "--qty") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 1e-9, 1e9, &o->qty);
    } else if (strcmp(a, "--book") == 0) {
        o->book_path = v;
    } else if (strcmp(a, "--model") == 0) {
        ht_error err = {{0}};
        if (ht_bt_model_parse(v, &o->cfg.model, &err) != 0)
            return ht_cli_usage_error(CMD, "--model: %s", err.msg);
        snprintf(o->model_text, sizeof o->model_text, "%s", v);
    } else if (strcmp(a, "--clock") == 0) {
        if (strcmp(v, "grid") != 0 && strcmp(v, "poisson") != 0)
            return ht_cli_usage_error(CMD, "--clock must be grid or poisson, got '%s'", v);
        o->cfg.clock = strcmp(v, "grid") == 0 ? HT_BT_CLOCK_GRID : HT_BT_CLOCK_POISSON;
    } else if (strcmp(a, "--tick-size") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 0.0, 1e9, &o->cfg.tick_size);
    } else {
        return OPT_NOT_MINE;
    }
    return ok ? HT_EXIT_OK : HT_EXIT_USAGE;
}

/* The options of the simulation, the hedging and the output that take a value (--steps .. --costs). Returns
 * OPT_NOT_MINE, HT_EXIT_OK, or HT_EXIT_USAGE with the message printed. */
static int parse_run_option(options *o, const char *a, const char *v)
{
    uint64_t u = 0;
    bool ok = true;
    if (strcmp(a, "--steps") == 0) {
        ok = ht_cli_parse_u64(CMD, a, v, 1, 10000000, &u);
        o->cfg.steps = (uint32_t)u;
    } else if (strcmp(a, "--paths") == 0) {
        ok = ht_cli_parse_u64(CMD, a, v, 2, 100000000, &o->cfg.paths);
    } else if (strcmp(a, "--seed") == 0) {
        ok = ht_cli_parse_u64(CMD, a, v, 0, UINT64_MAX, &o->cfg.seed);
    } else if (strcmp(a, "--threads") == 0) {
        ok = ht_cli_parse_u64(CMD, a, v, 0, 256, &u);
        o->cfg.threads = (unsigned)u;
    } else if (strcmp(a, "--cost") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 0.0, 0.1, &o->cfg.cost);
    } else if (strcmp(a, "--fixed-cost") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 0.0, 1e12, &o->cfg.fixed_cost);
    } else if (strcmp(a, "--strategy") == 0) {
        if (o->n_specs >= MAX_STRATEGIES)
            return ht_cli_usage_error(CMD, "at most %d strategies", MAX_STRATEGIES);
        o->strategy_specs[o->n_specs++] = v;
    } else if (strcmp(a, "--settle") == 0) {
        if (strcmp(v, "cash") != 0 && strcmp(v, "physical") != 0)
            return ht_cli_usage_error(CMD, "--settle must be cash or physical, got '%s'", v);
        o->cfg.settle = strcmp(v, "cash") == 0 ? HT_BT_SETTLE_CASH : HT_BT_SETTLE_PHYSICAL;
    } else if (strcmp(a, "--risk-aversion") == 0) {
        ok = ht_cli_parse_double(CMD, a, v, 1e-12, 1e6, &o->cfg.risk_aversion);
    } else if (strcmp(a, "--plot") == 0) {
        o->plot_path = v;
    } else if (strcmp(a, "--frontier") == 0) {
        o->frontier_dir = v;
    } else if (strcmp(a, "--costs") == 0) {
        ok = parse_list(a, v, 0.0, 0.1, o->costs, MAX_COSTS, &o->n_costs);
    } else {
        return OPT_NOT_MINE;
    }
    return ok ? HT_EXIT_OK : HT_EXIT_USAGE;
}

/* Parses argv into o: the flags, then the options with a value by group, then what follows from them (mu = r,
 * the model's vol, strike = s0) and the combinations that make no sense. Returns HT_EXIT_OK or the exit code of a
 * usage error. */
static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    ht_bt_config_default(&o->cfg);
    o->expiry = 1.0 / 12.0;
    o->qty = 1.0;
    o->is_call = true;
    o->is_short = true;
    snprintf(o->model_text, sizeof o->model_text, "gbm");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->format = OUT_JSON;
            continue;
        } else if (strcmp(a, "--csv") == 0) {
            o->format = OUT_CSV;
            continue;
        } else if (strcmp(a, "--progress") == 0) {
            o->progress.always = true;
            continue;
        } else if (!v) {
            return ht_cli_unknown(CMD, a, g_usage);
        }
        int rc = parse_market_option(o, a, v);
        if (rc == OPT_NOT_MINE)
            rc = parse_run_option(o, a, v);
        if (rc == OPT_NOT_MINE)
            return ht_cli_unknown(CMD, a, g_usage);
        if (rc != HT_EXIT_OK)
            return HT_EXIT_USAGE;
        i++;
    }
    if (!o->have_mu)
        o->cfg.model.mu = o->cfg.rate;
    o->cfg.model.sigma = o->cfg.vol;
    if (!o->have_strike)
        o->strike = o->cfg.s0;
    if (o->n_costs && !o->frontier_dir)
        return ht_cli_usage_error(CMD, "--costs only goes with --frontier");
    if (o->frontier_dir && o->plot_path)
        return ht_cli_usage_error(CMD, "--frontier writes its own plot; drop --plot");
    return HT_EXIT_OK;
}

/* Appends the strategies of the default frontier grid to specs (as text in storage). */
static size_t default_frontier_specs(uint32_t steps, char storage[][32], size_t max)
{
    static const unsigned periods[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
    static const double moves[] = {0.001, 0.0015, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05};
    static const double widths[] = {0.01, 0.02, 0.04, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4};
    size_t n = 0;
    for (size_t i = 0; i < sizeof periods / sizeof periods[0] && n < max; i++)
        if (periods[i] <= steps)
            snprintf(storage[n++], 32, "time:%u", periods[i]);
    for (size_t i = 0; i < sizeof periods / sizeof periods[0] && n < max; i++)
        if (periods[i] <= steps)
            snprintf(storage[n++], 32, "leland:%u", periods[i]);
    for (int e = -6; e <= 8 && n < max; e++) /* risk aversion 1e-3 .. 1e4 in half decades */
        snprintf(storage[n++], 32, "ww:%.3g", pow(10.0, e / 2.0));
    for (int e = -6; e <= 12 && n < max; e++) /* 1e-3 .. 1e6: its modified vol keeps moving past ww's range */
        snprintf(storage[n++], 32, "zak:%.3g", pow(10.0, e / 2.0));
    for (size_t i = 0; i < sizeof moves / sizeof moves[0] && n < max; i++)
        snprintf(storage[n++], 32, "move:%g", moves[i]);
    for (size_t i = 0; i < sizeof widths / sizeof widths[0] && n < max; i++)
        snprintf(storage[n++], 32, "fixed:%g", widths[i]);
    return n;
}

/* Prints a JSON string (the names here are plain ASCII; quotes and backslashes are escaped anyway). */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, out);
    }
    fputc('"', out);
}

/* Prints one strategy's result as a JSON object. */
static void json_result(FILE *out, const ht_bt_result *r)
{
    fputs("{\"name\":", out);
    json_string(out, r->name);
    fprintf(out,
            ",\"mean_pnl\":%.10g,\"std_pnl\":%.10g,\"mean_cost\":%.10g,\"trades\":%.10g,\"turnover\":%.10g,"
            "\"var99\":%.10g,\"cvar99\":%.10g,\"entropic\":%.10g,\"mean_pnl_se\":%.6g,\"std_pnl_se\":%.6g,"
            "\"mean_cost_se\":%.6g,\"skew\":%.6g,\"kurtosis\":%.6g}",
            r->mean_pnl, r->std_pnl, r->mean_cost, r->trades, r->turnover, r->var99, r->cvar99, r->entropic,
            r->mean_pnl_se, r->std_pnl_se, r->mean_cost_se, r->skew, r->kurtosis);
}

/* Prints the run's setup as a JSON object. */
static void json_setup(FILE *out, const options *o, size_t n_options)
{
    const ht_bt_config *c = &o->cfg;
    fprintf(out, "{\"s0\":%.10g,\"strike\":%.10g,\"T\":%.10g,\"sigma\":%.10g,\"r\":%.10g,\"mu\":%.10g,", c->s0,
            o->strike, ht_bt_horizon_years(c), c->vol, c->rate, c->model.mu);
    fprintf(out, "\"steps\":%u,\"paths\":%llu,\"seed\":%llu,\"cost\":%.10g,\"fixed_cost\":%.10g,", c->steps,
            (unsigned long long)c->paths, (unsigned long long)c->seed, c->cost, c->fixed_cost);
    fprintf(out, "\"side\":\"%s\",\"option\":\"%s\",\"qty\":%.10g,\"book_options\":%zu,\"model\":",
            o->book_path ? "book" : o->is_short ? "short" : "long", o->book_path ? "book" : o->is_call ? "call" : "put",
            o->book_path ? 0.0 : o->qty, n_options);
    json_string(out, o->model_text);
    fprintf(out, ",\"clock\":\"%s\",\"tick_size\":%.10g,\"settle\":\"%s\",\"risk_aversion\":%.10g}",
            c->clock == HT_BT_CLOCK_GRID ? "grid" : "poisson", c->tick_size,
            c->settle == HT_BT_SETTLE_CASH ? "cash" : "physical", c->risk_aversion);
}

static const char g_csv_header[] =
    "name,mean_pnl,std_pnl,mean_cost,trades,turnover,var99,cvar99,entropic,mean_pnl_se,std_pnl_se,mean_cost_se";

/* Prints one result as a CSV row (without a newline). */
static void csv_row(FILE *out, const ht_bt_result *r)
{
    fprintf(out, "%s,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.6g,%.6g,%.6g", r->name, r->mean_pnl,
            r->std_pnl, r->mean_cost, r->trades, r->turnover, r->var99, r->cvar99, r->entropic, r->mean_pnl_se,
            r->std_pnl_se, r->mean_cost_se);
}

/* Prints the results as an aligned table. */
static void print_table(FILE *out, const options *o, const ht_bt_result *r, size_t n)
{
    const ht_bt_config *c = &o->cfg;
    fprintf(out, "backtest: %llu paths, %u steps, T %.6g y, S0 %g, sigma %g, r %g, mu %g, model %s, cost %g%s\n",
            (unsigned long long)c->paths, c->steps, ht_bt_horizon_years(c), c->s0, c->vol, c->rate, c->model.mu,
            o->model_text, c->cost, c->fixed_cost > 0.0 ? " + fixed" : "");
    fprintf(out, "%-18s %12s %12s %12s %9s %11s %11s %11s %11s\n", "strategy", "mean_pnl", "std_pnl", "mean_cost",
            "trades", "turnover", "var99", "cvar99", "entropic");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-18s %12.6g %12.6g %12.6g %9.2f %11.6g %11.6g %11.6g %11.6g\n", r[i].name, r[i].mean_pnl,
                r[i].std_pnl, r[i].mean_cost, r[i].trades, r[i].turnover, r[i].var99, r[i].cvar99, r[i].entropic);
    fprintf(out, "(std errors: mean_pnl +/- %.2g, std_pnl +/- %.2g for the first row)\n", r[0].mean_pnl_se,
            r[0].std_pnl_se);
}

/* The family of a strategy spec (its rule name; fixed:X% counts as fixed). */
static void family_of(const char *name, char *fam, size_t len)
{
    size_t k = strcspn(name, ":");
    snprintf(fam, len, "%.*s", (int)k, name);
}

/* Runs gnuplot on a script file; returns 0, or HT_EXIT_FAIL with a message. */
static int run_gnuplot(const char *script, const char *png)
{
    char cmd[4096 + 64];
    if (strchr(script, '\''))
        return ht_cli_fail(CMD, "plot: the path %s must not hold a quote", script);
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", script);
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        if (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)
            return ht_cli_fail(CMD, "plot: gnuplot not found (apt-get install gnuplot-nox); the script is %s", script);
        return ht_cli_fail(CMD, "plot: gnuplot failed on %s (exit %d)", script, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
    }
    fprintf(stderr, "hedgetrig backtest: wrote %s\n", png);
    return HT_EXIT_OK;
}

/* Writes a gnuplot data file with one block (two blank lines apart) per family, in first-seen order, for the
 * results of one cost; returns the number of blocks and their family names. */
static size_t write_family_blocks(FILE *f, const ht_bt_result *r, size_t n, char fams[][16], size_t max_fams)
{
    size_t nf = 0;
    for (size_t i = 0; i < n && nf < max_fams; i++) {
        char fam[16];
        family_of(r[i].name, fam, sizeof fam);
        bool seen = false;
        for (size_t j = 0; j < nf; j++)
            seen |= strcmp(fams[j], fam) == 0;
        if (!seen)
            snprintf(fams[nf++], 16, "%s", fam);
    }
    for (size_t j = 0; j < nf; j++) {
        fprintf(f, "# %s: std_pnl mean_cost name\n", fams[j]);
        for (size_t i = 0; i < n; i++) {
            char fam[16];
            family_of(r[i].name, fam, sizeof fam);
            if (strcmp(fam, fams[j]) == 0)
                fprintf(f, "%.10g %.10g %s\n", r[i].std_pnl, r[i].mean_cost, r[i].name);
        }
        fprintf(f, "\n\n");
    }
    return nf;
}

/* --plot: mean cost against P&L std, one series per family. */
static int write_plot(const options *o, const ht_bt_result *r, size_t n)
{
    char dat[4096], gp[4096];
    size_t len = strlen(o->plot_path);
    size_t stem = len > 4 && strcmp(o->plot_path + len - 4, ".png") == 0 ? len - 4 : len;
    snprintf(dat, sizeof dat, "%.*s.dat", (int)stem, o->plot_path);
    snprintf(gp, sizeof gp, "%.*s.gp", (int)stem, o->plot_path);
    FILE *f = fopen(dat, "w");
    if (!f)
        return ht_cli_fail(CMD, "--plot: cannot write %s: %s", dat, strerror(errno));
    char fams[16][16];
    size_t nf = write_family_blocks(f, r, n, fams, 16);
    fclose(f);
    f = fopen(gp, "w");
    if (!f)
        return ht_cli_fail(CMD, "--plot: cannot write %s: %s", gp, strerror(errno));
    fprintf(f, "set terminal pngcairo size 1000,700 noenhanced\nset output '%s'\n", o->plot_path);
    fprintf(f, "set title 'hedging cost against risk (cost %g, %llu paths)'\n", o->cfg.cost,
            (unsigned long long)o->cfg.paths);
    fprintf(f, "set xlabel 'std of P&L'\nset ylabel 'mean cost'\nset key top right\nset grid\nplot ");
    for (size_t j = 0; j < nf; j++)
        fprintf(f, "%s'%s' index %zu using 1:2 with linespoints title '%s'", j ? ", " : "", dat, j, fams[j]);
    fprintf(f, "\n");
    fclose(f);
    return run_gnuplot(gp, o->plot_path);
}

/* The Pareto-efficient subset of a family's (std, cost) points, sorted by std; returns its size. */
static size_t efficient_curve(const ht_bt_result *r, size_t n, const char *fam, double *xs, double *ys)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char f[16];
        family_of(r[i].name, f, sizeof f);
        if (strcmp(f, fam) != 0)
            continue;
        bool dominated = false;
        for (size_t j = 0; j < n && !dominated; j++) {
            char g[16];
            family_of(r[j].name, g, sizeof g);
            dominated = j != i && strcmp(g, fam) == 0 && r[j].std_pnl <= r[i].std_pnl &&
                        r[j].mean_cost <= r[i].mean_cost &&
                        (r[j].std_pnl < r[i].std_pnl || r[j].mean_cost < r[i].mean_cost);
        }
        if (dominated)
            continue;
        size_t k = m++;
        while (k > 0 && xs[k - 1] > r[i].std_pnl) {
            xs[k] = xs[k - 1];
            ys[k] = ys[k - 1];
            k--;
        }
        xs[k] = r[i].std_pnl;
        ys[k] = r[i].mean_cost;
    }
    return m;
}

/* Linear interpolation of a curve at x; NaN outside its range. */
static double curve_at(const double *xs, const double *ys, size_t m, double x)
{
    if (m == 0 || x < xs[0] || x > xs[m - 1])
        return NAN;
    for (size_t i = 1; i < m; i++)
        if (x <= xs[i])
            return xs[i] == xs[i - 1] ? fmin(ys[i], ys[i - 1])
                                      : ys[i - 1] + (ys[i] - ys[i - 1]) * (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    return ys[m - 1];
}

/* --frontier, first: the backtest at every cost into all ([cost][strategy]). Returns HT_EXIT_OK or the failure's
 * exit code. */
static int run_costs(options *o, ht_opt_strategy *strategies, size_t ns, ht_bt_result *all)
{
    for (size_t c = 0; c < o->n_costs; c++) {
        o->cfg.cost = o->costs[c];
        o->cfg.strategies = strategies;
        o->cfg.n_strategies = ns;
        char label[64];
        snprintf(label, sizeof label, "cost %g (%zu of %zu)", o->costs[c], c + 1, o->n_costs);
        progress_start(&o->progress, label);
        ht_error err = {{0}};
        if (ht_bt_run(&o->cfg, all + c * ns, NULL, &err) != 0)
            return ht_cli_fail(CMD, "%s", err.msg);
        fprintf(stderr, "hedgetrig backtest: cost %g done\n", o->costs[c]);
    }
    return HT_EXIT_OK;
}

/* Every point as CSV rows (cost, family, then the result) on out. */
static void frontier_rows(FILE *out, const options *o, const ht_bt_result *all, size_t ns)
{
    for (size_t c = 0; c < o->n_costs; c++)
        for (size_t s = 0; s < ns; s++) {
            char fam[16];
            family_of(all[c * ns + s].name, fam, sizeof fam);
            fprintf(out, "%g,%s,", o->costs[c], fam);
            csv_row(out, &all[c * ns + s]);
            fputc('\n', out);
        }
}

/* Opens the file name in the --frontier folder for writing; NULL (message printed) when it cannot. */
static FILE *create_in_frontier_dir(const options *o, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->frontier_dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        ht_cli_fail(CMD, "--frontier: cannot write %s: %s", path, strerror(errno));
    return f;
}

/* frontier.csv: every point. Returns HT_EXIT_OK or HT_EXIT_FAIL with a message. */
static int write_frontier_csv(const options *o, const ht_bt_result *all, size_t ns)
{
    FILE *f = create_in_frontier_dir(o, "frontier.csv");
    if (!f)
        return HT_EXIT_FAIL;
    fprintf(f, "cost,family,%s\n", g_csv_header);
    frontier_rows(f, o, all, ns);
    fclose(f);
    return HT_EXIT_OK;
}

/* The band families compared with the time-based points, in the order of claim.txt's columns. */
static const char *const g_band_fams[] = {"ww", "zak", "move", "fixed"};

/* One line of claim.txt for a time-based point r at one cost: each band family's efficient curve at its std. */
static void claim_line(FILE *const outs[2], double cost, const ht_bt_result *r, const ht_bt_result *all_of_cost,
                       size_t ns)
{
    double xs[MAX_STRATEGIES], ys[MAX_STRATEGIES];
    char cells[4][32];
    for (size_t b = 0; b < 4; b++) {
        size_t m = efficient_curve(all_of_cost, ns, g_band_fams[b], xs, ys);
        double bc = curve_at(xs, ys, m, r->std_pnl);
        if (isnan(bc))
            snprintf(cells[b], sizeof cells[b], "-");
        else
            snprintf(cells[b], sizeof cells[b], "%.4g (%+.0f%%)", bc,
                     r->mean_cost > 0.0 ? 100.0 * (1.0 - bc / r->mean_cost) : 0.0);
    }
    for (int k = 0; k < 2; k++)
        if (outs[k])
            fprintf(outs[k], "%-8g %-10s %10.5g %11.5g  %-18s %-18s %-18s %s\n", cost, r->name, r->std_pnl,
                    r->mean_cost, cells[0], cells[1], cells[2], cells[3]);
}

/* claim.txt (and the table on stdout): for each cost, each time-based point (the timed rules' families, in rule
 * order) against each band family's efficient curve. Returns HT_EXIT_OK or HT_EXIT_FAIL with a message. */
static int write_claim(const options *o, const ht_bt_result *all, size_t ns)
{
    FILE *claim = create_in_frontier_dir(o, "claim.txt");
    if (!claim)
        return HT_EXIT_FAIL;
    FILE *const outs[2] = {claim, o->format == OUT_TABLE ? stdout : NULL};
    for (int k = 0; k < 2; k++)
        if (outs[k])
            fprintf(outs[k],
                    "Band strategies against time-based hedging at equal P&L std (%llu paths, %u steps, T %g).\n"
                    "band_cost: the band family's efficient curve interpolated at the time-based point's std;\n"
                    "saving: 1 - band_cost / time_cost; '-' where the band family does not reach that std.\n\n"
                    "%-8s %-10s %10s %11s  %-18s %-18s %-18s %s\n",
                    (unsigned long long)o->cfg.paths, o->cfg.steps, ht_bt_horizon_years(&o->cfg), "cost",
                    "time_strat", "std_pnl", "time_cost", g_band_fams[0], g_band_fams[1], g_band_fams[2],
                    g_band_fams[3]);
    for (size_t c = 0; c < o->n_costs; c++) {
        const ht_bt_result *r = all + c * ns;
        for (int rule = 0; rule < HT_OPT_RULE_COUNT; rule++) {
            const ht_opt_rule_traits *traits = ht_opt_rule_traits_of((ht_opt_rule)rule);
            if (!traits->timed)
                continue;
            for (size_t s = 0; s < ns; s++) {
                char fam[16];
                family_of(r[s].name, fam, sizeof fam);
                if (strcmp(fam, traits->name) == 0)
                    claim_line(outs, o->costs[c], &r[s], r, ns);
            }
        }
    }
    fclose(claim);
    return HT_EXIT_OK;
}

/* frontier.dat and frontier.gp: one panel per cost, one series per family. Returns HT_EXIT_OK or HT_EXIT_FAIL
 * with a message. */
static int write_frontier_plot(const options *o, const ht_bt_result *all, size_t ns)
{
    FILE *f = create_in_frontier_dir(o, "frontier.dat");
    if (!f)
        return HT_EXIT_FAIL;
    char fams[16][16];
    size_t nf = 0;
    for (size_t c = 0; c < o->n_costs; c++)
        nf = write_family_blocks(f, all + c * ns, ns, fams, 16);
    fclose(f);
    f = create_in_frontier_dir(o, "frontier.gp");
    if (!f)
        return HT_EXIT_FAIL;
    size_t cols = o->n_costs <= 3 ? o->n_costs : (o->n_costs + 1) / 2;
    size_t rows = (o->n_costs + cols - 1) / cols;
    fprintf(f, "# hedgetrig backtest --frontier: mean cost against P&L std, one panel per proportional cost.\n");
    fprintf(f, "set terminal pngcairo size %zu,%zu font ',9' noenhanced\nset output 'frontier.png'\n", 520 * cols,
            430 * rows);
    fprintf(f, "set multiplot layout %zu,%zu title 'Cost-vs-risk frontier: %llu paths, %u steps, T %g, sigma %g'\n",
            rows, cols, (unsigned long long)o->cfg.paths, o->cfg.steps, ht_bt_horizon_years(&o->cfg), o->cfg.vol);
    fprintf(f, "set xlabel 'std of P&L (log)'\nset ylabel 'mean cost (log)'\nset grid\nset key top right\n"
               "set logscale xy\n");
    for (size_t c = 0; c < o->n_costs; c++) {
        fprintf(f, "set title 'cost %g'\nplot ", o->costs[c]);
        for (size_t j = 0; j < nf; j++)
            fprintf(f, "%s'frontier.dat' index %zu using 1:2 with linespoints pt %zu title '%s'", j ? ", " : "",
                    c * nf + j, j + 4, fams[j]);
        fprintf(f, "\n");
    }
    fprintf(f, "unset multiplot\n");
    fclose(f);
    return HT_EXIT_OK;
}

/* frontier.png: gnuplot runs in the folder so that the script's relative names work wherever DIR is. Returns
 * HT_EXIT_OK or HT_EXIT_FAIL with a message. */
static int plot_frontier(const options *o)
{
    char cmd[8192], png[4096];
    snprintf(png, sizeof png, "%s/frontier.png", o->frontier_dir);
    if (strchr(o->frontier_dir, '\''))
        return ht_cli_fail(CMD, "--frontier: the folder name must not hold a quote");
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot frontier.gp 2>&1", o->frontier_dir);
    int sys = system(cmd);
    if (sys == -1 || !WIFEXITED(sys) || WEXITSTATUS(sys) != 0)
        return ht_cli_fail(CMD, "--frontier: gnuplot failed or is missing (apt-get install gnuplot-nox); data "
                                "and script are in %s", o->frontier_dir);
    fprintf(stderr, "hedgetrig backtest: wrote %s\n", png);
    return HT_EXIT_OK;
}

/* The frontier on stdout with --csv or --json (the table's claim is printed by write_claim). */
static void print_frontier(const options *o, const ht_bt_result *all, size_t ns)
{
    if (o->format == OUT_CSV) {
        printf("cost,family,%s\n", g_csv_header);
        frontier_rows(stdout, o, all, ns);
    } else if (o->format == OUT_JSON) {
        printf("{\"frontier\":[");
        for (size_t c = 0; c < o->n_costs; c++) {
            printf("%s{\"cost\":%.10g,\"strategies\":[", c ? "," : "", o->costs[c]);
            for (size_t s = 0; s < ns; s++) {
                if (s)
                    putchar(',');
                json_result(stdout, &all[c * ns + s]);
            }
            printf("]}");
        }
        printf("],\"setup\":");
        json_setup(stdout, o, o->cfg.n_options);
        printf("}\n");
    }
}

/* --frontier: every cost, CSV + the band-vs-time comparison + gnuplot, then stdout. A file that cannot be written
 * stops it; a failed gnuplot does not stop the output (the exit code says it). */
static int run_frontier(options *o, ht_opt_strategy *strategies, size_t ns)
{
    if (mkdir(o->frontier_dir, 0755) != 0 && errno != EEXIST)
        return ht_cli_fail(CMD, "--frontier: cannot create %s: %s", o->frontier_dir, strerror(errno));
    if (o->n_costs == 0) {
        const double defaults[] = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2};
        memcpy(o->costs, defaults, sizeof defaults);
        o->n_costs = 5;
    }
    ht_bt_result *all = calloc(o->n_costs * ns, sizeof *all);
    if (!all)
        return ht_cli_fail(CMD, "out of memory");
    int rc = run_costs(o, strategies, ns, all);
    if (rc == HT_EXIT_OK)
        rc = write_frontier_csv(o, all, ns);
    if (rc == HT_EXIT_OK)
        rc = write_claim(o, all, ns);
    if (rc == HT_EXIT_OK)
        rc = write_frontier_plot(o, all, ns);
    if (rc == HT_EXIT_OK) {
        rc = plot_frontier(o);
        print_frontier(o, all, ns);
    }
    free(all);
    return rc;
}

/* The book: the --book file, or the one option of --side/--option/--qty/--strike/--T. Returns HT_EXIT_OK or
 * HT_EXIT_FAIL (message printed). */
static int load_book(options *o, ht_bt_option *book)
{
    if (o->book_path) {
        long n = read_book(o->book_path, book, MAX_BOOK);
        if (n < 0)
            return HT_EXIT_FAIL;
        o->cfg.n_options = (size_t)n;
    } else {
        book[0].is_call = o->is_call;
        book[0].strike = o->strike;
        book[0].expiry_years = o->expiry;
        book[0].qty = o->is_short ? -o->qty : o->qty;
        o->cfg.n_options = 1;
    }
    o->cfg.book = book;
    return HT_EXIT_OK;
}

/* The strategies: the --strategy specs, else the frontier's default grid or time:1; each parsed, and a timed one's
 * period no longer than the run. Returns HT_EXIT_OK or HT_EXIT_USAGE (message printed). */
static int parse_strategies(options *o, ht_opt_strategy *strategies, char (*spec_storage)[32])
{
    if (o->n_specs == 0) {
        if (o->frontier_dir) {
            size_t n = default_frontier_specs(o->cfg.steps, spec_storage, MAX_STRATEGIES);
            for (size_t i = 0; i < n; i++)
                o->strategy_specs[o->n_specs++] = spec_storage[i];
        } else {
            o->strategy_specs[o->n_specs++] = "time:1";
        }
    }
    int64_t step_ns = ht_bt_step_ns(&o->cfg);
    for (size_t i = 0; i < o->n_specs; i++) {
        ht_error err = {{0}};
        if (ht_opt_strategy_parse(o->strategy_specs[i], step_ns > 0 ? step_ns : 1, &strategies[i], &err) != 0)
            return ht_cli_usage_error(CMD, "--strategy: %s", err.msg);
        bool timed = ht_opt_rule_traits_of(strategies[i].rule)->timed; /* a parsed rule is one */
        if (timed && strategies[i].interval_ns / (step_ns > 0 ? step_ns : 1) > o->cfg.steps)
            return ht_cli_usage_error(CMD, "--strategy %s: the period is longer than --steps %u", o->strategy_specs[i],
                                      o->cfg.steps);
    }
    return HT_EXIT_OK;
}

/* The results on stdout: JSON, CSV or the table. */
static void print_results(const options *o, const ht_bt_result *results)
{
    if (o->format == OUT_JSON) {
        printf("{\"strategies\":[");
        for (size_t i = 0; i < o->n_specs; i++) {
            if (i)
                putchar(',');
            json_result(stdout, &results[i]);
        }
        printf("],\"setup\":");
        json_setup(stdout, o, o->cfg.n_options);
        printf("}\n");
    } else if (o->format == OUT_CSV) {
        printf("%s\n", g_csv_header);
        for (size_t i = 0; i < o->n_specs; i++) {
            csv_row(stdout, &results[i]);
            putchar('\n');
        }
    } else {
        print_table(stdout, o, results, o->n_specs);
    }
}

int cmd_backtest(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    options *o = calloc(1, sizeof *o);
    ht_bt_option *book = calloc(MAX_BOOK, sizeof *book);
    ht_opt_strategy *strategies = calloc(MAX_STRATEGIES, sizeof *strategies);
    ht_bt_result *results = calloc(MAX_STRATEGIES, sizeof *results);
    char(*spec_storage)[32] = calloc(MAX_STRATEGIES, 32);
    int rc = HT_EXIT_FAIL;
    if (!o || !book || !strategies || !results || !spec_storage) {
        ht_cli_fail(CMD, "out of memory");
        goto out;
    }
    rc = parse_options(argc, argv, o);
    if (rc == HT_EXIT_OK)
        rc = load_book(o, book);
    if (rc == HT_EXIT_OK)
        rc = parse_strategies(o, strategies, spec_storage);
    if (rc != HT_EXIT_OK)
        goto out;
    o->cfg.progress = show_progress;
    o->cfg.progress_ctx = &o->progress;
    if (o->plot_path && !ht_cli_output_ok(CMD, "--plot", o->plot_path, false)) {
        rc = HT_EXIT_FAIL;
        goto out;
    }
    if (o->frontier_dir) {
        rc = ht_cli_output_ok(CMD, "--frontier", o->frontier_dir, true) ? run_frontier(o, strategies, o->n_specs)
                                                                         : HT_EXIT_FAIL;
        goto out;
    }
    o->cfg.strategies = strategies;
    o->cfg.n_strategies = o->n_specs;
    ht_error err = {{0}};
    progress_start(&o->progress, "");
    if (ht_bt_run(&o->cfg, results, NULL, &err) != 0) {
        rc = ht_cli_fail(CMD, "%s", err.msg);
        goto out;
    }
    print_results(o, results);
    rc = HT_EXIT_OK;
    if (o->plot_path)
        rc = write_plot(o, results, o->n_specs);
out:
    free(o);
    free(book);
    free(strategies);
    free(results);
    free(spec_storage);
    return rc;
}

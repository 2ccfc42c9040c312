/* SPDX-License-Identifier: MIT */
/* Command-line options of the market simulator (--vol 0.8, --steps 600, ...) shared by the commands that run it. */
#ifndef HEDGETRIG_APP_MARKET_OPTS_H
#define HEDGETRIG_APP_MARKET_OPTS_H

#include "hedgetrig/market_sim.h"

/* The usage text of the market options (for --help), with the command's own --seed and --steps defaults
 * (string literals). */
#define HT_MARKET_USAGE(SEED, STEPS)                                                                           \
    "\n"                                                                                                      \
    "market options (defaults in brackets; docs/deployment.md, [market]):\n"                                  \
    "  --seed N                random stream [" SEED "]        --steps N        steps, 0 = no end [" STEPS "]\n" \
    "  --step-ms N             ms between steps [1000]  --spot-usd P     index at the start [44000]\n"      \
    "  --vol V                 index vol [0.6]          --jumps-per-day N  jump intensity [2]\n"            \
    "  --jump-stdev X          log jump size [0.004]    --atm-iv V       ATM implied vol [0.55]\n"          \
    "  --iv-vol-of-vol X       [0.8]                    --iv-reversion X per year [200]\n"                 \
    "  --skew X                [-0.1]                   --smile X        [1.5]\n"                           \
    "  --expiry-days A,B,..    option expiries [1,7,21] --future-days N  dated future [84]\n"              \
    "  --strikes-per-side N    [4]                      --strike-step-usd X  [1000]\n"                      \
    "  --option-ticker-every N [5]                      --snapshot-every N   [300]\n"                       \
    "  --book-levels N         [10]                     --level-amount-usd X [20000]\n"                     \
    "  --loss-prob P           dropped packets [0]      (every key of docs/deployment.md's [market] works as\n" \
    "                          --key-with-dashes VALUE)\n"

/* Consumes the market option at argv[*i] and its value. Returns 1 when it was one, 0 when argv[*i] is not a
 * market option, or HT_EXIT_USAGE after printing a usage error. */
int ht_market_opt_parse(const char *cmd, int argc, char **argv, int *i, ht_mkt_config *cfg);

#endif

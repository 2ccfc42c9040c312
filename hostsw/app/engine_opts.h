/* SPDX-License-Identifier: MIT */
/* Command-line options of the engine shared by replay, demo, run and bench (book, backend, strategy, outputs). */
#ifndef HEDGETRIG_APP_ENGINE_OPTS_H
#define HEDGETRIG_APP_ENGINE_OPTS_H

#include "hedgetrig/engine_setup.h"

/* The usage text of the engine options (for --help), with the command's own defaults of --strategy and
 * --min-half-width (string literals). */
#define HT_ENGINE_USAGE(STRATEGY, MIN_HALF_WIDTH)                                                                   \
    "  --config CFG            read the engine's settings from CFG first (docs/deployment.md lists every key;\n" \
    "                          the options here override it)\n"                                               \
    "  --book BOOK.csv         the positions, one 'instrument,qty_contracts' a line\n"                          \
    "  --backend sw|verilator|xrt  the pipeline (default sw, the C model; verilator runs the RTL)\n"            \
    "  --clock-mhz N           the pipeline's clock for cycle counts (verilator; default 250)\n"               \
    "  --strategy SPEC         hedge rule: fixed:X (coins), fixed:X%, ww:GAMMA, zak:GAMMA, move:H, time:S,\n"  \
    "                          leland:S (default " STRATEGY "; docs/optimizer.md)\n"                            \
    "  --min-half-width X      the band is never narrower than X coins (default " MIN_HALF_WIDTH ")\n"         \
    "  --venue NAME            hedge instrument (repeatable; default BTC-PERPETUAL)\n"                         \
    "  --event-log FILE        write every breach, decision, order and fill to FILE (CSV)\n"                  \
    "  --table-log FILE        write the pipeline's table at every load to FILE (CSV: each position's\n"      \
    "                          quantity and greeks, to recompute any breach's net delta)\n"                  \
    "  --series FILE           write the net delta, band and hedges per tick to FILE (CSV)\n"                  \
    "  --json                  print one JSON object instead of the text summary\n"

/* The engine's own defaults (ht_engine_config_default), for the usage of replay and run. */
#define HT_ENGINE_USAGE_DEFAULTS HT_ENGINE_USAGE(HT_ENGINE_DEFAULT_STRATEGY, HT_ENGINE_DEFAULT_MIN_HALF_WIDTH_TEXT)

/* The usage text of the in-process venue's options (replay, demo). */
#define HT_VENUE_SIM_USAGE                                                                                        \
    "  --venue-script FILE     the simulated venue's account script: other sessions' fills, liquidations,\n"      \
    "                          settlements, disconnects, one 'time_s,kind,instrument,qty,price' a line, times in\n"   \
    "                          seconds of the capture's clock from its start (docs/gateway.md)\n"                \
    "  --venue-book FILE       the simulated venue's positions at the start (default: --book's)\n"              \
    "  --equity COIN           the simulated account's starting equity (default 10)\n"

/* Consumes the in-process venue's option at argv[*i] (--venue-script, --venue-book, --equity) into setup->xsim.
 * Returns 1 when it was one, 0 when not, or HT_EXIT_USAGE after printing a usage error. */
int ht_venue_sim_opt_parse(const char *cmd, int argc, char **argv, int *i, ht_setup_config *setup);

/* Consumes the engine option at argv[*i] (with its value). Returns 1 when it was one, 0 when not, or
 * HT_EXIT_USAGE after printing a usage error. --config is read at once (ht_setup_config_load: the simulators'
 * sections too), so it should come first. */
int ht_engine_opt_parse(const char *cmd, int argc, char **argv, int *i, ht_setup_config *setup, bool *json);

#endif

/* SPDX-License-Identifier: MIT */
/* Parsing of the engine's command-line options. */
#include "engine_opts.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hedgetrig/gateway.h"

int ht_engine_opt_parse(const char *cmd, int argc, char **argv, int *i, ht_setup_config *setup, bool *json)
{
    ht_engine_config *cfg = &setup->engine;
    const char *a = argv[*i];
    if (strcmp(a, "--json") == 0) {
        if (json)
            *json = true;
        return json ? 1 : 0;
    }
    static const char *const with_value[] = {"--config", "--book", "--backend", "--clock-mhz", "--strategy",
                                             "--min-half-width", "--venue", "--event-log", "--table-log",
                                             "--series", NULL};
    bool ours = false;
    for (size_t k = 0; with_value[k]; k++)
        ours |= strcmp(a, with_value[k]) == 0;
    if (!ours)
        return 0;
    if (*i + 1 >= argc)
        return ht_cli_usage_error(cmd, "%s needs a value", a);
    const char *v = argv[++*i];
    ht_error err;
    if (strcmp(a, "--config") == 0) {
        if (ht_setup_config_load(setup, v, &err) != 0)
            return ht_cli_usage_error(cmd, "%s", err.msg);
    } else if (strcmp(a, "--book") == 0) {
        if (!ht_cli_copy(cmd, a, v, cfg->book_path, sizeof cfg->book_path))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--backend") == 0) {
        if (ht_pipe_backend_parse(v, &cfg->backend, &err) != 0)
            return ht_cli_usage_error(cmd, "%s", err.msg);
    } else if (strcmp(a, "--clock-mhz") == 0) {
        if (!ht_cli_parse_double(cmd, a, v, 1, 2000, &cfg->clock_mhz))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--strategy") == 0) {
        ht_opt_strategy s;
        if (ht_opt_strategy_parse(v, 1000000000, &s, &err) != 0)
            return ht_cli_usage_error(cmd, "--strategy: %s", err.msg);
        if (!ht_cli_copy(cmd, a, v, cfg->strategy, sizeof cfg->strategy))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--min-half-width") == 0) {
        if (!ht_cli_parse_double(cmd, a, v, 0, 1e6, &cfg->min_half_width_coin))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--venue") == 0) {
        static const ht_engine_config *reset_for = NULL;
        if (reset_for != cfg) {
            cfg->n_venues = 0;
            reset_for = cfg;
        }
        if (cfg->n_venues == HT_ENGINE_MAX_VENUES)
            return ht_cli_usage_error(cmd, "at most %d --venue", HT_ENGINE_MAX_VENUES);
        /* It becomes Symbol (55) of every hedge order: checked as [hedge] venues is. */
        if (ht_gw_check_symbol(a, v, &err) != 0)
            return ht_cli_usage_error(cmd, "%s", err.msg);
        if (!ht_cli_copy(cmd, a, v, cfg->venues[cfg->n_venues], sizeof cfg->venues[0]))
            return HT_EXIT_USAGE;
        cfg->n_venues++;
    } else if (strcmp(a, "--event-log") == 0) {
        if (!ht_cli_copy(cmd, a, v, cfg->event_log, sizeof cfg->event_log))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--table-log") == 0) {
        if (!ht_cli_copy(cmd, a, v, cfg->table_log, sizeof cfg->table_log))
            return HT_EXIT_USAGE;
    } else if (strcmp(a, "--series") == 0) {
        if (!ht_cli_copy(cmd, a, v, cfg->series_path, sizeof cfg->series_path))
            return HT_EXIT_USAGE;
    }
    return 1;
}

int ht_venue_sim_opt_parse(const char *cmd, int argc, char **argv, int *i, ht_setup_config *setup)
{
    const char *a = argv[*i];
    if (strcmp(a, "--venue-script") != 0 && strcmp(a, "--venue-book") != 0 && strcmp(a, "--equity") != 0)
        return 0;
    if (*i + 1 >= argc)
        return ht_cli_usage_error(cmd, "%s needs a value", a);
    const char *v = argv[++*i];
    ht_xsim_config *x = &setup->xsim;
    if (strcmp(a, "--equity") == 0)
        return ht_cli_parse_double(cmd, a, v, 0, 1e12, &x->equity_coin) ? 1 : HT_EXIT_USAGE;
    bool script = strcmp(a, "--venue-script") == 0;
    char *dst = script ? x->script_path : x->book_path;
    return ht_cli_copy(cmd, a, v, dst, sizeof x->script_path) ? 1 : HT_EXIT_USAGE;
}

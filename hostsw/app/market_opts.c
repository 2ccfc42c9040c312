/* SPDX-License-Identifier: MIT */
/* Parsing of the market simulator's command-line options: --key-with-dashes VALUE for each config key. */
#include "market_opts.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int ht_market_opt_parse(const char *cmd, int argc, char **argv, int *i, ht_mkt_config *cfg)
{
    const char *opt = argv[*i];
    if (strncmp(opt, "--", 2) != 0 || strlen(opt) > 40)
        return 0;
    char key[48];
    size_t n = 0;
    for (const char *p = opt + 2; *p && n + 1 < sizeof key; p++)
        key[n++] = *p == '-' ? '_' : *p;
    key[n] = '\0';
    bool listed = false;
    for (size_t k = 0; ht_mkt_config_keys[k]; k++)
        listed |= strcmp(ht_mkt_config_keys[k], key) == 0;
    if (!listed)
        return 0;
    if (*i + 1 >= argc)
        return ht_cli_usage_error(cmd, "%s needs a value", opt);
    const char *value = argv[++*i];
    bool known;
    const char *expected = "";
    if (!ht_mkt_config_set(cfg, key, value, &known, &expected))
        return ht_cli_usage_error(cmd, "%s expects %s, got '%s'", opt, expected, value);
    return 1;
}

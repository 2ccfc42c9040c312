/* SPDX-License-Identifier: MIT */
/* Helpers the subcommands share to parse their options and report usage errors (exit code 2). */
#ifndef HEDGETRIG_APP_CLI_H
#define HEDGETRIG_APP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

/* Prints "hedgetrig CMD: <message>" and a pointer to --help on stderr; returns HT_EXIT_USAGE. */
int ht_cli_usage_error(const char *cmd, const char *fmt, ...) HT_PRINTF(2, 3);

/* The usage error for an argument the command did not take: "--opt needs a value" when usage lists it as an
 * option with a value (so it was the last word), else "unknown option '...'" (or argument). */
int ht_cli_unknown(const char *cmd, const char *arg, const char *usage);

/* Prints "hedgetrig CMD: <message>" on stderr; returns HT_EXIT_FAIL. */
int ht_cli_fail(const char *cmd, const char *fmt, ...) HT_PRINTF(2, 3);

/* Strict number parsers for option values: the whole string must be a number in range.
 * On failure they print which option and value were wrong and return false. */
bool ht_cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out);
bool ht_cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* Checks, before the work starts, that an output can be written: a file (is_dir false) that is not a folder,
 * in a folder that exists and is writable; a folder (is_dir true) that exists and is writable, or whose parent
 * is (it will be made). Otherwise prints "hedgetrig CMD: OPT PATH: why" and returns false (exit 1). */
bool ht_cli_output_ok(const char *cmd, const char *opt, const char *path, bool is_dir);

/* True when argv holds -h or --help anywhere. */
bool ht_cli_wants_help(int argc, char **argv);

/* Copies an option's value (a path, a name) into dst[cap]. A value that is empty or does not fit is a usage
 * error naming the option and the limit: a path cut short would be another file. */
bool ht_cli_copy(const char *cmd, const char *opt, const char *value, char *dst, size_t cap);

#endif

/* SPDX-License-Identifier: MIT */
/* Option parsing and error reporting shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints "hedgetrig CMD: message" on stderr with control characters (ESC, CR, ...; not newline or tab) shown as
 * '?': a message quotes what the user or a file gave, and must not drive the terminal (escape sequences). */
static void print_error(const char *cmd, const char *fmt, va_list ap) HT_PRINTF(2, 0);
static void print_error(const char *cmd, const char *fmt, va_list ap)
{
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *c = msg; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7F)
            *c = '?';
    fprintf(stderr, "hedgetrig %s: %s", cmd, msg);
}

int ht_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'hedgetrig %s --help')\n", cmd);
    return HT_EXIT_USAGE;
}

int ht_cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(cmd, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return HT_EXIT_FAIL;
}

/* True when text is a plain decimal number: [+-]digits[.digits][e[+-]digits]. strtod alone also takes hexadecimal
 * ("0x10" is 16), "inf", "nan" and leading blanks, none of which an operator means for a quantity or price. */
static bool plain_decimal(const char *text)
{
    const char *p = text;
    size_t digits = 0;
    if (*p == '+' || *p == '-')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

bool ht_cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = text && plain_decimal(text) ? strtod(text, &end) : NAN;
    if (!text || end == text || !end || *end != '\0' || errno == ERANGE || isnan(v)) {
        ht_cli_usage_error(cmd, "%s expects a number, got '%s'", opt, text ? text : "");
        return false;
    }
    if (v < min || v > max) {
        ht_cli_usage_error(cmd, "%s must be between %g and %g, got %s", opt, min, max, text);
        return false;
    }
    *out = v;
    return true;
}

bool ht_cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!text || *text == '\0' || *text == '-') {
        ht_cli_usage_error(cmd, "%s expects a whole number, got '%s'", opt, text ? text : "");
        return false;
    }
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0' || errno == ERANGE) {
        ht_cli_usage_error(cmd, "%s expects a whole number, got '%s'", opt, text);
        return false;
    }
    if (v < min || v > max) {
        ht_cli_usage_error(cmd, "%s must be between %" PRIu64 " and %" PRIu64 ", got %s", opt, min, max, text);
        return false;
    }
    *out = v;
    return true;
}

bool ht_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

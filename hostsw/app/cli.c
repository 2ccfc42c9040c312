/* SPDX-License-Identifier: MIT */
/* Option parsing and error reporting shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hedgetrig/parse.h"

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

/* True when usage names opt as an option followed by a value ("--opt VALUE", "[--opt N]"). */
static bool usage_has_value_option(const char *usage, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = strstr(usage, opt); p; p = strstr(p + 1, opt)) {
        bool starts = p == usage || strchr(" [(|\n", p[-1]);
        if (starts && p[n] == ' ' && p[n + 1] != ' ' && p[n + 1] != '\0')
            return true;
    }
    return false;
}

int ht_cli_unknown(const char *cmd, const char *arg, const char *usage)
{
    if (arg[0] == '-' && usage_has_value_option(usage, arg))
        return ht_cli_usage_error(cmd, "%s needs a value", arg);
    return ht_cli_usage_error(cmd, "unknown %s '%s'", arg[0] == '-' ? "option" : "argument", arg);
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

bool ht_cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out)
{
    /* Plain decimal only: strtod would also take hexadecimal ("0x10" is 16), "inf", "nan" and leading blanks,
     * none of which an operator means for a quantity or price. */
    double v;
    if (ht_parse_double(text, 0, &v) != HT_PARSE_OK) {
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
    const ht_parse_result r = ht_parse_u64(text, min, max, 0, out);
    if (r == HT_PARSE_SYNTAX || r == HT_PARSE_UNFIT) {
        ht_cli_usage_error(cmd, "%s expects a whole number, got '%s'", opt, text ? text : "");
        return false;
    }
    if (r == HT_PARSE_OUT_OF_RANGE) {
        ht_cli_usage_error(cmd, "%s must be between %" PRIu64 " and %" PRIu64 ", got %s", opt, min, max, text);
        return false;
    }
    return true;
}

/* Why the folder path cannot take new files, or NULL when it can. */
static const char *folder_problem(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return strerror(errno);
    if (!S_ISDIR(st.st_mode))
        return "not a folder";
    return access(path, W_OK | X_OK) == 0 ? NULL : strerror(errno);
}

bool ht_cli_output_ok(const char *cmd, const char *opt, const char *path, bool is_dir)
{
    char parent[4096];
    const char *why = NULL, *where = "";
    struct stat st;
    if (!path[0]) {
        why = "an empty path";
    } else if (stat(path, &st) == 0) {
        if (is_dir)
            why = folder_problem(path);
        else if (S_ISDIR(st.st_mode))
            why = "is a folder";
        else if (access(path, W_OK) != 0)
            why = strerror(errno);
    } else if (errno != ENOENT) {
        why = strerror(errno);
    } else {
        snprintf(parent, sizeof parent, "%s", path);
        char *slash = strrchr(parent, '/');
        while (slash && slash > parent && slash[1] == '\0') { /* "dir/" names dir */
            *slash = '\0';
            slash = strrchr(parent, '/');
        }
        if (!slash)
            snprintf(parent, sizeof parent, ".");
        else
            slash[slash == parent ? 1 : 0] = '\0';
        why = folder_problem(parent);
        where = parent;
    }
    if (!why)
        return true;
    ht_cli_fail(cmd, "%s %s cannot be written: %s%s%s%s", opt, path, where[0] ? "its folder " : "", where,
                where[0] ? ": " : "", why);
    return false;
}

bool ht_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

bool ht_cli_copy(const char *cmd, const char *opt, const char *value, char *dst, size_t cap)
{
    size_t len = strlen(value);
    if (len == 0) {
        ht_cli_usage_error(cmd, "%s expects a value, got an empty one", opt);
        return false;
    }
    if (len >= cap) {
        ht_cli_usage_error(cmd, "%s is %zu characters long, at most %zu fit (it would be cut short)", opt, len,
                           cap - 1);
        return false;
    }
    memcpy(dst, value, len + 1);
    return true;
}

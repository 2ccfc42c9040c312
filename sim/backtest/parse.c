/* SPDX-License-Identifier: MIT */
/* Parsers of the backtest's text inputs: the book file and the model spec. */
#include <math.h>
#include <string.h>

#include "hedgetrig/backtest.h"
#include "hedgetrig/parse.h"

#define MAX_LINE 256
#define MAX_MODEL_PARAMS 5

/* Parses a whole number out of a NUL-terminated field (spaces around it allowed, and whatever else strtod reads:
 * hexadecimal floats); false when it is not one. */
static bool parse_number(const char *text, double *out)
{
    return ht_parse_double(text, HT_PARSE_STRTOD_GRAMMAR | HT_PARSE_TRAILING_BLANKS, out) == HT_PARSE_OK;
}

/* Splits a NUL-terminated line at commas in place; returns the number of fields (at most max). */
static size_t split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (n < max)
            fields[n] = p;
        n++;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    for (size_t i = 0; i < n && i < max; i++) { /* trailing spaces */
        size_t l = strlen(fields[i]);
        while (l > 0 && (fields[i][l - 1] == ' ' || fields[i][l - 1] == '\t'))
            fields[i][--l] = '\0';
    }
    return n;
}

int ht_bt_book_parse(const char *text, size_t len, const char *source, ht_bt_option *out, size_t max, size_t *count,
                     ht_error *err)
{
    const char *src = source ? source : "book";
    *count = 0;
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        if (line_len >= MAX_LINE)
            return ht_error_set(err, "%s line %u: longer than %d characters", src, lineno, MAX_LINE - 1);
        char line[MAX_LINE];
        memcpy(line, start, line_len);
        line[line_len] = '\0';
        if (memchr(line, '\0', line_len))
            return ht_error_set(err, "%s line %u: holds a NUL byte", src, lineno);
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        size_t l = strlen(line);
        while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
            line[--l] = '\0';
        if (strspn(line, " \t") == l)
            continue;
        char *f[4];
        size_t nf = split_fields(line, f, 4);
        if (nf != 4)
            return ht_error_set(err, "%s line %u: expected call|put,strike,expiry_years,qty (4 fields), got %zu", src,
                                lineno, nf);
        bool is_call = strcmp(f[0], "call") == 0;
        if (!is_call && strcmp(f[0], "put") != 0)
            return ht_error_set(err, "%s line %u: option type must be call or put, got '%.32s'", src, lineno, f[0]);
        double strike, expiry, qty;
        if (!parse_number(f[1], &strike) || !(strike > 0.0))
            return ht_error_set(err, "%s line %u: strike must be a number > 0, got '%.32s'", src, lineno, f[1]);
        if (!parse_number(f[2], &expiry) || !(expiry > 0.0 && expiry <= 50.0))
            return ht_error_set(err, "%s line %u: expiry must be in (0, 50] years, got '%.32s'", src, lineno, f[2]);
        if (!parse_number(f[3], &qty) || fabs(qty) > 1e9)
            return ht_error_set(err, "%s line %u: quantity must be a number (|qty| <= 1e9), got '%.32s'", src,
                                lineno, f[3]);
        if (*count >= max)
            return ht_error_set(err, "%s line %u: more than %zu options", src, lineno, max);
        out[*count] = (ht_bt_option){.is_call = is_call, .strike = strike, .expiry_years = expiry, .qty = qty};
        (*count)++;
    }
    if (*count == 0)
        return ht_error_set(err, "%s: no option in it", src);
    return 0;
}

int ht_bt_model_parse(const char *spec, ht_bt_model *m, ht_error *err)
{
    if (!spec)
        return ht_error_set(err, "model: empty spec");
    if (strcmp(spec, "gbm") == 0) {
        m->kind = HT_BT_GBM;
        return 0;
    }
    ht_bt_model_kind kind;
    size_t want;
    const char *params;
    if (strncmp(spec, "merton:", 7) == 0) {
        kind = HT_BT_MERTON;
        want = 3;
        params = spec + 7;
    } else if (strncmp(spec, "heston:", 7) == 0) {
        kind = HT_BT_HESTON;
        want = 5;
        params = spec + 7;
    } else {
        return ht_error_set(err, "model '%.64s': expected gbm, merton:RATE,MEAN,STD or heston:V0,KAPPA,THETA,XI,RHO",
                            spec);
    }
    char buf[MAX_LINE];
    if (strlen(params) >= sizeof buf)
        return ht_error_set(err, "model: spec longer than %d characters", MAX_LINE - 1);
    strcpy(buf, params);
    char *f[MAX_MODEL_PARAMS + 1];
    size_t n = split_fields(buf, f, MAX_MODEL_PARAMS + 1);
    if (n != want)
        return ht_error_set(err, "model '%.64s': needs %zu numbers, got %zu", spec, want, n);
    double v[MAX_MODEL_PARAMS];
    for (size_t i = 0; i < n; i++)
        if (!parse_number(f[i], &v[i]))
            return ht_error_set(err, "model '%.64s': parameter %zu ('%.32s') is not a number", spec, i + 1, f[i]);
    m->kind = kind;
    if (kind == HT_BT_MERTON) {
        m->jump_rate = v[0];
        m->jump_mean = v[1];
        m->jump_std = v[2];
    } else {
        m->v0 = v[0];
        m->kappa = v[1];
        m->theta = v[2];
        m->xi = v[3];
        m->rho = v[4];
    }
    return 0;
}

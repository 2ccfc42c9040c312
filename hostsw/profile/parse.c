/* SPDX-License-Identifier: MIT */
/* Reading one value out of text: numbers, integers and HOST:PORT, for config files, options and specs alike. */
#include "hedgetrig/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/textfile.h"

ht_parse_result ht_parse_double(const char *text, unsigned flags, double *out)
{
    if (!text)
        return HT_PARSE_SYNTAX;
    size_t len = strlen(text);
    if (flags & HT_PARSE_TRAILING_BLANKS)
        while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
            len--;
    /* strtod alone would also take hex, "inf", "nan" and leading blanks. */
    if (!(flags & HT_PARSE_STRTOD_GRAMMAR) && !ht_text_is_decimal(text, len))
        return HT_PARSE_SYNTAX;
    char *end = NULL;
    errno = 0;
    const double v = strtod(text, &end);
    if (end != text + len || end == text)
        return HT_PARSE_SYNTAX;
    if (!isfinite(v))
        return errno == ERANGE ? HT_PARSE_UNFIT : HT_PARSE_SYNTAX; /* an overflow, or the words inf and nan */
    if (errno == ERANGE && !(flags & HT_PARSE_UNDERFLOW_OK))
        return HT_PARSE_UNFIT;
    *out = v;
    return HT_PARSE_OK;
}

/* Reads the digits at *p into *magnitude, moving *p past them; false (and *p unmoved) when there is no digit.
 * *fits turns false when the value passes 2^64-1. */
static bool read_digits(const char **p, uint64_t *magnitude, bool *fits)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return false;
    uint64_t m = 0;
    *fits = true;
    for (; isdigit((unsigned char)*s); s++) {
        const unsigned d = (unsigned)(*s - '0');
        if (m > (UINT64_MAX - d) / 10)
            *fits = false;
        else
            m = m * 10 + d;
    }
    *p = s;
    *magnitude = m;
    return true;
}

ht_parse_result ht_parse_u64(const char *text, uint64_t min, uint64_t max, unsigned flags, uint64_t *out)
{
    (void)flags;
    const char *p = text;
    uint64_t v;
    bool fits;
    if (!p || !read_digits(&p, &v, &fits) || *p)
        return HT_PARSE_SYNTAX;
    if (!fits)
        return HT_PARSE_UNFIT;
    if (v < min || v > max)
        return HT_PARSE_OUT_OF_RANGE;
    *out = v;
    return HT_PARSE_OK;
}

ht_parse_result ht_parse_i64(const char *text, int64_t min, int64_t max, unsigned flags, int64_t *out)
{
    const char *p = text;
    if (!p)
        return HT_PARSE_SYNTAX;
    const bool strtol_grammar = flags & HT_PARSE_STRTOL_GRAMMAR;
    if (strtol_grammar)
        while (isspace((unsigned char)*p))
            p++;
    const bool negative = *p == '-';
    if (negative || (strtol_grammar && *p == '+'))
        p++;
    uint64_t m;
    bool fits;
    if (!read_digits(&p, &m, &fits) || *p)
        return HT_PARSE_SYNTAX;
    if (!fits || m > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return HT_PARSE_UNFIT;
    const int64_t v = negative ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    if (v < min || v > max)
        return HT_PARSE_OUT_OF_RANGE;
    *out = v;
    return HT_PARSE_OK;
}

const char *ht_hostport_port_text(const char *text, size_t host_cap)
{
    const char *colon = text ? strrchr(text, ':') : NULL;
    if (!colon || colon == text || (size_t)(colon - text) >= host_cap)
        return NULL;
    return colon + 1;
}

ht_parse_result ht_parse_hostport(const char *text, unsigned port_flags, char *host, size_t host_cap, uint16_t *port)
{
    const char *port_text = ht_hostport_port_text(text, host_cap);
    if (!port_text)
        return HT_PARSE_SYNTAX;
    int64_t p;
    const ht_parse_result r = ht_parse_i64(port_text, 1, 65535, port_flags, &p);
    if (r != HT_PARSE_OK)
        return r;
    const size_t host_len = (size_t)(port_text - 1 - text);
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    *port = (uint16_t)p;
    return HT_PARSE_OK;
}

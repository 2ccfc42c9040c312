/* SPDX-License-Identifier: MIT */
/* The exchange simulator's account script: `time_s,kind,instrument,qty,price` a line, parsed and checked
 * (hedgetrig/exchange_sim.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/parse.h"
#include "hedgetrig/textfile.h"

static const char *const k_kind_names[] = {"fill", "liquidation", "settle", "disconnect"};

const char *ht_xsim_event_kind_name(ht_xsim_event_kind kind)
{
    return (unsigned)kind < HT_ARRAY_LEN(k_kind_names) ? k_kind_names[kind] : "?";
}

void ht_xsim_script_destroy(ht_xsim_script *s)
{
    if (!s)
        return;
    free(s->events);
    free(s);
}

/* Splits line (NUL-terminated, comment removed) at commas into at most max trimmed fields; returns how many
 * there are (max + 1 when there are more). */
static size_t split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (n == max)
            return max + 1;
        fields[n++] = ht_text_trim(p);
        if (!comma)
            return n;
        p = comma + 1;
    }
}

/* A plain decimal number (ht_text_is_decimal), finite. */
static bool decimal(const char *text, double *out)
{
    return ht_text_is_decimal(text, strlen(text)) && ht_parse_double(text, 0, out) == HT_PARSE_OK && isfinite(*out);
}

/* The kind named by text, or -1. */
static int kind_of(const char *text)
{
    for (size_t i = 0; i < HT_ARRAY_LEN(k_kind_names); i++)
        if (!strcmp(text, k_kind_names[i]))
            return (int)i;
    return -1;
}

/* Fills ev from the five fields of a line; NULL, or what was wrong (why may hold the instrument's message). */
static const char *event_from_fields(char **f, ht_xsim_event *ev, ht_error *why)
{
    if (!decimal(f[0], &ev->time_s) || ev->time_s < 0)
        return "time_s: a plain decimal number of seconds >= 0";
    int kind = kind_of(f[1]);
    if (kind < 0)
        return "kind: fill, liquidation, settle or disconnect";
    ev->kind = (ht_xsim_event_kind)kind;
    if (ev->kind == HT_XSIM_EV_DISCONNECT) {
        if (f[2][0] || f[3][0] || f[4][0])
            return "disconnect: empty instrument, qty and price";
        return NULL;
    }
    if (ht_fix_check_value("instrument", f[2], strlen(f[2]), HT_FIX_GRAMMAR_INSTRUMENT, 1,
                           sizeof ev->instrument - 1, why) != 0)
        return why->msg;
    memcpy(ev->instrument, f[2], strlen(f[2]) + 1);
    if (!decimal(f[4], &ev->price) || !(ev->price > 0))
        return ev->kind == HT_XSIM_EV_SETTLE ? "price: the delivery price, a plain decimal number > 0"
                                             : "price: the trade's price, a plain decimal number > 0";
    if (ev->kind == HT_XSIM_EV_SETTLE && !f[3][0]) {
        ev->whole = true;
        return NULL;
    }
    if (!decimal(f[3], &ev->qty_contracts) || ev->qty_contracts == 0 || fabs(ev->qty_contracts) > 1e12)
        return ev->kind == HT_XSIM_EV_SETTLE
                   ? "qty: signed contracts settled, a plain decimal number, non-zero (empty: the whole position)"
                   : "qty: signed contracts traded, a plain decimal number, non-zero (positive: the account bought)";
    return NULL;
}

/* True when the fields are the optional header. */
static bool is_header(char **f, size_t n)
{
    static const char *const names[] = {"time_s", "kind", "instrument", "qty", "price"};
    if (n != HT_ARRAY_LEN(names))
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(f[i], names[i]) != 0)
            return false;
    return true;
}

/* Parses one line (n bytes, no line end) into the script; 0, or -1 with err. */
static int parse_line(ht_xsim_script *s, size_t *cap, const char *name, uint32_t line_no, const char *text,
                      size_t n, ht_error *err)
{
    char buf[HT_XSIM_SCRIPT_MAX_LINE + 1];
    ht_error why;
    if (n > HT_XSIM_SCRIPT_MAX_LINE)
        return ht_error_set(err, "%s:%u: line longer than %d bytes", name, line_no, HT_XSIM_SCRIPT_MAX_LINE);
    if (ht_text_check_line(text, n, &why) != 0)
        return ht_error_set(err, "%s:%u: %s", name, line_no, why.msg);
    memcpy(buf, text, n);
    buf[n] = '\0';
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = '\0';
    if (!ht_text_trim(buf)[0])
        return 0;
    char *f[5];
    size_t nf = split_fields(buf, f, 5);
    if (s->n_events == 0 && is_header(f, nf))
        return 0;
    if (nf != 5)
        return ht_error_set(err, "%s:%u: expected 5 fields time_s,kind,instrument,qty,price, got %s", name, line_no,
                            nf > 5 ? "more" : nf == 4 ? "4" : nf == 3 ? "3" : nf == 2 ? "2" : "1");
    ht_xsim_event ev;
    memset(&ev, 0, sizeof ev);
    ev.line = line_no;
    const char *bad = event_from_fields(f, &ev, &why);
    if (bad)
        return ht_error_set(err, "%s:%u: expected %s", name, line_no, bad);
    if (s->n_events && ev.time_s < s->events[s->n_events - 1].time_s)
        return ht_error_set(err, "%s:%u: time_s %.9g is before the line above (%.9g): times must not decrease", name,
                            line_no, ev.time_s, s->events[s->n_events - 1].time_s);
    if (s->n_events == HT_XSIM_SCRIPT_MAX_EVENTS)
        return ht_error_set(err, "%s:%u: more than %d events", name, line_no, HT_XSIM_SCRIPT_MAX_EVENTS);
    if (s->n_events == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 64;
        ht_xsim_event *grown = realloc(s->events, grown_cap * sizeof *grown);
        if (!grown)
            return ht_error_set(err, "%s:%u: out of memory", name, line_no);
        s->events = grown;
        *cap = grown_cap;
    }
    s->events[s->n_events++] = ev;
    return 0;
}

ht_xsim_script *ht_xsim_script_parse(const char *text, size_t len, const char *name, ht_error *err)
{
    if (len > HT_XSIM_SCRIPT_MAX_FILE_BYTES) {
        ht_error_set(err, "%s: larger than %zu bytes", name, HT_XSIM_SCRIPT_MAX_FILE_BYTES);
        return NULL;
    }
    ht_xsim_script *s = calloc(1, sizeof *s);
    if (!s) {
        ht_error_set(err, "%s: out of memory", name);
        return NULL;
    }
    size_t cap = 0, pos = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    for (uint32_t line_no = 1; pos < len; line_no++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        if (n && text[pos + n - 1] == '\r')
            n--;
        if (parse_line(s, &cap, name, line_no, text + pos, n, err) != 0) {
            ht_xsim_script_destroy(s);
            return NULL;
        }
        pos = end + 1;
    }
    return s;
}

ht_xsim_script *ht_xsim_script_load(const char *path, ht_error *err)
{
    size_t len;
    char *text = ht_text_file_read(path, "account script", HT_XSIM_SCRIPT_MAX_FILE_BYTES, &len, err);
    if (!text)
        return NULL;
    ht_xsim_script *s = ht_xsim_script_parse(text, len, path, err);
    free(text);
    return s;
}

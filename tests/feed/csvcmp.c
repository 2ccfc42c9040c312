/* SPDX-License-Identifier: MIT */
/* Line-by-line, field-by-field CSV comparison with numeric tolerance (see csvcmp.h). */
#include "csvcmp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Parses the whole of text as a number; false when any of it is not. */
static bool parse_number(const char *text, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *end = NULL;
    *out = strtod(buf, &end);
    return end == buf + len;
}

/* Compares one field of length alen/blen. */
static bool field_equal(const char *a, size_t alen, const char *b, size_t blen, double rel_tol)
{
    double x, y;
    if (parse_number(a, alen, &x) && parse_number(b, blen, &y)) {
        if (isnan(x) || isnan(y))
            return isnan(x) && isnan(y);
        if (x == y)
            return true;
        double scale = fmax(fabs(x), fabs(y));
        return fabs(x - y) <= rel_tol * scale;
    }
    return alen == blen && memcmp(a, b, alen) == 0;
}

bool csvcmp_value_equal(const char *a, const char *b, double rel_tol)
{
    return field_equal(a, strlen(a), b, strlen(b), rel_tol);
}

/* Length of the field starting at s, ended by any of the separators or the end of the string. */
static size_t field_len(const char *s, const char *seps)
{
    return strcspn(s, seps);
}

bool csvcmp_line_equal(const char *got, const char *want, double rel_tol)
{
    const char *a = got, *b = want;
    /* Five comma fields, then the rest split on '|'. */
    for (int field = 0;; field++) {
        const char *seps = field < 5 ? ",\r\n" : "|\r\n";
        size_t al = field_len(a, seps), bl = field_len(b, seps);
        if (!field_equal(a, al, b, bl, rel_tol))
            return false;
        char as = a[al], bs = b[bl];
        bool a_more = as == ',' || as == '|', b_more = bs == ',' || bs == '|';
        if (a_more != b_more)
            return false;
        if (!a_more)
            return true;
        if (as != bs)
            return false;
        a += al + 1;
        b += bl + 1;
    }
}

long csvcmp_files(const char *got_path, const char *want_path, double rel_tol, FILE *report, unsigned max_report)
{
    FILE *g = fopen(got_path, "r"), *w = fopen(want_path, "r");
    if (!g || !w) {
        if (report)
            fprintf(report, "csvcmp: cannot open %s\n", !g ? got_path : want_path);
        if (g)
            fclose(g);
        if (w)
            fclose(w);
        return -1;
    }
    char gl[65536], wl[65536];
    long diffs = 0, line = 0;
    unsigned reported = 0;
    for (;;) {
        char *gr = fgets(gl, sizeof gl, g), *wr = fgets(wl, sizeof wl, w);
        if (!gr && !wr)
            break;
        line++;
        if (!gr || !wr || !csvcmp_line_equal(gl, wl, rel_tol)) {
            diffs++;
            if (report && reported < max_report) {
                reported++;
                fprintf(report, "line %ld (frame %ld):\n  got:      %s  expected: %s", line,
                        gr ? strtol(gl, NULL, 10) : (wr ? strtol(wl, NULL, 10) : 0L), gr ? gl : "(missing)\n",
                        wr ? wl : "(missing)\n");
            }
        }
    }
    fclose(g);
    fclose(w);
    if (report && diffs)
        fprintf(report, "csvcmp: %ld of %ld lines differ\n", diffs, line);
    return diffs;
}

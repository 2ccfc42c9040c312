/* SPDX-License-Identifier: MIT */
/* The config reader every command shares: the file's lines checked against ht_conf_sections, and the value
 * parsers its apply functions use (rules: docs/deployment.md, "Config file rules"). */
#include "hedgetrig/conf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/parse.h"
#include "hedgetrig/textfile.h"

bool ht_conf_u32(const char *value, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (ht_parse_u64(value, min, max, 0, &v) != HT_PARSE_OK)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool ht_conf_nonneg(const char *value, double *out)
{
    double v;
    if (ht_parse_double(value, 0, &v) != HT_PARSE_OK || v < 0)
        return false;
    *out = v;
    return true;
}

bool ht_conf_bool(const char *value, bool *out)
{
    if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "on") || !strcmp(value, "1"))
        return *out = true, true;
    if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "off") || !strcmp(value, "0"))
        return *out = false, true;
    return false;
}

bool ht_conf_str(char *dst, size_t cap, const char *value, bool allow_empty)
{
    size_t n = strlen(value);
    if (n >= cap || (!allow_empty && n == 0))
        return false;
    memcpy(dst, value, n + 1);
    return true;
}

/* Edit distance between a and b after folding case and '-' to '_' (capped: 9 means "far"). */
static unsigned name_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63)
        return 9;
    unsigned row[64];
    for (size_t j = 0; j <= nb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= na; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= nb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            ca = ca == '-' ? '_' : ca;
            cb = cb == '-' ? '_' : cb;
            unsigned best = diag + (ca != cb);
            best = row[j] + 1 < best ? row[j] + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            diag = row[j];
            row[j] = best;
        }
    }
    return row[nb] < 9 ? row[nb] : 9;
}

/* The name of names (NULL-terminated, or stepping stride bytes through an array of structs whose first field is
 * the name) nearest to given within two edits, or NULL: the "did you mean" of a message. */
static const char *nearest_name(const char *given, const char *const *names, size_t stride)
{
    const char *best = NULL;
    unsigned best_d = 3;
    for (const char *const *n = names; *n; n = (const char *const *)((const char *)n + stride)) {
        unsigned d = name_distance(given, *n);
        if (d < best_d)
            best = *n, best_d = d;
    }
    return best;
}

/* Where the reader is in a file: the current section and the first line of every section and key seen. */
typedef struct conf_state {
    const char *path;
    char raw[HT_CONF_MAX_LINE + 1]; /* the line being read as it is in the file (line end removed) */
    size_t raw_len;
    const ht_conf_section *section; /* NULL before the first header */
    unsigned section_line[16];      /* by index in ht_conf_sections; 0 = not seen yet */
    unsigned key_line[16][64];      /* by section and key index */
} conf_state;

/* Checks the first n bytes of the raw line are text (UTF-8, no control character but tab). */
static int conf_text(const conf_state *st, size_t n, unsigned line_no, ht_error *err)
{
    ht_error why;
    if (ht_text_check_line(st->raw, n, &why) != 0)
        return ht_error_set(err, "config %s:%u: %s", st->path, line_no, why.msg);
    return 0;
}

/* Copies at most 64 bytes of value for a message, each byte that is not printable ASCII shown as '?'. */
static const char *shown(const char *value, char out[72])
{
    size_t k = 0;
    for (; value[k] && k < 64; k++)
        out[k] = value[k] >= 0x20 && value[k] < 0x7F ? value[k] : '?';
    out[k] = '\0';
    return out;
}

/* Index of key in section's list, or -1. */
static int key_index(const ht_conf_section *section, const char *key)
{
    for (int k = 0; section->keys[k]; k++)
        if (strcmp(section->keys[k], key) == 0)
            return k;
    return -1;
}

/* Handles a "[name]" line: the section must be one some command reads, given once. */
static int conf_header(conf_state *st, char *s, unsigned line_no, ht_error *err)
{
    if (conf_text(st, st->raw_len, line_no, err) != 0)
        return -1;
    char *close = strchr(s, ']');
    if (!close || close[1] || close - s - 1 > 63)
        return ht_error_set(err, "config %s:%u: expected a section header like [gateway], got '%.64s'", st->path, line_no,
                            s);
    *close = '\0';
    const char *name = s + 1;
    const ht_conf_section *section = ht_conf_section_find(name);
    if (!section) {
        const char *near = nearest_name(name, &ht_conf_sections[0].name, sizeof ht_conf_sections[0]);
        if (near)
            return ht_error_set(err, "config %s:%u: unknown section [%s]; did you mean [%s]? (no command reads [%s])",
                                st->path, line_no, name, near, name);
        return ht_error_set(err, "config %s:%u: unknown section [%s]: no hedgetrig command reads it "
                                 "(sections: docs/deployment.md)", st->path, line_no, name);
    }
    unsigned *first = &st->section_line[section - ht_conf_sections];
    if (*first)
        return ht_error_set(err, "config %s:%u: [%s] again (first at line %u): give each section once", st->path,
                            line_no, name, *first);
    *first = line_no;
    st->section = section;
    return 0;
}

/* Handles a "key = value" line: a listed key of the current section, given once; applied when the caller
 * reads that section. */
static int conf_key(conf_state *st, char *s, unsigned line_no, const char *const *sections, ht_conf_apply_fn apply,
                    void *user, ht_error *err)
{
    char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return conf_text(st, st->raw_len, line_no, err) != 0
                   ? -1
                   : ht_error_set(err, "config %s:%u: expected 'key = value', got '%.64s'", st->path, line_no, s);
    if (conf_text(st, (size_t)(strchr(st->raw, '=') - st->raw), line_no, err) != 0)
        return -1;
    *eq = '\0';
    char *key = ht_text_trim(s);
    char *value = ht_text_trim(eq + 1);
    if (!st->section)
        return ht_error_set(err, "config %s:%u: '%.64s' is outside any section: put it under its [section] header",
                            st->path, line_no, key);
    const ht_conf_section *section = st->section;
    int k = key_index(section, key);
    bool ours = false;
    for (size_t i = 0; sections[i]; i++)
        ours |= strcmp(section->name, sections[i]) == 0;
    if (k < 0 && ours) {
        bool known = false;
        const char *expected = "";
        (void)apply(user, section->name, key, value, &known, &expected);
        if (known) /* a key added to an apply function but not to the list: say where it must go */
            return ht_error_set(err, "config %s:%u: key '%s' in [%s] is handled but not listed in "
                                     "hostsw/profile/conf_keys.c (a bug: list it there and in %s)",
                                st->path, line_no, key, section->name, section->doc);
    }
    if (k < 0) {
        const char *near = nearest_name(key, section->keys, sizeof section->keys[0]);
        return ht_error_set(err, "config %s:%u: unknown key '%.64s' in [%s]%s%s%s (keys: %s)", st->path, line_no, key,
                            section->name, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "",
                            section->doc);
    }
    unsigned *first = &st->key_line[section - ht_conf_sections][k];
    if (*first)
        return ht_error_set(err, "config %s:%u: %s in [%s] again (first at line %u): give each key once", st->path,
                            line_no, key, section->name, *first);
    *first = line_no;
    if (ours) {
        /* The value's own check first: a field that reaches the wire names the byte it refuses. */
        bool known = false;
        const char *expected = "";
        char buf[72];
        bool ok = apply(user, section->name, key, value, &known, &expected);
        if (!known)
            return ht_error_set(err, "config %s:%u: key '%s' in [%s] is listed but not handled (a bug)", st->path,
                                line_no, key, section->name);
        if (!ok)
            return ht_error_set(err, "config %s:%u: %s = '%s': expected %s", st->path, line_no, key, shown(value, buf),
                                expected);
    }
    return conf_text(st, st->raw_len, line_no, err);
}

/* Reads one line (len bytes) into st->raw and line, its line end removed: at most HT_CONF_MAX_LINE bytes, no
 * NUL (the rest of the text is checked once the line is parsed, so that a value's own check can name it). */
static int conf_line_text(conf_state *st, const char *begin, size_t len, char line[HT_CONF_MAX_LINE + 1],
                          unsigned line_no, ht_error *err)
{
    if (len && begin[len - 1] == '\r')
        len--;
    if (len > HT_CONF_MAX_LINE)
        return ht_error_set(err, "config %s:%u: line longer than %d bytes", st->path, line_no, HT_CONF_MAX_LINE);
    const char *nul = memchr(begin, '\0', len);
    if (nul)
        return ht_error_set(err, "config %s:%u: a NUL byte at column %zu", st->path, line_no, (size_t)(nul - begin) + 1);
    memcpy(st->raw, begin, len);
    st->raw[len] = '\0';
    st->raw_len = len;
    memcpy(line, begin, len + 1);
    line[len] = '\0';
    return 0;
}

int ht_conf_read(const char *path, const char *const *sections, ht_conf_apply_fn apply, void *user, ht_error *err)
{
    size_t len = 0;
    char *text = ht_text_file_read(path, "config file", HT_CONF_MAX_FILE_BYTES, &len, err);
    if (!text)
        return -1;
    int rc = 0;
    conf_state *st = calloc(1, sizeof *st);
    if (!st) {
        free(text);
        return ht_error_set(err, "config %s: out of memory", path);
    }
    st->path = path;
    size_t n_sections = 0;
    for (; ht_conf_sections[n_sections].name; n_sections++)
        for (size_t k = 0; ht_conf_sections[n_sections].keys[k]; k++)
            if (k >= HT_ARRAY_LEN(st->key_line[0]))
                rc = ht_error_set(err, "config %s: [%s] lists more keys than the reader tracks", path,
                                  ht_conf_sections[n_sections].name);
    if (n_sections > HT_ARRAY_LEN(st->section_line))
        rc = ht_error_set(err, "config %s: more sections than the reader tracks", path);
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a UTF-8 byte order mark, as some editors write */
    char line[HT_CONF_MAX_LINE + 1];
    unsigned line_no = 0;
    while (rc == 0 && p < end) {
        line_no++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        rc = conf_line_text(st, p, (size_t)(line_end - p), line, line_no, err);
        p = nl ? nl + 1 : end;
        if (rc != 0)
            break;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = ht_text_trim(line);
        if (!*s) {
            rc = conf_text(st, st->raw_len, line_no, err); /* a comment is text too */
            continue;
        }
        rc = *s == '[' ? conf_header(st, s, line_no, err) : conf_key(st, s, line_no, sections, apply, user, err);
    }
    free(st);
    free(text);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/* Helpers the end-to-end tests share to read what a run wrote: a whole file, and its event log's lines. */
#ifndef HT_TESTS_E2E_EVENT_LOG_H
#define HT_TESTS_E2E_EVENT_LOG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file (NUL-terminated, to free); NULL when it cannot. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Counts the event-log lines whose event column is `event`. */
static inline unsigned count_events(const char *log, const char *event)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, ",%s,", event);
    unsigned n = 0;
    for (const char *p = log; (p = strstr(p, pattern)) != NULL; p++)
        n++;
    return n;
}

#endif

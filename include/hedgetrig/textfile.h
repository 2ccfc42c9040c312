/* SPDX-License-Identifier: MIT */
/* Reading a small text input (config, book, secrets) whole: a regular file only, bounded in size. */
#ifndef HEDGETRIG_TEXTFILE_H
#define HEDGETRIG_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "hedgetrig/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the file at path into a NUL-terminated heap buffer (the caller frees it) and sets *len to its size.
 * Refuses, with "PATH: what was wrong" in err and NULL: a path that cannot be opened, anything but a regular
 * file once symlinks are followed (a directory, a FIFO, a device such as /dev/zero, a socket; opening never
 * blocks), a file larger than max_bytes, and one that grows while it is read. what names the input in
 * messages ("config file", "book file"). */
char *ht_text_file_read(const char *path, const char *what, size_t max_bytes, size_t *len, ht_error *err);

/* Checks one line of text (n bytes, no line end): 0 when it is UTF-8 without control characters other than
 * tab, else -1 with "what was wrong at column C" in why (a NUL byte, a control character, a byte that is not
 * UTF-8). Columns count bytes from 1. */
int ht_text_check_line(const char *s, size_t n, ht_error *why);

/* True when [s, s+n) is a plain decimal number: [+-]digits[.digits][(e|E)[+-]digits] with at least one digit
 * before the exponent. strtod alone would also take "inf", "nan", hex floats and leading blanks. */
bool ht_text_is_decimal(const char *s, size_t n);

/* Removes leading and trailing white space (isspace) of s in place; returns the trimmed start. */
char *ht_text_trim(char *s);

#ifdef __cplusplus
}
#endif

#endif

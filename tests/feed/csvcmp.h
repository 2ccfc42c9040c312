/* SPDX-License-Identifier: MIT */
/* Compares a decode's CSV with the vendor decode line by line: text fields equal, numbers equal within a
 * relative tolerance, NaN equal to NaN. */
#ifndef HEDGETRIG_TESTS_CSVCMP_H
#define HEDGETRIG_TESTS_CSVCMP_H

#include <stdbool.h>
#include <stdio.h>

/* True when two field values are equal: as numbers within rel_tol (relative to the larger magnitude;
 * NaN equals NaN) when both are whole numbers, else as text. */
bool csvcmp_value_equal(const char *a, const char *b, double rel_tol);

/* True when two CSV lines (frame,channel,seq,template,instrument_id,f1|f2|...) are equal field by field. */
bool csvcmp_line_equal(const char *got, const char *want, double rel_tol);

/* Compares two files line by line. Prints the first max_report differences to report (with their line
 * numbers and frames). Returns the number of differing lines, counting a length difference as the
 * missing or extra lines; -1 when a file cannot be read. */
long csvcmp_files(const char *got_path, const char *want_path, double rel_tol, FILE *report, unsigned max_report);

#endif

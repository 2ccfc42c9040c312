/* SPDX-License-Identifier: MIT */
/* The error record that bad input fills in. */
#include "hedgetrig/common.h"

#include <stdio.h>

int ht_error_set(ht_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

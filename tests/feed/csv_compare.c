/* SPDX-License-Identifier: MIT */
/* csv_compare GOT EXPECTED: exits 0 when the decode's CSV matches the vendor decode (numbers within 1e-9
 * relative, NaN equal to NaN), else prints the first differences and exits 1. */
#include <stdio.h>

#include "csvcmp.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: csv_compare GOT.csv EXPECTED.csv\n");
        return 2;
    }
    long d = csvcmp_files(argv[1], argv[2], 1e-9, stderr, 10);
    if (d == 0)
        printf("csv_compare: %s matches %s\n", argv[1], argv[2]);
    return d == 0 ? 0 : 1;
}

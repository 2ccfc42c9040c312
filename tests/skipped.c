/* SPDX-License-Identifier: MIT */
/* Stands in for a test whose optional part is missing: says which test and why, and exits 77, the
 * SKIP_RETURN_CODE that makes ctest report the test as skipped instead of passed or absent. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("SKIPPED: %s: %s\n", argc > 1 ? argv[1] : "(test)", argc > 2 ? argv[2] : "a part is missing");
    return 77;
}

/* SPDX-License-Identifier: MIT */
/* The send mode of the gateway tests that run against a venue: the program's arguments "--send io_uring" (their second
 * registration in tests/gateway/CMakeLists.txt) make every gateway they create send through io_uring, so the same
 * sessions, orders, gaps, resends and crashes are checked through the ring. */
#ifndef HT_TESTS_GW_TEST_SEND_H
#define HT_TESTS_GW_TEST_SEND_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/gateway.h"

static ht_gw_send_mode g_test_send = HT_GW_SEND_PLAIN;

/* Takes "--send plain|io_uring" from the arguments (anything else: exit 2, said why). */
static inline void test_send_from_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--send") != 0)
            continue;
        if (i + 1 < argc && strcmp(argv[i + 1], "io_uring") == 0) {
            g_test_send = HT_GW_SEND_IO_URING;
        } else if (!(i + 1 < argc && strcmp(argv[i + 1], "plain") == 0)) {
            fprintf(stderr, "%s: --send expects plain or io_uring\n", argv[0]);
            exit(2);
        }
    }
    if (g_test_send == HT_GW_SEND_IO_URING)
        printf("every gateway of this run sends through io_uring\n");
}

/* Puts the run's send mode into a gateway config. */
static inline void test_send_apply(ht_gw_config *c)
{
    c->send = g_test_send;
}

/* With io_uring, the gateway's bytes really went through the ring (a test that passed with plain send() would not
 * prove anything about it). */
static inline bool test_send_used(const ht_gw *gw)
{
    ht_gw_uring_stats st;
    ht_gw_uring_stats_get(gw, &st);
    return g_test_send == HT_GW_SEND_PLAIN ? st.sends == 0 : st.sends > 0;
}

#endif

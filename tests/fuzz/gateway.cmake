# SPDX-License-Identifier: MIT
# The FIX parser (gateway and exchange simulator inbound path), seeded with a few valid messages; the journal
# replay of a restarting gateway (the harness frames its own records, so it needs no seeds).
ht_add_fuzzer(gateway SOURCES "${CMAKE_CURRENT_LIST_DIR}/fuzz_gateway.c" LIBS ht_gateway
              SEED_DIR "${CMAKE_CURRENT_LIST_DIR}/gateway_seeds")
ht_add_fuzzer(journal SOURCES "${CMAKE_CURRENT_LIST_DIR}/fuzz_journal.c" LIBS ht_gateway)

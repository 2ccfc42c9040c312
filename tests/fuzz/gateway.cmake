# SPDX-License-Identifier: MIT
# The FIX parser (gateway and exchange simulator inbound path), seeded with a few valid messages.
ht_add_fuzzer(gateway SOURCES "${CMAKE_CURRENT_LIST_DIR}/fuzz_gateway.c" LIBS ht_gateway
              SEED_DIR "${CMAKE_CURRENT_LIST_DIR}/gateway_seeds")

# SPDX-License-Identifier: MIT
# The exchange simulator's account script parser, seeded with a day of every kind.
ht_add_fuzzer(xsim_script SOURCES "${CMAKE_CURRENT_LIST_DIR}/fuzz_xsim_script.c" LIBS ht_sim_exchange
              SEED_DIR "${CMAKE_CURRENT_LIST_DIR}/xsim_script_seeds")

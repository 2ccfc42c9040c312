# SPDX-License-Identifier: MIT
# Fuzz target of the optimizer and backtest: strategy specs, book files, model specs, and decisions on arbitrary
# numbers. The first byte of an input picks which, modulo 4 (so '0'..'3' in the seeds; see fuzz_optimizer.c).
set(_opt_seeds "${PROJECT_BINARY_DIR}/fuzz/seeds/optimizer")
file(MAKE_DIRECTORY "${_opt_seeds}")
file(WRITE "${_opt_seeds}/strategy1" "0ww:1,edge")
file(WRITE "${_opt_seeds}/strategy2" "4fixed:5%,center")
file(WRITE "${_opt_seeds}/book1" "1# book\ncall, 100, 0.25, -10\r\nput,95,0.5,3 # wing\n")
file(WRITE "${_opt_seeds}/model1" "2heston:0.04,2,0.04,0.5,-0.7")
file(WRITE "${_opt_seeds}/model2" "6merton:3,-0.1,0.15")
file(WRITE "${_opt_seeds}/decide1" "31AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDDEEEEEEEEFFFFFFFFGGGGGGGG")
ht_add_fuzzer(optimizer SOURCES fuzz_optimizer.c LIBS ht_backtest ht_optimizer SEED_DIR "${_opt_seeds}")

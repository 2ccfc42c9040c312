# SPDX-License-Identifier: MIT
# Fuzz targets of hostsw/greeks: the book file parser, seeded with small books.
set(_greeks_seeds "${PROJECT_BINARY_DIR}/fuzz/seeds/positions")
file(MAKE_DIRECTORY "${_greeks_seeds}")
file(WRITE "${_greeks_seeds}/book1.csv" "# desk\ninstrument,qty\nBTC-23JUN23-25500-C, 12.5\nBTC-PERPETUAL,-3000\n")
file(WRITE "${_greeks_seeds}/book2.csv" "BTC-16JUN23-25000-P,-1e1 # short puts\r\nBTC-X,1\nBTC-23JUN23-25500-C,1\nBTC-23JUN23-25500-C,2\n")
ht_add_fuzzer(positions SOURCES fuzz_positions.c LIBS ht_greeks SEED_DIR "${_greeks_seeds}")

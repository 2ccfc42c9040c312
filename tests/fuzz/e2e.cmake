# SPDX-License-Identifier: MIT
# Fuzz targets of hostsw/engine: the config file, seeded with the example configs.
set(_e2e_seeds "${PROJECT_BINARY_DIR}/fuzz/seeds/engine_config")
file(MAKE_DIRECTORY "${_e2e_seeds}")
configure_file("${PROJECT_SOURCE_DIR}/examples/run_loopback.conf" "${_e2e_seeds}/run_loopback.conf" COPYONLY)
file(WRITE "${_e2e_seeds}/all.conf" "[engine]\nbook = b.csv\nseries_every = 3\n[pipeline]\nbackend = sw\nclock_mhz = 300\n[hedge]\nstrategy = ww:0.5,edge\nvenues = BTC-PERPETUAL, BTC-29MAR24\nmax_orders_per_s = 5\n[greeks]\nconvention = usd\nrefresh_adaptive = no\n[venue]\nkind = sim\nbook = synthetic\nsynthetic_levels = 32\n[source]\nkind = sim\ngroups = 239.111.111.0/27\nports = 6100,6101\n[market]\nexpiry_days = 2,9,30\nvol = 0.9\n[threads]\nenabled = yes\nring_bytes = 65536\n[status]\ninterval_s = 1\n")
ht_add_fuzzer(engine_config SOURCES fuzz_engine_config.c LIBS ht_setup SEED_DIR "${_e2e_seeds}")

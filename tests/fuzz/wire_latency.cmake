# SPDX-License-Identifier: MIT
# Tick to wire from a capture (hedgetrig latency): raw frames of every link type, and sound frames around fuzzed
# market data and TCP segments (stream reassembly, FIX cutting, trigger matching). The harness builds its own
# frames; the seeds (written by hand: orders, execution reports, a split and a retransmitted order, a raw
# Ethernet frame) start it with whole FIX messages, which a fuzzer seldom finds on its own (a checksum).
ht_add_fuzzer(wire_latency SOURCES "${CMAKE_CURRENT_LIST_DIR}/fuzz_wire_latency.c" LIBS ht_wire_latency
              SEED_DIR "${CMAKE_CURRENT_LIST_DIR}/wire_latency_seeds")

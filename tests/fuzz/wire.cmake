# SPDX-License-Identifier: MIT
# The wire ingest's C model (drivers/fpga/wire_model.c, bit-exact with fpga/rtl/ht_wire.sv) under libFuzzer, seeded
# with the real capture's Ethernet frames (written at build time by fuzz_wire_seeds, 8 consecutive frames a seed).
set(_wire_seeds "${PROJECT_BINARY_DIR}/fuzz/seeds/wire")
add_executable(fuzz_wire_seeds "${CMAKE_CURRENT_LIST_DIR}/fuzz_wire_seeds.c")
target_link_libraries(fuzz_wire_seeds PRIVATE PkgConfig::PCAP)
ht_warnings(fuzz_wire_seeds)
add_custom_command(OUTPUT "${_wire_seeds}/.extracted"
                   COMMAND ${CMAKE_COMMAND} -E make_directory "${_wire_seeds}"
                   COMMAND fuzz_wire_seeds "${HT_DERIBIT_DIR}/deribit_sample_v1_6.pcap" "${_wire_seeds}"
                   COMMAND ${CMAKE_COMMAND} -E touch "${_wire_seeds}/.extracted"
                   DEPENDS fuzz_wire_seeds "${HT_DERIBIT_DIR}/deribit_sample_v1_6.pcap"
                   COMMENT "Extracting fuzz_wire seeds from the capture")
add_custom_target(fuzz_wire_corpus ALL DEPENDS "${_wire_seeds}/.extracted")
ht_add_fuzzer(wire SOURCES "${CMAKE_CURRENT_LIST_DIR}/fuzz_wire.c" LIBS ht_pipe SEED_DIR "${_wire_seeds}")
target_include_directories(fuzz_wire PRIVATE "${PROJECT_SOURCE_DIR}/drivers/fpga")
add_dependencies(fuzz_wire fuzz_wire_corpus)

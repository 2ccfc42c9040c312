# SPDX-License-Identifier: MIT
# The packet decoder and feed under libFuzzer, seeded with the real capture's UDP payloads (extracted at
# build time by fuzz_feed_seeds, 8 consecutive packets a seed).
set(_feed_seeds "${PROJECT_BINARY_DIR}/fuzz/seeds/feed")
add_executable(fuzz_feed_seeds "${CMAKE_CURRENT_LIST_DIR}/fuzz_feed_seeds.c")
target_link_libraries(fuzz_feed_seeds PRIVATE ht_nic)
ht_warnings(fuzz_feed_seeds)
add_custom_command(OUTPUT "${_feed_seeds}/.extracted"
                   COMMAND ${CMAKE_COMMAND} -E make_directory "${_feed_seeds}"
                   COMMAND fuzz_feed_seeds "${HT_DERIBIT_DIR}/deribit_sample_v1_6.pcap" "${_feed_seeds}"
                   COMMAND ${CMAKE_COMMAND} -E touch "${_feed_seeds}/.extracted"
                   DEPENDS fuzz_feed_seeds "${HT_DERIBIT_DIR}/deribit_sample_v1_6.pcap"
                   COMMENT "Extracting fuzz_feed seeds from the capture")
add_custom_target(fuzz_feed_corpus ALL DEPENDS "${_feed_seeds}/.extracted")
ht_add_fuzzer(feed SOURCES "${CMAKE_CURRENT_LIST_DIR}/fuzz_feed.c" LIBS ht_feed ht_nic SEED_DIR "${_feed_seeds}")
add_dependencies(fuzz_feed fuzz_feed_corpus)

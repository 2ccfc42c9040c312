#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is needed, then builds and runs the whole test suite under the default and asan presets,
# then builds the libFuzzer targets and runs each for a bounded time (FUZZ_SECONDS, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh test
start=$(date +%s)
# Prints how long the suite has run so far, so slow phases show up in CI's log.
elapsed() { echo "--- $1 at $(( $(date +%s) - start )) s"; }
for preset in default asan; do
  echo "=== preset $preset ==="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  elapsed "$preset built"
  ctest --preset "$preset"
  elapsed "$preset tested"
done
if [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "=== fuzz ==="
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target fuzzers
  elapsed "fuzzers built"
  ./scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi
echo "=== all tests passed in $(( $(date +%s) - start )) s ==="

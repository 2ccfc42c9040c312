#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is needed, then builds and runs the whole test suite under the default and asan presets,
# then builds the libFuzzer targets and runs each for a bounded time (FUZZ_SECONDS, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh test
start=$(date +%s)
for preset in default asan; do
  echo "=== preset $preset ==="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
if [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "=== fuzz ==="
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz
  ./scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi
echo "=== all tests passed in $(( $(date +%s) - start )) s ==="

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is needed, then builds and runs the whole test suite under the default and asan presets,
# then builds the libFuzzer targets and runs each for a bounded time (FUZZ_SECONDS, default 60).
# The tested presets are configured with HT_REQUIRE_ALL=ON: a missing optional part (cmocka, DPDK, XRT,
# Verilator, QuantLib, QuickFIX, tshark, yosys) fails the configure instead of turning its tests into skips.
# Ends with one summary line per phase (tests run, passed, failed, skipped) and exits non-zero when any phase
# failed or ran no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh test
start=$(date +%s)
# Prints how long the suite has run so far, so slow phases show up in CI's log.
elapsed() { echo "--- $1 at $(( $(date +%s) - start )) s"; }

summary=()
status=0
# record PHASE TOTAL FAILED SKIPPED RC [NOTE]: one summary line; the phase fails when it failed, exited non-zero,
# or ran nothing (every test skipped or none registered).
record() {
  local phase="$1" total="$2" failed="$3" skipped="$4" rc="$5" note="${6:-}" ran verdict="ok"
  ran=$(( total - skipped ))
  if [ "$ran" -le 0 ]; then
    verdict="FAILED: ran zero tests"
  elif [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
    verdict="FAILED"
  fi
  [ "$verdict" = ok ] || status=1
  summary+=("$(printf '[==========] %-8s %4d registered, %4d ran: %4d passed, %d failed, %d skipped%s  %s' \
    "$phase" "$total" "$ran" $(( ran - failed )) "$failed" "$skipped" "${note:+ ($note)}" "$verdict")")
}
# junit_count FILE ATTRIBUTE: an attribute of ctest's JUnit <testsuite> element (0 when the file is missing).
junit_count() {
  local v
  v=$(sed -n "s/^[[:space:]]*$2=\"\\([0-9]*\\)\".*/\\1/p" "$1" 2>/dev/null | head -n 1)
  echo "${v:-0}"
}

for preset in default asan; do
  echo "=== preset $preset ==="
  junit="$PWD/build/$preset/junit.xml"
  rm -f "$junit"
  if ! cmake --preset "$preset" -DHT_REQUIRE_ALL=ON >/dev/null || ! cmake --build --preset "$preset"; then
    record "$preset" 0 0 0 1 "configure or build failed"
    continue
  fi
  elapsed "$preset built"
  rc=0
  ctest --preset "$preset" --output-junit "$junit" || rc=$?
  elapsed "$preset tested"
  record "$preset" "$(junit_count "$junit" tests)" "$(junit_count "$junit" failures)" \
         $(( $(junit_count "$junit" skipped) + $(junit_count "$junit" disabled) )) "$rc"
done
if [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "=== fuzz ==="
  rc=0
  targets=0
  if cmake --preset fuzz >/dev/null && cmake --build --preset fuzz --target fuzzers; then
    elapsed "fuzzers built"
    targets=$(find build/fuzz/fuzz -maxdepth 1 -name 'fuzz_*' -type f -perm -u+x 2>/dev/null | wc -l)
    ./scripts/fuzz.sh "${FUZZ_SECONDS:-60}" || rc=$?
  else
    rc=1
  fi
  # fuzz.sh names the failed targets; here a failure counts once against the phase.
  record fuzz "$targets" $(( rc != 0 ? 1 : 0 )) 0 "$rc" "libFuzzer targets, ${FUZZ_SECONDS:-60} s each"
fi

echo "=== summary after $(( $(date +%s) - start )) s ==="
printf '%s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
  echo "[  FAILED  ] the test suite failed (see the phases above)"
  exit 1
fi
echo "[  PASSED  ] all phases ran tests and passed"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per message through the feed, counted by callgrind inside the measured loops only (loading
# the capture, warming the registry and building the ticker stream are not counted):
#   every message of the capture into an empty feed (bench_capture_loop), and
#   one-ticker packets into a warm feed (bench_ticker_loop).
# Usage: bench/feed/callgrind.sh [BUILD_DIR]
set -euo pipefail
build="${1:-build/default}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for what in capture tickers; do
  loop=bench_${what%s}_loop
  msg=$(valgrind --tool=callgrind --toggle-collect="$loop" --callgrind-out-file="$out" \
        "$build/bench/bench_feed" --only "$what" 2>/dev/null)
  count=$(echo "$msg" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) {print $i; exit}}')
  ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "$msg"
  awk -v ir="$ir" -v n="$count" -v w="$what" 'BEGIN { printf "callgrind (%s): %d instructions for %d messages = %.1f instructions per message\n", w, ir, n, ir / n }'
done

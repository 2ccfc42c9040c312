#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per ticker message through the feed, counted by callgrind inside bench_ticker_loop only
# (the capture warm-up and the stream building are not counted). Usage: bench/feed/callgrind.sh [BUILD_DIR]
set -euo pipefail
build="${1:-build/default}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
msg=$(valgrind --tool=callgrind --toggle-collect=bench_ticker_loop --callgrind-out-file="$out" \
      "$build/bench/bench_feed" --only tickers 2>/dev/null)
tickers=$(echo "$msg" | awk '/ticker messages in bench_ticker_loop/ {print $4}')
ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$msg"
awk -v ir="$ir" -v n="$tickers" 'BEGIN { printf "callgrind: %d instructions for %d ticker messages = %.1f instructions per ticker message\n", ir, n, ir / n }'

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs `hedgetrig demo` with no arguments (as the README's first command does) in a scratch folder and checks what
# a user is promised: it finishes, the book stayed inside its band, costs and latency are printed, the pipeline
# agreed with the double evaluation on every tick, and the files (and the chart, gnuplot being installed) exist.
# Usage: demo_check.sh HEDGETRIG SCRATCH_DIR
set -euo pipefail
bin="$1"; dir="$2"
rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
out=$("$bin" demo)
echo "$out"
fail() { echo "demo_check: $*" >&2; exit 1; }
echo "$out" | grep -Eq '^  hedged +[0-9.]+ +[0-9.]+ +0\.0 s of [0-9.]+ s \(0\.00%\)' || fail "the hedged net delta left its band"
echo "$out" | grep -Eq '^  without hedging .*\((100\.00|[1-9][0-9]\.[0-9]+)%\)' || fail "without hedging the book should spend most of the time outside the band"
echo "$out" | grep -Eq 'cost paid [0-9]+\.[0-9]+ USD = fees' || fail "no cost line"
echo "$out" | grep -Eq 'breaches [1-9][0-9]*' || fail "no breach"
echo "$out" | grep -Eq 'orders [1-9][0-9]* \(refused 0, rejected 0\), fills [1-9]' || fail "orders or fills missing"
echo "$out" | grep -q ' 0 pipeline/double disagreements' || fail "the pipeline disagreed with the double evaluation"
echo "$out" | grep -Eq '^tick->order +[1-9][0-9]* ' || fail "no tick->order latency"
for f in events.csv series.csv latency.csv; do [ -s "hedgetrig-demo/$f" ] || fail "hedgetrig-demo/$f missing"; done
if command -v gnuplot >/dev/null 2>&1; then
  [ -s hedgetrig-demo/demo.png ] || fail "gnuplot is installed but demo.png is missing"
  head -c 8 hedgetrig-demo/demo.png | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a' || fail "demo.png is not a PNG"
fi
echo "demo_check: ok"

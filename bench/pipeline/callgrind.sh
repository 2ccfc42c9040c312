#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per tick through the pipeline's C model (sw backend), counted by callgrind inside
# ht_pipe_push_tick and ht_pipe_poll_event only (book load, fold, band setting and re-arms are not counted):
# one push and one poll per tick, as `hedgetrig bench pipeline` does with --poll-every 1.
# Usage: bench/pipeline/callgrind.sh [BUILD_DIR] [POSITIONS...]   (default build/default, 1 78 4096)
set -euo pipefail
build="${1:-build/default}"
shift || true
sizes="${*:-1 78 4096}"
bin="$build/hedgetrig"
[ -x "$bin" ] || { echo "callgrind.sh: $bin not built" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not installed" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ticks=200000
for n in $sizes; do
  valgrind --tool=callgrind --toggle-collect=ht_pipe_push_tick --toggle-collect=ht_pipe_poll_event \
    --callgrind-out-file="$out" "$bin" bench pipeline --backend sw --positions "$n" --ticks "$ticks" \
    >/dev/null 2>&1
  ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  # bench pipeline pushes the measured ticks (1 % of them breach: a second poll, a re-arm not counted), then
  # 1000 more to sample the cycles from tick to event (one push, one poll each).
  awk -v ir="$ir" -v n="$n" -v t="$ticks" 'BEGIN { printf "%5d positions: %d instructions for %d ticks (+1000 sampled) = %.1f per tick (push + poll)\n", n, ir, t, ir / (t + 1000) }'
done

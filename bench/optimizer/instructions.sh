#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per optimizer decision, per scenario of bench_optimizer, counted by callgrind (stable on a noisy
# machine, unlike the time). Usage: bench/optimizer/instructions.sh [BUILD_DIR | BENCH_BINARY] [BENCH_ARGS...]
# (default build/default; a binary path compares an older build side by side; e.g. --unprepared: books walked at
# decision time instead of prepared when they change)
set -euo pipefail
build="${1:-build/default}"
[ $# -gt 0 ] && shift
bench="$build/bench/optimizer/bench_optimizer"
[ -f "$build" ] && bench="$build"
[ -x "$bench" ] || { echo "instructions.sh: $bench not built" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not installed" >&2; exit 1; }
events=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-12s %14s\n' scenario instr/decision
for s in fixed/3 ww/3 zak/3 move/3 time/3 leland/3 ww/1 zak/1 ww/inside zak/inside; do
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bench" --events $events --only "$s" "$@" >/dev/null 2>&1
  # ht_opt_decide is called events/10 times in the warm-up and events times measured.
  total=$(callgrind_annotate --inclusive=yes "$tmp/cg" 2>/dev/null | awk '/optimizer\.c:ht_opt_decide/ && !done {gsub(",","",$1); print $1; done = 1}')
  awk -v t="$total" -v n=$((events + events / 10)) -v s="$s" 'BEGIN {printf "%-12s %14.0f\n", s, t / n}'
done

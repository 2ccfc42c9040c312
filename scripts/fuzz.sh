#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target of the fuzz preset for SECONDS each (default 60), seeded from its corpus.
# Fails when a target finds a crash, a leak, undefined behaviour or a timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
dir=build/fuzz/fuzz
shopt -s nullglob
targets=("$dir"/fuzz_*)
found=0
for t in "${targets[@]}"; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  found=1
  name=$(basename "$t")
  work="build/fuzz/corpus/$name"
  mkdir -p "$work"
  seeds=()
  if [ -f "$dir/$name.seeds" ]; then
    seed_dir=$(head -n 1 "$dir/$name.seeds")
    [ -d "$seed_dir" ] && seeds=("$seed_dir")
  fi
  echo "fuzz: $name for ${seconds}s (seeds: ${seeds[*]:-none})"
  "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="build/fuzz/$name-" "$work" "${seeds[@]}" 2>"build/fuzz/$name.log" \
    || { tail -n 60 "build/fuzz/$name.log"; echo "fuzz: $name FAILED" >&2; exit 1; }
  grep -E '^(stat::number_of_executed_units|Done)' "build/fuzz/$name.log" || true
done
[ $found = 1 ] || echo "fuzz: no targets built"

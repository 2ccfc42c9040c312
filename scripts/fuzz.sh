#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target of the fuzz preset for SECONDS each (default 60), seeded from its corpus,
# as many at a time as there are cores. Fails when a target finds a crash, a leak, undefined behaviour
# or a timeout, and prints the end of that target's log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
dir=build/fuzz/fuzz
parallel="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
shopt -s nullglob

# Runs one target; its log goes to build/fuzz/<name>.log.
run_one() {
  local t="$1" name work seeds=()
  name=$(basename "$t")
  work="build/fuzz/corpus/$name"
  mkdir -p "$work"
  if [ -f "$dir/$name.seeds" ]; then
    local seed_dir
    seed_dir=$(head -n 1 "$dir/$name.seeds")
    [ -d "$seed_dir" ] && seeds=("$seed_dir")
  fi
  echo "fuzz: $name for ${seconds}s (seeds: ${seeds[*]:-none})"
  "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="build/fuzz/$name-" "$work" "${seeds[@]}" >"build/fuzz/$name.log" 2>&1
}

targets=()
for t in "$dir"/fuzz_*; do
  [ -x "$t" ] && [ -f "$t" ] && targets+=("$t")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets built: nothing was fuzzed" >&2
  exit 1
fi

failed=()
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  names+=("$(basename "$t")")
  # Keep at most $parallel running: wait for the oldest before starting another.
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed+=("${names[0]}")
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done

for t in "${targets[@]}"; do
  name=$(basename "$t")
  echo "fuzz: $name: $(grep -E '^stat::number_of_executed_units' "build/fuzz/$name.log" | awk '{print $2}') runs, \
$(grep -E '^stat::peak_rss_mb' "build/fuzz/$name.log" | awk '{print $2}') MB peak"
done
if [ ${#failed[@]} -gt 0 ]; then
  for name in "${failed[@]}"; do
    echo "---- $name ----"
    tail -n 60 "build/fuzz/$name.log"
  done
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean"

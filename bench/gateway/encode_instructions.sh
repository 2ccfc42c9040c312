#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per NewOrderSingle encode (ht_fix_encode_nos), counted by callgrind over bench_gateway's encode loop
# (2,100,000 orders): stable on a shared machine, unlike the time.
# Usage: bench/gateway/encode_instructions.sh [BUILD_DIR | BENCH_BINARY]   (default build/default)
set -euo pipefail
build="${1:-build/default}"
bench="$build/bench/gateway/bench_gateway"
[ -f "$build" ] && bench="$build"
[ -x "$bench" ] || { echo "encode_instructions.sh: $bench not built" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "encode_instructions.sh: valgrind not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bench" --encode-only >/dev/null 2>&1
total=$(callgrind_annotate --inclusive=yes "$tmp/cg" 2>/dev/null | awk '/fix\.c:ht_fix_encode_nos/ && !done {gsub(",","",$1); print $1; done = 1}')
awk -v t="$total" 'BEGIN {printf "ht_fix_encode_nos: %.0f instructions per order\n", t / 2100000}'

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per order up to "bytes ready" (risk checks, final gate, encode or patch), counted by callgrind:
# ht_gw_send_order against ht_gw_fire_armed over the same orders (bench_gateway --armed send|fire, one at a time
# against the in-process exchange simulator). Up to ready = the call's inclusive count less gw_order_out's (the
# ready stamp, journal write, send and bookkeeping, which both paths share).
# From ready on, gw_order_out's count per order is the journal and the send in the mode given (user-space
# instructions only: what a syscall does in the kernel is not counted, so a pwritev or send() looks cheap here).
# Usage: bench/gateway/armed_instructions.sh [BUILD_DIR | BENCH_BINARY] [ORDERS] [--journal write|mmap]
#        [--send plain|io_uring]   (default build/default, 2000, the gateway's defaults: mmap, plain)
set -euo pipefail
build="${1:-build/default}"
orders="${2:-2000}"
io_args=("${@:3}")
bench="$build/bench/gateway/bench_gateway"
[ -f "$build" ] && bench="$build"
[ -x "$bench" ] || { echo "armed_instructions.sh: $bench not built" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "armed_instructions.sh: valgrind not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mode in send fire; do
    valgrind --tool=callgrind --callgrind-out-file="$tmp/$mode" "$bench" --armed "$mode" "$orders" "${io_args[@]}" >"$tmp/$mode.out" 2>&1 ||
        { echo "armed_instructions.sh: bench_gateway --armed $mode failed:" >&2; tail -5 "$tmp/$mode.out" >&2; exit 1; }
    callgrind_annotate --inclusive=yes "$tmp/$mode" >"$tmp/$mode.txt" 2>/dev/null
done
# The inclusive count of a function (the first line naming it).
incl() { awk -v f="$2" '$0 ~ f && !done {gsub(",","",$1); print $1; done = 1}' "$1"; }
send=$(incl "$tmp/send.txt" ':ht_gw_send_order ')
fire=$(incl "$tmp/fire.txt" ':ht_gw_fire_armed ')
out_send=$(incl "$tmp/send.txt" ':gw_order_out ')
out_fire=$(incl "$tmp/fire.txt" ':gw_order_out ')
arm=$(incl "$tmp/fire.txt" ':ht_gw_arm_order ')
awk -v s="$send" -v f="$fire" -v os="$out_send" -v of="$out_fire" -v a="$arm" -v n="$orders" 'BEGIN {
    printf "ht_gw_send_order up to ready: %.0f instructions per order (whole call %.0f)\n", (s - os) / n, s / n
    printf "ht_gw_fire_armed up to ready: %.0f instructions per order (whole call %.0f)\n", (f - of) / n, f / n
    printf "ht_gw_arm_order (off the hot path): %.0f instructions per order\n", a / n
    printf "gw_order_out (ready stamp, journal, send, bookkeeping): %.0f (send) / %.0f (fire) per order\n", os / n, of / n
}'

#!/bin/sh
# SPDX-License-Identifier: MIT
# `hedgetrig bench pipeline` on the C model (sw) against the RTL in Verilator, same book and ticks: both exit 0,
# and they report the same number of breach events and the same cycles from tick to event (min, median, max).
# The C model's cycle stamps are its own constant; the RTL's are measured, so this is what can catch a drift.
# usage: bench_backends_agree.sh HEDGETRIG_BINARY
set -u
bin="$1"
fail() { echo "bench_backends_agree: FAIL: $*" >&2; exit 1; }
# Prints the fields both backends must agree on, from one JSON line.
agreed_fields() {
  printf '%s\n' "$1" | grep -o -e '"events":[0-9]*' -e '"cycles_tick_to_event":{[^}]*}' | tr '\n' ' '
}
for poll in 1 16; do
  args="bench pipeline --positions 78 --ticks 20000 --poll-every $poll --json"
  sw=$("$bin" $args --backend sw) || fail "sw backend exited $?"
  rtl=$("$bin" $args --backend verilator) || fail "verilator backend exited $?"
  a=$(agreed_fields "$sw"); b=$(agreed_fields "$rtl")
  case "$a" in *'"events":'*'"samples":1000}'*) ;; *) fail "sw output lacks events or 1000 cycle samples: $sw" ;; esac
  [ "$a" = "$b" ] || fail "--poll-every $poll: sw reports [$a], verilator reports [$b]"
  echo "poll every $poll: sw and verilator agree: $a"
done
echo "1 passed, 0 failed"

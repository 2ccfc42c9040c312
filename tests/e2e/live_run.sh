#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The live mode end to end on loopback: `hedgetrig sim-market --send` is the exchange's multicast (unicast to
# 127.0.0.1 here), `hedgetrig exchange-sim` the venue (a separate process speaking FIX 4.4), `hedgetrig run` the
# product with its two threads and the socket receive path. Checks that it hedges (orders the venue recorded, as
# many as the engine counted), that SIGUSR1 engages the kill switch (no order after it), and that SIGTERM stops it
# cleanly (exit 0, summary printed, journal written, session logged out).
# Usage: live_run.sh HEDGETRIG BOOK WORKDIR
set -u
bin="$1"; book="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
base=$((21000 + ($$ % 14000) * 2))     # the two market ports, 6100/6101 moved to a per-process range
xport=$((base + 30000 - 21000))
[ "$xport" -lt 65000 ] || xport=$((xport - 30000))
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
fail() { echo "live_run: $*" >&2; echo "--- run stderr" >&2; tail -20 "$work/run.err" >&2; echo "--- run stdout" >&2; cat "$work/run.out" >&2; exit 1; }
counter() { sed -n "s/^$1 = //p" "$work/counters" 2>/dev/null; }
wait_for() { # wait_for SECONDS CONDITION...
  local t=$(( $1 * 10 )); shift
  while [ "$t" -gt 0 ]; do eval "$@" && return 0; sleep 0.1; t=$((t - 1)); done; return 1; }

"$bin" exchange-sim --port "$xport" --mid 44000 --spread 1 --level-qty 1000000 --levels 30 \
    --venue-book "$book" --record "$work/venue.csv" > "$work/xsim.out" 2>&1 &
pids+=($!)
wait_for 10 'grep -q listening "$work/xsim.out"' || fail "the exchange simulator did not start"

cat > "$work/run.conf" <<CONF
[engine]
book = $book
event_log = $work/events.csv
[hedge]
strategy = fixed:0.2
[source]
kind = socket
unicast = yes
ports = $base, $((base + 1))
rcvbuf_bytes = 8388608
[venue]
kind = fix
[gateway]
host = 127.0.0.1
port = $xport
journal = $work/journal
heartbeat_s = 5
log = $work/session.log
[risk]
max_notional = 0
[threads]
enabled = yes
hot_cpu = -1
slow_cpu = -1
slow_idle_us = 100
[status]
interval_s = 1
counters_file = $work/counters
CONF

"$bin" run --config "$work/run.conf" > "$work/run.out" 2> "$work/run.err" &
run=$!
pids+=($run)
wait_for 10 'grep -q "pid $run" "$work/run.err"' || fail "run did not start"
"$bin" sim-market --send --to 127.0.0.1 --port-offset $((base - 6100)) --speed 25 --steps 0 --seed 3 \
    --perp-premium 0 --vol 0.05 --jumps-per-day 0 > "$work/sim.out" 2>&1 &
pids+=($!)

wait_for 60 'o=$(counter orders); [ "$(counter armed)" = 1 ] && [ "${o:-0}" -ge 3 ]' || fail "no hedge within a minute"
kill -USR1 "$run"
wait_for 10 '[ "$(counter killed)" = 1 ]' || fail "the kill switch did not engage"
grep -q "KILL SWITCH ENGAGED" "$work/run.err" "$work/session.log" || fail "no KILL SWITCH ENGAGED message"
killed_orders=$(counter orders)
sleep 3
[ "$(counter orders)" = "$killed_orders" ] || fail "orders were sent after the kill switch ($killed_orders, then $(counter orders))"
ticks=$(counter ticks)
[ "${ticks:-0}" -gt 20 ] || fail "too few ticks: $ticks"
kill -TERM "$run"
wait "$run"; rc=$?
[ "$rc" -eq 0 ] || fail "run exited $rc after SIGTERM"
grep -q "stopped cleanly" "$work/run.err" || fail "no clean stop"
grep -q "^orders [0-9]" "$work/run.out" || fail "no summary"
grep -q "KILL SWITCH ENGAGED" "$work/run.out" || fail "the summary does not say the kill switch is on"
grep -q "^status: hedging" "$work/run.err" || fail "no status line"
[ -s "$work/journal" ] || fail "no journal"
grep -q ",kill," "$work/events.csv" || fail "the event log has no kill line"
sent=$(sed -n 's/^orders \([0-9]*\) .*/\1/p' "$work/run.out")
recorded=$(grep -cvE ',(duplicate|possdup)$' "$work/venue.csv")
[ "$sent" = "$recorded" ] || fail "the engine sent $sent orders, the venue recorded $recorded"
grep -q "logged out" "$work/session.log" || fail "no logout in the session log"
echo "live_run: ok: $ticks ticks, $sent orders (all recorded by the venue), kill switch and clean stop"

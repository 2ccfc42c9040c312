#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `hedgetrig kill` signals only a running hedgetrig gateway, and its reason reaches that gateway's log:
#  - --pid of a `sleep` and of an `exchange-sim` (a hedgetrig process without a gateway): refused, exit 1, both
#    still alive;
#  - a second gateway on the journal of a running `run`: refused, naming the run's pid;
#  - --pid of the run: exit 0, the run's session log says KILL SWITCH ENGAGED with the sender's pid and the reason
#    (control characters shown as '?'), its counters say killed;
#  - --config after the run stopped: no pid file (exit 1); a stale pid file naming a live `sleep`: reported as
#    stale, nothing signalled.
# Usage: kill_pid.sh HEDGETRIG BOOK WORKDIR
set -u
bin="$1"; book="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
fail() { echo "kill_pid: $*" >&2; echo "--- session log" >&2; tail -5 "$work/session.log" >&2; exit 1; }
wait_for() { # wait_for SECONDS CONDITION...
  local t=$(( $1 * 10 )); shift
  while [ "$t" -gt 0 ]; do eval "$@" && return 0; sleep 0.1; t=$((t - 1)); done; return 1; }
alive() { kill -0 "$1" 2>/dev/null; }

sleep 60 & sleeper=$!; pids+=($sleeper)
"$bin" exchange-sim --port 0 > "$work/xsim.out" 2>&1 &
xsim=$!; pids+=($xsim)
wait_for 10 'grep -q listening "$work/xsim.out"' || fail "the exchange simulator did not start"
xport=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/xsim.out")
xport=${xport%%$'\n'*}

# Neither a sleep nor a hedgetrig process without a gateway is signalled.
"$bin" kill --pid "$sleeper" --reason "hostile" > "$work/k1.out" 2> "$work/k1.err"; rc=$?
[ "$rc" -eq 1 ] || fail "kill --pid of a sleep exited $rc, expected 1"
grep -q "pid $sleeper (sleep) is not a hedgetrig gateway.*nothing sent" "$work/k1.err" || fail "no refusal: $(cat "$work/k1.err")"
"$bin" kill --pid "$xsim" > /dev/null 2> "$work/k2.err"; rc=$?
[ "$rc" -eq 1 ] || fail "kill --pid of exchange-sim exited $rc, expected 1"
sleep 0.3
alive "$sleeper" || fail "the sleep did not survive"
alive "$xsim" || fail "exchange-sim did not survive"

port=$((20000 + ($$ % 20000)))
cat > "$work/run.conf" <<CONF
[engine]
book = $book
[source]
kind = socket
unicast = yes
ports = $port, $((port + 1))
[venue]
kind = fix
[gateway]
host = 127.0.0.1
port = $xport
journal = $work/journal
log = $work/session.log
[threads]
hot_cpu = -1
slow_cpu = -1
[status]
interval_s = 1
counters_file = $work/counters
CONF
"$bin" run --config "$work/run.conf" > "$work/run.out" 2> "$work/run.err" &
run=$!; pids+=($run)
wait_for 15 'grep -q "logged on" "$work/session.log" 2>/dev/null && [ -s "$work/journal.pid" ]' || fail "run did not log on"

# A second gateway on the running journal is refused.
"$bin" order --fix "127.0.0.1:$xport" --sender HEDGETRIG --target DERIBITSERVER --symbol BTC-PERPETUAL --side buy \
    --qty 1 --price 50001 --no-collar --journal "$work/journal" > /dev/null 2> "$work/second.err"; rc=$?
[ "$rc" -eq 1 ] || fail "a second gateway on the journal exited $rc, expected 1"
grep -q "in use by another gateway (pid $run holds" "$work/second.err" || fail "no refusal: $(cat "$work/second.err")"

"$bin" kill --pid "$run" --reason $'desk: stop hedging \e[2J now' > "$work/k3.out" 2> "$work/k3.err"; rc=$?
[ "$rc" -eq 0 ] || fail "kill --pid of the run exited $rc: $(cat "$work/k3.err")"
grep -q "sent SIGUSR1 to pid $run, the gateway holding $work/journal.pid" "$work/k3.out" || fail "no report: $(cat "$work/k3.out")"
wait_for 5 'grep -q "KILL SWITCH ENGAGED: kill signal from pid [0-9]* (hedgetrig kill): desk: stop hedging ?\[2J now;" "$work/session.log"' \
  || fail "the reason did not reach the session log"
wait_for 5 'grep -q "^killed = 1" "$work/counters"' || fail "the counters do not say killed"
alive "$run" || fail "the run ended on SIGUSR1"
# The kill file path of --config is not set here: --config signals the journal's gateway.
"$bin" kill --config "$work/run.conf" --reason "again" > "$work/k4.out" 2> "$work/k4.err"; rc=$?
[ "$rc" -eq 0 ] || fail "kill --config of the running journal exited $rc: $(cat "$work/k4.err")"

kill -TERM "$run"; wait "$run"; rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || fail "run exited $rc after SIGTERM"
[ ! -e "$work/journal.pid" ] || fail "the pid file outlived the run"
"$bin" kill --config "$work/run.conf" > /dev/null 2> "$work/k5.err"; rc=$?
[ "$rc" -eq 1 ] || fail "kill --config after the run exited $rc, expected 1"
grep -q "no gateway runs on this journal" "$work/k5.err" || fail "no reason: $(cat "$work/k5.err")"

# A stale pid file whose pid now belongs to another process (as after a crash and pid reuse).
echo "hedgetrig-gateway $sleeper 12345" > "$work/journal.pid"
"$bin" kill --config "$work/run.conf" > /dev/null 2> "$work/k6.err"; rc=$?
[ "$rc" -eq 1 ] || fail "kill --config with a stale pid file exited $rc, expected 1"
grep -q "stale pid file $work/journal.pid: the gateway it names (pid $sleeper) has ended" "$work/k6.err" \
  || fail "the stale pid file is not reported: $(cat "$work/k6.err")"
"$bin" kill --pid "$sleeper" > /dev/null 2>&1 && fail "the sleep named by a stale pid file was signalled"
sleep 0.3
alive "$sleeper" || fail "the sleep did not survive"
echo "kill_pid: ok: sleep and exchange-sim refused and alive, the run's kill switch engaged with the reason, stale pid file refused"

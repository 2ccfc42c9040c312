#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SIGUSR1 while `hedgetrig run` waits for its venue's logon (the gateway and its pid file exist, the engine is not
# built yet) engages the kill switch: it used to end the process (the signal's default action, exit 138) and
# `hedgetrig kill --pid` refused it ("does not catch SIGUSR1"). The venue never answers here (nothing listens),
# so the run ends after connect_timeout_ms with exit 1 and says why.
# Then SIGINT during the same wait: the run stops at once with exit 0 (it waited out connect_timeout_ms, then
# failed with exit 1).
# Usage: run_early_kill_signal.sh HEDGETRIG BOOK WORKDIR
set -u
bin="$1"; book="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "run_early_kill_signal: $*" >&2; echo "--- stderr" >&2; tail -5 "$work/run.err" >&2; exit 1; }
# A port nothing listens on: bind one, note it, let it go.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/run.conf" <<CONF
[engine]
book = $book
[source]
kind = sim
[venue]
kind = fix
[gateway]
host = 127.0.0.1
port = $port
journal = $work/run.journal
log = $work/session.log
connect_timeout_ms = 3000
reconnect_min_ms = 100
reconnect_max_ms = 200
[threads]
enabled = yes
hot_cpu = -1
slow_cpu = -1
CONF
"$bin" run --config "$work/run.conf" > "$work/run.out" 2> "$work/run.err" &
run=$!
for _ in $(seq 100); do [ -e "$work/run.journal.pid" ] && break; sleep 0.05; done
[ -e "$work/run.journal.pid" ] || { kill "$run"; fail "no pid file: the gateway was not created"; }
"$bin" kill --pid "$run" --reason "early stop" > "$work/kill.out" 2> "$work/kill.err"; krc=$?
wait "$run"; rc=$?
[ "$krc" -eq 0 ] || fail "kill --pid during the logon wait exited $krc: $(cat "$work/kill.err")"
[ "$rc" -eq 1 ] || fail "run exited $rc after SIGUSR1 during its logon wait, expected 1 (138 = killed by the signal)"
grep -q "no logon" "$work/run.err" || fail "run did not say why it stopped"
grep -q "KILL SWITCH ENGAGED.*early stop" "$work/session.log" || fail "the session log does not show the kill switch"

rm -f "$work/run.journal" "$work/run.journal.pid"
"$bin" run --config "$work/run.conf" > "$work/run.out" 2> "$work/run.err" &
run=$!
for _ in $(seq 100); do [ -e "$work/run.journal.pid" ] && break; sleep 0.05; done
[ -e "$work/run.journal.pid" ] || { kill "$run"; fail "no pid file the second time"; }
t0=$(date +%s%N)
kill -INT "$run"
wait "$run"; rc=$?
waited_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" -eq 0 ] || fail "run exited $rc after SIGINT during its logon wait, expected 0"
[ "$waited_ms" -lt 2000 ] || fail "run took $waited_ms ms to stop after SIGINT (connect_timeout_ms is 3000)"
grep -q "stopped before hedging started" "$work/run.err" || fail "run did not say it stopped before hedging"
echo "run_early_kill_signal: kill switch engaged during the logon wait; SIGINT then stopped it in $waited_ms ms"

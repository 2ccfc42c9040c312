#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A venue that fills 1000 contracts of a 1-contract order: the gateway engages its kill switch (OVERFILL) and
# `hedgetrig order` must exit 1 saying so, not print "acknowledged" and exit 0 (as it did: the kill event came
# after the final execution report that ended its wait).
# usage: overfill_check.sh HEDGETRIG_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"; here="$(cd "$(dirname "$0")" && pwd)"
fail() { echo "overfill_check: FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null || fail "python3 is not installed (apt-get install python3; scripts/install-deps.sh test)"
mkdir -p "$work"; cd "$work"; rm -f venue.out order.out overfill.journal*
python3 -u "$here/overfill_venue.py" >venue.out 2>venue.err &
venue=$!
trap 'kill "$venue" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s venue.out ] && break; sleep 0.05; done
port=$(head -n 1 venue.out)
[ -n "$port" ] || fail "the scripted venue did not start: $(cat venue.err)"
rc=0
"$bin" order --fix "127.0.0.1:$port" --sender HT --target DERIBITSERVER --symbol BTC-PERPETUAL --side buy --qty 1 \
  --price 50000 --no-collar --journal "$work/overfill.journal" --timeout-ms 5000 >order.out 2>&1 || rc=$?
cat order.out
[ "$rc" -eq 1 ] || fail "hedgetrig order exited $rc after an overfill, expected 1"
grep -q "KILL SWITCH ENGAGED: OVERFILL" order.out || fail "the session log does not name the overfill"
grep -q "result: acknowledged, then the kill switch engaged" order.out || fail "the result line does not say the kill switch engaged"
grep -q "^result: acknowledged$" order.out && fail "the result line says plainly 'acknowledged'"
echo "1 passed, 0 failed"

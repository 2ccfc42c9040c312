#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Decodes our FIX traffic with Wireshark's own FIX dissector (tshark): captures loopback traffic of a session
# between `hedgetrig order` and `hedgetrig exchange-sim`, then checks that tshark parses every message with a
# good checksum, sees the message types we sent, and finds nothing malformed.
# usage: tshark_check.sh HEDGETRIG_BINARY WORK_DIR      (needs permission to capture on lo, e.g. root)
set -euo pipefail
bin="$1"; work="$2"
fail() { echo "tshark_check: FAIL: $*" >&2; exit 1; }
command -v tshark >/dev/null || fail "tshark is not installed (apt-get install tshark; scripts/install-deps.sh test)"
mkdir -p "$work"; cd "$work"
rm -f sim.out sim.err cap.pcapng tshark.err order*.out *.journal
"$bin" exchange-sim --port 0 --max-fill-qty 3 --duration-s 60 >sim.out 2>sim.err &
sim=$!
tsh=""
cleanup() { kill "$sim" 2>/dev/null || true; [ -n "$tsh" ] && kill "$tsh" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q 'listening on' sim.out 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' sim.out)
[ -n "$port" ] || fail "exchange-sim did not start: $(cat sim.err)"
tshark -i lo -f "tcp port $port" -w cap.pcapng 2>tshark.err &
tsh=$!
for _ in $(seq 100); do grep -q 'Capturing on' tshark.err 2>/dev/null && break; kill -0 "$tsh" 2>/dev/null || break; sleep 0.05; done
grep -q 'Capturing on' tshark.err || fail "tshark cannot capture on lo: $(cat tshark.err)"
sleep 1  # let the capture settle before the first SYN
common=(--fix "127.0.0.1:$port" --sender HEDGETRIG --target DERIBITSERVER --journal "$work/tshark.journal")
"$bin" order "${common[@]}" --symbol BTC-PERPETUAL --side buy --qty 7 --price 50001 --mark 50000 >order1.out 2>&1 || fail "order 1: $(cat order1.out)"
"$bin" order "${common[@]}" --symbol BTC-PERPETUAL --side sell --qty 2 --price 60000 --no-collar >order2.out 2>&1 || fail "order 2: $(cat order2.out)"
# Let the last segments reach the capture file: on a loaded machine dumpcap may lag by seconds, so wait (up to
# 20 s) until the file holds all four Logouts, the last messages of the two sessions.
logouts_captured() {
  tshark -r cap.pcapng -d "tcp.port==$port,fix" -Y fix -T fields -e fix.MsgType 2>/dev/null | tr ',' '\n' | grep -c -x 5 || true
}
for _ in $(seq 40); do [ "$(logouts_captured)" -ge 4 ] && break; sleep 0.5; done
sleep 0.5
kill -INT "$tsh"; wait "$tsh" || true; tsh=""
fields=$(tshark -r cap.pcapng -d "tcp.port==$port,fix" -Y fix -T fields -E separator=, \
         -e fix.MsgType -e fix.BodyLength -e fix.checksum_good -e fix.checksum_bad 2>read.err) || fail "tshark -r: $(cat read.err)"
echo "$fields" > fields.csv
total=$(grep -c . fields.csv || true)
[ "$total" -ge 10 ] || fail "tshark decoded only $total FIX messages: $(cat fields.csv)"
# Several messages may share a frame: count message types across comma-separated lists.
count_type() { tr ',' '\n' < fields.csv | grep -c -x "$1" || true; }
[ "$(count_type D)" -eq 2 ] || fail "expected 2 NewOrderSingle (D), tshark saw $(count_type D)"
[ "$(count_type A)" -eq 4 ] || fail "expected 4 Logon (A) messages, tshark saw $(count_type A)"
[ "$(count_type 5)" -eq 4 ] || fail "expected 4 Logout (5) messages, tshark saw $(count_type 5)"
[ "$(count_type 8)" -ge 5 ] || fail "expected at least 5 ExecutionReports (8), tshark saw $(count_type 8)"
# The quantity on the wire (docs/units.md): each NewOrderSingle carries OrderQty in contracts and QtyType 854=1
# (Contracts), as Wireshark's dissector reads them: the two orders were 7 and 2 contracts.
qty=$(tshark -r cap.pcapng -d "tcp.port==$port,fix" -Y 'fix.MsgType == "D"' -T fields -E separator=: \
      -e fix.OrderQty -e fix.QtyType 2>/dev/null | tr '\n' ' ')
[ "$qty" = "7:1 2:1 " ] || fail "expected OrderQty:QtyType 7:1 and 2:1 in the two NewOrderSingles, tshark read '$qty'"
if grep -q -i 'true' <(tshark -r cap.pcapng -d "tcp.port==$port,fix" -Y fix -T fields -e fix.checksum_bad 2>/dev/null); then
  fail "tshark reports a bad FIX checksum"
fi
good=$(tshark -r cap.pcapng -d "tcp.port==$port,fix" -Y "fix.checksum_good == 1" -T fields -e frame.number 2>/dev/null | grep -c . || true)
[ "$good" -ge 1 ] || fail "tshark did not validate any checksum as good"
# TCP's own analysis (expert group "Sequence": a reset, a segment dumpcap missed on a loaded machine) says
# nothing about our FIX bytes and made this check flaky; every other warning and any malformed frame fails.
bad_filter='_ws.malformed || (_ws.expert.severity >= warning && !(_ws.expert.group == "Sequence"))'
bad_frames=$(tshark -r cap.pcapng -d "tcp.port==$port,fix" -Y "$bad_filter" -T fields -e frame.number 2>filter.err) ||
  fail "tshark could not apply the malformed-frame filter: $(cat filter.err)"
malformed=$(grep -c . <<<"$bad_frames" || true)
if [ "$malformed" -ne 0 ]; then
  tshark -r cap.pcapng -d "tcp.port==$port,fix" -Y "$bad_filter" -T fields -e frame.number -e _ws.expert.message >&2 2>/dev/null || true
  fail "tshark flags $malformed frames as malformed or with warnings (listed above)"
fi
echo "tshark_check: tshark decoded $total FIX frames: $(count_type A) Logon, $(count_type D) NewOrderSingle ($qty), $(count_type 8) ExecutionReport, $(count_type 5) Logout; checksums good, nothing malformed"
echo "1 passed, 0 failed"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 11's field injection, end to end: `hedgetrig order --symbol "BTC-PERPETUAL<SOH>38=999" --qty 1` with
# [risk] max_order_qty = 5 once sent OrderQty 999 past the risk check (the venue filled 999). Now every string
# option that becomes a FIX field is refused before anything is sent: exit 2, naming the option, the byte and its
# offset, and the exchange simulator records no order. A valid order afterwards reaches it (the venue was there).
# usage: injection_check.sh HEDGETRIG_BINARY WORK_DIR
set -uo pipefail
bin="$1"; work="$2"
fail() { echo "injection_check: FAIL: $*" >&2; exit 1; }
mkdir -p "$work"; cd "$work" || exit 1
rm -f sim.out sim.err orders.csv c.conf ./*.journal out.txt
printf '[risk]\nmax_order_qty = 5\n' > c.conf
"$bin" exchange-sim --port 0 --record orders.csv --duration-s 60 >sim.out 2>sim.err &
sim=$!
trap 'kill "$sim" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' sim.out 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' sim.out)
[ -n "$port" ] || fail "exchange-sim did not start: $(cat sim.err)"
venue=(--fix "127.0.0.1:$port" --config c.conf --journal "$work/inject.journal")

# Runs `hedgetrig order ARGS...`; passes when it exits 2 and its message holds every extra pattern.
expect_refused() {
  local what="$1"; shift
  local patterns=()
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
  shift
  "$bin" order "$@" >out.txt 2>&1
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2 (usage error): $(cat out.txt)"
  for p in "${patterns[@]}"; do
    grep -q -e "$p" out.txt || fail "$what: the message does not say '$p': $(cat out.txt)"
  done
  echo "injection_check: $what: exit 2: $(head -n 1 out.txt)"
}

# The command, as reported (no --mark): the symbol is named first.
expect_refused "Symbol with SOH 38=999" "--symbol" "byte 0x01 at offset 13" -- "${venue[@]}" \
  --sender HEDGETRIG --target DERIBITSERVER --symbol "$(printf 'BTC-PERPETUAL\00138=999')" \
  --side buy --qty 1 --price 50010
expect_refused "Symbol with SOH, with a mark" "--symbol" "byte 0x01 at offset 13" -- "${venue[@]}" \
  --sender HEDGETRIG --target DERIBITSERVER --symbol "$(printf 'BTC-PERPETUAL\00138=999')" \
  --side buy --qty 1 --price 50010 --mark 50000
expect_refused "Symbol with '='" "--symbol" "byte 0x3D at offset 3" -- "${venue[@]}" \
  --sender HEDGETRIG --target DERIBITSERVER --symbol "BTC=X" --side buy --qty 1 --price 50010 --mark 50000
expect_refused "SenderCompID with SOH" "--sender" "byte 0x01 at offset 9" -- "${venue[@]}" \
  --sender "$(printf 'HEDGETRIG\00138=999')" --target DERIBITSERVER --symbol BTC-PERPETUAL \
  --side buy --qty 1 --price 50010 --mark 50000
expect_refused "TargetCompID with a newline" "--target" "byte 0x0A at offset 13" -- "${venue[@]}" \
  --sender HEDGETRIG --target "$(printf 'DERIBITSERVER\nX')" --symbol BTC-PERPETUAL \
  --side buy --qty 1 --price 50010 --mark 50000
printf '[gateway]\nclordid_prefix = ht\00138=9\n' > prefix.conf
"$bin" order --fix "127.0.0.1:$port" --config prefix.conf --journal "$work/prefix.journal" --sender HEDGETRIG \
  --target DERIBITSERVER --symbol BTC-PERPETUAL --side buy --qty 1 --price 50010 --mark 50000 >out.txt 2>&1
rc=$?
[ "$rc" -ne 0 ] || fail "a ClOrdID prefix with SOH in the config was accepted: $(cat out.txt)"
grep -q "prefix.conf:2" out.txt && grep -q "clordid_prefix" out.txt && grep -q "byte 0x01 at offset 2" out.txt ||
  fail "the config error does not name prefix.conf:2, clordid_prefix and the byte: $(cat out.txt)"
echo "injection_check: ClOrdID prefix with SOH in the config: exit $rc: $(head -n 1 out.txt)"

# Error messages quote what was given, but never pass a terminal escape sequence through.
"$bin" order "${venue[@]}" --sender HEDGETRIG --target DERIBITSERVER --symbol BTC-PERPETUAL \
  --side "$(printf 'buy\033[2J\033]0;owned\007')" --qty 1 --price 50010 --mark 50000 >out.txt 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "a side with escape sequences: exit $rc, expected 2: $(cat out.txt)"
if LC_ALL=C grep -q "$(printf '[\033\007]')" out.txt; then fail "the error message passed ESC/BEL through to the terminal"; fi
echo "injection_check: a side with escape sequences: exit 2, shown as: $(head -n 1 out.txt)"

sleep 0.2
[ ! -s orders.csv ] || fail "the venue received orders: $(cat orders.csv)"

# The venue was reachable all along: a valid order gets there, with the quantity that was checked.
"$bin" order "${venue[@]}" --sender HEDGETRIG --target DERIBITSERVER --symbol BTC-PERPETUAL --side buy --qty 1 \
  --price 50010 --mark 50000 >out.txt 2>&1 || fail "the valid order failed: $(cat out.txt)"
for _ in $(seq 40); do [ -s orders.csv ] && break; sleep 0.05; done
[ "$(wc -l < orders.csv)" -eq 1 ] || fail "the venue should have one order: $(cat orders.csv)"
IFS=, read -r _ _ _ symbol side qty _ _ < orders.csv
[ "$symbol" = BTC-PERPETUAL ] && [ "$side" = 1 ] && [ "$qty" = 1 ] ||
  fail "the venue received symbol '$symbol' side '$side' qty '$qty', sent BTC-PERPETUAL 1 1"
echo "injection_check: the valid order reached the venue as BTC-PERPETUAL buy 1"
echo "1 passed, 0 failed"

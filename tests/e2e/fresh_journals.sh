#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ClOrdIDs across journals and restarts, against one `hedgetrig exchange-sim` process (its --record is the
# reference: one line per order it received, with the outcome):
#  - two replays with fresh journals: no ClOrdID repeated, no "duplicate ClOrdID" reject, both exit 0;
#  - a replay restarted on the first journal keeps its ClOrdID session tag and continues its numbers;
#  - a replay whose every order the venue rejects exits 1 and says why;
#  - sequence number disagreements name the venue's reason and the remedy (both directions).
# Usage: fresh_journals.sh HEDGETRIG CAPTURE BOOK WORKDIR
set -u
bin="$1"; capture="$2"; book="$3"; work="$4"
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
fail() { echo "fresh_journals: $*" >&2; exit 1; }
start_sim() { # start_sim NAME OPTIONS...: starts an exchange-sim, sets $port
  local name="$1"; shift
  "$bin" exchange-sim --port 0 "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 50); do
    port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out")
    [ -n "$port" ] && return 0; sleep 0.1
  done
  fail "exchange-sim $name did not start"
}
replay() { # replay NAME PORT JOURNAL [CONFIG]: runs a replay against the simulator, sets $rc
  local cfg=()
  [ $# -ge 4 ] && cfg=(--config "$4")
  timeout 120 "$bin" replay "${cfg[@]}" --pcap "$capture" --book "$book" --speed max --fix "127.0.0.1:$2" \
      --journal "$3" > "$work/$1.out" 2> "$work/$1.err"
  rc=$?
}
orders_of() { sed -n 's/^orders \([0-9]*\) .*/\1/p' "$work/$1.out"; }
head_of() { sed -n "s/.*: new; ClOrdIDs \([^,]*\)1, .*/\1/p" "$work/$1.err"; }

printf '[gateway]\nreset_seq_on_logon = yes\n' > "$work/reset.conf"
start_sim venue --venue-book "$book" --record "$work/venue.csv"
venue_port=$port

replay a "$venue_port" "$work/a.journal" "$work/reset.conf"
[ "$rc" -eq 0 ] || fail "first replay exited $rc: $(tail -3 "$work/a.err")"
replay b "$venue_port" "$work/b.journal" "$work/reset.conf"
[ "$rc" -eq 0 ] || fail "second replay (fresh journal) exited $rc: $(tail -3 "$work/b.err")"
na=$(orders_of a); nb=$(orders_of b)
[ "${na:-0}" -gt 0 ] && [ "${nb:-0}" -gt 0 ] || fail "no orders sent ($na, $nb)"
ha=$(head_of a); hb=$(head_of b)
[ -n "$ha" ] && [ -n "$hb" ] && [ "$ha" != "$hb" ] || fail "ClOrdID heads of two fresh journals: '$ha' and '$hb'"
dups=$(grep -c ',duplicate$' "$work/venue.csv")
[ "$dups" -eq 0 ] || fail "the venue rejected $dups orders as duplicate ClOrdIDs"
[ "$(wc -l < "$work/venue.csv")" -eq $((na + nb)) ] || fail "venue recorded $(wc -l < "$work/venue.csv") orders, sent $na + $nb"
[ -z "$(cut -d, -f3 "$work/venue.csv" | sort | uniq -d)" ] || fail "a ClOrdID reached the venue twice"

# A restart on the first journal continues its ClOrdIDs (same head, higher numbers).
last_a=$(grep -F ",$ha" "$work/venue.csv" | cut -d, -f3 | sed "s/^$ha//" | sort -n | tail -1)
replay a2 "$venue_port" "$work/a.journal" "$work/reset.conf"
[ "$rc" -eq 0 ] || fail "replay restarted on the first journal exited $rc: $(tail -3 "$work/a2.err")"
grep -q "resuming .* ClOrdID $ha[0-9]" "$work/a2.err" || fail "the restart does not resume the head $ha"
first_a2=$(tail -n "$(orders_of a2)" "$work/venue.csv" | cut -d, -f3 | sed "s/^$ha//" | sort -n | head -1)
[ "$first_a2" -gt "$last_a" ] || fail "the restart reused ClOrdID numbers ($first_a2 <= $last_a)"
[ "$(grep -c ',duplicate$' "$work/venue.csv")" -eq 0 ] || fail "duplicates after the restart"

# A fresh journal without reset_seq_on_logon: the venue expects the sequence its session reached.
replay c "$venue_port" "$work/c.journal"
[ "$rc" -eq 1 ] || fail "replay against a venue expecting a higher MsgSeqNum exited $rc, expected 1"
grep -q "MsgSeqNum too low.*remedy: reset_seq_on_logon = yes" "$work/c.err" \
  || fail "the venue's reason and the remedy are not surfaced: $(grep replay: "$work/c.err")"

# A restarted venue (its sequence starts at 1) against the first journal: our side finds it too low.
start_sim fresh_venue
replay d "$port" "$work/a.journal"
[ "$rc" -eq 1 ] || fail "replay against a restarted venue exited $rc, expected 1"
grep -q "no logon: MsgSeqNum too low: got 1, expected [0-9]* (.*remedy: reset_seq_on_logon = yes, or remove the journal" \
    "$work/d.err" || fail "a restarted venue's sequence is not explained: $(grep replay: "$work/d.err")"

# A venue that rejects every order (no book for the symbol): exit 1, saying so.
start_sim rejecting --venue-book "$book" --mid 0 --record "$work/rejecting.csv"
replay e "$port" "$work/e.journal" "$work/reset.conf"
[ "$rc" -eq 1 ] || fail "replay whose every order was rejected exited $rc, expected 1"
grep -q "no order reached the market: 0 refused by the gateway, [1-9][0-9]* rejected by the venue (last: rejected by the venue: unknown symbol)" \
    "$work/e.err" || fail "no reason for the failure: $(grep replay: "$work/e.err")"
[ "$(grep -c ',rejected$' "$work/rejecting.csv")" -eq "$(orders_of e)" ] || fail "the record does not say rejected"
echo "fresh_journals: ok: $na + $nb orders on two fresh journals ($ha, $hb), no duplicate; restart resumed; 1 on all rejected"

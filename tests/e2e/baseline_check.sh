#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The "without hedging" baseline of replay and demo is the book's own net delta: it must not depend on the
# strategy. Replays the capture (and runs the demo) with several strategies and checks, with exit codes:
#  - the unhedged max and RMS of --json are the same for every strategy, and so is the series' unhedged column;
#  - the RMS equals its recomputation from series.csv (time-weighted: each tick's value held until the next);
#  - events.csv and series.csv have one time base: every breach logged is a tick of the series at the same time.
# Usage: baseline_check.sh HEDGETRIG CAPTURE BOOK SCRATCH_DIR
set -uo pipefail
bin="$1"; capture="$2"; book="$3"; dir="$4"
rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "baseline_check: $*" >&2; exit 1; }

# unhedged_of JSON: "max rms" of the "unhedged" object.
unhedged_of() {
  sed -n 's/.*"unhedged":{"max_abs_net_delta":\([^,]*\),"rms_net_delta":\([^,]*\),.*/\1 \2/p' "$1"
}

# series_rms FILE: the time-weighted RMS of the unhedged column (8), per underlying (2), as the summary defines it.
series_rms() {
  awk -F, 'NR > 1 {
      u = $2; t = $1 + 0
      if ((u in last) && t > last[u]) { dt = t - last[u]; ss += held[u] * held[u] * dt; tot += dt }
      last[u] = t; held[u] = $8 + 0
    } END { if (tot > 0) printf "%.10g\n", sqrt(ss / tot); else print "none" }' "$1"
}

# check_runs NAME...: every run NAME left NAME.json (exit 0) and NAME.csv; compares them with the first.
check_runs() {
  local first="" ref_u="" ref_col=""
  for name in "$@"; do
    local u; u=$(unhedged_of "$name.json")
    [ -n "$u" ] || fail "$name: no unhedged figures in its --json output"
    local col; col=$(cut -d, -f1-3,8 "$name.csv" | md5sum)
    local rms; rms=${u#* }
    local again; again=$(series_rms "$name.csv")
    awk -v a="$rms" -v b="$again" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != "none" && d <= 1e-6 * (a < 0 ? -a : a) + 1e-9) }' ||
      fail "$name: unhedged RMS $rms, recomputed from its series $again"
    if [ -z "$first" ]; then
      first="$name"; ref_u="$u"; ref_col="$col"
    else
      [ "$u" = "$ref_u" ] || fail "unhedged (max RMS) $first: $ref_u, $name: $u"
      [ "$col" = "$ref_col" ] || fail "the series' unhedged column of $first and $name differ"
    fi
    echo "$name: unhedged max, RMS $u (series: $again)"
  done
}

names=()
for strategy in fixed:0.25 fixed:1 fixed:3 ww:0.25; do
  name="replay_${strategy//[:.]/_}"
  "$bin" replay --pcap "$capture" --book "$book" --strategy "$strategy" --json --series "$name.csv" >"$name.json"
  rc=$?
  [ "$rc" -eq 0 ] || fail "replay --strategy $strategy exited $rc"
  names+=("$name")
done
check_runs "${names[@]}"

# same_clock EVENTS SERIES: every breach of the event log is a tick of the series, at the same time_s (one time
# base), with the same underlying and spot.
same_clock() {
  awk -F, 'FNR == 1 { next }
    FILENAME == ARGV[1] { seen[$1 "," $2 "," sprintf("%.2f", $3)] = 1; next }
    $2 == "breach" { n++; if (!(($1 "," $3 "," sprintf("%.2f", $4)) in seen)) { bad++; if (bad < 4) print "not in the series: " $0 } }
    END { if (n == 0 || bad) { print n + 0 " breaches, " bad + 0 " not in the series"; exit 1 } }' "$2" "$1" ||
    fail "$1 and $2 do not share one time base"
}

names=()
for strategy in ww:0.25 fixed:0.5; do
  name="demo_${strategy//[:.]/_}"
  "$bin" demo --steps 600 --strategy "$strategy" --json --out "$name" --series "$name.csv" >"$name.json"
  rc=$?
  [ "$rc" -eq 0 ] || fail "demo --strategy $strategy exited $rc"
  names+=("$name")
  same_clock "$name/events.csv" "$name.csv"
done
check_runs "${names[@]}"
echo "baseline_check: ok"

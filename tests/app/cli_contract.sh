#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line's contract, for every command `hedgetrig help` lists (so a new command is covered too):
#  - COMMAND --help and `help COMMAND` exit 0 with the same text on stdout, nothing on stderr, starting with
#    "usage: hedgetrig COMMAND", saying its exit status, with no "%%" (a printf escape printed as is) and no
#    option described on two lines;
#  - the README has a "### hedgetrig COMMAND" section, and every option of its synopsis is in the help;
#  - an unknown option, alone or with a value, exits 2 naming it; every option the help shows with a value
#    exits 2 "needs a value" when it comes last; every numeric option exits 2 on "0x1A" and " 5" (the first
#    one also on "1e999", "nan", "-1e999" and "");
#  - a runtime failure (a file that does not exist, an output in a folder that does not exist) exits 1 naming
#    the path, and an output path is checked before the work starts.
# Every run has a time limit: an option taken as the start of the work is a failure, not a hang.
# Usage: cli_contract.sh HEDGETRIG README BOOK SCRATCH_DIR COMMAND|runtime   (one ctest test each)
set -uo pipefail
bin="$1"; readme="$2"; book="$3"; dir="$4"; only="$5"
rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
failures=0
fail() { echo "cli_contract: $*" >&2; failures=$((failures + 1)); }

# run EXPECTED_RC WHAT ARGS...: runs the binary (20 s at most, stdin empty); out/err in run.out/run.err.
run() {
  local want="$1" what="$2"; shift 2
  timeout 20 "$bin" "$@" < /dev/null > run.out 2> run.err
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$what: 'hedgetrig $*' exited $rc, expected $want ($(head -c 200 run.err | tr '\n' ' '))"
    return 1
  fi
  return 0
}

commands=$("$bin" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | grep -vx -e help -e version)
if [ "$only" != runtime ]; then
  echo "$commands" | grep -qx -- "$only" || { echo "cli_contract: 'hedgetrig help' does not list $only" >&2; exit 1; }
  commands="$only"
fi

for cmd in $commands; do
  [ "$only" = runtime ] && break
  # --help
  if run 0 "$cmd --help" "$cmd" --help; then
    cp run.out help.txt
    [ -s run.err ] && fail "$cmd --help wrote to stderr: $(head -c 200 run.err)"
    head -n 1 help.txt | grep -q "^usage: hedgetrig $cmd\\b" || fail "$cmd --help does not start with 'usage: hedgetrig $cmd'"
    grep -q '%%' help.txt && fail "$cmd --help prints '%%': $(grep -m1 '%%' help.txt)"
    grep -qi 'exit' help.txt || fail "$cmd --help does not say its exit status"
    dups=$(grep -oE '^ +--[a-z][a-z0-9-]*' help.txt | tr -d ' ' | sort | uniq -d | tr '\n' ' ')
    [ -z "$dups" ] || fail "$cmd --help describes these options twice: $dups"
    run 0 "help $cmd" help "$cmd" && ! cmp -s run.out help.txt && fail "'hedgetrig help $cmd' differs from '$cmd --help'"
  else
    : > help.txt
  fi
  # The README's section and synopsis.
  synopsis=$(awk -v c="$cmd" '
      /^### / { in_section = ($0 == "### hedgetrig " c) }
      in_section && /^```/ { if (in_block) exit; in_block = 1; next }
      in_section && in_block { print }' "$readme")
  if [ -z "$synopsis" ]; then
    fail "README: no '### hedgetrig $cmd' section with a synopsis"
  else
    for opt in $(echo "$synopsis" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
      grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" help.txt || fail "README's synopsis of $cmd has $opt, its --help does not"
    done
  fi
  # Usage errors.
  run 2 "$cmd: an unknown option" "$cmd" --no-such-option && ! grep -q -- '--no-such-option' run.err &&
    fail "$cmd --no-such-option: stderr does not name it"
  run 2 "$cmd: an unknown option with a value" "$cmd" --no-such-option 1
  for pair in $(grep -oE -- '--[a-z][a-z0-9-]* [A-Z][A-Za-z0-9_.:|,/]*' help.txt | tr ' ' '=' | sort -u); do
    opt=${pair%%=*}; value=${pair#*=}
    run 2 "$cmd: $opt without its value" "$cmd" "$opt" && ! grep -q -- "$opt needs a value" run.err &&
      fail "$cmd $opt (last, no value): stderr does not say '$opt needs a value': $(head -c 200 run.err)"
    case "$value" in
      N|X|P|Q|V|K|C|R|D|A|M|S|USD|PID|SECONDS|BYTES|GAMMA|YEARS|F)
        # Two spellings strtod/strtoul take and a decimal parser must not; the rest on the first one only.
        bad_values=(0x1A " 5")
        [ -z "${numeric_seen:-}" ] && bad_values+=(1e999 nan -1e999 "")
        numeric_seen=1
        for bad in "${bad_values[@]}"; do run 2 "$cmd: $opt '$bad'" "$cmd" "$opt" "$bad"; done ;;
    esac
  done
done
# demo: the defaults its help states are the ones a run without options uses (it printed two before).
if [ "$only" = demo ] && run 0 "demo with its defaults" demo --steps 60 --out demo-out; then
  strategy=$(sed -n 's/.*--strategy SPEC.*//; s/.*(default \([^;)]*\); docs\/optimizer.md).*/\1/p' help.txt)
  seed=$(sed -n 's/.*--seed N *random stream \[\([0-9]*\)\].*/\1/p' help.txt)
  grep -q "hedged with $strategy on .*(seed $seed)" run.out ||
    fail "demo --help says --strategy '$strategy' and --seed '$seed' by default; the demo ran: $(head -n 1 run.out)"
fi
if [ "$only" != runtime ]; then
  [ "$failures" -eq 0 ] || { echo "cli_contract: $failures failure(s)" >&2; exit 1; }
  echo "cli_contract: $only ok"
  exit 0
fi
grep -q '^Exit codes: 0 success, 1 runtime failure, 2 usage error\.' "$readme" || fail "README: no 'Exit codes' line"

# Runtime failures: exit 1, naming the path; outputs are checked before the work (no summary on stdout).
missing=/nonexistent-dir-of-cli-contract
expect_fail() {
  local path="$1"; shift
  run 1 "a runtime failure" "$@" && { grep -qF -- "$path" run.err || fail "'hedgetrig $*': stderr does not name $path"; }
}
expect_fail "$missing/c.pcap" decode "$missing/c.pcap"
expect_fail "$missing/c.pcap" market --file "$missing/c.pcap"
expect_fail "$missing/c.pcap" replay --pcap "$missing/c.pcap" --book "$book"
expect_fail "$missing/c.pcap" greeks --pcap "$missing/c.pcap" --book "$book"
expect_fail "$missing/c.pcap" multicast "$missing/c.pcap"
expect_fail "$missing/c.pcap" exchange-sim --book-pcap "$missing/c.pcap" --duration-s 1
expect_fail "$missing/b.csv" demo --book "$missing/b.csv"
expect_fail "$missing/b.csv" backtest --book "$missing/b.csv"
expect_fail "$missing/k" kill --file "$missing/k"
expect_fail "$missing/out" demo --out "$missing/out"
expect_fail "$missing/out" bench capture --out "$missing/out"
expect_fail "$missing/x.pcap" sim-market --pcap "$missing/x.pcap" --steps 5
[ -s run.out ] && fail "sim-market --pcap $missing/x.pcap printed before failing: $(head -c 200 run.out)"
grep -q 'packets' run.err && fail "sim-market --pcap $missing/x.pcap ran before failing: $(head -c 200 run.err)"
expect_fail "$missing/p.png" backtest --plot "$missing/p.png" --paths 2000000
[ -s run.out ] && fail "backtest --plot $missing/p.png ran the backtest before failing"
expect_fail "$missing/f" backtest --frontier "$missing/f" --paths 2000000
expect_fail "$missing/e.csv" demo --event-log "$missing/e.csv"
expect_fail "$missing/s.csv" demo --series "$missing/s.csv"
grep -q 'without hedging' run.out && fail "demo --series $missing/s.csv ran the demo before failing"

# A value longer than the field it goes to is a usage error, never a shortened path (replay wrote its event log
# to the first 255 bytes of the name); an output folder that is a file is refused before anything runs.
long=$(printf 'e%.0s' $(seq 300)).csv
for opt in --event-log --series --journal --book; do
  run 2 "a $opt longer than its field" replay --pcap "$missing/c.pcap" --book "$book" "$opt" "$long" &&
    { grep -q -- "$opt is 304 characters long" run.err || fail "replay $opt (304 bytes): $(head -c 200 run.err)"; }
done
ls | grep -q '^eeeeeeeeee' && fail "a file with a shortened name was written: $(ls | grep '^eeee' | head -c 80)"
: > not-a-folder
expect_fail not-a-folder demo --out not-a-folder
[ -s run.out ] && fail "demo --out not-a-folder printed before failing: $(head -c 200 run.out)"

# backtest --progress: a progress line on stderr that ends at 100 %, and stdout still one JSON object.
if run 0 "backtest --progress" backtest --paths 4000 --progress --json; then
  tail -n 1 run.err | grep -Eq '^hedgetrig backtest: 100 % of 4000 paths, [0-9.]+ s$' ||
    fail "backtest --progress: no final progress line: $(tail -c 200 run.err)"
  [ "$(wc -l < run.out)" -eq 1 ] && head -c 14 run.out | grep -q '^{"strategies"' ||
    fail "backtest --progress --json: stdout is not one JSON object"
fi

[ "$failures" -eq 0 ] || { echo "cli_contract: $failures failure(s)" >&2; exit 1; }
echo "cli_contract: runtime ok"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A truncated capture through `decode` (and `replay`): the lines printed and the exit status are what the intact
# capture's decode says they should be, and the same through --via file and --via dpdk (DPDK's net_pcap vdev
# reads the same file). The truncated copies are made here, from the shared capture, never committed:
#   cut.pcap    the file cut in the middle of a frame: the messages of the frames before it, then exit 1 naming it
#   snap.pcap   every third frame captured shorter than it was sent (caplen < len): the other frames' messages,
#               exit 1 naming the count and the first such frame
#   empty.pcap  every frame captured to 20 bytes: no line, exit 1 ("no complete datagram"), never silence
# Usage: truncated_capture.sh HEDGETRIG CAPTURE BOOK SCRATCH_DIR file|dpdk
set -uo pipefail
bin="$1"; capture="$2"; book="$3"; dir="$4"; via="$5"
rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "truncated_capture ($via): $*" >&2; exit 1; }

# pcap_edit MODE ARG < in > out: rewrites a classic pcap file record by record (perl-base is in every Debian).
#   cut N     the first N frames, then the N+1th's record header and half of its bytes
#   snap K    every Kth frame (1-based) keeps only 60 bytes; its original length stays in the record header
#   all B     every frame keeps only B bytes
pcap_edit() {
  perl -e '
    use strict; my ($mode, $arg) = @ARGV; binmode STDIN; binmode STDOUT;
    read(STDIN, my $gh, 24) == 24 or die "no pcap header\n";
    my $le = substr($gh, 0, 4) eq "\xd4\xc3\xb2\xa1" || substr($gh, 0, 4) eq "\x4d\x3c\xb2\xa1";
    my $u = $le ? "V" : "N"; print $gh;
    for (my $i = 1; read(STDIN, my $rh, 16) == 16; $i++) {
      my ($s, $f, $incl, $orig) = unpack("$u$u$u$u", $rh);
      read(STDIN, my $data, $incl) == $incl or die "short record\n";
      if ($mode eq "cut" && $i == $arg + 1) { print $rh, substr($data, 0, int($incl / 2)); last }
      my $keep = $incl;
      $keep = 60 if $mode eq "snap" && $i % $arg == 0 && $keep > 60;
      $keep = $arg if $mode eq "all" && $keep > $arg;
      print pack("$u$u$u$u", $s, $f, $keep, $orig), substr($data, 0, $keep);
    }' "$@"
}

"$bin" decode --csv "$capture" > full.csv || fail "the intact capture does not decode"
frames=$(tail -n 1 full.csv | cut -d, -f1)
[ "$frames" -gt 100 ] || fail "the intact capture has only $frames frames"
cut_at=$((frames * 3 / 4))
pcap_edit cut "$cut_at" < "$capture" > cut.pcap || fail "cannot make cut.pcap"
pcap_edit snap 3 < "$capture" > snap.pcap || fail "cannot make snap.pcap"
pcap_edit all 20 < "$capture" > empty.pcap || fail "cannot make empty.pcap"
awk -F, -v n="$cut_at" 'NR == 1 || $1 <= n' full.csv > cut.expected
awk -F, 'NR == 1 || $1 % 3 != 0' full.csv > snap.expected
head -n 1 full.csv > empty.expected

# run_decode NAME STDERR_REGEX: decode NAME.pcap via $via; exit 1, the expected lines, the message on stderr.
run_decode() {
  "$bin" decode --csv --via "$via" "$1.pcap" > "$1.out" 2> "$1.err"
  local rc=$?
  cat "$1.err"
  [ "$rc" -eq 1 ] || fail "decode $1.pcap exited $rc, expected 1"
  cmp -s "$1.out" "$1.expected" ||
    fail "decode $1.pcap printed $(wc -l < "$1.out") lines, the intact capture's decode says $(wc -l < "$1.expected")"
  grep -Eq "$2" "$1.err" || fail "decode $1.pcap: stderr does not say /$2/"
}
run_decode cut "cut\\.pcap: read error after frame $cut_at: "
run_decode snap "$((frames / 3)) frame\\(s\\) of snap\\.pcap truncated .*the first is frame 3\$"
run_decode empty "empty\\.pcap: no complete datagram: $frames of its $frames frames are truncated"

# replay of the cut file: exit 1 with the same message, and the packets before the cut all replayed.
"$bin" replay --json --via "$via" --pcap cut.pcap --book "$book" > replay.out 2> replay.err
rc=$?
cat replay.err
[ "$rc" -eq 1 ] || fail "replay of cut.pcap exited $rc, expected 1"
grep -q "cut\\.pcap: read error after frame $cut_at: " replay.err || fail "replay of cut.pcap does not name the cut"
messages=$(sed -n 's/.*"messages":\([0-9]*\),.*/\1/p' replay.out)
[ "$messages" = "$(($(wc -l < cut.expected) - 1))" ] ||
  fail "replay of cut.pcap took $messages messages, the frames before the cut hold $(($(wc -l < cut.expected) - 1))"
echo "truncated_capture ($via): ok"

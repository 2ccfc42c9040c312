#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A capture whose link type header does not match its frames (the shared Ethernet capture relabelled as raw IP,
# 101): decode finds no UDP datagram in any frame. It printed nothing and exited 0; its usage promises exit 1
# for "no complete datagram", and the message names the count and the likely cause.
# Usage: foreign_linktype.sh HEDGETRIG CAPTURE SCRATCH_DIR
set -uo pipefail
bin="$1"; capture="$2"; dir="$3"
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "foreign_linktype: $*" >&2; exit 1; }
# Bytes 20..23 of a classic little-endian pcap header hold the link type.
perl -e 'binmode STDIN; binmode STDOUT; local $/; my $d = <STDIN>; substr($d, 20, 4) = pack("V", 101); print $d' \
  < "$capture" > "$dir/rawip.pcap" || fail "cannot write the copy"
"$bin" decode "$dir/rawip.pcap" > "$dir/out" 2> "$dir/err"; rc=$?
[ "$rc" -eq 1 ] || fail "decode exited $rc, expected 1 ($(cat "$dir/err"))"
[ ! -s "$dir/out" ] || fail "decode printed lines"
grep -q "none of the 5066 frame(s) of .* is an IPv4/UDP datagram (5066 not UDP" "$dir/err" || fail "no reason: $(cat "$dir/err")"
# The intact capture still decodes with exit 0.
"$bin" decode "$capture" > /dev/null 2>&1 || fail "the intact capture no longer decodes with exit 0"
echo "foreign_linktype: exit 1 with the reason"

#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end over the kernel socket path: `hedgetrig multicast` sends the capture on loopback (paced,
# ports moved to a free range) while `hedgetrig decode --via socket` receives it. The decoded messages must
# be exactly the vendor decode's (frame numbers aside, and in any order across the two ports' sockets).
# Usage: socket_replay.sh HEDGETRIG CAPTURE EXPECTED_CSV WORKDIR
set -eu
bin="$1"; capture="$2"; expected="$3"; work="$4"
mkdir -p "$work"
base=$((20000 + ($$ % 15000) * 2))
"$bin" decode --via socket --group 239.111.111.0/27 --port "$base" --port $((base + 1)) --iface 127.0.0.1 \
    --rcvbuf 16777216 --idle-ms 3000 --summary --csv > "$work/socket.csv" 2> "$work/socket.err" &
rx=$!
sleep 0.5
"$bin" multicast "$capture" --speed 40 --iface 127.0.0.1 --port-offset $((base - 6100))
wait "$rx"
cat "$work/socket.err"
cut -d, -f2- "$work/socket.csv" | sort > "$work/got.sorted"
cut -d, -f2- "$expected" | sort > "$work/want.sorted"
if cmp -s "$work/got.sorted" "$work/want.sorted"; then
    echo "socket_replay: the $(wc -l < "$work/got.sorted") lines match the vendor decode"
else
    echo "socket_replay: the socket decode differs from the vendor decode:" >&2
    diff "$work/got.sorted" "$work/want.sorted" | head -10 >&2
    exit 1
fi

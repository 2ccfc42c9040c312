#!/bin/sh
# SPDX-License-Identifier: MIT
# `hedgetrig bench wire` without its capture tool fails (exit 1) and names the tool: it never passes silently.
# Usage: bench_wire_no_tool.sh HEDGETRIG WORKDIR
bin="$1"; work="$2"
out=$(PATH=/nonexistent "$bin" bench wire --capture-tool tcpdump --out "$work" 2>&1); rc=$?
echo "$out"
[ "$rc" -eq 1 ] || { echo "bench_wire_no_tool: exit $rc, expected 1"; exit 1; }
echo "$out" | grep -q "tcpdump is not installed" || { echo "bench_wire_no_tool: the message does not name tcpdump"; exit 1; }
out=$(PATH=/nonexistent "$bin" bench wire --capture-tool dumpcap --out "$work" 2>&1); rc=$?
echo "$out"
[ "$rc" -eq 1 ] && echo "$out" | grep -q "dumpcap is not installed" || { echo "bench_wire_no_tool: dumpcap case"; exit 1; }
echo "bench_wire_no_tool: ok"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Synthesises the pipeline with yosys for AMD UltraScale+ (synth_xilinx -family xcup) and prints its LUT, FF,
# DSP, BRAM and URAM counts. A yosys netlist count, not a Vivado place-and-route result: use it to compare RTL
# versions with each other and to see what dominates, never as a timing or utilisation sign-off.
#   fpga/synth/yosys_report.sh [--top ht_pipe_top|ht_pipe_kernel_mm|ht_wire|ht_wire_top] [--depth ENTRIES] [--uram] [--json] [--keep DIR]
# --depth sets the greek table's entries (a power of two; default 65536, the production size); --uram lets
# yosys map large memories to URAM288 (synth_xilinx -uram) instead of block RAM. About 10 minutes, 2.3 GB.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rtl="$here/../rtl"
top=ht_pipe_top
depth=65536
json=0
keep=""
uram_flag=""
# Fails with a usage error when option $1 has no value ($2 is the count of arguments left).
need() { [ "$2" -ge 2 ] || { echo "yosys_report.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --top) need "$1" $#; top="$2"; shift 2 ;;
    --depth) need "$1" $#; depth="$2"; shift 2 ;;
    --uram) uram_flag="-uram"; shift ;;
    --json) json=1; shift ;;
    --keep) need "$1" $#; keep="$2"; shift 2 ;;
    -h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "yosys_report.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$top" in ht_pipe_top|ht_pipe_kernel|ht_pipe_kernel_mm|ht_wire|ht_wire_top) ;; *) echo "yosys_report.sh: unknown top '$top'" >&2; exit 2 ;; esac
case "$depth" in ''|*[!0-9]*) echo "yosys_report.sh: --depth must be a number, got '$depth'" >&2; exit 2 ;; esac
bits=0
while [ $((1 << bits)) -lt "$depth" ]; do bits=$((bits + 1)); done
if [ $((1 << bits)) -ne "$depth" ] || [ "$bits" -lt 4 ] || [ "$bits" -gt 16 ]; then
  echo "yosys_report.sh: --depth must be a power of two from 16 to 65536, got $depth" >&2
  exit 2
fi
command -v yosys >/dev/null || { echo "yosys_report.sh: yosys not found (apt-get install yosys)" >&2; exit 1; }

work="${keep:-$(mktemp -d)}"
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
srcs="$rtl/ht_pkg.sv $rtl/ht_fold.sv $rtl/ht_tick.sv $rtl/ht_pipe_top.sv $rtl/ht_pipe_kernel.sv $rtl/ht_pipe_kernel_mm.sv"
srcs="$srcs $rtl/ht_wire.sv $rtl/ht_wire_top.sv $rtl/ht_event_ring.sv"
params="-chparam TABLE_DEPTH $depth -chparam TABLE_ADDR_BITS $bits"
# The ingest alone has no table.
[ "$top" != ht_wire ] || params=""
start=$(date +%s)
yosys -q -l "$work/yosys.log" -p "read_verilog -sv $srcs; hierarchy -check -top $top $params; \
  synth_xilinx -family xcup $uram_flag -top $top -flatten; tee -q -o $work/stat.txt stat" >/dev/null 2>"$work/yosys.stderr"
secs=$(( $(date +%s) - start ))

# Sums the counts of the cells whose names match a regular expression in yosys' stat output.
count() { awk -v re="$1" '$1 ~ re && $2 ~ /^[0-9]+$/ {n += $2} END {print n + 0}' "$work/stat.txt"; }
lut=$(count '^LUT[1-6]$')
lutram=$(count '^(RAM(16|32|64|128|256)[XMS]|RAM32M16|SRL(16|C32)E)')
ff=$(count '^FD[RSCP]E$')
dsp=$(count '^DSP48E2$')
bram36=$(count '^RAMB36E2$')
bram18=$(count '^RAMB18E2$')
uram=$(count '^URAM288$')
carry=$(count '^CARRY[48]$')
muxf=$(count '^MUXF[789]$')
inv=$(count '^INV$')
bram=$(awk -v a="$bram36" -v b="$bram18" 'BEGIN {printf "%.1f", a + b / 2}')
if [ "$json" = 1 ]; then
  printf '{"top":"%s","table_depth":%d,"lut":%d,"lutram_srl":%d,"ff":%d,"carry":%d,"muxf789":%d,"inv":%d,"dsp48e2":%d,"bram36":%d,"bram18":%d,"bram36_equiv":%s,"uram288":%d,"yosys_seconds":%d}\n' \
    "$top" "$depth" "$lut" "$lutram" "$ff" "$carry" "$muxf" "$inv" "$dsp" "$bram36" "$bram18" "$bram" "$uram" "$secs"
else
  echo "yosys $(yosys -V | awk '{print $2}') synth_xilinx -family xcup${uram_flag:+ -uram}, top $top, table depth $depth ($secs s):"
  echo "  LUT        $lut"
  echo "  LUTRAM/SRL $lutram"
  echo "  FF         $ff"
  echo "  CARRY4/8   $carry"
  echo "  MUXF7/8/9  $muxf"
  echo "  INV        $inv (yosys' inverter cells; Vivado folds them into LUTs)"
  echo "  DSP48E2    $dsp"
  echo "  BRAM       $bram36 RAMB36E2 + $bram18 RAMB18E2 ($bram x 36 Kb)"
  echo "  URAM288    $uram"
fi

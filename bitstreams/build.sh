#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the pipeline's xclbins listed in bitstreams/manifest.csv with AMD Vitis: package the RTL as a kernel
# (.xo, Vivado), then link it for the card's platform (v++). Usage: bitstreams/build.sh [CARD...]  (default:
# every card of the manifest). Needs v++, vivado and platforminfo on PATH (source Vitis' settings64.sh) and
# the card's platform installed; HT_PLATFORM_<CARD> (e.g. HT_PLATFORM_X3522) names a platform the manifest
# leaves empty or overrides it; HT_MAC_XO_<CARD> names the .xo of the MAC kernel (ht_mac) the link config connects
# to the wire ingest (fpga/vitis/<card>.cfg says what it must provide). Output: bitstreams/out/<xclbin> and its
# build logs. AMD Vitis is not
# installed on the machines hedgetrig's CI runs on, so no xclbin has been built there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
manifest="$here/manifest.csv"
out="$here/out"

for tool in v++ vivado platforminfo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build.sh: $tool not found: building an xclbin needs AMD Vitis (v++, Vivado, platforminfo), which is" \
         "not installed here. Source <Vitis>/settings64.sh and retry." >&2
    exit 1
  fi
done

cards=("$@")
if [ ${#cards[@]} -eq 0 ]; then
  mapfile -t cards < <(grep -v '^#' "$manifest" | tail -n +2 | cut -d, -f1)
fi

mkdir -p "$out"
for card in "${cards[@]}"; do
  line=$(grep -v '^#' "$manifest" | tail -n +2 | awk -F, -v c="$card" '$1 == c' | head -n 1)
  if [ -z "$line" ]; then
    echo "build.sh: card '$card' is not in $manifest" >&2
    exit 2
  fi
  IFS=, read -r _ platform kernel config xclbin mhz _ <<<"$line"
  override="HT_PLATFORM_$(echo "$card" | tr '[:lower:]' '[:upper:]')"
  platform="${!override:-$platform}"
  if [ -z "$platform" ]; then
    echo "build.sh: no platform for $card: set $override to the card's Vitis platform (.xpfm name)" >&2
    exit 1
  fi
  part=$(platforminfo --platform "$platform" | awk -F': *' '/^ *Board Part:|^ *FPGA Part:/ {print $2; exit}')
  if [ -z "$part" ]; then
    echo "build.sh: platforminfo does not know $platform (is the platform installed?)" >&2
    exit 1
  fi
  mac=()
  if grep -q '^nk=ht_mac:' "$root/$config"; then
    macvar="HT_MAC_XO_$(echo "$card" | tr '[:lower:]' '[:upper:]')"
    if [ -z "${!macvar:-}" ] || [ ! -f "${!macvar}" ]; then
      echo "build.sh: $config links a MAC kernel (ht_mac) into the wire ingest: set $macvar to its .xo" >&2
      exit 1
    fi
    mac=("${!macvar}")
  fi
  work="$out/work-$card"
  mkdir -p "$work"
  echo "== $card: $kernel for $platform ($part) at $mhz MHz"
  vivado -mode batch -nojournal -log "$work/package_xo.log" -source "$root/fpga/vitis/package_xo.tcl" \
    -tclargs "$kernel" "$part" "$work/$kernel.xo" "$work"
  v++ --link --target hw --platform "$platform" --config "$root/$config" --temp_dir "$work/vpp" \
    --log_dir "$work/logs" --report_dir "$work/reports" -o "$out/$xclbin" "$work/$kernel.xo" "${mac[@]}"
  echo "== $card: $out/$xclbin"
done

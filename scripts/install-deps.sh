#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages hedgetrig needs. Usage: scripts/install-deps.sh demo|test
#   demo: what building and running the product needs;  test: that plus the test and benchmark tools.
# Skips apt-get entirely when everything is already installed.
set -euo pipefail
profile="${1:-test}"

demo_pkgs=(build-essential cmake pkg-config libpcap-dev libliquid-dev dpdk-dev libdpdk-dev libxrt-dev
           verilator gnuplot-nox tcpdump liburing-dev)
test_pkgs=("${demo_pkgs[@]}" clang libclang-rt-14-dev libcmocka-dev libquantlib0-dev quantlib-examples
           libquickfix-dev libquickfix-doc tshark yosys nextpnr-ice40 valgrind python3)

case "$profile" in
  demo) pkgs=("${demo_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

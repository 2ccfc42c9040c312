#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is needed, builds the default preset and runs `hedgetrig demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh demo
cmake --preset default >/dev/null
cmake --build --preset default --target hedgetrig
./build/default/hedgetrig demo

#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds QuickFIX's executor example from Debian's libquickfix-doc sources: build_qf_executor.sh SRC_DIR OUT_DIR CXX
# Fails with the reason when a piece is missing (never a silent skip).
set -eu
src="$1"; out="$2"; cxx="${3:-c++}"
for f in Application.cpp.gz Application.h executor.cpp; do
  [ -f "$src/$f" ] || { echo "build_qf_executor: $src/$f is missing (apt-get install libquickfix-doc)" >&2; exit 1; }
done
[ -f /usr/include/quickfix/Application.h ] || { echo "build_qf_executor: QuickFIX headers missing (apt-get install libquickfix-dev)" >&2; exit 1; }
mkdir -p "$out"
gzip -dc "$src/Application.cpp.gz" > "$out/Application.cpp"
cp "$src/Application.h" "$src/executor.cpp" "$out/"
: > "$out/config.h"   # the example includes the autotools config.h of the QuickFIX tree; nothing in it is needed
# The example uses dynamic exception specifications, removed in C++17: build it as C++11 as upstream did.
"$cxx" -std=c++11 -O1 -w -I"$out" -I/usr/include/quickfix "$out/Application.cpp" "$out/executor.cpp" \
  -o "$out/executor" -lquickfix -lpthread

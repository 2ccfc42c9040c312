#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every instrument of the demo book must be one the market simulator publishes with its defaults.
# Usage: book_in_universe.sh HEDGETRIG BOOK.csv
set -euo pipefail
list=$("$1" sim-market --list)
n=0
while IFS=, read -r name qty; do
  name="${name%%#*}"; name="${name// /}"
  [ -z "$name" ] || [ "$name" = instrument ] && continue
  echo "$list" | awk '{print $1}' | grep -qx "$name" || { echo "book_in_universe: $name is not published by sim-market" >&2; exit 1; }
  n=$((n + 1))
done < <(grep -v '^#' "$2")
[ "$n" -gt 0 ] || { echo "book_in_universe: no instrument in $2" >&2; exit 1; }
echo "book_in_universe: all $n instruments published"

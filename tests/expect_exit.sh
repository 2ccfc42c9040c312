#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command and passes only when it exits with the expected code: expect_exit.sh CODE CMD [ARGS...]
# On a wrong code it prints "expect_exit: FAIL: ..." as well: a test with PASS_REGULAR_EXPRESSION ignores the
# exit code, so ht_add_cli_test makes that line a FAIL_REGULAR_EXPRESSION.
expected="$1"; shift
"$@"
rc=$?
if [ "$rc" -ne "$expected" ]; then
  echo "expect_exit: FAIL: '$*' exited $rc, expected $expected" >&2
  exit 1
fi
exit 0

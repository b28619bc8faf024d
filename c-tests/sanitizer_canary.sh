#!/usr/bin/env bash
# Proves that the checkers `make test` relies on really check, before their silence is
# taken as a pass: each mode of c-tests/sanitizer_canary.c does one bad thing, and the
# checker must report it and fail the program; the control mode must pass. The ASan
# canary is built by the same rule, flags and link line as c-tests/bin-asan/test_*, the
# valgrind one as c-tests/bin/test_*. Prints TAP lines for c-tests/run.sh.
#
#   VALGRIND="valgrind ..." c-tests/sanitizer_canary.sh   (make passes its $(VALGRIND))
set -u

cd "$(dirname "$0")/.." || exit 1
asan=c-tests/bin-asan/sanitizer_canary
plain=c-tests/bin/sanitizer_canary
valgrind=${VALGRIND:-valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0 failed=0
echo "1..7"

# expect NAME WANT-FAILURE PATTERN COMMAND...: run COMMAND; it must fail and print
# PATTERN, or (WANT-FAILURE=no) succeed.
expect() {
    local name=$1 want=$2 pattern=$3 rc
    shift 3
    n=$((n + 1))
    "$@" >"$out" 2>&1
    rc=$?
    if [ "$want" = no ] && [ "$rc" -eq 0 ]; then
        echo "ok $n - $name"
    elif [ "$want" = yes ] && [ "$rc" -ne 0 ] && grep -q "$pattern" "$out"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name (exit code $rc; wanted ${want/yes/a failure reporting: $pattern})"
        sed 's/^/#   /' "$out" | head -n 20
        failed=$((failed + 1))
    fi
}

# What ASan, UBSan and LSan must catch.
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
expect "ASan canary: the control passes" no "" "$asan" none
expect "ASan reports a heap overflow" yes "ERROR: AddressSanitizer: heap-buffer-overflow" "$asan" heap
expect "UBSan reports a signed overflow (and stops)" yes "runtime error: signed integer overflow" "$asan" ub
expect "LSan reports a leak" yes "ERROR: LeakSanitizer: detected memory leaks" "$asan" leak
unset ASAN_OPTIONS UBSAN_OPTIONS

# shellcheck disable=SC2086 # $valgrind is a command with options.
expect "valgrind canary: the control passes" no "" $valgrind "$plain" none
# shellcheck disable=SC2086
expect "valgrind reports a heap overflow" yes "Invalid write of size 1" $valgrind "$plain" heap
# shellcheck disable=SC2086
expect "valgrind reports a leak" yes "definitely lost" $valgrind "$plain" leak

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

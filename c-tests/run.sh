#!/usr/bin/env bash
# Runs C test programs and sums up their TAP lines.
#
#   c-tests/run.sh [PROGRAM...]        default: every c-tests/bin/test_*
#   RUNNER="valgrind ..." c-tests/run.sh   wraps each program in RUNNER
#
# Counts `ok` (passed), `ok ... # SKIP` (skipped) and `not ok` (failed) lines. A skip
# fails the run too: `make test` never passes by skipping (a test that needs a tool this
# machine lacks names it; .ci/run installs it).
# A program that exits 77 without such lines counts as one skip; one that exits
# non-zero without a `not ok` line (a crash, a valgrind error in the parent)
# counts as one failure. Ends with the one line CI reads:
#   N passed, M failed, K skipped
set -u

cd "$(dirname "$0")/.." || exit 1
if [ $# -eq 0 ]; then
    set -- c-tests/bin/test_*
    [ -e "$1" ] || set --
fi
if [ $# -eq 0 ]; then
    echo "run.sh: no test programs found (run make c-tests first)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for prog in "$@"; do
    echo "# ${RUNNER:+$RUNNER }$prog"
    # RUNNER is split into words on purpose: it is a command with options.
    # shellcheck disable=SC2086
    ${RUNNER:-} "$prog" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}

    p=$(grep -Ec '^ok [0-9]+( |$)' "$log")
    s=$(grep -Ec '^ok [0-9]+.*# *SKIP' "$log")
    f=$(grep -Ec '^not ok [0-9]+( |$)' "$log")
    p=$((p - s))

    if [ "$rc" -eq 77 ] && [ $((p + f + s)) -eq 0 ]; then
        echo "ok - $prog # SKIP"
        s=1
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $prog (reason: exit code $rc)"
        f=1
    elif [ "$rc" -eq 0 ] && [ $((p + f + s)) -eq 0 ]; then
        p=1 # a program with no TAP lines: its exit code is the result
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

echo
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$skipped" -gt 0 ]; then
    echo "run.sh: $skipped skipped: install what they need (.ci/run lists it)" >&2
fi
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]

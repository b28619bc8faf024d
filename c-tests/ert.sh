#!/usr/bin/env bash
# Runs the Emacs module's ERT suite (tests/emacs/netproc-test*.el: netproc-test.el holds
# the differential harness, the others require it) and prints one TAP
# line per ERT test, for c-tests/run.sh:  ok N - name  /  not ok N - name.
# Fails, naming what is missing, without emacs or the module; non-zero when a test fails.
set -u

cd "$(dirname "$0")/.." || exit 1
EMACS=${EMACS:-emacs}
if ! command -v "$EMACS" >/dev/null 2>&1; then
    echo "not ok 1 - ERT suite: $EMACS not found (apt-get install emacs-nox, as .ci/run does)"
    exit 1
fi
if [ ! -e lisp/netproc-module.so ]; then
    echo "not ok 1 - ERT suite: lisp/netproc-module.so missing (run make)"
    exit 1
fi

# ERT_FILES (space-separated) narrows the run, e.g. to the scale test alone.
files=()
for file in ${ERT_FILES:-tests/emacs/netproc-test*.el}; do
    files+=(-l "$file")
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout "${ERT_TIMEOUT:-600}" "$EMACS" -Q --batch --module-assertions -L lisp -L tests/emacs -l ert \
    "${files[@]}" -f ert-run-tests-batch-and-exit >"$log" 2>&1
rc=$?

# ERT prints "   passed  3/11  name (0.1 sec)", "   FAILED  4/11  name (…)",
# "  skipped  5/11  name (…)" once per test.
awk '
    $1 == "passed"  && $2 ~ /^[0-9]+\/[0-9]+$/ { n++; print "ok " n " - " $3 }
    $1 == "skipped" && $2 ~ /^[0-9]+\/[0-9]+$/ { n++; print "ok " n " - " $3 " # SKIP" }
    $1 == "FAILED"  && $2 ~ /^[0-9]+\/[0-9]+$/ { n++; print "not ok " n " - " $3 }
' "$log"
if [ "$rc" -ne 0 ]; then
    echo "# emacs exited with $rc; its output:"
    sed 's/^/# /' "$log" | tail -n 200
fi
exit "$rc"

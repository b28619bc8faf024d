#!/usr/bin/env bash
# Runs the Emacs module's ERT suite (tests/emacs/netproc-test*.el: netproc-test.el holds
# the differential harness, the others require it) and prints one TAP
# line per ERT test, for c-tests/run.sh:  ok N - name  /  not ok N - name.
# Fails, naming what is missing, without emacs or the module; non-zero when a test fails.
set -u

cd "$(dirname "$0")/.." || exit 1
EMACS=${EMACS:-emacs}
# ERT_LISP: where netproc.el and the module are loaded from (c-tests/ert30.sh passes a
# copy compiled by Emacs 30.1).
ERT_LISP=${ERT_LISP:-lisp}
if ! command -v "$EMACS" >/dev/null 2>&1; then
    echo "not ok 1 - ERT suite: $EMACS not found (apt-get install emacs-nox, as .ci/run does)"
    exit 1
fi
if [ ! -e "$ERT_LISP/netproc-module.so" ]; then
    echo "not ok 1 - ERT suite: $ERT_LISP/netproc-module.so missing (run make)"
    exit 1
fi

# ERT_FILES (space-separated) narrows the run, e.g. to the scale test alone.
# Each file once: one that another has already required is not loaded again (Emacs 30's
# ERT refuses a test defined twice; 28's silently redefined it).
files=()
for file in ${ERT_FILES:-tests/emacs/netproc-test*.el}; do
    files+=(--eval "(unless (featurep '$(basename "$file" .el)) (load (expand-file-name \"$file\") nil t))")
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout "${ERT_TIMEOUT:-600}" "$EMACS" -Q --batch --module-assertions -L "$ERT_LISP" -L tests/emacs -l ert \
    "${files[@]}" -f ert-run-tests-batch-and-exit >"$log" 2>&1
rc=$?

# ERT prints "   passed  3/11  name (0.1 sec)", "   FAILED  4/11  name (…)",
# "  skipped  5/11  name (…)" once per test.
# ERT_LABEL prefixes each name (c-tests/ert30.sh: "30.1: ").
awk -v label="${ERT_LABEL:-}" '
    $1 == "passed"  && $2 ~ /^[0-9]+\/[0-9]+$/ { n++; print "ok " n " - " label $3 }
    $1 == "skipped" && $2 ~ /^[0-9]+\/[0-9]+$/ { n++; print "ok " n " - " label $3 " # SKIP" }
    $1 == "FAILED"  && $2 ~ /^[0-9]+\/[0-9]+$/ { n++; print "not ok " n " - " label $3 }
' "$log"
if [ "$rc" -ne 0 ]; then
    echo "# emacs exited with $rc; its output:"
    sed 's/^/# /' "$log" | tail -n 200
fi
exit "$rc"

#!/usr/bin/env bash
# The ERT suite again, under Emacs 30.1 (issue 14, item 8): the twins must answer as the
# Emacs they run in does, and the differential harness compares them with 30.1's own
# primitives. tools/emacs30.sh provides 30.1 (fetched from bookworm-backports once, then
# cached); not getting it is a failure, not a skip.
#
# 30.1 loads netproc's Lisp from a copy of lisp/ under .cache/emacs-30.1/lisp, byte-compiled
# by 30.1 itself as a 30.1 user's package manager would (lisp/*.elc are 28.2's, and .elc
# files are only promised to work in later Emacsen, not earlier ones), with netproc-mode's
# trampolines for 30.1 in its eln/ (.eln files are per Emacs build: comp-native-version-dir).
# Each step redoes only what changed. Prints the TAP lines of c-tests/ert.sh, names
# prefixed "30.1:", for c-tests/run.sh.
set -u

cd "$(dirname "$0")/.." || exit 1
fail() {
    echo "not ok 1 - Emacs 30.1: $*"
    exit 1
}

emacs30=$(tools/emacs30.sh) || fail "tools/emacs30.sh could not provide it (its error is above)"
[ -e lisp/netproc-module.so ] || fail "lisp/netproc-module.so missing (run make)"

dir=$(dirname "$emacs30")/lisp
mkdir -p "$dir"
for copy in "$dir"/*.el; do
    [ -e "$copy" ] && [ ! -e "lisp/$(basename "$copy")" ] && rm -f "$copy" "${copy}c"
done
stale=()
for el in lisp/*.el; do
    copy=$dir/$(basename "$el")
    cmp -s "$el" "$copy" || cp "$el" "$copy"
    [ "$copy" -nt "${copy}c" ] && stale+=("$copy")
done
ln -sfn "$PWD/lisp/netproc-module.so" "$dir/netproc-module.so"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ${#stale[@]} -gt 0 ]; then
    # One at a time, in dependency order (netproc first): each file's compilation loads
    # the ones it requires, which must be 30.1's by then.
    for name in netproc-versions netproc-api netproc-tls netproc netproc-mode; do
        for copy in "${stale[@]}"; do
            [ "$(basename "$copy" .el)" = "$name" ] || continue
            "$emacs30" -Q --batch -L "$dir" -f batch-byte-compile "$copy" >"$log" 2>&1 ||
                { sed 's/^/# /' "$log"; fail "byte-compiling $copy failed"; }
        done
    done
    for copy in "${stale[@]}"; do
        [ "$copy" -nt "${copy}c" ] && fail "$copy was not compiled (add it to ert30.sh's order)"
    done
fi
"$emacs30" -Q --batch -L "$dir" -l netproc-mode \
    --eval '(message "# netproc-mode: %d trampolines compiled for Emacs 30.1" (netproc-mode-compile-trampolines))' \
    >"$log" 2>&1 || { sed 's/^/# /' "$log"; fail "compiling netproc-mode's trampolines failed"; }
grep '^# netproc-mode' "$log"

EMACS=$emacs30 ERT_LISP=$dir ERT_LABEL="30.1: " exec c-tests/ert.sh

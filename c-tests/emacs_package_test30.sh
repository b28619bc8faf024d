#!/usr/bin/env bash
# c-tests/emacs_package_test.sh again with Emacs 30.1 (tools/emacs30.sh) as the user's
# Emacs: the installed directory loads and echoes there, and package-install-file
# installs the package, byte-compiling it with 30.1 (issue 14, item 8). Not getting 30.1
# is a failure, not a skip. The build itself (`make install`, `make emacs-package`) stays
# with the Emacs the Makefile was given: lisp/*.elc are that Emacs's.
set -u

cd "$(dirname "$0")/.." || exit 1
if ! emacs30=$(tools/emacs30.sh); then
    echo "not ok 1 - Emacs 30.1: tools/emacs30.sh could not provide it (its error is above)"
    exit 1
fi
MAKE="${MAKE:-make} EMACS=${EMACS:-emacs}" EMACS=$emacs30 exec c-tests/emacs_package_test.sh

#!/usr/bin/env bash
# Emacs 30.1's own network tests (network-stream-tests.el, process-tests.el) on its
# built-ins and with netproc-mode on, as c-tests/emacs_own_tests.sh runs 28.2's: Emacs
# 30.1 from tools/emacs30.sh, its Lisp for netproc compiled by c-tests/ert30.sh's rules
# (.cache/emacs-30.1/lisp), the test files from 30.1's upstream tarball in Debian's pool
# (the backports .dsc is not served, so apt-get source cannot fetch it).
set -u
cd "$(dirname "$0")/.." || exit 1
if ! emacs30=$(tools/emacs30.sh); then
    echo "not ok 1 - Emacs 30.1's own tests: Emacs 30.1 could not be fetched (tools/emacs30.sh)"
    exit 1
fi
lisp=.cache/emacs-30.1/lisp
if [ ! -e "$lisp/netproc-mode.elc" ]; then
    echo "not ok 1 - Emacs 30.1's own tests: $lisp missing (c-tests/ert30.sh compiles it; make test runs that first)"
    exit 1
fi
EMACS=$emacs30 NETPROC_LISP=$lisp \
    EMACS_SOURCE_URL=${EMACS30_SOURCE_URL:-http://deb.debian.org/debian/pool/main/e/emacs/emacs_30.1+1.orig.tar.xz} \
    exec c-tests/emacs_own_tests.sh

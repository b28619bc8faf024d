#!/usr/bin/env bash
# The Emacs package, as a user installs it: `make install` into a temporary DESTDIR and
# `make emacs-package` then `package-install-file` into a temporary package directory; each
# time a fresh `emacs -Q --batch` requires netproc and runs an echo through the module.
# Prints TAP lines for run.sh. A missing emacs is a failure (make test never passes by
# skipping): .ci/run installs emacs-nox.
set -uo pipefail

cd "$(dirname "$0")/.."
make=${MAKE:-make}
emacs=${EMACS:-emacs}
tmp=$(mktemp -d /tmp/netproc-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "1..2"
if ! command -v "$emacs" >/dev/null; then
    echo "not ok 1 - emacs is not installed (apt-get install emacs-nox)"
    echo "not ok 2 - emacs is not installed (apt-get install emacs-nox)"
    exit 1
fi

# An echo through the twins: prints ECHO-OK when the reply came back.
echo_check='(progn
  (require (quote netproc))
  (let* ((got nil)
         (server (netproc-make-network-process :name "s" :server t :host "127.0.0.1" :service t
                   :filter (lambda (p s) (netproc-process-send-string p s))))
         (client (netproc-make-network-process :name "c" :host "127.0.0.1"
                   :service (cadr (netproc-process-contact server))
                   :filter (lambda (_p s) (setq got (concat got s))))))
    (netproc-process-send-string client "ping")
    (let ((deadline (+ (float-time) 5)))
      (while (and (not (equal got "ping")) (< (float-time) deadline))
        (netproc-accept-process-output nil 0.05)))
    (princ (if (equal got "ping") "ECHO-OK" "ECHO-FAILED"))))'

prefix=/opt/netproc-package-test
lispdir=$tmp/dest$prefix/share/emacs/site-lisp/netproc
if $make --no-print-directory install DESTDIR="$tmp/dest" PREFIX="$prefix" >"$tmp/install.log" 2>&1 &&
    out=$("$emacs" -Q --batch -L "$lispdir" --eval "$echo_check" 2>&1) && [[ $out == *ECHO-OK* ]]; then
    echo "ok 1 - make install: (require 'netproc) from the installed site-lisp directory works"
else
    sed 's/^/# /' "$tmp/install.log" | tail -20
    echo "# ${out:-}" | tail -20
    echo "not ok 1 - make install: the installed package does not load or echo"
fi

install_package='(progn
  (require (quote package))
  (setq package-user-dir (expand-file-name "elpa" (getenv "NP_TMP")))
  (package-initialize)
  (package-install-file (getenv "NP_TAR")))'
version=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)
tar=build/netproc-$version.tar
if $make --no-print-directory emacs-package >"$tmp/package.log" 2>&1 &&
    NP_TMP=$tmp NP_TAR=$PWD/$tar "$emacs" -Q --batch --eval "$install_package" >"$tmp/pi.log" 2>&1 &&
    out=$(NP_TMP=$tmp "$emacs" -Q --batch --eval \
        "(progn (require 'package) (setq package-user-dir (expand-file-name \"elpa\" (getenv \"NP_TMP\"))) (package-initialize) $echo_check)" 2>&1) &&
    [[ $out == *ECHO-OK* ]]; then
    echo "ok 2 - make emacs-package: package-install-file installs it, module included, and it echoes"
else
    sed 's/^/# /' "$tmp/package.log" "$tmp/pi.log" 2>/dev/null | tail -30
    echo "# ${out:-}" | tail -20
    echo "not ok 2 - make emacs-package / package-install-file"
fi

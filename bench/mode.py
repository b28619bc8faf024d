#!/usr/bin/env python3
"""bench/mode.py: what turning netproc-mode on costs (make bench-mode; also run by make bench).

Each figure comes from a fresh `emacs -Q --batch` (the median of RUNS):

1. loading netproc-mode (netproc, its module and netproc-api come with it);
2. turning the mode on with the trampolines `make` compiled into lisp/eln/;
3. turning it on without them: the native-code trampolines are compiled then, into a
   temporary eln directory (so the user's eln cache is neither used nor written);
4. turning it off, and on again in the same session (the trampolines stay installed);
5. the advice's cost per call on Emacs's own processes: `process-buffer` of a pipe
   process and `processp` of a string, mode off and on.

Asserts nothing: prints a table and writes bench/RESULTS-mode.md.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Prints "RESULT key=value ..." with seconds.  WITHOUT is non-nil to leave the trampolines
# of lisp/eln out: the eln load path is then a fresh temporary directory (where the
# compiled ones go) and Emacs's own native-lisp directory.
PROGRAM = r"""
(let ((without (getenv "NP_WITHOUT")))
  (when without
    (setq native-comp-eln-load-path (list without (car (last native-comp-eln-load-path)))))
  (let* ((t0 (float-time))
         (_ (require 'netproc-mode))
         (t1 (float-time)))
    (when without (setq netproc-mode-trampoline-directory (expand-file-name "none" without)))
    (netproc-mode 1)
    (let* ((t2 (float-time))
           (_ (netproc-mode -1))
           (t3 (float-time))
           (_ (netproc-mode 1))
           (t4 (float-time))
           (calls 1000000)
           (pipe (make-pipe-process :name "np-bench" :noquery t))
           ;; Byte-compiled, as a package's code is: the call goes through the symbol.
           (loop (byte-compile '(lambda (f arg n) (dotimes (_ n) (funcall f arg)))))
           (per-call (lambda (f arg)
                       (let ((start (float-time)))
                         (funcall loop f arg calls)
                         (/ (- (float-time) start) calls))))
           (buffer-on (funcall per-call #'process-buffer pipe))
           (processp-on (funcall per-call #'processp "x"))
           (_ (netproc-mode -1))
           (buffer-off (funcall per-call #'process-buffer pipe))
           (processp-off (funcall per-call #'processp "x")))
      (princ (format "RESULT load=%f on=%f off=%f again=%f trampolines=%d buffer_off=%g buffer_on=%g processp_off=%g processp_on=%g\n"
                     (- t1 t0) (- t2 t1) (- t3 t2) (- t4 t3)
                     (if (boundp 'comp-installed-trampolines-h)
                         (hash-table-count comp-installed-trampolines-h) 0)
                     buffer-off buffer-on processp-off processp-on)))))
"""


def run_once(without):
    env = dict(os.environ)
    tmp = None
    if without:
        tmp = tempfile.mkdtemp(prefix="np-eln-")
        env["NP_WITHOUT"] = tmp
    try:
        done = subprocess.run(["emacs", "-Q", "--batch", "-L", "lisp", "--eval", PROGRAM],
                              capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return {k: float(v) for k, v in (kv.split("=", 1) for kv in line.split()[1:])}
    raise RuntimeError("no RESULT line: " + done.stdout + done.stderr)


def median(results, key):
    return statistics.median(r[key] for r in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("emacs") is None:
        sys.exit("emacs is needed")
    if not os.path.isdir(os.path.join(ROOT, "lisp", "eln")):
        sys.exit("lisp/eln/ is missing: run make")
    load_before = os.getloadavg()
    with_tr = [run_once(False) for _ in range(args.runs)]
    without = [run_once(True) for _ in range(args.runs)]
    load_after = os.getloadavg()
    version = subprocess.run(["emacs", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    rows = [
        ("load netproc-mode (netproc and its module included)", f"{median(with_tr, 'load') * 1000:.0f} ms"),
        ("turn on, trampolines from lisp/eln/ (make)", f"{median(with_tr, 'on') * 1000:.0f} ms"),
        ("turn on, trampolines compiled then", f"{median(without, 'on') * 1000:.0f} ms"),
        ("trampolines installed", f"{median(with_tr, 'trampolines'):.0f}"),
        ("turn off", f"{median(with_tr, 'off') * 1000:.1f} ms"),
        ("turn on again, same session", f"{median(with_tr, 'again') * 1000:.1f} ms"),
        ("process-buffer of an Emacs pipe, mode off / on",
         f"{median(with_tr, 'buffer_off') * 1e9:.0f} / {median(with_tr, 'buffer_on') * 1e9:.0f} ns"),
        ("processp of a string, mode off / on",
         f"{median(with_tr, 'processp_off') * 1e9:.0f} / {median(with_tr, 'processp_on') * 1e9:.0f} ns"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    with open(os.path.join(ROOT, "bench", "RESULTS-mode.md"), "w") as out:
        out.write("# netproc-mode: turn-on cost\n\n")
        out.write("Written by `make bench` (bench/mode.py). Median of "
                  f"{args.runs} fresh `emacs -Q --batch` per row.\n\n")
        out.write(f"{version}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
                  f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
                  "(a shared 2-core machine).\n\n")
        out.write("| | |\n|---|---|\n")
        for name, value in rows:
            out.write(f"| {name} | {value} |\n")
    print("wrote bench/RESULTS-mode.md")


if __name__ == "__main__":
    main()

;;; responsive.el --- bench: a 10 ms timer's lateness while a filter receives at full speed  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; BENCH_SYSTEM=builtin|netproc emacs -Q --batch -L lisp -l bench/responsive.el PORT BYTES WAIT
;;
;; Issue 14, item 5: while one process's filter receives BYTES from the peer at PORT
;; (bench/peer_sender, on loopback) as fast as it comes, a repeating 10 ms timer in the same
;; Emacs records how late each of its runs is: the time it ran less the time it was due
;; (Emacs reschedules a repeating timer from its due time, so a stall of D ms shows as one
;; run D ms late, then runs catching up).  The filter only counts bytes.
;;
;; WAIT is how the main program waits, which is where Emacs runs timers:
;;   apo    `accept-process-output' (the twin's, for netproc), as a package waits;
;;   loop   `sleep-for', Emacs's own wait as in the command loop, where netproc's
;;          callbacks come through its wake-up channel's filter.
;;
;; BENCH_GC=off holds Emacs's garbage collector off for the run (`gc-cons-threshold' at
;; its largest): at the default threshold Emacs collects every 800 kB of strings made, and
;; each collection (about 10 ms on the shared 2-core machine) delays the timer whoever
;; receives, so the figures with it off show what the delivery itself adds.
;;
;; Prints one line: RESULT system=… wait=… bytes=… mb_s=… ticks=… late_max_ms=…
;; late_p99_ms=… late_p50_ms=… gcs=… gc_ms=….  Every wait is bounded.

;;; Code:

(require 'cl-lib)

(defvar bench-system (or (getenv "BENCH_SYSTEM") "builtin"))
(defvar bench-netproc (equal bench-system "netproc"))
(when bench-netproc (require 'netproc))
(when (equal (getenv "BENCH_GC") "off")
  (setq gc-cons-threshold most-positive-fixnum))

(defconst bench-period 0.01 "The timer's period, seconds.")
(defconst bench-deadline 300.0 "Seconds one run may take.")

(defvar bench-late nil "How late each run of the timer was, seconds, newest first.")
(defvar bench-runs nil "(DUE . RAN) of each run of the timer, newest first.")
(defvar bench-gc-ends nil
  "(END . ELAPSED-BEFORE) per garbage collection, newest first: when `post-gc-hook'
ran, and `gc-elapsed' then, which Emacs updates only after that hook (alloc.c), so that
each collection's own length is the next entry's ELAPSED-BEFORE less its own.")
(defvar bench-timer nil)

(defun bench-tick ()
  "Record how late this run is.  `timer-event-handler' has already moved the timer
on by one period (from its due time, not from now) before calling this."
  (let ((due (- (float-time (timer--time bench-timer)) bench-period))
        (now (float-time)))
    (push (cons due now) bench-runs)
    (push (- now due) bench-late)))

(defun bench-note-gc ()
  (push (cons (float-time) gc-elapsed) bench-gc-ends))

(defun bench-gc-spans ()
  "Each collection as (START . END), oldest first."
  (let* ((ends (reverse bench-gc-ends))
         (after (append (mapcar #'cdr (cdr ends)) (list gc-elapsed))))
    (cl-mapcar (lambda (end next-elapsed)
                 (let ((length (- next-elapsed (cdr end))))
                   (cons (- (car end) length) (car end))))
               ends after)))

(defun bench-late-beyond-gc (spans)
  "How late each run was not counting the collections (SPANS) that ran while it
waited: the delay the rest of Emacs (and the delivery) added."
  (mapcar (lambda (run)
            (let ((due (car run)) (ran (cdr run)) (in-gc 0.0))
              (dolist (span spans)
                (let ((from (max due (car span))) (to (min ran (cdr span))))
                  (when (> to from) (setq in-gc (+ in-gc (- to from))))))
              (- ran due in-gc)))
          bench-runs))

(defun bench-percentile (sorted fraction)
  "The FRACTION percentile of the SORTED vector (nearest rank)."
  (if (= (length sorted) 0) 0.0
    (aref sorted (min (1- (length sorted))
                      (max 0 (1- (ceiling (* fraction (length sorted)))))))))

(defun bench-run (port total wait)
  "Receive TOTAL bytes from PORT, waiting with WAIT; print the RESULT line."
  (let* ((bytes 0) (closed nil) (gcs0 gcs-done) (gc0 gc-elapsed)
         (make (if bench-netproc #'netproc-make-network-process #'make-network-process))
         (t0 (float-time))
         (process (funcall make :name "recv" :host "127.0.0.1" :service port :coding 'binary
                           :filter (lambda (_p s) (setq bytes (+ bytes (length s))))
                           :sentinel (lambda (_p _m) (setq closed t)))))
    (ignore process)
    (add-hook 'post-gc-hook #'bench-note-gc)
    (setq bench-timer (run-at-time bench-period bench-period #'bench-tick))
    (while (and (not closed) (< (- (float-time) t0) bench-deadline))
      (pcase wait
        ("apo" (if bench-netproc (netproc-accept-process-output nil 1)
                 (accept-process-output nil 1)))
        ("loop" (sleep-for 0.05))
        (_ (error "WAIT is apo or loop, not %S" wait))))
    (let ((wall (- (float-time) t0))
          (overdue (- (float-time) (float-time (timer--time bench-timer)))))
      ;; A run due and not yet made counts too: a timer that never ran was late all along.
      (when (> overdue 0)
        (push overdue bench-late)
        (push (cons (- (float-time) overdue) (float-time)) bench-runs))
      (cancel-timer bench-timer)
      (remove-hook 'post-gc-hook #'bench-note-gc)
      (let* ((sorted (sort (vconcat bench-late) #'<))
             (spans (bench-gc-spans))
             (beyond (apply #'max 0.0 (bench-late-beyond-gc spans)))
             (longest-gc (apply #'max 0.0 (mapcar (lambda (span) (- (cdr span) (car span))) spans))))
        (princ (format (concat "RESULT system=%s wait=%s bytes=%d complete=%s mb_s=%.1f ticks=%d "
                               "late_max_ms=%.2f late_p99_ms=%.2f late_p50_ms=%.2f gcs=%d gc_ms=%.0f "
                               "gc_max_ms=%.2f beyond_gc_max_ms=%.2f\n")
                       bench-system wait bytes (if (and closed (= bytes total)) "yes" "no")
                       (/ bytes 1e6 wall) (length sorted)
                       (* 1000 (bench-percentile sorted 1.0))
                       (* 1000 (bench-percentile sorted 0.99))
                       (* 1000 (bench-percentile sorted 0.5))
                       (- gcs-done gcs0) (* 1000 (- gc-elapsed gc0))
                       (* 1000 longest-gc) (* 1000 beyond))))
      (and closed (= bytes total)))))

(let ((args command-line-args-left))
  (setq command-line-args-left nil)
  (unless (= (length args) 3)
    (error "Usage: responsive.el PORT BYTES WAIT"))
  (kill-emacs (if (bench-run (string-to-number (nth 0 args)) (string-to-number (nth 1 args))
                             (nth 2 args))
                  0 1)))

;;; responsive.el ends here

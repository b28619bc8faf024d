;;; netproc.el --- Emacs network processes from the netproc library  -*- lexical-binding: t -*-

;; Copyright (C) the netproc authors
;; SPDX-License-Identifier: GPL-3.0-or-later
;; Package-Requires: ((emacs "28.1"))

;;; Commentary:

;; netproc's network processes with the API Emacs users know: for each primitive F of
;; Emacs's network processes there is `netproc-F', taking the same arguments and giving the
;; same results on netproc's own process objects.  The work is done by the dynamic module
;; `netproc-module' (the netproc shared library), loaded from beside this file.
;;
;; Emacs keeps its own loop: the module wakes Emacs through a pipe process (Emacs 28's
;; `open_channel'), whose filter runs netproc's callbacks on the main thread.  Callbacks
;; therefore run whenever Emacs reads process output: in `sit-for', `sleep-for',
;; `accept-process-output', `read-event' or the command loop.

;;; Code:

(when (< emacs-major-version 28)
  (error "netproc needs Emacs 28 or later (this is Emacs %s)" emacs-version))

(eval-when-compile (require 'cl-lib))  ; macros only: cl-lib is not loaded with netproc

(cl-defstruct (netproc-process
               (:constructor netproc--make-process-object
                             (name pointer &aux (mark (make-marker))))
               (:conc-name netproc-process--)
               (:copier nil)
               (:predicate netproc--process-record-p))
  "A netproc network process, as the module hands it out (always the same object)."
  (name nil :read-only t)
  (pointer nil :read-only t)
  (mark nil :read-only t))

(cl-defmethod cl-print-object ((process netproc-process) stream)
  (princ (format "#<netproc-process %s>" (netproc-process--name process)) stream))

(eval-and-compile
  (defconst netproc--directory
    (file-name-directory (or load-file-name buffer-file-name
                             (bound-and-true-p byte-compile-current-file)
                             default-directory))
    "Where netproc.el, and so netproc-module, were loaded from."))

;; What the running Emacs answers otherwise than Emacs 28 (the twins follow it).
(require 'netproc-versions (expand-file-name "netproc-versions" netproc--directory))

(eval-and-compile
  ;; At compile time too, so that the byte compiler knows the module's functions.
  (unless (featurep 'netproc-module)
    (let ((load-path (cons netproc--directory load-path)))
      (require 'netproc-module))))

(defvar netproc--channel nil
  "The pipe process through which the module wakes Emacs.")

(defvar netproc--callbacks-run 0
  "How many netproc callbacks have run so far.")

;;;; Dispatch

(defvar netproc--waiting nil
  "Non-nil while `netproc-accept-process-output' waits in Emacs's own pump.")

(defvar netproc--only nil
  "The process whose callbacks alone run, while `netproc-accept-process-output'
waits with JUST-THIS-ONE; nil for all.")

(defvar netproc--pending-error nil
  "An error that escaped a callback (a log function's, or any with `debug-on-error')
while `netproc-accept-process-output' waited; it signals it once the wait returns.")

(defun netproc--dispatch-filter (_channel _bytes)
  "Run netproc's due callbacks: the module wrote to the channel.
Emacs would report an error escaping from here as a filter error of the channel;
while `netproc-accept-process-output' waits, it is kept and signalled from there
instead, as Emacs's errors from log functions propagate out of its pump."
  (if (not netproc--waiting)
      (netproc--run-dispatch t)
    (condition-case err
        (netproc--run-dispatch t)
      (error (unless netproc--pending-error
               (setq netproc--pending-error err))))))

(defun netproc--run-dispatch (&optional linger)
  "Run a slice of due callbacks and count them; return how many ran.
Callbacks run with `inhibit-quit' bound, as Emacs runs filters and sentinels; the
module checks `quit-flag' between them and leaves the rest for after the quit.
A slice ends after 1 ms of callbacks, or when a timer is due: the rest stays
queued, in order, and the module wakes the channel, so that Emacs's loop runs its
timers before the next slice.  Just before a timer is due, when a garbage collection
is near, a slice delivers nothing and waits for the timer (`netproc--gc-guard').
With LINGER (the wake-up channel's filter), wait briefly for further
events while they keep coming, within the slice."
  (let ((count (let ((inhibit-quit t)) (netproc--dispatch linger netproc--only))))
    (setq netproc--callbacks-run (+ netproc--callbacks-run count))
    count))

(defun netproc--ensure-channel ()
  "Make the wake-up pipe process unless it is alive."
  (unless (process-live-p netproc--channel)
    (setq netproc--channel
          ;; Without adaptive read buffering: each wake-up is one byte, a "short read"
          ;; after which Emacs would skip the pipe in its waits for any process (the
          ;; command loop, `sit-for', `accept-process-output' of nil) for 20 to 70 ms.
          (let ((process-adaptive-read-buffering nil))
            (make-pipe-process :name " netproc-channel" :buffer nil :noquery t
                               :coding 'binary
                               :filter #'netproc--dispatch-filter
                               :sentinel #'ignore)))
    (netproc--init-channel netproc--channel)))

(defun netproc--call (kind function &rest args)
  "Run FUNCTION on ARGS as Emacs runs a process callback of KIND.
KIND is `filter', `sentinel' or `log'.  Filters and sentinels run with
`inhibit-quit' bound, the current buffer and match data kept, and an error
reported through `command-error-function' (then Emacs's pause, see
`netproc--callback-error-pause'), unless `debug-on-error' is set; log functions
are called directly, as Emacs does.  With `debug-on-error', an error enters the
debugger inside FUNCTION's frames."
  (if (eq kind 'log)
      (netproc--call-for-debugger function args)
    (let ((inhibit-quit t))
      (save-current-buffer
        (save-match-data
          (if debug-on-error
              (netproc--call-for-debugger function args)
            (condition-case err
                (apply function args)
              (error
               (when command-error-function
                 (funcall command-error-function err
                          (if (eq kind 'filter)
                              "error in process filter: "
                            "error in process sentinel: ")
                          nil))
               (netproc--callback-error-pause)))))))))

(defun netproc--call-for-debugger (function args)
  "Apply FUNCTION to ARGS so that the debugger sees an error where it is signalled.
Emacs runs its callbacks with no handler when `debug-on-error' is set, so the
debugger's backtrace shows the callback's own frames.  The module's call into
Lisp has a catch-all handler of its own, which would keep the debugger out until
the error is raised again when the module call returns, far from its cause; a
handler marked `debug' lets `debug-on-error' (and `debug-ignored-errors') decide
at the signal, then passes the error on unchanged."
  (condition-case err
      (apply function args)
    ((debug error) (signal (car err) (cdr err)))))

(defun netproc--callback-error (kind symbol data)
  "Report the signal (SYMBOL . DATA) that escaped a callback of KIND, as Emacs does.
KIND is `filter' or `sentinel'.  Like Emacs's handler for filters and sentinels,
this catches errors only: it returns nil for any other signal, which goes on up.
An error is passed to `command-error-function', then Emacs pauses
\(`netproc--callback-error-pause'); in
batch mode with `backtrace-on-error-noninteractive', Emacs calls `debug' first,
as it does for an error caught by an `error' handler there."
  (when (memq 'error (get symbol 'error-conditions))
    (let ((err (cons symbol data))
          (inhibit-quit t))
      (when (and noninteractive
                 (bound-and-true-p backtrace-on-error-noninteractive)
                 (not inhibit-debugger)
                 (fboundp 'debug))
        (let ((debugger #'debug))
          (funcall debugger 'error err)))
      (when command-error-function
        (funcall command-error-function err
                 (if (eq kind 'filter)
                     "error in process filter: "
                   "error in process sentinel: ")
                 nil))
      (netproc--callback-error-pause)
      t)))

(defun netproc--restore-buffer (buffer)
  "Make BUFFER current again after a callback, if it is still live."
  (when (buffer-live-p buffer)
    (set-buffer buffer)))

;;;; Default filter and sentinel

(defun netproc--default-filter (process string)
  "Insert STRING at PROCESS's mark in its buffer, as `internal-default-process-filter'."
  (let ((buffer (netproc-process-buffer process)))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let* ((inhibit-read-only t)
               (mark (netproc-process-mark process))
               (opoint (point))
               (before (if (marker-buffer mark) (marker-position mark) (point-max))))
          (goto-char before)
          (setq before (point))
          (insert-before-markers
           (cond ((eq (multibyte-string-p string) enable-multibyte-characters) string)
                 ((multibyte-string-p string) (string-as-unibyte string))
                 (t (string-to-multibyte string))))
          (set-marker mark (point) buffer)
          (goto-char (if (>= opoint before) (+ opoint (- (point) before)) opoint)))))))

(defun netproc--default-sentinel (process message)
  "Insert \"\\nProcess NAME MESSAGE\", as `internal-default-process-sentinel'."
  (let ((buffer (netproc-process-buffer process)))
    (when (and (buffer-live-p buffer)
               (not (memq (netproc-process-status process) '(open stop))))
      (with-current-buffer buffer
        (let* ((inhibit-read-only t)
               (mark (netproc-process-mark process))
               (opoint (point))
               (before (if (marker-buffer mark) (marker-position mark) (point-max))))
          (unless enable-multibyte-characters
            (setq message (encode-coding-string message locale-coding-system)))
          (goto-char before)
          (setq before (point))
          (insert "\nProcess " (netproc-process-name process) " " message)
          (set-marker mark (point) buffer)
          (goto-char (if (>= opoint before) (+ opoint (- (point) before)) opoint)))))))

;;;; Designators and buffers

(defun netproc-processp (object)
  "Return t if OBJECT is a netproc process."
  (netproc--process-p object))

(defun netproc--check (process)
  "Signal unless PROCESS is a netproc process, as CHECK_PROCESS does."
  (unless (netproc-processp process)
    (signal 'wrong-type-argument (list 'processp process)))
  process)

(defun netproc-get-buffer-process (buffer)
  "Return the first netproc process in `netproc-process-list' whose buffer is BUFFER."
  (let ((buffer (get-buffer buffer)))
    (and buffer
         (catch 'found
           (dolist (process (netproc--process-list))
             (when (eq (netproc--process-buffer process) buffer)
               (throw 'found process)))))))

(defun netproc--designated (name)
  "The process NAME designates: a process, a process or buffer name, a buffer, or nil."
  (let ((object (cond ((stringp name)
                       (or (netproc--get-process name) (get-buffer name)
                           (error "Process %s does not exist" name)))
                      ((null name) (current-buffer))
                      (t name))))
    (if (bufferp object)
        (progn
          (unless (buffer-live-p object)
            (error "Attempt to get process for a dead buffer"))
          (or (netproc-get-buffer-process object)
              (error "Buffer %s has no process" (buffer-name object))))
      (netproc--check object))))

(defun netproc--update-mark (process)
  "Point PROCESS's mark at the end of its buffer, as Emacs's update_process_mark.
Without a buffer the mark is left where it was, as in Emacs."
  (let ((buffer (netproc--process-buffer process)))
    (cond ((buffer-live-p buffer)
           (set-marker (netproc-process-mark process)
                       (with-current-buffer buffer (point-max)) buffer))
          ((bufferp buffer) (set-marker (netproc-process-mark process) nil)))))

(defun netproc--kill-buffer-hook ()
  "Delete the netproc processes of the buffer being killed, as Emacs does."
  (let ((buffer (current-buffer)))
    (dolist (process (netproc--process-list))
      (when (eq (netproc--process-buffer process) buffer)
        (netproc--delete-process process)))))

(add-hook 'kill-buffer-hook #'netproc--kill-buffer-hook)

(defun netproc--kill-buffer-query ()
  "Ask before killing a buffer with a live netproc process, as Emacs does."
  (let ((process (netproc-get-buffer-process (current-buffer))))
    (or (not process)
        (not (netproc--process-query-on-exit-flag process))
        (not (memq (netproc--process-status process) '(open listen connect stop)))
        (yes-or-no-p (format "Buffer %S has a running process; kill it? "
                             (buffer-name (current-buffer)))))))

(add-hook 'kill-buffer-query-functions #'netproc--kill-buffer-query)

;;;; Keeping garbage collections away from timers that are due

;; Emacs collects garbage once so many bytes were allocated since the last collection
;; (about 800 kB at the defaults), and a collection takes several milliseconds.  A filter
;; receiving at full speed allocates its strings quickly, so collections follow one
;; another, and one that starts just before a timer is due delays that timer by its whole
;; length.  The module therefore holds a slice of callbacks back for the few milliseconds
;; before a timer is due when a collection is near, so that the timer runs first and the
;; collection comes after it, with the whole period ahead of it (src/emacs/timer_guard.rs;
;; issue 14, item 5).  This side says when, once per slice.

(defconst netproc--gc-guard-least 0.001
  "Seconds before a timer is due in which netproc starts no callback that may bring
on a garbage collection, at least.  When collections are long, the guard is longer
\(`netproc--gc-guard-seconds').")

(defconst netproc--gc-late-bound 0.007
  "How late a collection that starts just before the guard may make a timer: the guard
is the longest recent collection less this (up to `netproc--gc-guard-most').  A
longer guard makes timers more punctual and the delivery slower: each guard holds a
collection back, and with it the bytes that would follow it, for up to its length once
per timer period.")

(defconst netproc--gc-guard-most 0.008
  "Seconds before a timer is due beyond which the guard never reaches.")

(defconst netproc--gc-guard-grace 0.002
  "Seconds after a timer was due for which netproc still lets it run first.  Emacs
checks its timers before it waits, and the module's wake-up can come in between; a
timer Emacs does not run meanwhile holds nothing back for longer.")

(defvar netproc--gc-consed nil
  "`netproc--consed' when the last garbage collection ended; nil before the first.")

(defvar netproc--gc-interval nil
  "Bytes allocated between the last two garbage collections: how much Emacs lets be
allocated before the next, which `gc-cons-percentage' may make larger than
`gc-cons-threshold'.  Nil until two collections were seen.")

(defvar netproc--gc-elapsed nil
  "`gc-elapsed' when the last collection's `post-gc-hook' ran.  Emacs 28 adds a
collection's time to `gc-elapsed' after the hook (Emacs 30 before it), so the difference
between two hooks is the length of one recent collection either way.")

(defvar netproc--gc-longest 0.0
  "The longest recent collection, in seconds, decaying by a fiftieth per collection:
collections vary in length, and a guard sized after the last few is too short for the
next long one.")

(defun netproc--consed ()
  "Roughly the bytes Emacs has allocated since it started, as its collector counts
them (`memory-use-counts', by object size; a counter's wrap-around only costs one
wrong estimate)."
  (let ((counts (memory-use-counts)))
    (+ (* 16 (nth 0 counts))                ; conses
       (* 8 (nth 1 counts))                 ; floats
       (* 8 (nth 2 counts))                 ; vector cells
       (* 48 (nth 3 counts))                ; symbols
       (nth 4 counts)                       ; string bytes
       (* 56 (nth 5 counts))                ; intervals
       (* 32 (nth 6 counts)))))             ; strings

(defun netproc--note-gc ()
  "Remember when this collection ended, in bytes allocated, and how long the recent
ones took (`post-gc-hook')."
  (let ((consed (netproc--consed)))
    (when (and netproc--gc-consed (> consed netproc--gc-consed))
      (setq netproc--gc-interval (- consed netproc--gc-consed)))
    (setq netproc--gc-consed consed))
  (when netproc--gc-elapsed
    (setq netproc--gc-longest (max (- gc-elapsed netproc--gc-elapsed)
                                   (* 0.98 netproc--gc-longest))))
  (setq netproc--gc-elapsed gc-elapsed))

(add-hook 'post-gc-hook #'netproc--note-gc)

(defun netproc--gc-guard-seconds ()
  "Seconds before a timer is due in which netproc holds callbacks back when a
collection is near: so that one starting just before has ended within
`netproc--gc-late-bound' of the timer's time."
  (min netproc--gc-guard-most
       (max netproc--gc-guard-least (- netproc--gc-longest netproc--gc-late-bound))))

(defun netproc--gc-room ()
  "Roughly how many bytes may still be allocated before Emacs's next collection.
Nil when that cannot be told: no collection seen yet, or far more allocated since the
last than the estimate allows (`gc-cons-threshold' was raised meanwhile)."
  (when netproc--gc-consed
    (let ((interval (max gc-cons-threshold (or netproc--gc-interval 0)))
          (since (- (netproc--consed) netproc--gc-consed)))
      (and (<= since (* 2 interval)) (- interval since)))))

(defun netproc--next-timer ()
  "The first timer of `timer-list' that Emacs runs when it is due: not one triggered
already (a repeating timer whose function is still running, which Emacs skips)."
  (let ((timers timer-list))
    (while (and timers (timer--triggered (car timers)))
      (setq timers (cdr timers)))
    (car timers)))

(defun netproc--gc-guard ()
  "When the module's next slice holds its callbacks back for a timer.
Nil unless a timer is due within the guard and a slice from now, or was due at most
`netproc--gc-guard-grace' ago.  Otherwise a vector [FROM DUE ROOM] of floats: FROM and
DUE are times (as `float-time' gives them): the guard starts at FROM and the timer is
due at DUE; ROOM is the estimated number of bytes that may still be allocated before the
next collection, or nil when that cannot be told.  The slice holds back from FROM once
ROOM is nearly spent, and from DUE whatever the room."
  (let ((timer (netproc--next-timer)))
    (when timer
      ;; The due time from the timer's fields: `timer-until' makes a Lisp time list
      ;; first, and this runs at every slice.
      (let ((due (+ (* (timer--high-seconds timer) 65536.0) (timer--low-seconds timer)
                    (* (timer--usecs timer) 1e-6) (* (timer--psecs timer) 1e-12)))
            (now (float-time))
            (guard (netproc--gc-guard-seconds)))
        (when (and (> due (- now netproc--gc-guard-grace)) (< due (+ now guard 0.001)))
          (let ((room (netproc--gc-room)))
            (vector (- due guard) due (and room (float room)))))))))

(require 'netproc-api (expand-file-name "netproc-api" netproc--directory))
(require 'netproc-tls (expand-file-name "netproc-tls" netproc--directory))

(netproc--ensure-channel)

(provide 'netproc)
;;; netproc.el ends here

;;; netproc-test-responsive.el --- Differential tests: timers run while a stream pours in  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Issue 14, item 5.  Emacs reads one chunk per process per turn of its wait loop
;; (wait_reading_process_output in process.c) and runs its due timers at the top of every
;; turn, so a timer that is due runs between any two filter calls, however much input is
;; waiting.  The twins deliver in slices that end after 1 ms of callbacks, each followed by
;; a turn of Emacs's loop: with a filter slower than a slice, the same holds for them.
;;
;; The property is structural, not timed: a filter call busy-waits 3 ms (so that a 1 ms
;; timer is due when it returns, on any machine however loaded), and the transcript records
;; the longest run of filter calls with no timer run between them: 1 for Emacs.  The peer
;; is python3, sending a known pattern at loopback speed, then closing; every byte must
;; arrive, in order, before the closing sentinel.

;;; Code:

(require 'netproc-test)

(defconst np--stream-size (* 512 1024)
  "Bytes the peer sends: 128 of Emacs's 4096-byte reads, 8 of netproc's 64 KiB ones.")

(defconst np--stream-peer
  "import socket, sys
n = int(sys.argv[1])
listener = socket.socket()
listener.bind(('127.0.0.1', 0))
listener.listen(1)
print(listener.getsockname()[1], flush=True)
listener.settimeout(30)
connection, _ = listener.accept()
connection.sendall(bytes(i * 7 % 251 for i in range(n)))
connection.close()
"
  "A python3 peer: prints its port, sends N bytes of a known pattern to one client, closes.")

(defun np--stream-pattern (size)
  "The SIZE bytes `np--stream-peer' sends, as a unibyte string."
  ;; i * 7 mod 251 repeats every 251 bytes: one period, copied.
  (let ((period (apply #'unibyte-string
                       (mapcar (lambda (i) (% (* i 7) 251)) (number-sequence 0 250)))))
    (substring (apply #'concat (make-list (1+ (/ size 251)) period)) 0 size)))

(defun np--stream-with-timer (wait)
  "Receive `np--stream-size' bytes with a filter slower than a slice and a 1 ms timer.
WAIT pumps once: through the primitive's `accept-process-output' or Emacs's own loop.
Records the bytes, whether they are the peer's in order, the longest run of filter calls
without a timer run between them, and whether the closing sentinel came after them all."
  (unless (executable-find "python3") (ert-skip "no python3 for the streaming peer"))
  (let* ((output "")
         (peer (make-process :name "np-stream-peer" :noquery t :connection-type 'pipe
                             :command (list "python3" "-c" np--stream-peer
                                            (number-to-string np--stream-size))
                             :filter (lambda (_p s) (setq output (concat output s)))))
         (chunks nil) (received 0) (run 0) (longest 0) (timer-runs 0) (closed nil)
         (timer (run-at-time 0.001 0.001 (lambda () (setq run 0 timer-runs (1+ timer-runs))))))
    (unwind-protect
        (progn
          (np-wait (lambda () (string-match-p "\n" output)) 10)
          (np 'make-network-process
              :name "cli" :host "127.0.0.1" :service (string-to-number output) :coding 'binary
              :filter (lambda (_p s)
                        (push s chunks)
                        (setq received (+ received (length s)) run (1+ run)
                              longest (max longest run))
                        ;; Slower than a slice: the slice is over when this returns, and
                        ;; the 1 ms timer is due.
                        (let ((until (+ (float-time) 0.003)))
                          (while (< (float-time) until))))
              :sentinel (lambda (_p m) (setq closed (list received m))))
          (let ((deadline (+ (float-time) 60)))
            (while (and (not closed) (< (float-time) deadline))
              (funcall wait)))
          (np-note 'received received
                   'intact (string= (apply #'concat (nreverse chunks))
                                    (np--stream-pattern np--stream-size)))
          (np-note 'sentinel-after-all-input closed)
          (np-note 'longest-run-of-filter-calls-without-a-timer longest
                   'timer-ran (> timer-runs 0)))
      (cancel-timer timer)
      (delete-process peer))))

(np-deftest stream-lets-timers-run
  "While a stream pours in faster than a slow filter takes it, a due timer runs between
any two filter calls of a caller waiting in `accept-process-output' (for the twins, in
`netproc-accept-process-output', which used to deliver up to 10 ms and a whole read turn
at a time, and never let Emacs run a timer while input kept coming)."
  (np--stream-with-timer (lambda () (np 'accept-process-output nil 0.05))))

(np-deftest stream-lets-timers-run-in-emacs-loop
  "The same while waiting in Emacs's own loop (`sleep-for', as the command loop waits),
where the twins' callbacks come through the wake-up channel's filter."
  (np--stream-with-timer (lambda () (sleep-for 0.05))))

(declare-function netproc--queued-count "netproc-module")

(ert-deftest netproc-stream-queue-stays-bounded ()
  "With a filter slower than the network, what a slice leaves queued is delivered before
more is read: the module's queue never holds more than one turn's reads (16 per
process), however much the peer sends; every byte still arrives, in order, before the
closing sentinel."
  (unless (executable-find "python3") (ert-skip "no python3 for the streaming peer"))
  (let* ((size (* 8 1024 1024))
         (output "")
         (peer (make-process :name "np-stream-peer" :noquery t :connection-type 'pipe
                             :command (list "python3" "-c" np--stream-peer
                                            (number-to-string size))
                             :filter (lambda (_p s) (setq output (concat output s)))))
         (chunks nil) (most-queued 0) (closed nil) (client nil))
    (unwind-protect
        (progn
          (let ((deadline (+ (float-time) 10)))
            (while (and (not (string-match-p "\n" output)) (< (float-time) deadline))
              (accept-process-output peer 0.1)))
          (setq client
                (netproc-make-network-process
                 :name "cli" :host "127.0.0.1" :service (string-to-number output)
                 :coding 'binary
                 :filter (lambda (_p s)
                           (push s chunks)
                           (setq most-queued (max most-queued (netproc--queued-count)))
                           (let ((until (+ (float-time) 0.001)))
                             (while (< (float-time) until))))
                 :sentinel (lambda (_p m) (setq closed m))))
          (let ((deadline (+ (float-time) 120)))
            (while (and (not closed) (< (float-time) deadline))
              (netproc-accept-process-output nil 0.05)))
          (should (equal closed "connection broken by remote peer\n"))
          (should (string= (apply #'concat (nreverse chunks)) (np--stream-pattern size)))
          ;; A turn reads up to 16 chunks of a stream, then its close: 17.  Without the
          ;; rule, each 1 ms slice would read a turn and deliver about one chunk.
          (should (<= most-queued 17)))
      (when client (netproc-delete-process client))
      (delete-process peer))))

;; Garbage collections and timers (netproc.el's `netproc--gc-guard', src/emacs/timer_guard.rs).
;; A collection that starts just before a timer is due delays it by its whole length, so a
;; slice holds its callbacks back in the milliseconds before a timer is due when a
;; collection is near.  These tests set the estimate, the guard's length and the timer list
;; themselves, with margins of seconds, so that nothing depends on how fast the machine is.

(defun np--fake-timer (seconds &optional triggered)
  "A timer due SECONDS from now, not activated (for a `timer-list' of a test's own);
with TRIGGERED, one Emacs has triggered already."
  (let ((timer (timer-create)))
    (timer-set-time timer (time-add nil seconds))
    (timer-set-function timer #'ignore)
    ;; As `timer-activate' leaves it (a new timer counts as triggered).
    (setf (timer--triggered timer) triggered)
    timer))

(defmacro np--with-gc (when &rest body)
  "Run BODY with the next collection estimated WHEN: `near' (due now), `far' (100 MB
away), or `unknown' (more allocated since the last than the estimate allows)."
  (declare (indent 1))
  `(let* ((gc-cons-threshold (if (eq ,when 'far) 100000000 800000))
          (netproc--gc-interval nil)
          (netproc--gc-consed (- (netproc--consed)
                                 (pcase ,when
                                   ('near gc-cons-threshold)
                                   ('far 0)
                                   ('unknown (* 3 gc-cons-threshold))))))
     ,@body))

(defmacro np--with-guard (seconds &rest body)
  "Run BODY with a guard of SECONDS before each timer, and a grace of 10 s after it."
  (declare (indent 1))
  `(let ((netproc--gc-longest 1000.0)
         (netproc--gc-guard-most ,seconds)
         (netproc--gc-guard-grace 10.0))
     ,@body))

(ert-deftest netproc-gc-guard-says-when-a-timer-is-near ()
  "The guard answers only for a timer due within it that Emacs will run, with the guard's
start, the timer's time and the room left before the next collection."
  (np--with-guard 0.5
    (np--with-gc 'near
      (let ((timer-list nil))
        (should-not (netproc--gc-guard)))
      (let ((timer-list (list (np--fake-timer 5.0))))
        (should-not (netproc--gc-guard)))
      (let* ((timer (np--fake-timer 0.25))
             (timer-list (list timer))
             (answer (netproc--gc-guard)))
        (should (vectorp answer))
        (should (< (abs (- (aref answer 1) (float-time (timer--time timer)))) 1e-5))
        (should (< (abs (- (aref answer 1) (aref answer 0) 0.5)) 1e-9))
        ;; Near: little or no room (this test's own allocation spends some).
        (should (< (aref answer 2) 10000)))
      ;; A triggered timer is skipped (Emacs does not run it); the next one counts.
      (let ((timer-list (list (np--fake-timer 0.25 t))))
        (should-not (netproc--gc-guard)))
      (let ((timer-list (list (np--fake-timer 0.1 t) (np--fake-timer 0.25))))
        (should (vectorp (netproc--gc-guard))))
      ;; Just after its due time too (Emacs runs it next), not long after.
      (let ((timer-list (list (np--fake-timer -1.0))))
        (should (vectorp (netproc--gc-guard))))
      (let ((timer-list (list (np--fake-timer -20.0))))
        (should-not (netproc--gc-guard))))
    (let ((timer-list (list (np--fake-timer 0.25))))
      (np--with-gc 'far
        (should (> (aref (netproc--gc-guard) 2) 50000000)))
      ;; The threshold was raised since the estimate: no room is claimed.
      (np--with-gc 'unknown
        (should-not (aref (netproc--gc-guard) 2)))))
  ;; Long collections lengthen the guard, up to its bound.
  (let ((netproc--gc-longest 0.012))
    (should (= (netproc--gc-guard-seconds) (- 0.012 netproc--gc-late-bound))))
  (let ((netproc--gc-longest 0.0))
    (should (= (netproc--gc-guard-seconds) netproc--gc-guard-least)))
  (let ((netproc--gc-longest 1.0))
    (should (= (netproc--gc-guard-seconds) netproc--gc-guard-most))))

(ert-deftest netproc-gc-guard-counts-each-collection ()
  "`post-gc-hook' records where each collection ended, the allocation between the last
two, and how long they took."
  (should (memq #'netproc--note-gc post-gc-hook))
  (let ((netproc--gc-consed nil) (netproc--gc-interval nil)
        (netproc--gc-elapsed nil) (netproc--gc-longest 0.0))
    (garbage-collect)
    (should netproc--gc-consed)
    (make-string 100000 ?x)
    (garbage-collect)
    (should (>= netproc--gc-interval 100000))
    (should (> netproc--gc-longest 0))))

(declare-function netproc--dispatch "netproc-module")

(defun np--stream-waiting ()
  "A twin client with 64 KiB and the peer's close waiting on its socket, unread; its
peer, and a record (CALLS BYTES CLOSED-AFTER): its filter calls, the bytes they got,
and how many bytes had come when the sentinel ran."
  (let* ((output "")
         (peer (make-process :name "np-stream-peer" :noquery t :connection-type 'pipe
                             :command (list "python3" "-c" np--stream-peer "65536")
                             :filter (lambda (_p s) (setq output (concat output s)))))
         (record (list 0 0 nil)))
    (let ((deadline (+ (float-time) 10)))
      (while (and (not (string-match-p "\n" output)) (< (float-time) deadline))
        (accept-process-output peer 0.1)))
    (let ((client (netproc-make-network-process
                   :name "cli" :host "127.0.0.1" :service (string-to-number output)
                   :coding 'binary
                   :filter (lambda (_p s)
                             (setcar record (1+ (car record)))
                             (setcar (cdr record) (+ (cadr record) (length s))))
                   :sentinel (lambda (_p _m) (setcar (cddr record) (cadr record))))))
      ;; The peer exits once all it sent is in the client's socket (64 KiB fits in any
      ;; loopback buffer). JUST-THIS-ONE: nothing of netproc's is delivered meanwhile.
      (let ((deadline (+ (float-time) 30)))
        (while (and (process-live-p peer) (< (float-time) deadline))
          (accept-process-output peer 0.05 nil t)))
      (list client peer record))))

(defmacro np--with-stream-waiting (record &rest body)
  "Run BODY with RECORD bound to the record of `np--stream-waiting'."
  (declare (indent 1))
  (let ((client (make-symbol "client")) (peer (make-symbol "peer")))
    `(progn
       (unless (executable-find "python3") (ert-skip "no python3 for the streaming peer"))
       (pcase-let ((`(,,client ,,peer ,,record) (np--stream-waiting)))
         (unwind-protect (progn ,@body)
           (netproc-delete-process ,client)
           (delete-process ,peer))))))

(defun np--dispatch-woken ()
  "One slice, as the wake-up channel's filter runs it (the watcher saw input)."
  (netproc--run-dispatch t))

(ert-deftest netproc-dispatch-lets-a-due-timer-run-before-a-collection ()
  "With a timer due within the guard and a collection near, a slice delivers nothing and
waits for the timer, so that Emacs runs it before the filters allocate the collection.
The next slice delivers (delivery always goes on), and every byte still comes before
the closing sentinel.  With the collection far off, or no timer near, a slice delivers."
  (np--with-guard 2.0
    (np--with-stream-waiting record
      (let ((timer-list (list (np--fake-timer 1.0))))
        (np--with-gc 'near
          (let ((start (float-time)))
            (should (= (np--dispatch-woken) 0))
            (should (= (car record) 0))
            ;; It slept towards the timer (20 ms at most, the module's bound).
            (should (>= (float-time) (+ start 0.015))))
          (should (> (np--dispatch-woken) 0))
          (should (> (car record) 0))))
      (let ((deadline (+ (float-time) 30)))
        (while (and (not (nth 2 record)) (< (float-time) deadline))
          (netproc-accept-process-output nil 0.05)))
      (should (= (nth 1 record) 65536))
      (should (eql (nth 2 record) 65536)))
    (np--with-stream-waiting record
      (let ((timer-list (list (np--fake-timer 1.0))))
        (np--with-gc 'far
          (should (> (np--dispatch-woken) 0))
          (should (> (car record) 0)))))
    (np--with-stream-waiting record
      (let ((timer-list nil))
        (np--with-gc 'near
          (should (> (np--dispatch-woken) 0))
          (should (> (car record) 0)))))))

(ert-deftest netproc-dispatch-stops-when-a-timer-is-due ()
  "A slice ends once a timer is due, however far off the collection, so that Emacs runs
the timer before the next slice.  Here the timer is due already, so the slice delivers
nothing; the next slice delivers even so (Emacs did not run the timer, and delivery
must go on)."
  (np--with-guard 2.0
    (np--with-stream-waiting record
      (let ((timer-list (list (np--fake-timer -0.5))))
        (np--with-gc 'far
          (should (= (np--dispatch-woken) 0))
          (should (= (car record) 0))
          (should (> (np--dispatch-woken) 0))
          (should (> (car record) 0)))))))

;; Each of Emacs's garbage collections walks everything loaded.  gnutls.el brings seq.el and
;; the byte compiler with it, which made every collection of an `emacs -Q' with netproc
;; about a millisecond longer (bench/responsive.el's longest-GC figure), TLS or not; cl-lib
;; another 0.2 ms.  So netproc's files load gnutls when TLS is first negotiated and use
;; cl-lib's macros only, never loading either when they load.
(ert-deftest netproc-loading-requires-no-gnutls-nor-cl-lib ()
  (dolist (file '("netproc" "netproc-api" "netproc-tls" "netproc-versions"))
    (let ((entry (assoc (file-truename (locate-library (concat file ".elc")))
                        (mapcar (lambda (e) (cons (and (car e) (file-truename (car e))) (cdr e)))
                                load-history))))
      (should entry)
      (should-not (member '(require . gnutls) (cdr entry)))
      (should-not (member '(require . cl-lib) (cdr entry))))))

(provide 'netproc-test-responsive)
;;; netproc-test-responsive.el ends here

;;; sut_emacs.el --- benchmark system under test: Emacs network processes  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; BENCH_SYSTEM=builtin|netproc emacs -Q --batch -L lisp -l bench/sut_emacs.el WORKLOAD ARGS...
;;
;; The same workloads, arguments and RESULT line as bench/sut_netproc.c, run in Emacs 28.2
;; either with the built-in primitives (`make-network-process', `process-send-string',
;; `accept-process-output') or with netproc's twins (`netproc-make-network-process', …)
;; from lisp/netproc.el.  Everything else is Emacs's default (read-process-output-max 4096
;; for the built-in).  Filters, sentinels and log functions do what the C systems do:
;;
;;   recv PORT BYTES CODING   W1/W6: client; the filter counts bytes and characters
;;   pingpong PORT ROUNDS     W2: client; the filter sends the next 64 bytes
;;   accept COUNT             W3: server (:server 1024); log counts accepts, sentinel closes
;;   scale N ROUNDS           W4: server holding N idle connections; the filter echoes
;;   udp COUNT                W5: datagram server; the filter checks sequence numbers
;;
;; CPU is Emacs's own user+system time (process-attributes of emacs-pid, i.e. getrusage);
;; maxrss_kb is the RSS at the end.  Every wait is bounded.

;;; Code:

(defvar bench-system (or (getenv "BENCH_SYSTEM") "builtin"))
(defvar bench-netproc (equal bench-system "netproc"))
(when bench-netproc
  (require 'netproc)
  ;; Emacs lowers its soft open-file limit to 1024 at startup; netproc's sockets never
  ;; reach Emacs's select(), so W4 can hold 10,000 idle connections once it is raised.
  ;; The module does not raise it by itself: see `netproc-raise-open-file-limit'.
  (netproc-raise-open-file-limit))

(defvar bench-deadline 600.0 "Seconds any one run may take.")

(defalias 'bench-make (if bench-netproc #'netproc-make-network-process #'make-network-process))
(defalias 'bench-send (if bench-netproc #'netproc-process-send-string #'process-send-string))
(defalias 'bench-contact (if bench-netproc #'netproc-process-contact #'process-contact))
(defalias 'bench-delete (if bench-netproc #'netproc-delete-process #'delete-process))

(defun bench-wait (seconds)
  "Wait up to SECONDS for output, running filters and sentinels."
  (if bench-netproc (netproc-accept-process-output nil seconds)
    (accept-process-output nil seconds)))

(defun bench-cpu ()
  "Emacs's own (USER . SYS) CPU seconds."
  (let ((attrs (process-attributes (emacs-pid))))
    (cons (float-time (alist-get 'utime attrs)) (float-time (alist-get 'stime attrs)))))

(defun bench-rss-kb ()
  "Emacs's resident set size in KiB."
  (or (alist-get 'rss (process-attributes (emacs-pid))) -1))

(defun bench-result (workload wall cpu0 extra)
  "Print the RESULT line for WORKLOAD: WALL seconds, CPU since CPU0, EXTRA fields."
  (let* ((cpu1 (bench-cpu))
         (user (- (car cpu1) (car cpu0)))
         (sys (- (cdr cpu1) (cdr cpu0))))
    (princ (format (concat "RESULT workload=%s system=emacs-%s wall=%.6f user=%.6f sys=%.6f cpu=%.6f "
                           "maxrss_kb=%d %s gcs=%d gc_s=%.3f\n")
                   workload bench-system wall user sys (+ user sys) (bench-rss-kb) extra
                   gcs-done gc-elapsed))))

(defun bench-print-port (process)
  "Print \"PORT n\" for the server PROCESS, on stderr: `message' is written at once, while
stdout in batch mode is only flushed at exit."
  (message "PORT %d" (bench-contact process :service)))

(defmacro bench-until (condition)
  "Wait, running callbacks, until CONDITION holds or the deadline passes."
  `(let ((start (float-time)))
     (while (and (not ,condition) (< (- (float-time) start) bench-deadline))
       (bench-wait 1))))

(defconst bench-broken "connection broken by remote peer\n")

(defun bench-recv (port total coding)
  "W1/W6: receive TOTAL bytes from PORT with CODING."
  (let* ((cpu0 (bench-cpu)) (t0 (float-time)) (bytes 0) (chars 0) (closed nil)
         (p (bench-make :name "recv" :host "127.0.0.1" :service port :coding coding
                        :filter (lambda (_p s)
                                  (setq bytes (+ bytes (string-bytes s)) chars (+ chars (length s))))
                        :sentinel (lambda (_p m) (when (equal m bench-broken) (setq closed t))))))
    (ignore p)
    (bench-until closed)
    (let* ((wall (- (float-time) t0)) (cpu1 (bench-cpu))
           (cpu (- (+ (car cpu1) (cdr cpu1)) (car cpu0) (cdr cpu0))))
      (bench-result "recv" wall cpu0
                    (format "coding=%s bytes=%d chars=%d mb_s=%.1f cpu_per_gib=%.4f" coding bytes chars
                            (/ bytes 1e6 wall) (/ cpu (/ bytes (* 1024.0 1024 1024))))))
    (and closed (= bytes total))))

(defun bench-pingpong (port rounds)
  "W2: ROUNDS 64-byte ping-pongs with the echo peer at PORT."
  (let* ((cpu0 (bench-cpu)) (done 0) (got 0) (closed nil)
         (ping (make-string 64 ?p))
         (p (bench-make :name "pingpong" :host "127.0.0.1" :service port :coding 'binary :nodelay t
                        :filter (lambda (proc s)
                                  (setq got (+ got (length s)))
                                  (while (and (>= got 64) (< done rounds))
                                    (setq got (- got 64) done (1+ done))
                                    (when (< done rounds) (bench-send proc ping))))
                        :sentinel (lambda (_p m) (when (equal m bench-broken) (setq closed t)))))
         (t0 (float-time)))
    (bench-send p ping)
    (bench-until (or closed (>= done rounds)))
    (let ((wall (- (float-time) t0)))
      (bench-result "pingpong" wall cpu0 (format "rounds=%d rate=%.0f" done (/ done wall))))
    (bench-delete p)
    (= done rounds)))

(defun bench-server (echo count n-idle rounds)
  "W3 (ECHO nil: COUNT accepts and closes) or W4 (ECHO t: N-IDLE idle, ROUNDS echoes)."
  (let* ((cpu0 (bench-cpu)) (accepted 0) (closed 0) (accept-failed 0) (echoed 0)
         (t0 nil) (pp-t0 nil) (pp-cpu0 nil) (pp-wall 0.0) (done nil) (rss-n nil)
         (want (* rounds 64)) (last-progress (float-time))
         (server (bench-make
                  :name "server" :server 1024 :host "127.0.0.1" :service t :family 'ipv4 :coding 'binary
                  :log (lambda (_server client _message)
                         (if (not client) (setq accept-failed (1+ accept-failed))
                           (setq accepted (1+ accepted) last-progress (float-time))
                           (unless t0 (setq t0 (float-time)))
                           (when (and echo (= accepted n-idle)) (setq rss-n (bench-rss-kb)))))
                  :sentinel (lambda (_p m)
                              (cond ((equal m bench-broken)
                                     (setq closed (1+ closed) last-progress (float-time))
                                     (when (and (not echo) (= closed count)) (setq done t)))
                                    ((string-prefix-p "accept failed" m)
                                     (setq accept-failed (1+ accept-failed)))))
                  :filter (lambda (proc s)
                            (when echo
                              (unless pp-t0 (setq pp-t0 (float-time) pp-cpu0 (bench-cpu)))
                              (bench-send proc s)
                              (setq echoed (+ echoed (length s)))
                              (when (and (>= echoed want) (not done))
                                (setq pp-wall (- (float-time) pp-t0) done t))))))
         (rss0 (bench-rss-kb))
         (start (float-time)))
    (bench-print-port server)
    ;; Also stop when nothing has happened for 15 s after the first accept (a server that
    ;; cannot take more descriptors).
    (while (and (not done) (< (- (float-time) start) bench-deadline)
                (not (and t0 (> (- (float-time) last-progress) 15))))
      (bench-wait 1))
    (let ((wall (- (float-time) (or t0 start))))
      (if echo
          (let* ((cpu1 (bench-cpu))
                 (pp-cpu (if pp-cpu0 (- (+ (car cpu1) (cdr cpu1)) (car pp-cpu0) (cdr pp-cpu0)) 0.0))
                 (rss-n (or rss-n (bench-rss-kb))))
            (bench-result "scale" wall cpu0
                          (format (concat "n=%d accepted=%d accept_failed=%d nofile=-1 rss0_kb=%d rssn_kb=%d "
                                          "mem_per_conn=%.1f rounds=%d pp_wall=%.6f pp_cpu=%.6f rate=%.0f")
                                  n-idle accepted accept-failed rss0 rss-n
                                  (/ (* 1024.0 (- rss-n rss0)) (max n-idle 1)) (/ echoed 64) pp-wall pp-cpu
                                  (if (> pp-wall 0) (/ (/ echoed 64) pp-wall) 0))))
        (bench-result "accept" wall cpu0
                      (format "count=%d accepted=%d closed=%d accept_failed=%d rate=%.0f"
                              count accepted closed accept-failed (/ closed wall)))))
    done))

(defun bench-udp (count)
  "W5: receive COUNT sequenced datagrams."
  (let* ((cpu0 (bench-cpu)) (seen (make-bool-vector count nil)) (distinct 0) (datagrams 0) (bad 0)
         (ended nil) (t-first nil) (t-last nil)
         (server (bench-make
                  :name "udp" :type 'datagram :server t :host "127.0.0.1" :service t :family 'ipv4
                  :coding 'binary
                  :filter (lambda (_p s)
                            (if (/= (length s) 64) (setq bad (1+ bad))
                              (let ((seq (+ (aref s 0) (ash (aref s 1) 8) (ash (aref s 2) 16)
                                            (ash (aref s 3) 24))))
                                (cond ((= seq #xFFFFFFFF) (setq ended t))
                                      ((>= seq count) (setq bad (1+ bad)))
                                      (t (let ((now (float-time)))
                                           (unless t-first (setq t-first now))
                                           (setq t-last now datagrams (1+ datagrams))
                                           (unless (aref seen seq)
                                             (aset seen seq t)
                                             (setq distinct (1+ distinct)))))))))))
         (start (float-time)))
    (bench-print-port server)
    (while (and (not ended) (< (- (float-time) start) bench-deadline)
                (or (not t-last) (< (- (float-time) t-last) 10)))
      (bench-wait 1))
    (let ((span (if t-first (- t-last t-first) 0)))
      (bench-result "udp" (- (float-time) start) cpu0
                    (format "count=%d received=%d distinct=%d bad=%d ended=%d loss_pct=%.4f rate=%.0f"
                            count datagrams distinct bad (if ended 1 0)
                            (/ (* 100.0 (- count distinct)) count)
                            (if (> span 0) (/ distinct span) 0))))
    (bench-delete server)
    t))

(defun bench-main (args)
  "Run the workload named by the first of ARGS; exit 0 when it completed."
  (let* ((w (car args)) (n (mapcar #'string-to-number (cdr args)))
         (ok (pcase w
               ("recv" (bench-recv (nth 0 n) (nth 1 n) (intern (nth 3 args))))
               ("pingpong" (bench-pingpong (nth 0 n) (nth 1 n)))
               ("accept" (bench-server nil (nth 0 n) 0 0))
               ("scale" (bench-server t 0 (nth 0 n) (nth 1 n)))
               ("udp" (bench-udp (nth 0 n)))
               (_ (message "usage: sut_emacs.el recv PORT BYTES CODING | pingpong PORT ROUNDS | accept COUNT | scale N ROUNDS | udp COUNT")
                  'usage))))
    (kill-emacs (cond ((eq ok 'usage) 2) (ok 0) (t 1)))))

(let ((args command-line-args-left))
  (setq command-line-args-left nil)
  (bench-main args))

;;; sut_emacs.el ends here

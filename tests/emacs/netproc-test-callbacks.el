;;; netproc-test-callbacks.el --- Errors and quits in callbacks; beyond Emacs  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Errors in filters and log functions (differential), a quit during a dispatch, and what
;; netproc does beyond Emacs: large sends that never freeze Emacs, and Emacs's own ceiling
;; near 1,024 descriptors.  The 10,000-connection test is in netproc-test-scale.el.

;;; Code:

(require 'netproc-test)
(require 'netproc-test-state)

;;;; Errors in callbacks

(np-deftest filter-error-others
  "An error in one process's filter does not stop the events of another process."
  (let* ((reports nil)
         (seen nil)
         (debug-on-error nil)
         (backtrace-on-error-noninteractive nil)
         (command-error-function (lambda (data context _caller) (push (list data context) reports)))
         (server (np-quiet-server "srv"))
         (port (np-port server))
         (a (np 'make-network-process :name "a" :host "127.0.0.1" :service port
                :filter (lambda (_p s) (push (list 'a s) seen) (error "Boom in a"))))
         (b (np 'make-network-process :name "b" :host "127.0.0.1" :service port
                :filter (lambda (_p s) (push (list 'b s) seen))))
         (peer-a (np-peer a))
         (peer-b (np-peer b)))
    ;; Both replies arrive together, so they are due in the same pump (netproc: the same
    ;; dispatch batch).
    (np 'process-send-string peer-a "to a\n")
    (np 'process-send-string peer-b "to b\n")
    (np-wait (lambda () (and reports (assq 'b seen))) 6)
    (np-note 'reports reports)
    (np-note 'seen (sort seen (lambda (x y) (string< (car x) (car y)))))
    (np-note 'alive (np 'process-status a) (np 'process-status b))))

(defun np-insert-open-from (transcript)
  "TRANSCRIPT with the accepted connection's \"open from\" sentinel after the log call."
  (let ((after-log (1+ (cl-position 'log transcript :key #'car))))
    (append (seq-take transcript after-log)
            '((server-sentinel (process "lsrv <127.0.0.1:PORT>") "open from 127.0.0.1\n"))
            (nthcdr after-log transcript))))

(np-deftest-difference log-error
  "An error in a log function propagates out of the pump in both (Emacs calls log
functions directly, not through the filter's error handler).  Emacs then abandons the
accept half-way, so the new connection's \"open from\" sentinel never runs; netproc
delivers the rest of the batch first (no event is lost) and raises the error after."
  #'np-insert-open-from
  (let* ((server (np 'make-network-process
                     :name "lsrv" :server t :host "127.0.0.1" :service t :family 'ipv4
                     :log (lambda (_s _c m) (np-note 'log m) (error "Log boom"))
                     :sentinel (lambda (p m) (np-note 'server-sentinel p m))
                     :filter (lambda (p s) (np-note 'server-filter p s)
                               (np 'process-send-string p (upcase s)))))
         (client (np-client "cli" (np-port server))))
    (np-note 'pump (np-error (lambda () (np-wait (lambda () nil) 1))))
    (np-note 'client (np 'process-status client))
    ;; The connection was accepted all the same, and works.
    (np 'process-send-string client "after\n")
    (np-wait (lambda () (np-seen 'filter "AFTER")))
    (np-note 'accepted (mapcar (lambda (p) (list (np 'process-name p) (np 'process-status p)))
                               (np-list)))))

(np-deftest sentinel-error
  "An error in a sentinel is reported through command-error-function; the process goes on."
  (let* ((reports nil)
         (debug-on-error nil)
         (backtrace-on-error-noninteractive nil)
         (command-error-function (lambda (data context _caller) (push (list data context) reports)))
         (server (np 'make-network-process
                     :name "ssrv" :server t :host "127.0.0.1" :service t :family 'ipv4
                     :sentinel (lambda (_p m) (np-note 'sentinel m) (error "Sentinel boom"))
                     :filter (lambda (p s) (np 'process-send-string p (upcase s)))))
         (client (np-client "cli" (np-port server))))
    (np-wait (lambda () reports) 6)
    (np-note 'reports reports)
    (np 'process-send-string client "still\n")
    (np-wait (lambda () (np-seen 'filter "STILL")))))

;;;; A quit during a dispatch

(ert-deftest netproc-quit-during-dispatch ()
  "A quit (C-g) that arrives while a filter runs is honoured when the filter returns; the
other events of that dispatch are delivered afterwards, none lost."
  (let* ((np--twins t)
         (got nil)
         (server (np-quiet-server "srv"))
         (port (np-port server))
         (filter (lambda (p s)
                   (push (cons (netproc-process-name p) s) got)
                   ;; What C-g does: Emacs sets quit-flag; inhibit-quit defers it.
                   (when (= (length got) 1) (setq quit-flag t))))
         (a (netproc-make-network-process :name "a" :host "127.0.0.1" :service port
                                          :filter filter))
         (b (netproc-make-network-process :name "b" :host "127.0.0.1" :service port
                                          :filter filter))
         (peer-a (np-peer a))
         (peer-b (np-peer b)))
    (unwind-protect
        (progn
          (netproc-process-send-string peer-a "to a\n")
          (netproc-process-send-string peer-b "to b\n")
          ;; Wait without pumping, so that both replies are due in one dispatch.
          (call-process "sleep" nil nil nil "0.2")
          (should (eq (condition-case nil
                          (progn (netproc--run-dispatch)
                                 (np-wait (lambda () (= (length got) 2)) 2)
                                 'no-quit)
                        (quit 'quit))
                      'quit))
          (should (= (length got) 1))
          (np-wait (lambda () (= (length got) 2)) 2)
          (should (equal (sort (mapcar #'cdr got) #'string<) '("to a\n" "to b\n"))))
      (setq quit-flag nil)
      (dolist (p (netproc-process-list)) (netproc-delete-process p)))))

;;;; Beyond Emacs: sends never freeze Emacs

(ert-deftest netproc-beyond-send-to-slow-peer ()
  "A 16 MiB netproc-process-send-string to a peer that does not read returns at once;
Emacs's timers keep running while it waits; every byte arrives once the peer reads.
\(Emacs's process-send-string would not return until the peer had read it all.)"
  (let* ((np--twins t)
         (ticks 0)
         (timer (run-at-time 0.02 0.02 (lambda () (setq ticks (1+ ticks)))))
         (size (* 16 1024 1024))
         (received 0)
         (server (netproc-make-network-process :name "slow" :server t :host "127.0.0.1"
                                               :service t :filter t))
         (client (netproc-make-network-process
                  :name "writer" :host "127.0.0.1"
                  :service (cadr (netproc-process-contact server)) :coding 'binary))
         (peer (np-peer client))
         (start (float-time)))
    (unwind-protect
        (progn
          (netproc-process-send-string client (make-string size ?y))
          (should (< (- (float-time) start) 1))
          (should (> (netproc--output-pending client) 0))
          (np-settle 0.3)
          (should (>= ticks 5))
          (should (> (netproc--output-pending client) 0))
          ;; The peer starts reading: everything arrives.
          (netproc-set-process-filter peer (lambda (_p s) (setq received (+ received (length s)))))
          (np-wait (lambda () (>= received size)) 30)
          (should (= received size))
          (should (= (netproc--output-pending client) 0)))
      (cancel-timer timer)
      (dolist (p (netproc-process-list)) (netproc-delete-process p)))))

;;;; Emacs's own ceiling

(ert-deftest netproc-builtin-stops-near-1024 ()
  "Emacs's own make-network-process fails with file-error \"Too many open files\" before
descriptor 1024 (FD_SETSIZE), even with a higher open-file limit."
  (netproc-raise-open-file-limit)
  (let* ((server (make-network-process :name "ceiling" :server 2048 :host "127.0.0.1"
                                       :service t :family 'ipv4 :stop t :noquery t))
         (port (cadr (process-contact server)))
         (clients nil)
         (failure nil))
    (unwind-protect
        (progn
          (while (and (not failure) (< (length clients) 2000))
            (condition-case err
                (push (make-network-process :name "c" :host "127.0.0.1" :service port
                                            :noquery t :sentinel #'ignore)
                      clients)
              (file-error (setq failure err))))
          (should failure)
          (should (equal (seq-take failure 3)
                         '(file-error "make client process failed" "Too many open files")))
          (should (< 900 (length clients) 1024)))
      (dolist (p clients) (delete-process p))
      (delete-process server))))

(provide 'netproc-test-callbacks)
;;; netproc-test-callbacks.el ends here

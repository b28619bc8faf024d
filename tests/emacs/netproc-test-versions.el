;;; netproc-test-versions.el --- The twins follow the Emacs they run in  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; What Emacs 29 and 30 changed in their own primitives, checked against the running
;; Emacs (c-tests/ert.sh runs these in 28.2, c-tests/ert30.sh in 30.1): the twins take
;; the arguments the primitives take and exist where they exist; the advice of
;; `netproc-mode' takes every argument list the primitive does; and what the changed
;; primitives answer for a network process, the routed names answer for a netproc one.
;; The changed messages are in the differential scenarios (`errors', `lookup', `nowait',
;; `tls-stream'); the rules themselves are in lisp/netproc-versions.el.

;;; Code:

(require 'netproc-test)
(require 'netproc-test-mode)

(defconst np-versions-twinned
  '(make-network-process delete-process process-status process-live-p process-exit-status
    process-name process-buffer process-filter process-sentinel process-plist
    process-coding-system process-filter-multibyte-p process-datagram-address
    process-query-on-exit-flag set-process-query-on-exit-flag set-process-filter
    set-process-sentinel set-process-coding-system set-process-filter-multibyte
    set-process-datagram-address set-network-process-option format-network-address
    network-interface-list network-interface-info network-lookup-address-info process-list
    set-process-buffer set-process-plist process-get process-put process-mark
    process-contact process-type get-process process-send-string process-send-region
    process-send-eof stop-process continue-process accept-process-output)
  "Emacs's primitives (and process-get/put) that have a `netproc-' twin.")

(ert-deftest netproc-twins-follow-this-emacs ()
  "A twin exists where this Emacs has its primitive, and takes the same arguments.
Emacs 29 removed `process-filter-multibyte-p' and `set-process-filter-multibyte'
and gave `network-lookup-address-info' a HINTS argument."
  (let (wrong)
    (dolist (primitive np-versions-twinned)
      (let ((twin (intern (format "netproc-%s" primitive))))
        (cond ((not (fboundp primitive))
               (when (fboundp twin) (push (list twin 'exists) wrong)))
              ((not (fboundp twin)) (push (list twin 'missing) wrong))
              ;; Emacs 28's `delete-process' needs its argument; the twin, as Emacs 29's,
              ;; defaults to the current buffer's process (docs/DIFFERENCES.md).
              ((and (eq primitive 'delete-process) (< emacs-major-version 29)))
              ((not (equal (func-arity primitive) (func-arity twin)))
               (push (list twin (func-arity twin) primitive (func-arity primitive)) wrong)))))
    (should-not wrong)))

(ert-deftest netproc-mode-advice-takes-every-argument-list ()
  "The advice of each routed primitive takes every argument list the primitive takes
in this Emacs (Emacs 29: `process-tty-name''s STREAM, `signal-process''s REMOTE, and
`delete-process' with none), so that nothing the primitive accepts fails in the mode."
  (let (wrong)
    (dolist (entry (netproc-mode--advice))
      (let ((primitive (func-arity (car entry)))
            (advice (func-arity (cdr entry))))
        ;; The advice gets the primitive first, then the primitive's arguments.
        (unless (and (<= (car advice) (1+ (car primitive)))
                     (or (eq (cdr advice) 'many)
                         (and (numberp (cdr primitive)) (>= (cdr advice) (1+ (cdr primitive))))))
          (push (list (car entry) primitive (cdr entry) advice) wrong))))
    (should-not wrong)))

(defun np-versions-messages-since (start)
  "The lines *Messages* got since its size was START."
  (with-current-buffer (messages-buffer)
    (split-string (buffer-substring-no-properties (1+ start) (point-max)) "\n" t)))

(defun np-versions-in-process-buffer (thunk)
  "Call THUNK with a client process of a fresh server, in the client's buffer.
Made with Emacs's names: under `netproc-mode', netproc's.  THUNK's value (as by
`np-error', a wrong number of arguments without its data, which names the
function as it was called), the client's status and the messages THUNK showed."
  (let* ((server (make-network-process :name "np-versions-srv" :server t :host "127.0.0.1"
                                       :service t :family 'ipv4 :noquery t))
         (buffer (generate-new-buffer " np-versions"))
         (client (make-network-process :name "np-versions-cli" :buffer buffer :noquery t
                                       :host "127.0.0.1" :family 'ipv4
                                       :service (process-contact server :service)))
         (start (with-current-buffer (messages-buffer) (buffer-size))))
    (unwind-protect
        (with-current-buffer buffer
          (let ((value (np-error (lambda () (funcall thunk client)))))
            (when (eq (cadr value) 'wrong-number-of-arguments)
              (setq value (list 'error 'wrong-number-of-arguments)))
            (list value (process-status client) (np-versions-messages-since start))))
      (dolist (process (list client server))
        (set-process-sentinel process #'ignore)
        (delete-process process))
      (kill-buffer buffer))))

(defun np-versions-routed-same (thunk)
  "THUNK's `np-versions-in-process-buffer' answer under the mode.
Its value and status must be the built-in's, mode off.  Not its messages: in
batch, Emacs's C code writes its own messages to stderr only, not *Messages*."
  (let ((builtin (np-mode-with nil (np-versions-in-process-buffer thunk)))
        (routed (np-mode-with t (np-versions-in-process-buffer thunk))))
    (should (equal (seq-take builtin 2) (seq-take routed 2)))
    routed))

(ert-deftest netproc-mode-process-tty-name-streams ()
  "`process-tty-name' of a netproc process under the mode, with Emacs 29's STREAM: nil
for every stream, an error for another symbol, as for Emacs's network process."
  (should (equal (np-versions-routed-same #'process-tty-name) '((returned nil) open nil)))
  (if (< emacs-major-version 29)
      (should (equal (np-versions-routed-same (lambda (p) (process-tty-name p 'stdin)))
                     '((error wrong-number-of-arguments) open nil)))
    (dolist (stream '(nil stdin stdout stderr))
      (should (equal (np-versions-routed-same (lambda (p) (process-tty-name p stream)))
                     '((returned nil) open nil))))
    (should (equal (car (np-versions-routed-same (lambda (p) (process-tty-name p 'bogus))))
                   '(error error "Unknown stream" bogus)))))

(ert-deftest netproc-mode-delete-process-command ()
  "`delete-process' under the mode: with no argument, and interactively where it is a
command (Emacs 29), the current buffer's netproc process goes, as Emacs's would."
  (should (equal (np-versions-routed-same (lambda (_p) (delete-process)))
                 (if (< emacs-major-version 29)
                     '((error wrong-number-of-arguments) open nil)
                   '((returned nil) closed nil))))
  (when (commandp 'delete-process)
    (should (equal (np-versions-routed-same
                    (lambda (_p) (call-interactively #'delete-process)))
                   '((returned nil) closed ("Deleted process"))))))

(ert-deftest netproc-mode-signal-process-remote ()
  "`signal-process' of a netproc process under the mode, with Emacs 29's REMOTE
argument where it has one: the same error as for Emacs's network process."
  (let* ((remote (= (cdr (func-arity (netproc-mode--builtin 'signal-process))) 3))
         (answer (np-versions-routed-same
                  (lambda (p) (if remote
                                  (signal-process p 'SIGCONT nil)
                                (signal-process p 'SIGCONT))))))
    (should (equal (car answer) '(error error "Cannot signal process np-versions-cli")))))

(ert-deftest netproc-callback-error-pause ()
  "After a filter's error the twins pause as this Emacs does: 2 seconds in Emacs 28,
`process-error-pause-time' seconds in Emacs 29 (none when it is 0)."
  (let* ((slept nil)
         (reports 0)
         (debug-on-error nil)
         (backtrace-on-error-noninteractive nil)
         (command-error-function (lambda (&rest _) (setq reports (1+ reports))))
         (server (netproc-make-network-process
                  :name "np-pause-srv" :server t :host "127.0.0.1" :service t :family 'ipv4
                  :filter (lambda (p s) (netproc-process-send-string p s))))
         (client (netproc-make-network-process
                  :name "np-pause-cli" :host "127.0.0.1"
                  :service (cadr (netproc-process-contact server))
                  :filter (lambda (_p _s) (error "Boom")))))
    (unwind-protect
        (cl-letf (((symbol-function 'sleep-for) (lambda (seconds &rest _) (push seconds slept))))
          (dolist (pause (if (boundp 'process-error-pause-time) '(3 0) '(nil)))
            (let ((process-error-pause-time pause)
                  (before reports))
              (netproc-process-send-string client "x")
              (np-wait (lambda () (> reports before)))
              (should (= reports (1+ before)))))
          (should (equal (reverse slept) (if (boundp 'process-error-pause-time) '(3) '(2)))))
      (dolist (process (netproc-process-list))
        (netproc-set-process-sentinel process #'ignore)
        (netproc-delete-process process)))))

(provide 'netproc-test-versions)
;;; netproc-test-versions.el ends here

;;; netproc-test-conformance.el --- Return values and argument checks packages rely on  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Issue 14, item 3: what the twins return and signal where packages look, compared with
;; the built-ins (the transcripts must be equal).

;;; Code:

(require 'netproc-test)

(np-deftest setter-returns-and-wait-arguments
  "`set-process-filter' and `set-process-sentinel' with nil return the default function
they install; `accept-process-output' signals for a timeout that is not a number, and
for an obsolete MILLISEC that is not a fixnum."
  (let* ((server (np-echo-server "srv"))
         (client (np-client "a" (np-port server))))
    (np-note 'filter-nil (np 'set-process-filter client nil))
    (np-note 'sentinel-nil (np 'set-process-sentinel client nil))
    (np-note 'filter-t (np 'set-process-filter client t))
    (np-note 'filter (np 'process-filter client))
    (np-note 'seconds (np-error (lambda () (np 'accept-process-output client "x"))))
    (np-note 'seconds-nil-process (np-error (lambda () (np 'accept-process-output nil 'foo))))
    (np-note 'millisec (np-error (lambda () (np 'accept-process-output nil 1 0.5))))
    (np-note 'seconds-beside-millisec (np-error (lambda () (np 'accept-process-output nil 0.5 10))))))

(np-deftest just-this-one
  "With PROCESS and JUST-THIS-ONE, only PROCESS's output is read: the server's side of
both connections waits, so nothing comes back in time; the rest runs at the next pump, in
order."
  (let* ((server (np-echo-server "srv"))
         (a (np-client "a" (np-port server)))
         (b (np-client "b" (np-port server))))
    (np-settle 0.2)
    (np 'process-send-string a "to-a")
    (np 'process-send-string b "to-b")
    (np-note 'wait-a (np 'accept-process-output a 0.3 nil t))
    (np-note 'wait-a-int (np 'accept-process-output a 0.1 nil 1))
    (np-note 'then)
    (np-settle 0.3)))

;;;; With debug-on-error, the debugger sees the callback's frames

(defun np-debug-failing-filter (_process _string)
  "A filter that fails, for the debugger to find in the backtrace."
  (error "Filter failed on purpose"))

(defun np-debug-failing-sentinel (_process _message)
  "A sentinel that fails, for the debugger to find in the backtrace."
  (error "Sentinel failed on purpose"))

(defun np-debugger-sees (callback thunk)
  "Run THUNK with `debug-on-error' set and a debugger that looks for CALLBACK's frame.
Return (FRAME-SEEN ERROR-MESSAGE): whether the debugger, when it first ran, had
CALLBACK on the stack, and the message of the error THUNK signalled."
  (let* ((seen 'not-entered)
         (debug-on-error t)
         (debugger (lambda (&rest _)
                     (when (eq seen 'not-entered)
                       (setq seen (and (cl-find callback (backtrace-frames) :key #'cadr) t)))
                     nil))
         (message
          (progn
            ;; Emacs enters the debugger once per input event (eval.c's
            ;; when_entered_debugger); in batch there are none, so count one, as ERT does.
            (cl-incf num-nonmacro-input-events)
            (condition-case err (progn (funcall thunk) nil)
              ((debug error) (error-message-string err))))))
    (list seen message)))

(np-deftest debugger-sees-callback-frames
  "With `debug-on-error', an error in a filter or sentinel enters the debugger where it
is signalled, with the callback's own frame in the backtrace: Emacs runs callbacks with
no handler then (src/process.c, read_process_output and exec_sentinel)."
  (let* ((server (np-echo-server "srv"))
         (client (np-client "a" (np-port server))))
    (np 'set-process-filter client #'np-debug-failing-filter)
    (np 'process-send-string client "echo me")
    (np-note 'filter (np-debugger-sees 'np-debug-failing-filter
                                       (lambda () (np-wait (lambda () nil) 1))))
    (np 'set-process-filter client #'ignore)
    (np 'set-process-sentinel client #'np-debug-failing-sentinel)
    (np-note 'sentinel (np-debugger-sees 'np-debug-failing-sentinel
                                         (lambda () (np 'delete-process client))))))

(provide 'netproc-test-conformance)
;;; netproc-test-conformance.el ends here

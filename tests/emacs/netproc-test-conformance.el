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

(provide 'netproc-test-conformance)
;;; netproc-test-conformance.el ends here

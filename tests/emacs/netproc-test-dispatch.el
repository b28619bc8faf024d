;;; netproc-test-dispatch.el --- How the module runs callbacks  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; ERT runs every test with `debug-on-error' bound to t, and with it set the module runs
;; callbacks through `netproc--call' in Lisp (so the debugger sees errors where they
;; happen).  These tests bind it to nil, so that callbacks are called directly from the
;; module, the way they are in normal use: the scenarios of the other files must give
;; the same transcripts that way, and what Emacs restores after a callback (the current
;; buffer, the match data) is restored.

;;; Code:

(require 'netproc-test)
(require 'netproc-test-state)
(require 'netproc-test-net)

(ert-deftest netproc-direct-calls-scenarios ()
  "Scenarios run with `debug-on-error' nil (direct calls from the module) give the
built-in's transcripts."
  (let ((debug-on-error nil))
    (dolist (scenario '(np-scenario-echo np-scenario-default-buffers
                        np-scenario-accepted-buffers np-scenario-coding np-scenario-datagram
                        np-scenario-accept-output np-scenario-stop-continue
                        np-scenario-send-eof np-scenario-live-exit np-scenario-nowait))
      (let ((builtin (np-run scenario nil))
            (twin (np-run scenario t)))
        (should builtin)
        (should (equal (list scenario builtin) (list scenario twin)))))))

(np-deftest callback-restores
  "After a filter and a sentinel that search and switch buffers, the interrupted code
finds its own buffer and match data again (Emacs's restore_search_regs and
save-current-buffer); run with `debug-on-error' nil in `netproc-direct-calls-restore'."
  (let* ((other (get-buffer-create " np-other"))
         (server (np-quiet-server "srv"))
         (client (np 'make-network-process
                     :name "cli" :host "127.0.0.1" :service (np-port server)
                     :filter (lambda (_p s)
                               (set-buffer other)
                               (string-match "\\(I\\)N" s)
                               (np-note 'filter s (match-beginning 1)))
                     :sentinel (lambda (_p m)
                                 (set-buffer other)
                                 (string-match "de\\(leted\\)" m)
                                 (np-note 'sentinel m (match-beginning 1))))))
    (unwind-protect
        (with-temp-buffer
          (let ((mine (current-buffer)))
            (string-match "b\\(c\\)" "abcd")
            (np 'process-send-string client "in\n")
            (np-wait (lambda () (np-seen 'filter)))
            (np-note 'after-filter (eq (current-buffer) mine) (match-beginning 1))
            (np 'delete-process client)
            (np-note 'after-sentinel (eq (current-buffer) mine) (match-beginning 1))))
      (kill-buffer other))))

(ert-deftest netproc-direct-calls-restore ()
  "`callback-restores' with direct calls from the module."
  (let ((debug-on-error nil))
    (let ((builtin (np-run #'np-scenario-callback-restores nil))
          (twin (np-run #'np-scenario-callback-restores t)))
      (should (equal builtin '((filter "IN\n" 0) (after-filter t 2)
                               (sentinel "deleted\n" 2) (after-sentinel t 2))))
      (should (equal builtin twin)))))

(provide 'netproc-test-dispatch)
;;; netproc-test-dispatch.el ends here

;;; netproc-test-coding-selection.el --- Which coding systems a new process gets  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Without a non-nil :coding, a network process's coding systems come from
;; `coding-system-for-read'/`-write', then a unibyte buffer (no decoding), then
;; `network-coding-system-alist', then `default-process-coding-system', as Emacs's
;; set_network_socket_coding_system (src/process.c) chooses them.  The built-ins and the
;; twins must agree (issue 14).

;;; Code:

(require 'netproc-test)

(np-deftest coding-selection
  "Each rule of Emacs's choice of a network process's coding systems, in order."
  (let* ((server (np-echo-server "srv" :coding 'utf-8))
         (port (np-port server)))
    ;; coding-system-for-read bound to binary: the reply arrives as undecoded bytes.
    (let ((coding-system-for-read 'binary))
      (let ((client (np-client "a" port)))
        (np-note 'a (np 'process-coding-system client))
        (np 'process-send-string client (encode-coding-string "é\n" 'utf-8))
        (np-wait (lambda () (assq 'filter np--transcript)))))
    (np-note 'b (np 'process-coding-system (np-client "b" port :coding 'utf-8)))
    ;; :coding nil is no :coding at all (not what the last create left behind).
    (np-note 'c (np 'process-coding-system (np-client "c" port :coding nil)))
    (let ((network-coding-system-alist (list (cons port 'latin-1))))
      (np-note 'd (np 'process-coding-system (np-client "d" port))))
    (let ((unibyte (generate-new-buffer "np-unibyte")))
      (with-current-buffer unibyte (set-buffer-multibyte nil))
      (np-note 'e (np 'process-coding-system (np-client "e" port :buffer unibyte :noquery t)))
      (let ((kill-buffer-query-functions nil)) (kill-buffer unibyte)))
    (with-temp-buffer
      (set-buffer-multibyte nil)
      (np-note 'f (np 'process-coding-system (np-client "f" port))))
    (let ((default-process-coding-system '(latin-1 . utf-16le)))
      (np-note 'g (np 'process-coding-system (np-client "g" port))))))

(provide 'netproc-test-coding-selection)
;;; netproc-test-coding-selection.el ends here

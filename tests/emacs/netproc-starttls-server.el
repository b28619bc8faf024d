;;; netproc-starttls-server.el --- A STARTTLS line server for the TLS tests  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Run in a child `emacs --batch' by tests/emacs/netproc-test-tls.el, so that the Emacs
;; under test can block in GnuTLS's handshake (its built-in `gnutls-negotiate' does)
;; while this one answers.  A netproc server, upgrading each connection from inside its
;; filter with `netproc-gnutls-negotiate' (the server side, which cannot wait there).
;; The protocol, lines ending in CRLF:
;;
;;   on connect      220 ready
;;   CAPA            250 STARTTLS        (250 TLS once upgraded)
;;   STARTTLS        220 OK go ahead     (in the clear), then TLS
;;   ECHO TEXT       250 TEXT
;;   anything else   500 what

;;; Code:

(require 'netproc)

(defvar np-starttls--keylist nil "((KEY-FILE CERT-FILE)) of the server's certificate.")

(defun np-starttls--line (process line)
  "Answer LINE from PROCESS."
  (let ((upgraded (netproc-process-get process 'upgraded)))
    (cond ((string= line "CAPA")
           (netproc-process-send-string process (if upgraded "250 TLS\r\n" "250 STARTTLS\r\n")))
          ((and (string= line "STARTTLS") (not upgraded))
           (netproc-process-send-string process "220 OK go ahead\r\n")
           (netproc-process-put process 'upgraded t)
           (netproc-gnutls-negotiate :process process :keylist np-starttls--keylist))
          ((string-prefix-p "ECHO " line)
           (netproc-process-send-string process (format "250 %s\r\n" (substring line 5))))
          (t (netproc-process-send-string process "500 what\r\n")))))

(defun np-starttls--filter (process string)
  "Split what PROCESS sent into lines and answer each."
  (let ((pending (concat (or (netproc-process-get process 'pending) "") string)))
    (while (string-match "\r?\n" pending)
      (let ((line (substring pending 0 (match-beginning 0))))
        (setq pending (substring pending (match-end 0)))
        (np-starttls--line process line)))
    (netproc-process-put process 'pending pending)))

(defun np-starttls-serve (cert key)
  "Serve the protocol above with CERT and KEY on a loopback port, printing
\"PORT N\" first, until killed."
  (setq np-starttls--keylist (list (list key cert)))
  (let ((server (netproc-make-network-process
                 :name "starttls" :server t :host "127.0.0.1" :service t :family 'ipv4
                 :coding 'binary :filter #'np-starttls--filter :sentinel #'ignore
                 :log (lambda (_server client _message)
                        (netproc-process-send-string client "220 ready\r\n")))))
    ;; On stderr, which batch Emacs does not buffer.
    (message "PORT %d" (cadr (netproc-process-contact server)))
    (while t (netproc-accept-process-output nil 1))))

(provide 'netproc-starttls-server)
;;; netproc-starttls-server.el ends here

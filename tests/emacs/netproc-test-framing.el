;;; netproc-test-framing.el --- :framing through the twins: whole messages  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; `:framing' is netproc's own (docs/DIFFERENCES.md, "Extensions"), so these tests run on
;; the twins alone; the peer is Emacs's own `make-network-process', sending each message
;; in pieces a few bytes long, so that every read ends inside a header or a body.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'netproc)
(require 'netproc-mode)

(defun np-framing--wait (predicate &optional seconds)
  "Pump until PREDICATE is non-nil or SECONDS (default 10) pass; its value."
  (let ((deadline (+ (float-time) (or seconds 10))) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (netproc-accept-process-output nil 0.02))
    value))

(defun np-framing--peer (pieces)
  "An Emacs server on loopback that sends PIECES, one send each, to its first client.
Returns (SERVER . PORT)."
  (let ((server (make-network-process
                 :name "framing-peer" :server t :host "127.0.0.1" :service t :family 'ipv4
                 :coding 'binary
                 :log (lambda (_server client _message)
                        (dolist (piece pieces)
                          (process-send-string client piece))))))
    (cons server (process-contact server :service))))

(defun np-framing--pieces (bytes size)
  "BYTES (a unibyte string) cut into pieces of SIZE bytes."
  (cl-loop for start from 0 below (length bytes) by size
           collect (substring bytes start (min (length bytes) (+ start size)))))

(defun np-framing--lsp (body)
  "BODY (text) as an LSP message, encoded in UTF-8."
  (let ((bytes (encode-coding-string body 'utf-8)))
    (concat (format "Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
                    (length bytes))
            bytes)))

(defmacro np-framing--with-peer (binding pieces &rest body)
  "Run BODY with BINDING (a symbol) bound to the port of a peer sending PIECES."
  (declare (indent 2))
  (let ((peer (make-symbol "peer")))
    `(let* ((,peer (np-framing--peer ,pieces))
            (,binding (cdr ,peer)))
       (unwind-protect (progn ,@body)
         (dolist (process (netproc-process-list))
           (netproc-set-process-sentinel process #'ignore)
           (netproc-delete-process process))
         (delete-process (car ,peer))))))

(ert-deftest netproc-framing-content-length-messages-arrive-whole ()
  "LSP messages sent 3 bytes at a time reach the filter one whole message per call,
decoded as the process decodes (utf-8: multibyte strings), after a log line that comes
before the first header and is skipped."
  (let* ((bodies (cl-loop for i below 200
                          collect (format "{\"id\":%d,\"text\":\"été %s\"}" i (make-string (% (* i 37) 90) ?x))))
         (stream (apply #'concat "starting up\n" (mapcar #'np-framing--lsp bodies)))
         (received nil))
    (np-framing--with-peer port (np-framing--pieces stream 3)
      (let ((process (netproc-make-network-process
                      :name "lsp" :host "127.0.0.1" :service port
                      :coding 'utf-8 :framing 'content-length
                      :filter (lambda (_process message) (push message received)))))
        (np-framing--wait (lambda () (>= (length received) (length bodies))))
        (netproc-accept-process-output nil 0.1)
        (should (equal (reverse received) bodies))
        (should (cl-every #'multibyte-string-p received))
        (should (eq (netproc-process-contact process :framing) 'content-length))))))

(ert-deftest netproc-framing-lines-from-a-server-and-a-switch-in-the-filter ()
  "A framed server's connections are framed too.  Lines (LF or CR LF) arrive one per
call; the filter then switches to content-length with `set-network-process-option', and
what was already read is framed the new way; at the close, the bytes of a last
incomplete message still reach the filter, as read, before the sentinel."
  (let* ((calls nil)
         (server (netproc-make-network-process
                  :name "lines" :server t :host "127.0.0.1" :service t :family 'ipv4
                  :framing 'line
                  :filter (lambda (process message)
                            (push message calls)
                            (when (equal message "switch")
                              (netproc-set-network-process-option process :framing 'content-length)))
                  :sentinel (lambda (_process event) (push (list 'sentinel event) calls))))
         (client (make-network-process
                  :name "writer" :host "127.0.0.1" :service (netproc-process-contact server :service)
                  :coding 'binary)))
    (unwind-protect
        (progn
          (dolist (piece (np-framing--pieces
                          "one\r\ntwo\n\nswitch\nContent-Length: 5\r\n\r\nfiveeContent-Length: 20\r\n\r\ncut short" 2))
            (process-send-string client piece))
          (process-send-eof client)
          (np-framing--wait (lambda () (assq 'sentinel calls)))
          (should (equal (reverse calls)
                         '((sentinel "open from 127.0.0.1\n")
                           "one" "two" "" "switch" "fivee" "Content-Length: 20\r\n\r\ncut short"
                           (sentinel "connection broken by remote peer\n")))))
      (delete-process client)
      (dolist (process (netproc-process-list))
        (netproc-set-process-sentinel process #'ignore)
        (netproc-delete-process process)))))

(ert-deftest netproc-framing-message-over-the-maximum-fails-the-process ()
  "A message longer than :framing-max fails the process: the messages before it are
delivered, then its sentinel says why, and nothing after it is delivered."
  (let ((received nil) (events nil))
    (np-framing--with-peer port (np-framing--pieces
                                 (concat (np-framing--lsp "small")
                                         (np-framing--lsp "this is eleven")
                                         (np-framing--lsp "late"))
                                 7)
      (let ((process (netproc-make-network-process
                      :name "bounded" :host "127.0.0.1" :service port
                      :framing 'content-length :framing-max 10
                      :filter (lambda (_process message) (push message received))
                      :sentinel (lambda (_process event) (push event events)))))
        (np-framing--wait (lambda () events))
        (netproc-accept-process-output nil 0.1)
        (should (equal received '("small")))
        (should (equal events '("failed with code message too large: 14 bytes, :framing-max is 10\n")))
        (should (eq (netproc-process-status process) 'failed))
        (should (equal (netproc-process-exit-status process)
                       "message too large: 14 bytes, :framing-max is 10"))))))

(ert-deftest netproc-framing-values-are-checked ()
  "Bad values and datagram processes are refused, as errors of the create call."
  (should (equal (condition-case err
                     (netproc-make-network-process :name "x" :server t :service t :framing 'json)
                   (error err))
                 '(error "Bad option value for :framing" json)))
  (should (equal (condition-case err
                     (netproc-make-network-process :name "x" :server t :service t :type 'datagram
                                                   :framing '(length-prefix 4))
                   (error err))
                 '(error "‘:framing’ is incompatible with ‘:type datagram’")))
  (should (equal (condition-case err
                     (netproc-make-network-process :name "x" :server t :service t :framing-max -1)
                   (error err))
                 '(wrong-type-argument natnump -1)))
  (should-not (netproc-get-process "x")))

(ert-deftest netproc-framing-under-netproc-mode ()
  "`netproc-featurep' knows `:framing'; while `netproc-mode' is on, so does `featurep' of
`make-network-process' (it makes netproc processes), and Emacs's own name takes the
keyword; turned off, Emacs's subfeatures are as they were."
  (let ((emacs-subfeatures (get 'make-network-process 'subfeatures))
        (was netproc-mode)
        (lines nil))
    (should-not (featurep 'make-network-process '(:framing line)))
    (should (netproc-featurep '(:framing content-length)))
    (should (netproc-featurep :framing-max))
    (should-not (netproc-featurep '(:framing json)))
    (unwind-protect
        (progn
          (netproc-mode 1)
          (dolist (framing '(line content-length length-prefix))
            (should (featurep 'make-network-process (list :framing framing))))
          (should (featurep 'make-network-process :framing-max))
          (should (featurep 'make-network-process '(:nowait t)))
          (let* ((server (make-network-process
                          :name "mode-lines" :server t :host "127.0.0.1" :service t :family 'ipv4
                          :framing 'line :filter (lambda (_process line) (push line lines))))
                 (client (make-network-process :name "mode-writer" :host "127.0.0.1"
                                               :service (process-contact server :service))))
            (should (netproc-processp server))
            (process-send-string client "a\r\nb")
            (process-send-string client "c\n")
            (np-framing--wait (lambda () (= (length lines) 2)))
            (should (equal (reverse lines) '("a" "bc")))
            (delete-process client)))
      (dolist (process (netproc-process-list))
        (netproc-set-process-sentinel process #'ignore)
        (netproc-delete-process process))
      (netproc-mode (if was 1 -1)))
    (unless was
      (should (eq (get 'make-network-process 'subfeatures) emacs-subfeatures))
      (should-not (featurep 'make-network-process '(:framing line))))))

(provide 'netproc-test-framing)

;;; netproc-test-framing.el ends here

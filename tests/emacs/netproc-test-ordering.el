;;; netproc-test-ordering.el --- Differential tests: one ordered stream per process  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; What a peer sends before it closes reaches the filter while the process is still open;
;; a stopped process holds the rest of its stream, its close included; a held datagram
;; keeps its own sender; a process deleted during its :nowait connect never connects.
;; Each scenario runs on the built-ins and on the twins, and the transcripts must agree.

;;; Code:

(require 'netproc-test)
(require 'netproc-test-state)

(defvar np--ordering-clients nil
  "The datagram clients of `stopped-datagram-server-senders': (NAME . LOCAL-ADDRESS).")

(np-deftest half-close-reply
  "A client sends a request and shuts down its writing side at once (as `nc -N' does):
the server's filter runs while the connection is open, its reply reaches the client,
and only then does the close follow."
  (let* ((server (np 'make-network-process
                     :name "srv" :server t :host "127.0.0.1" :service t :family 'ipv4
                     :filter (lambda (process string)
                               (np-note 'server-filter string (np 'process-status process))
                               (np-note 'send (np-error (lambda ()
                                                          (np 'process-send-string process
                                                              (concat "reply to " string))))))
                     :sentinel (lambda (_process message) (np-note 'server-sentinel message))))
         (reply "")
         ;; The client is Emacs's own in both runs: only the server is under test.
         (client (make-network-process
                  :name "cli" :host "127.0.0.1" :service (np-port server)
                  :filter (lambda (_process string) (setq reply (concat reply string)))
                  :sentinel (lambda (_process message) (np-note 'client-sentinel message)))))
    (process-send-string client "GET /\n")
    (process-send-eof client)
    (np-wait (lambda () (and (np-seen 'client-sentinel) (np-seen 'server-sentinel))))
    (np-note 'reply reply)
    (delete-process client)))

(np-deftest stop-holds-the-close
  "A filter stops its own process while the peer has already sent everything and
closed: nothing more arrives while it is stopped, not even the close; after
continue-process every byte arrives, then the closing sentinel."
  (let* ((payload (make-string 300000 ?x))
         (server (np 'make-network-process
                     :name "srv" :server t :host "127.0.0.1" :service t :family 'ipv4
                     :sentinel (lambda (process message)
                                 (when (string-prefix-p "open" message)
                                   (np 'process-send-string process payload)
                                   (np 'process-send-eof process)))))
         (received 0)
         (calls 0)
         (client (np 'make-network-process
                     :name "cli" :host "127.0.0.1" :service (np-port server) :coding 'binary
                     :filter (lambda (process string)
                               (setq calls (1+ calls))
                               (setq received (+ received (length string)))
                               (when (= calls 1) (np 'stop-process process)))
                     :sentinel (lambda (_process message) (np-note 'sentinel received message)))))
    (np-wait (lambda () (> calls 0)))
    (np-settle 0.3)
    (np-note 'stopped (np 'process-status client) (np-seen 'sentinel))
    (np 'continue-process client)
    (np-wait (lambda () (np-seen 'sentinel)))
    (np-note 'after (np 'process-status client) received)))

(np-deftest stopped-datagram-server-senders
  "A stopped datagram server with datagrams from three clients waiting: after
continue-process each filter call sees its own datagram's sender, and the reply
sent from that call reaches that sender."
  (let* ((server (np 'make-network-process
                     :name "dsrv" :type 'datagram :server t :host "127.0.0.1" :service t
                     :family 'ipv4 :stop t
                     :filter (lambda (process string)
                               (np-note 'server string
                                        (equal (np 'process-datagram-address process)
                                               (cdr (assoc string np--ordering-clients))))
                               (np 'process-send-string process (concat "ack " string)))))
         (port (np-port server))
         (acks nil))
    (setq np--ordering-clients nil)
    (dolist (name '("a" "b" "c"))
      ;; Emacs's own datagram clients in both runs.
      (let ((client (make-network-process
                     :name name :type 'datagram :host "127.0.0.1" :service port :family 'ipv4
                     :filter (lambda (process string) (push (cons (process-name process) string) acks)))))
        (push (cons name (process-contact client :local)) np--ordering-clients)
        (process-send-string client name)))
    (np-settle 0.2)
    (np-note 'stopped (np 'process-status server) acks)
    (np 'continue-process server)
    (np-wait (lambda () (= (length acks) 3)))
    (np-note 'acks (sort acks (lambda (x y) (string< (car x) (car y)))))
    (dolist (entry np--ordering-clients)
      (delete-process (get-process (car entry))))))

(np-deftest delete-during-nowait-connect
  "A :nowait client deleted before its connect is reported hears only \"deleted\\n\"
and stays closed.  (That output queued before the delete is never sent is a C test:
Emacs's process-send-string waits for the connect instead of queueing.)"
  (let* ((server (np-echo-server "srv"))
         ;; An address, not a name: no lookup, so the delete meets the connect itself.
         (client (np 'make-network-process
                     :name "nw" :remote (vector 127 0 0 1 (np-port server)) :nowait t
                     :sentinel (lambda (_process message) (np-note 'client-sentinel message)))))
    (np 'delete-process client)
    (np-settle 0.3)
    (np-note 'client (np 'process-status client) (np 'process-live-p client))))

(provide 'netproc-test-ordering)

;;; netproc-test-ordering.el ends here

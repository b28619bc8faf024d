;;; netproc-test-differences.el --- README differences from Emacs 28.2, asserted  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Rows of the README's "Differences from Emacs 28.2" not asserted elsewhere: each runs
;; the built-in and the twin and asserts what each does.  Where the built-in would hang
;; or crash this Emacs, only the harmless half of its behaviour is observed.

;;; Code:

(require 'netproc-test)
(require 'netproc-test-state)
(require 'netproc-test-net)

(ert-deftest netproc-difference-port-out-of-range ()
  "Emacs takes numeric ports modulo 65536 (99999 binds 34463); netproc signals
\"HOST/PORT Port number out of range\"."
  (let ((scenario (lambda ()
                    (np-note 'made
                             (np-error (lambda ()
                                         (let ((p (np 'make-network-process
                                                      :name "wrap" :server t :host "127.0.0.1"
                                                      :service 99999)))
                                           (np 'process-contact p :service))))))))
    (should (equal (np-run scenario nil) '((made (returned PORT)))))
    (should (equal (np-run scenario t)
                   '((made (error error "127.0.0.1/99999 Port number out of range")))))))

(ert-deftest netproc-difference-negative-backlog ()
  "Emacs passes a negative :server backlog to listen(); netproc signals
\(wrong-type-argument natnump N)."
  (let ((scenario (lambda ()
                    (np-note 'made
                             (np-error (lambda ()
                                         (np 'process-status
                                             (np 'make-network-process
                                                 :name "neg" :server -1 :host "127.0.0.1"
                                                 :service t))))))))
    (should (equal (np-run scenario nil) '((made (returned listen)))))
    (should (equal (np-run scenario t) '((made (error wrong-type-argument natnump -1)))))))

(ert-deftest netproc-difference-long-datagram ()
  "Emacs cuts a datagram at read-process-output-max (4096 by default); netproc reads it
whole (up to 64 KiB)."
  (let ((scenario
         (lambda ()
           (let* ((sizes nil)
                  (server (np 'make-network-process
                               :name "dsrv" :type 'datagram :server t :host "127.0.0.1"
                               :service t :family 'ipv4 :coding 'binary
                               :filter (lambda (_p s) (push (length s) sizes))))
                  (client (np 'make-network-process
                               :name "dcli" :type 'datagram :host "127.0.0.1" :family 'ipv4
                               :service (np-port server) :coding 'binary)))
             (np 'process-send-string client (make-string 10000 ?d))
             (np-wait (lambda () sizes))
             (np-note 'sizes (mapcar #'number-to-string sizes))))))
    (let ((read-process-output-max 4096))
      (should (equal (np-run scenario nil) '((sizes ("4096")))))
      (should (equal (np-run scenario t) '((sizes ("10000"))))))))

(ert-deftest netproc-difference-nowait-datagram ()
  "Emacs leaves a :nowait datagram client in `connect' for ever (and a send would hang:
not tried); netproc makes it `open' after resolution, with no sentinel, and sends work."
  (let ((scenario
         (lambda ()
           (let* ((server (np-datagram-server "dsrv"))
                  (client (np-client "dcli" (np-port server) :type 'datagram :family 'ipv4
                                     :nowait t)))
             (np-settle 0.3)
             (np-note 'status (np 'process-status client))
             (when np--twins
               (np 'process-send-string client "late")
               (np-wait (lambda () (np-seen 'filter "LATE"))))))))
    (should (equal (np-run scenario nil) '((status connect))))
    (should (equal (np-run scenario t)
                   '((status open)
                     (server-filter (process "dsrv") "late" [127 0 0 1 PORT])
                     (filter (process "dcli") "LATE"))))))

(ert-deftest netproc-difference-delete-flushes-output ()
  "Emacs's sends are complete when they return, so delete-process loses nothing; a
netproc send may still be queued at delete, and is written in the background before the
socket closes.  Only the twin is run: the built-in's send to a peer that does not read
would not return."
  (let* ((np--twins t)
         (size (* 4 1024 1024))
         (received 0)
         (server (np-quiet-server "srv" :filter t))
         (client (np-client "cli" (np-port server) :coding 'binary))
         (peer (np-peer client)))
    (unwind-protect
        (progn
          (netproc-process-send-string client (make-string size ?z))
          (should (> (netproc--output-pending client) 0))
          (netproc-delete-process client)
          (netproc-set-process-filter peer (lambda (_p s) (setq received (+ received (length s)))))
          (np-wait (lambda () (and (>= received size)
                                   (eq (netproc-process-status peer) 'closed)))
                   20)
          (should (= received size))
          (should (eq (netproc-process-status peer) 'closed)))
      (dolist (p (netproc-process-list)) (netproc-delete-process p)))))

(provide 'netproc-test-differences)
;;; netproc-test-differences.el ends here

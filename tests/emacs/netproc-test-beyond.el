;;; netproc-test-beyond.el --- netproc's own keywords on the twins  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Issue 15: keywords Emacs's `make-network-process' does not have, on the Lisp twins,
;; and their `featurep' answers (netproc's, and Emacs's while `netproc-mode' is on).

;;; Code:

(require 'netproc-test)
(require 'netproc-mode)

(ert-deftest netproc-beyond-features ()
  "netproc's subfeatures are Emacs's plus its own; `netproc-mode' lends them to
`featurep' while it is on, and gives Emacs's back when it goes off."
  (let ((builtin (get 'make-network-process 'subfeatures))
        (was-on netproc-mode))
    (should (netproc-featurep :nodelay))
    (should (netproc-featurep '(:family ipv6)))
    (should (netproc-featurep))
    (should-not (netproc-featurep :no-such-option))
    (dolist (feature builtin)
      (should (netproc-featurep feature)))
    (unwind-protect
        (progn
          (netproc-mode -1)
          (should-not (featurep 'make-network-process :nodelay))
          (netproc-mode 1)
          (should (featurep 'make-network-process :nodelay))
          (netproc-mode -1)
          (should (equal (get 'make-network-process 'subfeatures) builtin)))
      (netproc-mode (if was-on 1 -1)))))

(ert-deftest netproc-beyond-nodelay ()
  "`:nodelay' on the twins: set at the create, kept in the contact, changed later; a
no-op on a unix socket.  (Its effect is measured in tests/core_stream.rs.)"
  (np-run
   (lambda ()
     (let* ((server (np-echo-server "srv"))
            (client (np-client "c" (np-port server) :nodelay t))
            (socket (make-temp-name (expand-file-name "np-nodelay" temporary-file-directory)))
            (local (netproc-make-network-process :name "local-srv" :server t :family 'local
                                                 :service socket))
            (local-client (netproc-make-network-process :name "local" :family 'local
                                                        :service socket :nodelay t)))
       (ignore local)
       (unwind-protect
           (progn
             (should (eq (netproc-process-contact client :nodelay) t))
             (should (eq (netproc-set-network-process-option client :nodelay nil) t))
             (should (eq (netproc-process-contact client :nodelay) nil))
             (netproc-process-send-string client "ping")
             (should (np-wait (lambda () (assq 'filter np--transcript))))
             (should (eq (netproc-process-status local-client) 'open))
             (should (eq (netproc-set-network-process-option local-client :nodelay t) t)))
         (ignore-errors (delete-file socket)))))
   t))

(ert-deftest netproc-beyond-high-water-and-drain ()
  "`:high-water' and `:drain' on the twins: `netproc-process-send-string' returns t once
the queue is above the mark (nil before, and always nil without a mark, as Emacs's), and
the drain function runs like a sentinel, once, with \"drain\\n\", when the queue is back
below half of it.  The peer is a built-in server that does not read (filter t) until told."
  (let* ((accepted nil)
         (server (make-network-process :name "np-hw-srv" :server t :host "127.0.0.1"
                                       :service t :family 'ipv4 :filter t :noquery t
                                       :log (lambda (_server client _message)
                                              (setq accepted client))))
         (drains nil)
         (client (netproc-make-network-process
                  :name "np-hw" :host "127.0.0.1" :service (process-contact server :service)
                  :high-water 8192
                  :drain (lambda (process message) (push (list process message) drains))))
         (chunk (make-string 4096 ?x))
         (returns nil))
    (unwind-protect
        (progn
          (should (netproc-featurep :high-water))
          (should (netproc-featurep :drain))
          (let ((deadline (+ (float-time) 10)))
            (while (and (not (car returns)) (< (float-time) deadline))
              (push (netproc-process-send-string client chunk) returns)))
          (should (eq (car returns) t))
          (should-not (memq t (cdr returns)))
          (should (> (netproc--output-pending client) 8192))
          (should-not drains)
          (let ((deadline (+ (float-time) 10)))
            (while (and (not accepted) (< (float-time) deadline))
              (accept-process-output nil 0.05))
            (set-process-filter accepted #'ignore)
            (while (and (not drains) (< (float-time) deadline))
              (accept-process-output nil 0.05)))
          (should (equal drains (list (list client "drain\n"))))
          (should (eq (netproc-set-network-process-option client :high-water 65536) t))
          (should (eql (netproc-process-contact client :high-water) 65536))
          (should-error (netproc-set-network-process-option client :high-water 0)))
      (netproc-delete-process client)
      (when accepted (delete-process accepted))
      (delete-process server))))

(ert-deftest netproc-beyond-datagram-sender ()
  "During a datagram filter call `netproc-datagram-sender' gives that datagram's sender,
even after the filter pointed `process-datagram-address' elsewhere; nil outside a
filter call.  Emacs's two-argument filter is unchanged."
  (let* ((seen nil)
         (server (netproc-make-network-process
                  :name "np-dg" :server t :type 'datagram :host "127.0.0.1" :service t
                  :family 'ipv4
                  :filter (lambda (process string)
                            (netproc-set-process-datagram-address process [127 0 0 9 9])
                            (push (list string (netproc-datagram-sender process)) seen))))
         (port (aref (netproc-process-contact server :local) 4))
         (a (make-network-process :name "np-dg-a" :type 'datagram :host "127.0.0.1"
                                  :service port :family 'ipv4 :noquery t))
         (b (make-network-process :name "np-dg-b" :type 'datagram :host "127.0.0.1"
                                  :service port :family 'ipv4 :noquery t)))
    (unwind-protect
        (progn
          (process-send-string a "from a")
          (process-send-string b "from b")
          (let ((deadline (+ (float-time) 5)))
            (while (and (< (length seen) 2) (< (float-time) deadline))
              (netproc-accept-process-output nil 0.05)))
          ;; (A built-in datagram client's contact shows no local port: compare the
          ;; senders with each other and with the address they came from.)
          (should (equal (sort (mapcar #'car seen) #'string<) '("from a" "from b")))
          (dolist (entry seen)
            (should (equal (substring (cadr entry) 0 4) [127 0 0 1]))
            (should (> (aref (cadr entry) 4) 0)))
          (should-not (equal (cadr (car seen)) (cadr (cadr seen))))
          (should (equal (netproc-process-datagram-address server) [127 0 0 9 9]))
          (should-not (netproc-datagram-sender server)))
      (delete-process a)
      (delete-process b)
      (netproc-delete-process server))))
;;;; The connect policy: :connect-timeout, :attempt-delay

(defconst np-unanswered-port-script
  "import socket, select, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
fillers = []
for _ in range(16):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    fillers.append(c)
    if not select.select([], [c], [], 0.2)[1]:
        print(port, flush=True)
        sys.stdin.read()
        sys.exit(0)
print('the backlog never filled', flush=True)
"
  "A python3 peer whose port never answers: a listener with a full backlog, whose next
SYNs Linux drops.  It prints the port, then holds it until its input closes.")

(defun np-unanswered-port ()
  "Start `np-unanswered-port-script'; return (PROCESS . PORT)."
  (let* ((output "")
         (child (make-process :name "np-unanswered" :command
                              (list "python3" "-c" np-unanswered-port-script)
                              :connection-type 'pipe :noquery t
                              :filter (lambda (_ text) (setq output (concat output text)))))
         (deadline (+ (float-time) 10)))
    (while (and (not (string-match-p "\n" output)) (< (float-time) deadline))
      (accept-process-output child 0.1))
    (unless (string-match "\\`\\([0-9]+\\)\n" output)
      (delete-process child)
      (error "No unanswered port from python3: %S" output))
    (cons child (string-to-number (match-string 1 output)))))

(ert-deftest netproc-beyond-connect-timeout ()
  "`:connect-timeout' on the twins, against a port that never answers (a full
backlog on loopback): a `:nowait' client fails at the deadline with ETIMEDOUT, a
blocking one signals `file-error'; a float is kept as Emacs's (TICKS . HZ)."
  (let ((peer (np-unanswered-port)))
    (unwind-protect
        (np-run
         (lambda ()
           (let* ((port (cdr peer))
                  (messages nil)
                  (start (float-time))
                  (late (netproc-make-network-process
                         :name "late" :host "127.0.0.1" :service port :nowait t
                         :connect-timeout 0.5
                         :sentinel (lambda (_ message) (push message messages)))))
             (should (eq (netproc-process-status late) 'connect))
             (should (equal (netproc-process-contact late :connect-timeout) '(500000 . 1000000)))
             (should (np-wait (lambda () messages)))
             (let ((took (- (float-time) start)))
               (should (>= took 0.4))
               (should (< took 5)))
             (should (equal messages '("failed with code 110\n")))
             (should (eq (netproc-process-status late) 'failed))
             (should (eql (netproc-process-exit-status late) 110))
             (setq start (float-time))
             (let ((err (should-error (netproc-make-network-process
                                       :name "blocking" :host "127.0.0.1" :service port
                                       :connect-timeout 1)
                                      :type 'file-error)))
               (should (equal (seq-take err 3)
                              '(file-error "make client process failed" "Connection timed out"))))
             (let ((took (- (float-time) start)))
               (should (>= took 0.9))
               (should (< took 5)))
             (should-error (netproc-make-network-process :name "x" :service port
                                                         :connect-timeout 'soon)
                           :type 'wrong-type-argument)))
         t)
      (delete-process (car peer)))))

(ert-deftest netproc-beyond-attempt-delay ()
  "Happy Eyeballs' delay: 0.25 s unless set, settable for the context, and per process
with `:attempt-delay' (its effect is measured in c-tests/test_connect_policy.c, in a
network namespace with a blackholed IPv6 route)."
  (should (netproc-featurep :connect-timeout))
  (should (netproc-featurep :attempt-delay))
  (should (= (netproc-connect-attempt-delay) 0.25))
  (unwind-protect
      (progn
        (should (= (netproc-set-connect-attempt-delay 0.1) 0.1))
        (should (= (netproc-connect-attempt-delay) 0.1))
        (should-error (netproc-set-connect-attempt-delay -1) :type 'args-out-of-range)
        (should-error (netproc-set-connect-attempt-delay "x") :type 'wrong-type-argument))
    (netproc-set-connect-attempt-delay 0.25))
  (np-run
   (lambda ()
     (let* ((server (np-echo-server "srv"))
            (client (np-client "c" (np-port server) :attempt-delay 0.05)))
       (should (eq (netproc-process-status client) 'open))
       (should (equal (netproc-process-contact client :attempt-delay) '(50000 . 1000000)))))
   t))

(provide 'netproc-test-beyond)
;;; netproc-test-beyond.el ends here

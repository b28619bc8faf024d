;;; netproc-test-state.el --- Differential tests: buffers, plists, sending, states  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Scenarios for the process mark and buffer, plists, the send functions, the status
;; functions in every state, the query-on-exit flag, process-type, :nowait, :stop and
;; what accepted connections inherit.  The harness is in netproc-test.el.

;;; Code:

(require 'netproc-test)

(defun np-accepted (server-name &optional skip)
  "The first (or after SKIP others, the next) accepted connection of SERVER-NAME."
  (nth (or skip 0)
       (reverse (cl-remove-if-not
                 (lambda (p) (string-prefix-p (concat server-name " <") (np 'process-name p)))
                 (np-list)))))

(defun np-wait-accepted (server-name &optional skip)
  "Pump until SERVER-NAME has accepted SKIP+1 connections; the last of them."
  (np-wait (lambda () (np-accepted server-name skip))))

(defun np-peer (client)
  "The accepted connection at the other end of CLIENT, once there is one."
  (let ((local (np 'process-contact client :local)))
    (np-wait (lambda ()
               (cl-find-if (lambda (p) (equal (np 'process-contact p :remote) local))
                           (np-list))))))

(defun np-quiet-server (name &rest args)
  "An echo server NAME on loopback that records nothing."
  (apply #'np 'make-network-process
         (append args
                 (list :name name :server t :host "127.0.0.1" :service t :family 'ipv4
                       :filter (lambda (process string)
                                 (np 'process-send-string process (upcase string)))))))

(defun np-kill-buffer (buffer)
  "Kill BUFFER without asking about its process."
  (when (buffer-live-p buffer)
    (let ((kill-buffer-query-functions nil))
      (kill-buffer buffer))))

(defun np-mark (process)
  "Where PROCESS's mark points: (BUFFER-NAME POSITION), or nil."
  (let ((mark (np 'process-mark process)))
    (and (marker-buffer mark) (list (buffer-name (marker-buffer mark)) (marker-position mark)))))

(defun np-seen (kind &optional string)
  "The transcript entry of KIND (whose last element contains STRING, if given)."
  (cl-find-if (lambda (e) (and (eq (car e) kind)
                               (or (null string) (string-match-p (regexp-quote string)
                                                                 (car (last e))))))
              np--transcript))

;;;; The process mark and buffer

(np-deftest mark-buffer
  "process-mark, process-buffer, set-process-buffer: the mark follows the buffer."
  (let* ((server (np-echo-server "srv"))
         (b1 (get-buffer-create "np-b1"))
         (b2 (get-buffer-create "np-b2")))
    (unwind-protect
        (let ((client (np 'make-network-process :name "cli" :host "127.0.0.1"
                          :service (np-port server) :noquery t)))
          (with-current-buffer b1 (erase-buffer) (insert "one\n"))
          (with-current-buffer b2 (erase-buffer) (insert "xx"))
          (np-note 'initial (np 'process-buffer client) (np-mark client)
                   (markerp (np 'process-mark client))
                   (eq (np 'process-mark client) (np 'process-mark client)))
          (np-note 'set (np 'set-process-buffer client b1) (np 'process-buffer client)
                   (np-mark client))
          (np-note 'contact-buffer (np 'process-contact client :buffer))
          (np 'process-send-string client "abc\n")
          (np-wait (lambda () (with-current-buffer b1 (string-match-p "ABC" (buffer-string)))))
          (np-note 'text (with-current-buffer b1 (buffer-string)) (np-mark client))
          ;; Moving the mark moves where the default filter inserts.
          (set-marker (np 'process-mark client) 1 b1)
          (np 'process-send-string client "def\n")
          (np-wait (lambda () (with-current-buffer b1 (string-match-p "DEF" (buffer-string)))))
          (np-note 'text2 (with-current-buffer b1 (buffer-string)) (np-mark client))
          (np-note 'switch (np 'set-process-buffer client b2) (np-mark client))
          (np-note 'unset (np 'set-process-buffer client nil) (np 'process-buffer client)
                   (np-mark client))
          (np-note 'bad (np-error (lambda () (np 'set-process-buffer client 42))))
          (np-note 'bad-process (np-error (lambda () (np 'process-mark 42)))
                   (np-error (lambda () (np 'process-buffer "srv")))))
      (np-kill-buffer b1)
      (np-kill-buffer b2))))

;;;; Plists

(np-deftest plist
  "process-plist, set-process-plist, process-get and process-put."
  (let ((server (np-echo-server "srv" :plist '(a 1 b 2))))
    (np-note 'initial (copy-sequence (np 'process-plist server)))
    (np-note 'get (np 'process-get server 'a) (np 'process-get server 'missing))
    (np-note 'put (copy-sequence (np 'process-put server 'c 3))
             (np 'process-get server 'c))
    (np-note 'replace (copy-sequence (np 'process-put server 'a 10))
             (np 'process-get server 'a))
    (np-note 'set (np 'set-process-plist server '(x "y")) (np 'process-plist server)
             (np 'process-get server 'a))
    (np-note 'empty (np 'set-process-plist server nil) (np 'process-plist server))
    (np-note 'bad (np-error (lambda () (np 'make-network-process :name "p" :server t
                                           :service t :plist 5))))
    (np-note 'bad-get (np-error (lambda () (np 'process-get 42 'a))))))

;;;; Sending

(np-deftest send-region
  "process-send-region sends a region of the current buffer (either order)."
  (let* ((server (np-echo-server "srv"))
         (client (np-client "cli" (np-port server))))
    (with-temp-buffer
      (insert "hello region\nrest")
      (np-note 'sent (np 'process-send-region client 1 14))
      (np-wait (lambda () (np-seen 'filter "REGION")))
      (np-note 'reversed (np 'process-send-region client 18 14))
      (np-wait (lambda () (np-seen 'filter "REST")))
      (np-note 'range (np-error (lambda () (np 'process-send-region client 1 100)))))))

(np-deftest send-eof
  "process-send-eof: the peer sees EOF; data the peer sends afterwards still arrives."
  (let* ((server (np 'make-network-process
                     :name "srv" :server t :host "127.0.0.1" :service t :family 'ipv4
                     :sentinel (lambda (p m)
                                 (np-note 'server-sentinel p m)
                                 ;; Hold the accepted side, so that it reads EOF only later.
                                 (when (string-prefix-p "open" m) (np 'stop-process p)))
                     :filter (lambda (p s) (np-note 'server-filter p s))))
         (client (np-client "cli" (np-port server)))
         (accepted (np-wait-accepted "srv")))
    (np 'process-send-string client "abc\n")
    (np-note 'eof (np 'process-send-eof client))
    (np-status client)
    (np-settle 0.1)
    (np 'process-send-string accepted "late\n")
    (np-wait (lambda () (np-seen 'filter "late")))
    (np-status client)
    (np 'continue-process accepted)
    (np-wait (lambda () (np-seen 'sentinel "broken")))
    (np-status accepted)
    (np-status client)))

;;;; Status, exit status and liveness in every state

(np-deftest live-exit
  "process-status, process-live-p and process-exit-status of each state."
  (let* ((server (np-echo-server "srv"))
         (port (np-port server))
         (dead-port (let ((probe (np-echo-server "probe")))
                      (prog1 (np-port probe) (np 'delete-process probe)))))
    (np-status server)
    (np 'stop-process server)
    (np-status server)
    (np 'continue-process server)
    (np-status server)
    (let ((c1 (np-client "c1" port)))
      (np-status c1)
      (np 'stop-process c1)
      (np-status c1)
      (np 'continue-process c1)
      (np 'delete-process c1)
      (np-status c1)
      (np-wait (lambda () (np-seen 'server-sentinel "broken")))
      ;; Stop and continue after the end change only the flag.
      (np 'stop-process c1)
      (np-status c1))
    (let* ((c2 (np-client "c2" port))
           (accepted (np-peer c2)))
      (np 'delete-process accepted)
      (np-wait (lambda () (np-seen 'sentinel "broken")))
      (np-status c2))
    (let ((c3 (np-client "c3" dead-port :nowait t)))
      (np-note 'connecting (np 'process-status c3) (np 'process-live-p c3))
      (np-wait (lambda () (np-seen 'sentinel "failed")))
      (np-status c3))
    (np-note 'not-a-process (np 'process-live-p 42) (np 'process-live-p nil)
             (np 'process-live-p "srv"))
    (np-note 'exit-error (np-error (lambda () (np 'process-exit-status "srv"))))))

(ert-deftest netproc-difference-exit-status-connecting ()
  "Emacs 28.2 crashes (or returns an address) for process-exit-status while connecting;
netproc returns 0.  Only the twin is run: the built-in would crash this Emacs."
  (let* ((np--twins t)
         (server (np-echo-server "srv"))
         (client (np-client "cli" (np-port server) :nowait t)))
    (unwind-protect
        (progn
          (should (eq (netproc-process-status client) 'connect))
          (should (equal (netproc-process-exit-status client) 0))
          (np-wait (lambda () (eq (netproc-process-status client) 'open)))
          (should (equal (netproc-process-exit-status client) 0)))
      (netproc-delete-process client)
      (netproc-delete-process server))))

;;;; The query-on-exit flag and process-type

(np-deftest query-flag
  "process-query-on-exit-flag, its setter, :noquery, and accepted connections (always t)."
  (let* ((server (np-echo-server "srv" :noquery t))
         (client (np-client "cli" (np-port server)))
         (accepted (np-wait-accepted "srv")))
    (np-note 'flags (np 'process-query-on-exit-flag server)
             (np 'process-query-on-exit-flag client)
             (np 'process-query-on-exit-flag accepted))
    (np-note 'off (np 'set-process-query-on-exit-flag client nil)
             (np 'process-query-on-exit-flag client))
    (np-note 'on (np 'set-process-query-on-exit-flag client 'yes)
             (np 'process-query-on-exit-flag client))
    (np-note 'bad (np-error (lambda () (np 'process-query-on-exit-flag "srv"))))))

(np-deftest process-type
  "process-type of a server, a client, an accepted connection, and by name."
  (let* ((server (np-echo-server "srv"))
         (client (np-client "cli" (np-port server)))
         (accepted (np-wait-accepted "srv")))
    (np-note 'types (np 'process-type server) (np 'process-type client)
             (np 'process-type accepted) (np 'process-type "cli"))
    (np-note 'missing (np-error (lambda () (np 'process-type "no-such-process"))))))

;;;; :nowait and :stop

(np-deftest nowait
  ":nowait: connect, then \"open\\n\"; a refused connect, \"failed with code 111\\n\"."
  (let* ((server (np-quiet-server "srv"))
         (dead-port (let ((probe (np-quiet-server "probe")))
                      (prog1 (np-port probe) (np 'delete-process probe))))
         (client (np-client "cli" (np-port server) :nowait t)))
    ;; Not process-contact: Emacs pumps in it while the socket does not exist yet.
    (np-note 'initial (np 'process-status client) (np 'process-live-p client))
    (np-wait (lambda () (np-seen 'sentinel "open")))
    (np-status client)
    (np 'process-send-string client "hi\n")
    (np-wait (lambda () (np-seen 'filter "HI")))
    (let ((failing (np-client "bad" dead-port :nowait t)))
      (np-note 'initial2 (np 'process-status failing))
      (np-wait (lambda () (np-seen 'sentinel "failed")))
      (np-status failing)
      (np-note 'send-failed (np-error (lambda () (np 'process-send-string failing "x")))))
    (np-note 'server-nowait
             (np-error (lambda () (np 'make-network-process :name "s" :server t
                                      :service t :nowait t))))))

(np-deftest stop-server
  ":stop t: a server made stopped accepts only once continued."
  (let* ((server (np-echo-server "srv" :stop t))
         (client (np-client "cli" (np-port server))))
    (np-status server)
    (np-status client)
    (np-settle 0.2)
    (np-note 'accepted-while-stopped (np-seen 'log))
    (np 'continue-process server)
    (np-status server)
    (np-wait (lambda () (np-seen 'log)))
    (np 'process-send-string client "x\n")
    (np-wait (lambda () (np-seen 'filter)))
    (np-status (np-accepted "srv"))))

;;;; Inheritance

(defun np-contact-keys (process)
  "The contact keys of PROCESS that say what it inherited."
  (mapcar (lambda (key) (list key (np 'process-contact process key)))
          '(:name :server :host :service :family :noquery :remote :local :plist :coding)))

(np-deftest inheritance
  "Accepted connections take the server's filter, sentinel, plist and coding at accept
time, never :noquery; their contact is the server's, edited."
  (let* ((f1 (lambda (p s) (np-note 'filter1 p s)))
         (f2 (lambda (p s) (np-note 'filter2 p s)))
         (s1 (lambda (p m) (np-note 'sentinel1 p m)))
         (s2 (lambda (p m) (np-note 'sentinel2 p m)))
         (server (np 'make-network-process :name "isrv" :server t :host "127.0.0.1"
                     :service t :family 'ipv4 :noquery t :plist '(k v) :coding 'latin-1
                     :filter f1 :sentinel s1))
         (port (np-port server))
         (c1 (np-client "c1" port))
         (a1 (np-wait-accepted "isrv")))
    (np 'set-process-filter server f2)
    (np 'set-process-sentinel server s2)
    (np 'process-put server 'k2 'v2)
    (np 'set-process-coding-system server 'utf-8 'utf-8)
    (let* ((c2 (np-client "c2" port))
           (a2 (np-wait-accepted "isrv" 1)))
      (dolist (accepted (list a1 a2))
        (let ((filter (np 'process-filter accepted))
              (sentinel (np 'process-sentinel accepted)))
          (np-note 'inherited (np 'process-name accepted)
                   (cond ((eq filter f1) 'f1) ((eq filter f2) 'f2) (t filter))
                   (cond ((eq sentinel s1) 's1) ((eq sentinel s2) 's2) (t sentinel))
                   (np 'process-plist accepted)
                   (np 'process-coding-system accepted)
                   (np 'process-query-on-exit-flag accepted)
                   (np 'process-buffer accepted)
                   (np 'process-contact accepted)
                   (np-contact-keys accepted))))
      (np 'process-send-string c1 "one\n")
      (np-wait (lambda () (np-seen 'filter1)))
      (np 'process-send-string c2 "two\n")
      (np-wait (lambda () (np-seen 'filter2)))
      (np 'delete-process c1)
      (np-wait (lambda () (np-seen 'sentinel1 "broken")))
      (np 'delete-process c2)
      (np-wait (lambda () (np-seen 'sentinel2 "broken"))))))

;;;; accept-process-output, processp, get-process, process-list

(np-deftest accept-output
  "accept-process-output's value with and without a process; processp; get-process."
  (let* ((server (np-quiet-server "srv"))
         (client (np-client "cli" (np-port server))))
    (np-note 'processp (np 'processp server) (np 'processp client) (np 'processp 42)
             (np 'processp "srv"))
    (np-note 'get (eq (np 'get-process "cli") client) (eq (np 'get-process client) client)
             (np 'get-process "none") (np-error (lambda () (np 'get-process 42))))
    (np-note 'list (length (np-list)) (and (memq client (np 'process-list)) t))
    (np 'process-send-string client "x\n")
    (np-note 'got (np 'accept-process-output client 2))
    (np-note 'nothing (np 'accept-process-output client 0.05)
             (np 'accept-process-output client 0 50))
    (np 'process-send-string client "y\n")
    (np-note 'any (np 'accept-process-output nil 2))
    (np-note 'bad (np-error (lambda () (np 'accept-process-output "cli" 0.01))))
    (np 'delete-process client)
    (np-note 'dead (np 'accept-process-output client 0.05))))

(provide 'netproc-test-state)
;;; netproc-test-state.el ends here

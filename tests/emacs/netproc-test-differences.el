;;; netproc-test-differences.el --- docs/DIFFERENCES.md, asserted  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Rows of docs/DIFFERENCES.md not asserted elsewhere: each runs
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

;;;; Coding rows

(defun np-raw-server (name)
  "A binary server NAME on loopback whose connections record the bytes they get."
  (np 'make-network-process
      :name name :server t :host "127.0.0.1" :service t :family 'ipv4 :coding 'binary
      :filter (lambda (_p s) (np-note 'raw s))))

(defun np-raw-bytes ()
  "Every byte the raw server's connections got so far, in order."
  (apply #'concat (mapcar #'cadr (cl-remove-if-not (lambda (e) (eq (car e) 'raw))
                                                   (reverse np--transcript)))))

(defun np-scenario-coding-eof-iso-2022 ()
  (let* ((server (np-raw-server "raw"))
         (client (np 'make-network-process :name "cli" :host "127.0.0.1"
                     :service (np-port server) :coding 'iso-2022-jp)))
    (np 'process-send-string client "a\u65e5\u672c")
    (np 'process-send-eof client)
    (np-wait (lambda () (string-suffix-p (if np--twins "\e(B" "K\\") (np-raw-bytes))) 3)
    (np-settle 0.1)
    (let ((bytes (np-raw-bytes)))
      (setq np--transcript nil)
      (np-note 'bytes bytes))))

(defun np-scenario-coding-empty-utf-16 ()
  (let* ((server (np-raw-server "raw"))
         (client (np 'make-network-process :name "cli" :host "127.0.0.1"
                     :service (np-port server) :coding 'utf-16)))
    (np 'process-send-string client (string-to-multibyte ""))
    (np-settle 0.3)
    (let ((bytes (np-raw-bytes)))
      (setq np--transcript nil)
      (np-note 'bytes bytes))))

(defun np-scenario-coding-split-crlf ()
  (let* ((server (np-quiet-server "srv"))
         (strings nil)
         (client (np 'make-network-process :name "cli" :host "127.0.0.1"
                     :service (np-port server) :coding 'undecided
                     :filter (lambda (_p s) (push s strings))))
         (peer (np-peer client)))
    (np 'process-send-string peer "one\r")
    (np-settle 0.3)
    (np 'process-send-string peer "\ntwo\r\n")
    (np-wait (lambda () (string-match-p "two" (apply #'concat strings))) 3)
    (np-settle 0.1)
    (np-note 'text (apply #'concat (reverse strings)))
    (np-note 'coding (np 'process-coding-system client))))

(defun np-scenario-coding-gb18030 ()
  (let* ((server (np-quiet-server "srv"))
         (strings nil)
         (client (np 'make-network-process :name "cli" :host "127.0.0.1"
                     :service (np-port server) :coding 'gb18030
                     :filter (lambda (_p s) (push s strings))))
         (peer (np-peer client)))
    (np 'set-process-coding-system peer 'binary 'binary)
    (np 'process-send-string peer "\x81\x35\xf4\x38")
    (np-wait (lambda () strings) 3)
    (np-note 'chars (mapcar (lambda (c) (format "U+%04X" c)) (apply #'concat (reverse strings))))))

(defun np-scenario-coding-refused ()
  (let ((server (np-quiet-server "srv")))
    (dolist (coding '(euc-tw japanese-shift-jis-2004 iso-2022-7bit-lock))
      (np-note coding
               (np-error (lambda ()
                           (np 'process-status
                               (np 'make-network-process :name "cli" :host "127.0.0.1"
                                   :service (np-port server) :coding coding))))))))

(defun np-scenario-coding-utf-7-split ()
  (let* ((server (np-quiet-server "srv"))
         (strings nil)
         (client (np 'make-network-process :name "cli" :host "127.0.0.1"
                     :service (np-port server) :coding 'utf-7
                     :filter (lambda (_p s) (push s strings))))
         (peer (np-peer client)))
    (np 'set-process-coding-system peer 'binary 'binary)
    (np 'process-send-string peer "+ZeVn")
    (np-wait (lambda () strings) 3)
    (np 'process-send-string peer "LIqe-x")
    (np-wait (lambda () (string-match-p "x" (apply #'concat strings))) 3)
    (np-note 'text (apply #'concat (reverse strings)))))

(defun np-scenario-coding-nowait-unknown ()
  (np-note 'made (np-error (lambda ()
                             (np 'process-status
                                 (np 'make-network-process :name "x" :host "127.0.0.1"
                                     :service 9 :nowait t :coding 'no-such-coding)))))
  ;; Emacs's error comes from the pump that sees the connect finish: pump up to 2 s (the
  ;; connect to port 9 may take longer than one short pump on a busy machine).
  (np-note 'pump (np-error (lambda ()
                             (dotimes (_ 10) (np 'accept-process-output nil 0.2))
                             'quiet))))


(ert-deftest netproc-difference-coding-eof-iso-2022 ()
  "Emacs's process-send-eof leaves an ISO-2022 encoder in its last state; netproc
returns it to ASCII (ESC ( B) before the EOF."
  (should (equal (np-run #'np-scenario-coding-eof-iso-2022 nil) '((bytes "a\e$BF|K\\"))))
  (should (equal (np-run #'np-scenario-coding-eof-iso-2022 t) '((bytes "a\e$BF|K\\\e(B")))))

(ert-deftest netproc-difference-coding-empty-utf-16 ()
  "An empty multibyte string sent through utf-16 writes a lone byte-order mark in Emacs;
netproc sends nothing for empty data."
  (should (equal (np-run #'np-scenario-coding-empty-utf-16 nil) '((bytes "\376\377"))))
  (should (equal (np-run #'np-scenario-coding-empty-utf-16 t) '((bytes "")))))

(ert-deftest netproc-difference-coding-split-crlf ()
  "With the end-of-line type undecided, Emacs takes a CR ending a read as a Mac
end-of-line; netproc holds it, so a CR LF split across reads is detected as -dos."
  (should (equal (np-run #'np-scenario-coding-split-crlf nil)
                 '((text "one\n\ntwo\n\n") (coding (undecided-mac . undecided)))))
  (should (equal (np-run #'np-scenario-coding-split-crlf t)
                 '((text "one\ntwo\n") (coding (undecided-dos . undecided))))))

(ert-deftest netproc-difference-coding-gb18030 ()
  "Emacs 28.2's GB18030 four-byte codes are off by one from U+1E40 to U+FFFF: it reads
81 35 F4 38 as U+1E41; netproc follows the standard (U+1E40)."
  (should (equal (np-run #'np-scenario-coding-gb18030 nil) '((chars ("U+1E41")))))
  (should (equal (np-run #'np-scenario-coding-gb18030 t) '((chars ("U+1E40"))))))

(ert-deftest netproc-difference-coding-refused ()
  "Emacs has coding systems netproc refuses as unknown (docs/DIFFERENCES.md lists them,
tests/coding_inventory.rs with their reasons): CNS 11643, JIS X 0213, ISO 2022 with
shifts, ..."
  (should (equal (np-run #'np-scenario-coding-refused nil)
                 '((euc-tw (returned open)) (japanese-shift-jis-2004 (returned open))
                   (iso-2022-7bit-lock (returned open)))))
  (should (equal (np-run #'np-scenario-coding-refused t)
                 '((euc-tw (error coding-system-error euc-tw))
                   (japanese-shift-jis-2004 (error coding-system-error japanese-shift-jis-2004))
                   (iso-2022-7bit-lock (error coding-system-error iso-2022-7bit-lock))))))

(ert-deftest netproc-difference-coding-utf-7-split ()
  "Emacs converts each read of a utf-7 process on its own, so a base64 run split between
reads decodes wrongly (+ZeVn then LIqe-x gives 日, the byte g, LIqe-x); netproc keeps its
state from one read to the next (日本語x)."
  (should (equal (np-run #'np-scenario-coding-utf-7-split nil) '((text "\u65E5gLIqe-x"))))
  (should (equal (np-run #'np-scenario-coding-utf-7-split t) '((text "\u65E5\u672C\u8A9Ex")))))

(ert-deftest netproc-difference-coding-nowait-unknown ()
  "An unknown :coding with :nowait: Emacs makes the process and signals
coding-system-error later, from a pump; netproc signals it from make-network-process."
  (should (equal (np-run #'np-scenario-coding-nowait-unknown nil)
                 '((made (returned connect)) (pump (error coding-system-error no-such-coding)))))
  (should (equal (np-run #'np-scenario-coding-nowait-unknown t)
                 '((made (error coding-system-error no-such-coding)) (pump (returned quiet))))))

;;;; :linger t

(defun np-scenario-linger (linger)
  "A client with LINGER sends 300,000 bytes to a peer not reading yet, and is deleted;
how many bytes the peer reads afterwards."
  (let* ((got 0)
         (server (np 'make-network-process :name "srv" :server t :host "127.0.0.1"
                     :service t :family 'ipv4 :filter t :sentinel #'ignore))
         (client (np 'make-network-process :name "cli" :host "127.0.0.1"
                     :service (np-port server) :linger linger :coding 'binary))
         (peer (np-peer client)))
    (np 'process-send-string client (make-string 300000 ?l))
    (np-settle 0.1)
    (np 'delete-process client)
    (np-settle 0.1)
    (np 'set-process-filter peer (lambda (_p s) (setq got (+ got (length s)))))
    (np-wait (lambda () (>= got 300000)) 1)
    (np-note 'got (number-to-string got))))

(ert-deftest netproc-difference-linger-t ()
  "Emacs takes :linger t as SO_LINGER with 0 seconds, an abortive close that throws
queued data away; netproc does as documented: the data is sent before closing.
\(:linger 0 is abortive in both.)"
  (let ((builtin (cadr (assq 'got (np-run (lambda () (np-scenario-linger t)) nil))))
        (twin (cadr (assq 'got (np-run (lambda () (np-scenario-linger t)) t))))
        (twin-0 (cadr (assq 'got (np-run (lambda () (np-scenario-linger 0)) t)))))
    (should (< (string-to-number builtin) 300000))
    (should (equal twin "300000"))
    (should (< (string-to-number twin-0) 300000))))

;;;; :linger beyond the C int range

(defun np-linger-big-program (twins port)
  "A child's Lisp: a client (TWINS: netproc's) with :linger 2^40 connects to PORT on
loopback, sends 300,000 bytes, prints SENT, deletes itself and pumps for 2 s (netproc
writes its queue out after the delete); prints DELETE-SECONDS (how long
`delete-process' took) at the end."
  (format "(progn
  (require 'netproc)
  (let* ((tw %S)
         (client (funcall (if tw #'netproc-make-network-process #'make-network-process)
                          :name \"cli\" :host \"127.0.0.1\" :service %d :family 'ipv4
                          :linger (expt 2 40) :coding 'binary :sentinel #'ignore))
         (pump (lambda (seconds)
                 (let ((deadline (+ (float-time) seconds)))
                   (while (< (float-time) deadline)
                     (if tw (netproc-accept-process-output nil 0.02)
                       (accept-process-output nil 0.02)))))))
    (funcall (if tw #'netproc-process-send-string #'process-send-string)
             client (make-string 300000 ?l))
    (funcall pump 0.1)
    (message \"SENT\")
    (let ((start (float-time)))
      (funcall (if tw #'netproc-delete-process #'delete-process) client)
      (message \"DELETE-SECONDS %%.3f\" (- (float-time) start)))
    (funcall pump 2)))" twins port))

(defun np-linger-big-run (twins)
  "Run `np-linger-big-program' in a child Emacs against a built-in server here that
starts reading only 0.3 s after the child has sent; (BYTES-READ DELETE-SECONDS).
The client runs in a child because a lingering close() blocks until the peer has
read the data, and the peer here could not read while this Emacs waits in it."
  (let* ((got 0)
         (peer nil)
         (output "")
         (server (make-network-process
                  :name "linger-srv" :server t :host "127.0.0.1" :service t :family 'ipv4
                  :coding 'binary :filter t :sentinel #'ignore
                  :log (lambda (_server connection _message) (setq peer connection))))
         (child (make-process
                 :name "np-linger" :noquery t :connection-type 'pipe
                 :command (list (expand-file-name invocation-name invocation-directory)
                                "-Q" "--batch"
                                "-L" (file-name-directory (locate-library "netproc"))
                                "--eval" (np-linger-big-program
                                          twins (process-contact server :service)))
                 :filter (lambda (_p s) (setq output (concat output s)))
                 :sentinel #'ignore)))
    (unwind-protect
        (let ((deadline (+ (float-time) 20)))
          (while (and (not (string-match-p "SENT" output)) (< (float-time) deadline))
            (accept-process-output nil 0.05))
          (should (string-match-p "SENT" output))
          (should peer)
          (let ((deadline (+ (float-time) 0.3)))
            (while (< (float-time) deadline) (accept-process-output nil 0.02)))
          (set-process-filter peer (lambda (_p s) (setq got (+ got (length s)))))
          (let ((deadline (+ (float-time) 5)))
            (while (and (< got 300000) (process-live-p peer) (< (float-time) deadline))
              (accept-process-output nil 0.02)))
          (let ((deadline (+ (float-time) 20)))
            (while (and (process-live-p child) (< (float-time) deadline))
              (accept-process-output child 0.05)))
          (should (string-match "DELETE-SECONDS \\([0-9.]+\\)" output))
          (list got (string-to-number (match-string 1 output))))
      (delete-process child)
      (when peer (delete-process peer))
      (delete-process server))))

(ert-deftest netproc-difference-linger-beyond-int ()
  "Emacs checks an integer :linger with TYPE_RANGED_FIXNUMP (int); beyond an int (here
2^40) the check fails and SO_LINGER is set with 0 seconds, an abortive close that
drops queued output.  netproc takes it as t: the delete returns at once, the queued
data is written out afterwards and the socket closes gracefully.  Both run in a child
Emacs, as the built-in's lingering variants could block this one."
  (let ((builtin (np-linger-big-run nil))
        (twin (np-linger-big-run t)))
    (message "linger 2^40, bytes read and seconds in delete-process: built-in %S, twins %S"
             builtin twin)
    (should (< (car builtin) 300000))
    (should (= (car twin) 300000))))

;;;; A NUL inside :host

(defun np-scenario-nul-host ()
  "A client to a server on 127.0.0.1 whose :host has a NUL and more after it."
  (let ((server (np-quiet-server "srv")))
    (np-note 'made
             (np-error (lambda ()
                         (let ((client (np 'make-network-process
                                           :name "nul" :host "127.0.0.1\0junk"
                                           :service (np-port server) :family 'ipv4)))
                           (list (np 'process-status client)
                                 (np 'process-contact client :remote))))))))

(ert-deftest netproc-difference-nul-in-host ()
  "Emacs passes a :host string to getaddrinfo as a C string, so it is cut at its first
NUL: \"127.0.0.1\\0junk\" connects to 127.0.0.1.  netproc refuses a host name with a
NUL inside, with the error getaddrinfo gives a name it does not know."
  (should (equal (np-run #'np-scenario-nul-host nil)
                 '((made (returned (open [127 0 0 1 PORT]))))))
  (should (equal (funcall (np-replacing "/[0-9]+ " "/PORT ") (np-run #'np-scenario-nul-host t))
                 '((made (error error "127.0.0.1\0junk/PORT Name or service not known"))))))

;;;; Ports getaddrinfo would wrap, given as text or in an address vector

(ert-deftest netproc-difference-port-out-of-range-text-and-vector ()
  "Emacs's getaddrinfo reads \" 65536\" (white space, a sign, digits) as a number and
wraps it to 0, a random port, and Emacs masks an address vector's port to 16 bits;
netproc signals \"HOST/PORT Port number out of range\" for the text and
\(args-out-of-range PORT 0 65535) for the vector."
  (let ((scenario
         (lambda ()
           (dolist (args '((:service " 65536") (:service "+65536") (:local [127 0 0 1 65536])
                           (:local [127 0 0 1 -1])))
             (np-note 'made
                      (np-error (lambda ()
                                  (let ((p (apply #'np 'make-network-process
                                                  :name "wrap" :server t :host "127.0.0.1"
                                                  args)))
                                    (prog1 (integerp (np 'process-contact p :service))
                                      (np 'delete-process p))))))))))
    (should (equal (np-run scenario nil)
                   '((made (returned t)) (made (returned t)) (made (returned t))
                     (made (returned t)))))
    (should (equal (np-run scenario t)
                   '((made (error error "127.0.0.1/ 65536 Port number out of range"))
                     (made (error error "127.0.0.1/+65536 Port number out of range"))
                     (made (error args-out-of-range PORT 0 PORT))
                     (made (error args-out-of-range -1 0 PORT)))))))

;;;; :nowait to a literal address

(ert-deftest netproc-difference-nowait-literal-address ()
  "Emacs sends a :nowait client's literal address through getaddrinfo_a like a name, so
right after the call it has no socket and `process-contact' NO-BLOCK gives nil.
netproc parses a literal address at once and starts connecting: :remote is known."
  (let ((scenario
         (lambda ()
           (let* ((server (np-quiet-server "srv"))
                  (client (np 'make-network-process :name "lit" :host "127.0.0.1"
                              :service (np-port server) :nowait t)))
             (np-note 'made (np 'process-status client)
                      (np 'process-contact client :remote t))
             (np-wait (lambda () (eq (np 'process-status client) 'open)))
             (np-note 'then (np 'process-status client))))))
    (should (equal (np-run scenario nil) '((made connect nil) (then open))))
    (should (equal (np-run scenario t) '((made connect [127 0 0 1 PORT]) (then open))))))

;;;; :tls-parameters

(ert-deftest netproc-tls-parameters-start-tls ()
  "Emacs (built with GnuTLS) and netproc (rustls) both start TLS on a connection made
with :tls-parameters: a :nowait client to a server that never answers the handshake stays
`connect'; nil, which `open-network-stream :type plain' passes, is plain for both."
  (require 'gnutls)
  (let ((scenario
         (lambda ()
           (let ((server (np-quiet-server "srv")))
             (np-note 'tls
                      (np-error (lambda ()
                                  (let ((p (np 'make-network-process
                                               :name "tls" :host "127.0.0.1" :nowait t
                                               :service (np-port server)
                                               :tls-parameters
                                               (cons 'gnutls-x509pki
                                                     (gnutls-boot-parameters
                                                      :hostname "localhost")))))
                                    (prog1 (np 'process-status p)
                                      ;; Emacs 28.2's delete-process can spin forever
                                      ;; when a :nowait lookup (getaddrinfo_a, even of
                                      ;; 127.0.0.1) ends between its gai_cancel and its
                                      ;; gai_suspend loop (src/process.c, which loops
                                      ;; while gai_suspend returns EAI_ALLDONE): let
                                      ;; the lookup finish first.
                                      (np-settle 0.3)
                                      (np 'delete-process p))))))
             (np-note 'plain
                      (np-error (lambda ()
                                  (np 'process-status
                                      (np 'make-network-process
                                          :name "plain" :host "127.0.0.1"
                                          :service (np-port server)
                                          :tls-parameters nil)))))))))
    (should (equal (np-run scenario nil)
                   '((tls (returned connect)) (plain (returned open)))))
    (should (equal (np-run scenario t)
                   '((tls (returned connect)) (plain (returned open)))))))

;;;; A NUL inside a unix socket path

(ert-deftest netproc-difference-nul-in-unix-path ()
  "Emacs copies a unix path as a C string, so \"DIR/s\\0x\" binds DIR/s.  netproc
refuses a path with a NUL inside with the error Emacs's file primitives give such a
name: (wrong-type-argument filenamep PATH)."
  (let* ((dir (make-temp-file "np-nul" t))
         (path (concat (expand-file-name "s" dir) "\0x"))
         (scenario
          (lambda ()
            (np-note 'made
                     (np-error (lambda ()
                                 (np 'process-status
                                     (np 'make-network-process :name "nul" :server t
                                         :family 'local :service path)))))
            (np-note 'file (file-exists-p (expand-file-name "s" dir)))
            (ignore-errors (delete-file (expand-file-name "s" dir))))))
    (unwind-protect
        (progn
          (should (equal (np-run scenario nil) '((made (returned listen)) (file t))))
          (should (equal (np-run scenario t)
                         `((made (error wrong-type-argument filenamep ,path)) (file nil)))))
      (delete-directory dir t))))

;;;; Unix addresses of 108 bytes or more

(defun np-scenario-unix-long-remote ()
  "A client whose :remote names the server's socket in its first 108 bytes, then more."
  (let* ((dir (make-temp-file "np-unix" t))
         (server (np 'make-network-process :name "usrv" :server t :family 'local
                     :service (expand-file-name "s" dir) :sentinel #'ignore))
         (padding (- 108 (length dir) 2))
         (remote (concat dir "/" (apply #'concat (make-list (/ padding 2) "./"))
                         (if (cl-oddp padding) "/" "") "s")))
    (ignore server)
    (unwind-protect
        (progn
          (np-note 'length (length remote))
          (np-note 'made (np-error (lambda ()
                                     (np 'process-status
                                         (np 'make-network-process :name "ucli" :family 'local
                                             :remote (concat remote "/junk")))))))
      (delete-directory dir t))))

(ert-deftest netproc-difference-unix-address-108 ()
  "Emacs cuts a unix address string at 108 bytes (here it then names the server's
socket, and the client connects); netproc refuses an address of 108 bytes or more."
  (should (equal (np-run #'np-scenario-unix-long-remote nil)
                 '((length 108) (made (returned open)))))
  (should (equal (np-run #'np-scenario-unix-long-remote t)
                 '((length 108) (made (error error "Unix socket path too long"))))))

;;;; SIGPIPE, and delete-process's notify pass

(defun np-scenario-sigpipe ()
  "Send twice to a client whose peer was deleted, without pumping between: the second
send meets EPIPE.  Then delete another process."
  (let* ((server (np-quiet-server "srv"))
         (port (np-port server))
         (a (np-client "a" port))
         (b (np-client "b" port))
         (peer-a (np-peer a)))
    (np-settle 0.1)
    (setq np--transcript nil)
    (np 'set-process-sentinel peer-a #'ignore)
    (np 'delete-process peer-a)
    (call-process "sleep" nil nil nil "0.1")
    (np-note 'first (np-error (lambda () (np 'process-send-string a "x"))))
    (call-process "sleep" nil nil nil "0.1")
    (np-note 'second (np-error (lambda () (np 'process-send-string a "y"))))
    (np-note 'status (np 'process-status a))
    (np 'delete-process b)
    (np-note 'delete-returned)
    (np-settle 0.1)))

(defun np-child-emacs (program &optional seconds)
  "Run PROGRAM (a Lisp form as a string) in a child `emacs -Q --batch' with the
module's directory and the tests' on the load path; (EXIT-STATUS . OUTPUT).  The
child is killed after SECONDS (default 30)."
  (with-temp-buffer
    (let ((status (call-process "timeout" nil t nil (number-to-string (or seconds 30))
                                (expand-file-name invocation-name invocation-directory)
                                "-Q" "--batch"
                                "-L" (file-name-directory (locate-library "netproc"))
                                "-L" (file-name-directory (locate-library "netproc-test"))
                                "--eval" program)))
      (cons status (buffer-string)))))

(ert-deftest netproc-difference-sigpipe ()
  "Batch Emacs dies of SIGPIPE writing to a reset socket (run in a child Emacs, exit
status 141); netproc never raises SIGPIPE: the send fails with \"process NAME no longer
connected to pipe; closed it\" and the sentinel follows.  delete-process of another
process runs that pending sentinel before it returns, as Emacs's notify pass does."
  (let ((child (np-child-emacs
                "(progn (require 'netproc-test-differences)
                        (princ (format \"%S\" (np-run #'np-scenario-sigpipe nil))))")))
    ;; `timeout' dies of the same signal as its child.
    (should (member (car child) '(141 "Broken pipe")))
    (should-not (string-match-p "delete-returned" (cdr child))))
  (should (equal (np-run #'np-scenario-sigpipe t)
                 '((first (returned nil))
                   (second (error error "process a no longer connected to pipe; closed it"))
                   (status closed)
                   (sentinel (process "b") "deleted\n")
                   (sentinel (process "a") "connection broken by remote peer\n")
                   (delete-returned)))))

;;;; Accept failures

(defun np-backoff-program (twins)
  "A child's Lisp: a server (TWINS: netproc's) whose log counts failed accepts for one
second after the first; prints PORT and PID at once, RESULT FAILURES SECONDS at the end."
  (format "(progn
  (require 'netproc)
  (let* ((tw %S) (failures 0) (first nil)
         (server (funcall (if tw #'netproc-make-network-process #'make-network-process)
                          :name \"full\" :server 64 :host \"127.0.0.1\" :service t :family 'ipv4
                          :sentinel #'ignore :filter #'ignore
                          :log (lambda (_s client _m)
                                 (unless client
                                   (setq failures (1+ failures))
                                   (unless first (setq first (float-time))))))))
    (message \"PORT %%d PID %%d\"
             (cadr (funcall (if tw #'netproc-process-contact #'process-contact) server))
             (emacs-pid))
    (let ((deadline (+ (float-time) 15)))
      (while (and (< (float-time) deadline) (or (not first) (< (- (float-time) first) 1.0)))
        (if tw (netproc-accept-process-output nil 0.05) (accept-process-output nil 0.05))))
    (message \"RESULT %%d %%.3f\" failures (if first (- (float-time) first) 0))))" twins))

(defun np-backoff-run (twins)
  "Run `np-backoff-program' in a child Emacs, lower its open-file limit to what it has
open plus 2 once it listens, connect 8 clients; (FAILURES SECONDS)."
  (let* ((output "")
         (child (make-process
                 :name "np-backoff" :noquery t :connection-type 'pipe
                 :command (list (expand-file-name invocation-name invocation-directory)
                                "-Q" "--batch"
                                "-L" (file-name-directory (locate-library "netproc"))
                                "--eval" (np-backoff-program twins))
                 :filter (lambda (_p s) (setq output (concat output s)))
                 :sentinel #'ignore))
         (clients nil))
    (unwind-protect
        (let ((deadline (+ (float-time) 10)))
          (while (and (not (string-match "PORT \\([0-9]+\\) PID \\([0-9]+\\)" output))
                      (< (float-time) deadline))
            (accept-process-output child 0.1))
          (let* ((port (string-to-number (match-string 1 output)))
                 (pid (string-to-number (match-string 2 output)))
                 (open (- (length (directory-files (format "/proc/%d/fd" pid))) 2)))
            (should (= 0 (call-process "prlimit" nil nil nil (format "--pid=%d" pid)
                                       (format "--nofile=%d:" (+ open 2)))))
            (dotimes (_ 8)
              (push (make-network-process :name "c" :host "127.0.0.1" :service port
                                          :noquery t :sentinel #'ignore :filter #'ignore)
                    clients))
            (let ((deadline (+ (float-time) 20)))
              (while (and (not (string-match "RESULT \\([0-9]+\\) \\([0-9.]+\\)" output))
                          (< (float-time) deadline))
                (accept-process-output child 0.1)))
            (list (string-to-number (match-string 1 output))
                  (string-to-number (match-string 2 output)))))
      (mapc #'delete-process clients)
      (delete-process child))))

(ert-deftest netproc-difference-accept-backoff ()
  "When accept() fails for lack of descriptors, Emacs retries in a busy loop, logging
\"accept failed with code24\" each time; netproc pauses accepting for 100 ms after a
failure and logs once per pause.  Both run in a child Emacs whose open-file limit is
lowered (prlimit) once it listens."
  (unless (executable-find "prlimit") (ert-skip "prlimit (util-linux) is not installed"))
  (let ((builtin (np-backoff-run nil))
        (twin (np-backoff-run t)))
    (message "accept failures in about 1 s: built-in %S, twins %S" builtin twin)
    (should (> (car builtin) 50))
    (should (>= (car twin) 1))
    ;; One failure per 100 ms pause would be 10 a second; the bound allows twice that, so
    ;; a loaded machine cannot fail it, and is still thousands of times below a busy loop.
    (should (<= (car twin) (+ 2 (* 20 (cadr twin)))))))

;;;; Callback values

(np-deftest callback-values-unchecked
  "The docs/DIFFERENCES.md row on checking :filter, :sentinel and :log at once is about C hosts
\(a C function pointer of the wrong type could not be called safely).  A Lisp value
is any object, so the twins take what Emacs takes and fail, as Emacs does, only when
the value is called."
  (dolist (key '(:filter :sentinel :log))
    (np-note key (np-error
                  (lambda ()
                    (np 'process-status
                        (np 'make-network-process :name "chk" :server t
                            :host "127.0.0.1" :service t key 42)))))))

;;;; Printing

(ert-deftest netproc-difference-printing ()
  "Emacs prints a process as #<process NAME>; a twin process is a record, which
`cl-prin1' prints as #<netproc-process NAME> and `prin1' (Emacs 28 has no print hook
for records) as #s(netproc-process \"NAME\" …), the name first."
  (let ((builtin (make-network-process :name "shown" :server t :host "127.0.0.1" :service t))
        (twin (netproc-make-network-process :name "shown" :server t :host "127.0.0.1"
                                            :service t)))
    (unwind-protect
        (progn
          (should (equal (prin1-to-string builtin) "#<process shown>"))
          (should (equal (format "%S" builtin) "#<process shown>"))
          (should (equal (cl-prin1-to-string twin) "#<netproc-process shown>"))
          (should (string-prefix-p "#s(netproc-process \"shown\" #<user-ptr "
                                   (prin1-to-string twin)))
          (should (string-prefix-p "#s(netproc-process \"shown\" " (format "%S" twin)))
          (should (equal (format "%s" (netproc-process-name twin)) "shown")))
      (delete-process builtin)
      (netproc-delete-process twin))))

;;;; process-contact waits for a :nowait lookup

(np-deftest contact-waits-for-lookup
  "process-contact without NO-BLOCK on a :nowait client still looking its host up
waits (pumping) until the socket exists, as Emacs's wait_for_socket_fds does; with
NO-BLOCK it returns nil at once."
  (let* ((server (np-quiet-server "srv"))
         (client (np-client "cli" (np-port server) :host "localhost" :nowait t
                            :family 'ipv4)))
    (np-note 'status (np 'process-status client))
    (np-note 'no-block (np 'process-contact client t t))
    (np-note 'contact (np 'process-contact client))
    (np-note 'socket (and (np 'process-contact client t t) t)
             (vectorp (np 'process-contact client :local)))))

(provide 'netproc-test-differences)
;;; netproc-test-differences.el ends here

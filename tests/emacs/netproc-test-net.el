;;; netproc-test-net.el --- Differential tests: coding, datagrams, options, addresses  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Scenarios for coding systems, datagrams, socket options, the address utilities, Unix
;; sockets and IPv6, and the documented differences among them.  The harness is in
;; netproc-test.el, the helpers shared with the state scenarios in netproc-test-state.el.

;;; Code:

(require 'netproc-test)
(require 'netproc-test-state)

;;;; Coding systems

(np-deftest coding-systems
  "process-coding-system, set-process-coding-system, filter-multibyte and their errors."
  (let* ((server (np-quiet-server "srv"))
         (port (np-port server))
         (strings nil)
         (client (np 'make-network-process :name "cli" :host "127.0.0.1" :service port
                     :coding 'utf-8 :filter (lambda (_p s) (push s strings)))))
    (np-note 'initial (np 'process-coding-system client) (np-filter-multibyte-p client))
    (np-note 'set (np 'set-process-coding-system client 'latin-1 'utf-8)
             (np 'process-coding-system client) (np-filter-multibyte-p client))
    (np-note 'set-nil (np 'set-process-coding-system client) (np 'process-coding-system client)
             (np-filter-multibyte-p client))
    (np-note 'set-binary (np 'set-process-coding-system client 'binary 'binary)
             (np 'process-coding-system client) (np-filter-multibyte-p client))
    (np-note 'unknown (np-error (lambda () (np 'set-process-coding-system client 'no-such 'utf-8)))
             (np-error (lambda () (np 'set-process-coding-system client 'utf-8 'no-such))))
    (np 'set-process-coding-system client 'utf-8 'utf-8)
    (when (fboundp 'set-process-filter-multibyte) ; not in Emacs 29 and later
      (np-note 'multibyte-nil (np 'set-process-filter-multibyte client nil)
               (np-filter-multibyte-p client) (np 'process-coding-system client)))
    (np 'process-send-string client "caf\303\251\n")
    (np-wait (lambda () strings))
    (np-note 'got (car strings) (multibyte-string-p (car strings)))
    (np-note 'create-unknown
             (np-error (lambda () (np 'make-network-process :name "x" :host "127.0.0.1"
                                      :service port :coding 'no-such))))
    (np-note 'defaults
             (let ((default-process-coding-system '(latin-1 . utf-8-dos)))
               (np 'process-coding-system
                   (np 'make-network-process :name "d" :host "127.0.0.1" :service port)))
             (np 'process-coding-system
                 (np 'make-network-process :name "e" :host "127.0.0.1" :service port
                     :coding '(utf-8 . latin-1))))))

(ert-deftest netproc-difference-filter-multibyte-restore ()
  "Emacs's set-process-filter-multibyte t after nil leaves the decoding raw-text;
netproc restores the decoding that nil replaced (docs/DIFFERENCES.md).  Emacs 29
removed the function, and the twin is gone there too: no difference is left."
  (if (not (fboundp 'set-process-filter-multibyte))
      (progn (should-not (fboundp 'netproc-set-process-filter-multibyte))
             (should-not (fboundp 'netproc-process-filter-multibyte-p)))
    (let ((scenario
           (lambda ()
             (let* ((server (np-quiet-server "srv"))
                    (client (np-client "cli" (np-port server) :coding 'utf-8)))
               (np 'set-process-filter-multibyte client nil)
               (np-note 'nil (np 'process-coding-system client)
                        (np 'process-filter-multibyte-p client))
               (np-note 't (np 'set-process-filter-multibyte client t)
                        (np 'process-coding-system client)
                        (np 'process-filter-multibyte-p client))))))
      (should (equal (np-run scenario nil)
                     '((nil (raw-text . utf-8) nil)
                       (t nil (raw-text . utf-8) nil))))
      ;; set-process-filter-multibyte returns nil in Emacs; the twin does too.
      (should (equal (np-run scenario t)
                     '((nil (raw-text . utf-8) nil)
                       (t nil (utf-8 . utf-8) t)))))))

;;;; Datagrams

(defun np-datagram-server (name &rest args)
  "A UDP echo server NAME on loopback recording its filter (with the peer) and sentinel."
  (apply #'np 'make-network-process
         :name name :type 'datagram :server t :host "127.0.0.1" :service t :family 'ipv4
         :filter (lambda (process string)
                   (np-note 'server-filter process string (np 'process-datagram-address process))
                   (np 'process-send-string process (upcase string)))
         :sentinel (lambda (process message) (np-note 'server-sentinel process message))
         args))

(np-deftest datagram
  "A UDP echo: statuses, contacts, process-datagram-address and its setter."
  (let* ((server (np-datagram-server "dsrv"))
         (port (np-port server))
         (tcp (np-quiet-server "tcp")))
    (np-status server)
    (np-note 'fresh (np 'process-datagram-address server) (np 'process-contact server :remote))
    (let ((client (np-client "dcli" port :type 'datagram :family 'ipv4)))
      (np-status client)
      (np-note 'client (np 'process-datagram-address client)
               (np 'process-contact client :remote) (np 'process-contact client :local))
      (np 'process-send-string client "ping")
      (np-wait (lambda () (np-seen 'filter "PING")))
      (np-note 'server-peer (np 'process-datagram-address server)
               (np 'process-contact server :remote))
      (np-note 'set (np 'set-process-datagram-address client (vector 127 0 0 1 port))
               (np 'process-datagram-address client))
      (np-note 'set-bad (np 'set-process-datagram-address client [0 0 0 0 0 0 0 1 80])
               (np 'set-process-datagram-address client "/tmp/x")
               (np 'set-process-datagram-address client [1 2 3]))
      (np-note 'not-datagram (np 'process-datagram-address tcp)
               (np 'set-process-datagram-address tcp (vector 127 0 0 1 port)))
      (np-note 'eof (np 'process-send-eof client))
      (np-status client)
      (np 'process-send-string client "pong")
      (np-wait (lambda () (np-seen 'filter "PONG")))
      (np 'delete-process client)
      (np-note 'deleted (np 'process-datagram-address client))
      (np-status server))))

(defun np-send-empty-datagram (port)
  "Send one empty UDP datagram to 127.0.0.1:PORT from another program; nil if none can."
  (cond ((executable-find "perl")
         (zerop (call-process "perl" nil nil nil "-MSocket" "-e"
                              "socket(S, PF_INET, SOCK_DGRAM, 0) or die;
                               defined(send(S, '', 0, sockaddr_in($ARGV[0], inet_aton('127.0.0.1')))) or die"
                              (number-to-string port))))
        ((executable-find "python3")
         (zerop (call-process "python3" nil nil nil "-c"
                              "import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'', ('127.0.0.1', int(sys.argv[1])))"
                              (number-to-string port))))))

(ert-deftest netproc-difference-empty-datagram ()
  "Emacs closes a datagram process that receives an empty datagram; netproc delivers
it as a zero-length filter call and stays open (docs/DIFFERENCES.md)."
  (unless (or (executable-find "perl") (executable-find "python3"))
    (ert-skip "no perl or python3 to send an empty datagram"))
  (let ((scenario (lambda ()
                    (let ((server (np-datagram-server "dsrv")))
                      (should (np-send-empty-datagram (np-port server)))
                      (np-wait (lambda () (or (np-seen 'server-filter) (np-seen 'server-sentinel))))
                      (np-settle 0.1)
                      (np-status server)))))
    (should (equal (np-run scenario nil)
                   '((server-sentinel (process "dsrv") "connection broken by remote peer\n")
                     (status "dsrv" closed nil 256))))
    (should (equal (np-run scenario t)
                   '((server-filter (process "dsrv") "" [127 0 0 1 PORT])
                     (status "dsrv" open (open listen connect stop) 0))))))

;;;; Socket options

(np-deftest options
  "set-network-process-option: success, the contact plist, unknown options, errors."
  (let* ((server (np-quiet-server "srv"))
         (client (np-client "cli" (np-port server))))
    (np-note 'keepalive (np 'set-network-process-option client :keepalive t)
             (np 'process-contact client :keepalive))
    (np-note 'again (np 'set-network-process-option client :keepalive nil)
             (np 'process-contact client :keepalive))
    (np-note 'server (np 'set-network-process-option server :reuseaddr t))
    (np-note 'priority (np 'set-network-process-option client :priority 3))
    (np-note 'linger (np 'set-network-process-option client :linger 5))
    (np-note 'unknown (np-error (lambda () (np 'set-network-process-option client :no-such-option t))))
    (np-note 'no-error (np 'set-network-process-option client :no-such-option t t))
    (np-note 'name-key (np-error (lambda () (np 'set-network-process-option client :name "x"))))
    (np-note 'not-symbol (np-error (lambda () (np 'set-network-process-option client "x" 1))))
    (np-note 'bad-priority
             (np-error (lambda () (np 'set-network-process-option client :priority 'foo))))
    (np-note 'bad-device
             (np-error (lambda () (np 'set-network-process-option client :bindtodevice 5))))
    (np-note 'at-creation
             (np-error (lambda () (np 'make-network-process :name "x" :server t :service t
                                      :host "127.0.0.1" :priority 'foo))))
    (np 'delete-process client)
    (np-note 'deleted (np-error (lambda () (np 'set-network-process-option client :keepalive t))))
    (np-note 'not-process (np-error (lambda () (np 'set-network-process-option 42 :keepalive t))))))

;;;; Address utilities

(np-deftest format-address
  "format-network-address on every form of Emacs's Fformat_network_address."
  (dolist (address '([127 0 0 1] [127 0 0 1 80] [0 0 0 0 0 0 0 1] [0 0 0 0 0 0 0 1 80]
                     [65535 10 0 255 4096 0 0 1 443] [1 2 3 4 70000] [256 0 0 1 80]
                     [-1 0 0 0 1] [1.0 2 3 4] [a b c d] [1 2 3] [1 2 3 4 5 6] "" "/tmp/s"
                     (1 . [1 2 3]) ("a" . 5) nil 42 foo))
    (np-note address
             (np-error (lambda () (np 'format-network-address address)))
             (np-error (lambda () (np 'format-network-address address t))))))

(np-deftest interfaces
  "network-interface-list and network-interface-info."
  (np-note 'list (np 'network-interface-list))
  (np-note 'full (np 'network-interface-list t))
  (np-note 'ipv4 (np 'network-interface-list nil 'ipv4) (np 'network-interface-list t 'ipv4))
  (np-note 'ipv6 (np 'network-interface-list nil 'ipv6) (np 'network-interface-list t 'ipv6))
  (np-note 'bad-family (np-error (lambda () (np 'network-interface-list nil 'local))))
  (np-note 'lo (np 'network-interface-info "lo"))
  (dolist (interface (delete-dups (mapcar #'car (network-interface-list))))
    (np-note 'info interface (np 'network-interface-info interface)))
  (np-note 'missing (np 'network-interface-info "nosuchif0"))
  (np-note 'long (np-error (lambda () (np 'network-interface-info (make-string 16 ?a)))))
  (np-note 'not-string (np-error (lambda () (np 'network-interface-info 42)))))

(np-deftest lookup
  "network-lookup-address-info: addresses, families, and a bad family."
  (np-note 'numeric (np 'network-lookup-address-info "127.0.0.1"))
  (np-note 'ipv4 (np 'network-lookup-address-info "127.0.0.1" 'ipv4))
  (np-note 'localhost4 (np 'network-lookup-address-info "localhost" 'ipv4))
  (np-note 'localhost (np 'network-lookup-address-info "localhost"))
  (np-note 'ipv6 (np 'network-lookup-address-info "::1" 'ipv6))
  (np-note 'bad-family (np-error (lambda () (np 'network-lookup-address-info "localhost" 'local))))
  (np-note 'non-ascii (np-error (lambda () (np 'network-lookup-address-info "b\u00fccher.example"))))
  ;; Emacs 29's HINTS: `numeric' takes literal addresses only, in any form inet_aton takes.
  (when (= (cdr (func-arity 'network-lookup-address-info)) 3)
    (np-note 'numeric-hint (np 'network-lookup-address-info "127.1" 'ipv4 'numeric)
             (np 'network-lookup-address-info "::1" nil 'numeric))
    (np-note 'bad-hints (np-error (lambda () (np 'network-lookup-address-info "localhost" nil 'all))))
    (np-note 'bad-family-and-hints
             (np-error (lambda () (np 'network-lookup-address-info "localhost" 'local 'all))))))

(defun np-lookup-failure-output (twins)
  "What a child Emacs prints when a lookup fails, with the twin if TWINS."
  (with-temp-buffer
    (call-process (expand-file-name invocation-name invocation-directory) nil t nil
                  "-Q" "--batch" "-L" (file-name-directory (locate-library "netproc"))
                  "--eval"
                  (format "(progn (require 'netproc)
                                  (princ (format \"result %%S\\n\"
                                                 (list (%s \"nonexistent.invalid\")
                                                       (%s \"127.0.0.1\" 'ipv6)))))"
                          (if twins "netproc-network-lookup-address-info"
                            "network-lookup-address-info")
                          (if twins "netproc-network-lookup-address-info"
                            "network-lookup-address-info")))
    (buffer-string)))

(ert-deftest netproc-lookup-failure-message ()
  "A failed lookup shows NAME/0 GAI-MESSAGE with `message' and returns nil, as Emacs's.
In batch Emacs the built-in's message goes to stderr only, so each runs in a child Emacs."
  (let ((builtin (np-lookup-failure-output nil)))
    (should (string-match-p "^nonexistent.invalid/0 " builtin))
    (should (string-match-p "^result (nil nil)$" builtin))
    (should (equal (np-lookup-failure-output t) builtin))))

(ert-deftest netproc-difference-lookup-not-string ()
  "Emacs 28.2 crashes on network-lookup-address-info with a non-string NAME; netproc
signals (wrong-type-argument stringp NAME).  Only the twin is run."
  (should (equal (np-error (lambda () (netproc-network-lookup-address-info 42)))
                 '(error wrong-type-argument stringp 42))))

;;;; Unix sockets

(defconst np-unix-path
  (expand-file-name (format "np-unix-%d" (emacs-pid)) temporary-file-directory)
  "The Unix socket of the Unix scenario (the same path for both runs).")

(np-deftest unix
  "A Unix-socket echo: contacts, accepted names and messages, close."
  (when (file-exists-p np-unix-path) (delete-file np-unix-path))
  (unwind-protect
      (let* ((server (np-echo-server "usrv" :family 'local :host nil :service np-unix-path))
             (client (np 'make-network-process :name "ucli" :family 'local :service np-unix-path
                         :filter (lambda (p s) (np-note 'filter p s))
                         :sentinel (lambda (p m) (np-note 'sentinel p m)))))
        (np-status server)
        (np-note 'contacts (np 'process-contact server) (np 'process-contact client)
                 (np 'process-contact client :remote) (np 'process-contact client :local)
                 (np 'process-contact server :local))
        (np-wait (lambda () (np-seen 'log)))
        (let ((accepted (np-accepted "usrv")))
          (np-note 'accepted (np 'process-contact accepted)
                   (np 'process-contact accepted :remote) (np 'process-contact accepted :host)
                   (np 'process-contact accepted :service)))
        (np 'process-send-string client "unix\n")
        (np-wait (lambda () (np-seen 'filter "UNIX")))
        (np 'delete-process client)
        (np-wait (lambda () (np-seen 'server-sentinel "broken")))
        (np-note 'refused
                 (np-error (lambda () (np 'make-network-process :name "x" :family 'local
                                          :service (concat np-unix-path "-none"))))))
    (when (file-exists-p np-unix-path) (delete-file np-unix-path))))

;;;; IPv6

(defun np-skip-unless-ipv6 ()
  "Skip the test unless a server can listen on ::1."
  (condition-case nil
      (delete-process (make-network-process :name "probe6" :server t :host "::1" :service t
                                            :family 'ipv6))
    (error (ert-skip "::1 is not available"))))

(defun np-ipv6-scenario ()
  "An IPv6 echo on ::1."
  (let* ((server (np-echo-server "s6" :host "::1" :family 'ipv6))
         (client (np-client "c6" (np-port server) :host "::1" :family 'ipv6)))
    (np-note 'contacts (np 'process-contact server) (np 'process-contact server :local)
             (np 'process-contact client) (np 'process-contact client :remote))
    (np-wait (lambda () (np-seen 'log)))
    (let ((accepted (car (last (np-list)))))
      (setq accepted (cl-find-if (lambda (p) (string-prefix-p "s6 <" (np 'process-name p)))
                                 (np-list)))
      (np-note 'accepted (np 'process-name accepted) (np 'process-contact accepted)
               (np 'process-contact accepted :remote)))
    (np 'process-send-string client "six\n")
    (np-wait (lambda () (np-seen 'filter "SIX")))
    (np 'delete-process client)
    (np-wait (lambda () (np-seen 'server-sentinel "broken")))))

(ert-deftest netproc-difference-ipv6-client-id ()
  "Emacs byte-swaps the IPv6 client id on little-endian hosts (<[0:0:0:0:0:0:0:100]:P>
for ::1); netproc writes network byte order everywhere.  All else is the same."
  (np-skip-unless-ipv6)
  (let ((builtin (np-run #'np-ipv6-scenario nil))
        (twin (np-run #'np-ipv6-scenario t)))
    (should (member '(log (process "s6") (process "s6 <[0:0:0:0:0:0:0:100]:PORT>")
                          "accept from 0:0:0:0:0:0:0:100\n")
                    builtin))
    (should (member '(log (process "s6") (process "s6 <[0:0:0:0:0:0:0:1]:PORT>")
                          "accept from 0:0:0:0:0:0:0:1\n")
                    twin))
    (should (equal (funcall (np-replacing "0:0:0:0:0:0:0:100" "0:0:0:0:0:0:0:1") builtin)
                   twin))))

;;;; Failures without a sentinel in Emacs

(ert-deftest netproc-difference-dns-failure-sentinel ()
  "Emacs runs no sentinel when the async lookup of a :nowait client fails; netproc runs
it once with \"failed with code Name lookup of HOST failed\\n\"."
  (let ((scenario (lambda ()
                    (let ((client (np-client "dns" 80 :host "nonexistent.invalid" :nowait t)))
                      (np-wait (lambda () (eq (np 'process-status client) 'failed)) 10)
                      (np-settle 0.1)
                      (np-status client)))))
    (should (equal (np-run scenario nil)
                   '((status "dns" failed nil "Name lookup of nonexistent.invalid failed"))))
    (should (equal (np-run scenario t)
                   '((sentinel (process "dns")
                               "failed with code Name lookup of nonexistent.invalid failed\n")
                     (status "dns" failed nil "Name lookup of nonexistent.invalid failed"))))))

(ert-deftest netproc-difference-immediate-failure ()
  "Emacs 28 leaves a :nowait client whose connect fails at once with an error symbol as
its status and no sentinel (Emacs 29: status failed, exit status the error's data, no
sentinel); netproc's status is failed, the exit status the errno, and the sentinel runs
with \"failed with code ERRNO\\n\"."
  (let* ((path (concat np-unix-path "-none"))
         (scenario (lambda ()
                     (let ((client (np-client "now" path :family 'local :host nil :nowait t)))
                       (np-settle 0.2)
                       (np-note 'status (np 'process-status client) (np 'process-live-p client))))))
    ;; Emacs 29 made the status `failed' (its exit status the error's data), still
    ;; without a sentinel; Emacs 28's status is the error symbol.
    (should (equal (np-run scenario nil) (if (>= emacs-major-version 29)
                                             '((status failed nil))
                                           '((status file-missing nil)))))
    (should (equal (np-run scenario t)
                   '((sentinel (process "now") "failed with code 2\n")
                     (status failed nil))))
    (let ((np--twins t))
      (let ((client (np-client "now" path :family 'local :host nil :nowait t)))
        (unwind-protect
            (progn (np-settle 0.1)
                   (should (equal (netproc-process-exit-status client) 2)))
          (netproc-delete-process client))))))

(provide 'netproc-test-net)
;;; netproc-test-net.el ends here

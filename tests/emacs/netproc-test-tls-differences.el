;;; netproc-test-tls-differences.el --- TLS rows of docs/DIFFERENCES.md  -*- lexical-binding: t -*-

;; Each test runs a scenario against `openssl s_server' (certificates made at test time by
;; target/release/examples/test-certs) with Emacs's built-in GnuTLS and with netproc's
;; twins, and asserts both sides.  Emacs 28.2's half runs in a child Emacs: its TLS
;; failures are not deterministic here (a :nowait client with :verify-error t is sometimes
;; `failed' without a sentinel, sometimes `open'), and a :nowait client without
;; :verify-error crashes it (SIGSEGV) in about two runs of three.

(require 'netproc-test)
(require 'netproc-test-differences)
(require 'gnutls)

(defvar np-tls-certs
  (let ((dir (make-temp-file "np-certs" t))
        (maker (expand-file-name "../../target/release/examples/test-certs"
                                 (file-name-directory (or load-file-name buffer-file-name)))))
    (unless (file-executable-p maker)
      (error "%s is missing: run `make test-certs'" maker))
    (unless (eq 0 (call-process maker nil nil nil dir))
      (error "%s failed" maker))
    (add-hook 'kill-emacs-hook (lambda () (delete-directory dir t)))
    dir)
  "The test certificates (see tests/support/certs.rs); removed when Emacs exits.")

(defun np-cert (name)
  "The path of test certificate file NAME."
  (expand-file-name name np-tls-certs))

(defun np-free-port ()
  "A loopback port free now."
  (let* ((probe (make-network-process :name "np-port" :server t :host "127.0.0.1" :service t))
         (port (cadr (process-contact probe))))
    (delete-process probe)
    port))

(defun np-tls-server (cert key &rest options)
  "Start `openssl s_server' with CERT and KEY (and OPTIONS); its (PROCESS . PORT) once
it accepts connections.  Its stdin stays open, so it never closes a connection itself."
  (unless (executable-find "openssl")
    (error "openssl is needed by the TLS tests and is not installed"))
  (let* ((port (np-free-port))
         (server (make-process :name "np-s_server" :noquery t :connection-type 'pipe :buffer nil
                               :command (append (list "openssl" "s_server" "-quiet"
                                                      "-accept" (format "127.0.0.1:%d" port)
                                                      "-cert" (np-cert cert) "-key" (np-cert key))
                                                options)))
         (deadline (+ (float-time) 10))
         ready)
    (while (and (not ready) (< (float-time) deadline))
      (condition-case nil
          (progn (delete-process (make-network-process :name "np-probe" :host "127.0.0.1"
                                                       :service port))
                 (setq ready t))
        (file-error (sleep-for 0.05))))
    (unless ready (error "openssl s_server did not start"))
    (cons server port)))

(defun np-tls-params (&rest spec)
  "`:tls-parameters' as Emacs's `gnutls-boot-parameters' builds them from SPEC."
  (cons 'gnutls-x509pki (apply #'gnutls-boot-parameters spec)))

(defun np-tls-unknown-ca (verify-error)
  "Parameters trusting only other-ca.pem, so the test server's certificate is unknown."
  (if (eq verify-error 'absent)
      (list 'gnutls-x509pki :hostname "localhost" :trustfiles (list (np-cert "other-ca.pem")))
    (np-tls-params :hostname "localhost" :trustfiles (list (np-cert "other-ca.pem"))
                   :verify-error verify-error)))

(defun np-tls-scenario (kind)
  "One client of a fresh `openssl s_server' whose certificate the client cannot trust.
KIND: `blocking' (:verify-error t), `nowait' (:verify-error t), `lenient' (:nowait, no
:verify-error key at all).  The transcript of the client's statuses and sentinels."
  (let ((server (np-tls-server "server.pem" "server.key"))
        (network-security-level 'low))
    (unwind-protect
        (pcase kind
          ('blocking
           (np-note 'made (np-error (lambda ()
                                      (np 'process-status
                                          (np-client "c" (cdr server)
                                                     :tls-parameters (np-tls-unknown-ca t)))))))
          (_
           (let ((client (np-client "c" (cdr server) :nowait t
                                    :tls-parameters (np-tls-unknown-ca
                                                     (if (eq kind 'nowait) t 'absent)))))
             (np-wait (lambda () (not (eq (np 'process-status client) 'connect))) 5)
             (np-settle 0.3)
             (np-status client))))
      (delete-process (car server)))))

(defun np-tls-builtin (kind)
  "Run `np-tls-scenario' KIND with the built-ins in a child Emacs: (EXIT . TRANSCRIPT),
TRANSCRIPT nil when the child printed none."
  (let* ((child (np-child-emacs
                 (format "(progn (require 'netproc-test-tls-differences)
                                 (princ (format \"R %%S\" (np-run (lambda () (np-tls-scenario '%s)) nil))))"
                         kind)
                 60))
         (output (cdr child)))
    (cons (car child)
          (and (string-match "^R \\(.*\\)" output)
               (car (read-from-string (substring output (match-beginning 1))))))))

(defconst np-tls-unknown-ca-message
  "Certificate validation failed localhost: the certificate was signed by an unknown and therefore untrusted authority")

(ert-deftest netproc-difference-tls-blocking-message ()
  "A blocking TLS create with a certificate from an unknown CA: Emacs signals
\"Certificate validation failed HOST, verification code 42\", netproc names the reason."
  (should (equal (cdr (np-tls-builtin 'blocking))
                 '((made (error error "Certificate validation failed localhost, verification code 42")))))
  (should (equal (np-run (lambda () (np-tls-scenario 'blocking)) t)
                 `((made (error error ,np-tls-unknown-ca-message))))))

(ert-deftest netproc-difference-tls-nowait-failure-sentinel ()
  "A :nowait client with :verify-error t and a certificate from an unknown CA: Emacs 28.2
ends `failed' with \"TLS negotiation failed\" and no sentinel, or goes `open' despite the
failure; netproc runs the sentinel once, `failed', the message naming the reason."
  (let ((builtin (cdr (np-tls-builtin 'nowait))))
    (should (or (equal builtin '((status "c" failed nil "TLS negotiation failed")))
                (equal (car builtin) '(sentinel (process "c") "open\n")))))
  (should (equal (np-run (lambda () (np-tls-scenario 'nowait)) t)
                 `((sentinel (process "c") ,(format "failed with code %s\n" np-tls-unknown-ca-message))
                   (status "c" failed nil ,np-tls-unknown-ca-message)))))

(ert-deftest netproc-difference-tls-verify-error-absent ()
  "`:tls-parameters' without a :verify-error key: GnuTLS only warns, so Emacs opens the
connection (or crashes: SIGSEGV, exit 139, in about two runs of three here); netproc makes
every check fatal."
  (let ((builtin (np-tls-builtin 'lenient)))
    (should (or (member (car builtin) '(139 "Segmentation fault"))
                (equal (cadr builtin) '(sentinel (process "c") "open\n")))))
  (should (equal (np-run (lambda () (np-tls-scenario 'lenient)) t)
                 `((sentinel (process "c") ,(format "failed with code %s\n" np-tls-unknown-ca-message))
                   (status "c" failed nil ,np-tls-unknown-ca-message)))))

(defun np-tls-refused-scenario ()
  "A :nowait TLS client of a port nobody listens on."
  (let* ((port (np-free-port))
         (client (np-client "c" port :nowait t
                            :tls-parameters (np-tls-params :hostname "localhost"))))
    (np-wait (lambda () (not (eq (np 'process-status client) 'connect))) 5)
    (np-settle 0.3)
    (np-status client)))

(ert-deftest netproc-difference-tls-refused-port ()
  "A :nowait TLS connect to a refused port kills batch Emacs 28.2 with SIGPIPE (exit 141,
run in a child Emacs); netproc runs the sentinel once, \"failed with code 111\"."
  (let ((child (np-child-emacs
                "(progn (require 'netproc-test-tls-differences)
                        (princ (format \"R %S\" (np-run #'np-tls-refused-scenario nil))))"
                60)))
    ;; `timeout' dies of the same signal as its child.
    (should (member (car child) '(141 "Broken pipe")))
    (should-not (string-match-p "^R " (cdr child))))
  (should (equal (np-run #'np-tls-refused-scenario t)
                 '((sentinel (process "c") "failed with code 111\n")
                   (status "c" failed nil 111)))))

(provide 'netproc-test-tls-differences)
;;; netproc-test-tls-differences.el ends here

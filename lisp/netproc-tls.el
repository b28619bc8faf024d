;;; netproc-tls.el --- The netproc twins of Emacs's TLS functions  -*- lexical-binding: t -*-

;; Copyright (C) the netproc authors
;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Loaded by netproc.el.  Twins of Emacs's GnuTLS functions for netproc processes:
;; `netproc-gnutls-negotiate' (STARTTLS; the parameters are built by Emacs's own
;; `gnutls-boot-parameters', so `gnutls-verify-error', `gnutls-trustfiles',
;; `gnutls-min-prime-bits' and the rest apply as in Emacs), `netproc-gnutls-peer-status',
;; `netproc-gnutls-available-p', `netproc-gnutls-peer-status-warning-describe', and the
;; handshake timeout.  `netproc-open-network-stream' runs Emacs's own `open-network-stream'
;; (network-stream.el, gnutls.el, nsm.el) on netproc processes.  A TLS connection from the
;; start is `netproc-make-network-process' with `:tls-parameters', as in Emacs.

;;; Code:

(eval-when-compile (require 'cl-lib))  ; macros only: cl-lib is not loaded with netproc
(require 'netproc-versions)
;; gnutls.el is loaded when TLS is first negotiated, not with netproc: it pulls in seq.el
;; and the byte compiler, whose data made each of Emacs's garbage collections about a
;; millisecond longer (about 5.8 ms instead of 5.0 in `emacs -Q', bench/responsive.el),
;; for every user of netproc, TLS or not.
(eval-when-compile (require 'gnutls))
(declare-function gnutls-boot-parameters "gnutls")

(declare-function netproc--check "netproc")
(declare-function netproc-processp "netproc")
(declare-function netproc-accept-process-output "netproc-api")
(declare-function netproc-make-network-process "netproc-api")

;;;; The handshake timeout

(defun netproc-tls-handshake-timeout ()
  "Return how many seconds a netproc TLS handshake may take (30 unless set).
A handshake that is not done by then fails: a `:nowait' or STARTTLS one with status
`failed' and the sentinel \"failed with code TLS handshake timed out after N seconds\\n\",
a blocking `netproc-make-network-process' with that error."
  (/ (netproc--tls-handshake-timeout) 1000.0))

(defun netproc-set-tls-handshake-timeout (seconds)
  "Let netproc TLS handshakes that start from now take SECONDS (a positive number).
Return SECONDS."
  (unless (numberp seconds)
    (signal 'wrong-type-argument (list 'numberp seconds)))
  (unless (> seconds 0)
    (signal 'args-out-of-range (list seconds)))
  (netproc--set-tls-handshake-timeout (max 1 (round (* seconds 1000))))
  seconds)

;;;; Peer status and capabilities

(defun netproc-gnutls-available-p ()
  "Return what netproc's TLS offers, in the shape of `gnutls-available-p'.
The TLS extensions netproc uses, as GnuTLS names them, then `gnutls'.  Without
`gnutls3', `digests', `ciphers', `AEAD-ciphers' and `macs', which announce Emacs's
GnuTLS crypto functions (`gnutls-digests', `gnutls-symmetric-encrypt', ...): netproc
does not provide them."
  (netproc--gnutls-available-p))

(defun netproc-gnutls-peer-status (proc)
  "Describe the TLS peer of netproc process PROC, as `gnutls-peer-status' does.
A plist: `:warnings' (when the certificate checks found problems `:verify-error' did
not make fatal; symbols for `netproc-gnutls-peer-status-warning-describe'),
`:certificates' (the chain, the host's certificate first) and `:certificate' (the
host's), then `:key-exchange', `:protocol', `:cipher', `:mac', `:encrypt-then-mac' and,
below TLS 1.3, `:safe-renegotiation', in GnuTLS's words.  Nil for a process without
TLS, before its handshake is done, and once it is closed.  Each certificate has
`:public-key-id-sha256' too where this Emacs's have it (Emacs 30)."
  (netproc--gnutls-peer-status (netproc--check proc) netproc--certificate-sha256-key-id))

(defun netproc-gnutls-peer-status-warning-describe (status-symbol)
  "Describe the warning STATUS-SYMBOL of `netproc-gnutls-peer-status', as
`gnutls-peer-status-warning-describe' does: a string, or nil for a symbol that is not a
warning."
  (unless (symbolp status-symbol)
    (signal 'wrong-type-argument (list 'symbolp status-symbol)))
  (netproc--gnutls-peer-status-warning-describe status-symbol))

;;;; STARTTLS

(defconst netproc--gnutls-wait-step 0.01
  "Seconds between two looks at a handshake `netproc-gnutls-negotiate' waits for.")

(defun netproc--gnutls-wait (process)
  "Pump until PROCESS's handshake is over; signal as `gnutls-negotiate' does if it failed.
The core fails a handshake after `netproc-tls-handshake-timeout'; the wait here gives
it a second more.  From inside a netproc callback, which cannot pump, nothing waits."
  (unless (netproc--in-callback-p)
    (let ((deadline (+ (float-time) (netproc-tls-handshake-timeout) 1)))
      (while (and (eq (netproc--gnutls-state process) 'handshake)
                  (< (float-time) deadline))
        (netproc-accept-process-output process netproc--gnutls-wait-step))
      (unless (eq (netproc--gnutls-state process) 'ready)
        ;; A failed handshake has closed the connection already; its status becomes
        ;; `failed' when the failure is delivered.
        (while (and (netproc--process-live-p process) (< (float-time) deadline))
          (netproc-accept-process-output process netproc--gnutls-wait-step))
        (cond ((eq (netproc--gnutls-state process) 'handshake)
               (signal 'gnutls-error (list process "TLS handshake still running")))
              ((eq (netproc--process-status process) 'failed)
               (let ((message (netproc--process-exit-status process)))
                 ;; The certificate checks fail with Emacs's own words
                 ;; (`gnutls_verify_boot' in src/gnutls.c), which Emacs signals as a
                 ;; plain error; the handshake's own failures are `gnutls-error's.
                 (if (and (stringp message)
                          (string-match-p "\\`\\(?:Certificate validation failed\\|The x509 certificate does not match\\)"
                                          message))
                     (error "%s" message)
                   (signal 'gnutls-error (list process message))))))))))

(cl-defun netproc-gnutls-negotiate
    (&rest spec
           &key process type hostname priority-string
           trustfiles crlfiles keylist min-prime-bits
           verify-flags verify-error verify-hostname-error
           &allow-other-keys)
  "Negotiate TLS on the open netproc connection PROCESS, as `gnutls-negotiate'.
Return PROCESS once the handshake is done.  SPEC is `gnutls-negotiate''s: the
parameters are built by Emacs's own `gnutls-boot-parameters', so `gnutls-verify-error',
`gnutls-trustfiles', `gnutls-algorithm-priority' and `gnutls-min-prime-bits' apply as
in Emacs (see its documentation for each key).  A connection a netproc server accepted
becomes the TLS server side, with the certificate of KEYLIST; TRUSTFILES there, when
given, are the roots its clients' certificates must chain to (a client certificate is
then required).

What was sent before goes out in the clear, ahead of the handshake; what is sent after
goes out encrypted.  The handshake runs in netproc's reactor: this waits for it (at
most `netproc-tls-handshake-timeout' seconds), running callbacks and timers meanwhile,
so that peer status is there when it returns, as `network-stream-open-starttls' needs
for `nsm-verify-connection'.  From inside a netproc filter or sentinel, which cannot
pump, it returns at once, and what is sent next still goes out encrypted once the
handshake is done.

A failed handshake closes PROCESS (status `failed', one sentinel, the reason as exit
status; never back to plaintext) and signals `gnutls-error' (PROCESS MESSAGE), or, for
a certificate that fails a check `:verify-error' makes fatal, `error' with Emacs's
message.

\(fn &key PROCESS TYPE HOSTNAME PRIORITY-STRING TRUSTFILES CRLFILES KEYLIST MIN-PRIME-BITS VERIFY-FLAGS VERIFY-ERROR VERIFY-HOSTNAME-ERROR)"
  (ignore spec)
  (netproc--check process)
  (require 'gnutls)
  (let* ((type (or type 'gnutls-x509pki))
         ;; As in `gnutls-negotiate': the library reads plain files only.
         (file-name-handler-alist nil)
         (params (gnutls-boot-parameters
                  :type type
                  :hostname hostname
                  :priority-string priority-string
                  :trustfiles trustfiles
                  :crlfiles crlfiles
                  :keylist keylist
                  :min-prime-bits min-prime-bits
                  :verify-flags verify-flags
                  :verify-error verify-error
                  :verify-hostname-error verify-hostname-error)))
    ;; `gnutls-boot-parameters' fills in the system's CA bundles; on the server side
    ;; trust roots are for the clients' certificates, which they would make required.
    (when (and (null trustfiles) (netproc--gnutls-server-side-p process))
      (setq params (plist-put params :trustfiles nil)))
    (netproc--gnutls-negotiate process (cons type params))
    (netproc--gnutls-wait process)
    process))

;;;; open-network-stream

(defconst netproc--stream-twins
  '((accept-process-output . netproc-accept-process-output)
    (delete-process . netproc-delete-process)
    (gnutls-peer-status . netproc-gnutls-peer-status)
    (process-buffer . netproc-process-buffer)
    (process-contact . netproc-process-contact)
    (process-live-p . netproc-process-live-p)
    (process-send-eof . netproc-process-send-eof)
    (process-send-region . netproc-process-send-region)
    (process-send-string . netproc-process-send-string)
    (process-status . netproc-process-status)
    (set-process-buffer . netproc-set-process-buffer)
    (set-process-coding-system . netproc-set-process-coding-system)
    (set-process-filter . netproc-set-process-filter)
    (set-process-sentinel . netproc-set-process-sentinel))
  "The primitives network-stream.el, gnutls.el and nsm.el call with a stream as first
argument, and their twins.")

(defun netproc--call-with-stream-twins (function)
  "Call FUNCTION with Emacs's primitives pointed at netproc's twins.
Each primitive of `netproc--stream-twins' calls its twin when its first argument is a
netproc process and itself otherwise; `gnutls-negotiate' does the same by its
`:process'; `processp' is true of netproc processes too; `make-network-process' and
`gnutls-available-p' are netproc's."
  ;; The original `gnutls-negotiate' is kept below, so it must be defined by then.
  (require 'gnutls)
  (let* ((dispatch (lambda (builtin twin)
                     (lambda (&rest args)
                       (apply (if (netproc-processp (car args)) twin builtin) args))))
         (negotiate (symbol-function 'gnutls-negotiate))
         (processp (symbol-function 'processp))
         (replacements
          (append
           (mapcar (lambda (pair)
                     (cons (car pair) (funcall dispatch (symbol-function (car pair)) (cdr pair))))
                   netproc--stream-twins)
           (list (cons 'make-network-process #'netproc-make-network-process)
                 (cons 'gnutls-available-p #'netproc-gnutls-available-p)
                 (cons 'gnutls-negotiate
                       (lambda (&rest spec)
                         (apply (if (netproc-processp (plist-get spec :process))
                                    #'netproc-gnutls-negotiate
                                  negotiate)
                                spec)))
                 (cons 'processp
                       (lambda (object)
                         (or (funcall processp object) (netproc-processp object)))))))
         (saved (mapcar (lambda (entry) (cons (car entry) (symbol-function (car entry))))
                        replacements)))
    (unwind-protect
        (progn
          (dolist (entry replacements) (fset (car entry) (cdr entry)))
          (funcall function))
      (dolist (entry saved) (fset (car entry) (cdr entry))))))

(defun netproc--tls-check (process)
  "Whether PROCESS, a TLS client whose handshake is done, may open.
The module calls this before the sentinel \"open\\n\", where Emacs's
finish_after_tls_connection (src/process.c) asks the Network Security Manager, when it
is loaded, about the host and service of the contact: it judges the peer status (and may
ask the user), and deletes a connection it refuses.  nil refuses the connection, which
then fails with \"The Network Security Manager stopped the connections\"."
  (or (not (fboundp 'nsm-verify-connection))
      (let ((contact (netproc-process-contact process t)))
        (netproc--call-with-stream-twins
         (lambda ()
           (nsm-verify-connection process (plist-get contact :host)
                                  (plist-get contact :service)))))))

(defun netproc-open-network-stream (name buffer host service &rest parameters)
  "Open a netproc stream to HOST:SERVICE as `open-network-stream' does.
Emacs's own `open-network-stream' runs, with its helpers in network-stream.el, gnutls.el
and nsm.el, on netproc processes: `:type' plain, tls (`:nowait' too) and starttls,
`:return-list', `:capability-command' and the rest of PARAMETERS work as documented
there, TLS through netproc's rustls, with `netproc-gnutls-negotiate' for STARTTLS and
the Network Security Manager reading `netproc-gnutls-peer-status'.

For the length of the call the primitives those files call are pointed at their twins
for netproc processes (see `netproc--call-with-stream-twins'); code that runs meanwhile
\(timers, other processes' filters, a Network Security Manager prompt) and makes a
network process gets a netproc one.  When the handshake of a `:nowait' TLS stream
finishes, the Network Security Manager judges it before its sentinel runs
\(`netproc--tls-check'), as in Emacs.

\(fn NAME BUFFER HOST SERVICE &rest PARAMETERS)"
  (netproc--call-with-stream-twins
   (lambda () (apply #'open-network-stream name buffer host service parameters))))

(provide 'netproc-tls)
;;; netproc-tls.el ends here

;;; tls_emacs.el --- TLS handshakes from Emacs, for bench/tls.py  -*- lexical-binding: t -*-
;; emacs -Q --batch -l bench/tls_emacs.el PORT CAFILE COUNT [netproc]
;; COUNT blocking TLS connects to 127.0.0.1:PORT (after one warm-up), each open on return
;; and deleted, through Emacs's built-in GnuTLS or, with "netproc", the netproc twins.
;; Blocking, because Emacs 28.2's :nowait TLS handshakes advance only when its wait loop
;; wakes and some stall for seconds (some for good, here), which would measure the stall.
;; Prints one RESULT line with the CPU Emacs spent (get-internal-run-time).
(require 'gnutls)
(let* ((args command-line-args-left)
       (port (string-to-number (nth 0 args)))
       (cafile (nth 1 args))
       (count (string-to-number (nth 2 args)))
       (twins (equal (nth 3 args) "netproc"))
       (make (if twins
                 (progn (add-to-list 'load-path (expand-file-name "lisp" default-directory))
                        (require 'netproc)
                        #'netproc-make-network-process)
               #'make-network-process))
       (status (if twins #'netproc-process-status #'process-status))
       (delete (if twins #'netproc-delete-process #'delete-process))
       (params (cons 'gnutls-x509pki
                     (gnutls-boot-parameters :hostname "localhost" :trustfiles (list cafile)
                                             :verify-error t))))
  (setq command-line-args-left nil)
  (let ((one (lambda ()
               (let ((p (funcall make :name "tls" :host "127.0.0.1" :service port
                                 :tls-parameters params))
                     (deadline (+ (float-time) 30)))
                 (while (eq (funcall status p) 'connect)
                   (when (> (float-time) deadline) (error "Timed out"))
                   (accept-process-output nil 0.001))
                 (unless (eq (funcall status p) 'open)
                   (error "TLS connection failed: %S" (funcall status p)))
                 (funcall delete p)))))
    (funcall one)
    (let ((cpu0 (float-time (get-internal-run-time)))
          (wall0 (float-time)))
      (dotimes (_ count) (funcall one))
      (let ((cpu (- (float-time (get-internal-run-time)) cpu0)))
        (princ (format "RESULT wall=%.3f cpu=%.3f handshakes=%d cpu_us_per_handshake=%.1f\n"
                       (- (float-time) wall0) cpu count (/ (* cpu 1e6) count)))))))

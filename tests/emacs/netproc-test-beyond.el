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

(provide 'netproc-test-beyond)
;;; netproc-test-beyond.el ends here

;;; netproc-test-values.el --- Lisp values through the twins  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Values the module reads are converted within a budget (README, "Values"): circular or
;; exponentially shared data is an error, not a hang, an exhausted memory or a crash.

;;; Code:

(require 'netproc-test)

(defun np-values--refused (value why)
  "Assert that VALUE as :remote is refused with WHY, leaving no process."
  (let ((before (netproc-process-list)))
    (should (equal (should-error (netproc-make-network-process :name "v" :remote value))
                   (list 'error (concat "Value too large or circular: " why))))
    (should (equal (netproc-process-list) before))))

(ert-deftest netproc-value-circular-list-refused ()
  "A circular list runs out the element budget."
  (let ((circular (list 1 2 3)))
    (setcdr (cddr circular) circular)
    (np-values--refused circular "more than 4096 elements")))

(ert-deftest netproc-value-doubling-dag-refused ()
  "64 levels of a list whose two items are the level below: 2^65 elements as a tree."
  (let ((dag "leaf"))
    (dotimes (_ 64) (setq dag (list dag dag)))
    (np-values--refused dag "more than 4096 elements")))

(ert-deftest netproc-value-self-containing-vector-refused ()
  "A vector that holds itself nests without end: refused past 64 levels, no stack
overflow."
  (let ((vector (make-vector 1 nil)))
    (aset vector 0 vector)
    (np-values--refused vector "nested more than 64 levels")))

(ert-deftest netproc-value-shared-big-string-refused ()
  "A thousand references to one 1 MiB string are refused before they are copied."
  (let ((big (make-string (* 1024 1024) ?b)))
    (np-values--refused (make-list 1000 big) "more than 268435456 bytes of strings")))

;;;; Lisp values stay Lisp objects

(defun np-values--server (&rest args)
  "A netproc server on 127.0.0.1 with ARGS added."
  (apply #'netproc-make-network-process :name "vals" :server t :host "127.0.0.1"
         :service t args))

(ert-deftest netproc-value-put-get-eq ()
  "A value put with `netproc-process-put' comes back `eq', as with `process-put'; so do
the plist, a :plist element and an unknown keyword's value in the contact."
  (let* ((value (list "a" (make-marker) 1.5))
         (plist (list :k value))
         (extra (list 'x "y"))
         (server (np-values--server :plist plist :my-key extra)))
    (unwind-protect
        (progn
          (should (eq (netproc-process-get server :k) value))
          (netproc-process-put server :v value)
          (should (eq (netproc-process-get server :v) value))
          (should (eq (netproc-process-plist server) (netproc-process-plist server)))
          (should (eq (netproc-process-contact server :my-key) extra))
          (should (eq (netproc-process-contact server :plist) plist))
          ;; As in Emacs, the process's plist is a copy of the argument's spine.
          (should-not (eq (netproc-process-plist server) plist))
          (let ((mine (list :z 1)))
            (netproc-set-process-plist server mine)
            (should (eq (netproc-process-plist server) mine))))
      (netproc-delete-process server))))

(ert-deftest netproc-value-unibyte-stays-unibyte ()
  "A unibyte string put into the plist comes back unibyte, with its bytes."
  (let ((bytes (unibyte-string 255 0 97 200))
        (server (np-values--server)))
    (unwind-protect
        (progn
          (netproc-process-put server :bytes bytes)
          (let ((back (netproc-process-get server :bytes)))
            (should-not (multibyte-string-p back))
            (should (equal back bytes))))
      (netproc-delete-process server))))

(ert-deftest netproc-value-accepted-plist-is-its-own ()
  "A connection starts with a copy of its server's plist (Emacs's server_accept_connection
copies the spine): elements are shared, and `process-put' on one leaves the other alone."
  (let* ((shared (list 1 2))
         (accepted nil)
         (server (np-values--server :plist (list :shared shared :n 0)
                                    :log (lambda (_s c _m) (push c accepted))))
         (client (netproc-make-network-process
                  :name "valc" :host "127.0.0.1"
                  :service (netproc-process-contact server :service))))
    (unwind-protect
        (progn
          (np-wait (lambda () accepted))
          (let ((conn (car accepted)))
            (should (eq (netproc-process-get conn :shared) shared))
            (netproc-process-put conn :n 1)
            (netproc-process-put server :n 2)
            (should (eql (netproc-process-get conn :n) 1))
            (should (eql (netproc-process-get server :n) 2))
            (should (eq (netproc-process-plist conn) (netproc-process-plist conn)))))
      (mapc #'netproc-delete-process accepted)
      (netproc-delete-process client)
      (netproc-delete-process server))))

(ert-deftest netproc-value-big-get-costs-nothing ()
  "10,000 `netproc-process-get's of a 1 MiB string allocate no string: each returns the
very string that was put."
  (let ((big (make-string (* 1024 1024) ?g))
        (server (np-values--server)))
    (unwind-protect
        (progn
          (netproc-process-put server :big big)
          (garbage-collect)
          (let ((chars (nth 4 (memory-use-counts)))
                (same t))
            (dotimes (_ 10000)
              (unless (eq (netproc-process-get server :big) big) (setq same nil)))
            (should same)
            ;; One copy alone would be 1,048,576 characters.
            (should (< (- (nth 4 (memory-use-counts)) chars) 100000))))
      (netproc-delete-process server))))

(provide 'netproc-test-values)
;;; netproc-test-values.el ends here

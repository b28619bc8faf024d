;;; netproc-test-values.el --- Lisp values through the twins  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Values the module reads are converted within a budget (README, "Values"): circular or
;; exponentially shared data is an error, not a hang, an exhausted memory or a crash.

;;; Code:

(require 'netproc-test)

(defun np-values--refused (value why)
  "Assert that VALUE as :remote is refused with WHY, leaving no process."
  (should (equal (should-error (netproc-make-network-process :name "v" :remote value))
                 (list 'error (concat "Value too large or circular: " why))))
  (should-not (netproc-process-list)))

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

(provide 'netproc-test-values)
;;; netproc-test-values.el ends here

;;; netproc-versions.el --- Where Emacs's own answers changed from one version to the next  -*- lexical-binding: t -*-

;; Copyright (C) the netproc authors
;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; The twins answer as the Emacs they run in does.  The module and the library speak as
;; Emacs 28.2 does; where a later Emacs's primitives answer otherwise, the rule is here,
;; once, decided when netproc loads (so a .elc compiled by one Emacs is right in another),
;; and the twins read it.  Each rule names the Emacs it comes from: Emacs's ChangeLog.4
;; dates each change, and a change on the trunk before the emacs-29 branch was cut
;; (November 2022) came out in 29, one from then until the emacs-30 branch (June 2024)
;; in 30.  The tests run on 28.2 and 30.1 (c-tests/ert.sh, c-tests/ert30.sh);
;; docs/DIFFERENCES.md lists the rules beside the differences.
;;
;; Feature tests where Emacs offers one (a function removed, an argument added), the
;; major version where only the wording changed.

;;; Code:

(eval-when-compile (require 'cl-lib))  ; macros only: cl-lib is not loaded with netproc

(declare-function netproc--process-status "netproc-module")
(declare-function netproc--process-exit-status "netproc-module")
(defvar process-error-pause-time)

;;;; Functions and arguments

(defconst netproc--removed-primitives
  (delq nil (mapcar (lambda (name) (unless (fboundp name) name))
                    '(process-filter-multibyte-p set-process-filter-multibyte)))
  "Primitives netproc has twins of which this Emacs no longer has.
Emacs 29 removed `process-filter-multibyte-p' and `set-process-filter-multibyte'
\(obsolete since 23.1); their twins are not defined there either.  The
`:filter-multibyte' keyword of `make-network-process' stays.")

(defconst netproc--lookup-hints
  (= (cdr (func-arity 'network-lookup-address-info)) 3)
  "Non-nil if `network-lookup-address-info' takes HINTS.
Emacs 29 added it: nil, or `numeric' for literal addresses only.")

(defconst netproc--tty-name-streams
  (= (cdr (func-arity 'process-tty-name)) 2)
  "Non-nil if `process-tty-name' takes STREAM (Emacs 29).
It is nil, `stdin', `stdout' or `stderr', else (error \"Unknown stream\"
STREAM).  A network process has no terminal for any of them.")

(defconst netproc--delete-process-command
  (commandp 'delete-process)
  "Non-nil if `delete-process' is a command (Emacs 29): interactively it is called
with `message', deletes the current buffer's process and says \"Deleted process\".")

(defconst netproc--certificate-sha256-key-id (>= emacs-major-version 30)
  "Non-nil if `gnutls-peer-status' gives each certificate `:public-key-id-sha256'
\(Emacs 30's gnutls.c, with GnuTLS 3.6.5 or later), after `:public-key-id'.")

(defun netproc--callback-error-pause ()
  "Pause after reporting an error of a filter or sentinel, as this Emacs does.
Emacs 28 sleeps 2 seconds; Emacs 29 `process-error-pause-time' seconds (default
1), none if it is not positive."
  (if (not (boundp 'process-error-pause-time))
      (sleep-for 2)
    (when (> process-error-pause-time 0)
      (sleep-for process-error-pause-time))))

;;;; Messages

(defun netproc--status-message (process)
  "What Emacs's status_message says of network PROCESS's status, with its newline.
As Emacs's sentinel messages: \"deleted\\n\", \"connection broken by remote
peer\\n\", \"failed with code CODE\\n\"; for a status without a message, its
name (`run' for open and stop, which Emacs keeps as run)."
  (pcase (netproc--process-status process)
    ('closed (if (eql (netproc--process-exit-status process) 0)
                 "deleted\n"
               "connection broken by remote peer\n"))
    ('failed (format "failed with code %s\n" (netproc--process-exit-status process)))
    ((or 'open 'stop) "run")
    (status (symbol-name status))))

(defun netproc--reword-not-running (message context)
  "Emacs 29's \"Process NAME not running: STATUS\" for Emacs 28's MESSAGE.
CONTEXT's :process is the process sent to."
  (let ((process (plist-get context :process)))
    (when (and process (string-match "\\`Process \\(.+\\) not running\\'" message))
      (format "Process %s not running: %s" (match-string 1 message)
              (netproc--status-message process)))))

(defun netproc--reword-lookup-family (message _context)
  "Emacs 29's \"Unsupported family\" for Emacs 28's MESSAGE of a lookup's family."
  (when (equal message "Unsupported lookup type") "Unsupported family"))

(defun netproc--reword-puny (message _context)
  "Emacs 30's quoted `puny-encode-domain' in a non-ASCII host's MESSAGE.
Emacs's C `error' quotes as `format-message' does (`text-quoting-style')."
  (when (string-match "\\`Non-ASCII hostname \\(.*\\) detected, please use puny-encode-domain\\'"
                      message)
    (format-message "Non-ASCII hostname %s detected, please use `puny-encode-domain'"
                    (match-string 1 message))))

(defconst netproc--rewordings
  (let ((rules '((29 . netproc--reword-not-running)
                 (29 . netproc--reword-lookup-family)
                 (30 . netproc--reword-puny))))
    (delq nil (mapcar (lambda (rule) (and (>= emacs-major-version (car rule)) (cdr rule))) rules)))
  "Functions (MESSAGE CONTEXT) giving this Emacs's words for an Emacs 28 error
MESSAGE of the module, or nil; empty in Emacs 28.  CONTEXT is a plist: :process,
the process the twin worked on.")

(defconst netproc--name-keyword-errors (>= emacs-major-version 30)
  "Non-nil if a missing or non-string :name is an error of its own (Emacs 30).
That is (error \"Missing :name keyword parameter\") or (error \":name value
not a string\"), where Emacs 28 says (wrong-type-argument stringp NAME).")

(defun netproc--reworded (err context)
  "ERR, an error the module signalled, as this Emacs would signal it.
CONTEXT is a plist: :process, the process the twin worked on; :args, the
arguments of `make-network-process'."
  (let ((args (plist-get context :args)))
    (cond
     ((and netproc--name-keyword-errors args
           (eq (car err) 'wrong-type-argument)
           (equal (cdr err) (list 'stringp (plist-get args :name))))
      ;; The module checks :name right after :type, where Emacs 30 does (Fmake_network_
      ;; process, get_required_string_keyword_param): this error is that check's.
      (list 'error (if (cdr (plist-member args :name))
                       ":name value not a string"
                     "Missing :name keyword parameter")))
     ((and (eq (car err) 'error) (stringp (cadr err)) (null (cddr err)))
      (let ((message nil))
        (dolist (reword netproc--rewordings)
          (unless message (setq message (funcall reword (cadr err) context))))
        (if message (list 'error message) err)))
     (t err))))

(defmacro netproc--in-this-emacs-words (context &rest body)
  "Run BODY; an error of the module in Emacs 28's words comes in this Emacs's.
CONTEXT, a plist form evaluated only then, is as for `netproc--reworded'.  In
Emacs 28 BODY just runs."
  (declare (indent 1) (debug t))
  (let ((err (make-symbol "err")))
    `(if (not (or netproc--rewordings netproc--name-keyword-errors))
         (progn ,@body)
       (condition-case ,err (progn ,@body)
         (error (let ((reworded (netproc--reworded ,err ,context)))
                  (signal (car reworded) (cdr reworded))))))))

(provide 'netproc-versions)
;;; netproc-versions.el ends here

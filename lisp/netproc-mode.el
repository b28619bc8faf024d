;;; netproc-mode.el --- Every package's network processes on netproc  -*- lexical-binding: t -*-

;; Copyright (C) the netproc authors
;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; `netproc-mode' is a global minor mode: while it is on, `make-network-process' (and so
;; `open-network-stream', url, jsonrpc, erc, server.el, ...) makes netproc processes, and
;; Emacs's own process primitives, predicates and listings work on them.  Subprocesses,
;; pipes and serial ports stay Emacs's.
;;
;; The mechanism is advice by ownership: each primitive that takes a process gets an
;; `:around' advice that calls netproc's twin (netproc-api.el) when the process it is
;; given, or designates by name or buffer, is a netproc process, and the primitive itself
;; otherwise.  `make-network-process' always goes to the twin; `processp', `process-list',
;; `get-process' and `get-buffer-process' see both kinds; `accept-process-output' with
;; no process pumps both.  Netproc's sockets never enter Emacs's `select', so a server
;; still holds as many connections as the open-file limit allows.
;;
;; Native code calls primitives through a table of function pointers, not through their
;; symbols, so Emacs (nadvice.el, `comp-subr-trampoline-install') installs a *trampoline*
;; for each advised primitive: a native function that calls the symbol's function, so
;; that natively compiled callers see the advice.  Compiling one takes about a third of
;; a second; `make' compiles them ahead of time into lisp/eln/ (`netproc-mode-compile-
;; trampolines'), where turning the mode on finds them through `native-comp-eln-load-path'.
;; Without them the mode still works, after Emacs compiles the missing ones into the
;; user's eln cache.  A trampoline, once installed, stays for the session (Emacs cannot
;; uninstall one), but it only calls the symbol's function: with the advice removed, that
;; is the primitive again.

;;; Code:

(require 'cl-lib)
(require 'nadvice)
(require 'netproc)
;; The mode advises `gnutls-negotiate', which gnutls.el defines (netproc alone loads it
;; only when TLS is first negotiated; see netproc-tls.el).
(require 'gnutls)

(declare-function netproc--pump "netproc-api")
(declare-function netproc--ensure-channel "netproc")
(declare-function netproc--kill-buffer-query "netproc")
(declare-function netproc--default-filter "netproc")
(declare-function netproc--default-sentinel "netproc")
(declare-function netproc-gnutls-boot "netproc-tls")
(declare-function comp-trampoline-filename "comp")
(declare-function comp-trampoline-compile "comp")
(defvar netproc--callbacks-run)
(defvar comp-native-version-dir)
(defvar native-comp-eln-load-path)
(defvar native-compile-target-directory)

(defgroup netproc-mode nil
  "Every package's network processes on netproc."
  :group 'processes
  :prefix "netproc-mode-")

(defcustom netproc-mode-trampoline-directory
  (expand-file-name "eln" netproc--directory)
  "Where `make' puts the trampolines of the primitives `netproc-mode' advises.
Turning the mode on searches it, as the last entry of
`native-comp-eln-load-path'; a trampoline missing there is compiled into the
user's eln cache instead."
  :type 'directory)

;;;; Emacs's own answers

(defun netproc-mode--builtin (primitive)
  "The function PRIMITIVE had before any advice: the primitive itself."
  (advice--cd*r (symbol-function primitive)))

(defconst netproc-mode--emacs-get-process (netproc-mode--builtin 'get-process)
  "Emacs's `get-process', which knows only Emacs's processes.")

(defconst netproc-mode--emacs-get-buffer-process (netproc-mode--builtin 'get-buffer-process)
  "Emacs's `get-buffer-process', which knows only Emacs's processes.")

(defun netproc-mode--buffer-process (buffer)
  "The netproc process of live BUFFER, unless BUFFER has an Emacs process.
Emacs's processes come first, as they do in the advised `process-list'."
  (and (buffer-live-p buffer)
       (not (funcall netproc-mode--emacs-get-buffer-process buffer))
       (netproc-get-buffer-process buffer)))

(defun netproc-mode--designated (designator)
  "The netproc process DESIGNATOR designates, as Emacs's get_process reads it.
DESIGNATOR is a process, a process or buffer name, a buffer, or nil (the
current buffer).  Nil means that Emacs's primitive should have it: it designates
an Emacs process, nothing at all, or is not a designator (the primitive then
signals)."
  (cond ((netproc--process-record-p designator) designator)
        ((stringp designator)
         (and (not (funcall netproc-mode--emacs-get-process designator))
              (or (netproc--get-process designator)
                  (let ((buffer (get-buffer designator)))
                    (and buffer (netproc-mode--buffer-process buffer))))))
        ((null designator) (netproc-mode--buffer-process (current-buffer)))
        ((bufferp designator) (netproc-mode--buffer-process designator))))

(defun netproc-mode--named (name)
  "The netproc process named NAME, unless an Emacs process has that name."
  (and (stringp name)
       (not (funcall netproc-mode--emacs-get-process name))
       (netproc--get-process name)))

(defun netproc-mode--unique-name (name own-p other-p)
  "The :name to pass for NAME so that the new name is unique among both kinds.
Emacs and netproc each make a name unique among their own processes only (NAME,
else NAME<1>, NAME<2>, ...); OWN-P and OTHER-P tell whether the maker's kind and
the other kind have a process of a given name.  Return NAME itself (`eq') when
the maker's own choice is free in the other kind too, so that the contact keeps
the name given, as in Emacs."
  (if (not (stringp name)) name
    (let ((candidate (lambda (i) (if (= i 0) name (format "%s<%d>" name i))))
          (i 0))
      (while (funcall own-p (funcall candidate i)) (setq i (1+ i)))
      (if (not (funcall other-p (funcall candidate i))) name
        (setq i 0)
        (while (let ((c (funcall candidate i))) (or (funcall own-p c) (funcall other-p c)))
          (setq i (1+ i)))
        (funcall candidate i)))))

(defun netproc-mode--emacs-named-p (name)
  "Non-nil if an Emacs process is named NAME."
  (funcall netproc-mode--emacs-get-process name))

(defun netproc-mode--with-unique-name (args own-p other-p)
  "ARGS, a keyword list, with its :name made unique across both kinds.
OWN-P and OTHER-P are as for `netproc-mode--unique-name'."
  (let* ((name (plist-get args :name))
         (unique (netproc-mode--unique-name name own-p other-p)))
    (if (eq unique name) args
      (cl-loop for (key value) on args by #'cddr
               append (list key (if (eq key :name) unique value))))))

;;;; What netproc processes keep beside the module

(defvar netproc-mode--threads (make-hash-table :test #'eq :weakness 'key)
  "The locking thread of netproc processes not locked to the main thread.")

(defvar netproc-mode--inherit-coding (make-hash-table :test #'eq :weakness 'key)
  "Netproc processes whose inherit-coding-system flag was set, to the flag.")

;;;; The advice

(defmacro netproc-mode--define-route (primitive twin &optional how)
  "Define `netproc-mode--PRIMITIVE', the advice sending netproc's to TWIN.
The first argument of PRIMITIVE is the process; HOW says how it is read: nil (a
process object, as CHECK_PROCESS reads it) or `designator' (also a name, a
buffer or nil, as get_process reads them).  TWIN gets the same arguments: it
reads a designator as Emacs does (`stop-process' of a name signals, as Emacs's
does for a network process), among the names left once Emacs's are ruled out."
  (declare (indent 2))
  (let ((name (intern (format "netproc-mode--%s" primitive))))
    ;; ARGS whole, PROCESS their first: PRIMITIVE may take no argument at all
    ;; (`process-send-eof', Emacs 29's `delete-process'), and gets what it was given.
    `(defun ,name (primitive &rest args)
       ,(format "Call `%s' for a netproc process,
else PRIMITIVE (`%s') with ARGS, process first."
                twin primitive)
       (let* ((process (car args))
              (netproc (and (or args (netproc-mode--optional-process-p primitive))
                            ,(if (eq how 'designator)
                                 '(netproc-mode--designated process)
                               '(and (netproc--process-record-p process) process)))))
         (if netproc (apply #',twin args)
           (apply primitive args))))))

(defun netproc-mode--optional-process-p (primitive)
  "Non-nil if PRIMITIVE may be called without its process (the current buffer's).
Else a call without one is PRIMITIVE's to refuse: `delete-process' in Emacs 28."
  (= (car (func-arity primitive)) 0))

(defun netproc-mode--delete-process (primitive &rest args)
  "Delete the netproc process ARGS designate; else call PRIMITIVE with ARGS.
Where `delete-process' is a command (Emacs 29), interactively it gets `message':
the current buffer's process, then \"Deleted process\" is said, as by Emacs's."
  (let* ((interactive (and netproc--delete-process-command (equal args '(message))))
         (netproc (and (or args (netproc-mode--optional-process-p primitive))
                       (netproc-mode--designated (if interactive nil (car args))))))
    (if (not netproc)
        (apply primitive args)
      (netproc-delete-process netproc)
      (when interactive (message "Deleted process"))
      nil)))

;; What get_process accepts.
(netproc-mode--define-route process-send-string netproc-process-send-string designator)
(netproc-mode--define-route process-send-region netproc-process-send-region designator)
(netproc-mode--define-route process-send-eof netproc-process-send-eof designator)
(netproc-mode--define-route process-type netproc-process-type designator)
(netproc-mode--define-route stop-process netproc-stop-process designator)
(netproc-mode--define-route continue-process netproc-continue-process designator)

;; What CHECK_PROCESS accepts.
(netproc-mode--define-route process-exit-status netproc-process-exit-status)
(netproc-mode--define-route process-name netproc-process-name)
(netproc-mode--define-route process-buffer netproc-process-buffer)
(netproc-mode--define-route set-process-buffer netproc-set-process-buffer)
(netproc-mode--define-route process-mark netproc-process-mark)
(netproc-mode--define-route process-filter netproc-process-filter)
(netproc-mode--define-route set-process-filter netproc-set-process-filter)
(netproc-mode--define-route process-sentinel netproc-process-sentinel)
(netproc-mode--define-route set-process-sentinel netproc-set-process-sentinel)
(netproc-mode--define-route process-query-on-exit-flag netproc-process-query-on-exit-flag)
(netproc-mode--define-route set-process-query-on-exit-flag
    netproc-set-process-query-on-exit-flag)
(netproc-mode--define-route process-contact netproc-process-contact)
(netproc-mode--define-route process-plist netproc-process-plist)
(netproc-mode--define-route set-process-plist netproc-set-process-plist)
(netproc-mode--define-route process-coding-system netproc-process-coding-system)
(netproc-mode--define-route set-process-coding-system netproc-set-process-coding-system)
(netproc-mode--define-route process-filter-multibyte-p netproc-process-filter-multibyte-p)
(netproc-mode--define-route set-process-filter-multibyte netproc-set-process-filter-multibyte)
(netproc-mode--define-route process-datagram-address netproc-process-datagram-address)
(netproc-mode--define-route set-process-datagram-address
    netproc-set-process-datagram-address)
(netproc-mode--define-route set-network-process-option netproc-set-network-process-option)
(netproc-mode--define-route internal-default-process-filter netproc--default-filter)
(netproc-mode--define-route internal-default-process-sentinel netproc--default-sentinel)

(defun netproc-mode--make-network-process (_primitive &rest args)
  "Make a netproc process of ARGS, named uniquely among Emacs's processes too."
  (let ((process (apply #'netproc-make-network-process
                        (netproc-mode--with-unique-name args #'netproc--get-process
                                                        #'netproc-mode--emacs-named-p))))
    (when (and process (not (eq (current-thread) main-thread)))
      (puthash process (current-thread) netproc-mode--threads))
    process))

(defun netproc-mode--make-emacs-process (primitive &rest args)
  "Call PRIMITIVE (`make-process' and kin) on ARGS, their :name unique."
  (apply primitive (netproc-mode--with-unique-name args #'netproc-mode--emacs-named-p
                                                   #'netproc--get-process)))

(defun netproc-mode--processp (primitive object)
  "Return t if OBJECT is an Emacs process (PRIMITIVE says) or a netproc one."
  (or (funcall primitive object)
      (and (netproc--process-record-p object) (netproc-processp object))))

(defun netproc-mode--process-list (primitive)
  "Return Emacs's processes (PRIMITIVE's list), then netproc's, newest first."
  (append (funcall primitive) (netproc--process-list)))

(defun netproc-mode--get-process (primitive name)
  "Return the process NAME names: Emacs's (PRIMITIVE's), else netproc's."
  (if (netproc--process-record-p name) name
    (or (funcall primitive name)
        (and (stringp name) (netproc--get-process name)))))

(defun netproc-mode--get-buffer-process (primitive buffer)
  "Return BUFFER's process: Emacs's (PRIMITIVE's answer), else netproc's."
  (or (funcall primitive buffer)
      (and buffer (netproc-get-buffer-process buffer))))

(defun netproc-mode--process-status (primitive process)
  "Return the status of PROCESS, a process or a designator, as PRIMITIVE does.
A string names a process only (not a buffer), as in Emacs's `process-status'."
  (let ((netproc (if (stringp process) (netproc-mode--named process)
                   (netproc-mode--designated process))))
    (if netproc (netproc--process-status netproc) (funcall primitive process))))

;; Waiting with no process: Emacs's own wait also reads netproc's wake-up channel, whose
;; filter runs netproc's callbacks, so one wait serves both kinds.  But Emacs counts any
;; byte read as output, and netproc wakes Emacs for events that run no callback (a
;; queued send flushed, say): a wake that ran none is not output, and the wait goes on.

(defvar netproc-mode--wakes 0
  "How many times netproc's wake-up channel was read while the mode was on.")

(defun netproc-mode--count-wake (filter &rest args)
  "Count a read of netproc's wake-up channel, then run its FILTER on ARGS."
  (setq netproc-mode--wakes (1+ netproc-mode--wakes))
  (apply filter args))

(defun netproc-mode--timeout (seconds millisec)
  "The timeout `accept-process-output' reads from SECONDS and MILLISEC, or nil.
Signal for the arguments Emacs's refuses."
  (when millisec
    (unless (fixnump millisec) (signal 'wrong-type-argument (list 'fixnump millisec)))
    (when seconds
      (unless (fixnump seconds) (signal 'wrong-type-argument (list 'fixnump seconds)))))
  (when (and seconds (not (numberp seconds)))
    (signal 'wrong-type-argument (list 'numberp seconds)))
  (and (or seconds millisec)
       (max 0 (+ (or seconds 0) (/ (or millisec 0) 1000.0)))))

(defun netproc-mode--wait-for-any (primitive seconds millisec)
  "Wait as PRIMITIVE (`accept-process-output') does for output of any process.
Return t once an Emacs process or a netproc callback had output, nil at the
timeout SECONDS (and MILLISEC).  Callbacks already due run first, as Emacs reads
output already waiting first, after a turn of Emacs's loop for its timers (see
`netproc--pump'; the turn reads the wake-up channel alone, so that output of
Emacs's own processes is left for PRIMITIVE to report)."
  (let* ((timeout (netproc-mode--timeout seconds millisec))
         (deadline (and timeout (+ (float-time) timeout)))
         (callbacks netproc--callbacks-run)
         (result 'waiting))
    (netproc--pump t)
    (if (> netproc--callbacks-run callbacks)
        ;; Having read output, Emacs goes on reading until 10 ms pass without any
        ;; (READ_OUTPUT_DELAY_INCREMENT in wait_reading_process_output): a reply to what
        ;; a callback just sent comes in the same call.
        (progn (funcall primitive nil (if deadline
                                          (min 0.01 (max 0 (- deadline (float-time))))
                                        0.01))
               t)
      (while (eq result 'waiting)
        (let* ((wakes netproc-mode--wakes)
               (read (funcall primitive nil
                              (and deadline (max 0 (- deadline (float-time)))))))
          (setq result
                (cond ((> netproc--callbacks-run callbacks) t)
                      ;; Output that was not netproc's wake-up byte.
                      ((and read (= wakes netproc-mode--wakes)) t)
                      ((not read) nil)
                      ((and deadline (<= deadline (float-time))) nil)
                      (t 'waiting)))))
      result)))

(defun netproc-mode--accept-process-output (primitive &optional process seconds millisec
                                                      just-this-one)
  "Wait for output from PROCESS as PRIMITIVE does; without one, from either kind.
SECONDS, MILLISEC and JUST-THIS-ONE are as for `accept-process-output'."
  (cond ((netproc--process-record-p process)
         (netproc-accept-process-output process seconds millisec just-this-one))
        (process (funcall primitive process seconds millisec just-this-one))
        (t (netproc-mode--wait-for-any primitive seconds millisec))))

;; A network process has no pid, command or terminal (Emacs's answers for its own).
(defun netproc-mode--process-id (primitive process)
  "Return nil for a netproc PROCESS, else what PRIMITIVE returns."
  (unless (netproc--process-record-p process) (funcall primitive process)))
(defalias 'netproc-mode--process-command #'netproc-mode--process-id)

(defun netproc-mode--process-tty-name (primitive process &rest stream)
  "Return nil for a netproc PROCESS, else what PRIMITIVE returns.
STREAM is Emacs 29's second argument: a network process has no terminal for any
stream, and another STREAM is (error \"Unknown stream\" STREAM), as in Emacs."
  (cond ((not (netproc--process-record-p process)) (apply primitive process stream))
        ((and stream (not netproc--tty-name-streams))
         (signal 'wrong-number-of-arguments (list primitive (1+ (length stream)))))
        ((not (memq (car stream) '(nil stdin stdout stderr)))
         (signal 'error (list "Unknown stream" (car stream))))))

(defun netproc-mode--process-thread (primitive process)
  "Return the thread PROCESS is locked to, as PRIMITIVE does.
For a netproc process: the thread that made it, or the one set since."
  (if (netproc--process-record-p process)
      (gethash process netproc-mode--threads main-thread)
    (funcall primitive process)))

(defun netproc-mode--set-process-thread (primitive process thread)
  "Lock PROCESS to THREAD as PRIMITIVE does; netproc's only keep the THREAD.
Netproc runs every callback on the main thread whatever the lock says."
  (if (not (netproc--process-record-p process))
      (funcall primitive process thread)
    (unless (or (null thread) (threadp thread))
      (signal 'wrong-type-argument (list 'threadp thread)))
    (puthash process thread netproc-mode--threads)
    nil))

(defun netproc-mode--process-inherit-coding-system-flag (primitive process)
  "Return the inherit-coding-system flag of PROCESS, as PRIMITIVE does."
  (if (netproc--process-record-p process)
      (gethash process netproc-mode--inherit-coding)
    (funcall primitive process)))

(defun netproc-mode--set-process-inherit-coding-system-flag (primitive process flag)
  "Set the inherit-coding-system flag of PROCESS to FLAG; return FLAG.
Netproc keeps the flag but does not act on it."
  (if (not (netproc--process-record-p process))
      (funcall primitive process flag)
    (puthash process (and flag t) netproc-mode--inherit-coding)
    flag))

(defun netproc-mode--set-process-window-size (primitive process height width)
  "Check HEIGHT and WIDTH as PRIMITIVE does; nil for a netproc PROCESS.
A network process has no terminal, so Emacs returns nil too."
  (if (not (netproc--process-record-p process))
      (funcall primitive process height width)
    (dolist (size (list height width))
      (unless (integerp size) (signal 'wrong-type-argument (list 'integerp size)))
      (unless (<= 0 size 65535) (signal 'args-out-of-range (list size 0 65535))))
    nil))

(defun netproc-mode--not-a-subprocess (primitive &optional process &rest args)
  "Signal as Emacs does for a network process; else call PRIMITIVE.
For `kill-process', `quit-process', `internal-default-interrupt-process' (which
`interrupt-process' calls) and `process-running-child-p'."
  (let ((netproc (netproc-mode--designated process)))
    (if netproc
        (error "Process %s is not a subprocess" (netproc--process-name netproc))
      (apply primitive process args))))

(defun netproc-mode--signal-process (primitive process sigcode &rest remote)
  "Signal as Emacs does for a network PROCESS; else call PRIMITIVE.
A network process has no pid to send SIGCODE to.  REMOTE is Emacs 29's third
argument, passed on."
  (let ((netproc (cond ((stringp process) (netproc-mode--named process))
                       ((numberp process) nil)
                       (t (netproc-mode--designated process)))))
    (if netproc
        (error "Cannot signal process %s" (netproc--process-name netproc))
      (apply primitive process sigcode remote))))

(defun netproc-mode--serial-process-configure (primitive &rest args)
  "Signal \"Not a serial process\" for a netproc process; else call PRIMITIVE.
ARGS are `serial-process-configure''s."
  (let ((designator (or (plist-get args :process) (plist-get args :name)
                        (plist-get args :buffer) (plist-get args :port))))
    (if (netproc-mode--designated designator)
        (error "Not a serial process")
      (apply primitive args))))

;;;; TLS: netproc's twins, where netproc-tls.el provides them

(defun netproc-mode--gnutls-peer-status (primitive process)
  "Return the TLS peer status of PROCESS as PRIMITIVE does; netproc's for its own.
Without netproc's TLS twins a netproc process has none, as a plain connection."
  (cond ((not (netproc--process-record-p process)) (funcall primitive process))
        ((fboundp 'netproc-gnutls-peer-status)
         (funcall 'netproc-gnutls-peer-status process))))

(defun netproc-mode--gnutls-boot (primitive process type proplist)
  "Start TLS on PROCESS as PRIMITIVE does; `netproc-gnutls-boot' for netproc's.
TYPE and PROPLIST are `gnutls-boot''s."
  (if (netproc--process-record-p process)
      (funcall 'netproc-gnutls-boot process type proplist)
    (funcall primitive process type proplist)))

(defun netproc-mode--gnutls-negotiate (function &rest spec)
  "Negotiate TLS as FUNCTION (`gnutls-negotiate') does; the twin for netproc's.
SPEC is `gnutls-negotiate''s keyword list."
  (if (and (netproc--process-record-p (plist-get spec :process))
           (fboundp 'netproc-gnutls-negotiate))
      (apply 'netproc-gnutls-negotiate spec)
    (apply function spec)))

;;;; Hooks netproc.el keeps

(defun netproc-mode--no-second-query (&rest _)
  "Return t: under the mode, `process-kill-buffer-query-function' asks instead."
  t)

;;;; The table

(defconst netproc-mode--primitives
  '(processp process-list get-process get-buffer-process
    make-network-process make-process make-pipe-process make-serial-process
    delete-process process-status process-exit-status process-type
    process-name process-buffer set-process-buffer process-mark
    process-filter set-process-filter process-sentinel set-process-sentinel
    process-plist set-process-plist process-contact
    process-query-on-exit-flag set-process-query-on-exit-flag
    process-coding-system set-process-coding-system
    process-filter-multibyte-p set-process-filter-multibyte
    process-inherit-coding-system-flag set-process-inherit-coding-system-flag
    process-datagram-address set-process-datagram-address set-network-process-option
    process-send-string process-send-region process-send-eof accept-process-output
    stop-process continue-process
    process-id process-command process-tty-name process-thread set-process-thread
    set-process-window-size
    kill-process quit-process internal-default-interrupt-process process-running-child-p
    signal-process serial-process-configure
    internal-default-process-filter internal-default-process-sentinel
    gnutls-peer-status gnutls-boot)
  "The primitives `netproc-mode' advises (see `netproc-mode--advice').
The other DEFUNs of Emacs 28.2's process.c take no process
\(`format-network-address', `network-interface-list', `network-interface-info',
`network-lookup-address-info', `list-system-processes', `process-attributes',
`num-processors', `waiting-for-user-input-p') or reach a process only through
one of these (`interrupt-process' calls `internal-default-interrupt-process').
Of gnutls.c's, `gnutls-bye', `gnutls-deinit', `gnutls-get-initstage' and
`gnutls-asynchronous-parameters' stay Emacs's: Emacs's Lisp never calls them,
and `gnutls-available-p' describes Emacs's GnuTLS, whose crypto functions stay.")

(defun netproc-mode--advice ()
  "The advice `netproc-mode' adds: a list of (FUNCTION . ADVICE).
`gnutls-boot' is advised only once netproc has a `netproc-gnutls-boot' twin."
  (append
   (cl-loop for primitive in netproc-mode--primitives
            for advice = (intern (format "netproc-mode--%s" primitive))
            unless (or (and (eq primitive 'gnutls-boot) (not (fboundp 'netproc-gnutls-boot)))
                       (not (fboundp primitive)))
            collect (cons primitive
                          (if (memq primitive '(make-process make-pipe-process make-serial-process))
                              'netproc-mode--make-emacs-process
                            (if (memq primitive '(kill-process quit-process
                                                  internal-default-interrupt-process
                                                  process-running-child-p))
                                'netproc-mode--not-a-subprocess
                              advice))))
   '((gnutls-negotiate . netproc-mode--gnutls-negotiate)
     (netproc--kill-buffer-query . netproc-mode--no-second-query)
     (netproc--dispatch-filter . netproc-mode--count-wake))))

;;;; Trampolines

(defun netproc-mode--native-p ()
  "Non-nil if advising a primitive makes Emacs install a trampoline for it."
  (and (featurep 'native-compile)
       (if (boundp 'native-comp-enable-subr-trampolines)
           (symbol-value 'native-comp-enable-subr-trampolines)
         (bound-and-true-p comp-enable-subr-trampolines))))

(defun netproc-mode--call-with-trampolines (function)
  "Call FUNCTION with `netproc-mode-trampoline-directory' searched too.
It comes last, so that trampolines compiled meanwhile go to the user's eln
cache, not into netproc's directory."
  (if (and (netproc-mode--native-p) (boundp 'native-comp-eln-load-path))
      (let ((native-comp-eln-load-path
             (append native-comp-eln-load-path (list netproc-mode-trampoline-directory))))
        (funcall function))
    (funcall function)))

(defun netproc-mode-compile-trampolines (&optional directory)
  "Compile the trampolines of the primitives `netproc-mode' advises.
They go into DIRECTORY (default `netproc-mode-trampoline-directory'), in its
subdirectory for this Emacs (`comp-native-version-dir'); those already there are
kept.  Return how many were compiled.  `make' runs this."
  (if (not (netproc-mode--native-p))
      0
    (require 'comp)
    (let* ((native-compile-target-directory
            (file-name-as-directory (expand-file-name (or directory netproc-mode-trampoline-directory))))
           (target (expand-file-name comp-native-version-dir native-compile-target-directory))
           ;; A trampoline of an obsolete primitive is no use of it.
           (byte-compile-warnings nil)
           (count 0))
      (dolist (primitive netproc-mode--primitives)
        (when (and (fboundp primitive) (subr-primitive-p (symbol-function primitive))
                   (not (file-exists-p (expand-file-name (comp-trampoline-filename primitive)
                                                         target))))
          (comp-trampoline-compile primitive)
          (setq count (1+ count))))
      count)))

;;;; The mode

(defvar netproc-mode--builtin-subfeatures nil
  "Emacs's own (get \='make-network-process \='subfeatures), kept while the mode is on.")

(defun netproc-mode--enable ()
  "Add the advice of `netproc-mode'."
  (netproc--ensure-channel)
  ;; `featurep' answers for the `make-network-process' packages now get: netproc's.
  (unless netproc-mode--builtin-subfeatures
    (setq netproc-mode--builtin-subfeatures
          (list (get 'make-network-process 'subfeatures))))
  (put 'make-network-process 'subfeatures (netproc-network-features))
  (netproc-mode--call-with-trampolines
   (lambda ()
     (dolist (entry (netproc-mode--advice))
       ;; Innermost: other advice of the same function still runs, around netproc's.
       (advice-add (car entry) :around (cdr entry) '((depth . 100)))))))

(defun netproc-mode--disable ()
  "Remove the advice of `netproc-mode' and what it kept about processes."
  (dolist (entry (netproc-mode--advice))
    (advice-remove (car entry) (cdr entry)))
  ;; `gnutls-boot''s twin may have gone since the mode was turned on.
  (advice-remove 'gnutls-boot 'netproc-mode--gnutls-boot)
  (clrhash netproc-mode--threads)
  (clrhash netproc-mode--inherit-coding)
  (when netproc-mode--builtin-subfeatures
    (put 'make-network-process 'subfeatures (car netproc-mode--builtin-subfeatures))
    (setq netproc-mode--builtin-subfeatures nil)))

;;;###autoload
(define-minor-mode netproc-mode
  "Make every network process a netproc process, for every package.
While this global mode is on, `make-network-process' makes netproc processes,
so `open-network-stream' and the packages built on it (url, jsonrpc, erc,
rcirc, server.el, ...) use netproc, and Emacs's process primitives, predicates
and listings work on those processes as on Emacs's own: `processp',
`process-list', `get-process', `get-buffer-process', `list-processes', the
queries of `kill-buffer' and `save-buffers-kill-emacs', `delete-process' when
the buffer is killed.  TLS (`open-network-stream' :type tls or starttls,
`gnutls-negotiate', `gnutls-peer-status', `nsm-verify-connection') goes to
netproc's TLS twins when netproc has them (netproc-tls.el).  The sockets never
enter Emacs's `select', so a server holds as many connections as the open-file
limit allows (see `netproc-raise-open-file-limit').

Subprocesses, pipes and serial ports stay Emacs's.  Code compiled before the
mode was turned on, to bytecode or natively, is routed too.  Turning the mode
off removes every advice it added; the processes made meanwhile stay netproc
processes, which the `netproc-' twins reach."
  :global t
  :group 'netproc-mode
  (if netproc-mode (netproc-mode--enable) (netproc-mode--disable)))

(provide 'netproc-mode)
;;; netproc-mode.el ends here

;;; netproc-api.el --- The netproc-F twins of Emacs's process primitives  -*- lexical-binding: t -*-

;; Copyright (C) the netproc authors
;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Thin wrappers over the module's `netproc--' functions, loaded by netproc.el.  Each
;; takes the arguments of the Emacs primitive it is named after and returns what that
;; primitive returns, for netproc's process objects.  Designators (names, buffers, nil)
;; are resolved here as Emacs's get_process resolves them.  Where the running Emacs's
;; primitive answers otherwise than Emacs 28's, netproc-versions.el says how.

;;; Code:

(eval-when-compile (require 'cl-lib))  ; macros only: cl-lib is not loaded with netproc
(require 'netproc-versions)

(declare-function netproc--designated "netproc")
(declare-function netproc--check "netproc")
(declare-function netproc--update-mark "netproc")
(declare-function netproc--run-dispatch "netproc")
(declare-function netproc--wake-if-due "netproc-module")
(defvar netproc--channel)
(defvar netproc--callbacks-run)
(defvar netproc--waiting)
(defvar netproc--only)
(defvar netproc--pending-error)

(defun netproc--network-coding-systems (args)
  "The (DECODING . ENCODING) Emacs chooses for a network process made with ARGS and no
non-nil :coding, as `set_network_socket_coding_system' in Emacs's src/process.c does:
`coding-system-for-read' (`-for-write'); else nil (no decoding) for a unibyte process
buffer (for encoding: a unibyte current buffer); else what `find-operation-coding-system'
finds for `open-network-stream' (`network-coding-system-alist'); else
`default-process-coding-system'."
  (let* ((name (plist-get args :name))
         (buffer-arg (plist-get args :buffer))
         (buffer (and buffer-arg (get-buffer buffer-arg)))
         (host (plist-get args :host))
         (service (plist-get args :service))
         (found t)
         (find (lambda ()
                 (when (eq found t)
                   (setq found (and host service
                                    (find-operation-coding-system
                                     'open-network-stream name buffer host service))))
                 found))
         (decoding
          (cond (coding-system-for-read)
                ((not (if buffer
                          (buffer-local-value 'enable-multibyte-characters buffer)
                        ;; A buffer named but not made yet is made with the default.
                        (default-value 'enable-multibyte-characters)))
                 nil)
                ((consp (funcall find)) (car found))
                ((consp default-process-coding-system) (car default-process-coding-system))))
         (encoding
          (cond (coding-system-for-write)
                ((not enable-multibyte-characters) nil)
                ((consp (funcall find)) (cdr found))
                ((consp default-process-coding-system) (cdr default-process-coding-system)))))
    (cons decoding encoding)))

(defun netproc-make-network-process (&rest args)
  "Create and return a netproc network process, as `make-network-process'.
ARGS are the keyword/value pairs `make-network-process' takes (see its
documentation): :name :buffer :host :service :type :family :local :remote
:coding :nowait :noquery :stop :filter :filter-multibyte :sentinel :log
:plist :server and the socket options.  Filters, sentinels and log functions
are called with the same arguments as Emacs's, on netproc process objects.

netproc's own keywords (README, \"Beyond Emacs\"): :nodelay BOOL;
:connect-timeout SECONDS, after which a stream client that is not open fails
\(a `:nowait' one with status `failed' and the sentinel \"failed with code
110\\n\", a blocking one with `file-error'); :attempt-delay SECONDS, Happy
Eyeballs' delay between the attempts of a name with several addresses (see
`netproc-connect-attempt-delay'); :framing `line', `content-length' (LSP and DAP
headers) or (length-prefix N) gives the filter exactly one whole message
per call, decoded as the process decodes; :framing-max BYTES (64 MiB by
default) is the longest message, past which the process fails with the
sentinel \"failed with code message too large: ...\"; :high-water BYTES and
:drain FUNCTION pace sends; and the socket options `netproc-featurep' lists.
:framing, :framing-max, :nodelay, :high-water and :drain also work with
`netproc-set-network-process-option'.

\(fn &rest ARGS)"
  ;; Without a non-nil :coding, the coding systems Emacs would choose now become the
  ;; module's default for this creation (an accepted connection inherits its server's).
  (unless (plist-get args :coding)
    (let ((chosen (netproc--network-coding-systems args)))
      (netproc--set-default-coding-system (car chosen) (cdr chosen))))
  (let ((process (netproc--in-this-emacs-words (list :args args)
                   (apply #'netproc--make-network-process args))))
    (when process (netproc--update-mark process))
    process))

(defun netproc-connect-attempt-delay ()
  "Return Happy Eyeballs' delay between connect attempts, in seconds.
It is 0.25 unless set.
A stream client whose name has several addresses (IPv6 and IPv4) starts the next
address's attempt when the previous one has not connected after this long; the first
to connect wins.  `:attempt-delay' sets it for one process."
  (/ (netproc--connect-attempt-delay) 1000.0))

(defun netproc-set-connect-attempt-delay (seconds)
  "Make connects from now wait SECONDS (a non-negative number) between attempts.
Less than 0.01 counts as 0.01, the least RFC 8305 allows.  Return SECONDS."
  (unless (numberp seconds)
    (signal 'wrong-type-argument (list 'numberp seconds)))
  (when (< seconds 0)
    (signal 'args-out-of-range (list seconds)))
  (netproc--set-connect-attempt-delay (round (* seconds 1000)))
  seconds)

(defun netproc-delete-process (&optional process)
  "Delete PROCESS: close it and run its sentinel with \"deleted\\n\".
PROCESS may be a process, a buffer, the name of a process or buffer, or nil
for the current buffer's process.  Return nil."
  (netproc--delete-process (netproc--designated process)))

(defun netproc-process-status (process)
  "Return the status of PROCESS: open, listen, connect, stop, failed or closed.
PROCESS may be a process, a buffer or a name; a name with no process gives nil."
  (let ((process (if (stringp process) (netproc--get-process process)
                   (netproc--designated process))))
    (and process (netproc--process-status process))))

(defun netproc-process-live-p (process)
  "Return non-nil if PROCESS is alive: the tail of (open listen connect stop)."
  (netproc--process-live-p process))

(defmacro netproc--define-accessor (name args doc &optional call)
  "Define `netproc-NAME' with ARGS and DOC, calling `netproc--NAME' (or CALL).
Not where this Emacs no longer has NAME (`netproc--removed-primitives')."
  (declare (indent 2) (doc-string 3))
  (let ((public (intern (format "netproc-%s" name)))
        (private (or call (intern (format "netproc--%s" name))))
        (plain (remq '&optional args)))
    `(unless (memq ',name netproc--removed-primitives)
       (defun ,public ,args ,doc (,private ,@plain)))))

(netproc--define-accessor process-exit-status (process)
  "Return the exit status of PROCESS: 0, 256 after the peer closed, the errno of a
failed connect, or the message of a failed name lookup.")
(netproc--define-accessor process-name (process) "Return the name of PROCESS.")
(netproc--define-accessor process-buffer (process) "Return the buffer PROCESS is associated with.")
(netproc--define-accessor process-filter (process)
  "Return the filter of PROCESS (`internal-default-process-filter' for the default).")
(netproc--define-accessor process-sentinel (process)
  "Return the sentinel of PROCESS (`internal-default-process-sentinel' for the default).")
(netproc--define-accessor process-plist (process) "Return the plist of PROCESS.")
(netproc--define-accessor process-coding-system (process)
  "Return (DECODING . ENCODING), the coding systems of PROCESS.")
(netproc--define-accessor process-filter-multibyte-p (process)
  "Return non-nil if PROCESS's filter gets multibyte strings.")
(netproc--define-accessor process-datagram-address (process)
  "Return the current peer address of datagram PROCESS, or nil.")
(netproc--define-accessor process-query-on-exit-flag (process)
  "Return the query-on-exit flag of PROCESS.")
(netproc--define-accessor set-process-query-on-exit-flag (process flag)
  "Set the query-on-exit flag of PROCESS to FLAG; return FLAG.")
(netproc--define-accessor set-process-filter (process filter)
  "Give PROCESS the filter FILTER (nil: the default filter; t: stop reading).
Return FILTER.")
(netproc--define-accessor set-process-sentinel (process sentinel)
  "Give PROCESS the sentinel SENTINEL (nil: the default sentinel); return SENTINEL.")
(netproc--define-accessor set-process-coding-system (process &optional decoding encoding)
  "Set the coding systems of PROCESS to DECODING and ENCODING; return nil.")
(netproc--define-accessor set-process-filter-multibyte (process flag)
  "Make PROCESS's filter get multibyte strings if FLAG is non-nil; return nil.")
(netproc--define-accessor datagram-sender (process)
  "During a filter call of datagram PROCESS, the address that sent its datagram.
nil outside a filter call.  netproc's: Emacs has only `process-datagram-address',
one slot per process, which the filter itself may change.")
(netproc--define-accessor set-process-datagram-address (process address)
  "Make datagram PROCESS send to ADDRESS; return ADDRESS, or nil if it does not fit.")
(netproc--define-accessor set-network-process-option (process option value &optional no-error)
  "Set socket OPTION of PROCESS to VALUE; with NO-ERROR, nil for an unknown option.")
(netproc--define-accessor format-network-address (address &optional omit-port)
  "Return ADDRESS (a vector or cons) as a string, without port if OMIT-PORT.")
(netproc--define-accessor network-features ()
  "Return the subfeatures of netproc's `make-network-process', in the shape of
\(get \='make-network-process \='subfeatures): Emacs's and netproc's own keywords.")

(defun netproc-featurep (&optional subfeature)
  "Whether netproc's `make-network-process' has SUBFEATURE, as `featurep' answers
for Emacs's: a keyword such as `:nodelay', or a list such as (:family ipv6)."
  (or (null subfeature) (and (member subfeature (netproc-network-features)) t)))

(netproc--define-accessor network-interface-list (&optional full family)
  "Return the network interfaces: (NAME . ADDRESS), or with FULL all addresses.")
(netproc--define-accessor network-interface-info (ifname)
  "Return information about interface IFNAME.")

(defalias 'netproc-network-lookup-address-info
  (if netproc--lookup-hints
      (lambda (name &optional family hints)
        "Look NAME up; return its addresses with port 0, or nil after a message.
FAMILY is nil, `ipv4' or `ipv6'; HINTS nil, or `numeric' for a literal address
only, without DNS traffic (Emacs 29)."
        (netproc--in-this-emacs-words nil
          (netproc--network-lookup-address-info name family hints)))
    (lambda (name &optional family)
      "Look NAME up; return its addresses with port 0, or nil after a message.
FAMILY is nil, `ipv4' or `ipv6'."
      (netproc--network-lookup-address-info name family)))
  "The twin of `network-lookup-address-info', with this Emacs's arguments.")
(netproc--define-accessor process-list ()
  "Return the netproc processes not yet removed, newest first.")

(defun netproc-set-process-buffer (process buffer)
  "Set the buffer of PROCESS to BUFFER (a buffer or nil); return BUFFER."
  (netproc--check process)
  (unless (or (null buffer) (bufferp buffer))
    (signal 'wrong-type-argument (list 'bufferp buffer)))
  (netproc--set-process-buffer process buffer)
  (netproc--update-mark process)
  buffer)

(defun netproc-set-process-plist (process plist)
  "Replace the plist of PROCESS with PLIST; return PLIST."
  (netproc--check process)
  (unless (listp plist) (signal 'wrong-type-argument (list 'listp plist)))
  (netproc--set-process-plist process plist))

(defun netproc-process-get (process propname)
  "Return the value of PROCESS's PROPNAME property."
  (plist-get (netproc-process-plist process) propname))

(defun netproc-process-put (process propname value)
  "Set PROCESS's PROPNAME property to VALUE."
  (netproc-set-process-plist process (plist-put (netproc-process-plist process) propname value)))

(defun netproc-process-mark (process)
  "Return the marker of PROCESS's output position."
  (netproc-process--mark (netproc--check process)))

(defconst netproc--socket-wait-limit 60
  "Seconds `netproc-process-contact' waits at most for a `:nowait' name lookup.")

(defun netproc-process-contact (process &optional key no-block)
  "Return the contact of PROCESS: (HOST SERVICE) for KEY nil, the whole plist for
KEY t, or the value of keyword KEY.  With NO-BLOCK, nil if PROCESS has no socket.
Without NO-BLOCK, a `:nowait' PROCESS still looking its host up is waited for
first, running callbacks meanwhile, as Emacs's `process-contact' does."
  (netproc--check process)
  (unless no-block
    ;; Emacs's wait_for_socket_fds: pump 20 ms at a time while the process is
    ;; connecting and has no socket.  Bounded here; from inside a netproc callback
    ;; netproc cannot pump, so there is nothing to wait for.
    (let ((deadline (+ (float-time) netproc--socket-wait-limit)))
      (while (and (eq (netproc--process-status process) 'connect)
                  (null (netproc--process-contact process t t))
                  (not (netproc--in-callback-p))
                  (< (float-time) deadline))
        (netproc-accept-process-output nil 0.02))))
  (netproc--process-contact process key no-block))

(defun netproc-process-type (process)
  "Return `network' for a netproc PROCESS (or a name or buffer designating one)."
  (netproc--designated process)
  'network)

(defun netproc-get-process (name)
  "Return the netproc process named NAME, or nil; a process is returned as is."
  (if (netproc-processp name) name
    (unless (stringp name) (signal 'wrong-type-argument (list 'stringp name)))
    (netproc--get-process name)))

(defun netproc-process-send-string (process string)
  "Send STRING to PROCESS; it is queued, so this never blocks.
Return nil, as Emacs's does, except for a process with a high-water mark
\(`:high-water' or `:drain'), for which t says that its queued output is now
above the mark: send more once its drain function has run."
  (unless (stringp string) (signal 'wrong-type-argument (list 'stringp string)))
  (let ((process (netproc--designated process)))
    (netproc--in-this-emacs-words (list :process process)
      (netproc--process-send-string process string))))

(defun netproc-process-send-region (process start end)
  "Send the text from START to END of the current buffer to PROCESS."
  (netproc-process-send-string process (buffer-substring-no-properties start end)))

(defun netproc-process-send-eof (&optional process)
  "Close the sending side of PROCESS once queued output is written; return PROCESS."
  (let ((process (netproc--designated process)))
    (netproc--in-this-emacs-words (list :process process)
      (netproc--process-send-eof process))))

(defun netproc--signal-only-subprocess (process)
  "Signal as Emacs does when PROCESS designates no netproc process to stop or continue."
  (let ((designated (netproc--designated process)))
    (error "Process %s is not a subprocess" (netproc--process-name designated))))

(defun netproc-stop-process (&optional process _current-group)
  "Stop reading from (or accepting on) PROCESS; return PROCESS."
  (if (netproc-processp process) (netproc--stop-process process)
    (netproc--signal-only-subprocess process)))

(defun netproc-continue-process (&optional process _current-group)
  "Resume reading from (or accepting on) PROCESS; return PROCESS."
  (if (netproc-processp process) (netproc--continue-process process)
    (netproc--signal-only-subprocess process)))

(defun netproc-raise-open-file-limit (&optional limit)
  "Raise this Emacs's soft limit of open files to LIMIT (nil: the hard limit).
Emacs lowers the limit to 1024 (FD_SETSIZE) at startup, for its own `select'.  The module
raises it to the hard limit when it loads: netproc keeps its sockets at descriptor 1024
and above, where Emacs's `select' never looks, so the numbers below stay Emacs's own (its
subprocesses, files and file watches work however many netproc connections are open).
Return the new soft limit (never lower than before)."
  (netproc--raise-open-file-limit limit))

(defun netproc-accept-process-output (&optional process seconds millisec just-this-one)
  "Run netproc's due callbacks, waiting up to SECONDS (and MILLISEC) for some.
With PROCESS, wait for output from PROCESS.  Return non-nil if output arrived
\(from PROCESS, or from any netproc process).  The waiting is done by Emacs's own
`accept-process-output' on netproc's wake-up channel, so other processes and
timers run meanwhile unless JUST-THIS-ONE says otherwise: with PROCESS and
JUST-THIS-ONE, only PROCESS's callbacks run (the others wait, in order), and timers
too only when JUST-THIS-ONE is an integer, as in Emacs."
  (when process (netproc--check process))
  ;; Emacs's argument checks (Faccept_process_output): MILLISEC, the obsolete form, and
  ;; SECONDS beside it must be fixnums; SECONDS alone any number.
  (when millisec
    (unless (fixnump millisec) (signal 'wrong-type-argument (list 'fixnump millisec)))
    (when (and seconds (not (fixnump seconds)))
      (signal 'wrong-type-argument (list 'fixnump seconds))))
  (when (and seconds (not (numberp seconds)))
    (signal 'wrong-type-argument (list 'numberp seconds)))
  (let* ((timeout (and (or seconds millisec)
                       (+ (if (numberp seconds) seconds 0)
                          (/ (if (numberp millisec) millisec 0) 1000.0))))
         (deadline (and timeout (+ (float-time) timeout)))
         (outputs (and process (netproc--output-count process)))
         (callbacks netproc--callbacks-run)
         (got (lambda ()
                (if process (> (netproc--output-count process) outputs)
                  (> netproc--callbacks-run callbacks))))
         ;; Emacs ignores JUST-THIS-ONE without PROCESS.
         (just-this-one (and process just-this-one))
         (netproc--only (and just-this-one process)))
    (netproc--pump just-this-one)
    (while (not (or (funcall got)
                    (and deadline (<= deadline (float-time)))
                    (and process (not (netproc--process-live-p process)))))
      (netproc--emacs-turn (and deadline (max 0.001 (- deadline (float-time))))
                           just-this-one))
    ;; What the others got meanwhile runs at Emacs's next pump, as in Emacs.
    (when netproc--only (netproc--wake-if-due))
    ;; Without PROCESS, Emacs goes on reading what is ready at once before it returns
    ;; (a reply to what a filter just sent, say); do the same, within reason.
    (when (and (not process) (funcall got))
      (let ((rounds 0))
        (while (and (< rounds 100) (> (netproc--pump nil) 0))
          (setq rounds (1+ rounds)))))
    (and (funcall got) t)))

(defun netproc--emacs-turn (seconds just-this-one)
  "Wait in Emacs's `accept-process-output' on the wake-up channel, up to SECONDS.
SECONDS 0 is one turn of Emacs's loop without waiting, nil waits until
something comes.  Emacs runs due timers (unless JUST-THIS-ONE is an integer)
and reads its other processes (unless JUST-THIS-ONE is non-nil) before it reads
the channel, whose filter then runs a slice of netproc's callbacks if the
module announced one.  An error that escaped a callback meanwhile is signalled
here (see `netproc--pending-error')."
  (let ((netproc--waiting t))
    (accept-process-output netproc--channel seconds nil just-this-one))
  (when netproc--pending-error
    (let ((err netproc--pending-error))
      (setq netproc--pending-error nil)
      (signal (car err) (cdr err)))))

(defun netproc--pump (just-this-one)
  "Give Emacs's loop its turn, then run a slice of netproc's due callbacks.
Return how many callbacks ran.  Emacs's own wait runs due timers before it
reads anything (timer_check at the top of wait_reading_process_output in
process.c); this does the same with one turn of that wait (see
`netproc--emacs-turn', JUST-THIS-ONE as there), so that a caller looping on
`netproc-accept-process-output' while a stream pours in still lets its timers
run between slices.  A slice the channel did not bring (the watcher has not
announced it yet) is run directly."
  (let ((before netproc--callbacks-run))
    (netproc--emacs-turn 0 just-this-one)
    (when (= netproc--callbacks-run before)
      (netproc--run-dispatch))
    (- netproc--callbacks-run before)))

(provide 'netproc-api)
;;; netproc-api.el ends here

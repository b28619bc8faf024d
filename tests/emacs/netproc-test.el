;;; netproc-test.el --- Differential tests: Emacs's primitives against netproc's twins  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Each scenario is a function of no arguments that drives processes only through `np'
;; (a primitive by its Emacs name) and records what it sees with `np-note'.  It is run
;; once with Emacs's built-in primitives and once with netproc's twins, in the same Emacs,
;; and the two transcripts (ports and process objects normalised) must be `equal'.
;; Where docs/DIFFERENCES.md documents a difference, the test asserts that difference instead.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'netproc)

(defvar np--twins nil "Non-nil while a scenario runs against netproc's twins.")
(defvar np--transcript nil "What the running scenario recorded, newest first.")

(defun np (name &rest args)
  "Call primitive NAME (Emacs's name) with ARGS, built-in or netproc twin."
  (apply (if np--twins (intern (format "netproc-%s" name)) name) args))

(defun np-process-p (object)
  "Whether OBJECT is a process of the kind under test."
  (if np--twins (netproc-processp object) (processp object)))

(defun np-note (&rest entry)
  "Record ENTRY in the transcript."
  (push entry np--transcript))

(defun np-wait (predicate &optional seconds)
  "Pump until PREDICATE is non-nil or SECONDS (default 5) pass; return its value."
  (let ((deadline (+ (float-time) (or seconds 5))) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (np 'accept-process-output nil 0.02))
    value))

(defun np-settle (&optional seconds)
  "Pump for SECONDS (default 0.2), delivering whatever is due."
  (let ((deadline (+ (float-time) (or seconds 0.2))))
    (while (< (float-time) deadline)
      (np 'accept-process-output nil 0.02))))

(defun np-list ()
  "The network processes of the kind under test (Emacs's list also has pipes)."
  (cl-remove-if-not (lambda (p) (or np--twins (eq (process-type p) 'network)))
                    (np 'process-list)))

(defun np--normalise (object)
  "OBJECT with ports, process objects and buffers made comparable."
  (cond ((np-process-p object) (list 'process (np--normalise (np 'process-name object))))
        ((bufferp object) (list 'buffer (buffer-name object)))
        ((markerp object) (list 'marker (marker-position object)))
        ;; Ports in client ids, and the session-wide counter of Unix client ids.
        ((stringp object) (replace-regexp-in-string
                           " <[0-9]+>" " <N>"
                           (replace-regexp-in-string ":[0-9]+>" ":PORT>" object)))
        ((and (integerp object) (> object 1023)) 'PORT)
        ((and (vectorp object) (= (length object) 5))
         (vconcat (seq-take object 4) '(PORT)))
        ((vectorp object) (vconcat (mapcar #'np--normalise object)))
        ((consp object) (cons (np--normalise (car object)) (np--normalise (cdr object))))
        (t object)))

(defun np-run (scenario twins)
  "Run SCENARIO with the built-in primitives, or the twins if TWINS; its transcript."
  (let ((np--twins twins) (np--transcript nil))
    (unwind-protect (funcall scenario)
      (dolist (process (np-list))
        (np 'set-process-sentinel process #'ignore)
        (np 'delete-process process)))
    (np--normalise (reverse np--transcript))))

(defmacro np-deftest (name doc &rest body)
  "Define test NAME: BODY as a scenario whose transcripts must agree."
  (declare (indent 1) (doc-string 2))
  (let ((scenario (intern (format "np-scenario-%s" name))))
    `(progn
       (defun ,scenario () ,@body)
       (ert-deftest ,(intern (format "netproc-%s" name)) ()
         ,doc
         (let ((builtin (np-run #',scenario nil))
               (twin (np-run #',scenario t)))
           (should builtin)
           (should (equal builtin twin)))))))

(defun np-map-strings (function tree)
  "TREE with FUNCTION applied to each string in it (conses and vectors are walked)."
  (cond ((stringp tree) (funcall function tree))
        ((consp tree) (cons (np-map-strings function (car tree))
                            (np-map-strings function (cdr tree))))
        ((vectorp tree) (vconcat (mapcar (lambda (x) (np-map-strings function x)) tree)))
        (t tree)))

(defun np-replacing (regexp replacement)
  "A transcript transform replacing REGEXP by REPLACEMENT in every string."
  (lambda (transcript)
    (np-map-strings (lambda (s) (replace-regexp-in-string regexp replacement s t t))
                    transcript)))

(defmacro np-deftest-difference (name doc transform &rest body)
  "Define test NAME: BODY as a scenario whose transcripts differ as documented.
TRANSFORM is a function from the built-in's (normalised) transcript to the one
netproc must give; the test asserts that the two differ and that the transform
accounts for the whole difference."
  (declare (indent 2) (doc-string 2))
  (let ((scenario (intern (format "np-scenario-%s" name))))
    `(progn
       (defun ,scenario () ,@body)
       (ert-deftest ,(intern (format "netproc-difference-%s" name)) ()
         ,doc
         (let ((builtin (np-run #',scenario nil))
               (twin (np-run #',scenario t)))
           (should builtin)
           (should-not (equal builtin twin))
           (should (equal (funcall ,transform builtin) twin)))))))

(defun np-filter-multibyte-p (process)
  "PROCESS's filter-multibyte flag, or `removed' in an Emacs without
`process-filter-multibyte-p' (29 removed it; `netproc-twins-follow-this-emacs'
checks that its twin went too)."
  (if (fboundp 'process-filter-multibyte-p) (np 'process-filter-multibyte-p process) 'removed))

(defun np-error (thunk)
  "Call THUNK; the error it signals as (error SYMBOL DATA…), or (returned VALUE)."
  (condition-case err (list 'returned (funcall thunk))
    (error (cons 'error err))))

(defun np-echo-server (name &rest args)
  "An echo server NAME on loopback recording its log, sentinel and filter calls.
ARGS come first, so they override the defaults (the first of duplicate keys wins)."
  (apply #'np 'make-network-process
         (append args
                 (list :name name :server t :host "127.0.0.1" :service t :family 'ipv4
                       :log (lambda (server client message) (np-note 'log server client message))
                       :sentinel (lambda (process message)
                                   (np-note 'server-sentinel process message))
                       :filter (lambda (process string)
                                 (np-note 'server-filter process string)
                                 (np 'process-send-string process (upcase string)))))))

(defun np-port (server)
  "The port SERVER listens on."
  (cadr (np 'process-contact server)))

(defun np-client (name port &rest args)
  "A client NAME of PORT recording its filter and sentinel calls; ARGS come first."
  (apply #'np 'make-network-process
         (append args
                 (list :name name :host "127.0.0.1" :service port
                       :filter (lambda (process string) (np-note 'filter process string))
                       :sentinel (lambda (process message) (np-note 'sentinel process message))))))

(defun np-count-broken ()
  "How many \"connection broken\" server sentinels the transcript holds."
  (cl-count-if (lambda (e) (and (eq (car e) 'server-sentinel) (string-match-p "broken" (caddr e))))
               np--transcript))

(defun np-status (process)
  "Record the status-related facts of PROCESS."
  (np-note 'status (np 'process-name process) (np 'process-status process)
           (np 'process-live-p process) (np 'process-exit-status process)))

;;;; Scenarios

(np-deftest echo
  "An echo server and two clients: log, open from, data, close."
  (let* ((server (np-echo-server "echo"))
         (port (np-port server)))
    (np-status server)
    (dolist (n '(1 2))
      (let ((client (np-client (format "client%d" n) port))
            (replies 0))
        (np-status client)
        (np-wait (lambda () (cl-find 'log np--transcript :key #'car)))
        (np 'process-send-string client (format "hello %d\n" n))
        (np-wait (lambda () (cl-find-if (lambda (e) (and (eq (car e) 'filter) (eq (cadr e) client)))
                                        np--transcript)))
        (ignore replies)
        (np 'delete-process client)
        (np-status client)
        (np-wait (lambda () (cl-find-if (lambda (e) (and (eq (car e) 'server-sentinel)
                                                         (string-match-p "broken" (caddr e))))
                                        np--transcript)))
        (setq np--transcript (cons (list 'round n) np--transcript))))
    (np-note 'list (length (np-list)))
    (np 'delete-process server)
    (np-status server)))

(np-deftest names
  "Unique names: NAME<1>, NAME<1><1>, and a name freed by deletion."
  (let* ((a (np-echo-server "dup"))
         (b (np-echo-server "dup"))
         (c (np-echo-server "dup<1>")))
    (np-note 'names (np 'process-name a) (np 'process-name b) (np 'process-name c))
    (np 'delete-process b)
    (let ((d (np-echo-server "dup")))
      (np-note 'reused (np 'process-name d))
      (np-note 'get (np 'get-process "dup<1><1>") (np 'get-process "nope")))))

(np-deftest contacts
  "process-contact: KEY nil, t, a keyword, and NO-BLOCK after deletion."
  (let* ((server (np-echo-server "srv" :plist '(a 1)))
         (port (np-port server))
         (client (np-client "cli" port)))
    (np-note 'server-nil (np 'process-contact server))
    (np-note 'server-host (np 'process-contact server :host)
             (np 'process-contact server :local) (np 'process-contact server :missing))
    (np-note 'client-nil (np 'process-contact client))
    (np-note 'client-remote (np 'process-contact client :remote))
    (np-wait (lambda () (cl-find 'log np--transcript :key #'car)))
    (np 'delete-process client)
    (np-note 'after-delete (np 'process-contact client nil t) (np 'process-contact client :host))
    ;; A copy: Emacs's plist-put then edits the very list process-plist returned.
    (np-note 'plist (copy-sequence (np 'process-plist server)) (np 'process-get server 'a))
    (np 'process-put server 'b 2)
    (np-note 'plist2 (np 'process-plist server))))

(np-deftest delete
  "delete-process: the deleted sentinel, status, a second delete, the process list."
  (let* ((server (np-echo-server "srv"))
         (client (np-client "cli" (np-port server))))
    (np 'delete-process client)
    (np-status client)
    (np-note 'listed (memq client (np 'process-list)))
    (np-note 'second (np 'delete-process client))
    (np-note 'filter (np 'process-filter client) (np 'process-sentinel server))
    (np 'set-process-sentinel server nil)
    (np 'set-process-filter server nil)
    (np-note 'defaults (np 'process-filter server) (np 'process-sentinel server))))

(np-deftest stop-continue
  "stop-process and continue-process on a server and on a client."
  (let* ((server (np-echo-server "srv"))
         (port (np-port server)))
    (np-note 'stop (eq (np 'stop-process server) server))
    (np-status server)
    (let ((client (np-client "cli" port)))
      (np-settle 0.2)
      (np-note 'accepted-while-stopped (cl-find 'log np--transcript :key #'car))
      (np 'continue-process server)
      (np-status server)
      (np-wait (lambda () (cl-find 'log np--transcript :key #'car)))
      (np 'stop-process client)
      (np-status client)
      (np 'process-send-string client "ping\n")
      (np-settle 0.3)
      (np-note 'read-while-stopped (cl-find 'filter np--transcript :key #'car))
      (np 'continue-process client)
      (np-wait (lambda () (cl-find 'filter np--transcript :key #'car)))
      (np-status client))))

(np-deftest default-buffers
  "The default filter and sentinel write into the process buffer."
  (let* ((server (np-echo-server "srv"))
         (buffer (get-buffer-create "np-test-buffer")))
    (unwind-protect
        (with-current-buffer buffer
          (erase-buffer)
          (insert "start\n")
          (let ((client (np 'make-network-process :name "cli" :buffer buffer
                            :host "127.0.0.1" :service (np-port server))))
            (np-note 'mark (np 'process-mark client))
            (np 'process-send-string client "abc\n")
            (np-wait (lambda () (> (buffer-size) 6)))
            (np-note 'text (buffer-string) (point) (np 'process-mark client))
            (np 'delete-process client)
            (np-note 'after (buffer-string))))
      (kill-buffer buffer))))

(np-deftest accepted-buffers
  "Accepted connections of a server with the default filter get buffers."
  (let* ((server (np 'make-network-process :name "bsrv" :server t :host "127.0.0.1"
                     :service t :family 'ipv4))
         (client (np-client "cli" (np-port server))))
    (np-wait (lambda () (cl-find-if (lambda (p) (string-prefix-p "bsrv <" (np 'process-name p)))
                                    (np 'process-list))))
    (let ((accepted (cl-find-if (lambda (p) (string-prefix-p "bsrv <" (np 'process-name p)))
                                (np 'process-list))))
      (np 'process-send-string client "to server\n")
      (np-wait (lambda () (with-current-buffer (np 'process-buffer accepted) (> (buffer-size) 0))))
      (np-note 'accepted (np 'process-buffer accepted)
               (with-current-buffer (np 'process-buffer accepted) (buffer-string))
               (np 'process-contact accepted))
      (let ((buffer (np 'process-buffer accepted)))
        (let ((kill-buffer-query-functions nil))
          (kill-buffer buffer))
        (np-status accepted)))))

(np-deftest errors
  "Argument errors and a refused connection signal the same errors."
  (let* ((probe (np-echo-server "probe"))
         (port (np-port probe)))
    (np 'delete-process probe)
    (np-note 'refused (np-error (lambda () (np 'make-network-process :name "x" :host "127.0.0.1"
                                               :service port))))
    (np-note 'name (np-error (lambda () (np 'make-network-process :name 42 :service 1))))
    (np-note 'status (np-error (lambda () (np 'process-status 42))))
    (np-note 'status-name (np-error (lambda () (np 'process-status "no-such-process"))))
    (np-note 'proc-name (np-error (lambda () (np 'process-name 42))))
    (np-note 'delete (np-error (lambda () (np 'delete-process "no-such-process"))))
    (np-note 'empty (np 'make-network-process))
    ;; Emacs 30 words these as errors of their own (netproc-versions.el).
    (np-note 'no-name (np-error (lambda () (np 'make-network-process :host "127.0.0.1" :service 1))))
    (np-note 'nil-name (np-error (lambda () (np 'make-network-process :service 1 :name nil))))
    (np-note 'odd-name (np-error (lambda () (np 'make-network-process :service 1 :name))))
    (np-note 'bad-type-no-name (np-error (lambda () (np 'make-network-process :type 'bad))))
    (np-note 'non-ascii (np-error (lambda () (np 'make-network-process :name "x" :service 80
                                                 :host "b\u00fccher.example"))))
    (let ((server (np-echo-server "srv")))
      (np-note 'send (np-error (lambda () (np 'process-send-string server 42))))
      (np-note 'send-listening (np-error (lambda () (np 'process-send-string server "x"))))
      (let ((client (np-client "cli" (np-port server))))
        (np 'set-process-sentinel client #'ignore)
        (np 'delete-process client)
        ;; Emacs 29 says why: "Process cli not running: deleted\n".
        (np-note 'send-deleted (np-error (lambda () (np 'process-send-string client "x"))))
        (np-note 'eof-deleted (np-error (lambda () (np 'process-send-eof client)))))
      (np-note 'stop-name (np-error (lambda () (np 'stop-process "srv"))))
      (np-note 'plist (np-error (lambda () (np 'set-process-plist server 5)))))))

(np-deftest filter-error
  "An error in a filter is reported through command-error-function; events go on."
  (let* ((reports nil)
         (debug-on-error nil)
         ;; Else batch Emacs runs `debug' for an error caught by an `error' handler,
         ;; which kills it: netproc's handler is the same, and so is that behaviour.
         (backtrace-on-error-noninteractive nil)
         (command-error-function (lambda (data context _caller) (push (list data context) reports)))
         (server (np-echo-server "srv"))
         (client (np-client "cli" (np-port server))))
    (np 'set-process-filter client (lambda (_p s) (np-note 'filter s) (error "Boom %s" (string-trim s))))
    (np 'process-send-string client "one\n")
    (np-wait (lambda () reports) 6)
    (np-note 'reports reports)
    (np 'process-send-string client "two\n")
    (np-wait (lambda () (= (length reports) 2)) 6)
    (np-note 'reports2 (length reports))))

;;;; Text

(np-deftest coding
  "Filter strings: utf-8 decoding with a raw byte, binary, and filter-multibyte nil."
  (let* ((server (np-echo-server "srv"))
         (port (np-port server)))
    (dolist (args '((:coding utf-8) (:coding binary) ()))
      (let* ((strings nil)
             (client (apply #'np 'make-network-process :name "cli" :host "127.0.0.1"
                            :service port
                            :filter (lambda (_p s) (push s strings))
                            args)))
        (np-note 'coding args (np 'process-coding-system client)
                 (np-filter-multibyte-p client))
        ;; The server upcases, which leaves these bytes alone.
        (np 'process-send-string client "caf\303\251 \377\n")
        (np-wait (lambda () strings))
        (np-note 'got (apply #'concat (reverse strings))
                 (multibyte-string-p (car strings)))
        (let ((broken (np-count-broken)))
          (np 'delete-process client)
          (np-wait (lambda () (> (np-count-broken) broken))))
        (setq np--transcript (cons '(round) np--transcript))))))

(ert-deftest netproc-difference-filter-multibyte ()
  "Emacs ignores :filter-multibyte nil; netproc gives the filter unibyte strings."
  (let* ((np--twins t)
         (strings nil)
         (server (np-echo-server "srv"))
         (client (netproc-make-network-process
                  :name "cli" :host "127.0.0.1" :service (np-port server) :coding 'utf-8
                  :filter-multibyte nil :filter (lambda (_p s) (push s strings)))))
    (unwind-protect
        (progn
          (when (fboundp 'netproc-process-filter-multibyte-p) ; not in Emacs 29 and later
            (should-not (netproc-process-filter-multibyte-p client)))
          (netproc-process-send-string client "caf\303\251\n")
          (np-wait (lambda () strings))
          ;; The echo server decoded, upcased (e-acute to E-acute) and encoded the text.
          (should (equal (car strings) "CAF\303\211\n"))
          (should-not (multibyte-string-p (car strings))))
      ;; The accepted connection too, quietly: its late sentinel would otherwise note
      ;; into the next test's transcript.
      (dolist (process (netproc-process-list))
        (netproc-set-process-sentinel process #'ignore)
        (netproc-delete-process process)))))

;;;; Documented differences, asserted

(ert-deftest netproc-difference-send-after-eof ()
  "Emacs drops data sent after process-send-eof; netproc signals an error."
  (let* ((np--twins t)
         (server (np-echo-server "srv"))
         (client (np-client "cli" (np-port server))))
    (unwind-protect
        (progn
          (netproc-process-send-eof client)
          (should (equal (np-error (lambda () (netproc-process-send-string client "x")))
                         '(error error "Output file descriptor of cli is closed"))))
      (netproc-delete-process client)
      (netproc-delete-process server))))

(ert-deftest netproc-difference-read-size ()
  "Emacs reads 4 KiB at a time; netproc's filter gets up to 64 KiB per call."
  (let* ((np--twins t)
         (chunks nil)
         (payload (make-string (* 512 1024) ?x))
         (server (netproc-make-network-process
                  :name "big" :server t :host "127.0.0.1" :service t
                  :sentinel (lambda (p m) (when (string-prefix-p "open" m)
                                            (netproc-process-send-string p payload)))))
         (client (netproc-make-network-process
                  :name "reader" :host "127.0.0.1" :service (cadr (netproc-process-contact server))
                  :filter (lambda (_p s) (push (length s) chunks)))))
    (unwind-protect
        (progn
          (np-wait (lambda () (>= (apply #'+ chunks) (length payload))) 10)
          (should (= (apply #'+ chunks) (length payload)))
          (should (> (apply #'max chunks) 4096)))
      (netproc-delete-process client)
      (netproc-delete-process server))))

(ert-deftest netproc-difference-send-never-blocks ()
  "A large send to a peer that does not read returns at once; the rest stays queued."
  (let* ((np--twins t)
         (server (netproc-make-network-process :name "slow" :server t :host "127.0.0.1"
                                               :service t :filter t))
         (client (netproc-make-network-process
                  :name "writer" :host "127.0.0.1" :service (cadr (netproc-process-contact server))))
         (start (float-time)))
    (unwind-protect
        (progn
          (netproc-process-send-string client (make-string (* 16 1024 1024) ?y))
          (should (< (- (float-time) start) 2))
          (should (> (netproc--output-pending client) 0)))
      (netproc-delete-process client)
      (netproc-delete-process server))))

(ert-deftest netproc-objects ()
  "Process objects: the same object every time, a predicate, a type, printing."
  (let* ((server (netproc-make-network-process :name "obj" :server t :host "127.0.0.1" :service t)))
    (unwind-protect
        (progn
          (should (netproc-processp server))
          (should-not (netproc-processp 42))
          (should-not (netproc-processp (current-buffer)))
          (should (eq (netproc-get-process "obj") server))
          (should (eq (car (netproc-process-list)) server))
          (should (eq (netproc-process-type server) 'network))
          (should (equal (cl-prin1-to-string server) "#<netproc-process obj>")))
      (netproc-delete-process server))))

(provide 'netproc-test)
;;; netproc-test.el ends here

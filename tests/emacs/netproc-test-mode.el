;;; netproc-test-mode.el --- netproc-mode: Emacs's own names on netproc processes  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; `netproc-mode' routes Emacs's process primitives to netproc for every package.  A
;; package-style script using only Emacs's names runs with the mode off (Emacs's network
;; processes) and on (netproc's), and the transcripts must be `equal'; so must those of
;; the differential scenarios of the other files (`np-deftest'), run with the built-in
;; names under the mode.  Then: the objects are netproc's, subprocesses stay Emacs's,
;; code compiled before the mode (bytecode, native code) is routed, turning the mode off
;; leaves no advice, url and a server of 10,000 connections work under it.

;;; Code:

(require 'netproc-test)
(require 'netproc-mode)

(defmacro np-mode-with (on &rest body)
  "Run BODY with `netproc-mode' on if ON is non-nil, else off; then restore it."
  (declare (indent 1))
  `(let ((was netproc-mode))
     (netproc-mode (if ,on 1 -1))
     (unwind-protect (progn ,@body)
       (netproc-mode (if was 1 -1)))))

(defun np-mode-normalise (object)
  "OBJECT with processes and buffers named, and ports made comparable.
Uses Emacs's names, so it must run in the mode the objects were made in."
  (cond ((processp object) (list 'process (np-mode-normalise (process-name object))))
        ((bufferp object) (list 'buffer (buffer-name object)))
        ((stringp object) (replace-regexp-in-string
                           "\\(?:127\\.0\\.0\\.1:\\)[0-9]+" "127.0.0.1:PORT" object))
        ((and (integerp object) (> object 1023)) 'PORT)
        ((consp object) (cons (np-mode-normalise (car object)) (np-mode-normalise (cdr object))))
        (t object)))

(defun np-mode-wait (predicate &optional seconds)
  "Wait with Emacs's `accept-process-output' until PREDICATE or SECONDS (5) pass."
  (let ((deadline (+ (float-time) (or seconds 5))) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    value))

(defun np-mode-listed (buffer)
  "The lines of `list-processes' BUFFER about this file's processes, as word lists."
  (with-current-buffer buffer
    (sort (cl-loop for line in (split-string (buffer-substring-no-properties (point-min)
                                                                             (point-max))
                                             "\n")
                   when (string-match-p "np-mode-" line)
                   collect (np-mode-normalise (split-string line)))
          (lambda (a b) (string< (car a) (car b))))))

(defvar np-mode-made nil
  "The processes the last package-style script made, for the tests to inspect.")

(defun np-mode-package-script ()
  "What a package does with network processes, through Emacs's names only.
Returns the transcript, normalised in the mode it ran in."
  (let* ((notes nil)
         (note (lambda (&rest entry) (push entry notes)))
         (buffer (generate-new-buffer "np-mode-client"))
         (list-buffer (generate-new-buffer "np-mode-list"))
         server client accepted)
    (unwind-protect
        (progn
          (setq server (make-network-process
                        :name "np-mode-srv" :server t :host "127.0.0.1" :service t :family 'ipv4
                        :log (lambda (_server connection message)
                               (funcall note 'log (process-name connection) message))
                        :sentinel (lambda (process message)
                                    (funcall note 'server-sentinel (process-name process) message))
                        :filter (lambda (process string)
                                  (process-send-string process (upcase string)))))
          (setq client (open-network-stream "np-mode-cli" buffer "127.0.0.1"
                                            (process-contact server :service) :type 'plain))
          (np-mode-wait (lambda () (assq 'log notes)))
          (setq accepted (cl-find-if (lambda (p) (string-prefix-p "np-mode-srv <" (process-name p)))
                                     (process-list)))
          (setq np-mode-made (list server client accepted))
          (funcall note 'client (processp client) (process-type client) (process-status client)
                   (process-live-p client) (eq (process-buffer client) buffer)
                   (process-contact client) (process-query-on-exit-flag client))
          (funcall note 'found (eq (get-process "np-mode-cli") client)
                   (eq (get-buffer-process buffer) client)
                   (and (memq client (process-list)) t) (and (memq server (process-list)) t)
                   (and accepted (processp accepted)))
          (funcall note 'no-subprocess (process-id client) (process-command client)
                   (process-tty-name client) (eq (process-thread client) main-thread)
                   (process-inherit-coding-system-flag client))
          (funcall note 'server (process-status server) (process-type server)
                   (process-contact server :server) (functionp (process-filter accepted)))
          (set-process-filter client (lambda (process string)
                                       (funcall note 'filter (process-name process) string)))
          (set-process-sentinel client (lambda (process message)
                                         (funcall note 'sentinel (process-name process) message)))
          (process-send-string client "hello\n")
          (np-mode-wait (lambda () (assq 'filter notes)))
          (with-temp-buffer
            (insert "a region\n")
            (process-send-region client (point-min) (point-max)))
          (np-mode-wait (lambda () (= (cl-count 'filter notes :key #'car) 2)))
          (process-put client 'np-mode-key 'value)
          (funcall note 'plist (process-get client 'np-mode-key))
          (list-processes nil list-buffer)
          (funcall note 'list-processes (np-mode-listed list-buffer))
          ;; The kill-Emacs query: asked while the connections may query, not after.
          ;; Questions are answered through `y-or-n-p' (a Lisp function, so stubbing it
          ;; needs no trampoline), the last one by `confirm-kill-emacs', so that Emacs
          ;; is never killed.
          (cl-letf* ((use-short-answers t)
                     (confirm-kill-emacs (lambda (prompt) (funcall note 'confirm prompt) nil))
                     ((symbol-function 'y-or-n-p)
                      (lambda (prompt)
                        ;; The processes that make it ask, as it shows them meanwhile.
                        (funcall note 'asked prompt (np-mode-listed "*Process List*"))
                        nil)))
            (funcall note 'kill-emacs-query (save-buffers-kill-emacs))
            (dolist (process (list server accepted))
              (set-process-query-on-exit-flag process nil))
            (funcall note 'kill-emacs-query-client-only (save-buffers-kill-emacs))
            (set-process-query-on-exit-flag client nil)
            (funcall note 'kill-emacs-query-none (save-buffers-kill-emacs))
            (set-process-query-on-exit-flag client t))
          ;; Killing the client's buffer asks once, then deletes its process.
          (cl-letf* ((use-short-answers t)
                     ((symbol-function 'y-or-n-p)
                      (lambda (prompt) (funcall note 'asked prompt) t)))
            (kill-buffer buffer))
          (funcall note 'killed (process-status client) (process-live-p client)
                   (get-process "np-mode-cli"))
          (np-mode-wait (lambda () (assq 'sentinel notes)))
          (np-mode-wait (lambda () (assq 'server-sentinel notes)))
          (delete-process server)
          (funcall note 'deleted (process-status server) (and (memq server (process-list)) t)))
      (dolist (process (process-list))
        (when (and (eq (process-type process) 'network)
                   (string-prefix-p "np-mode-" (process-name process)))
          (set-process-sentinel process #'ignore)
          (delete-process process)))
      (kill-buffer list-buffer)
      (when (buffer-live-p buffer) (kill-buffer buffer))
      (when (get-buffer "*Process List*") (kill-buffer "*Process List*")))
    (np-mode-normalise (reverse notes))))

(ert-deftest netproc-mode-package-script ()
  "A package's script through Emacs's names: the same transcript with the mode off and on."
  (let* ((builtin (np-mode-with nil (np-mode-package-script)))
         (builtin-made np-mode-made)
         (netproc (np-mode-with t (np-mode-package-script))))
    (should (assq 'filter builtin))
    (should (equal builtin netproc))
    (should (cl-every #'processp builtin-made))
    (should-not (cl-some #'netproc-processp builtin-made))
    ;; Under the mode the very same names made netproc processes.
    (should (cl-every #'netproc-processp np-mode-made))))

(ert-deftest netproc-mode-subprocesses-stay-emacs ()
  "Under the mode a subprocess and a pipe are Emacs's, and names stay unique across kinds."
  (np-mode-with t
    (let* ((network (make-network-process :name "np-mode-same" :server t :host "127.0.0.1"
                                          :service t))
           (cat (make-process :name "np-mode-same" :command '("cat") :noquery t))
           (pipe (make-pipe-process :name "np-mode-pipe" :noquery t)))
      (unwind-protect
          (progn
            (should (netproc-processp network))
            (should (and (processp cat) (not (netproc-processp cat))))
            (should (eq (process-type cat) 'real))
            (should (eq (process-type pipe) 'pipe))
            (should (integerp (process-id cat)))
            (should (equal (process-name cat) "np-mode-same<1>"))
            (should (eq (get-process "np-mode-same") network))
            (should (eq (get-process "np-mode-same<1>") cat))
            (should (memq cat (process-list)))
            (should (memq network (process-list)))
            (let ((again (make-network-process :name "np-mode-same" :server t
                                               :host "127.0.0.1" :service t)))
              ;; netproc alone would say <1>, which is Emacs's.
              (should (equal (process-name again) "np-mode-same<2>"))
              (delete-process again))
            (let ((first (make-network-process :name "np-mode-other" :server t
                                               :host "127.0.0.1" :service t))
                  (second (make-network-process :name "np-mode-other" :server t
                                                :host "127.0.0.1" :service t)))
              ;; No clash with Emacs's names: the contact keeps the name given, as in Emacs.
              (should (equal (process-name second) "np-mode-other<1>"))
              (should (equal (process-contact second :name) "np-mode-other"))
              (delete-process first)
              (delete-process second))
            (should-error (kill-process network) :type 'error)
            (should (equal (condition-case err (kill-process network) (error (cadr err)))
                           "Process np-mode-same is not a subprocess")))
        (delete-process network)
        (delete-process cat)
        (delete-process pipe)))))

(defun np-mode-server ()
  "A netproc echo server on loopback, made with the twin; its port."
  (let ((server (netproc-make-network-process
                 :name "np-mode-echo" :server t :host "127.0.0.1" :service t :family 'ipv4
                 :noquery t
                 :filter (lambda (p s) (netproc-process-send-string p s)))))
    (cons server (cadr (netproc-process-contact server)))))

(ert-deftest netproc-mode-routes-bytecode ()
  "A function byte-compiled before the mode is turned on is routed once it is on."
  (let ((compiled (byte-compile
                   '(lambda (port)
                      (let ((process (make-network-process :name "np-mode-bc" :host "127.0.0.1"
                                                           :service port :noquery t)))
                        (list process (processp process) (process-status process)
                              (eq (get-process "np-mode-bc") process)))))))
    (should (byte-code-function-p compiled))
    (let ((echo (np-mode-server)))
      (unwind-protect
          (np-mode-with t
            (pcase-let ((`(,process ,processp ,status ,found) (funcall compiled (cdr echo))))
              (should (netproc-processp process))
              (should (equal (list processp status found) '(t open t)))
              (delete-process process)))
        (netproc-delete-process (car echo))))))

(ert-deftest netproc-mode-routes-native-code ()
  "Natively compiled code loaded before the mode is turned on is routed once it is on:
a function compiled here, and subr.el's `process-live-p' and
`process-kill-buffer-query-function', preloaded from Emacs's own .eln files."
  (unless (and (netproc-mode--native-p) (fboundp 'native-compile)
               (subr-native-elisp-p (symbol-function 'process-live-p)))
    (ert-skip "no native compilation here"))
  (let ((compiled (native-compile
                   '(lambda (port)
                      (let ((process (make-network-process :name "np-mode-native"
                                                           :host "127.0.0.1" :service port
                                                           :noquery t)))
                        (list process (processp process) (process-status process)
                              (process-type process))))))
        (echo (np-mode-server)))
    (should (subr-native-elisp-p compiled))
    (unwind-protect
        (np-mode-with t
          (pcase-let ((`(,process ,processp ,status ,type) (funcall compiled (cdr echo))))
            (should (netproc-processp process))
            (should (equal (list processp status type) '(t open network)))
            (should (process-live-p process))
            (with-temp-buffer
              (set-process-buffer process (current-buffer))
              (set-process-query-on-exit-flag process t)
              (cl-letf* ((use-short-answers t)
                         ((symbol-function 'y-or-n-p) (lambda (prompt) prompt)))
                (should (equal (process-kill-buffer-query-function)
                               (format "Buffer %S has a running process; kill it? "
                                       (buffer-name))))))
            (delete-process process)
            (should-not (process-live-p process))))
      (netproc-delete-process (car echo)))))

(ert-deftest netproc-mode-off-leaves-no-trace ()
  "Turning the mode off removes every advice it added; the hooks are as before."
  (let ((hooks (list kill-buffer-hook kill-buffer-query-functions kill-emacs-hook
                     kill-emacs-query-functions))
        (advice (np-mode-with t (netproc-mode--advice))))
    (should (assq 'make-network-process advice))
    (should (assq 'processp advice))
    (np-mode-with t
      (dolist (entry advice)
        (should (advice-member-p (cdr entry) (car entry)))))
    (should-not netproc-mode)
    (dolist (entry (cons '(gnutls-boot . netproc-mode--gnutls-boot) advice))
      (should-not (advice-member-p (cdr entry) (car entry))))
    (should (equal hooks (list kill-buffer-hook kill-buffer-query-functions kill-emacs-hook
                               kill-emacs-query-functions)))
    (should (= (hash-table-count netproc-mode--threads) 0))))

(ert-deftest netproc-mode-primitives-accounted-for ()
  "Every DEFUN of Emacs's process.c that takes a process is advised or documented."
  (let ((documented (documentation-property 'netproc-mode--primitives 'variable-documentation t)))
    (dolist (name '(processp get-process delete-process process-status process-exit-status
                    process-id process-name process-command process-tty-name
                    set-process-buffer process-buffer process-mark set-process-filter
                    process-filter set-process-sentinel process-sentinel set-process-thread
                    process-thread set-process-window-size
                    set-process-inherit-coding-system-flag set-process-query-on-exit-flag
                    process-query-on-exit-flag process-contact process-plist
                    set-process-plist process-type format-network-address process-list
                    make-process make-pipe-process process-datagram-address
                    set-process-datagram-address set-network-process-option
                    serial-process-configure make-serial-process make-network-process
                    network-interface-list network-interface-info network-lookup-address-info
                    accept-process-output internal-default-process-filter
                    process-send-region process-send-string process-running-child-p
                    internal-default-interrupt-process interrupt-process kill-process
                    quit-process stop-process continue-process signal-process
                    process-send-eof internal-default-process-sentinel
                    set-process-coding-system process-coding-system
                    set-process-filter-multibyte process-filter-multibyte-p
                    get-buffer-process process-inherit-coding-system-flag
                    waiting-for-user-input-p list-system-processes process-attributes
                    num-processors))
      (should (or (memq name netproc-mode--primitives)
                  (string-match-p (format "`%s'" (regexp-quote (symbol-name name)))
                                  documented))))
    (let ((advice (netproc-mode--advice)))
      (dolist (name netproc-mode--primitives)
        (when (and (fboundp name) (not (eq name 'gnutls-boot)))
          (should (fboundp (cdr (assq name advice)))))))))

(defun np-mode-scenarios ()
  "The differential scenarios loaded (`np-deftest'): their scenario functions."
  (let (scenarios)
    (mapatoms
     (lambda (symbol)
       (let ((name (symbol-name symbol)))
         (when (and (string-prefix-p "np-scenario-" name) (fboundp symbol)
                    (ert-test-boundp (intern (concat "netproc-" (substring name 12)))))
           (push symbol scenarios)))))
    (sort scenarios (lambda (a b) (string< (symbol-name a) (symbol-name b))))))

(ert-deftest netproc-mode-differential-scenarios ()
  "Every differential scenario gives the same transcript through the built-in names with
the mode on (netproc processes) as with it off (Emacs's)."
  (let ((failed nil)
        (count 0))
    (dolist (scenario (np-mode-scenarios))
      (let ((builtin (np-run scenario nil))
            (routed (np-mode-with t (np-run scenario nil))))
        (setq count (1+ count))
        (unless (equal builtin routed)
          (push (list scenario builtin routed) failed))))
    (should (> count 5))
    (should-not failed)))

(defun np-mode-http-server ()
  "A tiny HTTP server (built-in names): one fixed reply per connection; its process."
  (make-network-process
   :name "np-mode-http" :server t :host "127.0.0.1" :service t :family 'ipv4 :noquery t
   :filter (lambda (process string)
             (when (string-match-p "\r\n\r\n" string)
               (process-send-string
                process (concat "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                "Content-Length: 14\r\nConnection: close\r\n\r\n"
                                "hello from np\n"))
               (process-send-eof process)))))

(ert-deftest netproc-mode-url-retrieve ()
  "`url-retrieve-synchronously' of a local server works under the mode, on netproc."
  (require 'url)
  (np-mode-with t
    (let* ((server (np-mode-http-server))
           (url (format "http://127.0.0.1:%d/" (process-contact server :service)))
           (seen nil))
      (should (netproc-processp server))
      (advice-add 'make-network-process :filter-return
                  (lambda (process) (push process seen) process) '((name . np-mode-seen)))
      (unwind-protect
          (let ((buffer (url-retrieve-synchronously url t t 10)))
            (should buffer)
            (with-current-buffer buffer
              (goto-char (point-min))
              (should (looking-at "HTTP/1.1 200 OK"))
              (should (search-forward "\n\nhello from np\n" nil t)))
            (should seen)
            (should (cl-every #'netproc-processp seen))
            (kill-buffer buffer))
        (advice-remove 'make-network-process 'np-mode-seen)
        (delete-process server)))))

(ert-deftest netproc-mode-jsonrpc ()
  "jsonrpc over TCP under the mode: both ends are netproc processes."
  (require 'jsonrpc)
  (np-mode-with t
    (let* ((server-side nil)
           (server (make-network-process
                    :name "np-mode-jsonrpc" :server t :host "127.0.0.1" :service t
                    :family 'ipv4 :noquery t
                    :log (lambda (_server connection _message)
                           (push (make-instance
                                  'jsonrpc-process-connection
                                  :name "np-mode-jsonrpc-server" :process connection
                                  :request-dispatcher
                                  (lambda (_conn method params)
                                    (list :method (symbol-name method) :echo params)))
                                 server-side))))
           (process (open-network-stream "np-mode-jsonrpc-client" nil "127.0.0.1"
                                         (process-contact server :service) :type 'plain))
           (connection (make-instance 'jsonrpc-process-connection
                                      :name "np-mode-jsonrpc-client" :process process)))
      (unwind-protect
          (progn
            (should (netproc-processp process))
            (should (equal (jsonrpc-request connection 'hello [1 2 3] :timeout 5)
                           '(:method "hello" :echo [1 2 3])))
            (should (cl-every (lambda (c) (netproc-processp (jsonrpc--process c))) server-side))
            (jsonrpc-shutdown connection)
            (should (eq (process-status process) 'closed)))
        (dolist (c server-side) (ignore-errors (jsonrpc-shutdown c)))
        (delete-process server)))))

(ert-deftest netproc-mode-server-el ()
  "server.el under the mode: its server is a netproc process and emacsclient gets answers."
  (require 'server)
  (unless (executable-find "emacsclient")
    (ert-skip "emacsclient is not installed"))
  (let ((server-socket-dir (make-temp-file "np-mode-server" t))
        (server-name "np-mode"))
    (unwind-protect
        (np-mode-with t
          (server-start)
          (should (netproc-processp server-process))
          (let* ((output "")
                 (client (make-process
                          :name "np-mode-emacsclient" :noquery t :connection-type 'pipe
                          :command (list "emacsclient" "-s"
                                         (expand-file-name server-name server-socket-dir)
                                         "--eval" "(+ 1 2)")
                          :filter (lambda (_p s) (setq output (concat output s))))))
            (np-mode-wait (lambda () (not (process-live-p client))) 10)
            (np-mode-wait (lambda () (string-match-p "\n" output)) 1)
            (should (equal output "3\n")))
          (server-force-delete))
      (delete-directory server-socket-dir t))))

(ert-deftest netproc-mode-beyond-10000-connections ()
  "Under the mode a server made with `make-network-process' holds 10,000 connections:
netproc's sockets never enter Emacs's `select'.  The clients live in a child Emacs (as
in netproc-test-scale.el); NP_SCALE_CONNECTIONS overrides the count."
  (require 'netproc-test-scale)
  (let* ((count (string-to-number (or (getenv "NP_SCALE_CONNECTIONS") "10000")))
         (limit (netproc-raise-open-file-limit)))
    (when (< limit (+ count 100))
      (ert-skip (format "the open-file limit (%d) is below %d" limit (+ count 100))))
    (np-mode-with t
      (let* ((opened 0)
             (broken 0)
             (server (make-network-process
                      :name "np-mode-big" :server 4096 :host "127.0.0.1" :service t
                      :family 'ipv4 :noquery t
                      :sentinel (lambda (_p message)
                                  (cond ((string-prefix-p "open from" message) (cl-incf opened))
                                        ((string-prefix-p "connection broken" message)
                                         (cl-incf broken))))))
             (start (float-time))
             (child (make-process
                     :name "np-mode-clients" :noquery t :connection-type 'pipe
                     :command (list (expand-file-name invocation-name invocation-directory)
                                    "-Q" "--batch"
                                    "-L" (file-name-directory (locate-library "netproc"))
                                    "--eval" (np-scale-client-program
                                              (process-contact server :service) count))
                     :filter #'ignore :sentinel #'ignore)))
        (unwind-protect
            (progn
              (should (netproc-processp server))
              (should-not (netproc-processp child))
              (let ((deadline (+ (float-time) 60)))
                (while (and (< opened count) (< (float-time) deadline) (process-live-p child))
                  (accept-process-output nil 0.1)))
              (should (= opened count))
              (let ((mine (cl-remove-if-not
                           (lambda (p) (string-prefix-p "np-mode-big" (process-name p)))
                           (process-list))))
                (should (= (length mine) (1+ count)))
                (should (cl-every #'netproc-processp mine)))
              (message "netproc-mode scale: %d connections accepted in %.2f s"
                       count (- (float-time) start))
              (delete-process child)
              (let ((deadline (+ (float-time) 60)))
                (while (and (< broken count) (< (float-time) deadline))
                  (accept-process-output nil 0.1)))
              (should (= broken count)))
          (when (process-live-p child) (delete-process child))
          (dolist (p (process-list))
            (when (string-prefix-p "np-mode-big" (process-name p))
              (set-process-sentinel p #'ignore)
              (delete-process p))))))))

(ert-deftest netproc-mode-tls ()
  "`open-network-stream' :type tls to `openssl s_server' under the mode: the handshake
through `gnutls-negotiate', the Network Security Manager's check through
`gnutls-peer-status', data both ways, on a netproc process."
  (unless (fboundp 'netproc-gnutls-negotiate)
    (ert-skip "netproc's TLS twins (netproc-tls.el) are not loaded"))
  (require 'netproc-test-tls-differences)
  ;; Before binding their variables, which must be special.
  (require 'nsm)
  (require 'gnutls)
  (let* ((server (np-tls-server "server.pem" "server.key"))
         (server-output "")
         (got "")
         (nsm-settings-file (make-temp-file "np-mode-nsm"))
         (network-security-level 'medium)
         (gnutls-trustfiles (list (np-cert "ca.pem")))
         (checked nil))
    (set-process-filter (car server) (lambda (_p s) (setq server-output (concat server-output s))))
    (advice-add 'nsm-verify-connection :filter-return
                (lambda (process) (push process checked) process) '((name . np-mode-nsm)))
    (unwind-protect
        (np-mode-with t
          (let ((client (open-network-stream "np-mode-tls" nil "localhost" (cdr server)
                                             :type 'tls)))
            (should (netproc-processp client))
            (should (equal checked (list client)))
            (should (plist-get (gnutls-peer-status client) :certificate))
            (set-process-filter client (lambda (_p s) (setq got (concat got s))))
            (process-send-string client "to the server\n")
            (process-send-string (car server) "to the client\n")
            (np-mode-wait (lambda () (and (string-match-p "to the client" got)
                                          (string-match-p "to the server" server-output))))
            (should (equal got "to the client\n"))
            (should (string-match-p "to the server" server-output))
            (delete-process client)))
      (advice-remove 'nsm-verify-connection 'np-mode-nsm)
      (delete-process (car server))
      (delete-file nsm-settings-file))))

(provide 'netproc-test-mode)
;;; netproc-test-mode.el ends here

;;; netproc-test-scale.el --- A netproc server in Lisp holding 10,000 connections  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; Beyond Emacs: a server written in Lisp with the twins accepts 10,000 simultaneous
;; connections (Emacs's own processes stop near 1,024: see netproc-test-callbacks.el).
;; The clients live in a child Emacs, also netproc clients, so that neither process needs
;; more than about 10,000 descriptors.  NP_SCALE_CONNECTIONS overrides the count.  The
;; figures (time, memory) are printed with `message'.

;;; Code:

(require 'netproc-test)

(defun np-rss-kib ()
  "This Emacs's resident set size in KiB."
  (with-temp-buffer
    (insert-file-contents "/proc/self/status")
    (and (re-search-forward "^VmRSS:[ \t]+\\([0-9]+\\)" nil t)
         (string-to-number (match-string 1)))))

(defun np-scale-emacs-still-works ()
  "With the connections open: a file watch, a subprocess and a built-in network process
all work, since netproc's descriptors are above Emacs's `select' range.  Returns what each
gave, as a list."
  (require 'filenotify)
  (let* ((dir (make-temp-file "np-watch" t))
         (watch (file-notify-add-watch dir '(change) #'ignore))
         (finished nil)
         (child (make-process :name "np-true" :command '("true") :noquery t
                              :sentinel (lambda (_p m) (setq finished m))))
         (echoed nil)
         (server (make-network-process :name "np-builtin" :server t :host "127.0.0.1"
                                       :service t :noquery t
                                       :filter (lambda (p s) (process-send-string p s))))
         (client (make-network-process :name "np-builtin-c" :host "127.0.0.1" :noquery t
                                       :service (cadr (process-contact server))
                                       :filter (lambda (_p s) (setq echoed s)))))
    (unwind-protect
        (progn
          (process-send-string client "ping")
          (let ((deadline (+ (float-time) 10)))
            (while (and (or (not finished) (not echoed)) (< (float-time) deadline))
              (accept-process-output nil 0.05)))
          (list (file-notify-valid-p watch) (process-id child) finished echoed))
      (file-notify-rm-watch watch)
      (delete-process client)
      (delete-process server)
      (delete-directory dir t))))

(defun np-scale-client-program (port count)
  "The Lisp a child Emacs runs: COUNT netproc clients of PORT, held open until killed."
  (format "(progn
  (require 'netproc)
  (netproc-raise-open-file-limit)
  (let ((start (float-time)))
    (dotimes (i %d)
      (netproc-make-network-process :name (format \"c%%d\" i) :host \"127.0.0.1\"
                                    :service %d :noquery t :sentinel #'ignore :filter #'ignore))
    (message \"connected %%d %%.2f\" (length (netproc-process-list))
                   (- (float-time) start)))
  (while t (netproc-accept-process-output nil 1)))" count port))

(ert-deftest netproc-beyond-10000-connections ()
  "A netproc server in Lisp holds 10,000 simultaneous connections (while a file watch, a
subprocess and a built-in network process still work beside them), then sees them close."
  (let* ((count (string-to-number (or (getenv "NP_SCALE_CONNECTIONS") "10000")))
         (limit (netproc-raise-open-file-limit)))
    (when (< limit (+ count 100))
      (ert-skip (format "the open-file limit (%d) is below %d" limit (+ count 100))))
    (let* ((opened 0)
           (broken 0)
           (server (netproc-make-network-process
                    :name "big" :server 4096 :host "127.0.0.1" :service t :family 'ipv4
                    :noquery t
                    :sentinel (lambda (_p message)
                                (cond ((string-prefix-p "open from" message) (cl-incf opened))
                                      ((string-prefix-p "connection broken" message)
                                       (cl-incf broken))))))
           (port (cadr (netproc-process-contact server)))
           (rss-before (np-rss-kib))
           (start (float-time))
           (output "")
           (child (make-process
                   :name "np-clients" :noquery t :connection-type 'pipe
                   :command (list (expand-file-name invocation-name invocation-directory)
                                  "-Q" "--batch"
                                  "-L" (file-name-directory (locate-library "netproc"))
                                  "--eval" (np-scale-client-program port count))
                   :filter (lambda (_p s) (setq output (concat output s)))
                   :sentinel #'ignore)))
      (unwind-protect
          (progn
            (let ((deadline (+ (float-time) 60)))
              (while (and (< opened count) (< (float-time) deadline) (process-live-p child))
                (netproc-accept-process-output nil 0.1)))
            (let ((accepted-time (- (float-time) start))
                  (rss-after (np-rss-kib)))
              (should (= opened count))
              (should (= (length (netproc-process-list)) (1+ count)))
              (should (cl-every (lambda (p) (memq (netproc-process-status p) '(open listen)))
                                (netproc-process-list)))
              (let ((deadline (+ (float-time) 10)))
                (while (and (not (string-match-p "^connected" output)) (< (float-time) deadline))
                  (accept-process-output child 0.1)))
              (should (string-match-p (format "^connected %d " count) output))
              ;; Emacs's own descriptors (below 1024) are all still free for it.
              (let ((works (np-scale-emacs-still-works)))
                (should (eq (nth 0 works) t))
                (should (integerp (nth 1 works)))
                (should (equal (nth 2 works) "finished\n"))
                (should (equal (nth 3 works) "ping")))
              (message "netproc scale: %d connections accepted in %.2f s; RSS %d -> %d MiB (%.1f KiB per connection); clients: %s"
                       count accepted-time (/ rss-before 1024) (/ rss-after 1024)
                       (/ (- rss-after rss-before) (float count)) (string-trim output))
              ;; The child exits: every connection is broken by the peer.
              (let ((close-start (float-time))
                    (deadline (+ (float-time) 60)))
                (delete-process child)
                (while (and (< broken count) (< (float-time) deadline))
                  (netproc-accept-process-output nil 0.1))
                (should (= broken count))
                (should (equal (netproc-process-list) (list server)))
                (message "netproc scale: %d closes seen in %.2f s"
                         count (- (float-time) close-start)))))
        (when (process-live-p child) (delete-process child))
        (dolist (p (netproc-process-list))
          (netproc-set-process-sentinel p #'ignore)
          (netproc-delete-process p))))))

(provide 'netproc-test-scale)
;;; netproc-test-scale.el ends here

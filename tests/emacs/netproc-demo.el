;;; netproc-demo.el --- make demo-emacs: an echo server and three clients  -*- lexical-binding: t -*-

;; SPDX-License-Identifier: GPL-3.0-or-later

;;; Commentary:

;; emacs -Q --batch -L lisp -l tests/emacs/netproc-demo.el
;; Prints every log, sentinel and filter call, in order.  Emacs waits in `sleep-for' and
;; `accept-process-output'; netproc's callbacks reach Lisp through the module's channel.

;;; Code:

(require 'netproc)

(defun netproc-demo--say (format-string &rest args)
  "Print FORMAT-STRING with ARGS on a line of its own."
  (princ (concat (apply #'format format-string args) "\n")))

(let* ((server (netproc-make-network-process
                :name "echo" :server t :host "127.0.0.1" :service t :family 'ipv4
                :log (lambda (_server client message)
                       (netproc-demo--say "log      %s: %S" (netproc-process-name client) message))
                :sentinel (lambda (process message)
                            (netproc-demo--say "sentinel %s: %S" (netproc-process-name process) message))
                :filter (lambda (process string)
                          (netproc-demo--say "server   %s got %S" (netproc-process-name process) string)
                          (netproc-process-send-string process (upcase string)))))
       (port (cadr (netproc-process-contact server)))
       (replies 0)
       clients)
  (netproc-demo--say "echo server %s listening on 127.0.0.1:%d" (cl-prin1-to-string server) port)
  (dotimes (n 3)
    (let ((client (netproc-make-network-process
                   :name (format "client-%d" (1+ n)) :host "127.0.0.1" :service port
                   :filter (lambda (process string)
                             (setq replies (1+ replies))
                             (netproc-demo--say "client   %s got %S" (netproc-process-name process) string))
                   :sentinel (lambda (process message)
                               (netproc-demo--say "client   %s: %S" (netproc-process-name process) message)))))
      (push client clients)
      (netproc-process-send-string client (format "hello from client %d\n" (1+ n)))))
  (let ((deadline (+ (float-time) 5)))
    (while (and (< replies 3) (< (float-time) deadline))
      (netproc-accept-process-output nil 0.1)))
  (dolist (client (nreverse clients))
    (netproc-delete-process client))
  ;; Plain `sleep-for': the servers' "connection broken" sentinels arrive meanwhile.
  (sleep-for 0.3)
  (netproc-delete-process server)
  (netproc-demo--say "%d replies; processes left: %S" replies (netproc-process-list)))

;;; netproc-demo.el ends here

;;; emacs-coding-data.el --- netproc's coding-system data, made by running Emacs  -*- lexical-binding: t -*-

;; The data files netproc's coding systems and their tests are built from, each written by
;; asking Emacs 28.2 (its charsets, `decode-coding-string', `encode-coding-string').  Run
;; from the top of the repository, under a UTF-8 locale:
;;
;;   LANG=C.UTF-8 emacs --batch -Q -l tools/emacs-coding-data.el -f netproc-coding-data-all
;;
;; or one of the `netproc-coding-data-*' functions below for one file.  The files must come
;; out unchanged unless Emacs's coding systems changed.

(require 'cl-lib)

(defun netproc-coding--bases ()
  "Every base coding system, sorted by name."
  (sort (delete-dups (mapcar #'coding-system-base coding-system-list))
        (lambda (a b) (string< a b))))

(defun netproc-coding--one-byte-p (base)
  "Whether BASE is a charset coding system whose charsets are all one-byte."
  (and (eq (coding-system-type base) 'charset)
       (cl-every (lambda (charset) (= (charset-dimension charset) 1))
                 (coding-system-get base :charset-list))))

(defun netproc-coding--one-byte-bases ()
  (cl-remove-if-not #'netproc-coding--one-byte-p (netproc-coding--bases)))

(defun netproc-coding--raw-p (char)
  "Whether CHAR is one of Emacs's raw bytes (eight-bit characters)."
  (>= char #x3FFF80))

(defun netproc-coding--default-byte (base)
  "The byte BASE writes for a character it lacks."
  (aref (encode-coding-string "中" (intern (format "%s-unix" base))) 0))

(defmacro netproc-coding--write (file &rest body)
  "Write FILE with BODY's output (`princ' and `insert' both write to it)."
  (declare (indent 1))
  `(with-temp-file ,file
     (let ((standard-output (current-buffer)))
       ,@body)
     (message "wrote %s" ,file)))

;;; The inventory: every base coding system and its aliases.

(defun netproc-coding-data-inventory ()
  "Write tests/data/emacs-coding-systems.txt."
  (netproc-coding--write "tests/data/emacs-coding-systems.txt"
    (princ ";; Emacs 28.2's coding systems, one line per base system:\n")
    (princ ";;   BASE TYPE EOL ALIAS...\n")
    (princ ";; TYPE is (coding-system-type BASE); EOL is `variants' when BASE has -unix, -dos\n")
    (princ ";; and -mac variants, else (coding-system-eol-type BASE); the aliases are\n")
    (princ ";; (coding-system-aliases BASE) after BASE itself.  Then one line per other name in\n")
    (princ ";; coding-system-list that is neither an alias nor an alias with a suffix:\n")
    (princ ";;   = NAME SYSTEM\n")
    (princ ";; Made by tools/emacs-coding-data.el (netproc-coding-data-inventory).\n")
    (let ((known (make-hash-table :test 'eq)))
      (dolist (base (netproc-coding--bases))
        (let ((eol (coding-system-eol-type base)))
          (princ (format "%s %s %s" base (coding-system-type base)
                         (if (vectorp eol) "variants" eol)))
          (dolist (alias (coding-system-aliases base))
            (puthash alias t known)
            (dolist (suffix '("-unix" "-dos" "-mac"))
              (puthash (intern (concat (symbol-name alias) suffix)) t known))
            (unless (eq alias base)
              (princ (format " %s" alias))))
          (princ "\n")))
      (dolist (name (sort (copy-sequence coding-system-list)
                          (lambda (a b) (string< a b))))
        (unless (gethash name known)
          (let* ((aliases (coding-system-aliases name))
                 (system (or (cl-find-if (lambda (a) (gethash a known)) aliases)
                             name)))
            (princ (format "= %s %s\n" name system))))))))

;;; One-byte systems.

(defun netproc-coding--decode-byte (coding byte)
  "What CODING (an -unix variant) decodes BYTE to: a character, or nil for a raw byte."
  (let* ((inhibit-eol-conversion t)
         (text (decode-coding-string (unibyte-string byte) coding)))
    (unless (= (length text) 1)
      (error "%s decodes %X to %S" coding byte text))
    (unless (netproc-coding--raw-p (aref text 0))
      (aref text 0))))

(defun netproc-coding--all-characters ()
  "Every Unicode scalar value, as one string."
  (apply #'string (append (number-sequence 0 #xD7FF)
                          (number-sequence #xE000 #x10FFFF))))

(defun netproc-coding-data-one-byte-tests ()
  "Write tests/data/emacs-one-byte-tables.txt, from the coding systems themselves."
  (netproc-coding--write "tests/data/emacs-one-byte-tables.txt"
    (princ ";; Emacs 28.2's one-byte coding systems (type charset, one-byte charsets only), one\n")
    (princ ";; block each:\n")
    (princ ";; - NAME: then 16 lines of 16: what byte 0x00-0xFF decodes to, in hex, ---- for a\n")
    (princ ";;   raw byte: (let ((inhibit-eol-conversion t))\n")
    (princ ";;               (decode-coding-string (unibyte-string B) 'NAME-unix))\n")
    (princ ";; - default BYTE: what a character NAME lacks encodes to;\n")
    (princ ";; - encode CHAR BYTE ...: every Unicode character whose encoding,\n")
    (princ ";;   (encode-coding-string STRING 'NAME-unix), is not what the table above gives:\n")
    (princ ";;   the byte that decodes to it if exactly one does, else the default byte.\n")
    (princ ";; Made by tools/emacs-coding-data.el (netproc-coding-data-one-byte-tests).\n")
    (let ((all (netproc-coding--all-characters)))
      (dolist (base (netproc-coding--one-byte-bases))
        (let* ((coding (intern (format "%s-unix" base)))
               (table (mapcar (lambda (byte) (netproc-coding--decode-byte coding byte))
                              (number-sequence 0 255)))
               (default (netproc-coding--default-byte base))
               (expected (make-hash-table :test 'eql))
               (encoded (encode-coding-string all coding))
               (exceptions nil))
          (princ (format "%s:\n" base))
          (cl-loop for char in table for byte from 0
                   do (progn
                        (princ (if (zerop (% byte 16)) " " ""))
                        (princ (if char (format " %04X" char) " ----"))
                        (when (= (% byte 16) 15) (princ "\n"))
                        (when char
                          (puthash char (if (gethash char expected) 'twice byte)
                                   expected))))
          (unless (= (length encoded) (length all))
            (error "%s: %d characters encode to %d bytes" base (length all) (length encoded)))
          (dotimes (i (length all))
            (let* ((char (aref all i))
                   (want (gethash char expected))
                   (want (if (integerp want) want default)))
              (unless (= (aref encoded i) want)
                (push (cons char (aref encoded i)) exceptions))))
          (princ (format "  default %02X\n" default))
          (when exceptions
            (setq exceptions (nreverse exceptions))
            (while exceptions
              (princ "  encode")
              (dotimes (_ 8)
                (when exceptions
                  (princ (format " %04X %02X" (caar exceptions) (cdar exceptions)))
                  (setq exceptions (cdr exceptions))))
              (princ "\n"))))))))


(defun netproc-coding--charset-char (charsets byte)
  "The character BYTE stands for in the first of CHARSETS whose code space has it."
  (cl-some (lambda (charset)
             (let ((space (plist-get (charset-plist charset) :code-space)))
               (and (<= (aref space 0) byte (aref space 1))
                    (decode-char charset byte))))
           charsets))

(defun netproc-coding-data-one-byte-library ()
  "Write src/core/coding/data/one-byte.txt, from the charsets of the systems."
  (netproc-coding--write "src/core/coding/data/one-byte.txt"
    (princ ";; netproc's one-byte coding systems: Emacs 28.2's charset coding systems whose\n")
    (princ ";; charsets are all one-byte.  Made by tools/emacs-coding-data.el\n")
    (princ ";; (netproc-coding-data-one-byte-library); do not edit.  One block each:\n")
    (princ ";;   NAME ALIAS...                    (coding-system-aliases NAME)\n")
    (princ ";;     ascii-compatible DEFAULT       or ascii-incompatible: whether ASCII\n")
    (princ ";;                                    characters are written as themselves, and\n")
    (princ ";;                                    the byte written for a character the\n")
    (princ ";;                                    charset lacks\n")
    (princ ";;     XX C C C ...                   the characters of bytes XX to XX+15 in the\n")
    (princ ";;                                    charset (decode-char), ---- for none; rows\n")
    (princ ";;                                    not given map each byte to itself\n")
    (princ ";;     encode C XX C XX ...           characters that encode to a byte other\n")
    (princ ";;                                    than the one decoding to them, if any\n")
    (princ ";;                                    (encode-char, and encode-coding-string of\n")
    (princ ";;                                    every Unicode character)\n")
    (let ((all (netproc-coding--all-characters)))
      (dolist (base (netproc-coding--one-byte-bases))
        (let* ((charsets (coding-system-get base :charset-list))
               (table (mapcar (lambda (byte) (netproc-coding--charset-char charsets byte))
                              (number-sequence 0 255)))
               (default (netproc-coding--default-byte base))
               (ascii (coding-system-get base :ascii-compatible-p))
               (reverse (make-hash-table :test 'eql))
               (encoded (encode-coding-string all (intern (format "%s-unix" base))))
               (extra nil))
          (princ (mapconcat #'symbol-name (coding-system-aliases base) " "))
          (princ (format "\n  %s %02X\n" (if ascii "ascii-compatible" "ascii-incompatible")
                         default))
          (dotimes (row 16)
            (let ((chars (cl-subseq table (* row 16) (* (1+ row) 16))))
              (unless (cl-loop for char in chars for byte from (* row 16)
                               always (eql char byte))
                (princ (format "  %02X" (* row 16)))
                (dolist (char chars)
                  (when (and char (or (> char #x10FFFF) (<= #xD800 char #xDFFF)))
                    (error "%s: %X is no Unicode character" base char))
                  (princ (if char (format " %04X" char) " ----")))
                (princ "\n"))))
          (cl-loop for char in table for byte from 0
                   when (and char (not (gethash char reverse)))
                   do (puthash char byte reverse))
          (dotimes (i (length all))
            (let* ((char (aref all i))
                   (byte (aref encoded i))
                   (ascii-char (and ascii (< char #x80)))
                   (want (cond (ascii-char char)
                               ((gethash char reverse))
                               (t default))))
              (unless (= byte want)
                (push (cons char byte) extra))))
          (setq extra (nreverse extra))
          (while extra
            (princ "  encode")
            (dotimes (_ 8)
              (when extra
                (princ (format " %04X %02X" (caar extra) (cdar extra)))
                (setq extra (cdr extra))))
            (princ "\n")))))))

(defun netproc-coding-data-all ()
  (netproc-coding-data-inventory)
  (netproc-coding-data-one-byte-tests)
  (netproc-coding-data-one-byte-library))

;;; emacs-coding-data.el ends here

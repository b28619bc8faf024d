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

;;; Samples of the multibyte systems.

(defconst netproc-coding--sample-systems
  '(utf-8 utf-8-with-signature utf-16 utf-16le utf-16be-with-signature no-conversion-multibyte
    japanese-shift-jis japanese-cp932 japanese-iso-8bit korean-iso-8bit korean-cp949
    chinese-iso-8bit chinese-big5 chinese-gbk chinese-gb18030
    iso-2022-jp iso-2022-7bit iso-2022-kr iso-2022-jp-2 japanese-iso-7bit-1978-irv emacs-mule
    utf-7 utf-7-imap chinese-hz eucjp-ms)
  "The systems tests/data/emacs-coding-samples.txt has samples of.")

(defconst netproc-coding--sample-texts
  '("plain ASCII, tab\tand ~\\ too"
    "Latin: déjà vu, Ærøskøbing, ¡¿ ¥ £ © ‾"
    "Greek αβγ ΑΒΓ άέ; Cyrillic абв ЁЖ; Hebrew אב; Arabic اب; Thai กข"
    "ąčęłńśźż ĉĝĥ ŋŧ ğış ẁẃ ț €"
    "日本語のテキスト、ｱｲｳｴｵ 〜―‖−￠￡￢ 丂丄丅 ①②"
    "中文简体 繁體中文 们你 ・―·— 龘"
    "한국어 텍스트 가각갂 힣 ㄱㄴ 中國"
    "math ∀∂∈ arrows ←↑ box ─│ emoji 😀 rare 𠀀"
    "private \ue000\ue757\uf8ff, specials \ufeff\ufffd"
    "mixed a日b한c中dé\nnew line\r\nCR LF"
    "vendor ⅰⅱⅠⅡ①② №℡㈱ ∵≒√ ￢￤＇＂ 纊褜鍈 \ue000\ue3ac")
  "Texts each system encodes, and decodes again from its own encoding.")

(defun netproc-coding--char-token (char)
  "CHAR as the samples file writes it: hex, rXX for a raw byte, pHEX for a character
Unicode lacks."
  (cond ((>= char #x3FFF80) (format "r%02X" (- char #x3FFF00)))
        ((> char #x10FFFF) (format "p%X" char))
        (t (format "%X" char))))

(defun netproc-coding--chars (string)
  (mapconcat #'netproc-coding--char-token (string-to-list string) " "))

(defun netproc-coding--bytes (unibyte)
  (mapconcat (lambda (byte) (format "%02X" byte)) (string-to-list unibyte) ""))

(defun netproc-coding--unix (system)
  "SYSTEM's -unix variant, or SYSTEM if it has none."
  (if (vectorp (coding-system-eol-type system))
      (intern (format "%s-unix" system))
    system))

(defun netproc-coding--sample-decodings (system)
  "Byte strings to decode with SYSTEM: its encodings of the sample texts, bytes that are not
valid in it, and sweeps of its code space."
  (let ((coding (netproc-coding--unix system))
        (samples nil))
    (dolist (text netproc-coding--sample-texts)
      (push (encode-coding-string text coding) samples))
    (dolist (bytes '("\200" "\377" "a\200b" "\377\376" "\376\377" "\357\273\277a"
                     "\303" "\343\201" "\355\240\200" "\364\220\200\200"
                     "\300\200" "\301\277" "\370\210\200\200\200"
                     "a\0b\r\n" "\e$B$\"\e(Bx" "\e$A!$\e(B" "\e$(C0!\e(B" "\e$(D0!\e(B"
                     "\e(I1\e(B" "\e(J\\~\e(B\\~" "\e$@$\"\e(J\\" "\e,Ai\e(B" "\e,Fa\e,L0\e(B"
                     "\e$)C\0160!\017a" "\e$)Ca\0160!\nb0!" "a\0160!\017b" "\e$(C0!\0160!"
                     "\e.A\eNi\e$A VP\e(B" "\e.Fa\eNa\eNab\n\eNa" "\eN!" "\e.A\eN\eN!"
                     "\e$Zx" "\e$" "\e$B$" "\e$B$\"\n$\"\e(B" "\e(Ba\e$B\200$\"\e(B"
                     "\244" "\244\242" "\244a" "\216\261\217\242\302" "\201" "\201@\377\200"
                     "\201\060\201\060" "\201\060" "\224\071\374\066" "\241\244\242\241\327\372"
                     "\360@\371\374\207@" "\310\260\201A\201\060"
                     "\201\351\221\326\320\234\364\370\241" "\201a\222" "\232\364\241"
                     "\234\364\241" "\213\241" "\236\241\241"
                     "+AOk-a" "+AOka" "+-" "&AOk-" "&-" "+AOk" "+ZeVnLIqe-" "+2D3eAA-" "+AO-"
                     "+AOkA6Q" "+A-" "a+b" "&Jjo-" "+,/-" "~{VPND~}" "a~~b" "~{VP~}x" "~{VPN"
                     "~{VP\nND~}" "~{VP~{ND~}" "a~\nb" "~{!$~}" "~x" "ab~"))
      (push (string-to-unibyte bytes) samples))
    ;; The 8-bit multibyte sets: each lead byte with trail bytes at the edges of the usual
    ;; ranges.
    (unless (or (memq (coding-system-type system) '(utf-8 utf-16 raw-text))
                (memq '7-bit (coding-system-get system :flags)))
      (dolist (lead (number-sequence #x80 #xFF))
        (push (apply #'unibyte-string
                     (apply #'append
                            (mapcar (lambda (trail) (list lead trail))
                                    '(#x40 #x7F #xA1 #xFE #xFF))))
              samples)))
    (nreverse samples)))

(defun netproc-coding--sample-encodings ()
  "Texts to encode: the sample texts, raw bytes, and sweeps of the character ranges the
multibyte sets cover."
  (append netproc-coding--sample-texts
          (list (string ?a #x3FFF80 ?b #x3FFFFF ?\n)
                (string #x3FFFC3 #x3FFFA9))
          (mapcar (lambda (range)
                    (apply #'string (number-sequence (car range) (cdr range))))
                  '((#xA0 . #xFF) (#x100 . #x11F) (#x391 . #x3C9) (#x410 . #x44F)
                    (#x2010 . #x203F) (#x2190 . #x219F) (#x2200 . #x221F) (#x2460 . #x247F)
                    (#x2500 . #x251F) (#x3000 . #x301F) (#x3040 . #x309F) (#x4E00 . #x4E3F)
                    (#x9FA0 . #x9FBF) (#xAC00 . #xAC1F) (#xE000 . #xE00F) (#xE750 . #xE76F)
                    (#xF900 . #xF90F) (#xFE30 . #xFE4F) (#xFF00 . #xFF1F) (#xFF60 . #xFF7F) (#x1F600 . #x1F60F)
                    (#x20000 . #x2000F)))))

(defun netproc-coding-data-samples ()
  "Write tests/data/emacs-coding-samples.txt."
  (netproc-coding--write "tests/data/emacs-coding-samples.txt"
    (princ ";; Emacs 28.2 decoding and encoding samples of the multibyte coding systems.\n")
    (princ ";; First the texts, numbered from 0:\n")
    (princ ";;   text CHARS\n")
    (princ ";; then for each SYSTEM, its lines:\n")
    (princ ";;   decode BYTES => CHARS   (decode-coding-string BYTES 'SYSTEM-unix)\n")
    (princ ";;   encode N => BYTES       (encode-coding-string TEXT-N 'SYSTEM-unix)\n")
    (princ ";; (SYSTEM itself where it has no -unix variant).  BYTES are hex; CHARS hex code\n")
    (princ ";; points, rXX for a raw byte (eight-bit character), or #N for text N.  A decoding\n")
    (princ ";; that gives a character Unicode lacks (Emacs makes one of each code its tables\n")
    (princ ";; leave unassigned) is left out, as is one that signals an error.\n")
    (princ ";; Made by tools/emacs-coding-data.el (netproc-coding-data-samples).\n")
    (let ((texts (netproc-coding--sample-encodings)))
      (dolist (text texts)
        (princ (format "text %s\n" (netproc-coding--chars text))))
      (dolist (system netproc-coding--sample-systems)
        (let ((coding (netproc-coding--unix system))
              (seen (make-hash-table :test 'equal)))
          (princ (format "%s\n" system))
          (dolist (bytes (netproc-coding--sample-decodings system))
            ;; The Lisp conversions of utf-7 and chinese-hz signal errors on some input.
            (let* ((text (ignore-errors (decode-coding-string bytes coding)))
                   (index (and text (cl-position text texts :test #'equal)))
                   (chars (cond (index (format "#%d" index))
                                (text (netproc-coding--chars text)))))
              (unless (or (null text) (gethash bytes seen) (string-match-p "p" chars))
                (puthash bytes t seen)
                (princ (format "  decode %s => %s\n" (netproc-coding--bytes bytes) chars)))))
          (cl-loop for text in texts for index from 0
                   do (princ (format "  encode %d => %s\n" index
                                     (netproc-coding--bytes
                                      (encode-coding-string text coding))))))))))

;;; eucjp-ms's IBM extensions.

(defun netproc-coding-data-eucjp-ms ()
  "Write src/core/coding/data/eucjp-ms-ibm.txt."
  (netproc-coding--write "src/core/coding/data/eucjp-ms-ibm.txt"
    (princ ";; What Emacs 28.2's eucjp-ms decodes the IBM extensions in JIS X 0212's rows 83-84,\n")
    (princ ";; 8F F3 F3 to 8F F4 FE, to, in code order (hex code points):\n")
    (princ ";;   (decode-coding-string (unibyte-string #x8F B1 B2) 'eucjp-ms)\n")
    (princ ";; Made by tools/emacs-coding-data.el (netproc-coding-data-eucjp-ms); do not edit.\n")
    (let ((count 0))
      (dolist (code (append (mapcar (lambda (b2) (cons #xF3 b2)) (number-sequence #xF3 #xFE))
                            (mapcar (lambda (b2) (cons #xF4 b2)) (number-sequence #xA1 #xFE))))
        (let ((text (decode-coding-string (unibyte-string #x8F (car code) (cdr code)) 'eucjp-ms)))
          (unless (and (= (length text) 1) (<= (aref text 0) #x10FFFF))
            (error "8F%X%X decodes to %S" (car code) (cdr code) text))
          (princ (format "%s%04X" (if (zerop (% count 16)) "" " ") (aref text 0)))
          (setq count (1+ count))
          (when (zerop (% count 16)) (princ "\n"))))
      (unless (zerop (% count 16)) (princ "\n")))))

(defun netproc-coding-data-all ()
  (netproc-coding-data-inventory)
  (netproc-coding-data-one-byte-tests)
  (netproc-coding-data-one-byte-library)
  (netproc-coding-data-eucjp-ms)
  (netproc-coding-data-samples))

;;; emacs-coding-data.el ends here

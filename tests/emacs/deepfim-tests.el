;;; deepfim-tests.el --- ERT tests of deepfim.el against the real server -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by tests/test_emacs.py:
;;
;;   DEEPFIM_TEST_MODEL=/path/to/gemma.gguf DEEPFIM_TEST_DEEPFIM=.venv/bin/deepfim \
;;   DEEPFIM_TEST_PYTHON=.venv/bin/python \
;;   emacs --batch -L editors/emacs -l ert -l tests/emacs/deepfim-tests.el \
;;         -f ert-run-tests-batch-and-exit
;;
;; The server is the real `deepfim serve' with a real small model (Gemma 3
;; 270M).  "Another language server" is tests/emacs/fake_lsp.py (pygls).

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'eglot)
(require 'deepfim)

(defvar generated-autoload-file)

(defconst deepfim-test--dir
  (file-name-directory (or load-file-name buffer-file-name))
  "Directory of this file.")

(defconst deepfim-test--repo
  (expand-file-name "../.." deepfim-test--dir)
  "The repository root.")

(defun deepfim-test--env (name)
  "The environment variable NAME, which the tests need."
  (let ((value (getenv name)))
    (unless (and value (not (string-empty-p value)))
      (error "Set %s (tests/test_emacs.py does)" name))
    value))

(defun deepfim-test--server-command ()
  "The command running the real server with the test model."
  (let ((deepfim (getenv "DEEPFIM_TEST_DEEPFIM"))
        (model (deepfim-test--env "DEEPFIM_TEST_MODEL")))
    (if (and deepfim (file-executable-p deepfim))
        (list deepfim "serve" "--model" model)
      (list (deepfim-test--env "DEEPFIM_TEST_PYTHON") "-m" "server.cli" "serve" "--model" model))))

;; Settings for every test: greedy output is deterministic once the time
;; budget cannot cut it, and the whole window is read whatever the machine's
;; load (no first answer from a short prompt).
(setq deepfim-server-command (deepfim-test--server-command)
      deepfim-settings '(:maxTokens 24 :contextSize 2048 :timeBudgetMs 60000 :firstAnswerMs 0)
      deepfim-idle-delay 0.2
      eglot-sync-connect 10
      python-indent-guess-indent-offset nil
      python-indent-offset 4
      ;; eglot's synchronous requests (completion-at-point) wait this long:
      ;; the first one waits for the model to load, on a possibly busy machine.
      jsonrpc-default-request-timeout 60)

(defconst deepfim-test--source
  "import os


def read_lines(path):
    \"\"\"Return the lines of the file at path.\"\"\"
    <|>


def main():
    print(read_lines(\"a.txt\"))
"
  "The test file; <|> marks the cursor.")

(defvar deepfim-test--timeout 90
  "Seconds to wait for an answer (the first waits for the model to load).")

(defun deepfim-test--wait (predicate &optional what)
  "Process events until PREDICATE returns non-nil; return its value.
Fail the test mentioning WHAT after `deepfim-test--timeout' seconds."
  (let ((deadline (+ (float-time) deepfim-test--timeout))
        value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or value (ert-fail (format "timed out waiting for %s" (or what predicate))))))

(defun deepfim-test--wait-suggestion ()
  "Wait for the suggestion shown at point and return it."
  (deepfim-test--wait #'deepfim-current-suggestion "a suggestion"))

(defmacro deepfim-test--with-file (source &rest body)
  "Visit a new Python file holding SOURCE in a fresh project; run BODY there.
The cursor is put where SOURCE has <|> (which is removed)."
  (declare (indent 1) (debug t))
  (let ((dir (make-symbol "dir")) (buffer (make-symbol "buffer")))
    `(let* ((,dir (file-name-as-directory (make-temp-file "deepfim-ert-" t)))
            (file (expand-file-name "lines.py" ,dir))
            (,buffer nil))
       (unwind-protect
           (let ((text ,source) cursor)
             (setq cursor (string-match (regexp-quote "<|>") text))
             (with-temp-file file (insert (replace-regexp-in-string
                                           (regexp-quote "<|>") "" text t t)))
             (setq ,buffer (find-file-noselect file))
             (with-current-buffer ,buffer
               (switch-to-buffer ,buffer)
               (python-mode)
               (goto-char (1+ (or cursor 0)))
               ,@body))
         (when (buffer-live-p ,buffer)
           (with-current-buffer ,buffer
             (when (bound-and-true-p eglot--managed-mode)
               (ignore-errors (eglot-shutdown (eglot-current-server))))
             (set-buffer-modified-p nil))
           (kill-buffer ,buffer))
         (delete-directory ,dir t)))))

(defun deepfim-test--line ()
  "The current line up to point."
  (buffer-substring-no-properties (line-beginning-position) (point)))

(defun deepfim-test--start-eglot ()
  "Start eglot for the current buffer and wait until it manages it."
  (apply #'eglot (eglot--guess-contact))
  (deepfim-test--wait (lambda () (and (bound-and-true-p eglot--managed-mode) (eglot-current-server)))
                      "eglot to manage the buffer"))


(defun deepfim-test--complete-into-error ()
  "In the current buffer, ask for a completion from a server that cannot load
its model, and wait for the error state."
  (python-mode)
  (insert "def f():\n    return")
  (deepfim-mode 1)
  (let ((inhibit-message t))
    (deepfim-complete)
    (deepfim-test--wait (lambda () (equal (plist-get (deepfim-status) :state) "error"))
                        "the error state")))

(defun deepfim-test--stop-shared-server ()
  "Stop the own server the tests share, before a test starts one of its own.
jsonrpc kills the stderr buffer of a running connection of the same name
when another starts: the shared server then exited at its next line of log."
  (deepfim-shutdown))

;;; Without a server

(ert-deftest deepfim-package-metadata ()
  "Package headers, customization group, autoloads and a clean byte-compilation."
  (let ((file (expand-file-name "editors/emacs/deepfim.el" deepfim-test--repo)))
    (require 'package)
    (with-temp-buffer
      (insert-file-contents file)
      (let ((info (package-buffer-info)))
        (should (equal (package-desc-name info) 'deepfim))
        (should (equal (package-desc-version info) '(0 1 0)))
        (should (assq 'emacs (package-desc-reqs info)))))
    (let ((members (mapcar #'car (get 'deepfim 'custom-group))))
      (dolist (option '(deepfim-server-command deepfim-model deepfim-modes deepfim-idle-delay
                        deepfim-ghost-face))
        (should (memq option members))))
    (should (equal (eval (car (get 'deepfim-server-command 'standard-value)) t)
                   '("deepfim" "serve")))
    ;; Autoloads.
    (let* ((out-dir (make-temp-file "deepfim-autoloads-" t))
           (out (expand-file-name "deepfim-autoloads.el" out-dir)))
      (unwind-protect
          (progn
            (if (fboundp 'loaddefs-generate)
                (loaddefs-generate (file-name-directory file) out)
              (require 'autoload)
              (let ((generated-autoload-file out))
                (update-file-autoloads file t out)))
            (with-temp-buffer
              (insert-file-contents out)
              (dolist (name '("deepfim-mode" "global-deepfim-mode" "deepfim-eglot-setup"))
                (should (string-match-p (format "(autoload '%s " (regexp-quote name))
                                        (buffer-string))))))
        (delete-directory out-dir t)))
    ;; No byte-compiler warnings.
    (let* ((out-dir (make-temp-file "deepfim-elc-" t))
           (byte-compile-dest-file-function
            (lambda (_) (expand-file-name "deepfim.elc" out-dir)))
           (byte-compile-error-on-warn t))
      (unwind-protect
          (should (byte-compile-file file))
        (delete-directory out-dir t)))))

(ert-deftest deepfim-boolean-settings-sent-as-false ()
  "nil for a boolean setting reaches the server as false, not null (its default)."
  (let ((deepfim-settings '(:lookupDecoding nil :logText nil :enabled t :threads nil :contextSize 4096))
        (deepfim-model nil) (deepfim-max-tokens nil))
    (let ((json (json-parse-string (jsonrpc--json-encode (list :initializationOptions (deepfim--settings)))
                                   :object-type 'plist :null-object 'null :false-object 'false)))
      (should (equal (plist-get json :initializationOptions)
                     '(:model null :maxTokens null :contextSize 4096 :threads null :timeBudgetMs null
                       :enabled t :logText false :lineInPrefix null :contextBeforeBos null
                       :firstAnswerMs null :lookupDecoding false :singleLine null :installedPackages null
                       :engine null :engineApi null
                       :engineModel null :gpuLayers null :flashAttention null :kvCacheType null
                       :instructModel null :instructEngine null :instructEngineApi null))))
    ;; The server's boolean keys, all of them.
    (let ((schema (with-temp-buffer
                    (insert-file-contents (expand-file-name "server/settings.py" deepfim-test--repo))
                    (buffer-string)))
          (start 0) keys)
      (while (string-match ": bool = _setting(\\s-*\\(?:True\\|False\\), \"\\([A-Za-z]+\\)\"" schema start)
        (push (intern (concat ":" (match-string 1 schema))) keys)
        (setq start (match-end 0)))
      (should (equal (sort keys #'string<) (sort (copy-sequence deepfim--boolean-settings) #'string<))))))

(ert-deftest deepfim-reconfigure-back-to-the-server-default-model ()
  "Setting `deepfim-model' or `deepfim-max-tokens' back to nil, or taking a key out of
`deepfim-settings', and \\[deepfim-reconfigure] makes the server leave the value it
was given: the settings sent say null (the server's own choice), rather than leaving
the key out (the server keeps what it had)."
  (let (sent)
    (cl-letf (((symbol-function 'deepfim--live-connection) (lambda () 'deepfim-test-conn))
              ((symbol-function 'deepfim--eglot-server) #'ignore)
              ((symbol-function 'jsonrpc-notify)
               (lambda (_conn method params)
                 (should (eq method :workspace/didChangeConfiguration))
                 (push (jsonrpc--json-encode params) sent))))
      (let ((deepfim-model "/m/other.gguf") (deepfim-settings '(:contextSize 4096)) (deepfim-max-tokens 64))
        (deepfim-reconfigure))
      (let ((deepfim-model nil) (deepfim-settings nil) (deepfim-max-tokens nil))
        (deepfim-reconfigure))
      ;; A model in `deepfim-settings' is kept.
      (let ((deepfim-model nil) (deepfim-settings '(:model "m2")) (deepfim-max-tokens nil))
        (deepfim-reconfigure)))
    (should (equal (mapcar (lambda (json)
                             (let ((settings (plist-get (plist-get (json-parse-string json :object-type 'plist
                                                                                      :null-object 'null)
                                                                   :settings)
                                                        :deepfim)))
                               (list (plist-get settings :model) (plist-get settings :maxTokens)
                                     (plist-get settings :contextSize))))
                           (reverse sent))
                   '(("/m/other.gguf" 64 4096) (null null null) ("m2" null null))))))

(ert-deftest deepfim-reconfigure-reaches-every-eglot-server ()
  "M-x deepfim-reconfigure from a buffer no server manages (the init file just edited)
reaches eglot's deepfim servers of every project, and not another language server."
  (let ((eglot--servers-by-project (make-hash-table :test #'equal))
        (deepfim-model "/m/new.gguf")
        sent)
    (puthash '(vc . "/p/one/") '(deepfim-test-server-1 deepfim-test-other-server) eglot--servers-by-project)
    (puthash '(vc . "/p/two/") '(deepfim-test-server-2) eglot--servers-by-project)
    (cl-letf (((symbol-function 'deepfim--live-connection) #'ignore)
              ((symbol-function 'deepfim--deepfim-server-p)
               (lambda (server) (memq server '(deepfim-test-server-1 deepfim-test-server-2))))
              ((symbol-function 'jsonrpc-running-p) (lambda (_server) t))
              ((symbol-function 'jsonrpc-notify)
               (lambda (server method params)
                 (push (list server method (plist-get (plist-get (plist-get params :settings) :deepfim) :model))
                       sent))))
      (with-temp-buffer
        (emacs-lisp-mode)
        (deepfim-reconfigure)))
    (should (equal (sort (mapcar #'car sent) #'string<) '(deepfim-test-server-1 deepfim-test-server-2)))
    (should (cl-every (lambda (call) (equal (cdr call) '(:workspace/didChangeConfiguration "/m/new.gguf")))
                      sent))))

(ert-deftest deepfim-dismissed-and-superseded-requests-are-cancelled ()
  "C-g, or a newer request, sends $/cancelRequest for the request in flight, so the
server stops generating an answer no one will see (it went on to the end of its budget);
an answered request is not cancelled."
  (let ((ids '(7 8 9)) requests sent)
    (cl-letf (((symbol-function 'deepfim--eglot-server) (lambda () 'deepfim-test-conn))
              ((symbol-function 'eglot--signal-textDocument/didChange) #'ignore)
              ((symbol-function 'eglot--TextDocumentPositionParams) (lambda () (list :position 0)))
              ((symbol-function 'jsonrpc-running-p) (lambda (_conn) t))
              ((symbol-function 'jsonrpc-async-request)
               (lambda (_conn _method _params &rest handlers)
                 (push handlers requests)
                 (list (pop ids) nil)))
              ((symbol-function 'jsonrpc-notify)
               (lambda (conn method params) (push (list conn method (plist-get params :id)) sent))))
      (with-temp-buffer
        (deepfim-mode 1)
        (deepfim--request nil)
        (deepfim--request nil)         ; supersedes 7
        (deepfim-dismiss)              ; drops 8
        (deepfim--request t)
        (funcall (plist-get (car requests) :success-fn) [])  ; 9 answered
        (deepfim-dismiss)
        (deepfim-mode -1)))
    (should (equal (reverse sent) '((deepfim-test-conn :$/cancelRequest 7)
                                    (deepfim-test-conn :$/cancelRequest 8))))))

;; A jsonrpc connection that records what it would send, for the ids jsonrpc itself gives requests.
(defclass deepfim-test--recorder (jsonrpc-connection)
  ((sent :initform nil :accessor deepfim-test--sent))
  :documentation "Records each message instead of sending it.")

(cl-defmethod jsonrpc-connection-send ((conn deepfim-test--recorder) &rest message)
  (push message (deepfim-test--sent conn)))

(cl-defmethod jsonrpc-running-p ((_conn deepfim-test--recorder))
  t)

(ert-deftest deepfim-cancel-names-the-id-jsonrpc-gave-the-request ()
  "$/cancelRequest names the request in flight by the id jsonrpc sent it with, where
`jsonrpc-async-request' returns nil (jsonrpc 1.0.14, Emacs 28): it said null."
  (let ((conn (make-instance 'deepfim-test--recorder :name "deepfim-test"))
        (deepfim-request-timeout nil))
    (cl-letf (((symbol-function 'deepfim--eglot-server) (lambda () conn))
              ((symbol-function 'eglot--signal-textDocument/didChange) #'ignore)
              ((symbol-function 'eglot--TextDocumentPositionParams) (lambda () (list :position 0))))
      (with-temp-buffer
        (deepfim-mode 1)
        (deepfim--request nil)
        (deepfim--request nil)
        (deepfim-dismiss)
        (deepfim-mode -1)))
    (let* ((sent (reverse (deepfim-test--sent conn)))
           (requests (cl-remove-if-not (lambda (m) (plist-get m :id)) sent))
           (cancels (cl-remove-if-not (lambda (m) (eq (plist-get m :method) :$/cancelRequest)) sent)))
      (should (= (length requests) 2))
      (should (equal (mapcar (lambda (m) (plist-get (plist-get m :params) :id)) cancels)
                     (mapcar (lambda (m) (plist-get m :id)) requests))))))

(ert-deftest deepfim-utf16-positions ()
  "LSP positions count UTF-16 code units."
  (with-temp-buffer
    (insert "a\U0001F600b\nxé\n")
    (should (equal (deepfim--lsp-position 4) '(:line 0 :character 4)))
    (should (equal (deepfim--lsp-position 3) '(:line 0 :character 3)))
    (should (equal (deepfim--lsp-position 7) '(:line 1 :character 2)))
    (should (= (deepfim--position-to-point '(:line 0 :character 3)) 3))
    (should (= (deepfim--position-to-point '(:line 1 :character 1)) 6))
    (should (= (deepfim--position-to-point '(:line 1 :character 99)) 7))))

(ert-deftest deepfim-lone-carriage-return-ends-an-lsp-line ()
  "The server counts a lone CR as a line end (LSP), Emacs does not: the
line and character of every change below one were off, and the server's
copy of the document went wrong with the first edit there."
  (with-temp-buffer
    (insert "s = \"a\rb\"\nx\U0001F600y\r\nz")
    (should (equal (deepfim--lsp-position 7) '(:line 0 :character 6)))
    (should (equal (deepfim--lsp-position 8) '(:line 1 :character 0)))
    (should (equal (deepfim--lsp-position 10) '(:line 1 :character 2)))
    (should (equal (deepfim--lsp-position 13) '(:line 2 :character 3)))
    (should (equal (deepfim--lsp-position 16) '(:line 3 :character 0)))
    (should (= (deepfim--position-to-point '(:line 1 :character 2)) 10))
    (should (= (deepfim--position-to-point '(:line 1 :character 9)) 10))
    (should (= (deepfim--position-to-point '(:line 2 :character 3)) 13))
    (should (= (deepfim--position-to-point '(:line 0 :character 99)) 7))
    (should (= (deepfim--position-to-point '(:line 3 :character 1)) 17))))

(defmacro deepfim-test--counting-answers (answers &rest body)
  "Run BODY with the variable ANSWERS counting the answers handled meanwhile.
An answer is a request's end: its items, or an error (a cancelled request's)."
  (declare (indent 1))
  (let ((count (make-symbol "count")))
    `(let* ((,answers 0)
            (,count (lambda (&rest _) (cl-incf ,answers))))
       (advice-add 'deepfim--answered :after ,count)
       (unwind-protect (progn ,@body)
         (advice-remove 'deepfim--answered ,count)))))

(defmacro deepfim-test--in-python-buffer (text &rest body)
  "Run BODY in a shown Python buffer holding TEXT, in `deepfim-mode'."
  (declare (indent 1))
  `(with-temp-buffer
     (switch-to-buffer (current-buffer))
     (python-mode)
     (insert ,text)
     (deepfim-mode 1)
     (unwind-protect (progn ,@body)
       (deepfim-mode -1))))

(ert-deftest deepfim-items-cycle-and-ranges ()
  "Items of one answer cycle; ranges starting before the cursor are honoured."
  (deepfim-test--in-python-buffer "x = fo"
    (let ((seq (cl-incf deepfim--request-seq)))
      (deepfim--handle-items
       seq (copy-marker (point)) (buffer-chars-modified-tick)
       (list :items
             (vector (list :insertText "o(1)")
                     ;; Replaces "fo" (the range starts two characters back).
                     (list :insertText "foobar(2)"
                           :range (list :start '(:line 0 :character 4)
                                        :end '(:line 0 :character 6)))
                     (list :insertText "zzz" :range (list :start '(:line 0 :character 4)
                                                          :end '(:line 0 :character 6)))
                     (list :insertText ""))))
      (should (equal deepfim--items '("o(1)" "obar(2)")))
      (should (equal (deepfim-current-suggestion) "o(1)"))
      (should (equal (deepfim-next) "obar(2)"))
      (should (equal (deepfim-next) "o(1)"))
      (should (equal (deepfim-previous) "obar(2)"))
      ;; Typing "ob" keeps only the item that fits; cycling stays on it.
      (execute-kbd-macro "ob")
      (should (equal (deepfim-current-suggestion) "ar(2)"))
      (should (equal (deepfim-next) "ar(2)"))
      (should (deepfim-accept))
      (should (equal (buffer-string) "x = foobar(2)"))
      (should-not (deepfim-current-suggestion))
      ;; An answer to a superseded request is ignored.
      (let ((old (cl-incf deepfim--request-seq)))
        (cl-incf deepfim--request-seq)
        (deepfim--handle-items old (copy-marker (point)) (buffer-chars-modified-tick)
                               (list :items (vector (list :insertText " + 1"))))
        (should-not (deepfim-current-suggestion))))))

(defun deepfim-test--show (text)
  "Show TEXT as the answer to a request made at point."
  (deepfim--handle-items (cl-incf deepfim--request-seq) (copy-marker (point)) (buffer-chars-modified-tick)
                         (list :items (vector (list :insertText text)))))

(defmacro deepfim-test--in-one-window (a &rest body)
  "Run BODY in buffer A alone in its frame, in `python-mode' with \"x = fo\" and `deepfim-mode' on;
then turn the mode off, kill A and leave one window."
  (declare (indent 1))
  `(unwind-protect
       (progn
         (delete-other-windows)
         (switch-to-buffer ,a)
         (python-mode)
         (insert "x = fo")
         (deepfim-mode 1)
         ,@body)
     (with-current-buffer ,a (deepfim-mode -1))
     (kill-buffer ,a)
     (delete-other-windows)))

(ert-deftest deepfim-ghost-text-cleared-on-leaving-the-window ()
  "Ghost text does not stay in a window left with C-x o (nor its keys)."
  (let ((a (generate-new-buffer "deepfim-a.py"))
        (b (generate-new-buffer "deepfim-b.py")))
    (unwind-protect
        (deepfim-test--in-one-window a
          (set-window-buffer (split-window) b)
          (deepfim-test--show "o(1)")
          ;; Commands in the same window keep it.
          (execute-kbd-macro "o")
          (should (equal (deepfim-current-suggestion) "(1)"))
          (execute-kbd-macro (kbd "C-x o"))
          (should (eq (current-buffer) b))
          (with-current-buffer a
            (should-not (deepfim-current-suggestion))
            (should-not deepfim--suggestion-active)
            ;; An answer for a buffer not in the selected window is not shown.
            (deepfim-test--show "o(1)")
            (should-not (deepfim-current-suggestion)))
          ;; Back in A: the same for another window showing A.
          (execute-kbd-macro (kbd "C-x o"))
          (should (eq (current-buffer) a))
          (deepfim-test--show "(1)")
          (should (equal (deepfim-current-suggestion) "(1)"))
          (set-window-buffer (next-window) a)
          (execute-kbd-macro (kbd "C-x o"))
          (should (eq (current-buffer) a))
          (should-not (deepfim-current-suggestion)))
      (kill-buffer b))))

(ert-deftest deepfim-ghost-text-only-in-the-selected-window ()
  "With the buffer in two windows (C-x 2), the ghost text shows in the selected one only."
  (let ((a (generate-new-buffer "deepfim-a.py")))
    (deepfim-test--in-one-window a
      (let ((other (split-window)))
        (should (eq (window-buffer other) a))
        (deepfim-test--show "o(1)")
        (should (equal (deepfim-current-suggestion) "o(1)"))
        ;; An overlay with no `window' property is drawn in every window of its buffer.
        (should (eq (overlay-get deepfim--overlay 'window) (selected-window)))
        (should-not (eq (overlay-get deepfim--overlay 'window) other))
        ;; Typing through keeps it in that window.
        (execute-kbd-macro "o")
        (should (eq (overlay-get deepfim--overlay 'window) (selected-window)))))))

;; A request whose answer is handed over by the test: no server.
(defun deepfim-test--answer-after (keys text)
  "Request a suggestion at point, type KEYS, then answer TEXT; return what is shown.
KEYS may also be a function, called instead."
  (let (answer)
    (cl-letf (((symbol-function 'deepfim--with-connection)
               (lambda (fn &optional _retry) (funcall fn 'deepfim-test-conn)))
              ((symbol-function 'deepfim--sync-document) #'ignore)
              ((symbol-function 'jsonrpc-async-request)
               (lambda (_conn _method _params &rest handlers)
                 (setq answer (plist-get handlers :success-fn))
                 (list 1 nil))))
      (deepfim-complete))
    (if (functionp keys) (funcall keys) (execute-kbd-macro (kbd keys)))
    (let ((inhibit-message t))
      (funcall answer (list :items (vector (list :insertText text)))))
    (deepfim-current-suggestion)))

(ert-deftest deepfim-answer-to-a-changed-text ()
  "An answer to a text changed since, even to one of the same size, is not shown.
Typing at the cursor while it is on its way trims it."
  (deepfim-test--in-python-buffer "y = retrun"
    (should (equal (deepfim-test--answer-after "" "(x)") "(x)"))
    ;; C-t fixes the typo: the same size, point at the same place (the issue).
    (should-not (deepfim-test--answer-after "C-b C-b C-t C-e" "(x)  # for retrun"))
    (should (equal (buffer-string) "y = return"))
    ;; Typed through while the answer was on its way: the rest is shown...
    (should (equal (deepfim-test--answer-after "(" "(x)") "x)"))
    (should (equal (deepfim-test--answer-after "( DEL" "(x)") "(x)"))
    ;; ... and typing on trims it, deleting back grows it again.
    (execute-kbd-macro "(")
    (should (equal (deepfim-current-suggestion) "x)"))
    (execute-kbd-macro (kbd "DEL"))
    (should (equal (deepfim-current-suggestion) "(x)"))
    ;; A change elsewhere, then typing the suggestion's start: not shown.
    (should-not (deepfim-test--answer-after "C-a y C-e (" "(x)"))
    ;; A change unseen by the modification hooks, at the cursor.
    (should-not (deepfim-test--answer-after
                 (lambda () (let ((inhibit-modification-hooks t)) (insert "(")))
                 "(x)"))))

;; `format-mode-line' returns "" in batch Emacs: read the construct by its rules.
(defun deepfim-test--mode-line-text (string)
  "What the mode line shows for STRING: %% is %, and no other %-construct may appear."
  (let ((text (substring-no-properties string)))
    (should-not (string-match-p "%" (string-replace "%%" "" text)))
    (string-replace "%%" "%" text)))

(ert-deftest deepfim-lighter-states ()
  "The mode line shows the server's state from `deepfim/status', its % signs escaped."
  (with-temp-buffer
    (let ((deepfim--connection 'deepfim-test-fake-connection))
      ;; Not started (it starts on the first completion): not shown as ready.
      (should (equal (deepfim--lighter) " deepfim[-]"))
      (deepfim--set-status deepfim--connection '(:state "loading" :message "loading model 0%"
                                                        :percentage 0))
      ;; The issue: the mode line showed "deepfim[loading 0".
      (should (equal (deepfim--lighter) " deepfim[loading 0%%]"))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[loading 0%]"))
      (should (equal (get-text-property 0 'help-echo (deepfim--lighter)) "loading model 0%"))
      (deepfim--set-status deepfim--connection '(:state "loading" :message "loading model 40%"
                                                        :percentage 40))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[loading 40%]"))
      (should (equal (deepfim--mode-line-escape "100% of 5%%") "100%% of 5%%%%"))
      (deepfim--set-status deepfim--connection '(:state "reading" :percentage 35
                                                        :message "reading the window 35% (3,000 of 8,551 tokens)"))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[reading 35%]"))
      (deepfim--set-status deepfim--connection '(:state "ready" :message "ready" :model "m"))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim"))
      (deepfim--set-status deepfim--connection
                           '(:state "ready" :message "deepfim ready: g (prefix-only template, 4096-token window)"))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[prefix-only]"))
      (deepfim--set-status deepfim--connection '(:state "ready" :message "enabled"))  ; says no template
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[prefix-only]"))
      (deepfim--set-status deepfim--connection '(:state "disabled" :message "off"))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[off]"))
      (let ((inhibit-message t))
        (deepfim--set-status deepfim--connection '(:state "error" :message "broken")))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[error]"))
      (deepfim--set-status deepfim--connection '(:state "stopped" :message "deepfim: stopped"))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[-]"))
      (remhash deepfim--connection deepfim--statuses))))

(ert-deftest deepfim-hints-in-emacs-terms ()
  "The server's \"pass --model\" and \"set model\" hints name `deepfim-model'."
  (let ((how "In Emacs: M-x customize-variable RET deepfim-model RET, or (setq deepfim-model \"/path/to/model.gguf\")"))
    (dolist (case
             '(("model file /m.gguf does not exist; pass --model /path/to/model.gguf or run `deepfim models pull deepseek-coder-1.3b-base`"
                . "model file /m.gguf does not exist; set `deepfim-model' to \"/path/to/model.gguf\" or run `deepfim models pull deepseek-coder-1.3b-base`")
               ("model file /m.gguf does not exist; pass --model with the path of a .gguf file or a catalog name (see `deepfim models list`)"
                . "model file /m.gguf does not exist; set `deepfim-model' to the path of a .gguf file or a catalog name (see `deepfim models list`)")
               ("/m.gguf is not a GGUF model file; point --model at a .gguf file such as a.gguf"
                . "/m.gguf is not a GGUF model file; point `deepfim-model' at a .gguf file such as a.gguf")
               ("the small model serves instead. Run `deepfim models pull`, or set the model to a .gguf file."
                . "the small model serves instead. Run `deepfim models pull`, or set `deepfim-model' to a .gguf file")))
      (let ((hint (deepfim--emacs-hint (car case))))
        (should (equal (substring hint 0 (length (cdr case))) (cdr case)))
        (should (string-match-p (regexp-quote (concat ".  " how)) hint))
        (should-not (string-match-p "--model" hint))))
    ;; Engine settings name their keys in `deepfim-settings'.
    (should (equal (deepfim--emacs-hint "serves 2 models (a, b): set engineModel to one of them")
                   "serves 2 models (a, b): set :engineModel in `deepfim-settings' to one of them"))
    (should (equal (deepfim--emacs-hint "check the URL or set engineApi to llama.cpp, openai or ollama")
                   "check the URL or set :engineApi in `deepfim-settings' to llama.cpp, openai or ollama"))
    (should (equal (deepfim--emacs-hint "has no /x (HTTP 404): check the engine URL and engineApi")
                   "has no /x (HTTP 404): check the engine URL and :engineApi in `deepfim-settings'"))
    (should (equal (deepfim--emacs-hint "failed; set engine to a URL such as http://127.0.0.1:8080")
                   "failed; set :engine in `deepfim-settings' to a URL such as http://127.0.0.1:8080"))
    ;; Any other key, the instruct model's among them (as the Neovim and VS Code clients do).
    (should (equal (deepfim--emacs-hint "not enough memory for the instruct model m.gguf (900 MiB, 10 MiB free \
besides the completion model): free memory or set instructModel to a smaller model")
                   "not enough memory for the instruct model m.gguf (900 MiB, 10 MiB free besides the completion \
model): free memory or set :instructModel in `deepfim-settings' to a smaller model"))
    (should (string-prefix-p
             "no model is loaded for edits: set `deepfim-model', or :instructModel in `deepfim-settings' for a \
separate instruct model.  In Emacs: M-x customize-variable RET deepfim-model"
             (deepfim--emacs-hint
              "no model is loaded for edits: set model, or instructModel for a separate instruct model")))
    (should (equal (deepfim--emacs-hint "set instructEngineApi to ollama, or set `kvCacheType` to q8_0")
                   "set :instructEngineApi in `deepfim-settings' to ollama, or set :kvCacheType in \
`deepfim-settings' to q8_0"))
    ;; A refused value names where it is set.
    (should (equal (deepfim--emacs-hint "setting maxTokens: 0 is not accepted; expected an integer from 1 to 4096")
                   "setting :maxTokens (`deepfim-max-tokens' or `deepfim-settings'): 0 is not accepted; expected an integer from 1 to 4096"))
    (should (equal (deepfim--emacs-hint "setting kvCacheType: \"q5\" is not accepted")
                   "setting :kvCacheType in `deepfim-settings': \"q5\" is not accepted"))
    ;; Other messages are left alone, and the models command is not touched.
    (dolist (message '("loading model 40%" "run `deepfim models pull` first" "ready: model m"
                       "set up the engine first" "the model or engine failed" "set enginesApi"))
      (should (equal (deepfim--emacs-hint message) message)))
    ;; Statuses are stored (and shown) in Emacs terms.
    (with-temp-buffer
      (let ((deepfim--connection 'deepfim-test-fake-connection)
            (inhibit-message t))
        (deepfim--set-status deepfim--connection
                             '(:state "error" :message "no model; pass --model /path/to/model.gguf"))
        (should (string-prefix-p "no model; set `deepfim-model' to \"/path/to/model.gguf\".  In Emacs"
                                 (plist-get (deepfim-status) :message)))
        (should (string-prefix-p "no model; set `deepfim-model'"
                                 (get-text-property 0 'help-echo (deepfim--lighter))))
        (remhash deepfim--connection deepfim--statuses)))))

(ert-deftest deepfim-eglot-show-message-handler ()
  "eglot's window/showMessage: a deepfim server's in Emacs terms, another server's as eglot shows it."
  (let (shown)
    (cl-letf (((symbol-function 'message)
               (lambda (format &rest args) (push (apply #'format-message format args) shown))))
      (eglot-handle-notification 'deepfim-test-other-server 'window/showMessage
                                 :type 1 :message "pass --model /m.gguf")
      (cl-letf (((symbol-function 'deepfim--deepfim-server-p) (lambda (_server) t)))
        (eglot-handle-notification 'deepfim-test-server 'window/showMessage
                                   :type 1 :message "deepfim: no model; pass --model /m.gguf")))
    (should (= (length shown) 2))
    (should (equal (cadr shown) "[eglot] Server reports (type=1): pass --model /m.gguf"))
    (should (string-prefix-p "deepfim: no model; set `deepfim-model' to \"/m.gguf\".  In Emacs:" (car shown)))
    (should (eq (get-text-property 0 'face (car shown)) 'error))))

(ert-deftest deepfim-server-errors-are-said-once ()
  "A server's error status sets the mode line only: the server says it itself, with showMessage
(once per cause).  Failures Emacs sees itself are said in the echo area, once."
  (let ((deepfim--connection 'deepfim-test-fake-connection)
        shown)
    (cl-letf (((symbol-function 'message)
               (lambda (format &rest args) (push (apply #'format-message format args) shown))))
      (deepfim--handle-notification deepfim--connection 'deepfim/status
                                    '(:state "error" :message "no model; pass --model /m.gguf"))
      (should (equal (deepfim-test--mode-line-text (deepfim--lighter)) " deepfim[error]"))
      (should-not shown)
      (deepfim--handle-notification deepfim--connection 'window/showMessage
                                    '(:type 1 :message "deepfim: no model; pass --model /m.gguf"))
      (should (= (length shown) 1))
      (deepfim--fail deepfim--connection "the server did not answer `initialize'")
      (deepfim--fail deepfim--connection "the server did not answer `initialize'")
      (should (equal (car shown) "deepfim: the server did not answer `initialize'"))
      (should (= (length shown) 2)))
    (remhash deepfim--connection deepfim--statuses)))

(ert-deftest deepfim-edit-not-applied-in-emacs-terms ()
  "The reason a code action was not applied is shown in Emacs terms."
  (let (shown deepfim-edit-hook)
    (cl-letf (((symbol-function 'message)
               (lambda (format &rest args) (push (apply #'format-message format args) shown))))
      (deepfim--edit-done '(:action "edit")
                          '(:applied :json-false
                            :reason "not enough memory for the instruct model m.gguf: free memory or set \
instructModel to a smaller model")))
    (should (equal shown '("deepfim: not applied: not enough memory for the instruct model m.gguf: free memory \
or set :instructModel in `deepfim-settings' to a smaller model")))))

(ert-deftest deepfim-apply-edit-non-ascii-path ()
  "An edit of a file under a non-ASCII folder (\"/home/josé/\") goes to the buffer
visiting that file by its name, not to a buffer named with raw UTF-8 bytes."
  (let* ((dir (file-name-as-directory (make-temp-file "deepfim-ert-café-" t)))
         (file (expand-file-name "test_a.py" dir))
         (uri (deepfim--path-uri file))
         shown)
    (unwind-protect
        (progn
          (should (string-match-p "caf%C3%A9" uri))
          (should (equal (deepfim--apply-edit
                          (list :documentChanges
                                (vector (list :kind "create" :uri uri)
                                        (list :textDocument (list :uri uri :version nil)
                                              :edits (vector (list :range (list :start '(:line 0 :character 0)
                                                                                :end '(:line 0 :character 0))
                                                                   :newText "def test():\n    pass\n"))))))
                         '(:applied t)))
          (let ((buffer (get-file-buffer file)))
            (should buffer)
            (should (equal (buffer-file-name buffer) file))
            (should (equal (with-current-buffer buffer (buffer-string)) "def test():\n    pass\n")))
          ;; showDocument opens that same buffer.
          (cl-letf (((symbol-function 'display-buffer) (lambda (buffer &rest _) (setq shown buffer))))
            (deepfim--handle-request nil 'window/showDocument (list :uri uri)))
          (should (eq shown (get-file-buffer file))))
      (when-let* ((buffer (get-file-buffer file)))
        (with-current-buffer buffer (set-buffer-modified-p nil))
        (kill-buffer buffer))
      (delete-directory dir t))))

(ert-deftest deepfim-own-connection-adds-project-folders ()
  "The own connection (one per session) tells the server about each project visited,
so that files of a second project get their repository's context too."
  (let* ((top (file-name-as-directory (make-temp-file "deepfim-ert-projects-" t)))
         (one (file-name-as-directory (expand-file-name "one" top)))
         (two (file-name-as-directory (expand-file-name "two" top)))
         (conn (make-instance 'deepfim-connection :name "deepfim-test-folders"
                              :process (lambda () (make-process :name "deepfim-test-folders" :command '("cat")
                                                                :connection-type 'pipe :noquery t))))
         (sent nil) (buffers nil))
    (make-directory (expand-file-name "sub" two) t)
    (make-directory one t)
    (setf (deepfim--folders conn) (list one))       ; the folder `initialize' sent
    (unwind-protect
        (cl-letf (((symbol-function 'jsonrpc-notify)
                   (lambda (_conn method params) (push (cons method params) sent)))
                  ((symbol-function 'project-current) #'ignore))    ; the file's folder is its root
          (dolist (file (list (expand-file-name "a.py" one) (expand-file-name "b.py" two)
                              (expand-file-name "sub/c.py" two) (expand-file-name "d.py" top)))
            (with-current-buffer (find-file-noselect file)
              (push (current-buffer) buffers)
              (deepfim--sync-document conn)))
          (setq sent (nreverse sent))
          (should (equal (mapcar #'car sent)
                         '(:textDocument/didOpen             ; a.py: in the first folder
                           :workspace/didChangeWorkspaceFolders :textDocument/didOpen ; b.py
                           :textDocument/didOpen             ; sub/c.py: in two/ already
                           :workspace/didChangeWorkspaceFolders :textDocument/didOpen))) ; d.py: above both
          (should (equal (plist-get (cdr (nth 1 sent)) :event)
                         (list :added (vector (list :uri (deepfim--path-uri (directory-file-name two))
                                                    :name "two"))
                               :removed [])))
          (let ((event (plist-get (cdr (nth 4 sent)) :event)))
            (should (equal (plist-get event :added)
                           (vector (list :uri (deepfim--path-uri (directory-file-name top))
                                         :name (file-name-nondirectory (directory-file-name top))))))
            (should (equal (sort (mapcar (lambda (folder) (plist-get folder :name)) (plist-get event :removed))
                                 #'string<)
                           '("one" "two"))))
          (should (equal (deepfim--folders conn) (list top))))
      (dolist (buffer buffers)
        (with-current-buffer buffer (setq deepfim--doc-connection nil))
        (kill-buffer buffer))
      (delete-process (jsonrpc--process conn))
      (delete-directory top t))))

;;; Incremental document synchronization

(defun deepfim-test--apply-changes (text changes)
  "TEXT after the LSP CHANGES (a vector), applied in order as a server does."
  (with-temp-buffer
    (insert text)
    (seq-doseq (change changes)
      (let ((range (plist-get change :range)))
        (if (null range)
            (erase-buffer)
          (delete-region (deepfim--position-to-point (plist-get range :start))
                         (deepfim--position-to-point (plist-get range :end)))
          (goto-char (deepfim--position-to-point (plist-get range :start))))
        (insert (plist-get change :text))))
    (buffer-string)))

(defun deepfim-test--flush (conn)
  "Sync the buffer's document with CONN; return the contentChanges sent, or nil."
  (let (sent)
    (cl-letf (((symbol-function 'jsonrpc-notify)
               (lambda (_conn method params)
                 (should (eq method :textDocument/didChange))
                 (setq sent (plist-get params :contentChanges)))))
      (deepfim--sync-document conn))
    sent))

(ert-deftest deepfim-incremental-changes ()
  "Edits become ranged changes (UTF-16) in order; untrusted ones the whole text."
  (with-temp-buffer
    (insert "def f(x):\n    return x\n\nprint(f(1))  # done\n")
    (buffer-enable-undo)
    (deepfim-mode 1)
    ;; The document as if open in a connection that takes incremental changes.
    (setq deepfim--doc-connection 'deepfim-test-conn
          deepfim--doc-uri (deepfim--uri)
          deepfim--doc-version 1
          deepfim--doc-tick (buffer-chars-modified-tick))
    (unwind-protect
        (let ((server (buffer-string))
              (incremental t))
          (cl-letf (((symbol-function 'deepfim--incremental-p) (lambda (_) incremental)))
            ;; Flush; the changes must be RANGED (else one whole text) and
            ;; bring the server's copy to the buffer's text.
            (cl-flet ((check (ranged)
                             (let ((changes (deepfim-test--flush 'deepfim-test-conn)))
                               (should changes)
                               (if ranged
                                   (should (cl-every (lambda (change) (plist-get change :range)) changes))
                                 (should (= (length changes) 1))
                                 (should-not (plist-get (aref changes 0) :range)))
                               (setq server (deepfim-test--apply-changes server changes))
                               (should (equal server (buffer-string)))
                               changes)))
              ;; A non-BMP character, then typing after it on the same line.
              (goto-char (point-min))
              (search-forward "return ")
              (insert "\U0001F600")
              (insert "y")
              ;; Deleting across lines, inserting several lines.
              (delete-region (progn (goto-char (point-min)) (search-forward "f(") (point))
                             (progn (search-forward "ret") (point)))
              (goto-char (point-max))
              (insert "a = 1\nb = [\n    2,\n]\n")
              ;; Sent in order, in one didChange.
              (should (equal (append (check t) nil)
                             '((:range (:start (:line 1 :character 11) :end (:line 1 :character 11))
                                       :text "\U0001F600")
                               ;; After the emoji: two UTF-16 code units further.
                               (:range (:start (:line 1 :character 13) :end (:line 1 :character 13))
                                       :text "y")
                               (:range (:start (:line 0 :character 6) :end (:line 1 :character 7))
                                       :text "")
                               (:range (:start (:line 3 :character 0) :end (:line 3 :character 0))
                                       :text "a = 1\nb = [\n    2,\n]\n"))))
              ;; `before-change-functions' gets the whole word; the change
              ;; is one letter, or starts after the word's start ("P" stays).
              (goto-char (point-min))
              (search-forward "print")
              (backward-word)
              (capitalize-word 1)
              (backward-word)
              (upcase-word 1)
              (should (equal (buffer-substring (line-beginning-position) (line-end-position))
                             "PRINT(f(1))  # done"))
              (should (= (length (check t)) 2))
              ;; More kinds of edits.
              (subst-char-in-region (point-min) (point-max) ?1 ?9)
              (save-restriction
                (narrow-to-region (line-beginning-position 2) (line-end-position 2))
                (goto-char (point-max))
                (insert " + x"))
              (goto-char (point-min))
              (while (re-search-forward "\\_<b\\_>" nil t) (replace-match "bee"))
              (undo-boundary)
              (delete-region (point-min) (line-beginning-position 3))
              (undo-boundary)
              (primitive-undo 1 buffer-undo-list)
              ;; Text properties alone are no change.
              (put-text-property (point-min) (point-max) 'face 'bold)
              (should (>= (length (check t)) 4))
              (should-not (deepfim-test--flush 'deepfim-test-conn))
              (put-text-property (point-min) (point-max) 'face 'italic)
              (should-not (deepfim-test--flush 'deepfim-test-conn))
              ;; A change the hooks did not see: the whole text.
              (goto-char (point-min))
              (insert "# one\n")
              (let ((inhibit-modification-hooks t))
                (insert "# unseen\n"))
              (insert "# two\n")
              (check nil)
              ;; ... and incremental again afterwards.
              (insert "z")
              (check t)
              ;; Too many pending changes: the whole text.
              (dotimes (_ (1+ deepfim--max-pending-changes)) (insert "."))
              (check nil)
              ;; A server taking only whole texts.
              (setq incremental nil)
              (insert "w")
              (check nil))))
      (setq deepfim--doc-connection nil)
      (deepfim-mode -1))))

(ert-deftest deepfim-indirect-buffer-keeps-the-server-text ()
  "A clone of the buffer (C-x 4 c) shares its text and its document: the server's copy
stays the buffer's text whichever of the two syncs, and killing the clone leaves the
document open for the original."
  (let* ((dir (file-name-as-directory (make-temp-file "deepfim-ert-indirect-" t)))
         (file (expand-file-name "a.py" dir))
         (conn (make-instance 'deepfim-connection :name "deepfim-test-indirect"
                              :process (lambda () (make-process :name "deepfim-test-indirect" :command '("cat")
                                                                :connection-type 'pipe :noquery t))))
         (documents (make-hash-table :test #'equal))   ; the server's copies, by URI
         base clone)
    (with-temp-file file (insert "def f(x):\n    return x\n"))
    (setf (deepfim--capabilities conn) '(:textDocumentSync 2))
    (unwind-protect
        (cl-letf (((symbol-function 'jsonrpc-notify)
                   (lambda (_conn method params)
                     (let ((uri (plist-get (plist-get params :textDocument) :uri)))
                       (pcase method
                         (:textDocument/didOpen
                          (puthash uri (plist-get (plist-get params :textDocument) :text) documents))
                         (:textDocument/didChange
                          (should (gethash uri documents))      ; a closed document takes no change
                          (puthash uri (deepfim-test--apply-changes (gethash uri documents)
                                                                    (plist-get params :contentChanges))
                                   documents))
                         (:textDocument/didClose (remhash uri documents)))))))
          (setq base (find-file-noselect file))
          (with-current-buffer base
            (python-mode)
            (deepfim-mode 1)
            (deepfim--sync-document conn)
            (setq clone (clone-indirect-buffer nil nil)))
          (cl-flet ((server () (with-current-buffer base (gethash deepfim--doc-uri documents)))
                    (type-in (buffer at text &rest syncing)
                      (with-current-buffer buffer
                        (goto-char at)
                        (insert text))
                      (dolist (synced syncing)
                        (with-current-buffer synced (deepfim--sync-document conn)))))
            ;; Typed in the original; the clone syncs first (the whole text), then the original.
            (type-in base (with-current-buffer base (point-max)) "y = f(1)\n" clone base)
            (should (equal (server) (with-current-buffer base (buffer-string))))
            ;; And the other way round.
            (type-in clone 1 "import os\n" base clone)
            (should (equal (server) (with-current-buffer base (buffer-string))))
            ;; Typed in the original, sent by the clone, which then goes: the original's
            ;; document stays open, and in step (the edit is not sent twice).
            (type-in base (with-current-buffer base (point-max)) "w = 3\n" clone)
            (kill-buffer clone)
            (should (server))
            (type-in base (with-current-buffer base (point-max)) "z = 2\n" base)
            (should (equal (server) (with-current-buffer base (buffer-string))))))
      (when (buffer-live-p clone) (kill-buffer clone))
      (when (buffer-live-p base)
        (with-current-buffer base
          (setq deepfim--doc-connection nil)
          (deepfim-mode -1)
          (set-buffer-modified-p nil))
        (kill-buffer base))
      (delete-process (jsonrpc--process conn))
      (delete-directory dir t))))

(ert-deftest deepfim-eglot-setup-entry ()
  "`deepfim-eglot-setup' puts one entry first in `eglot-server-programs'."
  (let ((eglot-server-programs (copy-sequence eglot-server-programs))
        (deepfim-model "~/models/m.gguf"))
    (deepfim-eglot-setup '(python-mode))
    (deepfim-eglot-setup '(python-mode python-ts-mode))
    (should (equal (car eglot-server-programs)
                   '((python-mode python-ts-mode) . deepfim-eglot-contact)))
    (should (= 1 (cl-count #'deepfim-eglot-contact eglot-server-programs :key #'cdr-safe)))
    (let ((contact (deepfim-eglot-contact)))
      (should (equal (cl-subseq contact 0 (length deepfim-server-command)) deepfim-server-command))
      (should (equal (plist-get (plist-get (cl-subseq contact (length deepfim-server-command))
                                           :initializationOptions)
                                :model)
                     (expand-file-name "~/models/m.gguf"))))))


;;; With the real server

(ert-deftest deepfim-ghost-text-shown-and-accepted ()
  "The issue's check: type `with', complete, wait, accept."
  (deepfim-test--with-file deepfim-test--source
    (deepfim-mode 1)
    (insert "with")
    (deepfim-complete)
    (let* ((suggestion (deepfim-test--wait-suggestion))
           (before (buffer-substring-no-properties (point-min) (point)))
           (after (buffer-substring-no-properties (point) (point-max))))
      ;; The real model writes sensible Python here.
      (should (string-prefix-p " open(path" suggestion))
      ;; The ghost text: an overlay at point showing the suggestion.
      (should (overlayp deepfim--overlay))
      (should (= (overlay-start deepfim--overlay) (point)))
      (let ((ghost (overlay-get deepfim--overlay 'after-string)))
        (should (equal (substring-no-properties ghost) suggestion))
        (should (eq (get-text-property 0 'face ghost) 'deepfim-ghost-face)))
      ;; TAB accepts only while a suggestion is shown.
      (should (eq (key-binding (kbd "TAB")) #'deepfim-accept))
      (should (equal (plist-get (deepfim-status) :state) "ready"))
      ;; Gemma has no fill-in-the-middle tokens.
      (should (equal (substring-no-properties (deepfim--lighter)) " deepfim[prefix-only]"))
      ;; The own connection serves the buffer (no eglot here).
      (should (eq deepfim--doc-connection deepfim--connection))
      (should (deepfim-accept))
      (should (equal (buffer-string) (concat before suggestion after)))
      (should (= (point) (+ (length before) (length suggestion) 1)))
      (should-not (deepfim-current-suggestion))
      (should-not (overlays-in (point-min) (point-max)))
      (should-not (eq (key-binding (kbd "TAB")) #'deepfim-accept)))))

(ert-deftest deepfim-accept-word-and-line ()
  "Word and line accept insert parts of a multi-line suggestion."
  (deepfim-test--with-file deepfim-test--source
    (deepfim-mode 1)
    (insert "with")
    (deepfim-complete)
    (let* ((suggestion (deepfim-test--wait-suggestion))
           (start (point))
           (first-line (car (split-string suggestion "\n"))))
      (should (string-match-p "\n" suggestion))
      ;; One word: leading punctuation and blanks, then the word.
      (string-match "\\`[^[:alnum:]_\n]*[[:alnum:]_]+" suggestion)
      (let ((word (match-string 0 suggestion)))
        (should (deepfim-accept-word))
        (should (equal (buffer-substring-no-properties start (point)) word))
        (should (equal (deepfim-current-suggestion) (substring suggestion (length word)))))
      ;; The rest of the line.
      (should (deepfim-accept-line))
      (should (equal (buffer-substring-no-properties start (point)) first-line))
      (should (string-prefix-p "\n" (deepfim-current-suggestion)))
      ;; The next line, with its line break.
      (should (deepfim-accept-line))
      (let ((second (cadr (split-string suggestion "\n"))))
        (should (equal (deepfim-test--line) second)))
      (should (string-prefix-p (buffer-substring-no-properties start (point)) suggestion))
      ;; What is left is still shown, right after point.
      (let ((rest (substring suggestion (- (point) start))))
        (should (equal (deepfim-current-suggestion) (and (not (string-empty-p rest)) rest))))
      (deepfim-accept)
      (should (equal (buffer-substring-no-properties start (point)) suggestion)))))

(ert-deftest deepfim-idle-typing-through-and-dismissal ()
  "Idle requests after typing; typing through keeps the rest; moving or mismatching clears."
  (deepfim-test--with-file deepfim-test--source
    (deepfim-mode 1)
    ;; Typing schedules an idle request; running it shows the suggestion.
    (execute-kbd-macro "with")
    (should (equal (deepfim-test--line) "    with"))
    (should (timerp deepfim--idle-timer))
    (should (memq deepfim--idle-timer timer-idle-list))
    (should-not (deepfim-current-suggestion))
    (timer-event-handler deepfim--idle-timer)
    (let ((suggestion (deepfim-test--wait-suggestion)))
      (should-not deepfim--invoked)
      ;; Typing the suggestion's first characters keeps the rest of it.
      (execute-kbd-macro (substring suggestion 0 2))
      (should (equal (deepfim-current-suggestion) (substring suggestion 2)))
      (should (= (overlay-start deepfim--overlay) (point)))
      (should-not deepfim--idle-timer)
      ;; Typing something else clears it, and schedules a new request.
      (execute-kbd-macro "Q")
      (should-not (deepfim-current-suggestion))
      (should (timerp deepfim--idle-timer))
      (execute-kbd-macro (kbd "DEL"))
      (execute-kbd-macro (kbd "DEL"))
      (execute-kbd-macro (kbd "DEL"))
      (should (equal (deepfim-test--line) "    with"))
      ;; Moving clears it, and cancels the pending request.
      (deepfim-complete)
      (should (equal (deepfim-test--wait-suggestion) suggestion))
      (execute-kbd-macro (kbd "C-b"))
      (should-not (deepfim-current-suggestion))
      (should-not deepfim--idle-timer)
      (execute-kbd-macro (kbd "C-f"))
      ;; C-g (`deepfim-dismiss') clears it.
      (deepfim-complete)
      (should (equal (deepfim-test--wait-suggestion) suggestion))
      (should (eq (key-binding (kbd "C-g")) #'deepfim-dismiss))
      (execute-kbd-macro (kbd "C-g"))
      (should-not (deepfim-current-suggestion))
      (should-not (eq (key-binding (kbd "C-g")) #'deepfim-dismiss))
      ;; An answer in flight when `deepfim-dismiss' runs is dropped (or the request cancelled).
      (deepfim-test--counting-answers answers
        (deepfim-complete)
        (deepfim-dismiss)
        (deepfim-test--wait (lambda () (> answers 0)) "the dismissed answer")
        (should-not (deepfim-current-suggestion)))
      ;; TAB accepts.
      (deepfim-complete)
      (deepfim-test--wait-suggestion)
      (let ((start (point)))
        (execute-kbd-macro (kbd "TAB"))
        (should (equal (buffer-substring-no-properties start (point)) suggestion)))
      (should-not (deepfim-current-suggestion))
      (should-not deepfim--idle-timer))))

;; The answer is read when Emacs waits (`accept-process-output'): the keys of
;; `execute-kbd-macro' all run before it, as when one types ahead of it.
(ert-deftest deepfim-answer-after-an-edit-of-the-same-size ()
  "The server's answer to a text changed since by C-t (same size, same point) is not shown.
One to a text typed on at the cursor shows the rest of it."
  (deepfim-test--with-file deepfim-test--source
    (deepfim-mode 1)
    (insert "with")
    (should (deepfim--connection-for-buffer))  ; started: each request goes out at once
    (deepfim-test--counting-answers answers
      (deepfim-complete)
      (let ((suggestion (deepfim-test--wait-suggestion)))
        (should (string-prefix-p " open(path" suggestion))
        ;; Typed ahead of the answer: its first character.
        (deepfim-complete)
        (execute-kbd-macro " ")
        (deepfim-test--wait (lambda () (= answers 2)) "the second answer")
        (should (equal (deepfim-current-suggestion) (substring suggestion 1)))
        (execute-kbd-macro (kbd "DEL"))
        (should (equal (deepfim-current-suggestion) suggestion))
        ;; "with" becomes "wtih" before the answer comes.
        (deepfim-complete)
        (execute-kbd-macro (kbd "C-b C-b C-t C-e"))
        (should (equal (deepfim-test--line) "    wtih"))
        (deepfim-test--wait (lambda () (= answers 3)) "the third answer")
        (should-not (deepfim-current-suggestion))))))

(ert-deftest deepfim-explain-shows-the-prompt ()
  "`deepfim-explain' renders the last prompt, segments and timings."
  (deepfim-test--with-file deepfim-test--source
    (deepfim-mode 1)
    (insert "with")
    (deepfim-complete)
    (let ((suggestion (deepfim-test--wait-suggestion)))
      (with-current-buffer (deepfim-explain)
        (let ((text (buffer-string)))
          (should (string-match-p "model: Gemma" text))
          (should (string-match-p (regexp-quote suggestion) text))
          (should (string-match-p "── prefix" text))
          (should (string-match-p "def read_lines(path):" text))
          (should (string-match-p "timings:.*total_ms=" text)))))))

(ert-deftest deepfim-eglot-completion-at-point ()
  "Plain eglot runs deepfim: completion-at-point inserts the multi-line completion.
`deepfim-mode' then uses eglot's connection rather than its own."
  (let ((eglot-server-programs (copy-sequence eglot-server-programs)))
    (deepfim-eglot-setup '(python-mode))
    (deepfim-test--with-file deepfim-test--source
      (let ((server (deepfim-test--start-eglot)))
        (should (deepfim--deepfim-server-p server))
        (should (eq (deepfim--eglot-server) server))
        ;; Ghost text through eglot's connection.
        (deepfim-mode 1)
        (insert "with")
        (deepfim-complete)
        (let ((suggestion (deepfim-test--wait-suggestion)))
          (should (string-prefix-p " open(path" suggestion))
          (should-not deepfim--doc-connection)
          (should (equal (plist-get (deepfim-status) :state) "ready"))
          (deepfim-dismiss)
          (deepfim-mode -1)
          ;; The dropdown completion, in the default UI.
          (let ((before (buffer-substring-no-properties (point-min) (point)))
                (after (buffer-substring-no-properties (point) (point-max))))
            (eglot--signal-textDocument/didChange)
            (completion-at-point)
            (let ((completion (with-current-buffer (deepfim-explain)
                                (goto-char (point-min))
                                (re-search-forward "^completion\n")
                                (buffer-substring-no-properties
                                 (point) (progn (re-search-forward "\n\n── ") (- (point) 5))))))
              (should (equal completion suggestion))
              (should (equal (buffer-string) (concat before completion after)))
              (should (= (point) (+ 1 (length before) (length completion)))))))))))

(ert-deftest deepfim-eglot-company ()
  "Through company (when installed), the multi-line completion is inserted whole."
  (skip-unless (require 'company nil t))
  (defvar company-backends)
  (defvar company-candidates)
  (declare-function company-manual-begin "company" ())
  (declare-function company-complete-selection "company" ())
  (let ((eglot-server-programs (copy-sequence eglot-server-programs)))
    (deepfim-eglot-setup '(python-mode))
    (deepfim-test--with-file deepfim-test--source
      (deepfim-test--start-eglot)
      (insert "with")
      (eglot--signal-textDocument/didChange)
      (company-mode 1)
      (let ((company-backends '(company-capf))
            (before (buffer-substring-no-properties (point-min) (point)))
            (after (buffer-substring-no-properties (point) (point-max))))
        (company-manual-begin)
        (should (= (length company-candidates) 1))
        (company-complete-selection)
        (let ((inserted (buffer-substring-no-properties (1+ (length before))
                                                        (- (point-max) (length after)))))
          (should (string-prefix-p " open(path" inserted))
          (should (string-match-p "\n        [a-z]" inserted))
          (should (equal (buffer-string) (concat before inserted after)))
          (should (= (point) (+ 1 (length before) (length inserted)))))))))

(ert-deftest deepfim-own-connection-alongside-another-server ()
  "eglot runs another server for the buffer; deepfim-mode runs its own connection."
  (let ((eglot-server-programs
         `((python-mode . (,(deepfim-test--env "DEEPFIM_TEST_PYTHON")
                           ,(expand-file-name "fake_lsp.py" deepfim-test--dir))))))
    (deepfim-test--with-file deepfim-test--source
      (let ((server (deepfim-test--start-eglot)))
        (should (equal (plist-get (eglot--server-info server) :name) "fake-lsp"))
        (should-not (deepfim--eglot-server))
        (deepfim-mode 1)
        (insert "with")
        (deepfim-complete)
        (let ((suggestion (deepfim-test--wait-suggestion)))
          (should (string-prefix-p " open(path" suggestion))
          (should (eq deepfim--doc-connection deepfim--connection))
          (should (deepfim-accept)))
        ;; Edits reach both servers: the other one through eglot...
        (insert "\n    return")
        (eglot--signal-textDocument/didChange)
        (should (equal (jsonrpc-request server :fake/text
                                        (list :textDocument (eglot--TextDocumentIdentifier)))
                       (buffer-string)))
        (should (eq (eglot-current-server) server))
        (let ((items (jsonrpc-request server :textDocument/completion
                                      (eglot--TextDocumentPositionParams))))
          (should (equal (plist-get (aref (plist-get items :items) 0) :label)
                         "fake_completion_item")))
        ;; ... and deepfim through its own connection (incremental sync).
        (let ((version deepfim--doc-version))
          (deepfim-complete)
          (deepfim-test--wait (lambda () (> deepfim--doc-version version)) "a didChange")
          (deepfim-test--wait (lambda () (with-current-buffer (deepfim-explain)
                                           (and (string-match-p "with open(path" (buffer-string))
                                                (string-match-p "^    return$" (buffer-string)))))
                              "the edit in the prompt"))))))

;;; Code actions (instruct edits)

(defconst deepfim-test--buggy
  "<|>def add(a, b):
    return a - b


print(add(1, 2))
"
  "A function for the code actions to edit.")

(defun deepfim-test--wait-edit ()
  "Wait for the result of the `deepfim.edit' command sent last."
  (let ((deepfim-test--timeout 240))
    (deepfim-test--wait (lambda () deepfim--last-edit) "the edit")))

(ert-deftest deepfim-eglot-code-action-edit ()
  "`eglot-code-actions' on a region lists deepfim's actions; \"Edit with
instruction...\" asks with `read-string' and the server's
`workspace/applyEdit' rewrites the region."
  (let ((eglot-server-programs (copy-sequence eglot-server-programs))
        (eglot-confirm-server-initiated-edits nil)
        (picked nil) (asked nil))
    (deepfim-eglot-setup '(python-mode))
    (deepfim-test--with-file deepfim-test--buggy
      (deepfim-test--start-eglot)
      (let* ((beg (point-min))
             (end (progn (goto-char (point-min)) (forward-line 2) (point)))
             (after (buffer-substring-no-properties end (point-max)))
             (last-nonmenu-event ?a)) ; the minibuffer, not a popup menu
        (setq deepfim--last-edit nil)
        (cl-letf (((symbol-function 'completing-read)
                   (lambda (_prompt collection &rest _)
                     (setq picked (mapcar #'car collection))
                     "deepfim: Edit with instruction..."))
                  ((symbol-function 'read-string)
                   (lambda (prompt &rest _)
                     (setq asked prompt)
                     "Make add return the sum of a and b.")))
          (eglot-code-actions beg end nil t))
        (should (equal picked '("deepfim: Edit with instruction..." "deepfim: Add docstring" "deepfim: Fix"
                                "deepfim: Explain" "deepfim: Write tests")))
        (should (equal asked "deepfim instruction: "))
        (let ((result (deepfim-test--wait-edit)))
          (should (eq (plist-get result :applied) t))
          (deepfim-test--wait (lambda () (equal (buffer-string) (concat (plist-get result :edit) after)))
                              "the edit in the buffer")
          (should-not (string-match-p "a - b" (buffer-substring-no-properties (point-min) (point-max)))))))))

(ert-deftest deepfim-eglot-code-action-explain ()
  "\"Explain\" shows the answer in `*deepfim explanation*' and changes nothing."
  (let ((eglot-server-programs (copy-sequence eglot-server-programs))
        (last-nonmenu-event ?a))
    (deepfim-eglot-setup '(python-mode))
    (deepfim-test--with-file deepfim-test--buggy
      (deepfim-test--start-eglot)
      (let ((before (buffer-string)))
        (setq deepfim--last-edit nil)
        (cl-letf (((symbol-function 'completing-read) (lambda (&rest _) "deepfim: Explain")))
          (eglot-code-actions (point-min) (progn (forward-line 2) (point)) nil t))
        (let ((result (deepfim-test--wait-edit)))
          (should (stringp (plist-get result :explanation)))
          (should (equal (with-current-buffer "*deepfim explanation*" (buffer-string))
                         (plist-get result :explanation)))
          (should (equal (buffer-string) before)))))))

(ert-deftest deepfim-edit-on-the-own-connection ()
  "`deepfim-edit' with deepfim's own connection: the server's
`workspace/applyEdit' is applied by deepfim.el."
  (deepfim-test--with-file deepfim-test--buggy
    (deepfim-mode 1)
    (let* ((end (progn (goto-char (point-min)) (forward-line 2) (point)))
           (after (buffer-substring-no-properties end (point-max))))
      (setq deepfim--last-edit nil)
      (deepfim-edit (point-min) end "Make add return the sum of a and b.")
      (let ((result (deepfim-test--wait-edit)))
        (should (eq (plist-get result :applied) t))
        (should (equal (buffer-string) (concat (plist-get result :edit) after)))))))


(defun deepfim-test--prompt-before-cursor (result)
  "The text before the cursor in the prompt of the `deepfim/explain' RESULT.
That is its prefix, recent and middle segments (the lines before the
cursor's, and the cursor's line up to it)."
  (mapconcat (lambda (segment) (plist-get segment :text))
             (seq-filter (lambda (segment) (member (plist-get segment :kind) '("prefix" "recent" "middle")))
                         (plist-get (plist-get result :prompt) :segments))
             ""))

(ert-deftest deepfim-incremental-sync-reaches-the-server ()
  "After incremental edits (a non-BMP character before them), the server's text is the buffer's.
Gemma 3 270M completes from the text before the cursor only: with the
cursor at the end, the prompt holds the whole document."
  (deepfim-test--with-file deepfim-test--source
    (deepfim-mode 1)
    (let ((conn (deepfim--connection-for-buffer))
          (sent nil)
          (answers 0))
      (should (eq deepfim--doc-connection conn))
      (should (deepfim--incremental-p conn))
      (cl-flet ((record (_conn method params)
                  (when (eq method :textDocument/didChange)
                    (setq sent (append sent (append (plist-get params :contentChanges) nil)))))
                (count (&rest _) (cl-incf answers)))
        (advice-add 'jsonrpc-notify :before #'record)
        (advice-add 'deepfim--handle-items :after #'count)
        (unwind-protect
            (progn
              ;; An emoji in the docstring, then typing after it.
              (goto-char (point-min))
              (search-forward "\"\"\"Return")
              (insert " \U0001F600")
              (insert " all")
              ;; Deleting across lines.
              (delete-region (progn (goto-char (point-min)) (search-forward "import") (point))
                             (progn (forward-line 2) (point)))
              (insert " sys\n\n")
              ;; Several lines at the old cursor.
              (search-forward "path.\"\"\"\n")
              (delete-region (point) (line-end-position))
              (insert "    with open(path) as f:\n        return f.read().splitlines()")
              (goto-char (point-min))
              (search-forward "main")
              (backward-word)
              (capitalize-word 1)
              ;; The cursor at the end, after another emoji on its line.
              (goto-char (point-max))
              (insert "x = \"\U0001F600\" + str(")
              (deepfim-complete)
              (deepfim-test--wait (lambda () (> answers 0)) "the answer")
              (should (>= (length sent) 7))
              (should (cl-every (lambda (change) (plist-get change :range)) sent))
              (let ((result (jsonrpc-request conn :deepfim/explain
                                             (list :textDocument (list :uri deepfim--doc-uri)))))
                (should (equal (deepfim-test--prompt-before-cursor result)
                               (buffer-substring-no-properties (point-min) (point))))))
          (advice-remove 'jsonrpc-notify #'record)
          (advice-remove 'deepfim--handle-items #'count))))))

(ert-deftest deepfim-sync-below-a-lone-carriage-return ()
  "Edits below a lone CR reach the server where they are made (it counts the CR as a line end)."
  (deepfim-test--with-file "x = \"a\rb\"\n\ndef f():\n    <|>"
    (deepfim-mode 1)
    (let ((conn (deepfim--connection-for-buffer)) (answers 0))
      (cl-flet ((count (&rest _) (cl-incf answers)))
        (advice-add 'deepfim--handle-items :after #'count)
        (unwind-protect
            (progn
              (insert "return 1")
              (goto-char (point-min))
              (forward-line 2)
              (insert "# c\n")
              (goto-char (point-max))
              (insert "\n\ndef g(")
              (deepfim-complete)
              (deepfim-test--wait (lambda () (> answers 0)) "the answer")
              (let ((result (jsonrpc-request conn :deepfim/explain
                                             (list :textDocument (list :uri deepfim--doc-uri)))))
                (should (equal (deepfim-test--prompt-before-cursor result)
                               (buffer-substring-no-properties (point-min) (point))))))
          (advice-remove 'deepfim--handle-items #'count))))))

(ert-deftest deepfim-second-project-gets-its-context ()
  "A file of a second project, served by the same own connection, is completed with
the context of its project's other files (the server learns of the folder)."
  (let* ((top (file-name-as-directory (make-temp-file "deepfim-ert-two-projects-" t)))
         (one (expand-file-name "one/" top))
         (two (expand-file-name "two/" top))
         (buffers nil))
    (make-directory one t)
    (make-directory two t)
    (with-temp-file (expand-file-name "a.py" one) (insert "x = 1\n"))
    (with-temp-file (expand-file-name "helpers.py" two)
      (insert "def frobnicate_widget(widget, factor):\n    \"\"\"Scale the widget by factor.\"\"\"\n"
              "    return widget * factor\n"))
    (with-temp-file (expand-file-name "main.py" two)
      (insert "from helpers import frobnicate_widget\n\n\ndef run(w):\n    return frob"))
    (unwind-protect
        (cl-letf (((symbol-function 'project-current) #'ignore))   ; each folder is its own project
          ;; The connection starts in project one; helpers.py is open too, so that its text is
          ;; in the server's index at once (no wait for a scan of the folder).
          (dolist (file (list (expand-file-name "a.py" one) (expand-file-name "helpers.py" two)
                              (expand-file-name "main.py" two)))
            (let ((buffer (find-file-noselect file)))
              (push buffer buffers)
              (switch-to-buffer buffer)
              (deepfim-mode 1)
              (should (deepfim--connection-for-buffer))))
          (with-current-buffer (car buffers)            ; main.py
            (goto-char (point-max))
            (deepfim-test--counting-answers answers
              (deepfim-complete)
              (deepfim-test--wait (lambda () (> answers 0)) "the answer"))
            (let ((result (jsonrpc-request deepfim--doc-connection :deepfim/explain
                                           (list :textDocument (list :uri deepfim--doc-uri)))))
              (should result)
              (should (member "two/helpers.py" (mapcar (lambda (segment) (plist-get segment :source))
                                                       (plist-get (plist-get result :prompt) :segments)))))))
      (dolist (buffer buffers)
        (with-current-buffer buffer (deepfim-mode -1))
        (kill-buffer buffer))
      (delete-directory top t))))

(ert-deftest deepfim-status-error-for-a-broken-model ()
  "A missing model shows an error state in the mode line."
  (deepfim-test--stop-shared-server)
  (let ((saved deepfim--connection)
        (deepfim--connection nil)
        (deepfim-server-command (append (butlast (deepfim-test--server-command) 1)
                                        (list "/nonexistent/model.gguf"))))
    (unwind-protect
        (with-temp-buffer
          (deepfim-test--complete-into-error)
          (should (equal (substring-no-properties (deepfim--lighter)) " deepfim[error]"))
          (should (string-match-p "nonexistent" (plist-get (deepfim-status) :message)))
          ;; The server's hint, in Emacs terms.
          (should (string-match-p "`deepfim-model'.*customize-variable RET deepfim-model"
                                  (plist-get (deepfim-status) :message)))
          (should-not (string-match-p "--model" (plist-get (deepfim-status) :message)))
          (should-not (deepfim-current-suggestion))
          (deepfim-mode -1)
          (deepfim-shutdown))
      (setq deepfim--connection saved))))

(ert-deftest deepfim-reconfigure-after-the-model-is-downloaded ()
  "The README's fix for a missing model: get it (`deepfim models pull'), then
\\[deepfim-reconfigure].  With `deepfim-model' unchanged, the server did not try
again and the mode line stayed ` deepfim[error]'."
  (deepfim-test--stop-shared-server)
  (let* ((saved deepfim--connection)
         (deepfim--connection nil)
         (dir (make-temp-file "deepfim-pull-" t))
         (deepfim-model (expand-file-name "later.gguf" dir)))
    (unwind-protect
        (with-temp-buffer
          (deepfim-test--complete-into-error)
          (let ((inhibit-message t))
            (copy-file (deepfim-test--env "DEEPFIM_TEST_MODEL") deepfim-model)
            (deepfim-reconfigure)
            (deepfim-test--wait (lambda () (equal (plist-get (deepfim-status) :state) "ready"))
                                "the model downloaded meanwhile to load"))
          (deepfim-mode -1)
          (deepfim-shutdown))
      (setq deepfim--connection saved)
      (delete-directory dir t))))

(ert-deftest deepfim-eglot-messages-in-emacs-terms ()
  "Through eglot, the server's window/showMessage (a missing model) is shown in Emacs terms, not by eglot."
  (let ((eglot-server-programs (copy-sequence eglot-server-programs))
        (deepfim-server-command (append (butlast (deepfim-test--server-command) 1)
                                        (list "/nonexistent/model.gguf")))
        (shown nil)
        (notified 0))
    (deepfim-eglot-setup '(python-mode))
    (cl-flet ((record (format &rest args) (when format (push (apply #'format-message format args) shown)))
              (count (_server method &rest _) (when (eq method 'window/showMessage) (cl-incf notified))))
      (advice-add 'message :before #'record)
      (advice-add 'eglot-handle-notification :before #'count)
      (unwind-protect
          (deepfim-test--with-file deepfim-test--source
            (let ((inhibit-message t))
              (deepfim-test--start-eglot)
              (deepfim-test--wait (lambda () (> notified 0)) "the server's message"))
            (let ((messages (seq-filter (lambda (text) (string-match-p "nonexistent" text)) shown)))
              (should messages)
              (should-not (cl-some (lambda (text) (string-match-p "--model\\|\\[eglot\\]" text)) messages))
              (should (cl-some (lambda (text) (string-match-p "customize-variable RET deepfim-model" text))
                               messages))))
        (advice-remove 'message #'record)
        (advice-remove 'eglot-handle-notification #'count)))))

(ert-deftest deepfim-missing-program ()
  "A server program that cannot start gives an error state, retried only on demand."
  (let ((saved deepfim--connection)
        (deepfim--connection nil)
        (deepfim--start-failure nil)
        (deepfim-server-command '("/nonexistent/deepfim" "serve"))
        (inhibit-message t))
    (unwind-protect
        (with-temp-buffer
          (python-mode)
          (insert "x = ")
          (deepfim-mode 1)
          (deepfim-complete)
          (should (equal (plist-get (deepfim-status) :state) "error"))
          (should (string-match-p "cannot start /nonexistent/deepfim"
                                  (plist-get (deepfim-status) :message)))
          (should (string-match-p "set `deepfim-server-command' to the deepfim program.*then M-x deepfim-reconfigure"
                                  (plist-get (deepfim-status) :message)))
          (should (equal (substring-no-properties (deepfim--lighter)) " deepfim[error]"))
          (should-not deepfim--connection)
          ;; An automatic request does not try again; an invoked one does.
          (let ((starts 0))
            (cl-letf* ((start (symbol-function 'deepfim--start-connection))
                       ((symbol-function 'deepfim--start-connection)
                        (lambda () (cl-incf starts) (funcall start))))
              (deepfim--request nil)
              (should (= starts 0))
              (deepfim-complete)
              (should (= starts 1))
              ;; The user fixes `deepfim-server-command' as told and runs M-x deepfim-reconfigure
              ;; (what the messages say after fixing a setting): typing starts the server again.
              (deepfim-reconfigure)
              (should (equal (substring-no-properties (deepfim--lighter)) " deepfim[-]"))
              (deepfim--request nil)
              (should (= starts 2))))
          (deepfim-mode -1))
      (setq deepfim--connection saved))))

(ert-deftest deepfim-a-server-that-crashed-says-how-to-start-it-again ()
  "Typing does not start a server that exited again: the mode line's message said
only that it exited, not what brings it back."
  (deepfim-test--stop-shared-server)
  (let ((saved deepfim--connection)
        (deepfim--connection nil)
        (deepfim--start-failure nil)
        (inhibit-message t))
    (unwind-protect
        (deepfim-test--with-file deepfim-test--source
          (deepfim-mode 1)
          (let ((conn (deepfim--connection-for-buffer)))
            (signal-process (jsonrpc--process conn) 'kill)
            (deepfim-test--wait (lambda () (equal (plist-get (deepfim-status) :state) "error")) "the error")
            (should (string-match-p "exited (status 9).*; M-x deepfim-complete starts it again\\'"
                                    (plist-get (deepfim-status) :message)))
            (insert "with")
            (deepfim-complete)
            (should (deepfim-test--wait-suggestion))
            (should (equal (substring-no-properties (deepfim--lighter)) " deepfim[prefix-only]"))
            (deepfim-mode -1)
            (deepfim-shutdown)))
      (setq deepfim--connection saved))))

(ert-deftest deepfim-server-exiting-at-start ()
  "A server that exits before answering `initialize' (a broken install) does not
freeze Emacs: `deepfim-edit' (and `deepfim-explain') give up at once, not after 30 s."
  (let ((saved deepfim--connection)
        (deepfim--connection nil)
        (deepfim--start-failure nil)
        (deepfim-server-command '("sh" "-c" "echo 'ImportError: no llama_cpp' >&2; exit 3"))
        (inhibit-message t))
    (unwind-protect
        (with-temp-buffer
          (python-mode)
          (insert "x = ")
          (deepfim-mode 1)
          (let ((start (float-time)))
            (should-error (deepfim-edit (point-min) (point-max) "Rename x.") :type 'user-error)
            (should (< (- (float-time) start) 10)))
          ;; `deepfim-explain' says so and why, rather than \"No completion was served ... yet\".
          (let ((error (should-error (deepfim-explain) :type 'user-error)))
            (should (string-match-p "^deepfim: no server: .+" (cadr error))))
          (should (equal (plist-get (deepfim-status) :state) "error"))
          (deepfim-mode -1))
      (setq deepfim--connection saved))))

(ert-deftest deepfim-server-exiting-at-start-names-its-stderr ()
  "A server that exits before answering `initialize' is reported with its exit
status, the last line of its error output (jsonrpc hides the buffer holding it)
and that buffer, not as \"Server died\"."
  (let ((saved deepfim--connection)
        (deepfim--connection nil)
        (deepfim--start-failure nil)
        ;; Exits once `initialize' is sent (as Python does after its imports).
        (deepfim-server-command '("sh" "-c" "head -c 1 >/dev/null; echo 'ImportError: no llama_cpp' >&2; exit 3"))
        (shown nil))
    (unwind-protect
        (with-temp-buffer
          (python-mode)
          (insert "x = ")
          (deepfim-mode 1)
          (cl-letf (((symbol-function 'message)
                     (lambda (format &rest args) (when format (push (apply #'format-message format args) shown)))))
            (deepfim-complete)
            (deepfim-test--wait (lambda () (equal (plist-get (deepfim-status) :state) "error")) "the error"))
          (let ((text (plist-get (deepfim-status) :message)))
            (should (string-match-p "exited (status 3): ImportError: no llama_cpp; see the buffer" text))
            (should (member (concat "deepfim: " text) shown))
            ;; The buffer it names holds the server's error output.
            (should (string-match "see the buffer `\\([^']+\\)'" text))
            (should (string-match-p "ImportError" (with-current-buffer (match-string 1 text) (buffer-string)))))
          (should-not (cl-some (lambda (line) (string-match-p "Server died" line)) shown))
          ;; The server's own words are shown as they are: an option in `deepfim-server-command'
          ;; is not a setting (\"--model\" there is not `deepfim-model').
          (let ((deepfim-server-command
                 '("sh" "-c" "head -c 1 >/dev/null; echo 'deepfim serve: error: argument --model: expected one \
argument' >&2; exit 2"))
                (inhibit-message t))
            (deepfim-complete)
            (deepfim-test--wait (lambda () (string-match-p "status 2" (or (plist-get (deepfim-status) :message) "")))
                                "the second exit")
            (should (string-match-p "argument --model: expected one argument; see the buffer"
                                    (plist-get (deepfim-status) :message)))
            (should-not (string-match-p "deepfim-model" (plist-get (deepfim-status) :message))))
          (deepfim-mode -1))
      (setq deepfim--connection saved))))

(provide 'deepfim-tests)
;;; deepfim-tests.el ends here

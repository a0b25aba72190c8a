;;; deepfim.el --- Local fill-in-the-middle code completion: ghost text and eglot -*- lexical-binding: t; -*-

;; Copyright (C) The deepfim authors

;; Author: The deepfim authors
;; Maintainer: The deepfim authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (jsonrpc "1.0.14"))
;; Keywords: convenience, languages, tools

;; This file is not part of GNU Emacs.

;; SPDX-License-Identifier: MIT
;; Licensed under the MIT license, as the rest of deepfim.

;;; Commentary:

;; deepfim is a language server (`deepfim serve') that runs a local
;; fill-in-the-middle code model and answers LSP completion requests.
;; This package connects Emacs to it in two ways, which can be combined:
;;
;; 1. Plain eglot.  `(deepfim-eglot-setup)' makes eglot run
;;    `deepfim serve' for the major modes in `deepfim-modes'.  The
;;    completion then arrives through `completion-at-point' (the default
;;    UI, company, corfu...), as a single candidate whose multi-line text
;;    is inserted as is.  The equivalent one-line configuration is
;;
;;      (add-to-list 'eglot-server-programs
;;                   '((python-mode python-ts-mode) "deepfim" "serve"))
;;
;; 2. `deepfim-mode', a minor mode showing the suggestion as "ghost
;;    text" after the cursor, requested when Emacs is idle after typing
;;    (`deepfim-idle-delay') or by `deepfim-complete'.  While a suggestion
;;    is shown, TAB accepts it (`deepfim-accept'), M-f / C-<right> accept
;;    one word, M-<return> accepts one line, M-n / M-p cycle, and C-g
;;    dismisses it.  Typing the characters of the suggestion keeps the
;;    rest of it shown; moving away or typing something else clears it.
;;
;;    When the buffer's eglot server is a deepfim server, `deepfim-mode'
;;    uses that connection.  Otherwise it runs its own JSON-RPC
;;    connection to `deepfim serve' (one per Emacs session) and keeps
;;    the buffer's text in sync itself, so it works alongside any other
;;    language server that eglot runs for the buffer (pylsp, pyright,
;;    clangd...) or without eglot at all.
;;
;; `deepfim-explain' shows the prompt of the last completion (its
;; segments, token counts and timings) in a buffer.  The mode line shows
;; the server's state: " deepfim" (ready), " deepfim[loading 40%]",
;; " deepfim[reading 40%]" (a long window being read before the first suggestion),
;; " deepfim[error]" or " deepfim[off]".
;;
;; Quick start:
;;
;;   (add-to-list 'load-path "/path/to/deepfim/editors/emacs")
;;   (require 'deepfim)
;;   (add-hook 'prog-mode-hook #'deepfim-mode)
;;
;; See `M-x customize-group RET deepfim' for the settings.

;;; Code:

(require 'cl-lib)
(require 'jsonrpc)
(require 'seq)
(require 'subr-x)
(require 'url-util)

(defconst deepfim-version "0.1.0"
  "Version of the deepfim Emacs package.")

;; eglot is optional: these are only called once it is loaded.
(defvar eglot-server-programs)
(defvar eglot--managed-mode)
(defvar eglot--servers-by-project)
(declare-function eglot-current-server "eglot" ())
(declare-function eglot--server-info "eglot" (server))
(declare-function eglot--TextDocumentPositionParams "eglot" ())
(declare-function eglot--TextDocumentIdentifier "eglot" ())
(declare-function eglot--signal-textDocument/didChange "eglot" ())
(declare-function project-root "project" (project))
(defvar deepfim-mode)
(declare-function project-current "project" (&optional maybe-prompt directory))


;;; Customization

(defgroup deepfim nil
  "Local fill-in-the-middle code completion with the deepfim language server."
  :group 'tools
  :group 'convenience
  :prefix "deepfim-")

(defcustom deepfim-server-command '("deepfim" "serve")
  "Command that starts the deepfim language server, as a list of strings.
The first element is the program, the rest are its arguments, for
example (\"~/src/deepfim/.venv/bin/deepfim\" \"serve\" \"--model\"
\"~/models/deepseek-coder-1.3b-base.Q4_K_M.gguf\")."
  :type '(repeat string))

(defcustom deepfim-model nil
  "Model for the server: a path to a .gguf file or a catalog name.
nil leaves the choice to the server (its --model argument,
$DEEPFIM_MODEL, then the catalog default).  Sent as the `model'
setting when the server starts."
  :type '(choice (const :tag "Server default" nil)
                 (string :tag "Path or catalog name")))

(defcustom deepfim-max-tokens nil
  "Most tokens generated per completion; nil for the server default."
  :type '(choice (const :tag "Server default" nil) natnum))

(defconst deepfim-server-settings
  '(:model :maxTokens :contextSize :threads :timeBudgetMs :enabled :logText :lineInPrefix
    :contextBeforeBos :firstAnswerMs :lookupDecoding :singleLine :installedPackages :engine
    :engineApi :engineModel :gpuLayers
    :flashAttention :kvCacheType :instructModel :instructEngine :instructEngineApi)
  "The settings the server reads (its schema is server/settings.py).")

(defconst deepfim--boolean-settings
  '(:enabled :logText :lineInPrefix :contextBeforeBos :lookupDecoding :singleLine
    :installedPackages)
  "The server's boolean settings: nil in `deepfim-settings' is sent as false.")

(defcustom deepfim-settings nil
  "Further server settings, a plist sent with the ones above.
Keys are the server's setting names as keywords (see
`deepfim-server-settings'), for example
\(:contextSize 8192 :threads 4 :timeBudgetMs 3000).
For the boolean settings (:enabled, :logText, :lineInPrefix,
:contextBeforeBos, :lookupDecoding, :singleLine and
:installedPackages), nil is sent as false, as in
\(:lookupDecoding nil); for the others nil is sent as
null, as is every setting not given: the value `deepfim serve' was
started with (a --set in `deepfim-server-command'), else the server's
default."
  :type `(plist :key-type (choice ,@(mapcar (lambda (key) `(const ,key)) deepfim-server-settings))
                :value-type sexp))

(defcustom deepfim-modes
  '(python-mode python-ts-mode
    c-mode c-ts-mode c++-mode c++-ts-mode
    js-mode js-ts-mode typescript-mode typescript-ts-mode tsx-ts-mode
    go-mode go-ts-mode rust-mode rust-ts-mode java-mode java-ts-mode
    sh-mode bash-ts-mode lua-mode ruby-mode ruby-ts-mode)
  "Major modes for which `deepfim-eglot-setup' makes eglot run deepfim.
`global-deepfim-mode' also turns `deepfim-mode' on in buffers
whose major mode derives from one of these."
  :type '(repeat symbol))

(defcustom deepfim-idle-delay 0.3
  "Seconds of idle time after typing before a suggestion is requested."
  :type 'number)

(defcustom deepfim-auto-trigger t
  "When non-nil, request suggestions on idle after typing.
When nil, suggestions are only requested by `deepfim-complete'."
  :type 'boolean)

(defcustom deepfim-use-eglot t
  "When non-nil, use the buffer's eglot connection if it is a deepfim server.
When nil, `deepfim-mode' always runs its own connection."
  :type 'boolean)

(defcustom deepfim-request-timeout 60
  "Seconds to wait for a suggestion (the first one waits for the model)."
  :type 'number)

(defcustom deepfim-events-buffer-size 0
  "Size of the JSON-RPC events buffer of deepfim's own connection.
0 disables the log (the default: it would hold the source text);
nil keeps everything.  Takes effect when the connection starts."
  :type '(choice (const :tag "Unlimited" nil) natnum))

(defcustom deepfim-no-trigger-commands
  '(undo undo-only undo-redo undo-tree-undo undo-tree-redo
    deepfim-accept deepfim-accept-word deepfim-accept-line)
  "Commands after which no suggestion is requested even though they edit."
  :type '(repeat symbol))

(defface deepfim-ghost-face
  '((t :inherit shadow))
  "Face of the suggestion shown after the cursor.")


;;; Small helpers

(defun deepfim--settings ()
  "The settings object sent to the server: a plist of every key in
`deepfim-server-settings'.  A setting set nowhere is sent as null, which
the server takes as the value `deepfim serve' was started with (a --set
or --model in `deepfim-server-command'), else its default: a setting
removed, or set back to nil, goes back to it at \\[deepfim-reconfigure].
nil for a boolean setting in `deepfim-settings' is sent as false."
  (cl-loop for key in deepfim-server-settings
           nconc (list key (cond ((and (eq key :model) deepfim-model) (deepfim--expand-model deepfim-model))
                                 ((and (eq key :maxTokens) deepfim-max-tokens))
                                 ((and (memq key deepfim--boolean-settings)
                                       (plist-member deepfim-settings key)
                                       (null (plist-get deepfim-settings key)))
                                  :json-false)
                                 (t (plist-get deepfim-settings key))))))

(defun deepfim--expand-model (name)
  "NAME expanded when it looks like a path, else NAME (a catalog name)."
  (if (or (string-match-p "/" name) (string-suffix-p ".gguf" name))
      (expand-file-name name)
    name))

(defun deepfim--path-uri (path)
  "The file URI of PATH."
  (concat "file://" (url-hexify-string (expand-file-name path) url-path-allowed-chars)))

(defun deepfim--uri-file (uri)
  "The file name of the file URI (its %-escapes are UTF-8 bytes)."
  (decode-coding-string (url-unhex-string (string-remove-prefix "file://" uri)) 'utf-8))

(defun deepfim--server-command ()
  "`deepfim-server-command' with a leading ~/ of its elements expanded."
  (unless (and (consp deepfim-server-command) (cl-every #'stringp deepfim-server-command))
    (user-error "deepfim: `deepfim-server-command' must be a list of strings"))
  (mapcar (lambda (arg) (if (string-prefix-p "~/" arg) (expand-file-name arg) arg))
          deepfim-server-command))

(defun deepfim--utf16-length (string)
  "Length of STRING in UTF-16 code units."
  (let ((n 0))
    (dotimes (i (length string))
      (setq n (+ n (if (> (aref string i) #xFFFF) 2 1))))
    n))

(defun deepfim--lsp-position (&optional pos)
  "LSP position (zero-based line, UTF-16 character) of POS.
LSP lines also end at a lone carriage return, where Emacs lines do not."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char (or pos (point)))
      (let ((pos (point))
            (line (1- (line-number-at-pos nil t)))
            (bol (line-beginning-position)))
        (goto-char (point-min))
        (while (search-forward "\r" pos t)
          (unless (eq (char-after) ?\n)
            (setq line (1+ line)
                  bol (max bol (point)))))
        (list :line line
              :character (deepfim--utf16-length (buffer-substring-no-properties bol pos)))))))

(defun deepfim--position-to-point (position)
  "Buffer position of the LSP POSITION plist (see `deepfim--lsp-position')."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char (point-min))
      (let ((line (plist-get position :line)))
        (if (not (search-forward "\r" nil t))
            (forward-line line)
          (goto-char (point-min))
          (while (and (> line 0) (re-search-forward "\r\n?\\|\n" nil 'move))
            (setq line (1- line)))))
      (let ((units (plist-get position :character))
            (eol (save-excursion (if (re-search-forward "\r\\|\n" nil 'move) (1- (point)) (point)))))
        (while (and (> units 0) (< (point) eol))
          (setq units (- units (if (> (char-after) #xFFFF) 2 1)))
          (forward-char 1))
        (point)))))

(defun deepfim--uri ()
  "The URI of the current buffer's document."
  (let ((file (or buffer-file-name
                  (and (buffer-base-buffer) (buffer-file-name (buffer-base-buffer))))))
    (if file
        (deepfim--path-uri file)
      (concat "untitled:" (url-hexify-string (buffer-name) url-path-allowed-chars)))))

(defun deepfim--language-id ()
  "The LSP language id of the current buffer, from its major mode."
  (let ((name (symbol-name major-mode)))
    (setq name (replace-regexp-in-string "\\(-ts\\)?-mode\\'" "" name))
    (pcase name
      ("c++" "cpp") ("js" "javascript") ("tsx" "typescriptreact")
      ("sh" "shellscript") ("bash" "shellscript") ("emacs-lisp" "elisp")
      (_ name))))

(defun deepfim--root ()
  "The project root of the current buffer, or its directory."
  (expand-file-name
   (or (ignore-errors
         (when-let* ((project (and (fboundp 'project-current) (project-current))))
           (project-root project)))
       default-directory)))


;;; Server state (the mode line)

(defvar deepfim--statuses (make-hash-table :test #'eq :weakness 'key)
  "Map a connection (own or eglot) to the last `deepfim/status' plist.")

(defun deepfim--keys-regexp (predicate)
  "A regexp matching the server's setting names that satisfy PREDICATE (group 1)."
  (regexp-opt (seq-filter predicate (mapcar (lambda (key) (substring (symbol-name key) 1))
                                            deepfim-server-settings))
              t))

(defconst deepfim--hint-rewrites
  `(("\\bpass --model with " . "set `deepfim-model' to ")
    ("\\bpass --model \\([^ ;,]+\\)" . "set `deepfim-model' to \"\\1\"")
    ("\\bpass --model\\b" . "set `deepfim-model'")
    ("\\bset \\(?:the \\)?model\\b" . "set `deepfim-model'")
    ("--model\\b" . "`deepfim-model'")
    ;; "set contextSize lower", "set instructModel to a smaller model" (any key but model)
    (,(concat "\\bset `?" (deepfim--keys-regexp (lambda (name) (not (equal name "model")))) "\\b`?")
     . "set :\\1 in `deepfim-settings'")
    ;; "check the engine URL and engineApi", "set model, or instructModel for ..." (camel-cased keys)
    (,(concat "\\b\\(and\\|or\\) " (deepfim--keys-regexp (lambda (name) (not (equal name (downcase name)))))
              "\\b")
     . "\\1 :\\2 in `deepfim-settings'")
    ;; The server's warning for a refused value: "setting maxTokens: 0 is not accepted; ..."
    ("\\bsetting maxTokens:" . "setting :maxTokens (`deepfim-max-tokens' or `deepfim-settings'):")
    ("\\bsetting model:" . "setting `deepfim-model':")
    ("\\bsetting \\([a-z][A-Za-z]*\\):" . "setting :\\1 in `deepfim-settings':"))
  "The server's command-line hints (regexps) and their Emacs terms.")

(defun deepfim--emacs-hint (message)
  "MESSAGE from the server with its hints in Emacs terms.
\"pass --model PATH\" and \"set model\" become `deepfim-model', and
a sentence says how to set it; the other setting keys (\"set
contextSize\", \"or instructModel\") become keys of `deepfim-settings'."
  (let ((case-fold-search nil)
        (text message))
    (dolist (rule deepfim--hint-rewrites)
      (setq text (replace-regexp-in-string (car rule) (cdr rule) text t)))
    (if (and (not (equal text message)) (string-match-p "`deepfim-model'" text))
        (concat (replace-regexp-in-string "[. ]*\\'" "" text)
                ".  In Emacs: M-x customize-variable RET deepfim-model RET, or"
                " (setq deepfim-model \"/path/to/model.gguf\") in your init file;"
                " then M-x deepfim-reconfigure")
      text)))

(defun deepfim--show-message (params)
  "Show the `window/showMessage' PARAMS of a deepfim server in Emacs terms."
  (let ((text (deepfim--emacs-hint (format "%s" (plist-get params :message)))))
    (message "%s" (if (eql (plist-get params :type) 1) (propertize text 'face 'error) text))))

(defun deepfim--mode-line-escape (string)
  "STRING with each % doubled, so that the mode line shows it as is."
  (string-replace "%" "%%" string))

(defun deepfim--set-status (connection status)
  "Record CONNECTION's STATUS and refresh the mode lines.
The message is put in Emacs terms (`deepfim--emacs-hint'), unless STATUS
has :as-is (text that quotes the server's command line)."
  (let ((old (gethash connection deepfim--statuses))
        (text (plist-get status :message)))
    (when (and (stringp text) (not (plist-get status :as-is)))
      (setq status (plist-put (copy-sequence status) :message (deepfim--emacs-hint text))))
    ;; "deepfim ready: m (prefix-only template, ...)"; other messages ("enabled") keep what it was.
    (setq status (plist-put (copy-sequence status) :prefix-only
                            (if (and (stringp text) (string-match "(\\([^ ,()]+\\) template" text))
                                (equal (match-string 1 text) "prefix-only")
                              (plist-get old :prefix-only))))
    (puthash connection status deepfim--statuses))
  (force-mode-line-update t))

(defun deepfim--fail (connection message &optional as-is)
  "Record that CONNECTION failed with MESSAGE, and say so in the echo area.
For failures Emacs sees itself; the server tells its own (`window/showMessage'),
once per cause, and its `deepfim/status' only sets the mode line.
AS-IS: MESSAGE is not put in Emacs terms (see `deepfim--set-status')."
  (let ((old (gethash connection deepfim--statuses)))
    (deepfim--set-status connection (append (list :state "error" :message message) (and as-is '(:as-is t))))
    (unless (equal old (gethash connection deepfim--statuses))
      (message "deepfim: %s" (plist-get (gethash connection deepfim--statuses) :message)))))

(defun deepfim--eglot-server ()
  "The buffer's eglot server when it is a deepfim server, else nil."
  (when (and deepfim-use-eglot (featurep 'eglot) (bound-and-true-p eglot--managed-mode))
    (let ((server (ignore-errors (eglot-current-server))))
      (and server (deepfim--deepfim-server-p server) server))))

(defun deepfim--deepfim-server-p (server)
  "Non-nil when the eglot SERVER is a deepfim server."
  (equal (plist-get (ignore-errors (eglot--server-info server)) :name) "deepfim"))

(defvar deepfim--connection nil
  "deepfim's own connection to `deepfim serve', shared by all buffers.")

(defvar deepfim--start-failure nil
  "Status plist of the own server's last failed start or exit, or nil.
Automatic requests do not restart a server that failed; `deepfim-complete' does.")

(defvar-local deepfim--doc-connection nil
  "The own connection the buffer's document is open in, or nil.")

(defun deepfim-status ()
  "The last `deepfim/status' of the current buffer's server, or nil.
A plist with :state (\"loading\", \"reading\", \"ready\", \"error\" or \"disabled\"),
:message, :prefix-only (non-nil for a model without fill-in-the-middle
tokens) and maybe :percentage and :model."
  (let ((connection (or (deepfim--eglot-server)
                        deepfim--doc-connection
                        deepfim--connection)))
    (or (and connection (gethash connection deepfim--statuses))
        deepfim--start-failure)))

(defun deepfim--lighter ()
  "The mode-line lighter of `deepfim-mode' (a mode-line construct: % doubled)."
  (let* ((status (deepfim-status))
         (state (plist-get status :state))
         (help (or (plist-get status :message) "deepfim: not started")))
    (propertize
     (deepfim--mode-line-escape
      (pcase state
        ((or "loading" "reading")
         (let ((percent (plist-get status :percentage)))
           (if percent (format " deepfim[%s %d%%]" state percent) (format " deepfim[%s]" state))))
        ("error" " deepfim[error]")
        ("disabled" " deepfim[off]")
        ("ready" (if (plist-get status :prefix-only) " deepfim[prefix-only]" " deepfim"))
        ;; Not started yet (it starts on the first completion), or stopped.
        (_ " deepfim[-]")))
     'face (if (equal state "error") 'error nil)
     'help-echo help)))


;;; eglot integration

;;;###autoload
(defun deepfim-eglot-contact (&optional _interactive _project)
  "The eglot contact for deepfim: the server command and its settings."
  (append (deepfim--server-command)
          (list :initializationOptions (deepfim--settings))))

;;;###autoload
(defun deepfim-eglot-setup (&optional modes)
  "Make eglot run `deepfim serve' for MODES (a list; default `deepfim-modes').
The entry goes first in `eglot-server-programs', so it replaces any
other server for these modes; completions then arrive through
`completion-at-point'.  Use `deepfim-mode' instead to keep another
language server and see suggestions as ghost text."
  (interactive)
  (require 'eglot)
  (let ((modes (or modes deepfim-modes)))
    (setq eglot-server-programs
          (cons (cons modes #'deepfim-eglot-contact)
                (cl-remove-if (lambda (entry) (eq (cdr-safe entry) #'deepfim-eglot-contact))
                              eglot-server-programs)))
    modes))

(defun deepfim--eglot-status (server params)
  "Handle a `deepfim/status' notification PARAMS from the eglot SERVER."
  (deepfim--set-status server params))

(with-eval-after-load 'eglot
  (cl-defmethod eglot-handle-notification
    (server (_method (eql deepfim/status)) &rest params)
    "Record deepfim's server state for the mode line."
    (deepfim--eglot-status server params))
  (cl-defmethod eglot-handle-notification :around
    (server (_method (eql window/showMessage)) &rest params)
    "Show a deepfim server's messages in Emacs terms, other servers' as eglot does."
    (if (deepfim--deepfim-server-p server)
        (deepfim--show-message params)
      (cl-call-next-method))))


;;; deepfim's own connection

(defclass deepfim-connection (jsonrpc-process-connection)
  ((ready :initform nil :accessor deepfim--ready
          :documentation "Non-nil once `initialized' was sent.")
   (queue :initform nil :accessor deepfim--queue
          :documentation "Functions waiting for the connection to be ready.")
   (buffers :initform nil :accessor deepfim--buffers
            :documentation "Buffers whose document is open in this connection.")
   (folders :initform nil :accessor deepfim--folders
            :documentation "The workspace folders sent to the server (directory names).")
   (capabilities :initform nil :accessor deepfim--capabilities))
  :documentation "deepfim's own JSON-RPC connection to `deepfim serve'.")

(defun deepfim--live-connection ()
  "The own connection if it is running, else nil."
  (and deepfim--connection
       (jsonrpc-running-p deepfim--connection)
       deepfim--connection))

(defun deepfim--start-connection ()
  "Start `deepfim serve' and initialize it; return the connection."
  (let* ((name "deepfim")
         (command (deepfim--server-command))
         (root (deepfim--root))
         (_ (unless (executable-find (car command))
              ;; Checked here: writing to a process that failed to start
              ;; can kill a batch Emacs with SIGPIPE.
              ;; (`error' formats with `format-message': its own quotes would turn curly.)
              (error "%s" (format "No such program: %s (set `deepfim-server-command' to the \
deepfim program, e.g. (\"~/src/deepfim/.venv/bin/deepfim\" \"serve\"), then M-x deepfim-reconfigure)"
                                  (car command)))))
         (conn
          (make-instance
           'deepfim-connection
           :name name
           :process (lambda ()
                      (make-process
                       :name name
                       :command command
                       :connection-type 'pipe
                       :coding 'utf-8-emacs-unix
                       :noquery t
                       :file-handler nil
                       :stderr (get-buffer-create (format "*%s stderr*" name))))
           :notification-dispatcher #'deepfim--handle-notification
           :request-dispatcher #'deepfim--handle-request
           :on-shutdown #'deepfim--on-shutdown)))
    (cond ((slot-exists-p conn '-events-buffer-scrollback-size)
           (setf (slot-value conn '-events-buffer-scrollback-size) deepfim-events-buffer-size))
          ((slot-exists-p conn '-events-buffer-config)
           (setf (slot-value conn '-events-buffer-config)
                 (list :size deepfim-events-buffer-size :format 'full))))
    (setq deepfim--connection conn)
    (setf (deepfim--folders conn) (list (file-name-as-directory root)))
    (deepfim--set-status conn (list :state "loading" :message "starting the server"))
    (jsonrpc-async-request
     conn :initialize
     (list :processId (emacs-pid)
           :clientInfo (list :name "deepfim.el" :version deepfim-version)
           :rootUri (deepfim--path-uri (directory-file-name root))
           :workspaceFolders (vector (deepfim--folder root))
           :capabilities (list :textDocument
                               (list :synchronization (list :dynamicRegistration :json-false
                                                            :didSave :json-false)
                                     :inlineCompletion (list :dynamicRegistration :json-false))
                               :window (list :workDoneProgress :json-false
                                             :showMessage (make-hash-table)
                                             :showDocument (list :support t))
                               :workspace (list :applyEdit t
                                                :workspaceFolders t
                                                :workspaceEdit (list :documentChanges t
                                                                     :resourceOperations ["create"])))
           :initializationOptions (deepfim--settings))
     :success-fn (lambda (result)
                   (setf (deepfim--capabilities conn) (plist-get result :capabilities))
                   (jsonrpc-notify conn :initialized (make-hash-table))
                   (setf (deepfim--ready conn) t)
                   (let ((queue (reverse (deepfim--queue conn))))
                     (setf (deepfim--queue conn) nil)
                     (dolist (fn queue) (funcall fn conn))))
     :error-fn (lambda (error)
                 ;; A server that died: `deepfim--on-shutdown' says so, naming its stderr buffer.
                 (when (jsonrpc-running-p conn)
                   (deepfim--fail conn (format "initialize failed: %s" (plist-get error :message)))))
     :timeout-fn (lambda ()
                   (deepfim--fail conn "the server did not answer `initialize'"))
     :timeout 60)
    conn))

(defun deepfim--folder (directory)
  "The LSP WorkspaceFolder of DIRECTORY."
  (list :uri (deepfim--path-uri (directory-file-name directory))
        :name (file-name-nondirectory (directory-file-name directory))))

(defun deepfim--add-folder (conn)
  "Make the current file's project a workspace folder of CONN, if it is not in one.
One connection serves every buffer of the session: without this, files of
the projects visited after the first one had no repository context.
Folders inside the new one are replaced by it."
  (when buffer-file-name
    (let* ((root (file-name-as-directory (deepfim--root)))
           (folders (deepfim--folders conn)))
      (unless (cl-some (lambda (folder) (string-prefix-p folder root)) folders)
        (let ((inside (seq-filter (lambda (folder) (string-prefix-p root folder)) folders)))
          (setf (deepfim--folders conn) (cons root (seq-difference folders inside)))
          (jsonrpc-notify conn :workspace/didChangeWorkspaceFolders
                          (list :event (list :added (vector (deepfim--folder root))
                                             :removed (vconcat (mapcar #'deepfim--folder inside))))))))))

(defun deepfim--with-connection (fn &optional retry)
  "Call FN with the own connection once it is ready, starting it if needed.
After a failed start, only try again when RETRY is non-nil."
  (let ((conn (or (deepfim--live-connection)
                  (when (or retry (not deepfim--start-failure))
                    (condition-case err
                        (prog1 (deepfim--start-connection)
                          (setq deepfim--start-failure nil))
                      (error
                       (setq deepfim--connection nil
                             deepfim--start-failure
                             (list :state "error"
                                   :message (format "cannot start %s: %s"
                                                    (car deepfim-server-command)
                                                    (error-message-string err))))
                       (message "deepfim: %s" (plist-get deepfim--start-failure :message))
                       (force-mode-line-update t)
                       nil))))))
    (when conn
      (if (deepfim--ready conn)
          (funcall fn conn)
        (push fn (deepfim--queue conn))))))

(defun deepfim--handle-notification (conn method params)
  "Handle the notification METHOD with PARAMS from the own connection CONN."
  (pcase method
    ('deepfim/status (deepfim--set-status conn params))
    ('window/showMessage (deepfim--show-message params))
    (_ nil)))

(defun deepfim--handle-request (_conn method params)
  "Answer the request METHOD with PARAMS from the server."
  (pcase method
    ('window/workDoneProgress/create nil)
    ('client/registerCapability nil)
    ('client/unregisterCapability nil)
    ('window/showMessageRequest nil)
    ('workspace/applyEdit (deepfim--apply-edit (plist-get params :edit)))
    ('window/showDocument
     (let ((file (deepfim--uri-file (plist-get params :uri))))
       (display-buffer (find-file-noselect file))
       (list :success t)))
    ('workspace/configuration
     (vconcat (mapcar (lambda (_item) (deepfim--settings)) (plist-get params :items))))
    (_ (jsonrpc-error :code -32601 :message (format "Unsupported method %s" method)))))

(defun deepfim--last-line (buffer)
  "The last non-blank line of BUFFER (at most 200 characters), or nil.
For a server that exited, the error it printed last (a Python traceback
ends with the exception): jsonrpc hides its stderr buffer (its name
starts with a space), so the reason is put in the message itself."
  (when (buffer-live-p buffer)
    (with-current-buffer buffer
      (save-excursion
        (goto-char (point-max))
        (skip-chars-backward " \t\n")
        (let ((line (string-trim (buffer-substring-no-properties (line-beginning-position) (point)))))
          (unless (string-empty-p line)
            (truncate-string-to-width line 200 nil nil "...")))))))

(defun deepfim--on-shutdown (conn)
  "Forget documents opened in CONN, which has exited."
  (dolist (buffer (deepfim--buffers conn))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (when (eq deepfim--doc-connection conn)
          (setq deepfim--doc-connection nil)))))
  (setf (deepfim--buffers conn) nil)
  (let ((status (gethash conn deepfim--statuses)))
    (unless (equal (plist-get status :state) "stopped")
      (unless (equal (plist-get status :state) "error")
        (let ((stderr (ignore-errors (jsonrpc-stderr-buffer conn))))
          (deepfim--fail conn (format "the server exited (status %s)%s; see the buffer `%s'%s"
                                      (ignore-errors (process-exit-status (jsonrpc--process conn)))
                                      (let ((last (deepfim--last-line stderr)))
                                        (if last (concat ": " last) ""))
                                      (ignore-errors (buffer-name stderr))
                                      ;; One that was serving: typing does not start it again (a
                                      ;; broken one would start and exit at each pause).
                                      (if (deepfim--ready conn) "; M-x deepfim-complete starts it again" ""))
                              ;; Its own words: "argument --model: expected one argument" is about
                              ;; `deepfim-server-command', not `deepfim-model'.
                              t))
        (setq status (gethash conn deepfim--statuses)))
      (setq deepfim--start-failure status))))

(defun deepfim-shutdown ()
  "Stop deepfim's own server process (eglot's servers are left alone)."
  (interactive)
  (when-let* ((conn (deepfim--live-connection)))
    (deepfim--set-status conn (list :state "stopped" :message "deepfim: stopped"))
    (ignore-errors (jsonrpc-request conn :shutdown nil :timeout 5))
    (ignore-errors (jsonrpc-notify conn :exit nil))
    (let ((deadline (+ (float-time) 3)))
      (while (and (jsonrpc-running-p conn) (< (float-time) deadline))
        (accept-process-output nil 0.05)))
    (ignore-errors (jsonrpc-shutdown conn t))
    (setq deepfim--connection nil
          deepfim--start-failure nil)))

(defun deepfim-reconfigure ()
  "Send the current settings (`deepfim-model' and friends) to the servers.
Changing the model makes the server load the new one.  When deepfim's own
server failed to start or exited, the next completion starts it again
\(with `deepfim-server-command' as it is now)."
  (interactive)
  (let ((params (list :settings (list :deepfim (deepfim--settings)))))
    (if-let* ((conn (deepfim--live-connection)))
        (jsonrpc-notify conn :workspace/didChangeConfiguration params)
      (when deepfim--start-failure
        ;; Automatic requests do not restart a server that failed: after a fix, they may.
        (setq deepfim--start-failure nil)
        (force-mode-line-update t)
        (message "deepfim: the server starts with these settings at the next completion")))
    ;; Every eglot deepfim server, not only the current buffer's: M-x deepfim-reconfigure is
    ;; typically run from the init file just edited, which no server manages.
    (dolist (server (deepfim--eglot-servers))
      (jsonrpc-notify server :workspace/didChangeConfiguration params))))

(defun deepfim--eglot-servers ()
  "The running eglot servers that are deepfim servers, in all projects."
  (when (and (featurep 'eglot) (boundp 'eglot--servers-by-project))
    (let (servers)
      (maphash (lambda (_project list)
                 (dolist (server list)
                   (when (and (deepfim--deepfim-server-p server) (jsonrpc-running-p server))
                     (cl-pushnew server servers))))
               eglot--servers-by-project)
      (nreverse servers))))

;;;; Document synchronization (own connection only; incremental)

;; Each change is recorded as an LSP range (UTF-16 positions, taken in
;; `before-change-functions' while the old text is still there) and the
;; new text of that range (taken in `after-change-functions'); the
;; changes not yet sent go in order in one `didChange'.  Whenever that
;; record cannot be trusted (a change made with the modification hooks
;; inhibited, a before/after pair that does not match, too many pending
;; changes, a server that does not take incremental changes), the whole
;; text is sent instead.

(defvar-local deepfim--doc-version 0
  "Version of the buffer's document last sent to the own connection.")

(defvar-local deepfim--doc-changes nil
  "Changes not yet sent, newest first, or `full' to send the whole text.
Each change is a TextDocumentContentChangeEvent plist (:range :text).")

(defvar-local deepfim--doc-tick nil
  "`buffer-chars-modified-tick' of the server's text once the changes are sent.
Any other tick means the buffer changed unseen: the whole text is sent.")

(defvar-local deepfim--before-change nil
  "(BEG END LSP-BEG LSP-END) of the change under way, or nil.")

(defvar-local deepfim--doc-uri nil
  "URI the document was opened with.")

(defconst deepfim--max-pending-changes 100
  "More pending changes than this are sent as the whole text.")

(defun deepfim--before-change (beg end)
  "Record the LSP positions of BEG and END before they change."
  (when deepfim--doc-connection
    (setq deepfim--before-change nil)
    (cond ((eq deepfim--doc-changes 'full))
          ((not (eql deepfim--doc-tick (buffer-chars-modified-tick)))
           (setq deepfim--doc-changes 'full))   ; changed without the hooks
          (t (let ((start (deepfim--lsp-position beg)))
               (setq deepfim--before-change
                     (list beg end start (if (= beg end) start (deepfim--lsp-position end)))))))))

(defun deepfim--after-change (beg end old-length)
  "Record the change of OLD-LENGTH characters at BEG into the text BEG..END."
  (when deepfim--doc-connection
    (let ((before deepfim--before-change)
          (tick (buffer-chars-modified-tick)))
      (setq deepfim--before-change nil)
      (cond
       ((eq deepfim--doc-changes 'full))
       ((eql tick deepfim--doc-tick))       ; text properties only
       ((null before) (setq deepfim--doc-changes 'full))
       (t
        (pcase-let* ((`(,old-beg ,old-end ,start ,stop) before)
                     (new-end (+ old-end (- end beg old-length))))
          ;; `before-change-functions' may get a larger region than the
          ;; one changed (`capitalize-word'); around the change the text
          ;; is the same, so the new text of the whole region is sent.
          (if (and (<= old-beg beg) (<= (+ beg old-length) old-end)
                   (< (length deepfim--doc-changes) deepfim--max-pending-changes))
              (setq deepfim--doc-changes
                    (cons (list :range (list :start start :end stop)
                                :text (save-restriction
                                        (widen)
                                        (buffer-substring-no-properties old-beg new-end)))
                          deepfim--doc-changes)
                    deepfim--doc-tick tick)
            (setq deepfim--doc-changes 'full))))))))

(defun deepfim--buffer-text ()
  "The whole buffer's text."
  (save-restriction (widen) (buffer-substring-no-properties (point-min) (point-max))))

(defun deepfim--incremental-p (conn)
  "Non-nil when CONN's server takes incremental document changes."
  (let ((sync (plist-get (deepfim--capabilities conn) :textDocumentSync)))
    (eql 2 (if (numberp sync) sync (plist-get sync :change)))))

(defun deepfim--text-shared-p ()
  "Non-nil when another buffer shares the current buffer's text (indirect buffers)."
  (or (buffer-base-buffer)
      (let ((self (current-buffer)))
        (cl-some (lambda (buffer) (eq (buffer-base-buffer buffer) self)) (buffer-list)))))

(defun deepfim--others-of-document (conn)
  "The other live buffers that have the current buffer's document open in CONN."
  (let ((uri deepfim--doc-uri))
    (seq-filter (lambda (buffer)
                  (and (not (eq buffer (current-buffer)))
                       (eq (buffer-local-value 'deepfim--doc-connection buffer) conn)
                       (equal (buffer-local-value 'deepfim--doc-uri buffer) uri)))
                (buffer-list))))

(defun deepfim--sent-for-all (conn)
  "Note that the current buffer brought CONN's copy of its document up to date.
A base buffer and its indirect buffers (\\[clone-indirect-buffer]) share one
text and one document, but each records only the edits made in it: the
changes the others have not sent yet are in the text sent, so they send
the whole text next time rather than those changes again."
  (when (deepfim--text-shared-p)
    (dolist (buffer (deepfim--others-of-document conn))
      (with-current-buffer buffer
        (setq deepfim--doc-changes 'full)))))

(defun deepfim--pending-changes (conn)
  "The contentChanges bringing CONN's copy up to date (a vector), or nil."
  (let ((unseen (not (eql deepfim--doc-tick (buffer-chars-modified-tick)))))
    (cond ((not (or deepfim--doc-changes unseen)) nil)
          ((or unseen (eq deepfim--doc-changes 'full) (not (deepfim--incremental-p conn)))
           (vector (list :text (deepfim--buffer-text))))
          (t (vconcat (reverse deepfim--doc-changes))))))

(defun deepfim--sync-document (conn)
  "Bring CONN's copy of the current buffer up to date."
  (cond
   ((not (eq deepfim--doc-connection conn))
    (setq deepfim--doc-uri (deepfim--uri)
          deepfim--doc-version 1
          deepfim--doc-changes nil
          deepfim--doc-tick (buffer-chars-modified-tick)
          deepfim--doc-connection conn)
    (cl-pushnew (current-buffer) (deepfim--buffers conn))
    (deepfim--add-folder conn)
    (jsonrpc-notify conn :textDocument/didOpen
                    (list :textDocument (list :uri deepfim--doc-uri
                                              :languageId (deepfim--language-id)
                                              :version deepfim--doc-version
                                              :text (deepfim--buffer-text))))
    (deepfim--sent-for-all conn))
   ((not (equal deepfim--doc-uri (deepfim--uri)))     ; renamed: open it again
    (deepfim--close-document)
    (deepfim--sync-document conn))
   (t
    (when-let* ((changes (deepfim--pending-changes conn)))
      (setq deepfim--doc-changes nil
            deepfim--doc-tick (buffer-chars-modified-tick)
            deepfim--doc-version (1+ deepfim--doc-version))
      (jsonrpc-notify conn :textDocument/didChange
                      (list :textDocument (list :uri deepfim--doc-uri :version deepfim--doc-version)
                            :contentChanges changes))
      (deepfim--sent-for-all conn)))))

(defun deepfim--close-document ()
  "Close the buffer's document in the own connection, if open."
  (let ((conn deepfim--doc-connection))
    (when conn
      (setq deepfim--doc-connection nil)
      (setf (deepfim--buffers conn) (delq (current-buffer) (deepfim--buffers conn)))
      (when (and (jsonrpc-running-p conn)
                 ;; Not while another buffer (the base or an indirect buffer) has it open.
                 (not (deepfim--others-of-document conn)))
        (ignore-errors
          (jsonrpc-notify conn :textDocument/didClose
                          (list :textDocument (list :uri deepfim--doc-uri))))))))


;;; Suggestions

(defvar-local deepfim--overlay nil
  "The overlay showing the suggestion, or nil.")

(defvar-local deepfim--items nil
  "Texts of the items of the last answer, each to be inserted at `deepfim--origin'.")

(defvar-local deepfim--index 0
  "Index in `deepfim--items' of the item shown.")

(defvar-local deepfim--origin nil
  "Marker where the items of the last answer start.")

(defvar-local deepfim--typing nil
  "(ORIGIN TICK END) of the last request, or nil when its text changed otherwise.
At `buffer-chars-modified-tick' TICK, the buffer is the text the request
was made for plus the text typed from ORIGIN (a marker) to END.")

(defvar-local deepfim--request-seq 0
  "Number of the latest request; older answers are ignored.")

(defvar-local deepfim--idle-timer nil
  "Pending idle timer for an automatic request.")

(defvar-local deepfim--inflight nil
  "The request in flight, (CONNECTION . ID).
It is cancelled when the suggestion is dismissed or a newer request goes out.")

(defvar-local deepfim--pre-command-tick nil
  "`buffer-chars-modified-tick' before the current command.")

(defvar-local deepfim--suggestion-active nil
  "Non-nil while a suggestion is shown: activates `deepfim-suggestion-map'.")

(defvar-local deepfim--invoked nil
  "Non-nil when the items come from an explicit `deepfim-complete'.")

(defvar deepfim-suggestion-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'deepfim-accept)
    (define-key map (kbd "<tab>") #'deepfim-accept)
    (define-key map (kbd "M-f") #'deepfim-accept-word)
    (define-key map (kbd "C-<right>") #'deepfim-accept-word)
    (define-key map (kbd "M-<right>") #'deepfim-accept-word)
    (define-key map (kbd "M-<return>") #'deepfim-accept-line)
    (define-key map (kbd "M-RET") #'deepfim-accept-line)
    (define-key map (kbd "M-n") #'deepfim-next)
    (define-key map (kbd "M-p") #'deepfim-previous)
    (define-key map (kbd "C-g") #'deepfim-dismiss)
    map)
  "Keymap active only while a suggestion is shown.")

(defvar deepfim--emulation-alist `((deepfim--suggestion-active . ,deepfim-suggestion-map))
  "Puts `deepfim-suggestion-map' above the minor modes' maps.")

(defun deepfim--typed ()
  "Text typed at the origin since the items were requested, or nil.
nil when the buffer is no longer the requested text plus something
inserted at the origin with point at its end (see `deepfim--typing')."
  (pcase deepfim--typing
    (`(,origin ,tick ,end)
     (when (and (eq origin deepfim--origin) (marker-position origin)
                (= tick (buffer-chars-modified-tick)) (= (point) end))
       (buffer-substring-no-properties origin end)))))

(defun deepfim--typing-before-change (_beg _end)
  "Forget `deepfim--typing' when the buffer changed unseen since it was recorded."
  (when (and deepfim--typing (/= (nth 1 deepfim--typing) (buffer-chars-modified-tick)))
    (setq deepfim--typing nil)))

(defun deepfim--typing-after-change (beg end old-length)
  "Follow in `deepfim--typing' the change of OLD-LENGTH characters at BEG.
The text from BEG to END replaced them.  Only a change at the end of
the typed text (typing on, deleting back) keeps it; any other change
of the text forgets it."
  (pcase deepfim--typing
    (`(,origin ,tick ,typed-end)
     (let ((now (buffer-chars-modified-tick)))
       (unless (= now tick)                ; text properties only
         (setq deepfim--typing
               (and (marker-position origin) (<= origin beg) (= (+ beg old-length) typed-end)
                    (list origin now end))))))))

(defun deepfim-current-suggestion ()
  "The text of the suggestion shown at point, or nil."
  (and (overlayp deepfim--overlay)
       (overlay-buffer deepfim--overlay)
       (overlay-get deepfim--overlay 'deepfim-text)))

(defvar deepfim--shown-in nil
  "(WINDOW . BUFFER) where the suggestion on screen was shown, or nil.")

(defun deepfim--hide ()
  "Remove the suggestion overlay."
  (when (overlayp deepfim--overlay)
    (delete-overlay deepfim--overlay))
  (when (eq (cdr deepfim--shown-in) (current-buffer))
    (setq deepfim--shown-in nil))
  (setq deepfim--overlay nil
        deepfim--suggestion-active nil))

(defun deepfim--clear-left-behind ()
  "Dismiss the suggestion of a window left or a buffer no longer current.
Run by the global `post-command-hook': the buffer-local one runs in the
buffer that a command such as \\[other-window] makes current.  The
minibuffer does not count as leaving."
  (pcase deepfim--shown-in
    (`(,window . ,buffer)
     (unless (or (and (eq window (selected-window)) (eq buffer (current-buffer)))
                 (window-minibuffer-p))
       (setq deepfim--shown-in nil)
       (when (buffer-live-p buffer)
         (with-current-buffer buffer
           (deepfim-dismiss)))))))

(defun deepfim--clear ()
  "Forget the items and hide the suggestion."
  (deepfim--hide)
  (setq deepfim--items nil
        deepfim--index 0)
  (when (markerp deepfim--origin)
    (set-marker deepfim--origin nil))
  (setq deepfim--origin nil))

(defun deepfim--display (text)
  "Show TEXT as ghost text at point."
  (deepfim--hide)
  (let* ((ov (make-overlay (point) (point) nil nil nil))
         (ghost (propertize text 'face 'deepfim-ghost-face)))
    ;; Keep the cursor before the ghost text, not after it.
    (put-text-property 0 1 'cursor t ghost)
    (overlay-put ov 'after-string ghost)
    (overlay-put ov 'deepfim-text text)
    (overlay-put ov 'priority 100)
    ;; Not in the other windows showing the buffer (C-x 2): there the
    ;; cursor is elsewhere, and the text would appear in the middle of the code.
    (overlay-put ov 'window (selected-window))
    (setq deepfim--overlay ov
          deepfim--suggestion-active t
          deepfim--shown-in (cons (selected-window) (current-buffer)))))

(defun deepfim--refresh ()
  "Show the rest of the current item after what was typed, or clear.
Returns the text shown, or nil."
  (let* ((typed (deepfim--typed))
         (item (and typed (nth deepfim--index deepfim--items))))
    (if (and item (string-prefix-p typed item) (> (length item) (length typed)))
        (let ((rest (substring item (length typed))))
          (deepfim--display rest)
          rest)
      ;; The current item no longer fits: try the others.
      (let ((other (and typed
                        (cl-position-if (lambda (it) (and (string-prefix-p typed it)
                                                          (> (length it) (length typed))))
                                        deepfim--items))))
        (if other
            (progn (setq deepfim--index other) (deepfim--refresh))
          (deepfim--clear)
          nil)))))

(defun deepfim--item-text (item origin)
  "The text of ITEM (an InlineCompletionItem) to insert at ORIGIN, or nil."
  (let* ((insert (plist-get item :insertText))
         (text (if (stringp insert) insert (plist-get insert :value)))
         (range (plist-get item :range)))
    (when (stringp text)
      (if (null range)
          text
        (let* ((start (deepfim--position-to-point (plist-get range :start)))
               (before (and (<= start origin) (buffer-substring-no-properties start origin))))
          ;; The range may start before the cursor: the text up to the
          ;; cursor must then be the start of the item.
          (and before (string-prefix-p before text)
               (substring text (length before))))))))

(defun deepfim--handle-items (seq origin tick result)
  "Show the items of RESULT, the answer to request SEQ made at ORIGIN at TICK.
TICK is the `buffer-chars-modified-tick' of the text the request was
made for: an answer to a text changed since, other than by typing at
ORIGIN, is not shown."
  (if (not (and (= seq deepfim--request-seq) deepfim-mode
                (eq (current-buffer) (window-buffer (selected-window)))))
      (set-marker origin nil)             ; superseded, dismissed or left
    (let* ((items (if (vectorp result) result (plist-get result :items)))
           (texts (delete-dups
                   (delq nil (mapcar (lambda (item)
                                       (let ((text (deepfim--item-text item (marker-position origin))))
                                         (and text (not (string-empty-p text)) text)))
                                     (append items nil))))))
      (deepfim--clear)
      (if (null texts)
          (progn (set-marker origin nil)
                 (when deepfim--invoked (message "deepfim: no suggestion here")))
        (unless (eq (car deepfim--typing) origin) ; not made by `deepfim--request'
          (setq deepfim--typing (list origin tick (marker-position origin))))
        (setq deepfim--items texts
              deepfim--index 0
              deepfim--origin origin)
        (unless (deepfim--refresh)
          (when deepfim--invoked (message "deepfim: the suggestion no longer fits")))))))

(defun deepfim--cancel-inflight ()
  "Tell the server to drop the request in flight, if any, rather than finish it."
  (when-let* ((inflight deepfim--inflight))
    (setq deepfim--inflight nil)
    (when (jsonrpc-running-p (car inflight))
      (jsonrpc-notify (car inflight) :$/cancelRequest (list :id (cdr inflight))))))

(defun deepfim--send-request (conn params handlers)
  "Send the inline completion request PARAMS on CONN with HANDLERS.
It becomes the request in flight, cancelling the one before."
  (deepfim--cancel-inflight)
  (let ((sent (apply #'jsonrpc-async-request conn :textDocument/inlineCompletion params handlers)))
    ;; (ID TIMER), but nil from older jsonrpc (Emacs 28's 1.0.14): the id is then the connection's last
    (setq deepfim--inflight (cons conn (if (consp sent) (car sent) (jsonrpc--next-request-id conn))))))

(defun deepfim--answered (buffer seq)
  "Request SEQ of BUFFER was answered, failed or timed out.
It is no longer in flight."
  (when (buffer-live-p buffer)
    (with-current-buffer buffer
      (when (= seq deepfim--request-seq)
        (setq deepfim--inflight nil)))))

(defun deepfim--request (invoked)
  "Ask the server for suggestions at point; INVOKED when the user asked."
  (let* ((buffer (current-buffer))
         (seq (setq deepfim--request-seq (1+ deepfim--request-seq)))
         (origin (copy-marker (point)))
         (tick (buffer-chars-modified-tick))
         (context (list :triggerKind (if invoked 1 2)))
         (handlers
          (list :success-fn (lambda (result)
                              (deepfim--answered buffer seq)
                              (when (buffer-live-p buffer)
                                (with-current-buffer buffer
                                  (deepfim--handle-items seq origin tick result))))
                :error-fn (lambda (error)
                            (deepfim--answered buffer seq)
                            (unless (memql (plist-get error :code) '(-32800 -32801))
                              (message "deepfim: %s" (plist-get error :message))))
                :timeout-fn (lambda ()
                              (deepfim--answered buffer seq)
                              (when invoked (message "deepfim: no answer in time")))
                :timeout deepfim-request-timeout)))
    (setq deepfim--invoked invoked
          deepfim--typing (list origin tick (point)))
    (if-let* ((server (deepfim--eglot-server)))
        (progn
          (when deepfim--doc-connection (deepfim--close-document))
          (when (fboundp 'eglot--signal-textDocument/didChange)
            (eglot--signal-textDocument/didChange))
          (deepfim--send-request server (append (eglot--TextDocumentPositionParams) (list :context context))
                                 handlers))
      (deepfim--with-connection
       (lambda (conn)
         (when (buffer-live-p buffer)
           (with-current-buffer buffer
             ;; Typed on while the server started: a later request follows.
             (when (and deepfim-mode (= seq deepfim--request-seq)
                        (= tick (buffer-chars-modified-tick)))
               (deepfim--sync-document conn)
               (deepfim--send-request conn (list :textDocument (list :uri deepfim--doc-uri)
                                                 :position (deepfim--lsp-position origin)
                                                 :context context)
                                      handlers)))))
       invoked))
    seq))

(defun deepfim--no-server ()
  "Signal that no server serves the buffer, and why when it is known."
  (let ((why (plist-get (deepfim-status) :message)))
    (user-error "deepfim: no server%s" (if (stringp why) (concat ": " why) ""))))

(defun deepfim--connection-for-buffer ()
  "The connection serving the current buffer: eglot's or the own one."
  (or (deepfim--eglot-server)
      (let (result)
        (deepfim--with-connection (lambda (conn) (setq result conn)) t)
        (let ((deadline (+ (float-time) 30))
              (conn deepfim--connection))
          ;; Not for a server that exited or refused `initialize': it will not be ready.
          (while (and (null result) (< (float-time) deadline)
                      conn (jsonrpc-running-p conn)
                      (not (equal (plist-get (gethash conn deepfim--statuses) :state) "error")))
            (accept-process-output nil 0.05)))
        (when result (deepfim--sync-document result))
        result)))


;;; Commands

(defun deepfim-complete ()
  "Request a suggestion at point now; it is shown when it arrives."
  (interactive)
  (unless deepfim-mode (deepfim-mode 1))
  (deepfim--cancel-timer)
  (deepfim--clear)
  (deepfim--request t))

(defun deepfim--insert (text)
  "Insert TEXT, the start of the suggestion, and show what is left."
  (let ((rest (substring (deepfim-current-suggestion) (length text))))
    (deepfim--hide)
    (insert text)
    (if (string-empty-p rest)
        (deepfim--clear)
      (deepfim--refresh))))

(defun deepfim-accept ()
  "Insert the whole suggestion shown."
  (interactive)
  (when-let* ((text (deepfim-current-suggestion)))
    (deepfim--insert text)
    t))

(defun deepfim-accept-word ()
  "Insert the next word of the suggestion shown."
  (interactive)
  (when-let* ((text (deepfim-current-suggestion)))
    (let ((length (if (string-match "\\`[^[:alnum:]_\n]*[[:alnum:]_]+" text)
                      (match-end 0)
                    (if (string-match "\\`\\(?:\n[ \t]*\\|[^\n]+\\)" text)
                        (match-end 0)
                      1))))
      (deepfim--insert (substring text 0 length))
      t)))

(defun deepfim-accept-line ()
  "Insert the suggestion shown up to the end of its line.
When the suggestion starts with a line break, insert the next line."
  (interactive)
  (when-let* ((text (deepfim-current-suggestion)))
    (let ((length (if (string-match "\\`\n?[^\n]*" text) (match-end 0) (length text))))
      (deepfim--insert (substring text 0 length))
      t)))

(defun deepfim-dismiss ()
  "Hide the suggestion shown."
  (interactive)
  (deepfim--cancel-timer)
  (deepfim--cancel-inflight)
  (setq deepfim--request-seq (1+ deepfim--request-seq))
  (deepfim--clear))

(defun deepfim--cycle (step)
  "Show the item STEP places from the current one."
  (let ((typed (deepfim--typed)))
    (if (not (and typed deepfim--items))
        (progn (message "deepfim: no suggestion to cycle") nil)
      (let* ((n (length deepfim--items))
             (fits (cl-loop for i from 1 to n
                            for index = (mod (+ deepfim--index (* i step)) n)
                            for item = (nth index deepfim--items)
                            when (and (string-prefix-p typed item)
                                      (> (length item) (length typed)))
                            return index)))
        (when fits
          (setq deepfim--index fits)
          (deepfim--refresh))))))

(defun deepfim-next ()
  "Show the next suggestion of the last answer."
  (interactive)
  (deepfim--cycle 1))

(defun deepfim-previous ()
  "Show the previous suggestion of the last answer."
  (interactive)
  (deepfim--cycle -1))

(defun deepfim-explain ()
  "Show the prompt, output and timings of the buffer's last completion.
Returns the buffer `*deepfim explain*'."
  (interactive)
  (let* ((connection (or (deepfim--connection-for-buffer) (deepfim--no-server)))
         (uri (if (deepfim--eglot-server)
                  (plist-get (eglot--TextDocumentIdentifier) :uri)
                (or deepfim--doc-uri (deepfim--uri))))
         (source (buffer-name))
         (result (and connection
                      (jsonrpc-request connection :deepfim/explain
                                       (list :textDocument (list :uri uri))
                                       :timeout 30)))
         (buffer (get-buffer-create "*deepfim explain*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (if (null result)
            (insert (format "No completion was served for %s yet.\n" source))
          (deepfim--insert-explanation source result))
        (goto-char (point-min)))
      (special-mode))
    (when (called-interactively-p 'any)
      (display-buffer buffer))
    buffer))

(defun deepfim--insert-explanation (source result)
  "Insert a readable form of the `deepfim/explain' RESULT for buffer SOURCE."
  (let ((prompt (plist-get result :prompt))
        (timings (plist-get result :timings)))
    (insert (propertize (format "deepfim: last completion in %s" source) 'face 'bold) "\n")
    (insert (format "model: %s\n" (or (plist-get result :model) "?")))
    (when timings
      (insert "timings:")
      (cl-loop for (key value) on timings by #'cddr
               do (insert (format " %s=%s" (substring (symbol-name key) 1) value)))
      (insert "\n"))
    (when prompt
      (insert (format "prompt: %d tokens\n" (length (plist-get prompt :token_ids)))))
    (insert "\n" (propertize "completion" 'face 'bold) "\n")
    (insert (propertize (or (plist-get result :completion) "") 'face 'font-lock-string-face))
    (insert "\n")
    (cl-loop for segment across (or (plist-get prompt :segments) [])
             do (insert "\n"
                        (propertize (format "── %s%s, %s tokens ──"
                                            (plist-get segment :kind)
                                            (let ((src (plist-get segment :source)))
                                              (if (stringp src) (format " (%s)" src) ""))
                                            (plist-get segment :tokens))
                                    'face 'font-lock-comment-face)
                        "\n"
                        (or (plist-get segment :text) "")
                        "\n"))))


;;; Code actions (instruct edits)

;; The server offers code actions on a selection: "Edit with
;; instruction...", "Add docstring", "Fix", "Explain" and "Write tests"
;; (`eglot-code-actions' lists them; `deepfim-edit' edits the region
;; directly).  Each runs the server's command `deepfim.edit'.  Here it
;; is sent asynchronously (the model takes a while), with the
;; instruction asked by `read-string' when the action needs one;
;; explanations are shown in the buffer `*deepfim explanation*'.  The
;; edit comes back from the server as `workspace/applyEdit', applied by
;; eglot or, on deepfim's own connection, by `deepfim--apply-edit'.

(defcustom deepfim-edit-timeout 600
  "Seconds to wait for the server to write an edit."
  :type 'natnum)

(defvar deepfim-edit-hook nil
  "Functions called with the result plist of each `deepfim.edit' command.")

(defvar deepfim--last-edit nil
  "The result of the last `deepfim.edit' command.")

(defun deepfim--edit-argument (argument)
  "ARGUMENT of `deepfim.edit' with its instruction, asked when it has none.
nil when the user gives none."
  (let ((argument (copy-sequence argument))
        (instruction (plist-get argument :instruction)))
    (when (equal (plist-get argument :action) "explain")
      (setq argument (plist-put argument :show :json-false)))
    (if (and (stringp instruction) (not (string-empty-p (string-trim instruction))))
        argument
      (let ((input (read-string "deepfim instruction: ")))
        (unless (string-empty-p (string-trim input))
          (plist-put argument :instruction input))))))

(defun deepfim--execute-edit (connection arguments)
  "Run `deepfim.edit' with ARGUMENTS (a vector) over CONNECTION."
  (when-let* ((argument (deepfim--edit-argument (aref arguments 0))))
    (message "deepfim: writing...")
    (jsonrpc-async-request
     connection :workspace/executeCommand
     (list :command "deepfim.edit" :arguments (vector argument))
     :success-fn (lambda (result) (deepfim--edit-done argument result))
     :error-fn (lambda (error)
                 (deepfim--edit-done argument (list :applied :json-false
                                                    :reason (plist-get error :message))))
     :timeout-fn (lambda ()
                   (deepfim--edit-done argument (list :applied :json-false :reason "no answer in time")))
     :timeout deepfim-edit-timeout)
    t))

(defun deepfim--edit-done (argument result)
  "Report the RESULT of `deepfim.edit' run with ARGUMENT."
  (setq deepfim--last-edit result)
  (cond ((equal (plist-get argument :action) "explain")
         (display-buffer (deepfim--show-explanation (or (plist-get result :explanation) ""))))
        ((eq (plist-get result :applied) t) (message "deepfim: done"))
        ((plist-get result :reason)
         (message "deepfim: not applied: %s" (deepfim--emacs-hint (format "%s" (plist-get result :reason))))))
  (run-hook-with-args 'deepfim-edit-hook result))

(defun deepfim--show-explanation (text)
  "Show TEXT in the buffer `*deepfim explanation*' and return it."
  (with-current-buffer (get-buffer-create "*deepfim explanation*")
    (let ((inhibit-read-only t))
      (erase-buffer)
      (insert text)
      (goto-char (point-min)))
    (special-mode)
    (current-buffer)))

;;;###autoload
(defun deepfim-edit (beg end &optional instruction)
  "Rewrite the region from BEG to END as INSTRUCTION says.
Interactively, the instruction is read in the minibuffer."
  (interactive (if (use-region-p)
                   (list (region-beginning) (region-end))
                 (user-error "deepfim: select the code to edit first")))
  (let ((connection (deepfim--connection-for-buffer))
        (uri (if (deepfim--eglot-server)
                 (plist-get (eglot--TextDocumentIdentifier) :uri)
               (or deepfim--doc-uri (deepfim--uri)))))
    (unless connection
      (deepfim--no-server))
    (when (deepfim--eglot-server)
      (eglot--signal-textDocument/didChange))
    (deepfim--execute-edit
     connection
     (vector (list :textDocument (list :uri uri)
                   :range (list :start (deepfim--lsp-position beg) :end (deepfim--lsp-position end))
                   :action "edit"
                   :instruction instruction)))))

(defun deepfim--apply-edit (edit)
  "Apply the LSP WorkspaceEdit EDIT sent on deepfim's own connection.
Returns the `workspace/applyEdit' result."
  (let ((changes (plist-get edit :changes))
        (prepared nil))
    (cl-loop for change across (or (plist-get edit :documentChanges) [])
             do (if (plist-get change :kind) ; a resource operation: only creating a file
                    (when (equal (plist-get change :kind) "create")
                      (let ((file (deepfim--uri-file (plist-get change :uri))))
                        (unless (file-exists-p file)
                          (with-temp-file file))))
                  (let ((document (plist-get change :textDocument)))
                    (push (list (plist-get document :uri) (plist-get change :edits) (plist-get document :version))
                          prepared))))
    (cl-loop for (uri edits) on changes by #'cddr
             do (push (list (substring (symbol-name uri) 1) edits nil) prepared))
    (catch 'refused
      (dolist (item (nreverse prepared))
        (pcase-let ((`(,uri ,edits ,version) item))
          (let* ((file (deepfim--uri-file uri))
                 (buffer (find-file-noselect file)))
            (with-current-buffer buffer
              (when (and version (not (eq version :null))
                         (or (not (equal uri deepfim--doc-uri)) (/= version deepfim--doc-version)
                             deepfim--doc-changes))
                (throw 'refused (list :applied :json-false
                                      :failureReason "the document changed since")))
              (let ((edits (sort (append edits nil)
                                 (lambda (a b)
                                   (> (deepfim--position-to-point (plist-get (plist-get a :range) :start))
                                      (deepfim--position-to-point (plist-get (plist-get b :range) :start)))))))
                (save-excursion
                  (dolist (text-edit edits)
                    (let* ((range (plist-get text-edit :range))
                           (start (deepfim--position-to-point (plist-get range :start)))
                           (end (deepfim--position-to-point (plist-get range :end))))
                      (goto-char start)
                      (delete-region start end)
                      (insert (plist-get text-edit :newText))))))))))
      (list :applied t))))

(with-eval-after-load 'eglot
  ;; eglot up to 1.15 (Emacs 28 and 29) runs a code action's command
  ;; with `eglot-execute-command'...
  (cl-defmethod eglot-execute-command :around (server (_command (eql deepfim.edit)) arguments)
    "Run deepfim's code actions asynchronously, asking for the instruction."
    (if (deepfim--deepfim-server-p server)
        (deepfim--execute-edit server arguments)
      (cl-call-next-method)))
  ;; ... later eglot with `eglot-execute'.
  (when (fboundp 'eglot-execute)
    (cl-defmethod eglot-execute :around (server action)
      "Run deepfim's code actions asynchronously, asking for the instruction."
      (if (and (deepfim--deepfim-server-p server)
               (equal (plist-get action :command) "deepfim.edit"))
          (deepfim--execute-edit server (plist-get action :arguments))
        (cl-call-next-method)))))


;;; The minor mode

(defun deepfim--cancel-timer ()
  "Cancel the pending automatic request."
  (when (timerp deepfim--idle-timer)
    (cancel-timer deepfim--idle-timer))
  (setq deepfim--idle-timer nil))

(defun deepfim--idle-request (buffer tick point)
  "Request a suggestion in BUFFER if it is as it was (TICK, POINT) after typing."
  (when (buffer-live-p buffer)
    (with-current-buffer buffer
      (setq deepfim--idle-timer nil)
      (when (and deepfim-mode
                 (eq buffer (window-buffer (selected-window)))
                 (= tick (buffer-chars-modified-tick))
                 (= point (point))
                 (not (deepfim-current-suggestion)))
        (deepfim--request nil)))))

(defvar-local deepfim--idle-point nil
  "Point when the pending automatic request was scheduled.")

(defun deepfim--schedule ()
  "Request a suggestion after `deepfim-idle-delay' seconds of idle time."
  (deepfim--cancel-timer)
  (setq deepfim--idle-point (point))
  (setq deepfim--idle-timer
        (run-with-idle-timer deepfim-idle-delay nil #'deepfim--idle-request
                             (current-buffer) (buffer-chars-modified-tick) (point))))

(defun deepfim--pre-command ()
  "Remember the buffer's state before a command."
  (setq deepfim--pre-command-tick (buffer-chars-modified-tick)))

(defun deepfim--post-command ()
  "Keep, trim or clear the suggestion after a command; maybe schedule a request."
  (deepfim--clear-left-behind)  ; before the suggestion is shown again in another window
  (when this-command           ; nil when the command loop (re)starts
    (deepfim--after-command)))

(defun deepfim--after-command ()
  "The body of `deepfim--post-command'."
  (let ((edited (and deepfim--pre-command-tick
                     (/= deepfim--pre-command-tick (buffer-chars-modified-tick)))))
    (setq deepfim--pre-command-tick nil)
    (cond
     ((memq this-command '(keyboard-quit keyboard-escape-quit deepfim-dismiss))
      (deepfim-dismiss))
     ((memq this-command '(deepfim-next deepfim-previous deepfim-complete)))
     ((or deepfim--items (deepfim-current-suggestion))
      (deepfim--refresh)))
    (cond
     ((and edited deepfim-auto-trigger
           (not (deepfim-current-suggestion))
           (not (memq this-command deepfim-no-trigger-commands))
           (not buffer-read-only))
      (deepfim--schedule))
     ((and (not edited) deepfim--idle-timer (/= (point) deepfim--idle-point))
      ;; Moved without typing: no request for the old place.
      (deepfim--cancel-timer)))))

(defun deepfim--kill-buffer ()
  "Close the document when its buffer goes."
  (deepfim--cancel-timer)
  (deepfim--close-document))

;;;###autoload
(define-minor-mode deepfim-mode
  "Show deepfim's code suggestions as ghost text after the cursor.

Suggestions are requested when Emacs is idle for `deepfim-idle-delay'
seconds after typing, or by \\[deepfim-complete].  While one is
shown, these keys act on it:
\\{deepfim-suggestion-map}
The buffer's eglot connection is used when it is a deepfim server;
otherwise deepfim runs its own server process
\(`deepfim-server-command') next to any other language server."
  :lighter (:eval (deepfim--lighter))
  :group 'deepfim
  (cond
   (deepfim-mode
    (add-to-list 'emulation-mode-map-alists 'deepfim--emulation-alist)
    (add-hook 'post-command-hook #'deepfim--clear-left-behind)
    (add-hook 'pre-command-hook #'deepfim--pre-command nil t)
    (add-hook 'post-command-hook #'deepfim--post-command nil t)
    ;; Late before others change the buffer, early after: a change made
    ;; by another hook is then seen as an unrecorded one (whole text).
    (add-hook 'before-change-functions #'deepfim--before-change 90 t)
    (add-hook 'after-change-functions #'deepfim--after-change -90 t)
    (add-hook 'before-change-functions #'deepfim--typing-before-change nil t)
    (add-hook 'after-change-functions #'deepfim--typing-after-change nil t)
    (add-hook 'kill-buffer-hook #'deepfim--kill-buffer nil t)
    (add-hook 'change-major-mode-hook #'deepfim--turn-off nil t))
   (t
    (deepfim--cancel-timer)
    (deepfim--clear)
    (deepfim--close-document)
    (remove-hook 'pre-command-hook #'deepfim--pre-command t)
    (remove-hook 'post-command-hook #'deepfim--post-command t)
    (remove-hook 'before-change-functions #'deepfim--before-change t)
    (remove-hook 'after-change-functions #'deepfim--after-change t)
    (remove-hook 'before-change-functions #'deepfim--typing-before-change t)
    (remove-hook 'after-change-functions #'deepfim--typing-after-change t)
    (setq deepfim--typing nil)
    (remove-hook 'kill-buffer-hook #'deepfim--kill-buffer t)
    (remove-hook 'change-major-mode-hook #'deepfim--turn-off t))))

(defun deepfim--turn-off ()
  "Turn `deepfim-mode' off (before the major mode changes)."
  (deepfim-mode -1))

(defun deepfim--turn-on-if-wanted ()
  "Turn `deepfim-mode' on in buffers whose major mode is in `deepfim-modes'."
  (when (and (not (minibufferp))
             (apply #'derived-mode-p deepfim-modes))
    (deepfim-mode 1)))

;;;###autoload
(define-globalized-minor-mode global-deepfim-mode deepfim-mode
  deepfim--turn-on-if-wanted
  :group 'deepfim)

(provide 'deepfim)
;;; deepfim.el ends here

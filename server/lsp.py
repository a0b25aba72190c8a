"""The LSP server: one short handler per LSP method; the policy lives in `server/service.py`."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from functools import partial
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from fim.positions import index_to_utf16, locate, position_after
from fim.postprocess import trailing_word
from server import __version__
from server.edits import EDIT_COMMAND, Edits
from server.notebooks import Cell, Joined, join_cells
from server.protocol import RobustProtocol, kept_line_index
from server.service import CompletionService, Listener
from server.settings import Settings

log = logging.getLogger(__name__)

EXPLAIN = "deepfim/explain"
STATS = "deepfim/stats"  # counters and resident memory, for benchmarks and soak tests
# Server -> client notification: {"state": loading|reading|ready|error|disabled, "message", "percentage"?,
# "model"?}
STATUS = "deepfim/status"
WATCHERS_ID = "deepfim-watched-files"
# Every notebook's cells are synchronized as notebook documents (cell kinds and order included). No `cells`
# filter: VS Code sends only the cells whose language one selects, and markdown cells are context too.
NOTEBOOKS = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithNotebook(notebook="*")], save=True)


class DeepfimServer(LanguageServer):
    """deepfim's language server: LSP plumbing around one CompletionService."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("deepfim", __version__, protocol_cls=RobustProtocol, notebook_document_sync=NOTEBOOKS)
        self.service = CompletionService(settings, _EditorListener(self), self.document_text,
                                         locate_in=self.locate)
        self.status: dict = {"state": "loading", "message": "starting"}
        self._warned: set[str] = set()  # the warnings of the last settings received
        self._joined: dict[str, Joined] = {}  # notebook URI -> its cells joined, as last asked for
        self.apply_log_policy()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log out-of-band errors (pygls would show them to the user in a popup)."""
        log.warning("error while handling a message: %s", error)

    def apply_log_policy(self) -> None:
        """pygls logs whole messages (source text included) at INFO: silence it unless `logText`."""
        logging.getLogger("pygls").setLevel(logging.NOTSET if self.service.settings.log_text else logging.WARNING)

    def configure(self, options: Any, ours: bool = False) -> None:
        """Apply client settings; each refused value is shown once, naming the key (not again when the
        next settings refuse it alike: clients send initializationOptions, then the same settings)."""
        warnings = self.service.configure(options, ours)
        for warning in warnings:
            if warning not in self._warned:
                self.show(types.MessageType.Warning, warning)
        self._warned = set(warnings)
        self.apply_log_policy()

    def show(self, kind: types.MessageType, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"deepfim: {message}"))

    def document_text(self, uri: str) -> Optional[str]:
        """The editor's text of a document (a notebook's: its cells as one document); a closed one's
        from its file, where that is a regular file (reading a named pipe or a device such as /dev/zero
        blocked the server for good)."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is not None:
            return self.joined(notebook).text
        document = self.workspace.get_text_document(uri)
        path = document.path
        if unquote(uri) not in self.workspace.text_documents and not (path and os.path.isfile(path)):
            return None
        try:
            return document.source
        except (OSError, ValueError):  # ValueError: a closed file that is not UTF-8 on disk
            return None

    def joined(self, notebook: types.NotebookDocument) -> Joined:
        """A notebook's cells as one document (`server.notebooks`), joined again only when a cell changed
        (its URI, kind, language or text): joining 500 cells took 4 ms, several times per keystroke."""
        documents = self.workspace.text_documents
        markup = types.NotebookCellKind.Markup
        cells = tuple(Cell(uri, document.language_id or "", document.source, cell.kind == markup)
                      for cell in notebook.cells
                      if (document := documents.get(uri := unquote(cell.document))) is not None)
        key = unquote(notebook.uri)
        kept = self._joined.get(key)
        if kept is None or kept.parts != cells:  # (the texts of unchanged cells are the same objects)
            kept = self._joined[key] = join_cells(cells, kept)
        return kept

    def forget_notebook(self, uri: str) -> None:
        """A notebook closed: its joined text is let go."""
        self._joined.pop(unquote(uri), None)

    def target(self, uri: str, line: int = 0, character: int = 0) -> Optional[tuple[str, int, int, int]]:
        """Where the service completes a position of a document: (URI, line, character, the line the
        document starts at there). A notebook's cell is completed within its notebook; a cell left out of
        it (markdown, another language) is not completed (None)."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        if notebook is None:
            return uri, line, character, 0
        position = self.joined(notebook).position(unquote(uri), line, character)
        return None if position is None else (notebook.uri, *position)

    def cursor(self, uri: str, target: tuple[str, int, int, int], line: int, character: int
               ) -> Optional[types.Position]:
        """A completion's position (`line`, `character`, in the document `target` named) in document `uri`;
        in a notebook's cell, None unless it is in that cell, starting where it did, in the notebook as it is
        now (a cell added or changed above while the model ran: it would be in another cell, or in a markdown
        cell's comment lines)."""
        if target[0] == uri:
            return types.Position(line=line - target[3], character=character)
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        found = self.joined(notebook).cell_at(line, character) if notebook is not None else None
        if found is None or found[0] != unquote(uri) or found[1] != line - target[3]:
            return None
        return types.Position(line=found[1], character=found[2])

    def open_documents(self) -> list[str]:
        """The URIs of the documents open in the editor, a notebook's by the notebook's."""
        cells = {unquote(cell.document) for notebook in self.workspace.notebook_documents.values()
                 for cell in notebook.cells}
        return ([document.uri for key, document in self.workspace.text_documents.items() if key not in cells]
                + [notebook.uri for notebook in self.workspace.notebook_documents.values()])

    def locate(self, uri: str, text: str, line: int, character: int) -> tuple[int, int, int]:
        """`fim.positions.locate` in a document's `text`, from the line starts kept with the document
        while `text` is its current text (a 10 MB file: microseconds, not 10-60 ms per request)."""
        document = self.workspace.text_documents.get(unquote(uri))
        lines = kept_line_index(document, text) if document is not None else None
        return lines.locate(line, character) if lines is not None else locate(text, line, character)

    def folders(self) -> list[Path]:
        return [Path(path) for folder in self.workspace.folders.values() if (path := to_fs_path(folder.uri))]

    def watch_files(self) -> None:
        """Ask the client to report file changes in the workspace (deletions, renames, .gitignore edits)."""
        workspace = self.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace else None
        if watched is None or not watched.dynamic_registration:
            return  # the index checks files on use, and walks the folders again now and then
        self.service.project.poll_seconds = None
        options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[types.FileSystemWatcher(glob_pattern="**/*")])
        self.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id=WATCHERS_ID, method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))


class _EditorListener(Listener):
    """Forwards the service's reports to the editor, on the event loop's thread."""

    def __init__(self, server: DeepfimServer) -> None:
        self.server = server
        self.token: Optional[str] = None
        self.reading_token: Optional[str] = None
        self.ready: Optional[dict] = None  # the status to show again when a long read is over
        self.loop: Optional[asyncio.AbstractEventLoop] = None

    def _soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn` now on the event loop's thread, or queue it there from another thread."""
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            if self.loop is not None:
                try:
                    self.loop.call_soon_threadsafe(partial(fn, *args))
                except RuntimeError:  # the loop is closed: the session is over, nobody to tell
                    pass
            return
        fn(*args)

    def status(self, state: str, message: str, **extra: object) -> None:
        self._soon(self._status, {"state": state, "message": message, **extra})

    def _status(self, status: dict) -> None:
        if status["state"] != "reading":
            self.ready = None
        self.server.status = status
        self.server.protocol.notify(STATUS, status)

    def load_started(self) -> None:
        server = self.server
        window = server.client_capabilities.window if server.protocol.client_capabilities else None
        if self.token:  # a load superseded before it finished: its progress ends here
            self._end(self.token, types.WorkDoneProgressEnd(message="reloading"))
        self.token = None
        if window is not None and window.work_done_progress:
            self.token = f"deepfim-load-{uuid.uuid4()}"
            server.work_done_progress.create(self.token)
            server.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
                title="deepfim: loading model", percentage=0, cancellable=False))

    def _end(self, token: str, value: types.WorkDoneProgressEnd) -> None:
        """End a work-done progress, and let go of the future pygls keeps for its token."""
        self.server.work_done_progress.end(token, value)
        self.server.work_done_progress.tokens.pop(token, None)

    def load_progress(self, percent: int) -> None:
        self.status("loading", f"loading model {percent}%", percentage=percent)
        if self.token:
            self._soon(self.server.work_done_progress.report, self.token,
                       types.WorkDoneProgressReport(percentage=percent))

    def outage(self, message: Optional[str]) -> None:
        if message is None:
            model = self.server.service.model
            self.status("ready", "the engine answers again", **({"model": model.name} if model else {}))
            return
        self.status("error", message)
        self._soon(self.server.show, types.MessageType.Error, message)

    def reading(self, percent: Optional[int], done: int = 0, total: int = 0) -> None:
        self._soon(self._reading, percent, done, total)

    def _reading(self, percent: Optional[int], done: int, total: int) -> None:
        """`deepfim/status` "reading" and a work-done progress while a long prompt is read."""
        server = self.server
        window = server.client_capabilities.window if server.protocol.client_capabilities else None
        if percent is None:
            if self.reading_token:
                self._end(self.reading_token, types.WorkDoneProgressEnd())
                self.reading_token = None
            if self.ready is not None:
                self._status(self.ready)
            return
        message = f"reading the window {percent}% ({done:,} of {total:,} tokens)"
        if self.ready is None and server.status.get("state") in ("ready", "disabled"):
            self.ready = dict(server.status)
        self._status({"state": "reading", "message": message, "percentage": percent})
        if window is not None and window.work_done_progress:
            if self.reading_token is None:
                self.reading_token = f"deepfim-read-{uuid.uuid4()}"
                server.work_done_progress.create(self.reading_token)
                server.work_done_progress.begin(self.reading_token, types.WorkDoneProgressBegin(
                    title="deepfim: reading the window", message=message, percentage=percent, cancellable=False))
            else:
                server.work_done_progress.report(self.reading_token, types.WorkDoneProgressReport(
                    message=message, percentage=percent))

    def load_finished(self, message: str, error: bool, warnings: list[str]) -> None:
        self._soon(self._finished, self.token, message, error, warnings)

    def _finished(self, token: Optional[str], message: str, error: bool, warnings: list[str]) -> None:
        server = self.server
        if token and token == self.token:  # (a reload begun meanwhile ended it already)
            self._end(token, types.WorkDoneProgressEnd(message=message))
            self.token = None
        if error:
            server.show(types.MessageType.Error, message)
            return
        server.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))
        for warning in warnings:
            server.show(types.MessageType.Warning, warning)


def create_server(settings: Settings, watch_parent: bool = True) -> DeepfimServer:
    """The LSP server. `watch_parent`: exit when the client's process (initialize's processId) is gone;
    only where the client started this process (stdio): over TCP its id names a process on the client's
    machine, or in its container."""
    server = DeepfimServer(settings)
    service = server.service

    @server.feature(types.INITIALIZE)
    def initialize(ls: DeepfimServer, params: types.InitializeParams) -> None:
        ls.configure(params.initialization_options, ours=True)
        roots = [to_fs_path(f.uri) for f in params.workspace_folders or []]
        if not roots and params.root_uri:
            roots = [to_fs_path(params.root_uri)]
        service.set_roots([Path(r) for r in roots if r], ())
        if params.process_id and watch_parent:
            asyncio.get_event_loop().create_task(_watch_parent(ls, params.process_id))

    @server.feature(types.INITIALIZED)
    def initialized(ls: DeepfimServer, params: types.InitializedParams) -> None:
        ls.watch_files()
        service.load()

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DeepfimServer, *args: Any) -> None:
        service.close()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: DeepfimServer, params: types.DidChangeConfigurationParams) -> None:
        ls.configure(params.settings)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(ls: DeepfimServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        # pygls has updated its folders; its documents are keyed by unquoted URIs (a#b.py's is file:///a#b.py,
        # whose path is /a): each document's own URI names its file.
        service.set_roots(ls.folders(), ls.open_documents())

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DeepfimServer, params: types.DidOpenTextDocumentParams) -> None:
        service.opened(params.text_document.uri, params.text_document.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DeepfimServer, params: types.DidChangeTextDocumentParams) -> None:
        partial_changes = [c for c in params.content_changes if isinstance(c, types.TextDocumentContentChangePartial)]
        last = partial_changes[-1] if partial_changes else None
        edit = position_after(last.range.start.line, last.range.start.character, last.text) if last else None
        service.changed(params.text_document.uri, edit)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DeepfimServer, params: types.DidSaveTextDocumentParams) -> None:
        service.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DeepfimServer, params: types.DidCloseTextDocumentParams) -> None:
        service.closed(params.text_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def did_open_notebook(ls: DeepfimServer, params: types.DidOpenNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        service.opened(uri, ls.joined(params.notebook_document).language)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def did_change_notebook(ls: DeepfimServer, params: types.DidChangeNotebookDocumentParams) -> None:
        texts = params.change.cells.text_content if params.change.cells else None
        changes = [(text.document.uri, change) for text in texts or () for change in text.changes
                   if isinstance(change, types.TextDocumentContentChangePartial)]
        edit = None
        if changes:  # where the last edit left the cursor, in the notebook's document
            cell, last = changes[-1]
            target = ls.target(cell, *position_after(last.range.start.line, last.range.start.character, last.text))
            edit = target[1:3] if target else None
        notebook = ls.workspace.get_notebook_document(notebook_uri=params.notebook_document.uri)
        service.changed(params.notebook_document.uri, edit, ls.joined(notebook).language if notebook else None)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def did_save_notebook(ls: DeepfimServer, params: types.DidSaveNotebookDocumentParams) -> None:
        service.saved(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def did_close_notebook(ls: DeepfimServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.forget_notebook(params.notebook_document.uri)
        service.closed(params.notebook_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: DeepfimServer, params: types.DidChangeWatchedFilesParams) -> None:
        service.files_changed((c.uri, c.type == types.FileChangeType.Deleted) for c in params.changes)

    @server.feature(types.WORKSPACE_DID_RENAME_FILES, types.FileOperationRegistrationOptions(
        filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*"))]))
    def did_rename_files(ls: DeepfimServer, params: types.RenameFilesParams) -> None:
        service.files_changed([(f.old_uri, True) for f in params.files] + [(f.new_uri, False) for f in params.files])

    @server.feature(types.WORKSPACE_DID_DELETE_FILES, types.FileOperationRegistrationOptions(
        filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*"))]))
    def did_delete_files(ls: DeepfimServer, params: types.DeleteFilesParams) -> None:
        service.files_changed((f.uri, True) for f in params.files)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: DeepfimServer, params: types.InlineCompletionParams
                                ) -> types.InlineCompletionList:
        target = ls.target(params.text_document.uri, params.position.line, params.position.character)
        result = await service.complete(*target[:3]) if target else None
        cursor = ls.cursor(params.text_document.uri, target, result.line, result.character) if target and result \
            else None
        if cursor is None or result is None or not result.completion:
            return types.InlineCompletionList(items=[])
        item = types.InlineCompletionItem(insert_text=result.completion, range=types.Range(start=cursor, end=cursor))
        return types.InlineCompletionList(items=[item])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
    async def completion(ls: DeepfimServer, params: types.CompletionParams) -> types.CompletionList:
        target = ls.target(params.text_document.uri, params.position.line, params.position.character)
        result = await service.complete(*target[:3]) if target else None
        cursor = ls.cursor(params.text_document.uri, target, result.line, result.character) if target and result \
            else None
        if cursor is None or result is None or not result.completion:
            return types.CompletionList(is_incomplete=True, items=[])
        word = trailing_word(result.before)
        start = types.Position(line=cursor.line, character=index_to_utf16(result.before, result.column - len(word)))
        first_line = result.completion.split("\n", 1)[0].rstrip("\r")
        label = (word + first_line).strip() or result.completion.strip().split("\n", 1)[0]
        item = types.CompletionItem(
            label=label[:80],
            filter_text=word + first_line,
            kind=types.CompletionItemKind.Text,
            detail="deepfim",
            documentation=types.MarkupContent(kind=types.MarkupKind.PlainText, value=result.completion),
            insert_text_format=types.InsertTextFormat.PlainText,
            insert_text_mode=types.InsertTextMode.AsIs,
            text_edit=types.TextEdit(range=types.Range(start=start, end=cursor),
                                     new_text=word + result.completion),
            sort_text="0",
            preselect=True,
        )
        return types.CompletionList(is_incomplete=True, items=[item])

    edits = Edits(server)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.RefactorRewrite]))
    def code_action(ls: DeepfimServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return edits.code_actions(params)

    @server.command(EDIT_COMMAND)
    async def edit(ls: DeepfimServer, *arguments: Any) -> dict:
        return await edits.execute(arguments)

    @server.feature(STATS)
    def stats(ls: DeepfimServer, params: Any) -> dict:
        return {**service.counters(), "rss_bytes": resident_bytes(), "pending_requests": ls.protocol.pending_requests}

    @server.feature(EXPLAIN)
    def explain(ls: DeepfimServer, params: Any) -> Optional[dict]:
        document = params.get("textDocument") if isinstance(params, dict) else getattr(params, "textDocument", None)
        uri = document.get("uri") if isinstance(document, dict) else getattr(document, "uri", None)
        target = ls.target(uri) if isinstance(uri, str) else None
        return service.explain(target[0]) if target else None

    return server


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


async def _watch_parent(ls: DeepfimServer, pid: int) -> None:
    """Exit when the editor that started us is gone (it can no longer send `exit`); a process this
    machine never had is not watched (an editor that runs `ssh host deepfim serve` or `docker exec`)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        log.info("client process %s is not on this machine; not watching it", pid)
        return
    except PermissionError:
        pass
    while True:
        await asyncio.sleep(3)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log.warning("client process %s is gone; exiting", pid)
            ls.service.close()
            os._exit(0)
        except PermissionError:
            pass

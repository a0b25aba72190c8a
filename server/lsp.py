"""The LSP server: document sync, inline and dropdown completions, settings, model loading."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from fim.context import select_context
from fim.positions import index_to_utf16, locate, lsp_lines, position_after
from fim.prompt import Snippet
from fim.similarity import RecentEdits
from models.catalog import ModelNotFound, resolve
from server import __version__
from server.cache import CompletionCache
from server.completion import (
    Completer,
    CompletionRequest,
    CompletionResult,
    ContextProvider,
)
from server.engine import Cancelled, Engine, ModelLoadError
from server.protocol import RobustProtocol
from server.settings import Settings
from server.worker import CancelToken, ModelWorker
from server.workspace import WorkspaceIndex

log = logging.getLogger(__name__)

EXPLAIN = "deepfim/explain"
STATS = "deepfim/stats"  # counters and resident memory, for benchmarks and soak tests
# A request less than this after the previous one means the client does not debounce...
FAST_TYPING_GAP_S = 0.15
# ...so it waits this long for the next keystroke before taking the model.
DEBOUNCE_S = 0.06
# Typing pause after which the prompt for the edit position is evaluated in the background.
PREFILL_PAUSE_S = 0.3
# Server -> client notification: {"state": loading|ready|error|disabled, "message", "percentage"?, "model"?}
STATUS = "deepfim/status"
_WORD_BEFORE = re.compile(r"[\w$]*\Z")


class DeepfimServer(LanguageServer):
    """deepfim's language server. One instance per process."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("deepfim", __version__, protocol_cls=RobustProtocol)
        self.settings = settings
        self.worker = ModelWorker()
        self.completer: Optional[Completer] = None
        self.load_error: Optional[str] = None
        self._loading: Optional[Future] = None
        self.last_results: dict[str, dict] = {}
        self.roots: list[Path] = []
        self.index: Optional[WorkspaceIndex] = None
        self.recent = RecentEdits()
        self.cache = CompletionCache()
        self._sequence = 0
        self._last_request = 0.0
        self._prefill_handle: Optional[asyncio.TimerHandle] = None
        self.stats = {"requests": 0, "cache_hits": 0, "model_runs": 0, "superseded": 0, "prefills": 0,
                      "prefetches": 0, "warmups": 0}
        self.status: dict = {"state": "loading", "message": "starting"}
        self.apply_log_policy()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log out-of-band errors (pygls would show them to the user in a popup)."""
        log.warning("error while handling a message: %s", error)

    def apply_log_policy(self) -> None:
        """pygls logs whole messages (source text included) at INFO: silence it unless `logText`."""
        logging.getLogger("pygls").setLevel(logging.NOTSET if self.settings.log_text else logging.WARNING)

    def send_status(self, state: str, message: str, **extra: Any) -> None:
        """Tell the client what the server is doing, for status bars and mode lines."""
        self.status = {"state": state, "message": message, **extra}
        self.protocol.notify(STATUS, self.status)

    # ------------------------------------------------------------ model loading
    def load_model(self) -> Future:
        """Load (or reload) the model on the worker thread, reporting progress to the client."""
        settings = self.settings
        loop = asyncio.get_event_loop()
        token: Optional[str] = None
        window = self.client_capabilities.window if self.protocol.client_capabilities else None
        if window is not None and window.work_done_progress:
            token = f"deepfim-load-{uuid.uuid4()}"
            self.work_done_progress.create(token)
            self.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title="deepfim: loading model", percentage=0, cancellable=False))
        last = [-1]

        def progress(value: float) -> None:
            percent = int(value * 100)
            if percent >= last[0] + 5:
                last[0] = percent
                loop.call_soon_threadsafe(partial(self.send_status, "loading", f"loading model {percent}%",
                                                  percentage=percent))
                if token:
                    loop.call_soon_threadsafe(self.work_done_progress.report, token,
                                              types.WorkDoneProgressReport(percentage=percent))

        def job() -> Completer:
            if self.completer is not None:
                self.completer.engine.close()
                self.completer = None
            path = resolve(settings.model)
            engine = Engine(path, n_ctx=settings.context_size, n_threads=settings.threads, progress=progress)
            return Completer(engine, settings)

        def done(future: Future) -> None:
            loop.call_soon_threadsafe(self._loaded, future, token)

        self.load_error = None
        self.send_status("loading", "loading model", percentage=0)
        self._loading = self.worker.submit(job)
        self._loading.add_done_callback(done)
        return self._loading

    def _loaded(self, future: Future, token: Optional[str]) -> None:
        error = future.exception()
        if error is None:
            self.completer = future.result()
            info = self.completer.engine.info
            message = f"deepfim ready: {info.name} ({info.template.name} template, {info.n_ctx}-token window)"
            if token:
                self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))
            self.send_status("ready" if self.settings.enabled else "disabled", message, model=info.name)
            for warning in info.warnings:
                self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                                 message=f"deepfim: {warning}"))
            return
        if isinstance(error, (ModelLoadError, ModelNotFound)):
            self.load_error = str(error)
        else:
            log.exception("model loading failed", exc_info=error)
            self.load_error = f"loading the model failed: {error}"
        if token:
            self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=self.load_error))
        self.send_status("error", self.load_error)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                         message=f"deepfim: {self.load_error}"))

    async def ready_completer(self) -> Optional[Completer]:
        """The completer once the model is loaded; None when loading failed."""
        if self._loading is not None and not self._loading.done():
            try:
                await asyncio.wrap_future(self._loading)
            except Exception:
                return None
        if self._loading is not None and self._loading.done() and self._loading.exception() is None:
            return self._loading.result()
        return None

    # ---------------------------------------------------------------- workspace
    def start_index(self, roots: list[Path]) -> None:
        """Index the workspace folders on a background thread; completions never wait for it."""
        self.roots = roots
        self.index = WorkspaceIndex(roots)
        index = self.index

        def scan() -> None:
            try:
                while not index.scan(limit_seconds=0.25):
                    time.sleep(0.01)  # let the model thread have the GIL between slices
            except Exception:
                log.exception("indexing the workspace failed")

        threading.Thread(target=scan, name="deepfim-index", daemon=True).start()

    def relative_path(self, uri: str) -> Optional[str]:
        relative = self.index.relpath(uri) if self.index is not None else None
        if relative:
            return relative
        path = to_fs_path(uri)
        return Path(path).name if path else None

    def context_provider(self, uri: str, text: str, line: int) -> Optional[ContextProvider]:
        """Repository context for a completion in `uri`, chosen on the model thread."""
        index = self.index
        relative = index.relpath(uri) if index is not None else None
        if index is None or relative is None:
            return None

        def provide(window: tuple[int, int], budget_chars: int) -> list[Snippet]:
            return select_context(relative, text, line, index.snapshot(), index.open_paths(), self.recent,
                                  budget_chars, window, recent_paths=index.recent_paths())

        return provide

    def document_changed(self, uri: str, line: Optional[int] = None) -> None:
        if self.index is None:
            return
        try:
            text = self.workspace.get_text_document(uri).source
        except OSError:
            return
        relative = self.index.update(uri, text)
        if relative is not None and line is not None:
            self.recent.note_edit(relative, text, line)

    # --------------------------------------------------------------- completion

    def document_text(self, uri: str) -> Optional[str]:
        try:
            return self.workspace.get_text_document(uri).source
        except OSError:
            return None

    def request_for(self, uri: str, text: str, line: int, character: int) -> CompletionRequest:
        return CompletionRequest(text=text, line=line, character=character, path=self.relative_path(uri),
                                 context=self.context_provider(uri, text, line))

    async def complete_at(self, uri: str, position: types.Position) -> Optional[Served]:
        """The completion at `position`: from the cache, or from the model (latest request wins)."""
        if not self.settings.enabled:
            return None
        completer = await self.ready_completer()
        text = self.document_text(uri)
        if completer is None or text is None:
            return None
        self.stats["requests"] += 1
        line, column, offset = locate(text, position.line, position.character)
        before, after = text[:offset], text[offset:]
        cached = self.cache.get(uri, before, after)
        if cached is not None:
            self.stats["cache_hits"] += 1
            return Served(cached, line, column)
        # Adaptive debounce: a client that sends a request per keystroke gets a short wait, so
        # the next keystroke supersedes this request before it occupies the model.
        self._sequence += 1
        sequence = self._sequence
        now = time.monotonic()
        gap, self._last_request = now - self._last_request, now
        if gap < FAST_TYPING_GAP_S:
            await asyncio.sleep(DEBOUNCE_S)
            if sequence != self._sequence:
                self.stats["superseded"] += 1
                return None
        request = self.request_for(uri, text, line, position.character)
        self.stats["model_runs"] += 1

        def job(cancel: CancelToken) -> CompletionResult:
            result = completer.complete(request, cancel)
            self.last_results[uri] = result.to_json()  # kept for deepfim/explain, cancelled or not
            return result

        future, token = self.worker.submit_latest(job)
        try:
            result = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            token.cancel()
            raise
        if result.generation.stop_reason == "cancelled":
            self.stats["superseded"] += 1
            return None
        self.cache.put(uri, before, after, result.completion)
        return Served(result.completion, line, column)

    # ------------------------------------------------------- background work
    def schedule_prefill(self, uri: str, line: int, character: int) -> None:
        """After a pause in typing, evaluate the prompt for the edit position into the KV cache."""
        if self._prefill_handle is not None:
            self._prefill_handle.cancel()
        loop = asyncio.get_event_loop()
        self._prefill_handle = loop.call_later(PREFILL_PAUSE_S, self._prefill, uri, line, character)

    def _prefill(self, uri: str, line: int, character: int) -> None:
        completer, text = self.completer, self.document_text(uri)
        if completer is None or text is None or not self.settings.enabled:
            return
        offset = locate(text, line, character)[2]
        if self.cache.get(uri, text[:offset], text[offset:]) is not None:
            return  # typing through a suggestion: the answer is already here
        request = self.request_for(uri, text, line, character)

        def job(cancel: CancelToken) -> None:
            _, prompt = completer.prompt_for(request)
            try:
                completer.engine.prefill(completer.heal(prompt)[0].token_ids, cancel)
            except Cancelled:
                pass

        self.stats["prefills"] += 1
        self.worker.submit_background(job)

    def warm(self, uri: str) -> None:
        """On open: choose the file's context and tokenize it once in the background, so the first
        completion there finds imports resolved, neighbours parsed and lines tokenized."""
        text, loading = self.document_text(uri), self._loading
        if text is None or loading is None or not self.settings.enabled:
            return
        request = self.request_for(uri, text, 0, 0)

        def job(cancel: CancelToken) -> None:
            # Queued behind the model's loading when a file is opened at startup.
            if cancel() or not loading.done() or loading.exception() is not None:
                return
            loading.result().prompt_for(request)
            self.stats["warmups"] += 1

        self.worker.submit_background(job)

    def prefetch(self, uri: str, text: str, offset: int) -> None:
        """Complete ahead at `offset` (where an accepted suggestion ended) and cache the result."""
        completer = self.completer
        if completer is None:
            return
        line, column, _ = _line_column(text, offset)
        lines = lsp_lines(text)
        request = self.request_for(uri, text, line, index_to_utf16(lines[line], column))

        def job(cancel: CancelToken) -> None:
            result = completer.complete(request, cancel)
            if result.generation.stop_reason != "cancelled":
                self.cache.put(uri, text[:offset], text[offset:], result.completion)

        self.stats["prefetches"] += 1
        self.worker.submit_background(job)

    def shutdown_worker(self) -> None:
        self.worker.stop()


@dataclass(frozen=True)
class Served:
    """A completion as served: the text to insert and the cursor (line, code-point column)."""

    completion: str
    line: int
    column: int


def _line_column(text: str, offset: int) -> tuple[int, int, int]:
    lines = lsp_lines(text)
    consumed = 0
    for number, row in enumerate(lines):
        if offset <= consumed + len(row.rstrip("\r\n")):
            return number, offset - consumed, offset
        consumed += len(row)
    return len(lines) - 1, len(lines[-1]), offset


def _cursor_position(result: Served, text_line: str) -> types.Position:
    return types.Position(line=result.line, character=index_to_utf16(text_line, result.column))


def create_server(settings: Settings) -> DeepfimServer:
    server = DeepfimServer(settings)

    @server.feature(types.INITIALIZE)
    def initialize(ls: DeepfimServer, params: types.InitializeParams) -> None:
        ls.settings = ls.settings.merged(params.initialization_options)
        ls.apply_log_policy()
        roots = [to_fs_path(f.uri) for f in params.workspace_folders or []]
        if not roots and params.root_uri:
            roots = [to_fs_path(params.root_uri)]
        ls.start_index([Path(r) for r in roots if r])
        if params.process_id:
            asyncio.get_event_loop().create_task(_watch_parent(ls, params.process_id))

    @server.feature(types.INITIALIZED)
    def initialized(ls: DeepfimServer, params: types.InitializedParams) -> None:
        ls.load_model()

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DeepfimServer, *args: Any) -> None:
        ls.shutdown_worker()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: DeepfimServer, params: types.DidChangeConfigurationParams) -> None:
        old = ls.settings
        ls.settings = old.merged(params.settings)
        ls.apply_log_policy()
        if ls.completer is not None:
            ls.completer.settings = ls.settings
        if old.enabled != ls.settings.enabled and ls.completer is not None:
            ls.send_status("ready" if ls.settings.enabled else "disabled",
                           "enabled" if ls.settings.enabled else "disabled by the client's settings",
                           model=ls.completer.engine.info.name)
        reload_keys = ("model", "context_size", "threads")
        if any(getattr(old, k) != getattr(ls.settings, k) for k in reload_keys) and ls._loading is not None:
            ls.load_model()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DeepfimServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.document_changed(params.text_document.uri)
        ls.warm(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DeepfimServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        partial = [c for c in params.content_changes if isinstance(c, types.TextDocumentContentChangePartial)]
        ls.document_changed(uri, partial[-1].range.start.line if partial else None)
        text = ls.document_text(uri)
        accepted = ls.cache.accepted(uri, text) if text is not None else None
        if accepted is not None:
            ls.prefetch(uri, text, accepted)
        elif partial:
            last = partial[-1]
            ls.schedule_prefill(uri, *position_after(last.range.start.line, last.range.start.character, last.text))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DeepfimServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.document_changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DeepfimServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.last_results.pop(params.text_document.uri, None)
        ls.cache.forget(params.text_document.uri)
        if ls.index is not None:
            ls.index.close(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: DeepfimServer, params: types.DidChangeWatchedFilesParams) -> None:
        if ls.index is None:
            return
        for change in params.changes:
            if change.type == types.FileChangeType.Deleted:
                ls.index.remove(change.uri)
            else:
                ls.index.refresh(change.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: DeepfimServer, params: types.InlineCompletionParams
                                ) -> types.InlineCompletionList:
        result = await ls.complete_at(params.text_document.uri, params.position)
        if result is None or not result.completion:
            return types.InlineCompletionList(items=[])
        position = params.position
        item = types.InlineCompletionItem(insert_text=result.completion,
                                          range=types.Range(start=position, end=position))
        return types.InlineCompletionList(items=[item])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
    async def completion(ls: DeepfimServer, params: types.CompletionParams) -> types.CompletionList:
        result = await ls.complete_at(params.text_document.uri, params.position)
        if result is None or not result.completion:
            return types.CompletionList(is_incomplete=True, items=[])
        document = ls.workspace.get_text_document(params.text_document.uri)
        lines = lsp_lines(document.source)
        line_text = lines[result.line] if result.line < len(lines) else ""
        word = _WORD_BEFORE.search(line_text[:result.column]).group(0)
        cursor = _cursor_position(result, line_text)
        start = types.Position(line=cursor.line, character=index_to_utf16(line_text, result.column - len(word)))
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

    @server.feature(STATS)
    def stats(ls: DeepfimServer, params: Any) -> dict:
        return {**ls.stats, "rss_bytes": resident_bytes(), "pending_requests": ls.protocol.pending_requests,
                "cached_tokens": ls.completer.engine.cached_tokens if ls.completer else 0}

    @server.feature(EXPLAIN)
    def explain(ls: DeepfimServer, params: Any) -> Optional[dict]:
        document = params.get("textDocument") if isinstance(params, dict) else getattr(params, "textDocument", None)
        uri = document.get("uri") if isinstance(document, dict) else getattr(document, "uri", None)
        if not isinstance(uri, str):
            return None
        return ls.last_results.get(uri)

    return server


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


async def _watch_parent(ls: DeepfimServer, pid: int) -> None:
    """Exit when the editor that started us is gone (it can no longer send `exit`)."""
    while True:
        await asyncio.sleep(3)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log.warning("client process %s is gone; exiting", pid)
            ls.shutdown_worker()
            os._exit(0)
        except PermissionError:
            pass

"""The completion service: the policy of serving completions, behind a small interface.

It owns the model's lifetime (load, reload, unload on the one model thread), the completion cache,
the adaptive debounce, background work (prefill after a pause, prefetch after an accepted
suggestion, warm-up on open), the project (workspace folders, index, recent-edit ring), the last
result per document for `deepfim/explain`, and the counters. `server/lsp.py` turns LSP messages
into calls of this class; `deepfim complete` and the benchmarks call the same methods.

Every model job reads the current completer when it runs, on the model thread, where loading
and closing also happen: a job queued before a reload runs on the new model, never on a closed
one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Optional, TypeVar
from urllib.parse import unquote, urlsplit

from fim.positions import index_to_utf16, locate
from models.catalog import ModelNotFound
from server.cache import CompletionCache
from server.completion import Completer, CompletionRequest, CompletionResult, open_completer
from server.engines.base import Cancelled, EngineReplaced, EngineUnavailable, ModelInfo, ModelLoadError
from server.engines.http import KNOCK_INTERVAL_S, shown_url
from server.lines import position_of
from server.project import Project
from server.settings import Settings
from server.worker import CancelToken, ModelWorker
from server.workspace import PathLike

log = logging.getLogger(__name__)

# A request less than this after the previous one means the client does not debounce...
FAST_TYPING_GAP_S = 0.15
# ...so it waits this long for the next keystroke before taking the model, when a decoding step of
# the model takes more than half of that: a superseded answer holds the model until its step ends,
# which costs the next keystroke more than the wait only when steps are slow (a CPU: 70-800 ms).
# On a GPU (2.5 ms a step, 1.3B shape, H200) the wait doubled every keystroke's latency (120 ms
# against a 37 ms floor); gating it on the whole answer's time (about the wait) still cost it on
# every other keystroke (p50 75 ms).
DEBOUNCE_S = 0.06
# Typing pause after which the prompt for the edit position is evaluated in the background.
PREFILL_PAUSE_S = 0.3
# Tokens read per batch in the background: small, so the next keystroke waits little for the model.
FILL_BATCH = 64
# While a document's window is read behind short-prompt answers, the reading gets about this share
# of the model's time when keystrokes come without pause: a keystroke waits for the slice under way,
# at most FILL_SHARE / (1 - FILL_SHARE) times the last short answer took (and FILL_SLICE_MAX_S).
# Giving way after every batch left the window unread while someone typed (cold open, 1.3B shape on
# 2 cores: 46 keystrokes in 81 s read a third of it); 0.6 read it in 1.33-1.36 x a cold read's
# time, 0.7 in about 1.2 x. Without short answers it gives way at once.
FILL_SHARE = 0.7
FILL_SLICE_MAX_S = 10.0
# Reading a prompt for longer than this is shown to the user.
READING_NOTICE_S = 1.0
TOLD_CAUSES = 3  # an outage tells the user at most this many causes (its first, then those to act on)
# Settings whose change needs the model loaded again.
RELOAD_SETTINGS = ("model", "context_size", "threads", "engine", "engine_api", "engine_model", "gpu_layers",
                    "flash_attention", "kv_cache_type")

T = TypeVar("T")


def debounces(gap_s: float, step_s: float) -> bool:
    """Whether a request `gap_s` after the previous one waits DEBOUNCE_S for the next keystroke
    before taking the model, whose decoding steps take `step_s` each."""
    return gap_s < FAST_TYPING_GAP_S and step_s > DEBOUNCE_S / 2


@dataclass(frozen=True)
class Served:
    """A completion as served: the text to insert, the cursor (line, code-point column) and the text of its
    line before it."""

    completion: str
    line: int
    column: int
    before: str

    @property
    def character(self) -> int:
        """The cursor's column in UTF-16 code units."""
        return index_to_utf16(self.before, self.column)


class Listener:
    """What the service tells its host (the LSP server forwards it to the editor). Methods may be
    called from the model thread."""

    def status(self, state: str, message: str, **extra: object) -> None:
        """loading | ready | error | disabled, for status bars."""

    def load_started(self) -> None:
        """A model load began."""

    def load_progress(self, percent: int) -> None:
        """Loading is `percent` done (reported in steps of 5)."""

    def load_finished(self, message: str, error: bool, warnings: list[str]) -> None:
        """The load ended: `message` says with what; `warnings` are for the user once each."""

    def outage(self, message: Optional[str]) -> None:
        """A remote engine stopped answering (`message` says why, once per outage) or is back (None)."""

    def reading(self, percent: Optional[int], done: int = 0, total: int = 0) -> None:
        """Reading a prompt has taken over a second: `percent` of `total` tokens read; None: finished."""


class ReadingReport:
    """Tells the listener how reading a prompt goes once it has taken more than READING_NOTICE_S
    (a keystroke's few tokens never show), in steps of 5%, and when it is over."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.started = time.monotonic()
        self.shown = -5

    def __call__(self, done: int, total: int) -> None:
        if total <= 0 or time.monotonic() - self.started < READING_NOTICE_S:
            return
        percent = min(100, done * 100 // total)
        if percent >= self.shown + 5:
            self.shown = percent
            self.listener.reading(percent, done, total)

    def finish(self) -> None:
        if self.shown >= 0:
            self.listener.reading(None)


class CompletionService:
    """Completions for the documents of one editor session (or one CLI run)."""

    def __init__(self, settings: Settings, listener: Optional[Listener] = None,
                 text_of: Callable[[str], Optional[str]] = lambda uri: None, background_index: bool = True,
                 locate_in: Optional[Callable[[str, str, int, int], tuple[int, int, int]]] = None) -> None:
        self.settings = settings
        self._started = settings  # what a client's null settings go back to
        self.listener = listener or Listener()
        self._text_of = text_of
        # (uri, text, line, character) -> `locate(text, line, character)`, from the editor's line starts
        self._locate = locate_in or (lambda uri, text, line, character: locate(text, line, character))
        self.worker = ModelWorker()
        self.project = Project(on_forget=self._forget, background=background_index,
                               dependencies=settings.installed_packages)
        self.cache = CompletionCache()
        self.last_results: dict[str, CompletionResult] = {}
        self.stats = {"requests": 0, "cache_hits": 0, "model_runs": 0, "superseded": 0, "prefills": 0,
                      "prefetches": 0, "warmups": 0, "reloads": 0}
        self.model: Optional[ModelInfo] = None
        self.load_error: Optional[str] = None
        self._completer: Optional[Completer] = None  # read and written on the model thread only
        self._loading: Optional[Future] = None
        self._load_failures = 0  # consecutive loads that found a remote engine unreachable
        self._outage: Optional[str] = None
        self._told: set[str] = set()  # the causes of this outage told to the user
        self._cause: Optional[str] = None  # the cause the status shows now
        self._retry: Optional[threading.Timer] = None
        self._stale = threading.Event()  # a file left the project: cached completions may hold it
        self._sequence = 0
        self._last_request = 0.0
        self._step_s = float("inf")  # the last answer's time per decoding step (unknown: debounce)
        self._prefill_handle: Optional[asyncio.TimerHandle] = None
        self._replaced: Optional[Completer] = None  # the completer whose engine said it was replaced
        self._quick_s = 0.0  # how long the last short-prompt answer took; 0 once the full window answers
        # The progress of reading a window in the background: one from its first slice to its last
        # (model thread only).
        self._fill_report: Optional[ReadingReport] = None
        self._fill_request: Optional[tuple[str, CompletionRequest]] = None  # (uri, request) of the window being read
        self._focus: Optional[tuple[str, int]] = None  # (uri, line) of the last completion request
        self._answers_serial = 0  # moves on whenever cached answers are forgotten
        self._languages: dict[str, str] = {}  # uri -> the editor's languageId
        self._open: set[str] = set()  # the documents opened and not closed since

    # ------------------------------------------------------------------ settings
    def configure(self, options: object, ours: bool = False) -> list[str]:
        """Apply client settings; returns one warning per refused value (and unknown key where all are
        `ours`, see Settings.validated). Reloads the model when a setting that shapes it changed, or
        when loading it failed (and a model was asked for before)."""
        old = self.settings
        self.settings, warnings = old.validated(options, ours, self._started)
        self.project.dependencies = self.settings.installed_packages
        if self.settings != old:  # answers cached so far may have come out otherwise
            self._forget_answers()
        if old.enabled != self.settings.enabled and self.model is not None:
            self.listener.status("ready" if self.settings.enabled else "disabled",
                                 "enabled" if self.settings.enabled else "disabled by the client's settings",
                                 model=self.model.name)
        if old.enabled and not self.settings.enabled:
            self.worker.cancel_background()  # a window read in the background: no completion will use it
        changed = any(getattr(old, k) != getattr(self.settings, k) for k in RELOAD_SETTINGS)
        # After a failed load (not an engine outage, retried by itself), any settings change tries again:
        # the model may have been downloaded since.
        if self._loading is not None and (changed or (self.load_error is not None and not self._load_failures)):
            self.load()
        return warnings

    # -------------------------------------------------------------------- model
    def load(self, retrying: bool = False) -> "Future[ModelInfo]":
        """Load (or reload) the model on the model thread. Jobs queued behind it run on the new one.
        `retrying`: another try to reach a remote engine that was down, which the user is not shown
        (its status stays the error until it succeeds)."""
        settings = self.settings
        last = [-5]

        def progress(value: float) -> None:
            percent = int(value * 100)
            if percent >= last[0] + 5:
                last[0] = percent
                self.listener.load_progress(percent)

        def job() -> ModelInfo:
            self._fill_done()
            old, self._completer = self._completer, None
            if old is not None:
                self.stats["reloads"] += 1
                old.engine.close()
            self._completer = open_completer(settings, progress=progress)
            return self._completer.engine.info

        self.load_error = None
        self.model = None
        self._forget_answers()
        self._step_s = float("inf")  # another engine: its steps are not timed yet
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if not retrying:
            self._load_failures = 0
            self._outage_over()
            self.listener.load_started()
            if settings.engine:  # nothing to count: a few requests to learn what the server serves
                self.listener.status("loading", f"connecting to the engine at {shown_url(settings.engine)}")
            else:
                self.listener.status("loading", "loading model", percentage=0)
        self.worker.cancel_background()
        loading = self._loading = self.worker.submit(job)
        loading.add_done_callback(self._loaded)
        return loading

    def _forget_answers(self) -> None:
        """Another model or settings: cached answers are not served again, nor those still coming."""
        self._answers_serial += 1
        self.cache.clear()

    def _loaded(self, future: "Future[ModelInfo]") -> None:
        if future is not self._loading:
            return  # a newer load is under way
        error = future.exception()
        if error is None:
            self._load_failures = 0
            self._outage_over()
            info = self.model = future.result()
            message = f"deepfim ready: {info.name} ({info.template.name} template, {info.n_ctx}-token window)"
            self.listener.load_finished(message, False, list(info.warnings))
            self.listener.status("ready" if self.settings.enabled else "disabled", message, model=info.name)
            return
        if isinstance(error, EngineUnavailable):
            # The server may come up later: try again, backing off, without a restart.
            self.load_error = str(error)
            self._load_failures += 1
            # A server not started yet, or loading its model, is asked again each KNOCK_INTERVAL_S: it answers
            # at once (refused, 503) and is used within a second of being ready; others after 2, 4 ... 30 s.
            delay = KNOCK_INTERVAL_S if error.knock else min(30.0, 2.0 ** self._load_failures)
            self._retry = threading.Timer(delay, self._retry_load, (future,))
            self._retry.daemon = True
            self._retry.start()
            if self.load_error == self._cause:
                return  # the same cause again: said and shown already
            self._cause = self.load_error
            if not self._tell(self.load_error, error.fixable):  # said once per outage and cause
                self.listener.status("error", self.load_error)
                return
        elif isinstance(error, (ModelLoadError, ModelNotFound)):
            self.load_error = str(error)
        else:
            log.error("model loading failed", exc_info=error)
            self.load_error = f"loading the model failed: {error}"
        self.listener.load_finished(self.load_error, True, [])
        self.listener.status("error", self.load_error)

    def _retry_load(self, failed: Future) -> None:
        if failed is self._loading:
            self.load(retrying=True)

    async def ready(self) -> bool:
        """Wait for the model being loaded; False when none is (or loading failed). A request never
        waits for a retry to reach a remote engine that was down."""
        if self._load_failures:
            return self._loading is not None and self._loading.done() and self._loading.exception() is None
        while self._loading is not None:
            loading = self._loading
            try:  # shielded: a cancelled request must not cancel the load it waits for
                await asyncio.shield(asyncio.wrap_future(loading))
            except Exception:
                pass
            if loading is self._loading:
                return loading.exception() is None
        return False

    def _job(self, job: Callable[[Completer, CancelToken], T]) -> Callable[[CancelToken], Optional[T]]:
        """`job` as the model thread runs it: with the completer current when it runs (None result
        when no model is loaded)."""
        def run(cancel: CancelToken) -> Optional[T]:
            completer = self._completer
            if completer is None or cancel():
                return None
            completer.settings = self.settings
            try:
                result = job(completer, cancel)
            except EngineReplaced as error:
                if self._replaced is not completer:  # once: the jobs queued meanwhile find it replaced too
                    self._replaced = completer
                    log.info("%s", error)
                    self.load()
                return None
            except EngineUnavailable as error:
                self._engine_down(str(error), getattr(completer.engine, "outage", None), error.fixable)
                return None
            if self._outage is not None and getattr(completer.engine, "outage", None) is None:
                self._outage_over()
                self.listener.outage(None)
            return result

        return run

    def _engine_down(self, message: str, cause: Optional[str], fixable: bool = False) -> None:
        """Tell the user once per outage (not once per keystroke), and again only where the user must
        act (`fixable`: a server that comes back refusing the API key); `cause` is the message less
        its changing parts (the backoff). The status follows the cause of the moment, told or not."""
        cause = cause or message
        self._outage = message
        if cause == self._cause:
            return
        self._cause = cause
        if self._tell(cause, fixable):
            self.listener.outage(message)
        else:
            self.listener.status("error", message)

    def _tell(self, cause: str, fixable: bool) -> bool:
        """Whether `cause` is news in this outage: its first cause, or one the user must act on (the
        first TOLD_CAUSES only); it is told from now on. A server that stopped is said once, not again
        as its stream ends, its port refuses and it loads its model."""
        if cause in self._told or len(self._told) >= TOLD_CAUSES or (self._told and not fixable):
            return False
        self._told.add(cause)
        return True

    def _outage_over(self) -> None:
        self._outage = None
        self._told.clear()
        self._cause = None

    # ---------------------------------------------------------------- documents
    def request_for(self, uri: PathLike, text: str, line: int, character: int,
                    offset: Optional[int] = None) -> CompletionRequest:
        """A completion request for a document, with the project's context; `offset` and `line` as
        `locate` gives them, where the caller has them."""
        relative = self.project.relpath(uri)
        if relative is None:
            relative = _name(uri)
        language = self._languages.get(str(uri))
        return CompletionRequest(text=text, line=line, character=character, path=relative,
                                 context=self.project.context(uri, text, line, language=language, character=character),
                                 language=language,
                                 offset=offset)

    def opened(self, uri: str, language: Optional[str] = None) -> None:
        """A document opened in the editor, with its LSP languageId when the client sent one."""
        self._open.add(uri)
        if language:
            self._languages[uri] = language
        text = self._text_of(uri)
        if text is not None:
            self.project.opened(uri, text)
            self.warm(uri)

    def changed(self, uri: str, edit: Optional[tuple[int, int]], language: Optional[str] = None) -> None:
        """A document changed; `edit` is the position after the last change, when the client said; `language`:
        its languageId now, where a change can change it (a notebook's, that of most of its code cells)."""
        if language:
            self._languages[uri] = language
        text = self._text_of(uri)
        if text is None:
            return
        self.project.edited(uri, text, edit[0] if edit else None)
        self._cancel_prefill()  # it was for a cursor this edit moved
        accepted = self.cache.accepted(uri, text)
        if accepted is not None:
            self.prefetch(uri, text, accepted)
        elif edit is not None:
            self.schedule_prefill(uri, *edit)

    def saved(self, uri: str) -> None:
        text = self._text_of(uri)
        if text is None:
            return
        self.project.opened(uri, text)
        if self._focus is not None and self._focus[0] == uri:
            self.project.viewed(uri, text, self._focus[1])

    def closed(self, uri: str) -> None:
        self._open.discard(uri)  # before its result goes: a completion under way checks in this order
        self.last_results.pop(uri, None)
        self._languages.pop(uri, None)
        self.cache.forget(uri)
        self.project.closed(uri)
        self._cancel_prefill()  # the reading after a pause: of this file, or of one just left to close it
        if self._fill_request is not None and self._fill_request[0] == uri:  # nobody will ask there
            self.worker.cancel_background()  # a reading under way gives way at once
            self.worker.submit(lambda: self._drop_fill(uri))

    def files_changed(self, changes: Iterable[tuple[str, bool]]) -> None:
        """Files created/changed (False) or deleted (True) on disk."""
        for uri, deleted in changes:
            if deleted:
                self.project.file_deleted(uri)
            else:
                self.project.file_changed(uri)

    def set_roots(self, roots: list[Path], open_uris: Iterable[str]) -> None:
        """The workspace folders changed (added or removed at run time)."""
        documents = [(uri, text) for uri in open_uris if (text := self._text_of(uri)) is not None]
        self.project.set_roots(roots, documents)

    def _forget(self, rel: str) -> None:
        """A file left the project (any thread): no cached completion may have been built on it."""
        self._stale.set()

    def _note_focus(self, uri: str, line: int) -> None:
        """Feed the ring when the user moves to another document, as llama.vim does on BufLeave."""
        if self._focus is not None and self._focus[0] != uri:
            previous, previous_line = self._focus
            text = self._text_of(previous)
            if text is not None:
                self.project.viewed(previous, text, previous_line)
        self._focus = (uri, line)

    def _cached(self, uri: str, before: str, after: str) -> Optional[str]:
        if self._stale.is_set():
            self._stale.clear()
            self.cache.clear()
            self.last_results.clear()
        return self.cache.get(uri, before, after)

    # --------------------------------------------------------------- completion
    async def complete(self, uri: str, line: int, character: int) -> Optional[Served]:
        """The completion at a position: from the cache, or from the model (latest request wins)."""
        if not self.settings.enabled or not await self.ready():
            return None
        text = self._text_of(uri)
        if text is None:
            return None
        self.stats["requests"] += 1
        line, column, offset = self._locate(uri, text, line, character)
        character = index_to_utf16(text[offset - column:offset], column)  # of the position as clamped
        self._note_focus(uri, line)
        before, after = text[:offset], text[offset:]
        cached = self._cached(uri, before, after)
        if cached is not None:
            self.stats["cache_hits"] += 1
            return Served(cached, line, column, text[offset - column:offset])
        serial = self._answers_serial
        # Adaptive debounce: a client that sends a request per keystroke gets a short wait, so
        # the next keystroke supersedes this request before it occupies the model.
        self._sequence += 1
        sequence = self._sequence
        now = time.monotonic()
        gap, self._last_request = now - self._last_request, now
        if debounces(gap, self._step_s):
            await asyncio.sleep(DEBOUNCE_S)
            if sequence != self._sequence or self._text_of(uri) != text:  # typed on: its answer would go unshown
                self.stats["superseded"] += 1
                return None
        request = self.request_for(uri, text, line, character, offset)
        self.stats["model_runs"] += 1
        was_open = uri in self._open

        def job(completer: Completer, cancel: CancelToken) -> CompletionResult:
            report = ReadingReport(self.listener)
            started = time.monotonic()
            try:
                result = completer.complete(request, cancel, report, self.settings.first_answer_ms / 1000)
            finally:
                report.finish()
            self.last_results[uri] = result  # kept for deepfim/explain, cancelled or not
            closed = was_open and uri not in self._open  # closed meanwhile: nobody asks there
            if closed:  # (and it held the prompt)
                self.last_results.pop(uri, None)
            if result.generation.steps:  # cancelled answers too: in a burst of typing, every one is
                self._step_s = result.generation.generate_ms / result.generation.steps / 1000
            if result.window == "quick":
                self._quick_s = time.monotonic() - started
                if not closed:
                    self._read_window(uri, request)
            elif result.generation.stop_reason != "cancelled":
                self._quick_s = 0.0
                self._fill_done()
            return result

        future, token = self.worker.submit_latest(self._job(job))
        try:
            result = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            token.cancel()
            raise
        if result is None or result.generation.stop_reason == "cancelled":
            self.stats["superseded"] += 1
            return None
        if result.complete and serial == self._answers_serial:
            self.cache.put(uri, before, after, result.completion)
        if self._text_of(uri) != text:  # typed meanwhile: the answer is the old text's (cached for it above)
            self.stats["superseded"] += 1
            return None
        return Served(result.completion, line, column, text[offset - column:offset])

    def complete_now(self, uri: PathLike, text: str, line: int, character: int) -> CompletionResult:
        """One completion, blocking (the CLI and benchmarks): loads the model first if needed and
        raises ModelLoadError/ModelNotFound when it cannot."""
        if self._loading is None:
            self.load()
        assert self._loading is not None
        self._loading.result()
        request = self.request_for(uri, text, line, character)

        def job(completer: Completer, cancel: CancelToken) -> CompletionResult:
            report = ReadingReport(self.listener)
            try:
                return completer.complete(request, cancel, report)
            finally:
                report.finish()

        future, _ = self.worker.submit_latest(self._job(job))
        result = future.result()
        if result is None:
            raise EngineUnavailable(self._outage or "the engine did not answer")
        return result

    def run_on_model_thread(self, job: Callable[[Optional[Completer]], T]) -> "Future[T]":
        """Run `job` on the model thread after the jobs queued before it (a reload included), with the
        completer current then (None when no model is loaded). Not latest-wins: completions asked
        for meanwhile wait behind it (instruct edits)."""
        return self.worker.submit(lambda: job(self._completer))

    # ------------------------------------------------------------ background work
    def schedule_prefill(self, uri: str, line: int, character: int) -> None:
        """After a pause in typing, evaluate the prompt for the edit position into the KV cache."""
        self._cancel_prefill()
        loop = asyncio.get_running_loop()
        self._prefill_handle = loop.call_later(PREFILL_PAUSE_S, self._prefill, uri, line, character)

    def _cancel_prefill(self) -> None:
        if self._prefill_handle is not None:
            self._prefill_handle.cancel()
            self._prefill_handle = None

    def _prefill(self, uri: str, line: int, character: int) -> None:
        text = self._text_of(uri)
        if self.model is None or text is None or not self.settings.enabled:
            return
        line, column, offset = self._locate(uri, text, line, character)
        if self._cached(uri, text[:offset], text[offset:]) is not None:
            return  # typing through a suggestion: the answer is already here
        character = index_to_utf16(text[offset - column:offset], column)
        request = self.request_for(uri, text, line, character, offset)

        self.stats["prefills"] += 1
        self._read_window(uri, request)

    def _read_window(self, uri: str, request: CompletionRequest) -> None:
        """Read the prompt of `request` (in document `uri`) into the KV cache in the background, in
        small batches that give way to the next keystroke; the next reading resumes where this one stopped."""
        slice_s = min(FILL_SLICE_MAX_S, self._quick_s * FILL_SHARE / (1 - FILL_SHARE))
        self._fill_request = uri, request

        def job(completer: Completer, cancel: CancelToken) -> None:
            report = self._fill_report = self._fill_report or ReadingReport(self.listener)
            started = time.monotonic()

            def give_way() -> bool:
                return cancel() and (cancel.closing or time.monotonic() - started >= slice_s)

            read = True
            try:
                completer.prefill(request, give_way, report, batch=FILL_BATCH)
            except Cancelled:
                read = cancel.closing  # gave way to a keystroke: the next slice carries the progress on
            finally:
                if read:
                    self._fill_done()

        self.worker.submit_background(self._job(job))

    def _fill_done(self) -> None:
        """The window read in the background is read (or no longer wanted): its progress ends."""
        self._fill_request = None
        if self._fill_report is not None:
            self._fill_report.finish()
            self._fill_report = None

    def _resume_fill(self) -> None:
        """Background work that took the model from a window being read (a warm-up, a prefetch) hands
        it back: the reading goes on where it stopped, and its progress with it."""
        if self._fill_request is not None:
            self._read_window(*self._fill_request)

    def _drop_fill(self, uri: str) -> None:
        """`uri` was closed: the reading of its window, if one is to be resumed, ends (model thread)."""
        if self._fill_request is not None and self._fill_request[0] == uri:
            self._fill_done()

    def warm(self, uri: str) -> None:
        """On open: choose the file's context and tokenize it once in the background, so the first
        completion there finds imports resolved, neighbours parsed and lines tokenized."""
        text = self._text_of(uri)
        if text is None or self._loading is None or not self.settings.enabled:
            return
        request = self.request_for(uri, text, 0, 0, 0)

        def job(completer: Completer, cancel: CancelToken) -> None:
            completer.prompt_for(request)
            self.stats["warmups"] += 1
            self._resume_fill()

        self.worker.submit_background(self._job(job))

    def prefetch(self, uri: str, text: str, offset: int) -> None:
        """Complete ahead at `offset` (where an accepted suggestion ended) and cache the result."""
        if self.model is None:
            return
        line, character = position_of(text, offset)
        request = self.request_for(uri, text, line, character, offset)
        serial = self._answers_serial

        def job(completer: Completer, cancel: CancelToken) -> None:
            result = completer.complete(request, cancel)
            if result.complete and serial == self._answers_serial:
                self.cache.put(uri, text[:offset], text[offset:], result.completion)
            if not cancel():
                self._resume_fill()

        self.stats["prefetches"] += 1
        self.worker.submit_background(self._job(job))

    # ------------------------------------------------------------------ reports
    def explain(self, uri: str) -> Optional[dict]:
        """The prompt, segments and timings of the last completion the model made for `uri`."""
        result = self.last_results.get(uri)
        return result.to_json() if result is not None else None

    def counters(self) -> dict:
        engine = self.model is not None and self._completer is not None and self._completer.engine
        return {**self.stats, "cached_tokens": engine.cached_tokens if engine else 0}

    def close(self) -> None:
        """Stop the model thread (queued jobs are cancelled); the model is freed with the process."""
        if self._retry is not None:
            self._retry.cancel()
        self.worker.stop()


def _name(uri: PathLike) -> Optional[str]:
    """The file name of a document outside the workspace: a URI's without its query or fragment (a notebook
    cell's `vscode-notebook-cell:/w/nb.ipynb#W0sZmlsZQ%3D%3D` is `nb.ipynb`), else the path's."""
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is not None and len(parts.scheme) > 1:  # (not a Windows drive letter)
        return PurePosixPath(unquote(parts.path)).name or None
    return Path(str(uri)).name or None

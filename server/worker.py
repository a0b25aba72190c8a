"""The one thread that owns the model: jobs run one at a time, the latest request wins."""

from __future__ import annotations

import ctypes
import queue
import threading
import time
from concurrent.futures import Future
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


TRIM_INTERVAL_S = 30.0

try:
    _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc
    _malloc_trim = None


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the OS (glibc's malloc_trim). Every keystroke copies the
    document and its slices; without this, freed holes in the heap stay resident for days."""
    if _malloc_trim is not None:
        _malloc_trim(0)


class CancelToken:
    """Set when the request that owns a job is cancelled or superseded; `closing` when the worker
    stops (nothing may hold on then)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.closing = False

    def cancel(self, closing: bool = False) -> None:
        self.closing = self.closing or closing
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


class ModelWorker:
    """Runs jobs on a single daemon thread.

    `submit_latest` cancels the job it submitted before (latest wins), so the queue never holds
    more than one live completion and a superseded decode stops within one token.
    """

    def __init__(self, name: str = "deepfim-model") -> None:
        self._jobs: "queue.Queue[Optional[tuple[Callable[[], object], Future]]]" = queue.Queue()
        self._latest: Optional[CancelToken] = None
        self._background: Optional[CancelToken] = None
        self._lock = threading.Lock()
        self._trimmed = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as error:  # delivered to the waiting request
                future.set_exception(error)
            now = time.monotonic()
            if now - self._trimmed > TRIM_INTERVAL_S:
                self._trimmed = now
                release_free_memory()

    def submit(self, job: Callable[[], T]) -> "Future[T]":
        future: Future = Future()
        self._jobs.put((job, future))
        return future

    def submit_latest(self, job: Callable[[CancelToken], T]) -> tuple["Future[T]", CancelToken]:
        """Submit a foreground job and cancel the previous foreground job."""
        token = CancelToken()
        with self._lock:
            for previous in (self._latest, self._background):
                if previous is not None:
                    previous.cancel()
            self._latest = token
        return self.submit(lambda: job(token)), token

    def submit_background(self, job: Callable[[CancelToken], T]) -> "Future[T]":
        """Submit low-priority work (prefill, prefetch). It gives way at once to the next
        foreground job and replaces a background job still waiting; it never cancels a
        foreground job."""
        token = CancelToken()
        with self._lock:
            if self._background is not None:
                self._background.cancel()
            self._background = token
        return self.submit(lambda: job(token))

    def cancel_background(self) -> None:
        """Make background work give way at once (a reload: what it reads is for the old model)."""
        with self._lock:
            if self._background is not None:
                self._background.cancel(closing=True)

    def stop(self) -> None:
        for token in (self._latest, self._background):
            if token is not None:
                token.cancel(closing=True)
        self._jobs.put(None)

    def join(self, timeout_s: float) -> bool:
        """After `stop`: wait up to `timeout_s` for the thread to end; False when a job still runs."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

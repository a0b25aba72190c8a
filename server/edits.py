"""Instruct edits for the editor and the command line: which engine writes them, one-off edits
(`deepfim edit`), and, in the server, code actions and the `deepfim.edit` command.

The instruct engine is the completion engine unless `instructModel` (a second model in-process)
or `instructEngine` (a remote engine) is set. A second model loads on first use on the model
thread, where completions and reloads run too (so an edit never races a reload), is closed after
IDLE_S without edits, and loads only when memory allows it beside the completion model.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from server.engines import open_engine
from server.engines.base import Engine, ModelLoadError
from server.instruct import EditRequest, EditResult, Instructor
from server.memory import MARGIN_BYTES, available_bytes
from server.project import Project
from server.settings import Settings

INSTRUCT_CTX = 8192  # the instruct model's window at most (a second KV cache beside the completion model's)
IDLE_S = 300.0  # a second instruct model is closed after this long without edits


def instruct_settings(settings: Settings) -> Optional[Settings]:
    """The settings that open the instruct engine; None: edits run on the completion engine."""
    if settings.instruct_engine:
        return replace(settings, engine=settings.instruct_engine, engine_api=settings.instruct_engine_api,
                       engine_model=settings.instruct_model)
    if settings.instruct_model:
        return replace(settings, model=settings.instruct_model, engine=None,
                       context_size=min(settings.context_size, INSTRUCT_CTX))
    return None


def open_instruct_engine(settings: Settings, progress: Optional[Callable[[float], None]] = None) -> Engine:
    """Open the engine `settings` name for edits, refusing a model file that does not fit in the
    memory left (llama.cpp would abort the process rather than fail). Raises ModelNotFound,
    ModelLoadError, EngineUnavailable."""
    if not settings.engine:
        from models.catalog import resolve

        path = resolve(settings.model)
        available = available_bytes()
        size = path.stat().st_size
        if available is not None and size + MARGIN_BYTES > available:
            raise ModelLoadError(f"not enough memory for the instruct model {path.name} ({size >> 20} MiB, "
                                 f"{available >> 20} MiB free besides the completion model): free memory or set "
                                 f"instructModel to a smaller model")
    return open_engine(settings, progress)


def edit_once(file: Path, text: str, start: tuple[int, int], end: tuple[int, int], instruction: str,
              action: str, settings: Settings, root: Path, max_tokens: Optional[int] = None) -> EditResult:
    """One edit of a file's range with the model `settings` name (`deepfim edit`), with the
    project's context. Raises ModelNotFound, ModelLoadError, EngineUnavailable, EditTooLong."""
    project = Project(background=False)
    project.set_roots([root])
    project.scan(limit_seconds=10)
    project.opened(file, text)
    engine = open_instruct_engine(instruct_settings(settings) or replace(
        settings, context_size=min(settings.context_size, INSTRUCT_CTX)))
    try:
        request = EditRequest(text=text, start=start, end=end, instruction=instruction, action=action,
                              path=project.relpath(file) or file.name, context=project.context(file, text, start[0]))
        return Instructor(engine, settings.lookup_decoding).run(request, lambda: False, max_tokens=max_tokens)
    finally:
        engine.close()


class InstructEngines:
    """The instruct engine as the model thread sees it: the completion engine, or a second engine
    opened on first use and closed after IDLE_S. Every method runs on the model thread."""

    def __init__(self, submit: Callable[[Callable[[], None]], object]) -> None:
        self._submit = submit  # queues a job on the model thread
        self._engine: Optional[Engine] = None
        self._instructor: Optional[Instructor] = None
        self._key: Optional[Settings] = None
        self._used = 0.0
        self._timer: Optional[object] = None

    def instructor(self, settings: Settings, completion_engine: Optional[Engine]) -> Instructor:
        """The instructor for the current settings (opening or replacing the second engine as they
        say). Raises ModelNotFound, ModelLoadError, EngineUnavailable."""
        wanted = instruct_settings(settings)
        self._used = time.monotonic()
        if wanted is None:
            self.close()
            if completion_engine is None:
                raise ModelLoadError("no model is loaded for edits: set model, or instructModel for a separate "
                                     "instruct model")
            if self._instructor is None or self._instructor.engine is not completion_engine:
                self._instructor = Instructor(completion_engine, settings.lookup_decoding)
            self._instructor.lookup = settings.lookup_decoding
            return self._instructor
        if self._engine is None or self._key != wanted:
            self.close()
            self._engine = open_instruct_engine(wanted)
            self._key = wanted
            self._instructor = Instructor(self._engine, settings.lookup_decoding)
            self._schedule_idle_check()
        assert self._instructor is not None
        self._instructor.lookup = settings.lookup_decoding
        return self._instructor

    def _schedule_idle_check(self) -> None:
        import threading

        def check() -> None:
            self._submit(self._close_if_idle)

        timer = threading.Timer(IDLE_S, check)
        timer.daemon = True
        timer.start()
        self._timer = timer

    def _close_if_idle(self) -> None:
        if self._engine is None:
            return
        if time.monotonic() - self._used >= IDLE_S:
            self.close()
        else:
            self._schedule_idle_check()

    @property
    def loaded(self) -> bool:
        """Whether a second engine is open."""
        return self._engine is not None

    def close(self) -> None:
        """Close the second engine, if one is open."""
        engine, self._engine, self._key = self._engine, None, None
        if engine is not None:
            self._instructor = None
            engine.close()

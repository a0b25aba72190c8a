"""Instruct edits for the editor and the command line: which engine writes them, one-off edits
(`deepfim edit`), and, in the server, code actions and the `deepfim.edit` command.

The instruct engine is the completion engine unless `instructModel` (a second model in-process)
or `instructEngine` (a remote engine) is set. A second model loads on first use on the model
thread, where completions and reloads run too (so an edit never races a reload), is closed after
IDLE_S without edits, and loads only when memory allows it beside the completion model.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from fim.instruct import ACTIONS, Action, action, line_break
from fim.positions import index_to_utf16, lsp_lines
from models.catalog import ModelNotFound
from server import textfile
from server.engines import open_engine
from server.engines.base import Cancelled, Engine, EngineReplaced, EngineUnavailable, ModelLoadError
from server.instruct import EditRequest, EditResult, EditTooLong, Instructor
from server.memory import MARGIN_BYTES, available_bytes
from server.project import Project
from server.service import Listener, ReadingReport
from server.settings import Settings
from server.worker import CancelToken

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


_ENGINE_KEY = re.compile(r"\bset (engineApi|engineModel|engine)\b")
_INSTRUCT_KEYS = {"engine": "instructEngine", "engineApi": "instructEngineApi", "engineModel": "instructModel"}


def in_instruct_terms(error: object, settings: Settings) -> str:
    """An edit's error, naming the instruct engine's settings where edits run on one (`instructEngine`):
    its remote engine's messages say "set engine" as the completion engine's do."""
    if not settings.instruct_engine:
        return str(error)
    return _ENGINE_KEY.sub(lambda m: f"set {_INSTRUCT_KEYS[m[1]]}", str(error))


def open_instruct_engine(settings: Settings, progress: Optional[Callable[[float], None]] = None,
                         setting: Optional[str] = "instructModel") -> Engine:
    """Open the engine `settings` name for edits, refusing a model file that does not fit in the
    memory left (llama.cpp would abort the process rather than fail). Raises ModelNotFound,
    ModelLoadError, EngineUnavailable; their messages name `setting` (None: `--model`)."""
    if not settings.engine:
        from models.catalog import resolve
        from server.engines.local import check_gguf_file

        path = resolve(settings.model, setting)
        check_gguf_file(path, setting)
        available = available_bytes()
        size = path.stat().st_size
        if available is not None and size + MARGIN_BYTES > available:
            raise ModelLoadError(f"not enough memory for the instruct model {path.name} ({size >> 20} MiB, "
                                 f"{available >> 20} MiB free besides the completion model): free memory or set "
                                 f"instructModel to a smaller model")
    return open_engine(settings, progress)


def edit_once(file: Path, text: str, start: tuple[int, int], end: tuple[int, int], instruction: str,
              action: str, settings: Settings, root: Path, max_tokens: Optional[int] = None,
              warn: Callable[[str], None] = lambda warning: None, listener: Optional[Listener] = None,
              on_text: Optional[Callable[[str, int], None]] = None) -> EditResult:
    """One edit of a file's range with the model `settings` name (`deepfim edit`), with the
    project's context; `warn` gets the model's warnings (the small model standing in for the
    default, a chat template that fails) before it writes, `listener` the loading and the prompt
    reading as `deepfim complete`'s, `on_text` the answer as it grows. Raises ModelNotFound,
    ModelLoadError, EngineUnavailable, EditTooLong."""
    listener = listener or Listener()
    shown = [-5]

    def loading(value: float) -> None:
        if int(value * 100) >= shown[0] + 5:
            shown[0] = int(value * 100)
            listener.load_progress(shown[0])

    project = Project(background=False, dependencies=settings.installed_packages)
    project.set_roots([root])
    project.scan(limit_seconds=10)
    project.opened(file, text)
    wanted = instruct_settings(settings)
    try:
        engine = open_instruct_engine(wanted or replace(settings, context_size=min(settings.context_size,
                                                                                   INSTRUCT_CTX)),
                                      progress=loading, setting="instructModel" if wanted else None)
    except (ModelLoadError, ModelNotFound, EngineUnavailable) as error:
        listener.load_finished(str(error), True, [])
        raise
    listener.load_finished(engine.info.name, False, list(engine.info.warnings))
    try:
        request = EditRequest(text=text, start=start, end=end, instruction=instruction, action=action,
                              path=project.relpath(file) or file.name, context=project.context(file, text, start[0]))
        instructor = Instructor(engine, settings.lookup_decoding)
        for warning in [*engine.info.warnings, *instructor.warnings]:
            warn(warning)
        report = ReadingReport(listener)
        try:
            return instructor.run(request, lambda: False, on_text, progress=report, max_tokens=max_tokens)
        finally:
            report.finish()
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
        self._timer: Optional[threading.Timer] = None

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
        if self._timer is not None:
            self._timer.cancel()  # a reopened engine starts its own idle check
            self._timer = None
        if engine is not None:
            self._instructor = None
            engine.close()


# ------------------------------------------------------------------------------------------ LSP
EDIT_COMMAND = "deepfim.edit"
PROGRESS_EVERY_S = 0.25  # streamed progress reports at most this often
PROGRESS_CREATE_TIMEOUT_S = 5.0  # a client that does not answer window/workDoneProgress/create gets no progress
APPLY_TIMEOUT_S = 120.0  # an editor that has not answered workspace/applyEdit by then is not waited for


class EditCommandError(ValueError):
    """`deepfim.edit` was called with arguments it cannot use."""


class Edits:
    """Code actions on a selection and the `deepfim.edit` command of one LSP server. `server` is the
    pygls server (documents, applyEdit, progress, messages) whose `service` runs the model thread."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.service = server.service
        self.engines = InstructEngines(self.service.worker.submit)

    # -------------------------------------------------------------- code actions
    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        """deepfim's actions for a non-empty selection, when the client wants refactor.rewrite ones."""
        span = params.range
        if (span.start.line, span.start.character) == (span.end.line, span.end.character):
            return []
        only = params.context.only if params.context else None
        kind = types.CodeActionKind.RefactorRewrite
        if only and not any(kind == wanted or kind.value.startswith(f"{wanted}.") for wanted in only):
            return []
        uri = params.text_document.uri
        out = []
        for act in ACTIONS:
            argument: dict = {"textDocument": {"uri": uri}, "range": _range_json(span), "action": act.name}
            if act.instruction:
                argument["instruction"] = act.instruction
            out.append(types.CodeAction(title=act.title, kind=kind,
                                        command=types.Command(title=act.title, command=EDIT_COMMAND,
                                                              arguments=[argument])))
        return out

    # -------------------------------------------------------------- the command
    async def execute(self, arguments: Sequence[Any]) -> dict:
        """Run `deepfim.edit`: write the edit on the model thread, streaming `$/progress`, and apply
        it with `workspace/applyEdit` unless the document changed meanwhile (explanations are shown,
        tests go to a new file). Cancelled by `$/cancelRequest` or the progress's cancel button."""
        try:
            uri, span, instruction, act = _command_arguments(arguments)
        except EditCommandError as error:
            raise JsonRpcInvalidParams(str(error)) from None
        server = self.server
        text = server.document_text(uri)
        if text is None:
            raise JsonRpcInvalidParams(f"deepfim.edit: {uri} is neither open in the editor nor a readable text file; "
                                       f"open it and select the code to edit")
        version = server.workspace.get_text_document(uri).version
        base = self.service.request_for(uri, text, span.start.line, span.start.character)
        request = EditRequest(text=text, start=(span.start.line, span.start.character),
                              end=(span.end.line, span.end.character), instruction=instruction, action=act.name,
                              path=base.path, language=base.language, context=base.context)
        cancel = CancelToken()
        progress = await self._begin_progress(act, cancel)
        loop = asyncio.get_running_loop()
        shown = [0.0]

        def on_text(answer: str, tokens: int) -> None:
            now = time.monotonic()
            if progress is not None and now - shown[0] >= PROGRESS_EVERY_S:
                shown[0] = now
                loop.call_soon_threadsafe(self._report, progress, f"writing: {tokens} tokens")

        def job(completer: Any) -> EditResult:
            if cancel():
                raise Cancelled()
            settings = self.service.settings
            instructor = self.engines.instructor(settings, completer.engine if completer is not None else None)
            for warning in instructor.warnings:
                loop.call_soon_threadsafe(server.show, types.MessageType.Warning, warning)
            instructor.warnings = []
            return instructor.run(request, cancel, on_text)

        if not self.engines.loaded and instruct_settings(self.service.settings) is None:
            await self.service.ready()  # the completion model, still loading
        try:
            result = await asyncio.wrap_future(self.service.run_on_model_thread(job))
        except asyncio.CancelledError:
            cancel.cancel()
            self._end_progress(progress, "cancelled")
            raise
        except Cancelled:
            self._end_progress(progress, "cancelled")
            return {"applied": False, "reason": "cancelled"}
        except (ModelLoadError, ModelNotFound, EngineUnavailable, EditTooLong) as error:
            self._end_progress(progress, "failed")
            if isinstance(error, EngineReplaced):  # open the engine again for what comes next
                if instruct_settings(self.service.settings) is None:
                    self.service.load()
                else:
                    self.service.run_on_model_thread(lambda _: self.engines.close())
            reason = in_instruct_terms(error, self.service.settings)
            server.show(types.MessageType.Error, reason)
            return {"applied": False, "reason": reason}
        if result.cancelled:
            self._end_progress(progress, "cancelled")
            return {"applied": False, "reason": "cancelled"}
        self._end_progress(progress, f"done: {result.generation.generated_tokens} tokens")
        if act.result == "answer":
            if _flag(arguments, "show", True) is not False:
                server.show(types.MessageType.Info, result.edit or "(no answer)")
            return {"applied": False, "explanation": result.edit, "model": result.model}
        if not result.edit.strip():
            server.show(types.MessageType.Warning, f"the model's answer held no code ({result.model}); nothing "
                                                   f"changed")
            return {"applied": False, "reason": "the model's answer held no code"}
        if act.result == "file":  # another file: edits of the document meanwhile do not matter
            return await self._write_tests(uri, result)
        if server.workspace.get_text_document(uri).version != version:
            server.show(types.MessageType.Warning, "the document changed while the edit was written, so it was not "
                                                   "applied; ask again")
            return {"applied": False, "reason": "the document changed"}
        edit = self._document_edit(uri, version, span, result.edit)
        answer = await self._apply(edit, act.title)
        return {"applied": bool(answer.applied), "edit": result.edit, "model": result.model}

    async def _apply(self, edit: types.WorkspaceEdit, label: str) -> types.ApplyWorkspaceEditResult:
        """`workspace/applyEdit`; not applied when the editor gives no usable answer in APPLY_TIMEOUT_S."""
        try:
            return await asyncio.wait_for(self.server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label=label)), APPLY_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.server.show(types.MessageType.Warning, f"the editor did not answer workspace/applyEdit for {label}")
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="no answer")

    def _document_edit(self, uri: str, version: Optional[int], span: types.Range, new_text: str
                       ) -> types.WorkspaceEdit:
        text_edit = types.TextEdit(range=span, new_text=new_text)
        if self._client_workspace_edit("document_changes"):
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier,
                                                                                edits=[text_edit])])
        return types.WorkspaceEdit(changes={uri: [text_edit]})

    async def _write_tests(self, uri: str, result: EditResult) -> dict:
        """The tests in their own file next to the document (appended when it exists), then shown."""
        server = self.server
        path = to_fs_path(uri)
        if not path:  # a document that is no file (VS Code's untitled:Untitled-1): no folder for its tests
            server.show(types.MessageType.Info, f"tests:\n{result.edit}")
            return {"applied": False, "tests": result.edit}
        source = Path(path)
        target = source.parent / Path(result.test_path or "tests").name
        target_uri = target.as_uri()
        existing = self._document_text(target_uri, target)
        newline = line_break(existing or server.document_text(uri) or "")
        # the test file's line breaks, else the document's
        tests = result.edit.replace("\r\n", "\n").replace("\n", newline)
        if existing is None:
            if "create" not in (self._client_workspace_edit("resource_operations") or ()):
                server.show(types.MessageType.Info, f"tests for {source.name}:\n{result.edit}")
                return {"applied": False, "tests": result.edit, "uri": target_uri}
            start = types.Position(line=0, character=0)
            changes: list = [types.CreateFile(uri=target_uri, kind="create",
                                              options=types.CreateFileOptions(ignore_if_exists=True)),
                             types.TextDocumentEdit(
                                 text_document=types.OptionalVersionedTextDocumentIdentifier(uri=target_uri, version=None),
                                 edits=[types.TextEdit(range=types.Range(start=start, end=start),
                                                       new_text=tests)])]
            edit = types.WorkspaceEdit(document_changes=changes)
        else:
            lines = lsp_lines(existing)
            end = types.Position(line=len(lines) - 1, character=index_to_utf16(lines[-1], len(lines[-1])))
            blank = existing.endswith(newline * 2) or existing.endswith("\n\n")
            glue = "" if not existing or blank else newline if existing.endswith(newline) else newline * 2
            edit = self._document_edit(target_uri, None, types.Range(start=end, end=end), glue + tests)
        answer = await self._apply(edit, "deepfim: Write tests")
        window = server.client_capabilities.window
        if answer.applied and window is not None and window.show_document is not None \
                and window.show_document.support:
            # Not awaited: a client whose answer pygls cannot read would keep the command waiting.
            server.window_show_document(types.ShowDocumentParams(uri=target_uri, take_focus=True))
        return {"applied": bool(answer.applied), "tests": result.edit, "uri": target_uri}

    def _document_text(self, uri: str, path: Path) -> Optional[str]:
        """The text of a document: the editor's when it is open, else the file's; None when neither exists."""
        opened = unquote(uri) in self.server.workspace.text_documents  # pygls's keys are unquoted URIs
        text = self.server.document_text(uri) if opened else None
        if text is not None:
            return text
        try:
            data = path.read_bytes()
        except OSError:
            return None
        # as the editor will show it (its own line breaks, untranslated), binary as UTF-8
        text = textfile.decode(data)
        return data.decode("utf-8", "replace") if text is None else text

    def _client_workspace_edit(self, name: str) -> Any:
        workspace = self.server.client_capabilities.workspace
        edit = workspace.workspace_edit if workspace is not None else None
        return getattr(edit, name, None) if edit is not None else None

    # -------------------------------------------------------------- progress
    async def _begin_progress(self, act: Action, cancel: CancelToken) -> Optional[str]:
        server = self.server
        window = server.client_capabilities.window
        if window is None or not window.work_done_progress:
            return None
        token = f"deepfim-edit-{uuid.uuid4()}"
        try:
            await asyncio.wait_for(server.work_done_progress.create_async(token), PROGRESS_CREATE_TIMEOUT_S)
        except Exception:  # the client refused or did not answer: no progress, the edit goes on
            return None
        server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=act.title, message="reading the prompt", cancellable=True))
        server.work_done_progress.tokens[token].add_done_callback(lambda future: cancel.cancel())
        return token

    def _report(self, token: str, message: str) -> None:
        self.server.work_done_progress.report(token, types.WorkDoneProgressReport(message=message))

    def _end_progress(self, token: Optional[str], message: str) -> None:
        if token is not None:
            self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
            self.server.work_done_progress.tokens.pop(token, None)


def _range_json(span: types.Range) -> dict:
    return {"start": {"line": span.start.line, "character": span.start.character},
            "end": {"line": span.end.line, "character": span.end.character}}


def _flag(arguments: Sequence[Any], key: str, default: Any) -> Any:
    first = arguments[0] if arguments else None
    return first.get(key, default) if isinstance(first, dict) else default


def _command_arguments(arguments: Sequence[Any]) -> tuple[str, types.Range, str, Action]:
    """(uri, range, instruction, action) of `deepfim.edit`'s argument
    `{"textDocument": {"uri"}, "range", "instruction"?, "action"?}`. Raises EditCommandError."""
    first = arguments[0] if arguments else None
    if not isinstance(first, dict):
        raise EditCommandError('deepfim.edit takes one argument {"textDocument": {"uri": ...}, "range": ..., '
                               '"instruction": ...}')
    document, span = first.get("textDocument"), first.get("range")
    uri = document.get("uri") if isinstance(document, dict) else None
    try:
        start, end = (types.Position(line=int(span[k]["line"]), character=int(span[k]["character"]))
                      for k in ("start", "end"))
    except (TypeError, KeyError, ValueError):
        raise EditCommandError('deepfim.edit needs "range": {"start": {"line", "character"}, "end": ...}') from None
    if not isinstance(uri, str):
        raise EditCommandError('deepfim.edit needs "textDocument": {"uri": ...}')
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    act = action(first.get("action") or "edit")
    if act is None:
        raise EditCommandError(f"unknown action {first.get('action')!r}; one of {', '.join(a.name for a in ACTIONS)}")
    instruction = first.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        instruction = act.instruction
    if not instruction:
        raise EditCommandError('deepfim.edit needs an "instruction" (the editor asks for it)')
    return uri, types.Range(start=start, end=end), instruction, act

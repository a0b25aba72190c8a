"""A synchronous wrapper around pygls's LanguageClient driving `deepfim serve` as a subprocess."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parent.parent


class LspSession:
    """Starts `deepfim serve`, initializes it, and offers blocking calls for tests."""

    def __init__(self, model: str, root: Path, options: Optional[dict] = None,
                 env: Optional[dict] = None, progress: bool = True, watch_files: bool = False) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.client = LanguageClient("deepfim-tests", "0")
        self.messages: list[types.ShowMessageParams] = []
        self.progress: list[Any] = []
        self.statuses: list[Any] = []
        self.logs: list[types.LogMessageParams] = []
        self.registrations: list[types.Registration] = []
        self.root = root
        self._ids = itertools.count(10_000)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(params: types.ShowMessageParams) -> None:
            self.messages.append(params)

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.client.feature("deepfim/status")
        def on_status(params: Any) -> None:
            self.statuses.append(params)

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params: types.LogMessageParams) -> None:
            self.logs.append(params)

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def on_register(params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)

        @self.client.feature(types.PROGRESS)
        def on_progress(params: types.ProgressParams) -> None:
            self.progress.append(params.value)

        full_env = dict(os.environ, **(env or {}))
        model_args = ["--model", model] if model else []  # "": the model comes from the options (a remote engine)
        self.run(self.client.start_io(sys.executable, "-m", "server.cli", "serve", *model_args,
                                      env=full_env, cwd=str(REPO)))
        capabilities = types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=progress),
            notebook_document=types.NotebookDocumentClientCapabilities(  # as VS Code's
                synchronization=types.NotebookDocumentSyncClientCapabilities()),
            workspace=types.WorkspaceClientCapabilities(
                workspace_folders=True,
                did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                    dynamic_registration=watch_files)))
        self.initialize_result = self.run(self.client.initialize_async(types.InitializeParams(
            process_id=os.getpid(),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            capabilities=capabilities,
            # Prompts always hold the whole window here, whatever the machine's load: first answers from
            # a short prompt (firstAnswerMs) depend on timing and are tested on their own.
            initialization_options={"firstAnswerMs": 0, **(options or {})},
        )), timeout=60)
        self.client.initialized(types.InitializedParams())

    def run(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Any, *args: Any) -> Any:
        """Run a synchronous client method on the client's loop thread."""
        done: Future = Future()

        def invoke() -> None:
            try:
                done.set_result(fn(*args))
            except BaseException as error:
                done.set_exception(error)

        self.loop.call_soon_threadsafe(invoke)
        return done.result(30)

    # ------------------------------------------------------------------ documents
    def open(self, path: Path, text: str, language: str = "python", version: int = 1) -> str:
        uri = path.as_uri()
        self.call(self.client.text_document_did_open, types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))
        return uri

    def change(self, uri: str, version: int, text: str,
               range_: Optional[types.Range] = None) -> None:
        if range_ is None:
            change: Any = types.TextDocumentContentChangeWholeDocument(text=text)
        else:
            change = types.TextDocumentContentChangePartial(range=range_, text=text)
        self.call(self.client.text_document_did_change, types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change]))

    def files_changed(self, *changes: tuple[Path, types.FileChangeType]) -> None:
        self.call(self.client.workspace_did_change_watched_files, types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=kind) for path, kind in changes]))

    def folders_changed(self, added: list[Path], removed: list[Path] = []) -> None:
        folders = [[types.WorkspaceFolder(uri=p.as_uri(), name=p.name) for p in paths] for paths in (added, removed)]
        self.call(self.client.workspace_did_change_workspace_folders, types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=folders[0], removed=folders[1])))

    def configure(self, settings: Any) -> None:
        self.call(self.client.workspace_did_change_configuration,
                  types.DidChangeConfigurationParams(settings=settings))

    def close_document(self, uri: str) -> None:
        self.call(self.client.text_document_did_close, types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    # ------------------------------------------------------------------- requests
    def inline(self, uri: str, line: int, character: int, timeout: float = 120) -> types.InlineCompletionList:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        return self.run(self.client.text_document_inline_completion_async(params), timeout)

    def completion(self, uri: str, line: int, character: int, timeout: float = 120) -> types.CompletionList:
        params = types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                        position=types.Position(line=line, character=character))
        return self.run(self.client.text_document_completion_async(params), timeout)

    def explain(self, uri: str) -> Any:
        return self.request("deepfim/explain", {"textDocument": {"uri": uri}})

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        async def send() -> Any:
            return await self.client.protocol.send_request_async(method, params)

        return _plain(self.run(send(), timeout))

    def send_request(self, method: str, params: Any) -> tuple[int, Future]:
        """Send a request with a known id; return the id and a future for the response."""
        msg_id = next(self._ids)
        future = self.call(lambda: self.client.protocol.send_request(method, params, msg_id=msg_id))
        return msg_id, future

    def cancel(self, msg_id: int) -> None:
        self.call(self.client.protocol.notify, types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    def write_raw(self, body: bytes) -> None:
        """Write one framed message body as is (for malformed-input tests)."""
        header = f"Content-Length: {len(body)}\r\n\r\n".encode()
        self.call(lambda: self.client.protocol.writer.write(header + body))

    def close(self) -> None:
        try:
            self.run(self.client.shutdown_async(None), timeout=20)
            self.client.exit(None)
        except Exception:
            pass
        try:
            self.run(self.client.stop(), timeout=20)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)


def _plain(value: Any) -> Any:
    """pygls's client turns untyped results into named tuples; give tests plain JSON values."""
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value

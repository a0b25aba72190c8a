"""pygls's LSP protocol, hardened so that every request gets an answer.

pygls 2.1 drops a request whose params fail to deserialize (after logging it), ignores requests
after `shutdown` without answering, and answers nothing to unparseable JSON, to a message that is
not a JSON-RPC object, to a request before `initialize`, or to a notification's method sent with an
id: a client then waits forever. It tells a request whose id is neither an integer nor a string
that its params are invalid. Here each of those gets the JSON-RPC error the spec asks for,
positions are always negotiated as UTF-16, and a didChange content change with `"range": null` (a
text document's or a notebook cell's) is the whole text (lsprotocol refused it, and the change was
dropped). pygls also keeps the future of every notification it handles (a ``didChange`` per
keystroke) for the life of the process; here it is let go once done.
"""

from __future__ import annotations

import logging
from typing import Any, Generator, Optional

from lsprotocol import types
from pygls.exceptions import (JsonRpcInternalError, JsonRpcInvalidParams, JsonRpcInvalidRequest,
                              JsonRpcMethodNotFound, JsonRpcServerNotInitialized)
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.workspace.text_document import TextDocument

from fim.positions import LINE_PATTERN
from server.lines import LineIndex
from server.transport import BadFrame, message_id

log = logging.getLogger(__name__)

# pygls splits documents with str.splitlines, which also breaks at \x0b, \x0c, \x1c-\x1e, \x85,
# \u2028 and \u2029: incremental edits would land on the wrong line of a file containing one.
# LSP lines end only at \n, \r\n and \r.
TextDocument.lines = property(lambda self: tuple(LINE_PATTERN.findall(self.source)))  # type: ignore[assignment]


def _apply_incremental_change(self: TextDocument, change: types.TextDocumentContentChangePartial) -> None:
    """Splice one edit into the text (pygls rewrites the document line by line in Python, about
    1 ms per keystroke in a 2,500-line file), finding its offsets in the line starts kept with the
    document. Positions past a line or the text are clamped; a range whose end comes before its start
    is the range between them, as vscode-languageserver-textdocument takes it (here the start was
    the whole range: the new text went in and nothing was replaced)."""
    lines = _line_index(self)
    start, end = sorted(lines.locate(position.line, position.character)[2]
                        for position in (change.range.start, change.range.end))
    self._source = lines.replace(start, end, change.text)


def _line_index(document: TextDocument) -> LineIndex:
    """The line starts of a document's current text (built again after a whole-text change)."""
    text = document.source
    lines = kept_line_index(document, text)
    if lines is None:
        lines = document._deepfim_lines = LineIndex(text)  # type: ignore[attr-defined]
    return lines


def kept_line_index(document: TextDocument, text: str) -> Optional[LineIndex]:
    """The line starts of `text` kept with `document`, when they are of that text; none where no
    incremental edit has built them (a client that sends the whole text at each keystroke)."""
    lines: Optional[LineIndex] = getattr(document, "_deepfim_lines", None)
    return lines if lines is not None and lines.text is text else None


def _apply_full_change(self: TextDocument, change: types.TextDocumentContentChangeEvent) -> None:
    """pygls's, letting go of the line starts kept for the text it replaces (they held that text: a 10 MB
    file's old copy stayed in memory until the next incremental edit or the document's close)."""
    self._source = change.text
    self._deepfim_lines = None  # type: ignore[attr-defined]


TextDocument._apply_incremental_change = _apply_incremental_change  # type: ignore[method-assign]
TextDocument._apply_full_change = _apply_full_change  # type: ignore[method-assign]


def _null_ranges_replace_the_text(message: dict) -> dict:
    """A didChange whose content change has `"range": null` (some clients' way to send the whole text):
    LSP takes a change without a range for the whole document, lsprotocol refused it, and the change was
    dropped (the server went on with the old text). Such a change loses its null range and rangeLength."""
    params = message.get("params")
    changes = params.get("contentChanges") if isinstance(params, dict) else None
    if not _has_null_range(changes):
        return message
    return {**message, "params": {**params, "contentChanges": _whole_texts(changes)}}


def _null_ranges_replace_the_cells_text(message: dict) -> dict:
    """`_null_ranges_replace_the_text` for the cells of a notebookDocument/didChange (refused, the notebook's
    structure changes were dropped with it)."""
    params = message.get("params")
    change = params.get("change") if isinstance(params, dict) else None
    cells = change.get("cells") if isinstance(change, dict) else None
    contents = cells.get("textContent") if isinstance(cells, dict) else None
    if not isinstance(contents, list) or not any(isinstance(c, dict) and _has_null_range(c.get("changes"))
                                                 for c in contents):
        return message
    contents = [{**c, "changes": _whole_texts(c["changes"])} if isinstance(c, dict) and _has_null_range(
        c.get("changes")) else c for c in contents]
    return {**message, "params": {**params, "change": {**change, "cells": {**cells, "textContent": contents}}}}


def _has_null_range(changes: Any) -> bool:
    return isinstance(changes, list) and any(isinstance(c, dict) and c.get("range", 0) is None for c in changes)


def _whole_texts(changes: list) -> list:
    """Content changes with `"range": null` as changes without a range."""
    return [{k: v for k, v in c.items() if k not in ("range", "rangeLength")}
            if isinstance(c, dict) and c.get("range", 0) is None else c for c in changes]


class RobustProtocol(LanguageServerProtocol):
    _initialize_received = False

    def receive(self, message: Any) -> None:
        """Handle one message from the transport: a decoded JSON value, or a frame that was not one."""
        if isinstance(message, BadFrame):
            self.send_error(message.id, message.code, message.reason)
            return
        if not isinstance(message, dict):
            what = "batches are not part of LSP" if isinstance(message, list) else "a message must be a JSON object"
            self.send_error(None, JsonRpcInvalidRequest.CODE, what)
            return
        reply_id = message_id(message)
        method = message.get("method")
        if message.get("jsonrpc") != "2.0":
            self.send_error(reply_id, JsonRpcInvalidRequest.CODE, 'a message must have "jsonrpc": "2.0"')
            return
        if "method" in message and not isinstance(method, str):
            self.send_error(reply_id, JsonRpcInvalidRequest.CODE, '"method" must be a string')
            return
        if method == types.INITIALIZE and self._initialize_received:
            self.send_error(reply_id, JsonRpcInvalidRequest.CODE, "initialize may be sent only once")
            return
        if method is not None and not self._initialize_received and method not in (types.INITIALIZE, types.EXIT):
            if "id" in message:  # notifications before initialize are dropped, as the spec says
                self.send_error(reply_id, JsonRpcServerNotInitialized.CODE, "the server is not initialized yet")
            return
        if "id" in message and method is not None:
            notification = self._is_notification(method)
            if notification and message["id"] is not None and method != types.EXIT:
                # pygls would handle it as the notification and answer nothing: the client would wait for good.
                self.send_error(reply_id, JsonRpcMethodNotFound.CODE, f"{method} is a notification: it takes no id")
                return
            if not notification and reply_id is None:
                self.send_error(None, JsonRpcInvalidRequest.CODE, 'a request\'s "id" must be an integer or a string')
                return
        if method is not None and "params" not in message:  # JSON-RPC lets a message leave its params out
            message = {**message, "params": None}  # (pygls answered "invalid params" even where none are needed)
        if method == types.TEXT_DOCUMENT_DID_CHANGE:
            message = _null_ranges_replace_the_text(message)
        elif method == types.NOTEBOOK_DOCUMENT_DID_CHANGE:
            message = _null_ranges_replace_the_cells_text(message)
        try:
            structured = self.structure_message(message)
        except Exception:  # cattrs refused the params (or they nest too deeply to convert)
            self._refuse(message, reply_id, JsonRpcInvalidParams.CODE, f"invalid params for {method!r}")
            return
        try:
            self.handle_message(structured)
        except Exception:  # nothing a client sends may stop the server
            log.exception("unable to handle a %s message", method)
            self._refuse(message, reply_id, JsonRpcInternalError.CODE, "internal error; see the server log")

    def _is_notification(self, method: str) -> bool:
        """Whether LSP defines `method` as a notification (its message has no id)."""
        message_type = self.get_message_type(method)
        fields = getattr(message_type, "__attrs_attrs__", None)  # lsprotocol's types are attrs classes
        return fields is not None and all(field.name != "id" for field in fields)

    def _refuse(self, message: dict, reply_id: Any, code: int, text: str) -> None:
        if "id" in message and "method" in message:
            self.send_error(reply_id, code, text)
        else:  # notifications are never answered
            log.warning("dropped a %s notification: %s", message.get("method"), text)

    def send_error(self, msg_id: Any, code: int, message: str) -> None:
        """Answer a message with a JSON-RPC error (id null where the id could not be read)."""
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})

    def handle_message(self, message: Any) -> None:
        if self._shutdown and getattr(message, "method", "") != types.EXIT and hasattr(message, "id") \
                and hasattr(message, "method"):
            error = JsonRpcInvalidRequest("the server is shutting down")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)

    def _execute_handler(self, msg_id: Any, handler: Any, callback: Any, args: Any = None, kwargs: Any = None) -> None:
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is None or getattr(callback, "func", None) == self._send_handler_result:
            return
        request = callback.keywords.get("result_future") if getattr(callback, "func", None) == self._run_generator \
            else None
        if request is not None:
            # `$/cancelRequest` cancels the request's future; pygls would let the step that runs for it
            # (a command's handler under `workspace/executeCommand`) go on: it is cancelled with it.
            request.add_done_callback(lambda done: future.cancel() if done.cancelled() else None)
        # A notification, or a step of a generator handler: its made-up id can never be cancelled
        # or answered, so the future pygls would keep forever is let go once it is done.
        if future.done():
            self._request_futures.pop(msg_id, None)
        else:
            future.add_done_callback(lambda _: self._request_futures.pop(msg_id, None))

    @property
    def pending_requests(self) -> int:
        """Requests (and notifications) whose futures the protocol holds."""
        return len(self._request_futures)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """pygls's, cancelling the requests under way from a copy of their table: cancelling one whose
        handler is a generator (`workspace/executeCommand`) takes it out of the table at once, and
        pygls's loop failed ("dictionary changed size during iteration"): `shutdown` was answered with
        an error and `exit` then gave status 1."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        self._initialize_received = True
        # Positions are UTF-16, the encoding every client supports.
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        return (yield from super().lsp_initialize(params))

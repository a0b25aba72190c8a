"""pygls's LSP protocol, hardened so that every request gets an answer.

pygls 2.1 drops a request whose params fail to deserialize (after logging it), ignores requests
after `shutdown` without answering and answers nothing to unparseable JSON. A client then waits
forever. Here each of those gets the JSON-RPC error the spec asks for, and positions are always
negotiated as UTF-16. pygls also keeps the future of every notification it handles (a
``didChange`` per keystroke) for the life of the process; here it is let go once done.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.workspace.text_document import TextDocument

from fim.positions import LINE_PATTERN, locate

log = logging.getLogger(__name__)

# pygls splits documents with str.splitlines, which also breaks at \x0b, \x0c, \x1c-\x1e, \x85,
# \u2028 and \u2029: incremental edits would land on the wrong line of a file containing one.
# LSP lines end only at \n, \r\n and \r.
TextDocument.lines = property(lambda self: tuple(LINE_PATTERN.findall(self.source)))  # type: ignore[assignment]


def _apply_incremental_change(self: TextDocument, change: types.TextDocumentContentChangePartial) -> None:
    """Splice one edit into the text (pygls rewrites the document line by line in Python, about
    1 ms per keystroke in a 2,500-line file). Positions past a line or the text are clamped."""
    text = self.source
    start = locate(text, change.range.start.line, change.range.start.character)[2]
    end = max(start, locate(text, change.range.end.line, change.range.end.character)[2])
    self._source = text[:start] + change.text + text[end:]


TextDocument._apply_incremental_change = _apply_incremental_change  # type: ignore[method-assign]


class _Answered:
    """Stands in for a message that was already answered with an error."""


ANSWERED = _Answered()


class RobustProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as error:
            if isinstance(data, dict) and "id" in data and "method" in data:
                msg_id = data.get("id")
                if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool):
                    invalid = JsonRpcInvalidParams(f"invalid params for {data.get('method')!r}")
                    self._send_response(msg_id, None, invalid.to_response_error())
                    return ANSWERED
            raise error

    def handle_message(self, message: Any) -> None:
        if message is ANSWERED:
            return
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

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        # Positions are UTF-16, the encoding every client supports.
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        return (yield from super().lsp_initialize(params))

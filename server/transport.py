"""LSP over a byte stream (stdio or a socket), tolerant of broken clients.

pygls's reader dies on a huge ``Content-Length`` (MemoryError), silently drops a message whose
header is not exactly ``Content-Length: N\\r\\n``, and loses sync for good after a body longer than
declared. This reader accepts header names in any case, optional spaces and bare ``\\n`` line
ends, refuses bodies over `MAX_BODY_BYTES`, and after a bad frame finds the next header again.
Every bad frame comes out as a `BadFrame`, so that the server can answer it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterator, Union

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 << 20  # a 5 MB document escaped as JSON is well under this
MAX_HEADER_BYTES = 64 << 10
MAX_JUNK_DECODE_BYTES = 1 << 20  # an unframed message larger than this is only skipped
READ_BYTES = 1 << 16
QUEUED_MESSAGES = 64  # read ahead of the event loop by at most this many messages

_HEADER_START = re.compile(rb"[A-Za-z][A-Za-z0-9-]*[ \t]*:")
_PARTIAL_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*[ \t]*")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"(?:^|\n)[ \t]*content-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_NEXT_HEADER = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class BadFrame:
    """Bytes that are not a well-formed message; `id` is the request id, where one could be read."""

    reason: str
    code: int  # the JSON-RPC error code to answer with
    id: Union[int, str, None] = None


Message = Union[Any, BadFrame]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


class MessageReader:
    """Reads JSON-RPC messages from `read(n)` (which returns b"" at end of stream)."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._buffer = bytearray()
        self._eof = False

    def __iter__(self) -> Iterator[Message]:
        try:
            while True:
                yield self.next()
        except EOFError:
            return

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False at end of stream."""
        if self._eof:
            return False
        data = self._read(READ_BYTES)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def next(self) -> Message:
        """The next message (a decoded JSON value, `null` included) or bad frame; EOFError at the
        end of the stream."""
        while True:
            del self._buffer[:len(self._buffer) - len(self._buffer.lstrip())]  # blank lines between messages
            if not self._buffer:
                if not self._fill():
                    raise EOFError
                continue
            if not _HEADER_START.match(self._buffer):
                if _PARTIAL_HEADER.fullmatch(self._buffer) and self._fill():  # a header name still arriving
                    continue
                return self._junk("data outside a Content-Length framed message")
            end = _HEADER_END.search(self._buffer)
            if end is None:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    return self._junk(f"header over {MAX_HEADER_BYTES >> 10} KiB")
                if not self._fill():
                    raise EOFError
                continue
            header = bytes(self._buffer[:end.start()])
            del self._buffer[:end.end()]
            length = _CONTENT_LENGTH.search(header)
            value = length.group(1).strip() if length else b""
            if not value.isdigit():
                return self._junk(f"invalid Content-Length header {json.dumps(value[:40].decode('latin-1'))}" if length
                                  else "no Content-Length header")
            size = int(value)
            if size > MAX_BODY_BYTES:
                return self._junk(f"message of {size} bytes is over the {MAX_BODY_BYTES >> 20} MiB limit")
            while len(self._buffer) < size:
                if not self._fill():
                    raise EOFError
            body = bytes(self._buffer[:size])
            del self._buffer[:size]
            return self._decode(body)

    def _decode(self, body: bytes) -> Message:
        try:
            return json.loads(body)
        except RecursionError:
            return BadFrame("JSON nested too deeply", PARSE_ERROR)
        except ValueError:
            pass
        # A Content-Length larger than the body swallowed the start of the next message: give it back.
        header = _NEXT_HEADER.search(body)
        if header is not None:
            self._buffer[:0] = body[header.start():]
            return self._decode(body[:header.start()])
        return _bad("invalid JSON", _request_id(body))

    def _junk(self, reason: str) -> BadFrame:
        """Skip a bad frame: one JSON value, or everything up to the next header."""
        while True:
            if len(self._buffer) <= MAX_JUNK_DECODE_BYTES:
                text = self._buffer.decode("utf-8", "surrogateescape")  # one character per invalid byte
                try:
                    value, end = _DECODER.raw_decode(text, len(text) - len(text.lstrip()))
                except (ValueError, RecursionError):
                    pass
                else:
                    del self._buffer[:len(text[:end].encode("utf-8", "surrogateescape"))]
                    return _bad(reason, message_id(value))
            found = _NEXT_HEADER.search(self._buffer)
            if found is not None:
                skipped = bytes(self._buffer[:found.start()])
                del self._buffer[:found.start()]
                return _bad(reason, _request_id(skipped))
            if len(self._buffer) > MAX_BODY_BYTES or not self._fill():
                skipped = bytes(self._buffer)
                self._buffer.clear()
                return _bad(reason, _request_id(skipped))


def _bad(reason: str, msg_id: Union[int, str, None]) -> BadFrame:
    return BadFrame(reason, PARSE_ERROR if msg_id is None else INVALID_REQUEST, msg_id)


def message_id(message: Any) -> Union[int, str, None]:
    """The id of a decoded message, if it has one JSON-RPC allows answering to."""
    msg_id = message.get("id") if isinstance(message, dict) else None
    return msg_id if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) else None


def _request_id(data: bytes) -> Union[int, str, None]:
    """The id of the request that `data` starts with, if it decodes as one."""
    try:
        return message_id(_DECODER.raw_decode(data.decode("utf-8", "replace").strip())[0])
    except (ValueError, RecursionError):
        return None


class _Writer:
    """pygls's writer interface over a byte stream; a closed stream ends the session quietly."""

    def __init__(self, stream: BinaryIO, lost: Callable[[], None]) -> None:
        self._stream = stream
        self._lost = lost

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
            self._stream.flush()
        except (OSError, ValueError):  # the client closed its end (BrokenPipeError, closed file)
            self._lost()

    def close(self) -> None:
        try:
            self._stream.close()
        except (OSError, ValueError):
            pass


def serve(server: Any, read: Callable[[int], bytes], stdout: BinaryIO) -> int:
    """Run a pygls `server` whose protocol has `receive`, reading with `read(n)` (b"" at the end)
    and writing to `stdout`; its exit status.

    `read` must not be a buffered file's method: the reading thread is left blocked in it at exit,
    and a buffered file's lock held there aborts the interpreter. The session ends with `exit`
    (status 0 after `shutdown`, else 1) or when either side closes (status 0: the client is gone)."""

    async def session() -> None:
        loop = asyncio.get_running_loop()
        ended = loop.create_future()

        def end() -> None:
            if not ended.done():
                ended.set_result(None)

        server.protocol.set_writer(_Writer(stdout, lambda: loop.call_soon_threadsafe(end)))

        slots = threading.BoundedSemaphore(QUEUED_MESSAGES)  # a flooding client waits; memory stays bounded

        def deliver(message: Message) -> None:
            try:
                server.protocol.receive(message)
            finally:
                slots.release()

        def pump() -> None:
            try:
                try:
                    for message in MessageReader(read):
                        slots.acquire()
                        loop.call_soon_threadsafe(deliver, message)
                except (OSError, ValueError) as error:
                    log.info("reading from the client failed: %s", error)
                loop.call_soon_threadsafe(end)
            except RuntimeError:  # the loop is closed: the session already ended with `exit`
                pass

        threading.Thread(target=pump, name="deepfim-reader", daemon=True).start()
        await ended

    try:
        asyncio.run(session())
    except SystemExit as exit:  # the `exit` notification
        return 0 if exit.code is None else exit.code if isinstance(exit.code, int) else 1
    except KeyboardInterrupt:
        return 130
    finally:
        server.shutdown()
    return 0

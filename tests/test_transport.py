"""LSP framing: well-formed streams in any chunking, and recovery after every kind of bad frame."""

from __future__ import annotations

import json
from typing import Iterator

from hypothesis import given, settings, strategies as st

from server.transport import INVALID_REQUEST, MAX_BODY_BYTES, PARSE_ERROR, BadFrame, MessageReader


def frame(message: object, header: bytes = b"Content-Length: %d\r\n\r\n") -> bytes:
    body = json.dumps(message).encode()
    return header % len(body) + body


def request(msg_id: int) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "deepfim/stats"}


def reader(data: bytes, chunk: int = 1 << 16) -> MessageReader:
    chunks: Iterator[bytes] = (data[i:i + chunk] for i in range(0, len(data), chunk))
    return MessageReader(lambda _: next(chunks, b""))


def read_all(data: bytes, chunk: int = 1 << 16) -> list:
    return list(reader(data, chunk))


def test_header_spellings_and_line_ends() -> None:
    stream = (frame(request(1)) + frame(request(2), b"content-length: %d\r\n\r\n")
              + frame(request(3), b"Content-Length:%d\r\n\r\n") + frame(request(4), b"Content-Length: %d\n\n")
              + frame(request(5), b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                                  b"Content-Length: %d\r\n\r\n"))
    assert read_all(stream) == [request(i) for i in range(1, 6)]


def test_json_values_that_are_not_objects_are_messages_too() -> None:
    stream = b"".join(frame(value) for value in (None, 1, "str", [], request(1)))
    assert read_all(stream) == [None, 1, "str", [], request(1)]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=40))
def test_any_chunking_reads_the_same(chunk: int) -> None:
    stream = b"".join(frame({**request(i), "params": {"text": "é\r\n" * i}}) for i in range(5))
    assert read_all(stream, chunk) == read_all(stream)


def test_a_huge_length_is_refused_and_the_next_message_read() -> None:
    messages = read_all(b"Content-Length: 1000000000000000\r\n\r\n{}" + frame(request(2)))
    assert isinstance(messages[0], BadFrame) and "limit" in messages[0].reason
    assert messages[1:] == [request(2)]
    assert MAX_BODY_BYTES < 10**15


def test_a_length_too_long_gives_back_the_next_messages() -> None:
    body = json.dumps(request(1)).encode()
    stream = b"Content-Length: %d\r\n\r\n" % (len(body) + 40) + body + b"".join(frame(request(i)) for i in (2, 3, 4))
    assert read_all(stream) == [request(i) for i in (1, 2, 3, 4)]


def test_a_length_too_short_is_an_error_then_reading_goes_on() -> None:
    body = json.dumps(request(1)).encode()
    messages = read_all(b"Content-Length: %d\r\n\r\n" % (len(body) - 10) + body + frame(request(2)))
    assert all(isinstance(m, BadFrame) for m in messages[:-1]) and messages[-1] == request(2)


def test_bad_lengths_and_missing_headers_answer_the_request_they_hid() -> None:
    for header in (b"Content-Length: -5\r\n\r\n", b"Content-Length: abc\r\n\r\n", b"Content-Length: +9\r\n\r\n",
                   b"X-Other: 1\r\n\r\n", b""):
        messages = read_all(header + json.dumps(request(330)).encode() + frame(request(331)))
        assert messages[0] == BadFrame(messages[0].reason, INVALID_REQUEST, 330), header
        assert messages[1:] == [request(331)], header


def test_a_bad_length_is_quoted_as_the_client_sent_it() -> None:
    """The error said `invalid Content-Length header b'-5'`, a Python bytes literal, in the client's log."""
    messages = read_all(b"Content-Length: -5\r\n\r\n" + json.dumps(request(332)).encode())
    assert messages[0].reason == 'invalid Content-Length header "-5"'


def test_an_unframed_request_alone_is_answered_without_waiting_for_more() -> None:
    stream = iter([json.dumps(request(7)).encode()])
    first = MessageReader(lambda _: next(stream, None) or (_ for _ in ()).throw(AssertionError("read again")))
    message = first.next()
    assert isinstance(message, BadFrame) and message.id == 7


def test_deep_nesting_and_invalid_json_are_parse_errors() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    messages = read_all(b"Content-Length: %d\r\n\r\n" % len(deep) + deep + b"Content-Length: 3\r\n\r\n{x}"
                        + frame(request(1)))
    assert [getattr(m, "code", None) for m in messages[:2]] == [PARSE_ERROR, PARSE_ERROR]
    assert messages[2:] == [request(1)]


def test_end_of_stream_mid_message_ends_quietly() -> None:
    assert read_all(b"Content-Length: 50\r\n\r\n{\"jsonrpc\"") == []
    assert all(isinstance(m, BadFrame) for m in read_all(b"Content-Len"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=64))
def test_garbage_never_breaks_the_reader(junk: bytes, chunk: int) -> None:
    messages = read_all(junk + b"\r\n\r\n" + frame(request(99)), chunk)
    assert request(99) in messages or any(isinstance(m, BadFrame) and m.id == 99 for m in messages)


def test_the_message_after_a_skipped_frame_with_invalid_utf8_is_read_whole() -> None:
    """The bad frame is skipped by its exact byte count (an invalid byte is one byte, not the three of
    U+FFFD), so the next message keeps its header."""
    bad = b"Content-Length: abc\r\n\r\n" + b'{"jsonrpc":"2.0","id":1,"method":"x","params":{"t":"caf\xe9"}}'
    messages = read_all(bad + frame(request(2)))
    assert isinstance(messages[0], BadFrame) and messages[0].id == 1
    assert messages[1:] == [request(2)]

"""Every request gets an answer: malformed and out-of-range input over a raw pipe."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.raw_lsp import RawServer


@pytest.fixture(scope="module")
def raw(deepseek_tiny: Path, workspace: Path) -> Iterator[RawServer]:
    server = RawServer(str(deepseek_tiny), workspace.as_uri())
    yield server
    assert server.close() == 0


def inline_params(uri: str, line: object, character: object) -> dict:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character},
            "context": {"triggerKind": 2}}


@pytest.mark.parametrize("params", [
    inline_params("file:///x.py", -1, 0),
    inline_params("file:///x.py", 0, "x"),
    None,
    {"textDocument": {}},
    [1, 2, 3],
])
def test_invalid_params_get_an_error(raw: RawServer, params: object) -> None:
    answer = raw.request(101, "textDocument/inlineCompletion", params, timeout=20)
    assert answer["error"]["code"] == -32602


def test_unknown_method_and_bad_json(raw: RawServer) -> None:
    assert raw.request(102, "deepfim/nonsense", {}, timeout=20)["error"]["code"] == -32601
    raw.send_bytes(b"{not json")
    answer = raw.messages.get(timeout=20)
    while "method" in answer:
        answer = raw.messages.get(timeout=20)
    assert answer["id"] is None and answer["error"]["code"] == -32700


def test_positions_out_of_range_and_unopened_documents(raw: RawServer, workspace: Path) -> None:
    uri = (workspace / "range.py").as_uri()
    raw.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                         "text": "a = 1\nb = \U0001F600\n"}})
    for msg_id, (line, character) in enumerate([(0, 999), (99, 0), (1, 5), (1, 6)], start=200):
        answer = raw.request(msg_id, "textDocument/inlineCompletion", inline_params(uri, line, character), 60)
        assert "result" in answer and isinstance(answer["result"]["items"], list)
    unopened = (workspace / "never-opened.py").as_uri()
    raw.notify("textDocument/didChange", {"textDocument": {"uri": unopened, "version": 2},
                                          "contentChanges": [{"text": "x"}]})
    answer = raw.request(300, "textDocument/inlineCompletion", inline_params(unopened, 0, 0), 60)
    assert answer["result"]["items"] == [] or isinstance(answer["result"]["items"], list)
    assert raw.request(301, "deepfim/explain", {"textDocument": {"uri": 5}}, 20)["result"] is None


def open_doc(raw: RawServer, uri: str, text: str) -> None:
    raw.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                         "text": text}})


def test_hostile_text_is_served(raw: RawServer, workspace: Path) -> None:
    cases = {
        "surrogates.py": "s = '\ud800\udfff\ud83d'\nx = ",
        "nul.py": "a = '\x00\x00'\nb = ",
        "emoji.py": "e = '😀👩‍👩‍👧'\nf = ",
        "separators.py": "a = 1\x0c\u2028b = 2\nc = ",
        "big.py": "x = 1\n" * 900_000 + "y = ",  # about 5 MB
    }
    for number, (name, text) in enumerate(cases.items()):
        uri = (workspace / name).as_uri()
        open_doc(raw, uri, text)
        last = text.split("\n")[-1]
        answer = raw.request(400 + number, "textDocument/inlineCompletion",
                             inline_params(uri, text.count("\n"), len(last)), 120)
        assert isinstance(answer["result"]["items"], list), name
        explained = raw.request(500 + number, "deepfim/explain", {"textDocument": {"uri": uri}}, 20)["result"]
        middle = [s for s in explained["prompt"]["segments"] if s["kind"] == "middle"][0]
        assert middle["text"] == last, name


def test_an_inline_item_past_the_line_end_is_placed_at_its_end(raw: RawServer, workspace: Path) -> None:
    """A position past the end of its line was completed at the line's end, but the item's range echoed the
    position asked for: a range outside the document, where a client may place the text or drop it."""
    placed = []
    # several last lines: the synthetic model's output is noise, which post-processing may cut to nothing at one
    for number, last in enumerate(("print(add(1, 2))", "total = add(3, 4)", "x = add")):
        uri = (workspace / f"past_end{number}.py").as_uri()
        open_doc(raw, uri, f"def add(a, b):\n    return a + b\n\n{last}\n")
        items = raw.request(460 + number, "textDocument/inlineCompletion", inline_params(uri, 3, 999), 60)
        end = {"line": 3, "character": len(last)}
        placed += [item["range"] == {"start": end, "end": end} for item in items["result"]["items"]]
    assert placed and all(placed), placed


def test_a_long_run_of_letters_is_served(raw: RawServer, workspace: Path) -> None:
    """llama.cpp's pre-tokenizer overflowed the model thread's stack on 30,000 letters in a row (test
    data, a blob): the server died of a segmentation fault and every request after went unanswered."""
    uri = (workspace / "letters.txt").as_uri()
    text = "data = '" + "x" * 30_000 + "é" * 30_000
    open_doc(raw, uri, text)
    answer = raw.request(450, "textDocument/inlineCompletion", inline_params(uri, 0, len(text)), 60)
    assert isinstance(answer["result"]["items"], list) and raw.proc.poll() is None


def test_edits_past_the_end_and_to_unopened_documents(raw: RawServer, workspace: Path) -> None:
    uri = (workspace / "edits.py").as_uri()
    open_doc(raw, uri, "a = 1\n")
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": {"start": {"line": 50, "character": 0}, "end": {"line": 60, "character": 3}}, "text": "zz"},
        {"range": {"start": {"line": 0, "character": 99}, "end": {"line": 0, "character": 120}}, "text": "q"}]})
    raw.notify("textDocument/didChange", {"textDocument": {"uri": "file:///not/open.py", "version": 2},
                                          "contentChanges": [{"range": {"start": {"line": 3, "character": 0},
                                                                        "end": {"line": 3, "character": 0}},
                                                              "text": "x"}]})
    raw.notify("textDocument/didClose", {"textDocument": {"uri": "file:///never.py"}})
    answer = raw.request(600, "textDocument/inlineCompletion", inline_params(uri, 0, 5), 60)
    assert isinstance(answer["result"]["items"], list)


def test_a_line_past_the_last_is_the_end_of_the_document(raw: RawServer, workspace: Path) -> None:
    """Deleting the last line of a file without a final line break as the range up to the line after it:
    the server took that line for the start of the last one, kept the deleted text and put what came
    next at the wrong place, and its copy of the document no longer matched the editor's."""
    uri = (workspace / "noeol.py").as_uri()
    open_doc(raw, uri, "a = 1\nb = 2")
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": {"start": {"line": 0, "character": 5}, "end": {"line": 2, "character": 0}}, "text": ""},
        {"range": {"start": {"line": 7, "character": 0}, "end": {"line": 7, "character": 0}}, "text": "\nc = "}]})
    raw.request(610, "textDocument/inlineCompletion", inline_params(uri, 1, 4), 60)
    explained = raw.request(611, "deepfim/explain", {"textDocument": {"uri": uri}}, 20)["result"]
    segments = {s["kind"]: s["text"] for s in explained["prompt"]["segments"]}
    assert segments["middle"] == "c = " and "b = 2" not in "".join(segments.values()), segments


def test_a_change_with_a_null_range_replaces_the_whole_text(raw: RawServer, workspace: Path) -> None:
    """`"range": null` is a change without a range, the whole new text (as some clients send it): the
    server refused the notification and went on completing the old text."""
    uri = (workspace / "nullrange.py").as_uri()
    open_doc(raw, uri, "old_name = 1\n")
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": None, "rangeLength": None, "text": "fresh_name = 2\nvalue = "}]})
    raw.request(615, "textDocument/inlineCompletion", inline_params(uri, 1, 8), 60)
    explained = raw.request(616, "deepfim/explain", {"textDocument": {"uri": uri}}, 20)["result"]
    prompt = "".join(s["text"] for s in explained["prompt"]["segments"])
    assert "fresh_name = 2" in prompt and "old_name" not in prompt, prompt


def test_a_closed_document_that_is_a_named_pipe_is_not_read(raw: RawServer, workspace: Path) -> None:
    """Once the editor closed it, the server read the document from its file: a named pipe (or a device)
    blocked the server for good, and no request was answered again."""
    import os

    fifo = workspace / "pipe.py"
    os.mkfifo(fifo)
    uri = fifo.as_uri()
    open_doc(raw, uri, "x = ")
    answer = raw.request(620, "textDocument/inlineCompletion", inline_params(uri, 0, 4), 60)
    assert isinstance(answer["result"]["items"], list)
    raw.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert raw.request(621, "textDocument/inlineCompletion", inline_params(uri, 0, 4), 60)["result"] == {"items": []}
    assert "rss_bytes" in raw.request(622, "deepfim/stats", {}, 20)["result"]


def test_storm_of_cancelled_requests(raw: RawServer, workspace: Path) -> None:
    uri = (workspace / "storm.py").as_uri()
    open_doc(raw, uri, "def f(x):\n    return x\n\nvalue = ")
    before = raw.request(700, "deepfim/stats", None, 20)["result"]
    ids = list(range(1000, 1300))
    for msg_id in ids:
        raw.send({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/inlineCompletion",
                  "params": inline_params(uri, 3, 8)})
        if msg_id % 10:
            raw.notify("$/cancelRequest", {"id": msg_id})
    answered: dict[int, dict] = {}
    while len(answered) < len(ids):
        message = raw.messages.get(timeout=120)
        if message.get("id") in ids:
            answered[message["id"]] = message
    for msg_id, message in answered.items():
        if "error" in message:
            assert message["error"]["code"] == -32800  # RequestCancelled
        else:
            assert isinstance(message["result"]["items"], list)
    assert sum("error" in m for m in answered.values()) >= 200
    after = raw.request(701, "deepfim/stats", None, 20)["result"]
    assert after["rss_bytes"] - before["rss_bytes"] < 50 * 2**20
    assert after["pending_requests"] <= 1  # the stats request itself
    final = raw.request(702, "textDocument/inlineCompletion", inline_params(uri, 3, 8), 60)
    assert isinstance(final["result"]["items"], list)


def test_notifications_are_not_kept(raw: RawServer, workspace: Path) -> None:
    """pygls keeps a future per notification forever; a keystroke's didChange must not."""
    uri = (workspace / "typing.py").as_uri()
    open_doc(raw, uri, "")
    for version in range(2, 302):
        raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": version - 2}, "end": {"line": 0, "character": version - 2}},
             "text": "x"}]})
    stats = raw.request(800, "deepfim/stats", None, 60)["result"]
    assert stats["pending_requests"] <= 1  # the stats request itself


def stats_request(msg_id: object, **extra: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "deepfim/stats", "params": {}, **extra}).encode()


def test_broken_framing_and_envelopes_are_answered(raw: RawServer) -> None:
    body = stats_request(401)
    raw.send_raw(b"Content-Length: 1000000000000000\r\n\r\n{}")  # pygls died of MemoryError here
    raw.send_raw(b"Content-Length: %d\r\n\r\n" % (len(body) + 40) + body)  # too long: swallows the next header
    raw.send_bytes(stats_request(402))
    raw.send_raw(b"content-length:%d\n\n" % len(stats_request(403)) + stats_request(403))
    raw.send_raw(b"Content-Length: abc\r\n\r\n" + stats_request(404))
    raw.send_bytes(b'{"id": 405, "method": "deepfim/stats"}')
    raw.send_bytes(b'{"jsonrpc": "2.0", "id": 406, "method": 5}')
    raw.send_bytes(b"1")
    raw.send_bytes(b"[]")
    raw.send_bytes(b"null")
    raw.send_bytes(b'{"jsonrpc": "2.0", "id": 407, "method": "deepfim/stats", "params": '
                   + b"[" * 100_000 + b"]" * 100_000 + b"}")
    for msg_id in (401, 402, 403):
        assert "rss_bytes" in raw.response(msg_id, 20)["result"]
    for msg_id in (404, 405, 406):
        assert raw.response(msg_id, 20)["error"]["code"] == -32600
    assert "rss_bytes" in raw.request(408, "deepfim/stats", {}, 20)["result"]
    nulls = [m["error"]["code"] for m in raw.skipped if "error" in m and m.get("id") is None]
    assert nulls.count(-32600) >= 3 and nulls.count(-32700) >= 2  # 1, [] and null; the huge length, the nesting


def test_a_notification_sent_with_an_id_is_answered(raw: RawServer) -> None:
    """A message with an id is a request: pygls handled a notification's method sent with one as the
    notification and answered nothing (the client waited for good)."""
    for msg_id, method in enumerate(["textDocument/didClose", "$/setTrace", "workspace/didChangeConfiguration"],
                                    start=900):
        error = raw.request(msg_id, method, {"textDocument": {"uri": "file:///never.py"}, "value": "off",
                                             "settings": {}}, 20)["error"]
        assert error["code"] == -32601 and "notification" in error["message"], method
    raw.notify("$/setTrace", {"value": "off"})  # notifications as ever: no answer
    assert "rss_bytes" in raw.request(912, "deepfim/stats", {}, 20)["result"]


def test_a_request_without_params_is_served(raw: RawServer) -> None:
    """JSON-RPC lets a request leave out "params" (Neovim's `client:request("deepfim/stats")` does): it was
    answered "invalid params" for methods that take none."""
    raw.send({"jsonrpc": "2.0", "id": 920, "method": "deepfim/stats"})
    assert "rss_bytes" in raw.response(920, 20)["result"]
    raw.send({"jsonrpc": "2.0", "id": 921, "method": "deepfim/explain"})
    assert raw.response(921, 20) == {"jsonrpc": "2.0", "id": 921, "result": None}
    raw.send({"jsonrpc": "2.0", "id": 922, "method": "textDocument/inlineCompletion"})
    assert raw.response(922, 20)["error"]["code"] == -32602  # its params are not optional


def test_a_request_whose_id_is_not_an_integer_or_a_string_is_told_so(raw: RawServer) -> None:
    """pygls told it its params were invalid (-32602, params it never read)."""
    raw.skipped.clear()
    raw.send({"jsonrpc": "2.0", "id": 1.5, "method": "deepfim/stats", "params": {}})
    raw.send({"jsonrpc": "2.0", "id": None, "method": "deepfim/stats", "params": {}})
    raw.send({"jsonrpc": "2.0", "id": [910], "method": "deepfim/stats", "params": {}})
    assert "rss_bytes" in raw.request(911, "deepfim/stats", {}, 20)["result"]  # answered after the three
    errors = [m["error"] for m in raw.skipped if "error" in m and m.get("id") is None]
    assert [e["code"] for e in errors] == [-32600] * 3 and all('"id"' in e["message"] for e in errors)


def test_a_client_process_this_machine_never_had_is_not_watched(deepseek_tiny: Path, workspace: Path) -> None:
    """An editor that runs the server through `ssh host deepfim serve` (or docker exec) sends its own
    process id: the server found no such process and exited 3 s after initialize."""
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    server = RawServer(str(deepseek_tiny), initialize=False)
    try:
        init = {"processId": gone.pid, "rootUri": workspace.as_uri(), "capabilities": {}}
        assert "capabilities" in server.request(1, "initialize", init, 60)["result"]
        server.notify("initialized", {})
        time.sleep(4.5)  # the parent is checked every 3 s
        assert "rss_bytes" in server.request(2, "deepfim/stats", {}, 20)["result"]
        assert server.close() == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()

def test_before_initialize_and_exit_without_shutdown(deepseek_tiny: Path, workspace: Path) -> None:
    server = RawServer(str(deepseek_tiny), initialize=False)
    try:
        assert server.request(1, "deepfim/stats", {}, 20)["error"]["code"] == -32002
        assert server.request(2, "textDocument/inlineCompletion",
                              inline_params("file:///x.py", 0, 0), 20)["error"]["code"] == -32002
        init = {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}
        assert "capabilities" in server.request(3, "initialize", init, 60)["result"]
        assert server.request(4, "initialize", init, 20)["error"]["code"] == -32600
        assert "rss_bytes" in server.request(5, "deepfim/stats", {}, 20)["result"]
        server.notify("exit", None)
        assert server.proc.wait(20) == 1  # the spec: exit without shutdown is status 1
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


def test_shutdown_while_an_edit_is_written_is_answered_and_exit_gives_status_0(deepseek_tiny: Path,
                                                                               workspace: Path) -> None:
    """Cancelling a `workspace/executeCommand` under way took it out of pygls's table of requests while
    `shutdown` went through that table: shutdown was answered "RuntimeError: dictionary changed size
    during iteration" and exit gave status 1."""
    server = RawServer(str(deepseek_tiny), workspace.as_uri())
    try:
        uri = (workspace / "shutdown_edit.py").as_uri()
        open_doc(server, uri, "def f(x):\n    return x\n")
        server.send({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {
            "command": "deepfim.edit", "arguments": [{"textDocument": {"uri": uri}, "action": "docstring", "range": {
                "start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}}]}})
        answer = server.request(3, "shutdown", None, 60)
        assert "error" not in answer and answer["result"] is None, answer
        assert server.response(2, 60)["error"]["code"] == -32800  # the edit: cancelled
        server.notify("exit", None)
        assert server.proc.wait(30) == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


def test_a_notebook_cell_change_with_a_null_range_replaces_the_cells_text(raw: RawServer, workspace: Path) -> None:
    """As a text document's: a notebook change whose cell change had `"range": null` was refused whole (the
    cells added or moved with it too), and the cell was completed with its old text."""
    notebook = (workspace / "nullrange.ipynb").as_uri()
    cell = f"vscode-notebook-cell:{(workspace / 'nullrange.ipynb').as_posix()}#W0sZmlsZQ%3D%3D"
    raw.notify("notebookDocument/didOpen", {
        "notebookDocument": {"uri": notebook, "notebookType": "jupyter-notebook", "version": 1,
                             "cells": [{"kind": 2, "document": cell}]},
        "cellTextDocuments": [{"uri": cell, "languageId": "python", "version": 1, "text": "old_name = 1\n"}]})
    raw.notify("notebookDocument/didChange", {
        "notebookDocument": {"uri": notebook, "version": 2},
        "change": {"cells": {"textContent": [{"document": {"uri": cell, "version": 2}, "changes": [
            {"range": None, "rangeLength": None, "text": "fresh_name = 2\nvalue = "}]}]}}})
    raw.request(630, "textDocument/inlineCompletion", inline_params(cell, 1, 8), 60)
    explained = raw.request(631, "deepfim/explain", {"textDocument": {"uri": cell}}, 20)["result"]
    prompt = "".join(s["text"] for s in explained["prompt"]["segments"])
    assert "fresh_name = 2" in prompt and "old_name" not in prompt, prompt


def test_a_completion_asked_for_past_the_last_line_is_made_at_the_end_of_the_text(raw: RawServer,
                                                                                  workspace: Path) -> None:
    """A line past the last is the end of the text, where the inline item was placed; but the model was
    asked at that character of the last line (its start, for character 0): the suggestion was written
    for the middle of the code and shown at its end."""
    uri = (workspace / "past_last.py").as_uri()
    open_doc(raw, uri, "total = 0\nfor n in range(3):\n    total += n")
    items = raw.request(640, "textDocument/inlineCompletion", inline_params(uri, 9, 0), 60)["result"]["items"]
    explained = raw.request(641, "deepfim/explain", {"textDocument": {"uri": uri}}, 20)["result"]
    segments = {s["kind"]: s["text"] for s in explained["prompt"]["segments"]}
    assert segments["middle"] == "    total += n" and segments.get("suffix", "") == "", segments
    assert not items or items[0]["range"]["start"] == {"line": 2, "character": 14}

"""Every request gets an answer: malformed and out-of-range input over a raw pipe."""

from __future__ import annotations

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

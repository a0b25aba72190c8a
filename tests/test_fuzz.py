"""Property-based fuzzing of the fim/ functions and of the server's handlers (hypothesis)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fim.positions import index_to_utf16, locate, lsp_lines, utf16_to_index
from fim.prompt import Budget, PromptBuilder, Snippet, SpecialIds, split_document
from fim.templates import PREFIX_ONLY, TEMPLATES
from tests.raw_lsp import RawServer

SPECIAL = SpecialIds(bos=1, prefix=2, suffix=3, middle=4, file_separator=5)


def toy_tokenize(text: str) -> list[int]:
    return [100 + (ord(c) % 5000) for c in text]


texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)


@settings(max_examples=300, deadline=None)
@given(text=texts, line=st.integers(-5, 40), character=st.integers(-5, 400),
       n_ctx=st.integers(20, 600), template=st.sampled_from(TEMPLATES + (PREFIX_ONLY,)),
       snippet=st.lists(st.tuples(st.text(max_size=20), texts), max_size=3))
def test_prompt_never_exceeds_the_window(text: str, line: int, character: int, n_ctx: int, template,
                                          snippet) -> None:
    row, column, offset = locate(text, line, character)
    fim = split_document(text, row, column, path="a.py", snippets=[Snippet(s or "x", t) for s, t in snippet])
    assert "".join(fim.prefix_lines) + fim.middle + "".join(fim.suffix_lines) == text
    assert len("".join(fim.prefix_lines) + fim.middle) == offset
    builder = PromptBuilder(template, SPECIAL, toy_tokenize, lambda t: chr(t))
    budget = Budget(n_ctx=n_ctx, max_tokens=8)
    prompt = builder.build(fim, budget)
    ids = prompt.token_ids
    assert len(ids) <= budget.prompt_tokens
    assert sum(len(s.token_ids) for s in prompt.segments) == len(ids)
    assert all(t >= 100 for s in prompt.segments if s.kind != "control" for t in s.token_ids
               if not (s.kind == "context" and t == 5))


@settings(max_examples=300, deadline=None)
@given(text=texts, character=st.integers(-3, 400))
def test_utf16_round_trip(text: str, character: int) -> None:
    for row in lsp_lines(text):
        index = utf16_to_index(row, character)
        assert 0 <= index <= len(row)
        assert index_to_utf16(row, index) <= max(0, character) or index == 0


def utf16_reference(line: str, character: int) -> int:
    """Code unit by code unit, as the LSP spec describes it."""
    units = 0
    for index, char in enumerate(line):
        if char in "\r\n" or units >= character:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > character:
            return index
    return len(line)


@settings(max_examples=500, deadline=None)
@given(line=st.lists(st.sampled_from(["a", "é", "\U0001f600", "\r", "\n", "\u2028"]), max_size=30).map("".join),
       character=st.integers(-3, 40))
def test_utf16_columns_match_the_reference(line: str, character: int) -> None:
    index = utf16_to_index(line, character)
    assert index == utf16_reference(line, character)
    assert index_to_utf16(line, index) == sum(2 if ord(c) > 0xFFFF else 1 for c in line[:index])


line_texts = st.lists(st.sampled_from(["a", " ", "\n", "\r", "\r\n", "\x0c", "\u2028", "\U0001f600"]),
                      max_size=40).map("".join)


def lines_reference(text: str) -> list[str]:
    """Character by character: a line ends after \n, after \r\n, or after a \r not before \n."""
    lines, start = [], 0
    for index, char in enumerate(text):
        if char == "\n" or (char == "\r" and text[index + 1:index + 2] != "\n"):
            lines.append(text[start:index + 1])
            start = index + 1
    lines.append(text[start:])
    return lines


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(line_texts, texts, st.lists(st.sampled_from(
    ["a", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]), max_size=30).map("".join)))
def test_lines_end_only_at_lsp_line_breaks(text: str) -> None:
    assert lsp_lines(text) == lines_reference(text)


@settings(max_examples=500, deadline=None)
@given(text=line_texts, line=st.integers(-3, 12), character=st.integers(-3, 12))
def test_locate_agrees_with_lsp_lines(text: str, line: int, character: int) -> None:
    lines = lsp_lines(text)
    row = max(0, min(line, len(lines) - 1))
    column = utf16_to_index(lines[row], character if line < len(lines) else 2 * len(text))  # past the last: the end
    assert locate(text, line, character) == (row, column, sum(len(r) for r in lines[:row]) + column)


@settings(max_examples=300, deadline=None)
@given(text=line_texts, start=st.tuples(st.integers(0, 8), st.integers(0, 8)),
       end=st.tuples(st.integers(0, 8), st.integers(0, 8)), new=st.sampled_from(["", "x", "y\nz", "\U0001f600"]))
def test_incremental_edits_splice_at_lsp_positions(text: str, start, end, new: str) -> None:
    from lsprotocol import types
    from pygls.workspace.text_document import TextDocument

    import server.protocol  # noqa: F401  (installs the LSP-exact line handling)

    document = TextDocument("file:///a.py", text)
    document.apply_change(types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=start[0], character=start[1]),
                          end=types.Position(line=end[0], character=end[1])), text=new))
    a, b = sorted((locate(text, *start)[2], locate(text, *end)[2]))  # a reversed range: the one between
    assert document.source == text[:a] + new + text[b:]


@pytest.fixture(scope="module")
def raw(deepseek_tiny: Path, workspace: Path) -> Iterator[RawServer]:
    server = RawServer(str(deepseek_tiny), workspace.as_uri())
    yield server
    assert server.close() == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
positions = st.fixed_dictionaries({"line": st.integers(-3, 30) | json_values,
                                   "character": st.integers(-3, 200) | json_values})
uris = st.sampled_from(["file:///fuzz/a.py", "file:///fuzz/b.py", "untitled:x", "", "not a uri"])
params = st.one_of(
    json_values,
    st.fixed_dictionaries({"textDocument": st.fixed_dictionaries({"uri": uris}), "position": positions,
                           "context": st.fixed_dictionaries({"triggerKind": st.integers(0, 3)})}),
)
METHODS = ["textDocument/inlineCompletion", "textDocument/completion", "deepfim/explain", "deepfim/stats",
           "workspace/executeCommand", "textDocument/hover", "nonsense/method"]
NOTIFICATIONS = ["textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
                 "workspace/didChangeConfiguration", "$/cancelRequest", "unknown/notification"]
change = st.fixed_dictionaries({
    "textDocument": st.fixed_dictionaries({"uri": uris, "version": st.integers(0, 10), "languageId": st.just("python"),
                                           "text": texts}),
    "contentChanges": st.lists(st.one_of(
        st.fixed_dictionaries({"text": texts}),
        st.fixed_dictionaries({"range": st.none(), "text": texts}),  # a whole text, as some clients send it
        st.fixed_dictionaries({"range": st.fixed_dictionaries({"start": positions, "end": positions}),
                               "text": texts})), max_size=3),
    "settings": json_values,
    "id": st.integers(0, 5),
})
_ids = itertools.count(50_000)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(messages=st.lists(st.one_of(st.tuples(st.just("request"), st.sampled_from(METHODS), params),
                                   st.tuples(st.just("notify"), st.sampled_from(NOTIFICATIONS), change)),
                         min_size=1, max_size=6))
def test_server_answers_every_request(raw: RawServer, messages) -> None:
    pending = []
    for kind, method, body in messages:
        if kind == "notify":
            raw.notify(method, body)
        else:
            msg_id = next(_ids)
            raw.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": body})
            pending.append(msg_id)
    for msg_id in pending:
        answer = raw.response(msg_id, timeout=60)
        assert ("result" in answer) != ("error" in answer)
    assert raw.proc.poll() is None
    assert "result" in raw.request(next(_ids), "deepfim/stats", None, 20)


@settings(max_examples=500, deadline=None)
@given(line=st.lists(st.sampled_from(["from", "import", " ", "\t", "\n", "\r", ",", ")", "(", "a", "_", "é",
                                      "\x0c", "\u3000", "\x85", "."]), max_size=8).map("".join))
def test_import_lines_are_told_as_the_pattern_says(line: str) -> None:
    from fim.context import _import_line
    assert _import_line(line) == bool(re.match(r"\s*(?:from\s|import\s|[\w\s,]*,\s*$|\)\s*$)", line))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.sampled_from(["from a import (b,", "    c_name, d_name,", ")", "import os.path",
                                       "value = os.path.join(root, name)", "", "x_1 = y_2 + z\t# é",
                                       "return self.tokenize(text)", "\x0c", "a, b,"]), max_size=30),
       cursor=st.integers(-3, 33), near=st.frozensets(st.sampled_from(["value", "root", "zeta"]), max_size=3))
def test_used_words_read_in_blocks_agree_with_one_reading(lines: list[str], cursor: int, near: frozenset) -> None:
    from fim.context import QUERY_LINE_CHARS, USED_LINES, _import_line, _used_words
    from fim.similarity import word_set
    around = word_set("\n".join(line[:QUERY_LINE_CHARS] for line in lines[max(0, cursor - USED_LINES):
                                                                          cursor + USED_LINES]
                                if not _import_line(line)))
    expected = tuple(sorted(near)) + tuple(sorted(around - near))
    assert _used_words(lines, cursor, near) == {word: rank for rank, word in enumerate(expected)}


@settings(max_examples=500, deadline=None)
@given(shared=st.lists(st.integers(0, 3), max_size=200), a=st.lists(st.integers(0, 3), max_size=80),
       b=st.lists(st.integers(0, 3), max_size=80), limit=st.one_of(st.none(), st.integers(-2, 300)))
def test_common_prefix_agrees_with_a_loop(shared: list[int], a: list[int], b: list[int], limit) -> None:
    from server.engines.base import common_prefix
    x, y = shared + a, shared + b
    n = max(0, min(len(x), len(y)) if limit is None else min(len(x), len(y), limit))
    expected = next((i for i in range(n) if x[i] != y[i]), n)
    assert common_prefix(x, y, limit) == expected

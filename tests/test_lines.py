"""The line starts kept across incremental edits place every edit where splitting the text would."""

from __future__ import annotations

import random
from itertools import accumulate

from lsprotocol import types
from pygls.workspace.text_document import TextDocument

from fim.positions import locate, lsp_lines
from server.lines import LineIndex, position_of
from server.protocol import kept_line_index  # (and deepfim's incremental edits)

# Line breaks of every kind, text that is one UTF-16 unit or two, a lone surrogate, and breaks LSP does not count.
PIECES = ["a", "bc", "\n", "\r", "\r\n", "é", "😀", "\ud800", "\u2028", "\x0c", "\t"]


def random_text(rng: random.Random, pieces: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(pieces))


def random_position(rng: random.Random, text: str) -> tuple[int, int]:
    lines = text.count("\n") + text.count("\r") + 1
    return rng.randint(0, lines + 1), rng.choice([0, 1, 2, 3, 5, 40])


def test_edits_land_where_splitting_the_text_puts_them() -> None:
    rng = random.Random(7)
    for _ in range(60):
        text = random_text(rng, rng.randint(0, 40))
        index = LineIndex(text)
        for _ in range(40):
            for line, character in (random_position(rng, text) for _ in range(3)):
                assert index.locate(line, character) == locate(text, line, character), (text, line, character)
            start, end = sorted(locate(text, *random_position(rng, text))[2] for _ in range(2))
            inserted = random_text(rng, rng.randint(0, 4))
            text = text[:start] + inserted + text[end:]
            assert index.replace(start, end, inserted) == text
        assert index.locate(10**6, 0) == locate(text, 10**6, 0)


def test_a_document_follows_incremental_and_whole_text_changes() -> None:
    rng = random.Random(11)
    document = TextDocument("file:///t.py", "x = 1\r\ny = 2\rz", version=1)
    expected = document.source
    for step in range(300):
        if step % 50 == 49:  # a whole-text change: the starts are found again
            expected = random_text(rng, 30)
            document.apply_change(types.TextDocumentContentChangeWholeDocument(text=expected))
            continue
        (a_line, a_char), (b_line, b_char) = sorted(random_position(rng, expected) for _ in range(2))
        inserted = random_text(rng, rng.randint(0, 3))
        start = locate(expected, a_line, a_char)[2]
        end = max(start, locate(expected, b_line, b_char)[2])
        expected = expected[:start] + inserted + expected[end:]
        document.apply_change(types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=a_line, character=a_char),
                              end=types.Position(line=b_line, character=b_char)), text=inserted))
        assert document.source == expected


def test_the_position_of_an_offset_is_where_locate_finds_it() -> None:
    rng = random.Random(5)
    for _ in range(300):
        text = random_text(rng, rng.randint(0, 30))
        offset = rng.randint(0, len(text))
        line, character = position_of(text, offset)
        if text[offset - 1:offset + 1] == "\r\n":  # inside a line break: the start of the next line
            offset += 1
        assert locate(text, line, character)[2] == offset, (text, offset)


def test_the_lines_kept_are_the_lines_of_the_text() -> None:
    rng = random.Random(9)
    for _ in range(100):
        text = random_text(rng, rng.randint(0, 30))
        index = LineIndex(text)
        for _ in range(5):
            start = rng.randint(0, len(text))
            end = rng.randint(start, len(text))
            text = index.replace(start, end, random_text(rng, rng.randint(0, 3)))
            lines = lsp_lines(text)
            starts = list(accumulate(map(len, lines[:-1]), initial=0))
            assert [index.locate(n, 0)[2] for n in range(len(lines))] == starts, text


def test_a_range_that_ends_before_it_starts_is_the_range_between() -> None:
    """As vscode-languageserver-textdocument takes it: the server inserted the new text at the start and
    replaced nothing, and its copy of the document no longer matched the editor's."""
    document = TextDocument("file:///t.py", "first = 1\r\nsecond = 2\nthird = 3\n", version=1)
    document.apply_change(types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=1, character=6), end=types.Position(line=0, character=5)),
        text=" = 0\nsecond"))
    assert document.source == "first = 0\nsecond = 2\nthird = 3\n"


def test_a_whole_text_change_lets_go_of_the_old_texts_line_starts() -> None:
    """The line starts built by an incremental edit held the text they were of: after a whole-text change
    (a client that sends one now and then) a 10 MB file's old copy stayed in memory beside the new one."""
    document = TextDocument("file:///t.py", "x = 1\n" * 1000, version=1)
    at = types.Position(line=3, character=0)
    document.apply_change(types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="y"))
    old = document.source
    assert kept_line_index(document, old) is not None
    document.apply_change(types.TextDocumentContentChangeWholeDocument(text="z = 2\n"))
    assert kept_line_index(document, old) is None
    document.apply_change(types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="w"))
    assert document.source == "z = 2\nw" and kept_line_index(document, document.source) is not None

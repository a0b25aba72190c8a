"""Notebooks (LSP 3.17 notebook documents) completed as one document.

A cell is completed within its notebook: all its cells, in order and a blank line apart, make one
document, so the model sees the imports and definitions of the cells above and the code of the cells
below. The notebook's language is that of most of its code cells; those cells are in it as they are.
Every other cell (markdown, raw, a code cell of another language) is in it as comment lines of that
language (`# `, `// `, `-- `: `fim.languages.line_comment`), its first `NOTE_LINES` lines, each cut
at `NOTE_LINE_CHARS`: the markdown above a cell often says what its code is to do. A cell with no
text, or a notebook language with no known line comment, leaves the cell out. Such a note is plain
text in the prompt (a control token's spelling in it is no control token) and is never completed:
positions move from a cell of the notebook's language into the document and back (`Joined.position`,
`Joined.cell_at`), and a position in a note's lines, or between cells, is in no cell.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Sequence

from fim.languages import line_comment
from fim.positions import index_to_utf16, locate, lsp_lines
from server.lines import line_breaks

# The lines of a note kept: the heading and a few sentences a cell's markdown usually is; a notebook's long
# introduction or a table would take the prompt's room from the code of the cells around the cursor.
NOTE_LINES = 12
# The characters of a note's line kept (a markdown image's `data:` URI is one line of 100 KB).
NOTE_LINE_CHARS = 200
_BREAK = re.compile(r"\r\n|\r|\n")
# They end a JavaScript (U+2028/9) or C# (and U+0085) comment, but no LSP line, and so no line here.
_SEPARATORS = str.maketrans("\u2028\u2029\x85", "   ")


class Cell(NamedTuple):
    """A cell: its URI, its languageId, its text, and whether it is a markup (markdown) cell."""

    uri: str
    language: str
    text: str
    markup: bool = False


@dataclass(frozen=True)
class Joined:
    """A notebook's cells as one document, and the line each cell of its language starts at."""

    text: str
    language: Optional[str]
    cells: dict[str, tuple[int, Cell]]  # cell URI -> the line the cell starts at in `text`, the cell
    parts: tuple[Cell, ...] = ()  # the cells it was joined from, the notes' included
    spans: tuple[tuple[int, int, str], ...] = ()  # (first line, last line, URI) of each cell in `cells`, in order
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)  # cell URI -> its text, its comment lines

    def position(self, uri: str, line: int, character: int) -> Optional[tuple[int, int, int]]:
        """(line, UTF-16 character) in `text` of a position in cell `uri` (clamped to the cell, as
        `locate` clamps it to a document), and the line the cell starts at; None for a cell left out."""
        if uri not in self.cells:
            return None
        start, cell = self.cells[uri]
        line, column, _ = locate(cell.text, line, character)
        return start + line, index_to_utf16(lsp_lines(cell.text)[line], column), start

    def cell_at(self, line: int, character: int) -> Optional[tuple[str, int, int]]:
        """The cell of the notebook's language a position in `text` is in, and the position in it:
        (URI, line, UTF-16 character); None on a note's line, between cells or past a line's end."""
        index = bisect_right(self.spans, (line, float("inf"))) - 1
        if index < 0 or line > self.spans[index][1] or character < 0:
            return None
        start, _, uri = self.spans[index]
        cell_line = lsp_lines(self.cells[uri][1].text)[line - start]
        length = index_to_utf16(cell_line, len(cell_line.rstrip("\r\n")))
        return (uri, line - start, character) if character <= length else None


def note(text: str, comment: str) -> str:
    """A cell's text as comment lines (`comment` and a space, but for a blank line): its first `NOTE_LINES`
    lines, each cut at `NOTE_LINE_CHARS`, without blank lines around them; "" for a cell of no text."""
    lines = [line.translate(_SEPARATORS).rstrip()[:NOTE_LINE_CHARS].rstrip()
             for line in _BREAK.split(text.strip("\r\n"))]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(f"{comment} {line}" if line else comment for line in lines[:NOTE_LINES])


def join_cells(cells: Sequence[Cell], previous: Optional[Joined] = None) -> Joined:
    """One document of the cells, in the language most code cells have (the first's on a tie); the notes
    of the cells whose text is that of `previous`'s are taken from it (a keystroke changes one cell)."""
    counts = Counter(cell.language for cell in cells if not cell.markup)
    language = counts.most_common(1)[0][0] if counts else None
    comment = line_comment(language)
    known = previous.notes if previous is not None and previous.language == language else {}
    notes: dict[str, tuple[str, str]] = {}
    texts: list[tuple[Optional[Cell], str]] = []  # (the cell of the language, or None for a note; its text)
    for cell in cells:
        if not cell.markup and cell.language == language:
            texts.append((cell, cell.text))
        elif comment:
            kept = known.get(cell.uri)
            text = kept[1] if kept is not None and kept[0] is cell.text else note(cell.text, comment)
            notes[cell.uri] = cell.text, text
            if text:
                texts.append((None, text))
    parts: list[str] = []
    starts: dict[str, tuple[int, Cell]] = {}
    spans: list[tuple[int, int, str]] = []
    line = 0
    for number, (cell, text) in enumerate(texts):
        breaks = line_breaks(text, 0, len(text))
        if cell is not None:
            starts[cell.uri] = line, cell
            spans.append((line, line + breaks, cell.uri))
        gap = "" if number == len(texts) - 1 else "\n" if text.endswith("\n") else "\n\n"
        parts.append(text)  # (with its gap, ends in a line break but for the last: none spans two parts)
        parts.append(gap)
        line += breaks + len(gap) - (gap != "" and text.endswith("\r"))  # (\r and \n are one break)
    return Joined("".join(parts), language, starts, tuple(cells), tuple(spans), notes)

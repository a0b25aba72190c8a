"""Notebooks (LSP 3.17 notebook documents) completed as one document.

A cell is completed within its notebook: the code cells of the notebook's language, in order, make one
document (a blank line between cells), so the model sees the imports and definitions of the cells above
and the code of the cells below. Markdown cells and code cells of other languages are left out. The
service completes that document under the notebook's URI; positions move from a cell into it and back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence

from fim.positions import index_to_utf16, locate, lsp_lines
from server.lines import line_breaks


class Cell(NamedTuple):
    """A code cell: its URI, its languageId and its text."""

    uri: str
    language: str
    text: str


@dataclass(frozen=True)
class Joined:
    """A notebook's code cells of its language as one document, and the line each cell starts at."""

    text: str
    language: Optional[str]
    cells: dict[str, tuple[int, Cell]]  # cell URI -> the line the cell starts at in `text`, the cell
    parts: tuple[Cell, ...] = ()  # the cells it was joined from, those of other languages included

    def position(self, uri: str, line: int, character: int) -> Optional[tuple[int, int, int]]:
        """(line, UTF-16 character) in `text` of a position in cell `uri` (clamped to the cell, as
        `locate` clamps it to a document), and the line the cell starts at; None for a cell left out."""
        if uri not in self.cells:
            return None
        start, cell = self.cells[uri]
        line, column, _ = locate(cell.text, line, character)
        return start + line, index_to_utf16(lsp_lines(cell.text)[line], column), start


def join_cells(cells: Sequence[Cell]) -> Joined:
    """One document of the cells in the language most of them have (the first's on a tie)."""
    counts = Counter(cell.language for cell in cells)
    language = counts.most_common(1)[0][0] if counts else None
    kept = [cell for cell in cells if cell.language == language]
    parts: list[str] = []
    starts: dict[str, tuple[int, Cell]] = {}
    line = 0
    for number, cell in enumerate(kept):
        starts[cell.uri] = line, cell
        gap = "" if number == len(kept) - 1 else "\n" if cell.text.endswith("\n") else "\n\n"
        part = cell.text + gap  # (ends in \n but for the last: no line break spans two parts)
        parts.append(part)
        line += line_breaks(part, 0, len(part))
    return Joined("".join(parts), language, starts, tuple(cells))

"""The line starts of an open document, kept up to date across incremental edits.

Finding a position's offset by splitting the text cost a didChange 50-300 ms in a 10 MB file,
at every keystroke; with the starts kept, an edit costs what its own lines do (and one copy of the
text: Python strings are immutable). Lines end at \\n, \\r\\n and \\r only, as `fim.positions` counts
them, and columns are UTF-16 code units.
"""

from __future__ import annotations

import re
from itertools import accumulate

import numpy as np

from fim.positions import index_to_utf16, lsp_lines, utf16_to_index

_BREAK = re.compile(r"\r\n|\r|\n")


def line_breaks(text: str, start: int, end: int) -> int:
    """The line breaks (\\n, \\r\\n, \\r) in text[start:end], counted in C."""
    return text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)


def position_of(text: str, offset: int) -> tuple[int, int]:
    """The LSP position (line, UTF-16 character) of a code-point offset into `text`, without splitting
    it into lines (a Python loop over the lines of a 10 MB file took 120 ms)."""
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return line_breaks(text, 0, offset), index_to_utf16(text[line_start:offset], offset - line_start)


class LineIndex:
    """A text and the offsets its lines start at."""

    def __init__(self, text: str) -> None:
        self.text = text
        ends = np.fromiter(accumulate(map(len, lsp_lines(text))), dtype=np.int64)
        self._starts = np.concatenate((np.zeros(1, dtype=np.int64), ends[:-1]))

    def locate(self, line: int, character: int) -> tuple[int, int, int]:
        """As `fim.positions.locate`: the position clamped into the text, as (line, code-point column,
        offset); a line past the last is the end of the text."""
        starts, text = self._starts, self.text
        if line >= len(starts):
            line, character = len(starts) - 1, 2 * len(text)
        line = max(0, line)
        begin = int(starts[line])
        stop = int(starts[line + 1]) if line + 1 < len(starts) else len(text)
        # a column of `character` UTF-16 units lies within that many code points of the line's start
        column = utf16_to_index(text[begin:min(stop, begin + max(0, character))], character)
        return line, column, begin + column

    def replace(self, start: int, end: int, inserted: str) -> str:
        """Replace the code points [start, end) with `inserted`; returns the new text."""
        text = "".join((self.text[:start], inserted, self.text[end:]))
        # A line start p > 0 depends on the two code points around it (\r\n is one break), so only
        # the starts in [start, end] can change: they become those of [start, start + len(inserted)].
        first = max(start, 1)
        starts = self._starts
        low = int(np.searchsorted(starts, first, "left"))
        high = int(np.searchsorted(starts, end, "right"))
        stop = start + len(inserted)
        found = [m.end() for m in _BREAK.finditer(text, first - 1, min(len(text), stop + 1)) if m.end() <= stop]
        self._starts = np.concatenate((starts[:low], np.array(found, dtype=np.int64),
                                       starts[high:] + (len(inserted) - (end - start))))
        self.text = text
        return text

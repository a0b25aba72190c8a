"""Whether the end of a line is code, not the inside of a comment or a string. Pure.

`fim.cprefix`, `fim.cppnamespaces` and `fim.kotlinprefix` look at the identifier typed right before the cursor on
its line (C, C++, Java, Kotlin): a ``//`` comment, a ``/* */`` one not closed before it, a string or character
literal not closed before it (``"``, ``'``; a Kotlin name quoted with backticks, ``fun `la``, with `backquotes`)
holds no name to look up. `code_before` sees a ``/* */`` comment (a KDoc ``/**``) opened on an earlier line and
not closed before the cursor too, by a look back from the cursor's line (`opened_above`: the last ``/*`` and
``*/`` before it, found from its end, each ``/*`` checked on its own line), not a scan of the whole text; a
caller holding the document as lines passes the cursor's last `LOOK_BACK` lines.
"""

from __future__ import annotations

import re

LOOK_BACK = 400  # lines above the cursor's a caller passes for a comment opened there (a KDoc, a license header)

_NOISE = r"//.*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\])*(?:\"|\Z)|'(?:\\.|[^'\\])*(?:'|\Z)"
_LINE_NOISE = re.compile(_NOISE)
_LINE_NOISE_BACKQUOTED = re.compile(_NOISE + r"|`[^`]*(?:`|\Z)")


def ends_in_code(line: str, tail: str, backquotes: bool = False) -> bool:
    """Whether `tail`, the end of `line`, is code: in no comment, string or character literal of the line (with
    `backquotes`, nor in a name quoted with backticks)."""
    noise = _LINE_NOISE_BACKQUOTED if backquotes else _LINE_NOISE
    return noise.sub(lambda n: " " * len(n.group(0)), line).endswith(tail)


def code_before(before_cursor: str, tail: str, backquotes: bool = False) -> bool:
    """Whether `tail`, the end of `before_cursor` (a document up to the cursor, or its last lines), is code: as
    `ends_in_code` on the cursor's line, and not in a ``/* */`` comment an earlier line opens (past the ``*/``
    closing it on the cursor's line)."""
    start = before_cursor.rfind("\n") + 1
    line = before_cursor[start:]
    if start and opened_above(before_cursor, start):
        close = line.find("*/")
        if close < 0:
            return False
        line = " " * (close + 2) + line[close + 2:]
    return ends_in_code(line, tail, backquotes)


def opened_above(text: str, start: int) -> bool:
    """Whether `text` is in a ``/* */`` comment at `start` (a line's start): the last ``/*`` before it that opens a
    comment on its line (not in a ``//`` comment or a string there) with no ``*/`` after it."""
    end = start
    while True:
        opening = text.rfind("/*", 0, end)
        if opening < 0 or text.find("*/", opening + 2, start) >= 0:
            return False
        line_start = text.rfind("\n", 0, opening) + 1
        line_end = text.find("\n", opening, start)
        line = text[line_start:line_end if line_end >= 0 else start]
        column = opening - line_start
        if any(m.start() == column for m in _LINE_NOISE.finditer(line)):
            return True
        end = opening  # in a string or a ``//`` comment of its line: an earlier ``/*`` may open one

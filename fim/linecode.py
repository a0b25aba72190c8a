"""Whether the end of a line is code, not the inside of a comment or a string the line opens. Pure.

`fim.cprefix`, `fim.cppnamespaces` and `fim.kotlinprefix` look at the identifier typed right before the cursor on
its line (C, C++, Java, Kotlin): a ``//`` comment, a ``/* */`` one not closed before it, a string or character
literal not closed before it (``"``, ``'``; a Kotlin name quoted with backticks, ``fun `la``, with `backquotes`)
holds no name to look up. A comment opened on an earlier line is not seen.
"""

from __future__ import annotations

import re

_NOISE = r"//.*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\])*(?:\"|\Z)|'(?:\\.|[^'\\])*(?:'|\Z)"
_LINE_NOISE = re.compile(_NOISE)
_LINE_NOISE_BACKQUOTED = re.compile(_NOISE + r"|`[^`]*(?:`|\Z)")


def ends_in_code(line: str, tail: str, backquotes: bool = False) -> bool:
    """Whether `tail`, the end of `line`, is code: in no comment, string or character literal of the line (with
    `backquotes`, nor in a name quoted with backticks)."""
    noise = _LINE_NOISE_BACKQUOTED if backquotes else _LINE_NOISE
    return noise.sub(lambda n: " " * len(n.group(0)), line).endswith(tail)

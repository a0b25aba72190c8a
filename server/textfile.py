"""Source file bytes as the text an editor shows: UTF-8 unless a byte order mark says UTF-16 or
UTF-32 (as Windows tools such as PowerShell's `>` write them), the mark itself dropped."""

from __future__ import annotations

import codecs
from typing import Optional

# longest first: UTF-32-LE's mark begins with UTF-16-LE's
_MARKS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
          (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode(data: bytes) -> Optional[str]:
    """The text of a file's bytes, or None when they are not text (NUL characters in the first 8K:
    NUL bytes without a UTF-16/32 mark). Bytes that do not decode become U+FFFD."""
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            text = data[len(mark):].decode(encoding, "replace")
            return None if "\x00" in text[:8192] else text  # binary that begins as a mark does
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")

"""server/textfile.py: a file's bytes as the text an editor shows, or None for a binary file."""

from __future__ import annotations

import codecs

import pytest

from server import textfile


@pytest.mark.parametrize("mark", [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE])
def test_a_binary_file_that_begins_with_a_byte_order_mark_is_not_text(mark: bytes) -> None:
    """A UTF-8 mark followed by NUL bytes was refused as binary before UTF-16/32 were read; since then any
    file beginning with a mark was text, its NUL bytes (NUL characters once decoded) and all: `deepfim
    complete` completed in it and the workspace index put it in prompts."""
    blob = mark + bytes(range(256)) * 4 + bytes(64)
    assert textfile.decode(blob) is None


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_text_with_a_byte_order_mark_is_read_without_it(encoding: str) -> None:
    text = "def greet(name):\r\n    return f'héllo {name} 😀'\n"
    data = text.encode(encoding) if encoding != "utf-16-be" else codecs.BOM_UTF16_BE + text.encode(encoding)
    assert textfile.decode(data) == text
    assert textfile.decode(codecs.BOM_UTF16_LE) == ""  # a lone mark: an empty file

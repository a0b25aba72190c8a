"""What a keystroke costs the server in a very large document, before the model runs.

A document of `--lines` lines (200,000: about 10 MB) is opened as the server holds it (pygls's
TextDocument with deepfim's incremental edits); one character is typed and deleted again at lines
spread over the whole document, `--edits` times, and each didChange is timed. The document is
written with \\n, with \\r\\n, and with a non-BMP character on every line (a string of 4 bytes per
character, and UTF-16 columns that differ from code points). Prints the median and the 90th
percentile in milliseconds.

    .venv/bin/python -m benchmarks.big_document
    .venv/bin/python -m benchmarks.big_document --lines 50000 --edits 100
"""

from __future__ import annotations

import argparse
import statistics
import time

from lsprotocol import types
from pygls.workspace.text_document import TextDocument

import server.protocol  # noqa: F401  (deepfim's incremental edits)


def document(lines: int, kind: str) -> str:
    comment = "# naïve 😀" if kind == "astral" else "# comment"
    text = "".join(f"    value_{i} = compute(value_{i - 1}, {i})  {comment}\n" for i in range(lines))
    return text.replace("\n", "\r\n") if kind == "crlf" else text


def time_edits(text: str, edits: int) -> list[float]:
    """Milliseconds of each didChange: a character typed at column 4 of a line (then deleted, untimed)."""
    doc = TextDocument("file:///big.py", text, version=1)
    lines = text.count("\n")
    doc.apply_change(types.TextDocumentContentChangePartial(  # the first edit of an opened document
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        text=""))
    times = []
    for i in range(edits):
        at = types.Position(line=(i * 7919) % lines, character=4)
        typed = types.Position(line=at.line, character=5)
        start = time.perf_counter()
        doc.apply_change(types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="x"))
        times.append((time.perf_counter() - start) * 1000)
        doc.apply_change(types.TextDocumentContentChangePartial(range=types.Range(start=at, end=typed), text=""))
    assert doc.source == text
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()
    for kind in ("lf", "crlf", "astral"):
        text = document(args.lines, kind)
        times = sorted(time_edits(text, args.edits))
        print(f"{kind:6} {len(text) / 1e6:5.1f} M characters: didChange median {statistics.median(times):6.2f} ms, "
              f"p90 {times[int(len(times) * 0.9)]:6.2f} ms")


if __name__ == "__main__":
    main()

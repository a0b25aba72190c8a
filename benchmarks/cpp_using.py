"""What ``using namespace`` costs a keystroke in a large C++ document (`fim.cppusing`), before the model runs.

A document of `--lines` lines (20,000) includes an installed header declaring ``namespace spdlog`` and opens it
(``using namespace spdlog;`` at its top); a name is typed bare at its end (``d``, ``de``, ``deb``... ``debug``),
the document changing with each keystroke as in an editor. Each keystroke times
`fim.cppusing.using_namespaces` (the directives in effect at the cursor, from the text before it),
`fim.cppusing.using_definitions` (the header's names the typed name begins) and `fim.context.select_context` (the
whole selection, installed headers on). Prints the medians in milliseconds.

    .venv/bin/python -m benchmarks.cpp_using
    .venv/bin/python -m benchmarks.cpp_using --lines 50000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fim.context import select_context
from fim.cppusing import using_definitions, using_namespaces
from fim.imports import ImportRef
from server.dependencies import InstalledFiles

HEADER = "#pragma once\nnamespace spdlog {\n" + "".join(f"void sink_{k}(int level);\n" for k in range(50)) \
    + "void debug(const char *message);\nvoid info(const char *message);\n}\n"
TYPED = ("d", "de", "deb", "debu", "debug")


def document_lines(lines: int) -> list[str]:
    """A C++ file of about `lines` lines: functions with comments and strings, ``using namespace spdlog;``."""
    out = ["#include <spdlog/spdlog.h>", "", "using namespace spdlog;", "/* helpers */"]
    for k in range(lines // 4):
        out += [f"int f{k}(int x) {{  // {k}", f'    const char *s = "v{k}"; /* x */', f"    return x + {k};", "}"]
    return out + ["void g() {", "    "]


def measure(lines: int) -> dict[str, float]:
    """The median milliseconds of each step over the keystrokes of `TYPED`."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "include" / "spdlog").mkdir(parents=True)
        (root / "include" / "spdlog" / "spdlog.h").write_text(HEADER, encoding="utf-8")
        installed = InstalledFiles(None, lambda rel: root / "ws" / rel, 256 * 1024,
                                   include_folders=[root / "include"])
        includes = [ImportRef("spdlog/spdlog.h", (), "c", 0, system=True)]
        head = document_lines(lines)
        times: dict[str, list[float]] = {"using_namespaces": [], "using_definitions": [], "select_context": []}
        for typed in TYPED:
            lines_now = head[:-1] + ["    " + typed]
            text = "\n".join(lines_now)
            start = time.perf_counter()
            before = "\n".join(lines_now)  # what fim.context joins for the C lookups
            using_namespaces(before)
            times["using_namespaces"].append(time.perf_counter() - start)
            start = time.perf_counter()
            using_definitions("\n".join(lines_now), includes, text, installed)
            times["using_definitions"].append(time.perf_counter() - start)
            start = time.perf_counter()
            select_context("src/app.cc", text, len(lines_now) - 1, {"src/app.cc": text}, [], None, 20000,
                           (max(0, len(lines_now) - 60), len(lines_now)), installed=installed,
                           cursor_character=len(lines_now[-1]))
            times["select_context"].append(time.perf_counter() - start)
    return {name: statistics.median(values[1:]) * 1000 for name, values in times.items()}  # the first: a new file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    args = parser.parse_args()
    for name, ms in measure(args.lines).items():
        print(f"{name:<18} {ms:8.2f} ms a keystroke (median, {args.lines:,} lines)")


if __name__ == "__main__":
    main()

"""What a keystroke costs in a file that imports hundreds or thousands of the workspace's files.

A generated workspace per language: a Perl script calling 2,000 packages (each in its own ``lib/`` file), a
Python module importing from 2,000 modules, a TypeScript barrel of 1,000 ``export * from`` lines, a C file
with 500 ``#include``s. The document is opened in the server's project (`server.project.Project`) and its
context chosen as a completion asks for it (`Project.context`, a 16K window's room): first at a cursor, then
after one more character typed there (`--keystrokes` times), then with the cursor a line up (the document's
imports read again). `--real` adds files of the benchmark sources (a folder of ``~/.cache/deepfim/benchmarks/
src`` and a file in it: the workspace is that folder).

    .venv/bin/python -m benchmarks.many_imports
    .venv/bin/python -m benchmarks.many_imports --languages perl python --keystrokes 3
    .venv/bin/python -m benchmarks.many_imports --real sympy-1.13.3/sympy-1.13.3:sympy/__init__.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, NamedTuple, Optional

from fim import symbols
from fim.context import CHARS_PER_TOKEN
from server.project import Project

ROOM_TOKENS = 8192  # what a 16K window leaves for repository context (`Completer.prompt_for`: max_context_tokens)


SUBS = 6  # definitions a generated file holds, each a few lines long


def perl(root: Path, n: int = 2000) -> str:
    """`n` packages ``Pkg::PN`` in ``lib/Pkg/PN.pm``; ``script.pl`` calls each (``Pkg::PN->new``); its path."""
    for i in range(n):
        subs = "".join(f"sub step{j}_{i} {{\n    my ($self, $x) = @_;\n    my $y = $self->{{value}} * {j} + $x;\n"
                       f"    warn \"step{j} of P{i}: $y\\n\" if $ENV{{DEBUG_P{i}}};\n    return $y;\n}}\n\n"
                       for j in range(SUBS))
        _write(root / "lib" / "Pkg" / f"P{i}.pm",
               f"package Pkg::P{i};\nuse strict;\nuse warnings;\n\n# Package {i}: steps on a value.\n\n"
               f"sub new {{\n    my ($class, %args) = @_;\n"
               f"    return bless {{ value => $args{{v}} // {i} }}, $class;\n}}\n\n"
               f"{subs}1;\n")
    body = "use strict;\nuse warnings;\n\nsub main {\n    my $total = 0;\n"
    body += "".join(f"    $total += Pkg::P{i}->new(v => $total)->step{i % SUBS}_{i}({i});\n" for i in range(n))
    return _main(root, "script.pl", body + "    return $total;\n}\n\nmain();\n")


def python(root: Path, n: int = 2000) -> str:
    """`n` modules ``pkg/mod_N.py``; ``app.py`` imports a function from each and calls them."""
    _write(root / "pkg" / "__init__.py", "")
    for i in range(n):
        defs = "".join(f"def step{j}_{i}(x: int, scale: float = {j}.5) -> float:\n"
                       f"    \"\"\"Step {j} of module {i}.\"\"\"\n"
                       f"    y = x * scale + {i}\n    return y if y > 0 else -y\n\n\n" for j in range(SUBS))
        _write(root / "pkg" / f"mod_{i}.py",
               f'"""Module {i}: steps on a value."""\n\nimport math\n\n\n{defs}'
               f"class Thing{i}:\n    def value(self) -> int:\n        return math.floor({i} / 2)\n")
    body = "".join(f"from pkg.mod_{i} import step{i % SUBS}_{i}, Thing{i}\n" for i in range(n))
    body += "\n\ndef main() -> float:\n    total = 0.0\n"
    body += "".join(f"    total += step{i % SUBS}_{i}(Thing{i}().value())\n" for i in range(0, n, 10))
    return _main(root, "app.py", body + "    return total\n")


def typescript(root: Path, n: int = 1000) -> str:
    """`n` modules ``src/mods/mN.ts``; ``src/index.ts`` re-exports them all and uses a few."""
    for i in range(n):
        defs = "".join(f"export function step{j}_{i}(shape: Shape{i}, by: number = {j}): Shape{i} {{\n"
                       f"  const id = shape.id * by + {i};\n  return {{ ...shape, id }};\n}}\n\n" for j in range(SUBS))
        _write(root / "src" / "mods" / f"m{i}.ts",
               f"export interface Shape{i} {{\n  id: number;\n  name: string;\n  tags?: string[];\n}}\n\n"
               f"export function make{i}(name: string): Shape{i} {{\n  return {{ id: {i}, name }};\n}}\n\n{defs}")
    body = "".join(f"export * from './mods/m{i}';\n" for i in range(n))
    body += "".join(f"import {{ make{i}, step1_{i} }} from './mods/m{i}';\n" for i in range(0, n, 50))
    body += "\nexport function all(): number {\n  let total = 0;\n"
    body += "".join(f"  total += step1_{i}(make{i}('x')).id;\n" for i in range(0, n, 50))
    return _main(root, "src/index.ts", body + "  return total;\n}\n")


def c(root: Path, n: int = 500) -> str:
    """`n` headers ``include/hN.h``; ``src/main.c`` includes them all and calls some."""
    for i in range(n):
        decls = "".join(f"int item{i}_step{j}(struct item{i} *item, int by);\n" for j in range(SUBS))
        _write(root / "include" / f"h{i}.h",
               f"#ifndef H{i}_H\n#define H{i}_H\n\n/* Items of kind {i}. */\nstruct item{i} {{\n    int id;\n"
               f"    const char *name;\n    double weight{i};\n}};\n\nint item{i}_value(const struct item{i} *item);\n"
               f"{decls}\n#endif\n")
        _write(root / "src" / f"h{i}.c", f'#include "h{i}.h"\n\nint item{i}_value(const struct item{i} *item)\n'
               f"{{\n    return item->id + {i};\n}}\n")
    _write(root / "compile_commands.json", '[{"directory": "%s", "file": "src/main.c", "command": "cc -Iinclude '
           '-c src/main.c"}]\n' % root)
    body = "".join(f'#include "h{i}.h"\n' for i in range(n)) + "\nint main(void)\n{\n    int total = 0;\n"
    body += "".join(f"    struct item{i} v{i} = {{ {i}, \"x\", 0.5 }};\n    total += item{i}_step2(&v{i}, 3);\n"
                    for i in range(0, n, 25))
    return _main(root, "src/main.c", body + "    return total;\n}\n")


GENERATED: dict[str, Callable[[Path], str]] = {"perl": perl, "python": python, "typescript": typescript, "c": c}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _main(root: Path, rel: str, text: str) -> str:
    _write(root / rel, text)
    return rel


class Measured(NamedTuple):
    """Per request: wall-clock and CPU milliseconds, files parsed (`fim.symbols`' models built); snippets at last."""

    wall: list[float]
    cpu: list[float]
    parses: list[int]
    snippets: int


def keystrokes(root: Path, rel: str, count: int, line: Optional[int] = None) -> Measured:
    """Milliseconds of the context choice for `rel` at the first request at a cursor (the line before the
    document's last ``return``, or `line`), at each of `count` keystrokes after it (one character typed
    there each time) and after the cursor moved up a line."""
    project = Project([root], background=False)
    while not project.scan(limit_seconds=60):
        pass
    path = root / rel
    text = path.read_text(errors="replace")
    lines = text.split("\n")
    if line is None:
        line = max((k for k, row in enumerate(lines) if row.strip().startswith("return")), default=len(lines) - 1)
    lines.insert(line, "    ")
    project.opened(path, "\n".join(lines))
    timings: list[float] = []
    cpu: list[float] = []
    parses: list[int] = []
    snippets: list = []
    for k in range(count + 2):
        typed = lines[line] + "x" * min(k, count)
        text = "\n".join([*lines[:line], typed, *lines[line + 1:]])
        at = line - 1 if k > count else line  # at last the cursor moves up a line: the document's imports read again
        project.edited(path, text, at)
        provide = project.context(path, text, at, timings)
        assert provide is not None
        # The local window: 60 lines above the cursor, 20 below (a 16K window holds more; the context is the same).
        start, parsed = time.thread_time(), symbols._model.cache_info().misses
        snippets = provide((max(0, at - 60), at + 20), int(ROOM_TOKENS * CHARS_PER_TOKEN))
        cpu.append((time.thread_time() - start) * 1000)
        parses.append(symbols._model.cache_info().misses - parsed)
    project.index.shutdown()
    return Measured(timings, cpu, parses, len(snippets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", nargs="*", default=list(GENERATED), choices=list(GENERATED))
    parser.add_argument("--keystrokes", type=int, default=2)
    parser.add_argument("--real", nargs="*", default=[], metavar="SOURCE:FILE",
                        help="a folder of ~/.cache/deepfim/benchmarks/src and a file in it")
    args = parser.parse_args()
    print(f"context choice per request, {ROOM_TOKENS} tokens of room (a 16K window)")
    for language in args.languages:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            rel = GENERATED[language](root)
            _report(language, keystrokes(root, rel, args.keystrokes))
    sources = Path.home() / ".cache" / "deepfim" / "benchmarks" / "src"
    for spec in args.real:
        source, _, rel = spec.partition(":")
        _report(spec, keystrokes(sources / source, rel, args.keystrokes))


def _report(label: str, measured: Measured) -> None:
    def show(k: slice) -> str:
        wall, cpu, parses = measured.wall[k], measured.cpu[k], measured.parses[k]
        return (f"{statistics.median(wall):7.1f} / {statistics.median(cpu):7.1f} ms "
                f"{statistics.median(parses):5.0f} parsed")

    print(f"{label}: {measured.snippets} snippets (wall / CPU ms, files parsed; keystrokes: medians)\n"
          f"    first at the cursor {show(slice(0, 1))}, a keystroke later {show(slice(1, -1))}, "
          f"a line up {show(slice(-1, None))}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s in all)")

"""What saving an ignore file costs the server in a large repository.

A workspace of `--files` small Python files (60,000) is walked to the end (5,000 read, the rest known
by name); then a .gitignore excluding one folder appears and the index hears of it, as from the
editor's file events. Prints how long that call held the server (the index's lock, and the event loop
that called it), how many names prompts see right after it, and the names once the walk is over.

    .venv/bin/python -m benchmarks.big_workspace
    .venv/bin/python -m benchmarks.big_workspace --files 20000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from server.workspace import WorkspaceIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=60_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for i in range(args.files):
            package = root / f"pkg{i // 500}" / f"sub{i // 50 % 10}"
            package.mkdir(parents=True, exist_ok=True)
            (package / f"mod{i}.py").write_text(f"def function_{i}(x):\n    return x + {i}\n")
        index = WorkspaceIndex([root])
        start = time.monotonic()
        while not index.scan(1.0):
            pass
        print(f"walk {time.monotonic() - start:.2f} s: {len(index.files)} files read, {len(index.snapshot())} names")
        gitignore = root / ".gitignore"
        gitignore.write_text("pkg7/\n")
        start = time.perf_counter()
        index.refresh(gitignore)
        print(f"ignore file changed: handled in {(time.perf_counter() - start) * 1000:.0f} ms, "
              f"{len(index.snapshot())} names right after")
        while not index.scan(1.0):
            pass
        print(f"after the walk: {len(index.snapshot())} names")
        index.shutdown()


if __name__ == "__main__":
    main()

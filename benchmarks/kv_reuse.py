"""Reusing the KV cache past a changed snippet of context: what it saves and what it changes in the answers.

    .venv/bin/python -m benchmarks.kv_reuse                 # 80 cursors in httpx, Gemma 3 270M, ~15 min on 2 cores
    .venv/bin/python -m benchmarks.kv_reuse --samples 16

Each sample is a window as deepfim lays it out: a snippet of an installed package's file, another one (the snippet
that changes: the member being typed brings other names), then the document up to a cursor in httpx's own files.
The engine reads the window with one second snippet, then answers the window with another: it reads the new
snippet and places the document after it (`server.engines.kvplan`). The same window is then answered from a cold
cache. Printed: the prompt tokens read after the change against the window's, how many answers are identical,
and how many answers' first line is exactly the rest of the cursor's line in the file, for both. The shifted
document attended to the old snippet when it was read (as with llama.cpp's `n_cache_reuse`): answers may differ,
and the exact-line counts say whether they got worse. Needs the httpx case of `benchmarks.dependency_context`
(``--cases httpx`` downloads it once) and the Gemma model (`deepfim models pull gemma-3-270m`).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Optional, Sequence

from models.catalog import cache_dir, models_dir


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=80)
    parser.add_argument("--model", type=Path, default=models_dir() / "gemma-3-270m-q4_k_m.gguf")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    root = cache_dir() / "benchmarks" / "deps" / "httpx-0.27.2"
    sites = sorted(root.glob(".venv/lib/python*/site-packages"))
    if not sites or not args.model.exists():
        raise SystemExit(f"needs {root} (python -m benchmarks.dependency_context --cases httpx) and {args.model}")
    from server.engines.local import LocalEngine

    files = [p for p in sorted((root / "httpx").rglob("*.py")) if p.stat().st_size > 4000]
    packages = sorted((sites[0] / "httpcore").rglob("*.py"))
    rng = random.Random(args.seed)
    # One thread, fixed: llama.cpp rounds differently on 1 and 2 threads, which load would switch between (and
    # 2 threads on 2 busy cores wait for each other at every step).
    engine = LocalEngine(args.model, n_ctx=8192, n_threads=1)

    def snippet(path: Path) -> list[int]:
        return engine.tokenize("#" + path.name + "\n" + "".join(path.read_text().splitlines(keepends=True)[:40]))

    identical = read = total = 0
    exact = {"reused": 0, "cold": 0}
    for n in range(args.samples):
        path = rng.choice(files)
        lines = path.read_text().splitlines(keepends=True)
        line = rng.randrange(40, min(len(lines), 200))
        column = rng.randrange(1, max(2, len(lines[line].rstrip())))
        document = engine.tokenize("#" + str(path.relative_to(root)) + "\n" + "".join(lines[:line])
                                   + lines[line][:column])[-2500:]
        first, before, after = (snippet(p) for p in rng.sample(packages, 3))
        bos = [engine.special.bos]
        engine.forget()
        engine.prefill(bos + first + before + document, lambda: False)
        window = bos + first + after + document
        reused = engine.generate(window, 12, lambda: False)
        engine.forget()
        cold = engine.generate(window, 12, lambda: False)
        truth = lines[line][column:].rstrip()
        for name, answer in (("reused", reused.text), ("cold", cold.text)):
            head = answer.split("\n")[0].rstrip()
            exact[name] += bool(head.strip()) and head == truth
        identical += reused.text == cold.text
        read += reused.prompt_tokens_evaluated
        total += len(window)
        print(f"{n:3d} {path.name:>18}:{line + 1:<4} read {reused.prompt_tokens_evaluated:5d} of {len(window):5d}"
              f"  {'same' if reused.text == cold.text else 'differs'}", flush=True)
    print(f"\nafter the change: {read} of {total} prompt tokens read ({read / max(1, total):.0%})")
    print(f"identical answers: {identical}/{args.samples}")
    print(f"first line = the rest of the line: reused {exact['reused']}/{args.samples}, "
          f"cold {exact['cold']}/{args.samples}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

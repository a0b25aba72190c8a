"""Soak benchmark: simulated editing over LSP for a long time; memory growth, latency drift, errors.

    python -m benchmarks.soak                  # 30 minutes with the small synthetic model
    python -m benchmarks.soak --minutes 5 --model ~/models/deepseek-coder-1.3b-base.Q4_K_M.gguf

A simulated typist edits a copy of a real source file: types lines character by character (a
completion request per keystroke, most of them superseded or cancelled as in fast typing),
deletes lines (enough to keep each file within 20 lines of its size on disk, so that memory is
not measured against ever longer documents), jumps around, and opens and closes other files. It
prints resident memory of the server after warm-up (the first tenth, while bounded caches fill),
at the end and for every minute, the latency of the first and last tenth of the run, and every
error or unanswered request.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Optional

from lsprotocol import types


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="GGUF to use (default: the tiny synthetic DeepSeek-Coder model)")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source", type=Path, help="project folder to copy (default: this repository's server/)")
    args = parser.parse_args(argv)

    from tests.lsp_client import LspSession

    if args.model:
        model = Path(args.model)
    else:
        from models.synthetic import TINY, synthetic_deepseek

        model = synthetic_deepseek(TINY)
    rng = random.Random(args.seed)
    source = args.source or Path(__file__).resolve().parent.parent / "server"
    root = Path(tempfile.mkdtemp(prefix="deepfim-soak-"))
    shutil.copytree(source, root / "project", ignore=shutil.ignore_patterns("__pycache__"))
    files = sorted((root / "project").rglob("*.py"))
    session = LspSession(str(model), root / "project", options={"maxTokens": 24, "contextSize": 4096})
    errors: list[str] = []
    latencies: list[tuple[float, float]] = []  # (time since start, ms)
    requests = cancelled = 0
    try:
        documents = {}
        original_lines = {path: path.read_text(encoding="utf-8").count("\n") + 1 for path in files}
        for path in files[:3]:
            documents[path] = [path.read_text(encoding="utf-8"), 1, session.open(path, path.read_text())]
        start = time.monotonic()
        end = start + args.minutes * 60
        warm_rss: Optional[int] = None
        series: list[tuple[float, int, int]] = []  # (minutes, resident bytes, characters open)
        sampled = start - 60
        while time.monotonic() < end:
            if time.monotonic() - sampled >= 60:
                sampled = time.monotonic()
                series.append(((sampled - start) / 60, session.request("deepfim/stats", {})["rss_bytes"],
                               sum(len(text) for text, _, _ in documents.values())))
            path = rng.choice(list(documents))
            text, version, uri = documents[path]
            lines = text.split("\n")
            action = rng.random()
            if action < 0.05 and len(documents) < 6:  # open another file
                other = rng.choice(files)
                if other not in documents:
                    documents[other] = [other.read_text(encoding="utf-8"), 1, session.open(other, other.read_text())]
                continue
            if action < 0.08 and len(documents) > 2:  # close one
                session.close_document(uri)
                del documents[path]
                continue
            grown = len(lines) > original_lines[path] + 20  # keep the editing stationary: as much deleted as typed
            if (action < 0.15 or grown) and len(lines) > 10:  # delete a line
                number = rng.randrange(len(lines) - 1)
                del lines[number]
                text, version = "\n".join(lines), version + 1
                session.change(uri, version, text)
                documents[path] = [text, version, uri]
                continue
            # Type a line taken from elsewhere in the file, keystroke by keystroke.
            number = rng.randrange(len(lines))
            typed = rng.choice(lines).strip()[:40] or "pass"
            indent = lines[number][: len(lines[number]) - len(lines[number].lstrip())]
            lines.insert(number, indent)
            text, version = "\n".join(lines), version + 1
            session.change(uri, version, text)
            column = len(indent)
            for char in typed:
                position = types.Position(line=number, character=column)
                version += 1
                session.change(uri, version, char, types.Range(start=position, end=position))
                column += 1
                params = types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=number, character=column),
                    context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))
                requests += 1
                sent = time.perf_counter()
                msg_id, future = session.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params)
                if rng.random() < 0.7:  # fast typing: the client cancels before the answer
                    time.sleep(rng.uniform(0.0, 0.05))
                    session.cancel(msg_id)
                    cancelled += 1
                try:
                    future.result(120)
                    latencies.append((time.monotonic() - start, (time.perf_counter() - sent) * 1000))
                except FutureTimeout:
                    errors.append(f"request {msg_id} unanswered after 120 s")
                except Exception as error:  # a cancelled request answers with RequestCancelled
                    if getattr(error, "code", None) != -32800:
                        errors.append(f"request {msg_id}: {error!r}")
            lines[number] = indent + typed
            text = "\n".join(lines)
            documents[path] = [text, version, uri]
            if warm_rss is None and time.monotonic() - start > args.minutes * 6:  # the first tenth
                warm_rss = session.request("deepfim/stats", {})["rss_bytes"]
        stats = session.request("deepfim/stats", {})
    finally:
        session.close()
        shutil.rmtree(root, ignore_errors=True)
    duration = args.minutes * 60
    first = [ms for t, ms in latencies if t < duration / 10]
    last = [ms for t, ms in latencies if t > duration * 0.9]
    warm_rss = warm_rss or stats["rss_bytes"]
    growth = (stats["rss_bytes"] - warm_rss) / warm_rss
    print("== deepfim soak ==")
    print(f"{args.minutes:.0f} minutes, {requests} completion requests ({cancelled} cancelled by the client), "
          f"{stats['model_runs']} model runs, {stats['cache_hits']} cache hits")
    print(f"resident memory after warm-up {warm_rss / 2**20:.0f} MiB, at the end {stats['rss_bytes'] / 2**20:.0f} MiB "
          f"({growth:+.1%})")
    if first and last:
        print(f"latency p50 first tenth {statistics.median(first):.0f} ms, last tenth {statistics.median(last):.0f} ms")
    print("resident memory by minute (MiB; characters in open documents):")
    print("  " + ", ".join(f"{minute:.0f}: {rss / 2**20:.0f} ({chars // 1000}k)" for minute, rss, chars in series))
    print(f"errors: {len(errors)}")
    for error in errors[:20]:
        print("  " + error)
    print(f"  {'PASS' if growth < 0.05 else 'FAIL'}  memory growth < 5%")
    print(f"  {'PASS' if not errors else 'FAIL'}  no errors or unanswered requests")
    return 0 if growth < 0.05 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())

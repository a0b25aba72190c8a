"""New lines: typing several lines with Enter between them, in-process through the completion service
(the code path of the server and the CLI), with the DeepSeek-Coder-1.3B-shaped model and repository
context, in two layouts in one run:

* **block** (the default layout): the lines of the cursor's TAIL_LINES block go after
  `<｜fim▁end｜>` with the typed part of its line, so Enter adds a few tokens at the prompt's end;
* **line**: only the typed part of the line goes there (deepfim before this layout, llama.vim's
  placement), so every Enter changes the prompt from the end of the prefix on and the whole suffix
  is read again.

Each line is typed in three keystrokes: Enter with the line's indentation, then half the line,
then the whole line. Reported per layout: latency p50/p95 and prompt tokens evaluated, for the
keystroke after Enter and for the others; the first (cold) completion is left out.

    python -m benchmarks.new_lines                     # 8 lines, 4K window (about 5 minutes on 2 cores)
    python -m benchmarks.new_lines --ctx 16384 --lines 4
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Optional

import fim.prompt
from benchmarks.latency import default_file, resolve_model
from benchmarks.stats import percentile
from server.service import CompletionService
from server.settings import Settings

LAYOUTS = {"block": fim.prompt.TAIL_LINES, "line": 1}  # TAIL_LINES 1: no line of the block after the hole


def code_lines(lines: list[str], count: int) -> int:
    """The first of `count` consecutive non-blank code lines about 60% into the file."""
    start = int(len(lines) * 0.6)
    for number in range(start, len(lines) - count):
        chunk = lines[number:number + count]
        if all(line.strip() and not line.strip().startswith("#") for line in chunk):
            return number
    raise SystemExit(f"no {count} consecutive code lines to type in the file")


def run_layout(name: str, model: Path, file: Path, first: int, count: int, ctx: int,
               max_tokens: int) -> list[dict]:
    """Type `count` lines of `file` from line `first` on (removed from the document first) in layout
    `name`; one record per keystroke."""
    fim.prompt.TAIL_LINES = LAYOUTS[name]
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    typed = lines[first:first + count]
    before, after = lines[:first], lines[first + count:]
    settings, _ = Settings().validated({"model": str(model), "contextSize": ctx, "maxTokens": max_tokens})
    service = CompletionService(settings, background_index=False)
    records: list[dict] = []
    try:
        service.project.set_roots([file.parent])
        service.project.scan(limit_seconds=10)
        uri = file.as_uri()
        # The cursor at the end of the line before: its window read cold, not counted.
        head = "".join(before)
        service.complete_now(uri, head + "".join(after), first - 1, len(before[-1].rstrip("\n")))
        done = ""
        for k, line in enumerate(typed):
            body = line.rstrip("\n")
            indent = body[:len(body) - len(body.lstrip())]
            for step, part in (("enter", indent), ("half", body[:len(indent) + (len(body) - len(indent)) // 2]),
                               ("line", body)):
                text = head + done + part + "\n" + "".join(after)
                result = service.complete_now(uri, text, first + k, len(part))
                gen = result.generation
                records.append({"layout": name, "line": k, "step": step, "latency_ms": result.total_ms,
                                "evaluated": gen.prompt_tokens_evaluated, "reused": gen.prompt_tokens_reused,
                                "generated": gen.generated_tokens, "prompt_tokens": len(result.prompt.token_ids)})
                print(f"  {name:5} line {k} {step:5} {result.total_ms:8.0f} ms  evaluated {gen.prompt_tokens_evaluated:5}"
                      f"  generated {gen.generated_tokens}", flush=True)
            done += line
    finally:
        service.close()
        fim.prompt.TAIL_LINES = LAYOUTS["block"]
    return records


def summary(records: list[dict]) -> dict:
    def figures(rows: list[dict]) -> dict:
        latencies = [r["latency_ms"] for r in rows]
        return {"n": len(rows), "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
                "evaluated_mean": statistics.fmean(r["evaluated"] for r in rows)}

    out: dict = {}
    for name in LAYOUTS:
        mine = [r for r in records if r["layout"] == name]
        out[name] = {"after_enter": figures([r for r in mine if r["step"] == "enter"]),
                     "within_line": figures([r for r in mine if r["step"] != "enter"])}
    return out


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="GGUF to use (default: the synthetic DeepSeek-Coder-1.3B shape)")
    parser.add_argument("--file", type=Path, help="file to type into (default: llama_cpp/llama.py)")
    parser.add_argument("--lines", type=int, default=8, help="lines to type (default 8)")
    parser.add_argument("--ctx", type=int, default=4096, help="context window in tokens (default 4096)")
    parser.add_argument("--max-tokens", type=int, default=16, help="tokens generated per keystroke (default 16)")
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    args = parser.parse_args(argv)
    model = resolve_model(args.model)
    file = (args.file or default_file()).resolve()
    first = code_lines(file.read_text(encoding="utf-8").splitlines(), args.lines)
    print(f"typing lines {first}-{first + args.lines - 1} of {file} with Enter between them; window {args.ctx}; "
          f"model {model.name}", flush=True)
    records = [r for name in LAYOUTS
               for r in run_layout(name, model, file, first, args.lines, args.ctx, args.max_tokens)]
    result = summary(records)
    for name, parts in result.items():
        for part, f in parts.items():
            print(f"{name:5} {part:11} n={f['n']:2}  p50 {f['p50_ms'] / 1000:6.2f} s  p95 {f['p95_ms'] / 1000:6.2f} s"
                  f"  prompt tokens evaluated {f['evaluated_mean']:7.1f}")
    block, line = result["block"]["after_enter"], result["line"]["after_enter"]
    print(f"after Enter, block vs line layout: p50 {block['p50_ms'] / line['p50_ms']:.2f}x, "
          f"tokens evaluated {block['evaluated_mean']:.1f} vs {line['evaluated_mean']:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"summary": result, "keystrokes": records}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

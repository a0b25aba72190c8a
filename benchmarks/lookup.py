"""Prompt-lookup decoding on real text: the same completions with and without it, in one run.

For each HumanEval infilling task (benchmarks/infilling.py's tasks), the prompt deepfim builds is
completed twice by the real small model (Gemma 3 270M), from an empty KV cache each time (so both
runs read the prompt alike), generating up to `--max-tokens` tokens with the post-processor's
stop: plain greedy decoding, then with `lookupDecoding`. It prints the share of identical outputs,
the acceptance rate of drafted tokens, and the generation-time ratio (lookup / plain).

    .venv/bin/python -m benchmarks.lookup                  # 40 single-line + 40 multi-line tasks
    .venv/bin/python -m benchmarks.lookup --limit 0        # every task
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

import llama_cpp

from benchmarks.infilling import DOCUMENT_NAME, KINDS, build_tasks, default_model, load_problems, sample
from server.completion import CompletionRequest, cursor_context, open_completer
from server.settings import Settings
from fim.postprocess import is_single_line, stop_index


def run(tasks: Sequence, model: Path, max_tokens: int, threads: Optional[int], log=print) -> dict:
    settings = Settings(model=str(model), max_tokens=max_tokens, context_size=4096, threads=threads,
                        time_budget_ms=600_000)
    completer = open_completer(settings)
    engine = completer.engine
    totals = {"tasks": 0, "identical": 0, "plain_ms": 0.0, "lookup_ms": 0.0, "drafted": 0, "accepted": 0,
              "tokens": 0}
    try:
        for index, task in enumerate(tasks, 1):
            text, line, character = task.document()
            fim, prompt = completer.prompt_for(CompletionRequest(text=text, line=line, character=character,
                                                                 path=DOCUMENT_NAME))
            ctx = cursor_context(fim)
            single = is_single_line(ctx)
            outputs = []
            for lookup in (False, True):
                llama_cpp.llama_memory_clear(engine._memory, True)  # both runs read the prompt alike
                engine._cached.clear()
                completer.settings = replace(settings, lookup_decoding=lookup)
                _, generation = completer.generate(prompt, lambda: False, lambda t: stop_index(t, ctx, single))
                outputs.append(generation)
            plain, drafted = outputs
            totals["tasks"] += 1
            totals["identical"] += plain.text == drafted.text
            totals["plain_ms"] += plain.generate_ms
            totals["lookup_ms"] += drafted.generate_ms
            totals["drafted"] += drafted.draft_tokens
            totals["accepted"] += drafted.draft_accepted
            totals["tokens"] += plain.generated_tokens
            if index % 10 == 0:
                log(f"[{index}/{len(tasks)}] ratio so far {totals['lookup_ms'] / max(1e-9, totals['plain_ms']):.2f}")
    finally:
        engine.close()
    totals["acceptance"] = totals["accepted"] / totals["drafted"] if totals["drafted"] else 0.0
    totals["time_ratio"] = totals["lookup_ms"] / totals["plain_ms"] if totals["plain_ms"] else float("nan")
    return totals


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.lookup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a .gguf file (default: Gemma 3 270M Q4_K_M from the test extras)")
    parser.add_argument("--limit", type=int, default=40, help="tasks per kind, 0 = all (default 40)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (default: physical cores)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    problems = load_problems()
    tasks = [t for kind in KINDS for t in sample(build_tasks(kind, problems), args.limit, args.seed)]
    model = Path(args.model).expanduser() if args.model else default_model()
    started = time.perf_counter()
    totals = run(tasks, model, args.max_tokens, args.threads or None, log=lambda s: print(s, file=sys.stderr))
    print(f"lookup decoding on {totals['tasks']} infilling tasks ({model.name}, {totals['tokens']} tokens generated, "
          f"{time.perf_counter() - started:.0f} s)")
    print(f"  identical outputs: {totals['identical']}/{totals['tasks']}")
    print(f"  drafted {totals['drafted']}, accepted {totals['accepted']} (acceptance {totals['acceptance']:.2f})")
    print(f"  generation time: plain {totals['plain_ms'] / 1000:.1f} s, lookup {totals['lookup_ms'] / 1000:.1f} s "
          f"(ratio {totals['time_ratio']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

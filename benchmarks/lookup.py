"""Prompt-lookup decoding on real text: the same completions with and without it, in one run.

For each HumanEval infilling task (benchmarks/infilling.py's tasks), the prompt deepfim builds is
completed twice by the real small model (Gemma 3 270M), from an empty KV cache each time (so both
runs read the prompt alike), generating up to `--max-tokens` tokens with the post-processor's
stop: plain greedy decoding and with `lookupDecoding`, in alternating order from task to task.
Only generation is timed (not reading the prompt); each task runs `--repeat` times in each mode
and the fastest run counts (the machine's other load slows single runs). It prints the share of
identical outputs, the drafted and accepted tokens and their acceptance rate, and the
generation-time ratio (lookup / plain). With `--rows` it first times a llama_decode of 1, 2, 4, 8 and 16 rows with logits, which
is what verifying a draft of 0, 1, 3, 7 or 15 tokens costs on this machine.

    .venv/bin/python -m benchmarks.lookup                  # 40 single-line + 40 multi-line tasks
    .venv/bin/python -m benchmarks.lookup --limit 0        # every task
    .venv/bin/python -m benchmarks.lookup --limit 20 --rows --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

import llama_cpp
import numpy as np

from benchmarks.infilling import DOCUMENT_NAME, KINDS, build_tasks, default_model, load_problems, sample
from server.completion import CompletionRequest, cursor_context, open_completer
from server.settings import Settings
from fim.postprocess import is_single_line, stop_index


ROWS = (1, 2, 4, 8, 16)


def row_costs(engine, prompt: list[int], repeats: int = 7) -> dict[int, float]:
    """Median milliseconds of a llama_decode of k tokens after `prompt`, with logits for all k rows."""
    engine.prefill(prompt, lambda: False)
    end = len(prompt)
    times: dict[int, list[float]] = {rows: [] for rows in ROWS}
    for _ in range(repeats):
        for rows in ROWS:  # interleaved: the machine's load changes alike for every size
            started = time.perf_counter()
            engine._decode(prompt[-rows:], end, rows=rows)
            times[rows].append((time.perf_counter() - started) * 1000)
            llama_cpp.llama_memory_seq_rm(engine._memory, 0, end, -1)
            del engine._cached[end:]
    return {rows: float(np.median(values)) for rows, values in times.items()}


def run(tasks: Sequence, model: Path, max_tokens: int, threads: Optional[int], log=print,
        rows: bool = False, repeat: int = 1) -> dict:
    settings = Settings(model=str(model), max_tokens=max_tokens, context_size=4096, threads=threads,
                        time_budget_ms=600_000)
    completer = open_completer(settings)
    engine = completer.engine
    totals = {"tasks": 0, "identical": 0, "plain_ms": 0.0, "lookup_ms": 0.0, "drafted": 0, "accepted": 0,
              "tokens": 0, "row_ms": {}, "task_ratios": []}
    try:
        for index, task in enumerate(tasks, 1):
            text, line, character = task.document()
            fim, prompt = completer.prompt_for(CompletionRequest(text=text, line=line, character=character,
                                                                 path=DOCUMENT_NAME))
            if rows and index == 1:
                engine.forget()
                totals["row_ms"] = row_costs(engine, completer.heal(prompt)[0].token_ids)
            ctx = cursor_context(fim)
            single = is_single_line(ctx)
            outputs: dict[bool, list] = {False: [], True: []}
            for round_ in range(repeat):
                for lookup in ((False, True) if (index + round_) % 2 else (True, False)):  # each goes first alike
                    engine.forget()  # both runs read the prompt alike
                    completer.settings = replace(settings, lookup_decoding=lookup)
                    _, generation = completer.generate(prompt, lambda: False, lambda t: stop_index(t, ctx, single))
                    outputs[lookup].append(generation)
            plain, drafted = outputs[False][0], outputs[True][0]
            # the fastest of the repeats: a run slowed by the machine's other load counts least
            plain_ms = min(g.generate_ms for g in outputs[False])
            lookup_ms = min(g.generate_ms for g in outputs[True])
            totals["tasks"] += 1
            totals["identical"] += all(g.text == plain.text for g in outputs[True])
            totals["plain_ms"] += plain_ms
            totals["lookup_ms"] += lookup_ms
            totals["task_ratios"].append(lookup_ms / max(1e-9, plain_ms))
            totals["drafted"] += drafted.draft_tokens
            totals["accepted"] += drafted.draft_accepted
            totals["tokens"] += plain.generated_tokens
            if index % 10 == 0:
                log(f"[{index}/{len(tasks)}] ratio so far {totals['lookup_ms'] / max(1e-9, totals['plain_ms']):.2f}")
    finally:
        engine.close()
    totals["acceptance"] = totals["accepted"] / totals["drafted"] if totals["drafted"] else 0.0
    totals["time_ratio"] = totals["lookup_ms"] / totals["plain_ms"] if totals["plain_ms"] else float("nan")
    totals["median_task_ratio"] = float(np.median(totals["task_ratios"])) if totals["task_ratios"] else float("nan")
    return totals


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.lookup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a .gguf file (default: Gemma 3 270M Q4_K_M from the test extras)")
    parser.add_argument("--limit", type=int, default=40, help="tasks per kind, 0 = all (default 40)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (default: physical cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each task in each mode, the fastest counted (default 2)")
    parser.add_argument("--rows", action="store_true",
                        help="first time a llama_decode of 1, 2, 4, 8 and 16 rows (the cost of verifying drafts)")
    args = parser.parse_args(argv)
    problems = load_problems()
    tasks = [t for kind in KINDS for t in sample(build_tasks(kind, problems), args.limit, args.seed)]
    model = Path(args.model).expanduser() if args.model else default_model()
    started = time.perf_counter()
    totals = run(tasks, model, args.max_tokens, args.threads or None, log=lambda s: print(s, file=sys.stderr),
                 rows=args.rows, repeat=max(1, args.repeat))
    print(f"lookup decoding on {totals['tasks']} infilling tasks ({model.name}, {totals['tokens']} tokens generated, "
          f"{time.perf_counter() - started:.0f} s)")
    if totals["row_ms"]:
        single = totals["row_ms"][1]
        print("  llama_decode with logits: " + ", ".join(
            f"{rows} row{'s' * (rows > 1)} {ms:.1f} ms ({ms / single:.1f}x)" for rows, ms in totals["row_ms"].items()))
    print(f"  identical outputs: {totals['identical']}/{totals['tasks']} "
          f"({totals['identical'] / max(1, totals['tasks']):.0%})")
    print(f"  drafted {totals['drafted']}, accepted {totals['accepted']} (acceptance {totals['acceptance']:.2f})")
    print(f"  generation time (fastest of {max(1, args.repeat)} per task): plain {totals['plain_ms'] / 1000:.1f} s, "
          f"lookup {totals['lookup_ms'] / 1000:.1f} s (ratio {totals['time_ratio']:.2f}; "
          f"median per task {totals['median_task_ratio']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A team on one inference server: 4 editors typing at once through 4 `deepfim serve` processes.

One `llama-server` (built from the vendored llama.cpp, tests/llama_server.py) is started on
loopback as the README's team command starts it: `-np 4` slots of `--ctx` tokens each,
`--cache-reuse 256`, `--no-cache-idle-slots`, `--metrics`. Each simulated editor is its own
`deepfim serve` process with the `engine` setting (what `--engine URL` sets), typing one line of its
own file of the workspace over LSP, keystroke by keystroke, as benchmarks/latency.py types (a
change, then an inline completion request, the next keystroke when the answer is there).

In the same run:

1. **alone**: the editors one after another, each with the server to itself: its first (cold)
   completion, which reads its window, then the first `--keystrokes` characters of its line;
2. **team**: all editors at once, each typing the next `--keystrokes` characters of its line.

For both it reports p50/p95 latency, errors (requests that failed or timed out, and error or
warning messages deepfim showed), and the prompt tokens the server evaluated per keystroke (its
/metrics `llamacpp:prompt_tokens_total`), which would jump if editors evicted each other's KV cache
from the slots. Each deepfim takes a slot of its own and asks for it by `id_slot` (for a request
without one, llama-server picks the idle slot whose cached prompt shares the longest prefix with it,
else the least recently used one: another editor's); the server's slot choices are counted from
its log.

deepfim runs with the server's default `timeBudgetMs`, as a user's does (after each editor's first,
cold completion, which reads its window unhurried): where generating takes longer, answers stop at
the budget, at a word boundary, and the report shows how many tokens the answers carried alone and
together. `--time-budget-ms 600000` lets every answer run to
`--max-tokens`: the same work alone and together, which measures the server's sharing alone.

    python -m benchmarks.team                            # 4 editors, 4K windows, default budget
    python -m benchmarks.team --time-budget-ms 600000    # the same work alone and together
    python -m benchmarks.team --ctx 16384 --keystrokes 8 # 16K windows (reading 4 windows takes long)
    python -m benchmarks.team --cold-together            # the editors start at once: each takes a slot
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from lsprotocol import types

from benchmarks.latency import (Keystroke, Typist, blank_line, default_file, open_session, pick_line,
                                resolve_model, row, typing_parser)
from benchmarks.remote_latency import keep_log, log_since, server_tokens, slot_choices
from benchmarks.stats import percentile
from server.settings import Settings


@dataclass
class Editor:
    """One simulated editor: its file and line, its deepfim process, what it typed and saw."""

    name: str
    file: Path
    line: int
    body: str = ""
    typist: Any = None
    session: Any = None
    alone: list[Keystroke] = field(default_factory=list)
    alone_server: list[int] = field(default_factory=list)
    team: list[Keystroke] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def type_char(self, count: int) -> Keystroke:
        """Type the line's `count`-th character (none for 0) and record the completion."""
        latency = self.typist.keystroke(self.body[count - 1] if count else "", timeout=3600)
        return self.typist.record(self.body[:count], latency)

    def complaints(self) -> list[str]:
        """Error and warning messages deepfim showed the user."""
        return [m.message for m in self.session.messages
                if m.type in (types.MessageType.Error, types.MessageType.Warning)]


def pick_files(workspace: Path, count: int, exclude: Optional[Path] = None) -> list[Path]:
    """The `count` largest Python files of the workspace (the default file first when given)."""
    found = sorted((p.resolve() for p in workspace.rglob("*.py") if p.resolve() != exclude),
                   key=lambda p: (-p.stat().st_size, str(p)))
    return ([exclude] if exclude else []) + found[:count - (1 if exclude else 0)]


def choice_counts(log: str) -> dict[str, int]:
    """How many slots the server chose by prompt similarity and how many by least recent use (a
    request no idle slot shared a prefix with: it evicts whatever that slot held)."""
    counts: dict[str, Any] = {"LCP similarity": 0, "LRU": 0, "id": 0, "fresh": 0}
    for _slot, how in slot_choices(log):
        counts[how] += 1
    counts["LRU slots"] = [slot for slot, how in slot_choices(log) if how == "LRU"]
    return counts


# A time budget no completion here reaches: every answer runs to maxTokens.
UNHURRIED_MS = 600_000

EVAL_TIME = re.compile(r"(?<!prompt )\beval time =\s*([0-9.]+) ms /\s*(\d+) tokens")


def decode_ms_per_token(log: str) -> float:
    """Mean milliseconds per generated token over the requests this part of the server's log
    finished (its `eval time` lines, prompt reading excluded): what one decoding step of the
    server costs, alone or shared by every editor generating at once."""
    pairs = [(float(m.group(1)), int(m.group(2))) for m in EVAL_TIME.finditer(log)]
    tokens = sum(n for _, n in pairs)
    return sum(ms for ms, _ in pairs) / tokens if tokens else 0.0


def run(args: argparse.Namespace, model: Path, workspace: Path, files: list[Path]) -> dict[str, Any]:
    from tests.llama_server import LlamaServer

    extra = ["--cache-reuse", "256", "--no-cache-idle-slots"]
    if args.server_flash_attention:
        extra += ["--flash-attn", args.server_flash_attention]
    if args.kv_unified:  # one KV buffer for every slot, each slot still held to --ctx tokens
        extra += ["--kv-unified", "--kv-unified-per-slot", str(args.ctx)]
    print(f"llama-server: -np {len(files)}, {args.ctx} tokens per slot, {args.server_threads} threads, "
          f"{' '.join(extra)}", flush=True)
    server = LlamaServer(model, ctx=args.ctx, parallel=len(files), threads=args.server_threads, extra=extra)
    editors: list[Editor] = []
    try:
        # The first, cold completion reads the window unhurried (it is left out of the figures);
        # then each deepfim runs with the budget measured.
        options = {"engine": server.url, "contextSize": args.ctx, "maxTokens": args.max_tokens,
                   "timeBudgetMs": UNHURRIED_MS}
        for number, file in enumerate(files):
            lines = file.read_text(encoding="utf-8").splitlines()
            line = pick_line(lines)
            text, indent, body = blank_line(file, line)
            editor = Editor(f"editor {number + 1}", file, line, body)
            editor.session = open_session("", workspace, options)
            editor.typist = Typist(editor.session, file, line, text, indent)
            editors.append(editor)
            print(f"{editor.name}: line {line} of {file.relative_to(workspace)} ({body!r})", flush=True)
        keystrokes = min(args.keystrokes, *(len(e.body) // 2 for e in editors))

        def first_completion(editor: Editor) -> None:
            """The cold completion, unhurried; then the budget measured."""
            editor.alone.append(editor.type_char(0))
            editor.session.configure({"timeBudgetMs": args.time_budget_ms})

        log_start = len(log_since(server, 0))
        if args.cold_together:
            print("\ncold: every editor's first completion at once", flush=True)
            before = server_tokens(server)
            at_once(editors, first_completion)
            server.settle()
            for editor in editors:
                editor.alone_server.append((server_tokens(server) - before) // len(editors))
                print(f"{row(0, editor.alone[-1])}  ({editor.name})", flush=True)
        print("\nalone: one editor at a time, the server to itself", flush=True)
        for editor in editors:
            for count in range(1 if args.cold_together else 0, keystrokes + 1):
                before = server_tokens(server)
                if count == 0:
                    first_completion(editor)
                else:
                    editor.alone.append(editor.type_char(count))
                server.settle()
                editor.alone_server.append(server_tokens(server) - before)
                print(f"{row(count, editor.alone[-1])}  server {editor.alone_server[-1]:5d}  ({editor.name})",
                      flush=True)
        alone_log = log_since(server, log_start)
        complaints_before = [len(e.complaints()) for e in editors]

        print(f"\nteam: {len(editors)} editors at once", flush=True)
        log_start = len(log_since(server, 0))
        before = server_tokens(server)
        started = time.perf_counter()

        def type_on(editor: Editor) -> None:
            for count in range(keystrokes + 1, 2 * keystrokes + 1):
                try:
                    editor.team.append(editor.type_char(count))
                    print(f"{row(count, editor.team[-1])}  ({editor.name})", flush=True)
                except Exception as error:  # a failed or timed-out request: counted, typing goes on
                    editor.errors.append(f"{type(error).__name__}: {error}")
                    print(f"  {count:3d} {editor.name}: {editor.errors[-1]}", flush=True)

        at_once(editors, type_on)
        wall = time.perf_counter() - started
        server.settle()
        team_tokens = server_tokens(server) - before
        team_log = log_since(server, log_start)
        for editor, seen in zip(editors, complaints_before):
            editor.errors.extend(f"message: {m}" for m in editor.complaints()[seen:])
        return summarize(args, editors, keystrokes, team_tokens, wall, choice_counts(alone_log),
                         choice_counts(team_log), (decode_ms_per_token(alone_log), decode_ms_per_token(team_log)))
    finally:
        for editor in editors:
            editor.session.close()
        keep_log(server, args.server_log)
        server.close()


def at_once(editors: list[Editor], work: Callable[[Editor], None]) -> None:
    """Run `work` for every editor at the same time, each in its own thread."""
    start = threading.Barrier(len(editors))

    def run_one(editor: Editor) -> None:
        start.wait()
        work(editor)

    threads = [threading.Thread(target=run_one, args=(e,)) for e in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def summarize(args: argparse.Namespace, editors: list[Editor], keystrokes: int, team_tokens: int, wall: float,
              alone_slots: dict[str, int], team_slots: dict[str, int],
              decode_ms: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
    alone = [k.latency_ms for e in editors for k in e.alone[1:]]  # the cold first completion left out
    alone_generated = [k.generated for e in editors for k in e.alone[1:]]
    team_generated = [k.generated for e in editors for k in e.team]
    alone_tokens = [n for e in editors for n in e.alone_server[1:]]
    team = [k.latency_ms for e in editors for k in e.team]
    team_count = sum(len(e.team) + len(e.errors) for e in editors) or 1
    return {
        "settings": {"editors": len(editors), "ctx": args.ctx, "max_tokens": args.max_tokens,
                     "time_budget_ms": args.time_budget_ms, "cold_together": args.cold_together,
                     "keystrokes_per_editor": keystrokes, "server_threads": args.server_threads,
                     "kv_unified": args.kv_unified},
        "alone": {"keystrokes": len(alone), "p50_ms": percentile(alone, 50), "p95_ms": percentile(alone, 95),
                  "errors": 0, "server_tokens_per_keystroke": sum(alone_tokens) / max(1, len(alone_tokens)),
                  "generated_per_answer": sum(alone_generated) / max(1, len(alone_generated)),
                  "slot_choices": alone_slots, "server_ms_per_generated_token": decode_ms[0]},
        "team": {"keystrokes": len(team), "p50_ms": percentile(team, 50), "p95_ms": percentile(team, 95),
                 "errors": sum(len(e.errors) for e in editors), "server_tokens_per_keystroke": team_tokens / team_count,
                 "generated_per_answer": sum(team_generated) / max(1, len(team_generated)),
                 "wall_s": wall, "slot_choices": team_slots, "server_ms_per_generated_token": decode_ms[1]},
        "editors": [{"name": e.name, "file": str(e.file), "line": e.line,
                     "prompt_tokens": e.alone[-1].prompt_tokens if e.alone else 0,
                     "alone_p50_ms": percentile([k.latency_ms for k in e.alone[1:]], 50),
                     "team_p50_ms": percentile([k.latency_ms for k in e.team], 50),
                     "alone_evaluated": sum(k.evaluated for k in e.alone[1:]), "alone_server_tokens": e.alone_server,
                     "team_evaluated": sum(k.evaluated for k in e.team), "errors": e.errors,
                     "alone": [dict((k, v) for k, v in asdict(s).items() if k != "token_ids") for s in e.alone],
                     "team": [dict((k, v) for k, v in asdict(s).items() if k != "token_ids") for s in e.team]}
                    for e in editors],
    }


def report(summary: dict[str, Any]) -> None:
    alone, team, n = summary["alone"], summary["team"], summary["settings"]["editors"]
    settings = summary["settings"]
    print(f"\n== {n} editors on one llama-server (-np {n}, {settings['ctx']} tokens per slot; timeBudgetMs "
          f"{settings['time_budget_ms']}, maxTokens {settings['max_tokens']}) ==")
    print(f"{'':26}{'keystrokes':>11}{'p50':>10}{'p95':>10}{'errors':>8}   server prompt tokens / keystroke"
          f"   tokens generated / answer")
    for name, side in (("one editor alone", alone), (f"{n} editors at once", team)):
        print(f"{name:26}{side['keystrokes']:11d}{side['p50_ms']:8.0f}ms{side['p95_ms']:8.0f}ms{side['errors']:8d}"
              f"   {side['server_tokens_per_keystroke']:32.1f}   {side['generated_per_answer']:.1f}")
    for editor in summary["editors"]:
        print(f"  {editor['name']}: prompt {editor['prompt_tokens']} tokens, p50 alone {editor['alone_p50_ms']:.0f} ms"
              f" / together {editor['team_p50_ms']:.0f} ms; server-reported tokens evaluated alone "
              f"{editor['alone_evaluated']}, together {editor['team_evaluated']}")
    print(f"slot choices alone {alone['slot_choices']}, together {team['slot_choices']} (LRU: a request that "
          f"shared no prefix with an idle slot took the least recently used one, evicting its cache)")
    step_alone, step_team = alone["server_ms_per_generated_token"], team["server_ms_per_generated_token"]
    if step_alone > 0 and step_team > 0:
        print(f"server decoding step: {step_alone:.0f} ms per generated token alone, {step_team:.0f} ms with {n} "
              f"editors generating at once ({step_team / step_alone:.2f}x: the share of the slowdown that is the "
              f"server's hardware, not the editors waiting on each other)")
    ratio = team["p95_ms"] / alone["p95_ms"] if alone["p95_ms"] > 0 else float("inf")
    for name, ok, shown in ((f"p95 with {n} <= 2 x one editor's p95", ratio <= 2.0, f"{ratio:.2f}"),
                            ("0 errors", team["errors"] == 0, str(team["errors"]))):
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {shown}")
    if team["generated_per_answer"] < alone["generated_per_answer"]:
        print(f"  (together the answers carried {team['generated_per_answer']:.1f} tokens against "
              f"{alone['generated_per_answer']:.1f} alone: the time budget stopped them; --time-budget-ms "
              f"{UNHURRIED_MS} compares the same work)")


def main(argv: Optional[list[str]] = None) -> int:
    parser = typing_parser(__doc__ or "", ctx=4096, keystrokes=8, one_file=False)
    parser.add_argument("--editors", type=int, default=4, help="simulated editors (4), one server slot each")
    parser.add_argument("--server-threads", type=int, default=2, help="llama-server threads (2)")
    parser.add_argument("--server-log", type=Path, help="keep llama-server's log in this file")
    parser.add_argument("--server-flash-attention", choices=("on", "off", "auto"),
                        help="llama-server's --flash-attn (default: not passed, the server's own auto)")
    parser.add_argument("--kv-unified", action="store_true",
                        help="start llama-server with one KV buffer shared by the slots (--kv-unified), each "
                             "slot held to --ctx tokens (--kv-unified-per-slot)")
    parser.add_argument("--cold-together", action="store_true",
                        help="every editor's first, cold completion at once (as editors started together), "
                             "then the editors alone as usual")
    default_budget = Settings().time_budget_ms
    parser.add_argument("--time-budget-ms", type=int, default=default_budget,
                        help=f"deepfim's timeBudgetMs (default {default_budget}, the server's; "
                             f"{UNHURRIED_MS} lets every answer run to --max-tokens)")
    args = parser.parse_args(argv)
    model = resolve_model(args.model)
    first = default_file().resolve() if args.workspace is None else None
    workspace = (args.workspace or default_file().parent).resolve()
    files = pick_files(workspace, args.editors, first)
    print(f"model {model.name}; {len(files)} editors in {workspace}", flush=True)
    summary = run(args, model, workspace, files)
    report(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0 if summary["team"]["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Latency benchmark: typing one line into a real file of a real project, over LSP.

deepfim runs as `deepfim serve` (a subprocess driven by pygls's LSP client) with a
DeepSeek-Coder-1.3B-shaped model (real tokenizer, synthetic weights: compute does not depend on
the values) and a full window of repository context. Per keystroke it records the latency from
request to response, the prompt tokens evaluated and reused, the generated tokens and cache hits.
In the same process it then runs

* the naive baseline: llama-cpp-python's `Llama`, a plain PSM prompt of the same size rebuilt
  every keystroke (prefix, hole, suffix, end), only llama-cpp-python's own prefix reuse, the same
  number of generated tokens;
* the floor: only the tokens that changed since the previous prompt plus the generated tokens,
  decoded with raw `llama_decode` (server/engines/local.py) and nothing else around it.

A GPU section follows: the same three measurements with every layer offloaded, where llama.cpp
has a GPU backend (`llama_cpp.llama_supports_gpu_offload()`); where it has none, it says so. The
CPU run sets `gpuLayers` 0, so its figures stay CPU figures on a machine with a GPU.

The cold-open phase comes last (benchmarks/cold_open.py, `--cold-open auto|only|off`): a fresh
server with the server's default `firstAnswerMs`, `timeBudgetMs` and `maxTokens` (this benchmark's
`--max-tokens` does not apply) opens the file; the time from didOpen to the first answer and its
window (quick or full), every keystroke's latency and window until answers use the full window,
then `--keystrokes` warm keystrokes, against a cold read of the full window by another fresh
server (`firstAnswerMs` 0), with its targets as PASS/FAIL lines.

    python -m benchmarks.latency                      # full 16K window (about 35 minutes on 2 cores)
    python -m benchmarks.latency --ctx 4096 --keystrokes 12   # a quick run
    python -m benchmarks.latency --gpu only           # the GPU section (and the cold-open phase)
    python -m benchmarks.latency --cold-open only     # the cold-open phase alone (12-15 minutes at 16K)
    python -m benchmarks.latency --cold-open off      # the phases before it only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types

from benchmarks.stats import percentile


@dataclass
class Keystroke:
    typed: str
    latency_ms: float
    evaluated: int
    reused: int
    generated: int
    cache_hit: bool
    prompt_tokens: int
    baseline_ms: Optional[float] = None
    floor_ms: Optional[float] = None
    prompt_ms: float = 0.0  # the engine's time to read the prompt (to the first token)
    generate_ms: float = 0.0
    total_ms: float = 0.0  # the server's Completer.complete: the engine's time plus building the prompt etc.
    token_ids: list[int] = field(default_factory=list, repr=False)


def pick_line(lines: list[str]) -> int:
    """A code line (40-70 characters, no comment) about 60% into the file."""
    start = int(len(lines) * 0.6)
    for number in list(range(start, len(lines))) + list(range(0, start)):
        body = lines[number].strip()
        if 40 <= len(body) <= 70 and "#" not in body and not body.startswith(("def ", "class ", "@")):
            return number
    raise SystemExit("no suitable line to type in the file; pass --line")


def default_file() -> Path:
    import llama_cpp

    return Path(llama_cpp.__file__).with_name("llama.py")


def blank_line(file: Path, line: int) -> tuple[str, str, str]:
    """The file's text with `line` emptied down to its indentation, that indentation, and the code
    of the line (what a typist then types)."""
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    target = lines[line]
    indent = target[: len(target) - len(target.lstrip())]
    lines[line] = indent + "\n"
    return "".join(lines), indent, target.strip()


def open_session(model: str, workspace: Path, options: dict, timeout: float = 600) -> Any:
    """`deepfim serve` over LSP (pygls's client), once it says it is ready. `model` "" with an
    `engine` option: a remote engine."""
    from tests.lsp_client import LspSession

    session = LspSession(model, workspace, options=options)
    deadline = time.monotonic() + timeout
    while not any(getattr(s, "state", None) == "ready" or (isinstance(s, dict) and s.get("state") == "ready")
                  for s in session.statuses):
        if time.monotonic() > deadline:
            session.close()
            raise SystemExit(f"the server did not get ready in {timeout:.0f} s")
        time.sleep(0.2)
    return session


class Typist:
    """One editor typing one line of a document over LSP: a change per keystroke, then an inline
    completion request at the cursor, as an editor with automatic inline completion sends them."""

    def __init__(self, session: Any, file: Path, line: int, text: str, indent: str) -> None:
        self.session = session
        self.line = line
        self.uri = session.open(file, text)
        self.version = 1
        self.column = len(indent)
        self.shown: Any = None
        self.hits = 0
        self.explained: Any = None  # deepfim/explain after the last `record` (the last model run's)

    def keystroke(self, char: str, timeout: float = 1800) -> float:
        """Type `char` at the cursor (nothing for "") and ask for a completion there; the latency in ms."""
        if char:
            self.version += 1
            position = types.Position(line=self.line, character=self.column)
            self.session.change(self.uri, self.version, char, types.Range(start=position, end=position))
            self.column += 1
        started = time.perf_counter()
        self.shown = self.session.inline(self.uri, self.line, self.column, timeout=timeout)
        return (time.perf_counter() - started) * 1000

    def suggestion(self) -> str:
        """The first line of the suggestion shown now ("" when none)."""
        return self.shown.items[0].insert_text.split("\n")[0] if self.shown and self.shown.items else ""

    def record(self, typed: str, latency: float) -> Keystroke:
        """The keystroke just made, with the server's account of it (stats and deepfim/explain)."""
        stats = self.session.request("deepfim/stats", {})
        hit = stats["cache_hits"] > self.hits
        self.hits = stats["cache_hits"]
        explained = self.explained = self.session.explain(self.uri)
        timings = explained["timings"]
        return Keystroke(
            typed=typed, latency_ms=latency, evaluated=0 if hit else timings["prompt_tokens_evaluated"],
            reused=0 if hit else timings["prompt_tokens_reused"],
            generated=0 if hit else timings["generated_tokens"], cache_hit=hit,
            prompt_tokens=len(explained["prompt"]["token_ids"]),
            token_ids=explained["prompt"]["token_ids"], prompt_ms=0.0 if hit else timings["prompt_ms"],
            generate_ms=0.0 if hit else timings["generate_ms"], total_ms=0.0 if hit else timings["total_ms"])


def row(count: int, stroke: Keystroke) -> str:
    """One printed line per keystroke."""
    return (f"  {count:3d} {stroke.typed[-24:]:>24} {stroke.latency_ms:9.1f} ms  eval {stroke.evaluated:5d}"
            f"  reused {stroke.reused:5d}  gen {stroke.generated:3d}{'  cache' if stroke.cache_hit else ''}")


def run_server(args: argparse.Namespace, model: Path, file: Path, workspace: Path, line: int,
               gpu_layers: Optional[int] = 0) -> tuple[list[Keystroke], dict, list[float]]:
    """Type the line over LSP; return the keystrokes, the final stats, typing-through latencies.
    `gpu_layers` None offloads every layer (deepfim's default where llama.cpp has a GPU backend)."""
    text, indent, body = blank_line(file, line)
    options = {"contextSize": args.ctx, "maxTokens": args.max_tokens, "timeBudgetMs": 600_000,
               "lineInPrefix": args.line_in_prefix, "gpuLayers": gpu_layers,
               "flashAttention": args.flash_attention}
    if args.threads:
        options["threads"] = args.threads
    session = open_session(str(model), workspace, options)
    try:
        typist = Typist(session, file, line, text, indent)
        keystrokes: list[Keystroke] = []
        for count in range(0, min(len(body), args.keystrokes) + 1):
            latency = typist.keystroke(body[count - 1] if count else "")
            keystrokes.append(typist.record(body[:count], latency))
            print(row(count, keystrokes[-1]), flush=True)
        # Typing through a suggestion: the one shown now, or, when the model suggested nothing here
        # (synthetic weights often produce only whitespace), the first one shown while the rest of
        # the line is typed.
        through: list[float] = []
        typist.keystroke("")
        suggestion = typist.suggestion()
        count = min(len(body), args.keystrokes)
        while len(suggestion) < 2 and count < min(len(body), args.keystrokes + args.seek_suggestion):
            count += 1
            typist.keystroke(body[count - 1])
            suggestion = typist.suggestion()
        if len(suggestion) < 2:
            print(f"  no suggestion of 2+ characters was shown in {count} keystrokes: typing-through not measured")
        else:
            print(f"  typing through the suggestion {suggestion[:40]!r} shown after {body[:count]!r}", flush=True)
        hits_before = session.request("deepfim/stats", {})["cache_hits"]
        for char in suggestion[:-1][:20]:
            through.append(typist.keystroke(char))
        final = session.request("deepfim/stats", {})
        final["through_cache_hits"] = final["cache_hits"] - hits_before
        return keystrokes, final, through
    finally:
        session.close()


def run_baseline(args: argparse.Namespace, model: Path, keystrokes: list[Keystroke], gpu_layers: Optional[int] = 0
                 ) -> None:
    """llama-cpp-python's Llama with a plain PSM prompt of the same size, rebuilt every keystroke
    (`gpu_layers` None: every layer on the GPU)."""
    from llama_cpp import Llama

    from server.engines.local import physical_cores

    threads = args.threads or physical_cores()
    llm = Llama(model_path=str(model), n_ctx=args.ctx, n_threads=threads, n_threads_batch=threads,
                n_batch=256, n_gpu_layers=-1 if gpu_layers is None else gpu_layers, verbose=False)
    bos, pre, suf, mid = 32013, 32016, 32015, 32017
    for stroke in keystrokes:
        if stroke.cache_hit:
            continue
        ids = stroke.token_ids
        # The same tokens, in plain PSM: everything up to the cursor, the hole, the suffix, the end.
        try:
            middle_start = len(ids) - ids[::-1].index(mid)
            suf_at = ids.index(suf)
        except ValueError:
            continue
        prefix = [t for t in ids[:suf_at] if t not in (bos, pre)] + ids[middle_start:]
        suffix = ids[suf_at + 1: middle_start - 1]
        prompt = [bos, pre] + prefix + [suf] + suffix + [mid]
        started = time.perf_counter()
        produced = 0
        for _token in llm.generate(prompt, top_k=1, temp=0.0, reset=True):
            produced += 1
            if produced >= max(1, stroke.generated):
                break
        stroke.baseline_ms = (time.perf_counter() - started) * 1000
        print(f"  baseline {stroke.typed[-24:]:>24} {stroke.baseline_ms:9.1f} ms", flush=True)
    llm.close()


def run_floor(args: argparse.Namespace, model: Path, keystrokes: list[Keystroke], gpu_layers: Optional[int] = 0
              ) -> int:
    """Only the changed tokens and the generated ones, with raw llama_decode; returns the KV bytes."""
    from server.engines.local import LocalEngine as Engine

    engine = Engine(model, n_ctx=args.ctx, n_threads=args.threads, gpu_layers=gpu_layers,
                    flash_attention=args.flash_attention)
    kv_bytes = engine.kv_cache_bytes()
    previous: Optional[list[int]] = None
    for stroke in keystrokes:
        if stroke.cache_hit:
            continue
        ids = stroke.token_ids
        if previous is None:
            engine.prefill(ids, lambda: False)  # the cold start is not part of the floor
            previous = ids
            continue
        started = time.perf_counter()
        engine.generate(ids, max(1, stroke.generated), lambda: False)
        stroke.floor_ms = (time.perf_counter() - started) * 1000
        previous = ids
    engine.close()
    return kv_bytes


def summarize(keystrokes: list[Keystroke], stats: dict, through: list[float], model: Path,
              kv_bytes: int, where: str = "CPU") -> dict[str, Any]:
    warm = keystrokes[1:]  # after the first completion
    ours = [k.latency_ms for k in warm]
    model_runs = [k for k in warm if not k.cache_hit]
    base = [k.baseline_ms for k in warm if k.baseline_ms is not None]
    floor = [k.floor_ms for k in warm if k.floor_ms is not None]
    model_bytes = model.stat().st_size
    summary = {
        "where": where,
        "keystrokes": len(warm),
        "cold_first_ms": keystrokes[0].latency_ms,
        "cold_prompt_tokens": keystrokes[0].evaluated,
        "p50_ms": percentile(ours, 50), "p95_ms": percentile(ours, 95),
        "baseline_p50_ms": percentile(base, 50) if base else None,
        "baseline_p95_ms": percentile(base, 95) if base else None,
        "floor_p50_ms": percentile(floor, 50) if floor else None,
        "floor_p95_ms": percentile(floor, 95) if floor else None,
        "mean_evaluated": statistics.mean(k.evaluated for k in model_runs) if model_runs else 0.0,
        "mean_reused": statistics.mean(k.reused for k in model_runs) if model_runs else 0.0,
        "mean_generated": statistics.mean(k.generated for k in model_runs) if model_runs else 0.0,
        # Where a model run's time goes besides the engine: deepfim's own work in the completion (the
        # prompt, context, post-processing), and LSP, queues and threads around it.
        "own_p50_ms": percentile([k.total_ms - k.prompt_ms - k.generate_ms for k in model_runs], 50)
        if model_runs else None,
        "around_p50_ms": percentile([k.latency_ms - k.total_ms for k in model_runs], 50) if model_runs else None,
        "prompt_tokens": keystrokes[-1].prompt_tokens,
        "cache_hits_while_typing": sum(k.cache_hit for k in warm),
        "through_keystrokes": len(through),
        "through_under_10ms": sum(t < 10 for t in through),
        "through_cache_hits": stats.get("through_cache_hits", 0),
        "rss_bytes": stats["rss_bytes"],
        "model_bytes": model_bytes,
        "kv_bytes": kv_bytes,
    }
    return summary


def report(summary: dict[str, Any]) -> None:
    mb = 1 / (1 << 20)
    print(f"\n== deepfim latency benchmark, {summary['where']} ==")
    print(f"window {summary['prompt_tokens']} prompt tokens; cold first completion "
          f"{summary['cold_first_ms'] / 1000:.1f} s for {summary['cold_prompt_tokens']} tokens")
    print(f"keystrokes after the first: {summary['keystrokes']} "
          f"({summary['cache_hits_while_typing']} answered from cache)")
    print(f"deepfim   p50 {summary['p50_ms']:8.1f} ms  p95 {summary['p95_ms']:8.1f} ms")
    if summary["baseline_p50_ms"] is not None:
        print(f"baseline  p50 {summary['baseline_p50_ms']:8.1f} ms  p95 {summary['baseline_p95_ms']:8.1f} ms")
    if summary["floor_p50_ms"] is not None:
        print(f"floor     p50 {summary['floor_p50_ms']:8.1f} ms  p95 {summary['floor_p95_ms']:8.1f} ms")
    print(f"per model run: {summary['mean_evaluated']:.1f} prompt tokens evaluated, "
          f"{summary['mean_reused']:.0f} reused, {summary['mean_generated']:.1f} generated")
    if summary["own_p50_ms"] is not None:
        print(f"besides the engine, p50: {summary['own_p50_ms']:.1f} ms building the prompt and post-processing, "
              f"{summary['around_p50_ms']:.1f} ms in LSP, queues and threads (client included)")
    print(f"typing through a suggestion: {summary['through_cache_hits']}/{summary['through_keystrokes']} from cache, "
          f"{summary['through_under_10ms']} under 10 ms")
    limit = summary["model_bytes"] + summary["kv_bytes"] + 600 * (1 << 20)
    print(f"resident memory {summary['rss_bytes'] * mb:.0f} MiB (model {summary['model_bytes'] * mb:.0f} MiB"
          f" + KV {summary['kv_bytes'] * mb:.0f} MiB + 600 MiB = {limit * mb:.0f} MiB)")
    checks = []
    if summary["baseline_p50_ms"]:
        checks.append(("p50 <= 0.25 x baseline", summary["p50_ms"] / summary["baseline_p50_ms"], 0.25))
    if summary["floor_p50_ms"]:
        checks.append(("p50 <= 1.5 x floor", summary["p50_ms"] / summary["floor_p50_ms"], 1.5))
    checks.append(("mean evaluated <= 32", summary["mean_evaluated"], 32))
    if summary["through_keystrokes"]:
        checks.append(("typing through: share from cache < 10 ms >= 0.9",
                       -min(summary["through_under_10ms"], summary["through_cache_hits"]) / summary["through_keystrokes"],
                       -0.9))
    if summary["where"] == "CPU":  # on a GPU the model and KV cache live in its memory
        checks.append(("memory <= model + KV + 600 MiB", summary["rss_bytes"] / limit, 1.0))
    for name, value, bound in checks:
        shown = -value if bound < 0 else value
        print(f"  {'PASS' if value <= bound else 'FAIL'}  {name}: {shown:.3f}")


def typing_parser(description: str, ctx: int, keystrokes: int, one_file: bool = True,
                  max_tokens: int = 16) -> argparse.ArgumentParser:
    """The options of the benchmarks that type into files: model, file and line (`one_file`),
    workspace, window, tokens per completion, keystrokes, JSON output."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="GGUF to use (default: the synthetic DeepSeek-Coder-1.3B shape, built once)")
    if one_file:
        parser.add_argument("--file", type=Path, help="file to type into (default: llama_cpp/llama.py)")
        parser.add_argument("--line", type=int, help="zero-based line to retype (default: picked automatically)")
    parser.add_argument("--workspace", type=Path, help="project root (default: " + (
        "the file's folder)" if one_file else "llama_cpp's package)"))
    parser.add_argument("--ctx", type=int, default=ctx, help=f"context window in tokens (default {ctx})")
    parser.add_argument("--max-tokens", type=int, default=max_tokens,
                        help=f"tokens generated per completion (default {max_tokens})")
    parser.add_argument("--keystrokes", type=int, default=keystrokes,
                        help=f"most keystrokes to type (default {keystrokes})")
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    return parser


def resolve_model(name: Optional[str]) -> Path:
    """The GGUF given, else the synthetic DeepSeek-Coder-1.3B shape (built once into the cache)."""
    if name:
        return Path(name)
    from models.synthetic import DEEPSEEK_1_3B, synthetic_deepseek

    return synthetic_deepseek(DEEPSEEK_1_3B)


def typing_target(args: argparse.Namespace) -> tuple[Path, Path, int]:
    """The file, workspace and zero-based line the options name (or the defaults); says which."""
    file = (args.file or default_file()).resolve()
    workspace = (args.workspace or file.parent).resolve()
    lines = file.read_text(encoding="utf-8").splitlines()
    line = args.line if args.line is not None else pick_line(lines)
    print(f"typing line {line} of {file} ({lines[line].strip()!r}); window {args.ctx}", flush=True)
    return file, workspace, line


def main(argv: Optional[list[str]] = None) -> int:
    parser = typing_parser(__doc__ or "", ctx=16384, keystrokes=40)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--flash-attention", choices=("auto", "on", "off"), default="auto",
                        help="the flashAttention setting of deepfim and the floor (default auto, the server's default; "
                             "the naive baseline keeps llama-cpp-python's own)")
    parser.add_argument("--seek-suggestion", type=int, default=12,
                        help="when no suggestion is shown at the end, type up to this many more characters "
                             "until one is, to measure typing through it (default 12)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--line-in-prefix", action="store_true",
                        help="measure the classic PSM layout (typed text before the hole) instead")
    parser.add_argument("--gpu", choices=("auto", "only", "off"), default="auto",
                        help="auto (default): the CPU run, then the same on the GPU where llama.cpp has a GPU "
                             "backend (said plainly where not); only: the GPU run alone; off: CPU only")
    parser.add_argument("--cold-open", choices=("auto", "only", "off"), default="auto",
                        help="auto (default): after the CPU and GPU sections, the cold-open phase "
                             "(benchmarks/cold_open.py: a fresh server with the default firstAnswerMs, timeBudgetMs "
                             "and maxTokens opens the file; first answer, keystrokes while the window fills, warm "
                             "keystrokes, against a cold read of the full window); only: that phase alone; off: skip it")
    args = parser.parse_args(argv)
    model = resolve_model(args.model)
    print(f"model {model.name}")
    file, workspace, line = typing_target(args)
    results: dict[str, Any] = {}
    if args.cold_open != "only":
        if args.gpu != "only":
            results["cpu"] = measure(args, model, file, workspace, line, 0)
        print("\nGPU section:")
        if not gpu_available():
            print("  not run: the llama.cpp in this environment has no GPU backend "
                  "(llama_cpp.llama_supports_gpu_offload() is False). Reinstall llama-cpp-python with CUDA, Metal, "
                  "Vulkan or ROCm (README: GPUs and remote engines) and run `python -m benchmarks.latency --gpu only`.")
            results["gpu"] = None
        elif args.gpu == "off":
            print("  not run (--gpu off)")
        else:
            results["gpu"] = measure(args, model, file, workspace, line, None)
    if args.cold_open != "off":
        from benchmarks import cold_open

        # The server's own firstAnswerMs, timeBudgetMs and maxTokens (not this benchmark's --max-tokens);
        # --keystrokes counts the keystrokes typed once the full window is in use.
        print("\nCold-open phase:")
        results["cold_open"] = cold_open.measure(model, file, workspace, line,
                                                 cold_open.default_settings(args.ctx, args.threads), args.keystrokes)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if args.gpu == "only" and args.cold_open != "only" and results.get("gpu") is None else 0


def gpu_available() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def measure(args: argparse.Namespace, model: Path, file: Path, workspace: Path, line: int,
            gpu_layers: Optional[int]) -> dict[str, Any]:
    """deepfim over LSP, the naive baseline and the floor, every layer on the GPU (`gpu_layers`
    None) or none (0); the summary and the keystrokes."""
    where = "CPU" if gpu_layers == 0 else "GPU, every layer offloaded"
    print(f"deepfim over LSP ({where}):")
    keystrokes, stats, through = run_server(args, model, file, workspace, line, gpu_layers)
    if not args.skip_baseline:
        print("naive baseline (llama-cpp-python Llama, plain PSM, same size):")
        run_baseline(args, model, keystrokes, gpu_layers)
    print("floor (changed + generated tokens, raw llama_decode):")
    kv_bytes = run_floor(args, model, keystrokes, gpu_layers)
    summary = summarize(keystrokes, stats, through, model, kv_bytes, where)
    report(summary)
    return {"summary": summary, "keystrokes": [{k: v for k, v in asdict(s).items() if k != "token_ids"}
                                               for s in keystrokes], "typing_through_ms": through}


if __name__ == "__main__":
    sys.exit(main())

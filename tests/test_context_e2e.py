"""Repository context reaches the prompt through the server: imports, secrets, ignore rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.lsp_client import REPO, LspSession

UTILS = '''import json


def load_data(path):
    """Load the records stored at `path`."""
    with open(path) as handle:
        return json.load(handle)


def evaluate_predictions(records, predictions):
    return sum(r == p for r, p in zip(records, predictions)) / len(records)
'''
MAIN = '''from utils import load_data, evaluate_predictions

records = load_data("data.json")
score = '''


def make_project(root: Path) -> None:
    (root / "utils.py").write_text(UTILS)
    (root / "main.py").write_text(MAIN)
    (root / ".env").write_text("API_KEY=sk-live-0123456789abcdef0123456789abcdef\n")
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "generated_utils.py").write_text("def load_data(path):\n    return 'IGNORED'\n")
    (root / "settings.py").write_text('PASSWORD = "hunter2-very-secret"\ndef evaluate_predictions(r, p):\n'
                                      '    return 0\n')


def test_imported_definitions_are_in_the_prompt(deepseek_tiny: Path, tmp_path: Path) -> None:
    make_project(tmp_path)
    session = LspSession(str(deepseek_tiny), tmp_path, options={"maxTokens": 8, "contextSize": 4096})
    try:
        uri = session.open(tmp_path / "main.py", MAIN)
        deadline = time.monotonic() + 120
        while session.request("deepfim/stats", {})["warmups"] < 1:  # context chosen on open, in the background
            assert time.monotonic() < deadline
            time.sleep(0.1)
        session.inline(uri, 3, 8)
        explained = session.explain(uri)
        context = [s for s in explained["prompt"]["segments"] if s["kind"] == "context"]
        sources = [s["source"] for s in context]
        assert "utils.py" in sources
        utils = next(s for s in context if s["source"] == "utils.py")
        assert utils["text"].startswith("#utils.py\n") and "def load_data(path):" in utils["text"]
        assert sources[-1] == "main.py"  # the current file's header comes last, right before its prefix
        prompt_text = "".join(s["text"] for s in explained["prompt"]["segments"])
        assert "sk-live" not in prompt_text and "IGNORED" not in prompt_text and "hunter2" not in prompt_text
        assert sum(s["tokens"] for s in explained["prompt"]["segments"]) == len(explained["prompt"]["token_ids"])
    finally:
        session.close()


def test_complete_json_shows_context(deepseek_tiny: Path, tmp_path: Path) -> None:
    make_project(tmp_path)
    out = subprocess.run([sys.executable, "-m", "server.cli", "complete", str(tmp_path / "main.py"), "--line", "3",
                          "--character", "8", "--model", str(deepseek_tiny), "--workspace", str(tmp_path), "--json",
                          "--max-tokens", "4", "--context-size", "2048"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    context = [s for s in data["prompt"]["segments"] if s["kind"] == "context"]
    assert any(s["source"] == "utils.py" and "def load_data" in s["text"] for s in context)
    assert len(data["prompt"]["token_ids"]) + 4 <= 2048


def test_context_stays_put_while_a_line_is_typed_where_the_room_for_it_is_at_a_step(deepseek_tiny: Path) -> None:
    """The room the local window leaves for context is at a multiple of the context step (or that
    plus the slack kept for typing) when a line is typed: the context chosen stays the same. Sized to
    fill the room exactly, it shrank by a step at the first keystroke and came back whenever the
    typed text's tokens merged, and each change read the whole window again."""
    from fim.prompt import Snippet
    from server.completion import CONTEXT_SLACK, CONTEXT_STEP, CompletionRequest, open_completer
    from server.settings import Settings

    library = "".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(400))
    head = "".join(f"total_{i} = compute({i}, offset={i * 3})\n" for i in range(40))
    typed = "result = helper_12(total_7) + helper_3(total_9)"  # fewer tokens than the slack
    provider = lambda window, chars: [Snippet("lib.py", library[:chars // 2])]  # noqa: E731

    def request(text: str, column: int, context=None) -> CompletionRequest:
        return CompletionRequest(text=text, line=40, character=column, path="main.py", context=context)

    for offset in (0, CONTEXT_SLACK):
        completer = open_completer(Settings(model=str(deepseek_tiny), context_size=4096, max_tokens=16))
        try:
            pad = ""
            for _ in range(4):  # a trailing comment sized so the room left is `offset` past a step
                bare = completer.prompt_for(request(head + "\n# " + pad + "\n", 0))[1]
                left = min(completer.budget().max_context_tokens, bare.context_room)
                pad += " x" * ((left - offset) % CONTEXT_STEP)
            assert (left - offset) % CONTEXT_STEP == 0
            contexts = []
            for n in range(len(typed) + 1):
                prompt = completer.prompt_for(request(head + typed[:n] + "\n# " + pad + "\n", n, provider))[1]
                contexts.append(tuple(s.text for s in prompt.segments if s.kind == "context"))
            assert contexts[0] and all(c == contexts[0] for c in contexts), \
                (offset, [len("".join(c)) for c in contexts])
        finally:
            completer.engine.close()


def test_a_room_kept_for_one_document_never_asks_another_for_more_context_than_fits(deepseek_tiny: Path) -> None:
    """Two unsaved buffers (no path: one key): the short one's large room, which its little context
    left mostly unused, is not asked of the long one, whose context would then not fit and be dropped."""
    from fim.prompt import Snippet
    from server.completion import CompletionRequest, open_completer
    from server.settings import Settings

    library = "".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(400))
    def provider(window: tuple[int, int], chars: int) -> list[Snippet]:
        if window[1] < 50:  # the short buffer names little: one small snippet
            return [Snippet("lib.py", library[:200])]
        third = chars // 3  # the long one: three snippets filling the budget
        return [Snippet(f"lib{i}.py", library[i * third:(i + 1) * third]) for i in range(3)]

    completer = open_completer(Settings(model=str(deepseek_tiny), context_size=4096, max_tokens=16))
    try:
        for lines in (5, 400):
            text = "".join(f"total_{i} = compute({i}, offset={i * 3})\n" for i in range(lines))
            prompt = completer.prompt_for(CompletionRequest(text=text, line=lines, character=0, context=provider))[1]
            assert any(s.kind == "context" for s in prompt.segments), lines
    finally:
        completer.engine.close()


def test_the_window_kept_from_context_is_the_lines_the_prompt_holds(deepseek_tiny: Path) -> None:
    """The current file's lines in the prompt are left out of its context, as a half-open range of
    lines: no more (a suffix cut after a line end held one line fewer than was left out)."""
    from fim.prompt import Snippet
    from server.completion import CompletionRequest, open_completer
    from server.settings import Settings

    windows: list[tuple[int, int]] = []

    def provider(window: tuple[int, int], chars: int) -> list[Snippet]:
        windows.append(window)
        return [Snippet("lib.py", "def helper():\n    return 1\n")]

    text = "".join(f"value_{i} = {i}\n" for i in range(3000))
    completer = open_completer(Settings(model=str(deepseek_tiny), context_size=4096, max_tokens=16))
    try:
        prompt = completer.prompt_for(CompletionRequest(text=text, line=1500, character=4, context=provider))[1]
    finally:
        completer.engine.close()
    segments = {s.kind: s.text for s in prompt.segments}
    first = int(re.search(r"value_(\d+) =", segments["prefix"]).group(1))
    last = int(re.findall(r"value_(\d+) = \d+\n", segments["suffix"])[-1])
    assert windows == [(first, last + 1)]


def test_a_prompt_without_a_suffix_takes_no_context_from_below_the_cursor(gemma_model: Path, tmp_path: Path) -> None:
    """A prefix-only model is not shown the code below the cursor as a snippet before the code it
    follows: the current file's context comes from above the prompt's window only."""
    from server.completion import CompletionRequest, open_completer
    from server.project import Project
    from server.settings import Settings

    below = "".join(f"def later_{i}(numbers):\n    return sorted(numbers)[{i}]\n\n" for i in range(40))
    text = "def first(numbers):\n    return sorted(numbers)[0]\n\n" + "def second(numbers):\n    \n\n" + below
    path = tmp_path / "solution.py"
    path.write_text(text)
    project = Project([tmp_path])
    project.scan(5)
    project.opened(path, text)
    completer = open_completer(Settings(model=str(gemma_model), max_tokens=16))
    try:
        assert completer.builder.template.order == "prefix-only"
        prompt = completer.prompt_for(CompletionRequest(text=text, line=4, character=4, path="solution.py",
                                                        context=project.context(path, text, 4)))[1]
    finally:
        completer.engine.close()
    assert "later_" not in "".join(s.text for s in prompt.segments), [s.text for s in prompt.segments]


def test_a_prompt_with_context_lays_out_its_window_once(deepseek_tiny: Path) -> None:
    """The window around the cursor (prefix, suffix: every line's tokens summed) was laid out twice per
    keystroke, to size the context and again with it; the prompt is the one laid out from scratch."""
    from fim.prompt import Snippet
    from server.completion import CompletionRequest, open_completer
    from server.settings import Settings

    def provider(window: tuple[int, int], chars: int) -> list[Snippet]:
        return [Snippet("lib.py", "def helper(value):\n    return value * 2\n")]

    text = "".join(f"value_{i} = helper({i})\n" for i in range(300))
    completer = open_completer(Settings(model=str(deepseek_tiny), context_size=4096, max_tokens=16))
    try:
        builder = completer.builder
        layouts: list[int] = []
        prefix = builder._prefix
        builder._prefix = lambda fim, limit: layouts.append(limit) or prefix(fim, limit)
        fim, prompt = completer.prompt_for(CompletionRequest(text=text, line=150, character=4, context=provider))
        assert len(layouts) == 1 and any(s.kind == "context" for s in prompt.segments)
        assert prompt == builder.build(fim, completer.budget(context=True), completer.layout())
    finally:
        completer.engine.close()


def test_a_small_window_keeps_a_quarter_for_repository_context(deepseek_tiny: Path) -> None:
    """A 4K window of a 300-line document was all prefix and suffix: context had no room (repo_context's recall
    at 4K: 0.714, Python 0.632, with 0 context tokens in most of the tasks missed)."""
    from fim.prompt import Snippet
    from server.completion import CompletionRequest, open_completer
    from server.settings import Settings

    helpers = "".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(200))
    rooms: list[int] = []

    def provider(window: tuple[int, int], chars: int) -> list[Snippet]:
        rooms.append(chars)
        return [Snippet("lib.py", helpers[:chars])]

    text = "".join(f"value_{i} = helper_{i}({i}) + some_other_name_{i}\n" for i in range(300))
    completer = open_completer(Settings(model=str(deepseek_tiny), context_size=4096, max_tokens=16))
    try:
        _, prompt = completer.prompt_for(CompletionRequest(text=text, line=150, character=4, context=provider))
        context = sum(len(s.token_ids) for s in prompt.segments if s.kind == "context")
        assert context >= 0.25 * (4096 - 16) - 300, (context, rooms)
        assert prompt.n_tokens <= 4096 - 16
        _, alone = completer.prompt_for(CompletionRequest(text=text, line=150, character=4))
        _, lone = completer.prompt_for(CompletionRequest(text=text, line=150, character=4, context=lambda w, c: []))
        lines = [sum(len(s.token_ids) for s in p.segments if s.kind in ("prefix", "suffix"))
                 for p in (prompt, alone, lone)]
        assert lines[1] == lines[2] > lines[0] + 0.2 * 4096  # no context to ask for, or none found: the document
    finally:
        completer.engine.close()

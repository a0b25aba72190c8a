"""The KV cache reuses the old window's chunks past new text: a changed snippet of context costs its own
tokens, not the whole document after it (`server.engines.kvplan`, the in-process engine)."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from server.engines.kvplan import AFTER_NEW_TEXT_MIN, Block, plan


def _run(start: int, length: int) -> list[int]:
    return list(range(start, start + length))


def test_a_chunk_after_new_text_is_reused() -> None:
    head, old_snippet, new_snippet, document = _run(0, 50), _run(100, 30), _run(200, 45), _run(1000, 400)
    prompt = head + new_snippet + document + [7]
    blocks = plan(old_snippet + document, prompt, len(head), 16, 10_000)
    assert blocks == [Block(prompt=len(head) + len(new_snippet), old=len(old_snippet), length=len(document))]


def test_the_prompts_last_token_is_read_again() -> None:
    document = _run(1000, 300)
    blocks = plan(_run(100, 5) + document, _run(200, 9) + document, 0, 16, 10_000)
    assert blocks == [Block(prompt=9, old=5, length=len(document) - 1)]


def test_a_short_run_of_common_code_in_new_text_does_not_skip_the_old_text_after_it() -> None:
    """After new text, a run shorter than AFTER_NEW_TEXT_MIN found later in the old tokens would move past
    the old text that really comes next."""
    body, tail = _run(1000, 200), _run(5000, 20)
    prompt = _run(300, 5) + tail + body + tail + [7]
    blocks = plan(body + tail, prompt, 0, 16, 10_000)
    assert sum(block.length for block in blocks) == len(body) + len(tail)
    assert len(tail) < AFTER_NEW_TEXT_MIN


def test_chunks_that_would_not_fit_beside_the_new_text_are_read_instead() -> None:
    first, second = _run(1000, 300), _run(3000, 300)
    prompt = _run(100, 200) + first + _run(200, 200) + second + [7]
    assert len(plan(first + second, prompt, 0, 16, 10_000)) == 2
    # placing `second` holds 700 cells of the prompt and its 300; placing `first` 200 and both chunks
    assert [b.old for b in plan(first + second, prompt, 0, 16, 1000)] == [0, 300]
    assert [b.old for b in plan(first + second, prompt, 0, 16, 900)] == [0]  # `first` alone: 200 + 300
    assert plan(first + second, prompt, 0, 16, 400) == []


def _positions(engine, seq: int) -> tuple[int, int]:
    return (llama_cpp.llama_memory_seq_pos_min(engine._memory, seq),
            llama_cpp.llama_memory_seq_pos_max(engine._memory, seq))


@pytest.fixture()
def engine(deepseek_tiny: Path):
    from server.completion import open_completer
    from server.settings import Settings

    engine = open_completer(Settings(model=str(deepseek_tiny), context_size=4096)).engine
    yield engine
    engine.close()


def _windows(engine) -> tuple[list[int], list[int], int]:
    tokenize = engine.tokenize
    head = tokenize("".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(20)))
    document = tokenize("".join(f"class Thing{i}:\n    size = {i}\n\n" for i in range(40)))
    old = tokenize("# offered: alpha beta gamma\n")
    new = tokenize("# offered after typing: epsilon zeta eta theta iota kappa lambda\n")
    return head + old + document, head + new + document, len(new)


def test_a_changed_snippet_costs_its_own_tokens_not_the_document_after_it(engine) -> None:
    from server.engines.local import MAIN, STASH

    before, after, new = _windows(engine)
    engine.prefill(before, lambda: False)
    assert engine.missing(after) <= new + 1  # was the snippet and the whole document after it
    reused, evaluated = engine.prefill(after, lambda: False)
    assert evaluated <= new + 1 and reused + evaluated == len(after)
    assert engine._cached == after and _positions(engine, MAIN) == (0, len(after) - 1)
    assert _positions(engine, STASH) == (-1, -1)  # nothing left behind
    generation = engine.generate(after, 4, lambda: False)
    assert generation.prompt_tokens_evaluated == 1 and generation.generated_tokens >= 1


def test_a_reading_that_gives_way_to_a_keystroke_keeps_the_chunks_for_the_next(engine) -> None:
    from server.engines.base import Cancelled
    from server.engines.local import MAIN

    before, after, new = _windows(engine)
    engine.prefill(before, lambda: False)
    asked = []
    with pytest.raises(Cancelled):
        engine.prefill(after, lambda: asked.append(1) or len(asked) > 1, batch=4)  # one batch of the new text
    assert 0 < engine.missing(after) <= new - 3
    assert engine.prefill(after, lambda: False)[1] <= new - 3
    assert engine._cached == after and _positions(engine, MAIN) == (0, len(after) - 1)
    engine.prefill(before, lambda: False)  # and back: the first snippet is read again, the document is not
    assert engine._cached == before and _positions(engine, MAIN) == (0, len(before) - 1)

"""A very large document is split only near the cursor, into the prompt the whole split gives."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

import server.completion
from fim.positions import locate
from server.completion import CompletionRequest, open_completer
from server.service import CompletionService
from server.settings import Settings


def document(rng: random.Random, lines: int) -> str:
    breaks = ["\n", "\r\n", "\r"]
    words = ["value", "😀", "é", "  ", "x = 1", "return", "\ud800"]
    return "".join(" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))) + rng.choice(breaks)
                   for _ in range(lines))


def test_the_prompt_of_a_huge_document_is_the_one_of_its_whole_split(deepseek_tiny: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    completer = open_completer(Settings(model=str(deepseek_tiny), context_size=512, max_tokens=16))
    rng = random.Random(3)
    text = document(rng, 12_000)  # over 3 x 512 x 32 characters: split near the cursor
    last = locate(text, 10**6, 0)[0]
    try:
        for line, character in [(0, 0), (1, 3), (last // 2, 4), (last // 2 + 1, 99), (last - 1, 2), (last, 0),
                                (last + 5, 0), *((rng.randint(0, last), rng.randint(0, 12)) for _ in range(20))]:
            found_line, _, offset = locate(text, line, character)
            near = [completer.prompt_for(CompletionRequest(text=text, line=line, character=character)),
                    completer.prompt_for(CompletionRequest(text=text, line=found_line, character=character,
                                                           offset=offset))]
            with monkeypatch.context() as whole:
                whole.setattr(server.completion, "WINDOW_CHARS_PER_TOKEN", 10**9)
                fim, prompt = completer.prompt_for(CompletionRequest(text=text, line=line, character=character))
            for near_fim, near_prompt in near:
                assert near_fim.first_line > 0 or found_line < 600
                assert near_fim.first_line + len(near_fim.prefix_lines) == found_line
                assert near_fim.middle == fim.middle and near_prompt.token_ids == prompt.token_ids, (line, character)
    finally:
        completer.engine.close()


def test_a_completion_its_prefetch_and_the_warm_up_split_a_huge_document_only_near_the_cursor(
        deepseek_tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model thread found the cursor of a completion (and of the prefetch after an accepted suggestion)
    by splitting the whole document again: 10-60 ms of a 10 MB file per request, after the server had
    found it in the line starts it keeps."""
    text = document(random.Random(5), 12_000)
    uri = "file:///huge.py"
    whole_splits: list[int] = []

    def counted(split_text: str, line: int, character: int) -> tuple[int, int, int]:
        if split_text is text:
            whole_splits.append(line)
        return locate(split_text, line, character)

    monkeypatch.setattr(server.completion, "locate", counted)
    service = CompletionService(Settings(model=str(deepseek_tiny), context_size=512, max_tokens=4),
                                text_of=lambda _: text, background_index=False)
    try:
        service.load().result(120)
        service.warm(uri)
        line = locate(text, 10**6, 0)[0] // 2
        assert asyncio.run(service.complete(uri, line, 3)) is not None
        service.prefetch(uri, text, locate(text, line + 1, 0)[2])
        service.worker.submit(lambda: None).result(120)  # after the warm-up and the prefetch
        assert service.stats["warmups"] == 1 and service.stats["model_runs"] == 1
        assert whole_splits == []
    finally:
        service.close()

"""A very large document is split only near the cursor, into the prompt the whole split gives."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

import server.completion
from fim.positions import locate
from server.completion import CompletionRequest, open_completer
from server.service import CompletionService, Listener
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
        service.worker.submit(lambda: None).result(120)  # the warm-up ran (a completion would cancel it)
        line = locate(text, 10**6, 0)[0] // 2
        assert asyncio.run(service.complete(uri, line, 3)) is not None
        service.prefetch(uri, text, locate(text, line + 1, 0)[2])
        service.worker.submit(lambda: None).result(120)  # after the warm-up and the prefetch
        assert service.stats["warmups"] == 1 and service.stats["model_runs"] == 1
        assert whole_splits == []
    finally:
        service.close()


class _Counted(str):
    """A document's text that counts the times it is split into lines."""

    splits = 0

    def splitlines(self, keepends: bool = False) -> list[str]:
        type(self).splits += 1
        return super().splitlines(keepends)


def test_an_answer_in_a_huge_document_sent_whole_is_placed_without_splitting_it(deepseek_tiny: Path) -> None:
    """A client that sends the whole text at each change leaves no line starts with the document: each
    inline or dropdown answer split the whole text into lines to find the cursor's line (60 ms in a 10 MB
    file, on the server's only thread). The answer's place now comes from the text the completion read."""
    from lsprotocol import types
    from pygls.workspace import Workspace

    from server.lsp import create_server

    text = _Counted("".join(f"value_{n} = compute(value_{n - 1}) + {n}\n" for n in range(2_000)) + "x = 😀 + val")
    line = text.count("\n")
    server = create_server(Settings(model=str(deepseek_tiny), context_size=512, max_tokens=4), watch_parent=False)
    try:
        workspace = server.protocol._workspace = Workspace(None, workspace_folders=[])
        uri = "file:///elsewhere/huge.py"
        workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
        server.service.listener = Listener()  # no editor to tell of the model's load
        server.service.load().result(120)
        features = server.protocol.fm.features
        cursor = types.Position(line=line, character=12)
        at = {"text_document": types.TextDocumentIdentifier(uri=uri), "position": cursor}

        async def ask() -> tuple[types.InlineCompletionList, types.CompletionList]:
            return (await features[types.TEXT_DOCUMENT_INLINE_COMPLETION](types.InlineCompletionParams(
                        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked), **at)),
                    await features[types.TEXT_DOCUMENT_COMPLETION](types.CompletionParams(**at)))

        _Counted.splits = 0
        inline, dropdown = asyncio.run(ask())
        assert _Counted.splits == 0
        assert inline.items[0].range == types.Range(start=cursor, end=cursor)
        assert dropdown.items[0].text_edit.range == types.Range(start=types.Position(line=line, character=9),
                                                                end=cursor)
    finally:
        server.service.close()

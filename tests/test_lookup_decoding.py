"""Prompt-lookup decoding gives the greedy output, token for token, with the real model.

Drafts are kept only where greedy decoding agrees, so the output is greedy by construction; the
numbers agree bit for bit only where llama.cpp computes a batch row exactly as a single token
(flash attention off here: with it, a near tie can flip, as it can between a cold and a warm KV
cache)."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from server.engines.local import LocalEngine

REPEATING = '''class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Point(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Point(self.x - other.x, self.y - other.y)

    def __mul__(self, other):
'''


def _fresh(engine: LocalEngine) -> LocalEngine:
    """An empty KV cache: a prompt read in one batch. (Re-reading only its last token, as a warm cache
    does, gives logits that differ in the last bits, which can flip a near tie: both runs of a
    comparison must start alike.)"""
    llama_cpp.llama_memory_clear(engine._memory, True)
    engine._cached.clear()
    return engine


@pytest.fixture(scope="module")
def engine(gemma_model: Path):
    engine = LocalEngine(gemma_model, n_ctx=2048, flash_attention="off")
    yield engine
    engine.close()


@pytest.mark.parametrize("text", [REPEATING, "import os\n\n\ndef list_files(folder):\n    "])
def test_lookup_output_is_the_greedy_output(engine: LocalEngine, text: str) -> None:
    prompt = [engine.special.bos] + engine.tokenize(text)
    plain, drafted = (_fresh(engine).generate(prompt, 24, lambda: False, lookup=lookup) for lookup in (False, True))
    assert drafted.text == plain.text and drafted.generated_tokens == plain.generated_tokens
    assert drafted.stop_reason == plain.stop_reason and plain.draft_tokens == 0
    if text is REPEATING:
        assert drafted.draft_tokens > 0 and drafted.draft_accepted > 0  # the next method mirrors the last


def test_lookup_respects_the_cap_and_stop(engine: LocalEngine) -> None:
    prompt = [engine.special.bos] + engine.tokenize(REPEATING)
    for cap in (1, 3, 7):
        plain = _fresh(engine).generate(prompt, cap, lambda: False)
        drafted = _fresh(engine).generate(prompt, cap, lambda: False, lookup=True)
        assert (drafted.text, drafted.generated_tokens) == (plain.text, plain.generated_tokens) and \
            drafted.generated_tokens <= cap

    def first_line(text: str):
        end = text.find("\n")
        return end if end >= 0 else None

    plain = _fresh(engine).generate(prompt, 60, lambda: False, stop_at=first_line)
    drafted = _fresh(engine).generate(prompt, 60, lambda: False, stop_at=first_line, lookup=True)
    assert drafted.text == plain.text and drafted.stop_reason == "stop"

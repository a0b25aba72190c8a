"""Prompt-lookup decoding gives the greedy output, token for token, with the real model; and its
drafting rules (where drafts come from, whether and how much to draft), unit by unit.

Drafts are kept only where greedy decoding agrees, so the output is greedy by construction; the
numbers agree bit for bit only where llama.cpp computes a batch row exactly as a single token
(flash attention off here: with it, a near tie can flip, as it can between a cold and a warm KV
cache). On some CPUs (an AVX2-only AMD EPYC) llama.cpp computes batch rows with other kernels, whose
logits stray from a single token's by up to about 2: there the comparison runs up to the first step
whose greedy margin that could flip."""

from __future__ import annotations

import time
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from server.engines.local import DRAFT_SIZES, DRAFT_TOKENS, MATCH_MAX, LocalEngine, _DraftPace, _History

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
    """An empty KV cache, so that both runs of a comparison read the prompt alike (tokens read in
    batches of other sizes get their KV rounded otherwise, which can flip a near tie)."""
    engine.forget()
    return engine


@pytest.fixture(scope="module")
def engine(gemma_model: Path):
    engine = LocalEngine(gemma_model, n_ctx=2048, flash_attention="off")
    yield engine
    engine.close()


@pytest.mark.parametrize("text", [REPEATING, "import os\n\n\ndef list_files(folder):\n    "])
def test_lookup_output_is_the_greedy_output(engine: LocalEngine, text: str) -> None:
    prompt = [engine.special.bos] + engine.tokenize(text)
    engine._draft_pace = _DraftPace()  # no timings yet: every draft size is tried (once timed, one may not pay)
    plain, drafted = (_fresh(engine).generate(prompt, 24, lambda: False, lookup=lookup) for lookup in (False, True))
    assert drafted.text == plain.text and drafted.generated_tokens == plain.generated_tokens
    assert drafted.stop_reason == plain.stop_reason and plain.draft_tokens == 0
    if text is REPEATING:
        assert drafted.draft_tokens > 0 and drafted.draft_accepted > 0  # the next method mirrors the last
        assert drafted.steps < plain.steps  # accepted drafts save decoding steps (the debounce times one)


def test_lookup_respects_the_cap_and_stop(engine: LocalEngine) -> None:
    prompt = [engine.special.bos] + engine.tokenize(REPEATING)
    engine._draft_pace = _CheapRows()
    for cap in (1, 3, 7):
        plain = _fresh(engine).generate(prompt, cap, lambda: False)
        drafted = _fresh(engine).generate(prompt, cap, lambda: False, lookup=True)
        assert (drafted.text, drafted.generated_tokens) == (plain.text, plain.generated_tokens) and \
            drafted.generated_tokens <= cap
        # The first token comes from the prompt's logits: a decoding step for each one after it.
        assert plain.steps == plain.generated_tokens - 1 or plain.stop_reason != "max_tokens"

    def first_line(text: str):
        end = text.find("\n")
        return end if end >= 0 else None

    plain = _fresh(engine).generate(prompt, 60, lambda: False, stop_at=first_line)
    drafted = _fresh(engine).generate(prompt, 60, lambda: False, stop_at=first_line, lookup=True)
    assert drafted.text == plain.text and drafted.stop_reason == "stop"


def _logits(engine: LocalEngine, row: int = -1) -> np.ndarray:
    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(engine._ctx, row), shape=(engine.n_vocab,)).copy()


def _greedy_steps(engine: LocalEngine, prompt: list[int], count: int) -> tuple[list[int], list[float], float]:
    """Greedy decoding one token at a time, as `generate` does without drafts: its tokens, the margin of
    each over the runner-up, and how far a batch row's logits of the top candidates stray from the
    single-token row's for the same position on this machine (0 where llama.cpp computes them alike;
    up to 2 over the whole vocabulary on an AVX2-only EPYC for Gemma, where batches take other kernels)."""
    _fresh(engine)._read(prompt, lambda: False)
    tokens, margins, singles = [], [], []
    for i in range(count):
        logits = _logits(engine)
        runner_up, best = np.argsort(logits)[-2:]
        tokens.append(int(best))
        margins.append(float(logits[best] - logits[runner_up]))
        singles.append(logits)
        engine._decode([int(best)], len(prompt) + i)
    rows = 8
    _fresh(engine)._read(prompt + tokens[:count - rows - 1], lambda: False)
    engine._decode(tokens[count - rows - 1:count - 1], len(prompt) + count - rows - 1, rows=rows)
    top = [np.argsort(singles[count - rows + r])[-8:] for r in range(rows)]  # the candidates a flip is between
    stray = max(float(np.max(np.abs(_logits(engine, r)[top[r]] - singles[count - rows + r][top[r]])))
                for r in range(rows))
    return tokens, margins, stray


def test_lookup_keeps_greedy_output_with_every_draft_size(engine: LocalEngine) -> None:
    """Drafts of every size verified at every step (rows priced as free): still the greedy output,
    token for token wherever a batch row is computed as a single token is; where this machine's
    batch rows stray (`_greedy_steps`), up to the first step whose greedy margin they could flip."""
    prompt = [engine.special.bos] + engine.tokenize(REPEATING)
    plain = _fresh(engine).generate(prompt, 40, lambda: False)
    tokens, margins, stray = _greedy_steps(engine, prompt, 40)
    assert "".join(engine.token_text(t) for t in tokens) == plain.text
    engine._draft_pace = _CheapRows()
    drafted = _fresh(engine).generate(prompt, 40, lambda: False, lookup=True)
    assert drafted.draft_accepted > 0 and drafted.draft_tokens > drafted.draft_accepted
    if stray == 0:
        assert (drafted.text, drafted.generated_tokens) == (plain.text, plain.generated_tokens)
    else:
        sure = next((i for i, margin in enumerate(margins) if margin <= 2 * stray), len(margins))
        assert sure >= 8, (margins, stray)  # a comparison over a few tokens would prove nothing
        assert drafted.text.startswith("".join(engine.token_text(t) for t in tokens[:sure]))


class _CheapRows(_DraftPace):
    """A pace on a machine where a batch costs what one row does: it always drafts."""

    def cost(self, rows: int):
        return 1.0


# ------------------------------------------------------------------ drafting rules, without a model
def _history(tokens: list[int]) -> _History:
    history = _History(tokens[:1], 256)
    for token in tokens[1:]:
        history.append(token)
    return history


def test_history_drafts_what_followed_the_longest_latest_match() -> None:
    # "1 2" occurs twice before the end; only the first occurrence also matches the 9 before it
    history = _history([9, 1, 2, 3, 4, 5, 7, 1, 2, 6, 6, 8, 9, 1, 2])
    assert history.draft(room=100) == ([3, 4, 5, 7, 1, 2, 6, 6, 8, 9, 1, 2], 3)
    assert history.draft(room=3) == ([3, 4], 3)  # room counts the greedy token
    assert history.draft(room=1) == ([], 0)
    # equally long matches: the latest occurrence
    history = _history([1, 2, 3, 1, 2, 4, 1, 2])
    assert history.draft(room=100) == ([4, 1, 2], 2)
    assert _history([1, 2, 3, 4]).draft(room=100) == ([], 0)  # no earlier occurrence
    assert _history([5, 1]).draft(room=100) == ([], 0)


def test_history_caps_the_match_and_the_draft() -> None:
    block = list(range(40))
    history = _history(block + block)
    draft, match = history.draft(room=100)
    assert match == MATCH_MAX and len(draft) == DRAFT_TOKENS and draft == block[:DRAFT_TOKENS]


def test_pace_times_a_plain_step_before_drafting() -> None:
    pace = _DraftPace()
    assert pace.size(available=15, match=8) == 0
    pace.record(1, 10.0)
    assert pace.size(available=15, match=8) in DRAFT_SIZES  # untimed sizes are tried
    assert pace.size(available=0, match=8) == 0


def test_pace_drafts_only_sizes_that_pay_on_this_machine() -> None:
    # the CPU measured for Gemma 3 270M: a batch of 2 rows costs 3.3 single steps, of 16 rows 9.3
    cpu = {1: 13.6, 2: 44.3, 4: 64.6, 8: 85.9, 16: 126.9}
    pace = _DraftPace.timed(cpu)
    assert pace.size(available=15, match=2) == 0
    for _ in range(20):  # drafts that are taken in part: a plain step is faster
        pace.update(7, 3, match=8)
    assert pace.size(available=15, match=8) == 0
    for _ in range(20):  # drafts taken in full: 8 or 16 rows pay (16 tokens for 9.3 steps), 4 do not (4 for 4.75)
        pace.update(15, 15, match=8)
    assert pace.size(available=15, match=8) == 15
    assert pace.size(available=7, match=8) == 7 and pace.size(available=3, match=8) == 0
    # rows almost free (a GPU): drafts
    pace = _DraftPace.timed({1: 10.0, 2: 10.2, 4: 10.5, 8: 11.0, 16: 12.0})
    assert pace.size(available=15, match=8) > 0
    assert pace.size(available=5, match=8) == 3  # sizes are 1, 3, 7 or 15 drafted tokens
    for _ in range(40):  # drafts keep failing at the first token
        pace.update(7, 0, match=2)
    assert pace.size(available=15, match=2) == 0


def test_pace_keeps_batch_costs_relative_to_a_plain_step() -> None:
    pace = _DraftPace.timed({1: 10.6, 2: 27.3, 4: 35.9})  # Gemma timed at load on 2 cores: no batch pays
    assert pace.size(available=15, match=4) == 0
    for _ in range(7):  # steps over a long window cost more, and so would the batches
        pace.record(1, 13.9)
    assert pace.cost(4) == pytest.approx(35.9 / 10.6 * 13.9)
    assert pace.size(available=15, match=4) == 0


def test_pace_learns_acceptance_per_match_length() -> None:
    pace = _DraftPace.timed({1: 10.0, 2: 14.0, 4: 18.0, 8: 26.0, 16: 42.0})
    for _ in range(30):
        pace.update(3, 0, match=2)  # short matches miss
        pace.update(3, 3, match=8)  # long ones are taken
    assert pace.size(available=15, match=2) == 0
    assert pace.size(available=15, match=8) > 0
    assert pace.expected(3, match=8) > pace.expected(3, match=2)


def test_pace_times_a_size_again_after_a_while() -> None:
    pace = _DraftPace.timed({1: 10.0, 2: 100.0, 4: 100.0, 8: 100.0, 16: 100.0})
    assert pace.size(available=15, match=8) == 0
    for _ in range(_DraftPace.RETRY + 64):  # (looked at every 64 steps)
        pace.record(1, 10.0)
    assert pace.cost(2) is None and pace.size(available=15, match=8) > 0


def test_a_loaded_engine_knows_its_batch_costs(deepseek_tiny: Path) -> None:
    """The first completion need not time a plain step or try batch sizes: they were timed at load."""
    loaded = LocalEngine(deepseek_tiny, n_ctx=512)
    try:
        assert loaded._draft_pace.cost(1) is not None and loaded._draft_pace.cost(2) is not None
    finally:
        loaded.close()


def test_load_times_batches_only_while_one_could_pay(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batches are timed smallest first and no further once none larger could pay (here decodes
    slowed to 100 ms a row: 2 rows might still pay, 4 show that 8 and 16 cannot)."""
    decode = engine._decode

    def slow_rows(tokens: list[int], start: int, rows: int = 1, **kwargs: int) -> None:
        if rows == len(tokens):
            time.sleep(0.1 * rows)
        decode(tokens, start, rows=rows, **kwargs)

    monkeypatch.setattr(engine, "_decode", slow_rows)
    pace = engine._timed_pace()
    assert [pace.cost(rows) is not None for rows in (1, 2, 4, 8, 16)] == [True, True, True, False, False]
    assert pace.size(available=DRAFT_TOKENS, match=MATCH_MAX) == 0

"""Suggestions cut by the clock or the token cap keep whole words (or whole lines); cancelled
ones are empty. With the real small model: the same request unhurried is the reference."""

from __future__ import annotations

import re
from dataclasses import replace

import llama_cpp
import numpy as np
import pytest

from fim.postprocess import NUMBER_END, WORD_SCAN, CompletionContext, clean_completion, is_single_line, trailing_word
from fim.prompt import split_document
from server.completion import CompletionRequest, cursor_context, whole_part
from server.settings import Settings

SINGLE = ('import os\n\n\ndef read_config(path):\n    """Read the configuration file at `path`."""\n'
          '    with open(path) as handle:\n        return handle.read()\n\n\n'
          'def config_path(name):\n    return os.path.join(os.path.expanduser("~"), \n')
MULTI = ('def mean(values):\n    """The arithmetic mean of `values`."""\n    \n')
NUMBER = "# The ratio of a circle's circumference to its diameter, pi, is 3.14159.\nPI_APPROX = \n"
WORD = re.compile(r"[\w$]")
NUMBER_PART = re.compile(r"[\w.]")


@pytest.fixture(scope="module")
def completer(gemma_completer):
    return gemma_completer


def _complete(completer, text: str, **settings):
    lines = text.split("\n")
    line = len(lines) - 2
    character = 4 if text is MULTI else len(lines[line])
    completer.settings = replace(Settings(model="unused", context_size=2048, max_tokens=40,
                                          time_budget_ms=600_000), **settings)
    return completer.complete(CompletionRequest(text=text, line=line, character=character), lambda: False)


def _assert_whole_start(cut: str, full: str) -> None:
    assert full.startswith(cut.rstrip()), (cut, full)
    end = len(cut.rstrip())
    if 0 < end < len(full):
        assert not (WORD.match(full[end - 1]) and WORD.match(full[end])), f"{cut!r} cuts a word of {full!r}"
        number = NUMBER_END.search(cut.rstrip())
        assert not (number and NUMBER_PART.match(full[end])), f"{cut!r} cuts a number of {full!r}"


@pytest.mark.parametrize("text", [SINGLE, MULTI, NUMBER], ids=["single-line", "multi-line", "number"])
def test_cuts_by_time_and_cap_keep_whole_words(completer, text: str) -> None:
    full = _complete(completer, text)
    assert full.completion.strip() and full.complete
    for budget_ms in (1, 40, 150):
        cut = _complete(completer, text, time_budget_ms=budget_ms)
        if cut.generation.stop_reason == "time":
            assert not cut.complete  # not cached as if it were the whole answer
        assert cut.to_json()["stop_reason"] == cut.generation.stop_reason  # --json and deepfim/explain say so
        _assert_whole_start(cut.completion, full.completion)
    for cap in (1, 2, 3, 5, 8):
        cut = _complete(completer, text, max_tokens=cap)
        assert cut.generation.stop_reason in ("max_tokens", "stop", "eog")
        _assert_whole_start(cut.completion, full.completion)


def test_a_cancelled_completion_is_empty(completer) -> None:
    lines = SINGLE.split("\n")
    result = completer.complete(CompletionRequest(text=SINGLE, line=len(lines) - 2, character=len(lines[-2])),
                                lambda: True)
    assert result.completion == "" and result.generation.stop_reason == "cancelled" and not result.complete


def test_whole_part() -> None:
    ctx = CompletionContext("def f(values):\n    ", "\n")
    assert whole_part("return wid", ctx, True) == "return"
    assert whole_part("retur", ctx, True) == ""
    assert whole_part("foo(bar, ", ctx, True) == "foo(bar,"
    assert whole_part("x = 1\ny = compu", ctx, False) == "x = 1"
    assert whole_part("total = sum(val", ctx, False) == "total = sum("
    assert whole_part("", ctx, True) == ""
    # A word's combining marks are part of it: ` स्वागत` cut to ` स्वा` is a cut word (and token).
    assert whole_part('"हमारे ऐप में आपका स्वा', ctx, True) == '"हमारे ऐप में आपका'
    assert whole_part("के लि", ctx, True) == "के"
    assert whole_part("naïve cafe\u0301", ctx, True) == "naïve"
    # Chinese and Japanese have no spaces: a cut comment lost its whole last run (all of it, on a line of
    # Chinese only), now its last character.
    assert whole_part("# 计算两个数的和", ctx, True) == "# 计算两个数的"
    assert whole_part("# 合計を計算する", ctx, True) == "# 合計を計算す"
    assert whole_part("# 计算total", ctx, True) == "# 计算"
    assert trailing_word("x = 计算") == "算" and trailing_word("计算\u0301") == "算\u0301"
    # A mark after no letter is no word: an emoji keeps its variation selector.
    assert whole_part('x = "\U0001f44d\ufe0f', ctx, True) == 'x = "\U0001f44d\ufe0f'
    # An emoji sequence that may go on goes whole: half a flag, half a ZWJ family.
    assert whole_part('"Made in \U0001f1fa', ctx, True) == '"Made in'
    assert whole_part('"Made in \U0001f1fa\U0001f1f8', ctx, True) == '"Made in \U0001f1fa\U0001f1f8'
    assert whole_part('"Family: \U0001f468\u200d\U0001f469', ctx, True) == '"Family:'
    assert whole_part('"Family: \U0001f468\u200d', ctx, True) == '"Family:'
    assert whole_part('"Flags: \U0001f1fa\U0001f1f8\U0001f1eb', ctx, True) == '"Flags: \U0001f1fa\U0001f1f8'
    assert whole_part('"ok \u00a9\u00ae\U0001f468\u200d\U0001f469', ctx, True) == '"ok \u00a9\u00ae'
    assert trailing_word("b" * 10_000) == "b" * WORD_SCAN  # a huge run is scanned only so far
    # A number cut anywhere reads as another number: it goes whole (`3.14159` cut to `3.`).
    ctx = CompletionContext("PI_APPROX = ", "\n")
    assert whole_part("3.14", ctx, True) == whole_part("3.", ctx, True) == ""
    assert whole_part('"0.1.', ctx, True) == '"'
    assert whole_part("scale(2.5, 1e-", ctx, True) == "scale(2.5,"
    assert whole_part("[0x1F, 0x2", ctx, True) == "[0x1F,"
    assert whole_part("self.v2.", ctx, True) == "self.v2."  # a name's digits are no number
    assert whole_part("total = 10 -", ctx, True) == "total = 10 -"
    assert whole_part("x = cafe\u03011.x", ctx, True) == "x = cafe\u03011."  # `café1` is a name
    # A number begun before the cursor is the same number: `PI = 3` + `.14` is no `PI = 3.`.
    for typed, raw in (("PI = 3", ".14"), ("x = 1", "e-"), ("v = 0.1", ".0.")):
        assert whole_part(raw, CompletionContext(typed, "\n"), True) == ""
    assert whole_part("4, 5", CompletionContext("f(3", "\n"), True) == "4,"


def test_a_cut_line_that_starts_the_next_line_is_not_shown() -> None:
    """Cut by the clock, a line on its way to repeating the line below shows nothing (finished, it
    would be dropped as a repeat); one that differs from it, or is indented otherwise, stays."""
    ctx = CompletionContext('TOKEN_LPAREN = intern("lparen")\nTOK', '\nTOKEN_RPAREN = intern("rparen")\n')
    assert whole_part('EN_RPAREN = intern("rpa', ctx, True) == ""
    assert whole_part('EN_RBRACE = intern("rbr', ctx, True) == 'EN_RBRACE = intern("'
    ctx = CompletionContext("def f():\n    x = 1\n", "\n    return x\n")
    assert whole_part("\n    return x\n    ret", ctx, False) == "\n    return x"
    assert whole_part("    return x", ctx, False) == ""
    assert whole_part("    return x + y", ctx, False) == "    return x +"
    assert whole_part("        return x", ctx, False) == "        return"


SHAPES = ('import math\n\n\nclass Circle:\n    def __init__(self, radius):\n        self.radius = radius\n\n'
          '    def area(self):\n        return math.pi * self.radius ** 2\n\n    def perimeter(self):\n'
          '        return 2 * math.pi * self.radius\n\n\nclass Rectangle:\n    def __init__(self, width, height):\n'
          '        self.width = width\n        self.height = height\n\n    def area(self):\n'
          '        return self.width * self.height\n\n    def perimeter(self):\n        ')


def test_a_prompt_asked_again_gets_the_same_answer_as_cold(completer) -> None:
    """The first token's logits come from the same one-row computation whether the prompt was read
    cold or was all in the KV cache (its last token read again): a batch's rows are rounded
    otherwise, and the same request answered `2 * self.width * self.height` cold and then
    `2 * math.pi * self.width` every time again (Gemma), so a suggestion cut by the clock was no
    start of the unhurried one asked first."""
    engine = completer.engine
    prompt = [engine.special.bos] + engine.tokenize(SHAPES)

    def logits() -> np.ndarray:
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(engine._ctx, -1), shape=(engine.n_vocab,)).copy()

    engine.forget()
    assert engine._read(prompt, lambda: False) == (0, len(prompt))
    cold = logits()
    assert engine._read(prompt, lambda: False) == (len(prompt) - 1, 1)
    assert np.array_equal(logits(), cold)


def test_single_line_ends_every_suggestion_with_its_first_line(completer) -> None:
    """`singleLine` (Continue's `multilineCompletions: "never"`, asked of llama.vim for small GPUs): from
    an empty line the model's two assignments become the first, and generation stops there."""
    text = "class Point:\n    def __init__(self, x, y):\n        \n"
    lines = text.split("\n")
    request = CompletionRequest(text=text, line=2, character=len(lines[2]))
    completions = {}
    for single in (False, True):
        completer.settings = Settings(model="unused", context_size=2048, max_tokens=40, time_budget_ms=600_000,
                                      single_line=single)
        completions[single] = completer.complete(request, lambda: False)
    multi, single = completions[False], completions[True]
    assert "\n" in multi.completion.strip(), multi.completion
    assert single.completion == multi.completion.split("\n")[0]
    assert single.generation.generated_tokens < multi.generation.generated_tokens


def test_post_processing_reads_a_bounded_part_of_a_minified_file():
    """Each completion's clean-up read the 200 lines of a minified bundle above and below the cursor
    character by character (3.6 MB of 18,500-character lines; 126-252 KB of them in the window a large
    document is cut to, 0.15-0.25 s): past the nearest line each side, only POST_CONTEXT_CHARS are kept."""
    line = "var a=function(b){return f(g(b+1))};" * 500
    ctx = cursor_context(split_document("\n".join([line] * 300) + "\n", 250, 100, "a.js"))
    assert ctx.prefix == line + "\n" + line[:100]
    assert ctx.suffix == line[100:] + "\n" + line + "\n"
    assert clean_completion("x)", ctx, is_single_line(ctx)) == "x)"

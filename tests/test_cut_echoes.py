"""A suggestion cut by the clock or the token cap shows nothing that, so far, repeats the text after
the cursor on its line: finished, that text would be trimmed as a repeat, so the unhurried answer
has none of it (the independent check of issue 17 found `if`, `if upper`, `if upper is` cut from a
generation that the unhurried answer dropped whole). With the real small model."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from fim.postprocess import CompletionContext
from server.completion import CompletionRequest, whole_part

# The cursor (|) at the indentation of a line the model writes again, as in psycopg2's _range.py.
ECHO = ('def parse(self, s):\n    m = self._re.match(s)\n    if m is None:\n'
        '        raise ValueError("bad range: %r" % s)\n\n    lower = m.group(3)\n    if lower is None:\n'
        '        lower = m.group(2)\n        if lower is not None:\n'
        '            lower = self._re_undouble.sub(r"\\1", lower)\n    else:\n'
        '        lower = self._re_undouble.sub(r"\\1", lower)\n\n    upper = m.group(5)\n    if upper is None:\n'
        '        upper = m.group(4)\n        |if upper is not None:\n'
        '            upper = self._re_undouble.sub(r"\\1", upper)\n    else:\n'
        '        upper = self._re_undouble.sub(r"\\1", upper)\n')
WORD = re.compile(r"[\w$]")


@pytest.fixture(scope="module")
def completer(gemma_completer):
    return gemma_completer


def _at_word_boundary(cut: str, full: str) -> bool:
    """`cut` is empty, or a start of `full` that ends between words."""
    end = len(cut)
    return not cut or (full.startswith(cut) and (end == len(full)
                                                 or not (WORD.match(cut[-1]) and WORD.match(full[end]))))


def test_cuts_never_show_a_start_of_the_text_after_the_cursor(completer) -> None:
    before = ECHO[:ECHO.index("|")]
    request = CompletionRequest(text=ECHO.replace("|", ""), line=before.count("\n"),
                                character=len(before.split("\n")[-1]), path="range.py")
    base = completer.settings

    def complete(**settings: object):
        completer.settings = replace(base, **settings)
        return completer.complete(request, lambda: False)

    full = complete()
    assert full.generation.text.startswith("if upper is not None") and full.complete  # the line, written again
    cuts = [complete(max_tokens=cap) for cap in (1, 2, 3, 4)] + [complete(time_budget_ms=ms) for ms in (1, 40, 150)]
    assert any(cut.generation.stop_reason in ("max_tokens", "time") and len(cut.generation.text.split()) > 1
               for cut in cuts)  # cut after a word or more of it
    for cut in cuts:
        assert _at_word_boundary(cut.completion, full.completion), (cut.completion, full.completion)


def test_whole_part_drops_an_echo_of_the_line_suffix() -> None:
    ctx = CompletionContext("        upper = m.group(4)\n        ", "if upper is not None:\n            pass\n")
    assert whole_part("if upper is", ctx, True) == ""
    assert whole_part("upper = 1", ctx, True) == "upper ="  # no start of it: the cut's words stay
    # Typed into a word: `no|t deleted.` with `t` so far is `nott deleted.`
    assert whole_part("t deleted", CompletionContext(" * no", "t deleted.\n */\n"), True) == ""
    # The end of a cut that starts the suffix goes (`foo(x` before `x)` reads `foo(xx)`), from a word boundary.
    assert whole_part("foo(x", CompletionContext("y = ", "x)\n"), True) == "foo("
    assert whole_part("fox y", CompletionContext("y = ", "x)\n"), True) == "fox"  # no word's end
    assert whole_part("a + b", CompletionContext("y = ", "\n"), True) == "a +"  # no suffix: as before

"""One completion: document and cursor in, post-processed text plus the prompt and timings out."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Optional, Sequence

from fim.context import CHARS_PER_TOKEN
from fim.positions import locate, lsp_lines, utf16_to_index
from fim.postprocess import (CompletionContext, clean_completion, echoes_line_suffix, is_single_line, starts_next_line,
                             stop_index, without_last_word)
from fim.prompt import Budget, FimInput, Layout, Prompt, PromptBuilder, Snippet, middle_room, split_document
from server.engines import open_engine
from server.engines.base import Engine, Generation, OutOfTime, Progress
from server.lines import line_breaks
from server.settings import Settings

# How much text around the cursor the post-processor sees (it only needs the nearby scope): lines
# each side of the cursor's, and of long lines (minified code) the nearest one plus what fits in
# POST_CONTEXT_CHARS (it reads them character by character: 0.15-0.25 s a completion in a minified bundle).
POST_CONTEXT_LINES = 200
POST_CONTEXT_CHARS = 32_768
# A document this large (generated code, data) gets no repository context: selecting it would
# cost more than it brings.
HUGE_DOCUMENT_CHARS = 1_000_000
# Of a document longer than three times this many characters per token of the window, only the lines
# within that many characters of the cursor, on each side, are split into lines for the prompt:
# splitting a 10 MB file took 70-100 ms per keystroke, and no prompt holds more (a token is rarely
# over 16 characters).
WINDOW_CHARS_PER_TOKEN = 32
# A first answer comes from a short prompt only when the full one would take more than this many
# first-answer budgets to read (3 s by default, the first-answer target): cutting a window read in
# 1.3 s, or in 2-3 s under load, to one read in 1 s saved little and lost the code above (HumanEval
# single-line under load: 5 of 100 tasks the raw model passed at 1x, 2 at 2x).
QUICK_WORTH = 3
# The room for repository context is what the local window leaves, less this many tokens for the
# typing to come, rounded down to a multiple of CONTEXT_STEP; a document keeps the room its last
# prompt had while the context chosen then still fits (remembered for CONTEXT_ROOMS_KEPT documents).
# Context sized to fill the room exactly came and went with every other keystroke where the room
# hovered at a step, and each change read the whole window again (4K windows: 4,079 tokens).
CONTEXT_SLACK = 64
CONTEXT_STEP = 256
CONTEXT_ROOMS_KEPT = 64
# Of a window whose document's prefix and suffix would fill it, this share is kept for repository context, as
# CrossCodeEval and DeepSeek-Coder's repository benchmark keep 512 of 2,048 tokens (Continue keeps half): a 4K
# window of a 300-line document held no context at all. From 8K up the prefix and suffix caps leave more.
CONTEXT_RESERVE = 0.25


# Chooses repository context: (lines of the document already in the prompt as [start, end),
# character budget) -> snippets, most important last.
ContextProvider = Callable[[tuple[int, int], int], Sequence[Snippet]]


@dataclass(frozen=True)
class CompletionRequest:
    text: str
    line: int
    character: int  # UTF-16 code units, as LSP counts
    path: Optional[str] = None  # workspace-relative path of the document
    context: Optional[ContextProvider] = None
    language: Optional[str] = None  # the editor's LSP languageId of the document, when it said
    offset: Optional[int] = None  # of (line, character) in `text`, in code points, where the caller found it


@dataclass
class CompletionResult:
    completion: str
    model: str
    prompt: Prompt
    generation: Generation
    line: int
    column: int  # code-point column of the cursor
    total_ms: float = 0.0
    window: str = "full"  # "quick": answered from a short prompt while the full window is read

    @property
    def complete(self) -> bool:
        """False when the clock or a cancellation cut the generation, or a short prompt stood in for
        the window: the same request, asked again, may get more. (A cut at the token cap is the same
        every time: it may be cached.)"""
        return self.window == "full" and self.generation.stop_reason not in ("time", "cancelled")

    def to_json(self) -> dict:
        """The `deepfim complete --json` / `deepfim/explain` object."""
        return {
            "completion": self.completion,
            "model": self.model,
            "window": self.window,
            "stop_reason": self.generation.stop_reason,
            "prompt": self.prompt.to_json(),
            "timings": timings_json(self.generation, self.total_ms),
        }


def timings_json(gen: Generation, total_ms: float) -> dict:
    """The `timings` object of `--json` output and `deepfim/explain`."""
    return {
        "prompt_tokens_evaluated": gen.prompt_tokens_evaluated,
        "prompt_tokens_reused": gen.prompt_tokens_reused,
        "generated_tokens": gen.generated_tokens,
        "draft_tokens": gen.draft_tokens,
        "draft_accepted": gen.draft_accepted,
        "prompt_ms": round(gen.prompt_ms, 3),
        "generate_ms": round(gen.generate_ms, 3),
        "total_ms": round(total_ms, 3),
    }


def cursor_context(fim: FimInput) -> CompletionContext:
    """The text around the cursor that post-processing looks at."""
    above = _nearest(reversed(fim.prefix_lines[-POST_CONTEXT_LINES:]))
    before = "".join(reversed(above)) + fim.middle
    after = "".join(fim.suffix_lines[:1] + _nearest(fim.suffix_lines[1:POST_CONTEXT_LINES]))
    return CompletionContext(prefix=before, suffix=after)


def _nearest(lines: Iterable[str]) -> list[str]:
    """The first of `lines`, then the next ones while their lengths add up to POST_CONTEXT_CHARS."""
    out: list[str] = []
    size = 0
    for line in lines:
        size += len(line)
        if out and size > POST_CONTEXT_CHARS:
            break
        out.append(line)
    return out


_BREAK = re.compile(r"\r\n|\r|\n")


def _line_start(text: str, offset: int) -> int:
    """The offset of the start of the line `offset` is in."""
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def _lines_around(text: str, line_start: int, offset: int, reach: int) -> tuple[int, int]:
    """[start, end) of the whole lines of `text` within about `reach` characters of a cursor at `offset`
    (the start of its line: `line_start`)."""
    start = 0
    if line_start - reach > 0:  # the first line that starts at or after line_start - reach
        found = _BREAK.search(text, line_start - reach - 1)
        start = found.end() if found is not None and found.end() <= line_start else line_start
    found = _BREAK.search(text, min(len(text), offset + reach))
    return start, found.end() if found is not None else len(text)


def open_completer(settings: Settings, progress: Optional[Callable[[float], None]] = None,
                   **engine_options: int) -> "Completer":
    """A completer on the engine `settings` name (in-process model or remote server). Raises
    ModelNotFound, ModelLoadError or EngineUnavailable with a message that says what to do."""
    return Completer(open_engine(settings, progress, **engine_options), settings)


class Completer:
    """Builds prompts for, and runs completions on, one engine. Call only on the engine's thread."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        # Tokenized lines and snippets for about two full windows: a keystroke re-tokenizes only
        # what changed, and a long session's memory stays flat.
        self.builder = PromptBuilder(engine.info.template, engine.special, engine.tokenize, engine.token_text,
                                     cache_chars=engine.info.n_ctx * 8, tokenize_many=engine.tokenize_many)
        self._quick_room = 0  # the last short prompt's size: kept while the read speed stays near it
        # Per document: the context room its last prompt asked for, and the tokens its context took.
        self._context_rooms: OrderedDict[Optional[str], tuple[int, int]] = OrderedDict()

    def layout(self) -> Layout:
        return Layout(line_in_prefix=self.settings.line_in_prefix,
                      context_before_bos=self.settings.context_before_bos)

    def budget(self, context: bool = False) -> Budget:
        """The prompt's token limits; with `context` (repository context will be asked for), the document's
        prefix and suffix leave CONTEXT_RESERVE of the room to it."""
        n_ctx = self.engine.info.n_ctx
        max_tokens = min(self.settings.max_tokens, n_ctx // 4)
        room = n_ctx - max_tokens
        local = room - int(room * CONTEXT_RESERVE) if context else room
        return Budget(n_ctx=n_ctx, max_tokens=max_tokens,
                      max_prefix_tokens=min(Budget.max_prefix_tokens, local * 3 // 4),
                      max_suffix_tokens=min(Budget.max_suffix_tokens, local // 4),
                      max_context_tokens=room)

    def split(self, request: CompletionRequest) -> FimInput:
        """The document split at the cursor (of a very large one, the lines near it)."""
        text = request.text
        reach = self.engine.info.n_ctx * WINDOW_CHARS_PER_TOKEN
        if len(text) > 3 * reach:
            if request.offset is None:
                line, column, offset = locate(text, request.line, request.character)
            else:
                line, offset = request.line, request.offset
                column = offset - _line_start(text, offset)
            start, end = _lines_around(text, offset - column, offset, reach)
            first_line = line - line_breaks(text, start, offset - column)
            fim = split_document(text[start:end], line - first_line, column, request.path)
            return replace(fim, first_line=first_line)
        lines = lsp_lines(text)
        line = max(0, min(request.line, len(lines) - 1))
        return split_document(text, line, utf16_to_index(lines[line], request.character), request.path)

    def prompt_for(self, request: CompletionRequest) -> tuple[FimInput, Prompt]:
        """The prompt: the local window first, then repository context in the room that is left."""
        fim = self.split(request)
        line = fim.first_line + len(fim.prefix_lines)
        with_context = request.context is not None and len(request.text) <= HUGE_DOCUMENT_CHARS
        budget = self.budget(with_context)
        local = self.builder.window(fim, budget)  # laid out once: context changes only the snippets
        if not with_context:
            return fim, self.builder.build(fim, budget, self.layout(), local)
        # In steps, so that the context chosen stays the same while lines are typed (it comes before
        # the prefix: a change there is a window read again).
        left = min(budget.max_context_tokens, local.room)
        room = max(0, left - CONTEXT_SLACK) // CONTEXT_STEP * CONTEXT_STEP
        kept_room, kept_used = self._context_rooms.get(request.path, (0, 0))
        if room < kept_room <= left and kept_used:  # what the context took then still fits
            room = kept_room
        if room < 64:
            return fim, self.builder.build(fim, budget, self.layout(), local)
        suffix = local.suffix.text  # the lines it starts (the cursor's included); a final line end starts none
        below = max(1, len(lsp_lines(suffix)) - (suffix[-1:] in ("\n", "\r")))
        if self.builder.template.order == "prefix-only":
            # No suffix in the prompt: the lines below the cursor, shown as a context snippet, would
            # come before the code they follow (HumanEval single-line, Gemma 270M: pass@1 0.308 with, 0.319 without).
            below = len(fim.suffix_lines)
        recent = local.recent.text if local.recent.token_ids else ""
        window = (line - len(lsp_lines(local.prefix.text + recent)) + 1, line + below)
        snippets = request.context(window, int(room * CHARS_PER_TOKEN))
        if not snippets:  # nothing to show (a lone file): the document takes the whole window
            return fim, self.builder.build(fim, self.budget(), self.layout())
        fim = replace(fim, snippets=tuple(snippets))
        prompt = self.builder.build(fim, budget, self.layout(), local)
        used = sum(len(s.token_ids) for s in prompt.segments if s.kind == "context")
        self._context_rooms[request.path] = (room, used)
        self._context_rooms.move_to_end(request.path)
        if len(self._context_rooms) > CONTEXT_ROOMS_KEPT:
            self._context_rooms.popitem(last=False)
        return fim, prompt

    def heal(self, prompt: Prompt) -> tuple[Prompt, bytes]:
        """Take the last token of the typed line back out of the prompt, for token healing.

        A cursor in the middle of a word ends the prompt with a token the model would rarely
        have seen there (`op` before `en(`); generating it again, constrained to the same text,
        gives the natural continuation. The middle segment keeps its text; its token list and the
        prompt's ids are what the model evaluates.
        """
        last = prompt.segments[-1]
        if not self.engine.heals or last.kind != "middle" or not last.token_ids or not last.text.strip():
            return prompt, b""
        healed = replace(last, token_ids=last.token_ids[:-1])
        return Prompt(prompt.segments[:-1] + (healed,)), self.engine.piece(last.token_ids[-1])

    def generate(self, prompt: Prompt, cancelled: Callable[[], bool],
                 stop_at: Callable[[str], Optional[int]] = lambda text: None,
                 time_budget_s: Optional[float] = None, progress: Optional[Progress] = None,
                 quick: bool = False) -> tuple[Prompt, Generation]:
        """Heal -> generate: the one path from a built prompt to the model's raw output. Returns the
        prompt as evaluated (healed) and the generation."""
        prompt, heal = self.heal(prompt)
        generation = self.engine.generate(prompt.token_ids, self.budget().max_tokens, cancelled,
                                          stop_at=stop_at, time_budget_s=time_budget_s, heal=heal,
                                          lookup=self.settings.lookup_decoding, progress=progress, quick=quick)
        return prompt, generation

    def prefill(self, request: CompletionRequest, cancelled: Callable[[], bool],
                progress: Optional[Progress] = None, batch: Optional[int] = None) -> None:
        """Evaluate the prompt `request` would get into the KV cache (raises Cancelled)."""
        with self.engine.answering(self.settings.time_budget_ms / 1000):
            _, prompt = self.prompt_for(request)
        self.engine.prefill(self.heal(prompt)[0].token_ids, cancelled, progress, batch)

    def quick_prompt(self, fim: FimInput, prompt: Prompt, first_answer_s: float) -> Optional[Prompt]:
        """A short prompt (the code nearest the cursor, no repository context) sized to what the engine
        reads in `first_answer_s`, when reading the full `prompt` would take more than QUICK_WORTH
        times that; else None."""
        engine = self.engine
        if not engine.first_answers or first_answer_s <= 0:
            return None
        affordable = max(64, int(engine.read_rate * first_answer_s))
        if engine.missing(self.heal(prompt)[0].token_ids) <= QUICK_WORTH * affordable:
            return None
        max_tokens = self.budget().max_tokens
        cells = engine.quick_cells - max_tokens - 8  # the most a short prompt may hold
        typed = middle_room(min(len(self.builder.tokens(fim.middle)), cells - 128))  # a huge line: its end
        room = max(64, min(affordable, cells - typed))
        # The read speed is measured on every batch; a size that followed it would move the short
        # prompt's first line at every keystroke, and the engine could reuse none of the last one.
        if self._quick_room and self._quick_room // 2 <= room <= self._quick_room * 2:
            room = min(self._quick_room, max(64, cells - typed))
        self._quick_room = room
        # The typed part of the line comes on top, so that a keystroke never moves the lines around it.
        budget = Budget(n_ctx=room + typed + max_tokens, max_tokens=max_tokens, max_prefix_tokens=room * 3 // 4,
                        max_suffix_tokens=room // 4, max_context_tokens=0)
        quick = self.builder.build(replace(fim, snippets=()), budget, self.layout())
        return quick if quick.n_tokens < prompt.n_tokens else None

    def complete(self, request: CompletionRequest, cancelled: Callable[[], bool],
                 progress: Optional[Progress] = None, first_answer_s: float = 0.0) -> CompletionResult:
        """The post-processed completion. `timeBudgetMs` bounds generation (not prompt reading); a
        generation stopped by the clock or the token cap keeps whole lines or whole words only.
        With `first_answer_s`, a window the engine cannot read in that time is answered from a
        short prompt instead (`window` "quick"); reading the window is then the caller's to schedule."""
        start = time.perf_counter()
        budget_s = self.settings.time_budget_ms / 1000
        with self.engine.answering(budget_s):
            try:
                fim, prompt = self.prompt_for(request)
            except OutOfTime:  # a slow server's tokenizer took the time: asked again, the lines are cached
                fim = self.split(request)
                return CompletionResult(completion="", model=self.engine.info.name, prompt=Prompt(()),
                                        generation=Generation(stop_reason="time"),
                                        line=fim.first_line + len(fim.prefix_lines), column=len(fim.middle),
                                        total_ms=(time.perf_counter() - start) * 1000)
            quick = self.quick_prompt(fim, prompt, first_answer_s)
            if quick is not None:
                prompt = quick
            ctx = replace(cursor_context(fim), language=request.language, path=request.path)
            single = self.settings.single_line or is_single_line(ctx)
            prompt, generation = self.generate(prompt, cancelled, lambda text: stop_index(text, ctx, single),
                                               budget_s, progress, quick=quick is not None)
        if generation.stop_reason == "cancelled":
            text = ""
        else:
            raw = generation.text
            if generation.stop_reason in TRUNCATED:
                raw = whole_part(raw, ctx, single)
            text = clean_completion(raw, ctx, single)
        return CompletionResult(
            completion=text,
            model=self.engine.info.name,
            prompt=prompt,
            generation=generation,
            line=fim.first_line + len(fim.prefix_lines),
            column=len(fim.middle),
            total_ms=(time.perf_counter() - start) * 1000,
            window="full" if quick is None else "quick",
        )


# Generations that stopped before the model finished its thought.
TRUNCATED = ("time", "max_tokens")


def whole_part(raw: str, ctx: CompletionContext, single_line: bool) -> str:
    """What may be shown of a generation that was cut off: its complete lines when there are any
    (multi-line), else its complete words and numbers (the last may be missing its end: `retur`,
    `3.14` of `3.14159`), and not an unfinished line that so far starts the document's next line, nor
    the end of one that so far starts the text after the cursor on its line (finished, the
    post-processor would drop either as a repeat)."""
    if not single_line:
        end = raw.rfind("\n")
        if end > 0 and raw[:end].strip():
            return raw[:end]
    first = raw.split("\n", 1)[0] if single_line else raw
    if "\n" in first:
        cut = without_last_word(first).rstrip(" \t")
    else:  # the word or number may have begun before the cursor: `PI = 3` + `.14` is no `3.`
        typed = ctx.line_prefix
        cut = without_last_word(typed + first)[len(typed):].rstrip(" \t")
    start = cut.rfind("\n") + 1
    row = cut[start:] if start else ctx.line_prefix + cut
    if starts_next_line(row, ctx):
        return cut[:start].rstrip("\n")
    echo = echoes_line_suffix(row, ctx, 0 if start else len(ctx.line_prefix))
    return cut[:len(cut) - echo].rstrip(" \t").rstrip("\n") if echo else cut

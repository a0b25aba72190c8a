"""Build FIM prompts as lists of token ids, segment by segment, cut to a token budget.

User text is only ever tokenized as plain text (the tokenizer passed in must not parse special
tokens), and special tokens are inserted by id, so no file content can become a control token.

Layout (PSM): ``BOS PRE [context files] prefix SUF suffix MID middle`` (``[context files] PRE ...`` for
templates that head files with a separator token) where ``middle`` is the
current line up to the cursor. Everything that changes while the user types on one line sits at
the end, so each keystroke only adds a few tokens after what the KV cache already holds. The
prefix starts on a line that is a multiple of ``ANCHOR_LINES`` so it does not slide every line.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Callable, NamedTuple, Optional, Sequence

from fim.positions import lsp_lines
from fim.templates import FimTemplate

Tokenize = Callable[[str], list[int]]

ANCHOR_LINES = 32
# In the default PSM layout the lines of the cursor's block of this many (a divisor of ANCHOR_LINES)
# go after the middle token with the typed part of its line, as text the model already wrote: Enter
# then adds a few tokens at the end of the prompt instead of changing everything from the prefix's
# end on (the whole suffix read again), except once every TAIL_LINES lines.
TAIL_LINES = 16
# The room kept for the typed part of the cursor's line grows in steps of this many tokens, so that
# typing moves no other part of the prompt: where the window was what bounded the suffix, a line of
# the suffix came and went as a word's token count rose and fell ("alp" 9 tokens, "alph" 8), and with
# it the repository context chosen around the lines shown: the whole window read again (4K window
# through llama-server: 3,806 prompt tokens for one keystroke).
MIDDLE_STEP = 64


@dataclass(frozen=True)
class Snippet:
    """Code from another file offered as context; `source` is its workspace-relative path."""

    source: str
    text: str


@dataclass(frozen=True)
class Segment:
    """One contiguous run of the prompt."""

    kind: str  # control | context | prefix | suffix | middle
    source: Optional[str]
    token_ids: tuple[int, ...]
    text: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "source": self.source, "tokens": len(self.token_ids), "text": self.text}


@dataclass(frozen=True)
class Prompt:
    """A complete prompt: ordered segments whose ids concatenate to `token_ids`; `context_room`: the
    tokens the local window left for repository context (whatever the typed part's size)."""

    segments: tuple[Segment, ...]
    context_room: int = 0

    @cached_property
    def _ids(self) -> tuple[int, ...]:
        return tuple(chain.from_iterable(s.token_ids for s in self.segments))

    @property
    def token_ids(self) -> list[int]:
        """The ids in order (a fresh list: flattened once, a keystroke asks several times)."""
        return list(self._ids)

    @property
    def n_tokens(self) -> int:
        return len(self._ids)

    def to_json(self) -> dict:
        return {"token_ids": self.token_ids, "segments": [s.to_json() for s in self.segments]}


@dataclass(frozen=True)
class SpecialIds:
    """Token ids of a template's special tokens in one model's vocabulary."""

    bos: Optional[int]
    prefix: Optional[int]
    suffix: Optional[int]
    middle: Optional[int]
    file_separator: Optional[int] = None


@dataclass(frozen=True)
class Budget:
    """Token limits for one prompt."""

    n_ctx: int = 16384
    max_tokens: int = 128  # reserved for generation
    max_prefix_tokens: int = 3072
    max_suffix_tokens: int = 1024
    max_context_tokens: int = 12000

    @property
    def prompt_tokens(self) -> int:
        return max(16, self.n_ctx - self.max_tokens)


@dataclass(frozen=True)
class Layout:
    """Where the movable parts of a prompt go."""

    # The typed part of the cursor's line and the lines of its TAIL_LINES block before the hole
    # (classic PSM) instead of after the middle token: every keystroke then re-evaluates the suffix.
    line_in_prefix: bool = False
    # Repository context before BOS (llama.cpp /infill) instead of inside the FIM prefix with
    # `#path` headers (DeepSeek-Coder's repository format).
    context_before_bos: bool = False


@dataclass(frozen=True)
class FimInput:
    """The text around the cursor. `middle` is the current line up to the cursor."""

    prefix_lines: Sequence[str]  # whole lines before the cursor's line, each with its line ending
    middle: str
    suffix_lines: Sequence[str]  # rest of the cursor's line first, then the following lines
    first_line: int = 0  # document line number of prefix_lines[0]
    path: Optional[str] = None
    snippets: Sequence[Snippet] = ()


class Window(NamedTuple):
    """The local window of a prompt: the segments around the cursor, and the tokens they leave for
    repository context."""

    prefix: Segment
    recent: Segment
    middle: Segment
    suffix: Segment
    room: int


LINE_CHARS = 32_768  # of a longer line (minified code), only this much next to the cursor is kept
CUT_MIN_TOKENS = 64  # the least room left worth the first lines of a snippet that does not fit whole


def split_document(text: str, line: int, column: int, path: Optional[str] = None,
                   snippets: Sequence[Snippet] = ()) -> FimInput:
    """Split `text` at a zero-based line and code-point column into a FimInput.

    Lines longer than LINE_CHARS are cut to the part nearest the cursor: no prompt has room for
    more, and tokenizing a 5 MB line on every keystroke would take seconds."""
    lines = lsp_lines(text)
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    body = current.rstrip("\r\n")
    column = max(0, min(column, len(body)))
    prefix, middle, suffix = lines[:line], body[:column], [current[column:]] + lines[line + 1:]
    if len(text) > LINE_CHARS and max(map(len, lines)) > LINE_CHARS:
        prefix = [_tail(part) for part in prefix]
        middle = _tail(middle)
        suffix = [_head(part) for part in suffix]
    return FimInput(prefix_lines=prefix, middle=middle, suffix_lines=suffix, first_line=0, path=path,
                    snippets=tuple(snippets))


def _tail(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[-LINE_CHARS:]


def _head(line: str) -> str:
    if len(line) <= LINE_CHARS:
        return line
    body = line.rstrip("\r\n")
    return body[:LINE_CHARS] + line[len(body):]


class PromptBuilder:
    """Builds prompts for one model; caches the tokenization of unchanged lines and snippets.

    The cache holds at most `cache_chars` characters of text (least recently used out first):
    four full 16K-token windows by default, so a long session's memory stays flat."""

    def __init__(self, template: FimTemplate, ids: SpecialIds, tokenize: Tokenize,
                 token_text: Callable[[int], str], cache_chars: int = 240_000,
                 tokenize_many: Optional[Callable[[list[str]], Optional[list[list[int]]]]] = None) -> None:
        self.template = template
        self.ids = ids
        self._tokenize = tokenize
        self._tokenize_many = tokenize_many
        self._token_text = token_text
        self._cache: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._cache_chars = cache_chars
        self._held_chars = 0

    def tokens(self, text: str) -> tuple[int, ...]:
        """Tokenize plain text (never special tokens), memoized."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        return self._keep(text, tuple(self._tokenize(text)) if text else ())

    def _keep(self, text: str, ids: tuple[int, ...]) -> tuple[int, ...]:
        self._cache[text] = ids
        self._held_chars += len(text)
        while self._held_chars > self._cache_chars and len(self._cache) > 1:
            self._held_chars -= len(self._cache.popitem(last=False)[0])
        return ids

    def _warm(self, texts: Sequence[str]) -> None:
        """Tokenize those of `texts` not cached yet in one call of `tokenize_many` (a remote engine:
        one request for a block of lines instead of one per line) where it has one."""
        if self._tokenize_many is None:
            return
        todo = list(dict.fromkeys(text for text in texts if text and text not in self._cache))
        batched = self._tokenize_many(todo) if len(todo) > 1 else None
        for text, ids in zip(todo, batched or ()):
            self._keep(text, tuple(ids))

    def _control(self, token_id: Optional[int]) -> list[Segment]:
        if token_id is None:
            return []
        return [Segment("control", None, (token_id,), self._token_text(token_id))]

    def _prefix(self, fim: FimInput, limit: int) -> tuple[Segment, Segment]:
        """The longest run of whole anchor blocks ending at the cursor's line that fits `limit`, as
        (the lines before the cursor's TAIL_LINES block, the lines of that block before its line).

        Blocks start at document lines that are multiples of ANCHOR_LINES, so the start of the
        prefix moves only when a whole block no longer fits; only the lines taken (and the block
        that did not fit) are tokenized, however long the document.
        """
        lines = fim.prefix_lines
        n = len(lines)
        start, total = n, 0
        block_end = n
        while block_end > 0:
            absolute_end = fim.first_line + block_end
            block_start = max(0, block_end - ((absolute_end - 1) % ANCHOR_LINES + 1))
            self._warm(lines[block_start:block_end])
            size = sum(len(self.tokens(line)) for line in lines[block_start:block_end])
            if total + size > limit:
                break
            total += size
            start = block_end = block_start
        tail = (fim.first_line + n) // TAIL_LINES * TAIL_LINES - fim.first_line  # the cursor's block's start
        if start == n and n and limit > 0:  # not even the cursor's block fits: its last whole lines that do
            used = 0
            while start > 0 and used + len(self.tokens(lines[start - 1])) <= limit:
                start -= 1
                used += len(self.tokens(lines[start]))
            if start == n:  # nor its last line: keep that line's end
                ids = tuple(self.tokens(lines[-1])[-limit:])
                if tail >= n:
                    return Segment("prefix", None, ids, self._detok(list(ids))), self._lines("recent", [])
                return self._lines("prefix", []), Segment("recent", None, ids, self._detok(list(ids)))
        tail = min(n, max(start, tail))
        return self._lines("prefix", lines[start:tail]), self._lines("recent", lines[tail:])

    def _lines(self, kind: str, lines: Sequence[str]) -> Segment:
        return Segment(kind, None, tuple(t for line in lines for t in self.tokens(line)), "".join(lines))

    def _suffix(self, fim: FimInput, limit: int) -> Segment:
        """Whole lines from the cursor on while they fit (the rest of the cursor's line first)."""
        ids: list[int] = []
        taken: list[str] = []
        for index, line in enumerate(fim.suffix_lines):
            if index % ANCHOR_LINES == 0:
                self._warm(fim.suffix_lines[index:index + ANCHOR_LINES])
            toks = self.tokens(line)
            if len(ids) + len(toks) > limit:
                if index == 0:  # the cursor's own line is too long: keep its start
                    ids.extend(toks[:limit])
                    taken.append(self._detok(list(toks[:limit])))
                break
            ids.extend(toks)
            taken.append(line)
        return Segment("suffix", None, tuple(ids), "".join(taken))

    def _detok(self, ids: list[int]) -> str:
        return "".join(self._token_text(t) for t in ids)

    def _context(self, snippets: Sequence[Snippet], limit: int) -> list[Segment]:
        """Context segments within `limit` tokens: the most important (last) snippets are kept
        first, and the kept ones stay in their given order (stable for the KV cache); the most
        important one left out comes cut at a line end where at least CUT_MIN_TOKENS are left (the
        snippets are chosen by an estimate of their tokens, short for some code)."""
        kept: list[tuple[int, Segment]] = []
        used = 0
        left_out: Optional[int] = None
        self._warm([self._snippet_text(snippet)[1] for snippet in snippets])
        for k in range(len(snippets) - 1, -1, -1):
            head, body, text = self._snippet_text(snippets[k])
            toks = head + self.tokens(body)
            if used + len(toks) > limit:
                left_out = k if left_out is None else left_out
                continue
            used += len(toks)
            kept.append((k, Segment("context", snippets[k].source, toks, text)))
        cut = self._cut(snippets[left_out], limit - used) if left_out is not None \
            and limit - used >= CUT_MIN_TOKENS else None
        if cut is not None:
            kept.append((left_out, cut))
        return [segment for _, segment in sorted(kept, key=lambda kept_one: kept_one[0])]

    def _cut(self, snippet: Snippet, room: int) -> Optional[Segment]:
        """The snippet's first lines within `room` tokens (its header and two lines at least), else None."""
        head, body, text = self._snippet_text(snippet)
        whole = len(self.tokens(body))
        chars = len(body) * (room - len(head)) // max(1, whole)
        for _ in range(3):  # the snippet's own characters per token, then less where its start is denser
            part = body[:body.rfind("\n", 0, chars) + 1]
            if part.count("\n") < 3:
                return None
            toks = head + self.tokens(part)
            if len(toks) <= room:
                return Segment("context", snippet.source, toks, text[:len(text) - len(body)] + part)
            chars = len(part) * room // len(toks) - 1
        return None

    def _snippet_text(self, snippet: Snippet) -> tuple[tuple[int, ...], str, str]:
        """A snippet's control ids, the text to tokenize after them, and the text the segment shows."""
        if self.template.file_separator and self.ids.file_separator is not None:
            body = snippet.source + "\n" + _with_newline(snippet.text)
            return (self.ids.file_separator,), body, self._token_text(self.ids.file_separator) + body
        text = f"#{snippet.source}\n{_with_newline(snippet.text)}\n"
        return (), text, text

    def _file_header(self, fim: FimInput, have_context: bool) -> list[Segment]:
        """Name the current file after repository context, as the model saw in training."""
        if not have_context or not fim.path:
            return []
        if self.template.file_separator and self.ids.file_separator is not None:
            toks = (self.ids.file_separator,) + self.tokens(fim.path + "\n")
            return [Segment("context", fim.path, toks, self._token_text(self.ids.file_separator) + fim.path + "\n")]
        text = f"#{fim.path}\n"
        return [Segment("context", fim.path, self.tokens(text), text)]

    def window(self, fim: FimInput, budget: Budget) -> Window:
        """The local window of the prompt for `fim` within `budget` (its snippets play no part)."""
        total = budget.prompt_tokens
        middle_ids = self.tokens(fim.middle)
        middle = Segment("middle", None, middle_ids, fim.middle)
        if len(middle_ids) > total // 4:  # a huge line: keep the text nearest the cursor
            kept = middle_ids[len(middle_ids) - total // 4:]
            middle = Segment("middle", None, kept, self._detok(list(kept)))
        n_special = 4
        local = max(0, total - min(middle_room(len(middle.token_ids)), total // 4) - n_special)
        if self.template.order == "prefix-only":
            suffix_limit = 0
        else:
            suffix_limit = min(budget.max_suffix_tokens, local // 4)
        suffix = self._suffix(fim, suffix_limit) if suffix_limit else Segment("suffix", None, (), "")
        prefix, recent = self._prefix(fim, min(budget.max_prefix_tokens, max(0, local - len(suffix.token_ids))))
        room = local - len(suffix.token_ids) - len(prefix.token_ids) - len(recent.token_ids)
        return Window(prefix, recent, middle, suffix, room)

    def build(self, fim: FimInput, budget: Budget, layout: Layout = Layout(), window: Optional[Window] = None
              ) -> Prompt:
        """Lay out the prompt for `fim` within `budget`; `window`: its local window, where laid out
        already (`window(fim, budget)`: context chosen for it then changes only the snippets)."""
        template, ids = self.template, self.ids
        prefix, recent, middle, suffix, room = window or self.window(fim, budget)
        context = self._context(fim.snippets, min(budget.max_context_tokens, room))
        header = self._file_header(fim, bool(context))
        if context and header and sum(len(s.token_ids) for s in context + header) > room:
            header = []
        head = self._control(ids.bos) if template.add_bos else []
        if layout.context_before_bos:  # llama.cpp /infill's placement
            head, context, header = context + header + head, [], []
        elif self.template.file_separator and ids.file_separator is not None:
            # Files headed by a separator token come before the prefix token (Qwen2.5-Coder's repository format)
            head, context, header = head + context + header, [], []
        if template.order == "psm" and layout.line_in_prefix:
            segments = (head + self._control(ids.prefix) + context + header + [prefix, recent, middle]
                        + self._control(ids.suffix) + [suffix] + self._control(ids.middle))
        elif template.order == "psm":  # the cursor's block and line go where the model writes the middle
            segments = (head + self._control(ids.prefix) + context + header + [prefix]
                        + self._control(ids.suffix) + [suffix] + self._control(ids.middle) + [recent, middle])
        elif template.order == "spm":
            segments = (head + self._control(ids.suffix) + [suffix] + self._control(ids.prefix)
                        + context + header + [prefix, recent, middle])
        else:
            segments = head + context + header + [prefix, recent, middle]
        return Prompt(tuple(s for s in segments if s.token_ids or s.kind in ("prefix", "suffix", "middle")), room)


def middle_room(n_tokens: int) -> int:
    """The room a prompt keeps for a typed part of `n_tokens` tokens (whole MIDDLE_STEPs, one at least)."""
    return max(1, -(-n_tokens // MIDDLE_STEP)) * MIDDLE_STEP


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"

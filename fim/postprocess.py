"""Post-processing of FIM completions: when to stop generating, and what to insert at the cursor.

Everything here is plain text in, text out. `stop_index` runs on the growing generated text after
every token; `clean_completion` runs once on the final text. Both cut a completion by the same
line rules (`_keep_lines`), each decided on a finished line and the lines before it, so stopping
early gives the answer the whole text would have given (unless an unfinished line was cut as
runaway repetition).

Rules ported from Tabby (`postprocess/*.ts`), Continue (`streamTransforms`, `postprocessing`),
llama.vim/llama.vscode and llama.cpp (`n_indent`), with their known bugs fixed:

* the indentation-scope limit ignores blank lines (llama.cpp stopped at every blank line) and
  lets a block's closing line or an `else`/`except`/`} else {` clause through when the text after
  the cursor leaves the block (Tabby `limitScopeByIndentation`); a dedented `else:`/`elif` only
  when the document's next line leaves the clause's level too (not next to a statement or a
  clause of the suffix at that level, which the clause would break or change), `except`/`finally`
  also before a statement at their level (the `try` needs a handler);
* a line that opens a block (`for x in xs:`, `else:`, `{`) ends the completion when the document's
  next line is indented deeper: the block's body is already below the cursor;
* a line repeating the next line of the document is compared with its indentation, trimmed on both
  sides (Tabby compared an untrimmed line with a trimmed one, so only unindented lines matched),
  and without a trailing `,` or `;` (the last item of a list the model ends without its comma);
* closers already after the cursor are never duplicated and a closer the model did not generate is
  never dropped: the kept text is the candidate that leaves the cursor line best balanced;
* CRLF documents get CRLF line endings (llm-ls #87), lone-CR ones CR, and tab-indented files keep tabs.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import pairwise
from math import gcd

from fim import languages
from fim.languages.base import Rules

TAB_WIDTH = 4  # columns per tab when comparing indentation

_LINE_END_CHARS = frozenset(")]}\"'`;:,")  # text after the cursor that still allows multi-line
_CLOSERS = frozenset(")]}\"'`")  # closers (and quotes) the model may re-type from the line suffix
_TRIM_BEFORE = frozenset(")]}>;:,.")  # trailing spaces of a completion are dropped before these
_OPEN_CLOSE = {"(": ")", "[": "]", "{": "}"}
_CLOSE_OPEN = {v: k for k, v in _OPEN_CLOSE.items()}
_FIRST_WORD = re.compile(r"[A-Za-z_]+")
_LONE_CR = re.compile(r"\r(?!\n)")  # a carriage return on its own also ends a line

_MAX_PERIOD = 8  # longest block of lines checked for runaway repetition
_REPEATS = 3  # copies of a line block that count as runaway repetition
_RUNAWAY_SPAN = 60  # characters of one chunk repeated at a line's end that count as runaway
_RUNAWAY_MIN_COPIES = 4
_RUNAWAY_MAX_CHUNK = 40
_CONTINUATION_LINES = 30  # lines above the cursor read for the brackets its line continues
_STYLE_WINDOW = 8192  # characters on each side of the cursor used to detect the indent style


@dataclass(frozen=True)
class CompletionContext:
    """The document around the cursor; derived views are computed once and cached."""

    prefix: str  # document text before the cursor (may be a window ending at the cursor)
    suffix: str  # document text after the cursor (may be a window starting at the cursor)
    language: str | None = None  # the editor's LSP languageId (or a language name), when known
    path: str | None = None  # the document's path: its extension decides without a languageId
    line_end: str = ""  # the document's line ending; "": found in the text (see `eol`)

    def __post_init__(self) -> None:
        """A lone carriage return ends a line too (LSP; classic Mac files): it becomes "\n" here (one
        character for one, so offsets hold), which every view below reads, and `line_end` keeps "\r"."""
        if "\r" in self.prefix or "\r" in self.suffix:
            if not self.line_end:
                object.__setattr__(self, "line_end", _line_end(self.prefix, self.suffix))
            object.__setattr__(self, "prefix", _LONE_CR.sub("\n", self.prefix))
            object.__setattr__(self, "suffix", _LONE_CR.sub("\n", self.suffix))

    @cached_property
    def open_brackets(self) -> dict[str, int]:
        """Per bracket kind, how many the prefix leaves open beyond those the suffix closes (the
        most a completion may close). Line by line, so a string never spans lines here."""
        return {k: max(0, n) for k, n in self._balance.items()}

    @cached_property
    def unopened(self) -> dict[str, int]:
        """Per bracket kind, how many the suffix closes beyond those the prefix leaves open: the
        completion's own brackets that the suffix closes (`type T struct {` above a `}`)."""
        return {k: max(0, -n) for k, n in self._balance.items()}

    @cached_property
    def _balance(self) -> dict[str, int]:
        end, lowest = _depths(self.prefix, self.rules)
        # Closers of brackets opened before the suffix, after the cursor's line (those on it are
        # reconciled with the completion's own by `_fit_line_suffix`).
        rest = self.suffix.find("\n")
        _, closed = _depths(self.suffix[rest + 1:] if rest >= 0 else "", self.rules)
        return {k: end[k] - lowest[k] + closed[k] for k in end}

    @cached_property
    def closed_below(self) -> dict[str, int]:
        """Per bracket kind, how many the lines after the cursor's line close beyond those the lines
        before it leave open: the brackets the cursor's line may leave open (`if (f(a, |)` above
        `        || g(b))`)."""
        start = len(self.prefix) - len(self.line_prefix)
        end, lowest = _depths(self.prefix[:start], self.rules)
        rest = self.suffix.find("\n")
        _, closed = _depths(self.suffix[rest + 1:] if rest >= 0 else "", self.rules)
        return {k: max(0, -closed[k] - (end[k] - lowest[k])) for k in end}

    @cached_property
    def rules(self) -> Rules:
        """The language's block, clause, comment and quote rules (`fim.languages`)."""
        return languages.rules(self.language, self.path)

    @cached_property
    def line_prefix(self) -> str:
        """Text of the cursor line before the cursor."""
        return self.prefix[self.prefix.rfind("\n") + 1:]

    @cached_property
    def line_suffix(self) -> str:
        """Rest of the cursor line after the cursor, without its line ending."""
        end = self.suffix.find("\n")
        line = self.suffix if end < 0 else self.suffix[:end]
        return line.removesuffix("\r")

    @cached_property
    def eol(self) -> str:
        """The document's line ending: the one nearest before the cursor, else after it."""
        return self.line_end or _line_end(self.prefix, self.suffix)

    @cached_property
    def indent(self) -> str:
        """Leading whitespace of the cursor line (up to the cursor)."""
        return _leading(self.line_prefix)

    @cached_property
    def on_blank_line(self) -> bool:
        """True when the cursor line holds nothing but whitespace."""
        return not (self.line_prefix + self.line_suffix).strip()

    @cached_property
    def prev_line(self) -> str | None:
        """Last non-blank line before the cursor: the cursor line's text when it is not blank."""
        return _last_line(self.prefix, len(self.prefix))

    @cached_property
    def line_above(self) -> str | None:
        """Last non-blank line before the cursor's line."""
        return _last_line(self.prefix, self.prefix.rfind("\n"))

    @cached_property
    def next_line(self) -> str | None:
        """First non-blank line after the cursor line."""
        return self._next_lines[0] if self._next_lines else None

    @cached_property
    def line_after_next(self) -> str | None:
        """Second non-blank line after the cursor line."""
        return self._next_lines[1] if len(self._next_lines) > 1 else None

    @cached_property
    def _next_lines(self) -> list[str]:
        found: list[str] = []
        start = self.suffix.find("\n") + 1
        while start > 0 and len(found) < 2:
            end = self.suffix.find("\n", start)
            line = self.suffix[start:] if end < 0 else self.suffix[start:end]
            if line.strip():
                found.append(line.rstrip())
            start = end + 1
        return found

    @cached_property
    def continued_from(self) -> str | None:
        """The line that opened the round or square brackets the cursor's line starts inside (the
        statement whose arguments or operands it continues: `f(a,` above `  b`), else None (also
        when the innermost bracket open there is a brace: a block, or a literal laid out as one)."""
        above = self.prefix[:len(self.prefix) - len(self.line_prefix)].split("\n")[-_CONTINUATION_LINES - 1:-1]
        stack: list[tuple[str, int]] = []
        for k, line in enumerate(above):
            for ch in _brackets(line, self.rules):
                if ch in _OPEN_CLOSE:
                    stack.append((ch, k))
                elif stack and _CLOSE_OPEN.get(ch) == stack[-1][0]:
                    stack.pop()
        return above[stack[-1][1]] if stack and stack[-1][0] != "{" else None

    @cached_property
    def nearby_lines(self) -> str:
        """The lines of the document around the cursor (`_STYLE_WINDOW` characters each side), without
        the cursor's line, trailing whitespace dropped, each between newlines."""
        before = self.prefix[-_STYLE_WINDOW:].split("\n")[:-1]
        after = self.suffix[:_STYLE_WINDOW].split("\n")[1:]
        if len(self.prefix) > _STYLE_WINDOW:
            before = before[1:]  # partial lines
        if len(self.suffix) > _STYLE_WINDOW:
            after = after[:-1]
        return "\n" + "\n".join(line.rstrip() for line in before + after) + "\n"

    @cached_property
    def indent_style(self) -> str | None:
        """The document's indentation unit near the cursor: "\\t", spaces, or None if unknown (then
        the language's own, if it has one)."""
        before, after = self.prefix[-_STYLE_WINDOW:], self.suffix[:_STYLE_WINDOW]
        if "/*" in self.rules.line_comments:  # the text of a block comment is laid out, not indented
            text = _BLOCK_COMMENT.sub(_blanked, before + after)
            before, after = text[:len(before)], text[len(before):]
        head = before.split("\n")
        if len(self.prefix) > _STYLE_WINDOW:
            head = head[1:]  # a partial first line says nothing about indentation
        lines = [line for line in head + after.split("\n") if line.strip()]
        tabs = sum(line.startswith("\t") for line in lines)
        spaces = sum(line.startswith(" ") for line in lines)
        if tabs > spaces:
            return "\t"
        if not spaces:
            return self.rules.indent  # nothing indented nearby: the language's own (Go: gofmt's tabs)
        widths = [_width(line) for line in lines if "\t" not in _leading(line)]
        steps = Counter(b - a for a, b in pairwise(widths) if 2 <= b - a <= 8)
        return " " * (steps.most_common(1)[0][0] if steps else 4)


# A block comment that starts its line (after the indentation: not a `/*` inside a string).
_BLOCK_COMMENT = re.compile(r"(?m)^([ \t]*)(/\*[\s\S]*?(?:\*/|\Z))")


def _blanked(comment: re.Match) -> str:
    """A block comment as blank lines after its first line's indentation (same length, so offsets hold)."""
    return comment.group(1) + re.sub(r"[^\n]", " ", comment.group(2))


def _last_line(text: str, end: int) -> str | None:
    """The last non-blank line of `text[:end]` (`end` < 0: none)."""
    while end >= 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip():
            return line.rstrip()
        end = start - 1
    return None


def _line_end(prefix: str, suffix: str) -> str:
    """The line ending nearest before the cursor, else after it ("\n" where there is none)."""
    before = max(prefix.rfind("\n"), prefix.rfind("\r"))
    if before >= 0:
        if prefix[before] == "\r":
            return "\r\n" if before == len(prefix) - 1 and suffix.startswith("\n") else "\r"
        return "\r\n" if prefix[before - 1:before] == "\r" else "\n"
    ends = [found for found in (suffix.find("\n"), suffix.find("\r")) if found >= 0]
    if not ends:
        return "\n"
    after = min(ends)
    return "\n" if suffix[after] == "\n" else "\r\n" if suffix[after + 1:after + 2] == "\n" else "\r"


def is_single_line(ctx: CompletionContext) -> bool:
    """True when the completion should stay on the cursor's line.

    That is when real text follows the cursor on its line (anything beyond whitespace, closing
    brackets, quotes and `;:,`), or when the cursor line is a `#` or `//` comment.
    """
    rest = ctx.line_suffix.strip()
    if any(ch not in _LINE_END_CHARS and not ch.isspace() for ch in rest):
        return True
    return ctx.line_prefix.lstrip().startswith(ctx.rules.line_comments)


def stop_index(generated: str, ctx: CompletionContext, single_line: bool) -> int | None:
    """Length of `generated` to keep if the completion is finished, else None (keep generating).

    Meant to run after every token: it only looks at finished lines, plus the unfinished last
    line for runaway repetition. Single-line mode ends at the first newline after some text (an
    empty cursor line may first skip blank lines); multi-line mode ends when a line leaves the
    cursor's indentation scope, repeats the document's next line, or repeats earlier lines.
    """
    text = _LONE_CR.sub("\n", generated)  # same length, so offsets still apply to `generated`
    lines: list[str] = []
    ends: list[int] = []
    start = 0
    while (end := text.find("\n", start)) >= 0:
        content_end = end - 1 if end > start and text[end - 1] == "\r" else end
        lines.append(text[start:content_end])
        ends.append(content_end)
        start = end + 1
    lines.append(text[start:])
    keep = _keep_lines(lines, len(lines) - 1, ctx, single_line)
    if keep is None:
        return None
    return ends[keep - 1] if keep else 0


def clean_completion(generated: str, ctx: CompletionContext, single_line: bool) -> str:
    """Text to insert at the cursor for the generated completion, or "" when nothing useful remains.

    Applies the cuts of `stop_index` to the whole text, moves a completion that starts on a new
    line onto an empty cursor line, fixes the indentation style and the line endings, and trims
    whatever repeats the text after the cursor on its line (closing brackets and quotes included).
    """
    lines = _LONE_CR.sub("\n", generated).replace("\r\n", "\n").split("\n")
    keep = _keep_lines(lines, len(lines), ctx, single_line)
    if keep is not None:
        lines = lines[:keep]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ""
    lines = _fix_indent_style(lines, ctx)
    lines = _lift_to_cursor(lines, ctx, single_line)
    if not lines:
        return ""
    if ctx.line_prefix.strip() and ctx.line_prefix[-1] in " \t":
        lines[0] = lines[0].lstrip(" \t")
    text = _fit_line_suffix("\n".join(lines), ctx)
    if not text.strip():
        return ""
    return text.replace("\n", ctx.eol)


# --- line cuts --------------------------------------------------------------------------------


def _keep_lines(
    lines: list[str], done: int, ctx: CompletionContext, single_line: bool
) -> int | None:
    """How many leading `lines` to keep, or None when no cut is due yet.

    `lines[:done]` are finished lines; a further unfinished line is only checked for runaway
    repetition. Every decision about a line depends on that line and the ones before it only.
    """
    rows = [ctx.line_prefix + lines[0], *lines[1:]]  # the lines as they will read in the document
    first: int | None = None  # index of the first non-blank line
    limit = first_width = 0
    continuing = closing_allowed = body_seen = False
    string = ""  # the delimiter of a multi-line string the cursor's line opened, until a line closes it
    # The first line repeats the next line and opens a block, whose body the document has below it
    # (the completion may be another loop with the same header): an echo only if the line after it
    # repeats the document's line after that too.
    pending = False
    for i in range(done):
        line = lines[i]
        if first is None:
            if line.strip():
                first = i
            elif single_line and not ctx.on_blank_line:
                return 0  # the model ended the cursor's line without adding anything
            else:
                continue
        absolute = rows[i]
        if pending and line.strip():
            if _same_line(absolute, ctx.line_after_next):
                return first
            pending = False
        row = i == first and _table_row(absolute, ctx)  # the rows above and below are this one too
        echo = _same_line(absolute, ctx.next_line) and not _closes_own(lines[:i], line, ctx)
        if echo and i == first and not single_line and ctx.rules.opens_block.search(absolute.rstrip()) \
                and ctx.line_after_next is not None and _width(ctx.line_after_next) > _width(ctx.next_line):
            pending, echo = True, False  # (the document's block has its body: this one may be another)
        if not row and (echo or _runaway(line)):
            return i
        if i == first:
            new_line = i > 0 or not ctx.line_prefix.strip()
            if new_line and not row and _same_line(absolute, ctx.prev_line):
                return 0  # echoes the line above the cursor
            if single_line:
                return i + 1
            if _body_below(absolute, ctx) or _body_below_continuation(absolute, ctx):
                return i + 1
            continuing, limit = not new_line, _scope_limit(absolute, new_line, ctx)
            first_width = _width(absolute)
            closing_allowed = ctx.next_line is None or _width(ctx.next_line) < limit
            string = _opened_string(absolute, ctx) if continuing else ""
            continue
        if string:  # text of the string, whatever its indentation; the line that closes it ends the completion
            if string in line:
                return i + 1
        elif line.strip():
            if _width(line) >= limit:
                if _width(line) < first_width and _is_closer(line, ctx.rules) \
                        and not _closers_needed(lines[:i + 1], ctx):
                    return i  # closes a bracket of the prefix (less indented than the completion) the suffix closes
                body_seen = True
            else:
                closing_ok = closing_allowed and (body_seen or not continuing)
                rules = ctx.rules
                if not (closing_ok and _is_clause(line, rules) and _clause_fits(line, ctx.next_line, rules)):
                    closes = closing_ok and _is_closer(line, rules) \
                        and (not _overlaps(line, ctx.next_line) or _closes_own(lines[:i], line, ctx)) \
                        and not _case_follows(line, ctx.next_line, rules) and _closers_needed(lines[:i + 1], ctx)
                    return i + 1 if closes else i
            if _body_below(line, ctx):
                return i + 1
        repeat = _repeat_start(rows, i, ctx)
        if repeat is not None:
            return repeat
    if pending and done == len(lines):
        return first  # the completion ended with the next line's copy
    if done < len(lines) and _runaway(lines[done]) and not (first is None and _table_row(rows[done], ctx, True)):
        return done
    return None


def _table_row(row: str, ctx: CompletionContext, unfinished: bool = False) -> bool:
    """`row`, the cursor's line completed, is (or, `unfinished`, starts) the line both above and below
    it: one more row of a run of equal lines (a data table's `0, 0, 0, 0,`), not an echo or a runaway."""
    above, below = ctx.line_above, ctx.next_line
    if above is None or not _same_line(above, below):
        return False
    return _same_line(row, above) or unfinished and _width(row) == _width(above) and _code(above).startswith(_code(row))


def _scope_limit(first_line: str, new_line: bool, ctx: CompletionContext) -> int:
    """The least indentation width of the lines after the completion's first non-blank line.

    Continuing the cursor's statement: deeper lines only (its block body), as in Tabby. Starting
    a new line at indent C after a line at indent P: C > P opens a block (lines deeper than P);
    C == P continues the block (lines at P or deeper); C < P follows a dedent, and the completion
    ends with its own construct (lines deeper than C: the body of a block the first line opens).
    """
    prev_width = _width(ctx.prev_line) if ctx.prev_line is not None else 0
    if not new_line or _width(first_line) > prev_width:
        return prev_width + 1
    return min(prev_width, _width(first_line) + 1)


def _opened_string(row: str, ctx: CompletionContext) -> str:
    """The delimiter of the multi-line string (triple-quoted, or a language's multi-line quote) that `row`,
    the cursor's line, opens and leaves open (a docstring's summary line), or "" (also when the line
    begins inside a string: an odd count of the delimiter above it)."""
    quote = _open_delimiter(row, ctx.rules)
    if not quote or len(quote) < 3 and quote not in ctx.rules.multiline_quotes:
        return ""
    return quote if ctx.prefix[:len(ctx.prefix) - len(ctx.line_prefix)].count(quote) % 2 == 0 else ""


@lru_cache(maxsize=16)
def _open_delimiter(row: str, rules: Rules) -> str:
    """The delimiter of the string `row` leaves open, or "" (once per line: `stop_index` runs every token)."""
    quote = next(iter(deque(_brackets(row, rules), maxlen=1)), "")
    return quote if quote and quote[0] in rules.quotes else ""


def _body_below(line: str, ctx: CompletionContext) -> bool:
    """The line opens a block whose body is already there: the document's next line is deeper."""
    return (ctx.next_line is not None and ctx.rules.opens_block.search(line.rstrip()) is not None
            and _width(ctx.next_line) > _width(line))


def _body_below_continuation(line: str, ctx: CompletionContext) -> bool:
    """The completion's first line, on a line continuing a statement's brackets (the parameters of
    `void f(int a,`), closes them and opens a block (`int b) {`) whose body is already there: the
    document's next line is deeper than the statement (less deep than the aligned continuation, and
    no closer)."""
    start, below = ctx.continued_from, ctx.next_line
    if start is None or below is None or ctx.rules.opens_block.search(line.rstrip()) is None \
            or not _width(start) < _width(below) < _width(line) or _is_closer(below, ctx.rules):
        return False
    depth = 0
    for ch in _brackets(line, ctx.rules):
        if ch in _OPEN_CLOSE:
            depth += 1
        elif ch in _CLOSE_OPEN:
            depth -= 1
            if depth < 0:
                return True  # a bracket opened above the cursor's line
    return False


WORD_SCAN = 512  # characters: a longer run (a base64 blob, a minified line) counts from here


# Han characters and kana: text written without spaces between its words.
_IDEOGRAPH = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def trailing_word(text: str) -> str:
    """The word `text` ends with: letters, digits, `_`, `$` and the combining marks after them (a
    Devanagari vowel sign is part of its word, as `ा` in `स्वागत`; an emoji's variation selector
    is not a word). In Chinese and Japanese, which have no spaces, the last character."""
    limit = max(0, len(text) - WORD_SCAN)
    start = end = len(text)
    while end > limit:
        char = text[end - 1]
        if _IDEOGRAPH.match(char):  # Chinese and Japanese write no spaces: each character ends a word
            return text[end - 1:] if start == len(text) else text[start:]
        if char.isalnum() or char in "_$":
            start = end = end - 1
        elif unicodedata.category(char).startswith("M"):
            end -= 1  # part of the word if a letter comes before it
        else:
            break
    return text[start:]


# A number literal at the end of a text (`3.`, `0.1.`, `1e-`, `0x1F`): cut anywhere, it reads as
# another number, so it goes whole.
NUMBER_END = re.compile(r"(?<![\w$.])\d(?:[\w.]|(?<=[eEpP])[+-])*\Z")


def without_last_word(text: str) -> str:
    """`text` without the word it ends with (which may be missing its end: `retur`), an emoji sequence
    that may go on (half a flag, a ZWJ sequence), and the number literal it then ends with (`3.14159`
    cut to `3.14` is not `3.`)."""
    text = _without_open_emoji(text[:len(text) - len(trailing_word(text))])
    number = NUMBER_END.search(text, max(0, len(text) - WORD_SCAN))
    if number is None or (number.start() and unicodedata.category(text[number.start() - 1]).startswith("M")):
        return text  # (digits after a combining mark end a word: `café1`)
    return text[:number.start()]


_ZWJ = "\u200d"
_SYMBOLS = ("So", "Sk")  # emoji, regional indicators, skin tones
_FLAG_LETTERS = "".join(map(chr, range(0x1F1E6, 0x1F200)))  # regional indicators: two make a flag


def _emoji_start(text: str, end: int) -> int | None:
    """Where the emoji ending at `end` starts (its symbol, before its presentation selector and
    skin tone), or None when no emoji ends there."""
    start = end
    while start > 0 and (text[start - 1] == "\ufe0f" or "\U0001f3fb" <= text[start - 1] <= "\U0001f3ff"):
        start -= 1
    if start > 0 and unicodedata.category(text[start - 1]) in _SYMBOLS:
        return start - 1
    return None


def _without_open_emoji(text: str) -> str:
    """`text` without the emoji sequence it ends with when that may be unfinished: a lone regional
    indicator (`🇺` of `🇺🇸`) or a sequence joined by ZWJ (`👨‍👩` of `👨‍👩‍👧`). A single emoji stays."""
    flags = len(text) - len(text.rstrip(_FLAG_LETTERS))
    if flags:
        return text[:-1] if flags % 2 else text
    start, joined = len(text), text.endswith(_ZWJ)
    start -= joined
    while (begin := _emoji_start(text, start)) is not None:
        start = begin
        if begin == 0 or text[begin - 1] != _ZWJ:
            break
        start, joined = begin - 1, True
    return text[:start] if joined else text


def starts_next_line(row: str, ctx: CompletionContext) -> bool:
    """`row`, an unfinished line of the document, reads so far like the start of the line after the
    cursor's (same indentation): finished, it would likely repeat that line."""
    code, following = _code(row), ctx.next_line
    return bool(code) and following is not None and _width(row) == _width(following) \
        and _code(following).startswith(code)


def echoes_line_suffix(row: str, ctx: CompletionContext, cursor: int = 0) -> int:
    """How many characters at the end of `row`, an unfinished line of the document, read so far like the
    start of the text after the cursor on its line (`            if lower` before `if lower is not None:`,
    `t` typed into `no|t deleted.`): finished, they would likely repeat it and be trimmed as a repeat. They
    start at a word boundary, or at `cursor` (where the suggestion starts in `row`); 0 when none do."""
    rest = ctx.line_suffix.strip()
    if not rest:
        return 0
    for j in range(cursor, len(row)):
        tail = row[j:].lstrip()
        if tail and rest.startswith(tail) and (j == cursor or not (_word_char(row[j - 1]) and _word_char(row[j]))):
            return len(row) - j
    return 0


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$" or unicodedata.category(ch).startswith("M")


def _same_line(line: str, other: str | None) -> bool:
    """Same non-blank code at the same indentation width; a trailing `,` or `;` does not count (but a line
    of nothing else, shell's `;;`, is that line)."""
    text = _code(line) or line.strip()
    if not text or other is None:
        return False
    return text == (_code(other) or other.strip()) and _width(line) == _width(other)


def _code(line: str) -> str:
    """The line's text without indentation, trailing whitespace and a trailing `,` or `;`."""
    return line.strip().rstrip(",;").rstrip()


def _overlaps(line: str, other: str | None) -> bool:
    """Same indentation, and one line's code starts with the other's (`}` and `});`)."""
    if other is None or _width(line) != _width(other):
        return False
    a, b = line.strip(), other.strip()
    return a.startswith(b) or b.startswith(a)


def _is_closer(line: str, rules: Rules) -> bool:
    """A line that closes a block: `}`, `)`, `]`, `end`, `fi`, `done`, `esac`, `</tag>`."""
    text = line.strip()
    if not text:
        return False
    if text[0] in _CLOSE_OPEN or text.startswith("</"):
        return True
    word = _FIRST_WORD.match(text)
    return word is not None and word.group() in rules.closer_words


def _closes_own(before: list[str], line: str, ctx: CompletionContext) -> bool:
    """The closer `line` starts with closes a bracket the completion's lines `before` it opened (the
    `{` of a function body written after its signature) and the suffix does not close: a closer of
    the next line, at the same indentation, is then an outer block's (`} // extern "C"`, a
    namespace's), not this one."""
    opener = _CLOSE_OPEN.get(line.strip()[:1])
    return opener is not None and _net_brackets("\n".join(before), ctx.rules)[opener] > ctx.unopened[opener]


def _case_follows(line: str, next_line: str | None, rules: Rules) -> bool:
    """A closer before a `case`/`default` of the same level would end the switch the suffix goes on with."""
    if next_line is None or _width(next_line) != _width(line):
        return False
    word = _FIRST_WORD.match(next_line.strip())
    return word is not None and word.group() in ("case", "default") and word.group() in rules.clause_words


def _closers_needed(lines: list[str], ctx: CompletionContext) -> bool:
    """False when the completion closes more brackets of some kind than the text around the cursor
    leaves open: the suffix already closes what the prefix (and the completion) opened."""
    net = _net_brackets("\n".join(lines), ctx.rules)
    for opener, missing in ctx.open_brackets.items():
        if net.get(opener, 0) < -missing:
            return False
    return True


def _net_brackets(text: str, rules: Rules) -> dict[str, int]:
    """Openers minus closers of each bracket kind in `text`, strings skipped (naive rules)."""
    net = {"(": 0, "[": 0, "{": 0}
    for ch in _brackets(text, rules):
        if ch in _OPEN_CLOSE:
            net[ch] += 1
        elif ch in _CLOSE_OPEN:
            net[_CLOSE_OPEN[ch]] -= 1
    return net


def _depths(text: str, rules: Rules) -> tuple[dict[str, int], dict[str, int]]:
    """Per bracket kind, the depth at the end of `text` and the lowest depth on the way (from 0)."""
    depth = {"(": 0, "[": 0, "{": 0}
    lowest = dict(depth)
    for line in text.split("\n"):
        for opener, n in _net_brackets(line, rules).items():
            depth[opener] += n
            lowest[opener] = min(lowest[opener], depth[opener])
    return depth, lowest


def _is_clause(line: str, rules: Rules) -> bool:
    """A line that closes a block and opens another: `} else {`, `elif x:`, `except E:`."""
    text = line.strip()
    if not text or not rules.opens_block.search(text):
        return False
    word = _FIRST_WORD.match(text)
    return text[0] in _CLOSE_OPEN or (word is not None and word.group() in rules.clause_words)


def _clause_fits(line: str, next_line: str | None, rules: Rules) -> bool:
    """A dedented clause may end the completion only where the next document line leaves its level.

    `else:` / `elif x:` are let through when the next line of the document is indented less than
    the clause, or is a closer at its level (`end`, `fi`), or there is none; when the code below
    goes on at the clause's level (a statement or another clause of the same chain), the block
    ends before the clause. `except` / `finally` also fit before a statement at their level: the
    `try` needs a handler the code below does not give. A clause that starts with a closer
    (`} else {`) always fits: its closer is needed to end the block.
    """
    if next_line is None or line.strip()[0] in _CLOSE_OPEN:
        return True
    width, next_width = _width(line), _width(next_line)
    if next_width != width:
        return next_width < width
    if _is_closer(next_line, rules):
        return True
    word = _FIRST_WORD.match(line.strip())
    return word is not None and word.group() in rules.handler_words and not _is_clause(next_line, rules)


def _repeat_start(lines: list[str], i: int, ctx: CompletionContext | None = None) -> int | None:
    """Where the second copy starts if the block of lines ending at `i` repeats `_REPEATS` times,
    unless the document near the cursor repeats that block as often (a data table's equal rows):
    then where the copy starts that goes beyond the document's, if this one does, else None."""
    for period in range(1, min(_MAX_PERIOD, (i + 1) // _REPEATS) + 1):
        if lines[i].rstrip() != lines[i - period].rstrip():
            continue
        def copy(k: int) -> list[str]:  # the k-th block of `period` lines back from line `i`
            return [line.rstrip() for line in lines[i + 1 - (k + 1) * period:i + 1 - k * period]]

        blocks = [copy(k) for k in range(_REPEATS)]
        if all(block == blocks[0] for block in blocks) and any(blocks[0]):
            copies = _REPEATS
            while i + 1 - (copies + 1) * period >= 0 and copy(copies) == blocks[0]:
                copies += 1
            if ctx is None or not _document_repeats(blocks[0], _REPEATS, ctx):
                return i + 1 - (_REPEATS - 1) * period
            return i + 1 - period if not _document_repeats(blocks[0], copies, ctx) else None
    return None


def _document_repeats(block: list[str], copies: int, ctx: CompletionContext) -> bool:
    """The lines near the cursor hold `copies` copies of `block` in a row."""
    return "\n" + "\n".join(block * copies) + "\n" in ctx.nearby_lines


def _runaway(line: str) -> bool:
    """True when the line ends with one chunk (with a letter or digit) repeated many times."""
    if len(line) < _RUNAWAY_SPAN:
        return False
    for size in range(3, _RUNAWAY_MAX_CHUNK + 1):
        copies = max(_RUNAWAY_MIN_COPIES, -(-_RUNAWAY_SPAN // size))
        if size * copies > len(line):
            break
        chunk = line[-size:]
        if line.endswith(chunk * copies) and any(ch.isalnum() for ch in chunk):
            return True
    return False


# --- text fixes -------------------------------------------------------------------------------


def _fix_indent_style(lines: list[str], ctx: CompletionContext) -> list[str]:
    """Re-indent lines that use the other indentation style than the document (tabs vs spaces)."""
    style = ctx.indent_style
    if style is None:
        return lines
    first = 0 if not ctx.line_prefix.strip() else 1  # line 0 only indents on an empty cursor line
    if style == "\t":
        unit = _space_unit(lines[first:])
        return lines[:first] + [_tabify(line, unit) for line in lines[first:]]
    return lines[:first] + [_leading(line).replace("\t", style) + line.lstrip(" \t")
                            for line in lines[first:]]


def _space_unit(lines: list[str]) -> int:
    """Spaces per indentation level the model used: 2 when its indents step by 2, else 4."""
    step = 0
    for line in lines:
        step = gcd(step, _leading(line).count(" "))
    return 2 if step % 4 and step % 2 == 0 else 4


def _tabify(line: str, unit: int) -> str:
    """Turn each `unit` spaces of leading indentation into a tab."""
    lead = _leading(line)
    if " " not in lead:
        return line
    spaces = lead.count(" ")
    return "\t" * (lead.count("\t") + spaces // unit) + " " * (spaces % unit) + line[len(lead):]


def _lift_to_cursor(lines: list[str], ctx: CompletionContext, single_line: bool) -> list[str]:
    """On an empty cursor line, start the completion at the cursor instead of on a new line (none
    in single-line mode when its line is less indented than the cursor)."""
    if not ctx.on_blank_line or lines[0].strip():
        return lines
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return lines
    line = lines[first]
    if line.startswith(ctx.indent):
        line = line[len(ctx.indent):]
    elif _width(line) < _width(ctx.indent):
        return [] if single_line else lines  # dedented (`return` after a loop body): on its own line
    else:
        line = line.lstrip(" \t")
    return [line] + lines[first + 1:]


def _fit_line_suffix(text: str, ctx: CompletionContext) -> str:
    """Drop the end of `text` that repeats the text after the cursor on its line.

    Candidates drop the closers and quotes that start the line suffix, or the whole line suffix
    (from the end of the text or of its first line); the one leaving the line best balanced wins,
    the longest on ties. Trailing whitespace is dropped unless a word follows the cursor; when
    dropped closers leave an indented empty last line, it stays so the closers land there.
    """
    suffix = ctx.line_suffix
    head = suffix.lstrip()
    rest = suffix.strip()
    body = text.rstrip()
    candidates = [text]
    tail = ""
    for ch in reversed(body):
        if ch not in _CLOSERS:
            break
        tail = ch + tail
        if head.startswith(tail):
            candidates.append(body[:-len(tail)])
    if rest:
        for piece in (body, body.split("\n", 1)[0].rstrip()):
            if piece.endswith(rest):
                candidates.append(piece[:-len(rest)])
    # Ties go to the candidate that does not end with what follows the cursor (`foo,` before `,`),
    # then to one whose quotes do not run into the suffix's (`x""` + `"""` reads as `x` + an empty string).
    joins = bool(suffix) and suffix[0] in ctx.rules.quotes
    best = min(candidates, key=lambda c: (_imbalance(ctx.line_prefix + c + suffix, ctx.rules, ctx.closed_below),
                                          bool(rest) and c.rstrip().endswith(rest),
                                          joins and c.endswith(suffix[0]), -len(c)))
    if best is not text and "\n" in best and not best[best.rfind("\n") + 1:].strip():
        return best
    trimmed = best.rstrip()
    keep_spaces = bool(suffix) and not suffix[0].isspace() and suffix[0] not in _TRIM_BEFORE
    if keep_spaces and "\n" not in best[len(trimmed):]:
        return best
    return trimmed


def _imbalance(text: str, rules: Rules, closed_below: dict[str, int] | None = None) -> int:
    """Unmatched closers plus unclosed openers and strings in `text`; up to `closed_below[opener]`
    unclosed openers of a kind are no fault (the lines below close them)."""
    stack: list[str] = []
    bad = 0
    for ch in _brackets(text, rules):
        if ch in _OPEN_CLOSE:
            stack.append(ch)
        elif ch in _CLOSE_OPEN:
            if stack and stack[-1] == _CLOSE_OPEN[ch]:
                stack.pop()
            else:
                bad += 1
        else:  # a string cut by a line end, or still open at the end
            bad += 1
    if closed_below:
        bad -= sum(min(stack.count(opener), n) for opener, n in closed_below.items())
    return bad + len(stack)


_CHAR_LITERAL = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")


def _brackets(text: str, rules: Rules):
    """The brackets of `text` outside strings, a "\\n" for each string a line end cuts and the delimiter
    of a string still open at the end (naive rules: the language's quote characters, so a Rust
    `'a` lifetime is no quote; only its multi-line strings span lines, and triple-quoted ones). A keyword
    that opens or closes a block (Ruby's `def` ... `end`, shell's `if` ... `fi`) reads as `{` or `}`."""
    quote = ""  # the delimiter of the string being read: a quote character, or three
    escaped = commented = loop = False  # loop: a Ruby `while`/`until`/`for` opened a block on this line
    skip = 0
    for i, ch in enumerate(text):
        if skip:
            skip -= 1
        elif commented:  # a comment to the line's end: `// the opening {`
            commented = ch != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote[0] and text.startswith(quote, i):
                skip = len(quote) - 1
                quote = ""
            elif ch == "\n" and len(quote) == 1 and quote not in rules.multiline_quotes:
                quote = ""
                yield "\n"
        elif ch in rules.quotes:
            quote = ch * 3 if ch in rules.triple_quotes and text.startswith(ch * 3, i) else ch
            skip = len(quote) - 1
        elif ch == "'" and rules.char_literals and (literal := _CHAR_LITERAL.match(text, i)):
            skip = literal.end() - i - 1  # `'{'` is no brace
        elif rules.word_literal and ch in _LITERAL_WORD_STARTS and (end := rules.word_literal(text, i)) > i:
            skip = end - i - 1  # Perl's `s{\{}{}`, `qw( { )`: no brackets
        elif ch == "/" and rules.regex_literals and _regex_starts(text, i):
            quote = ch  # its text holds no brackets, quotes or keywords: `/class #{name}|`/`
        elif ch == "\\" and rules.escapes_outside_strings:
            skip = 1  # shell's `${x/\{/}`: an escaped brace is a character
        elif rules.comment and ch == rules.comment[0] and text.startswith(rules.comment, i) \
                and not (rules.comment_at_word and i and not text[i - 1].isspace() and text[i - 1] not in ";|&(") \
                and not (rules.interpolation and text.startswith(rules.interpolation, i)):
            commented = True
        elif ch in _OPEN_CLOSE or ch in _CLOSE_OPEN:
            yield ch
        elif ch == "\n" or ch == ";":
            loop = False
        elif rules.block_openers and (ch.isalpha() or ch == "_") and (word := _block_word(text, i, rules)):
            skip = len(word) - 1
            if word in rules.block_closers:
                yield "}"
            elif word == "do" and loop:
                loop = False  # Ruby's `while x do`: the loop's own `do`
            else:
                loop = word in ("while", "until", "for")
                yield "{"
    if quote:
        yield quote


_LITERAL_WORD_STARTS = frozenset("qmsty")  # the first letters of Perl's quote-like operators
_REGEX_AFTER = frozenset("=~(,|&!;{[?:")
_REGEX_AFTER_WORDS = frozenset({"when", "if", "unless", "elsif", "while", "until", "and", "or", "not", "return",
                                "split", "grep"})


def _regex_starts(text: str, i: int) -> bool:
    """The `/` at `text[i]` opens a regular expression: it starts an operand (after an operator, an opening
    bracket, a keyword or at the line's start) and no space or `=` follows it (`a / b`, `x /= 2`)."""
    if text[i + 1:i + 2] in ("", " ", "\t", "\n", "="):
        return False
    j = i
    while j and text[j - 1] in " \t":
        j -= 1
    return not j or text[j - 1] == "\n" or text[j - 1] in _REGEX_AFTER \
        or trailing_word(text[max(0, j - 8):j]) in _REGEX_AFTER_WORDS


_WORD = re.compile(r"[A-Za-z_]\w*")
_NOT_BEFORE_KEYWORD = frozenset("._$@:-/")  # `x.end`, `:if`, `$done`, `@class`, `run-if`
_NOT_AFTER_KEYWORD = frozenset("_?!:=-/.")  # `end?`, `if:`, `done=1`, `do-it`; `end.map` is Ruby's end


def _block_word(text: str, i: int, rules: Rules) -> str:
    """The keyword that opens or closes a block at `text[i]` (`def`, `end`, `fi`), or ""."""
    if i and (text[i - 1].isalnum() or text[i - 1] in _NOT_BEFORE_KEYWORD):
        return ""
    found = _WORD.match(text, i)
    word = found.group() if found else ""
    if word not in rules.block_openers and word not in rules.block_closers:
        return ""
    after = text[i + len(word):i + len(word) + 1]
    if after and (after.isalnum() or after in _NOT_AFTER_KEYWORD) and not (after == "." and word == "end"):
        return ""
    if word in rules.statement_words:
        j = i
        while j and text[j - 1] in " \t":
            j -= 1
        if j and text[j - 1] != "\n" and text[j - 1] not in rules.statement_after \
                and trailing_word(text[max(0, j - 8):j]) not in rules.statement_after:
            return ""  # Ruby's `return x if y`, shell's `echo done`
    return word


def _leading(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _width(line: str) -> int:
    return len(_leading(line).expandtabs(TAB_WIDTH))

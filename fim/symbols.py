"""Cut the definitions of named symbols out of a source file, as context for the file importing them.

Pure and tolerant of broken code: each language's definitions model comes from the registry
(`fim.languages`): tree-sitter for the brace languages, indentation for Python. Short definitions are kept whole;
long ones are reduced to their signatures (a class keeps its header, docstring, fields and method
signatures) with ``...`` where a body was left out. When none of the names is found the head of the
file is returned, or, for a file too long for that, its outline. `brief` renders an installed package's
definitions as its API: signatures and the docstrings' first lines (Python), a class's public methods only;
JavaScript and TypeScript declarations shortened as `extract` does, without their comments but for the first
line of the leading one (`fim.languages.javascript.without_comments`), and no others beside the names asked for
in a file of ``declare module "x"`` blocks (@types/node: hundreds of declarations per module).
A file is parsed once per version (a memo of 192 parsed files); `defined_names`, asked of every file a document
imports, keeps its answers in a `fim.memo.TextMemo` (bounded by characters, not by a count smaller than one
request's files), and so do the signatures of an installed file's public definitions (`brief`'s others, asked for
at each new cursor: numpy's stubs have hundreds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence

from fim import languages
from fim.memo import text_memo
from fim.similarity import STOPWORDS, split_lines


@dataclass(frozen=True)
class Extract:
    """Text cut from a file and the zero-based, end-exclusive line ranges it came from."""

    text: str
    spans: tuple[tuple[int, int], ...]
    found: bool  # False when this is the head/outline fallback


def extract(text: str, language: str, names: Iterable[str], max_chars: int = 4000, others: bool = False) -> Extract:
    """The definitions (or signatures) of the named top-level symbols of `text`, in file order, and
    the lines of `text` they cover.

    Falls back to the head of the file (or its outline if the file is longer than `max_chars`)
    when no name is found. With `others`, the room the named definitions leave goes to the
    signatures of the file's other definitions (a package sibling: what the cursor may call next).
    The result is at most `max_chars` long, cut at a line end. `language` is a languageId or a
    language name.
    """
    return _extract(text, language, tuple(dict.fromkeys(n for n in names if n)), max_chars, others)


@lru_cache(maxsize=256)
def _extract(text: str, language: str, names: tuple[str, ...], max_chars: int, others: bool = False) -> Extract:
    text = _normalize(text)
    model = _model(text, language)
    lines = model.lines if model is not None else _plain_lines(text)
    if not lines:
        return Extract("", (), False)
    if model is not None and names:
        blocks = _with_runs(model, model.find(names), max_chars)
        if blocks:
            cut = _fit(model, blocks, max_chars)
            return _with_others(model, cut, max_chars) if others else cut
    if others and model is not None and len(text) > max_chars:
        return _with_others(model, Extract("", (), False), max_chars)
    if len(text) <= max_chars:
        return Extract(text, ((0, len(lines)),), False)
    if model is not None:
        outline = model.outline()
        if outline:
            return Extract(_truncate(outline, max_chars), ((0, len(lines)),), False)
    head = _truncate(text, max_chars)
    return Extract(head, ((0, head.count("\n") + 1),), False)


# A one-line constant: ``#define NAME value`` (not a continued one, nor a function-like macro), or an UPPER_CASE
# name assigned on its line (``NAME = 1``, ``export const NAME = 1;``, ``public static final String NAME = "x";``,
# ``pub const NAME: &str = "x";``). Of a run of them, those sharing a prefix come together.
_CONSTANT = re.compile(
    r"[ \t]*(?:#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])[^\\\n]*"
    r"|(?:(?:export|pub(?:\([^)]*\))?|public|private|protected|internal|static|final|const|readonly)[ \t]+)*"
    r"(?:[\w.<>\[\]?]+[ \t]+)?([A-Z][A-Z0-9]*_[A-Z0-9_]*)[ \t]*(?::[^=\n]*)?=(?![=~])[^\n]*)$")
MAX_CONSTANT_RUN = 32


def constant_runs(lines: Sequence[str], spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` (sorted line ranges [start, end) of found definitions), one ending on a constant widened to the run
    of constants next to it sharing its name's prefix (up to its last underscore), at most MAX_CONSTANT_RUN lines
    each way, up to the lines of the other spans (each stays its own): Pillow's ``IMAGING_CODEC_END`` beside the
    ``IMAGING_CODEC_MEMORY`` the file uses, rack's ``RACK_LOGGER`` beside ``RACK_ERRORS``, as an enum's members
    come together."""
    covered = {k for start, end in spans for k in range(start, end)}
    out: list[tuple[int, int]] = []
    for start, end in spans:
        m = _CONSTANT.match(lines[end - 1]) if 0 < end <= len(lines) else None
        name = (m.group(1) or m.group(2)) if m else ""
        prefix = name[:name.rfind("_") + 1]
        if len(prefix) >= 3:
            def same(k: int) -> bool:
                other = _CONSTANT.match(lines[k]) if k not in covered else None
                return other is not None and (other.group(1) or other.group(2)).startswith(prefix)

            low, high = start, end
            while low > 0 and start - low < MAX_CONSTANT_RUN and same(low - 1):
                low -= 1
            while high < len(lines) and high - end < MAX_CONSTANT_RUN and same(high):
                high += 1
            start, end = low, high
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _with_runs(model, blocks: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """`blocks` with their `constant_runs` where those fit `max_chars` whole (a short cut keeps the constant asked
    for rather than the first lines of its run)."""
    runs = constant_runs(model.lines, blocks)
    if runs != blocks and sum(len(model.render(s, e)) + 2 for s, e in runs) - 2 <= max_chars:
        return runs
    return blocks


def brief(text: str, language: str, names: Iterable[str], max_chars: int, others: bool = False,
          bare: bool = False) -> Extract:
    """The named definitions of `text` as an installed package's API, in file order, within `max_chars` (a
    Python name's first ``@overload`` before any name's second): each one's brief rendering where its language has one (Python: signatures and the docstrings' first lines),
    else what `extract` keeps of it (whole when short: a ``.d.ts`` declaration is a signature already), from the
    model's ``brief_tiers`` where it has them (JavaScript, TypeScript: without comments); with
    `others`, the signatures of the file's other public definitions (not ``_private``) in the room left; with
    `bare`, each one's signature alone, without the comment lines above it and a Python name's later overloads
    (the member's names past those its snippet shows: about twice as many of Neovim's documented functions fit).
    Empty (found False) when no name is defined in `text`."""
    names = tuple(dict.fromkeys(n for n in names if n))
    if others:
        return _brief_with_others(_normalize(text), language, names, max_chars)
    return _brief(_normalize(text), language, names, max_chars, bare)


@lru_cache(maxsize=128)  # a bundle's .d.ts has hundreds of definitions to render: once per set of names
def _brief_with_others(text: str, language: str, names: tuple[str, ...], max_chars: int) -> Extract:
    cut = _brief(text, language, names, max_chars, False)
    return _public_others(text, language, cut, max_chars) if cut.found else cut


def _public_others(text: str, language: str, cut: Extract, max_chars: int) -> Extract:
    """`cut`, then the signature of each other public definition of the file that fits, in file order (none in
    a file of ``declare module "x"`` blocks: with them, a 4K prompt lost @types/node's definitions asked for)."""
    if any(n.startswith(('"', "'")) for n in defined_names(text, language)):
        return cut  # ``declare module "net" { ... }`` blocks (@types/node): the names asked for only
    pieces = [cut.text] if cut.text else []
    size, taken = len(cut.text), list(cut.spans)
    for s, e, piece in _public_signatures(text, language):  # as `_others` renders them
        if size + len(piece) + 2 > max_chars or any(s < b and a < e for a, b in cut.spans):
            continue
        pieces.append(piece)
        size += len(piece) + 2
        taken.append((s, e))
    return Extract("\n\n".join(pieces), tuple(sorted(taken)), True)


@text_memo  # asked at each new cursor of each installed file the document uses (numpy's stubs: hundreds)
def _public_signatures(text: str, language: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, rendering) of each public definition of `text` (not ``_private``), in file order: its
    shortest rendering without the comment lines above it (Rust's, Go's ``brief_attached``: docs)."""
    model = _model(text, language)
    public = tuple(sorted(n for n in model.defined() if not n.startswith("_")))
    marks = getattr(model, "brief_attached", None) or getattr(model, "attached", ())
    head = getattr(model, "head", None) or (lambda s, e: model.tiers(s, e)[0])
    return tuple((s, e, _without_comments_above(head(s, e), marks)) for s, e in model.find(public))


def _others(model, cut: Extract, names: tuple[str, ...], max_chars: int,
            marks: Optional[tuple[str, ...]] = None) -> tuple[list[str], list[tuple[int, int]]]:
    """The pieces and spans of `cut` (if any text) followed by the shortest rendering of each definition of
    `names` outside it that fits in `max_chars`, in file order, without the comment lines above it that start
    with `marks` (default: the model's ``attached``)."""
    marks = getattr(model, "attached", ()) if marks is None else marks
    pieces = [cut.text] if cut.text else []
    size, taken = len(cut.text), list(cut.spans)
    # the head alone where the model renders it alone (Python: a class's outline is not rendered for nothing)
    head = getattr(model, "head", None) or (lambda s, e: model.tiers(s, e)[0])
    for s, e in model.find(names):
        if any(s < b and a < e for a, b in cut.spans):
            continue
        text = _without_comments_above(head(s, e), marks)
        if size + len(text) + 2 > max_chars:
            continue
        pieces.append(text)
        size += len(text) + 2
        taken.append((s, e))
    return pieces, taken


@lru_cache(maxsize=128)
def _brief(text: str, language: str, names: tuple[str, ...], max_chars: int, bare: bool = False) -> Extract:
    model = _model(text, language)
    blocks = _with_runs(model, model.find(names), max_chars) if model is not None and names else []
    if not blocks:
        return Extract("", (), False)
    render = getattr(model, "brief", None)
    if render is None and not bare:  # shortened as `extract` does, by ``brief_tiers`` where the model has them
        return _fit(model, blocks, max_chars, getattr(model, "brief_tiers", None))
    # each name's first overload before any name's second (numpy's stubs: three ``norm`` signatures took the room
    # of the later names asked for), then the other overloads in the room left; shown in file order
    lines = getattr(model, "lines", None) or ()
    overloaded = [_overloaded(lines, s, e) for s, e in blocks]  # the function's name where it is an overload
    later = [k > 0 and overloaded[k] is not None and overloaded[k] == overloaded[k - 1] for k in range(len(blocks))]
    if bare:
        firsts = [block for block, again in zip(blocks, later) if not again]
        signatures = {(s, e): (_signature(model, s, e),) for s, e in firsts}
        return _fit(model, firsts, max_chars, lambda s, e: signatures[(s, e)])
    chosen: dict[tuple[int, int], str] = {}
    size = 0
    for second in (False, True):
        for k, (s, e) in enumerate(blocks):
            if later[k] != second:
                continue
            piece = render(s, e)
            cost = len(piece) + (2 if chosen else 0)
            if size + cost > max_chars:
                if not chosen:
                    chosen[(s, e)] = _truncate(piece, max_chars)
                    size = len(chosen[(s, e)])
                continue
            chosen[(s, e)] = piece
            size += cost
    spans = sorted(chosen)
    return Extract("\n\n".join(chosen[span] for span in spans), tuple(spans), True)


_OVERLOAD = ("@overload", "@typing.overload", "@t.overload")
_COMMENT_STARTS = ("//", "/*", "*")  # a line of a C-like comment (no line of code begins so)
_DEF_NAME = re.compile(r"\s*(?:async\s+)?def\s+(\w+)")


def _signature(model, start: int, end: int) -> str:
    """The shortest rendering of lines [start, end) (a brief one's where the model has them) without the comment
    lines above it: Lua's ``---`` and JavaScript's ``/** ... */`` first lines of documentation, Rust's ``#[...]``."""
    head = getattr(model, "head", None) or (lambda s, e: (getattr(model, "brief_tiers", None) or model.tiers)(s, e)[0])
    marks = tuple(dict.fromkeys(getattr(model, "attached", ()) + (getattr(model, "brief_attached", None) or ())
                                + _COMMENT_STARTS))
    return _without_comments_above(head(start, end), marks)


def _overloaded(lines: Sequence[str], start: int, end: int) -> Optional[str]:
    """The name of the function defined at `start` where a Python ``@overload`` decorates it, else None."""
    if start >= len(lines) or not lines[start].lstrip().startswith(_OVERLOAD):
        return None
    for line in lines[start:min(end, len(lines))]:
        m = _DEF_NAME.match(line)
        if m is not None:
            return m.group(1)
    return None


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@lru_cache(maxsize=64)
def _plain_lines(text: str) -> list[str]:
    return split_lines(text)


# Parsed files by text (and language): one parse per version of a file, whatever names are asked.
@lru_cache(maxsize=192)
def _model(text: str, language: str):
    entry = languages.get(language)
    if entry is None or entry.model is None:
        return None
    return entry.model(text, split_lines(text))


def parsed(text: str, language: str):
    """The language's model of `text` (one parse per version of a file), or None for a language without one."""
    return _model(_normalize(text), language)


def defines(text: str, language: str, name: str) -> bool:
    """True when `name` is a top-level definition (or one guarded by a module-level if/try) of `text`."""
    return name in defined_names(text, language)


@text_memo  # one request asks it of every file the document imports: thousands, 4,000 times a keystroke
def defined_names(text: str, language: str) -> frozenset:
    """Every name `text` defines at the top level (and a Java class's members)."""
    model = _model(_normalize(text), language)
    return model.defined() if model is not None else frozenset()


def _fit(model, blocks: list[tuple[int, int]], max_chars: int, tiers_of=None) -> Extract:
    """Every found definition within `max_chars`: first each one's head (signature), then its
    outline, then its whole text, in file order while the room lasts; a definition too long for
    what is left is cut at a line end rather than dropped. `tiers_of(start, end)` gives the renderings
    (default: the model's ``tiers``, the last one its whole text)."""
    wholes = [model.render(s, e) for s, e in blocks] if tiers_of is None else [tiers_of(s, e)[-1] for s, e in blocks]
    if sum(len(t) + 2 for t in wholes) - 2 <= max_chars:
        return Extract("\n\n".join(wholes), tuple(blocks), True)
    tiers = [(tiers_of or model.tiers)(s, e) for s, e in blocks]
    level = [0] * len(blocks)
    texts = [t[0] for t in tiers]

    def used() -> int:
        return sum(len(t) + 2 for t in texts if t) - 2

    total = used()
    if total > max_chars:
        # Even the signatures do not all fit: keep those that do, in file order, at least the first; the one past
        # them cut at a line end where that keeps some of it (a namespace's 48 members asked for are one block)
        out: list[str] = []
        spans: list[tuple[int, int]] = []
        size = 0
        for (s, e), t in zip(blocks, texts):
            cost = len(t) + (2 if out else 0)
            if size + cost > max_chars:
                left = max_chars - size - 2  # after the blank line between definitions
                cut = (t[:max(0, t.rfind("\n", 0, left + 1))] if left > 0 else "") if out else _truncate(t, max_chars)
                if cut.strip():
                    out.append(cut)
                    spans.append((s, e))
                break
            out.append(t)
            spans.append((s, e))
            size += cost
        return Extract("\n\n".join(out), tuple(spans), True)
    for step in (1, 2):
        for k, t in enumerate(tiers):
            if step < len(t) and level[k] < step:
                grow = len(t[step]) - len(texts[k])
                if total + grow <= max_chars:
                    texts[k], level[k] = t[step], step
                    total += grow
    # The room left goes to the start of the first definition still shortened.
    for k, t in enumerate(tiers):
        top = t[-1]
        if texts[k] != top and max_chars - total > 80:
            cut = _truncate(top, len(texts[k]) + max_chars - total)
            if len(cut) > len(texts[k]) + 40:
                total += len(cut) - len(texts[k])
                texts[k] = cut
    return Extract("\n\n".join(texts), tuple(blocks), True)


def _with_others(model, cut: Extract, max_chars: int) -> Extract:
    """`cut`, then the shortest rendering of every other definition of the file that fits, in
    file order."""
    pieces, taken = _others(model, cut, tuple(sorted(model.defined())), max_chars)
    if not pieces:
        return Extract(_truncate(model.outline(), max_chars), ((0, len(model.lines)),), False)
    return Extract("\n\n".join(pieces), tuple(sorted(taken)), cut.found)


def _without_comments_above(text: str, marks: tuple[str, ...]) -> str:
    """A definition's rendering without the comment lines above it (the others of a file come as their
    signatures: their documentation would crowd the rest out)."""
    lines = text.split("\n")
    k = 0
    while k < len(lines) - 1 and lines[k].strip().startswith(marks):
        k += 1
    return "\n".join(lines[k:])


_DEPRECATED = re.compile(r"@(?:\w+\.)*[Dd]eprecated\b|\bDeprecated:|#\[deprecated\b")
_ABOVE = _COMMENT_STARTS + ("--", "#", "@")  # the comment, attribute and decorator lines above a definition
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_NAMED = re.compile(r"([A-Za-z_$][\w$]*)[ \t]*(?:<[^>\n]*>)?[ \t]*(?:\(|\??:|=(?!=))")  # ``f(``, ``x?:``, ``X =``


@text_memo  # asked at each keystroke of a member being typed, of the file offering its names
def deprecated_names(text: str, language: str) -> frozenset:
    """The names `text` defines under a comment, attribute or decorator line that marks them deprecated (``---
    @deprecated``, ``/** @deprecated ... */``, Go's ``// Deprecated:``, Rust's ``#[deprecated]``, ``@Deprecated``,
    Python's ``@deprecated(...)``): on the first line of code below, the first word (no keyword) before ``(``,
    ``:`` or ``=``, else its last word before any ``{`` (``class Foo {``)."""
    if not _DEPRECATED.search(text):
        return frozenset()
    lines = split_lines(_normalize(text))
    out = set()
    for k, line in enumerate(lines):
        if not _DEPRECATED.search(line) or not line.lstrip().startswith(_ABOVE):
            continue
        code = next((row for row in lines[k + 1:k + 40] if row.strip() and not row.lstrip().startswith(_ABOVE)), "")
        named = [m.group(1) for m in _NAMED.finditer(code) if m.group(1) not in STOPWORDS]
        words = named or [w for w in _IDENTIFIER.findall(code.partition("{")[0]) if w not in STOPWORDS][-1:]
        out.update(words[:1])
    return frozenset(out)


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars + 1)
    return text[:cut] if cut > 0 else text[:max_chars]

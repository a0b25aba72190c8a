"""Which of a big module's names a project is likely to type next: the names its other files use. Pure.

After ``ts.|``, ``scipy.special.|`` or ``ts.SyntaxKind.|`` a module offers hundreds or thousands of names and the
prompt's share for them has room for SHOWN (up to MAX_MORE where it has room left); the first ones in the module's
order are nearly never the one being typed. `ProjectUses.rank` puts first the names the workspace's other files use
after the same qualifier (``SyntaxKind.Identifier``, ``special.gamma``, ``flag.Parse``) by how many files do (ties:
by the files using them as any member, after ``.``, ``::``, ``->``, then as any word), then the rest in the module's
order. Names used only
as another member or word are not put first: cobra's ``String``, ``Bool``, ``Set`` (also pflag's functions) took
the room of pflag's names in module order (fresh member recall 0.859 -> 0.641 at 16K). Next come the names that
words at the cursor name part of (`cued`: ``local wininfo = vim.fn.|`` -> ``getwininfo``, ``const config = ts.|``
-> ``parseConfigFileTextToJson``, ``ArrayNodeParser.ts`` -> ``ts.ArrayTypeNode``), at most half the room the
project's uses leave. A list of at most the limit comes whole, in that order too: the files defining the
first names come first (`fim.context` shows the member's names of MAX_DEPENDENCY_FILES files: httpcore's
``ConnectionPool`` was in its 14th).

A file's uses are read once per text (`fim.memo`); the sums over the workspace are kept per workspace and updated
by the files whose text changed since the last call (compared by identity: the snapshot shares the index's
strings), so a keystroke reads no file's text again (a big workspace's first reading spread over calls,
`UPDATE_CHARS` each: 35 MB took 4-9 s); the document being edited is not counted. Only the texts the
workspace holds are read (`loaded()` of the server's snapshot: no file known by name only is read from disk).
Thread-safe: the sums are counted and read under one lock; a name no file uses any more is dropped from them.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import Counter, OrderedDict
from functools import lru_cache
from itertools import islice
from math import log
from typing import Callable, Mapping, NamedTuple, Optional, Sequence

from fim.memo import text_memo
from fim.similarity import STOPWORDS

Ranker = Callable[[Sequence[str], str, int], list[str]]  # (names in the module's order, qualifier, limit)
WORKSPACES = 4  # the workspaces whose sums are kept
SHOWN = 48  # names offered for the member being typed that its own share of the prompt shows (`fim.context`)
MAX_MORE = 256  # names offered at most where the prompt has room for more than SHOWN
UPDATE_CHARS = 2_000_000  # characters of new or changed texts read per call (a big workspace: over a few calls)
_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")  # a camelCase or snake_case identifier's parts
CUE_CHARS = 4  # the shortest word of the cue looked for in the names
# (lowercased) they say nothing of the name being typed: keywords, and files' names like index.ts, __init__.py
CUE_STOPWORDS = STOPWORDS | {"local", "then", "elseif", "until", "repeat", "value", "values", "object", "pcall",
                             "require", "number", "boolean", "index", "init", "main", "utils", "test", "tests", "spec"}
_MEMBER = re.compile(r"(?<![\w$])([A-Za-z_$][\w$]*)(?=[ \t]*(?:\??\.|::|->)[ \t]*([A-Za-z_$][\w$]*))")


class FileUses(NamedTuple):
    words: frozenset[str]  # every identifier of the file
    members: frozenset[str]  # those after ``.``, ``::`` or ``->``
    pairs: frozenset[tuple[str, str]]  # (the word before, the member): ``("SyntaxKind", "Identifier")``


@text_memo
def file_uses(text: str) -> FileUses:
    """The identifiers `text` uses, those used as a member, and each member with the word qualifying it."""
    pairs = frozenset(_MEMBER.findall(text))
    return FileUses(frozenset(_WORD.findall(text)), frozenset(m for _, m in pairs), pairs)


class _Sums:
    """How many of a workspace's files use each word, member and pair, with the uses counted per path."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[str, FileUses]] = {}
        self.skipped = ""  # the document being edited at the last update
        self.words: Counter[str] = Counter()
        self.members: Counter[str] = Counter()
        self.after: dict[str, Counter[str]] = {}  # qualifier -> member -> files using ``qualifier.member``

    def _count(self, uses: FileUses, sign: int) -> None:
        """Add (`sign` 1) or take away (-1) a file's uses; a name no file uses any more is dropped."""
        for counter, keys in ((self.words, uses.words), (self.members, uses.members)):
            if sign > 0:
                counter.update(keys)
                continue
            counter.subtract(keys)
            for key in keys:
                if not counter[key]:
                    del counter[key]
        for qualifier, member in uses.pairs:
            counts = self.after.setdefault(qualifier, Counter())
            counts[member] += sign
            if not counts[member]:
                del counts[member]
                if not counts:
                    del self.after[qualifier]

    def update(self, texts: Mapping[str, str], skipped: str) -> None:
        """Count `texts` but `skipped` (the document being edited): only the paths whose text changed, those past
        UPDATE_CHARS characters at a later call."""
        self.skipped = skipped
        for path in [p for p in self.held if p == skipped or p not in texts]:
            self._count(self.held.pop(path)[1], -1)
        budget = UPDATE_CHARS
        for path, text in texts.items():
            held = self.held.get(path)
            if path == skipped or held is not None and held[0] is text:
                continue
            if budget <= 0:
                break
            budget -= len(text)
            uses = file_uses(text)
            if held is not None:
                self._count(held[1], -1)
            self.held[path] = (text, uses)
            self._count(uses, 1)


_WORKSPACES: OrderedDict[int, _Sums] = OrderedDict()
_LOCK = threading.Lock()


def _sums(texts: Mapping[str, str], current_path: str) -> _Sums:
    """The sums of the workspace `texts` belongs to (the latest one holding `current_path`), brought up to date."""
    with _LOCK:
        key = next((k for k, s in reversed(_WORKSPACES.items()) if current_path in s.held
                    or current_path == s.skipped or len(s.held.keys() & texts.keys()) * 2 > len(texts)), None)
        sums = _WORKSPACES.pop(key) if key is not None else _Sums()
        sums.update(texts, current_path)
        _WORKSPACES[id(sums)] = sums
        while len(_WORKSPACES) > WORKSPACES:
            _WORKSPACES.popitem(last=False)
        return sums


class ProjectUses:
    """The workspace's uses of names, read on the first `rank` that needs them (a lone name needs none), and the
    words at the cursor (`cue`: the file's name and the cursor line's text before the cursor)."""

    def __init__(self, files: Mapping[str, str], current_path: str, cue: str = "") -> None:
        self.files = files
        self.current_path = current_path
        self.cue = cue
        self._sums: Optional[_Sums] = None
        self.promoted: set[str] = set()  # the names `rank` put first of a list past its limit (last parts)

    def rank(self, names: Sequence[str], qualifier: str = "", limit: int = SHOWN) -> list[str]:
        """At most `limit` of `names` (a module's offered names in its order): those the workspace's other files
        use first, then those the cue's words name part of (at most half the room left: `cued`), then the rest in
        module order (see the module's docstring); all of them where they fit, in that order too (the files
        defining the first come first: `fim.context` shows the member's names of MAX_DEPENDENCY_FILES files)."""
        if len(names) <= 1:
            return list(names)
        if self._sums is None:
            loaded = getattr(self.files, "loaded", None)
            self._sums = _sums(loaded() if callable(loaded) else self.files, self.current_path)
        sums = self._sums
        with _LOCK:  # another thread's `_sums` may be counting into the same sums
            counts = sums.after.get(qualifier)
            used = [(member, n, sums.members[member], sums.words[member])
                    for member, n in counts.items() if n > 0] if counts else []
        if not used and not self.cue:
            return list(names[:limit])
        names = tuple(names)
        positions = _positions(names)  # the used members looked up, not every name scored
        hits = sorted((-n, -members, -words, positions[member]) for member, n, members, words in used
                      if member in positions)
        chosen = [k for *_, k in hits[:limit]]
        if self.cue and len(chosen) < limit:
            taken = set(chosen)
            chosen += [k for k in cued(names, self.cue) if k not in taken][:(limit - len(chosen)) // 2]
        if len(names) > limit:  # (all shown: none needs the room first)
            self.promoted.update(last(names[k]) for k in chosen)
        taken = set(chosen)
        rest = (k for k in range(len(names)) if k not in taken)
        return [names[k] for k in chosen + list(islice(rest, limit - len(chosen)))]

    def files_using(self, word: str) -> int:
        """How many of the workspace's other files use `word` as an identifier (`fim.typedclasses`' ranking of a
        package's class names being typed)."""
        if self._sums is None:
            loaded = getattr(self.files, "loaded", None)
            self._sums = _sums(loaded() if callable(loaded) else self.files, self.current_path)
        return max(0, self._sums.words[word])


@lru_cache(maxsize=16)  # a module's names asked again at each keystroke
def _positions(names: tuple[str, ...]) -> dict[str, int]:
    """Each name's last part -> its first position in `names`."""
    out: dict[str, int] = {}
    for k, name in enumerate(names):
        out.setdefault(last(name), k)
    return out


@lru_cache(maxsize=16)  # asked twice a request (`SHOWN` names, then `MAX_MORE`)
def cued(names: tuple[str, ...], cue: str) -> tuple[int, ...]:
    """The positions of `names` whose last parts contain a word of `cue` (an identifier, or a camelCase or
    snake_case part of one, of 4 characters or more, no keyword: ``wininfo`` of ``local wininfo = vim.fn.`` in
    ``getwininfo``, ``Array`` of ArrayNodeParser.ts in ``ArrayTypeNode``), best first: a word weighs the more the
    fewer names hold it (log(n / names holding it)), and one that more than one name in 16 holds is none (``node``
    among TypeScript's names, ``nvim`` among Neovim's API). One position for each last part."""
    words = {w for word in _WORD.findall(cue) for w in (word.strip("_$"), *_PART.findall(word))
             if len(w) >= CUE_CHARS and w.lower() not in CUE_STOPWORDS}
    if not words:
        return ()
    text, starts = _lowered(names)
    most = len(names) // 16
    score: dict[int, float] = {}
    for word in {w.lower() for w in words}:
        holding: set[int] = set()
        at = text.find(word)
        while at >= 0 and len(holding) <= most:
            holding.add(bisect_right(starts, at) - 1)
            at = text.find(word, at + 1)
        if holding and len(holding) <= most:
            weight = log(len(names) / len(holding))
            for k in holding:
                score[k] = score.get(k, 0.0) + weight
    seen: set[str] = set()
    out = []
    for k in sorted(score, key=lambda k: (-score[k], k)):
        if last(names[k]) not in seen:
            seen.add(last(names[k]))
            out.append(k)
    return tuple(out)


@lru_cache(maxsize=16)  # a module's names asked again at each keystroke
def _lowered(names: tuple[str, ...]) -> tuple[str, tuple[int, ...]]:
    """The names' last parts lowercased, a line each, and where each one starts in that text."""
    parts = [last(n).lower() for n in names]
    starts, at = [], 0
    for part in parts:
        starts.append(at)
        at += len(part) + 1
    return "\n".join(parts), tuple(starts)


def last(name: str) -> str:
    """A name's last part: Ruby's ``Rack::Head``, a namespace member's ``ts.SyntaxKind.Identifier``."""
    return name.rpartition("::")[2].rpartition(".")[2]

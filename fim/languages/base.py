"""What every language entry is made of: the import record, the path index resolution works on,
the post-processing rules, and the `Language` entry itself. Pure: text in, paths out."""

from __future__ import annotations

import posixpath
import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Optional


@dataclass(frozen=True)
class ImportRef:
    """One import statement's target.

    `module` is spelled as in the source: "pkg.mod", ".sibling" (Python, leading dots give the
    level), "./util" (JS/TS), "github.com/x/y/pkg" (Go), "crate::a::b" or "mod:name" for
    ``mod name;`` (Rust), "a.b.C" or "a.b.*" (Java), "dir/x.h" (C/C++). `names` are the symbols
    the statement (or, for module imports, the file's ``alias.name`` uses) brings in; `star` marks
    an import of everything (``export * from``, ``use x::*``, ``from x import *``).
    """

    module: str
    names: tuple[str, ...] = ()
    language: str = ""
    line: int = 0  # zero-based line of the statement
    system: bool = False  # C/C++ ``#include <...>``
    star: bool = False
    block: tuple[int, ...] = ()  # (first, last) zero-based lines of the block it is visible in (Rust's ``use`` in a fn)


MAX_WHOLE_LINES = 40  # a definition up to this many lines is kept whole (longer ones are outlined)
# Spaces, then type arguments and the spaces after them, before a generic function's ``(`` (``name<K, List<V>>(``):
# one run of spaces where there are none, since two ``[ \t]*`` around an optional group split a run of spaces
# every way (a line of 20,000 spaces: 1.3 s a keystroke).
TYPE_ARGUMENTS = r"[ \t]*(?:<(?:[^<>()\n]|<[^<>()\n]*>)*>[ \t]*)?"

# Files that resolution reads besides the paths (module paths, crate names, path aliases, include folders).
CONFIG_NAMES = ("go.mod", "Cargo.toml", "tsconfig.json", "jsconfig.json", "package.json", "compile_commands.json",
                "composer.json", "pubspec.yaml")


class PathIndex:
    """Lookups over a set of workspace paths: by full path, by basename and by directory, plus the
    text of the configuration files resolution reads (`CONFIG_NAMES`).

    Build one with `fim.imports.path_index` to share it across many `resolve` calls; it is a Collection.
    """

    def __init__(self, paths: Iterable[str], configs: Optional[Mapping[str, str]] = None) -> None:
        self.paths = frozenset(paths)
        self.resolved: dict[tuple[ImportRef, str], list[str]] = {}  # memo of `resolve` over these paths
        self.derived: dict[Any, Any] = {}  # per-language tables built from the configs
        self.by_name: dict[str, list[str]] = {}
        self.by_dir: dict[str, list[str]] = {}
        for p in sorted(self.paths):
            d, _, n = p.rpartition("/")
            self.by_name.setdefault(n, []).append(p)
            self.by_dir.setdefault(d, []).append(p)
        self.configs: dict[str, str] = {}
        if configs:
            self.set_configs(configs)

    def set_configs(self, configs: Mapping[str, str]) -> None:
        """The texts of the configuration files; a change forgets what was derived from them."""
        configs = {p: t for p, t in configs.items() if p in self.paths}
        if configs != self.configs:
            self.configs = dict(configs)
            self.derived.clear()
            self.resolved.clear()

    def config(self, path: str) -> Optional[str]:
        return self.configs.get(path)

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def __iter__(self):
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def with_suffix(self, suffix: str) -> list[str]:
        """Paths equal to `suffix` or ending with "/suffix", shortest first."""
        name = suffix.rpartition("/")[2]
        found = [p for p in self.by_name.get(name, ()) if p == suffix or p.endswith("/" + suffix)]
        return sorted(found, key=lambda p: (p.count("/"), p))

    def dirs_with_suffix(self, suffix: str) -> list[str]:
        return sorted((d for d in self.by_dir if d == suffix or d.endswith("/" + suffix)),
                      key=lambda d: (d.count("/"), d))

    def nearest(self, current: str, name: str) -> Optional[str]:
        """The file called `name` in the folder of `current` or the closest folder above it."""
        d = posixpath.dirname(current)
        while True:
            p = posixpath.join(d, name) if d else name
            if p in self.paths:
                return p
            if not d:
                return None
            d = posixpath.dirname(d)


_FACTS_LOCK = threading.Lock()


def file_facts(index: PathIndex, files: Mapping[str, str], key: Any, suffix: str,
               read: Callable[[str], Any]) -> tuple[dict[str, Any], bool]:
    """`read(text)` of each workspace file ending with `suffix`, kept in ``index.derived[key]`` and read
    again only for a changed text: (path -> fact, whether any fact changed since the last call; a change
    forgets the resolutions made before it). Only texts already in memory are read: a workspace's files
    known by name only (past its 5,000 read files; ``loaded()`` of `server.workspace.WorkspaceFiles`)
    are never read from disk for it."""
    loaded = getattr(files, "loaded", None)
    texts = loaded() if callable(loaded) else files
    with _FACTS_LOCK:
        held: dict[str, tuple[str, Any]] = index.derived.setdefault(key, {})
        changed = False
        seen = 0
        for path, text in texts.items():
            if not path.endswith(suffix) or path not in index.paths:
                continue
            seen += 1
            old = held.get(path)
            if old is not None and old[0] is text:
                continue
            fact = read(text)
            changed = changed or old is None or old[1] != fact
            held[path] = (text, fact)
        if seen != len(held):
            for path in [p for p in held if texts.get(p) is None]:
                del held[path]
            changed = True
        if changed:
            index.resolved.clear()
        return {p: fact for p, (_, fact) in held.items()}, changed


def join(base: str, rel: str) -> Optional[str]:
    """`rel` joined to the folder `base` and normalized; None when it leaves the workspace."""
    joined = posixpath.normpath(posixpath.join(base, rel)) if base else posixpath.normpath(rel)
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return "" if joined == "." else joined


def nearest_file(current_path: str, names: Iterable[str], exists: Any) -> Optional[str]:
    """The workspace path of the first of `names` in the folder of `current_path` or the nearest one above it
    that has one (``in exists``: a stat for an installed-files mapping); None where none has."""
    folder = posixpath.dirname(current_path)
    while True:
        for name in names:
            path = posixpath.join(folder, name) if folder else name
            if path in exists:
                return path
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def first(index: PathIndex, candidates: Iterable[Optional[str]]) -> list[str]:
    """[the first candidate that is a workspace path], or []."""
    for c in candidates:
        if c and c in index.paths:
            return [c]
    return []


def line_of(text: str, offset: int) -> int:
    """The zero-based line of `offset` in `text` (a search in the text's line ends, kept for the last
    texts: a file's every import asks, and counting from the start each time was quadratic)."""
    return bisect_left(_line_ends(text), offset)


@lru_cache(maxsize=8)
def _line_ends(text: str) -> list[int]:
    return [m.start() for m in re.finditer("\n", text)]


MAX_USES = 128  # names remembered per alias
FEW_ALIASES = 16  # more than this: the plain-word aliases found by one pass over every ``word.name``
_WORD = re.compile(r"[\w$]+")


def uses(text: str, aliases: Iterable[str], name: str = r"[A-Za-z_$][\w$]*", sep: str = r"\.") -> dict[str, tuple[str, ...]]:
    """For each alias, the names used as ``alias.name`` (``alias::name`` with `sep` ``::``) in
    `text`, in order of first use (one pass)."""
    wanted = {a for a in aliases if a}
    found: dict[str, dict[str, None]] = {a: {} for a in wanted}
    words = {a for a in wanted if _WORD.fullmatch(a)} if len(wanted) > FEW_ALIASES else set()
    if words:
        # Many aliases (a file importing 1,000 names): one pass over every ``word<sep>name``, the word looked up, as
        # a pattern of 1,000 alternatives tries each at every position (170 ms a reading against 8).
        for m in re.finditer(r"(?<![\w$.:])([\w$]+)" + sep + "(" + name + ")", text):
            if m.group(1) in words:
                _remember(found[m.group(1)], m.group(2))
    aliases = sorted(wanted - words, key=len, reverse=True)
    if aliases:
        # No look-behind in the pattern: a pattern starting with literal words lets the engine skip
        # ahead to them (ten times faster on a big file); the character before is checked here.
        pattern = re.compile(r"(" + "|".join(map(re.escape, aliases)) + r")" + sep + "(" + name + ")")
        for m in pattern.finditer(text):
            at = m.start()
            if at and (text[at - 1].isalnum() or text[at - 1] in "_.$:"):
                continue
            _remember(found[m.group(1)], m.group(2))
    return {a: tuple(v) for a, v in found.items()}


def _remember(seen: dict[str, None], name: str) -> None:
    if len(seen) < MAX_USES:
        seen.setdefault(name, None)


# ------------------------------------------------------------------------------ post-processing

@dataclass(frozen=True)
class Rules:
    """How a language's lines open and close blocks, for `fim.postprocess`.

    The defaults are the language-blind rules: every clause word, ``:`` and brace openers, ``#``
    and ``//`` comments, all three quote characters."""

    line_comments: tuple[str, ...] = ("#", "//")
    opens_block: re.Pattern = re.compile(r"(?:[{(\[:]|\b(?:then|do|else))$")
    clause_words: frozenset = frozenset({"else", "elif", "elsif", "elseif", "except", "finally", "catch", "case",
                                         "default", "when", "rescue", "ensure"})
    handler_words: frozenset = frozenset({"except", "finally"})  # clauses a `try` cannot do without
    closer_words: frozenset = frozenset({"end", "fi", "done", "esac"})
    quotes: str = "\"'`"  # characters that open a string
    multiline_quotes: str = "`"  # strings that may span lines
    triple_quotes: str = '"'  # quotes that, three in a row, open a string closed by the same three (not SQL's '''')
    indent: Optional[str] = None  # the indentation unit when the document does not show one (Go: a tab)
    comment: str = ""  # what starts a comment to the line's end, for bracket counting ("": none known)
    char_literals: bool = False  # `'x'` is a char literal where `'` is no quote (Rust, whose `'a` is a lifetime)
    comment_at_word: bool = False  # `comment` starts one only where a word may start (shell: `$#`, `${#x}`)
    interpolation: str = ""  # starts like `comment` but is none (Ruby's `#{` in a regular expression)
    regex_literals: bool = False  # `/.../` where an operand starts is a regular expression (Ruby's `=~ /x/`)
    # (text, i) -> the end of a literal that a word starts at `text[i]`, or -1 (Perl's `qw(a b)`, `s{x}{y}`)
    word_literal: Optional[Callable[[str, int], int]] = None
    escapes_outside_strings: bool = False  # a backslash escapes the next character in code too (shell)
    # Keyword blocks, counted as braces: words that open one (Ruby `def`, Lua `function`, shell `if`) and
    # close one (`end`, `fi`); `statement_words` among them count only where a statement starts: at a
    # line's start, or after one of `statement_after` (characters, or words such as shell's `then`).
    block_openers: frozenset = frozenset()
    block_closers: frozenset = frozenset()
    statement_words: frozenset = frozenset()
    statement_after: frozenset = frozenset()


DEFAULT_RULES = Rules()
_BRACE_OPENS = re.compile(r"(?:[{(\[]|\b(?:case\b[^\n]*|default[ \t]*|(?:public|private|protected)[ \t]*):)$")
BRACE_RULES = Rules(line_comments=("//", "/*", "* ", "*/"), comment="//", opens_block=_BRACE_OPENS,
                    clause_words=frozenset({"else", "catch", "finally", "case", "default"}),
                    handler_words=frozenset(), closer_words=frozenset(), quotes="\"'", multiline_quotes="",
                    triple_quotes="")


# ------------------------------------------------------------------------------ the entry


@dataclass(frozen=True)
class Language:
    """One language, all in one place. `imports`, `resolve`, `model` and `siblings` may be None
    (the language gets no repository context of that kind)."""

    name: str  # the family-level name fim uses everywhere ("typescript" for .ts and .tsx)
    ids: tuple[str, ...]  # LSP languageIds, the first the entry's own
    extensions: tuple[str, ...] = ()
    family: str = ""  # languages whose files make useful context for each other share one
    # text -> its imports in source order
    imports: Optional[Callable[[str], list[ImportRef]]] = None
    # (ref, current workspace-relative path, index) -> the workspace paths it names
    resolve: Optional[Callable[[ImportRef, str, PathIndex], list[str]]] = None
    # (text, its lines) -> a definitions model: find, defined, tiers, render, outline
    model: Optional[Callable[[str, list[str]], Any]] = None
    # (current path, index) -> files whose definitions the current one sees without an import
    siblings: Optional[Callable[[str, PathIndex], list[str]]] = None
    rules: Rules = field(default=DEFAULT_RULES)
    # (index, the workspace's texts) -> None: reads what `resolve` and `siblings` need from the files'
    # texts into ``index.derived`` (C#'s namespaces, which do not follow folders)
    learn: Optional[Callable[[PathIndex, Mapping[str, str]], None]] = None
    # An import brings a whole package (Go: ``pkg.Name`` for any Name): the signatures of the
    # package's other definitions come with the names the file uses.
    imports_packages: bool = False
    # The line being typed names the package it calls (Perl's ``Foo::Bar->``, often loaded by another file):
    # its imports count before the cursor leaves it.
    imports_on_cursor_line: bool = False

    @property
    def id(self) -> str:
        return self.ids[0]

"""Ruby: ``require``/``require_relative``/``autoload`` resolved to the workspace's files, the other
files of the library a file belongs to (Ruby sees every loaded class without naming its file), and
definitions by ``def``/``class``/``module`` ... ``end`` blocks (a file loaded for one class brings the
signatures of the others it defines: Ruby loads it whole); a gem's namespace module around a file's one
class is outlined through to the classes and constants that class holds."""

from __future__ import annotations

import posixpath
import re
from typing import Optional

from fim.languages.base import MAX_WHOLE_LINES, ImportRef, Language, PathIndex, line_of
from fim.languages.brace import BraceFile, _indent
from fim.languages.keyword import RUBY_RULES, blank_heredocs
from fim.languages.rubyscan import blank

# ``require "a/b"``, ``require_relative '../b'``, ``load "x.rb"``, ``autoload :Name, "a/b"``
_REQUIRE = re.compile(
    r"(?m)^[ \t]*(?:(require_relative|require|load)[ \t(]+|autoload[ \t(]+:?(\w+)[ \t]*,[ \t]*)"
    r"[\"']([^\"'\n#{}]+)[\"']")


def imports(text: str) -> list[ImportRef]:
    """The files a Ruby file loads, in source order: ``require_relative`` targets start with "./"."""
    refs: list[ImportRef] = []
    for m in _REQUIRE.finditer(text):
        target = m.group(3).strip()
        if m.group(1) == "require_relative" and not target.startswith((".", "/")):
            target = "./" + target
        names = (m.group(2),) if m.group(2) else ()
        refs.append(ImportRef(target, names, "ruby", line_of(text, m.start())))
    return refs


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """``require_relative``: the path from the current file's folder; ``require "a/b"``: ``a/b.rb``
    in the workspace, under a ``lib`` folder first (a gem's load path)."""
    target = ref.module if ref.module.endswith(".rb") else ref.module + ".rb"
    if target.startswith("."):
        path = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
        return [path] if path in index.paths else []
    hits = index.with_suffix(target.lstrip("/"))
    return sorted(hits, key=lambda p: not (p == "lib/" + target or p.endswith("/lib/" + target)))[:1]


def library_roots(current: str, index: PathIndex) -> list[str]:
    """The folders whose classes a file sees without a require: the ``lib`` folder it is in (a gem's
    sources); in a Rails app (Zeitwerk autoloads ``app/models/user.rb`` as ``User``) all of ``app`` and the
    app's ``lib``; from a ``test``/``spec`` file, the project's ``app`` and ``lib``; else the file's folder."""
    parts = current.split("/")[:-1]
    if "lib" in parts and ("app" not in parts or parts.index("lib") < parts.index("app")):
        return ["/".join(parts[: len(parts) - parts[::-1].index("lib")])]
    for top in ("app", "spec", "test"):
        if top in parts:
            project = "/".join(parts[: len(parts) - parts[::-1].index(top) - 1])
            roots = [posixpath.join(project, d) for d in ("app", "lib")]
            found = [r for r in roots if (top == "app" and r == roots[0]) or _has_dir(index, r)]
            if found:
                return found
    return ["/".join(parts)]


def _has_dir(index: PathIndex, folder: str) -> bool:
    key = ("ruby", "folder", folder)
    found = index.derived.get(key)
    if found is None:
        found = index.derived[key] = any(d == folder or d.startswith(folder + "/") for d in index.by_dir)
    return found


def siblings(current: str, index: PathIndex) -> list[str]:
    """The other Ruby files of the library (all of ``lib``, or a Rails app's ``app`` and ``lib``), the
    nearest folders' first, at most `MAX_SIBLINGS`."""
    files: list[str] = []
    for root in library_roots(current, index):
        key = ("ruby", "library", root)
        held = index.derived.get(key)
        if held is None:
            held = [p for d, paths in index.by_dir.items() if d == root or not root or d.startswith(root + "/")
                    for p in paths if p.endswith(".rb")]
            index.derived[key] = held
        files += held
    here = posixpath.dirname(current).split("/")
    return sorted((p for p in files if p != current), key=lambda p: (_steps(here, p), p))[:MAX_SIBLINGS]


MAX_SIBLINGS = 256  # the files nearest the current one: each is read for the names it defines, every keystroke


def _steps(here: list[str], path: str) -> int:
    """Folders between the folder `here` and `path`'s (0: the same folder)."""
    there = path.split("/")[:-1]
    common = len(posixpath.commonprefix([here, there]))
    return len(here) + len(there) - 2 * common


# The bodies of heredocs are blanked first, then literals and comments (`fim.languages.rubyscan`).
_HEREDOC = re.compile(r"<<[~-]?([\"'`]?)([A-Za-z_]\w*)\1")
# Words that open a block where a statement starts (else they are modifiers: ``return x if y``).
_STATEMENT_OPENERS = frozenset({"def", "class", "module", "if", "unless", "while", "until", "case", "begin", "for"})
_WORD = re.compile(r"(?<![\w.:$@])(?:[A-Za-z_]\w*)(?![\w?!:])|[{}]")
_STATEMENT_AFTER = frozenset("=([,;|&!?:{")
_STATEMENT_AFTER_WORDS = frozenset({"return", "then", "do", "else", "and", "or", "not"})
_MODIFIERS = frozenset({"if", "unless", "while", "until"})  # ``return if x``, ``save! if x``: modifiers
# ``def port = 80``, ``def add(x) = x + 1``; not a setter (``def port=(v)``), whose name ends with the ``=``
_ENDLESS_DEF = re.compile(r"\bdef[ \t]+[\w.]+[?!]?(?:[ \t]*\([^)]*\)[ \t]*|[ \t]+)=(?![=~(])")
_NAMES = re.compile(
    r"^[ \t]*(?:def[ \t]+(?:self\.|[A-Za-z_]\w*\.)?([A-Za-z_]\w*)"
    r"|(?:class|module)[ \t]+(?:[A-Za-z_]\w*::)*([A-Z]\w*)"
    r"|([A-Z][A-Z0-9_]*)[ \t]*=(?![=~]))")
_CONSTANT = re.compile(r"^[ \t]*[A-Z][A-Z0-9_]*[ \t]*=(?![=~])")
_MIXIN = re.compile(r"^[ \t]*(?:include|extend|prepend)[ \t(]+[A-Z]")
_ATTRIBUTES = re.compile(r"^[ \t]*attr_(?:reader|writer|accessor)[ \t(]+((?::\w+[ \t]*,?[ \t]*)+)")


class RubyFile(BraceFile):
    """Definitions of a Ruby file: methods, classes, modules, constants and attributes, at any depth
    (a gem nests its classes in modules)."""

    closing = re.compile(r"[ \t]*(?:\}|end\b)")
    container = re.compile(r"^[ \t]*(?:class|module)\b")
    attached = ("#",)

    def __init__(self, text: str, lines: list[str]) -> None:
        super().__init__(text, lines, "ruby")
        self.member_depth = 4

    def _code(self, text: str) -> list[str]:
        return blank("\n".join(blank_heredocs(text.split("\n"), _HEREDOC))).split("\n")

    def _opened(self, code: str) -> int:
        n = 0
        loop = False  # ``while x do``: the loop's own ``do`` opens nothing more
        for m in _WORD.finditer(code):
            word = m.group(0)
            if word == "{":
                n += 1
            elif word == "}" or word == "end":
                n -= 1
            elif word == "do":
                n += 0 if loop else 1
                loop = False
            elif word in _STATEMENT_OPENERS and _starts_statement(code, m.start(), word in _MODIFIERS):
                if word == "def" and _ENDLESS_DEF.match(code, m.start()):
                    continue
                n += 1
                loop = word in ("while", "until", "for")
        return n

    def outline(self) -> str:
        """The declarations (classes, modules, methods' signatures, constants, attributes, mixins) and the
        ``end`` of each class and module; method bodies elided."""
        out: list[str] = []
        containers: list[int] = []  # depths of the open classes and modules
        eliding = False
        for k, line in enumerate(self.lines):
            code = self.code[k]
            while containers and self.depth[k] < containers[-1]:
                containers.pop()
            keep = any(p.match(code) for p in (_NAMES, _ATTRIBUTES, _MIXIN, self.container))
            if self.container.match(code) and self.depth[k + 1] > self.depth[k]:
                containers.append(self.depth[k] + 1)
            elif containers and self.depth[k] == containers[-1] and self.closing.match(code) \
                    and self.depth[k + 1] < self.depth[k]:
                keep = True
            if keep or not line.strip() and out and out[-1].strip() and not eliding:
                out.append(line)
                eliding = False
            elif line.strip() and not eliding:
                out.append(_indent(line) + "...")
                eliding = True
        return "\n".join(out)

    def render(self, start: int, end: int, summary: bool = False) -> str:
        """As `BraceFile.render`, but through the wrappers: of ``module Rack`` around ``module Utils`` (a
        gem's namespace around each file's one class), the classes, modules, constants, attributes and mixins
        Utils holds (``class HeaderHash < Hash``, ``DEFAULT_SEP = ...``; its methods and comments elided):
        not ``module Utils`` alone. A wrapper spans its file, and every file of the gem uses its name."""
        if not summary and end - start <= MAX_WHOLE_LINES:
            return super().render(start, end)
        inner = start
        while (member := self._wrapped(inner, end)) is not None:
            inner = member
        if inner == start:
            return super().render(start, end, summary)
        keep = self.depth[inner] + 1
        out: list[str] = []
        for k in range(start, end):
            code = self.code[k]
            if self.depth[k] > keep or not code.strip():
                continue
            if any(p.match(code) for p in (_CONSTANT, _ATTRIBUTES, _MIXIN, self.container)) \
                    or self.depth[k + 1] < self.depth[k] and self.closing.match(code):
                out.append(self.lines[k])
            elif out and out[-1].strip() != "...":
                out.append(_indent(self.lines[k]) + "...")
        return "\n".join(out)

    def _wrapped(self, head: int, end: int) -> Optional[int]:
        """The line of the one class or module that the class or module opened on line `head` holds and
        nothing else (its body's other code lines are closers), or None."""
        if not self.container.match(self.code[head]) or self.depth[head + 1] <= self.depth[head]:
            return None
        level = self.depth[head] + 1
        member = None
        for k in range(head + 1, end):
            if self.depth[k] != level or not self.code[k].strip():
                if self.depth[k] < level:
                    break
                continue
            if member is None and self.container.match(self.code[k]) and self.depth[k + 1] > level:
                member = k
            elif not self.closing.match(self.code[k]):
                return None
        return member

    def _names_at(self, i: int) -> list[str]:
        m = _NAMES.match(self.code[i])
        if m:
            return [next(g for g in m.groups() if g)]
        attributes = _ATTRIBUTES.match(self.code[i])
        return re.findall(r":(\w+)", attributes.group(1)) if attributes else []


def _starts_statement(code: str, i: int, modifier: bool = False) -> bool:
    """A statement starts at `code[i]`: at the line's start or after an operator, a bracket or a keyword
    such as ``return`` (else a word there is a modifier: ``return x if y``). With `modifier` (the word may be
    one) not after ``return`` (``return if x``) nor after a method's ``?``/``!`` (``save! if x``)."""
    j = len(code[:i].rstrip(" \t"))
    if not j:
        return True
    if code[j - 1] in _STATEMENT_AFTER:
        return not (modifier and code[j - 1] in "?!" and j > 1 and (code[j - 2].isalnum() or code[j - 2] == "_"))
    k = j
    while k and (code[k - 1].isalnum() or code[k - 1] == "_"):
        k -= 1
    word = code[k:j]
    return word in _STATEMENT_AFTER_WORDS and not (modifier and word == "return") \
        and (not k or code[k - 1] not in ".:@$")


LANGUAGE = Language("ruby", ("ruby",), (".rb", ".rake", ".gemspec"), "ruby", imports=imports, resolve=resolve,
                    model=lambda text, lines: RubyFile(text, lines), siblings=siblings, rules=RUBY_RULES,
                    imports_packages=True)

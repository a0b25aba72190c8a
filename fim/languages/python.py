"""Python: imports by regular expressions (fast, and fine with half-typed code), resolution of
relative and absolute imports (also where the workspace is the package folder itself or a folder
inside it: by the longest path suffix that names a package), and definitions by indentation.

Python keeps its own parsers rather than tree-sitter: the regular expressions read the imports of
a 2,500-line file in about 5 ms (once per line the cursor is on: fim.context), and the
indentation model needs no tree at all.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from itertools import accumulate
from typing import Optional

from fim.languages.base import MAX_WHOLE_LINES, ImportRef, Language, PathIndex, Rules, first, line_of, uses

MAX_DOCSTRING_LINES = 12


def imports(text: str) -> list[ImportRef]:
    """Python imports by regular expressions: fast, and fine with half-typed code."""
    pending: list[tuple[str, Optional[str], tuple[str, ...], int, bool]] = []  # module, alias, names, offset, star
    members: list[tuple[str, str, int]] = []  # ``from pkg import name as alias``: pkg.name, alias, offset
    for m in _PY_IMPORT.finditer(text):
        for part in m.group(1).split(","):
            words = part.split()
            if not words or not re.fullmatch(r"[A-Za-z_][\w.]*", words[0]):
                continue
            alias = words[2] if len(words) >= 3 and words[1] == "as" else words[0]
            pending.append((words[0], alias, (), m.start(), False))
    for m in _PY_FROM.finditer(text):
        module = m.group(1)
        if not module or module.strip(".") and not re.fullmatch(r"\.*[A-Za-z_][\w.]*", module):
            continue
        body = m.group(2)
        if "#" in body:  # comments inside a parenthesised list: ``import (  # noqa: F401``
            body = re.sub(r"#[^\n]*", "", body)
        body = body.replace("\\\n", " ").strip().strip("()")
        names = []
        for part in body.split(","):
            words = part.split()
            if words and re.fullmatch(r"[A-Za-z_]\w*", words[0]):
                names.append(words[0])
                alias = words[2] if len(words) >= 3 and words[1] == "as" else words[0]
                members.append((module + ("" if module.endswith(".") else ".") + words[0], alias, m.start()))
        pending.append((module, None, tuple(names), m.start(), body == "*"))
    used = uses(text, [alias for _, alias, _, _, _ in pending if alias] + [alias for _, alias, _ in members],
                r"[A-Za-z_]\w*")
    refs = [ImportRef(module, used[alias] if alias else names, "python", line_of(text, offset), star=star)
            for module, alias, names, offset, star in pending]
    # ``from .. import exc as sa_exc`` then ``sa_exc.ArgumentError``: the names a submodule imported by name is used
    # for (a class's ``User.objects`` names no module: it resolves to nothing)
    refs += [ImportRef(module, used[alias], "python", line_of(text, offset))
             for module, alias, offset in members if used[alias]]
    refs.sort(key=lambda r: r.line)
    return refs


_PY_IMPORT = re.compile(r"(?m)^[ \t]*import[ \t]+([\w., \t]+)")
_PY_FROM = re.compile(r"(?m)^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)?|(?:[^\n#;\\]|\\\n)*)")


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    module = ref.module
    level = len(module) - len(module.lstrip("."))
    parts = [p for p in module[level:].split(".") if p]
    here = posixpath.dirname(current)
    found: list[str] = []

    def module_files(base: str, parts: list[str]) -> list[str]:
        stem = "/".join([base] + parts if base else parts)
        if not parts:
            return first(index, [stem + "/__init__.py" if stem else "__init__.py"])
        return first(index, [stem + ".py", stem + ".pyi", stem + "/__init__.py", stem + "/__init__.pyi"])

    def with_submodules(base: str, parts: list[str] = parts) -> list[str]:
        files = module_files(base, parts)
        for name in ref.names:  # from pkg import submodule
            files += module_files(base, parts + [name])
        return files

    if level:
        base: Optional[str] = here
        for _ in range(level - 1):
            base = posixpath.dirname(base) if base else None
            if base is None:
                return []
        return with_submodules(base or "")
    if not parts:
        return []
    # Absolute import: the current directory (scripts, implicit sibling imports), the workspace
    # root, then any source root (src/, lib/, a/b/...) where the dotted path matches a suffix.
    found = with_submodules(here) if here else []
    if not found:
        found = with_submodules("")
    if not found:
        for suffix in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py", "/".join(parts) + ".pyi"):
            # A source root (src/, lib/) is a folder neither in nor inside a package: there,
            # app/utils/json.py is ``app.utils.json``, never what ``import json`` names.
            bases = [hit[: len(hit) - len(suffix)].rstrip("/") for hit in index.with_suffix(suffix)]
            base = next((b for b in bases if b and not _in_package(b, index)), None)
            if base is not None:
                found = with_submodules(base)
                break
    if not found and "__init__.py" in index.paths:
        # The workspace is the package folder itself, or a package inside it: ``pkg.errors`` is
        # errors.py at the root. The longest suffix of the dotted path that names a module wins.
        for k in range(1, len(parts)):
            found = module_files("", parts[k:])
            if found:
                return with_submodules("", parts[k:])
        # ``from pkg import errors``: the root package's own submodules (not its __init__, which
        # any absolute import would match).
        return [p for name in ref.names for p in module_files("", [name])]
    return found


def _in_package(folder: str, index: PathIndex) -> bool:
    """Whether `folder` or a folder above it (below the workspace root) has an ``__init__.py``."""
    while folder:
        if folder + "/__init__.py" in index.paths:
            return True
        folder = posixpath.dirname(folder)
    return False


# A string prefix (r, b, f, u) is left as code: starting a match only at a quote or a hash lets the
# regular expression engine skip ahead to those characters, several times faster on a big file.
_PY_STRINGS = re.compile(
    r"#[^\n]*"
    r"|\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)"
    r"|\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?")
_PY_DEF = re.compile(r"^(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)")
_PY_ASSIGN = re.compile(r"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)|^([A-Za-z_]\w*)[ \t]*:[ \t]*\S")
_PY_BODY_DEF = re.compile(r"^(?:async[ \t]+)?(?:def|class)\b")
_PY_GUARD = re.compile(r"^(?:if|elif|else|try|except|finally|with)\b")


class _PythonFile:
    def __init__(self, text: str, lines: list[str]) -> None:
        self.lines = lines
        self.text = text
        spans = [m.span() for m in _PY_STRINGS.finditer(text)]
        self._starts = starts = [a for a, _ in spans]
        self._ends = ends = [b for _, b in spans]
        self._offsets: Optional[list[int]] = None
        self._code: dict[int, str] = {}
        # renderings by (start, end): a file's model lives as long as its text (fim.symbols' memo by text), and each
        # request at a new cursor asks for the heads and briefs of most of an installed file's definitions again
        self._heads: dict[tuple[int, int], str] = {}
        self._briefs: dict[tuple[int, int], str] = {}
        # Lines that begin inside a multi-line string do not start statements.
        in_string = [False] * len(lines)
        line = 0  # the line of offset `at`
        at = 0
        count = text.count
        for a, b in zip(starts, ends):
            inner = count("\n", a, b)
            if not inner:
                continue
            line += count("\n", at, a)
            # Lines line+1 .. line+inner start inside the span (the last one unless it ends there).
            last = line + inner if text[b - 1] != "\n" else line + inner - 1
            for i in range(line + 1, min(last, len(lines) - 1) + 1):
                in_string[i] = True
            line += inner
            at = b
        self.in_string = in_string
        self.tops = [i for i, line in enumerate(lines)
                     if line[:1] not in ("", " ", "\t", "#") and not in_string[i] and line.strip()
                     and not line.startswith((")", "]", "}"))]
        self._block_list: Optional[list[tuple[int, int, Optional[str]]]] = None
        self._top_list: list[tuple[int, int, Optional[str]]] = []
        self._by_name: Optional[dict[str, list[tuple[int, int]]]] = None
        self._members: dict[str, list[tuple[str, int, int]]] = {}

    def code(self, j: int) -> str:
        """Line `j` with its strings and comments blanked."""
        got = self._code.get(j)
        if got is not None:
            return got
        if self._offsets is None:
            self._offsets = [0, *accumulate(len(line) + 1 for line in self.lines)]
        line = self.lines[j]
        lo = self._offsets[j]
        hi = lo + len(line)
        k = bisect.bisect_right(self._ends, lo)
        starts, ends = self._starts, self._ends
        if k < len(starts) and starts[k] < hi:
            chars = list(line)
            while k < len(starts) and starts[k] < hi:
                for c in range(max(starts[k], lo) - lo, min(ends[k], hi) - lo):
                    chars[c] = " "
                k += 1
            line = "".join(chars)
        self._code[j] = line
        return line

    def _statements(self, tops: list[int], limit: int, indent: str) -> list[tuple[int, int, Optional[str]]]:
        """(start, end, name) for the statements starting at `tops` (lines at `indent`)."""
        blocks: list[tuple[int, int, Optional[str]]] = []
        pending: Optional[int] = None
        for k, i in enumerate(tops):
            end = tops[k + 1] if k + 1 < len(tops) else limit
            while end > i + 1 and not self.lines[end - 1].strip():
                end -= 1
            line = self.lines[i][len(indent):]
            if line.startswith("@"):
                if pending is None:
                    pending = i
                continue
            start = pending if pending is not None else i
            pending = None
            m = _PY_DEF.match(line)
            if m:
                name = m.group(2)
            else:
                a = _PY_ASSIGN.match(line)
                name = (a.group(1) or a.group(2)) if a else None
            blocks.append((start, end, name))
        return blocks

    def _blocks(self) -> list[tuple[int, int, Optional[str]]]:
        """(start, end, name) for each top-level statement, decorators joined to their def, and for
        the statements one level inside a module-level if/elif/else/try/except/finally/with."""
        if self._block_list is not None:
            return self._block_list
        blocks: list[tuple[int, int, Optional[str]]] = []
        self._top_list = self._statements(self.tops, len(self.lines), "")
        for start, end, name in self._top_list:
            blocks.append((start, end, name))
            if name is None and _PY_GUARD.match(self.lines[start]):
                blocks += self._guarded(start, end)
        self._block_list = blocks
        return blocks

    def _guarded(self, start: int, end: int) -> list[tuple[int, int, Optional[str]]]:
        body = [j for j in range(start + 1, end) if self.lines[j].strip() and not self.in_string[j]
                and not self.lines[j].lstrip().startswith("#")]
        if not body:
            return []
        indent = _indent(self.lines[body[0]])
        if not indent:
            return []
        tops = [j for j in body if _indent(self.lines[j]) == indent
                and not self.lines[j][len(indent):].startswith((")", "]", "}"))]
        return [b for b in self._statements(tops, end, indent) if b[2] is not None]

    def defined(self) -> frozenset:
        return frozenset(n for _, _, n in self._blocks() if n is not None)

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        """Line ranges of the named top-level definitions, in file order; a class's member (``Client.get``, one
        of `members`) comes with its class's signature (``class Client(BaseClient):``)."""
        if self._by_name is None:
            by_name: dict[str, list[tuple[int, int]]] = {}
            for s, e, n in self._blocks():
                if n is not None:
                    by_name.setdefault(n, []).append((s, e))
            self._by_name = by_name
        found: set[tuple[int, int]] = set()
        for n in names:
            owner, dot, member = n.partition(".")
            if not dot:
                found.update(self._by_name.get(n, ()))
                continue
            spans = [(s, e) for name, s, e in self.members(owner) if name == member]
            if spans:
                found.update(spans)
                found.add(self.class_head(owner))
        return sorted(found)

    def _class_block(self, name: str) -> Optional[tuple[int, int, int]]:
        """(start, the line after its signature, end) of the top-level class `name`."""
        if self._by_name is None:
            self.find(())
        for start, end in (self._by_name or {}).get(name, ()):
            i = start
            while i < end and self.lines[i].startswith("@"):
                i += 1
            if i < end and self.lines[i].startswith("class"):
                return start, self._header_end(i, end), end
        return None

    def class_head(self, name: str) -> tuple[int, int]:
        """The lines of the top-level class `name`'s signature, its decorators with it."""
        block = self._class_block(name)
        return (block[0], block[1]) if block is not None else (0, 0)

    def bases(self, name: str) -> list[str]:
        """The dotted names of the top-level class `name`'s bases (``class Client(BaseClient, Generic[T]):``:
        BaseClient, Generic), keywords (``metaclass=``) left out."""
        block = self._class_block(name)
        if block is None:
            return []
        head = " ".join(self.code(j) for j in range(block[0], block[1]))
        m = re.search(r"\bclass\s+\w+\s*(?:\[[^\]]*\]\s*)?\(", head)
        if m is None:
            return []
        out = []
        for part in _top_level_parts(head[m.end():]):
            word = re.match(r"\s*([A-Za-z_][\w.]*)\s*(?:\[|$)", part)
            if word is not None and "=" not in part:
                out.append(word.group(1))
        return out

    def members(self, name: str) -> list[tuple[str, int, int]]:
        """(name, start, end) of each statement of the top-level class `name`'s body that defines a name (methods,
        properties but their setters, fields, class constants), then of ``self.NAME = ...`` in its ``__init__`` (the comment lines just
        above with it), in file order; [] where the file defines no such class."""
        got = self._members.get(name)
        if got is not None:
            return got
        got = []
        block = self._class_block(name)
        if block is not None:
            _, head_end, end = block
            body = [j for j in range(head_end, end) if self.lines[j].strip() and not self.in_string[j]
                    and not self.lines[j].lstrip().startswith("#")]
            indent = _indent(self.lines[body[0]]) if body else ""
            tops = [j for j in body if _indent(self.lines[j]) == indent
                    and not self.lines[j][len(indent):].startswith((")", "]", "}"))]
            got = [(n, s, e) for s, e, n in self._statements(tops, end, indent)
                   if n and not _ACCESSOR.match(self.lines[s], len(indent))] if indent else []
            init = next(((s, e) for n, s, e in got if n == "__init__"), None)
            if init is not None:
                got += self._init_fields(*init, {n for n, _, _ in got})
        self._members[name] = got
        return got

    def _init_fields(self, start: int, end: int, known: set) -> list[tuple[str, int, int]]:
        """(name, start, end) of the first ``self.NAME = ...`` of each NAME not in `known` in the ``__init__`` at
        `start`..`end`, the comment lines just above it with it."""
        out = []
        for j in range(start, end):
            m = _SELF_FIELD.match(self.lines[j])
            if m is None or self.in_string[j] or m.group(1) in known:
                continue
            known.add(m.group(1))
            top = j
            while top > start and self.lines[top - 1].lstrip().startswith("#"):
                top -= 1
            out.append((m.group(1), top, self._statement_end(j, end)))
        return out

    def _statement_end(self, j: int, limit: int) -> int:
        """The line after the statement starting at line `j` (its brackets closed), at most 12 lines on."""
        depth = 0
        for k in range(j, min(limit, j + 12)):
            for ch in self.code(k):
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
            if depth <= 0:
                return k + 1
        return j + 1

    def signature(self, start: int, end: int) -> str:
        """The def or class at `start`'s signature (decorators left out) on one line, its strings kept."""
        i = start
        while i < end and self.lines[i].lstrip().startswith("@"):
            i += 1
        return " ".join(self.lines[j].strip() for j in range(i, self._header_end(i, end)))

    def tiers(self, start: int, end: int) -> tuple[str, ...]:
        """Ever longer renderings of a definition: its head, its outline, its whole text."""
        whole = self.render(start, end)
        if end - start <= 3:
            return (whole,)
        first = self.lines[start].lstrip()
        if not (_PY_DEF.match(first) or first.startswith("@")):
            head = "\n".join(self.lines[start:start + 1]) + "\n" + _indent(self.lines[start]) + "..."
            return (head, whole) if len(head) < len(whole) else (whole,)
        out = [self._def_head(start, end)]
        outline = self.render(start, end, summary=True)
        for t in (outline, whole):
            if len(t) > len(out[-1]):
                out.append(t)
        return tuple(out)

    def head(self, start: int, end: int) -> str:
        """``tiers(start, end)[0]`` without rendering the longer tiers (a class's outline, twice for a long one),
        remembered: the signatures of an installed file's other definitions, asked for at each new cursor."""
        got = self._heads.get((start, end))
        if got is None:
            first = self.lines[start].lstrip()
            if end - start > 3 and (_PY_DEF.match(first) or first.startswith("@")):
                got = self._def_head(start, end)
            else:
                got = self.tiers(start, end)[0]
            self._heads[(start, end)] = got
        return got

    def _def_head(self, start: int, end: int) -> str:
        """The signature of the def or class at `start` (decorators included), then ``...`` at its body's indent."""
        i = start
        while i < end and self.lines[i].lstrip().startswith("@"):
            i += 1
        head_end = self._header_end(i, end)
        if self._inline_body(head_end):  # a stub's ``def f(x) -> int: ...``
            return "\n".join(self.lines[start:head_end])
        j = head_end
        while j < end and not self.lines[j].strip():
            j += 1
        body_indent = _indent(self.lines[j]) if j < end else _indent(self.lines[i]) + "    "
        return "\n".join(self.lines[start:head_end] + [body_indent + "..."])

    def _header_end(self, i: int, limit: int) -> int:
        """Index after the line ending the signature that starts at line `i`: the line of its colon outside
        brackets, whatever follows it there (a stub's ``def f(x) -> int: ...``)."""
        depth = 0
        for j in range(i, limit):
            code = self.code(j)
            for ch in code:
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
                elif ch == ":" and depth <= 0:
                    return j + 1
            if depth <= 0 and j > i and not code.strip() and not self.lines[j].strip():
                return j
        return min(limit, i + 1)

    def _inline_body(self, head_end: int) -> bool:
        """Whether the signature ending on line ``head_end - 1`` has its body on that line (``: ...``)."""
        return not self.code(head_end - 1).rstrip().endswith(":")

    def _docstring(self, i: int, limit: int) -> list[str]:
        """The docstring lines starting at line `i`, if the statement there is one."""
        while i < limit and not self.lines[i].strip():
            i += 1
        if i >= limit:
            return []
        body = self.lines[i].lstrip()
        m = re.match(r"[rRuU]?(\"\"\"|'''|\"|')", body)
        if not m:
            return []
        quote = m.group(1)
        rest = body[m.end():]
        if quote in rest or len(quote) == 1:
            return [self.lines[i]]
        out = [self.lines[i]]
        for j in range(i + 1, min(limit, i + 200)):
            out.append(self.lines[j])
            if quote in self.lines[j]:
                break
        if len(out) > MAX_DOCSTRING_LINES:
            indent = self.lines[i][: len(self.lines[i]) - len(body)]
            out = out[: MAX_DOCSTRING_LINES - 1] + [indent + quote]
        return out

    def brief(self, start: int, end: int) -> str:
        """A definition as an installed package's API: its signature and its docstring's first line; a
        class with its fields and its public methods' signatures, each with its docstring's first line."""
        got = self._briefs.get((start, end))
        if got is None:
            first = self.lines[start].lstrip()
            if not (_PY_DEF.match(first) or first.startswith("@")):
                got = self.head(start, end)
            else:
                got = "\n".join(self._summary(start, end, brief=True))
            self._briefs[(start, end)] = got
        return got

    @staticmethod
    def _first_doc_line(doc: list[str]) -> list[str]:
        """A docstring's first line of text, closed (``\"\"\"Send a request.\"\"\"``)."""
        if len(doc) <= 1:
            return doc
        body = doc[0].lstrip()
        indent = doc[0][: len(doc[0]) - len(body)]
        m = re.match(r"[rRuU]?(\"\"\"|''')", body)
        if m is None:
            return doc[:1]
        quote = m.group(1)
        text = body[m.end():].strip() or next((line.strip() for line in doc[1:] if line.strip(" \t" + quote)), "")
        text = text.replace(quote, "").strip()
        return [indent + quote + text + quote] if text else []

    def render(self, start: int, end: int, summary: bool = False) -> str:
        if not summary and end - start <= MAX_WHOLE_LINES:
            return "\n".join(self.lines[start:end])
        return "\n".join(self._summary(start, end))

    def _summary(self, start: int, end: int, brief: bool = False) -> list[str]:
        """A definition's signature and docstring, a class's fields and method signatures; `brief`: the
        docstrings' first lines only, and a class's public methods only (with their docstrings' first lines)."""
        i = start
        while i < end and self.lines[i].lstrip().startswith("@"):
            i += 1
        head_end = self._header_end(i, end)
        out = list(self.lines[start:head_end])
        if self._inline_body(head_end):  # a stub's ``def f(x) -> int: ...``
            return out
        is_class = bool(re.match(r"\s*class\b", self.lines[i]))
        doc = self._docstring(head_end, end)
        out += self._first_doc_line(doc) if brief else doc
        # First body line after the docstring.
        j = head_end
        while j < end and not self.lines[j].strip():
            j += 1
        body_indent = _indent(self.lines[j]) if j < end else "    "
        if not is_class:
            out.append(body_indent + "...")
            return out
        j += len(doc)
        while j < end:
            line = self.lines[j]
            if not line.strip() or self.in_string[j] or _indent(line) != body_indent:
                j += 1
                continue
            body = line[len(body_indent):]
            if body.startswith("#"):
                j += 1
                continue
            if body.startswith("@") or _PY_BODY_DEF.match(body):
                k = j
                while k < end and self.lines[k].strip().startswith("@"):
                    k += 1
                sig_end = self._header_end(k, end)
                name = _PY_DEF.match(self.lines[k][len(body_indent):])
                if brief and name is not None and name.group(2).startswith("_") and not name.group(2).endswith("__"):
                    j = sig_end  # a private method: not part of the package's API
                    continue
                out.append("")
                out += self.lines[j:sig_end]
                if not self._inline_body(sig_end):
                    if brief:
                        out += self._first_doc_line(self._docstring(sig_end, end))
                    out.append(body_indent + "    ...")
                j = sig_end
                continue
            out.append(line)  # fields, class constants
            j += 1
        return out

    def outline(self) -> str:
        pieces: list[str] = []
        self._blocks()
        for start, end, name in self._top_list:
            first = self.lines[start]
            if _PY_DEF.match(first) or first.startswith("@"):
                pieces.append("\n" + self.render(start, end, summary=True))
            elif end - start <= 3:
                pieces.append("\n".join(self.lines[start:end]))
            else:
                pieces.append(first + "\n...")
        return "\n".join(pieces).lstrip("\n")


_ACCESSOR = re.compile(r"@\w+\.(?:setter|deleter)\b")  # a property's setter: the property's name again
_SELF_FIELD = re.compile(r"[ \t]+self\.([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)")


def _top_level_parts(text: str) -> list[str]:
    """The comma-separated parts of `text` up to its first unopened ``)``, ``]`` or ``}``, at bracket depth 0."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                parts.append(text[start:k])
                return parts
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return parts


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]



def model(text: str, lines: list[str]) -> _PythonFile:
    return _PythonFile(text, lines)


LANGUAGE = Language(
    "python", ("python",), (".py", ".pyi", ".pyw"), "python", imports=imports, resolve=resolve, model=model,
    rules=Rules(line_comments=("#",), comment="#", opens_block=re.compile(r"[{(\[:]$"),
                clause_words=frozenset({"else", "elif", "except", "finally", "case"}),
                closer_words=frozenset(), quotes="\"'", multiline_quotes="", triple_quotes="\"'"))

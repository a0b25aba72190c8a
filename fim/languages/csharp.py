"""C#'s ``using`` directives and the files they name. Namespaces do not follow folders: the files of
``namespace A.B`` are those whose text declares it (``namespace A.B { ... }`` or ``namespace A.B;``),
found by reading the workspace's C# texts into a table (`learn`) that `resolve` and `siblings` look up.
A file sees the types of its own namespace and of the namespaces around it without a ``using``.
Definitions come from the brace model (`fim.languages.brace`)."""

from __future__ import annotations

import posixpath
import re
from typing import Mapping

from fim.languages.base import ImportRef, PathIndex, file_facts, line_of, uses

# ``using A.B;``, ``global using A.B;``, ``using static A.B.C;``, ``using X = A.B.C;``, ``using global::A.B;``
# (not ``using var x = ...;`` nor ``using (var x = ...)``, statements in a method).
_USING = re.compile(r"(?m)^[ \t]*(?:global[ \t]+)?using[ \t]+(static[ \t]+)?(?:(@?\w+)[ \t]*=[ \t]*)?"
                    r"(?:global::)?([A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*)[ \t]*(?:<[^;\n]*>[ \t]*)?;")
# Literal words first: the engine skips ahead to them (a whole file read in a pass).
_NAMESPACE = re.compile(r"namespace[ \t]+([A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*)")
_TYPE_LIKE = re.compile(r"(?<![\w.])[A-Z]\w*")  # not ``x.Member``
MAX_NAMES = 128  # type-like names of a file offered to the files of a namespace it imports
MAX_NAMESPACE_FILES = 128  # files of one namespace looked at, those nearest the current file's folder first
KEY = "csharp-namespaces"


def imports(text: str) -> list[ImportRef]:
    """The ``using`` directives, each with the type-like names the file uses (a namespace brings all its
    types: those of its files that the file names are the ones it needs)."""
    refs: list[ImportRef] = []
    used: tuple[str, ...] = ()
    for m in _USING.finditer(text):
        if not used:
            used = tuple(dict.fromkeys(_TYPE_LIKE.findall(text)))[:MAX_NAMES]
        static, alias, target = m.group(1), m.group(2), re.sub(r"[ \t]", "", m.group(3))
        line = line_of(text, m.start())
        last = target.rpartition(".")[2]
        if static:  # ``using static A.B.C;``: the type C
            refs.append(ImportRef(target, (last,), "csharp", line))
        elif alias:  # ``using X = A.B.C;``: a type, or a namespace used as ``X.Name``
            named = uses(text, [alias.lstrip("@")])[alias.lstrip("@")]
            refs.append(ImportRef(target, (last, *named), "csharp", line))
        else:
            refs.append(ImportRef(target, used, "csharp", line, star=True))
    return refs


def declared(text: str) -> tuple[str, ...]:
    """The namespaces `text` declares, a nested block's joined to the one around it ("" for none)."""
    found: list[str] = []
    blocks: list[tuple[int, str]] = []  # (indentation, name) of the enclosing block namespaces
    for m in _NAMESPACE.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        indent = text[start:m.start()]
        if indent.strip():
            continue  # ``namespace`` inside a line (a comment, a string, a longer word)
        name = re.sub(r"[ \t]", "", m.group(1))
        while blocks and blocks[-1][0] >= len(indent):
            blocks.pop()
        if blocks:
            name = f"{blocks[-1][1]}.{name}"
        found.append(name)
        if not text[m.end():m.end() + 80].lstrip().startswith(";"):
            blocks.append((len(indent), name))
    return tuple(dict.fromkeys(found)) or ("",)


def learn(index: PathIndex, files: Mapping[str, str]) -> None:
    """Read the namespaces of the workspace's C# files into `index` (`file_facts`: again for the files
    whose text changed)."""
    by_path, changed = file_facts(index, files, (KEY, "files"), ".cs", declared)
    if changed or KEY not in index.derived:
        table: dict[str, list[str]] = {}
        for path in sorted(by_path):
            for name in by_path[path]:
                table.setdefault(name, []).append(path)
        index.derived[KEY] = (by_path, table)


def _table(index: PathIndex) -> tuple[dict[str, tuple[str, ...]], dict[str, list[str]]]:
    return index.derived.get(KEY) or ({}, {})


def _nearest(paths: list[str], current: str) -> list[str]:
    """`paths` (not `current`), those sharing more folders with `current` first, at most MAX_NAMESPACE_FILES."""
    here = posixpath.dirname(current).split("/")

    def shared(path: str) -> int:
        folders = posixpath.dirname(path).split("/")
        n = 0
        while n < min(len(here), len(folders)) and here[n] == folders[n]:
            n += 1
        return n

    return sorted((p for p in paths if p != current), key=lambda p: (-shared(p), p))[:MAX_NAMESPACE_FILES]


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """The files declaring the namespace `ref` names (``using A.B;``); for a type (``using static``,
    an alias) those of its namespace, of which the context keeps the ones defining it. A name relative
    to the current file's namespace (``using static Runtime;`` in ``namespace Python.Runtime``) is
    looked up there too."""
    by_path, table = _table(index)
    own = by_path.get(current, ("",))
    candidates = [ref.module] + [f"{n}.{ref.module}" for namespace in own for n in _enclosing(namespace) if n]
    for name in candidates:
        if name in table:
            return _nearest(table[name], current)
    if not ref.star:
        for name in candidates:
            parent = name.rpartition(".")[0]
            if parent and parent in table:
                return _nearest(table[parent], current)
    return []


def _enclosing(namespace: str) -> list[str]:
    """A namespace and those around it, innermost first (``A.B``: ``A.B``, ``A``, "")."""
    out = []
    while namespace:
        out.append(namespace)
        namespace = namespace.rpartition(".")[0]
    return out + [""]


def siblings(current: str, index: PathIndex) -> list[str]:
    """The other files of the current file's namespaces and of those around them, whose types it uses
    without a ``using``: those nearest its folder first."""
    by_path, table = _table(index)
    if current not in by_path:
        return []
    found: dict[str, None] = {}
    for namespace in by_path[current]:
        for name in _enclosing(namespace):
            found.update(dict.fromkeys(table.get(name, ())))
    return _nearest(list(found), current)

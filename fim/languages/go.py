"""Go: imports and definitions by tree-sitter; a package is its folder (every sibling file's
definitions are visible without an import); the module's own packages resolve through go.mod."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from fim.languages.base import BRACE_RULES, ImportRef, Language, PathIndex, uses
from fim.languages.treesitter import (BriefTreeFile, Spec, TreeFile, field_text, find_all, parse,
                                      string_content)

GRAMMAR = "go"
_STDLIB = frozenset(
    "archive bufio bytes cmp compress container context crypto database debug embed encoding errors "
    "expvar flag fmt go hash html image index internal io iter log maps math mime net os path plugin "
    "reflect regexp runtime slices sort strconv strings sync syscall testing text time unicode unique "
    "unsafe weak C".split())


def imports(text: str) -> list[ImportRef]:
    parsed = parse(GRAMMAR, text)
    if parsed is None:
        return []
    pending: list[tuple[str, str, int]] = []  # package name used in code, import path, line
    for decl in parsed.root.children:
        if decl.type != "import_declaration":
            continue
        for spec in find_all(decl, frozenset({"import_spec"})):
            path_node = spec.child_by_field_name("path")
            if path_node is None:
                continue
            path = string_content(parsed, path_node)
            alias = field_text(parsed, spec, "name")
            name = alias or path.rstrip("/").rsplit("/", 1)[-1]
            if not alias and re.fullmatch(r"v\d+", name) and "/" in path:  # major-version suffix: pkg/v2
                name = path.rstrip("/").rsplit("/", 2)[-2]
            if not alias:
                name = name.removeprefix("go-").replace("-", "_").replace(".", "_")
            pending.append((name, path, spec.start_point[0]))
    used = uses(text, (n for n, _, _ in pending if n not in ("_", ".")), r"[A-Z]\w*")
    return [ImportRef(path, used.get(name, ()), "go", line, star=name == ".") for name, path, line in pending]


def _modules(index: PathIndex) -> list[tuple[str, str]]:
    """(module path, folder) of every go.mod in the workspace, longest module path first."""
    key = ("go", "modules")
    got = index.derived.get(key)
    if got is None:
        got = []
        for p in index.by_name.get("go.mod", ()):
            m = re.search(r"(?m)^module[ \t]+\"?([^\s\"]+)", index.config(p) or "")
            if m:
                got.append((m.group(1), posixpath.dirname(p)))
        got.sort(key=lambda t: -len(t[0]))
        index.derived[key] = got
    return got


def _package_files(index: PathIndex, folder: str, tests: bool = False) -> list[str]:
    return [p for p in index.by_dir.get(folder, ()) if p.endswith(".go") and (tests or not p.endswith("_test.go"))]


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    path = ref.module.strip("/")
    for module, folder in _modules(index):
        if path == module or path.startswith(module + "/"):
            sub = path[len(module):].strip("/")
            return _package_files(index, posixpath.join(folder, sub) if folder and sub else folder or sub)
    parts = [p for p in path.split("/") if p]
    if not parts or "." not in parts[0] and parts[0] in _STDLIB:
        return []
    if _in_module(current, index):
        # In a module of the workspace, a path no workspace go.mod names is a dependency's
        # (k8s.io/.../meta/v1 is not the project's api/v1).
        return []
    # No go.mod names it: the longest suffix of the import path that is a folder of .go files.
    for start in range(len(parts)):
        for d in index.dirs_with_suffix("/".join(parts[start:])):
            files = _package_files(index, d)
            if files:
                return files
    return []


def _in_module(current: str, index: PathIndex) -> bool:
    """Whether a go.mod of the workspace, in the folder of `current` or above it, declares a module."""
    folder = posixpath.dirname(current)
    return any(not d or folder == d or folder.startswith(d + "/") for _, d in _modules(index))


def siblings(current: str, index: PathIndex) -> list[str]:
    """The other files of the package: same folder (test files only for a test file)."""
    return [p for p in _package_files(index, posixpath.dirname(current), current.endswith("_test.go")) if p != current]


def _names(node, parsed) -> list[str]:
    t = node.type
    if t in ("function_declaration", "method_declaration"):
        return [field_text(parsed, node)]
    if t in ("type_declaration", "var_declaration", "const_declaration"):
        out = []
        for spec in find_all(node, frozenset({"type_spec", "type_alias", "var_spec", "const_spec"})):
            out += [parsed.text(c) for c in spec.children_by_field_name("name")]
        return out
    return []


SPEC = Spec(GRAMMAR, _names, lambda node: None, frozenset({"block"}))


def model(text: str, lines: list[str]) -> TreeFile:
    return BriefTreeFile(text, lines, SPEC)


LANGUAGE = Language(
    "go", ("go",), (".go",), "go", imports=imports, resolve=resolve, model=model, siblings=siblings,
    rules=replace(BRACE_RULES, quotes="\"'`", multiline_quotes="`", indent="\t"), imports_packages=True)

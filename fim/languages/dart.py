"""Dart's imports and the files they name: ``import 'package:name/path.dart';`` is ``lib/path.dart`` of the
workspace package whose pubspec.yaml says ``name: name``, a relative URI is a path from the importing file's
folder, and ``dart:`` libraries are the SDK's. A library brings the files it ``export``s and its ``part``s
too (the files of the library and of what it re-exports, read from the texts by `learn`): a package's
``lib/name.dart`` is usually nothing but ``export 'src/...';`` lines. Definitions come from the brace model."""

from __future__ import annotations

import posixpath
import re
from typing import Mapping, Optional

from fim.languages.base import TYPE_ARGUMENTS, ImportRef, PathIndex, file_facts, join, line_of, uses

# ``import 'x.dart' as p show A, B hide C;``, ``export '...';``, ``part '...';``, ``part of '...';``
_DIRECTIVE = re.compile(r"(?m)^[ \t]*(import|export|part(?:[ \t]+of)?)[ \t]+(['\"])([^'\"\n]+)\2([^;]*);")
_TYPE_LIKE = re.compile(r"(?<![\w.$])[A-Z][\w$]*")  # not ``x.member``
# a public function called bare (``identity(x)``, ``binarySearchBy<E, K>(``), not a method (``x.f(``)
_CALLED = re.compile(r"(?<![\w.$])([a-z][\w$]*)" + TYPE_ARGUMENTS + r"\(")
_NOT_CALLED = frozenset({"if", "for", "while", "switch", "catch", "assert", "super", "this", "return", "await",
                         "print", "identical", "throw", "yield", "on", "in", "is", "as", "get", "set"})
MAX_NAMES = 128  # type-like names of a file offered to the files of a library it imports
MAX_LIBRARY_FILES = 32  # files of one library and of what it re-exports
EXPORT_DEPTH = 3  # ``export`` lines followed this many libraries deep
KEY = "dart-library"


def imports(text: str) -> list[ImportRef]:
    """The ``import`` directives and ``part of`` (a part sees its library's names): ``show`` names, an
    ``as p`` prefix's ``p.name`` uses, else the type-like names the file uses and the functions it calls
    bare (types first)."""
    refs: list[ImportRef] = []
    used: tuple[str, ...] = ()
    code = ""  # the text without its directives, whose URIs are no uses
    for m in _DIRECTIVE.finditer(text):
        kind, uri, rest = m.group(1), m.group(3), m.group(4)
        if kind in ("export", "part"):
            continue
        line = line_of(text, m.start())
        code = code or _DIRECTIVE.sub("", text)
        prefix = re.search(r"\bas[ \t]+([A-Za-z_$][\w$]*)", rest)
        shown = re.search(r"\bshow\b([^;]*?)(?:\bhide\b|$)", rest)
        if shown:
            refs.append(ImportRef(uri, tuple(re.findall(r"[A-Za-z_$][\w$]*", shown.group(1))), "dart", line))
        elif prefix:
            alias = prefix.group(1)
            refs.append(ImportRef(uri, uses(code, [alias])[alias], "dart", line))
        else:
            if not used:
                called = (name for name in _CALLED.findall(code) if name not in _NOT_CALLED)
                used = tuple(dict.fromkeys((*_TYPE_LIKE.findall(code), *called)))[:MAX_NAMES]
            refs.append(ImportRef(uri, used, "dart", line, star=True))
    return refs


def _library_uris(text: str) -> tuple[str, ...]:
    """The URIs of a file's ``export`` and ``part`` directives: files whose names it brings."""
    return tuple(m.group(3) for m in _DIRECTIVE.finditer(text) if m.group(1) in ("export", "part"))


def learn(index: PathIndex, files: Mapping[str, str]) -> None:
    """Read the ``export`` and ``part`` directives of the workspace's Dart files into `index`."""
    file_facts(index, files, KEY, ".dart", _library_uris)


def _packages(index: PathIndex) -> dict[str, str]:
    """Package name -> its folder ("" for the workspace's top), from the pubspec.yaml files."""
    key = ("dart", "packages")
    found = index.derived.get(key)
    if found is None:
        found = {}
        for path in index.by_name.get("pubspec.yaml", ()):
            m = re.search(r"(?m)^name:[ \t]*['\"]?([\w]+)", index.config(path) or "")
            if m:
                found.setdefault(m.group(1), posixpath.dirname(path))
        index.derived[key] = found
    return found


def _file(uri: str, current: str, index: PathIndex) -> Optional[str]:
    """The workspace file a URI names from `current`, or None (the SDK's, another package's)."""
    if uri.startswith("dart:"):
        return None
    if uri.startswith("package:"):
        name, _, rest = uri[len("package:"):].partition("/")
        root = _packages(index).get(name)
        path = None if root is None else join(root, posixpath.join("lib", rest))
    elif ":" in uri.split("/", 1)[0]:  # another scheme (``http:``)
        return None
    else:
        path = join(posixpath.dirname(current), uri)
    return path if path and path in index.paths else None


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """The imported library's file, then those it exports and its parts (`EXPORT_DEPTH` deep)."""
    first = _file(ref.module, current, index)
    if first is None:
        return []
    facts = index.derived.get(KEY, {})
    found = [first]
    level = [first]
    for _ in range(EXPORT_DEPTH):
        following = []
        for path in level:
            held = facts.get(path)
            for uri in held[1] if held is not None else ():
                target = _file(uri, path, index)
                if target is not None and target not in found and len(found) < MAX_LIBRARY_FILES:
                    found.append(target)
                    following.append(target)
        level = following
    return found

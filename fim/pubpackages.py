"""Where a Dart ``package:`` import the workspace does not resolve is defined, through pub's package_config.json. Pure.

``dart pub get`` (``flutter pub get``) writes ``.dart_tool/package_config.json`` in a package's root (a pub
workspace's root for its members): ``packages[]`` with each package's ``name``, its ``rootUri`` (an absolute
``file:`` URI into the pub cache, ``file:///home/u/.pub-cache/hosted/pub.dev/async-2.11.0``; the Flutter SDK's
``packages/flutter``; or a path relative to the ``.dart_tool`` folder for a path dependency, ``../../x``) and its
``packageUri`` (``lib/``). ``package:async/async.dart`` is ``<rootUri>/<packageUri>/async.dart``.

The files come through `fim.dependencies`' `installed` mapping (never iterated), by the keys:

* the workspace-relative ``<folder>/.dart_tool/package_config.json`` (the nearest above the file);
* ``pub-packages/<folder>/<name>/<path inside the package's root>``, `<folder>` being the workspace-relative
  folder of that package_config.json's package, percent-encoded with a trailing ``/`` as one segment (``%2F``
  for the workspace's top, ``app%2F`` for ``app/``): the server reads such a key only inside the root that
  package_config.json gives `<name>` (`package_roots`), never an arbitrary path.

`pub_definitions` maps one ``package:`` import to the files defining the names the document uses from it (an
import's ``show`` names, ``p.name`` after ``as p``, else the type-like names and bare calls of the document,
as `fim.languages.dart.imports` reads them): the library file, then the files it ``export``s (``show``/
``hide`` applied, ``package:`` URIs of other packages through the same package_config.json) and its ``part``
files, `FOLLOW_DEPTH` deep, the exports whose file is named after a wanted name first (``ElevatedButton``:
``src/material/elevated_button.dart``). At most `MAX_FILES` are read a request: ``package:flutter/material.dart``
is a list of some 150 exports, widgets.dart's 150 more behind it, so what a library's files define is remembered
(`MAX_CLOSURES` libraries, `CLOSURE_SECONDS`) and the next request reads on where the last stopped, until every
name is found or every file read. ``dart:`` libraries (the SDK) are left out: the model knows them.
"""

from __future__ import annotations

import heapq
import json
import posixpath
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, NamedTuple, Optional
from urllib.parse import quote

from fim.languages.base import ImportRef
from fim.languages.dart import _DIRECTIVE
from fim.symbols import defined_names

PUB_PACKAGES = "pub-packages/"
CONFIG = ".dart_tool/package_config.json"
FOLLOW_DEPTH = 4  # material.dart -> widgets.dart -> package:flutter/src/widgets/... -> its parts
MAX_FILES = 48  # library files read for one import per request (more at the next request, `_Closure`)
MAX_CLOSURES = 32  # libraries whose files' definitions are remembered
CLOSURE_SECONDS = 60.0  # for this long (a name found is checked in its file at each use)
MAX_NAMES = 128  # names looked up per import (a star import's type-like names: `fim.languages.dart.MAX_NAMES`)
_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_PACKAGE_NAME = re.compile(r"[A-Za-z_][\w]*\Z")


class Package(NamedTuple):
    """One ``packages[]`` entry of a package_config.json."""

    root_uri: str  # as written: ``file:///...`` or relative to the .dart_tool folder
    package_uri: str  # relative to the root, ``lib/``


@lru_cache(maxsize=16)
def package_roots(text: str) -> dict[str, Package]:
    """Package name -> its `Package`, from a package_config.json's text ({} when it is not one)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    packages = data.get("packages") if isinstance(data, dict) else None
    out: dict[str, Package] = {}
    for entry in packages if isinstance(packages, list) else ():
        if not isinstance(entry, dict):
            continue
        name, root, lib = entry.get("name"), entry.get("rootUri"), entry.get("packageUri", "")
        if isinstance(name, str) and _PACKAGE_NAME.match(name) and isinstance(root, str) and isinstance(lib, str):
            out.setdefault(name, Package(root, lib))
    return out


def config_key(folder: str) -> str:
    """The workspace-relative key of the package_config.json of the package root `folder` ("" for the top)."""
    return posixpath.join(folder, CONFIG) if folder else CONFIG


def package_key(folder: str, name: str, path: str) -> str:
    """The key of `path` (relative to the root) of package `name` of the package_config.json in `folder`."""
    return f"{PUB_PACKAGES}{quote(folder + '/', safe='')}/{name}/{path}"


def nearest_config(current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The folder ("" for the top) of the nearest package root above `current_path` with a package_config.json."""
    folder = posixpath.dirname(current_path)
    while True:
        if config_key(folder) in installed:
            return folder
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def library_file(uri: str, folder: str, packages: Mapping[str, Package]) -> Optional[str]:
    """The key of the file ``package:name/path.dart`` names through the package_config.json in `folder`."""
    if not uri.startswith("package:"):
        return None
    name, _, rest = uri[len("package:"):].partition("/")
    package = packages.get(name)
    if package is None or not rest or ":" in package.package_uri:
        return None
    path = posixpath.normpath(posixpath.join(package.package_uri, rest))
    if path.startswith(("../", "/")) or path in ("..", "."):
        return None
    return package_key(folder, name, path)


def _target(uri: str, current: str, folder: str, packages: Mapping[str, Package]) -> Optional[str]:
    """The key an ``export``/``part`` URI of the installed file `current` names (inside its package's root)."""
    if uri.startswith("package:"):
        return library_file(uri, folder, packages)
    if ":" in uri.split("/", 1)[0]:  # ``dart:``, another scheme
        return None
    head = "/".join(current.split("/", 3)[:3]) + "/"  # pub-packages/<folder>/<name>/
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(current), uri))
    return joined if joined.startswith(head) else None


def _filter(rest: str) -> tuple[Optional[frozenset[str]], frozenset[str]]:
    """(``show`` names or None, ``hide`` names) of a directive's tail."""
    shown = re.search(r"\bshow\b(.*?)(?=\bhide\b|$)", rest, re.S)
    hidden = re.search(r"\bhide\b(.*?)(?=\bshow\b|$)", rest, re.S)
    return (frozenset(_NAME.findall(shown.group(1))) if shown else None,
            frozenset(_NAME.findall(hidden.group(1))) if hidden else frozenset())


@lru_cache(maxsize=256)
def _directives(text: str) -> tuple[tuple[str, str, str], ...]:
    """(kind, URI, tail) of a file's ``export`` and ``part`` directives."""
    return tuple((m.group(1), m.group(3), m.group(4)) for m in _DIRECTIVE.finditer(text)
                 if m.group(1) in ("export", "part"))


def _snake(name: str) -> str:
    """``ElevatedButton`` -> ``elevated_button``: the file Dart's style names after what it defines."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip("_$")).lower()


@dataclass
class _Closure:
    """What one library and the files it exports define, learned `MAX_FILES` files a request: the name -> file
    map grows until the queue of files to read is empty (Flutter's material.dart reaches some 300 files)."""

    queue: list[tuple[int, int, int, str, Optional[frozenset[str]], frozenset[str]]]
    seen: set[str] = field(default_factory=set)
    defined: dict[str, str] = field(default_factory=dict)  # name -> the first file (breadth first) defining it
    pushed: int = 0
    born: float = field(default_factory=time.monotonic)  # read afresh after CLOSURE_SECONDS: a path dependency edited


_CLOSURES: OrderedDict[tuple[str, str], _Closure] = OrderedDict()  # (library key, package_config text) -> closure
_LOCK = threading.Lock()


def pub_definitions(ref: ImportRef, current_path: str, installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Installed file -> the names of the Dart import `ref` (of the file at `current_path`) it defines, in the
    order of `ref.names`; {} for a ``dart:`` or relative import, or a package the nearest package_config.json
    does not name. A library whose exports reach more than `MAX_FILES` files is read further at each request
    (what was read is remembered, checked against the file's text when used)."""
    if not ref.module.startswith("package:"):
        return {}
    folder = nearest_config(current_path, installed)
    if folder is None:
        return {}
    config = installed[config_key(folder)]
    packages = package_roots(config)
    entry = library_file(ref.module, folder, packages)
    if entry is None or entry not in installed:
        return {}
    names = list(dict.fromkeys(ref.names))[:MAX_NAMES]
    if not names:  # ``import 'package:x/x.dart';`` used nowhere yet: the library's head
        return {entry: []}
    with _LOCK:
        closure = _CLOSURES.get((entry, config))
        if closure is None or time.monotonic() - closure.born > CLOSURE_SECONDS or any(
                not _still_defines(closure.defined[n], n, installed) for n in names if n in closure.defined):
            closure = _Closure([(0, 0, 0, entry, None, frozenset())])  # new, old, or a file changed: read again
        _CLOSURES[(entry, config)] = closure
        _CLOSURES.move_to_end((entry, config))
        while len(_CLOSURES) > MAX_CLOSURES:
            _CLOSURES.popitem(last=False)
        if any(n not in closure.defined for n in names):
            _read_more(closure, set(names) - closure.defined.keys(), folder, packages, installed)
        found: dict[str, list[str]] = {}
        for name in names:
            if name in closure.defined:
                found.setdefault(closure.defined[name], []).append(name)
    return found


def _still_defines(path: str, name: str, installed: Mapping[str, str]) -> bool:
    return path in installed and name in defined_names(installed[path], "dart")


def _read_more(closure: _Closure, wanted: set[str], folder: str, packages: Mapping[str, Package],
               installed: Mapping[str, str]) -> None:
    """Read up to `MAX_FILES` more files of `closure` (those named after a `wanted` name first), until every
    wanted name is found."""
    stems = {_snake(n) for n in wanted}
    reads = 0
    while closure.queue and wanted and reads < MAX_FILES:
        _, depth, _, path, shown, hidden = heapq.heappop(closure.queue)
        if path in closure.seen or path not in installed:
            continue
        closure.seen.add(path)
        reads += 1
        text = installed[path]
        for name in defined_names(text, "dart"):
            if (shown is None or name in shown) and name not in hidden:
                closure.defined.setdefault(name, path)
                wanted.discard(name)
        if depth >= FOLLOW_DEPTH:
            continue
        for kind, uri, tail in _directives(text):
            target = _target(uri, path, folder, packages)
            if target is None or target in closure.seen:
                continue
            more_shown, more_hidden = _filter(tail) if kind == "export" else (None, frozenset())
            next_shown = shown if more_shown is None else more_shown if shown is None else shown & more_shown
            closure.pushed += 1
            first = 0 if posixpath.basename(target).rsplit(".", 1)[0] in stems else 1
            heapq.heappush(closure.queue, (first, depth + 1, closure.pushed, target, next_shown, hidden | more_hidden))

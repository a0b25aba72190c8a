"""Where a Go import the workspace does not resolve lies in Go's module cache. Pure.

``go mod download`` (and every build) unpacks each module a project requires into the module cache
(``$GOMODCACHE``, else ``$GOPATH/pkg/mod``, else ``~/go/pkg/mod``) as ``<module path>@<version>/``, capital
letters escaped as ``!`` and the lower-case letter (``github.com/!burnt!sushi/toml@v1.3.2``). The files come
through `fim.dependencies`' `installed` mapping, by the keys ``go-modules/<escaped path>@<version>/...`` (a
key ending with ``/`` lists a package folder's files) and the workspace-relative ``go.mod`` nearest the file.

`package_folder` maps an import path (``github.com/spf13/cobra/doc``) to the cache folder of its package: the
``require`` of the nearest go.mod whose module path is the import's longest prefix, at the version it names,
or at the version and path a ``replace`` gives it. A module the nearest ``go.work`` uses (``use ./a``, ``use
(...)``) and a replacement by a local folder (``replace x => ../lib``; go.work's replacements win) are that
folder, workspace-relative and maybe above the workspace (``../lib/x/``: the server reads Go's files there);
one inside the workspace is the workspace's own (`fim.languages.go` resolves it first).
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import Mapping, Optional

from fim.languages.base import nearest_file

GO_MODULES = "go-modules/"
_LINE = re.compile(r"^([^\s/]\S*)\s+(v\S+)")


def package_folder(import_path: str, current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The key (ending with ``/``) of the folder holding the package `import_path`, for the file
    `current_path`: a module the nearest go.work uses, a local replacement's folder (workspace-relative, maybe
    above it: ``../lib/x/``), else the module cache's; None when no go.mod above it requires a module the path
    lies in."""
    work = nearest_file(current_path, ("go.work",), installed)
    work_replaces: dict[tuple[str, str], tuple[str, str]] = {}
    used: dict[str, str] = {}  # module path -> folder, of the modules go.work uses
    if work is not None:
        uses, work_replaces = _parse_go_work(installed[work])
        for folder in (f for f in (_local(posixpath.dirname(work), use) for use in uses) if f is not None):
            manifest = f"{folder}/go.mod" if folder != "." else "go.mod"
            module = _module_path(installed[manifest]) if manifest in installed else ""
            if module:
                used.setdefault(module, folder)
    manifest = nearest_file(current_path, ("go.mod",), installed)
    requires, replaces = _parse_go_mod(installed[manifest]) if manifest is not None else ({}, {})
    # the longest module path the import lies in, of those go.work uses (first) and go.mod requires
    found = [m for m in list(used) + list(requires) if import_path == m or import_path.startswith(m + "/")]
    if not found:
        return None
    module = max(found, key=len)
    if module in used:
        return _folder(used[module], import_path[len(module):])
    version = requires[module]
    rest = import_path[len(module):]
    replaced = _replaced(work_replaces, module, version)  # go.work's replacements win
    base = posixpath.dirname(work if replaced is not None and work is not None else manifest or "")
    module, version = replaced or _replaced(replaces, module, version) or (module, version)
    if module.startswith((".", "/")):  # a local replacement: the folder, relative to its go.mod (or go.work)
        folder = _local(base, module) if module.startswith(".") else None
        return _folder(folder, rest) if folder is not None else None
    if not version:
        return None
    return f"{GO_MODULES}{escape(module)}@{escape(version)}{rest}/"


def _replaced(replaces: dict[tuple[str, str], tuple[str, str]], module: str,
              version: str) -> Optional[tuple[str, str]]:
    return replaces.get((module, version)) or replaces.get((module, ""))


def _local(base: str, relative: str) -> Optional[str]:
    """The workspace-relative folder (``.``, ``lib``, ``../lib``) a ``./x`` or ``../x`` path from `base` names."""
    if not relative.startswith((".", "..")) or "\\" in relative:
        return None
    return posixpath.normpath(posixpath.join(base, relative))


def _folder(folder: Optional[str], rest: str) -> Optional[str]:
    if folder is None:
        return None
    path = posixpath.normpath(folder + rest)
    return None if path == "." else path + "/"


def _module_path(text: str) -> str:
    m = re.search(r"(?m)^module[ \t]+\"?([^\s\"]+)", text)
    return m.group(1) if m else ""


def escape(path: str) -> str:
    """A module path or version as the cache spells it: ``github.com/BurntSushi`` -> ``github.com/!burnt!sushi``."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


@lru_cache(maxsize=8)
def _parse_go_work(text: str) -> tuple[tuple[str, ...], dict[tuple[str, str], tuple[str, str]]]:
    """A go.work's ``use`` folders and its ``replace`` directives (which win over its modules' go.mod)."""
    uses = [line.split("//")[0].strip().strip('"') for line in _directive_bodies(text, "use")]
    return tuple(u for u in uses if u), _parse_go_mod(text)[1]


def _directives(text: str) -> list[tuple[str, str]]:
    """(directive, body) of each line of a go.mod or go.work, comments cut: ``use ./a``, and each line of a block
    with the block's directive (``require ( ... )``)."""
    out = []
    block = ""
    for raw in text.split("\n"):
        line = raw.split("//")[0].strip()
        if block:
            if line == ")":
                block = ""
            elif line:
                out.append((block, line))
            continue
        directive, _, body = line.partition(" ")
        body = body.strip()
        if body == "(":
            block = directive
        elif body:
            out.append((directive, body))
    return out


def _directive_bodies(text: str, wanted: str) -> list[str]:
    """The bodies of one directive of a go.mod or go.work, one line each (``use ./a``, ``use ( ... )``)."""
    return [body for directive, body in _directives(text) if directive == wanted]


@lru_cache(maxsize=8)
def _parse_go_mod(text: str) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, str]]]:
    """(module path -> required version, (module path, version or "") -> (replacement path, version or ""))."""
    requires: dict[str, str] = {}
    replaces: dict[tuple[str, str], tuple[str, str]] = {}
    for directive, body in _directives(text):
        if directive == "require":
            m = _LINE.match(body)
            if m:
                requires[m.group(1).strip('"')] = m.group(2)
        elif directive == "replace" and "=>" in body:
            old, new = (side.split() for side in body.split("=>", 1))
            if old and new:
                replaces[(old[0].strip('"'), old[1] if len(old) > 1 else "")] = (
                    new[0].strip('"'), new[1] if len(new) > 1 else "")
    return requires, replaces

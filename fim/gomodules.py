"""Where a Go import the workspace does not resolve lies in Go's module cache. Pure.

``go mod download`` (and every build) unpacks each module a project requires into the module cache
(``$GOMODCACHE``, else ``$GOPATH/pkg/mod``, else ``~/go/pkg/mod``) as ``<module path>@<version>/``, capital
letters escaped as ``!`` and the lower-case letter (``github.com/!burnt!sushi/toml@v1.3.2``). The files come
through `fim.dependencies`' `installed` mapping, by the keys ``go-modules/<escaped path>@<version>/...`` (a
key ending with ``/`` lists a package folder's files) and the workspace-relative ``go.mod`` nearest the file.

`package_folder` maps an import path (``github.com/spf13/cobra/doc``) to the cache folder of its package: the
``require`` of the nearest go.mod whose module path is the import's longest prefix, at the version it names,
or at the version and path a ``replace`` gives it (a replacement by a local folder is the workspace's).
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import Mapping, Optional

GO_MODULES = "go-modules/"
_LINE = re.compile(r"^([^\s/]\S*)\s+(v\S+)")


def package_folder(import_path: str, current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The key (ending with ``/``) of the module cache folder holding the package `import_path`, for the
    file `current_path`; None when no go.mod above it requires a module the path lies in."""
    manifest = _nearest_go_mod(current_path, installed)
    if manifest is None:
        return None
    requires, replaces = _parse_go_mod(installed[manifest])
    found = [m for m in requires if import_path == m or import_path.startswith(m + "/")]
    if not found:
        return None
    module = max(found, key=len)
    version = requires[module]
    rest = import_path[len(module):]
    module, version = replaces.get((module, version)) or replaces.get((module, "")) or (module, version)
    if module.startswith((".", "/")) or not version:
        return None  # a local replacement: a folder of the workspace, not the cache
    return f"{GO_MODULES}{escape(module)}@{escape(version)}{rest}/"


def escape(path: str) -> str:
    """A module path or version as the cache spells it: ``github.com/BurntSushi`` -> ``github.com/!burnt!sushi``."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


def _nearest_go_mod(current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    folder = posixpath.dirname(current_path)
    while True:
        path = posixpath.join(folder, "go.mod") if folder else "go.mod"
        if path in installed:
            return path
        if not folder:
            return None
        folder = posixpath.dirname(folder)


@lru_cache(maxsize=8)
def _parse_go_mod(text: str) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, str]]]:
    """(module path -> required version, (module path, version or "") -> (replacement path, version or ""))."""
    requires: dict[str, str] = {}
    replaces: dict[tuple[str, str], tuple[str, str]] = {}
    block = ""
    for raw in text.split("\n"):
        line = raw.split("//")[0].strip()
        if block:
            if line == ")":
                block = ""
                continue
            directive, body = block, line
        else:
            directive, _, body = line.partition(" ")
            body = body.strip()
            if body == "(":
                block = directive
                continue
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

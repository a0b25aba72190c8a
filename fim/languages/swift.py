"""Swift's visibility: every file of a module sees the others' declarations without an import. A
module is the folder of a Swift package's target (``Sources/<Target>``), else the folder holding the
CocoaPods spec or Swift package manifest above the file, else the file's own folder.
Definitions come from the brace model (`fim.languages.brace`)."""

from __future__ import annotations

import posixpath

from fim.languages.base import PathIndex

def _marks_a_module(path: str) -> bool:
    """A CocoaPods spec or a Swift package manifest."""
    return path.endswith(".podspec") or posixpath.basename(path) == "Package.swift"


def module_root(current: str, index: PathIndex) -> str:
    """The folder of the module `current` belongs to ("" for the workspace's top)."""
    folder = posixpath.dirname(current)
    d = folder
    while True:
        parent = d.rpartition("/")[0]
        if d and posixpath.basename(parent) == "Sources":
            return d
        if any(_marks_a_module(p) for p in index.by_dir.get(d, ())):
            return d
        if not d:
            return folder
        d = parent


def siblings(current: str, index: PathIndex) -> list[str]:
    """The other Swift files of the module, the nearest folders first (the current one, then its
    neighbours: the fewer folders up and down between them, the nearer)."""
    root = module_root(current, index)
    key = ("swift", "module", root)
    files = index.derived.get(key)
    if files is None:
        files = [p for d, held in index.by_dir.items() if d == root or not root or d.startswith(root + "/")
                 for p in held if p.endswith(".swift") and posixpath.basename(p) != "Package.swift"]
        index.derived[key] = files
    here = posixpath.dirname(current).split("/")
    return sorted((p for p in files if p != current), key=lambda p: (_steps(here, p.split("/")[:-1]), p))


def _steps(a: list[str], b: list[str]) -> int:
    """Folders up and down from folder `a` to folder `b` (as lists of names)."""
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return len(a) + len(b) - 2 * common

"""Find what a file imports and which workspace files those imports name. Pure: text in, paths out.

The per-language parsing and resolution live in the language registry (`fim.languages`); this
module is the language-blind front: `imported_modules` reads a file's imports (tree-sitter for the
brace languages, so it works on the half-typed code an editor holds), and `resolve` maps one
import to the workspace-relative paths (POSIX separators) it refers to, looking only at the known
paths (and the configuration files a `PathIndex` holds), so standard-library and third-party
imports simply resolve to nothing.
"""

from __future__ import annotations

from typing import Collection, Iterable, Mapping, Optional

from fim import languages
from fim.languages import language_of, same_family
from fim.languages.base import ImportRef, PathIndex

__all__ = ["ImportRef", "PathIndex", "imported_modules", "language_of", "path_index", "resolve", "same_family"]

RESOLVED_MEMO = 4096  # resolutions remembered per PathIndex


def imported_modules(text: str, language: str) -> list[ImportRef]:
    """The imports of `text` (`language`: a languageId or a name) in source order; duplicates
    merged (names united), those visible in different blocks (Rust's ``use`` in a function) kept apart."""
    entry = languages.get(language)
    if entry is None or entry.imports is None:
        return []
    merged: dict[tuple[str, bool, tuple[int, ...]], ImportRef] = {}
    for ref in entry.imports(text):
        key = (ref.module, ref.system, ref.block)
        old = merged.get(key)
        if old is None:
            merged[key] = ref
        else:
            names = old.names + tuple(n for n in ref.names if n not in old.names)
            merged[key] = ImportRef(old.module, names, old.language, old.line, old.system, old.star or ref.star,
                                    old.block)
    return sorted(merged.values(), key=lambda r: r.line)


def path_index(known_paths: Iterable[str], configs: Optional[Mapping[str, str]] = None) -> PathIndex:
    """Prebuild the lookup tables for many `resolve` calls over the same paths (`configs`: the text
    of the go.mod, Cargo.toml, tsconfig.json, package.json and compile_commands.json files)."""
    if isinstance(known_paths, PathIndex):
        if configs is not None:
            known_paths.set_configs(configs)
        return known_paths
    return PathIndex(known_paths, configs)


def resolve(ref: ImportRef, current_relpath: str, known_paths: Collection[str]) -> list[str]:
    """Workspace paths that `ref` (imported from `current_relpath`) names; [] when none is known."""
    index = path_index(known_paths)
    current = current_relpath.replace("\\", "/")
    known = index.resolved.get((ref, current))
    if known is not None:
        return list(known)
    entry = languages.get(ref.language, current)
    resolver = entry.resolve if entry is not None else None
    found = [p for p in dict.fromkeys(resolver(ref, current, index)) if p != current] if resolver else []
    if len(index.resolved) >= RESOLVED_MEMO:
        index.resolved.clear()
    index.resolved[(ref, current)] = found
    return list(found)

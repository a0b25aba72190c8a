"""The member being typed after an installed module's name (``flag.|``, ``httpcore.Conn|``, ``http2.|``). Pure.

The names a document already uses bring their installed definitions (`fim.dependencies`); the member being typed
is not in the document yet, so nothing brings its definition. `cursor_member` reads the qualified name right before
the cursor (``flag.`` and the part typed after it); `member_definitions` finds the import that qualifier names by
the language's own reading of the document with a probe name typed there (the import whose ``alias.name`` uses then
hold the probe: aliases, ``import x as y``, Go's package names, a namespace import), asks the language for the
public names that module offers (`fim.dependencies.module_names`), those starting with the typed part only, and
maps them to the installed files defining them, as `fim.dependencies.installed_definitions` does for the names used;
where more than the limit start so (``ts.|``: thousands; `fim.popular.SHOWN`, more where the prompt has room), those
the project's other files use first (`fim.popular`).
Python's qualifier may be a chain through installed submodules, or a submodule imported by name (``np.linalg.no|``,
``nn.`` after ``from torch import nn``): `fim.pychains` reads it where no import's alias holds the probe; else an
object of an installed class (``client.ge|`` after ``client = httpx.Client()``): `fim.pyreceivers` infers the class
and offers its members.
In Java and Kotlin the qualifier is an imported class (``StringUtils.ind|``: ``import a.b.StringUtils;``, else a
package import ``a.b.*`` whose package a dependency jar holds it in) and the names offered are its public members
(`fim.jars.class_members`).
In Lua a method typed (``cli:pa|``) counts as a member, and Neovim's API needs no ``require``: ``vim.api.nvim_buf_|``
(``api.nvim_buf_|`` after ``local api = vim.api``) offers the runtime's functions (`fim.luamodules.neovim_member`).
In JavaScript and TypeScript a name imported from a package whose declarations make it a namespace, enum or class
(``window.showInf|``, ``vscode.window.|``, ``ts.SyntaxKind.Ide|``) brings that declaration's members first
(`fim.namespaces`), an object whose declared type is one (``node.mem|`` after ``node: ts.InterfaceDeclaration``,
``new QueryClient()``) that type's instance members (`fim.tsinstances`); a name the package re-exports as a whole
module (``DomUtils.getT|``, ``hp.DomUtils.getT|``: htmlparser2's ``export * as DomUtils from "domutils"``) that
module's names (`fim.dependencies.reexported_module`); in TypeScript, those that may stand at the cursor first
(``let options: http2.|``: its interfaces; ``http2.|`` in an expression: its functions; `fim.namespaces.by_position`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Mapping, Optional, Sequence

from fim import languages
from fim.crates import qualified_paths
from fim.gems import probed_require
from fim.dependencies import (installed_definitions, module_names, namespace_definitions, namespace_names,
                              node_entry, reexported_module)
from fim.imports import ImportRef, imported_modules
from fim.jars import class_members
from fim.luamodules import neovim_member
from fim.popular import SHOWN, Ranker
from fim.pychains import chain_member_definitions
from fim.pyreceivers import receiver_member_definitions
from fim.tsinstances import instance_member_definitions
from fim.namespaces import (CHAIN, by_position, declared_kinds, local_names, namespace_member_definitions,
                            wants_types)

PROBE = "DeepfimMemberProbe"  # a name no installed package defines, valid in every language (Go: exported)
# ``alias.`` or ``alias::`` then the part of the member typed, at the end of the text before the cursor
_MEMBER = re.compile(r"(?<![\w$.:\\>])([A-Za-z_$][\w$]*)(\.|::)([A-Za-z_$][\w$]*)?\Z")
_LUA_MEMBER = re.compile(r"(?<![\w.:])([A-Za-z_]\w*)([.:])([A-Za-z_]\w*)?\Z")  # Lua's method call too: ``cli:``


def cursor_member(before_cursor: str, lua: bool = False) -> Optional[tuple[int, str, str]]:
    """(where the member starts in `before_cursor`, the qualifier, the part of the member typed) when the
    text before the cursor ends with ``qualifier.`` or ``qualifier::`` (with `lua`, ``qualifier.`` or
    ``qualifier:``) and an identifier's start; else None. Only a one-word qualifier (an import's alias):
    ``np.linalg.`` is a submodule's member (`fim.pychains`)."""
    m = (_LUA_MEMBER if lua else _MEMBER).search(before_cursor[-200:])
    if m is None:
        return None
    start = len(before_cursor) - len(m.group(3) or "")
    return start, m.group(1), m.group(3) or ""


def member_definitions(document: str, lines: Sequence[str], cursor_line: int, column: int, language: str,
                       current_path: str, installed: Mapping[str, str],
                       rank: Optional[Ranker] = None, limit: int = SHOWN) -> tuple[str, dict[str, list[str]]]:
    """(the part of the member typed, installed file -> the names it defines that the module qualified at the
    cursor offers: those starting with the typed part, else (none does) all, at most `limit` in the module's
    order, or where more start so, those `rank` picks: `fim.popular.ProjectUses.rank`); ("", {}) where the cursor
    follows no installed module's name."""
    if not 0 <= cursor_line < len(lines):
        return "", {}
    chained = namespace_member_definitions(lines, cursor_line, column, language, current_path, installed,
                                           document, rank, limit)
    if chained is not None:  # ``window.showInf|``, ``ts.SyntaxKind.Ide|``: a namespace's, enum's or class's members
        return chained
    instance = instance_member_definitions(lines, cursor_line, column, language, current_path, installed, document,
                                           rank, limit)
    if instance is not None:  # ``node.mem|`` after ``(node: ts.InterfaceDeclaration)``: its type's members
        return instance
    reexported = _reexported_namespace(document, lines[cursor_line][:column], language, current_path, installed, rank,
                                       limit)
    if reexported is not None:  # ``DomUtils.getT|``: ``export * as DomUtils from "domutils"`` in the entry
        return reexported
    entry = languages.get(language)
    lua = entry is not None and entry.family == "lua"
    runtime = neovim_member(document, lines[cursor_line][:column]) if lua else None
    if runtime is not None:  # ``vim.api.nvim_buf_|``: Neovim's runtime, no ``require``
        return _offered_by(*runtime, language, current_path, installed, document, rank, limit)
    found = cursor_member(lines[cursor_line][:column], lua=lua)
    ref = _probed(_probe(lines, cursor_line, found[0]), language, found[1]) if found is not None else None
    if ref is None and entry is not None and entry.family == "python":  # ``np.linalg.no|``, ``nn.``
        chained = chain_member_definitions(document, lines[cursor_line][:column], current_path, installed, rank,
                                           limit)
        if chained[1]:
            return chained
        # ``client.ge|`` after ``client = httpx.Client()``: the object's installed class's members
        return receiver_member_definitions(document, lines, cursor_line, column, installed, rank, limit) or chained
    if found is None:
        return "", {}
    start, qualifier, typed = found
    if ref is None and entry is not None and entry.family == "ruby":  # ``Rack::``: the require owning the path
        ref = probed_require(document, lines[cursor_line][:start] + PROBE, PROBE)
    if ref is None and entry is not None and entry.family == "jvm":  # ``StringUtils.ind``: the class imported
        ref = _imported_class(document, language, qualifier, current_path, installed)
    if ref is None:
        return typed, {}
    offered = module_names(ref, current_path, installed)
    # (a name may come qualified: Ruby's ``Rack::Head``) none starting so (a typo): all of them
    names = [n for n in offered if n.rpartition("::")[2].startswith(typed)] or offered
    if not names:
        return typed, {}
    if entry is not None and entry.family == "javascript":  # ``let options: http2.|``: its interfaces first
        module = node_entry(ref.module, current_path, installed)
        kinds = declared_kinds(installed[module]) if module is not None and module in installed else {}
        qualified = lines[cursor_line][:start].rstrip(".")  # ``let options: http2``
        types = wants_types(language, qualified[:len(qualified) - len(qualifier)])
        names = by_position(names, kinds, types, rank, qualifier, limit)
    else:
        names = rank(names, qualifier, limit) if rank is not None else names[:limit]
    return typed, installed_definitions(replace(ref, names=tuple(names)), current_path, document, installed,
                                        limit)


def _offered_by(modules: Sequence[str], typed: str, qualifier: str, language: str, current_path: str,
                installed: Mapping[str, str], document: str,
                rank: Optional[Ranker], limit: int) -> tuple[str, dict[str, list[str]]]:
    """(`typed`, installed file -> the names starting with `typed` that the Lua `modules` offer, those `rank` picks
    where more than `limit` do): the member of Neovim's runtime being typed."""
    found: dict[str, list[str]] = {}
    for module in modules:
        ref = ImportRef(module, (), language)
        offered = [n for n in module_names(ref, current_path, installed) if n.startswith(typed)]
        names = rank(offered, qualifier, limit) if rank is not None else offered[:limit]
        if names:
            found.update(installed_definitions(replace(ref, names=tuple(names)), current_path, document, installed,
                                               limit))
    return typed, found


def _reexported_namespace(document: str, before_cursor: str, language: str, current_path: str,
                          installed: Mapping[str, str], rank: Optional[Ranker], limit: int
                          ) -> Optional[tuple[str, dict[str, list[str]]]]:
    """(the part typed, installed file -> the names starting with it) after a name that a JavaScript or TypeScript
    package re-exports as a whole module (``import { DomUtils } from "htmlparser2"; DomUtils.getT|`` or
    ``hp.DomUtils.getT|``, the entry's ``export * as DomUtils from "domutils"``); None for any other cursor."""
    entry = languages.get(language)
    m = CHAIN.search(before_cursor[-300:]) if entry is not None and entry.family == "javascript" else None
    if m is None or m.group(1) not in local_names(document):
        return None
    module, imported = local_names(document)[m.group(1)]
    segments = m.group(2).split(".")[1:]
    if imported == "*" and len(segments) == 1:
        name = segments[0]
    elif imported not in ("*", "default") and not segments:
        name = imported
    else:
        return None
    package = node_entry(module, current_path, installed)
    target = reexported_module(package, name, installed) if package is not None else None
    if target is None:
        return None
    typed = m.group(3) or ""
    offered = namespace_names(target, installed)
    names = [n for n in offered if n.startswith(typed)] or offered
    names = rank(names, name, limit) if rank is not None else names[:limit]
    return typed, namespace_definitions(target, names, document, installed) if names else {}


def _imported_class(document: str, language: str, name: str, current_path: str,
                    installed: Mapping[str, str]) -> Optional[ImportRef]:
    """The Java or Kotlin import of the class `name` (``import a.b.StringUtils;``, else the first ``import a.b.*;``
    whose package a dependency jar holds it in); None where no import names it."""
    refs = imported_modules(document, language)
    named = next((r for r in refs if not r.star and r.names == (name,) and r.module.endswith("." + name)), None)
    if named is not None:
        return named
    return next((replace(r, module=f"{r.module[:-2]}.{name}", names=(), star=False) for r in refs
                 if r.module.endswith(".*") and class_members(f"{r.module[:-2]}.{name}", current_path, installed)[0]),
                None)


def _probe(lines: Sequence[str], cursor_line: int, start: int) -> str:
    """The document with PROBE typed at `start` of the cursor's line, the rest of that line cut."""
    return "\n".join(list(lines[:cursor_line]) + [lines[cursor_line][:start] + PROBE] + list(lines[cursor_line + 1:]))


@lru_cache(maxsize=8)  # typing the member's name reads the same probe text again
def _probed(probe: str, language: str, qualifier: str) -> Optional[ImportRef]:
    """The import of `probe` whose uses hold PROBE: the module `qualifier` names at the cursor (Rust: a crate's path
    used without a ``use``, ``serde_json::``; a module a ``use`` brings, ``use memchr::{memchr, memmem}``:
    ``memchr::memmem``, ``use regex_syntax::hir::{self, Hir}``: ``regex_syntax::hir``)."""
    refs = imported_modules(probe, language)
    found = next((r for r in refs if PROBE in r.names), None)
    entry = languages.get(language)
    if entry is None or entry.family != "rust":
        return found
    if found is None:  # ``use regex_syntax::hir::{self, Hir}`` then ``hir::``
        found = next((replace(r, names=()) for r in refs if r.module.rpartition("::")[2] == qualifier), None)
    if found is None:
        tail = "::" + PROBE
        return next((replace(r, module=r.module[:-len(tail)], names=()) for r in qualified_paths(probe, tuple(refs))
                     if r.module.endswith(tail)), None)
    if found.module.rpartition("::")[2] != qualifier:
        return replace(found, module=f"{found.module}::{qualifier}")
    return found

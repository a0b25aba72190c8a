"""TypeScript and JavaScript: the member typed on an object whose type an installed package declares
(``node.mem|`` after ``function visit(node: ts.InterfaceDeclaration)``, ``client.get|`` after ``const client = new
QueryClient()``). Pure.

`fim.namespaces` offers the members of what a package exports, after the imported name (``ts.SyntaxKind.|``); an
object's members follow a local name. `instance_member_definitions` reads the receiver before the cursor (``name.``
or ``this.name.``) and the type the document's lines above the cursor give it, nearest first: an annotation
(``const x: ts.Node =``, a parameter's ``node: ts.Node``, a field's or a constructor's parameter property's
``private readonly client: QueryClient``; ``T | undefined`` and ``T<...>`` read as ``T``) or a ``new T(`` assigned to
it. The type must be an imported name, or a chain through one (``ts.InterfaceDeclaration``), that names a class or an
interface of the package's declarations (`fim.namespaces.resolve`); its instance members starting with the part
typed (else all) come first, then those of the declarations it ``extends`` (``interface InterfaceDeclaration
extends DeclarationStatement``, up to MAX_BASES levels, a name once), at most `limit`, `rank`
choosing among more: each a dotted name that `fim.namespaces.member_spans` cuts under its container's head.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Mapping, Optional, Sequence

from fim.namespaces import (CHAIN, _declaration_path, _is_script, _type_scope, declarations, local_names,
                            resolve)
from fim.popular import SHOWN

MAX_SCAN = 400  # lines above the cursor searched for the receiver's type
MAX_BASES = 4  # levels of ``extends`` followed
_TYPE = r"([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)"
_MODIFIERS = r"(?:(?:public|private|protected|readonly|override|declare|static)\s+)*"
_EXTENDS = re.compile(r"\bextends\s+([^{]*?)\s*(?:\bimplements\b|\{|$)")


def instance_member_definitions(lines: Sequence[str], cursor_line: int, column: int, language: str,
                                current_path: str, installed: Mapping[str, str], document: str,
                                rank: Optional[Callable[[Sequence[str], str, int], list[str]]] = None,
                                limit: int = SHOWN) -> Optional[tuple[str, dict[str, list[str]]]]:
    """(the part typed, {declaration file: the dotted names of the members offered}) where the cursor follows
    ``name.`` or ``this.name.`` whose type the document declares from an installed package; None elsewhere."""
    if not _is_script(language) or not 0 <= cursor_line < len(lines):
        return None
    m = CHAIN.search(lines[cursor_line][:column][-300:])
    if m is None:
        return None
    segments = m.group(2).split(".")[1:]
    this = m.group(1) == "this"
    if len(segments) != (1 if this else 0) or m.group(1) in local_names(document):
        return None
    name = segments[0] if this else m.group(1)
    declared = declared_type(lines, cursor_line, name, this)
    head, _, rest = declared.partition(".") if declared else ("", "", "")
    if not head or head not in local_names(document):
        return None
    target = _declaration_path(head, rest.split(".") if rest else [], current_path, installed, document)
    if target is None or not target[1]:
        return None
    path, chain = target
    scopes = declarations(installed[path])
    outer = resolve(scopes, chain[:-1]) if len(chain) > 1 else ((), None, [])
    scope = _type_scope(scopes, outer[0], chain[-1]) if outer is not None else None
    if scope is None:
        return None
    typed = m.group(3) or ""
    owners: dict[str, tuple[str, ...]] = {}  # member -> the container declaring it, the nearest first
    for container in _lineage(scopes, installed[path], scope):
        for member in scopes.get(container):
            if member.kind == "member" and not member.static and not member.name.startswith(("_", "#")) \
                    and member.name != "constructor":
                owners.setdefault(member.name, container)
    names = [n for n in owners if n.startswith(typed)] or list(owners)
    names = rank(names, name, limit) if rank is not None else names[:limit]
    return typed, {path: [".".join(owners[n] + (n,)) for n in names]} if names else {}


def declared_type(lines: Sequence[str], cursor_line: int, name: str, this: bool = False) -> str:
    """The dotted type name the lines above `cursor_line` give `name` (``this.name`` with `this`), nearest first:
    its annotation, or the class of a ``new`` assigned to it; "" where none does."""
    word = re.escape(name)
    annotated = re.compile(rf"(?:\b(?:const|let|var)\s+|(?:^|[(,])\s*{_MODIFIERS}){word}\??\s*:\s*{_TYPE}")
    assigned = r"(?:\b(?:const|let|var)\s+|this\.)" if this else r"\b(?:const|let|var)\s+"
    created = re.compile(rf"{assigned}{word}\s*=\s*(?:await\s+)?new\s+{_TYPE}")
    for k in range(cursor_line, max(-1, cursor_line - MAX_SCAN), -1):
        line = lines[k] if k != cursor_line else ""
        if name not in line:
            continue
        found = annotated.search(line) or created.search(line)
        if found is not None:
            return found.group(1)
    return ""


@lru_cache(maxsize=4)  # typescript.d.ts (580 KB): split once per version, not at each keystroke
def _rows(text: str) -> list[str]:
    return text.split("\n")


def _lineage(scopes, text: str, scope: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`scope` (a class or interface) then the declarations it extends, breadth first, each once."""
    rows = _rows(text)
    order, level = [scope], [scope]
    for _ in range(MAX_BASES):
        nxt = []
        for container in level:
            for declared in scopes.named(container[:-1], container[-1]):
                head = " ".join(rows[declared.start:max(declared.head, declared.start + 1)])
                found = _EXTENDS.search(head)
                for base in re.findall(r"[A-Za-z_$][\w$.]*(?:<[^<>]*>)?", found.group(1)) if found else ():
                    base_scope = _type_scope(scopes, container[:-1], base.split("<")[0].rpartition(".")[2])
                    if base_scope is not None and base_scope not in order:
                        order.append(base_scope)
                        nxt.append(base_scope)
        level = nxt
    return order

"""Members of an installed package's namespaces, enums and classes after an imported name (JavaScript, TypeScript).

`fim.member` brings what a module offers after its alias (``http2.|``); extension and compiler-API code mostly
imports names that are namespaces, enums or classes themselves and types their members: ``import { window } from
"vscode"; window.showInf|``, ``import * as vscode from "vscode"; vscode.window.showInf|``, ``import ts from
"typescript"; ts.SyntaxKind.Ide|`` (``export = ts``: a default or namespace import stands for ``ts``),
``ts.factory.createIde|`` (a ``const`` typed with an interface: that interface's members), ``Foo.create|`` (a
class's static members; ``import Client from "pkg"; Client.con|``: a default import without ``export =`` stands for
what the entry's ``export default class Client`` / ``function`` / ``Client;`` / ``{ Client as default }`` names,
`export_default`; ``import { Tokenizer } from "htmlparser2"; Tokenizer.isW|``: the class that the file of its ``export {
default as Tokenizer } from "./Tokenizer.js"`` names default). `declarations` reads a declaration file's nested members
once per text (rows and names, not the tree), those of ``declare module "vscode" { ... }`` blocks at the top;
`namespace_member_definitions` maps the chain being typed at the cursor to the members starting with the typed part,
`chained_uses` the chains a document uses (``window.showInformationMessage(``) to their declarations, as dotted names
(``window.showInformationMessage``, ``ts.NodeFactory.createIdentifier``) that the JavaScript model's `find` cuts: each
member's own lines under the heads of the declarations enclosing it (`member_spans`), not the whole namespace.
Where the cursor is in a type (``node: ts.|``, ``x as ts.|``, ``type A = http2.|``: `type_position`) the members that
may name one come first (interfaces, type aliases, classes, enums, namespaces), in an expression (``if (ts.|``)
those that name a value (`by_position`): ts-json-schema-generator's fresh ``ts.`` members, 240 uses, recall at 8K
0.746 -> 0.767. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import AbstractSet, Mapping, Optional, Sequence

from fim import languages
from fim.languages.treesitter import parse
from fim.popular import SHOWN, Ranker

MAX_MEMBERS = 48  # names of one installed file that a document's chains bring
MAX_CHAINS = 48  # chains of one import that a document uses, looked up
# ``name.a.b.`` and the part typed after it, at the end of the text before the cursor
CHAIN = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)((?:\.[A-Za-z_$][\w$]*)*)\.([A-Za-z_$][\w$]*)?\Z")
_IMPORT = re.compile(r"""(?m)^[ \t]*import[ \t]+(?:type[ \t]+)?([\w$\s,{}*]+?)\s*from\s*["']([^"']+)["']""")
_REQUIRE = re.compile(r"""(?m)^[ \t]*(?:import|const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*=[ \t]*require\([ \t]*["']"""
                      r"""([^"']+)["'][ \t]*\)""")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.")
_EXPORT_ASSIGNED = re.compile(r"(?m)^export\s*=\s*([A-Za-z_$][\w$]*)\s*;")
_EXPORT_DEFAULT = re.compile(r"(?m)^[ \t]*export\s+default\s+(?:declare\s+)?(?:abstract\s+)?"
                             r"(?:class|function|interface|enum|namespace)\s*\*?\s*([A-Za-z_$][\w$]*)"
                             r"|^[ \t]*export\s+default\s+([A-Za-z_$][\w$]*)\s*;"
                             r"|^[ \t]*export\s*\{[^}]*?([A-Za-z_$][\w$]*)\s+as\s+default\b")
_CONTAINERS = {"internal_module": "namespace", "module": "namespace", "enum_declaration": "enum",
               "class_declaration": "class", "abstract_class_declaration": "class",
               "interface_declaration": "interface"}
_OTHERS = {"function_signature": "function", "function_declaration": "function", "type_alias_declaration": "type"}
_CLASS_MEMBERS = frozenset({"method_signature", "method_definition", "abstract_method_signature",
                            "public_field_definition", "property_signature"})


@dataclass(frozen=True)
class Member:
    """One declaration inside a declaration file's namespace, enum, class or interface (or at its top)."""

    name: str
    start: int  # its rows [start, end)
    end: int
    head: int  # the row after the one opening its body (`end` where it has none)
    kind: str  # namespace, enum, class, interface, value, function, type, member
    static: bool  # a class's static member
    type_name: str  # a ``const``'s annotated type (``NodeFactory`` of ``const factory: ts.NodeFactory``), else ""
    heads: tuple[tuple[int, int], ...]  # the rows opening the declarations enclosing it, outermost first


class Scopes:
    """A declaration file's members by container path (``("ts", "SyntaxKind")``; ``()``: the file's top, where
    ``declare module "x"`` blocks' members are), in file order (merged declarations together), and by name."""

    def __init__(self, members: Mapping[tuple[str, ...], list[Member]]) -> None:
        self._members = {scope: tuple(found) for scope, found in members.items()}
        self._named: dict[tuple[tuple[str, ...], str], list[Member]] = {}
        for scope, found in members.items():
            for m in found:
                self._named.setdefault((scope, m.name), []).append(m)

    def get(self, scope: tuple[str, ...], default: tuple = ()) -> tuple[Member, ...]:
        """The members declared directly in `scope`."""
        return self._members.get(scope, default)

    def named(self, scope: tuple[str, ...], name: str) -> list[Member]:
        """The members of `scope` named `name` (an overloaded function's signatures, merged declarations)."""
        return self._named.get((scope, name), [])


@lru_cache(maxsize=8)  # typescript.d.ts (580 KB) is read once per version, whatever is asked of it
def declarations(text: str) -> Scopes:
    """The members `text` (a declaration file) declares in its namespaces, enums, classes and interfaces."""
    parsed = parse("typescript", text)
    out: dict[tuple[str, ...], list[Member]] = {}
    if parsed is None:
        return Scopes({})
    stack = [(parsed.root, (), ())]
    while stack:
        block, path, heads = stack.pop()
        for child in block.named_children:
            for outer, node in _unwrapped(child):
                _add(parsed, outer, node, path, heads, out, stack)
    return Scopes(out)


def _unwrapped(node) -> list:
    """(the statement, the declaration in it) of ``export ...``, ``declare ...`` and ``namespace x {}``."""
    if node.type == "export_statement":
        inner = node.child_by_field_name("declaration")
        return [(node, d) for _, d in _unwrapped(inner)] if inner is not None else []
    if node.type == "ambient_declaration":
        return [(node, d) for c in node.named_children for _, d in _unwrapped(c)]
    if node.type == "expression_statement" and node.named_children \
            and node.named_children[0].type == "internal_module":
        return [(node, node.named_children[0])]
    return [(node, node)]


def _add(parsed, outer, node, path: tuple[str, ...], heads: tuple, out: dict, stack: list) -> None:
    start, end = outer.start_point[0], _end_row(node)
    body = node.child_by_field_name("body")
    name_node = node.child_by_field_name("name")
    head = min(end, body.start_point[0] + 1) if body is not None else end
    if node.type == "module" and name_node is not None and name_node.type == "string":
        if body is not None:  # ``declare module "vscode" { ... }``: its members at the top
            stack.append((body, path, heads + ((start, head),)))
        return
    kind = _CONTAINERS.get(node.type) or _OTHERS.get(node.type)
    if kind is not None and name_node is not None:
        names = parsed.text(name_node).split(".")  # ``namespace a.b {``
        inner_path = path + tuple(names)
        out.setdefault(path + tuple(names[:-1]), []).append(
            Member(names[-1], start, end, head, kind, False, "", heads))
        if body is None:
            return
        inner_heads = heads + ((start, head),)
        if kind == "namespace":
            stack.append((body, inner_path, inner_heads))
        else:
            for m in body.named_children:
                member = _member(parsed, m, inner_heads)
                if member is not None:
                    out.setdefault(inner_path, []).append(member)
    elif node.type in ("lexical_declaration", "variable_declaration"):
        for d in node.named_children:
            name = d.child_by_field_name("name") if d.type == "variable_declarator" else None
            if name is None or name.type != "identifier":
                continue
            annotation = d.child_by_field_name("type")
            out.setdefault(path, []).append(Member(parsed.text(name), start, end, end, "value", False,
                                                   _type_name(parsed, annotation), heads))


def _member(parsed, node, heads: tuple) -> Optional[Member]:
    """An enum's, class's or interface's member (``Identifier = 80``, ``static create(): Foo;``), or None."""
    if node.type == "property_identifier":  # an enum member without a value
        name = parsed.text(node)
    elif node.type == "enum_assignment" or node.type in _CLASS_MEMBERS:
        found = node.child_by_field_name("name")
        if found is None or found.type not in ("property_identifier", "identifier"):
            return None
        if any(c.type == "accessibility_modifier" and parsed.text(c) == "private" for c in node.named_children):
            return None
        name = parsed.text(found)
    else:
        return None
    static = any(c.type == "static" for c in node.children)
    return Member(name, node.start_point[0], _end_row(node), _end_row(node), "member", static, "", heads)


def _type_name(parsed, annotation) -> str:
    """The name of a ``: Type`` annotation's type (``ts.NodeFactory``: ``NodeFactory``), "" for another type."""
    node = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    if node is not None and node.type == "union_type":  # ``TextEditor | undefined``
        node = next((c for c in node.named_children if c.type != "predefined_type"), None)
    if node is not None and node.type == "generic_type":
        node = node.child_by_field_name("name") or node
    if node is not None and node.type in ("type_identifier", "nested_type_identifier"):
        return parsed.text(node).rpartition(".")[2]
    return ""


def _end_row(node) -> int:
    row, col = node.end_point
    return row + 1 if col else max(row, node.start_point[0] + 1)


def resolve(scopes: Scopes, path: Sequence[str]) -> Optional[tuple[tuple[str, ...], Optional[bool], list[str]]]:
    """(the container whose members follow ``path.``, static members only (a class named) / instance members only
    (a ``const`` typed with a class or interface) / all (None), the dotted names of the ``const`` declarations
    walked through), or None where `path` names no namespace, enum or class of the file."""
    scope: tuple[str, ...] = ()
    static: Optional[bool] = None
    walked: list[str] = []
    for name in path:
        found = scopes.named(scope, name)
        kinds = {m.kind for m in found}
        if kinds & {"namespace", "enum", "class"}:
            static = None if kinds & {"namespace", "enum"} else True
            scope = scope + (name,)
        elif "value" in kinds and found[0].type_name:
            walked.append(".".join(scope + (name,)))
            typed = _type_scope(scopes, scope, found[0].type_name)
            if typed is None:
                return None
            scope, static = typed, False
        else:
            return None
    return scope, static, walked


def _type_scope(scopes: Scopes, scope: tuple[str, ...], name: str) -> Optional[tuple[str, ...]]:
    """The interface or class `name` as seen from inside `scope` (its own scope, then the enclosing ones)."""
    for k in range(len(scope), -1, -1):
        if any(m.kind in ("interface", "class") for m in scopes.named(scope[:k], name)):
            return scope[:k] + (name,)
    return None


def offered(scopes: Scopes, scope: tuple[str, ...], static: Optional[bool], typed: str,
            rank: Optional[Ranker] = None, qualifier: str = "",
            limit: int = SHOWN, types: Optional[bool] = None) -> list[str]:
    """The dotted names of the members of `scope` starting with `typed` (none does: with it in any case, else
    the first ones), static ones or instance ones only where `static` says, at most `limit`: the first ones,
    or those `rank` picks (`fim.popular`: the project's uses after `qualifier`, the chain's last name typed,
    first); with `types` (the cursor in a type, True, or in an expression, False: `type_position`), those that
    can stand there first (``node: ts.|``: interfaces, type aliases, classes, enums, namespaces; ``if (ts.|``: not
    the interfaces and type aliases)."""
    members = [m.name for m in scopes.get(scope, ()) if static is None or m.static == static]
    members = list(dict.fromkeys(n for n in members if not n.startswith(("_", "#"))))
    picked = [n for n in members if n.startswith(typed)] or [n for n in members if n.lower().startswith(
        typed.lower())] or members
    kinds: dict[str, set[str]] = {}
    for m in scopes.get(scope, ()) if types is not None else ():
        kinds.setdefault(m.name, set()).add(m.kind)
    return [".".join(scope + (n,)) for n in by_position(picked, kinds, types, rank, qualifier, limit)]


def by_position(names: Sequence[str], kinds: Mapping[str, AbstractSet[str]], types: Optional[bool],
                rank: Optional[Ranker], qualifier: str, limit: int) -> list[str]:
    """At most `limit` of `names`, those `rank` picks (else the first ones): with `types` (True: the cursor in a
    type, False: in an expression), first those of them whose declarations' `kinds` (a name -> its `Member.kind`s;
    a name without any: either) may stand there, then the others."""
    groups = [list(names)]
    if types is not None:
        fits = [not kinds.get(n) or bool(kinds[n] & _TYPE_KINDS if types else kinds[n] - _TYPE_ONLY) for n in names]
        groups = [[n for n, ok in zip(names, fits) if ok], [n for n, ok in zip(names, fits) if not ok]]
    chosen: list[str] = []
    for group in (g for g in groups if g):
        if len(chosen) < limit:
            chosen += rank(group, qualifier, limit - len(chosen)) if rank is not None else group[:limit - len(chosen)]
    return chosen


@lru_cache(maxsize=8)
def declared_kinds(text: str) -> dict[str, frozenset[str]]:
    """A declaration file's top-level names (``declare module "http2" { }`` blocks' too) -> their kinds."""
    kinds: dict[str, set[str]] = {}
    for m in declarations(text).get(()):
        kinds.setdefault(m.name, set()).add(m.kind)
    return {name: frozenset(found) for name, found in kinds.items()}


_TYPE_KINDS = frozenset({"namespace", "enum", "class", "interface", "type"})  # a member that may name a type
_TYPE_ONLY = frozenset({"interface", "type"})  # one that names no value
# the text before a chain where TypeScript expects a type: an annotation (``node: ``, ``): ``, ``x?: ``), ``as``,
# ``extends``, ``implements``, ``satisfies``, ``keyof``, a type predicate's ``is``, a type argument (``<``), a
# union's or intersection's other member (``| ``, ``& ``; not ``||``, ``&&``), a type alias's ``type X = ``; an
# optional ``(`` after them
_TYPE_POSITION = re.compile(r"(?:[\w$)\]]\??[ \t]*:(?!:)|(?<![\w$.])(?:as|extends|implements|satisfies|keyof|is)"
                            r"|<|(?<!\|)\||(?<!&)&|(?<![\w$.])type[ \t]+[A-Za-z_$][\w$]*(?:<[^=]*>)?[ \t]*=)"
                            r"[ \t]*\(?[ \t]*\Z")


def wants_types(language: str, before: str) -> bool:
    """Whether the cursor after `before` (the line's text before a qualified name) is in a type: never in
    JavaScript (its chains are values), `type_position` in TypeScript (and a Vue or Svelte file's script)."""
    entry = languages.get(language)
    return entry is not None and entry.name != "javascript" and type_position(before)


def type_position(before: str) -> bool:
    """Whether TypeScript reads a type at the end of `before` (the line's text before a qualified name), by its
    last tokens (`_TYPE_POSITION`); ``a ? b : ts.`` and an object literal's ``key: ts.`` read as one too."""
    return _TYPE_POSITION.search(before[-200:]) is not None


def member_spans(text: str, dotted: str) -> list[tuple[int, int]]:
    """The rows of each declaration of the dotted name (``window.showInformationMessage``: its overloads), each
    after the rows opening the declarations enclosing it; [] where the file declares no such member."""
    *scope, name = dotted.split(".")
    out: list[tuple[int, int]] = []
    for m in declarations(text).named(tuple(scope), name):
        out += [h for h in m.heads if h not in out] + [(m.start, m.head if m.kind in _KEEP_HEAD else m.end)]
    return out


_KEEP_HEAD = frozenset({"namespace", "enum", "class", "interface"})  # a container itself: its opening rows only


# ------------------------------------------------------------------------------------ the document's imports


@lru_cache(maxsize=16)
def local_names(document: str) -> dict[str, tuple[str, str]]:
    """Local name -> (module, the name it imports: ``*`` for a namespace import, ``default``, or the exported
    name) of the document's ``import`` statements and ``require`` calls."""
    out: dict[str, tuple[str, str]] = {}
    for m in _IMPORT.finditer(document):
        clause, module = m.group(1), m.group(2)
        named = re.search(r"\{([^}]*)\}", clause)
        rest = re.sub(r"\{[^}]*\}", "", clause)
        for part in named.group(1).split(",") if named else ():
            words = part.replace("type ", " ").split()
            if len(words) == 1:
                out[words[0]] = (module, words[0])
            elif len(words) == 3 and words[1] == "as":
                out[words[2]] = (module, words[0])
        for part in rest.split(","):
            words = part.split()
            if words[:2] == ["*", "as"] and len(words) == 3:
                out[words[2]] = (module, "*")
            elif len(words) == 1 and words[0] != "*":
                out[words[0]] = (module, "default")
    for m in _REQUIRE.finditer(document):
        out.setdefault(m.group(1), (m.group(2), "*"))
    return out


def _is_script(language: str) -> bool:
    entry = languages.get(language)
    return entry is not None and entry.family == "javascript"


def _declaration_path(local: str, segments: Sequence[str], current_path: str,
                      installed: Mapping[str, str], document: str) -> Optional[tuple[str, list[str]]]:
    """(the installed file, the path inside it) that ``local.a.b`` names, `local` imported by `document`."""
    from fim.dependencies import installed_definitions
    from fim.imports import ImportRef

    module, imported = local_names(document)[local]
    if imported not in ("*", "default"):
        first, rest = imported, list(segments)
    elif imported == "*" and segments:
        first, rest = segments[0], list(segments[1:])
    else:
        first, rest = "", list(segments)
    if first:
        ref = ImportRef(module, names=(first,), language="typescript")
        for path, names in installed_definitions(ref, current_path, "", installed).items():
            if names:  # ``export { default as Tokenizer } from "./Tokenizer.js"``: the class its file names default
                first = export_default(installed[path]) or names[0] if names[0] == "default" else names[0]
                return path, [first] + rest
    assigned = _assigned_entry(module, current_path, installed, imported == "default")  # ``export = ts``
    return (assigned[0], [assigned[1]] + list(segments)) if assigned is not None else None


@lru_cache(maxsize=16)  # asked at each chain of each keystroke; typescript.d.ts: 16 ms a search
def export_assigned(text: str) -> str:
    """The name a declaration file's ``export = ts;`` makes the module, "" for none."""
    found = _EXPORT_ASSIGNED.search(text)
    return found.group(1) if found else ""


def namespace_member_definitions(lines: Sequence[str], cursor_line: int, column: int, language: str,
                                 current_path: str, installed: Mapping[str, str],
                                 document: str, rank: Optional[Ranker] = None,
                                 limit: int = SHOWN) -> Optional[tuple[str, dict[str, list[str]]]]:
    """(the part typed, {installed file: the dotted names of the members starting with it, after the ``const``
    declarations the chain goes through}) for the cursor after ``name.`` or ``name.a.b.`` where ``name`` is
    imported (by name, or a namespace or default import of a module whose ``export =`` is a namespace) and the
    chain names a namespace, enum or class of the package's declarations or a ``const`` typed with an interface;
    None otherwise (`fim.member` then looks for a module's alias). `rank` picks among more than `limit`."""
    if not _is_script(language) or not 0 <= cursor_line < len(lines):
        return None
    m = CHAIN.search(lines[cursor_line][:column][-300:])
    if m is None or m.group(1) not in local_names(document):
        return None
    segments = m.group(2).split(".")[1:]
    module, imported = local_names(document)[m.group(1)]
    if imported == "*" and not segments and _assigned_entry(module, current_path, installed) is None:
        return None  # ``http2.|``: a module's names (`fim.member`)
    target = _declaration_path(m.group(1), segments, current_path, installed, document)
    if target is None:
        return None
    path, chain = target
    scopes = declarations(installed[path])
    resolved = resolve(scopes, chain)
    if resolved is None:
        return None
    scope, static, walked = resolved
    typed = m.group(3) or ""
    qualifier = segments[-1] if segments else m.group(1)  # ``factory`` of ``ts.factory.``: what the project writes
    before = lines[cursor_line][:column]
    types = wants_types(language, before[:len(before) - len(m.group(0))])
    names = walked + offered(scopes, scope, static, typed, rank, qualifier, limit, types)
    return typed, {path: names} if names else {}


def chained_uses(module: str, current_path: str, document: str, installed: Mapping[str, str],
                 found: dict[str, list[str]], limit: int = MAX_MEMBERS) -> dict[str, list[str]]:
    """`found` (installed file -> the names of `module` it defines that `document` uses) with each name the
    document uses as a chain (``window.showInformationMessage(``, ``ts.SyntaxKind.Identifier``) as the dotted names
    of the members it reaches instead: the namespace of hundreds of lines cut to what is used. The chains' first
    names are looked up in `found` (a namespace import's ``vscode.window``: ``window``), a module's ``export =
    ts`` once. At most `limit` names a file."""
    imports = local_names(document)
    locals_ = [local for local, (m, _) in imports.items() if m == module]
    if not locals_:
        return found
    chains = [(local, m.group(1)) for local in locals_
              for m in re.finditer(re.escape(local) + r"((?:\.[A-Za-z_$][\w$]*)+)", document)
              if not m.start() or document[m.start() - 1] not in _WORD]
    defined_in = {name: path for path, names in found.items() for name in names}
    for path, names in found.items():  # ``export { default as Tokenizer } from``: the class ``export default`` names
        if "default" in names and default_export_of(path, installed):
            defined_in.setdefault(default_export_of(path, installed), path)
    assigned: list[Optional[tuple[str, str]]] = []  # (entry, the name ``export =`` gives), looked up once

    def target(local: str, segments: list[str]) -> Optional[tuple[str, list[str]]]:
        imported = imports[local][1]
        first, rest = (imported, segments) if imported not in ("*", "default") else \
            (segments[0], segments[1:]) if imported == "*" and segments else ("", segments)
        if first:
            return (defined_in[first], [first] + rest) if first in defined_in else None
        if not assigned:
            assigned.append(_assigned_entry(module, current_path, installed, imported == "default"))
        return (assigned[0][0], [assigned[0][1]] + rest) if assigned[0] is not None else None

    out = {path: list(names) for path, names in found.items()}
    replaced: set[tuple[str, str]] = set()
    for local, tail in list(dict.fromkeys(chains))[:MAX_CHAINS]:
        parts = tail.split(".")[1:]
        for k in range(len(parts), 0, -1):  # the longest chain that reaches a declared member
            hit = _used_member(target(local, parts[:k - 1]), parts[k - 1], installed)
            if hit is not None:
                path, names, root = hit
                held = out.setdefault(path, [])
                held.extend(n for n in names if n not in held)
                replaced.add((path, root))
                if imports[local][1] == "default" or root not in found.get(path, ()) \
                        and root == default_export_of(path, installed):  # ``export default class Client``: too
                    replaced.add((path, "default"))
                break
    for path, name in replaced:  # the whole namespace no more: its members used
        out[path] = [n for n in out[path] if n != name]
    return {path: names[:limit] for path, names in out.items() if names}


@lru_cache(maxsize=16)
def export_default(text: str) -> str:
    """The name a declaration file's ``export default class Client``, ``export default function slugify``,
    ``export default Client;`` or ``export { Client as default }`` makes its default export, "" for none."""
    found = _EXPORT_DEFAULT.search(text)
    return next((name for name in found.groups() if name), "") if found else ""


def default_export_of(path: str, installed: Mapping[str, str]) -> str:
    """The name the installed declaration file `path` makes its default export (`export_default`), "" for none."""
    return export_default(installed[path]) if path.endswith(".ts") and path in installed else ""


def _assigned_entry(module: str, current_path: str, installed: Mapping[str, str],
                    default: bool = False) -> Optional[tuple[str, str]]:
    """(the declaration file `module` names, the namespace its ``export = ts;`` makes the module; for a `default`
    import without one, the declaration its ``export default`` names), or None."""
    from fim.dependencies import node_entry

    entry = node_entry(module, current_path, installed)
    text = installed[entry] if entry is not None and entry.endswith(".ts") and entry in installed else ""
    name = export_assigned(text) or (export_default(text) if default else "")
    return (entry, name) if entry is not None and name else None


def _used_member(target: Optional[tuple[str, list[str]]], member: str,
                 installed: Mapping[str, str]) -> Optional[tuple[str, list[str], str]]:
    """(the installed file, the dotted names of ``local.a.b.member``'s declaration and the ``const`` declarations
    on the way, the top name of the file it goes through) where `member` is declared in the container `target`
    (the file and the path ``local.a.b`` names in it, `_declaration_path`); else None."""
    if target is None:
        return None
    path, chain = target
    scopes = declarations(installed[path])
    resolved = resolve(scopes, chain)
    if resolved is None or not scopes.named(resolved[0], member):
        return None
    scope, _, walked = resolved
    return path, walked + [".".join(scope + (member,))], chain[0]

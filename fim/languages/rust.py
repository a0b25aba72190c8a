"""Rust: ``use`` and ``mod`` by tree-sitter; ``crate::``/``super::``/``self::`` paths, ``mod.rs`` and
sibling-module layouts, and the workspace's other crates (by their Cargo.toml names and ``[lib] name``s, and by
the nearest Cargo.toml's renamed or ``path`` dependencies: ``base = { path = "../core" }``). A registry crate's
definitions (`fim.crates`) come without their doc comments but for each one's first line (`BriefTreeFile`), the
others beside them without their attributes (`RustFile`)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from functools import lru_cache
from typing import Iterable, Optional

from fim.languages.base import BRACE_RULES, ImportRef, Language, PathIndex, first, uses
from fim.languages.treesitter import BriefTreeFile, Parsed, Spec, TreeFile, field_text, grammar, parse, parse_once

GRAMMAR = "rust"


MAX_USE_NESTING = 32  # brace levels of one ``use`` expanded (2,000 overflowed Python's stack)


def _use_paths(tree: str, prefix: str = "", level: int = 0) -> Iterable[tuple[str, tuple[str, ...], bool]]:
    """Expand ``a::{b, c::{d}}`` into (module path, names, star) triples, `MAX_USE_NESTING` levels deep."""
    tree = " ".join(tree.split())
    brace = tree.find("{")
    if brace < 0:
        path = (prefix + tree).split(" as ")[0].strip()
        head, _, last = path.rpartition("::")
        if last in ("*", "self"):
            yield head, (), last == "*"
        else:
            yield path, (last,) if last else (), False
        return
    head = prefix + tree[:brace]
    depth, start, items = 0, brace + 1, []
    for i in range(brace, len(tree)):
        c = tree[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                items.append(tree[start:i])
                break
        elif c == "," and depth == 1:
            items.append(tree[start:i])
            start = i + 1
    simple: list[str] = []
    star = False
    for item in items:
        item = item.strip()
        if not item or item == "self":
            continue
        if "{" in item or "::" in item:
            if level < MAX_USE_NESTING:
                yield from _use_paths(item, head, level + 1)
        elif item == "*":
            star = True
        else:
            simple.append(item.split(" as ")[0].strip())
    if head.endswith("::") and (simple or star):
        yield head[:-2], tuple(simple), star


def imports(text: str) -> list[ImportRef]:
    parsed = parse(GRAMMAR, text)
    if parsed is None:
        return []
    refs = _item_refs(parsed, parsed.root, ())
    refs.sort(key=lambda r: r.line)
    # ``use crate::parser::value;`` then ``value::parse()``: the names used through a module.
    used = uses(text, {n for r in refs for n in r.names}, r"[A-Za-z_]\w*", "::")
    return [replace(r, names=r.names + tuple(u for n in r.names for u in used.get(n, ()) if u not in r.names))
            for r in refs]


def _item_refs(parsed, root, outer: tuple[str, ...], level: int = 0) -> list[ImportRef]:
    """The ``mod`` declarations and every ``use`` under `root`: an inline module's, a block's (``#[cfg(feature =
    "help")] { use super::HelpTemplate;`` in a function: clap) and a macro's (``cfg_rt! { mod config; use
    config::Config; }``: tokio) too; `outer` are the inline modules around `root`."""
    refs: list[ImportRef] = []
    stack = [(node, outer) for node in reversed(root.children)]
    while stack:
        node, modules = stack.pop()
        if node.type == "mod_item":
            body = node.child_by_field_name("body")
            if body is None:
                refs.append(ImportRef("mod:" + field_text(parsed, node), (), "rust", node.start_point[0]))
            else:  # an inline module: its own declarations count too
                inner = (*modules, field_text(parsed, node))
                stack.extend((child, inner) for child in reversed(body.children))
        elif node.type == "macro_invocation" and level < MAX_MACRO_NESTING:
            shadow = macro_items(node)
            if shadow is not None:
                refs += _item_refs(parsed, shadow.root, modules, level + 1)
    for node in _use_nodes(root):
        argument = node.child_by_field_name("argument")
        modules = (*outer, *_inline_modules(node, parsed))
        for path, names, star in _use_paths(parsed.text(argument)) if argument is not None else ():
            if path:
                refs.append(ImportRef(_from_file(path, modules), names, "rust", node.start_point[0], star=star,
                                      block=_enclosing_block(node)))
    return refs


MAX_MACRO_NESTING = 4  # macros inside macros read for items


def macro_items(node) -> Optional[Parsed]:
    """The items inside an item-level macro's braces (``cfg_rt! { ... }``, every branch of ``cfg_if! { if #[cfg(..)]
    { ... } else { ... } }``, ``pin_project! { pub struct S { ... } }``) parsed as a file's: a tree whose nodes have
    the invocation's own byte offsets and lines, so the file's text names them; None for any other node."""
    tree = node.children[-1] if node.type == "macro_invocation" and node.children else None
    data = tree.text if tree is not None and tree.type == "token_tree" else b""
    if data[:1] != b"{" or not _ITEM_KEYWORD.search(data):
        return None
    region = bytearray(data)
    region[0] = region[-1] = 32
    _blank_branches(tree, region, tree.start_byte)
    row, column = tree.start_point
    head = b" " * (tree.start_byte - row - column) + b"\n" * row + b" " * column
    return parse_once(GRAMMAR, (head + bytes(region)).decode("utf-8", "replace"))


_ITEM_KEYWORD = re.compile(rb"\b(?:use|mod|fn|struct|enum|trait|type|const|static|impl|union|macro_rules)\b")


def _blank_branches(tree, region: bytearray, offset: int) -> None:
    """Blank the ``if #[cfg(..)] {``, ``} else {`` and ``}`` of ``cfg_if!``'s branches in `region` (the bytes of the
    macro's token tree, from `offset`), leaving their items at the macro's top."""
    children = tree.children[1:-1]
    for k, child in enumerate(children):
        if child.type != "token_tree" or child.text[:1] != b"{":
            continue
        head = k
        while head > 0 and _token(children[head - 1]) in ("#", "]"):
            head -= 1
        while head > 0 and _token(children[head - 1]) in ("if", "else"):
            head -= 1
        if head == k or _token(children[head]) not in ("if", "else"):
            continue  # not a branch: ``fn f() -> [u8; 4] {``, ``struct S {``
        for token in children[head:k]:
            region[token.start_byte - offset:token.end_byte - offset] = b" " * (token.end_byte - token.start_byte)
        region[child.start_byte - offset] = region[child.end_byte - 1 - offset] = 32
        _blank_branches(child, region, offset)


def _token(node) -> str:
    """A token of a token tree: ``]`` for a ``[...]`` group, an identifier's text (``else``), else its type."""
    if node.type == "token_tree":
        return "]" if node.text[:1] == b"[" else node.type
    return node.text.decode("utf-8", "replace") if node.type == "identifier" else node.type


def _inline_modules(node, parsed) -> tuple[str, ...]:
    """The names of the inline modules (``mod cell { ... }``) around `node`, outermost first."""
    names = []
    parent = node.parent
    while parent is not None:
        if parent.type == "mod_item":
            names.append(field_text(parsed, parent))
        parent = parent.parent
    return tuple(names[::-1])


def _from_file(path: str, modules: tuple[str, ...]) -> str:
    """`path`, written inside the inline `modules`, as the file's own module would write it: ``super::x`` in
    ``mod cell { ... }`` is ``self::x``, ``self::x`` there ``self::cell::x`` (tokio's ``loom/std/mod.rs``)."""
    segments = path.split("::")
    if not modules or segments[0] not in ("self", "super"):
        return path
    inner = list(modules)
    if segments[0] == "self":
        segments = segments[1:]
    else:
        while segments and segments[0] == "super" and inner:
            inner.pop()
            segments = segments[1:]
        if segments and segments[0] == "super":
            return "::".join(segments)
    return "::".join(["self", *inner, *segments])


def _enclosing_block(node) -> tuple[int, ...]:
    """(first, last) lines of the block (a function's body, ``{ ... }``) a ``use`` is visible in; () at a file's or
    an inline module's top."""
    parent = node.parent
    while parent is not None and parent.type not in ("block", "declaration_list", "source_file"):
        parent = parent.parent
    return (parent.start_point[0], parent.end_point[0]) if parent is not None and parent.type == "block" else ()


def _use_nodes(root) -> list:
    """Every ``use`` declaration under `root` (a query: the walk runs in C)."""
    import tree_sitter

    return tree_sitter.QueryCursor(_use_query()).captures(root).get("u", [])


@lru_cache(maxsize=None)
def _use_query():
    import tree_sitter

    return tree_sitter.Query(grammar(GRAMMAR), "(use_declaration) @u")


def _module_dir(current: str) -> str:
    """The folder holding the child modules of the module in `current`."""
    d, _, name = current.rpartition("/")
    if name in ("lib.rs", "main.rs", "mod.rs"):
        return d
    return posixpath.join(d, name[:-3]) if name.endswith(".rs") else d


def _crates(index: PathIndex) -> dict[str, str]:
    """Crate name (``-`` as ``_``) -> its source folder, for every Cargo.toml with a [package]."""
    key = ("rust", "crates")
    got = index.derived.get(key)
    if got is None:
        got = {}
        for p in index.by_name.get("Cargo.toml", ()):
            text = index.config(p) or ""
            package = re.search(r"(?ms)^\[package\][^\[]*?^name[ \t]*=[ \t]*\"([^\"]+)\"", text)
            lib = re.search(r"(?ms)^\[lib\][^\[]*?^path[ \t]*=[ \t]*\"([^\"]+)\"", text)
            lib_name = re.search(r"(?ms)^\[lib\][^\[]*?^name[ \t]*=[ \t]*\"([^\"]+)\"", text)
            folder = posixpath.dirname(p)
            src = posixpath.dirname(posixpath.join(folder, lib.group(1))) if lib else posixpath.join(folder, "src")
            if package:
                got[package.group(1).replace("-", "_")] = src
                if lib_name:  # ``[lib] name = "x"``: ``use x::...``
                    got.setdefault(lib_name.group(1).replace("-", "_"), src)
                got[posixpath.dirname(p) + "/"] = src  # a path dependency's folder
        index.derived[key] = got
    return got


def _path_dependency(current: str, name: str, index: PathIndex) -> Optional[str]:
    """The source folder of the workspace crate that the nearest Cargo.toml's dependency `name` (``-`` as ``_``)
    is, by its ``path`` or its ``package``; None when it is none."""
    from fim.crates import manifest_dependencies  # fim.crates reads this module's use paths

    cargo = index.nearest(current, "Cargo.toml")
    entry = manifest_dependencies(index.config(cargo) or "").get(name) if cargo is not None else None
    if entry is None:
        return None
    package, _, path = entry
    crates = _crates(index)
    if path:
        folder = posixpath.normpath(posixpath.join(posixpath.dirname(cargo), path))
        if not folder.startswith("../") and folder != ".." and (folder + "/") in crates:
            return crates[folder + "/"]
    return crates.get(package) if package != name else None


def _edition_2015(current: str, index: PathIndex) -> bool:
    """Whether the crate of `current` is of the 2015 edition (its Cargo.toml names none, or no
    Cargo.toml is known)."""
    cargo = index.nearest(current, "Cargo.toml")
    m = re.search(r'(?m)^[ \t]*edition(?:[ \t]*=[ \t]*"(\d+)"|\.workspace\b|[ \t]*=[ \t]*\{)',
                  index.config(cargo) or "" if cargo is not None else "")
    return m is None or m.group(1) == "2015"


def _crate_root(current: str, index: PathIndex) -> str:
    cargo = index.nearest(current, "Cargo.toml")
    if cargo is not None:
        folder = posixpath.dirname(cargo)
        src = posixpath.join(folder, "src") if folder else "src"
        if current.startswith(src + "/"):
            return src
    parts = current.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "src":
            return "/".join(parts[: i + 1])
    return posixpath.dirname(current)


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    if ref.module.startswith("mod:"):
        name = ref.module[4:]
        base = _module_dir(current)
        return first(index, [posixpath.join(base, name + ".rs"), posixpath.join(base, name, "mod.rs")])
    segments = [s for s in ref.module.split("::") if s]
    if not segments:
        return []
    head = segments[0]
    if head == "crate":
        return _walk(index, _crate_root(current, index), segments[1:])
    if head in ("self", "super"):
        base = _module_dir(current)
        rest = segments[1:]
        if head == "super":
            base = posixpath.dirname(base)
        while rest and rest[0] == "super":
            base, rest = posixpath.dirname(base), rest[1:]
        return _walk(index, base, rest)
    crate = _crates(index).get(head)
    if crate is None:  # a renamed (``base = { path = "../core", package = "my-core" }``) or path dependency
        crate = _path_dependency(current, head, index)
    if crate is not None:  # another crate of the workspace
        return _walk(index, crate, segments[1:])
    # 2018 paths: a module the current one declares; external crates do not resolve. Only in a
    # 2015 crate does ``use x::y`` name the crate root's module x from anywhere (``mod http;`` is
    # not the http crate that src/handlers.rs uses).
    bases = [_module_dir(current)] + ([_crate_root(current, index)] if _edition_2015(current, index) else [])
    for base in bases:
        hit = _walk(index, base, segments, whole=False)
        if hit:
            return hit
    return []


def _walk(index: PathIndex, base: str, segments: list[str], whole: bool = True) -> list[str]:
    # The longest prefix of the path that is a module file; later segments are items in it.
    for n in range(len(segments), 0, -1):
        stem = posixpath.join(base, *segments[:n])
        hit = first(index, [stem + ".rs", stem + "/mod.rs"])
        if hit:
            return hit
    if not whole:
        return []
    # Items of the module `base` itself (``use super::Thing``, ``use crate::Thing``).
    return first(index, [base + ".rs", posixpath.join(base, "mod.rs"), posixpath.join(base, "lib.rs"),
                         posixpath.join(base, "main.rs")])


_ITEMS = frozenset({"function_item", "struct_item", "enum_item", "trait_item", "type_item", "const_item", "static_item",
                    "mod_item", "union_item", "macro_definition", "function_signature_item"})


def _names(node, parsed) -> list[str]:
    t = node.type
    if t in _ITEMS:
        return [field_text(parsed, node)]
    if t == "impl_item":
        ty = node.child_by_field_name("type")
        while ty is not None and ty.type in ("generic_type", "scoped_type_identifier", "reference_type"):
            ty = ty.child_by_field_name("type") or ty.child_by_field_name("name")
        return [parsed.text(ty)] if ty is not None else []
    return []


def _descend(node) -> Optional[list]:
    """The items of an item-level macro (`macro_items`), read as the file's own."""
    shadow = macro_items(node)
    return shadow.root.children if shadow is not None else None


SPEC = Spec(GRAMMAR, _names, _descend, frozenset({"block"}))


class RustFile(BriefTreeFile):
    """A Rust file's definitions; an installed crate's other items come without their docs and attributes."""

    brief_attached = ("//", "#[")


def model(text: str, lines: list[str]) -> TreeFile:
    return RustFile(text, lines, SPEC)


# A `'` opens a char literal or a lifetime (`'a`), so it is no quote for the balance checks; a whole
# char literal (`'{'`) is skipped.
LANGUAGE = Language("rust", ("rust",), (".rs",), "rust", imports=imports, resolve=resolve, model=model,
                    rules=replace(BRACE_RULES, quotes="\"", char_literals=True))

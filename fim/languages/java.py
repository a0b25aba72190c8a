"""Java: imports, the package declaration and definitions (classes and their members) by
tree-sitter; a package is its folder below a source root (``src/main/java`` and the like), and
every class of the same package is visible without an import."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from typing import Optional

from fim.languages.base import BRACE_RULES, ImportRef, Language, PathIndex
from fim.languages.treesitter import Spec, TreeFile, field_text, find_all, parse

GRAMMAR = "java"
_EXTENSIONS = (".java", ".kt", ".scala")


def imports(text: str) -> list[ImportRef]:
    parsed = parse(GRAMMAR, text)
    if parsed is None:
        return []
    refs: list[ImportRef] = []
    for node in parsed.root.children:
        if node.type != "import_declaration":
            continue
        path_node = next((c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None)
        if path_node is None:
            continue
        path = parsed.text(path_node)
        static = any(c.type == "static" for c in node.children)
        star = any(c.type == "asterisk" for c in node.named_children)
        line = node.start_point[0]
        if static:  # import static a.b.C.member / a.b.C.*
            if star:
                refs.append(ImportRef(path, (), "java", line, star=True))
            else:
                cls, _, member = path.rpartition(".")
                refs.append(ImportRef(cls, (member,), "java", line))
        elif star:
            refs.append(ImportRef(path + ".*", (), "java", line, star=True))
        else:
            refs.append(ImportRef(path, (path.rsplit(".", 1)[-1],), "java", line))
    return refs


def _source_root(current: str) -> Optional[str]:
    """The source root (``.../src/main/java`` and the like) `current` is under, if any."""
    parts = current.split("/")[:-1]
    for marker in (("src", "main", "java"), ("src", "test", "java"), ("src", "main", "kotlin")):
        for i in range(len(parts) - len(marker) + 1):
            if tuple(parts[i:i + len(marker)]) == marker:
                return "/".join(parts[:i + len(marker)])
    return None


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    module = ref.module
    root = _source_root(current)
    if module.endswith(".*"):
        package = module[:-2].replace(".", "/")
        folders = ([posixpath.join(root, package)] if root is not None else []) + index.dirs_with_suffix(package)
        for d in folders:
            files = [p for p in index.by_dir.get(d, ()) if p.endswith(_EXTENSIONS)]
            if files:
                return files
        return []
    parts = module.split(".")
    # a.b.C, or a.b.C.Inner: the longest prefix that is a file, under the current source root first.
    for n in range(len(parts), max(0, len(parts) - 2), -1):
        stem = "/".join(parts[:n])
        for ext in _EXTENSIONS:
            if root is not None and posixpath.join(root, stem + ext) in index.paths:
                return [posixpath.join(root, stem + ext)]
            hits = index.with_suffix(stem + ext)
            if hits:
                return hits[:1]
    if len(parts) > 1:
        # No file named after it (Kotlin's top-level functions, several classes in one file): the
        # files of its package, of which the context keeps those defining the name.
        return resolve(replace(ref, module=".".join(parts[:-1]) + ".*"), current, index)
    return []


def siblings(current: str, index: PathIndex) -> list[str]:
    """The other classes of the package: the same folder."""
    return [p for p in index.by_dir.get(posixpath.dirname(current), ()) if p.endswith(_EXTENSIONS) and p != current]


_TYPES = frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
                    "annotation_type_declaration"})
_BODIES = frozenset({"class_body", "interface_body", "enum_body", "annotation_type_body"})


def _names(node, parsed) -> list[str]:
    t = node.type
    if t in _TYPES or t == "method_declaration":
        return [field_text(parsed, node)]
    if t in ("field_declaration", "constant_declaration"):
        return [field_text(parsed, d) for d in node.children_by_field_name("declarator")]
    if t == "enum_constant":  # ``INDENT_OUTPUT(false),``: a member of its enum
        return [field_text(parsed, node)]
    return []


def _members(node) -> list:
    if node.type not in _TYPES:
        return []
    body = node.child_by_field_name("body")
    if body is None:
        return []
    out = list(body.named_children)
    declarations = next((c for c in out if c.type == "enum_body_declarations"), None)  # an enum's members
    return out + (list(declarations.named_children) if declarations is not None else [])


def enum_constants(text: str, name: str) -> tuple[str, ...]:
    """The constants of the enum `name` that `text` declares (a source's or a class file's stub), in file order;
    () where it declares no such enum."""
    parsed = parse(GRAMMAR, text) if re.search(rf"\benum\s+{re.escape(name)}\b", text) else None
    if parsed is None:
        return ()
    for node in find_all(parsed.root, frozenset({"enum_declaration"})):
        body = node.child_by_field_name("body")
        if field_text(parsed, node) == name and body is not None:
            return tuple(field_text(parsed, c) for c in body.named_children if c.type == "enum_constant")
    return ()


SPEC = Spec(GRAMMAR, _names, lambda node: None, frozenset({"block", "constructor_body"}), members=_members)


class JavaFile(TreeFile):
    """A Java file's definitions; an installed jar's class (`fim.jars`) briefed with each ``/** ... */`` doc comment
    cut to its first line (a library documents every method at length, with examples)."""

    brief_attached = ("//", "/*", "*")  # comment lines above the other definitions a brief shows, left out

    def brief_tiers(self, start: int, end: int) -> tuple[str, ...]:
        return tuple(dict.fromkeys(first_doc_lines(t) for t in self.tiers(start, end)))


def first_doc_lines(text: str) -> str:
    """`text` with each doc comment that starts a line (``/**``) cut to its first line of text:
    ``/** Checks if a CharSequence is empty ("") or null. */``."""
    out: list[str] = []
    doc: Optional[list[str]] = None
    for line in text.split("\n"):
        stripped = line.strip()
        if doc is None and stripped.startswith("/**") and not stripped.endswith("*/"):
            doc = [line[:len(line) - len(line.lstrip())]]
            first = stripped[3:].strip()
            doc.append(first)
            continue
        if doc is not None:
            if not doc[1]:
                doc[1] = stripped.lstrip("*").strip().removesuffix("*/").strip()
            if stripped.endswith("*/"):
                first = re.sub(r"</?p>", "", doc[1]).strip()
                if first:
                    out.append(f"{doc[0]}/** {first} */")
                doc = None
            continue
        out.append(line)
    return "\n".join(out) if doc is None else text


def model(text: str, lines: list[str]) -> TreeFile:
    return JavaFile(text, lines, SPEC)


LANGUAGE = Language("java", ("java",), (".java",), "jvm", imports=imports, resolve=resolve, model=model,
                    siblings=siblings, rules=replace(BRACE_RULES, triple_quotes='"'))  # text blocks

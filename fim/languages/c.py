"""C and C++: ``#include`` by tree-sitter (inside ``#if`` blocks too) and definitions (functions,
prototypes, types, typedefs, macros, enumerators; inside namespaces, ``extern "C"`` and include
guards); quoted includes resolve relative to the file, then to the include folders of
compile_commands.json, then anywhere by path suffix or name. A source file's own header
(``x.c`` and ``x.h``) is visible to it as the same module. A library header's declaration macros
(``GIT_BEGIN_DECL``, ``GIT_EXTERN(int) git_repository_open(...)``, ``CURL_EXTERN``) are read as blanks
(`_declarable`: tree-sitter took ``GIT_BEGIN_DECL`` for the head of a function running to the next brace);
an installed header's definitions (`fim.cheaders`) come without their comments but for the first line of
the leading one (`CFile.brief_tiers`)."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from typing import Optional

from fim.languages.base import BRACE_RULES, ImportRef, Language, PathIndex, join
from fim.languages.treesitter import Spec, TreeFile, field_text, find_all, parse, string_content

_INCLUDES = frozenset({"preproc_include"})
_HEADERS = (".h", ".hpp", ".hh", ".hxx", ".h++", ".inl", ".ipp", ".cuh")
_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".c++", ".cu", ".m", ".mm")


def _imports(text: str, grammar: str) -> list[ImportRef]:
    parsed = parse(grammar, text)
    if parsed is None:
        return []
    refs = []
    for node in find_all(parsed.root, _INCLUDES, stop=frozenset({"function_definition", "compound_statement"})):
        path = node.child_by_field_name("path")
        if path is None:
            continue
        system = path.type == "system_lib_string"
        refs.append(ImportRef(string_content(parsed, path), (), "c", node.start_point[0], system=system))
    return refs


def _include_dirs(index: PathIndex) -> dict[str, list[str]]:
    """Workspace-relative include folders per source file of every compile_commands.json ("" for all)."""
    key = ("c", "include-dirs")
    got = index.derived.get(key)
    if got is not None:
        return got
    got = {}
    for p in index.by_name.get("compile_commands.json", ()):
        try:
            entries = json.loads(index.config(p) or "[]")
        except (ValueError, RecursionError):
            continue
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            args = entry.get("arguments")
            if not isinstance(args, list):
                try:
                    args = shlex.split(entry.get("command") or "")
                except ValueError:
                    continue
            folder = entry.get("directory") or ""
            dirs: list[str] = []
            for k, arg in enumerate(args):
                for flag in ("-I", "-iquote", "-isystem", "/I"):
                    if arg == flag and k + 1 < len(args):
                        dirs.append(args[k + 1])
                    elif arg.startswith(flag) and len(arg) > len(flag):
                        dirs.append(arg[len(flag):])
            rel = [r for r in (_relative(index, folder, d, posixpath.dirname(p)) for d in dirs) if r is not None]
            source = _relative(index, folder, entry.get("file") or "", posixpath.dirname(p))
            for target in ([source] if source else []) + [""]:
                held = got.setdefault(target, [])
                held.extend(d for d in rel if d not in held)
    index.derived[key] = got
    return got


def _relative(index: PathIndex, directory: str, path: str, config_folder: str) -> Optional[str]:
    """A compile_commands.json path made workspace-relative: absolute paths by the longest suffix
    that is a workspace folder or file, relative ones against the entry's directory."""
    path = path.replace("\\", "/")
    if not path.startswith("/"):
        path = posixpath.join(directory.replace("\\", "/"), path) if directory else path
    if not path.startswith("/"):
        return join(config_folder, path)
    parts = [p for p in posixpath.normpath(path).split("/") if p]
    for k in range(len(parts)):
        candidate = "/".join(parts[k:])
        if candidate in index.by_dir or candidate in index.paths:
            return candidate
    return None


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    inc = ref.module
    if not ref.system:
        local = join(posixpath.dirname(current), inc)
        if local and local in index.paths:
            return [local]
    dirs = _include_dirs(index)
    for folder in dirs.get(current, []) + dirs.get("", []):
        hit = join(folder, inc)
        if hit and hit in index.paths:
            return [hit]
    hits = index.with_suffix(inc.lstrip("./")) if not inc.startswith("../") else []
    if hits:
        return hits[:1]
    if ref.system:
        return []
    by_name = index.by_name.get(posixpath.basename(inc), [])
    return sorted(by_name, key=lambda p: (p.count("/"), p))[:1]


def siblings(current: str, index: PathIndex) -> list[str]:
    """A source file's own header (same folder and stem, or the same stem in an include folder)."""
    stem, ext = posixpath.splitext(current)
    if ext not in _SOURCES:
        return []
    name = posixpath.basename(stem)
    near = [stem + e for e in _HEADERS if stem + e in index.paths]
    if near:
        return near[:1]
    return [p for e in _HEADERS for p in index.by_name.get(name + e, ())][:1]


# ------------------------------------------------------------------------------------ definitions

_DECLARATOR_NAMES = frozenset({"identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name"})
_TYPE_SPECIFIERS = frozenset({"struct_specifier", "union_specifier", "enum_specifier", "class_specifier"})


def _declarator_name(parsed, node) -> str:
    while node is not None:
        if node.type in _DECLARATOR_NAMES:
            return parsed.text(node)
        if node.type in ("qualified_identifier", "template_function"):
            node = node.child_by_field_name("name")
            continue
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in node.named_children if c.type in _DECLARATOR_NAMES
                          or c.child_by_field_name("declarator") is not None or c.type == "qualified_identifier"), None)
        node = inner
    return ""


def _type_names(parsed, node) -> list[str]:
    """A struct/union/enum/class specifier with a body: its name and, for an enum, its enumerators."""
    if node is None or node.type not in _TYPE_SPECIFIERS or node.child_by_field_name("body") is None:
        return []
    names = [field_text(parsed, node)]
    if node.type == "enum_specifier":
        names += [field_text(parsed, e) for e in node.child_by_field_name("body").named_children if e.type == "enumerator"]
    return names


def _names(node, parsed) -> list[str]:
    t = node.type
    if t in ("preproc_def", "preproc_function_def", "namespace_alias_definition", "alias_declaration",
             "concept_definition"):
        return [field_text(parsed, node)]
    if t == "function_definition":
        return [_declarator_name(parsed, node.child_by_field_name("declarator"))]
    if t in ("declaration", "type_definition", "field_declaration"):
        names = _type_names(parsed, node.child_by_field_name("type"))
        names += [_declarator_name(parsed, d) for d in node.children_by_field_name("declarator")]
        return names
    if t in _TYPE_SPECIFIERS:
        return _type_names(parsed, node)
    if t == "template_declaration":
        inner = next((c for c in node.named_children if c.type not in ("template_parameter_list",)), None)
        return _names(inner, parsed) if inner is not None else []
    return []


_CONTAINERS = frozenset({"preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "preproc_elifdef"})


def _descend(node) -> Optional[list]:
    t = node.type
    if t in _CONTAINERS:
        return [c for i, c in enumerate(node.named_children) if node.field_name_for_named_child(i) not in ("name", "condition")]
    if t in ("namespace_definition", "linkage_specification"):
        body = node.child_by_field_name("body")
        if body is None:
            return None
        return list(body.named_children) if body.type == "declaration_list" else None
    return None


def _spec(grammar: str) -> Spec:
    return Spec(grammar, _names, _descend, frozenset({"compound_statement"}))


SPECS = {"c": _spec("c"), "cpp": _spec("cpp")}


_CPP_MARKS = re.compile(r"(?m)^[ \t]*(?:class|namespace|template[ \t]*<|using[ \t]|public:|private:)|::")


def _grammar(name: str, text: str) -> str:
    """C++ for a C header that holds C++ (``.h`` is both)."""
    return "cpp" if name == "cpp" or _CPP_MARKS.search(text[:20000]) else "c"


# A line that is one macro name (``GIT_BEGIN_DECL``, ``G_BEGIN_DECLS``), a declaration led by a macro call
# (``GIT_EXTERN(int) f(...)``: the type kept) or by a bare export macro (``CURL_EXTERN CURLcode f(...)``).
_DECL_MACRO_LINE = re.compile(r"(?m)^[A-Z_][A-Z0-9_]*(?:DECL|BEGIN|END|EXTERN)[A-Z0-9_]*[ \t]*$")
_DECL_MACRO_CALL = re.compile(r"(?m)^([A-Z_][A-Z0-9_]*\()([^()\n]*)(\))(?=[ \t]+[A-Za-z_])")
_DECL_MACRO_WORD = re.compile(r"(?m)^[A-Z_][A-Z0-9_]*(?:EXTERN|EXPORT|API|DECL)[A-Z0-9_]*(?=[ \t]+[A-Za-z_])")
# Inside one (``ZEXTERN int ZEXPORT deflate OF((z_streamp strm, int flush));``, ``XMLPUBFUN int XMLCALL f(``): a
# calling-convention or export word, and the K&R-compatible parameter macro (``OF((args))``: its ``(args)`` kept).
_DECL_MACRO_INNER = re.compile(r"\b[A-Z_][A-Z0-9_]*(?:EXTERN|EXPORT|EXPORTVA|API|CALL|PUBFUN)\b(?=[ \t]+\**[A-Za-z_])")
_OLD_PARAMETERS = re.compile(r"\b(?:OF|__P|_ANSI_ARGS_|PROTO)[ \t]*\((\([^;{}]*\))\)(?=[ \t]*;)")


def _declarable(text: str) -> str:
    """`text` with its declaration macros blanked, every line and column kept: what tree-sitter is given to parse
    a library header (the rendering is the header's own lines)."""
    if not re.search(r"[A-Z_][A-Z0-9_]*(?:EXTERN|EXPORT|EXPORTVA|API|CALL|PUBFUN|DECLS?|BEGIN|END)\b|"
                     r"^[A-Z_][A-Z0-9_]*\(|\b(?:OF|__P|_ANSI_ARGS_|PROTO)[ \t]*\(\(", text, re.M):
        return text
    text = _DECL_MACRO_LINE.sub(lambda m: " " * len(m.group(0)), text)
    text = _DECL_MACRO_CALL.sub(lambda m: " " * len(m.group(1)) + m.group(2) + " ", text)
    text = _DECL_MACRO_WORD.sub(lambda m: " " * len(m.group(0)), text)
    text = _DECL_MACRO_INNER.sub(lambda m: " " * len(m.group(0)), text)
    return _OLD_PARAMETERS.sub(lambda m: " " * (len(m.group(0)) - len(m.group(1)) - 1) + m.group(1) + " ", text)


class CFile(TreeFile):
    """A C or C++ file's definitions, parsed with its declaration macros blanked (`_declarable`), with
    `brief_tiers` for an installed header's API."""

    brief_attached = ("//", "/*", "*")  # comment lines above the other definitions a brief shows, left out

    def __init__(self, text: str, lines: list[str], spec: Spec) -> None:
        super().__init__(_declarable(text), lines, spec)

    def brief_tiers(self, start: int, end: int) -> tuple[str, ...]:
        """`tiers` of lines [start, end) without their comments (libgit2 documents every function at length, libpq
        every enumerator at the end of its line), but for the first line of the leading one: ``/** Open a git
        repository. */``."""
        return tuple(dict.fromkeys(without_comments(t) for t in self.tiers(start, end)))


_COMMENT_OR_STRING = re.compile(r"/\*.*?(?:\*/|\Z)|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)


def without_comments(text: str) -> str:
    """`text` without its comments, those at a line's end too, and without blank lines, the first line of the
    leading comment kept as ``/** ... */`` above the code."""
    first = ""
    lead = _COMMENT_OR_STRING.match(text.lstrip())
    if lead is not None and lead.group(0)[:2] in ("/*", "//"):
        words = (line.strip().lstrip("/*").rstrip("/").rstrip("*").strip() for line in lead.group(0).split("\n"))
        first = next((w for w in words if re.search(r"[A-Za-z]", w)), "")  # past a ``/* ---- */`` rule
        first = "" if first.startswith("@") else first
    code = _COMMENT_OR_STRING.sub(lambda m: m.group(0) if m.group(0)[0] in "\"'" else "\n" * m.group(0).count("\n"),
                                  text)
    out = [line.rstrip() for line in code.split("\n") if line.strip()]  # blank lines too: one declaration's API
    if first and out:
        indent = out[0][:len(out[0]) - len(out[0].lstrip())]
        out.insert(0, f"{indent}/** {first} */")
    return "\n".join(out)


def _language(name: str, ids: tuple[str, ...], extensions: tuple[str, ...]) -> Language:
    return Language(name, ids, extensions, "c", imports=lambda text: _imports(text, _grammar(name, text)),
                    resolve=resolve, model=lambda text, lines: CFile(text, lines, SPECS[_grammar(name, text)]),
                    siblings=siblings, rules=BRACE_RULES)


LANGUAGES = (
    _language("c", ("c",), (".c", ".h")),
    _language("cpp", ("cpp", "cuda-cpp", "objective-cpp"), (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++",
                                                            ".ipp", ".inl", ".cu", ".cuh")),
)

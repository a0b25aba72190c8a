"""The C++ name being typed after an installed library's namespace (``fmt::for|``, ``spdlog::level::|``). Pure.

`fim.cheaders` brings the declarations of the names a document uses; a name not used yet brings nothing, and a C++
library names everything through its namespace. `cursor_qualified` reads the namespace path and the part typed right
before the cursor (``fmt::``, ``spdlog::level::de``; not ``std::``, not in a comment (an earlier line's ``/*`` too)
or a string of the line, not after ``.`` or ``->``). `namespace_declarations` reads a header's declarations by
namespace, by braces and statements (comments, strings and preprocessor lines blanked): functions (templates,
``inline``/``constexpr``, export macros), classes, structs, unions, enums, ``using`` aliases, typedefs, variables,
an unscoped enum's enumerators in its namespace and a scoped one's under its name (``fmt::color::red``); an ``inline
namespace`` (``v9``) is its parent's, a class's members, function bodies and specializations (``formatter<T>``) are
not read. A macro whose body only opens or closes namespaces (``#define FMT_BEGIN_NAMESPACE namespace fmt { inline
namespace v9 {``), defined in any header of the closure, is read as its body. `qualified_definitions` maps the
cursor's path to the names the included headers (`fim.cheaders.included_headers`, the standard library's left out)
declare in that namespace starting with what is typed, at most `MAX_NAMES`, but those the document already uses
(`fim.cheaders` brings them): of more than fit, those the project's other files use after the namespace's last part
as typed first (``spdlog::debug`` elsewhere: `fim.popular`; bear's fresh ``spdlog::|`` 0.237 -> 0.932 at 16K), then
those of the headers declaring most of the names the document uses through that namespace, then (in a header) those
declared nearest one of them (``spdlog::warn`` used: ``debug``, ``info`` beside it), then in header order. A
namespace alias of the document or of the workspace headers it includes (``namespace po = boost::program_options;``,
`resolve_alias`) reads as the path it names (one naming ``std``'s brings nothing). Each header is read once per
text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from typing import Mapping, Optional, Sequence

from fim.cheaders import code_words, declared_names, included_headers
from fim.languages.base import ImportRef
from fim.linecode import code_before
from fim.memo import text_memo
from fim.popular import Ranker

MAX_NAMES = 16  # names brought for the member typed after a namespace (in the room left), as `fim.cprefix`
_QUALIFIED = re.compile(r"(?<![\w$.>:])(?:::)?((?:[A-Za-z_]\w*[ \t]*::[ \t]*)+)([A-Za-z_]\w*)?\Z")
_NOISE = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)
_DIRECTIVE = re.compile(r"(?m)^[ \t]*#(?:[^\n]*\\\r?\n)*[^\n]*")  # continued lines too (CRLF ends)
_DEFINE = re.compile(r"#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])(.*)", re.S)
_OPENS = re.compile(r"\s*(?:(?:inline\s+)?namespace\s*[^{};]*\{\s*)+")
_OPENER = re.compile(r"(inline\s+)?namespace\s*([^{};]*)\{")
_NAMESPACE_HEAD = re.compile(r"(?:^|\s)(inline\s+)?namespace\s*([\w:]*)\s*(?:\[\[[^\]]*\]\]\s*)?$")
_TYPE_HEAD = re.compile(r"^(?:[A-Z_][A-Z0-9_]*\s+|\[\[.*?\]\]\s*|export\s+)*(?:typedef\s+)?"
                        r"(class|struct|union|enum(?:\s+(?:class|struct))?)\s+"
                        r"(?:(?:[A-Z_][A-Z0-9_]*|alignas\s*\([^)]*\)|\[\[.*?\]\])\s+)*([A-Za-z_]\w*)\s*(.*)$", re.S)
_TEMPLATE = re.compile(r"(?:\s*[A-Z_][A-Z0-9_]*(?![\w]))*\s*template\s*<")  # export macros, then ``template <``
_WORD = re.compile(r"[A-Za-z_]\w*")
_CALL_OPEN = re.compile(r"\s*\(")
_ALIAS = re.compile(r"(?<![\w:])namespace\s+([A-Za-z_]\w*)\s*=\s*((?:::\s*)?[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*)\s*;")
_NOT_NAMES = frozenset("""
alignas alignof decltype noexcept sizeof static_assert requires operator __attribute__ __declspec if while for
switch return throw typeid explicit
""".split())


def cursor_qualified(before_cursor: str) -> Optional[tuple[str, str]]:
    """(the namespace path, the part of the name typed) when the line before the cursor ends with ``ns::`` or
    ``ns::sub::`` and an identifier's start (``fmt::for``: ("fmt", "for")); None after ``std::``, after ``.`` or
    ``->``, in a comment (an earlier line's ``/*`` too) or a string of the line."""
    line = before_cursor[before_cursor.rfind("\n") + 1:]
    m = _QUALIFIED.search(line[-300:])
    if m is None:
        return None
    path = "::".join(part.strip() for part in m.group(1).split("::") if part.strip())
    typed = m.group(2) or ""
    if path.split("::")[0] == "std" or re.search(r"(?:\.|->)\s*\Z", line[:len(line) - len(m.group(0))]):
        return None
    if not code_before(before_cursor, m.group(0)):
        return None  # in a comment or a string
    return path, typed


def qualified_definitions(before_cursor: str, includes: Sequence[ImportRef], document: str,
                          installed: Mapping[str, str], limit: int = MAX_NAMES,
                          rank: Optional[Ranker] = None, workspace_texts: Sequence[str] = ()) -> dict[str, list[str]]:
    """Installed header -> the names it declares in the namespace qualified at the end of `before_cursor`
    (`cursor_qualified`; an alias of the document or of the workspace headers it includes, `workspace_texts`, read
    as its path) that start with the part typed, at most `limit` in all; {} where none does. `includes` are the
    document's ``#include``s no workspace file resolves (and those its workspace headers make); `rank`
    (`fim.popular.ProjectUses.rank`) picks among more than `limit`, by the namespace's last part as typed."""
    found = cursor_qualified(before_cursor)
    if found is None or not includes:
        return {}
    written, typed = found
    path = resolve_alias(written, (document, *workspace_texts))
    if path.split("::")[0] == "std":
        return {}
    headers = [h for h in included_headers(includes, installed) if h in installed]
    texts = {h: installed[h] for h in headers}
    macros = namespace_macros(tuple(texts.values()))
    used = _qualified_uses(document, path) | (_qualified_uses(document, written) if written != path else set())
    hits: list[tuple[int, int, int, int, str, str]] = []
    for order, header in enumerate(headers):
        declared = namespace_declarations(texts[header], macros).get(path)
        if not declared:
            continue
        names = declared_names(texts[header])  # what `fim.symbols` cuts from it
        anchors = [line for name, line in declared.items() if name in used]
        hits += [(-len(anchors), order, min((abs(line - a) for a in anchors), default=0), line, header, name)
                 for name, line in declared.items()
                 if name.startswith(typed) and name in names and (name not in used or name == typed)]
    where: dict[str, str] = {}  # name -> the header offering it, in the order above
    for *_, header, name in sorted(hits):
        where.setdefault(name, header)
    names = list(where)
    names = rank(names, written.split("::")[-1], limit) if rank is not None else names[:limit]
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(where[name], []).append(name)
    return out


def resolve_alias(path: str, texts: Sequence[str]) -> str:
    """`path` with its first part read as the namespace alias the first of `texts` declaring it names
    (``namespace po = boost::program_options;``: ``po::detail`` -> ``boost::program_options::detail``), an alias of
    an alias too; `path` where none does."""
    for _ in range(4):
        head, sep, rest = path.partition("::")
        target = next((found[head] for found in map(namespace_aliases, texts) if head in found), None)
        if target is None or target == head:
            break
        path = target + sep + rest
    return path


@text_memo  # the document and its workspace headers, asked for at every keystroke
def namespace_aliases(text: str) -> dict[str, str]:
    """Each namespace alias `text` declares (``namespace fs = ghc::filesystem;``) -> the path it names, its first
    declaration (comments and strings blanked; a leading ``::`` dropped)."""
    out: dict[str, str] = {}
    if "namespace" not in text:
        return out
    for m in _ALIAS.finditer(_NOISE.sub(" ", text)):
        out.setdefault(m.group(1), re.sub(r"\s+", "", m.group(2)).strip(":"))
    return out


def _qualified_uses(document: str, path: str) -> set[str]:
    """The names `document` uses through `path` (``fmt::format`` -> ``format``)."""
    words = code_words(document)
    if path.split("::")[-1] not in words:
        return set()
    return set(re.findall(r"(?<![\w:])" + r"\s*::\s*".join(map(re.escape, path.split("::"))) + r"\s*::\s*(\w+)",
                          document))


@lru_cache(maxsize=64)
def namespace_macros(texts: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(macro, body) of each macro of `texts` whose body only opens namespaces or only closes braces (the first
    definition of a name), in name order."""
    out: dict[str, str] = {}
    for text in texts:
        for name, body in _macros(text):
            out.setdefault(name, body)
    return tuple(sorted(out.items()))


@lru_cache(maxsize=512)
def _macros(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    if "define" not in text:
        return ()
    for m in _DIRECTIVE.finditer(_NOISE.sub(" ", text)):
        d = _DEFINE.match(m.group(0).strip())
        if d is None:
            continue
        body = re.sub(r"\\?\r?\n", " ", d.group(2)).strip()
        if body and (_OPENS.fullmatch(body) or set(body) <= set("} \t")):
            out.append((d.group(1), body))
    return tuple(out)


@lru_cache(maxsize=512)  # a library's headers are asked for on every keystroke: read once per text (and macros)
def namespace_declarations(text: str, macros: tuple[tuple[str, str], ...] = ()) -> dict[str, dict[str, int]]:
    """Namespace path (``fmt``, ``spdlog::level``, ``fmt::color`` for a scoped enum) -> name -> the zero-based
    line of its first declaration there, in a C++ header; `macros` (`namespace_macros`) are read as their bodies."""
    code = _DIRECTIVE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)),
                          _NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text))
    if macros:
        bodies = dict(macros)
        code = re.sub(r"\b(?:%s)\b" % "|".join(map(re.escape, bodies)), lambda m: bodies[m.group(0)], code)
    starts = [m.end() for m in re.finditer("\n", code)]
    out: dict[str, dict[str, int]] = {}

    def add(scope: Optional[str], name: str, at: int) -> None:
        if scope and name not in _NOT_NAMES:
            out.setdefault(scope, {}).setdefault(name, bisect_right(starts, at))

    # (kind, the namespace path its declarations go to, or None; where its body opened)
    stack: list[tuple[str, Optional[str], int]] = [("namespace", "", 0)]
    last = 0
    for m in re.finditer(r"[{};]", code):
        kind, scope, opened = stack[-1]
        head_at = last
        head = code[last:m.start()]
        last = m.end()
        char = m.group(0)
        if kind != "namespace":
            if char == "}":
                stack.pop()
                if kind.startswith("enum"):
                    _enumerators(code, opened, m.start(), scope, add)
            elif char == "{":
                stack.append(("block", None, m.end()))
            continue
        if char == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        stripped, offset = _without_templates(head)
        if char == "{":
            ns = _NAMESPACE_HEAD.search(stripped)
            if ns is not None and scope is not None:
                inner = ns.group(2).strip(":")
                inline = bool(ns.group(1)) or not inner
                path = scope if inline else "::".join(p for p in (scope, *inner.split("::")) if p)
                stack.append(("namespace", None if not inner and not ns.group(1) else path, m.end()))
                continue
            if ns is not None or re.fullmatch(r"\s*extern\s*", stripped):  # ``extern "C" {``
                stack.append(("namespace", scope, m.end()))
                continue
            typed = _TYPE_HEAD.match(stripped.strip())
            if typed is not None and not typed.group(3).startswith(("<", "::")):
                at = head_at + offset + stripped.index(typed.group(2), len(stripped) - len(stripped.lstrip()))
                add(scope, typed.group(2), at)
                if typed.group(1).startswith("enum"):
                    scoped = " " in typed.group(1)
                    target = f"{scope}::{typed.group(2)}".strip(":") if scoped and scope is not None else scope
                    stack.append(("enum", target, m.end()))
                else:
                    stack.append(("class", None, m.end()))
                continue
            name = _function_name(stripped)
            if name is not None:
                add(scope, name[0], head_at + offset + name[1])
            stack.append(("block", None, m.end()))
            continue
        # ``;``: a declaration at namespace scope
        body = stripped.strip()
        if not body or body.startswith(("using namespace", "extern template", "template class", "friend")):
            continue
        alias = re.match(r"using\s+([A-Za-z_]\w*)\s*(?:\[\[.*?\]\]\s*)?=", body)
        if alias:
            add(scope, alias.group(1), head_at + offset + stripped.index(alias.group(1)))
            continue
        if _TYPE_HEAD.match(body) and not body.startswith("typedef"):
            continue  # a forward declaration: the definition is elsewhere
        if body.startswith("typedef"):
            names = re.findall(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*$", body)
            name_ = next((a or b for a, b in names if a or b), None)
            if name_:
                add(scope, name_, head_at + offset + stripped.rindex(name_))
            continue
        name = _function_name(stripped)
        if name is not None:
            add(scope, name[0], head_at + offset + name[1])
            continue
        variable = re.search(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)?(?:=|$)", body.split("=")[0] + "=")
        if variable and len(body.split()) > 1 and variable.group(1) not in _NOT_NAMES:
            add(scope, variable.group(1), head_at + offset + stripped.index(body) + variable.start(1))
    return out


def _enumerators(code: str, start: int, end: int, scope: Optional[str], add) -> None:
    """Each enumerator of the enum body `code[start:end]` added to `scope`."""
    at = start
    for part in code[start:end].split(","):
        m = re.match(r"\s*([A-Za-z_]\w*)", part)
        if m:
            add(scope, m.group(1), at + m.start(1))
        at += len(part) + 1


def _without_templates(head: str) -> tuple[str, int]:
    """`head` from past its leading ``template <...>`` lists (and export macros' lines before them), with where
    that is in `head`."""
    offset = 0
    while True:
        m = _TEMPLATE.match(head, offset)
        if m is None:
            return head[offset:], offset
        k, depth, parens = m.end(), 1, 0
        while k < len(head) and depth:
            c = head[k]
            parens += (c == "(") - (c == ")")
            if parens == 0:
                depth += (c == "<") - (c == ">")
            k += 1
        offset = k


def _function_name(head: str) -> Optional[tuple[str, int]]:
    """(name, where in `head`) of the function `head` declares: the first unqualified identifier followed by ``(``
    outside parentheses and angle brackets, not a macro's (all capitals) nor a keyword; None where none is."""
    depth = 0
    k = 0
    while k < len(head):
        c = head[k]
        if c in "(<":
            depth += 1
        elif c in ")>":
            depth = max(0, depth - 1) if not (c == ">" and head[k - 1:k] == "-") else depth
        elif depth == 0 and (c.isalpha() or c == "_"):
            m = _WORD.match(head, k)
            word = m.group(0)
            if word == "operator":
                return None
            if _CALL_OPEN.match(head, m.end()) and word not in _NOT_NAMES:  # not a copy of the rest: a long head
                if re.fullmatch(r"[A-Z_][A-Z0-9_]*", word):  # ``FMT_ENABLE_IF(...)``: a macro's arguments
                    k = m.end()
                    continue
                before = head[:k].rstrip()
                return None if before.endswith(("::", ".", "~")) else (word, k)
            k = m.end()
            continue
        k += 1
    return None

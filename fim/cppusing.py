"""The C++ library name typed bare under ``using namespace spdlog;`` (``deb|`` -> ``spdlog::debug``). Pure.

`fim.cprefix` looks an identifier being typed up among the included headers' names; a C++ library's names are in
its namespace, which a ``using namespace`` directive opens to unqualified use. `using_namespaces` reads the
directives in effect at the cursor: those of the document above it, at file scope or in a block still open there
(a function's, a namespace's), comments, strings and preprocessor lines blanked (the lines above the cursor's
scanned once per text, `_head_blocks`: the cursor's line alone per keystroke), each path read through the
namespace aliases of the document and its workspace headers (`fim.cppnamespaces.resolve_alias`); ``std`` and its
namespaces left out. `using_definitions` maps the identifier typed (`fim.cprefix.cursor_identifier`: 3 characters
or more, not a member, not a keyword; not a name of the document's or its workspace headers' own, as
`fim.cprefix` decides) to the names the included headers declare in those namespaces
(`fim.cppnamespaces.namespace_declarations`) sharing the longest part of it (down to its last ``_``, at least
`fim.cprefix.MIN_TYPED` characters), not those the document uses (`fim.cheaders` brings them): the directives'
order, then the header declaring most of the names the document uses first, then in header order and line order;
of more than `MAX_NAMES`, those the project's other files use after the namespace's last part (`fim.popular`).
`with_using_namespaces` puts them before `fim.cprefix`'s names for the same identifier.
"""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence

from fim.cheaders import code_words, declared_names, included_headers
from fim.cppnamespaces import namespace_declarations, namespace_macros, resolve_alias
from fim.cprefix import MAX_NAMES, MIN_TYPED, cursor_identifier
from fim.languages.base import ImportRef
from fim.linecode import opened_above
from fim.memo import text_memo
from fim.popular import Ranker
from fim.symbols import defined_names

_NOISE = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|(?m:^[ \t]*#[^\n]*)", re.S)
_SCOPES = re.compile(r"[{}]|(?<![\w:])using\s+namespace\s+((?:::\s*)?[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*)\s*;")


def using_namespaces(before: str, texts: Sequence[str] = ()) -> list[str]:
    """The namespace paths the ``using namespace`` directives of `before` (a document up to the cursor) open at its
    end, in their order, through the aliases of `before` and `texts` (its workspace headers); not ``std``'s."""
    if "using" not in before:
        return []
    start = before.rfind("\n") + 1
    above = before[:start]  # the lines above the cursor's: the same text while it is typed on (memos hit)
    head = _head_blocks(above)
    open_ = _blocks(before[start:], head) if head is not None else _blocks(before, ((),))
    out: list[str] = []
    for written in (path for block in open_ for path in block):
        path = resolve_alias(written, (above, before[start:], *texts))
        if path.split("::")[0] != "std" and path not in out:
            out.append(path)
    return out


@text_memo
def _head_blocks(head: str) -> Optional[tuple[tuple[str, ...], ...]]:
    """The directives of each block open at the end of `head` (a document up to a line's start), the file's first;
    None where it ends in a ``/* */`` comment (the next line's text goes on in it)."""
    if head.rfind("/*") > head.rfind("*/") and opened_above(head, len(head)):
        return None
    return tuple(map(tuple, _blocks(head, ((),))))


def _blocks(text: str, open_at_start: Sequence[Sequence[str]]) -> list[list[str]]:
    """The directives of each block open at the end of `text` (comments, strings, preprocessor lines blanked),
    from those open at its start."""
    open_ = [list(block) for block in open_at_start]  # the directives of each block still open, the file's first
    for m in _SCOPES.finditer(_NOISE.sub(" ", text)):
        if m.group(0) == "{":
            open_.append([])
        elif m.group(0) == "}":
            if len(open_) > 1:
                open_.pop()
        else:
            open_[-1].append(re.sub(r"\s+", "", m.group(1)).strip(":"))
    return open_


def using_definitions(before: str, includes: Sequence[ImportRef], document: str, installed: Mapping[str, str],
                      workspace_texts: Sequence[str] = (), limit: int = MAX_NAMES,
                      rank: Optional[Ranker] = None) -> dict[str, list[str]]:
    """Installed header -> the names it declares in the namespaces `using_namespaces` opens at the end of `before`
    (the document up to the cursor) that share the longest part of the identifier typed there, at most `limit`;
    {} where none does (see the module's docstring). `includes` are the document's ``#include``s no workspace file
    resolves (and those its workspace headers make); `workspace_texts` the workspace headers it includes."""
    typed = cursor_identifier(before)
    if typed is None or not includes:
        return {}
    namespaces = using_namespaces(before, workspace_texts)
    if not namespaces:
        return {}
    headers = [h for h in included_headers(includes, installed) if h in installed]
    texts = {h: installed[h] for h in headers}
    macros = namespace_macros(tuple(texts.values()))
    declared = [(h, namespace_declarations(texts[h], macros)) for h in headers]
    offered = [(n, order, h, names) for n, ns in enumerate(namespaces) for order, (h, scopes) in enumerate(declared)
               if (names := scopes.get(ns))]
    if not offered:
        return {}
    if not any(typed in names for *_, names in offered) and _own(typed, document, workspace_texts):
        return {}
    used = code_words(document)
    uses = {h: len(used.keys() & names.keys()) for _, _, h, names in offered}
    floor = min(len(typed), max(MIN_TYPED, typed.rfind("_") + 1))
    for length in range(len(typed), floor - 1, -1):  # the longest part of what is typed that some name begins
        prefix = typed[:length]
        hits = sorted((n, -uses[h], order, line, h, name) for n, order, h, names in offered
                      for name, line in names.items()
                      if name.startswith(prefix) and (name not in used or name == typed)
                      and name in declared_names(texts[h]))
        if hits:
            break
    else:
        return {}
    where: dict[str, str] = {}
    for *_, header, name in hits:
        where.setdefault(name, header)
    chosen = list(where)
    chosen = rank(chosen, namespaces[hits[0][0]].split("::")[-1], limit) if rank is not None else chosen[:limit]
    out: dict[str, list[str]] = {}
    for name in chosen:
        out.setdefault(where[name], []).append(name)
    return out


def with_using_namespaces(found: Mapping[str, list[str]], first: Mapping[str, list[str]],
                          limit: int = MAX_NAMES) -> dict[str, list[str]]:
    """`first` (`using_definitions`) then the names of `found` (`fim.cprefix.prefix_definitions`) not in it, at
    most `limit` names in all."""
    if not first:
        return dict(found)
    out = {h: list(names) for h, names in first.items()}
    count = sum(map(len, out.values()))
    for header, names in found.items():
        for name in names:
            if count >= limit:
                return out
            held = out.setdefault(header, [])
            if name not in held:
                held.append(name)
                count += 1
    return out


def _own(typed: str, document: str, workspace_texts: Sequence[str]) -> bool:
    """Whether `typed` is the document's or its workspace headers' own name (defined there, or a whole word of
    the document elsewhere than at the cursor: a local variable), as `fim.cprefix` decides."""
    if typed in defined_names(document, "c") or any(typed in defined_names(t, "c") for t in workspace_texts):
        return True
    return sum(1 for _ in re.finditer(r"(?<![\w$])" + re.escape(typed) + r"(?![\w$])", document)) > 1

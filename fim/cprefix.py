"""The C/C++ library identifier being typed (``git_repository_o|``, ``PQex|``): the included headers' names it begins.

`fim.cheaders` brings the declarations of the names a document uses; a name not used yet brings nothing, and a C
library names everything by its prefix. `cursor_identifier` reads the identifier right before the cursor: one long
enough to mean something (`MIN_TYPED` characters, or a library prefix ending in ``_``: ``Py_``), not a member
(``s.`` or ``p->`` before it), nor in a comment (one an earlier line opens too, `fim.linecode`) or string of its
line, nor a keyword. `prefix_definitions` maps it to the names the document's installed headers declare that start
with it (functions, types, macros, enumerators): the headers of the includes no workspace file resolves and those
they include, as `fim.cheaders.header_closure` follows them (the standard library's left out), at most `MAX_NAMES`
of them, the best first: the names sharing the longest part of what is typed (a typo, ``git_repository_opn``, falls
back to ``git_repository_op``, never shorter than through its last ``_``), then those of the longest family of names
the document uses (``git_od|`` in a file using ``git_odb_object_data``: ``git_odb_object_*`` and the type
``git_odb_object``), then those of the header declaring most of the names the document uses, then in header order.
An identifier the document or its workspace headers define, or one the document uses elsewhere that no header
declares (a local variable), brings nothing; nor do the names the document already uses (`fim.cheaders` brings
them). A header's names are kept sorted by its text (a keystroke is a binary search per header).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from typing import Mapping, Optional, Sequence

from fim.cheaders import code_words, declared_names, included_headers
from fim.languages.base import ImportRef
from fim.linecode import code_before
from fim.symbols import defined_names

MIN_TYPED = 3  # characters typed before the headers' names are looked up (fewer where they end with ``_``)
MAX_NAMES = 16  # names brought for the identifier typed: a few dozen lines of declarations (in the room left)
_PART_END = re.compile(r"_(?=[A-Za-z0-9])|[a-z0-9](?=[A-Z])")
_IDENTIFIER = re.compile(r"(?<![\w$])[A-Za-z_]\w*\Z")
# C23's and C++23's keywords and the C types and qualifiers typed bare: never a library's name
KEYWORDS = frozenset("""
alignas alignof and and_eq asm atomic_cancel atomic_commit atomic_noexcept auto bitand bitor bool break case catch
char char8_t char16_t char32_t class co_await co_return co_yield compl concept const consteval constexpr constinit
const_cast continue decltype default define defined delete do double dynamic_cast else elif endif enum error
explicit export extern false float for friend goto if ifdef ifndef include inline int long mutable namespace new
noexcept not not_eq nullptr operator or or_eq pragma private protected public register reinterpret_cast requires
restrict return short signed sizeof static static_assert static_cast struct switch template this thread_local
throw true try typedef typeid typename typeof undef union unsigned using virtual void volatile wchar_t while xor
xor_eq _Alignas _Alignof _Atomic _BitInt _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local
size_t ssize_t NULL
""".split())


def cursor_identifier(before_cursor: str) -> Optional[str]:
    """The identifier typed right before the cursor when it may begin a library's name: `MIN_TYPED` characters or
    more (or two ending with ``_``), not after ``.``, ``->`` or ``::``, not in a comment (an earlier line's ``/*``
    too) or a string of the line, not a keyword, not in an ``#include`` line; else None."""
    line = before_cursor[before_cursor.rfind("\n") + 1:]
    m = _IDENTIFIER.search(line)
    if m is None:
        return None
    typed = m.group(0)
    if len(typed) < MIN_TYPED and not (len(typed) >= 2 and typed.endswith("_")) or typed in KEYWORDS \
            or typed[0].isdigit():
        return None
    head = line[:m.start()]
    if head.rstrip().endswith((".", "->", "::")) or re.match(r"\s*#\s*include\b", head):
        return None
    if not code_before(before_cursor, typed):
        return None  # in a comment or a string
    return typed


def prefix_definitions(before_cursor: str, includes: Sequence[ImportRef], document: str,
                       installed: Mapping[str, str], workspace_texts: Sequence[str] = (),
                       limit: int = MAX_NAMES) -> dict[str, list[str]]:
    """Installed header -> the names it declares that begin the identifier typed at the end of `before_cursor`
    (`cursor_identifier`), the headers' and the names' best first, at most `limit` in all; {} where none does
    or the identifier is the document's own. `includes` are the document's ``#include``s no workspace file
    resolves (and those its workspace headers make, `fim.cheaders.workspace_includes`); `workspace_texts` the
    workspace headers it includes, whose definitions are its own."""
    typed = cursor_identifier(before_cursor)
    if typed is None or not includes:
        return {}
    headers = included_headers(includes, installed)
    if not headers:
        return {}
    texts = {path: installed[path] if path in installed else "" for path in headers}
    declared_anywhere = any(typed in declared_names(text) for text in texts.values() if text)
    if not declared_anywhere and (typed in defined_names(document, "c") or _used_elsewhere(document, typed)
                                  or any(typed in defined_names(text, "c") for text in workspace_texts)):
        return {}
    used = code_words(document)
    floor = min(len(typed), max(MIN_TYPED, typed.rfind("_") + 1))  # ``git_repository_`` stays typed
    for length in range(len(typed), floor - 1, -1):  # the longest part of what is typed that some name begins
        prefix = typed[:length]
        found = [(rank, path, name) for rank, path in enumerate(headers) if texts[path]
                 for name in _starting(texts[path], prefix) if name not in used or name == typed]
        if found:
            break
    else:
        return {}
    uses = {path: len(used.keys() & declared_names(texts[path])) for path in {path for _, path, _ in found}}
    family = _families(used, prefix)

    def rank(f: tuple[int, str, str]) -> tuple[int, int, int, int]:
        kin = max((family.get(head, 0) for head in _heads(f[2]) + [f[2] + "_"]), default=0)  # ``git_odb_object``
        return -kin, -uses[f[1]], f[0], _order(texts[f[1]]).get(f[2], 1 << 30)

    found.sort(key=rank)
    out: dict[str, list[str]] = {}
    for _, path, name in found[:limit]:
        out.setdefault(path, []).append(name)
    return out


def _heads(name: str) -> list[str]:
    """The heads of `name` that end a part of it: ``git_odb_``, ``git_odb_object_`` of ``git_odb_object_free``;
    ``PQresult`` of ``PQresultStatus``."""
    return [name[:m.end()] for m in _PART_END.finditer(name)]


def _families(used: Mapping[str, int], prefix: str) -> dict[str, int]:
    """Each head (`_heads`) of the document's words starting with `prefix` -> its length: the families of names
    the document uses (``git_odb_object_``), which the name being typed likely belongs to."""
    out: dict[str, int] = {}
    for word in used:
        if word.startswith(prefix):
            for head in _heads(word):
                if len(head) > len(prefix):
                    out[head] = len(head)
    return out


@lru_cache(maxsize=512)  # a library's headers are asked for on every keystroke: their names sorted once per text
def _sorted(text: str) -> tuple[str, ...]:
    return tuple(sorted(declared_names(text)))


def _starting(text: str, prefix: str) -> list[str]:
    """The names a header declares that start with `prefix`, sorted."""
    names = _sorted(text)
    out = []
    for k in range(bisect_left(names, prefix), len(names)):
        if not names[k].startswith(prefix):
            break
        out.append(names[k])
    return out


@lru_cache(maxsize=128)
def _order(text: str) -> dict[str, int]:
    """Each name a header declares -> where its first word occurrence comes in the header."""
    declared = declared_names(text)
    out: dict[str, int] = {}
    for m in re.finditer(r"[A-Za-z_]\w*", text):
        if m.group(0) in declared:
            out.setdefault(m.group(0), m.start())
    return out


def _used_elsewhere(document: str, typed: str) -> bool:
    """Whether `typed` is a whole word of `document` more than once (the cursor's is one): a name of its own."""
    count = 0
    for _ in re.finditer(r"(?<![\w$])" + re.escape(typed) + r"(?![\w$])", document):
        count += 1
        if count > 1:
            return True
    return False

"""Choose the repository context (snippets from other files) for one completion prompt. Pure.

Sources, most important first:

1. definitions the current file imports (resolved with `fim.imports`, cut with `fim.symbols`; the line
   being typed counts only where the language names a package there, as Perl's ``Foo::Bar->``),
   imported ones first, then those of the files the language shows it without an import (the
   other files of a Go or Java package, a C file's own header), each with the signatures of the
   file's other definitions in the room left; the files past the caps (`MAX_IMPORT_FILES`,
   `MAX_SIBLING_FILES`) as their signatures only, after those sent whole; then the definitions it
   uses from installed packages (an import the workspace does not resolve, found by
   `fim.dependencies` in the `installed` mapping: site-packages, node_modules, Go's vendor/, Cargo's registry
   sources, C headers in the include folders, where a Rust path used without a ``use`` counts too:
   ``serde_json::to_string(``, and a C file's includes through the workspace's headers: ``"types.h"`` ->
   ``<git2.h>``, `fim.cheaders.workspace_includes`), as signatures and
   their docstrings' first lines (`fim.symbols.brief`), after the workspace's own files; the member being typed
   after an installed module's name (``flag.|``, `fim.member`) brings the names that module offers (those
   starting with the part typed first; of more than fit, those the project's other files use, `fim.popular`)
   as snippets of their own, one a file, taken after the snippets for the names used of the files offering them
   and ahead of the other installed files, first of the installed ones in the prompt: typing the member
   (``httpcore.`` -> ``httpcore.H``) re-cuts the member's snippets only, the others stay byte-identical where room
   allows (the engine's KV cache is reused past them, `server/engines/kvplan.py`), as a C library's
   identifier being typed (``git_repository_o|``, `fim.cprefix`) brings the names the included headers declare
   that it begins, a C++ name typed after a namespace (``fmt::for|``, ``po::|`` through an alias,
   `fim.cppnamespaces`) those they declare in it (under
   ``using namespace spdlog;`` a name typed bare too, `fim.cppusing`), and a Kotlin name typed under a
   package import (``lau|``, `fim.kotlinprefix`) its facades' names it begins, a class name (``Dispat|``,
   `fim.typedclasses`) the package's classes it begins;
2. the window of each other open document most similar to the code around the cursor;
3. windows of recently viewed or edited files (and of the current file outside the prompt's own
   prefix/suffix window) most similar to the code around the cursor (Copilot's method);
4. chunks of recent edits (`fim.similarity.RecentEdits`, llama.vim's ring);
5. the names offered for the member being typed past those its snippet holds (`fim.popular.SHOWN` at most, in
   the installed files' share), up to `fim.popular.MAX_MORE`, as their signatures alone (no comment lines above
   them), in the room all others leave (``ts.SyntaxKind.|`` with nothing typed: 256 of the enum's 388 members where
   the prompt has room), first in the prompt.

The result never repeats the current file's prefix/suffix window, never holds one file region
twice, never reads a secret file (`fim.secrets.is_secret_path`), and every snippet is redacted
with `fim.secrets.redact`. Snippets come least important first and most important LAST (nearest
the cursor), grouped by source kind and sorted within a kind by a key that does not depend on the
cursor (import order, path and line, ring order), so the prompt prefix stays the same from one
keystroke to the next while the chosen snippets do.

What each file defines and imports is remembered by its text in memos bounded by the characters they hold
(`fim.memo`), and the re-export searches per version of the file in a memo holding twice a request's lookups
(an answer that found no file only while the files it searched are unchanged):
a document importing 2,000 files parses none of them again a keystroke later (`benchmarks/many_imports.py`).
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import AbstractSet, Mapping, Optional, Sequence

from fim import languages
from fim.cheaders import workspace_includes
from fim.cppnamespaces import qualified_definitions
from fim.cppusing import using_definitions, with_using_namespaces
from fim.cprefix import prefix_definitions
from fim.crates import qualified_paths
from fim.dependencies import installed_definitions
from fim.imports import PathIndex, imported_modules, language_of, resolve, same_family
from fim.languages.base import CONFIG_NAMES, uses
from fim.linecode import LOOK_BACK
from fim.typedclasses import typed_definitions
from fim.luamodules import neovim_refs
from fim.member import member_definitions
from fim.popular import MAX_MORE, ProjectUses, last
from fim.memo import text_memo
from fim.positions import lsp_lines, utf16_to_index
from fim.prompt import Snippet
from fim.secrets import is_secret_path, redact
from fim.similarity import (
    RecentEdits,
    Window,
    jaccard,
    region_overlap,
    scored_windows,
    significant_lines,
    split_lines,
    word_set,
)
from fim.symbols import Extract, brief, defined_names, defines, deprecated_names, extract

CHARS_PER_TOKEN = 3.5

# OUTLINES: the files past the caps of IMPORTS, with no share: what IMPORTS leaves, before the others' leftovers.
# DEPENDENCIES: installed packages' definitions the file uses, after the workspace's files in both rounds.
# MORE_NAMES: the member's names past those its own snippet shows, with no share: the room all others leave, first in
# the prompt (the first a prompt short of tokens drops).
IMPORTS, OUTLINES, DEPENDENCIES, OPEN, SIMILAR, RECENT, MORE_NAMES = 1, 2, 3, 4, 5, 6, 7

# Share of the budget each kind may take before the leftovers are handed out in priority order.
SHARES = {IMPORTS: 0.5, OPEN: 0.25, SIMILAR: 0.25, RECENT: 0.2, OUTLINES: 0.0, DEPENDENCIES: 0.15, MORE_NAMES: 0.0}
WINDOW_LINES = 60
QUERY_BEFORE, QUERY_AFTER = 45, 15  # lines around the cursor compared with other files
QUERY_LINE_CHARS = 4096  # of a longer line (minified code), the words of its start only are compared
RING_QUERY_LINES = 16  # llama.vim compares ring chunks with +-32 lines; we use a 32-line window
MAX_IMPORT_FILES = 16
MAX_SIBLING_FILES = 12  # files of the same package (Go, Java) sent without an import
MAX_OUTLINE_FILES = 48  # files past those caps sent as their signatures only, in the room left
MEMBER_RANK = 1000.0  # installed files: those offering the member's names for the names used, the member's, the rest
CUE_LINE_CHARS = 200  # of the line before the cursor whose words hint at the member's names (`fim.popular`)
MEMBER_REST_CHARS = 200  # the least room worth a member's other names after those the project uses
MAX_DEPENDENCY_FILES = 8  # installed packages' files, those defining the names used near the cursor first
DEPENDENCY_CHARS = 2000  # the most one installed file's definitions take, ...
DEPENDENCY_NAME_CHARS = 400  # ... and this more for each name it defines past the second (a bundle's .d.ts)
OUTLINE_CHARS = 1200  # the most such a file's signatures take
SHORT_CHARS = 320  # an imported file's used definitions' heads: every file's before any file's whole cut
MAX_NAMES_PER_FILE = 24  # names looked up in a file whose import names none (an #include)
USED_LINES = 400  # lines each side of the cursor whose words may name what a file without names brings
MAX_OPEN_FILES = 6
MAX_SIMILAR_FILES = 20  # files scanned for similar windows
MAX_SIMILAR = 4  # windows kept (Copilot's top 4)
MAX_DUPLICATE_SHARE = 0.5  # a snippet with more of its distinctive lines already in the prompt is dropped
MIN_DISTINCTIVE_CHARS = 24  # shorter lines (``mode: str = "r",``) are too common to mark a duplicate
CURRENT_SCOPE = 1024  # lines of the current file, each side of the cursor, searched for windows
SCOPE_ALIGN = 256
ALTERNATIVES = 8  # next-best windows of a file, tried when the best repeats something taken


Spans = tuple[tuple[int, int], ...]

_IMPORT_START = re.compile(r"(?:from|import)\s")
_NAME_LIST = re.compile(r"[\w\s,]*,")


def _import_line(line: str) -> bool:
    """A line of an import statement: ``from x import (``, ``import y``, ``    name_a, name_b,``, ``)``
    (string tests first: a regex alone took 2.6 us a line, several hundred lines a keystroke)."""
    body = line.strip()
    if body.startswith(("from", "import")) and _IMPORT_START.match(line.lstrip()):
        return True
    return body == ")" or (body.endswith(",") and _NAME_LIST.fullmatch(body) is not None)

# The first line of a definition (stripped): Python, JS/TS, Go, Rust, Java-like, C-like, Kotlin, Swift, Ruby, Perl.
_DEFINITION_LINE = re.compile(
    r"(?:(?:export|default|pub(?:\([^)]*\))?|public|private|protected|internal|static|abstract|final|open|sealed"
    r"|override|data|partial|async|unsafe|inline|local)\s+)*"
    r"(?:def|class|module|namespace|object|protocol|extension|function\*?|interface|type|struct|enum|trait|fn|func"
    r"|fun|impl|sub)\s+[A-Za-z_$]")


@dataclass
class _Candidate:
    kind: int
    source: str
    # Alternatives, best first: (line ranges [start, end) of the source, text). The first that
    # repeats nothing already taken is used.
    regions: list[tuple[Spans, str]]
    rank: float  # higher is taken first within its kind
    order: tuple = ()  # output order within the kind
    chosen: Optional[tuple[Spans, str]] = field(default=None)
    # The names offered for the member being typed: its regions do not clash with its file's other snippet's
    member: bool = False


def header_cost(source: str) -> int:
    """Characters the prompt spends on a snippet besides its text (``#path\\n`` ... ``\\n``)."""
    return len(source) + 3


def select_context(current_path: str, current_text: str, cursor_line: int, files: Mapping[str, str],
                   open_paths: Sequence[str], recent: Optional[RecentEdits], budget_chars: int,
                   window: tuple[int, int], *, recent_paths: Optional[Sequence[str]] = None,
                   max_snippet_chars: Optional[int] = None, language: Optional[str] = None,
                   installed: Optional[Mapping[str, str]] = None,
                   cursor_character: Optional[int] = None) -> list[Snippet]:
    """Snippets of repository context for a completion in `current_path`, most important last.

    `files` maps workspace-relative paths to text (already filtered: no ignored, binary or huge
    files); `open_paths` are the other open documents; `recent_paths` (optional) are recently
    viewed/edited files, most recent first (defaults to the sources of `recent`'s chunks, then
    `open_paths`); `window` is the half-open line range [start, end) of the current file not to
    take context from: the lines in the prompt's prefix and suffix (to the document's end for a
    prompt without a suffix). The snippets' texts plus `header_cost` each fit in
    `budget_chars` (about ``tokens * CHARS_PER_TOKEN``). `language` is the editor's languageId
    for the current document (its extension decides without one). `installed` (optional) holds the files
    of the project's installed packages, read on demand (`fim.dependencies`): an import the workspace
    does not resolve brings the definitions the document uses from there; with `cursor_character` (UTF-16, on
    `cursor_line`), the member being typed after an installed module's name (``flag.|``) brings the names that
    module offers (`fim.member`) as snippets of their own, ahead of the other installed files.
    """
    if budget_chars <= 0:
        return []
    entry = languages.get(language, current_path)
    language_id = entry.id if entry is not None else language_of(current_path)
    language = entry.name if entry is not None else language_of(current_path)
    lines = split_lines(current_text)
    cursor_line = max(0, min(cursor_line, max(0, len(lines) - 1)))
    win_lo, win_hi = max(0, window[0]), max(window[0], window[1])
    query = word_set(_joined(lines, cursor_line - QUERY_BEFORE, cursor_line + QUERY_AFTER))
    # Names used near the cursor, import statements left out (they name every imported name).
    used_near = word_set(_joined(lines, cursor_line - QUERY_BEFORE, cursor_line + QUERY_AFTER, code_only=True))
    ring_query = word_set(_joined(lines, cursor_line - RING_QUERY_LINES, cursor_line + RING_QUERY_LINES))
    per_snippet = max_snippet_chars or max(600, min(8000, budget_chars // 3))

    def readable(path: str) -> bool:
        return bool(path) and not is_secret_path(path)

    candidates: list[_Candidate] = []

    # 1. What the current file imports, then what its package shows it without an import.
    import_paths: dict[str, tuple[int, list[str]]] = {}
    nameless: set[str] = set()  # files imported for everything (or nothing named): looked up by use
    siblings: list[str] = []
    outlines: set[str] = set()  # files past MAX_IMPORT_FILES or MAX_SIBLING_FILES: their signatures only
    dependencies: dict[str, tuple[int, list[str]]] = {}  # installed file -> (import line, names used)
    at_cursor: dict[str, list[str]] = {}  # installed file -> the names it offers for the member being typed
    more_at_cursor: dict[str, list[str]] = {}  # the same, up to MAX_MORE names
    column = utf16_to_index(lines[cursor_line], cursor_character) \
        if cursor_character is not None and cursor_line < len(lines) else None
    at_line = lines[cursor_line][max(0, column - CUE_LINE_CHARS):column] if column is not None else ""
    # which of a big module's names the project uses, and those the file's name and the line typed hint at
    popular = ProjectUses(files, current_path, f"{current_path.rpartition('/')[2].partition('.')[0]} {at_line}")
    refs: tuple = ()
    used: dict[str, int] = {}  # words of the code around the cursor (`_used_words`), where a file is looked up by use
    unresolved: list = []  # the imports no workspace file resolves (C: and those its workspace headers make)
    if files:
        index = _index(files)
        if entry is not None and entry.learn is not None:
            entry.learn(index, files)
        refs = _document_imports(current_text, lines, cursor_line, language_id)
        if entry is not None and entry.imports_on_cursor_line and cursor_line < len(lines):
            known = {r.module for r in refs}
            refs += tuple(replace(r, line=cursor_line) for r in imported_modules(lines[cursor_line], language_id)
                          if r.module not in known)  # not cached: one line, and a new text every keystroke
        for ref in refs:
            targets = [p for p in resolve(ref, current_path, index)
                       if p != current_path and readable(p) and p in files]
            if not targets and installed is not None:
                unresolved.append(ref)
                for path, found in installed_definitions(ref, current_path, current_text, installed).items():
                    line, held = dependencies.setdefault(path, (ref.line, []))
                    held.extend(n for n in found if n not in held)
                continue
            if len(targets) > 1 and ref.names and language != "python":
                # A package (Go, a Java ``a.b.*``): each file for the names it defines; the
                # files defining none of them are left out. (Python's ``from pkg import sub, Name``: the
                # ``__init__`` keeps the names it re-exports, followed below.)
                defining = [(p, [n for n in ref.names if n in defined_names(files[p], _language_id(p) or "")])
                            for p in targets]
                if any(found for _, found in defining):
                    for path, found in defining:
                        line, held = import_paths.setdefault(path, (ref.line, []))
                        held.extend(n for n in found if n not in held)
                        nameless.add(path)  # the rest of the package: by use, then its signatures
                    continue
            module_import = language == "python" and not ref.star and ref.line < len(lines) \
                and lines[ref.line].lstrip().startswith("import ")
            for path in targets:
                names = list(ref.names)
                folder, _, file_name = path.rpartition("/")
                stem, package = file_name.rpartition(".")[0], folder.rpartition("/")[2]
                if language == "python" and path.endswith("/__init__.py") and (
                        module_import or package in names and not defines(files[path], "python", package)):
                    # ``import pkg``, ``from pkg import subpackage``: what it re-exports (``from .main import
                    # Typer``, ``from .options import ModelAdmin``) is what ``pkg.`` offers; the names the document
                    # uses first. (Not ``from app.settings import settings`` where the package defines ``settings``.)
                    names = list(dict.fromkeys((*(names if module_import else ()),
                                                *_namespace_names(path, files[path], current_text))))
                    names = names[:MAX_NAMESPACE_NAMES]
                elif language == "python" and stem in names and ref.module.rpartition(".")[2] != stem:
                    # ``from pkg import submodule``: the name being typed after ``submodule.`` is not in
                    # the text yet, so the submodule's head (or outline) is what helps; but ``from sympy.core
                    # import sympify`` is the function sympify.py defines (the package re-exports it over the
                    # submodule's name). (``from pkg.proc import proc, proc_async``: the module's names.)
                    names = [stem] if defines(files[path], "python", stem) else []
                    if not names:  # its names the document uses (``defaults.X``), then the rest's signatures
                        nameless.add(path)
                line, held = import_paths.setdefault(path, (ref.line, []))
                held.extend(n for n in names if n not in held)
                if ref.star or not ref.names or entry is not None and entry.imports_packages:
                    nameless.add(path)
        if installed is not None and entry is not None and entry.family == "rust":
            # ``serde_json::to_string(`` without a ``use``: Rust 2018 names an extern crate anywhere.
            for ref in qualified_paths(current_text, tuple(refs)):
                for path, found in installed_definitions(ref, current_path, current_text, installed).items():
                    line, held = dependencies.setdefault(path, (ref.line, []))
                    held.extend(n for n in found if n not in held)
        if installed is not None and entry is not None and entry.family == "lua":
            # ``vim.api.nvim_buf_set_lines(``: Neovim's runtime, used without a ``require``
            for ref in neovim_refs(current_text):
                for path, found in installed_definitions(ref, current_path, current_text, installed).items():
                    line, held = dependencies.setdefault(path, (ref.line, []))
                    held.extend(n for n in found if n not in held)
        if installed is not None and entry is not None and entry.family == "c":
            # ``#include "types.h"`` whose ``#include <git2.h>`` no workspace file resolves: a library's header
            for ref in workspace_includes(refs, current_path, files, lambda r, p: resolve(r, p, index),
                                          lambda p: _file_imports(files[p], _language_id(p) or "c")):
                unresolved.append(ref)
                for path, found in installed_definitions(ref, current_path, current_text, installed).items():
                    line, held = dependencies.setdefault(path, (ref.line, []))
                    held.extend(n for n in found if n not in held)
        if installed is not None and column is not None:
            at_cursor = member_definitions(current_text, lines, cursor_line, column, language_id, current_path,
                                           installed, popular.rank)[1]
            more_at_cursor = member_definitions(current_text, lines, cursor_line, column, language_id, current_path,
                                                installed, popular.rank, MAX_MORE)[1] if at_cursor else {}
            if not at_cursor and entry is not None and entry.family == "c":  # ``git_repository_o|``
                headers = [files[p] for p in import_paths]
                before = "\n".join(lines[:cursor_line] + [lines[cursor_line][:column]])  # ``using namespace fmt;``
                at_cursor = with_using_namespaces(
                    prefix_definitions(before, unresolved, current_text, installed, headers),
                    using_definitions(before, unresolved, current_text, installed, headers, rank=popular.rank)) \
                    or qualified_definitions(before, unresolved, current_text, installed,
                                             rank=popular.rank, workspace_texts=headers)
            elif not at_cursor and language_id in ("kotlin", "java"):  # ``lau|``, ``Dispat|``; ``assertEq|``
                before = "\n".join(lines[max(0, cursor_line - LOOK_BACK):cursor_line] + [lines[cursor_line][:column]])
                at_cursor = typed_definitions(before, unresolved, current_text, current_path,
                                              installed, [files[p] for p in import_paths], popular.files_using)
        if language == "python":
            for path in [p for p in import_paths if p.endswith("/__init__.py")]:
                line, names = import_paths[path]
                base = path[: -len("__init__.py")]
                subs = [n for n in names if base + n + ".py" in import_paths or base + n + "/__init__.py" in import_paths]
                if subs:  # ``from pkg import submodule``: the submodule's file stands for it
                    rest = [n for n in names if n not in subs]
                    if rest:
                        import_paths[path] = (line, rest)
                    else:
                        del import_paths[path]
        import_paths = _follow_reexports(import_paths, files, index, readable, current_path)
        if installed is not None:
            _installed_reexports(import_paths, files, index, installed, dependencies)
        if nameless:
            used = _used_words(lines, cursor_line, used_near)
            for path in [p for p in import_paths if p in nameless]:  # an #include, ``use x::*``: the names used
                line, names = import_paths[path]
                found = _used_definitions(files[path], _language_id(path), used)
                import_paths[path] = (line, names + [n for n in found if n not in names])
        if len(import_paths) > MAX_IMPORT_FILES:
            # The files whose names are used near the cursor first, then those more of whose names the document
            # uses (encode.c's 27 #includes: memory.h, 23rd, for MemoryManager), then in import order; those past
            # MAX_IMPORT_FILES as their signatures only.
            ranked = sorted(import_paths, key=lambda p: (-sum(1 for n in import_paths[p][1] if n in used_near),
                                                         -len(import_paths[p][1])))
            keep = set(ranked[:MAX_IMPORT_FILES + MAX_OUTLINE_FILES])
            outlines.update(ranked[MAX_IMPORT_FILES:MAX_IMPORT_FILES + MAX_OUTLINE_FILES])
            import_paths = {p: v for p, v in import_paths.items() if p in keep}
        if entry is not None and entry.siblings is not None:
            siblings = [p for p in entry.siblings(current_path, index)
                        if p not in import_paths and readable(p) and p in files]
    if siblings:
        used = used or _used_words(lines, cursor_line, used_near)
        ranked = _rank_siblings([(path, _used_definitions(files[path], _language_id(path), used))
                                 for path in siblings], used_near)
        last = max((r.line for r in refs), default=0)
        for k, (path, found) in enumerate(ranked[:MAX_SIBLING_FILES + MAX_OUTLINE_FILES - len(outlines)]):
            import_paths[path] = (last + 1, found)
            nameless.add(path)
            if k >= MAX_SIBLING_FILES:
                outlines.add(path)
    for n, (path, (line, names)) in enumerate(import_paths.items()):
        room = min(per_snippet, OUTLINE_CHARS) if path in outlines else per_snippet
        cut = extract(files[path], _language_id(path), names, room, others=path in nameless)
        if not cut.text.strip():
            continue
        uses = sum(1 for name in names if name in used_near)
        rank = uses + jaccard(query, _word_set(cut.text)) + (0.5 if cut.found else 0.0)
        # Its used definitions' heads: every imported file's before the whole cuts of those not used near the cursor
        short = extract(files[path], _language_id(path), names, SHORT_CHARS, others=path in nameless) \
            if room > SHORT_CHARS and len(cut.text) > SHORT_CHARS else cut
        alternatives = [(cut.spans, cut.text)] + ([(short.spans, short.text)] if short.text.strip() and short != cut
                                                  else [])
        # Signatures only come after the files sent whole in priority, before them in the prompt: one cut
        # short of tokens drops them first.
        candidates.append(_Candidate(OUTLINES if path in outlines else IMPORTS, path, alternatives, rank, (line, n)))

    # Installed packages: the definitions the document uses, as signatures, those used near the cursor first.
    ranked_dependencies = sorted(dependencies, key=lambda p: -sum(1 for n in dependencies[p][1] if n in used_near))
    # The member being typed (`fim.member`): what its module offers, within the installed files' share (half of it
    # left the rest to the bare signatures of MORE_NAMES: 4K 0.51 -> 0.59 on four cases), first of them in the prompt,
    # as snippets of their own: a file defining names used too keeps its snippet for those as it was before the member
    # (typing ``httpcore.H`` re-cuts the member's only).
    member_room = min(per_snippet, int(SHARES[DEPENDENCIES] * budget_chars))
    member_rooms = tuple(dict.fromkeys((member_room, member_room // 2)))
    for n, path in enumerate(ranked_dependencies[:MAX_DEPENDENCY_FILES]):
        line, names = dependencies[path]
        if not readable(path) or _language_id(path) is None:
            continue
        offered = [name for name in at_cursor.get(path, ()) if name not in names]
        if names:
            # The more names the file defines the more room it may take (a bundle's .d.ts), else a shorter cut.
            rooms = dict.fromkeys(min(per_snippet, r) for r in (
                DEPENDENCY_CHARS + DEPENDENCY_NAME_CHARS * max(0, len(names) - 2), DEPENDENCY_CHARS, OUTLINE_CHARS))
            cuts = [brief(installed[path], _language_id(path), names, room, others=True) for room in rooms]
        elif offered:  # ``biglog::in|`` where nothing of the header is used yet: the member's names (in half the room
            # where the share cannot hold them with their header: busted's ``tablex.|`` got the head), else the head
            cuts = _member_cuts(path, installed[path], offered, popular.promoted, member_rooms)
            cuts.append(extract(installed[path], _language_id(path), (), min(per_snippet, OUTLINE_CHARS)))
        else:  # a module none of whose names is used yet: its head, or its outline
            cuts = [extract(installed[path], _language_id(path), (), min(per_snippet, OUTLINE_CHARS))]
        alternatives = list({cut.text: (cut.spans, cut.text) for cut in cuts if cut.text.strip()}.values())
        if alternatives:
            rank = sum(1 for name in names if name in used_near) + jaccard(query, _word_set(alternatives[0][1]))
            member = bool(offered) and not names
            # taken first: a file offering the member's names, for its names used (its cut as before the member);
            # then the member's names (`_member_candidate`); then the other installed files
            priority = 2 if names and offered else 1 if member else 0
            candidates.append(_Candidate(DEPENDENCIES, path, alternatives, rank + MEMBER_RANK * priority,
                                         (-1, n) if member else (line, n), member=member))
            if offered and names:  # the member's names: a snippet of their own, before the file's
                candidates.extend(_member_candidate(path, installed[path], offered, popular.promoted, member_rooms,
                                                    rank + MEMBER_RANK, n))
    for n, (path, names) in enumerate(list(at_cursor.items())[:MAX_DEPENDENCY_FILES]):
        if path in dependencies or not readable(path) or _language_id(path) is None:
            continue
        candidates.extend(_member_candidate(path, installed[path], names, popular.promoted, member_rooms,
                                            MEMBER_RANK - n, n))
    # The member's names past those its snippets show, where the prompt has room left (MORE_NAMES): past those of its
    # shortest cut (the one a short share takes: nvim_create_augroup was in the longer one only, and nowhere)
    shown = {c.source: c.regions[-1][1] for c in candidates if c.member}
    for n, (path, names) in enumerate(list(more_at_cursor.items())[:MAX_DEPENDENCY_FILES]):
        if readable(path) and _language_id(path) is not None:
            candidates.extend(_more_names(path, installed[path], names, shown.get(path, ""), popular.promoted,
                                          per_snippet, n))

    # 2. Other open documents: the window most similar to the cursor area.
    open_seen: list[str] = []
    for path in open_paths:
        if path != current_path and path not in open_seen and readable(path) and path in files:
            open_seen.append(path)
    open_windows = []
    for path in open_seen:
        windows = scored_windows(query, path, files[path], WINDOW_LINES, limit=ALTERNATIVES)
        if windows:
            open_windows.append((windows[0].score, path, windows))
    open_windows.sort(key=lambda t: (-t[0], t[1]))
    for score, path, windows in open_windows[:MAX_OPEN_FILES]:
        regions = [(((w.start, w.end),), _cap(w.text, per_snippet)) for w in windows]
        candidates.append(_Candidate(OPEN, path, regions, score, (path,)))

    # 3. Recently viewed/edited files (and the rest of the current file): similar windows.
    if recent_paths is None:
        recent_paths = list(dict.fromkeys([c.source for c in reversed(recent.chunks)] if recent else []))
        recent_paths += [p for p in open_paths if p not in recent_paths]
    pool = [current_path] if readable(current_path) else []
    for path in recent_paths:
        if path not in pool and path not in open_seen and readable(path) and path in files \
                and (language == "text" or same_family(language, language_of(path))):
            pool.append(path)
        if len(pool) > MAX_SIMILAR_FILES:
            break
    similar = []
    for path in pool:
        if path == current_path:
            # The current file within CURRENT_SCOPE lines of the prompt's window (llama.vim's
            # ring_scope): above it from a line that moves in steps of SCOPE_ALIGN, below it from the
            # window's end, so that the windows keep their text as lines are typed at the cursor.
            lo = max(0, (win_lo - CURRENT_SCOPE) // SCOPE_ALIGN * SCOPE_ALIGN)
            windows = sorted((Window(w.source, w.start + start, w.end + start, w.score, w.text)
                              for start, end in ((lo, win_lo), (win_hi, win_hi + CURRENT_SCOPE))
                              for w in scored_windows(query, path, "\n".join(lines[start:end]), WINDOW_LINES,
                                                      limit=ALTERNATIVES)),
                             key=lambda w: (-w.score, w.start))[:ALTERNATIVES]
        else:
            windows = scored_windows(query, path, files[path], WINDOW_LINES, limit=ALTERNATIVES)
        if windows:
            similar.append((windows[0].score, path, windows))
    similar.sort(key=lambda t: (-t[0], t[1]))
    for score, path, windows in similar[:MAX_SIMILAR]:
        regions = [(((w.start, w.end),), _cap(w.text, per_snippet)) for w in windows]
        candidates.append(_Candidate(SIMILAR, path, regions, score, (path,)))

    # 4. Recent edits, newest first for the budget, oldest first in the prompt.
    if recent is not None:
        chunks = recent.select(ring_query)
        for k, chunk in enumerate(chunks):
            if not readable(chunk.source):
                continue
            if chunk.source == current_path and region_overlap((chunk.start, chunk.end), (win_lo, win_hi)):
                continue
            candidates.append(_Candidate(RECENT, chunk.source, [(((chunk.start, chunk.end),), _cap(chunk.text, per_snippet))],
                                         float(k), (chunk.serial,)))

    taken = _take(candidates, budget_chars, current_path, lines[win_lo:win_hi], (win_lo, win_hi))
    taken.sort(key=lambda c: (-c.kind, c.order, c.chosen[0] if c.chosen else ()))
    return [Snippet(c.source, c.chosen[1]) for c in taken if c.chosen]


def _both(first: Extract, second: Extract) -> Extract:
    """Two cuts of one file as one: their texts one after the other, their line ranges."""
    texts = [cut.text for cut in (first, second) if cut.text.strip()]
    return Extract("\n".join(texts), first.spans + second.spans, first.found or second.found)


def _member_candidate(path: str, text: str, names: Sequence[str], promoted: AbstractSet[str], rooms: Sequence[int],
                      rank: float, n: int) -> list[_Candidate]:
    """The snippet of the names `path` offers for the member being typed (`_member_brief` at each of `rooms`, the
    shorter ones taken where the longer does not fit), first of the installed ones in the prompt: none when empty."""
    cuts = _member_cuts(path, text, names, promoted, rooms)
    alternatives = list({cut.text: (cut.spans, cut.text) for cut in cuts if cut.text.strip()}.values())
    return [_Candidate(DEPENDENCIES, path, alternatives, rank, (-1, n), member=True)] if alternatives else []


def _member_cuts(path: str, text: str, names: Sequence[str], promoted: AbstractSet[str],
                 rooms: Sequence[int]) -> list[Extract]:
    """`_member_brief` of the names `path` offers for the member being typed, at each of `rooms`."""
    language = _language_id(path) or ""
    return [_member_brief(text, language, names, promoted, room) for room in rooms]


def _more_names(path: str, text: str, names: Sequence[str], shown: str, promoted: AbstractSet[str], room: int,
                n: int) -> list[_Candidate]:
    """The names offered for the member being typed whose definitions its snippet's text `shown` does not show
    (`_declared_words`), their signatures alone within `room`, as a snippet of the room the others leave
    (MORE_NAMES): none where there are no more."""
    words = _declared_words(shown)
    rest = [name for name in names if last(name) not in words]
    more = _member_brief(text, _language_id(path) or "", rest, promoted, room, bare=True) if rest else None
    if more is None or not more.text.strip():
        return []
    return [_Candidate(MORE_NAMES, path, [(more.spans, more.text)], 0.0, (n,), member=True)]


def _member_brief(text: str, language: str, names: Sequence[str], promoted: AbstractSet[str], room: int,
                  bare: bool = False) -> Extract:
    """`brief` of the names offered for the member being typed (`bare`: their signatures alone), those `rank` put
    first (`promoted`, by their last part: the project's uses and the cursor's cues, `fim.popular`) given the room
    first, the others in what is left (else all in file order), those marked deprecated last
    (`fim.symbols.deprecated_names`: Neovim's ``nvim_buf_get_option``, ``vim.fn.termopen``)."""
    stale = deprecated_names(text, language)  # by the whole name: ``ts.Node`` is not an enum's member ``Node``
    first = [n for n in names if last(n) in promoted]
    others = [n for n in names if last(n) not in promoted]
    groups = [g for g in (first, [n for n in others if n not in stale], [n for n in others if n in stale]) if g]
    if not groups:
        return Extract("", (), False)
    out = _ranked_brief(text, language, groups[0], room, bare)
    for group in groups[1:]:
        left = room - len(out.text) - 1
        if left < MEMBER_REST_CHARS:
            break
        out = _both(out, _ranked_brief(text, language, group, left, bare))
    return out


def _ranked_brief(text: str, language: str, names: Sequence[str], room: int, bare: bool) -> Extract:
    """`brief` of `names` (in `fim.popular`'s order) within `room`: where not all of them fit, the most of the first
    ones that do, then others in the room left (in the file's order alone, Neovim's first ``nvim_buf_*`` functions
    took the room of the ``nvim_create_augroup`` the project uses most)."""
    out = brief(text, language, names, room, bare=bare)
    if len(names) < 2 or _holds(out, names):
        return out
    fits, short, head = 0, len(names), out  # all of names[:fits] fit (`head`); not all of names[:short]
    while short - fits > 1:
        middle = (fits + short) // 2
        cut = brief(text, language, names[:middle], room, bare=bare)
        if _holds(cut, names[:middle]):
            fits, head = middle, cut
        else:
            short = middle
    if fits == 0:
        return out
    left = room - len(head.text) - 1
    return _both(head, brief(text, language, names[fits:], left, bare=bare)) if left >= MEMBER_REST_CHARS else head


def _holds(cut: Extract, names: Sequence[str]) -> bool:
    """Whether `cut` names each of `names` (by its last part)."""
    words = _word_set(cut.text)
    return all(last(name) in words for name in names)


def _installed_reexports(import_paths: Mapping[str, tuple[int, list[str]]], files: Mapping[str, str],
                         index: PathIndex, installed: Mapping[str, str],
                         dependencies: dict[str, tuple[int, list[str]]]) -> None:
    """Add to `dependencies` the names that imported workspace files only import from an installed package
    (a ``compat.py`` doing ``from urllib3 import Retry``), with the installed files defining them."""
    for path, (line, names) in import_paths.items():
        language = _language_id(path)
        text = files[path]
        defined = defined_names(text, language) if language is not None and names else frozenset()
        missing = [n for n in names if language is not None and n not in defined]
        if not missing:
            continue
        for ref in _file_imports(text, language):
            wanted = tuple(n for n in missing if n in ref.names)
            if not wanted or resolve(ref, path, index):
                continue
            for dependency, found in installed_definitions(replace(ref, names=wanted), path, text, installed).items():
                _, held = dependencies.setdefault(dependency, (line, []))
                held.extend(n for n in found if n not in held)


REEXPORT_DEPTH = 2  # ``from .x import Name`` followed this many modules deep


def _follow_reexports(import_paths: dict[str, tuple[int, list[str]]], files: Mapping[str, str], index: PathIndex,
                      readable, current_path: str) -> dict[str, tuple[int, list[str]]]:
    """Move each imported name that its module only re-exports (``from .singleton import S`` in a
    package ``__init__``) to the module defining it, following up to `REEXPORT_DEPTH` modules; a
    module all of whose names moved is left out. The names found nowhere stay with their module, unless others
    moved: a module that re-exports is not where they are (toml_edit's lib.rs for ``Value::String``, a variant)."""
    out: dict[str, tuple[int, list[str]]] = {}
    moved: dict[str, tuple[int, list[str]]] = {}
    _fit_defining(sum(len(names) for _, names in import_paths.values()))
    for path, (line, names) in import_paths.items():
        keep: list[str] = []  # defined here or found nowhere
        defined_here = False
        for name in names:
            target = _defining_file(path, name, files, index, readable, current_path, REEXPORT_DEPTH)
            if target is None or target == path:
                keep.append(name)
                defined_here = defined_here or target == path
            else:
                _, held = moved.setdefault(target, (line, []))
                if name not in held:
                    held.append(name)
        if not defined_here and len(keep) < len(names):
            keep = []  # a module that only re-exports: the names found nowhere are not in it either
        if keep or not names:
            out[path] = (line, keep)
    for path, (line, names) in moved.items():
        if path in out:
            out[path][1].extend(n for n in names if n not in out[path][1])
        else:
            out[path] = (line, names)
    return out


def _defining_file(path: str, name: str, files: Mapping[str, str], index: PathIndex, readable,
                   current_path: str, depth: int) -> Optional[str]:
    """`path` when it defines `name`, else the module it imports `name` from (recursively).

    Remembered per version of `path` (a keystroke elsewhere does not repeat the search); an
    answer is reused only while the file it names still defines `name`, and no answer only while the
    files searched for it are as they were (a class written into the module an ``__init__`` imports it from
    was never found: the ``__init__``'s text had not changed)."""
    return _defining(path, name, files, index, readable, current_path, depth)[0]


_Read = tuple[tuple[str, int, int], ...]  # the files a search read: (path, length, hash of the text)


def _defining(path: str, name: str, files: Mapping[str, str], index: PathIndex, readable, current_path: str,
              depth: int) -> tuple[Optional[str], _Read]:
    """`_defining_file`'s answer, and for no answer the files searched for it besides `path`."""
    text = files.get(path)
    if text is None or _language_id(path) is None:
        return None, ()
    key = (path, name, current_path, depth, len(text), hash(text))
    with _DEFINING_LOCK:
        held = _DEFINING.get(key)
        if held is not None:
            _DEFINING.move_to_end(key)
    if held is not None:
        found, read = held
        # `path` itself is this version's answer (the key holds its text's hash); other files may have changed.
        if found is None and all(_unchanged(files.get(p), length, digest) for p, length, digest in read) \
                or found == path or found in files and defines(files[found], _language_id(found), name):
            return held
    held = _search_definition(path, text, name, files, index, readable, current_path, depth)
    with _DEFINING_LOCK:
        _DEFINING[key] = held
        _DEFINING.move_to_end(key)
        while len(_DEFINING) > _defining_limit[0]:
            _DEFINING.popitem(last=False)
    return held


def _unchanged(text: Optional[str], length: int, digest: int) -> bool:
    return text is not None and len(text) == length and hash(text) == digest


def _fit_defining(lookups: int) -> None:
    """Let the memo of `_defining_file` hold twice the `lookups` one request starts (each a few names deep), up
    to `DEFINING_MEMO_MAX`: a memo smaller than a request's lookups, cycled through in the same order every
    keystroke, answers none of them (a module importing 2,000 names searched them all again each time)."""
    with _DEFINING_LOCK:
        _defining_limit[0] = max(_defining_limit[0], min(DEFINING_MEMO_MAX, 2 * REEXPORT_DEPTH * lookups))


DEFINING_MEMO = 2048  # answers remembered at least, ...
DEFINING_MEMO_MAX = 65_536  # ... and at most, whatever the requests' lookups (an answer: ~200 bytes)
_DEFINING: OrderedDict[tuple, tuple[Optional[str], _Read]] = OrderedDict()
_DEFINING_LOCK = threading.Lock()
_defining_limit = [DEFINING_MEMO]


def _search_definition(path: str, text: str, name: str, files: Mapping[str, str], index: PathIndex, readable,
                       current_path: str, depth: int) -> tuple[Optional[str], _Read]:
    language = _language_id(path)
    if defines(text, language, name):
        return path, ()
    if depth <= 0:
        return None, ()
    read: dict[tuple[str, int, int], None] = {}
    refs = _file_imports(text, language)
    stars = [r for r in refs if r.star][:MAX_STAR_FOLLOWED]
    for ref in [r for r in refs if name in r.names] + stars:  # ``export * from './x'`` last
        for target in resolve(ref, path, index):
            if target == current_path or target not in files or not readable(target):
                continue
            if language == "python" and target.rpartition("/")[2].rpartition(".")[0] == name \
                    and not target.endswith("__init__.py"):
                continue  # ``from . import name`` of a submodule
            found, below = _defining(target, name, files, index, readable, current_path, depth - 1)
            if found is not None:
                return found, ()
            read[(target, len(files[target]), hash(files[target]))] = None
            read.update(dict.fromkeys(below))
    return None, tuple(read)


MAX_STAR_FOLLOWED = 128  # ``export * from`` / ``pub use x::*`` lines of one file searched for a name


@lru_cache(maxsize=8)  # keyed by the whole document, as `_imports`: a few, not a copy for every keystroke
def _namespace_names(path: str, text: str, document: str) -> list[str]:
    """The names `document` uses as ``package.name`` of the Python package whose ``__init__`` is at
    `path`, then those it re-exports by name (``from .options import ModelAdmin``); at most
    `MAX_NAMESPACE_NAMES`."""
    used = next(iter(uses(document, [path.rsplit("/", 2)[-2]], r"[A-Za-z_]\w*").values()), ())
    return list(dict.fromkeys((*used, *_reexported(text))))[:MAX_NAMESPACE_NAMES]


@text_memo
def _reexported(text: str) -> tuple[str, ...]:
    """The names a Python package's ``__init__`` imports by name (``from .options import ModelAdmin``)."""
    return tuple(n for ref in _file_imports(text, "python") if not ref.star for n in ref.names)


MAX_NAMESPACE_NAMES = 48


@text_memo  # each imported name searched read the whole module's imports again; one request reads thousands
def _file_imports(text: str, language: str) -> tuple:
    return tuple(imported_modules(text, language))


@lru_cache(maxsize=8192)
def _language_id(path: str) -> Optional[str]:
    entry = languages.for_path(path)
    return entry.id if entry is not None and entry.model is not None else None


def _joined(lines: Sequence[str], start: int, end: int, code_only: bool = False) -> str:
    """Lines [start, end) (import statements left out with `code_only`), each cut to its first
    `QUERY_LINE_CHARS`: the words of a 900 KB minified line took 0.6 s a keystroke to collect."""
    return "\n".join(line[:QUERY_LINE_CHARS] for line in lines[max(0, start): max(0, end)]
                     if not (code_only and _import_line(line)))


def _used_words(lines: Sequence[str], cursor_line: int, near: AbstractSet[str]) -> dict[str, int]:
    """Words of the code around the cursor, each with its rank, those nearest it (`near`) first. The lines
    above and below the cursor's are remembered as blocks: typing on one line reads only that line again."""
    around = (_code_words(_joined(lines, cursor_line - USED_LINES, cursor_line))
              | _code_words(_joined(lines, cursor_line, cursor_line + 1))
              | _code_words(_joined(lines, cursor_line + 1, cursor_line + USED_LINES)))
    return {w: k for k, w in enumerate((*sorted(near), *sorted(around - near)))}


@lru_cache(maxsize=16)
def _code_words(block: str) -> frozenset[str]:
    """The words of `block`'s lines, import statements left out."""
    return word_set("\n".join(line for line in block.split("\n") if not _import_line(line)))


def _rank_siblings(defining: Sequence[tuple[str, list[str]]], near: AbstractSet[str]) -> list[tuple[str, list[str]]]:
    """The files a document sees without an import, with the names it uses that each defines, best first:
    by the names used near the cursor, then by all it uses, each name weighing less the more files define it
    (``call`` or ``Equals`` in every file tells little, ``Utils`` in one file much); ties keep the given
    order (the language's: the nearest folders first)."""
    spread = Counter(n for _, found in defining for n in set(found))
    scored = [(-sum(1 / spread[n] for n in found if n in near), -sum(1 / spread[n] for n in found), k)
              for k, (_, found) in enumerate(defining)]
    return [defining[k] for *_, k in sorted(scored)]


def _used_definitions(text: str, language: Optional[str], used: Mapping[str, int]) -> list[str]:
    """The words of `used` that `text` defines, by their rank, at most MAX_NAMES_PER_FILE (a set
    intersection: a namespace's hundred files are looked at on every request)."""
    if language is None:
        return []
    return sorted(used.keys() & defined_names(text, language), key=used.__getitem__)[:MAX_NAMES_PER_FILE]


def _index(files: Mapping[str, str]) -> PathIndex:
    """The path index of `files` with the text of the configuration files resolution reads."""
    keys = files.keys()  # the workspace's snapshot keeps its keys as one frozenset, shared by the cache
    index = _path_index(keys if isinstance(keys, frozenset) else frozenset(files))
    index.set_configs({p: files[p] for name in CONFIG_NAMES for p in index.by_name.get(name, ()) if p in files})
    return index


def _document_imports(text: str, lines: Sequence[str], cursor_line: int, language: str) -> tuple:
    """The imports of the document being edited, read with the cursor's line left blank: the line
    being typed is half-written (``import nu``, ``np.li``), and what it imports or uses counts once
    the cursor leaves it. Keystrokes on one line then reuse one reading of the rest of the file (CRLF
    files too: theirs was read again on every keystroke, 72 ms a keystroke for 1,000 imports). An import visible in
    one block (Rust's ``use`` in a function) counts where the cursor is in that block."""
    if 0 <= cursor_line < len(lines):
        if "\r" in text:
            start = sum(map(len, lsp_lines(text)[:cursor_line]))
        else:
            start = sum(map(len, lines[:cursor_line])) + cursor_line
        text = text[:start] + text[start + len(lines[cursor_line]):]
    refs = _imports(text, language)
    # a ``use`` inside a Rust function counts where the cursor is in its block only
    return tuple(r for r in refs if not r.block or r.block[0] <= cursor_line <= r.block[1])


@lru_cache(maxsize=8)
def _imports(text: str, language: str) -> tuple:
    return tuple(imported_modules(text, language))


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[:cut] if cut > 0 else text[:limit]


PATH_INDEXES = 4  # the path indexes of the latest sets of names kept ...
PATH_INDEX_NAMES = 20_000  # ... while their names add up to no more (200,000 names: one index of ~45 MB)
_PATH_INDEXES: OrderedDict[frozenset[str], PathIndex] = OrderedDict()
_PATH_INDEXES_LOCK = threading.Lock()


def _path_index(paths: frozenset[str]) -> PathIndex:
    with _PATH_INDEXES_LOCK:
        index = _PATH_INDEXES.get(paths)
        if index is not None:
            _PATH_INDEXES.move_to_end(paths)
            return index
    index = PathIndex(paths)
    with _PATH_INDEXES_LOCK:
        _PATH_INDEXES[paths] = index
        total = sum(map(len, _PATH_INDEXES))
        while len(_PATH_INDEXES) > PATH_INDEXES or len(_PATH_INDEXES) > 1 and total > PATH_INDEX_NAMES:
            total -= len(_PATH_INDEXES.popitem(last=False)[0])
    return index


@lru_cache(maxsize=192)
def _significant(text: str) -> tuple[str, ...]:
    return tuple(significant_lines(text))


def _duplicate(text: str, seen: AbstractSet[str]) -> bool:
    """True when most of `text`'s distinctive lines are already in the prompt. Short lines
    (``mode: str = "r",``, ``return self``) are common and do not count, and a definition whose
    ``def``/``class`` line is not in the prompt yet is never a duplicate."""
    lines = _significant(text)
    if not lines:
        return True
    if any(line not in seen and _DEFINITION_LINE.match(line) for line in lines):
        return False
    distinctive = [line for line in lines if len(line) >= MIN_DISTINCTIVE_CHARS] or list(lines)
    return sum(1 for line in distinctive if line in seen) / len(distinctive) > MAX_DUPLICATE_SHARE


@lru_cache(maxsize=256)
def _word_set(text: str) -> frozenset[str]:
    return word_set(text)


_COMMENT_START = ("#", "//", "--", "*", "/*", '"""', "'''")
_GO_RECEIVER = re.compile(r"^func\s*\([^)]*\)\s*")
_DECLARED_HEAD = re.compile(r"^[^(:={<,|&;]*")
_BASES = re.compile(r"\b(?:extends|implements)\b.*")


@lru_cache(maxsize=64)
def _declared_words(text: str) -> frozenset[str]:
    """The words of `text`'s lines before their parameters, type or value (``function vim.api.nvim_open_win``,
    ``interface Node``, ``self.status_code``), comments left out: the names it shows a definition of, not those it
    only mentions (``type HasModifiers = ParameterDeclaration | ...`` shows no ``ParameterDeclaration``)."""
    heads = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(_COMMENT_START):
            heads.append(_BASES.sub("", _DECLARED_HEAD.match(_GO_RECEIVER.sub("func ", line)).group()))
    return word_set("\n".join(heads))


@lru_cache(maxsize=256)
def _redacted(text: str, language: str) -> str:
    return redact(text, language)


def _take(candidates: list[_Candidate], budget: int, current_path: str, window_lines: list[str],
          window: tuple[int, int]) -> list[_Candidate]:
    """Fill the budget: each kind up to its share in priority order, then leftovers. The member's snippets take
    no share while an installed file's snippet for the names used ranked above them is left out of its share (they
    come after it in the leftovers too), and they are dropped only when they add no line (beside its file's snippet
    a member's repeats the enum's or namespace's lines it sits in, those its file's snippets brought)."""
    seen_lines: set[str] = set(significant_lines("\n".join(window_lines)))
    seen_in: dict[str, set[str]] = {}  # an installed file's lines its snippets brought (a member's beside them)
    regions: dict[object, list[tuple[int, int]]] = {current_path: [window]}  # a source, ("member", kind, source)
    used = 0
    used_by_kind: dict[int, int] = {}
    ordered = sorted(candidates, key=lambda c: (c.kind, -c.rank, c.source))
    taken: list[_Candidate] = []

    def try_take(c: _Candidate, limit_kind: bool, only: Optional[int] = None) -> bool:
        """Take `c`'s first alternative that fits (`only`: that one alone)."""
        nonlocal used
        key = ("member", c.kind, c.source) if c.member else c.source  # the member's names: beside the file's snippet
        for spans, text in c.regions if only is None else c.regions[only:][:1]:
            held = regions.get(key, ())
            if any(region_overlap(a, b) for a in spans for b in held):
                continue
            # the member's names: beside their file's snippet (its enum's or namespace's lines), only one adding none
            # to it (the document's ``def text(self)`` wrapping the member typed is no reason to leave it out)
            if (seen_in.get(c.source, set()).issuperset(_significant(text)) if c.member
                    else _duplicate(text, seen_lines)):
                continue
            text = _redacted(text, language_of(c.source))
            cost = len(text) + header_cost(c.source)
            if used + cost > budget or limit_kind and used_by_kind.get(c.kind, 0) + cost > SHARES[c.kind] * budget:
                if c.kind == DEPENDENCIES:  # its alternatives are shorter renderings of the same definitions
                    continue
                return False
            c.chosen = (spans, text)
            used += cost
            used_by_kind[c.kind] = used_by_kind.get(c.kind, 0) + cost
            regions.setdefault(key, []).extend(spans)
            seen_lines.update(_significant(text))
            seen_in.setdefault(c.source, set()).update(_significant(text))
            taken.append(c)
            return True
        return False

    def widen(c: _Candidate, limit_kind: bool) -> None:
        """An imported file's heads (`SHORT_CHARS`) become its whole cut where the room allows."""
        nonlocal used
        if c.chosen is None or c.chosen == c.regions[0]:
            return
        spans, text = c.regions[0]
        text = _redacted(text, language_of(c.source))
        extra = len(text) - len(c.chosen[1])
        held = [r for r in regions.get(c.source, ()) if r not in c.chosen[0]]
        if used + extra > budget or limit_kind and used_by_kind.get(c.kind, 0) + extra > SHARES[c.kind] * budget \
                or any(region_overlap(a, b) for a in spans for b in held):
            return
        c.chosen = (spans, text)
        used += extra
        used_by_kind[c.kind] = used_by_kind.get(c.kind, 0) + extra
        regions[c.source] = held + list(spans)
        seen_lines.update(_significant(text))

    # The imported files whose names are used near the cursor whole, then every other file's heads before any of
    # their whole cuts (a 4K window's quarter held three whole cuts: the fourth file's class, used far from the
    # cursor, was left out), then their whole cuts by rank.
    imported = [c for c in ordered if c.kind in (IMPORTS, OUTLINES)]
    for c in imported:
        if c.rank >= 1:  # a name used near the cursor (`select_context`'s rank: its count, then fractions)
            try_take(c, limit_kind=True, only=0)
    for c in imported:
        if c.chosen is None:
            try_take(c, limit_kind=True, only=-1)
    for c in imported:  # before the other kinds: an open file's window does not stand in for its whole cut
        widen(c, limit_kind=True)
    waiting = False  # an installed file's snippet for the names used that its share left out: the member's
    for c in ordered:  # snippets wait for the leftovers too, after it
        if c.kind in (IMPORTS, OUTLINES) or c.member and waiting:
            continue
        taken_now = try_take(c, limit_kind=True)
        waiting = waiting or c.kind == DEPENDENCIES and not c.member and not taken_now
    # The leftovers: the imported files left out, whole, and the installed files' definitions, by rank (the names
    # used near the cursor, for both: after the imported files, cobra's package siblings, used nowhere near, took
    # `flags *flag.|`'s 4K); then the imported files' whole cuts and heads (first, they took httpx's 2K leftovers
    # from the installed files' definitions: 0.47 -> 0.08); then the open files' and similar windows, the recent
    # edits, the member's more names.
    installed = [c for c in ordered if c.kind == DEPENDENCIES]
    for c in heapq.merge(imported, installed, key=lambda c: -c.rank):
        if c.chosen is None:
            try_take(c, limit_kind=False, only=None if c.kind == DEPENDENCIES else 0)
    for c in imported:
        widen(c, limit_kind=False)
        if c.chosen is None:
            try_take(c, limit_kind=False, only=-1)
    for c in [c for c in ordered if c.kind > DEPENDENCIES]:
        if c.chosen is None:
            try_take(c, limit_kind=False)
    return taken

"""A dependency's class name being typed under a Kotlin or Java package import (``Dispat|`` under
``import kotlinx.coroutines.*``, ``StringUt|`` under ``import org.apache.commons.lang3.*;``): the package's classes
it begins. Pure.

`fim.jars` brings the classes of a package import that the document already uses; the one being typed is not in
the document yet. `class_cursor_name` reads the identifier right before the cursor: `MIN_TYPED` characters or more
of a capitalized name, not a member (``.`` or ``::`` before it), not in a comment or a string of its line, not in an
``import`` or ``package`` line. `typed_class_definitions` maps it to the classes of the document's package imports
(``a.b.*``; those no workspace file resolves: `fim.context` passes only those) whose names start with it, as the
jars' listings of the package folder name them (a ``.java`` of a sources jar, a ``.class`` of its jar: no nested
``$`` classes, no Kotlin file facades ``...Kt``), at most `MAX_CLASSES`, the best first: those sharing the longest
part of what is typed (a typo falls back, never shorter than `MIN_TYPED`), the name typed whole, then the names of
the longest family of names the document uses (``CoroutineSt|`` in a file using ``CoroutineStart.LAZY``), then
those the workspace's other files use in the most files (`fim.popular.ProjectUses.files_using`: ``Dispatchers``
before the internal ``DispatchedTask`` that a jar lists first), then in import and listing order; each rendered
as `fim.jars.jar_definitions` renders a class used by name (a stub's whole class, a source's head and public
members' outline); a class whose stub is empty (a Kotlin ``internal`` one, `fim.classfile`) is passed over for the
next, at most `MAX_SKIPPED` times `MAX_CLASSES` listed classes read. An identifier the document or the workspace
files it imports declare as a type (``class``, ``object``...: not a function, ``fun <T> Co|`` types a
receiver's), or one the document uses elsewhere that no listed class is (a constant, a type parameter), brings
nothing; nor does a listed class the document declares.
`typed_definitions` is the one hook for `fim.context`: a capitalized name's classes, else `fim.kotlinprefix`'s
top-level functions.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Mapping, Optional, Sequence

from fim.jars import jar_definitions
from fim.kotlinfacades import is_kotlin
from fim.kotlinprefix import MAX_PACKAGES, MIN_TYPED, code_text, name_heads, typed_facade_definitions, \
    package_jars, typed_identifier, words_starting
from fim.languages.base import ImportRef

Popularity = Callable[[str], int]  # a name -> how many of the workspace's other files use it (`fim.popular`)
MAX_CLASSES = 4  # classes brought for the name typed: a class's head or outline each (bigger than a facade line)
MAX_SKIPPED = 4  # times MAX_CLASSES: the listed classes read at most for them (a Kotlin ``internal`` one gives none)
_CLASS_NAME = re.compile(r"(?<![\w$`])[A-Z][\w$]*\Z")
_TYPE_DECLARATION = re.compile(r"\b(?:class|interface|object|typealias|enum|record)\s+([A-Z][\w$]*)")


def class_cursor_name(before_cursor: str) -> Optional[str]:
    """The capitalized identifier typed right before the cursor when it may begin a package's class name:
    `MIN_TYPED` characters or more, not after ``.``, ``?.`` or ``::``, not in a comment or a string of the line,
    not in an ``import``/``package`` line; else None."""
    found = typed_identifier(before_cursor, _CLASS_NAME)
    return found[0] if found is not None else None


def typed_definitions(before_cursor: str, refs: Sequence[ImportRef], document: str, current_path: str,
                      installed: Mapping[str, str], workspace_texts: Sequence[str] = (),
                      popularity: Optional[Popularity] = None) -> dict[str, list[str]]:
    """Jar entry key -> what the identifier typed at the end of `before_cursor` begins: the classes of the package
    imports `refs` (`typed_class_definitions`) for a capitalized one, else the facades' top-level names
    (`fim.kotlinprefix.typed_facade_definitions`)."""
    if class_cursor_name(before_cursor) is not None:
        return typed_class_definitions(before_cursor, refs, document, current_path, installed, workspace_texts,
                                       popularity=popularity)
    return typed_facade_definitions(before_cursor, refs, document, current_path, installed, workspace_texts)


def typed_class_definitions(before_cursor: str, refs: Sequence[ImportRef], document: str, current_path: str,
                            installed: Mapping[str, str], workspace_texts: Sequence[str] = (),
                            limit: int = MAX_CLASSES, popularity: Optional[Popularity] = None
                            ) -> dict[str, list[str]]:
    """Jar entry key -> the names `fim.jars.jar_definitions` gives for each class of `refs`' package imports
    (``a.b.*``) whose name begins the identifier typed at the end of `before_cursor` (`class_cursor_name`) in the
    Kotlin or Java `document` at `current_path`, the best first (with `popularity`, the workspace's most used
    before listing order), at most `limit` classes; {} where none does or the identifier is the document's own."""
    java = current_path.endswith(".java")
    typed = class_cursor_name(before_cursor) if java or is_kotlin(current_path) else None
    stars = [r for r in refs if r.module.endswith(".*") and not r.module[:-2].rpartition(".")[2][:1].isupper()]
    if typed is None or not stars:
        return {}
    own = _declared(document).union(*(_declared(text) for text in workspace_texts))
    if typed in own:
        return {}
    listed = [(ref, name) for ref in {r.module: r for r in stars[:MAX_PACKAGES]}.values()
              for name in _package_classes(ref.module[:-2], current_path, installed, not java) if name not in own]
    if not listed:
        return {}
    code = code_text(document)
    uses = words_starting(code, typed, True)
    if uses.count(typed) > 1 and not any(name == typed for _, name in listed):
        return {}  # a name of the file's own: a constant, a type parameter
    for length in range(len(typed), MIN_TYPED - 1, -1):  # the longest part some class name begins
        prefix = typed[:length]
        found = [(k, ref, name) for k, (ref, name) in enumerate(listed) if name.startswith(prefix)]
        if found:
            break
    else:
        return {}
    words = set(words_starting(code, prefix))
    family = {head: len(head) for word in words if word != typed
              for head in name_heads(word) + [word] if len(head) > len(prefix)}
    found.sort(key=lambda f: (f[2] != typed, -max((family.get(h, 0) for h in name_heads(f[2]) + [f[2]]), default=0),
                              -(popularity(f[2]) if popularity else 0), f[0]))
    out: dict[str, list[str]] = {}
    classes = 0
    for _, ref, name in found[:limit * MAX_SKIPPED]:
        package = ref.module[:-2]
        definitions = {key: names for key, names in jar_definitions(
            ImportRef(f"{package}.{name}", (name,), ref.language, ref.line), current_path, document, installed).items()
            if installed.get(key)}  # a Kotlin ``internal`` class: an empty stub (`fim.classfile`)
        for key, names in definitions.items():
            out.setdefault(key, []).extend(n for n in names if n not in out[key])
        classes += bool(definitions)
        if classes >= limit:
            break
    return out


def _package_classes(package: str, current_path: str, installed: Mapping[str, str], kotlin: bool) -> list[str]:
    """The top-level class names of `package` in the dependency jars holding its folder, in listing order (a
    sources jar's ``.java`` files, then its jar's ``.class`` files; jars whose group prefixes it first)."""
    folder, jars = package_jars(package, current_path, installed)
    names: dict[str, None] = {}
    for _, binary, sources in jars:
        for jar in (sources, binary):
            if jar and f"{jar}!/{folder}" in installed:
                names.update(dict.fromkeys(_listed_classes(installed[f"{jar}!/{folder}"], kotlin)))
    return list(names)


@lru_cache(maxsize=64)  # a package folder's listing is asked for at every keystroke
def _listed_classes(listing: str, kotlin: bool) -> tuple[str, ...]:
    """The class names a folder's listing holds: its ``.java`` and ``.class`` files' (not nested ``$`` classes,
    ``package-info``, ``module-info``; for Kotlin, not the file facades ``...Kt`` it cannot name)."""
    out = []
    for entry in listing.split("\n"):
        stem, dot, suffix = entry.rpartition(".")
        if dot and suffix in ("java", "class") and stem[:1].isupper() and "$" not in stem and "-" not in stem \
                and not (kotlin and stem.endswith("Kt")):
            out.append(stem)
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=64)
def _declared(text: str) -> frozenset[str]:
    """The types a Kotlin or Java `text` declares (``class``, ``interface``, ``object``, ``typealias``...; not its
    functions: ``fun <T> Co|`` is a receiver's type being typed)."""
    return frozenset(_TYPE_DECLARATION.findall(text))

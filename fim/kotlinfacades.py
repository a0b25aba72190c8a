"""Kotlin's top-level functions and properties in dependency jars (``import kotlinx.coroutines.launch``). Pure.

Kotlin compiles a file's top-level functions and properties into a file facade class named after the file
(``Builders.kt`` -> ``BuildersKt.class``; a multi-file facade ``BuildersKt`` declares what its package-private
``BuildersKt__Builders_commonKt`` parts hold, or, compiled to inherit them as kotlin-stdlib is, extends the chain of
its parts and declares nothing itself: `facade_keys` follows that chain), as static methods: a function ``launch``
(an extension function's receiver its first parameter), a property ``name`` by its getter ``getName`` (``isActive``
by itself).

`facade_definitions` finds names of a package in the jars of `fim.jars`: the package's folder (``<jar key>!/a/b/``:
its entries listed from the jar's directory, read once a jar stamp) gives the candidates, the sources jar's ``.kt``
files first (``fun CoroutineScope.launch(``, ``val Job.isActive``), else the binary jar's ``*Kt.class`` facades (read
as Java stubs, `fim.classfile`); what each declares is memoized by its text. The key found stands for the names
its member lines declare (``launch``, ``getName``), as ``Class.member`` uses do: not the whole facade.
`called_names` lists the lowercase names a document calls (``launch {``, ``delay(``): what a package import
(``import kotlinx.coroutines.*``) is looked up for, at most MAX_STAR_FUNCTIONS found.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Sequence

MAX_FACADES = 96  # facade classes (or source files) of one package's folder read
MAX_STAR_FUNCTIONS = 4  # names a package import is found for in one document
MAX_CALLED = 64  # names of a document's calls looked for
MAX_PARTS = 24  # parts of a multi-file facade that inherits them followed (kotlin-stdlib's CollectionsKt: 10)
KOTLIN_EXTENSIONS = (".kt", ".kts")

_MODIFIERS = r"(?:(?:public|inline|suspend|operator|infix|tailrec|external|actual|expect|const|override)\s+)*"
# an extension function's receiver (``<T> CoroutineScope.``), optional
RECEIVER = r"(?:<[^>\n]*>\s*)?(?:[\w.]+(?:<[^\n=]*?>)?\??\.)?"
# a top-level (unindented) public declaration of a source file: ``public fun <T> CoroutineScope.async(``
_SOURCE_FUNCTION = re.compile(rf"^(?:@[\w.]+(?:\([^)\n]*\))?\s+)*{_MODIFIERS}fun\s+{RECEIVER}([A-Za-z_]\w*)\s*\(",
                              re.M)
_SOURCE_PROPERTY = re.compile(rf"^(?:@[\w.]+(?:\([^)\n]*\))?\s+)*{_MODIFIERS}va[lr]\s+{RECEIVER}([A-Za-z_]\w*)\s*[:=]",
                              re.M)
_STUB_METHOD = re.compile(r"^[ \t]+public static [^(\n]*?(?<![\w$])([A-Za-z_$][\w$]*)\(", re.M)
# a stub's class line: the class it extends (``public final class CollectionsKt extends CollectionsKt___CollectionsKt``)
_EXTENDS = re.compile(r"^(?:public )?(?:final )?class [\w$]+ extends ([\w$]+)", re.M)
_CALL = re.compile(r"(?:(\.)\s*|(?<![\w$.]))([a-z_]\w*)\s*(?:<[\w<>?, .]*>\s*)?[({]")
# a ``fun`` or property declared in Kotlin text: its name
DECLARED = re.compile(r"\b(?:fun|va[lr])\s+" + RECEIVER + r"([A-Za-z_]\w*)")
_NAMED_IMPORT = re.compile(r"(?m)^[ \t]*import[ \t]+[\w.]*\.([a-z_]\w*)[ \t]*$")


def is_kotlin(path: str) -> bool:
    """Whether `path` is a Kotlin source (whose imports may name top-level functions and properties)."""
    return path.endswith(KOTLIN_EXTENSIONS)


@lru_cache(maxsize=512)
def declared(text: str, source: bool) -> dict[str, str]:
    """Name a user writes -> the member of the file `text` declaring it: a Kotlin source's top-level public ``fun``
    and ``val``/``var`` (themselves), a facade stub's public static methods (a getter ``getName`` for ``name``)."""
    out: dict[str, str] = {}
    if source:
        for name in _SOURCE_FUNCTION.findall(text) + _SOURCE_PROPERTY.findall(text):
            out.setdefault(name, name)
        return out
    for method in _STUB_METHOD.findall(text):
        out.setdefault(method, method)
        if method.startswith("get") and method[3:4].isupper():
            out.setdefault(method[3].lower() + method[4:], method)  # a property ``name``: ``getName``
    return out


def facade_entries(listing: str, source: bool) -> list[str]:
    """The entries of a package folder's listing that may declare top-level names: ``.kt`` files of a sources
    jar, else the facade classes (``BuildersKt.class``, not its ``$``-classes nor ``__`` parts)."""
    if source:
        return [n for n in listing.split("\n") if n.endswith(".kt")][:MAX_FACADES]
    return [n for n in listing.split("\n") if n.endswith("Kt.class") and "$" not in n and "__" not in n][:MAX_FACADES]


def facade_keys(jar: str, folder: str, entry: str, installed: Mapping[str, str], source: bool = False) -> list[str]:
    """The keys of a `facade_entries` entry of `jar`'s package `folder`: a sources jar's ``.kt`` file itself; the
    stub of a binary jar's facade class `entry` (``CollectionsKt.class``), then, for a multi-file facade whose parts
    it inherits (``-Xmultifile-parts-inherit``, kotlin-stdlib's: ``public final class CollectionsKt extends
    CollectionsKt___CollectionsKt {}`` declares nothing itself), each part up the chain it extends
    (``CollectionsKt___CollectionsKt extends CollectionsKt___CollectionsJvmKt``...)."""
    if source:
        return [f"{jar}!/{folder}{entry}"]
    stem = entry[:-len(".class")]
    keys = [f"{jar}!/{folder}{stem}.java"]
    while len(keys) <= MAX_PARTS:
        text = installed[keys[-1]] if keys[-1] in installed else ""
        found = _EXTENDS.search(text)
        if found is None or not found.group(1).startswith(stem + "__"):
            break
        keys.append(f"{jar}!/{folder}{found.group(1)}.java")
    return keys


def facade_definitions(package: str, names: Sequence[str], jars: Sequence[tuple[str, str, str]],
                       installed: Mapping[str, str], limit: int = 0) -> dict[str, list[str]]:
    """Jar entry key -> the members declaring `names` (top-level functions and properties of the Kotlin package
    `package`) in the first of `jars` ((group, jar key, sources jar key)) whose package folder declares each: a
    sources jar's ``.kt`` file, else the binary jar's facade class (its stub's key, ``BuildersKt.java``) or, of a
    facade inheriting its parts, the part declaring it (`facade_keys`); with `limit`, at most that many names found."""
    folder = package.replace(".", "/") + "/"
    left = list(dict.fromkeys(names))
    found: dict[str, list[str]] = {}
    count = 0
    for _, binary, sources in jars:
        for jar, source in ((sources, True), (binary, False)):
            if not left or limit and count >= limit:
                return found
            if not jar or f"{jar}!/{folder}" not in installed:
                continue
            for entry in facade_entries(installed[f"{jar}!/{folder}"], source):
                for key in facade_keys(jar, folder, entry, installed, source):
                    members = declared(installed[key], source) if key in installed else {}
                    for name in [n for n in left if n in members]:
                        if limit and count >= limit:
                            break
                        found.setdefault(key, []).append(members[name])
                        left.remove(name)
                        count += 1
    return found


@lru_cache(maxsize=16)
def called_names(document: str) -> tuple[str, ...]:
    """The lowercase names `document` calls (``launch {``, ``withContext(``; then those after a dot:
    ``GlobalScope.launch {``), not those it declares or imports by name, in order of first use; at most
    MAX_CALLED."""
    known = set(DECLARED.findall(document)) | set(_NAMED_IMPORT.findall(document))
    bare: dict[str, None] = {}
    dotted: dict[str, None] = {}
    for dot, name in _CALL.findall(document):
        if name not in known:
            (dotted if dot else bare)[name] = None
    return tuple(dict.fromkeys([*bare, *dotted]))[:MAX_CALLED]

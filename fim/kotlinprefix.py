"""The Kotlin top-level function or property being typed under a package import (``lau|`` under
``import kotlinx.coroutines.*``): the names of that package's file facades that it begins. Pure.

`fim.kotlinfacades` brings the top-level names a document already calls; the one being typed is not in the document
yet. `cursor_name` reads the identifier right before the cursor: `MIN_TYPED` characters or more of a lowercase name,
not a member (``.`` or ``::`` before it), not in a comment (a KDoc an earlier line opens too), a string or a
backticked name of its line (`fim.linecode`), not a keyword (but ``as``, ``in``, ``is`` where no operand precedes
them: ``as|`` of ``async``), not in an ``import`` or ``package`` line.
`typed_facade_definitions` maps it to the top-level functions and properties (``isActive``, a getter's property
``delay``; not the getters ``getX`` Kotlin never calls) that the facades of the document's package imports no
workspace file resolves declare and that start with it, at most `MAX_NAMES`, the best first: those sharing the
longest part of what is typed (a typo, ``launhc``, falls back to ``laun``, never shorter than `MIN_TYPED`), the name
typed whole first, then the names the document uses, then those of the longest family of names it uses
(``withTimeout|`` in a file using ``withTimeoutOrNull``), then in import, jar and facade order. An identifier the
document or the workspace files it imports define, or one the document uses elsewhere (not after a ``.``) that no
facade declares (a local variable), brings nothing. The keys and member lines are those
`fim.kotlinfacades.facade_definitions` gives; a facade's names are kept sorted by its text (a keystroke is a binary
search per facade), and the package's jars and listing come through `fim.jars` as for a called name. A Java file's
name typed under ``import static a.b.C.*;`` (``assertEq|``, Java's keywords left out) brings in the same way the
public static methods of the class file `fim.jars` finds for ``C`` (its sources jar's ``.java`` or its stub): those
past the first members a static import brings while the file uses none.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import replace
from functools import lru_cache
from typing import Mapping, Optional, Sequence

from fim.jars import dependency_jars, jar_definitions
from fim.kotlinfacades import DECLARED, RECEIVER, declared, facade_entries, facade_keys, is_kotlin
from fim.languages.base import ImportRef
from fim.linecode import code_before
from fim.memo import text_memo
from fim.symbols import defined_names

MIN_TYPED = 2  # characters of a name typed before the facades are looked in
MAX_NAMES = 8  # names brought for the identifier typed: a facade member line each
MAX_PACKAGES = 8  # package imports of a document looked in
_IDENTIFIER = re.compile(r"(?<![\w$`])[a-z_][\w]*\Z")
_PART_END = re.compile(r"[a-z0-9](?=[A-Z])")
# Kotlin's hard, soft and modifier keywords (``it`` too): never a library's name being typed
KEYWORDS = frozenset("""
abstract actual annotation as break by catch class companion const constructor continue crossinline data delegate
do dynamic else enum expect external false field file final finally for fun get if import in infix init inline inner
interface internal is it lateinit noinline null object open operator out override package param private property
protected public receiver reified return sealed set setparam super suspend tailrec this throw true try typealias
typeof val value var vararg when where while
""".split())
# Java's keywords and primitive types (``var``, ``record``... too): a Java file's name typed under a static import
JAVA_KEYWORDS = frozenset("""
abstract assert boolean break byte case catch char class const continue default do double else enum extends false
final finally float for goto if implements import instanceof int interface long native new non-sealed null package
permits private protected public record return sealed short static strictfp super switch synchronized this throw
throws transient true try var void volatile while yield
""".split())
OPERATORS = frozenset({"as", "in", "is"})  # keywords between operands: elsewhere the start of a name (``isActive``)
_NOISE = re.compile(r"//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|\"\"\"[\s\S]*?(?:\"\"\"|\Z)"
                    r"|\"(?:\\.|[^\"\\\n])*\"?|'(?:\\.|[^'\\\n])*'?")  # comments and strings


def cursor_name(before_cursor: str, keywords: frozenset[str] = KEYWORDS) -> Optional[str]:
    """The lowercase identifier typed right before the cursor when it may begin a package's top-level name:
    `MIN_TYPED` characters or more, not after ``.``, ``?.`` or ``::``, not in a comment, a string or a backticked
    name (``fun `la``) of the line, not one of `keywords` (Kotlin's: but ``as``, ``in``, ``is`` where no operand
    precedes them), not in an ``import``/``package`` line; else None."""
    found = typed_identifier(before_cursor, _IDENTIFIER)
    if found is None:
        return None
    name, head = found
    if name in keywords and not (keywords is KEYWORDS and name in OPERATORS
                                 and not re.search(r"[\w)\]}\"'`]\s*\Z", head)):
        return None  # a keyword, but ``as``, ``in``, ``is`` where no operand precedes them: ``as|`` of ``async``
    return name


def typed_identifier(before_cursor: str, pattern: re.Pattern[str]) -> Optional[tuple[str, str]]:
    """(the identifier `pattern` finds at the end of `before_cursor`'s last line, the line before it) when it is
    `MIN_TYPED` characters or more, not after ``.``, ``?.`` or ``::``, not in a comment, a string or a backticked
    name of the line, not in an ``import``/``package`` line; else None."""
    line = before_cursor[before_cursor.rfind("\n") + 1:]
    m = pattern.search(line)
    if m is None or len(m.group(0)) < MIN_TYPED:
        return None
    head = line[:m.start()]
    if head.rstrip().endswith((".", "::")) or re.match(r"\s*(?:import|package)\b", head):
        return None
    if not code_before(before_cursor, m.group(0), backquotes=True):
        return None  # in a comment or a string
    return m.group(0), head


def typed_facade_definitions(before_cursor: str, refs: Sequence[ImportRef], document: str, current_path: str,
                             installed: Mapping[str, str], workspace_texts: Sequence[str] = (),
                             limit: int = MAX_NAMES) -> dict[str, list[str]]:
    """Facade key -> the members declaring the top-level names that begin the identifier typed at the end of
    `before_cursor` (`cursor_name`) in the packages of `refs`' package imports (``a.b.*``: those no workspace file
    resolves) of the Kotlin `document` at `current_path` (of a Java one, its ``import static a.b.C.*`` classes'
    public static methods), the best first, at most `limit` in all; {} where none does or the identifier is the
    document's own."""
    java = current_path.endswith(".java")
    typed = cursor_name(before_cursor, JAVA_KEYWORDS if java else KEYWORDS) if java or is_kotlin(current_path) \
        else None
    if java:  # ``import static org.junit.Assert.*;``: the class's static methods
        packages = [r.module for r in refs if r.star and r.module.rpartition(".")[2][:1].isupper()][:MAX_PACKAGES]
    else:
        packages = [r.module[:-2] for r in refs if r.module.endswith(".*")
                    and not r.module[:-2].rpartition(".")[2][:1].isupper()][:MAX_PACKAGES]
    if typed is None or not packages:
        return {}
    if any(typed in _declared_names(text, java) for text in workspace_texts):
        return {}
    facades = [found for package in dict.fromkeys(packages) for found in (
        _static_classes(package, refs, document, current_path, installed) if java
        else _package_facades(package, current_path, installed))]
    if not facades:
        return {}
    code = code_text(document)
    uses = words_starting(code, typed)
    if uses.count(typed) > 1 and (_declares(code, typed, java) or words_starting(code, typed, True).count(typed) > 1
                                  and not any(typed in _members(text, kind) for _, text, kind in facades)):
        return {}  # the document's own name, or a local variable
    for length in range(len(typed), min(len(typed), MIN_TYPED) - 1, -1):  # the longest part some name begins
        prefix = typed[:length]
        seen: set[str] = set()
        found = []
        for rank, (key, text, kind) in enumerate(facades):
            for order, name in _starting(text, kind, prefix):
                if name not in seen:
                    seen.add(name)
                    found.append((rank, order, key, name, _members(text, kind)[name]))
        if found:
            break
    else:
        return {}
    words = set(uses if prefix == typed else words_starting(code, prefix))
    family = {head: len(head) for word in words if word.startswith(prefix) and word != typed
              for head in name_heads(word) if len(head) > len(prefix)}
    found.sort(key=lambda f: (f[3] != typed, f[3] not in words,
                              -max((family.get(h, 0) for h in name_heads(f[3]) + [f[3]]), default=0), f[0], f[1]))
    out: dict[str, list[str]] = {}
    for _, _, key, _, member in found[:limit]:
        if member not in out.setdefault(key, []):
            out[key].append(member)
    return out


def package_jars(package: str, current_path: str,
                 installed: Mapping[str, str]) -> tuple[str, list[tuple[str, str, str]]]:
    """(`package`'s folder in a jar, ``a/b/``; the dependency jars, (group, binary, sources), holding that folder,
    those whose group prefixes `package` first); no jars for the JDK's and Kotlin's own packages."""
    parts = package.split(".")
    folder = "/".join(parts) + "/"
    if len(parts) < 2 or parts[0] in ("java", "javax", "jdk", "sun", "kotlin") or \
            not all(p.isidentifier() for p in parts):
        return folder, []
    jars = [j for j in dependency_jars(current_path, installed)
            if any(jar and f"{jar}!/{folder}" in installed for jar in j[1:])]
    jars.sort(key=lambda jar: not package.startswith(jar[0]))
    return folder, jars


def _package_facades(package: str, current_path: str, installed: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(key, text, kind: ``kt`` a source, ``stub`` a class) of each facade of `package` in the dependency jars
    holding its folder (a sources jar's ``.kt`` files before its binary jar's facade classes; jars whose group
    prefixes it first)."""
    folder, jars = package_jars(package, current_path, installed)
    out = []
    for _, binary, sources in jars:
        for jar, source in ((sources, True), (binary, False)):
            if not jar or f"{jar}!/{folder}" not in installed:
                continue
            for entry in facade_entries(installed[f"{jar}!/{folder}"], source):
                for key in facade_keys(jar, folder, entry, installed, source):
                    text = installed[key] if key in installed else ""
                    if text:
                        out.append((key, text, "kt" if source else "stub"))
    return out


def _static_classes(module: str, refs: Sequence[ImportRef], document: str, current_path: str,
                    installed: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(key, text, ``java``) of the class file that ``import static <module>.*`` names, as `fim.jars` finds it."""
    ref = next(r for r in refs if r.module == module and r.star)
    keys = jar_definitions(replace(ref, star=False, names=()), current_path, document, installed)
    return [(key, installed[key], "java") for key in keys if key in installed and installed[key]][:1]


_JAVA_STATIC = re.compile(r"^[ \t]+public\s+(?:final\s+|synchronized\s+)*static\s+(?:final\s+|synchronized\s+)*"
                          r"(?:<[^>\n]*>\s*)?[\w.$<>\[\], ?]+?\s+([a-z_$][\w$]*)\s*\(", re.M)


@lru_cache(maxsize=512)
def _members(text: str, kind: str) -> dict[str, str]:
    """Name a user writes -> the member declaring it, in a facade's source (``kt``) or stub (``stub``,
    `fim.kotlinfacades.declared`), or a Java class's public static methods (``java``: a stub's or a source's)."""
    if kind == "java":
        return {name: name for name in _JAVA_STATIC.findall(text)}
    return declared(text, kind == "kt")


@lru_cache(maxsize=512)  # a package's facades are asked for on every keystroke: their names sorted once per text
def _sorted(text: str, kind: str) -> tuple[tuple[str, int], ...]:
    """The names a user writes that the facade (or class) `text` declares (not a stub's getters ``getX`` of a
    property ``x``, nor synthetic ``$`` names), sorted, each with its place in the facade."""
    members = _members(text, kind)
    properties = {member for name, member in members.items() if name != member}
    names = [name for name in members if name not in properties and "$" not in name]
    return tuple(sorted((name, k) for k, name in enumerate(names)))


def _starting(text: str, kind: str, prefix: str) -> list[tuple[int, str]]:
    """(place in the facade, name) of the names the facade `text` declares that start with `prefix`."""
    names = _sorted(text, kind)
    out = []
    for k in range(bisect_left(names, (prefix, -1)), len(names)):
        if not names[k][0].startswith(prefix):
            break
        out.append((names[k][1], names[k][0]))
    return out


def name_heads(name: str) -> list[str]:
    """The heads of `name` that end a part of it: ``with``, ``withTimeout`` of ``withTimeoutOrNull``."""
    return [name[:m.end()] for m in _PART_END.finditer(name)]


@text_memo  # asked of every workspace file the document imports, each keystroke: read once per text
def _declared_names(text: str, java: bool = False) -> frozenset[str]:
    """The names a Kotlin `text` declares with ``fun``, ``val`` or ``var`` (a Java `text`, `fim.symbols`')."""
    return defined_names(text, "java") if java else frozenset(DECLARED.findall(text))


def _declares(code: str, name: str, java: bool = False) -> bool:
    """Whether `code` declares `name`: a ``fun``, ``val`` or ``var`` (``fun Job.name(``), a parameter
    (``(name: Int``) or a lambda's (``{ name ->``, ``{ a, name ->``); in Java, a type before it (``int name(``,
    ``String name =``, ``(List<T> name,``)."""
    word = re.escape(name)
    if java:
        return re.search(rf"(?<![\w$])(?!(?:return|new|throw|else|case|yield)\b)[\w$]+(?:<[^;(){{}}]*>)?(?:\[\])*"
                         rf"\s+{word}\s*[=;,)(:]", code) is not None
    return re.search(rf"\b(?:fun|va[lr])\s+{RECEIVER}{word}\b|[(,]\s*(?:va[lr]\s+)?{word}\s*:"
                     rf"|[{{,]\s*{word}\s*(?:,\s*\w+\s*)*->", code) is not None


def words_starting(code: str, prefix: str, bare: bool = False) -> list[str]:
    """The words of `code` that start with `prefix`, each time it comes (a literal search, not a scan of every
    word); `bare`, not those after a ``.`` (``block.run()`` is no use of a name ``run`` of the file's own)."""
    out = []
    for m in re.finditer(re.escape(prefix) + r"\w*", code):
        k = m.start() - 1
        if k >= 0 and (code[k].isalnum() or code[k] in "_$"):
            continue  # inside a word
        while bare and k >= 0 and code[k] in " \t\r\n":
            k -= 1
        if not (bare and k >= 0 and code[k] == "."):
            out.append(m.group(0))
    return out


@lru_cache(maxsize=16)
def code_text(document: str) -> str:
    """`document` with its comments and strings blanked."""
    return _NOISE.sub(" ", document)

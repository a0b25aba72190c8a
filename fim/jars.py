"""Where a Java (or Kotlin) import the workspace does not resolve is defined in the project's dependency jars. Pure.

The dependencies and their versions come from the build file nearest above the document: a ``pom.xml``'s
``<dependencies>`` and ``<dependencyManagement>`` (any scope; ``${property}`` from its ``<properties>`` and from
its parents', in the workspace by ``<relativePath>`` or ``../pom.xml``, else by their coordinates in Maven's local
repository or Gradle's cache, at most MAX_PARENTS), else a ``build.gradle``/``build.gradle.kts``'s
``"group:artifact:version"`` strings and ``group: 'g', name: 'a', version: 'v'`` maps (``$name``/``${name}`` from a
``name = "..."`` of the file), with the libraries of a ``gradle/libs.versions.toml`` version catalog in a folder
above; a version a BOM manages (``<scope>import</scope>``, ``platform("g:a:v")``: its pom's dependencyManagement,
at most MAX_BOMS) where none is given; then, for either, the compile and runtime dependencies that the poms of
the first MAX_TRANSITIVE of those dependencies declare (in Maven's repository or Gradle's cache: one level). At
most MAX_JARS are looked at.

The jars come through `fim.dependencies`' `installed` mapping (never iterated), by keys:

* ``maven-repository/<group as path>/<artifact>/<version>/<artifact>-<version>.jar`` in Maven's local
  repository, the ``-sources.jar`` beside it first;
* ``gradle-caches/<group>/<artifact>/<version>/`` in Gradle's cache (``caches/modules-2/files-2.1``): a folder
  whose listing names its hash folders, each listed in turn for the jar and the sources jar;
* ``<jar key>!/<entry>`` for a file inside a jar: ``org/apache/commons/lang3/StringUtils.java``; in a jar without
  that ``.java`` entry it is the class file ``StringUtils.class`` rendered as a Java stub (`fim.classfile`), so a
  binary jar's classes read as Java too; ``<jar key>!/a/b/`` a folder of it. ``key in installed`` is a look-up in
  the jar's directory.

`jar_definitions` maps ``import org.apache.commons.lang3.StringUtils;`` to that class's file in the first jar
holding it (jars whose group prefixes the import's package first), with the names the document uses: its
members used as ``StringUtils.isEmpty`` (the class's header and those members' lines; not a member being typed,
``StringUtils.ind``, which `fim.member` brings as a snippet of its own from `class_members`), else the class itself
(a stub) or its public members (a source: its first MAX_OUTLINE members' signatures, the bodies left out);
``import static a.b.C.m`` to ``m`` in ``C``; ``import a.b.*`` to the classes of ``a.b`` the document uses. In a
Kotlin file, an import of a lowercase name no class has (``import kotlinx.coroutines.launch``) and a package
import's lowercase names the document calls (``launch {``) go to the package's file facades that declare them
(`fim.kotlinfacades`).
"""

from __future__ import annotations

import posixpath
import re
import time
import xml.etree.ElementTree as ElementTree
from functools import lru_cache
from typing import Mapping, Optional

from fim.kotlinfacades import MAX_STAR_FUNCTIONS, called_names, facade_definitions, is_kotlin
from fim.languages.base import ImportRef, uses
from fim.languages.java import enum_constants

MAVEN_REPOSITORY = "maven-repository/"
GRADLE_CACHES = "gradle-caches/"
BUILD_FILES = ("pom.xml", "build.gradle.kts", "build.gradle")
CATALOG = "gradle/libs.versions.toml"
MAX_JARS = 48  # dependencies whose jars are looked in for one import
MAX_PARENTS = 3  # parent poms followed for properties and managed versions
MAX_BOMS = 4  # BOMs (``<scope>import</scope>``, ``platform(...)``) read for managed versions
MAX_TRANSITIVE = 16  # direct dependencies whose own poms (in Maven's repository) add their dependencies
MAX_HASHES = 8  # hash folders of one Gradle cache version folder
MAX_MEMBERS = 24  # members of a class the document uses as ``Class.member``
Coordinate = tuple[str, str, str]  # (group, artifact, version)
JARS_SECONDS = 2.0  # a build file's jars found are reused this long (as the server reuses a stat)
_JARS: dict[tuple, tuple[Mapping[str, str], tuple[tuple[str, str, str], ...]]] = {}
_DEPENDENCIES: dict[tuple, tuple[Mapping[str, str], tuple[Coordinate, ...]]] = {}
MAX_STAR_CLASSES = 16  # class names a package import (``a.b.*``) is looked up for
MAX_OUTLINE = 48  # members of a source file's class listed where the document uses none yet
MAX_VALUE = 256  # characters of a ``${property}``'s expansion (a version, a group)
_PART = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_VERSION = re.compile(r"[A-Za-z0-9_.\-+]+\Z")
_PROPERTY = re.compile(r"\$\{([^}]+)\}")
_COORDINATE = re.compile(r"""["']([\w.\-]+):([\w.\-]+):([\w.\-+${}]+)(?::[\w.\-]+)?(?:@\w+)?["']""")
_MAP = re.compile(r"""group\s*[:=]\s*["']([\w.\-]+)["']\s*,\s*name\s*[:=]\s*["']([\w.\-]+)["']\s*,\s*"""
                  r"""version\s*[:=]\s*["']([\w.\-+${}]+)["']""")
_PLATFORM = re.compile(r"""\b(?:platform|enforcedPlatform|mavenBom)\s*\(?\s*["']([\w.\-]+):([\w.\-]+):"""
                       r"""([\w.\-+${}]+)["']""")
_VERSIONLESS = re.compile(r"""\b(?:implementation|api|compileOnly|runtimeOnly|testImplementation|testRuntimeOnly|"""
                          r"""kapt|ksp|annotationProcessor|compile|testCompile)\s*\(?\s*["']([\w.\-]+):"""
                          r"""([\w.\-]+)["']""")
_GRADLE_VARIABLE = re.compile(r"""(?m)^[ \t]*(?:(?:def|val|var|String)\s+)?(?:ext\.)?([A-Za-z_]\w*)\s*=\s*["']"""
                              r"""([\w.\-+]+)["']""")
_GRADLE_INTERPOLATION = re.compile(r"\$\{?([A-Za-z_][\w.]*)\}?")


def jar_definitions(ref: ImportRef, current_path: str, document: str,
                    installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Jar entry key -> the names of the Java/Kotlin import `ref` (of `document`, at `current_path`) that the class
    file declares; {} for a JDK class or one no dependency jar holds. A package import (``a.b.*``) stands for the
    classes of that package the document uses (``Invoice.of(``, ``new Invoice(``: at most MAX_STAR_CLASSES names);
    ``import static a.b.C.*`` for the class."""
    if ref.module.endswith(".*"):
        found: dict[str, list[str]] = {}
        for name in _class_names(document)[:MAX_STAR_CLASSES]:
            found.update(jar_definitions(ImportRef(f"{ref.module[:-2]}.{name}", (name,), ref.language, ref.line),
                                         current_path, document, installed))
        if is_kotlin(current_path) and not ref.module[:-2].rpartition(".")[2][:1].isupper():
            # Kotlin's ``launch {``, ``delay(``: top-level functions of the package's file facades
            for key, members in _facade_definitions(ref.module[:-2], called_names(document), current_path,
                                                    installed, MAX_STAR_FUNCTIONS).items():
                found.setdefault(key, []).extend(m for m in members if m not in found[key])
        return found
    parts = ref.module.split(".")
    found = _class_file(parts, current_path, installed)
    if found is None:
        package = parts[:-1]
        if is_kotlin(current_path) and _listed(parts) and parts[-1][:1].islower() and not parts[-2][:1].isupper():
            # ``import kotlinx.coroutines.launch``: a file facade's function
            return facade_definitions(".".join(package), [parts[-1]], _package_jars(package, package, current_path,
                                                                                    installed), installed)
        return {}
    key, whole, source = found
    if ref.names and whole and ref.names != (parts[-1],) and not ref.star:
        return {key: list(ref.names)}  # ``import static a.b.C.member``
    # the members used as ``StringUtils.isEmpty``, else the class (or the nested one) itself: the class asked for
    # by name is its whole body (a stub of hundreds of methods), its members are their lines
    alias = parts[-1]
    members = list(uses(document, [alias])[alias][:MAX_MEMBERS])
    if members and whole:
        members = _declared_or_unknown(members, installed[key], parts[-1])
        if not members:
            return {}  # its one use is a member being typed (``StringUtils.ind``): `fim.member` brings the class
    if not members and whole and source:
        # none used yet: a long class's source would show its head only, its members' signatures help
        members = _public_members(installed[key], parts[-1])
    return {key: members or [parts[-1]]}


def class_members(module: str, current_path: str, installed: Mapping[str, str]) -> tuple[str, list[str]]:
    """(the jar entry key of the class `module` names, ``a.b.StringUtils``, its public and protected members in
    file order, the constructors not): what may follow ``StringUtils.``; ("", []) for a JDK class, one no
    dependency jar holds, or a nested class whose file is its outer class's source."""
    parts = module.split(".")
    found = _class_file(parts, current_path, installed)
    if found is None or not found[1]:
        return "", []
    return found[0], list(_declared(installed[found[0]], parts[-1]))


def _listed(parts: list[str]) -> bool:
    """Whether `parts` may be a dependency's package or class: not the JDK's (``javax.inject`` is a jar's)."""
    return len(parts) >= 2 and (parts[0] not in ("java", "javax", "jdk", "sun", "kotlin") or parts[1] == "inject") \
        and all(p.isidentifier() for p in parts)


def _package_jars(folder: list[str], package: list[str], current_path: str,
                  installed: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The dependency jars holding the folder `folder` (``a/b/``), those whose group prefixes `package` first."""
    path, prefix = "/".join(folder) + "/", ".".join(package)
    jars = [j for j in dependency_jars(current_path, installed) if any(jar and f"{jar}!/{path}" in installed
                                                                        for jar in j[1:])]
    jars.sort(key=lambda jar: not prefix.startswith(jar[0]))
    return jars


def _class_file(parts: list[str], current_path: str,
                installed: Mapping[str, str]) -> Optional[tuple[str, bool, bool]]:
    """(the jar entry key of the file of the class ``a.b.C`` or ``a.b.C.Inner`` (`parts`), whether that file is
    the named class's own (not its outer class's source), whether it is a source) in the first dependency jar
    holding it; None for the JDK's classes and those no dependency jar holds."""
    if not _listed(parts):
        return None
    # the jars holding the package's folder (``a/b/`` of ``a.b.C``, of ``a.b.C.Inner``): one look-up a jar
    jars = _package_jars(parts[:-2] if len(parts) > 2 and parts[-2][:1].isupper() else parts[:-1], parts[:-1],
                         current_path, installed)
    # ``a.b.C`` or ``a.b.C.Inner`` (the longest prefix that is a class: its file)
    for n in range(len(parts), max(1, len(parts) - 2), -1):
        entry = "/".join(parts[:n])
        nested = "$".join([entry, *parts[n:]])  # ``a.b.C.Inner``: a binary jar's ``a/b/C$Inner.class``
        for _, binary, sources in jars:
            candidates = dict.fromkeys(((sources, entry), (binary, nested), (binary, entry)))
            key = next((f"{jar}!/{name}.java" for jar, name in candidates
                        if jar and f"{jar}!/{name}.java" in installed), None)
            if key is not None:
                # ``a.b.C.Inner`` in a binary jar: the nested class's own stub
                return key, n == len(parts) or key.endswith(f"!/{nested}.java"), bool(sources) and \
                    key.startswith(sources + "!/")
    return None


def _facade_definitions(package: str, names: tuple[str, ...], current_path: str, installed: Mapping[str, str],
                        limit: int) -> dict[str, list[str]]:
    """`fim.kotlinfacades.facade_definitions` in the dependency jars holding the package's folder."""
    parts = package.split(".")
    if not names or not _listed(parts) or parts[0] == "javax":
        return {}
    return facade_definitions(package, names, _package_jars(parts, parts, current_path, installed), installed, limit)


_CLASS_USE = re.compile(r"(?<![\w$.])([A-Z][\w$]*[a-z][\w$]*)\s*(?=\.\s*[A-Za-z_$]|\(|<|\s+[a-z_$][\w$]*\s*[=;,)])"
                        r"|\bnew\s+([A-Z][\w$]*)")
# java.lang's classes, seen without an import: not looked for in the jars of a package import
_JAVA_LANG = frozenset("""Boolean Byte Character CharSequence Class ClassLoader Comparable Deprecated Double Enum Error
Exception Float FunctionalInterface IllegalArgumentException IllegalStateException IndexOutOfBoundsException Integer
Iterable Long Math NullPointerException Number Object Override Record Runnable RuntimeException SafeVarargs Short
String StringBuilder SuppressWarnings System Thread Throwable UnsupportedOperationException Void""".split())


@lru_cache(maxsize=16)
def _class_names(document: str) -> list[str]:
    """The class names `document` uses (``Invoice.of(``, ``new Invoice(``, ``Invoice total =``), not java.lang's
    nor those it imports by name or declares, in order of first use."""
    imported = set(re.findall(r"(?m)^[ \t]*import\s+(?:static\s+)?[\w.]*\.([A-Z][\w$]*)\s*;?\s*$", document))
    declared = set(re.findall(r"\b(?:class|interface|enum|record|object)\s+([A-Z][\w$]*)", document))
    names = (a or b for a, b in _CLASS_USE.findall(document))
    return [n for n in dict.fromkeys(names) if n not in _JAVA_LANG and n not in imported and n not in declared]


# a name where no name part (``[\w$]``) precedes it, its part taken whole: ``a$a$a$...`` no quadratic search
_MEMBER = re.compile(r"^[ \t]{1,8}(?:public|protected)\b[^=;(\n]*?(?<![\w$])([A-Za-z_$][\w$]*+)\s*[(=;]", re.M)


@lru_cache(maxsize=16)
def _declared(text: str, name: str) -> tuple[str, ...]:
    """The members of the class `name` in its source or stub `text`: an enum's constants, then its public and
    protected members in file order (its constructors not)."""
    return tuple(m for m in dict.fromkeys([*enum_constants(text, name), *_MEMBER.findall(text)]) if m != name)


def _public_members(text: str, name: str) -> list[str]:
    """The first MAX_OUTLINE of `_declared`: what a class none of whose members a document uses yet offers."""
    return list(_declared(text, name)[:MAX_OUTLINE])


def _declared_or_unknown(members: list[str], text: str, name: str) -> list[str]:
    """`members` (the class `name`'s members a document uses) without those the class does not declare but that
    begin some of its public members' names: ``StringUtils.ind`` typed at the cursor, whose members come as a
    snippet of their own (`fim.member`); a name no public member begins (an enum's constant) is kept."""
    declared = _declared(text, name)
    known = set(declared)
    return [m for m in members if m in known or not any(d.startswith(m) for d in declared)]


def dependency_jars(current_path: str, installed: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(group, jar key, sources jar key or "") of each dependency of the build file nearest above `current_path`
    whose jar is in Maven's local repository or Gradle's cache, at most MAX_JARS. Kept JARS_SECONDS for the same
    `installed` and dependencies: a request asks it for each of the document's imports."""
    wanted = tuple(dependencies(current_path, installed)[:MAX_JARS])
    key = (id(installed), wanted, int(time.monotonic() / JARS_SECONDS))
    held = _JARS.get(key)
    if held is not None and held[0] is installed:
        return list(held[1])
    out = []
    for group, artifact, version in wanted:
        found = _maven_jar(group, artifact, version, installed) or _gradle_jar(group, artifact, version, installed)
        if found is not None:
            out.append((group, *found))
    _JARS[key] = (installed, tuple(out))
    while len(_JARS) > 8:
        del _JARS[next(iter(_JARS))]
    return out


def _maven_jar(group: str, artifact: str, version: str, installed: Mapping[str, str]) -> Optional[tuple[str, str]]:
    folder = f"{MAVEN_REPOSITORY}{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}"
    sources = folder + "-sources.jar"
    binary = folder + ".jar"
    has_sources = sources in installed
    if binary in installed or has_sources:
        return binary, sources if has_sources else ""
    return None


def _gradle_jar(group: str, artifact: str, version: str, installed: Mapping[str, str]) -> Optional[tuple[str, str]]:
    files = _gradle_files(group, artifact, version, installed)
    binary, sources = files.get(f"{artifact}-{version}.jar", ""), files.get(f"{artifact}-{version}-sources.jar", "")
    return (binary, sources) if binary or sources else None


def _gradle_files(group: str, artifact: str, version: str, installed: Mapping[str, str]) -> dict[str, str]:
    """File name -> key of the files of a version in Gradle's cache (each in a hash folder: the version's folder
    listed, then its first MAX_HASHES hash folders)."""
    folder = f"{GRADLE_CACHES}{group}/{artifact}/{version}/"
    if folder not in installed:
        return {}
    found = {}
    for hashed in [h for h in installed[folder].split("\n") if h.endswith("/")][:MAX_HASHES]:
        for name in installed[folder + hashed].split("\n") if folder + hashed in installed else ():
            if name and not name.endswith("/"):
                found.setdefault(name, folder + hashed + name)
    return found


def _find_pom(group: str, artifact: str, version: str, installed: Mapping[str, str]) -> str:
    """The key of a dependency's pom in Maven's local repository, else in Gradle's cache; "" where neither has it."""
    if not all(map(_PART.match, (group, artifact, version))):
        return ""
    key = repository_pom(group, artifact, version)
    if key in installed:
        return key
    return _gradle_files(group, artifact, version, installed).get(f"{artifact}-{version}.pom", "")


def dependencies(current_path: str, installed: Mapping[str, str]) -> list[Coordinate]:
    """The (group, artifact, version) the build file nearest above `current_path` declares (a pom.xml, else a
    build.gradle(.kts) with the version catalog of a folder above), in their order, versions resolved; kept
    JARS_SECONDS for the same `installed` and folder."""
    folder = posixpath.dirname(current_path)
    key = (id(installed), folder, int(time.monotonic() / JARS_SECONDS))
    held = _DEPENDENCIES.get(key)
    if held is not None and held[0] is installed:
        return list(held[1])
    found: list[Coordinate] = []
    while True:
        build = next((f for f in (posixpath.join(folder, n) if folder else n for n in BUILD_FILES) if f in installed),
                     None)
        if build is not None:
            found = _pom_dependencies(build, installed) if build.endswith("pom.xml") else \
                _gradle_dependencies(build, installed)
            break
        if not folder:
            break
        folder = posixpath.dirname(folder)
    _DEPENDENCIES[key] = (installed, tuple(found))
    while len(_DEPENDENCIES) > 8:
        del _DEPENDENCIES[next(iter(_DEPENDENCIES))]
    return found


# ------------------------------------------------------------------------------------ Maven


def _pom_dependencies(path: str, installed: Mapping[str, str]) -> list[Coordinate]:
    """A pom's dependencies (then the managed ones), properties and managed versions from its parents too; then
    the compile and runtime dependencies of the first MAX_TRANSITIVE of them (their poms in Maven's repository)."""
    chain = _pom_chain(path, installed)
    return _with_transitive(_resolved(chain, False, _bom_versions(_imported_boms(chain), installed)), installed)


def _bom_versions(boms: tuple[Coordinate, ...],
                 installed: Mapping[str, str]) -> tuple[tuple[tuple[str, str], str], ...]:
    """((group, artifact), version) that the BOMs `boms` (``<scope>import</scope>``, Gradle's ``platform(...)``)
    manage, from their poms in Maven's repository or Gradle's cache; the first BOM naming one wins."""
    out: dict[tuple[str, str], str] = {}
    for bom in boms[:MAX_BOMS]:
        key = _find_pom(*bom, installed)
        for name, version in _managed(_pom_chain(key, installed)) if key else ():
            out.setdefault(name, version)
    return tuple(out.items())


@lru_cache(maxsize=32)
def _managed(texts: tuple[str, ...]) -> tuple[tuple[tuple[str, str], str], ...]:
    """((group, artifact), version) of the ``<dependencyManagement>`` of the pom `texts[0]` and its parents."""
    properties, managed = _chain_maps([pom for pom in map(_pom, texts) if pom is not None])
    out = {(_expand(g, properties), a): _expand(v, properties) for (g, a), v in managed.items()}
    return tuple((name, v) for name, v in out.items() if _VERSION.match(v))


@lru_cache(maxsize=32)
def _imported_boms(texts: tuple[str, ...]) -> tuple[Coordinate, ...]:
    """The BOMs the pom `texts[0]` and its parents import (``<scope>import</scope>`` in dependencyManagement)."""
    chain = [pom for pom in map(_pom, texts) if pom is not None]
    properties, _ = _chain_maps(chain)
    out = [(_expand(d[0], properties), d[1], _expand(d[2], properties))
           for pom in chain for d in pom["managed"] if d[3] == "import"]
    return tuple(c for c in out if all(map(_PART.match, c)))


def _chain_maps(chain: list[dict]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """The properties and managed versions of a pom and its parents, a child's overriding its parent's."""
    properties: dict[str, str] = {}
    managed: dict[tuple[str, str], str] = {}
    for pom in reversed(chain):
        properties.update(pom["properties"])
        managed.update({(d[0], d[1]): d[2] for d in pom["managed"] if d[3] != "import"})
    return properties, managed


def _with_transitive(direct: tuple[Coordinate, ...], installed: Mapping[str, str]) -> list[Coordinate]:
    """`direct`, then the compile and runtime dependencies the poms of the first MAX_TRANSITIVE of them declare."""
    out = list(direct)
    for group, artifact, version in direct[:MAX_TRANSITIVE]:
        key = _find_pom(group, artifact, version, installed)
        if key:
            out += _resolved(_pom_chain(key, installed), True)
    return list(dict.fromkeys(out))


def repository_pom(group: str, artifact: str, version: str) -> str:
    """The key of a pom in Maven's local repository."""
    return f"{MAVEN_REPOSITORY}{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.pom"


def _pom_chain(path: str, installed: Mapping[str, str]) -> tuple[str, ...]:
    """The texts of the pom `path` and its parents (a workspace pom's ``<relativePath>``, default ``../pom.xml``,
    else the parent's coordinates in Maven's local repository), at most MAX_PARENTS parents."""
    texts: list[str] = []
    while path and path in installed and len(texts) <= MAX_PARENTS:
        pom = _pom(installed[path])
        if pom is None:
            break
        texts.append(installed[path])
        if pom["parent"] is None:
            break
        joined = ""
        if pom["parent_path"] and not path.startswith((MAVEN_REPOSITORY, GRADLE_CACHES)):
            relative = pom["parent_path"]
            relative = relative if relative.endswith(".xml") else posixpath.join(relative, "pom.xml")
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), relative))
            joined = "" if joined.startswith("..") or joined in (path, ".") else joined
        path = joined if joined and joined in installed else _find_pom(*pom["parent"], installed)
    return tuple(texts)


@lru_cache(maxsize=64)
def _resolved(texts: tuple[str, ...], transitive: bool,
              boms: tuple[tuple[tuple[str, str], str], ...] = ()) -> tuple[Coordinate, ...]:
    """The dependencies of the pom `texts[0]` whose parents are the others, versions resolved (else from `boms`);
    `transitive`: those a project depending on it gets (compile and runtime scope, not optional), else all and
    the managed."""
    chain = [pom for pom in map(_pom, texts) if pom is not None]
    if not chain:
        return ()
    properties, managed = _chain_maps(chain)
    managed = {**dict(boms), **managed}
    listed = chain[0]["dependencies"]
    if transitive:
        listed = [d for d in listed if d[3] in ("", "compile", "runtime") and d[4] != "true"]
    else:
        listed = listed + chain[0]["managed"]
    out: list[Coordinate] = []
    for group, artifact, version, _, _ in listed:
        version = _expand(version or managed.get((group, artifact), ""), properties)
        group = _expand(group, properties)
        if _PART.match(group) and _PART.match(artifact) and _VERSION.match(version):
            out.append((group, artifact, version))
    return tuple(dict.fromkeys(out))


def _expand(value: str, properties: Mapping[str, str]) -> str:
    """`value` with its ``${name}`` replaced from `properties` (4 rounds: ``${a}`` -> ``${b}`` -> 1.0); "" where
    it grows past MAX_VALUE (``<a>${a}${a}...</a>`` would double it each round)."""
    def value_of(m: re.Match) -> str:
        found = properties.get(m.group(1))
        return found if found is not None and len(found) <= MAX_VALUE else m.group(0)

    for _ in range(4):
        if len(value) > MAX_VALUE:
            return ""
        expanded = _PROPERTY.sub(value_of, value)
        if expanded == value:
            break
        value = expanded
    return value.strip() if len(value) <= MAX_VALUE else ""


@lru_cache(maxsize=32)
def _pom(text: str) -> Optional[dict]:
    """A pom's dependencies, managed dependencies, properties, parent's relative path (None: none) and
    coordinates (None: no parent)."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None  # no pom has a DTD; its entities would expand (``&lol9;``: a billion laughs, or 8 MB quietly)
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, ValueError):
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rpartition("}")[2]

    def child(node, name: str) -> str:
        found = node.find(name) if node is not None else None
        return (found.text or "").strip() if found is not None else ""

    properties = {}
    for prop in root.find("properties") if root.find("properties") is not None else ():
        if isinstance(prop.tag, str):
            properties[prop.tag] = (prop.text or "").strip()
    parent = root.find("parent")
    version = child(root, "version") or child(parent, "version")
    group = child(root, "groupId") or child(parent, "groupId")
    for prefix in ("project.", "pom.", ""):
        properties.setdefault(prefix + "version", version)
        properties.setdefault(prefix + "groupId", group)
    properties.setdefault("project.parent.version", child(parent, "version"))

    def listed(node) -> list[tuple[str, str, str, str, str]]:  # (group, artifact, version, scope, optional)
        deps = node.find("dependencies") if node is not None else None
        return [(child(d, "groupId"), child(d, "artifactId"), child(d, "version"), child(d, "scope"),
                 child(d, "optional")) for d in (deps.findall("dependency") if deps is not None else ())]

    parent_path = None
    if parent is not None:
        relative = parent.find("relativePath")
        parent_path = "../pom.xml" if relative is None else (relative.text or "").strip() or None
    coordinates = (child(parent, "groupId"), child(parent, "artifactId"), child(parent, "version"))
    return {"dependencies": listed(root), "managed": listed(root.find("dependencyManagement")),
            "properties": properties, "parent_path": parent_path, "parent": coordinates if parent is not None else None}


# ------------------------------------------------------------------------------------ Gradle


def _gradle_dependencies(path: str, installed: Mapping[str, str]) -> list[Coordinate]:
    """A build.gradle(.kts)'s ``"g:a:v"`` strings and ``group:, name:, version:`` maps, then the libraries of the
    nearest ``gradle/libs.versions.toml`` above it."""
    text = installed[path]
    variables = dict(_GRADLE_VARIABLE.findall(text))

    def interpolated(version: str) -> str:
        return _GRADLE_INTERPOLATION.sub(lambda m: variables.get(m.group(1).removeprefix("ext."), m.group(0)),
                                         version)

    out: list[Coordinate] = []
    for group, artifact, version in _COORDINATE.findall(text) + _MAP.findall(text):
        version = interpolated(version)
        if _VERSION.match(version):
            out.append((group, artifact, version))
    # ``implementation("g:a")`` at the version a ``platform("g:bom:v")`` (or ``mavenBom``) manages
    versionless = _VERSIONLESS.findall(text)
    if versionless:
        boms = tuple((g, a, interpolated(v)) for g, a, v in _PLATFORM.findall(text))
        managed = dict(_bom_versions(boms, installed))
        out += [(g, a, managed[(g, a)]) for g, a in versionless if (g, a) in managed]
    folder = posixpath.dirname(path)
    while True:
        catalog = posixpath.join(folder, CATALOG) if folder else CATALOG
        if catalog in installed:
            out += _catalog(installed[catalog])
            break
        if not folder:
            break
        folder = posixpath.dirname(folder)
    return _with_transitive(tuple(dict.fromkeys(out)), installed)


_TABLE = re.compile(r"(?m)^[ \t]*\[([\w.\-]+)\]\s*(?:#.*)?$")
_TOML_PAIR = re.compile(r"""(?m)^[ \t]*([\w.\-]+)\s*=\s*("[^"\n]*"|'[^'\n]*'|\{[^}\n]*\})""")
_INLINE = re.compile(r"""([\w.\-]+)\s*=\s*("[^"]*"|'[^']*'|\{[^}]*\})""")


@lru_cache(maxsize=8)
def _catalog(text: str) -> list[Coordinate]:
    """A version catalog's libraries: ``"g:a:v"``, ``{ module = "g:a", version.ref = "x" }``, ``{ group = "g",
    name = "a", version = "1.0" }`` (``version = { strictly/require = ... }`` too), with its ``[versions]``."""
    tables: dict[str, str] = {}
    marks = list(_TABLE.finditer(text))
    for i, m in enumerate(marks):
        tables[m.group(1)] = text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)]
    versions = {}
    for name, value in _TOML_PAIR.findall(tables.get("versions", "")):
        plain = _plain_version(value)
        if plain:
            versions[name] = plain
    out = []
    for _, value in _TOML_PAIR.findall(tables.get("libraries", "")):
        if value[0] in "\"'":
            pieces = value[1:-1].split(":")
            if len(pieces) == 3:
                out.append((pieces[0], pieces[1], pieces[2]))
            continue
        fields = dict(_INLINE.findall(value[1:-1]))
        module = fields.get("module", "")[1:-1]
        group, _, artifact = module.partition(":")
        if not module:
            group, artifact = fields.get("group", "")[1:-1], fields.get("name", "")[1:-1]
        ref = fields.get("version.ref", "")[1:-1]
        version = versions.get(ref, "") if ref else _plain_version(fields.get("version", ""))
        if group and artifact and version:
            out.append((group, artifact, version))
    return [c for c in out if _PART.match(c[0]) and _PART.match(c[1]) and _VERSION.match(c[2])]


def _plain_version(value: str) -> str:
    """``"1.0"`` -> 1.0; ``{ strictly = "1.0" }``/``{ require = "1.0" }``/``{ prefer = ... }`` -> 1.0."""
    if value[:1] in "\"'":
        return value[1:-1]
    fields = dict(_INLINE.findall(value[1:-1])) if value.startswith("{") else {}
    for name in ("strictly", "require", "prefer"):
        if name in fields:
            return fields[name][1:-1]
    return ""

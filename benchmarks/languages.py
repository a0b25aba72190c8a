"""Tasks of the repository-context benchmark in Go, Rust, TypeScript, JavaScript, Java, C, C++, PHP,
Kotlin, Swift, C#, Ruby, Lua, shell, Perl and Dart (`benchmarks/repo_context.py` runs them), and the sources they
come from.

Sources are real code nobody here wrote, pinned: Debian's ``golang-*-dev``, ``librust-*-dev`` and
``php-*`` packages (``apt-get download NAME=VERSION``, unpacked with ``dpkg-deb -x``: Go sources under
``usr/share/gocode``, Rust crates under ``usr/share/cargo/registry``, PHP under ``usr/share/php``, Perl's
``lib*-perl`` modules under ``usr/share/perl5``), npm
tarballs (``npm pack NAME@VERSION``; Kotlin from a React Native module's Android sources) and PyPI
source distributions that carry Java, C and C++ (``pip download``). Each is
fetched once into ``<user cache>/deepfim/benchmarks`` and read from there afterwards (offline).

Tasks, independent of `fim`'s own parsing and resolution: every file's top-level definitions are
found by this module's line patterns (ctags-like); a use of a name in a library file is a task when
the name is defined in exactly one other file of the workspace (of the same language family), not
in the file itself, and the language makes it visible there:

- Go: a bare name defined in another file of the same folder (package), or ``pkg.Name`` where
  ``pkg`` is imported by a path that go.mod's module path maps to the defining file's folder;
- Rust: a name brought in by a ``use`` of ``crate::``, ``super::``, ``self::`` (or a sibling module) from the
  defining file's module, a module around it, or ``crate``, ``super`` or ``self`` (which may re-export it), not
  another module's same name (``use crate::parser::value::value``), nor a path's module (``crate::value::{A}``);
- TypeScript/JavaScript: a name imported (``import``, ``export ... from``, destructured ``require``)
  from a relative path;
- Java: a class of the same package (folder) or named by an ``import`` of its package;
- C/C++: a name declared in a header the file includes with quotes (by the header's file name), not in a
  comment, nor one the standard defines (``uint32_t``, ``bool``);
- PHP: a class named by a ``use`` statement (not aliased), or of the same ``namespace`` and folder;
- Kotlin: a name named by an ``import`` (not aliased), or of the same ``package`` and folder;
- Swift: a name of another file of the package (one module, as a CocoaPod's sources are), not one defined only
  for a platform (``#if os(macOS)`` without an ``#else``: the SDK's name elsewhere);
- Ruby: a class, module or constant of another file of the library (Ruby sees all it has loaded), by its
  bare name where it is at the top level (not a reopened ``String``) or in modules around the code; a
  qualified one (``Abstract::PersistedSecure``) only where the qualifier's modules are the innermost around
  the definition, all of them from the top after a leading ``::`` (not ``::Digest::MD5`` for rack's MD5);
- Lua: ``alias.name`` where ``local alias = require "a.b"`` and ``a/b.lua`` defines ``name`` (``function
  M.name``, ``M.name =``);
- shell: a function defined in a script the file sources (``. /lib/x-lib.sh``, by the script's name).
- C#: a type of a namespace the file names in a ``using A.B;`` directive, or of the file's own
  namespace or one around it (``A`` for ``namespace A.B``), whatever folder its file is in.
- Perl: a sub, constant or ``has`` attribute of the file of a package (``package Foo::Bar;``) called as
  ``Foo::Bar->name`` or ``Foo::Bar::name(``, as ``$self->name`` where the file's parent class (``use parent``,
  ``use base``, ``extends``, ``use Mojo::Base 'Parent'``) defines it, as ``$obj->name`` after ``my $obj =
  Foo::Bar->new``, or bare where ``use Foo::Bar qw(name)`` imports it; POD and ``__END__`` are no code.
- Dart: a top-level name of a file the file imports (``package:`` URIs by the pubspec.yaml's ``name``, relative
  URIs) or one that file ``export``s, transitively, ``show``/``hide`` applied; ``p.name`` after ``import ... as
  p``; or a name of another file of its library (``part``/``part of``). Dart sources come from GitHub
  snapshots opened as directories (no registry here carries them; benchmarks/README.md).

The cursor stands right before the use and the hole is the rest of the line, deleted from the
document, as for Python; the defining line must reach the prompt's context.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional, Sequence

# workspace language (the LSP languageId the benchmark sends) by extension
EXTENSIONS = {
    ".go": "go", ".rs": "rust", ".ts": "typescript", ".tsx": "typescriptreact", ".mts": "typescript",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascriptreact", ".java": "java",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".php": "php",
    ".kt": "kotlin", ".swift": "swift", ".rb": "ruby", ".lua": "lua", ".cs": "csharp",
    ".sh": "shellscript", ".pm": "perl", ".pl": "perl", ".t": "perl", ".psgi": "perl", ".dart": "dart",
}
# language reported in the tables
REPORTED = {"typescriptreact": "typescript", "javascriptreact": "javascript"}
FAMILY = {"go": "go", "rust": "rust", "typescript": "js", "typescriptreact": "js", "javascript": "js",
          "javascriptreact": "js", "java": "java", "c": "c", "cpp": "c", "php": "php", "kotlin": "jvm",
          "swift": "swift", "ruby": "ruby", "lua": "lua", "shellscript": "shell", "csharp": "csharp",
          "perl": "perl", "dart": "dart"}
_TEST_NAME = re.compile(r"(?:_test\.go|\.test\.[jt]sx?|\.spec\.[jt]sx?|Test\.java|_tests?\.rs|\.t)$")
_NON_LIBRARY = frozenset({"test", "tests", "testing", "__tests__", "spec", "doc", "docs", "example", "examples",
                          "benches", "bench", "benchmark", "benchmarks", "scripts", "tools", "fuzz", "testdata",
                          "harness", "project", "dist", "build"})
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_STRIP = re.compile(r"//[^\n]*|/\*[\s\S]*?\*/|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.){0,4}'|`[^`]*`")
_C_LANGS = ("c", "cpp")
# Names the C and C++ standards define (<stdint.h>, <stddef.h>, <stdbool.h>, <limits.h>): a project's own
# ``typedef unsigned __int32 uint32_t;`` for an old compiler is a shim, not the definition a use needs.
_C_STANDARD = re.compile(
    r"u?int(?:_least|_fast)?(?:8|16|32|64)_t|u?int(?:ptr|max)_t|size_t|ssize_t|ptrdiff_t|max_align_t|wchar_t"
    r"|char(?:8|16|32)_t|bool|true|false|NULL|nullptr|u?int(?:_least|_fast)?(?:8|16|32|64)_(?:MAX|MIN)"
    r"|u?int(?:ptr|max)_(?:MAX|MIN)|SIZE_MAX|SSIZE_MAX|PTRDIFF_(?:MAX|MIN)|U?(?:CHAR|SHRT|INT|LONG|LLONG)_(?:MAX|MIN)"
    r"|inline|restrict|static_assert|alignof|alignas|offsetof")
# Whole import statements, also those spanning lines (their names are not uses).
_IMPORT_STATEMENT = re.compile(
    r"(?ms)^[ \t]*(?:import|export)\b[^;'\"]*?\bfrom[ \t\n]*['\"][^'\"\n]*['\"]"
    r"|^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?use\b[^;]*;|^import[ \t]*\(.*?^\)")


def language_of(path: str) -> Optional[str]:
    return EXTENSIONS.get(posixpath.splitext(path)[1].lower())


def is_library(path: str) -> bool:
    parts = path.lower().split("/")
    return not _TEST_NAME.search(path) and not any(p in _NON_LIBRARY for p in parts[:-1])


# ------------------------------------------------------------------------------------ definitions

# A method (``func (d T) string()``) is no top-level name: a bare ``string`` is the type, never the method.
_GO_TOP = re.compile(r"^(?:func[ \t]+|type[ \t]+|var[ \t]+|const[ \t]+)([A-Za-z_]\w*)")
_GO_GROUP = re.compile(r"^(type|var|const)[ \t]*\($")
_GO_IN_GROUP = re.compile(r"^\t([A-Za-z_]\w*)\b")
_RUST_TOP = re.compile(
    r"^(?:pub(?:\([^)]*\))?[ \t]+)?(?:(?:async|const|unsafe|extern[ \t]+\"[^\"]*\")[ \t]+)*"
    r"(?:fn|struct|enum|trait|type|union|const|static|macro_rules!)[ \t]+([A-Za-z_]\w*)")
_RUST_MACRO_OPEN = re.compile(r"^[A-Za-z_][\w:]*![ \t]*\{[ \t]*$")
_JS_TOP = re.compile(
    r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:abstract[ \t]+)?(?:async[ \t]+)?"
    r"(?:function\*?|class|interface|type|enum|const|let|var|namespace)[ \t]+([A-Za-z_$][\w$]*)")
_JS_EXPORTS = re.compile(r"^(?:module\.)?exports\.([A-Za-z_$][\w$]*)[ \t]*=")
_JAVA_TOP = re.compile(
    r"^(?:(?:public|protected|private|abstract|final|static|sealed|non-sealed|strictfp)[ \t]+)*"
    r"(?:class|interface|enum|record|@interface)[ \t]+([A-Za-z_]\w*)")
_C_DEFINE = re.compile(r"^#[ \t]*define[ \t]+([A-Za-z_]\w*)")
_C_TYPE = re.compile(r"^(?:typedef[ \t]+)?(?:struct|union|enum|class)[ \t]+([A-Za-z_]\w*)[ \t]*(?:final[ \t]*)?[:{]")
_C_TYPEDEF_END = re.compile(r"^(?:typedef\b.*[ \t*]|\}[ \t]*)([A-Za-z_]\w*)[ \t]*;")
_C_FUNC = re.compile(r"^(?!return\b|else\b|typedef\b)[A-Za-z_][\w \t*&:<>,]*?[ \t*&]\**([A-Za-z_]\w*)[ \t]*\([^;{}]*\)?"
                     r"[^;{}]*(?:;|\{|$)")
_C_KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "defined", "case", "do", "else"})
_PHP_TOP = re.compile(
    r"^(?:(?:final|abstract|readonly)[ \t]+)*(?:class|interface|trait|enum|function)[ \t]+([A-Za-z_]\w*)")
_KOTLIN_TOP = re.compile(
    r"^(?:(?:public|internal|private|open|abstract|sealed|data|enum|annotation|inline|value|fun|expect|actual)[ \t]+)*"
    r"(?:class|interface|object|typealias|fun)[ \t]+(?:<[^>]*>[ \t]*)?"
    r"(?:[A-Za-z_][\w.]*(?:<[^>]*>)?\??\.)?([A-Za-z_]\w*)[ \t]*[(<:{=]")  # ``fun <T> Array<T>.name(``: name
_SWIFT_TOP = re.compile(
    r"^(?:(?:public|internal|private|fileprivate|open|final|indirect|@\w+(?:\([^)]*\))?)[ \t]+)*"
    r"(?:class|struct|enum|protocol|actor|typealias|func)[ \t]+([A-Za-z_]\w*)")
_RUBY_TOP = re.compile(r"^[ \t]*(?:(?:class|module)[ \t]+(?:\w+::)*([A-Z]\w*)|([A-Z][A-Z0-9_]+)[ \t]*=[^=~])")
_LUA_TOP = re.compile(r"^(?:function[ \t]+(?:\w+[.:])+(\w+)[ \t]*\(|(?:\w+\.)+(\w+)[ \t]*=[^=])")
_RUBY_STRIP = re.compile(r"#[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_LUA_STRIP = re.compile(r"--\[(=*)\[[\s\S]*?\]\1\]|--[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_SHELL_TOP = re.compile(r"^(?:function[ \t]+([A-Za-z_]\w*)|([A-Za-z_]\w*)[ \t]*\(\))")
_SHELL_SOURCE = re.compile(r"(?m)(?:^[ \t]*|[;&|][ \t]*)(?:\.|source)[ \t]+[\"']?([^\s;&|)]+?)[\"']?(?=[\s;&|)]|$)")
_LUA_REQUIRE = re.compile(r"(?m)^[ \t]*local[ \t]+(\w+)[ \t]*=[ \t]*require[ \t(]*[\"']([\w.]+)[\"'][ \t)]*$")
# A type at a namespace's level: the line's indentation is checked against the file's namespace style.
_CSHARP_TOP = re.compile(
    r"^([ \t]*)(?:(?:public|internal|private|protected|static|sealed|abstract|partial|unsafe|readonly|ref|file|new)"
    r"[ \t]+)*(?:class|interface|struct|enum|record(?:[ \t]+(?:class|struct))?)[ \t]+([A-Za-z_]\w*)")
_DART_TOP = re.compile(
    r"^(?:(?:abstract|base|final|interface|sealed|mixin)[ \t]+)*(?:class|mixin|enum|typedef|extension(?:[ \t]+type)?)"
    r"[ \t]+([A-Za-z_$][\w$]*)"  # a type
    r"|^(?:external[ \t]+)?(?!(?:import|export|part|library|return)\b)(?:[A-Za-z_$][\w$<>,?. ]*?[ \t]+)?"
    r"([a-z_$][\w$]*)[ \t]*(?:<[^>()]*>)?\("  # a function: ``Future<Response> get(``
    r"|^(?:late[ \t]+)?(?:final|const|var)[ \t]+(?:[A-Za-z_$][\w$<>,?. ]*?[ \t]+)?([A-Za-z_$][\w$]*)[ \t]*=")
# ``import 'uri' as p show A hide B;``, ``export 'uri' show A;``, ``part 'uri';`` (`_dart_visible`)
_DART_DIRECTIVE = re.compile(r"(?m)^[ \t]*(import|export|part)[ \t]+(['\"])([^'\"\n]+)\2([^;]*);")
_PERL_TOP = re.compile(r"^[ \t]*sub[ \t]+([A-Za-z_]\w*)|^use[ \t]+constant[ \t]+([A-Za-z_]\w*)"
                       r"|^has[ \t(]+[\"']?([A-Za-z_]\w*)")
_PERL_TEXT = re.compile(r"(?ms)^=[A-Za-z].*?(?:^=cut\b[^\n]*|\Z)|^__(?:END|DATA)__\b.*")  # POD, __END__
_PERL_STRIP = re.compile(r"(?<!\$)#[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_PERL_PACKAGE = re.compile(r"(?m)^[ \t]*package[ \t]+([A-Za-z_]\w*(?:::\w+)*)")
_PERL_MODULE = r"[A-Za-z_]\w*(?:::\w+)*"
_PHP_STRIP = re.compile(r"//[^\n]*|#(?!\[)[^\n]*|/\*[\s\S]*?\*/|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def definitions(text: str, language: str) -> list[tuple[str, int]]:
    """(name, zero-based line) of every top-level definition, by line patterns."""
    out: list[tuple[str, int]] = []
    if language == "perl":
        text = _perl_code(text)
    elif language in _C_LANGS:
        text = _c_code(text)
    lines = text.split("\n")
    group = False
    shims: Optional[set[int]] = None
    if language == "csharp":  # block namespaces indent their types one level, file-scoped ones do not
        level = 1 if re.search(r"(?m)^namespace[ \t]+[\w.]+[ \t]*(?://.*)?$", text) else 0
        for i, line in enumerate(lines):
            m = _CSHARP_TOP.match(line)
            if m and len(m.group(1).expandtabs(4)) // 4 == level:
                out.append((m.group(2), i))
        return out
    for i, line in enumerate(lines):
        if language == "go":
            if group:
                if line.startswith(")"):
                    group = False
                else:
                    m = _GO_IN_GROUP.match(line)
                    if m:
                        out.append((m.group(1), i))
                continue
            if _GO_GROUP.match(line):
                group = True
                continue
            m = _GO_TOP.match(line)
        elif language == "rust":  # also an item one level inside a top-level ``cfg_rt! {`` (tokio, hyper)
            if _RUST_MACRO_OPEN.match(line):
                group = True
            elif group and line.startswith("}"):
                group = False
            m = _RUST_TOP.match(line[4:] if group and line.startswith("    ") else line)
        elif language in ("typescript", "typescriptreact", "javascript", "javascriptreact"):
            m = _JS_TOP.match(line) or _JS_EXPORTS.match(line)
        elif language == "java":
            m = _JAVA_TOP.match(line)
        elif language == "php":
            m = _PHP_TOP.match(line)
        elif language == "kotlin":
            m = _KOTLIN_TOP.match(line)
        elif language == "swift":
            if shims is None:
                shims = _platform_shims(lines)
            m = _SWIFT_TOP.match(line) if i not in shims else None
        elif language == "ruby":
            m = _RUBY_TOP.match(line)
        elif language == "lua":
            m = _LUA_TOP.match(line)
        elif language == "shellscript":
            m = _SHELL_TOP.match(line)
        elif language == "perl":
            m = _PERL_TOP.match(line)
        elif language == "dart":
            m = _DART_TOP.match(line)
        else:
            m = _C_DEFINE.match(line) or _C_TYPE.match(line) or _C_TYPEDEF_END.match(line)
            if m is None and line[:1].isalpha():
                m = _C_FUNC.match(line)
                if m is not None and m.group(1) in _C_KEYWORDS:
                    m = None
        if m:
            out.append((next(g for g in m.groups() if g), i))
    return out


# ------------------------------------------------------------------------------------ visibility


@dataclass(frozen=True)
class Use:
    line: int
    column: int  # code points
    name: str
    style: str


def _go_module(files: Mapping[str, str]) -> tuple[str, str]:
    for path in sorted(files, key=lambda p: p.count("/")):
        if posixpath.basename(path) == "go.mod":
            m = re.search(r"(?m)^module[ \t]+(\S+)", files[path])
            if m:
                return m.group(1), posixpath.dirname(path)
    return "", ""


def _go_imports(text: str) -> dict[str, str]:
    """Package name used in code -> import path."""
    out = {}
    block = re.search(r"(?ms)^import[ \t]*\((.*?)^\)", text)
    specs = re.findall(r"(?m)^[ \t]*(?:([\w.]+)[ \t]+)?\"([^\"]+)\"", block.group(1)) if block else []
    specs += re.findall(r"(?m)^import[ \t]+(?:([\w.]+)[ \t]+)?\"([^\"]+)\"", text)
    for alias, path in specs:
        name = alias or path.rsplit("/", 1)[-1]
        if not alias and re.fullmatch(r"v\d+", name) and "/" in path:
            name = path.rsplit("/", 2)[-2]
        out[name] = path
    return out


def _imported_names(text: str, language: str) -> set[str]:
    """Names the file imports in a way its language makes visible (see the module docstring)."""
    names: set[str] = set()
    if FAMILY.get(language) == "js":
        for m in re.finditer(r"(?ms)^[ \t]*(?:import|export)\b([^;'\"]*?)\bfrom[ \t\n]*['\"](\.[^'\"]*)['\"]", text):
            clause = re.sub(r"\bas[ \t]+[\w$]+", "", m.group(1))
            names.update(w for w in _IDENT.findall(clause) if w not in ("type", "import", "export", "default"))
        for m in re.finditer(r"\{([^}]*)\}[ \t]*=[ \t]*require\([ \t]*['\"](\.[^'\"]*)['\"]", text):
            names.update(w.split(":")[0].strip() for w in m.group(1).split(",") if w.strip())
    elif language == "java":
        names.update(re.findall(r"(?m)^import[ \t]+(?:[\w]+\.)+([A-Z]\w*)[ \t]*;", text))
    elif language == "kotlin":  # ``import a.b.Name`` (not aliased)
        names.update(re.findall(r"(?m)^import[ \t]+(?:\w+\.)+([A-Za-z_]\w*)[ \t]*$", text))
    elif language == "php":  # ``use A\B\Name;`` (not aliased: the alias is no definition's name)
        names.update(re.findall(r"(?m)^use[ \t]+(?:[A-Za-z_]\w*\\)+([A-Za-z_]\w*)[ \t]*;", text))
    return names


def _rust_uses(text: str) -> dict[str, str]:
    """Name -> the module its ``use crate::...``/``super::``/``self::`` names it from (the path's segment before
    it: ``value`` for ``use crate::parser::value::value``, ``crate`` for ``use crate::{Item, Value}``); a path's
    modules (``crate::value::{A, B}``'s ``value``) are no names it brings."""
    out: dict[str, str] = {}

    def walk(tree: str, parent: str) -> None:
        depth, start, parts = 0, 0, []
        for k, ch in enumerate(tree + ","):
            depth += ch == "{"
            depth -= ch == "}"
            if ch == "," and depth == 0:
                parts.append(tree[start:k].strip())
                start = k + 1
        for part in filter(None, parts):
            group = re.fullmatch(r"((?:\w+\s*::\s*)*)\{(.*)\}", part, re.S)
            if group:
                segments = re.findall(r"\w+", group.group(1))
                walk(group.group(2), segments[-1] if segments else parent)
                continue
            alias = re.fullmatch(r"(.*?)\s+as\s+(\w+)", part, re.S)
            segments = re.findall(r"\w+", alias.group(1) if alias else part)
            name = alias.group(2) if alias else segments[-1] if segments else ""
            if name and name not in ("self", "super", "crate", "_") and not part.endswith("*"):
                out[name] = segments[-2] if len(segments) > 1 else parent

    for m in re.finditer(r"(?ms)^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?use[ \t]+((?:crate|super|self)::[^;]*);", text):
        walk(m.group(1), "")
    return out


def _rust_module(path: str) -> str:
    """The module a Rust file is: its stem, its folder's name for a ``mod.rs``."""
    stem = posixpath.splitext(posixpath.basename(path))[0]
    return posixpath.basename(posixpath.dirname(path)) if stem == "mod" else stem


def _csharp_namespace(text: str) -> str:
    m = re.search(r"(?m)^namespace[ \t]+([\w.]+)", text)
    return m.group(1) if m else ""


def _csharp_usings(text: str) -> set[str]:
    """The namespaces of the file's ``using A.B;`` directives (not ``static`` ones nor aliases)."""
    return set(re.findall(r"(?m)^[ \t]*(?:global[ \t]+)?using[ \t]+([A-Za-z_][\w.]*)[ \t]*;", text))


def _jvm_package(text: str) -> str:
    m = re.search(r"(?m)^package[ \t]+([\w.]+)", text)
    return m.group(1) if m else ""


def _imports_from(text: str, target_text: str, name: str, end: str) -> bool:
    """`text` imports `name` from the package `target_text` declares (not another package's Name), the import
    statement ending with `end` (Java's ``;``, Kotlin's line end)."""
    return re.search(rf"(?m)^import[ \t]+{re.escape(_jvm_package(target_text))}\.{name}[ \t]*{end}", text) is not None


def _platform_shims(lines: Sequence[str]) -> set[int]:
    """Lines of ``#if os(macOS)`` blocks without an ``#else``: expo's ``typealias UIView = NSView`` names the SDK's
    type for the platform that lacks it; elsewhere the name is the SDK's, not the project's."""
    out: set[int] = set()
    stack: list[tuple[int, bool]] = []  # (start, a platform condition with no #else yet)
    for i, line in enumerate(lines):
        directive = line.strip()
        if directive.startswith("#if"):
            stack.append((i, directive.replace(" ", "").startswith(("#ifos(", "#if!os(", "#ifcanImport("))))
        elif directive.startswith(("#else", "#elseif")) and stack:
            stack[-1] = (stack[-1][0], False)
        elif directive.startswith("#endif") and stack:
            start, platform = stack.pop()
            if platform:
                out.update(range(start, i + 1))
    return out


def _c_code(text: str) -> str:
    """`text` with its comments blanked, lines kept: a ``#define`` commented out is no definition."""
    return _STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)) if m.group(0)[:2] in ("//", "/*") else m.group(0),
                      text)


def _perl_code(text: str) -> str:
    """`text` with POD and what follows ``__END__`` blanked, lines kept."""
    return _PERL_TEXT.sub(lambda m: re.sub(r"[^\n]", "", m.group(0)), text)


def perl_packages(files: Mapping[str, str]) -> dict[str, str]:
    """Package name -> the file declaring it (``package Foo::Bar;``), for the workspace's Perl files."""
    out: dict[str, str] = {}
    for path in sorted(files):
        if language_of(path) == "perl":
            for name in _PERL_PACKAGE.findall(_perl_code(files[path])):
                out.setdefault(name, path)
    return out


def _perl_visibility(text: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """A Perl file's parent classes, its ``my $obj = Class->new`` objects (variable -> class) and the names its
    ``use Module LIST`` statements import (name -> module)."""
    parents: list[str] = []
    for m in re.finditer(r"(?m)^[ \t]*(?:use[ \t]+(?:parent|base|Mojo::Base)\b|extends\b)([^;]*);", text):
        words = re.findall(r"\bqw[ \t]*[(/{\[]([^)/}\]]*)", m.group(1)) + re.findall(r"[\"']([^\"']+)[\"']", m.group(1))
        parents += [w for group in words for w in group.split() if not w.startswith("-")]
    objects = {v: c for v, c in re.findall(r"\bmy[ \t]+(\$\w+)[ \t]*=[ \t]*(" + _PERL_MODULE + r")[ \t]*->[ \t]*new\b",
                                           text)}
    imported: dict[str, str] = {}
    for module, rest in re.findall(r"(?m)^[ \t]*use[ \t]+(" + _PERL_MODULE + r")[ \t]+([^;]*);", text):
        words = re.findall(r"\bqw[ \t]*[(/{\[]([^)/}\]]*)", rest) + re.findall(r"[\"']([^\"']+)[\"']", rest)
        for w in (w for group in words for w in group.split()):
            if re.fullmatch(r"&?[A-Za-z_]\w*", w):
                imported.setdefault(w.lstrip("&"), module)
    return parents, objects, imported


def _perl_target(before: str, name: str, after: str, packages: Mapping[str, str], parents: list[str],
                 objects: Mapping[str, str], imported: Mapping[str, str]) -> tuple[str, str]:
    """(style, the package whose file must define `name`) of a use of `name` after `before`, or ("", "")."""
    called = re.search(r"(?<![\w$@%&:])(" + _PERL_MODULE + r")(?:[ \t]*->[ \t]*|::)$", before)
    if called and called.group(1) in packages:
        return "perl-class", called.group(1)
    if re.search(r"(?:\$self|\$class)[ \t]*->[ \t]*$", before):
        return ("perl-parent", parents[0]) if len(parents) == 1 else ("", "")
    variable = re.search(r"(\$\w+)[ \t]*->[ \t]*$", before)
    if variable and variable.group(1) in objects:
        return "perl-object", objects[variable.group(1)]
    if name in imported and not re.search(r"[\w$@%&>:{]$", before) and not re.match(r"[ \t]*(?:=>|})", after):
        return "perl-import", imported[name]
    return "", ""


def _dart_packages(files: Mapping[str, str]) -> dict[str, str]:
    """Package name -> its folder, from the workspace's pubspec.yaml files."""
    out: dict[str, str] = {}
    for path in sorted(files, key=lambda p: p.count("/")):
        if posixpath.basename(path) == "pubspec.yaml":
            m = re.search(r"(?m)^name:[ \t]*['\"]?(\w+)", files[path])
            if m:
                out.setdefault(m.group(1), posixpath.dirname(path))
    return out


def _dart_file(uri: str, current: str, packages: Mapping[str, str], files: Mapping[str, str]) -> Optional[str]:
    if uri.startswith("package:"):
        name, _, rest = uri[len("package:"):].partition("/")
        if name not in packages:
            return None
        path = posixpath.normpath(posixpath.join(packages[name], "lib", rest))
    elif ":" in uri.split("/", 1)[0]:  # ``dart:async``, another scheme
        return None
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(current), uri))
    return path if path in files else None


def _dart_filter(rest: str) -> tuple[Optional[frozenset[str]], frozenset[str]]:
    """A directive's ``show`` names (None: every name) and ``hide`` names."""
    shown = re.search(r"\bshow\b(.*?)(?:\bhide\b|$)", rest, re.S)
    hidden = re.search(r"\bhide\b(.*?)(?:\bshow\b|$)", rest, re.S)
    return (frozenset(_IDENT.findall(shown.group(1))) if shown else None,
            frozenset(_IDENT.findall(hidden.group(1))) if hidden else frozenset())


def _dart_visibility(path: str, text: str, files: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """(prefix, defining file) -> the names of that file `path` sees ("" prefix: unqualified; "*" every
    name), through its imports and what they export, transitively (``show``/``hide`` applied), and the
    other files of its library (``part``/``part of``)."""
    packages = _dart_packages(files)
    seen: dict[tuple[str, str], str] = {}

    def reach(prefix: str, target: str, shown: Optional[frozenset[str]], hidden: frozenset[str], depth: int) -> None:
        key = (prefix, target)
        if key in seen or depth > 8:
            return
        seen[key] = "*" if shown is None and not hidden else " ".join(sorted(shown or ())) if shown is not None \
            else "-" + " ".join(sorted(hidden))
        for m in _DART_DIRECTIVE.finditer(files[target]):
            if m.group(1) in ("export", "part"):
                nested = _dart_file(m.group(3), target, packages, files)
                if nested is not None:
                    more_shown, more_hidden = _dart_filter(m.group(4))
                    if shown is not None:
                        more_shown = shown if more_shown is None else shown & more_shown
                    reach(prefix, nested, more_shown, hidden | more_hidden, depth + 1)

    library = path
    part_of = re.search(r"(?m)^[ \t]*part[ \t]+of[ \t]+(['\"])([^'\"\n]+)\1", text)
    if part_of:
        library = _dart_file(part_of.group(2), path, packages, files) or path
    for m in _DART_DIRECTIVE.finditer(files.get(library, text) if library != path else text):
        if m.group(1) == "part":
            target = _dart_file(m.group(3), library, packages, files)
            if target is not None:
                seen[("", target)] = "*"
    if library != path:
        seen[("", library)] = "*"
    for m in _DART_DIRECTIVE.finditer(text):
        if m.group(1) != "import":
            continue
        target = _dart_file(m.group(3), path, packages, files)
        if target is not None:
            prefix = re.search(r"\bas[ \t]+([A-Za-z_$][\w$]*)", m.group(4))
            reach(prefix.group(1) if prefix else "", target, *_dart_filter(m.group(4)), 0)
    return seen


def _dart_sees(visible: Mapping[tuple[str, str], str], prefix: str, target: str, name: str) -> bool:
    names = visible.get((prefix, target))
    if names is None:
        return False
    if names == "*":
        return True
    if names.startswith("-"):
        return name not in names[1:].split()
    return name in names.split()


def _php_namespace(text: str) -> str:
    m = re.search(r"(?m)^namespace[ \t]+([\w\\]+)[ \t]*;", text)
    return m.group(1) if m else ""


def file_uses(path: str, text: str, language: str, defined_in: Mapping[str, list[tuple[str, int]]],
              files: Mapping[str, str], module: tuple[str, str]) -> list[tuple[Use, str, int]]:
    """(use, defining path, defining line) of the cross-file uses in `path`, the first of each line."""
    own = {name for name, _ in definitions(text, language)}
    imported = _imported_names(text, language)
    folder = posixpath.dirname(path)
    go_imports = _go_imports(text) if language == "go" else {}
    rust_uses = _rust_uses(text) if language == "rust" else {}
    includes = set()
    if language in _C_LANGS:
        includes = {posixpath.basename(m) for m in re.findall(r"(?m)^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"", text)}
    lua_modules = {alias: module.replace(".", "/") for alias, module in _LUA_REQUIRE.findall(text)} \
        if language == "lua" else {}
    sourced = {posixpath.basename(t) for t in _SHELL_SOURCE.findall(text)} if language == "shellscript" else set()
    dart_visible = _dart_visibility(path, text, files) if language == "dart" else {}
    if language == "perl":
        text = _perl_code(text)
        packages = perl_packages(files)
        parents, objects, perl_imported = _perl_visibility(text)
    strip = {"php": _PHP_STRIP, "ruby": _RUBY_STRIP, "lua": _LUA_STRIP, "shellscript": _RUBY_STRIP,
             "perl": _PERL_STRIP}.get(language,
                                                                                                     _STRIP)
    code = strip.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    namespace = _php_namespace(text) if language == "php" else _jvm_package(text) if language == "kotlin" else ""
    if language == "csharp":
        namespace = _csharp_namespace(text)
        usings = _csharp_usings(text)
        around = {namespace.rsplit(".", k)[0] for k in range(namespace.count(".") + 1)} if namespace else set()
    directives = _DART_DIRECTIVE.finditer(text) if language == "dart" else ()
    statements = {text.count("\n", 0, k) for m in (*_IMPORT_STATEMENT.finditer(text), *directives)
                  for k in range(m.start(), m.end()) if text[k] == "\n" or k == m.start()}
    out: list[tuple[Use, str, int]] = []
    seen_lines: set[int] = set(statements)  # lines of import statements are not uses
    for i, line in enumerate(code.split("\n")):
        stripped = line.lstrip()
        if i in seen_lines or stripped.startswith(("import ", "use ", "pub use ", "#include", "package ", "export {",
                                                   "export *", "} from", "mod ", "pub mod ", "namespace ", "using ",
                                                   "global using ")) \
                or language == "dart" and stripped.startswith(("part ", "library ", "export ")) \
                or language == "ruby" and stripped.startswith(("autoload ", "autoload(")):  # an import
            continue
        for m in _IDENT.finditer(line):
            name = m.group(0)
            where = defined_in.get(name)
            if language == "lua":  # ``alias.name``: the required file's name, wherever else it is defined
                alias = re.search(r"([A-Za-z_]\w*)[ \t]*[.:][ \t]*$", line[:m.start()])
                stem = lua_modules.get(alias.group(1), "") if alias else ""
                where = [(t, n) for t, n in where or () if stem and t.endswith((stem + ".lua", stem + "/init.lua"))
                         and (t == stem + ".lua" or t.endswith("/" + stem + ".lua") or t.endswith(stem + "/init.lua"))]
                own = set()
            if language == "perl":  # the file of the package the use names
                style, package = _perl_target(line[:m.start()], name, line[m.end():], packages, parents, objects,
                                              perl_imported)
                where = [(t, n) for t, n in where or () if style and t == packages.get(package)]
            if name in own or not where or len(where) != 1 or len(name) < 3:
                continue
            (target, target_line), = where
            if target == path or FAMILY.get(language_of(target) or "") != FAMILY[language]:
                continue
            before = line[:m.start()]
            style = ""
            if language == "go":
                qualified = re.search(r"([A-Za-z_]\w*)\.$", before)
                if qualified:
                    imported_path = go_imports.get(qualified.group(1), "")
                    mod_path, mod_dir = module
                    target_dir = posixpath.dirname(target)
                    rel = target_dir[len(mod_dir):].strip("/") if target_dir.startswith(mod_dir) else None
                    if mod_path and rel is not None and imported_path == "/".join(p for p in (mod_path, rel) if p):
                        style = "go-import"
                elif not before.endswith(".") and posixpath.dirname(target) == folder and name not in go_imports:
                    style = "go-package"
            elif language == "rust":  # named from the defining module, or from one that may re-export it
                if name in rust_uses and not before.rstrip().endswith(("::", ".")) \
                        and rust_uses[name] in ("crate", "super", "self", _rust_module(target),
                                                *posixpath.dirname(target).split("/")):
                    style = "rust-use"
            elif FAMILY[language] == "js":
                if name in imported and not before.rstrip().endswith("."):
                    style = "js-import"
            elif language == "java":
                if not before.rstrip().endswith("."):
                    if posixpath.dirname(target) == folder:
                        style = "java-package"
                    elif name in imported and _imports_from(text, files[target], name, ";"):
                        style = "java-import"
            elif language == "kotlin":
                if not before.rstrip().endswith((".", "::", "?.")) and language_of(target) == "kotlin":
                    if name in imported and _imports_from(text, files[target], name, "$"):
                        style = "kotlin-import"
                    elif namespace and posixpath.dirname(target) == folder \
                            and _jvm_package(files[target]) == namespace:
                        style = "kotlin-package"
            elif language == "swift":  # one module: every file of the workspace's package sees the others
                if not before.rstrip().endswith((".", "?.", "!.")) and language_of(target) == "swift":
                    style = "swift-module"
            elif language == "ruby":  # a library: every file sees the classes the others define
                qualifier = _RUBY_QUALIFIER.search(before)  # none after a symbol's ``:``
                if not before.rstrip().endswith(".") and _ruby_finds(text, i, files[target], target_line, name,
                                                                     qualifier.group(1) if qualifier else ""):
                    style = "ruby-library"
            elif language == "lua":
                style = "lua-require"
            elif language == "dart":
                prefix = re.search(r"(?<![\w$.])([A-Za-z_$][\w$]*)\.$", before)
                if prefix and _dart_sees(dart_visible, prefix.group(1), target, name):
                    style = "dart-prefix"
                elif not before.rstrip().endswith((".", "?.")) and _dart_sees(dart_visible, "", target, name):
                    style = "dart-import"
            elif language == "perl":
                style = _perl_target(before, name, line[m.end():], packages, parents, objects, perl_imported)[0]
            elif language == "shellscript":
                if posixpath.basename(target) in sourced and not re.search(r"[$\w.-]$", before):
                    style = "shell-source"
            elif language == "php":
                prev = before.rstrip()
                if not prev.endswith(("\\", "->", "::", "?->", "$", "function")):  # a class, not a member
                    if name in imported:
                        style = "php-use"
                    elif namespace and posixpath.dirname(target) == folder \
                            and _php_namespace(files[target]) == namespace:
                        style = "php-namespace"
            elif language == "csharp":
                if not before.rstrip().endswith((".", "?.", "::")) and language_of(target) == "csharp":
                    declared = _csharp_namespace(files[target])
                    if declared in usings:
                        style = "cs-using"
                    elif declared in around:
                        style = "cs-namespace"
            elif language in _C_LANGS:
                prev = before.rstrip()
                used = not prev or prev[-1] in "(=,;!&|+-/?:{[<>~%^" or prev.endswith(("return", "case", "sizeof"))
                if used and not _C_STANDARD.fullmatch(name) and posixpath.basename(target) in includes \
                        and language_of(target) in _C_LANGS \
                        and target.endswith((".h", ".hpp", ".hh")) and not before.rstrip().endswith(("->", ".")):
                    style = "c-include"
            if style:
                out.append((Use(i, m.start(), name, style), target, target_line))
                seen_lines.add(i)
                break
    return out


_RUBY_QUALIFIER = re.compile(r"(?<![\w:])((?:::)?(?:[A-Z]\w*::)*)$")  # ``Rack::Utils::``, ``::Digest::``, ``::``
_RUBY_REQUIRE = re.compile(r"(?m)^[ \t]*require[ \t(]+[\"']([\w/.-]+)[\"']")
_RUBY_NESTING = re.compile(r"^([ \t]*)(?:class|module)[ \t]+((?:[A-Z]\w*::)*)([A-Z]\w*)")


def _ruby_finds(text: str, line: int, target_text: str, target_line: int, name: str, qualifier: str) -> bool:
    """Code on `line` of `text` naming ``qualifier + name`` means the definition on `target_line` of
    `target_text`. A bare name: Ruby looks a constant up in the modules around the code, innermost first, then
    at the top level (actionpack's ``String === x`` in ``ActionDispatch::Routing`` is Ruby's String, not
    ``ActionDispatch::Journey::Visitors::String``). A qualified one: the qualifier's modules are the innermost
    of those around the definition (``Abstract::`` of ``Rack::Session::Abstract``), all of them from the top
    for ``::A::`` (``::Digest::MD5`` is the standard library's, not ``Rack::Auth::Digest::MD5``; ``URI::Parser``
    not ``Rack::Multipart::Parser``). A top-level class or module is no definition where it reopens Ruby's
    (``class LoadError``) or one its file has just required (``require "rack"`` then ``module Rack``)."""
    target = _ruby_nesting(_lines(target_text), target_line)
    if not target:
        required = {f.rpartition("/")[2].replace("_", "").lower() for f in _RUBY_REQUIRE.findall(target_text)}
        return qualifier in ("", "::") and name not in _RUBY_CORE and name.lower() not in required
    if not qualifier:
        return _ruby_nesting(_lines(text), line)[:len(target)] == target
    wanted = [n for n in qualifier.split("::") if n]
    if qualifier.startswith("::"):
        return target == wanted
    return target[len(target) - len(wanted):] == wanted if len(wanted) <= len(target) else False


@lru_cache(maxsize=64)
def _lines(text: str) -> list[str]:
    return text.split("\n")


def _ruby_nesting(lines: Sequence[str], line: int) -> list[str]:
    """The modules around `line` (a ``class A::B`` line's own ``A`` among them), outermost first, by
    indentation."""
    own = _RUBY_NESTING.match(lines[line])
    nesting = own.group(2).split("::")[:-1] if own else []
    indent = len(lines[line]) - len(lines[line].lstrip())
    for k in range(line - 1, -1, -1):
        m = _RUBY_NESTING.match(lines[k])
        if m and len(m.group(1)) < indent:
            nesting = m.group(2).split("::")[:-1] + [m.group(3)] + nesting
            indent = len(m.group(1))
    return nesting


# Ruby's own classes and modules (core and the standard library's most reopened): a library's top-level
# ``class String`` adds methods to them (ActiveSupport's core_ext), it does not define them.
_RUBY_CORE = frozenset((
    "BasicObject Object Module Class Kernel Comparable Enumerable Enumerator String Symbol Numeric Integer Float "
    "Rational Complex BigDecimal Array Hash Range Regexp MatchData Proc Method UnboundMethod NilClass TrueClass "
    "FalseClass Time Date DateTime Struct IO File Dir Encoding Marshal Math Process Thread Mutex Queue ObjectSpace "
    "Pathname URI ERB Logger Set Exception StandardError ScriptError LoadError NotImplementedError NameError "
    "NoMethodError ArgumentError RuntimeError TypeError IndexError KeyError RangeError IOError EOFError "
    "SystemExit Interrupt SignalException SecurityError ZeroDivisionError FrozenError StopIteration "
    "Errno JSON YAML Digest Benchmark Delegator SimpleDelegator Forwardable Singleton").split())


def definition_index(files: Mapping[str, str]) -> dict[str, list[tuple[str, int]]]:
    """Name -> every (path, line) defining it, over the workspace's files of the known languages."""
    index: dict[str, list[tuple[str, int]]] = {}
    for path, text in files.items():
        language = language_of(path)
        if language is None or not is_library(path):  # a test's helpers are no library definition
            continue
        for name, line in definitions(text, language):
            held = index.setdefault(name, [])
            if (path, line) not in held and not any(p == path for p, _ in held):
                held.append((path, line))
    return index

"""The language registry: everything fim knows about a language, in one entry per LSP languageId.

An entry (`fim.languages.base.Language`) holds the language's import parser, module resolution,
definitions model, the files it sees without an import (a Go package's other files), and its
post-processing rules. `get` finds the entry for the editor's languageId, falling back to the
file's extension; adding a language is adding an entry to `ENTRIES`.

Go, Rust, TypeScript/TSX, JavaScript/JSX, Java, C and C++ parse with tree-sitter
(`fim.languages.treesitter`); Python with its own regular expressions and indentation model;
Kotlin, Scala, C#, Swift, Dart and PHP by brace depth (`fim.languages.brace`), C#'s namespaces and Dart's
exports from the files' texts (`fim.languages.csharp`, `fim.languages.dart`); Ruby and Lua by the keywords
that open and close their blocks (`fim.languages.ruby`, `fim.languages.lua`); shell's functions by brace
depth, with the scripts it sources (`fim.languages.shell`). Their post-processing rules count `end`, `fi`,
`done` and `esac` like braces (`fim.languages.keyword`). Perl by brace depth once its comments, literals, POD
and heredocs are blanked, with the modules it loads, inherits from and calls (`fim.languages.perl`).
`line_comment` says what starts a line comment (a notebook's markdown cells are written as comments).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import Optional

from fim.languages import brace, c, go, java, javascript, keyword, lua, perl, python, ruby, rust, shell
from fim.languages.base import DEFAULT_RULES, ImportRef, Language, PathIndex, Rules

__all__ = ["ENTRIES", "ImportRef", "Language", "PathIndex", "Rules", "get", "language_of", "for_path", "same_family",
           "line_comment"]

ENTRIES: tuple[Language, ...] = (
    python.LANGUAGE, go.LANGUAGE, rust.LANGUAGE, *javascript.LANGUAGES, java.LANGUAGE, *c.LANGUAGES,
    *brace.LANGUAGES, ruby.LANGUAGE, lua.LANGUAGE, shell.LANGUAGE, perl.LANGUAGE,
)

# Files with no entry of their own: a name for the similarity and secret rules.
_OTHER_EXTENSIONS = {
    ".fish": "shell",
    ".json": "json", ".jsonc": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".ini": "ini", ".cfg": "ini", ".conf": "ini", ".properties": "properties", ".env": "env",
    ".md": "markdown", ".rst": "rst", ".txt": "text", ".html": "html", ".htm": "html", ".css": "css",
    ".scss": "css", ".sql": "sql", ".xml": "xml", ".hs": "haskell",
}
_OTHER_NAMES = {"makefile": "make", "dockerfile": "dockerfile", "cmakelists.txt": "cmake", ".bashrc": "shell",
                ".zshrc": "shell", ".profile": "shell", ".env": "env"}

_BY_ID: dict[str, Language] = {}
_BY_EXTENSION: dict[str, Language] = {}
for _entry in ENTRIES:
    for _id in _entry.ids:
        _BY_ID.setdefault(_id, _entry)
    for _ext in _entry.extensions:
        _BY_EXTENSION.setdefault(_ext, _entry)
for _entry in ENTRIES:  # a family name ("typescript") finds its first entry too
    _BY_ID.setdefault(_entry.name, _entry)


def _extension(path: str) -> tuple[str, str]:
    name = posixpath.basename(path.replace("\\", "/")).lower()
    dot = name.rfind(".")
    return name, name[dot:] if dot >= 0 else ""


def for_path(path: str) -> Optional[Language]:
    """The entry for a file by its extension, or None."""
    return _BY_EXTENSION.get(_extension(path)[1])


def get(language_id: Optional[str] = None, path: Optional[str] = None) -> Optional[Language]:
    """The entry for an LSP languageId (or a family name), else for `path`'s extension, or None."""
    if language_id:
        entry = _BY_ID.get(language_id.lower())
        if entry is not None:
            return entry
    return for_path(path) if path else None


def language_of(path: str) -> str:
    """A language name from a file's path ("python", "typescript", "cpp", ...; "text" if unknown)."""
    entry = for_path(path)
    if entry is not None:
        return entry.name
    name, ext = _extension(path)
    if name in _OTHER_NAMES:
        return _OTHER_NAMES[name]
    if name.startswith(".env"):
        return "env"
    return _OTHER_EXTENSIONS.get(ext, "text")


def same_family(a: str, b: str) -> bool:
    """Languages whose files make useful context for each other (JS and TS, C and C++, the JVM's)."""
    if a == b:
        return True
    ea, eb = get(a), get(b)
    return ea is not None and eb is not None and ea.family == eb.family


# Languages with no entry whose comments start with `--`, which the language-blind rules do not know.
_DASH_COMMENTED = frozenset({"sql", "haskell", "elm", "ada", "vhdl"})
_DASH_RULES = replace(DEFAULT_RULES, line_comments=("--",), comment="--")


def rules(language_id: Optional[str] = None, path: Optional[str] = None) -> Rules:
    """The post-processing rules for a document (language-blind ones when the language is unknown)."""
    entry = get(language_id, path)
    if entry is not None:
        return entry.rules
    keyword_rules = keyword.rules_for(language_id, path)
    if keyword_rules is not None:
        return keyword_rules
    name = (language_id or "").lower() or (language_of(path) if path else "")
    return _DASH_RULES if name in _DASH_COMMENTED else DEFAULT_RULES


# Notebook kernels' languages with no entry and no rules of their own, by what starts their line comments.
_OTHER_LINE_COMMENTS = {"r": "#", "julia": "#", "powershell": "#", "elixir": "#", "nim": "#", "fsharp": "//"}


def line_comment(language_id: Optional[str]) -> Optional[str]:
    """What starts a comment to the line's end in a language (`#`, `//`, `--`), or None where unknown."""
    return rules(language_id).comment or _OTHER_LINE_COMMENTS.get((language_id or "").lower())

"""Shell (sh, Bash, zsh): the files a script sources (``. ./lib.sh``, ``source "$dir"/lib.sh``), found by
their path or, where a variable or an install path (``/lib/dracut-lib.sh``) stands before it, by the file's
name; and the scripts of the workspace defining the functions a script calls but neither defines nor sources
(a hook run by a script that sourced the library first, or a ``type f || . /lib/x.sh`` not yet typed), from
a table of the workspace's functions read from the texts in memory (`learn`). Definitions are functions
(``name() {``, ``function name``) by brace depth."""

from __future__ import annotations

import posixpath
import re

from typing import Mapping

from fim.languages.base import ImportRef, Language, PathIndex, file_facts, line_of
from fim.languages.brace import BraceFile
from fim.languages.keyword import SHELL_RULES, blank_heredocs

# ``. ./lib.sh``, ``source "$dir/lib.sh"``, ``. "$moddir"/setup.sh``, ``|| . /lib/dracut-lib.sh``, ``source -- x.sh``
_SOURCE = re.compile(r"(?m)(?:^[ \t]*|[;&|({][ \t]*|\b(?:then|do|else)[ \t]+)(\.|source)[ \t]+(?:--[ \t]+)?"
                     r"([^\s;&|)]+)")
_NAMES = re.compile(r"^[ \t]*(?:function[ \t]+([A-Za-z_][\w:.-]*)|([A-Za-z_][\w:.-]*)[ \t]*\([ \t]*\))")
# Comments (where a word starts), strings, escapes and the bodies of heredocs are blanked.
_STRIP = re.compile(r"(?m)(?:^|(?<=[\s;|&()]))#[^\n]*|\\.|\"(?:[^\"\\]|\\.)*\"?|'[^']*'?")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)-?[ \t]*([\"']?)([A-Za-z_]\w*)\1")


# A word where a command starts: a line's start, after ``;``, ``&&``, ``|``, ``$(``, a backquote, ``(``, ``{``
# (not ``${``), ``!`` or a keyword; inside double quotes too (``"$(getarg x)"``).
_COMMAND = re.compile(r"(?m)(?:^|[;&|(`]|(?<!\$)\{)"
                      r"(?:[ \t]*(?:!|(?:then|do|else|if|elif|while|until|time)(?![\w:.-])))*"
                      r"[ \t]*([A-Za-z_][\w:.-]*)(?![\w:.=-])")
_FUNCTION = re.compile(r"(?m)^[ \t]*(?:function[ \t]+([A-Za-z_][\w:.-]*)|([A-Za-z_][\w:.-]*)[ \t]*\([ \t]*\))")
_RESERVED = frozenset({"if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
                       "done", "in", "function", "time", "return", "exit", "local", "export", "break", "continue"})
CALLED = ""  # the module of the import standing for the functions a script calls without defining them
MAX_CALLED = 64  # names of one script looked up in the workspace's functions
MAX_DEFINERS = 4  # a function defined in more scripts (each plugin's ``install()``) names none of them
MAX_CALLED_FILES = 32
KEY = "shell-functions"
EXTENSIONS = (".sh", ".bash", ".zsh")


def imports(text: str) -> list[ImportRef]:
    """The files a script sources, in source order (quotes dropped, variables kept); then, as an import of
    `CALLED`, the commands it runs that it defines no function for (looked up in the workspace's)."""
    code = "\n".join(blank_heredocs(text.split("\n"), _HEREDOC))
    blank = _blank(code)
    refs = []
    for m in _SOURCE.finditer(code):
        if blank[m.start(1)] == " ":  # in a comment, a string or a heredoc
            continue
        target = m.group(2).replace('"', "").replace("'", "")
        refs.append(ImportRef(target, (), "shell", line_of(text, m.start(2))))
    # Comments blanked, strings kept: ``"$(getarg x)"`` runs getarg.
    commands = _STRIP.sub(lambda m: " " if m.group(0)[0] == "#" else m.group(0), code)
    own = defined(code)
    called = [n for n in dict.fromkeys(m.group(1) for m in _COMMAND.finditer(commands))
              if n not in own and n not in _RESERVED]
    if called:
        refs.append(ImportRef(CALLED, tuple(called[:MAX_CALLED]), "shell", 0))
    return refs


def defined(text: str) -> frozenset[str]:
    """The functions a script defines (by their definition lines)."""
    return frozenset(m.group(1) or m.group(2) for m in _FUNCTION.finditer(text))


def learn(index: PathIndex, files: Mapping[str, str]) -> None:
    """Read the functions of the workspace's scripts into `index` (`file_facts`: again for the scripts whose
    text changed): a table from each function's name to the scripts defining it."""
    changed = KEY not in index.derived
    by_path: dict[str, frozenset[str]] = {}
    for extension in EXTENSIONS:
        facts, new = file_facts(index, files, (KEY, extension), extension, defined)
        by_path.update(facts)
        changed = changed or new
    if changed:
        table: dict[str, list[str]] = {}
        for path in sorted(by_path):
            for name in by_path[path]:
                table.setdefault(name, []).append(path)
        index.derived[KEY] = table


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """A relative path from the script's folder, else from the workspace's top; else, where the path holds
    a variable or is absolute (an install path), the workspace file of that name nearest the script. For
    `CALLED`, the scripts defining the functions named (`learn`'s table)."""
    if ref.module == CALLED:
        return _defining(ref.names, current, index)
    target = ref.module
    if "$" not in target and not target.startswith("/"):
        for base in (posixpath.dirname(current), ""):
            path = posixpath.normpath(posixpath.join(base, target))
            if path in index.paths:
                return [path]
    name = target.rpartition("/")[2]
    if not name or "$" in name:
        return []
    here = posixpath.dirname(current)
    hits = index.by_name.get(name, ())
    return sorted(hits, key=lambda p: (-len(posixpath.commonpath([here, posixpath.dirname(p)])), p))[:1]


def _defining(names: tuple[str, ...], current: str, index: PathIndex) -> list[str]:
    """The scripts defining `names` (not those defined in more than `MAX_DEFINERS`), those sharing more
    folders with `current` first, at most `MAX_CALLED_FILES`."""
    table: dict[str, list[str]] = index.derived.get(KEY) or {}
    found: dict[str, None] = {}
    for name in names:
        paths = table.get(name, ())
        if len(paths) <= MAX_DEFINERS:
            found.update(dict.fromkeys(p for p in paths if p != current))
    here = posixpath.dirname(current)
    return sorted(found, key=lambda p: (-len(posixpath.commonpath([here, posixpath.dirname(p)])), p))[
        :MAX_CALLED_FILES]


class ShellFile(BraceFile):
    """A script's functions, by brace depth once comments, strings and heredocs are blanked."""

    container = re.compile(r"(?!)")  # no definition has members
    attached = ("# ", "#\t", "##")  # comments, not the ``#!`` line

    def __init__(self, text: str, lines: list[str]) -> None:
        super().__init__(text, lines, "shell")

    def _code(self, text: str) -> list[str]:
        return _blank("\n".join(blank_heredocs(text.split("\n"), _HEREDOC))).split("\n")

    def _names_at(self, i: int) -> list[str]:
        m = _NAMES.match(self.code[i])
        return [m.group(1) or m.group(2)] if m else []


def _blank(code: str) -> str:
    """`code` with comments, strings and escapes blanked (newlines kept)."""
    return _STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)


LANGUAGE = Language("shell", ("shellscript", "sh", "bash", "zsh"), (".sh", ".bash", ".zsh"), "shell",
                    imports=imports, resolve=resolve, model=lambda text, lines: ShellFile(text, lines),
                    rules=SHELL_RULES, learn=learn, imports_packages=True)

"""Shell (sh, Bash, zsh): the files a script sources (``. ./lib.sh``, ``source "$dir"/lib.sh``), found by
their path or, where a variable or an install path (``/lib/dracut-lib.sh``) stands before it, by the file's
name; definitions are functions (``name() {``, ``function name``) by brace depth."""

from __future__ import annotations

import posixpath
import re

from fim.languages.base import ImportRef, Language, PathIndex, line_of
from fim.languages.brace import BraceFile
from fim.languages.keyword import SHELL_RULES, blank_heredocs

# ``. ./lib.sh``, ``source "$dir/lib.sh"``, ``. "$moddir"/setup.sh``, ``|| . /lib/dracut-lib.sh``, ``source -- x.sh``
_SOURCE = re.compile(r"(?m)(?:^[ \t]*|[;&|({][ \t]*|\b(?:then|do|else)[ \t]+)(\.|source)[ \t]+(?:--[ \t]+)?"
                     r"([^\s;&|)]+)")
_NAMES = re.compile(r"^[ \t]*(?:function[ \t]+([A-Za-z_][\w:.-]*)|([A-Za-z_][\w:.-]*)[ \t]*\([ \t]*\))")
# Comments (where a word starts), strings, escapes and the bodies of heredocs are blanked.
_STRIP = re.compile(r"(?m)(?:^|(?<=[\s;|&()]))#[^\n]*|\\.|\"(?:[^\"\\]|\\.)*\"?|'[^']*'?")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)-?[ \t]*([\"']?)([A-Za-z_]\w*)\1")


def imports(text: str) -> list[ImportRef]:
    """The files a script sources, in source order (quotes dropped, variables kept)."""
    code = "\n".join(blank_heredocs(text.split("\n"), _HEREDOC))
    blank = _blank(code)
    refs = []
    for m in _SOURCE.finditer(code):
        if blank[m.start(1)] == " ":  # in a comment, a string or a heredoc
            continue
        target = m.group(2).replace('"', "").replace("'", "")
        refs.append(ImportRef(target, (), "shell", line_of(text, m.start(2))))
    return refs


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """A relative path from the script's folder, else from the workspace's top; else, where the path holds
    a variable or is absolute (an install path), the workspace file of that name nearest the script."""
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
                    rules=SHELL_RULES, imports_packages=True)

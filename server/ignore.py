"""gitignore and .deepfimignore rules, matched by pathspec's `GitIgnoreSpec` (git's wildmatch).

git consults many ignore files for one path: `core.excludesFile`, `.git/info/exclude`, and the
`.gitignore` of every folder from the top level down to the path's own folder, each pattern
relative to the folder of its file. The innermost file with a pattern that matches decides, and
inside one file the last matching pattern decides (so `!pattern` re-includes). A `.deepfimignore`
is read like a `.gitignore` of the same folder, after it (its patterns win).

A path inside an excluded folder stays excluded whatever a deeper file says; `chain_ignores`
answers for one path only, so a walker checks each folder on the way down (as
`server.workspace.WorkspaceIndex` does) and never enters an excluded one.

==========================================  =================================================
``parse_ignore_file(text)``                 the patterns of one file (invalid lines left out)
``IgnoreRules(base, patterns)``             the patterns in force in one folder;
                                            ``check(path, is_dir)``: True / False / None
``chain_ignores(chain, path, is_dir)``      the verdict of the innermost matching rules
``IgnoreFiles()``                           ignore files read once, re-read when changed:
                                            ``rules(dir)``, ``outer_chain(root)``, ``changed``
``global_excludes_file(top)``               git's ``core.excludesFile``
``git_dir(top)``                            where ``info/exclude`` is (``.git``, or a worktree's)
==========================================  =================================================
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Optional, Sequence

from pathspec import GitIgnoreSpec
from pathspec.pattern import Pattern

IGNORE_FILES = (".gitignore", ".deepfimignore")  # read in this order: the last matching pattern wins
MAX_IGNORE_FILE_BYTES = 1024 * 1024

Patterns = tuple[Pattern, ...]


def _git_line(line: str) -> str:
    """The line as pathspec should read it. git's ``dir/**`` matches what is inside ``dir``, never
    ``dir`` itself (``logs/**`` then ``!logs/keep.txt`` keeps that file), and ``dir/**/`` the
    folders inside it; pathspec's also match ``dir``, which a walker then skips whole. ``dir/**/*``
    and ``dir/**/*/`` name the same paths."""
    body = line.rstrip(" ")
    if body.endswith("/**") or body.endswith("/**/"):
        return body.removesuffix("/") + "/*" + ("/" if body.endswith("/") else "")
    return line


def _compile_line(line: str) -> list[Pattern]:
    try:
        return list(GitIgnoreSpec.from_lines([line]).patterns)
    except (ValueError, re.error):  # "!", a trailing backslash, a reversed range "[z-a]"
        return []


def parse_ignore_file(text: str) -> Patterns:
    """The patterns of one ignore file in order; blanks and comments are left out, and so is a line
    pathspec refuses (without losing the others). An unclosed "[" matches nothing, as in git, and
    a UTF-8 byte order mark before the first pattern is skipped, as git does."""
    lines = [_git_line(line) for line in text.removeprefix("\ufeff").splitlines()]
    try:
        patterns = list(GitIgnoreSpec.from_lines(lines).patterns)
    except (ValueError, re.error):  # one bad line fails them all: compile line by line
        patterns = [p for line in lines for p in _compile_line(line)]
    return tuple(p for p in patterns if p.include is not None)


_DIR_MARK = "ps_d"  # the group of pathspec's regular expressions that matches a folder's "/"


def _matches_itself(pattern: Pattern, target: str) -> bool:
    """Whether `pattern` matches the path `target` itself ("dir/" for a folder), as git matches one
    path. pathspec's regular expressions also match everything below a matching folder (their
    dir-mark "/" is then not the last character); a walker has judged those folders already, and
    counting such a match here let ``!/tools/`` re-include tools/build/ that ``build/`` ignores."""
    regex = getattr(pattern, "regex", None)
    if regex is None:
        return False
    marked = _DIR_MARK in regex.groupindex
    pos = 0
    while (m := regex.search(target, pos)) is not None:
        if not marked or m.end(_DIR_MARK) in (-1, len(target)):
            return True
        pos = m.start() + 1  # an unanchored one ("*/"): a later "/" may be the folder's own
    return False


class IgnoreRules:
    """The patterns in force in one folder (its .gitignore, then its .deepfimignore), each relative
    to that folder."""

    __slots__ = ("base", "patterns", "everything")

    def __init__(self, base: str, patterns: Sequence[Pattern], everything: bool = False) -> None:
        self.base = base
        self.patterns = tuple(patterns)
        self.everything = everything  # all of `base` is ignored, whatever a file inside says

    def check(self, path: str, is_dir: bool) -> Optional[bool]:
        """For the absolute `path`: True when the last pattern matching it ignores it, False when a
        negation re-includes it, None when no pattern matches (a file further out decides). As in
        git, a pattern matches the path itself, not a folder above it (the walk checks those)."""
        rel = os.path.relpath(path, self.base).replace(os.sep, "/")
        if rel in (".", "..") or rel.startswith("../"):
            return None
        if self.everything:
            return True
        # A trailing "/" names a folder: directory-only patterns ("build/") match only then.
        target = rel + "/" if is_dir else rel
        for pattern in reversed(self.patterns):
            if _matches_itself(pattern, target):
                return bool(pattern.include)
        return None

    def __len__(self) -> int:
        return len(self.patterns)

    def __repr__(self) -> str:
        return f"IgnoreRules({self.base!r}, {len(self)} patterns)"


# Rules in force in one folder, outermost first (git's global excludes and .git/info/exclude first).
Chain = tuple[IgnoreRules, ...]


def chain_ignores(chain: Chain, path: str, is_dir: bool) -> bool:
    """Whether the innermost rules of `chain` with a pattern matching `path` ignore it (or rules
    ignoring everything below their folder do)."""
    if any(rules.everything and rules.check(path, is_dir) for rules in chain):
        return True
    for rules in reversed(chain):
        verdict = rules.check(path, is_dir)
        if verdict is not None:
            return verdict
    return False


def global_excludes_file(top: Path) -> Path:
    """git's `core.excludesFile` for the repository at `top` (by default ~/.config/git/ignore)."""
    try:
        out = subprocess.run(["git", "-C", str(top), "config", "--path", "--get", "core.excludesFile"],
                             capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL)
        if out.returncode == 0 and out.stdout.strip():
            return top / out.stdout.strip()  # an absolute path replaces `top`
    except (OSError, subprocess.SubprocessError):  # no git: its default location
        pass
    return Path(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")) / "git" / "ignore"


def git_dir(top: Path) -> Path:
    """The folder holding the repository's ``info/exclude`` for the work tree at `top`: its ``.git``
    folder, or where a ``.git`` file points (a submodule's folder, a linked worktree's common one)."""
    dot = top / ".git"
    try:
        if not dot.is_file():
            return dot
        with open(dot, "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
    except OSError:
        return dot
    first = head.split("\n", 1)[0].strip()
    if not first.startswith("gitdir:"):
        return dot
    gitdir = top / first[len("gitdir:"):].strip()  # an absolute path replaces `top`
    try:
        with open(gitdir / "commondir", "rb") as f:
            common = f.read(4096).decode("utf-8", "replace").strip()
    except OSError:
        return gitdir
    return gitdir / common if common else gitdir


class IgnoreFiles:
    """The ignore files of a workspace, each read once and read again when it changes on disk.

    `changed` turns True when a file read before is found created, changed or deleted since; the
    owner refilters what it holds and sets it back to False. Not thread-safe: the owner locks.
    """

    def __init__(self) -> None:
        self.changed = False
        self._files: dict[str, tuple[Optional[tuple[int, int]], Patterns]] = {}
        self._folders: dict[str, tuple[tuple[Patterns, ...], Optional[IgnoreRules]]] = {}

    def patterns(self, path: str) -> Patterns:
        """The patterns of the ignore file at `path` (none when it is missing, not a regular file
        or over 1 MiB)."""
        try:
            st = os.stat(path)
        except OSError:
            st = None
        stamp = (st.st_mtime_ns, st.st_size) if st is not None and stat.S_ISREG(st.st_mode) \
            and st.st_size <= MAX_IGNORE_FILE_BYTES else None
        cached = self._files.get(path)
        if cached is not None:
            if cached[0] == stamp:
                return cached[1]
            self.changed = True
        patterns: Patterns = ()
        if stamp is not None:
            try:
                with open(path, "rb") as f:
                    patterns = parse_ignore_file(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        self._files[path] = (stamp, patterns)
        return patterns

    def rules(self, directory: str) -> Optional[IgnoreRules]:
        """The rules of `directory`'s own ignore files; None when it has none."""
        parts = tuple(self.patterns(os.path.join(directory, name)) for name in IGNORE_FILES)
        cached = self._folders.get(directory)
        if cached is not None and all(a is b for a, b in zip(cached[0], parts)):
            return cached[1]
        combined = tuple(p for part in parts for p in part)
        rules = IgnoreRules(directory, combined) if combined else None
        self._folders[directory] = (parts, rules)
        return rules

    def outer_chain(self, root: Path) -> Chain:
        """git's global excludes, .git/info/exclude and the .gitignore files above `root` up to its
        git top level (nothing when `root` is not in a git work tree); a rule ignoring everything
        last when `root` is inside a folder they ignore (git never looks inside one)."""
        top = next((d for d in (root, *root.parents) if (d / ".git").exists()), None)
        if top is None:
            return ()
        files = [(top, global_excludes_file(top)), (top, git_dir(top) / "info" / "exclude")]
        if top != root:  # lowest precedence first; `root`'s own files are `rules(root)`
            folder = top
            files.append((folder, folder / ".gitignore"))
            for part in root.relative_to(top).parts[:-1]:
                folder = folder / part
                files.append((folder, folder / ".gitignore"))
        chain = tuple(IgnoreRules(str(base), patterns) for base, path in files
                      if (patterns := self.patterns(str(path))))
        folder = top
        for part in root.relative_to(top).parts:
            folder = folder / part
            if chain_ignores(chain, str(folder), True):
                return chain + (IgnoreRules(str(root), (), everything=True),)
        return chain

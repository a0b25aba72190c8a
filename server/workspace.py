"""The workspace index: the text of the files that may serve as completion context.

`WorkspaceIndex(roots)` walks its roots a little at a time (`scan(limit_seconds)`, breadth first,
bounded in file count, file size and total size) and keeps `files: dict[relpath, text]` current
as the editor and the file system report changes. Past the file count (a large repository) the walk
goes on by name only: `snapshot()` holds those files too, read from disk when a prompt asks for one
(`WorkspaceFiles`), and the configuration files import resolution reads are always read. It honours
nested `.gitignore` files (with negations, `**`, anchoring and directory-only patterns; also
`.git/info/exclude` and the `.gitignore` files between the git top level and a root, and git's
global `core.excludesFile`) and `.deepfimignore` files in the same syntax, matched by
`server.ignore` (pathspec's GitIgnoreSpec), and it leaves out:

* vendored and build folders (node_modules, vendor, third_party, .git, .venv, venv, dist, build,
  __pycache__, target, ...);
* secret files (`fim.secrets.is_secret_path`), which are never even opened;
* binary files (a NUL byte), minified files (very long lines), generated files (a "generated" /
  "DO NOT EDIT" mark in the header), lock files and files over the size limit;
* anything reached through a symbolic link that resolves outside the roots (symlinked folders
  are never entered at all; symlinked files only when their target is inside a root).

Thread-safe: `scan` may run in a background thread while the LSP handlers call `update`.
`on_forget(relpath)` is called, outside the index's lock, each time a file leaves `files`: deleted,
newly ignored (by a changed ignore file too), secret, unreadable or unusable, or not found again by
a rescan; whoever keeps anything derived from a file (a ring of recent edits, cached completions)
drops it there.

How the LSP server should drive it:

=========================================  ===========================================
textDocument/didOpen, didChange, didSave   ``update(path, text)`` (editor text wins over disk)
textDocument/didClose                      ``close(path)`` (back to the file on disk)
workspace/didChangeWatchedFiles            created/changed: ``refresh(path)``; deleted: ``remove(path)``
                                           (a folder's path stands for all it holds)
idle time / background thread              ``scan(limit_seconds)`` until it returns True, then
                                           ``wait_for_work()`` and scan again (False: stop)
=========================================  ===========================================
"""

from __future__ import annotations

import functools
import logging
import os
import re
import stat
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, TypeVar, Union, cast
from urllib.parse import unquote, urlparse

from fim.languages.base import CONFIG_NAMES
from fim.secrets import is_secret_path
from server import textfile
from server.ignore import IGNORE_FILES, Chain, IgnoreFiles, chain_ignores

log = logging.getLogger(__name__)

PathLike = Union[str, Path]
Stamp = tuple[int, int]
F = TypeVar("F", bound=Callable[..., Any])

VENDORED_DIRS = frozenset({
    "node_modules", "vendor", "third_party", "third-party", "thirdparty", ".git", ".hg", ".svn", ".venv",
    "venv", ".env", "dist", "build", "__pycache__", "target", "site-packages", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache", ".gradle", ".idea", ".next", ".nuxt",
    "bower_components", ".terraform", ".eggs", "_build", ".direnv", ".yarn", ".pnpm-store", "coverage",
    "htmlcov", ".hypothesis",
})
SKIPPED_NAMES = frozenset({
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "Cargo.lock",
    "go.sum", "composer.lock", "Gemfile.lock", "uv.lock", "pdm.lock", "flake.lock", "bun.lockb",
    ".DS_Store", ".git",  # a worktree's or submodule's .git file
})
BINARY_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".svgz", ".tif", ".tiff", ".psd", ".pdf",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar", ".jar", ".war", ".whl", ".egg",
    ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".lib", ".obj", ".pyc", ".pyo", ".class", ".wasm",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".wav", ".ogg", ".flac", ".mov", ".avi",
    ".mkv", ".webm", ".gguf", ".ggml", ".bin", ".onnx", ".pt", ".pth", ".ckpt", ".safetensors", ".npy",
    ".npz", ".pkl", ".pickle", ".h5", ".parquet", ".arrow", ".sqlite", ".sqlite3", ".db", ".dat",
    ".min.js", ".min.css", ".map", ".lock",
)
KERNEL_DIRS = frozenset({"/proc", "/sys", "/dev", "/run"})
# A URI that names no file: its path is not the server's working directory's (a drive letter is one letter).
_OTHER_SCHEME = re.compile(r"(?!file:)[A-Za-z][A-Za-z0-9+.-]+:")
_GENERATED = re.compile(
    r"@generated|do not edit|auto-?generated|automatically generated|code generated by|generated by the",
    re.IGNORECASE)


# ------------------------------------------------------------------------------ the index

def _realpath(path: str) -> str:
    """os.path.realpath, or "" (outside every root) where a link cannot be read (/proc/N/exe)."""
    try:
        return os.path.realpath(path)
    except OSError:
        return ""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def looks_generated(text: str) -> bool:
    head = "\n".join(text[:3000].splitlines()[:12])
    return bool(_GENERATED.search(head))


def looks_minified(text: str, max_line_length: int) -> bool:
    if not text:
        return False
    lines = text.count("\n") + 1
    if len(text) > 3000 and len(text) / lines > 300:
        return True
    return max(map(len, text.splitlines()), default=0) > max_line_length  # checked every keystroke: no Python loop


def _reports_forgotten(method: F) -> F:
    """Call on_forget for what `method` (an entry point, never called under the lock) dropped."""
    @functools.wraps(method)
    def wrapper(self: WorkspaceIndex, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._report_forgotten()
    return cast(F, wrapper)


class WorkspaceIndex:
    """Text of the workspace's source files, kept current, scanned incrementally."""

    def __init__(self, roots: Sequence[PathLike], *, max_files: int = 5000, max_file_bytes: int = 256 * 1024,
                 max_total_bytes: int = 64 * 1024 * 1024, max_line_length: int = 4000,
                 max_recent: int = 200, max_unread: int = 200_000, unread_cache: int = 512,
                 on_forget: Optional[Callable[[str], None]] = None) -> None:
        self.roots: list[Path] = []
        for root in roots:
            real = _realpath(os.fspath(root))
            if real and os.path.isdir(real) and Path(real) not in self.roots \
                    and not any(_inside(real, kernel) for kernel in KERNEL_DIRS):
                self.roots.append(Path(real))
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.max_line_length = max_line_length
        self.max_recent = max_recent
        self.max_unread = max_unread
        self.files: dict[str, str] = {}
        # Past `max_files`: files known by name, read when asked (the latest `unread_cache` kept).
        self._unread: set[str] = set()
        self._keys: Optional[frozenset[str]] = None  # of `files` and the files known by name, as last given
        # Names the walk found since `_keys` was built: given out when the walk ends or they are as many
        # as `_keys` (a new set of names is a new path index: 50-200 ms with 200,000 names).
        self._new_names = 0
        self._unread_texts = _TextCache(unread_cache, UNREAD_CACHE_CHARS)
        # Known by name when the ignore rules changed, not walked again since: checked before being read.
        self._unverified: set[str] = set()
        self._served: set[str] = set()  # those whose text a snapshot gave out: on_forget when they go
        self._folders: dict[str, int] = {}  # folder -> how many names of `files` and `_unread` it holds
        self._stamps: dict[str, Stamp] = {}  # files read from disk: (mtime_ns, size) when read
        self._total = 0
        self._overlay: set[str] = set()  # paths whose text comes from the editor
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.RLock()
        self.on_forget = on_forget
        self._forgotten: list[str] = []  # dropped from `files`, not yet reported to on_forget
        self._ignore = IgnoreFiles()
        self._names = self._root_names()
        self._outer = {str(r): self._ignore.outer_chain(r) for r in self.roots}
        self._queue: deque = deque()
        self._seen: set[str] = set()
        self._scanned_files = 0
        self._complete = False
        self._work = threading.Event()  # set when there is walking to do (see `wait_for_work`)
        self._closed = False
        self.rescan()

    # ---------------------------------------------------------------- paths
    def _root_names(self) -> dict[str, str]:
        if len(self.roots) == 1:
            return {str(self.roots[0]): ""}
        names: dict[str, str] = {}
        used: set[str] = set()
        for root in self.roots:
            name = root.name or "root"
            candidate, k = name, 2
            while candidate in used:
                candidate, k = f"{name}~{k}", k + 1
            used.add(candidate)
            names[str(root)] = candidate
        return names

    def _root_of(self, abspath: str) -> Optional[str]:
        best = None
        for root in self._names:
            if _inside(abspath, root) and (best is None or len(root) > len(best)):
                best = root
        return best

    @staticmethod
    def _fs_path(path: PathLike) -> str:
        text = os.fspath(path)
        if isinstance(text, str) and text.startswith("file:"):
            text = unquote(urlparse(text).path)
        return os.path.abspath(text)

    def relpath(self, path: PathLike) -> Optional[str]:
        """The workspace-relative POSIX path of a file path or file:// URI; None outside the roots.

        A path that is inside a root only through a symbolic link pointing outside is outside, and so
        is a URI of another scheme (VS Code's `untitled:Untitled-1`: no file, wherever the server runs).
        """
        if isinstance(path, str) and _OTHER_SCHEME.match(path):
            return None
        abspath = self._fs_path(path)
        real = _realpath(abspath)
        root = self._root_of(real)
        if root is None:
            return None
        # Name it as the editor does when the lexical path is inside the same root.
        lexical = abspath if self._root_of(abspath) == root else real
        rel = os.path.relpath(lexical, root).replace(os.sep, "/")
        if rel == "." or rel.startswith("../"):
            return None
        prefix = self._names[root]
        return f"{prefix}/{rel}" if prefix else rel

    def abspath(self, relpath: str) -> Path:
        """The file-system path of a workspace-relative path."""
        if len(self.roots) == 1:
            return self.roots[0] / relpath
        head, _, rest = relpath.partition("/")
        for root, name in self._names.items():
            if name == head:
                return Path(root) / rest
        raise KeyError(relpath)

    # ---------------------------------------------------------------- ignore rules
    def _chain_for(self, directory: str, root: str) -> Optional[Chain]:
        """Rules in force inside `directory`; None when the directory itself is excluded."""
        chain: Chain = self._outer.get(root, ())
        rules = self._ignore.rules(root)
        if rules:
            chain += (rules,)
        if directory == root:
            return chain
        rel = os.path.relpath(directory, root)
        d = root
        for part in rel.split(os.sep):
            d = os.path.join(d, part)
            if self._skip_dir(part, d, chain):
                return None
            rules = self._ignore.rules(d)
            if rules:
                chain += (rules,)
        return chain

    def is_ignored(self, path: PathLike) -> bool:
        """True when `path` is outside the roots or excluded by any rule of this index; a symbolic
        link also when what it points to is (a link named `helper.py` to `.env` is a secret)."""
        abspath = self._fs_path(path)
        rel = self.relpath(path)
        if rel is None or is_secret_path(rel):
            return True
        real = _realpath(abspath)
        root = self._root_of(real)
        assert root is not None  # relpath found one
        if self._root_of(abspath) == root and self._excluded(abspath, root):
            return True  # the path the editor uses, judged like git does
        return self._excluded(real, root)

    def _excluded(self, path: str, root: str) -> bool:
        if is_secret_path(os.path.relpath(path, root)):
            return True
        name = os.path.basename(path)
        if name in SKIPPED_NAMES or name.lower().endswith(BINARY_SUFFIXES):
            return True
        with self._lock:
            chain = self._chain_for(os.path.dirname(path), root)
            return chain is None or chain_ignores(chain, path, os.path.isdir(path))

    # ---------------------------------------------------------------- scanning
    def rescan(self) -> None:
        """Start a fresh walk (after ignore files change); files not found again are dropped."""
        with self._lock:
            self._queue = deque()
            for root in self.roots:
                chain = self._chain_for(str(root), str(root))
                self._queue.append(("dir", str(root), str(root), chain or ()))
            self._seen = set()
            self._scanned_files = 0
            self._complete = False
        self._work.set()

    def wait_for_work(self, timeout: Optional[float] = None) -> bool:
        """For a background walker, once `scan` has returned True: block until there is walking to
        do again (a rescan after an ignore file changed, a folder created; after `timeout` seconds a
        walk that finds new files), True, or until the index is shut down, False."""
        asked = self._work.wait(timeout)
        if self._closed:
            return False
        if not asked:
            self.rescan()
        self._work.clear()  # before the walk: a request arriving during it sets it again
        return True

    def shutdown(self) -> None:
        """The index is no longer used: a walker waiting in `wait_for_work` returns False."""
        self._closed = True
        self._work.set()

    @property
    def complete(self) -> bool:
        """True once the current walk has finished."""
        return self._complete

    @_reports_forgotten
    def scan(self, limit_seconds: float = 0.05) -> bool:
        """Walk on for about `limit_seconds`; True when the walk is complete."""
        deadline = time.monotonic() + max(0.0, limit_seconds)
        if self._ignore.changed:
            self._ignore_rules_changed()
        while True:
            with self._lock:
                if not self._queue:
                    if not self._complete:
                        self._finish()
                    return True
                item = self._queue.popleft()
                if item[0] == "dir":
                    self._scan_dir(*item[1:])
            if item[0] == "file":
                self._scan_file(*item[1:])  # reads without the lock: the editor's events never wait on a disk
            if time.monotonic() >= deadline:
                return False

    def _finish(self) -> None:
        for rel in [r for r in self.files if r not in self._seen and r not in self._overlay]:
            self._drop(rel)
        for rel in [r for r in self._unread if r not in self._seen]:
            self._drop_unread(rel)
        self._unverified = set()
        self._complete = True

    def _scan_dir(self, directory: str, root: str, chain: Chain) -> None:
        rules = self._ignore.rules(directory) if directory != root else None
        if rules:
            chain = chain + (rules,)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        subdirs = []
        for entry in entries:
            path = entry.path
            try:
                if entry.is_symlink():
                    if entry.is_dir():  # never enter symlinked folders: loops and escapes
                        continue
                    is_dir = False
                else:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if not is_dir and not entry.is_file(follow_symlinks=False):
                        continue  # sockets, FIFOs, devices
            except OSError:
                continue
            if is_dir:
                if self._skip_dir(entry.name, path, chain):
                    continue
                subdirs.append(("dir", path, root, chain))
            else:
                if chain_ignores(chain, path, False):
                    continue
                self._queue.append(("file", path, root))
        self._queue.extend(subdirs)  # breadth first: a folder's files before deeper folders

    def _skip_dir(self, name: str, path: str, chain: Chain) -> bool:
        return (name in VENDORED_DIRS or path in self._names  # another root: walked on its own
                or path in KERNEL_DIRS  # a workspace at / must not read /proc or /dev
                or os.path.exists(os.path.join(path, "pyvenv.cfg"))  # a virtualenv by any name
                or chain_ignores(chain, path, True))

    def _scan_file(self, path: str, root: str) -> None:
        rel = self._rel_in(path, root)
        if rel is None or not self._name_ok(rel):
            return
        if self._scanned_files >= self.max_files and rel not in self.files \
                and rel.rpartition("/")[2] not in CONFIG_NAMES:  # resolution reads those: always read
            with self._lock:
                if rel in self.files:  # the editor opened it meanwhile: its text is kept
                    self._seen.add(rel)
                    return
                if rel in self._unread or len(self._unread) < self.max_unread:
                    if rel not in self._unread:
                        self._unread.add(rel)
                        self._name_added(rel)
                        self._new_names += 1
                    self._seen.add(rel)
                    self._unverified.discard(rel)
            return
        if rel in self.files and rel in self._stamps and not self.changed_on_disk(rel):  # walked again
            with self._lock:
                self._scanned_files += 1
                self._seen.add(rel)
            return
        read = None if rel in self._overlay else self._read(path)
        with self._lock:
            if rel in self._overlay:  # the editor's text wins, even when it arrived during the read
                self._seen.add(rel)
            elif read is not None:
                self._scanned_files += 1
                if self._store(rel, *read):
                    self._seen.add(rel)

    def _rel_in(self, path: str, root: str) -> Optional[str]:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        prefix = self._names.get(root, "")
        return f"{prefix}/{rel}" if prefix else rel

    def _name_ok(self, rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        return not (is_secret_path(rel) or name in SKIPPED_NAMES or name.lower().endswith(BINARY_SUFFIXES))

    def _read(self, path: str) -> Optional[tuple[str, Stamp]]:
        """The text of a regular file inside the roots and its stamp as read, or None (too big,
        binary, escaping, or a link to an excluded file)."""
        real = _realpath(path)
        if self._root_of(real) is None or real != path and self.is_ignored(real):
            return None
        try:
            st = os.stat(real)
            if not stat.S_ISREG(st.st_mode) or st.st_size > self.max_file_bytes:
                return None
            stamp = (st.st_mtime_ns, st.st_size)
            if st.st_size == 0:  # empty, or a kernel file that may block a reader for good (/proc/kmsg)
                return "", stamp
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK)
            with open(fd, "rb") as f:
                data = f.read(self.max_file_bytes + 1)
        except OSError:
            return None
        text = None if len(data) > self.max_file_bytes else textfile.decode(data)
        return None if text is None else (text, stamp)

    def _acceptable(self, text: str) -> bool:
        return (len(text) <= self.max_file_bytes and "\x00" not in text[:8192]
                and not looks_minified(text, self.max_line_length) and not looks_generated(text))

    def _store(self, rel: str, text: str, stamp: Optional[Stamp] = None) -> bool:
        """Keep `text` for `rel` (`stamp`: the file on disk it was read from; None for the editor's)."""
        if not self._acceptable(text):
            self._drop(rel)
            return False
        old = self.files.get(rel)
        if old is None and self._total + len(text) > self.max_total_bytes:
            return False
        self._total += len(text) - (len(old) if old is not None else 0)
        self.files[rel] = text
        if old is None:
            self._keys = None
            if rel not in self._unread:
                self._name_added(rel)
        if rel in self._unread:  # opened in the editor, or changed on disk: read from now on
            self._unread.discard(rel)
            self._unread_texts.drop(rel)
            self._served.discard(rel)
            self._keys = None
        if stamp is None:
            self._stamps.pop(rel, None)
        else:
            self._stamps[rel] = stamp
        return True

    def _name_added(self, rel: str) -> None:
        """`rel` became a name of `files` or `_unread` (under the lock): count it in its folders."""
        folder = rel.rpartition("/")[0]
        while folder:
            self._folders[folder] = self._folders.get(folder, 0) + 1
            folder = folder.rpartition("/")[0]

    def _name_removed(self, rel: str) -> None:
        """`rel` is no longer a name of `files` or `_unread` (under the lock)."""
        folder = rel.rpartition("/")[0]
        while folder:
            left = self._folders.get(folder, 0) - 1
            if left > 0:
                self._folders[folder] = left
            else:
                self._folders.pop(folder, None)
            folder = folder.rpartition("/")[0]

    def _drop_unread(self, rel: str) -> bool:
        """Forget `rel` known by name (under the lock); True when it was."""
        if rel not in self._unread:
            return False
        self._unread.discard(rel)
        self._unread_texts.drop(rel)
        self._keys = None
        if rel not in self.files:
            self._name_removed(rel)
        if rel in self._served:
            self._served.discard(rel)
            self._forgotten.append(rel)
        return True

    def _drop(self, rel: str) -> bool:
        """Forget the text of `rel` (under the lock), and its name; True when it was in `files` or
        known by name."""
        by_name = self._drop_unread(rel)
        old = self.files.pop(rel, None)
        self._stamps.pop(rel, None)
        if old is None:
            return by_name
        self._name_removed(rel)
        self._keys = None
        self._total -= len(old)
        if rel not in self._forgotten:
            self._forgotten.append(rel)
        return True

    def _report_forgotten(self) -> None:
        """Call on_forget for each file dropped since the last report; never under the lock."""
        with self._lock:
            gone, self._forgotten = self._forgotten, []
        if self.on_forget is None:
            return
        for rel in gone:
            try:
                self.on_forget(rel)
            except Exception:
                log.exception("on_forget(%r) failed", rel)

    # ---------------------------------------------------------------- editor and file-system events
    @_reports_forgotten
    def update(self, path: PathLike, text: str) -> Optional[str]:
        """The editor's text of a document (didOpen/didChange/didSave); returns its relpath, or None
        when the document is outside the roots or excluded (then nothing is kept)."""
        ignored = self.is_ignored(path)
        if self._ignore.changed:  # e.g. a .gitignore saved from the editor
            self._ignore_rules_changed()
        rel = self.relpath(path)
        if ignored:
            if rel is not None:
                self._forget(rel)
            return None
        assert rel is not None
        with self._lock:
            self._overlay.add(rel)
            self._touch(rel)
            if not self._store(rel, text):
                return None
        return rel

    def _touch(self, rel: str) -> None:
        self._recent[rel] = None
        self._recent.move_to_end(rel)
        while len(self._recent) > self.max_recent:
            self._recent.popitem(last=False)

    def close(self, path: PathLike) -> None:
        """The editor closed the document (didClose): its text is the file on disk again."""
        rel = self.relpath(path)
        if rel is None:
            return
        with self._lock:
            self._overlay.discard(rel)
        self.refresh(path)

    @_reports_forgotten
    def refresh(self, path: PathLike) -> Optional[str]:
        """A file was created or changed on disk: read it again (unless the editor holds it). A
        folder (created, or moved in: one event for all it holds) is walked by the next `scan`."""
        abspath = self._fs_path(path)
        rel = self.relpath(path)
        if rel is None:
            return None
        if os.path.basename(abspath) in IGNORE_FILES:
            self._ignore_rules_changed()
            return None
        if self.is_ignored(abspath):
            self._forget(rel)
            return None
        if os.path.isdir(abspath) and not os.path.islink(abspath):
            self._walk_folder(abspath)
            return None
        with self._lock:
            if rel in self._overlay:
                return rel
            if rel in self._unread and os.path.isfile(abspath):
                # known by name past `max_files`: read when a prompt asks, as it is on disk then (read
                # into `files` it would go when the text budget is spent, and swell `files` past the limit)
                self._unread_texts.drop(rel)
                return rel
        read = self._read(abspath)
        with self._lock:
            if rel in self._overlay:
                return rel
            if read is None or not self._store(rel, *read):
                self._drop(rel)
                return None
        return rel

    def _walk_folder(self, abspath: str) -> None:
        """Queue the folder `abspath` (inside a root, not excluded) for the walk."""
        root = self._root_of(abspath)
        if root is None or abspath == root:
            return
        with self._lock:
            chain = self._chain_for(os.path.dirname(abspath), root)
            if chain is None or self._skip_dir(os.path.basename(abspath), abspath, chain):
                return
            self._queue.append(("dir", abspath, root, chain))
        self._work.set()

    @_reports_forgotten
    def remove(self, path: PathLike) -> Optional[str]:
        """A file was deleted (or must be forgotten): drop its text, editor copy included; a folder,
        every file under it. Returns the relpath it dropped from `files`, or None."""
        rel = self.relpath(path)
        if rel is None:
            return None
        with self._lock:
            dropped = self._forget(rel)
            self._recent.pop(rel, None)
            if not dropped and rel in self._folders:  # a folder (one event for all it held)
                for inner in [r for r in (*self.files, *self._unread) if r.startswith(rel + "/")]:
                    dropped = self._forget(inner) or dropped
                    self._recent.pop(inner, None)
        if os.path.basename(self._fs_path(path)) in IGNORE_FILES:
            self._ignore_rules_changed()
        return rel if dropped else None

    def _forget(self, rel: str) -> bool:
        """Drop `rel` and its editor copy; True when it was in `files`."""
        with self._lock:
            self._overlay.discard(rel)
            return self._drop(rel)

    def _ignore_rules_changed(self) -> None:
        """Drop the texts the new rules exclude now (those read for a prompt too); rescan to pick up
        what they let in. The other names known past `max_files` stay until the walk finds them again
        or not (checking 200,000 here would hold the lock for seconds; dropping them all left prompts
        without them for the whole walk), and one is checked before a prompt reads it."""
        with self._lock:
            self._ignore.changed = False
            self._unverified = set(self._unread)
            folders: dict[str, Optional[Chain]] = {}
            for rel in [*self.files, *(r for r in self._served if r in self._unread)]:
                if self._ignored_now(rel, folders):
                    self._forget(rel)
            self.rescan()

    def _ignored_now(self, rel: str, folders: dict[str, Optional[Chain]]) -> bool:
        """`is_ignored` of a name of the index (under the lock), with the rules of each folder found
        once in `folders` (folder -> its chain, None where it is excluded; a folder reached through a
        link is judged file by file): checked one by one, the 5,000 files read held the lock for 2 s
        at each change of an ignore file."""
        try:
            path = str(self.abspath(rel))
        except KeyError:
            return True
        folder = os.path.dirname(path)
        root = self._root_of(path)
        if folder not in folders:
            if root is None or _realpath(folder) != folder:
                return self.is_ignored(path)  # a link on the way: judged as the editor's path and the real one
            folders[folder] = self._chain_for(folder, root)
        if os.path.islink(path):
            return self.is_ignored(path)
        chain = folders[folder]  # (secret, skipped and binary names never enter the index)
        return chain is None or chain_ignores(chain, path, os.path.isdir(path))

    def changed_on_disk(self, relpath: str) -> bool:
        """True when the file `relpath` was read from disk and has changed there since (written
        behind the editor's back, with no file-change event); False for the editor's documents."""
        with self._lock:
            stamp = self._stamps.get(relpath)
            if stamp is None or relpath in self._overlay:
                return False
        try:
            st = os.stat(self.abspath(relpath))
        except (OSError, KeyError):
            return True
        return (st.st_mtime_ns, st.st_size) != stamp

    # ---------------------------------------------------------------- reading
    def recent_paths(self, limit: Optional[int] = None) -> list[str]:
        """Recently viewed or edited paths that are in the index, most recent first."""
        with self._lock:
            out = [p for p in reversed(self._recent) if p in self.files]
        return out[:limit] if limit is not None else out

    def open_paths(self) -> list[str]:
        """Paths whose text comes from the editor, most recently used first."""
        with self._lock:
            recent = [p for p in reversed(self._recent) if p in self._overlay]
            return recent + sorted(p for p in self._overlay if p not in self._recent)

    def snapshot(self) -> WorkspaceFiles:
        """The files' texts, safe to use while a background scan goes on: a copy of `files`, and the
        files known by name past `max_files`, read when asked."""
        with self._lock:
            if self._keys is None or self._new_names and (self._complete or self._new_names >= len(self._keys)):
                self._keys = frozenset(self.files).union(self._unread)
                self._new_names = 0
            return WorkspaceFiles(dict(self.files), self._keys, self._unread_text)

    def _unread_text(self, rel: str) -> str:
        """The text of a file known by name as it is on disk now ("" where it is not usable)."""
        try:
            path = str(self.abspath(rel))
            st = os.stat(path)
        except (OSError, KeyError):
            return ""
        if rel in self._unverified and self.is_ignored(path):  # excluded by rules changed since the walk
            return ""
        with self._lock:
            kept = self._unread_texts.get(rel, (st.st_mtime_ns, st.st_size))
            if kept is not None:
                return kept
        read = self._read(path)
        text = read[0] if read is not None and self._acceptable(read[0]) else ""
        with self._lock:
            if rel not in self._unread:  # dropped, or read into `files`, meanwhile
                return self.files.get(rel, "")
            self._served.add(rel)
            if read is not None:
                self._unread_texts.put(rel, read[1], text)
        return text

    def __contains__(self, relpath: object) -> bool:
        return relpath in self.files

    def __len__(self) -> int:
        return len(self.files)


UNREAD_CACHE_CHARS = 32 << 20  # the texts of files known by name kept read, in characters


class _TextCache:
    """The latest texts read of files known by name, with the stamp of each read: at most `count`
    of them and `chars` characters (512 files of 256 KiB would be twice the index's own budget)."""

    def __init__(self, count: int, chars: int) -> None:
        self._items: OrderedDict[str, tuple[Stamp, str]] = OrderedDict()
        self._count = count
        self._chars = chars
        self._size = 0

    def get(self, rel: str, stamp: Stamp) -> Optional[str]:
        """The text kept for `rel` if it was read at `stamp`."""
        kept = self._items.get(rel)
        if kept is None or kept[0] != stamp:
            return None
        self._items.move_to_end(rel)
        return kept[1]

    def put(self, rel: str, stamp: Stamp, text: str) -> None:
        self.drop(rel)
        self._items[rel] = (stamp, text)
        self._size += len(text)
        while self._items and (len(self._items) > self._count or self._size > self._chars):
            self._size -= len(self._items.popitem(last=False)[1][1])

    def drop(self, rel: str) -> None:
        kept = self._items.pop(rel, None)
        if kept is not None:
            self._size -= len(kept[1])

    def __len__(self) -> int:
        return len(self._items)

    def chars(self) -> int:
        return self._size


class WorkspaceFiles(Mapping[str, str]):
    """A snapshot of the index: the texts the walk read, and the other files of `keys` read on access
    (`read(relpath)`, "" where a file is no longer usable). `keys()` is a frozenset, the same object
    while the index's file names do not change."""

    def __init__(self, texts: dict[str, str], keys: frozenset[str], read: Callable[[str], str]) -> None:
        self._texts = texts
        self._keys = keys
        self._read = read

    def __getitem__(self, relpath: str) -> str:
        text = self._texts.get(relpath)
        if text is not None:
            return text
        if relpath in self._keys:
            return self._read(relpath)
        raise KeyError(relpath)

    def __contains__(self, relpath: object) -> bool:
        return relpath in self._keys

    def keys(self) -> frozenset[str]:  # type: ignore[override]
        return self._keys

    def loaded(self) -> Mapping[str, str]:
        """The texts the walk read and the editor's, without the files known by name only (no disk read)."""
        return self._texts

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

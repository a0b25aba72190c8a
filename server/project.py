"""The project a completion draws on: the workspace folders, their index, and the recent-edit ring.

`Project.context(path, text, line)` is the one way a prompt gets repository context, for the
server, `deepfim complete` and the benchmarks. A file that leaves the index (deleted, renamed,
newly ignored or secret, its folder removed) leaves the ring at once, and the ring is checked
against the index on every use; the files a prompt's snippets come from are checked on disk
(still there, not newly ignored, not changed since read) before they are used, so nothing stale
reaches a prompt. The installed packages of each folder (its Python environment's site-packages,
its node_modules, Go and Composer vendor folders, Cargo's registry sources, Go's module cache, the gem
dirs, Dart's package roots, the C/C++ include folders and the dependency jars: `server.dependencies`)
are offered to the selection too, read on demand.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from fim.context import select_context
from fim.prompt import Snippet
from fim.similarity import RecentEdits
from server.completion import ContextProvider
from server.dependencies import InstalledFiles, find_environment, linked_workspace_file, site_packages
from server.workspace import PathLike, WorkspaceIndex

log = logging.getLogger(__name__)

POLL_S = 30.0  # without the client's file events, the folders are walked again this often (new files)
ENVIRONMENT_S = 30.0  # a folder's Python environment is looked for again this often (one created meanwhile)


class Project:
    """Workspace folders (any number, changing at run time), their file index and the ring."""

    def __init__(self, roots: Sequence[PathLike] = (), on_forget: Callable[[str], None] = lambda rel: None,
                 background: bool = True, dependencies: bool = True) -> None:
        """`dependencies`: offer the installed packages' files as context (False: the workspace's only)."""
        self.recent = RecentEdits()
        self.dependencies = dependencies
        self._installed: dict[Path, tuple[float, InstalledFiles]] = {}
        self._on_forget = on_forget
        self._background = background
        # Seconds between walks that find files created with no event (a client that does not watch
        # files: Neovim on Linux, git pull, generators); None where the client reports file changes.
        self.poll_seconds: Optional[float] = POLL_S
        self.index = self._new_index(roots)

    # ------------------------------------------------------------------ folders
    @property
    def roots(self) -> list[Path]:
        return list(self.index.roots)

    def set_roots(self, roots: Sequence[PathLike], documents: Iterable[tuple[str, str]] = ()) -> None:
        """Index a new set of workspace folders (one added or removed at run time); `documents` are
        the open (uri, text) pairs, whose editor text wins over the files on disk."""
        old = self.index
        self.index = self._new_index(roots)
        self._installed = {}
        old.shutdown()
        for uri, text in documents:
            self.index.update(uri, text)
        # Paths are named relative to the folders: with another set of folders every name changes.
        self.recent.clear()
        for rel in old.files:
            self._on_forget(rel)

    def _new_index(self, roots: Sequence[PathLike]) -> WorkspaceIndex:
        index = WorkspaceIndex(roots, on_forget=self._forget)
        if self._background:
            threading.Thread(target=_scan, args=(index, lambda: self.poll_seconds), name="deepfim-index",
                             daemon=True).start()
        return index

    def scan(self, limit_seconds: float) -> bool:
        """Scan in the foreground for up to `limit_seconds`; True when the walk is complete."""
        deadline = time.monotonic() + limit_seconds
        while not self.index.scan(limit_seconds=0.5):
            if time.monotonic() >= deadline:
                return False
        return True

    def _forget(self, rel: str) -> None:
        self.recent.forget(rel)
        self._on_forget(rel)

    # ---------------------------------------------------------------- documents
    def relpath(self, path: PathLike) -> Optional[str]:
        return self.index.relpath(path)

    def opened(self, path: PathLike, text: str) -> Optional[str]:
        """A document opened or saved in the editor (didOpen/didSave); also a view for the ring."""
        return self.index.update(path, text)

    def edited(self, path: PathLike, text: str, line: Optional[int]) -> Optional[str]:
        """A document changed in the editor; `line` is where, when the client said."""
        rel = self.index.update(path, text)
        if rel is not None and line is not None:
            self.recent.note_edit(rel, text, line)
        return rel

    def viewed(self, path: PathLike, text: str, line: int) -> None:
        """The user left a document (switched buffers) or saved it: remember the code around `line`."""
        rel = self.index.relpath(path)
        if rel is not None and rel in self.index:
            self.recent.note_view(rel, text, line)

    def closed(self, path: PathLike) -> None:
        self.index.close(path)

    def file_changed(self, path: PathLike) -> None:
        """Created or changed on disk (workspace/didChangeWatchedFiles)."""
        self.index.refresh(path)

    def file_deleted(self, path: PathLike) -> None:
        self.index.remove(path)

    # ------------------------------------------------------------------ context
    def context(self, path: PathLike, text: str, line: int, timings: Optional[list[float]] = None,
                language: Optional[str] = None, character: Optional[int] = None) -> Optional[ContextProvider]:
        """The repository context for a completion at `line` of the document `path` (None outside
        the workspace); `language` is the editor's languageId when it sent one, `character` the cursor's
        (UTF-16) on `line` where known. `timings` collects the milliseconds of each selection (benchmarks)."""
        index = self.index
        relative = index.relpath(path)
        if relative is None:
            return None
        recent = self.recent
        installed = self.installed(relative) if self.dependencies else None

        def provide(window: tuple[int, int], budget_chars: int) -> list[Snippet]:
            start = time.perf_counter()
            for _ in range(3):
                files = index.snapshot()
                recent.retain(lambda source: source in files)
                snippets = select_context(relative, text, line, files, index.open_paths(), recent, budget_chars,
                                          window, recent_paths=index.recent_paths(), language=language,
                                          installed=installed, cursor_character=character)
                gone = _gone(index, {s.source for s in snippets if s.source in files} - {relative})
                if not gone:
                    break
                snippets = [s for s in snippets if s.source not in gone]
            if timings is not None:
                timings.append((time.perf_counter() - start) * 1000)
            return snippets

        return provide

    def installed(self, relative: str) -> Optional[InstalledFiles]:
        """The installed packages of the workspace folder holding `relative` (its Python environment is
        looked for again every ENVIRONMENT_S seconds); None outside the folders."""
        index = self.index
        try:
            path = index.abspath(relative)
        except KeyError:
            return None
        root = next((r for r in sorted(index.roots, key=lambda r: -len(r.parts)) if r == path or r in path.parents),
                    None)
        if root is None:
            return None
        now = time.monotonic()
        held = self._installed.get(root)
        if held is not None and now - held[0] < ENVIRONMENT_S:
            return held[1]
        env = find_environment(root)
        site = site_packages(env) if env is not None else None
        files = held[1] if held is not None and held[1].site == site else InstalledFiles(
            site, index.abspath, index.max_file_bytes, linked_workspace_file(index, site))
        self._installed[root] = (now, files)
        return files


def _gone(index: WorkspaceIndex, sources: set[str]) -> set[str]:
    """Checked on use, for clients that do not report file changes: the snippet sources that were
    deleted, became ignored or were changed on disk since they were indexed. The first two are
    dropped from the index, a changed file is read again."""
    editing = set(index.open_paths())
    gone = set()
    for rel in sources - editing:
        try:
            path = index.abspath(rel)
        except KeyError:
            continue
        if not path.is_file() or index.is_ignored(path):
            index.remove(path)
            gone.add(rel)
        elif index.changed_on_disk(rel):
            index.refresh(path)
            gone.add(rel)
    return gone


def _scan(index: WorkspaceIndex, poll_seconds: Callable[[], Optional[float]]) -> None:
    """Walk the folders in slices, letting the model thread have the GIL between them; walk again
    each time the index asks (an ignore file changed) or every `poll_seconds()` (None: only when
    asked), until the index is closed."""
    try:
        while True:
            while not index.scan(limit_seconds=0.25):
                time.sleep(0.01)
            if not index.wait_for_work(poll_seconds()):
                return
    except Exception:
        log.exception("indexing the workspace failed")

"""Where a Rust path the workspace does not resolve is defined in Cargo's unpacked registry sources. Pure.

Cargo unpacks every crate a project uses into ``$CARGO_HOME/registry/src/<index>/<name>-<version>/``
(``index.crates.io-6f17d22bba15001f``, ``github.com-1ecc6299db9ec823``); the workspace's ``Cargo.lock`` fixes
the versions. The files come through `fim.dependencies`' `installed` mapping (never iterated), by the keys:

* ``cargo-registry/<index>/<name>-<version>/<path>``: ``$CARGO_HOME/registry/src/...``; ``cargo-registry/``
  (a folder key) lists the index folders (``<index>/``);
* ``cargo-git/<repo>-<hash>/<short rev>/<path>``: ``$CARGO_HOME/git/checkouts/...``, a ``git+URL#rev`` source's
  checkout (``cargo-git/`` lists the checkouts, one folder per repository: the hash is of Cargo's canonical URL;
  the crate is the checkout's root or the workspace member whose Cargo.toml names it);
* workspace-relative ``Cargo.lock``, ``Cargo.toml`` and ``.cargo/config.toml`` paths (the nearest above the
  file); where the config replaces crates.io by a ``directory`` source (``cargo vendor``), its
  ``vendor/<name>/`` (of the locked version) or ``vendor/<name>-<version>/`` come first;
* ``../<path>``: a ``path`` dependency's folder beside the workspace (``shared = { path = "../shared" }``).

`crate_definitions` maps ``use serde::de::Deserialize``, ``use tokio::sync::{Mutex, mpsc}`` or a path used
without a ``use`` (``serde_json::to_string(``, `qualified_paths`) to the crate's files defining the names:
the crate's root (``src/lib.rs``, else its Cargo.toml ``[lib] path``), the modules the path names
(``de.rs`` or ``de/mod.rs``), and ``pub use`` re-exports followed `FOLLOW_DEPTH` modules (``self::``,
``super::``, ``crate::``, a child module, another crate of the lock: ``pub use regex_syntax::hir``), at the
version the lock gives the crate that uses it (its ``dependencies`` entry; for the workspace, the crate
whose Cargo.toml is nearest the file, else any workspace member's), else the highest one locked. A renamed
dependency (``foo = { package = "bar", version = "0.7" }``, in the nearest Cargo.toml, the workspace's
``[workspace.dependencies]`` or a dependency crate's own) is crate bar, at a locked version its requirement allows.
`crate_names` lists what a crate or module offers (its file's ``pub`` items, ``pub use`` names and ``pub mod``
children), for the member being typed after its path (``serde_json::``, `fim.member`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Mapping, Optional

from fim.languages.base import ImportRef, nearest_file, uses
from fim.languages.rust import _use_paths
from fim.symbols import defined_names, defines

CARGO_REGISTRY = "cargo-registry/"
CARGO_GIT = "cargo-git/"  # ``$CARGO_HOME/git/checkouts``: ``<repo>-<16 hex>/<short rev>/``
CARGO_CONFIGS = (".cargo/config.toml", ".cargo/config")  # ``[source]`` replacements: ``cargo vendor``
MAX_MEMBERS = 64  # workspace members of a git checkout's Cargo.toml tried for a crate
FOLLOW_DEPTH = 4  # ``pub use`` hops a name is followed through (lib.rs -> sync/mod.rs -> sync/mutex.rs)
MAX_NAMES = 48
MAX_PATHS = 64  # paths used without a ``use`` (``serde_json::to_string``) looked up per document
NOT_CRATES = frozenset({"crate", "self", "super", "Self", "std", "core", "alloc", "proc_macro", "test"})
_PUB_USE = re.compile(r"\bpub(?:[ \t]*\([^)]*\))?[ \t\n]+use[ \t\n]+([^;]+);")
_PUBLIC_ITEM = re.compile(r"(?m)^([ \t]*)pub[ \t]+(?:(?:const|unsafe|async|extern(?:[ \t]+\"C\")?)[ \t]+)*"
                          r"(?:fn|struct|enum|trait|type|const|static|union|mod)[ \t]+([A-Za-z_]\w*)")
_IDENT_WORD = re.compile(r"[A-Za-z_]\w*")
_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CHECKOUT = re.compile(r"[0-9a-f]{16}\Z")  # the hash of a git checkout's folder name
_INLINE_DEPENDENCY = re.compile(r"(?m)^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*\{([^}\n]*)\}")
_DEPENDENCY_TABLE = re.compile(r"(?:[^\]]*\.)?(?:dev-|build-)?dependencies\.([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Locked:
    """One ``[[package]]`` of a Cargo.lock."""

    name: str
    version: str
    source: str  # "" for a workspace member (a path dependency)
    dependencies: tuple[str, ...]  # "name", "name version" or "name version (source)"


def crate_definitions(ref: ImportRef, current_path: str, document: str,
                      installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Registry file -> the names of the Rust import `ref` (of `document`, at `current_path`) it defines, in
    the order of `ref.names`; {} when the path's first segment is no crate of the nearest Cargo.lock."""
    walked = _walked(ref, current_path, installed)
    if walked is None:
        return {}
    crates, segments, entry, consumed = walked
    modules = set(segments[:1 + consumed])
    used = uses(document, [segments[-1]], r"[A-Za-z_]\w*", "::")[segments[-1]] if consumed == len(segments) - 1 else ()
    names = list(dict.fromkeys(segments[1 + consumed:] + [n for n in ref.names + used if n not in modules]))
    names = names[:MAX_NAMES]
    if not names:  # ``use tokio::sync;`` with nothing used yet: the module's head
        return {entry: []}
    found: dict[str, list[str]] = {}
    for name in names:
        # ``use memchr::{memchr, memmem}`` then ``memmem::Finder``: a child module, for the names used through it
        # (its ``pub mod memmem;`` line is no definition worth a snippet)
        child = crates.child(entry, name, public=True)
        members = uses(document, [name], r"[A-Za-z_]\w*", "::")[name][:MAX_NAMES] if child is not None else ()
        if members:
            hits = [hit for member in members for hit in crates.defining(child, member, FOLLOW_DEPTH)]
        else:
            hits = crates.defining(entry, name, FOLLOW_DEPTH)
        for path, defined in hits:
            held = found.setdefault(path, [])
            if defined not in held:
                held.append(defined)
    return found


def crate_names(ref: ImportRef, current_path: str, installed: Mapping[str, str]) -> list[str]:
    """The public names the crate or module `ref` imports offers (``serde_json::``): its items, ``pub use`` names
    and ``pub mod`` children, in the order they first occur in its file; [] where it is no locked crate."""
    walked = _walked(ref, current_path, installed)
    if walked is None or walked[3] != len(walked[1]) - 1:
        return []
    return list(_public_names(installed[walked[2]] if walked[2] in installed else ""))


@lru_cache(maxsize=64)
def _public_names(text: str) -> tuple[str, ...]:
    """The ``pub`` items, ``pub use`` names and ``pub mod`` children of a Rust file, in the order they first occur;
    an indented item only where the file defines it (`fim.symbols.defined_names`: in a ``cfg_rt! { }``), not an
    ``impl``'s or ``trait``'s ``pub fn`` (``hir::new``, ``hir::span``: 41 of regex-syntax's ``hir::`` 68 names)."""
    top = defined_names(text, "rust")
    public = {name for indent, name in _PUBLIC_ITEM.findall(text) if not indent or name in top}
    public |= {n for _, names, _ in _pub_uses(text) for n in names if n != "self"}
    return tuple(n for n in dict.fromkeys(_IDENT_WORD.findall(text)) if n in public)


def _walked(ref: ImportRef, current_path: str,
            installed: Mapping[str, str]) -> Optional[tuple["_Crates", list[str], str, int]]:
    """(the crates of the nearest Cargo.lock, `ref`'s path segments, the file of the module they lead to, how many
    segments past the crate's name that took), or None where the path's first segment is no crate."""
    segments = ref.module.removeprefix("::").split("::")  # ``use ::serde::Serialize`` (2015's extern paths)
    if not segments or segments[0] in NOT_CRATES or not all(_IDENT.match(s) for s in segments):
        return None
    lock = nearest_file(current_path, ("Cargo.lock",), installed)
    if lock is None:
        return None
    crates = _Crates(_parse_lock(installed[lock]), installed, _workspace_crate(current_path, installed),
                     _vendor_folder(current_path, installed))
    # ``foo = { package = "bar", version = "1" }``: ``use foo::x`` is crate bar (also as the workspace's
    # ``[workspace.dependencies]`` entry, beside the lock)
    manifests = [posixpath.join(posixpath.dirname(lock), "Cargo.toml"),
                 nearest_file(current_path, ("Cargo.toml",), installed)]
    renamed: dict[str, tuple[str, str]] = {}
    for manifest in dict.fromkeys(m for m in manifests if m is not None and m in installed):
        renamed.update(_renames(installed[manifest]))
    crate, requirement = renamed.get(segments[0], (segments[0], ""))
    root = crates.root(crate, None, requirement)
    if root is None:  # ``shared = { path = "../shared" }`` beside the workspace (one inside it is the workspace's)
        root = crates.path_root(segments[0], [m for m in manifests[::-1] if m is not None and m in installed])
    if root is None:
        return None
    entry, consumed = crates.walk(root, segments[1:], public=True)
    return crates, segments, entry, consumed


@lru_cache(maxsize=16)
def qualified_paths(document: str, refs: tuple[ImportRef, ...]) -> tuple[ImportRef, ...]:
    """The paths `document` uses without a ``use`` whose head may be a crate (``serde_json::to_string``:
    Rust 2018 names an extern crate anywhere), as imports of their last segment; heads that a ``use`` or
    ``mod`` of `refs` binds, ``crate``/``self``/``std``... and capitalized ones (types) left out."""
    # ``use serde::de::{self, Visitor}`` binds ``de``; a use statement's own paths are no uses
    bound = {n for r in refs for n in r.names} | {r.module.rpartition(":")[2] for r in refs}
    imported = {r.module for r in refs}
    out: dict[str, ImportRef] = {}
    for m in _QUALIFIED.finditer(document):
        head = m.group(1)
        at = m.start()
        inside = at > 2 and document[at - 2:at] == "::" and (document[at - 3].isalnum() or document[at - 3] in "_>")
        if head in NOT_CRATES or head in bound or inside:  # ``Foo::bar::x``: bar is no crate
            continue
        module = head + m.group(2)
        if module not in out and module not in imported and not any(i.startswith(module + "::") for i in imported):
            line = document.count("\n", 0, m.start())
            out[module] = ImportRef(module, (module.rpartition("::")[2],), "rust", line)
            if len(out) >= MAX_PATHS:
                break
    return tuple(out.values())


class _Crates:
    """The crates of one Cargo.lock in the registry folders of `installed`."""

    def __init__(self, lock: "_Lock", installed: Mapping[str, str], workspace: str, vendor: str = "") -> None:
        self.lock = lock
        self.installed = installed
        self.workspace = workspace
        self.vendor = vendor  # the workspace folder ``cargo vendor`` filled (.cargo/config.toml), or ""
        self.folders: dict[str, Locked] = {}  # crate folder (ending with ``/``) -> its lock entry, as found

    def root(self, crate: str, user: Optional[tuple[str, str]], requirement: str = "") -> Optional[str]:
        """The root file of the registry or git crate `crate` (``-`` as ``_``) at the version the lock gives
        `user` ((name, version) of such a crate; None: the workspace), one matching `requirement` (a renamed
        dependency's ``version``) first."""
        locked = [p for p in self.lock.by_crate.get(crate, ()) if p.source]
        if not locked:
            return None
        wanted = self._version(locked, user, requirement)
        # The locked version, else (not unpacked: another checkout's lock) the highest one that is.
        for package in sorted(locked, key=lambda p: (p.version == wanted, _version_key(p.version)), reverse=True):
            for folder in self._folders(package):
                hit = _lib_file(folder, self.installed)
                if hit is not None:
                    self.folders[folder] = package
                    return hit
        return None

    def path_root(self, name: str, manifests: list[str]) -> Optional[str]:
        """The root file of the ``path`` dependency `name` of the first of `manifests` naming one, where its folder
        lies above the workspace (``../shared/``); None for any other."""
        for manifest in manifests:
            package, _, path = manifest_dependencies(self.installed[manifest]).get(name, ("", "", ""))
            folder = posixpath.normpath(posixpath.join(posixpath.dirname(manifest), path)) + "/" if path else ""
            if not folder.startswith("../"):
                continue
            hit = _lib_file(folder, self.installed)
            locked = [p for p in self.lock.by_crate.get(package, ()) if not p.source]
            if hit is not None:
                self.folders[folder] = locked[0] if locked else Locked(package, "", "", ())
                return hit
        return None

    def _folders(self, package: Locked) -> Iterator[str]:
        """The folders that may hold `package`: ``cargo vendor``'s (``vendor/<name>/`` of that version, else
        ``vendor/<name>-<version>/``), then Cargo's git checkout of its revision or its registry sources."""
        if self.vendor:
            versioned = f"{self.vendor}/{package.name}-{package.version}/"
            plain = f"{self.vendor}/{package.name}/"
            manifest = self.installed[plain + "Cargo.toml"] if plain + "Cargo.toml" in self.installed else ""
            if _manifest_field(manifest, "package", "version") == package.version:
                yield plain
            yield versioned
        if package.source.startswith("git+"):
            yield from self._git_folders(package)
            return
        listing = self.installed[CARGO_REGISTRY] if CARGO_REGISTRY in self.installed else ""
        for index in (line for line in listing.split("\n") if line.endswith("/")):
            yield f"{CARGO_REGISTRY}{index}{package.name}-{package.version}/"

    def _git_folders(self, package: Locked) -> Iterator[str]:
        """The crate's folder in Cargo's checkouts of a ``git+URL#rev`` source: ``<repo>-<hash>/<short rev>/``
        (the checkouts folder listed for the repository's name: the hash is of Cargo's canonical URL), the
        crate found there by its Cargo.toml (a repository may hold a workspace of crates)."""
        url, _, rev = package.source[len("git+"):].partition("#")
        repo = url.split("?")[0].rstrip("/").rpartition("/")[2].lower().removesuffix(".git")
        if not repo or not re.fullmatch(r"[0-9a-f]{7,40}", rev):
            return
        listing = self.installed[CARGO_GIT] if CARGO_GIT in self.installed else ""
        for entry in listing.split("\n"):
            stem = entry[:-1]
            if not entry.endswith("/") or not stem.lower().startswith(repo + "-") or \
                    not _CHECKOUT.match(stem[len(repo) + 1:]):
                continue
            checkout = CARGO_GIT + entry
            if f"{checkout}{rev[:7]}/" in self.installed:
                revisions = [rev[:7]]
            else:  # a longer abbreviation where 7 digits were ambiguous
                names = self.installed[checkout].split("\n") if checkout in self.installed else []
                revisions = [n[:-1] for n in names if n.endswith("/") and len(n) > 7 and rev.startswith(n[:-1])]
            for revision in revisions:
                folder = _member_folder(f"{checkout}{revision}/", package.name, self.installed)
                if folder is not None:
                    yield folder

    def _version(self, locked: list[Locked], user: Optional[tuple[str, str]], requirement: str = "") -> str:
        """The version of `locked` (one crate's entries) that `user`'s dependencies name (one that matches
        `requirement` first), else the highest."""
        if user is not None:
            users = [p for p in self.lock.by_crate.get(user[0].replace("-", "_"), ()) if p.version == user[1]]
        else:
            members = self.lock.members
            users = [p for p in members if p.name == self.workspace] or list(members)
        versions = {p.version for p in locked}
        named = []
        for package in users:
            for entry in package.dependencies:
                parts = entry.split()
                if parts[:1] == [locked[0].name] and len(parts) > 1 and parts[1] in versions:
                    named.append(parts[1])
                elif parts[:1] == [locked[0].name] and len(versions) == 1:  # "serde": the one locked
                    named.append(locked[0].version)
        candidates = named or versions
        if requirement:
            candidates = [v for v in candidates if _compatible(requirement, v)] or candidates
        return max(candidates, key=_version_key)

    def walk(self, root: str, segments: list[str], public: bool = False) -> tuple[str, int]:
        """The module file `segments` lead to from `root` (each a child module while one exists: a ``pub mod``
        one where `public`, seen from outside the crate), and how many segments were modules."""
        path, n = root, 0
        for segment in segments:
            child = self.child(path, segment, public)
            if child is None:
                break
            path, n = child, n + 1
        return path, n

    def child(self, path: str, name: str, public: bool = False) -> Optional[str]:
        """The file of the child module `name` of the module in `path` (``name.rs``, ``name/mod.rs``); where
        `public`, only one the module declares ``pub mod name;`` (``mod spawn; pub use spawn::spawn``: the
        function)."""
        if public and not _public_module(self.installed[path] if path in self.installed else "", name):
            return None
        folder = self._crate_folder(path)
        base = posixpath.dirname(path) if path == _lib_file(folder, self.installed) else _module_dir(path)
        return next((p for p in (f"{base}/{name}.rs", f"{base}/{name}/mod.rs") if p in self.installed), None)

    def defining(self, path: str, name: str, depth: int) -> list[tuple[str, str]]:
        """[(file, name)] where the registry file `path` defines `name`, or the module its ``pub use`` of
        `name` (or of everything, ``pub use self::x::*``) leads to, `depth` hops deep."""
        text = self.installed[path] if path in self.installed else ""
        if not text:
            return []
        if defines(text, "rust", name) and not _module_only(text, name):
            return [(path, name)]
        if depth <= 0:
            return []
        stars = []
        for module, names, star in _pub_uses(text):
            if star:
                stars.append(module)
                continue
            if name not in names:
                continue
            segments = module.split("::")
            if segments[-1] == name and names == (name,):
                segments = segments[:-1]
            target = self._use_target(path, segments)
            if target is not None and target != path:
                found = self.defining(target, name, depth - 1)
                if found:
                    return found
        for module in stars:
            target = self._use_target(path, module.split("::"))
            if target is not None and target != path:
                found = self.defining(target, name, depth - 1)
                if found:
                    return found
        return []

    def _use_target(self, path: str, segments: list[str]) -> Optional[str]:
        """The module file a ``use`` path of the registry file `path` names (its items' segments left off)."""
        if not segments or not segments[0]:
            return None
        head, rest = segments[0], segments[1:]
        crate_folder = self._crate_folder(path)  # cargo-registry/<index>/<name>-<version>/
        if head == "crate":
            start = _lib_file(crate_folder, self.installed)
        elif head == "self":
            start = path
        elif head == "super":
            start = self._parent(path)
            while rest and rest[0] == "super" and start is not None:
                start, rest = self._parent(start), rest[1:]
        else:
            start = self.child(path, head)
            if start is None:
                package = self.folders.get(crate_folder)
                manifest = crate_folder + "Cargo.toml"
                crate, requirement = _renames(self.installed[manifest]).get(head, (head, "")) \
                    if manifest in self.installed else (head, "")
                start = self.root(crate, (package.name, package.version), requirement) if package else None
        if start is None:
            return None
        return self.walk(start, rest)[0]

    def _crate_folder(self, path: str) -> str:
        """The folder of the crate holding the file `path` (``cargo-registry/<index>/<name>-<version>/``)."""
        held = [f for f in self.folders if path.startswith(f)]
        return max(held, key=len) if held else "/".join(path.split("/")[:3]) + "/"

    def _parent(self, path: str) -> Optional[str]:
        folder = posixpath.dirname(_module_dir(path))
        return next((p for p in (folder + ".rs", folder + "/mod.rs", folder + "/lib.rs") if p in self.installed), None)


@lru_cache(maxsize=1024)
def _module_only(text: str, name: str) -> bool:
    """Whether `text` declares ``mod name;`` and no item of that name (memchr's lib.rs: ``mod memchr;``, then
    ``pub use crate::memchr::memchr``)."""
    word = re.escape(name)
    return re.search(r"(?m)^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?mod[ \t]+%s[ \t]*;" % word, text) is not None and \
        re.search(r"\b(?:fn|struct|enum|trait|type|const|static|union|macro_rules!)[ \t]+%s\b" % word, text) is None


@lru_cache(maxsize=1024)
def _public_module(text: str, name: str) -> bool:
    """Whether `text` declares ``pub mod name;`` (in a macro too: ``cfg_rt! { pub mod runtime; }``)."""
    return re.search(r"\bpub[ \t]+mod[ \t]+%s[ \t]*;" % re.escape(name), text) is not None


def _module_dir(path: str) -> str:
    """The folder holding the child modules of the module in `path`."""
    folder, _, name = path.rpartition("/")
    return folder if name in ("lib.rs", "main.rs", "mod.rs") else path[:-3]


def _lib_file(folder: str, installed: Mapping[str, str]) -> Optional[str]:
    """A registry crate folder's library root: its Cargo.toml ``[lib] path``, else ``src/lib.rs``."""
    manifest = folder + "Cargo.toml"
    path = _manifest_field(installed[manifest], "lib", "path") if manifest in installed else ""
    candidates = [posixpath.normpath(folder + path)] if path else []
    candidates.append(folder + "src/lib.rs")
    return next((c for c in candidates if c.startswith(folder) and c.endswith(".rs") and c in installed), None)


def _workspace_crate(current_path: str, installed: Mapping[str, str]) -> str:
    """The ``[package] name`` of the Cargo.toml nearest `current_path`, or ""."""
    manifest = nearest_file(current_path, ("Cargo.toml",), installed)
    return _manifest_field(installed[manifest], "package", "name") if manifest else ""


@lru_cache(maxsize=256)
def _manifest_field(text: str, table: str, key: str) -> str:
    """A Cargo.toml's ``[table] key = "value"`` (``[lib] path``, ``[package] name``), or ""."""
    m = re.search(r"(?ms)^\[%s\][ \t]*(?:#[^\n]*)?$(.*?)(?=^[ \t]*\[|\Z)" % re.escape(table), text)
    value = re.search(r"(?m)^[ \t]*%s[ \t]*=[ \t]*\"([^\"]+)\"" % re.escape(key), m.group(1)) if m else None
    return value.group(1) if value else ""


@lru_cache(maxsize=64)
def manifest_dependencies(text: str) -> dict[str, tuple[str, str, str]]:
    """A Cargo.toml's dependencies given as tables: the name its code uses (``-`` as ``_``) -> (the crate's
    name, ``-`` as ``_``: its ``package`` if renamed; the ``version`` requirement or ""; the ``path`` or ""), from
    ``foo = { package = "bar", version = "1" }`` and ``[dependencies.foo]`` tables."""
    entries = [(m.group(1), m.group(2)) for m in _INLINE_DEPENDENCY.finditer(text)]
    for section in re.split(r"(?m)^[ \t]*\[", text)[1:]:
        header, _, body = section.partition("]")
        m = _DEPENDENCY_TABLE.fullmatch(header.strip())
        if m:
            entries.append((m.group(1), re.split(r"(?m)^[ \t]*\[", body)[0]))
    out = {}
    for name, body in entries:
        fields = dict(re.findall(r"(?:^|[,{\s])(package|version|path)[ \t]*=[ \t]*\"([^\"]+)\"", body))
        out[name.replace("-", "_")] = (fields.get("package", name).replace("-", "_"), fields.get("version", ""),
                                       fields.get("path", ""))
    return out


def _renames(text: str) -> dict[str, tuple[str, str]]:
    """A Cargo.toml's renamed dependencies: the name its code uses -> (the crate's name, the version requirement)."""
    return {name: (package, version) for name, (package, version, _) in manifest_dependencies(text).items()
            if package != name}


def _compatible(requirement: str, version: str) -> bool:
    """Whether `version` meets a Cargo requirement's first bound as a caret one (``0.7`` -> 0.7.x, ``1`` -> 1.x)."""
    wanted = re.match(r"[\^~=>< ]*(\d+(?:\.\d+)*)", requirement)
    if not wanted:
        return True
    want = [int(p) for p in wanted.group(1).split(".")]
    have = _version_key(version)[0]
    significant = next((i for i, p in enumerate(want) if p), len(want) - 1) + 1  # up to the first non-zero part
    return list(have[:significant]) == want[:significant]


def _member_folder(root: str, name: str, installed: Mapping[str, str]) -> Optional[str]:
    """The folder of the crate `name` in the checkout `root`: the root itself, else the workspace member
    (``members = ["crates/*"]``: ``crates/<name>``) whose Cargo.toml names it; each candidate one stat."""
    manifest = installed[root + "Cargo.toml"] if root + "Cargo.toml" in installed else ""
    if _manifest_field(manifest, "package", "name") == name:
        return root
    members = re.search(r"(?ms)^\[workspace\][ \t]*$.*?^[ \t]*members[ \t]*=[ \t]*\[(.*?)\]", manifest)
    patterns = re.findall(r"\"([^\"]+)\"", members.group(1))[:MAX_MEMBERS] if members else []
    spellings = list(dict.fromkeys((name, name.replace("_", "-"), name.replace("-", "_"))))
    candidates = [c for p in patterns for c in ([p.replace("*", s) for s in spellings] if "*" in p else [p])]
    for candidate in dict.fromkeys(candidates + spellings + [f"crates/{s}" for s in spellings]):
        folder = posixpath.normpath(root + candidate.strip("/")) + "/"
        manifest = folder + "Cargo.toml"
        if folder.startswith(root) and not set("*?[") & set(candidate) and manifest in installed and \
                _manifest_field(installed[manifest], "package", "name") == name:
            return folder
    return None


def _vendor_folder(current_path: str, installed: Mapping[str, str]) -> str:
    """The workspace folder that the nearest ``.cargo/config.toml`` (or ``.cargo/config``) above `current_path`
    replaces crates.io with (``[source.crates-io] replace-with = "vendored-sources"``, ``[source.vendored-sources]
    directory = "vendor"``: what ``cargo vendor`` prints), or ""."""
    folder = posixpath.dirname(current_path)
    while True:
        for name in CARGO_CONFIGS:
            path = posixpath.join(folder, name) if folder else name
            directory = _source_directory(installed[path]) if path in installed else ""
            target = posixpath.normpath(posixpath.join(folder, directory)) if directory else ""
            if target and not target.startswith(("../", "/")) and target not in (".", ".."):
                return target
        if not folder:
            return ""
        folder = posixpath.dirname(folder)


@lru_cache(maxsize=16)
def _source_directory(text: str) -> str:
    """The ``directory`` of the source a Cargo config replaces crates.io with (through ``replace-with`` chains)."""
    sources: dict[str, dict[str, str]] = {}
    for section in re.split(r"(?m)^[ \t]*\[", text)[1:]:
        header, _, body = section.partition("]")
        m = re.fullmatch(r"source\.(?:\"([^\"]+)\"|([A-Za-z0-9_-]+))", header.strip())
        if m:
            fields = re.findall(r"(?m)^[ \t]*(replace-with|directory)[ \t]*=[ \t]*\"([^\"]*)\"", body)
            sources[m.group(1) or m.group(2)] = dict(fields)
    name = "crates-io"
    for _ in range(4):
        source = sources.get(name, {})
        if source.get("directory"):
            return source["directory"]
        name = source.get("replace-with", "")
    return ""


@dataclass(frozen=True)
class _Lock:
    """A Cargo.lock's packages, by crate name (``-`` as ``_``), and the workspace's own (no source)."""

    packages: tuple[Locked, ...]
    by_crate: dict[str, tuple[Locked, ...]]
    members: tuple[Locked, ...]


@lru_cache(maxsize=8)
def _parse_lock(text: str) -> _Lock:
    """The ``[[package]]`` entries of a Cargo.lock (any of its formats)."""
    out = []
    for block in re.split(r"(?m)^\[\[package\]\][ \t]*$", text)[1:]:
        block = re.split(r"(?m)^\[", block, maxsplit=1)[0]
        fields = dict(re.findall(r"(?m)^(name|version|source)[ \t]*=[ \t]*\"([^\"]*)\"", block))
        deps = re.search(r"(?ms)^dependencies[ \t]*=[ \t]*\[(.*?)\]", block)
        if "name" in fields and "version" in fields:
            out.append(Locked(fields["name"], fields["version"], fields.get("source", ""),
                              tuple(re.findall(r"\"([^\"]+)\"", deps.group(1))) if deps else ()))
    by_crate: dict[str, tuple[Locked, ...]] = {}
    for package in out:
        key = package.name.replace("-", "_")
        by_crate[key] = by_crate.get(key, ()) + (package,)
    return _Lock(tuple(out), by_crate, tuple(p for p in out if not p.source))


@lru_cache(maxsize=64)
def _pub_uses(text: str) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    """(module path, names, star) of every ``pub use`` of a file, inside macros too (``cfg_sync! { ... }``)."""
    return tuple(t for m in _PUB_USE.finditer(text) for t in _use_paths(m.group(1)) if t[0])


def _version_key(version: str) -> tuple:
    """Semantic-version order: ``1.0.210`` > ``1.0.99`` > ``1.0.0-rc.1``."""
    core, _, pre = version.partition("+")[0].partition("-")
    return tuple(int(p) if p.isdigit() else 0 for p in core.split(".")), pre == "", pre

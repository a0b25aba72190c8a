"""The project's installed dependencies as completion context: the files `fim.dependencies` asks for, read on demand.

`find_environment(root)` finds a workspace root's Python environment: a virtual environment folder in the root
(``.venv``, ``venv``, ``env``, then any folder holding ``pyvenv.cfg``, or ``conda-meta`` for a conda environment),
else the ``VIRTUAL_ENV`` or ``CONDA_PREFIX`` the server was started with, unless that is deepfim's own (the
environment in deepfim's checkout, as the README installs it: its packages are deepfim's dependencies, not the
project's); `site_packages(env)` its ``lib/python3.*/site-packages`` (``Lib/site-packages`` on Windows).
`InstalledFiles` is the mapping `fim.context.select_context` takes as ``installed``: its keys are
``site-packages/<path>`` (that folder), ``cargo-registry/<path>`` (Cargo's unpacked crates,
``$CARGO_HOME/registry/src``; `find_cargo_home`: ``CARGO_HOME``, else ``~/.cargo``), ``go-modules/<path>`` (Go's
module cache; `find_go_module_cache`: ``GOMODCACHE``, else ``$GOPATH/pkg/mod``, else ``~/go/pkg/mod``),
``c-include/<k>/<path>`` (the k-th C/C++ include folder: the absolute ``-I``/``-isystem``... folders of the
workspace's ``compile_commands.json`` or ``build/compile_commands.json`` (a single-folder workspace's), then
`find_include_folders`' (``CPATH``, ``C_INCLUDE_PATH``, ``CPLUS_INCLUDE_PATH``, ``/usr/local/include``,
``/usr/include/<triplet>``, ``/usr/include``, Homebrew's), those that exist; a header that lies in the workspace is
read only where its ignore rules keep it), ``pub-packages/<folder>/<name>/<path>`` (a Dart package's ``.dart`` file,
only inside the root the package_config.json of that workspace folder gives the package: `fim.pubpackages`; no cache
folder to find, the config names the roots), ``ruby-gems/<i>/<path>`` (the i-th of the gem dirs `find_gem_dirs`
found: GEM_HOME, GEM_PATH, the user's, the rubies', the system's), ``lua-path/<k>/<path>`` (the k-th folder Lua
modules are searched in, `find_lua_folders`: LUA_PATH's, LuaRocks', the system's, each Neovim plugin's ``lua/``),
workspace-relative paths inside a
``node_modules`` or ``vendor`` folder (Composer's too: a ``vendor-dir`` must have a folder named ``vendor`` in its
path) or a bundle path (``ruby/<api>/gems``, ``specifications``) and the workspace's ``Cargo.lock``, ``Cargo.toml``,
``go.mod``, ``composer.json``, ``.dart_tool/package_config.json``, ``Gemfile.lock``, ``gems.locked`` and
``.bundle/config`` files (a key ending with ``/``: that folder's file names, then its folders' as ``name/``: one
listing of a Go package, of Cargo's registry indexes, of a gem dir's ``gems/`` where no Gemfile.lock names the
versions). Nothing is walked: ``key in files`` is one stat, ``files[key]`` one read, size-capped and checked as the
workspace's files are (a Cargo.lock, Composer's ``installed.json`` and ``autoload_classmap.php`` up to 4 MB, a
``.d.ts`` up to 2 MB: typescript.d.ts is 580 KB; no NUL byte, no line of minified code), kept by stamp (mtime,
size, inode, ctime: npm gives every file the same mtime);
secret-looking paths are never opened, nor a file whose links lead back into the workspace outside its
installed-package folders (a linked workspace package, ``npm``/``yarn`` workspaces, ``flit install --symlink``; a
Dart path dependency inside the workspace) where the workspace's ignore rules exclude it. Also ``cargo-git/<path>``:
Cargo's git checkouts (``$CARGO_HOME/git/checkouts``, its folder listed as the registry's), and
``.cargo/config.toml`` (``.cargo/config``) read as the manifests are (``cargo vendor``'s source replacement), and
``go.work``; a key starting ``../`` names a folder, a ``.go`` or ``.rs`` file, a go.mod or Cargo.toml beside the
workspace (go.work's ``use ../lib``, ``replace => ../lib``, Cargo's ``path = "../lib"``; a single-folder workspace
only; `MAX_UP` levels up at most, no hidden folder). Java's: ``maven-repository/<path>`` (Maven's local repository,
`find_maven_repository`: MAVEN_OPTS's ``-Dmaven.repo.local``, else ``~/.m2/settings.xml``'s ``<localRepository>``,
else ``~/.m2/repository``), ``gradle-caches/<path>`` (``$GRADLE_USER_HOME/caches/modules-2/files-2.1``,
`find_gradle_caches`), and ``<jar key>!/<entry>`` for an entry of a jar there (`server.jarfiles`: the zip directory
read once per jar stamp, a class file rendered as a Java stub, a folder ``a/b/`` its entries' listing); the
workspace's pom.xml, build.gradle(.kts) and libs.versions.toml.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import stat
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional, Sequence
from urllib.parse import unquote, urlparse

from fim.cheaders import C_INCLUDE, compile_include_folders
from fim.cheaders import MAX_FOLDERS as MAX_INCLUDE_FOLDERS
from fim.composer import MANIFEST_NAMES as COMPOSER_MANIFESTS
from fim.crates import CARGO_CONFIGS, CARGO_GIT, CARGO_REGISTRY
from fim.dependencies import SITE
from fim.gems import RUBY_GEMS
from fim.gomodules import GO_MODULES
from fim.pubpackages import CONFIG, PUB_PACKAGES, config_key, package_roots
from fim.jars import BUILD_FILES, CATALOG, GRADLE_CACHES, MAVEN_REPOSITORY
from fim.luamodules import LUA_PATH
from fim.luamodules import MAX_FOLDERS as MAX_LUA_FOLDERS
from fim.secrets import is_secret_path
from server import textfile
from server.jarfiles import JarEntries
from server.workspace import WorkspaceIndex

ENV_FOLDERS = (".venv", "venv", "env")
STAT_SECONDS = 2.0  # a file's stat is reused this long (every keystroke asks for the same few files)
MAX_TEXTS = 256  # files kept read
MAX_STATS = 4096  # stats kept
MAX_JAR_PATHS = 256  # jars' paths kept
VENDORED = frozenset({"node_modules", "vendor"})  # workspace folders whose files are read as installed packages
# workspace files read for their versions (any folder); a composer.json for its vendor folder
MANIFESTS = frozenset({"Cargo.lock", "Cargo.toml", "go.mod", "go.work", "composer.json", "Gemfile.lock",
                       "gems.locked", *BUILD_FILES, CATALOG.rpartition("/")[2]})
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # a big workspace's Cargo.lock
# a package's one declaration file: typescript.d.ts (580 KB), @types/vscode's index.d.ts (800 KB)
MAX_DECLARATION_BYTES = 2 * 1024 * 1024
LONGEST_LINE = 16_000  # a file with a longer line is minified code, not read
MAX_UP = 3  # ``../`` a key may climb out of the workspace (go.work's ``use ../../libs/x``), not to / or ~
COMPILE_COMMANDS = ("compile_commands.json", "build/compile_commands.json")  # where a build writes it (clangd's)
Stamp = tuple[int, int, int, int]  # a file's (mtime_ns, size, inode, ctime_ns): read again when it changes


CHECKOUT = Path(__file__).resolve().parents[1]  # deepfim's own folder (its environment is in it)


def find_environment(root: Path, environ: Mapping[str, str] = os.environ, checkout: Path = CHECKOUT) -> Optional[Path]:
    """The Python environment of the workspace folder `root`: a virtual environment in it, else the one
    ``VIRTUAL_ENV`` or ``CONDA_PREFIX`` names unless it lies in deepfim's own `checkout` (deepfim's environment,
    activated to start it, is not the project's); None when there is none."""
    for name in ENV_FOLDERS:
        if _is_environment(root / name):
            return root / name
    try:
        with os.scandir(root) as entries:
            folders = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:
        folders = []
    for name in folders:
        if _is_environment(root / name):
            return root / name
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        value = environ.get(variable)
        if value and os.path.isdir(value) and Path(os.path.realpath(value)).parent != checkout:
            return Path(value)
    return None


def _is_environment(folder: Path) -> bool:
    """A virtual environment (``pyvenv.cfg``) or a conda one made in the project (``conda create -p ./env``:
    ``conda-meta``)."""
    return (folder / "pyvenv.cfg").is_file() or (folder / "conda-meta").is_dir()


def site_packages(env: Path) -> Optional[Path]:
    """The site-packages folder of the environment `env` (the Python of its ``pyvenv.cfg`` first, else the
    highest ``python3.*``), or None."""
    windows = env / "Lib" / "site-packages"
    if windows.is_dir():
        return windows
    try:
        versions = [p for p in (env / "lib").iterdir()
                    if p.name.startswith("python3") and (p / "site-packages").is_dir()]
    except OSError:
        return None
    if not versions:
        return None
    wanted = _configured_version(env)
    versions.sort(key=lambda p: (p.name == wanted, _version_key(p.name)), reverse=True)
    return versions[0] / "site-packages"


def _configured_version(env: Path) -> str:
    """``python3.12`` from ``version = 3.12.3`` (or ``version_info``) in ``pyvenv.cfg``, or ""."""
    try:
        lines = (env / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            parts = value.strip().split(".")
            if len(parts) >= 2:
                return f"python{parts[0]}.{parts[1]}"
    return ""


def _version_key(name: str) -> tuple[int, ...]:
    digits = name[len("python"):].rstrip("t").split(".")
    return tuple(int(d) for d in digits if d.isdigit())


class InstalledFiles(Mapping[str, str]):
    """The files of installed packages by the keys of `fim.dependencies`, each read when asked for.

    `site` is the environment's site-packages folder (None: no Python environment); `workspace_path` maps a
    workspace-relative path to the file system (`server.workspace.WorkspaceIndex.abspath`); only paths with
    a ``node_modules`` or ``vendor`` folder in them are read through it, wherever their links lead (pnpm's
    store, a linked package), unless the path there looks secret or `excluded` (given that real path) says so."""

    def __init__(self, site: Optional[Path], workspace_path: Callable[[str], Path], max_file_bytes: int,
                 excluded: Callable[[str], bool] = lambda real: False, cargo_home: Optional[Path] = None,
                 go_modules: Optional[Path] = None, gem_dirs: Optional[list[Path]] = None,
                 include_folders: Optional[Sequence[Path]] = None, maven_repository: Optional[Path] = None,
                 gradle_caches: Optional[Path] = None, lua_folders: Optional[Callable[[], list[Path]]] = None) -> None:
        self.site = site
        self._find_lua_folders = lua_folders if lua_folders is not None else find_lua_folders
        self._lua: tuple[float, list[Path]] = (-STAT_SECONDS, [])
        self.gem_dirs = gem_dirs if gem_dirs is not None else find_gem_dirs()
        self.system_includes = list(include_folders) if include_folders is not None else find_include_folders()
        self._includes: tuple[float, list[Path]] = (-STAT_SECONDS, [])
        self._compiled: dict[str, tuple[tuple[int, int], list[str]]] = {}  # compile_commands.json -> its folders
        self.cargo_home = cargo_home if cargo_home is not None else find_cargo_home()
        self.go_modules = go_modules if go_modules is not None else find_go_module_cache()
        self.maven_repository = maven_repository if maven_repository is not None else find_maven_repository()
        self.gradle_caches = gradle_caches if gradle_caches is not None else find_gradle_caches()
        self._jars = JarEntries()
        self._jar_paths: dict[str, Path] = {}
        self._workspace_path = workspace_path
        self._excluded = excluded
        self.max_file_bytes = max_file_bytes
        self._stats: OrderedDict[str, tuple[float, Optional[Stamp]]] = OrderedDict()
        self._texts: OrderedDict[str, tuple[Stamp, str]] = OrderedDict()
        self._lock = threading.Lock()  # the model thread's selection and a code action's may ask at once

    def path(self, key: str) -> Optional[Path]:
        """The file (the folder, for a key ending with ``/``) `key` names, or None for a key outside
        site-packages, Cargo's registry sources and git checkouts, Go's module cache, the gem dirs, the Dart package
        roots of a package_config.json (``.dart`` files), the C/C++ include folders, the Lua folders, node_modules,
        vendor and a bundle path, a Go module or crate up to 3 folders beside the workspace (``../``), but for the
        workspace's manifests (`MANIFESTS`, a .cargo/config.toml, .dart_tool/package_config.json), or for a secret
        one."""
        if not isinstance(key, str) or is_secret_path(key):
            return None
        folder = key.endswith("/")
        key = key[:-1] if folder else key
        parts = key.split("/")
        up = next((i for i, part in enumerate(parts) if part != ".."), len(parts))
        if up and (folder or parts[-1].endswith((".go", ".rs")) or parts[-1] in ("go.mod", "Cargo.toml")) and \
                len(parts) > up:  # a Go module or a crate beside the workspace (``use ../lib``, ``path = "../x"``)
            parts = parts[up:]
            if up > MAX_UP or any(part.startswith(".") for part in parts):
                return None  # not the whole disk (``../../../../etc/``), nor a hidden folder (``../.cargo``)
        else:
            up = 0
        if ".." in parts or "" in parts or "." in parts:
            return None
        if up:
            try:
                return self._workspace_path(key)
            except (KeyError, ValueError):
                return None
        if key.startswith(SITE):
            return self.site.joinpath(*parts[1:]) if self.site is not None and len(parts) > 1 else None
        if key + "/" == CARGO_REGISTRY or key.startswith(CARGO_REGISTRY):
            return self.cargo_home.joinpath("registry", "src", *parts[1:]) if self.cargo_home is not None else None
        if key + "/" == CARGO_GIT or key.startswith(CARGO_GIT):
            return self.cargo_home.joinpath("git", "checkouts", *parts[1:]) if self.cargo_home is not None else None
        if key.startswith(C_INCLUDE) and len(parts) > 1 and parts[1].isdigit():
            folders = self.include_folders()
            k = int(parts[1])
            return folders[k].joinpath(*parts[2:]) if k < len(folders) else None
        if key.startswith(LUA_PATH) and len(parts) > 1 and parts[1].isdigit():
            folders = self.lua_folders()
            k = int(parts[1])
            return folders[k].joinpath(*parts[2:]) if k < len(folders) else None
        if key.startswith(GO_MODULES):
            return self.go_modules.joinpath(*parts[1:]) if self.go_modules is not None and len(parts) > 1 else None
        if key.startswith(PUB_PACKAGES):
            if folder or not key.endswith(".dart"):
                return None  # a root a package_config.json names may be any folder: its Dart files only
            root = self._pub_root(unquote(parts[1]), parts[2]) if len(parts) > 2 else None
            return root.joinpath(*parts[3:]) if root is not None else None
        if key.startswith((MAVEN_REPOSITORY, GRADLE_CACHES)):  # a jar, or an entry of it (``x.jar!/a/B.java``)
            base = self.maven_repository if key.startswith(MAVEN_REPOSITORY) else self.gradle_caches
            jar = key.partition("!/")[0].split("/")
            return base.joinpath(*jar[1:]) if len(jar) > 1 else None
        if key.startswith(RUBY_GEMS):
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else len(self.gem_dirs)
            return self.gem_dirs[index].joinpath(*parts[2:]) if index < len(self.gem_dirs) else None
        if (not VENDORED.intersection(parts[:-1]) and parts[-1] not in MANIFESTS and not _bundled(parts)
                and "/".join(parts[-2:]) not in CARGO_CONFIGS and not key.endswith("/" + CONFIG)
                and key != CONFIG):
            return None
        try:
            return self._workspace_path(key)
        except (KeyError, ValueError):
            return None

    def _pub_root(self, folder: str, name: str) -> Optional[Path]:
        """The root folder the package_config.json of the workspace folder `folder` (ending with ``/``) gives the
        Dart package `name`: its ``file:`` URI, or a path relative to the .dart_tool folder; None without one."""
        inner = folder[:-1]
        if not folder.endswith("/") or inner and {"..", ".", ""} & set(inner.split("/")):
            return None
        config = config_key(folder[:-1])
        package = package_roots(self[config]).get(name) if config in self else None  # its read is kept by stamp
        if package is None:
            return None
        uri = urlparse(package.root_uri)
        if uri.scheme == "file" and uri.netloc in ("", "localhost"):
            path = unquote(uri.path)
            return Path(path[1:] if re.match(r"/[A-Za-z]:/", path) else path)  # file:///C:/src/x on Windows
        if uri.scheme or uri.netloc or package.root_uri.startswith("/"):
            return None
        config_path = self.path(config)
        return Path(os.path.normpath(config_path.parent / unquote(uri.path))) if config_path is not None else None

    def _stamp(self, key: str) -> Optional[Stamp]:
        """(mtime_ns, size, inode, ctime_ns) of the regular file `key` names (a stat at most every
        STAT_SECONDS), or None: npm gives every file one fixed mtime, a new version's file of the same size
        differs by its inode (written anew) or ctime (rewritten in place)."""
        if "!/" in key:  # a jar's entry: the jar's stamp where the jar's directory (read once a stamp) has it
            jar, _, entry = key.partition("!/")
            path = self._jar_paths.get(jar) or self.path(jar)
            if path is not None and jar not in self._jar_paths:
                self._jar_paths[jar] = path  # a file with 30 imports asks each of a pom's jars for each of them
                while len(self._jar_paths) > MAX_JAR_PATHS:
                    del self._jar_paths[next(iter(self._jar_paths))]
            found = self._stamp(jar)
            held = found is not None and path is not None and self._jars.entry(path, found, entry)
            return found if held and not is_secret_path(key) else None
        now = time.monotonic()
        with self._lock:
            held = self._stats.get(key)
        if held is not None and now - held[0] < STAT_SECONDS:
            return held[1]
        path = self.path(key)
        found = None
        if path is not None:
            try:
                st = os.stat(path)
                kind = stat.S_ISDIR if key.endswith("/") else stat.S_ISREG
                real = os.path.realpath(path)
                # a Dart path dependency is read from wherever it is: where that is the workspace, as its rules say;
                # so is a header of an include folder in the workspace (-Igen); the folder is one
                linked = real != os.path.abspath(path) or key.startswith(PUB_PACKAGES) or (
                    key.startswith(C_INCLUDE) and not key.endswith("/"))
                if kind(st.st_mode) and not is_secret_path(real.replace(os.sep, "/")) and not (
                        linked and self._excluded(real)):
                    found = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)
            except (OSError, ValueError):
                found = None
        with self._lock:
            self._stats[key] = (now, found)
            self._stats.move_to_end(key)
            while len(self._stats) > MAX_STATS:
                self._stats.popitem(last=False)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._stamp(key) is not None

    def __getitem__(self, key: str) -> str:
        stamp = self._stamp(key)
        if stamp is None:
            raise KeyError(key)
        with self._lock:
            held = self._texts.get(key)
        if held is not None and held[0] == stamp:
            return held[1]
        text = self._read(key, stamp)
        with self._lock:
            self._texts[key] = (stamp, text)
            self._texts.move_to_end(key)
            while len(self._texts) > MAX_TEXTS:
                self._texts.popitem(last=False)
        return text

    def _read(self, key: str, stamp: Stamp) -> str:
        """The text of `key` ("" when too big, binary or minified code)."""
        path = self.path(key)
        if key.endswith("/") and "!/" not in key:  # a folder: its files' names, then its folders' (``name/``)
            try:
                with os.scandir(path) as entries:  # type: ignore[arg-type]
                    found = [(not e.is_file(), e.name + ("" if e.is_file() else "/")) for e in entries
                             if e.is_file() or e.is_dir()]
                    return "\n".join(name for _, name in sorted(found))
            except (OSError, TypeError):
                return ""
        manifest = key.rpartition("/")[2] in MANIFESTS or key.endswith(COMPOSER_MANIFESTS)  # a big installed.json
        cap = max(self.max_file_bytes, MAX_MANIFEST_BYTES) if manifest else self.max_file_bytes
        if key.endswith((".d.ts", ".d.mts", ".d.cts")) or key.startswith(LUA_PATH) and "/_meta/" in key:
            cap = max(cap, MAX_DECLARATION_BYTES)  # declarations: typescript.d.ts, Neovim's vim/_meta/vimfn.lua
        if "!/" in key:  # a jar's entry: a class file rendered as a Java stub
            return self._jars.text(path, stamp, key.partition("!/")[2], cap)  # type: ignore[arg-type]
        if stamp[1] > cap:
            return ""
        try:
            with open(path, "rb") as f:  # type: ignore[arg-type]
                data = f.read(cap + 1)
        except (OSError, TypeError):
            return ""
        text = textfile.decode(data) if len(data) <= cap else None
        # Only definitions are cut out of these files: a bundle's one-line export list is no reason to refuse one.
        if text is None or "\x00" in text[:8192] or max(map(len, text.splitlines()), default=0) > LONGEST_LINE:
            return ""
        return text

    def include_folders(self) -> list[Path]:
        """The C/C++ include folders that exist, in search order: the absolute ones of the workspace's
        compile_commands.json (`COMPILE_COMMANDS`, read again when it changes), then `system_includes`; looked
        for again every STAT_SECONDS."""
        now = time.monotonic()
        with self._lock:
            held = self._includes
        if now - held[0] < STAT_SECONDS:
            return held[1]
        compiled: list[str] = []
        for rel in COMPILE_COMMANDS:
            try:
                path = self._workspace_path(rel)
                st = os.stat(path)
            except (KeyError, ValueError, OSError):
                continue
            stamp = (st.st_mtime_ns, st.st_size)
            known = self._compiled.get(rel)
            if known is None or known[0] != stamp:
                text = ""
                if st.st_size <= MAX_MANIFEST_BYTES * 16:  # a big project's: every file's command
                    try:
                        text = Path(path).read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        pass
                known = self._compiled[rel] = (stamp, compile_include_folders(text))
            compiled += known[1]
        folders: list[Path] = []
        for folder in list(dict.fromkeys([Path(f) for f in compiled] + self.system_includes)):
            if len(folders) >= MAX_INCLUDE_FOLDERS:  # a big project's hundreds of -I: those fim asks for, stat'ed
                break
            if folder.is_dir() and not is_secret_path(str(folder).replace(os.sep, "/")):
                folders.append(folder)
        with self._lock:
            self._includes = (now, folders)
        return folders

    def lua_folders(self) -> list[Path]:
        """The folders Lua modules are searched in: the project's own LuaRocks tree (``luarocks --tree
        lua_modules``: ``lua_modules/share/lua/<version>`` of a single-folder workspace), then `find_lua_folders`';
        looked for again every STAT_SECONDS: a plugin installed while the server runs comes without a restart."""
        now = time.monotonic()
        with self._lock:
            held = self._lua
        if now - held[0] < STAT_SECONDS:
            return held[1]
        own = []
        for version in LUA_VERSIONS:
            try:
                own.append(self._workspace_path(f"lua_modules/share/lua/{version}"))
            except (KeyError, ValueError):
                break
        folders = [f for f in [*[f for f in own if f.is_dir()], *self._find_lua_folders()][:MAX_LUA_FOLDERS]
                   if not is_secret_path(str(f).replace(os.sep, "/"))]
        with self._lock:
            self._lua = (now, folders)
        return folders

    def __iter__(self) -> Iterator[str]:  # never listed: fim asks for the files an import names
        return iter(())

    def __len__(self) -> int:
        return 0


def find_cargo_home(environ: Mapping[str, str] = os.environ) -> Path:
    """Cargo's home folder (``CARGO_HOME``, else ``~/.cargo``), whether or not Cargo has made it yet (the first
    ``cargo build`` after the server started fills it: its files are looked for when asked for)."""
    return Path(environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo"))


def _bundled(parts: list[str]) -> bool:
    """A workspace path of Bundler's: a ``.bundle/config``, a bundle path's ``ruby/`` folder or what lies in its
    ``ruby/<api>/gems`` and ``specifications`` (``.bundle/ruby/3.2.0/gems/rack-3.0.8/lib/rack.rb``)."""
    if parts[-2:] == [".bundle", "config"] or parts[-1] == "ruby":
        return True
    return any(parts[i] == "ruby" and parts[i + 1][:1].isdigit() and parts[i + 2] in ("gems", "specifications")
               for i in range(len(parts) - 2))


RUBIES = (".rbenv/versions", ".rvm/rubies", ".asdf/installs/ruby", ".rubies", ".local/share/mise/installs/ruby")
SYSTEM_GEMS = ("/var/lib/gems", "/usr/lib/ruby/gems", "/usr/local/lib/ruby/gems", "/usr/share/rubygems-integration")


def find_gem_dirs(environ: Mapping[str, str] = os.environ, home: Optional[str] = None,
                  system: tuple[str, ...] = SYSTEM_GEMS) -> list[Path]:
    """The gem dirs (each holding ``gems/`` and ``specifications/``) that exist, in the order they are searched:
    ``GEM_HOME``, ``GEM_PATH``'s, an absolute ``BUNDLE_PATH``'s ``ruby/<api>``, the user's (``~/.gem/ruby/<api>``,
    ``~/.local/share/gem/ruby/<api>``, rvm's ``~/.rvm/gems/*``), the rubies of rbenv, rvm, asdf, chruby and mise
    (``<ruby>/lib/ruby/gems/<api>``), the system's (``/var/lib/gems/<api>``, ``/usr/lib/ruby/gems/<api>``,
    Debian's ``/usr/share/rubygems-integration/<api>`` and ``all``); newest version first within each. Found
    once (a few small folders listed), not walked."""
    home = home if home is not None else os.path.expanduser("~")
    found: list[Path] = []

    def add(folder: Path) -> None:
        if folder not in found and (folder / "gems").is_dir():
            found.append(folder)

    def add_versions(parent: Path, suffix: tuple[str, ...] = ()) -> None:
        for child in _children(parent):
            add(child.joinpath(*suffix))

    for variable in ("GEM_HOME", "GEM_PATH"):
        for entry in (environ.get(variable) or "").split(os.pathsep):
            if entry:
                add(Path(entry))
    if (environ.get("BUNDLE_PATH") or "").startswith("/"):
        add_versions(Path(environ["BUNDLE_PATH"]) / "ruby")
    for user in (".gem/ruby", ".local/share/gem/ruby"):
        add_versions(Path(home) / user)
    add_versions(Path(home) / ".rvm" / "gems")
    for rubies in list(RUBIES) + ["/opt/rubies"]:
        for ruby in _children(Path(home) / rubies if not rubies.startswith("/") else Path(rubies)):
            add_versions(ruby / "lib" / "ruby" / "gems")
    for folder in system:
        add_versions(Path(folder))
    return found


def _children(folder: Path) -> list[Path]:
    """The folders in `folder` (one small listing: Ruby versions), the highest version first."""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return []
    key = lambda name: tuple(int(d) for d in re.findall(r"\d+", name))  # noqa: E731
    return [folder / name for name in sorted(names, key=lambda n: (key(n), n), reverse=True)]


def find_maven_repository(environ: Mapping[str, str] = os.environ, home: Optional[str] = None) -> Path:
    """Maven's local repository: ``-Dmaven.repo.local=`` in ``MAVEN_OPTS``, else the ``<localRepository>`` of
    ``~/.m2/settings.xml`` (``${user.home}`` and ``${env.X}`` expanded), else ``~/.m2/repository``."""
    home = home if home is not None else os.path.expanduser("~")
    m = re.search(r"-Dmaven\.repo\.local=(\"[^\"]+\"|\S+)", environ.get("MAVEN_OPTS") or "")
    if m:
        return Path(m.group(1).strip('"'))
    try:
        settings = (Path(home) / ".m2" / "settings.xml").read_text(encoding="utf-8", errors="replace")[:1_000_000]
    except OSError:
        settings = ""
    m = re.search(r"<localRepository>\s*([^<]+?)\s*</localRepository>", re.sub(r"(?s)<!--.*?-->", "", settings))
    if m:
        value = m.group(1).replace("${user.home}", home)
        value = re.sub(r"\$\{env\.(\w+)\}", lambda v: environ.get(v.group(1), ""), value)
        return Path(os.path.expanduser(value))
    return Path(home) / ".m2" / "repository"


def find_gradle_caches(environ: Mapping[str, str] = os.environ) -> Path:
    """Gradle's downloaded modules: ``$GRADLE_USER_HOME`` (else ``~/.gradle``) ``/caches/modules-2/files-2.1``."""
    home = environ.get("GRADLE_USER_HOME") or os.path.join(os.path.expanduser("~"), ".gradle")
    return Path(home) / "caches" / "modules-2" / "files-2.1"


def find_go_module_cache(environ: Mapping[str, str] = os.environ) -> Path:
    """Go's module cache (``GOMODCACHE``, else the first ``GOPATH`` entry's ``pkg/mod``, else ``~/go/pkg/mod``),
    whether or not it exists yet."""
    gopath = (environ.get("GOPATH") or "").split(os.pathsep)[0] or os.path.join(os.path.expanduser("~"), "go")
    return Path(environ.get("GOMODCACHE") or os.path.join(gopath, "pkg", "mod"))


LUA_VERSIONS = ("5.4", "5.3", "5.2", "5.1")


def find_lua_folders(environ: Mapping[str, str] = os.environ, home: Optional[str] = None) -> list[Path]:
    """The folders ``require`` searches for Lua modules outside the workspace that exist, in this order: the
    folders of ``LUA_PATH_5_4``... ``LUA_PATH``'s ``?.lua`` templates, LuaRocks' user tree (``~/.luarocks``) and
    the system's (``/usr/local/share/lua/<version>``, ``/usr/share/lua/<version>``), then the ``lua/`` folder of
    each Neovim plugin lazy.nvim (``~/.local/share/nvim/lazy/*``) or Neovim's packages (``site/pack/*/start/*``,
    ``opt/*``) installed (``$XDG_DATA_HOME`` for ``~/.local/share``)."""
    home = home if home is not None else os.path.expanduser("~")
    found: list[str] = []
    for variable in [f"LUA_PATH_{v.replace('.', '_')}" for v in LUA_VERSIONS] + ["LUA_PATH"]:
        for template in (environ.get(variable) or "").split(";"):
            if template.endswith(("/?.lua", "/?/init.lua")) and os.path.isabs(template):
                found.append(template[:template.index("/?")])
    for version in LUA_VERSIONS:
        found += [os.path.join(home, ".luarocks", "share", "lua", version), f"/usr/local/share/lua/{version}",
                  f"/usr/share/lua/{version}"]
    data = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    nvim = Path(data) / "nvim"
    plugins = _folders(nvim / "lazy") + [p for pack in _folders(nvim / "site" / "pack")
                                         for kind in ("start", "opt") for p in _folders(pack / kind)]
    found += [str(p / "lua") for p in plugins]
    runtime = environ.get("VIMRUNTIME") or next((str(p) for p in _neovim_runtimes(environ) if p.is_dir()), "")
    if runtime:  # Neovim's own modules (``vim.keymap``, ``vim._meta.api``): what ``vim.`` offers, last
        found.append(os.path.join(runtime, "lua"))
    return [Path(p) for p in dict.fromkeys(os.path.normpath(p) for p in found) if os.path.isdir(p)]


def _neovim_runtimes(environ: Mapping[str, str]) -> list[Path]:
    """Where Neovim's runtime may be when the server was not started by Neovim (which sets ``VIMRUNTIME``): beside
    the ``nvim`` on ``PATH`` (``<prefix>/bin/nvim``: ``<prefix>/share/nvim/runtime``), then the usual prefixes."""
    nvim = shutil.which("nvim", path=environ.get("PATH"))
    prefixes = [Path(os.path.realpath(nvim)).parent.parent] if nvim else []
    prefixes += [Path("/usr/local"), Path("/usr"), Path("/opt/homebrew")]
    return [prefix / "share" / "nvim" / "runtime" for prefix in prefixes]


def _folders(folder: Path) -> list[Path]:
    """The folders in `folder` by name (none where it is missing)."""
    try:
        with os.scandir(folder) as entries:
            return sorted(folder / e.name for e in entries if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []


MULTIARCH = {"x86_64": "x86_64-linux-gnu", "amd64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu",
             "arm64": "aarch64-linux-gnu", "armv7l": "arm-linux-gnueabihf", "i686": "i386-linux-gnu",
             "ppc64le": "powerpc64le-linux-gnu", "s390x": "s390x-linux-gnu", "riscv64": "riscv64-linux-gnu"}


def find_include_folders(environ: Mapping[str, str] = os.environ, machine: Optional[str] = None,
                         system: str = sys.platform) -> list[Path]:
    """The folders a C/C++ compiler searches for ``#include <...>`` outside the project's own flags, in its order:
    ``CPATH``, ``C_INCLUDE_PATH``, ``CPLUS_INCLUDE_PATH`` (absolute entries), ``/usr/local/include``,
    ``/usr/include/<multiarch triplet>``, ``/usr/include``, Homebrew's ``/opt/homebrew/include`` on macOS;
    whether or not they exist."""
    out: list[str] = []
    for variable in ("CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH"):
        out += [p for p in (environ.get(variable) or "").split(os.pathsep) if os.path.isabs(p)]
    out.append("/usr/local/include")
    triplet = MULTIARCH.get(machine if machine is not None else platform.machine())
    if triplet:
        out.append(f"/usr/include/{triplet}")
    out.append("/usr/include")
    if system == "darwin":
        out.append("/opt/homebrew/include")
    return [Path(p) for p in dict.fromkeys(os.path.normpath(p) for p in out)]


def linked_workspace_file(index: WorkspaceIndex, site: Optional[Path]) -> Callable[[str], bool]:
    """The `excluded` test of `InstalledFiles` for `index`'s folders: a real path a link led to that lies in the
    workspace outside site-packages, ``node_modules`` and ``vendor`` (a linked workspace package) is excluded where
    the workspace's ignore rules exclude it (.gitignore, .deepfimignore, secret paths)."""
    site_real = os.path.realpath(site) if site is not None else None

    def excluded(real: str) -> bool:
        if site_real is not None and (real == site_real or real.startswith(site_real + os.sep)):
            return False
        rel = index.relpath(real)
        if rel is None or VENDORED.intersection(rel.split("/")[:-1]):
            return False  # outside the workspace (pnpm's store, another environment) or an installed package
        return index.is_ignored(real)

    return excluded


"""Repository-level benchmark: CrossCodeEval's method on real packages, in Python, Go, Rust,
TypeScript, JavaScript, Java, C, C++, PHP, Kotlin, Swift, C#, Ruby, Lua, shell and Perl.

    .venv/bin/python -m benchmarks.repo_context                          # defaults: ~15 min on 2 busy cores
    .venv/bin/python -m benchmarks.repo_context --quality-tasks 0        # recall and timing only (~4 min)
    .venv/bin/python -m benchmarks.repo_context --quality-tasks 60       # tighter EM/ES (~45 min more)
    .venv/bin/python -m benchmarks.repo_context --packages httpx==0.27.2 /path/to/checkout --json out.json
    .venv/bin/python -m benchmarks.repo_context --packages npm:rxjs@7.8.1 deb:librust-syn-dev=1.0.107-1

Code. Sources other than Python's (Debian's Go and Rust packages, npm tarballs, PyPI sdists that
carry Java, C and C++, ``//SUBDIR`` to open a folder inside as the workspace) and their tasks are
described in `benchmarks.languages`; `fetch` lists the spec forms. A Python package is the source
distribution of a pinned release, fetched with
``pip download --no-deps --no-binary :all: NAME==VERSION`` (the package registry only; pip may fetch
the sdist's build backend there to read its metadata, nothing is installed) and unpacked once into
``<user cache>/deepfim/benchmarks``. A directory given instead of
``NAME==VERSION`` is used as it is. The unpacked tree is indexed with `server.workspace.WorkspaceIndex`
exactly as the server indexes a workspace folder, and everything below sees only the indexed text.

Tasks (CrossCodeEval, Ding et al. 2023, section 2). Python's `ast` finds, in every library file (not
tests, docs or examples), the uses of names that the file imports from another module of the same
package: ``name`` after ``from .mod import name`` / ``from pkg.mod import name``, and ``mod.name``
after ``import pkg.mod as mod`` / ``from pkg import mod`` / ``import pkg.mod``. Re-exports are
followed (``from pkg import Thing`` where ``pkg/__init__.py`` does ``from .things import Thing``) to
the *defining line*: the ``def NAME`` / ``class NAME`` / ``NAME =`` line in the other file. Names the
file rebinds itself, or imports twice from different places, are left out. The cursor stands right
before the name (after ``mod.``), the hole is the rest of that line, and the document the model sees
is the file with that rest of the line deleted (lines after it stay: the suffix). The resolution is
this module's own, independent of `fim.imports`, so the benchmark can catch what the server misses.

Sampling. Files are split once by a hash of package and path into a development split (30%) and a
held-out test split (70%, the default `--split test`). From the split, `--tasks-per-package` uses
are drawn with `--seed`, round-robin over the files (one random use per file in turn, files in a
random order) so that no single file dominates. Results are reported per package and overall.

What it prints, per package and overall:

1. Retrieval recall: the share of tasks whose defining line is in one of the prompt's context
   segments (from the defining file), for contextSize 2048, 4096, 8192 and 16384 with the server's
   default split (`server.completion.Completer.budget`). Prompts are built in-process with
   `Completer.prompt_for` on an `Engine` of a tiny DeepSeek-Coder-architecture model with DeepSeek's
   real tokenizer (`models.synthetic`), so budgets are exact; the context provider calls
   `fim.context.select_context` over the index's files as `server/cli.py` does (the current file is
   the one open and recent document, no edit history). "file" is the share whose defining file
   appears in the context at all. Misses at the default budget are broken down by import style and
   by reason (judged with `fim.imports`): defining file not among the resolved imports (re-exports),
   imported but not selected, selected but the defining line not in its snippet, line altered by
   redaction, or selected and then cut by the prompt's token budget.
2. First-line exact match and edit similarity (1 - Levenshtein / longer length, CrossCodeEval's ES,
   on stripped lines) of the completion `Completer.complete` returns (post-processing included)
   with a real small model (Gemma 3 270M Q4_K_M, prefix-only: it has no FIM tokens), for
   `--quality-tasks` tasks spread over the packages: without context, with context inside the prompt
   with ``#path`` headers (the default placement), and with context before BOS (llama.cpp
   ``/infill``). The KV cache is reused only for an exactly equal prompt head, never shifted, so the
   three conditions do not leak into each other.
3. Context-selection time per request (the provider call: `select_context` only) on the package
   with the most indexed files, at the default budget, after indexing, over `--timing-requests`
   cursors: p50/p95/max of the background warm-up the server runs when a file is opened (context
   chosen for a prompt at the file's start), of the first request at each cursor after it (the
   user moved there from another file; `fim`'s caches hold what earlier requests left) and of the
   request one typed character later (target p95 < 20 ms on a 2,000-file workspace).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Optional, Sequence

from benchmarks.stats import percentile
from fim.positions import index_to_utf16, lsp_lines

if TYPE_CHECKING:
    from server.project import Project

# Pure-Python packages of different styles and sizes. requests: relative imports, one flat package;
# click: decorators and a flat package; attrs: src layout, private modules re-exported twice (attr and
# attrs); jinja2: src layout, absolute and relative mixed; rich: many small modules; sympy: a big tree
# (2,000+ files) with absolute imports, re-exports through every __init__, the timing workspace;
# sympy/polys opened as the workspace itself: absolute imports of the package's own modules
# (``from sympy.polys.rings import ring`` with rings.py at the workspace root).
PYTHON_PACKAGES = ("requests==2.32.3", "click==8.1.7", "attrs==24.2.0", "jinja2==3.1.4", "rich==13.9.4",
                   "sympy==1.13.3", "sympy==1.13.3//sympy/polys")
# Other languages (benchmarks/languages.py): Go modules with many packages (hcl: go.mod module path
# with /v2; gin: one big package plus sub-packages), Rust crates (regex-syntax: mod.rs layout and
# `use crate::`; toml_edit: sibling-module files), TypeScript (rxjs: src/internal, relative imports;
# query-core), JavaScript (axios: ESM and CommonJS helpers; preact: src/ with relative imports), Java (JPype's org.jpype packages),
# C (Brotli's encoder/decoder with "../common/x.h" includes), C++ (JPype's native layer), PHP (PSR-4
# namespaces under /usr/share/php: league/commonmark, symfony/console), Kotlin and Swift (expo-modules-core's
# Android and iOS sources: top-level and extension functions, several classes per file; one Swift module), C#
# (pythonnet's runtime: namespaces across folders, block and file-scoped), Ruby (rack: a gem's lib/, one
# `module Rack` around every file), Lua (Penlight: `local x = require "pl.x"`), shell (dracut: scripts
# sourcing `/lib/dracut-lib.sh`), Perl (Mojolicious's installed modules: `use Mojo::Base 'Parent'`, import lists,
# `Mojo::Util::f(` and `Mojo::URL->new` calls).
OTHER_PACKAGES = ("deb:golang-github-hashicorp-hcl-v2-dev=2.14.1-2", "deb:golang-github-gin-gonic-gin-dev=1.8.1-1",
                  "deb:librust-regex-syntax-dev=0.6.27-1", "deb:librust-toml-edit-dev=0.14.4-2",
                  "npm:rxjs@7.8.1", "npm:@tanstack/query-core@5.59.0", "npm:axios@1.7.7", "npm:preact@10.24.3",
                  "pypi:JPype1==1.5.0//native/java", "pypi:Brotli==1.1.0//c", "pypi:JPype1==1.5.0//native/common",
                  "deb:php-league-commonmark=2.3.9-1+deb12u1//usr/share/php",
                  "deb:php-symfony-console=5.4.53+dfsg-0+deb12u1//usr/share/php",
                  "npm:expo-modules-core@2.2.3", "pypi:pythonnet==3.0.5//src/runtime",
                  "deb:ruby-rack=2.2.22-0+deb12u2//usr/share/rubygems-integration/all/gems/rack-2.2.22",
                  "deb:lua-penlight=1.13.1-3//usr/share/lua/5.1", "deb:dracut-core=059-4",
                  "deb:libmojolicious-perl=9.31+dfsg-1//usr/share/perl5")
DEFAULT_PACKAGES = PYTHON_PACKAGES + OTHER_PACKAGES
BUDGETS = (2048, 4096, 8192, 16384)
DEFAULT_TASKS = 40
DEFAULT_QUALITY_TASKS = 18  # 3 per default package: ~40 s each on one busy core (three 4K-token prompts)
QUALITY_CONTEXT = 4096
QUALITY_MAX_TOKENS = 24
TIMING_REQUESTS = 200
DEV_SHARE = 0.3
MAX_HOLE_CHARS = 200
TARGET_RECALL = 0.9  # per language, at the default contextSize
TARGET_P95_MS = 20.0
# Path parts that make a file a test, documentation or example rather than library code.
NON_LIBRARY = frozenset({"test", "tests", "testing", "doc", "docs", "example", "examples", "benchmark",
                         "benchmarks", "bench", "scripts", "tools", "bin"})
CONDITIONS = ("none", "prefix", "bos")  # no context; context inside the prompt; context before BOS


# ------------------------------------------------------------------------------------ packages


def benchmark_dir() -> Path:
    from models.catalog import cache_dir

    return cache_dir() / "benchmarks"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    root: Path  # the unpacked source tree: the workspace folder


def parse_spec(spec: str) -> tuple[str, str]:
    name, sep, version = spec.partition("==")
    if not sep or not name.strip() or not version.strip():
        raise ValueError(f"{spec!r}: give NAME==VERSION (a pinned release) or an existing directory")
    return name.strip(), version.strip()


def _safe_extract(archive: Path, target: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                dest = (target / member).resolve()
                if not str(dest).startswith(str(target.resolve()) + os.sep):
                    raise ValueError(f"{archive.name}: member {member!r} leaves the target folder")
            zf.extractall(target)
        return
    with tarfile.open(archive) as tf:
        if hasattr(tarfile, "data_filter"):
            tf.extractall(target, filter="data")
        else:  # older Pythons: regular files and folders inside the target only
            members = []
            for m in tf.getmembers():
                dest = (target / m.name).resolve()
                if (m.isfile() or m.isdir()) and str(dest).startswith(str(target.resolve()) + os.sep):
                    members.append(m)
            tf.extractall(target, members=members)


def fetch(spec: str, log: Callable[[str], None] = lambda s: None) -> Package:
    """The unpacked source of a pinned release (downloaded once, then read from the cache), or a directory.

    ``NAME==VERSION`` or ``pypi:NAME==VERSION``: a PyPI source distribution (``pip download``);
    ``deb:NAME=VERSION``: a Debian package (``apt-get download``, ``dpkg-deb -x``), the workspace
    being the folder of its go.mod or Cargo.toml; ``npm:NAME@VERSION``: an npm tarball (``npm
    pack``), the workspace being its ``package`` folder. ``//SUBDIR`` after any of them opens a
    folder inside as the workspace (a monorepo's sub-project, a package folder itself)."""
    if os.path.isdir(spec):
        root = Path(spec).resolve()
        return Package(root.name, "local", root)
    spec, _, subdir = spec.partition("//")
    kind, colon, rest = spec.partition(":")
    if not colon:
        kind, rest = "pypi", spec
    if kind == "pypi":
        name, version = parse_spec(rest)
        root = _unpacked(f"{name.lower().replace('_', '-')}-{version}", lambda tmp: _pip_download(name, version, tmp),
                         f"{name}=={version}", log)
        entries = [p for p in root.iterdir()]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else root
    elif kind == "deb":
        name, sep, version = rest.partition("=")
        if not sep or not name or not version:
            raise ValueError(f"{spec!r}: give deb:NAME=VERSION (a pinned Debian package)")
        root = _unpacked(f"deb-{name}-{version}", lambda tmp: _apt_download(name, version, tmp), rest, log)
        marks = sorted((p for pattern in ("go.mod", "Cargo.toml") for p in root.rglob(pattern)),
                       key=lambda p: len(p.parts))
        root = marks[0].parent if marks else root
        name = name.removeprefix("golang-github-").removeprefix("librust-").removesuffix("-dev")
    elif kind == "npm":
        name, sep, version = rest.rpartition("@")
        if not sep or not name or not version:
            raise ValueError(f"{spec!r}: give npm:NAME@VERSION (a pinned npm release)")
        key = f"npm-{name.replace('/', '-').lstrip('@')}-{version}"
        root = _unpacked(key, lambda tmp: _npm_pack(name, version, tmp), rest, log)
        root = root / "package" if (root / "package").is_dir() else root
    else:
        raise ValueError(f"{spec!r}: unknown source kind {kind!r} (pypi:, deb:, npm: or a directory)")
    if subdir:
        root = root / subdir
        if not root.is_dir():
            raise ValueError(f"{spec}//{subdir}: no such folder in the unpacked source")
        name = f"{name}/{subdir}"
    return Package(name, version, root)


def _unpacked(key: str, download: Callable[[Path], Path], label: str, log: Callable[[str], None]) -> Path:
    """The folder `key` of the cache, downloading (`download(tmp)` returns the archive) and unpacking once."""
    base = benchmark_dir()
    unpacked = base / "src" / key
    done = base / "src" / f"{key}.ok"
    if not done.exists():
        archives = base / "sdists"
        archives.mkdir(parents=True, exist_ok=True)
        archive = next((p for p in archives.glob(f"{key}.*") if not p.name.endswith(".part")), None)
        if archive is None:
            log(f"downloading {label} from the package registry")
            with tempfile.TemporaryDirectory(prefix="deepfim-source-") as tmp:
                got = download(Path(tmp))
                suffix = next(s for s in (".zip", ".deb", ".tar.gz") if got.name.endswith(s) or s == ".tar.gz")
                archive = archives / f"{key}{suffix}"
                shutil.move(str(got), archive)
        if unpacked.exists():
            shutil.rmtree(unpacked)
        partial = base / "src" / f"{key}.part"
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        if archive.name.endswith(".deb"):
            _run(["dpkg-deb", "-x", str(archive), str(partial)], f"dpkg-deb -x {archive.name}")
        else:
            _safe_extract(archive, partial)
        os.replace(partial, unpacked)
        done.write_text(f"{label}\n", encoding="utf-8")
    return unpacked


def _run(command: list[str], what: str, cwd: Optional[Path] = None) -> None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    except OSError as error:
        raise RuntimeError(f"{what} failed: {error}") from error
    if out.returncode != 0:
        detail = (out.stderr or out.stdout).strip().splitlines()
        raise RuntimeError(f"{what} failed: {detail[-1] if detail else f'exit code {out.returncode}'}")


def _only(folder: Path, suffixes: tuple[str, ...], what: str) -> Path:
    got = [p for p in folder.iterdir() if p.name.endswith(suffixes)]
    if not got:
        raise RuntimeError(f"{what}: nothing was downloaded")
    return got[0]


def _pip_download(name: str, version: str, tmp: Path) -> Path:
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--disable-pip-version-check",
          "-q", f"{name}=={version}", "-d", str(tmp)], f"pip download {name}=={version}")
    return _only(tmp, (".tar.gz", ".zip", ".tar.bz2", ".tgz"), f"pip download {name}=={version}")


def _apt_download(name: str, version: str, tmp: Path) -> Path:
    try:
        _run(["apt-get", "download", f"{name}={version}"], f"apt-get download {name}={version}", cwd=tmp)
    except RuntimeError as error:
        if "was not found" not in str(error):
            raise
        # a fresh machine's package lists may predate the pinned version (a security update)
        raise RuntimeError(f"{error} (the package lists may be older than this version: run `apt-get update` "
                           "as root, then the benchmark again)") from None
    return _only(tmp, (".deb",), f"apt-get download {name}={version}")


def _npm_pack(name: str, version: str, tmp: Path) -> Path:
    _run(["npm", "pack", f"{name}@{version}", "--silent"], f"npm pack {name}@{version}", cwd=tmp)
    return _only(tmp, (".tgz",), f"npm pack {name}@{version}")


def index_workspace(root: Path) -> tuple["Project", float]:
    """The server's project for `root` after a complete scan, and the seconds the scan took."""
    from server.project import Project

    start = time.perf_counter()
    project = Project([root], background=False)
    while not project.scan(limit_seconds=60):
        pass
    return project, time.perf_counter() - start


# ------------------------------------------------------------------------------------ tasks


@dataclass(frozen=True)
class Definition:
    path: str  # workspace-relative path of the defining file
    line: int  # zero-based
    text: str  # the defining line, without its line ending
    name: str
    module: str


@dataclass(frozen=True)
class Task:
    package: str
    task_id: str  # package/path:line:column
    path: str
    line: int  # zero-based
    column: int  # code points
    character: int  # UTF-16 code units (LSP)
    name: str  # the name as written at the cursor
    hole: str  # the rest of the line from the cursor (the reference)
    definition: Definition
    style: str  # from-relative | from-absolute | module-attribute
    reexported: bool  # the name was imported from a module that only re-exports it
    split: str  # dev | test
    text: str = field(repr=False, compare=False, default="")  # the document: the hole deleted
    language: str = "python"  # the LSP languageId of the document

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("text")
        return out


def is_library_file(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    if not name.endswith(".py") or name in ("setup.py", "conftest.py", "noxfile.py", "conf.py"):
        return False
    if name.startswith("test_") or name.endswith("_test.py"):
        return False
    return not any(p.lower() in NON_LIBRARY or p.lower().startswith(("test-", "test_", "tests-", "tests_"))
                   or "example" in p.lower() for p in parts[:-1])


def split_of(package: str, path: str) -> str:
    """dev or test, fixed by package and path (independent of the seed), so held-out stays held out."""
    digest = hashlib.sha256(f"{package}/{path}".encode("utf-8")).digest()
    return "dev" if int.from_bytes(digest[:4], "big") / 2 ** 32 < DEV_SHARE else "test"


def _byte_col_to_index(line: str, col: int) -> int:
    return len(line.encode("utf-8", "surrogatepass")[:col].decode("utf-8", "replace"))


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


_BUILTINS = frozenset(dir(__import__("builtins")))


def _top_statements(body: Iterable[ast.stmt]) -> Iterable[ast.stmt]:
    """Module-level statements, looking inside if/try/with blocks but not into defs and classes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            yield from _top_statements(stmt.body)
            yield from _top_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            yield from _top_statements(stmt.body)
            for handler in stmt.handlers:
                yield from _top_statements(handler.body)
            yield from _top_statements(stmt.orelse)
            yield from _top_statements(stmt.finalbody)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            yield from _top_statements(stmt.body)


def _target_names(target: ast.AST) -> Iterable[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _target_names(elt)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


class Modules:
    """The Python modules among a workspace's files: dotted names, parse trees, definitions."""

    def __init__(self, files: Mapping[str, str], prefix: str = "") -> None:
        """`prefix`: the dotted name of the workspace folder when it is a package itself (a
        workspace opened at ``sympy/polys`` holds ``sympy.polys``)."""
        self.files = files
        py = [p for p in files if p.endswith(".py")]
        package_dirs = {p.rpartition("/")[0] for p in py if p.rpartition("/")[2] == "__init__.py"}
        self.path_of: dict[str, str] = {}
        self.module_of: dict[str, str] = {}
        for path in sorted(py, key=lambda p: (p.count("/"), p)):
            folder, _, name = path.rpartition("/")
            parts = [] if name == "__init__.py" else [name[:-3]]
            while folder and folder in package_dirs:
                folder, _, base = folder.rpartition("/")
                parts.insert(0, base)
            if prefix and not folder and "" in package_dirs:
                parts = prefix.split(".") + parts
            if not parts or not all(p.isidentifier() for p in parts):
                continue
            module = ".".join(parts)
            if module not in self.path_of:
                self.path_of[module] = path
                self.module_of[path] = module
        self.packages = {m.rpartition(".")[0] for m in self.path_of if "." in m}
        self._trees: dict[str, Optional[ast.Module]] = {}
        self._lines: dict[str, list[str]] = {}
        self._definitions: dict[tuple[str, str], Optional[tuple[Definition, bool]]] = {}

    def is_module(self, module: str) -> bool:
        return module in self.path_of or module in self.packages

    def tree(self, path: str) -> Optional[ast.Module]:
        if path not in self._trees:
            try:
                self._trees[path] = ast.parse(self.files[path], filename=path)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                self._trees[path] = None
        return self._trees[path]

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            self._lines[path] = lsp_lines(self.files[path])
        return self._lines[path]

    def package_of(self, path: str) -> str:
        module = self.module_of.get(path, "")
        return module if path.endswith("/__init__.py") or path == "__init__.py" else module.rpartition(".")[0]

    def absolute(self, path: str, module: Optional[str], level: int) -> Optional[str]:
        """The absolute module an ImportFrom in `path` names."""
        if not level:
            return module or None
        base = self.package_of(path)
        for _ in range(level - 1):
            if not base:
                return None
            base = base.rpartition(".")[0]
        if module:
            return f"{base}.{module}" if base else module
        return base or None

    def definition(self, module: str, name: str, depth: int = 0) -> Optional[tuple[Definition, bool]]:
        """Where `module` gets `name` from: (the defining line, True when found through re-exports)."""
        key = (module, name)
        if key in self._definitions:
            return self._definitions[key]
        self._definitions[key] = None  # cycles end here
        found = self._find(module, name, depth)
        self._definitions[key] = found
        return found

    def _find(self, module: str, name: str, depth: int) -> Optional[tuple[Definition, bool]]:
        path = self.path_of.get(module)
        tree = self.tree(path) if path else None
        if tree is None or depth > 6:
            return None
        statements = list(_top_statements(tree.body))
        for stmt in statements:
            hit = False
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                hit = stmt.name == name
            elif isinstance(stmt, ast.Assign):
                hit = any(name in _target_names(t) for t in stmt.targets)
                if hit and isinstance(stmt.value, ast.Name) and stmt.value.id in _BUILTINS:
                    return None  # ``str = str``: a compatibility alias of a builtin says nothing
            elif isinstance(stmt, ast.AnnAssign):
                hit = isinstance(stmt.target, ast.Name) and stmt.target.id == name
            if hit:
                line = stmt.lineno - 1
                text = self.lines(path)[line].rstrip("\r\n")
                return Definition(path, line, text, name, module), False
        stars = []
        for stmt in statements:  # re-exports: from .x import name [as name]
            if isinstance(stmt, ast.ImportFrom):
                source = self.absolute(path, stmt.module, stmt.level)
                if source is None:
                    continue
                for alias in stmt.names:
                    if alias.name == "*":
                        stars.append(source)
                    elif (alias.asname or alias.name) == name:
                        if self.is_module(f"{source}.{alias.name}"):
                            return None  # a submodule, not a definition
                        found = self.definition(source, alias.name, depth + 1)
                        return (found[0], True) if found else None
        for source in stars:
            found = self.definition(source, name, depth + 1)
            if found:
                return found[0], True
        return None


def _bindings(modules: Modules, path: str, tree: ast.Module) -> tuple[dict[str, set[tuple]], set[str]]:
    """Import bindings of a file (local name -> what it names) and the names it binds otherwise."""
    bindings: dict[str, set[tuple]] = {}
    others: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = modules.absolute(path, node.module, node.level)
            style = "from-relative" if node.level else "from-absolute"
            for alias in node.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                sub = f"{base}.{alias.name}" if base else alias.name
                if base and modules.is_module(sub):
                    bindings.setdefault(local, set()).add(("module", sub))
                elif base and base in modules.path_of:
                    bindings.setdefault(local, set()).add(("symbol", base, alias.name, style))
                else:
                    bindings.setdefault(local, set()).add(("external", base, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    target = ("module", alias.name) if modules.is_module(alias.name) else ("external", alias.name)
                    bindings.setdefault(alias.asname, set()).add(target)
                else:
                    top = alias.name.split(".")[0]
                    target = ("module", top) if modules.is_module(top) else ("external", top)
                    bindings.setdefault(top, set()).add(target)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            others.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            others.add(node.name)
        elif isinstance(node, ast.arg):
            others.add(node.arg)
        elif (isinstance(node, ast.ExceptHandler) or type(node).__name__ in ("MatchAs", "MatchStar")) \
                and getattr(node, "name", None):
            others.add(node.name)
    return bindings, others


def extract_tasks(package: str, files: Mapping[str, str], modules: Optional[Modules] = None) -> list[Task]:
    """Every cross-file use in the package's library files: one task per line (its first such use)."""
    modules = modules or Modules(files)
    tasks: list[Task] = []
    for path in sorted(files):
        if is_library_file(path) and modules.tree(path) is not None:
            tasks += _file_tasks(package, path, modules)
    return tasks


def extract_language_tasks(package: str, files: Mapping[str, str]) -> list[Task]:
    """Cross-file uses in Go, Rust, TypeScript, JavaScript, Java, C and C++ library files
    (`benchmarks.languages`): one task per line (its first such use)."""
    from benchmarks import languages

    index = languages.definition_index(files)
    module = languages._go_module(files)
    tasks: list[Task] = []
    for path in sorted(files):
        language = languages.language_of(path)
        if language is None or not languages.is_library(path):
            continue
        text = files[path]
        lines = lsp_lines(text)
        for use, target, target_line in languages.file_uses(path, text, language, index, files, module):
            body = lines[use.line].rstrip("\r\n") if use.line < len(lines) else ""
            hole = body[use.column:].rstrip()
            if body[use.column:use.column + len(use.name)] != use.name or not hole or len(hole) > MAX_HOLE_CHARS:
                continue
            target_lines = lsp_lines(files[target])
            definition = Definition(target, target_line, target_lines[target_line].rstrip("\r\n"), use.name, "")
            ending = lines[use.line][len(body):]
            document = "".join(lines[:use.line]) + body[:use.column] + ending + "".join(lines[use.line + 1:])
            tasks.append(Task(package=package, task_id=f"{package}/{path}:{use.line + 1}:{use.column}", path=path,
                              line=use.line, column=use.column, character=index_to_utf16(body, use.column),
                              name=use.name, hole=hole, definition=definition, style=use.style, reexported=False,
                              split=split_of(package, path), text=document, language=language))
    return tasks


def _file_tasks(package: str, path: str, modules: Modules) -> list[Task]:
    tree = modules.tree(path)
    bindings, others = _bindings(modules, path, tree)
    lines = modules.lines(path)
    uses: dict[int, tuple[int, str, Definition, str, bool]] = {}  # line -> its first use

    def add(line_no: int, byte_col: int, name: str, definition: Definition, style: str, reexported: bool) -> None:
        if definition.path == path or not (0 <= line_no < len(lines)):
            return
        body = lines[line_no].rstrip("\r\n")
        column = _byte_col_to_index(body, byte_col)
        if body[column:column + len(name)] != name:
            return
        hole = body[column:].rstrip()
        if not hole or len(hole) > MAX_HOLE_CHARS:
            return
        if line_no not in uses or column < uses[line_no][0]:
            uses[line_no] = (column, name, definition, style, reexported)

    def single(name: str, kind: str) -> Optional[tuple]:
        """The one import binding of `name` when it is of `kind` and nothing else rebinds the name."""
        targets = bindings.get(name)
        if not targets or len(targets) != 1 or name in others:
            return None
        target = next(iter(targets))
        return target if target[0] == kind else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            target = single(node.id, "symbol")
            found = modules.definition(target[1], target[2]) if target else None
            if found:
                add(node.lineno - 1, node.col_offset, node.id, found[0], target[3], found[1])
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            chain = _dotted(node.value)
            if chain is None or node.end_lineno is None or node.end_col_offset is None:
                continue
            head, _, rest = chain.partition(".")
            target = single(head, "module")
            if target is None:
                continue
            module = f"{target[1]}.{rest}" if rest else target[1]
            if module not in modules.path_of or modules.is_module(f"{module}.{node.attr}"):
                continue
            found = modules.definition(module, node.attr)
            if found:
                col = node.end_col_offset - len(node.attr.encode("utf-8"))
                add(node.end_lineno - 1, col, node.attr, found[0], "module-attribute", found[1])
    tasks = []
    for line_no in sorted(uses):
        column, name, definition, style, reexported = uses[line_no]
        body = lines[line_no].rstrip("\r\n")
        ending = lines[line_no][len(body):]
        text = "".join(lines[:line_no]) + body[:column] + ending + "".join(lines[line_no + 1:])
        tasks.append(Task(package=package, task_id=f"{package}/{path}:{line_no + 1}:{column}", path=path,
                          line=line_no, column=column, character=index_to_utf16(body, column), name=name,
                          hole=body[column:].rstrip(), definition=definition, style=style,
                          reexported=reexported, split=split_of(package, path), text=text))
    return tasks


def sample_tasks(tasks: Sequence[Task], limit: int, seed: int, split: str = "test") -> list[Task]:
    """`limit` tasks (all when <= 0) of `split` ("all": both) drawn with `seed`, spread over the files.

    Files are visited in a shuffled order, taking one random use from each in turn, so a file with
    hundreds of uses cannot fill a package's sample on its own."""
    pool = [t for t in tasks if split == "all" or t.split == split]
    if not pool:
        return []
    rng = random.Random(f"{seed}:{pool[0].package}")
    by_file: dict[str, list[Task]] = {}
    for t in pool:
        by_file.setdefault(t.path, []).append(t)
    queues = []
    for path in sorted(by_file):
        group = list(by_file[path])
        rng.shuffle(group)
        queues.append(group)
    rng.shuffle(queues)
    limit = limit if limit > 0 else len(pool)
    chosen: list[Task] = []
    while len(chosen) < limit and queues:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop())
        queues = [q for q in queues if q]
    return chosen


# ------------------------------------------------------------------------------------ prompts


def make_provider(task: Task, project: "Project", timings: Optional[list] = None, text: Optional[str] = None,
                  cpu: Optional[list] = None):
    """The server's context provider (`Project.context`) for the task's document, opened in the
    editor as the only open document (the user moves from file to file). `timings` collects the
    milliseconds of each call, `cpu` the CPU milliseconds of the calling thread (what the call costs
    with a core of its own, on a shared machine); `provider.last` is its last answer."""
    text = task.text if text is None else text
    path = project.index.abspath(task.path)
    for other in project.index.open_paths():
        if other != task.path:
            project.closed(project.index.abspath(other))
    project.opened(path, text)
    provide = project.context(path, text, task.line, timings, language=task.language, character=task.character)

    def provider(window: tuple[int, int], budget_chars: int) -> list:
        start = time.thread_time()
        provider.last = provide(window, budget_chars)
        if cpu is not None:
            cpu.append((time.thread_time() - start) * 1000)
        return provider.last

    provider.last = []
    return provider


def request_for(task: Task, provider=None):
    from server.completion import CompletionRequest

    return CompletionRequest(text=task.text, line=task.line, character=task.character, path=task.path,
                             context=provider, language=task.language)


def context_hit(segments: Iterable, definition: Definition) -> tuple[bool, bool]:
    """(defining line in a context segment from the defining file, that file in the context at all).

    An assignment whose value was redacted still counts when ``NAME =`` starts a line."""
    target = definition.text.strip()
    head = None
    after = target[len(definition.name):].lstrip()
    if target.startswith(definition.name) and after[:1] in ("=", ":"):
        head = target[:len(target) - len(after)] + after[:1]  # "NAME =" or "NAME:"
    file_hit = False
    for segment in segments:
        if segment.kind != "context" or segment.source != definition.path:
            continue
        file_hit = True
        for line in segment.text.splitlines():
            stripped = line.strip()
            if stripped == target or (head is not None and stripped.startswith(head)):
                return True, True
    return False, file_hit


class PromptRig:
    """One engine and completer for building prompts (and completing) at one contextSize."""

    def __init__(self, model: Path, context_size: int, threads: Optional[int] = 1, max_tokens: Optional[int] = None,
                 context_before_bos: bool = False, exact_cache: bool = False,
                 time_budget_ms: Optional[int] = 600_000) -> None:
        """`time_budget_ms` None: the server's default budget (what users get)."""
        from server.completion import open_completer
        from server.settings import Settings

        options: dict = {"context_size": context_size, "context_before_bos": context_before_bos}
        if time_budget_ms is not None:
            options["time_budget_ms"] = time_budget_ms
        if max_tokens:
            options["max_tokens"] = max_tokens
        self.settings = Settings(model=str(model), threads=threads, **options)
        # cache_reuse_min=0: the KV cache keeps only an exactly equal prompt head (no chunk shifting),
        # so each prompt is evaluated as if fresh.
        self.completer = open_completer(self.settings, cache_reuse_min=0 if exact_cache else 16)
        self.engine = self.completer.engine

    def with_placement(self, context_before_bos: bool):
        from server.completion import Completer

        return Completer(self.engine, replace(self.settings, context_before_bos=context_before_bos))

    def close(self) -> None:
        self.engine.close()


# ------------------------------------------------------------------------------------ scoring


def first_line(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n", 1)[0]


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def edit_similarity(prediction: str, reference: str) -> float:
    """1 - Levenshtein distance / the longer length, on stripped text (1.0 for two empty strings)."""
    a, b = prediction.strip(), reference.strip()
    if not a and not b:
        return 1.0
    return 1.0 - levenshtein(a, b) / max(len(a), len(b))


def exact_match(prediction: str, reference: str) -> bool:
    return prediction.strip() == reference.strip()


def recall_summary(records: Sequence[dict], budgets: Sequence[int], key: str = "package") -> dict:
    """Per package (or per `key`: "language") and overall: n, recall and file recall per budget."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r.get(key, "python"), []).append(r)
    groups["overall"] = list(records)
    out = {}
    for name, rows in groups.items():
        n = len(rows)
        out[name] = {"n": n,
                     "recall": {str(b): (sum(r["hit"][str(b)] for r in rows) / n if n else 0.0) for b in budgets},
                     "file_recall": {str(b): (sum(r["file_hit"][str(b)] for r in rows) / n if n else 0.0)
                                     for b in budgets}}
    return out


MISS_REASONS = ("selected, then cut by the prompt's token budget", "defining line altered by redaction",
                "line not in the defining file's snippet", "defining file imported, not selected",
                "defining file not among the resolved imports")


def miss_reason(task: Task, files: Mapping[str, str], hit: bool, file_hit: bool, paths=None,
                selected: Sequence = ()) -> str:
    """Why the defining line is not in the context ("" when it is), judged with `fim.imports`.

    `selected` is what select_context returned for the prompt (before the prompt builder fitted it
    to the token budget)."""
    if hit:
        return ""
    if context_hit((_Selected(s.source, s.text) for s in selected), task.definition)[0]:
        return MISS_REASONS[0]
    if file_hit:
        text = task.definition.text.strip()
        at = text.find(task.definition.name)
        head = text[:at + len(task.definition.name)] if at >= 0 else text  # "def NAME", "class NAME", "NAME"
        for snippet in selected:
            if snippet.source == task.definition.path and any(
                    line.strip().startswith(head) and "redacted" in line for line in snippet.text.splitlines()):
                return MISS_REASONS[1]
        return MISS_REASONS[2]
    from fim import languages
    from fim.imports import imported_modules, path_index, resolve

    known = paths if paths is not None else path_index(files)
    entry = languages.get(task.language, task.path)
    if entry is not None and entry.learn is not None:  # C#'s namespaces, read from the files' texts
        entry.learn(known, files)
    resolved = set()
    for ref in imported_modules(task.text, task.language):
        resolved.update(resolve(ref, task.path, known))
    return MISS_REASONS[3] if task.definition.path in resolved else MISS_REASONS[4]


@dataclass(frozen=True)
class _Selected:
    source: str
    text: str
    kind: str = "context"


def misses_by_style(records: Sequence[dict], budget: int) -> dict:
    """Tasks and misses at `budget` by import style, with the reasons of the misses."""
    out: dict[str, dict] = {}
    for r in records:
        key = r["style"] + (" via re-export" if r["reexported"] else "")
        row = out.setdefault(key, {"n": 0, "missed": 0, "reasons": {}})
        row["n"] += 1
        if not r["hit"][str(budget)]:
            row["missed"] += 1
            reason = r.get("miss_reason") or "?"
            row["reasons"][reason] = row["reasons"].get(reason, 0) + 1
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------ the run


def default_quality_model() -> Path:
    """Gemma 3 270M Q4_K_M, the real small model."""
    from models.small import gemma_270m

    return gemma_270m()


def measure_recall(tasks: Sequence[Task], projects: Mapping[str, "Project"], rigs: Mapping[int, PromptRig],
                   default_budget: int, log: Callable[[str], None] = lambda s: None) -> list[dict]:
    from fim.imports import path_index

    files_of = {name: project.index.snapshot() for name, project in projects.items()}
    indexes = {name: path_index(files) for name, files in files_of.items()}
    records = []
    for k, task in enumerate(tasks, 1):
        record = {"task_id": task.task_id, "package": task.package, "language": _reported(task.language),
                  "style": task.style,
                  "reexported": task.reexported, "hit": {}, "file_hit": {}, "context_tokens": {}}
        for budget, rig in rigs.items():
            provider = make_provider(task, projects[task.package])
            _, prompt = rig.completer.prompt_for(request_for(task, provider))
            hit, file_hit = context_hit(prompt.segments, task.definition)
            record["hit"][str(budget)] = hit
            record["file_hit"][str(budget)] = file_hit
            record["context_tokens"][str(budget)] = sum(len(s.token_ids) for s in prompt.segments
                                                        if s.kind == "context")
            record["prompt_tokens_" + str(budget)] = len(prompt.token_ids)
            if budget == default_budget:
                record["miss_reason"] = miss_reason(task, files_of[task.package], hit, file_hit,
                                                    indexes[task.package], provider.last)
                record["definition"] = f"{task.definition.path}:{task.definition.line + 1}"
        records.append(record)
        if k % 20 == 0 or k == len(tasks):
            log(f"recall: {k}/{len(tasks)} tasks")
    return records


def _reported(language: str) -> str:
    from benchmarks.languages import REPORTED

    return REPORTED.get(language, language)


def measure_timing(tasks: Sequence[Task], project: "Project",
                   rig: PromptRig, cpu: Optional[dict[str, list[float]]] = None
                   ) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds of the provider call (select_context) for prompts built at the rig's budget:
    (the server's background warm-up when the file is opened, the first request at each task's
    cursor after it, the request after typing one more character there).

    The tasks come one after another as if the user moved from file to file, so the caches inside
    `fim` hold what the earlier requests left, as in a running server. The warm-up is what
    `deepfim serve` does on ``didOpen`` (`DeepfimServer.warm`: a prompt at the file's start).
    `cpu` ("open", "cursor", "keystroke") collects the CPU milliseconds of the same calls."""
    cpu = cpu if cpu is not None else {}
    opened: list[float] = []
    first: list[float] = []
    next_key: list[float] = []
    for task in tasks:
        rig.completer.prompt_for(replace(request_for(task, make_provider(task, project, opened, cpu=cpu.get("open"))),
                                         line=0, character=0))
        rig.completer.prompt_for(request_for(task, make_provider(task, project, first, cpu=cpu.get("cursor"))))
        typed = task.text[:_offset(task)] + task.hole[:1] + task.text[_offset(task):]
        request = request_for(task, make_provider(task, project, next_key, typed, cpu=cpu.get("keystroke")))
        step = len(task.hole[:1].encode("utf-16-le")) // 2
        rig.completer.prompt_for(replace(request, text=typed, character=task.character + step))
    return opened, first, next_key


def _offset(task: Task) -> int:
    lines = lsp_lines(task.text)
    return sum(len(row) for row in lines[:task.line]) + task.column


def measure_quality(tasks: Sequence[Task], projects: Mapping[str, "Project"], rig: PromptRig,
                    log: Callable[[str], None] = lambda s: None) -> list[dict]:
    completers = {"none": rig.completer, "prefix": rig.with_placement(False), "bos": rig.with_placement(True)}
    records = []
    for k, task in enumerate(tasks, 1):
        record = {"task_id": task.task_id, "package": task.package, "hole": task.hole}
        for condition in CONDITIONS:
            provider = None if condition == "none" else make_provider(task, projects[task.package])
            start = time.perf_counter()
            result = completers[condition].complete(request_for(task, provider), lambda: False)
            line = first_line(result.completion)
            record[condition] = {"completion": line, "em": exact_match(line, task.hole),
                                 "es": edit_similarity(line, task.hole), "ms": (time.perf_counter() - start) * 1000,
                                 "prompt_tokens": len(result.prompt.token_ids),
                                 "evaluated": result.generation.prompt_tokens_evaluated}
        records.append(record)
        seconds = sum(record[c]["ms"] for c in CONDITIONS) / 1000
        log(f"quality [{k}/{len(tasks)}] {task.task_id}: ES "
            + " ".join(f"{c} {record[c]['es']:.2f}" for c in CONDITIONS) + f" ({seconds:.0f} s)")
    return records


def quality_summary(records: Sequence[dict]) -> dict:
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["package"], []).append(r)
    groups["overall"] = list(records)
    out = {}
    for name, rows in groups.items():
        n = len(rows)
        out[name] = {"n": n}
        for c in CONDITIONS:
            out[name][c] = {"em": sum(r[c]["em"] for r in rows) / n, "es": sum(r[c]["es"] for r in rows) / n}
    return out


def quality_subset(by_package: Mapping[str, Sequence[Task]], total: int) -> list[Task]:
    """`total` tasks taken round-robin from each package's (already shuffled) sample."""
    chosen: list[Task] = []
    queues = {name: list(tasks) for name, tasks in by_package.items()}
    while len(chosen) < total and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < total:
                chosen.append(queue.pop(0))
    return chosen


def _short(budget: int) -> str:
    return f"{budget // 1024}K" if budget % 1024 == 0 else str(budget)


def print_report(report: dict, out=None) -> None:
    out = out or sys.stdout
    cfg = report["config"]
    budgets = cfg["budgets"]
    default = cfg["default_budget"]
    print(f"deepfim repository-level benchmark (CrossCodeEval method): split {cfg['split']}, seed {cfg['seed']}, "
          f"{report['elapsed_s']:.0f} s", file=out)
    print("packages:", file=out)
    for p in report["packages"]:
        print(f"  {p['name']:10} {p['version']:8} {p['files']:5d} files indexed in {p['index_s']:.1f} s, "
              f"{p['candidates']:5d} cross-file uses ({p['in_split']} in split), {p['tasks']} tasks", file=out)

    recall = report["recall"]
    print(f"\n1. Retrieval recall: defining line in the prompt's context, by contextSize "
          f"(DeepSeek tokenizer, default split); 'file' = defining file in context at {_short(default)}", file=out)
    width = max([10] + [len(name) for name in recall])
    for title, table in (("package", recall), ("language", report.get("recall_by_language") or {})):
        head = f"  {title:{width}} {'tasks':>5}  " + "  ".join(f"{_short(b):>6}" for b in budgets) + f"  {'file':>6}"
        print(head, file=out)
        for name, s in table.items():
            if name == "overall":
                print("  " + "-" * (len(head) - 2), file=out)
            print(f"  {name:{width}} {s['n']:5d}  " + "  ".join(f"{s['recall'][str(b)]:6.3f}" for b in budgets)
                  + f"  {s['file_recall'].get(str(default), float('nan')):6.3f}", file=out)
        print(file=out)
    for name, s in (report.get("recall_by_language") or recall).items():
        at_default = s["recall"].get(str(default))
        if name != "overall" and at_default is not None:
            verdict = "meets" if at_default >= TARGET_RECALL else "BELOW"
            print(f"  {name}: recall {at_default:.3f} at {default} - {verdict} the target >= {TARGET_RECALL}", file=out)
    print(f"  misses at {default} by import style (missed / tasks: why):", file=out)
    for style, row in report["misses"].items():
        why = "; ".join(f"{n} {reason}" for reason, n in sorted(row["reasons"].items(), key=lambda kv: -kv[1]))
        print(f"    {style:31} {row['missed']:3d} / {row['n']:<3d}" + (f": {why}" if why else ""), file=out)

    quality = report.get("quality")
    if quality:
        q = cfg["quality"]
        print(f"\n2. First line of the completion, {q['model']}, contextSize {q['context_size']}, "
              f"maxTokens {q['max_tokens']}, {quality['overall']['n']} tasks", file=out)
        print(f"  {'package':10} {'tasks':>5}  {'no context':>15}  {'context #path':>15}  {'before BOS':>15}", file=out)
        print(f"  {'':10} {'':5}  " + "  ".join(f"{'EM':>7} {'ES':>7}" for _ in CONDITIONS), file=out)
        for name, s in quality.items():
            if name == "overall":
                print("  " + "-" * 67, file=out)
            print(f"  {name:10} {s['n']:5d}  " + "  ".join(f"{s[c]['em']:7.3f} {s[c]['es']:7.3f}" for c in CONDITIONS),
                  file=out)
        if report.get("quality_ms"):
            print("  mean ms per completion: " + ", ".join(f"{c} {report['quality_ms'][c]:.0f}" for c in CONDITIONS),
                  file=out)

    for timing in report.get("timing") or []:
        print(f"\n3. Context selection (select_context) per request on {timing['package']} ({timing['files']} files "
              f"indexed in {timing['index_s']:.1f} s), contextSize {default}, {timing['n']} cursors; target p95 < "
              f"{TARGET_P95_MS:.0f} ms", file=out)
        for label, title in (("open", "warm-up on opening a file"), ("cursor", "first request at a cursor"),
                             ("keystroke", "next keystroke there")):
            t = timing.get(label)
            if t is None:
                continue
            verdict = "background, not a request" if label == "open" else \
                ("meets the target" if t["p95_ms"] < TARGET_P95_MS else "ABOVE the target")
            print(f"  {title:26} p50 {t['p50_ms']:6.1f} ms  p95 {t['p95_ms']:6.1f} ms  max {t['max_ms']:6.1f} ms"
                  f"  ({verdict}); CPU p50 {t.get('cpu_p50_ms', float('nan')):.1f} p95 "
                  f"{t.get('cpu_p95_ms', float('nan')):.1f} ms", file=out)
        print(f"  the very first warm-up after indexing: {timing['first_after_index_ms']:.1f} ms", file=out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.repo_context",
                                     description="Repository-level context benchmark (CrossCodeEval's method) "
                                                 "on real packages from PyPI.")
    parser.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES), metavar="NAME==VERSION|DIR",
                        help="pinned sdists from the package registry, or source directories "
                             f"(default: {' '.join(DEFAULT_PACKAGES)})")
    parser.add_argument("--tasks-per-package", type=int, default=DEFAULT_TASKS,
                        help=f"tasks per package for recall, 0 = all (default {DEFAULT_TASKS})")
    parser.add_argument("--quality-tasks", type=int, default=DEFAULT_QUALITY_TASKS,
                        help=f"tasks in all for EM/ES with the real model, spread over the packages; 0 = skip "
                             f"(default {DEFAULT_QUALITY_TASKS})")
    parser.add_argument("--split", choices=("test", "dev", "all"), default="test",
                        help="held-out test files (default), development files, or both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS), help="contextSize values for recall")
    parser.add_argument("--timing-requests", type=int, default=TIMING_REQUESTS,
                        help=f"requests timed on the largest package (default {TIMING_REQUESTS}; 0 = skip)")
    parser.add_argument("--model", help="GGUF for EM/ES (default: Gemma 3 270M Q4_K_M from the test extras)")
    parser.add_argument("--quality-context-size", type=int, default=QUALITY_CONTEXT)
    parser.add_argument("--quality-max-tokens", type=int, default=QUALITY_MAX_TOKENS)
    parser.add_argument("--threads", type=int, default=1,
                        help="llama.cpp threads (default 1: on a busy machine more threads spin on each other)")
    parser.add_argument("--json", metavar="OUT", help="write the report and every task's record here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from server.settings import Settings

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    default_budget = Settings().context_size
    budgets = sorted(set(args.budgets) | {default_budget})
    packages, projects, sampled, info, candidates = [], {}, {}, [], {}
    for spec in args.packages:
        try:
            package = fetch(spec, log)
        except (ValueError, RuntimeError, OSError, tarfile.TarError, zipfile.BadZipFile) as error:
            print(f"benchmarks.repo_context: {error}", file=sys.stderr)
            return 2
        if package.name in projects:
            continue
        project, index_s = index_workspace(package.root)
        files = project.index.snapshot()
        prefix = ".".join(package.name.split("/")[1:]) if "__init__.py" in files else ""
        modules = Modules(files, prefix)
        tasks = extract_tasks(package.name, files, modules) + extract_language_tasks(package.name, files)
        chosen = sample_tasks(tasks, args.tasks_per_package, args.seed, args.split)
        packages.append(package)
        projects[package.name] = project
        candidates[package.name] = tasks
        sampled[package.name] = chosen
        language = Counter(_reported(t.language) for t in tasks).most_common(1)
        info.append({"name": package.name, "version": package.version, "files": len(files),
                     "language": language[0][0] if language else "python",
                     "index_s": round(index_s, 2), "candidates": len(tasks),
                     "in_split": sum(1 for t in tasks if args.split == "all" or t.split == args.split),
                     "tasks": len(chosen)})
        log(f"{package.name} {package.version}: {len(files)} files, {len(tasks)} cross-file uses, {len(chosen)} tasks")
    all_tasks = [t for name in sampled for t in sampled[name]]
    if not all_tasks:
        print("benchmarks.repo_context: no tasks found", file=sys.stderr)
        return 1

    from models.synthetic import TINY, synthetic_deepseek

    tokenizer_model = synthetic_deepseek(TINY)
    rigs = {b: PromptRig(tokenizer_model, b, threads=1) for b in budgets}
    try:
        records = measure_recall(all_tasks, projects, rigs, default_budget, log)
        timing = []
        if args.timing_requests > 0:
            # The largest workspace, and the largest of the languages other than Python (tree-sitter).
            largest = max(info, key=lambda p: p["files"])
            others = [p for p in info if p["language"] != "python"]
            other = max(others, key=lambda p: p["files"]) if others else None
            targets = [largest] + ([other] if other is not None and other is not largest else [])
            for package in targets:
                pool = sample_tasks(candidates[package["name"]], args.timing_requests, args.seed + 1, "all")
                log(f"timing: {len(pool)} requests on {package['name']}")
                cpu: dict[str, list[float]] = {"open": [], "cursor": [], "keystroke": []}
                opened, first, next_key = measure_timing(pool, projects[package["name"]], rigs[default_budget], cpu)
                if first:
                    row = {"package": package["name"], "files": package["files"], "index_s": package["index_s"],
                           "n": len(first), "first_after_index_ms": opened[0]}
                    for label, times in (("open", opened), ("cursor", first), ("keystroke", next_key)):
                        row[label] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
                                      "max_ms": max(times), "cpu_p50_ms": percentile(cpu[label], 50),
                                      "cpu_p95_ms": percentile(cpu[label], 95)}
                    timing.append(row)
    finally:
        for rig in rigs.values():
            rig.close()

    quality_records: list[dict] = []
    quality_cfg = None
    if args.quality_tasks > 0:
        model = Path(args.model).expanduser().resolve() if args.model else default_quality_model()
        subset = quality_subset(sampled, args.quality_tasks)
        quality_cfg = {"model": model.name, "context_size": args.quality_context_size,
                       "max_tokens": args.quality_max_tokens}
        rig = PromptRig(model, args.quality_context_size, threads=args.threads or None,
                        max_tokens=args.quality_max_tokens, exact_cache=True)
        try:
            rig.completer.complete(request_for(subset[0]), lambda: False)  # warm-up, not scored
            quality_records = measure_quality(subset, projects, rig, log)
        except KeyboardInterrupt:
            log(f"interrupted after {len(quality_records)} quality tasks")
        finally:
            rig.close()

    report = {
        "config": {"packages": args.packages, "tasks_per_package": args.tasks_per_package, "split": args.split,
                   "seed": args.seed, "budgets": budgets, "default_budget": default_budget,
                   "quality": quality_cfg, "timing_requests": args.timing_requests},
        "elapsed_s": round(time.perf_counter() - started, 1),
        "packages": info,
        "recall": recall_summary(records, budgets),
        "recall_by_language": recall_summary(records, budgets, "language"),
        "misses": misses_by_style(records, default_budget),
        "timing": timing,
    }
    if quality_records:
        report["quality"] = quality_summary(quality_records)
        report["quality_ms"] = {c: sum(r[c]["ms"] for r in quality_records) / len(quality_records) for c in CONDITIONS}
    print_report(report)
    if args.json:
        payload = dict(report, tasks=[t.to_json() for t in all_tasks], recall_records=records,
                       quality_records=quality_records)
        Path(args.json).write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

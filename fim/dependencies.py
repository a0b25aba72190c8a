"""Where an import the workspace does not resolve is defined among the project's installed dependencies. Pure.

The files come as a mapping (`installed`) that the server reads on demand: ``key in installed`` says whether
the file exists (a stat), ``installed[key]`` is its text ("" where it is unusable); it is never iterated. Keys:

* ``site-packages/<path>`` for the Python environment's installed packages (``site-packages/httpcore/_models.py``;
  ``site-packages/google/`` asks whether that folder exists: a namespace package has no ``__init__``);
* workspace-relative paths inside a ``node_modules`` folder (``web/node_modules/zod/lib/types.d.ts``);
* workspace-relative paths inside a Go module's ``vendor`` folder (``vendor/github.com/x/y/pkg/y.go``), a Composer
  ``vendor`` folder, a Ruby bundle path, and the workspace's manifests (Cargo.lock, go.mod, composer.json,
  Gemfile.lock, .dart_tool/package_config.json...); a key ending with ``/`` names a folder, whose text is the names
  of its files, one a line (a Go package's files);
* ``cargo-registry/``, ``cargo-git/``, ``go-modules/``, ``ruby-gems/<i>/``, ``pub-packages/<folder>/<name>/``,
  ``c-include/<k>/`` and ``lua-path/<k>/`` for Cargo's sources and checkouts, Go's module cache, the gem dirs, the
  Dart package roots a package_config.json names, the C/C++ include folders and the folders Lua modules are
  searched in (`fim.crates`, `fim.gomodules`, `fim.gems`, `fim.pubpackages`, `fim.cheaders`, `fim.luamodules`);
  ``../`` for a Go module or crate beside the workspace.

`installed_definitions` maps one import to the installed files that define the names the document uses from it
(following re-exports: ``from ._models import Request`` in a package's ``__init__``, ``export * from
"./types"`` and ``export { default as Tokenizer } from "./Tokenizer.js"`` in a ``.d.ts``; a module re-exported
whole, ``export * as DomUtils from "domutils"``, with the names used as ``DomUtils.getText``, `reexported_module`;
a submodule imported by name, ``from pkg import mod``, with the names used as
``mod.name``; a name used through a chain of installed submodules, ``np.linalg.norm``: `fim.pychains`;
FOLLOW_DEPTH files deep, each file looked into once per name sought, so re-exports in a cycle or a diamond of
``export *`` files cost each file once), stub files first: ``.pyi`` and ``NAME-stubs`` packages for Python, ``.d.ts``
declarations (package.json ``types``/``typings``/``exports`` types conditions, ``typesVersions``, ``index.d.ts``,
``@types/NAME``; an installed package's own dependencies also in pnpm's hoisted ``node_modules/.pnpm/node_modules``)
for JavaScript and TypeScript, where a Node built-in (``fs``, ``node:fs``, ``fs/promises``) is its
``declare module`` block in @types/node (the file of its name, ``@types/node/fs.d.ts``, else one that
``index.d.ts`` references; a default import, ``import fs from "node:fs"``, stands for the names used as
``fs.readFileSync``); a name used as a chain through a namespace, enum or class of the declarations
(``window.showInformationMessage(``, ``ts.SyntaxKind.Identifier``) stands for the members it reaches
(`fim.namespaces.chained_uses`), not the whole namespace; for Go, the package's files in the ``vendor`` folder of
the nearest module above the file that has a ``vendor/modules.txt``, else in Go's module cache (keys
``go-modules/<path>@<version>/...``)
at the version the nearest ``go.mod`` requires (`fim.gomodules`); for Rust, the crate's files in Cargo's
registry sources (keys ``cargo-registry/...``) at the version the nearest ``Cargo.lock`` names (`fim.crates`); for
PHP, the class a ``use`` names in the Composer vendor folder of the nearest ``composer.json`` (`fim.composer`);
for Ruby, the installed gem's files (keys ``ruby-gems/...``, a relative bundle path's) defining the constants the
document uses (``Rack::Utils.escape_html``) at the version the nearest ``Gemfile.lock`` names (`fim.gems`); for
Dart, a ``package:`` import's library in the root the nearest ``.dart_tool/package_config.json`` gives the
package (keys ``pub-packages/...``), its exports and parts followed (`fim.pubpackages`);
for C and C++, an ``#include`` in the include folders a compiler searches (keys ``c-include/<k>/...``) and the
headers it includes, the standard library's left out (`fim.cheaders`); for
Java and Kotlin, the class in the dependency jars (Maven's local repository, Gradle's cache) of the nearest
``pom.xml`` or ``build.gradle``, its sources jar's ``.java`` else its class file as a Java stub (`fim.jars`); for
Lua, the module ``require`` loads from the folders Lua and Neovim search (`fim.luamodules`), the names used as
``path.join`` of ``local path = require "pl.path"``.

`module_names` lists the public names an installed module offers (a Python module's names and what its
``__init__`` re-exports, a ``.d.ts`` entry's declarations and exports, those of its ``export * from`` files too;
`namespace_names` a re-exported module's), a Go package's exported names, a Rust
crate's or module's, `fim.crates.crate_names`, a Ruby gem namespace's, `fim.gems.gem_names`, a Java or Kotlin
class's members, `fim.jars.class_members`, a Lua module's names): what may be typed after its alias (`fim.member`).
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from functools import lru_cache
from typing import Mapping, Optional

from fim import languages
from fim.cheaders import header_definitions
from fim.composer import composer_definitions
from fim.crates import crate_definitions, crate_names
from fim.gems import gem_definitions, gem_names
from fim.gomodules import package_folder
from fim.imports import ImportRef, imported_modules
from fim.jars import class_members, jar_definitions
from fim.luamodules import lua_module_file
from fim.languages.javascript import subpath_targets
from fim.memo import text_memo
from fim.namespaces import chained_uses
from fim.pubpackages import pub_definitions
from fim.symbols import defined_names, defines

SITE = "site-packages/"
FOLLOW_DEPTH = 3  # modules a name is followed through (``httpcore`` -> ``_sync`` -> ``connection_pool``)
MAX_STARS = 24  # ``export * from`` / ``from x import *`` lines of one file searched for a name
MAX_FOLLOWED_FILES = 64  # files a JavaScript module's ``export *`` re-exports are read through, per name or module
MAX_NAMES = 48  # names looked up per import
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
_PY_STEMS = (".pyi", "/__init__.pyi", ".py", "/__init__.py")
_DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")
_JS_SUFFIXES = _DECLARATION_SUFFIXES + (".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx")
_TYPE_CONDITIONS = ("types", "typings", "import", "module", "node", "require", "default")
# Node's built-in modules (``require("module").builtinModules`` of Node 20, less the internal ``_http_agent``...):
# an import of one, with or without ``node:``, is its ``declare module "fs"`` block in @types/node.
NODE_BUILTINS = frozenset("""
assert assert/strict async_hooks buffer child_process cluster console constants crypto dgram diagnostics_channel
dns dns/promises domain events fs fs/promises http http2 https inspector inspector/promises module net os path
path/posix path/win32 perf_hooks process punycode querystring readline readline/promises repl stream
stream/consumers stream/promises stream/web string_decoder sys timers timers/promises tls trace_events tty url
util util/types v8 vm wasi worker_threads zlib""".split())
MAX_REFERENCES = 128  # ``/// <reference path>`` lines of @types/node's index.d.ts searched for a built-in's file
_REFERENCE = re.compile(r"""^///\s*<reference\s+path\s*=\s*["']([^"']+)["']""", re.M)
# ``[^{}]``: on a minified line each ``export{`` reads up to the next brace, not to the line's end (``export{a,`` a
# megabyte over: minutes)
_EXPORT_LIST = re.compile(r"export\s*(?:type\s*)?\{([^{}]*)\}(?:\s*from\s*[\"']([^\"']+)[\"'])?")
# ``import * as z from "./external"`` (then ``export { z }``) or ``export * as DomUtils from "domutils"``
_NAMESPACE_IMPORT = r"(?:import|export)\s+\*\s+as\s+{name}\s+from\s+[\"']([^\"']+)[\"']"
_STAR_AS = re.compile(r"""export\s+\*\s+as\s+[A-Za-z_$][\w$]*\s+from\s+["']([^"']+)["']""")
_STAR = re.compile(r"""export\s+\*\s+from\s+["']([^"']+)["']""")
_JS_NAME = re.compile(r"[A-Za-z_$][\w$]*")  # ``$ZodType`` too
_STAR_AS_NAME = re.compile(r"""export\s+\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\s""")


def installed_definitions(ref: ImportRef, current_path: str, document: str,
                          installed: Mapping[str, str], limit: int = MAX_NAMES) -> dict[str, list[str]]:
    """Installed file -> the names of `ref` (an import of `document`, at `current_path`) it defines, in the
    order of `ref.names`, the first `limit` of them (Python, JavaScript, Lua, Go; the member being typed: more); {}
    when `ref` names no installed package (a relative import, the standard library) or none of its names is found."""
    names = list(dict.fromkeys(ref.names))[:limit]
    family = _family(ref.language)
    if family == "python":
        entry = _python_module(ref.module, installed) if not ref.module.startswith(".") else None
    elif family == "javascript" and names:
        entry = node_entry(ref.module, current_path, installed)
        if entry is not None and "default" in names and _node_builtin_name(ref.module):
            # ``import fs from "node:fs"`` (esModuleInterop): the names used as ``fs.readFileSync``
            alias = names[names.index("default") + 1:names.index("default") + 2]
            used = list(_members(document, alias[0])) if alias else []
            names = list(dict.fromkeys([n for n in names if n != "default" and n not in alias] + used))[:limit]
    elif family == "lua":  # ``local path = require "pl.path"``: the names used as ``path.join``
        entry = lua_module_file(ref.module, installed)
    elif family == "go":
        return _go_definitions(ref.module, names, current_path, installed)
    elif family == "rust":
        return crate_definitions(ref, current_path, document, installed)
    elif family == "php":
        return composer_definitions(ref, current_path, document, installed)
    elif family == "ruby":
        return gem_definitions(ref, current_path, document, installed)
    elif family == "dart":
        return pub_definitions(ref, current_path, installed)
    elif family == "c":
        return header_definitions(ref, document, installed)
    elif family == "jvm":
        return jar_definitions(ref, current_path, document, installed)
    else:
        return {}
    if entry is None:
        if family == "python" and ref.names and _python_package_folder(ref.module, installed):
            found = {}  # a namespace package (no ``__init__``): ``from google.protobuf import descriptor``
            for name in names:
                _add_submodule(ref.module, name, document, installed, found)
            return found
        return {}
    if not names:  # ``import pkg`` used nowhere yet but where it is being typed: what the package offers
        names = list(_reexported(installed[entry]))[:MAX_NAMES]
        if not names:
            return {entry: []}
    found: dict[str, list[str]] = {}
    for name in names:
        hits = _defining(entry, name, document, installed, FOLLOW_DEPTH)
        for path, defined in hits:
            held = found.setdefault(path, [])
            if defined not in held:
                held.append(defined)
        if not hits and family == "python" and ref.names:  # ``from urllib3.util import retry``: a submodule
            _add_submodule(ref.module, name, document, installed, found)
    if family == "python":  # ``np.linalg.norm``: a name of a submodule the alias leads to (`fim.pychains`)
        from fim.pychains import chain_definitions

        for path, defined in chain_definitions(ref, document, installed).items():
            held = found.setdefault(path, [])
            held.extend(n for n in defined if n not in held)
    if family == "javascript" and document and not _node_builtin_name(ref.module):
        # ``window.showInformationMessage(``: that member, not all `window` (a Node built-in's block: its names used;
        # ``http2.constants.X`` as members took the room of grpc-js's other http2 names at 8K)
        return chained_uses(ref.module, current_path, document, installed, found, limit)
    return found


def _add_submodule(module: str, name: str, document: str, installed: Mapping[str, str],
                   found: dict[str, list[str]]) -> None:
    """Add to `found` the installed submodule `name` of `module`, with the names `document` uses from it
    (``retry.Retry``), if there is one."""
    submodule = _python_module(f"{module}.{name}", installed)
    if submodule is None:
        return
    held = found.setdefault(submodule, [])
    for member in _members(document, name):
        for path, defined in _defining(submodule, member, document, installed, FOLLOW_DEPTH):
            if path == submodule and defined not in held:
                held.append(defined)
            elif path != submodule and defined not in found.setdefault(path, []):
                found[path].append(defined)


def _family(language: str) -> str:
    entry = languages.get(language)
    return entry.family if entry is not None else language


def _language_id(path: str) -> Optional[str]:
    name = path.lower()
    if name.endswith(_DECLARATION_SUFFIXES):
        return "typescript"
    entry = languages.for_path(path)
    return entry.id if entry is not None else None


# ------------------------------------------------------------------------------------ Python


def _python_module(module: str, installed: Mapping[str, str], base: str = "") -> Optional[str]:
    """The installed file of the absolute module `module` (or, with `base`, of `module`'s dotted parts
    inside the folder `base`): a ``NAME-stubs`` package, then ``.pyi``, then ``.py``."""
    parts = [p for p in module.split(".") if p]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    if base:
        stems = [posixpath.join(base, *parts)]
    else:
        if parts[0] in _STDLIB:
            return None
        stems = [SITE + "/".join([parts[0] + "-stubs"] + parts[1:]), SITE + "/".join(parts)]
    for stem in stems:
        for suffix in _PY_STEMS:
            if stem + suffix in installed:
                return stem + suffix
    return None


def _python_package_folder(module: str, installed: Mapping[str, str]) -> bool:
    """Whether the absolute `module` is an installed folder (a namespace package has no ``__init__``)."""
    parts = [p for p in module.split(".") if p]
    if not parts or parts[0] in _STDLIB or not all(p.isidentifier() for p in parts):
        return False
    return any(SITE + "/".join([head] + parts[1:]) + "/" in installed for head in (parts[0] + "-stubs", parts[0]))


def _python_target(ref: ImportRef, path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The installed file an import inside the installed file `path` names."""
    module = ref.module
    level = len(module) - len(module.lstrip("."))
    if not level:
        return _python_module(module, installed)
    base = posixpath.dirname(path)
    for _ in range(level - 1):
        base = posixpath.dirname(base)
    if not base.startswith(SITE.rstrip("/")) or base == SITE.rstrip("/"):
        return None
    rest = module[level:]
    if not rest:
        init = [base + s for s in ("/__init__.pyi", "/__init__.py")]
        return next((p for p in init if p in installed), None)
    return _python_module(rest, installed, base)


# ------------------------------------------------------------------------------------ JavaScript, TypeScript


def node_entry(spec: str, current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The declarations (else the source) a bare specifier (``zod``, ``@scope/pkg/sub``) names, from the
    nearest ``node_modules`` folder above `current_path` that holds the package, or its ``@types`` one; for an
    installed file, else pnpm's hoisted ``node_modules/.pnpm/node_modules``."""
    spec = spec.split("?")[0]
    builtin = _node_builtin_name(spec)
    if builtin:
        hit = _node_builtin(builtin, current_path, installed)
        if hit is not None or spec.startswith("node:"):
            return hit  # else a package of that name (``events``, ``punycode`` installed from npm)
    if not spec or spec.startswith((".", "/")) or ":" in spec or "\\" in spec:
        return None
    parts = spec.split("/")
    n = 2 if spec.startswith("@") else 1
    if len(parts) < n or not all(parts[:n]) or ".." in parts:
        return None
    name, subpath = "/".join(parts[:n]), "/".join(parts[n:])
    types_name = "@types/" + (name[1:].replace("/", "__") if n == 2 else name)
    folder = posixpath.dirname(current_path)
    while True:
        modules = posixpath.join(folder, "node_modules") if folder else "node_modules"
        for package in (name, types_name):
            hit = _package_file(posixpath.join(modules, package), subpath, installed)
            if hit is not None:
                return hit
        if not folder:
            break
        folder = posixpath.dirname(folder)
    # pnpm: a package's own dependencies lie beside it in the store, all hoisted to node_modules/.pnpm/node_modules
    parts = current_path.split("/")
    for i in reversed([i for i, part in enumerate(parts[:-1]) if part == "node_modules"]):
        hoisted = "/".join(parts[:i + 1] + [".pnpm", "node_modules"])
        for package in (name, types_name):
            hit = _package_file(posixpath.join(hoisted, package), subpath, installed)
            if hit is not None:
                return hit
    return None


def _node_builtin_name(spec: str) -> str:
    """``fs`` for ``fs`` and ``node:fs`` (``node:test``: only with ``node:``), "" for anything but a Node built-in."""
    name = spec[len("node:"):] if spec.startswith("node:") else spec
    if not spec.startswith("node:") and name not in NODE_BUILTINS:
        return ""
    parts = name.split("/")
    return name if all(p and p not in (".", "..") for p in parts) and "\\" not in name else ""


def _node_builtin(name: str, current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The @types/node file declaring the built-in `name` (``declare module "fs"`` or ``"node:fs"``) in the
    nearest ``node_modules`` above `current_path` that has @types/node: the file of that name (``fs.d.ts``,
    ``fs/promises.d.ts``; ``path.d.ts`` for ``path/posix``), else one that ``index.d.ts`` references."""
    declares = re.compile(r"""declare\s+module\s+["'](?:node:)?%s["']""" % re.escape(name))
    folder = posixpath.dirname(current_path)
    while True:
        types = posixpath.join(folder, "node_modules", "@types", "node") if folder else "node_modules/@types/node"
        manifest = types + "/package.json"
        data = _json(installed[manifest]) if manifest in installed else None
        if data is not None or types + "/index.d.ts" in installed:
            names = [name + ".d.ts", name.split("/")[0] + ".d.ts"]
            files = [f for n in names for f in _types_versions(data or {}, n) + [n]]
            for rel in dict.fromkeys(files):
                path = posixpath.normpath(posixpath.join(types, rel))
                if path.startswith(types + "/") and path in installed and declares.search(installed[path]):
                    return path
            indexes = [posixpath.normpath(posixpath.join(types, f))
                       for f in _types_versions(data or {}, "index.d.ts") + ["index.d.ts"]]
            index = next((f for f in indexes if f.startswith(types + "/") and f in installed), None)
            for ref in _REFERENCE.findall(installed[index])[:MAX_REFERENCES] if index else ():
                path = posixpath.normpath(posixpath.join(posixpath.dirname(index), ref))
                if path.startswith(types + "/") and path in installed and declares.search(installed[path]):
                    return path
            return None
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def _package_file(folder: str, subpath: str, installed: Mapping[str, str]) -> Optional[str]:
    manifest = folder + "/package.json"
    data = _json(installed[manifest]) if manifest in installed else None
    if data is None:
        if subpath:
            return None
        return _declaration_of(folder + "/index", installed)  # an @types folder without a manifest
    targets: list[str] = []
    exports = data.get("exports")
    if exports is not None:
        found = subpath_targets(exports, "./" + subpath if subpath else ".", _TYPE_CONDITIONS)
        if found is None:
            return None  # excluded by a null target (``"./internal/*": null``)
        targets += found
    if subpath:
        targets += _types_versions(data, subpath)
        targets.append(subpath)
    else:
        types = next((data[k] for k in ("types", "typings") if isinstance(data.get(k), str)), "index.d.ts")
        targets += _types_versions(data, types)
        targets += [data[k] for k in ("types", "typings", "module", "main") if isinstance(data.get(k), str)]
        targets.append("index")
    for target in targets:
        joined = posixpath.normpath(posixpath.join(folder, target))
        if joined.startswith(folder + "/") or joined == folder:
            hit = _declaration_of(joined, installed)
            if hit is not None:
                return hit
    return None


TYPESCRIPT_VERSION = (5, 9)  # the TypeScript a package.json ``typesVersions`` range is matched for
_RANGE = re.compile(r"^(>=|<=|>|<|=)?\s*(\d+)(?:\.(\d+))?")


def _types_versions(data: dict, path: str) -> list[str]:
    """The paths a package.json ``typesVersions`` redirects the package-relative `path` to (``{"*": {"*":
    ["types/*"]}}``: ``sub`` -> ``types/sub``), from its first range that TYPESCRIPT_VERSION satisfies."""
    mapping = data.get("typesVersions")
    if not isinstance(mapping, dict):
        return []
    path = path[2:] if path.startswith("./") else path
    for versions, paths in mapping.items():
        if not isinstance(paths, dict) or not _in_range(str(versions)):
            continue
        for pattern, values in paths.items():
            head, star, tail = str(pattern).partition("*")
            if star and path.startswith(head) and path.endswith(tail) and len(path) >= len(head + tail):
                matched = path[len(head):len(path) - len(tail)]
            elif not star and path == pattern:
                matched = ""
            else:
                continue
            values = values if isinstance(values, list) else [values]
            return [v.replace("*", matched) for v in values if isinstance(v, str)]
        return []
    return []


def _in_range(versions: str) -> bool:
    """Whether TYPESCRIPT_VERSION satisfies a ``typesVersions`` range (``*``, ``>=4.2``, ``>=3.1 <4.0``)."""
    for comparator in versions.split():
        if comparator == "*":
            continue
        m = _RANGE.match(comparator)
        if m is None:
            return False
        wanted = (int(m.group(2)), int(m.group(3) or 0))
        have = TYPESCRIPT_VERSION
        if not {">=": have >= wanted, "<=": have <= wanted, ">": have > wanted, "<": have < wanted}.get(
                m.group(1) or "=", have[:1] == wanted[:1] if m.group(3) is None else have == wanted):
            return False
    return True


def _declaration_of(base: str, installed: Mapping[str, str]) -> Optional[str]:
    """The file `base` names (``dist/index.js``, ``lib/types``, a folder), its declaration file first."""
    stem = re.sub(r"(?:\.d)?\.[mc]?[jt]sx?$", "", base)
    candidates = [stem + s for s in _DECLARATION_SUFFIXES] + [stem + "/index" + s for s in _DECLARATION_SUFFIXES]
    if stem != base:
        candidates.append(base)
    candidates += [stem + s for s in _JS_SUFFIXES[3:]] + [stem + "/index" + s for s in _JS_SUFFIXES[3:]]
    return next((c for c in dict.fromkeys(candidates) if c in installed), None)


def _js_target(ref: ImportRef, path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The installed file an import inside the installed file `path` names (relative ones, and bare ones
    through the node_modules above it)."""
    spec = ref.module.split("?")[0]
    if spec.startswith(("./", "../")) or spec in (".", ".."):
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
        return None if joined.startswith("..") else _declaration_of(joined, installed)
    return node_entry(spec, path, installed)


@lru_cache(maxsize=64)
def _json(text: str) -> Optional[dict]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


# ------------------------------------------------------------------------------------ Go


def _go_definitions(module: str, names: list[str], current_path: str,
                    installed: Mapping[str, str]) -> dict[str, list[str]]:
    """The files of the Go package `module` that define `names` (``pkg.Name`` uses): vendored, else in the
    module cache (`fim.gomodules`)."""
    package = _go_package(module, current_path, installed) if names else None
    if package is None:
        return {}
    listing = installed[package] if package in installed else ""
    found: dict[str, list[str]] = {}
    for name in listing.split("\n"):
        path = package + name
        if not name.endswith(".go") or name.endswith("_test.go"):
            continue
        text = installed[path] if path in installed else ""
        held = defined_names(text, "go") if text else frozenset()
        defined = [n for n in names if n in held]
        if defined:
            found[path] = defined
    return found


def _go_package(module: str, current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The folder key (ending ``/``) of the Go package `module`: vendored, else in the module cache; None for the
    standard library."""
    parts = module.strip("/").split("/")
    if "." not in parts[0] or ".." in parts or "" in parts or "." in parts:
        return None  # the standard library
    folder = posixpath.dirname(current_path)
    while True:
        vendor = posixpath.join(folder, "vendor") if folder else "vendor"
        if vendor + "/modules.txt" in installed:
            return f"{vendor}/{'/'.join(parts)}/"
        if not folder:
            return package_folder("/".join(parts), current_path, installed)
        folder = posixpath.dirname(folder)


# ------------------------------------------------------------------------------------ following re-exports


def _defining(path: str, name: str, document: str, installed: Mapping[str, str], depth: int,
              seen: Optional[dict[tuple[str, str], tuple[int, list[tuple[str, str]]]]] = None
              ) -> list[tuple[str, str]]:
    """[(file, name)] where `name` of the installed file `path` is defined: `path` itself, or the module it
    imports `name` from (``depth`` modules deep); a JavaScript namespace re-exported by name
    (``import * as z from "./external"; export { z }``) stands for the members `document` uses (``z.object``).
    Each (file, name) is looked into once per lookup (`seen`): ``export *`` files that re-export the same files
    (a diamond) or each other (a cycle) are read once, not once per path to them."""
    seen = {} if seen is None else seen
    held = seen.get((path, name))
    if held is not None and held[0] >= depth:
        return held[1]
    seen[(path, name)] = (depth, [])  # a cycle back here finds nothing
    found = _defined_in(path, name, document, installed, depth, seen)
    seen[(path, name)] = (depth, found)
    return found


def _defined_in(path: str, name: str, document: str, installed: Mapping[str, str], depth: int,
                seen: dict[tuple[str, str], tuple[int, list[tuple[str, str]]]]) -> list[tuple[str, str]]:
    """`_defining`'s answer for a (file, name) not looked into yet."""
    text = installed[path] if path in installed else ""
    language = _language_id(path)
    if not text or language is None:
        return []
    if defines(text, language, name):
        return [(path, name)]
    if depth <= 0 or language == "lua":  # (a Lua module's names are its own: nothing followed)
        return []
    python = language == "python"
    target_of = _python_target if python else _js_target
    refs = _imports(text, language)
    for ref in [r for r in refs if name in r.names]:
        if python and posixpath.basename(ref.module.lstrip(".")) == name:
            continue
        target = target_of(ref, path, installed)
        if target is not None and target != path:
            found = _defining(target, name, document, installed, depth - 1, seen)
            if found:
                return found
    if not python:
        # ``export { objectType as object }``, a bundle's ``export { c as QueryObserver } from './chunk.js'``
        local, spec = _export_aliases(text).get(name, (None, None))
        if local is not None and spec is None and defines(text, language, local):
            return [(path, local)]
        target = _js_target(ImportRef(spec, language="javascript"), path, installed) if spec else None
        if local is not None and target is not None and target != path:
            found = _defining(target, local, document, installed, depth - 1, seen)
            if found:
                return found
        target = reexported_module(path, name, installed, 0)
        members = _namespace_members(document, name) if target is not None else ()
        if members:  # ``DomUtils.getText(`` (``hp.DomUtils.getText(``): the members used
            out: list[tuple[str, str]] = []
            for member in members:
                found = _defining(target, member, document, installed, depth - 1, seen)  # a cycle ends
                out += [hit for hit in found if hit not in out]
            return out
    stars = [r for r in refs if r.star]
    if not python and stars:  # ``export * as ns from "./x"`` offers ``ns``, not x's names
        stars = [r for r in stars if r.module not in _named_only(text)]
    for ref in stars[:MAX_STARS]:
        target = target_of(ref, path, installed)
        if target is not None and target != path:
            found = _defining(target, name, document, installed, depth - 1, seen)
            if found:
                return found
    return []


def reexported_module(path: str, name: str, installed: Mapping[str, str], depth: int = FOLLOW_DEPTH) -> Optional[str]:
    """The installed file whose whole module the name `name` of the installed JavaScript or TypeScript file `path`
    is: ``export * as DomUtils from "domutils"``, ``import * as z from "./external"; export { z }``, found through
    ``export { DomUtils } from "./x"`` and ``export * from "./x"`` re-exports `depth` files deep (each file once, at
    most MAX_FOLLOWED_FILES; the search ends at the first file defining `name` otherwise); else None."""
    return _reexported_module(path, name, installed, depth, {path}) or None


def _reexported_module(path: str, name: str, installed: Mapping[str, str], depth: int, seen: set[str]
                       ) -> Optional[str]:
    """`reexported_module`'s file, "" where `path` defines `name` as something else (the search ends), None where
    neither it nor its re-exports `depth` deep name it."""
    text = installed[path] if path in installed else ""
    language = _language_id(path)
    if not text or language is None or language == "python":
        return None
    spec = _namespace_spec(text, name)
    if spec:
        target = _js_target(ImportRef(spec, language="javascript"), path, installed)
        return target if target not in (None, path) else ""
    if defines(text, language, name):
        return ""
    if depth <= 0:
        return None
    refs = _imports(text, language)
    named_only = _named_only(text)
    stars = [r for r in refs if r.star and r.module not in named_only][:MAX_STARS]
    for ref in [r for r in refs if name in r.names] + stars:
        target = _js_target(ref, path, installed)
        if target is None or target in seen or len(seen) >= MAX_FOLLOWED_FILES:
            continue
        seen.add(target)
        found = _reexported_module(target, name, installed, depth - 1, seen)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=64)  # asked at each keystroke after ``name.`` (`fim.member`)
def _namespace_spec(text: str, name: str) -> str:
    """The module `text` exports whole as `name` (``export * as name from "x"``, ``import * as name from "x"``), ""
    for none."""
    found = re.search(_NAMESPACE_IMPORT.format(name=re.escape(name)), text)
    return found.group(1) if found else ""


@text_memo
def _named_only(text: str) -> frozenset[str]:
    """The modules a JavaScript or TypeScript file re-exports as a namespace only (``export * as ns from "./x"``
    without ``export * from "./x"``): their names are not the file's."""
    return frozenset(_STAR_AS.findall(text)) - frozenset(_STAR.findall(text))


@text_memo
def _reexported_names(text: str) -> tuple[str, ...]:
    """The names a JavaScript or TypeScript file exports by re-export: ``export { a as b }``, ``export { a } from
    "./x"``, ``export * as ns from "./x"``."""
    names = list(_export_aliases(text)) + _STAR_AS_NAME.findall(text)
    names += [w.split()[-1] for m in _EXPORT_LIST.finditer(text) if m.group(2) for w in m.group(1).split(",")
              if w.split() and w.split()[-1] != "default"]
    return tuple(dict.fromkeys(names))


def _namespace_members(document: str, name: str) -> tuple[str, ...]:
    """The names `document` uses as ``name.member``, ``alias.name.member`` too (a namespace import's), at most
    MAX_NAMES."""
    found = re.findall(r"(?<![\w$])" + re.escape(name) + r"\s*\.\s*([A-Za-z_$][\w$]*)", document)
    return tuple(dict.fromkeys(found))[:MAX_NAMES]


@text_memo  # asked of every installed file a name's re-exports pass through: numpy's are more than 64
def _imports(text: str, language: str) -> tuple[ImportRef, ...]:
    return tuple(imported_modules(text, language))


@text_memo
def _export_aliases(text: str) -> dict[str, tuple[str, Optional[str]]]:
    """Exported name -> (the name it exports, the module it comes from or None) of each ``export { a as b }``
    (``from './x'``) in a JavaScript or TypeScript file."""
    out: dict[str, tuple[str, Optional[str]]] = {}
    for m in _EXPORT_LIST.finditer(text):
        for part in m.group(1).split(","):
            words = part.split()
            words = words[1:] if words[:1] == ["type"] else words
            if len(words) == 3 and words[1] == "as":
                out.setdefault(words[2], (words[0], m.group(2)))
    return out


@text_memo
def _reexported(text: str) -> tuple[str, ...]:
    """The names a Python module imports by name from its own package (``from ._api import request``)."""
    return tuple(n for ref in _imports(text, "python") if ref.module.startswith(".") and not ref.star
                 for n in ref.names)


@lru_cache(maxsize=32)
def _members(document: str, alias: str) -> tuple[str, ...]:
    """The names `document` uses as ``alias.name``, at most MAX_NAMES."""
    from fim.languages.base import uses

    return uses(document, [alias])[alias][:MAX_NAMES]


# ------------------------------------------------------------------------------------ a module's public names


def module_names(ref: ImportRef, current_path: str, installed: Mapping[str, str]) -> list[str]:
    """The public names the installed module `ref` imports offers (what may follow ``alias.``), in the order of its
    files (Go: the file defining the most of `ref.names`, those the document uses, first, then the most names), at
    most MAX_OFFERED (Rust: its crate's or module's file's, `fim.crates.crate_names`; Ruby: qualified, ``Rack::Head``,
    `fim.gems.gem_names`; Java, Kotlin: a class's public members, `fim.jars.class_members`; Lua: none with ``__``,
    Neovim's internal ``nvim__id``); [] for a language without them (PHP) or a module not installed."""
    family = _family(ref.language)
    if family == "python":
        entry = _python_module(ref.module, installed) if not ref.module.startswith(".") else None
        files = [entry] if entry is not None else []
    elif family == "javascript":
        entry = node_entry(ref.module, current_path, installed)
        files = [entry] if entry is not None else []
    elif family == "rust":
        return crate_names(ref, current_path, installed)[:MAX_OFFERED]
    elif family == "ruby":
        return gem_names(ref, current_path, installed)[:MAX_OFFERED]
    elif family == "jvm":  # a class's public members: ``StringUtils.``
        return class_members(ref.module, current_path, installed)[1][:MAX_OFFERED]
    elif family == "lua":
        entry = lua_module_file(ref.module, installed)
        files = [entry] if entry is not None else []
    elif family == "go":
        package = _go_package(ref.module, current_path, installed)
        listing = installed[package] if package is not None and package in installed else ""
        files = [package + n for n in listing.split("\n")
                 if n.endswith(".go") and not n.endswith("_test.go")][:MAX_PACKAGE_FILES]
    else:
        return []
    per_file = []
    for path in files:
        text = installed[path] if path in installed else ""
        language = _language_id(path)
        if not text or language is None:
            continue
        names = [n for n in _ordered_names(text, language) if not n.startswith("_")]
        if family == "python":
            names = list(dict.fromkeys(list(_reexported(text)) + names))
        elif family == "go":
            names = [n for n in names if n[:1].isupper()]
        elif family == "lua":  # Neovim's API marks its internal functions so: ``nvim__id``, ``nvim__stats``
            names = [n for n in names if "__" not in n]
        elif family == "javascript":
            names += [n for n in _js_exports(path, installed) if n not in names]
        per_file.append(names)
    used = set(ref.names)
    per_file.sort(key=lambda names: (len(used.intersection(names)), len(names)), reverse=True)
    return list(dict.fromkeys(n for names in per_file for n in names))[:MAX_OFFERED]


MAX_OFFERED = 512  # public names of one module read for the member being typed


def _js_exports(path: str, installed: Mapping[str, str], depth: int = FOLLOW_DEPTH,
                seen: Optional[set[str]] = None) -> list[str]:
    """The names a JavaScript or TypeScript file exports besides those it declares: ``export { a as b }`` (``from
    "./x"``) and ``export * as ns from`` names, and what its ``export * from "./x"`` files offer, `depth` deep (each
    file once, at most MAX_FOLLOWED_FILES)."""
    text = installed[path] if path in installed else ""
    language = _language_id(path)
    seen = {path} if seen is None else seen
    if not text or language is None:
        return []
    names = list(_reexported_names(text))
    if depth > 0:
        named_only = _named_only(text)
        for ref in [r for r in _imports(text, language) if r.star and r.module not in named_only][:MAX_STARS]:
            target = _js_target(ref, path, installed)
            if target is not None and target not in seen and len(seen) < MAX_FOLLOWED_FILES:
                seen.add(target)
                names += [n for n in _ordered_names(installed[target], _language_id(target) or language)
                          if not n.startswith("_")] + _js_exports(target, installed, depth - 1, seen)
    return list(dict.fromkeys(n for n in names if _JS_NAME.fullmatch(n)))


def namespace_definitions(path: str, names: list[str], document: str,
                          installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Installed file -> the `names` of the installed JavaScript or TypeScript module `path` it defines (followed
    through re-exports as `installed_definitions` does): a re-exported namespace's (`reexported_module`)."""
    found: dict[str, list[str]] = {}
    for name in names[:MAX_NAMES]:
        for file, defined in _defining(path, name, document, installed, FOLLOW_DEPTH):
            held = found.setdefault(file, [])
            if defined not in held:
                held.append(defined)
    return found


def namespace_names(path: str, installed: Mapping[str, str]) -> list[str]:
    """The public names the installed JavaScript or TypeScript module `path` offers, at most MAX_OFFERED."""
    text = installed[path] if path in installed else ""
    language = _language_id(path)
    if not text or language is None:
        return []
    names = [n for n in _ordered_names(text, language) if not n.startswith("_")]
    return list(dict.fromkeys(names + _js_exports(path, installed)))[:MAX_OFFERED]
# a Go package's files read for the names it offers (golang.org/x/sys/unix has 300): each keystroke reads them all,
# from the memos below and the installed files' texts (256 kept) while they hold them all, else each is read again
MAX_PACKAGE_FILES = 128


@lru_cache(maxsize=MAX_PACKAGE_FILES + 64)
def _ordered_names(text: str, language: str) -> tuple[str, ...]:
    """The names `text` defines (`fim.symbols.defined_names`), in the order they first occur in it (JavaScript's
    ``$ZodType`` too)."""
    script = _family(language) == "javascript"
    wanted = {n for n in defined_names(text, language) if n.isidentifier() or script and _JS_NAME.fullmatch(n)}
    order: dict[str, None] = {}
    for m in re.finditer(r"[A-Za-z_$][\w$]*", text):
        if m.group() in wanted:
            order.setdefault(m.group(), None)
            if len(order) == len(wanted):
                break
    return tuple(order)

"""Where a PHP ``use`` the workspace does not resolve is defined in Composer's vendor folder. Pure.

``composer install`` puts every package a project requires into the vendor folder beside its composer.json
(``vendor/``, or the composer.json's ``config.vendor-dir``) and writes what it installed to
``vendor/composer/installed.json`` (Composer 2: ``{"packages": [...]}``, Composer 1: a list): each package's
``autoload`` maps (``psr-4``, ``psr-0``, ``files``) and, from Composer 2 on, its ``install-path`` (relative to
``vendor/composer``; Composer 1: ``vendor/<name>``). The files come through `fim.dependencies`' `installed`
mapping (never iterated) by workspace-relative keys: the composer.json nearest the file, the vendor folder's
``composer/installed.json`` and ``composer/autoload_classmap.php``, and the packages' files.

`composer_definitions` maps ``use Symfony\\Component\\Console\\Command\\Command;`` (and a grouped ``use
A\\{B, C}``, one reference per name) to the package file that declares the class, interface, trait or enum:
the longest matching PSR-4 prefix of the installed packages first, then PSR-0, then the class map Composer
wrote (``autoload_classmap.php``). ``use function A\\b;`` and ``use const A\\B;`` look in the ``files`` a
package with a matching namespace prefix autoloads (functions and constants cannot be autoloaded otherwise).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional

from fim.languages.base import ImportRef
from fim.symbols import defines

INSTALLED = "composer/installed.json"  # inside the vendor folder
CLASSMAP = "composer/autoload_classmap.php"
MANIFEST_NAMES = ("/" + INSTALLED, "/" + CLASSMAP)  # Composer's own files, read up to a manifest's size
MAX_FILES = 16  # a package's ``files`` entries searched for a function or a constant
_NAME = re.compile(r"[A-Za-z_\x80-\uffff][\w\x80-\uffff]*(?:\\[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)*\Z")
_CLASSMAP_LINE = re.compile(r"""^\s*'((?:[^'\\]|\\.)+)'\s*=>\s*\$vendorDir\s*\.\s*'([^']+)'""", re.M)


@dataclass(frozen=True)
class Package:
    """One installed package: its folder (a workspace-relative key) and its autoload maps."""

    folder: str
    psr4: tuple[tuple[str, tuple[str, ...]], ...]  # (namespace prefix without a trailing ``\``, its folders)
    psr0: tuple[tuple[str, tuple[str, ...]], ...]
    files: tuple[str, ...]


def composer_definitions(ref: ImportRef, current_path: str, document: str,
                         installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Vendor file -> the name of the PHP ``use`` `ref` (of `document`, at `current_path`) it declares; {}
    when no composer.json above the file has an installed package declaring it."""
    kind, _, name = ref.module.rpartition(":")
    name = name.strip("\\")
    if not _NAME.match(name):
        return {}
    vendor = vendor_folder(current_path, installed)
    if vendor is None:
        return {}
    manifest = f"{vendor}/{INSTALLED}"
    packages = _packages(installed[manifest], vendor) if manifest in installed else ()
    short = name.rpartition("\\")[2]
    if kind in ("function", "const"):
        namespace = name.rpartition("\\")[0]
        for path in _namespace_files(namespace, packages):
            if path in installed and defines(installed[path], "php", short):
                return {path: [short]}
        return {}
    path = class_file(name, vendor, packages, installed)
    if path is None or not defines(installed[path], "php", short):
        return {}
    return {path: [short]}


def vendor_folder(current_path: str, installed: Mapping[str, str]) -> Optional[str]:
    """The vendor folder (a workspace-relative key) of the composer.json nearest above `current_path`: its
    ``config.vendor-dir`` when that is a relative path inside the workspace, else ``vendor`` beside it."""
    folder = posixpath.dirname(current_path)
    while True:
        manifest = posixpath.join(folder, "composer.json") if folder else "composer.json"
        if manifest in installed:
            data = _json(installed[manifest])
            config = data.get("config") if isinstance(data, dict) else None
            configured = config.get("vendor-dir") if isinstance(config, dict) else None
            relative = configured if isinstance(configured, str) and configured.strip("/") else "vendor"
            if relative.startswith(("/", "~", "$")) or "\\" in relative or ":" in relative:
                relative = "vendor"  # an absolute folder (``$HOME/...``) is outside the workspace's keys
            vendor = posixpath.normpath(posixpath.join(folder, relative.rstrip("/")))
            return None if vendor.startswith("..") or vendor == "." else vendor
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def class_file(name: str, vendor: str, packages: tuple[Package, ...], installed: Mapping[str, str]) -> Optional[str]:
    """The installed file of the fully qualified class `name` (no leading ``\\``): PSR-4 (the longest prefix
    first), then PSR-0, then Composer's class map; None when no package has it."""
    candidates: list[tuple[int, str]] = []
    for package in packages:
        for prefix, folders in package.psr4:
            if not prefix or name.startswith(prefix + "\\"):
                rest = name[len(prefix):].strip("\\").replace("\\", "/") + ".php"
                candidates += [(len(prefix), _join(package.folder, folder, rest)) for folder in folders]
        for prefix, folders in package.psr0:
            if not prefix or name.startswith(prefix):
                namespace, _, short = name.rpartition("\\")
                rest = (namespace.replace("\\", "/") + "/" if namespace else "") + short.replace("_", "/") + ".php"
                candidates += [(-1, _join(package.folder, folder, rest)) for folder in folders]
    candidates.sort(key=lambda c: -c[0])
    for _, path in candidates:
        if path and path in installed:
            return path
    classmap = f"{vendor}/{CLASSMAP}"
    if classmap in installed:
        rel = _classmap(installed[classmap]).get(name)
        path = posixpath.normpath(f"{vendor}/{rel.lstrip('/')}") if rel else ""
        if path.startswith(vendor + "/") and path in installed:
            return path
    return None


def _namespace_files(namespace: str, packages: tuple[Package, ...]) -> list[str]:
    """The ``files`` autoloaded by the packages whose PSR-4 or PSR-0 prefixes hold `namespace`, longest
    prefix first, at most MAX_FILES."""
    ranked: list[tuple[int, str]] = []
    for package in packages:
        prefixes = [p for p, _ in package.psr4 + package.psr0
                    if namespace == p or namespace.startswith(p + "\\") or not p]
        if prefixes:
            ranked += [(max(map(len, prefixes)), path) for path in package.files]
    ranked.sort(key=lambda r: -r[0])
    return list(dict.fromkeys(path for _, path in ranked))[:MAX_FILES]


def _join(package: str, folder: str, rest: str) -> str:
    """`rest` in the package's autoload `folder`, or "" where that leaves the package."""
    path = posixpath.normpath(posixpath.join(package, folder, rest))
    return path if path.startswith(package + "/") else ""


@lru_cache(maxsize=8)
def _packages(text: str, vendor: str) -> tuple[Package, ...]:
    """The packages of an ``installed.json`` (Composer 2's ``{"packages": [...]}`` or Composer 1's list)."""
    data = _json(text)
    listed = data.get("packages") if isinstance(data, dict) else data
    out = []
    for entry in listed if isinstance(listed, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        install = entry.get("install-path")
        if isinstance(install, str) and install:
            folder = posixpath.normpath(posixpath.join(vendor, "composer", install))
        else:
            folder = posixpath.normpath(posixpath.join(vendor, entry["name"]))
        if not folder.startswith(vendor + "/"):
            continue  # a path repository's package: a folder of the workspace, which resolves it
        autoload = entry.get("autoload") if isinstance(entry.get("autoload"), dict) else {}
        files = autoload.get("files") if isinstance(autoload.get("files"), list) else []
        out.append(Package(folder, _map(autoload.get("psr-4")), _map(autoload.get("psr-0")),
                           tuple(p for p in (_join(folder, "", f) for f in files if isinstance(f, str)) if p)))
    return tuple(out)


def _map(table: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """An autoload map's (prefix, folders), longest prefix first."""
    out = []
    for prefix, folders in table.items() if isinstance(table, dict) else ():
        listed = [folders] if isinstance(folders, str) else folders if isinstance(folders, list) else []
        out.append((str(prefix).strip("\\"), tuple(f for f in listed if isinstance(f, str))))
    return tuple(sorted(out, key=lambda p: -len(p[0])))


@lru_cache(maxsize=4)
def _classmap(text: str) -> dict[str, str]:
    """Class -> its path in the vendor folder, from ``autoload_classmap.php``'s ``$vendorDir . '/...'`` entries."""
    return {m.group(1).replace("\\\\", "\\"): m.group(2) for m in _CLASSMAP_LINE.finditer(text)}


@lru_cache(maxsize=16)
def _json(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None

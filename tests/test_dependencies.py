"""Context from installed dependencies: environment discovery, resolution in site-packages and node_modules,
the definitions in the selected context, and the same through `deepfim complete --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fim.context import select_context
from fim.dependencies import installed_definitions
from fim.imports import ImportRef, imported_modules, path_index, resolve
from server.dependencies import InstalledFiles, find_environment, site_packages
from server.project import Project
from server.service import CompletionService
from server.settings import Settings
from tests.lsp_client import REPO


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def venv(root: Path, name: str = ".venv", version: str = "3.12", packages: dict[str, str] = ()) -> Path:
    """A virtual environment's layout (pyvenv.cfg, lib/pythonX.Y/site-packages) holding `packages`."""
    env = root / name
    write(env, {"pyvenv.cfg": f"home = /usr/bin\nversion = {version}.1\n"})
    site = env / "lib" / f"python{version}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    write(site, dict(packages))
    return env


def installed(root: Path, site: Path | None = None) -> InstalledFiles:
    return InstalledFiles(site, lambda rel: root / rel, 256 * 1024)


HTTPLIB = {
    "httplib/__init__.py": "from ._models import Request, Response\nfrom ._api import request\n__all__ = []\n",
    "httplib/_models.py": (
        'class Request:\n    """An HTTP request.\n\n    Long explanation that should not be sent.\n    """\n\n'
        "    def __init__(self, method: str, url: str, *, headers: dict = None) -> None:\n"
        '        """Build it."""\n        self.method = method\n\n'
        "    def _private(self) -> None:\n        pass\n\n"
        "    def send(self, timeout: float = 5.0) -> 'Response':\n"
        '        """Send the request and wait for the response.\n\n        More words.\n        """\n'
        "        return Response(200)\n\n\n"
        "class Response:\n    def __init__(self, status: int) -> None:\n        self.status = status\n"),
    "httplib/_api.py": "def request(method: str, url: str) -> int:\n    \"\"\"Send one request.\"\"\"\n    return 1\n",
}


# ------------------------------------------------------------------------------------ environments


def test_the_workspaces_virtual_environment_is_found_first(tmp_path: Path) -> None:
    other = venv(tmp_path / "elsewhere", "active")
    assert find_environment(tmp_path, {"VIRTUAL_ENV": str(other)}) == other  # none in the folder
    env = venv(tmp_path, "venv")
    assert find_environment(tmp_path, {"VIRTUAL_ENV": str(other)}) == env
    assert find_environment(tmp_path, {}) == env
    assert venv(tmp_path, ".venv") == find_environment(tmp_path, {})


def test_deepfims_own_environment_is_not_the_projects(tmp_path: Path) -> None:
    # README's install: deepfim/.venv, activated to start the server; a project without an environment gets none.
    own = venv(tmp_path / "deepfim")
    (tmp_path / "project").mkdir()
    assert find_environment(tmp_path / "project", {"VIRTUAL_ENV": str(own)}, checkout=tmp_path / "deepfim") is None
    assert find_environment(tmp_path / "project", {"CONDA_PREFIX": str(own)}, checkout=tmp_path / "deepfim") is None
    assert find_environment(tmp_path / "deepfim", {"VIRTUAL_ENV": str(own)}, checkout=tmp_path / "deepfim") == own
    other = venv(tmp_path / "elsewhere")
    assert find_environment(tmp_path / "project", {"VIRTUAL_ENV": str(other)}, checkout=tmp_path / "deepfim") == other


def test_any_folder_with_pyvenv_cfg_then_conda(tmp_path: Path) -> None:
    conda = tmp_path / "conda"
    conda.mkdir()
    (tmp_path / "work").mkdir()
    assert find_environment(tmp_path / "work", {"CONDA_PREFIX": str(conda)}) == conda
    assert find_environment(tmp_path / "work", {}) is None
    env = venv(tmp_path / "work", "py312")
    assert find_environment(tmp_path / "work", {"CONDA_PREFIX": str(conda)}) == env
    (tmp_path / "work" / "py312" / "pyvenv.cfg").unlink()  # conda create -p ./py312: conda-meta, no pyvenv.cfg
    (tmp_path / "work" / "py312" / "conda-meta").mkdir()
    assert find_environment(tmp_path / "work", {"CONDA_PREFIX": str(conda)}) == env


def test_site_packages_of_the_configured_python(tmp_path: Path) -> None:
    env = venv(tmp_path, version="3.11")
    (env / "lib" / "python3.13" / "site-packages").mkdir(parents=True)
    assert site_packages(env) == env / "lib" / "python3.11" / "site-packages"
    (env / "pyvenv.cfg").unlink()
    assert site_packages(env) == env / "lib" / "python3.13" / "site-packages"
    windows = tmp_path / "win"
    (windows / "Lib" / "site-packages").mkdir(parents=True)
    assert site_packages(windows) == windows / "Lib" / "site-packages"
    assert site_packages(tmp_path / "nothing") is None


# ------------------------------------------------------------------------------------ installed files


def test_installed_files_are_read_on_demand_only_where_allowed(tmp_path: Path) -> None:
    site = site_packages(venv(tmp_path, packages={"pkg/__init__.py": "X = 1\n", "pkg/.env": "TOKEN=1\n",
                                                  "big.py": "x = 1\n" * 60_000}))
    write(tmp_path, {"web/node_modules/lib/index.d.ts": "export declare const a: number;\n",
                     "web/src/app.ts": "const b = 1;\n"})
    files = installed(tmp_path, site)
    assert files["site-packages/pkg/__init__.py"] == "X = 1\n"
    assert "web/node_modules/lib/index.d.ts" in files
    assert "web/src/app.ts" not in files  # a workspace file outside node_modules is not this mapping's
    assert "site-packages/pkg/.env" not in files  # secret-looking paths are never opened
    assert "site-packages/../pyvenv.cfg" not in files
    assert files["site-packages/big.py"] == ""  # over the size cap, like workspace files
    assert list(files) == [] and len(files) == 0  # never listed


def test_an_installed_file_is_read_again_when_it_changes(tmp_path: Path, monkeypatch) -> None:
    site = site_packages(venv(tmp_path, packages={"mod.py": "A = 1\n"}))
    files = installed(tmp_path, site)
    assert files["site-packages/mod.py"] == "A = 1\n"
    (site / "mod.py").write_text("A = 22\n", encoding="utf-8")
    monkeypatch.setattr("server.dependencies.STAT_SECONDS", 0.0)
    assert files["site-packages/mod.py"] == "A = 22\n"



def test_a_package_reinstalled_with_the_same_size_and_mtime_is_read_again(tmp_path: Path, monkeypatch) -> None:
    # npm extracts every file with one fixed mtime (1985-10-26): 5.59.0 -> 5.59.1 keeps size and mtime.
    write(tmp_path, {"node_modules/kit/index.d.ts": "export declare const version: '5.59.0';\n"})
    path = tmp_path / "node_modules/kit/index.d.ts"
    os.utime(path, ns=(499162500 * 10**9, 499162500 * 10**9))
    files = installed(tmp_path)
    monkeypatch.setattr("server.dependencies.STAT_SECONDS", 0.0)
    assert "5.59.0" in files["node_modules/kit/index.d.ts"]
    replacement = tmp_path / "new.d.ts"  # npm ci: the folder's files written anew
    replacement.write_text("export declare const version: '5.59.1';\n", encoding="utf-8")
    os.utime(replacement, ns=(499162500 * 10**9, 499162500 * 10**9))
    os.replace(replacement, path)
    assert "5.59.1" in files["node_modules/kit/index.d.ts"]
    with open(path, "r+", encoding="utf-8") as f:  # rewritten in place, its mtime set back
        f.write("export declare const version: '5.59.2';\n")
    os.utime(path, ns=(499162500 * 10**9, 499162500 * 10**9))
    assert "5.59.2" in files["node_modules/kit/index.d.ts"]


# ------------------------------------------------------------------------------------ resolution


def refs(text: str, language: str = "python") -> list[ImportRef]:
    return imported_modules(text, language)


def test_python_names_are_followed_to_their_defining_module(tmp_path: Path) -> None:
    files = installed(tmp_path, site_packages(venv(tmp_path, packages=HTTPLIB)))
    text = "from httplib import Request, request\n"
    assert installed_definitions(refs(text)[0], "app.py", text, files) == {
        "site-packages/httplib/_models.py": ["Request"], "site-packages/httplib/_api.py": ["request"]}
    text = "import httplib\n\nhttplib.Response(1)\n"
    assert installed_definitions(refs(text)[0], "app.py", text, files) == {
        "site-packages/httplib/_models.py": ["Response"]}
    assert installed_definitions(refs("import os\nos.path\n")[0], "app.py", "", files) == {}
    text = "from .httplib import request\n"  # a relative import the workspace does not resolve is not a package's
    assert installed_definitions(refs(text)[0], "app.py", text, files) == {}


def test_a_namespace_packages_submodules_and_their_used_names(tmp_path: Path) -> None:
    files = installed(tmp_path, site_packages(venv(tmp_path, packages={
        "ns/proto/descriptor.py": "class Descriptor:\n    def fields(self) -> list:\n        return []\n\n\n"
                                  "def make(name: str) -> Descriptor:\n    return Descriptor()\n",
        "ns/proto/nothing.so": "\x00", "compiled.cpython-312-x86_64-linux-gnu.so": "\x00"})))
    text = "from ns.proto import descriptor\nimport compiled\n\nd = descriptor.make('x')\ncompiled.run()\n"
    namespace, member, compiled = refs(text)  # the member: ``ns.proto.descriptor`` for ``descriptor.make``
    assert installed_definitions(namespace, "app.py", text, files) == {
        "site-packages/ns/proto/descriptor.py": ["make"]}  # no __init__.py anywhere: still found
    assert installed_definitions(member, "app.py", text, files) == {"site-packages/ns/proto/descriptor.py": ["make"]}
    assert installed_definitions(compiled, "app.py", text, files) == {}  # a compiled module only: nothing
    files = installed(tmp_path, site_packages(venv(tmp_path, packages=HTTPLIB)))
    text = "from httplib import _models\n\n_models.Response(200)\n"  # a regular package's submodule: the names used
    assert installed_definitions(refs(text)[0], "app.py", text, files) == {
        "site-packages/httplib/_models.py": ["Response"]}


def test_stubs_are_preferred_to_sources(tmp_path: Path) -> None:
    packages = {"single.py": "def f(x):\n    return x\n", "single.pyi": "def f(x: int) -> int: ...\n",
                "typed/__init__.py": "def g(a):\n    pass\n",
                "typed-stubs/__init__.pyi": "def g(a: str) -> None: ...\n"}
    files = installed(tmp_path, site_packages(venv(tmp_path, packages=packages)))
    text = "from single import f\nfrom typed import g\n"
    one, two = refs(text)
    assert installed_definitions(one, "a.py", text, files) == {"site-packages/single.pyi": ["f"]}
    assert installed_definitions(two, "a.py", text, files) == {"site-packages/typed-stubs/__init__.pyi": ["g"]}


def test_bare_specifiers_resolve_through_the_nearest_node_modules(tmp_path: Path) -> None:
    write(tmp_path, {
        "node_modules/kit/package.json": json.dumps({"name": "kit", "main": "index.js"}),
        "node_modules/kit/index.js": "export function old() {}\n",
        "app/node_modules/kit/package.json": json.dumps(
            {"name": "kit", "exports": {".": {"import": {"types": "./dist/index.d.mts", "default": "./dist/index.mjs"}},
                                        "./sub": {"types": "./dist/sub.d.ts"}}}),
        "app/node_modules/kit/dist/index.d.mts": "export * from './parts.js';\n",
        "app/node_modules/kit/dist/parts.d.ts": "export declare function make(size: number): Kit;\n"
                                                "export interface Kit { size: number }\n",
        "app/node_modules/kit/dist/sub.d.ts": "export declare const version: string;\n",
        "app/node_modules/@types/plain/index.d.ts": "export declare function plain(): void;\n",
        "app/node_modules/@types/scope__pkg/index.d.ts": "export declare class Thing { run(): void }\n",
    })
    files = installed(tmp_path)
    text = ('import { make, Kit } from "kit";\nimport { version } from "kit/sub";\nimport { plain } from "plain";\n'
            'import { Thing } from "@scope/pkg";\n')
    kit, sub, plain, scoped = refs(text, "typescript")
    assert installed_definitions(kit, "app/src/main.ts", text, files) == {
        "app/node_modules/kit/dist/parts.d.ts": ["make", "Kit"]}
    assert installed_definitions(kit, "other/main.ts", text, files) == {}  # only the root's kit: no `make`
    assert installed_definitions(sub, "app/src/main.ts", text, files) == {
        "app/node_modules/kit/dist/sub.d.ts": ["version"]}
    assert installed_definitions(plain, "app/main.ts", text, files) == {
        "app/node_modules/@types/plain/index.d.ts": ["plain"]}
    assert installed_definitions(scoped, "app/main.ts", text, files) == {
        "app/node_modules/@types/scope__pkg/index.d.ts": ["Thing"]}


def test_a_pnpm_packages_own_dependency_is_found_where_pnpm_hoists_it(tmp_path: Path) -> None:
    store = "node_modules/.pnpm/@tanstack+react-query@5.59.0/node_modules/@tanstack"
    write(tmp_path, {
        f"{store}/react-query/package.json": json.dumps({"name": "@tanstack/react-query", "types": "build/index.d.ts"}),
        f"{store}/react-query/build/index.d.ts": "export * from '@tanstack/query-core';\n",
        "node_modules/.pnpm/node_modules/@tanstack/query-core/package.json": json.dumps({"types": "build/index.d.ts"}),
        "node_modules/.pnpm/node_modules/@tanstack/query-core/build/index.d.ts":
            "export declare class QueryObserver { refetch(): void }\n",
    })
    # pnpm's strict layout: the project sees only its direct dependencies, linked into its node_modules.
    (tmp_path / "node_modules/@tanstack").mkdir()
    (tmp_path / "node_modules/@tanstack/react-query").symlink_to(tmp_path / store / "react-query")
    files = installed(tmp_path)
    text = 'import { QueryObserver } from "@tanstack/react-query";\n'
    assert installed_definitions(refs(text, "typescript")[0], "src/app.ts", text, files) == {
        "node_modules/.pnpm/node_modules/@tanstack/query-core/build/index.d.ts": ["QueryObserver"]}
    text = 'import { QueryObserver } from "@tanstack/query-core";\n'  # not the project's dependency: not its own
    assert installed_definitions(refs(text, "typescript")[0], "src/app.ts", text, files) == {}


def test_types_versions_redirect_a_packages_declarations(tmp_path: Path) -> None:
    write(tmp_path, {
        "node_modules/tv/package.json": json.dumps({
            "name": "tv", "main": "lib/index.js", "types": "lib/index.d.ts",
            "typesVersions": {"<4.0": {"*": ["ts3/*"]}, ">=4.2": {"lib/index.d.ts": ["types/index.d.ts"],
                                                                  "*": ["types/*"]}}}),
        "node_modules/tv/lib/index.js": "export function open(path) {}\n",
        "node_modules/tv/lib/sub.js": "export function sub() {}\n",
        "node_modules/tv/ts3/sub.d.ts": "export declare function sub(): any;\n",
        "node_modules/tv/types/index.d.ts": "export declare function open(path: string): Handle;\n",
        "node_modules/tv/types/sub.d.ts": "export declare function sub(): number;\n",
    })
    files = installed(tmp_path)
    text = 'import { open } from "tv";\nimport { sub } from "tv/sub";\n'
    root, sub = refs(text, "typescript")
    assert installed_definitions(root, "app.ts", text, files) == {"node_modules/tv/types/index.d.ts": ["open"]}
    assert installed_definitions(sub, "app.ts", text, files) == {"node_modules/tv/types/sub.d.ts": ["sub"]}


def test_a_namespace_re_exported_by_name_stands_for_the_members_used(tmp_path: Path) -> None:
    write(tmp_path, {  # zod's layout
        "node_modules/zod/package.json": json.dumps({"name": "zod", "types": "./lib/index.d.ts"}),
        "node_modules/zod/lib/index.d.ts": 'import * as z from "./external";\nexport * from "./external";\n'
                                           "export { z };\nexport default z;\n",
        "node_modules/zod/lib/external.d.ts": 'export * from "./types";\n',
        "node_modules/zod/lib/types.d.ts": "export declare class ZodString { min(n: number): ZodString }\n"
                                           "declare const stringType: () => ZodString;\n"
                                           "export { stringType as string };\n",
    })
    text = 'import { z } from "zod";\nconst name = z.string().min(1);\n'
    assert installed_definitions(refs(text, "typescript")[0], "src/a.ts", text, installed(tmp_path)) == {
        "node_modules/zod/lib/types.d.ts": ["stringType"]}


def test_a_bundles_aliased_exports_are_followed(tmp_path: Path) -> None:
    long_list = ", ".join(f"x{k} as Name{k}" for k in range(400))  # one 6,000-character line: a bundle, not minified
    write(tmp_path, {  # @tanstack/query-core's layout
        "node_modules/core/package.json": json.dumps({"name": "core", "exports": {".": {
            "import": {"types": "./build/index.d.ts"}, "require": {"types": "./build/index.d.cts"}}}}),
        "node_modules/core/build/index.d.ts": f"export {{ {long_list} }} from './other.js';\n"
                                              "export { c as QueryObserver, z as DefaultError } from './chunk-1.js';\n",
        "node_modules/core/build/chunk-1.d.ts": "type DefaultError = Error;\n"
                                                "declare class QueryObserver { refetch(): Promise<void> }\n"
                                                "export { QueryObserver as c, type DefaultError as z };\n",
    })
    text = "import { QueryObserver, DefaultError } from 'core'\n"
    assert installed_definitions(refs(text, "typescript")[0], "src/use.ts", text, installed(tmp_path)) == {
        "node_modules/core/build/chunk-1.d.ts": ["QueryObserver", "DefaultError"]}


# htmlparser2 9.x's layout: its entry re-exports domutils whole (``export * as DomUtils``), a class as its default
HTMLPARSER2 = {
    "node_modules/htmlparser2/package.json": json.dumps({"name": "htmlparser2", "type": "module", "exports": {
        ".": {"import": {"types": "./dist/esm/index.d.ts"}}}}),
    "node_modules/htmlparser2/dist/esm/index.d.ts": (
        'export { Parser } from "./Parser.js";\n'
        "export declare function parseDocument(data: string, options?: Options): Document;\n"
        'export { default as Tokenizer, type Callbacks as TokenizerCallbacks, QuoteType, } from "./Tokenizer.js";\n'
        'export * as ElementType from "domelementtype";\nexport { getFeed, type Feed } from "domutils";\n'
        'export * as DomUtils from "domutils";\n'),
    "node_modules/htmlparser2/dist/esm/Tokenizer.d.ts": (
        "export declare enum QuoteType {\n    NoValue = 0,\n    Double = 3\n}\n"
        "export interface Callbacks {\n    onend(): void;\n}\n"
        "export default class Tokenizer {\n    private readonly cbs;\n    running: boolean;\n"
        "    static isWhitespace(c: number): boolean;\n    write(chunk: string): void;\n}\n"),
    "node_modules/htmlparser2/dist/esm/Parser.d.ts": ("export declare class Parser {\n"
                                                      "    end(chunk?: string): void;\n}\n"),
    "node_modules/domutils/package.json": json.dumps({"name": "domutils", "main": "lib/index.js",
                                                      "types": "lib/index.d.ts"}),
    "node_modules/domutils/lib/index.d.ts": ('export * from "./stringify.js";\nexport * from "./traversal.js";\n'
                                             'export * from "./feeds.js";\n'),
    "node_modules/domutils/lib/stringify.d.ts": (
        "/** Get a node's text content. */\nexport declare function getText(node: AnyNode | AnyNode[]): string;\n"
        "export declare function textContent(node: AnyNode | AnyNode[]): string;\n"),
    "node_modules/domutils/lib/traversal.d.ts": "export declare function getChildren(elem: AnyNode): ChildNode[];\n",
    "node_modules/domutils/lib/feeds.d.ts": "export declare function getFeed(doc: AnyNode[]): Feed | null;\n",
}


def test_a_namespace_a_package_re_exports_whole_stands_for_the_members_used(tmp_path: Path) -> None:
    write(tmp_path, HTMLPARSER2)
    files = installed(tmp_path)
    stringify = "node_modules/domutils/lib/stringify.d.ts"
    for text in ('import { DomUtils } from "htmlparser2";\nconst t = DomUtils.getText(doc);\n',
                 'import * as hp from "htmlparser2";\nconst t = hp.DomUtils.getText(doc);\n'):
        assert installed_definitions(refs(text, "typescript")[0], "src/a.ts", text, files) == {stringify: ["getText"]}
    # ``export * as DomUtils from "domutils"`` exports DomUtils, not domutils' names; ``export { getFeed } from``
    text = 'import { getText, getFeed } from "htmlparser2";\n'
    assert installed_definitions(refs(text, "typescript")[0], "src/a.ts", text, files) == {
        "node_modules/domutils/lib/feeds.d.ts": ["getFeed"]}


def test_a_default_export_re_exported_by_name_is_the_class_it_names(tmp_path: Path) -> None:
    write(tmp_path, HTMLPARSER2)  # ``export { default as Tokenizer } from "./Tokenizer.js"``
    files, tokenizer = installed(tmp_path), "node_modules/htmlparser2/dist/esm/Tokenizer.d.ts"
    text = 'import { Tokenizer } from "htmlparser2";\nconst t = new Tokenizer({}, cbs);\n'
    assert installed_definitions(refs(text, "typescript")[0], "src/a.ts", text, files) == {tokenizer: ["default"]}
    # a static member used: that member's lines, not the whole class
    text = 'import { Tokenizer } from "htmlparser2";\nif (Tokenizer.isWhitespace(c)) {}\n'
    assert installed_definitions(refs(text, "typescript")[0], "src/a.ts", text, files) == {
        tokenizer: ["Tokenizer.isWhitespace"]}


# Two modules each re-exporting the other whole and its names (``export * as B from "./b"`` in a, ``export * as A
# from "./a"`` in b): the namespaces a document chains through (``A.B.A.fb``) lead back to where they started
CYCLE = {
    "node_modules/cyc/package.json": json.dumps({"name": "cyc", "types": "index.d.ts"}),
    "node_modules/cyc/index.d.ts": 'export * from "./a";\nexport * as A from "./a";\n',
    "node_modules/cyc/a.d.ts": ('export * from "./b";\nexport * as B from "./b";\n'
                                "export declare function fa(): void;\n"),
    "node_modules/cyc/b.d.ts": ('export * from "./a";\nexport * as A from "./a";\n'
                                "export declare function fb(): void;\n"),
}


def test_namespaces_re_exported_in_a_cycle_end_at_the_names_used(tmp_path: Path) -> None:
    write(tmp_path, CYCLE)
    files = installed(tmp_path)
    a, b = "node_modules/cyc/a.d.ts", "node_modules/cyc/b.d.ts"
    for text, found in (('import { A } from "cyc";\nA.B.A.B.fa(); A.B.fb();\n', {b: ["fb"], a: ["fa"]}),
                        ('import * as c from "cyc";\nc.A.B.A.fb();\n', {b: ["fb"]})):
        assert installed_definitions(refs(text, "typescript")[0], "src/a.ts", text, files) == found, text


class CountedReads(dict):
    """Installed files whose texts count how often each is read."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__(files)
        self.reads: dict[str, int] = {}

    def __getitem__(self, key: str) -> str:
        self.reads[key] = self.reads.get(key, 0) + 1
        return super().__getitem__(key)


def test_a_name_typed_after_reads_each_file_of_a_diamond_of_star_re_exports_a_few_times() -> None:
    """Each of 12 files re-exports the same 12 (``export * from``), each of those the same 12 again: a name looked
    up at each keystroke after ``name.`` reads each file a few times, not once per path to it (144 for the last)."""
    from fim.member import member_definitions

    folder, n = "node_modules/fan/", 12
    files = {folder + "package.json": json.dumps({"name": "fan", "types": "index.d.ts"}),
             folder + "index.d.ts": "".join(f'export * from "./m{i}";\n' for i in range(n))}
    for i in range(n):
        files[f"{folder}m{i}.d.ts"] = "".join(f'export * from "./l{j}";\n' for j in range(n))
        files[f"{folder}l{i}.d.ts"] = "".join(f'export * from "./d{j}";\n' for j in range(n))
        files[f"{folder}d{i}.d.ts"] = f"export declare const d{i}: number;\n"
    files[folder + "d0.d.ts"] = 'export * as Kit from "./kit";\n'
    files[folder + "kit.d.ts"] = "export declare function run(): void;\nexport declare function rest(): void;\n"
    counted = CountedReads(files)
    for document in ('import { d5 } from "fan";\nd5.to', 'import { Kit } from "fan";\nKit.ru'):
        lines = document.split("\n")
        counted.reads.clear()
        got = member_definitions(document, lines, 1, len(lines[1]), "typescript", "src/a.ts", counted)
        assert max(counted.reads.values()) <= 4, sorted(counted.reads.items(), key=lambda kv: -kv[1])[:3]
    assert got == ("ru", {folder + "kit.d.ts": ["run"]})


def test_a_modules_names_through_export_star_keep_dollar_names(tmp_path: Path) -> None:
    """zod 4's core: ``$ZodType``, ``$brand`` are JavaScript names (Python's str.isidentifier says no to ``$``)."""
    from fim.dependencies import module_names

    write(tmp_path, {"node_modules/zcore/package.json": json.dumps({"name": "zcore", "types": "index.d.ts"}),
                     "node_modules/zcore/index.d.ts": ('export * from "./core";\ndeclare const brand: unique symbol;\n'
                                                       "export { brand as $brand };\n"),
                     "node_modules/zcore/core.d.ts": ("export declare class $ZodType {\n    parse(x: unknown): void;\n"
                                                      "}\nexport declare function clone(x: unknown): unknown;\n")})
    names = module_names(ImportRef("zcore", language="typescript"), "src/a.ts", installed(tmp_path))
    assert {"$brand", "$ZodType", "clone"} <= set(names), names


# @types/node's layout (22.x): one file per built-in, each a ``declare module`` block and its ``node:`` twin.
TYPES_NODE = {
    "node_modules/@types/node/package.json": json.dumps({
        "name": "@types/node", "version": "22.9.0", "types": "index.d.ts",
        "typesVersions": {"<=5.6": {"*": ["ts5.6/*"]}}}),
    "node_modules/@types/node/index.d.ts": '/// <reference path="fs.d.ts" />\n/// <reference path="http.d.ts" />\n'
                                           '/// <reference path="inspection.d.ts" />\n',
    "node_modules/@types/node/fs.d.ts": (
        'declare module "fs" {\n    import * as stream from "node:stream";\n'
        "    /**\n     * Returns the contents of the `path`.\n     *\n     * ```js\n"
        "     * import { readFileSync } from 'node:fs';\n     * ```\n     * @since v0.1.8\n     */\n"
        "    export function readFileSync(path: PathOrFileDescriptor, options?: { flag?: string }): Buffer;\n"
        "    export function existsSync(path: PathLike): boolean;\n"
        "    export interface WriteStream extends stream.Writable { bytesWritten: number; }\n"
        '    export * as promises from "fs/promises";\n}\n'
        'declare module "node:fs" {\n    export * from "fs";\n}\n'),
    "node_modules/@types/node/fs/promises.d.ts": (
        'declare module "fs/promises" {\n    function readFile(path: PathLike): Promise<Buffer>;\n}\n'
        'declare module "node:fs/promises" {\n    export * from "fs/promises";\n}\n'),
    "node_modules/@types/node/http.d.ts": (
        'declare module "http" {\n    import { EventEmitter } from "node:events";\n'
        "    class Server extends NetServer {\n        setTimeout(msecs?: number): this;\n    }\n"
        "    function createServer(requestListener?: RequestListener): Server;\n}\n"
        'declare module "node:http" {\n    export * from "http";\n}\n'),
    "node_modules/@types/node/path.d.ts": (
        'declare module "path" {\n    namespace path {\n        interface PlatformPath { sep: string; }\n    }\n'
        "    function join(...paths: string[]): string;\n}\n"
        'declare module "path/posix" {\n    import path = require("path");\n    export = path;\n}\n'),
    # an older layout: the module in a file of another name, found through index.d.ts's references
    "node_modules/@types/node/inspection.d.ts": 'declare module "inspector" {\n    function url(): string;\n}\n',
    "node_modules/@types/node/ts5.6/fs.d.ts": 'declare module "fs" {\n    function readFileSync(): never;\n}\n',
}


def test_node_builtins_resolve_to_their_declare_module_block_in_types_node(tmp_path: Path) -> None:
    write(tmp_path, TYPES_NODE)
    files = installed(tmp_path)
    text = ('import { readFileSync, existsSync } from "fs";\nimport * as fs from "node:fs";\n'
            'import { readFile } from "node:fs/promises";\nimport http from "node:http";\n'
            'const { join } = require("path/posix");\nimport { url } from "inspector";\n'
            "const server = http.createServer(handler);\nconst stream: fs.WriteStream = fs.createWriteStream(p);\n")
    bare, prefixed, promises, default, posix, older = refs(text, "typescript")
    types = "node_modules/@types/node/"
    assert installed_definitions(bare, "src/cli.ts", text, files) == {types + "fs.d.ts": ["readFileSync", "existsSync"]}
    assert installed_definitions(prefixed, "src/cli.ts", text, files) == {types + "fs.d.ts": ["WriteStream"]}
    assert installed_definitions(promises, "src/cli.ts", text, files) == {types + "fs/promises.d.ts": ["readFile"]}
    assert installed_definitions(default, "src/cli.ts", text, files) == {types + "http.d.ts": ["createServer"]}
    assert installed_definitions(posix, "src/cli.ts", text, files) == {types + "path.d.ts": ["join"]}
    assert installed_definitions(older, "src/cli.ts", text, files) == {types + "inspection.d.ts": ["url"]}


def test_a_builtins_name_is_a_package_without_types_node(tmp_path: Path) -> None:
    write(tmp_path, {"node_modules/events/package.json": json.dumps({"name": "events", "types": "events.d.ts"}),
                     "node_modules/events/events.d.ts": "export declare class EventEmitter { on(): this }\n"})
    text = 'import { EventEmitter } from "events";\nimport { readFileSync } from "node:fs";\n'
    events, fs = refs(text, "typescript")
    assert installed_definitions(events, "a.ts", text, installed(tmp_path)) == {
        "node_modules/events/events.d.ts": ["EventEmitter"]}
    assert installed_definitions(fs, "a.ts", text, installed(tmp_path)) == {}
    write(tmp_path, {"node_modules/@types/node/package.json": TYPES_NODE["node_modules/@types/node/package.json"],
                     "node_modules/@types/node/events.d.ts": 'declare module "events" {\n'
                                                             "    class EventEmitter { emit(): boolean }\n}\n"})
    assert installed_definitions(events, "a.ts", text, installed(tmp_path)) == {  # Node's own first, as tsc
        "node_modules/@types/node/events.d.ts": ["EventEmitter"]}


def test_a_builtins_declarations_come_with_their_module_in_the_context(tmp_path: Path) -> None:
    write(tmp_path, TYPES_NODE)
    document = ('import { readFileSync } from "node:fs";\n\n'
                "export function load(p: string) {\n    return readFileSync(\n")
    snippets = select_context("src/load.ts", document, 3, {"src/load.ts": document}, [], None, 6000, (0, 4),
                              installed=installed(tmp_path))
    assert [s.source for s in snippets] == ["node_modules/@types/node/fs.d.ts"]
    text = snippets[0].text
    assert text.startswith('declare module "fs" {')
    signature = "    export function readFileSync(path: PathOrFileDescriptor, options?: { flag?: string }): Buffer;"
    assert "    /** Returns the contents of the `path`. */\n" + signature in text  # the doc's first line, no example
    assert "```" not in text and "@since" not in text
    assert "existsSync" not in text and "node:fs" not in text  # the names used: no others of the block's hundreds
    assert "never" not in text  # not the ts5.6 copy


def test_the_most_specific_exports_pattern_wins_and_null_excludes(tmp_path: Path) -> None:
    exports = {".": {"types": "./types/index.d.ts"}, "./*": {"types": "./types/*.d.ts"},
               "./features/*.js": {"types": "./types/features/*.d.ts"}, "./features/private/*": None}
    write(tmp_path, {
        "node_modules/kit/package.json": json.dumps({"name": "kit", "exports": exports}),
        "node_modules/kit/types/features/a.js.d.ts": "export declare function broad(): void;\n",
        "node_modules/kit/types/features/a.d.ts": "export declare function feature(): void;\n",
        "node_modules/kit/types/features/private/b.d.ts": "export declare function hidden(): void;\n",
        "node_modules/kit/features/private/b.d.ts": "export declare function hidden(): void;\n",
    })
    text = ('import { feature, broad } from "kit/features/a.js";\n'
            'import { hidden } from "kit/features/private/b";\n')
    specific, excluded = refs(text, "typescript")
    assert installed_definitions(specific, "a.ts", text, installed(tmp_path)) == {
        "node_modules/kit/types/features/a.d.ts": ["feature"]}
    assert installed_definitions(excluded, "a.ts", text, installed(tmp_path)) == {}
    # the workspace's own packages follow the same rule
    workspace = {"packages/kit/package.json": json.dumps({"name": "kit", "exports": {
                     "./*": "./dist/*.js", "./features/*.js": "./src/features/*.ts", "./features/private/*": None}}),
                 "packages/kit/dist/features/a.js.js": "export function broad() {}\n",
                 "packages/kit/src/features/a.ts": "export function feature() {}\n",
                 "packages/kit/src/features/private/b.ts": "export function hidden() {}\n",
                 "packages/kit/features/private/b.ts": "export function hidden() {}\n"}
    index = path_index(workspace, workspace)
    assert resolve(specific, "app/main.ts", index) == ["packages/kit/src/features/a.ts"]
    assert resolve(excluded, "app/main.ts", index) == []


def test_a_workspace_declaration_file_stands_for_a_package_without_types(tmp_path: Path) -> None:
    write(tmp_path, {"node_modules/express/package.json": json.dumps({"name": "express", "types": "index.d.ts"}),
                     "node_modules/express/index.d.ts": "export declare function Router(): Router;\n"})
    declared = ('declare module "my-untyped-lib" {\n    export interface Client { close(): void }\n'
                "    export function connect(url: string): Client;\n}\n"
                'declare module "shorthand-lib";\n')
    augmentation = ('import "express";\n\ndeclare module "express" {\n    interface Request { user?: string }\n}\n')
    document = ('import { connect } from "my-untyped-lib";\nimport { Router } from "express";\n'
                'import { thing } from "shorthand-lib";\n\nconst client = connect(\n')
    workspace = {"types/untyped.d.ts": declared, "types/express.d.ts": augmentation, "src/app.ts": document}
    snippets = select_context("src/app.ts", document, 4, workspace, [], None, 6000, (0, 5),
                              installed=installed(tmp_path))
    by_source = {s.source: s.text for s in snippets}
    assert set(by_source) == {"types/untyped.d.ts", "node_modules/express/index.d.ts"}
    assert "export function connect(url: string): Client;" in by_source["types/untyped.d.ts"]
    assert by_source["types/untyped.d.ts"].startswith('declare module "my-untyped-lib" {')


def test_go_imports_resolve_in_the_modules_vendor_folder(tmp_path: Path) -> None:
    write(tmp_path, {
        "svc/go.mod": "module example.com/svc\n\ngo 1.22\n",
        "svc/vendor/github.com/acme/kit/log/log.go": "package log\n\ntype Logger struct{ level int }\n\n"
                                                     "// New makes a logger.\nfunc New(level int) *Logger {\n"
                                                     "\treturn &Logger{level}\n}\n",
        "svc/vendor/github.com/acme/kit/log/log_test.go": "package log\n\nfunc New() {}\n",
        "svc/cmd/main.go": "",
    })
    text = ('package main\n\nimport (\n\t"fmt"\n\t"github.com/acme/kit/log"\n)\n\n'
            "func main() {\n\tl := log.New(3)\n\tfmt.Println(l)\n}\n")
    fmt, kit = refs(text, "go")
    files = installed(tmp_path)
    assert installed_definitions(kit, "svc/cmd/main.go", text, files) == {}  # no vendor/modules.txt: not vendored
    write(tmp_path, {"svc/vendor/modules.txt": "# github.com/acme/kit v1.0.0\n## explicit\ngithub.com/acme/kit/log\n"})
    files = installed(tmp_path)
    assert installed_definitions(kit, "svc/cmd/main.go", text, files) == {
        "svc/vendor/github.com/acme/kit/log/log.go": ["New"]}
    assert installed_definitions(fmt, "svc/cmd/main.go", text, files) == {}
    (snippet,) = select_context("svc/cmd/main.go", text, 9, {"svc/cmd/main.go": text}, [], None, 4000, (0, 11),
                                installed=files, language="go")
    assert "func New(level int) *Logger {" in snippet.text


# ------------------------------------------------------------------------------------ the context


def test_the_dependencys_signatures_are_in_the_context(tmp_path: Path) -> None:
    files = installed(tmp_path, site_packages(venv(tmp_path, packages=HTTPLIB)))
    document = "from httplib import Request\n\n\ndef fetch(url):\n    req = Request('GET', url)\n    return req.\n"
    snippets = select_context("app.py", document, 5, {"app.py": document}, [], None, 6000, (0, 6),
                              installed=files)
    (snippet,) = snippets
    assert snippet.source == "site-packages/httplib/_models.py"
    assert "def __init__(self, method: str, url: str, *, headers: dict = None) -> None:" in snippet.text
    assert '"""An HTTP request."""' in snippet.text
    assert '"""Send the request and wait for the response."""' in snippet.text
    assert "Long explanation" not in snippet.text and "_private" not in snippet.text
    assert "self.method = method" not in snippet.text
    assert select_context("app.py", document, 5, {"app.py": document}, [], None, 6000, (0, 6)) == []


def test_a_module_being_typed_shows_what_the_package_offers(tmp_path: Path) -> None:
    files = installed(tmp_path, site_packages(venv(tmp_path, packages=HTTPLIB)))
    document = "import httplib\n\n\ndef fetch(url):\n    return httplib.\n"  # no name used but at the cursor
    snippets = select_context("app.py", document, 4, {"app.py": document}, [], None, 6000, (0, 5), installed=files)
    assert [s.source for s in snippets] == ["site-packages/httplib/_models.py", "site-packages/httplib/_api.py"]
    assert "class Response:" in snippets[0].text and "def request(method: str, url: str) -> int:" in snippets[1].text
    document = "from httplib import Request\n\nreq = Request('GET', '/')\n"  # the file's other public classes too
    (snippet,) = select_context("app.py", document, 2, {"app.py": document}, [], None, 6000, (0, 3), installed=files)
    assert snippet.text.index("class Request:") < snippet.text.index("class Response:")


def test_a_name_the_project_re_exports_from_a_package_is_found_there(tmp_path: Path) -> None:
    files = installed(tmp_path, site_packages(venv(tmp_path, packages=HTTPLIB)))
    compat = "from httplib import request  # the version this project supports\n\nTIMEOUT = 5\n"
    document = "from .compat import request\n\nanswer = request('GET', '/')\nother = 1\n"
    workspace = {"pkg/__init__.py": "", "pkg/compat.py": compat, "pkg/main.py": document}
    snippets = select_context("pkg/main.py", document, 3, workspace, [], None, 6000, (0, 4), installed=files)
    assert "site-packages/httplib/_api.py" in [s.source for s in snippets]


def test_project_files_come_before_the_dependencys_when_the_budget_is_short(tmp_path: Path) -> None:
    files = installed(tmp_path, site_packages(venv(tmp_path, packages=HTTPLIB)))
    helper = "def prepare(url: str) -> str:\n" + "".join(f"    url = url.strip()  # step {k}\n" for k in range(4)) \
        + "    return url\n"
    document = "from httplib import Request\nfrom helpers import prepare\n\nreq = Request('GET', prepare(u))\n"
    workspace = {"app.py": document, "helpers.py": helper}
    roomy = select_context("app.py", document, 3, workspace, [], None, 8000, (0, 4), installed=files)
    assert [s.source for s in roomy] == ["site-packages/httplib/_models.py", "helpers.py"]
    assert len(helper) < len(roomy[0].text)
    short = select_context("app.py", document, 3, workspace, [], None, len(helper) + 200, (0, 4), installed=files)
    assert [s.source for s in short] == ["helpers.py"] and short[0].text == helper.rstrip("\n")


def test_a_project_reads_its_folders_environment(tmp_path: Path) -> None:
    venv(tmp_path, packages=HTTPLIB)
    main = tmp_path / "main.py"
    text = "from httplib import request\n\nrequest('GET', '/')\n"
    main.write_text(text, encoding="utf-8")
    project = Project([tmp_path], background=False)
    project.scan(10)
    assert not any(rel.startswith(".venv") for rel in project.index.files)  # the walk still skips it
    (snippet,) = project.context(main, text, 2)((0, 3), 4000)
    assert snippet.source == "site-packages/httplib/_api.py"
    assert "def request(method: str, url: str) -> int:" in snippet.text
    assert Project([tmp_path], background=False, dependencies=False).context(main, text, 2)((0, 3), 4000) == []


def test_complete_json_shows_the_installed_definition(deepseek_tiny: Path, tmp_path: Path) -> None:
    venv(tmp_path, packages=HTTPLIB)
    source = tmp_path / "app.py"
    source.write_text("from httplib import Request\n\nreq = Request(\n", encoding="utf-8")

    def context(*options: str) -> list[dict]:
        out = subprocess.run([sys.executable, "-m", "server.cli", "complete", str(source), "--line", "2",
                              "--character", "14", "--model", str(deepseek_tiny), "--workspace", str(tmp_path),
                              "--json", "--max-tokens", "2", *options], capture_output=True, text=True, cwd=REPO,
                             timeout=300,
                             env={k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")})
        assert out.returncode == 0, out.stderr
        return [s for s in json.loads(out.stdout)["prompt"]["segments"]
                if s["kind"] == "context" and s["source"] != "app.py"]

    installed = context()
    assert [s["source"] for s in installed] == ["site-packages/httplib/_models.py"]
    assert "def __init__(self, method: str, url: str, *, headers: dict = None) -> None:" in installed[0]["text"]
    assert context("--set", "installedPackages=false") == []  # the workspace's own files only


def test_the_installed_packages_setting_follows_the_client() -> None:
    service = CompletionService(Settings(), background_index=False)
    try:
        assert service.project.dependencies
        service.configure({"installedPackages": False})
        assert not service.project.dependencies
        service.configure({"installedPackages": None})  # back to the value the server started with
        assert service.project.dependencies
    finally:
        service.close()


def test_a_linked_workspace_package_keeps_the_workspaces_ignore_rules(tmp_path: Path) -> None:
    # npm/yarn workspaces link node_modules/@org/lib to packages/lib: a file the user excluded there stays out.
    write(tmp_path, {".deepfimignore": "packages/lib/internal.ts\n",
                     "packages/lib/package.json": json.dumps({"name": "@org/lib", "types": "index.d.ts"}),
                     "packages/lib/index.d.ts": "export declare function open(): void;\n",
                     "packages/lib/internal.ts": "export function internalToken(): string { return 'x' }\n"})
    (tmp_path / "node_modules/@org").mkdir(parents=True)
    (tmp_path / "node_modules/@org/lib").symlink_to(tmp_path / "packages/lib", target_is_directory=True)
    main = tmp_path / "app.ts"
    text = 'import { open } from "@org/lib";\nimport { internalToken } from "@org/lib/internal";\nopen();\n'
    main.write_text(text, encoding="utf-8")
    project = Project([tmp_path], background=False)
    project.scan(10)
    files = project.installed("app.ts")
    assert "node_modules/@org/lib/index.d.ts" in files  # the linked package itself is read
    assert "node_modules/@org/lib/internal.ts" not in files
    sources = [s.source for s in project.context(main, text, 2)((0, 3), 4000)]
    assert "packages/lib/index.d.ts" in sources  # the workspace's own resolution of the package wins
    assert not any(source.endswith("internal.ts") for source in sources)


# ------------------------------------------------------------------------------------ Rust: Cargo's registry

INDEX = "index.crates.io-6f17d22bba15001f"
REGISTRY = "cargo-registry/" + INDEX
CRATES = {
    "serde-1.0.100/Cargo.toml": '[package]\nname = "serde"\nversion = "1.0.100"\n',
    "serde-1.0.100/src/lib.rs": "pub mod de;\npub mod ser;\npub use crate::de::{Deserialize, Deserializer};\n",
    "serde-1.0.100/src/de/mod.rs": "pub trait Deserialize<'de>: Sized {\n    fn deserialize_old();\n}\n",
    "serde-1.0.100/src/ser.rs": "pub trait Serialize {\n    fn serialize_old(&self);\n}\n",
    "serde-1.0.210/Cargo.toml": '[package]\nname = "serde"\nversion = "1.0.210"\n',
    "serde-1.0.210/src/lib.rs": "pub mod de;\npub mod ser;\npub use crate::de::{Deserialize, Deserializer};\n",
    "serde-1.0.210/src/de/mod.rs": "mod value;\npub use self::value::Error;\n\n"
                                   "pub trait Deserialize<'de>: Sized {\n    fn deserialize<D>(d: D) -> Self;\n}\n",
    "serde-1.0.210/src/de/value.rs": "pub struct Error {\n    err: Box<str>,\n}\n",
    "serde-1.0.210/src/ser.rs": "pub trait Serialize {\n    fn serialize(&self);\n}\n",
    "serde_json-1.0.128/Cargo.toml": '[package]\nname = "serde_json"\n\n[lib]\npath = "src/json.rs"\n',
    "serde_json-1.0.128/src/json.rs": "mod ser;\npub use crate::ser::{to_string, to_vec};\n"
                                      "pub use serde::ser::Serialize;\n",
    "serde_json-1.0.128/src/ser.rs": "/// Serialize the given data structure as a String of JSON.\n///\n"
                                     "/// # Errors\n///\n"
                                     "/// Serialization can fail if `T`'s implementation of `Serialize` decides to\n"
                                     "/// fail, or if `T` contains a map with non-string keys.\n#[inline]\n"
                                     "pub fn to_string<T: ?Sized>(value: &T) -> Result<String> {\n    todo!()\n}\n\n"
                                     "pub fn to_vec<T: ?Sized>(value: &T) -> Result<Vec<u8>> {\n    todo!()\n}\n",
    "tokio-1.40.0/src/lib.rs": "pub mod sync;\nmod spawn;\npub use crate::spawn::spawn;\n",
    "tokio-1.40.0/src/spawn.rs": "pub fn spawn<F>(future: F) -> JoinHandle<F::Output> {\n    todo!()\n}\n",
    "tokio-1.40.0/src/sync/mod.rs": "cfg_sync! {\n    mod mutex;\n    pub use mutex::{Mutex, MutexGuard};\n}\n",
    "tokio-1.40.0/src/sync/mutex.rs": "pub struct Mutex<T: ?Sized> {\n    c: UnsafeCell<T>,\n}\n\n"
                                      "impl<T> Mutex<T> {\n    pub fn new(t: T) -> Self {\n        todo!()\n    }\n}\n",
}
CARGO_LOCK = """version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "serde 1.0.100",
 "serde_json",
 "tokio",
]

[[package]]
name = "serde"
version = "1.0.100"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde"
version = "1.0.210"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde_json"
version = "1.0.128"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "serde 1.0.210",
]

[[package]]
name = "tokio"
version = "1.40.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"""
RUST_APP = ("use serde::de::{self, Deserialize};\nuse tokio::sync::Mutex;\nuse serde_json::Serialize;\n\n"
            "fn main() {\n    let m = Mutex::new(1);\n    let e: de::Error;\n"
            "    let s = serde_json::to_string(&m);\n}\n")


def cargo(root: Path, monkeypatch) -> InstalledFiles:
    """A workspace with a Cargo.lock and Cargo's registry (CARGO_HOME in `root`) holding CRATES."""
    write(root / "cargo" / "registry" / "src" / INDEX, CRATES)
    write(root / "cargo" / "registry" / "src" / "github.com-1ecc6299db9ec823", {"libc-0.2.1/src/lib.rs": ""})
    write(root / "ws", {"Cargo.lock": CARGO_LOCK, "app/Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n',
                        "app/src/main.rs": RUST_APP})
    monkeypatch.setenv("CARGO_HOME", str(root / "cargo"))
    return installed(root / "ws")


def test_rust_crates_resolve_in_cargos_registry_at_the_locked_version(tmp_path: Path, monkeypatch) -> None:
    files = cargo(tmp_path, monkeypatch)
    serde, tokio, serialize = refs(RUST_APP, "rust")
    # the workspace crate's lock entry names serde 1.0.100: not the highest; de::Error through the child module
    assert installed_definitions(serde, "app/src/main.rs", RUST_APP, files) == {
        f"{REGISTRY}/serde-1.0.100/src/de/mod.rs": ["Deserialize"]}
    # ``pub use mutex::{Mutex, ..}`` inside a macro of sync/mod.rs
    assert installed_definitions(tokio, "app/src/main.rs", RUST_APP, files) == {
        f"{REGISTRY}/tokio-1.40.0/src/sync/mutex.rs": ["Mutex"]}
    absolute = refs("use ::tokio::sync::Mutex;\n", "rust")[0]  # a leading ``::``
    assert installed_definitions(absolute, "app/src/main.rs", "", files) == {
        f"{REGISTRY}/tokio-1.40.0/src/sync/mutex.rs": ["Mutex"]}
    assert "Cargo.lock" in files and "app/Cargo.toml" in files and "app/src/main.rs" not in files  # manifests only
    # serde_json's [lib] path; its ``pub use serde::ser::Serialize`` at the version serde_json depends on
    assert installed_definitions(serialize, "app/src/main.rs", RUST_APP, files) == {
        f"{REGISTRY}/serde-1.0.210/src/ser.rs": ["Serialize"]}
    lock = tmp_path / "ws" / "Cargo.lock"
    lock.rename(tmp_path / "ws" / "Cargo.lock.old")
    assert installed_definitions(tokio, "app/src/main.rs", RUST_APP, installed(tmp_path / "ws")) == {}  # no lock
    lock.with_suffix(".lock.old").rename(lock)
    (tmp_path / "ws" / "Cargo.lock").write_text(CARGO_LOCK.replace('"serde 1.0.100",\n', ""), encoding="utf-8")
    newest = installed(tmp_path / "ws")
    assert installed_definitions(refs("use serde::de::Error;\n", "rust")[0], "app/src/main.rs", "", newest) == {
        f"{REGISTRY}/serde-1.0.210/src/de/value.rs": ["Error"]}  # no entry names it: the highest
    # ``pub mod de;`` names the module: the names used through it are looked up there, not ``de`` itself
    document = "use serde::{de, ser};\n\nfn f(e: de::Error) {}\n"
    assert installed_definitions(refs(document, "rust")[0], "app/src/main.rs", document, newest) == {
        f"{REGISTRY}/serde-1.0.210/src/de/value.rs": ["Error"]}
    # ``mod spawn;`` and ``pub use crate::spawn::spawn``: the function, not the module
    document = "use tokio::spawn;\n\nfn f() { spawn(1); }\n"
    assert installed_definitions(refs(document, "rust")[0], "app/src/main.rs", document, newest) == {
        f"{REGISTRY}/tokio-1.40.0/src/spawn.rs": ["spawn"]}


def test_a_crates_path_without_a_use_and_a_used_child_module_are_in_the_context(tmp_path: Path, monkeypatch) -> None:
    files = cargo(tmp_path, monkeypatch)
    (tmp_path / "ws" / "Cargo.lock").write_text(CARGO_LOCK.replace('"serde 1.0.100",\n', '"serde 1.0.210",\n'),
                                                encoding="utf-8")
    snippets = select_context("app/src/main.rs", RUST_APP, 7, {"app/src/main.rs": RUST_APP}, [], None, 8000, (0, 9),
                              installed=installed(tmp_path / "ws"))
    by_source = {s.source: s.text for s in snippets}
    to_string = by_source[f"{REGISTRY}/serde_json-1.0.128/src/ser.rs"]  # serde_json::to_string( without a use
    assert to_string.startswith("/// Serialize the given data structure as a String of JSON.\n#[inline]\n"
                                "pub fn to_string<T: ?Sized>(value: &T) -> Result<String> {")
    assert "# Errors" not in to_string and "non-string keys" not in to_string  # the doc's first line only
    assert "pub struct Error {" in by_source[f"{REGISTRY}/serde-1.0.210/src/de/value.rs"]  # de::Error
    assert "pub struct Mutex<T: ?Sized> {" in by_source[f"{REGISTRY}/tokio-1.40.0/src/sync/mutex.rs"]
    assert files[f"{REGISTRY[:-len(INDEX)]}"].split("\n") == ["github.com-1ecc6299db9ec823/", INDEX + "/"]
    assert select_context("app/src/main.rs", RUST_APP, 7, {"app/src/main.rs": RUST_APP}, [], None, 8000,
                          (0, 9)) == []


# ------------------------------------------------------------------------------------ Go: the module cache


def test_go_imports_resolve_in_the_module_cache_at_the_required_version(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "gomod", {
        "github.com/spf13/cobra@v1.7.0/command.go": "package cobra\n\ntype Command struct{ Old string }\n",
        "github.com/spf13/cobra@v1.8.0/command.go": "package cobra\n\n"
                                                    "// Command is just that, a command for your app.\n"
                                                    "// E.g.  'go run ...' - 'run' is the command. Cobra requires\n"
                                                    "// you to define the usage and description.\n"
                                                    "type Command struct{ Use string }\n",
        "github.com/spf13/cobra@v1.8.0/command_test.go": "package cobra\n\ntype Command struct{}\n",
        "github.com/spf13/cobra@v1.8.0/doc/md_docs.go": "package doc\n\nfunc GenMarkdown(c *cobra.Command) error {\n"
                                                        "\treturn nil\n}\n",
        "github.com/!burnt!sushi/toml@v1.3.2/decode.go": "package toml\n\nfunc Decode(data string, v any) error {\n"
                                                         "\treturn nil\n}\n",
        "github.com/golang/text@v0.14.0/language/tags.go": "package language\n\nfunc Parse(s string) (Tag, error) {\n"
                                                            "\treturn Tag{}, nil\n}\n",
    })
    go_mod = ("module example.com/svc\n\ngo 1.22\n\nrequire (\n\tgithub.com/spf13/cobra v1.8.0\n"
              "\tgithub.com/BurntSushi/toml v1.3.2 // indirect\n\tgolang.org/x/text v0.13.0\n"
              "\texample.com/local v0.0.0\n)\n\n"
              "replace golang.org/x/text => github.com/golang/text v0.14.0\nreplace example.com/local => ../local\n")
    write(tmp_path / "ws", {"svc/go.mod": go_mod})
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "gomod"))
    text = ('package main\n\nimport (\n\t"fmt"\n\t"github.com/spf13/cobra"\n\t"github.com/spf13/cobra/doc"\n'
            '\t"github.com/BurntSushi/toml"\n\t"golang.org/x/text/language"\n\t"example.com/local/x"\n)\n\n'
            "func main() {\n\tc := &cobra.Command{}\n\tdoc.GenMarkdown(c)\n\ttoml.Decode(\"\", nil)\n"
            "\tlanguage.Parse(\"en\")\n\tx.Y()\n\tfmt.Println(c)\n}\n")
    files = installed(tmp_path / "ws")
    got = {r.module: installed_definitions(r, "svc/cmd/main.go", text, files) for r in refs(text, "go")}
    assert got == {
        "fmt": {},
        "github.com/spf13/cobra": {"go-modules/github.com/spf13/cobra@v1.8.0/command.go": ["Command"]},
        "github.com/spf13/cobra/doc": {"go-modules/github.com/spf13/cobra@v1.8.0/doc/md_docs.go": ["GenMarkdown"]},
        "github.com/BurntSushi/toml": {"go-modules/github.com/!burnt!sushi/toml@v1.3.2/decode.go": ["Decode"]},
        "golang.org/x/text/language": {"go-modules/github.com/golang/text@v0.14.0/language/tags.go": ["Parse"]},
        "example.com/local/x": {},  # replaced by a folder of the workspace
    }
    snippets = select_context("svc/cmd/main.go", text, 13, {"svc/cmd/main.go": text}, [], None, 6000, (0, 20),
                              installed=files, language="go")
    (command,) = [s.text for s in snippets if s.source == "go-modules/github.com/spf13/cobra@v1.8.0/command.go"]
    assert command == "// Command is just that, a command for your app.\ntype Command struct{ Use string }"


def test_cargos_and_gos_caches_are_found_from_the_environment_even_before_they_exist(tmp_path: Path,
                                                                                     monkeypatch) -> None:
    from server.dependencies import find_cargo_home, find_go_module_cache

    home = str(Path.home())
    assert find_cargo_home({}) == Path(home) / ".cargo"
    assert find_cargo_home({"CARGO_HOME": str(tmp_path / "cargo")}) == tmp_path / "cargo"  # not made yet
    assert find_go_module_cache({}) == Path(home) / "go" / "pkg" / "mod"
    assert find_go_module_cache({"GOPATH": os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])}) == \
        tmp_path / "a" / "pkg" / "mod"
    assert find_go_module_cache({"GOMODCACHE": str(tmp_path / "m"), "GOPATH": str(tmp_path / "a")}) == tmp_path / "m"
    # a registry the first ``cargo build`` fills after the server started is read then
    monkeypatch.setenv("CARGO_HOME", str(tmp_path / "cargo"))
    monkeypatch.setattr("server.dependencies.STAT_SECONDS", 0.0)
    files = installed(tmp_path)
    assert "cargo-registry/" not in files
    write(tmp_path / "cargo" / "registry" / "src" / INDEX, {"memchr-2.5.0/src/lib.rs": "pub fn memchr() {}\n"})
    assert files["cargo-registry/"] == INDEX + "/"
    assert files[f"cargo-registry/{INDEX}/memchr-2.5.0/src/lib.rs"] == "pub fn memchr() {}\n"


def test_a_file_of_unclosed_export_braces_is_read_in_linear_time(tmp_path: Path) -> None:
    """Each ``export{`` read up to the next ``}``, across lines: 14,000 lines of ``export{a,`` (140 KB, lines short
    enough to be read) took 26 s (quadratic, the regex twice); up to the next brace, 0.4 s."""
    import time

    from fim.dependencies import module_names

    write(tmp_path, {"node_modules/broken/package.json": json.dumps({"name": "broken", "main": "index.js"}),
                     "node_modules/broken/index.js": ("export { run as go } from './run.js';\n"
                                                      + "export{a,\n" * 14_000)})
    started = time.perf_counter()
    names = module_names(ImportRef("broken", language="javascript"), "src/a.js", installed(tmp_path))
    assert "go" in names and time.perf_counter() - started < 4

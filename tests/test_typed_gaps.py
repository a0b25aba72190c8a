"""The name being typed in a block comment an earlier line opens, and the ``using namespace`` scan per keystroke."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.cppnamespaces import cursor_qualified
from fim.cppusing import using_namespaces
from fim.cprefix import cursor_identifier
from fim.kotlinprefix import cursor_name
from fim import linecode
from fim.typedclasses import class_cursor_name
from tests.test_cppnamespaces import big_library, installed_libraries
from tests.test_java_dependencies import installed
from tests.test_kotlin_facades import PATH, repository
from tests.test_kotlin_prefix import DELAY, typed


def test_a_name_typed_in_a_block_comment_an_earlier_line_opens_is_no_name_to_look_up() -> None:
    assert cursor_identifier("/* usage:\n *   git_repo") is None
    assert cursor_qualified("int x;\n/* e.g.\n   fmt::for") is None
    assert cursor_name("/**\n * Starts with lau") is None and class_cursor_name("/**\n * See Dispat") is None
    # closed before the line, closed on it, or no comment at all (a ``/*`` in a string or a ``//`` comment)
    assert cursor_identifier("/* a */\nint n = git_repo") == "git_repo"
    assert cursor_identifier("/* a\n b */ git_repo") == "git_repo"
    assert cursor_identifier('const char *s = "/*";\ngit_repo') == "git_repo"
    assert cursor_identifier("// see /* below\ngit_repo") == "git_repo"
    assert cursor_name("val s = \"/*\" // /*\n    lau") == "lau"
    # a comment opened, its text quoting ``/*``, and a string on the cursor's line still in it
    assert not linecode.code_before('/* one\n  "/*" two\n  x = "a" + git', "git")
    assert linecode.code_before("/* one */ x = 1; /* two */\n  git", "git")


def test_a_cpp_namespace_typed_in_a_comment_s_second_line_brings_nothing(tmp_path: Path) -> None:
    installed_files = installed_libraries(tmp_path)
    big_library(tmp_path)
    for text, expected in (("#include <biglog.h>\n\n/* usage:\n    biglog::in", False),
                           ("#include <biglog.h>\n\n/* usage: */\n    biglog::in", True)):
        snippets = select_context("src/app.cc", text, 3, {"src/app.cc": text}, [], None, 20000, (0, 4),
                                  installed=installed_files, cursor_character=14)
        got = {s.source: s.text for s in snippets}.get("c-include/0/biglog.h", "")
        assert ("void info(const char *message);" in got) is expected, text


def test_a_kotlin_name_typed_in_a_kdoc_brings_no_facade(tmp_path: Path) -> None:
    files = installed(tmp_path, repository(tmp_path, sources=True))
    for inside, expected in ((True, False), (False, True)):
        document, line = typed("    del", "/**\n * Runs it\n" if inside else "/** Runs it */\n")
        document = document.replace("fun go(scope: CoroutineScope) {\n", "")
        snippets = select_context(PATH, document, document.count("\n"), {PATH: document}, [], None, 6000,
                                  (0, 8), installed=files, cursor_character=len(line))
        assert (DELAY in {s.source for s in snippets}) is expected


def test_typing_on_a_line_reuses_the_scan_of_the_lines_above() -> None:
    from fim.cppusing import _head_blocks

    head = "using namespace spdlog;\n" + "".join(f"int f{k}() {{ return {k}; }}\n" for k in range(2000))
    _head_blocks.cache_clear()
    for typed_ in ("in", "inf", "info"):
        assert using_namespaces(head + "void g() { " + typed_) == ["spdlog"]
    assert _head_blocks.cache_info().misses == 1 and _head_blocks.cache_info().hits == 2
    # the cursor's line's own directive and blocks count; a comment the lines above leave open goes on in it
    assert using_namespaces(head + "void g() { using namespace fmt; pri") == ["spdlog", "fmt"]
    assert using_namespaces(head + "} using namespace fmt; } pri") == ["spdlog", "fmt"]
    assert using_namespaces(head + "/* a\nusing namespace fmt; */ pri") == ["spdlog"]


CLIENT = ("".join(f"export declare function util{k}(value: number, other: string): string;\n" for k in range(400))
          + "export interface Options {\n    retries: number;\n}\n"
          + "export default class Client {\n    constructor(url: string, options?: Options);\n"
          + "".join(f"    helper{k}(value: number): string;\n" for k in range(400))
          + "    static connect(url: string): Client;\n}\n")


def test_a_default_imported_class_s_static_members_come_from_its_export_default(tmp_path: Path) -> None:
    from server.dependencies import InstalledFiles
    from tests.test_namespaces import context

    for rel, text in {"node_modules/netclient/package.json": '{"name": "netclient", "types": "index.d.ts"}',
                      "node_modules/netclient/index.d.ts": CLIENT}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    files = InstalledFiles(None, lambda rel: tmp_path / rel, 256 * 1024)
    for document in ('import Client from "netclient";\n\nconst c = Client.con',
                     'import Client from "netclient";\n\nconst c = Client.connect("ws://x");\n'):
        got = context(document, files)
        assert "static connect(url: string): Client;" in got and "export default class Client {" in got, document
    assert "helper7(" not in got  # a static member used: under the class's head, not all its members


def test_the_name_a_declaration_file_exports_as_default() -> None:
    from fim.namespaces import export_default

    assert export_default("export declare function f(): void;\nexport default class Client {\n}\n") == "Client"
    assert export_default("export default abstract class Base {}\n") == "Base"
    assert export_default("export default function slugify(text: string): string;\n") == "slugify"
    assert export_default("declare const api: Api;\nexport default api;\n") == "api"
    assert export_default("declare class K {}\nexport { K as default, other };\n") == "K"
    assert export_default("export = ts;\nexport function f(): void;\n") == ""

"""Members of an installed package's namespaces, enums and classes after an imported name (`fim.namespaces`):
``window.showInf|`` (``import { window } from "vscode"``), ``vscode.window.showInf|``, ``ts.SyntaxKind.Ide|``
(``export = ts``), ``ts.factory.createIde|`` (a ``const`` typed with an interface), ``ts.Printer.cr|`` (a class's
static members), and a used ``window.showInformationMessage(`` as that member's declaration, not the namespace."""

from __future__ import annotations

from pathlib import Path

from benchmarks.dependency_context import nested_declarations
from fim.context import select_context
from server.dependencies import InstalledFiles

FILLER = "".join(f"        export function helper{k}(value: number): string;\n" for k in range(60))
VSCODE = ("declare module 'vscode' {\n"
          "    export namespace window {\n"
          "        /** Show an information message to users. */\n"
          "        export function showInformationMessage(message: string, ...items: string[]): Thenable<string>;\n"
          "        export function showErrorMessage(message: string): Thenable<string>;\n"
          "        export function createTerminal(name?: string): Terminal;\n"
          f"{FILLER}"
          "        export let activeTextEditor: TextEditor | undefined;\n"
          "    }\n"
          "    export interface TextEditor {\n"
          "        readonly document: TextDocument;\n"
          "        revealRange(range: Range): void;\n"
          "    }\n"
          "}\n")
TYPESCRIPT = ("declare namespace ts {\n"
              "    enum SyntaxKind {\n"
              "        Unknown = 0,\n"
              "        EndOfFileToken = 1,\n"
              "        /** An identifier. */\n"
              "        Identifier = 80,\n"
              "        IfStatement = 245,\n"
              "    }\n"
              "    interface NodeFactory {\n"
              "        createIdentifier(text: string): Identifier;\n"
              "        createStringLiteral(text: string): StringLiteral;\n"
              "    }\n"
              "    const factory: NodeFactory;\n"
              "    class Printer {\n"
              "        static create(options: PrinterOptions): Printer;\n"
              "        constructor();\n"
              "        print(node: Node): string;\n"
              "    }\n"
              f"{FILLER}"
              "}\n"
              "export = ts;\n")


def installed(root: Path, big: int = 0) -> InstalledFiles:
    files = {"node_modules/@types/vscode/package.json": '{"name": "@types/vscode", "types": "index.d.ts"}',
             "node_modules/@types/vscode/index.d.ts": VSCODE,
             "node_modules/typescript/package.json": '{"name": "typescript", "typings": "./lib/typescript.d.ts"}',
             "node_modules/typescript/lib/typescript.d.ts": TYPESCRIPT + "// padding\n" * big}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return InstalledFiles(None, lambda rel: root / rel, 256 * 1024)


def context(document: str, files: InstalledFiles, budget: int = 12000) -> str:
    """The installed files' snippets for the cursor at the end of `document`'s last line."""
    lines = document.split("\n")
    snippets = select_context("src/extension.ts", document, len(lines) - 1, {"src/extension.ts": document}, [], None,
                              budget, (0, len(lines)), installed=files, language="typescript",
                              cursor_character=len(lines[-1]))
    return "\n".join(s.text for s in snippets if "node_modules/" in s.source)


def test_a_named_imports_namespace_member_being_typed_brings_the_members_starting_so(tmp_path: Path) -> None:
    got = context('import { window } from "vscode";\n\nexport function activate() {\n    window.showInf',
                  installed(tmp_path))
    assert "export function showInformationMessage(message: string, ...items: string[]): Thenable<string>;" in got
    assert "export namespace window {" in got  # under its namespace's head
    assert "createTerminal" not in got and "helper7" not in got  # not the whole namespace


def test_a_namespace_member_with_nothing_typed_brings_as_many_members_as_the_room_holds(tmp_path: Path) -> None:
    files = installed(tmp_path)
    document = 'import { window } from "vscode";\n\nexport function activate() {\n    window.'
    small = context(document, files, 2000)  # the 64 members, one block of lines: its first lines, not none
    assert "export function showInformationMessage(" in small and "activeTextEditor" not in small
    got = context(document, files, 12000)  # past the first 48 names where the prompt has room left
    assert all(f"export function helper{k}(value: number): string;" in got for k in range(60))
    assert "activeTextEditor" in got


def test_a_chain_through_a_namespace_import_brings_the_members(tmp_path: Path) -> None:
    got = context('import * as vscode from "vscode";\n\nexport function activate() {\n    vscode.window.show',
                  installed(tmp_path))
    assert "showInformationMessage(" in got and "showErrorMessage(" in got
    assert "createTerminal" not in got


def test_an_enums_member_through_an_export_assigned_namespace(tmp_path: Path) -> None:
    document = 'import ts from "typescript";\n\nfunction f(node: Node) {\n    return node.kind === ts.SyntaxKind.Ide'
    got = context(document, installed(tmp_path))
    assert "Identifier = 80," in got and "enum SyntaxKind {" in got
    assert "IfStatement" not in got and "Unknown = 0" not in got


def test_a_const_typed_with_an_interface_and_a_class_static_members(tmp_path: Path) -> None:
    files = installed(tmp_path)
    got = context('import ts from "typescript";\n\nconst id = ts.factory.createIde', files)
    assert "createIdentifier(text: string): Identifier;" in got and "const factory: NodeFactory;" in got
    assert "createStringLiteral" not in got
    got = context('import * as ts from "typescript";\n\nconst printer = ts.Printer.', files)
    assert "static create(options: PrinterOptions): Printer;" in got
    assert "print(node: Node): string;" not in got  # an instance method: not after the class's name


def test_a_used_member_brings_its_declaration_not_the_whole_namespace(tmp_path: Path) -> None:
    document = ('import { window } from "vscode";\n\nexport function activate() {\n'
                '    window.showInformationMessage("ready");\n    const editor = window.activeTextEditor;\n'
                '    editor.document;\n    ')
    got = context(document, installed(tmp_path))
    assert "export function showInformationMessage(message: string, ...items: string[]): Thenable<string>;" in got
    assert "export let activeTextEditor: TextEditor | undefined;" in got
    assert "createTerminal" not in got and "helper7" not in got


def test_a_declaration_file_past_the_file_size_cap_is_read(tmp_path: Path) -> None:
    files = installed(tmp_path, big=30_000)  # typescript.d.ts is 580 KB
    assert (tmp_path / "node_modules/typescript/lib/typescript.d.ts").stat().st_size > 256 * 1024
    assert files["node_modules/typescript/lib/typescript.d.ts"].startswith("declare namespace ts {")
    got = context('import ts from "typescript";\n\nconst k = ts.SyntaxKind.Ide', files)
    assert "Identifier = 80," in got


def test_the_benchmarks_line_reading_of_nested_declarations() -> None:
    members, typed = nested_declarations(TYPESCRIPT)
    assert members["ts.SyntaxKind"]["Identifier"] == [5]
    assert members["ts.NodeFactory"]["createIdentifier"] == [9]
    assert members["ts.Printer"]["create"] == [14] and "constructor" not in members["ts.Printer"]
    assert typed["ts.factory"] == "NodeFactory"
    members, _ = nested_declarations(VSCODE)
    assert members["window"]["showInformationMessage"] == [3] and members[""]["TextEditor"] == [68]


def test_a_block_of_members_cut_to_the_room_never_passes_it() -> None:
    """`fim.symbols.brief` of a namespace's members (one block of lines): cut at a line end within any room."""
    from fim.symbols import brief

    names = ["window.showInformationMessage", "window.showErrorMessage", "window.createTerminal",
             *(f"window.helper{k}" for k in range(60))]
    whole = brief(VSCODE, "typescript", names, 100_000).text
    for room in [*range(40, 200), *range(200, len(whole) + 40, 7)]:  # the heads' own length (55) too
        got = brief(VSCODE, "typescript", names, room).text
        assert len(got) <= room and whole.startswith(got.rstrip()), room


def test_the_names_that_may_stand_at_the_cursor_come_first(tmp_path: Path) -> None:
    """``node: ts.|`` is a type: the namespace's interfaces, type aliases, classes and enums first; ``if (ts.|``
    an expression: not its interfaces and type aliases (in JavaScript, always so)."""
    from fim.namespaces import namespace_member_definitions, type_position

    functions = "".join(f"    function isKind{k}(node: Node): boolean;\n" for k in range(60))
    interfaces = "".join(f"    interface Shape{k} {{\n        readonly size: number;\n    }}\n" for k in range(60))
    text = "declare namespace ts {\n" + functions + interfaces + "}\nexport = ts;\n"
    root = tmp_path / "node_modules" / "typescript"
    (root / "lib").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "typescript", "typings": "./lib/typescript.d.ts"}', encoding="utf-8")
    (root / "lib" / "typescript.d.ts").write_text(text, encoding="utf-8")
    files = InstalledFiles(None, lambda rel: tmp_path / rel, 256 * 1024)

    def names(line: str, language: str = "typescript") -> list[str]:
        document = 'import ts from "typescript";\n\n' + line
        lines = document.split("\n")
        got = namespace_member_definitions(lines, 2, len(line), language, "src/a.ts", files, document)
        return got[1]["node_modules/typescript/lib/typescript.d.ts"] if got else []

    assert names("export function visit(node: ts.") == [f"ts.Shape{k}" for k in range(48)]
    assert names("if (ts.") == [f"ts.isKind{k}" for k in range(48)]
    assert names("const x: ts.", "javascript")[0] == "ts.isKind0"
    assert names("const x: ts.Sh") == [f"ts.Shape{k}" for k in range(48)]  # the part typed first
    assert [type_position(b) for b in ("(node: ", "x as ", "A | ", "class B extends ", "if (", "a || ", "x = ")] \
        == [True, True, True, True, False, False, False]

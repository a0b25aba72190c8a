"""The member typed on a TypeScript or JavaScript object whose type an installed package declares
(`fim.tsinstances`): ``node.mem|`` after ``node: ts.InterfaceDeclaration`` brings that interface's members
starting so, then those of the interfaces it extends; ``new QueryClient()``, ``this.client`` too."""

from __future__ import annotations

from pathlib import Path

from fim.member import member_definitions
from fim.tsinstances import declared_type
from server.dependencies import InstalledFiles

TYPESCRIPT = ("declare namespace ts {\n"
              "    interface Node {\n"
              "        readonly kind: SyntaxKind;\n"
              "        readonly parent: Node;\n"
              "        getText(sourceFile?: SourceFile): string;\n"
              "    }\n"
              "    interface DeclarationStatement extends Node, JSDocContainer {\n"
              "        readonly name?: Identifier;\n"
              "    }\n"
              "    interface InterfaceDeclaration extends DeclarationStatement {\n"
              "        readonly members: NodeArray<TypeElement>;\n"
              "        readonly name: Identifier;\n"
              "    }\n"
              "    class Printer {\n"
              "        static create(): Printer;\n"
              "        printNode(node: Node): string;\n"
              "        private cache;\n"
              "    }\n"
              "}\n"
              "export = ts;\n")
QUERY_CORE = ("export declare class QueryCache {\n    find(key: string): Query | undefined;\n}\n"
              "export declare class QueryClient {\n    constructor(config?: QueryClientConfig);\n"
              "    getQueryCache(): QueryCache;\n    getQueryData(key: string): unknown;\n"
              "    static defaults: object;\n}\n")


def installed(root: Path) -> InstalledFiles:
    files = {"node_modules/typescript/package.json": '{"name": "typescript", "typings": "./lib/typescript.d.ts"}',
             "node_modules/typescript/lib/typescript.d.ts": TYPESCRIPT,
             "node_modules/query-core/package.json": '{"name": "query-core", "types": "index.d.ts"}',
             "node_modules/query-core/index.d.ts": QUERY_CORE}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return InstalledFiles(None, lambda rel: root / rel, 256 * 1024)


def offered(document: str, files: InstalledFiles) -> tuple[str, dict[str, list[str]]]:
    lines = document.split("\n")
    return member_definitions(document, lines, len(lines) - 1, len(lines[-1]), "typescript", "src/a.ts", files)


TS = "node_modules/typescript/lib/typescript.d.ts"
QC = "node_modules/query-core/index.d.ts"


def test_a_parameters_interface_type_brings_its_members_then_its_bases(tmp_path: Path) -> None:
    files = installed(tmp_path)
    head = 'import ts from "typescript";\n\nfunction visit(node: ts.InterfaceDeclaration, depth: number) {\n'
    assert offered(head + "    return node.me", files) == ("me", {TS: ["ts.InterfaceDeclaration.members"]})
    # nothing typed: its own first, then DeclarationStatement's and Node's (``name`` once: the nearest)
    assert offered(head + "    return node.", files) == ("", {TS: [
        "ts.InterfaceDeclaration.members", "ts.InterfaceDeclaration.name", "ts.Node.kind", "ts.Node.parent",
        "ts.Node.getText"]})


def test_a_new_objects_and_a_fields_class_brings_its_instance_members(tmp_path: Path) -> None:
    files = installed(tmp_path)
    head = 'import { QueryClient } from "query-core";\n\n'
    assert offered(head + "const client = new QueryClient();\nclient.getQ", files) == (
        "getQ", {QC: ["QueryClient.getQueryCache", "QueryClient.getQueryData"]})
    # instance members only: not the static ``defaults``
    assert offered(head + "const client = new QueryClient();\nclient.", files)[1] == {
        QC: ["QueryClient.getQueryCache", "QueryClient.getQueryData"]}
    field = head + "class Store {\n    constructor(private readonly client: QueryClient) {}\n    load() {\n"
    assert offered(field + "        this.client.getQueryC", files) == ("getQueryC", {QC: ["QueryClient.getQueryCache"]})
    # a class's private members are not offered
    document = 'import * as ts from "typescript";\n\nconst printer: ts.Printer = make();\nprinter.'
    assert offered(document, files) == ("", {TS: ["ts.Printer.printNode"]})


def test_no_declared_installed_type_no_members(tmp_path: Path) -> None:
    files = installed(tmp_path)
    assert offered('import ts from "typescript";\n\nfunction f(node: Local) {\n    node.me', files) == ("me", {})
    assert offered('import ts from "typescript";\n\nfunction f(node) {\n    node.me', files) == ("me", {})


def test_declared_types_nearest_first() -> None:
    lines = ["function f(node: ts.Node) {", "    let node: ts.Identifier = x;", "    node."]
    assert declared_type(lines, 2, "node") == "ts.Identifier"
    assert declared_type(lines[:1] + lines[2:], 1, "node") == "ts.Node"
    assert declared_type(["  private client?: QueryClient;", "  this."], 1, "client", this=True) == "QueryClient"
    assert declared_type(["  this.client = new QueryClient({});", "  this."], 1, "client", this=True) == "QueryClient"
    assert declared_type(["const other = { node: ts.factory };", "node."], 1, "node") == ""  # an object's key


def instance_tasks(root: Path, source: str) -> list:
    """The benchmark's instance-member tasks of a workspace holding `source` as src/visit.ts."""
    from benchmarks.repo_context import index_workspace
    from benchmarks.tsobjects import instance_member_tasks

    installed(root)
    (root / "src").mkdir()
    (root / "src" / "visit.ts").write_text(source, encoding="utf-8")
    project, _ = index_workspace(root)
    return instance_member_tasks("demo", project, root, "typescript")


def test_the_benchmarks_instance_tasks_are_the_members_used_on_typed_objects(tmp_path: Path) -> None:
    from benchmarks.dependency_context import fresh_member_tasks

    source = ('import ts from "typescript";\n\nexport function visit(node: ts.InterfaceDeclaration): number {\n'
              "    const n = node.members.length; // node.name in a comment\n    return n + node.kind;\n}\n\n"
              "export function other(node: Local): string {\n    return node.members;\n}\n")
    tasks = instance_tasks(tmp_path, source)
    # ``members`` (declared in InterfaceDeclaration itself); not ``kind`` (Node's: an inherited member) nor the
    # other function's ``node``
    assert [(t.line, t.column, t.name, t.definition.line, t.definition.module) for t in tasks] == [
        (3, len("    const n = node."), "members", 10, "ts.InterfaceDeclaration")]
    assert [t.text.split("\n")[t.line] for t in fresh_member_tasks(tasks, 2)] == ["    const n = node.me"]


def test_the_benchmarks_fresh_member_keeps_a_javascript_import_whole(tmp_path: Path) -> None:
    """A fresh member's variant leaves out the other lines using its name, but not an import list's closing line
    (``} from "./members";``: the statement would run on into the next import): no such variant."""
    from benchmarks.dependency_context import fresh_member_tasks

    source = ('import {\n    Local,\n} from "./members";\nimport ts from "typescript";\n\n'
              "export function visit(node: ts.InterfaceDeclaration): number {\n"
              "    const n = node.members.length;\n    return n;\n}\n")
    tasks = instance_tasks(tmp_path, source)
    assert [(t.line, t.name) for t in tasks] == [(6, "members")]
    assert fresh_member_tasks(tasks) == []

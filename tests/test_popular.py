"""A big module's names offered with little typed after it (`fim.popular`): the names the project's other files use
come first (``special.gamma150`` of 200 names), then the module's order; through `fim.context` for a Python chain
(``scipy.special.|``, its names brought by ``from ._basic import *``), a Go package (``flag.|``) and a TypeScript
enum (``ts.SyntaxKind.|``), the used name's definition is in the snippets with nothing typed."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.dependencies import MAX_NAMES
from fim.popular import ProjectUses, cued, file_uses
from server.dependencies import InstalledFiles

NAMES = [f"gamma{k}" for k in range(200)]


def test_a_name_the_workspace_uses_comes_among_the_first() -> None:
    files = {"app.py": "special.", "lib/a.py": "y = special.gamma150(x)\n", "lib/b.py": "z = sp.gamma150\n"}
    picked = ProjectUses(files, "app.py").rank(NAMES, "special", MAX_NAMES)
    assert len(picked) == MAX_NAMES and picked[0] == "gamma150"
    assert picked[1:] == NAMES[:MAX_NAMES - 1]  # then the module's order


def test_uses_after_the_same_qualifier_by_files_then_as_members_and_words_come_first_only() -> None:
    files = {"cur.py": "special.gamma7 special.gamma8\n",  # the document being edited: not counted
             "a.py": "special.gamma9\nspecial.gamma60\nother.gamma5\ngamma60\n",
             "b.py": "special.gamma9\nthing.gamma5\ny.gamma70\n", "c.py": "gamma3\nspecial.gamma70\nx.gamma70\n"}
    picked = ProjectUses(files, "cur.py").rank(NAMES, "special", MAX_NAMES)
    assert picked[:5] == ["gamma9", "gamma70", "gamma60", "gamma0", "gamma1"]  # gamma3, gamma5 in module order


def test_names_the_words_at_the_cursor_name_part_of_come_after_the_projects_uses() -> None:
    names = [f"f{k}" for k in range(100)] + ["getwininfo", "win_gettype", "tabpagenr", "getline", "getbufline"]
    files = {"a.lua": "vim.fn.tabpagenr()\n"}
    uses = ProjectUses(files, "cur.lua", "folding  local wininfo = vim.fn.")
    assert uses.rank(names, "fn", 8)[:3] == ["tabpagenr", "getwininfo", "f0"]  # at most half the room left
    assert uses.promoted == {"tabpagenr", "getwininfo"}  # given the room first, in the module's order
    assert ProjectUses(files, "cur.lua", "local line = vim.fn.").rank(names, "fn", 8)[1:3] == ["getline", "getbufline"]
    assert ProjectUses(files, "cur.lua", "local x = vim.fn.").rank(names, "fn", 8)[:2] == ["tabpagenr", "f0"]
    windows = [f"f{k}" for k in range(100)] + [f"window{k}" for k in range(5)]
    assert ProjectUses({}, "cur.lua", "local window = x.").rank(windows, "x", 8) == [
        "window0", "window1", "window2", "window3", "f0", "f1", "f2", "f3"]  # 4 of the 5 cued: half the room


def test_a_cues_word_weighs_the_more_the_fewer_names_hold_it() -> None:
    kinds = ["Array", "Tuple", "Union", "Literal", "Mapped", "Optional", "Rest", "Infer", "Intersection"]
    names = tuple([f"{kind}TypeNode" for kind in kinds] + ["ArrayLiteralExpression", "isArrayTypeNode", "Node"]
                  + [f"Kind{k}" for k in range(60)])
    got = [names[k] for k in cued(names, "ArrayNodeParser     public supportsNode(node: ts.")]
    assert got == ["ArrayTypeNode", "ArrayLiteralExpression", "isArrayTypeNode"]  # not `node`: more than 1 in 16
    got = [names[k] for k in cued(names, "const arrayLiteral = ts.")]  # literal: in 2 names, array: in 3
    assert got == ["ArrayLiteralExpression", "LiteralTypeNode", "ArrayTypeNode", "isArrayTypeNode"]
    assert cued(names, "const x = ts.") == () and cued(names, "local function return ts.") == ()


def test_a_list_that_fits_comes_whole_the_used_names_first() -> None:
    files = {"a.py": "special.gamma40\n"}
    picked = ProjectUses(files, "cur.py").rank(NAMES[:MAX_NAMES], "special", MAX_NAMES)
    assert picked == ["gamma40"] + [n for n in NAMES[:MAX_NAMES] if n != "gamma40"]
    assert ProjectUses({}, "cur.py").rank(NAMES[:MAX_NAMES], "special", MAX_NAMES) == NAMES[:MAX_NAMES]


def test_an_edited_file_changes_the_counts_and_a_removed_one_no_longer_counts() -> None:
    files = {"cur.go": "flag.", "a.go": "flag.Gamma120()\n", "b.go": "flag.Gamma130()\n", "c.go": "flag.Gamma130()\n"}
    names = [f"Gamma{k}" for k in range(200)]
    assert ProjectUses(files, "cur.go").rank(names, "flag", MAX_NAMES)[:2] == ["Gamma130", "Gamma120"]
    files = {**files, "b.go": "flag.Gamma120()\n"}
    assert ProjectUses(files, "cur.go").rank(names, "flag", MAX_NAMES)[:2] == ["Gamma120", "Gamma130"]
    files.pop("a.go")
    files.pop("b.go")
    assert ProjectUses(files, "cur.go").rank(names, "flag", MAX_NAMES)[:2] == ["Gamma130", "Gamma0"]


def test_a_files_uses_are_read_once_per_text() -> None:
    text = "x = ts.SyntaxKind.Identifier\nobj->field\nRack::Head\n"
    uses = file_uses(text)
    assert ("SyntaxKind", "Identifier") in uses.pairs and ("ts", "SyntaxKind") in uses.pairs
    assert {"field", "Head"} <= uses.members and "x" in uses.words and "x" not in uses.members
    assert file_uses(text) is uses


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def selected(path: str, document: str, workspace: dict[str, str], installed: InstalledFiles, language: str,
             budget: int = 12000) -> str:
    lines = document.split("\n")
    line = next(k for k, text in enumerate(lines) if text.rstrip().endswith("."))
    files = {path: document, **workspace}
    snippets = select_context(path, document, line, files, [], None, budget, (0, len(lines)), installed=installed,
                              language=language, cursor_character=len(lines[line]))
    return "\n".join(s.text for s in snippets if s.source not in files)


SCIPY_DOCUMENT = "import scipy.special\n\n\ndef f(x):\n    return scipy.special.\n"


def scipy_special(tmp_path: Path) -> InstalledFiles:
    """A site-packages whose scipy.special offers 200 functions (``from ._basic import *``)."""
    site = tmp_path / "site-packages"
    basic = "".join(f"def gamma{k}(x: float) -> float:\n    return x + {k}\n\n\n" for k in range(200))
    write(site, {"scipy/__init__.py": "", "scipy/special/__init__.py": "from ._basic import *\n",
                 "scipy/special/_basic.py": basic})
    return InstalledFiles(site, lambda rel: tmp_path / "ws" / rel, 1 << 20)


def test_a_python_chains_used_name_comes_with_nothing_typed(tmp_path: Path) -> None:
    installed = scipy_special(tmp_path)
    other = {"stats.py": "import scipy.special\n\n\ndef g(x):\n    return scipy.special.gamma150(x)\n"}
    assert "def gamma150(" in selected("app.py", SCIPY_DOCUMENT, other, installed, "python")
    assert "def gamma150(" not in selected("app.py", SCIPY_DOCUMENT, {}, installed, "python")


def test_more_names_than_shown_come_where_the_prompt_has_room_left(tmp_path: Path) -> None:
    got = selected("app.py", SCIPY_DOCUMENT, {}, scipy_special(tmp_path), "python", budget=60000)
    assert "def gamma47(" in got and "def gamma120(x: float) -> float:" in got  # past the 48 its share shows


def test_a_name_the_line_being_typed_hints_at_comes_with_nothing_typed(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    funcs = "".join(f"def gamma{k}(x: float) -> float:\n    return x + {k}\n\n\n" for k in range(200))
    write(site, {"winmod/__init__.py": funcs + "def get_window_info(x: int) -> dict:\n    return {}\n"})
    installed = InstalledFiles(site, lambda rel: tmp_path / "ws" / rel, 1 << 20)
    document = "import winmod\n\n\ndef f(x):\n    {} = winmod.\n"
    assert "def get_window_info(" in selected("app.py", document.format("window_info"), {}, installed, "python")
    assert "def get_window_info(" not in selected("app.py", document.format("value"), {}, installed, "python")


def test_the_files_of_the_names_put_first_come_first_past_the_files_shown(tmp_path: Path) -> None:
    """A package re-exporting a class from each of 20 modules (httpcore's ``__init__``): the member's names come
    from MAX_DEPENDENCY_FILES files, those defining the names the project uses or the cursor's words hint at."""
    site = tmp_path / "site-packages"
    modules = [f"Thing{k}" for k in range(19)] + ["ConnectionPool"]
    write(site, {"core/__init__.py": "".join(f"from ._m{k} import {name}\n" for k, name in enumerate(modules)),
                 **{f"core/_m{k}.py": f"class {name}:\n    size: int = {k}\n" for k, name in enumerate(modules)}})
    installed = InstalledFiles(site, lambda rel: tmp_path / "ws" / rel, 1 << 20)
    document = "import core\n\n\nclass T:\n    def __init__(self):\n        self.{} = core.\n"
    assert "class ConnectionPool" in selected("app.py", document.format("_pool"), {}, installed, "python")
    assert "class ConnectionPool" not in selected("app.py", document.format("x"), {}, installed, "python")
    other = {"b.py": "import core\n\nc = core.ConnectionPool()\n"}
    assert "class ConnectionPool" in selected("app.py", document.format("x"), other, installed, "python")


def test_a_go_packages_used_name_comes_with_nothing_typed(tmp_path: Path) -> None:
    pflag = "vendor/github.com/spf13/pflag/"
    funcs = "".join(f"// Func{k} defines flag {k}.\nfunc Func{k}(name string) *bool {{\n\treturn nil\n}}\n\n"
                    for k in range(200))
    write(tmp_path, {"go.mod": "module example.com/app\n\ngo 1.22\n",
                     "vendor/modules.txt": "# github.com/spf13/pflag v1.0.5\n## explicit\ngithub.com/spf13/pflag\n",
                     pflag + "flag.go": "package pflag\n\n" + funcs})
    installed = InstalledFiles(None, lambda rel: tmp_path / rel, 1 << 20)
    document = 'package main\n\nimport (\n\tflag "github.com/spf13/pflag"\n)\n\nfunc main() {\n\tflag.\n}\n'
    other = {"cmd.go": 'package main\n\nimport flag "github.com/spf13/pflag"\n\nvar v = flag.Func150("v")\n'}
    assert "func Func150(" in selected("main.go", document, other, installed, "go")
    assert "func Func150(" not in selected("main.go", document, {}, installed, "go")


def test_a_typescript_enums_used_member_comes_with_nothing_typed(tmp_path: Path) -> None:
    members = "".join(f"        Kind{k} = {k},\n" for k in range(400))
    write(tmp_path, {"node_modules/typescript/package.json": '{"name": "typescript", "typings": "./lib/ts.d.ts"}',
                     "node_modules/typescript/lib/ts.d.ts": ("declare namespace ts {\n    enum SyntaxKind {\n"
                                                              f"{members}    }}\n}}\nexport = ts;\n")})
    installed = InstalledFiles(None, lambda rel: tmp_path / rel, 1 << 20)
    document = 'import ts from "typescript";\n\nexport function f(node: ts.Node) {\n    return ts.SyntaxKind.\n}\n'
    other = {"src/walk.ts": 'import ts from "typescript";\n\nconst k = ts.SyntaxKind.Kind321;\n'}
    assert "Kind321 = 321" in selected("src/app.ts", document, other, installed, "typescript")
    assert "Kind321 = 321" not in selected("src/app.ts", document, {}, installed, "typescript")


def test_a_big_workspace_is_read_over_several_calls(monkeypatch) -> None:
    import fim.popular

    monkeypatch.setattr(fim.popular, "UPDATE_CHARS", 30)
    files = {f"w{k}/a.py": f"special.gamma{100 + k}()\n" + "#" * 40 for k in range(3)}  # 62 characters each
    firsts = [ProjectUses(files, "cur.py").rank(NAMES, "special", MAX_NAMES)[:4] for _ in range(3)]
    assert firsts == [["gamma100", "gamma0", "gamma1", "gamma2"], ["gamma100", "gamma101", "gamma0", "gamma1"],
                      ["gamma100", "gamma101", "gamma102", "gamma0"]]


def test_ranking_while_another_thread_counts_the_same_workspace() -> None:
    import sys
    import threading
    import time

    names = [f"m{k}" for k in range(3000)]
    errors: list[BaseException] = []
    stop = time.monotonic() + 2

    def edit() -> None:  # the workspace's files change: their uses are counted again
        k = 0
        while time.monotonic() < stop and not errors:
            k += 1
            files = {"cur.py": "", **{f"f{j}.py": " ".join(f"q.m{(7 * k + j + i) % 3000}" for i in range(300))
                                      for j in range(4)}}
            ProjectUses(files, "cur.py").rank(names, "q", MAX_NAMES)

    def rank() -> None:  # another request ranks the same workspace's names meanwhile
        files = {"cur.py": "", **{f"f{j}.py": "q.m1" for j in range(4)}}
        while time.monotonic() < stop and not errors:
            uses = ProjectUses(files, "cur.py")
            try:
                for _ in range(50):
                    uses.rank(names, "q", MAX_NAMES)
            except RuntimeError as error:  # ``dictionary changed size during iteration``
                errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=edit), threading.Thread(target=rank)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors


def test_the_counts_of_names_no_file_uses_any_more_are_dropped() -> None:
    from fim.popular import _sums

    for k in range(200):  # a file edited: each version uses a name of its own
        sums = _sums({"zero/cur.py": "", "zero/a.py": f"mod{k}.name{k}\n"}, "zero/cur.py")
    assert set(sums.after) == {"mod199"} and set(sums.after["mod199"]) == {"name199"}
    assert set(sums.members) == {"name199"} and set(sums.words) == {"mod199", "name199"}


def test_a_typescript_consts_used_member_comes_after_the_qualifier_typed(tmp_path: Path) -> None:
    """``ts.factory.|`` (a ``const`` typed with an interface): the project's uses after ``factory``, not after the
    interface's name, which no file writes before a dot."""
    members = "".join(f"        create{k}(): Node;\n" for k in range(400))
    write(tmp_path, {"node_modules/typescript/package.json": '{"name": "typescript", "typings": "./lib/ts.d.ts"}',
                     "node_modules/typescript/lib/ts.d.ts": ("declare namespace ts {\n    interface Node {}\n"
                                                              f"    interface NodeFactory {{\n{members}    }}\n"
                                                              "    const factory: NodeFactory;\n}\nexport = ts;\n")})
    installed = InstalledFiles(None, lambda rel: tmp_path / rel, 1 << 20)
    document = 'import ts from "typescript";\n\nexport function f() {\n    return ts.factory.\n}\n'
    other = {"src/make.ts": 'import ts from "typescript";\n\nconst n = ts.factory.create321();\n'}
    assert "create321(): Node" in selected("src/app.ts", document, other, installed, "typescript")
    assert "create321(): Node" not in selected("src/app.ts", document, {}, installed, "typescript")

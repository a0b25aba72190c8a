"""The member being typed after an installed module's name (`fim.member`): ``flag.|`` brings what the module offers,
``flag.Comm|`` the names starting with ``Comm`` first, through the import's alias, in the selected context and
through the server's `Project.context`."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.dependencies import _ordered_names, module_names
from fim.imports import ImportRef
from fim.member import cursor_member, member_definitions
from server.dependencies import InstalledFiles, site_packages
from server.project import Project
from tests.test_dependencies import HTMLPARSER2

PFLAG = "vendor/github.com/spf13/pflag/"
FLAG_GO = ("package pflag\n\n// FlagSet represents a set of defined flags.\ntype FlagSet struct{ name string }\n\n"
           "// NewFlagSet returns a new, empty flag set.\nfunc NewFlagSet(name string) *FlagSet {\n"
           "\treturn &FlagSet{name}\n}\n")
COMMAND_GO = ("package pflag\n\n// CommandLine is the default set of command-line flags, parsed from os.Args.\n"
              "var CommandLine = NewFlagSet(\"main\")\n\n// Parse parses the command-line flags.\nfunc Parse() {}\n")
BOOL_GO = "".join(f"// Bool{k} defines a bool flag.\nfunc Bool{k}(name string) *bool {{\n\treturn nil\n}}\n\n"
                  for k in range(14))
MAIN_GO = ('package main\n\nimport (\n\tflag "github.com/spf13/pflag"\n)\n\n'
           "func main() {\n\tfs := flag.NewFlagSet(\"x\")\n\t_ = fs\n\tflag.\n}\n")


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def vendored(root: Path) -> InstalledFiles:
    write(root, {"go.mod": "module example.com/app\n\ngo 1.22\n",
                 "vendor/modules.txt": "# github.com/spf13/pflag v1.0.5\n## explicit\ngithub.com/spf13/pflag\n",
                 PFLAG + "flag.go": FLAG_GO, PFLAG + "bool.go": BOOL_GO,
                 PFLAG + "commandline.go": COMMAND_GO})
    return InstalledFiles(None, lambda rel: root / rel, 256 * 1024)


def context(document: str, line: int, character: int, installed, budget: int = 6000, language: str = "go",
            path: str = "main.go") -> dict[str, str]:
    snippets = select_context(path, document, line, {path: document}, [], None, budget, (0, line + 1),
                              installed=installed, language=language, cursor_character=character)
    got: dict[str, str] = {}
    for s in snippets:  # a file may come twice: the names used, then the member's names (its own snippet)
        got[s.source] = got[s.source] + "\n\n" + s.text if s.source in got else s.text
    return got


def test_the_qualifier_and_the_part_typed_are_read_before_the_cursor() -> None:
    assert cursor_member("\tx := flag.Comm") == (len("\tx := flag."), "flag", "Comm")
    assert cursor_member("Rack::") == (6, "Rack", "")
    assert cursor_member("np.linalg.") is None  # a submodule's member: not an import's alias
    assert cursor_member("x = 1") is None


def test_a_member_typed_after_a_go_packages_alias_brings_the_names_it_offers(tmp_path: Path) -> None:
    files = vendored(tmp_path)
    line = MAIN_GO.split("\n").index("\tflag.")
    got = context(MAIN_GO, line, len("\tflag."), files, budget=40000)
    # the name used elsewhere (NewFlagSet) and what the package offers besides (CommandLine: used nowhere yet, in a
    # file defining none of the names used)
    assert "func NewFlagSet(name string) *FlagSet {" in got[PFLAG + "flag.go"]
    assert 'var CommandLine = NewFlagSet("main")' in got[PFLAG + "commandline.go"]
    # a cursor elsewhere on the line (after the tab): the files of the names used only
    assert set(context(MAIN_GO, line, 1, files, budget=40000)) == {PFLAG + "flag.go"}


def test_the_names_starting_with_the_part_typed_come_first(tmp_path: Path) -> None:
    files = vendored(tmp_path)
    document = MAIN_GO.replace("\tflag.\n", "\tflag.Bool1\n")
    line = document.split("\n").index("\tflag.Bool1")
    got = context(document, line, len("\tflag.Bool1"), files, budget=20000)
    assert "func Bool13(name string) *bool {" in got[PFLAG + "bool.go"]
    assert "func Bool7(" not in got[PFLAG + "bool.go"]  # no prefix: the room goes to the others too
    assert "CommandLine" not in got.get(PFLAG + "flag.go", "")


def test_the_packages_names_come_before_files_of_its_own_package_used_nowhere_near(tmp_path: Path) -> None:
    """cobra's ``flags *flag.|`` with a 4K window: twelve files of its own package, none of whose names the lines
    near the cursor use, left out of their share, took the room the installed package's definitions wait for."""
    files = vendored(tmp_path)
    fields = "".join(f"\t// field{k} holds the flag set's setting number {k}.\n\tfield{k} int\n" for k in range(16))
    (tmp_path / PFLAG / "flag.go").write_text(FLAG_GO.replace(
        "type FlagSet struct{ name string }", "type FlagSet struct {\n\tname string\n" + fields + "}"))
    body = "".join(f"\tstep{k} := value * {k}\n\t_ = step{k}\n" for k in range(12))
    siblings = {f"part{k}.go": "package main\n\n"
                + "".join(f"// part{k}Call computes part {k} of the value, line {j}.\n" for j in range(4))
                + f"func part{k}Call(value int) int {{\n{body}\treturn value\n}}\n" for k in range(12)}
    document = MAIN_GO.replace("\t_ = fs\n", "\t_ = fs\n\tvar set *flag.FlagSet = fs\n\t_ = set\n")
    line = document.split("\n").index("\tflag.")
    snippets = select_context("main.go", document, line, {"main.go": document, **siblings}, [], None, 4000,
                              (0, line + 1), installed=files, language="go", cursor_character=len("\tflag."))
    got = {s.source: s.text for s in snippets}
    assert "type FlagSet struct {" in got[PFLAG + "flag.go"]
    assert "func part0Call(value int) int {" in got["part0.go"]  # the package's files: their heads still


def test_the_members_names_may_take_the_installed_files_whole_share(tmp_path: Path) -> None:
    """``flag.|`` in a small window: the member's names with their documentation in the installed files' whole share
    (in half of it one name came so, the others as bare signatures in the room left)."""
    files = vendored(tmp_path)
    (tmp_path / PFLAG / "bool.go").write_text("package pflag\n\n" + "".join(
        f"// Bool{k} defines a bool flag with specified name, default value, and usage string.\n"
        f"func Bool{k}(name string, value bool, usage string) *bool {{\n\treturn nil\n}}\n\n" for k in range(14)))
    line = MAIN_GO.split("\n").index("\tflag.")
    got = context(MAIN_GO, line, len("\tflag."), files, budget=3000)
    assert "// Bool2 defines a bool flag" in got[PFLAG + "bool.go"]


PACKAGE = {
    "httplib/__init__.py": "from ._models import Request\nfrom ._pool import ConnectionPool\n__all__ = []\n",
    "httplib/_models.py": "class Request:\n    def __init__(self, url: str) -> None:\n        self.url = url\n",
    "httplib/_pool.py": ('class ConnectionPool:\n    """A pool of connections."""\n\n'
                         "    def __init__(self, size: int = 10) -> None:\n        self.size = size\n"),
}


def test_a_python_modules_member_comes_through_the_server(tmp_path: Path) -> None:
    env = tmp_path / ".venv"
    write(env, {"pyvenv.cfg": "home = /usr/bin\nversion = 3.12.1\n"})
    write(env / "lib" / "python3.12" / "site-packages", PACKAGE)
    assert site_packages(env) is not None
    document = "import httplib as h\n\nreq = h.Request('x')\npool = h.\n"
    main = tmp_path / "app.py"
    main.write_text(document, encoding="utf-8")
    project = Project([tmp_path], background=False)
    project.scan(10)
    at = project.context(main, document, 3, character=len("pool = h."))((0, 4), 4000)
    assert any(s.source == "site-packages/httplib/_pool.py" and "class ConnectionPool:" in s.text for s in at)
    before = project.context(main, document, 3)((0, 4), 4000)  # no cursor character: the names used only
    assert [s.source for s in before] == ["site-packages/httplib/_models.py"]


def test_a_crates_member_typed_without_a_use_brings_its_public_names(tmp_path: Path, monkeypatch) -> None:
    from tests.test_dependencies import REGISTRY, cargo

    files = cargo(tmp_path, monkeypatch)
    document = "fn main() {\n    let v = serde_json::to_v\n}\n"
    got = context(document, 1, len("    let v = serde_json::to_v"), files, language="rust", path="app/src/main.rs")
    # ``pub use crate::ser::{to_string, to_vec}`` in the crate's root: the one starting with the part typed
    assert got == {f"{REGISTRY}/serde_json-1.0.128/src/ser.rs":
                   "pub fn to_vec<T: ?Sized>(value: &T) -> Result<Vec<u8>> {\n    todo!()\n}"}


def test_a_modules_names_that_may_stand_at_the_cursor_come_first(tmp_path: Path) -> None:
    """``let s: fs.|`` is a type (an interface first), ``const data = fs.|`` an expression (the functions first)."""
    from tests.test_dependencies import TYPES_NODE

    write(tmp_path, TYPES_NODE)
    files = InstalledFiles(None, lambda rel: tmp_path / rel, 1 << 20)

    def first(line: str) -> list[str]:
        document = 'import * as fs from "fs";\n\n' + line
        lines = document.split("\n")
        got = member_definitions(document, lines, 2, len(line), "typescript", "src/a.ts", files, limit=1)[1]
        return [name for names in got.values() for name in names]

    assert first("let s: fs.") == ["WriteStream"]
    assert first("const data = fs.") == ["readFileSync"]


def test_a_rust_modules_names_are_its_items_not_its_types_methods() -> None:
    from fim.crates import _public_names

    text = ("pub mod literal;\npub use self::visitor::{visit, Visitor};\n\npub struct Hir {\n    kind: HirKind,\n}\n\n"
            "impl Hir {\n    pub fn kind(&self) -> &HirKind {\n        &self.kind\n    }\n\n    pub const MAX: u32 = 1;\n}\n\n"
            "pub trait Visit {\n    fn start(&self);\n}\n\ncfg_rt! {\n    pub mod runtime;\n    pub fn spawn() {}\n}\n\n"
            "pub enum HirKind {\n    Empty,\n}\n")
    # not ``kind`` nor ``MAX`` (``Hir::kind``, no ``hir::kind``); a macro's items are the module's
    assert _public_names(text) == ("literal", "visit", "Visitor", "Hir", "HirKind", "Visit", "runtime", "spawn")


def test_a_module_a_use_brings_is_the_one_qualified(tmp_path: Path, monkeypatch) -> None:
    from tests.test_dependencies import REGISTRY, cargo

    files = cargo(tmp_path, monkeypatch)
    (tmp_path / "ws" / "Cargo.lock").write_text((tmp_path / "ws" / "Cargo.lock").read_text(encoding="utf-8")
                                                .replace('"serde 1.0.100",\n', '"serde 1.0.210",\n'), encoding="utf-8")
    for use in ("use serde::{de, ser};", "use serde::de::{self, Deserialize};"):
        document = use + "\n\nfn f(e: de::E\n"
        got = context(document, 2, len("fn f(e: de::E"), files, language="rust", path="app/src/main.rs")
        # ``de``: serde's child module, whose ``pub use self::value::Error`` is followed
        assert got[f"{REGISTRY}/serde-1.0.210/src/de/value.rs"] == "pub struct Error {\n    err: Box<str>,\n}"


def test_a_constant_typed_in_a_gems_namespace_brings_what_it_autoloads(tmp_path: Path) -> None:
    from tests.test_ruby_dependencies import APP, LOCK, files_of, gem_home, write as write_gems

    write_gems(tmp_path / "ws", {"Gemfile.lock": LOCK})
    files = files_of(tmp_path / "ws", gem_home(tmp_path))
    document = APP.replace("    JSON.parse(env)\n", "    Rack::Bu\n")
    line = document.split("\n").index("    Rack::Bu")
    got = context(document, line, len("    Rack::Bu"), files, budget=8000, language="ruby", path="app/lib/app.rb")
    # ``autoload :Builder, "rack/builder"`` in rack.rb: the one starting with what is typed (not Lint: used already)
    assert "class Builder" in got["ruby-gems/0/gems/rack-2.2.22/lib/rack/builder.rb"]
    assert "def escape_html(string)" in got["ruby-gems/0/gems/rack-2.2.22/lib/rack/utils.rb"]  # used: still there


def test_a_big_go_packages_names_are_read_once(tmp_path: Path) -> None:
    """A package of 300 files (golang.org/x/sys/unix): its first MAX_PACKAGE_FILES, each file's names kept, so the
    next keystroke reads none again (every one was: 64 kept, 300 asked in turn)."""
    files = vendored(tmp_path)
    write(tmp_path, {PFLAG + f"z{k:03}.go": f"package pflag\n\nfunc Z{k}(a int) int {{\n\treturn a\n}}\n"
                     for k in range(300)})
    ref = ImportRef("github.com/spf13/pflag", (), "go")
    first = module_names(ref, "main.go", files)
    assert first[:3] == ["Bool0", "Bool1", "Bool2"] and "Z0" in first
    before = _ordered_names.cache_info().misses
    assert module_names(ref, "main.go", files) == first
    assert _ordered_names.cache_info().misses == before


def test_a_member_typed_after_a_re_exported_namespace_or_default_class_brings_its_names(tmp_path: Path) -> None:
    write(tmp_path, HTMLPARSER2)  # ``export * as DomUtils from "domutils"``, ``export { default as Tokenizer }``
    files = InstalledFiles(None, lambda rel: tmp_path / rel, 256 * 1024)

    def typed(document: str) -> tuple[str, dict[str, list[str]]]:
        lines = document.split("\n")
        return member_definitions(document, lines, len(lines) - 1, len(lines[-1]), "typescript", "src/a.ts", files)

    stringify = "node_modules/domutils/lib/stringify.d.ts"
    assert typed('import { DomUtils } from "htmlparser2";\nDomUtils.getT') == ("getT", {stringify: ["getText"]})
    assert typed('import * as hp from "htmlparser2";\nhp.DomUtils.getT') == ("getT", {stringify: ["getText"]})
    # the module itself: its ``export * from "./stringify.js"`` files' names
    assert typed('import * as du from "domutils";\ndu.getT') == ("getT", {stringify: ["getText"]})
    assert typed('import { Tokenizer } from "htmlparser2";\nTokenizer.isW') == (
        "isW", {"node_modules/htmlparser2/dist/esm/Tokenizer.d.ts": ["Tokenizer.isWhitespace"]})

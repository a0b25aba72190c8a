"""The repository-level benchmark's task extraction, scoring and recall wiring, on a tiny fake package
(no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.stats import percentile
from benchmarks.repo_context import (
    Definition,
    Modules,
    PromptRig,
    context_hit,
    edit_similarity,
    exact_match,
    extract_tasks,
    fetch,
    index_workspace,
    is_library_file,
    levenshtein,
    main,
    measure_recall,
    misses_by_style,
    recall_summary,
    sample_tasks,
    split_of,
)
from fim.prompt import Segment

FILES = {
    "src/pkg/__init__.py": 'from .core import Engine\n\n__all__ = ["Engine"]\n',
    "src/pkg/util.py": (
        "import os\n"
        "\n"
        "CONSTANT = 42\n"
        "str = str\n"
        "\n"
        "\n"
        "def helper(n):\n"
        "    return n + 1\n"
        "\n"
        "\n"
        "def slugify(text):\n"
        "    return '-'.join(text.split())\n"
    ),
    "src/pkg/shapes.py": "class Square:\n    def __init__(self, side):\n        self.side = side\n",
    "src/pkg/core.py": (
        "from .util import helper, CONSTANT, str\n"
        "from . import util\n"
        "import pkg.shapes as shapes\n"
        "\n"
        "\n"
        "class Engine:\n"
        "    def run(self):\n"
        "        x = helper(1)\n"
        "        y = util.slugify('a b')\n"
        "        label = str(x)  # é\n"
        "        return shapes.Square(CONSTANT)\n"
    ),
    "src/pkg/app.py": "from pkg import Engine\n\n\ndef main():\n    return Engine().run()\n",
    "src/pkg/shadow.py": "from .util import helper\n\n\ndef f(helper):\n    return helper(2)\n",
    "tests/test_core.py": "from pkg.util import helper\n\n\ndef test_helper():\n    assert helper(1) == 2\n",
    "setup.py": "from setuptools import setup\nsetup()\n",
}


@pytest.fixture(scope="module")
def fake_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fakepkg")
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def project(fake_package: Path):
    return index_workspace(fake_package)[0]


@pytest.fixture(scope="module")
def files(project) -> dict[str, str]:
    return project.index.snapshot()


@pytest.fixture(scope="module")
def tasks(files: dict[str, str]) -> list:
    return extract_tasks("fake", files)


def _by_hole(tasks: list) -> dict:
    return {t.hole: t for t in tasks}


def test_modules_are_named_from_the_package_folders(files: dict[str, str]) -> None:
    modules = Modules(files)
    assert modules.path_of["pkg"] == "src/pkg/__init__.py"
    assert modules.path_of["pkg.core"] == "src/pkg/core.py"
    assert modules.absolute("src/pkg/core.py", "util", 1) == "pkg.util"
    assert modules.absolute("src/pkg/__init__.py", "core", 1) == "pkg.core"
    assert modules.absolute("src/pkg/core.py", None, 1) == "pkg"


def test_holes_start_at_cross_file_names_and_definitions_are_found(tasks: list, files: dict[str, str]) -> None:
    holes = _by_hole(tasks)
    assert set(holes) == {"helper(1)", "slugify('a b')", "Square(CONSTANT)", "Engine().run()"}

    helper = holes["helper(1)"]
    assert helper.path == "src/pkg/core.py" and helper.line == 7 and helper.name == "helper"
    assert helper.definition == Definition("src/pkg/util.py", 6, "def helper(n):", "helper", "pkg.util")
    assert helper.style == "from-relative" and not helper.reexported

    slug = holes["slugify('a b')"]  # util.slugify: the cursor stands after "util."
    assert slug.style == "module-attribute" and slug.name == "slugify"
    assert slug.definition.text == "def slugify(text):"

    square = holes["Square(CONSTANT)"]  # the first use on the line wins; import pkg.shapes as shapes
    assert square.definition.path == "src/pkg/shapes.py" and square.definition.text == "class Square:"

    engine = holes["Engine().run()"]  # re-exported through pkg/__init__.py to its definition
    assert engine.path == "src/pkg/app.py" and engine.style == "from-absolute" and engine.reexported
    assert engine.definition.path == "src/pkg/core.py" and engine.definition.text == "class Engine:"

    for task in tasks:
        lines = files[task.path].splitlines(keepends=True)
        original = lines[task.line].rstrip("\n")
        # The hole starts at the name, and the document is the file with the rest of that line removed.
        assert original[task.column:] == task.hole and task.hole.startswith(task.name)
        assert task.text == "".join(lines[:task.line]) + original[:task.column] + "\n" + "".join(lines[task.line + 1:])
        assert files[task.definition.path].splitlines()[task.definition.line] == task.definition.text
        assert task.definition.path != task.path


def test_shadowed_builtin_alias_and_test_files_give_no_tasks(tasks: list) -> None:
    paths = {t.path for t in tasks}
    assert "src/pkg/shadow.py" not in paths  # `helper` is also a parameter there
    assert "tests/test_core.py" not in paths and "setup.py" not in paths
    assert not any(t.name == "str" for t in tasks)  # `str = str` says nothing
    assert is_library_file("src/pkg/core.py") and not is_library_file("docs/conf.py")


def test_utf16_character_of_a_cursor_after_non_ascii_text(tmp_path: Path) -> None:
    files = {"m/__init__.py": "", "m/a.py": "def f():\n    pass\n",
             "m/b.py": "from .a import f\ns = 'é😀'; f()\n"}
    (task,) = extract_tasks("m", files)
    assert task.column == 10 and task.character == 11 and task.hole == "f()"


def test_sampling_is_deterministic_and_splits_are_disjoint(tasks: list) -> None:
    assert sample_tasks(tasks, 3, seed=1, split="all") == sample_tasks(tasks, 3, seed=1, split="all")
    assert len(sample_tasks(tasks, 3, seed=1, split="all")) == 3
    assert len(sample_tasks(tasks, 0, seed=1, split="all")) == len(tasks)
    dev = {t.task_id for t in sample_tasks(tasks, 0, 0, "dev")}
    test = {t.task_id for t in sample_tasks(tasks, 0, 0, "test")}
    assert not dev & test and dev | test == {t.task_id for t in tasks}
    assert all(t.split == split_of("fake", t.path) for t in tasks)


def test_context_hit_needs_the_defining_line_in_a_context_segment_of_the_defining_file() -> None:
    definition = Definition("src/pkg/util.py", 6, "def helper(n):", "helper", "pkg.util")

    def seg(kind: str, source, text: str) -> Segment:
        return Segment(kind, source, (1,), text)

    assert context_hit([seg("context", "src/pkg/util.py", "#src/pkg/util.py\ndef helper(n):\n    ...\n")],
                       definition) == (True, True)
    assert context_hit([seg("context", "src/pkg/util.py", "#src/pkg/util.py\nCONSTANT = 42\n")],
                       definition) == (False, True)
    assert context_hit([seg("context", "src/pkg/other.py", "def helper(n):\n")], definition) == (False, False)
    assert context_hit([seg("prefix", None, "def helper(n):\n")], definition) == (False, False)
    token = Definition("src/pkg/conf.py", 0, 'API_TOKEN = "abc123"', "API_TOKEN", "pkg.conf")
    redacted = [seg("context", "src/pkg/conf.py", 'API_TOKEN = "<redacted>"\n')]
    assert context_hit(redacted, token) == (True, True)


def test_recall_summary_per_package_and_overall() -> None:
    records = [
        {"package": "a", "style": "from-relative", "reexported": False,
         "hit": {"2048": False, "16384": True}, "file_hit": {"2048": True, "16384": True}},
        {"package": "a", "style": "from-relative", "reexported": False,
         "hit": {"2048": False, "16384": False}, "file_hit": {"2048": False, "16384": False},
         "miss_reason": "x"},
        {"package": "b", "style": "from-absolute", "reexported": True,
         "hit": {"2048": True, "16384": True}, "file_hit": {"2048": True, "16384": True}},
    ]
    summary = recall_summary(records, [2048, 16384])
    assert summary["a"]["n"] == 2 and summary["a"]["recall"] == {"2048": 0.0, "16384": 0.5}
    assert summary["a"]["file_recall"]["2048"] == 0.5
    assert summary["b"]["recall"] == {"2048": 1.0, "16384": 1.0}
    assert summary["overall"]["n"] == 3 and summary["overall"]["recall"]["16384"] == pytest.approx(2 / 3)
    misses = misses_by_style(records, 16384)
    assert misses["from-relative"] == {"n": 2, "missed": 1, "reasons": {"x": 1}}
    assert misses["from-absolute via re-export"]["missed"] == 0


def test_edit_similarity_and_exact_match() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert edit_similarity("helper(1)", "helper(1)") == 1.0
    assert edit_similarity("", "") == 1.0 and edit_similarity("abc", "") == 0.0
    assert edit_similarity("helper(2)", "helper(1)") == pytest.approx(1 - 1 / 9)
    assert exact_match(" helper(1)  ", "helper(1)") and not exact_match("helper(1", "helper(1)")
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile(list(range(1, 101)), 95) == 95


def test_recall_with_real_prompts_on_the_fake_package(deepseek_tiny: Path, tasks: list, project) -> None:
    rig = PromptRig(deepseek_tiny, 2048)
    try:
        records = measure_recall(tasks, {"fake": project}, {2048: rig}, 2048)
    finally:
        rig.close()
    by_id = {r["task_id"]: r for r in records}
    helper = by_id[_by_hole(tasks)["helper(1)"].task_id]
    # `from .util import helper`: util.py's definition of helper is in the context of a 2K prompt.
    assert helper["hit"]["2048"] and helper["file_hit"]["2048"] and helper["miss_reason"] == ""
    assert helper["definition"] == "src/pkg/util.py:7" and helper["context_tokens"]["2048"] > 0
    for record in records:  # every miss is explained
        assert record["hit"]["2048"] == (record["miss_reason"] == "")
    summary = recall_summary(records, [2048])["overall"]
    assert summary["recall"]["2048"] == sum(r["hit"]["2048"] for r in records) / len(records)


def test_directory_packages_need_no_download_and_main_prints_the_report(
        fake_package: Path, deepseek_tiny: Path, capsys: pytest.CaptureFixture) -> None:
    package = fetch(str(fake_package))
    assert package.root == fake_package.resolve() and package.version == "local"
    assert main(["--packages", str(fake_package), "--split", "all", "--quality-tasks", "0",
                 "--timing-requests", "2", "--budgets", "2048", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "1. Retrieval recall" in out and "overall" in out and "16K" in out
    assert "3. Context selection" in out and "p95" in out


# ------------------------------------------------------------------------------ other languages

LANG_FILES = {
    "go.mod": "module example.com/shop\n\ngo 1.22\n",
    "cart/cart.go": ('package cart\n\nimport (\n\t"example.com/shop/money"\n)\n\n'
                     "func Checkout(items []Item) money.Amount {\n\treturn money.Sum(Prices(items))\n}\n"),
    "cart/item.go": "package cart\n\ntype Item struct{ Price int }\n\nfunc Prices(items []Item) []int {\n\treturn nil\n}\n",
    "cart/cart_test.go": "package cart\n\nfunc helperOnlyInTests() {}\n",
    "money/money.go": "package money\n\ntype Amount int\n\nfunc Sum(xs []int) Amount {\n\treturn 0\n}\n",
    "web/src/api.ts": "export interface Order { id: string }\nexport function fetchOrder(id: string): Order {\n  return { id };\n}\n",
    "web/src/main.ts": ("import {\n  fetchOrder,\n  Order,\n} from './api';\n\n"
                        "const order: Order = fetchOrder('1');\n"),
    "dotnet/Cart.cs": ("using Shop.Money;\n\nnamespace Shop\n{\n    public class Cart\n    {\n"
                       "        public Coupon Best() => default;\n    }\n}\n"),
    "dotnet/Money/Coupon.cs": ("namespace Shop.Money;\n\npublic readonly struct Coupon\n{\n    public int Cents;\n"
                               "}\n"),
}


def test_ground_truth_definitions_are_what_the_language_makes_a_top_level_name():
    """A Go method is no top-level name (cobra's ``func (d ShellCompDirective) string()`` took ``var set []string``'s
    builtin type); a Rust item inside a top-level ``cfg_rt! {`` is one (tokio's ``pin_project! { pub struct
    ReadBuf }`` was credited to another file's ``ReadBuf``)."""
    from benchmarks.languages import definitions

    assert definitions("package x\n\nfunc (d T) string() string {\n}\n\nfunc Top() {}\n", "go") == [("Top", 5)]
    assert definitions("cfg_rt! {\n    pub struct Runtime;\n    impl R {\n        fn m() {}\n    }\n}\npub fn f() {}\n",
                       "rust") == [("Runtime", 1), ("f", 6)]


def test_language_tasks_follow_each_language_visibility():
    from benchmarks.repo_context import extract_language_tasks

    tasks = extract_language_tasks("shop", LANG_FILES)
    got = {(t.path, t.name, t.style, t.definition.path, t.definition.text) for t in tasks}
    assert ("cart/cart.go", "Item", "go-package", "cart/item.go", "type Item struct{ Price int }") in got  # one a line
    assert ("cart/cart.go", "Sum", "go-import", "money/money.go", "func Sum(xs []int) Amount {") in got
    assert ("web/src/main.ts", "Order", "js-import", "web/src/api.ts", "export interface Order { id: string }") in got
    # Names inside an import statement spanning lines are no uses; test files define nothing.
    assert all(t.line >= 5 for t in tasks if t.path == "web/src/main.ts")
    assert not any(t.definition.path.endswith("_test.go") for t in tasks)
    ts = next(t for t in tasks if t.path == "web/src/main.ts")
    assert ts.language == "typescript" and ts.hole.startswith(ts.name)
    assert ts.text.splitlines()[ts.line] == "const order: "


def test_a_c_task_needs_a_live_definition_of_a_name_the_standard_does_not_define():
    """pillow's TiffDecode.h comments out ``#define TRACE(args) fprintf(...)`` above the live ``#define
    TRACE(args)``; its QuantTypes.h defines ``uint32_t`` for MSVC only, and the model knows ``uint32_t``."""
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "trace.h": "/*\n#define TRACE(args) fprintf(stderr, args)\n*/\n\n#define TRACE(args)\n",
        "types.h": "#ifdef _MSC_VER\ntypedef unsigned __int32 uint32_t;\n#endif\ntypedef struct {\n    int v;\n} Pixel;\n",
        "decode.c": ('#include "trace.h"\n#include "types.h"\n\nint f(Pixel *p) {\n    TRACE(("x"));\n'
                     "    return (uint32_t)p->v;\n}\n"),
    }
    got = {(t.name, t.definition.path, t.definition.line, t.definition.text) for t in extract_language_tasks("c", files)}
    assert got == {("Pixel", "types.h", 5, "} Pixel;"), ("TRACE", "trace.h", 4, "#define TRACE(args)")}


def test_a_swift_name_defined_for_one_platform_only_is_the_sdks():
    """expo's Platform.swift: ``#if os(macOS)`` ... ``typealias UIView = NSView`` ... ``#endif``; on iOS UIView is
    UIKit's. A name both branches of an ``#if os(...)`` define is the project's."""
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "ios/Platform.swift": ("#if os(macOS)\nimport AppKit\n\npublic typealias UIView = NSView\n#endif\n\n"
                               "#if os(iOS)\npublic typealias PlatformImage = UIImage\n#else\n"
                               "public typealias PlatformImage = NSImage\n#endif\n"),
        "ios/Views/Preview.swift": "final class Preview {\n  let view: UIView\n  let image: PlatformImage\n}\n",
    }
    got = {(t.name, t.definition.path, t.definition.line) for t in extract_language_tasks("expo", files)}
    assert got == {("PlatformImage", "ios/Platform.swift", 7)}


def test_a_rust_use_brings_its_leaf_names_from_the_module_it_names():
    """toml_edit: ``use crate::parser::value::value;`` names the parser's macro-made ``value``, not item.rs's ``pub fn
    value``; ``use crate::value::{DEFAULT_VALUE_DECOR}`` brings no name ``value`` (``value.decorate(..)`` is a
    local). A name from ``crate`` (re-exported) or from a module around the defining file counts."""
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "src/item.rs": "pub fn value(v: i64) -> Item {\n    Item(v)\n}\npub struct Item(i64);\n",
        "src/value.rs": "pub const DEFAULT_VALUE_DECOR: (&str, &str) = (\" \", \"\");\n",
        "src/ast/types.rs": "pub struct Ast;\n",
        "src/parser/table.rs": ("use crate::parser::value::value;\nuse crate::{Item};\nuse crate::ast::Ast;\n\n"
                                "fn table() -> Item {\n    let a: Ast = Ast;\n    value()\n}\n"),
        "src/array.rs": ("use crate::value::{DEFAULT_VALUE_DECOR};\n\nfn f(value: Item) {\n"
                         "    value.decorate(DEFAULT_VALUE_DECOR.0);\n}\n"),
    }
    got = {(t.path, t.name, t.definition.path) for t in extract_language_tasks("toml", files)}
    assert got == {("src/parser/table.rs", "Item", "src/item.rs"), ("src/parser/table.rs", "Ast", "src/ast/types.rs"),
                   ("src/array.rs", "DEFAULT_VALUE_DECOR", "src/value.rs")}


def test_csharp_tasks_follow_using_directives_and_the_enclosing_namespaces():
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "Billing/Invoice.cs": "namespace Acme.Billing;\n\npublic sealed class Invoice\n{\n    public int Id;\n}\n",
        "Common/Guard.cs": ("namespace Acme\n{\n    internal static class Guard\n    {\n        class Nested { }\n"
                            "    }\n}\n"),
        "Other/Hidden.cs": "namespace Acme.Other;\n\npublic class Hidden { }\n",
        "Web/Orders.cs": ("using System;\nusing Acme.Billing;\n\nnamespace Acme.Web\n{\n    public class Orders\n"
                          "    {\n        Invoice Make() => Guard.Check(new Hidden(), Nested.X);\n    }\n}\n"),
    }
    tasks = extract_language_tasks("acme", files)
    got = {(t.name, t.style, t.definition.path, t.definition.text) for t in tasks}
    assert got == {("Invoice", "cs-using", "Billing/Invoice.cs", "public sealed class Invoice")}  # one a line
    files["Web/Orders.cs"] = files["Web/Orders.cs"].replace("Invoice Make()", "void Make()")
    got = {(t.name, t.style, t.definition.path) for t in extract_language_tasks("acme", files)}
    assert got == {("Guard", "cs-namespace", "Common/Guard.cs")}  # not Hidden: no using; not a nested class


def test_a_qualified_ruby_constant_is_a_task_only_where_its_modules_hold_the_definition():
    """``::Digest::MD5`` (the standard library's) and ``URI::Parser`` stood for rack's ``Rack::Auth::Digest::MD5``
    and ``Rack::Multipart::Parser``: tasks no context could meet."""
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "lib/rack/auth/digest/md5.rb": "module Rack\n  module Auth\n    module Digest\n      class MD5\n"
                                       "      end\n    end\n  end\nend\n",
        "lib/rack/multipart/parser.rb": "module Rack\n  module Multipart\n    class Parser\n    end\n  end\nend\n",
        "lib/rack/auth.rb": ("module Rack\n  module Auth\n    module Digest\n    end\n  end\n"
                             "  module Multipart\n  end\nend\n"),
        "lib/rack/nonce.rb": ("module Rack\n  class Nonce\n    def digest\n      ::Digest::MD5.hexdigest(1)\n"
                              "      x = URI::Parser.new\n      y = Auth::Digest::MD5.new\n"
                              "      z = Multipart::Parser.new\n    end\n  end\nend\n"),
    }
    got = {(t.line, t.name, t.style) for t in extract_language_tasks("rack", files)}
    assert got == {(5, "MD5", "ruby-library"), (6, "Parser", "ruby-library")}


def test_a_bare_ruby_constant_is_a_task_only_where_ruby_finds_it():
    """actionpack: ``String === x`` in ``ActionDispatch::Routing`` stood for ``ActionDispatch::Journey::Visitors``'s
    String, ``rescue LoadError`` for ActiveSupport's top-level ``class LoadError`` (a reopening of Ruby's)."""
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "lib/ad/journey/visitors.rb": "module AD\n  module Journey\n    class String\n    end\n  end\nend\n",
        "lib/ad/core_ext/load_error.rb": "class LoadError\n  def is_missing?\n  end\nend\n",
        "lib/ad/conditional_get.rb": "module AD\n  module ConditionalGet\n  end\nend\n",
        "lib/ad/mapper.rb": ("module AD\n  module Routing\n    class Mapper\n      include ConditionalGet\n"
                             "      x = String.new\n      y = LoadError.new\n    end\n  end\nend\n"),
        "lib/ad/journey/router.rb": ("module AD\n  module Journey\n    class Router\n      def x\n"
                                     "        String.new\n      end\n    end\n  end\nend\n"),
        # ``require "rack"`` then ``module Rack``: the gem's module reopened; an autoload line is an import
        "lib/ad.rb": ('require "rack"\n\nmodule Rack\n  autoload :Test, "rack/test"\nend\n\n'
                      'module AD\n  autoload :ConditionalGet, "ad/conditional_get"\nend\n'),
        "lib/ad/executor.rb": "module AD\n  class Executor\n    def call\n      Rack::BodyProxy.new(::LoadError)\n"
                              "    end\n  end\nend\n",
    }
    got = {(t.path, t.line, t.name) for t in extract_language_tasks("ad", files)}
    assert got == {("lib/ad/mapper.rb", 3, "ConditionalGet"), ("lib/ad/journey/router.rb", 4, "String")}
    files["lib/ad.rb"] = files["lib/ad.rb"].replace('require "rack"', 'require "json"')
    got = {(t.path, t.line, t.name) for t in extract_language_tasks("ad", files)}
    assert ("lib/ad/executor.rb", 3, "Rack") in got


def test_a_java_import_is_a_task_only_when_it_names_the_defining_package():
    """react-native: ``import com.facebook.proguard.annotations.DoNotStrip`` (a library outside the workspace)
    stood for the workspace's ``com.facebook.yoga.annotations.DoNotStrip``."""
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "com/fb/yoga/annotations/DoNotStrip.java": "package com.fb.yoga.annotations;\n\npublic @interface DoNotStrip {}\n",
        "com/fb/yoga/Node.java": "package com.fb.yoga;\n\npublic class Node {}\n",
        "com/fb/react/Bridge.java": ("package com.fb.react;\n\nimport com.fb.proguard.annotations.DoNotStrip;\n"
                                     "import com.fb.yoga.Node;\n\n@DoNotStrip\npublic class Bridge {\n  Node root;\n}\n"),
    }
    got = {(t.line, t.name, t.style) for t in extract_language_tasks("rn", files)}
    assert got == {(7, "Node", "java-import")}


def test_kotlin_tasks_name_extension_functions_and_only_the_workspaces_imports():
    """``fun <T> Array<T>.toJSValue`` "defined" Array, and okhttp3's imported Response stood for the
    workspace's cdp Response: 40 of expo's Kotlin tasks no context could meet."""
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "expo/types/JSValue.kt": ("package expo.types\n\nfun <T> Array<T>.toJSValue(): Any = this\n\n"
                                  "fun <T> wrapValue(x: T): Any = x\n"),
        "expo/cdp/Response.kt": "package expo.cdp\n\nclass Response(val code: Int)\n",
        "expo/net/Client.kt": ("package expo.net\n\nimport okhttp3.Response\nimport expo.types.wrapValue\n\n"
                               "fun read(r: Response) = arrayOf(r)\nval a: Array<Int> = arrayOf()\n"
                               "val b = wrapValue(1)\n"),
    }
    got = {(t.name, t.style, t.definition.path) for t in extract_language_tasks("expo", files)}
    assert got == {("wrapValue", "kotlin-import", "expo/types/JSValue.kt")}


def test_dart_tasks_follow_imports_exports_show_hide_prefixes_and_parts():
    from benchmarks.repo_context import extract_language_tasks

    files = {
        "pubspec.yaml": "name: shop\n",
        "lib/shop.dart": "export 'src/cart.dart' show Cart;\nexport 'src/price.dart' hide secretRate;\n",
        "lib/src/cart.dart": "part 'cart_total.dart';\n\nclass Cart {}\n\nclass Hidden {}\n",
        "lib/src/cart_total.dart": "part of 'cart.dart';\n\nint cartTotal(Cart c) => 0;\n",
        "lib/src/price.dart": "const int basePrice = 9;\nint secretRate() => 1;\nT identity<T>(T v) => v;\n",
        "lib/src/fmt.dart": "String formatCents(int c) => '';\n",
        "lib/ui/view.dart": ("import 'package:shop/shop.dart';\nimport '../src/fmt.dart' as fmt;\n\n"
                             "class View {\n  final cart = Cart();\n  final h = Hidden();\n  final r = secretRate();\n"
                             "  final p = basePrice;\n  final s = fmt.formatCents(p);\n  final q = formatCents(1);\n"
                             "  final i = identity(p);\n}\n"),
    }
    got = sorted((t.path, t.name, t.style, t.definition.path) for t in extract_language_tasks("shop", files))
    assert got == [  # not Hidden (not shown), secretRate (hidden), formatCents bare (only imported with a prefix)
        ("lib/src/cart_total.dart", "Cart", "dart-import", "lib/src/cart.dart"),  # its library's
        ("lib/ui/view.dart", "Cart", "dart-import", "lib/src/cart.dart"),
        ("lib/ui/view.dart", "basePrice", "dart-import", "lib/src/price.dart"),
        ("lib/ui/view.dart", "formatCents", "dart-prefix", "lib/src/fmt.dart"),
        ("lib/ui/view.dart", "identity", "dart-import", "lib/src/price.dart")]


def test_language_tasks_reach_the_context_through_the_server(tmp_path):
    from benchmarks.repo_context import extract_language_tasks

    for path, text in LANG_FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    project, _ = index_workspace(tmp_path)
    tasks = extract_language_tasks("shop", project.index.snapshot())
    rig = PromptRig(_tiny_model(), 2048)
    try:
        records = measure_recall(tasks, {"shop": project}, {2048: rig}, 2048)
    finally:
        rig.close()
    assert records and all(r["hit"]["2048"] for r in records), [r for r in records if not r["hit"]["2048"]]
    assert {r["language"] for r in records} == {"go", "typescript", "csharp"}


def _tiny_model():
    from models.synthetic import TINY, synthetic_deepseek

    return synthetic_deepseek(TINY)


@pytest.mark.parametrize("spec, error", [
    ("deb:golang-x-dev", "deb:NAME=VERSION"), ("npm:left-pad", "npm:NAME@VERSION"), ("svn:x==1", "unknown source kind"),
])
def test_source_specs_are_checked(spec, error):
    with pytest.raises(ValueError, match=error):
        fetch(spec)


def test_oracle_restores_a_go_block_and_a_python_line():
    import random

    from benchmarks.oracle import holes, overgenerations, restore

    go = ("package x\n\nfunc f(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n\t\ttotal += x\n\t}\n"
          "\treturn total\n}\n\nfunc g() {}\n")
    found = holes("go", "x.go", go, random.Random(0))
    block = next(h for h in found["block"] if h.middle.startswith("for _, x"))
    assert block.middle == "for _, x := range xs {\n\t\ttotal += x\n\t}"
    for name, generated in overgenerations(block, "func g() {}").items():
        assert restore(block, generated, "go", name == "partial-line") == block.middle, name
    py = "def f(a):\n    b = a + 1\n    return b\n"
    line = next(h for h in holes("python", "x.py", py, random.Random(0))["line"] if h.middle == "b = a + 1")
    for name, generated in overgenerations(line, "def f(a):").items():
        assert restore(line, generated, "python", name == "partial-line") == "b = a + 1", name


def test_oracle_draws_keyword_blocks_with_the_enclosing_closer():
    import random

    from benchmarks.oracle import holes, overgenerations, restore

    rb = ("module M\n  def f(xs)\n    xs.each do |x|\n      puts x\n    end\n    if xs.empty?\n      nil\n    else\n"
          "      xs.first\n    end\n  end\nend\n")
    found = holes("ruby", "m.rb", rb, random.Random(0))
    assert [h.middle for h in found["block"]] == ["def f(xs)\n    xs.each do |x|\n      puts x\n    end\n    if xs.empty?"
                                                  "\n      nil\n    else\n      xs.first\n    end\n  end",
                                                  "xs.each do |x|\n      puts x\n    end"]  # no if/else: not whole
    line = next(h for h in found["line"] if h.middle == "puts x")
    assert overgenerations(line, "")["extra-closer"] == "puts x\n    end"
    for name, generated in overgenerations(found["block"][1], "def g").items():
        assert restore(found["block"][1], generated, "ruby", name == "partial-line") == found["block"][1].middle, name
    sh = 'f() {\n    if [ -n "$1" ]; then\n        echo "$1" \\\n            --verbose\n    fi\n}\n'
    line = next(h for h in holes("shell", "f.sh", sh, random.Random(0))["line"] if h.middle == "--verbose")
    assert overgenerations(line, "")["extra-closer"] == "--verbose\n    fi"  # the `if`'s, past the continued command

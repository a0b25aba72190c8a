"""The language registry (fim.languages): lookup by languageId, tree-sitter imports and definitions,
and resolution per language, through the language-blind fronts fim.imports, fim.symbols, fim.context."""

from __future__ import annotations

import json
import time

import pytest

from fim import languages
from fim.context import select_context
from fim.imports import ImportRef, imported_modules, path_index, resolve
from fim.languages import treesitter, tsrepair
from fim.symbols import brief, defined_names, extract
from tests.hang_helpers import finishes


def test_registry_prefers_the_language_id_and_falls_back_to_the_extension():
    assert languages.get("typescriptreact").id == "typescriptreact"
    assert languages.get(None, "src/App.tsx").id == "typescriptreact"
    assert languages.get("javascriptreact", "x.js").id == "javascriptreact"
    assert languages.get("cpp", "x.h").name == "cpp"
    assert languages.get(None, "x.h").name == "c"
    assert languages.get("plaintext", "main.go").name == "go"  # an unknown id: the extension decides
    assert languages.get("unknown-language") is None
    assert languages.language_of("x.tsx") == "typescript"
    assert languages.same_family("typescript", "javascript") and languages.same_family("c", "cpp")
    assert not languages.same_family("go", "rust")
    # Every entry is complete where it claims to be: ids unique, extensions unique.
    ids = [i for e in languages.ENTRIES for i in e.ids]
    assert len(ids) == len(set(ids))


def test_line_comment_of_a_notebooks_language() -> None:
    """What a notebook's markdown cells are written after, as comments in the language of its code cells."""
    found = {language: languages.line_comment(language) for language in (
        "python", "typescript", "csharp", "sql", "lua", "shellscript", "r", "julia", "fsharp", "markdown", None)}
    assert found == {"python": "#", "typescript": "//", "csharp": "//", "sql": "--", "lua": "--", "shellscript": "#",
                     "r": "#", "julia": "#", "fsharp": "//", "markdown": None, None: None}


def test_every_tree_sitter_grammar_loads():
    for name in treesitter.GRAMMARS:
        assert treesitter.grammar(name) is not None, name


# ------------------------------------------------------------------------------------ definitions

GO = '''package store

import "fmt"

// Store keeps things.
type Store struct {
	items map[string]int
}

type (
	Key   string
	Value int
)

const Limit = 10

var ErrMissing = fmt.Errorf("missing")

// Get returns one item.
func (s *Store) Get(k Key) (Value, error) {
	v, ok := s.items[string(k)]
	if !ok {
		return 0, ErrMissing
	}
	return Value(v), nil
}

func New() *Store {
	return &Store{items: map[string]int{}}
}
'''


def test_go_definitions_by_tree_sitter():
    names = defined_names(GO, "go")
    assert {"Store", "Key", "Value", "Limit", "ErrMissing", "Get", "New"} <= names
    cut = extract(GO, "go", ["Get"])
    assert cut.text.startswith("// Get returns one item.\nfunc (s *Store) Get(k Key) (Value, error) {")
    long_body = GO.replace("\treturn Value(v), nil\n", "".join(f"\t_ = {i}\n" for i in range(60)) + "\treturn Value(v), nil\n")
    sig = extract(long_body, "go", ["Get"]).text
    assert sig.splitlines()[1] == "func (s *Store) Get(k Key) (Value, error) {" and "_ = 30" not in sig
    assert sig.rstrip().endswith("}")


def test_rust_definitions_survive_lifetimes_and_half_typed_code():
    text = ("use std::fmt;\n\n/// A parser.\npub struct Parser<'a> {\n    src: &'a str,\n}\n\n"
            "impl<'a> Parser<'a> {\n    pub fn new(src: &'a str) -> Self {\n        let c = '{';\n        Self { src }\n    }\n}\n\n"
            "fn broken( {\n\npub enum Token { Word, Space }\n\nmacro_rules! tok { () => {} }\n")
    names = defined_names(text, "rust")
    assert {"Parser", "Token", "tok"} <= names
    out = extract(text, "rust", ["Parser"]).text
    assert "pub struct Parser<'a> {" in out and "impl<'a> Parser<'a> {" in out


def test_typescript_and_javascript_definitions():
    ts = ("export interface Options { depth: number }\nexport type Id = string;\n"
          "export const DEFAULTS: Options = { depth: 1 }, other = 2;\nexport default class Walker {\n  walk(): void {}\n}\n"
          "export function visit<T>(node: T): T {\n  return node;\n}\nenum Kind { A }\n")
    assert {"Options", "Id", "DEFAULTS", "other", "Walker", "default", "visit", "Kind"} <= defined_names(ts, "typescript")
    tsx = "export const Button = (p: Props) => <button onClick={p.go}>{p.label}</button>;\nexport function App() {\n  return <div/>;\n}\n"
    assert {"Button", "App"} <= defined_names(tsx, "typescriptreact")
    js = "exports.parse = function () {};\nmodule.exports.format = fmt;\nfunction fmt() {}\nclass Router {}\nmodule.exports = Router;\n"
    assert {"parse", "format", "fmt", "Router", "default"} <= defined_names(js, "javascript")


def test_java_classes_and_their_members():
    text = ("package com.acme;\n\nimport java.util.List;\n\n/** A thing. */\npublic class Thing<T> {\n"
            "    public static final int LIMIT = 3;\n    public static Thing<String> make(String s) {\n        return null;\n    }\n}\n")
    names = defined_names(text, "java")
    assert {"Thing", "LIMIT", "make"} <= names
    assert extract(text, "java", ["make"]).text == ("/** A thing. */\npublic class Thing<T> {\n\n"
                                                    "    public static Thing<String> make(String s) {\n        return null;\n    }")
    # A nested class's member comes with the heads of every class around it (Outer.Inner.run, not Inner.run).
    nested = "public class Outer {\n    static class Inner {\n        void run() {\n            go();\n        }\n    }\n}\n"
    assert extract(nested, "java", ["run"]).text == ("public class Outer {\n\n    static class Inner {\n\n"
                                                     "        void run() {\n            go();\n        }")


def test_c_and_cpp_definitions_inside_guards_namespaces_and_templates():
    header = ('#ifndef UTIL_H\n#define UTIL_H\n#include <stddef.h>\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n'
              'typedef struct node { int v; } node_t;\nenum color { RED, GREEN };\nsize_t count_nodes(const node_t *n);\n'
              'static inline int twice(int x) { return 2 * x; }\n#endif\n')
    assert {"UTIL_H", "MAX", "node", "node_t", "color", "RED", "count_nodes", "twice"} <= defined_names(header, "c")
    assert extract(header, "c", ["count_nodes"]).text == "size_t count_nodes(const node_t *n);"
    cpp = ("namespace app {\ntemplate <typename T>\nclass Queue {\n public:\n  void push(T v);\n};\n"
           "void Queue<int>::push(int v) {}\nusing Id = long;\n}  // namespace app\n")
    assert {"Queue", "push", "Id"} <= defined_names(cpp, "cpp")
    assert extract(cpp, "cpp", ["Queue"]).text.startswith("template <typename T>\nclass Queue {")
    assert "Queue" in defined_names(cpp, "c")  # a .h holding C++ parses as C++
    # A template class's head runs to its body's brace: JPype's ``template <typename base_t>`` alone named nothing.
    templates = ("template <typename base_t>\nclass JPConversionLong : public JPIndexConversion\n{\npublic:\n"
                 + "".join(f"  int f{k}() {{ return {k}; }}\n" for k in range(30)) + "} ;\n\nint used();\n")
    assert extract(templates, "cpp", ["used"], others=True).text == (
        "int used();\n\ntemplate <typename base_t>\nclass JPConversionLong : public JPIndexConversion\n{\n...\n} ;")
    # A #define comes with the run of #defines sharing its prefix (Pillow's error codes), not a function-like one
    codes = ("#define MAX_LEN 64\n\n/* Errcodes */\n#define IMAGING_CODEC_END 1\n#define IMAGING_CODEC_BROKEN -2\n"
             "#define IMAGING_CODEC_MEMORY -9\n#define IMAGING_CODEC_F(x) (x)\n#define OTHER 3\n")
    assert extract(codes, "c", ["IMAGING_CODEC_MEMORY"]).text == (
        "#define IMAGING_CODEC_END 1\n#define IMAGING_CODEC_BROKEN -2\n#define IMAGING_CODEC_MEMORY -9")
    assert extract(codes, "c", ["IMAGING_CODEC_MEMORY"], 40).text == "#define IMAGING_CODEC_MEMORY -9"  # no room


def test_constants_sharing_a_prefix_come_together_in_every_language():
    """rack.rb's ``RACK_LOGGER`` beside the ``RACK_ERRORS`` a file uses (a Ruby constant inside ``module Rack`` was
    taken to run to the module's end: a line as indented as its first ends it), TypeScript's and Java's too."""
    ruby = ("module Rack\n  HTTPS = 'HTTPS'\n  RACK_VERSION = 'rack.version'\n  RACK_ERRORS = 'rack.errors'\n"
            "  RACK_LOGGER = 'rack.logger'\n\n  def self.release\n    VERSION\n  end\nend\n")
    assert extract(ruby, "ruby", ["RACK_ERRORS"]).text == (
        "module Rack\n\n  RACK_VERSION = 'rack.version'\n  RACK_ERRORS = 'rack.errors'\n  RACK_LOGGER = 'rack.logger'")
    ts = 'export const HTTP_OK = 200;\nexport const HTTP_GONE: number = 410;\nexport function ok() {}\n'
    assert extract(ts, "typescript", ["HTTP_OK"]).text == (
        "export const HTTP_OK = 200;\nexport const HTTP_GONE: number = 410;")
    java = ('public class Codes {\n    public static final int ERR_IO = 1;\n    public static final int ERR_EOF = 2;\n'
            '    void run() {\n    }\n}\n')
    assert "ERR_EOF = 2;" in extract(java, "java", ["ERR_IO"]).text


def test_incremental_reparse_matches_a_full_parse_and_is_cheap():
    text = "".join(f"func F{i}(a int) int {{\n\treturn a + {i}\n}}\n\n" for i in range(3000))
    text = "package x\n\n" + text
    first = treesitter.parse("go", text)
    edited = text[:len(text) // 2] + "x" + text[len(text) // 2:]
    start = time.perf_counter()
    again = treesitter.parse("go", edited)
    incremental = time.perf_counter() - start
    treesitter._recent.clear()
    fresh = treesitter.parse("go", edited + " ")
    assert str(again.root) == str(treesitter.parse("go", edited).root)
    assert str(fresh.root) == str(again.root)
    assert first is not again and incremental < 0.05


# ------------------------------------------------------------------------------------ imports & resolution


def test_go_module_packages_through_go_mod_and_siblings_of_the_package():
    files = {"go.mod": "module example.com/shop\n\ngo 1.22\n", "cart/cart.go": "package cart\n",
             "cart/price.go": "package cart\n", "cart/cart_test.go": "package cart\n",
             "internal/db/db.go": "package db\n", "vendor_copy/internal/db/db.go": "package db\n"}
    text = 'package cart\n\nimport (\n\tdb "example.com/shop/internal/db"\n\t"fmt"\n)\n\nfunc f() { db.Open(); fmt.Println() }\n'
    index = path_index(files, {"go.mod": files["go.mod"]})
    refs = {r.module: r for r in imported_modules(text, "go")}
    assert refs["example.com/shop/internal/db"].names == ("Open",)
    assert resolve(refs["example.com/shop/internal/db"], "cart/cart.go", index) == ["internal/db/db.go"]
    assert resolve(refs["fmt"], "cart/cart.go", index) == []
    assert languages.get("go").siblings("cart/cart.go", index) == ["cart/price.go"]


def test_the_root_package_of_a_go_module_in_a_subfolder_resolves():
    """A go.mod below the workspace root (`backend/go.mod` in a monorepo): an import of the module's own
    root package (`hcl.Diagnostics` from `github.com/hashicorp/hcl/v2`) looked for the folder "backend/"
    and found nothing, so its definitions never reached the prompt."""
    files = {"backend/go.mod": "module example.com/shop\n", "backend/shop.go": "package shop\n",
             "backend/cart/cart.go": "package cart\n"}
    index = path_index(files, {"backend/go.mod": files["backend/go.mod"]})
    (root,) = imported_modules('package cart\n\nimport "example.com/shop"\n\nvar _ = shop.X\n', "go")
    assert resolve(root, "backend/cart/cart.go", index) == ["backend/shop.go"]


def test_kotlin_definitions_by_brace_depth_name_what_kotlin_declares():
    """An extension function was named after its receiver (``fun String.toArgs`` defined "String"), ``enum
    class Color`` defined "class", and a ``typealias`` nothing."""
    from fim.symbols import defined_names

    text = ("package x\n\nfun String.toArgs(): Int = 1\nfun <T> List<T>.second(): T = this[1]\n"
            "enum class Color { RED }\ntypealias Callback = (Int) -> Unit\nvalue class Id(val v: Int)\n")
    assert defined_names(text, "kotlin") == {"toArgs", "second", "Color", "Callback", "Id"}


def test_a_swift_file_sees_the_other_files_of_its_module():
    """Swift needs no import within a module, and had no siblings: a type of another file of the same
    target never reached the prompt (expo-modules-core's Swift: recall 0.077 at 16K)."""
    files = ["ExpoModulesCore.podspec", "ios/Core/Module.swift", "ios/Core/Promise.swift", "ios/Api/Factories.swift",
             "Package.swift", "Sources/Lib/Parser.swift", "Sources/Lib/Sub/Token.swift", "Sources/App/main.swift"]
    index = path_index({p: "" for p in files})
    assert languages.get("swift").siblings("ios/Core/Module.swift", index) == [
        "ios/Core/Promise.swift", "ios/Api/Factories.swift", "Sources/App/main.swift", "Sources/Lib/Parser.swift",
        "Sources/Lib/Sub/Token.swift"]  # the podspec's folder (here the workspace's top): all but the manifest,
    # the nearest folders first
    assert languages.get("swift").siblings("Sources/Lib/Sub/Token.swift", index) == ["Sources/Lib/Parser.swift"]


def test_php_use_statements_resolve_as_psr4_lays_classes_out():
    """PHP had no imports: a class used through ``use App\\Models\\User;`` never reached the prompt."""
    text = ("<?php\n\nnamespace App\\Http\\Controllers;\n\nuse App\\Models\\User;\n"
            "use App\\Services\\{Billing, Mailer as Mail};\nuse Illuminate\\Http\\Request;\n\n"
            "class UserController extends Controller\n{\n    use Notifiable;\n\n"
            "    public function show(Request $r) { return User::find(1); }\n}\n")
    files = {"app/Models/User.php": "", "app/Services/Billing.php": "", "app/Services/Mailer.php": "",
             "app/Http/Controllers/Controller.php": "", "app/Http/Controllers/UserController.php": text}
    index = path_index(files)
    refs = imported_modules(text, "php")
    assert [(r.module, r.names) for r in refs] == [
        ("App\\Models\\User", ("User",)), ("App\\Services\\Billing", ("Billing",)),
        ("App\\Services\\Mailer", ("Mailer",)), ("Illuminate\\Http\\Request", ("Request",))]  # not the trait
    current = "app/Http/Controllers/UserController.php"
    assert [resolve(r, current, index) for r in refs] == [
        ["app/Models/User.php"], ["app/Services/Billing.php"], ["app/Services/Mailer.php"], []]
    assert languages.get("php").siblings(current, index) == ["app/Http/Controllers/Controller.php"]


def test_php_use_statements_resolve_through_composer_psr4_maps():
    """A class directly under the folder composer.json maps its namespace prefix to (``"Acme\\\\Shop\\\\":
    "src/"``: ``Acme\\Shop\\Cart`` in ``src/Cart.php``; Laravel's ``App\\User`` in ``app/User.php``) was never
    found: the name's tails were looked up as paths (``Shop/Cart.php``), composer.json was not read."""
    composer = ('{"autoload": {"psr-4": {"Acme\\\\Shop\\\\": "src/", "App\\\\": ["app/"]}},\n'
                ' "autoload-dev": {"psr-4": {"Acme\\\\Shop\\\\Tests\\\\": "tests/"}}}\n')
    files = {"web/composer.json": composer, "web/src/Cart.php": "", "web/src/Model/Item.php": "",
             "web/app/User.php": "", "web/tests/CartTest.php": "", "web/src/Checkout.php": ""}
    index = path_index(files, {"web/composer.json": composer})
    text = ("<?php\n\nnamespace Acme\\Shop;\n\nuse Acme\\Shop\\Cart;\nuse Acme\\Shop\\Model\\Item;\nuse App\\User;\n"
            "use Acme\\Shop\\Tests\\CartTest;\nuse Vendor\\Lib\\Cart;\n")
    refs = imported_modules(text, "php")
    assert [resolve(r, "web/src/Checkout.php", index) for r in refs] == [
        ["web/src/Cart.php"], ["web/src/Model/Item.php"], ["web/app/User.php"], ["web/tests/CartTest.php"], []]


def test_an_aliased_php_use_statement_is_read():
    """``use App\\Models\\User as Member;`` (an alias outside a group) did not match at all: the class never
    reached the prompt."""
    text = "<?php\nuse App\\Models\\User as Member;\nuse App\\A AS X, App\\B;\nuse function App\\fmt as f;\n"
    assert [(r.module, r.names) for r in imported_modules(text, "php")] == [
        ("App\\Models\\User", ("User",)), ("App\\A", ("A",)), ("App\\B", ("B",)), ("function:App\\fmt", ("fmt",))]


def test_php_use_statements_inside_braced_namespaces_are_read():
    """A file of braced namespaces (``namespace App {``, several in one file) indents its ``use`` statements:
    they were taken for a trait's ``use`` in a class body and left out."""
    text = ("<?php\nnamespace App\\Models {\n    use App\\Support\\Str;\n\n    class User\n    {\n"
            "        use HasFactory;\n    }\n}\n\nnamespace App\\Http\n{\n    use App\\Models\\User;\n\n"
            "    class Kernel { use Macroable; }\n}\n")
    assert [r.module for r in imported_modules(text, "php")] == ["App\\Support\\Str", "App\\Models\\User"]


def test_a_go_dependency_is_not_a_workspace_folder_of_the_same_name():
    # A kubebuilder project: metav1 is k8s.io's package, not the project's api/v1.
    files = {"go.mod": "module example.com/operator\n", "api/v1/types.go": "package v1\n\ntype Widget struct{}\n",
             "internal/status/status.go": "package status\n", "tools/gen/main.go": "package main\n",
             "tools/gen/fmtx/fmtx.go": "package fmtx\n"}
    text = ('package controllers\n\nimport (\n\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"\n'
            '\t"google.golang.org/grpc/status"\n\t"example.com/operator/api/v1"\n)\n')
    index = path_index(files, {"go.mod": files["go.mod"]})
    refs = {r.module: r for r in imported_modules(text, "go")}
    assert resolve(refs["k8s.io/apimachinery/pkg/apis/meta/v1"], "controllers/w.go", index) == []
    assert resolve(refs["google.golang.org/grpc/status"], "controllers/w.go", index) == []
    assert resolve(refs["example.com/operator/api/v1"], "controllers/w.go", index) == ["api/v1/types.go"]
    # Without a go.mod over the file (GOPATH, a folder inside a module): folders by suffix.
    (gopath,) = imported_modules('package main\n\nimport "github.com/me/fmtx"\n', "go")
    assert resolve(gopath, "tools/gen/main.go", path_index({p: "" for p in files if p != "go.mod"})) \
        == ["tools/gen/fmtx/fmtx.go"]


def test_a_go_name_defined_in_a_sibling_file_reaches_the_context():
    price = "package cart\n\n// Total adds the prices.\nfunc Total(items []Item) int {\n\treturn 0\n}\n\ntype Item struct{ Price int }\n"
    current = "package cart\n\nfunc checkout(items []Item) int {\n\treturn \n}\n"
    files = {"cart/price.go": price, "cart/cart.go": current, "other/x.go": "package other\n\nfunc Total() {}\n"}
    out = select_context("cart/cart.go", current, 3, files, [], None, 20_000, (0, 5), language="go")
    assert [s.source for s in out] == ["cart/price.go"]
    assert "func Total(items []Item) int {" in out[0].text and "type Item struct{ Price int }" in out[0].text


@pytest.mark.parametrize("edition", ['edition = "2021"\n', "edition.workspace = true\n"])
def test_rust_an_external_crate_is_not_the_crate_roots_module_of_that_name(edition):
    # ``mod http;`` in main.rs: src/handlers.rs's ``use http::StatusCode`` is the http crate (2018+).
    cargo = '[package]\nname = "web"\n' + edition
    files = {"Cargo.toml": cargo, "src/main.rs": "mod http;\nmod handlers;\n", "src/http.rs": "", "src/handlers.rs": ""}
    index = path_index(files, {"Cargo.toml": cargo})
    (external,) = imported_modules("use http::StatusCode;\n", "rust")
    assert resolve(external, "src/handlers.rs", index) == []
    assert resolve(external, "src/main.rs", index) == ["src/http.rs"]  # in scope in the crate root
    old = {**files, "Cargo.toml": '[package]\nname = "web"\n'}  # no edition: 2015, where the root's modules are paths
    assert resolve(external, "src/handlers.rs", path_index(old, {"Cargo.toml": old["Cargo.toml"]})) == ["src/http.rs"]


def test_rust_crate_super_self_paths_and_workspace_crates():
    files = {"Cargo.toml": '[workspace]\nmembers = ["core", "app"]\n',
             "core/Cargo.toml": '[package]\nname = "shop-core"\nversion = "0.1.0"\n',
             "core/src/lib.rs": "pub mod money;\n", "core/src/money.rs": "pub struct Money;\n",
             "app/Cargo.toml": '[package]\nname = "app"\n', "app/src/main.rs": "mod cart;\n",
             "app/src/cart.rs": "mod line;\n", "app/src/cart/line.rs": "use super::*;\n", "app/src/util/mod.rs": ""}
    index = path_index(files, {p: t for p, t in files.items() if p.endswith("Cargo.toml")})
    text = "use shop_core::money::Money;\nuse crate::util::{self, helper};\nmod line;\n"
    refs = {r.module: r for r in imported_modules(text, "rust")}
    assert resolve(refs["shop_core::money::Money"], "app/src/cart.rs", index) == ["core/src/money.rs"]
    assert resolve(refs["crate::util"], "app/src/cart.rs", index) == ["app/src/util/mod.rs"]
    assert resolve(refs["mod:line"], "app/src/cart.rs", index) == ["app/src/cart/line.rs"]  # sibling-module layout
    star = imported_modules("use super::*;\n", "rust")[0]
    assert star.star and resolve(star, "app/src/cart/line.rs", index) == ["app/src/cart.rs"]


def test_typescript_tsconfig_paths_base_url_and_workspace_package_exports():
    tsconfig = '{\n  // comments are allowed\n  "compilerOptions": {"baseUrl": "src", "paths": {"@app/*": ["app/*"]},},\n}\n'
    package = json.dumps({"name": "@shop/ui", "exports": {".": {"types": "./dist/index.d.ts", "import": "./dist/index.js"},
                                                          "./button": "./dist/button.js"}})
    files = {"tsconfig.json": tsconfig, "src/app/cart.ts": "", "src/lib/money.ts": "", "src/main.ts": "",
             "packages/ui/package.json": package, "packages/ui/src/index.ts": "", "packages/ui/src/button.tsx": "",
             "src/util.ts": ""}
    index = path_index(files, {"tsconfig.json": tsconfig, "packages/ui/package.json": package})
    text = ("import { Cart } from '@app/cart';\nimport { money } from 'lib/money';\nimport { Button } from '@shop/ui/button';\n"
            "import { Theme } from '@shop/ui';\nimport { u } from './util.js';\nimport React from 'react';\n")
    got = {r.module: resolve(r, "src/main.ts", index) for r in imported_modules(text, "typescript")}
    assert got == {"@app/cart": ["src/app/cart.ts"], "lib/money": ["src/lib/money.ts"],
                   "@shop/ui/button": ["packages/ui/src/button.tsx"], "@shop/ui": ["packages/ui/src/index.ts"],
                   "./util.js": ["src/util.ts"], "react": []}


def test_reexports_through_an_index_file_reach_the_defining_module():
    files = {"src/core/index.ts": "export * from './walker';\nexport { Options } from './options';\n",
             "src/core/walker.ts": "export class Walker {\n  walk(): void {}\n}\n",
             "src/core/options.ts": "export interface Options { depth: number }\n"}
    current = "import { Walker, Options } from './core';\n\nconst w = new Walker();\n"
    files["src/main.ts"] = current
    out = select_context("src/main.ts", current, 2, files, [], None, 20_000, (0, 3), language="typescript")
    by_source = {s.source: s.text for s in out}
    assert "export class Walker {" in by_source["src/core/walker.ts"]
    assert "export interface Options { depth: number }" in by_source["src/core/options.ts"]


def test_java_same_package_classes_reach_the_context():
    money = "package com.shop;\n\n/** Money. */\npublic final class Money {\n    public static Money of(long cents) {\n        return null;\n    }\n}\n"
    current = "package com.shop;\n\nclass Cart {\n    Money total() {\n        return Money.of(0);\n    }\n}\n"
    files = {"app/src/main/java/com/shop/Money.java": money, "app/src/main/java/com/shop/Cart.java": current,
             "app/src/main/java/com/other/Money.java": "package com.other;\npublic class Money {}\n"}
    out = select_context("app/src/main/java/com/shop/Cart.java", current, 4, files, [], None, 20_000, (0, 7))
    assert [s.source for s in out] == ["app/src/main/java/com/shop/Money.java"]
    assert "public final class Money {" in out[0].text


def test_c_includes_through_compile_commands_and_names_used_in_the_file():
    commands = json.dumps([{"directory": "/home/me/proj/build", "file": "/home/me/proj/src/main.c",
                            "command": "cc -I../include -Ithird/inc -c ../src/main.c"}])
    header = "".join(f"int helper_{i}(int x);\n" for i in range(400)) + "struct point { int x, y; };\nint area(struct point p);\n"
    files = {"compile_commands.json": commands, "include/geo/shapes.h": header, "src/main.c": "",
             "other/geo/shapes.h": "int nope(void);\n"}
    index = path_index(files, {"compile_commands.json": commands})
    (ref,) = imported_modules('#include "geo/shapes.h"\n', "c")
    assert resolve(ref, "src/main.c", index) == ["include/geo/shapes.h"]
    current = '#include "geo/shapes.h"\n\nint main(void) {\n    struct point p = {1, 2};\n    return area(p);\n}\n'
    files["src/main.c"] = current
    out = select_context("src/main.c", current, 4, files, [], None, 3000, (0, 6))
    text = {s.source: s.text for s in out}["include/geo/shapes.h"]
    assert "int area(struct point p);" in text and "struct point { int x, y; };" in text


@pytest.mark.parametrize("current", ["cli.py", "sub/cmd.py"])
def test_python_absolute_self_imports_where_the_workspace_is_the_package_folder(current):
    files = {"__init__.py": "", "errors.py": "class ParseError(Exception):\n    pass\n", "cli.py": "",
             "sub/__init__.py": "", "sub/cmd.py": ""}
    (ref,) = imported_modules("from mypkg.errors import ParseError\n", "python")
    assert resolve(ref, current, path_index(files)) == ["errors.py"]
    (deep,) = imported_modules("from mypkg.sub.cmd import run\n", "python")
    assert resolve(deep, "cli.py", path_index(files)) == ["sub/cmd.py"]
    (other,) = imported_modules("from os.path import join\n", "python")
    assert resolve(other, current, path_index(files)) == []


def test_vue_script_imports():
    text = '<template><div/></template>\n<script setup lang="ts">\nimport { useCart } from "./cart";\n</script>\n'
    (ref,) = imported_modules(text, "vue")
    assert ref.module == "./cart" and ref.names == ("useCart",) and ref.line == 2


def test_an_import_ref_names_its_language():
    (ref,) = imported_modules('import x "a/b"\n', "go") or [ImportRef("", ())]
    assert ref.language == "go"


def test_the_language_id_decides_for_a_file_without_a_known_extension():
    files = {"tool": "", "helpers.py": "def assist(x):\n    return x\n"}
    current = "#!/usr/bin/env python3\nfrom helpers import assist\n\nassist(1)\n"
    files["tool"] = current
    assert select_context("tool", current, 3, files, [], None, 5000, (0, 4)) == []
    out = select_context("tool", current, 3, files, [], None, 5000, (0, 4), language="python")
    assert [s.source for s in out] == ["helpers.py"] and "def assist(x):" in out[0].text


def test_rust_names_used_through_an_imported_module():
    text = "use crate::parser::value;\n\nfn f() { value::parse_value(); value::Kind::A; }\n"
    (ref,) = imported_modules(text, "rust")
    assert ref.module == "crate::parser::value" and ref.names == ("value", "parse_value", "Kind")
    files = {"src/lib.rs": "", "src/parser/mod.rs": "", "src/parser/value.rs": ""}
    assert resolve(ref, "src/main.rs", path_index(files)) == ["src/parser/value.rs"]


def test_rust_a_use_inside_a_block_or_an_inline_module_counts():
    """clap: ``#[cfg(feature = "help")] { use super::HelpTemplate; HelpTemplate::new(...) }`` in a function: only
    the file's top-level ``use`` lines were read (4 of 40 clap tasks missed at 16K)."""
    text = ("use crate::builder::Command;\n\nmod inner {\n    use crate::a::B;\n}\n\nfn f() {\n    #[cfg(x)]\n"
            "    {\n        use super::HelpTemplate;\n        HelpTemplate::new();\n    }\n}\n")
    refs = imported_modules(text, "rust")
    assert [(r.module, r.names, r.line, r.block) for r in refs] == [
        ("crate::builder::Command", ("Command",), 0, ()), ("crate::a::B", ("B",), 3, ()),
        ("super::HelpTemplate", ("HelpTemplate", "new"), 9, (8, 11))]  # visible in its block only
    # the same path in two functions: each in its own block, not merged into one visible everywhere
    twice = "fn f() {\n    use self::Kind::*;\n}\n\nfn g() {\n    use self::Kind::*;\n}\n"
    assert [(r.module, r.block) for r in imported_modules(twice, "rust")] == [
        ("self::Kind", (0, 2)), ("self::Kind", (4, 6))]


def test_rust_items_inside_a_macro_are_the_files_own():
    """tokio wraps items in ``cfg_rt! { mod config; use config::Config; }`` and ``cfg_if!`` branches, hyper in
    ``cfg_feature!``: tree-sitter reads a macro's body as tokens, so neither its ``use`` lines nor its definitions
    were seen (``use crate::runtime::Config`` found no ``Config`` in runtime/mod.rs; 8 of 80 tokio and hyper
    tasks missed at 16K)."""
    text = ("cfg_rt! {\n    mod config;\n    pub(crate) use config::{Config, Other};\n"
            "    fn f() -> [u8; 4] {\n        use x::Y;\n        [0; 4]\n    }\n    /// The runtime.\n"
            "    pub struct Runtime {\n        x: u32,\n    }\n}\n"
            "cfg_if::cfg_if! {\n    if #[cfg(unix)] {\n        use unix::Thing;\n        pub struct A;\n"
            "    } else {\n        pub use self::fallback::*;\n    }\n}\n"
            "pin_project! {\n    pub struct ReadBuf<'a> { a: &'a u8 }\n}\n")
    refs = imported_modules(text, "rust")
    assert [(r.module, r.names, r.line, r.block, r.star) for r in refs] == [
        ("mod:config", (), 1, (), False), ("config", ("Config", "Other"), 2, (), False),
        ("x::Y", ("Y",), 4, (3, 6), False),  # in the function's body only
        ("unix::Thing", ("Thing",), 14, (), False), ("self::fallback", (), 17, (), True)]  # cfg_if: both branches
    assert {"Runtime", "f", "A", "ReadBuf"} <= defined_names(text, "rust")
    assert extract(text, "rust", ["Runtime"], max_chars=60).text.strip().startswith("/// The runtime.")
    # ``fn f() -> [u8; 4] {`` is no cfg_if branch: its body's statements are not items
    assert "Y" not in defined_names(text, "rust")


def test_rust_a_path_in_an_inline_module_is_read_from_that_module():
    """tokio's loom/std/mod.rs: ``pub(crate) mod cell { pub(crate) use super::unsafe_cell::UnsafeCell; }`` names
    loom/std/unsafe_cell.rs (``super`` of ``cell`` is the file's module), not loom/unsafe_cell.rs."""
    text = ("mod unsafe_cell;\n\npub(crate) mod cell {\n    pub(crate) use super::unsafe_cell::UnsafeCell;\n"
            "    mod inner {\n        use super::super::x::Y;\n        use self::z::W;\n    }\n}\n")
    assert [r.module for r in imported_modules(text, "rust")] == [
        "mod:unsafe_cell", "self::unsafe_cell::UnsafeCell", "self::x::Y", "self::cell::inner::z::W"]
    files = {"src/loom/mod.rs": "", "src/loom/std/mod.rs": text, "src/loom/std/unsafe_cell.rs": ""}
    ref = imported_modules(text, "rust")[1]
    assert resolve(ref, "src/loom/std/mod.rs", path_index(files)) == ["src/loom/std/unsafe_cell.rs"]


def test_typescript_that_tree_sitter_misreads_keeps_its_later_definitions():
    """effect 3.10: call signatures one per line in a type literal (``dual``) and ``in``/``out`` type parameters made
    tree-sitter-typescript 0.23 read the rest of the file as ERROR nodes: Function.ts defined 2 names of 24 (no
    ``pipe``), 185 of 360 modules failed to parse."""
    text = ("export interface Order<in A> {\n  (self: A, that: A): -1 | 0 | 1\n}\n\n"
            "export interface Tree<in out Key, out Value> extends Iterable<[Key, Value]> {}\n\n"
            "export const dual: {\n  /**\n   * Data-last.\n   */\n  <DataLast extends (...args: Array<any>) => any>(\n"
            "    arity: number\n  ): DataLast\n  // data-first\n  <DataFirst>(isDataFirst: boolean): DataFirst\n"
            "  <\n    A,\n    B\n  >(a: A, b: B): B\n} = function(arity, body) {\n  return body\n}\n\n"
            "export const pick = <const T extends string>(x: T) =>\n  <A>(a: A): A => a\n\n"
            "export function pipe<A>(a: A): A\nexport function pipe(a: unknown): unknown {\n  return a\n}\n")
    assert {"Order", "Tree", "dual", "pick", "pipe"} <= defined_names(text, "typescript")
    assert not treesitter.parse("typescript", text).root.has_error
    repaired = tsrepair.repair(text)
    assert len(repaired) == len(text) and repaired.count("\n") == text.count("\n")
    assert "  <A>(a: A): A => a" in repaired  # after ``=>`` a ``<`` opens the returned function, no new member
    # TSX: a line starting ``<div>`` is an element, left as it is; its modifiers still go
    tsx = "export const A = () => (\n  <div>\n    <span>x</span>\n  </div>\n)\ninterface B<in T> {}\n"
    assert tsrepair.repair(tsx, signatures=False) == tsx.replace("<in T>", "<   T>")


def test_many_aliases_find_the_same_uses_as_few():
    """Past `FEW_ALIASES` the plain-word aliases are found by one pass over every ``word.name`` (a pattern of 1,000
    alternatives took 170 ms a reading); what each alias is used for stays what it was."""
    from fim.languages.base import FEW_ALIASES, uses

    text = "a.b.c x.ab.q ab.c ab.d $q.z os.path.join(1) xab.e foo::bar ab.c\n"
    few = ["ab", "b", "q", "$q", "os.path", "x", "foo"]
    many = few + [f"n{i}" for i in range(FEW_ALIASES)]
    assert {a: uses(text, [a])[a] for a in few} == {
        "ab": ("c", "d"), "b": (), "q": (), "$q": ("z",), "os.path": ("join",), "x": ("ab",), "foo": ()}
    assert {a: v for a, v in uses(text, many).items() if a in few} == {a: uses(text, [a])[a] for a in few}
    assert uses(text, many, r"[A-Za-z_]\w*", "::")["foo"] == ("bar",)


def test_python_from_the_root_package_import_a_submodule():
    files = {"__init__.py": "", "errors.py": "", "cli.py": "", "path.py": ""}
    (ref,) = imported_modules("from mypkg import errors\n", "python")
    assert resolve(ref, "cli.py", path_index(files)) == ["errors.py"]
    (other,) = imported_modules("from os import sep\n", "python")
    assert resolve(other, "cli.py", path_index(files)) == []


def test_a_big_struct_keeps_its_defining_line_where_it_does_not_fit_whole():
    fields = "".join(f"\t// Field{i} does things.\n\tField{i} string\n\n" for i in range(300))
    command = f"package cobra\n\n// Command is a command.\ntype Command struct {{\n{fields}}}\n\nfunc (c *Command) Name() string {{\n\treturn \"\"\n}}\n"
    cut = extract(command, "go", ["Name"], max_chars=1500, others=True)
    assert "func (c *Command) Name() string {" in cut.text
    assert "// Command is a command.\ntype Command struct {\n\t...\n}" in cut.text
    consts = "package x\n\nconst (\n" + "".join(f"\tToken{i} = {i}\n" for i in range(100)) + ")\n"
    assert "\tToken42 = 42" in extract(consts, "go", ["Token42"], max_chars=4000).text


def test_ruby_requires_resolve_to_the_library_files():
    """Ruby had no imports: ``require_relative``/``require``/``autoload`` brought nothing."""
    text = ("# frozen_string_literal: true\nrequire 'time'\nrequire_relative 'utils'\nrequire \"rack/mime\"\n"
            "module Rack\n  autoload :Handler, \"rack/handler\"\n  # require 'rack/commented'\nend\n")
    files = {"lib/rack/request.rb": text, "lib/rack/utils.rb": "", "lib/rack/mime.rb": "", "lib/rack/handler.rb": "",
             "test/rack/mime.rb": "", "lib/rack/commented.rb": ""}
    index = path_index(files)
    refs = imported_modules(text, "ruby")
    assert [(r.module, r.names) for r in refs] == [
        ("time", ()), ("./utils", ()), ("rack/mime", ()), ("rack/handler", ("Handler",))]
    assert [resolve(r, "lib/rack/request.rb", index) for r in refs] == [
        [], ["lib/rack/utils.rb"], ["lib/rack/mime.rb"], ["lib/rack/handler.rb"]]
    assert languages.get("ruby").siblings("lib/rack/request.rb", index) == [
        "lib/rack/commented.rb", "lib/rack/handler.rb", "lib/rack/mime.rb", "lib/rack/utils.rb"]  # not test/


def test_ruby_definitions_follow_def_class_module_and_end():
    """Statement modifiers (``return x if y``), ``while x do``, endless methods, heredocs and ``=begin``
    blocks holding the word ``end`` must not shift the blocks."""
    text = ("module Rack\n  class Request\n    DEFAULT_PORT = 80\n    attr_reader :env, :params\n\n"
            "    def host\n      return nil if @env.empty?\n      while busy? do\n        wait\n      end\n"
            "      @env['HTTP_HOST']\n    end\n\n    def port = DEFAULT_PORT\n\n"
            "    def usage\n      <<~TEXT\n        if you end here\n      TEXT\n    end\n"
            "=begin\n  def not_a_method\n  end\n=end\n    def self.build(env)\n      new(env)\n    end\n  end\nend\n")
    lines = text.split("\n")
    assert defined_names(text, "ruby") == {"Rack", "Request", "DEFAULT_PORT", "env", "params", "host", "port",
                                           "usage", "build"}
    cut = extract(text, "ruby", ["host"], 4000)  # a method comes with the heads of its class and module
    assert cut.text == lines[0] + "\n\n" + lines[1] + "\n\n" + "\n".join(lines[5:12])
    cut = extract(text, "ruby", ["build"], 4000)
    assert cut.text == lines[0] + "\n\n" + lines[1] + "\n\n" + "\n".join(lines[24:27])


def test_lua_requires_resolve_as_package_path_finds_modules():
    """Lua had no imports: ``local utils = require 'pl.utils'`` brought nothing."""
    text = ("local utils = require 'pl.utils'\nlocal is_callable = require('pl.types').is_callable\n"
            "local config = require(\"deepfim.config\")\n-- local gone = require 'pl.gone'\n"
            "local t = utils.split(s, ',')\nif utils:is_type(t) then config.get() end\n")
    files = {"pl/utils.lua": "", "pl/types.lua": "", "lua/deepfim/config/init.lua": "", "pl/gone.lua": ""}
    index = path_index(files)
    refs = imported_modules(text, "lua")
    assert [(r.module, r.names) for r in refs] == [
        ("pl.utils", ("split", "is_type")), ("pl.types", ("is_callable",)), ("deepfim.config", ("get",))]
    assert [resolve(r, "main.lua", index) for r in refs] == [
        ["pl/utils.lua"], ["pl/types.lua"], ["lua/deepfim/config/init.lua"]]


def test_lua_definitions_follow_function_and_end():
    """Long comments and strings holding ``end`` or ``function`` must not shift the blocks."""
    text = ("--[[ Helpers: if you call a function, end it.\n]]\nlocal M = {}\n\n"
            "local function strip(s)\n  return (s:gsub('^%s+', ''))\nend\n\n"
            "--- Split s at sep.\nfunction M.split(s, sep)\n  local out = {}\n"
            "  for part in s:gmatch('[^' .. sep .. ']+') do\n"
            "    out[#out + 1] = strip(part)\n  end\n  local doc = [[ end ]]\n  return out\nend\n\n"
            "M.VERSION = '1.0'\nM.join = function(t, sep) return table.concat(t, sep) end\n\nreturn M\n")
    lines = text.split("\n")
    assert defined_names(text, "lua") == {"strip", "split", "VERSION", "join"}
    assert extract(text, "lua", ["split"], 4000).text == "\n".join(lines[8:17])


def test_shell_sourced_scripts_resolve_by_path_or_name():
    """Shell had no imports: the functions of a sourced library (``. /lib/dracut-lib.sh``) never reached
    the prompt."""
    text = ("#!/bin/sh\ntype getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh\n. ./common.sh\n"
            "source \"$dracutbasedir\"/dracut-functions.sh\n# . ./commented.sh\necho \". ./quoted.sh\"\n"
            "cat <<EOF\n. ./heredoc.sh\nEOF\nfor f in $hookdir/*.sh; do . \"$f\"; done\n")
    files = {"modules.d/99base/dracut-lib.sh": "", "modules.d/95nfs/common.sh": "", "dracut-functions.sh": "",
             "modules.d/95nfs/commented.sh": "", "modules.d/95nfs/quoted.sh": "", "modules.d/95nfs/heredoc.sh": ""}
    index = path_index(files)
    refs = [r for r in imported_modules(text, "shellscript") if r.module]  # "": the functions it runs
    assert [r.module for r in refs] == ["/lib/dracut-lib.sh", "./common.sh", "$dracutbasedir/dracut-functions.sh",
                                        "$f"]
    assert [resolve(r, "modules.d/95nfs/nfs-lib.sh", index) for r in refs] == [
        ["modules.d/99base/dracut-lib.sh"], ["modules.d/95nfs/common.sh"], ["dracut-functions.sh"], []]


def test_shell_definitions_are_functions_by_brace_depth():
    """Braces in strings, comments, ``${x}`` and heredocs must not shift the functions."""
    text = ("#!/bin/bash\n# a comment with a { brace\ngetarg() {\n    local _o=\"${1#-}\" # drop '-' {\n"
            "    cat <<EOF\n}\nEOF\n    echo \"}\"\n}\n\nfunction info {\n    echo \"$*\" >&2\n}\n\n"
            "main() { info hi; }\n")
    lines = text.split("\n")
    assert defined_names(text, "shellscript") == {"getarg", "info", "main"}
    assert extract(text, "shellscript", ["getarg"], 4000).text == "\n".join(lines[1:9])
    assert extract(text, "shellscript", ["info"], 4000).text == "\n".join(lines[10:13])


def test_ruby_blocks_survive_quotes_in_regular_expressions_and_long_lines():
    """A ``/"/`` regular expression opened a string to the next quote, lines later, hiding the ``def``s
    between; a long line of modifiers (``x = 1 if y;`` ...) took seconds to read."""
    text = ("class Quoter\n  def unquote(s)\n    s.gsub(/\"/, '')\n  end\n\n  def quote(s)\n    \"\\\"#{s}\\\"\"\n"
            "  end\nend\n" + "x = 1 if y; " * 5000 + "\n")
    lines = text.split("\n")
    assert defined_names(text, "ruby") == {"Quoter", "unquote", "quote"}
    assert extract(text, "ruby", ["quote"], 4000).text == lines[0] + "\n\n" + "\n".join(lines[5:8])


def test_line_of_counts_the_line_ends_before_an_offset():
    from fim.languages.base import line_of
    text = "a\n\nbc\nd\n"
    assert [line_of(text, k) for k in range(len(text) + 1)] == [text.count("\n", 0, k) for k in range(len(text) + 1)]
    assert line_of("", 0) == 0
@pytest.mark.parametrize("language", ["kotlin", "swift", "csharp", "php", "scala", "dart"])
def test_brace_definitions_of_a_long_word_without_a_call_finish(language):
    """A 50,000-character run of letters with no ``(`` (a generated table, a pasted blob) was searched
    for a call from each of its letters: over a minute per keystroke in a Kotlin/Swift/C#/PHP file."""
    from fim.symbols import defined_names

    text = "val x = 1\n" + "a" * 50_000 + "\nfun go(): Int = 2\n"
    assert finishes(defined_names, text, language) >= {"go"}


@pytest.mark.parametrize("language", ["dart", "csharp"])
def test_generic_definitions_and_dart_calls_of_a_line_of_spaces_finish(language):
    """A long run of spaces or tabs (an aligned table, a pasted blob) was split every way by the two ``[ \\t]*``
    around a generic function's optional type arguments, and a Dart variable's type was searched through its
    spaces: 20,000 spaces took 1.3 s and ``final a`` then 10,000 spaces 2.5 s, a keystroke (Dart, C#)."""
    from fim.languages.dart import imports
    from fim.symbols import defined_names

    text = ("import 'a.dart';\nfinal a" + " " * 30_000 + "b\nconst x<" + "\t" * 30_000 + "\nf" + " " * 200_000
            + "x\n  go" + " " * 50_000 + "<int>" + " " * 50_000 + ";\nT parse<T>(String s) => s;\n"
            "final Map<String, List<Map<int, X>>> table = {};\n")
    names = finishes(defined_names, text, language)
    assert "parse" in names and (language != "dart" or "table" in names)
    assert finishes(imports, text)


def test_a_header_of_20000_declarations_gives_its_signatures_without_a_stall():
    """An #include's signatures fill the room its named definitions leave: each of the header's
    declarations was searched for an enclosing definition through all those before it (2 s for a
    4,000-declaration header, a minute for 20,000)."""
    text = "".join(f"int api_fn_{i}(int x);\n" for i in range(20_000))
    cut = finishes(extract, text, "c", ["api_fn_3"], 8000, True)
    assert cut.text.startswith("int api_fn_3(int x);\n\nint api_fn_0(int x);\n\nint api_fn_1(int x);")


@pytest.mark.parametrize("language,statement", [
    ("python", "from pkg.mod{0} import name_{0}\n"),
    ("kotlin", "import pkg.mod{0}.Name{0}\n"),
    ("php", "use App\\Mod{0}\\Name{0};\n"),
])
def test_the_lines_of_40000_imports_are_counted_in_one_pass(language, statement):
    """Each import's line was counted from the start of the file: sympy's test_args.py (1,085 imports)
    took 0.5 s to read each time the cursor moved to another line, a 40,000-import file over a minute."""
    text = "".join(statement.format(i) for i in range(40_000))
    refs = finishes(imported_modules, text, language)
    assert [r.line for r in refs] == list(range(40_000))


def test_a_rust_use_nested_2000_levels_deep_is_read():
    """``use a::{b::{b::{...}}}`` 2,000 levels deep overflowed Python's stack (RecursionError) and the
    completion failed; the levels past MAX_USE_NESTING are left out."""
    text = "use a::" + "{b::" * 2000 + "c" + "}" * 2000 + ";\nuse std::fmt::{Display, Write};\nfn main() {}\n"
    refs = imported_modules(text, "rust")
    assert [(r.module, r.names) for r in refs] == [("std::fmt", ("Display", "Write"))]
    from fim.languages.rust import MAX_USE_NESTING

    shallow = "use a::" + "{b::" * MAX_USE_NESTING + "c" + "}" * MAX_USE_NESTING + ";\n"
    assert [(r.module, r.names) for r in imported_modules(shallow, "rust")] == [
        ("a" + "::b" * MAX_USE_NESTING + "::c", ("c",))]


def test_a_package_json_nested_past_pythons_stack_does_not_fail_every_import():
    """A package.json (or compile_commands.json) of 100,000 nested brackets raised RecursionError from
    the JSON reader: every TypeScript (C) import of the workspace failed its completion."""
    deep = "[" * 100_000 + "]" * 100_000
    files = {"package.json": '{"name": "app", "x": ' + deep + "}", "lib/package.json": '{"name": "lib"}',
             "lib/index.ts": "export function f() {}\n", "src/a.ts": 'import { f } from "lib";\n',
             "compile_commands.json": deep, "src/m.c": '#include "util.h"\n', "include/util.h": "int g(void);\n"}
    index = path_index(files, {p: t for p, t in files.items() if p.endswith(".json")})
    (ts,) = imported_modules(files["src/a.ts"], "typescript")
    assert resolve(ts, "src/a.ts", index) == ["lib/index.ts"]
    (c,) = imported_modules(files["src/m.c"], "c")
    assert resolve(c, "src/m.c", index) == ["include/util.h"]


def test_a_package_json_exports_nested_600_deep_does_not_fail_the_import():
    """Reading a package.json ``exports`` value recursed once per level: 600 nested lists (valid JSON)
    raised RecursionError and the completion failed; the levels past MAX_EXPORT_NESTING are left out."""
    manifest = '{"name": "lib", "main": "./main.js", "exports": ' + "[" * 600 + '"./deep.js"' + "]" * 600 + "}"
    files = {"lib/package.json": manifest, "lib/main.js": "export function f() {}\n", "lib/deep.js": "",
             "lib/near.js": "", "src/a.ts": 'import { f } from "lib";\n'}
    index = path_index(files, {"lib/package.json": manifest})
    (ref,) = imported_modules(files["src/a.ts"], "typescript")
    assert resolve(ref, "src/a.ts", index) == ["lib/main.js"]
    near = manifest.replace("[" * 600 + '"./deep.js"' + "]" * 600, "[" * 31 + '"./near.js"' + "]" * 31)
    assert resolve(ref, "src/a.ts", path_index(files, {"lib/package.json": near})) == ["lib/near.js"]


def test_the_other_definitions_of_a_module_come_without_their_documentation():
    """A Lua module's other functions came with their LDoc comments, which crowded out the functions
    further down: the one about to be typed after ``stringx.`` was often not among them."""
    docs = "".join(f"--- Does thing {i}.\n-- @param s a string\n-- @return a string\n"
                   f"function M.f{i}(s)\n  return s\nend\n\n" for i in range(40))
    text = "local M = {}\n\n" + docs + "return M\n"
    cut = extract(text, "lua", ["f0"], 1200, others=True)
    assert "--- Does thing 0." in cut.text  # the named one whole, with its documentation
    assert "--- Does thing 1." not in cut.text and "function M.f1(s)" in cut.text and "function M.f25(s)" in cut.text


_CS_FILES = {
    "src/Web/Controllers/OrderController.cs": "",
    "src/Billing/Invoice.cs": "namespace Acme.Billing;\n\npublic class Invoice { }\n",
    "src/Billing/Legacy/Tax.cs": "namespace Acme.Billing\n{\n    public static class Tax { }\n}\n",
    "src/Core/Guard.cs": "namespace Acme.Core\n{\n    // namespace Not.This\n    public static class Guard { }\n"
                         "    namespace Checks\n    {\n        public class Null { }\n    }\n}\n",
    "src/Shared/Prices.cs": "namespace Acme.Web\n{\n    public static class Prices { }\n}\n",
    "src/Web/Other.cs": "namespace Acme.Other;\n\npublic class Unrelated { }\n",
    "Program.cs": "var app = 1;\n",
}


def test_csharp_using_directives_resolve_to_the_files_declaring_the_namespace():
    """C# had no imports: a type brought by ``using Acme.Billing;`` never reached the prompt. Namespaces do
    not follow folders: the files are those whose text declares the namespace."""
    text = ("using System;\nglobal using Acme.Billing;\nusing static Acme.Core.Guard;\nusing Chk = Acme.Core.Checks;\n"
            "using global::Acme.Core;\n\nnamespace Acme.Web.Controllers\n{\n    public class OrderController\n    {\n"
            "        void Post()\n        {\n            using var scope = Begin();\n"
            "            using (var x = Open()) { }\n            var i = new Invoice(Chk.Null);\n        }\n    }\n}\n")
    files = dict(_CS_FILES, **{"src/Web/Controllers/OrderController.cs": text})
    refs = imported_modules(text, "csharp")
    assert [(r.module, r.star) for r in refs] == [("System", True), ("Acme.Billing", True),
                                                  ("Acme.Core.Guard", False), ("Acme.Core.Checks", False),
                                                  ("Acme.Core", True)]  # not ``using var`` nor ``using (``
    assert "Invoice" in refs[1].names and refs[2].names == ("Guard",) and refs[3].names == ("Checks", "Null")
    index = path_index(files)
    languages.get("csharp").learn(index, files)
    current = "src/Web/Controllers/OrderController.cs"
    assert [resolve(r, current, index) for r in refs] == [
        [], ["src/Billing/Invoice.cs", "src/Billing/Legacy/Tax.cs"], ["src/Core/Guard.cs"], ["src/Core/Guard.cs"],
        ["src/Core/Guard.cs"]]
    # Its own namespace's and the enclosing ones' files (global included), the nearest folder first.
    assert languages.get("csharp").siblings(current, index) == ["src/Shared/Prices.cs", "Program.cs"]


def test_csharp_namespaces_follow_edits_and_read_no_file_known_by_name_only():
    """The namespace table is read once per workspace and again for the files whose text changed; the
    files a big workspace knows by name only are not read from disk for it."""
    from server.workspace import WorkspaceFiles

    read: list[str] = []
    texts = dict(_CS_FILES)
    names = frozenset(texts) | {"src/Far/Unread.cs"}
    index = path_index(names)
    ref = ImportRef("Acme.Other", (), "csharp", star=True)
    files = WorkspaceFiles(texts, names, lambda rel: read.append(rel) or "namespace Acme.Other;\n")
    languages.get("csharp").learn(index, files)
    assert resolve(ref, "Program.cs", index) == ["src/Web/Other.cs"] and read == []
    texts["src/Shared/Prices.cs"] = "namespace Acme.Other\n{\n    public static class Prices { }\n}\n"
    languages.get("csharp").learn(index, WorkspaceFiles(texts, names, files._read))
    assert resolve(ref, "Program.cs", index) == ["src/Shared/Prices.cs", "src/Web/Other.cs"] and read == []


def test_dart_imports_resolve_through_pubspec_relative_paths_exports_and_parts():
    """Dart had no imports: ``import 'package:shop/shop.dart';`` (lib/shop.dart of the package named in
    pubspec.yaml, which only exports src/...) and relative imports never reached the prompt."""
    text = ("import 'dart:async';\nimport 'package:shop/shop.dart';\nimport 'package:http/http.dart' as http;\n"
            "import '../util/format.dart' show formatPrice, Money;\nimport 'models.dart' as m hide Secret;\n\n"
            "class CartView {\n  final Cart cart;\n  Future<void> load() => http.get(m.url);\n}\n")
    files = {"app/pubspec.yaml": "name: shop\nversion: 1.0.0\n",
             "app/lib/shop.dart": "library shop;\n\nexport 'src/cart.dart';\nexport \"src/item.dart\" show Item;\n",
             "app/lib/src/cart.dart": "part 'cart_total.dart';\n\nclass Cart {}\n",
             "app/lib/src/cart_total.dart": "part of 'cart.dart';\n\nint total(Cart c) => 0;\n",
             "app/lib/src/item.dart": "class Item {}\n",
             "app/lib/util/format.dart": "String formatPrice(int c) => '';\n",
             "app/lib/ui/models.dart": "const url = '';\n", "app/lib/ui/cart_view.dart": text}
    refs = imported_modules(text, "dart")
    assert [(r.module, r.star) for r in refs] == [
        ("dart:async", True), ("package:shop/shop.dart", True), ("package:http/http.dart", False),
        ("../util/format.dart", False), ("models.dart", False)]
    assert "Cart" in refs[1].names and refs[2].names == ("get",) and refs[3].names == ("formatPrice", "Money")
    assert refs[4].names == ("url",)
    index = path_index(files)
    index.set_configs({"app/pubspec.yaml": files["app/pubspec.yaml"]})
    languages.get("dart").learn(index, files)
    current = "app/lib/ui/cart_view.dart"
    assert [resolve(r, current, index) for r in refs] == [
        [], ["app/lib/shop.dart", "app/lib/src/cart.dart", "app/lib/src/item.dart", "app/lib/src/cart_total.dart"],
        [], ["app/lib/util/format.dart"], ["app/lib/ui/models.dart"]]
    (part_of,) = imported_modules(files["app/lib/src/cart_total.dart"], "dart")
    assert resolve(part_of, "app/lib/src/cart_total.dart", index) == ["app/lib/src/cart.dart"]


def test_a_shift_or_a_heredoc_being_typed_does_not_hide_the_rest_of_the_file():
    """``1<<BITS`` (Ruby), ``$((1 << SHIFT))`` and ``tr a b <<<word`` (shell) opened a heredoc whose
    terminator never came: every definition below it was blanked away."""
    ruby = "class Flags\n  def mask\n    1<<BITS\n  end\n\n  def clear\n    0\n  end\nend\n"
    assert defined_names(ruby, "ruby") == {"Flags", "mask", "clear"}
    assert extract(ruby, "ruby", ["clear"], 4000).text == "class Flags\n\n  def clear\n    0\n  end"
    shell = ("mask() {\n  echo $((1 << SHIFT))\n  tr a b <<<word\n}\n\nclear_all() {\n  echo 0\n}\n"
             "usage() {\n  cat <<-EOF\n\tclear_none() {\n\tEOF\n}\n")
    assert defined_names(shell, "shellscript") == {"mask", "clear_all", "usage"}
    assert extract(shell, "shellscript", ["clear_all"], 4000).text == "clear_all() {\n  echo 0\n}"


def test_a_ruby_modifier_after_a_string_opens_no_block():
    """``@name += "-#{x}" if x`` read as ``@name +=   if x`` once the string was blanked: the ``if`` opened
    a block, and every definition below the line sat one level deeper than it is."""
    text = ("class Runtime\n  def initialize(app, name = nil)\n    @header_name = \"X-Runtime\"\n"
            "    @header_name += \"-#{name}\" if name\n    @app = app\n  end\n\n  def call(env)\n    @app.call(env)\n"
            "  end\nend\n")
    other = "\nclass Other\nend\n"
    assert extract(text + other, "ruby", ["Runtime"], 4000).text == text.rstrip("\n")
    assert extract(text + other, "ruby", ["Other"], 4000).text == "class Other\nend"


def test_ruby_modifiers_after_return_and_a_bang_method_open_no_block():
    """``return if @closed`` and ``save! if valid?`` opened a block: the method's ``end`` then closed that
    instead, and the next definitions were cut wrong."""
    text = ("class BodyProxy\n  def close\n    return if @closed\n    @closed = true\n  end\n\n"
            "  def save\n    record.save! if valid?\n    reload? unless fresh\n  end\nend\n\nclass Other\nend\n")
    lines = text.split("\n")
    assert extract(text, "ruby", ["BodyProxy"], 4000).text == "\n".join(lines[:11])
    assert extract(text, "ruby", ["save"], 4000).text == lines[0] + "\n\n" + "\n".join(lines[6:10])


def test_ruby_literals_and_regular_expressions_do_not_shift_the_blocks():
    """``%w[if do end]``, ``%r{\\\\"}``, ``/[#{d}] */`` (its ``#`` read as a comment, hiding the line's ``do``),
    a string over two lines holding ``do``, ``"#{h["if"]}"`` and an ``__END__`` section's ``def`` moved the
    ``end``s of every definition below them."""
    text = ("module Multipart\n  WORDS = %w[if do end begin]\n  CHAR = %r{[^ \\\\\"/\\[\\]]}\n"
            "  def split(qs, d)\n    qs.split(/[#{d}] */n).each do |p|\n      p\n    end\n  end\n\n"
            "  def message\n    \"please\n      do this\"\n  end\n\n  def key(h)\n    \"#{h[\"if\"]} end\"\n  end\n\n"
            "  def sep\n    $/\n  end\nend\n__END__\ndef data\n  if x\n")
    lines = text.split("\n")
    assert extract(text, "ruby", ["split"], 4000).text == lines[0] + "\n\n" + "\n".join(lines[3:8])
    assert extract(text, "ruby", ["sep"], 4000).text == lines[0] + "\n\n" + "\n".join(lines[18:21])
    assert extract(text, "ruby", ["Multipart"], 4000).text == "\n".join(lines[:22])
    assert "data" not in defined_names(text, "ruby")


def test_a_ruby_setter_is_no_endless_method():
    """``def port=(v)`` was read as an endless method (``def port = 80``): its ``end`` closed the class."""
    text = ("class Response\n  def port=(value)\n    @port = value\n  end\n\n  def self.limit=(v); end\n\n"
            "  def port = 80\n  def add(x) = x + 1\n\n  def status\n    200\n  end\nend\n\nclass Other\nend\n")
    lines = text.split("\n")
    assert extract(text, "ruby", ["Response"], 4000).text == "\n".join(lines[:14])
    assert extract(text, "ruby", ["status"], 4000).text == lines[0] + "\n\n" + "\n".join(lines[10:13])


def test_a_rails_apps_files_see_the_whole_app_folder():
    """Zeitwerk loads ``app/models/user.rb`` as ``User`` with no require: a controller saw only the other
    controllers, so ``User`` never reached its prompt; a spec saw only its own folder."""
    files = {"app/models/user.rb": "class User < ApplicationRecord\n  def admin?\n    role == \"admin\"\n  end\nend\n",
             "app/models/concerns/searchable.rb": "module Searchable\nend\n",
             "app/controllers/users_controller.rb": "", "app/controllers/application_controller.rb": "",
             "lib/tasks/seed.rb": "", "spec/models/user_spec.rb": "", "config/application.rb": "",
             "Gemfile": ""}
    index = path_index(files)
    siblings = languages.get("ruby").siblings
    assert siblings("app/controllers/users_controller.rb", index) == [
        "app/controllers/application_controller.rb", "app/models/user.rb", "app/models/concerns/searchable.rb",
        "lib/tasks/seed.rb"]
    assert siblings("spec/models/user_spec.rb", index) == [
        "app/controllers/application_controller.rb", "app/controllers/users_controller.rb", "app/models/user.rb",
        "lib/tasks/seed.rb", "app/models/concerns/searchable.rb"]
    assert siblings("lib/tasks/seed.rb", index) == []  # a gem's (or an app's) lib: its own files
    text = "class UsersController < ApplicationController\n  def index\n    @users = User.where(admin: true)\n"
    files["app/controllers/users_controller.rb"] = text
    snippets = select_context("app/controllers/users_controller.rb", text, 2, files, [], None, 4000, (0, 3))
    assert any("class User < ApplicationRecord" in s.text for s in snippets)


def test_a_big_ruby_library_gives_the_nearest_files_as_siblings():
    """Every file of a 2,000-file ``lib`` was a sibling, each read for its names on every keystroke (past
    the parse caches: seconds a keystroke); the nearest folders' files are kept."""
    from fim.languages.ruby import MAX_SIBLINGS
    files = {f"lib/gem/far/part{k // 50}/f{k}.rb": "" for k in range(2000)}
    files.update({"lib/gem/base/request.rb": "", "lib/gem/base/utils.rb": "", "lib/gem.rb": ""})
    found = languages.get("ruby").siblings("lib/gem/base/request.rb", path_index(files))
    assert len(found) == MAX_SIBLINGS
    assert found[:2] == ["lib/gem/base/utils.rb", "lib/gem.rb"]


def test_lua_require_aliases_are_read_in_one_pass_over_the_file():
    """Each ``local x = require ...`` searched the whole file for ``x.name`` again (60 requires in a
    20,000-line file: 4 s a keystroke); one pass reads them all, and ``opts.utils.join`` (a field named
    like the alias) is no use of the required ``utils``."""
    text = ("local utils = require 'pl.utils'\nlocal tablex = require 'pl.tablex'\n"
            "local s = utils.split(x)\nlocal j = opts.utils.join(y)\nlocal k = tablex.keys(t)\n"
            "local m = tablex:map(f)\n")
    assert [(r.module, r.names) for r in imported_modules(text, "lua")] == [
        ("pl.utils", ("split",)), ("pl.tablex", ("keys", "map"))]


def test_lua_optional_requires_through_pcall_are_imports():
    """``local ok, config = pcall(require, "deepfim.config")`` (how a Neovim plugin loads an optional
    module) brought nothing: ``config.get`` found no definition."""
    text = ("local ok, config = pcall(require, \"deepfim.config\")\nif not ok then return end\n"
            "local has_ts, parsers = pcall(require, 'nvim-treesitter.parsers')\nlocal c = config.get()\n")
    files = {"lua/deepfim/config.lua": "local M = {}\nfunction M.get()\n  return {}\nend\nreturn M\n"}
    refs = imported_modules(text, "lua")
    assert [(r.module, r.names) for r in refs] == [("deepfim.config", ("get",)), ("nvim-treesitter.parsers", ())]
    assert resolve(refs[0], "lua/deepfim/init.lua", path_index(files)) == ["lua/deepfim/config.lua"]


def test_shell_source_with_an_end_of_options_mark_sources_the_file():
    """``source -- "$DIR/lib.sh"`` was read as sourcing a file named ``--``."""
    text = "#!/bin/bash\nsource -- \"$DIR/lib.sh\" arg1\n. -- ./util.sh\n"
    files = {"scripts/lib.sh": "", "scripts/util.sh": ""}
    refs = [r for r in imported_modules(text, "shellscript") if r.module]
    assert [r.module for r in refs] == ["$DIR/lib.sh", "./util.sh"]
    assert [resolve(r, "scripts/main.sh", path_index(files)) for r in refs] == [["scripts/lib.sh"], ["scripts/util.sh"]]


def test_perl_imports_parents_and_called_packages_with_the_names_used():
    """Perl had no entry: ``use``, ``require``, a parent class and a package called by name brought nothing."""
    text = ("package Plack::Middleware::Static;\nuse strict;\nuse warnings;\n"
            "use parent -norequire, 'Plack::Component';\n"
            "use base qw(Exporter Plack::Base);\nuse Plack::Util qw(load_class $TRUE);\nuse Plack::App::File;\n"
            "require Plack::Loader;\nuse Mojo::Base 'Mojo::EventEmitter', -signatures;\nextends 'Dancer2::Core';\n"
            "with 'Role::A', 'Role::B';\nno strict 'refs';\n# use Commented::Out;\nmy $doc = <<\"EOF\";\n"
            "use In::Heredoc;\nEOF\n\nsub call {\n    my $self = shift;\n    my $file = Plack::App::File->new;\n"
            "    $file->serve($self->root);\n    Plack::MIME::mime_type('x.css');\n    load_class('X');\n"
            "    return $self->call_app;\n}\n1;\n__END__\n\n=head1 SYNOPSIS\n\n  use In::Pod;\n")
    refs = imported_modules(text, "perl")
    assert [(r.module, r.names) for r in refs] == [
        ("Plack::Component", ("root", "call_app")), ("Exporter", ("root", "call_app")),
        ("Plack::Base", ("root", "call_app")), ("Plack::Util", ("load_class", "TRUE")),
        ("Plack::App::File", ("new", "serve")), ("Plack::Loader", ()), ("Mojo::Base", ()),
        ("Mojo::EventEmitter", ("root", "call_app")), ("Dancer2::Core", ("root", "call_app")),
        ("Role::A", ("root", "call_app")), ("Role::B", ("root", "call_app")), ("Plack::MIME", ("mime_type",))]
    assert [r.line for r in refs] == [3, 4, 4, 5, 6, 7, 8, 8, 9, 10, 10, 21]
    # A statement being typed (no `;` yet) is its line, not the rest of the file
    assert [(r.module, r.names) for r in imported_modules("use Half::Typed\nsub f { return 'x' }\n", "perl")] == [
        ("Half::Typed", ())]
    # mro's ``$self->next::method`` is no method ``next`` (DBIx::Class: it sent ResultSet.pm's ``sub next``, not the
    # parent class's file)
    c3 = ("package DBIx::Class::Storage::DBI::NoBindVars;\nuse base 'DBIx::Class::Storage::DBI';\nuse mro 'c3';\n"
          "sub connect { my $self = shift; $self->next::method(@_); $self->maybe::next::method; $self->_get_dbh }\n")
    assert [(r.module, r.names) for r in imported_modules(c3, "perl")] == [("DBIx::Class::Storage::DBI", ("_get_dbh",))]


def test_perl_modules_resolve_under_lib_t_lib_and_the_package_root():
    files = {"lib/Plack/Util.pm": "", "lib/Plack/App/File.pm": "", "t/lib/Test/Helper.pm": "", "Shop/Cart.pm": "",
             "usr/share/perl5/Mojo/File.pm": "", "usr/share/perl5/Mojo/Util.pm": "", "lib/strict.pm": "",
             "bin/tool.pl": "", "bin/common.pl": "", "other/lib/Other/Thing.pm": ""}
    index = path_index(files)

    def found(module: str, current: str) -> list[str]:
        return resolve(ImportRef(module, (), "perl"), current, index)

    assert found("Plack::Util", "lib/Plack/Middleware/Static.pm") == ["lib/Plack/Util.pm"]
    assert found("Plack::App::File", "t/app.t") == ["lib/Plack/App/File.pm"]
    assert found("Test::Helper", "t/app.t") == ["t/lib/Test/Helper.pm"]
    assert found("Shop::Cart", "script/run.pl") == ["Shop/Cart.pm"]  # the distribution's root
    assert found("Mojo::Util", "usr/share/perl5/Mojo/File.pm") == ["usr/share/perl5/Mojo/Util.pm"]  # its package root
    assert found("Other::Thing", "lib/Plack/Util.pm") == ["other/lib/Other/Thing.pm"]  # another lib of the workspace
    assert found("./common.pl", "bin/tool.pl") == ["bin/common.pl"]  # ``require "./common.pl"``
    assert found("strict", "lib/Plack/Util.pm") == [] and found("Carp", "lib/Plack/Util.pm") == []


def test_perl_definitions_by_brace_depth_past_literals_pod_and_heredocs():
    """Braces in ``qw()``, ``q{}``, ``s{}{}``, ``m{}``, regular expressions, strings, comments, POD and heredocs
    must not shift the subs; ``$#array`` is no comment."""
    text = ("package Shop::Cart;\nuse Moo;\nuse constant TAX => 0.2;\nuse constant {\n    MAX => 10,\n"
            "    'MIN' => 1,\n};\nour $VERSION = '1.0';\nour @EXPORT_OK = qw( { total );\n"
            "has items => (is => 'ro');\nhas 'owner' => (is => 'rw');\nhas [qw(tax discount)] => (is => 'ro');\n\n"
            "=head1 METHODS\n\nsub in_pod {\n\n=cut\n\n# Sum the items {\nsub total :lvalue ($self, $rate = 1) {\n"
            "    my $n = $#{ $self->items };\n    (my $s = $self->owner) =~ s{\\{}{(}g;\n"
            "    return 0 if $s =~ m{\\{};\n    my $text = <<~\"EOF\";\n      sub in_heredoc {\n      EOF\n"
            "    my @w = split /{/, q{a{b}};\n    $n++ if $s =~ /}/;\n    return $n / 2 / 1;\n}\n\n"
            "package Shop::Cart::Item {\n    sub price { $_[0]{price} }\n}\n\nsub last_one { 1 }\n1;\n"
            "__END__\nsub after_end {\n")
    lines = text.split("\n")
    assert defined_names(text, "perl") == {"Shop::Cart", "Cart", "TAX", "MAX", "MIN", "VERSION", "EXPORT_OK",
                                           "items", "owner", "tax", "discount", "total", "Shop::Cart::Item", "Item",
                                           "price", "last_one"}
    assert extract(text, "perl", ["total"], 4000).text == "\n".join(lines[19:31])
    assert extract(text, "perl", ["price"], 4000).text == lines[32] + "\n\n" + lines[33]  # with its package's head
    assert extract(text, "perl", ["last_one"], 4000).text == lines[36]
    assert extract(text, "perl", ["MAX"], 4000).text == "\n".join(lines[3:7])


def test_a_ruby_namespace_wrapper_is_outlined_through_to_its_class():
    """A gem wraps each file's one class in its namespace (``module Rack`` around ``module Utils``): a name
    used of the wrapper (every file uses ``Rack``) cut the file to ``module Rack`` / ``module Utils`` / ``...``,
    which hid the classes and constants it holds (``HeaderHash``), or was dropped as a repeat of the others."""
    methods = "".join(f"    def helper{k}(value)\n      value.to_s * {k}\n    end\n\n" for k in range(12))
    text = ("module Rack\n  # A grab-bag of helpers.\n  module Utils\n    DEFAULT_SEP = /[&;] */n\n" + methods +
            "    class HeaderHash < Hash\n      def [](key)\n        super(key.downcase)\n      end\n    end\n"
            "  end\nend\n")
    cut = extract(text, "ruby", ["Rack"], 4000)
    lines = cut.text.split("\n")
    assert lines == ["module Rack", "  module Utils", "    DEFAULT_SEP = /[&;] */n", "    ...",
                     "    class HeaderHash < Hash", "  end", "end"]


def test_a_shell_script_sees_the_workspace_functions_it_runs_without_sourcing_them():
    """A hook run by a script that sourced the library first (or whose ``type getarg || . /lib/dracut-lib.sh``
    is still being typed) calls ``getarg`` without a source: dracut-lib.sh never reached its prompt. A function
    every plugin defines (``install``) names none of them."""
    library = "getarg() {\n    echo \"$1\"\n}\n\ngetargbool() {\n    getarg \"$@\"\n}\n"
    plugin = "install() {\n    inst_hook cmdline 30 \"$moddir/hook.sh\"\n}\n"
    files = {"modules.d/99base/dracut-lib.sh": library, "modules.d/90x/hook.sh": "",
             **{f"modules.d/9{k}p/module-setup.sh": plugin for k in range(5)}}
    text = "#!/bin/sh\n# getcmdline is not run\nif getargbool 0 rd.x; then\n    v=\"$(getarg rd.y)\"\n    install\nfi\n"
    files["modules.d/90x/hook.sh"] = text
    snippets = select_context("modules.d/90x/hook.sh", text, 4, files, [], None, 4000, (0, 5))
    assert [s.source for s in snippets] == ["modules.d/99base/dracut-lib.sh"]
    assert "getarg() {" in snippets[0].text and "getargbool() {" in snippets[0].text
    from fim.languages.shell import CALLED
    called = [r for r in imported_modules(text, "shellscript") if r.module == CALLED]
    assert called and called[0].names == ("getargbool", "getarg", "install")


def test_php_functions_and_constants_imported_by_name_reach_the_prompt():
    """``use function Acme\\Util\\money;`` was looked up as a class file (``Util/money.php``) and found
    nothing: a function lives in any file of its namespace's folder; ``const SCALE`` defined no name."""
    files = {"composer.json": '{"autoload": {"psr-4": {"Acme\\\\": "src/"}}}',
             "src/Util/functions.php": ("<?php\nnamespace Acme\\Util;\n\nconst SCALE = 100;\n\n"
                                        "function money(int $cents): string\n{\n    return (string) $cents;\n}\n"),
             "src/Util/Other.php": "<?php\nnamespace Acme\\Util;\n\nclass Other\n{\n}\n"}
    text = ("<?php\nnamespace Acme;\n\nuse function Acme\\Util\\money;\nuse const Acme\\Util\\SCALE;\n\n"
            "class Cart\n{\n    public function total(): string\n    {\n        return money(SCALE);\n    }\n}\n")
    files["src/Cart.php"] = text
    snippets = select_context("src/Cart.php", text, 10, files, [], None, 4000, (0, 14))
    found = next(s.text for s in snippets if s.source == "src/Util/functions.php")
    assert "function money(int $cents): string" in found and "const SCALE = 100;" in found


def test_a_ruby_file_loaded_for_one_class_brings_the_others_it_defines():
    """``autoload :MockRequest, "rack/mock"`` asked mock.rb for MockRequest alone: the MockResponse it loads
    too (Ruby loads the whole file), being typed in the next autoload line, never reached the prompt."""
    mock = ("module Rack\n  class MockRequest\n    def initialize(app)\n      @app = app\n    end\n  end\n\n"
            "  class MockResponse < Rack::Response\n    def initialize(status)\n      @status = status\n"
            "    end\n  end\nend\n")
    text = "module Rack\n  autoload :MockRequest, \"rack/mock\"\n  autoload :\nend\n"
    files = {"lib/rack/mock.rb": mock, "lib/rack.rb": text}
    snippets = select_context("lib/rack.rb", text, 2, files, [], None, 4000, (0, 4))
    found = next(s.text for s in snippets if s.source == "lib/rack/mock.rb")
    assert "  class MockRequest" in found and "  class MockResponse < Rack::Response" in found


def test_python_head_is_the_first_tier_and_renderings_are_remembered():
    # A stub's class (methods ending ``: ...``, overloads), a long assignment, a short one, a decorated function.
    methods = "\n".join(f"    @overload\n    def m{k}(self, x: int) -> int: ...\n    def _p{k}(self) -> None: ..."
                        for k in range(30))
    text = (f"class RandomState:\n    \"\"\"State.\"\"\"\n{methods}\n\nTABLE = [\n    1,\n    2,\n    3,\n]\nX = 1\n\n"
            "@decorate\ndef f(a,\n      b):\n    \"\"\"Do it.\n\n    More.\n    \"\"\"\n    return a\n")
    model = languages.get("python").model(text, text.split("\n"))
    blocks = [(s, e) for s, e, n in model._blocks() if n is not None]
    assert len(blocks) == 4
    for s, e in blocks:
        assert model.head(s, e) == model.tiers(s, e)[0]
        assert model.head(s, e) is model.head(s, e)  # remembered
        assert model.brief(s, e) is model.brief(s, e)
    assert model.head(*blocks[0]) == "class RandomState:\n    ..."


def test_python_stub_methods_end_on_their_own_line():
    """A stub's ``def f(x) -> int: ...`` ends its signature on its own line: the signature ran on to the next blank
    line (every method after it taken as its signature, a private one included in the brief, ``...`` added)."""
    text = ("class RandomState:\n    def __init__(self, seed: int = ...) -> None: ...\n"
            "    def random(self, size: None = ...) -> float: ...\n    def _private(self) -> None: ...\n"
            "    @overload\n    def normal(self, loc: float = ..., d={1: 2}) -> float: ...\n"
            "    def call(self, f: Callable[[int], str] = lambda x: str(x)) -> dict[str, int]:\n"
            "        \"\"\"Call it.\n\n        More.\n        \"\"\"\n        return {}\n\n"
            "def top(x: int) -> int: ...\n")
    model = languages.get("python").model(text, text.split("\n"))
    assert [model._header_end(i, 12) for i in (1, 2, 3, 5, 6)] == [2, 3, 4, 6, 7]
    assert model.brief(0, 12) == (
        "class RandomState:\n\n    def __init__(self, seed: int = ...) -> None: ...\n\n"
        "    def random(self, size: None = ...) -> float: ...\n\n    @overload\n"
        "    def normal(self, loc: float = ..., d={1: 2}) -> float: ...\n\n"
        "    def call(self, f: Callable[[int], str] = lambda x: str(x)) -> dict[str, int]:\n"
        "        \"\"\"Call it.\"\"\"\n        ...")
    # numpy's overloads: the whole signature over its lines (it was cut to ``def norm(`` and ``...``), no body added
    text = ("@overload\ndef norm(\n    x: ArrayLike,\n    ord: None | L[\"fro\"] = ...,\n) -> floating[Any]: ...\n"
            "@overload\ndef norm(\n    x: ArrayLike,\n    axis: tuple[int, ...] = ...,\n) -> Any: ...\n\nX = 1\n")
    model = languages.get("python").model(text, text.split("\n"))
    blocks = [(s, e) for s, e, n in model._blocks() if n == "norm"]
    assert [model.head(s, e) for s, e in blocks] == [
        "@overload\ndef norm(\n    x: ArrayLike,\n    ord: None | L[\"fro\"] = ...,\n) -> floating[Any]: ...",
        "@overload\ndef norm(\n    x: ArrayLike,\n    axis: tuple[int, ...] = ...,\n) -> Any: ..."]
    assert [model.brief(s, e) for s, e in blocks] == [model.head(s, e) for s, e in blocks]


def test_python_brief_gives_each_name_its_first_overload_before_any_second() -> None:
    """numpy's linalg.pyi: ``inv``'s overloads filled the room before ``norm``, asked for too, was reached."""
    overloads = "".join(f"@overload\ndef inv(a: Array{k}, b: int = ...) -> Result{k}: ...\n" for k in range(4))
    text = f"{overloads}\n@overload\ndef norm(x: ArrayLike) -> float: ...\n@overload\ndef norm(x: int) -> int: ...\n"
    first = "@overload\ndef inv(a: Array0, b: int = ...) -> Result0: ..."
    norm = "@overload\ndef norm(x: ArrayLike) -> float: ..."
    got = brief(text, "python", ["inv", "norm"], 3 * len(first) + 2 * 2 + 5)  # room for three of inv's
    assert got.text.split("\n\n")[:2] == [first, "@overload\ndef inv(a: Array1, b: int = ...) -> Result1: ..."]
    assert got.text.endswith(norm) and "Array2" not in got.text  # file order; the room held one more overload
    assert brief(text, "python", ["inv", "norm"], 10_000).text.count("@overload") == 6  # all where they fit


def test_a_bare_brief_gives_each_names_signature_alone() -> None:
    """The member's names past those its snippet shows (`fim.context`'s MORE_NAMES): no documentation above them,
    a Python name's first overload only."""
    ts = ("/**\n * Returns foo.\n * @param x the input\n */\nexport declare function foo(x: number): string;\n\n"
          "/** Returns bar. */\nexport declare function bar(): void;\n")
    assert brief(ts, "typescript", ["foo", "bar"], 1000).text.startswith("/**")
    assert brief(ts, "typescript", ["foo", "bar"], 1000, bare=True).text == (
        "export declare function foo(x: number): string;\n\nexport declare function bar(): void;")
    lua = "--- Gets the window's info.\n--- @param winid integer\nfunction vim.fn.getwininfo(winid) end\n"
    assert brief(lua, "lua", ["getwininfo"], 1000, bare=True).text == "function vim.fn.getwininfo(winid) end"
    overloads = "".join(f"@overload\ndef inv(a: Array{k}) -> Result{k}: ...\n" for k in range(3))
    assert brief(overloads, "python", ["inv"], 1000, bare=True).text == "@overload\ndef inv(a: Array0) -> Result0: ..."


def test_the_names_marked_deprecated_above_their_definitions() -> None:
    from fim.symbols import deprecated_names

    lua = "--- @deprecated\n--- @param buf integer\nfunction vim.api.nvim_buf_get_option(buf, name) end\n" \
          "--- Sets it.\nfunction vim.api.nvim_set_option_value(name, value, opts) end\n"
    assert deprecated_names(lua, "lua") == {"nvim_buf_get_option"}
    go = "package p\n\n// Deprecated: use New.\nfunc (c *Cmd) Old(a int) error {\n\treturn nil\n}\n\nfunc New() {}\n"
    assert deprecated_names(go, "go") == {"Old"}
    ts = "export declare namespace ts {\n    /**\n     * Old.\n     * @deprecated Use bar.\n     */\n" \
         "    function foo(x: number): string;\n    /** @deprecated */\n    type Alias = string;\n" \
         "    enum K {\n        /** @deprecated */\n        Node = 1,\n        Ok = 2,\n    }\n}\n"
    assert deprecated_names(ts, "typescript") == {"foo", "Alias", "Node"}
    java = "class A {\n    @Deprecated\n    public static String oldName(int x) { return null; }\n}\n" \
           "@Deprecated\npublic class Legacy {\n}\n"
    assert deprecated_names(java, "java") == {"oldName", "Legacy"}
    py = "import warnings\n\n@warnings.deprecated('use g')\ndef f(x):\n    return x\n\n# not deprecated: g\ndef g(x):\n" \
         "    return x\n"
    assert deprecated_names(py, "python") == {"f"}

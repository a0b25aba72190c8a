"""Rust and Go dependency layouts beyond Cargo's registry and Go's module cache: renamed Cargo dependencies,
``cargo vendor``, Cargo's git checkouts (`fim.crates`), renamed and path dependencies on workspace crates
(`fim.languages.rust`), go.work's modules and local replacements (`fim.gomodules`), written as the tools lay
them out in a tmp dir and read through the server's `InstalledFiles`."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.dependencies import installed_definitions
from fim.imports import ImportRef, imported_modules
from server.dependencies import InstalledFiles

INDEX = "index.crates.io-6f17d22bba15001f"
CRATES_IO = 'source = "registry+https://github.com/rust-lang/crates.io-index"'


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def rust_refs(text: str) -> list[ImportRef]:
    return imported_modules(text, "rust")


def lock(*packages: tuple[str, str, str, tuple[str, ...]]) -> str:
    """A Cargo.lock of (name, version, source line or "", dependencies)."""
    out = ["version = 3\n"]
    for name, version, source, deps in packages:
        entry = f'\n[[package]]\nname = "{name}"\nversion = "{version}"\n' + (source + "\n" if source else "")
        if deps:
            entry += "dependencies = [\n" + "".join(f' "{d}",\n' for d in deps) + "]\n"
        out.append(entry)
    return "".join(out)


def workspace(root: Path, monkeypatch, files: dict[str, str]) -> InstalledFiles:
    """The workspace `root`/ws holding `files`, CARGO_HOME `root`/cargo (made, maybe empty)."""
    (root / "cargo").mkdir(exist_ok=True)
    write(root / "ws", files)
    monkeypatch.setenv("CARGO_HOME", str(root / "cargo"))
    return InstalledFiles(None, lambda rel: root / "ws" / rel, 256 * 1024)


def test_a_renamed_dependency_is_its_package_at_the_version_it_asks_for(tmp_path: Path, monkeypatch) -> None:
    registry = tmp_path / "cargo" / "registry" / "src" / INDEX
    write(registry, {
        "rand-0.7.3/src/lib.rs": "pub fn old_random() -> u32 { 4 }\n",
        "rand-0.8.5/src/lib.rs": "pub fn random() -> u32 { 4 }\n",
        "serde-1.0.210/src/lib.rs": "pub trait Serialize {}\n",
        # a registry crate's own renamed dependency: ``pub use inner::Serialize``
        "wrapper-1.0.0/Cargo.toml": '[package]\nname = "wrapper"\n\n[dependencies]\n'
                                    'inner = { version = "1", package = "serde" }\n',
        "wrapper-1.0.0/src/lib.rs": "pub use inner::Serialize;\n",
    })
    files = workspace(tmp_path, monkeypatch, {
        "Cargo.toml": '[workspace]\nmembers = ["app"]\n\n[workspace.dependencies]\n'
                      'serde_crate = { package = "serde", version = "1.0" }\n',
        "Cargo.lock": lock(("app", "0.1.0", "", ("rand 0.7.3", "rand 0.8.5", "serde", "wrapper")),
                           ("rand", "0.7.3", CRATES_IO, ()), ("rand", "0.8.5", CRATES_IO, ()),
                           ("serde", "1.0.210", CRATES_IO, ()), ("wrapper", "1.0.0", CRATES_IO, ("serde",))),
        "app/Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\nrand = "0.8"\nwrapper = "1"\n'
                          'serde_crate = { workspace = true }\n\n[dependencies.rand-old]\npackage = "rand"\n'
                          'version = "0.7"\n',
    })
    document = ("use rand_old::old_random;\nuse rand::random;\nuse serde_crate::Serialize;\n"
                "use wrapper::Serialize as S;\n")
    got = [installed_definitions(ref, "app/src/main.rs", document, files) for ref in rust_refs(document)]
    assert got == [
        {f"cargo-registry/{INDEX}/rand-0.7.3/src/lib.rs": ["old_random"]},  # ``version = "0.7"``: not 0.8.5
        {f"cargo-registry/{INDEX}/rand-0.8.5/src/lib.rs": ["random"]},
        {f"cargo-registry/{INDEX}/serde-1.0.210/src/lib.rs": ["Serialize"]},  # [workspace.dependencies]
        {f"cargo-registry/{INDEX}/serde-1.0.210/src/lib.rs": ["Serialize"]},
    ]


VENDOR_CONFIG = ('[source.crates-io]\nreplace-with = "vendored-sources"\n\n'
                 '[source."git+https://github.com/o/r?branch=x"]\ngit = "https://github.com/o/r"\nbranch = "x"\n'
                 'replace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "vendor"\n')


def test_cargo_vendor_s_folders_hold_the_crates_at_their_locked_versions(tmp_path: Path, monkeypatch) -> None:
    files = workspace(tmp_path, monkeypatch, {
        ".cargo/config.toml": VENDOR_CONFIG,
        "Cargo.lock": lock(("app", "0.1.0", "", ("memchr 2.5.0", "log")),
                           ("memchr", "2.5.0", CRATES_IO, ()), ("memchr", "2.7.4", CRATES_IO, ()),
                           ("log", "0.4.22", CRATES_IO, ())),
        "app/Cargo.toml": '[package]\nname = "app"\n',
        # the highest version gets the crate's name, the others ``<name>-<version>``
        "vendor/memchr/Cargo.toml": '[package]\nedition = "2021"\nname = "memchr"\nversion = "2.7.4"\n'
                                    'authors = ["A <a@b.c>"]\n',
        "vendor/memchr/src/lib.rs": "pub fn memchr(n: u8, h: &[u8]) -> Option<usize> { None }\n",
        "vendor/memchr-2.5.0/Cargo.toml": '[package]\nname = "memchr"\nversion = "2.5.0"\n\n[lib]\n'
                                          'path = "lib/memchr.rs"\n',
        "vendor/memchr-2.5.0/lib/memchr.rs": "pub fn memchr(needle: u8) -> usize { 0 }\n",
        "vendor/log/Cargo.toml": '[package]  # a comment\nauthors = ["The Rust Project Developers"]\nname = "log"\n'
                                 'version = "0.4.22"\n',
        "vendor/log/src/lib.rs": "mod macros;\npub use macros::*;\n",
        "vendor/log/src/macros.rs": "macro_rules! info { () => {} }\n",
    })
    document = "use memchr::memchr;\nuse log::info;\n"
    got = [installed_definitions(ref, "app/src/main.rs", document, files) for ref in rust_refs(document)]
    assert got == [{"vendor/memchr-2.5.0/lib/memchr.rs": ["memchr"]}, {"vendor/log/src/macros.rs": ["info"]}]
    snippets = select_context("app/src/main.rs", document, 2, {"app/src/main.rs": document}, [], None, 8000,
                              (0, 2), installed=files)
    assert "pub fn memchr(needle: u8) -> usize" in {s.source: s.text for s in snippets}[
        "vendor/memchr-2.5.0/lib/memchr.rs"]


REV = "abcdef1234567890abcdef1234567890abcdef12"


def test_git_dependencies_resolve_in_cargos_checkout_of_the_locked_revision(tmp_path: Path, monkeypatch) -> None:
    checkouts = tmp_path / "cargo" / "git" / "checkouts"
    write(checkouts, {
        # a repository holding a workspace of crates; another repository's checkout named alike
        "tokio-1a2b3c4d5e6f7a8b/abcdef1/Cargo.toml": '[workspace]\nmembers = [\n  "tokio",\n  "crates/*",\n]\n',
        "tokio-1a2b3c4d5e6f7a8b/abcdef1/crates/tokio-util/Cargo.toml": '[package]\nname = "tokio-util"\n',
        "tokio-1a2b3c4d5e6f7a8b/abcdef1/crates/tokio-util/src/lib.rs": "pub mod codec;\n",
        "tokio-1a2b3c4d5e6f7a8b/abcdef1/crates/tokio-util/src/codec/mod.rs": "pub struct LinesCodec { max: usize }\n",
        "tokio-1a2b3c4d5e6f7a8b/0000000/Cargo.toml": '[package]\nname = "tokio-util"\n',
        "tokio-1a2b3c4d5e6f7a8b/0000000/src/codec.rs": "pub struct LinesCodec;\n",
        "tokio-stream-99aa88bb77cc66dd/abcdef1/Cargo.toml": '[package]\nname = "tokio-util"\n',
        # one crate at the repository's root, its revision abbreviated to 9 digits (7 were ambiguous)
        "single-0f0f0f0f0f0f0f0f/21fedcba0/Cargo.toml": '[package]\nname = "single"\n',
        "single-0f0f0f0f0f0f0f0f/21fedcba0/src/lib.rs": "pub fn one() -> u8 { 1 }\n",
    })
    files = workspace(tmp_path, monkeypatch, {
        "Cargo.lock": lock(
            ("app", "0.1.0", "", ("tokio-util", "single")),
            ("tokio-util", "0.7.12", f'source = "git+https://github.com/tokio-rs/tokio?branch=master#{REV}"', ()),
            ("single", "0.1.0", f'source = "git+https://github.com/o/single.git#{REV[::-1]}"', ())),
        "app/Cargo.toml": '[package]\nname = "app"\n',
    })
    document = "use tokio_util::codec::LinesCodec;\nuse single::one;\n"
    got = [installed_definitions(ref, "app/src/main.rs", document, files) for ref in rust_refs(document)]
    assert got == [{"cargo-git/tokio-1a2b3c4d5e6f7a8b/abcdef1/crates/tokio-util/src/codec/mod.rs": ["LinesCodec"]},
                   {"cargo-git/single-0f0f0f0f0f0f0f0f/21fedcba0/src/lib.rs": ["one"]}]
    snippets = select_context("app/src/main.rs", document, 2, {"app/src/main.rs": document}, [], None, 8000,
                              (0, 2), installed=files)
    assert "pub struct LinesCodec { max: usize }" in [s.text for s in snippets]


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file()}


def test_a_renamed_path_dependency_and_a_lib_name_resolve_in_the_workspace(tmp_path: Path) -> None:
    write(tmp_path, {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "crates/my-core/Cargo.toml": '[package]\nname = "my-core"\nversion = "0.1.0"\n',
        "crates/my-core/src/lib.rs": "pub mod thing;\n",
        "crates/my-core/src/thing.rs": "pub struct Thing { pub size: usize }\n",
        "crates/shapes/Cargo.toml": '[package]\nname = "shapes-pkg"\n\n[lib]\nname = "shapes"\n',
        "crates/shapes/src/lib.rs": "pub struct Circle { pub radius: f64 }\n",
        "crates/app/Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\n'
                                 'base = { path = "../my-core", package = "my-core" }\n'
                                 'shapes-pkg = { path = "../shapes" }\n',
    })
    document = "use base::thing::Thing;\nuse shapes::Circle;\n\nfn main() {\n    let t = Thing { size: 1 };\n}\n"
    files = read_tree(tmp_path) | {"crates/app/src/main.rs": document}
    snippets = select_context("crates/app/src/main.rs", document, 4, files, [], None, 8000, (0, 4))
    by_source = {s.source: s.text for s in snippets}
    assert "pub struct Thing { pub size: usize }" in by_source["crates/my-core/src/thing.rs"]
    assert "pub struct Circle { pub radius: f64 }" in by_source["crates/shapes/src/lib.rs"]


# ------------------------------------------------------------------------------------ Go: go.work, local replacements


def go_files(root: Path, gomod: Path, monkeypatch) -> InstalledFiles:
    monkeypatch.setenv("GOMODCACHE", str(gomod))
    return InstalledFiles(None, lambda rel: root / rel, 256 * 1024)


def go_got(text: str, current: str, files: InstalledFiles) -> dict[str, dict[str, list[str]]]:
    return {r.module: installed_definitions(r, current, text, files) for r in imported_modules(text, "go")}


def test_a_replacement_by_a_folder_beside_the_workspace_is_read_there(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, {
        # the editor opened svc/; its go.mod replaces example.com/lib by ../lib, beside it
        "svc/go.mod": "module example.com/svc\n\ngo 1.22\n\nrequire example.com/lib v1.2.0\n\n"
                      "replace example.com/lib v1.2.0 => ../lib\n",
        "lib/go.mod": "module example.com/lib\n\ngo 1.22\n",
        "lib/x/x.go": "package x\n\n// Y is the local fork's.\nfunc Y(n int) string { return \"\" }\n",
        "lib/x/x_test.go": "package x\n\nfunc Y() {}\n",
        "gomod/example.com/lib@v1.2.0/x/x.go": "package x\n\nfunc Y() {}\n",
    })
    text = 'package main\n\nimport "example.com/lib/x"\n\nfunc main() {\n\tx.Y(1)\n}\n'
    files = go_files(tmp_path / "svc", tmp_path / "gomod", monkeypatch)
    assert go_got(text, "cmd/main.go", files) == {"example.com/lib/x": {"../lib/x/x.go": ["Y"]}}
    snippets = select_context("cmd/main.go", text, 4, {"cmd/main.go": text}, [], None, 6000, (0, 7),
                              installed=files, language="go")
    assert "func Y(n int) string" in {s.source: s.text for s in snippets}["../lib/x/x.go"]
    assert "../lib/x/x.go" in files and "../lib/x/" in files and "../lib/x.txt" not in files  # Go's files only


def test_a_module_go_work_uses_comes_before_the_module_cache(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, {
        "ws/go.work": "go 1.22\n\nuse (\n\t./svc // the service\n\t../shared\n)\n\nuse ./tools\n\n"
                      "replace example.com/pinned v0.1.0 => ../forks/pinned\n",
        "ws/svc/go.mod": "module example.com/svc\n\ngo 1.22\n\nrequire (\n\texample.com/shared v1.2.0\n"
                         "\texample.com/shared/api v0.3.0\n\texample.com/pinned v0.1.0\n)\n",
        "shared/go.mod": "module example.com/shared\n\ngo 1.22\n",
        "shared/util/util.go": "package util\n\nfunc Trim(s string) string { return s }\n",
        "shared/api/go.mod": "module example.com/shared/api\n\ngo 1.22\n",  # a nested module, not used
        "gomod/example.com/shared@v1.2.0/util/util.go": "package util\n\nfunc Trim() {}\n",
        "gomod/example.com/shared/api@v0.3.0/api.go": "package api\n\ntype Client struct{}\n",
        "gomod/example.com/pinned@v0.1.0/p.go": "package pinned\n\nfunc Old() {}\n",
        "forks/pinned/go.mod": "module example.com/pinned\n",
        "forks/pinned/p.go": "package pinned\n\nfunc Old(n int) {}\n",
    })
    text = ('package main\n\nimport (\n\t"example.com/shared/util"\n\t"example.com/shared/api"\n'
            '\t"example.com/pinned"\n)\n\nfunc main() {\n\tutil.Trim("")\n\tvar c api.Client\n\tpinned.Old()\n}\n')
    files = go_files(tmp_path / "ws", tmp_path / "gomod", monkeypatch)
    assert go_got(text, "svc/main.go", files) == {
        "example.com/shared/util": {"../shared/util/util.go": ["Trim"]},  # go.work's ``use ../shared``
        "example.com/shared/api": {"go-modules/example.com/shared/api@v0.3.0/api.go": ["Client"]},
        "example.com/pinned": {"../forks/pinned/p.go": ["Old"]},  # go.work's replacement (svc's go.mod has none)
    }


def test_a_path_dependency_beside_the_workspace_is_read_there(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, {
        # the editor opened app/; its crates ``shared`` and ``util`` (renamed ``tools``) lie beside it
        "shared/Cargo.toml": '[package]\nname = "shared"\nversion = "0.2.0"\n',
        "shared/src/lib.rs": "pub mod geo;\n",
        "shared/src/geo.rs": "pub struct Point { pub x: f64, pub y: f64 }\n",
        "util/Cargo.toml": '[package]\nname = "util"\nversion = "0.1.0"\n\n[lib]\npath = "lib.rs"\n',
        "util/lib.rs": "pub fn clamp(v: f64) -> f64 { v }\n",
    })
    files = workspace(tmp_path, monkeypatch, {
        "Cargo.lock": lock(("app", "0.1.0", "", ("shared", "util")), ("shared", "0.2.0", "", ()),
                           ("util", "0.1.0", "", ())),
        "Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\nshared = { path = "../shared" }\n'
                      'tools = { path = "../util", package = "util" }\n',
    })
    document = "use shared::geo::Point;\nuse tools::clamp;\n"
    got = [installed_definitions(ref, "src/main.rs", document, files) for ref in rust_refs(document)]
    assert got == [{"../shared/src/geo.rs": ["Point"]}, {"../util/lib.rs": ["clamp"]}]
    assert "../shared/Cargo.toml" in files and "../util/Cargo.lock" not in files


def test_keys_above_the_workspace_climb_a_few_levels_and_into_no_hidden_folder(tmp_path: Path) -> None:
    # a go.work or a Cargo.toml is the repository's to write: ``use ../../../../..`` is not the whole disk
    root = tmp_path / "a" / "b" / "c" / "ws"
    write(tmp_path, {"a/b/c/ws/go.mod": "module example.com/ws\n", "a/b/c/lib/x.go": "package x\n",
                     "a/lib/x.go": "package x\n", "lib/x.go": "package x\n", "a/b/c/.cargo/x.rs": "fn x() {}\n"})
    files = InstalledFiles(None, lambda rel: root / rel, 256 * 1024)
    assert "../lib/x.go" in files and "../../../lib/x.go" in files and "../lib/" in files
    assert "../../../../lib/x.go" not in files and "../../../../lib/" not in files and "../../../../" not in files
    assert "../.cargo/x.rs" not in files

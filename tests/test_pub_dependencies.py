"""Dart's ``package:`` imports of packages outside the workspace, through pub's .dart_tool/package_config.json:
the library in the pub cache (or a path dependency), its exports (``show``/``hide``) and parts, the nearest
package root's versions, what the server refuses to read, and the definitions in a Project's context."""

from __future__ import annotations

import json
from pathlib import Path

from fim.context import select_context
from fim.dependencies import installed_definitions
from fim.imports import imported_modules
from fim.pubpackages import package_key
from server.dependencies import InstalledFiles
from server.project import Project

ASYNC = {  # a pub cache package: the library is nothing but exports
    "lib/async.dart": "library async;\n\nexport 'src/stream_group.dart';\n"
                      "export 'src/result/result.dart' show Result;\n"
                      "export 'src/cancel.dart' hide CancelInternal;\nexport 'package:collection/collection.dart' "
                      "show QueueList;\nexport 'dart:async';\n",
    "lib/src/stream_group.dart": "part 'stream_group_impl.dart';\n\n/// Merges streams.\n"
                                 "class StreamGroup<T> {\n  void add(Stream<T> s) {}\n}\n",
    "lib/src/stream_group_impl.dart": "part of 'stream_group.dart';\n\nconst int MAX_GROUP = 9;\n",
    "lib/src/result/result.dart": "abstract class Result<T> {\n  T get value;\n}\n\nclass ErrorResult {}\n",
    "lib/src/cancel.dart": "class CancelableOperation<T> {\n  Future<T> get value => throw 0;\n}\n\n"
                           "class CancelInternal {}\n",
}
COLLECTION = {"lib/collection.dart": "export 'src/queue_list.dart';\n",
              "lib/src/queue_list.dart": "class QueueList<E> {\n  void addLast(E e) {}\n}\n"}
APP = ("import 'dart:async';\nimport 'package:async/async.dart';\nimport 'package:util/util.dart' as u;\n\n"
       "void main() {\n  final g = StreamGroup<int>();\n  Result<int>? r;\n  ErrorResult? e;\n  CancelInternal? c;\n"
       "  final q = QueueList<int>();\n  print(MAX_GROUP);\n  u.helper();\n}\n")


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def pub_layout(tmp_path: Path, async_version: str = "2.11.0") -> Path:
    """A workspace ``ws`` with the package ``app`` whose package_config.json names async and collection in a pub
    cache (absolute ``file:`` URIs) and ``util``, a path dependency beside the workspace (``../../../util``)."""
    cache = tmp_path / "pub-cache" / "hosted" / "pub.dev"
    write(cache / f"async-{async_version}", ASYNC)
    write(cache / "collection-1.18.0", COLLECTION)
    write(tmp_path / "util", {"lib/util.dart": "int helper() => 1;\n", "lib/.env": "KEY=1\n"})
    config = {"configVersion": 2, "packages": [
        {"name": "async", "rootUri": (cache / f"async-{async_version}").as_uri(), "packageUri": "lib/"},
        {"name": "collection", "rootUri": (cache / "collection-1.18.0").as_uri(), "packageUri": "lib/"},
        {"name": "util", "rootUri": "../../../util", "packageUri": "lib/"},
        {"name": "app", "rootUri": "../", "packageUri": "lib/"}]}
    write(tmp_path / "ws" / "app", {".dart_tool/package_config.json": json.dumps(config),
                                    "pubspec.yaml": "name: app\n", "lib/main.dart": APP})
    return tmp_path / "ws"


def installed(root: Path) -> InstalledFiles:
    return InstalledFiles(None, lambda rel: root / rel, 256 * 1024)


def test_a_package_import_is_read_in_the_pub_cache_through_exports_and_parts(tmp_path: Path) -> None:
    files = installed(pub_layout(tmp_path))
    refs = {r.module: r for r in imported_modules(APP, "dart")}
    key = lambda name, path: package_key("app", name, path)  # noqa: E731
    assert installed_definitions(refs["package:async/async.dart"], "app/lib/main.dart", APP, files) == {
        key("async", "lib/src/stream_group.dart"): ["StreamGroup"],
        key("async", "lib/src/result/result.dart"): ["Result"],  # ErrorResult is not shown, CancelInternal hidden
        key("collection", "lib/src/queue_list.dart"): ["QueueList"],  # another package's library, re-exported
        key("async", "lib/src/stream_group_impl.dart"): ["MAX_GROUP"],  # a part of an exported library
    }
    assert installed_definitions(refs["package:util/util.dart"], "app/lib/main.dart", APP, files) == {
        key("util", "lib/util.dart"): ["helper"]}  # a path dependency: ``u.helper()``
    assert installed_definitions(refs["dart:async"], "app/lib/main.dart", APP, files) == {}  # the SDK's
    unknown = imported_modules("import 'package:http/http.dart';\n", "dart")[0]
    assert installed_definitions(unknown, "app/lib/main.dart", "Client c;", files) == {}  # not in the config
    assert installed_definitions(refs["package:async/async.dart"], "other/main.dart", APP, files) == {}  # no config


def test_only_files_inside_the_roots_the_config_names_are_read(tmp_path: Path) -> None:
    files = installed(pub_layout(tmp_path))
    assert key_text(files, package_key("app", "async", "lib/src/cancel.dart")).startswith("class CancelableOperation")
    assert package_key("app", "async", "../collection-1.18.0/lib/collection.dart") not in files
    assert package_key("app", "http", "lib/http.dart") not in files  # no such package in the config
    assert package_key("app", "util", "lib/.env") not in files  # a secret-looking file of a root
    assert package_key("other", "async", "lib/async.dart") not in files  # no package_config.json there
    assert "pub-packages/%2E%2E%2F/async/lib/async.dart" not in files  # a folder above the workspace
    assert "app/.dart_tool/package_config.json" in files and "app/lib/main.dart" not in files
    assert "app/pubspec.yaml" not in files


def key_text(files: InstalledFiles, key: str) -> str:
    return files[key] if key in files else ""


def test_each_package_root_reads_its_own_package_config(tmp_path: Path) -> None:
    root = pub_layout(tmp_path)
    other = tmp_path / "second"
    pub_layout(other, "2.12.0")
    (other / "pub-cache/hosted/pub.dev/async-2.12.0/lib/src/stream_group.dart").write_text(
        "class StreamGroup<T> {\n  void close() {}\n}\n", encoding="utf-8")
    write(root / "tool", {".dart_tool/package_config.json": (other / "ws/app/.dart_tool/package_config.json")
                          .read_text(encoding="utf-8")})
    files = installed(root)
    document = "import 'package:async/async.dart';\nStreamGroup<int>? g;\n"
    ref = imported_modules(document, "dart")[0]
    (newer,) = installed_definitions(ref, "tool/bin/run.dart", document, files)
    assert "void close()" in files[newer] and newer == package_key("tool", "async", "lib/src/stream_group.dart")
    (older,) = installed_definitions(ref, "app/lib/main.dart", document, files)
    assert "void add(" in files[older]


def test_the_definitions_are_in_a_projects_context(tmp_path: Path) -> None:
    root = pub_layout(tmp_path)
    snippets = select_context("app/lib/main.dart", APP, 6, {"app/lib/main.dart": APP}, [], None, 8000, (0, 12),
                              installed=installed(root))
    texts = {s.source: s.text for s in snippets}
    assert "class StreamGroup<T> {" in texts[package_key("app", "async", "lib/src/stream_group.dart")]
    project = Project([root], background=False)
    project.scan(10)
    provider = project.context(root / "app" / "lib" / "main.dart", APP, 6, language="dart")
    sources = {s.source: s.text for s in provider((0, 12), 8000)}
    assert "class QueueList<E> {" in sources[package_key("app", "collection", "lib/src/queue_list.dart")]
    assert "int helper() => 1;" in sources[package_key("app", "util", "lib/util.dart")]
    project.dependencies = False  # ``installedPackages``: false
    provider = project.context(root / "app" / "lib" / "main.dart", APP, 6, language="dart")
    assert not any(s.source.startswith("pub-packages/") for s in provider((0, 12), 8000))


def test_a_library_of_many_exports_is_read_further_at_each_request(tmp_path: Path, monkeypatch) -> None:
    """Flutter's material.dart: some 150 exports, widgets.dart's behind it; `MAX_FILES` files a request."""
    fillers = {f"lib/src/a{i}.dart": f"class Filler{i} {{}}\n" for i in range(8)}
    ui = "".join(f"export 'src/a{i}.dart';\n" for i in range(8)) + "export 'widgets.dart';\nexport 'src/text.dart';\n"
    write(tmp_path / "sdk" / "ui", {"lib/ui.dart": ui, "lib/widgets.dart": "export 'src/framework.dart';\n",
                                    "lib/src/framework.dart": "abstract class Widget {}\n",
                                    "lib/src/text.dart": "class Text {}\n", **fillers})
    config = {"configVersion": 2, "packages": [{"name": "ui", "rootUri": (tmp_path / "sdk" / "ui").as_uri(),
                                                "packageUri": "lib/"}]}
    write(tmp_path / "ws", {".dart_tool/package_config.json": json.dumps(config)})
    files = installed(tmp_path / "ws")
    monkeypatch.setattr("fim.pubpackages.MAX_FILES", 3)
    document = "import 'package:ui/ui.dart';\n\nclass Hello extends Widget {\n  Text build() => Text();\n}\n"
    ref = imported_modules(document, "dart")[0]
    framework, text = package_key("", "ui", "lib/src/framework.dart"), package_key("", "ui", "lib/src/text.dart")
    # the file named after a name used first (text.dart, the last export), then breadth first
    assert installed_definitions(ref, "bin/main.dart", document, files) == {text: ["Text"]}
    for _ in range(3):
        found = installed_definitions(ref, "bin/main.dart", document, files)
    assert found == {framework: ["Widget"], text: ["Text"]}
    # a name that moved to another file: the library is read again
    (tmp_path / "sdk/ui/lib/src/framework.dart").write_text("class Element {}\n", encoding="utf-8")
    (tmp_path / "sdk/ui/lib/src/a0.dart").write_text("abstract class Widget {}\n", encoding="utf-8")
    monkeypatch.setattr("server.dependencies.STAT_SECONDS", 0.0)
    assert installed_definitions(ref, "bin/main.dart", document, files) == {
        package_key("", "ui", "lib/src/a0.dart"): ["Widget"], text: ["Text"]}


def test_a_root_anywhere_gives_its_dart_files_only(tmp_path: Path) -> None:
    # a package_config.json is the repository's to write: a root may name any folder (/etc, ~), not a file there
    # that is not Dart's, nor a listing of it
    write(tmp_path / "elsewhere", {"hostname": "box\n", "notes.txt": "private\n", "lib/a.dart": "class A {}\n"})
    config = {"configVersion": 2, "packages": [
        {"name": "any", "rootUri": (tmp_path / "elsewhere").as_uri(), "packageUri": ""}]}
    write(tmp_path / "ws", {".dart_tool/package_config.json": json.dumps(config)})
    files = InstalledFiles(None, lambda rel: tmp_path / "ws" / rel, 256 * 1024)
    assert key_text(files, package_key("", "any", "lib/a.dart")) == "class A {}\n"
    for path in ("hostname", "notes.txt", "lib/", "lib"):
        assert package_key("", "any", path) not in files

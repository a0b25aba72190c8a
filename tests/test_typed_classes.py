"""A dependency's class name being typed under a Kotlin or Java package import (``Dispat|`` under
``import kotlinx.coroutines.*``, ``StringUt|`` under ``import org.apache.commons.lang3.*;``): the package's classes it
begins (`fim.typedclasses`, hooked in `fim.context`), in jars built here."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

from fim.context import select_context
from fim.imports import imported_modules
from fim.popular import ProjectUses
from fim.typedclasses import class_cursor_name, typed_class_definitions
from tests.test_java_dependencies import installed, jar, write
from tests.test_kotlin_facades import BUILD, DELAY_KT, JAR, PATH

# kotlinx-coroutines-core 1.0.1's ``kotlinx/coroutines/Dispatchers.class`` (Debian's libkotlinx-coroutines-java jar)
DISPATCHERS = zlib.decompress(base64.b64decode(
    "eNqVVFtT21YQ/o4QliwECJNwMdcmEC5NENCmpQ29EAiNg7FbTJh0eBL2CREYidGRGR55av9Hn/pYYKbppDMdhr71R3W6RzaYi8qAx3Muu9/ut7tn"
    "V//8++EvANNYY+jf9sOy6+3bRT/wK6HrcWEvuGLXCYvveCA0MAZry9lz7LLjbdr5jS1eDDU0MGgL/K1TKYcMo9kYJ/Nnx7q3ZwwPs36waW/xcCNw"
    "XE/Yjuf5oRO6Pp1zfpirlMuEaq+5HrqgZmgYHaOAO2pk9tbejv1qb6cg9UUyMjZ5eB7S+OjYbYMy0YhEEgqaKdNliuoyq0ZupZRhIt6nVMYnO/I/"
    "6Doo6zslHmhIUfilcynD47sQmbiH+0m0o4O8vPaKvveWACUqVf1yOaeJOPcv9nd54O5wL3TK5zRibtelTJqpCHVnJrqqFetlUDJ5hpZM/jJBI+Ez"
    "eRP9VdxHDIlZ13PDr008RNKAiiEGNXznEnYwe3MLEr2eyRVW53LzL+g4WyxHnhjazjphmYdOyQkdQio7ew3U2kwurXTdiK6QC7Us2yZRaYrhw8lB"
    "r6F0KYZinRwYiq5UL7p2tut//6R0nRxMK5PsuaYrp78kFEtZ6bUa0sqkOpN4c/qzSrIW4+QgpeqNlpJW9YSlEUCPAyQjgEGAtNVEAHNmsQYwSdsc"
    "aVusVjK34szbIkDK0k5/TbTLDKYZpQi12padtfI9qZdPHrlBhR8yMYoR+QRfMAzfNBDzvhfy/XCJZpvK2FkMuBPy2jjVH8PEVzANzILK3xfjrt4j"
    "Gr5lGMjeiHkmo3uexBzmGR7dblw1UBNMxGAFaUsVkm7atbALVYm0+Y5hMns3oyi4TBIv8crEoMz6JbLU6hc6c2KbvjQ9KxUvpLHJeHuucDfKfO7i"
    "IKjzfonTWC7w3YAXqaQ0lt01i7UYfGuW4spVdjZ4sOqQkiGV9YtOec0JXHmvCY2CXwmKfNEtc0zR66rU3yrS8ktGjZGnm9w12tNyVq/J+q/JumWj"
    "0G5YSehI0sR8T7dmVH/sMNp+iNaVmpkRmTXBpAAkuJdk8qceoeU3aYRCDQkq4AUyomi9C4WFtusUnVcpnl6h6CYK9XYUZ4bpiK4nLqO+q3SZK3QD"
    "d8loMI7iwVWKN5deSJGfTjpLK5t2iWgcf4/hw0hZN+vAKq1mFYBH0bPqGDs3zhBa6ob/hPLje8wsjR/jyz/wzTFajrBwgsVj9B1h6XcsH+PB4XlM"
    "qajLOiCnIUVOeig+Ba8j8lyU3y4hx4ny43U0ZPA4+j/BxNnNzmASU3TE9DqYwCf4dB33BEYEngokBRoFEgK6QJOAKdAvMCAwKPCZwH2BVgFLoE2g"
    "S6BboEfg8/8AaY3xWA=="
))
KEY = f"{JAR}.jar!/kotlinx/coroutines/Dispatchers.java"


def repository(tmp_path: Path) -> Path:
    """The jar: ``Dispatchers``, an internal class listed before it, a nested class, the facade ``DispatchersKt``."""
    maven = tmp_path / "m2"
    jar(maven / "org/jetbrains/kotlinx/kotlinx-coroutines-core/1.0.1/kotlinx-coroutines-core-1.0.1.jar",
        {"kotlinx/coroutines/DispatchedTask.class": DISPATCHERS.replace(b"Dispatchers", b"DispatchedT"),
         "kotlinx/coroutines/Dispatchers.class": DISPATCHERS,
         "kotlinx/coroutines/Dispatchers$Main.class": DISPATCHERS,
         "kotlinx/coroutines/DispatchersKt.class": DELAY_KT,
         "kotlinx/coroutines/DelayKt.class": DELAY_KT})
    write(tmp_path / "ws", {"build.gradle": BUILD})
    return maven


def typed(line: str, above: str = "") -> str:
    """A document importing ``kotlinx.coroutines.*`` whose last line is `line` (the cursor at its end)."""
    return f"package app\n\nimport kotlinx.coroutines.*\n\n{above}fun go() {{\n{line}"


def found(tmp_path: Path, document: str, limit: int = 4, workspace: tuple[str, ...] = (),
          files: dict[str, str] | None = None) -> dict[str, list[str]]:
    popularity = ProjectUses(files, PATH).files_using if files is not None else None
    return typed_class_definitions(document, imported_modules(document, "kotlin"), document, PATH,
                                   installed(tmp_path, repository(tmp_path)), workspace, limit, popularity)


def test_a_class_name_typed_under_a_package_import_brings_the_class_definition(tmp_path: Path) -> None:
    """``Dispat|`` -> the jar's ``Dispatchers`` (not its nested ``Dispatchers$Main`` nor the facade
    ``DispatchersKt``), its stub's class in the prompt's context as a class used by name comes."""
    internal = f"{JAR}.jar!/kotlinx/coroutines/DispatchedTask.java"
    assert found(tmp_path, typed("    val d = Dispat")) == {internal: ["DispatchedTask"], KEY: ["Dispatchers"]}
    assert found(tmp_path, typed("    val d = Dispatchers")) == {KEY: ["Dispatchers"]}  # the name typed whole first
    assert found(tmp_path, typed("    val d = Dispachers")) == {internal: ["DispatchedTask"], KEY: ["Dispatchers"]}
    document = typed("    withContext(Dispat")
    files = installed(tmp_path, repository(tmp_path))
    snippets = select_context(PATH, document, 5, {PATH: document}, [], None, 6000, (0, 5), installed=files,
                              cursor_character=len("    withContext(Dispat"))
    text = {s.source: s.text for s in snippets}[KEY]
    assert "public final class Dispatchers {" in text and "getIO()" in text


def test_the_workspaces_most_used_class_comes_before_the_listings_first(tmp_path: Path) -> None:
    """With room for one class, the one the workspace's other files use (``Dispatchers``) before ``DispatchedTask``
    that the jar lists first."""
    document = typed("    val d = Dis")
    assert found(tmp_path, document, 1) == {f"{JAR}.jar!/kotlinx/coroutines/DispatchedTask.java": ["DispatchedTask"]}
    other = "package app\n\nimport kotlinx.coroutines.*\n\nval io = Dispatchers.IO\n"
    assert found(tmp_path, document, 1, files={PATH: document, "src/main/kotlin/app/Io.kt": other}) == \
        {KEY: ["Dispatchers"]}


def test_a_class_the_file_or_its_workspace_imports_declare_brings_nothing(tmp_path: Path) -> None:
    assert found(tmp_path, typed("    val d = Dispatchers", above="object Dispatchers\n\n")) == {}
    assert found(tmp_path, typed("    val d = Dispatchers"), workspace=("package app\n\nclass Dispatchers\n",)) == {}
    own = found(tmp_path, typed("    val d = Dispat", above="class Dispatchers\n\n"))
    assert KEY not in own and list(own) == [f"{JAR}.jar!/kotlinx/coroutines/DispatchedTask.java"]
    assert found(tmp_path, typed("    val d = DI", above="const val DI = 1\n\n")) == {}  # a name of its own
    assert found(tmp_path, typed("    val d = Dispatchers.Ma")) == {}  # a member: `fim.member`'s
    receiver = "package app\n\nimport kotlinx.coroutines.*\n\nfun <T> Dispatch"  # a receiver's type, not a fun
    assert KEY in found(tmp_path, receiver)
    named = typed("    val d = Dispat").replace("kotlinx.coroutines.*", "kotlinx.coroutines.delay")
    assert found(tmp_path, named) == {}  # no package import


def test_the_class_name_typed_is_a_capitalized_identifier_outside_comments_strings_and_imports() -> None:
    assert class_cursor_name("    val d = Dispat") == "Dispat" and class_cursor_name("(Co") == "Co"
    for before in ("    D", "    x.Dispat", "    x?.Dis", "    ::Dis", "    // Dis", '    log("Dis',
                   "import kotlinx.Co", "    dis", "package Ab"):
        assert class_cursor_name(before) is None, before


def test_a_java_class_name_typed_under_a_package_import_brings_its_sources_outline(tmp_path: Path) -> None:
    """``StringUt|`` under ``import org.apache.commons.lang3.*;``: the sources jar's ``StringUtils.java``, its
    public members' outline as a class used by name that uses none of them."""
    source = ("package org.apache.commons.lang3;\n\npublic class StringUtils {\n"
              "    public static boolean isEmpty(CharSequence cs) { return cs == null; }\n"
              "    public static String trim(String s) { return s; }\n}\n")
    folder = tmp_path / "m2/org/apache/commons/commons-lang3/3.12.0"
    jar(folder / "commons-lang3-3.12.0.jar", {"org/apache/commons/lang3/StringUtils.class": b"not read"})
    jar(folder / "commons-lang3-3.12.0-sources.jar", {"org/apache/commons/lang3/StringUtils.java": source.encode(),
                                                      "org/apache/commons/lang3/package-info.java": b"package x;"})
    build = 'dependencies {\n    implementation "org.apache.commons:commons-lang3:3.12.0"\n}\n'
    write(tmp_path / "ws", {"build.gradle": build})
    files = installed(tmp_path, tmp_path / "m2")
    path = "src/main/java/app/Names.java"
    document = ("package app;\n\nimport org.apache.commons.lang3.*;\n\nclass Names {\n"
                "    String f(String s) { return StringUt")
    key = ("maven-repository/org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0-sources.jar!/"
           "org/apache/commons/lang3/StringUtils.java")
    assert typed_class_definitions(document, imported_modules(document, "java"), document, path, files) == \
        {key: ["isEmpty", "trim"]}
    snippets = select_context(path, document, 5, {path: document}, [], None, 6000, (0, 5), installed=files,
                              cursor_character=len("    String f(String s) { return StringUt"))
    assert "public static boolean isEmpty(CharSequence cs)" in {s.source: s.text for s in snippets}[key]


def test_the_benchmark_types_a_package_imports_class_as_its_first_and_only_use() -> None:
    """`fresh_call_tasks` of `package_class_tasks`' style ``jar-class``: ``NAME (fresh class, N typed)``."""
    from benchmarks.dependency_context import fresh_call_tasks, hole_task
    from benchmarks.repo_context import Definition

    lines = ["package app\n", "\n", "import kotlinx.coroutines.*\n", "\n", "fun go() {\n",
             "    val io = Dispatchers.IO\n", "    withContext(Dispatchers.Default) { }\n", "}\n"]
    definition = Definition(KEY, 2, "public final class Dispatchers {", "Dispatchers", "kotlinx.coroutines.Dispatchers")
    task = hole_task("kx", "src/a.kt", lines, 6, 16, "Dispatchers", definition, "jar-class", "kotlin")
    fresh, = fresh_call_tasks([task], 3, "jar-class", "class")
    assert fresh.package == "kx (fresh class, 3 typed)" and fresh.hole == "patchers.Default) { }"
    assert fresh.text.split("\n")[fresh.line][:fresh.column] == "    withContext(Dis"
    assert "Dispatchers" not in fresh.text
    assert fresh_call_tasks([task], 3) == []  # not a facade's call

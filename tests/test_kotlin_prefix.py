"""The Kotlin top-level function or property being typed under a package import (``lau|`` under
``import kotlinx.coroutines.*``): the package's facade names it begins (`fim.kotlinprefix`, hooked in
`fim.context`), in a jar built here."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.imports import imported_modules
from fim.kotlinprefix import cursor_name, typed_facade_definitions
from tests.test_java_dependencies import installed, jar, write
from tests.test_kotlin_facades import JAR, PATH, repository

SOURCES = f"{JAR}-sources.jar!/kotlinx/coroutines/Builders.common.kt"
DELAY = f"{JAR}.jar!/kotlinx/coroutines/DelayKt.java"


def typed(line: str, above: str = "") -> tuple[str, str]:
    """A document importing ``kotlinx.coroutines.*`` whose last line is `line` (the cursor at its end)."""
    document = f"package app\n\nimport kotlinx.coroutines.*\n\n{above}fun go(scope: CoroutineScope) {{\n{line}"
    return document, line


def found(tmp_path: Path, document: str, line: str) -> dict[str, list[str]]:
    files = installed(tmp_path, repository(tmp_path, sources=True))
    return typed_facade_definitions(line, imported_modules(document, "kotlin"), document, PATH, files)


def test_the_name_being_typed_under_a_package_import_brings_the_facades_names_it_begins(tmp_path: Path) -> None:
    """``lau|`` -> the sources jar's ``launch``; ``isLa|`` -> the property ``isLaunched``; ``del|`` -> the binary
    jar's ``DelayKt.delay`` (not its getter ``getDelay``), its member line in the prompt's context."""
    assert found(tmp_path, *typed("    scope.launch { }\n    lau")) == {SOURCES: ["launch"]}
    assert found(tmp_path, *typed("    if (job.isLa")) == {}  # a member after ``.``
    assert found(tmp_path, *typed("    val ok = isLa")) == {SOURCES: ["isLaunched"]}
    assert found(tmp_path, *typed("    del")) == {DELAY: ["delay"]}
    assert found(tmp_path, *typed("    launhc")) == {SOURCES: ["launch"]}  # a typo: the longest part some name begins
    document, line = typed("    del")
    files = installed(tmp_path, repository(tmp_path, sources=True))
    snippets = select_context(PATH, document, 5, {PATH: document}, [], None, 6000, (0, 6), installed=files,
                              cursor_character=len(line))
    text = {s.source: s.text for s in snippets}[DELAY]
    assert "public static final Object delay(long timeMillis" in text and "getDelay" not in text


def test_a_name_the_file_defines_or_uses_as_a_local_brings_nothing(tmp_path: Path) -> None:
    assert found(tmp_path, *typed("    la", above="val la = 1\n\n")) == {}
    assert found(tmp_path, *typed("    launch", above="fun Job.launch() = 1\n\n")) == {}  # its own, as a facade's
    assert found(tmp_path, *typed("    scope.launch { }\n    launch")) == {SOURCES: ["launch"]}
    assert found(tmp_path, *typed("    block.wi()\n    wi")) == {SOURCES: ["withContext"]}  # a member's name
    assert found(tmp_path, *typed("    val la = 2\n    println(la)\n    la")) == {}
    assert found(tmp_path, *typed("    items.forEach { wi -> println(wi) }\n    wi")) == {}
    assert found(tmp_path, *typed("    wi")) == {SOURCES: ["withContext"]}
    # a word of a comment or a string is not a local's use
    assert found(tmp_path, *typed('    // wi is wide\n    log("wi")\n    wi')) == {SOURCES: ["withContext"]}
    java = "package app;\n\nimport kotlinx.coroutines.*;\n\nclass Poll { void run() { lau"
    files = installed(tmp_path, repository(tmp_path, sources=True))
    assert typed_facade_definitions(java, imported_modules(java, "java"), java, "src/main/java/app/Poll.java",
                                    files) == {}


def test_the_identifier_typed_is_a_lowercase_name_outside_comments_strings_and_imports() -> None:
    assert cursor_name("    lau") == "lau" and cursor_name("x = withCon") == "withCon"
    assert cursor_name("    val d = as") == "as" and cursor_name("    is") == "is"  # ``async``, ``isActive``
    for before in ("    l", "    scope.lau", "    Dispatch", "    // lau", '    println("lau', "import kotlinx.co",
                   "    val", "    x?.lau", "    ::lau", "    return", "    val n = x as", "    if (x is"):
        assert cursor_name(before) is None, before


def test_a_name_quoted_with_backticks_is_no_name_being_typed() -> None:
    assert cursor_name("    fun `la") is None and cursor_name("    fun `launches a job and wa") is None
    assert cursor_name("    fun `launches`() = la") == "la"


def test_a_keystroke_reads_no_imported_workspace_file_again(tmp_path: Path) -> None:
    """A package import of a big workspace package: its 100 files' names are read at the first keystroke only."""
    from fim.kotlinprefix import _declared_names

    texts = [f"package app.util\n\nfun helper{k}(x: Int): Int = x\n" for k in range(100)]
    document, line = typed("    lau")
    files = installed(tmp_path, repository(tmp_path, sources=True))
    refs = imported_modules(document, "kotlin")
    assert typed_facade_definitions(line, refs, document, PATH, files, texts) == {SOURCES: ["launch"]}
    misses = _declared_names.cache_info().misses
    assert typed_facade_definitions(line, refs, document, PATH, files, texts) == {SOURCES: ["launch"]}
    assert _declared_names.cache_info().misses == misses


CHECKS = """package org.example.util;

public final class Checks {
    /** Fails unless the two are equal. */
    public static void assertEquals(Object expected, Object actual) { }

%s
    public static <T> T assertNotNull(T value) { return value; }

    public void assertInstance(Object value) { }

    private static void assertHidden() { }
}
""" % "\n".join(f"    public static int check{k:02}(int value) {{ return value; }}" for k in range(60))


def test_a_java_name_typed_under_a_static_import_brings_the_classs_static_methods_it_begins(tmp_path: Path) -> None:
    """``import static org.example.util.Checks.*;`` then ``assertEq|``: the sources jar's ``assertEquals``; not its
    instance or private methods, not a name the file declares; ``assertNo|`` brings ``assertNotNull``'s line, past
    the class's first members (those a static import brings while the file uses none)."""
    folder = tmp_path / "m2/org/example/util/1.0"
    jar(folder / "util-1.0.jar", {"org/example/util/Other.class": b"not read"})
    jar(folder / "util-1.0-sources.jar", {"org/example/util/Checks.java": CHECKS.encode()})
    write(tmp_path / "ws", {"build.gradle": 'dependencies {\n    implementation "org.example:util:1.0"\n}\n'})
    files = installed(tmp_path, tmp_path / "m2")
    path = "src/test/java/app/PollTest.java"
    key = "maven-repository/org/example/util/1.0/util-1.0-sources.jar!/org/example/util/Checks.java"

    def at(line: str, above: str = "") -> dict[str, list[str]]:
        document = f"package app;\n\nimport static org.example.util.Checks.*;\n\nclass PollTest {{\n{above}{line}"
        return typed_facade_definitions(line, imported_modules(document, "java"), document, path, files)

    assert at("    void go() { assertEq") == {key: ["assertEquals"]}
    assert at("    void go() { assert") == {}  # a keyword
    assert at("    void go() { asser") == {key: ["assertEquals", "assertNotNull"]}
    assert at("    void go() { assertI") == {key: ["assertEquals", "assertNotNull"]}  # no static one: ``assert``'s
    assert at("    void go() { assertEq", above="    int assertEq = 1;\n") == {}
    assert at("    void go() { assertEquals", above="    void assertEquals(int a, int b) { }\n") == {}
    document = "package app;\n\nimport static org.example.util.Checks.*;\n\nclass PollTest {\n    void go() { assertNo"
    snippets = select_context(path, document, 5, {path: document}, [], None, 6000, (0, 6), installed=files,
                              cursor_character=len("    void go() { assertNo"))
    text = "\n".join(s.text for s in snippets if s.source == key)  # the member's snippet, then the file's
    assert "public static <T> T assertNotNull(T value)" in text


def test_the_benchmark_types_a_package_imports_function_as_its_first_and_only_use() -> None:
    """`fresh_call_tasks`: a facade task of a name the file imports by its package's ``*`` comes again with its first
    N characters typed, the file's other lines using it left out; one imported by name does not."""
    from benchmarks.dependency_context import fresh_call_tasks, hole_task
    from benchmarks.repo_context import Definition

    lines = ["package app\n", "\n", "import kotlinx.coroutines.*\n", "\n", "fun go() {\n", "    launch { }\n",
             "    val job = launch { work() }\n", "}\n"]
    definition = Definition(f"{JAR}.jar!/kotlinx/coroutines/BuildersKt.java", 3, "public static final Job launch(",
                            "launch", "kotlinx.coroutines.launch")
    task = hole_task("kx", "src/a.kt", lines, 6, 14, "launch", definition, "jar-facade", "kotlin")
    fresh, = fresh_call_tasks([task], 3)
    assert fresh.package == "kx (fresh call, 3 typed)" and fresh.line == 5 and fresh.hole == "nch { work() }"
    assert fresh.text.split("\n")[fresh.line][:fresh.column] == "    val job = lau"
    assert "launch" not in fresh.text
    named = hole_task("kx", "src/a.kt", [ln.replace(".*", ".launch") for ln in lines], 6, 14, "launch", definition,
                      "jar-facade", "kotlin")
    assert fresh_call_tasks([named], 2) == [] and len(fresh_call_tasks([task], 2)) == 1


def test_the_dependency_benchmarks_imports_of_fim_name_what_fim_offers() -> None:
    """The benchmark imports fim's names inside its functions (``kotlin_facade_tasks``: a renamed ``DECLARED``):
    each must still be there, or the case fails only when it is run."""
    import ast
    import importlib

    source = Path(__file__).parent.parent / "benchmarks" / "dependency_context.py"
    missing = [f"{node.module}.{alias.name}" for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fim")
               for alias in node.names if not hasattr(importlib.import_module(node.module), alias.name)]
    assert missing == []

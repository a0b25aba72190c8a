"""The C++ name being typed after an installed library's namespace (`fim.cppnamespaces`): ``fmt::for|``."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.cppnamespaces import cursor_qualified, namespace_declarations, namespace_macros, qualified_definitions
from fim.imports import ImportRef
from server.dependencies import InstalledFiles

# fmt 9's and spdlog 1.10's layout, cut down: namespaces opened by macros of another header, an inline namespace,
# templates, export macros, a class's members, specializations, a nested namespace with an unscoped enum
LIBS = {
    "fmt/core.h": (
        "#include <string>\n"
        "#ifndef FMT_BEGIN_NAMESPACE\n"
        "#  define FMT_BEGIN_NAMESPACE \\\n      namespace fmt {                \\\n      inline namespace v9 {\n"
        "#  define FMT_END_NAMESPACE \\\n      }                          \\\n      }\n"
        "#endif\n"
        "#define FMT_INLINE inline\n"
        "FMT_BEGIN_NAMESPACE\n"
        "namespace detail {\n"
        "template <typename T> constexpr auto const_check(T value) -> T { return value; }\n"
        "}  // namespace detail\n"
        "template <typename Char> class basic_string_view {\n"
        " public:\n"
        "  constexpr auto size() const noexcept -> size_t { return size_; }\n"
        "};\n"
        "template <typename T, typename Char = char, typename Enable = void>\n"
        "struct formatter {\n  formatter() = delete;\n};\n"
        "enum class color : unsigned { red = 0xFF0000, green = 0x00FF00 };\n"
        "/** Formats ``args`` into ``out``. */\n"
        "template <typename OutputIt, typename... T,\n"
        "          FMT_ENABLE_IF(detail::is_output_iterator<OutputIt, char>::value)>\n"
        "FMT_INLINE auto format_to(OutputIt out, format_string<T...> fmt, T&&... args)\n"
        "    -> OutputIt {\n  return vformat_to(out, fmt, fmt::make_format_args(args...));\n}\n"
        "template <typename... T>\n"
        "FMT_NODISCARD FMT_INLINE auto format(format_string<T...> fmt, T&&... args) -> std::string {\n"
        "  return vformat(fmt, fmt::make_format_args(args...));\n}\n"
        "FMT_API void vprint(string_view fmt, format_args args);\n"
        "FMT_END_NAMESPACE\n"),
    "fmt/format.h": (
        '#include "core.h"\n'
        "FMT_BEGIN_NAMESPACE\n"
        "template <typename T, size_t SIZE = 500, typename Allocator = std::allocator<T>>\n"
        "class basic_memory_buffer final : public detail::buffer<T> {\n"
        "  void grow(size_t size) override;\n};\n"
        "using memory_buffer = basic_memory_buffer<char>;\n"
        "template <> struct formatter<int> {};\n"
        "template <typename It>\nauto join(It begin, It end, string_view sep) -> join_view<It, It> {\n"
        "  return {begin, end, sep};\n}\n"
        "FMT_END_NAMESPACE\n"),
    "spdlog/spdlog.h": (
        "#include <spdlog/common.h>\n"
        "namespace spdlog {\n"
        "SPDLOG_API void set_level(level::level_enum log_level);\n"
        "template<typename... Args>\ninline void debug(format_string_t<Args...> fmt, Args &&... args)\n{\n}\n"
        "template<typename... Args>\ninline void info(format_string_t<Args...> fmt, Args &&... args)\n{\n}\n"
        "} // namespace spdlog\n"),
    "spdlog/common.h": (
        "#include <fmt/format.h>\n"
        "namespace spdlog {\nnamespace level {\n"
        "enum level_enum : int\n{\n    trace = SPDLOG_LEVEL_TRACE,\n    debug = SPDLOG_LEVEL_DEBUG,\n"
        "    warn = SPDLOG_LEVEL_WARN,\n};\n"
        "SPDLOG_API level_enum from_str(const std::string &name) SPDLOG_NOEXCEPT;\n"
        "} // namespace level\n"
        "using string_view_t = fmt::basic_string_view<char>;\n"
        "} // namespace spdlog\n"),
}
INCLUDES = [ImportRef("fmt/format.h", (), "c", 0, system=True), ImportRef("spdlog/spdlog.h", (), "c", 1, system=True)]


def installed_libraries(tmp_path: Path) -> InstalledFiles:
    for rel, text in LIBS.items():
        path = tmp_path / "include" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return InstalledFiles(None, lambda rel: tmp_path / "ws" / rel, 256 * 1024, include_folders=[tmp_path / "include"])


def test_the_namespace_path_and_the_part_typed_are_read_before_the_cursor():
    assert cursor_qualified("    auto s = fmt::for") == ("fmt", "for")
    assert cursor_qualified("    out = fmt::") == ("fmt", "")
    assert cursor_qualified("  spdlog :: level::de") == ("spdlog::level", "de")
    assert cursor_qualified("  ::fmt::jo") == ("fmt", "jo")
    assert cursor_qualified("  std::vec") is None  # the standard library: left to the model
    assert cursor_qualified("  self.fmt::x") is None and cursor_qualified("  p->fmt::x") is None
    assert cursor_qualified('  puts("fmt::fo') is None and cursor_qualified("  // see fmt::fo") is None
    assert cursor_qualified("  format") is None


def test_declarations_are_read_by_namespace_through_the_macros_opening_them():
    macros = namespace_macros(tuple(LIBS.values()))
    core = namespace_declarations(LIBS["fmt/core.h"], macros)
    lines = LIBS["fmt/core.h"].split("\n")
    assert set(core["fmt"]) == {"basic_string_view", "formatter", "color", "format_to", "format", "vprint"}
    assert lines[core["fmt"]["format_to"]].startswith("FMT_INLINE auto format_to(")
    assert set(core["fmt::detail"]) == {"const_check"} and set(core["fmt::color"]) == {"red", "green"}
    assert "size" not in core["fmt"]  # a class's member
    fmt = namespace_declarations(LIBS["fmt/format.h"], macros)["fmt"]
    assert set(fmt) == {"basic_memory_buffer", "memory_buffer", "join"}  # ``formatter<int>``: a specialization
    common = namespace_declarations(LIBS["spdlog/common.h"], macros)
    assert set(common["spdlog::level"]) == {"level_enum", "trace", "debug", "warn", "from_str"}
    assert set(common["spdlog"]) == {"string_view_t"}
    assert namespace_declarations(LIBS["fmt/format.h"]).get("fmt") is None  # without fmt's macros: not in fmt


def test_the_names_of_the_namespace_typed_starting_with_the_part_typed(tmp_path: Path):
    installed = installed_libraries(tmp_path)
    doc = "#include <fmt/format.h>\n#include <spdlog/spdlog.h>\nvoid f() {\n"
    assert qualified_definitions("  fmt::for", INCLUDES, doc, installed) == {
        "c-include/0/fmt/core.h": ["formatter", "format_to", "format"]}
    assert qualified_definitions("  fmt::", INCLUDES, doc, installed, limit=3) == {
        "c-include/0/fmt/format.h": ["basic_memory_buffer", "memory_buffer", "join"]}
    assert qualified_definitions("  spdlog::level::de", INCLUDES, doc, installed) == {
        "c-include/0/spdlog/common.h": ["debug"]}
    assert qualified_definitions("  spdlog::de", INCLUDES, doc, installed) == {"c-include/0/spdlog/spdlog.h": ["debug"]}
    assert qualified_definitions("  fmt::detail::co", INCLUDES, doc, installed) == {
        "c-include/0/fmt/core.h": ["const_check"]}
    assert qualified_definitions("  mine::fo", INCLUDES, doc, installed) == {}  # no header's namespace
    assert qualified_definitions("  fmt::for", INCLUDES[1:], doc, installed) == {  # through spdlog's includes
        "c-include/0/fmt/core.h": ["formatter", "format_to", "format"]}


def test_the_header_declaring_the_names_the_document_uses_through_the_namespace_comes_first(tmp_path: Path):
    installed = installed_libraries(tmp_path)
    doc = "#include <fmt/format.h>\nvoid f() {\n  auto s = fmt::format(\"{}\", 1);\n  fmt::vprint(s, {});\n"
    found = qualified_definitions("  fmt::", INCLUDES[:1], doc, installed)
    assert list(found) == ["c-include/0/fmt/core.h", "c-include/0/fmt/format.h"]
    # used: `fim.cheaders` brings them; the others nearest the lines of those used first (``format_to`` is the
    # line before ``format``), not in line order
    assert found["c-include/0/fmt/core.h"] == ["format_to", "color", "formatter", "basic_string_view"]
    assert qualified_definitions("  fmt::format", INCLUDES[:1], doc, installed) == {
        "c-include/0/fmt/core.h": ["format", "format_to", "formatter"]}  # the name typed whole too


def test_the_declaration_of_the_member_typed_comes_in_the_context(tmp_path: Path):
    installed = installed_libraries(tmp_path)
    files = {"src/app.cc": '#include <fmt/format.h>\n\nvoid f(std::string &out)\n{\n    fmt::format_t'}
    snippets = select_context("src/app.cc", files["src/app.cc"], 4, files, [], None, 20000, (0, 5),
                              installed=installed, cursor_character=17)
    by_source = {s.source: "\n".join(t.text for t in snippets if t.source == s.source) for s in snippets}
    assert "FMT_INLINE auto format_to(OutputIt out, format_string<T...> fmt, T&&... args)" in \
        by_source["c-include/0/fmt/core.h"]


def test_the_benchmarks_cpp_tasks_are_uses_through_a_namespace_declared_in_one_header(tmp_path: Path) -> None:
    from benchmarks.dependency_context import cpp_namespace_tasks, fresh_member_tasks
    from benchmarks.repo_context import index_workspace

    installed_libraries(tmp_path)
    extra = tmp_path / "include" / "fmt" / "color.h"  # a second header declaring fmt::format: not one declaration
    extra.write_text('#include "core.h"\nFMT_BEGIN_NAMESPACE\nauto format(const text_style& ts) -> int;\n'
                     "FMT_END_NAMESPACE\n", encoding="utf-8")
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    source = ("#include <fmt/format.h>\n#include <fmt/color.h>\n#include <spdlog/spdlog.h>\n\n"
              "void run(int n)\n{\n    spdlog::debug(\"n={}\", fmt::format(\"{}\", n));\n"
              "    auto s = fmt::format(\"{}\", n);\n    spdlog::set_level(spdlog::level::debug);\n"
              "    // spdlog::info(\"x\");\n}\n")
    (root / "src" / "run.cc").write_text(source, encoding="utf-8")
    project, _ = index_workspace(root)
    tasks = cpp_namespace_tasks("demo", project, [tmp_path / "include"], 200, 0)
    # one a line, its first; fmt::format twice declared, a comment's use left out
    assert sorted((t.line, t.column, t.name, t.definition.module) for t in tasks) == [
        (6, len("    spdlog::"), "debug", "spdlog"), (8, len("    spdlog::"), "set_level", "spdlog")]
    debug = next(t for t in tasks if t.name == "debug")
    assert debug.definition.path == "c-include/0/spdlog/spdlog.h"
    assert debug.definition.text == "inline void debug(format_string_t<Args...> fmt, Args &&... args)"
    assert [t.text.split("\n")[t.line] for t in fresh_member_tasks(tasks, 2) if t.name == "debug"] == ["    spdlog::de"]


def test_a_header_with_crlf_line_ends_reads_the_same_namespaces():
    crlf = {rel: text.replace("\n", "\r\n") for rel, text in LIBS.items()}
    macros = namespace_macros(tuple(crlf.values()))
    assert dict(macros) == {k: v for k, v in namespace_macros(tuple(LIBS.values()))}
    core = namespace_declarations(crlf["fmt/core.h"], macros)
    assert core == namespace_declarations(LIBS["fmt/core.h"], namespace_macros(tuple(LIBS.values())))
    assert set(core["fmt"]) == {"basic_string_view", "formatter", "color", "format_to", "format", "vprint"}


def test_with_nothing_typed_the_names_the_projects_other_files_use_through_the_namespace_come_first(tmp_path: Path):
    from fim.popular import ProjectUses

    installed = installed_libraries(tmp_path)
    doc = "#include <spdlog/spdlog.h>\nvoid f() {\n"
    files = {"src/a.cc": doc, "src/b.cc": '#include <spdlog/spdlog.h>\nvoid g() { spdlog::info("x"); }\n',
             "src/c.cc": "void h() { log::debug(); }\n"}  # ``debug`` after another qualifier: not counted
    assert qualified_definitions("  spdlog::", INCLUDES[1:], doc, installed, limit=2) == {
        "c-include/0/spdlog/spdlog.h": ["set_level", "debug"]}  # in line order
    ranked = qualified_definitions("  spdlog::", INCLUDES[1:], doc, installed, limit=2,
                                   rank=ProjectUses(files, "src/a.cc").rank)
    assert ranked == {"c-include/0/spdlog/spdlog.h": ["info", "set_level"]}
    # ``spdlog::level::|``: the qualifier is the path's last part, as the project writes ``level::warn``
    files["src/b.cc"] += "auto l = spdlog::level::warn;\n"
    assert qualified_definitions("  spdlog::level::", INCLUDES[1:], doc, installed, limit=2,
                                 rank=ProjectUses(files, "src/a.cc").rank) == {
        "c-include/0/spdlog/common.h": ["warn", "level_enum"]}


def test_a_namespace_alias_reads_as_the_path_it_names(tmp_path: Path):
    installed = installed_libraries(tmp_path)
    doc = "#include <spdlog/spdlog.h>\nnamespace lv = spdlog::level; // namespace x = y;\nvoid f() {\n"
    assert qualified_definitions("  lv::de", INCLUDES[1:], doc, installed) == {"c-include/0/spdlog/common.h": ["debug"]}
    # declared in a workspace header the document includes; an alias of an alias
    header = "#pragma once\nnamespace log = ::spdlog;\nnamespace sl = log::level;\n"
    assert qualified_definitions("  sl::", INCLUDES[1:], "void f() {\n", installed, workspace_texts=[header]) == {
        "c-include/0/spdlog/common.h": ["level_enum", "trace", "debug", "warn", "from_str"]}
    assert qualified_definitions("  log::", INCLUDES[1:], "void f() {\n", installed, workspace_texts=[header]) == {
        "c-include/0/spdlog/spdlog.h": ["set_level", "debug", "info"], "c-include/0/spdlog/common.h": ["string_view_t"]}
    # the names the document uses through the alias are the ones `fim.cheaders` brings: not offered again
    assert qualified_definitions("  lv::", INCLUDES[1:], doc + "  auto l = lv::warn;\n", installed) == {
        "c-include/0/spdlog/common.h": ["debug", "trace", "from_str", "level_enum"]}  # nearest ``warn`` first
    aliased_std = "namespace fs = std::filesystem;\nnamespace fmt = fs;\n"
    assert qualified_definitions("  fmt::", INCLUDES, aliased_std, installed) == {}  # the standard library's
    assert qualified_definitions("  x::", INCLUDES[1:], "namespace x = x;\n", installed) == {}


def big_library(tmp_path: Path) -> None:
    """A header of a namespace whose head is too long to reach ``info``."""
    (tmp_path / "include" / "biglog.h").write_text(
        "namespace biglog {\n" + "".join(f"void sink_{k}(int level, const char *message);\n" for k in range(300))
        + "void info(const char *message);\n}\n")


def test_the_names_typed_come_from_a_header_the_document_uses_nothing_of_yet(tmp_path: Path):
    installed = installed_libraries(tmp_path)
    big_library(tmp_path)
    text = '#include <biglog.h>\n\nvoid f(int n)\n{\n    biglog::in'
    snippets = select_context("src/app.cc", text, 4, {"src/app.cc": text}, [], None, 20000, (0, 5),
                              installed=installed, cursor_character=14)
    assert "void info(const char *message);" in {s.source: s.text for s in snippets}.get("c-include/0/biglog.h", "")


def test_using_namespace_opens_the_namespace_to_the_identifier_typed_bare(tmp_path: Path):
    from fim.cppusing import using_definitions, using_namespaces, with_using_namespaces

    installed = installed_libraries(tmp_path)
    head = "#include <spdlog/spdlog.h>\n#include <fmt/format.h>\n"
    doc = head + "using namespace spdlog;\nvoid f() {\n    using namespace spdlog::level;\n    deb"
    assert using_namespaces(doc) == ["spdlog", "spdlog::level"]
    # each directive's namespace in its order: spdlog's ``debug`` (spdlog.h) before level's (common.h), a name once
    assert using_definitions(doc, INCLUDES, doc, installed) == {"c-include/0/spdlog/spdlog.h": ["debug"]}
    assert using_definitions(doc.replace("deb", "tra"), INCLUDES, doc, installed) == {
        "c-include/0/spdlog/common.h": ["trace"]}
    # the longest part of what is typed that some name begins (``debx`` -> ``deb``); not below 3 characters
    assert using_definitions(doc + "x", INCLUDES, doc, installed) == using_definitions(doc, INCLUDES, doc, installed)
    assert using_definitions(doc[:-1], INCLUDES, doc, installed) == {}
    # a function's directive ends with it; a commented one, std's, and one in a namespace closed before: none
    closed = head + "void g() {\n    using namespace spdlog;\n}\nnamespace x { using namespace fmt; }\n" \
        "// using namespace spdlog;\nusing namespace std;\nvoid f() {\n    form"
    assert using_namespaces(closed) == [] and using_definitions(closed, INCLUDES, closed, installed) == {}
    # through an alias of a workspace header: ``fmt``'s names (``formatter``, ``format_to``, ``format``)
    aliased = "#include <spdlog/spdlog.h>\nusing namespace f9;\nint main() {\n    form"
    assert using_definitions(aliased, INCLUDES, aliased, installed, ["namespace f9 = fmt;\n"]) == {
        "c-include/0/fmt/core.h": ["formatter", "format_to", "format"]}
    # the document's own name (a local variable used again), and the names it uses already: none
    own = head + "using namespace spdlog;\nint f() {\n    int debx = 1;\n    return debx"
    assert using_definitions(own, INCLUDES, own, installed) == {}
    uses = head + "using namespace spdlog;\nvoid f() {\n    debug(\"x\");\n    set_level(level::warn);\n    in"
    assert using_definitions(uses + "fo", INCLUDES, uses + "fo", installed) == {"c-include/0/spdlog/spdlog.h": ["info"]}
    assert using_definitions(uses + "de", INCLUDES, uses, installed) == {}  # ``debug`` is used
    # before `fim.cprefix`'s names for the same identifier, at most `limit` in all
    assert with_using_namespaces({"a.h": ["debugf", "debug"], "b.h": ["debug_x"]}, {"a.h": ["debug"]}, limit=2) == {
        "a.h": ["debug", "debugf"]}


def test_under_using_namespace_the_declaration_of_the_name_typed_bare_comes_in_the_context(tmp_path: Path):
    installed = installed_libraries(tmp_path)
    big_library(tmp_path)
    # a C library included first declaring 16 names starting so: `fim.cprefix`'s alone, they take the room
    (tmp_path / "include" / "infolib.h").write_text("".join(f"int info_{k}(void);\n" for k in range(16)))
    text = '#include <infolib.h>\n#include <biglog.h>\n\nusing namespace biglog;\n\nvoid f(int n)\n{\n    inf'
    snippets = select_context("src/app.cc", text, 7, {"src/app.cc": text}, [], None, 20000, (0, 5),
                              installed=installed, cursor_character=7)
    assert "void info(const char *message);" in {s.source: s.text for s in snippets}.get("c-include/0/biglog.h", "")

"""The C/C++ library identifier being typed (`fim.cprefix`): the included headers' names it begins."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.cprefix import cursor_identifier, prefix_definitions
from fim.imports import ImportRef
from server.dependencies import InstalledFiles

LIBGIT = {
    "git2.h": '#include "git2/common.h"\n#include "git2/remote.h"\n#include "git2/repository.h"\n#include <stdio.h>\n',
    "git2/common.h": "# define GIT_EXTERN(type) extern type\n#define GIT_OID_HEXSZ 40\n"
                     "typedef struct git_repository git_repository;\ntypedef struct git_remote git_remote;\n",
    "git2/remote.h": '#include "common.h"\n'
                     "GIT_EXTERN(int) git_remote_create(git_remote **out, git_repository *repo, const char *url);\n"
                     "GIT_EXTERN(void) git_remote_free(git_remote *remote);\n",
    "git2/repository.h": (
        '#include "common.h"\n\n'
        "/** Open a git repository. */\n"
        "GIT_EXTERN(int) git_repository_open(git_repository **out, const char *path);\n\n"
        "/** Free a previously allocated repository */\n"
        "GIT_EXTERN(void) git_repository_free(git_repository *repo);\n\n"
        "typedef enum {\n\tGIT_REPOSITORY_OPEN_NO_SEARCH = (1 << 0),\n\tGIT_REPOSITORY_OPEN_BARE = (1 << 2)\n"
        "} git_repository_open_flag_t;\n"),
}
GIT2 = [ImportRef("git2.h", (), "c", 0, system=True)]


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def headers(tmp_path: Path) -> InstalledFiles:
    write(tmp_path / "include", LIBGIT)
    return InstalledFiles(None, lambda rel: tmp_path / "ws" / rel, 256 * 1024, include_folders=[tmp_path / "include"])


def typing(before: str) -> str:
    return f"#include <git2.h>\n\nint f(void)\n{{\n    {before}"


def test_the_identifier_typed_counts_where_it_may_begin_a_library_name():
    assert cursor_identifier("    int err = git_repository_o") == "git_repository_o"
    assert cursor_identifier("x = PQex") == "PQex"
    assert cursor_identifier("    Py_") == "Py_"  # a library prefix: shorter than 3 is enough
    for before in ("x = PQ", "    s.git_rep", "    p->git_rep", "    ns::git_rep", "    // git_rep", '    "git_rep',
                   "#include <git_rep", "    return", "    unsigned", "    x = 12ab"):
        assert cursor_identifier(before) is None, before


def test_a_prefix_brings_the_names_of_the_included_headers_it_begins(tmp_path):
    installed = headers(tmp_path)
    document = typing("git_repository_o")
    found = prefix_definitions("    git_repository_o", GIT2, document, installed)
    assert found == {"c-include/0/git2/repository.h": ["git_repository_open", "git_repository_open_flag_t"]}
    assert prefix_definitions("    GIT_REPOSITORY_OPEN_B", GIT2, document, installed) == {
        "c-include/0/git2/repository.h": ["GIT_REPOSITORY_OPEN_BARE"]}  # an enumerator
    assert prefix_definitions("    GIT_OID_H", GIT2, document, installed) == {
        "c-include/0/git2/common.h": ["GIT_OID_HEXSZ"]}  # a macro
    # a typo falls back to the longest part typed that a name begins, never past its last ``_``
    assert prefix_definitions("    git_repository_frx", GIT2, document, installed) == {
        "c-include/0/git2/repository.h": ["git_repository_free"]}
    assert prefix_definitions("    git_repositorx_fr", GIT2, document, installed) == {}
    # the standard library's headers are not followed, nor headers no include names
    assert prefix_definitions("    printf", GIT2, document, installed) == {}
    assert prefix_definitions("    git_repository_o", [ImportRef("stdio.h", (), "c", 0, system=True)], document,
                              installed) == {}


def test_the_names_used_and_the_document_s_own_names_bring_nothing(tmp_path):
    installed = headers(tmp_path)
    used = typing("git_repository_open(&repo, p);\n    git_repository_")
    assert prefix_definitions("    git_repository_", GIT2, used, installed) == {
        "c-include/0/git2/repository.h": ["git_repository_free", "git_repository_open_flag_t"]}
    own = "#include <git2.h>\nstatic int git_remote_count;\nint f(void)\n{\n    git_remote_count"
    assert prefix_definitions("    git_remote_count", GIT2, own, installed) == {}  # the document defines it
    local = typing("int git_remote_cr = 0;\n    git_remote_cr")  # a local variable, used elsewhere
    assert prefix_definitions("    git_remote_cr", GIT2, local, installed) == {}
    assert prefix_definitions("    git_remote_cr", GIT2, typing("git_remote_cr"), installed) == {
        "c-include/0/git2/remote.h": ["git_remote_create"]}
    mine = "typedef int git_remote_cr;\n"
    assert prefix_definitions("    git_remote_cr", GIT2, typing("git_remote_cr"), installed, [mine]) == {}


def test_the_best_names_come_first_the_family_the_document_uses_then_the_header_it_uses_most(tmp_path):
    installed = headers(tmp_path)
    document = typing("git_repository_open(&repo, p);\n    git_re")
    # remote.h comes first in git2.h, but the document uses the git_repository_ family
    assert prefix_definitions("    git_re", GIT2, document, installed, limit=1) == {
        "c-include/0/git2/repository.h": ["git_repository_free"]}
    remote = typing("git_remote_free(r);\n    git_re")
    assert prefix_definitions("    git_re", GIT2, remote, installed, limit=1) == {
        "c-include/0/git2/remote.h": ["git_remote_create"]}
    # the longest family the document uses first; a family brings its own type: ``git_remote`` of ``git_remote_*``
    both = typing("git_repository_open(&repo, p);\n    git_remote_free(r);\n    git_re")
    assert prefix_definitions("    git_re", GIT2, both, installed, limit=1) == {
        "c-include/0/git2/repository.h": ["git_repository_free"]}
    assert prefix_definitions("    git_rem", GIT2, both, installed) == {
        "c-include/0/git2/common.h": ["git_remote"], "c-include/0/git2/remote.h": ["git_remote_create"]}


def test_a_library_name_being_typed_through_a_workspace_header_reaches_the_prompt(tmp_path):
    installed = headers(tmp_path)
    files = {"src/types.h": "#include <git2.h>\ntypedef struct { int n; } Repository;\n",
             "src/repo.c": '#include "types.h"\n\nint f(Repository *self)\n{\n    git_repository_fr'}
    snippets = select_context("src/repo.c", files["src/repo.c"], 4, files, [], None, 20000, (0, 5),
                              installed=installed, cursor_character=21)
    by_source = {s.source: s.text for s in snippets}
    assert "GIT_EXTERN(void) git_repository_free(git_repository *repo);" in \
        by_source["c-include/0/git2/repository.h"]
    assert "git_repository_open(" not in by_source["c-include/0/git2/repository.h"]


def test_the_benchmark_types_a_c_name_s_prefix_as_its_first_and_only_use():
    from benchmarks.dependency_context import fresh_identifier_tasks, hole_task, typed_prefix
    from benchmarks.repo_context import Definition

    assert [typed_prefix(n, "last") for n in ("git_repository_open", "PQexec", "GIT_OID_HEXSZ")] == [
        "git_repository_op", "PQex", "GIT_OID_HE"]
    assert [typed_prefix(n, "prefix") for n in ("git_repository_open", "PQexec", "GIT_OID_HEXSZ")] == [
        "git_re", "PQex", "GIT_OI"]
    lines = ["#include <git2.h>\n", "int f(void)\n", "{\n", "    git_repository_open(&a, p);\n",
             "    return git_repository_open(&b, q);\n", "}\n"]
    definition = Definition("c-include/0/git2/repository.h", 3, "GIT_EXTERN(int) git_repository_open(", "x", "")
    task = hole_task("pygit2", "src/a.c", lines, 4, 11, "git_repository_open", definition, "c-header", "c")
    fresh, = fresh_identifier_tasks([task], "last")
    assert fresh.package == "pygit2 (fresh, last _ +2)" and fresh.line == 3 and fresh.hole == "en(&b, q);"
    assert fresh.text.split("\n")[fresh.line][:fresh.column] == "    return git_repository_op"
    assert "git_repository_open" not in fresh.text

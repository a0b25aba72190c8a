"""C and C++ headers of installed libraries: include folders (compile_commands.json, CPATH, the system's), the
declarations a file uses from a header and those it includes, through the workspace's own headers too."""

from __future__ import annotations

import json
from pathlib import Path

from fim.cheaders import compile_include_folders, header_definitions
from fim.context import select_context
from fim.imports import ImportRef
from fim.symbols import brief, defined_names
from server.dependencies import InstalledFiles, find_include_folders
from server.project import Project

LIBGIT = {
    "git2.h": '#ifndef INCLUDE_git_git_h__\n#define INCLUDE_git_git_h__\n#include "git2/common.h"\n'
              '#include "git2/repository.h"\n#include <stdio.h>\n#endif\n',
    "git2/common.h": "#ifndef INCLUDE_git_common_h__\n#define INCLUDE_git_common_h__\n"
                     "# define GIT_EXTERN(type) extern type\n#define GIT_OID_HEXSZ 40\n"
                     "typedef struct git_repository git_repository;\n#endif\n",
    "git2/repository.h": (
        '#ifndef INCLUDE_git_repository_h__\n#define INCLUDE_git_repository_h__\n#include "common.h"\n\n'
        "GIT_BEGIN_DECL\n\n"
        "/**\n * Open a git repository.\n *\n * The 'path' argument must point to a folder.\n *\n"
        " * @return 0 or an error code\n */\n"
        "GIT_EXTERN(int) git_repository_open(git_repository **out, const char *path);\n\n"
        "/**\n * Free a previously allocated repository\n */\n"
        "GIT_EXTERN(void) git_repository_free(git_repository *repo);\n\n"
        "typedef enum {\n\tGIT_REPOSITORY_OPEN_NO_SEARCH = (1 << 0),\n\tGIT_REPOSITORY_OPEN_BARE = (1 << 2)\n"
        "} git_repository_open_flag_t;\n\nGIT_END_DECL\n#endif\n"),
}
DOCUMENT = ('#include <git2.h>\n\nint open_it(const char *p)\n{\n    git_repository *repo;\n'
            '    int err = git_repository_open(&repo, p);\n    return err ? err : GIT_REPOSITORY_OPEN_BARE;\n}\n')


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def headers(folders: list[Path], workspace: Path) -> InstalledFiles:
    return InstalledFiles(None, lambda rel: workspace / rel, 256 * 1024, include_folders=folders)


def test_a_declaration_macro_leaves_the_prototypes_after_it_declared():
    # GIT_BEGIN_DECL read as the head of a function running to the next brace: the prototypes inside were lost
    names = defined_names(LIBGIT["git2/repository.h"], "c")
    assert {"git_repository_open", "git_repository_free", "GIT_REPOSITORY_OPEN_BARE"} <= names


def test_export_words_and_old_style_parameter_macros_leave_the_prototypes_declared():
    zlib = ("#define OF(args) args\nZEXTERN int ZEXPORT deflate OF((z_streamp strm, int flush));\n"
            "ZEXTERN int ZEXPORT compress OF((Bytef *dest,   uLongf *destLen,\n"
            "                                 const Bytef *source, uLong sourceLen));\n"
            "XMLPUBFUN int XMLCALL xmlInitParser(void);\nenum { A,\n    B\n};\n")
    assert {"deflate", "compress", "xmlInitParser", "A", "B"} <= defined_names(zlib, "c")
    assert brief(zlib, "c", ["compress"], 500).text == (  # the header's own lines
        "ZEXTERN int ZEXPORT compress OF((Bytef *dest,   uLongf *destLen,\n"
        "                                 const Bytef *source, uLong sourceLen));")


def test_an_installed_header_brings_its_declarations_without_comments_but_the_first_line():
    cut = brief(LIBGIT["git2/repository.h"], "c", ["git_repository_open"], 2000)
    assert cut.text == ("/** Open a git repository. */\n"
                        "GIT_EXTERN(int) git_repository_open(git_repository **out, const char *path);")


def test_an_installed_declaration_loses_the_comments_at_its_lines_ends_too():
    libpq = ("typedef enum\n{\n\tPGRES_POLLING_FAILED = 0,\n"
             "\tPGRES_POLLING_READING,\t\t/* These two indicate that one may */\n"
             "\tPGRES_POLLING_ACTIVE\t\t/* unused; keep for awhile for backwards\n\t\t\t\t * compatibility */\n"
             "} PostgresPollingStatusType;\n")
    assert brief(libpq, "c", ["PGRES_POLLING_READING"], 2000).text == (
        "typedef enum\n{\n\tPGRES_POLLING_FAILED = 0,\n\tPGRES_POLLING_READING,\n\tPGRES_POLLING_ACTIVE\n"
        "} PostgresPollingStatusType;")
    ruled = "/* ----------------\n * Structures\n * ----------------\n */\ntypedef struct pg_conn PGconn;\n"
    assert brief(ruled, "c", ["PGconn"], 200).text == "/** Structures */\ntypedef struct pg_conn PGconn;"


def test_an_include_brings_the_names_the_document_uses_from_the_header_and_those_it_includes(tmp_path):
    write(tmp_path / "include", LIBGIT)
    (tmp_path / "empty").mkdir()
    installed = headers([tmp_path / "empty", tmp_path / "include"], tmp_path / "ws")
    found = header_definitions(ImportRef("git2.h", (), "c", 0, system=True), DOCUMENT, installed)
    assert found == {"c-include/1/git2/common.h": ["git_repository"],
                     "c-include/1/git2/repository.h": ["git_repository_open", "GIT_REPOSITORY_OPEN_BARE"]}
    assert header_definitions(ImportRef("stdio.h", (), "c", 0, system=True), DOCUMENT, installed) == {}
    unused = "#include <git2.h>\n#include <git2/repository.h>\n\nint f(void)\n{\n    return 0;\n}\n"
    assert header_definitions(ImportRef("git2.h", (), "c", 0, system=True), unused, installed) == {}  # its includes
    assert header_definitions(ImportRef("git2/repository.h", (), "c", 1, system=True), unused, installed) == {
        "c-include/1/git2/repository.h": []}  # its head: what it offers
    assert header_definitions(ImportRef("nowhere.h", (), "c", 0, system=True), DOCUMENT, installed) == {}


def test_a_library_included_through_a_workspace_header_reaches_the_prompt(tmp_path):
    workspace, include = tmp_path / "ws", tmp_path / "deps" / "include"
    write(include, LIBGIT)
    files = {"src/types.h": "#include <git2.h>\ntypedef struct { git_repository *repo; } Repository;\n",
             "src/repo.c": '#include "types.h"\n\nint f(Repository *self, const char *p)\n{\n'
                           "    return git_repository_open(&self->repo, p);\n}\n"}
    write(workspace, files)
    write(workspace, {"compile_commands.json": f'[{{"directory": "{workspace}", "file": "src/repo.c", '
                                               f'"command": "cc -I {include} -Isrc -c src/repo.c"}}]'})
    installed = headers([], workspace)
    assert installed.include_folders() == [include, workspace / "src"]  # -Isrc: read as its ignore rules allow
    snippets = select_context("src/repo.c", files["src/repo.c"], 4, files, [], None, 20000, (0, 6),
                              installed=installed)
    by_source = {s.source: s.text for s in snippets}
    assert "GIT_EXTERN(int) git_repository_open(git_repository **out, const char *path);" in \
        by_source["c-include/0/git2/repository.h"]
    assert "Open a git repository" in by_source["c-include/0/git2/repository.h"]
    assert "must point to a folder" not in by_source["c-include/0/git2/repository.h"]


def test_compile_commands_include_folders_are_the_absolute_ones_in_flag_order():
    text = ('[{"directory": "/b", "arguments": ["cc", "-I/opt/git/include", "-isystem", "/opt/z", "-Ilocal", '
            '"-iquote", "/q", "-include", "config.h", "-c", "x.c"]}, '
            '{"directory": "/b", "command": "cc -idirafter /late -I /opt/git/include -c y.c"}]')
    assert compile_include_folders(text) == ["/opt/git/include", "/opt/z", "/b/local", "/q", "/late"]
    assert compile_include_folders("not json") == []


def test_include_folders_follow_the_compiler_order():
    environ = {"CPATH": "/c1:relative", "C_INCLUDE_PATH": "/c2", "CPLUS_INCLUDE_PATH": "/c3"}
    assert [str(p) for p in find_include_folders(environ, "aarch64", "linux")] == [
        "/c1", "/c2", "/c3", "/usr/local/include", "/usr/include/aarch64-linux-gnu", "/usr/include"]
    assert str(find_include_folders({}, "arm64", "darwin")[-1]) == "/opt/homebrew/include"


def test_a_header_key_is_read_from_its_folder_only(tmp_path):
    write(tmp_path / "include", LIBGIT)
    installed = headers([tmp_path / "include", tmp_path / "missing"], tmp_path / "ws")
    assert "c-include/0/" in installed and "c-include/1/" not in installed  # a folder that is not there: none
    assert installed["c-include/0/git2/common.h"] == LIBGIT["git2/common.h"]
    assert "c-include/0/../include/git2.h" not in installed and "c-include/x/git2.h" not in installed


def test_an_include_folder_inside_the_workspace_keeps_its_ignore_rules(tmp_path):
    # -Igen where gen/ is ignored (generated, or the user's exclusion): its headers are not read as installed ones
    write(tmp_path, {".gitignore": "gen/\n", "gen/tokens.h": "#define API_TOKEN 1\nint secret_call(void);\n",
                     "main.c": "#include <tokens.h>\n\nint main(void)\n{\n    return secret_call();\n}\n",
                     "compile_commands.json": f'[{{"directory": "{tmp_path}", "file": "main.c", '
                                              f'"arguments": ["cc", "-I{tmp_path}/gen", "-c", "main.c"]}}]'})
    project = Project([tmp_path], background=False)
    project.scan(10)
    files = project.installed("main.c")
    assert files.include_folders()[0] == tmp_path / "gen"
    assert "c-include/0/" in files and "c-include/0/tokens.h" not in files
    text = (tmp_path / "main.c").read_text()
    assert not any("secret_call" in s.text for s in project.context(tmp_path / "main.c", text, 4)((0, 6), 8000))


def test_a_compile_commands_entry_of_odd_types_is_skipped_and_only_the_folders_asked_for_are_statted(tmp_path):
    folders = [tmp_path / f"inc{k}" for k in range(40)]
    for folder in folders:
        folder.mkdir()
    write(folders[0], {"git2.h": "int git_x(void);\n"})
    entries = [{"command": 7}, {"directory": str(tmp_path), "arguments": ["cc"] + [f"-I{f}" for f in folders]}]
    write(tmp_path / "ws", {"compile_commands.json": json.dumps(entries)})
    installed = InstalledFiles(None, lambda rel: tmp_path / "ws" / rel, 256 * 1024, include_folders=[])
    assert "c-include/0/git2.h" in installed  # no AttributeError out of a completion: the entry's command is 7
    assert installed.include_folders() == folders[:32]  # fim asks for c-include/0/ to /31/: the others not stat'ed

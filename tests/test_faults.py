"""Faults: broken models, a vanished client, a deleted workspace. One clear message, no crash."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.memory import MARGIN_BYTES, AttentionShape, affordable_window
from tests.lsp_client import REPO
from tests.raw_lsp import RawServer


def complete_once(server: RawServer, uri: str, text: str, msg_id: int = 2) -> list:
    """Open `uri` with `text` and ask for an inline completion at its end; the items answered."""
    lines = text.split("\n")
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                            "version": 1, "text": text}})
    answer = server.request(msg_id, "textDocument/inlineCompletion",
                            {"textDocument": {"uri": uri},
                             "position": {"line": len(lines) - 1, "character": len(lines[-1])},
                             "context": {"triggerKind": 2}}, timeout=120)
    return answer["result"]["items"]


def load_error(model: Path, tmp_path: Path) -> str:
    """The single error message the server shows for `model`, after checking it keeps answering."""
    server = RawServer(str(model), tmp_path.as_uri())
    try:
        assert complete_once(server, (tmp_path / "a.py").as_uri(), "x = ") == []
        assert server.close() == 0
        while not server.messages.empty():
            server.skipped.append(server.messages.get())
        errors = [m["params"]["message"] for m in server.skipped
                  if m.get("method") == "window/showMessage" and m["params"]["type"] == 1]
        assert len(errors) <= 1
        return errors[0] if errors else ""
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


def test_truncated_model(deepseek_tiny: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(deepseek_tiny.read_bytes()[:200_000])
    message = load_error(truncated, tmp_path)
    assert "truncated" in message and "download it again" in message


def test_missing_model(tmp_path: Path) -> None:
    message = load_error(tmp_path / "nope.gguf", tmp_path)
    assert "does not exist" in message and "--model" in message


def test_a_model_downloaded_after_the_error_loads_at_the_next_settings_change(gemma_model: Path,
                                                                             tmp_path: Path) -> None:
    """"not downloaded yet; run `deepfim models pull`": once it is, the editor's "send the settings again"
    (Emacs' deepfim-reconfigure, Neovim's set_settings) left the server in its error (nothing changed)."""
    later = tmp_path / "later.gguf"
    server = RawServer(str(later), tmp_path.as_uri())
    try:
        uri = (tmp_path / "a.py").as_uri()
        assert complete_once(server, uri, "def read_lines(path):\n    with") == []
        shutil.copyfile(gemma_model, later)
        server.notify("workspace/didChangeConfiguration", {"settings": {"deepfim": {}}})
        assert complete_once(server, uri, "def read_lines(path):\n    with", msg_id=3) != []
    finally:
        server.close()


def test_unsupported_architecture(tmp_path: Path) -> None:
    import gguf
    import numpy as np

    path = tmp_path / "alien.gguf"
    writer = gguf.GGUFWriter(str(path), "alien-arch-9000")
    writer.add_tensor("weight", np.zeros(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    message = load_error(path, tmp_path)
    assert "unsupported architecture" in message


def test_server_exits_when_the_client_process_dies(deepseek_tiny: Path, tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--model", str(deepseek_tiny)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    body = ('{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": %d, '
            '"rootUri": null, "capabilities": {}}}' % parent.pid).encode()
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.stdin.flush()
    time.sleep(2)
    parent.kill()
    parent.wait()
    try:
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()


def test_server_exits_when_stdin_closes(deepseek_tiny: Path) -> None:
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--model", str(deepseek_tiny)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    server.stdin.close()
    try:
        server.wait(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            pytest.fail("the server kept running after its input closed")


def test_deleted_workspace_keeps_serving(deepseek_tiny: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    for i in range(50):
        (root / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    server = RawServer(str(deepseek_tiny), root.as_uri())
    try:
        shutil.rmtree(root)
        assert isinstance(complete_once(server, (root / "main.py").as_uri(), "import m1\nx = "), list)
        assert server.close() == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


@pytest.mark.parametrize("log_text", [False, True])
def test_logs_hold_source_text_only_when_asked(deepseek_tiny: Path, tmp_path: Path, log_text: bool) -> None:
    secret = "very_private_identifier_4711"
    server = RawServer(str(deepseek_tiny), tmp_path.as_uri(), options={"logText": log_text}, log_level="DEBUG")
    try:
        uri = (tmp_path / "s.py").as_uri()
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                                "version": 1, "text": f"{secret} = "}})
        server.request(2, "textDocument/inlineCompletion", {"textDocument": {"uri": uri},
                                                            "position": {"line": 0, "character": 31},
                                                            "context": {"triggerKind": 2}}, timeout=60)
        explained = server.request(3, "deepfim/explain", {"textDocument": {"uri": uri}}, timeout=20)
        assert secret in json.dumps(explained)  # the answer carried the source text...
        assert server.close() == 0
        assert (secret.encode() in server.stderr) == log_text  # ...the log only when asked
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


def test_window_too_big_for_memory_falls_back(deepseek_tiny: Path, tmp_path: Path) -> None:
    """Out of memory for the requested window: a smaller one, one warning that says so, completions."""
    arenas = {"MALLOC_ARENA_MAX": "1"}  # address space that does not depend on how many threads allocated
    probe = RawServer(str(deepseek_tiny), tmp_path.as_uri(), {"contextSize": 4096}, env=arenas)
    try:
        probe.request(2, "deepfim/stats", None, 60)
        status = Path(f"/proc/{probe.proc.pid}/status").read_text()
        peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmPeak:"))) * 1024
    finally:
        assert probe.close() == 0
    # Address space for a smaller window (and the margin the server keeps free), not for 128K tokens.
    server = RawServer(str(deepseek_tiny), tmp_path.as_uri(), {"contextSize": 131072}, env=arenas,
                       memory_limit=peak + MARGIN_BYTES + (160 << 20))
    try:
        assert isinstance(complete_once(server, (tmp_path / "b.py").as_uri(), "x = ", 3), list)
        assert server.close() == 0
        while not server.messages.empty():
            server.skipped.append(server.messages.get())
        shown = [m["params"] for m in server.skipped if m.get("method") == "window/showMessage"]
        assert [m["type"] for m in shown] == [2], (shown, bytes(server.stderr[-3000:]).decode(errors="replace"))
        assert "not enough memory for a 131072-token window; using" in shown[0]["message"]
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


def test_affordable_window_halves_until_it_fits() -> None:
    shape = AttentionShape(n_layer=24, n_embd=2048, n_head=16, n_head_kv=16)  # DeepSeek-Coder 1.3B
    need_16k = shape.window_bytes(16384, 256)
    assert 3 << 30 < need_16k < 4 << 30  # 3 GiB of f16 KV cache and the micro-batch's scores
    assert affordable_window(16384, shape, 256, None, 2048) == 16384  # nothing known: as asked
    assert affordable_window(16384, shape, 256, need_16k + MARGIN_BYTES, 2048) == 16384
    assert affordable_window(16384, shape, 256, need_16k + MARGIN_BYTES - 1, 2048) == 8192
    assert affordable_window(16384, shape, 256, 0, 2048) == 2048  # the floor; loading then says why

"""The `deepfim` command line: complete (plain and --json) and models."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.lsp_client import REPO


def deepfim(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=dict(os.environ, **(env or {})), timeout=timeout)


def test_complete_json_contract(deepseek_tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "app.py"
    source.write_text("def square(x):\n    return x * x\n\nprint(square(3))\n", encoding="utf-8")
    out = deepfim("complete", str(source), "--line", "1", "--character", "11", "--model", str(deepseek_tiny),
                  "--workspace", str(tmp_path), "--json", "--max-tokens", "8")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"completion", "model", "prompt", "timings"}
    assert isinstance(data["completion"], str) and data["model"] == "deepseek-coder-synthetic"
    assert set(data["timings"]) == {"prompt_tokens_evaluated", "prompt_tokens_reused", "generated_tokens",
                                    "prompt_ms", "generate_ms", "total_ms"}
    segments = data["prompt"]["segments"]
    assert all(set(s) == {"kind", "source", "tokens", "text"} for s in segments)
    assert {s["kind"] for s in segments} <= {"control", "context", "prefix", "suffix", "middle"}
    assert sum(s["tokens"] for s in segments) == len(data["prompt"]["token_ids"])
    assert data["timings"]["prompt_tokens_evaluated"] == len(data["prompt"]["token_ids"])
    middle = [s for s in segments if s["kind"] == "middle"][0]
    assert middle["text"] == "    return "


def test_complete_plain_output_with_real_model(gemma_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "reader.py"
    source.write_text('def read_lines(path):\n    """Return the lines of the file at `path`."""\n    ',
                      encoding="utf-8")
    out = deepfim("complete", str(source), "--line", "2", "--character", "4", "--model", str(gemma_model),
                  "--max-tokens", "40")
    assert out.returncode == 0, out.stderr
    assert "open(" in out.stdout


def test_missing_model_is_one_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    out = deepfim("complete", str(source), "--line", "0", "--character", "0", "--model",
                  str(tmp_path / "missing.gguf"))
    assert out.returncode == 1
    assert "does not exist" in out.stderr and "--model" in out.stderr
    assert "Traceback" not in out.stderr


def test_models_list_and_unreachable_pull(tmp_path: Path) -> None:
    listed = deepfim("models", "list", env={"DEEPFIM_CACHE": str(tmp_path)})
    assert listed.returncode == 0
    assert "* deepseek-coder-1.3b-base:Q4_K_M" in listed.stdout
    assert "deepseek-coder-33b-base:Q8_0" in listed.stdout
    pulled = deepfim("models", "pull", "deepseek-coder-1.3b-base",
                     env={"DEEPFIM_CACHE": str(tmp_path), "DEEPFIM_HUB": "http://127.0.0.1:9"}, timeout=60)
    assert pulled.returncode == 1
    lines = pulled.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot download" in lines[0] and "--model" in lines[0]


def test_unreadable_sources_are_one_clear_error(deepseek_tiny: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    os.mkfifo(tmp_path / "fifo")  # reading it would block for good
    for source in ("loop1", "fifo", "/dev/zero", ".", "missing.py"):
        out = deepfim("complete", str(tmp_path / source), "--line", "0", "--character", "0", "--json",
                      "--model", str(deepseek_tiny), timeout=60)
        assert out.returncode == 1 and out.stdout == "", source
        assert out.stderr.startswith("deepfim: cannot read ") and "Traceback" not in out.stderr, out.stderr


def test_serve_over_tcp(deepseek_tiny: Path) -> None:
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--model", str(deepseek_tiny),
                               "--tcp", f"127.0.0.1:{port}"], cwd=REPO, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        with connection, connection.makefile("rb") as answers:
            for message in ({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"processId": None, "rootUri": None, "capabilities": {}}},
                            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}):
                body = json.dumps(message).encode()
                connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                while True:
                    headers = list(iter(answers.readline, b"\r\n"))
                    length = int([h for h in headers if h.startswith(b"Content-Length")][0].split(b":")[1])
                    answer = json.loads(answers.read(length))
                    if answer.get("id") == message["id"]:
                        break
                assert "result" in answer
            body = b'{"jsonrpc": "2.0", "method": "exit"}'
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()

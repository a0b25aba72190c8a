"""models/: catalog resolution and resumable, verified downloads (against a local HTTP server)."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from models import catalog
from models.catalog import ModelNotFound, find, resolve
from models.download import DownloadError, pull

PAYLOAD = b"GGUF" + os.urandom(300_000)


class RangeHandler(http.server.BaseHTTPRequestHandler):
    ranges: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        start = 0
        header = self.headers.get("Range")
        RangeHandler.ranges.append(header or "")
        if header:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD) - start))
        self.end_headers()
        self.wfile.write(PAYLOAD[start:])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DEEPFIM_HUB", f"http://127.0.0.1:{server.server_port}")
    RangeHandler.ranges = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_pull_resumes_a_partial_download_and_verifies(hub: str) -> None:
    entry = replace(find("deepseek-coder-1.3b-base"), sha256=hashlib.sha256(PAYLOAD).hexdigest())
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.write_bytes(PAYLOAD[:100_000])
    path = pull(entry, progress=lambda done, total: None)
    assert path.read_bytes() == PAYLOAD
    assert RangeHandler.ranges == ["bytes=100000-"]
    assert resolve("deepseek-coder-1.3b-base") == path


def test_pull_rejects_a_bad_checksum(hub: str) -> None:
    entry = replace(find("deepseek-coder-1.3b-base"), sha256="0" * 64)
    with pytest.raises(DownloadError, match="corrupt"):
        pull(entry, progress=lambda done, total: None)
    assert not entry.local_path.exists()
    assert not entry.local_path.with_name(entry.local_path.name + ".part").exists()


def test_resolve_model_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert resolve(str(model)) == model
    monkeypatch.setenv("DEEPFIM_MODEL", str(model))
    assert resolve(None) == model
    monkeypatch.delenv("DEEPFIM_MODEL")
    with pytest.raises(ModelNotFound, match="deepfim models pull deepseek-coder-1.3b-base"):
        resolve(None)
    with pytest.raises(ModelNotFound, match="unknown model"):
        resolve("gpt-17")
    assert find("deepseek-coder-6.7b-base:Q8_0").quant == "Q8_0"
    assert {e.params for e in catalog.entries()} == {"1.3B", "6.7B", "33B"}
    assert {e.quant for e in catalog.entries()} >= {"Q4_K_M", "Q8_0"}

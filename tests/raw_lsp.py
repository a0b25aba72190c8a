"""A raw JSON-RPC pipe to `deepfim serve`, for sending malformed or hostile messages."""

from __future__ import annotations

import json
import os
import queue
import resource
import subprocess
import sys
import threading
from typing import Any, Optional

from tests.lsp_client import REPO


class RawServer:
    """`deepfim serve` with bytes in and parsed messages out."""

    def __init__(self, model: str, root_uri: Optional[str] = None, options: Optional[dict] = None,
                 log_level: str = "WARNING", memory_limit: Optional[int] = None,
                 env: Optional[dict] = None, initialize: bool = True) -> None:
        def limit_memory() -> None:  # address space of the server, in bytes
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

        self.proc = subprocess.Popen([sys.executable, "-m", "server.cli", "--log-level", log_level, "serve",
                                      "--model", model],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=REPO, preexec_fn=limit_memory if memory_limit else None,
                                     env=dict(os.environ, **env) if env else None)
        self.messages: "queue.Queue[dict]" = queue.Queue()
        self.skipped: list[dict] = []  # messages passed over while waiting for a response
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr = bytearray()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        if initialize:
            self.request(1, "initialize", {"processId": None, "rootUri": root_uri, "capabilities": {},
                                           "initializationOptions": options or {}})
            self.notify("initialized", {})

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n") and length is not None:
                    break
            self.messages.put(json.loads(stream.read(length)))

    def _drain(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.stderr.extend(line)

    def send_bytes(self, body: bytes) -> None:
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are, framing included."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_bytes(json.dumps(message).encode())

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, msg_id: Any, method: str, params: Any, timeout: float = 60) -> dict:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.response(msg_id, timeout)

    def response(self, msg_id: Any, timeout: float = 60) -> dict:
        """The response to `msg_id` (others go to `skipped`); raises queue.Empty on timeout."""
        for message in self.skipped:  # answered before a response we waited for first
            if "method" not in message and message.get("id") == msg_id:
                self.skipped.remove(message)
                return message
        while True:
            message = self.messages.get(timeout=timeout)
            if "method" not in message and message.get("id") == msg_id:
                return message
            self.skipped.append(message)

    def close(self) -> int:
        try:
            self.request(999_999, "shutdown", None, timeout=20)
            self.notify("exit", None)
            code = self.proc.wait(20)
            self._drainer.join(10)
            return code
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

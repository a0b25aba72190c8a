"""Finding a remote engine's API by probing, against a real llama-server that stops answering: the
probes wait no longer than connecting to a named API does (GRACE_S), so the keystrokes queued behind
the connection are answered within the time budget plus 2 s."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from server.engines import open_remote
from server.engines.base import EngineUnavailable
from server.engines.remote import GRACE_S
from tests.llama_server import LlamaServer


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_probing_a_stalled_server_takes_no_longer_than_connecting_to_a_named_api(deepseek_tiny: Path,
                                                                                suffix: str) -> None:
    server = LlamaServer(deepseek_tiny, ctx=1024)
    try:
        os.kill(server.process.pid, signal.SIGSTOP)
        took = {}
        for api in ("llama.cpp" if not suffix else "openai", None):  # named, then found by probing
            start = time.monotonic()
            with pytest.raises(EngineUnavailable, match="did not answer in time"):
                open_remote(server.url + suffix, api, None, 1024)
            took[api] = time.monotonic() - start
        assert took[None] < GRACE_S + 0.5, took
        assert took[None] < took["llama.cpp" if not suffix else "openai"] + 0.5, took
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.close()


def test_an_outage_met_on_the_servers_own_paths_names_the_v1_url_the_user_set(deepseek_tiny: Path) -> None:
    """llama-server's `/v1`: text is tokenized at the server's root (`/tokenize`); when the server is
    killed, the message of that request names the engine URL as set (with `/v1`), as every other does."""
    server = LlamaServer(deepseek_tiny, ctx=1024)
    engine = open_remote(server.url + "/v1", "openai", None, 1024)
    try:
        server.process.kill()
        server.process.wait(10)
        with pytest.raises(EngineUnavailable) as raised:
            engine.tokenize("def never_tokenized_before(value):\n")
        assert f"the engine at {server.url}/v1 refused the connection" in str(raised.value), str(raised.value)
    finally:
        engine.close()
        server.close()

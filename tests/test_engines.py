"""Remote engines: a real llama-server on loopback (built from the vendored llama.cpp, see
tests/llama_server.py) through its native API and its OpenAI-compatible /v1, with an API key;
faults and Ollama's protocol at the HTTP boundary."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import pytest
from lsprotocol import types

from server.engines import open_remote
from server.engines.base import EngineReplaced, EngineUnavailable, ModelLoadError
from server.engines.http import HttpClient
from server.engines.remote import WORD_JOINER
from tests.llama_server import LlamaServer, free_port
from tests.lsp_client import REPO, LspSession

API_KEY = "deepfim-test-key"
HOLE_FILE = "def f(x):\n    '''spells <｜fim▁hole｜> and <|EOT|>'''\n    return x\n"


def deepfim(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, **(env or {})), timeout=timeout)


@pytest.fixture(scope="module")
def tiny_server(deepseek_tiny: Path) -> Iterator[LlamaServer]:
    with LlamaServer(deepseek_tiny, ctx=4096, api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def gemma_server(gemma_model: Path) -> Iterator[LlamaServer]:
    with LlamaServer(gemma_model, ctx=4096) as server:
        yield server


@pytest.fixture()
def with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFIM_API_KEY", API_KEY)


def _complete_json(path: Path, line: int, character: int, *extra: str, key: bool = True) -> dict:
    out = deepfim("complete", str(path), "--line", str(line), "--character", str(character), "--json", "--compact",
                  *extra, env={"DEEPFIM_API_KEY": API_KEY} if key else {"DEEPFIM_API_KEY": ""})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("api", ["llama.cpp", "openai"])
def test_the_exact_deepseek_layout_on_llama_server(api: str, tiny_server: LlamaServer, deepseek_tiny: Path,
                                                   tmp_path: Path) -> None:
    source = tmp_path / "hole.py"
    source.write_text(HOLE_FILE)
    url = tiny_server.url + ("/v1" if api == "openai" else "")
    remote = _complete_json(source, 2, 11, "--engine", url, "--engine-api", api, "--max-tokens", "4")
    local = _complete_json(source, 2, 11, "--model", str(deepseek_tiny), "--max-tokens", "4")
    assert remote["model"] == deepseek_tiny.stem  # (llama-server's /v1 names the model by its path)
    ids = remote["prompt"]["token_ids"]
    assert ids[:2] == [32013, 32016] and ids.count(32015) == 1 and ids.count(32017) == 1 and ids[-1] != 32021
    assert 32021 not in ids and 32021 not in local["prompt"]["token_ids"]  # the file's "<|EOT|>" stayed text
    # The same prompt as in-process, but for token healing (a server cannot constrain its first tokens).
    middle = [s for s in local["prompt"]["segments"] if s["kind"] == "middle"][0]
    assert ids == local["prompt"]["token_ids"][:len(ids)] or ids[:-1] == local["prompt"]["token_ids"][:len(ids) - 1]
    assert middle["text"] == "    return "


def test_probing_finds_the_api_and_an_api_key_is_required(tiny_server: LlamaServer, tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    found = _complete_json(source, 1, 0, "--engine", tiny_server.url, "--max-tokens", "2")
    assert found["model"].startswith("deepseek-coder-synthetic")
    out = deepfim("complete", str(source), "--line", "1", "--character", "0", "--engine", tiny_server.url,
                  env={"DEEPFIM_API_KEY": ""})
    assert out.returncode == 1 and "HTTP 401" in out.stderr and "DEEPFIM_API_KEY" in out.stderr
    assert API_KEY not in out.stderr
    out = deepfim("complete", str(source), "--line", "1", "--character", "0", "--engine", tiny_server.url,
                  env={"DEEPFIM_API_KEY": "wrong"})
    assert out.returncode == 1 and "refused the API key" in out.stderr and "wrong" not in out.stderr


def test_the_wrong_api_for_a_url_says_to_check_the_url(tiny_server: LlamaServer, tmp_path: Path) -> None:
    """llama-server's root also serves /models and /completions, in its own format: named as an
    OpenAI-compatible server without /v1, it streams events deepfim cannot read."""
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    out = deepfim("complete", str(source), "--line", "1", "--character", "0", "--engine", tiny_server.url,
                  "--engine-api", "openai", env={"DEEPFIM_API_KEY": API_KEY})
    assert out.returncode == 1 and "check the engine URL and --engine-api" in out.stderr, out.stderr
    assert tiny_server.url in out.stderr and "/v1" in out.stderr


def test_real_output_of_the_small_model_through_llama_server(gemma_server: LlamaServer, gemma_model: Path,
                                                              tmp_path: Path) -> None:
    source = tmp_path / "reader.py"
    source.write_text('def read_lines(path):\n    """Return the lines of the file at `path`."""\n    \n')
    remote = _complete_json(source, 2, 4, "--engine", gemma_server.url, "--max-tokens", "24", key=False)
    local = _complete_json(source, 2, 4, "--model", str(gemma_model), "--max-tokens", "24", key=False)
    assert remote["prompt"]["token_ids"] == local["prompt"]["token_ids"]
    assert remote["completion"] == local["completion"] and "open(" in remote["completion"]


def test_typing_reuses_the_servers_kv_cache(tiny_server: LlamaServer, with_key: None, tmp_path: Path) -> None:
    text = "".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(40)) + "result = "
    session = LspSession("", tmp_path, options={"engine": tiny_server.url, "maxTokens": 8,
                                                           "contextSize": 4096})
    try:
        uri = session.open(tmp_path / "typing.py", text)
        line, column = text.count("\n"), len("result = ")
        session.inline(uri, line, column)  # the cold read
        counts = []
        typed = ""
        for k, char in enumerate("helper_3(12)"):
            typed += char
            session.change(uri, k + 2, text + typed)
            before = tiny_server.metric("llamacpp:prompt_tokens_total")
            session.inline(uri, line, column + len(typed))
            counts.append(tiny_server.metric("llamacpp:prompt_tokens_total") - before)
        model_runs = [c for c in counts if c > 0]
        assert model_runs and max(model_runs) <= 32, counts
    finally:
        session.close()


def test_each_session_keeps_its_slot_on_a_shared_server(gemma_model: Path) -> None:
    """Three sessions on a 3-slot server each take a slot no one has used (`/slots`) and ask for it
    by `id_slot`. A request sent right after closing a stream (the server has not noticed yet and
    its slot is still busy) waits for that slot instead of being handed the least recently used one
    (another session's window, then read again or copied back from the server's RAM). A session
    that finds no fresh slot learns the server's choice from a finished request."""
    with LlamaServer(gemma_model, ctx=2048, parallel=3) as server:  # a real model: slow enough to race
        engines = [open_remote(server.url, "llama.cpp", None, 2048) for _ in range(4)]
        prompts = [engine.tokenize("".join(f"def f{k}_{i}(x):\n    return x * {i} + {k}\n\n" for i in range(40)))
                   for k, engine in enumerate(engines)]
        never = lambda: False  # noqa: E731
        first_token = lambda text: len(text) if text else None  # noqa: E731
        for engine, prompt in zip(engines[:3], prompts):
            cut = engine.generate(prompt, 400, never, stop_at=first_token)  # closed early: no final event
            assert cut.prompt_tokens_evaluated > 400
        assert len({engine.slot for engine in engines[:3]} - {None}) == 3
        log_start = len(Path(server.log.name).read_text())
        for _ in range(4):
            assert engines[0].generate(prompts[0], 400, never, stop_at=first_token).stop_reason == "stop"
            for engine, prompt in zip(engines[:3], prompts):
                assert engine.generate(prompt, 1, never).prompt_tokens_evaluated <= 8
        choices = re.findall(r"selected slot by (\w+)", Path(server.log.name).read_text()[log_start:])
        assert choices and set(choices) == {"id"}, choices
        assert engines[0].prefill(prompts[0], never) == (len(prompts[0]), 0)  # just read: nothing sent

        late = engines[3]  # every slot taken: the server chooses, a finished request names its choice
        late.generate(prompts[3], 400, never, stop_at=first_token)
        assert late.slot is None
        server.settle(0.5, timeout_s=30)  # the pause after which deepfim prefills, and the close noticed
        assert late.prefill(prompts[3], never)[1] <= 8  # sent, since the slot is still to be learned
        assert late.slot in {engine.slot for engine in engines[:3]}
        for engine in engines:
            engine.close()


def test_sessions_starting_at_once_get_different_slots(deepseek_tiny: Path) -> None:
    """Four sessions whose first requests reach a 4-slot server at once each get a slot of their own
    (picked at random from the same list of fresh slots, they shared one 9 times in 10), and a claim
    answered too late is found again by the session's seed."""
    with LlamaServer(deepseek_tiny, ctx=1024, parallel=4) as server:
        engines = [open_remote(server.url, "llama.cpp", None, 1024) for _ in range(4)]
        prompts = [engine.tokenize("".join(f"def g{k}_{i}(y):\n    return y - {i} * {k}\n\n" for i in range(12)))
                   for k, engine in enumerate(engines)]
        start = threading.Barrier(len(engines))

        def first_request(engine: object, prompt: list[int]) -> None:
            start.wait()
            engine.generate(prompt, 1, lambda: False)  # type: ignore[attr-defined]

        threads = [threading.Thread(target=first_request, args=pair) for pair in zip(engines, prompts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(engine.slot for engine in engines) == [0, 1, 2, 3]
        late = engines[0]
        claimed, late.slot, late._claimed = late.slot, None, False  # as if the claim's answer never came
        assert late._claim_slot() and late.slot == claimed
        for engine in engines:
            engine.close()


def test_sessions_that_picked_the_same_slot_part(deepseek_tiny: Path) -> None:
    """Two sessions on one slot (another client's, or a claim lost in an outage) evict each other's
    window at every keystroke; on a CPU server each re-reading held every slot for half a minute. A
    request that finds its window gone from its slot moves its session to a fresh one. (The
    server's RAM prompt cache, off here, copies a window back when it kept it.)"""
    with LlamaServer(deepseek_tiny, ctx=2048, parallel=2, extra=["--cache-ram", "0"]) as server:
        first, second = (open_remote(server.url, "llama.cpp", None, 2048) for _ in range(2))
        prompts = [engine.tokenize("".join(f"def f{k}_{i}(x):\n    return x * {i} + {k}\n\n" for i in range(40)))
                   for k, engine in enumerate((first, second))]
        never = lambda: False  # noqa: E731
        first.generate(prompts[0], 1, never)
        second.slot, second._claimed = first.slot, True  # the same random pick
        second.generate(prompts[1], 1, never)  # evicts the first session's window
        assert first.generate(prompts[0], 1, never).prompt_tokens_evaluated > 256  # its window, read again
        first_slot = first.slot
        for engine, prompt in zip((first, second), prompts):  # each window read once more, in its own slot:
            engine.generate(prompt, 1, never)  # the first session's next request moved it (to the one fresh slot)
        assert first.slot != first_slot and first.slot != second.slot  # no fresh slot left: the second one stays
        for _ in range(3):
            for engine, prompt in zip((first, second), prompts):
                assert engine.generate(prompt, 1, never).prompt_tokens_evaluated <= 8
        first.close()
        second.close()


def test_cancellation_stops_the_servers_decoding(gemma_server: LlamaServer, tmp_path: Path) -> None:
    session = LspSession("", tmp_path, options={"engine": gemma_server.url, "maxTokens": 2000,
                                                           "timeBudgetMs": 60000, "contextSize": 4096})
    try:
        uri = session.open(tmp_path / "long.md", "# Notes\n\nA long story about compilers. Once upon a time, ")
        msg_id, future = session.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=55),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
        wait = time.monotonic() + 60
        while _decoded(gemma_server) < 8:  # generating (a server reading a prompt notices a closed
            assert time.monotonic() < wait, "the server never started decoding"  # connection only after)
            time.sleep(0.01)
        cancelled = time.monotonic()
        session.cancel(msg_id)
        while _processing(gemma_server):
            assert time.monotonic() - cancelled < 1.0, "the server kept decoding after $/cancelRequest"
            time.sleep(0.01)
        stopped_ms = (time.monotonic() - cancelled) * 1000
        print(f"server stopped decoding {stopped_ms:.0f} ms after $/cancelRequest")
        with pytest.raises(Exception):
            future.result(10)  # answered with RequestCancelled
    finally:
        session.close()


def _processing(server: LlamaServer) -> bool:
    with urllib.request.urlopen(server.url + "/slots", timeout=5) as answer:
        return any(slot.get("is_processing") for slot in json.load(answer))


def _decoded(server: LlamaServer) -> int:
    """Tokens generated so far by the busy slot (0 while none is generating)."""
    with urllib.request.urlopen(server.url + "/slots", timeout=5) as answer:
        slots = [slot for slot in json.load(answer) if slot.get("is_processing")]
    tokens = [t.get("n_decoded", 0) for slot in slots for t in slot.get("next_token") or []]
    return max(tokens, default=0)


def test_an_outage_is_reported_once_and_completions_come_back(deepseek_tiny: Path, tmp_path: Path) -> None:
    server = LlamaServer(deepseek_tiny, ctx=2048)
    session = LspSession("", tmp_path, options={"engine": server.url, "maxTokens": 4,
                                                           "contextSize": 2048, "timeBudgetMs": 1000})
    try:
        uri = session.open(tmp_path / "a.py", "def f(x):\n    return ")
        assert session.inline(uri, 1, 11) is not None
        server.stop()
        for k in range(4):
            session.change(uri, k + 2, "def f(x):\n    return " + "x" * (k + 1))
            started = time.monotonic()
            answer = session.inline(uri, 1, 12 + k)
            assert time.monotonic() - started < 1.0 + 2.0 and not answer.items
        errors = [m.message for m in session.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and server.url in errors[0] and "refused" in errors[0], errors
        server.start()
        _type_until_the_model_runs(session, uri, 50, 40)  # back-off: 1, 2, 4 ... s between tries
        statuses = [_status(s) for s in session.statuses]
        assert any(s["state"] == "ready" and "again" in s["message"] for s in statuses), statuses
    finally:
        session.close()
        server.close()



def _type_until_the_model_runs(session: LspSession, uri: str, version: int, seconds: float) -> None:
    """Type a new word at the end of `def f(x):\n    return ` until the model runs on the text (its
    prompt holds the word): completions are back, within `seconds`."""
    deadline = time.monotonic() + seconds
    for attempt in range(1000):
        marker = f"x{attempt}"
        session.change(uri, version + attempt, "def f(x):\n    return " + marker)
        session.inline(uri, 1, 11 + len(marker))
        explained = session.explain(uri)
        if explained and marker in "".join(s["text"] for s in explained["prompt"]["segments"]):
            return
        assert time.monotonic() < deadline, "completions did not come back after the server did"
        time.sleep(0.5)

def test_a_server_restarted_with_another_model_and_window_is_connected_to_again(deepseek_tiny: Path, gemma_model: Path,
                                                                             tmp_path: Path) -> None:
    """Restarted on the same port with another model and a smaller window, the server is read again
    (its vocabulary, template and window): completions come back on it, and soon (the port is
    knocked on while deepfim backs off), with no restart of deepfim."""
    server = LlamaServer(deepseek_tiny, ctx=2048)
    session = LspSession("", tmp_path, options={"engine": server.url, "maxTokens": 4, "contextSize": 2048,
                                                "timeBudgetMs": 1000})
    replacement = None
    try:
        uri = session.open(tmp_path / "a.py", "def f(x):\n    return ")
        assert session.inline(uri, 1, 11) is not None
        assert session.explain(uri)["model"] == deepseek_tiny.stem
        server.stop()
        for k in range(3):  # refused three times: deepfim backs off 4 s
            session.change(uri, k + 2, "def f(x):\n    return " + "x" * (k + 1))
            session.inline(uri, 1, 12 + k)
            time.sleep(2.0 ** k + 0.1)
        replacement = LlamaServer(gemma_model, ctx=1024, port=server.port)
        up = time.monotonic()
        for attempt in range(1000):
            marker = f"x{attempt}"
            session.change(uri, 50 + attempt, "def f(x):\n    return " + marker)
            session.inline(uri, 1, 11 + len(marker))
            explained = session.explain(uri)
            if explained and explained["model"] == gemma_model.stem and \
                    marker in "".join(s["text"] for s in explained["prompt"]["segments"]):
                break
            assert time.monotonic() < up + 20, f"completions did not come back on the new model: {explained}"
            time.sleep(0.25)
        back = time.monotonic() - up
        print(f"completions back on the restarted server {back:.1f} s after it answered")
        assert back < 4.0  # sooner than the back-off would have tried again
        statuses = [_status(s) for s in session.statuses]
        assert any(s["state"] == "ready" and "1024-token window" in s["message"] for s in statuses), statuses
    finally:
        session.close()
        server.close()
        if replacement is not None:
            replacement.close()


@pytest.mark.parametrize("api", ["llama.cpp", "openai"])
def test_a_replaced_server_is_said_again_until_the_engine_is_opened_again(api: str, deepseek_tiny: Path,
                                                                          gemma_model: Path) -> None:
    """Whoever meets the news first (an edit, a completion), every later request hears it too, until
    the engine is opened again: none of them runs on the old vocabulary (also through `/v1`, whose
    tokenizing goes to the server's root)."""
    server = LlamaServer(deepseek_tiny, ctx=1024)
    replacement = None
    url = server.url + ("/v1" if api == "openai" else "")
    try:
        engine = open_remote(url, api, None, 1024)
        assert engine.generate(engine.tokenize("def f(x):\n    return "), 1, lambda: False).stop_reason
        server.stop()
        replacement = LlamaServer(gemma_model, ctx=1024, port=server.port)
        for _ in range(2):
            prompt = engine.tokenize("def f(x):\n    return ")  # a request finds the kept connection gone
            with pytest.raises(EngineReplaced, match="restarted with another model"):
                engine.generate(prompt, 1, lambda: False)
        engine.close()
        assert open_remote(url, api, None, 1024).info.name == gemma_model.stem
    finally:
        server.close()
        if replacement is not None:
            replacement.close()


@pytest.mark.parametrize("api", ["llama.cpp", "openai"])
def test_a_stalled_server_holds_no_keystroke_past_the_budget(api: str, deepseek_tiny: Path, tmp_path: Path) -> None:
    """A server that stops answering (SIGSTOP) while the user types text never tokenized before: the
    tokenizing requests wait no longer than the budget allows, and every keystroke queued behind
    them is answered within the budget plus 2 s, with one message."""
    server = LlamaServer(deepseek_tiny, ctx=2048)
    session = LspSession("", tmp_path, options={"engine": server.url + ("/v1" if api == "openai" else ""),
                                                "engineApi": api, "maxTokens": 4, "contextSize": 2048,
                                                "timeBudgetMs": 1000})
    text = "".join(f"def helper_{i}(value):\n    return value * {i} + {i * 3}\n\n" for i in range(40)) + "result = "
    last = text.count("\n")
    try:
        uri = session.open(tmp_path / "a.py", text)
        assert session.inline(uri, last, 9) is not None
        os.kill(server.process.pid, signal.SIGSTOP)
        answered: list[float] = []
        pending = []
        typed = ""
        for k in range(6):
            typed += "xyzzy"[k % 5]
            session.change(uri, k + 2, text + typed)
            sent = time.monotonic()
            _, future = session.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=last, character=9 + len(typed)),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
            future.add_done_callback(lambda _, sent=sent: answered.append(time.monotonic() - sent))
            pending.append(future)
            time.sleep(0.25)
        for future in pending:
            future.result(30)
        assert len(answered) == 6 and max(answered) < 1.0 + 2.0, answered
        errors = [m.message for m in session.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and server.url in errors[0] and "in time" in errors[0], errors
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        session.close()
        server.close()


def _status(params: object) -> dict:
    return params if isinstance(params, dict) else dict(params._asdict())  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the HTTP boundary (fake servers)


def serving(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    """A loopback HTTP server of `handler`, serving on a thread of its own."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class FakeServer:
    """A loopback HTTP server answering with `handle(method, path, body) -> (status, content type, chunks)`."""

    def __init__(self, handle: Callable[[str, str, dict], tuple[int, str, list[bytes]]], port: int = 0) -> None:
        self.requests: list[tuple[str, str, dict]] = []
        self.headers: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else {}
                owner.requests.append((method, self.path, body))
                owner.headers.append(dict(self.headers))
                status, kind, chunks = handle(method, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.end_headers()
                try:
                    for chunk in chunks:
                        if chunk == b"STALL":
                            time.sleep(30)
                            continue
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = serving(Handler, port)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _ollama_vocab() -> list[str]:
    vocab = [f"tok{i}" for i in range(32013)]
    return vocab + ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜fim▁hole｜>", "<｜fim▁begin｜>",
                    "<｜fim▁end｜>"]


def _ollama(stream: list[bytes]) -> Callable[[str, str, dict], tuple[int, str, list[bytes]]]:
    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/api/version":
            return 200, "application/json", [b'{"version": "0.12.0"}']
        if path == "/api/tags":
            return 200, "application/json", [b'{"models": [{"name": "deepseek-coder:1.3b-base"}]}']
        if path == "/api/show":
            info = {"general.architecture": "llama", "llama.context_length": 16384,
                    "tokenizer.ggml.tokens": _ollama_vocab()}
            return 200, "application/json", [json.dumps({"model_info": info}).encode()]
        if path == "/api/generate":
            return 200, "application/x-ndjson", stream
        return 404, "text/plain", [b"404 page not found"]
    return handle


def test_ollama_raw_text_prompt_with_control_spellings_broken(tmp_path: Path) -> None:
    words = [b'{"response": "comp", "done": false}\n', b'{"response": "ute(1)", "done": false}\n',
             b'{"response": "", "done": true, "done_reason": "stop", "prompt_eval_count": 30, '
             b'"prompt_eval_duration": 5000000, "eval_count": 2}\n']
    fake = FakeServer(_ollama(words))
    try:
        source = tmp_path / "hole.py"
        source.write_text(HOLE_FILE + "\ny = \n")
        data = _complete_json(source, 4, 4, "--engine", fake.url, "--max-tokens", "8", key=False)
        assert data["completion"] == "compute(1)"
        method, path, body = fake.requests[-1]
        assert path == "/api/generate" and body["raw"] is True and body["stream"] is True
        assert body["model"] == "deepseek-coder:1.3b-base" and body["options"]["num_predict"] == 8
        prompt = body["prompt"]
        assert prompt.startswith("<｜fim▁begin｜>") and prompt.count("<｜fim▁hole｜>") == 1
        assert prompt.endswith("<｜fim▁end｜>" + HOLE_FILE.replace("<", "<" + WORD_JOINER) + "\ny = ")
        assert f"spells <{WORD_JOINER}｜fim▁hole｜> and <{WORD_JOINER}|EOT|>" in prompt
    finally:
        fake.close()


@pytest.mark.parametrize("fault,expected", [
    ((401, "application/json", [b'{"error": "unauthorized"}']), "HTTP 401"),
    ((404, "text/plain", [b"not found"]), "HTTP 404"),
    ((503, "application/json", [b'{"error": "loading model"}']), "HTTP 503"),
    ((200, "application/x-ndjson", [b'{"response": "x", "done": false}\n', b"<html>oops\n"]), "garbled"),
    ((200, "application/x-ndjson", [b'{"response": "x", "done": false}\n', b"caf\xe9\n"]), "garbled"),
    ((200, "application/x-ndjson", [b'{"response": "x", "done": false}\n', b"null\n"]), "garbled"),
    ((200, "application/x-ndjson", [b'{"response": "x", "done": false}\n', b"[1, 2]\n"]), "garbled"),
    ((200, "application/x-ndjson", [b'{"response": 5, "done": false}\n']), "cannot read as the ollama API"),
    ((200, "application/x-ndjson", [b'{"error": {"code": 500}}\n']), "reported an error: .*code.: 500"),
    ((200, "application/x-ndjson", [b'{"response": "x", "done": false}\n']), "ended before"),
    ((200, "application/x-ndjson", [b'{"response": "x", "done": false}\n', b"STALL"]), None),
])
def test_faults_are_answered_within_the_budget_with_a_clear_message(fault: tuple, expected: str | None) -> None:
    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/api/generate":
            return fault
        return _ollama([])(method, path, body)

    fake = FakeServer(handle)
    try:
        engine = open_remote(fake.url, "ollama", None, 4096)
        prompt = engine.tokenize("def f():\n    return ")
        started = time.monotonic()
        if expected is None:  # a stalled stream: cut at the budget plus the grace
            generation = engine.generate(prompt, 16, lambda: False, time_budget_s=0.5)
            assert generation.stop_reason == "time" and generation.text == "x"
        else:
            with pytest.raises(EngineUnavailable, match=expected) as caught:
                engine.generate(prompt, 16, lambda: False, time_budget_s=0.5)
            assert fake.url in str(caught.value)
            with pytest.raises(EngineUnavailable, match="trying again in"):  # backing off, not hammering
                engine.generate(prompt, 16, lambda: False, time_budget_s=0.5)
        assert time.monotonic() - started < 0.5 + 2.0 + 0.5
    finally:
        fake.close()



def test_a_server_loading_its_model_is_connected_to_once_it_is_ready(tiny_server: LlamaServer,
                                                                     tmp_path: Path) -> None:
    """Found by probing (no engineApi): llama-server answers 503 to every path while it loads its
    model, which is no "this is not llama-server". deepfim asks again each second, and completions
    come within seconds of the server being ready (here a proxy to the real one), with no restart."""
    loading = threading.Event()
    loading.set()

    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if loading.is_set():
            return 503, "application/json", [b'{"error": {"code": 503, "message": "Loading model", '
                                             b'"type": "unavailable_error"}}']
        request = urllib.request.Request(tiny_server.url + path, method=method,
                                         data=json.dumps(body).encode() if method == "POST" else None,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {API_KEY}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.headers["Content-Type"], [answer.read()]
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], [error.read()]

    fake = FakeServer(handle)
    session = LspSession("", tmp_path, options={"engine": fake.url, "maxTokens": 4, "contextSize": 2048,
                                                "timeBudgetMs": 1000})
    try:
        uri = session.open(tmp_path / "a.py", "def f(x):\n    return ")
        assert not session.inline(uri, 1, 11).items
        deadline = time.monotonic() + 30
        while not any("HTTP 503" in str(_status(s).get("message")) for s in session.statuses):
            assert time.monotonic() < deadline, [_status(s) for s in session.statuses]
            time.sleep(0.1)
        time.sleep(7)  # loading for a while: asked again each second, not after 2, 4, 8 ... s
        loading.clear()
        _type_until_the_model_runs(session, uri, 10, 4)
        assert not any("cannot tell which API" in m.message for m in session.messages)
    finally:
        session.close()
        fake.close()


def _vllm(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
    """vLLM's OpenAI-compatible server as its documentation shows it: `/v1/models`, `/tokenize` and
    `/detokenize` at the root (a character a token here; DeepSeek's control tokens parsed, as vLLM's
    tokenizer does), `/v1/completions` streamed; no `/props`."""
    specials = {"<｜begin▁of▁sentence｜>": 32013, "<｜end▁of▁sentence｜>": 32014, "<｜fim▁hole｜>": 32015,
                "<｜fim▁begin｜>": 32016, "<｜fim▁end｜>": 32017}
    texts = {i: t for t, i in specials.items()}
    if path == "/v1/models":
        model = {"id": "deepseek-ai/deepseek-coder-1.3b-base", "object": "model", "max_model_len": 16384,
                 "root": "deepseek-ai/deepseek-coder-1.3b-base", "created": time.time()}
        return 200, "application/json", [json.dumps({"object": "list", "data": [model]}).encode()]
    if path == "/tokenize":
        pieces = re.findall("|".join(map(re.escape, specials)) + "|.", body["prompt"], re.DOTALL)
        tokens = [specials[p] if p in specials else 100000 + ord(p) for p in pieces]
        tokens = [32013] * bool(body.get("add_special_tokens")) + tokens
        return 200, "application/json", [json.dumps({"tokens": tokens, "count": len(tokens)}).encode()]
    if path == "/detokenize":
        text = "".join(texts.get(t) or chr(t - 100000) for t in body["tokens"])
        return 200, "application/json", [json.dumps({"prompt": text}).encode()]
    if path == "/v1/completions":
        events = [{"choices": [{"text": text, "finish_reason": None}]} for text in ("comp", "ute(1)")]
        events.append({"choices": [{"text": "", "finish_reason": "stop"}]})
        return 200, "text/event-stream", [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]
    return 404, "application/json", [b'{"detail": "Not Found"}']


def _completed_on_v1(fake: FakeServer, tmp_path: Path, model: str) -> object:
    """`deepfim complete` in HOLE_FILE through the fake's `/v1`: the prompt it sent (the fake answers
    `compute(1)`)."""
    source = tmp_path / "hole.py"
    source.write_text(HOLE_FILE + "\ny = \n")
    data = _complete_json(source, 4, 4, "--engine", fake.url + "/v1", "--max-tokens", "8", key=False)
    assert data["completion"] == "compute(1)"
    _, path, body = fake.requests[-1]
    assert path == "/v1/completions" and body["model"] == model
    return body["prompt"]


def test_an_openai_compatible_server_without_props_vllm(tmp_path: Path) -> None:
    fake = FakeServer(_vllm)
    try:
        prompt = _completed_on_v1(fake, tmp_path, "deepseek-ai/deepseek-coder-1.3b-base")
        assert prompt[:2] == [32013, 32016] and prompt.count(32015) == 1 and 32017 in prompt
        text = "".join(chr(t - 100000) for t in prompt if t >= 100000)
        assert f"spells <{WORD_JOINER}｜fim▁hole｜> and <{WORD_JOINER}|EOT|>" in text
    finally:
        fake.close()


def _lm_studio(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
    """LM Studio's server as documented: OpenAI-compatible `/v1/models` and `/v1/completions` (text
    prompts), its own `/api/v1/models` with the loaded window; no tokenizer endpoint (unknown paths
    answered with an error object, as LM Studio does)."""
    key = "lmstudio-community/deepseek-coder-6.7b-base"
    if path == "/v1/models":
        return 200, "application/json", [json.dumps({"data": [{"id": key, "object": "model",
                                                               "owned_by": "organization_owner"}]}).encode()]
    if path == "/api/v1/models":
        loaded = [{"id": key, "config": {"context_length": 4096}}]
        return 200, "application/json", [json.dumps({"models": [{"type": "llm", "key": key,
                                                                 "loaded_instances": loaded}]}).encode()]
    if path == "/v1/completions":
        events = [{"choices": [{"text": text, "finish_reason": None}]} for text in ("comp", "ute(1)")]
        events.append({"choices": [{"text": "", "finish_reason": "stop"}]})
        return 200, "text/event-stream", [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]
    unknown = {"error": f"Unexpected endpoint or method. ({method} {path})"}
    return 200, "application/json", [json.dumps(unknown).encode()]


def test_an_openai_compatible_server_without_a_tokenizer_lm_studio(tmp_path: Path) -> None:
    """No `/tokenize`: the prompt goes as text, DeepSeek's layout chosen by the model's name, the
    user's control-token spellings broken, the window LM Studio loaded read from its own API."""
    fake = FakeServer(_lm_studio)
    try:
        engine = open_remote(fake.url + "/v1", None, None, 16384)
        assert engine.info.n_ctx == 4096 and engine.info.template.name == "deepseek-coder"
        engine.close()
        prompt = _completed_on_v1(fake, tmp_path, "lmstudio-community/deepseek-coder-6.7b-base")
        assert isinstance(prompt, str) and prompt.startswith("<｜fim▁begin｜>")
        assert prompt.endswith("<｜fim▁end｜>" + HOLE_FILE.replace("<", "<" + WORD_JOINER) + "\ny = ")
        assert prompt.count("<｜fim▁hole｜>") == 1 and prompt.count("<｜fim▁end｜>") == 1
        assert f"spells <{WORD_JOINER}｜fim▁hole｜> and <{WORD_JOINER}|EOT|>" in prompt
    finally:
        fake.close()


def refused_three_times(client: HttpClient) -> None:
    """Three refused requests, each after the back-off of the one before: the next try is 4 s away."""
    for wait in (1.0, 2.0, None):
        with pytest.raises(EngineUnavailable, match="refused"):
            client.request("GET", "/health")
        if wait:
            time.sleep(wait + 0.05)


def answered_once_the_port_opens(client: HttpClient, within_s: float) -> None:
    """The client, backing off from a refusing server, reaches the server now listening within `within_s`."""
    up = time.monotonic()
    while True:
        try:
            assert client.request("GET", "/health") == {"status": "ok"}
            return
        except EngineUnavailable:
            assert time.monotonic() - up < within_s, "the back-off did not end when the port opened"
            time.sleep(0.1)


def test_backing_off_ends_when_the_refusing_port_takes_connections() -> None:
    """A server that refused connections is tried again once its port takes them (knocked on every
    second), not after the back-off's 4 s."""
    port = free_port()
    client = HttpClient(f"http://127.0.0.1:{port}")
    refused_three_times(client)
    with pytest.raises(EngineUnavailable, match="trying again in 4 s"):
        client.request("GET", "/health")
    fake = FakeServer(lambda method, path, body: (200, "application/json", [b'{"status": "ok"}']), port=port)
    try:
        answered_once_the_port_opens(client, 2.0)
        assert client.outage is None
    finally:
        fake.close()


def test_unreachable_hosts_fail_fast_with_the_cause() -> None:
    with pytest.raises(EngineUnavailable, match="refused the connection"):
        open_remote(f"http://127.0.0.1:{free_port()}", None, None, 4096)
    with pytest.raises(EngineUnavailable, match="cannot find the engine host"):
        open_remote("http://deepfim-no-such-host.invalid:8080", None, None, 4096)


def _slow(handle: Callable[[str, str, dict], tuple[int, str, list[bytes]]], paths: tuple[str, ...],
          delay: float) -> Callable[[str, str, dict], tuple[int, str, list[bytes]]]:
    def slow(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path in paths:
            time.sleep(delay)
        return handle(method, path, body)
    return slow


def test_a_slow_tokenizer_answers_within_the_budget_and_catches_up() -> None:
    """A server whose `/tokenize` answers each request slowly but in time (a distant server): a
    completion over text never tokenized before is answered (empty) within the budget plus 2 s, and
    the lines tokenized meanwhile are kept, so keystrokes soon get completions."""
    from server.completion import CompletionRequest, open_completer
    from server.settings import Settings

    fake = FakeServer(_slow(_vllm, ("/tokenize",), 0.15))
    try:
        settings, _ = Settings().validated({"engine": fake.url + "/v1", "timeBudgetMs": 1000, "maxTokens": 4})
        completer = open_completer(settings)
        text = "".join(f"def helper_{i}(value):\n    return value * {i} + {i * 3}\n\n" for i in range(40)) + "y = "
        request = CompletionRequest(text=text, line=text.count("\n"), character=4)
        took = []
        for _ in range(10):
            started = time.monotonic()
            result = completer.complete(request, lambda: False)
            took.append(time.monotonic() - started)
            if result.completion:
                break
        assert max(took) < 1.0 + 2.0, took
        assert result.completion == "compute(1)", took
        assert len(took) > 1  # the first ran out of time tokenizing
    finally:
        fake.close()


def test_a_cancellation_while_the_stream_connects_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelled while the connection for the stream is still being made (a distant server): the
    stream is cut once connected, not read to its end."""
    import http.client

    def tokens() -> Iterator[bytes]:
        for _ in range(20):
            time.sleep(0.2)
            yield b'{"response": "x", "done": false}\n'
        yield b'{"response": "", "done": true}\n'

    fake = FakeServer(lambda method, path, body: (200, "application/x-ndjson", tokens()) if path == "/api/generate"
                      else _ollama([])(method, path, body))
    try:
        engine = open_remote(fake.url, "ollama", None, 4096)
        prompt = engine.tokenize("def f():\n    return ")
        connect = http.client.socket.create_connection

        def distant(*args: object, **kwargs: object) -> object:
            time.sleep(0.1)
            return connect(*args, **kwargs)

        monkeypatch.setattr(http.client.socket, "create_connection", distant)
        started = time.monotonic()
        generation = engine.generate(prompt, 64, lambda: time.monotonic() - started > 0.05)
        assert generation.stop_reason == "cancelled" and time.monotonic() - started < 0.5
    finally:
        fake.close()


def test_an_openai_compatible_server_behind_a_path_prefix() -> None:
    """`https://host/llm/v1` behind a reverse proxy: the server's own paths (`/tokenize`) are looked
    for under `/llm`, not at the host's root."""
    def prefixed(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if not path.startswith("/llm/"):
            return 404, "text/plain", [b"no such path"]
        return _vllm(method, path[len("/llm"):], body)

    fake = FakeServer(prefixed)
    try:
        engine = open_remote(fake.url + "/llm/v1", None, None, 16384)
        assert engine.info.template.name == "deepseek-coder" and engine.info.n_ctx == 16384
        assert engine.special.prefix == 32016  # the server's vocabulary, not estimated tokens
        assert engine.tokenize("ab") == [100000 + ord("a"), 100000 + ord("b")]
    finally:
        fake.close()


def test_credentials_in_the_engine_url_are_sent_and_never_shown() -> None:
    fake = FakeServer(lambda method, path, body: (401, "application/json", [b'{"error": "unauthorized"}']))
    try:
        url = fake.url.replace("http://", "http://alice:s%40cret@")
        with pytest.raises(EngineUnavailable, match="refused the user and password in the engine URL") as caught:
            open_remote(url, "ollama", None, 4096)
        assert "s%40cret" not in str(caught.value) and "alice" not in str(caught.value)
        assert fake.headers[-1]["Authorization"] == "Basic YWxpY2U6c0BjcmV0"  # alice:s@cret
    finally:
        fake.close()
    for malformed in ("http:/alice:s3cret@h:8080", "alice:s3cret@h:8080", "http://alice:s3@cret@h/v1?key=s3cret"):
        with pytest.raises((EngineUnavailable, ModelLoadError)) as caught:
            open_remote(malformed, "openai", None, 4096)
        assert "s3" not in str(caught.value) and "alice" not in str(caught.value), caught.value


def test_ollama_breaks_exactly_the_models_control_spellings(tmp_path: Path) -> None:
    """Where `/api/show` lists token types, the model's own control and user-defined spellings in user
    text are broken (`<eos>`, `<filename>`), and no other text (`<div>`, a user-defined run of tabs)."""
    vocabulary = _ollama_vocab() + ["<eos>", "<filename>", "<div>", "\t\t"]
    kinds = [1] * 32013 + [3] * 5 + [3, 4, 1, 4]

    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/api/show":
            info = {"general.architecture": "llama", "llama.context_length": 16384,
                    "tokenizer.ggml.tokens": vocabulary, "tokenizer.ggml.token_type": kinds}
            return 200, "application/json", [json.dumps({"model_info": info}).encode()]
        return _ollama([b'{"response": "", "done": true}\n'])(method, path, body)

    fake = FakeServer(handle)
    try:
        source = tmp_path / "hole.py"
        source.write_text('def f(x):\n\t\t"<eos> <filename> <div> <｜fim▁hole｜>"\n    return x\n\ny = \n')
        _complete_json(source, 4, 4, "--engine", fake.url, "--max-tokens", "8", key=False)
        prompt = fake.requests[-1][2]["prompt"]
        joined = f'\t\t"<{WORD_JOINER}eos> <{WORD_JOINER}filename> <div> <{WORD_JOINER}｜fim▁hole｜>"'
        assert joined in prompt and prompt.startswith("<｜fim▁begin｜>")
    finally:
        fake.close()


def test_the_cli_says_what_to_pass_in_its_own_flags(tmp_path: Path) -> None:
    """`deepfim complete` names its flags (`--engine-model`), not the editors' setting names."""
    models = {"data": [{"id": "a", "object": "model"}, {"id": "b", "object": "model"}]}
    fake = FakeServer(lambda method, path, body: (200, "application/json", [json.dumps(models).encode()])
                      if path == "/v1/models" else (404, "text/plain", [b"not found"]))
    try:
        source = tmp_path / "a.py"
        source.write_text("x = ")
        out = deepfim("complete", str(source), "--line", "0", "--character", "4", "--engine", fake.url + "/v1")
        assert out.returncode == 1
        assert "serves 2 models (a, b): pass --engine-model one of them" in out.stderr, out.stderr
    finally:
        fake.close()


@pytest.mark.parametrize("api", ["llama.cpp", "openai"])
def test_lines_are_tokenized_in_one_request_per_block(api: str, tiny_server: LlamaServer, with_key: None) -> None:
    """llama-server tokenizes a block of lines in one `/tokenize` request, exactly as one request per
    line would (control-token spellings stay text, empty and non-ASCII lines included); a completion
    over a fresh 120-line file makes a few requests, not one per line."""
    from server.completion import CompletionRequest, Completer
    from server.settings import Settings

    engine = open_remote(tiny_server.url + ("/v1" if api == "openai" else ""), api, None, 4096)
    texts = ["def f(x):\n", "", "    return <｜fim▁hole｜> + '<|EOT|>'\n", "  é → 😀\n", "\n", "x = 1"]
    assert engine.tokenize_many(texts) == [engine.tokenize(text) for text in texts]
    client = engine._root if api == "openai" else engine.client  # type: ignore[attr-defined]
    paths: list[str] = []
    request = client.request

    def counted(method: str, path: str, *args: object, **kwargs: object) -> object:
        paths.append(path)
        return request(method, path, *args, **kwargs)

    client.request = counted  # type: ignore[method-assign]
    settings, _ = Settings().validated({"engine": tiny_server.url, "maxTokens": 2, "contextSize": 4096})
    completer = Completer(engine, settings)
    text = "".join(f"def helper_{i}(value):\n    return value * {i} + {i * 3}\n\n" for i in range(40)) + "y = "
    completer.complete(CompletionRequest(text=text, line=text.count("\n"), character=4), lambda: False)
    assert 1 <= paths.count("/tokenize") <= 6, paths
    engine.close()


def _messages(session: LspSession) -> list[str]:
    return [m.message for m in session.messages if m.type == types.MessageType.Error]


def _type_until(session: LspSession, uri: str, text: str, k: int, done: Callable[[], bool]) -> None:
    """Type at the end of `text`'s second line (versions from `k` on) until `done()`, 20 s at most."""
    deadline = time.monotonic() + 20
    while not done():
        assert time.monotonic() < deadline, (_messages(session), session.statuses[-3:])
        k += 1
        session.change(uri, k, text + "x" * (k % 7))
        session.inline(uri, 1, 11 + k % 7)
        time.sleep(0.2)


def _ready_again(session: LspSession) -> bool:
    return any(_status(s)["state"] == "ready" and "again" in _status(s)["message"] for s in session.statuses)


def _unauthorized(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
    return 401, "application/json", [b'{"error": {"code": 401, "message": "Invalid API Key"}}']


def test_an_outage_whose_cause_changes_is_told_again_and_credentials_are_never_shown(tmp_path: Path) -> None:
    """Refused while the server is down, then back but refusing the credentials: the second cause is
    news and is told (once); the user and password in the URL appear in no status or message."""
    fake = FakeServer(_vllm)
    port = int(fake.url.rsplit(":", 1)[1])
    url = fake.url.replace("http://", "http://alice:s3cret@") + "/v1"
    session = LspSession("", tmp_path, options={"engine": url, "maxTokens": 4, "timeBudgetMs": 1000})
    text = "def f(x):\n    return "

    try:
        uri = session.open(tmp_path / "a.py", text)
        assert session.inline(uri, 1, 11).items[0].insert_text == "compute(1)"
        fake.close()
        _type_until(session, uri, text, 100, lambda: len(_messages(session)) == 1)
        assert "refused" in _messages(session)[0]
        fake = FakeServer(_unauthorized, port=port)
        _type_until(session, uri, text, 200, lambda: len(_messages(session)) == 2)
        assert "HTTP 401" in _messages(session)[1] and "user and password" in _messages(session)[1]
        for k in range(300, 305):  # the same cause again: not told again
            session.change(uri, k, text + "y" * (k % 5))
            session.inline(uri, 1, 11 + k % 5)
        assert len(_messages(session)) == 2
        fake.close()
        fake = FakeServer(_vllm, port=port)
        _type_until(session, uri, text, 400, lambda: _ready_again(session))
        shown = [json.dumps(_status(s)) for s in session.statuses] + [m.message for m in session.messages]
        assert not [s for s in shown if "s3cret" in s or "alice" in s], shown
        assert any(fake.url + "/v1" in s for s in shown)
    finally:
        session.close()
        fake.close()


def test_a_server_that_stops_is_told_once_through_all_its_causes(tmp_path: Path) -> None:
    """A server killed mid-answer: its stream ends early, then its port refuses, then it answers 503
    while loading its model again: one message, the first; the status follows each cause."""
    mode = {"stream": "whole"}

    def stopping(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/v1/completions" and mode["stream"] == "cut":
            return 200, "text/event-stream", [b'data: {"choices": [{"text": "comp", "finish_reason": null}]}\n\n']
        return _vllm(method, path, body)

    def loading(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        return 503, "application/json", [b'{"error": {"code": 503, "message": "Loading model"}}']

    fake = FakeServer(stopping)
    port = int(fake.url.rsplit(":", 1)[1])
    session = LspSession("", tmp_path, options={"engine": fake.url + "/v1", "maxTokens": 4, "timeBudgetMs": 1000})
    text = "def f(x):\n    return "

    def status_says(words: str) -> Callable[[], bool]:
        return lambda: any(words in str(_status(s).get("message")) for s in session.statuses)

    try:
        uri = session.open(tmp_path / "a.py", text)
        assert session.inline(uri, 1, 11).items[0].insert_text == "compute(1)"
        mode["stream"] = "cut"
        _type_until(session, uri, text, 100, lambda: len(_messages(session)) == 1)
        assert "ended before" in _messages(session)[0]
        fake.close()
        _type_until(session, uri, text, 200, status_says("refused the connection"))
        fake = FakeServer(loading, port=port)
        _type_until(session, uri, text, 300, status_says("HTTP 503"))
        fake.close()
        fake = FakeServer(_vllm, port=port)
        _type_until(session, uri, text, 400, lambda: _ready_again(session))
        assert len(_messages(session)) == 1, _messages(session)
    finally:
        session.close()
        fake.close()

def test_a_server_down_at_start_keeps_its_error_shown_while_deepfim_tries_again(tmp_path: Path) -> None:
    port = free_port()
    session = LspSession("", tmp_path, options={"engine": f"http://127.0.0.1:{port}/v1", "maxTokens": 4})
    fake = None
    try:
        deadline = time.monotonic() + 10  # the first try, then one 2 s later
        while time.monotonic() < deadline and len([s for s in session.statuses if _status(s)["state"] == "error"]) < 1:
            time.sleep(0.1)
        time.sleep(4.5)
        states = [_status(s)["state"] for s in session.statuses]
        assert states[0] == "loading" and states[1:] and set(states[1:]) == {"error"}, states
        assert len(_messages(session)) == 1 and "refused" in _messages(session)[0]
        fake = FakeServer(_vllm, port=port)
        deadline = time.monotonic() + 20
        while _status(session.statuses[-1])["state"] != "ready":
            assert time.monotonic() < deadline, session.statuses
            time.sleep(0.2)
        assert len(_messages(session)) == 1
    finally:
        session.close()
        if fake is not None:
            fake.close()


def test_an_error_status_whose_body_breaks_off_is_an_outage() -> None:
    """A 503 whose body stalls until the deadline cuts it (or is cut short) is an outage the service
    reports and backs off from (EngineUnavailable), never a raw http.client error."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    reply = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"err"

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.sendall(reply)
            time.sleep(5)
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        client = HttpClient(f"http://127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(EngineUnavailable, match="HTTP 503"):
            for _ in client.stream("/completion", {"prompt": [1]}, lambda: False, time.monotonic() + 0.5):
                pass
    finally:
        listener.close()


def test_closing_an_openai_engine_closes_every_connection_it_keeps() -> None:
    """On llama-server's /v1 the engine also keeps a connection to the server's own paths (/props,
    /tokenize); a reload closes the old engine, and with it both."""
    open_connections = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as by llama-server

        def setup(self) -> None:
            super().setup()
            open_connections[0] += 1

        def finish(self) -> None:
            super().finish()
            open_connections[0] -= 1

        def _send(self, answer: object) -> None:
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/props":
                self._send({"default_generation_settings": {"n_ctx": 2048}, "model_path": "/m/x.gguf"})
            else:  # /v1/models
                self._send({"object": "list", "data": [{"id": "x.gguf"}]})

        def do_POST(self) -> None:  # /tokenize
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._send({"tokens": [{"id": 1000 + ord(c), "piece": c} for c in body.get("content") or ""]})

        def log_message(self, *args: object) -> None:
            pass

    httpd = serving(Handler)
    try:
        engine = open_remote(f"http://127.0.0.1:{httpd.server_address[1]}/v1", "openai", None, 2048)
        engine.tokenize("abc")
        assert open_connections[0] > 0
        engine.close()
        deadline = time.monotonic() + 5
        while open_connections[0] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert open_connections[0] == 0
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("key", ["sk-s3cret\n", "sk-s3cret\r\n", " sk-s3cret "])
def test_an_api_key_with_a_line_break_is_sent_without_it(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key read from a file or a CRLF .env keeps its line break: http.client refused the header with a
    ValueError that quoted it, shown to the user and logged as 'loading the model failed'."""
    monkeypatch.setenv("DEEPFIM_API_KEY", key)
    fake = FakeServer(_ollama([]))
    try:
        open_remote(fake.url, "ollama", None, 4096)
        assert fake.headers[-1]["Authorization"] == "Bearer sk-s3cret"
    finally:
        fake.close()


def test_an_api_key_a_header_cannot_carry_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFIM_API_KEY", "sk-s3cret\nsecond line")
    with pytest.raises(ModelLoadError, match="DEEPFIM_API_KEY") as caught:
        open_remote("http://127.0.0.1:9", "ollama", None, 4096)
    assert "s3cret" not in str(caught.value)


def test_a_control_spelling_inside_brackets_is_broken_too() -> None:
    """Ollama parses control spellings anywhere in the text: `["<eos>"]` (a list of special tokens, in
    the code of a tokenizer) was one bracketed shape, not the model's `<eos>`, and went through whole."""
    from server.engines.remote import unparseable

    controls = frozenset({"<eos>", "<｜fim▁hole｜>", "[PREFIX]"})
    text = 'specials = ["<eos>", "<｜fim▁hole｜>"]; tags = [<eos>] <[PREFIX]> <div>'
    broken = unparseable(text, controls)
    assert broken.replace(WORD_JOINER, "") == text
    assert not any(control in broken for control in controls), broken
    assert "<div>" in broken


def test_an_ollama_prefill_asks_for_one_token_not_unlimited() -> None:
    """Ollama reads `num_predict: 0` as no limit: the background read of the window after a pause in
    typing generated until the model stopped or 600 s passed, holding the shared server."""
    fake = FakeServer(_ollama([b'{"response": "x", "done": true, "done_reason": "length"}\n']))
    try:
        engine = open_remote(fake.url, "ollama", None, 4096)
        engine.prefill(engine.tokenize("def f():\n    return "), lambda: False)
        method, path, body = fake.requests[-1]
        assert path == "/api/generate" and body["options"]["num_predict"] == 1
    finally:
        fake.close()


def test_a_model_the_server_does_not_have_is_named_as_the_cause() -> None:
    """Ollama answers 404 with `model 'x' not found` to a model it has not pulled: the user was told the
    server had no /api/show and to check the URL and engineApi, which were right."""
    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/api/show":
            return 404, "application/json", [json.dumps({"error": f"model '{body['model']}' not found"}).encode()]
        return _ollama([])(method, path, body)

    fake = FakeServer(handle)
    try:
        with pytest.raises(EngineUnavailable, match="model 'deepseek-coder:6.7b' not found.*engineModel"):
            open_remote(fake.url, "ollama", "deepseek-coder:6.7b", 4096)
    finally:
        fake.close()


def test_an_engine_url_pasted_with_blanks_around_it_connects() -> None:
    """A URL pasted into a settings box with a trailing blank or line break failed to connect ("Port
    could not be cast to integer value as '8080 '", or no such host 'gpu-box ')."""
    fake = FakeServer(_ollama([]))
    try:
        engine = open_remote(f" {fake.url}/ \n", None, None, 4096)
        assert engine.info.source == fake.url
    finally:
        fake.close()


def test_an_openai_compatible_url_without_v1_says_to_add_it() -> None:
    """vLLM's default is http://host:8000 with its API under /v1: found by probing, the user was told
    only that deepfim cannot tell which API it speaks."""
    fake = FakeServer(_vllm)
    try:
        with pytest.raises(ModelLoadError, match=re.escape(f"set engine to {fake.url}/v1")):
            open_remote(fake.url, None, None, 4096)
    finally:
        fake.close()


def test_a_host_name_lookup_that_hangs_holds_no_keystroke_past_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A VPN down leaves the resolver waiting for a DNS server that is gone (10 s and more): the
    lookup had no bound, and the first keystroke of the outage waited for it, past budget and grace."""
    fake = FakeServer(_ollama([b'{"response": "x", "done": true}\n']))
    try:
        engine = open_remote(fake.url.replace("127.0.0.1", "localhost"), "ollama", None, 4096)
        prompt = engine.tokenize("def f():\n    return ")
        looked_up = socket.getaddrinfo

        def hanging(host: str, *args: object, **kwargs: object) -> list:
            if host == "localhost":
                time.sleep(6)
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            return looked_up(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", hanging)
        started = time.monotonic()
        try:
            assert engine.generate(prompt, 16, lambda: False, time_budget_s=0.5).stop_reason == "time"
        except EngineUnavailable as error:
            assert "looking up the engine host" in str(error)
        assert time.monotonic() - started < 0.5 + 2.0 + 0.5
        with pytest.raises(EngineUnavailable, match="looking up the engine host 'localhost' .* took too long"):
            open_remote(fake.url.replace("127.0.0.1", "localhost"), "ollama", None, 4096)
    finally:
        fake.close()


def test_an_engine_url_the_server_redirects_says_where_to() -> None:
    """A reverse proxy that sends http:// to https:// answers 301 to every path: found by probing, the
    user was told deepfim cannot tell which API the engine speaks, and not where it moved."""
    moved = ["https://gpu-box.test"]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(301)
            self.send_header("Location", moved[0] + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = serving(Handler)
    try:
        for api in (None, "llama.cpp"):
            with pytest.raises(EngineUnavailable, match=re.escape("redirects to https://gpu-box.test (HTTP 301): "
                                                                  "set engine to that URL")):
                open_remote(f"http://127.0.0.1:{httpd.server_address[1]}", api, None, 4096)
        moved[0] = "/llm"  # a Location without the host: the same server, under a path
        with pytest.raises(EngineUnavailable, match=f"redirects to http://127.0.0.1:{httpd.server_address[1]}/llm "):
            open_remote(f"http://127.0.0.1:{httpd.server_address[1]}", None, None, 4096)
        moved[0] = "/login?next="  # not the engine moved: a page to log in to, as other answers
        with pytest.raises(ModelLoadError, match="cannot tell which API"):
            open_remote(f"http://127.0.0.1:{httpd.server_address[1]}", None, None, 4096)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("api", [None, "ollama"])
def test_ollamas_v1_url_is_spoken_to_in_ollamas_own_api(api: str | None) -> None:
    """Ollama's OpenAI-compatible /v1 cannot set the window (num_ctx): Ollama cut a 16K-token prompt to
    its default window from the start, FIM tokens and all. Found by probing at /v1, Ollama is now
    spoken to at its root in its own API (named ollama, /v1/api/tags was a 404)."""
    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/v1/models":
            return 200, "application/json", [b'{"object": "list", "data": [{"id": "deepseek-coder:1.3b-base"}]}']
        return _ollama([b'{"response": "x", "done": true}\n'])(method, path, body)

    fake = FakeServer(handle)
    try:
        engine = open_remote(fake.url + "/v1", api, None, 8192)
        assert engine.api == "ollama"
        engine.generate(engine.tokenize("x = "), 4, lambda: False, time_budget_s=1.0)
        method, path, body = fake.requests[-1]
        assert path == "/api/generate" and body["options"]["num_ctx"] == 8192
    finally:
        fake.close()


@pytest.mark.parametrize("api", ["llama.cpp", "openai"])
def test_deepseeks_pad_spelled_in_user_text_stays_text(api: str, tiny_server: LlamaServer, with_key: None) -> None:
    """DeepSeek's `<pad>` is a user-defined token, which llama.cpp parses even with `parse_special:
    false`: a tokenizer's specials list in the user's code (`["<pad>", "<unk>"]`) put the pad token
    into the prompt."""
    engine = open_remote(tiny_server.url + ("/v1" if api == "openai" else ""), api, None, 4096)
    pad = engine.token_id("<pad>")
    assert pad is not None
    text = 'specials = ["<pad>", "<unk>"]\n'
    assert pad not in engine.tokenize(text)
    assert pad not in engine.tokenize_many([text])[0]  # type: ignore[index]
    engine.close()


def test_an_https_engine_loads_the_ca_store_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stream (each keystroke) made a TLS context, loading the system's CA store again: 5 to 20 ms
    of CPU per keystroke before the request was sent."""
    import ssl

    made = [0]
    create = ssl.create_default_context

    def counted(*args: object, **kwargs: object) -> ssl.SSLContext:
        made[0] += 1
        return create(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    client = HttpClient("https://127.0.0.1:1")
    for _ in range(3):
        client._connection(1.0).close()
    assert made[0] <= 1


@pytest.mark.parametrize("api", ["llama.cpp", "openai"])
def test_a_llama_server_router_serves_the_model_named(api: str, deepseek_tiny: Path, gemma_model: Path,
                                                      tmp_path: Path) -> None:
    """llama-server with --models-dir (router mode) wants every request to name its model: deepfim's
    requests named none, and every connect failed with 'HTTP 400 to /tokenize: model name is missing
    from the request', which engineModel did not change."""
    from tests.llama_server import llama_server_binary

    (tmp_path / "coder.gguf").symlink_to(deepseek_tiny)
    (tmp_path / "gemma.gguf").symlink_to(gemma_model)
    port = free_port()
    router = subprocess.Popen([str(llama_server_binary()), "--models-dir", str(tmp_path), "--host", "127.0.0.1",
                               "--port", str(port), "-c", "2048", "-t", "2"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}" + ("/v1" if api == "openai" else "")
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        with pytest.raises(ModelLoadError, match="serves 2 models .*coder.*gemma.*set engineModel"):
            open_remote(url, api, None, 4096)
        engine = open_remote(url, api, "coder", 4096)
        assert engine.info.n_ctx == 2048 and engine.info.template.name == "deepseek-coder"
        prompt = engine.tokenize("def f(x):\n    return ")
        generation = engine.generate(prompt, 4, lambda: False, time_budget_s=5.0)
        assert generation.generated_tokens > 0 and generation.stop_reason in ("max_tokens", "eog")
        engine.close()
    finally:
        router.terminate()
        router.wait(10)


def test_a_knock_waits_for_a_lookup_a_little_longer_than_for_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """The knock's 0.2 s bounded the host name lookup too (since lookups are bounded): on a network
    whose DNS answers in 0.3 s, a server that refused connections was never seen coming back by its
    knock, and was tried again only after the back-off's 1, 2, 4 ... 30 s."""
    port = free_port()
    client = HttpClient(f"http://localhost:{port}")
    looked_up = socket.getaddrinfo

    def slow(host: str, *args: object, **kwargs: object) -> list:
        if host == "localhost":
            time.sleep(0.3)
        return looked_up(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    refused_three_times(client)
    fake = FakeServer(lambda method, path, body: (200, "application/json", [b'{"status": "ok"}']), port=port)
    try:
        answered_once_the_port_opens(client, 2.5)
    finally:
        fake.close()


def test_an_ollama_model_named_without_its_tag_is_followed_across_a_re_pull() -> None:
    """engineModel `deepseek-coder` is Ollama's `deepseek-coder:latest`: its digest was looked for under
    the bare name, never found, and a model pulled again (another vocabulary, another template) was
    never noticed after an outage."""
    digest = ["sha256:aaa"]
    broken = [True]

    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/api/tags":
            tags = {"models": [{"name": "deepseek-coder:latest", "digest": digest[0]}]}
            return 200, "application/json", [json.dumps(tags).encode()]
        if path == "/api/generate" and broken[0]:
            return 200, "application/x-ndjson", [b'{"response": "x", "done": false}\n']  # ends too soon
        return _ollama([b'{"response": "x", "done": true}\n'])(method, path, body)

    fake = FakeServer(handle)
    try:
        engine = open_remote(fake.url, "ollama", "deepseek-coder", 4096)
        prompt = engine.tokenize("x = ")
        with pytest.raises(EngineUnavailable, match="ended before"):
            engine.generate(prompt, 4, lambda: False, time_budget_s=1.0)
        digest[0], broken[0] = "sha256:bbb", False
        time.sleep(1.1)  # the back-off
        with pytest.raises(EngineReplaced):
            engine.generate(prompt, 4, lambda: False, time_budget_s=1.0)
    finally:
        fake.close()


def test_an_http_url_to_an_https_engine_says_to_use_https() -> None:
    """A TLS server (llama-server or vLLM started with a certificate) resets a plain-HTTP connection: the user
    was told the engine 'could not be reached (ConnectionResetError: ...)', with nothing to do about it."""
    import ssl

    fake = FakeServer(_ollama([]))
    fake.httpd.socket = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).wrap_socket(fake.httpd.socket, server_side=True)
    try:
        for api in (None, "ollama"):
            with pytest.raises(EngineUnavailable, match="if it serves HTTPS, set engine to https://127.0.0.1:"):
                open_remote(fake.url, api, None, 4096)
    finally:
        fake.close()


def test_a_sentencepiece_vocabulary_on_llama_server_tokenizes_a_line_as_inside_the_document() -> None:
    """llama-server puts a space before each text it tokenizes with a SentencePiece vocabulary (CodeLlama,
    Mistral), as in-process llama.cpp does: prompts are tokenized line by line, so through llama-server every
    line of such a model's prompt began with one more space ("    return x" read as five spaces)."""
    from models.synthetic import synthetic_sentencepiece

    lines = ["def f(x):\n", "    return x\n", "x", ")\n"]
    with LlamaServer(synthetic_sentencepiece(), ctx=512) as server:
        for api, url in (("llama.cpp", server.url), ("openai", server.url + "/v1")):
            engine = open_remote(url, api, None, 512)
            try:
                assert engine.info.template.name == "prefix-only" and engine.special.bos == 1
                one_by_one = [engine.tokenize(line) for line in lines]
                for tokens in (one_by_one, engine.tokenize_many(lines)):
                    assert [b"".join(engine.piece(t) for t in line) for line in tokens or []] == \
                        [line.encode() for line in lines], api
                assert [t for line in one_by_one for t in line] == engine.tokenize("".join(lines))
            finally:
                engine.close()


def test_a_sentencepiece_vocabulary_on_vllm_tokenizes_a_line_as_it_is_inside_the_document() -> None:
    """vLLM's tokenizer puts a space before each text with a SentencePiece vocabulary (CodeLlama's
    `[29871, 13]` for "\n"), as llama.cpp's does: every line of such a model's prompt began with one
    more space. Its `/tokenize` gives ids only; the lines now get the in-process engine's tokens."""
    from llama_cpp import Llama

    from models.synthetic import synthetic_sentencepiece
    from server.engines.local import LocalEngine

    vocab = Llama(str(synthetic_sentencepiece()), vocab_only=True, verbose=False)

    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/tokenize":  # control tokens parsed, as vLLM's tokenizer does
            tokens = vocab.tokenize(body["prompt"].encode(), add_bos=bool(body.get("add_special_tokens")),
                                    special=True)
            return 200, "application/json", [json.dumps({"tokens": tokens, "count": len(tokens)}).encode()]
        if path == "/detokenize":
            text = vocab.detokenize(body["tokens"], special=True).decode("utf-8", "replace")
            return 200, "application/json", [json.dumps({"prompt": text}).encode()]
        if path == "/v1/models":
            return 200, "application/json", [json.dumps({"data": [{"id": "codellama/CodeLlama-7b-hf",
                                                                   "max_model_len": 512}]}).encode()]
        return 404, "application/json", [b'{"detail": "Not Found"}']

    lines = ["def f(x):\n", "    return x\n", "x", ")\n", "a <b> c\n"]
    fake = FakeServer(handle)
    local = LocalEngine(synthetic_sentencepiece(), n_ctx=512)
    try:
        engine = open_remote(fake.url + "/v1", "openai", None, 512)
        assert [engine.tokenize(line) for line in lines] == [local.tokenize(line) for line in lines]
        assert engine.special.bos == 1 and engine.token_id("</s>") == 2
        engine.close()
    finally:
        local.close()
        fake.close()


@pytest.mark.parametrize("said", [b"Client sent an HTTP request to an HTTPS server.\n",  # Go servers, Caddy
                                  b"<html><head><title>400 The plain HTTP request was sent to HTTPS port</title>"])
def test_an_http_url_to_a_proxy_serving_https_says_to_use_https(said: bytes) -> None:
    """A TLS proxy (nginx, Caddy) answers plain HTTP with HTTP 400: found by probing, the user was told deepfim
    cannot tell which API the engine speaks; with engineApi set, HTTP 400 and the proxy's page."""
    fake = FakeServer(lambda method, path, body: (400, "text/html", [said]))
    try:
        for api in (None, "ollama", "llama.cpp"):
            with pytest.raises(EngineUnavailable, match="serves HTTPS .*: set engine to https://127.0.0.1:"):
                open_remote(fake.url, api, None, 4096)
    finally:
        fake.close()


def _after(seconds: float) -> Callable[[], bool]:
    """A cancellation that comes `seconds` from now (a keystroke during a background read)."""
    at = time.monotonic() + seconds
    return lambda: time.monotonic() >= at


def test_a_background_read_gives_way_while_the_server_is_checked_again() -> None:
    """After a failure the engine asks the server what it serves before its next request. When that
    request stalls during a background read (no time budget), a keystroke cancels it at once: it waited
    for the request's 10 s timeout, holding the model from every keystroke meanwhile."""
    stalled = threading.Event()
    failing = threading.Event()

    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/v1/completions" and failing.is_set():
            return 500, "application/json", [b'{"error": {"message": "out of memory"}}']
        if path == "/v1/models" and stalled.is_set():
            return 200, "application/json", [b"STALL"]
        return _vllm(method, path, body)

    fake = FakeServer(handle)
    try:
        engine = open_remote(fake.url + "/v1", "openai", None, 4096)
        prompt = engine.tokenize("def f():\n    return ")
        failing.set()
        with pytest.raises(EngineUnavailable, match="out of memory"):
            engine.generate(prompt, 4, lambda: False, time_budget_s=1.0)
        failing.clear()
        stalled.set()
        time.sleep(1.1)  # past the back-off
        started = time.monotonic()
        assert engine.generate(prompt, 4, _after(0.3)).stop_reason == "cancelled"  # no time budget, as a read's
        assert time.monotonic() - started < 1.0
        assert "out of memory" in str(engine.outage)  # a cancelled request is no failure of its own
        stalled.clear()
        assert engine.generate(prompt, 4, lambda: False, time_budget_s=1.0).text == "compute(1)"
    finally:
        fake.close()


def _with_two_fresh_slots(server: LlamaServer, method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
    """`server`'s answer, as a server started with -np 2 whose two slots no one has used."""
    if path == "/slots":
        return 200, "application/json", [json.dumps([{"id": 0, "is_processing": False},
                                                     {"id": 1, "is_processing": False}]).encode()]
    request = urllib.request.Request(server.url + path, method=method,
                                     data=json.dumps(body).encode() if method == "POST" else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        data = answer.read()
    if path == "/props":
        data = json.dumps({**json.loads(data), "total_slots": 2}).encode()
    return answer.status, answer.headers["Content-Type"], [data]


def test_a_background_read_gives_way_while_the_session_claims_its_slot(tiny_server: LlamaServer) -> None:
    """On a server with several slots the first request claims a fresh one. When that claim stalls
    during a background read, a keystroke cancels it at once (it waited 10 s), and the next request
    claims again."""
    from server.engines.base import Cancelled

    stalled = threading.Event()
    stalled.set()

    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        if path == "/completion" and body.get("n_predict") == 0 and "id_slot" not in body and stalled.is_set():
            return 200, "text/event-stream", [b"STALL"]
        return _with_two_fresh_slots(tiny_server, method, path, body)

    fake = FakeServer(handle)
    try:
        engine = open_remote(fake.url, "llama.cpp", None, 4096)
        prompt = engine.tokenize("def f():\n    return ")
        started = time.monotonic()
        with pytest.raises(Cancelled):
            engine.prefill(prompt, _after(0.3))
        assert time.monotonic() - started < 1.0
        stalled.clear()
        engine.prefill(prompt, lambda: False)
        assert engine.slot == 0 and engine.outage is None
    finally:
        fake.close()


def test_a_server_whose_claim_names_no_slot_chooses_the_sessions_slot(tiny_server: LlamaServer) -> None:
    """A claim answered without a slot id (a server whose events do not say it) was taken for no answer:
    every request claimed again and was answered empty."""
    def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
        status, kind, (data,) = _with_two_fresh_slots(tiny_server, method, path, body)
        if path == "/completion":  # no slot ids in the events
            data = re.sub(rb'"id_slot":\s*-?\d+,?', b"", data)
        return status, kind, [data]

    fake = FakeServer(handle)
    try:
        engine = open_remote(fake.url, "llama.cpp", None, 4096)
        prompt = engine.tokenize("def f():\n    return ")
        for _ in range(2):
            generation = engine.generate(prompt, 4, lambda: False)
            assert generation.stop_reason != "time" and generation.generated_tokens > 0, generation
        claims = [body for _, path, body in fake.requests if path == "/completion" and body.get("n_predict") == 0]
        assert len(claims) == 1 and engine.slot is None
        engine.close()
    finally:
        fake.close()


def test_a_keystroke_cuts_the_claim_of_a_fresh_slot_after_another_client_took_the_sessions(
        deepseek_tiny: Path) -> None:
    """A request that finds its window gone from its slot moves the session to a fresh one. The claim
    of that slot was made after the answer, where nothing could cut it: a stalled claim held the
    answer 10 s. The next request makes it now, a keystroke cuts it, and a later one makes it again."""
    stalled = threading.Event()
    with LlamaServer(deepseek_tiny, ctx=2048, parallel=2, extra=["--cache-ram", "0"]) as server:
        def handle(method: str, path: str, body: dict) -> tuple[int, str, list[bytes]]:
            if path == "/completion" and body.get("n_predict") == 0 and "id_slot" not in body and stalled.is_set():
                return 200, "text/event-stream", [b"STALL"]
            request = urllib.request.Request(server.url + path, method=method,
                                             data=json.dumps(body).encode() if method == "POST" else None,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.headers["Content-Type"], [answer.read()]

        fake = FakeServer(handle)
        first, second = open_remote(fake.url, "llama.cpp", None, 2048), open_remote(server.url, "llama.cpp", None, 2048)
        try:
            prompts = [engine.tokenize("".join(f"def f{k}_{i}(x):\n    return x * {i} + {k}\n\n" for i in range(40)))
                       for k, engine in enumerate((first, second))]
            never = lambda: False  # noqa: E731
            first.generate(prompts[0], 1, never)
            second.slot, second._claimed = first.slot, True  # the same pick: it evicts the first session's window
            second.generate(prompts[1], 1, never)
            stalled.set()
            started = time.monotonic()
            # Read again, not cut (a claim made here would stall to the 10 s request timeout) ...
            assert first.generate(prompts[0], 1, never).prompt_tokens_evaluated > 256
            assert time.monotonic() - started < 8.0
            started = time.monotonic()
            assert first.generate(prompts[0], 1, _after(0.3)).stop_reason == "cancelled"  # ... then the stalled claim
            assert time.monotonic() - started < 2.0 and first.slot == second.slot and first.outage is None
            stalled.clear()
            assert first.generate(prompts[0], 1, never).prompt_tokens_evaluated > 256  # in the fresh slot
            assert first.slot != second.slot
            assert first.generate(prompts[0], 1, never).prompt_tokens_evaluated <= 8
        finally:
            first.close()
            second.close()
            fake.close()


def test_a_prefix_only_prompt_on_llama_server_starts_with_a_bos_only_where_the_tokenizer_adds_one() -> None:
    """As in-process: a model without FIM tokens whose GGUF says its tokenizer adds no BOS gets prompts
    without one, through llama-server's native API and its /v1."""
    from models.synthetic import synthetic_sentencepiece

    with LlamaServer(synthetic_sentencepiece(add_bos=False), ctx=512) as server:
        for api, url in (("llama.cpp", server.url), ("openai", server.url + "/v1")):
            engine = open_remote(url, api, None, 512)
            try:
                assert engine.info.template.name == "prefix-only" and engine.special.bos is None, api
            finally:
                engine.close()


def test_starcoders_metadata_spellings_are_broken_where_the_controls_are_unknown() -> None:
    """vLLM lists no vocabulary: user text is broken wherever it spells a control token of the usual
    models. StarCoder's `<filename>`, `<gh_stars>`, `<jupyter_code>`, `<NAME>` and Gemma's `<eos>` went
    through whole, to a tokenizer that parses them."""
    from server.engines.remote import unparseable

    controls = ["<filename>", "<gh_stars>", "<reponame>", "<jupyter_code>", "<issue_start>", "<commit_msg>",
                "<empty_output>", "<pr_diff>", "<NAME>", "<EMAIL>", "<eos>", "<bos>", "<end_of_turn>"]
    text = " ".join(controls) + " <div> <pre> <T> <string> <sub> <person> <NAMES> <ul> <email>"
    broken = unparseable(text)
    assert broken.replace(WORD_JOINER, "") == text
    assert not any(control in broken for control in controls), broken
    assert broken.endswith("<div> <pre> <T> <string> <sub> <person> <NAMES> <ul> <email>")


@pytest.mark.parametrize("api,path,answer", [
    ("openai", "/v1/models", b"[]"),  # a list, not {"data": [...]}
    ("openai", "/v1/models", b'{"data": [{"id": "m", "max_model_len": "long"}]}'),
    ("llama.cpp", "/props", b'{"default_generation_settings": "n_ctx"}'),
    ("llama.cpp", "/props", b'{"model_path": "x.gguf", "total_slots": "many"}'),
])
def test_a_server_answering_in_another_shape_says_to_check_the_url(api: str, path: str, answer: bytes) -> None:
    """A server whose answers are JSON of another shape than the API's (another product on that port, a
    proxy's own JSON) failed with "loading the model failed: 'list' object has no attribute 'get'"."""
    def handle(method: str, asked: str, body: dict) -> tuple[int, str, list[bytes]]:
        if asked == path:
            return 200, "application/json", [answer]
        return 404, "application/json", [b'{"detail": "Not Found"}']

    fake = FakeServer(handle)
    try:
        url = fake.url + ("/v1" if api == "openai" else "")
        with pytest.raises(ModelLoadError, match=f"engine at {re.escape(url)} answered in a shape .* {api} API"
                                                 f".*check the engine URL and engineApi"):
            open_remote(url, api, None, 4096)
    finally:
        fake.close()

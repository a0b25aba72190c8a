"""The `deepfim` command line: complete (plain and --json) and models."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO, Optional

import pytest

from tests.lsp_client import REPO
from tests.text_helpers import on_terminal


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
    assert set(data) == {"completion", "model", "window", "stop_reason", "prompt", "timings"} and data["window"] == "full"
    assert data["stop_reason"] in ("eog", "stop", "max_tokens")
    assert isinstance(data["completion"], str) and data["model"] == "deepseek-coder-synthetic"
    assert set(data["timings"]) == {"prompt_tokens_evaluated", "prompt_tokens_reused", "generated_tokens",
                                    "draft_tokens", "draft_accepted",
                                    "prompt_ms", "generate_ms", "total_ms"}
    segments = data["prompt"]["segments"]
    assert all(set(s) == {"kind", "source", "tokens", "text"} for s in segments)
    assert {s["kind"] for s in segments} <= {"control", "context", "prefix", "suffix", "recent", "middle"}
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


def test_a_cache_folder_that_cannot_be_made_is_one_clear_error(tmp_path: Path) -> None:
    """DEEPFIM_CACHE naming a file (or a folder that cannot be created): every command says so."""
    (tmp_path / "a.py").write_text("x = 1\n")
    blocked = tmp_path / "cache"
    blocked.write_text("")
    for args in (("models", "list"), ("complete", str(tmp_path / "a.py"), "--line", "0", "--character", "0")):
        out = deepfim(*args, env={"DEEPFIM_CACHE": str(blocked), "DEEPFIM_MODEL": ""})
        assert out.returncode == 1 and "Traceback" not in out.stderr, (args, out.stderr)
        assert f"cannot use the cache folder {blocked} (from $DEEPFIM_CACHE)" in out.stderr, out.stderr


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


def serve_over_tcp(model: Path) -> tuple[subprocess.Popen, socket.socket]:
    """`deepfim serve --tcp` on a free loopback port, and a connection to it."""
    from tests.llama_server import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--model", str(model),
                               "--tcp", f"127.0.0.1:{port}"], cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            return server, socket.create_connection(("127.0.0.1", port), timeout=60)
        except ConnectionRefusedError:
            if time.monotonic() >= deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.2)


def send(connection: socket.socket, message: dict) -> None:
    body = json.dumps(message).encode()
    connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def request(connection: socket.socket, answers: BinaryIO, msg_id: int, method: str, params: object) -> dict:
    """Send a request and read messages until its answer."""
    send(connection, {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    while True:
        headers = []
        while (line := answers.readline()) not in (b"\r\n", b""):
            headers.append(line)
        assert line, "the server closed the connection"
        length = int([h for h in headers if h.startswith(b"Content-Length")][0].split(b":")[1])
        answer = json.loads(answers.read(length))
        if answer.get("id") == msg_id:
            return answer


def a_session_over_tcp(model: Path, process_id: Optional[int], pause_s: float = 0.0) -> None:
    """initialize (naming `process_id`), `pause_s` later shutdown, then exit: each answered, exit status 0."""
    server, connection = serve_over_tcp(model)
    try:
        with connection, connection.makefile("rb") as answers:
            assert "result" in request(connection, answers, 1, "initialize",
                                       {"processId": process_id, "rootUri": None, "capabilities": {}})
            time.sleep(pause_s)
            assert "result" in request(connection, answers, 2, "shutdown", None)
            send(connection, {"jsonrpc": "2.0", "method": "exit"})
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()


def test_serve_over_tcp(deepseek_tiny: Path) -> None:
    a_session_over_tcp(deepseek_tiny, None)


def test_serve_over_tcp_outlives_a_process_id_it_cannot_see(deepseek_tiny: Path) -> None:
    """Over TCP the client's processId names a process on its own machine (or container): the server
    found no such process and exited 3 s after initialize ("client process N is gone")."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    a_session_over_tcp(deepseek_tiny, gone.pid, pause_s=4.5)  # the parent is checked every 3 s


def test_serve_over_tcp_says_why_it_cannot_listen() -> None:
    """A taken port, an unknown host or a port out of range gave a Python traceback."""
    env = dict(os.environ)
    env.pop("DEEPFIM_MODEL", None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for address, code, expected in ((f"127.0.0.1:{port}", 1, f"cannot listen on 127.0.0.1:{port}: "),
                                        ("nohost.invalid:4000", 1, "cannot listen on nohost.invalid:4000: "),
                                        ("127.0.0.1:99999", 2, "PORT from 0 to 65535")):
            out = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--tcp", address], cwd=REPO, env=env,
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            assert out.returncode == code and out.stdout == "", (address, out.stderr)
            assert expected in out.stderr and "Traceback" not in out.stderr, out.stderr
            assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_nonsense_input_is_refused_with_the_documents_size(deepseek_tiny: Path, tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("def f():\n    return 1\n")  # 3 lines: the last one is empty
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    model = ("--model", str(deepseek_tiny))
    for args, expected in (((str(binary), "--line", "0", "--character", "0"), "not a text file"),
                           ((str(source), "--line", "5000", "--character", "0"), "outside the 3 lines (0 to 2)"),
                           ((str(source), "--line", "-1", "--character", "0"), "outside the 3 lines"),
                           ((str(source), "--line", "1", "--character", "400"),
                            "outside line 1, which is 12 characters long (0 to 12)")):
        started = time.monotonic()
        out = deepfim("complete", *args, *model, timeout=60)
        assert out.returncode == 2 and out.stdout == "", (args, out.stderr)
        assert expected in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert time.monotonic() - started < 30  # refused before any model work
    bad_level = deepfim("--log-level", "LOUD", "complete", str(source), "--line", "0", "--character", "0")
    assert bad_level.returncode == 2 and "invalid choice: 'LOUD'" in bad_level.stderr
    assert deepfim("--log-level", "debug", "models", "list").returncode == 0


def test_complete_help_describes_every_option_with_its_default() -> None:
    out = deepfim("complete", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    for option in ("file", "--line", "--character", "--model", "--workspace", "--json", "--compact",
                   "--max-tokens", "--context-size", "--time-budget-ms"):
        assert option in text
    for described in ("the source file to complete in", "default: 128, as the server",
                      "default: 16384, as the server", "the server's default is 4000",
                      "default: $DEEPFIM_MODEL"):
        assert described in text, described


def test_serve_reports_a_missing_model_at_once_and_still_answers(tmp_path: Path) -> None:
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--model", str(tmp_path / "no.gguf")],
                              cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        line = b""
        while b"does not exist" not in line:  # before any editor has sent anything
            line = server.stderr.readline()
            assert line and time.monotonic() < deadline
        assert b"no.gguf" in line
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        server.stdin.flush()
        header = server.stdout.readline()
        assert header.startswith(b"Content-Length")
    finally:
        server.kill()
        server.wait(10)


def test_serve_started_bare_by_an_editor_waits_for_its_model_setting(tmp_path: Path) -> None:
    """An editor starts `deepfim serve` and sends deepfim.model at initialize: no "not downloaded"
    line on stderr for the default model it will never load. Run by hand (a terminal), it says so."""
    env = dict(os.environ, DEEPFIM_CACHE=str(tmp_path / "cache"))
    env.pop("DEEPFIM_MODEL", None)
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], cwd=REPO, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = server.communicate(b"", timeout=60)  # end of input: the server stops
    assert b"not downloaded" not in err, err
    leader, follower = pty.openpty()
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], cwd=REPO, env=env,
                              stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = server.stderr.readline()
        assert b"not downloaded" in line and b"deepfim models pull" in line, line
    finally:
        server.kill()
        server.wait(10)
        os.close(follower)
        os.close(leader)


def test_serve_checks_the_model_and_engine_given_by_set_at_start(tmp_path: Path) -> None:
    """`--set model=...` was not checked at start (only --model was), and on a terminal the default
    model was reported missing instead, also with `--set engine=URL`, where no model is loaded."""
    env = dict(os.environ, DEEPFIM_CACHE=str(tmp_path / "cache"))
    env.pop("DEEPFIM_MODEL", None)
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--set", f"model={tmp_path / 'no.gguf'}"],
                              cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = server.communicate(b"", timeout=60)  # end of input: the server stops
    assert b"no.gguf does not exist" in err, err
    for setting in (f"model={tmp_path / 'no.gguf'}", "engine=http://127.0.0.1:9"):
        leader, follower = pty.openpty()
        server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--set", setting], cwd=REPO, env=env,
                                  stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = server.stderr.readline()
            assert b"not downloaded" not in line, (setting, line)
            assert (b"no.gguf does not exist" if setting.startswith("model") else b"speaking LSP") in line, line
        finally:
            server.kill()
            server.wait(10)
            os.close(follower)
            os.close(leader)


def test_json_is_indented_on_a_terminal_unless_compact(deepseek_tiny: Path, tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    for extra, indented in (((), True), (("--compact",), False)):
        done, received = on_terminal([sys.executable, "-m", "server.cli", "complete", str(source), "--line", "1",
                                      "--character", "0", "--model", str(deepseek_tiny), "--json", "--max-tokens",
                                      "2", *extra], "stdout", cwd=REPO, timeout=120)
        assert done.returncode == 0, done.stderr
        printed = received.decode().replace("\r\n", "\n")
        assert json.loads(printed)["model"] == "deepseek-coder-synthetic"
        assert (printed.count("\n") > 5) == indented


def test_set_passes_any_setting_and_the_commands_own_options_win(capsys) -> None:
    from server.cli import _settings, build_parser

    args = build_parser().parse_args(["complete", "a.py", "--line", "0", "--character", "0", "--max-tokens", "9",
                                      "--set", "lookupDecoding=false", "--set", "kvCacheType=q8_0",
                                      "--set", "maxTokens=3", "--set", "firstAnswerMs=0", "--set", "threads=0"])
    settings = _settings(args, {"maxTokens": args.max_tokens}, base={"timeBudgetMs": 600_000, "maxTokens": 5})
    assert settings is not None
    assert (settings.lookup_decoding, settings.kv_cache_type, settings.max_tokens, settings.first_answer_ms) == \
        (False, "q8_0", 9, 0)
    assert settings.time_budget_ms == 600_000
    args = build_parser().parse_args(["complete", "a.py", "--line", "0", "--character", "0",
                                      "--set", "timeBudgetMs=4000"])
    settings = _settings(args, {"timeBudgetMs": args.time_budget_ms}, base={"timeBudgetMs": 600_000})
    assert settings is not None and settings.time_budget_ms == 4000  # --set beats the command's own default
    assert "setting threads: 0 is not accepted" in capsys.readouterr().err  # refused values are warned about
    for bad in ("lookupDecoding", "lookup_decoding=false"):
        args = build_parser().parse_args(["serve", "--set", bad])
        assert _settings(args, {}) is None
        assert "expected KEY=VALUE with KEY one of" in capsys.readouterr().err


def test_set_reaches_the_completion(deepseek_tiny: Path, tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("def square(x):\n    return x * x\n", encoding="utf-8")
    runs = [json.loads(deepfim("complete", str(source), "--line", "1", "--character", "11", "--model",
                               str(deepseek_tiny), "--json", "--compact", *options).stdout)
            for options in (("--set", "maxTokens=2", "--set", "lookupDecoding=false"), ("--max-tokens", "12"))]
    assert runs[0]["timings"]["generated_tokens"] <= 2 and runs[0]["timings"]["draft_tokens"] == 0
    assert runs[1]["timings"]["generated_tokens"] > 2
    out = deepfim("complete", str(source), "--line", "1", "--character", "11", "--set", "nope=1")
    assert out.returncode == 2 and "--set 'nope=1'" in out.stderr


def test_ctrl_c_ends_a_command_without_a_traceback(monkeypatch, capsys) -> None:
    """Ctrl-C during `deepfim complete`, `edit` or `models pull` printed a Python traceback."""
    from server import cli

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_models", interrupted)
    try:
        status = cli.main(["models", "pull"])
    except KeyboardInterrupt:
        status = None  # it escaped main: Python printed its traceback
    assert status == 130
    assert "Traceback" not in capsys.readouterr().err


def test_windows_is_refused_with_what_to_do_instead(monkeypatch, capsys) -> None:
    """On Windows `deepfim serve` died in a traceback (no `resource` module, then `fcntl`): it says to use WSL."""
    from server import cli

    monkeypatch.setattr(cli.sys, "platform", "win32")
    assert cli.main(["serve"]) == 1
    err = capsys.readouterr().err
    assert "Windows is not supported yet" in err and "WSL" in err and len(err.splitlines()) == 1


def test_the_small_model_notice_names_the_flag(tmp_path: Path, monkeypatch) -> None:
    """`deepfim complete` without the default model warned "... or set the model to a .gguf file": a
    command line has no model to set, it has --model."""
    from models.catalog import fallback_name, fallback_notice, find
    from server.cli import build_parser, in_cli_terms

    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    monkeypatch.delenv("DEEPFIM_MODEL", raising=False)
    small = find(fallback_name())
    assert small is not None
    small.local_path.write_bytes(b"GGUF")
    notice = fallback_notice(None, small.local_path)
    assert notice and "set the model to a .gguf file" in notice  # the editors say their model setting
    for command in (["complete", "a.py", "--line", "0", "--character", "0"], ["edit", "a.py", "--range", "0:0-0:0"]):
        text = in_cli_terms(notice, build_parser().parse_args(command))
        assert "or pass --model with the path of a .gguf file" in text and "set the model" not in text, text


def test_an_installed_deepfim_has_every_package() -> None:
    """`pip install .` (not -e) left out server/engines: serve, complete and edit failed with "No module named
    'server.engines'"."""
    import re

    listed = re.search(r"^packages = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.M)
    assert listed
    packages = {name.strip().strip('"') for name in listed[1].split(",")}
    found = {".".join(init.parent.relative_to(REPO).parts) for top in ("server", "fim", "models")
             for init in (REPO / top).rglob("__init__.py")}
    assert found <= packages, found - packages


def test_the_readmes_commands_parse_and_its_edits_name_the_instruct_model() -> None:
    """The README's edit example pulled the instruct model, then ran `deepfim edit` without it: the
    edit was written by the completion model (a base model, or Gemma without the hub)."""
    import re
    import shlex

    from server.cli import build_parser

    readme = (REPO / "README.md").read_text()
    commands = [shlex.split(line, comments=True) for block in re.findall(r"```sh\n(.*?)```", readme, re.S)
                for line in block.splitlines() if line.startswith("deepfim ")]
    edits = [build_parser().parse_args(command[1:]) for command in commands]  # exit 2 if one is wrong
    edits = [args for args in edits if args.command == "edit"]
    assert edits and all(args.model == "deepseek-coder-1.3b-instruct" for args in edits)


def test_serve_ends_without_the_interpreters_clean_up_while_the_model_thread_is_busy(monkeypatch) -> None:
    """An editor that closed (or sent exit) while the model loaded: the interpreter's clean-up ran under
    the model thread inside llama.cpp, and `deepfim serve` died of SIGSEGV (status -11) about one time
    in three with Gemma; its load-progress reports raised tracebacks on the closed event loop."""
    import asyncio
    import threading
    from concurrent.futures import Future

    from server import cli, transport

    loading, release = threading.Event(), threading.Event()
    exits: list[int] = []
    jobs: list[Future] = []

    def session(server, read, stdout) -> int:  # the client leaves while a job holds the model thread
        def job() -> None:
            loading.set()
            release.wait(60)
            server.service.listener.load_progress(50)  # reported after the loop closed

        jobs.append(server.service.worker.submit(job))
        loading.wait(60)
        async def on_the_loop() -> None:  # the listener learns the session's loop, closed when it ends
            server.service.listener.status("loading", "loading model")

        asyncio.run(on_the_loop())
        return 0

    def leave(code: int) -> None:
        exits.append(code)
        release.set()

    stdin = open(os.devnull)
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(transport, "serve", session)
    monkeypatch.setattr(cli, "STOP_WAIT_S", 0.0, raising=False)
    monkeypatch.setattr(os, "_exit", leave)
    monkeypatch.delenv("DEEPFIM_MODEL", raising=False)
    args = cli.build_parser().parse_args(["serve"])
    try:
        assert cli._serve(args) == 0
        assert exits == [0]
        assert jobs[0].exception(60) is None  # no RuntimeError('Event loop is closed') out of the report

        def idle(server, read, stdout) -> int:
            return 1

        exits.clear()
        monkeypatch.setattr(transport, "serve", idle)
        monkeypatch.setattr(cli, "STOP_WAIT_S", 60.0)
        assert cli._serve(args) == 1
        assert exits == []  # an idle model thread ends at once: the usual exit
    finally:
        release.set()
        stdin.close()


def test_a_byte_order_mark_is_not_counted_as_a_character(deepseek_tiny: Path, tmp_path: Path) -> None:
    """Editors neither show nor count a UTF-8 BOM: `deepfim complete` counted it as line 0's first character,
    so a cursor at the end of that line landed before its last character, and the BOM went into the prompt."""
    source = tmp_path / "bom.py"
    source.write_bytes("\ufeffx = 1\n".encode())
    model = ("--model", str(deepseek_tiny))
    out = deepfim("complete", str(source), "--line", "0", "--character", "6", *model, timeout=60)
    assert out.returncode == 2 and "which is 5 characters long (0 to 5)" in out.stderr, out.stderr
    out = deepfim("complete", str(source), "--line", "0", "--character", "5", *model, "--json", "--max-tokens", "1")
    assert out.returncode == 0, out.stderr
    segments = json.loads(out.stdout)["prompt"]["segments"]
    assert [s["text"] for s in segments if s["kind"] == "middle"] == ["x = 1"]
    assert not any("\ufeff" in s["text"] for s in segments)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_completed_as_text(deepseek_tiny: Path, tmp_path: Path, encoding: str) -> None:
    """PowerShell's `>` writes UTF-16 with a byte order mark, which editors read as text: `deepfim complete`
    refused such a file as "not a text file" (its NUL bytes)."""
    source = tmp_path / "ps.py"
    source.write_bytes("\ufeffé = '😀'\r\n".encode(encoding))
    model = ("--model", str(deepseek_tiny))
    out = deepfim("complete", str(source), "--line", "0", "--character", "9", *model, timeout=60)
    assert out.returncode == 2 and "which is 8 characters long (0 to 8)" in out.stderr, out.stderr
    out = deepfim("complete", str(source), "--line", "0", "--character", "8", *model, "--json", "--max-tokens", "1")
    assert out.returncode == 0, out.stderr
    segments = json.loads(out.stdout)["prompt"]["segments"]
    assert [s["text"] for s in segments if s["kind"] == "middle"] == ["é = '😀'"]


def test_complete_with_completion_switched_off_says_so(deepseek_tiny: Path, tmp_path: Path) -> None:
    """`deepfim complete --set enabled=false` (README: `enabled` answers completion requests) completed all the
    same, after loading the model: now one line on stderr and the refusal's exit code, nothing completed."""
    source = tmp_path / "app.py"
    source.write_text("def square(x):\n    return x * x\n", encoding="utf-8")
    position = ("--line", "1", "--character", "11", "--model", str(deepseek_tiny), "--max-tokens", "4", "--json")
    off = deepfim("complete", str(source), *position, "--set", "enabled=false")
    assert off.returncode == 2 and off.stdout == "", off
    lines = off.stderr.strip().splitlines()
    assert len(lines) == 1 and "not completing" in lines[0] and "enabled=false" in lines[0], off.stderr
    on = deepfim("complete", str(source), *position, "--set", "enabled=true")
    assert on.returncode == 0 and "completion" in json.loads(on.stdout), on.stderr

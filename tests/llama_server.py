"""A real llama.cpp `llama-server` for tests and benchmarks, built once from the llama.cpp vendored in
llama-cpp-python's source distribution (the same llama.cpp deepfim runs in-process) and cached by
the sdist's content in the user cache directory. About 8-15 minutes on 2 cores the first time."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Optional, Sequence

from models.catalog import cache_dir
from models.synthetic import llama_cpp_sdist

CMAKE_FLAGS = ("-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_FMA=ON",
               "-DGGML_F16C=ON", "-DLLAMA_CURL=OFF", "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_BUILD_TESTS=OFF",
               "-DLLAMA_BUILD_EXAMPLES=OFF")


BINARY_VARIABLE = "DEEPFIM_LLAMA_SERVER"  # a llama-server built elsewhere (with CUDA, say) to use instead


def llama_server_binary(log=print) -> Path:
    """The `llama-server` that $DEEPFIM_LLAMA_SERVER names, else the cached one built from the vendored
    llama.cpp (first built when it is not there)."""
    given = os.environ.get(BINARY_VARIABLE)
    if given:
        if not Path(given).is_file():
            raise FileNotFoundError(f"{BINARY_VARIABLE}={given}: no such file; unset it to build llama-server here")
        return Path(given)
    sdist = llama_cpp_sdist()
    digest = hashlib.sha256(sdist.read_bytes() + " ".join(CMAKE_FLAGS).encode()).hexdigest()[:16]
    target = cache_dir() / "llama-server" / digest / "llama-server"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if "/vendor/llama.cpp/" in m.name]
            tar.extractall(tmp, members=members, filter="data")
        source = next(Path(tmp).glob("*/vendor/llama.cpp"))
        build = Path(tmp) / "build"
        jobs = str(os.cpu_count() or 2)
        log(f"building llama-server from {sdist.name} (about 8-15 minutes on 2 cores, once)")
        subprocess.run(["cmake", "-S", str(source), "-B", str(build), *CMAKE_FLAGS], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs], check=True,
                       stdout=subprocess.DEVNULL)
        built = next(build.rglob("llama-server"))
        partial = target.with_suffix(".part")
        shutil.copy2(built, partial)
        os.replace(partial, target)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """`llama-server` on loopback with one model; stops on `close()` (or as a context manager)."""

    def __init__(self, model: Path, *, ctx: int = 4096, parallel: int = 1, api_key: Optional[str] = None,
                 extra: Sequence[str] = (), port: Optional[int] = None, threads: int = 2) -> None:
        self.binary = llama_server_binary()
        self.model = model
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        self.args = [str(self.binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                     "-c", str(ctx * parallel), "-np", str(parallel), "-t", str(threads), "--metrics",
                     "--slots", "--no-webui", *(["--api-key", api_key] if api_key else []), *extra]
        self.log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        self.process: Optional[subprocess.Popen] = None
        self.start()

    def start(self, timeout: float = 120) -> None:
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama-server did not start: {Path(self.log.name).read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def metric(self, name: str) -> float:
        """A counter from `/metrics` (e.g. `llamacpp:prompt_tokens_total`)."""
        request = urllib.request.Request(self.url + "/metrics")
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            for line in answer.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return float(line.rsplit(" ", 1)[1])
        raise KeyError(name)

    def settle(self, quiet_s: float = 0.4, timeout_s: Optional[float] = None) -> None:
        """Wait `quiet_s`, then until the server has no request in progress (one whose stream a client
        closed included: the server notices that late on a busy machine), at most `timeout_s` more."""
        time.sleep(quiet_s)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while self.metric("llamacpp:requests_processing") > 0 and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)

    def close(self) -> None:
        self.stop()
        self.log.close()
        os.unlink(self.log.name)

    def __enter__(self) -> "LlamaServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

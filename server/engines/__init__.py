"""Engines: where the model runs. `open_engine` picks one from the settings: in-process llama.cpp
(the default), or a remote server when `engine` is set (its API named by `engineApi` or found by
probing, each probe waiting at most as long as connecting does)."""

from __future__ import annotations

from typing import Callable, Optional

from models.catalog import fallback_notice, resolve
from server.engines.base import Engine, ModelLoadError
from server.engines.http import HttpClient
from server.engines.remote import GRACE_S
from server.settings import Settings

APIS = ("llama.cpp", "openai", "ollama")


def open_engine(settings: Settings, progress: Optional[Callable[[float], None]] = None,
                **local_options: int) -> Engine:
    """The engine `settings` ask for. Raises ModelNotFound, ModelLoadError or EngineUnavailable with a
    message that says what to do."""
    if settings.engine:
        return open_remote(settings.engine, settings.engine_api, settings.engine_model, settings.context_size)
    from server.engines.local import LocalEngine

    path = resolve(settings.model)
    engine = LocalEngine(path, n_ctx=settings.context_size, n_threads=settings.threads, progress=progress,
                         gpu_layers=settings.gpu_layers, flash_attention=settings.flash_attention,
                         kv_cache_type=settings.kv_cache_type, **local_options)
    notice = fallback_notice(settings.model, path)
    if notice:
        engine.info.warnings.append(notice)
    return engine


def open_remote(url: str, api: Optional[str], model: Optional[str], n_ctx: int) -> Engine:
    """A remote engine at `url`; `api` None: found by probing."""
    try:
        client = HttpClient(url)
    except ValueError as error:
        raise ModelLoadError(f"{error}; set engine to a URL such as http://127.0.0.1:8080") from None
    if not api:
        with client.waiting_at_most(GRACE_S):  # as long as connecting waits: a stalled server holds no keystroke
            api = detect_api(client)
    if api == "ollama" and client.url.endswith("/v1"):  # Ollama's own API is at its root
        client = client.root()
    if api == "llama.cpp":
        from server.engines.llama_server import LlamaServerEngine as cls
    elif api == "openai":
        from server.engines.openai import OpenAIEngine as cls  # type: ignore[assignment]
    elif api == "ollama":
        from server.engines.ollama import OllamaEngine as cls  # type: ignore[assignment]
    else:
        raise ModelLoadError(f"unknown engine API {api!r}; use one of {', '.join(APIS)}")
    return cls(url, model, n_ctx, client)


def detect_api(client: HttpClient) -> str:
    """Which API the server at `client.url` speaks: llama-server's `/props`, Ollama's `/api/version`,
    or an OpenAI-compatible `/models` (a URL that lacks the `/v1` before it is told to add it)."""
    for api, path, key in (("llama.cpp", "/props", "default_generation_settings"), ("ollama", "/api/version", "version"),
                           ("openai", "/models", "data")):
        answer = client.probe(path)
        if isinstance(answer, dict) and key in answer:
            if api == "openai" and client.url.endswith("/v1") and _is_ollama(client.root()):
                return "ollama"  # its /v1 cannot set the window: Ollama cut longer prompts from their start
            return api
    if not client.url.endswith("/v1"):  # vLLM, SGLang, LM Studio serve their API under /v1
        answer = client.probe("/v1/models")
        if isinstance(answer, dict) and "data" in answer:
            raise ModelLoadError(f"the engine at {client.url} serves an OpenAI-compatible API under /v1: set engine "
                                 f"to {client.url}/v1")
    raise ModelLoadError(f"cannot tell which API the engine at {client.url} speaks (no llama-server /props, Ollama "
                         f"/api/version or OpenAI /models there): check the URL or set engineApi to llama.cpp, "
                         f"openai or ollama")


def _is_ollama(client: HttpClient) -> bool:
    """Whether the server at `client.url` answers Ollama's `/api/version`."""
    answer = client.probe("/api/version")
    return isinstance(answer, dict) and "version" in answer

"""Server settings: one typed schema, validated, the single source of every editor's settings list.

Clients send camelCase keys (`maxTokens`) in `initializationOptions` or
`workspace/didChangeConfiguration`, as a `deepfim` section or the bare object. A value that does
not fit its key gets one warning that names the key, the value and what is accepted, and the
default is used; numbers outside their range are clamped, with a warning. `schema()` is the list
the editors' settings (VS Code's package.json, Neovim's `server_keys`, Emacs's
`deepfim-server-settings`) are checked against by tests/test_settings.py.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, fields, replace
from typing import Any, Optional


def _setting(default: Any, key: str, doc: str, *, minimum: Optional[int] = None,
             maximum: Optional[int] = None, nullable: bool = False, choices: tuple[str, ...] = (),
             text: bool = False) -> Any:
    return field(default=default, metadata={"key": key, "doc": doc, "minimum": minimum, "maximum": maximum,
                                            "nullable": nullable, "choices": choices, "text": text})


@dataclass(frozen=True)
class Settings:
    model: Optional[str] = _setting(
        None, "model", "path to a .gguf file or a catalog name; null: $DEEPFIM_MODEL, then the catalog default "
        "(changing it reloads)", nullable=True, text=True)
    max_tokens: int = _setting(128, "maxTokens", "most tokens generated per completion", minimum=1, maximum=4096)
    context_size: int = _setting(16384, "contextSize", "the model's window in tokens (falls back to a smaller "
                                 "one when memory is short)", minimum=512, maximum=131072)
    threads: Optional[int] = _setting(None, "threads", "CPU threads for llama.cpp; null: physical cores, "
                                      "fewer while other processes keep them busy",
                                      minimum=1, maximum=1024, nullable=True)
    time_budget_ms: int = _setting(4000, "timeBudgetMs", "milliseconds of generation (prompt reading not counted); "
                                   "a suggestion cut by it keeps whole lines, or whole words on one line",
                                   minimum=1, maximum=600_000)
    single_line: bool = _setting(False, "singleLine", "every suggestion ends with its first line, as where text "
                                 "follows the cursor: shorter, sooner answers where the model is slow")
    enabled: bool = _setting(True, "enabled", "answer completion requests")
    log_text: bool = _setting(False, "logText", "allow source text in the log (debugging only)")
    line_in_prefix: bool = _setting(
        False, "lineInPrefix", "put the typed part of the cursor's line and the lines of its 16-line block before "
        "the hole (classic PSM) instead of after the end token; costs a suffix re-evaluation per keystroke")
    context_before_bos: bool = _setting(
        False, "contextBeforeBos", "put repository context before BOS (llama.cpp /infill) instead of inside the "
        "FIM prefix with #path headers")
    first_answer_ms: int = _setting(
        1000, "firstAnswerMs", "a document whose window would take more than three times this to read is first "
        "answered from a short prompt near the cursor while the full window is read in the background; 0: always "
        "wait for the window",
        minimum=0, maximum=600_000)
    lookup_decoding: bool = _setting(
        True, "lookupDecoding", "prompt-lookup decoding in-process: draft tokens from repeats of the prompt and "
        "the output, verified in one batch (greedy output in fewer steps)")
    installed_packages: bool = _setting(
        True, "installedPackages", "offer the definitions a file uses from the project's installed packages "
        "(its virtual environment's site-packages, node_modules, Go's vendor/ or module cache, Rust's crates "
        "in Cargo's registry sources, PHP's Composer vendor/, Ruby's gems, Dart's pub packages, C/C++ headers "
        "in the include folders, Java's and Kotlin's dependency jars) as context; false: the workspace's own "
        "files only")
    engine: Optional[str] = _setting(
        None, "engine", "base URL of a remote engine (http://host:8080 llama-server, http://host:8000/v1 "
        "OpenAI-compatible, http://host:11434 Ollama); null: run the model in-process", nullable=True, text=True)
    engine_api: Optional[str] = _setting(
        None, "engineApi", "the remote engine's API; null: detected by probing", nullable=True,
        choices=("llama.cpp", "openai", "ollama"))
    engine_model: Optional[str] = _setting(
        None, "engineModel", "the model name, for remote APIs that serve several (OpenAI-compatible, Ollama, "
        "a llama-server router)",
        nullable=True, text=True)
    gpu_layers: Optional[int] = _setting(
        None, "gpuLayers", "model layers offloaded to the GPU; null: all of them when llama.cpp was built with a "
        "GPU backend, else 0", minimum=0, maximum=100_000, nullable=True)
    flash_attention: str = _setting("auto", "flashAttention", "llama.cpp flash attention; auto: off on a CPU for "
                                    "models without grouped key/value heads, else llama.cpp's choice",
                                    choices=("auto", "on", "off"))
    kv_cache_type: str = _setting("f16", "kvCacheType", "KV cache precision: q8_0 or q4_0 fit a window in about "
                                  "half or a third of the memory", choices=("f16", "q8_0", "q4_0"))
    instruct_model: Optional[str] = _setting(
        None, "instructModel", "the model for code actions (edit, fix, explain...): a .gguf path or catalog name "
        "such as deepseek-coder-1.3b-instruct, loaded on first use and closed when idle; with instructEngine, the "
        "model name on that engine; null: the completion model", nullable=True, text=True)
    instruct_engine: Optional[str] = _setting(
        None, "instructEngine", "base URL of a remote engine for code actions, as engine; null: in-process",
        nullable=True, text=True)
    instruct_engine_api: Optional[str] = _setting(
        None, "instructEngineApi", "instructEngine's API; null: detected by probing", nullable=True,
        choices=("llama.cpp", "openai", "ollama"))

    def merged(self, options: Any) -> "Settings":
        """A copy updated from a settings object; bad values are left out (see `validated`)."""
        return self.validated(options)[0]

    def validated(self, options: Any, ours: bool = False,
                  started: Optional["Settings"] = None) -> tuple["Settings", list[str]]:
        """A copy updated from a settings object (a `deepfim` section or the object itself), and one
        warning per key whose value was refused or clamped, and per unknown key (a typo) where every
        key is meant for deepfim: in a `deepfim` section, or `ours` (initializationOptions).

        null (or "" for text) means the value deepfim was `started` with (`deepfim serve --model`,
        `--engine`, `--set`; else the default): a client's cleared setting goes back to it, and a client
        that sends null for what it leaves unset (VS Code) keeps what `serve` was given.
        """
        if not isinstance(options, dict):
            return self, []
        if isinstance(options.get("deepfim"), dict):
            options, ours = options["deepfim"], True
        by_key = {f.metadata["key"]: f for f in fields(self)}
        changes: dict[str, Any] = {}
        warnings: list[str] = []
        for key, value in options.items():
            spec = by_key.get(key)
            if spec is None:  # other tools' keys share a bare settings object in some clients
                if ours:
                    close = difflib.get_close_matches(str(key), list(by_key), n=1, cutoff=0.6)
                    warnings.append(f"setting {key} is not a deepfim setting"
                                    + (f" (did you mean {close[0]}?)" if close else "") + "; it is ignored")
                continue
            if spec.metadata["text"] and isinstance(value, str) and not value.strip():
                value = None  # an editor's empty text box means "not set"
            fallback = getattr(started, spec.name) if started is not None else spec.default
            if value is None:
                changes[spec.name] = fallback
                continue
            accepted, warning = _check(spec, value, fallback)
            if warning:
                warnings.append(f"setting {key}: {json.dumps(value)[:80]} is not accepted; {warning}")
            changes[spec.name] = accepted
        settings = replace(self, **changes)
        if settings.kv_cache_type != "f16" and settings.flash_attention == "off":
            warnings.append(f"setting kvCacheType: {json.dumps(settings.kv_cache_type)} needs flashAttention \"auto\" "
                            f"or \"on\" (llama.cpp quantizes the KV cache only with flash attention); using \"f16\"")
            settings = replace(settings, kv_cache_type="f16")
        return settings, warnings


def _check(spec: Any, value: Any, fallback: Any) -> tuple[Any, Optional[str]]:
    """(the value to use, a description of what is accepted when `value` was not); a value refused
    gives way to `fallback` (what `serve` was started with, else the default), as null does."""
    meta, default = spec.metadata, fallback
    if isinstance(spec.default, bool):
        if isinstance(value, bool):
            return value, None
        return default, f"expected true or false; using {json.dumps(default)}"
    if meta["text"]:
        if isinstance(value, str) and value.strip():
            return value.strip(), None
        return default, (f"expected a non-empty string{' or null' if meta['nullable'] else ''}; using "
                         + (json.dumps(default) if default is not None else "the default"))
    if meta["choices"]:
        if value in meta["choices"]:
            return value, None
        listed = ", ".join(json.dumps(c) for c in meta["choices"])
        return default, f"expected one of {listed}{' or null' if meta['nullable'] else ''}; using {json.dumps(default)}"
    low, high = meta["minimum"], meta["maximum"]
    accepted = f"an integer from {low} to {high}" + (" or null" if meta["nullable"] else "")
    if not isinstance(value, int) or isinstance(value, bool):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            return default, f"expected {accepted}; using {json.dumps(default)}"
    if value <= 0 < low:
        return default, f"expected {accepted}; using {json.dumps(default)}"
    if value < low or value > high:
        clamped = max(low, min(value, high))
        return clamped, f"expected {accepted}; using {clamped}"
    return value, None


def schema() -> list[dict]:
    """Every setting: key, type, default, range and description (for editors and the README)."""
    out = []
    for spec in fields(Settings):
        meta = spec.metadata
        kind = "boolean" if isinstance(spec.default, bool) else "string" if meta["text"] or meta["choices"] \
            else "integer"
        entry = {"key": meta["key"], "type": kind, "default": spec.default, "description": meta["doc"],
                 "nullable": meta["nullable"]}
        if meta["choices"]:
            entry["enum"] = list(meta["choices"])
        if meta["minimum"] is not None:
            entry.update(minimum=meta["minimum"], maximum=meta["maximum"])
        out.append(entry)
    return out


def setting_keys() -> list[str]:
    """The camelCase keys clients send."""
    return [spec.metadata["key"] for spec in fields(Settings)]

"""Server settings, from initializationOptions and workspace/didChangeConfiguration."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Optional

# LSP clients send camelCase; the CLI and Python code use snake_case.
_ALIASES = {
    "maxTokens": "max_tokens",
    "contextSize": "context_size",
    "timeBudgetMs": "time_budget_ms",
    "logText": "log_text",
    "lineInPrefix": "line_in_prefix",
    "contextBeforeBos": "context_before_bos",
}


@dataclass(frozen=True)
class Settings:
    model: Optional[str] = None  # path or catalog name; None: $DEEPFIM_MODEL, then the default
    max_tokens: int = 128
    context_size: int = 16384
    threads: Optional[int] = None  # None: physical cores
    time_budget_ms: int = 4000  # after this, generation stops at the next line end
    enabled: bool = True
    log_text: bool = False  # write source text into the log (debugging only)
    line_in_prefix: bool = False  # typed part of the line before the hole instead of after the end token
    context_before_bos: bool = False  # repository context before BOS instead of inside the FIM prefix

    def merged(self, options: Any) -> "Settings":
        """A copy updated from a settings object (a `deepfim` section or the object itself).

        Unknown keys and values of the wrong type are ignored, so a bad client setting never
        breaks the server.
        """
        if not isinstance(options, dict):
            return self
        if isinstance(options.get("deepfim"), dict):
            options = options["deepfim"]
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in options.items():
            name = _ALIASES.get(key, key)
            if name not in known:
                continue
            current = getattr(self, name)
            if name == "model":
                # null or "" means "unchanged": it must not override `serve --model`.
                if isinstance(value, str) and value.strip():
                    changes[name] = value.strip()
            elif name == "threads":
                if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
                    changes[name] = value
            elif isinstance(current, bool):
                if isinstance(value, bool):
                    changes[name] = value
            elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
                changes[name] = value
        if "max_tokens" in changes:
            changes["max_tokens"] = min(changes["max_tokens"], 4096)
        if "context_size" in changes:
            changes["context_size"] = max(512, min(changes["context_size"], 131072))
        return replace(self, **changes)

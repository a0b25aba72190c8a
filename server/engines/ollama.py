"""Ollama: its API takes text only (`/api/generate` with `raw: true`), so the prompt is sent as the
text of its segments. Control tokens come from the template's spellings, found in the model's own
vocabulary (`/api/show`); every control-token spelling in user text is broken by a word joiner
first (exactly the model's control and user-defined tokens where `/api/show` lists their types), so
Ollama cannot parse it into a control token. Ollama has no tokenizer endpoint: tokens
are estimated (`estimated.py`). Ollama reuses its KV cache for a repeated prompt prefix by itself."""

from __future__ import annotations

from typing import Optional

from server.engines.base import ModelLoadError
from server.engines.estimated import EstimatedTokens
from server.engines.remote import CONTROL_SHAPE, Chunk, RemoteEngine


class OllamaEngine(RemoteEngine):
    api = "ollama"
    breaks_spellings = True

    def _connect(self) -> object:
        models = self.client.request("GET", "/api/tags").get("models") or []
        names = [m.get("name") for m in models if isinstance(m, dict)]
        if self.model is None:
            if len(names) != 1:
                raise ModelLoadError(f"Ollama at {self.client.url} has {len(names)} models "
                                     f"({', '.join(map(str, names)) or 'none: ollama pull one'}): set engineModel")
            self.model = names[0]
        elif self.model not in names and f"{self.model}:latest" in names:
            self.model = f"{self.model}:latest"  # as /api/tags names it, with the digest of what it serves
        show = self.client.request("POST", "/api/show", {"model": self.model, "verbose": True})
        info = show.get("model_info") or {}
        vocabulary = info.get("tokenizer.ggml.tokens") or []
        self._tokens = EstimatedTokens({text: i for i, text in enumerate(vocabulary)})
        kinds = info.get("tokenizer.ggml.token_type")
        if isinstance(kinds, list) and len(kinds) == len(vocabulary):  # control (3) and user-defined (4) tokens
            self._controls = frozenset(text for text, kind in zip(vocabulary, kinds)
                                       if kind in (3, 4) and isinstance(text, str) and CONTROL_SHAPE.fullmatch(text))
        architecture = info.get("general.architecture") or "unknown"
        n_ctx = int(info.get(f"{architecture}.context_length") or 0)
        self._setup(str(self.model), n_ctx, architecture)  # no BOS: Ollama's runner adds it
        self._stop_texts = self.info.template.stop_tokens
        return self._digest(models)

    def _identity(self) -> object:
        return self._digest(self.client.request("GET", "/api/tags").get("models") or [])

    def _digest(self, models: list) -> object:
        """The digest of this engine's model among Ollama's `/api/tags` models."""
        return next((m.get("digest") for m in models if isinstance(m, dict) and m.get("name") == self.model), None)

    def _tokenize(self, text: str, special: bool) -> list[tuple[int, Optional[bytes]]]:
        return self._tokens.tokenize(text, special)

    def _detokenize(self, tokens: list[int]) -> str:
        return self._tokens.text(tokens)

    def _request(self, prompt: list[int], max_tokens: int) -> tuple[str, dict]:
        # A prefill (`max_tokens` 0) reads the prompt and one token: Ollama takes 0 for no limit.
        options = {"num_predict": max(1, max_tokens), "temperature": 0.0, "top_k": 1, "num_ctx": self.info.n_ctx,
                   "stop": list(self._stop_texts)}
        return "/api/generate", {"model": self.model, "prompt": self._detokenize(prompt), "raw": True,
                                 "stream": True, "options": options, "keep_alive": "30m"}

    def _chunk(self, event: dict) -> Chunk:
        done = bool(event.get("done"))
        duration = event.get("prompt_eval_duration")
        return Chunk(text=event.get("response") or "", done=done,
                     stop_reason="max_tokens" if event.get("done_reason") == "length" else "eog",
                     prompt_n=event.get("prompt_eval_count"), predicted_n=event.get("eval_count"),
                     prompt_ms=duration / 1e6 if isinstance(duration, (int, float)) else None)

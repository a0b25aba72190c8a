"""OpenAI-compatible completion servers (vLLM, SGLang, llama-server's `/v1`, LM Studio): prompts
as token ids on `{base}/completions`, streamed, stopped by closing. Tokens come from the server's
`/tokenize` (llama-server: `parse_special: false`, exact; others: control-token spellings in user
text are broken first, since their tokenizers may parse them)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Callable, Optional

from server.engines import llama_server
from server.engines.base import EngineUnavailable, ModelLoadError, Progress
from server.engines.remote import Chunk, RemoteEngine


class OpenAIEngine(RemoteEngine):
    api = "openai"

    def _connect(self) -> None:
        root = self.client.at("")
        props = root.probe("/props")  # None: not a llama-server
        self._root = root
        self._llama = isinstance(props, dict)
        self.breaks_spellings = not self._llama  # llama-server's tokenizer is told not to parse them
        models = self.client.request("GET", "/models").get("data") or []
        names = [m.get("id") for m in models if isinstance(m, dict)]
        if self.model is None:
            if len(names) != 1:
                raise ModelLoadError(f"the engine at {self.client.url} serves {len(names)} models "
                                     f"({', '.join(map(str, names)) or 'none'}): set engineModel to one of them")
            self.model = names[0]
        entry = next((m for m in models if isinstance(m, dict) and m.get("id") == self.model), {})
        settings = (props or {}).get("default_generation_settings") or {}
        n_ctx = int(settings.get("n_ctx") or entry.get("max_model_len") or 0)
        bos = (props or {}).get("bos_token") or self._bos_text()
        name = str(self.model)
        if name.endswith(".gguf"):  # llama-server names its model by the file's path
            name = PurePath(name).stem
        self._setup(name, n_ctx, bos_text=bos)
        self._stop_texts = self.info.template.stop_tokens

    def _identity(self) -> object:
        models = self.client.request("GET", "/models").get("data") or []
        entry = next((m for m in models if isinstance(m, dict) and m.get("id") == self.model), {})
        model = {key: entry.get(key) for key in ("id", "root", "max_model_len", "meta")}
        return model, llama_server.served(self._root.request("GET", "/props")) if self._llama else None

    def _bos_text(self) -> Optional[str]:
        """The BOS spelling where the server's tokenizer adds one to an empty text (vLLM)."""
        try:
            answer = self._root.request("POST", "/tokenize", {"model": self.model, "prompt": "",
                                                              "add_special_tokens": True})
        except EngineUnavailable:
            return None
        tokens = answer.get("tokens") or []
        return self._detokenize(tokens[:1]) if tokens else None

    def _tokenize(self, text: str, special: bool) -> list[tuple[int, Optional[bytes]]]:
        if self._llama:
            return llama_server.tokenize(self._root, text, special)
        answer = self._root.request("POST", "/tokenize", {"model": self.model, "prompt": text,
                                                          "add_special_tokens": False})
        return [(int(t), None) for t in answer["tokens"]]

    def _detokenize(self, tokens: list[int]) -> str:
        if self._llama:
            return llama_server.detokenize(self._root, tokens)
        return self._root.request("POST", "/detokenize", {"model": self.model, "tokens": tokens})["prompt"]

    def _request(self, prompt: list[int], max_tokens: int) -> tuple[str, dict]:
        body = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
                "stop": list(self._stop_texts[:4])}
        if self._llama:
            body.update(cache_prompt=True, n_cache_reuse=llama_server.CACHE_REUSE_MIN, timings_per_token=True)
        else:
            body.update(skip_special_tokens=False)  # vLLM: control tokens show as text, so `stop` sees them
        return "/completions", body

    def _chunk(self, event: dict) -> Chunk:
        choice = (event.get("choices") or [{}])[0]
        finish = choice.get("finish_reason")
        timings = event.get("timings") or {}
        return Chunk(text=choice.get("text") or "", done=finish is not None,
                     stop_reason="max_tokens" if finish == "length" else "eog",
                     prompt_n=timings.get("prompt_n"), cache_n=timings.get("cache_n"),
                     prompt_ms=timings.get("prompt_ms"))

    def prefill(self, prompt: list[int], cancelled: Callable[[], bool], progress: Optional[Progress] = None,
                batch: Optional[int] = None) -> tuple[int, int]:
        """Only llama-server evaluates a prompt without generating; elsewhere the next request pays."""
        return super().prefill(prompt, cancelled, progress) if self._llama else (0, 0)

"""OpenAI-compatible completion servers (vLLM, SGLang, llama-server's `/v1`, LM Studio): prompts
as token ids on `{base}/completions`, streamed, stopped by closing. Tokens come from the server's
`/tokenize` (llama-server: `parse_special: false`, exact; others: control-token spellings in user
text are broken first, since their tokenizers may parse them, and a SentencePiece tokenizer's space
before every text is left out, as `space_probe` does, from the ids alone). A server with no
`/tokenize` (LM Studio) gets the prompt as text, its tokens estimated (`estimated.py`), the template
chosen by the model's name (no vocabulary to look in)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Callable, Optional

from fim.templates import template_for_name
from server.engines import llama_server
from server.engines.base import ModelLoadError, Progress
from server.engines.estimated import EstimatedTokens
from server.engines.http import HttpClient
from server.engines.remote import Chunk, RemoteEngine


class OpenAIEngine(RemoteEngine):
    api = "openai"

    _root: Optional[HttpClient] = None  # the server's own paths (/props, /tokenize), once connected

    def close(self) -> None:
        super().close()
        if self._root is not None:
            self._root.close()

    def _connect(self) -> object:
        root = self.client.root()
        props = root.probe("/props")  # None: not a llama-server
        self._root = root
        self._llama = isinstance(props, dict) and "default_generation_settings" in props
        self.breaks_spellings = not self._llama  # llama-server's tokenizer is told not to parse them
        models = self.client.request("GET", "/models").get("data") or []
        names = [m.get("id") for m in models if isinstance(m, dict)]
        if self.model is None:
            if len(names) != 1:
                raise ModelLoadError(f"the engine at {self.client.url} serves {len(names)} models "
                                     f"({', '.join(map(str, names)) or 'none'}): set engineModel to one of them")
            self.model = names[0]
        if self._llama:
            props = llama_server.routed(root, props, self.model)[0]
        entry = next((m for m in models if isinstance(m, dict) and m.get("id") == self.model), {})
        settings = (props or {}).get("default_generation_settings") or {}
        n_ctx = int(settings.get("n_ctx") or entry.get("max_model_len") or 0)
        self._estimated: Optional[EstimatedTokens] = None
        empty = None if self._llama else root.request("POST", "/tokenize", {"model": self.model, "prompt": "",
                                                                            "add_special_tokens": True}, probing=True)
        if not self._llama and not (isinstance(empty, dict) and isinstance(empty.get("tokens"), list)):  # LM Studio
            template = template_for_name(str(self.model))
            self._estimated = EstimatedTokens({text: i for i, text in enumerate(
                template.special_texts() + template.stop_tokens, start=1)})
            n_ctx = n_ctx or self._lm_studio_window(root)
        tokens = (empty or {}).get("tokens") or []
        bos = (props or {}).get("bos_token") or (self._detokenize(tokens[:1]) if tokens else None)
        self._probe = llama_server.space_probe_of(root) if self._llama else ()
        if self._estimated is None and not self._llama:
            # "\n" is one token but where the tokenizer puts a space before every text (a SentencePiece
            # vocabulary's prefix: CodeLlama's `[29871, 13]` on vLLM); then texts go after a "\n", as
            # with llama-server, and these tokens are dropped.
            newline = self._server_tokens("\n")
            self._probe = tuple(newline) if len(newline) > 1 else ()
        name = str(self.model)
        if name.endswith(".gguf"):  # llama-server names its model by the file's path
            name = PurePath(name).stem
        self._setup(name, n_ctx, bos_text=bos,  # vLLM's: the BOS its tokenizer adds, where it adds one
                    adds_bos=(lambda: llama_server.adds_bos(root)) if self._llama else lambda: True)
        self._stop_texts = self.info.template.stop_tokens
        return self._served(entry, props)

    def _identity(self) -> object:
        models = self.client.request("GET", "/models").get("data") or []
        entry = next((m for m in models if isinstance(m, dict) and m.get("id") == self.model), {})
        return self._served(entry, self._root.request("GET", "/props") if self._llama else None)

    def _served(self, entry: dict, props: Optional[dict]) -> object:
        """What the server serves: this engine's model as `/models` lists it, llama-server's `/props`."""
        model = {key: entry.get(key) for key in ("id", "root", "max_model_len", "meta")}
        return model, llama_server.served(props) if self._llama and props else None

    def _lm_studio_window(self, root: HttpClient) -> int:
        """The window LM Studio loaded the model with (its `/api/v1/models`); 0 where not shown."""
        listed = root.probe("/api/v1/models")
        models = listed.get("models") if isinstance(listed, dict) else None
        for model in models if isinstance(models, list) else []:
            for instance in (model.get("loaded_instances") or []) if isinstance(model, dict) else []:
                if isinstance(instance, dict) and self.model in (model.get("key"), instance.get("id")):
                    return int((instance.get("config") or {}).get("context_length") or 0)
        return 0

    def _tokenize(self, text: str, special: bool) -> list[tuple[int, Optional[bytes]]]:
        if self._estimated is not None:
            return self._estimated.tokenize(text, special)
        if self._llama:
            return llama_server.tokenize(self._root, text, special, self._probe)
        if self._probe:
            led = self._server_tokens("\n" + text)
            if tuple(led[:len(self._probe)]) == self._probe:
                return [(t, None) for t in led[len(self._probe):]]
        return [(t, None) for t in self._server_tokens(text)]  # (the line break merged with the text)

    def _server_tokens(self, text: str) -> list[int]:
        """The ids of `text` by the server's `/tokenize` (not llama-server's), with no special tokens added."""
        answer = self._root.request("POST", "/tokenize", {"model": self.model, "prompt": text,
                                                          "add_special_tokens": False})
        return [int(t) for t in answer["tokens"]]

    def _tokenize_texts(self, texts: list[list[str]]) -> Optional[list[list[tuple[int, Optional[bytes]]]]]:
        return llama_server.tokenize_texts(self._root, texts, self._control_id(), self._probe) if self._llama \
            else None

    def _detokenize(self, tokens: list[int]) -> str:
        if self._estimated is not None:
            return self._estimated.text(tokens)
        if self._llama:
            return llama_server.detokenize(self._root, tokens)
        return self._root.request("POST", "/detokenize", {"model": self.model, "tokens": tokens})["prompt"]

    def _request(self, prompt: list[int], max_tokens: int) -> tuple[str, dict]:
        body = {"model": self.model, "max_tokens": max_tokens,
                "prompt": self._estimated.text(prompt) if self._estimated is not None else prompt,
                "temperature": 0.0, "stream": True, "stop": list(self._stop_texts[:4])}
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

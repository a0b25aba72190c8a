"""What the remote engines share: the vocabulary as seen through the server, FIM control ids from
the template the vocabulary supports, and the streaming generation loop (the post-processor's
stop applied to the stream, the time budget, cancellation, timings)."""

from __future__ import annotations

import re
import time
from typing import Callable, ContextManager, Generator, Optional

from fim.prompt import SpecialIds
from fim.templates import select_template
from server.engines.base import (Cancelled, EngineReplaced, Generation, ModelInfo, ModelLoadError, Progress,
                                 StopAt, common_prefix, plain_parts)
from server.engines.http import MIN_WAIT_S, HttpClient

# Extra seconds a request may take beyond its time budget before it is answered empty.
GRACE_S = 2.0
# Of the grace, what is left for post-processing and sending the answer.
ANSWER_MARGIN_S = 0.1
# Bound on reading the prompt when no time budget is given (the CLI).
UNBOUNDED_S = 600.0
# A zero-width word joiner put inside control-token spellings found in user text, for servers that
# take text only (or tokenize text into control tokens): the model then reads them as text.
WORD_JOINER = "\u2060"


class Chunk:
    """One streamed event, read into what the loop needs."""

    __slots__ = ("text", "done", "stop_reason", "prompt_n", "cache_n", "prompt_ms", "predicted_n")

    def __init__(self, text: str = "", done: bool = False, stop_reason: str = "", prompt_n: Optional[int] = None,
                 cache_n: Optional[int] = None, prompt_ms: Optional[float] = None,
                 predicted_n: Optional[int] = None) -> None:
        self.text, self.done, self.stop_reason = text, done, stop_reason
        self.prompt_n, self.cache_n, self.prompt_ms, self.predicted_n = prompt_n, cache_n, prompt_ms, predicted_n


class RemoteEngine:
    """An engine on a server. Subclasses speak one API: `_connect`, `_tokenize`, `_detokenize`,
    `_request` and `_chunk`."""

    heals = False  # no server constrains its first tokens to a given text
    first_answers = False  # a server reads prompts fast, or at its own pace for every client
    api = ""
    _stop_texts: tuple[str, ...] = ()  # spellings that end a completion when a server sends them as text
    # The server sees user text as text (Ollama) or may parse control tokens in it (vLLM's tokenizer):
    # control-token spellings in it are broken with a word joiner.
    breaks_spellings = False
    _controls: Optional[frozenset[str]] = None  # the model's control-token spellings, where the server lists them

    def __init__(self, url: str, model: Optional[str], n_ctx: int, client: Optional[HttpClient] = None) -> None:
        self.client = client or HttpClient(url)
        self.model = model
        self.wanted_ctx = n_ctx
        self._pieces: dict[int, bytes] = {}
        self._cached = 0
        self._read: list[int] = []  # the last prompt the server read whole
        self.info: ModelInfo
        self.special: SpecialIds
        with self.client.waiting_at_most(GRACE_S):  # a stalled server holds no request long
            try:
                self._serves = self._connect()
            except (AttributeError, TypeError, KeyError, IndexError, ValueError) as error:  # answers of another shape
                raise ModelLoadError(f"the engine at {self.client.url} answered in a shape deepfim cannot read as the "
                                     f"{self.api} API ({error.__class__.__name__}: {str(error)[:80]}): check the engine "
                                     f"URL and engineApi") from None
        self._checked = self.client.troubles

    # ------------------------------------------------------------- per API
    def _connect(self) -> object:
        """Learn the model (name, window, vocabulary) and set `info` and `special`; return what the
        server serves, as `_identity` tells it."""
        raise NotImplementedError

    def _tokenize(self, text: str, special: bool) -> list[tuple[int, Optional[bytes]]]:
        """(id, piece or None) of `text`; control-token spellings parsed only when `special`."""
        raise NotImplementedError

    def _detokenize(self, tokens: list[int]) -> str:
        raise NotImplementedError

    def _request(self, prompt: list[int], max_tokens: int) -> Optional[tuple[str, dict]]:
        """(path, body) of a streamed greedy completion of `prompt`; None when the server did not
        get ready for it in time (nothing is sent)."""
        raise NotImplementedError

    def _chunk(self, event: dict) -> Chunk:
        raise NotImplementedError

    def _identity(self) -> object:
        """What the server serves, as far as this engine depends on it (the model, the window): read
        again after a failure, to notice a server restarted with another."""
        raise NotImplementedError

    def _placed(self) -> bool:
        """Whether the server's cache for this session is known to be where the next request goes."""
        return True

    def _reused(self, held: int, reused: int) -> None:
        """The server reused `reused` prompt tokens of a request whose first `held` it had read for
        this session's last request."""

    # --------------------------------------------------------------- shared
    def _same_server(self) -> None:
        """After a failure or a dropped connection, check that the server (answering again) still
        serves what this engine connected to; raises EngineReplaced when not."""
        if self.client.troubles == self._checked:
            return
        troubles = self.client.troubles
        if self._identity() != self._serves:  # said again until the engine is opened again
            raise EngineReplaced(f"the engine at {self.client.url} was restarted with another model or window: "
                                 f"connecting again")
        self._checked = troubles

    def _setup(self, name: str, n_ctx: int, architecture: str = "unknown", bos_text: Optional[str] = None,
               adds_bos: Callable[[], bool] = lambda: True) -> None:
        """`bos_text`: the model's BOS, if it has one; `adds_bos`: whether its tokenizer puts it before a text."""
        template = select_template(self.has_token, architecture)
        self.info = ModelInfo(source=self.client.url, name=name, architecture=architecture, template=template,
                              n_ctx=min(self.wanted_ctx, n_ctx) if n_ctx > 0 else self.wanted_ctx)
        bos = self.token_id(bos_text) if bos_text and template.starts_with_bos(adds_bos) else None
        self.special = SpecialIds(bos=bos, prefix=self.token_id(template.prefix_token),
                                  suffix=self.token_id(template.suffix_token),
                                  middle=self.token_id(template.middle_token),
                                  file_separator=self.token_id(template.file_separator))

    def token_id(self, text: Optional[str]) -> Optional[int]:
        """The id of `text` when it is exactly one token of the vocabulary (special or not)."""
        if not text:
            return None
        tokens = self._tokenize(text, special=True)
        if len(tokens) == 1 and self.token_text(tokens[0][0]) == text:
            return tokens[0][0]
        return None

    def has_token(self, text: str) -> bool:
        return self.token_id(text) is not None

    def tokenize(self, text: str) -> list[int]:
        return self._ids([token for part in self._parts(text) for token in self._tokenize(part, special=False)])

    def tokenize_many(self, texts: list[str]) -> Optional[list[list[int]]]:
        """Token ids of each of `texts`, as `tokenize` gives them, in one request; None where the API
        has no way to."""
        batched = self._tokenize_texts([self._parts(text) for text in texts])
        return None if batched is None else [self._ids(tokens) for tokens in batched]

    def _tokenize_texts(self, texts: list[list[str]]) -> Optional[list[list[tuple[int, Optional[bytes]]]]]:
        """(id, piece or None) of each text, its parts tokenized one by one as plain text, in one
        request; None where the API has no way to (each text is then a request)."""
        return None

    def _control_id(self) -> Optional[int]:
        """A control token of the model, which no plain text tokenizes to."""
        ids = self.special
        return next((i for i in (ids.bos, ids.middle, ids.prefix, ids.suffix, ids.file_separator) if i is not None),
                    None)

    def _parts(self, text: str) -> list[str]:
        """User text as it is tokenized: spellings broken where the server would parse them, then
        cut so that no part holds a whole control-token spelling."""
        return plain_parts(unparseable(text, self._controls) if self.breaks_spellings else text)

    def _ids(self, tokens: list[tuple[int, Optional[bytes]]]) -> list[int]:
        for token, piece in tokens:
            if piece is not None:
                self._pieces.setdefault(token, piece)
        return [token for token, _ in tokens]

    def piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self._detokenize([token]).encode("utf-8", "surrogatepass")
        return piece

    def token_text(self, token: int) -> str:
        return self.piece(token).decode("utf-8", "replace")

    def answering(self, time_budget_s: Optional[float]) -> ContextManager[None]:
        """Requests sent for the completion being answered (tokenizing, choosing a slot) wait for a
        stalled server only as long as the budget and GRACE_S allow."""
        budget = UNBOUNDED_S if time_budget_s is None else time_budget_s
        return self.client.until(time.monotonic() + budget + GRACE_S - MIN_WAIT_S)

    @property
    def cached_tokens(self) -> int:
        return self._cached

    @property
    def outage(self) -> Optional[str]:
        """Why the server is unreachable now; None while it answers."""
        return self.client.outage

    def prefill(self, prompt: list[int], cancelled: Callable[[], bool], progress: Optional[Progress] = None,
                batch: Optional[int] = None) -> tuple[int, int]:
        """Read `prompt` into the server's cache (no tokens generated); nothing is sent when the server
        has just read it (a pause after a keystroke whose completion was already answered) unless
        this session's slot is still to be learned (a finished request names it)."""
        if prompt and prompt == self._read[:len(prompt)] and self._placed():
            return len(prompt), 0
        generation = self.generate(prompt, 0, cancelled, progress=progress)
        if generation.stop_reason == "cancelled":
            raise Cancelled()
        return generation.prompt_tokens_reused, generation.prompt_tokens_evaluated

    def generate(self, prompt: list[int], max_tokens: int, cancelled: Callable[[], bool],
                 stop_at: StopAt = lambda text: None, time_budget_s: Optional[float] = None,
                 heal: bytes = b"", lookup: bool = False, progress: Optional[Progress] = None,
                 quick: bool = False) -> Generation:
        """Stream a greedy completion; `stop_at` is applied to the text as it arrives and closing the
        connection stops the server. The server reads the prompt at its own pace and `progress` is
        not called (llama-server's `return_progress` kept it decoding after the connection closed).
        The answer comes within the budget plus GRACE_S whatever the
        server does; a failure raises EngineUnavailable (the client backs off)."""
        result = Generation()
        start = time.monotonic()
        budget = UNBOUNDED_S if time_budget_s is None else time_budget_s
        hard = start + budget + GRACE_S
        if time_budget_s is not None and self.client.deadline is not None:  # the completion began before (`answering`)
            hard = min(hard, self.client.deadline + MIN_WAIT_S - ANSWER_MARGIN_S)
        first: Optional[float] = None
        finished = False
        text = ""
        events_read = 0
        reported_cache: Optional[int] = None
        try:
            with self.client.cancelled_by(cancelled):  # a keystroke waits for none of them (a background read)
                self._same_server()
                request = self._request(prompt, max_tokens)
        except Cancelled:  # or out of time
            request = None
        if request is None:
            result.stop_reason = "cancelled" if cancelled() else "time"
            return result
        path, body = request
        held = common_prefix(prompt, self._read)  # what the server's cache should still hold of it
        self._read = []
        events: Generator[dict, None, None] = self.client.stream(path, body, cancelled, hard)
        for event in events:
            try:
                chunk = self._chunk(event)
                if not isinstance(chunk.text, str):
                    raise TypeError(chunk.text)
            except (AttributeError, TypeError, ValueError, KeyError, IndexError):
                events.close()
                raise self.client.failed(f"the engine at {self.client.url} streamed an event deepfim cannot read "
                                         f"as the {self.api} API: {str(event)[:80]}") from None
            events_read += 1
            if first is None and (chunk.text or chunk.done):
                first = time.monotonic()
                result.prompt_ms = (first - start) * 1000
            if chunk.prompt_n is not None:
                result.prompt_tokens_evaluated = chunk.prompt_n
            if chunk.cache_n is not None:
                result.prompt_tokens_reused = reported_cache = chunk.cache_n
            if chunk.prompt_ms is not None:
                result.prompt_ms = chunk.prompt_ms
            if chunk.text:
                result.generated_tokens = chunk.predicted_n or result.generated_tokens + 1
                text += chunk.text
                spelled = [i for i in (text.find(s) for s in self._stop_texts) if i >= 0]
                if spelled:
                    text, result.stop_reason, finished = text[:min(spelled)], "eog", True
                    break
                cut = stop_at(text)
                if cut is not None:
                    text, result.stop_reason, finished = text[:cut], "stop", True
                    break
            if chunk.done:
                result.stop_reason, finished = chunk.stop_reason or "eog", True
                break
            if first is not None and time.monotonic() - first >= budget:
                result.stop_reason, finished = "time", True
                break
        events.close()  # closing the connection stops the server's decoding
        if not finished:
            if cancelled():
                result.stop_reason = "cancelled"
            elif time.monotonic() >= hard - 0.05:
                result.stop_reason = "time"
            elif events_read and first is None:  # none understood: another API's (llama-server's root for /v1)
                raise self.client.failed(f"the engine at {self.client.url} streamed nothing deepfim reads as the "
                                         f"{self.api} API: check the engine URL and engineApi (an "
                                         f"OpenAI-compatible server's URL usually ends in /v1)")
            else:
                raise self.client.failed(f"the stream from {self.client.url} ended before the completion did: did the "
                                         f"server stop?")
        if reported_cache is not None:
            self._reused(held, reported_cache)
        self._cached = len(prompt) + result.generated_tokens
        self._read = prompt if first is not None else []
        result.text = text
        now = time.monotonic()
        result.generate_ms = (now - first) * 1000 if first is not None else 0.0
        result.steps = max(0, result.generated_tokens - 1)  # one server step per token after the first
        return result

    def close(self) -> None:
        self.client.close()


# Spellings that control tokens of FIM models start with: `<｜fim▁begin｜>`, `<|fim_prefix|>`,
# `<fim_prefix>`, `<PRE>`, `<|file_sep|>`, `[PREFIX]`, `<s>`, DeepSeek's `<pad>`, Gemma's `<eos>`, and
# StarCoder's metadata tokens (`<filename>`, `<gh_stars>`, `<jupyter_code>`, `<NAME>`, ...).
_CONTROL_START = re.compile(r"(?<=<)(?=[|｜]|fim[_-]|PRE>|SUF>|MID>|EOT>|file_sep|repo_name|/?s>|pad>|[be]os>|unk>"
                            r"|mask>|(?:start|end)_of_turn>|filename>|reponame>|gh_stars>|issue_|jupyter_"
                            r"|empty_output>|commit_|pr>|pr_|code_to_intermediate>|intermediate_to_code>"
                            r"|(?:NAME|EMAIL|KEY|PASSWORD)>)"
                            r"|(?<=\[)(?=PREFIX\]|SUFFIX\]|MIDDLE\])")


# What a control token a tokenizer parses in text looks like: `<...>` or `[...]`, no blanks inside.
CONTROL_SHAPE = re.compile(r"<[^<>\s]{1,64}>|\[[^\[\]\s]{1,64}\]")
# Each such shape in text, also those inside another (`["<eos>"]`): `(1)` is the shape, at the match's start.
_SHAPES = re.compile(r"(?=(" + CONTROL_SHAPE.pattern + r"))")


def unparseable(text: str, controls: Optional[frozenset[str]] = None) -> str:
    """`text` with a word joiner after the first character of each control-token spelling in it, for
    servers whose tokenizers would parse it (the model reads it as the text it is): exactly the
    model's `controls` where they are known, else anything spelled like a FIM model's."""
    if controls is None:
        return _CONTROL_START.sub(WORD_JOINER, text)
    cuts = [match.start() + 1 for match in _SHAPES.finditer(text) if match[1] in controls]
    return WORD_JOINER.join(text[start:end] for start, end in zip([0] + cuts, cuts + [len(text)]))

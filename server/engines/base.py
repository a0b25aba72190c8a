"""What every engine offers the completer, and the types they share.

An engine holds one model: its vocabulary (plain-text tokenization that never yields a control
token, the text of a token, the FIM control ids), and greedy generation from a prompt of token
ids that reuses what it evaluated for the previous prompt, stops when the caller's `stop_at`
says so, gives way to `cancelled()`, and reports its timings. Implementations: in-process
llama.cpp (`local.py`), llama.cpp's `llama-server` (`llama_server.py`), OpenAI-compatible
completion servers (`openai.py`) and Ollama (`ollama.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Iterator, Optional, Protocol, Sequence

from fim.prompt import SpecialIds
from fim.templates import FimTemplate


class ModelLoadError(Exception):
    """The model could not be loaded; the message names the problem and the fix."""


class Cancelled(Exception):
    """The request that drove the engine was cancelled or superseded."""


class OutOfTime(Cancelled):
    """The completion's time ran out before the engine could be asked (a slow server's tokenizer):
    it is answered empty; asked again, what was tokenized meanwhile is cached."""


class EngineClosed(RuntimeError):
    """A job reached an engine after `close()` (a reload raced it); nothing ran on freed memory."""


class EngineUnavailable(Exception):
    """A remote engine could not be reached or answered wrongly; the message names the URL and the
    cause. The engine backs off before trying again. `fixable`: the server answered, and only the
    user can make it serve (an API key it refuses, a path it does not have); `knock`: a knock on
    its port can see the outage end (it refused the connection, or answered 503 loading its model)."""

    def __init__(self, message: str, fixable: bool = False, knock: bool = False) -> None:
        super().__init__(message)
        self.fixable = fixable
        self.knock = knock


class EngineReplaced(EngineUnavailable):
    """A remote engine's server was restarted with another model or window: the engine must be
    opened again (its vocabulary, template and window are another's)."""


@dataclass
class Generation:
    """What one prompt evaluation plus generation did."""

    text: str = ""
    generated_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    prompt_tokens_reused: int = 0
    prompt_ms: float = 0.0
    generate_ms: float = 0.0
    stop_reason: str = ""  # eog | stop | max_tokens | time | cancelled
    draft_tokens: int = 0  # lookup decoding: tokens drafted from the prompt and the output ...
    draft_accepted: int = 0  # ... and those greedy decoding agreed with
    steps: int = 0  # decoding steps after the first token (the prompt's logits give it), drafts or not


@dataclass
class ModelInfo:
    source: str  # the model file, or the URL of the remote engine
    name: str
    architecture: str
    template: FimTemplate
    n_ctx: int
    warnings: list[str] = field(default_factory=list)


StopAt = Callable[[str], Optional[int]]
# Prompt reading: (tokens of the prompt the cache holds so far, the prompt's length), called as it goes.
Progress = Callable[[int, int], None]

# Spelled like a chat or FIM control token (`<|EOT|>`, `<|User|>`, `<｜fim▁hole｜>`, `<|fim_prefix|>`),
# or DeepSeek's `<pad>`. llama.cpp turns "user-defined" tokens such as DeepSeek's `<|EOT|>` and `<pad>`
# into their ids even when asked not to parse special tokens, so such spellings in user text are
# tokenized in two parts.
_CONTROL_SPELLING = re.compile(r"<[|｜][^\s<>|｜]{1,48}[|｜]>|<pad>")
# llama.cpp's pre-tokenizer regex recurses once per character of a run of letters: 30,000 of them in one
# text overflowed the stack of the thread tokenizing it (a segmentation fault, in-process or in llama-server).
MAX_PART_CHARS = 4096


def common_prefix(a: list[int], b: list[int], limit: Optional[int] = None) -> int:
    """How many tokens `a` and `b` share from the start (at most `limit`). Slices are compared, halving
    the range where they differ: a 16K-token window every keystroke costs tens of microseconds, not a
    Python loop's milliseconds."""
    n = max(0, min(len(a), len(b)) if limit is None else min(len(a), len(b), limit))
    lo, hi = 0, n  # a[:lo] == b[:lo]; the first difference, if any, is before hi
    if a[:n] == b[:n]:
        return n
    while hi - lo > 32:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    for i in range(lo, hi):
        if a[i] != b[i]:
            return i
    return hi


def space_probe(newline: Sequence[tuple[int, Optional[bytes]]]) -> tuple[int, ...]:
    """From the (id, piece) tokens of "\n": those tokens when the tokenizer starts every text with a space
    (a SentencePiece vocabulary's space prefix: CodeLlama, Mistral), else (). Prompts are tokenized line
    by line, so each line would start with one more space: a text is then tokenized after "\n", and the
    probe's tokens it starts with are dropped (where they are not, the line break merged with the text)."""
    spoken = b"".join(piece or b"" for _, piece in newline)
    return tuple(token for token, _ in newline) if spoken == b" \n" and len(newline) > 1 else ()


def plain_parts(text: str) -> list[str]:
    """`text` cut so that no part holds a whole control-token spelling (each spelling is split after
    its first character) nor more than MAX_PART_CHARS characters; tokenizing the parts one by one can
    never yield a control token."""
    parts: list[str] = []
    start = 0
    for match in _CONTROL_SPELLING.finditer(text):
        parts.extend(_bounded(text[start:match.start() + 1]))
        start = match.start() + 1
    parts.extend(_bounded(text[start:]))
    return [part for part in parts if part]


def _bounded(text: str) -> Iterator[str]:
    """`text` in pieces of at most MAX_PART_CHARS, each cut before a space where the last half has one."""
    while len(text) > MAX_PART_CHARS:
        space = max(text.rfind(char, MAX_PART_CHARS // 2, MAX_PART_CHARS) for char in " \t\n")
        cut = space if space > 0 else MAX_PART_CHARS
        yield text[:cut]
        text = text[cut:]
    yield text


class Engine(Protocol):
    """The interface the completer drives. Only one thread calls an engine."""

    info: ModelInfo
    special: SpecialIds
    # Whether `generate` can constrain its first tokens to the `heal` text (token healing).
    heals: bool
    # Whether `generate(quick=True)` answers from a short prompt without disturbing the full window
    # (then `missing(prompt)` and `read_rate`, prompt tokens read per second, tell when to, and
    # `quick_cells` bounds the short prompt and its answer).
    first_answers: bool

    def tokenize(self, text: str) -> list[int]:
        """Token ids of user text, as plain text: control-token spellings stay text."""

    def tokenize_many(self, texts: list[str]) -> Optional[list[list[int]]]:
        """`tokenize` of each of `texts` in one call that costs less than one per text (a remote
        engine: one request); None where there is no such call."""

    def token_text(self, token: int) -> str:
        """The text of one token (control tokens spelled out)."""

    def piece(self, token: int) -> bytes:
        """The bytes one token stands for."""

    def answering(self, time_budget_s: Optional[float]) -> ContextManager[None]:
        """While a completion with this budget is built and generated: an engine on a server bounds
        how long its requests wait (a stalled server), so that the answer comes in time."""

    def prefill(self, prompt: list[int], cancelled: Callable[[], bool], progress: Optional[Progress] = None,
                batch: Optional[int] = None) -> tuple[int, int]:
        """Evaluate `prompt` into the cache, asking `cancelled` every `batch` tokens where the engine
        reads in batches; (reused, evaluated). Raises Cancelled."""

    def generate(self, prompt: list[int], max_tokens: int, cancelled: Callable[[], bool],
                 stop_at: StopAt = lambda text: None, time_budget_s: Optional[float] = None,
                 heal: bytes = b"", lookup: bool = False, progress: Optional[Progress] = None,
                 quick: bool = False) -> Generation:
        """Greedy generation after `prompt` until a stop token, `stop_at`, the cap or the budget;
        `lookup`: prompt-lookup decoding where the engine offers it (same output, fewer steps)."""

    @property
    def cached_tokens(self) -> int:
        """Prompt tokens the engine holds for reuse (0 where it cannot tell)."""

    def close(self) -> None:
        """Free the model (or the connection)."""

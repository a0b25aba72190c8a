"""llama.cpp's `llama-server`, through its native API: prompts as token ids on `/completion`,
tokenization on `/tokenize` with `parse_special: false` (user text never becomes a control token),
the server's KV cache reused (`cache_prompt`, `n_cache_reuse`), streamed, stopped by closing."""

from __future__ import annotations

import random
import secrets
import time
from pathlib import PurePath
from typing import Optional

from server.engines.base import ModelLoadError, space_probe
from server.engines.http import REQUEST_TIMEOUT_S, HttpClient
from server.engines.remote import Chunk, RemoteEngine

# Matching chunks at least this long are shifted into place in the server's KV cache instead of
# being evaluated again (the server's `--cache-reuse`, per request).
CACHE_REUSE_MIN = 16
# A request that finds this many fewer of its session's tokens in its slot than the slot held after
# the session's last request (and under half of them) means another client wrote the slot.
LOST_SLOT_TOKENS = 256


def tokenize(client: HttpClient, text: str, special: bool,
             probe: tuple[int, ...] = ()) -> list[tuple[int, Optional[bytes]]]:
    """(id, piece) of `text` by llama-server's `/tokenize`; control-token spellings parsed only when
    `special` (the server's default is to parse them: user text is always sent with false). Plain text
    goes without the space the server puts before every text, where there is a `probe` (`space_probe`)."""
    if special or not probe:
        return _tokenized(client.request("POST", "/tokenize", {"content": text, "add_special": False,
                                                               "parse_special": special, "with_pieces": True}))
    tokens = _after_probe(tokenize(client, "\n" + text, False), probe)
    return tokenize(client, text, False) if tokens is None else tokens  # the line break merged with the text


def space_probe_of(client: HttpClient) -> tuple[int, ...]:
    """The server's `space_probe`."""
    return space_probe(tokenize(client, "\n", False))


def _after_probe(tokens: list[tuple[int, Optional[bytes]]],
                 probe: tuple[int, ...]) -> Optional[list[tuple[int, Optional[bytes]]]]:
    """The tokens of "\n" + text less the `probe`'s: those of the text as inside a document; None where the
    line break merged with the text."""
    return tokens[len(probe):] if tuple(t for t, _ in tokens[:len(probe)]) == probe else None


def _tokenized(answer: dict) -> list[tuple[int, Optional[bytes]]]:
    out: list[tuple[int, Optional[bytes]]] = []
    for item in answer["tokens"]:
        piece = item["piece"]
        out.append((int(item["id"]), bytes(piece) if isinstance(piece, list) else piece.encode("utf-8")))
    return out


def tokenize_texts(client: HttpClient, texts: list[list[str]], separator: Optional[int],
                   probe: tuple[int, ...] = ()) -> Optional[list[list[tuple[int, Optional[bytes]]]]]:
    """(id, piece) of each text, given as parts, by one `/tokenize` request: its content is a list of
    strings, each tokenized on its own as plain text (less the `probe`, see `tokenize`), with the control
    token `separator` after each to tell where it ends. None without a separator, or where one came out of
    the text."""
    if separator is None:
        return None
    content: list = []
    for parts in texts:
        for part in parts:
            content += ["\n" + part if probe else part, separator]
    answer = client.request("POST", "/tokenize", {"content": content, "add_special": False,
                                                  "parse_special": False, "with_pieces": True}, probing=True)
    if not isinstance(answer, dict) or not isinstance(answer.get("tokens"), list):
        return None  # a server that takes one string only
    groups: list[list[tuple[int, Optional[bytes]]]] = [[]]
    for token, piece in _tokenized(answer):
        if token == separator:
            groups.append([])
        else:
            groups[-1].append((token, piece))
    if len(groups) != len(content) // 2 + 1 or groups.pop():
        return None
    unled = [_after_probe(group, probe) for group in groups] if probe else groups
    out: list[list[tuple[int, Optional[bytes]]]] = []
    for parts in texts:
        taken, unled = unled[:len(parts)], unled[len(parts):]
        if any(group is None for group in taken):
            return None  # a line break merged with a part's text
        out.append([token for group in taken for token in group or ()])
    return out


def adds_bos(client: HttpClient) -> bool:
    """Whether the server's tokenizer puts the model's BOS before a text (its GGUF's add_bos_token)."""
    return bool(client.request("POST", "/tokenize", {"content": "", "add_special": True})["tokens"])


def detokenize(client: HttpClient, tokens: list[int]) -> str:
    return client.request("POST", "/detokenize", {"tokens": tokens})["content"]


def routed(client: HttpClient, props: dict, model: Optional[str]) -> tuple[dict, Optional[str]]:
    """`/props` of the model `client` asks for, and that model: on llama-server's router (--models-dir),
    whose every request names its model, `model` or the only one it serves, named by `client` from now
    on; elsewhere `props` and `model` as they are."""
    if props.get("role") != "router":
        return props, model
    if model is None:
        listed = client.request("GET", "/models").get("data") or []
        names = [entry.get("id") for entry in listed if isinstance(entry, dict)]
        if len(names) != 1:
            raise ModelLoadError(f"the engine at {client.url} serves {len(names)} models "
                                 f"({', '.join(map(str, names)) or 'none'}): set engineModel to one of them")
        model = names[0]
    client.model = model
    return client.request("GET", "/props"), model


def served(props: dict) -> tuple:
    """What a llama-server's `/props` says it serves: the model file, the window of a slot, the slots."""
    settings = props.get("default_generation_settings") or {}
    return props.get("model_path"), settings.get("n_ctx") or props.get("n_ctx"), props.get("total_slots")


class LlamaServerEngine(RemoteEngine):
    api = "llama.cpp"

    def _connect(self) -> object:
        props, self.model = routed(self.client, self.client.request("GET", "/props"), self.model)
        settings = props.get("default_generation_settings") or {}
        n_ctx = int(settings.get("n_ctx") or props.get("n_ctx") or 0)
        path = props.get("model_path") or ""
        name = self.model or PurePath(path).stem or "llama-server"
        self.slots = int(props.get("total_slots") or 1)
        # The slot this session keeps, asked for by `id_slot` in every request: the server then waits
        # for it when busy, instead of handing the request the least recently used idle slot (another
        # editor's KV cache, whose window would then be read again). Where `/slots` lists a slot no
        # one has used, the session claims one with a request of a few tokens that names none: the
        # server hands such requests the fresh slots one at a time, so editors starting at once get
        # different ones (picking from the same list at random, 4 editors did share one 9 times in
        # 10). Every request carries the session's `seed` (sampling is greedy: it changes nothing), by
        # which `/slots` shows a claim whose answer came too late. Without a fresh slot, the slot is
        # the one the server chose for a request, learned from its final event (the streamed events
        # before it say -1; a stream deepfim cuts short has none, so a prefill after a pause is sent
        # until it is known). It is kept across outages (the server wraps an id beyond its slots).
        # A request that finds its window gone from the slot (another client used it) moves the
        # session to a fresh slot when there is one: the next request claims it (`_lost`), where a
        # keystroke can cut the claim, rather than the answer waiting for it.
        self.slot: Optional[int] = None
        self._claimed = False
        self._lost: Optional[int] = None
        self._seed = random.randrange(1, 2**31)
        self._probe = space_probe_of(self.client)
        self._setup(name, n_ctx, bos_text=props.get("bos_token") or None, adds_bos=lambda: adds_bos(self.client))
        self._stop_ids = {i for i in (self.token_id(t) for t in self.info.template.stop_tokens) if i is not None}
        return served(props)

    def _identity(self) -> object:
        return served(self.client.request("GET", "/props"))

    def _tokenize(self, text: str, special: bool) -> list[tuple[int, Optional[bytes]]]:
        return tokenize(self.client, text, special, self._probe)

    def _tokenize_texts(self, texts: list[list[str]]) -> Optional[list[list[tuple[int, Optional[bytes]]]]]:
        return tokenize_texts(self.client, texts, self._control_id(), self._probe)

    def _detokenize(self, tokens: list[int]) -> str:
        return detokenize(self.client, tokens)

    def _request(self, prompt: list[int], max_tokens: int) -> Optional[tuple[str, dict]]:
        if self._lost is not None and not self._move():
            return None
        if self.slot is None and self.slots > 1 and not self._claimed and not self._claim_slot():
            return None
        body = {
            "prompt": prompt, "n_predict": max_tokens, "stream": True, "cache_prompt": True,
            "n_cache_reuse": CACHE_REUSE_MIN, "temperature": 0.0, "top_k": 1, "samplers": ["top_k"],
            "timings_per_token": True, "return_tokens": True, "seed": self._seed,
        }
        if self.slot is not None:
            body["id_slot"] = self.slot
        return "/completion", body

    def _claim_slot(self, lost: Optional[int] = None) -> bool:
        """Take a slot no one has used (not `lost`), if the server lists one; False when the claim was
        cut or the server did not answer it in time (the next request looks for it in `/slots`)."""
        slots = self.client.probe("/slots")
        listed = [slot for slot in slots if isinstance(slot, dict) and isinstance(slot.get("id"), int)
                  and slot["id"] != lost] if isinstance(slots, list) else []
        mine = [slot["id"] for slot in listed if (slot.get("params") or {}).get("seed") == self._seed]
        if mine:  # a claim answered too late
            self.slot = mine[0]
        if mine or not any(not slot.get("is_processing") and "id_task" not in slot for slot in listed):
            self._claimed = True
            return True
        # Tokens no cached prompt starts with: the server hands the request an idle fresh slot (least
        # recently used) rather than one whose prompt it resembles, which it does from 10% of a common
        # start. 16 hex digits were 16 tokens: another claim's nonce starting with the same two digits
        # (1 in 256) took that claim's slot (CI, 4 editors starting at once). 40 random characters are
        # 26 tokens or more, whose first three no other nonce shares.
        nonce = self.tokenize(secrets.token_urlsafe(30))
        body = {"prompt": nonce, "n_predict": 0, "stream": True, "seed": self._seed}
        deadline = self.client.deadline or time.monotonic() + REQUEST_TIMEOUT_S
        for event in self.client.stream("/completion", body, self.client.cancelled, deadline):
            slot = event.get("id_slot")
            if isinstance(slot, int) and slot >= 0 and slot != lost:
                self.slot = slot
        cut = self.client.cancelled() or time.monotonic() >= deadline
        # Answered without naming a slot (a server whose events do not say it): it chooses them itself.
        self._claimed = self.slot is not None or not cut
        return self._claimed

    def _reused(self, held: int, reused: int) -> None:
        if self.slot is not None and self.slots > 1 and held - reused >= LOST_SLOT_TOKENS and reused * 2 < held:
            self._lost = self.slot

    def _move(self) -> bool:
        """Move the session from its `_lost` slot to a fresh one, if the server lists one; False when
        the claim was cut (the next request makes it again)."""
        lost = self._lost
        self.slot = None
        claimed = False
        try:
            claimed = self._claim_slot(lost)
        finally:
            if self.slot is None:  # no fresh slot (the lost one is still the best guess), or cut
                self.slot = lost
        if not claimed:
            return False
        self._lost = None
        if self.slot != lost:
            self._read = []  # the fresh slot holds nothing of this session
        return True

    def _placed(self) -> bool:
        return self._lost is None and (self.slot is not None or self.slots <= 1)

    def _chunk(self, event: dict) -> Chunk:
        slot = event.get("id_slot")
        if self.slot is None and self.slots > 1 and isinstance(slot, int) and slot >= 0:
            self.slot = slot
        timings = event.get("timings") or {}
        tokens = event.get("tokens") or []
        stopped = any(t in self._stop_ids for t in tokens)
        text = "" if stopped else event.get("content") or ""
        done = bool(event.get("stop")) or stopped
        reason = ""
        if done:
            reason = "max_tokens" if event.get("stop_type") == "limit" else "eog"
        return Chunk(text=text, done=done, stop_reason=reason, prompt_n=timings.get("prompt_n"),
                     cache_n=timings.get("cache_n"), prompt_ms=timings.get("prompt_ms"),
                     predicted_n=event.get("tokens_predicted"))

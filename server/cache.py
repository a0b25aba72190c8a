"""Completions already served, answered again without the model.

Two kinds of hit: the same text around the cursor again (an exact hit), and the user typing
through a suggestion that is still shown (the typed text is a start of the cached completion:
the rest of it is the answer). Entries hold hashes and lengths, not document copies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class _Entry:
    before_len: int
    before_hash: int
    after_hash: int
    completion: str


class CompletionCache:
    """An LRU of served completions, by document and the text around the cursor. Thread-safe (the
    event loop serves from it, the model thread's prefetches fill it)."""

    def __init__(self, size: int = 256) -> None:
        self._exact: OrderedDict[tuple[str, int, int, int], str] = OrderedDict()
        self._last: dict[str, _Entry] = {}
        self._size = size
        self._lock = threading.Lock()

    def put(self, uri: str, before: str, after: str, completion: str) -> None:
        key = (uri, len(before), hash(before), hash(after))
        with self._lock:
            self._exact[key] = completion
            self._exact.move_to_end(key)
            if len(self._exact) > self._size:
                self._exact.popitem(last=False)
            if completion:
                self._last[uri] = _Entry(len(before), key[2], key[3], completion)

    def get(self, uri: str, before: str, after: str) -> Optional[str]:
        """The completion for this cursor, or None when the model must be asked."""
        after_hash = hash(after)
        with self._lock:
            key = (uri, len(before), hash(before), after_hash)
            exact = self._exact.get(key)
            if exact is not None:
                self._exact.move_to_end(key)  # least recently used goes first, not least recently put
            entry = self._last.get(uri)
        if exact is not None:
            return exact
        if entry is None or entry.after_hash != after_hash or len(before) <= entry.before_len:
            return None
        typed = before[entry.before_len:]
        if len(typed) >= len(entry.completion) or not entry.completion.startswith(typed):
            return None
        if hash(before[:entry.before_len]) != entry.before_hash:
            return None
        return entry.completion[len(typed):]

    def accepted(self, uri: str, text: str) -> Optional[int]:
        """The offset after the last suggestion for `uri` when `text` shows it fully accepted."""
        entry = self._last.get(uri)
        if entry is None:
            return None
        end = entry.before_len + len(entry.completion)
        if (text[entry.before_len:end] == entry.completion and hash(text[:entry.before_len]) == entry.before_hash
                and hash(text[end:]) == entry.after_hash):
            return end
        return None

    def clear(self) -> None:
        with self._lock:
            self._exact.clear()
            self._last.clear()

    def forget(self, uri: str) -> None:
        with self._lock:
            self._last.pop(uri, None)
            for key in [k for k in self._exact if k[0] == uri]:
                del self._exact[key]

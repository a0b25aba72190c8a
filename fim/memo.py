"""Memos of what a file's text tells (its definitions, its imports), bounded by the characters of text they hold.

A request reads one fact of every file the document imports: 2,000 files for a Perl script calling 2,000
packages or a Python module with 2,000 imports. An ``lru_cache`` of a few hundred entries is smaller than that
working set and, cycled through in the same order each keystroke, answers nothing (3.6 s a keystroke for the
Perl script). These memos count what they cost instead: the characters of the texts they are keyed by, at most
`TEXT_MEMO_CHARS` (and `TEXT_MEMO_ENTRIES` entries), least recently used dropped first. The texts are mostly the
workspace snapshot's own strings, shared, so what a memo adds is its answers and the old versions of edited files
(at most `TEXT_MEMO_CHARS` characters: 32 MB of ASCII text). Thread-safe; a miss computes outside the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import update_wrapper
from typing import Any, Callable, NamedTuple, TypeVar

TEXT_MEMO_CHARS = 32_000_000  # characters of text a memo's keys add up to at most ...
TEXT_MEMO_ENTRIES = 50_000  # ... and entries (many short texts)

R = TypeVar("R")


class MemoInfo(NamedTuple):
    hits: int
    misses: int
    entries: int
    chars: int


class TextMemo:
    """`function` remembered by its arguments, the memo bounded by the characters of its string arguments."""

    def __init__(self, function: Callable[..., R], max_chars: int = TEXT_MEMO_CHARS,
                 max_entries: int = TEXT_MEMO_ENTRIES) -> None:
        self.function = function
        self.max_chars = max_chars
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._chars = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()
        update_wrapper(self, function)

    def __call__(self, *args: Any) -> Any:
        with self._lock:
            held = self._entries.get(args)
            if held is not None:
                self._entries.move_to_end(args)
                self._hits += 1
                return held[0]
            self._misses += 1
        value = self.function(*args)
        size = sum(len(a) for a in args if isinstance(a, str))
        if size > self.max_chars:
            return value
        with self._lock:
            if args not in self._entries:
                self._entries[args] = (value, size)
                self._chars += size
                while self._chars > self.max_chars or len(self._entries) > self.max_entries:
                    self._chars -= self._entries.popitem(last=False)[1][1]
        return value

    def cache_info(self) -> MemoInfo:
        """Hits, misses, entries and the characters of text held (as ``functools.lru_cache``'s)."""
        with self._lock:
            return MemoInfo(self._hits, self._misses, len(self._entries), self._chars)

    def __reduce__(self) -> str:
        """Pickled by name, as a function (another process gets its own memo)."""
        return self.__qualname__

    def cache_clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = self._hits = self._misses = 0


def text_memo(function: Callable[..., R]) -> TextMemo:
    """Decorator: `function` (of a file's text and small arguments) remembered in a `TextMemo`."""
    return TextMemo(function)

"""Token healing's lookup: which tokens of a vocabulary fit bytes the prompt left pending."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Sequence

import numpy as np


class HealIndex:
    """The vocabulary's token texts, sorted once, so that the tokens fitting some pending bytes (their
    text starts with them, or is a start of them) are found by bisection rather than by a scan of
    every token (262K of them for Gemma: ~60 ms a scan in Python)."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        order = sorted((piece, token) for token, piece in enumerate(pieces) if piece)
        self._sorted = [piece for piece, _ in order]
        self._ids = np.array([token for _, token in order], dtype=np.int64)

    def candidates(self, pending: bytes) -> np.ndarray:
        """The tokens whose text starts with `pending` or is a start of it, in ascending id order."""
        lo = bisect_left(self._sorted, pending)
        upper = _after_prefix(pending)
        hi = len(self._sorted) if upper is None else bisect_left(self._sorted, upper, lo)
        parts = [self._ids[lo:hi]]
        for end in range(1, len(pending)):  # tokens that are a start of `pending`
            start = pending[:end]
            first = bisect_left(self._sorted, start, 0, lo)
            parts.append(self._ids[first:bisect_right(self._sorted, start, first, lo)])
        return np.sort(np.concatenate(parts))


def _after_prefix(prefix: bytes) -> "bytes | None":
    """The least byte string greater than every string starting with `prefix` (None: there is none)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])

"""Which tokens of the KV cache a new prompt can reuse past their common prefix, and where they go.

llama.cpp's `n_cache_reuse` (llama-server's too) keeps the common prefix, then shifts later chunks of
the cache that reappear in the prompt into place, skipping only text deleted from the cache: when a
snippet of repository context changed (the member being typed brings other names: ``httpcore.`` then
``httpcore.H``), everything after it, the whole document, was read again (9,554 of a 9,745-token
window, 16K, httpx). `plan` also lets the prompt hold new text before a chunk it reuses: the engine
reads that text, then shifts the chunk into place after it. As with llama.cpp's shifted chunks, what
was computed after the old text attended to the old text; the tokens read after (the cursor's lines,
the answer) attend to the new one.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

# Chunks after new text must be at least this long: shorter runs of common code (`    return self`)
# turn up anywhere, and following one would skip the old text that really comes next.
AFTER_NEW_TEXT_MIN = 64
# Places of an old run of `chunk_min` tokens tried at each prompt position (repeated code has many).
CANDIDATES = 8


@dataclass(frozen=True)
class Block:
    """`length` old tokens, at `old` in the old tokens after the common prefix, go to `prompt` in the prompt."""

    prompt: int
    old: int
    length: int


def plan(old: Sequence[int], prompt: Sequence[int], start: int, chunk_min: int, capacity: int) -> list[Block]:
    """The chunks of `old` (the cache's tokens after the common prefix `start`) that `prompt` reuses
    after `start`, in order; the prompt's other tokens are read. Each chunk holds at least `chunk_min`
    tokens (AFTER_NEW_TEXT_MIN after new text), the prompt's last token is never reused (its logits are
    read again), and the prompt read so far plus the old tokens still to place never exceed `capacity`
    cells (the cache keeps both while new text is read)."""
    end = len(prompt) - 1  # the last token is read again
    if chunk_min <= 0 or not old or start >= end:
        return []
    grams = _grams(tuple(old), chunk_min)
    blocks: list[Block] = []
    here, there, new_text = start, 0, False
    while here + chunk_min <= end:
        spots = grams.get(tuple(prompt[here:here + chunk_min]), ())
        need = AFTER_NEW_TEXT_MIN if new_text else chunk_min
        best = (0, 0)
        for spot in spots[bisect_left(spots, there):][:CANDIDATES]:
            n = chunk_min
            while spot + n < len(old) and here + n < end and old[spot + n] == prompt[here + n]:
                n += 1
            if n >= need and n > best[1]:
                best = (spot, n)
        if best[1]:
            blocks.append(Block(here, best[0], best[1]))
            here, there, new_text = here + best[1], best[0] + best[1], False
        else:
            here, new_text = here + 1, True
    while blocks and _peak(blocks) > capacity:
        blocks.pop()
    return blocks


@lru_cache(maxsize=2)  # a keystroke asks `missing` then reads: the same old tokens twice
def _grams(old: tuple[int, ...], size: int) -> dict[tuple[int, ...], list[int]]:
    """Where each run of `size` tokens starts in `old`."""
    grams: dict[tuple[int, ...], list[int]] = {}
    for i in range(len(old) - size + 1):
        grams.setdefault(old[i:i + size], []).append(i)
    return grams


def _peak(blocks: Sequence[Block]) -> int:
    """The most cells held while the plan is carried out: as a chunk goes into place, the prompt up to
    it and the old tokens from it to the end of the last chunk."""
    last = blocks[-1].old + blocks[-1].length
    return max(block.prompt + last - block.old for block in blocks)

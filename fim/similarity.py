"""Lexical similarity for picking context: Copilot's sliding-window Jaccard and llama.vim's edit ring.

Pure (no I/O). Text is reduced to sets of identifier words with common keywords removed;
`scored_windows` scores every `window_lines`-line window of a file against the code around the
cursor (Copilot's neighbouring-tab method); `RecentEdits` is a small FIFO ring of chunks
of recently edited or viewed code with llama.vim's de-duplication rules.
"""

from __future__ import annotations

import math
import re
import sys
import threading
from array import array
from itertools import accumulate
from dataclasses import dataclass, field
from functools import lru_cache
from typing import AbstractSet, Callable, Optional, Union

from fim.prompt import Snippet

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines as LSP counts them (ends: \\n, \\r\\n, \\r), without their ends; no empty last line.

    Unlike `str.splitlines`, form feeds and other Unicode separators do not end a line, so line
    numbers agree with the editor's."""
    lines = text.split("\n") if "\r" not in text else _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines

# Keywords and very common words of the supported languages: they match everywhere and say
# nothing about what the code is about.
STOPWORDS = frozenset("""
a an and as assert async await break case catch class const continue def default del delete do elif
else enum except export extends false final finally fn for from func function go if impl implements
import in instanceof interface is let match mod module new nil none not null of or package pass
private protected pub public raise return self static struct super switch this throw throws true try
type typeof use var void while with yield int str bool string float double char long unsigned
u8 u16 u32 u64 i8 i16 i32 i64 usize isize f32 f64 byte err error ok mut ref the to it be at on by
include define endif ifdef ifndef std lambda print len range list dict set get
""".split())

Query = Union[str, AbstractSet[str]]


def words(text: str) -> list[str]:
    """Identifier words of `text`, in order, without stopwords and one-letter names."""
    return [w for w in _WORD.findall(text) if len(w) > 1 and w not in STOPWORDS]


def word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def dice(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))


def _as_set(query: Query) -> AbstractSet[str]:
    return word_set(query) if isinstance(query, str) else query


# ------------------------------------------------------------------------------ sliding windows

@dataclass(frozen=True)
class Window:
    """Lines [start, end) of `source`, and their similarity to the query."""

    source: str
    start: int
    end: int
    score: float
    text: str

    def snippet(self) -> Snippet:
        return Snippet(self.source, self.text)


def default_step(window_lines: int) -> int:
    # Coarser than Copilot's one-line step so the chosen window does not move on every keystroke
    # (the prompt prefix, and with it the KV cache, stays put while the best region is the same).
    return max(1, window_lines // 4)


@dataclass(frozen=True)
class _Layout:
    """A text cut into blocks of lines, the word set of each block, and the windows (runs of
    consecutive blocks) with the number of distinct words in each. A line lies in several
    windows but its words are held once, in its block."""

    starts: tuple[int, ...]  # the first line of each block; then the number of lines
    blocks: tuple[frozenset[str], ...]
    per_window: int  # blocks in a window
    firsts: tuple[int, ...]  # the first block of each window
    sizes: tuple[int, ...]  # distinct words of each window
    offsets: array  # character offset of each line's start; then len(text)


@lru_cache(maxsize=32)
def _layout(text: str, window_lines: int, step: int) -> _Layout:
    """The blocks and windows of `text` (cached per text version; each block's word set is cached
    by its text, so a keystroke recomputes only the block holding the edited line)."""
    offsets = array("l", [0])
    if "\r" in text:
        offsets.extend(m.end() for m in _NEWLINE.finditer(text))
        if offsets[-1] != len(text):
            offsets.append(len(text))
    else:
        offsets.extend(accumulate(len(line) + 1 for line in text.split("\n")))
        offsets[-1] = len(text)  # the last line has no newline
        if len(offsets) > 1 and offsets[-2] == len(text):
            offsets.pop()  # nor is there a line after a final newline
    n = len(offsets) - 1
    size = math.gcd(window_lines, step)
    starts = tuple(range(0, n, size)) + (n,)
    blocks = tuple(_block_words(text[offsets[a]:offsets[b]]) for a, b in zip(starts, starts[1:]))
    per_window, stride = max(1, window_lines // size), max(1, step // size)
    last = max(0, len(blocks) - per_window)
    firsts = list(range(0, last + 1, stride)) if blocks else []
    if firsts and firsts[-1] != last:
        firsts.append(last)
    sizes = tuple(len(frozenset().union(*blocks[k:k + per_window])) for k in firsts)
    return _Layout(starts, blocks, per_window, tuple(firsts), sizes, offsets)


@lru_cache(maxsize=2048)
def _block_words(text: str) -> frozenset[str]:
    return frozenset(map(sys.intern, words(text)))  # one copy of each word, however many blocks hold it


def _line_range(text: str, offsets: array, start: int, end: int) -> str:
    """Lines [start, end) of `text` joined with \\n."""
    chunk = text[offsets[start]:offsets[end]]
    if "\r" in chunk:
        chunk = _NEWLINE.sub("\n", chunk)
    return chunk[:-1] if chunk.endswith("\n") else chunk


def scored_windows(query: Query, source: str, text: str, window_lines: int = 60,
                   step: Optional[int] = None, limit: Optional[int] = None,
                   exclude: Optional[tuple[int, int]] = None) -> list[Window]:
    """The windows of `text` sharing words with `query`, best first (ties: earlier first); the
    first `limit` of them when given. Windows start every `step` lines (the last one ends at the
    end of the text) and are `window_lines` long; those overlapping the line range `exclude` are
    skipped."""
    q = _as_set(query)
    if not q or not text:
        return []
    step = step or default_step(window_lines)
    layout = _layout(text, window_lines, step)
    hits = [q & block for block in layout.blocks]
    scored = []
    for k, size in zip(layout.firsts, layout.sizes):
        s, e = layout.starts[k], layout.starts[min(len(hits), k + layout.per_window)]
        if not size or exclude is not None and s < exclude[1] and exclude[0] < e:
            continue
        inter = len(frozenset().union(*hits[k:k + layout.per_window]))
        if inter:
            scored.append((inter / (len(q) + size - inter), s, e))
    scored.sort(key=lambda t: (-t[0], t[1]))
    if limit is not None:
        scored = scored[:limit]
    return [Window(source, s, e, score, _line_range(text, layout.offsets, s, e))
            for score, s, e in scored]


# ------------------------------------------------------------------------------ recent edits ring

@dataclass(frozen=True)
class Chunk:
    """Lines [start, start + number of lines) of `source` as they were when captured."""

    source: str
    start: int
    text: str
    words: frozenset[str] = field(compare=False, repr=False)
    serial: int = field(compare=False, default=0)

    @property
    def end(self) -> int:
        return self.start + self.text.count("\n") + 1

    def snippet(self) -> Snippet:
        return Snippet(self.source, self.text)


class RecentEdits:
    """A FIFO ring of chunks of recently edited (or viewed) code, after llama.vim.

    * `note_edit(source, text, line)` captures about `chunk_lines` lines around `line`.
    * An exact duplicate of a chunk already held is dropped; a chunk whose Dice similarity to a
      held one exceeds `dedup_threshold` (0.9) replaces it (the older one is evicted).
    * When full, the oldest chunk is evicted.
    * `select(cursor_text)` leaves out chunks more than 0.5 similar to the code around the cursor
      ("such chunks usually distort the completion to repeat what was already there").

    Chunks are returned oldest first, so a new chunk only appends to a prompt built from them.
    Thread-safe.
    """

    def __init__(self, capacity: int = 16, chunk_lines: int = 32, min_lines: int = 3,
                 dedup_threshold: float = 0.9, max_chunk_chars: int = 4000) -> None:
        self.capacity = capacity
        self.chunk_lines = chunk_lines
        self.min_lines = min_lines
        self.dedup_threshold = dedup_threshold
        self.max_chunk_chars = max_chunk_chars
        self._chunks: list[Chunk] = []
        self._serial = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        """The held chunks, oldest first."""
        with self._lock:
            return tuple(self._chunks)

    def note_edit(self, source: str, document_text: str, line: int) -> bool:
        """Capture the `chunk_lines` lines of `document_text` around zero-based `line`."""
        lines = split_lines(document_text)
        if not lines:
            return False
        half = self.chunk_lines // 2
        start = max(0, min(line - half, len(lines) - self.chunk_lines))
        end = min(len(lines), start + self.chunk_lines)
        return self.add(source, "\n".join(lines[start:end]), start)

    note_view = note_edit

    def add(self, source: str, text: str, start: int = 0, evict_similar: bool = True) -> bool:
        """Add a chunk; returns False when it was dropped (too short, blank or a duplicate).

        With `evict_similar` a near-duplicate (Dice > threshold) replaces the held chunk;
        otherwise the new chunk is dropped.
        """
        text = text.strip("\n")
        if len(text) > self.max_chunk_chars:
            cut = text.rfind("\n", 0, self.max_chunk_chars)
            text = text[:cut] if cut > 0 else text[: self.max_chunk_chars]
        if text.count("\n") + 1 < self.min_lines or not text.strip():
            return False
        chunk_words = word_set(text)
        with self._lock:
            if any(c.text == text for c in self._chunks):
                return False
            similar = [c for c in self._chunks if dice(c.words, chunk_words) > self.dedup_threshold]
            if similar:
                if not evict_similar:
                    return False
                self._chunks = [c for c in self._chunks if c not in similar]
            self._serial += 1
            self._chunks.append(Chunk(source, start, text, chunk_words, self._serial))
            while len(self._chunks) > self.capacity:
                self._chunks.pop(0)
            return True

    def forget(self, source: str) -> None:
        """Drop every chunk of `source` (a deleted, renamed or now-excluded file)."""
        with self._lock:
            self._chunks = [c for c in self._chunks if c.source != source]

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Drop every chunk whose source `keep` refuses (a file no longer in the index)."""
        with self._lock:
            self._chunks = [c for c in self._chunks if keep(c.source)]

    def clear(self) -> None:
        with self._lock:
            self._chunks = []

    def select(self, cursor_text: Query, threshold: float = 0.5, evict: bool = False) -> list[Chunk]:
        """Chunks, oldest first, except those more than `threshold` similar to `cursor_text`.

        llama.vim evicts such chunks for good (`evict=True`); by default they are only left out of
        this prompt, because here chunks are captured around edits, which start out next to the
        cursor and would otherwise be evicted before they are ever useful.
        """
        q = _as_set(cursor_text)
        with self._lock:
            keep = [c for c in self._chunks if dice(c.words, q) <= threshold]
            if evict and len(keep) != len(self._chunks):
                self._chunks = keep[:]
            return keep


def region_overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Number of lines two half-open line ranges share."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def significant_lines(text: str) -> list[str]:
    """Stripped lines that identify code (not blank, not lone brackets or very short)."""
    return [s for s in (line.strip() for line in split_lines(text)) if len(s) >= 4]

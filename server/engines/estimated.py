"""Estimated tokens, for servers that take prompts as text and have no tokenizer endpoint (Ollama,
LM Studio's OpenAI-compatible API). Text is cut into pieces that stand in for tokens (runs of
letters or digits of at most 4 characters, runs of spaces, one other character each: at least as
many as a code tokenizer makes, so the window is filled conservatively); control tokens are the
model's spellings, sent as text for the server to parse."""

from __future__ import annotations

import re
from typing import Optional

_PIECES = re.compile(r"[^\W_]{1,4}|_+|[ \t]+|\r?\n|.", re.DOTALL)
ESTIMATED_BASE = 1 << 24  # estimated-token ids start here, above every real vocabulary id


class EstimatedTokens:
    """Ids for the pieces of text seen so far, and for the control-token spellings in `specials`."""

    def __init__(self, specials: dict[str, int]) -> None:
        self._specials = specials
        self._texts: dict[int, str] = {}
        self._ids: dict[str, int] = {}

    def tokenize(self, text: str, special: bool) -> list[tuple[int, Optional[bytes]]]:
        """(id, piece) of `text`: one control token where `special` and `text` is its spelling."""
        if special and text in self._specials:
            self._texts[self._specials[text]] = text
            return [(self._specials[text], text.encode("utf-8"))]
        out = []
        for piece in _PIECES.findall(text):
            token = self._ids.get(piece)
            if token is None:
                token = self._ids[piece] = ESTIMATED_BASE + len(self._ids)
                self._texts[token] = piece
            out.append((token, piece.encode("utf-8")))
        return out

    def text(self, tokens: list[int]) -> str:
        return "".join(self._texts.get(t, "") for t in tokens)

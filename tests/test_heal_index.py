"""Token healing's vocabulary lookup (server/engines/heal.py) against the plain scan it replaces."""

from __future__ import annotations

import random

import numpy as np
import pytest

from server.engines.heal import HealIndex


def scan(pieces: list[bytes], pending: bytes) -> list[int]:
    return [t for t, p in enumerate(pieces) if p and (p.startswith(pending) or pending.startswith(p))]


def test_candidates_are_what_a_scan_of_every_token_finds() -> None:
    rng = random.Random(7)
    alphabet = [b"a", b"b", b" ", b"\xff", b"\x00", b"\xe2\x96", b"re", b"ret"]
    pieces = [b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4))) for _ in range(3000)]
    pieces += [b"return", b" return", b"\xff\xff", b"\xff", b""]  # duplicates and empty pieces too
    index = HealIndex(pieces)
    for pending in [b"r", b"re", b"ret", b" re", b"\xff", b"\xff\xff", b"\xffa", b"a\xff", b"\x00", b"zzz",
                    b"return x", b"\xe2\x96"] + [p for p in pieces[:200] if p]:
        found = index.candidates(pending)
        assert found.dtype == np.int64 and found.tolist() == scan(pieces, pending), pending


@pytest.mark.parametrize("pending", [b" ", b"   "])
def test_a_short_pending_text_finds_many_tokens(pending: bytes) -> None:
    pieces = [b" x", b"  ", b"x", b" ", b"   y", b"\t"]
    assert HealIndex(pieces).candidates(pending).tolist() == scan(pieces, pending)

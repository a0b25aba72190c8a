"""server/cache.py: exact hits, typing through a suggestion, accept detection."""

from server.cache import CompletionCache

BEFORE, AFTER = "def f(x):\n    ret", "\n\nprint(f(2))\n"


def test_exact_hit_and_miss() -> None:
    cache = CompletionCache()
    cache.put("a", BEFORE, AFTER, "urn x * 2")
    assert cache.get("a", BEFORE, AFTER) == "urn x * 2"
    assert cache.get("b", BEFORE, AFTER) is None
    assert cache.get("a", BEFORE, AFTER + " ") is None


def test_typing_through_a_suggestion() -> None:
    cache = CompletionCache()
    cache.put("a", BEFORE, AFTER, "urn x * 2")
    assert cache.get("a", BEFORE + "u", AFTER) == "rn x * 2"
    assert cache.get("a", BEFORE + "urn x ", AFTER) == "* 2"
    assert cache.get("a", BEFORE + "urn x * 2", AFTER) is None  # fully typed: nothing left
    assert cache.get("a", BEFORE + "urx", AFTER) is None  # diverged
    assert cache.get("a", "x" + BEFORE[1:] + "u", AFTER) is None  # text before the old cursor changed


def test_accept_detection_and_lru_bound() -> None:
    cache = CompletionCache(size=2)
    cache.put("a", BEFORE, AFTER, "urn x * 2")
    assert cache.accepted("a", BEFORE + "urn x * 2" + AFTER) == len(BEFORE) + len("urn x * 2")
    assert cache.accepted("a", BEFORE + "urn x * 3" + AFTER) is None
    for i in range(5):
        cache.put("a", BEFORE + str(i), AFTER, "z")
    assert cache.get("a", BEFORE, AFTER) is None and cache.get("a", BEFORE + "4", AFTER) == "z"
    cache.forget("a")
    assert cache.get("a", BEFORE + "4", AFTER) is None


def test_a_hit_keeps_its_entry_longest() -> None:
    """The cache evicted by insertion order: the answer the user kept coming back to (undo, redo) went
    first, before answers never asked for again."""
    cache = CompletionCache(size=2)
    cache.put("a", BEFORE, AFTER, "urn x * 2")
    cache.put("a", BEFORE + "1", AFTER, "y")
    assert cache.get("a", BEFORE, AFTER) == "urn x * 2"
    cache.put("a", BEFORE + "2", AFTER, "z")
    assert cache.get("a", BEFORE, AFTER) == "urn x * 2" and cache.get("a", BEFORE + "1", AFTER) is None

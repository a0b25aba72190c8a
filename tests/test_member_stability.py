"""Typing a member after an installed module's name (``netlib.|``, ``netlib.H|``) changes the member's own snippets
of context only: the snippet of a file that exists for the names the document uses stays byte-identical, so the
engine reuses its KV cache (`server/engines/kvplan.py`) and reads again the member's names alone."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from server.dependencies import InstalledFiles, site_packages

PACKAGE = {
    "netlib/__init__.py": ("from ._models import Request, Response, Headers\n"
                           "from ._pool import ConnectionPool, HTTPProxy\n__all__ = []\n"),
    "netlib/_models.py": (
        'class Request:\n    """An HTTP request."""\n\n    def __init__(self, url: str) -> None:\n'
        "        self.url = url\n\n\n"
        'class Response:\n    """An HTTP response."""\n\n    def __init__(self, status: int) -> None:\n'
        "        self.status = status\n\n\n"
        'class Headers:\n    """Case-insensitive HTTP headers."""\n\n    def __init__(self, raw: list) -> None:\n'
        "        self.raw = raw\n"),
    "netlib/_pool.py": (
        'class ConnectionPool:\n    """A pool of connections."""\n\n    def __init__(self, size: int = 10) -> None:\n'
        "        self.size = size\n\n\n"
        'class HTTPProxy:\n    """A pool through a proxy."""\n\n    def __init__(self, url: str) -> None:\n'
        "        self.url = url\n"),
}
DOCUMENT = "import netlib\n\nreq = netlib.Request('x')\npool = netlib.ConnectionPool()\nclient = {typed}\n"
MODELS, POOL = "site-packages/netlib/_models.py", "site-packages/netlib/_pool.py"


def installed(tmp_path: Path) -> InstalledFiles:
    env = tmp_path / ".venv"
    (env / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n", encoding="utf-8")
    site = site_packages(env)
    for rel, text in PACKAGE.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    return InstalledFiles(site, lambda rel: tmp_path / rel, 256 * 1024)


def snippets(typed: str, files: InstalledFiles, budget: int = 20000) -> list[tuple[str, str]]:
    document = DOCUMENT.format(typed=typed)
    line = document.split("\n").index(f"client = {typed}")
    got = select_context("app.py", document, line, {"app.py": document}, [], None, budget, (0, line + 1),
                         installed=files, language="python", cursor_character=len(f"client = {typed}"))
    return [(s.source, s.text) for s in got]


def test_typing_the_member_leaves_the_snippets_of_the_names_used_byte_identical(tmp_path: Path) -> None:
    files = installed(tmp_path)
    steps = [snippets(typed, files) for typed in ("netlib", "netlib.", "netlib.H", "netlib.HTTPP")]
    for source, used in ((MODELS, "class Request:"), (POOL, "class ConnectionPool:")):
        cuts = [[text for s, text in step if s == source and used in text] for step in steps]
        assert all(len(found) == 1 for found in cuts), cuts
        assert len({found[0] for found in cuts}) == 1, cuts  # the same text at every keystroke
    # the member's names come as snippets of their own, before those of the names used (their text moves nothing)
    at_h = steps[2]
    # (the file's snippet holds the other names' signatures; the member's, their docstrings too)
    headers = next(k for k, (s, text) in enumerate(at_h) if s == MODELS and "Case-insensitive" in text)
    proxy = next(k for k, (s, text) in enumerate(at_h) if s == POOL and "through a proxy" in text)
    assert "class Request:" not in at_h[headers][1] and "class ConnectionPool:" not in at_h[proxy][1]
    assert max(headers, proxy) < min(k for k, (s, text) in enumerate(at_h)
                                     if "class Request:" in text or "class ConnectionPool:" in text)
    # ``netlib.HTTPP``: the member's snippet is HTTPProxy's, the file's snippet for ConnectionPool as it was
    assert [text for s, text in steps[3] if s == POOL and "through a proxy" in text] == [at_h[proxy][1]]


def test_where_the_names_used_fill_the_room_the_members_snippet_gives_way(tmp_path: Path) -> None:
    files = installed(tmp_path)
    wide = snippets("netlib", files, budget=20000)
    budget = sum(len(text) + len(source) + 3 for source, text in wide) + 40  # `fim.context.header_cost`
    before = snippets("netlib", files, budget=budget)
    assert len(before) == 2
    for typed in ("netlib.", "netlib.H"):
        at = snippets(typed, files, budget=budget)  # little room for a member's snippet: the others unchanged
        assert [snippet for snippet in at if snippet in before] == before, typed
        assert snippets(typed, files, budget=20000) != wide  # with room, the member's snippets come too

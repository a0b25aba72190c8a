"""The member being typed on a Python object of an installed class (`fim.pyreceivers`): ``client.ge|`` after
``client = httpx.Client()`` brings the class's members starting with ``ge``, each with its class's signature, through
assignments, return annotations, parameters' annotations, ``self.`` fields and bases."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.dependencies import SITE
from fim.member import member_definitions
from fim.pyreceivers import annotation_type, receiver_at
from fim.symbols import brief

CLIENT = '''import typing
from ._models import Response


class BaseClient:
    def __init__(self, timeout: float = 5.0) -> None:
        #: The headers sent with every request.
        self.headers = {}
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        """The URL requests are relative to."""
        return ""

    @base_url.setter
    def base_url(self, url: str) -> None:
        pass

    def close(self) -> None:
        """Close the base."""


class Client(BaseClient):
    """An HTTP client."""

    def get(self, url: str) -> Response:
        """Send a GET request."""
        return Response()

    def post(self, url: str) -> "Optional[Response]":
        """Send a POST request."""
        return Response()

    def close(self) -> None:
        """Close the client's connections."""

    def __enter__(self: T) -> T:
        return self
'''
MODELS = '''class Headers:
    def get(self, key: str) -> str:
        """A header's value."""
        return ""


class Response:
    def __init__(self) -> None:
        #: The status code of the response.
        self.status_code = 200
        self.raw_headers = Headers()
        self.headers: dict = dict(
            content_type="json")

    def json(self) -> typing.Any:
        """The body as JSON."""
        return {}

    @property
    def links(self) -> "Headers":
        return Headers()

    def copy(self) -> "Headers":
        return Headers()
'''
PAGING = '''from typing import Iterator, List, Optional

from ._models import Response


class Page:
    #: The responses of this page.
    items: List[Response]
    next: Optional["Page"] = None

    def pages(self) -> Iterator["Page"]:
        """This page and the ones after it."""
        ...
'''
INSTALLED = {
    SITE + "httpx/__init__.py": ("from ._client import Client\nfrom ._api import get\nfrom ._models import Response\n"
                                 "from ._paging import Page\n"),
    SITE + "httpx/_api.py": "from ._models import Response\n\n\ndef get(url: str) -> Response:\n    ...\n",
    SITE + "httpx/_client.py": CLIENT,
    SITE + "httpx/_models.py": MODELS,
    SITE + "httpx/_paging.py": PAGING,
}
HEAD = "import httpx\nfrom httpx import Client\n\n\ndef fetch(url):\n"


def offered(body: str, document_head: str = HEAD) -> tuple[str, dict[str, list[str]]]:
    """What `fim.member` offers at the end of `body`'s last line (the function's body after `document_head`)."""
    document = document_head + body + "\n    return None\n"
    lines = document.split("\n")
    line = len(document_head.split("\n")) - 1 + len(body.split("\n")) - 1
    return member_definitions(document, lines, line, len(lines[line]), "python", "app.py", INSTALLED)


def test_a_constructed_objects_members_starting_with_the_part_typed() -> None:
    assert offered("    client = httpx.Client()\n    client.po") == ("po", {SITE + "httpx/_client.py": ["Client.post"]})
    # nothing typed: the class's own members, then its base's (``close`` once: the class's own)
    assert offered("    client = Client(timeout=1)\n    client.") == ("", {SITE + "httpx/_client.py": [
        "Client.get", "Client.post", "Client.close", "BaseClient.base_url", "BaseClient.headers"]})
    # a private member only where ``_`` is typed
    want = ("_t", {SITE + "httpx/_client.py": ["BaseClient._timeout"]})
    assert offered("    client = Client()\n    client._t") == want


def test_a_calls_return_annotation_gives_the_class() -> None:
    want = ("st", {SITE + "httpx/_models.py": ["Response.status_code"]})
    assert offered("    client = httpx.Client()\n    resp = client.get(url)\n    resp.st") == want
    assert offered("    resp = httpx.get(url)\n    resp.st") == want  # an installed function's
    assert offered("    client = httpx.Client()\n    resp = await client.post(\n        url)\n    resp.st") == want


def test_a_chain_of_members_gives_each_ones_class() -> None:
    want = ("ge", {SITE + "httpx/_models.py": ["Headers.get"]})
    assert offered("    resp = httpx.get(url)\n    resp.raw_headers.ge") == want  # a field assigned a class's call
    assert offered("    resp = httpx.get(url)\n    resp.links.ge") == want  # a property's return annotation
    assert offered("    resp = httpx.get(url)\n    h = resp.links\n    h.ge") == want
    assert offered("    resp = httpx.get(url)\n    resp.copy.ge") == ("ge", {})  # a method, not called
    assert offered("    resp = httpx.get(url)\n    resp.copy().ge") == want  # a method's call: its return


def test_calls_in_the_receiver_give_their_returns_class() -> None:
    want = ("st", {SITE + "httpx/_models.py": ["Response.status_code"]})
    assert offered("    httpx.get(url).st") == want
    assert offered("    return Client().get(url).st") == want
    assert offered("    client = Client()\n    if client.get(f(url, 2)).st") == want
    assert offered("    httpx.get(url).links.ge") == ("ge", {SITE + "httpx/_models.py": ["Headers.get"]})
    assert offered("    x = g(url).st")[1] == {}  # a function not installed


def test_items_of_a_collection_by_subscript_and_for() -> None:
    head = HEAD.replace("def fetch(url):", "def fetch(page: httpx.Page):")
    want = ("st", {SITE + "httpx/_models.py": ["Response.status_code"]})
    assert offered("    page.items[0].st", head) == want
    assert offered("    page.items[1:][-1].st", head) == want
    assert offered("    first = page.items[0]\n    first.st", head) == want
    assert offered("    for r in page.items:\n        r.st", head) == want
    assert offered("    async for n, r in enumerate(page.items):  # each\n        r.st", head) == want
    items = ("it", {SITE + "httpx/_paging.py": ["Page.items"]})
    assert offered("    for p in page.pages():\n        p.it", head) == items
    assert offered("    page.next.it", head) == items
    # a collection's own members, its unpacked items, a ``for`` over something else: none of the item's
    assert offered("    page.items.st", head) == ("st", {})
    assert offered("    for a, r in page.items:\n        r.st", head) == ("st", {})
    assert offered("    r = httpx.get(url)\n    for r in range(3):\n        r.st", head) == ("st", {})


def test_isinstance_around_the_cursor_gives_the_class() -> None:
    want = ("st", {SITE + "httpx/_models.py": ["Response.status_code"]})
    assert offered("    if isinstance(r, httpx.Response):\n        r.st") == want
    assert offered("    if isinstance(r, Client):\n        pass\n    elif isinstance(r, httpx.Response) and r:\n"
                   "        x = 1\n\n        r.st") == want
    assert offered("    assert isinstance(r, httpx.Response), r\n    r.st") == want
    # outside the block; a class not installed; an assignment in the block since
    assert offered("    if isinstance(r, httpx.Response):\n        pass\n    r.st")[1] == {}
    assert offered("    r = httpx.get(url)\n    if isinstance(r, Local):\n        r.st")[1] == {}
    assert offered("    if isinstance(r, httpx.Response):\n        r = other()\n        r.st")[1] == {}


def test_annotations_and_with_statements_give_the_class() -> None:
    want = ("cl", {SITE + "httpx/_client.py": ["Client.close"]})
    assert offered("    with httpx.Client() as c:\n        c.cl") == want
    assert offered("    c: Optional[httpx.Client] = None\n    c.cl") == want
    head = HEAD.replace("def fetch(url):", 'def fetch(url, c: "httpx.Client | None" = None,\n          n: int = 0):')
    assert offered("    c.cl", head) == want


def test_a_signature_over_several_lines_is_the_functions() -> None:
    head = HEAD.replace("def fetch(url):", "def fetch(\n    url: str,\n) -> None:")
    assert offered("    client = httpx.Client()\n    return send(\n        client.cl", head)[1] == {
        SITE + "httpx/_client.py": ["Client.close"]}


def test_the_nearest_assignment_decides() -> None:
    # ``json()`` returns Any: the older ``resp = client.get(url)`` does not count
    assert offered("    resp = httpx.get(url)\n    resp = resp.json()\n    resp.st") == ("st", {})
    # a call's keyword argument line is no assignment
    assert offered("    resp = httpx.get(url)\n    send(\n        resp=other,\n    )\n    resp.st")[1] == {
        SITE + "httpx/_models.py": ["Response.status_code"]}


def test_self_fields_and_an_installed_base_class() -> None:
    head = ('from httpx import Client\n\n\nclass Fetcher(Client):\n    def __init__(self, inner: "Client") -> None:\n'
            "        self.inner = inner\n        self.last = None\n\n    def run(self):\n")
    assert offered("        self.inner.cl", head) == ("cl", {SITE + "httpx/_client.py": ["Client.close"]})
    # ``self.``: the installed base's members (the class's own are in the document)
    assert offered("        self.ba", head) == ("ba", {SITE + "httpx/_client.py": ["BaseClient.base_url"]})
    # the property, not its setter
    assert "def base_url(self) -> str:" in brief(CLIENT, "python", ["BaseClient.base_url"], 4000).text
    assert "setter" not in brief(CLIENT, "python", ["BaseClient.base_url"], 4000).text
    assert offered("        self.last.st", head) == ("st", {})


def test_no_installed_class_no_members() -> None:
    head = "from .models import Local\n\n\ndef f():\n"
    assert offered("    x = Local()\n    x.ge", head) == ("ge", {})  # a workspace class: the workspace's context
    assert offered("    x = 3\n    x.ge") == ("ge", {})
    assert offered("    x.ge") == ("ge", {})


def test_annotation_types() -> None:
    assert annotation_type("Optional[httpx.Client]") == ("httpx.Client", False)
    assert annotation_type('"Client | None"') == ("Client", False)
    assert annotation_type("typing.Union[None, Client]") == ("Client", False)
    assert annotation_type("Union[A, B]") is None
    assert annotation_type("Annotated[Client, 'meta']") == ("Client", False)
    assert annotation_type("Stream[Chunk]") == ("Stream", False)  # a generic class: the class
    # a collection of a class's objects
    assert annotation_type("list[Client]") == ("Client", True)
    assert annotation_type("Optional[List['Client']]") == ("Client", True)
    assert annotation_type("typing.Sequence[Client] | None") == ("Client", True)
    assert annotation_type("Tuple[Client, ...]") == ("Client", True)
    assert annotation_type("Iterator[Optional[Client]]") == ("Client", True)
    assert annotation_type("Tuple[Client, int]") is None
    assert annotation_type("List[List[Client]]") is None


def test_the_receiver_before_the_cursor() -> None:
    assert receiver_at("    client.ge") == ("client", "ge")
    assert receiver_at("    return completion.choices[0].message.") == ("completion.choices[0].message", "")
    assert receiver_at("x = self._client.get(url, f(y)).js") == ("self._client.get(url, f(y))", "js")
    assert receiver_at('    "text".up') is None
    assert receiver_at("    (a).b") is None
    assert receiver_at("    x = 1.5") is None


def snippet_texts(document: str, typed_line: str, installed: dict[str, str], path: str) -> list[str]:
    """The texts of `path`'s snippets for the cursor at the end of the document's line `typed_line`."""
    line = document.split("\n").index(typed_line)
    snippets = select_context("app.py", document, line, {"app.py": document}, [], None, 8000, (0, line + 1),
                              installed=installed, language="python", cursor_character=len(typed_line))
    return [s.text for s in snippets if s.source == path]


def test_the_members_snippet_carries_the_class_signature() -> None:
    document = HEAD + "    client = httpx.Client()\n    resp = client.get(url)\n    resp.st\n"
    texts = snippet_texts(document, "    resp.st", INSTALLED, SITE + "httpx/_models.py")
    assert ("class Response:\n\n        #: The status code of the response.\n        self.status_code = 200"
            in texts)
    texts = snippet_texts(document.replace("resp.st", "resp.he"), "    resp.he", INSTALLED, SITE + "httpx/_models.py")
    # a field's whole statement, its brackets closed
    assert 'class Response:\n\n        self.headers: dict = dict(\n            content_type="json")' in texts


def site_packages(tmp_path: Path) -> Path:
    """INSTALLED written out as a site-packages folder (``httpx/__init__.py`` by a star import, as httpx's own)."""
    site = tmp_path / "site-packages"
    for key, text in INSTALLED.items():
        path = site / key.removeprefix(SITE)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (site / "httpx" / "__init__.py").write_text(("from ._client import *\nfrom ._api import *\nfrom ._models import *\n"
                                                 "from ._paging import *\n"),
                                                encoding="utf-8")
    return site


def object_tasks(tmp_path: Path, source: str) -> list:
    """`benchmarks.pyobjects`' tasks of a project whose one library file is `source`, over INSTALLED."""
    from benchmarks.pyobjects import object_member_tasks
    from benchmarks.repo_context import index_workspace

    site = site_packages(tmp_path)
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "lib.py").write_text(source, encoding="utf-8")
    project, _ = index_workspace(root)
    return object_member_tasks("demo", project, site)


def test_the_benchmarks_object_tasks_are_the_members_used_on_installed_classes_objects(tmp_path: Path) -> None:
    from benchmarks.dependency_context import fresh_member_tasks

    source = ("import httpx\n\n\nclass Api:\n    def __init__(self, client: httpx.Client) -> None:\n"
              "        self.client = client\n\n    def fetch(self, url):\n        resp = self.client.get(url)\n"
              "        other = resp.status_code\n        key = resp.raw_headers.get('k')\n        resp = unknown()\n"
              "        return resp.status_code\n")
    tasks = object_tasks(tmp_path, source)
    # ``self.client.get`` (the field's parameter annotation), ``resp.status_code`` (get's ``-> Response``); not
    # the last line's: ``resp`` was assigned again
    assert [(t.line, t.column, t.name, t.definition.path, t.definition.line) for t in tasks] == [
        (8, len("        resp = self.client."), "get", SITE + "httpx/_client.py", 26),
        (9, len("        other = resp."), "status_code", SITE + "httpx/_models.py", 9),
        (10, len("        key = resp.raw_headers."), "get", SITE + "httpx/_models.py", 1)]  # through a field's class
    assert tasks[1].definition.text == "        self.status_code = 200"
    assert [t.text.split("\n")[t.line] for t in fresh_member_tasks(tasks, 2)] == [
        "        resp = self.client.ge", "        other = resp.st", "        key = resp.raw_headers.ge"]


def test_the_benchmarks_object_tasks_follow_collections_and_calls(tmp_path: Path) -> None:
    source = ("import httpx\n\n\ndef fetch(page: httpx.Page, url):\n    for r in page.items:\n"
              "        a = r.status_code\n    b = page.items[0].status_code\n    c = httpx.get(url).links\n"
              "    for x, y in page.items:\n        d = y.status_code\n")
    models, paging = SITE + "httpx/_models.py", SITE + "httpx/_paging.py"
    # ``r`` an item of ``page.items`` (``List[Response]``), an item by subscript, a call's return; not ``y``
    assert [(t.line, t.name, t.definition.path) for t in object_tasks(tmp_path, source)] == [
        (4, "items", paging), (5, "status_code", models), (6, "status_code", models), (7, "links", models),
        (8, "items", paging)]


def test_the_benchmarks_object_tasks_follow_isinstance(tmp_path: Path) -> None:
    source = ("import httpx\n\n\ndef fetch(r):\n    if isinstance(r, httpx.Response):\n        a = r.status_code\n"
              "        r = other()\n        b = r.status_code\n    elif isinstance(r, httpx.Client):\n"
              "        c = r.close()\n    d = r.status_code\n    assert isinstance(r, httpx.Response)\n"
              "    e = r.status_code\n")
    # in the ``if``'s body until ``r`` is assigned, in the ``elif``'s, after the ``assert``
    assert [(t.line, t.name) for t in object_tasks(tmp_path, source)] == [
        (5, "status_code"), (9, "close"), (12, "status_code")]


def test_an_objects_member_comes_through_the_server(tmp_path: Path) -> None:
    from server.project import Project

    env = tmp_path / ".venv"
    (env / "lib" / "python3.12").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n", encoding="utf-8")
    site_packages(tmp_path).rename(env / "lib" / "python3.12" / "site-packages")
    document = "import httpx\n\nresp = httpx.get('https://example.com')\nresp.st\n"
    main = tmp_path / "app.py"
    main.write_text(document, encoding="utf-8")
    project = Project([tmp_path], background=False)
    project.scan(10)
    at = project.context(main, document, 3, character=len("resp.st"))((0, 4), 4000)
    assert [s.text for s in at if s.source == SITE + "httpx/_models.py"] == [
        "class Response:\n\n        #: The status code of the response.\n        self.status_code = 200"]


def test_a_fresh_member_task_keeps_the_projects_own_def_of_the_name(tmp_path: Path) -> None:
    from benchmarks.dependency_context import fresh_member_tasks

    source = ("import httpx\n\n\nclass Wrapper:\n    def __init__(self, raw: httpx.Response) -> None:\n"
              "        self.raw = raw\n\n    @property\n    def status_code(self) -> int:\n"
              "        return self.raw.status_code\n")
    fresh = fresh_member_tasks(object_tasks(tmp_path, source), 2)
    # the property wrapping the member is no use of it: its ``def`` stays (the cursor stays inside a function)
    assert [t.text.split("\n")[7:10] for t in fresh] == [
        ["    @property", "    def status_code(self) -> int:", "        return self.raw.st"]]


def test_a_members_snippet_comes_though_the_document_repeats_its_lines() -> None:
    # a Response too big for its snippet for the names used (cut to its head), and the document's own property
    # wrapping the member typed, with the member's signature line: the member's snippet still comes
    methods = "".join(f'    def method{k}(self) -> int:\n        """Method {k} of the response, at length."""\n'
                      f"        return {k}\n\n" for k in range(60))
    installed = {**INSTALLED, SITE + "httpx/_models.py": MODELS.replace("    def json", methods + "    def json")}
    document = ("import httpx\n\n\nclass Wrapper:\n    def __init__(self, raw: httpx.Response) -> None:\n"
                "        self.raw = raw\n\n    def copy(self) -> \"Headers\":\n        return self.raw.co\n")
    assert 'class Response:\n\n    def copy(self) -> "Headers":\n        ...' in snippet_texts(
        document, "        return self.raw.co", installed, SITE + "httpx/_models.py")

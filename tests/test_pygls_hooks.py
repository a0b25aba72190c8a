"""The pygls internals server/protocol.py and server/transport.py hook into, checked by name.

pygls is pinned to one minor release; when an upgrade changes any of these, this test names
the hook that moved instead of letting the server misbehave at run time.
"""

from __future__ import annotations

import inspect

import pytest
from pygls.protocol import LanguageServerProtocol, lsp_method  # noqa: F401 (imported by server/protocol.py)
from pygls.workspace.text_document import TextDocument

from server.lsp import create_server
from server.settings import Settings

# (owner, name, parameters the hook is called with, or None for an attribute)
METHODS = [
    (LanguageServerProtocol, "_execute_handler", ["msg_id", "handler", "callback", "args", "kwargs"]),
    (LanguageServerProtocol, "_send_data", ["data"]),
    (LanguageServerProtocol, "_send_response", ["msg_id", "result", "error"]),
    (LanguageServerProtocol, "_send_handler_result", None),
    (LanguageServerProtocol, "_run_generator", ["future", "gen", "result_future"]),
    (LanguageServerProtocol, "handle_message", ["message"]),
    (LanguageServerProtocol, "structure_message", ["data"]),
    (LanguageServerProtocol, "set_writer", None),
    (LanguageServerProtocol, "lsp_initialize", ["params"]),
    (LanguageServerProtocol, "lsp_shutdown", ["args"]),
    (TextDocument, "_apply_incremental_change", ["change"]),
]


@pytest.mark.parametrize("owner,name,params", METHODS, ids=[f"{o.__name__}.{n}" for o, n, _ in METHODS])
def test_hooked_method_exists_with_its_signature(owner: type, name: str, params: list[str] | None) -> None:
    hook = getattr(owner, name, None)
    assert callable(hook), f"pygls no longer has {owner.__name__}.{name}: server/protocol.py must be updated"
    if params is not None:
        names = [p for p in inspect.signature(hook).parameters if p != "self"]
        assert names[:len(params)] == params, f"{owner.__name__}.{name} now takes {names}, hooked as {params}"


def test_lsp_initialize_is_a_generator_and_instances_hold_the_hooked_state() -> None:
    assert inspect.isgeneratorfunction(LanguageServerProtocol.lsp_initialize), \
        "LanguageServerProtocol.lsp_initialize is no longer a generator: RobustProtocol.lsp_initialize yields from it"
    server = create_server(Settings())
    try:
        protocol = server.protocol
        for attribute in ("_request_futures", "_shutdown", "msg_id", "fm"):
            assert hasattr(protocol, attribute), f"pygls's protocol no longer has {attribute}"
        assert isinstance(protocol._request_futures, dict)
        document = TextDocument("file:///x.py", "a\nb\n")
        assert document._source == "a\nb\n", "TextDocument._source is gone: server/protocol.py splices edits into it"
        assert callable(getattr(server, "shutdown", None))
    finally:
        server.service.close()

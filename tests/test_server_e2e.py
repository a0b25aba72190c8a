"""End-to-end: `deepfim serve` as a subprocess, driven by pygls's LSP client."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.lsp_client import LspSession

READ_LINES = '''import os


def read_lines(path):
    """Return the lines of the text file at `path` as a list of strings."""
    '''


def test_initialize_advertises_completion_providers(gemma_server: LspSession) -> None:
    caps = gemma_server.initialize_result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.position_encoding in (None, types.PositionEncodingKind.Utf16)


def test_real_model_completes_read_lines(gemma_server: LspSession, workspace: Path) -> None:
    uri = gemma_server.open(workspace / "reader.py", READ_LINES)
    result = gemma_server.inline(uri, 5, 4)
    assert len(result.items) == 1
    item = result.items[0]
    assert "open(" in item.insert_text
    assert item.range.start == types.Position(line=5, character=4) == item.range.end
    explained = gemma_server.explain(uri)
    assert explained["completion"] == item.insert_text
    kinds = [value["kind"] for value in gemma_server.progress]
    assert kinds[0] == "begin" and kinds[-1] == "end"  # $/progress while the model loaded
    states = [getattr(s, "state", None) or s["state"] for s in gemma_server.statuses]
    assert states[0] == "loading" and "ready" in states
    assert explained["timings"]["generated_tokens"] > 0


def test_dropdown_completion_for_clients_without_inline(gemma_server: LspSession, workspace: Path) -> None:
    text = READ_LINES + "with op"
    uri = gemma_server.open(workspace / "dropdown.py", text)
    result = gemma_server.completion(uri, 5, 11)
    assert len(result.items) == 1
    item = result.items[0]
    assert item.label.startswith("op") and item.filter_text.startswith("op")
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.insert_text_mode == types.InsertTextMode.AsIs
    edit = item.text_edit
    assert edit.range.start.line == edit.range.end.line == 5
    assert edit.range.start.character == 9 and edit.range.end.character == 11
    assert edit.new_text.startswith("open(")


def test_incremental_changes_are_applied(gemma_server: LspSession, workspace: Path) -> None:
    uri = gemma_server.open(workspace / "incremental.py", "x = 1\n")
    start = types.Position(line=1, character=0)
    gemma_server.change(uri, 2, READ_LINES, types.Range(start=start, end=start))
    gemma_server.inline(uri, 6, 4)
    prefix = "".join(s["text"] for s in gemma_server.explain(uri)["prompt"]["segments"]
                     if s["kind"] in ("prefix", "recent", "middle"))
    assert prefix == "x = 1\n" + READ_LINES


def test_cancel_stops_generation(gemma_server: LspSession, workspace: Path) -> None:
    gemma_server.call(gemma_server.client.workspace_did_change_configuration,
                      types.DidChangeConfigurationParams(settings={"deepfim": {"maxTokens": 1500,
                                                                               "timeBudgetMs": 120000}}))
    try:
        lines = "".join(f"    {i * 7},\n" for i in range(40))
        uri = gemma_server.open(workspace / "numbers.py", "NUMBERS = [\n" + lines)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=41, character=0),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        msg_id, future = gemma_server.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params)
        time.sleep(1.5)
        cancelled_at = time.monotonic()
        gemma_server.cancel(msg_id)
        with pytest.raises(JsonRpcException) as error:
            future.result(10)
        assert error.value.code == -32800  # RequestCancelled
        # The model is free again at once: a new request does not wait for the old decode.
        other = gemma_server.open(workspace / "after_cancel.py", READ_LINES)
        gemma_server.call(gemma_server.client.workspace_did_change_configuration,
                          types.DidChangeConfigurationParams(settings={"deepfim": {"maxTokens": 8}}))
        gemma_server.inline(other, 5, 4)
        assert time.monotonic() - cancelled_at < 8
        stopped = gemma_server.explain(uri)
        assert stopped["timings"]["generated_tokens"] < 400  # far from the 1500-token cap
    finally:
        gemma_server.call(gemma_server.client.workspace_did_change_configuration,
                          types.DidChangeConfigurationParams(settings={"deepfim": {"maxTokens": 64,
                                                                                   "timeBudgetMs": 60000}}))


def test_deepseek_prompt_layout(deepseek_server: LspSession, workspace: Path) -> None:
    text = "def add(a, b):\n    return a + b\n\nx = add(1, 2)\nprint(x)\n"
    uri = deepseek_server.open(workspace / "pkg" / "calc.py", text)
    deepseek_server.inline(uri, 3, 7)
    explained = deepseek_server.explain(uri)
    ids = explained["prompt"]["token_ids"]
    segments = explained["prompt"]["segments"]
    assert [s["kind"] for s in segments] == ["control", "control", "prefix", "control", "suffix",
                                             "control", "recent", "middle"]
    assert ids[:3] == [32013, 32016, 32015]  # the document's first 16 lines go after the hole
    assert ids.count(32015) == 1 and ids.count(32017) == 1 and ids.index(32015) < ids.index(32017)
    assert segments[2]["text"] == ""
    assert segments[4]["text"] == "(1, 2)\nprint(x)\n"
    assert segments[6]["text"] == "def add(a, b):\n    return a + b\n\n"
    assert segments[7]["text"] == "x = add"
    assert sum(s["tokens"] for s in segments) == len(ids)
    assert explained["model"] == "deepseek-coder-synthetic"


def test_fim_marker_text_in_file_is_not_a_control_token(deepseek_server: LspSession, workspace: Path) -> None:
    text = "MARK = '<｜fim▁hole｜><｜fim▁begin｜><｜end▁of▁sentence｜>'\nvalue = \n"
    uri = deepseek_server.open(workspace / "marker.py", text)
    deepseek_server.inline(uri, 1, 8)
    ids = deepseek_server.explain(uri)["prompt"]["token_ids"]
    assert ids.count(32015) == 1 and ids.count(32016) == 1 and ids.count(32014) == 0


def test_typing_reuses_the_kv_cache(deepseek_server: LspSession, workspace: Path) -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(30))
    uri = deepseek_server.open(workspace / "typing.py", body + "y = ")
    deepseek_server.inline(uri, 90, 4)
    for version, typed in enumerate(["f", "f1", "f12"], start=2):
        deepseek_server.change(uri, version, body + "y = " + typed)
        deepseek_server.inline(uri, 90, 4 + len(typed))
        timings = deepseek_server.explain(uri)["timings"]
        assert timings["prompt_tokens_evaluated"] <= 8
        assert timings["prompt_tokens_reused"] > 300


def test_broken_model_keeps_serving(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model at all")
    session = LspSession(str(broken), tmp_path)
    try:
        uri = session.open(tmp_path / "a.py", READ_LINES)
        assert not session.inline(uri, 5, 4, timeout=30).items
        assert not session.completion(uri, 5, 4, timeout=30).items
        errors = [m for m in session.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and "not a GGUF model file" in errors[0].message
    finally:
        session.close()


def test_typing_through_and_accepting_are_served_from_cache(deepseek_server: LspSession, workspace: Path) -> None:
    body = "def square(x):\n    return x * x\n\nvalue = "
    uri = deepseek_server.open(workspace / "through.py", body)
    first = deepseek_server.inline(uri, 3, 8)
    served = deepseek_server.explain(uri)
    if not first.items or len(first.items[0].insert_text) < 2:
        pytest.skip("the synthetic model produced no multi-character suggestion here")
    suggestion = first.items[0].insert_text.split("\n")[0]
    for typed in range(1, min(len(suggestion), 6)):
        deepseek_server.change(uri, 1 + typed, body + suggestion[:typed])
        started = time.monotonic()
        again = deepseek_server.inline(uri, 3, 8 + typed)
        assert time.monotonic() - started < 1.0
        assert again.items[0].insert_text == first.items[0].insert_text[typed:]
    assert deepseek_server.explain(uri) == served  # the model was not asked again
    typed = min(len(suggestion), 6) - 1
    if 0 < typed < len(suggestion) - 1:  # a keystroke typed in place, then a pause
        prefills = deepseek_server.request("deepfim/stats", {})["prefills"]
        at = types.Position(line=3, character=8 + typed)
        deepseek_server.change(uri, 10, suggestion[typed], types.Range(start=at, end=at))
        time.sleep(0.8)
        assert deepseek_server.request("deepfim/stats", {})["prefills"] == prefills  # the answer is cached


def test_a_closed_file_that_is_not_utf8_on_disk_breaks_nothing(deepseek_server: LspSession, workspace: Path) -> None:
    """A Latin-1 file (the editor decoded it) completed in, then closed: completions in the next file
    still work (the server used to read the closed file back from disk as UTF-8 and fail)."""
    legacy_path = workspace / "legacy_latin1.py"
    legacy_path.write_bytes("# caf\xe9\nx = 1\n".encode("latin-1"))
    try:
        legacy = deepseek_server.open(legacy_path, "# caf\xe9\nx = 1\n")
        deepseek_server.inline(legacy, 1, 5)
        deepseek_server.close_document(legacy)
        main = deepseek_server.open(workspace / "after_latin1.py", "def f():\n    return \n")
        for character in (11, 10):
            deepseek_server.inline(main, 1, character)  # raised UnicodeDecodeError before
    finally:
        legacy_path.unlink()


def test_answers_cached_before_a_settings_change_are_not_served_after_it(deepseek_tiny: Path,
                                                                       workspace: Path) -> None:
    """The same place asked again after `maxTokens` changed is answered by the model, not from the
    cache filled under the old settings (nor would one filled under another model be)."""
    from tests.lsp_client import LspSession

    session = LspSession(str(deepseek_tiny), workspace, options={"maxTokens": 8, "contextSize": 2048})
    try:
        uri = session.open(workspace / "settings_cache.py", "def f(x):\n    return ")
        session.inline(uri, 1, 11)
        session.inline(uri, 1, 11)
        stats = session.request("deepfim/stats", {})
        assert stats["cache_hits"] == 1
        session.configure({"maxTokens": 2, "contextSize": 2048})
        session.inline(uri, 1, 11)
        after = session.request("deepfim/stats", {})
        assert after["cache_hits"] == 1 and after["model_runs"] == stats["model_runs"] + 1
        assert session.explain(uri)["timings"]["generated_tokens"] <= 2
    finally:
        session.close()


def test_open_documents_keep_their_files_when_workspace_folders_change(tmp_path: Path) -> None:
    """pygls keys documents by unquoted URIs: after a folder was added, the open `a#b.py` (file:///…/a%23b.py)
    was entered as a file `a` holding the editor's text, for good, and `a#b.py` as its disk text."""
    from pygls.workspace import Workspace

    from server.lsp import create_server
    from server.settings import Settings

    root, other = tmp_path / "root", tmp_path / "other"
    root.mkdir()
    other.mkdir()
    (root / "a#b.py").write_text("ON_DISK = 1\n")
    server = create_server(Settings())
    try:
        folder = types.WorkspaceFolder(uri=root.as_uri(), name="root")
        workspace = server.protocol._workspace = Workspace(root.as_uri(), workspace_folders=[folder])
        workspace.put_text_document(types.TextDocumentItem(uri=(root / "a#b.py").as_uri(), language_id="python",
                                                           version=1, text="IN_THE_EDITOR = 2\n"))
        added = types.WorkspaceFolder(uri=other.as_uri(), name="other")
        workspace.add_folder(added)  # as pygls does before our handler
        handler = server.protocol.fm.features[types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS]
        handler(types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(added=[added],
                                                                                              removed=[])))
        index = server.service.project.index
        assert index.open_paths() == ["root/a#b.py"]
        assert index.files["root/a#b.py"] == "IN_THE_EDITOR = 2\n" and "root/a" not in index.files
    finally:
        server.service.close()

"""The completion service through a real server: forgetting files, workspace folders added at run
time, settings refused with one warning, and model reloads while typing."""

from __future__ import annotations

import time
from pathlib import Path

from lsprotocol import types

from tests.lsp_client import LspSession

ALPHA = "def alpha_factory(size):\n    \"\"\"ALPHA_MARKER builds alphas.\"\"\"\n    return [size] * size\n"
BETA = "def beta_factory(size):\n    \"\"\"BETA_MARKER builds betas.\"\"\"\n    return {size: size}\n"
MAIN = "from alpha import alpha_factory\nfrom beta import beta_factory\n\nitems = alpha_factory(3)\nmore = \n"
OPTIONS = {"maxTokens": 4, "contextSize": 2048}


def prompt_text(session: LspSession, uri: str, line: int, character: int) -> str:
    """The text of the prompt the model evaluated for a completion at (line, character)."""
    session.inline(uri, line, character)
    explained = session.explain(uri)
    return "".join(s["text"] for s in explained["prompt"]["segments"])


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_deleted_and_newly_ignored_files_leave_the_prompt(deepseek_tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "alpha.py").write_text(ALPHA)
    (tmp_path / "beta.py").write_text(BETA)
    session = LspSession(str(deepseek_tiny), tmp_path, options=OPTIONS, watch_files=True)
    try:
        wait_for(lambda: session.registrations)
        assert session.registrations[0].method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        uri = session.open(tmp_path / "main.py", MAIN)
        wait_for(lambda: session.request("deepfim/stats", {})["warmups"] >= 1)
        text = prompt_text(session, uri, 4, 7)
        assert "ALPHA_MARKER" in text and "BETA_MARKER" in text
        # Reported by the client's file watcher.
        (tmp_path / "alpha.py").unlink()
        session.files_changed((tmp_path / "alpha.py", types.FileChangeType.Deleted))
        text = prompt_text(session, uri, 4, 6)
        assert "ALPHA_MARKER" not in text and "BETA_MARKER" in text
        # Not reported: a .gitignore line written behind the server's back is seen on use.
        (tmp_path / ".gitignore").write_text("beta.py\n")
        text = prompt_text(session, uri, 4, 5)
        assert "BETA_MARKER" not in text
    finally:
        session.close()


def test_edits_of_a_deleted_file_leave_the_recent_edit_ring(deepseek_tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.py").write_text("x = 1\n")
    session = LspSession(str(deepseek_tiny), tmp_path, options=OPTIONS)
    try:
        notes = session.open(tmp_path / "notes.py", "x = 1\n")
        body = "".join(f"gamma_marker_{i} = compute_gamma({i})\n" for i in range(6))
        session.change(notes, 2, body, types.Range(start=types.Position(line=1, character=0),
                                                   end=types.Position(line=1, character=0)))
        session.close_document(notes)
        uri = session.open(tmp_path / "main.py", "value = 1\n")
        assert "gamma_marker_5" in prompt_text(session, uri, 1, 0)
        (tmp_path / "notes.py").unlink()
        session.files_changed((tmp_path / "notes.py", types.FileChangeType.Deleted))
        session.change(uri, 2, "value = 2\n")
        assert "gamma_marker" not in prompt_text(session, uri, 1, 0)
    finally:
        session.close()


def test_a_workspace_folder_added_at_run_time_is_indexed(deepseek_tiny: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "alpha.py").write_text(ALPHA)
    session = LspSession(str(deepseek_tiny), first, options=OPTIONS)
    try:
        workspace = session.initialize_result.capabilities.workspace
        assert workspace.workspace_folders.supported and workspace.workspace_folders.change_notifications
        main = "from alpha import alpha_factory\n\nitems = alpha_factory(3)\n"
        # A file of the second project, opened before its folder is added: outside the workspace.
        uri = session.open(second / "main.py", main)
        assert "ALPHA_MARKER" not in prompt_text(session, uri, 2, 0)
        session.folders_changed([second])
        session.change(uri, 2, main + "\n")
        wait_for(lambda: "ALPHA_MARKER" in prompt_text(session, uri, 3, 0), timeout=30)
        session.folders_changed([], [second])
        session.change(uri, 3, main)
        assert "ALPHA_MARKER" not in prompt_text(session, uri, 2, 0)
    finally:
        session.close()


def test_bad_settings_get_one_warning_each_and_the_default(deepseek_tiny: Path, tmp_path: Path) -> None:
    session = LspSession(str(deepseek_tiny), tmp_path, options={**OPTIONS, "timeBudgetMs": "soon", "maxTokenz": 3})
    try:
        uri = session.open(tmp_path / "a.py", "def f():\n    return ")
        session.inline(uri, 1, 11)
        # As Neovim does: the initializationOptions again, as settings: no warning twice.
        session.configure({"deepfim": {**OPTIONS, "timeBudgetMs": "soon", "maxTokenz": 3}})
        session.configure({"deepfim": {"maxTokens": "lots", "lineInPrefix": 1, "contextSize": 2048}})
        session.configure({"otherTool": 1, "maxTokens": 16})  # a bare object may hold other tools' keys
        session.inline(uri, 1, 10)
        warnings = [m.message for m in session.messages if m.type == types.MessageType.Warning]
        assert len(warnings) == 4, warnings
        assert any("timeBudgetMs" in w and '"soon"' in w and "using 4000" in w for w in warnings)
        assert any("maxTokenz is not a deepfim setting (did you mean maxTokens?)" in w for w in warnings)
        assert any("maxTokens" in w and '"lots"' in w and "integer from 1 to 4096" in w for w in warnings)
        assert any("lineInPrefix" in w and "true or false" in w for w in warnings)
    finally:
        session.close()


def test_reloads_while_typing_answer_every_request(deepseek_tiny: Path, tmp_path: Path) -> None:
    session = LspSession(str(deepseek_tiny), tmp_path, options=OPTIONS)
    try:
        text = "def total(values):\n    result = 0\n    for value in values:\n        "
        uri = session.open(tmp_path / "t.py", text)
        session.inline(uri, 3, 8)
        pending = []
        version = 1
        for step in range(24):
            version += 1
            typed = "result += value"[: step % 12 + 1]
            session.change(uri, version, text + typed)
            pending.append(session.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=3, character=8 + len(typed)),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))[1])
            if step % 4 == 3:  # a reload with completions, prefills and prefetches queued
                session.configure({"contextSize": 2048 + 512 * (step % 8 == 3)})
            time.sleep(0.02 * (step % 3))
        for future in pending:
            future.result(120)  # answered (possibly empty), never dropped
        stats = session.request("deepfim/stats", {})
        assert stats["reloads"] >= 5
        session.change(uri, version + 1, text)
        assert session.inline(uri, 3, 8) is not None  # still serving on the last model
        assert not [m for m in session.messages if m.type == types.MessageType.Error]
    finally:
        session.close()


def test_buffer_switches_feed_the_recent_edit_ring(deepseek_tiny: Path, tmp_path: Path) -> None:
    session = LspSession(str(deepseek_tiny), tmp_path, options=OPTIONS)
    try:
        viewed = "".join(f"delta_marker_{i} = {i}\n" for i in range(40))
        (tmp_path / "viewed.py").write_text(viewed)
        other = session.open(tmp_path / "viewed.py", viewed)
        session.inline(other, 30, 0)  # the user was here ...
        session.close_document(other)
        uri = session.open(tmp_path / "main.py", "start = 0\n")
        text = prompt_text(session, uri, 1, 0)  # ... and moved on: the code they saw is in the ring
        assert "delta_marker_30" in text
    finally:
        session.close()

